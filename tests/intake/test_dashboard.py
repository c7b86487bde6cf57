"""The dossier pages as officials use them: figures, search, a dossier's page, the intake page
(tokens, file upload), the staff register and the catalogue, each within the official's scope."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import (
    AuditEntry,
    CatalogueAlias,
    Dossier,
    ExportFile,
    ExportJob,
    Invitation,
    Staff,
)
from tests.conftest import NOW, signed_in, wait_for_job
from tests.factories import make_dossier

CATALOGUE = "MaLinhVuc,TenLinhVuc,MaTTHC,TenTTHC\nHT,Hộ tịch,HT.1,Đăng ký khai sinh\n"
CSV = (
    "MaHoSo,DonViXuLy,NgayTiepNhan,NgayHenTra,NgayTra,MaTTHC,SoDienThoai\n"
    "HS-A,P.D1,20260601080000,20260615170000,20260612100000,P1,0912345678\n"
)


def upload_file(auth: object, content: str, keep: bool = False) -> str:
    """Upload a dossier file on the intake page; its status page once the job has ended."""
    data = {
        "file-csrf_token": auth.csrf("/dashboard/intake"),
        "file-file": (io.BytesIO(content.encode()), "hs.csv"),
    }
    if keep:
        data["file-keep_good_rows"] = "y"
    queued = auth.client.post("/dashboard/intake/upload", data=data)
    assert queued.status_code == 303
    assert "/dashboard/intake/uploads/" in queued.headers["Location"]
    return wait_for_job(auth, queued.headers["Location"])


def test_the_par_office_creates_an_intake_token_and_uploads_a_file(
    app: Flask, session: Session, world: dict
) -> None:
    par = signed_in(app, "par@x.vn")
    page = par.client.post(
        "/dashboard/intake",
        data={
            "token-csrf_token": par.csrf("/dashboard/intake"),
            "token-name": "Một cửa điện tử",
            "token-unit": "P.D1",
            "token-days": "30",
        },
    )
    assert page.status_code == 200
    secret = re.search(r"data-token>(sat_[^<]+)<", page.get_data(as_text=True)).group(1)
    pushed = app.test_client().post(
        "/api/v1/dossiers",
        json=[{"MaHoSo": "HS-API", "DonViXuLy": "P.D1.X", "NgayTiepNhan": "20260601080000"}],
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert pushed.get_json()["counts"]["created"] == 1
    # A file with a bad row stores nothing and names the line; asked to, it keeps the good.
    bad = CSV + "HS-B,P.NOPE,20260601080000,,,,\n"

    refused = upload_file(par, bad)
    assert 'data-status="failed"' in refused
    assert "Không nhập dòng nào (1 dòng lỗi)" in refused
    assert "dòng 3: không có đơn vị &#39;P.NOPE&#39;" in refused
    assert session.scalar(select(func.count()).select_from(Dossier)) == 1
    kept = upload_file(par, bad, keep=True)
    assert 'data-status="done"' in kept
    assert "Hồ sơ: 1 mới, 0 cập nhật, 0 không đổi, 1 bị từ chối." in kept
    assert "dòng 3: không có đơn vị &#39;P.NOPE&#39;" in kept
    followed = par.client.get("/dashboard/intake").get_data(as_text=True)
    assert "P1" in followed  # the unknown procedure code, listed for mapping
    # Nothing of the uploaded file (phone numbers) stays once the job has ended.
    assert session.scalar(select(func.count()).select_from(ExportFile)) == 0
    # A file that is not a table of dossiers is refused at once; nothing is queued.
    for content, name, message in [
        ("x", "hs.pdf", "Chỉ nhận tệp .csv hoặc .xlsx."),
        ("ten,tuoi\nAn,3\n", "hs.csv", "Tệp không có cột nào của hồ sơ"),
    ]:
        page = par.client.post(
            "/dashboard/intake/upload",
            data={
                "file-csrf_token": par.csrf("/dashboard/intake"),
                "file-file": (io.BytesIO(content.encode()), name),
            },
        )
        assert page.status_code == 422
        assert message in page.get_data(as_text=True)
    # The status page is its owner's alone.
    status = session.scalar(select(ExportJob.id).where(ExportJob.kind == "dossiers"))
    assert (
        signed_in(app, "admin@x.vn").client.get(f"/dashboard/intake/uploads/{status}").status_code
        == 404
    )
    assert par.client.get(f"/dashboard/exports/{status}").status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Invitation)) == 1  # HS-A: returned
    # A unit manager may not open the intake page.
    manager = signed_in(app, "manager@x.vn")
    assert manager.client.get("/dashboard/intake").status_code == 403


def test_figures_search_and_a_dossier_page_within_scope(
    app: Flask, session: Session, world: dict
) -> None:
    d1, d2 = world["units"]["d1"], world["units"]["d2"]
    due = NOW - timedelta(days=5)
    # Early (a day before the due day), on time (the due day), late, and one in D2.
    make_dossier(
        session,
        d1,
        "E",
        received_at=due - timedelta(days=9),
        due_at=due,
        returned_at=due - timedelta(days=1),
        phone="+84912345678",
    )
    make_dossier(
        session,
        d1,
        "O",
        received_at=due - timedelta(days=9),
        due_at=due,
        returned_at=due - timedelta(hours=1),
    )
    make_dossier(
        session,
        d1,
        "L",
        received_at=due - timedelta(days=9),
        due_at=due,
        returned_at=due + timedelta(hours=1),
    )
    make_dossier(session, d2, "OTHER")
    session.commit()
    manager = signed_in(app, "manager@x.vn")
    page = manager.client.get("/dashboard/dossiers?period=2026").get_data(as_text=True)
    cells = re.search(r"Trả kết quả trong kỳ</dt><dd>(\d+)", page)
    assert cells
    assert cells.group(1) == "3"
    assert re.search(r"Trễ hẹn</dt><dd>1 \(33,3%\)", page)
    found = manager.client.get("/dashboard/dossiers?code=E")
    assert found.status_code == 303
    detail = manager.client.get(found.headers["Location"]).get_data(as_text=True)
    assert "091•••••78" in detail
    assert "0912345678" not in detail
    assert "+84912345678" not in detail
    # Another district's dossier does not exist for this manager.
    assert manager.client.get("/dashboard/dossiers?code=OTHER").status_code == 404
    other = session.scalar(select(Dossier.id).where(Dossier.code == "OTHER"))
    assert manager.client.get(f"/dashboard/dossiers/{other}").status_code == 404
    assert manager.client.get("/dashboard/dossiers?unit=P.D2").status_code == 404
    sideways = manager.client.get("/dashboard/dossiers?attribution=sideways")
    assert sideways.status_code == 422
    assert "Giá trị &#39;sideways&#39; của attribution không hợp lệ" in sideways.get_data(
        as_text=True
    )
    # A dossier D2 handles, received at D1's service centre, counts for D1 by receiving place.
    make_dossier(session, d2, "VIA", receiving_unit=d1)
    session.commit()

    def returned(query: str) -> str:
        page = manager.client.get(f"/dashboard/dossiers?period=2026{query}").get_data(as_text=True)
        return re.search(r"Trả kết quả trong kỳ</dt><dd>(\d+)", page).group(1)

    assert (returned(""), returned("&attribution=receiving")) == ("3", "4")


def test_the_staff_register_and_the_catalogue_pages(
    app: Flask, session: Session, world: dict
) -> None:
    manager = signed_in(app, "manager@x.vn")
    saved = manager.client.post(
        "/dashboard/staff",
        data={
            "csrf_token": manager.csrf("/dashboard/staff"),
            "code": "CB9",
            "name": "Đỗ Thị Hoa",
            "unit": "P.D1",
            "email": "staff@x.vn",
            "active": "y",
        },
    )
    assert saved.status_code == 303
    listed = manager.client.get("/dashboard/staff?q=hoa").get_data(as_text=True)
    assert "Đỗ Thị Hoa" in listed
    assert "staff@x.vn" in listed
    outside = manager.client.post(
        "/dashboard/staff",
        data={
            "csrf_token": manager.csrf("/dashboard/staff"),
            "code": "CB8",
            "name": "X",
            "unit": "P.D2",
        },
    )
    assert outside.status_code == 422  # P.D2 is not among the manager's choices
    upload = manager.client.post(
        "/dashboard/staff/upload",
        data={
            "csv-csrf_token": manager.csrf("/dashboard/staff"),
            "csv-file": (io.BytesIO(b"staff_code,name,unit_code\nCB7,An,P.D2\n"), "s.csv"),
        },
    )
    assert upload.status_code == 422
    assert "dòng 2: Đơn vị P.D2 không thuộc phạm vi của bạn" in upload.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Staff)) == 1
    par = signed_in(app, "par@x.vn")
    loaded = par.client.post(
        "/dashboard/procedures/upload",
        data={
            "catalogue-csrf_token": par.csrf("/dashboard/procedures"),
            "catalogue-file": (
                io.BytesIO(CATALOGUE.encode()),
                "c.csv",
            ),
        },
    )
    assert loaded.status_code == 303
    search = par.client.get("/dashboard/procedures?q=dang+ky").get_data(as_text=True)
    assert "Đăng ký khai sinh" in search
    assert "Đăng ký khai sinh" not in par.client.get("/dashboard/procedures?q=ket+hon").get_data(
        as_text=True
    )


def test_an_unknown_code_is_mapped_to_the_catalogue_entry_it_stands_for(
    app: Flask, session: Session, world: dict
) -> None:
    par = signed_in(app, "par@x.vn")

    def post(url: str, data: dict, page: str = "/dashboard/intake") -> object:
        prefix = "catalogue-" if page == "/dashboard/procedures" else ""
        return par.client.post(url, data={f"{prefix}csrf_token": par.csrf(page), **data})

    def upload(content: str) -> object:
        return post(
            "/dashboard/intake/upload", {"file-file": (io.BytesIO(content.encode()), "h.csv")}
        )

    assert (
        post(
            "/dashboard/procedures/upload",
            {"catalogue-file": (io.BytesIO(CATALOGUE.encode()), "c.csv")},
            "/dashboard/procedures",
        ).status_code
        == 303
    )
    assert 'data-status="done"' in upload_file(
        par, CSV
    )  # HS-A names procedure P1, unknown to the catalogue
    listed = par.client.get("/dashboard/intake").get_data(as_text=True)
    assert 'name="code" value="P1"' in listed

    missing = post(
        "/dashboard/intake/aliases", {"kind": "procedure", "code": "P1", "target": "NOPE"}
    )
    assert missing.status_code == 422
    assert "Danh mục không có mã NOPE." in missing.get_data(as_text=True)
    known = post(
        "/dashboard/intake/aliases", {"kind": "procedure", "code": "HT.1", "target": "HT.1"}
    )
    assert known.status_code == 409
    mapped = post(
        "/dashboard/intake/aliases", {"kind": "procedure", "code": "P1", "target": "HT.1"}
    )
    assert mapped.status_code == 303
    session.expire_all()
    dossier = session.scalar(select(Dossier).where(Dossier.code == "HS-A"))
    assert (dossier.procedure.code, dossier.service_field.code) == ("HT.1", "HT")
    assert dossier.procedure_code == "P1"  # kept as the one-stop system sent it
    page = par.client.get("/dashboard/intake").get_data(as_text=True)
    assert 'name="code" value="P1"' not in page
    assert "Gỡ ánh xạ P1" in page

    # A dossier sent later with the same code is linked on arrival.
    later = CSV.replace("HS-A", "HS-C")
    assert 'data-status="done"' in upload_file(par, later)
    session.expire_all()
    assert session.scalar(select(Dossier).where(Dossier.code == "HS-C")).procedure.code == "HT.1"
    # The catalogue cannot take the mapped code as a procedure of its own while mapped.
    clash = post(
        "/dashboard/procedures/upload",
        {"catalogue-file": (io.BytesIO(f"{CATALOGUE}HT,Hộ tịch,P1,Khác\n".encode()), "c.csv")},
        "/dashboard/procedures",
    )
    assert clash.status_code == 422
    assert "mã P1 đang được ánh xạ tới HT.1" in clash.get_data(as_text=True)

    alias_id = session.scalar(select(CatalogueAlias.id))
    assert post(f"/dashboard/intake/aliases/{alias_id}/remove", {}).status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).where(Dossier.procedure_id.isnot(None))) == 0
    assert 'name="code" value="P1"' in par.client.get("/dashboard/intake").get_data(as_text=True)
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"catalogue.alias", "catalogue.unalias"} <= actions
    # A unit manager may not map codes.
    manager = signed_in(app, "manager@x.vn")
    refused = manager.client.post(
        "/dashboard/intake/aliases",
        data={
            "csrf_token": manager.csrf("/dashboard/staff"),
            "kind": "procedure",
            "code": "P1",
            "target": "HT.1",
        },
    )
    assert refused.status_code == 403

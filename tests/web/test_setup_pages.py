"""Setup pages for PAR offices: units, service fields, campaigns, instruments, imports, paper."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import (
    Campaign,
    Channel,
    Instrument,
    Response,
    ServiceField,
    Stream,
    Unit,
)
from tests.conftest import AuthActions
from tests.factories import build_world


@pytest.fixture
def world(session: Session) -> dict:
    return build_world(session)


def signed_in(app: Flask, email: str = "par@x.vn") -> AuthActions:
    auth = AuthActions(app.test_client())
    assert auth.login(email).status_code == 302
    return auth


def test_setup_pages_are_for_par_offices(app: Flask, world: dict) -> None:
    manager = signed_in(app, "manager@x.vn")
    for path in (
        "/dashboard/units",
        "/dashboard/fields",
        "/dashboard/campaigns",
        "/dashboard/instruments",
        "/dashboard/imports",
    ):
        assert manager.client.get(path).status_code == 403
        assert signed_in(app).client.get(path).status_code == 200
    staff = signed_in(app, "staff@x.vn")
    assert staff.client.get("/dashboard/paper").status_code == 403
    assert manager.client.get("/dashboard/paper").status_code == 200


def test_units_form_creates_moves_and_explains(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app)
    token = auth.csrf("/dashboard/units")
    made = auth.client.post(
        "/dashboard/units",
        data={
            "csrf_token": token,
            "code": "P.D2.Y",
            "name": "Xã Yên",
            "level": "commune",
            "parent": "P.D2",
        },
    )
    assert made.status_code == 303
    cycle = auth.client.post(
        "/dashboard/units",
        data={
            "csrf_token": token,
            "code": "P.D1",
            "name": "Huyện 1",
            "level": "district",
            "parent": "P.D1.X",
        },
    )
    assert cycle.status_code == 422
    assert "dưới chính nó" in cycle.get_data(as_text=True)
    moved = auth.client.post(
        "/dashboard/units",
        data={
            "csrf_token": token,
            "code": "P.D2.Y",
            "name": "Xã Yên",
            "level": "commune",
            "parent": "P.D1",
        },
    )
    assert moved.status_code == 303
    session.expire_all()
    y = session.scalars(select(Unit).where(Unit.code == "P.D2.Y")).one()
    d1 = session.scalars(select(Unit).where(Unit.code == "P.D1")).one()
    assert y.parent_id == d1.id
    assert y.path.startswith(d1.path)
    bad_level = auth.client.post(
        "/dashboard/units",
        data={"csrf_token": token, "code": "Z", "name": "Z", "level": "village", "parent": "P"},
    )
    assert bad_level.status_code == 422


def test_units_csv_upload_reports_rows(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app)
    token = auth.csrf("/dashboard/units")
    csv = "code,name,level,parent_code\nP.D2.Z,Xã Z,commune,P.D2\nQ,Tỉnh Q,nowhere,\n"
    result = auth.client.post(
        "/dashboard/units/upload",
        data={"csv-csrf_token": token, "csv-file": (io.BytesIO(csv.encode()), "units.csv")},
        content_type="multipart/form-data",
    )
    assert result.status_code == 422
    assert "dòng 3: cấp &#39;nowhere&#39; không hợp lệ" in result.get_data(as_text=True)
    assert session.scalar(select(Unit.id).where(Unit.code == "P.D2.Z")) is None
    good = "code,name,level,parent_code\nP.D2.Z,Xã Z,commune,P.D2\n"
    ok = auth.client.post(
        "/dashboard/units/upload",
        data={"csv-csrf_token": token, "csv-file": (io.BytesIO(good.encode()), "units.csv")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 303
    assert session.scalar(select(Unit.id).where(Unit.code == "P.D2.Z")) is not None


def test_fields_and_campaigns(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app)
    token = auth.csrf("/dashboard/fields")
    assert (
        auth.client.post(
            "/dashboard/fields",
            data={"csrf_token": token, "code": "HT", "name_vi": "Hộ tịch", "name_en": ""},
        ).status_code
        == 303
    )
    dup = auth.client.post(
        "/dashboard/fields",
        data={"csrf_token": token, "code": "HT", "name_vi": "Hộ tịch", "name_en": ""},
    )
    assert dup.status_code == 422
    assert session.scalar(select(ServiceField.name)) == {"vi": "Hộ tịch"}
    instrument = session.scalar(select(Instrument.id).where(Instrument.code == "TT01"))
    base = {
        "csrf_token": token,
        "code": "TT01-2026",
        "name": "Đánh giá hồ sơ 2026",
        "instrument": str(instrument),
        "stream": "official",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "units": ["P.D1", "P.D2"],
        "min_n": "30",
        "margin": "0.05",
    }
    backwards = auth.client.post("/dashboard/campaigns", data=base | {"ends_on": "2025-12-31"})
    assert backwards.status_code == 422
    assert "Ngày kết thúc phải sau ngày bắt đầu." in backwards.get_data(as_text=True)
    no_date = auth.client.post("/dashboard/campaigns", data=base | {"starts_on": "31/01/2026"})
    assert no_date.status_code == 422
    assert auth.client.post("/dashboard/campaigns", data=base).status_code == 303
    campaign = session.scalars(select(Campaign).where(Campaign.code == "TT01-2026")).one()
    assert campaign.stream is Stream.OFFICIAL
    assert sorted(u.code for u in campaign.units) == ["P.D1", "P.D2"]
    assert (
        auth.client.post(
            "/dashboard/campaigns/TT01-2026/close", data={"csrf_token": token}
        ).status_code
        == 303
    )
    session.expire_all()
    assert session.get(Campaign, campaign.id).is_closed


PROVINCE_FORM = """code: TINH
version: 1
name: {vi: Phiếu của tỉnh}
scale: {min: 1, max: 3, satisfied: [3], labels: {vi: [Không hài lòng, Bình thường, Hài lòng]}}
domains:
  - code: D
    name: {vi: Dịch vụ}
    elements:
      - code: E
        name: {vi: Cán bộ}
        items:
          - {code: I1, text: {vi: "Lịch sự, tận tình"}}
"""


def test_instrument_upload(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app)
    token = auth.csrf("/dashboard/instruments")

    def upload(text: str, name: str = "tinh.yaml"):
        return auth.client.post(
            "/dashboard/instruments",
            data={"csrf_token": token, "file": (io.BytesIO(text.encode()), name)},
            content_type="multipart/form-data",
        )

    assert upload(PROVINCE_FORM).status_code == 303
    assert upload(PROVINCE_FORM).status_code == 303  # the same file again: nothing new
    changed = upload(PROVINCE_FORM.replace("Cán bộ", "Công chức"))
    assert changed.status_code == 422
    assert "tăng số phiên bản" in changed.get_data(as_text=True)
    broken = upload("code: X\nversion: 0\n")
    assert broken.status_code == 422
    assert "version: phải là số nguyên dương" in broken.get_data(as_text=True)
    assert session.scalar(select(func.count()).where(Instrument.code == "TINH")) == 1


def test_import_upload(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app)
    token = auth.csrf("/dashboard/imports")
    counter_instrument = session.scalar(select(Instrument.id).where(Instrument.code == "COUNTER"))
    items = ",".join(f"S{i}" for i in range(15, 34))
    rows = [f"P.D1,2026-03-0{d}," + ",".join(["4"] * 19) for d in (1, 2)]
    csv = (
        f"unit_code,submitted_at,{items}\n"
        + "\n".join(rows)
        + "\nNOPE,2026-03-03,"
        + ",".join(["4"] * 19)
        + "\n"
    )

    def send(text: str, **extra: str):
        data = {
            "csrf_token": token,
            "instrument": str(counter_instrument),
            "stream": "general",
            "period": "",
            "file": (io.BytesIO(text.encode()), "r.csv"),
        } | extra
        return auth.client.post("/dashboard/imports", data=data, content_type="multipart/form-data")

    refused = send(csv)
    assert refused.status_code == 422
    assert "dòng 4: không có đơn vị &#39;NOPE&#39;" in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Response)) == 0
    kept = send(csv, keep_good="y")
    assert "Đã nhập 2 phiếu" in kept.get_data(as_text=True)
    channels = set(session.scalars(select(Response.channel)))
    assert channels == {Channel.IMPORT}


def test_paper_entry(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app, "manager@x.vn")
    page = auth.client.get("/dashboard/paper?paper-counter=P.D1-Q1").get_data(as_text=True)
    assert 'id="p_S15"' in page
    assert 'inputmode="numeric"' in page
    from tests.conftest import CSRF_RE, KEY_RE

    token = CSRF_RE.search(page).group(1)
    key = KEY_RE.search(page).group(1)
    data = {
        "csrf_token": token,
        "paper-csrf_token": token,
        "idempotency_key": key,
        "paper-counter": "P.D1-Q1",
        "paper-day": "2026-06-10",
    }
    data |= {f"q_S{i}": "5" for i in range(15, 34)} | {"q_OVR": "5"}
    wrong = auth.client.post("/dashboard/paper", data=data | {"q_S20": "7"})
    assert wrong.status_code == 422
    assert "Lựa chọn không hợp lệ." in wrong.get_data(as_text=True)
    future = auth.client.post("/dashboard/paper", data=data | {"paper-day": "2026-07-01"})
    assert future.status_code == 422
    assert auth.client.post("/dashboard/paper", data=data).status_code == 303
    assert auth.client.post("/dashboard/paper", data=data).status_code == 303  # same key: once
    stored = session.scalars(select(Response)).all()
    assert len(stored) == 1
    assert stored[0].channel is Channel.PAPER
    assert stored[0].period == 202606
    assert stored[0].submitted_at.date() == date(2026, 6, 10)
    other = auth.client.get("/dashboard/paper?paper-counter=P.D2-Q1")
    assert other.status_code == 404

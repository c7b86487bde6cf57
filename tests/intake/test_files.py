"""Dossiers, the catalogue and the staff register from files, on the command line."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import Dossier, Procedure, ServiceField, Staff
from surveyapp.services.access import scope_for
from surveyapp.services.collection.tables import TableLimits
from surveyapp.services.intake import uploads
from surveyapp.services.intake.dossiers import IntakeOptions
from tests.conftest import NOW

HEADER = "MaHoSo,DonViXuLy,MaTTHC,MaLinhVuc,NgayTiepNhan,NgayHenTra,NgayTra,MaCanBoTiepNhan\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_import_dossiers_is_all_or_nothing_and_idempotent(
    app: Flask, session: Session, world: dict, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    good = "HS-1,P.D1,PROC.1,F1,20260601080000,20260605170000,20260604100000,CB01\n"
    bad = "HS-2,P.D1,PROC.1,F1,2026-06-01T08:00:00+07:00,,20260530100000,\n"  # returned too early
    path = write(tmp_path, "d.csv", HEADER + good + bad)
    refused = runner.invoke(args=["import-dossiers", path])
    assert refused.exit_code == 1
    assert "dòng 3: returned_at sớm hơn ngày tiếp nhận" in refused.output
    assert "không nhập dòng nào" in refused.output
    assert count(session, Dossier) == 0
    kept = runner.invoke(args=["import-dossiers", path, "--keep-good-rows"])
    assert kept.exit_code == 0, kept.output
    assert "1 mới" in kept.output
    assert "1 bị từ chối" in kept.output
    again = runner.invoke(args=["import-dossiers", path, "--keep-good-rows"])
    assert "0 mới" in again.output
    assert "1 không đổi" in again.output
    assert count(session, Dossier) == 1
    # The receiving official named before the register knew them is linked once registered.
    staff = write(
        tmp_path, "s.csv", "staff_code,name,unit_code,email\nCB01,Trần Bình,P.D1,staff@x.vn\n"
    )
    loaded = runner.invoke(args=["import-staff", staff])
    assert loaded.exit_code == 0, loaded.output
    session.expire_all()
    dossier = session.scalar(select(Dossier))
    assert dossier.staff is not None
    assert dossier.staff.name == "Trần Bình"
    assert dossier.staff.user is not None
    assert dossier.staff.user.email == "staff@x.vn"


def test_an_xlsx_in_our_names_imports_the_same(
    app: Flask, session: Session, world: dict, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["code", "unit_code", "received_at", "returned_at", "status", "email"])
    sheet.append(["X-1", "P.D1.X", "2026-06-01 08:00", "2026-06-02 09:00", "returned", "a@b.vn"])
    path = tmp_path / "d.xlsx"
    book.save(path)
    result = app.test_cli_runner().invoke(args=["import-dossiers", str(path)])
    assert result.exit_code == 0, result.output
    session.expire_all()
    dossier = session.scalar(select(Dossier).where(Dossier.code == "X-1"))
    assert dossier is not None
    assert dossier.unit.code == "P.D1.X"
    assert dossier.email == "a@b.vn"


def test_catalogue_and_staff_files_report_every_bad_row(
    app: Flask, session: Session, world: dict, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    catalogue = write(
        tmp_path,
        "c.csv",
        "field_code,field_name,procedure_code,procedure_name\n"
        "HT,Hộ tịch,HT.1,Đăng ký khai sinh\n"
        "HT,,HT.2,Đăng ký kết hôn\n"
        "bad code,Sai,,\n"
        "NEW,,,\n",
    )
    refused = runner.invoke(args=["import-catalogue", catalogue])
    assert refused.exit_code == 1
    assert "dòng 4:" in refused.output
    assert "dòng 5: lĩnh vực mới NEW cần tên" in refused.output
    assert count(session, ServiceField) == 0
    fixed = write(
        tmp_path,
        "c2.csv",
        "MaLinhVuc,TenLinhVuc,MaTTHC,TenTTHC\n"
        "HT,Hộ tịch,HT.1,Đăng ký khai sinh\n"
        "HT,,HT.2,Kết hôn\n",
    )
    assert runner.invoke(args=["import-catalogue", fixed]).exit_code == 0
    assert count(session, Procedure) == 2
    staff = write(
        tmp_path,
        "s.csv",
        "staff_code,name,unit_code,email\n"
        "CB1,An,P.D1,\n"
        "CB2,Bình,P.NOPE,\n"
        "CB3,,P.D1,\n"
        "CB1,An lặp,P.D1,\n"
        "CB4,Châu,P.D1,nobody@x.vn\n",
    )
    result = runner.invoke(args=["import-staff", staff])
    assert result.exit_code == 1
    for line in ("dòng 3: không có đơn vị 'P.NOPE'", "dòng 4: Cần họ tên", "dòng 5: mã cán bộ"):
        assert line in result.output
    assert "dòng 6: Không có tài khoản nobody@x.vn" in result.output
    assert count(session, Staff) == 0


def test_an_uploaded_file_is_checked_whole_then_stored_batch_by_batch(
    app: Flask, session: Session, world: dict
) -> None:
    """The dashboard's upload job: progress over both passes, nothing stored while checking, and
    nothing at all when a row is refused."""
    rows = "".join(
        f"HS-{i:04d},P.D1,PROC.1,F1,20260601080000,20260605170000,,\n" for i in range(1, 1201)
    )
    options = IntakeOptions.from_config(app.config, "file")
    limits = TableLimits.from_config(app.config)
    factory = app.extensions["surveyapp.sessionmaker"]

    def run(content: str) -> tuple[list[tuple[dict, int]], object, bool]:
        par = scope_for(session, world["users"]["par"])
        job = uploads.queue_upload(session, par, "hs.csv", content.encode(), False, limits, NOW)
        session.commit()
        seen: list[tuple[dict, int]] = []

        def record(**progress: int) -> None:
            with factory() as other:  # what another web server sees meanwhile
                stored = other.scalar(select(func.count()).select_from(Dossier))
            seen.append((progress, int(stored or 0)))

        result, stored = uploads.run_upload(
            session,
            job,
            options=options,
            limits=limits,
            clock=lambda: NOW,
            record=record,
            commit=session.commit,
            invite=None,
        )
        return seen, result, stored

    seen, result, stored = run(HEADER + rows)
    assert stored
    assert result.counts["created"] == 1200
    assert seen == [
        ({"total": 2400, "done": 0}, 0),
        # The check, 500 rows at a time: nothing stored.
        ({"done": 500}, 0),
        ({"done": 1000}, 0),
        ({"done": 1200}, 0),
        # Then stored, each batch committed as it goes.
        ({"done": 1700}, 500),
        ({"done": 2200}, 1000),
        ({"done": 2400}, 1200),
    ]
    bad = rows.replace("HS-0999,P.D1", "HS-0999,P.NOPE").replace("HS-", "HX-")
    seen, result, stored = run(HEADER + bad)
    assert not stored
    assert [str(e) for e in result.errors] == ["dòng 1000: không có đơn vị 'P.NOPE'"]
    assert count(session, Dossier) == 1200  # none of the second file
    assert uploads.summary(result, stored)["error_count"] == 1

"""load-units and import-responses through the CLI, on CSV and XLSX files."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import AnswerCount, Channel, Response, Stream, Unit, UnitLevel
from surveyapp.services.instruments.publishing import load_builtin_instruments
from tests.conftest import NOW
from tests.factories import make_counter, make_dossier

UNITS_CSV = """code,name,level,parent_code
HN.BD,Quận Ba Đình,district,HN
HN,Thành phố Hà Nội,province,
HN.BD.PX,Phường Phúc Xá,commune,HN.BD
"""

ITEMS = [f"S{i}" for i in range(15, 34)]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def responses_csv(rows: list[list[str]], extra: list[str] | None = None) -> str:
    header = [
        "unit_code",
        "submitted_at",
        "counter_code",
        "dossier_code",
        "respondent_type",
        *ITEMS,
        "OVR",
        *(extra or []),
    ]
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def row(unit: str = "HN.BD", when: str = "2026-03-05", level: str = "4", **kw: str) -> list[str]:
    return [
        unit,
        when,
        kw.get("counter", ""),
        kw.get("dossier", ""),
        kw.get("rtype", ""),
        *([level] * len(ITEMS)),
        kw.get("overall", level),
    ]


@pytest.fixture
def units(app: Flask, session: Session, tmp_path: Path) -> None:
    load_builtin_instruments(session, NOW)
    session.commit()
    result = app.test_cli_runner().invoke(args=["load-units", write(tmp_path, "u.csv", UNITS_CSV)])
    assert result.exit_code == 0, result.output


def count(session: Session, model=Response) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_load_units_builds_the_tree_in_any_order(units: None, session: Session) -> None:
    tree = {u.code: u for u in session.scalars(select(Unit))}
    assert tree["HN.BD.PX"].parent_id == tree["HN.BD"].id
    assert tree["HN.BD"].parent_id == tree["HN"].id
    assert tree["HN.BD.PX"].path == f"/{tree['HN'].id}/{tree['HN.BD'].id}/{tree['HN.BD.PX'].id}/"
    assert tree["HN.BD"].level is UnitLevel.DISTRICT
    assert tree["HN.BD"].name == "Quận Ba Đình"


def test_load_units_updates_and_reports_every_bad_row(
    app: Flask, units: None, session: Session, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    fixed = write(
        tmp_path, "u2.csv", "code,name,level,parent_code\nHN.BD,Quận Ba Đình mới,district,HN\n"
    )
    result = runner.invoke(args=["load-units", fixed])
    assert "cập nhật 1 đơn vị" in result.output
    bad = write(
        tmp_path,
        "bad.csv",
        "code,name,level,parent_code\n"
        "X1,Xã Một,village,HN\n"
        "X2,Xã Hai,commune,NOWHERE\n"
        "A,Đơn vị A,district,B\n"
        "B,Đơn vị B,district,A\n"
        "X3,Xã Ba,commune,HN\n"
        "X3,Xã Ba lặp,commune,HN\n",
    )
    result = runner.invoke(args=["load-units", bad])
    assert result.exit_code == 1
    assert "dòng 2: cấp 'village' không hợp lệ" in result.output
    assert "dòng 3: không có đơn vị cấp trên 'NOWHERE'" in result.output
    assert "vòng lặp cấp trên" in result.output
    assert "dòng 7: mã 'X3' lặp lại ở dòng 6" in result.output
    session.expire_all()
    assert session.scalar(select(Unit.name).where(Unit.code == "HN.BD")) == "Quận Ba Đình mới"
    assert session.scalar(select(Unit.id).where(Unit.code == "X3")) is None  # nothing half-stored


def test_import_csv_then_reimport_adds_nothing(
    app: Flask, units: None, session: Session, tmp_path: Path
) -> None:
    unit = session.scalars(select(Unit).where(Unit.code == "HN.BD")).one()
    make_counter(session, unit, "HN.BD-Q1")
    make_dossier(session, unit, "HS-9")
    session.commit()
    text = responses_csv(
        [
            row(),
            row(),
            row(level="2", rtype="tổ chức", counter="HN.BD-Q1", dossier="HS-9"),
            row(when="2026-03-31T23:30:00+07:00", level="5"),
        ]
    )
    path = write(tmp_path, "r.csv", text)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-responses", path, "--instrument", "COUNTER:1"])
    assert result.exit_code == 0, result.output
    assert "Đã nhập 4 phiếu" in result.output
    again = runner.invoke(args=["import-responses", path, "--instrument", "COUNTER"])
    assert "Đã nhập 0 phiếu; 4 phiếu đã có từ trước" in again.output
    assert count(session) == 4
    stored = session.scalars(select(Response).order_by(Response.id)).all()
    assert {r.channel for r in stored} == {Channel.IMPORT}
    assert {r.stream for r in stored} == {Stream.OFFICIAL}
    assert [r.period for r in stored] == [202603] * 4
    assert stored[2].dossier_id is not None
    assert stored[2].counter_id is not None
    assert stored[2].respondent_type.value == "organisation"
    raw = session.scalar(select(func.count()).select_from(Response).join(Response.answers))
    assert session.scalar(select(func.sum(AnswerCount.count))) == raw == 4 * 20


def test_import_xlsx(app: Flask, units: None, session: Session, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["unit_code", "submitted_at", *ITEMS])
    sheet.append(["HN.BD.PX", "2026-02-01", *[3] * len(ITEMS)])
    sheet.append(["HN.BD.PX", "2026-02-02", *[5] * len(ITEMS)])
    path = tmp_path / "r.xlsx"
    book.save(path)
    result = app.test_cli_runner().invoke(
        args=["import-responses", str(path), "--instrument", "COUNTER", "--stream", "general"]
    )
    assert result.exit_code == 0, result.output
    assert count(session) == 2
    assert set(session.scalars(select(Response.stream))) == {Stream.GENERAL}


def test_bad_rows_are_all_reported_and_nothing_is_kept(
    app: Flask, units: None, session: Session, tmp_path: Path
) -> None:
    text = responses_csv(
        [
            row(),
            row(unit="NOPE"),
            row(when="05/03/2026"),
            row(level="7"),
            row(level="x"),
            row(rtype="company"),
            row(when="2025-12-31"),
            row(counter="HN.BD-Q9"),
        ]
    )
    path = write(tmp_path, "r.csv", text)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["import-responses", path, "--instrument", "COUNTER", "--period", "2026"]
    )
    assert result.exit_code == 1
    out = result.output
    assert "dòng 3: không có đơn vị 'NOPE'" in out
    assert "dòng 4: submitted_at '05/03/2026' không phải ngày ISO 8601" in out
    assert "dòng 5: câu S15: giá trị 7 không thuộc thang đo (0, 1, 2, 3, 4, 5)" in out
    assert "dòng 6: câu S15: 'x' không phải là số" in out
    assert "dòng 7: respondent_type 'company' không hợp lệ" in out
    assert "dòng 8: ngày 2025-12-31 nằm ngoài kỳ 2026" in out
    assert "dòng 9: quầy 'HN.BD-Q9' không thuộc đơn vị 'HN.BD'" in out
    assert "7 dòng lỗi: không nhập dòng nào" in out
    assert count(session) == 0
    assert count(session, AnswerCount) == 0
    kept = runner.invoke(
        args=["import-responses", path, "--instrument", "COUNTER", "--keep-good-rows"]
    )
    assert kept.exit_code == 0
    assert "Đã nhập 2 phiếu" in kept.output  # row 2 and the 2025 row (no --period this time)
    assert count(session) == 2


def test_unknown_columns_need_the_flag(
    app: Flask, units: None, session: Session, tmp_path: Path
) -> None:
    path = write(tmp_path, "r.csv", responses_csv([row() + ["ghi chú"]], extra=["ghi_chu"]))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-responses", path, "--instrument", "COUNTER"])
    assert result.exit_code == 1
    assert "cột không có trong phiếu: ghi_chu" in result.output
    result = runner.invoke(
        args=["import-responses", path, "--instrument", "COUNTER", "--ignore-extra-columns"]
    )
    assert result.exit_code == 0
    assert count(session) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--instrument", "NOPE"], "Không tìm thấy phiếu khảo sát NOPE"),
        (["--instrument", "COUNTER:x"], "phiên bản 'x' phải là số nguyên"),
        (["--instrument", "COUNTER", "--period", "2026-13"], "Kỳ báo cáo '2026-13' không hợp lệ"),
        (["--instrument", "COUNTER", "--campaign", "NOPE"], "không có đợt khảo sát 'NOPE'"),
    ],
)
def test_bad_options_are_explained(
    app: Flask, units: None, tmp_path: Path, args: list[str], message: str
) -> None:
    path = write(tmp_path, "r.csv", responses_csv([row()]))
    result = app.test_cli_runner().invoke(args=["import-responses", path, *args])
    assert result.exit_code == 1
    assert message in result.output


def test_non_utf8_and_wrong_extension(app: Flask, units: None, tmp_path: Path) -> None:
    latin = tmp_path / "r.csv"
    # "Đông" saved by a Windows-1258 editor: not UTF-8.
    latin.write_bytes(b"unit_code,submitted_at,S15\nHN.BD,2026-01-01,4\n\xd0\xf4ng,x,y\n")
    result = app.test_cli_runner().invoke(
        args=["import-responses", str(latin), "--instrument", "COUNTER"]
    )
    assert result.exit_code == 1
    assert "UTF-8" in result.output
    other = write(tmp_path, "r.txt", "x")
    result = app.test_cli_runner().invoke(
        args=["import-responses", other, "--instrument", "COUNTER"]
    )
    assert result.exit_code == 1
    assert ".csv hoặc .xlsx" in result.output


def test_dossier_rules_in_imports(
    app: Flask, units: None, session: Session, tmp_path: Path
) -> None:
    unit = session.scalars(select(Unit).where(Unit.code == "HN.BD")).one()
    other = session.scalars(select(Unit).where(Unit.code == "HN")).one()
    make_dossier(session, unit, "HS-1")
    make_dossier(session, other, "HS-2")
    session.commit()
    path = write(
        tmp_path,
        "r.csv",
        responses_csv([row(dossier="HS-1"), row(dossier="HS-1", level="3"), row(dossier="HS-2")]),
    )
    result = app.test_cli_runner().invoke(
        args=["import-responses", path, "--instrument", "COUNTER"]
    )
    assert "dòng 3: hồ sơ 'HS-1' đã có ở dòng 2" in result.output
    assert "dòng 4: hồ sơ 'HS-2' không thuộc đơn vị 'HN.BD'" in result.output
    assert count(session) == 0

"""export-scores: the PAR council's file, CSV and XLSX, equal to the analysis engine's figures."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from surveyapp.models import Stream, UnitLevel
from surveyapp.services.access import scope_for
from surveyapp.services.exports import scores
from surveyapp.services.exports.writers import safe_cell
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting.par import par_table
from tests.conftest import NOW
from tests.factories import (
    RATING_CODES,
    build_world,
    make_counter,
    make_par_scheme,
    make_unit,
    submit_response,
)


@pytest.fixture
def scored(session: Session) -> dict:
    world = build_world(session)
    tricky = make_unit(
        session,
        "P.D9",
        name='=HYPERLINK("http://x")',
        level=UnitLevel.DISTRICT,
        parent=world["units"]["p"],
    )
    make_counter(session, tricky)
    session.commit()
    good = dict.fromkeys(RATING_CODES, 5) | {"OVR": 5}
    mixed = good | dict.fromkeys(["S23", "S24", "S25", "S26", "S27"], 3)
    for _ in range(60):
        submit_response(session, world["counters"]["P.D1"], good)
        submit_response(session, world["counters"]["P.D2"], mixed)
    scheme = make_par_scheme(session, scope_for(session, world["users"]["par"]), decision="QĐ thử")
    session.commit()
    return {"world": world, "scheme": scheme}


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_export_matches_the_engine(
    app: Flask, scored: dict, session: Session, tmp_path: Path
) -> None:
    appraisal = write(
        tmp_path, "tham-dinh.csv", "unit_code,appraisal_points\nP.D1,50.5\nP.D2,61\nP.D9,40\n"
    )
    out = tmp_path / "diem.csv"
    result = app.test_cli_runner().invoke(
        args=[
            "export-scores",
            "--period",
            "2026",
            "--level",
            "district",
            "--format",
            "csv",
            "--out",
            str(out),
            "--appraisal",
            appraisal,
            "--stream",
            "all",
        ]
    )
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    header = list(rows[0])
    assert header[:8] == [
        "unit_code",
        "unit_name",
        "level",
        "period",
        "n",
        "sipas",
        "sipas_ci_low",
        "sipas_ci_high",
    ]
    assert header[8:13] == ["TC", "TT", "CC", "KQ", "PA"]
    assert header[13:] == [
        "reliable",
        "survey_points",
        "rank",
        "former_codes",
        "appraisal_points",
        "total_points",
        "par_index",
        "band",
    ]
    by_unit = {r["unit_code"]: r for r in rows}
    engine = {
        r.unit.code: r
        for r in par_table(
            session,
            scored["scheme"],
            parse_period("2026"),
            {"P.D1": Decimal("50.5"), "P.D2": Decimal(61), "P.D9": Decimal(40)},
            stream=None,
            timezone="Asia/Ho_Chi_Minh",
        )
    }
    d2 = by_unit["P.D2"]
    assert d2["sipas"] == str(engine["P.D2"].index.percent()) == "80.00"  # officials element 0
    assert d2["CC"] == "0.00"
    assert d2["TC"] == "100.00"
    assert d2["survey_points"] == "28.00"
    assert d2["total_points"] == "89.00"
    assert by_unit["P.D1"]["total_points"] == "85.50"
    assert (by_unit["P.D2"]["rank"], by_unit["P.D1"]["rank"]) == ("1", "2")
    assert by_unit["P.D2"]["band"] == "Tốt"
    assert by_unit["P.D1"]["unit_name"] == "Đơn vị P.D1"
    # No answers at P.D9: nothing published, no rank; its name is no formula.
    assert by_unit["P.D9"]["sipas"] == ""
    assert by_unit["P.D9"]["rank"] == ""
    assert by_unit["P.D9"]["unit_name"].startswith("'=")


def test_xlsx_export_has_header_block_and_items(app: Flask, scored: dict, tmp_path: Path) -> None:
    out = tmp_path / "diem.xlsx"
    result = app.test_cli_runner().invoke(
        args=[
            "export-scores",
            "--period",
            "2026",
            "--level",
            "district",
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--stream",
            "all",
        ]
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    scores, items = book.worksheets
    assert scores["A1"].value == "Tỉnh / Province"
    assert scores["B2"].value == "2026"
    header_row = next(r for r in scores.iter_rows(values_only=True) if r and r[0] == "unit_code")
    assert "appraisal_points" not in header_row  # no appraisal file given
    data = [r for r in scores.iter_rows(values_only=True) if r and r[0] == "P.D2"][0]
    assert data[5] == pytest.approx(80.0)
    item_rows = list(items.iter_rows(values_only=True))
    assert item_rows[0] == ("unit_code", "element", "item", "satisfied", "valid", "index")
    s23 = next(r for r in item_rows if r[0] == "P.D2" and r[2] == "S23")
    assert (s23[3], s23[4], s23[5]) == (0, 60, 0.0)


def test_bad_inputs_are_explained(app: Flask, scored: dict, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    base = [
        "export-scores",
        "--period",
        "2026",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "x.csv"),
    ]
    no_scheme = runner.invoke(
        args=[
            *base,
            "--level",
            "commune",
            "--appraisal",
            write(tmp_path, "ok.csv", "unit_code,appraisal_points\nP.D1.X,50\n"),
        ]
    )
    assert no_scheme.exit_code == 1
    assert "không cộng được điểm thẩm định" in no_scheme.output
    bad = write(tmp_path, "a.csv", "unit_code,appraisal_points\nP.D1,năm mươi\n")
    result = runner.invoke(args=[*base, "--level", "district", "--appraisal", bad])
    assert result.exit_code == 1
    assert "dòng 2" in result.output
    period = runner.invoke(
        args=[
            "export-scores",
            "--period",
            "26",
            "--level",
            "district",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "y.csv"),
        ]
    )
    assert period.exit_code == 1


def test_without_settings_the_export_has_indices_ranks_and_a_note(
    app: Flask, scored: dict, session: Session, tmp_path: Path
) -> None:
    session.delete(scored["scheme"])
    session.commit()
    runner = app.test_cli_runner()
    out = tmp_path / "diem.xlsx"
    args = ["export-scores", "--period", "2026", "--level", "district", "--stream", "all"]
    result = runner.invoke(args=[*args, "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Chưa có cấu hình điểm CCHC của P cho cấp district năm 2026" in result.output
    sheet = load_workbook(out).worksheets[0]
    meta = {r[0]: r[1] for r in sheet.iter_rows(values_only=True) if r and r[0] and r[1]}
    assert "cột survey_points để trống" in meta["Ghi chú / Note"]
    assert meta["Cấu hình điểm CCHC / PAR settings"] == "—"
    assert meta["Xếp hạng theo / Ranked by"].startswith("chỉ số SIPAS")
    header = next(r for r in sheet.iter_rows(values_only=True) if r and r[0] == "unit_code")
    rows = {
        r[0]: dict(zip(header, r, strict=True))
        for r in sheet.iter_rows(values_only=True)
        if r and str(r[0]).startswith("P.D")
    }
    # Ranked by SIPAS: D1 100 % before D2 80 %; no points without settings.
    assert (rows["P.D1"]["sipas"], rows["P.D2"]["sipas"]) == (100.0, 80.0)
    assert (rows["P.D1"]["rank"], rows["P.D2"]["rank"]) == (1, 2)
    assert rows["P.D1"]["survey_points"] is None
    # Every commune has n = 0: the file is written, and the command says so.
    empty = runner.invoke(
        args=[*args[:4], "commune", "--format", "csv", "--out", str(tmp_path / "c.csv")]
    )
    assert empty.exit_code == 0, empty.output
    assert "Không đơn vị nào có phiếu" in empty.output


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_formula_cells_are_neutralised(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert safe_cell("Xã Hòa Bình") == "Xã Hòa Bình"
    assert safe_cell(Decimal("-1.5")) == Decimal("-1.5")


def test_export_responses_streams_without_personal_data(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    from surveyapp.models import ResponseStatus
    from surveyapp.services.collection import moderation

    world = build_world(session)
    first = submit_response(
        session,
        world["counters"]["P.D1"],
        dict.fromkeys(RATING_CODES, 4) | {"OVR": 5, "RTYPE": 2},
        comment="Gọi tôi 0912345678",
    )
    submit_response(session, world["counters"]["P.D2"], dict.fromkeys(RATING_CODES, 2) | {"OVR": 2})
    spam = submit_response(session, world["counters"]["P.D1.X"])
    moderation.set_response_status(
        session, scope_for(session, world["users"]["par"]), spam.id, ResponseStatus.SPAM, NOW
    )
    session.commit()
    runner = app.test_cli_runner()
    out = tmp_path / "phieu.csv"
    result = runner.invoke(args=["export-responses", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 2  # the spam response is left out
    assert list(rows[0])[:11] == [
        "submitted_at",
        "period",
        "unit_code",
        "counter_code",
        "channel",
        "stream",
        "instrument",
        "respondent_type",
        "sex",
        "age_band",
        "has_dossier",
    ]
    assert "S15" in rows[0]
    assert "OVR" in rows[0]
    mine = next(r for r in rows if r["unit_code"] == "P.D1")
    assert (mine["S15"], mine["OVR"], mine["RTYPE"], mine["respondent_type"]) == (
        "4",
        "5",
        "2",
        "organisation",
    )
    assert mine["submitted_at"] == "2026-06-15T10:00:00+07:00"
    for secret in ("0912345678", "Gọi tôi", first.receipt_code):
        assert secret not in text
    only_d1 = tmp_path / "d1.xlsx"
    result = runner.invoke(
        args=[
            "export-responses",
            "--format",
            "xlsx",
            "--out",
            str(only_d1),
            "--unit",
            "P.D1",
            "--period",
            "2026-06",
        ]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(only_d1).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 2
    assert values[1][2] == "P.D1"
    nothing = runner.invoke(
        args=[
            "export-responses",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "n.csv"),
            "--period",
            "2025",
        ]
    )
    assert "0 phiếu" in nothing.output
    bad = runner.invoke(
        args=[
            "export-responses",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "b.csv"),
            "--unit",
            "NOPE",
        ]
    )
    assert bad.exit_code == 1
    assert "NOPE" in bad.output


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_formula_item_code_is_a_plain_header(
    app: Flask, session: Session, tmp_path: Path, kind: str
) -> None:
    """Codes are identifiers now, but an item stored before that rule (here set by SQL, as an
    old database might hold it) still reaches the file only as text."""
    world = build_world(session)
    submit_response(session, world["counters"]["P.D1"])
    session.execute(
        sa.text("UPDATE instrument_items SET code = '=HYPERLINK(\"http://x\")' WHERE code = 'S15'")
    )
    session.commit()
    out = tmp_path / f"phieu.{kind}"
    result = app.test_cli_runner().invoke(
        args=["export-responses", "--format", kind, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    if kind == "csv":
        header = out.read_text(encoding="utf-8-sig").splitlines()[0]
    else:
        header = ",".join(str(c) for c in next(load_workbook(out).worksheets[0].values))
    assert "'=HYPERLINK" in header
    assert ",=HYPERLINK" not in header


def test_the_suggested_scores_file_follows_the_data(session: Session) -> None:
    world = build_world(session)
    year = parse_period("2026")
    p, d1 = world["units"]["p"], world["units"]["d1"]
    assert scores.suggest(session, p, year) == scores.Suggestion(UnitLevel.DISTRICT, "official")
    assert scores.suggest(session, d1, year).level is UnitLevel.COMMUNE
    assert scores.suggest(session, world["units"]["x"], year).level is None  # nothing below
    assert not scores.has_answers(session, p, UnitLevel.DISTRICT, year, None)
    submit_response(session, world["counters"]["P.D1.X"])  # a commune's general answer
    assert scores.suggest(session, p, year).stream == "general"
    # A commune's answer counts for its district too (units of a level hold their subtrees).
    assert scores.has_answers(session, p, UnitLevel.DISTRICT, year, Stream.GENERAL)
    assert not scores.has_answers(session, p, UnitLevel.DISTRICT, year, Stream.OFFICIAL)
    assert not scores.has_answers(session, p, UnitLevel.DISTRICT, parse_period("2025"), None)

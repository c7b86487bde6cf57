"""What an official can upload or type that used to end in a 500: each is now a 4xx that says
what is wrong, with nothing stored (on SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import Counter, Instrument, Response, Unit
from tests.conftest import AuthActions, make_app, post_import, signed_in
from tests.factories import build_world

ITEMS = [f"S{i}" for i in range(15, 34)]


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def import_file(auth: AuthActions, session: Session, content: bytes, name: str = "r.csv") -> Any:
    return post_import(auth, session, content, name)


def csv_rows(*rows: tuple[str, str, str]) -> bytes:
    """(unit, submitted_at, value of S15); the other items are 4."""
    lines = [f"unit_code,submitted_at,{','.join(ITEMS)}"]
    lines += [f"{u},{when},{value}," + ",".join(["4"] * 18) for u, when, value in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("P.D1", "2026-03-01", "--1"), "không phải là số nguyên"),
        (("P.D1", "2026-03-01", "9" * 4400), "không phải là số nguyên"),
        (("P.D1", "2026-03-01", "²"), "không phải là số nguyên"),
        (("P.D1", "0001-01-01T00:00+14:00", "4"), "submitted_at"),
        (("P.D1", "1850-06-01", "4"), "năm phải từ 1900"),
        (("P.D1", "9999-12-31T23:59+00:00", "4"), "submitted_at"),
        (("P.D1", "2027-01-01", "4"), "tương lai"),
    ],
    ids=["double-minus", "4400-digits", "superscript", "year-1-offset", "1850", "9999", "future"],
)
def test_bad_values_in_an_import_are_row_errors(
    app: Flask, world: dict, session: Session, row: tuple[str, str, str], message: str
) -> None:
    auth = signed_in(app)
    result = import_file(auth, session, csv_rows(("P.D1", "2026-03-02", "4"), row))
    assert result.status_code == 422
    page = result.get_data(as_text=True)
    assert "dòng 3" in page
    assert message in page
    assert count(session, Response) == 0


def test_a_csv_field_over_128_kb_is_explained(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app)
    result = import_file(auth, session, csv_rows(("P.D1", "2026-03-02", "4" * 140_000)))
    assert result.status_code == 422
    assert "Dòng 2 của tệp CSV không đọc được" in result.get_data(as_text=True)


def test_thirty_two_thousand_columns_are_refused_at_once(
    app: Flask, world: dict, session: Session
) -> None:
    header = ",".join(f"c{i}" for i in range(32_000))
    result = import_file(signed_in(app), session, f"unit_code,submitted_at,{header}\n".encode())
    assert result.status_code == 422
    assert "Tệp có hơn 1000 cột" in result.get_data(as_text=True)


def xlsx_with(members: dict[str, bytes]) -> bytes:
    """A real workbook with some of its zip members replaced."""
    book = Workbook()
    book.active.append(["unit_code", "submitted_at", *ITEMS])
    book.active.append(["P.D1", "2026-03-02", *[4] * len(ITEMS)])
    original = io.BytesIO()
    book.save(original)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(original.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, members.get(info.filename, source.read(info.filename)))
        for name, data in members.items():
            if name not in source.namelist():
                target.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"not a zip at all",
        b"PK\x03\x04 broken",
        "xlsx-bad-sheet",
        "xlsx-bad-workbook",
    ],
    ids=["text", "truncated-zip", "malformed-sheet-xml", "malformed-workbook-xml"],
)
def test_a_broken_xlsx_is_explained(
    app: Flask, world: dict, session: Session, content: bytes | str
) -> None:
    if content == "xlsx-bad-sheet":
        content = xlsx_with({"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row><c"})
    elif content == "xlsx-bad-workbook":
        content = xlsx_with({"xl/workbook.xml": b"<<<not xml"})
    assert isinstance(content, bytes)
    result = import_file(signed_in(app), session, content, "r.xlsx")
    assert result.status_code == 422
    assert "Không đọc được tệp Excel (.xlsx)" in result.get_data(as_text=True)
    assert count(session, Response) == 0


def test_an_xlsx_that_expands_too_far_is_refused_before_it_is_read(
    database_url: str, session: Session
) -> None:
    """A 2 MB member that compresses to a few kilobytes, with a 1 MB expansion limit: refused from
    the zip directory, before openpyxl reads any of it."""
    app = make_app(database_url, UPLOAD_MAX_EXPANDED_BYTES=1024 * 1024)
    with app.extensions["surveyapp.sessionmaker"]() as db:
        build_world(db)
    content = xlsx_with({"xl/sharedStrings.xml": b"<sst>" + b" " * 2_000_000 + b"</sst>"})
    assert len(content) < 50_000
    result = import_file(signed_in(app), session, content, "r.xlsx")
    assert result.status_code == 422
    assert "Tệp Excel khi giải nén lớn hơn 1048576 byte" in result.get_data(as_text=True)
    app.extensions["surveyapp.engine"].dispose()


def test_a_table_with_too_many_cells_is_refused(database_url: str, session: Session) -> None:
    app = make_app(database_url, UPLOAD_MAX_CELLS=100)
    with app.extensions["surveyapp.sessionmaker"]() as db:
        build_world(db)
    rows = [("P.D1", f"2026-03-{d:02d}", "4") for d in range(1, 11)]
    for name, content in (("r.csv", csv_rows(*rows)), ("r.xlsx", None)):
        if content is None:
            book = Workbook()
            book.active.append(["unit_code", "submitted_at", *ITEMS])
            for unit, when, _ in rows:
                book.active.append([unit, when, *[4] * len(ITEMS)])
            buffer = io.BytesIO()
            book.save(buffer)
            content = buffer.getvalue()
        result = import_file(signed_in(app), session, content, name)
        assert result.status_code == 422, name
        assert "Tệp có hơn 100 ô dữ liệu" in result.get_data(as_text=True)
    assert count(session, Response) == 0
    app.extensions["surveyapp.engine"].dispose()


def units_upload(auth: AuthActions, text: str) -> Any:
    return auth.client.post(
        "/dashboard/units/upload",
        data={"csv-csrf_token": auth.csrf(), "csv-file": (io.BytesIO(text.encode()), "u.csv")},
        content_type="multipart/form-data",
    )


def test_a_nul_in_a_unit_name_is_refused(app: Flask, world: dict, session: Session) -> None:
    result = units_upload(
        signed_in(app), "code,name,level,parent_code\nP.D2.Z,Xã\x00 Z,commune,P.D2\n"
    )
    assert result.status_code == 422
    assert "NUL" in result.get_data(as_text=True)
    assert count(session, Unit) == 4


def test_a_tree_deeper_than_the_path_column_is_refused(
    app: Flask, world: dict, session: Session
) -> None:
    rows = ["code,name,level,parent_code"] + [
        f"L{i},Cấp {i},commune,{'P' if i == 0 else f'L{i - 1}'}" for i in range(200)
    ]
    result = units_upload(signed_in(app), "\n".join(rows) + "\n")
    assert result.status_code == 422
    assert "Cây đơn vị quá sâu" in result.get_data(as_text=True)
    assert count(session, Unit) == 4


@pytest.mark.parametrize("code", ["Q\r\n1", "=HYPERLINK(1)", 'Q"1', "Q 1", "Quầy1", "-Q1"])
def test_counter_codes_are_identifiers(
    app: Flask, world: dict, session: Session, code: str
) -> None:
    auth = signed_in(app)
    result = auth.client.post(
        "/dashboard/counters",
        data={"csrf_token": auth.csrf(), "unit": "P.D1", "code": code, "name": "Quầy"},
    )
    assert result.status_code == 422
    assert "Mã không hợp lệ" in result.get_data(as_text=True)
    assert count(session, Counter) == 3


def instrument_upload(auth: AuthActions, text: str, name: str = "tinh.yaml") -> Any:
    return auth.client.post(
        "/dashboard/instruments",
        data={"csrf_token": auth.csrf(), "file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )


BASE = {
    "code": "TINH",
    "version": 1,
    "name": {"vi": "Phiếu tỉnh"},
    "scale": {"min": 1, "max": 5, "satisfied": [4, 5], "labels": {"vi": list("abcde")}},
    "domains": [
        {
            "code": "DV",
            "name": {"vi": "Dịch vụ"},
            "elements": [
                {"code": "CB", "name": {"vi": "Cán bộ"}, "items": [{"code": "T01", "text": "x"}]}
            ],
        }
    ],
}


def variant(**changes: Any) -> str:
    data = json.loads(json.dumps(BASE))
    for path, value in changes.items():
        target = data
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value
    return json.dumps(data, ensure_ascii=False)


PROFILE = {"code": "RT", "kind": "choice", "column": "respondent_type"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 5000 + "]" * 5000, "lồng nhau quá 20 cấp"),
        ('{"a":' * 3000 + "1" + "}" * 3000, "lồng nhau quá 20 cấp"),
        (variant(scale__missing_labels=["x"]), "scale.missing_labels"),
        (variant(scale__missing=[0], scale__missing_labels={"zero": "x"}), "scale.missing_labels"),
        (variant(questions=[{"code": "Q", "kind": ["choice"]}]), "questions[0].kind"),
        (variant(scale__satisfied=[{"a": 1}]), "scale.satisfied"),
        (
            variant(
                questions=[
                    {"code": "Q", "options": [{"value": 1, "label": "a"}], "satisfied": [{}]}
                ]
            ),
            "questions[0].satisfied",
        ),
        (variant(version=10**30), "version"),
        (variant(aggregation={"weights": {"DV": "NaN"}}), "aggregation.weights"),
        (
            variant(questions=[PROFILE | {"options": [{"value": 1, "label": "a", "key": "x"}]}]),
            "questions[0].options[0].key: chỉ nhận individual, organisation",
        ),
        (
            variant(
                questions=[
                    {
                        "code": "SEX",
                        "column": "sex",
                        "options": [{"value": 1, "label": "a", "key": "khong-tra-loi"}],
                    }
                ]
            ),
            "phải có từ 1 đến 10 ký tự",
        ),
        (variant(domains__0__elements__0__items__0__code="=HYPERLINK(1)"), "không hợp lệ"),
        (variant(domains__0__code="D V"), "không hợp lệ"),
        (variant(name={"vi": "Phiếu\u0007"}), "ký tự điều khiển"),
    ],
    ids=[
        "deep-json-list",
        "deep-json-object",
        "missing-labels-list",
        "missing-labels-key",
        "kind-list",
        "satisfied-dict",
        "option-satisfied-dict",
        "version-10e30",
        "weight-nan",
        "unknown-respondent-type",
        "long-sex-key",
        "formula-item-code",
        "space-in-code",
        "control-character",
    ],
)
def test_instrument_files_that_used_to_break(
    app: Flask, world: dict, session: Session, text: str, message: str
) -> None:
    result = instrument_upload(signed_in(app), text, "tinh.json")
    assert result.status_code == 422, result.get_data(as_text=True)[:500]
    assert message in result.get_data(as_text=True).replace("&#39;", "'")
    assert session.scalar(select(func.count()).where(Instrument.code == "TINH")) == 0


def test_a_yaml_bomb_is_refused_quickly_with_a_short_message(
    app: Flask, world: dict, session: Session
) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    text = "\n".join(lines) + "\n"
    assert len(text) < 1000  # expands to 9⁹ ≈ 387 million values
    result = instrument_upload(signed_in(app), text)
    assert result.status_code == 422
    assert "quá 20000 giá trị" in result.get_data(as_text=True)
    assert len(result.data) < 20_000


def test_the_error_list_of_an_instrument_is_capped(app: Flask, world: dict) -> None:
    items = [{"code": "a b", "text": "x"} for _ in range(500)]
    result = instrument_upload(
        signed_in(app), variant(domains__0__elements__0__items=items), "tinh.json"
    )
    assert result.status_code == 422
    page = result.get_data(as_text=True)
    assert "và 450 lỗi khác" in page or "lỗi khác" in page
    assert page.count("không hợp lệ (") <= 51


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/units/P?period=0001-01-01..2026-01-01",
        "/dashboard/units/P?period=9999-12-01..9999-12-31",
        "/dashboard/units/P?period=9999-12",
        "/dashboard/units/P/ranking?period=1899",
        "/dashboard/units/P/tt01?period=0001-01-01..0001-01-02",
        "/dashboard/units/P/report.pdf?period=9999",
        "/api/v1/units/P/indices?period=0001-01-01..2026-01-01",
    ],
)
def test_periods_outside_the_calendar_are_explained(app: Flask, world: dict, path: str) -> None:
    result = signed_in(app).client.get(path)
    assert result.status_code == 422
    text = (
        result.get_json()["error"]["message"] if result.is_json else result.get_data(as_text=True)
    )
    assert "năm từ 1900 đến 2999" in text


def test_inbox_filters_outside_the_calendar_or_the_id_range(app: Flask, world: dict) -> None:
    auth = signed_in(app)
    for query in (
        "period=0001-01-01..2026-01-01",
        "assignee=²",
        "assignee=" + "9" * 30,
        "after=1e400_1",
        "after=1_" + "9" * 40,
    ):
        assert auth.client.get(f"/dashboard/inbox?{query}").status_code == 400, query


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/cases/99999999999999999999999999",
        "/dashboard/cases/9223372036854775808",
        "/dashboard/cases/2147483648",  # past PostgreSQL's INTEGER ids
        "/dashboard/dossiers/9223372036854775807",
        "/dashboard/exports/99999999999999999999",
        "/dashboard/cases/%C2%B2",
    ],
)
def test_huge_or_odd_ids_are_not_found(app: Flask, world: dict, path: str) -> None:
    assert signed_in(app).client.get(path).status_code == 404


def test_superscript_ids_in_a_bulk_action_select_nothing(app: Flask, world: dict) -> None:
    auth = signed_in(app)
    result = auth.client.post(
        "/dashboard/inbox/bulk",
        data={"csrf_token": auth.csrf(), "action": "close", "ids": "²", "assignee": "³"},
    )
    assert result.status_code == 303
    assert "Hãy chọn ít nhất một phản ánh" in auth.client.get("/dashboard/inbox").get_data(
        as_text=True
    )


def test_the_appraisal_upload_has_the_same_caps(database_url: str, session: Session) -> None:
    """Every role that may export may attach an appraisal file: counter staff too, so the same
    expansion cap applies to it, and nothing is queued."""
    from surveyapp.models import ExportJob

    app = make_app(database_url, UPLOAD_MAX_EXPANDED_BYTES=1024 * 1024)
    with app.extensions["surveyapp.sessionmaker"]() as db:
        build_world(db)
    content = xlsx_with({"xl/sharedStrings.xml": b"<sst>" + b" " * 2_000_000 + b"</sst>"})
    staff = signed_in(app, "staff@x.vn")
    result = staff.client.post(
        "/dashboard/exports",
        data={
            "kind": "scores",
            "scores-csrf_token": staff.csrf("/dashboard/exports"),
            "scores-unit": "P.D1",
            "scores-level": "commune",
            "scores-period": "2026",
            "scores-stream": "all",
            "scores-format": "csv",
            "scores-appraisal": (io.BytesIO(content), "a.xlsx"),
        },
        content_type="multipart/form-data",
    )
    app.extensions["surveyapp.engine"].dispose()
    assert result.status_code == 422
    assert "Tệp Excel khi giải nén lớn hơn 1048576 byte" in result.get_data(as_text=True)
    assert count(session, ExportJob) == 0

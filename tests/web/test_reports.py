"""Unit dashboards, rankings, Thông tư 01 pages, the PDF report, the indices API and the
background exports, through the HTTP interface."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from openapi_schema_validator import OAS31Validator
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import ExportJob, UnitLevel
from surveyapp.services.access import SYSTEM
from surveyapp.services.exports import scores
from surveyapp.services.periods import parse_period
from tests import conftest
from tests.conftest import NOW, AuthActions, export_responses_csv, wait_for_job
from tests.factories import (
    build_world,
    full_answers,
    make_campaign,
    make_par_scheme,
    submit_response,
)


@pytest.fixture
def world(session: Session) -> dict:
    """Twelve respondents at D1 (8 satisfied with everything), five at D2 (all satisfied)."""
    world = build_world(session)
    for i in range(12):
        level = 4 if i < 8 else 2
        submit_response(
            session,
            world["counters"]["P.D1"],
            full_answers(level),
            comment="Cần thêm ghế <b>chờ</b>" if i == 0 else None,
        )
    for _ in range(5):
        submit_response(session, world["counters"]["P.D2"], full_answers(5))
    return world


def signed_in(app: Flask, who: str = "admin@x.vn") -> AuthActions:
    return conftest.signed_in(app, who)


def test_unit_dashboard_shows_figures_and_accessible_charts(app: Flask, world: dict) -> None:
    auth = signed_in(app)
    page = auth.client.get("/dashboard/units/P.D1?period=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # 8 of 12 satisfied on every item: 66,67%, n = 12.
    assert "66,67%" in html
    assert "n = 12" in html
    charts = re.findall(
        r'<svg class="chart"[^>]*role="img"[^>]*aria-labelledby="(c[0-9a-f]+t) (c[0-9a-f]+d)"', html
    )
    assert len(charts) >= 3
    assert len(set(charts)) == len(charts)  # every chart's ids are its own
    for title, desc in charts:
        assert f'<title id="{title}">' in html
        assert f'<desc id="{desc}">' in html
    assert html.count('<details class="table-alt">') >= 2  # data tables for the charts
    assert "Cần thêm ghế &lt;b&gt;chờ&lt;/b&gt;" in html  # escaped, never markup
    assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", html).replace(
        "http://localhost", ""
    )  # no third-party request
    english = auth.client.get("/dashboard/units/P.D1?period=2026&lang=en").get_data(as_text=True)
    assert "Satisfaction index (SIPAS)" in english
    assert "66.67%" in english
    assert "66.67 (n=12)" in english  # chart labels follow the reader's locale too
    assert "66,67 (n=12)" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=2026-13", "Kỳ báo cáo &#39;2026-13&#39; không hợp lệ"),
        ("period=2026&channel=fax", "Giá trị &#39;fax&#39; của channel không hợp lệ"),
        ("period=2026&field=NOPE", "Không có lĩnh vực NOPE"),
        ("period=2026&stream=x", "của stream không hợp lệ"),
        ("period=2026&instrument=NOPE", "Không có phiếu khảo sát NOPE"),
        (
            "period=2026&attribution=counter",
            "Giá trị &#39;counter&#39; của attribution không hợp lệ",
        ),
    ],
)
def test_bad_dashboard_parameters_are_a_clear_422(
    app: Flask, world: dict, query: str, message: str
) -> None:
    auth = signed_in(app)
    page = auth.client.get(f"/dashboard/units/P.D1?{query}")
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)


def test_periods_typed_the_vietnamese_way(app: Flask, world: dict) -> None:
    auth = signed_in(app)
    page = auth.client.get("/dashboard/units/P.D1?period=06/2026")
    assert page.status_code == 200
    assert "66,67" in page.get_data(as_text=True)
    quarter = auth.client.get("/dashboard/units/P.D1?period=Qu%C3%BD%20II/2026")
    assert quarter.status_code == 200
    api = auth.client.get("/api/v1/units/P.D1/indices?period=T6/2026")
    assert api.get_json()["period"]["label"] == "2026-06"


def test_an_officials_error_pages_keep_the_menu(app: Flask, world: dict) -> None:
    auth = signed_in(app, "manager@x.vn")
    for path, code in (
        ("/dashboard/units/P.D2?period=2026", 404),  # another district: not the manager's
        ("/dashboard/units/P.D1?period=13/2026", 422),
    ):
        page = auth.client.get(path)
        assert page.status_code == code
        html = page.get_data(as_text=True)
        assert 'class="dash-nav"' in html  # the menu, to go on from here
        assert f"Mã lỗi: {code}" in html
    assert "13/2026" in auth.client.get("/dashboard/units/P.D1?period=13/2026").get_data(
        as_text=True
    )  # the message names what was typed
    public = app.test_client().get("/cong-khai/NOPE").get_data(as_text=True)
    assert 'class="dash-nav"' not in public


def test_ranking_sorts_links_down_and_draws_a_funnel(app: Flask, world: dict) -> None:
    auth = signed_in(app)
    html = auth.client.get("/dashboard/units/P/ranking?period=2026").get_data(as_text=True)
    body = html[html.index("<tbody>") :]
    assert body.index("Đơn vị P.D1") < body.index("Đơn vị P.D2")  # D2 has n = 5 < 10: unranked
    assert 'href="/dashboard/units/P.D1/ranking?period=2026"' in html  # D1 has a commune
    assert "Biểu đồ phễu" in html
    by_n = auth.client.get("/dashboard/units/P/ranking?period=2026&sort=n").get_data(as_text=True)
    assert 'aria-sort="descending"' in by_n
    assert auth.client.get("/dashboard/units/P/ranking?period=2026&sort=x").status_code == 422


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_pdf_report_reads_as_a_report(app: Flask, world: dict, lang: str) -> None:
    """The report is the official document, in Vietnamese whichever language the official reads
    the dashboard in."""
    auth = signed_in(app)
    auth.client.get(f"/dashboard/?lang={lang}")
    result = auth.client.get("/dashboard/units/P.D1/report.pdf?period=2026")
    assert result.status_code == 200
    assert result.mimetype == "application/pdf"
    assert "bao-cao-khao-sat-P.D1-2026.pdf" in result.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(result.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "BÁO CÁO" in text
    assert "Đơn vị P.D1" in text
    assert "66,67" in text
    assert "THỦ TRƯỞNG ĐƠN VỊ" in text
    assert "Số ý kiến bằng văn bản: 1." in text
    assert "Mới: 1" in text  # the comment; the four anonymous low ratings (level 2) open none
    assert "(không mở phản ánh): 4." in text
    unit_page = auth.client.get("/dashboard/units/P.D1?period=2026&lang=vi").get_data(as_text=True)
    assert "Tín hiệu đánh giá thấp: 4 phiếu" in unit_page
    assert "Phiếu theo kênh: Mã QR tại quầy: 12." in text
    assert "XẾP HẠNG CÁC ĐƠN VỊ TRỰC THUỘC" in text  # D1 has commune X below it
    assert "Quyết định 1001/QĐ-BNV" in text
    assert reader.metadata.title.startswith("Báo cáo kết quả khảo sát sự hài lòng")


# --- API ------------------------------------------------------------------------------------


def spec() -> dict:
    from surveyapp.api.spec import document

    return json.loads(document())


def validate(payload: dict, path: str) -> None:
    """Check ``payload`` against the 200 response the OpenAPI document declares for ``path``."""
    document = spec()
    declared = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    OAS31Validator({**declared["schema"], "components": document["components"]}).validate(payload)


def create_token(auth: AuthActions, name: str = "Cổng tỉnh") -> str:
    page = auth.client.post(
        "/dashboard/tokens", data={"name": name, "csrf_token": auth.csrf("/dashboard/tokens")}
    )
    assert page.status_code == 200
    found = re.search(
        r"<code class=\"token\" data-token>(sat_[^<]+)</code>", page.get_data(as_text=True)
    )
    assert found
    return found.group(1)


def test_openapi_document_is_valid() -> None:
    from openapi_spec_validator import validate as validate_spec

    validate_spec(spec())


def test_api_with_a_token_matches_the_dashboard(app: Flask, world: dict) -> None:
    auth = signed_in(app, "manager@x.vn")
    token = create_token(auth)
    api = app.test_client()  # no session: the token alone
    headers = {"Authorization": f"Bearer {token}"}
    result = api.get("/api/v1/units/P.D1/indices?period=2026", headers=headers)
    assert result.status_code == 200
    payload = result.get_json()
    validate(payload, "/units/{code}/indices")
    assert payload["sipas"]["value"] == 66.67
    assert payload["sipas"]["n"] == 12
    assert payload["sipas"]["ci_low"] < 66.67 < payload["sipas"]["ci_high"]
    assert {e["code"] for e in payload["elements"]} == {"TC", "TT", "CC", "KQ", "PA"}
    assert payload["elements"][0]["items"][0]["valid"] == 12
    assert payload["parent"]["of"] == "P"
    assert payload["channels"] == {"qr": 12}
    assert len(payload["trend"]) == 12
    assert payload["filters"]["attribution"] == "handling"
    # No dossier here was received elsewhere: by receiving place the same figure.
    by_place = api.get(
        "/api/v1/units/P.D1/indices?period=2026&attribution=receiving", headers=headers
    )
    validate(by_place.get_json(), "/units/{code}/indices")
    assert by_place.get_json()["filters"]["attribution"] == "receiving"
    assert by_place.get_json()["sipas"] == payload["sipas"]
    # Scope: the manager of D1 cannot read D2; bad input and missing auth are clear.
    assert api.get("/api/v1/units/P.D2/indices?period=2026", headers=headers).status_code == 404
    missing = api.get("/api/v1/units/P.D1/indices", headers=headers)
    assert missing.status_code == 422
    assert "period" in missing.get_json()["error"]["message"]
    anonymous = api.get("/api/v1/units/P.D1/indices?period=2026")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = api.get(
        "/api/v1/units/P.D1/indices?period=2026", headers={"Authorization": "Bearer sat_nope"}
    )
    assert wrong.status_code == 401


def test_api_lists_the_units_in_scope(app: Flask, world: dict) -> None:
    auth = signed_in(app, "manager@x.vn")
    headers = {"Authorization": f"Bearer {create_token(auth)}"}
    payload = app.test_client().get("/api/v1/units", headers=headers).get_json()
    validate(payload, "/units")
    assert [(u["code"], u["parent"]) for u in payload["units"]] == [
        ("P.D1", None),  # the province is outside the manager's scope
        ("P.D1.X", "P.D1"),
    ]
    assert app.test_client().get("/api/v1/units").status_code == 401


def test_revoked_token_stops_working(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app, "manager@x.vn")
    token = create_token(auth)
    headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    assert api.get("/api/v1/units/P.D1/indices?period=2026", headers=headers).status_code == 200
    page = auth.client.get("/dashboard/tokens").get_data(as_text=True)
    action = re.search(r'action="(/dashboard/tokens/\d+/revoke)"', page).group(1)
    assert auth.client.post(action, data={"csrf_token": auth.csrf()}).status_code == 303
    assert api.get("/api/v1/units/P.D1/indices?period=2026", headers=headers).status_code == 401
    # Another official cannot revoke someone else's token.
    other = signed_in(app, "staff@x.vn")
    assert other.client.post(action, data={"csrf_token": other.csrf()}).status_code == 404


def test_token_name_is_required(app: Flask, world: dict) -> None:
    auth = signed_in(app)
    page = auth.client.post(
        "/dashboard/tokens", data={"name": "", "csrf_token": auth.csrf("/dashboard/tokens")}
    )
    assert page.status_code == 422
    assert "sat_" not in page.get_data(as_text=True)


# --- Exports --------------------------------------------------------------------------------


def test_scores_export_runs_in_the_background_and_matches_the_engine(
    app: Flask, world: dict, session: Session
) -> None:
    make_par_scheme(session)
    auth = signed_in(app, "par@x.vn")
    form = {
        "kind": "scores",
        "scores-csrf_token": auth.csrf("/dashboard/exports"),
        "scores-unit": "P",
        "scores-level": "district",
        "scores-period": "2026",
        "scores-stream": "all",
        "scores-format": "xlsx",
        "scores-appraisal": (
            io.BytesIO(b"unit_code,appraisal_points\nP.D1,60\nP.D2,65\n"),
            "a.csv",
        ),
    }
    queued = auth.client.post("/dashboard/exports", data=form, content_type="multipart/form-data")
    assert queued.status_code == 303
    html = wait_for_job(auth, queued.headers["Location"])
    assert 'data-status="done"' in html
    link = re.search(r'href="(/dashboard/exports/\d+/download)"', html).group(1)
    with auth.client.get(link) as download:
        assert download.status_code == 200
        assert "diem-dieu-tra-xhh-P-district-2026.xlsx" in download.headers["Content-Disposition"]
        content = download.data
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(rows) if row and row[0] == "unit_code")
    header = rows[header_at]
    got = {row[0]: dict(zip(header, row, strict=True)) for row in rows[header_at + 1 :] if row[0]}
    expected = scores.scores_export(
        session,
        timezone="Asia/Ho_Chi_Minh",
        scope=SYSTEM,
        parent=world["units"]["p"],
        level=UnitLevel.DISTRICT,
        period=parse_period("2026"),
        appraisal={"P.D1": Decimal(60), "P.D2": Decimal(65)},
        generated_at=NOW,
        stream=None,
    )
    for row in expected.scores.rows:
        want = dict(zip(expected.scores.header, row, strict=True))
        for column in ("n", "sipas", "survey_points", "total_points", "rank"):
            value = want[column]
            assert got[want["unit_code"]][column] == (
                float(value) if isinstance(value, Decimal) else value
            ), column
    assert got["P.D1"]["sipas"] == 66.67
    # Someone else cannot see or download the job.
    other = signed_in(app, "admin@x.vn")
    assert other.client.get(queued.headers["Location"]).status_code == 404
    assert other.client.get(link).status_code == 404


def test_bad_export_request_queues_nothing(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app, "par@x.vn")
    form = {
        "kind": "scores",
        "scores-csrf_token": auth.csrf("/dashboard/exports"),
        "scores-unit": "P",
        "scores-level": "district",
        "scores-period": "2026-Q5",
        "scores-stream": "all",
        "scores-format": "xlsx",
    }
    page = auth.client.post("/dashboard/exports", data=form)
    assert page.status_code == 422
    assert "Kỳ báo cáo &#39;2026-Q5&#39; không hợp lệ" in page.get_data(as_text=True)
    form["scores-period"] = "2026"
    form["scores-appraisal"] = (io.BytesIO(b"unit_code,appraisal_points\nP.D1,abc\n"), "a.csv")
    page = auth.client.post("/dashboard/exports", data=form, content_type="multipart/form-data")
    assert page.status_code == 422
    assert "dòng 2" in page.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ExportJob)) == 0


def test_responses_export_reports_progress_and_rows(app: Flask, world: dict) -> None:
    auth = signed_in(app, "manager@x.vn")
    html, lines = export_responses_csv(auth, "P.D1")
    assert "12 dòng" in html
    text = "\n".join(lines)
    assert len(lines) == 13
    assert "Cần thêm ghế" not in text  # no comments in the responses file
    # A manager may not export another unit's responses.
    form = {
        "kind": "responses",
        "responses-csrf_token": auth.csrf("/dashboard/exports"),
        "responses-unit": "P.D2",
        "responses-format": "csv",
    }
    assert auth.client.post("/dashboard/exports", data=form).status_code == 422


def test_the_api_is_strict_json_when_both_periods_are_at_100_percent(
    app: Flask, session: Session
) -> None:
    """Everyone satisfied in 2025 and in 2026: the change has p = 1, never NaN, and the answer
    parses with a parser that refuses NaN and Infinity."""
    world = build_world(session)
    make_campaign(
        session,
        [world["units"]["p"]],
        code="C2025",
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 12, 31),
    )
    session.commit()
    for when in (NOW, NOW - timedelta(days=365)):
        for _ in range(12):
            submit_response(session, world["counters"]["P.D1"], full_answers(5), now=when)
    auth = signed_in(app, "par@x.vn")
    result = auth.client.get("/api/v1/units/P.D1/indices?period=2026")
    assert result.status_code == 200

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in a JSON answer")

    body = json.loads(result.get_data(as_text=True), parse_constant=refuse)
    assert body["sipas"]["value"] == 100.0
    assert body["previous"]["sipas"]["value"] == 100.0
    assert body["previous"]["difference"] == 0.0
    assert body["previous"]["p_value"] == 1.0


def test_a_non_finite_number_is_sent_as_null(app: Flask) -> None:
    with app.test_request_context():
        text = app.json.dumps({"p": float("nan"), "rows": [1.5, float("inf")], "tên": "Hà Nội"})
    assert json.loads(text) == {"p": None, "rows": [1.5, None], "tên": "Hà Nội"}
    assert "Hà Nội" in text  # readable, not \\u escapes


def selected(page: str, name: str) -> str | None:
    """The value a select of the page starts on."""
    block = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert block, name
    found = re.search(r'<option selected value="([^"]*)"', block.group(1))
    return found.group(1) if found else None


def test_the_scores_form_starts_from_what_works_and_refuses_a_file_of_zeros(
    app: Flask, world: dict, session: Session
) -> None:
    auth = signed_in(app, "par@x.vn")
    page = auth.client.get("/dashboard/exports").get_data(as_text=True)
    # The PAR office of province P: its districts, this year, the stream that has answers.
    assert (selected(page, "scores-unit"), selected(page, "scores-level")) == ("P", "district")
    assert re.search(r'name="scores-period"[^>]*value="2026"', page)
    assert selected(page, "scores-stream") == "general"
    manager = signed_in(app, "manager@x.vn")
    mine = manager.client.get("/dashboard/exports").get_data(as_text=True)
    assert (selected(mine, "scores-unit"), selected(mine, "scores-level")) == ("P.D1", "commune")

    def ask(level: str, stream: str, appraisal: bytes | None = None) -> object:
        form = {
            "kind": "scores",
            "scores-csrf_token": auth.csrf("/dashboard/exports"),
            "scores-unit": "P",
            "scores-level": level,
            "scores-period": "2026",
            "scores-stream": stream,
            "scores-format": "csv",
        }
        if appraisal is not None:
            form["scores-appraisal"] = (io.BytesIO(appraisal), "a.csv")
        return auth.client.post("/dashboard/exports", data=form, content_type="multipart/form-data")

    zeros = ask("commune", "all")
    assert zeros.status_code == 422
    assert "Không đơn vị nào có phiếu trong kỳ và luồng này" in zeros.get_data(as_text=True)
    assert ask("district", "official").status_code == 422  # the answer is general
    no_settings = ask("district", "general", b"unit_code,appraisal_points\nP.D1,60\n")
    assert no_settings.status_code == 422
    assert "không cộng được điểm thẩm định" in no_settings.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ExportJob)) == 0
    queued = ask("district", "general")
    assert queued.status_code == 303
    done = wait_for_job(auth, queued.headers["Location"])
    assert 'data-status="done"' in done


def test_api_scores_match_the_export_with_or_without_settings(
    app: Flask, world: dict, session: Session
) -> None:
    headers = {"Authorization": f"Bearer {create_token(signed_in(app, 'par@x.vn'))}"}
    api = app.test_client()
    url = "/api/v1/units/P/scores?period=2026&level=district&stream=all"
    bare = api.get(url, headers=headers)
    assert bare.status_code == 200
    payload = bare.get_json()
    validate(payload, "/units/{code}/scores")
    assert "cột survey_points để trống" in payload["note"]
    by_unit = {r["unit_code"]: r for r in payload["rows"]}
    assert (by_unit["P.D1"]["n"], by_unit["P.D2"]["n"]) == (12, 5)
    assert by_unit["P.D1"]["sipas"] == 66.67
    assert by_unit["P.D1"]["survey_points"] is None
    make_par_scheme(session)
    scored = api.get(url, headers=headers).get_json()
    validate(scored, "/units/{code}/scores")
    assert scored["note"] is None
    # 35 points × 66.67 % (exactly 2/3: 8 of 12 satisfied on every item) = 23.33.
    assert {r["unit_code"]: r for r in scored["rows"]}["P.D1"]["survey_points"] == 23.33
    official = api.get(url.replace("stream=all", "stream=official"), headers=headers).get_json()
    assert official["empty"] is True  # every answer here is a general one
    for bad, name in (("level=hamlet", "level"), ("level=district", "period")):
        refused = api.get(f"/api/v1/units/P/scores?{bad}", headers=headers)
        assert refused.status_code == 422
        assert name in refused.get_json()["error"]["message"]
    manager = {"Authorization": f"Bearer {create_token(signed_in(app, 'manager@x.vn'))}"}
    assert api.get(url, headers=manager).status_code == 404  # the province is outside its scope
    assert api.get(url).status_code == 401

"""Officials in the browser: a case from a citizen's comment; a unit dashboard and its exports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import Case, CaseStatus, UnitLevel
from surveyapp.services.access import SYSTEM
from surveyapp.services.exports.scores import scores_export
from surveyapp.services.periods import parse_period
from tests.browser.conftest import save_screenshot
from tests.conftest import NOW
from tests.factories import (
    PASSWORD,
    build_world,
    full_answers,
    make_dossier,
    make_par_scheme,
    submit_response,
)


def sign_in(page: Any, url: str, email: str) -> None:
    """Open a dashboard page, get sent to sign in, and land back on it."""
    page.goto(url)
    page.wait_for_url("**/auth/login**")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url)


def test_official_replies_to_a_comment_and_closes_the_case(
    browser: Any, live_url: str, session: Session
) -> None:
    world = build_world(session)
    response = submit_response(
        session, world["counters"]["P.D1"], comment="Phòng chờ nóng, không có quạt."
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, f"{live_url}/dashboard/inbox", "manager@x.vn")
    page.click("text=Phòng chờ nóng, không có quạt.")
    page.wait_for_url("**/dashboard/cases/*")
    assert "Mới" in page.locator("h1").inner_text()
    page.fill("#reply-reply", "Đơn vị đã lắp thêm 4 quạt trần. Cảm ơn ông/bà.")
    page.click("text=Gửi trả lời")
    page.wait_for_selector("text=Đã trả lời")
    page.select_option("#status-status", "closed")
    page.click("text=Cập nhật trạng thái")
    page.wait_for_selector("h1:has-text('Đã đóng')")
    save_screenshot(page, "dashboard-case-closed")
    # The citizen follows it up with the receipt code.
    page.goto(f"{live_url}/tra-cuu?code={response.receipt_code}")
    assert "Đơn vị đã lắp thêm 4 quạt trần." in page.content()
    context.close()
    session.expire_all()
    case = session.scalars(select(Case)).one()
    assert case.status is CaseStatus.CLOSED
    assert case.reply == "Đơn vị đã lắp thêm 4 quạt trần. Cảm ơn ông/bà."


def test_official_sees_charts_and_downloads_the_scores_workbook(
    browser: Any, live_url: str, session: Session, tmp_path: Any
) -> None:
    """Sign in, open a unit dashboard (charts drawn, screenshot kept), then download the scores
    XLSX through the background export and check its figures against the engine's."""
    world = build_world(session)
    for i in range(24):
        counter = world["counters"]["P.D1" if i % 2 else "P.D2"]
        answers = full_answers(5 if i % 3 else 2)
        answers["S15"] = 1 if i % 4 == 0 else 4
        submit_response(session, counter, answers, comment="Chờ lâu" if i == 3 else None)
    make_par_scheme(session)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    sign_in(page, f"{live_url}/dashboard/units/P?period=2026", "par@x.vn")
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() >= 3
    bars = page.locator("svg.chart rect")
    assert bars.count() >= 5  # one bar per element, drawn with a real width
    assert bars.first.bounding_box()["width"] > 10
    assert page.locator("[data-figure=sipas] b").inner_text().endswith("%")
    save_screenshot(page, "dashboard-unit-charts")
    page.click("text=Xếp hạng các đơn vị trực thuộc")
    page.wait_for_selector("text=Biểu đồ phễu")
    assert page.locator("svg.chart circle").count() == 2
    save_screenshot(page, "dashboard-ranking-funnel")

    page.goto(f"{live_url}/dashboard/exports?unit=P&period=2026")
    page.select_option("#scores-level", "district")
    page.select_option("#scores-stream", "all")
    page.click("text=Tạo tệp điểm")
    page.wait_for_selector("a:has-text('Tải tệp')", timeout=20000)
    with page.expect_download() as info:
        page.click("a:has-text('Tải tệp')")
    path = tmp_path / "diem.xlsx"
    info.value.save_as(path)
    context.close()

    rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "unit_code")
    got = {row[0]: dict(zip(rows[start], row, strict=True)) for row in rows[start + 1 :]}
    session.expire_all()
    expected = scores_export(
        session,
        timezone="Asia/Ho_Chi_Minh",
        scope=SYSTEM,
        parent=world["units"]["p"],
        level=UnitLevel.DISTRICT,
        period=parse_period("2026"),
        appraisal=None,
        generated_at=NOW,
        stream=None,
    )
    assert set(got) == {"P.D1", "P.D2"}
    for row in expected.scores.rows:
        want = dict(zip(expected.scores.header, row, strict=True))
        for column in ("n", "sipas", "sipas_ci_low", "sipas_ci_high", "TC", "survey_points"):
            value = want[column]
            assert got[want["unit_code"]][column] == (
                float(value) if isinstance(value, Decimal) else value
            ), (want["unit_code"], column)


def test_every_page_works_under_the_content_security_policy(
    browser: Any, live_url: str, session: Session
) -> None:
    """Every dashboard page and the public pages load in Chromium with their styles and scripts,
    and none breaks the policy (the autouse check reads Chromium's console)."""
    world = build_world(session)
    response = submit_response(session, world["counters"]["P.D1"], comment="Cần thêm ghế.")
    case_id = session.scalar(select(Case.id).where(Case.response_id == response.id))
    dossier = make_dossier(session, world["units"]["d1"], phone="+84912345678")
    session.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, f"{live_url}/dashboard/", "admin@x.vn")
    pages = [
        "/dashboard/",
        "/dashboard/inbox",
        f"/dashboard/cases/{case_id}",
        "/dashboard/counters",
        "/dashboard/users",
        "/dashboard/units",
        "/dashboard/fields",
        "/dashboard/campaigns",
        "/dashboard/instruments",
        "/dashboard/imports",
        "/dashboard/paper",
        "/dashboard/exports",
        "/dashboard/tokens",
        "/dashboard/dossiers?period=2026",
        f"/dashboard/dossiers/{dossier.id}",
        "/dashboard/intake",
        "/dashboard/staff",
        "/dashboard/procedures",
        "/dashboard/par",
        "/dashboard/publications",
        "/dashboard/lineage",
        "/dashboard/units/P?period=2026",
        "/dashboard/units/P/ranking?period=2026",
        "/dashboard/units/P/tt01?period=2026",
        "/auth/password",
        f"/tra-cuu?code={response.receipt_code}",
        "/",
    ]
    for path in pages:
        result = page.goto(f"{live_url}{path}")
        assert result.status == 200, path
        headers = result.all_headers()
        assert "script-src 'self'" in headers["content-security-policy"], path
        # The style sheet applied (no inline style was needed for it).
        assert page.evaluate("getComputedStyle(document.body).fontFamily") != "", path
    tree = page.goto(f"{live_url}/dashboard/")
    assert tree.status == 200
    indent = page.evaluate("getComputedStyle(document.querySelector('li.depth-1')).marginLeft")
    assert indent != "0px"  # the unit tree is indented by class, not by a style attribute
    context.close()


def test_the_dossier_and_par_pages_fit_a_phone(
    browser: Any, live_url: str, session: Session, tmp_path: Any
) -> None:
    """At 360 px none of the dossier and PAR office pages scrolls sideways, and a file uploaded
    from the phone ends on its status page with the refused row."""
    world = build_world(session)
    dossier = make_dossier(
        session, world["units"]["d1"], code="HS-2026-000000123456", phone="+84912345678"
    )
    session.commit()
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    sign_in(page, f"{live_url}/dashboard/", "admin@x.vn")
    for path in [
        "/dashboard/dossiers?period=2026",
        "/dashboard/dossiers?period=2026&attribution=receiving",
        f"/dashboard/dossiers/{dossier.id}",
        "/dashboard/intake",
        "/dashboard/staff",
        "/dashboard/procedures",
        "/dashboard/par",
        "/dashboard/publications",
        "/dashboard/lineage",
    ]:
        assert page.goto(f"{live_url}{path}").status == 200, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    upload = tmp_path / "hs.csv"
    upload.write_text(
        "MaHoSo,DonViXuLy,NgayTiepNhan\nHS-PH-1,P.D1,20260601080000\nHS-PH-2,NOPE,20260601080000\n"
    )
    page.goto(f"{live_url}/dashboard/intake")
    page.set_input_files("input[name='file-file']", str(upload))
    page.locator("form[action$='/intake/upload'] button[type=submit]").click()
    page.wait_for_selector("[data-status='failed']", timeout=20_000)  # refreshes by itself
    assert "dòng 3: không có đơn vị 'NOPE'" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_the_citizens_verdict_reopens_the_case(
    browser: Any, live_url: str, session: Session
) -> None:
    """On a phone without JavaScript, the citizen reads the reply, says "Không hài lòng" (found
    by its label, as a screen reader would), and the case is back in the official's inbox."""
    world = build_world(session)
    response = submit_response(
        session, world["counters"]["P.D1"], comment="Cán bộ hẹn trả kết quả nhưng không gọi lại."
    )
    official = browser.new_context(viewport={"width": 1280, "height": 900})
    page = official.new_page()
    sign_in(page, f"{live_url}/dashboard/inbox", "manager@x.vn")
    page.click("text=Cán bộ hẹn trả kết quả")
    page.wait_for_url("**/dashboard/cases/*")
    case_url = page.url
    page.fill("#reply-reply", "Đơn vị đã nhắc nhở cán bộ và sẽ gọi lại trong ngày.")
    page.click("text=Gửi trả lời")
    page.wait_for_selector("h1:has-text('Đã trả lời')")

    phone = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    citizen = phone.new_page()
    citizen.goto(f"{live_url}/")
    citizen.click("text=Tra cứu kết quả xử lý")
    citizen.fill("#code", response.receipt_code)
    citizen.click("button:has-text('Tra cứu')")
    assert "Đơn vị đã nhắc nhở cán bộ" in citizen.content()
    citizen.click("button:has-text('Gửi ý kiến')")  # nothing chosen: told so, on the page
    assert "Vui lòng chọn một câu trả lời." in citizen.content()
    citizen.get_by_label("Không hài lòng với kết quả xử lý").check()
    citizen.get_by_label("Trả lời trễ hạn").check()
    citizen.click("button:has-text('Gửi ý kiến')")
    citizen.wait_for_selector("text=Cảm ơn bạn đã cho biết ý kiến về kết quả xử lý.")
    assert "Ý kiến của bạn đang được xử lý lại." in citizen.content()
    save_screenshot(citizen, "status-verdict-reopened-phone")
    phone.close()

    page.goto(case_url)
    heading = page.locator("h1").inner_text()
    assert "Đang xử lý" in heading
    text = page.content()
    assert "Đã mở lại 1 lần do người dân không hài lòng" in text
    assert "Người dân không hài lòng với kết quả xử lý. Người dân cho rằng trả lời trễ hạn." in text
    save_screenshot(page, "dashboard-case-reopened")
    official.close()
    session.expire_all()
    case = session.scalars(select(Case)).one()
    assert case.status is CaseStatus.IN_PROGRESS
    assert case.reopen_count == 1
    assert case.verdict_late

"""An official signs in, opens a new case from a citizen's comment, replies and closes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import Case, CaseStatus
from tests.browser.conftest import save_screenshot
from tests.factories import PASSWORD, build_world, submit_response


def test_official_replies_to_a_comment_and_closes_the_case(
    browser: Any, live_url: str, session: Session
) -> None:
    world = build_world(session)
    response = submit_response(
        session, world["counters"]["P.D1"], comment="Phòng chờ nóng, không có quạt."
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_url}/dashboard/inbox")
    page.wait_for_url("**/auth/login**")
    page.fill("#email", "manager@x.vn")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/inbox")
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

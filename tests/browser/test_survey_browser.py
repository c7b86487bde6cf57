"""A citizen on a phone and a kiosk tablet, in headless Chromium."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import Channel, Response
from tests.browser.conftest import save_screenshot, wait_until
from tests.factories import RATING_CODES, setup_counter


def stored(session: Session) -> list[Response]:
    session.expire_all()
    return list(session.scalars(select(Response)))


def answer_all(page: Any, level: int = 4) -> None:
    for code in [*RATING_CODES, "OVR"]:
        page.click(f"label[for='q_{code}-{level}']")


def test_phone_submit_twice_quickly_stores_one(phone: Any, live_url: str, session: Session) -> None:
    _, counter, _ = setup_counter(session)
    phone.goto(f"{live_url}/s/{counter.active_token.token}")
    assert phone.locator("h1").inner_text() == "Khảo sát sự hài lòng tại Bộ phận một cửa"
    answer_all(phone)
    assert "20/20" in phone.locator("#progress").inner_text()
    phone.fill("#comment", "Cán bộ nhiệt tình")
    save_screenshot(phone, "survey-phone")
    phone.locator("button[type=submit]").dblclick()
    phone.wait_for_url("**/thanks")
    assert "Cảm ơn bạn đã đánh giá!" in phone.content()
    rows = stored(session)
    assert len(rows) == 1
    assert rows[0].channel is Channel.QR
    assert rows[0].comment.body == "Cán bộ nhiệt tình"


def test_without_javascript_a_double_submit_stores_one(
    browser: Any, live_url: str, session: Session
) -> None:
    _, counter, _ = setup_counter(session)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_url}/s/{counter.active_token.token}")
    answer_all(page, 5)
    # The citizen taps "back" after sending and sends the same page again.
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks")
    page.go_back()
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks")
    context.close()
    assert len(stored(session)) == 1


def test_missing_answer_is_shown_beside_the_question(
    phone: Any, live_url: str, session: Session
) -> None:
    _, counter, _ = setup_counter(session)
    phone.goto(f"{live_url}/s/{counter.active_token.token}")
    answer_all(phone)
    # Remove one answer the way a tampered or partial page would.
    phone.evaluate(
        "document.querySelectorAll('input[name=q_S20]')"
        ".forEach(i => { i.checked = false; i.required = false; })"
    )
    phone.click("button[type=submit]")
    phone.wait_for_selector("#error-summary")
    assert "Vui lòng chọn một câu trả lời." in phone.locator("#q_S20-err").inner_text()
    assert stored(session) == []
    phone.click("label[for='q_S20-3']")
    phone.click("button[type=submit]")
    phone.wait_for_url("**/thanks")
    assert len(stored(session)) == 1


def test_answers_survive_a_dropped_connection(phone: Any, live_url: str, session: Session) -> None:
    _, counter, _ = setup_counter(session)
    phone.goto(f"{live_url}/s/{counter.active_token.token}")
    answer_all(phone, 3)
    phone.context.set_offline(True)
    phone.click("button[type=submit]")
    note = phone.locator("#offline-note")
    note.wait_for(state="visible")
    assert "đã được lưu trên máy" in note.inner_text()
    assert stored(session) == []
    phone.context.set_offline(False)
    wait_until(phone, "JSON.parse(localStorage.getItem('survey-queue') || '[]').length === 0")
    rows = stored(session)
    assert len(rows) == 1
    assert {a.value for a in rows[0].answers} == {3}
    # A reload of the page does not send it again.
    phone.reload()
    phone.wait_for_load_state("networkidle")
    assert session.scalar(select(func.count()).select_from(Response)) == 1


def test_kiosk_resets_to_a_clean_form(browser: Any, live_url: str, session: Session) -> None:
    _, counter, _ = setup_counter(session)
    context = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True)
    page = context.new_page()
    kiosk = f"{live_url}/k/{counter.active_token.token}"
    page.goto(kiosk)
    answer_all(page, 2)
    page.fill("#comment", "ý kiến người trước")
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks")
    # The thanks page returns to a fresh form by itself.
    page.wait_for_url(f"{kiosk}?lang=vi", timeout=10_000)
    assert page.locator("input:checked").count() == 0
    assert page.locator("#comment").input_value() == ""
    save_screenshot(page, "kiosk-after-reset")
    # An idle half-filled form is cleared for the next citizen too.
    page.click("label[for='q_S15-1']")
    wait_until(page, "document.querySelectorAll('input:checked').length === 0")
    context.close()
    rows = stored(session)
    assert len(rows) == 1
    assert rows[0].channel is Channel.KIOSK

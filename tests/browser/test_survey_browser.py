"""A citizen on a phone and a kiosk tablet, in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
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
    # Once sent, the page moves on to the thank-you page and its receipt, as an online send does.
    phone.wait_for_url("**/thanks")
    rows = stored(session)
    assert len(rows) == 1
    assert {a.value for a in rows[0].answers} == {3}
    assert phone.locator("#receipt").inner_text() == rows[0].receipt_code
    assert phone.evaluate("JSON.parse(localStorage.getItem('survey-queue') || '[]').length") == 0
    save_screenshot(phone, "offline-sent-thanks")
    phone.go_back()
    # A reload of the page does not send it again.
    phone.reload()
    phone.wait_for_load_state("networkidle")
    assert session.scalar(select(func.count()).select_from(Response)) == 1


def kiosk_citizen_sends(
    browser: Any, live_url: str, session: Session, javascript: bool = True
) -> tuple[Any, str]:
    """A kiosk tablet where a citizen has just sent a rating with a comment: (page, kiosk URL)."""
    _, counter, _ = setup_counter(session)
    context = browser.new_context(
        viewport={"width": 800, "height": 1280}, has_touch=True, java_script_enabled=javascript
    )
    page = context.new_page()
    kiosk = f"{live_url}/k/{counter.active_token.token}"
    page.goto(kiosk)
    answer_all(page, 2)
    page.fill("#comment", "ý kiến người trước")
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks")
    return page, kiosk


def test_kiosk_resets_to_a_clean_form(browser: Any, live_url: str, session: Session) -> None:
    page, kiosk = kiosk_citizen_sends(browser, live_url, session)
    # The thanks page returns to a fresh form by itself.
    page.wait_for_url(f"{kiosk}?lang=vi", timeout=10_000)
    assert page.locator("input:checked").count() == 0
    assert page.locator("#comment").input_value() == ""
    save_screenshot(page, "kiosk-after-reset")
    # An idle half-filled form is cleared for the next citizen too.
    page.click("label[for='q_S15-1']")
    wait_until(page, "document.querySelectorAll('input:checked').length === 0")
    page.context.close()
    rows = stored(session)
    assert len(rows) == 1
    assert rows[0].channel is Channel.KIOSK


def _kiosk_history_shows_nothing(page: Any, receipt: str) -> None:
    """Back, as far as the history goes, never shows the previous citizen's answers or receipt."""
    for _ in range(4):
        page.go_back()
        page.wait_for_load_state("load")
        assert page.locator("input:checked").count() == 0
        if page.locator("#comment").count():
            assert page.locator("#comment").input_value() == ""
        assert "ý kiến người trước" not in page.content()
        assert receipt not in page.content()


@pytest.mark.parametrize("javascript", [True, False])
def test_back_on_a_kiosk_never_shows_the_previous_citizen(
    browser: Any, live_url: str, session: Session, javascript: bool
) -> None:
    page, kiosk = kiosk_citizen_sends(browser, live_url, session, javascript)
    receipt = page.locator("#receipt").inner_text()
    assert receipt == stored(session)[0].receipt_code
    # The kiosk offers no way to the look-up page (the next citizen would find this receipt).
    assert page.locator("a[href*='tra-cuu']").count() == 0
    page.wait_for_url(f"{kiosk}?lang=vi", timeout=10_000)
    _kiosk_history_shows_nothing(page, receipt)
    page.context.close()


def test_the_kiosk_keeps_the_receipt_until_done_is_tapped(
    browser: Any, live_app: Flask, live_url: str, session: Session
) -> None:
    live_app.config["KIOSK_RECEIPT_SECONDS"] = 60
    page, kiosk = kiosk_citizen_sends(browser, live_url, session)
    assert "60 giây" in page.locator(".notice").inner_text()
    # The citizen switches to English to read it: the code is still there.
    page.click("a[hreflang=en]")
    page.wait_for_load_state("load")
    assert page.locator("#receipt").inner_text() == stored(session)[0].receipt_code
    save_screenshot(page, "kiosk-receipt")
    page.click("#kiosk-done")
    page.wait_for_url(f"{kiosk}?lang=vi")
    assert page.locator("input:checked").count() == 0
    _kiosk_history_shows_nothing(page, stored(session)[0].receipt_code)
    page.context.close()


def test_the_receipt_survives_a_language_switch_and_a_reload(
    browser: Any, live_url: str, session: Session
) -> None:
    _, counter, _ = setup_counter(session)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
    page = context.new_page()
    page.goto(f"{live_url}/s/{counter.active_token.token}")
    answer_all(page, 5)
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks")
    receipt = stored(session)[0].receipt_code
    page.click("a[hreflang=en]")
    page.wait_for_load_state("load")
    assert "Your receipt code" in page.content()
    page.reload()
    assert page.locator("#receipt").inner_text() == receipt
    page.click("button.copy")
    assert page.evaluate("navigator.clipboard.readText()") == receipt
    assert page.locator("button.copy").inner_text() == "Code copied"
    save_screenshot(page, "thanks-receipt-en")
    # The look-up page offers the browser's recent code.
    page.goto(f"{live_url}/tra-cuu")
    page.click(f"a:text('{receipt}')")
    page.wait_for_url(f"**/tra-cuu?code={receipt}")
    context.close()


def test_without_javascript_the_error_summary_takes_the_focus(
    browser: Any, live_url: str, session: Session
) -> None:
    _, counter, _ = setup_counter(session)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()

    def without_limits(route: Any) -> None:
        # An old browser that ignores maxlength and required: the server's check is the one seen.
        body = route.fetch().text().replace(" required", "").replace('maxlength="2000"', "")
        route.fulfill(body=body, content_type="text/html; charset=utf-8")

    survey = f"{live_url}/s/{counter.active_token.token}"
    page.route(survey, without_limits)
    page.goto(survey)
    answer_all(page, 4)
    page.fill("#comment", "x" * 2100)
    page.click("button[type=submit]")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert (
        "Ý kiến dài 2100 ký tự; tối đa 2000 ký tự." in page.locator("#error-summary").inner_text()
    )
    save_screenshot(page, "no-js-error-summary")
    context.close()
    assert stored(session) == []

"""The counter survey page: renders from the instrument, stores once, explains bad input."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.db import utcnow
from surveyapp.models import Answer, AnswerCount, Comment, Response
from tests.conftest import SurveyPage, make_app
from tests.factories import RATING_CODES, full_answers, setup_counter


@pytest.fixture
def survey(session: Session) -> str:
    _, counter, _ = setup_counter(session)
    return f"/s/{counter.active_token.token}"


def stored(session: Session, model=Response) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_form_renders_every_question_in_vietnamese(client: FlaskClient, survey: str) -> None:
    page = SurveyPage(client, survey)
    assert page.response.status_code == 200
    html = page.html
    assert '<html lang="vi">' in html
    assert "Khảo sát sự hài lòng tại Bộ phận một cửa" in html
    assert "Công chức có thái độ giao tiếp lịch sự, tôn trọng người dân" in html
    assert "Tiếp cận dịch vụ" in html
    assert "Rất không hài lòng" in html
    for code in [*RATING_CODES, "OVR"]:
        assert f'<fieldset class="q" id="q_{code}">' in html
        assert f'name="q_{code}" id="q_{code}-5" value="5" required' in html
    assert "Không biết / Không trả lời" in html
    assert 'class="hp" aria-hidden="true"' in html
    # A plain POST form; the one script is deferred progressive enhancement.
    assert '<form method="post"' in html
    assert html.count("<script") == 1
    assert "defer></script>" in html
    assert page.csrf
    assert page.key


def test_english_switch(client: FlaskClient, survey: str) -> None:
    html = client.get(f"{survey}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "One-stop-shop counter satisfaction survey" in html
    assert "Officials are polite and respectful" in html
    assert "Very satisfied" in html
    # The choice is remembered for the next page.
    assert '<html lang="en">' in client.get(survey).get_data(as_text=True)


def test_valid_submission_redirects_and_is_counted(
    client: FlaskClient, survey: str, session: Session
) -> None:
    page = SurveyPage(client, survey)
    result = page.post(full_answers(5) | {"S17": 2, "E03": 3}, comment="Cần thêm ghế chờ")
    assert result.status_code == 302
    assert result.headers["Location"].endswith(f"{survey}/thanks")
    assert stored(session) == 1
    assert stored(session, Answer) == 21
    assert session.scalar(select(func.sum(AnswerCount.count))) == 21
    assert session.scalar(select(Comment.body)) == "Cần thêm ghế chờ"
    thanks = client.get(result.headers["Location"]).get_data(as_text=True)
    receipt = session.scalar(select(Response.receipt_code))
    assert "Cảm ơn bạn đã đánh giá!" in thanks
    assert receipt in thanks


def test_double_submit_stores_one_response(
    client: FlaskClient, survey: str, session: Session
) -> None:
    page = SurveyPage(client, survey)
    first = page.post(full_answers())
    second = page.post(full_answers())
    assert first.status_code == second.status_code == 302
    assert stored(session) == 1
    # Back, then send again on a page the browser fetched anew (a new key): still one.
    assert SurveyPage(client, survey).post(full_answers()).status_code == 302
    assert stored(session) == 1
    # Other answers from the same phone are another rating.
    assert SurveyPage(client, survey).post(full_answers(2)).status_code == 302
    assert stored(session) == 2


def test_same_answers_much_later_are_a_new_rating(database_url: str, session: Session) -> None:
    from datetime import timedelta

    from tests.conftest import NOW

    app = make_app(database_url)
    _, counter, _ = setup_counter(session)
    url = f"/s/{counter.active_token.token}"
    client = app.test_client()
    assert SurveyPage(client, url).post(full_answers()).status_code == 302
    app.config["CLOCK"] = lambda: NOW + timedelta(minutes=20)
    assert SurveyPage(client, url).post(full_answers()).status_code == 302
    app.extensions["surveyapp.engine"].dispose()
    assert stored(session) == 2


def test_missing_required_answer_reshows_form_and_stores_nothing(
    client: FlaskClient, survey: str, session: Session
) -> None:
    page = SurveyPage(client, survey)
    answers = full_answers(4)
    del answers["S20"]
    answers["S15"] = 2
    result = page.post(answers, comment="giữ lại ý kiến này")
    html = result.get_data(as_text=True)
    assert result.status_code == 422
    assert 'id="error-summary"' in html
    assert 'href="#q_S20"' in html
    assert 'id="q_S20-err">Vui lòng chọn một câu trả lời.' in html
    assert 'aria-describedby="q_S20-err"' in html
    # What the citizen already answered is kept.
    assert 'id="q_S15-2" value="2" checked' in html
    assert "giữ lại ý kiến này" in html
    assert stored(session) == 0


def test_every_unanswered_question_is_marked_at_once(
    client: FlaskClient, survey: str, session: Session
) -> None:
    answers = full_answers(4)
    for code in ("S16", "S27", "OVR"):
        del answers[code]
    html = SurveyPage(client, survey).post(answers | {"S18": "x"}).get_data(as_text=True)
    for code in ("S16", "S27", "OVR", "S18"):
        assert f'href="#q_{code}"' in html
        assert f'id="q_{code}-err"' in html
    assert stored(session) == 0


@pytest.mark.parametrize("value", ["6", "abc", "-1", "٣", "1e3", ""])
def test_bad_answer_values_are_refused(
    client: FlaskClient, survey: str, session: Session, value: str
) -> None:
    page = SurveyPage(client, survey)
    result = page.post(full_answers() | {"S15": value})
    assert result.status_code == 422
    assert 'id="q_S15-err"' in result.get_data(as_text=True)
    assert stored(session) == 0


def test_messages_follow_the_language(client: FlaskClient, survey: str, session: Session) -> None:
    page = SurveyPage(client, f"{survey}?lang=en")
    answers = full_answers()
    del answers["OVR"]
    html = page.post(answers).get_data(as_text=True)
    assert "Please choose an answer." in html
    assert stored(session) == 0


def test_overlong_comment_is_refused(client: FlaskClient, survey: str, session: Session) -> None:
    result = SurveyPage(client, survey).post(full_answers(), comment="x" * 2345)
    assert result.status_code == 422
    page = result.get_data(as_text=True)
    # The citizen learns by how much: the typed length and the limit.
    assert "Ý kiến dài 2345 ký tự; tối đa 2000 ký tự." in page
    # Without JavaScript the browser moves to the error summary, which a screen reader reads.
    assert 'id="error-summary" autofocus' in page
    assert stored(session) == 0


def test_unknown_dossier_code_is_explained(
    client: FlaskClient, survey: str, session: Session
) -> None:
    result = SurveyPage(client, survey).post(full_answers(), dossier_code="hs-khong-co")
    html = result.get_data(as_text=True)
    assert result.status_code == 422
    assert "Không tìm thấy mã hồ sơ này tại đơn vị" in html
    assert 'value="HS-KHONG-CO"' in html
    assert stored(session) == 0


def test_honeypot_gets_thanks_but_stores_nothing(
    client: FlaskClient, survey: str, session: Session
) -> None:
    result = SurveyPage(client, survey).post(full_answers(), website="http://spam.example")
    assert result.status_code == 302
    assert stored(session) == 0


def test_unknown_token_gets_a_friendly_404(client: FlaskClient, survey: str) -> None:
    for url in ("/s/doesnotexist1234", "/s/x", "/s/" + "a" * 200, "/s/bad%20token!!"):
        result = client.get(url)
        assert result.status_code == 404
        assert "Không tìm thấy" in result.get_data(as_text=True) or "không tồn tại" in (
            result.get_data(as_text=True)
        )


def test_retired_token_gets_a_friendly_404(
    client: FlaskClient, survey: str, session: Session
) -> None:
    from surveyapp.models import CounterToken

    token = session.scalars(select(CounterToken)).one()
    token.retired_at = utcnow()
    session.commit()
    result = client.get(survey)
    assert result.status_code == 404
    assert "Mã QR này đã ngừng sử dụng" in result.get_data(as_text=True)


def test_closed_campaign_is_410(client: FlaskClient, survey: str, session: Session) -> None:
    from surveyapp.models import Campaign

    campaign = session.scalars(select(Campaign)).one()
    campaign.ends_on = date(2026, 5, 31)
    session.commit()
    result = client.get(survey)
    assert result.status_code == 410
    assert "Đợt khảo sát tại quầy này đã kết thúc" in result.get_data(as_text=True)


def test_missing_csrf_token_keeps_answers(
    client: FlaskClient, survey: str, session: Session
) -> None:
    page = SurveyPage(client, survey)
    page.csrf = "forged"
    result = page.post(full_answers(3), comment="vẫn còn đây")
    html = result.get_data(as_text=True)
    assert result.status_code == 400
    assert "Phiên làm việc đã hết hạn" in html
    assert 'id="q_S15-3" value="3" checked' in html
    assert "vẫn còn đây" in html
    assert stored(session) == 0
    # Sending again from the re-shown form works.
    retry = SurveyPage(client, survey, html=html)
    assert retry.key == page.key
    assert retry.csrf != "forged"
    assert retry.post(full_answers(3)).status_code == 302
    assert stored(session) == 1


def test_oversized_body_is_413(client: FlaskClient, survey: str, session: Session) -> None:
    page = SurveyPage(client, survey)
    result = page.post(full_answers(), comment="x" * 70_000)
    assert result.status_code == 413
    assert "vượt quá giới hạn" in result.get_data(as_text=True)
    assert stored(session) == 0


def test_invalid_utf8_is_refused(client: FlaskClient, survey: str, session: Session) -> None:
    page = SurveyPage(client, survey)
    body = f"csrf_token={page.csrf}&idempotency_key={page.key}&q_S15=%FF%FE&comment=%C3%28"
    result = client.post(survey, data=body, content_type="application/x-www-form-urlencoded")
    assert 400 <= result.status_code < 500
    assert stored(session) == 0


def test_csrf_protection_is_on(database_url: str, session: Session) -> None:
    app: Flask = make_app(database_url)
    _, counter, _ = setup_counter(session)
    result = app.test_client().post(
        f"/s/{counter.active_token.token}",
        data={f"q_{k}": v for k, v in full_answers().items()} | {"idempotency_key": "k" * 24},
    )
    app.extensions["surveyapp.engine"].dispose()
    assert result.status_code == 400
    assert stored(session) == 0


def test_page_is_light_and_self_contained(client: FlaskClient, survey: str) -> None:
    html = client.get(survey).get_data()
    with client.get("/static/css/app.css") as response:
        css = response.get_data()
    with client.get("/static/js/survey.js") as response:
        js = response.get_data()
    assert len(html) + len(css) + len(js) < 60 * 1024
    for body in (html, css, js):
        # No request leaves the site: no absolute URLs to other hosts, no protocol-relative ones.
        assert b"http://" not in body.replace(b"http://localhost", b"")
        assert b"https://" not in body
        assert b'src="//' not in body
        assert b'href="//' not in body


def test_a_change_in_this_process_reaches_the_cached_counter_at_once(
    client: FlaskClient, survey: str, session: Session
) -> None:
    from surveyapp.models import Campaign, CounterToken

    assert client.get(survey).status_code == 200  # the counter's target is now cached
    campaign = session.scalars(select(Campaign)).one()
    campaign.is_closed = True
    session.commit()
    assert client.get(survey).status_code == 410
    campaign.is_closed = False
    session.commit()
    page = SurveyPage(client, survey)
    assert page.response.status_code == 200
    session.scalars(select(CounterToken)).one().retired_at = utcnow()
    session.commit()
    result = page.post(full_answers(4))  # a form opened before the change is refused on send
    assert result.status_code == 404
    assert "Mã QR này đã ngừng sử dụng" in result.get_data(as_text=True)
    assert stored(session) == 0


def test_another_worker_sees_a_retired_token_within_the_cache_age(
    app: Flask, database_url: str, survey: str
) -> None:
    """Each worker keeps its own cache: a change made elsewhere shows within its age."""
    from surveyapp.models import CounterToken

    caches = app.extensions["surveyapp.caches"]
    clock = [1000.0]
    caches.timer = lambda: clock[0]
    client = app.test_client()
    assert client.get(survey).status_code == 200
    other = make_app(database_url)  # another gunicorn worker, with its own cache
    with other.extensions["surveyapp.sessionmaker"]() as elsewhere:
        elsewhere.scalars(select(CounterToken)).one().retired_at = utcnow()
        elsewhere.commit()
    other.extensions["surveyapp.engine"].dispose()
    assert client.get(survey).status_code == 200  # still within SURVEY_TARGET_CACHE_SECONDS
    clock[0] += app.config["SURVEY_TARGET_CACHE_SECONDS"]
    assert client.get(survey).status_code == 404


def test_a_cached_counter_stops_on_the_campaigns_last_day(
    app: Flask, client: FlaskClient, survey: str, session: Session
) -> None:
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from surveyapp.models import Campaign

    local = ZoneInfo(app.config["TIMEZONE"])
    last_day = session.scalars(select(Campaign)).one().ends_on
    app.config["CLOCK"] = lambda: datetime.combine(last_day, time(23, 50), tzinfo=local)
    page = SurveyPage(client, survey)
    assert page.response.status_code == 200
    next_day = last_day + timedelta(days=1)
    app.config["CLOCK"] = lambda: datetime.combine(next_day, time(0, 5), tzinfo=local)
    assert client.get(survey).status_code == 410
    result = page.post(full_answers(4))
    assert result.status_code == 410
    assert stored(session) == 0

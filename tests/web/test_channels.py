"""Kiosk tablets, signed dossier links, rate limits and the fetch (offline-queue) protocol."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import Channel, Response, Stream
from surveyapp.services.org.links import dossier_token
from tests.conftest import NOW, SurveyPage, make_app, redis_url
from tests.factories import full_answers, make_dossier, setup_counter

SECRET = "test-secret-key-0123456789"


def stored(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Response))


@pytest.fixture
def counter_token(session: Session) -> str:
    _, counter, _ = setup_counter(session)
    return counter.active_token.token


def test_kiosk_gives_each_citizen_a_clean_form(
    client: FlaskClient, counter_token: str, session: Session
) -> None:
    url = f"/k/{counter_token}"
    page = SurveyPage(client, url)
    assert 'class="kiosk"' in page.html
    assert 'data-persist="false"' in page.html
    assert "data-idle=" in page.html
    assert page.response.headers["Cache-Control"] == "no-store"
    done = page.post(full_answers(2), comment="người trước")
    assert done.status_code == 302
    receipt = session.scalars(select(Response.receipt_code)).one()
    thanks = client.get(done.headers["Location"]).get_data(as_text=True)
    # A receipt is shown for KIOSK_RECEIPT_SECONDS (time to note it), not the bare reset's 8 s.
    assert f'content="45;url=/k/{counter_token}?lang=vi"' in thanks
    assert receipt in thanks
    # The kiosk names the look-up page but links nowhere the next citizen could follow.
    assert 'href="/tra-cuu' not in thanks
    # Each blank form posts to a path of its own, so Back never restores another visit's answers.
    assert re.search(rf'action="/k/{counter_token}/v/[\w-]+"', page.html)
    # The next citizen on the same tablet (same cookie) gets an empty form and a new key.
    after = SurveyPage(client, url)
    assert receipt not in client.get(done.headers["Location"]).get_data(as_text=True)
    assert after.key != page.key
    assert " checked" not in after.html
    assert "người trước" not in after.html
    assert after.post(full_answers(4)).status_code == 302
    assert stored(session) == 2
    channels = set(session.scalars(select(Response.channel)))
    assert channels == {Channel.KIOSK}


def test_fetch_submission_answers_json_and_stores_once(
    client: FlaskClient, counter_token: str, session: Session
) -> None:
    page = SurveyPage(client, f"/s/{counter_token}")
    data = {"csrf_token": page.csrf, "idempotency_key": page.key}
    data |= {f"q_{k}": v for k, v in full_answers().items()}
    headers = {"X-Survey-Fetch": "1"}
    first = client.post(page.url, data=data, headers=headers)
    again = client.post(page.url, data=data, headers=headers)  # the queued copy, sent again
    assert first.status_code == again.status_code == 200
    assert first.json == {"redirect": f"/s/{counter_token}/thanks"}
    assert stored(session) == 1


@pytest.fixture
def official(session: Session):
    unit, _, campaign = setup_counter(session)
    campaign.stream = Stream.OFFICIAL
    dossier = make_dossier(session, unit, "HS-LINK-1")
    session.commit()
    return dossier


def test_dossier_link_rates_then_revises(client: FlaskClient, official, session: Session) -> None:
    url = f"/d/{dossier_token(SECRET, official)}"
    page = SurveyPage(client, url)
    assert page.response.status_code == 200
    assert "HS-LINK-1" in page.html
    assert 'name="dossier_code"' not in page.html
    assert page.post(full_answers(2), comment="chờ lâu").status_code == 302
    response = session.scalars(select(Response)).one()
    assert (response.channel, response.stream) == (Channel.LINK, Stream.OFFICIAL)
    assert response.dossier_id == official.id
    # Opening the link again shows the earlier rating, to revise it.
    again = SurveyPage(client, url)
    assert "Bạn đã đánh giá hồ sơ này" in again.html
    assert 'id="q_S15-2" value="2" checked' in again.html
    assert "chờ lâu" in again.html
    assert again.post(full_answers(5)).status_code == 302
    session.expire_all()
    assert stored(session) == 1
    assert {a.value for a in session.scalars(select(Response)).one().answers} == {5}


def test_dossier_link_after_the_revision_window(
    database_url: str, official, session: Session
) -> None:
    app = make_app(database_url)
    url = f"/d/{dossier_token(SECRET, official)}"
    client = app.test_client()
    assert SurveyPage(client, url).post(full_answers()).status_code == 302
    app.config["CLOCK"] = lambda: NOW + timedelta(hours=80)
    result = SurveyPage(client, url).post(full_answers(1))
    app.extensions["surveyapp.engine"].dispose()
    assert result.status_code == 410
    assert "đã hết thời hạn sửa đánh giá" in result.get_data(as_text=True)


def test_tampered_and_expired_links_explain_themselves(
    database_url: str, official, session: Session
) -> None:
    app = make_app(database_url)
    client = app.test_client()
    token = dossier_token(SECRET, official)
    tampered = client.get(f"/d/{token[:-3]}abc")
    other_key = client.get(f"/d/{dossier_token('another-secret-key-xyz', official)}")
    app.config["CLOCK"] = lambda: NOW
    app.config["DOSSIER_LINK_MAX_AGE_DAYS"] = -1
    expired = client.get(f"/d/{token}")
    app.extensions["surveyapp.engine"].dispose()
    assert tampered.status_code == other_key.status_code == 404
    assert "Liên kết đánh giá không hợp lệ" in tampered.get_data(as_text=True)
    assert expired.status_code == 410
    assert "đã hết hạn" in expired.get_data(as_text=True)


def test_no_open_official_campaign_is_410(client: FlaskClient, session: Session) -> None:
    unit, _, _ = setup_counter(session)  # only a general campaign
    dossier = make_dossier(session, unit, "HS-GEN")
    session.commit()
    result = client.get(f"/d/{dossier_token(SECRET, dossier)}")
    assert result.status_code == 410


def test_rate_limit_per_client_is_429_but_others_go_on(database_url: str, session: Session) -> None:
    app = make_app(database_url, SUBMIT_LIMIT_CLIENT="2 per minute")
    _, counter, _ = setup_counter(session)
    url = f"/s/{counter.active_token.token}"
    citizen, neighbour = app.test_client(), app.test_client()
    codes = [SurveyPage(citizen, url).post(full_answers(level)).status_code for level in (3, 4, 5)]
    # Another phone behind the same office address is not locked out.
    other = SurveyPage(neighbour, url).post(full_answers()).status_code
    app.extensions["surveyapp.engine"].dispose()
    assert codes == [302, 302, 429]
    assert other == 302
    assert stored(session) == 3


def test_rate_limit_per_counter(database_url: str, session: Session) -> None:
    app = make_app(database_url, SUBMIT_LIMIT_COUNTER="2 per minute")
    _, counter, _ = setup_counter(session)
    url = f"/s/{counter.active_token.token}"
    codes = [SurveyPage(app.test_client(), url).post(full_answers()).status_code for _ in range(3)]
    page = app.test_client().get(url)  # reading the form is never limited
    app.extensions["surveyapp.engine"].dispose()
    assert codes == [302, 302, 429]
    assert page.status_code == 200


def test_limits_use_redis_when_configured(database_url: str, session: Session) -> None:
    store = redis_url()
    prefix_secret = f"redis-test-{id(session)}-0123456789"
    settings = {
        "REDIS_URL": store,
        "SUBMIT_LIMIT_COUNTER": "1 per minute",
        "SECRET_KEY": prefix_secret,
    }
    _, counter, _ = setup_counter(session)
    url = f"/s/{counter.active_token.token}"
    first, second = make_app(database_url, **settings), make_app(database_url, **settings)
    try:
        # Two app processes (workers) share the count through Redis.
        assert SurveyPage(first.test_client(), url).post(full_answers()).status_code == 302
        assert SurveyPage(second.test_client(), url).post(full_answers()).status_code == 429
    finally:
        for app in (first, second):
            app.extensions["surveyapp.engine"].dispose()

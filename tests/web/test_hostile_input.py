"""Input an attacker sends: NUL characters, files where text is expected, redirects elsewhere.

Each answers a 4xx with a message and stores nothing, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import ApiToken, Case, Comment, Counter, Response
from tests.conftest import AuthActions, SurveyPage, signed_in
from tests.factories import full_answers, submit_response

NUL = "\x00"


def survey_url(world: dict) -> str:
    return f"/s/{world['counters']['P.D1'].active_token.token}"


def count(session: Session, model: Any = Response) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "extra",
    [
        {"comment": f"Chờ lâu{NUL}"},
        {"contact": f"0912{NUL}345678", "comment": "x"},
        {"dossier_code": f"HS{NUL}1"},
        {"idempotency_key": f"k{NUL}" + "a" * 30},
        {f"q_S15{NUL}": "4"},
    ],
    ids=["comment", "contact", "dossier", "key", "field-name"],
)
def test_a_nul_in_a_survey_field_is_refused(
    app: Flask, world: dict, session: Session, extra: dict[str, str]
) -> None:
    page = SurveyPage(app.test_client(), survey_url(world))
    result = page.post(full_answers(), **extra)
    assert result.status_code == 400
    assert "NUL" in result.get_data(as_text=True)
    assert count(session) == 0
    assert count(session, Comment) == 0


def test_a_nul_in_the_sign_in_form_is_refused(app: Flask, world: dict) -> None:
    auth = AuthActions(app.test_client())
    result = auth.login(f"par@x.vn{NUL}")
    assert result.status_code == 400
    assert "NUL" in result.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        f"/dashboard/units/P{NUL}",
        f"/dashboard/units/P?period=2026&field=F{NUL}",
        f"/dashboard/units/P?period=2026&instrument=C{NUL}",
        f"/dashboard/units/P/ranking?period=2026{NUL}",
        f"/dashboard/inbox?q=th{NUL}u",
        f"/dashboard/inbox?unit=P{NUL}",
        f"/dashboard/inbox?element=TC{NUL}",
        f"/dashboard/counters/P.D1-Q1{NUL}/qr.png",
        f"/dashboard/paper?paper-counter=P.D1-Q1{NUL}",
        f"/api/v1/units/P{NUL}/indices?period=2026",
        f"/api/v1/units/P/indices?period=2026&field={NUL}",
        f"/tra-cuu?code=ABCD{NUL}EFGH",
        f"/s/abcdefgh{NUL}",
    ],
)
def test_a_nul_in_a_path_or_parameter_is_refused(app: Flask, world: dict, path: str) -> None:
    auth = signed_in(app)
    result = auth.client.get(path)
    assert result.status_code == 400, path
    if path.startswith("/api/"):
        assert result.get_json()["error"]["code"] == 400
        assert "NUL" in result.get_json()["error"]["message"]


def test_a_nul_in_an_officials_form_stores_nothing(
    app: Flask, world: dict, session: Session
) -> None:
    auth = signed_in(app)
    token = auth.csrf()
    made = auth.client.post(
        "/dashboard/counters",
        data={"csrf_token": token, "unit": "P.D1", "code": f"Q{NUL}9", "name": "Quầy 9"},
    )
    assert made.status_code == 400
    named = auth.client.post("/dashboard/tokens", data={"csrf_token": token, "name": f"a{NUL}"})
    assert named.status_code == 400
    assert count(session, Counter) == 3
    assert count(session, ApiToken) == 0


@pytest.mark.parametrize("field", ["comment", "contact", "dossier_code", "idempotency_key"])
def test_a_file_where_the_survey_expects_text_is_refused(
    app: Flask, world: dict, session: Session, field: str
) -> None:
    page = SurveyPage(app.test_client(), survey_url(world))
    data = {"csrf_token": page.csrf, "idempotency_key": page.key}
    data.update({f"q_{code}": value for code, value in full_answers().items()})
    data[field] = (io.BytesIO(b"hello"), "x.txt")
    result = page.client.post(page.url, data=data, content_type="multipart/form-data")
    assert result.status_code == 400
    assert "không nhận tệp" in result.get_data(as_text=True)
    assert count(session) == 0


@pytest.mark.parametrize("field", ["email", "password"])
def test_a_file_in_the_sign_in_form_is_refused(app: Flask, world: dict, field: str) -> None:
    client = app.test_client()
    auth = AuthActions(client)
    token = auth.csrf("/auth/login")
    data: dict[str, Any] = {"csrf_token": token, "email": "par@x.vn", "password": "x" * 12}
    data[field] = (io.BytesIO(b"par@x.vn"), "e.txt")
    result = client.post("/auth/login", data=data, content_type="multipart/form-data")
    assert result.status_code == 400


def test_a_file_under_another_name_on_an_upload_page_is_refused(
    app: Flask, world: dict, session: Session
) -> None:
    auth = signed_in(app)
    csv = b"code,name,level,parent_code\nP.D2.Z,X\xc3\xa3 Z,commune,P.D2\n"
    result = auth.client.post(
        "/dashboard/units/upload",
        data={
            "csv-csrf_token": auth.csrf(),
            "csv-file": (io.BytesIO(csv), "u.csv"),
            "other": (io.BytesIO(b"x"), "o.csv"),
        },
        content_type="multipart/form-data",
    )
    assert result.status_code == 400


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/dashboard/\r\nSet-Cookie: a=b",
        "javascript:alert(1)",
    ],
)
def test_back_links_stay_on_the_site(app: Flask, world: dict, session: Session, back: str) -> None:
    response = submit_response(session, world["counters"]["P.D1"], comment="ý kiến")
    case_id = session.scalar(select(Case.id).where(Case.response_id == response.id))
    auth = signed_in(app)
    token = auth.csrf()
    bulk = auth.client.post(
        "/dashboard/inbox/bulk",
        data={"csrf_token": token, "action": "close", "ids": str(case_id), "back": back},
    )
    assert bulk.status_code == 303
    assert bulk.headers["Location"] == "/dashboard/inbox"
    status = auth.client.post(
        f"/dashboard/responses/{response.id}/status",
        data={"csrf_token": token, "status": "spam", "back": back},
    )
    assert status.status_code == 303
    assert status.headers["Location"] == "/dashboard/inbox"
    kept = auth.client.post(
        "/dashboard/inbox/bulk",
        data={
            "csrf_token": token,
            "action": "close",
            "ids": str(case_id),
            "back": "/dashboard/x?a=1",
        },
    )
    assert kept.headers["Location"] == "/dashboard/x?a=1"


@pytest.mark.parametrize("target", ["https://evil.example", "/dashboard/\r\nX: y", "/\\evil"])
def test_sign_in_never_sends_the_official_elsewhere(app: Flask, world: dict, target: str) -> None:
    client = app.test_client()
    auth = AuthActions(client)
    token = auth.csrf("/auth/login")
    result = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"csrf_token": token, "email": "par@x.vn", "password": "mat-khau-thu-nghiem-1"},
    )
    assert result.status_code == 302
    assert result.headers["Location"] == "/dashboard/"


def test_a_key_replayed_at_another_counter_stores_nothing_and_acknowledges_nothing(
    app: Flask, world: dict, session: Session
) -> None:
    here = f"/s/{world['counters']['P.D1'].active_token.token}"
    there = f"/s/{world['counters']['P.D2'].active_token.token}"
    client = app.test_client()
    first = SurveyPage(client, here)
    assert first.post(full_answers(4)).status_code == 302
    receipt = session.scalars(select(Response.receipt_code)).one()
    elsewhere = SurveyPage(client, there)
    client_replay = client.post(
        there,
        data={
            "csrf_token": elsewhere.csrf,
            "idempotency_key": first.key,
            **{f"q_{code}": value for code, value in full_answers(1).items()},
        },
    )
    page = client_replay.get_data(as_text=True)
    assert client_replay.status_code == 409
    assert "đã được gửi từ một trang khác" in page
    assert receipt not in page
    assert count(session) == 1
    # The page carries a new key: sending it again stores the answers at this counter.
    again = SurveyPage(client, there, html=page)
    assert again.key != first.key
    assert again.post(full_answers(1)).status_code == 302
    session.expire_all()
    counters = sorted(session.scalars(select(Response.counter_id)))
    assert counters == sorted([world["counters"]["P.D1"].id, world["counters"]["P.D2"].id])

"""Authorization matrix: each role × each dashboard route × own unit / other unit.

Another unit's objects answer 404 (their existence does not leak); an action the role may not
take answers 403; anonymous visitors are sent to sign in.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import Case, Response, Role, User
from tests.conftest import AuthActions
from tests.factories import build_world, make_user, submit_response

ROLES = ("admin", "par", "manager", "staff")


@pytest.fixture
def objects(session: Session) -> dict:
    world = build_world(session)
    make_user(session, "other@x.vn", Role.COUNTER_STAFF, world["units"]["d2"])
    session.commit()
    own = submit_response(session, world["counters"]["P.D1"], comment="own")
    other = submit_response(session, world["counters"]["P.D2"], comment="other")
    below = submit_response(session, world["counters"]["P.D1.X"], comment="below")

    def case_of(response: Response) -> int:
        return session.scalar(select(Case.id).where(Case.response_id == response.id))

    return {
        "world": world,
        "own_case": case_of(own),
        "other_case": case_of(other),
        "below_case": case_of(below),
        "own_response": own.id,
        "other_response": other.id,
        "own_counter": world["counters"]["P.D1"].code,
        "other_counter": world["counters"]["P.D2"].code,
        "other_user": session.scalar(select(User.id).where(User.email == "other@x.vn")),
    }


# (method, path template, expected status for admin, par, manager, staff)
MATRIX = [
    ("GET", "/dashboard/", 200, 200, 200, 200),
    ("GET", "/dashboard/inbox", 200, 200, 200, 200),
    ("GET", "/dashboard/inbox?unit=P.D1", 200, 200, 200, 200),
    ("GET", "/dashboard/inbox?unit=P.D2", 200, 200, 404, 404),
    ("GET", "/dashboard/cases/{own_case}", 200, 200, 200, 200),
    ("GET", "/dashboard/cases/{other_case}", 200, 200, 404, 404),
    ("GET", "/dashboard/cases/{below_case}", 200, 200, 200, 404),
    ("POST", "/dashboard/cases/{own_case}", 303, 303, 303, 403),
    ("POST", "/dashboard/cases/{other_case}", 303, 303, 404, 404),
    ("POST", "/dashboard/responses/{own_response}/status", 303, 303, 403, 403),
    ("POST", "/dashboard/responses/{other_response}/status", 303, 303, 403, 403),
    ("GET", "/dashboard/counters", 200, 200, 200, 403),
    ("GET", "/dashboard/counters/{own_counter}/qr.png", 200, 200, 200, 403),
    ("GET", "/dashboard/counters/{other_counter}/qr.png", 200, 200, 404, 403),
    ("POST", "/dashboard/counters/{own_counter}/rotate", 303, 303, 303, 403),
    ("POST", "/dashboard/counters/{other_counter}/rotate", 303, 303, 404, 403),
    ("POST", "/dashboard/inbox/bulk?ids={own_case}", 303, 303, 303, 403),
    ("POST", "/dashboard/inbox/bulk?ids={other_case}", 303, 303, 404, 403),
    ("GET", "/dashboard/users", 200, 200, 200, 403),
    ("GET", "/dashboard/units", 200, 200, 403, 403),
    ("GET", "/dashboard/fields", 200, 200, 403, 403),
    ("GET", "/dashboard/campaigns", 200, 200, 403, 403),
    ("GET", "/dashboard/instruments", 200, 200, 403, 403),
    ("GET", "/dashboard/imports", 200, 200, 403, 403),
    ("GET", "/dashboard/paper?paper-counter={own_counter}", 200, 200, 200, 403),
    ("GET", "/dashboard/paper?paper-counter={other_counter}", 200, 200, 404, 403),
    ("GET", "/auth/password", 200, 200, 200, 200),
    ("POST", "/dashboard/users/{other_user}", 303, 303, 404, 403),
    ("POST", "/dashboard/campaigns/C2026/close", 303, 303, 403, 403),
    ("POST", "/dashboard/counters/{other_counter}/retire", 303, 303, 404, 403),
    ("POST", "/dashboard/counters/{own_counter}/retire", 303, 303, 303, 403),
    ("GET", "/dashboard/units/P.D1?period=2026", 200, 200, 200, 200),
    ("GET", "/dashboard/units/P.D2?period=2026", 200, 200, 404, 404),
    ("GET", "/dashboard/units/P.D1.X?period=2026", 200, 200, 200, 404),
    ("GET", "/dashboard/units/P/ranking?period=2026", 200, 200, 404, 404),
    ("GET", "/dashboard/units/P.D1/ranking?period=2026", 200, 200, 200, 200),
    ("GET", "/dashboard/units/P.D1/tt01?period=2026", 200, 200, 200, 200),
    ("GET", "/dashboard/units/P.D2/tt01?period=2026", 200, 200, 404, 404),
    ("GET", "/dashboard/units/P.D1/report.pdf?period=2026", 200, 200, 200, 200),
    ("GET", "/dashboard/units/P.D2/report.pdf?period=2026", 200, 200, 404, 404),
    ("GET", "/api/v1/units", 200, 200, 200, 200),
    ("GET", "/api/v1/units/P.D1/indices?period=2026", 200, 200, 200, 200),
    ("GET", "/api/v1/units/P.D2/indices?period=2026", 200, 200, 404, 404),
    ("GET", "/dashboard/exports", 200, 200, 200, 200),
    ("GET", "/dashboard/tokens", 200, 200, 200, 200),
]


def form_for(path: str, objects: dict) -> dict[str, str]:
    if "/dashboard/users/" in path:
        return {"role": "counter_staff", "unit": "P.D2"}
    if "/responses/" in path:
        return {"status": "spam"}
    if "/inbox/bulk" in path:
        return {"action": "close", "ids": path.split("ids=")[1]}
    if "/cases/" in path:
        return {"action": "note", "note-note": "ghi chú kiểm tra"}
    return {}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_the_role(app: Flask, objects: dict, role: str) -> None:
    auth = AuthActions(app.test_client())
    assert auth.login(objects["world"]["users"][role].email).status_code == 302
    wrong = []
    for method, template, *expected in MATRIX:
        path = template.format(**objects)
        if method == "GET":
            result = auth.client.get(path)
        else:
            data = form_for(path, objects) | {"csrf_token": auth.csrf()}
            if "/cases/" in path:
                data["note-csrf_token"] = data["csrf_token"]
            result = auth.client.post(path.split("?")[0], data=data)
        want = expected[ROLES.index(role)]
        if result.status_code != want:
            wrong.append(f"{method} {template}: {result.status_code}, expected {want}")
    assert wrong == []


def test_bulk_on_another_units_case_changes_nothing(
    app: Flask, objects: dict, session: Session
) -> None:
    auth = AuthActions(app.test_client())
    auth.login("manager@x.vn")
    result = auth.client.post(
        "/dashboard/inbox/bulk",
        data={"action": "close", "ids": str(objects["other_case"]), "csrf_token": auth.csrf()},
    )
    assert result.status_code == 404
    session.expire_all()
    assert session.get(Case, objects["other_case"]).status.value == "new"


def test_listings_show_only_the_scope(app: Flask, objects: dict) -> None:
    for role, visible in (
        ("admin", {"own", "other", "below"}),
        ("manager", {"own", "below"}),
        ("staff", {"own"}),
    ):
        auth = AuthActions(app.test_client())
        auth.login(objects["world"]["users"][role].email)
        page = auth.client.get("/dashboard/inbox").get_data(as_text=True)
        shown = {word for word in ("own", "other", "below") if f">{word}</a>" in page}
        assert shown == visible, role
        counters = auth.client.get("/dashboard/counters").get_data(as_text=True)
        if role == "manager":
            assert "P.D2-Q1" not in counters
            assert "P.D1-Q1" in counters


def test_anonymous_is_sent_to_sign_in(client, objects: dict) -> None:
    for method, template, *_ in MATRIX:
        path = template.format(**objects).split("?")[0]
        result = client.get(path) if method == "GET" else client.post(path)
        if path.startswith("/api/"):  # the API answers 401, never a sign-in page
            assert result.status_code == 401, path
            continue
        assert result.status_code in (302, 400), path
        if result.status_code == 302:
            assert "/auth/login" in result.headers["Location"]

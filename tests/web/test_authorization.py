"""Authorization matrix: each role × each dashboard route × own unit / other unit.

Another unit's objects answer 404 (their existence does not leak); an action the role may not
take answers 403; anonymous visitors are sent to sign in.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import Case, Instrument, Response, Role, Unit, UnitLevel, User
from tests.conftest import AuthActions, export_responses_csv, post_import
from tests.factories import build_world, make_par_scheme, make_unit, make_user, submit_response

ROLES = ("admin", "par", "manager", "staff")


@pytest.fixture
def objects(session: Session) -> dict:
    world = build_world(session)
    make_user(session, "other@x.vn", Role.COUNTER_STAFF, world["units"]["d2"])
    # Another province, outside every official's scope but the admin's.
    q = make_unit(session, "Q", name="Tỉnh Q")
    make_unit(session, "Q.D1", name="Huyện Q1", level=UnitLevel.DISTRICT, parent=q)
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
    ("GET", "/dashboard/flagged", 200, 200, 200, 200),
    ("GET", "/dashboard/flagged?unit=P.D2", 200, 200, 404, 404),
    ("POST", "/dashboard/responses/{own_response}/flag", 303, 303, 403, 403),
    ("POST", "/dashboard/responses/{other_response}/flag", 303, 303, 403, 403),
]


def form_for(path: str, objects: dict) -> dict[str, str]:
    if "/dashboard/users/" in path:
        return {"role": "counter_staff", "unit": "P.D2"}
    if path.endswith("/flag"):
        return {"flagged": "1"}
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


# --- Uploads and imports: every role, rows inside and outside the scope ---------------------

ITEMS = ",".join(f"S{i}" for i in range(15, 34))


def answers_row(unit: str, day: str) -> str:
    return f"{unit},2026-03-{day}," + ",".join(["4"] * 19)


def units_upload(text: str) -> Callable[[AuthActions, Session], Any]:
    def send(auth: AuthActions, session: Session) -> Any:
        return auth.client.post(
            "/dashboard/units/upload",
            data={"csv-csrf_token": auth.csrf(), "csv-file": (io.BytesIO(text.encode()), "u.csv")},
            content_type="multipart/form-data",
        )

    return send


def responses_import(*rows: str) -> Callable[[AuthActions, Session], Any]:
    def send(auth: AuthActions, session: Session) -> Any:
        text = f"unit_code,submitted_at,{ITEMS}\n" + "\n".join(rows) + "\n"
        return post_import(auth, session, text.encode())

    return send


def instrument_upload(auth: AuthActions, session: Session) -> Any:
    text = (
        "code: TINH\nversion: 1\nname: {vi: Phiếu tỉnh}\n"
        "scale: {min: 1, max: 5, satisfied: [4, 5], labels: {vi: [a, b, c, d, e]}}\n"
        "domains:\n  - code: DV\n    name: {vi: Dịch vụ}\n    elements:\n"
        "      - code: CB\n        name: {vi: Cán bộ}\n        items:\n"
        "          - {code: T01, text: {vi: Lịch sự}}\n"
    )
    return auth.client.post(
        "/dashboard/instruments",
        data={"csrf_token": auth.csrf(), "file": (io.BytesIO(text.encode()), "tinh.yaml")},
        content_type="multipart/form-data",
    )


def scores_export_with_appraisal(auth: AuthActions, session: Session) -> Any:
    # Appraisal points are added to survey points, so the communes' PAR settings must exist.
    commune = {
        "level": "commune",
        "appraisal_max": 70,
        "criteria": [{"code": "S", "max_points": 30}],
    }
    make_par_scheme(session, **commune)
    appraisal = "unit_code,appraisal_points\nP.D1,60\n"
    return auth.client.post(
        "/dashboard/exports",
        data={
            "kind": "scores",
            "scores-csrf_token": auth.csrf(),
            "scores-unit": "P.D1",
            "scores-level": "commune",
            "scores-period": "2026",
            "scores-stream": "all",
            "scores-format": "csv",
            "scores-appraisal": (io.BytesIO(appraisal.encode()), "a.csv"),
        },
        content_type="multipart/form-data",
    )


def unit_row(session: Session, code: str) -> tuple[str, int | None] | None:
    session.expire_all()
    unit = session.scalar(select(Unit).where(Unit.code == code))
    return None if unit is None else (unit.name, unit.parent_id)


def responses_at(session: Session, code: str) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(Response).join(Unit).where(Unit.code == code)
    )


# (name, request, expected status for admin, par, manager, staff, what must hold after it)
UPLOADS: list[tuple[str, Callable[..., Any], tuple[int, ...], Callable[[Session, int], bool]]] = [
    (
        "units inside the scope",
        units_upload("code,name,level,parent_code\nP.D2.Z,Xã Z,commune,P.D2\n"),
        (303, 303, 403, 403),
        lambda s, code: (unit_row(s, "P.D2.Z") is not None) == (code == 303),
    ),
    (
        "renaming another province's unit",
        units_upload("code,name,level,parent_code\nQ.D1,Đổi tên,district,Q\n"),
        (303, 422, 403, 403),
        lambda s, code: (unit_row(s, "Q.D1")[0] == "Huyện Q1") == (code != 303),
    ),
    (
        "moving another province's unit into one's own",
        units_upload("code,name,level,parent_code\nQ.D1,Huyện Q1,district,P\n"),
        (303, 422, 403, 403),
        lambda s, code: (
            (unit_row(s, "Q.D1")[1] == s.scalar(select(Unit.id).where(Unit.code == "Q")))
            == (code != 303)
        ),
    ),
    (
        "a new province (a root unit)",
        units_upload("code,name,level,parent_code\nR,Tỉnh R,province,\n"),
        (303, 422, 403, 403),
        lambda s, code: (unit_row(s, "R") is not None) == (code == 303),
    ),
    (
        "one good row and one outside the scope: nothing stored",
        units_upload(
            "code,name,level,parent_code\nP.D2.W,Xã W,commune,P.D2\nQ.D1.W,Xã,commune,Q.D1\n"
        ),
        (303, 422, 403, 403),
        lambda s, code: (unit_row(s, "P.D2.W") is not None) == (code == 303),
    ),
    (
        "responses inside the scope",
        responses_import(answers_row("P.D1", "01")),
        (303, 303, 403, 403),
        lambda s, code: responses_at(s, "P.D1") == (2 if code == 303 else 1),
    ),
    (
        "responses at another province's unit",
        responses_import(answers_row("P.D1", "02"), answers_row("Q.D1", "03")),
        (303, 422, 403, 403),
        lambda s, code: responses_at(s, "Q.D1") == (1 if code == 303 else 0),
    ),
    (
        "an instrument",
        instrument_upload,
        (303, 303, 403, 403),
        lambda s, code: (
            (s.scalar(select(Instrument.id).where(Instrument.code == "TINH")) is not None)
            == (code == 303)
        ),
    ),
    (
        "a scores export with an appraisal file",
        scores_export_with_appraisal,
        (303, 303, 303, 303),
        lambda s, code: True,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "send", "expected", "holds"), UPLOADS, ids=[u[0] for u in UPLOADS]
)
def test_uploads_and_imports_for_the_role(
    app: Flask,
    objects: dict,
    session: Session,
    role: str,
    name: str,
    send: Callable[..., Any],
    expected: tuple[int, ...],
    holds: Callable[[Session, int], bool],
) -> None:
    auth = AuthActions(app.test_client())
    assert auth.login(objects["world"]["users"][role].email).status_code == 302
    result = send(auth, session)
    want = expected[ROLES.index(role)]
    assert result.status_code == want, result.get_data(as_text=True)[:2000]
    assert holds(session, result.status_code), name
    if want == 422:
        page = result.get_data(as_text=True)
        assert "không thuộc phạm vi của bạn" in page or "cấp cao nhất" in page


def test_child_rows_and_comments_follow_the_childs_own_scope(app: Flask, objects: dict) -> None:
    """Counter staff of D1 may open D1's pages but not its commune X's: X's row, link and comments
    stay off D1's ranking and dashboard, as X's own page answers 404. D1's manager sees them."""
    seen = {}
    for role in ("staff", "manager"):
        auth = AuthActions(app.test_client())
        auth.login(objects["world"]["users"][role].email)
        assert auth.client.get("/dashboard/units/P.D1.X?period=2026").status_code == (
            404 if role == "staff" else 200
        )
        ranking = auth.client.get("/dashboard/units/P.D1/ranking?period=2026")
        dashboard = auth.client.get("/dashboard/units/P.D1?period=2026")
        tt01 = auth.client.get("/dashboard/units/P.D1/tt01?period=2026")
        assert ranking.status_code == dashboard.status_code == tt01.status_code == 200
        seen[role] = (
            "Đơn vị P.D1.X" in ranking.get_data(as_text=True),
            "below" in dashboard.get_data(as_text=True),
            "/dashboard/units/P.D1/ranking" in dashboard.get_data(as_text=True),
        )
    assert seen == {"staff": (False, False, False), "manager": (True, True, True)}


@pytest.mark.parametrize(("role", "rows"), [("staff", 1), ("manager", 2)])
def test_exports_hold_only_the_units_of_the_scope(
    app: Flask, objects: dict, role: str, rows: int
) -> None:
    """D1's responses file holds commune X's responses for D1's manager, not for its staff."""
    auth = AuthActions(app.test_client())
    auth.login(objects["world"]["users"][role].email)
    _, lines = export_responses_csv(auth, "P.D1")
    assert len(lines) == 1 + rows
    assert all(",P.D1.X," not in line for line in lines) == (role == "staff")

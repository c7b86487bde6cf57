"""Sign-in, lockout, sign-out, password change and the idle timeout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import AuditEntry, Role, User
from tests.conftest import NOW, AuthActions, make_app
from tests.factories import make_unit, make_user


@pytest.fixture
def official(session: Session) -> User:
    unit = make_unit(session, "P")
    user = make_user(session, "canbo@example.vn", Role.UNIT_MANAGER, unit)
    session.commit()
    return user


def test_dashboard_requires_sign_in(client: FlaskClient) -> None:
    for path in ("/dashboard/", "/dashboard/inbox", "/dashboard/counters", "/auth/password"):
        result = client.get(path)
        assert result.status_code == 302
        assert "/auth/login" in result.headers["Location"]


def test_sign_in_and_out(client: FlaskClient, auth: AuthActions, official: User) -> None:
    result = auth.login("CanBo@Example.vn ")
    assert result.status_code == 302
    assert result.headers["Location"] == "/dashboard/"
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "canbo@example.vn" in page
    assert "Lãnh đạo đơn vị" in page
    assert auth.logout().status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_wrong_password_and_unknown_email_read_the_same(
    client: FlaskClient, auth: AuthActions, official: User
) -> None:
    wrong = auth.login("canbo@example.vn", "sai-mat-khau-123")
    unknown = auth.login("khongco@example.vn", "sai-mat-khau-123")
    assert wrong.status_code == unknown.status_code == 401
    assert "Email hoặc mật khẩu không đúng." in wrong.get_data(as_text=True)
    assert "Email hoặc mật khẩu không đúng." in unknown.get_data(as_text=True)


def test_lockout_after_repeated_failures(
    client: FlaskClient, auth: AuthActions, official: User, session: Session
) -> None:
    for _ in range(5):
        auth.login("canbo@example.vn", "sai-mat-khau-123")
    locked = auth.login("canbo@example.vn")  # even the right password waits
    assert locked.status_code == 401
    assert "Tài khoản tạm khóa" in locked.get_data(as_text=True)
    session.expire_all()
    user = session.scalars(select(User)).one()
    assert user.locked_until == NOW + timedelta(minutes=15)


def test_lock_expires(database_url: str, official: User) -> None:
    app = make_app(database_url)
    auth = AuthActions(app.test_client())
    for _ in range(5):
        auth.login("canbo@example.vn", "sai-mat-khau-123")
    app.config["CLOCK"] = lambda: NOW + timedelta(minutes=16)
    result = auth.login("canbo@example.vn")
    app.extensions["surveyapp.engine"].dispose()
    assert result.status_code == 302


def test_next_only_goes_to_this_site(
    client: FlaskClient, auth: AuthActions, official: User
) -> None:
    page = client.get("/auth/login?next=https://evil.example/x").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    result = client.post(
        "/auth/login?next=https://evil.example/x",
        data={
            "email": "canbo@example.vn",
            "password": "mat-khau-thu-nghiem-1",
            "csrf_token": token,
        },
    )
    assert result.headers["Location"] == "/dashboard/"


def test_password_change_signs_out_other_sessions(
    app: Flask, official: User, session: Session
) -> None:
    mine, other = AuthActions(app.test_client()), AuthActions(app.test_client())
    mine.login("canbo@example.vn")
    other.login("canbo@example.vn")
    token = mine.csrf("/auth/password")
    bad = mine.client.post(
        "/auth/password",
        data={
            "current": "sai",
            "password": "mat-khau-moi-12345",
            "confirm": "mat-khau-moi-12345",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    assert "Mật khẩu hiện tại không đúng." in bad.get_data(as_text=True)
    short = mine.client.post(
        "/auth/password",
        data={
            "current": "mat-khau-thu-nghiem-1",
            "password": "ngan",
            "confirm": "ngan",
            "csrf_token": token,
        },
    )
    assert short.status_code == 422
    good = mine.client.post(
        "/auth/password",
        data={
            "current": "mat-khau-thu-nghiem-1",
            "password": "mat-khau-moi-12345",
            "confirm": "mat-khau-moi-12345",
            "csrf_token": token,
        },
    )
    assert good.status_code == 302
    assert mine.client.get("/dashboard/").status_code == 200
    assert other.client.get("/dashboard/").status_code == 302
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.action == "user.password"))


def test_idle_session_is_signed_out(database_url: str, official: User) -> None:
    app = make_app(database_url)
    auth = AuthActions(app.test_client())
    auth.login("canbo@example.vn")
    app.config["CLOCK"] = lambda: NOW + timedelta(minutes=20)
    assert auth.client.get("/dashboard/").status_code == 200  # activity keeps it alive
    app.config["CLOCK"] = lambda: NOW + timedelta(minutes=51)
    result = auth.client.get("/dashboard/")
    app.extensions["surveyapp.engine"].dispose()
    assert result.status_code == 302
    assert "/auth/login" in result.headers["Location"]


def test_session_cookie_flags(database_url: str, official: User) -> None:
    app = make_app(database_url, SESSION_COOKIE_SECURE=True)
    result = AuthActions(app.test_client()).login("canbo@example.vn")
    app.extensions["surveyapp.engine"].dispose()
    cookie = result.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_login_without_csrf_token_is_refused(client: FlaskClient, official: User) -> None:
    result = client.post(
        "/auth/login", data={"email": "canbo@example.vn", "password": "mat-khau-thu-nghiem-1"}
    )
    assert result.status_code == 400


def test_create_user_command(app: Flask, session: Session) -> None:
    make_unit(session, "P")
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "Moi@Example.vn",
            "--role",
            "par_office",
            "--unit",
            "P",
            "--password-stdin",
        ],
        input="mat-khau-rat-dai-123\n",
    )
    assert result.exit_code == 0, result.output
    assert (
        AuthActions(app.test_client()).login("moi@example.vn", "mat-khau-rat-dai-123").status_code
        == 302
    )
    again = runner.invoke(
        args=[
            "create-user",
            "moi@example.vn",
            "--role",
            "admin",
            "--unit",
            "P",
            "--password-stdin",
        ],
        input="mat-khau-rat-dai-123\n",
    )
    assert again.exit_code == 1
    assert "Email này đã có tài khoản." in again.output
    weak = runner.invoke(
        args=["create-user", "b@example.vn", "--role", "admin", "--unit", "P", "--password-stdin"],
        input="ngan\n",
    )
    assert weak.exit_code == 1
    assert "ít nhất 10 ký tự" in weak.output
    nounit = runner.invoke(
        args=["create-user", "c@example.vn", "--role", "admin", "--unit", "X", "--password-stdin"],
        input="mat-khau-rat-dai-123\n",
    )
    assert nounit.exit_code == 1
    assert "Không có đơn vị X." in nounit.output

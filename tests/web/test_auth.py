"""Sign-in, lockout, sign-out, password change and the idle timeout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import AuditEntry, LoginFailure, Role, User
from tests.conftest import NOW, AuthActions, make_app, redis_url
from tests.factories import PASSWORD, make_unit, make_user


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


def refusal(result: Any) -> str:
    page = result.get_data(as_text=True)
    return page[page.index('class="error-summary"') :].split("</div>")[0]


def from_address(app: Flask, address: str) -> AuthActions:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(client)


def test_unknown_inactive_and_locked_accounts_read_the_same_and_cost_the_same(
    app: Flask, official: User, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One message, one status and exactly one password check (the costly part, so about the
    same time) whatever the cause: nobody learns which e-mails have accounts."""
    from argon2 import PasswordHasher

    from surveyapp.services.accounts import officials

    checks: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
            checks.append(str(password))
            return super().verify(hash, password)

    monkeypatch.setattr(
        officials, "_HASHER", CountingHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    inactive = make_user(session, "nghi@example.vn", Role.COUNTER_STAFF, official.unit)
    inactive.is_active = False
    session.commit()
    locked = from_address(app, "198.51.100.7")
    for _ in range(5):
        locked.login("canbo@example.vn", "sai-mat-khau-123")
    outcomes = {}
    for name, auth, email, password in (
        ("unknown", from_address(app, "198.51.100.8"), "khongco@example.vn", "x" * 12),
        ("inactive", from_address(app, "198.51.100.8"), "nghi@example.vn", PASSWORD),
        ("wrong", from_address(app, "198.51.100.8"), "canbo@example.vn", "sai-mat-khau-123"),
        ("locked", locked, "canbo@example.vn", PASSWORD),
    ):
        checks.clear()
        result = auth.login(email, password)
        outcomes[name] = (result.status_code, refusal(result), len(checks))
    assert len(set(outcomes.values())) == 1, outcomes
    status, text, hash_checks = outcomes["locked"]
    assert (status, hash_checks) == (401, 1)
    assert "Email hoặc mật khẩu không đúng" in text
    assert "tạm dừng 15 phút" in text


def test_a_lock_holds_for_the_client_that_failed_only(
    app: Flask, official: User, session: Session
) -> None:
    """Five wrong passwords from one address lock that address out of that account for the
    lockout time, even with the right password; the official signs in from their own desk."""
    attacker = from_address(app, "203.0.113.9")
    for _ in range(5):
        assert attacker.login("canbo@example.vn", "sai-mat-khau-123").status_code == 401
    assert attacker.login("canbo@example.vn").status_code == 401  # even the right password waits
    assert from_address(app, "192.0.2.10").login("canbo@example.vn").status_code == 302
    session.expire_all()
    (record,) = session.scalars(select(LoginFailure))
    assert record.locked_until == NOW + timedelta(minutes=15)
    assert "203.0.113.9" not in record.client  # a keyed hash, never the address


def test_lock_expires(database_url: str, official: User) -> None:
    app = make_app(database_url)
    auth = AuthActions(app.test_client())
    for _ in range(5):
        auth.login("canbo@example.vn", "sai-mat-khau-123")
    assert auth.login("canbo@example.vn").status_code == 401
    app.config["CLOCK"] = lambda: NOW + timedelta(minutes=16)
    result = auth.login("canbo@example.vn")
    app.extensions["surveyapp.engine"].dispose()
    assert result.status_code == 302


def test_a_cookie_captured_before_sign_out_no_longer_opens_the_dashboard(
    app: Flask, official: User
) -> None:
    auth = AuthActions(app.test_client())
    auth.login("canbo@example.vn")
    stolen = auth.client.get_cookie("session").value
    assert auth.logout().status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    result = thief.get("/dashboard/")
    assert result.status_code == 302
    assert "/auth/login" in result.headers["Location"]


def test_deactivation_ends_sessions_for_good(app: Flask, official: User, session: Session) -> None:
    """A deactivated official is out at once, and reactivating the account later does not bring
    the old session back."""
    admin = make_user(session, "qt@example.vn", Role.ADMIN, official.unit)
    session.commit()
    staff = AuthActions(app.test_client())
    staff.login("canbo@example.vn")
    cookie = staff.client.get_cookie("session").value
    boss = AuthActions(app.test_client())
    boss.login("qt@example.vn")
    for active in ("0", "1"):
        result = boss.client.post(
            f"/dashboard/users/{official.id}",
            data={"csrf_token": boss.csrf(), "role": "unit_manager", "unit": "P", "active": active},
        )
        assert result.status_code == 303
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/dashboard/").status_code == 302
    del admin


def test_the_sign_in_limit_stores_no_address(database_url: str, official: User) -> None:
    """Sign-in attempts are limited per address, under a keyed hash: Redis never holds the
    address itself."""
    import redis

    url = redis_url()
    store = redis.Redis.from_url(url)
    prefix = "surveyapp-login-test"  # the limiter keeps the first prefix it is given
    app = make_app(
        database_url,
        REDIS_URL=url,
        RATELIMIT_STORAGE_URI=url,
        RATELIMIT_KEY_PREFIX=prefix,
        LOGIN_LIMIT="2 per minute",
    )
    try:
        auth = from_address(app, "203.0.113.77")
        codes = [auth.login("canbo@example.vn", "sai-mat-khau-123").status_code for _ in range(3)]
        keys = [key.decode() for key in store.scan_iter(f"*{prefix}*")]
    finally:
        app.extensions["surveyapp.engine"].dispose()
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)
    assert codes == [401, 401, 429]
    assert keys
    assert not any("203.0.113.77" in key for key in keys), keys


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

"""Fixtures: an app per test on a real database (SQLite file, and PostgreSQL when reachable)."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveyapp import create_app
from surveyapp.db import Base

DEFAULT_PG_URL = "postgresql://root@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() == "true"


REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    """The local Redis, once it answers; skip if unreachable (fail with CI=true)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if IN_CI:
            pytest.fail(f"CI=true requires Redis at {REDIS_URL}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


NOW = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội, mid-year
SECRET = "test-secret-key-0123456789"


# Each test run works in its own schema of the test database, so two runs on one server (a
# developer's and CI's) never touch each other's tables.
PG_SCHEMA = f"run_{os.getpid()}"


def pg_server_url() -> str:
    from surveyapp.config import normalize_database_url

    return normalize_database_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL))


def pg_url() -> str:
    # public last: the unaccent extension's function lives there (see pg_engine).
    return f"{pg_server_url()}?options=-csearch_path%3D{PG_SCHEMA},public"


_pg_state: dict[str, Any] = {}


def pg_engine() -> sa.Engine:
    """One engine for the run, with the schema built once; skip (or fail in CI) if unreachable."""
    if "engine" in _pg_state:
        return _pg_state["engine"]  # type: ignore[no-any-return]
    if "error" in _pg_state:
        pytest.skip(_pg_state["error"])
    server = sa.create_engine(pg_server_url())
    try:
        with server.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{PG_SCHEMA}"'))
            # An extension belongs to one schema per database: keep unaccent in public, shared by
            # every run, so that no run's schema (dropped at its end, or left by a killed run)
            # takes it away from the others.
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public"))
            home = connection.scalar(
                sa.text(
                    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                    "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
                )
            )
            if home != "public":
                connection.execute(sa.text("ALTER EXTENSION unaccent SET SCHEMA public"))
    except sa.exc.OperationalError as exc:
        server.dispose()
        message = f"PostgreSQL not reachable at {pg_server_url()}: {exc.orig}"
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL. {message}")
        _pg_state["error"] = message
        pytest.skip(message)
    server.dispose()
    import surveyapp.models  # noqa: F401

    engine = sa.create_engine(pg_url())
    Base.metadata.create_all(engine)
    _pg_state["engine"] = engine
    return engine


def truncate_all(engine: sa.Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in list(os.environ):
        if name.startswith(("SURVEYAPP_", "FLASK_")) or name in ("DATABASE_URL", "SECRET_KEY"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path / "instance"))


_MADE: list[Flask] = []


@pytest.fixture(autouse=True)
def _no_stray_workers() -> Iterator[None]:
    """Every app a test made is closed with the test: no worker thread acts on the next test's
    data (the PostgreSQL schema is shared) and no connection is left for the garbage collector."""
    yield
    from surveyapp.queue import stop_embedded

    while _MADE:
        close_app(_MADE.pop())
    stop_embedded()


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with minimal cost in tests; production keeps the library's recommended profile."""
    from argon2 import PasswordHasher

    from surveyapp.services.accounts import officials

    monkeypatch.setattr(
        officials, "_HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = sa.create_engine(url)
        import surveyapp.models  # noqa: F401

        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
    else:
        engine = pg_engine()
        yield pg_url()
        truncate_all(engine)


def make_app(database_url: str, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "CLOCK": lambda: NOW,
    }
    config.update(overrides)
    app = create_app(config)
    _MADE.append(app)
    return app


def close_app(app: Flask) -> None:
    """Let in-process queue workers finish their jobs, then close the app's connections (again
    harmless)."""
    app.extensions["surveyapp.queue"].stop()
    app.extensions["surveyapp.engine"].dispose()


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url)
    yield app
    close_app(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session of the app's engine, outside any request; committed by the test when needed."""
    factory = app.extensions["surveyapp.sessionmaker"]
    with factory() as db:
        yield db


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
KEY_RE = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


class SurveyPage:
    """A GET of a survey page, with what a browser would post back."""

    def __init__(self, client: FlaskClient, url: str, html: str | None = None) -> None:
        """Load ``url``, or read a page already received (``html``) as the browser shows it."""
        self.client, self.url = client, url
        if html is None:
            self.response = client.get(url)
            html = self.response.get_data(as_text=True)
        self.html = html
        csrf, key = CSRF_RE.search(html), KEY_RE.search(html)
        self.csrf = csrf.group(1) if csrf else ""
        self.key = key.group(1) if key else ""

    def post(self, answers: dict[str, Any], **extra: Any) -> Any:
        data = {"csrf_token": self.csrf, "idempotency_key": self.key}
        data.update({f"q_{code}": value for code, value in answers.items()})
        data.update(extra)
        return self.client.post(self.url, data=data)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    engine = _pg_state.pop("engine", None)
    if engine is not None:
        engine.dispose()
        server = sa.create_engine(pg_server_url())
        with server.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
        server.dispose()


class AuthActions:
    """Sign in and out through the real forms (CSRF on)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = "mat-khau-thu-nghiem-1") -> Any:
        page = self.client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        return self.client.post(
            "/auth/login",
            data={
                "email": email,
                "password": password,
                "csrf_token": token.group(1) if token else "",
            },
        )

    def csrf(self, path: str = "/dashboard/") -> str:
        page = self.client.get(path).get_data(as_text=True)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        return found.group(1) if found else ""

    def logout(self) -> Any:
        return self.client.post("/auth/logout", data={"csrf_token": self.csrf()})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """Province P (districts D1 with commune X, and D2), counters, a campaign, one official per
    role: see tests.factories.build_world."""
    from tests.factories import build_world

    return build_world(session)


def signed_in(app: Flask, email: str = "par@x.vn") -> AuthActions:
    """A new browser signed in as ``email`` (factories' password)."""
    auth = AuthActions(app.test_client())
    assert auth.login(email).status_code == 302
    return auth


def post_import(auth: AuthActions, session: Session, content: bytes, name: str = "r.csv") -> Any:
    """Upload a responses file for the counter instrument on the imports page."""
    from surveyapp.models import Instrument

    instrument = session.scalar(sa.select(Instrument.id).where(Instrument.code == "COUNTER"))
    return auth.client.post(
        "/dashboard/imports",
        data={
            "csrf_token": auth.csrf(),
            "instrument": str(instrument),
            "stream": "general",
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def wait_for_job(auth: AuthActions, status_url: str, seconds: float = 20) -> str:
    """The export's status page once the job is done or failed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        html = auth.client.get(status_url).get_data(as_text=True)
        found = re.search(r'data-status="(\w+)"', html)
        if found and found.group(1) in ("done", "failed"):
            return html
        time.sleep(0.1)
    raise AssertionError(f"export still running after {seconds} s")


def export_responses_csv(auth: AuthActions, unit: str) -> tuple[str, list[str]]:
    """Queue a responses export (CSV) of ``unit``, wait for it; (status page, file lines)."""
    queued = auth.client.post(
        "/dashboard/exports",
        data={
            "kind": "responses",
            "responses-csrf_token": auth.csrf("/dashboard/exports"),
            "responses-unit": unit,
            "responses-period": "",
            "responses-format": "csv",
        },
    )
    assert queued.status_code == 303
    html = wait_for_job(auth, queued.headers["Location"])
    link = re.search(r'href="(/dashboard/exports/\d+/download)"', html)
    assert link, html
    with auth.client.get(link.group(1)) as download:
        return html, download.data.decode("utf-8-sig").strip().splitlines()

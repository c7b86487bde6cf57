"""Declarative base, engine and per-request sessions (plain SQLAlchemy 2.0)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    Select,
    Table,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from unidecode import unidecode

if TYPE_CHECKING:
    from flask import Flask

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit keys for the big tables; SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, str]: JSON(),
        dict[str, Any]: JSON(),
        list[dict[str, Any]]: JSON(),
        list[str]: JSON(),
        list[list[Any]]: JSON(),
    }


# A SELECT of any columns (SQLAlchemy 2.1 types a Select by the tuple of its columns).
AnySelect = Select[*tuple[Any, ...]]


def table_of(model: type[Base]) -> Table:
    """The model's table, typed as one (``__table__`` is typed as any FROM clause)."""
    return cast(Table, model.__table__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, echo: bool = False) -> Engine:
    """An engine with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Pre-ping: after a database restart every pooled connection is dead; each is found out and
    # replaced when checked out, so no request fails for it (a cheap round trip per checkout).
    return create_engine(
        url,
        echo=echo,
        pool_size=10,
        max_overflow=10,
        pool_recycle=1800,
        pool_use_lifo=True,
        pool_pre_ping=True,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's lower() only folds ASCII; case-insensitive search must fold Vietnamese too.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    # PostgreSQL's unaccent() (the extension, created with the schema): search without diacritics.
    dbapi_connection.create_function("unaccent", 1, _unaccent, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _unaccent(value: Any) -> Any:
    return unidecode(value) if isinstance(value, str) else value


# Searches ignore diacritics through unaccent(): an extension on PostgreSQL (trusted, so the
# database's owner may create it), a function registered on each SQLite connection.
event.listen(
    Base.metadata,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS unaccent").execute_if(dialect="postgresql"),
)


def init_app(app: Flask) -> None:
    """Build the engine and session factory; close the request's session on teardown."""
    from surveyapp.caching import INFO_KEY, Caches

    engine = make_engine(app.config["DATABASE_URL"], echo=app.config["SQLALCHEMY_ECHO"])
    caches = Caches(target_seconds=app.config["SURVEY_TARGET_CACHE_SECONDS"])
    # Every session of this app carries the app's caches (surveyapp.caching.caches_of).
    factory = sessionmaker(bind=engine, expire_on_commit=False, info={INFO_KEY: caches})
    caches.watch(factory)
    app.extensions["surveyapp.engine"] = engine
    app.extensions["surveyapp.sessionmaker"] = factory
    app.extensions["surveyapp.caches"] = caches
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The session of the current request or app context, created on first use."""
    from flask import current_app, g

    if "db_session" not in g:
        g.db_session = current_app.extensions["surveyapp.sessionmaker"]()
    session: Session = g.db_session
    return session


def _close_session(exc: BaseException | None) -> None:
    from flask import g

    session: Session | None = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A session for CLI commands: commit on success, roll back on error."""
    if app is None:
        from flask import current_app

        app = current_app
    session: Session = app.extensions["surveyapp.sessionmaker"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

"""API tokens, shown once and stored as a SHA-256 only. A read token is an official's own: the API
accepts it as a bearer token acting with the official's scope, and it stops working at once when
revoked, expired or its account is deactivated. An intake token belongs to a one-stop system: a
PAR office (or admin) creates it for a unit subtree, and it may only write dossiers there; any
official who may write that unit's dossiers can revoke it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import ApiToken, TokenKind, Unit, User
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.org.units import subtree_ids

PREFIX = "sat_"  # recognisable in logs and secret scanners


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(
    session: Session, scope: Scope, *, name: str, days: int, now: datetime
) -> tuple[ApiToken, str]:
    """A new read token for the signed-in official; returns the row and the secret (shown once)."""
    return _create(session, scope, TokenKind.READ, None, name, days, now)


def create_intake_token(
    session: Session, scope: Scope, *, name: str, unit: Unit, days: int, now: datetime
) -> tuple[ApiToken, str]:
    """A new intake token writing dossiers of ``unit`` and the units below it."""
    scope.require(Permission.WRITE_DOSSIERS)
    scope.require(Permission.MANAGE_SETUP)
    scope.require_unit(unit.id)
    return _create(session, scope, TokenKind.INTAKE, unit, name, days, now)


def _create(
    session: Session,
    scope: Scope,
    kind: TokenKind,
    unit: Unit | None,
    name: str,
    days: int,
    now: datetime,
) -> tuple[ApiToken, str]:
    if scope.user_id is None:
        raise InvalidInput(N_("Mã truy cập cần một tài khoản cán bộ làm chủ."), field="name")
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(N_("Tên mã truy cập cần từ 1 đến 100 ký tự."), field="name")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=scope.user_id,
        kind=kind,
        unit_id=unit.id if unit else None,
        name=name,
        prefix=raw[:12],
        token_hash=_digest(raw),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        user_id=scope.user_id,
        action=f"api_token.create.{kind.value}",
        entity=("api_token", token.id),
        before=None,
        after={"name": name, "prefix": token.prefix}
        | ({"unit": unit.code} if unit is not None else {}),
        now=now,
    )
    return token, raw


def revoke_token(session: Session, scope: Scope, token_id: int, now: datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or not _may_manage(scope, token):
        raise NotFound(N_("Không tìm thấy mã truy cập."))
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(
            session,
            user_id=scope.user_id,
            action="api_token.revoke",
            entity=("api_token", token.id),
            before=None,
            after={"revoked": True},
            now=now,
        )
    return token


def _may_manage(scope: Scope, token: ApiToken) -> bool:
    if token.kind is TokenKind.READ:
        return token.user_id == scope.user_id
    return scope.can(Permission.WRITE_DOSSIERS) and scope.covers(token.unit_id)


def user_tokens(session: Session, scope: Scope) -> list[ApiToken]:
    """The official's own read tokens."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == scope.user_id, ApiToken.kind == TokenKind.READ)
            .order_by(ApiToken.id.desc())
        )
    )


def intake_tokens(session: Session, scope: Scope) -> list[ApiToken]:
    """Intake tokens of the units in scope (for an official who may write dossiers)."""
    if not scope.can(Permission.WRITE_DOSSIERS):
        return []
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.kind == TokenKind.INTAKE, scope.where(ApiToken.unit_id))
            .order_by(ApiToken.id.desc())
        )
    )


def _valid(session: Session, raw: str, kind: TokenKind, now: datetime) -> ApiToken | None:
    if not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.kind is not kind:
        return None
    if token.revoked_at is not None or token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token


def authenticate(session: Session, raw: str, now: datetime) -> User | None:
    """The active official a read token belongs to, or None."""
    token = _valid(session, raw, TokenKind.READ, now)
    if token is None or not token.user.is_active:
        return None
    return token.user


def authenticate_intake(session: Session, raw: str, now: datetime) -> tuple[ApiToken, Scope] | None:
    """An intake token and the scope it writes in (its unit's subtree), or None."""
    token = _valid(session, raw, TokenKind.INTAKE, now)
    if token is None or token.unit_id is None:
        return None
    unit = session.get_one(Unit, token.unit_id)
    return token, Scope.intake(frozenset(subtree_ids(session, unit)))

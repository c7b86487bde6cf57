"""API tokens: an official creates one, sees it once, and the API accepts it as a bearer token
acting with the official's scope. Only its SHA-256 is stored; revoked, expired or belonging to a
deactivated account, it stops working at once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import ApiToken, User
from surveyapp.services import audit
from surveyapp.services.access import Scope
from surveyapp.services.errors import N_, InvalidInput, NotFound

PREFIX = "sat_"  # recognisable in logs and secret scanners


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(
    session: Session, scope: Scope, *, name: str, days: int, now: datetime
) -> tuple[ApiToken, str]:
    """A new token for the signed-in official; returns the row and the secret (shown once)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(N_("Tên mã truy cập cần từ 1 đến 100 ký tự."), field="name")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=scope.user_id,
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
        action="api_token.create",
        entity=("api_token", token.id),
        before=None,
        after={"name": name, "prefix": token.prefix},
        now=now,
    )
    return token, raw


def revoke_token(session: Session, scope: Scope, token_id: int, now: datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != scope.user_id:
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


def user_tokens(session: Session, scope: Scope) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == scope.user_id).order_by(ApiToken.id.desc())
        )
    )


def authenticate(session: Session, raw: str, now: datetime) -> User | None:
    """The active official a bearer token belongs to, or None."""
    if not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token.user

"""Signed per-dossier rating links (official stream) for the receipt or an SMS."""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import Dossier
from surveyapp.services.errors import N_, Gone, NotFound

SALT = "surveyapp.dossier-rating"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def dossier_token(secret_key: str, dossier: Dossier) -> str:
    """A URL-safe token naming the dossier, signed and time-stamped."""
    return _serializer(secret_key).dumps(dossier.code)


def dossier_from_token(
    session: Session, secret_key: str, token: str, max_age: timedelta
) -> Dossier:
    """The dossier a token names; NotFound if tampered, Gone if expired."""
    if len(token) > 300:
        raise NotFound(N_("Liên kết đánh giá không hợp lệ."))
    try:
        code = _serializer(secret_key).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise Gone(
            N_("Liên kết đánh giá này đã hết hạn. Vui lòng đánh giá tại quầy bằng mã QR.")
        ) from exc
    except BadSignature as exc:
        raise NotFound(N_("Liên kết đánh giá không hợp lệ.")) from exc
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None:
        raise NotFound(N_("Liên kết đánh giá không hợp lệ."))
    return dossier


def rating_url(base_url: str, token: str) -> str:
    return f"{base_url}/d/{token}"

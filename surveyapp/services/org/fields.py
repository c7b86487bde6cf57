"""Service fields (lĩnh vực), the catalogue dashboards filter by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import ServiceField
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope
from surveyapp.services.validation import check_text, new_code


def create_service_field(
    session: Session, scope: Scope, code: str, name_vi: str, name_en: str, now: datetime
) -> ServiceField:
    scope.require(Permission.MANAGE_SETUP)
    code = new_code(session, ServiceField.code, code)
    name_vi, name_en = check_text(name_vi, "name_vi", 200), check_text(name_en, "name_en", 200)
    name = {"vi": name_vi} | ({"en": name_en} if name_en else {})
    field = ServiceField(code=code, name=name)
    session.add(field)
    session.flush()
    audit.record(
        session,
        user_id=scope.user_id,
        action="field.create",
        entity=("field", code),
        before=None,
        after=name,
        now=now,
    )
    return field


def list_service_fields(session: Session) -> list[ServiceField]:
    return list(session.scalars(select(ServiceField).order_by(ServiceField.code)))


def find_field_id(session: Session, code: str) -> int | None:
    """The id of the service field ``code``, if there is one."""
    return session.scalar(select(ServiceField.id).where(ServiceField.code == code))

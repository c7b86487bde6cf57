"""What every dashboard page shares: sign-in required, the official's scope, permission checks,
labels for templates, and committing a service call or showing its error on the form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_babel import gettext
from flask_login import current_user, login_required

from surveyapp.dashboard import bp
from surveyapp.dashboard.labels import (
    CASE_STATUS_LABELS,
    FLAG_LABELS,
    LEVEL_LABELS,
    RESPONSE_STATUS_LABELS,
    ROLE_LABELS,
    VERDICT_LABELS,
)
from surveyapp.db import get_session
from surveyapp.models import CaseStatus, ResponseStatus, Role, UnitLevel, Verdict
from surveyapp.services.access import (
    Permission,
    Scope,
    scope_for,
)
from surveyapp.services.alerts import subscriptions
from surveyapp.services.collection.tables import Table, TableLimits, open_table
from surveyapp.services.errors import N_, InvalidInput, ServiceError
from surveyapp.services.feedback import cases


@bp.before_request
@login_required
def require_login() -> None:
    """Every dashboard page needs a signed-in official."""


def scope() -> Scope:
    if "scope" not in g:
        g.scope = scope_for(get_session(), current_user)
    scope: Scope = g.scope
    return scope


def requires(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scope().require(permission)
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.app_context_processor
def helpers() -> dict[str, Any]:
    def can(permission: str) -> bool:
        return bool(current_user.is_authenticated and scope().can(Permission(permission)))

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return subscriptions.unread_count(get_session(), scope())

    return {
        "can": can,
        "unread_notifications": unread_notifications,
        "role_label": lambda role: ROLE_LABELS[Role(role)],
        "level_label": lambda level: LEVEL_LABELS[UnitLevel(level)],
        "status_label": lambda status: CASE_STATUS_LABELS[CaseStatus(status)],
        "verdict_label": lambda verdict: VERDICT_LABELS[Verdict(verdict)],
        "response_status_label": lambda s: RESPONSE_STATUS_LABELS[ResponseStatus(s)],
        "flag_label": lambda reason: FLAG_LABELS.get(reason or "", reason),
        "mask": cases.mask_personal_data,
    }


T = TypeVar("T")


def choices_of(enum: type[Enum]) -> dict[str, Any]:
    """An enumeration's members by value, for ``posted_choice``."""
    return {member.value: member for member in enum}


def posted_choice(name: str, options: Mapping[str, T]) -> T:
    """A posted field that must be one of ``options`` (by its submitted value); any other value
    is a 400 that names the field."""
    value = request.form.get(name, "")
    if value not in options:
        raise ServiceError(N_("Giá trị của trường “%(field)s” không hợp lệ."), field=name)
    return options[value]


def uploaded_table(upload: Any) -> Table:
    """The table in an upload form's file, within the configured limits (InvalidInput if it is
    not a readable CSV/XLSX)."""
    return open_table(
        upload.file.data.filename or "",
        upload.file.data.stream,
        TableLimits.from_config(current_app.config),
    )


def commit_or_form_error(form: Any, action: Callable[[], object]) -> bool:
    """Run a service call and commit; on bad input roll back and put the message on the form."""
    db = get_session()
    try:
        action()
    except InvalidInput as error:
        db.rollback()
        field = getattr(form, error.field, None) if error.field else None
        target = field.errors if field is not None else form.form_errors
        target.append(error.render(gettext))
        return False
    db.commit()
    return True

"""Marking a response as spam or test (and back): audited, reversible, rollups kept in step.

Officials never create, edit or delete a citizen's answers; only the status changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveyapp.models import Response, ResponseStatus
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope
from surveyapp.services.collection.rollup import add_to_rollup, rollup_keys
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.periods import Period

SETTABLE = (ResponseStatus.REPORTABLE, ResponseStatus.SPAM, ResponseStatus.TEST)


def _locked(session: Session, scope: Scope, response_id: int) -> Response:
    """The response in scope, its row locked until commit (else NotFound). The lock makes
    concurrent changes of one response take turns: each reads what the previous one committed,
    so every transition reaches the rollup exactly once."""
    response = session.scalar(
        select(Response)
        .where(Response.id == response_id)
        .with_for_update()
        .options(selectinload(Response.answers))
        .execution_options(populate_existing=True)
    )
    if response is None or not scope.covers(response.unit_id):
        raise NotFound(N_("Không tìm thấy."))
    return response


def set_response_status(
    session: Session, scope: Scope, response_id: int, status: ResponseStatus, now: datetime
) -> Response:
    scope.require(Permission.FLAG_RESPONSES)
    if status not in SETTABLE:
        raise InvalidInput(N_("Trạng thái không hợp lệ."), field="status")
    response = _locked(session, scope, response_id)
    before = response.status
    if before is status:
        return response
    if before is ResponseStatus.REPORTABLE:
        add_to_rollup(session, rollup_keys(response), sign=-1)
    response.status = status
    if status is ResponseStatus.REPORTABLE:
        add_to_rollup(session, rollup_keys(response))
    audit.record(
        session,
        user_id=scope.user_id,
        action="response.status",
        entity=("response", response.id),
        before={"status": before.value},
        after={"status": status.value},
        now=now,
    )
    return response


FLAG_REASONS = ("rate", "low_burst", "burst")  # burst: identical answer sets (the older rule)


def set_flag(
    session: Session, scope: Scope, response_id: int, flagged: bool, now: datetime
) -> Response:
    """Raise or clear a response's review flag; audited, reversible (its answers never change)."""
    scope.require(Permission.FLAG_RESPONSES)
    response = _locked(session, scope, response_id)
    if response.is_flagged is flagged:
        return response
    before = {"flagged": response.is_flagged, "reason": response.flag_reason}
    response.is_flagged = flagged
    response.flag_reason = response.flag_reason if flagged else None
    if flagged and response.flag_reason is None:
        response.flag_reason = "official"
    audit.record(
        session,
        user_id=scope.user_id,
        action="response.flag",
        entity=("response", response.id),
        before=before,
        after={"flagged": flagged, "reason": response.flag_reason},
        now=now,
    )
    return response


@dataclass(frozen=True)
class FlaggedPage:
    responses: list[Response]
    next_cursor: int | None  # the id to continue below


def list_flagged(
    session: Session,
    scope: Scope,
    *,
    unit_ids: Sequence[int] | None,
    period: Period | None,
    timezone: str,
    before_id: int | None = None,
    limit: int = 50,
) -> FlaggedPage:
    """Flagged responses of the scope, newest first (keyset pagination on the id)."""
    scope.require(Permission.VIEW_FEEDBACK)
    query = (
        select(Response)
        .where(Response.is_flagged.is_(True), scope.where(Response.unit_id))
        .options(
            selectinload(Response.unit),
            selectinload(Response.counter),
            selectinload(Response.answers),
            selectinload(Response.comment),
        )
        .order_by(Response.id.desc())
        .limit(limit + 1)
    )
    if unit_ids is not None:
        query = query.where(Response.unit_id.in_(unit_ids))
    if period is not None:
        start, end = period.bounds(timezone)
        query = query.where(Response.submitted_at >= start, Response.submitted_at < end)
    if before_id is not None:
        query = query.where(Response.id < before_id)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return FlaggedPage(rows, rows[-1].id if more else None)

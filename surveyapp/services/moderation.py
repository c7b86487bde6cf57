"""Marking a response as spam or test (and back): audited, reversible, rollups kept in step.

Officials never create, edit or delete a citizen's answers; only the status changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveyapp.models import Response, ResponseStatus
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.responses import add_to_rollup, rollup_keys

SETTABLE = (ResponseStatus.REPORTABLE, ResponseStatus.SPAM, ResponseStatus.TEST)


def set_response_status(
    session: Session, scope: Scope, response_id: int, status: ResponseStatus, now: datetime
) -> Response:
    scope.require(Permission.FLAG_RESPONSES)
    if status not in SETTABLE:
        raise InvalidInput(N_("Trạng thái không hợp lệ."), field="status")
    # The row lock makes concurrent changes of one response take turns: each reads the status
    # the previous one committed, so every transition reaches the rollup exactly once.
    response = session.scalar(
        select(Response)
        .where(Response.id == response_id)
        .with_for_update()
        .options(selectinload(Response.answers))
        .execution_options(populate_existing=True)
    )
    if response is None or not scope.covers(response.unit_id):
        raise NotFound(N_("Không tìm thấy."))
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

"""The QĐ 766/QĐ-TTg satisfaction-group figures of a unit (and the units below it), month by
month, from its feedback cases and its dossiers. The formulas are analysis.qd766's; which records
count is decided here:

- **Feedback within the unit's authority**: cases received in the month (local time) that are the
  unit's now (a case transferred to another agency counts there), not merged into another case,
  from responses that count (not spam or test). Those still open and not yet due are *pending*
  and wait for a later month's figure; every other one is decided.
- **Handled on time**: first handled (a reply published, or resolved) by the due date it had
  then (reopening gives a case a new one, which does not make a late reply on time). A case still
  open past its due date, or closed without handling, is not on time.
- **Satisfaction with feedback handling**: of the cases handled, those whose citizen's latest
  verdict on the reply is "không hài lòng" (with or without "trả lời trễ hạn") are unsatisfied.
- **Satisfaction with dossier handling**: dossiers returned in the month (not cancelled); one is
  unsatisfied when its rating has an element rated low (1..CASE_LOW_RATING_MAX) or its rating
  opened a case for a comment (feedback about reception, handling or lateness; compliments open
  none).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import qd766
from surveyapp.models import (
    OPEN_STATUSES,
    Case,
    Dossier,
    DossierStatus,
    Response,
    ResponseStatus,
    Unit,
    Verdict,
)
from surveyapp.services.access import Permission, Scope
from surveyapp.services.org import units
from surveyapp.services.periods import Period, local_period, months_of

COMPLAINT_REASONS = ("comment", "both")


@dataclass(frozen=True)
class MonthFigures:
    """One unit's (with the units below it) QĐ 766 satisfaction figures for one month."""

    unit_code: str
    unit_name: str
    month: int  # YYYYMM
    feedback: int  # within the unit's authority, received in the month
    pending: int  # open and not yet due: not decided
    on_time: int
    on_time_rate: Decimal | None
    handled: int
    unsatisfied: int  # of the handled: the citizen's latest verdict
    late_complaints: int  # of the unsatisfied: the citizen said the reply was late
    feedback_satisfaction: Decimal | None
    dossiers: int  # returned in the month
    dossiers_unsatisfied: int
    dossier_satisfaction: Decimal | None

    @property
    def period(self) -> str:
        return f"{self.month // 100}-{self.month % 100:02d}"

    def cells(self) -> list[object]:
        """The row as HEADER orders it: rates as numbers, None where there is none."""
        return [
            self.unit_code,
            self.unit_name,
            self.period,
            self.feedback,
            self.pending,
            self.on_time,
            _number(self.on_time_rate),
            self.handled,
            self.unsatisfied,
            self.late_complaints,
            _number(self.feedback_satisfaction),
            self.dossiers,
            self.dossiers_unsatisfied,
            _number(self.dossier_satisfaction),
        ]

    def as_dict(self) -> dict[str, object]:
        return dict(zip(HEADER, self.cells(), strict=True))


# The columns of the API's rows and of the export (codes; the dashboard labels them).
HEADER = [
    "unit_code",
    "unit_name",
    "period",
    "feedback",
    "pending",
    "on_time",
    "on_time_rate",
    "handled",
    "unsatisfied",
    "late_complaints",
    "feedback_satisfaction",
    "dossiers",
    "dossiers_unsatisfied",
    "dossier_satisfaction",
]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass
class _Tally:
    feedback: int = 0
    pending: int = 0
    on_time: int = 0
    handled: int = 0
    unsatisfied: int = 0
    late: int = 0
    dossiers: int = 0
    dossiers_unsatisfied: int = 0


def unit_months(
    session: Session,
    scope: Scope,
    unit: Unit,
    period: Period,
    *,
    timezone: str,
    now: datetime,
) -> list[MonthFigures]:
    """The unit's figures for each month of the period (its subtree pooled), oldest first."""
    scope.require(Permission.VIEW_FEEDBACK)
    scope.require_unit(unit.id)
    tallies = _tallies(session, units.subtree_ids(session, unit), period, timezone, now)
    return [_figures(unit, month, tallies[month]) for month in months_of(period)]


def level_months(
    session: Session,
    scope: Scope,
    parent: Unit,
    period: Period,
    *,
    timezone: str,
    now: datetime,
) -> list[MonthFigures]:
    """The figures of ``parent`` and of each unit directly below it in the scope, month by month
    (the export's rows)."""
    rows = unit_months(session, scope, parent, period, timezone=timezone, now=now)
    for child in sorted(parent.children, key=lambda u: u.code):
        if scope.covers(child.id):
            rows += unit_months(session, scope, child, period, timezone=timezone, now=now)
    return rows


def _tallies(
    session: Session, unit_ids: Sequence[int], period: Period, timezone: str, now: datetime
) -> dict[int, _Tally]:
    start, end = period.bounds(timezone)
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    found = session.execute(
        select(
            Case.created_at,
            Case.status,
            Case.due_at,
            Case.handled_at,
            Case.handled_on_time,
            Case.verdict,
            Case.verdict_late,
        )
        .join(Response, Response.id == Case.response_id)
        .where(
            Case.unit_id.in_(unit_ids),
            Case.created_at >= start,
            Case.created_at < end,
            Case.merged_into_id.is_(None),
            Response.status == ResponseStatus.REPORTABLE,
        )
    )
    for created_at, status, due_at, handled_at, on_time, verdict, late in found:
        tally = tallies[local_period(created_at, timezone)]
        tally.feedback += 1
        if handled_at is None and status in OPEN_STATUSES and due_at >= now:
            tally.pending += 1
            continue
        if handled_at is not None:
            tally.handled += 1
            tally.on_time += bool(on_time)
            tally.unsatisfied += verdict is Verdict.UNSATISFIED
            tally.late += verdict is Verdict.UNSATISFIED and late
    dossiers = session.execute(
        select(Dossier.returned_at, Response.low_rating, Case.reason)
        .outerjoin(
            Response,
            (Response.dossier_id == Dossier.id) & (Response.status == ResponseStatus.REPORTABLE),
        )
        .outerjoin(Case, Case.response_id == Response.id)
        .where(
            Dossier.unit_id.in_(unit_ids),
            Dossier.status != DossierStatus.CANCELLED,
            Dossier.returned_at >= start,
            Dossier.returned_at < end,
        )
    )
    for returned_at, low, reason in dossiers:
        if returned_at is None:  # excluded by the query; for the type checker
            continue
        tally = tallies[local_period(returned_at, timezone)]
        tally.dossiers += 1
        tally.dossiers_unsatisfied += bool(low) or reason in COMPLAINT_REASONS
    return tallies


def _figures(unit: Unit, month: int, t: _Tally) -> MonthFigures:
    decided = t.feedback - t.pending
    return MonthFigures(
        unit_code=unit.code,
        unit_name=unit.name,
        month=month,
        feedback=t.feedback,
        pending=t.pending,
        on_time=t.on_time,
        on_time_rate=qd766.on_time_rate(t.on_time, decided),
        handled=t.handled,
        unsatisfied=t.unsatisfied,
        late_complaints=t.late,
        feedback_satisfaction=qd766.feedback_satisfaction(t.handled, t.unsatisfied),
        dossiers=t.dossiers,
        dossiers_unsatisfied=t.dossiers_unsatisfied,
        dossier_satisfaction=qd766.dossier_satisfaction(t.dossiers, t.dossiers_unsatisfied),
    )

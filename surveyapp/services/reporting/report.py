"""What a unit's printable report holds: its dashboard, the ranking of the units below it that
the official may open, and the summary of comments and cases; the drawing is the dashboard's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from surveyapp.models import Unit
from surveyapp.services.access import Scope
from surveyapp.services.org.units import root_of
from surveyapp.services.reporting.dashboards import (
    Query,
    UnitDashboard,
    feedback_summary,
    unit_dashboard,
)
from surveyapp.services.reporting.ranking import Ranking, ranking


@dataclass(frozen=True)
class ReportFigures:
    view: UnitDashboard
    ranking: Ranking | None  # None when no unit below is in the scope
    cases: dict[str, int]  # case status → count, for the unit's comments and low ratings
    comment_count: int
    generated_at: datetime  # local time
    place: str  # the province's name, for "…, ngày … tháng … năm …"


def report_figures(
    session: Session,
    scope: Scope,
    unit: Unit,
    query: Query,
    *,
    timezone: str,
    now: datetime,
) -> ReportFigures:
    view = unit_dashboard(session, unit, query, scope=scope, timezone=timezone)
    below = (
        ranking(session, unit, query, scope=scope, timezone=timezone)
        if any(scope.covers(child.id) for child in unit.children)
        else None
    )
    comments, cases = feedback_summary(session, unit, query, timezone)
    return ReportFigures(
        view, below, cases, comments, now.astimezone(ZoneInfo(timezone)), root_of(unit).name
    )

"""Ranking a unit's children: SIPAS, n and interval per child, ranks only where the publication
rules allow, a funnel plot against the children's pooled share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import (
    PublicationRules,
    funnel,
    rank,
)
from analysis.compare import FunnelPoint
from surveyapp.models import (
    Unit,
)
from surveyapp.services.access import Scope
from surveyapp.services.errors import N_, InvalidInput
from surveyapp.services.instruments.snapshots import InstrumentView
from surveyapp.services.org import lineage, units
from surveyapp.services.reporting import counts
from surveyapp.services.reporting.dashboards import Query, choose_instrument
from surveyapp.services.reporting.figures import Figure, figure


@dataclass(frozen=True)
class RankRow:
    unit: Unit
    figure: Figure
    rank: int | None
    funnel: FunnelPoint | None
    has_children: bool


@dataclass(frozen=True)
class Ranking:
    unit: Unit
    instrument: InstrumentView
    rows: list[RankRow]
    centre: float | None  # the pooled share of the ranked units, for the funnel


SORTS = ("rank", "name", "sipas", "n")


def ranking(
    session: Session,
    unit: Unit,
    query: Query,
    *,
    scope: Scope,
    timezone: str,
    sort: str = "rank",
    rules: PublicationRules | None = None,
) -> Ranking:
    """The unit's children with SIPAS, n and interval; only figures the rules call rankable get
    a rank (ties share it); the funnel compares each to the children's pooled share. Only the
    children the scope may open are listed (and ranked, and pooled), without those that became
    other units before the period began (their answers count for their successors)."""
    rules = rules or PublicationRules()
    if sort not in SORTS:
        raise InvalidInput(N_("Không sắp xếp được theo '%(v)s'."), field="sort", v=sort[:20])
    children = list(
        session.scalars(
            select(Unit).where(Unit.parent_id == unit.id, scope.where(Unit.id)).order_by(Unit.code)
        )
    )
    ended = lineage.ended_before(session, query.period)  # merged away before the period
    children = [c for c in children if c.id not in ended]
    ids = units.subtree_ids(session, unit)
    instrument, _ = choose_instrument(session, ids, query.period, query.instrument_code)
    table = counts.unit_table(
        session, children, query.period, instrument, query.stream, query.filters, timezone
    )
    figures = {row.unit.code: figure(row.index, row.respondents, rules) for row in table}
    shown = {
        code: (float(f.index.value) / 100 * f.n, float(f.n))  # type: ignore[arg-type]
        for code, f in figures.items()
        if f.shown
    }
    points = {p.unit: p for p in funnel(shown)} if shown else {}
    total_n = sum(n for _, n in shown.values())
    centre = sum(s for s, _ in shown.values()) / total_n if total_n else None
    ranks = rank({code: f.index.value for code, f in figures.items() if f.verdict.rankable})  # type: ignore[misc]
    parents = set(
        session.scalars(
            select(Unit.parent_id).where(Unit.parent_id.in_([c.id for c in children])).distinct()
        )
    )
    rows = [
        RankRow(c, figures[c.code], ranks.get(c.code), points.get(c.code), c.id in parents)
        for c in children
    ]
    rows.sort(key=_sort_key(sort))
    return Ranking(unit, instrument, rows, centre)


def _sort_key(sort: str) -> Any:
    def key(row: RankRow) -> Any:
        value = float(row.figure.index.value) if row.figure.shown else -1.0  # type: ignore[arg-type]
        if sort == "name":
            return (row.unit.name.casefold(),)
        if sort == "sipas":
            return (-value, row.unit.code)
        if sort == "n":
            return (-row.figure.n, row.unit.code)
        return (row.rank is None, row.rank or 0, -value, row.unit.code)

    return key

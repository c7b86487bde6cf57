"""Thông tư 01/2018/TT-VPCP scores per agency and per receiving official, never on too few rated
dossiers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.tt01 import TT01Result, classify, tt01_scores
from surveyapp.db import AnySelect
from surveyapp.models import (
    Answer,
    Dossier,
    Instrument,
    Item,
    Response,
    Staff,
    Unit,
)
from surveyapp.services.access import Scope
from surveyapp.services.org import units
from surveyapp.services.periods import Period
from surveyapp.services.reporting import counts
from surveyapp.services.reporting.counts import Filters

TT01_CODE = "TT01"


TT01_POINTS = (0, 1, 2)


@dataclass(frozen=True)
class TT01Row:
    """One official's or one agency's Thông tư 01 scores; ``result`` is None below the minimum
    number of rated dossiers, so no score is ever shown on too few ratings."""

    key: str  # unit code, or the official's e-mail
    label: str
    rated: int
    result: TT01Result | None
    band: str | None


@dataclass(frozen=True)
class TT01Tables:
    agencies: list[TT01Row]
    officials: list[TT01Row]
    unassigned: int  # rated dossiers without a receiving official recorded
    min_ratings: int


Tally = dict[Any, dict[str, int]]


def tt01_tables(
    session: Session,
    scope: Scope,
    unit: Unit,
    period: Period,
    *,
    min_ratings: int,
    timezone: str,
) -> TT01Tables:
    """Indicator scores per agency (each unit of the subtree with ratings) and per official (the
    dossier's receiving official in the staff register), Thông tư 01/2018/TT-VPCP Điều 15; two
    GROUP BYs for each. Rows of agencies, and of officials of units, that the scope may not open
    are left out."""
    ids = units.subtree_ids(session, unit)

    def ratings(columns: AnySelect) -> AnySelect:
        joined = (
            columns.select_from(Response)
            .join(Instrument, Instrument.id == Response.instrument_id)
            .outerjoin(Dossier, Dossier.id == Response.dossier_id)
            .where(Instrument.code == TT01_CODE)
        )
        return counts.filter_responses(joined, ids, period, None, Filters(), timezone)

    def tally(key: Any) -> tuple[Tally, Tally, dict[Any, int]]:
        points: Tally = defaultdict(lambda: defaultdict(int))
        dossiers: Tally = defaultdict(lambda: defaultdict(int))
        query = (
            ratings(select(key, Item.code, Answer.value, func.count()))
            .join(Answer, Answer.response_id == Response.id)
            .join(Item, Item.id == Answer.item_id)
            .where(Answer.value.in_(TT01_POINTS))
            .group_by(key, Item.code, Answer.value)
        )
        for k, code, value, count in session.execute(query):
            points[k][code] += int(value) * int(count)
            dossiers[k][code] += int(count)
        rated = {
            k: int(n) for k, n in session.execute(ratings(select(key, func.count())).group_by(key))
        }
        return points, dossiers, rated

    def rows(
        key: Any, labels: Callable[[list[Any]], dict[Any, tuple[str, str]]], band: bool
    ) -> tuple[list[TT01Row], int]:
        points, dossiers, rated = tally(key)
        out = []
        for k, (code, label) in labels(list(rated)).items():
            result = (
                tt01_scores(points[k], dossiers[k], rated[k]) if rated[k] >= min_ratings else None
            )
            out.append(
                TT01Row(
                    code,
                    label,
                    rated[k],
                    result,
                    classify(result.total) if band and result else None,
                )
            )
        return out, rated.get(None, 0)

    def unit_labels(keys: list[Any]) -> dict[Any, tuple[str, str]]:
        found = session.scalars(
            select(Unit).where(Unit.id.in_(keys), scope.where(Unit.id)).order_by(Unit.path)
        )
        return {u.id: (u.code, u.name) for u in found}

    def staff_labels(keys: list[Any]) -> dict[Any, tuple[str, str]]:
        known = [k for k in keys if k is not None]
        found = session.scalars(
            select(Staff)
            .where(Staff.id.in_(known), scope.where(Staff.unit_id))
            .order_by(Staff.code)
        )
        return {s.id: (s.code, s.name) for s in found}

    agencies, _ = rows(Response.unit_id, unit_labels, True)
    officials, unassigned = rows(Dossier.staff_id, staff_labels, False)
    return TT01Tables(agencies, officials, unassigned, min_ratings)

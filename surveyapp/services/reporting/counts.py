"""Counting in the database: answer counts from the rollup (one GROUP BY) or, for filters the
rollup cannot answer, from the raw answers; frequency tables handed to analysis/."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import (
    Index,
    Scale,
    Structure,
    sipas_index,
)
from surveyapp.db import AnySelect
from surveyapp.models import (
    Answer,
    AnswerCount,
    Channel,
    Dossier,
    RespondentType,
    Response,
    ResponseStatus,
    Stream,
    Unit,
)
from surveyapp.services.instruments.snapshots import InstrumentView
from surveyapp.services.org import lineage
from surveyapp.services.periods import Period

# (unit_id, item_id) → level → count
Counts = dict[int, dict[int, dict[int, int]]]


def scale_of(instrument: InstrumentView) -> Scale:
    levels = tuple(instrument.scale_levels())
    return Scale(
        levels, frozenset(instrument.scale["satisfied"]), frozenset(instrument.missing_levels())
    )


def structure_of(instrument: InstrumentView) -> Structure:
    domains: dict[str, list[str]] = defaultdict(list)
    elements: dict[str, list[str]] = defaultdict(list)
    for element in instrument.elements:
        domains[element.domain_code].append(element.code)
    for item in instrument.items:
        if item.element is not None:
            elements[item.element.code].append(item.code)
    return Structure(dict(domains), dict(elements))


def counts_by_unit(
    session: Session,
    unit_ids: Sequence[int],
    period: Period,
    instrument: InstrumentView,
    stream: Stream | None = None,
    by: str = "unit",
) -> Counts:
    """Answer counts per unit (or per month, ``by="month"``), item and level over the period's
    months, from the rollup (one GROUP BY)."""
    key = AnswerCount.unit_id if by == "unit" else AnswerCount.period
    item_ids = [i.id for i in instrument.items]
    query = (
        select(key, AnswerCount.item_id, AnswerCount.level, func.sum(AnswerCount.count))
        .where(
            AnswerCount.unit_id.in_(unit_ids),
            AnswerCount.item_id.in_(item_ids),
            AnswerCount.period.between(period.first_month, period.last_month),
        )
        .group_by(key, AnswerCount.item_id, AnswerCount.level)
    )
    if stream is not None:
        query = query.where(AnswerCount.stream == stream)
    out: Counts = defaultdict(lambda: defaultdict(dict))
    for key_value, item_id, level, count in session.execute(query):
        if count:
            out[key_value][item_id][level] = int(count)
    return out


class Attribution(enum.StrEnum):
    """Which unit a rating counts for. By default the dossier's handling unit (DonViXuLy), as the
    SIPAS methodology rates the agency that settles the procedure; since Nghị định 118/2025/NĐ-CP
    a service centre may receive dossiers that others handle, and a report can count the ratings
    for the place that received them instead (the dossier's receiving unit; a rating without a
    dossier, or of a dossier received where it is handled, stays with its own unit)."""

    HANDLING = "handling"
    RECEIVING = "receiving"

    def unit_of(self, own: Any) -> Any:
        """The unit column a row counts for: ``own`` (``Dossier.unit_id``, or a response's unit
        joined to its dossier) or, by receiving place, the dossier's receiving unit if any."""
        if self is Attribution.RECEIVING:
            return func.coalesce(Dossier.receiving_unit_id, own)
        return own


@dataclass(frozen=True)
class Filters:
    """Filters the rollup does not hold; any of them makes counting read the raw answers."""

    channel: Channel | None = None
    service_field_id: int | None = None
    respondent_type: RespondentType | None = None
    attribution: Attribution = Attribution.HANDLING

    @property
    def any(self) -> bool:
        return self.attribution is Attribution.RECEIVING or any(
            v is not None for v in (self.channel, self.service_field_id, self.respondent_type)
        )

    @property
    def unit_column(self) -> Any:
        """The unit a response counts for under this attribution."""
        return self.attribution.unit_of(Response.unit_id)


def filter_responses(
    query: AnySelect,
    unit_ids: Sequence[int],
    period: Period,
    stream: Stream | None,
    filters: Filters,
    timezone: str,
) -> AnySelect:
    """Reportable responses of the units in the period (local days for a custom range), with the
    stream and the extra filters applied; ``query`` selects from ``responses``."""
    if filters.attribution is Attribution.RECEIVING or filters.service_field_id is not None:
        query = query.outerjoin(Dossier, Dossier.id == Response.dossier_id)
    query = query.where(
        filters.unit_column.in_(unit_ids),
        Response.status == ResponseStatus.REPORTABLE,
        Response.group_id.is_(None),  # respondent groups' answers are no SIPAS answers
        Response.period.between(period.first_month, period.last_month),
    )
    if not period.whole_months:
        start, end = period.bounds(timezone)
        query = query.where(Response.submitted_at >= start, Response.submitted_at < end)
    if stream is not None:
        query = query.where(Response.stream == stream)
    if filters.channel is not None:
        query = query.where(Response.channel == filters.channel)
    if filters.respondent_type is not None:
        query = query.where(Response.respondent_type == filters.respondent_type)
    if filters.service_field_id is not None:
        query = query.where(Dossier.service_field_id == filters.service_field_id)
    return query


def counts_by_unit_filtered(
    session: Session,
    unit_ids: Sequence[int],
    period: Period,
    instrument: InstrumentView,
    stream: Stream | None,
    filters: Filters,
    timezone: str,
    by: str = "unit",
) -> Counts:
    """The same table as ``counts_by_unit``, counted from the raw answers with extra filters
    (channel, service field of the dossier, respondent type) or over a custom range of days
    (local dates in ``timezone``) or attributed to the receiving place; one GROUP BY in the
    database."""
    key = filters.unit_column if by == "unit" else Response.period
    query = filter_responses(
        select(key, Answer.item_id, Answer.value, func.count())
        .select_from(Response)
        .join(Answer, Answer.response_id == Response.id)
        .where(Response.instrument_id == instrument.id, Answer.value.is_not(None)),
        unit_ids,
        period,
        stream,
        filters,
        timezone,
    ).group_by(key, Answer.item_id, Answer.value)
    out: Counts = defaultdict(lambda: defaultdict(dict))
    for key_value, item_id, level, count in session.execute(query):
        out[key_value][item_id][level] = int(count)
    return out


def count_answers(
    session: Session,
    unit_ids: Sequence[int],
    period: Period,
    instrument: InstrumentView,
    stream: Stream | None,
    filters: Filters | None,
    timezone: str,
    by: str = "unit",
) -> Counts:
    """From the rollup when it holds what is asked, else from the raw answers."""
    if (filters is not None and filters.any) or not period.whole_months:
        return counts_by_unit_filtered(
            session, unit_ids, period, instrument, stream, filters or Filters(), timezone, by
        )
    return counts_by_unit(session, unit_ids, period, instrument, stream, by)


def merge(counts: Counts, unit_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """The counts of several units added together (a unit and its subtree)."""
    total: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for unit_id in unit_ids:
        for item_id, levels in counts.get(unit_id, {}).items():
            for level, n in levels.items():
                total[item_id][level] += n
    return total


def index_of(
    instrument: InstrumentView, item_counts: dict[int, dict[int, int]], code: str = "SIPAS"
) -> Index:
    """The instrument's index tree (items → elements → domains → overall) from item counts."""
    by_code = {item.code: item_counts.get(item.id, {}) for item in instrument.items}
    aggregation = instrument.aggregation
    weights = {k: Fraction(v) for k, v in aggregation.get("weights", {}).items()} or None
    return sipas_index(
        by_code,
        structure_of(instrument),
        scale_of(instrument),
        element_method=aggregation.get("element", "mean"),
        domain_method=aggregation.get("domain", "mean"),
        overall_method=aggregation.get("overall", "mean"),
        domain_weights=weights,
        code=code,
    )


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    index: Index
    respondents: int


def unit_table(
    session: Session,
    units: Sequence[Unit],
    period: Period,
    instrument: InstrumentView,
    stream: Stream | None,
    filters: Filters | None,
    timezone: str,
) -> list[UnitRow]:
    """Each unit's index over itself, everything below it and its predecessors (services.org.
    lineage): one rollup query, or one raw
    GROUP BY when filters the rollup does not hold are set.

    ``respondents`` is read off the rollup too: the answers (any level, "don't know" included)
    to the unit's most-answered item, which every respondent answers when an item is required.
    """
    subtree = lineage.pooled_ids(session, units)  # with the predecessors' answers
    all_ids = sorted({i for ids in subtree.values() for i in ids})
    counts = count_answers(session, all_ids, period, instrument, stream, filters, timezone)
    rows = []
    for unit in units:
        merged = merge(counts, subtree[unit.id])
        rows.append(UnitRow(unit, index_of(instrument, merged, unit.code), respondents(merged)))
    return rows


def respondents(
    item_counts: dict[int, dict[int, int]], item_ids: Iterable[int] | None = None
) -> int:
    """Respondents read off item counts: the answers (any level, "don't know" included) to the
    most-answered item (of ``item_ids``), which every respondent answers when it is required."""
    keys = item_counts.keys() if item_ids is None else item_ids
    return max((sum(item_counts.get(i, {}).values()) for i in keys), default=0)


def count_reportable_by_unit(session: Session) -> list[tuple[str, int]]:
    """(unit code, reportable responses) for each unit that has any, by unit code."""
    rows = session.execute(
        select(Unit.code, func.count(Response.id))
        .join(Response, Response.unit_id == Unit.id)
        .where(Response.status == ResponseStatus.REPORTABLE)
        .group_by(Unit.code)
        .order_by(Unit.code)
    )
    return [(code, count) for code, count in rows]

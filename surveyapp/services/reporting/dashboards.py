"""What a unit's dashboard and the indices API show, computed once here.

Counting happens in the database (reporting.counts); the figures come from analysis/. Every
figure carries its n, its interval and the publication verdict, so a page never shows a number
the rules hide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import (
    Index,
    PublicationRules,
    mann_kendall,
    period_change,
    yamane,
)
from analysis.trends import Change, MannKendall
from surveyapp.db import AnySelect
from surveyapp.models import (
    AnswerCount,
    Campaign,
    Case,
    Channel,
    Comment,
    Dossier,
    Instrument,
    InstrumentStatus,
    Item,
    Response,
    Stream,
    Unit,
    campaign_units,
)
from surveyapp.services.access import Scope
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.feedback import triage
from surveyapp.services.instruments.snapshots import InstrumentView, instrument_view
from surveyapp.services.org import lineage, units
from surveyapp.services.periods import Period, months_of, previous_period, trailing_months
from surveyapp.services.reporting import counts
from surveyapp.services.reporting.counts import Filters
from surveyapp.services.reporting.figures import Figure, figure

# Instruments with their own pages (per-dossier ratings), never a unit dashboard's default.
OWN_PAGE_INSTRUMENTS = frozenset({"TT01"})


def figures_of(
    instrument: InstrumentView,
    item_counts: dict[int, dict[int, int]],
    code: str,
    rules: PublicationRules,
) -> tuple[Figure, list[Figure], dict[str, list[Figure]]]:
    """(SIPAS, elements, element code → items) for one set of item counts."""
    index = counts.index_of(instrument, item_counts, code)
    n = counts.respondents(item_counts)
    element_items = {
        element.code: [i.id for i in instrument.items if i.element_id == element.id]
        for element in instrument.elements
    }
    elements = []
    items: dict[str, list[Figure]] = {}
    for element in _elements(index):
        element_n = counts.respondents(item_counts, element_items.get(element.code, []))
        elements.append(figure(element, element_n, rules))
        items[element.code] = [figure(item, item.valid, rules) for item in element.parts]
    return figure(index, n, rules), elements, items


def _elements(index: Index) -> list[Index]:
    """The element indices under SIPAS (domains in between are walked through)."""
    out = []
    for part in index.parts:
        if part.parts and part.parts[0].method != "share":
            out.extend(_elements(part))
        else:
            out.append(part)
    return out


@dataclass(frozen=True)
class Comparison:
    other: Figure
    change: Change | None  # this figure minus the other, with Newcombe's interval

    @property
    def difference(self) -> float | None:
        return None if self.change is None else 100 * self.change.difference


def compare(this: Figure, other: Figure) -> Comparison:
    """This figure minus the other, treating each index as a share of its n respondents (the
    same convention as its interval): Newcombe's interval (Newcombe 1998, method 10) and the
    score test (Miettinen & Nurminen 1985)."""
    if not (this.shown and other.shown):
        return Comparison(other, None)
    share_now = float(this.index.value or 0) / 100
    share_before = float(other.index.value or 0) / 100
    change = period_change(share_now * this.n, this.n, share_before * other.n, other.n)
    return Comparison(other, change)


@dataclass(frozen=True)
class MonthPoint:
    month: int  # YYYYMM
    figure: Figure

    @property
    def label(self) -> str:
        return f"{self.month % 100:02d}/{self.month // 100}"


@dataclass(frozen=True)
class Progress:
    """Responses collected against the campaign's target sample (Yamane 1967: n = N / (1 +
    N·e²))."""

    campaign: Campaign
    population: int  # dossiers returned in the period (N)
    target: int
    collected: int

    @property
    def share(self) -> float:
        return min(self.collected / self.target, 1.0) if self.target else 1.0


@dataclass(frozen=True)
class CommentRow:
    body: str
    submitted_at: datetime
    unit_name: str
    case_id: int | None
    kind: str = "feedback"  # or compliment (services.feedback.triage)


@dataclass(frozen=True)
class Query:
    """What a dashboard shows: period, instrument (None: the most answered) and filters."""

    period: Period
    stream: Stream | None = None
    filters: Filters = field(default_factory=Filters)
    instrument_code: str | None = None


@dataclass(frozen=True)
class UnitDashboard:
    unit: Unit
    query: Query
    instrument: InstrumentView
    instruments: list[tuple[str, dict[str, str]]]  # code, name of instruments with answers
    sipas: Figure
    elements: list[Figure]
    items: dict[str, list[Figure]]
    parent: Comparison | None
    previous: Comparison | None
    previous_period: Period
    trend: list[MonthPoint]
    trend_test: MannKendall | None
    channels: list[tuple[Channel, int]]
    progress: list[Progress]
    comments: list[CommentRow]
    flagged: int  # responses counted here that are flagged for review
    # Low ratings that opened no case (anonymous, without text): the unit's low-rating signal.
    low_signal: int
    rules: PublicationRules
    element_names: dict[str, dict[str, str]]


def answered_instruments(
    session: Session, unit_ids: Sequence[int], period: Period
) -> list[Instrument]:
    """Published instruments with answers at these units in the period, most answered first."""
    answers = func.sum(AnswerCount.count)
    rows = session.execute(
        select(Item.instrument_id, answers)
        .join(Item, Item.id == AnswerCount.item_id)
        .where(
            AnswerCount.unit_id.in_(unit_ids),
            AnswerCount.period.between(period.first_month, period.last_month),
        )
        .group_by(Item.instrument_id)
        .order_by(answers.desc())
    ).all()
    found = {
        i.id: i
        for i in session.scalars(select(Instrument).where(Instrument.id.in_([r[0] for r in rows])))
    }
    return [found[r[0]] for r in rows if r[0] in found]


def choose_instrument(
    session: Session, unit_ids: Sequence[int], period: Period, code: str | None
) -> tuple[InstrumentView, list[Instrument]]:
    answered = answered_instruments(session, unit_ids, period)
    if code is not None:
        chosen = session.scalar(
            select(Instrument)
            .where(Instrument.code == code, Instrument.status == InstrumentStatus.PUBLISHED)
            .order_by(Instrument.version.desc())
        )
        if chosen is None:
            raise InvalidInput(
                N_("Không có phiếu khảo sát %(code)s."), field="instrument", code=code[:40]
            )
    else:
        usual = [i for i in answered if i.code not in OWN_PAGE_INSTRUMENTS]
        chosen = usual[0] if usual else None
        if chosen is None:
            chosen = session.scalar(
                select(Instrument)
                .where(Instrument.status == InstrumentStatus.PUBLISHED)
                .where(Instrument.code.not_in(OWN_PAGE_INSTRUMENTS))
                .order_by(Instrument.id.desc())
            )
        if chosen is None:
            raise NotFound(N_("Chưa có phiếu khảo sát nào được công bố."))
    return instrument_view(session, chosen.id, chosen.source_hash), answered


def unit_dashboard(
    session: Session,
    unit: Unit,
    query: Query,
    *,
    scope: Scope,
    timezone: str,
    rules: PublicationRules | None = None,
    comments: int = 5,
) -> UnitDashboard:
    rules = rules or PublicationRules()
    # With the predecessors' answers; the parent's too, in the same read of the tree.
    pooled = lineage.pooled_ids(session, [unit, *([unit.parent] if unit.parent else [])])
    ids = pooled[unit.id]
    instrument, answered = choose_instrument(session, ids, query.period, query.instrument_code)

    def counts_over(unit_ids: Sequence[int], period: Period) -> dict[int, dict[int, int]]:
        by_unit = counts.count_answers(
            session, unit_ids, period, instrument, query.stream, query.filters, timezone
        )
        return counts.merge(by_unit, unit_ids)

    sipas, elements, items = figures_of(
        instrument, counts_over(ids, query.period), unit.code, rules
    )
    before = previous_period(query.period)
    previous, _, _ = figures_of(instrument, counts_over(ids, before), unit.code, rules)
    parent = None
    if unit.parent is not None:
        parent_ids = pooled[unit.parent.id]
        other, _, _ = figures_of(
            instrument, counts_over(parent_ids, query.period), unit.parent.code, rules
        )
        parent = compare(sipas, other)
    trend = monthly_trend(session, ids, query, instrument, timezone, rules)
    series = [float(p.figure.index.value) for p in trend if p.figure.shown]  # type: ignore[arg-type]
    return UnitDashboard(
        unit=unit,
        query=query,
        instrument=instrument,
        instruments=[(i.code, i.name) for i in answered],
        sipas=sipas,
        elements=elements,
        items=items,
        parent=parent,
        previous=compare(sipas, previous),
        previous_period=before,
        trend=trend,
        trend_test=mann_kendall(series) if len(series) >= 4 else None,
        channels=channel_mix(session, ids, query, instrument.id, timezone),
        progress=sample_progress(session, unit, ids, query, instrument, sipas.n, timezone),
        comments=newest_comments(session, scope, ids, query, timezone, comments),
        flagged=count_flagged(session, scope, ids, query, timezone),
        low_signal=count_low_signal(session, scope, ids, query, timezone),
        rules=rules,
        element_names={e.code: e.name for e in instrument.elements},
    )


def monthly_trend(
    session: Session,
    unit_ids: Sequence[int],
    query: Query,
    instrument: InstrumentView,
    timezone: str,
    rules: PublicationRules,
) -> list[MonthPoint]:
    """SIPAS month by month over the twelve months ending with the period (one GROUP BY)."""
    window = trailing_months(query.period, 12)
    by_month = counts.count_answers(
        session, unit_ids, window, instrument, query.stream, query.filters, timezone, by="month"
    )
    return [
        MonthPoint(month, figures_of(instrument, by_month.get(month, {}), str(month), rules)[0])
        for month in months_of(window)
    ]


def _counted(columns: AnySelect, unit_ids: Sequence[int], query: Query, timezone: str) -> AnySelect:
    """``columns`` over the responses a dashboard counts (unit subtree, period, filters)."""
    return counts.filter_responses(
        columns.select_from(Response), unit_ids, query.period, query.stream, query.filters, timezone
    )


def channel_mix(
    session: Session, unit_ids: Sequence[int], query: Query, instrument_id: int, timezone: str
) -> list[tuple[Channel, int]]:
    """Responses to the dashboard's instrument by channel."""
    rows = session.execute(
        _counted(select(Response.channel, func.count()), unit_ids, query, timezone)
        .where(Response.instrument_id == instrument_id)
        .group_by(Response.channel)
    )
    by_channel = {Channel(c): int(n) for c, n in rows}
    return [(c, by_channel[c]) for c in Channel if by_channel.get(c)]


def sample_progress(
    session: Session,
    unit: Unit,
    unit_ids: Sequence[int],
    query: Query,
    instrument: InstrumentView,
    collected: int,
    timezone: str,
) -> list[Progress]:
    """For each campaign of this instrument covering the unit during the period: the Yamane target
    from the dossiers returned in the period (the campaign's own minimum when none are recorded)."""
    campaigns = session.scalars(
        select(Campaign)
        .join(campaign_units, campaign_units.c.campaign_id == Campaign.id)
        .where(
            campaign_units.c.unit_id.in_(units.ancestor_ids(unit)),
            Campaign.instrument_id == instrument.id,
            Campaign.starts_on <= query.period.end,
            Campaign.ends_on >= query.period.start,
        )
        .distinct()
        .order_by(Campaign.starts_on)
    ).all()
    if not campaigns:
        return []
    start, end = query.period.bounds(timezone)
    place = query.filters.attribution.unit_of(Dossier.unit_id)
    population = int(
        session.scalar(
            select(func.count())
            .select_from(Dossier)
            .where(
                place.in_(unit_ids),
                Dossier.returned_at >= start,
                Dossier.returned_at < end,
            )
        )
        or 0
    )
    out = []
    for campaign in campaigns:
        target = yamane(population, campaign.margin) if population else campaign.min_n
        out.append(Progress(campaign, population, max(target, 0), collected))
    return out


def newest_comments(
    session: Session,
    scope: Scope,
    unit_ids: Sequence[int],
    query: Query,
    timezone: str,
    limit: int,
) -> list[CommentRow]:
    """The newest comments of the subtree, from the units the scope may open only."""
    rows = session.execute(
        _counted(
            select(Comment.body, Response.submitted_at, Unit.name, Case.id, Comment.kind),
            unit_ids,
            query,
            timezone,
        )
        .join(Comment, Comment.response_id == Response.id)
        .join(Unit, Unit.id == Response.unit_id)
        .outerjoin(Case, Case.response_id == Response.id)
        .where(scope.where(Response.unit_id), Comment.kind != triage.EMPTY)
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
    )
    return [CommentRow(*row) for row in rows]


def count_low_signal(
    session: Session, scope: Scope, unit_ids: Sequence[int], query: Query, timezone: str
) -> int:
    """Low ratings the dashboard counts that opened no case: no contact, no dossier, no text."""
    return int(
        session.scalar(
            _counted(select(func.count()), unit_ids, query, timezone)
            .outerjoin(Case, Case.response_id == Response.id)
            .where(Response.low_rating.is_(True), Case.id.is_(None), scope.where(Response.unit_id))
        )
        or 0
    )


def count_flagged(
    session: Session, scope: Scope, unit_ids: Sequence[int], query: Query, timezone: str
) -> int:
    """Responses the dashboard counts that are flagged for review, in units the scope opens."""
    return int(
        session.scalar(
            _counted(select(func.count()), unit_ids, query, timezone).where(
                Response.is_flagged.is_(True), scope.where(Response.unit_id)
            )
        )
        or 0
    )


def feedback_summary(
    session: Session, unit: Unit, query: Query, timezone: str
) -> tuple[int, dict[str, int]]:
    """(written comments, cases by status) for the responses the unit's dashboard counts."""
    unit_ids = units.subtree_ids(session, unit)
    comments = session.scalar(
        _counted(select(func.count()), unit_ids, query, timezone).join(
            Comment, Comment.response_id == Response.id
        )
    )
    rows = session.execute(
        _counted(select(Case.status, func.count()), unit_ids, query, timezone)
        .join(Case, Case.response_id == Response.id)
        .group_by(Case.status)
    )
    return int(comments or 0), {str(getattr(status, "value", status)): int(n) for status, n in rows}

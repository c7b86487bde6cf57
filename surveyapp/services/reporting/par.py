"""PAR-index tables: survey indices of a level of units → survey points, totals, ranks, bands."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import (
    Band,
    Criterion,
    Index,
    Interval,
    ParScore,
    PublicationRules,
    answer_points_index,
    band_of,
    criterion_points,
    find,
    par_score,
    rank,
    weighted_groups,
)
from analysis.publication import Verdict
from surveyapp.models import ParScheme, Stream, Unit, UnitLevel
from surveyapp.services.instruments import publishing
from surveyapp.services.instruments.snapshots import InstrumentView, instrument_view
from surveyapp.services.org import lineage
from surveyapp.services.par import rounds
from surveyapp.services.periods import Period
from surveyapp.services.reporting import counts, figures
from surveyapp.services.reporting.counts import UnitRow


def parse_criteria(raw: list[dict[str, Any]]) -> tuple[Criterion, ...]:
    """The stored criteria of a scheme (checked when saved: services.par.settings)."""
    return tuple(
        Criterion(
            str(entry["code"]),
            str(entry.get("source", "SIPAS")),
            Decimal(str(entry["max_points"])),
            entry.get("method", "linear"),
            tuple(
                Band(
                    Decimal(str(b["lower"])),
                    None if b.get("upper") is None else Decimal(str(b["upper"])),
                    Decimal(str(b["points"])),
                )
                for b in entry.get("bands", [])
            ),
        )
        for entry in raw
    )


_Row = tuple[
    UnitRow, Interval | None, Verdict, dict[str, Decimal], Decimal | None, ParScore | None, bool
]


@dataclass(frozen=True)
class GroupSpec:
    """Where a criterion's index comes from when respondent groups rate it."""

    instrument: InstrumentView
    source: str
    weights: dict[str, Fraction]
    shares: dict[int, Fraction]  # answer level → share of the points; empty: satisfaction rule


@dataclass(frozen=True)
class GroupSources:
    """The respondent groups' answers a scheme's group criteria read, for a level's units."""

    specs: dict[str, GroupSpec]
    counts: Mapping[str, Mapping[str, Mapping[int, dict[int, dict[int, int]]]]]  # instr → group

    @classmethod
    def of(
        cls,
        session: Session,
        province: Unit,
        units: list[Unit],
        period: Period,
        scheme: ParScheme | None,
    ) -> GroupSources:
        specs: dict[str, GroupSpec] = {}
        for raw in scheme.criteria if scheme is not None else []:
            if not raw.get("groups"):
                continue
            found = publishing.get_instrument(session, raw["instrument"])
            specs[raw["code"]] = GroupSpec(
                instrument_view(session, found.id, found.source_hash),
                str(raw.get("source", "SIPAS")),
                {g: Fraction(w) for g, w in raw["groups"].items()},
                {int(k): Fraction(v) for k, v in raw.get("answer_points", {}).items()},
            )
        counts = {
            code: rounds.group_counts(
                session,
                province,
                [u.id for u in units],
                period,
                code,
                {g for s in specs.values() if s.instrument.code == code for g in s.weights},
            )
            for code in {s.instrument.code for s in specs.values()}
        }
        return cls(specs, counts)

    def index(self, criterion: str, unit_id: int) -> Fraction | None:
        spec = self.specs[criterion]
        by_group = self.counts[spec.instrument.code]
        indices: dict[str, Fraction | None] = {}
        for group in spec.weights:
            item_counts = by_group.get(group, {}).get(unit_id, {})
            if spec.shares:
                wanted = _source_items(spec.instrument, spec.source)
                pooled: dict[int, int] = defaultdict(int)
                for item_id in wanted:
                    for level, n in item_counts.get(item_id, {}).items():
                        pooled[level] += n
                indices[group] = answer_points_index(pooled, spec.shares)
            else:
                tree = counts.index_of(spec.instrument, dict(item_counts))
                found = tree if spec.source == "SIPAS" else find(tree, spec.source)
                value = found.value if found is not None else None
                indices[group] = None if value is None else Fraction(value)
        return weighted_groups(indices, spec.weights)

    def n_of(self, unit_id: int) -> dict[str, int]:
        """Answers per group for the unit (respondents: its most-answered item)."""
        out: dict[str, int] = {}
        for by_group in self.counts.values():
            for group, by_unit in by_group.items():
                out[group] = max(
                    out.get(group, 0), counts.respondents(dict(by_unit.get(unit_id, {})))
                )
        return out


def _source_items(instrument: InstrumentView, source: str) -> list[int]:
    """The rating items an index pools: all of them (SIPAS), an element's, or one item."""
    return [
        item.id
        for item in instrument.items
        if item.element is not None
        and (source == "SIPAS" or item.element.code == source or item.code == source)
    ]


@dataclass(frozen=True)
class ParRow:
    unit: Unit
    respondents: int
    index: Index  # the whole tree: SIPAS, elements, items
    interval: Interval | None  # of SIPAS, Wilson at the respondents' n (tables; see README)
    verdict: Verdict
    points: dict[str, Decimal]  # criterion code → points
    survey_points: Decimal | None  # None without PAR settings
    group_n: dict[str, int]  # respondent group code → answers (the scheme's group criteria)
    appraisal_points: Decimal | None
    total: Decimal | None
    par_index: Decimal | None
    rank: int | None
    band: str | None


def par_table(
    session: Session,
    scheme: ParScheme,
    period: Period,
    appraisal: Mapping[str, Decimal] | None = None,
    stream: Stream | None = Stream.OFFICIAL,
    rules: PublicationRules | None = None,
    *,
    timezone: str,
) -> list[ParRow]:
    """The PAR table of a scheme's level in its province, by its settings."""
    instrument = publishing.get_instrument(session, scheme.instrument_code)
    return level_table(
        session,
        session.get_one(Unit, scheme.province_id),
        scheme.level,
        instrument_view(session, instrument.id, instrument.source_hash),
        period,
        scheme,
        appraisal,
        stream,
        rules,
        timezone=timezone,
    )


def level_table(
    session: Session,
    province: Unit,
    level: UnitLevel,
    view: InstrumentView,
    period: Period,
    scheme: ParScheme | None,
    appraisal: Mapping[str, Decimal] | None = None,
    stream: Stream | None = Stream.OFFICIAL,
    rules: PublicationRules | None = None,
    *,
    timezone: str,
) -> list[ParRow]:
    """One row per unit of ``level`` in the province, ranked (ties share a rank; units flagged by
    the publication rules get no rank). With settings: survey points, and with appraisal points
    the totals, ranked by total (else by survey points). Without settings (``scheme`` None): the
    indices only, ranked by SIPAS, points left empty."""
    rules = rules or PublicationRules()
    ended = lineage.ended_before(session, period)  # merged away before the period
    units = [
        u
        for u in session.scalars(
            select(Unit)
            .where(Unit.path.startswith(province.path), Unit.level == level)
            .order_by(Unit.code)
        )
        if u.id not in ended
    ]
    criteria = parse_criteria(scheme.criteria) if scheme is not None else ()
    groups = GroupSources.of(session, province, units, period, scheme)
    by_citizens = [c for c in criteria if c.code not in groups.specs]
    rows: list[_Row] = []
    for row in counts.unit_table(session, units, period, view, stream, None, timezone):
        shown = figures.figure(row.index, row.respondents, rules)
        points: dict[str, Decimal] = {}
        for criterion in criteria:
            if criterion.code in groups.specs:
                value = groups.index(criterion.code, row.unit.id)
            else:
                found = (
                    row.index if criterion.source == "SIPAS" else find(row.index, criterion.source)
                )
                value = found.value if found is not None else None
            if value is not None:
                points[criterion.code] = criterion_points(criterion, value)
        survey = sum(points.values(), Decimal(0)) if scheme is not None else None
        score = None
        if survey is not None:
            given = None if appraisal is None else appraisal.get(row.unit.code)
            score = par_score(row.unit.code, survey, given, 100)
        # A unit is ranked when its citizens' figure may be (if a criterion uses it) and every
        # respondent-group criterion has answers.
        complete = all(c.code in points for c in criteria if c.code in groups.specs)
        cited = row.index.value is not None and shown.verdict.rankable
        rankable = complete and (cited if by_citizens or scheme is None else True)
        rows.append((row, shown.interval, shown.verdict, points, survey, score, rankable))

    def measure(survey: Decimal | None, score: ParScore | None, index: Index) -> Fraction:
        if score is not None and score.total is not None:
            return Fraction(score.total)
        if survey is not None:
            return Fraction(survey)
        return Fraction(index.value) if index.value is not None else Fraction(0)

    ranks = rank(
        {
            row.unit.code: measure(survey, score, row.index)
            for row, _, _, _, survey, score, rankable in rows
            if rankable
        }
    )
    bands = [(b["label"], Decimal(b["lower"])) for b in scheme.ranking_bands] if scheme else []
    out = []
    for row, interval, verdict, points, survey, score, _ in rows:
        par_index = score.par_index if score is not None else None
        out.append(
            ParRow(
                row.unit,
                row.respondents,
                row.index,
                interval,
                verdict,
                points,
                survey,
                groups.n_of(row.unit.id),
                score.appraisal_points if score is not None else None,
                score.total if score is not None else None,
                par_index,
                ranks.get(row.unit.code),
                band_of(par_index, bands) if par_index is not None and bands else None,
            )
        )
    return out

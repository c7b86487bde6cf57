"""From satisfaction to PAR-index points (each province's PAR decision; QĐ 876/QĐ-BNV for the
national index).

Conversion rules, maximum points and bands are set per province, unit level and year: they are
arguments here, never constants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from analysis.rounding import Number, round_half_up


def linear_points(index_percent: Number, max_points: Number, places: int = 2) -> Decimal:
    """points = max_points × index% / 100, rounded half up to 2 decimals (linear conversion, as PAR
    decisions set it; e.g. Hà Tĩnh 2021: 91.17% of 10 points = 9.12).

    Check case (Hà Tĩnh 2021): SIPAS 91.17% of 10 points → 9.12.
    """
    _check_percent(index_percent)
    return round_half_up(Fraction(max_points) * Fraction(index_percent) / 100, places)


@dataclass(frozen=True)
class Band:
    """A row of a banded conversion: index in [lower, upper) gives ``points``."""

    lower: Decimal
    upper: Decimal | None  # None: no upper bound (includes 100)
    points: Decimal


def banded_points(index_percent: Number, table: Sequence[Band]) -> Decimal:
    """Points from the band that holds the index (lower bound inclusive, upper exclusive)."""
    _check_percent(index_percent)
    value = Fraction(index_percent)
    for band in table:
        if value >= Fraction(band.lower) and (band.upper is None or value < Fraction(band.upper)):
            return band.points
    raise ValueError(f"{index_percent}% falls in no band of the table")


@dataclass(frozen=True)
class Criterion:
    """A survey-based PAR criterion: its source index, maximum points and conversion."""

    code: str
    source: str  # code of the index it is computed from, e.g. "SIPAS" or an element code
    max_points: Decimal
    method: str = "linear"  # or "banded"
    bands: tuple[Band, ...] = ()


def criterion_points(criterion: Criterion, index_percent: Number) -> Decimal:
    if criterion.method == "banded":
        return banded_points(index_percent, criterion.bands)
    if criterion.method == "linear":
        return linear_points(index_percent, criterion.max_points)
    raise ValueError(f"unknown conversion {criterion.method!r}")


def answer_points_index(counts: Mapping[int, int], shares: Mapping[int, Number]) -> Fraction | None:
    """Index % by an answer-to-points rule: 100 × Σ n_l·s_l / Σ n_l, where s_l ∈ [0, 1] is the
    share of the criterion's points the province's PAR decision gives an answer at level l (e.g.
    "Rất tốt" 1, "Tốt" 0.75, …, as a QĐ …/QĐ-UBND on the province's PAR index sets them). Levels
    the rule does not name ("don't know") are left out of the denominator; None without answers.

    Check case: 6 answers at level 5 (share 1) and 2 at level 3 (share 0.5), 1 "don't know":
    100 × (6 + 1) / 8 = 87.5.
    """
    counted = {level: n for level, n in counts.items() if level in shares and n}
    total = sum(counted.values())
    if not total:
        return None
    for share in shares.values():
        if not 0 <= Fraction(share) <= 1:
            raise ValueError(f"a share of points must be between 0 and 1, not {share}")
    points = sum((Fraction(shares[level]) * n for level, n in counted.items()), Fraction(0))
    return 100 * points / total


def weighted_groups(
    indices: Mapping[str, Number | None], weights: Mapping[str, Number]
) -> Fraction | None:
    """A criterion rated by several respondent groups: Σ w_g·I_g / Σ w_g, the weighted mean of
    the groups' indices with the weights of the province's PAR decision (e.g. civil servants 0.5,
    heads 0.2, businesses 0.3). A group without answers (index None) is left out and the other
    weights count in proportion; None when no weighted group has answers.

    Check case: I = {CC: 80, LD: 90, DN: None}, w = {CC: 0.5, LD: 0.2, DN: 0.3}:
    (0.5·80 + 0.2·90) / 0.7 = 58 / 0.7 = 82 6/7.
    """
    present = {g: Fraction(i) for g, i in indices.items() if i is not None and g in weights}
    total = sum((Fraction(weights[g]) for g in present), Fraction(0))
    if not present or total <= 0:
        return None
    return sum((Fraction(weights[g]) * i for g, i in present.items()), Fraction(0)) / total


@dataclass(frozen=True)
class ParScore:
    unit: str
    survey_points: Decimal
    appraisal_points: Decimal | None
    total: Decimal | None
    par_index: Decimal | None  # total / max × 100, 2 decimals


def par_score(
    unit: str,
    survey_points: Decimal,
    appraisal_points: Decimal | None,
    max_total: Number = 100,
) -> ParScore:
    """PAR total = appraisal points + survey points; PAR index % = total / max × 100."""
    if appraisal_points is None:
        return ParScore(unit, survey_points, None, None, None)
    total = appraisal_points + survey_points
    index = round_half_up(Fraction(total) * 100 / Fraction(max_total), 2)
    return ParScore(unit, survey_points, appraisal_points, total, index)


def rank(scores: Mapping[str, Number]) -> dict[str, int]:
    """Standard competition ranking by score, highest first: ties share a rank (1, 2, 2, 4)."""
    ordered = sorted(scores.items(), key=lambda kv: Fraction(kv[1]), reverse=True)
    ranks: dict[str, int] = {}
    previous = None
    for position, (unit, score) in enumerate(ordered, start=1):
        value = Fraction(score)
        if value != previous:
            current, previous = position, value
        ranks[unit] = current
    return ranks


def band_of(value: Number, bands: Sequence[tuple[str, Number]]) -> str | None:
    """The label of the highest band whose lower bound (inclusive) is not above ``value``,
    e.g. (("A", 90), ("B", 80), ("C", 70)); None below every band."""
    for label, lower in sorted(bands, key=lambda b: Fraction(b[1]), reverse=True):
        if Fraction(value) >= Fraction(lower):
            return label
    return None


def _check_percent(value: Number) -> None:
    if not 0 <= Fraction(value) <= 100:
        raise ValueError(f"an index must be between 0 and 100, not {value}")

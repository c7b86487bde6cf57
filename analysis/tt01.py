"""Per-dossier ratings of Thông tư 01/2018/TT-VPCP (Điều 13 and 15).

Nine indicators scored 0, 1 or 2 points on each dossier. Indicators 1, 2, 3, 4, 7 score the
official (10 points at most); 5, 6, 8, 9 the agency (8 at most).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from analysis.rounding import round_half_up

OFFICIAL_INDICATORS = ("T1", "T2", "T3", "T4", "T7")
AGENCY_INDICATORS = ("T5", "T6", "T8", "T9")

# (label, lower bound inclusive) from the top; one implementation's bands out of 18, without the
# gap it left at exactly 15 (the bands of one provincial implementation): 15 and above is Xuất sắc.
DEFAULT_BANDS_18 = (
    ("Xuất sắc", Decimal(15)),
    ("Tốt", Decimal(12)),
    ("Khá", Decimal(9)),
    ("Trung bình", Decimal(6)),
    ("Yếu", Decimal(0)),
)


@dataclass(frozen=True)
class IndicatorScore:
    code: str
    points: int  # sum over the rated dossiers
    dossiers: int  # dossiers with a score on this indicator (not "không áp dụng")
    score: Decimal | None  # points / dossiers, rounded to 1 decimal half up


@dataclass(frozen=True)
class TT01Result:
    indicators: tuple[IndicatorScore, ...]
    official_total: Decimal  # Σ of the rounded scores of indicators 1, 2, 3, 4, 7 (max 10)
    agency_total: Decimal  # Σ of the rounded scores of indicators 5, 6, 8, 9 (max 8)
    total: Decimal  # both (max 18)
    dossiers: int  # dossiers rated


def indicator_score(code: str, points: int, dossiers: int, places: int = 1) -> IndicatorScore:
    """Score_i = Σ points / number of dossiers, rounded to 1 decimal (Thông tư 01, Điều 15)."""
    if points < 0 or dossiers < 0 or points > 2 * dossiers:
        raise ValueError(f"{code}: {points} points cannot come from {dossiers} dossiers of 0–2")
    score = round_half_up(Fraction(points, dossiers), places) if dossiers else None
    return IndicatorScore(code, points, dossiers, score)


def tt01_scores(
    points: Mapping[str, int], dossiers: Mapping[str, int], rated: int | None = None
) -> TT01Result:
    """Indicator scores and the official's and agency's totals (sums of the rounded scores)."""
    scores = tuple(
        indicator_score(code, points.get(code, 0), dossiers.get(code, 0))
        for code in sorted({*OFFICIAL_INDICATORS, *AGENCY_INDICATORS}, key=lambda c: int(c[1:]))
    )
    by_code = {s.code: s.score or Decimal(0) for s in scores}
    official = sum((by_code[c] for c in OFFICIAL_INDICATORS), Decimal(0))
    agency = sum((by_code[c] for c in AGENCY_INDICATORS), Decimal(0))
    return TT01Result(
        scores,
        official,
        agency,
        official + agency,
        rated if rated is not None else max(dossiers.values(), default=0),
    )


def classify(total: Decimal, bands: Sequence[tuple[str, Decimal]] = DEFAULT_BANDS_18) -> str:
    """The band whose lower bound (inclusive) is the highest one not above ``total``."""
    for label, lower in sorted(bands, key=lambda band: band[1], reverse=True):
        if total >= lower:
            return label
    raise ValueError(f"{total} is below every band")

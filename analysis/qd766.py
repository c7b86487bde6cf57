"""The satisfaction group of the real-time service index (Quyết định 766/QĐ-TTg of 23 June 2022,
"Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp"): three
rates, each a share in percent of a count the decision names.

Each takes counts, never records: which records count is the caller's rule (services.reporting.
qd766 says it). A rate of nothing (a denominator of 0) is None, never 0 or 100 and never NaN: a
unit with no feedback in a month has no rate for it.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from analysis.rounding import round_half_up


def _share(part: int, whole: int, places: int) -> Decimal | None:
    if part < 0 or whole < 0 or part > whole:
        raise ValueError(f"need 0 <= part <= whole, got {part} of {whole}")
    if whole == 0:
        return None
    return round_half_up(Fraction(100 * part, whole), places)


def on_time_rate(on_time: int, within_authority: int, places: int = 2) -> Decimal | None:
    """Feedback handled on time (QĐ 766/QĐ-TTg, satisfaction group): feedback handled on time or
    early ÷ feedback within the unit's authority, in percent, rounded half up.

    Example: 7 of 8 → 87.50.
    """
    return _share(on_time, within_authority, places)


def feedback_satisfaction(handled: int, unsatisfied: int, places: int = 2) -> Decimal | None:
    """Satisfaction with feedback handling (QĐ 766/QĐ-TTg, satisfaction group): (all handled −
    those the citizen marked unsatisfied or complained were late) ÷ all handled, in percent.

    Example: 6 handled, 1 unsatisfied → 5/6 = 83.33.
    """
    if unsatisfied > handled:
        raise ValueError(f"{unsatisfied} unsatisfied of {handled} handled")
    return _share(handled - unsatisfied, handled, places)


def dossier_satisfaction(dossiers: int, dissatisfied: int, places: int = 2) -> Decimal | None:
    """Satisfaction with dossier handling (QĐ 766/QĐ-TTg, satisfaction group): (dossiers −
    those rated unsatisfied or with feedback about reception, handling or lateness) ÷ dossiers,
    in percent. Dossiers nobody rated count as not unsatisfied, as the decision's formula reads.

    Example: 12 dossiers, 3 of them unsatisfied → 75.00.
    """
    if dissatisfied > dossiers:
        raise ValueError(f"{dissatisfied} dissatisfied of {dossiers} dossiers")
    return _share(dossiers - dissatisfied, dossiers, places)

"""Exact values are rounded only for display and export, half up as Vietnamese reports do.

QĐ 1001/QĐ-BNV and Thông tư 01/2018/TT-VPCP figures: compute in exact decimals; 2 decimals for
percentages and PAR points, 1 decimal for
Thông tư 01 averages; ROUND_HALF_UP by default (configurable: ROUND_HALF_EVEN also supported).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

Number = Fraction | Decimal | int


def round_half_up(value: Number, places: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round an exact value to ``places`` decimals with integer arithmetic (no float, no early
    rounding): 0.125 → 0.13 and 91.165 → 91.17 half up; 1/3 → 0.33."""
    if rounding not in (ROUND_HALF_UP, ROUND_HALF_EVEN):
        raise ValueError(f"unsupported rounding mode {rounding!r}")
    exact = Fraction(value) * 10**places
    sign = -1 if exact < 0 else 1
    whole, rest = divmod(abs(exact.numerator), exact.denominator)
    twice = 2 * rest
    if twice > exact.denominator or (
        twice == exact.denominator and (rounding == ROUND_HALF_UP or whole % 2 == 1)
    ):
        whole += 1
    return Decimal(sign * whole).scaleb(-places)

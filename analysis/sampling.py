"""Sample sizes (SIPAS.md §4)."""

from __future__ import annotations

import math
from fractions import Fraction

from analysis.rounding import Number


def yamane(population: int, margin: Number = Fraction(1, 20)) -> int:
    """Target sample n = N / (1 + N·e²), rounded up (Yamane; SIPAS.md §4, e = 5% by default).

    N is the number of dossiers returned in the period. N = 1,200 gives 300.
    """
    if population < 0:
        raise ValueError("the population cannot be negative")
    e = Fraction(margin)
    if not 0 < e < 1:
        raise ValueError("the margin must be between 0 and 1")
    return math.ceil(Fraction(population) / (1 + population * e * e))

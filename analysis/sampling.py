"""Sample sizes (Yamane 1967), as SIPAS survey plans set them."""

from __future__ import annotations

import math
from fractions import Fraction

from analysis.rounding import Number


def yamane(population: int, margin: Number = Fraction(1, 20)) -> int:
    """Target sample n = N / (1 + N·e²), rounded up (Yamane 1967, e = 5% by default, as SIPAS survey
    plans use it).

    N is the number of dossiers returned in the period. N = 1,200 gives 300.
    """
    if population < 0:
        raise ValueError("the population cannot be negative")
    e = Fraction(margin)
    if not 0 < e < 1:
        raise ValueError("the margin must be between 0 and 1")
    return math.ceil(Fraction(population) / (1 + population * e * e))

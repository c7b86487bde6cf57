"""Frozen results: every figure carries the counts it was computed from."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from analysis.rounding import round_half_up


@dataclass(frozen=True)
class Interval:
    """A two-sided interval for a share, both ends in [0, 1]."""

    low: float
    high: float
    method: str
    confidence: float = 0.95


@dataclass(frozen=True)
class Index:
    """A satisfaction index in percent (exact), with the counts behind it.

    ``satisfied`` and ``valid`` are answer counts: for one item, the answers at a satisfied level
    and the answers at any level of the scale ("don't know" excluded); for an aggregate, their sums
    over the items it is built from. ``value`` is None when there is no valid answer.
    """

    code: str
    value: Fraction | None
    satisfied: int
    valid: int
    method: str  # "share" for an item; "mean" or "pooled" (or "weighted mean") for aggregates
    parts: tuple[Index, ...] = ()

    def percent(self, places: int = 2) -> Decimal | None:
        """The value for display and export: ROUND_HALF_UP to ``places`` decimals."""
        return None if self.value is None else round_half_up(self.value, places)

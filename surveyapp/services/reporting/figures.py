"""A figure as pages show it: an index with its table interval and its publication verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis import (
    Index,
    Interval,
    PublicationRules,
    assess,
    wilson,
)
from analysis.publication import Verdict


def table_interval(index: Index, n: int) -> Interval | None:
    """The interval shown with an index in tables: Wilson at ``n`` respondents for an aggregate,
    at the item's valid answers for an item (Wilson 1927; Newcombe 1998; see README, "Interval
    conventions")."""
    if index.value is None or not n:
        return None
    if index.method == "share":
        return wilson(index.satisfied, index.valid)
    return wilson(float(index.value) / 100 * n, n)


@dataclass(frozen=True)
class Figure:
    """An index as published: value, n, interval and the verdict of the publication rules."""

    index: Index
    n: int
    interval: Interval | None
    verdict: Verdict

    @property
    def shown(self) -> bool:
        return not self.verdict.hidden and self.index.value is not None

    @property
    def span(self) -> tuple[float | None, float | None, float | None]:
        """(value, interval low, interval high) in percent; None where not shown."""
        if not self.shown:
            return None, None, None
        value = float(self.index.value)  # type: ignore[arg-type]
        if self.interval is None:
            return value, None, None
        return value, 100 * self.interval.low, 100 * self.interval.high

    def as_dict(self) -> dict[str, Any]:
        shown = self.shown
        _, low, high = self.span
        return {
            "code": self.index.code,
            "value": float(self.index.percent()) if shown else None,  # type: ignore[arg-type]
            "ci_low": None if low is None else round(low, 2),
            "ci_high": None if high is None else round(high, 2),
            "n": self.n,
            "satisfied": self.index.satisfied,
            "valid": self.index.valid,
            "hidden": self.verdict.hidden,
            "low_reliability": self.verdict.low_reliability,
            "reason": self.verdict.reason,
        }


def figure(index: Index, n: int, rules: PublicationRules) -> Figure:
    """The index with its table interval and publication verdict, at ``n`` respondents for an
    aggregate or the item's valid answers."""
    interval = table_interval(index, n)
    size = index.valid if index.method == "share" else n
    return Figure(index, size, interval, assess(size, size, interval, rules))

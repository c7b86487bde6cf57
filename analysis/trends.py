"""Change over time: period differences with Newcombe intervals, Mann–Kendall with Sen's slope on a
monthly index, p-chart limits for an unusual month.

Degenerate data: two identical 0 % or 100 % shares have p = 1 (see analysis.compare); no
respondents in either period is no comparison (None); a month with no respondents has no share
(None) on the p-chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, theilslopes

from analysis.compare import share_difference_p
from analysis.intervals import newcombe_difference
from analysis.types import Interval


@dataclass(frozen=True)
class Change:
    """Share now minus share before, with Newcombe's interval and the score test."""

    difference: float
    interval: Interval | None
    p_value: float


def period_change(
    satisfied_now: float, n_now: float, satisfied_before: float, n_before: float
) -> Change | None:
    """Month-on-month or year-on-year change of a share: Newcombe's hybrid score interval
    (Newcombe 1998, method 10) and the score test (Miettinen & Nurminen 1985). Counts may be
    fractional, for an index read as a share of its respondents. None when either period has no
    respondents; p = 1 when both shares are 0 % or both 100 %."""
    if not n_now or not n_before:
        return None
    return Change(
        satisfied_now / n_now - satisfied_before / n_before,
        newcombe_difference(satisfied_now, n_now, satisfied_before, n_before),
        share_difference_p(satisfied_now, n_now, satisfied_before, n_before),
    )


@dataclass(frozen=True)
class MannKendall:
    s: int
    variance: float
    z: float
    p_value: float
    tau: float
    sen_slope: float
    slope_low: float
    slope_high: float

    @property
    def trend(self) -> str:
        if self.p_value >= 0.05:
            return "none"
        return "increasing" if self.s > 0 else "decreasing"


def mann_kendall(series: Sequence[float]) -> MannKendall | None:
    """Mann–Kendall test with the tie-corrected variance and Sen's slope (Mann 1945; Kendall 1975;
    Sen 1968).

    S = Σ_{i<j} sgn(x_j − x_i); Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18;
    Z = (S − sgn S)/√Var; two-sided normal p. Needs at least 3 points (8–10 to be useful).
    """
    x = np.asarray(series, dtype=float)
    n = len(x)
    if n < 3:
        return None
    diffs = np.sign(x[None, :] - x[:, None])
    s = int(np.triu(diffs, k=1).sum())
    _, ties = np.unique(x, return_counts=True)
    variance = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18
    z = (s - np.sign(s)) / math.sqrt(variance) if variance > 0 else 0.0
    slope, _intercept, low, high = theilslopes(x, np.arange(n), alpha=0.95, method="separate")
    return MannKendall(
        s,
        variance,
        float(z),
        float(2 * norm.sf(abs(z))),
        s / (n * (n - 1) / 2),
        float(slope),
        float(low),
        float(high),
    )


@dataclass(frozen=True)
class ChartPoint:
    share: float | None  # None: no respondents that month
    low: float
    high: float
    outside: bool


def p_chart(satisfied: Sequence[int], n: Sequence[int]) -> tuple[float, list[ChartPoint]]:
    """p-chart: centre p̄ = Σx/Σn, limits p̄ ± 3·sqrt(p̄(1−p̄)/n_t); months outside are flagged."""
    total = sum(n)
    centre = sum(satisfied) / total if total else 0.0
    points = []
    for x, m in zip(satisfied, n, strict=True):
        if not m:
            points.append(ChartPoint(None, 0.0, 1.0, False))
            continue
        half = 3 * math.sqrt(centre * (1 - centre) / m)
        low, high = max(centre - half, 0.0), min(centre + half, 1.0)
        share = x / m
        points.append(ChartPoint(share, low, high, share < low or share > high))
    return centre, points

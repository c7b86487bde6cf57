"""Comparing units fairly (STATISTICS.md §6): χ² with Cramér's V, pairwise Newcombe intervals with
Holm, Kruskal–Wallis then Dunn, Benjamini–Hochberg, funnel-plot limits."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2_contingency, kruskal, norm, rankdata
from scipy.stats.contingency import association
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import test_proportions_2indep

from analysis.intervals import newcombe_difference
from analysis.types import Interval


@dataclass(frozen=True)
class TestResult:
    method: str
    statistic: float
    p_value: float
    dof: float | None = None
    effect: float | None = None  # Cramér's V for χ²
    n: int = 0


def adjust(p_values: Sequence[float], method: str = "holm") -> list[float]:
    """Adjusted p-values: "holm" (family-wise, the default) or "bh" (false discovery rate).

    statsmodels' own default is Holm–Šidák, so the method is always passed (STATISTICS.md §6.3).
    """
    if not p_values:
        return []
    name = {"holm": "holm", "bh": "fdr_bh"}[method]
    return [float(p) for p in multipletests(list(p_values), method=name)[1]]


def chi_square(satisfied: Sequence[int], valid: Sequence[int]) -> TestResult:
    """χ² test that k units share one satisfied proportion, with Cramér's V (STATISTICS.md §6.1).

    Yates' correction applies only to 2×2 tables, as scipy does with ``correction=True``.
    """
    table = np.array([[s, v - s] for s, v in zip(satisfied, valid, strict=True)])
    result = chi2_contingency(table, correction=True)
    v = association(table, method="cramer", correction=False)
    return TestResult(
        "chi-square",
        float(result.statistic),
        float(result.pvalue),
        float(result.dof),
        float(v),
        int(table.sum()),
    )


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    difference: float  # p_first − p_second
    interval: Interval | None  # Newcombe
    p_value: float  # score test
    p_adjusted: float  # Holm over all pairs


def pairwise(units: Mapping[str, tuple[int, int]], method: str = "holm") -> list[Pair]:
    """Every pair of units: difference of shares, Newcombe interval, score test, adjusted p."""
    raw = []
    for (a, (sa, na)), (b, (sb, nb)) in itertools.combinations(units.items(), 2):
        test = test_proportions_2indep(sa, na, sb, nb, method="score", compare="diff")
        raw.append(
            (a, b, sa / na - sb / nb, newcombe_difference(sa, na, sb, nb), float(test.pvalue))
        )
    adjusted = adjust([r[4] for r in raw], method)
    return [Pair(a, b, d, i, p, q) for (a, b, d, i, p), q in zip(raw, adjusted, strict=True)]


@dataclass(frozen=True)
class DunnPair:
    first: str
    second: str
    z: float
    p_value: float
    p_adjusted: float


def kruskal_dunn(
    samples: Mapping[str, Sequence[float]], method: str = "holm"
) -> tuple[TestResult, list[DunnPair]]:
    """Kruskal–Wallis with tie correction, then Dunn's pairwise z on the joint ranks."""
    names = list(samples)
    groups = [np.asarray(samples[n], dtype=float) for n in names]
    h = kruskal(*groups)
    values = np.concatenate(groups)
    ranks = rankdata(values)
    total = len(values)
    _, ties = np.unique(values, return_counts=True)
    tie_term = float(np.sum(ties**3 - ties)) / (12 * (total - 1))
    mean_ranks, start = [], 0
    for group in groups:
        mean_ranks.append(float(ranks[start : start + len(group)].mean()))
        start += len(group)
    raw = []
    for i, j in itertools.combinations(range(len(names)), 2):
        se = math.sqrt(
            (total * (total + 1) / 12 - tie_term) * (1 / len(groups[i]) + 1 / len(groups[j]))
        )
        z = (mean_ranks[i] - mean_ranks[j]) / se
        raw.append((names[i], names[j], z, float(2 * norm.sf(abs(z)))))
    adjusted = adjust([r[3] for r in raw], method)
    pairs = [DunnPair(a, b, z, p, q) for (a, b, z, p), q in zip(raw, adjusted, strict=True)]
    return TestResult(
        "kruskal-wallis", float(h.statistic), float(h.pvalue), len(names) - 1, None, total
    ), pairs


@dataclass(frozen=True)
class FunnelPoint:
    unit: str
    share: float
    n: float
    limits95: tuple[float, float]
    limits998: tuple[float, float]
    position: str  # "above", "below" (outside 99.8%), "warning-above", "warning-below", "within"


Z95 = 1.959963984540054
Z998 = 3.090232306167813


def funnel_limits(centre: float, n: float, z: float) -> tuple[float, float]:
    """Control limits p0 ± z·sqrt(p0(1−p0)/n), clipped to [0, 1] (Spiegelhalter 2005)."""
    if not n:
        return 0.0, 1.0
    half = z * math.sqrt(centre * (1 - centre) / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def funnel(
    units: Mapping[str, tuple[int, float]], centre: float | None = None
) -> list[FunnelPoint]:
    """Funnel-plot control limits p0 ± z·sqrt(p0(1−p0)/n), z = 1.96 and 3.09 (Spiegelhalter 2005;
    STATISTICS.md §6.5). ``units`` maps a unit to (satisfied, n); n may be an effective n."""
    if centre is None:
        total_n = sum(n for _, n in units.values())
        centre = sum(s for s, _ in units.values()) / total_n if total_n else 0.0
    points = []
    for unit, (satisfied, n) in units.items():
        share = satisfied / n if n else float("nan")
        low95, high95 = funnel_limits(centre, n, Z95)
        low998, high998 = funnel_limits(centre, n, Z998)
        if share > high998:
            position = "above"
        elif share < low998:
            position = "below"
        elif share > high95:
            position = "warning-above"
        elif share < low95:
            position = "warning-below"
        else:
            position = "within"
        points.append(FunnelPoint(unit, share, n, (low95, high95), (low998, high998), position))
    return points

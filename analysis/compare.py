"""Comparing units fairly: χ² with Cramér's V, pairwise Newcombe intervals with Holm, Kruskal–Wallis
then Dunn, Benjamini–Hochberg, funnel-plot limits.

Degenerate data has a decided answer, never a NaN or an exception:
- two shares that are both 0 % or both 100 % do not differ: p = 1 (the score statistic is 0/0,
  and its limit as the shares approach each other is 0);
- a test with fewer than two groups holding data is "not testable": None;
- groups with no observations are left out (they carry no information);
- all values identical (every unit at 0 % or 100 %, every rank tied): the statistic is 0, p = 1;
- an adjusted p-value is None where the raw one is None or NaN (not testable), and such tests do
  not count in the family.
"""

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


def adjust(p_values: Sequence[float | None], method: str = "holm") -> list[float | None]:
    """Adjusted p-values: "holm" (family-wise, Holm 1979; the default) or "bh" (false discovery
    rate, Benjamini & Hochberg 1995). None or NaN (not testable) stays None and is left out of the
    family, so it neither spoils the others (BH) nor counts as a test (Holm).

    statsmodels' own default is Holm–Šidák, so the method is always passed.
    """
    name = {"holm": "holm", "bh": "fdr_bh"}[method]
    testable = [i for i, p in enumerate(p_values) if p is not None and math.isfinite(p)]
    out: list[float | None] = [None] * len(p_values)
    if testable:
        adjusted = multipletests([float(p_values[i]) for i in testable], method=name)[1]  # type: ignore[arg-type]
        for i, q in zip(testable, adjusted, strict=True):
            out[i] = float(q)
    return out


def share_difference_p(satisfied1: float, n1: float, satisfied2: float, n2: float) -> float:
    """Two-sided p of the score test that two independent shares are equal (statsmodels
    ``test_proportions_2indep``, method "score"; Miettinen & Nurminen 1985). Both shares 0 % or
    both 100 %: p = 1, the decided answer where the statistic is 0/0."""
    pooled = (satisfied1 + satisfied2) / (n1 + n2)
    if pooled <= 0 or pooled >= 1:
        return 1.0
    # statsmodels also computes ratio and odds ratio, which divide by zero at shares of 0 or 1.
    with np.errstate(divide="ignore", invalid="ignore"):
        test = test_proportions_2indep(
            satisfied1, n1, satisfied2, n2, method="score", compare="diff"
        )
    return float(test.pvalue)


def chi_square(satisfied: Sequence[int], valid: Sequence[int]) -> TestResult | None:
    """χ² test that k units share one satisfied proportion, with Cramér's V (Pearson 1900;
    Cramér 1946). Yates' correction applies only to 2×2 tables, as scipy does with
    ``correction=True``.

    Units with no valid answer are left out; with fewer than two left the test is not possible
    (None). When every unit is at 0 % or every one at 100 % the shares are identical: X² = 0,
    p = 1, V = 0 (scipy would raise on the empty column).
    """
    table = np.array([[s, v - s] for s, v in zip(satisfied, valid, strict=True) if v > 0])
    if len(table) < 2:
        return None
    if (table.sum(axis=0) == 0).any():
        return TestResult("chi-square", 0.0, 1.0, float(len(table) - 1), 0.0, int(table.sum()))
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
    present = {unit: counts for unit, counts in units.items() if counts[1] > 0}
    for (a, (sa, na)), (b, (sb, nb)) in itertools.combinations(present.items(), 2):
        p = share_difference_p(sa, na, sb, nb)
        raw.append((a, b, sa / na - sb / nb, newcombe_difference(sa, na, sb, nb), p))
    adjusted = adjust([r[4] for r in raw], method)
    return [
        Pair(a, b, d, i, p, float(q))  # type: ignore[arg-type]
        for (a, b, d, i, p), q in zip(raw, adjusted, strict=True)
    ]


@dataclass(frozen=True)
class DunnPair:
    first: str
    second: str
    z: float
    p_value: float
    p_adjusted: float


def kruskal_dunn(
    samples: Mapping[str, Sequence[float]], method: str = "holm"
) -> tuple[TestResult, list[DunnPair]] | None:
    """Kruskal–Wallis with tie correction (Kruskal & Wallis 1952), then Dunn's pairwise z on the
    joint ranks (Dunn 1964).

    Empty groups are left out; fewer than two groups left: not testable (None). Every value tied:
    the ranks cannot differ, so H = 0 and p = 1, and every Dunn pair has z = 0, p = 1 (scipy
    would raise).
    """
    names = [name for name in samples if len(samples[name])]
    if len(names) < 2:
        return None
    groups = [np.asarray(samples[n], dtype=float) for n in names]
    values = np.concatenate(groups)
    total = len(values)
    if np.all(values == values[0]):
        pairs = [DunnPair(a, b, 0.0, 1.0, 1.0) for a, b in itertools.combinations(names, 2)]
        return TestResult("kruskal-wallis", 0.0, 1.0, len(names) - 1, None, total), pairs
    h = kruskal(*groups)
    ranks = rankdata(values)
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
    pairs = [
        DunnPair(a, b, z, p, float(q))  # type: ignore[arg-type]
        for (a, b, z, p), q in zip(raw, adjusted, strict=True)
    ]
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
    units: Mapping[str, tuple[float, float]], centre: float | None = None
) -> list[FunnelPoint]:
    """Funnel-plot control limits p0 ± z·sqrt(p0(1−p0)/n), z = 1.96 and 3.09 (Spiegelhalter 2005).
    ``units`` maps a unit to (satisfied, n); n may be an effective n. A unit with n = 0 has no
    point to plot and is left out."""
    units = {unit: counts for unit, counts in units.items() if counts[1] > 0}
    if centre is None:
        total_n = sum(n for _, n in units.values())
        centre = sum(s for s, _ in units.values()) / total_n if total_n else 0.0
    points = []
    for unit, (satisfied, n) in units.items():
        share = satisfied / n
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

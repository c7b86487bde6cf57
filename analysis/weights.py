"""Weights and design-based variance (Holt & Smith 1979; Deming & Stephan 1940; Woodruff 1971; Kish
1992).

Post-stratification to known totals (e.g. dossiers returned per agency × service field), raking
(iterative proportional fitting) with trimming when only margins are known, and the linearized
variance of a weighted share with clusters and strata, which gives the effective n.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def post_stratify(strata: Sequence[Hashable], totals: Mapping[Hashable, float]) -> list[float]:
    """w_i = N_h / n_h for respondent i in stratum h (weights sum to Σ N_h over sampled strata)."""
    counts: dict[Hashable, int] = defaultdict(int)
    for stratum in strata:
        counts[stratum] += 1
    missing = [s for s in counts if s not in totals]
    if missing:
        raise ValueError(f"no population total for strata {missing}")
    return [totals[s] / counts[s] for s in strata]


@dataclass(frozen=True)
class Raking:
    weights: tuple[float, ...]
    iterations: int
    converged: bool
    max_error: float  # largest relative gap between a weighted margin and its target


def rake(
    categories: Mapping[str, Sequence[Hashable]],
    targets: Mapping[str, Mapping[Hashable, float]],
    base: Sequence[float] | None = None,
    trim: float | None = 5.0,
    tolerance: float = 1e-8,
    max_iterations: int = 200,
) -> Raking:
    """Iterative proportional fitting to margin totals (Deming & Stephan 1940), trimming weights
    at ``trim`` × their mean between rounds. ``categories[var][i]`` is respondent i's category.

    Like R's ``survey::rake`` (and our ``post_stratify``), a respondent whose category has no
    target, or a target with no respondent to carry it, is a ValueError: raking cannot give such
    a respondent a meaningful weight.
    """
    variables = list(categories)
    n = len(categories[variables[0]])
    w = np.ones(n) if base is None else np.asarray(base, dtype=float).copy()
    codes = {v: np.asarray(categories[v], dtype=object) for v in variables}
    for v in variables:
        unmatched = sorted({repr(c) for c in categories[v] if c not in targets[v]})
        if unmatched:
            raise ValueError(f"no target for {v} = {', '.join(unmatched)}")
    error = float("inf")
    for iteration in range(1, max_iterations + 1):
        for v in variables:
            for category, target in targets[v].items():
                mask = codes[v] == category
                current = w[mask].sum()
                if current == 0:
                    raise ValueError(f"no respondent in {v}={category!r} to carry its target")
                w[mask] *= target / current
        if trim is not None:
            cap = trim * w.mean()
            w = np.minimum(w, cap)
        error = max(
            abs(w[codes[v] == c].sum() - t) / t
            for v in variables
            for c, t in targets[v].items()
            if t
        )
        if error < tolerance:
            return Raking(tuple(float(x) for x in w), iteration, True, float(error))
    return Raking(tuple(float(x) for x in w), max_iterations, False, float(error))


@dataclass(frozen=True)
class WeightedShare:
    estimate: float
    variance: float  # linearized (Taylor), with-replacement PSU approximation
    effective_n: float  # p(1−p)/v
    design_effect: float | None  # v / (p(1−p)/n); None when p is 0 or 1 (0/0)
    n: int


def weighted_share(
    satisfied: Sequence[int | bool],
    weights: Sequence[float] | None = None,
    clusters: Sequence[Hashable] | None = None,
    strata: Sequence[Hashable] | None = None,
) -> WeightedShare | None:
    """p = Σ w y / Σ w with its linearized variance (Taylor linearization, Woodruff 1971):
    z_i = w_i (y_i − p)/Σw; per stratum h, v = Σ_h n_h/(n_h − 1) Σ_c (z_hc − z̄_h)²,
    with each respondent its own cluster when none are given."""
    y = np.asarray(satisfied, dtype=float)
    n = len(y)
    if n < 2:
        return None
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    total = w.sum()
    p = float((w * y).sum() / total)
    z = w * (y - p) / total
    psu = list(range(n)) if clusters is None else list(clusters)
    layer = [0] * n if strata is None else list(strata)
    sums: dict[Hashable, dict[Hashable, float]] = defaultdict(lambda: defaultdict(float))
    for value, h, c in zip(z, layer, psu, strict=True):
        sums[h][c] += float(value)
    variance = 0.0
    for clusters_in_h in sums.values():
        values = np.array(list(clusters_in_h.values()))
        m = len(values)
        if m > 1:
            variance += m / (m - 1) * float(((values - values.mean()) ** 2).sum())
    srs = p * (1 - p) / n
    effective = p * (1 - p) / variance if variance > 0 else float(n)
    deff = variance / srs if srs > 0 else None
    return WeightedShare(p, variance, effective, deff, n)

"""Key drivers of overall satisfaction (Johnson 2000; Lindeman, Merenda & Gold 1980): Johnson's
relative weights and Shapley
(LMG) values, both from the correlation matrix, both summing to R²."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Drivers:
    names: tuple[str, ...]
    r_squared: float
    relative_weights: tuple[float, ...]  # Johnson (2000); sum = R²
    shapley: tuple[float, ...]  # LMG; sum = R²
    n: int


def _correlations(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    full = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    return full[:-1, :-1], full[:-1, -1]


def _r2(rxx: np.ndarray, rxy: np.ndarray, subset: Sequence[int]) -> float:
    if not subset:
        return 0.0
    idx = list(subset)
    return float(rxy[idx] @ np.linalg.solve(rxx[np.ix_(idx, idx)], rxy[idx]))


def key_drivers(
    names: Sequence[str], predictors: Sequence[Sequence[float]], outcome: Sequence[float]
) -> Drivers | None:
    """Relative weights and Shapley values of each predictor (rows = respondents, listwise)."""
    x = np.asarray(predictors, dtype=float)
    y = np.asarray(outcome, dtype=float)
    keep = ~(np.isnan(x).any(axis=1) | np.isnan(y))
    x, y = x[keep], y[keep]
    n, p = x.shape
    if n <= p + 1:
        return None
    rxx, rxy = _correlations(x, y)
    # Johnson: symmetric square root of R, β* = Λ½⁻¹ r, ε_j = Σ_k Λ½_jk² β*_k².
    values, vectors = np.linalg.eigh(rxx)
    root = vectors @ np.diag(np.sqrt(values)) @ vectors.T
    beta = np.linalg.solve(root, rxy)
    weights = (root**2) @ (beta**2)
    everything = _r2(rxx, rxy, range(p))
    shapley = []
    for j in range(p):
        others = [i for i in range(p) if i != j]
        phi = 0.0
        for size in range(p):
            share = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in itertools.combinations(others, size):
                phi += share * (_r2(rxx, rxy, [*subset, j]) - _r2(rxx, rxy, subset))
        shapley.append(phi)
    return Drivers(tuple(names), everything, tuple(float(w) for w in weights), tuple(shapley), n)

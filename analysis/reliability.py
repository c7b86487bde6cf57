"""Reliability of a block of Likert items (Cronbach 1951; Feldt 1965): Cronbach's α raw (shown as
"Cronbach's α", the SPSS convention) and standardized, corrected item–total correlations,
α if an item is deleted, and the Feldt interval. Missing answers ("don't know"): listwise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import f


@dataclass(frozen=True)
class Reliability:
    alpha: float  # raw
    alpha_standardized: float
    n: int  # respondents with every item answered
    k: int
    interval: tuple[float, float]  # Feldt, for the raw α
    item_total: tuple[float, ...]  # corrected: r(x_i, X − x_i)
    alpha_if_deleted: tuple[float, ...]


def _alpha(data: np.ndarray) -> float:
    k = data.shape[1]
    item_variances = data.var(axis=0, ddof=1).sum()
    total_variance = data.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1 - item_variances / total_variance))


def cronbach(
    rows: Sequence[Sequence[float | None]], confidence: float = 0.95
) -> Reliability | None:
    """α for a respondents × items matrix; rows with any missing answer are left out."""
    matrix = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        return None
    data = matrix[~np.isnan(matrix).any(axis=1)]
    n, k = data.shape
    if n < 3 or np.any(data.var(axis=0, ddof=1) == 0):
        return None
    alpha = _alpha(data)
    corr = np.corrcoef(data, rowvar=False)
    mean_r = (corr.sum() - k) / (k * (k - 1))
    standardized = k * mean_r / (1 + (k - 1) * mean_r)
    gamma = 1 - confidence
    d1, d2 = n - 1, (n - 1) * (k - 1)
    interval = (
        float(1 - (1 - alpha) * f.ppf(1 - gamma / 2, d1, d2)),
        float(1 - (1 - alpha) * f.ppf(gamma / 2, d1, d2)),
    )
    totals = data.sum(axis=1)
    item_total = tuple(float(np.corrcoef(data[:, i], totals - data[:, i])[0, 1]) for i in range(k))
    if_deleted = tuple(
        _alpha(np.delete(data, i, axis=1)) if k > 2 else float("nan") for i in range(k)
    )
    return Reliability(alpha, float(standardized), n, k, interval, item_total, if_deleted)

"""Intervals for element and overall indices from respondent-level answers (issue: uncertainty).

An element or SIPAS index built as a mean of item shares is a linear combination Σ c_i p_i of the
item shares (c_i = 1/(number of elements × items in the element) for SIPAS's mean of means); the
pooled index is the ratio Σ S / Σ V. Both are smooth functions of respondent totals, so their
variance follows from linearization (the delta method): each respondent r gets an influence
value z_r, and v = n/(n−1) Σ (z_r − z̄)² (Taylor linearization, every respondent its own PSU;
Woodruff 1971).
The interval is estimate ± z·√v on the percent scale, clipped to [0, 100]. Respondents answer
several items, so this keeps the correlation between items that a sum of item variances would lose.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import norm

from analysis.types import Interval


def combined_interval(
    answers: Sequence[Mapping[str, int | None]],
    coefficients: Mapping[str, float] | None,
    satisfied: set[int],
    valid: set[int],
    confidence: float = 0.95,
) -> tuple[float, Interval] | None:
    """(index in percent, interval in percent) for ``answers`` (one mapping item → level per
    respondent). ``coefficients``: the weight of each item share (mean of shares); None: pooled."""
    items = (
        sorted({code for row in answers for code in row})
        if coefficients is None
        else list(coefficients)
    )
    n = len(answers)
    if n < 2 or not items:
        return None
    y = np.zeros((n, len(items)))
    v = np.zeros((n, len(items)))
    for r, row in enumerate(answers):
        for i, code in enumerate(items):
            level = row.get(code)
            if level is not None and level in valid:
                v[r, i] = 1
                y[r, i] = 1 if level in satisfied else 0
    totals_v = v.sum(axis=0)
    totals_s = y.sum(axis=0)
    if coefficients is None:
        if totals_v.sum() == 0:
            return None
        p = totals_s.sum() / totals_v.sum()
        z = (y.sum(axis=1) - p * v.sum(axis=1)) / totals_v.sum()
        estimate = p
    else:
        present = totals_v > 0
        if not present.any():
            return None
        c = np.array([coefficients[code] for code in items], dtype=float)
        c = np.where(present, c, 0.0)
        c = c / c.sum()  # items without answers drop out, as in the index itself
        shares = np.divide(totals_s, totals_v, out=np.zeros_like(totals_s), where=present)
        estimate = float(c @ shares)
        safe_v = np.where(present, totals_v, 1.0)
        z = ((y - shares) * v / safe_v) @ c
    variance = n / (n - 1) * float(((z - z.mean()) ** 2).sum())
    half = norm.ppf(1 - (1 - confidence) / 2) * math.sqrt(variance)
    low, high = max(estimate - half, 0.0), min(estimate + half, 1.0)
    return 100 * float(estimate), Interval(100 * low, 100 * high, "delta", confidence)

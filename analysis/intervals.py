"""Confidence intervals for shares and their differences (Wilson 1927; Clopper & Pearson 1934;
Newcombe 1998).

Library defaults differ from what a reader expects (scipy's ``proportion_ci`` defaults to the exact
method, statsmodels' ``proportion_confint`` to Wald), so every call names its method.
"""

from __future__ import annotations

from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from analysis.types import Interval


def wilson(successes: float, n: float, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval (Wilson 1927; Newcombe 1998). Accepts a non-integer n, for
    an effective sample size. None when n is 0."""
    _check(successes, n)
    if n == 0:
        return None
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    return Interval(float(low), float(high), "wilson", confidence)


def clopper_pearson(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Clopper–Pearson ("exact") interval, conservative (Clopper & Pearson 1934)."""
    _check(successes, n)
    if n == 0:
        return None
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="beta")
    return Interval(float(low), float(high), "clopper-pearson", confidence)


def newcombe_difference(
    successes1: float, n1: float, successes2: float, n2: float, confidence: float = 0.95
) -> Interval | None:
    """Newcombe hybrid score interval for p1 − p2 (Newcombe 1998, method 10)."""
    _check(successes1, n1)
    _check(successes2, n2)
    if n1 == 0 or n2 == 0:
        return None
    low, high = confint_proportions_2indep(
        successes1, n1, successes2, n2, method="newcomb", compare="diff", alpha=1 - confidence
    )
    return Interval(float(low), float(high), "newcombe", confidence)


def _check(successes: float, n: float) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"{successes} successes out of {n} is not a share")

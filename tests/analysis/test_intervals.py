"""Intervals against Newcombe (1998) tables and an independent computation of the formulas."""

from __future__ import annotations

import math

import pytest
from scipy.stats import beta, norm

from analysis import clopper_pearson, newcombe_difference, wilson


def wilson_by_hand(x: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    z = norm.ppf(1 - (1 - confidence) / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


# Newcombe 1998, Table II (single proportions), to 4 decimals.
@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_table(x: int, n: int, low: float, high: float) -> None:
    interval = wilson(x, n)
    assert round(interval.low, 4) == low
    assert round(interval.high, 4) == high
    by_hand = wilson_by_hand(x, n)
    assert interval.low == pytest.approx(max(by_hand[0], 0.0), abs=1e-12)
    assert interval.high == pytest.approx(by_hand[1], abs=1e-12)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(81, 263, 0.2527, 0.3676), (1, 29, 0.0009, 0.1776), (0, 20, 0.0, 0.1684)],
)
def test_clopper_pearson_matches_newcombe_table(x: int, n: int, low: float, high: float) -> None:
    interval = clopper_pearson(x, n)
    assert round(interval.low, 4) == low
    assert round(interval.high, 4) == high
    expected_low = 0.0 if x == 0 else beta.ppf(0.025, x, n - x + 1)
    assert interval.low == pytest.approx(expected_low, abs=1e-12)


# Newcombe 1998 (differences), Table II, method 10.
@pytest.mark.parametrize(
    ("a", "m", "b", "n", "low", "high"),
    [(56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090)],
)
def test_newcombe_difference(a: int, m: int, b: int, n: int, low: float, high: float) -> None:
    interval = newcombe_difference(a, m, b, n)
    assert round(interval.low, 4) == low
    assert round(interval.high, 4) == high
    # Independently: from the two Wilson intervals (the hybrid score method).
    p1, p2 = a / m, b / n
    l1, u1 = wilson_by_hand(a, m)
    l2, u2 = wilson_by_hand(b, n)
    delta = math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    epsilon = math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    assert interval.low == pytest.approx(p1 - p2 - delta, abs=1e-9)
    assert interval.high == pytest.approx(p1 - p2 + epsilon, abs=1e-9)


def test_edge_cases() -> None:
    assert wilson(0, 0) is None
    assert clopper_pearson(0, 0) is None
    everyone = wilson(30, 30)
    assert everyone.high == pytest.approx(1.0)
    assert everyone.low < 1.0
    fractional = wilson(24.5, 30.2)  # an effective sample size need not be whole
    assert fractional.low < 24.5 / 30.2 < fractional.high
    with pytest.raises(ValueError, match="not a share"):
        wilson(5, 3)

"""Comparisons and trends against hand-computed cases (Holm 1979, Benjamini & Hochberg 1995, Dunn
1964, Mann 1945, Kendall 1975)."""

from __future__ import annotations

import math

import pytest
from scipy.stats import kruskal

from analysis.compare import adjust, chi_square, funnel, kruskal_dunn, pairwise
from analysis.trends import mann_kendall, p_chart, period_change


def test_holm_and_bh_match_the_worked_example() -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.2]
    assert adjust(p, "holm") == pytest.approx([0.04, 0.09, 0.09, 0.025, 0.2])
    assert adjust(p, "bh") == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.2])
    assert adjust([]) == []


def test_chi_square_and_cramers_v_by_hand() -> None:
    # [[30, 20], [20, 30]]: Yates X² = 100(|900−400| − 50)² / 50⁴ = 3.24; V from the
    # uncorrected X² = 100·500²/50⁴ = 4 → V = sqrt(4/100) = 0.2.
    result = chi_square([30, 20], [50, 50])
    assert result.statistic == pytest.approx(3.24)
    assert result.effect == pytest.approx(0.2)
    assert result.dof == 1
    assert result.n == 100


def test_pairwise_differences_are_adjusted() -> None:
    pairs = pairwise({"A": (90, 100), "B": (70, 100), "C": (72, 100)})
    by_pair = {(p.first, p.second): p for p in pairs}
    ab = by_pair[("A", "B")]
    assert ab.difference == pytest.approx(0.2)
    assert ab.interval.low < 0.2 < ab.interval.high
    assert all(p.p_adjusted >= p.p_value for p in pairs)
    # Holm leaves the largest p-value as it is.
    assert by_pair[("B", "C")].p_adjusted == pytest.approx(by_pair[("B", "C")].p_value)


def test_kruskal_then_dunn_by_hand() -> None:
    samples = {"A": [1, 2, 3], "B": [4, 5, 6]}
    test, pairs = kruskal_dunn(samples)
    assert test.statistic == pytest.approx(kruskal([1, 2, 3], [4, 5, 6]).statistic)
    # Mean ranks 2 and 5, N = 6: z = −3 / sqrt(6·7/12 · (1/3 + 1/3)).
    assert pairs[0].z == pytest.approx(-3 / math.sqrt(3.5 * 2 / 3))
    assert pairs[0].p_value == pytest.approx(0.0495, abs=1e-4)


def test_funnel_limits_by_hand() -> None:
    points = {p.unit: p for p in funnel({"A": (95, 100), "B": (80, 100), "C": (8, 10)}, centre=0.8)}
    # half-widths at n = 100: 1.96 · 0.04 = 0.0784 and 3.09 · 0.04 = 0.1236.
    assert points["B"].limits95 == pytest.approx((0.8 - 0.0784, 0.8 + 0.0784), abs=1e-4)
    assert points["A"].position == "above"  # 0.95 > 0.9236
    assert points["B"].position == "within"
    assert points["C"].limits998[1] == 1.0  # capped at 100%


def test_period_change_matches_newcombe() -> None:
    change = period_change(56, 70, 48, 80)
    assert change.difference == pytest.approx(0.2)
    assert (round(change.interval.low, 4), round(change.interval.high, 4)) == (0.0524, 0.3339)
    assert change.p_value < 0.05
    assert period_change(1, 0, 1, 2) is None


def test_mann_kendall_by_hand() -> None:
    result = mann_kendall([0.80, 0.81, 0.83, 0.84, 0.86])
    assert result.s == 10
    assert result.variance == pytest.approx(5 * 4 * 15 / 18)
    assert result.z == pytest.approx(9 / math.sqrt(5 * 4 * 15 / 18))
    assert result.p_value == pytest.approx(0.0275, abs=1e-4)
    assert result.tau == 1
    assert result.sen_slope == pytest.approx(0.015)
    assert result.trend == "increasing"
    flat = mann_kendall([0.8, 0.8, 0.8, 0.8])
    assert flat.s == 0
    assert flat.trend == "none"
    assert mann_kendall([0.8, 0.9]) is None


def test_p_chart_flags_an_unusual_month() -> None:
    centre, points = p_chart([80, 82, 40, 79], [100, 100, 100, 100])
    assert centre == pytest.approx(281 / 400)
    half = 3 * math.sqrt(centre * (1 - centre) / 100)
    assert points[0].low == pytest.approx(centre - half)
    assert [p.outside for p in points] == [False, False, True, False]

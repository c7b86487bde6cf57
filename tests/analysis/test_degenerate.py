"""Degenerate data (n = 0, all equal, 0 % and 100 %): each case has a decided, documented answer,
computed here by hand; nothing returns NaN or raises where a statistician has an answer."""

from __future__ import annotations

import math

import pytest
from scipy.stats import chi2, norm

from analysis.compare import adjust, chi_square, funnel, kruskal_dunn, pairwise
from analysis.trends import p_chart, period_change
from analysis.weights import rake, weighted_share


@pytest.mark.parametrize(("now", "before"), [((20, 20), (30, 30)), ((0, 20), (0, 30))])
def test_two_identical_extreme_shares_do_not_differ(
    now: tuple[int, int], before: tuple[int, int]
) -> None:
    change = period_change(*now, *before)
    assert change.difference == 0
    assert change.p_value == 1.0
    assert math.isfinite(change.interval.low)
    assert math.isfinite(change.interval.high)
    assert change.interval.low < 0 < change.interval.high


def test_zero_against_one_hundred_percent_by_hand() -> None:
    # Score test with the Miettinen–Nurminen correction: under H0 the share is 10/20 = 0.5, so
    # var = 0.5 · 0.5 · (1/10 + 1/10) · 20/19 and z = −1 / sqrt(var).
    z = 1 / math.sqrt(0.25 * 0.2 * 20 / 19)
    assert period_change(0, 10, 10, 10).p_value == pytest.approx(2 * norm.sf(z), rel=1e-9)


def test_pairs_of_full_shares_are_not_different() -> None:
    pairs = pairwise({"A": (10, 10), "B": (20, 20), "C": (0, 5), "D": (3, 0)})
    by_pair = {(p.first, p.second): p for p in pairs}
    assert set(by_pair) == {("A", "B"), ("A", "C"), ("B", "C")}  # D has no answers
    assert by_pair[("A", "B")].p_value == 1.0
    assert by_pair[("A", "B")].p_adjusted == 1.0


def test_not_testable_p_values_stay_out_of_the_family() -> None:
    # Holm on the two testable ones: 2 · 0.01 = 0.02, then max(0.02, 1 · 0.04) = 0.04.
    assert adjust([0.01, math.nan, 0.04], "holm") == [
        pytest.approx(0.02),
        None,
        pytest.approx(0.04),
    ]
    # BH: 0.04 · 2/2 = 0.04, then min(0.04, 0.01 · 2/1) = 0.02.
    assert adjust([0.01, None, 0.04], "bh") == [pytest.approx(0.02), None, pytest.approx(0.04)]
    assert adjust([None, math.nan]) == [None, None]


def test_chi_square_on_identical_or_empty_units() -> None:
    every_one_satisfied = chi_square([10, 25, 7], [10, 25, 7])
    assert (every_one_satisfied.statistic, every_one_satisfied.p_value) == (0.0, 1.0)
    assert every_one_satisfied.effect == 0.0
    assert every_one_satisfied.dof == 2
    nobody_satisfied = chi_square([0, 0], [4, 6])
    assert (nobody_satisfied.statistic, nobody_satisfied.p_value) == (0.0, 1.0)
    assert chi_square([5, 0], [10, 0]) is None  # one unit with answers: nothing to compare
    assert chi_square([], []) is None


def test_a_unit_without_answers_is_left_out_of_chi_square() -> None:
    # [[2, 8], [6, 4]]: E = 4, 6, 4, 6; Yates: (|2 − 4| − 0.5)² = 2.25 in each cell, so
    # X² = 2.25 · (1/4 + 1/6 + 1/4 + 1/6) = 1.875 on 1 degree of freedom.
    result = chi_square([2, 6, 0], [10, 10, 0])
    assert result.statistic == pytest.approx(1.875)
    assert result.p_value == pytest.approx(chi2.sf(1.875, 1))
    assert result.n == 20


def test_kruskal_dunn_on_ties_and_single_groups() -> None:
    test, pairs = kruskal_dunn({"A": [3, 3], "B": [3, 3, 3], "C": [3]})
    assert (test.statistic, test.p_value, test.dof, test.n) == (0.0, 1.0, 2, 6)
    assert [(p.first, p.second, p.z, p.p_value, p.p_adjusted) for p in pairs] == [
        ("A", "B", 0.0, 1.0, 1.0),
        ("A", "C", 0.0, 1.0, 1.0),
        ("B", "C", 0.0, 1.0, 1.0),
    ]
    assert kruskal_dunn({"A": [1, 2, 3]}) is None
    assert kruskal_dunn({"A": [1, 2, 3], "B": []}) is None
    with_empty = kruskal_dunn({"A": [1, 2, 3], "B": [4, 5, 6], "C": []})
    without = kruskal_dunn({"A": [1, 2, 3], "B": [4, 5, 6]})
    assert with_empty[0] == without[0]


def test_rake_refuses_a_respondent_without_a_target() -> None:
    with pytest.raises(ValueError, match="no target for sex = 'x'"):
        rake({"sex": ["m", "f", "x"]}, {"sex": {"m": 50, "f": 50}})
    with pytest.raises(ValueError, match="no respondent"):
        rake({"sex": ["m", "m"]}, {"sex": {"m": 50, "f": 50}})


def test_funnel_and_p_chart_skip_empty_units_and_months() -> None:
    points = funnel({"A": (8, 10), "B": (0, 0)})
    assert [p.unit for p in points] == ["A"]
    centre, months = p_chart([8, 0], [10, 0])
    assert centre == 0.8
    assert months[1].share is None
    assert not months[1].outside


def test_weighted_share_of_everyone_satisfied_has_no_design_effect() -> None:
    result = weighted_share([1, 1, 1, 1])
    assert (result.estimate, result.variance, result.effective_n) == (1.0, 0.0, 4.0)
    assert result.design_effect is None

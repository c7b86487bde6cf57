"""Weights and linearized variance against hand-computed cases (Taylor linearization; Kish 1992)."""

from __future__ import annotations

import pytest

from analysis.weights import post_stratify, rake, weighted_share


def test_post_stratification_by_hand() -> None:
    # 2 answers from field A (1,000 dossiers), 1 from field B (3,000): weights 500, 500, 3,000.
    assert post_stratify(["A", "A", "B"], {"A": 1000, "B": 3000, "C": 50}) == [500, 500, 3000]
    with pytest.raises(ValueError, match="no population total"):
        post_stratify(["A", "D"], {"A": 1})


def test_raking_meets_both_margins() -> None:
    sex = ["m", "m", "f", "f", "f", "m"]
    field = ["x", "y", "x", "y", "y", "x"]
    result = rake(
        {"sex": sex, "field": field},
        {"sex": {"m": 50, "f": 50}, "field": {"x": 30, "y": 70}},
        trim=None,
    )
    assert result.converged
    w = result.weights
    assert sum(wi for wi, s in zip(w, sex, strict=True) if s == "m") == pytest.approx(50)
    assert sum(wi for wi, f in zip(w, field, strict=True) if f == "y") == pytest.approx(70)


def test_equal_weights_give_the_simple_variance() -> None:
    # p = 3/5; with-replacement linearization: p(1−p)/(n−1) = 0.24/4 = 0.06.
    result = weighted_share([1, 1, 1, 0, 0])
    assert result.estimate == pytest.approx(0.6)
    assert result.variance == pytest.approx(0.06)
    assert result.effective_n == pytest.approx(4.0)  # 0.24 / 0.06


def test_clusters_raise_the_variance() -> None:
    # Two counters, each answering alike: the design effect is large.
    y = [1, 1, 1, 1, 0, 0, 0, 0]
    plain = weighted_share(y)
    clustered = weighted_share(y, clusters=["a"] * 4 + ["b"] * 4)
    # z per cluster: ±4·0.5/8 = ±0.25; v = 2/1 · (0.25² + 0.25²) = 0.25.
    assert clustered.variance == pytest.approx(0.25)
    assert clustered.design_effect > plain.design_effect
    assert clustered.effective_n == pytest.approx(1.0)

"""Delta-method intervals for element and overall indices, against hand computation and a
bootstrap."""

from __future__ import annotations

import math
import random

import pytest

from analysis.aggregate_ci import combined_interval

SAT, VALID = {4, 5}, {1, 2, 3, 4, 5}


def test_one_item_gives_the_linearized_share_variance() -> None:
    # 10 satisfied, 10 not, 2 "don't know" (left out): p = 0.5.
    answers = [{"A": 5}] * 10 + [{"A": 2}] * 10 + [{"A": 0}] * 2
    estimate, interval = combined_interval(answers, {"A": 1}, SAT, VALID)
    assert estimate == pytest.approx(50.0)
    # z_r = (y_r − 0.5)/20 = ±0.025 for the 20 valid answers, 0 for the others; mean 0;
    # v = 22/21 · 20 · 0.025² = 0.0130952…
    half = 1.959963984540054 * math.sqrt(22 / 21 * 20 * 0.025**2) * 100
    assert interval.low == pytest.approx(50 - half)
    assert interval.high == pytest.approx(50 + half)


def test_mean_of_two_items_by_hand() -> None:
    answers = [{"A": 5, "B": 5}, {"A": 5, "B": 1}, {"A": 1, "B": 1}, {"A": 1, "B": 5}]
    estimate, interval = combined_interval(answers, {"A": 0.5, "B": 0.5}, SAT, VALID)
    assert estimate == pytest.approx(50.0)
    # p_A = p_B = 0.5; z_r = 0.5·(y_A − 0.5)/4 + 0.5·(y_B − 0.5)/4 → 0.125, 0, −0.125, 0.
    v = 4 / 3 * (0.125**2 * 2)
    assert interval.high == pytest.approx(50 + 1.959963984540054 * math.sqrt(v) * 100)


def test_agrees_with_a_bootstrap() -> None:
    rng = random.Random(3)
    answers = [
        {code: rng.choice([1, 2, 3, 4, 4, 5, 5, 0]) for code in ("A", "B", "C")} for _ in range(400)
    ]
    coefficients = {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3}
    estimate, interval = combined_interval(answers, coefficients, SAT, VALID)

    def index(rows) -> float:
        shares = []
        for code in coefficients:
            valid = [r[code] for r in rows if r[code] in VALID]
            shares.append(sum(1 for x in valid if x in SAT) / len(valid))
        return 100 * sum(shares) / 3

    assert estimate == pytest.approx(index(answers))
    boots = sorted(index([rng.choice(answers) for _ in answers]) for _ in range(1000))
    sd = (sum((b - sum(boots) / 1000) ** 2 for b in boots) / 999) ** 0.5
    delta_sd = (interval.high - interval.low) / (2 * 1.959963984540054)
    assert delta_sd == pytest.approx(sd, rel=0.15)


def test_pooled_and_edge_cases() -> None:
    answers = [{"A": 5, "B": 0}, {"A": 4, "B": 2}, {"A": 1, "B": 5}]
    estimate, _ = combined_interval(answers, None, SAT, VALID)
    assert estimate == pytest.approx(100 * 3 / 5)
    assert combined_interval([{"A": 5}], {"A": 1}, SAT, VALID) is None
    assert combined_interval([{"A": 0}, {"A": 0}], {"A": 1}, SAT, VALID) is None

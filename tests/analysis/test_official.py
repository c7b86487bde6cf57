"""Official indices against hand-computed cases (QĐ 1001/QĐ-BNV 2023, QĐ 2640/QĐ-BNV 2017)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from analysis import (
    Scale,
    Structure,
    aggregate,
    expectation_index,
    find,
    item_index,
    share_index,
    sipas_index,
    unit_mean,
)
from analysis.types import Index

FIVE = Scale.five_level()


def test_item_index_leaves_dont_know_out_of_the_denominator() -> None:
    # 2+3+5+6+4 = 20 valid answers, 6+4 = 10 satisfied; 7 "don't know" (0) and 1 stray 9 left out.
    index = item_index("S15", {1: 2, 2: 3, 3: 5, 4: 6, 5: 4, 0: 7, 9: 1}, FIVE)
    assert (index.satisfied, index.valid) == (10, 20)
    assert index.value == 50
    assert index.percent() == Decimal("50.00")


def test_no_valid_answer_is_no_figure_not_zero() -> None:
    index = item_index("S15", {0: 5}, FIVE)
    assert index.value is None
    assert index.percent() is None


def test_mean_and_pooled_differ_when_valid_counts_differ() -> None:
    # A: 9 of 10 satisfied (90%); B: 1 of 2 (50%), many "don't know".
    a = item_index("A", {5: 9, 2: 1}, FIVE)
    b = item_index("B", {4: 1, 1: 1, 0: 8}, FIVE)
    mean = aggregate("E", [a, b], "mean")
    pooled = aggregate("E", [a, b], "pooled")
    assert mean.value == 70  # (90 + 50) / 2
    assert pooled.value == Fraction(1000, 12)  # 100 × 10 / 12 = 83.333…
    assert pooled.percent() == Decimal("83.33")
    assert (mean.satisfied, mean.valid) == (10, 12)


def test_parts_without_answers_do_not_count_as_zero() -> None:
    a = item_index("A", {4: 3, 3: 1}, FIVE)  # 75%
    empty = item_index("B", {}, FIVE)
    assert aggregate("E", [a, empty]).value == 75
    assert aggregate("E", [empty]).value is None


def test_whole_chain_with_two_domains_and_weights() -> None:
    counts = {
        "P1": {4: 8, 2: 2},  # 80
        "P2": {5: 6, 3: 4},  # 60  → element A = 70, domain CS = 70
        "S1": {4: 9, 1: 1},  # 90
        "S2": {4: 5, 3: 5},  # 50  → element X = 70
        "S3": {5: 10},  # 100 → element Y = 100; domain DV = (70 + 100) / 2 = 85
    }
    structure = Structure(
        domains={"CS": ["A"], "DV": ["X", "Y"]},
        elements={"A": ["P1", "P2"], "X": ["S1", "S2"], "Y": ["S3"]},
    )
    equal = sipas_index(counts, structure, FIVE)
    assert equal.value == Fraction(155, 2)  # (70 + 85) / 2 = 77.5
    assert find(equal, "DV").value == 85
    assert find(equal, "X").value == 70
    weighted = sipas_index(counts, structure, FIVE, domain_weights={"CS": 1, "DV": 3})
    assert weighted.value == Fraction(70 + 3 * 85, 4)  # 81.25
    pooled = sipas_index(counts, structure, FIVE, overall_method="pooled")
    assert pooled.value == Fraction(100 * 38, 50)  # every satisfied answer over every valid one


def test_one_domain_sipas_is_the_mean_of_its_elements() -> None:
    structure = Structure(domains={"DV": ["X", "Y"]}, elements={"X": ["S1"], "Y": ["S2"]})
    index = sipas_index({"S1": {4: 3, 3: 1}, "S2": {5: 1, 1: 1}}, structure, FIVE)
    assert index.value == Fraction(75 + 50, 2)
    assert index.code == "SIPAS"


def test_weights_must_cover_every_part() -> None:
    a, b = Index("A", Fraction(50), 1, 2, "mean"), Index("B", Fraction(70), 7, 10, "mean")
    with pytest.raises(ValueError, match="no weight"):
        aggregate("X", [a, b], "mean", {"A": 1})
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate("X", [a, b], "median")


def test_expectation_and_published_shares() -> None:
    # Câu 10: 12 "Rất nhiều" (3), 5 "Nhiều", 3 "Ít" → 60%.
    assert expectation_index("E01", {3: 12, 2: 5, 1: 3}).value == 60
    # Câu 4: 9006 of 10000 say no official harassed them.
    harassment = share_index("Q4", {1: 9006, 2: 898, 3: 96}, [1])
    assert harassment.percent() == Decimal("90.06")


def test_mean_over_units_as_published_rounds_half_up() -> None:
    # Bình Dương 2017 districts (research-notes §7.3): the mean of nine totals, 705.49 / 9.
    totals = ["84.58", "82.00", "80.27", "79.04", "78.06", "77.83", "76.22", "76.03", "71.46"]
    units = [Index(f"D{i}", Fraction(Decimal(t)), 0, 0, "share") for i, t in enumerate(totals)]
    assert unit_mean("BD", units).percent() == Decimal("78.39")


def test_rounding_is_exact_half_up() -> None:
    assert Index("X", Fraction(82665, 1000), 0, 0, "share").percent() == Decimal("82.67")
    assert Index("X", Fraction(1, 3) * 100, 0, 0, "share").percent() == Decimal("33.33")
    assert Index("X", Fraction(100), 0, 0, "share").percent() == Decimal("100.00")

"""Thông tư 01 scores, PAR points, ranking and sample sizes against hand-computed cases."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from analysis import (
    Band,
    Criterion,
    answer_points_index,
    band_of,
    banded_points,
    classify,
    criterion_points,
    indicator_score,
    linear_points,
    par_score,
    rank,
    tt01_scores,
    weighted_groups,
    yamane,
)


def test_indicator_score_is_the_mean_rounded_to_one_decimal() -> None:
    assert indicator_score("T1", 5, 3).score == Decimal("1.7")  # 5 / 3 = 1.666…
    assert indicator_score("T1", 3, 4).score == Decimal("0.8")  # 0.75 rounds half up
    assert indicator_score("T9", 0, 0).score is None
    with pytest.raises(ValueError, match="cannot come from"):
        indicator_score("T1", 7, 3)  # more than 2 points a dossier


def test_official_and_agency_totals() -> None:
    dossiers = dict.fromkeys([f"T{i}" for i in range(1, 10)], 4)
    points = {"T1": 8, "T2": 7, "T3": 6, "T4": 5, "T7": 3, "T5": 8, "T6": 4, "T8": 2, "T9": 1}
    result = tt01_scores(points, dossiers)
    # Official: 2.0 + 1.8 (1.75) + 1.5 + 1.3 (1.25) + 0.8 (0.75) = 7.4
    assert result.official_total == Decimal("7.4")
    # Agency: 2.0 + 1.0 + 0.5 + 0.3 (0.25) = 3.8
    assert result.agency_total == Decimal("3.8")
    assert result.total == Decimal("11.2")
    assert classify(result.total) == "Khá"


@pytest.mark.parametrize(
    ("total", "band"),
    [
        ("18", "Xuất sắc"),
        ("15.0", "Xuất sắc"),
        ("14.9", "Tốt"),
        ("12", "Tốt"),
        ("11.9", "Khá"),
        ("6", "Trung bình"),
        ("5.9", "Yếu"),
        ("0", "Yếu"),
    ],
)
def test_classification_leaves_no_gap(total: str, band: str) -> None:
    assert classify(Decimal(total)) == band


def test_linear_points_hatinh_2021() -> None:
    # research-notes §4.2: SIPAS 91.17% with 10 points → 9.12 (9.117 half up).
    assert linear_points(Decimal("91.17"), 10) == Decimal("9.12")
    assert linear_points(Decimal("82.66"), 32) == Decimal("26.45")  # 26.4512
    assert linear_points(100, 35) == Decimal("35.00")
    with pytest.raises(ValueError, match="between 0 and 100"):
        linear_points(Decimal("100.01"), 10)


def test_banded_points() -> None:
    table = (
        Band(Decimal(90), None, Decimal(10)),
        Band(Decimal(80), Decimal(90), Decimal(8)),
        Band(Decimal(0), Decimal(80), Decimal(5)),
    )
    assert banded_points(Decimal("90"), table) == 10
    assert banded_points(Decimal("89.99"), table) == 8
    assert banded_points(Decimal("0"), table) == 5
    criterion = Criterion("C1", "SIPAS", Decimal(10), "banded", table)
    assert criterion_points(criterion, Decimal(85)) == 8
    assert criterion_points(Criterion("C2", "SIPAS", Decimal(10)), Decimal("91.17")) == Decimal(
        "9.12"
    )


def test_par_score_bdg_2017() -> None:
    # research-notes §7.3, TP Thủ Dầu Một: appraisal 51.75 of 65 + survey 32.83 of 35.
    score = par_score("TDM", Decimal("32.83"), Decimal("51.75"))
    assert score.total == Decimal("84.58")
    assert score.par_index == Decimal("84.58")
    # Nam Định 2020 departments: 62.62 of a 70-point appraisal → 89.46% of 70 (89.457…).
    assert par_score("ND", Decimal(0), Decimal("62.62"), max_total=70).par_index == Decimal("89.46")
    assert par_score("X", Decimal(9), None).total is None


def test_rank_with_ties_and_bands() -> None:
    ranks = rank({"A": Decimal("91.5"), "B": Decimal("88"), "C": Decimal("88"), "D": Decimal("70")})
    assert ranks == {"A": 1, "B": 2, "C": 2, "D": 4}
    bands = (("A", 90), ("B", 80), ("C", 70))
    assert [band_of(Decimal(v), bands) for v in ("90", "89.99", "70", "69.99")] == [
        "A",
        "B",
        "C",
        None,
    ]


def test_yamane() -> None:
    assert yamane(1200) == 300  # 1200 / (1 + 1200 × 0.0025) = 300 exactly
    assert yamane(1000) == 286  # 285.71… rounded up
    assert yamane(10**9) == 400  # tends to 400 at e = 5%
    assert yamane(0) == 0
    assert yamane(500, Decimal("0.1")) == 84  # 500 / 6 = 83.3…
    with pytest.raises(ValueError, match="margin"):
        yamane(100, 0)


def test_answer_points_rule_by_hand() -> None:
    """6 answers at level 5 (share 1), 2 at level 3 (share 0.5), 1 "don't know" (level 0, not
    in the rule): 100 × (6 + 1) / 8 = 87.5 %."""
    shares = {5: 1, 4: Fraction(3, 4), 3: Fraction(1, 2), 2: Fraction(1, 4), 1: 0}
    assert answer_points_index({5: 6, 3: 2, 0: 1}, shares) == Fraction(175, 2)
    # Degenerate: no answer the rule counts → None (no points, no rank); all best → 100.
    assert answer_points_index({0: 4}, shares) is None
    assert answer_points_index({}, shares) is None
    assert answer_points_index({5: 3}, shares) == 100
    with pytest.raises(ValueError, match="between 0 and 1"):
        answer_points_index({5: 1}, {5: 2})


def test_weighted_groups_by_hand() -> None:
    """(0.5·80 + 0.2·90) / 0.7 = 82 6/7: a group without answers is left out, the others'
    weights count in proportion."""
    weights = {"CC": Fraction(1, 2), "LD": Fraction(1, 5), "DN": Fraction(3, 10)}
    assert weighted_groups({"CC": 80, "LD": 90, "DN": None}, weights) == Fraction(580, 7)
    assert weighted_groups({"CC": 80, "LD": 90, "DN": 70}, weights) == 79
    assert weighted_groups({"CC": None, "LD": None}, weights) is None
    assert weighted_groups({"HDND": 100}, weights) is None  # a group the rule does not weigh

"""Publication rules and weights (Kish 1992; NCHS standards, Parker et al. 2017)."""

from __future__ import annotations

import pytest

from analysis import wilson
from analysis.publication import PublicationRules, assess, kish_design_effect, kish_effective_n


def test_small_cells_are_hidden_and_wide_ones_flagged() -> None:
    assert assess(9, 9, wilson(8, 9)).hidden
    few = assess(20, 20, wilson(16, 20))
    assert (few.hidden, few.low_reliability, few.rankable) == (False, True, False)
    assert few.reason == "n_eff<30"
    # n = 35: the Wilson interval of 17/35 is 0.31 wide → flagged as a wide interval.
    wide = assess(35, 35, wilson(17, 35))
    assert wide.reason == "wide interval"
    assert wide.low_reliability
    assert not wide.rankable
    middle = assess(60, 60, wilson(30, 60))  # width about 0.245: shown, not ranked
    assert (middle.low_reliability, middle.rankable) == (False, False)
    good = assess(400, 400, wilson(320, 400))
    assert good.rankable
    assert good.reason == ""
    # Clustering shrinks n_eff: the same answers with a design effect of 20 are flagged.
    assert assess(400, 20, wilson(320, 400)).low_reliability


def test_rules_are_configurable_and_versioned() -> None:
    strict = PublicationRules(version="tinh-2027", hide_below_n=30)
    assert assess(20, 20, wilson(16, 20), strict).hidden
    assert strict.version == "tinh-2027"


def test_kish() -> None:
    assert kish_effective_n([1, 1, 1, 1]) == 4
    assert kish_effective_n([1, 3]) == pytest.approx(16 / 10)
    assert kish_design_effect([1, 3]) == pytest.approx(2 / 1.6)
    assert kish_design_effect([2, 2, 2]) == pytest.approx(1.0)

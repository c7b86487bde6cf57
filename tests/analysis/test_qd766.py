"""QĐ 766/QĐ-TTg satisfaction-group rates, computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from analysis import qd766


def test_the_three_rates_by_hand() -> None:
    assert qd766.on_time_rate(7, 8) == Decimal("87.50")
    assert qd766.feedback_satisfaction(6, 1) == Decimal("83.33")  # 5/6 = 83.333…
    assert qd766.dossier_satisfaction(12, 3) == Decimal("75.00")
    assert qd766.on_time_rate(2, 3) == Decimal("66.67")  # 66.666… half up
    assert qd766.dossier_satisfaction(8, 1, places=1) == Decimal("87.5")


def test_degenerate_counts() -> None:
    """Nothing to rate is None (never 0, 100 or NaN); all or none give 100 and 0."""
    assert qd766.on_time_rate(0, 0) is None
    assert qd766.feedback_satisfaction(0, 0) is None
    assert qd766.dossier_satisfaction(0, 0) is None
    assert qd766.on_time_rate(5, 5) == Decimal("100.00")
    assert qd766.feedback_satisfaction(4, 4) == Decimal("0.00")
    assert qd766.dossier_satisfaction(9, 0) == Decimal("100.00")


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (qd766.on_time_rate, (9, 8)),
        (qd766.on_time_rate, (-1, 8)),
        (qd766.feedback_satisfaction, (3, 4)),
        (qd766.dossier_satisfaction, (2, 5)),
    ],
)
def test_impossible_counts_are_refused(call, args) -> None:
    with pytest.raises(ValueError, match="need|unsatisfied|dissatisfied"):
        call(*args)

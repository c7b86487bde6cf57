"""When a figure may be shown and ranked (Kish 1992; NCHS Data Presentation Standards for
Proportions, Parker et al. 2017; GP Patient Survey suppression below n = 10).

Defaults: hide n < 10; flag "low reliability" when n_eff < 30 or the interval is wider than 0.30;
rank only reliable figures whose interval is at most 0.20 wide. The rule set carries a version,
stored with every published table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.types import Interval


@dataclass(frozen=True)
class PublicationRules:
    version: str = "2026.1"
    hide_below_n: int = 10
    min_effective_n: float = 30
    max_width: float = 0.30
    max_rank_width: float = 0.20


@dataclass(frozen=True)
class Verdict:
    hidden: bool
    low_reliability: bool
    rankable: bool
    reason: str  # "", "n<10", "n_eff<30", "wide interval", "too wide to rank"


def assess(
    n: int, effective_n: float, interval: Interval | None, rules: PublicationRules | None = None
) -> Verdict:
    """The publication verdict for a share based on ``n`` answers (``effective_n`` after design)."""
    rules = rules or PublicationRules()
    if n < rules.hide_below_n or interval is None:
        return Verdict(True, True, False, f"n<{rules.hide_below_n}")
    width = interval.high - interval.low
    if effective_n < rules.min_effective_n:
        return Verdict(False, True, False, f"n_eff<{rules.min_effective_n:g}")
    if width > rules.max_width:
        return Verdict(False, True, False, "wide interval")
    if width > rules.max_rank_width:
        return Verdict(False, False, False, "too wide to rank")
    return Verdict(False, False, True, "")


def kish_effective_n(weights: Sequence[float]) -> float:
    """Kish effective sample size (Σw)² / Σw² (Kish 1992)."""
    total = sum(weights)
    squares = sum(w * w for w in weights)
    return total * total / squares if squares else 0.0


def kish_design_effect(weights: Sequence[float]) -> float:
    """Design effect of unequal weights: n / n_eff = n Σw² / (Σw)² (1 for equal weights)."""
    effective = kish_effective_n(weights)
    return len(weights) / effective if effective else float("nan")

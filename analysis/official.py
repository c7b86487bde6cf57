"""Official satisfaction indices (QĐ 1001/QĐ-BNV 2023 and QĐ 2640/QĐ-BNV 2017).

Inputs are frequency tables: for each item, the count of answers at each level. Outputs are exact
(``fractions.Fraction``) with their counts; rounding happens only at presentation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from analysis.types import Index

Levels = Mapping[int, int]  # level → number of answers


@dataclass(frozen=True)
class Scale:
    """An answer scale: its levels, those counted as satisfied, and "don't know" levels."""

    levels: tuple[int, ...]
    satisfied: frozenset[int]
    missing: frozenset[int] = frozenset()

    @classmethod
    def five_level(cls) -> Scale:
        """1 Rất không hài lòng … 5 Rất hài lòng; satisfied = {4, 5}; 0 = không biết."""
        return cls((1, 2, 3, 4, 5), frozenset({4, 5}), frozenset({0}))


def item_index(code: str, counts: Levels, scale: Scale) -> Index:
    """Item index = 100 × (answers at a satisfied level) / (valid answers to the item).

    QĐ 1001/QĐ-BNV: "Không trả lời / Không biết" and any level outside the scale are
    left out of the denominator. No valid answer gives ``value=None`` (never 0%).
    """
    valid = sum(n for level, n in counts.items() if level in scale.levels)
    satisfied = sum(n for level, n in counts.items() if level in scale.satisfied)
    value = Fraction(100 * satisfied, valid) if valid else None
    return Index(code, value, satisfied, valid, "share")


def aggregate(
    code: str,
    parts: Sequence[Index],
    method: str = "mean",
    weights: Mapping[str, Fraction | int] | None = None,
) -> Index:
    """Combine item (or element, or domain) indices into one.

    ``mean`` (the default of QĐ 1001/QĐ-BNV): the simple mean of the parts that have a value; with
    ``weights`` (by part code), their weighted mean. ``pooled``: 100 × Σ satisfied / Σ valid over
    every answer underneath, so parts with more valid answers count more. Parts without a value are
    left out; none left gives ``value=None``.
    """
    satisfied = sum(p.satisfied for p in parts)
    valid = sum(p.valid for p in parts)
    values = {p.code: p.value for p in parts if p.value is not None}
    present = [p for p in parts if p.value is not None]
    if method == "pooled":
        value = Fraction(100 * satisfied, valid) if valid else None
        return Index(code, value, satisfied, valid, "pooled", tuple(parts))
    if method != "mean":
        raise ValueError(f"unknown aggregation {method!r}: use 'mean' or 'pooled'")
    if not present:
        return Index(code, None, satisfied, valid, "mean", tuple(parts))
    if weights:
        missing = [p.code for p in present if p.code not in weights]
        if missing:
            raise ValueError(f"no weight for {missing}")
        total = sum(Fraction(weights[p.code]) for p in present)
        if total <= 0:
            raise ValueError("weights must be positive")
        weighted = sum((Fraction(weights[p.code]) * values[p.code] for p in present), Fraction(0))
        return Index(code, weighted / total, satisfied, valid, "weighted mean", tuple(parts))
    mean = sum(values.values(), Fraction(0)) / len(present)
    return Index(code, mean, satisfied, valid, "mean", tuple(parts))


@dataclass(frozen=True)
class Structure:
    """Which items make each element and which elements each domain (codes, in order)."""

    domains: Mapping[str, Sequence[str]]  # domain code → element codes
    elements: Mapping[str, Sequence[str]]  # element code → item codes


def sipas_index(
    counts: Mapping[str, Levels],
    structure: Structure,
    scale: Scale,
    element_method: str = "mean",
    domain_method: str = "mean",
    overall_method: str = "mean",
    domain_weights: Mapping[str, Fraction | int] | None = None,
    code: str = "SIPAS",
) -> Index:
    """The whole chain of QĐ 1001/QĐ-BNV: items → elements → domains → SIPAS.

    QĐ 1001/QĐ-BNV: element = mean of its item indices, domain = mean of its element indices,
    SIPAS = mean of the two domains (policy, services) with equal weights unless configured. For
    the counter survey and QĐ 2640 (one domain) SIPAS is the mean of the five service elements.
    The returned tree has the domains as parts, the elements as their parts, the items below.
    """
    domains = []
    for domain_code, element_codes in structure.domains.items():
        elements = [
            aggregate(
                element_code,
                [item_index(i, counts.get(i, {}), scale) for i in structure.elements[element_code]],
                element_method,
            )
            for element_code in element_codes
        ]
        domains.append(aggregate(domain_code, elements, domain_method))
    if len(domains) == 1 and overall_method != "pooled":
        only = domains[0]
        return Index(code, only.value, only.satisfied, only.valid, only.method, only.parts)
    return aggregate(code, domains, overall_method, domain_weights)


def find(index: Index, code: str) -> Index | None:
    """The part with ``code`` anywhere in an index tree."""
    if index.code == code:
        return index
    for part in index.parts:
        found = find(part, code)
        if found is not None:
            return found
    return None


def expectation_index(code: str, counts: Levels, very_much: int = 3) -> Index:
    """Expectation index of a priority area (Câu 10): % of its answers that are "Rất nhiều".

    QĐ 1001/QĐ-BNV, Câu 10; the denominator is the respondents who answered that area.
    """
    answered = sum(counts.values())
    chosen = counts.get(very_much, 0)
    return Index(
        code, Fraction(100 * chosen, answered) if answered else None, chosen, answered, "share"
    )


def share_index(code: str, counts: Levels, levels: Iterable[int]) -> Index:
    """A published share such as "no harassing official" (Câu 4 level 1) over all answers."""
    wanted = set(levels)
    answered = sum(counts.values())
    chosen = sum(n for level, n in counts.items() if level in wanted)
    return Index(
        code, Fraction(100 * chosen, answered) if answered else None, chosen, answered, "share"
    )


def unit_mean(code: str, parts: Sequence[Index]) -> Index:
    """A province's or the nation's figure over units: the simple mean of unit figures.

    How Bộ Nội vụ publishes "trung bình cả nước". The respondent-weighted figure is
    ``aggregate(code, parts, "pooled")``, labelled as such.
    """
    return aggregate(code, parts, "mean")

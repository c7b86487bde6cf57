"""The engine on real survey answers (../shared/research-data/kcmo_resident_survey): item indices,
element indices and Wilson intervals per council district agree with a plain computation to 1e-9."""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict

import pytest

from analysis import Scale, aggregate, item_index, period_change, wilson
from tests.analysis.test_reliability_drivers import research

ITEMS = [
    f"q3_{i:02d}" for i in range(1, 17)
]  # satisfaction with city services, 1–5, 9 = don't know
SCALE = Scale((1, 2, 3, 4, 5), frozenset({4, 5}), frozenset({9}))


def load(name: str) -> list[dict[str, str]]:
    with research(f"kcmo_resident_survey/{name}").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_district_indices_agree_with_a_plain_count() -> None:
    rows = load("kcmo_mar_2022_safe.csv")
    assert len(rows) == 984
    by_district: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for row in rows:
        for item in ITEMS:
            if row[item] not in ("", "NA"):
                by_district[row["counci"]][item][int(row[item])] += 1
    assert sorted(by_district) == ["1", "2", "3", "4", "5", "6"]
    for district, items in by_district.items():
        indices = [item_index(item, items[item], SCALE) for item in ITEMS]
        plain_values = []
        for item, index in zip(ITEMS, indices, strict=True):
            answers = [
                int(r[item]) for r in rows if r["counci"] == district and r[item] not in ("", "NA")
            ]
            valid = [a for a in answers if 1 <= a <= 5]
            satisfied = [a for a in valid if a >= 4]
            assert (index.satisfied, index.valid) == (len(satisfied), len(valid))
            plain = 100 * len(satisfied) / len(valid)
            plain_values.append(plain)
            assert float(index.value) == pytest.approx(plain, abs=1e-9)
            interval = wilson(index.satisfied, index.valid)
            z = 1.959963984540054
            p, n = len(satisfied) / len(valid), len(valid)
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            assert interval.low == pytest.approx(centre - half, abs=1e-9)
            assert interval.high == pytest.approx(centre + half, abs=1e-9)
        element = aggregate(f"D{district}", indices, "mean")
        assert float(element.value) == pytest.approx(
            sum(plain_values) / len(plain_values), abs=1e-9
        )
        pooled = aggregate(f"D{district}", indices, "pooled")
        assert float(pooled.value) == pytest.approx(
            100 * sum(i.satisfied for i in indices) / sum(i.valid for i in indices), abs=1e-9
        )


def test_change_between_the_two_quarters() -> None:
    """Satisfaction with the first city service (q3_01), September 2021 against March 2022."""
    before, after = load("FY2022_RS_Cleaned_safe.csv"), load("kcmo_mar_2022_safe.csv")
    first = [r for r in before if r["quarte"] == "1QSEP2021"]
    assert (len(first), len(after)) == (1033, 984)

    def share(rows: list[dict[str, str]], item: str) -> tuple[int, int]:
        valid = [int(r[item]) for r in rows if r[item] not in ("", "NA") and 1 <= int(r[item]) <= 5]
        return sum(1 for v in valid if v >= 4), len(valid)

    (s2, n2), (s1, n1) = share(after, "q3_01"), share(first, "q3_01")
    change = period_change(s2, n2, s1, n1)
    assert change.difference == pytest.approx(s2 / n2 - s1 / n1, abs=1e-12)
    assert change.interval.low < change.difference < change.interval.high

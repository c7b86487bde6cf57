"""Reliability and key drivers: hand-computed cases and the validation data in
../shared/research-data, checked against an independent, plain computation."""

from __future__ import annotations

import csv
import itertools
import math
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import f

from analysis.drivers import key_drivers
from analysis.reliability import cronbach

DATA = Path(__file__).resolve().parents[3] / "shared" / "research-data"


def research(path: str) -> Path:
    found = DATA / path
    if not found.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires {found}")
        pytest.skip(f"{found} is not here")
    return found


def alpha_by_hand(rows: list[list[float]]) -> float:
    k = len(rows[0])
    columns = list(zip(*rows, strict=True))

    def var(values) -> float:
        mean = sum(values) / len(values)
        return sum((v - mean) ** 2 for v in values) / (len(values) - 1)

    return k / (k - 1) * (1 - sum(var(c) for c in columns) / var([sum(r) for r in rows]))


def test_cronbach_small_case() -> None:
    rows = [[4, 5, 4], [2, 3, 3], [5, 5, 4], [3, 2, 2], [4, 4, 5]]
    result = cronbach(rows)
    assert result.alpha == pytest.approx(alpha_by_hand(rows), abs=1e-12)
    assert result.n == 5
    assert result.k == 3
    # Feldt: 1 − (1 − α)·F(0.975; n−1, (n−1)(k−1)) and with F(0.025; …).
    assert result.interval[0] == pytest.approx(1 - (1 - result.alpha) * f.ppf(0.975, 4, 8))
    # α if item 1 is deleted is α of items 2 and 3.
    assert result.alpha_if_deleted[0] == pytest.approx(alpha_by_hand([r[1:] for r in rows]))
    # Corrected item–total: item 1 against the sum of items 2 and 3.
    first = np.array([r[0] for r in rows])
    rest = np.array([r[1] + r[2] for r in rows])
    assert result.item_total[0] == pytest.approx(np.corrcoef(first, rest)[0, 1])


def test_cronbach_leaves_out_incomplete_rows() -> None:
    rows = [[4, 5], [2, 3], [5, None], [3, 2], [4, 4]]
    assert cronbach(rows).n == 4
    assert cronbach([[1, 1], [1, 1], [1, 1]]) is None  # no variance


def test_mobi_image_block_matches_the_published_alpha() -> None:
    with research("ecsi_mobi/mobi.csv").open() as handle:
        rows = [[float(r[f"IMAG{i}"]) for i in range(1, 6)] for r in csv.DictReader(handle)]
    result = cronbach(rows)
    assert result.n == 250
    assert result.alpha == pytest.approx(alpha_by_hand(rows), abs=1e-9)
    # Published for this block (pingouin reproduces it): α = 0.714, Feldt [0.654, 0.767].
    assert round(result.alpha, 3) == 0.714
    assert (round(result.interval[0], 3), round(result.interval[1], 3)) == (0.654, 0.767)
    assert result.alpha_standardized != pytest.approx(result.alpha, abs=1e-4)


def r2_by_regression(x: np.ndarray, y: np.ndarray, columns: tuple[int, ...]) -> float:
    if not columns:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x[:, list(columns)]])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    return 1 - residual @ residual / ((y - y.mean()) @ (y - y.mean()))


def test_key_drivers_on_the_corporate_reputation_data() -> None:
    path = research("corporate_reputation/Corporate Reputation Data.csv")
    with path.open(encoding="utf-8") as handle:
        records = list(csv.DictReader(handle, delimiter=";"))
    blocks = {
        "COMP": ["comp_1", "comp_2", "comp_3"],
        "LIKE": ["like_1", "like_2", "like_3"],
        "CUSA": ["cusa"],
        "CUSL": ["cusl_1", "cusl_2", "cusl_3"],
    }
    rows = []
    for record in records:
        values = {k: [float(record[c]) for c in cols] for k, cols in blocks.items()}
        if any(v == -99 for vs in values.values() for v in vs):
            continue
        rows.append({k: sum(vs) / len(vs) for k, vs in values.items()})
    x = np.array([[r["COMP"], r["LIKE"], r["CUSA"]] for r in rows])
    y = np.array([r["CUSL"] for r in rows])
    result = key_drivers(["COMP", "LIKE", "CUSA"], x.tolist(), y.tolist())
    assert result.n == 336
    # Independently: R² and Shapley values from ordinary regressions on every subset.
    full = r2_by_regression(x, y, (0, 1, 2))
    assert result.r_squared == pytest.approx(full, abs=1e-9)
    for j in range(3):
        others = [i for i in range(3) if i != j]
        phi = sum(
            math.factorial(len(s))
            * math.factorial(2 - len(s))
            / math.factorial(3)
            * (r2_by_regression(x, y, (*s, j)) - r2_by_regression(x, y, s))
            for size in range(3)
            for s in itertools.combinations(others, size)
        )
        assert result.shapley[j] == pytest.approx(phi, abs=1e-9)
    assert sum(result.relative_weights) == pytest.approx(full, abs=1e-9)
    assert sum(result.shapley) == pytest.approx(full, abs=1e-9)
    # The two methods agree closely and rank the drivers alike. (On PLS construct scores they give
    # 0.0653/0.1877/0.3053 and 0.0662/0.1911/0.3010; these use item means, so the figures differ
    # slightly.)
    assert (
        max(abs(a - b) for a, b in zip(result.relative_weights, result.shapley, strict=False))
        < 0.01
    )
    assert sorted(range(3), key=lambda i: result.shapley[i]) == [0, 1, 2]

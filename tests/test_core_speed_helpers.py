"""The analysis core's helpers from the S8 speed work (issue 19) give exactly what the code they replace gave.

Each test keeps the replaced formula and compares on simulated and random inputs (and the real recordings of
tests/test_core_identity.py, which pins every table of ``analyze``); equality is exact: dtype, shape, every
bit, the sign of zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_core_identity import differences

from insole.analysis._segments import percentiles


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and not differences({"x": a}, {"x": b})


def _signals(rng: np.random.Generator) -> list[np.ndarray]:
    """Long float64 arrays of the kinds the core takes percentiles of: smooth forces with swings at zero, heavy
    ties, heavy tails, constant stretches, negative values, exact zeros of both signs."""
    n = int(rng.integers(50_000, 420_000))
    t = np.arange(n) / 100.0
    walk = np.clip(800 * np.sin(2 * np.pi * t / 1.1), 0, None) + rng.normal(0, 2, n)
    ties = np.round(rng.normal(size=n) * 3) + 0.5
    tails = rng.standard_cauchy(size=n)
    steps = np.repeat(rng.random(n // 50 + 1), 50)[:n] + 1.0
    zeros = np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n))
    zeros[rng.random(n) < 0.1] = -0.0
    floor = np.where(rng.random(n) < 0.5, 12.25, rng.normal(300, 50, n))  # half the samples on one value
    return [walk, ties, tails, steps, zeros, floor, -walk]


def test_percentiles_equal_numpys_bit_for_bit() -> None:
    rng = np.random.default_rng(19)
    checked = 0
    for trial in range(25):
        for values in _signals(rng):
            for qs in ([5, 95], [5.0, 95.0], [0, 100], [50], [float(rng.uniform(0, 100)), 99.99, 0.01],
                       [25, 75, 90]):
                assert _same(percentiles(values, qs), np.percentile(values, qs)), (trial, qs)
                checked += 1
    assert checked == 25 * 7 * 6


def test_percentiles_fall_back_to_numpy_where_they_must() -> None:
    rng = np.random.default_rng(3)
    long = rng.normal(size=100_000)
    with_nan = long.copy()
    with_nan[123] = np.nan
    short = rng.normal(size=1000)
    as_float32 = long.astype(np.float32)
    for values in (with_nan, short, as_float32, long[::2], long.reshape(2, -1)):
        assert _same(percentiles(values, [5, 95]), np.percentile(values, [5, 95]))
    # the input is only read
    before = long.copy()
    percentiles(long, [5, 95])
    assert _same(long, before)
    with pytest.raises(ValueError):
        percentiles(short, [101])  # numpy's own refusal of a percentile outside 0-100

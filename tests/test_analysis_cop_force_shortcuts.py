"""The shortcuts of the force features and the interval helpers give the numbers of the plain computations.

``force_features``' largest force is taken from its two peaks where no stance sample is NaN and the largest is not
zero (a zero's sign is np.nanmax's); ``reduce_rows_intervals`` reads the rows of a C-contiguous array end to end in
one ``reduceat``; ``_padding_mask`` gathers rows of a cached table with np.take's clipping.
"""

from __future__ import annotations

import numpy as np
import pytest

from insole.analysis._force import force_features
from insole.analysis._segments import _padding_mask, interval_windows, reduce_rows_intervals


def _stances(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    hs = np.sort(rng.choice(n - 1, size=m, replace=False)).astype(np.int64)
    to = np.minimum(hs + rng.integers(1, 60, m), n).astype(np.int64)
    return hs, to


@pytest.mark.parametrize("kind", ["positive", "nan_inside", "signed_zeros", "all_zero", "infinite"])
def test_largest_force_is_nanmax_of_each_stance_to_the_bit(kind: str) -> None:
    rng = np.random.default_rng(["positive", "nan_inside", "signed_zeros", "all_zero", "infinite"].index(kind))
    n = 400
    force = rng.random(n) * 700.0
    if kind == "nan_inside":
        force[rng.random(n) < 0.05] = np.nan
    elif kind == "signed_zeros":
        force[rng.random(n) < 0.4] = 0.0
        force[rng.random(n) < 0.4] = -0.0
    elif kind == "all_zero":  # every stance's largest is a zero: +0.0 or -0.0, as np.nanmax finds it
        force = np.where(rng.random(n) < 0.5, 0.0, -0.0)
    elif kind == "infinite":
        force[rng.random(n) < 0.03] = np.inf
        force[rng.random(n) < 0.03] = -np.inf
    hs, to = _stances(rng, n, 25)
    with np.errstate(all="ignore"):  # (infinite forces: inf - inf in the other features)
        out = force_features(force, hs, to, 100.0, 700.0, calibrated=True)
        expected = np.nanmax(interval_windows(force, hs, to), axis=1)
    assert out["max_force_n"].tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint32])
@pytest.mark.parametrize("ufunc", [np.add, np.maximum, np.fmin])
def test_reduce_rows_intervals_is_each_rows_own_reduceat(dtype, ufunc) -> None:
    rng = np.random.default_rng(7)
    k, n = 5, 300
    rows = (rng.standard_normal((k, n)) * 100).astype(dtype)
    if np.dtype(dtype).kind == "f":
        rows[rng.random((k, n)) < 0.05] = -0.0
        rows[rng.random((k, n)) < 0.02] = np.nan
    hs, to = _stances(rng, n, 30)
    to[-1] = n  # an interval to the last sample: reduced on its own, as before
    for case in (rows, rows[:, ::-1], rows[:1]):  # C-contiguous, a strided view, one row
        got = reduce_rows_intervals(ufunc, case, hs, to)
        expected = np.empty((hs.size, case.shape[0]), dtype=case.dtype)
        for i, (a, b) in enumerate(zip(hs.tolist(), to.tolist(), strict=True)):
            if b < n:
                for j in range(case.shape[0]):
                    expected[i, j] = ufunc.reduceat(np.ascontiguousarray(case[j]), [a, b])[0]
            else:
                expected[i] = ufunc.reduce(case[:, a:], axis=1)
        assert got.dtype == case.dtype
        assert got.tobytes() == expected.tobytes()


def test_padding_mask_is_the_broadcast_comparison_for_any_lengths() -> None:
    rng = np.random.default_rng(3)
    for lengths in (rng.integers(-5, 80, 200), rng.integers(0, 3, 7), np.zeros(0, dtype=np.int64),
                    rng.integers(0, 300, 50)):
        for width in (None, 0, 1, 40, 80, 300):
            wide = (max(int(lengths.max()), 0) if lengths.size else 0) if width is None else width
            expected = np.arange(wide)[None, :] >= np.clip(lengths, 0, wide)[:, None]
            got = _padding_mask(lengths, width)
            assert got.shape == expected.shape and got.flags.c_contiguous
            assert np.array_equal(got, expected)
            got[...] = True  # the caller's own array, not the cached table
    assert np.array_equal(_padding_mask(np.array([0, 2]), 3), [[True, True, True], [False, False, True]])


def test_row_extremes_are_the_rows_own_fmax_and_fmin_to_the_bit() -> None:
    from insole.analysis._cop import _row_extremes

    rng = np.random.default_rng(11)
    for trial in range(200):
        rows, columns = int(rng.integers(1, 40)), int(rng.integers(1, 90))
        windows = (rng.random((rows, columns)) - 0.5) * 80.0
        if trial % 4 == 1:  # signed zeros: their order decides which one is the extreme
            windows = np.where(rng.random((rows, columns)) < 0.5, 0.0, -0.0)
        elif trial % 4 == 2:
            windows[rng.random((rows, columns)) < 0.3] = np.nan
            windows[rng.random((rows, columns)) < 0.05] = np.inf
            windows[rng.random((rows, columns)) < 0.05] = -np.inf
        elif trial % 4 == 3:
            windows[rng.random((rows, columns)) < 0.3] = rng.choice([0.0, -0.0])
        work = np.full(rows * columns, 7.0).reshape(rows, columns)
        highest, lowest = _row_extremes(windows, work)
        assert highest.tobytes() == np.fmax.reduce(windows, axis=1).tobytes()
        assert lowest.tobytes() == np.fmin.reduce(windows, axis=1).tobytes()

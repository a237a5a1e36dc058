"""The preparation's row-at-a-time helpers give the numbers of the whole-array numpy calls they replace, bit for bit."""

from __future__ import annotations

import numpy as np


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, shape and bytes (a -0.0 is not a 0.0 here)."""
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))


def _readings(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """(k, n) float32 readings of several magnitudes (so float64 sums round differently in another order)."""
    values = rng.gamma(0.6, 1.0, (k, n)) * (10.0 ** rng.integers(-3, 6, (k, 1)))
    values[rng.random((k, n)) < 0.3] = 0.0
    return values.astype(np.float32)


def test_row_sums_equal_numpys_sum_over_the_first_axis() -> None:
    from insole.analysis._prepare import _copied_rows_and_sum, _sum_rows, _transposed_float32, _weighted_rows_and_sum

    rng = np.random.default_rng(11)
    for trial in range(40):
        k, n = int(rng.integers(1, 20)), int(rng.integers(0, 30000))
        rows = _readings(rng, k, n)
        if trial % 4 == 0 and n:
            rows[rng.integers(0, k), rng.integers(0, n)] = np.nan  # a non-finite sum stays where numpy puts it
        if trial % 3 == 0 and n:
            # samples where every sensor reads -0.0: numpy's sum, started from +0.0, gives +0.0 (a final read found
            # the row-by-row sums gave -0.0 there)
            rows[:, rng.integers(0, n, size=min(n, 5))] = -0.0
        expected = rows.sum(axis=0, dtype=np.float64)
        assert _same(_sum_rows(rows), expected), trial
        weights = (rng.random((k, 1)) * 3).astype(np.float32)
        product, force = _weighted_rows_and_sum(rows, weights)
        assert _same(product, rows * weights), trial
        assert _same(force, (rows * weights).sum(axis=0, dtype=np.float64)), trial
        # a recording's (samples, sensors) values: stored sensor by sensor (a transposed view), row by row, or
        # float64, as the readers may give them
        for values in (rows.T, np.ascontiguousarray(rows.T), rows.astype(np.float64).T):
            copied, summed = _copied_rows_and_sum(values)
            assert _same(copied, _transposed_float32(values)), trial
            assert _same(summed, copied.sum(axis=0, dtype=np.float64)), trial


def test_medians_of_weighted_rows_from_one_sort_equal_each_arrays_own() -> None:
    from insole.analysis._prepare import _row_medians, _weighted_row_medians

    rng = np.random.default_rng(5)
    for trial in range(400):
        k, width = int(rng.integers(1, 8)), int(rng.integers(1, 60))
        values = _readings(rng, k, width)
        values[:, : width // 2] = np.round(values[:, : width // 2], 1)  # ties
        if trial % 3 == 0:
            values[0, rng.integers(0, width)] = -0.0  # a negative zero among the zeros: its rows are sorted apart
        if trial % 5 == 0:
            values[-1] -= np.float32(0.5)  # negative readings
        if trial % 7 == 0:
            values[0, 0] = np.float32(-1e-44)  # a product that underflows to -0.0
        weights = (rng.random(k) * 2 * 10.0 ** rng.integers(-6, 3, k)).astype(np.float32)
        if trial % 4 == 0:
            weights[rng.integers(0, k)] = 0.0  # a sensor of no area: every product is a zero of the value's sign
        if trial % 5 == 0:
            # a negative or an infinite weight (no layout has one; the rule must hold anyway): a mostly-zero row's
            # products then have -0.0 or NaN in the middle (a final read found +0.0 given for them)
            weights[rng.integers(0, k)] = np.float32(-1.5 if trial % 10 else np.inf)
        with np.errstate(invalid="ignore"):  # (0 x inf: NaN, in both computations alike)
            load, pressure = _weighted_row_medians(values, weights)
            assert _same(load, _row_medians(values * weights[:, None])), trial
        assert _same(pressure, _row_medians(values)), trial


def test_offset_and_clip_row_by_row_equals_the_whole_array_operations() -> None:
    from insole.analysis._prepare import _offset_and_clip_rows

    rng = np.random.default_rng(17)
    for trial in range(200):
        k, n = int(rng.integers(1, 10)), int(rng.integers(0, 300))
        values = _readings(rng, k, n)
        if n and trial % 2:
            values[rng.integers(0, k), rng.integers(0, n, 3)] = -rng.random(3).astype(np.float32)  # below zero
        if n and trial % 3 == 0:
            values[rng.integers(0, k), rng.integers(0, n)] = -0.0
        if n and trial % 11 == 0:
            values[rng.integers(0, k), rng.integers(0, n)] = np.nan
        shift = np.where(rng.random(k) < 0.5, 0.0, rng.normal(0, 2, k)).astype(np.float32)
        if trial % 5 == 0:
            shift[rng.integers(0, k)] = -0.0  # subtracting -0.0 turns a -0.0 reading into +0.0
        for clip in (True, False):
            expected = values - shift[:, None]
            if clip:
                np.maximum(expected, 0, out=expected)
            got = values.copy()
            _offset_and_clip_rows(got, shift, clip)
            assert _same(got, expected), (trial, clip)


def test_interval_maxima_on_the_bits_equal_the_float_maxima() -> None:
    from insole.analysis._prepare import _interval_maxima
    from insole.analysis._segments import reduce_rows_intervals

    rng = np.random.default_rng(23)
    for trial in range(120):
        k, n = int(rng.integers(1, 10)), int(rng.integers(2, 3000))
        rows = _readings(rng, k, n)
        rows[:, rng.random(n) < 0.1] = np.inf if trial % 9 == 0 else 0.0
        if trial % 3 == 1:
            rows[rng.integers(0, k), rng.integers(0, n)] = -0.0  # a sign bit: read as floats
        if trial % 3 == 2:
            rows[rng.integers(0, k), rng.integers(0, n)] = -rng.random()
        if trial % 10 == 0:
            rows[rng.integers(0, k), rng.integers(0, n)] = np.nan
        m = int(rng.integers(1, 40))
        starts = np.sort(rng.integers(0, n - 1, m))
        stops = np.minimum(starts + rng.integers(1, 200, m), n)  # some end at the last sample
        assert _same(_interval_maxima(rows, starts, stops), reduce_rows_intervals(np.maximum, rows, starts, stops)), \
            trial


def test_medians_of_rows_mostly_zero_are_those_of_the_sort() -> None:
    from insole.analysis._prepare import _row_medians, _weighted_row_medians

    rng = np.random.default_rng(31)
    for trial in range(300):
        k, width = int(rng.integers(1, 8)), int(rng.integers(1, 40))
        values = _readings(rng, k, width)
        # rows with about half their values zero: just more, just fewer, or as many as the middle needs
        for j in range(k):
            zeros = min(width, max(0, width // 2 + int(rng.integers(-2, 3))))
            values[j, rng.permutation(width)[:zeros]] = 0.0
        if trial % 4 == 0:
            values[rng.integers(0, k), rng.integers(0, width)] = -0.0
        if trial % 6 == 0:
            values[rng.integers(0, k), rng.integers(0, width)] = np.nan
        weights = (rng.random(k) * 3).astype(np.float32)
        with np.errstate(invalid="ignore"):  # (0 x inf: NaN, in both computations alike)
            load, pressure = _weighted_row_medians(values, weights)
            assert _same(load, _row_medians(values * weights[:, None])), trial
        assert _same(pressure, _row_medians(values)), trial


def test_blocks_of_plain_rows_on_their_bits_equal_the_float_extremes() -> None:
    from insole.analysis._params import AnalysisParams
    from insole.analysis._prepare import _Blocks, _copied_rows_and_sum, _sum_rows

    rng = np.random.default_rng(37)
    params = AnalysisParams()
    for trial in range(40):
        k, n = int(rng.integers(1, 10)), int(rng.integers(30, 4000))
        values = _readings(rng, k, n)
        bent = rng.random(k) < 0.4  # rows with a sign bit or a NaN: read as floats
        for j in np.flatnonzero(bent):
            values[j, rng.integers(0, n)] = [-0.0, -1.5, np.nan][trial % 3]
        plain = np.zeros(k, dtype=bool)
        _sum_rows(values, plain=plain)
        assert np.array_equal(plain, ~bent), trial
        copied_plain = np.zeros(k, dtype=bool)
        _copied_rows_and_sum(values.T, plain=copied_plain)
        assert np.array_equal(copied_plain, ~bent), trial
        fast, slow = _Blocks(values, np.ones(n, dtype=bool), 100.0, params, plain), _Blocks(
            values, np.ones(n, dtype=bool), 100.0, params)
        for name in ("window_max", "maximum", "minimum"):
            assert _same(getattr(fast, name), getattr(slow, name)), (trial, name)
        # zeroed readings (spikes) and a refresh of their rows
        rows = np.unique(rng.integers(0, k, 3))
        values[rows, rng.integers(0, n)] = 0.0
        fast.refresh(values, rows)
        slow.refresh(values, rows)
        for name in ("window_max", "maximum", "minimum"):
            assert _same(getattr(fast, name), getattr(slow, name)), (trial, name)

"""The preparation's shortcuts for percentiles, block maxima and rows known to be plain give numpy's numbers, bit
for bit."""

from __future__ import annotations

import warnings

import numpy as np

from insole.analysis._params import AnalysisParams


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, shape and bytes (a -0.0 is not a 0.0 here)."""
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))


def _arrays(rng: np.random.Generator, kind: int, k: int, w: int) -> np.ndarray:
    if kind == 0:
        return (rng.random((k, w)) * 100).astype(np.float32)
    if kind == 1:  # many ties
        return rng.integers(0, 5, (k, w)).astype(np.float32)
    if kind == 2:  # zeros and subnormals
        return np.where(rng.random((k, w)) < 0.5, 0, rng.random((k, w)) * 1e-40).astype(np.float32)
    if kind == 3:  # infinities
        return np.where(rng.random((k, w)) < 0.1, np.inf, rng.random((k, w))).astype(np.float32)
    if kind == 4:  # negatives: numpy's own
        return rng.standard_normal((k, w)).astype(np.float32)
    return rng.choice(np.array([0.0, -0.0, 1.0, np.nan], dtype=np.float32), (k, w))  # signed zeros, NaN


def test_row_percentile_equals_numpys() -> None:
    from insole.analysis._prepare import _row_percentile

    rng = np.random.default_rng(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf, as numpy's own
        for trial in range(600):
            k, w = int(rng.integers(1, 20)), int(rng.integers(1, 300) if trial % 10 else rng.integers(1, 3))
            values = _arrays(rng, trial % 6, k, w)
            for q in (0, 5, 25, 50, 75, 90, 95, 100, 33.3, 99.9):
                assert _same(_row_percentile(values, q), np.percentile(values, q, axis=1)), (trial, q)
            as_float64 = values.astype(np.float64)  # (another dtype: numpy's own)
            assert _same(_row_percentile(as_float64, 75), np.percentile(as_float64, 75, axis=1))


def test_block_maxima_of_plain_rows_equal_the_float_maxima() -> None:
    from insole.analysis._prepare import _Blocks

    rng = np.random.default_rng(8)
    for trial in range(30):
        k, n = int(rng.integers(1, 8)), int(rng.integers(1, 5000))
        values = _arrays(rng, trial % 4, k, n)  # plain (kinds 0-3)
        plain = np.ones(k, dtype=bool)
        blocks = _Blocks(values, np.ones(n, dtype=bool), 100.0, AnalysisParams(), plain)
        nb = blocks.count * blocks.per_block
        expected = blocks.window_max[:, :nb].reshape(k, blocks.count, blocks.per_block).max(axis=2)
        assert _same(blocks.maximum, expected), trial
        rows = np.unique(rng.integers(0, k, size=2))  # refreshed after spikes: some rows only
        values[rows, : n // 2] = 0
        blocks.refresh(values, rows)
        expected = blocks.window_max[:, :nb].reshape(k, blocks.count, blocks.per_block).max(axis=2)
        assert _same(blocks.maximum, expected), trial


def test_known_plain_rows_skip_no_row_that_needs_the_offset_or_the_clipping() -> None:
    from insole.analysis._prepare import _interval_maxima, _offset_and_clip_rows, reduce_rows_intervals

    rng = np.random.default_rng(9)
    for trial in range(40):
        k, n = int(rng.integers(1, 8)), int(rng.integers(1, 3000))
        rows = _arrays(rng, trial % 4, k, n)
        shift = np.where(rng.random(k) < 0.5, 0.0, rng.random(k)).astype(np.float32)
        expected = np.maximum(rows - shift[:, None], 0)
        got = rows.copy()
        _offset_and_clip_rows(got, shift, True, np.ones(k, dtype=bool))
        assert _same(got, expected), trial
        starts = np.sort(rng.integers(0, n, size=5))
        stops = np.minimum(starts + rng.integers(1, 50, size=5), n)
        assert _same(_interval_maxima(rows, starts, stops, plain=True),
                     reduce_rows_intervals(np.maximum, rows, starts, stops)), trial


def test_checks_say_which_rows_are_plain() -> None:
    from insole.analysis._prepare import _plain_row, check_sensors
    from insole.simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(duration_s=30.0, seed=3))
    for side in recording.sides:
        checks = check_sensors(recording, side, AnalysisParams())
        assert checks.plain_rows is not None and checks.plain_rows.any()
        for j, row in enumerate(checks.readings_t):
            if checks.plain_rows[j]:
                assert _plain_row(row)


def _spikes_by_every_sample(x: np.ndarray, valid: np.ndarray, threshold: np.ndarray) -> set[tuple[int, int]]:
    """``_find_spikes``' rule read at every sample (no screening by the window maxima)."""
    k, n = x.shape
    t = threshold.astype(x.dtype)[:, None]
    floor = x.min(axis=1, keepdims=True)
    candidate = x > floor + t
    found: set[tuple[int, int]] = set()
    first = candidate[:, 0] & valid[0] & valid[1] & (x[:, 0] - x[:, 1] > t[:, 0])
    last = candidate[:, n - 1] & valid[n - 1] & valid[n - 2] & (x[:, n - 1] - x[:, n - 2] > t[:, 0])
    found.update((int(r), 0) for r in np.flatnonzero(first))
    found.update((int(r), n - 1) for r in np.flatnonzero(last))
    for r, i in zip(*np.nonzero(candidate[:, 1:-1])):
        i += 1
        if not x[r, i] - x[r, i - 1] > t[r, 0] or not (valid[i - 1] and valid[i] and valid[i + 1]):
            continue
        if x[r, i] - x[r, i + 1] > t[r, 0]:
            found.add((int(r), int(i)))
        elif (i + 2 <= n - 1 and valid[i + 2] and x[r, i + 1] - x[r, i - 1] > t[r, 0]
              and x[r, i] - x[r, i + 2] > t[r, 0] and x[r, i + 1] - x[r, i + 2] > t[r, 0]):
            found.update({(int(r), int(i)), (int(r), int(i) + 1)})
    return found


def test_spikes_at_the_first_and_last_samples_are_found_as_inside() -> None:
    from insole.analysis._prepare import _Blocks, _find_spikes, _spike_thresholds

    rng = np.random.default_rng(12)
    for trial in range(30):
        k, n = int(rng.integers(1, 6)), int(rng.integers(3, 4000))
        x = (rng.random((k, n)) * 10).astype(np.float32)
        for r in range(k):  # spikes at the edges and inside, one and two samples wide
            for at in {0, n - 1, int(rng.integers(0, n)), int(rng.integers(0, n - 1))}:
                x[r, at] += 500
            if trial % 2:
                j = int(rng.integers(1, n - 2)) if n > 3 else 0
                x[r, j:j + 2] += 400
        valid = rng.random(n) > (0.05 if trial % 3 else 0.0)
        blocks = _Blocks(x, valid, 100.0, AnalysisParams(), np.ones(k, dtype=bool))
        threshold = _spike_thresholds(blocks)
        sensor, sample = _find_spikes(x, valid, blocks, threshold)
        assert set(zip(sensor.tolist(), sample.tolist())) == _spikes_by_every_sample(x, valid, threshold), trial


def test_block_extremes_taken_with_the_sums_equal_the_blocks_own() -> None:
    from insole.analysis._prepare import _Blocks, _extremes_taker, _plain_row, _sum_rows

    rng = np.random.default_rng(13)
    for trial in range(36):
        k, n = int(rng.integers(1, 8)), int(rng.integers(1, 5000))
        values = _arrays(rng, trial % 6, k, n)  # plain rows and others (negatives, -0.0, NaN)
        if trial % 5 == 0:  # a row plain but for one value past the last whole window
            values[0] = np.abs(values[0])
            values[0, -1] = -1.0
        params = AnalysisParams()
        plain = np.zeros(k, dtype=bool)
        extremes, take = _extremes_taker(n, k, 100.0, params, plain)
        _sum_rows(values, after=take)  # (the taker says which rows are plain)
        assert plain.tolist() == [_plain_row(row) for row in values], trial
        valid = np.ones(n, dtype=bool)
        taken = _Blocks(values, valid, 100.0, params, plain, extremes)
        own = _Blocks(values, valid, 100.0, params, plain.copy())
        for name in ("window_max", "maximum", "minimum", "valid"):
            assert _same(getattr(taken, name), getattr(own, name)), (trial, name)


def test_stance_maxima_taken_row_by_row_equal_the_interval_maxima() -> None:
    from insole.analysis._prepare import _interval_maxima, _stance_maxima_taker

    rng = np.random.default_rng(14)
    for trial in range(30):
        k, n = int(rng.integers(1, 8)), int(rng.integers(2, 3000))
        rows = _arrays(rng, trial % 4, k, n)  # plain
        starts = np.sort(rng.integers(0, n - 1, size=int(rng.integers(1, 12))))
        stops = np.minimum(starts + rng.integers(1, 80, size=starts.size), n)
        if trial % 3 == 0:
            stops[-1] = n  # a stance to the last sample
        largest, take = _stance_maxima_taker(starts, stops, rows.shape)
        for j in range(k):
            take(j, rows[j])
        assert _same(largest.view(np.float32), _interval_maxima(rows, starts, stops, plain=True)), trial


def test_remove_offset_in_place_keeps_the_stance_maxima_and_loads_of_a_copy() -> None:
    from insole.analysis._events import detect_events
    from insole.analysis._prepare import check_sensors, foot_loads, remove_offset
    from insole.simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(duration_s=40.0, seed=4))  # kPa with known areas: the stance maxima
    params = AnalysisParams()
    compared = 0
    for side in recording.sides:
        done = []
        for in_place in (True, False):
            loads = foot_loads(recording, check_sensors(recording, side, params))
            contacts = detect_events(loads.force, float(recording.sample_rate_hz), params, valid=loads.valid,
                                     time_s=loads.time_s)
            done.append(remove_offset(loads, contacts, params, in_place=in_place))
        fused, apart = done
        if fused.readings_max is None:
            assert apart.readings_max is None
            continue
        assert apart.readings_max is not None
        assert _same(fused.readings_max.largest, apart.readings_max.largest)
        assert _same(fused.sensor_load_t, apart.sensor_load_t)
        assert fused.sensor_pressure_t is not None and apart.sensor_pressure_t is not None
        assert _same(fused.sensor_pressure_t, apart.sensor_pressure_t)
        compared += 1
    assert compared

"""The stance stage's tables made from numpy columns at once equal the pandas forms they replace, value for value."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def walk() -> Any:
    from insole.analysis._events import detect_events
    from insole.analysis._params import AnalysisParams
    from insole.analysis._prepare import check_sensors, foot_loads, remove_offset
    from insole.analysis._session import body_weight
    from insole.analysis._strides import exclude_out_of_step, foot_timing
    from insole.simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(duration_s=60.0, seed=5, layout="insole16", sample_rate_hz=100.0))
    params = AnalysisParams()
    loads, contacts, timing = {}, {}, {}
    for side in recording.sides:
        found = foot_loads(recording, check_sensors(recording, side, params))
        contacts[side] = detect_events(found.force, recording.sample_rate_hz, params, valid=found.valid,
                                       time_s=found.time_s, method="level", calibrated=found.force_unit == "N")
        loads[side] = remove_offset(found, contacts[side], params)
        timing[side] = foot_timing(loads[side], contacts[side], params)
    timing = exclude_out_of_step(timing)
    weight = body_weight(recording, loads, timing, params)
    return recording, loads, contacts, timing, weight.value, params


def test_stride_table_from_the_step_arrays_equals_the_pandas_join(walk: Any) -> None:
    from insole.analysis._stance import _stride_table, _stride_table_joined, stance_features

    recording, loads, contacts, timing, weight, params = walk
    side = recording.sides[0]
    steps = stance_features(recording, side, loads[side], contacts[side], timing, weight, params).steps
    tm = timing[side]
    n = len(steps)
    assert n > 20
    # every contact's row; the first two contacts' rows gone (the rows a run of strides further on); every fourth
    # row gone (the rows put in their strides' places one by one); the last rows gone (NaN after the run)
    for rows in (np.arange(n), np.arange(2, n), np.flatnonzero(np.arange(n) % 4 != 1), np.arange(n - 5)):
        part = steps.iloc[rows].reset_index(drop=True)
        arrays = {c: part[c].to_numpy() for c in part.columns}
        fast = _stride_table(part, tm, arrays=arrays)
        own = {c: v for c, v in fast.items() if c in ("stride", "heel_strike_s", "toe_off_s", "next_heel_strike_s",
                                                      "stride_time_s", "stance_time_s", "swing_time_s", "stance_pct",
                                                      "swing_pct", "cadence_steps_per_min", "bout", "used",
                                                      "exclusion_reason", "heading_change_deg")}
        # the pandas join on the contact (the form before), from the stride table's own columns
        joined = _stride_table_joined(part, tm, {c: v.to_numpy() for c, v in own.items()})
        assert list(fast.columns) == list(joined.columns)
        pd.testing.assert_frame_equal(fast, joined, check_exact=True)
        missing = np.setdiff1d(np.arange(tm.n_contacts - 1), part["contact"].to_numpy())
        assert np.isnan(fast["max_force_n"].to_numpy()[missing]).all()


def test_string_columns_equal_those_of_the_strings_themselves() -> None:
    from insole.analysis._stance import _factorized, _strings

    for reasons in (np.array(["", "event unknown", "", "gap", "", "event unknown"], dtype=object),
                    np.array([""] * 5, dtype=object), np.array(["gap", "event unknown"], dtype=object),
                    np.array(["", None, np.nan, 3, "gap"], dtype=object),  # (each as str() makes it)
                    np.array([], dtype=object)):
        made = pd.DataFrame({"reason": _strings(*_factorized(reasons))})
        expected = pd.DataFrame({"reason": reasons.astype(str)})
        pd.testing.assert_frame_equal(made, expected, check_exact=True)
    walking = np.array([True, False, True, True])
    made = pd.DataFrame({"kind": _strings(np.array(["walking", "standing"]), (~walking).astype(np.intp))})
    expected = pd.DataFrame({"kind": np.where(walking, "walking", "standing")})
    pd.testing.assert_frame_equal(made, expected, check_exact=True)
    empty = pd.DataFrame({"kind": _strings(np.array(["walking", "standing"]), np.zeros(0, dtype=np.intp))})
    pd.testing.assert_frame_equal(empty, pd.DataFrame({"kind": np.zeros(0, dtype="<U8")}), check_exact=True)


def test_stance_samples_are_the_samples_inside_any_stance_in_order() -> None:
    from insole.analysis._stance import _stance_samples

    rng = np.random.default_rng(3)
    n = 2000
    cases = [(np.array([5]), np.array([9])), (np.array([0, 10]), np.array([10, 25])),  # one; two touching
             (np.array([3, 40, 41]), np.array([30, 41, 1999])),  # a stance of one sample, to the last sample but one
             (np.array([0, 5]), np.array([8, 12])),  # overlapping: each sample once
             (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))]
    for _ in range(20):
        edges = np.sort(rng.choice(n, size=2 * int(rng.integers(1, 40)), replace=False))
        cases.append((edges[0::2], edges[1::2]))
    for a, b in cases:
        inside = np.zeros(n, dtype=bool)
        for start, stop in zip(a, b):
            inside[start:stop] = True
        found = _stance_samples(a.astype(np.int64), b.astype(np.int64), n)
        assert found.dtype == np.int64
        assert found.tolist() == np.flatnonzero(inside).tolist(), (a, b)


def test_prefix_table_rows_equal_comparing_the_column_index() -> None:
    from insole.analysis._force import _prefix_tables, _rows_of

    rng = np.random.default_rng(5)
    # with the tables (as many rows as the width, or more) and without (a few rows of a width whose table would be
    # large: the columns compared with each row's value instead)
    for width, rows in ((1, None), (2, None), (7, None), (70, None), (300, None), (300, 3), (5000, 500)):
        before, after = _prefix_tables(width, rows)
        assert isinstance(before, np.ndarray) == (rows is None)
        t = rng.integers(0, width + 1, size=500)
        t[:2] = (0, width)  # both ends
        column = np.arange(width)[None, :]
        out = np.empty((t.size, width), dtype=bool)
        assert np.array_equal(_rows_of(before, t, out), column < t[:, None])
        assert np.array_equal(_rows_of(after, t, out), column >= t[:, None])


def test_mean_force_counts_only_the_samples_that_are_not_missing() -> None:
    from insole.analysis._force import force_features

    rng = np.random.default_rng(8)
    force = rng.uniform(100.0, 900.0, size=400)
    hs = np.array([10, 100, 200, 300])
    to = np.array([60, 170, 230, 390])
    for holes in ([], [20, 21, 150], [205]):
        signal = force.copy()
        signal[holes] = np.nan
        found = force_features(signal, hs, to, 100.0, 700.0, calibrated=True)["mean_force_n"]
        for k, (a, b) in enumerate(zip(hs, to)):
            kept = signal[a:b][~np.isnan(signal[a:b])]
            # the mean of the stance's samples that are there (rtol: the same sum taken in another order)
            assert found[k] == pytest.approx(kept.sum() / kept.size, rel=1e-12), (holes, k)


def test_statistics_of_a_table_without_missing_values_equal_the_masked_steps() -> None:
    from insole.analysis._summary import foot_statistics

    rng = np.random.default_rng(12)
    for m in (0, 1, 2, 9, 300):
        table = pd.DataFrame({"stride": np.arange(m), "used": rng.random(m) < 0.8})
        for j in range(6):
            table[f"metric_{j}_s"] = rng.normal(size=m) * 10.0 ** rng.uniform(-2, 3)
        found = foot_statistics(table)
        # the steps with the masks (what the statistics of a table with missing values take)
        values = np.ascontiguousarray(table[found.metrics].to_numpy(dtype=float)[table["used"].to_numpy()])
        finite = np.isfinite(values)
        n = finite.sum(axis=0)
        total = np.where(finite, values, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, total / n, np.nan)
            squares = np.where(finite, (values - mean) ** 2, 0.0).sum(axis=0)
            sd = np.where(n > 1, np.sqrt(squares / np.maximum(n - 1, 1)), np.nan)
        assert found.n.dtype == n.dtype and found.n.tolist() == n.tolist()
        assert np.array_equal(found.mean, mean, equal_nan=True), m
        assert np.array_equal(found.sd, sd, equal_nan=True), m


def test_curves_of_a_finite_signal_as_zero_or_not_are_its_own_curves() -> None:
    from insole.analysis._force import normalised_curves, stance_grid
    from insole.analysis._stance import _stance_curves

    rng = np.random.default_rng(9)
    n, m = 20_000, 300
    hs = np.sort(rng.choice(n - 80, size=m, replace=False)).astype(np.int64)
    to = hs + rng.integers(2, 80, size=m)
    finite, holes = rng.normal(size=n), rng.normal(size=n)
    holes[rng.random(n) < 0.05] = np.nan
    found = _stance_curves([(finite, True), (holes, True), (finite, False)], hs, to, 101, n)
    grid = stance_grid(hs, to, 101, n)
    assert np.array_equal(found[0], normalised_curves(finite, hs, to, 101, grid))
    assert np.array_equal(found[0], found[2])
    assert np.array_equal(found[1], normalised_curves(np.nan_to_num(holes), hs, to, 101, grid))
    assert not np.isnan(found[1]).any()


def _finite_values_mean_sd(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and SD over its finite values, in the plain form (zeros in a copy, the sums over counts)."""
    finite = np.isfinite(rows)
    count = finite.sum(axis=0)
    kept = np.where(finite, rows, 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = np.where(count > 0, kept.sum(axis=0) / count, np.nan)
        squares = np.where(finite, (kept - mean) ** 2, 0.0).sum(axis=0)
        sd = np.where(count > 1, np.sqrt(squares / np.maximum(count - 1, 1)), np.nan)
    return mean, sd


def test_column_mean_sd_with_missing_values_in_a_few_columns_only() -> None:
    from insole.analysis._stance import _column_mean_sd_inplace

    rng = np.random.default_rng(21)
    for m in (1, 2, 3, 300, 3415):
        rows = rng.normal(size=(m, 101)) * 30.0 + 50.0
        # the COP's pattern: missing values in the first and last points of stance only; an infinity; a column
        # without a value; a column of finite values whose sum overflows
        rows[rng.random(m) < 0.3, 0] = np.nan
        rows[rng.random(m) < 0.5, 100] = np.nan
        rows[0, 50] = np.inf
        rows[:, 99] = np.nan
        rows[:, 7] = 1e308
        expected = _finite_values_mean_sd(rows)
        mean, sd = _column_mean_sd_inplace(rows.copy())
        assert np.array_equal(mean, expected[0], equal_nan=True), m
        assert np.array_equal(sd, expected[1], equal_nan=True), m
        assert (m == 1 or np.isinf(mean[7])) and not np.isnan(mean[1:7]).any()
        # one column with missing values only (alone, numpy would sum it in another order than within the array)
        rows = rng.normal(size=(m, 101)) * 30.0 + 50.0
        rows[rng.random(m) < 0.3, 40] = np.nan
        expected = _finite_values_mean_sd(rows)
        mean, sd = _column_mean_sd_inplace(rows.copy())
        assert np.array_equal(mean, expected[0], equal_nan=True), m
        assert np.array_equal(sd, expected[1], equal_nan=True), m


def test_first_crossing_up_to_a_column_equals_the_one_within_that_columns_mask() -> None:
    from insole.analysis._force import _first_crossing

    rng = np.random.default_rng(4)
    m, width = 400, 60
    windows = np.cumsum(rng.normal(size=(m, width)), axis=1)
    windows[rng.random((m, width)) < 0.05] = np.nan
    last = rng.integers(0, width, size=m)
    level = rng.normal(size=m) * 3.0
    found = _first_crossing(windows, last, level, 0.01)
    # the form before: the samples reached within the mask of the columns up to ``last``
    reached = (windows >= level[:, None]) & (np.arange(width)[None, :] <= last[:, None])
    has = reached.any(axis=1)
    first = np.argmax(reached, axis=1)
    rows = np.arange(m)
    prev = np.maximum(first - 1, 0)
    y0, y1 = windows[rows, prev], windows[rows, first]
    with np.errstate(invalid="ignore"):
        fraction = np.where((first > 0) & (y1 > y0), (level - y0) / np.where(y1 > y0, y1 - y0, 1.0), 0.0)
    time = np.where(first == 0, 0.0, (prev + np.clip(fraction, 0, 1)) * 0.01)
    expected = np.where(has, time, np.nan)
    assert np.array_equal(found, expected, equal_nan=True)
    assert 0 < np.isnan(found).sum() < m  # rows reached up to their column and rows not


def test_statistics_from_the_stride_columns_equal_those_of_the_stride_table(walk: Any) -> None:
    from insole.analysis._stance import stance_features, stance_features_and_statistics
    from insole.analysis._summary import foot_statistics

    recording, loads, contacts, timing, weight, params = walk
    for side in recording.sides:
        found, statistics = stance_features_and_statistics(recording, side, loads[side], contacts[side], timing,
                                                           weight, params)
        alone = stance_features(recording, side, loads[side], contacts[side], timing, weight, params)
        pd.testing.assert_frame_equal(found.strides, alone.strides, check_exact=True)
        expected = foot_statistics(found.strides)
        assert statistics.metrics == expected.metrics and len(expected.metrics) > 20
        for name in ("mean", "sd", "cv_pct", "n"):
            made, wanted = getattr(statistics, name), getattr(expected, name)
            assert made.dtype == wanted.dtype and np.array_equal(made, wanted, equal_nan=True), (side, name)
    # without the stride table's own arrays (its rows joined by pandas, say): the statistics of the table
    empty = foot_statistics(alone.strides, columns={})
    assert np.array_equal(empty.mean, foot_statistics(alone.strides).mean, equal_nan=True)


def test_row_masks_of_a_few_long_intervals_need_no_table_of_the_width_squared() -> None:
    """A (width + 1, width) table serves many short rows; a few rows of a recording's length (standing, an argmax
    over long intervals) asked it for width^2 bytes (149 GiB for 400,000 samples, found by the test suite). The
    masks are the same either way."""
    import tracemalloc

    from insole.analysis._segments import _padding_mask

    lengths = np.array([0, 3, 399_999, 400_000, 123_456])
    tracemalloc.start()
    mask = _padding_mask(lengths)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.array_equal(mask, np.arange(400_000)[None, :] >= lengths[:, None])
    assert peak < 4 * mask.nbytes  # the rows themselves and a little; not 400,001 x 400,000 cells
    short = np.random.default_rng(9).integers(0, 150, size=3000)
    assert np.array_equal(_padding_mask(short), np.arange(short.max())[None, :] >= short[:, None])

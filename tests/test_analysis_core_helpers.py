"""The analysis core's faster helpers (issue 19) give exactly what the code they replace gave.

Random inputs of many sizes and densities, NaN included; equality is exact (dtype, shape, every bit, the sign
of zero), as in tests/test_core_identity.py, whose comparison is used here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_core_identity import differences

from insole.analysis._segments import hysteresis, hysteresis_runs, reduce_rows_intervals, runs


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and not differences({"x": a}, {"x": b})


def _two_accumulates(values: np.ndarray, high: Any, low: Any) -> np.ndarray:
    """The hysteresis as first written: the last sample at or above ``high`` against the last below ``low``."""
    index = np.arange(values.size)
    last_on = np.maximum.accumulate(np.where(values >= high, index, -1)) if values.size else index
    last_off = np.maximum.accumulate(np.where(~(values >= low), index, -1)) if values.size else index
    return last_on > last_off


def test_hysteresis_and_its_runs_equal_the_accumulated_state() -> None:
    rng = np.random.default_rng(41)
    for trial in range(600):
        n = int(rng.integers(0, 120))
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan
        if trial % 5 == 0 and n:
            values[-int(rng.integers(1, n + 1)):] = 5.0  # on at the very end: the last run stops at n
        # scalar levels, per-sample levels, and crossed levels (high below low: off wins a tie)
        for high, low in ((0.4, -0.3), (-0.2, 0.3), (rng.normal(size=n), rng.normal(size=n))):
            state = _two_accumulates(values, high, low)
            assert _same(hysteresis(values, high, low), state)
            found = hysteresis_runs(values, high, low)
            expected = runs(state)
            assert _same(found[0], expected[0]) and _same(found[1], expected[1]), (trial, high, low)


def test_hysteresis_runs_in_pieces_equal_the_runs_of_the_whole_levels() -> None:
    """Levels given a piece at a time (pieces of one sample, empty ones, runs and flips across piece edges, NaN in
    the signal and the levels, crossed levels) give the runs of the whole arrays."""
    from insole.analysis._segments import hysteresis_runs_in_pieces

    rng = np.random.default_rng(47)
    for trial in range(800):
        n = int(rng.integers(0, 150))
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan
        if trial % 5 == 0 and n:
            values[-int(rng.integers(1, n + 1)):] = 5.0  # on at the very end
        high, low = rng.normal(size=n) + 0.3, rng.normal(size=n) - 0.3
        low[rng.random(n) < 0.05] = np.nan
        edges = np.unique(np.concatenate([[0, n], rng.integers(0, n + 1, size=int(rng.integers(0, 12)))]))
        if trial % 3 == 0:
            edges = np.insert(edges, 1, 0)  # an empty first piece
        pieces = [(int(lo), high[lo:hi], low[lo:hi]) for lo, hi in zip(edges[:-1], edges[1:])]
        found = hysteresis_runs_in_pieces(values, iter(pieces))
        expected = hysteresis_runs(values, high, low)
        assert _same(found[0], expected[0]) and _same(found[1], expected[1]), trial
    with pytest.raises(ValueError):
        hysteresis_runs_in_pieces(np.zeros(4), iter([(0, np.zeros(2), np.zeros(2))]))


def test_hysteresis_runs_of_a_hand_built_signal() -> None:
    x = np.array([0, 5, 11, 7, 6, 4, 7, 9, 12, 3, np.nan, 12])
    starts, stops = hysteresis_runs(x, high=10, low=5)
    assert starts.tolist() == [2, 8, 11] and stops.tolist() == [5, 9, 12]
    starts, stops = hysteresis_runs(np.zeros(0), high=1, low=0)
    assert starts.size == 0 and stops.size == 0


def _reduceat_2d(ufunc: np.ufunc, rows: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """One ``reduceat`` along the samples of every row at once (the form that holds the GIL)."""
    n = rows.shape[1]
    inner = stops < n
    out = np.empty((starts.size, rows.shape[0]), dtype=rows.dtype)
    if inner.any():
        bounds = np.empty(2 * int(inner.sum()), dtype=np.int64)
        bounds[0::2], bounds[1::2] = starts[inner], stops[inner]
        out[inner] = ufunc.reduceat(rows, bounds, axis=1)[:, 0::2].T
    for i in np.flatnonzero(~inner):
        out[i] = ufunc.reduce(rows[:, starts[i]:], axis=1)
    return out


def test_row_by_row_interval_reductions_equal_one_2d_reduceat() -> None:
    rng = np.random.default_rng(17)
    for trial in range(300):
        k, n = int(rng.integers(1, 24)), int(rng.integers(2, 3000))
        dtype = (np.float32, np.float64)[trial % 2]
        rows = (rng.normal(size=(k, n)) * 10.0 ** rng.uniform(-3, 5)).astype(dtype)
        rows[rng.random(rows.shape) < 0.02] = np.nan
        if trial % 3 == 0:
            rows = np.abs(rows)  # positive loads, as the stance stage reduces
        m = int(rng.integers(0, 40))
        # ordered, disjoint stances (as the stance stage's), some of them ending at the last sample
        cuts = np.sort(rng.choice(np.arange(n + 1), size=min(2 * m, n + 1), replace=False))
        starts, stops = cuts[0::2][: cuts.size // 2], cuts[1::2][: cuts.size // 2]
        if trial % 4 == 0 and starts.size:
            stops[-1] = n
        for ufunc in (np.add, np.maximum, np.minimum):
            assert _same(reduce_rows_intervals(ufunc, rows, starts, stops), _reduceat_2d(ufunc, rows, starts, stops))
    # overlapping, unordered intervals too (every interval is reduced on its own either way)
    rows = rng.normal(size=(5, 200)).astype(np.float32)
    starts = rng.integers(0, 199, size=50)
    stops = np.minimum(starts + rng.integers(1, 80, size=50), 200)
    assert _same(reduce_rows_intervals(np.add, rows, starts, stops), _reduceat_2d(np.add, rows, starts, stops))


def test_the_peak_from_the_two_halves_equals_the_argmax_of_the_whole() -> None:
    from insole.analysis._events import _first_of_two_maxima
    from insole.analysis._segments import interval_argmax, nan_to_num_inplace

    rng = np.random.default_rng(29)
    for trial in range(500):
        n = int(rng.integers(2, 300))
        values = rng.normal(size=n).round(int(rng.integers(0, 3)))  # rounded: ties within and across halves
        values[rng.random(n) < 0.05] = np.nan
        values[rng.random(n) < 0.03] = -np.inf
        values[rng.random(n) < 0.02] = np.inf
        values = nan_to_num_inplace(values, nan=-np.inf)  # what detect_contacts searches (gaps never peaks)
        k = int(rng.integers(1, 12))
        starts = np.sort(rng.integers(0, n - 1, size=k))
        stops = np.minimum(starts + rng.integers(1, 40, size=k), n)
        middle = (starts + stops) // 2
        first = interval_argmax(values, starts, np.maximum(middle, starts + 1))
        second = interval_argmax(values, middle, stops)
        found = _first_of_two_maxima(values, first, second, middle > starts, starts, stops)
        assert _same(found, interval_argmax(values, starts, stops)), trial


def _per_foot_statistics_nan_frame(strides: dict[str, Any]) -> Any:
    """``per_foot_statistics`` as it was: every foot's values written into a NaN frame of all the metrics."""
    import pandas as pd

    from insole.analysis._summary import metric_columns

    metrics: list[str] = []
    for table in strides.values():
        metrics += [name for name in metric_columns(table) if name not in metrics]
    columns: dict[str, np.ndarray] = {}
    for side, table in strides.items():
        used = table["used"].to_numpy(dtype=bool)
        values = np.full((int(used.sum()), len(metrics)), np.nan)
        present = [j for j, name in enumerate(metrics) if name in table.columns]
        if present:
            values[:, present] = table[[metrics[j] for j in present]].to_numpy(dtype=float)[used]
        finite = np.isfinite(values)
        n = finite.sum(axis=0)
        total = np.where(finite, values, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, total / n, np.nan)
            squares = np.where(finite, (values - mean) ** 2, 0.0).sum(axis=0)
            sd = np.where(n > 1, np.sqrt(squares / np.maximum(n - 1, 1)), np.nan)
            cv = np.where(np.abs(mean) > 0, 100.0 * sd / np.abs(mean), np.nan)
        columns.update({f"{side}_mean": mean, f"{side}_sd": sd, f"{side}_cv_pct": cv, f"{side}_n": n})
    return pd.DataFrame(columns, index=pd.Index(metrics, name="metric"))


def test_per_foot_statistics_equal_the_nan_frame_form() -> None:
    import pandas as pd

    from insole.analysis._summary import per_foot_statistics

    rng = np.random.default_rng(31)
    for trial in range(60):
        tables = {}
        for side in ("left", "right"):
            m = int(rng.integers(0, 300))
            table = pd.DataFrame({"stride": np.arange(m), "used": rng.random(m) < 0.8})
            for j in range(12):
                column = rng.normal(size=m) * 10.0 ** rng.uniform(-2, 3)
                column[rng.random(m) < 0.1] = np.nan
                table[f"metric_{j}_s"] = column
            table["count_n"] = rng.integers(0, 9, size=m)
            table["kind"] = "walking"
            if trial % 3 == 0 and side == "right":  # a metric one foot lacks (the NaN-frame path)
                table = table.drop(columns=["metric_3_s"])
            tables[side] = table
        found, expected = per_foot_statistics(tables), _per_foot_statistics_nan_frame(tables)
        assert list(found.columns) == list(expected.columns) and list(found.index) == list(expected.index)
        for column in expected:
            assert _same(found[column].to_numpy(), expected[column].to_numpy()), (trial, column)


def test_body_weight_of_a_walk_without_gaps_equals_the_masked_mean() -> None:
    """The gap-free shortcut (the force itself, a stride's length as its count) against the masked sums."""
    from insole.analysis import AnalysisParams
    from insole.analysis._events import detect_events
    from insole.analysis._prepare import check_sensors, foot_loads, remove_offset
    from insole.analysis._segments import reduce_intervals
    from insole.analysis._session import body_weight
    from insole.analysis._strides import exclude_out_of_step, foot_timing
    from insole.simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(duration_s=60.0, seed=4, layout="insole16", sample_rate_hz=100.0))
    params = AnalysisParams()
    loads, timing = {}, {}
    for side in recording.sides:
        foot = foot_loads(recording, check_sensors(recording, side, params))
        contacts = detect_events(foot.force, 100.0, params, valid=foot.valid, time_s=foot.time_s)
        loads[side] = remove_offset(foot, contacts, params)
        timing[side] = foot_timing(loads[side], contacts, params)
    timing = exclude_out_of_step(timing)
    means = []
    for side in recording.sides:
        force, tm = loads[side].force, timing[side]
        assert np.isfinite(force).all() and force.dtype == np.float64  # the shortcut's case
        a, b = tm.hs_index[:-1][tm.stride_used], tm.hs_index[1:][tm.stride_used]
        observed = np.isfinite(force)
        sums = reduce_intervals(np.add, np.where(observed, force, 0.0), a, b)
        counts = reduce_intervals(np.add, observed.astype(np.int64), a, b)
        means.append(float(np.sum(sums) / max(int(np.sum(counts)), 1)))
    estimate = body_weight(recording, loads, timing, params).fields["estimated_from_load"]
    assert _same(estimate, float(np.sum(means))) and estimate > 0


def test_interval_windows_equal_the_gathered_windows() -> None:
    from insole.analysis._segments import interval_windows, window_index

    def gathered(values: np.ndarray, starts: np.ndarray, stops: np.ndarray, fill: float) -> np.ndarray:
        index, outside = window_index(starts, stops)
        windows = values[index].astype(float, copy=False)
        windows[outside] = fill
        return windows

    rng = np.random.default_rng(37)
    for trial in range(600):
        n = int(rng.integers(1, 400))
        dtype = (np.float64, np.float32, np.int64)[trial % 3]
        values = (rng.normal(size=n) * 100).astype(dtype)
        if dtype != np.int64:
            values[rng.random(n) < 0.05] = np.nan
        k = int(rng.integers(1, 30))
        starts = rng.integers(0, n, size=k)
        stops = np.minimum(starts + rng.integers(0, 60, size=k), n)  # some empty, some at the very end
        if trial % 7 == 0:
            stops[0] = n
        fill = (np.nan, -np.inf, 0.0)[trial % 3]
        expected = gathered(values, starts, stops, fill)
        assert _same(interval_windows(values, starts, stops, fill=fill), expected), trial
        index = window_index(starts, stops)
        assert _same(interval_windows(values, starts, stops, fill=fill, index=index), expected), trial
        # an index cut wider than the longest interval (as the stance stage's blocks use)
        width = int((stops - starts).max()) + int(rng.integers(0, 5))
        outside = np.arange(width)[None, :] >= (stops - starts)[:, None]
        wide = starts[:, None] + np.arange(width)[None, :]
        wide[outside] = 0
        found = interval_windows(values, starts, stops, fill=fill, index=(wide, outside))
        cut = np.full((k, width), fill)
        cut[:, : expected.shape[1]] = expected
        assert _same(found, cut.astype(expected.dtype)), trial
        # the padding mask alone (a width past the recording's end, n < width, reads through an index it makes at
        # the mask's width)
        assert _same(interval_windows(values, starts, stops, fill=fill, index=(None, outside)),
                     cut.astype(expected.dtype)), trial


def test_runs_equal_the_edges_of_the_padded_difference() -> None:
    def padded(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
        return edges[::2].astype(np.int64), edges[1::2].astype(np.int64)

    rng = np.random.default_rng(43)
    for trial in range(800):
        n = int(rng.integers(1, 200))
        mask = rng.random(n) < rng.random()
        found, expected = runs(mask), padded(mask)
        assert _same(found[0], expected[0]) and _same(found[1], expected[1]), trial
    assert all(part.dtype == np.int64 and part.size == 0 for part in runs(np.zeros(0, dtype=bool)))


def test_symmetry_table_equals_the_series_where_form() -> None:
    import pandas as pd

    from insole.analysis._summary import SIGNED_METRICS, symmetry_index_pct, symmetry_table

    rng = np.random.default_rng(47)
    names = [f"metric_{j}_n" for j in range(20)] + sorted(SIGNED_METRICS)
    for trial in range(40):
        left, right = rng.normal(size=len(names)) * 10, rng.normal(size=len(names)) * 10
        left[rng.random(len(names)) < 0.15] = np.nan
        per_foot = pd.DataFrame({"left_mean": left, "right_mean": right}, index=pd.Index(names, name="metric"))
        table = symmetry_table(per_foot, uncalibrated=bool(trial % 2))
        both = per_foot["left_mean"].notna() & per_foot["right_mean"].notna()
        lm, rm = per_foot["left_mean"][both], per_foot["right_mean"][both]
        expected = symmetry_index_pct(rm, lm).where(~lm.index.isin(list(SIGNED_METRICS)))
        assert list(table.index) == list(expected.index)
        assert _same(table["symmetry_index_pct"].to_numpy(), expected.to_numpy()), trial


def test_timing_variability_with_the_feet_known_equals_it_computed() -> None:
    from insole.analysis._summary import VARIABILITY_MIN_STRIDES, stride_variability_pct, timing_variability

    rng = np.random.default_rng(53)
    for trial in range(60):
        strides = {side: 1.1 + 0.05 * rng.normal(size=int(rng.integers(0, 30))) for side in ("left", "right")}
        stances = {side: 0.65 + 0.03 * rng.normal(size=int(rng.integers(0, 30))) for side in ("left", "right")}
        known = tuple({s: stride_variability_pct(t) if t.size >= VARIABILITY_MIN_STRIDES else float("nan")
                       for s, t in times.items()} for times in (strides, stances))
        found = timing_variability(strides, stances, known=known)  # type: ignore[arg-type]
        expected = timing_variability(strides, stances)
        assert list(found) == list(expected)
        assert all(_same(found[k], expected[k]) for k in expected), trial


def test_row_percentiles_equal_the_form_that_always_masked() -> None:
    from insole.analysis._events import _row_nanpercentiles, _sorted_percentile

    def always_masked(rows: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
        ordered = np.sort(np.where(np.isnan(rows), np.inf, rows), axis=1)
        count = np.isfinite(ordered).sum(axis=1)
        return [_sorted_percentile(ordered, count, q) for q in qs]

    rng = np.random.default_rng(59)
    for trial in range(200):
        rows = rng.normal(size=(int(rng.integers(1, 50)), 21)) * 100
        if trial % 2:
            rows[rng.random(rows.shape) < 0.2] = np.nan
            rows[:, 0] = rng.normal(size=rows.shape[0])  # at least one finite value a row
        for qs in ((10.0, 75.0), (90.0, 25.0)):
            found, expected = _row_nanpercentiles(rows, qs), always_masked(rows, qs)
            assert all(_same(f, e) for f, e in zip(found, expected)), trial


def test_block_extremes_equal_the_padded_block_form() -> None:
    """The tracked levels' block extremes, read where the whole blocks lie (the last partial block padded on its
    own), against the NaN-padded copy of the whole signal they replaced."""
    from insole.analysis._events import _block_extremes

    def padded_extremes(filled: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
        n_blocks = -(-filled.size // block)
        padded = np.full(n_blocks * block, np.nan)
        padded[: filled.size] = filled
        blocks = padded.reshape(n_blocks, block)
        return np.fmin.reduce(blocks, axis=1), np.fmax.reduce(blocks, axis=1)

    rng = np.random.default_rng(61)
    for trial in range(300):
        n, block = int(rng.integers(1, 2000)), int(rng.integers(1, 70))
        filled = rng.normal(size=n) * 100
        filled[rng.random(n) < rng.random() * 0.3] = np.nan
        if trial % 4 == 0:
            filled[-int(rng.integers(1, n + 1)) :] = np.nan  # the last blocks all NaN or partly
        if trial % 5 == 0:
            filled[rng.random(n) < 0.2] = 0.0 * rng.choice([1.0, -1.0])  # signed zeros
        found, expected = _block_extremes(filled, block), padded_extremes(filled, block)
        assert _same(found[0], expected[0]) and _same(found[1], expected[1]), trial


def test_per_foot_statistics_with_the_feet_taken_earlier_are_the_same() -> None:
    import pandas as pd

    from insole.analysis._summary import foot_statistics, per_foot_statistics

    rng = np.random.default_rng(67)
    for trial in range(40):
        tables = {}
        for side in ("left", "right"):
            m = int(rng.integers(0, 200))
            table = pd.DataFrame({"stride": np.arange(m), "used": rng.random(m) < 0.8})
            for j in range(8):
                column = rng.normal(size=m) * 10.0 ** rng.uniform(-2, 3)
                column[rng.random(m) < 0.1] = np.nan
                table[f"metric_{j}_s"] = column
            if trial % 3 == 0 and side == "right":  # the feet's metrics differ: taken again, over all of them
                table = table.drop(columns=["metric_2_s"])
            tables[side] = table
        expected = per_foot_statistics(tables)
        found = per_foot_statistics(tables, known={side: foot_statistics(t) for side, t in tables.items()})
        assert list(found.columns) == list(expected.columns) and list(found.index) == list(expected.index)
        for column in expected:
            assert _same(found[column].to_numpy(), expected[column].to_numpy()), (trial, column)


def test_the_mean_of_finite_rows_is_nanmean_bit_for_bit() -> None:
    """heading_axis takes the plain mean when no value is NaN: the same numbers as nanmean."""
    rng = np.random.default_rng(71)
    for trial in range(200):
        rows = rng.normal(size=(int(rng.integers(1, 30000)), 3)) * 10.0 ** rng.uniform(-3, 3)
        assert _same(rows.mean(axis=0), np.nanmean(rows, axis=0)), trial


def test_interval_argmax_equals_the_converted_windows_form() -> None:
    from insole.analysis._segments import interval_argmax, interval_windows

    def converted(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        windows = interval_windows(values, starts, stops, fill=-np.inf)
        return starts.astype(np.int64) + np.argmax(np.nan_to_num(windows, copy=False, nan=-np.inf), axis=1)

    rng = np.random.default_rng(73)
    lowest = np.finfo(float).min
    for trial in range(600):
        n = int(rng.integers(2, 300))
        values = rng.normal(size=n).round(int(rng.integers(0, 3)))  # ties
        if trial % 3 == 1:
            values[rng.random(n) < 0.05] = lowest  # the lowest float: ties with the padding as converted
        if trial % 3 == 2:  # not finite: the converted path
            values[rng.random(n) < 0.05] = np.nan
            values[rng.random(n) < 0.03] = -np.inf
            values[rng.random(n) < 0.02] = np.inf
        k = int(rng.integers(1, 15))
        starts = np.sort(rng.integers(0, n - 1, size=k))
        stops = np.minimum(starts + rng.integers(1, 40, size=k), n)
        assert _same(interval_argmax(values, starts, stops), converted(values, starts, stops)), trial
    assert _same(interval_argmax(np.arange(5), np.array([0, 2]), np.array([2, 5])), np.array([1, 4]))


def test_curves_on_one_shared_grid_equal_each_signal_on_its_own() -> None:
    from insole.analysis._force import normalised_curves, stance_grid
    from insole.analysis._stance import _CURVE_BLOCK, _stance_curves

    rng = np.random.default_rng(7)
    for m in (0, 1, 5, _CURVE_BLOCK - 1, _CURVE_BLOCK, _CURVE_BLOCK + 3, 2 * _CURVE_BLOCK + 17):
        n = 60 * m + 100
        hs = np.sort(rng.choice(n - 80, size=m, replace=False)).astype(np.int64)
        to = hs + rng.integers(2, 80, size=m)
        force = rng.normal(size=n)
        force[rng.random(n) < 0.05] = np.nan
        x, y = rng.normal(size=n), rng.normal(size=n)
        x[rng.random(n) < 0.2] = np.nan
        y[np.isnan(x)] = np.nan
        signals = [(force, True), (x, False), (y, False)]
        found = _stance_curves(signals, hs, to, 101, n)
        assert len(found) == 3
        for (signal, as_zero), curves in zip(signals, found):
            # the form before: each signal on its own grid, the whole set of stances at once
            expected = normalised_curves(signal, hs, to, 101, stance_grid(hs, to, 101, n), nan_as_zero=as_zero)
            assert _same(curves, expected), m


def test_cached_group_masks_equal_the_layouts_region_masks() -> None:
    from insole import builtin_layouts, get_layout
    from insole.analysis._regions import REPORTED_GROUPS, _group_masks, available_groups

    rng = np.random.default_rng(3)
    for name in builtin_layouts():
        layout = get_layout(name)
        masks = _group_masks(tuple(layout.regions))
        assert list(masks) == list(REPORTED_GROUPS)
        for group in REPORTED_GROUPS:
            assert _same(masks[group], layout.region_mask(group)), (name, group)
        for _ in range(5):
            used = rng.random(layout.n_sensors) < 0.6
            # the form before: each group's region_mask of the layout, and-ed with the used sensors
            expected = {g: layout.region_mask(g) & used for g in REPORTED_GROUPS}
            expected = {g: mask for g, mask in expected.items() if mask.any()}
            found = available_groups(layout, used)
            assert list(found) == list(expected), name
            assert all(_same(found[g], expected[g]) for g in expected), name


def test_stride_table_from_numpy_columns_equals_the_pandas_join() -> None:
    import pandas as pd

    from insole.analysis._events import detect_events
    from insole.analysis._params import AnalysisParams
    from insole.analysis._prepare import check_sensors, foot_loads, remove_offset
    from insole.analysis._session import body_weight
    from insole.analysis._stance import _stride_table, stance_features
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
    side = recording.sides[0]
    features = stance_features(recording, side, loads[side], contacts[side], timing, weight.value, params)
    steps, tm = features.steps, timing[side]
    assert len(steps) > 20
    # every contact, and with some contacts' rows gone (their strides' stance metrics NaN)
    for rows in (np.arange(len(steps)), np.flatnonzero(np.arange(len(steps)) % 4 != 1)):
        part = steps.iloc[rows].reset_index(drop=True)
        fast = _stride_table(part, tm)
        # an int column takes the pandas join (the form before); dropped again, the tables must be the same
        joined = _stride_table(part.assign(marker=np.arange(len(part))), tm).drop(columns="marker")
        assert list(fast.columns) == list(joined.columns)
        pd.testing.assert_frame_equal(fast, joined, check_exact=True)
        assert not differences({c: fast[c].to_numpy() for c in fast if fast[c].dtype != object},
                               {c: joined[c].to_numpy() for c in joined if joined[c].dtype != object})
        if rows.size < len(steps):
            assert fast["max_force_n"].isna().sum() > len(steps) // 5


def test_gradient_of_intervals_equals_the_whole_gradient_at_their_samples() -> None:
    """Intervals in order and apart (touching, one sample long, at the recording's first and last sample, the
    whole recording): the whole gradient's numbers at their samples, laid end to end."""
    from insole.analysis._segments import gradient, gradient_of_intervals

    rng = np.random.default_rng(53)
    for trial in range(1000):
        n = int(rng.integers(2, 200))
        values = rng.normal(size=n) * 10.0 ** rng.uniform(-3, 4)
        k = int(rng.integers(0, 8))
        edges = np.sort(rng.choice(np.arange(n + 1), size=min(2 * k, n + 1), replace=False))
        if edges.size % 2:
            edges = edges[:-1]
        if trial % 5 == 0:
            edges = np.array([0, n])
        starts, stops = edges[0::2], edges[1::2]
        if trial % 7 == 0 and starts.size > 1:
            starts[1] = stops[0]  # touching
        expected = np.concatenate([gradient(values)[a:b] for a, b in zip(starts, stops)] + [np.zeros(0)])
        assert _same(gradient_of_intervals(values, starts, stops), expected), trial

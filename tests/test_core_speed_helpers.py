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
    nan_late = long.copy()
    nan_late[-7] = np.nan  # (in the last of the pieces the NaN check reads)
    short = rng.normal(size=1000)
    as_float32 = long.astype(np.float32)
    for values in (with_nan, nan_late, short, as_float32, long[::2], long.reshape(2, -1)):
        assert _same(percentiles(values, [5, 95]), np.percentile(values, [5, 95]))
    # the input is only read
    before = long.copy()
    percentiles(long, [5, 95])
    assert _same(long, before)
    with pytest.raises(ValueError):
        percentiles(short, [101])  # numpy's own refusal of a percentile outside 0-100


def _old_swing_depth(values, swing_starts, swing_stops, level) -> np.ndarray:
    """``_swing_depth`` as it was: its own two interval maxima on each side of every swing."""
    from insole.analysis._segments import reduce_intervals

    n = values.size
    order = np.argsort(swing_starts, kind="stable")
    starts, stops = swing_starts[order], swing_stops[order]
    before_lo = np.concatenate([[0], stops[:-1]])
    after_hi = np.concatenate([starts[1:], [n]])
    before = np.full(starts.size, -np.inf)
    after = np.full(starts.size, -np.inf)
    has_before, has_after = starts > before_lo, after_hi > stops
    before[has_before] = reduce_intervals(np.maximum, values, before_lo[has_before], starts[has_before])
    after[has_after] = reduce_intervals(np.maximum, values, stops[has_after], after_hi[has_after])
    higher = np.maximum(before, after)
    depth = np.full(starts.size, np.nan)
    depth[order] = np.where(np.isfinite(higher), higher - level[order], np.nan)
    return depth


def _old_typical_contact_peak(force, valid, swing_starts, swing_stops, highs) -> float:
    """``_typical_contact_peak`` as it was: its own maxima between consecutive swings."""
    from insole.analysis._segments import reduce_intervals

    order = np.argsort(swing_starts, kind="stable")
    starts, stops = swing_starts[order], swing_stops[order]
    between = starts[1:] > stops[:-1]
    if between.any():
        peaks = reduce_intervals(np.maximum, highs, stops[:-1][between], starts[1:][between])
        peaks = peaks[np.isfinite(peaks)]
        if peaks.size:
            return float(np.median(peaks))
    return float(np.percentile(force[valid], 95)) if valid.any() else float("nan")


def test_one_set_of_contact_maxima_gives_the_peak_and_the_depths_as_before() -> None:
    from insole.analysis._prepare import _contact_highs, _swing_depth, _typical_contact_peak

    rng = np.random.default_rng(23)
    for trial in range(400):
        n = int(rng.integers(5, 3000))
        force = rng.normal(300, 200, n)
        valid = rng.random(n) > (0.1 if trial % 3 == 0 else 0.0)
        force[~valid] = np.nan
        highs = np.where(valid, force, -np.inf)
        m = int(rng.integers(1, 40))
        # swings of at least one sample, sorted or shuffled, apart, touching or overlapping
        starts = np.sort(rng.integers(0, n - 1, m))
        stops = np.minimum(starts + rng.integers(1, 60, m), n)
        if trial % 4 == 1:
            order = rng.permutation(m)
            starts, stops = starts[order], stops[order]
        if trial % 5 == 2:
            starts[0] = 0  # a swing at the very start: no contact before it
            stops[-1] = n  # and one at the very end
            stops = np.maximum(stops, starts + 1)
        level = rng.normal(0, 20, m)
        found = _contact_highs(highs, starts, stops)
        assert _same(_swing_depth(found, level), _old_swing_depth(highs, starts, stops, level)), trial
        assert _same(_typical_contact_peak(force, valid, found),
                     _old_typical_contact_peak(force, valid, starts, stops, highs)), trial


def test_mid_swing_rows_from_the_pressures_equal_the_loads_own() -> None:
    from insole.analysis._params import AnalysisParams
    from insole.analysis._prepare import _mid_swing_rows, check_sensors, finish_loads, foot_loads
    from insole.simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(duration_s=40.0, seed=2, layout="insole16"))
    for side in recording.sides:
        loads = foot_loads(recording, check_sensors(recording, side, AnalysisParams()))
        assert loads.load_weights is not None  # pressures with known areas: the shortcut is taken
        rows = np.sort(np.random.default_rng(1).choice(loads.n, 3000, replace=False))
        load_rows, pressure_rows = _mid_swing_rows(loads, rows)
        assert _same(load_rows, loads.sensor_load_t[:, rows])
        assert pressure_rows is not None and loads.sensor_pressure_t is not None
        assert _same(pressure_rows, loads.sensor_pressure_t[:, rows])
        # clipped (or offset) loads are no longer the pressures times the areas: read as they are
        clipped = finish_loads(loads)
        assert clipped.load_weights is None
        load_rows, pressure_rows = _mid_swing_rows(clipped, rows)
        assert pressure_rows is None and _same(load_rows, clipped.sensor_load_t[:, rows])


def test_saturation_counted_in_the_windows_that_reach_the_level_is_as_before() -> None:
    from insole.analysis._params import AnalysisParams
    from insole.analysis._prepare import _Blocks, _counts_at_or_above, _saturated_sensors

    rng = np.random.default_rng(29)
    params = AnalysisParams()
    for trial in range(60):
        k, n = int(rng.integers(1, 12)), int(rng.integers(400, 6000))
        t = np.arange(n) / 100.0
        values = (np.clip(np.sin(2 * np.pi * t[None, :] / rng.uniform(0.8, 1.4, (k, 1))), 0, None) * 300
                  + rng.normal(0, 1, (k, n))).astype(np.float32)
        if trial % 2:
            values = np.minimum(values, np.float32(250.0))  # plateaus at a ceiling (saturation)
        if trial % 3 == 0:
            values[rng.integers(0, k), :] = 0.0  # a flat sensor
        valid = np.ones(n, dtype=bool)
        blocks = _Blocks(values, valid, 100.0, params)
        top = blocks.maximum.max(axis=1, initial=-np.inf)
        tail = values[:, blocks.count * blocks.size:]
        if tail.shape[1]:
            top = np.maximum(top, tail.max(axis=1))
        # spans zeroed after the windows were measured (as the checks leave out dead or stuck spans)
        for _ in range(int(rng.integers(0, 3))):
            j, a = int(rng.integers(0, k)), int(rng.integers(0, n - 1))
            values[j, a:a + int(rng.integers(1, 500))] = 0.0
        used = rng.random(k) > 0.2
        total = values.sum(axis=0, dtype=np.float64)
        span = float(np.percentile(total, 95) - np.percentile(total, 5))
        for saturation, unit in ((None, "kPa"), (240.0, "kPa"), (None, "N")):
            level = np.where(top > 0, top, np.inf) if saturation is None else np.where(top >= saturation,
                                                                                         saturation, np.inf)
            level = np.where(used, level, np.inf).astype(np.float32)
            assert _same(_counts_at_or_above(values, level, blocks),
                         np.count_nonzero(values >= level[:, None], axis=1).astype(np.int64))
            assert (_saturated_sensors(values, valid, top, total, saturation, unit, used, span, blocks)
                    == _saturated_sensors(values, valid, top, total, saturation, unit, used, span)), trial


def _stance_stage_inputs(recording: Any, side: str, params: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    """One foot's loads as ``analyze`` makes them for the stance stage, and the stances it measures."""
    from insole.analysis._events import detect_events
    from insole.analysis._prepare import check_sensors, foot_loads, remove_offset
    from insole.analysis._strides import foot_timing

    loads = foot_loads(recording, check_sensors(recording, side, params))
    contacts = detect_events(loads.force, float(recording.sample_rate_hz), params, valid=loads.valid,
                             time_s=loads.time_s, method="level", calibrated=True)
    loads = remove_offset(loads, contacts, params, in_place=True)
    tm = foot_timing(loads, contacts, params)
    hs, to = tm.hs_index, tm.to_index
    measured = (hs >= 0) & (to >= 0) & (to > hs) & tm.walking_contact & ~tm.contact_has_gap
    return loads, hs[measured], to[measured]


def test_stance_peaks_from_the_readings_equal_the_peaks_of_the_final_arrays() -> None:
    import dataclasses

    from insole.analysis._params import AnalysisParams
    from insole.analysis._prepare import stance_peaks
    from insole.analysis._regions import region_features
    from insole.analysis._segments import reduce_rows_intervals
    from insole.simulate import SimulationParams, simulate

    rng = np.random.default_rng(31)
    taken = 0
    for trial, (seed, residual, noise) in enumerate(((1, 0.0, 0.2), (2, 25.0, 0.2), (3, 0.0, 3.0), (4, 5.0, 1.0))):
        recording = simulate(SimulationParams(duration_s=60.0, seed=seed, residual_load_n=residual,
                                              sensor_noise_n=noise))
        left = recording.left
        assert left is not None
        values = np.array(left.values, dtype=np.float32)
        if trial == 1:
            values[1500:2600, 3] = values[1500, 3]  # a sensor stuck over a dozen steps (a span the checks leave out)
        if trial == 2:
            values[:, 15] = 0.0  # a sensor that never reads (left out throughout)
        if trial == 3:
            values -= np.float32(2.0)  # readings below zero: some stances' largest reading is not above it
            values[rng.random(values.shape) < 0.001] = 900.0  # spikes
        recording = recording.replace(left=dataclasses.replace(left, values=values))
        for params in (AnalysisParams(), AnalysisParams(zero_offset=False)):
            loads, a, b = _stance_stage_inputs(recording, "left", params)
            peaks = stance_peaks(loads, a, b)
            assert peaks is not None and loads.positive_pressure_t is not None and loads.positive_load_t is not None
            pressure, load, exact = peaks
            taken += int(exact.sum())
            whole_pressure = reduce_rows_intervals(np.maximum, loads.positive_pressure_t, a, b)
            whole_load = reduce_rows_intervals(np.maximum, loads.positive_load_t, a, b)
            assert _same(pressure[:, exact], whole_pressure[:, exact]), (trial, params.zero_offset)
            assert _same(load[:, exact], whole_load[:, exact]), (trial, params.zero_offset)
            # the stance stage's regional and per-sensor arrays, with the peaks and without
            args = (loads.positive_load_t, True, loads.positive_pressure_t, loads.sensor_used, recording.layout, a, b,
                    100.0)
            with_peaks, without = region_features(*args, peaks=peaks), region_features(*args)
            for part in (0, 1):
                assert with_peaks[part].keys() == without[part].keys()
                for key in without[part]:
                    assert _same(with_peaks[part][key], without[part][key]), (trial, key)
            # other stances than the ones taken: none
            assert stance_peaks(loads, a[1:], b[1:]) is None
    assert taken > 100  # most sensors' peaks come from the readings


def _old_cop_capability(layout: Any, used: np.ndarray) -> tuple[bool, bool, str]:
    """``cop_capability`` as it was, worked out on every call."""
    x, y = layout.x_mm[used], layout.y_mm[used]
    if used.sum() < 3:
        return False, False, f"COP needs at least 3 sensors ({int(used.sum())} used)"
    centred = np.column_stack([x - x.mean(), y - y.mean()])
    if np.linalg.matrix_rank(centred, tol=1e-6) < 2:
        return False, False, "COP needs sensors that are not all in a line"
    length = layout.foot_length_mm
    anterior = x > length / 2
    posterior = x < length / 3
    front_spread = np.ptp(y[anterior]) if anterior.sum() >= 2 else 0.0
    if not posterior.any() or front_spread < 0.1 * length:
        return True, False, "CPEI needs medial and lateral sensors in the forefoot and a heel sensor"
    return True, True, ""


def test_cop_capability_worked_out_once_per_layout_is_as_before() -> None:
    from insole import builtin_layouts, get_layout
    from insole.analysis._cop import cop_capability

    rng = np.random.default_rng(37)
    answers = set()
    for name in builtin_layouts():
        layout = get_layout(name)
        k = layout.n_sensors
        masks = [np.ones(k, dtype=bool), np.zeros(k, dtype=bool), np.arange(k) < 3, np.arange(k) >= k - 2]
        masks += [rng.random(k) < p for p in (0.3, 0.6, 0.9) for _ in range(4)]
        for used in masks:
            for _ in range(2):  # the second time from the cache
                found = cop_capability(layout, used)
                assert found == _old_cop_capability(layout, used), (name, used)
                answers.add(found[:2])
    assert len(answers) >= 3  # COP and CPEI, COP only, neither: every branch was compared


def test_step_and_stride_tables_made_at_once_equal_the_column_by_column_ones() -> None:
    import pandas as pd

    from insole.analysis._cop import cop_capability
    from insole.analysis._events import detect_events
    from insole.analysis._params import AnalysisParams
    from insole.analysis._prepare import check_sensors, foot_loads, remove_offset
    from insole.analysis._session import body_weight
    from insole.analysis._stance import _step_table, _stride_table, stance_features
    from insole.analysis._strides import add_bilateral_timing, exclude_out_of_step, foot_timing
    from insole.simulate import SimulationParams, simulate

    params = AnalysisParams()
    for simulation in (SimulationParams(duration_s=60.0, seed=4, turns=2, standing_s=8.0, imu=True),
                       SimulationParams(duration_s=45.0, seed=6, layout="gaitpdb8", pattern="irregular")):
        recording = simulate(simulation)
        loads, contacts, timing = {}, {}, {}
        for side in recording.sides:
            found = foot_loads(recording, check_sensors(recording, side, params))
            contacts[side] = detect_events(found.force, float(recording.sample_rate_hz), params, valid=found.valid,
                                           time_s=found.time_s, calibrated=True)
            loads[side] = remove_offset(found, contacts[side], params)
            timing[side] = foot_timing(loads[side], contacts[side], params)
        timing = exclude_out_of_step(timing)
        weight = body_weight(recording, loads, timing, params).value
        for side in recording.sides:
            features = stance_features(recording, side, loads[side], contacts[side], timing, weight, params)
            # the old assembly: the table without "used", which is inserted, then the three bilateral columns added
            tm = timing[side]
            cop_ok, cpei_ok, _ = cop_capability(recording.layout, loads[side].sensor_used)
            used = tm.step_used()
            table, *_, columns = _step_table(recording, loads[side], tm, contacts[side], weight, params, cop_ok,
                                             cpei_ok, None, used)
            table.insert(table.columns.get_loc("kind") + 1, "used", used[columns["contact"]])
            add_bilateral_timing({side: table}, timing)
            pd.testing.assert_frame_equal(features.steps, table, check_exact=True)
            pd.testing.assert_frame_equal(features.strides, _stride_table(table, tm), check_exact=True)
            assert {"used", "step_time_s", "terminal_double_support_s"} <= set(features.steps.columns)
            assert "double_support_pct" in features.strides.columns


def _old_symmetry_table(per_foot: Any, uncalibrated: bool = False) -> Any:
    """``symmetry_table`` as it was: from the Series of the per-foot table."""
    import pandas as pd

    from insole.analysis._summary import SIGNED_METRICS, scales_with_force, symmetry_index_pct

    columns = ["left_mean", "right_mean", "symmetry_index_pct", "difference", "uncalibrated_force"]
    if "left_mean" not in per_foot or "right_mean" not in per_foot:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="metric"))
    left = per_foot["left_mean"].astype(float)
    right = per_foot["right_mean"].astype(float)
    both = left.notna() & right.notna()
    left, right = left[both], right[both]
    si = symmetry_index_pct(right, left)
    table = pd.DataFrame(
        {
            "left_mean": left,
            "right_mean": right,
            "symmetry_index_pct": pd.Series(np.where(left.index.isin(list(SIGNED_METRICS)), np.nan, si.to_numpy()),
                                            index=si.index),
            "difference": right - left,
            "uncalibrated_force": np.array([bool(uncalibrated) and scales_with_force(m) for m in left.index],
                                           dtype=bool),
        }
    )
    table.index.name = "metric"
    return table


def test_symmetry_table_from_numpy_columns_equals_the_series_form() -> None:
    import pandas as pd

    from insole.analysis._summary import SIGNED_METRICS, symmetry_table

    rng = np.random.default_rng(53)
    names = [f"metric_{j}_n" for j in range(12)] + ["stance_time_s", "cadence_steps_per_min"] + sorted(SIGNED_METRICS)
    for trial in range(60):
        left, right = rng.normal(size=len(names)) * 10, rng.normal(size=len(names)) * 10
        left[rng.random(len(names)) < 0.15] = np.nan
        right[rng.random(len(names)) < (1.0 if trial % 10 == 0 else 0.1)] = np.nan  # sometimes no metric on both
        left[rng.random(len(names)) < 0.05] = 0.0
        per_foot = pd.DataFrame({"left_mean": left, "right_mean": right, "left_n": np.arange(len(names))},
                                index=pd.Index(names, name="metric"))
        for uncalibrated in (False, True):
            pd.testing.assert_frame_equal(symmetry_table(per_foot, uncalibrated),
                                          _old_symmetry_table(per_foot, uncalibrated), check_exact=True)


def test_group_curves_built_from_smaller_groups_equal_the_sensor_by_sensor_ones() -> None:
    from insole import builtin_layouts, get_layout
    from insole.analysis._regions import _group_curves, available_groups

    rng = np.random.default_rng(59)
    checked = 0
    for name in builtin_layouts():
        layout = get_layout(name)
        k = layout.n_sensors
        for used in (np.ones(k, dtype=bool), rng.random(k) < 0.7, rng.random(k) < 0.4):
            groups = available_groups(layout, used)
            pressure = np.abs(rng.normal(100, 80, (k, 500))).astype(np.float32)
            pressure[rng.random(pressure.shape) < 0.3] = 0.0
            before = pressure.copy()
            found = _group_curves(pressure, groups)
            assert _same(pressure, before)  # the sensors' rows are only read
            assert list(found) == [g for g in sorted(groups, key=lambda g: int(groups[g].sum()))]
            for group, mask in groups.items():
                columns = np.flatnonzero(mask)
                expected = pressure[columns[0]]  # the old way: the group's sensors one after the other
                if columns.size > 1:
                    expected = np.maximum(expected, pressure[columns[1]])
                    for j in columns[2:]:
                        np.maximum(expected, pressure[j], out=expected)
                assert _same(found[group], expected), (name, group)
                checked += 1
    assert checked > 50


def _old_lowpass_by_segment(values: np.ndarray, valid: np.ndarray, sample_rate_hz: float,
                            cutoff_hz: float) -> np.ndarray:
    """``lowpass_by_segment`` as it was: a masked copy, each run of valid samples filtered into it."""
    from insole.analysis._events import _butter_lowpass
    from insole.analysis._filters import zero_phase
    from insole.analysis._segments import runs

    out = np.where(valid, values, np.nan).astype(float, copy=False)
    if cutoff_hz >= 0.45 * sample_rate_hz:
        return out
    sos = _butter_lowpass(float(cutoff_hz), float(sample_rate_hz))
    padlen = 3 * (2 * len(sos) + 1)
    starts, stops = runs(valid)
    for start, stop in zip(starts.tolist(), stops.tolist()):
        if stop - start > padlen:
            out[start:stop] = zero_phase(sos, out[start:stop])
    return out


def test_low_pass_of_a_signal_without_gaps_is_the_one_of_its_masked_copy() -> None:
    from insole.analysis._events import lowpass_by_segment

    rng = np.random.default_rng(61)
    for trial in range(60):
        n = int(rng.integers(3, 5000))
        values = np.cumsum(rng.normal(size=n)) * 10.0
        valid = np.ones(n, dtype=bool) if trial % 3 else rng.random(n) > 0.01
        for rate, cutoff in ((100.0, 12.0), (100.0, 50.0), (50.0, 6.0)):
            before = values.copy()
            found = lowpass_by_segment(values, valid, rate, cutoff)
            assert _same(found, _old_lowpass_by_segment(values, valid, rate, cutoff)), (trial, rate, cutoff)
            assert _same(values, before) and found is not values  # the signal is only read


def test_region_masks_worked_out_once_equal_the_layouts_own() -> None:
    from insole import builtin_layouts, get_layout
    from insole.analysis._quality import FLAG_REGION_GROUPS
    from insole.analysis._regions import REPORTED_GROUPS, layout_region_mask

    checked = 0
    for name in builtin_layouts():
        layout = get_layout(name)
        groups = {*FLAG_REGION_GROUPS, *REPORTED_GROUPS, "front", "rearfoot", "whole_foot", *layout.regions}
        for group in sorted(groups):
            for _ in range(2):  # asked twice: the same mask each time (once cached; now the layout's own rule)
                mask = layout_region_mask(layout, group)
                assert _same(mask, layout.region_mask(group)), (name, group)
                assert not mask.flags.writeable
                checked += 1
    assert checked > 100

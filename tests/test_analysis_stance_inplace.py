"""The stance stage's in-place and reused-buffer forms give the numbers of the forms they replaced, bit for bit.

Each helper works in an array of its own or in buffers reused block after block instead of new arrays (issue 19: less
memory traffic); these tests hold each to the plain numpy form it replaced, on cases the real recordings never or
seldom reach (sensors left out over a span, NaN and infinite values, float32 and float64 maps, blocks of one sample,
every built-in layout's region groups).
"""

from __future__ import annotations

import warnings

import numpy as np

from insole import get_layout


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def test_column_mean_sd_equal_numpys_mean_and_std_and_the_finite_values_ones() -> None:
    from insole.analysis._stance import _column_mean_sd_inplace

    rng = np.random.default_rng(11)
    for m in (1, 2, 3, 40, 1000):
        rows = rng.normal(size=(m, 101)) * 300.0 + 500.0
        mean, sd = _column_mean_sd_inplace(rows.copy())
        assert _same(mean, rows.mean(axis=0)), m
        expected_sd = rows.std(axis=0, ddof=1) if m > 1 else np.full(101, np.nan)
        assert _same(sd, expected_sd), m
        # with NaN and infinite values: the mean and SD of each column's finite values, as the form before took them
        # (zeros in a copy where a value is not finite, the sums over the counts)
        rows[rng.random(rows.shape) < 0.2] = np.nan
        rows[rng.random(rows.shape) < 0.01] = np.inf
        rows[:, 5] = np.nan  # a column without a value
        finite = np.isfinite(rows)
        count = finite.sum(axis=0)
        kept = np.where(finite, rows, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected_mean = np.where(count > 0, kept.sum(axis=0) / count, np.nan)
            squares = np.where(finite, (kept - expected_mean) ** 2, 0.0).sum(axis=0)
            expected_sd = np.where(count > 1, np.sqrt(squares / np.maximum(count - 1, 1)), np.nan)
        mean, sd = _column_mean_sd_inplace(rows.copy())
        assert _same(mean, expected_mean) and _same(sd, expected_sd), m


def _sensor_table_before(per_sensor: dict[str, np.ndarray], rows: np.ndarray, used: np.ndarray) -> dict:
    """``sensor_table``'s share and map columns in the form before (np.where copies, np.nanmean)."""
    from insole.analysis._regions import SENSOR_MAPS

    integral = per_sensor["load_integral"][rows]
    left_out = per_sensor["left_out"][rows]
    totals = integral[:, used].sum(axis=1, keepdims=True)
    incomplete = left_out[:, used].any(axis=1, keepdims=True)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        share = np.where((totals > 0) & ~incomplete, 100.0 * integral / totals, np.nan)
        out["share_pct"] = np.where(used, np.nanmean(share, axis=0), np.nan)
        for name in (name for names in SENSOR_MAPS.values() for name in names if name in per_sensor):
            values = np.where(left_out, np.nan, per_sensor[name][rows])
            out[name] = np.where(used, np.nanmean(values, axis=0), np.nan)
    return out


def test_sensor_table_with_sensors_left_out_equals_the_nanmean_form() -> None:
    from insole.analysis._regions import sensor_table

    layout = get_layout("insole16")
    k = layout.n_sensors
    rng = np.random.default_rng(5)
    for m, left_out_share in ((1, 0.0), (7, 0.3), (300, 0.02), (300, 0.0)):
        per_sensor = {
            "load_integral": rng.gamma(2.0, 3.0, size=(m, k)).astype(np.float32),
            "peak_pressure_kpa": rng.gamma(2.0, 50.0, size=(m, k)).astype(np.float32),
            "pti_kpa_s": rng.gamma(2.0, 20.0, size=(m, k)).astype(np.float32),
            "mean_pressure_kpa": rng.gamma(2.0, 30.0, size=(m, k)),
            "left_out": rng.random((m, k)) < left_out_share,
        }
        per_sensor["load_integral"][rng.random((m, k)) < 0.05] = 0.0
        per_sensor["peak_pressure_kpa"][rng.random((m, k)) < 0.05] = np.nan
        per_sensor["load_integral"][0] = 0.0  # a stance without load: its shares are missing
        used = rng.random(k) < 0.9
        rows = rng.random(m) < 0.8
        rows[0] = True
        expected = _sensor_table_before({key: value.copy() for key, value in per_sensor.items()}, rows, used)
        kept = {key: value.copy() for key, value in per_sensor.items()}
        table = sensor_table(per_sensor, rows, used, layout)
        for name, values in expected.items():
            assert _same(table[name].to_numpy(), values), (m, name)
        for key, value in kept.items():  # the caller's arrays are left as they were
            assert _same(per_sensor[key], value), key


def _cop_features_before(wx: np.ndarray, wy: np.ndarray, wf: np.ndarray) -> dict[str, np.ndarray]:
    """The gait-line width, COP path length and medial-lateral offset in the form before (new arrays each step)."""
    has = np.isfinite(wx)
    any_cop = has.any(axis=1)
    with np.errstate(all="ignore"):
        width = np.where(any_cop, np.nanmax(np.where(has, wy, -np.inf), axis=1)
                         - np.nanmin(np.where(has, wy, np.inf), axis=1), np.nan)
        steps = np.hypot(np.diff(wx, axis=1), np.diff(wy, axis=1))
        path = np.where(any_cop, np.where(np.isnan(steps), 0.0, steps).sum(axis=1), np.nan)
        weight = np.clip(np.nan_to_num(wf), 0, None)
        weight = np.where(has, weight, 0.0)
        total = weight.sum(axis=1)
        moment = (weight * np.nan_to_num(wy)).sum(axis=1)
        offset = np.where(total > 0, moment / total, np.nan)
    return {"gait_line_width_mm": width, "cop_path_length_mm": path, "cop_ml_offset_mm": offset}


def test_cop_features_in_work_arrays_equal_the_form_with_new_arrays() -> None:
    from insole.analysis._cop import cop_features
    from insole.analysis._segments import interval_windows

    layout = get_layout("insole16")
    rng = np.random.default_rng(9)
    for m in (1, 4, 200):
        n = 90 * m + 50
        hs = np.sort(rng.choice(np.arange(0, n - 80, 90), size=m, replace=False)).astype(np.int64)
        to = hs + rng.integers(1, 80, size=m)
        x, y = rng.normal(120.0, 60.0, size=n), rng.normal(0.0, 20.0, size=n)
        x[rng.random(n) < 0.15] = np.nan
        y[np.isnan(x)] = np.nan
        force = rng.normal(300.0, 200.0, size=n)  # some below zero: clipped
        force[rng.random(n) < 0.05] = np.nan
        force[rng.random(n) < 0.01] = np.inf
        force[rng.random(n) < 0.01] = -np.inf
        found = cop_features(x, y, force, hs, to, layout, cpei_possible=True)
        expected = _cop_features_before(interval_windows(x, hs, to), interval_windows(y, hs, to),
                                        interval_windows(force, hs, to))
        for name, values in expected.items():
            assert _same(found[name], values), (m, name)


def test_finite_mean_sd_equals_numpys_mean_and_std_of_the_finite_values() -> None:
    from insole.analysis._stance import _finite_mean_sd

    rng = np.random.default_rng(2)
    for n in (0, 1, 2, 3, 17, 3415):
        values = rng.gamma(2.0, 30.0, size=n)
        for dropped in (None, np.nan, np.inf):
            if dropped is not None:
                values[::3] = dropped
            finite = values[np.isfinite(values)]
            mean, sd = _finite_mean_sd(values.copy())
            assert mean == float(finite.mean()) if finite.size else np.isnan(mean), (n, dropped)
            assert sd == float(finite.std(ddof=1)) if finite.size > 1 else np.isnan(sd), (n, dropped)


def test_cop_at_some_samples_equals_the_whole_paths_there_whatever_the_last_blocks_width() -> None:
    from insole.analysis._cop import _COP_AT_BLOCK, _COP_BLOCK, cop_path

    layout = get_layout("insole16")
    rng = np.random.default_rng(21)
    n = 2 * _COP_BLOCK + 5000
    loads = np.abs(rng.normal(50.0, 40.0, size=(layout.n_sensors, n))).astype(np.float32)
    loads[:, rng.random(n) < 0.02] = 0.0  # no load at all: masked
    force = loads.sum(axis=0, dtype=np.float64)
    force[rng.random(n) < 0.01] = np.nan
    whole_x, whole_y = cop_path(loads, layout, force, 30.0)
    # sample counts that leave a last block of one sample (taken as two), of two, of a full block and a short one
    block = _COP_AT_BLOCK
    for count in (1, 2, 3, block, block + 1, block + 2, 2 * block + 1, 2 * block + 777, _COP_BLOCK + 1):
        samples = np.sort(rng.choice(n, size=count, replace=False))
        x, y = cop_path(loads, layout, force, 30.0, samples=samples)
        others = np.ones(n, dtype=bool)
        others[samples] = False
        assert _same(x[samples], whole_x[samples]) and _same(y[samples], whole_y[samples]), count
        assert np.isnan(x[others]).all() and np.isnan(y[others]).all(), count


def test_group_pti_with_curves_made_in_place_equals_the_sums_of_the_group_curves() -> None:
    from insole import builtin_layouts
    from insole.analysis._regions import _group_curves, _group_pti, available_groups
    from insole.analysis._segments import reduce_intervals

    rng = np.random.default_rng(61)
    checked = 0
    for name in builtin_layouts():
        layout = get_layout(name)
        k = layout.n_sensors
        for used in (np.ones(k, dtype=bool), rng.random(k) < 0.7, rng.random(k) < 0.4):
            groups = available_groups(layout, used)
            n = 3000
            pressure = np.abs(rng.normal(100, 80, (k, n))).astype(np.float32)
            pressure[rng.random(pressure.shape) < 0.3] = 0.0
            before = pressure.copy()
            hs = np.sort(rng.choice(n - 100, size=20, replace=False))
            to = np.minimum(hs + rng.integers(1, 100, size=20), n)
            to[-1] = n  # a stance to the recording's end
            found = _group_pti(pressure, groups, hs, to)
            assert _same(pressure, before)  # the sensors' rows are only read
            curves = _group_curves(pressure, groups)
            assert list(found) == list(curves)
            for group, curve in curves.items():
                assert _same(found[group], reduce_intervals(np.add, curve, hs, to)), (name, group)
                checked += 1
    assert checked > 20

"""The stance stage's tables made at once from blocks are the tables pandas' own constructors make.

``table_of`` builds a DataFrame from a few blocks instead of pandas' column-by-column dict path, and the region summary
takes its means and SDs a block of columns at once (issue 19: less Python holding the GIL); these tests hold them to
the forms they replaced: the same columns, dtypes, labels, index and bits (NaN and the sign of zero included).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insole import builtin_layouts, get_layout


def _same_frame(found: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert type(found.index) is type(expected.index) and found.index.equals(expected.index)
    assert found.columns.dtype == expected.columns.dtype and list(found.columns) == list(expected.columns)
    assert found.columns.name == expected.columns.name
    for name in expected.columns:
        a, b = found[name], expected[name]
        assert repr(a.dtype) == repr(b.dtype) and type(a.array) is type(b.array), name
        x, y = a.to_numpy(), b.to_numpy()
        if x.dtype.kind == "f":
            same = ((x == y) & (np.signbit(x) == np.signbit(y))) | (np.isnan(x) & np.isnan(y))
            assert same.all(), name
        else:
            assert np.array_equal(x, y), name


def test_table_of_is_the_dataframe_of_the_columns() -> None:
    from insole.analysis._regions import table_of
    from insole.analysis._stance import _strings

    rng = np.random.default_rng(3)
    for rows in (0, 1, 7, 500):
        block = rng.normal(size=(3, rows))
        block[0, : rows // 2] = -0.0
        block[1, rows // 3:] = np.nan
        columns = {
            "contact": np.arange(rows),
            "time_s": rng.normal(size=rows),
            "kind": _strings(np.array(["walking", "standing"]), (rng.random(rows) < 0.3).astype(np.intp)),
            "used": rng.random(rows) < 0.5,
            "load": rng.normal(size=rows).astype(np.float32),
            "gap": rng.random(rows) < 0.1,
            "a": block[0], "b": block[1], "c": block[2],
            "small": rng.integers(0, 5, size=rows).astype(np.int8),
        }
        expected = pd.DataFrame(columns)
        found = table_of(columns, [(block, ["a", "b", "c"])])
        _same_frame(found, expected)
        # the columns not in a block are the table's own copies
        found.loc[:, "time_s"] = 1.0
        assert rows == 0 or not np.all(columns["time_s"] == 1.0)
        # each table has labels of its own (an Index's name may be set in place)
        found.columns.name = "changed"
        assert table_of(columns, [(block, ["a", "b", "c"])]).columns.name is None
    # columns of another kind: pandas' own constructor
    odd = {"names": ["a", "b"], "when": np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[ns]"),
           "x": np.ones(2)}
    _same_frame(table_of(odd), pd.DataFrame(odd))
    _same_frame(table_of({}), pd.DataFrame({}))


def test_region_summary_at_once_equals_its_rows() -> None:
    from insole.analysis._regions import available_groups
    from insole.analysis._stance import _region_summary, _region_summary_rows

    rng = np.random.default_rng(5)
    checked = 0
    for name in builtin_layouts():
        layout = get_layout(name)
        k = layout.n_sensors
        for used_sensors in (np.ones(k, dtype=bool), rng.random(k) < 0.6):
            groups = available_groups(layout, used_sensors)
            for contacts, metrics in ((300, ("peak_pressure_kpa", "pti_kpa_s", "fti_n_s", "share_pct")),
                                      (5, ("share_pct",)), (2, ("pti_kpa_s", "share_pct")), (1, ("share_pct",))):
                steps: dict[str, np.ndarray] = {"contact": np.arange(contacts)}
                for group in groups:
                    for metric in metrics:
                        values = rng.normal(50.0, 20.0, size=contacts)
                        if rng.random() < 0.3:
                            values[rng.random(contacts) < 0.2] = np.nan
                        if rng.random() < 0.1:
                            values[0] = np.inf
                        steps[f"{group}_{metric}"] = values
                for used in (np.ones(contacts, dtype=bool), rng.random(contacts) < 0.5,
                             np.zeros(contacts, dtype=bool)):
                    found = _region_summary(steps, used, layout, used_sensors)
                    expected = _region_summary_rows(steps, used, layout, groups)
                    _same_frame(found, expected)
                    checked += 1
    assert checked > 20


def test_finite_rows_mean_sd_equals_each_rows_own() -> None:
    from insole.analysis._stance import _finite_mean_sd, _finite_rows_mean_sd

    rng = np.random.default_rng(8)
    for n in (0, 1, 2, 3, 17, 1000, 5000):
        values = rng.normal(size=(6, n)) * 10.0 ** rng.uniform(-3, 5, size=(6, 1))
        if n:
            values[1, n // 2] = np.nan
            values[2, 0] = -np.inf
        expected = [_finite_mean_sd(row.copy()) for row in values]
        mean, sd = _finite_rows_mean_sd(values.copy())
        for i, (m, s) in enumerate(expected):
            assert np.array_equal([mean[i], sd[i]], [m, s], equal_nan=True), (n, i)


def test_stance_reductions_take_a_one_sensor_groups_pti_from_its_sensors_integral() -> None:
    from insole.analysis._regions import _group_pti, available_groups, stance_reductions

    rng = np.random.default_rng(13)
    checked = 0
    for name in builtin_layouts():
        layout = get_layout(name)
        k = layout.n_sensors
        for used in (np.ones(k, dtype=bool), rng.random(k) < 0.5):
            n = 4000
            pressure = np.abs(rng.normal(100, 80, (k, n))).astype(np.float32)
            pressure[rng.random(pressure.shape) < 0.3] = 0.0
            load = pressure * 2.5
            hs = np.sort(rng.choice(n - 200, size=30, replace=False))
            to = np.minimum(hs + rng.integers(1, 150, size=30), n)
            to[-1] = n  # a stance to the recording's end
            hs, to = hs[np.r_[True, hs[1:] >= to[:-1]]], to[np.r_[True, hs[1:] >= to[:-1]]]
            for pressures in (pressure, load):  # (pressures with unknown areas are the loads themselves)
                per_sensor, out = stance_reductions(load, True, pressures, used, layout, hs, to, 100.0)
                groups = available_groups(layout, used)
                expected = _group_pti(pressures, groups, hs, to)
                for group in groups:
                    found = out[f"{group}_pti_kpa_s"]
                    assert found.dtype == expected[group].dtype
                    assert np.array_equal(found, expected[group] * (1.0 / 100.0)), (name, group)
                    checked += 1
    assert checked > 20


def test_table_of_with_an_index_is_the_dataframe_with_that_index() -> None:
    from insole.analysis._regions import table_of

    rng = np.random.default_rng(21)
    for rows in (0, 3, 80):
        names = [f"metric_{i}" for i in range(rows)]
        columns = {"left_mean": rng.normal(size=rows), "left_n": rng.integers(0, 9, size=rows),
                   "right_mean": rng.normal(size=rows), "flag": rng.random(rows) < 0.5}
        _same_frame(table_of(columns, index=pd.Index(names, name="metric")),
                    pd.DataFrame(columns, index=pd.Index(names, name="metric")))
        assert table_of(columns, index=pd.Index(names, name="metric")).index.name == "metric"


def test_per_foot_statistics_with_known_feet_equals_it_without() -> None:
    from insole.analysis._summary import foot_statistics, per_foot_statistics, symmetry_table

    rng = np.random.default_rng(34)
    strides = {}
    for side in ("left", "right"):
        n = 200
        strides[side] = pd.DataFrame({
            "stride": np.arange(n), "used": rng.random(n) < 0.9, "stride_time_s": rng.normal(1.1, 0.05, n),
            "max_force_n": rng.normal(800, 50, n), "cop_ml_offset_mm": rng.normal(0, 3, n),
            "exclusion_reason": np.where(rng.random(n) < 0.1, "turn", ""),
        })
    strides["right"].loc[3, "max_force_n"] = np.nan
    known = {side: foot_statistics(table) for side, table in strides.items()}
    found = per_foot_statistics(strides, known=known)
    expected = per_foot_statistics(strides)
    _same_frame(found, expected)
    assert found.index.name == "metric" and list(found.index) == list(expected.index)
    _same_frame(symmetry_table(found), symmetry_table(expected))


# (pandas 3 deprecates switching the inference off; it still works, and pandas 2 reads it as well)
@pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")
def test_string_columns_follow_pandas_string_options_set_between_analyses() -> None:
    # the string columns and labels made once and kept (_inferred_column, _labels_index) are kept per option set:
    # a user's pandas options hold for every analysis after them, as they did when each table was made afresh
    from pathlib import Path

    from insole import load
    from insole.analysis import analyze

    recording = load(Path(__file__).resolve().parents[1] / "recordings" / "gaitpdb_GaCo01_01_60s.parquet")

    def string_dtypes() -> list[str]:
        analysis = analyze(recording)
        steps, regions = analysis.steps["left"], analysis.regions["left"]
        return [repr(steps["kind"].dtype), repr(steps.columns.dtype), repr(regions["region"].dtype),
                repr(regions.columns.dtype), repr(analysis.summary.per_foot.columns.dtype)]

    for infer in (False, True, False):
        with pd.option_context("future.infer_string", infer):
            inferred = repr(pd.Series(["walking"]).dtype)
            assert string_dtypes() == [inferred] * 5, infer

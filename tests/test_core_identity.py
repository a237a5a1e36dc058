"""The analysis core gives the same numbers as the code it was measured against, table by table, bit for bit.

Speed work on the core (issue 19) must not move a single output number. For
real recordings of different layouts, units and event methods (gaitpdb: 8
force sensors in N, two feet; Moticon: 16 pressure sensors in kPa, two feet;
pedar: 99 pressure sensors in kPa; stappOne: 12 uncalibrated sensors in au, one
foot, the "shape" event method) every table of ``analyze()`` (events, steps,
strides, summary, curves, regions, sensors, quality) is flattened to named
arrays and compared with the arrays stored in ``tests/data/core_identity.npz``.

The stored arrays were written by ``docs/scripts/core_identity_reference.py``
from the core as it was before the speed work: the package at d57c4e1 with the
stages' own modules (_events, _segments, _stance, _force, _cop, _regions,
_summary) as they were at ffd234e (d85bd5b with the numpy event low-pass), so
that the event filter's later commits are in the reference and the speed work
is not. Equality is exact: the same dtype, the same values to the last bit,
NaN where NaN was, the same column order. When a deliberate change of the analysis moves numbers,
re-run that script and say so in the commit; a speed change never needs to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _data import shared_data_dir

from insole import load
from insole.analysis import Analysis, analyze

SHARED = shared_data_dir()
REFERENCE = Path(__file__).resolve().parent / "data" / "core_identity.npz"
CASES = {
    "gaitpdb": SHARED / "gaitpdb" / "GaCo01_01.txt",
    "moticon": SHARED / "moticon-opengo" / "230927_102114.txt",
    "pedar": SHARED / "vendor-exports" / "pedar_example.asc",
    "stappone": SHARED / "vendor-exports" / "stappone_example.csv",
}
_NONE = "<None>"


def _put(out: dict[str, np.ndarray], key: str, value: Any) -> None:
    """``value`` as one or more named arrays under ``key`` (tables column by column, mappings key by key)."""
    if isinstance(value, pd.DataFrame):
        out[f"{key}/__columns__"] = np.array([str(c) for c in value.columns], dtype=str)
        if not isinstance(value.index, pd.RangeIndex):
            _put(out, f"{key}/__index__", value.index.to_numpy())
        else:
            out[f"{key}/__index__"] = np.array([value.index.start, value.index.stop, value.index.step])
        for column in value.columns:
            _put(out, f"{key}/{column}", value[column].to_numpy())
    elif isinstance(value, Mapping):
        out[f"{key}/__keys__"] = np.array([str(k) for k in value], dtype=str)
        for name, item in value.items():
            _put(out, f"{key}/{name}", item)
    elif isinstance(value, np.ndarray):
        out[key] = value.astype(str) if value.dtype == object else value
    elif isinstance(value, (list, tuple)):
        if all(isinstance(v, (str, bool, int, float, np.generic)) for v in value):
            strings = any(isinstance(v, str) for v in value)
            out[key] = np.array([str(v) for v in value], dtype=str) if strings else np.asarray(value)
        else:
            out[f"{key}/__len__"] = np.array(len(value))
            for i, item in enumerate(value):
                _put(out, f"{key}/{i}", item)
    elif value is None:
        out[key] = np.array(_NONE)
    elif isinstance(value, str):
        out[key] = np.array(value, dtype=str)
    elif isinstance(value, (bool, int, float, np.generic)):
        out[key] = np.asarray(value)
    else:
        raise TypeError(f"{key}: cannot flatten a {type(value).__name__}")


def flatten(analysis: Analysis) -> dict[str, np.ndarray]:
    """Every table of an analysis as named arrays (provenance left out: it names the version and the file)."""
    out: dict[str, np.ndarray] = {}
    summary = analysis.summary
    for side in analysis.sides:
        events = analysis.events[side]
        for name in ("heel_strike_s", "toe_off_s", "heel_strike_confidence", "toe_off_confidence", "contacts"):
            _put(out, f"events/{side}/{name}", getattr(events, name))
        for table in ("steps", "strides", "curves", "regions", "sensors", "quality"):
            _put(out, f"{table}/{side}", getattr(analysis, table)[side])
    for name in ("per_foot", "symmetry", "cadence_steps_per_min", "stride_time_cv_pct", "stride_time_robust_cv_pct",
                 "stride_time_sd_s", "strides_used", "body_weight", "standing", "key_metrics",
                 "stride_time_variability_pct", "stance_time_variability_pct", "timing_variability"):
        _put(out, f"summary/{name}", getattr(summary, name))
    return out


def analyse_cases() -> dict[str, dict[str, np.ndarray]]:
    return {case: flatten(analyze(load(path))) for case, path in CASES.items()}


def write_reference(path: Path = REFERENCE) -> Path:
    """The stored arrays of every case (``docs/scripts/core_identity_reference.py`` calls this)."""
    arrays = {f"{case}//{key}": value for case, found in analyse_cases().items() for key, value in found.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    return path


def differences(found: Mapping[str, np.ndarray], stored: Mapping[str, np.ndarray]) -> list[str]:
    """What differs between two flattened analyses, one line per array (empty: identical)."""
    lines = [f"missing {k}" for k in sorted(set(stored) - set(found))]
    lines += [f"unexpected {k}" for k in sorted(set(found) - set(stored))]
    for key in sorted(set(found) & set(stored)):
        a, b = np.asarray(found[key]), np.asarray(stored[key])
        if a.dtype != b.dtype or a.shape != b.shape:
            lines.append(f"{key}: {a.dtype}{a.shape} now, {b.dtype}{b.shape} stored")
        elif a.dtype.kind in "fc":
            # the same bits, NaN where NaN was (any NaN payload), and the sign of zero kept
            same = (a == b) & (np.signbit(a) == np.signbit(b)) | (np.isnan(a) & np.isnan(b))
            if not np.all(same):
                where = np.flatnonzero(~np.ravel(same))
                lines.append(f"{key}: {where.size} of {a.size} values differ, first at {where[0]}: "
                             f"{np.ravel(a)[where[0]]!r} now, {np.ravel(b)[where[0]]!r} stored")
        elif not np.array_equal(a, b):
            lines.append(f"{key}: values differ")
    return lines


@pytest.fixture(scope="module")
def stored() -> dict[str, dict[str, np.ndarray]]:
    with np.load(REFERENCE, allow_pickle=False) as data:
        cases: dict[str, dict[str, np.ndarray]] = {}
        for name in data.files:
            case, key = name.split("//", 1)
            cases.setdefault(case, {})[key] = data[name]
    return cases


def test_the_stored_reference_covers_every_case_and_table(stored) -> None:
    assert sorted(stored) == sorted(CASES)
    for case, arrays in stored.items():
        tables = {key.split("/")[0] for key in arrays}
        assert tables == {"events", "steps", "strides", "curves", "regions", "sensors", "quality", "summary"}, case
        # a walk: strides were found and used, so the comparison covers real numbers, not empty tables
        used = arrays["summary/strides_used/__keys__"]
        assert sum(int(arrays[f"summary/strides_used/{side}"]) for side in used) >= 10, case


@pytest.mark.parametrize("case", list(CASES))
def test_every_table_is_identical_to_the_stored_one(case: str, stored) -> None:
    found = flatten(analyze(load(CASES[case])))
    problems = differences(found, stored[case])
    assert not problems, f"{case}: {len(problems)} arrays differ:\n" + "\n".join(problems[:40])


def test_the_comparison_sees_a_change_in_the_last_bit(stored) -> None:
    arrays = dict(stored["gaitpdb"])
    key = "steps/left/max_force_n"
    values = arrays[key].copy()
    finite = np.flatnonzero(np.isfinite(values))
    values[finite[0]] = math.nextafter(float(values[finite[0]]), math.inf)
    arrays[key] = values
    assert differences(arrays, stored["gaitpdb"]) == [
        f"{key}: 1 of {values.size} values differ, first at {finite[0]}: {values[finite[0]]!r} now, "
        f"{stored['gaitpdb'][key][finite[0]]!r} stored"]
    zero_sign = dict(stored["gaitpdb"])
    zero_sign[key] = np.where(np.isfinite(values), 0.0, values)
    negative = zero_sign[key].copy()
    negative[finite[0]] = -0.0
    assert differences({key: negative}, {key: zero_sign[key]})  # -0.0 is not 0.0 here


# ---------------------------------------------------------------- the faster helpers against what they replace
# (random inputs, many sizes and densities, NaN included: exact equality, dtype and sign of zero too)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and not differences({"x": a}, {"x": b})


def test_searched_event_helpers_equal_the_per_sample_ones() -> None:
    from insole.analysis._segments import (
        count_true_between,
        last_true_at_or_before,
        last_true_at_or_before_at,
        next_true_at_or_after,
        next_true_at_or_after_at,
    )

    rng = np.random.default_rng(19)
    for _ in range(400):
        n = int(rng.integers(1, 80))
        mask = rng.random(n) < rng.random()
        at = rng.integers(-n, n, size=25)  # negative indices count from the end, as an index does
        assert _same(last_true_at_or_before_at(mask, at), last_true_at_or_before(mask)[at])
        assert _same(next_true_at_or_after_at(mask, at), next_true_at_or_after(mask)[at])
        lo, hi = rng.integers(0, n + 1, size=25), rng.integers(0, n + 1, size=25)
        cumulative = np.concatenate([[0], np.cumsum(mask)])
        assert _same(count_true_between(mask, lo, hi), cumulative[hi] - cumulative[lo])


def test_hysteresis_equals_the_two_accumulates_it_replaced() -> None:
    from insole.analysis import hysteresis

    def accumulated(values: np.ndarray, high: Any, low: Any) -> np.ndarray:
        index = np.arange(values.size)
        last_on = np.maximum.accumulate(np.where(values >= high, index, -1)) if values.size else index
        last_off = np.maximum.accumulate(np.where(~(values >= low), index, -1)) if values.size else index
        return last_on > last_off

    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(0, 90))
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan
        # scalar levels, per-sample levels, and crossed levels (high below low: off wins a tie)
        for high, low in ((0.4, -0.3), (-0.2, 0.3), (rng.normal(size=n), rng.normal(size=n))):
            assert _same(hysteresis(values, high, low), accumulated(values, high, low))


def test_block_centre_interpolation_equals_numpy_interp() -> None:
    from insole.analysis._events import _centre_interp

    rng = np.random.default_rng(5)
    for trial in range(2000):
        block, m = int(rng.integers(1, 60)), int(rng.integers(1, 150))
        n = int(rng.integers(0, m * block + 3 * block + 5))  # recordings ending before, inside, after the centres
        values = rng.normal(size=m) * 10.0 ** rng.uniform(-3, 4)
        if trial % 40 == 0:
            values[rng.integers(0, m)] = np.nan
        expected = np.interp(np.arange(n), (np.arange(m) + 0.5) * block, values)
        assert _same(_centre_interp(n, block, values), expected), (block, m, n)


def test_nan_to_num_in_place_equals_numpy() -> None:
    from insole.analysis._segments import nan_to_num_inplace

    rng = np.random.default_rng(3)
    for dtype in (np.float64, np.float32):
        values = rng.normal(size=(40, 30)).astype(dtype)
        values[rng.random(values.shape) < 0.1] = np.nan
        values[0, :3] = (np.inf, -np.inf, -0.0)
        assert _same(nan_to_num_inplace(values.copy()), np.nan_to_num(values))


def test_gradient_and_nan_to_num_with_a_fill_equal_numpy() -> None:
    from insole.analysis._segments import gradient, nan_to_num_inplace

    rng = np.random.default_rng(11)
    for n in (0, 1, 2, 3, 10, 1001):
        values = rng.normal(size=n) * 100.0
        if n >= 2:
            assert _same(gradient(values), np.asarray(np.gradient(values)))
        values[rng.random(n) < 0.2] = np.nan
        if n > 3:
            values[:2] = (np.inf, -np.inf)
        assert _same(nan_to_num_inplace(values.copy(), nan=-np.inf), np.nan_to_num(values, nan=-np.inf))
    assert _same(gradient(np.arange(5.0, dtype=np.float32)), np.gradient(np.arange(5.0, dtype=np.float32)))


def test_painted_comparisons_equal_painting_every_sample() -> None:
    from insole.analysis._events import _paint, _painted_true

    rng = np.random.default_rng(23)
    for trial in range(600):
        n = int(rng.integers(1, 120))
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan
        k = int(rng.integers(0, 8))
        if trial % 3:  # in order and apart (the usual case), some empty or reversed
            cuts = np.sort(rng.integers(0, n + 1, size=2 * k))
            starts, stops = cuts[0::2], cuts[1::2]
            stops = np.where(rng.random(k) < 0.2, starts - 1, stops)
        else:  # anything: overlapping, out of order (painted, later intervals winning)
            starts = rng.integers(0, n, size=k)
            stops = np.minimum(starts + rng.integers(-2, 30, size=k), n)
        levels = rng.normal(size=k)
        levels[rng.random(k) < 0.1] = np.nan
        for compare in (np.less, np.greater_equal, np.greater):
            expected = np.flatnonzero(compare(values, _paint(n, starts, stops, levels)))
            assert _same(_painted_true(values, starts, stops, levels, compare), expected)

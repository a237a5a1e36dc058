"""The numpy Butterworth low-pass (insole/analysis/_filters.py) against scipy.signal, which it replaces.

scipy stays a test dependency here: ``butter`` and ``sosfiltfilt`` are the reference. Coefficients must agree
to 1e-12; filtered signals to a bound derived from double-precision rounding (see ``_rounding_bound``); and on
every real recording the analysis' events and stride tables must be the ones the scipy filter gave.

(This file is named ``test_analysis_*`` because tests/test_public_surfaces.py lets only those import the
analysis package's private modules.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _data import shared_data_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.signal import butter, sosfiltfilt

import insole
import insole.analysis._events as events_module
from insole.analysis import analyze, lowpass_by_segment
from insole.analysis._filters import butter_lowpass_sos, sos_padlen, zero_phase

EPS = float(np.finfo(float).eps)
# (cutoff Hz, sample rate Hz): the analysis' 12 and 30 Hz at 100 Hz, the clinic's 5 Hz, very low and very high
# cutoffs (poles near 1 and near -1), and rates that are not round numbers.
DESIGNS = [
    (12.0, 100.0),
    (30.0, 100.0),
    (5.0, 100.0),
    (0.5, 100.0),
    (1.0, 1000.0),
    (45.0, 100.0),
    (20.0, 50.5),
    (3.3, 128.0),
    (0.1, 100.0),
    (49.9, 100.0),
]


def _slowest_pole(sos: np.ndarray) -> float:
    return max(float(np.max(np.abs(np.roots(row[3:])))) for row in sos)


def _rounding_bound(sos: np.ndarray, x: np.ndarray) -> float:
    """How far two correct double-precision forward-backward filterings of ``x`` may differ.

    Each multiply-add rounds by at most eps/2 of its size; a rounding error injected into a recursive section is
    then carried by the section's response, whose absolute sum is of order 1 / (1 - r) for the slowest pole
    radius r. With a handful of operations per section and sample, up to three sections, two passes and two
    methods, the difference stays under 256 eps max|x| / (1 - r). (Measured against an 80-bit reference over
    orders 1-6 and cutoffs from 0.002 to 0.9 of Nyquist: scipy's error reached 37 and ours 25 of these units.)
    """
    return 256.0 * EPS * float(np.max(np.abs(x))) / (1.0 - _slowest_pole(sos))


@pytest.mark.parametrize("order", range(1, 7))
@pytest.mark.parametrize(("cutoff_hz", "rate_hz"), DESIGNS)
def test_coefficients_equal_scipy_butter(order: int, cutoff_hz: float, rate_hz: float) -> None:
    ours = butter_lowpass_sos(order, cutoff_hz, rate_hz)
    theirs = butter(order, cutoff_hz, fs=rate_hz, output="sos")
    assert ours.shape == theirs.shape
    # same sections in the same order (pairing, gain in the first section, the origin pole/zero of odd orders)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert np.array_equal(ours == 0, theirs == 0)  # exact zeros where scipy has them (they set the padding)


@pytest.mark.parametrize("order", range(1, 7))
def test_padding_equals_scipy_default(order: int) -> None:
    for cutoff_hz, rate_hz in DESIGNS:
        sos = butter(order, cutoff_hz, fs=rate_hz, output="sos")
        padlen = sos_padlen(sos)
        # scipy's own rule shows where it stops accepting a signal: longer than padlen only
        sosfiltfilt(sos, np.ones(padlen + 1))
        with pytest.raises(ValueError):
            sosfiltfilt(sos, np.ones(padlen))
        with pytest.raises(ValueError, match=f"more than {padlen} samples"):
            zero_phase(sos, np.ones(padlen))


def test_design_refuses_impossible_filters() -> None:
    with pytest.raises(ValueError, match="order"):
        butter_lowpass_sos(0, 5.0, 100.0)
    for cutoff_hz in (0.0, -1.0, 50.0, 60.0):
        with pytest.raises(ValueError, match="cutoff"):
            butter_lowpass_sos(2, cutoff_hz, 100.0)
    with pytest.raises(ValueError, match="stable"):
        zero_phase(np.array([[1.0, 0.0, 0.0, 1.0, -1.0, 0.0]]), np.ones(50))  # a pole at z = 1


@pytest.mark.parametrize("order", range(1, 7))
@pytest.mark.parametrize(("cutoff_hz", "rate_hz"), DESIGNS)
def test_filtered_signal_equals_scipy_sosfiltfilt(order: int, cutoff_hz: float, rate_hz: float) -> None:
    sos = butter(order, cutoff_hz, fs=rate_hz, output="sos")
    rng = np.random.default_rng(order * 1000 + int(cutoff_hz * 10))
    padlen = sos_padlen(sos)
    # the shortest signal scipy accepts, lengths around the 32-sample blocks, and long ones
    for n in (padlen + 1, padlen + 2, 31, 32, 33, 64, 1000, 20_011):
        if n <= padlen:
            continue
        x = np.cumsum(rng.standard_normal(n)) * 50.0 + 400.0  # a wandering force-like signal, offset from 0
        ours = zero_phase(sos, x)
        theirs = sosfiltfilt(sos, x)
        assert ours.shape == x.shape and ours.dtype == np.float64
        assert np.max(np.abs(ours - theirs)) <= _rounding_bound(sos, x), n


def test_axis_and_shape_follow_scipy() -> None:
    sos = butter(4, 5.0, fs=100.0, output="sos")
    x = np.random.default_rng(3).standard_normal((40, 50, 30))  # every axis longer than the padding (15)
    for axis in (0, 1, 2, -1):
        ours = zero_phase(sos, x, axis=axis)
        theirs = sosfiltfilt(sos, x, axis=axis)
        assert ours.shape == x.shape
        assert np.max(np.abs(ours - theirs)) <= _rounding_bound(sos, x)


def _reference_80bit(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sosfiltfilt's definition computed sample by sample in extended precision (a test oracle; slow by design)."""
    wide = np.longdouble

    def causal(signal: np.ndarray) -> np.ndarray:
        y = signal.astype(wide)
        level = y[0]  # the constant input whose steady state each section starts in
        for b0, b1, b2, _, a1, a2 in sos.astype(wide):
            gain = (b0 + b1 + b2) / (1 + a1 + a2)
            z0, z1 = (b1 + b2 - (a1 + a2) * gain) * level, (b2 - a2 * gain) * level  # transposed direct form II
            out = np.empty_like(y)
            for i, v in enumerate(y):
                out[i] = o = b0 * v + z0
                z0, z1 = b1 * v - a1 * o + z1, b2 * v - a2 * o
            y, level = out, level * gain
        return y

    edge = sos_padlen(sos)
    xw = x.astype(wide)
    ext = np.concatenate([2 * xw[0] - xw[edge:0:-1], xw, 2 * xw[-1] - xw[-2 : -edge - 2 : -1]])
    return causal(causal(ext)[::-1])[::-1][edge:-edge]


@pytest.mark.skipif(bool(np.finfo(np.longdouble).eps >= EPS), reason="long double is no wider than double here")
@pytest.mark.parametrize("order", [1, 2, 4, 6])
@pytest.mark.parametrize("nyquist_fraction", [0.002, 0.02, 0.24, 0.9])
def test_at_least_as_accurate_as_scipy_against_80_bit_arithmetic(order: int, nyquist_fraction: float) -> None:
    sos = butter(order, nyquist_fraction, output="sos")
    rng = np.random.default_rng(11)
    for n in (sos_padlen(sos) + 1, 1500):
        x = np.cumsum(rng.standard_normal(n)) * 10.0
        truth = _reference_80bit(sos, x)
        ours = float(np.max(np.abs(zero_phase(sos, x) - truth)))
        theirs = float(np.max(np.abs(sosfiltfilt(sos, x) - truth)))
        # each within half the two-method bound, i.e. 128 eps max|x| / (1 - r)
        assert ours <= _rounding_bound(sos, x) / 2, (ours, theirs)
        assert theirs <= _rounding_bound(sos, x) / 2  # the bound's premise holds for the reference method too


@settings(max_examples=80)
@given(
    order=st.integers(1, 6),
    fraction=st.floats(0.01, 0.9),
    data=st.data(),
)
def test_property_matches_scipy_and_keeps_constants(order: int, fraction: float, data: st.DataObject) -> None:
    sos = butter(order, fraction, output="sos")
    padlen = sos_padlen(sos)
    n = data.draw(st.integers(padlen + 1, padlen + 300), label="n")
    x = data.draw(
        arrays(np.float64, n, elements=st.floats(-1e4, 1e4, allow_nan=False, allow_subnormal=False)), label="x"
    )
    ours = zero_phase(sos, x)
    assert np.max(np.abs(ours - sosfiltfilt(sos, x))) <= _rounding_bound(sos, x) + 1e-300
    # a constant passes unchanged (Butterworth gain 1 at 0 Hz) and the steady-state start leaves no transient;
    # only the gain of the rounded coefficients (off 1 by up to ~20 eps / (1 - r)) and rounding remain
    constant = np.full(n, float(x[0]))
    assert np.max(np.abs(zero_phase(sos, constant) - constant)) <= _rounding_bound(sos, constant)


def test_lowpass_by_segment_filters_long_runs_and_passes_short_ones_through() -> None:
    rate_hz, cutoff_hz = 100.0, 12.0
    sos = butter(2, cutoff_hz, fs=rate_hz, output="sos")
    padlen = sos_padlen(sos)  # 9 for the 2nd order: runs of 10 or more samples are filtered
    rng = np.random.default_rng(5)
    values = rng.uniform(0.0, 800.0, 200)
    valid = np.ones(200, dtype=bool)
    valid[[40, 41, 42 + padlen, 44 + 2 * padlen]] = False  # runs of exactly padlen and padlen + 1 samples
    out = lowpass_by_segment(values, valid, rate_hz, cutoff_hz)
    assert np.isnan(out[~valid]).all()
    short = slice(42, 42 + padlen)
    just_long = slice(43 + padlen, 44 + 2 * padlen)
    assert np.array_equal(out[short], values[short])  # too short for the padding: unfiltered, as before
    assert np.max(np.abs(out[just_long] - sosfiltfilt(sos, values[just_long]))) <= _rounding_bound(sos, values)
    assert not np.array_equal(out[just_long], values[just_long])
    first = slice(0, 40)
    assert np.max(np.abs(out[first] - sosfiltfilt(sos, values[first]))) <= _rounding_bound(sos, values)
    # at or above 0.45 x the rate the signal is left as it is
    assert np.array_equal(lowpass_by_segment(values, valid, rate_hz, 45.0)[valid], values[valid])


DATA = shared_data_dir()
REAL = sorted(
    [
        *DATA.glob("gaitndd*/*.hea"),
        *(p for p in DATA.glob("gaitpdb*/*_*.txt") if not p.name.startswith("SHA256")),
        *(DATA / "moticon-opengo").glob("2*.txt"),
        *(p for p in (DATA / "vendor-exports").glob("*") if p.suffix in (".asc", ".asf", ".csv")),
    ]
)
CONFIDENCE = ["heel_strike_confidence", "toe_off_confidence"]
# Confidences are ratios of differences of the smoothed force (slopes, rise times), so they carry the filters'
# rounding difference (~1e-15 of the force) times the ratio's conditioning: up to 2.3e-14 over all these files.
# Event samples, times and every other table value must be identical.
CONFIDENCE_TOLERANCE = 1e-12


def _scipy_lowpass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the scipy calls the analysis made before into the event detector."""
    monkeypatch.setattr(events_module, "zero_phase", lambda sos, x: sosfiltfilt(sos, x))
    monkeypatch.setattr(events_module, "_butter_lowpass", lambda cutoff, rate: butter(2, cutoff, fs=rate, output="sos"))


def _assert_same_table(a: pd.DataFrame, b: pd.DataFrame) -> None:
    exact = [c for c in a.columns if c not in CONFIDENCE]
    pd.testing.assert_frame_equal(a[exact], b[exact], check_exact=True)
    shared = [c for c in CONFIDENCE if c in a.columns]
    assert shared == [c for c in CONFIDENCE if c in b.columns]
    np.testing.assert_allclose(a[shared].to_numpy(float), b[shared].to_numpy(float), rtol=0, atol=CONFIDENCE_TOLERANCE)


@pytest.mark.realdata
@pytest.mark.parametrize("path", REAL, ids=[f"{p.parent.name}/{p.name}" for p in REAL])
def test_real_recordings_give_the_events_and_strides_of_the_scipy_filter(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = insole.load(path)
    ours = analyze(recording)
    with monkeypatch.context() as patch:
        _scipy_lowpass(patch)
        theirs = analyze(recording)
    assert ours.sides == theirs.sides and ours.sides
    for side in ours.sides:
        mine, ref = ours.events[side], theirs.events[side]
        np.testing.assert_array_equal(mine.heel_strike_s, ref.heel_strike_s)
        np.testing.assert_array_equal(mine.toe_off_s, ref.toe_off_s)
        np.testing.assert_allclose(
            mine.heel_strike_confidence, ref.heel_strike_confidence, rtol=0, atol=CONFIDENCE_TOLERANCE
        )
        np.testing.assert_allclose(mine.toe_off_confidence, ref.toe_off_confidence, rtol=0, atol=CONFIDENCE_TOLERANCE)
        _assert_same_table(mine.contacts, ref.contacts)
        _assert_same_table(ours.strides[side], theirs.strides[side])
        _assert_same_table(ours.steps[side], theirs.steps[side])

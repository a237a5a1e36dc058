"""Metamorphic checks: change the input in a known way, the output must change (or not) in that way."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from insole import FootSamples, Recording
from insole.analysis import analyze
from insole.simulate import SimulationParams, simulate


@functools.lru_cache(maxsize=None)
def _base(pattern: str = "antalgic", sample_rate_hz: float = 100.0) -> Recording:
    # an asymmetric gait, so that every symmetry index has a clear sign
    return simulate(SimulationParams(pattern=pattern, side="left", duration_s=40.0, seed=3,
                                     sample_rate_hz=sample_rate_hz))


def test_mirroring_left_and_right_flips_every_symmetry_index() -> None:
    recording = _base()
    mirrored = recording.replace(left=recording.right, right=recording.left)
    a, b = analyze(recording).summary.symmetry, analyze(mirrored).summary.symmetry
    assert len(a) > 40 and list(a.index) == list(b.index)
    si_a, si_b = a["symmetry_index_pct"].to_numpy(), b["symmetry_index_pct"].to_numpy()
    assert np.isfinite(si_a).sum() > 30
    np.testing.assert_array_equal(np.isnan(si_a), np.isnan(si_b))
    np.testing.assert_allclose(si_b[np.isfinite(si_a)], -si_a[np.isfinite(si_a)], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b["difference"].to_numpy(), -a["difference"].to_numpy(), rtol=1e-9, atol=1e-12)


def _scaled(foot: FootSamples, k: float) -> FootSamples:
    channels = {name: np.asarray(v) * k for name, v in foot.channels.items()}
    return dataclasses.replace(foot, values=np.asarray(foot.values) * k, channels=channels)


def test_scaling_all_forces_scales_force_metrics_and_keeps_timings() -> None:
    recording = _base("normal")
    k = 4.0  # a power of two: float32 values scale exactly, so thresholds fall on the same samples
    scaled = recording.replace(left=_scaled(recording.left, k), right=_scaled(recording.right, k))
    a, b = analyze(recording), analyze(scaled)
    for side in ("left", "right"):
        sa, sb = a.steps[side], b.steps[side]
        for column in ("heel_strike_s", "toe_off_s", "stance_time_s", "step_time_s", "initial_double_support_s"):
            np.testing.assert_array_equal(sa[column].to_numpy(), sb[column].to_numpy())
        np.testing.assert_array_equal(a.strides[side]["stride_time_s"].to_numpy(),
                                      b.strides[side]["stride_time_s"].to_numpy())
        force_columns = [c for c in sa.columns if c.endswith(("_n", "_n_s")) or "pressure_kpa" in c or "pti_kpa" in c]
        assert len(force_columns) >= 15
        for column in force_columns:
            np.testing.assert_allclose(sb[column].to_numpy(), k * sa[column].to_numpy(), rtol=1e-9, err_msg=column)
        # with the body mass fixed, BW-normalised forces scale by k too; percent timings do not change
        np.testing.assert_allclose(sb["first_peak_bw"].to_numpy(), k * sa["first_peak_bw"].to_numpy(), rtol=1e-9)
        np.testing.assert_array_equal(sa["first_peak_pct"].to_numpy(), sb["first_peak_pct"].to_numpy())
        np.testing.assert_allclose(sb["heel_share_pct"].to_numpy(), sa["heel_share_pct"].to_numpy(), rtol=1e-9)


def _decimated(recording: Recording, factor: int) -> Recording:
    def cut(foot: FootSamples) -> FootSamples:
        return FootSamples(
            time_s=foot.time_s[::factor],
            values=foot.values[::factor],
            valid=foot.valid[::factor],
            accel_g=None if foot.accel_g is None else foot.accel_g[::factor],
            gyro_dps=None if foot.gyro_dps is None else foot.gyro_dps[::factor],
            channels={k: v[::factor] for k, v in foot.channels.items()},
        )

    return recording.replace(left=cut(recording.left), right=cut(recording.right),
                             sample_rate_hz=recording.sample_rate_hz / factor)


def _upsampled(recording: Recording) -> Recording:
    def up(foot: FootSamples) -> FootSamples:
        t = foot.time_s
        fine = np.sort(np.concatenate([t, t[:-1] + np.diff(t) / 2]))
        values = np.column_stack([np.interp(fine, t, foot.values[:, j]) for j in range(foot.n_sensors)])
        imu = {}
        for name in ("accel_g", "gyro_dps"):
            array = getattr(foot, name)
            imu[name] = None if array is None else np.column_stack([np.interp(fine, t, array[:, j]) for j in range(3)])
        return FootSamples(time_s=fine, values=values, valid=np.ones(fine.size, bool), **imu)

    return recording.replace(left=up(recording.left), right=up(recording.right),
                             sample_rate_hz=recording.sample_rate_hz * 2)


@pytest.mark.parametrize("direction", ["200 to 100 Hz", "100 to 200 Hz"])
def test_resampling_moves_events_by_at_most_one_sample(direction: str) -> None:
    if direction == "200 to 100 Hz":
        fine = _base("normal", 200.0)
        coarse = _decimated(fine, 2)
    else:
        coarse = _base("normal", 100.0)
        fine = _upsampled(coarse)
    a, b = analyze(fine), analyze(coarse)
    one_sample = 1.0 / 100.0
    for side in ("left", "right"):
        for kind in ("heel_strike_s", "toe_off_s"):
            x, y = getattr(a.events[side], kind), getattr(b.events[side], kind)
            assert abs(x.size - y.size) <= 1
            j = np.clip(np.searchsorted(y, x), 1, y.size - 1)
            nearest = np.minimum(np.abs(y[j - 1] - x), np.abs(y[j] - x))
            assert np.max(nearest) <= one_sample + 1e-9, (side, kind, np.max(nearest))

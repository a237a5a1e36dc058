"""The clock estimator and the written time axis (pure, no BLE)."""

from __future__ import annotations

import numpy as np
import pytest

from insole.capture._clock import ClockEstimator, ClockModel, TimeAxis, envelope_fit, lower_hull


def test_lower_hull_of_a_v():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([4.0, 1.0, 3.0, 0.5, 5.0])
    hx, hy = lower_hull(x, y)
    assert hx.tolist() == [0.0, 1.0, 3.0, 4.0]


def test_envelope_fit_is_exact_when_the_floor_is_touched():
    rng = np.random.default_rng(1)
    x = np.arange(0.0, 100.0, 0.01)
    latency = rng.exponential(0.002, x.size)
    latency[::500] = 0.0  # some packets arrive with no extra delay
    y = 3.25 + 0.9997 * x + latency
    intercept, slope = envelope_fit(x, y)
    assert intercept == pytest.approx(3.25, abs=1e-12)
    assert slope == pytest.approx(0.9997, abs=1e-12)


def test_envelope_fit_clamps_and_stays_under_all_points():
    x = np.array([0.0, 1.0])
    y = np.array([0.0, 2.0])
    intercept, slope = envelope_fit(x, y, slope_bounds=(0.999, 1.001))
    assert slope == 1.001
    assert np.all(y - (intercept + slope * x) >= -1e-15)


def simulated_arrivals(drift_ppm: float, offset_s: float, seconds: float, rate_hz: int, seed: int):
    """Device times (µs) of packets and their host arrival (s) with a 3 ms latency floor + exp jitter."""
    rng = np.random.default_rng(seed)
    device_us = (offset_s * 1e6 + np.arange(int(seconds * rate_hz)) * (1e6 / rate_hz)).astype(np.int64)
    true_host_s = (device_us * 1e-6 - offset_s) / (1 + drift_ppm * 1e-6)
    arrival_s = true_host_s + 0.003 + rng.exponential(0.001, device_us.size)
    return device_us, arrival_s, true_host_s


@pytest.mark.parametrize("drift_ppm", [300.0, -300.0, 0.0, 40.0])
def test_estimator_recovers_drift_and_maps_onto_the_host_clock(drift_ppm):
    device_us, arrival_s, true_host_s = simulated_arrivals(drift_ppm, 2.0, 600.0, 100, seed=7)
    estimator = ClockEstimator()
    for start in range(0, device_us.size, 25):  # fed in flush-sized batches
        estimator.add_arrivals(device_us[start : start + 25], arrival_s[start : start + 25])
    model = estimator.model()
    assert model.method == "envelope"
    # Per 1 s block the earliest of 100 exponential(1 ms) delays is ~10 µs above the
    # floor, so the slope over the 300 s window is good to ~0.1 ppm; 1 ppm is generous.
    assert model.drift_ppm == pytest.approx(drift_ppm, abs=1.0)
    mapped = model.session_s(device_us)
    # the mapped time is the true host time plus the latency floor (3 ms), within 0.2 ms
    assert np.max(np.abs(mapped - true_host_s - 0.003)) < 2e-4


def test_drift_is_held_at_zero_until_the_points_span_enough():
    device_us, arrival_s, _ = simulated_arrivals(300.0, 0.0, 5.0, 100, seed=2)
    estimator = ClockEstimator(min_span_for_drift_s=10.0)
    estimator.add_arrivals(device_us, arrival_s)
    model = estimator.model()
    assert model.method == "envelope, drift not yet estimated" and model.slope == 1.0
    assert np.all(np.asarray(model.session_s(device_us)) <= arrival_s + 1e-12)


def test_round_trips_bound_the_intercept_from_both_sides():
    estimator = ClockEstimator()
    # device 10 s == host 1.000 s exactly; three exchanges of different width
    estimator.add_round_trip(0.990, 10_000_000, 1.020)
    estimator.add_round_trip(1.995, 11_000_000, 2.001)
    estimator.add_round_trip(2.999, 12_000_000, 3.010)
    model = estimator.model()
    assert model.method == "round-trip"
    intercept, uncertainty = estimator.round_trip_intercept(1.0)
    # windows for the intercept: [0.990, 1.020], [0.995, 1.001], [0.999, 1.010] -> [0.999, 1.001]
    assert intercept == pytest.approx(1.000, abs=1e-12)
    assert uncertainty == pytest.approx(0.001, abs=1e-12)
    assert float(model.session_s(10_000_000)) == pytest.approx(1.0, abs=1e-12)


def test_summary_reports_latency_floor_from_the_round_trip_cross_check():
    device_us, arrival_s, true_host_s = simulated_arrivals(0.0, 1.0, 60.0, 100, seed=3)
    estimator = ClockEstimator()
    estimator.add_arrivals(device_us, arrival_s)
    for k in range(0, device_us.size, 500):  # symmetric 0.4 ms round trips around the true time
        estimator.add_round_trip(true_host_s[k] - 0.0002, int(device_us[k]), true_host_s[k] + 0.0002)
    summary = estimator.summary()
    assert summary["min_latency_ms"] == pytest.approx(3.0, abs=0.05)
    assert summary["sync_uncertainty_ms"] <= 0.2 + 1e-9
    assert summary["round_trips"] == device_us.size // 500 + (device_us.size % 500 > 0)


def test_clock_model_inverse_and_drift_sign():
    model = ClockModel(reference_us=5_000_000, intercept_s=1.0, slope=1 / (1 + 300e-6), method="envelope")
    assert model.drift_ppm == pytest.approx(300.0, abs=1e-6)
    assert model.device_us(float(model.session_s(7_000_000))) == pytest.approx(7_000_000, abs=1e-3)


def test_time_axis_slews_a_model_change_without_going_backwards():
    axis = TimeAxis(max_slew=0.05)
    period_us = 10_000
    first = axis.map(np.arange(100, dtype=np.int64) * period_us, ClockModel(0, 0.0, 1.0, "envelope"))
    np.testing.assert_allclose(np.diff(first), 0.01)
    # the model now says everything is 20 ms (two periods) earlier
    later = ClockModel(0, -0.020, 1.0, "envelope")
    device = np.arange(100, 200, dtype=np.int64) * period_us
    second = axis.map(device, later)
    steps = np.diff(np.concatenate([first[-1:], second]))
    assert np.all(steps >= 0.01 * 0.95 - 1e-12) and np.all(steps <= 0.01 * 1.05 + 1e-12)
    # 20 ms at 5 % of 10 ms per slot is gone after 40 slots
    np.testing.assert_allclose(second[40:], np.asarray(later.session_s(device[40:])), atol=1e-12)
    # the first batch was written 20 ms later than the final model puts it
    assert axis.residual_s(later) == pytest.approx(0.020, abs=1e-12)


def test_a_fit_at_the_drift_limit_is_flagged():
    device_us = np.arange(0, 60_000_000, 10_000, dtype=np.int64)
    estimator = ClockEstimator(max_drift_ppm=1000.0)
    estimator.add_arrivals(device_us, device_us * 1e-6 * 1.01)  # arrivals 1 % slower than the clock
    summary = estimator.summary()
    assert summary["drift_at_limit"] is True and summary["drift_ppm"] == pytest.approx(-1000.0)
    plausible = ClockEstimator()
    plausible.add_arrivals(device_us, device_us * 1e-6 * (1 - 100e-6))
    assert plausible.summary()["drift_at_limit"] is False

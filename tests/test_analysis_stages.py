"""The analysis as named stages: each runs alone, and ``analyze`` is exactly the stages run in order.

Known answers: a heel sensor that reads zero from 30 s of a simulated walk is
found by the sensor checks alone (as the full analysis finds it); event
detection alone recovers the heel strikes and toe offs of a synthetic force
whose contacts are placed by hand, within one sample (the filter and the
threshold crossing move an edge by less than that on these clean ramps).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest

from insole.analysis import (
    AnalysisParams,
    BodyWeight,
    Contacts,
    FootLoads,
    SensorChecks,
    StanceFeatures,
    analyze,
    body_weight,
    check_sensors,
    detect_events,
    event_method,
    foot_loads,
    remove_offset,
    stance_features,
    stride_timing,
    summarise,
)
from insole.simulate import SimulationParams, simulate

HEEL = "heel_med_post"
FS_HZ = 100.0


@functools.lru_cache(maxsize=None)
def _walk():
    return simulate(SimulationParams(pattern="normal", duration_s=40.0, seed=3))


def _heel_dead_from_30_s():
    recording = _walk()
    values = np.array(recording.left.values, dtype=float)
    values[3000:, recording.layout.sensor_names.index(HEEL)] = 0.0
    return recording.replace(left=dataclasses.replace(recording.left, values=values))


def test_sensor_checks_alone_flag_a_dead_sensor_and_leave_only_its_span_out() -> None:
    recording = _heel_dead_from_30_s()
    checks = check_sensors(recording, "left", AnalysisParams())
    assert isinstance(checks, SensorChecks)
    (flag,) = checks.flagged("dead")
    assert (flag.sensor, flag.excluded, flag.effect) == (HEEL, False, "missing")
    assert 29.0 <= flag.start_s <= 30.0
    j = checks.sensor_names.index(HEEL)
    # left out over its span only: zero there, its own readings before
    assert checks.sensor_used[j]
    (gap,) = checks.sensor_gaps
    assert gap[0] == j and checks.time_s[gap[1]] == pytest.approx(flag.start_s) and gap[2] == checks.n
    raw = np.asarray(recording.left.values, dtype=np.float32)[:, j]
    np.testing.assert_array_equal(checks.readings_t[j, : gap[1]], raw[: gap[1]])
    assert not checks.readings_t[j, gap[1]:].any()
    # the working foot has nothing to flag
    assert check_sensors(recording, "right", AnalysisParams()).flags == ()
    # the frozen results cannot be changed by accident
    with pytest.raises(dataclasses.FrozenInstanceError):
        checks.sensor_used = np.ones(1, dtype=bool)  # type: ignore[misc]


def _synthetic_force(heel_strikes: np.ndarray, toe_offs: np.ndarray, n: int) -> np.ndarray:
    """A 700 N trapezoid per contact: 60 ms ramps that begin at the heel strike and end at the toe off."""
    t = np.arange(n)
    ramp = 6
    force = np.zeros(n)
    for hs, to in zip(heel_strikes.tolist(), toe_offs.tolist()):  # a dozen contacts, built once
        up = np.clip((t - hs) / ramp, 0.0, 1.0)
        down = np.clip((to - t) / ramp, 0.0, 1.0)
        force = np.maximum(force, 700.0 * np.minimum(up, down))
    return force


def test_event_detection_alone_recovers_known_heel_strikes_and_toe_offs_within_one_sample() -> None:
    rng = np.random.default_rng(7)
    stance = rng.integers(58, 70, 12)
    swing = rng.integers(38, 46, 12)
    heel_strikes = 50 + np.concatenate([[0], np.cumsum(stance + swing)[:-1]])
    toe_offs = heel_strikes + stance
    force = _synthetic_force(heel_strikes, toe_offs, int(toe_offs[-1] + 100))
    found = detect_events(force, FS_HZ, AnalysisParams())
    assert isinstance(found, Contacts)
    assert found.n == heel_strikes.size
    assert np.max(np.abs(found.heel_strike_index - heel_strikes)) <= 1
    assert np.max(np.abs(found.toe_off_index - toe_offs)) <= 1
    # a lost sample (NaN) in mid-stance is bridged, not a new contact; the events stay put
    lost = force.copy()
    lost[heel_strikes[4] + 30] = np.nan
    again = detect_events(lost, FS_HZ, AnalysisParams())
    assert again.n == heel_strikes.size
    np.testing.assert_array_equal(again.heel_strike_index, found.heel_strike_index)
    assert again.has_gap[4] and not again.has_gap[3]


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_analyze_equals_the_stages_run_by_hand_in_order() -> None:
    recording = _heel_dead_from_30_s()
    params = AnalysisParams()
    method = event_method(recording, params)
    loads: dict[str, FootLoads] = {}
    contacts: dict[str, Contacts] = {}
    for side in recording.sides:
        raw = foot_loads(recording, check_sensors(recording, side, params))
        contacts[side] = detect_events(raw.force, recording.sample_rate_hz, params, valid=raw.valid,
                                       time_s=raw.time_s, method=method, calibrated=raw.force_unit == "N")
        loads[side] = remove_offset(raw, contacts[side], params)
        # the stage before is left as it was: a new value with the offset removed
        assert not raw.zero_offset_applied and loads[side].zero_offset_applied
        assert raw.positive_load_t is None and loads[side].positive_load_t is not None
    timing = stride_timing(loads, contacts, params)
    weight = body_weight(recording, loads, timing, params)
    assert isinstance(weight, BodyWeight) and weight.method == "mass"
    features = {
        side: stance_features(recording, side, loads[side], contacts[side], timing, weight.value, params)
        for side in recording.sides
    }
    assert all(isinstance(f, StanceFeatures) for f in features.values())
    summary = summarise(recording, loads, timing, features, weight, params)

    analysis = analyze(recording, params)
    for side in recording.sides:
        _frames_equal(analysis.steps[side], features[side].steps)
        _frames_equal(analysis.strides[side], features[side].strides)
        _frames_equal(analysis.curves[side], features[side].curves)
        _frames_equal(analysis.regions[side], features[side].regions)
        _frames_equal(analysis.sensors[side], features[side].sensors)
        np.testing.assert_array_equal(analysis.events[side].heel_strike_s,
                                      timing[side].heel_strike_s[timing[side].hs_index >= 0])
    _frames_equal(analysis.summary.per_foot, summary.per_foot)
    _frames_equal(analysis.summary.symmetry, summary.symmetry)
    assert analysis.summary.body_weight == weight.to_dict()
    assert analysis.summary.standing == summary.standing
    assert analysis.summary.cadence_steps_per_min == summary.cadence_steps_per_min
    # and the dead heel the checks found is the one the analysis reports
    (flag,) = analysis.quality["left"]["sensor_flags"]
    assert (flag["sensor"], flag["status"]) == (HEEL, "dead")

"""Known answers for the preparation of each foot: zero offset, sensor checks, what the totals lack.

Every test starts from the gait simulator (which knows every load), breaks the
data in one known way, and checks that the analysis finds exactly that, leaves
out exactly that, and says so in the quality. Tolerances, and why:

* standing shares 1 point (left/right) and 1.5 points (rearfoot): the analysis
  reads the noisy per-sensor signals, the simulator's answer is the clean load;
* a dead span's start up to 1 s early: the span starts after the sensor's last
  reading above its dead level, which may be in the swing before the failure
  (where a working sensor reads nothing either);
* force peaks 0.5 % (1 % with 86 spikes): at a spike sample the total lacks
  that sensor's reading, which lowers a stance's peak if the spike hits it.
"""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pytest
from _data import shared_data_dir

import insole
from insole.analysis import AnalysisParams, analyze
from insole.analysis._events import detect_contacts
from insole.analysis._prepare import apply_zero_offset, prepare_foot
from insole.simulate import Activity, SimulationParams, simulate

DATA = shared_data_dir()
HEEL = "heel_med_post"


@functools.lru_cache(maxsize=None)
def _walk():
    recording = simulate(SimulationParams(pattern="normal", duration_s=60.0, seed=1))
    return recording, analyze(recording)


def _with_left(recording, values):
    return recording.replace(left=dataclasses.replace(recording.left, values=values))


def _flags(analysis, side="left"):
    return [f for f in analysis.quality[side]["sensor_flags"]]


# ---------------------------------------------------------------- zero offset and standing


@functools.lru_cache(maxsize=None)
def _standing():
    return simulate(SimulationParams(duration_s=9.0, seed=1, script=(Activity("stand", duration_s=9.0),)))


def test_quiet_standing_is_one_standing_contact_and_keeps_its_load() -> None:
    recording = _standing()
    truth = recording.meta.extra["simulation"]["segments"][0]
    assert truth["kind"] == "standing"
    analysis = analyze(recording)
    for side in ("left", "right"):
        quality = analysis.quality[side]
        # sway is no step: one contact over the whole recording, no event, no offset
        assert quality["contacts_detected"] == 1 and quality["heel_strikes_observed"] == 0
        assert quality["standing_throughout"] is True
        assert quality["zero_offset_applied"] is False
        assert any("never unloads" in note for note in quality["notes"])
        assert analysis.events[side].contacts["kind"].tolist() == ["standing"]
    standing = analysis.summary.standing
    assert standing is not None
    assert standing["segments"][0]["start_s"] == 0.0 and standing["duration_s"] >= 8.98
    assert standing["left_pct"] == pytest.approx(100 * truth["left_share_of_load"], abs=1.0)
    for side in ("left", "right"):
        assert standing[f"{side}_rearfoot_pct"] == pytest.approx(100 * truth["rearfoot_share_of_load"], abs=1.5)


def test_sway_taken_for_swings_gives_no_offset() -> None:
    # the event detector told the force is uncalibrated takes sway for steps
    # (as it did before it knew better): the offset must still not be taken
    recording = _standing()
    params = AnalysisParams()
    foot = prepare_foot(recording, "left", params)
    found = detect_contacts(foot.time_s, foot.force, foot.valid, 100.0, params, method="level", calibrated=False)
    hs, to = found.heel_strike_index, found.toe_off_index
    ok = (to[:-1] >= 0) & (hs[1:] > to[:-1])
    assert ok.sum() >= 1  # sway "swings" exist
    before = foot.force.copy()
    foot = apply_zero_offset(foot, to[:-1][ok], hs[1:][ok])
    assert foot.zero_offset_applied is False and foot.force_offset == 0.0
    assert "never unloads" in foot.zero_offset_note
    np.testing.assert_array_equal(foot.force, before)


def test_residual_load_is_the_offset_and_non_swings_are_left_out() -> None:
    recording = simulate(SimulationParams(duration_s=50.0, seed=2, standing_s=10.0, residual_load_n=60.0))
    params = AnalysisParams()
    foot = prepare_foot(recording, "left", params)
    found = detect_contacts(foot.time_s, foot.force, foot.valid, 100.0, params)
    hs, to = found.heel_strike_index, found.toe_off_index
    ok = (to[:-1] >= 0) & (hs[1:] > to[:-1])
    starts, stops = to[:-1][ok], hs[1:][ok]
    # two made-up "swings" inside the first standing segment (0-10 s), where the foot carries ~350 N
    fake = np.array([200, 600]), np.array([260, 660])
    foot = apply_zero_offset(foot, np.concatenate([fake[0], starts]), np.concatenate([fake[1], stops]))
    assert foot.zero_offset_applied is True
    # the simulator's in-shoe residual is 60 N per foot in every swing (sensor
    # noise is clipped at zero on sensors reading several N: no bias)
    assert foot.force_offset == pytest.approx(60.0, abs=0.5)
    assert f"2 of {starts.size + 2} swings left out" in foot.zero_offset_note


def test_a_drifting_baseline_keeps_every_swing() -> None:
    # an in-shoe load creeping from 0 to 150 N over the minute (spread evenly
    # over the sensors): every swing still unloads the foot relative to the
    # steps beside it, so all are used, and the offset is the drift's median
    # over the swings, 75 N (2 N: the swings are not spread exactly evenly in time)
    recording, _ = _walk()
    area = recording.layout.area_mm2
    drift_n = np.linspace(0.0, 150.0, recording.left.n_samples)
    values = np.asarray(recording.left.values, dtype=float) + (drift_n[:, None] / area.size) / (area * 1e-3)
    params = AnalysisParams()
    foot = prepare_foot(_with_left(recording, values), "left", params)
    found = detect_contacts(foot.time_s, foot.force, foot.valid, 100.0, params)
    hs, to = found.heel_strike_index, found.toe_off_index
    ok = (to[:-1] >= 0) & (hs[1:] > to[:-1])
    foot = apply_zero_offset(foot, to[:-1][ok], hs[1:][ok])
    assert foot.zero_offset_applied and "left out" not in foot.zero_offset_note
    assert foot.force_offset == pytest.approx(75.0, abs=2.0)


# ---------------------------------------------------------------- dead and stuck sensors


@functools.lru_cache(maxsize=None)
def _heel_dead_from_30_s():
    """The walk, its analysis, and the analysis with the heel sensor reading 0 from 30 s on."""
    recording, base = _walk()
    values = np.array(recording.left.values, dtype=float)
    values[3000:, recording.layout.sensor_names.index(HEEL)] = 0.0
    return recording, base, analyze(_with_left(recording, values))


def test_a_sensor_dead_from_30_s_is_left_out_from_then_on_only() -> None:
    recording, base, analysis = _heel_dead_from_30_s()
    j = recording.layout.sensor_names.index(HEEL)
    (flag,) = _flags(analysis)
    assert (flag["sensor"], flag["status"], flag["excluded"], flag["effect"]) == (HEEL, "dead", False, "missing")
    assert 29.0 <= flag["start_s"] <= 30.0 and flag["end_s"] == pytest.approx(59.99)
    # its share of the foot's load while it worked, from the raw pressures x areas of the first 30 s
    area = recording.layout.area_mm2
    raw = np.asarray(recording.left.values, dtype=float)
    start = int(round(flag["start_s"] * 100))
    expected = 100 * (raw[:start, j] * area[j]).sum() / (raw[:start] @ area).sum()
    assert flag["load_share_pct"] == pytest.approx(expected, abs=0.01)
    quality = analysis.quality["left"]
    assert quality["totals_complete"] is False and quality["n_sensors_used"] == 16
    (caveat,) = quality["totals_caveats"]
    assert caveat["effect"] == "missing" and caveat["stances_affected"] >= 25
    assert any(note.startswith(f"{HEEL} dead from") and "lack its load" in note for note in quality["notes"])
    # stances before the failure are untouched; those after lack the sensor
    steps, reference = analysis.steps["left"], base.steps["left"]
    early = (steps["toe_off_s"] < 29.0).to_numpy()
    # (0.1 N: the sensor's zero offset, a median over every swing's noise, moves
    # by 0.04 N once half of its swings read exactly zero)
    np.testing.assert_allclose(steps.loc[early, "first_peak_n"], reference.loc[early, "first_peak_n"], atol=0.1)
    late = (steps["heel_strike_s"] > 30.5).to_numpy() & steps["used"].to_numpy()
    assert np.all(steps.loc[late, "heel_share_pct"] < reference.loc[late, "heel_share_pct"])


def test_a_dead_sensor_with_a_noise_floor_is_left_out_throughout() -> None:
    recording, _ = _walk()
    j = recording.layout.sensor_names.index(HEEL)
    values = np.array(recording.left.values, dtype=float)
    values[:, j] = np.abs(np.random.default_rng(0).normal(0.0, 0.2, values.shape[0]))
    analysis = analyze(_with_left(recording, values))
    (flag,) = _flags(analysis)
    assert (flag["sensor"], flag["status"], flag["excluded"]) == (HEEL, "dead", True)
    assert analysis.quality["left"]["n_sensors_used"] == 15
    assert any(note.startswith(f"{HEEL} dead throughout") for note in analysis.quality["left"]["notes"])


@pytest.mark.parametrize(("seconds", "found"), [(4.0, False), (30.0, True)])
def test_a_stuck_sensor_with_tiny_noise_is_found_when_it_sticks_for_stuck_run_s(seconds: float, found: bool) -> None:
    recording, _ = _walk()
    j = recording.layout.sensor_names.index(HEEL)
    values = np.array(recording.left.values, dtype=float)
    a, b = 3000, 3000 + int(seconds * 100)
    values[a:b, j] = 37.5 + np.random.default_rng(1).normal(0.0, 0.05, b - a)
    prepared = prepare_foot(_with_left(recording, values), "left", AnalysisParams())
    flags = [f for f in prepared.flags if f.sensor == HEEL]
    if not found:
        assert flags == []  # shorter than stuck_run_s (5 s)
        return
    (flag,) = flags
    assert (flag.status, flag.excluded) == ("stuck", False)
    assert 29.9 <= flag.start_s <= 30.0 and flag.end_s == pytest.approx(59.99)
    assert prepared.sensor_used[j]
    # zero over the span in the per-sensor arrays, untouched before it
    start = int(round(flag.start_s * 100))
    assert np.all(prepared.sensor_pressure_t[j, start:] == 0)
    np.testing.assert_array_equal(prepared.sensor_pressure_t[j, :start - 1], values[:start - 1, j].astype(np.float32))


# ---------------------------------------------------------------- saturation


def _clipped(fraction: float):
    recording, _ = _walk()
    j = recording.layout.sensor_names.index(HEEL)
    values = np.array(recording.left.values, dtype=float)
    values[:, j] = np.minimum(values[:, j], fraction * values[:, j].max())
    return _with_left(recording, values)


def test_a_saturated_sensor_is_kept_as_a_lower_bound_and_said_so() -> None:
    _, base = _walk()
    analysis = analyze(_clipped(0.9))
    (flag,) = _flags(analysis)
    assert (flag["sensor"], flag["status"], flag["excluded"], flag["effect"]) == (
        HEEL, "saturated", False, "lower bound"
    )
    assert 3.0 < flag["load_share_pct"] < 15.0
    # clipping 10 % off one of 16 sensors' peaks barely moves the totals (excluding it cost 16 %)
    for metric in ("first_peak_bw", "heel_share_pct"):
        assert analysis.summary.metric(metric, "left") == pytest.approx(base.summary.metric(metric, "left"), rel=0.005)
    quality = analysis.quality["left"]
    assert quality["totals_caveats"][0]["effect"] == "lower bound"
    assert any(note.startswith(f"{HEEL} saturated") and "lower bounds" in note for note in quality["notes"])


def test_excluding_a_saturated_sensor_on_request_states_the_load_it_took() -> None:
    analysis = analyze(_clipped(0.9), AnalysisParams(exclude_saturated=True))
    (flag,) = _flags(analysis)
    assert flag["excluded"] is True and flag["effect"] == "missing"
    note = next(n for n in analysis.quality["left"]["notes"] if n.startswith(f"{HEEL} saturated"))
    assert "left out" in note and f"{flag['load_share_pct']:.1f} %" in note


# ---------------------------------------------------------------- spikes


@pytest.mark.parametrize(("amplitude", "rate", "tolerance"), [(1000.0, 0.0002, 0.005), (5000.0, 0.001, 0.01)])
def test_isolated_spikes_are_marked_invalid_for_their_sensor(amplitude: float, rate: float, tolerance: float) -> None:
    recording, base = _walk()
    values = np.array(recording.left.values, dtype=float)
    hit = np.random.default_rng(0).random(values.shape) < rate
    values[hit] = amplitude
    spiked = _with_left(recording, values)
    prepared = prepare_foot(spiked, "left", AnalysisParams())
    found = set(zip(prepared.spike_sensor.tolist(), prepared.spike_sample.tolist()))
    injected = set(zip(*np.nonzero(hit.T)))
    assert found == {(int(j), int(i)) for j, i in injected}
    # marked, never filled: zero for that sensor, its neighbours as recorded
    j, i = next(iter(sorted(found)))
    assert prepared.sensor_pressure_t[j, i] == 0
    assert prepared.sensor_pressure_t[j, i - 1] == np.float32(values[i - 1, j])
    analysis = analyze(spiked)
    quality = analysis.quality["left"]
    assert quality["spike_samples"] == hit.sum() and quality["sensor_samples_excluded"] == hit.sum()
    assert all(f["status"] == "spikes" and not f["excluded"] for f in quality["sensor_flags"])
    assert any("spike sample(s)" in note for note in quality["notes"])
    for metric in ("first_peak_bw", "second_peak_bw"):
        assert analysis.summary.metric(metric, "left") == pytest.approx(base.summary.metric(metric, "left"),
                                                                        rel=tolerance)


def test_frequent_huge_spikes_in_a_short_recording_are_all_found() -> None:
    # 38 spikes of 1e6 kPa in 20 s: more than half of some sensor's 2.5 s blocks
    # hold one, so the threshold must not come from block maxima (it did, and
    # the missed spikes then made three toe sensors look dead), and spikes on
    # the first or last sample count too
    recording = simulate(SimulationParams(duration_s=20.0, seed=1))
    values = np.array(recording.left.values, dtype=float)
    hit = np.random.default_rng(0).random(values.shape) < 0.001
    hit[0, 3] = hit[-1, 5] = True
    values[hit] = 1e6
    spiked = _with_left(recording, values)
    prepared = prepare_foot(spiked, "left", AnalysisParams())
    assert set(zip(prepared.spike_sensor.tolist(), prepared.spike_sample.tolist())) == {
        (int(j), int(i)) for j, i in zip(*np.nonzero(hit.T))}
    assert {f.status for f in prepared.flags} == {"spikes"}


def test_two_sample_spikes_are_found_and_a_three_sample_plateau_is_not() -> None:
    recording, _ = _walk()
    names = recording.layout.sensor_names
    values = np.array(recording.left.values, dtype=float)
    values[1000:1002, names.index("hallux")] = [900.0, 700.0]  # two samples, unequal
    values[2000:2003, names.index("met2")] = 900.0  # three: not a spike (a plateau is the saturation check's)
    prepared = prepare_foot(_with_left(recording, values), "left", AnalysisParams())
    assert list(zip(prepared.spike_sensor.tolist(), prepared.spike_sample.tolist())) == [
        (names.index("hallux"), 1000), (names.index("hallux"), 1001)]


# ---------------------------------------------------------------- no false alarms, and the JSON


def test_clean_simulations_raise_no_sensor_flag() -> None:
    for params in (
        SimulationParams(duration_s=60.0, seed=2, standing_s=4.0, turns=1),
        SimulationParams(pattern="high_arch", side="both", duration_s=40.0, seed=1),
        SimulationParams(duration_s=40.0, seed=1, residual_load_n=60.0),
        SimulationParams(duration_s=40.0, seed=1, layout="gaitpdb8"),
    ):
        analysis = analyze(simulate(params))
        for side in analysis.sides:
            assert analysis.quality[side]["sensor_flags"] == [], params
            assert analysis.quality[side]["totals_complete"] is True
            assert analysis.quality[side]["zero_offset_applied"] is True


REAL = ("moticon-opengo/230927_102114.txt", "gaitpdb/SiPt02_01.txt", "vendor-exports/pedar_example.asc",
        "vendor-exports/fscan_testL.asf")


@pytest.mark.parametrize("name", REAL)
def test_real_recordings_raise_no_dead_stuck_or_spike_flag(name: str) -> None:
    # weak but live sensors (Moticon p7: 0-10 kPa), a heel loaded only at the
    # edges of stance (gaitpdb SiPt02 right s1), and grid cells at the edge of
    # the footprint touched in some steps only (pedar, F-Scan) are no failures
    analysis = analyze(insole.load(DATA / name))
    for side in analysis.sides:
        statuses = {f["status"] for f in analysis.quality[side]["sensor_flags"]}
        assert statuses <= {"flat"}, (side, analysis.quality[side]["sensor_flags"])
        assert analysis.quality[side]["spike_samples"] == 0


def test_quality_keys_reach_the_json() -> None:
    recording, _ = _walk()
    values = np.array(recording.left.values, dtype=float)
    values[3000:, recording.layout.sensor_names.index(HEEL)] = 0.0
    data = json.loads(analyze(_with_left(recording, values)).to_json())
    quality = data["quality"]["left"]
    for key in ("spike_samples", "sensor_samples_excluded", "zero_offset_applied", "standing_throughout",
                "totals_complete", "totals_caveats"):
        assert key in quality
    flag = quality["sensor_flags"][0]
    assert set(flag) >= {"sensor", "status", "excluded", "detail", "start_s", "end_s", "excluded_samples",
                         "load_share_pct", "effect"}
    assert data["quality"]["right"]["totals_complete"] is True


def test_the_per_sensor_map_does_not_read_a_dead_span_as_no_load() -> None:
    """The load map's heel sensor keeps its working stances' mean; the dead ones are missing, not zero."""
    recording, base, analysis = _heel_dead_from_30_s()
    table = analysis.sensors["left"].set_index("sensor")
    clean = base.sensors["left"].set_index("sensor")
    # the mean over the ~25 stances before the failure estimates the whole walk's:
    # stance-to-stance variation of the simulated heel peak is a few per cent
    assert table.at[HEEL, "peak_pressure_kpa"] == pytest.approx(clean.at[HEEL, "peak_pressure_kpa"], rel=0.05)
    assert table.at[HEEL, "pti_kpa_s"] == pytest.approx(clean.at[HEEL, "pti_kpa_s"], rel=0.05)
    # shares from complete stances only: the other sensors are not inflated
    for name in recording.layout.sensor_names:
        if name != HEEL:
            assert table.at[name, "share_pct"] == pytest.approx(clean.at[name, "share_pct"], rel=0.05, abs=0.2), name

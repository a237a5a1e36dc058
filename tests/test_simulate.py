"""Known-answer tests of the gait simulator (insole.simulate._simulator).

Three kinds of check for every pattern:
* the stored answer is what the generator was asked for (parameters stored
  as given; step times, strides, cadence are arithmetic on the placed events);
* the signal agrees with the stored answer (contacts start and end at the
  stored events, peaks, loading rates, impulses and regional shares computed
  from the samples match the stored values);
* each pattern moves its marker the expected way against normal gait of the
  same seed, by more than normal seed-to-seed spread.
"""

from __future__ import annotations

import dataclasses
import json
import math
from functools import lru_cache

import numpy as np
import pytest

from insole import builtin_layouts
from insole._cli import main as cli_main
from insole.io import load, write_parquet
from insole.simulate._simulator import PATTERNS, Activity, SimulationParams, sample_source, simulate

CONTACT_THRESHOLD_BW = 0.03  # 3 % BW: well above noise (16 x 0.2 N, clipped) and below every contact's load 10 ms in
ONE_SIDED = [p for p in PATTERNS if p not in ("normal", "irregular")]


@lru_cache(maxsize=None)
def _sim(pattern: str = "normal", seed: int = 3, side: str = "left", **kw) -> object:
    return simulate(SimulationParams(pattern=pattern, seed=seed, side=side, duration_s=kw.pop("duration_s", 40.0),
                                     standing_s=kw.pop("standing_s", 4.0), turns=kw.pop("turns", 1), **kw))


def _force_n(recording, side: str) -> np.ndarray:
    """Per-sensor force in N (pressure x area for kPa layouts)."""
    values = recording.foot(side).values.astype(np.float64)
    if recording.unit == "kPa":
        return values * recording.layout.area_mm2 / 1000.0
    return values


def _truth(recording) -> dict:
    return recording.meta.extra["simulation"]


def _steps(recording, side: str) -> dict[str, list]:
    steps = _truth(recording)["steps"]
    keep = [k for k, s in enumerate(steps["side"]) if s == side]
    return {key: [values[k] for k in keep] for key, values in steps.items()}


def _step_samples(recording, side: str, walking_only: bool = False) -> np.ndarray:
    """Mask of samples inside the stored complete steps (heel strike <= t < toe off)."""
    t = recording.foot(side).time_s
    mask = np.zeros(t.size, bool)
    steps = _steps(recording, side)
    for hs, to, segment in zip(steps["heel_strike_s"], steps["toe_off_s"], steps["segment"]):
        if walking_only and segment != "walking":
            continue
        a, b = np.searchsorted(t, [hs, to])
        mask[a:b] = True
    return mask


# ---------------------------------------------------------------- stored answer = what was asked


@pytest.mark.parametrize("pattern", PATTERNS)
def test_stored_parameters_are_the_ones_given(pattern):
    recording = _sim(pattern)
    truth = _truth(recording)
    given = SimulationParams(pattern=pattern, seed=3, side="left", duration_s=40.0, standing_s=4.0, turns=1)
    assert truth["params"] == dataclasses.asdict(given)
    assert truth["pattern"] == pattern and truth["seed"] == 3
    expected_sides = {"normal": [], "irregular": ["left", "right"]}.get(pattern, ["left"])
    assert truth["affected_sides"] == expected_sides
    assert recording.meta.body_mass_kg == 70.0
    assert truth["body_weight_n"] == pytest.approx(70.0 * 9.80665)
    assert recording.sample_rate_hz == 100.0 and recording.left.n_samples == 4000
    json.dumps(truth, allow_nan=False)  # stored as strict JSON


@pytest.mark.parametrize("pattern", PATTERNS)
def test_step_table_is_arithmetic_on_the_placed_events(pattern):
    recording = _sim(pattern)
    truth = _truth(recording)
    events = recording.reference_events
    assert events.source == "insole simulator"
    for side in ("left", "right"):
        steps = _steps(recording, side)
        strikes = np.asarray(events.heel_strike_s[side])
        offs = np.asarray(events.toe_off_s[side])
        # every complete step's heel strike and toe off is a reference event, exactly
        assert set(steps["heel_strike_s"]) <= set(strikes.tolist())
        assert set(steps["toe_off_s"]) <= set(offs.tolist())
        hs = np.asarray(steps["heel_strike_s"])
        to = np.asarray(steps["toe_off_s"])
        np.testing.assert_allclose(steps["stance_s"], to - hs, atol=1e-6)  # stored rounded to 1 us
        strides = np.array([np.nan if v is None else v for v in steps["stride_s"]])
        next_strike = np.array([strikes[strikes > h][0] if (strikes > h).any() else np.nan for h in hs])
        np.testing.assert_allclose(strides[np.isfinite(strides)], (next_strike - hs)[np.isfinite(strides)], atol=1e-6)
        swings = np.array([np.nan if v is None else v for v in steps["swing_s"]])
        np.testing.assert_allclose(swings[np.isfinite(swings)], (next_strike - to)[np.isfinite(swings)], atol=1e-6)
        assert np.all(np.diff(strikes) > 0) and np.all(hs < to)
        # per-foot summary is arithmetic on the walking strides of the table
        walking = [s for s, g, n in zip(strides, steps["segment"], steps["segment"][1:] + [None])
                   if g == "walking" and n == "walking" and np.isfinite(s)]
        foot = truth["feet"][side]
        assert foot["n_walking_strides"] == len(walking)
        assert foot["stride_time_mean_s"] == pytest.approx(np.mean(walking), abs=2e-6)
        assert foot["stride_time_cv_pct"] == pytest.approx(100 * np.std(walking, ddof=1) / np.mean(walking), abs=1e-3)
    means = [truth["feet"][s]["stride_time_mean_s"] for s in ("left", "right")]
    assert truth["cadence_steps_per_min"] == pytest.approx(120.0 / np.mean(means), abs=1e-3)


def test_every_contact_of_a_foot_alternates_with_the_other_foot():
    """Walking double support: each heel strike falls inside the other foot's stance."""
    recording = _sim("normal", standing_s=0.0, turns=0)
    events = recording.reference_events
    left, right = np.asarray(events.heel_strike_s["left"]), np.asarray(events.heel_strike_s["right"])
    merged = np.sort(np.concatenate([left, right]))
    sides = np.where(np.isin(merged, left), "L", "R")
    assert all(a != b for a, b in zip(sides, sides[1:]))  # strictly alternating feet


# ---------------------------------------------------------------- the signal agrees with the answer


@pytest.mark.parametrize("pattern", PATTERNS)
def test_contacts_start_and_end_at_the_stored_events(pattern):
    recording = _sim(pattern)
    bw = _truth(recording)["body_weight_n"]
    rate = recording.sample_rate_hz
    for side in ("left", "right"):
        total = _force_n(recording, side).sum(axis=1)
        loaded = total > CONTACT_THRESHOLD_BW * bw
        strikes = recording.reference_events.heel_strike_s[side]
        offs = recording.reference_events.toe_off_s[side]
        assert len(strikes) > 10 and len(offs) > 10
        for hs in strikes:
            first_after = math.ceil(hs * rate - 1e-9)  # first sample at or after the strike
            assert not loaded[first_after - 1], f"{side} loaded before heel strike {hs}"
            # a continuous rise from zero: the sample right at the strike may still be below the
            # threshold, the one after must be above it (within one sample)
            assert loaded[first_after] or loaded[first_after + 1], f"{side} not loaded after heel strike {hs}"
        for to in offs:
            last_before = math.ceil(to * rate - 1e-9) - 1  # last sample before the toe off
            assert not loaded[last_before + 1], f"{side} still loaded after toe off {to}"
            assert loaded[last_before] or loaded[last_before - 1], f"{side} not loaded before toe off {to}"
        # and nothing is loaded outside contacts: every loaded sample lies in a contact
        t = recording.foot(side).time_s
        in_contact = np.zeros(t.size, bool)
        starts = np.concatenate([[-np.inf] if offs[0] < strikes[0] else [], strikes])
        ends = np.concatenate([offs, [np.inf] if strikes[-1] > offs[-1] else []])
        for a, b in zip(starts, ends):
            in_contact[(t >= a) & (t < b)] = True
        assert not np.any(loaded & ~in_contact)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_force_curve_values_agree_with_the_samples(pattern):
    recording = _sim(pattern)
    bw = _truth(recording)["body_weight_n"]
    rate = recording.sample_rate_hz
    for side in ("left", "right"):
        total = _force_n(recording, side).sum(axis=1)
        t = recording.foot(side).time_s
        steps = _steps(recording, side)
        for k, (hs, to) in enumerate(zip(steps["heel_strike_s"], steps["toe_off_s"])):
            a, b = np.searchsorted(t, [hs, to])
            force = total[a:b] / bw
            u = (t[a:b] - hs) / (to - hs)
            first = u < steps["valley_at_pct_stance"][k] / 100
            i1 = int(np.argmax(np.where(first, force, -np.inf)))
            i2 = int(np.argmax(np.where(~first, force, -np.inf)))
            # 100 Hz samples miss the true peak by < 1.5 % (curvature over half a sample) and
            # noise adds < 0.2 %; the transient of high_impact can peak between samples
            assert force[i1] == pytest.approx(steps["f1_bw"][k], rel=0.02)
            assert force[i2] == pytest.approx(steps["f2_bw"][k], rel=0.02)
            assert force[i1:i2].min() == pytest.approx(steps["valley_bw"][k], rel=0.02)
            # peak timing within three samples: near a peak the curve is flat (a flattened antalgic
            # curve changes < 0.5 % within 30 ms), so 0.2 N sensor noise can move the sampled maximum
            assert 100 * u[i1] == pytest.approx(steps["f1_at_pct_stance"][k], abs=300 / rate / (to - hs))
            impulse = total[a:b].sum() / rate
            assert impulse == pytest.approx(steps["impulse_n_s"][k], rel=0.02)  # rectangle rule at 100 Hz
            assert steps["f1_n"][k] == pytest.approx(steps["f1_bw"][k] * bw, abs=1e-3)
            # average loading rate (contact to first peak) at the sample nearest the stored peak time:
            # that sample is within half a sample (<= 5 ms of >= 90 ms) of it, on a flat peak
            t_peak = hs + steps["f1_at_pct_stance"][k] / 100 * (to - hs)
            near = int(np.argmin(np.abs(t[a:b] - t_peak)))
            loading_rate = force[near] / (t[a + near] - hs)
            assert loading_rate == pytest.approx(steps["loading_rate_bw_s"][k], rel=0.06)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_regional_shares_and_cop_agree_with_the_samples(pattern):
    recording = _sim(pattern)
    layout = recording.layout
    for side in ("left", "right"):
        foot = _truth(recording)["feet"][side]
        force = _force_n(recording, side)[_step_samples(recording, side)]
        total = force.sum()
        for group, stored in foot["regional_load_shares"].items():
            measured = force[:, layout.region_mask(group)].sum() / total
            # noise is zero-mean but clipped at 0 where a sensor is unloaded: < 0.2 % of load
            assert measured == pytest.approx(stored, abs=0.002), group
        cop_y = (force @ layout.y_mm).sum() / total
        assert cop_y == pytest.approx(foot["cop_ml_offset_mm"], abs=0.3)


def test_without_noise_the_samples_give_the_stored_shares_exactly():
    recording = _sim("overpronation", sensor_noise_n=0.0)
    layout = recording.layout
    for side in ("left", "right"):
        foot = _truth(recording)["feet"][side]
        force = _force_n(recording, side)[_step_samples(recording, side)]
        for group, stored in foot["regional_load_shares"].items():
            # float32 samples and 6-digit stored values
            assert force[:, layout.region_mask(group)].sum() / force.sum() == pytest.approx(stored, abs=2e-6)
        np.testing.assert_array_equal(recording.foot(side).values[~_in_any_contact(recording, side)], 0.0)


def _in_any_contact(recording, side):
    total = _force_n(recording, side).sum(axis=1)
    return total > 0


def test_residual_load_is_a_constant_offset_in_swing():
    recording = _sim("normal", residual_load_n=15.0, sensor_noise_n=0.0)
    truth = _truth(recording)
    for side in ("left", "right"):
        offsets = np.asarray(truth["feet"][side]["residual_load_n_per_sensor"])
        assert offsets.sum() == pytest.approx(15.0, abs=1e-3)
        force = _force_n(recording, side)
        swing_rows = np.all(np.abs(force - offsets) < 1e-3, axis=1)
        assert swing_rows.mean() > 0.25  # swing is ~39 % of walking; the rows that are exactly the offset
        np.testing.assert_allclose(force[swing_rows], np.broadcast_to(offsets, force[swing_rows].shape), atol=1e-3)


# ---------------------------------------------------------------- gait is realistic


def test_normal_gait_is_textbook():
    values = {k: [] for k in ("stride", "stance", "f1", "f1_at", "valley", "valley_at", "f2", "f2_at", "lr", "cv",
                              "ds")}
    for seed in range(6):
        truth = _truth(_sim("normal", seed=seed, standing_s=0.0, turns=0, duration_s=60.0))
        for side in ("left", "right"):
            foot = truth["feet"][side]
            values["stride"].append(foot["stride_time_mean_s"])
            values["stance"].append(foot["stance_pct_stride_mean"])
            values["cv"].append(foot["stride_time_cv_pct"])
            values["ds"].append(foot["double_support_pct_stride_mean"])
            values["f1"].append(foot["f1_bw_mean"])
            values["valley"].append(foot["valley_bw_mean"])
            values["f2"].append(foot["f2_bw_mean"])
            values["lr"].append(foot["loading_rate_bw_s_mean"])
            steps = truth["steps"]
            values["f1_at"] += steps["f1_at_pct_stance"]
            values["valley_at"] += steps["valley_at_pct_stance"]
            values["f2_at"] += steps["f2_at_pct_stance"]
    assert 0.97 <= min(values["stride"]) and max(values["stride"]) <= 1.14
    assert 59.5 <= np.mean(values["stance"]) <= 62.5
    assert 18 <= np.mean(values["ds"]) <= 26  # two double-support periods
    assert 1.2 <= np.mean(values["cv"]) <= 3.0
    assert 1.08 <= np.mean(values["f1"]) <= 1.22 and 20 <= np.mean(values["f1_at"]) <= 26
    assert 0.70 <= np.mean(values["valley"]) <= 0.82 and 47 <= np.mean(values["valley_at"]) <= 53
    assert 1.05 <= np.mean(values["f2"]) <= 1.15 and 74 <= np.mean(values["f2_at"]) <= 81
    assert 6.0 <= np.mean(values["lr"]) <= 10.0  # ~8 BW/s in walking [45]


def test_cop_progresses_heel_to_toes():
    truth = _truth(_sim("normal"))
    path = truth["feet"]["left"]["cop_path_mm"]
    x = np.array([v for v in path["x_mm"] if v is not None])
    length = _sim("normal").layout.foot_length_mm
    assert x[0] < 0.2 * length and x[-1] > 0.8 * length
    assert np.all(np.diff(x) > -1e-6)  # forward all the way


# ---------------------------------------------------------------- patterns move their markers


def _marker(recording, side: str, name: str) -> float:
    foot = _truth(recording)["feet"][side]
    shares = foot["regional_load_shares"]
    return {
        "medial_forefoot_fraction": (shares["medial_forefoot"]
                                     / (shares["medial_forefoot"] + shares["lateral_forefoot"])),
        "cop_ml_offset_mm": foot["cop_ml_offset_mm"],
        "midfoot": shares["midfoot"],
        "heel": shares["heel"],
        "hallux": shares["hallux"],
        "toes": shares["toes"],
        "loading_rate": foot["loading_rate_bw_s_mean"],
        "f1": foot["f1_bw_mean"],
        "valley": foot["valley_bw_mean"],
        "stance_pct": foot["stance_pct_stride_mean"],
        "stride_cv": foot["stride_time_cv_pct"],
        "impulse": foot["impulse_bw_s_mean"],
    }[name]


# pattern -> (marker, minimum change against normal of the same seed, signed). The minimum is
# at least 3x the SD of that marker between normal seeds (measured over 8 seeds; docs/simulator.md).
EFFECTS = {
    "overpronation": [("medial_forefoot_fraction", +0.12), ("cop_ml_offset_mm", +3.0), ("midfoot", +0.015)],
    "supination": [("medial_forefoot_fraction", -0.15), ("cop_ml_offset_mm", -3.5)],
    "flat_foot": [("midfoot", +0.08)],
    "high_arch": [("midfoot", -0.05)],
    "heel_avoidance": [("heel", -0.09), ("toes", +0.03), ("loading_rate", -1.0)],
    "hallux_offload": [("hallux", -0.04)],
    "high_impact": [("loading_rate", +3.5), ("f1", +0.12)],
    "antalgic": [("stance_pct", -3.5), ("f1", -0.10), ("valley", +0.08)],
    "irregular": [("stride_cv", +4.0)],
}


@pytest.mark.parametrize("pattern", list(EFFECTS))
@pytest.mark.parametrize("side", ["left", "right"])
def test_pattern_moves_its_marker_on_the_affected_side(pattern, side):
    for seed in (11, 12, 13):
        normal = _sim("normal", seed=seed, standing_s=0.0, turns=0, duration_s=60.0)
        changed = _sim(pattern, seed=seed, side=side, standing_s=0.0, turns=0, duration_s=60.0)
        for marker, minimum in EFFECTS[pattern]:
            delta = _marker(changed, side, marker) - _marker(normal, side, marker)
            assert delta * np.sign(minimum) >= abs(minimum), (pattern, side, seed, marker, delta)


@pytest.mark.parametrize("pattern", [p for p in ONE_SIDED if p != "antalgic"])
def test_one_sided_pattern_leaves_the_other_foot_alone(pattern):
    normal = _sim("normal", seed=21, standing_s=0.0, turns=0)
    changed = _sim(pattern, seed=21, side="right", standing_s=0.0, turns=0)
    assert _truth(changed)["foot_parameters"]["left"] == _truth(normal)["foot_parameters"]["left"]
    assert _truth(changed)["foot_parameters"]["right"] != _truth(normal)["foot_parameters"]["right"]


def test_antalgic_loads_the_other_side_more():
    recording = _sim("antalgic", seed=4, side="right", standing_s=0.0, turns=0, duration_s=60.0)
    painful, other = _truth(recording)["feet"]["right"], _truth(recording)["feet"]["left"]
    stance_si = 200 * (other["stance_time_mean_s"] - painful["stance_time_mean_s"]) / (
        other["stance_time_mean_s"] + painful["stance_time_mean_s"])
    assert stance_si > 10  # beyond the usual 10 % asymmetry flag [53]
    assert other["impulse_bw_s_mean"] > 1.15 * painful["impulse_bw_s_mean"]
    assert other["f1_bw_mean"] > painful["f1_bw_mean"] + 0.15


def test_side_both_changes_both_feet():
    recording = _sim("flat_foot", seed=2, side="both")
    for side in ("left", "right"):
        assert _truth(recording)["feet"][side]["regional_load_shares"]["midfoot"] > 0.17


def test_irregular_stride_cv_is_what_was_asked():
    truth = _truth(_sim("irregular", seed=8, standing_s=0.0, turns=0, duration_s=120.0))
    asked = 100 * truth["gait_parameters"]["stride_cv"]
    for side in ("left", "right"):
        # the fluctuations are scaled to the asked CV over the strides of the walk; the first
        # strides start before the recording, so the complete strides show a little less or more
        assert truth["feet"][side]["stride_time_cv_pct"] == pytest.approx(asked, rel=0.15)


# ---------------------------------------------------------------- segments: standing and turns


def test_standing_segments_are_quiet_two_footed_stance():
    recording = _sim("normal", seed=6, standing_s=8.0, turns=0, duration_s=40.0)
    segments = _truth(recording)["segments"]
    assert [s["kind"] for s in segments] == ["standing", "walking", "standing"]
    assert segments[0]["start_s"] == 0.0 and segments[0]["end_s"] == 8.0
    assert 8.0 <= 40.0 - segments[-1]["start_s"] <= 8.0 + 1.2  # at least S; the last stride may end early
    bw = _truth(recording)["body_weight_n"]
    t = recording.left.time_s
    for segment in (segments[0], segments[-1]):
        quiet = (t >= segment["start_s"] + 0.5) & (t < segment["end_s"] - 0.5)
        left = _force_n(recording, "left")[quiet].sum(axis=1)
        right = _force_n(recording, "right")[quiet].sum(axis=1)
        assert np.all(left > 0.35 * bw) and np.all(right > 0.35 * bw)  # both feet down all the time
        assert np.mean(left + right) == pytest.approx(bw, rel=0.02)
        assert 0.45 <= segment["left_share_of_load"] <= 0.55
        assert 0.45 <= segment["rearfoot_share_of_load"] <= 0.60
        assert np.std(left / bw) > 0.005  # it sways
        # no events inside quiet standing
        for side in ("left", "right"):
            strikes = np.asarray(recording.reference_events.heel_strike_s[side])
            assert not np.any((strikes > segment["start_s"] + 0.5) & (strikes < segment["end_s"] - 0.5))


def test_turns_show_in_the_gyroscope_and_the_segments():
    recording = _sim("normal", seed=9, standing_s=2.0, turns=3, duration_s=60.0)
    segments = _truth(recording)["segments"]
    turns = [s for s in segments if s["kind"] == "turn"]
    assert len(turns) == 3
    kinds = [s["kind"] for s in segments]
    assert kinds == ["standing", "walking", "turn", "walking", "turn", "walking", "turn", "walking", "standing"]
    for a, b in zip(segments, segments[1:]):
        assert a["end_s"] == b["start_s"]  # segments tile the recording
    for side in ("left", "right"):
        foot = recording.foot(side)
        yaw = foot.gyro_dps[:, 2].astype(np.float64)
        for turn in turns:
            inside = (foot.time_s >= turn["start_s"]) & (foot.time_s < turn["end_s"])
            angle = yaw[inside].sum() / recording.sample_rate_hz
            sign = 1.0 if turn["direction"] == "left" else -1.0
            assert angle == pytest.approx(sign * 180.0, abs=6.0)  # 100 Hz sum of a smooth bump + 0.5 dps noise
        walking = np.zeros(foot.n_samples, bool)
        for s in segments:
            if s["kind"] != "turn":
                walking |= (foot.time_s >= s["start_s"]) & (foot.time_s < s["end_s"])
        assert np.abs(yaw[walking]).max() < 5.0  # noise only outside turns
    # turning steps are marked in the step table and slower than walking steps
    steps = _truth(recording)["steps"]
    turn_strides = [s for s, g in zip(steps["stride_s"], steps["segment"]) if g == "turn" and s]
    walk_strides = [s for s, g in zip(steps["stride_s"], steps["segment"]) if g == "walking" and s]
    assert np.mean(turn_strides) > 1.15 * np.mean(walk_strides)


def test_imu_is_plausible():
    recording = _sim("normal", seed=1, standing_s=3.0, turns=0)
    foot = recording.left
    t = foot.time_s
    quiet = t < 2.5
    np.testing.assert_allclose(foot.accel_g[quiet].mean(axis=0), [0, 0, 1], atol=0.01)  # gravity only
    assert np.abs(foot.gyro_dps[quiet]).max() < 3.0
    walking = (t > 8) & (t < 30)
    pitch = foot.gyro_dps[walking, 1]
    assert 200 < pitch.max() < 600 and -600 < pitch.min() < -150  # swing rotation, dps
    assert np.abs(foot.accel_g[walking]).max() < 16  # within a +-16 g accelerometer


# ---------------------------------------------------------------- layouts


@pytest.mark.parametrize("layout", builtin_layouts())
def test_every_layout_simulates_with_its_unit(layout):
    recording = simulate(SimulationParams(layout=layout, seed=5, duration_s=20.0, pattern="flat_foot"))
    assert recording.layout.name == layout
    assert recording.unit == ("kPa" if recording.layout.areas_known else "N")
    assert recording.left.n_sensors == recording.layout.n_sensors
    truth = _truth(recording)
    bw = truth["body_weight_n"]
    shares = truth["feet"]["left"]["regional_load_shares"]
    coverage = sum(v for k, v in shares.items() if k in ("heel", "midfoot", "forefoot", "toes", "whole_foot"))
    assert coverage == pytest.approx(1.0, abs=1e-5)  # every newton lands on some sensor
    steps = _steps(recording, "left")
    total = _force_n(recording, "left").sum(axis=1)
    assert total.max() / bw == pytest.approx(max(max(steps["f1_bw"]), max(steps["f2_bw"])), rel=0.03)
    assert (recording.left.accel_g is not None) == (layout == "insole16")


# ---------------------------------------------------------------- determinism and files


def test_same_seed_same_bytes_different_seed_different(tmp_path):
    params = SimulationParams(pattern="antalgic", seed=42, duration_s=20.0, standing_s=2.0, turns=1)
    a = write_parquet(simulate(params), tmp_path / "a.parquet").read_bytes()
    b = write_parquet(simulate(params), tmp_path / "b.parquet").read_bytes()
    c = write_parquet(simulate(dataclasses.replace(params, seed=43)), tmp_path / "c.parquet").read_bytes()
    assert a == b
    assert a != c
    assert not np.array_equal(simulate(params).left.values, simulate(dataclasses.replace(params, seed=43)).left.values)


def test_subject_id_names_the_simulated_person_not_the_pattern():
    """The seed draws the person (``subject_profiles`` first); the pattern is what they do: the same seed with
    another pattern is the same simulated person (the report's use of this: test_report_new_user)."""
    normal, antalgic, other_seed = _sim("normal", seed=3), _sim("antalgic", seed=3), _sim("normal", seed=4)
    assert normal.meta.subject_id == antalgic.meta.subject_id == "sim-3"
    assert other_seed.meta.subject_id == "sim-4"


def test_file_round_trip_keeps_the_answer(tmp_path):
    recording = _sim("hallux_offload")
    back = load(write_parquet(recording, tmp_path / "h.parquet"))
    assert back.equals(recording)
    assert back.meta.extra["simulation"] == recording.meta.extra["simulation"]


def test_cli_writes_a_file_that_loads(tmp_path, capsys):
    out = tmp_path / "walk.parquet"
    code = cli_main(["simulate", "--pattern", "supination", "--duration", "20", "--seed", "5", "--side", "right",
                     "--mass-kg", "82", "--layout", "gaitpdb8", "--rate", "200", "--standing", "2", "--turns", "1",
                     "--out", str(out)])
    assert code == 0
    assert "wrote" in capsys.readouterr().out
    recording = load(out)
    assert recording.layout.name == "gaitpdb8" and recording.unit == "N" and recording.sample_rate_hz == 200
    assert recording.meta.body_mass_kg == 82
    truth = recording.meta.extra["simulation"]
    assert truth["pattern"] == "supination" and truth["affected_sides"] == ["right"]
    assert truth["params"]["seed"] == 5 and truth["params"]["turns"] == 1


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "x.parquet"
    assert cli_main(["simulate", "--duration", "5", "--turns", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "too short" in err and "Traceback" not in err
    assert cli_main(["simulate", "--pattern", "antalgic", "--side", "both", "--out", str(out)]) == 2
    assert "one-sided" in capsys.readouterr().err
    assert cli_main(["simulate", "--out", str(tmp_path / "missing" / "y.parquet")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_bad_parameters_are_refused():
    for bad in ({"pattern": "limp"}, {"side": "middle"}, {"duration_s": 0}, {"body_mass_kg": -1},
                {"sample_rate_hz": 1}, {"seed": -1}, {"turns": -1}):
        with pytest.raises(ValueError):
            SimulationParams(**bad)


# ---------------------------------------------------------------- the firmware source


def test_sample_source_yields_successive_samples_and_loops():
    recording = simulate(SimulationParams(seed=2, duration_s=3.0))
    source = sample_source(recording, "right")
    values = recording.right.values.astype(np.float64)
    first = source(120)
    second = source(250)  # crosses the end: 180 rows left, then the start again
    assert first.shape == (120, 16) and second.shape == (250, 16)
    np.testing.assert_array_equal(first, values[:120])
    np.testing.assert_array_equal(second, np.vstack([values[120:], values[:70]]))
    with_imu = sample_source(recording, "left", imu=True)(5)
    assert with_imu.shape == (5, 22)
    np.testing.assert_array_equal(with_imu[:, 16:19], recording.left.accel_g[:5])


def test_sample_source_without_loop_ends():
    recording = simulate(SimulationParams(seed=2, duration_s=1.0))
    source = sample_source(recording, "left", loop=False)
    assert source(70).shape == (70, 16)
    assert source(70).shape == (30, 16)
    assert source(70).shape == (0, 16)
    with pytest.raises(ValueError):
        sample_source(simulate(SimulationParams(seed=2, duration_s=2.0, layout="moticon16")), "left")


def test_a_script_with_a_stop_midway():
    """Custom scripts (clinic tests later build on this): walk, stop and stand, walk on, turn, walk, stand."""
    script = (Activity("walk", 8.0), Activity("stand", 5.0), Activity("walk", 6.0),
              Activity("turn", direction="right"), Activity("walk", 6.0), Activity("stand", 4.0))
    recording = simulate(SimulationParams(seed=4, duration_s=40.0, script=script))
    truth = _truth(recording)
    kinds = [s["kind"] for s in truth["segments"]]
    assert kinds == ["walking", "standing", "walking", "turn", "walking", "standing"]
    assert truth["script"][1] == {"kind": "stand", "duration_s": 5.0, "angle_deg": 180.0, "direction": "left",
                                  "strides": 2}
    middle = truth["segments"][1]
    assert middle["end_s"] - middle["start_s"] == pytest.approx(5.0, abs=1e-5)
    bw = truth["body_weight_n"]
    t = recording.left.time_s
    quiet = (t > middle["start_s"] + 0.3) & (t < middle["end_s"] - 0.4)
    for side in ("left", "right"):
        total = _force_n(recording, side)[quiet].sum(axis=1)
        assert np.all(total > 0.35 * bw)
        strikes = np.asarray(recording.reference_events.heel_strike_s[side])
        assert not np.any((strikes > middle["start_s"]) & (strikes < middle["end_s"]))
    turn = truth["segments"][3]
    inside = (t >= turn["start_s"]) & (t < turn["end_s"])
    assert recording.left.gyro_dps[inside, 2].sum() / 100 == pytest.approx(-180.0, abs=6.0)


def test_scripts_that_cannot_work_are_refused():
    with pytest.raises(ValueError, match="start with a turn"):
        SimulationParams(script=(Activity("turn"), Activity("walk", 5.0)))
    with pytest.raises(ValueError, match="longer than"):
        simulate(SimulationParams(duration_s=10.0, script=(Activity("walk", 20.0),)))
    with pytest.raises(ValueError, match="unknown kind"):
        SimulationParams(script=(Activity("sit", 5.0), Activity("walk", 5.0)))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_events_and_curves_realise_the_stored_parameters(pattern):
    """The placed steps scatter around the stored foot and gait parameters, by no more than their scatter allows."""
    recording = _sim(pattern, seed=7, standing_s=0.0, turns=0, duration_s=60.0)
    truth = _truth(recording)
    gait = truth["gait_parameters"]
    for side in ("left", "right"):
        p = truth["foot_parameters"][side]
        steps = _steps(recording, side)
        walking = [k for k, g in enumerate(steps["segment"]) if g == "walking" and steps["stride_s"][k]]
        n = len(walking)
        pct = np.array([steps["stance_pct_stride"][k] for k in walking])
        # per-step stance-fraction SD is stance_fraction_sd; 4 standard errors
        assert pct.mean() == pytest.approx(100 * p["stance_fraction"],
                                           abs=4 * 100 * p["stance_fraction_sd"] / np.sqrt(n))
        strides = np.array([steps["stride_s"][k] for k in walking])
        # fractal fluctuations are scaled to mean zero over the walk: the mean stride is the parameter
        # to within the part of the series outside the recording (< 1 %)
        assert strides.mean() == pytest.approx(gait["stride_time_s"], rel=0.01)
        for key in ("f1", "valley", "f2"):
            values = np.array([steps[f"{key}_bw"][k] for k in walking])
            # amplitude scatter step_amplitude_cv per step; 4 standard errors, plus 1 % for the
            # transient that sits on the rise (it lifts the first peak of high_impact a little)
            assert values.mean() == pytest.approx(
                p[f"{key}_bw"], rel=4 * p["step_amplitude_cv"] / np.sqrt(n) + 0.01), key
        at = np.array([steps["f2_at_pct_stance"][k] for k in walking])
        assert at.mean() == pytest.approx(100 * p["f2_at"], abs=4 * 100 * p["step_timing_sd"] / np.sqrt(n) + 0.2)


# ---------------------------------------------------------------- foot-switch failure modes (issue 17)


def test_footswitch_walks_are_reproducible_and_hold_what_was_placed() -> None:
    from insole.simulate._footswitch import FOOTSWITCH_FAILURES, FootswitchParams, simulate_footswitch

    for failure in FOOTSWITCH_FAILURES:
        a = simulate_footswitch(FootswitchParams(failure=failure, seed=3))
        b = simulate_footswitch(FootswitchParams(failure=failure, seed=3))
        assert a.equals(b), failure
        assert a.unit == "au" and a.layout.name == "footswitch1" and a.sample_rate_hz == 300.0
        for side in ("left", "right"):
            hs = np.asarray(a.reference_events.heel_strike_s[side])
            to = np.asarray(a.reference_events.toe_off_s[side])
            # events lie inside the recording, in order, and heel strikes and toe offs alternate
            assert np.all(np.diff(hs) > 0) and np.all((hs > 0) & (hs < a.duration_s))
            events = np.concatenate([np.zeros(hs.size), np.ones(to.size)])[np.argsort(np.concatenate([hs, to]))]
            assert np.all(np.diff(events) != 0), (failure, side)
            # the force a quarter of the way from a heel strike to its toe off is well above the swing floor
            foot = a.foot(side)
            force, time = foot.values[:, 0].astype(float), foot.time_s
            after = np.searchsorted(to, hs)
            ok = after < to.size
            middle = hs[ok] + 0.25 * (to[after[ok]] - hs[ok])  # the heel peak (mid-stance may dip)
            mid_stance = force[np.clip(np.searchsorted(time, middle), 0, time.size - 1)]
            assert np.all(mid_stance > np.percentile(force, 2) + 0.4), (failure, side)
    assert simulate_footswitch(FootswitchParams(failure="clean", seed=1)).equals(
        simulate_footswitch(FootswitchParams(failure="clean", seed=1))
    )
    with pytest.raises(ValueError, match="unknown failure"):
        FootswitchParams(failure="limping")


def test_footswitch_failure_modes_put_their_fault_in_the_signal() -> None:
    from insole.simulate._footswitch import FootswitchParams, simulate_footswitch

    def left(failure: str) -> tuple[np.ndarray, np.ndarray]:
        recording = simulate_footswitch(FootswitchParams(failure=failure))
        return recording.left.time_s, recording.left.values[:, 0].astype(float)

    time, clean = left("clean")
    amplitude = 2.0
    # baseline drift: the swing floor of the last 10 s sits ~0.6 amplitudes above the first 10 s's
    _, drift = left("baseline_drift")
    first, last = drift[time < 10], drift[time > 50]
    assert np.percentile(last, 2) - np.percentile(first, 2) == pytest.approx(0.7 * amplitude * 50 / 60, abs=0.1)
    # never unloads: nothing below the 30 % residual anywhere
    _, shuffle = left("never_unloads")
    assert shuffle.min() > 0.3 * amplitude
    # freezing: loaded throughout the 4 s freeze
    _, freeze = left("freezing")
    assert freeze[(time > 28.2) & (time < 31.8)].min() > 0.4 * amplitude
    # standing: loaded at about half the amplitude for the first 7 s
    _, stand = left("standing")
    assert np.median(stand[time < 7]) == pytest.approx(0.2 + 0.5 * amplitude, abs=0.1)
    # a clean walk unloads to its floor in every swing
    assert np.percentile(clean, 5) == pytest.approx(0.2, abs=0.02)

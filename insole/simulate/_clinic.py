"""Simulated clinic tests: the four guided tests as simulator scripts, with their phase times as the known answer.

``simulate_clinic_test("tug", seed=3)`` returns a ``Recording`` of a simulated
Timed Up and Go (or 10-metre walk, 6-minute walk, standing balance test).
Besides the simulator's own answer, ``meta.extra["simulation"]["clinic_test"]``
holds the test's answer: its events and phases (s), its totals (time, speed,
distance) and what a clinician would have entered (walkway, course length,
stance width). Each seed draws its own subject (``insole.simulate``) and its
own timing of the test (how long the patient sits, how fast they rise...).

``stops_midway=True`` simulates a patient who does not finish: the 10-metre
walk is interrupted by a stop, the Timed Up and Go ends standing (never sits
down again), the 6-minute walk ends after about 200 s, the balance test ends
12 s into the eyes-closed period.

How the answer is defined (``docs/clinic-tests.md`` has the table):

* positions along the walkway come from the placed steps with the convention
  of ``insole.clinic._path`` (body = mean of the feet; a walking step is half
  the stride length, a turning step 0.3 m, a foot joining the other lands
  beside it);
* turns run from the toe off that starts the first turning swing to the heel
  strike that ends the last (the simulator's turn segments);
* sitting down and rising are the simulator's ``stand_to_sit`` and
  ``sit_to_stand`` segments: the knots where the feet's load starts and
  stops changing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from insole._recording import Mark, Recording, ReferenceEvents
from insole.clinic import FeetPath, feet_path
from insole.simulate._gait import Activity, script_duration_s, subject_profiles
from insole.simulate._simulator import SimulationParams, simulate

__all__ = ["simulate_clinic_test", "CLINIC_TESTS", "FAST_PACE"]

CLINIC_TESTS = ("10mwt", "6mwt", "tug", "balance")
FAST_PACE = 1.35  # "as fast as you safely can": about 1.35 x the comfortable speed in this model
_TURN_STEP_M = 0.3  # half the simulator's turning stride (0.6 m)
_SIX_MINUTES_S = 360.0
_BALANCE_CONDITION_S = 30.0
_EYES_CLOSED_SWAY = 1.7  # sway grows with the eyes closed (a modelling choice, see docs/clinic-tests.md)


def simulate_clinic_test(
    test: str,
    seed: int = 0,
    *,
    stops_midway: bool = False,
    fast: bool = False,
    imu: bool = True,
    pattern: str = "normal",
    side: str = "left",
    body_mass_kg: float = 70.0,
    sample_rate_hz: float = 100.0,
    sensor_noise_n: float = 0.2,
    course_m: float = 30.0,
) -> Recording:
    """A simulated clinic test (``"10mwt"``, ``"6mwt"``, ``"tug"`` or ``"balance"``) with its answer stored."""
    if test not in CLINIC_TESTS:
        raise ValueError(f"unknown clinic test {test!r}; choose from {', '.join(CLINIC_TESTS)}")
    if fast and test != "10mwt":
        raise ValueError("fast pace is a variant of the 10-metre walk only")
    pace = FAST_PACE if fast else 1.0
    # the scenario's own timing draws come from a second generator, so the subject stays seed-for-seed the simulator's
    plan_rng = np.random.default_rng([seed, 0xC11])
    timing, _ = subject_profiles(np.random.default_rng(seed), True)
    stride_s = timing.stride_time_s / np.sqrt(pace)
    stride_m = timing.stride_length_m * np.sqrt(pace)
    builder = {"10mwt": _ten_metre, "6mwt": _six_minute, "tug": _tug, "balance": _balance}[test]
    script, duration_s, extra = builder(plan_rng, stride_s, stride_m, stops_midway, course_m)
    params = SimulationParams(
        pattern=pattern, side=side, seed=seed, duration_s=duration_s, script=script, imu=imu, pace=pace,
        body_mass_kg=body_mass_kg, sample_rate_hz=sample_rate_hz, sensor_noise_n=sensor_noise_n,
    )
    recording = simulate(params)
    truth = recording.meta.extra["simulation"]
    answer = _ANSWERS[test](recording, truth, extra, stops_midway)
    answer.update(test=test, seed=seed, stops_midway=stops_midway, pace="fast" if fast else "comfortable",
                  generator="insole simulator (clinic tests)")
    marks = _marks(test, answer, extra, imu, plan_rng)
    meta_extra = dict(recording.meta.extra)
    meta_extra["simulation"] = {**truth, "clinic_test": answer}
    meta = dataclasses.replace(recording.meta, extra=meta_extra, condition=f"simulated {test}",
                               subject_id=f"sim-{test}-{seed}")
    return recording.replace(meta=meta, marks=marks)


# ---------------------------------------------------------------- scripts


def _ten_metre(rng, stride_s, stride_m, stops_midway, course_m):
    # the walk from standing to standing covers (2n + 1) half strides; n chosen for about 14 m
    strides = max(3, int(round((28.0 / stride_m - 1.0) / 2.0)))
    before = 2.0 + rng.uniform(0.0, 1.5)
    if stops_midway:
        half = max(1, strides // 2)
        script = (
            Activity("stand", before),
            Activity("walk", distance_m=half * stride_m),
            Activity("stand", 2.0 + rng.uniform(0.0, 2.0)),
            Activity("walk", distance_m=(strides - half) * stride_m),
            Activity("stand", 4.0),
        )
    else:
        script = (Activity("stand", before), Activity("walk", distance_m=strides * stride_m), Activity("stand", 4.0))
    duration = before + (strides + 2) * stride_s * 1.15 + (8.0 if stops_midway else 0.0) + 6.0
    return script, float(duration), {}


def _tug(rng, stride_s, stride_m, stops_midway, course_m):
    sit_s = 2.5 + rng.uniform(0.0, 2.0)
    rise_s = rng.uniform(1.4, 2.2)
    pause_s = 1.0 + rng.uniform(0.0, 0.5)
    sit_down_s = rng.uniform(1.6, 2.6)
    turns = ("left", "right") if rng.random() < 0.5 else ("right", "left")
    script = [Activity("seated", sit_s), Activity("sit_to_stand", rise_s), Activity("stand", pause_s),
              Activity("walk", distance_m=3.0), Activity("turn", direction=turns[0], strides=1),
              Activity("walk", distance_m=3.0)]
    if stops_midway:
        script.append(Activity("stand", 6.0))  # stops on the way back and does not sit down again
    else:
        script += [Activity("turn", direction=turns[1], strides=1), Activity("stand", 1.0 + rng.uniform(0.0, 0.5)),
                   Activity("stand_to_sit", sit_down_s), Activity("seated", 3.0)]
    duration = sit_s + rise_s + pause_s + 8 * stride_s * 1.3 + 12.0
    return tuple(script), float(duration), {"walk_out_m": 3.0}


def _six_minute(rng, stride_s, stride_m, stops_midway, course_m):
    turn_m = 2 * 2 * _TURN_STEP_M  # two turning strides
    strides = max(2, int(round((course_m - turn_m) / stride_m)))
    length_s = strides * stride_s + 2 * 1.25 * stride_s
    before = 3.0
    walk_for_s = 200.0 if stops_midway else _SIX_MINUTES_S
    lengths = int((walk_for_s - 2.0) // length_s)
    directions = ["left", "right"] if rng.random() < 0.5 else ["right", "left"]
    script = [Activity("stand", before)]
    for k in range(lengths):
        script += [Activity("walk", distance_m=strides * stride_m), Activity("turn", direction=directions[k % 2])]
    script += [Activity("walk", 1.0), Activity("stand", 5.0)]  # the last walk runs until the final stand
    duration = before + walk_for_s + (3.5 if not stops_midway else -8.0) + 5.0
    # lengths that nearly fill the time leave less for the last walk: never ask for less than the script needs
    duration = max(duration, script_duration_s(script, stride_s, stride_m) + 1.0)
    return tuple(script), float(duration), {"strides_per_length": strides}


def _balance(rng, stride_s, stride_m, stops_midway, course_m):
    settle = 2.0 + rng.uniform(0.0, 1.0)
    closed_s = 12.0 if stops_midway else _BALANCE_CONDITION_S
    script = (Activity("stand", settle, label="getting_ready"),
              Activity("stand", _BALANCE_CONDITION_S, label="eyes_open"),
              Activity("stand", closed_s, sway_scale=_EYES_CLOSED_SWAY, label="eyes_closed"))
    duration = settle + _BALANCE_CONDITION_S + closed_s + 1e-9  # the last period fills the recording exactly
    return script, float(duration), {"stance_width_mm": 100.0, "closed_s": closed_s}


# ---------------------------------------------------------------- answers


def _placed_events(recording: Recording) -> ReferenceEvents:
    """The steps ``simulate`` placed: it always gives its recording these reference events."""
    events = recording.reference_events
    assert events is not None, "simulate() sets reference_events on every recording"
    return events


def _path_of(recording: Recording, truth: dict) -> FeetPath:
    """The placed steps as swings along the path (``insole.clinic._path`` convention)."""
    events = _placed_events(recording)
    steps = truth["steps"]
    walking_step = 0.5 * truth["gait_parameters"]["stride_length_m"]
    segment_of = {(s, round(t, 6)): g for s, t, g in zip(steps["side"], steps["heel_strike_s"], steps["segment"])}
    strikes = sorted((t, side) for side in ("left", "right") for t in events.heel_strike_s.get(side, ()))
    out = []
    previous_standing = False
    for t, side in strikes:
        segment = segment_of.get((side, round(t, 6)))
        if segment is None:  # a strike into standing: the lead foot steps, the other joins it
            out.append((t, side, 0.0 if previous_standing else walking_step))
            previous_standing = True
            continue
        previous_standing = False
        out.append((t, side, _TURN_STEP_M if segment == "turn" else walking_step))
    return feet_path(out, events.toe_off_s)


def _segments(truth: dict, kind: str) -> list[dict]:
    return [s for s in truth["segments"] if s["kind"] == kind]


def _first_lift_off(recording: Recording) -> float:
    offs = [t for side in ("left", "right") for t in _placed_events(recording).toe_off_s.get(side, ())]
    return float(min(offs))


def _answer_10mwt(recording, truth, extra, stops_midway) -> dict[str, Any]:
    path = _path_of(recording, truth)
    walkway = path.final_m
    start = _first_lift_off(recording)
    strikes = np.sort([t for side in ("left", "right") for t in recording.reference_events.heel_strike_s[side]])
    answer: dict[str, Any] = {
        "inputs": {"walkway_m": round(walkway, 6), "timed_m": round(walkway - 4.0, 6), "acceleration_m": 2.0},
        "complete": not stops_midway,
    }
    if stops_midway:
        standing = _segments(truth, "standing")[1]
        offs = np.sort([t for side in ("left", "right") for t in recording.reference_events.toe_off_s[side]])
        answer["reason"] = "the walk was interrupted: the patient stood still between two walking bouts"
        # from the last heel strike before the stop to the lift-off that walks on
        answer["events"] = {"walk_start_s": start,
                            "interruption_start_s": float(strikes[strikes < standing["start_s"]][-1]),
                            "interruption_end_s": float(offs[offs >= standing["end_s"] - 1e-5][0])}
        answer["phases"] = []
        answer["totals"] = {}
        return answer
    t_in = path.crossing_s(2.0)
    t_out = path.crossing_s(walkway - 2.0)
    inside = strikes[(strikes >= t_in) & (strikes <= t_out)]
    end = float(strikes[-1])
    answer["events"] = {"walk_start_s": start, "timed_start_s": t_in, "timed_end_s": t_out, "walk_end_s": end}
    answer["phases"] = [
        {"name": "standing", "start_s": 0.0, "end_s": start},
        {"name": "acceleration", "start_s": start, "end_s": t_in},
        {"name": "timed", "start_s": t_in, "end_s": t_out},
        {"name": "deceleration", "start_s": t_out, "end_s": end},
        {"name": "standing", "start_s": end, "end_s": recording.duration_s},
    ]
    answer["totals"] = {
        "timed_s": t_out - t_in,
        "gait_speed_m_s": (walkway - 4.0) / (t_out - t_in),
        "steps_in_timed_m": int(inside.size),
        "steps_total": int(strikes.size),
        "cadence_steps_per_min": 60.0 * (inside.size - 1) / (inside[-1] - inside[0]) if inside.size > 2 else None,
    }
    return answer


def _answer_tug(recording, truth, extra, stops_midway) -> dict[str, Any]:
    rise = _segments(truth, "sit_to_stand")[0]
    turns = _segments(truth, "turn")
    start = _first_lift_off(recording)
    events = {"rise_onset_s": rise["start_s"], "standing_reached_s": rise["end_s"], "walk_start_s": start,
              "turn_out_start_s": turns[0]["start_s"], "turn_out_end_s": turns[0]["end_s"]}
    answer: dict[str, Any] = {"inputs": {"walk_out_m": 3.0}, "complete": not stops_midway, "events": events}
    if stops_midway:
        answer["reason"] = "the patient did not sit down again"
        answer["phases"] = []
        answer["totals"] = {}
        return answer
    sit = _segments(truth, "stand_to_sit")[0]
    events.update(turn_back_start_s=turns[1]["start_s"], turn_back_end_s=turns[1]["end_s"],
                  descent_onset_s=sit["start_s"], seated_s=sit["end_s"])
    answer["phases"] = [
        {"name": "seated", "start_s": 0.0, "end_s": rise["start_s"]},
        {"name": "sit_to_stand", "start_s": rise["start_s"], "end_s": rise["end_s"]},
        {"name": "walk_out", "start_s": rise["end_s"], "end_s": turns[0]["start_s"]},
        {"name": "turn_out", "start_s": turns[0]["start_s"], "end_s": turns[0]["end_s"]},
        {"name": "walk_back", "start_s": turns[0]["end_s"], "end_s": turns[1]["start_s"]},
        {"name": "turn_back", "start_s": turns[1]["start_s"], "end_s": turns[1]["end_s"]},
        {"name": "stand_to_sit", "start_s": turns[1]["end_s"], "end_s": sit["end_s"]},
        {"name": "seated", "start_s": sit["end_s"], "end_s": recording.duration_s},
    ]
    answer["totals"] = {"total_time_s": sit["end_s"] - rise["start_s"],
                        "sit_to_stand_s": rise["end_s"] - rise["start_s"],
                        "stand_to_sit_s": sit["end_s"] - sit["start_s"]}
    return answer


def _answer_6mwt(recording, truth, extra, stops_midway) -> dict[str, Any]:
    path = _path_of(recording, truth)
    start = _first_lift_off(recording)
    turns = _segments(truth, "turn")
    mids = np.array([0.5 * (s["start_s"] + s["end_s"]) for s in turns])
    at_mids = path.position_m(mids) if mids.size else np.zeros(0)
    course = float(np.mean(np.diff(at_mids))) if mids.size > 1 else float("nan")
    answer: dict[str, Any] = {
        "inputs": {"course_m": round(course, 6)},
        "complete": not stops_midway,
        "events": {"walk_start_s": start, "turn_mid_s": [float(v) for v in mids]},
        "lengths_completed": int(mids.size),
    }
    phases = [{"name": "standing", "start_s": 0.0, "end_s": start}]
    previous = start
    for k, seg in enumerate(turns, start=1):
        phases.append({"name": f"length_{k}", "start_s": previous, "end_s": seg["start_s"]})
        phases.append({"name": f"turn_{k}", "start_s": seg["start_s"], "end_s": seg["end_s"]})
        previous = seg["end_s"]
    if stops_midway:
        stop = float(max(t for side in ("left", "right") for t in recording.reference_events.heel_strike_s[side]))
        phases.append({"name": f"length_{len(turns) + 1}", "start_s": previous, "end_s": stop})
        answer["reason"] = "the test ended before six minutes"
        answer["events"]["walk_end_s"] = stop
        answer["phases"] = phases
        answer["totals"] = {"walking_time_s": stop - start, "distance_m": float(path.position_m(np.array([stop]))[0])}
        return answer
    end = start + _SIX_MINUTES_S
    phases.append({"name": f"length_{len(turns) + 1}", "start_s": previous, "end_s": end})
    answer["events"]["test_end_s"] = end
    answer["phases"] = phases
    answer["totals"] = {"distance_m": float(path.position_m(np.array([end]))[0]),
                        "first_length_m": float(at_mids[0]) if at_mids.size else None}
    return answer


def _answer_balance(recording, truth, extra, stops_midway) -> dict[str, Any]:
    labelled = {s.get("label"): s for s in _segments(truth, "standing") if s.get("label")}
    open_, closed = labelled["eyes_open"], labelled["eyes_closed"]
    closed_end = min(closed["start_s"] + extra["closed_s"], recording.duration_s)
    phases = [
        {"name": "eyes_open", "start_s": open_["start_s"], "end_s": open_["end_s"]},
        {"name": "eyes_closed", "start_s": closed["start_s"], "end_s": closed_end},
    ]
    answer: dict[str, Any] = {
        "inputs": {"stance_width_mm": extra["stance_width_mm"], "condition_s": _BALANCE_CONDITION_S},
        "complete": not stops_midway,
        "phases": phases,
        "events": {"eyes_open_start_s": open_["start_s"], "eyes_closed_start_s": closed["start_s"],
                   "end_s": closed_end},
        "weight_distribution": {name: {"left_share_of_load": labelled[name].get("left_share_of_load"),
                                       "rearfoot_share_of_load": labelled[name].get("rearfoot_share_of_load")}
                                for name in ("eyes_open", "eyes_closed")},
        "sway_scale": {"eyes_open": 1.0, "eyes_closed": _EYES_CLOSED_SWAY},
        "totals": {},
    }
    if stops_midway:
        answer["reason"] = "the eyes-closed period ended after 12 s, before its 30 s"
    return answer


_ANSWERS = {"10mwt": _answer_10mwt, "6mwt": _answer_6mwt, "tug": _answer_tug, "balance": _answer_balance}


def _marks(test: str, answer: dict, extra: dict, imu: bool, rng: np.random.Generator) -> tuple[Mark, ...]:
    """What the clinician (or the guided runner) would have marked in this recording."""
    if test == "balance":
        events = answer["events"]
        return (Mark(round(events["eyes_open_start_s"], 3), "eyes_open", "phase"),
                Mark(round(events["eyes_closed_start_s"], 3), "eyes_closed", "phase"),
                Mark(round(events["end_s"], 3), "end", "phase"))
    if test == "6mwt" and not imu:
        # no gyroscope: the clinician marks each completed length as the patient rounds the cone (a late press)
        return tuple(Mark(round(float(t) + float(rng.uniform(0.1, 0.6)), 3), "lap")
                     for t in answer["events"]["turn_mid_s"])
    return ()

"""The result of a clinic test from its recording: ``run_test(recording, test, inputs) -> TestResult``.

* **10-metre walk**: the walking bout from the first toe off to the closing
  heel strike; step length = walkway / (heel strikes - 1) (the first step out
  of standing and the closing step are counted as in ``_path``); the body's
  position from the steps gives the times it enters and leaves the timed
  metres; gait speed = timed metres / that time. Steps, cadence over the
  timed metres. A stop in the walk makes the test incomplete.
* **6-minute walk**: six minutes from the first toe off; lengths completed =
  turns (gyroscope) or the clinician's lap marks before the end; the last,
  partial length from its heel strikes as a fraction of a whole length's;
  distance = course x (lengths + fraction). Per minute: cadence, speed,
  stance-time symmetry (fatigue). Rests are pauses without a step.
* **Timed Up and Go**: rising and sitting down from the summed load, the two
  turns from the gyroscope (or turn marks), the walk in between; total time =
  start of rising to seated again.
* **Standing balance**: eyes-open and eyes-closed periods from the guided
  capture's phase marks; per period the load on each foot, rearfoot and
  forefoot shares, and the sway of the two feet's combined centre of
  pressure (path length, 95% ellipse area, mean velocity, RMS).

A test the patient does not finish is reported ``complete=False`` with the
reason, and no time or speed that the unfinished test cannot give.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from insole._recording import Mark, Recording
from insole._version import __version__
from insole.analysis import AnalysisParams, butter_lowpass_sos, cop_path, finish_loads, prepare_foot, zero_phase
from insole.clinic._path import feet_path
from insole.clinic._phases import (
    PHASE_MARK_KIND,
    ClinicParams,
    GaitEvents,
    Turn,
    foot_loads,
    gait_events,
    rise,
    sit_down,
    turns_from_gyro,
    turns_from_marks,
    walking_bouts,
)
from insole.clinic._protocols import PROTOCOLS, SOURCES, protocol, reference_comparisons

__all__ = ["TestInputs", "Phase", "TestResult", "run_test", "compare_over_time", "MAIN_MEASURES",
           "RESULT_SCHEMA_VERSION", "TESTS"]

RESULT_SCHEMA_VERSION = "1.0"
TESTS = tuple(PROTOCOLS)
_CHI2_95_2DOF = 5.991464547107979  # 95th percentile of chi-square with 2 degrees of freedom
_SIX_MINUTES_S = 360.0


@dataclass(frozen=True)
class TestInputs:
    """What the clinician enters (defaults from the protocols), and who the patient is (for reference values).

    Distances in m, widths in mm, durations in s. ``sex`` "male" or "female";
    ``pace`` "comfortable" or "fast" (10-metre walk).
    """

    __test__ = False  # a clinic test's inputs, not a pytest class

    walkway_m: float = 14.0
    timed_m: float = 10.0
    pace: str = "comfortable"
    course_m: float = 30.0
    duration_s: float = _SIX_MINUTES_S
    stance_width_mm: float = 100.0
    condition_s: float = 30.0
    age_years: float | None = None
    sex: str | None = None
    height_cm: float | None = None
    mass_kg: float | None = None

    def __post_init__(self) -> None:
        checks = (
            (self.walkway_m > 0 and 0 < self.timed_m < self.walkway_m,
             f"the timed metres ({self.timed_m:g} m) must be positive and shorter than the walkway "
             f"({self.walkway_m:g} m)"),
            (self.pace in ("comfortable", "fast"), f"pace must be comfortable or fast, not {self.pace!r}"),
            (self.course_m > 0, f"the course length must be positive, not {self.course_m:g} m"),
            (self.duration_s > 0, "the test duration must be positive"),
            (self.stance_width_mm >= 0, "the stance width must not be negative"),
            (self.condition_s > 0, "the balance period must be positive"),
            (self.sex in (None, "male", "female"), f"sex must be male or female, not {self.sex!r}"),
            (self.age_years is None or 0 < self.age_years < 130, f"age {self.age_years!r} is not plausible"),
            (self.height_cm is None or 50 < self.height_cm < 250, f"height {self.height_cm!r} cm is not plausible"),
            (self.mass_kg is None or 0 < self.mass_kg < 400, f"body mass {self.mass_kg!r} kg is not plausible"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Phase:
    """One phase of a test on the recording's clock (s), and what found it."""

    name: str
    start_s: float
    end_s: float
    found_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "start_s": _num(self.start_s), "end_s": _num(self.end_s), "found_by": self.found_by}


@dataclass(frozen=True, eq=False)
class TestResult:
    """The result of one clinic test.

    ``complete`` False when the patient did not finish (``reasons`` say why;
    measures the unfinished test cannot give are absent). ``phases`` tile the
    test in time order; ``events`` are the named boundaries (s); ``measures``
    carry their unit in their names; ``tables`` hold per-minute or
    per-condition rows; ``references`` each reference value with its source and
    the comparison made (or why none was); ``quality`` what the result rests on.
    """

    __test__ = False  # a clinic test's result, not a pytest class

    test: str
    complete: bool
    reasons: tuple[str, ...]
    phases: tuple[Phase, ...]
    events: Mapping[str, Any]
    measures: Mapping[str, Any]
    tables: Mapping[str, list[dict[str, Any]]]
    references: list[dict[str, Any]]
    inputs: TestInputs
    quality: Mapping[str, Any]
    provenance: Mapping[str, Any]

    @property
    def status(self) -> str:
        return "complete" if self.complete else "incomplete"

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready values (``meta.extra["clinic_test"]`` of a saved test)."""
        return _jsonable({
            "schema_version": RESULT_SCHEMA_VERSION,
            "test": self.test,
            "name": PROTOCOLS[self.test].name,
            "status": self.status,
            "complete": self.complete,
            "reasons": list(self.reasons),
            "phases": [p.to_dict() for p in self.phases],
            "events": dict(self.events),
            "measures": dict(self.measures),
            "tables": {k: list(v) for k, v in self.tables.items()},
            "references": self.references,
            "inputs": self.inputs.to_dict(),
            "quality": dict(self.quality),
            "provenance": dict(self.provenance),
        })

    def marks(self) -> tuple[Mark, ...]:
        """The phases as ``Mark(kind="phase")``: one at each phase start (its name) and "end" at the last end."""
        marks = [Mark(round(float(p.start_s), 3), p.name, PHASE_MARK_KIND) for p in self.phases
                 if math.isfinite(p.start_s)]
        ends = [p.end_s for p in self.phases if math.isfinite(p.end_s)]
        if ends:
            marks.append(Mark(round(float(ends[-1]), 3), "end", PHASE_MARK_KIND))
        return tuple(marks)

    def summary(self) -> str:
        """One line for the terminal: the test, its status and its main figure."""
        m = self.measures
        head = f"{PROTOCOLS[self.test].name}: {self.status}"
        if not self.complete:
            return f"{head} ({'; '.join(self.reasons)})"
        if self.test == "10mwt":
            return (f"{head}: gait speed {m['gait_speed_m_s']:.2f} m/s over {self.inputs.timed_m:g} m "
                    f"({m['timed_s']:.2f} s), {m['steps_total']} steps, "
                    f"cadence {m['cadence_steps_per_min']:.0f} steps/min")
        if self.test == "6mwt":
            return (f"{head}: {m['distance_m']:.0f} m in 6 min ({m['lengths_completed']} lengths of "
                    f"{self.inputs.course_m:g} m), cadence {m['cadence_steps_per_min']:.0f} steps/min")
        if self.test == "tug":
            return (f"{head}: {m['total_time_s']:.2f} s (sit-to-stand {m['sit_to_stand_s']:.2f} s, "
                    f"stand-to-sit (lowering) {m['stand_to_sit_s']:.2f} s)")
        eo, ec = self.tables["conditions"][0], self.tables["conditions"][-1]
        romberg = m.get("romberg_quotient_area", float("nan"))
        return (f"{head}: left {m['left_load_pct']:.1f} %, sway area {eo['ellipse_area_mm2']:.0f} mm2 eyes open, "
                f"{ec['ellipse_area_mm2']:.0f} mm2 eyes closed (Romberg {romberg:.2f})")

    def with_recording(self, recording: Recording) -> Recording:
        """``recording`` with this result in ``meta.extra["clinic_test"]`` and the phases as marks.

        Marks of other kinds (the clinician's) are kept; earlier phase marks are replaced.
        """
        extra = {**dict(recording.meta.extra), "clinic_test": self.to_dict()}
        kept = tuple(m for m in recording.marks if m.kind != PHASE_MARK_KIND)
        marks = tuple(sorted(kept + self.marks(), key=lambda m: (m.time_s, m.kind != PHASE_MARK_KIND)))
        return recording.replace(meta=dataclasses.replace(recording.meta, extra=extra), marks=marks)


def run_test(recording: Recording, test: str, inputs: TestInputs | None = None,
             params: ClinicParams | None = None) -> TestResult:
    """Find the phases of ``test`` in ``recording`` and compute its result (see the module docstring)."""
    protocol(test)
    inputs = inputs if inputs is not None else TestInputs()
    params = params if params is not None else ClinicParams()
    if set(recording.sides) != {"left", "right"}:
        raise ValueError("clinic tests need both feet")
    runner = {"10mwt": _ten_metre, "6mwt": _six_minute, "tug": _tug, "balance": _balance}[test]
    parts = runner(recording, inputs, params)
    subject = {"age_years": inputs.age_years, "sex": inputs.sex, "height_cm": inputs.height_cm,
               "mass_kg": inputs.mass_kg if inputs.mass_kg is not None else recording.meta.body_mass_kg,
               "pace": inputs.pace}
    references = reference_comparisons(test, parts["measures"], subject) if parts["complete"] else []
    provenance = {
        "software": "insole",
        "version": __version__,
        "method": f"insole.clinic {test}",
        "params": params.to_dict(),
        "protocol": PROTOCOLS[test].name,
        "input": {"source": dict(recording.meta.source), "subject_id": recording.meta.subject_id,
                  "layout": recording.layout.name, "sample_rate_hz": recording.sample_rate_hz,
                  "duration_s": recording.duration_s},
        "sources": {k: SOURCES[k].to_dict() for k in PROTOCOLS[test].sources},
    }
    return TestResult(
        test=test,
        complete=parts["complete"],
        reasons=tuple(parts.get("reasons", ())),
        phases=tuple(parts.get("phases", ())),
        events=parts.get("events", {}),
        measures=parts["measures"],
        tables=parts.get("tables", {}),
        references=references,
        inputs=inputs,
        quality=parts.get("quality", {}),
        provenance=provenance,
    )


# ---------------------------------------------------------------- 10-metre walk


def _ten_metre(recording: Recording, inputs: TestInputs, params: ClinicParams) -> dict[str, Any]:
    events = gait_events(recording)
    bouts = walking_bouts(events, params)
    quality = _event_quality(events)
    if not bouts:
        return {"complete": False, "reasons": ["no walk was found (fewer than three steps in a row)"],
                "measures": {}, "quality": quality}
    if len(bouts) > 1:
        gap = bouts[1].start_s - bouts[0].end_s
        return {"complete": False,
                "reasons": [f"the walk was interrupted: no step for {gap:.1f} s after {bouts[0].end_s:.1f} s "
                            f"({len(bouts)} walking bouts)"],
                "events": {"walk_start_s": bouts[0].start_s, "interruption_start_s": bouts[0].end_s,
                           "interruption_end_s": bouts[1].start_s},
                "measures": {"walking_bouts": len(bouts)}, "quality": quality}
    bout = bouts[0]
    t_end = float(recording.duration_s + _first_time(recording))
    if t_end - bout.end_s < params.pause_s:
        return {"complete": False, "reasons": ["the recording ended while the patient was still walking"],
                "events": {"walk_start_s": bout.start_s}, "measures": {}, "quality": quality}
    n = int(bout.strikes.size)
    step_m = inputs.walkway_m / (n - 1)
    strikes = [(float(t), str(s), step_m) for t, s in bout.strikes[:-1]]
    strikes.append((float(bout.strikes["time_s"][-1]), str(bout.strikes["side"][-1]), 0.0))  # the closing step
    path = feet_path(strikes, events.toe_off_s)
    margin = 0.5 * (inputs.walkway_m - inputs.timed_m)
    t_in, t_out = path.crossing_s(margin), path.crossing_s(inputs.walkway_m - margin)
    times = bout.strikes["time_s"]
    inside = times[(times >= t_in) & (times <= t_out)]
    timed = t_out - t_in
    cadence = 60.0 * (inside.size - 1) / (inside[-1] - inside[0]) if inside.size > 2 else float("nan")
    measures = {
        "gait_speed_m_s": inputs.timed_m / timed,
        "timed_s": timed,
        "timed_m": inputs.timed_m,
        "walkway_m": inputs.walkway_m,
        "steps_total": n,
        "steps_in_timed_m": int(inside.size),
        "cadence_steps_per_min": cadence,
        "step_length_m": step_m,
        "walk_time_s": bout.end_s - bout.start_s,
        "pace": inputs.pace,
    }
    if not 0.2 <= step_m <= 1.1:
        quality = {**quality, "warning": f"a mean step of {step_m:.2f} m is implausible: check the walkway length "
                                         f"and that the patient stopped at the end line"}
    phases = [
        Phase("standing", _first_time(recording), bout.start_s, "no steps"),
        Phase("acceleration", bout.start_s, t_in, "first toe off; body position from the steps"),
        Phase("timed", t_in, t_out, "body position from the steps"),
        Phase("deceleration", t_out, bout.end_s, "body position from the steps; closing heel strike"),
        Phase("standing", bout.end_s, t_end, "no steps"),
    ]
    return {"complete": True, "phases": phases, "measures": measures, "quality": quality,
            "events": {"walk_start_s": bout.start_s, "timed_start_s": t_in, "timed_end_s": t_out,
                       "walk_end_s": bout.end_s}}


# ---------------------------------------------------------------- Timed Up and Go


def _tug(recording: Recording, inputs: TestInputs, params: ClinicParams) -> dict[str, Any]:
    loads = foot_loads(recording, inputs.mass_kg)
    events = gait_events(recording, zero_offset=False)
    quality = {**_event_quality(events), "standing_level": loads.standing_level, "load_unit": loads.unit}
    t0 = _first_time(recording)
    slow = loads.relative(1.0)
    up = np.flatnonzero(slow >= params.seated_level)
    if up.size == 0 or up[0] < int(0.5 * loads.sample_rate_hz):
        return {"complete": False, "reasons": ["the patient was not seated at the start of the recording"],
                "measures": {}, "quality": quality}
    offs = events.toe_offs()["time_s"]
    later = offs[offs > loads.time_s[up[0]]]
    if later.size == 0:
        return {"complete": False, "reasons": ["the patient stood up but did not walk"], "measures": {},
                "quality": quality}
    lift_off = float(later[0])
    standing_up = rise(loads, lift_off, params)
    if standing_up is None or not math.isfinite(standing_up.start_s) or not math.isfinite(standing_up.end_s):
        return {"complete": False, "reasons": ["rising from the chair could not be timed"], "measures": {},
                "quality": quality}
    turns, turn_source = _turns(recording, events, params)
    strikes = events.strikes()["time_s"]
    walk_strikes = strikes[strikes > lift_off]
    event_times: dict[str, Any] = {"rise_onset_s": standing_up.start_s, "standing_reached_s": standing_up.end_s,
                                   "walk_start_s": lift_off}
    turns = [tn for tn in turns if tn.start_s > lift_off - 0.5]
    if turns:
        event_times.update(turn_out_start_s=turns[0].start_s, turn_out_end_s=turns[0].end_s)
    sitting = sit_down(loads, float(walk_strikes[-1]) if walk_strikes.size else lift_off, params)
    if sitting is None or not math.isfinite(sitting.end_s):
        return {"complete": False, "reasons": ["the patient did not sit down again"], "events": event_times,
                "measures": {"sit_to_stand_s": standing_up.end_s - standing_up.start_s}, "quality": quality}
    if len(turns) < 2:
        why = ("found one turn" if turns else "found no turn") + (
            " (the insoles have no gyroscope: mark the turns)" if turn_source == "none" else "")
        return {"complete": False, "reasons": [f"the walk to the line and back {why}; two were expected"],
                "events": event_times, "measures": {}, "quality": quality}
    out, back = turns[0], turns[-1]
    event_times.update(turn_out_start_s=out.start_s, turn_out_end_s=out.end_s, turn_back_start_s=back.start_s,
                       turn_back_end_s=back.end_s, descent_onset_s=sitting.start_s, seated_s=sitting.end_s)
    found = {"gyroscope": "gyroscope heading change over the swings", "mark": "the clinician's turn mark"}[out.source]
    phases = [
        Phase("seated", t0, standing_up.start_s, "summed load at the seated level"),
        Phase("sit_to_stand", standing_up.start_s, standing_up.end_s, "summed load: tangent intersections"),
        Phase("walk_out", standing_up.end_s, out.start_s, "gait events"),
        Phase("turn_out", out.start_s, out.end_s, found),
        Phase("walk_back", out.end_s, back.start_s, "gait events"),
        Phase("turn_back", back.start_s, back.end_s, found),
        Phase("stand_to_sit", back.end_s, sitting.end_s, "summed load: tangent intersection"),
        Phase("seated", sitting.end_s, t0 + recording.duration_s, "summed load at the seated level"),
    ]
    measures = {
        "total_time_s": sitting.end_s - standing_up.start_s,
        "sit_to_stand_s": standing_up.end_s - standing_up.start_s,
        "stand_to_sit_s": sitting.end_s - sitting.start_s,
        "turn_out_s": out.end_s - out.start_s,
        "turn_back_s": back.end_s - back.start_s,
        "turn_out_deg": out.angle_deg,
        "turn_back_deg": back.angle_deg,
        "walk_steps": int(((walk_strikes > lift_off) & (walk_strikes <= back.end_s)).sum()),
        "seated_load_pct_of_standing": 100.0 * standing_up.level_before,
        "seat_off_peak_pct_of_standing": 100.0 * standing_up.peak if standing_up.peak else None,
    }
    quality = {**quality, "turns_from": turn_source, "turns_found": len(turns)}
    return {"complete": True, "phases": phases, "events": event_times, "measures": measures, "quality": quality}


def _turns(recording: Recording, events: GaitEvents, params: ClinicParams) -> tuple[list[Turn], str]:
    gyro = turns_from_gyro(recording, events, params)
    if gyro is not None:
        return gyro, "gyroscope"
    marked = turns_from_marks(recording)
    return marked, "marks" if marked else "none"


# ---------------------------------------------------------------- 6-minute walk


def _six_minute(recording: Recording, inputs: TestInputs, params: ClinicParams) -> dict[str, Any]:
    events = gait_events(recording)
    quality = _event_quality(events)
    bouts = walking_bouts(events, params)
    if not bouts:
        return {"complete": False, "reasons": ["no walk was found"], "measures": {}, "quality": quality}
    start = bouts[0].start_s
    end = start + inputs.duration_s
    t_last = _first_time(recording) + recording.duration_s
    strikes = events.strikes()["time_s"]
    strikes = strikes[strikes >= start - 0.5]
    complete = t_last >= end
    reasons = [] if complete else [f"the test ended {t_last - start:.0f} s after the first step, before "
                                   f"{inputs.duration_s:g} s"]
    stop = end if complete else float(strikes[-1])
    turns, source = _turns(recording, events, params)
    turns = [tn for tn in turns if start < tn.mid_s <= stop]
    quality = {**quality, "turns_from": source}
    if not turns:
        reasons.append("no turn was found, so no length is known: "
                       + ("mark each lap" if source != "gyroscope" else "was the course walked back and forth?"))
        return {"complete": False, "reasons": reasons, "events": {"walk_start_s": start},
                "measures": {"walking_time_s": stop - start}, "quality": quality}
    mids = np.array([tn.mid_s for tn in turns])
    position = _lap_position(strikes, start, mids, inputs.course_m)
    distance = float(position(np.array([stop]))[0])
    # rests: pauses without a step inside the test
    inside = strikes[(strikes >= start) & (strikes <= stop)]
    gaps = np.diff(inside)
    rests = gaps[gaps > params.pause_s]
    minutes = _per_minute(events, strikes, position, start, stop)
    phases = [Phase("standing", _first_time(recording), start, "no steps")]
    previous = start
    for k, tn in enumerate(turns, start=1):
        phases.append(Phase(f"length_{k}", previous, tn.start_s, "gait events"))
        phases.append(Phase(f"turn_{k}", tn.start_s, tn.end_s,
                            "gyroscope heading change" if tn.source == "gyroscope" else "the clinician's lap mark"))
        previous = tn.end_s
    phases.append(Phase(f"length_{len(turns) + 1}", previous, stop, "gait events"))
    cadence = 60.0 * (inside.size - 1) / (inside[-1] - inside[0]) if inside.size > 2 else float("nan")
    measures = {
        # an unfinished test's distance is not a six-minute distance: it gets its own name
        ("distance_m" if complete else "distance_before_stop_m"): distance,
        "lengths_completed": len(turns),
        "course_m": inputs.course_m,
        "walking_time_s": stop - start,
        "mean_speed_m_s": distance / (stop - start) if stop > start else float("nan"),
        "steps": int(inside.size),
        "cadence_steps_per_min": cadence,
        "rests": int(rests.size),
        "rest_s": float(rests.sum()),
    }
    if len(minutes) >= 2:
        first, last = minutes[0], minutes[-1]
        for key in ("speed_m_s", "cadence_steps_per_min"):
            if first[key] and last[key] and first[key] == first[key] and last[key] == last[key]:
                measures[f"{key.replace('_m_s', '').replace('_steps_per_min', '')}_change_pct_first_to_last_minute"] = (
                    100.0 * (last[key] - first[key]) / first[key])
    events_out = {"walk_start_s": start, "test_end_s": stop, "turn_mid_s": [float(v) for v in mids]}
    return {"complete": complete, "reasons": reasons, "phases": phases, "events": events_out,
            "measures": measures, "tables": {"minutes": minutes}, "quality": quality}


def _lap_position(strikes: np.ndarray, start: float, mids: np.ndarray, course_m: float):
    """Position along the course (m) at any time: whole lengths at the turn mids, the rest from the steps."""
    bounds = np.concatenate([[start], mids])
    counts = np.array([np.sum((strikes > a) & (strikes <= b)) for a, b in zip(bounds[:-1], bounds[1:])], float)
    per_length = float(np.median(counts[1:])) if counts.size > 1 else float(counts[0])
    per_length = max(per_length, 1.0)

    def position(times: np.ndarray) -> np.ndarray:
        out = np.zeros(times.size)
        for i, t in enumerate(times):
            done = int(np.sum(mids <= t))
            since = mids[done - 1] if done else start
            steps = strikes[(strikes > since) & (strikes <= t)]
            upcoming = strikes[strikes > t]
            fraction_step = 0.0
            if steps.size and upcoming.size and upcoming[0] - steps[-1] < 2.0:
                fraction_step = (t - steps[-1]) / (upcoming[0] - steps[-1])
            out[i] = course_m * (done + min((steps.size + fraction_step) / per_length, 1.0))
        return out

    return position


def _per_minute(events: GaitEvents, strikes: np.ndarray, position, start: float, stop: float) -> list[dict[str, Any]]:
    """Cadence, speed and stance-time symmetry in each whole or part minute of the test."""
    steps = {side: events.analysis.steps[side] for side in ("left", "right")}
    rows = []
    edges = np.arange(start, stop + 1e-9, 60.0)
    if edges[-1] < stop - 1.0:
        edges = np.append(edges, stop)
    at = position(edges)
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:]), start=1):
        inside = strikes[(strikes >= a) & (strikes < b)]
        stance = {}
        for side in ("left", "right"):
            table = steps[side]
            pick = (table["heel_strike_s"] >= a) & (table["heel_strike_s"] < b) & (table["kind"] == "walking")
            stance[side] = float(table.loc[pick, "stance_time_s"].mean()) if pick.any() else float("nan")
        mean = 0.5 * (stance["left"] + stance["right"])
        rows.append({
            "minute": k, "start_s": float(a), "end_s": float(b),
            "distance_m": float(at[k] - at[k - 1]),
            "speed_m_s": float((at[k] - at[k - 1]) / (b - a)),
            "steps": int(inside.size),
            "cadence_steps_per_min": 60.0 * (inside.size - 1) / (inside[-1] - inside[0]) if inside.size > 2 else None,
            "stance_time_left_s": stance["left"], "stance_time_right_s": stance["right"],
            "stance_time_si_pct": 100.0 * (stance["right"] - stance["left"]) / mean if mean > 0 else None,
        })
    return rows


# ---------------------------------------------------------------- standing balance


def _balance(recording: Recording, inputs: TestInputs, params: ClinicParams) -> dict[str, Any]:
    windows, found_by = _balance_windows(recording, inputs)
    if not windows:
        return {"complete": False, "reasons": ["no eyes-open/eyes-closed phase marks and no quiet standing found"],
                "measures": {}}
    feet = _balance_feet(recording, params)
    reasons = []
    rows = []
    phases = []
    for name, a, b in windows:
        phases.append(Phase(name, a, b, found_by))
        row = _sway(feet, a, b, inputs, params)
        row["condition"] = name
        rows.append(row)
        if b - a < inputs.condition_s - 0.5:
            reasons.append(f"{name.replace('_', ' ')} lasted {b - a:.1f} s, less than {inputs.condition_s:g} s")
        if row["stepped_at_s"] is not None:
            reasons.append(f"a foot came off the ground during {name.replace('_', ' ')} at {row['stepped_at_s']:.1f} s")
    names = [r["condition"] for r in rows]
    if found_by != "quiet standing (no phase marks)" and names != ["eyes_open", "eyes_closed"]:
        reasons.append("the eyes-closed period is missing")
    measures: dict[str, Any] = {}
    weight = np.array([r["duration_s"] for r in rows])
    for key in ("left_load_pct", "rearfoot_load_pct", "forefoot_load_pct", "left_rearfoot_load_pct",
                "right_rearfoot_load_pct"):
        measures[key] = float(np.average([r[key] for r in rows], weights=weight))
    for row in rows:
        for key in ("path_length_mm", "ellipse_area_mm2", "mean_velocity_mm_s", "rms_ml_mm", "rms_ap_mm"):
            measures[f"{row['condition']}_{key}"] = row[key]
    by_name = {r["condition"]: r for r in rows}
    if "eyes_open" in by_name and "eyes_closed" in by_name:
        eo, ec = by_name["eyes_open"], by_name["eyes_closed"]
        measures["romberg_quotient_area"] = ec["ellipse_area_mm2"] / eo["ellipse_area_mm2"]
        measures["romberg_quotient_path"] = ec["path_length_mm"] / eo["path_length_mm"]
    measures["ellipse_area_mm2"] = rows[0]["ellipse_area_mm2"]
    quality = {"cop_lowpass_hz": params.cop_lowpass_hz, "stance_width_mm": inputs.stance_width_mm,
               "stance_geometry": "feet parallel, heels level, centre lines the stance width apart (assumed)"}
    return {"complete": not reasons, "reasons": reasons, "phases": phases, "measures": measures,
            "tables": {"conditions": rows}, "quality": quality,
            "events": {f"{n}_start_s": a for n, a, _ in windows} | {"end_s": windows[-1][2]}}


def _balance_windows(recording: Recording, inputs: TestInputs) -> tuple[list[tuple[str, float, float]], str]:
    marks = sorted((m for m in recording.marks if m.label in ("eyes_open", "eyes_closed", "end")),
                   key=lambda m: m.time_s)
    t_last = _first_time(recording) + recording.duration_s
    windows = []
    for k, mark in enumerate(marks):
        if mark.label == "end":
            continue
        end = marks[k + 1].time_s if k + 1 < len(marks) else t_last
        windows.append((mark.label, mark.time_s, min(end, mark.time_s + inputs.condition_s, t_last)))
    if windows:
        return windows, "the guided capture's phase marks"
    return [], "quiet standing (no phase marks)"


@dataclass(eq=False)
class _FootCop:
    time_s: np.ndarray
    force: np.ndarray
    x_mm: np.ndarray  # heel to toe
    y_mm: np.ndarray  # positive medial
    rear: np.ndarray  # rearfoot load
    front: np.ndarray  # forefoot and toes


def _balance_feet(recording: Recording, params: ClinicParams) -> dict[str, _FootCop]:
    out = {}
    analysis_params = AnalysisParams(zero_offset=False)
    layout = recording.layout
    for side in ("left", "right"):
        foot = finish_loads(prepare_foot(recording, side, analysis_params))
        loads = foot.positive_load_t
        assert loads is not None  # finish_loads clips the per-sensor loads, which sets them
        x, y = cop_path(loads, layout, foot.force, 0.0)
        rear = loads[layout.region_mask("rearfoot") & foot.sensor_used].sum(axis=0)
        front = loads[layout.region_mask("front") & foot.sensor_used].sum(axis=0)
        whole = loads[foot.sensor_used].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):  # unloaded samples have no shares
            scale = np.where(whole > 0, foot.force / whole, np.nan)  # shares in force units, whatever the load unit
        out[side] = _FootCop(foot.time_s, foot.force, x, y, rear * scale, front * scale)
    return out


def _sway(feet: Mapping[str, _FootCop], a: float, b: float, inputs: TestInputs, params: ClinicParams) -> dict[str, Any]:
    left, right = feet["left"], feet["right"]
    t = left.time_s
    inside = (t >= a) & (t <= b)
    on_right = lambda v: np.interp(t[inside], right.time_s, v)  # noqa: E731 - the right foot on the left clock
    fl, fr = left.force[inside], on_right(right.force)
    half = 0.5 * inputs.stance_width_mm
    # combined frame: ml positive to the patient's left, ap heel to toe; foot y is positive medial
    ml = (fl * (half - left.y_mm[inside]) + fr * (-half + on_right(right.y_mm))) / (fl + fr)
    ap = (fl * left.x_mm[inside] + fr * on_right(right.x_mm)) / (fl + fr)
    ok = np.isfinite(ml) & np.isfinite(ap)
    fs = 1.0 / float(np.median(np.diff(t)))
    ml_f, ap_f = ml[ok], ap[ok]
    if ok.sum() > 30 and params.cop_lowpass_hz < 0.45 * fs:
        sos = butter_lowpass_sos(4, params.cop_lowpass_hz, fs)
        ml_f, ap_f = zero_phase(sos, ml_f), zero_phase(sos, ap_f)
    path = float(np.sum(np.hypot(np.diff(ml_f), np.diff(ap_f))))
    cov = np.cov(np.vstack([ml_f, ap_f]))
    area = float(np.pi * _CHI2_95_2DOF * np.sqrt(max(np.linalg.det(cov), 0.0)))
    duration = float(b - a)
    total = fl + fr
    left_pct = 100.0 * float(np.nanmean(fl) / np.nanmean(total))
    rear = {s: feet[s].rear for s in ("left", "right")}
    front = {s: feet[s].front for s in ("left", "right")}
    rear_l, rear_r = np.nanmean(rear["left"][inside]), np.nanmean(on_right(rear["right"]))
    front_l, front_r = np.nanmean(front["left"][inside]), np.nanmean(on_right(front["right"]))
    stepped = None
    for force in (fl, fr):
        low = force < params.step_off_fraction * np.nanmedian(force)
        if low.any():
            first_low_s = float(t[inside][np.argmax(low)])
            stepped = first_low_s if stepped is None else min(stepped, first_low_s)
    return {
        "start_s": float(a), "end_s": float(b), "duration_s": duration,
        "left_load_pct": left_pct, "right_load_pct": 100.0 - left_pct,
        "left_rearfoot_load_pct": 100.0 * rear_l / np.nanmean(fl),
        "right_rearfoot_load_pct": 100.0 * rear_r / np.nanmean(fr),
        "rearfoot_load_pct": 100.0 * (rear_l + rear_r) / np.nanmean(total),
        "forefoot_load_pct": 100.0 * (front_l + front_r) / np.nanmean(total),
        "path_length_mm": path,
        "mean_velocity_mm_s": path / duration if duration > 0 else float("nan"),
        "ellipse_area_mm2": area,
        "rms_ml_mm": float(np.std(ml_f)), "rms_ap_mm": float(np.std(ap_f)),
        "range_ml_mm": float(np.ptp(ml_f)), "range_ap_mm": float(np.ptp(ap_f)),
        "samples": int(ok.sum()), "stepped_at_s": stepped,
    }


# ---------------------------------------------------------------- one patient over time

MAIN_MEASURES = {
    "10mwt": ("gait_speed_m_s", "m/s"),
    "6mwt": ("distance_m", "m"),
    "tug": ("total_time_s", "s"),
    "balance": ("eyes_open_ellipse_area_mm2", "mm2"),
}


def compare_over_time(saved: list[tuple[str | None, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Repeated tests of one patient: ``(recorded_at, meta.extra["clinic_test"])`` pairs -> one row per test.

    Rows are in time order (ISO dates sort as text; undated tests last). Each
    row gives the test's main measure and its change from the first and from
    the previous *complete* test of the same kind (and, for the 10-metre walk,
    the same pace). Incomplete tests are listed with their reasons and no
    change: an unfinished test is not a slower one.
    """
    rows = []
    ordered = sorted(saved, key=lambda pair: (pair[0] is None, pair[0] or ""))
    first: dict[tuple, float] = {}
    previous: dict[tuple, float] = {}
    for recorded_at, result in ordered:
        test = result["test"]
        key, unit = MAIN_MEASURES[test]
        group = (test, result.get("inputs", {}).get("pace") if test == "10mwt" else None)
        value = result.get("measures", {}).get(key)
        row: dict[str, Any] = {"recorded_at": recorded_at, "test": test, "pace": group[1], "status": result["status"],
                               "measure": key, "unit": unit, "value": value if result["complete"] else None,
                               "reasons": list(result.get("reasons", []))}
        if result["complete"] and value is not None:
            if group in first:
                row["change_from_first"] = value - first[group]
                row["change_from_first_pct"] = 100.0 * (value - first[group]) / first[group]
                row["change_from_previous"] = value - previous[group]
            else:
                first[group] = value
            previous[group] = value
        rows.append(row)
    return rows


# ---------------------------------------------------------------- helpers


def _first_time(recording: Recording) -> float:
    return float(min(recording.samples(s).time_s[0] for s in recording.sides))


def _event_quality(events: GaitEvents) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for side in ("left", "right"):
        quality = events.analysis.quality[side]
        out[f"{side}_valid_fraction"] = quality.get("valid_fraction")
        contacts = events.analysis.events[side]
        conf = np.concatenate([contacts.heel_strike_confidence, contacts.toe_off_confidence])
        out[f"{side}_event_confidence_min"] = float(np.nanmin(conf)) if conf.size and np.isfinite(conf).any() else None
    return out


def _num(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    return value



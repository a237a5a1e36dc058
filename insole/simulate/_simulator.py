"""Gait simulator: two-foot walking for any layout, with its right answer stored alongside.

``simulate(SimulationParams(...))`` returns a ``Recording`` whose
``reference_events`` hold the heel strikes and toe offs the generator placed
and whose ``meta.extra["simulation"]`` holds everything else that is known
about it: parameters, per-step force-curve values, stride timing, regional
load shares, COP offset, segments (standing, walking, turns). What each stored
value means, and whether it is a parameter or was computed from the generated
signal, is in ``docs/simulator.md``.

Same parameters and seed give the same samples (and the same Parquet bytes):
all randomness comes from one ``numpy.random.default_rng(seed)`` drawn in a
fixed order, and nothing reads the clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from insole._layout import REGION_GROUPS, REGIONS, SensorLayout, get_layout
from insole._recording import FootSamples, Recording, RecordingMeta, ReferenceEvents, regular_time_axis
from insole._version import __version__
from insole.simulate._gait import (
    Activity,
    Contact,
    FootProfile,
    Timeline,
    apply_pattern,
    build_script,
    build_timeline,
    coarse_weights,
    m_curve,
    region_gains,
    region_matrix,
    script_duration_s,
    stand_regions,
    step_regions,
    subject_profiles,
    transient,
    validate_script,
)
from insole.simulate._patterns import PATTERN_DESCRIPTIONS, PATTERNS

__all__ = [
    "SimulationParams",
    "simulate",
    "sample_source",
    "PATTERNS",
    "PATTERN_DESCRIPTIONS",
    "SIMULATOR_SOURCE",
    "Activity",
]

SIMULATOR_SOURCE = "insole simulator"
GRAVITY_M_S2 = 9.80665
# Patterns that describe timing of the whole body rather than one foot.
_WHOLE_BODY_PATTERNS = ("normal", "irregular")
_TRUTH_GRID_S = 0.001  # per-step force-curve values are read off the noise-free curve at 1 kHz


@dataclass(frozen=True)
class SimulationParams:
    """What to simulate.

    ``pattern`` one of ``PATTERNS``; ``side`` the affected foot ("left",
    "right" or "both") for the patterns that change one foot (ignored by
    ``normal`` and ``irregular``; ``antalgic`` needs one side). ``duration_s``
    of the whole recording, including ``standing_s`` of quiet standing at the
    start and at the end. ``turns`` 180-degree turns split the walk into
    equal bouts. ``layout`` any built-in layout (``shoe_size_eu`` scales
    insole16/moticon16); values are kPa where the layout has sensor areas,
    N per sensor otherwise. ``sensor_noise_n`` is the SD of white noise per
    sensor (N; converted to kPa with the sensor area); ``residual_load_n`` is a
    constant in-shoe load per foot (N, spread unevenly over the sensors) that
    the insole reads even in swing. ``imu`` adds accelerometer (g) and
    gyroscope (dps) channels (default: for insole16 only). ``subject_variation``
    False gives the textbook subject (no seed-to-seed spread of the subject's
    means; steps still scatter). ``script`` replaces the default script built
    from ``standing_s`` and ``turns`` with your own sequence of ``Activity``
    (stand, walk, turn in any order, and seated, sit_to_stand, stand_to_sit
    for the clinic tests; it must fit in ``duration_s``; a walk given by time
    that is last, or followed only by the final stand or sitting, runs to fill
    it). ``pace`` is the walking speed relative to the subject's comfortable
    speed (stride time / sqrt(pace), stride length x sqrt(pace)); stance
    fraction and force curves stay those of a comfortable speed.
    """

    pattern: str = "normal"
    duration_s: float = 60.0
    seed: int = 0
    side: str = "left"
    body_mass_kg: float = 70.0
    layout: str = "insole16"
    sample_rate_hz: float = 100.0
    standing_s: float = 0.0
    turns: int = 0
    shoe_size_eu: float = 42.0
    sensor_noise_n: float = 0.2
    residual_load_n: float = 0.0
    imu: bool | None = None
    subject_variation: bool = True
    script: tuple[Activity, ...] | None = None
    pace: float = 1.0

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS:
            raise ValueError(f"unknown pattern {self.pattern!r}; choose from {', '.join(PATTERNS)}")
        if self.side not in ("left", "right", "both"):
            raise ValueError(f"side must be left, right or both, not {self.side!r}")
        if self.pattern == "antalgic" and self.side == "both":
            raise ValueError("antalgic gait is one-sided: give --side left or right")
        checks = (
            (self.duration_s > 0, f"duration must be positive, not {self.duration_s}"),
            (0 < self.body_mass_kg < 300, f"body mass {self.body_mass_kg} kg is not plausible"),
            (10 <= self.sample_rate_hz <= 2000, f"sample rate {self.sample_rate_hz} Hz is outside 10-2000 Hz"),
            (self.standing_s >= 0, f"standing time must not be negative, not {self.standing_s}"),
            (self.turns >= 0, f"turns must not be negative, not {self.turns}"),
            (self.sensor_noise_n >= 0, "sensor noise must not be negative"),
            (self.residual_load_n >= 0, "residual load must not be negative"),
            (isinstance(self.seed, int) and self.seed >= 0, f"seed must be a non-negative integer, not {self.seed!r}"),
            (0.4 <= self.pace <= 2.0, f"pace {self.pace:g} is outside 0.4-2 (times the comfortable walking speed)"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        get_layout(self.layout)  # unknown layout -> RecordingError naming the built-ins
        if self.script is not None:
            object.__setattr__(self, "script", tuple(self.script))
            validate_script(self.script)

    @property
    def affected_sides(self) -> tuple[str, ...]:
        """The feet the pattern changes (both for whole-body patterns)."""
        if self.pattern in _WHOLE_BODY_PATTERNS:
            return ("left", "right") if self.pattern != "normal" else ()
        return ("left", "right") if self.side == "both" else (self.side,)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------- public functions


def simulate(params: SimulationParams) -> Recording:
    """Simulate a walk with ``params``; the known answer is in ``reference_events`` and ``meta.extra["simulation"]``."""
    rng = np.random.default_rng(params.seed)
    layout = get_layout(params.layout, shoe_size_eu=params.shoe_size_eu)
    timing, feet = subject_profiles(rng, params.subject_variation)
    affected = params.affected_sides
    timing, feet = apply_pattern(params.pattern, affected, timing, feet)
    if params.pace != 1.0:
        root = float(np.sqrt(params.pace))
        timing = dataclasses.replace(timing, stride_time_s=timing.stride_time_s / root,
                                     stride_length_m=timing.stride_length_m * root)
    if params.script is None:
        script = build_script(params.duration_s, params.standing_s, params.turns, timing.stride_time_s, rng)
    else:
        script = params.script
        needed = script_duration_s(script, timing.stride_time_s, timing.stride_length_m)
        if needed > params.duration_s:
            raise ValueError(
                f"the script takes about {needed:.1f} s, longer than the {params.duration_s:g} s asked for"
            )
    timeline = build_timeline(script, params.duration_s, timing, feet, rng)

    rate = float(params.sample_rate_hz)
    n = int(round(params.duration_s * rate))
    time_s = regular_time_axis(n, rate)
    bw_n = params.body_mass_kg * GRAVITY_M_S2
    matrix = region_matrix(layout)
    sway_lr, sway_ap = _sway(rng, time_s)
    if timeline.sway_schedule:  # e.g. eyes closed: more sway from a given time
        scale = np.ones(n)
        for start, factor in timeline.sway_schedule:
            scale[time_s >= start] = factor
        sway_lr, sway_ap = sway_lr * scale, sway_ap * scale
    unit = "kPa" if layout.areas_known else "N"
    with_imu = params.imu if params.imu is not None else layout.name == "insole16"

    clean_n: dict[str, np.ndarray] = {}
    feet_samples: dict[str, FootSamples] = {}
    residual: dict[str, np.ndarray] = {}
    for side in ("left", "right"):
        fine_bw = np.zeros((n, len(REGIONS)))
        sway = sway_lr if side == "left" else -sway_lr
        for contact in timeline.contacts[side]:
            a, b = np.searchsorted(time_s, [contact.start_s, contact.end_s], side="left")
            if b <= a:
                continue
            t = time_s[a:b]
            if contact.kind == "step":
                coarse = step_regions(t - contact.start_s, contact.end_s - contact.start_s, contact.step_shape(),
                                      region_gains(contact.step_profile()))
                fine_bw[a:b] += coarse @ contact.step_shape().fine_split()
            else:
                coarse = stand_regions(t, contact, sway_ap[a:b]) * (1.0 + sway[a:b, None])
                fine_bw[a:b] += coarse @ feet[side].fine_split()
        clean = fine_bw @ matrix * bw_n
        clean_n[side] = clean
        residual[side] = _residual_offsets(rng, layout, params.residual_load_n)
        noisy = clean + residual[side] + rng.normal(0.0, params.sensor_noise_n, clean.shape)
        values = np.clip(noisy, 0.0, None)  # a force sensor never reads below zero
        if unit == "kPa":
            values = values / layout.area_mm2 * 1000.0  # N/mm^2 -> kPa
        accel = gyro = None
        if with_imu:
            accel, gyro = _imu(time_s, timeline, side, rng)
        feet_samples[side] = FootSamples(time_s=time_s, values=values, valid=np.ones(n, bool),
                                         accel_g=accel, gyro_dps=gyro)

    truth = _truth(params, layout, timing, feet, timeline, time_s, clean_n, bw_n, residual, script)
    events = _reference_events(timeline, params.duration_s)
    meta = RecordingMeta(
        # the simulated person is the seed (``subject_profiles`` draws them first); the pattern is what they do, so
        # walks of one seed with different patterns are the same person (a baseline of one judges the other)
        subject_id=f"sim-{params.seed}",
        body_mass_kg=params.body_mass_kg,
        shoe_size_eu=params.shoe_size_eu if layout.shoe_size_eu is not None else None,
        condition=f"simulated {params.pattern}",
        notes=(f"Simulated by insole {__version__}: {PATTERN_DESCRIPTIONS[params.pattern]}"
               + (f" (affected: {', '.join(affected)})" if affected else "")),
        devices={s: {"name": "simulated insole", "serial": f"SIM-{s[0].upper()}", "firmware": "simulator"}
                 for s in ("left", "right")},
        software={"name": "insole simulate", "version": __version__},
        source={"kind": "simulation", "generator": SIMULATOR_SOURCE, "pattern": params.pattern,
                "seed": params.seed},
        extra={"simulation": truth},
    )
    return Recording(layout=layout, unit=unit, sample_rate_hz=rate, left=feet_samples["left"],
                     right=feet_samples["right"], meta=meta, reference_events=events)


def sample_source(
    recording: Recording, side: str, *, loop: bool = True, imu: bool = False
) -> Callable[[int], np.ndarray]:
    """A ``source(n)`` callable giving the next ``n`` samples of one foot, for the emulated insole firmware.

    Each call returns a float64 array of shape ``(n, 16)``: kPa per sensor in
    ``insole16`` order (with ``imu=True``, ``(n, 22)``: then accel x, y, z in g
    and gyro x, y, z in dps). With ``loop`` the recording repeats from its
    start; without, the source returns fewer rows near the end and ``(0, k)``
    once exhausted. Invalid samples come out as NaN, as stored.
    """
    if recording.layout.name != "insole16" or recording.unit != "kPa":
        raise ValueError(
            f"sample_source needs an insole16 recording in kPa, not {recording.layout.name} in {recording.unit}"
        )
    foot = recording.foot(side)
    if foot is None or foot.n_samples == 0:
        raise ValueError(f"the recording has no {side} foot samples")
    data = foot.values.astype(np.float64)
    if imu:
        if foot.accel_g is None or foot.gyro_dps is None:
            raise ValueError(f"the {side} foot has no IMU channels")
        data = np.hstack([data, foot.accel_g.astype(np.float64), foot.gyro_dps.astype(np.float64)])
    total = data.shape[0]
    position = 0

    def source(n: int) -> np.ndarray:
        nonlocal position
        if n < 0:
            raise ValueError("n must not be negative")
        if loop:
            rows = (position + np.arange(n)) % total
            position = (position + n) % total
            return data[rows]
        rows = data[position:position + n]
        position += rows.shape[0]
        return rows.copy()

    return source


# ---------------------------------------------------------------- signal parts


def _sway(rng: np.random.Generator, time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Postural sway while standing: left-right (fraction of a foot's load) and anterior-posterior (blend units).

    A few slow sinusoids (0.1-0.7 Hz, random phases): quiet-standing sway lives there.
    """
    out = []
    for sd in (0.04, 0.05):
        freqs = rng.uniform(0.1, 0.7, 4)
        phases = rng.uniform(0.0, 2 * np.pi, 4)
        wave = np.sin(2 * np.pi * freqs[None, :] * time_s[:, None] + phases[None, :]).sum(axis=1)
        out.append(sd * wave / np.sqrt(2.0))  # sum of 4 unit sines has SD sqrt(2)
    return out[0], out[1]


def _residual_offsets(rng: np.random.Generator, layout: SensorLayout, total_n: float) -> np.ndarray:
    """Per-sensor constant in-shoe load (N) summing to ``total_n``; uneven, as lacing and fit make it."""
    weights = rng.uniform(0.3, 1.7, layout.n_sensors)
    return total_n * weights / weights.sum()


def _swing_pairs(contacts: list[Contact]) -> list[tuple[Contact, Contact]]:
    return [(a, b) for a, b in zip(contacts[:-1], contacts[1:])]


def _imu(time_s: np.ndarray, timeline: Timeline, side: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Foot-mounted IMU (x forward, y left, z up; same physical axes on both feet).

    Foot pitch follows stance (heel strike +20 deg toes up, flat, heel rise to
    -40 deg at toe off) and swing (back to toes up); accelerometer = specific
    force (gravity + minimum-jerk swing acceleration) in the tilted foot frame
    plus a heel-strike impact; gyro y = -pitch rate (positive = toes down),
    gyro z = yaw rate during turns (positive = turning left).
    """
    contacts = timeline.contacts[side]
    knots: list[tuple[float, float]] = []
    for c in contacts:
        duration = c.end_s - c.start_s
        strike = c.starts_with_strike
        flat = c.start_s + (min(0.12 * duration, 0.1) if strike else 0.05)
        heel_off = c.start_s + 0.55 * duration if c.kind == "step" else c.end_s - 0.3
        knots += [(c.start_s, 20.0 if strike else 0.0), (flat, 0.0), (max(heel_off, flat + 0.01), 0.0),
                  (c.end_s, -40.0 if c.ends_with_toe_off else 0.0)]
    for a, b in _swing_pairs(contacts):
        swing = b.start_s - a.end_s
        knots += [(a.end_s + 0.5 * swing, 0.0), (a.end_s + 0.85 * swing, 25.0)]
    knots.sort()
    kt, kv = (np.asarray(v) for v in zip(*knots))
    from scipy.interpolate import PchipInterpolator  # here: the pattern names (`--help`) need no scipy
    pitch = PchipInterpolator(kt, kv, extrapolate=True)
    theta = np.deg2rad(pitch(time_s))
    pitch_rate = pitch.derivative()(time_s)

    n = time_s.size
    lin = np.zeros((n, 2))  # world-frame forward and vertical acceleration, m/s^2
    for a, b in _swing_pairs(contacts):
        i, j = np.searchsorted(time_s, [a.end_s, b.start_s])
        if j <= i:
            continue
        swing = b.start_s - a.end_s
        tau = (time_s[i:j] - a.end_s) / swing
        lin[i:j, 0] = b.swing_length_m / swing**2 * (60 * tau - 180 * tau**2 + 120 * tau**3)
        lin[i:j, 1] = 0.10 / swing**2 * 2 * np.pi**2 * np.cos(2 * np.pi * tau)
    fx = lin[:, 0] / GRAVITY_M_S2
    fz = lin[:, 1] / GRAVITY_M_S2 + 1.0
    accel = np.zeros((n, 3))
    accel[:, 0] = fx * np.cos(theta) + fz * np.sin(theta)
    accel[:, 2] = -fx * np.sin(theta) + fz * np.cos(theta)
    for c in contacts:
        if c.kind == "step":
            i, j = np.searchsorted(time_s, [c.start_s, c.start_s + 0.08])
            step = c.step_shape()
            shape = dataclasses.replace(step, transient_bw=1.0 + 8.0 * step.transient_bw, transient_s=0.010)
            accel[i:j, 2] += transient(time_s[i:j] - c.start_s, shape)

    gyro = np.zeros((n, 3))
    gyro[:, 1] = -pitch_rate
    for turn in timeline.turn_yaw:
        for swing in turn["swings"]:
            if swing["side"] != side:
                continue
            i, j = np.searchsorted(time_s, [swing["start_s"], swing["end_s"]])
            duration = swing["end_s"] - swing["start_s"]
            tau = (time_s[i:j] - swing["start_s"]) / duration
            gyro[i:j, 2] += swing["yaw_deg"] / (0.5 * duration) * np.sin(np.pi * tau) ** 2
    accel += rng.normal(0.0, 0.01, accel.shape)
    gyro += rng.normal(0.0, 0.5, gyro.shape)
    return accel, gyro


def _reference_events(timeline: Timeline, duration_s: float) -> ReferenceEvents:
    strikes, offs = {}, {}
    for side, contacts in timeline.contacts.items():
        strikes[side] = tuple(
            float(c.start_s) for c in contacts if c.starts_with_strike and 0.0 <= c.start_s < duration_s
        )
        offs[side] = tuple(float(c.end_s) for c in contacts if c.ends_with_toe_off and 0.0 <= c.end_s < duration_s)
    return ReferenceEvents(
        source=SIMULATOR_SOURCE,
        heel_strike_s=strikes,
        toe_off_s=offs,
        extra={"definition": "times the generator placed each contact's start (heel strike) and end (toe off); "
                             "the force is exactly zero outside contacts, before noise and residual load"},
    )


# ---------------------------------------------------------------- the known answer


def _step_curve_truth(c: Contact) -> dict[str, float]:
    """First peak, valley, second peak, loading rate and impulse of one step, in BW, from its noise-free curve."""
    stance = c.end_s - c.start_s
    t = np.arange(0.0, stance, _TRUTH_GRID_S)
    u = t / stance
    shape = c.step_shape()
    force = m_curve(u, shape) + transient(t, shape)
    first = u < shape.valley_at
    i1 = int(np.argmax(np.where(first, force, -np.inf)))
    i2 = int(np.argmax(np.where(~first, force, -np.inf)))
    iv = i1 + int(np.argmin(force[i1:i2 + 1]))
    slope = np.diff(force[: i1 + 1]) / _TRUTH_GRID_S
    return {
        "f1_bw": float(force[i1]),
        "f1_at_pct_stance": float(100 * u[i1]),
        "valley_bw": float(force[iv]),
        "valley_at_pct_stance": float(100 * u[iv]),
        "f2_bw": float(force[i2]),
        "f2_at_pct_stance": float(100 * u[i2]),
        "loading_rate_bw_s": float(force[i1] / t[i1]),
        "max_loading_rate_bw_s": float(slope.max()) if slope.size else 0.0,
        "transient_bw": float(shape.transient_bw),
        "impulse_bw_s": float(np.trapezoid(force, dx=_TRUTH_GRID_S) + force[-1] * (stance - t[-1]) / 2),
    }


def _complete_steps(contacts: list[Contact], duration_s: float) -> list[int]:
    return [k for k, c in enumerate(contacts) if c.kind == "step" and c.start_s >= 0.0 and c.end_s < duration_s]


def _round(value: float, digits: int = 6) -> float:
    return float(round(value, digits))


def _truth(params: SimulationParams, layout: SensorLayout, timing: Any, feet: Mapping[str, FootProfile],
           timeline: Timeline, time_s: np.ndarray, clean_n: Mapping[str, np.ndarray], bw_n: float,
           residual: Mapping[str, np.ndarray], script: tuple[Activity, ...]) -> dict[str, Any]:
    duration = params.duration_s
    steps: dict[str, list] = {key: [] for key in (
        "side", "segment", "heel_strike_s", "toe_off_s", "stance_s", "swing_s", "stride_s", "stance_pct_stride",
        "f1_n", "f1_bw", "f1_at_pct_stance", "valley_n", "valley_bw", "valley_at_pct_stance", "f2_n", "f2_bw",
        "f2_at_pct_stance", "loading_rate_bw_s", "max_loading_rate_bw_s", "transient_bw", "impulse_n_s",
        "impulse_bw_s")}
    per_foot: dict[str, dict[str, Any]] = {}
    strikes_by_side = {s: np.array([c.start_s for c in timeline.contacts[s] if c.starts_with_strike])
                       for s in ("left", "right")}
    offs_by_side = {s: np.array([c.end_s for c in timeline.contacts[s] if c.ends_with_toe_off])
                    for s in ("left", "right")}
    for side in ("left", "right"):
        other = "right" if side == "left" else "left"
        contacts = timeline.contacts[side]
        complete = _complete_steps(contacts, duration)
        stride_walk, stance_walk, ds_walk, stance_pct = [], [], [], []
        in_steps = np.zeros(time_s.size, bool)
        for k in complete:
            c = contacts[k]
            after = contacts[k + 1] if k + 1 < len(contacts) else None
            # the next contact when it starts with a strike inside the recording (it closes the stride)
            nxt = after if after is not None and after.starts_with_strike and after.start_s < duration else None
            stance = c.end_s - c.start_s
            stride = nxt.start_s - c.start_s if nxt is not None else None
            curve = _step_curve_truth(c)
            steps["side"].append(side)
            steps["segment"].append(c.segment)
            steps["heel_strike_s"].append(float(c.start_s))
            steps["toe_off_s"].append(float(c.end_s))
            steps["stance_s"].append(_round(stance))
            steps["swing_s"].append(_round(nxt.start_s - c.end_s) if nxt is not None else None)
            steps["stride_s"].append(_round(stride) if stride else None)
            steps["stance_pct_stride"].append(_round(100 * stance / stride, 4) if stride else None)
            for key in ("f1", "valley", "f2"):
                steps[f"{key}_bw"].append(_round(curve[f"{key}_bw"]))
                steps[f"{key}_n"].append(_round(curve[f"{key}_bw"] * bw_n, 3))
                steps[f"{key}_at_pct_stance"].append(_round(curve[f"{key}_at_pct_stance"], 3))
            for key in ("loading_rate_bw_s", "max_loading_rate_bw_s", "transient_bw", "impulse_bw_s"):
                steps[key].append(_round(curve[key]))
            steps["impulse_n_s"].append(_round(curve["impulse_bw_s"] * bw_n, 3))
            a, b = np.searchsorted(time_s, [c.start_s, c.end_s])
            in_steps[a:b] = True
            if c.segment == "walking" and stride and nxt is not None and nxt.segment == "walking":
                stride_walk.append(stride)
                stance_walk.append(stance)
                stance_pct.append(100 * stance / stride)
                # double support: from this strike to the other foot's toe off, and from its strike to our toe off
                other_off = offs_by_side[other]
                other_on = strikes_by_side[other]
                first_off = (
                    other_off[np.searchsorted(other_off, c.start_s)]
                    if other_off.size and other_off[-1] >= c.start_s
                    else c.start_s
                )
                on_idx = np.searchsorted(other_on, c.start_s, side="right")
                other_strike = other_on[on_idx] if on_idx < other_on.size else c.end_s
                ds = max(first_off - c.start_s, 0.0) + max(c.end_s - other_strike, 0.0)
                ds_walk.append(100 * ds / stride)
        force = clean_n[side]
        step_force = force[in_steps]
        total = step_force.sum()
        shares = {}
        for group in (*REGION_GROUPS, *REGIONS, "whole_foot"):
            mask = layout.region_mask(group)
            if mask.any() and total > 0:
                shares[group] = _round(float(step_force[:, mask].sum() / total))
        loaded = step_force.sum(axis=1)
        cop_y = float((step_force @ layout.y_mm).sum() / loaded.sum()) if total > 0 else None
        stride_arr = np.asarray(stride_walk)
        per_foot[side] = {
            "n_steps": len(complete),
            "n_walking_strides": int(stride_arr.size),
            "stride_time_mean_s": _round(float(stride_arr.mean())) if stride_arr.size else None,
            "stride_time_sd_s": _round(float(stride_arr.std(ddof=1))) if stride_arr.size > 1 else None,
            "stride_time_cv_pct": _round(float(100 * stride_arr.std(ddof=1) / stride_arr.mean()), 4)
            if stride_arr.size > 1
            else None,
            "stance_time_mean_s": _round(float(np.mean(stance_walk))) if stance_walk else None,
            "stance_pct_stride_mean": _round(float(np.mean(stance_pct)), 4) if stance_pct else None,
            "double_support_pct_stride_mean": _round(float(np.mean(ds_walk)), 4) if ds_walk else None,
            "regional_load_shares": shares,
            "cop_ml_offset_mm": _round(cop_y, 3) if cop_y is not None else None,
            "cop_path_mm": _cop_path(feet[side], layout),
            "residual_load_n_per_sensor": [_round(float(v), 4) for v in residual[side]],
        }
        for key in ("f1_bw", "valley_bw", "f2_bw", "loading_rate_bw_s", "impulse_bw_s", "stance_s"):
            values = [v for v, s, g in zip(steps[key], steps["side"], steps["segment"]) if s == side and g == "walking"]
            per_foot[side][f"{key.removesuffix('_s') if key == 'stance_s' else key}_mean"] = (
                _round(float(np.mean(values))) if values else None)
    walking_strides = [
        s for side in per_foot.values() if side["stride_time_mean_s"] for s in [side["stride_time_mean_s"]]
    ]
    cadence = 120.0 / float(np.mean(walking_strides)) if walking_strides else None
    segments = []
    for seg in timeline.segments:
        entry = {k: (_round(v) if isinstance(v, float) else v) for k, v in seg.items()}
        entry["start_s"] = _round(max(seg["start_s"], 0.0))
        entry["end_s"] = _round(min(seg["end_s"], duration))
        if seg["kind"] == "standing":
            a, b = np.searchsorted(time_s, [entry["start_s"], entry["end_s"]])
            left, right = clean_n["left"][a:b].sum(), clean_n["right"][a:b].sum()
            both = np.vstack([clean_n["left"][a:b], clean_n["right"][a:b]])
            rear = both[:, layout.region_mask("rearfoot")].sum() / both.sum() if both.sum() > 0 else None
            entry["left_share_of_load"] = _round(float(left / (left + right))) if left + right > 0 else None
            entry["rearfoot_share_of_load"] = _round(float(rear)) if rear is not None else None
        segments.append(entry)
    return {
        "generator": SIMULATOR_SOURCE,
        "version": __version__,
        "pattern": params.pattern,
        "pattern_description": PATTERN_DESCRIPTIONS[params.pattern],
        "affected_sides": list(params.affected_sides),
        "seed": params.seed,
        "params": params.to_dict(),
        "body_weight_n": _round(bw_n, 4),
        "lead_foot": timeline.lead,
        "script": [a.to_dict() for a in script],
        "gait_parameters": timing.to_dict(),
        "foot_parameters": {side: feet[side].to_dict() for side in ("left", "right")},
        "cadence_steps_per_min": _round(cadence, 4) if cadence else None,
        "feet": per_foot,
        "steps": steps,
        "segments": segments,
        "provenance": _PROVENANCE,
    }


def _cop_path(profile: FootProfile, layout: SensorLayout) -> dict[str, list[float | None]]:
    """COP of the profile's mean step (noise-free, no transient) at 0, 5, ..., 100 % stance, mm in the foot frame."""
    u = np.linspace(0.0, 1.0, 21)
    weights = coarse_weights(u, profile, region_gains(profile)).T * m_curve(u, profile)[:, None]
    sensors = weights @ profile.fine_split() @ region_matrix(layout)
    load = sensors.sum(axis=1)
    safe = np.where(load > 0, load, 1.0)
    x = np.where(load > 0, sensors @ layout.x_mm / safe, np.nan)
    y = np.where(load > 0, sensors @ layout.y_mm / safe, np.nan)
    return {
        "pct_stance": [float(v) for v in 100 * u],
        "x_mm": [None if not np.isfinite(v) else _round(float(v), 3) for v in x],
        "y_mm": [None if not np.isfinite(v) else _round(float(v), 3) for v in y],
    }


_PROVENANCE = {
    "parameters": [
        "params", "gait_parameters", "foot_parameters", "script", "lead_foot", "steps.heel_strike_s",
        "steps.toe_off_s", "steps.transient_bw", "reference_events",
    ],
    "arithmetic_on_placed_events": [
        "steps.stance_s", "steps.swing_s", "steps.stride_s", "steps.stance_pct_stride", "feet.*.stride_time_*",
        "feet.*.stance_*", "feet.*.double_support_pct_stride_mean", "cadence_steps_per_min", "segments.*.start_s",
        "segments.*.end_s",
    ],
    "computed_from_noise_free_curve_1khz": [
        "steps.f1_*", "steps.valley_*", "steps.f2_*", "steps.loading_rate_bw_s", "steps.max_loading_rate_bw_s",
        "steps.impulse_*",
    ],
    "computed_from_noise_free_samples": [
        "feet.*.regional_load_shares (sensor force summed over the samples of complete steps)",
        "feet.*.cop_ml_offset_mm (force-weighted sensor y over the same samples; + medial)",
        "segments.*.left_share_of_load", "segments.*.rearfoot_share_of_load",
    ],
    "computed_from_profile": ["feet.*.cop_path_mm (mean step of the foot's profile)"],
    "not_included_in_answers": "sensor noise, residual in-shoe load, IMU noise",
}

"""Phases of a clinic test from the insoles: loading pattern, gait events and the gyroscope.

The signals, all on whole arrays:

* **Load** (``foot_loads``): each foot's vertical force (N, or arbitrary
  units), both feet on the left foot's time axis, and the *standing level*:
  the median of the summed load while both feet carry at least a quarter of
  their usual peak (standing, double support). Seated feet carry a small share
  of body weight, so the summed load relative to the standing level tells
  sitting (well below 0.5) from standing and walking (about 1).
* **Transitions** (``rise``, ``sit_down``): rising starts where the load
  leaves its seated level and ends where it settles at the standing level
  after the seat-off overshoot; sitting down starts where the load leaves the
  standing level and ends where it reaches the seated level. Each edge is a
  tangent intersection: a line fitted to the samples part of the way through
  the change, extended to the level it leaves (or reaches). A zero-phase
  low-pass does not move such an intersection, and noise barely does.
* **Gait events** (``gait_events``): heel strikes and toe offs of both feet
  from ``insole.analyze`` (its level method on calibrated insoles).
* **Turns** (``turns_from_gyro``): each swing (toe off to heel strike) is
  turning when the foot's heading changes by more than ``turn_min_deg``
  over it (gyroscope axis closest to vertical, as the analysis core finds it);
  overlapping or close turning swings of both feet form one turn, from the
  first turning swing's toe off to the last one's heel strike. Without a
  gyroscope, the clinician's marks stand in (``turns_from_marks``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from insole._recording import Recording
from insole.analysis import STANDARD_GRAVITY_M_S2, Analysis, AnalysisParams, analyze, lowpass_by_segment, prepare_foot

__all__ = [
    "ClinicParams",
    "Loads",
    "GaitEvents",
    "Turn",
    "Transition",
    "foot_loads",
    "gait_events",
    "turns_from_gyro",
    "turns_from_marks",
    "rise",
    "sit_down",
    "walking_bouts",
    "PHASE_MARK_KIND",
]

PHASE_MARK_KIND = "phase"
_TURN_MARK_LABELS = ("turn", "lap", "cone")


@dataclass(frozen=True)
class ClinicParams:
    """How the phases are found (every field with its unit; defaults in ``docs/clinic-tests.md``).

    ``lowpass_hz``: zero-phase low-pass of the summed load for the transitions.
    ``seated_level``: summed load below this fraction of the standing level is sitting.
    ``turn_min_deg``: a swing turning more than this is a turning swing.
    ``turn_gap_s``: turning swings closer than this belong to one turn.
    ``pause_s``: heel strikes further apart than this end a walking bout.
    ``cop_lowpass_hz``: zero-phase low-pass of the centre of pressure for sway.
    ``step_off_fraction``: a foot whose load falls below this fraction of its
    quiet-standing load during a balance condition has stepped.
    """

    lowpass_hz: float = 5.0
    seated_level: float = 0.5
    turn_min_deg: float = 20.0
    turn_gap_s: float = 0.8
    pause_s: float = 1.2
    cop_lowpass_hz: float = 5.0
    step_off_fraction: float = 0.2

    def __post_init__(self) -> None:
        for name in ("lowpass_hz", "turn_min_deg", "turn_gap_s", "pause_s", "cop_lowpass_hz"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, not {value!r}")
        for name in ("seated_level", "step_off_fraction"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ValueError(f"{name} must be a fraction in (0, 1), not {value!r}")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True, eq=False)
class Loads:
    """Both feet's vertical load on one time axis (the left foot's, or the only foot's).

    ``left``/``right`` in ``unit`` (N, or "au"), NaN where a sample is missing;
    ``standing_level``: the summed load of quiet two-footed standing, same unit;
    ``body_weight_n``: mass x g when the mass is known (else NaN).
    """

    time_s: np.ndarray
    left: np.ndarray
    right: np.ndarray
    unit: str
    standing_level: float
    body_weight_n: float
    sample_rate_hz: float

    @property
    def total(self) -> np.ndarray:
        return self.left + self.right

    def relative(self, lowpass_hz: float | None = None) -> np.ndarray:
        """Summed load / standing level, optionally low-passed (NaN where missing)."""
        total = self.total / self.standing_level
        if lowpass_hz is None:
            return total
        valid = np.isfinite(total)
        return lowpass_by_segment(np.where(valid, total, 0.0), valid, self.sample_rate_hz, lowpass_hz)


def foot_loads(recording: Recording, mass_kg: float | None = None) -> Loads:
    """Each foot's vertical load (the analysis core's sum of pressure x area), on the left foot's clock."""
    if set(recording.sides) != {"left", "right"}:
        raise ValueError("clinic tests need both feet")
    params = AnalysisParams()
    forces = {}
    unit = "N"
    for side in ("left", "right"):
        prepared = prepare_foot(recording, side, params)
        forces[side] = (prepared.time_s, prepared.force)
        unit = "au" if prepared.force_unit == "au" else unit
    time_s = forces["left"][0]
    left = forces["left"][1]
    rt, rf = forces["right"]
    valid = np.isfinite(rf)
    right = np.full(time_s.size, np.nan)
    if valid.sum() >= 2:
        right = np.interp(time_s, rt[valid], rf[valid], left=np.nan, right=np.nan)
        # a sample of the left axis that falls into a gap of the right foot stays missing
        nearest = np.clip(np.searchsorted(rt, time_s), 0, rt.size - 1)
        right[~valid[nearest]] = np.nan
    p95 = [np.nanpercentile(v, 95) if np.isfinite(v).any() else np.nan for v in (left, right)]
    both = (left > 0.25 * p95[0]) & (right > 0.25 * p95[1])
    total = left + right
    level = float(np.nanmedian(total[both])) if both.any() else float(np.nanpercentile(total, 90))
    mass = mass_kg if mass_kg is not None else recording.meta.body_mass_kg
    body_weight = float(mass) * STANDARD_GRAVITY_M_S2 if mass is not None and unit == "N" else float("nan")
    return Loads(time_s, left, right, unit, level, body_weight, float(recording.sample_rate_hz))


@dataclass(frozen=True, eq=False)
class GaitEvents:
    """Heel strikes and toe offs of each foot (s, sorted), and the analysis they come from."""

    heel_strike_s: dict[str, np.ndarray]
    toe_off_s: dict[str, np.ndarray]
    analysis: Analysis

    def strikes(self) -> np.ndarray:
        """All heel strikes of both feet, sorted, as a structured list of (time, side)."""
        rows = [(t, s) for s in ("left", "right") for t in self.heel_strike_s[s]]
        return np.array(sorted(rows), dtype=[("time_s", float), ("side", "U5")])

    def toe_offs(self) -> np.ndarray:
        rows = [(t, s) for s in ("left", "right") for t in self.toe_off_s[s]]
        return np.array(sorted(rows), dtype=[("time_s", float), ("side", "U5")])


def gait_events(recording: Recording, *, zero_offset: bool = True) -> GaitEvents:
    """Heel strikes and toe offs from ``insole.analyze``.

    ``zero_offset=False`` for tests with sitting: the analysis takes the load
    between contacts as the insole's unloaded offset, and sitting would pass
    for a long swing.
    """
    analysis = analyze(recording, AnalysisParams(zero_offset=zero_offset))
    strikes, offs = {}, {}
    for side in ("left", "right"):
        events = analysis.events[side]
        strikes[side] = np.sort(np.asarray(events.heel_strike_s, dtype=float))
        offs[side] = np.sort(np.asarray(events.toe_off_s, dtype=float))
    return GaitEvents(strikes, offs, analysis)


@dataclass(frozen=True)
class Turn:
    """A turn: ``start_s`` (toe off of its first turning swing) to ``end_s`` (heel strike of the last).

    ``angle_deg`` is the mean heading change of the two feet (positive: to the
    left); ``source`` is "gyroscope" or "mark" (a mark has no duration).
    """

    start_s: float
    end_s: float
    angle_deg: float
    source: str

    @property
    def mid_s(self) -> float:
        return 0.5 * (self.start_s + self.end_s)


def _yaw_axis(accel_g: np.ndarray) -> int:
    """The sensor axis carrying gravity (closest to vertical): its gyroscope channel is the heading rate."""
    return int(np.argmax(np.abs(np.nanmean(accel_g, axis=0))))


def turns_from_gyro(recording: Recording, events: GaitEvents, params: ClinicParams) -> list[Turn] | None:
    """Turns from the insoles' gyroscopes (None when the recording has none)."""
    swings = []  # (start, end, side, heading change)
    for side in ("left", "right"):
        foot = recording.foot(side)
        if foot is None or foot.gyro_dps is None or foot.accel_g is None:
            return None
        axis = _yaw_axis(np.asarray(foot.accel_g, dtype=float)[foot.valid])
        rate = np.where(foot.valid, np.nan_to_num(np.asarray(foot.gyro_dps[:, axis], dtype=float)), 0.0)
        heading = np.concatenate([[0.0], np.cumsum(rate) / float(recording.sample_rate_hz)])
        t = foot.time_s
        offs, strikes = events.toe_off_s[side], events.heel_strike_s[side]
        for off in offs:
            later = strikes[strikes > off]
            if later.size == 0:
                continue
            strike = float(later[0])
            i, j = np.searchsorted(t, [off, strike])
            swings.append((float(off), strike, side, float(heading[j] - heading[i])))
    turning = sorted(s for s in swings if abs(s[3]) > params.turn_min_deg)
    turns: list[Turn] = []
    group: list[tuple] = []
    for swing in turning:
        if group and (swing[0] > max(g[1] for g in group) + params.turn_gap_s
                      or np.sign(swing[3]) != np.sign(group[0][3])):
            turns.append(_turn_of(group))
            group = []
        group.append(swing)
    if group:
        turns.append(_turn_of(group))
    return turns


def _turn_of(group: Sequence[tuple]) -> Turn:
    per_side = {side: sum(g[3] for g in group if g[2] == side) for side in ("left", "right")}
    seen = [v for side, v in per_side.items() if any(g[2] == side for g in group)]
    return Turn(min(g[0] for g in group), max(g[1] for g in group), float(np.mean(seen)), "gyroscope")


def turns_from_marks(recording: Recording) -> list[Turn]:
    """The clinician's "turn"/"lap"/"cone" marks as turns without duration."""
    return [Turn(m.time_s, m.time_s, float("nan"), "mark") for m in recording.marks
            if m.label.strip().lower() in _TURN_MARK_LABELS]


@dataclass(frozen=True)
class Transition:
    """A sit-to-stand or stand-to-sit: ``start_s`` to ``end_s``, the load levels it joins (relative to standing)."""

    start_s: float
    end_s: float
    level_before: float
    level_after: float
    peak: float | None = None


def _edge(t: np.ndarray, r: np.ndarray, level: float, band: tuple[float, float], amplitude: float,
          anchor: int, direction: int) -> float:
    """Where the change through sample ``anchor`` meets ``level``: a tangent intersection.

    ``fraction = (r - level) / amplitude`` is about 1 at the anchor and falls
    towards 0 at the level. From the anchor, going back (``direction`` -1:
    the change started there) or forward (+1: it ends there), the samples are
    taken until the fraction first drops below ``band[0]``; a line fitted to
    those with the fraction inside ``band`` is extended to the level. Only the
    contiguous change through the anchor counts, never a later bump.
    """
    fraction = (r - level) / amplitude
    fraction = np.where(np.isfinite(fraction), fraction, -np.inf)
    if direction < 0:
        before = np.flatnonzero(fraction[: anchor + 1] < band[0])
        lo, hi = (int(before[-1]) + 1 if before.size else 0), anchor + 1
    else:
        after = np.flatnonzero(fraction[anchor:] < band[0])
        lo, hi = anchor, (anchor + int(after[0]) if after.size else r.size)
    part = slice(lo, hi)
    use = (fraction[part] >= band[0]) & (fraction[part] <= band[1])
    if use.sum() < 3:
        return float("nan")
    slope, intercept = np.polyfit(t[part][use], r[part][use], 1)
    if slope == 0:
        return float("nan")
    return float((level - intercept) / slope)


def _crossings(r: np.ndarray, level: float, rising: bool) -> np.ndarray:
    """Indices where ``r`` crosses ``level`` upwards (``rising``) or downwards (the first sample past it)."""
    above = r >= level
    step = np.diff(above.astype(np.int8))
    return np.flatnonzero(step == (1 if rising else -1)) + 1


def rise(loads: Loads, lift_off_s: float, params: ClinicParams) -> Transition | None:
    """The first sit-to-stand: from seated (at the recording start) to standing, before ``lift_off_s``.

    ``lift_off_s``: the first toe off after rising (the walk starts there); the
    standing level is read between the settling and that lift-off.
    """
    t = loads.time_s
    r = loads.relative(params.lowpass_hz)
    slow = loads.relative(1.0)
    seated = slow < params.seated_level
    opening = slow[: max(1, int(round(0.5 * loads.sample_rate_hz)))]
    if not (np.isfinite(opening).any() and np.nanmax(opening) < params.seated_level):  # a missing sample is no standing
        return None
    first_standing = np.flatnonzero(~seated & np.isfinite(slow))
    if first_standing.size == 0:
        return None
    low_end = int(first_standing[0])
    seat_from = max(0, low_end - int(round(3.0 * loads.sample_rate_hz)))
    seated_level = float(
        np.nanmedian(r[seat_from : max(seat_from + 1, low_end - int(round(1.3 * loads.sample_rate_hz)))])
    )
    middle = 0.5 * (seated_level + 1.0)
    ups = _crossings(r, middle, rising=True)
    ups = ups[ups >= seat_from]
    if ups.size == 0:
        return None
    cross = int(ups[0])
    amplitude = r[cross] - seated_level
    onset = _edge(t, r, seated_level, (0.08, 0.35), amplitude, cross, -1)
    # the seat-off peak, then the settling onto the standing level
    after = slice(cross, min(r.size, cross + int(round(1.5 * loads.sample_rate_hz))))
    k_peak = cross + int(np.nanargmax(r[after]))
    t_peak, peak = float(t[k_peak]), float(r[k_peak])
    quiet_end = lift_off_s - 0.4
    level = _median_between(t, r, t_peak + 0.3, quiet_end)
    end = float("nan")
    for _ in range(2):  # the level, then the edge, then the level again from after the edge
        if not np.isfinite(level):
            break
        if peak - level > 0.02:
            end = _edge(t, r, level, (0.2, 0.8), peak - level, k_peak, +1)
        else:  # no overshoot: the rise itself runs into the standing level
            end = _edge(t, r, level, (0.2, 0.8), seated_level - level, cross, +1)
        if np.isfinite(end):
            better = _median_between(t, r, end + 0.05, quiet_end)
            level = better if np.isfinite(better) else level
    return Transition(onset, end, seated_level, level, peak)


def sit_down(loads: Loads, last_strike_s: float, params: ClinicParams) -> Transition | None:
    """The last stand-to-sit after ``last_strike_s`` (the walk's last heel strike), or None if there is none."""
    t = loads.time_s
    r = loads.relative(params.lowpass_hz)
    after_walk = t > last_strike_s
    slow = loads.relative(1.0)
    seated = (slow < params.seated_level) & after_walk
    if not seated.any():
        return None
    k_seated = int(np.flatnonzero(seated)[0])
    level_after = _median_between(t, r, t[k_seated] + 0.8, t[-1])
    if not np.isfinite(level_after):
        level_after = _median_between(t, r, t[k_seated] + 0.3, t[-1])
    window = (t > last_strike_s + 0.4) & (t < t[k_seated])
    if window.sum() < 3:
        return None
    values = r[window]
    top = values[values >= np.nanmedian(values)]
    level_before = float(np.nanmedian(top))  # the standing plateau (the descent's first part is below it)
    middle = 0.5 * (level_before + level_after)
    downs = _crossings(np.where(after_walk, r, np.inf), middle, rising=False)
    if downs.size == 0:
        return None
    cross = int(downs[0])
    start = _edge(t, r, level_before, (0.04, 0.17), r[cross] - level_before, cross, -1)
    end = _edge(t, r, level_after, (0.15, 0.7), r[cross] - level_after, cross, +1)
    return Transition(start, end, level_before, level_after)


def _median_between(t: np.ndarray, r: np.ndarray, a: float, b: float) -> float:
    inside = (t >= a) & (t <= b) & np.isfinite(r)
    return float(np.median(r[inside])) if inside.sum() >= 3 else float("nan")


@dataclass(frozen=True)
class Bout:
    """A walking bout: heel strikes closer than ``pause_s`` to each other, and the toe off that started it."""

    start_s: float  # the first toe off of the bout (lift-off), or its first strike when none is seen before it
    end_s: float  # its last heel strike
    strikes: np.ndarray  # structured (time_s, side)


def walking_bouts(events: GaitEvents, params: ClinicParams, min_strikes: int = 3) -> list[Bout]:
    """Runs of heel strikes without a pause longer than ``pause_s`` (with at least ``min_strikes``)."""
    strikes = events.strikes()
    if strikes.size == 0:
        return []
    gaps = np.diff(strikes["time_s"]) > params.pause_s
    cut = np.concatenate([[0], np.flatnonzero(gaps) + 1, [strikes.size]])
    offs = events.toe_offs()["time_s"]
    bouts = []
    for a, b in zip(cut[:-1], cut[1:]):
        if b - a < min_strikes:
            continue
        first = strikes["time_s"][a]
        before = offs[(offs < first) & (offs > first - params.pause_s)]
        bouts.append(Bout(float(before[0]) if before.size else float(first), float(strikes["time_s"][b - 1]),
                          strikes[a:b]))
    return bouts

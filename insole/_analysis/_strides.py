"""Contacts to steps and strides: timing, double support, walking bouts, turns, exclusions.

A *step* here is one contact of one foot (heel strike to toe off) and a
*stride* runs from a heel strike to the next heel strike of the same foot.
All times are on the recording's own clock (s).

A stride is **used** for statistics when: both heel strikes and the toe off
between them are known; no gap longer than 50 ms lies inside it (a shorter
one, a lost packet or two, leaves the timing usable because the events were
observed, but the stance metrics of a contact with any missing sample are
left empty); it is a walking
stride (stride time at most ``max_stride_s``, both contacts at most
``max_stance_s``, the longer ones being standing or pauses); it is not a turn
(heading change over the stride above ``turn_threshold_deg``, from the insole
gyroscope, where there is one); and its walking bout has at least
``min_bout_strides`` strides. Each excluded stride carries its first reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from insole._analysis._events import BRIDGE_GAP_S, Contacts
from insole._analysis._params import AnalysisParams
from insole._analysis._prepare import PreparedFoot
from insole._analysis._segments import reduce_intervals, runs

__all__ = ["FootTiming", "foot_timing", "add_bilateral_timing", "EXCLUSION_REASONS", "heading_axis"]

EXCLUSION_REASONS = (
    "event unknown",
    "gap inside",
    "standing or pause",
    "turning",
    "short bout",
)


@dataclass(eq=False)
class FootTiming:
    """Per-contact and per-stride timing of one foot (arrays over contacts; strides are contacts 0..m-2)."""

    hs_index: np.ndarray
    to_index: np.ndarray
    heel_strike_s: np.ndarray  # NaN where unknown
    toe_off_s: np.ndarray
    walking_contact: np.ndarray  # contact not longer than max_stance_s
    contact_start_s: np.ndarray  # coarse contact extent (s)
    contact_stop_s: np.ndarray
    contact_has_gap: np.ndarray
    stride_reason: np.ndarray  # object array of "" or a reason, one per stride (m - 1)
    stride_bout: np.ndarray  # bout number per stride, -1 outside bouts
    heading_change_deg: np.ndarray | None  # per stride, when the foot has a gyroscope
    turns_detectable: bool

    @property
    def n_contacts(self) -> int:
        return int(self.hs_index.size)

    @property
    def stride_used(self) -> np.ndarray:
        return self.stride_reason == ""

    def step_used(self) -> np.ndarray:
        """A contact is used when the stride it starts is used, or it ends a used stride and starts none used."""
        m = self.n_contacts
        used = np.zeros(m, dtype=bool)
        if m >= 2:
            stride_used = self.stride_used
            used[:-1] |= stride_used
            used[1:] |= stride_used
        complete = (self.hs_index >= 0) & (self.to_index >= 0)
        return used & complete & ~self.contact_has_gap & self.walking_contact


def heading_axis(foot: PreparedFoot) -> int | None:
    """The gyroscope axis closest to vertical: the accelerometer axis carrying gravity."""
    samples = foot.imu
    if samples is None or samples.accel_g is None or samples.gyro_dps is None:
        return None
    # gravity dominates the mean: about 20000 evenly spread valid samples settle it
    # as surely as an hour of them, without copying the whole (samples x 3) array
    rows = np.flatnonzero(foot.valid)
    rows = rows[:: max(1, rows.size // 20000)]
    accel = np.asarray(samples.accel_g[rows], dtype=float)
    if accel.size == 0 or not np.isfinite(accel).any():
        return None
    return int(np.argmax(np.abs(np.nanmean(accel, axis=0))))


def foot_timing(foot: PreparedFoot, contacts: Contacts, params: AnalysisParams) -> FootTiming:
    """Timing and stride exclusions of one foot from its contacts."""
    t = foot.time_s
    fs = foot.sample_rate_hz
    hs = contacts.heel_strike_index
    to = contacts.toe_off_index
    m = hs.size
    heel_strike_s = np.where(hs >= 0, t[np.clip(hs, 0, max(t.size - 1, 0))], np.nan) if m else np.zeros(0)
    toe_off_s = np.where(to >= 0, t[np.clip(to, 0, max(t.size - 1, 0))], np.nan) if m else np.zeros(0)
    # standing is judged on the coarse contact, known even where an event is not
    extent_s = (contacts.stop_index - contacts.start_index) / fs
    walking_contact = extent_s <= params.max_stance_s

    reason = np.full(max(m - 1, 0), "", dtype=object)
    heading = None
    axis = heading_axis(foot)
    if m >= 2:
        a, b = hs[:-1], hs[1:]
        known = (a >= 0) & (b >= 0) & (to[:-1] >= 0) & (to[:-1] > a) & (to[:-1] < b)
        # short gaps (a lost packet or two) leave the timing of a stride usable:
        # its events were observed; its stance metrics are left empty instead
        gap_starts, gap_stops = runs(~foot.valid)
        long = (gap_stops - gap_starts) > int(round(BRIDGE_GAP_S * fs))
        long_gap = np.zeros(foot.n + 1, dtype=np.int64)
        np.add.at(long_gap, gap_starts[long], 1)
        np.add.at(long_gap, gap_stops[long], -1)
        invalid_count = np.concatenate([[0], np.cumsum(np.cumsum(long_gap[:-1]) > 0)])
        a_safe = np.where(known, a, 0)
        b_safe = np.where(known, b, 0)
        gap_inside = known & ((invalid_count[b_safe] - invalid_count[a_safe]) > 0)
        stride_time = heel_strike_s[1:] - heel_strike_s[:-1]
        standing = known & (
            (stride_time > params.max_stride_s) | ~walking_contact[:-1] | ~walking_contact[1:]
        )
        reason[:] = ""
        reason[standing] = "standing or pause"
        reason[gap_inside] = "gap inside"
        reason[~known | contacts.long_gap_before[1:]] = "event unknown"
        if axis is not None:
            gyro = np.asarray(foot.imu.gyro_dps[:, axis], dtype=float)
            rate = np.where(foot.valid & np.isfinite(gyro), gyro, 0.0) / fs
            heading = np.full(m - 1, np.nan)
            heading[known] = reduce_intervals(np.add, rate, a[known], b[known])
            turning = (reason == "") & (np.abs(np.nan_to_num(heading)) > params.turn_threshold_deg)
            reason[turning] = "turning"
        # walking bouts: runs of strides not broken by an unknown/gap/standing
        # stride (turning strides belong to the bout: the walk goes on)
        breaks = np.isin(reason, ("event unknown", "gap inside", "standing or pause"))
        bout = np.where(breaks, -1, np.cumsum(breaks))
        ids, sizes = np.unique(bout[bout >= 0], return_counts=True)
        short = np.isin(bout, ids[sizes < params.min_bout_strides]) & (bout >= 0)
        reason[short & (reason == "")] = "short bout"
        bout = np.where(short, -1, bout)
        kept = np.unique(bout[bout >= 0])
        bout = np.where(bout >= 0, np.searchsorted(kept, bout), -1).astype(np.int64)
    else:
        bout = np.zeros(0, dtype=np.int64)
    return FootTiming(
        hs_index=hs,
        to_index=to,
        heel_strike_s=heel_strike_s,
        toe_off_s=toe_off_s,
        walking_contact=walking_contact,
        contact_start_s=t[contacts.start_index] if m else np.zeros(0),
        contact_stop_s=t[np.maximum(contacts.stop_index - 1, 0)] if m else np.zeros(0),
        contact_has_gap=contacts.has_gap,
        stride_reason=reason,
        stride_bout=bout,
        heading_change_deg=heading,
        turns_detectable=axis is not None,
    )


def add_bilateral_timing(steps: dict[str, pd.DataFrame], timing: dict[str, FootTiming]) -> None:
    """Step time and double support from both feet's events (in place on the step tables).

    ``step_time_s``: this heel strike to the other foot's next heel strike.
    ``initial_double_support_s``: this heel strike to the other foot's toe off,
    when that toe off falls inside this contact. ``terminal_double_support_s``:
    the other foot's heel strike to this toe off, when inside this contact.
    """
    for side, other in (("left", "right"), ("right", "left")):
        if side not in steps:
            continue
        table = steps[side]
        hs = table["heel_strike_s"].to_numpy()
        to = table["toe_off_s"].to_numpy()
        nan = np.full(hs.size, np.nan)
        if other not in timing:
            table["step_time_s"] = nan
            table["initial_double_support_s"] = nan
            table["terminal_double_support_s"] = nan
            continue
        other_hs = timing[other].heel_strike_s
        other_to = timing[other].toe_off_s
        other_hs = np.sort(other_hs[np.isfinite(other_hs)])
        other_to = np.sort(other_to[np.isfinite(other_to)])
        table["step_time_s"] = _next_after(hs, other_hs) - hs
        next_to = _next_after(hs, other_to)
        initial = np.where(next_to < to, next_to - hs, np.nan)
        table["initial_double_support_s"] = initial
        prev_hs = _last_before(to, other_hs)
        terminal = np.where(prev_hs > hs, to - prev_hs, np.nan)
        table["terminal_double_support_s"] = terminal


def _next_after(times: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The first candidate strictly after each time (NaN if none or the time is NaN)."""
    out = np.full(times.size, np.nan)
    if candidates.size == 0:
        return out
    finite = np.isfinite(times)
    j = np.searchsorted(candidates, times[finite], side="right")
    got = j < candidates.size
    values = np.full(j.size, np.nan)
    values[got] = candidates[j[got]]
    out[finite] = values
    return out


def _last_before(times: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The last candidate strictly before each time (NaN if none)."""
    out = np.full(times.size, np.nan)
    if candidates.size == 0:
        return out
    finite = np.isfinite(times)
    j = np.searchsorted(candidates, times[finite], side="left") - 1
    got = j >= 0
    values = np.full(j.size, np.nan)
    values[got] = candidates[j[got]]
    out[finite] = values
    return out

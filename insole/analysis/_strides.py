"""Contacts to steps and strides: timing, double support, walking bouts, turns, exclusions.

A *step* here is one contact of one foot (heel strike to toe off) and a
*stride* runs from a heel strike to the next heel strike of the same foot.
All times are on the recording's own clock (s).

A stride is **used** for statistics when: both heel strikes and the toe off
between them are known; no gap longer than ``BRIDGE_GAP_S`` (50 ms) lies
inside it (a shorter one, a lost packet or two, leaves the timing usable
because the events were observed, but the stance metrics of a contact with
any missing sample are left empty); it is a walking stride (stride time at
most ``max_stride_s``, both contacts at most ``max_stance_s``, the longer ones
being standing or pauses); it is not a turn (heading change over the stride
above ``turn_threshold_deg``, from the insole gyroscope, where there is one);
its walking bout has at least ``min_bout_strides`` strides; and, when both
feet are recorded and the other foot is observed over the whole stride (no
gap longer than the bridge), the other foot has exactly one contact starting
inside it, as in any walking stride (none or two means a contact of one foot
was missed, e.g. a weak or flat step, and the stride spans two of the true
ones; see ``exclude_out_of_step``). Each excluded stride carries its first
reason, in the order of ``EXCLUSION_REASONS``. A contact's stance belongs to the stride it
starts (stride k: heel strike k to heel strike k + 1, stance k: heel strike k
to toe off k), so the stances used are exactly those of the used strides.

Nothing is computed across a gap: a time between two events is left empty
(NaN) when a gap longer than the bridge lies between them, on either foot
for the two-foot values (step time, double support), or when the other
foot's event found is not the one that truly follows (its contact was not
detected, or its event fell in a gap).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from insole.analysis._events import BRIDGE_GAP_S, Contacts
from insole.analysis._params import AnalysisParams
from insole.analysis._prepare import FootLoads
from insole.analysis._segments import all_finite, reduce_intervals, runs

__all__ = [
    "FootTiming",
    "stride_timing",
    "foot_timing",
    "exclude_out_of_step",
    "add_bilateral_timing",
    "bilateral_timing",
    "EXCLUSION_REASONS",
    "heading_axis",
]

EXCLUSION_REASONS = (
    "event unknown",
    "gap inside",
    "standing or pause",
    "turning",
    "short bout",
    "other foot out of step",
)


@dataclass(frozen=True, eq=False)
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
    # gaps longer than the bridge, as [first, last] invalid sample times (s), in
    # time order; and the foot's observed span (its first and last sample times)
    gap_start_s: np.ndarray
    gap_end_s: np.ndarray
    span_s: tuple[float, float]

    @property
    def n_contacts(self) -> int:
        return int(self.hs_index.size)

    @property
    def stride_used(self) -> np.ndarray:
        return self.stride_reason == ""

    def step_used(self) -> np.ndarray:
        """A contact's stance is used when the stride it starts is used and the stance has no missing sample.

        The last contact starts no stride and is never used, so the curves and
        regional tables rest on exactly the stances of the used strides (less
        those with a lost sample, whose stance metrics are empty).
        """
        m = self.n_contacts
        used = np.zeros(m, dtype=bool)
        if m >= 2:
            used[:-1] = self.stride_used
        complete = (self.hs_index >= 0) & (self.to_index >= 0)
        return used & complete & ~self.contact_has_gap & self.walking_contact

    def gap_free(self, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
        """True where ``[start_s, end_s]`` lies inside the foot's recording with no gap longer than the bridge.

        False where either end is NaN. Vectorised over intervals.
        """
        return _gap_free(self.gap_start_s, self.gap_end_s, self.span_s, start_s, end_s)

    def heel_strike_order_s(self) -> np.ndarray:
        """Per contact: its heel strike, or its coarse start where the heel strike is unknown (for ordering)."""
        known = np.isfinite(self.heel_strike_s)
        return np.maximum.accumulate(np.where(known, self.heel_strike_s, self.contact_start_s))

    def toe_off_order_s(self) -> np.ndarray:
        """Per contact: its toe off, or its coarse end where the toe off is unknown (for ordering)."""
        return np.maximum.accumulate(np.where(np.isfinite(self.toe_off_s), self.toe_off_s, self.contact_stop_s))


def _gap_free(gap_start_s, gap_end_s, span_s, start_s, end_s) -> np.ndarray:
    """True where ``[start_s, end_s]`` lies within ``span_s`` and overlaps no ``[gap_start_s, gap_end_s]``."""
    start_s = np.asarray(start_s, dtype=float)
    end_s = np.asarray(end_s, dtype=float)
    finite = np.isfinite(start_s) & np.isfinite(end_s)
    lo = np.where(finite, start_s, 0.0)
    hi = np.where(finite, end_s, 0.0)
    inside = (lo >= span_s[0]) & (hi <= span_s[1])
    # gaps are disjoint and in time order: the first one ending at or after
    # the interval's start overlaps it if it starts by the interval's end
    j = np.searchsorted(gap_end_s, lo, side="left")
    has = j < gap_end_s.size
    overlaps = np.zeros(lo.shape, dtype=bool)
    overlaps[has] = gap_start_s[j[has]] <= hi[has]
    return finite & inside & ~overlaps


def heading_axis(foot: FootLoads) -> int | None:
    """The gyroscope axis closest to vertical: the accelerometer axis carrying gravity."""
    samples = foot.imu
    if samples is None or samples.accel_g is None or samples.gyro_dps is None:
        return None
    # gravity dominates the mean: about 20000 evenly spread valid samples settle it
    # as surely as an hour of them, without copying the whole (samples x 3) array
    n = foot.valid.size
    every: int | None = None  # the rows are every this many samples from the first (then read as a slice)
    if foot.valid.all():  # the same rows, without listing every valid sample first
        every = max(1, n // 20000)
        rows = np.arange(0, n, every)
    else:
        rows = np.flatnonzero(foot.valid)
        rows = rows[:: max(1, rows.size // 20000)]
    if every is not None and isinstance(samples.accel_g, np.ndarray):
        # the same rows as a strided view, copied to float64 in one step: the index array's gather is several
        # times slower on a recording's (samples x 3) array stored axis by axis
        accel = np.asarray(samples.accel_g[::every], dtype=float)
    else:
        # (rows by an index array: the streamed analysis's lazy IMU columns take whole axes or index arrays only)
        accel = np.asarray(samples.accel_g[rows], dtype=float)
    finite = np.isfinite(accel)
    if accel.size == 0 or not finite.any():
        return None
    # without NaN the plain mean is nanmean's own sum over the same array, divided by the same count
    mean = accel.mean(axis=0) if finite.all() else np.nanmean(accel, axis=0)
    return int(np.argmax(np.abs(mean)))


# A stride's reason (``FootTiming.stride_reason``) by its code in ``foot_timing``
_REASONS = np.array(["", "standing or pause", "gap inside", "event unknown", "turning", "short bout"], dtype=object)
_USED, _STANDING, _GAP_INSIDE, _EVENT_UNKNOWN, _TURNING, _SHORT_BOUT = range(6)


def foot_timing(foot: FootLoads, contacts: Contacts, params: AnalysisParams) -> FootTiming:
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

    # gaps the event detector does not bridge (a short one, a lost packet or
    # two, leaves the events around it observed); one leading the recording
    # is never bridged, as in the detector
    bridge = max(1, int(round(BRIDGE_GAP_S * fs)))
    all_valid = bool(foot.valid.all())
    if all_valid:  # no gap: no pass over the samples to look for one
        gap_starts = gap_stops = np.zeros(0, dtype=np.int64)
    else:
        gap_starts, gap_stops = runs(~foot.valid)
    long = ((gap_stops - gap_starts) > bridge) | (gap_starts == 0)
    gap_start_s = t[gap_starts[long]] if t.size else np.zeros(0)
    gap_end_s = t[gap_stops[long] - 1] if t.size else np.zeros(0)
    span_s = (float(t[0]), float(t[-1])) if t.size else (float("nan"), float("nan"))

    # each stride's reason as a code while the rules settle it (comparisons of small integers, not of Python
    # strings, which hold the GIL element by element), named at the end
    code = np.zeros(max(m - 1, 0), dtype=np.int8)
    heading = None
    axis = heading_axis(foot)
    if m >= 2:
        a, b = hs[:-1], hs[1:]
        known = (a >= 0) & (b >= 0) & (to[:-1] >= 0) & (to[:-1] > a) & (to[:-1] < b)
        gap_inside = known & ~_gap_free(gap_start_s, gap_end_s, span_s, heel_strike_s[:-1], heel_strike_s[1:])
        stride_time = heel_strike_s[1:] - heel_strike_s[:-1]
        standing = known & (
            (stride_time > params.max_stride_s) | ~walking_contact[:-1] | ~walking_contact[1:]
        )
        code[standing] = _STANDING
        code[gap_inside] = _GAP_INSIDE
        code[~known | contacts.long_gap_before[1:]] = _EVENT_UNKNOWN
        if axis is not None:
            # heading_axis finds an axis only for an IMU with a gyroscope
            assert foot.imu is not None and foot.imu.gyro_dps is not None
            column = foot.imu.gyro_dps[:, axis]
            # our own float64 copy of the axis over the rate, in one step (each value converted, then divided:
            # the same quotients); a sample not read (invalid, or not finite in the recording) counts as 0. The
            # column is one of the recording's (samples x 3) arrays, read once: a quotient over a rate of at least
            # 1 Hz is finite exactly where the value is, so it is judged on the quotients, in our own copy
            rate = np.divide(column, fs, dtype=float)
            heading = np.full(m - 1, np.nan)
            turned = reduce_intervals(np.add, rate, a[known], b[known])
            # a gap-free foot whose strides' sums are all finite has no sample to leave out inside a stride (one
            # that is not finite makes its stride's sum NaN or infinite): those sums are the ones with the unread
            # samples as 0 (the usual case, without a pass to look for them); otherwise they are set to 0 and
            # the strides summed again
            if not (all_valid and all_finite(turned)):
                unread = ~np.isfinite(rate if fs >= 1.0 else column)
                if not all_valid:
                    unread |= ~foot.valid
                if unread.any():
                    rate[unread] = 0.0
                    turned = reduce_intervals(np.add, rate, a[known], b[known])
            heading[known] = turned
            turning = (code == _USED) & (np.abs(np.nan_to_num(heading)) > params.turn_threshold_deg)
            code[turning] = _TURNING
        # walking bouts: runs of strides not broken by an unknown/gap/standing
        # stride (turning strides belong to the bout: the walk goes on)
        breaks = (code == _EVENT_UNKNOWN) | (code == _GAP_INSIDE) | (code == _STANDING)
        bout = np.where(breaks, -1, np.cumsum(breaks))
        ids, sizes = np.unique(bout[bout >= 0], return_counts=True)
        short = np.isin(bout, ids[sizes < params.min_bout_strides]) & (bout >= 0)
        code[short & (code == _USED)] = _SHORT_BOUT
        bout = np.where(short, -1, bout)
        kept = np.unique(bout[bout >= 0])
        bout = np.where(bout >= 0, np.searchsorted(kept, bout), -1).astype(np.int64)
    else:
        bout = np.zeros(0, dtype=np.int64)
    reason = _REASONS[code]  # (an object array of the reasons' strings, "" for a stride used)
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
        gap_start_s=gap_start_s,
        gap_end_s=gap_end_s,
        span_s=span_s,
    )


def stride_timing(
    loads: Mapping[str, FootLoads], contacts: Mapping[str, Contacts], params: AnalysisParams
) -> dict[str, FootTiming]:
    """The stride stage: each foot's timing from its contacts, then the strides the other foot rules out.

    ``loads`` and ``contacts`` by side (one or two feet, the same sides in
    both). A stride's exclusion can need the other foot's contacts, so both
    feet go through this stage together.
    """
    timing = {side: foot_timing(loads[side], contacts[side], params) for side in loads}
    return exclude_out_of_step(timing)


def exclude_out_of_step(timing: Mapping[str, FootTiming]) -> dict[str, FootTiming]:
    """Exclude strides the other foot does not step through once ("other foot out of step"; new values).

    In walking each stride of one foot holds exactly one heel strike of the
    other. A stride holding none or two spans a contact that one of the feet's
    detectors missed without any gap in the data (a weak or flattened step):
    it is really two strides, even when shorter than ``max_stride_s`` (a
    2.1 s stride among 1.1 s ones). The other foot's contacts are counted by
    their heel strike, or their coarse start where that is unknown, in
    ``[heel strike k, heel strike k + 1)``. Only strides still used are
    judged, and only where the other foot is observed throughout (inside its
    recording, no gap longer than the bridge; where it is not, its contacts
    cannot be counted). A foot recorded alone, or beside a foot with fewer
    than two contacts (nothing to cross-check against), is left as it is.
    The walking bouts stay as they were: the walk went on through the missed
    contact.
    """
    result = dict(timing)
    if len(timing) != 2:
        return result
    (first_side, first), (second_side, second) = timing.items()
    # each foot is judged against the other's events, which this never changes: the order does not matter
    for side, own, theirs in ((first_side, first, second), (second_side, second, first)):
        if own.n_contacts < 2 or theirs.n_contacts < 2:
            continue
        start_s, end_s = own.heel_strike_s[:-1], own.heel_strike_s[1:]
        observed = theirs.gap_free(start_s, end_s)
        order = theirs.heel_strike_order_s()
        inside = np.searchsorted(order, np.nan_to_num(end_s), side="left") - np.searchsorted(
            order, np.nan_to_num(start_s), side="left"
        )
        reason = own.stride_reason.copy()
        reason[(reason == "") & observed & (inside != 1)] = "other foot out of step"
        result[side] = replace(own, stride_reason=reason)
    return result


def add_bilateral_timing(steps: dict[str, pd.DataFrame], timing: Mapping[str, FootTiming]) -> None:
    """Step time and double support from both feet's events (in place on the step tables).

    ``step_time_s``: this heel strike to the other foot's next heel strike,
    when that comes before this foot's next one. ``initial_double_support_s``:
    this heel strike to the toe off of the other foot's contact under way at
    this heel strike, when that toe off falls inside this contact.
    ``terminal_double_support_s``: the other foot's last heel strike before
    this toe off, when inside this contact, to this toe off.

    Each value is NaN when either foot has a gap longer than the bridge
    between its two events, or when the other foot's contact found has that
    event unknown (it fell in a gap): the event found would then not be the
    one that truly follows, and a step across a lost contact would be counted.
    """
    for side in ("left", "right"):
        if side not in steps:
            continue
        table = steps[side]
        for name, values in bilateral_timing(side, table["contact"].to_numpy(dtype=np.int64), timing).items():
            table[name] = values


def bilateral_timing(side: str, contact: np.ndarray, timing: Mapping[str, FootTiming]) -> dict[str, np.ndarray]:
    """``add_bilateral_timing``'s three columns for the step rows of ``side`` whose contacts are ``contact``, as
    arrays (none for a side other than "left" or "right")."""
    if side not in ("left", "right"):
        return {}
    other = "right" if side == "left" else "left"
    if other not in timing or timing[other].n_contacts == 0:
        nan = np.full(contact.size, np.nan)
        return {"step_time_s": nan, "initial_double_support_s": nan, "terminal_double_support_s": nan}
    own, theirs = timing[side], timing[other]
    hs = own.heel_strike_s[contact]
    to = own.toe_off_s[contact]
    # this foot's next contact (its heel strike, or its start where that is unknown)
    own_order = own.heel_strike_order_s()
    own_next = np.append(own_order, np.inf)[contact + 1]

    other_hs_order = theirs.heel_strike_order_s()
    other_to_order = theirs.toe_off_order_s()

    # step: the other foot's first contact starting after this heel strike
    j = _index_after(hs, other_hs_order)
    next_hs = _take(theirs.heel_strike_s, j)
    ok = (next_hs < own_next) & _both_gap_free(own, theirs, hs, next_hs)
    step_time = np.where(ok, next_hs - hs, np.nan)

    # initial double support: the other foot's contact under way at this
    # heel strike (started before it, ending after it) ends inside this contact
    j = _index_after(hs, other_to_order)
    next_to = _take(theirs.toe_off_s, j)
    started_before = _take(other_hs_order, j) <= hs
    ok = started_before & (next_to < to) & _both_gap_free(own, theirs, hs, next_to)
    initial = np.where(ok, next_to - hs, np.nan)

    # terminal double support: the other foot's last contact starting before this toe off
    k = _index_before(to, other_hs_order)
    prev_hs = _take(theirs.heel_strike_s, k)
    ok = (prev_hs > hs) & _both_gap_free(own, theirs, prev_hs, to)
    terminal = np.where(ok, to - prev_hs, np.nan)
    return {"step_time_s": step_time, "initial_double_support_s": initial, "terminal_double_support_s": terminal}


def _both_gap_free(own: FootTiming, theirs: FootTiming, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
    """True where ``[start_s, end_s]`` is gap-free in both feet (see ``FootTiming.gap_free``)."""
    return own.gap_free(start_s, end_s) & theirs.gap_free(start_s, end_s)


def _index_after(times: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Index of the first entry of the sorted ``order`` strictly after each time (-1 if none or NaN)."""
    j = np.searchsorted(order, np.nan_to_num(times, nan=np.inf), side="right")
    return np.where(np.isfinite(times) & (j < order.size), j, -1)


def _index_before(times: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Index of the last entry of the sorted ``order`` strictly before each time (-1 if none or NaN)."""
    j = np.searchsorted(order, np.nan_to_num(times, nan=-np.inf), side="left") - 1
    return np.where(np.isfinite(times), j, -1)


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[index]``, NaN where the index is -1."""
    out = np.full(index.shape, np.nan)
    found = index >= 0
    out[found] = values[index[found]]
    return out

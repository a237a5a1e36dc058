"""Foot contacts from one foot's total force: heel strike (initial contact) and toe off.

Two passes, both on whole arrays:

1. **Coarse contacts.** The force is low-passed (zero-phase Butterworth,
   2nd order, ``event_lowpass_hz``) within each run of valid samples, then a
   hysteresis detector finds where it rises above ``detect_high_fraction`` and
   falls below ``detect_low_fraction`` of the foot's robust load range (5th to
   95th percentile). Unloadings shorter than ``min_swing_s`` are merged into the
   contact around them; contacts shorter than ``min_stance_s`` are dropped.
2. **Refined events, per contact**, by one of two methods:

   * ``level`` (calibrated insoles, N or kPa). Each contact's levels start from
     the lowest force of the swing before (or after) it, the *local floor*,
     which carries any residual in-shoe load, and add a fraction of the foot's
     typical contact peak. Heel strike is the first sample at or above
     ``floor_before + contact_on_fraction x typical_peak``; toe off is the first
     sample below ``floor_after + contact_off_fraction x typical_peak``. The off
     level is higher because the shoe keeps pressing on the toes for a while
     after toe off. With the default 12 Hz smoothing these reproduce the
     Moticon OpenGo software's events to within a sample.
   * ``shape`` (uncalibrated force-sensitive resistors, unit "au", whose output
     is not linear in force, so a fraction of the peak means different loads
     in different steps). Heel strike: walking back from the steepest point of
     the rise, the first sample after the slope was below
     ``shape_slope_fraction`` of that steepest slope. Toe off: where the
     unloading reaches the floor it settles at (see ``_toe_off_shape``): the
     end of the steep fall when the fall pauses or rebounds there, otherwise
     the end of the slower fall that follows as the toes leave.

A toe off is sought only before the next contact's heel strike (a heel tap in
the swing is the next contact's start, not the end of this one's unloading). A
run's first contact keeps its heel strike only where the foot was seen
unloaded before it (a recording may start on a loading rise, under the coarse
on level).

Contacts far longer than the foot's typical one are split at a deep inner
unloading (``_split_long_contacts``): a shuffling step in a turn, or a short
swing held above the coarse off level by residual load.

Events are never placed in a gap: a rise or fall that happened while samples
were missing leaves that event unknown (NaN). Short gaps (up to
``BRIDGE_GAP_S``) inside a contact or a swing do not split it; longer ones do.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from insole.analysis._filters import butter_lowpass_sos, zero_phase, zero_phase_runs
from insole.analysis._params import AnalysisParams
from insole.analysis._segments import (
    all_finite,
    count_true_between,
    gradient,
    gradient_of_intervals,
    hysteresis_runs_in_pieces,
    interval_argmax,
    interval_windows,
    last_at_or_before,
    nan_to_num_inplace,
    next_at_or_after,
    next_true_at_or_after_at,
    percentiles,
    reduce_intervals,
    reduce_short_intervals,
    runs,
)

__all__ = ["Contacts", "detect_events", "detect_contacts", "lowpass_by_segment", "BRIDGE_GAP_S"]

# A gap this short inside a contact or a swing does not end it (one or two
# lost BLE packets at 100 Hz); events are still never placed inside it.
BRIDGE_GAP_S = 0.05
# The longest swing (s) searched for the local floor before/after a contact.
_FLOOR_WINDOW_S = 1.0
# A heel strike on a touch (moved back to one by the heel-tap rule, or one the foot lifts from before it lands)
# has at most this confidence (under the 0.5 of ``AnalysisParams.low_confidence``: counted as low).
_TOUCH_CONFIDENCE = 0.4
# Rise times up to this are "sharp"; the heel-strike confidence falls linearly
# to zero at 3x this (slow, creeping loading makes the onset uncertain).
_SHARP_RISE_S = 0.12


@dataclass(frozen=True, eq=False)
class Contacts:
    """The contacts of one foot, one entry per contact, in time order.

    Indices are sample indices into the foot's arrays; -1 marks an event that
    could not be observed (in a gap, or before/after the recording).
    ``peak_index`` is the sample of the largest (smoothed) force.
    Confidences are in [0, 1] (NaN where the event is unknown).
    ``long_gap_before`` is True when a gap longer than the bridge limit lies
    between the previous contact and this one (the stride across it is not used).
    """

    heel_strike_index: np.ndarray
    toe_off_index: np.ndarray
    peak_index: np.ndarray
    start_index: np.ndarray  # the coarse contact [start, stop), known even where an event is not
    stop_index: np.ndarray
    heel_strike_confidence: np.ndarray
    toe_off_confidence: np.ndarray
    has_gap: np.ndarray  # any invalid sample between heel strike and toe off
    long_gap_before: np.ndarray
    levels: dict[str, float]  # the foot's robust floor and top of the smoothed force

    @property
    def n(self) -> int:
        return int(self.heel_strike_index.size)


def lowpass_by_segment(values: np.ndarray, valid: np.ndarray, sample_rate_hz: float, cutoff_hz: float) -> np.ndarray:
    """Zero-phase low-pass within each run of valid samples; invalid samples stay NaN.

    Runs too short for the filter's edge padding are passed through unfiltered.
    A cutoff at or above 0.45 x the sample rate leaves the signal as it is.
    """
    if cutoff_hz < 0.45 * sample_rate_hz and values.ndim == 1 and values.dtype == np.float64 and valid.all():
        sos = _butter_lowpass(float(cutoff_hz), float(sample_rate_hz))
        if values.size > 3 * (2 * len(sos) + 1):  # one run of valid samples, the whole signal: filtered as it is
            return zero_phase(sos, values)  # (a new array, as the copy below filled in place)
    out = np.where(valid, values, np.nan).astype(float, copy=False)  # float64 already for a float64 force
    if cutoff_hz >= 0.45 * sample_rate_hz:
        return out
    sos = _butter_lowpass(float(cutoff_hz), float(sample_rate_hz))
    padlen = 3 * (2 * len(sos) + 1)
    starts, stops = runs(valid)
    long_enough = (stops - starts) > padlen
    return zero_phase_runs(sos, out, starts[long_enough], stops[long_enough])  # each run in place


@functools.lru_cache(maxsize=32)
def _butter_lowpass(cutoff_hz: float, sample_rate_hz: float) -> np.ndarray:
    """2nd-order Butterworth low-pass sections (designed once per cutoff and rate; numpy, no scipy.signal)."""
    return butter_lowpass_sos(2, cutoff_hz, sample_rate_hz)


def _bridge_short_gaps(smoothed: np.ndarray, valid: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward-fill gaps of at most ``max_gap`` samples (for the coarse state only).

    Returns the filled signal and a mask of samples inside long gaps.
    """
    filled = smoothed.copy()
    starts, stops = runs(~valid)
    if starts.size == 0:
        return filled, np.zeros(valid.size, dtype=bool)
    short = ((stops - starts) <= max_gap) & (starts > 0)
    # the samples of the short gaps (runs of invalid samples, in order and apart) take the last valid value
    # before their gap, the sample before its start, by one index per gap sample (no per-sample pass)
    lengths = (stops - starts)[short]
    if lengths.size:
        first = np.cumsum(lengths) - lengths  # where each gap's samples begin in the list of them all
        at = np.ones(int(lengths.sum()), dtype=np.int64)  # the gap samples, by one cumulative sum of their steps
        at[first[1:]] = starts[short][1:] - stops[short][:-1] + 1
        at[0] = starts[short][0]
        np.cumsum(at, out=at)  # (in place: the steps become the samples)
        filled[at] = np.repeat(smoothed[starts[short] - 1], lengths)
    return filled, _runs_mask(valid.size, starts[~short], stops[~short])


def _runs_mask(n: int, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """True on the runs ``[starts[k], stops[k])`` (in order and apart, as ``runs`` gives them), False elsewhere."""
    edges = np.concatenate([[0], np.column_stack([starts, stops]).reshape(-1), [n]])
    inside = np.zeros(edges.size - 1, dtype=bool)  # each stretch between two edges: a run, or between runs
    inside[1::2] = True
    return np.repeat(inside, np.diff(edges))


def detect_events(
    force: np.ndarray,
    sample_rate_hz: float,
    params: AnalysisParams | None = None,
    *,
    valid: np.ndarray | None = None,
    time_s: np.ndarray | None = None,
    method: str = "level",
    calibrated: bool | None = None,
) -> Contacts:
    """The event stage on its own: contacts, heel strikes and toe offs of one foot's total force.

    ``force``: one foot's vertical force, sample by sample (N, or any unit
    proportional to force with ``calibrated=False``); NaN marks a lost sample,
    and so does False in ``valid`` when given. ``time_s`` defaults to the
    sample index over ``sample_rate_hz``. ``method`` "level" or "shape" (see
    ``AnalysisParams.event_method``; "auto" is resolved by ``analyze`` from the
    recording's unit). The indices of the result are sample indices into ``force``.
    """
    force = np.asarray(force, dtype=float)
    params = params if params is not None else AnalysisParams()
    # (detect_contacts drops the non-finite samples from ``valid`` itself)
    observed = np.isfinite(force) if valid is None else np.asarray(valid, dtype=bool)
    if time_s is None:
        time_s = np.arange(force.size) / float(sample_rate_hz)
    return detect_contacts(time_s, force, observed, float(sample_rate_hz), params, method, calibrated=calibrated)


def detect_contacts(
    time_s: np.ndarray,
    force: np.ndarray,
    valid: np.ndarray,
    sample_rate_hz: float,
    params: AnalysisParams,
    method: str = "level",
    smoothed: np.ndarray | None = None,
    *,
    calibrated: bool | None = None,
) -> Contacts:
    """Find the contacts (heel strike to toe off) of one foot from its total force.

    ``force`` is in any unit proportional to force (N or au); only ratios
    matter. ``valid`` marks observed samples (invalid ones may hold anything).
    ``calibrated``: the force's zero means no load (N; not "au", whose zero is
    arbitrary); None assumes so for the "level" method, the automatic choice
    for calibrated insoles. A calibrated foot whose smoothed force never falls
    below ``unloaded_max_fraction`` of its 95th percentile never unloads: it
    stands throughout, and each run of observed samples is one contact with no
    event (the hysteresis would otherwise take postural sway for steps).
    """
    n = force.size
    valid = np.asarray(valid, dtype=bool)
    # (only read from here on: the caller's mask itself where every force value is finite, the usual case)
    if valid.shape != force.shape or not all_finite(force):
        valid = valid & np.isfinite(force)
    if smoothed is None:
        smoothed = lowpass_by_segment(force, valid, sample_rate_hz, params.event_lowpass_hz)
    if method not in ("level", "shape"):
        raise ValueError(f"event method must be 'level' or 'shape', not {method!r}")
    if np.count_nonzero(valid) < 3:
        return _empty(smoothed)
    gap_free = bool(valid.all())  # (the usual case: the passes that look for gaps are skipped)
    observed = smoothed if gap_free else smoothed[valid]  # only read (``percentiles`` partitions no copy)
    floor, top = (float(v) for v in percentiles(observed, [5, 95]))
    load_range = top - floor
    levels = {"floor": floor, "top": top}
    if not (load_range > 0):
        return _empty(smoothed, levels)

    bridge = max(1, int(round(BRIDGE_GAP_S * sample_rate_hz)))
    long_gap: np.ndarray | None = None  # samples in gaps too long to bridge (None: there is no gap)
    if gap_free:  # nothing to bridge: the smoothed force itself (only read from here on, never written)
        filled = smoothed
    else:
        filled, long_gap = _bridge_short_gaps(smoothed, valid, bridge)
        filled[long_gap] = np.nan  # (in place: ``filled`` is the bridging's own copy)
    if calibrated is None:
        calibrated = method == "level"
    # the lowest observed value, of the same values in another order (only a zero's sign could differ, which
    # no comparison sees): the lowest of the tracked levels' block minima (the filled force holds the observed
    # values, copies of them in short gaps, NaN in long ones); the one stored is taken as it always was
    extremes = _block_extremes(filled, _track_block(sample_rate_hz))
    lowest = float(np.fmin.reduce(extremes[0]))
    if calibrated and top > 0 and lowest > params.unloaded_max_fraction * top:
        levels.update(lowest=float(np.nanmin(smoothed[valid])), never_unloaded=1.0)
        return _standing_throughout(filled, valid, levels)
    # the coarse levels follow a drifting swing floor (an in-shoe load that builds up, a footswitch that
    # creeps): the floor and range of the walking around each sample, the whole foot's where it does not walk
    local_floor, local_range = _tracked_levels(filled, floor, load_range, sample_rate_hz, extremes)
    # the runs of the hysteresis state between the coarse on and off levels, without the state, nor the levels of
    # every sample: both made a piece at a time
    starts, stops = hysteresis_runs_in_pieces(filled, _coarse_level_pieces(
        local_floor, local_range, params.detect_high_fraction, params.detect_low_fraction))
    if starts.size == 0:
        return _empty(smoothed, levels)

    # merge unloadings shorter than min_swing_s (unless a long gap separates them)
    min_swing = int(round(params.min_swing_s * sample_rate_hz))
    if starts.size > 1:
        if long_gap is None:
            between_long_gap = np.zeros(starts.size - 1, dtype=bool)
        else:
            between_long_gap = reduce_intervals(np.logical_or, long_gap, stops[:-1], starts[1:])
        merge = ((starts[1:] - stops[:-1]) < min_swing) & ~between_long_gap
        keep_start = np.concatenate([[True], ~merge])
        keep_stop = np.concatenate([~merge, [True]])
        starts, stops = starts[keep_start], stops[keep_stop]
    min_stance = int(round(params.min_stance_s * sample_rate_hz))
    long_enough = (stops - starts) >= max(min_stance, 1)
    starts, stops = starts[long_enough], stops[long_enough]
    starts, stops = _split_long_contacts(filled, starts, stops, local_floor, local_range, sample_rate_hz, params)
    m = starts.size
    if m == 0:
        return _empty(smoothed, levels)

    window = int(round(_FLOOR_WINDOW_S * sample_rate_hz))
    prev_stop = np.concatenate([[0], stops[:-1]])
    next_start = np.concatenate([starts[1:], [n]])
    before_lo = np.maximum(prev_stop, starts - window)
    after_hi = np.minimum(next_start, stops + window)

    # every smoothed value finite (no gap, the usual case): the copies with gaps as -inf or +inf are the force
    # itself, only read
    finite = all_finite(smoothed)
    peaks_of = smoothed if finite else nan_to_num_inplace(smoothed.copy(), nan=-np.inf)  # a gap is never a peak
    # heel strike is sought before the first peak (weight acceptance) and toe
    # off after the last (push-off): a deep mid-stance valley is not an edge
    middle = (starts + stops) // 2
    first_peak = interval_argmax(peaks_of, starts, np.maximum(middle, starts + 1), finite=finite)
    last_peak = interval_argmax(peaks_of, middle, stops, finite=finite)
    peak_index = _first_of_two_maxima(peaks_of, first_peak, last_peak, middle > starts, starts, stops)
    peak = smoothed[peak_index]
    gaps_high = smoothed if finite else np.where(np.isnan(smoothed), np.inf, smoothed)  # NaN ignored by minima
    floor_before = _interval_nanmin(smoothed, before_lo, starts, gaps_high)
    # a swing no longer than the floor window is both the swing after one contact and the swing before the next:
    # its floor, read once, is both (the same reduction of the same samples); the others' read on their own
    shared = np.zeros(m, dtype=bool)
    shared[:-1] = (stops[:-1] == before_lo[1:]) & (after_hi[:-1] == starts[1:])
    floor_after = np.empty(m)
    floor_after[:-1][shared[:-1]] = floor_before[1:][shared[:-1]]
    own = np.flatnonzero(~shared)
    floor_after[own] = _interval_nanmin(smoothed, stops[own], after_hi[own], gaps_high)
    del gaps_high
    # the scale of the levels: the typical peak of this foot's walking contacts
    # (one scale per foot keeps a weak step's events where a strong step's are)
    walking = (stops - starts) <= params.max_stance_s * sample_rate_hz
    typical_peak = float(np.median(peak[walking])) if walking.any() else top
    levels["typical_peak"] = typical_peak

    touched = np.zeros(m, dtype=bool)  # heel strikes on a touch before the main rise
    edge: tuple[np.ndarray, np.ndarray | None]  # the edge rules' signal with NaN as 0, and its slope
    if method == "level":
        hs, hs_ok = _heel_strike_level(smoothed, before_lo, first_peak, floor_before, typical_peak, params)
        to, to_ok = _toe_off_level(smoothed, last_peak, np.minimum(after_hi, _next_heel_strike(hs, hs_ok, n)),
                                   floor_after, typical_peak, params)
        edge_signal = smoothed
        # the slope is read only from each known heel strike to its first peak (_onset_clarity, some 15 % of the
        # samples): made there alone, not for the whole foot
        edge = (_clean(smoothed, finite=finite), None)
    else:
        shape = lowpass_by_segment(force, valid, sample_rate_hz, params.shape_lowpass_hz)
        edge_signal = shape
        edge = _clean_and_slope(shape)  # the rules below all read these two: made once
        knee, hs_ok = _heel_strike_knee(shape, before_lo, first_peak, params, clean=edge)
        hs = _earlier_touch(shape, before_lo, knee, hs_ok, first_peak, peak_index, sample_rate_hz, params, clean=edge)
        touched = (hs != knee) | _lifts_after(shape, hs, first_peak, sample_rate_hz, params, clean=edge)
        # a toe off lies before the next contact's heel strike: a heel tap in the swing (below the coarse on
        # level, so before the next coarse contact) falls more steeply than a slow unloading and is no toe off
        next_hs = np.minimum(next_start, _next_heel_strike(hs, hs_ok, n))
        to, to_ok = _toe_off_shape(shape, last_peak, np.minimum(after_hi, next_hs), next_hs, floor_after,
                                   sample_rate_hz, params, clean=edge)
    # a contact already under way when the recording (or a run of samples after a long gap) begins has no
    # observed heel strike, and one still under way when it ends no observed toe off: never guessed
    unobserved = np.zeros(0, dtype=np.int64) if finite and filled is smoothed else np.flatnonzero(~np.isfinite(filled))
    run_start = last_at_or_before(unobserved, starts, n) + 1
    hs_ok &= starts > run_start
    # a run's first contact may be under way though its force starts below the coarse on level (the recording
    # starts on its loading rise): its heel strike is kept only where the foot was seen unloaded before it, the
    # force down to the floor of the swing after the contact (within contact_on_fraction of the rise, as a heel
    # strike's level), or a swing's length (min_swing_s) of samples in the run before the heel strike
    first_in_run = np.flatnonzero(hs_ok & (before_lo <= run_start) & (hs > run_start) & (hs - run_start < min_swing))
    if first_in_run.size:
        lowest_before = reduce_intervals(np.minimum, np.where(np.isnan(smoothed), np.inf, smoothed),
                                         run_start[first_in_run], hs[first_in_run])
        swing_floor = np.where(np.isfinite(floor_after[first_in_run]), floor_after[first_in_run],
                               local_floor.at(starts[first_in_run]))
        unloaded = swing_floor + params.contact_on_fraction * (peak[first_in_run] - swing_floor)
        hs_ok[first_in_run[~(lowest_before <= unloaded)]] = False
    to_ok &= stops < next_at_or_after(unobserved, np.maximum(stops - 1, 0), n)
    hs_safe = np.clip(hs, 0, n - 1)
    hs_ok &= valid[hs_safe] & valid[np.maximum(hs_safe - 1, 0)]
    to_safe = np.clip(to, 0, n - 1)
    to_ok &= valid[to_safe] & valid[np.maximum(to_safe - 1, 0)]

    hs = np.where(hs_ok, hs, -1)
    to = np.where(to_ok, to, -1)

    # gaps inside the contact (between heel strike, or coarse start, and toe off)
    span_lo = np.where(hs >= 0, hs, starts)
    span_hi = np.where(to >= 0, to, stops)
    has_gap = np.zeros(m, dtype=bool) if gap_free else count_true_between(~valid, span_lo, span_hi) > 0
    long_gap_before = np.zeros(m, dtype=bool)
    if long_gap is not None:
        long_gap_before[1:] = count_true_between(long_gap, stops[:-1], starts[1:]) > 0

    # confidence: how far the contact rises above its floor (vs the foot's
    # range), how high the residual floor sits above the tracked swing floor,
    # and how sharp the edge is
    track_floor = local_floor.at(starts)
    track_range = local_range.at(starts)

    def confidence(local_floor_k: np.ndarray, edge_samples: np.ndarray) -> np.ndarray:
        contrast = np.clip((peak - local_floor_k) / (typical_peak - floor) / 0.5, 0, 1)
        residual = 1 - np.clip((local_floor_k - track_floor) / track_range / 0.5, 0, 1)
        edge_s = edge_samples / sample_rate_hz
        sharp = 1 - np.clip((edge_s - _SHARP_RISE_S) / (2 * _SHARP_RISE_S), 0, 1)
        return np.nan_to_num(contrast * residual * sharp)

    mid_on = floor_before + 0.5 * (peak - floor_before)
    first_mid = _seen_from(smoothed, before_lo, first_peak, mid_on, np.greater_equal, np.maximum(hs, 0), hs >= 0,
                           last=False)
    hs_conf = confidence(floor_before, np.abs(first_mid - hs))
    swing_from = np.concatenate([[0], np.where(to[:-1] >= 0, to[:-1], stops[:-1])])  # the previous toe off
    hs_conf *= _onset_clarity(edge_signal, hs, first_peak, swing_from, floor_before, peak, sample_rate_hz,
                              clean=edge)
    # a heel strike on a touch is one reading of two: another reader (the gaitndd laboratory on most Parkinson's
    # taps) puts it on the landing, however steep and clear the touch itself is
    hs_conf = np.where(touched, np.minimum(hs_conf, _TOUCH_CONFIDENCE), hs_conf)
    hs_conf = np.where(hs >= 0, hs_conf, np.nan)
    mid_off = floor_after + 0.5 * (peak - floor_after)
    last_mid = _seen_from(smoothed, last_peak, after_hi, mid_off, np.greater_equal, np.maximum(to, 0), to >= 0,
                          last=True)
    to_conf = np.where(to >= 0, confidence(floor_after, np.abs(to - last_mid)), np.nan)

    return Contacts(
        heel_strike_index=hs.astype(np.int64),
        toe_off_index=to.astype(np.int64),
        peak_index=peak_index.astype(np.int64),
        start_index=starts.astype(np.int64),
        stop_index=stops.astype(np.int64),
        heel_strike_confidence=hs_conf,
        toe_off_confidence=to_conf,
        has_gap=has_gap,
        long_gap_before=long_gap_before,
        levels=levels,
    )


# The drifting floor: blocks of this length (s), their lowest and highest smoothed force, judged in
# windows of this many seconds either side of each block.
_TRACK_BLOCK_S = 0.5
_TRACK_HALF_WINDOW_S = 5.0
# A window walks (and its own floor and range are used) when its range is at least this fraction of the foot's.
_TRACK_MIN_RANGE = 0.5


def _row_nanpercentiles(rows: np.ndarray, qs: tuple[float, ...], count: np.ndarray | None = None
                        ) -> list[np.ndarray]:
    """``np.nanpercentile(rows, q, axis=1)`` (linear interpolation) for each ``q``, by one sort, without a
    Python loop per row.

    Every row must hold at least one finite value. ``count``: each row's number of finite values
    (``np.isfinite(rows).sum(axis=1)``), when the caller has it already.
    """
    # NaN sorts last, as the +inf it used to be replaced by: the first ``count`` sorted values of each row, the
    # only ones read, are the same
    ordered = np.sort(rows, axis=1)
    if count is None:
        count = np.isfinite(ordered).sum(axis=1)
    return [_sorted_percentile(ordered, count, q) for q in qs]


def _sorted_percentile(ordered: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` th percentile of each row of ``ordered`` (sorted; its first ``count`` values finite, at least
    one: the ranks are read as indices into the flattened rows)."""
    last = count - 1
    position = q / 100.0 * last
    below = np.floor(position)  # (a whole number: the same difference position - below as with its integer)
    width = ordered.shape[1]
    row_start = np.arange(0, below.size * width, width)  # the ranks as indices into the flattened rows
    at = below.astype(np.int64)
    at += row_start
    flat = ordered.reshape(-1)
    low = flat[at]
    last += row_start  # (in place, read no more as a rank)
    np.minimum(at + 1, last, out=at)  # the rank above, at most the last finite value's
    high = flat[at]
    # low + (position - below) x (high - low), in place in the arrays made here (the same operations)
    high -= low
    position -= below
    position *= high
    position += low
    return position


@dataclass(frozen=True, eq=False)
class _Track:
    """A per-sample level held as its values at the centres of blocks of ``block`` samples, linear between them
    (``_centre_interp``; one value: that value throughout). Its whole array is never made: the coarse levels read
    it a piece at a time (``_centre_interp_pieces``), other rules single samples with ``at``, the same numbers."""

    n: int
    block: int
    values: np.ndarray

    def at(self, index: np.ndarray) -> np.ndarray:
        return _centre_interp_at(self.n, self.block, self.values, index)


# The coarse levels are made in pieces of about this many samples (whole spans between block centres): the
# piece's floor, range, levels and switch masks stay in a core's cache (2 MB of L2 here), in half as many pieces
# (each some 26 numpy calls, the GIL held for each call's set-up) as with 1 << 14: one foot of the hour,
# median of 100, 4 rounds, 2.14 -> 2.00 ms (1 << 16: 3.4 ms, out of cache)
_LEVEL_PIECE = 1 << 15


def _coarse_level_pieces(floor: _Track, load_range: _Track, high_fraction: float,
                         low_fraction: float) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """The coarse detector's on and off levels, ``floor + fraction x range`` of the tracked levels, a piece at
    a time: ``(first sample, on level, off level)`` for consecutive pieces (``hysteresis_runs_in_pieces``), each
    piece's arrays reused for the next, instead of two arrays of the whole recording.

    Each level is the same product and sum as ``fraction * range + floor`` of the whole arrays: the piece's floor
    and range (``_centre_interp_pieces``, the same numbers as ``_centre_interp``) are turned into the on level
    (in a scratch array) and the off level (in place of the range).
    """
    spans = max(1, _LEVEL_PIECE // floor.block)
    scratch = np.empty(spans * floor.block)
    for (lo, floor_piece), (lo_range, range_piece) in zip(_centre_interp_pieces(floor, spans),
                                                          _centre_interp_pieces(load_range, spans), strict=True):
        assert lo == lo_range  # (one length and block for both: the same pieces)
        on = np.multiply(range_piece, high_fraction, out=scratch[:range_piece.size])
        on += floor_piece
        range_piece *= low_fraction  # the off level, in place of the range (the generator's, remade each piece)
        range_piece += floor_piece
        yield lo, on, range_piece


def _centre_interp_pieces(track: _Track, spans: int) -> Iterator[tuple[int, np.ndarray]]:
    """``_centre_interp(track.n, track.block, track.values)`` a piece at a time, as ``(first sample, values)``:
    the samples before the first block centre, then ``spans`` spans between centres at a time, then those at and
    after the last centre (pieces that depend on the length, block and number of values only). Each piece is
    written into one array (the caller reads, and may change, a piece before asking for the next). The same
    numbers: each span's ``slope x offset + left value`` as there (elementwise, whole spans; a span cut by the
    recording's end made whole, then cut); non-finite values cut from ``_centre_interp``'s whole array."""
    n, block, values = track.n, track.block, track.values
    size = spans * block
    m = values.size
    # non-finite values: np.interp's whole array (``_centre_interp``), cut into the same pieces
    whole = _centre_interp(n, block, values) if m >= 2 and not np.isfinite(values).all() else None
    out = np.empty(size)
    first = -(-block // 2)  # the first sample at or after the first centre (block / 2)
    end = n if m < 2 else min(first, n)  # (one value: that value throughout)
    for lo in range(0, end, size):  # before the first centre: its value
        piece = out[:min(size, end - lo)]
        piece[:] = values[0] if whole is None else whole[lo:lo + piece.size]
        yield lo, piece
    if m < 2:
        return
    last_centre = min(first + (m - 1) * block, n)  # at and after the last centre: its value
    offsets = (first - 0.5 * block) + np.arange(block)  # sample minus left centre (exact: halves of integers)
    # centres are ``block`` apart exactly; none when the pieces are cut from ``whole`` (non-finite values)
    slopes = (values[1:] - values[:-1]) / block if whole is None else None
    tiled, spread = np.tile(offsets, spans), np.empty(size)
    for k0 in range(0, m - 1, spans):
        lo = first + k0 * block
        if lo >= last_centre:
            break
        k1 = min(k0 + spans, m - 1, k0 + -(-(last_centre - lo) // block))  # the spans holding samples
        if whole is not None:
            piece = out[:min((k1 - k0) * block, last_centre - lo)]
            piece[:] = whole[lo:lo + piece.size]
            yield lo, piece
            continue
        # slope x offset + left value of every sample, as 1-D products of the spans' slopes and left values spread
        # over their samples (by copyto, into ``spread``) and the offsets laid end to end: the 2-D broadcast
        # products allocate numpy's iterator buffers (~130 kB) a call, a piece
        assert slopes is not None
        count = (k1 - k0) * block
        rows = out[:count].reshape(k1 - k0, block)
        np.copyto(spread[:count].reshape(k1 - k0, block), slopes[k0:k1, None])
        np.multiply(spread[:count], tiled[:count], out=out[:count])
        np.copyto(spread[:count].reshape(k1 - k0, block), values[k0:k1, None])
        out[:count] += spread[:count]
        if offsets[0] == 0:  # a sample on a centre takes its value (as np.interp does)
            rows[:, 0] = values[k0:k1]
        yield lo, out[:min((k1 - k0) * block, last_centre - lo)]
    for lo in range(last_centre, n, size):
        piece = out[:min(size, n - lo)]
        piece[:] = values[-1] if whole is None else whole[lo:lo + piece.size]
        yield lo, piece


def _track_block(sample_rate_hz: float) -> int:
    """The samples of one block of the tracked levels (``_TRACK_BLOCK_S``)."""
    return max(1, int(round(_TRACK_BLOCK_S * sample_rate_hz)))


def _tracked_levels(filled: np.ndarray, floor: float, load_range: float, sample_rate_hz: float,
                    extremes: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[_Track, _Track]:
    """Per-sample swing floor and load range of the walking around each sample (the coarse detector's scale).

    In 0.5 s blocks, the lowest and the highest smoothed force; over the
    blocks within 5 s either side, the floor is the 10th percentile of the
    block minima and the top the 90th percentile of the block maxima (a
    window of ~8 strides holds several swings and several contacts, and a
    lone spike or dip moves neither). Where that window's range is under half
    of the foot's whole-recording range (standing, sway, a pause), the
    foot's own floor and range are kept, so that standing stays one contact.

    ``extremes``: ``_block_extremes(filled, _track_block(sample_rate_hz))`` when the caller has them already.
    """
    n = filled.size
    block = _track_block(sample_rate_hz)
    n_blocks = -(-n // block)
    half = max(1, int(round(_TRACK_HALF_WINDOW_S / _TRACK_BLOCK_S)))
    if n_blocks < 2 * half + 1:  # shorter than one window: the whole recording is the window
        return _Track(n, block, np.array([floor], dtype=float)), _Track(n, block, np.array([load_range], dtype=float))
    lows, highs = extremes if extremes is not None else _block_extremes(filled, block)
    edge = np.full(half, np.nan)
    width = 2 * half + 1
    padded_lo, padded_hi = np.concatenate([edge, lows, edge]), np.concatenate([edge, highs, edge])
    windows_lo = np.lib.stride_tricks.sliding_window_view(padded_lo, width)
    windows_hi = np.lib.stride_tricks.sliding_window_view(padded_hi, width)
    # each window's finite blocks, from a running count over the blocks (not a sum over every window's row)
    finite_blocks = _window_counts(np.isfinite(padded_lo), width)
    finite_hi = _window_counts(np.isfinite(padded_hi), width)
    counted = finite_blocks >= 4
    local_floor = np.full(n_blocks, floor)
    local_top = np.full(n_blocks, floor + load_range)
    typical_low = np.full(n_blocks, floor)
    typical_high = np.full(n_blocks, floor)
    if counted.all():  # (the usual case) the windows as they lie: _row_nanpercentiles copies them once, to sort
        local_floor[:], typical_low[:] = _row_nanpercentiles(windows_lo, (10.0, 75.0), finite_blocks)
        local_top[:], typical_high[:] = _row_nanpercentiles(windows_hi, (90.0, 25.0), finite_hi)
    elif counted.any():
        local_floor[counted], typical_low[counted] = _row_nanpercentiles(windows_lo[counted], (10.0, 75.0),
                                                                         finite_blocks[counted])
        local_top[counted], typical_high[counted] = _row_nanpercentiles(windows_hi[counted], (90.0, 25.0),
                                                                        finite_hi[counted])
    walking = (local_top - local_floor) >= _TRACK_MIN_RANGE * load_range
    # At the recording's ends the window is one-sided: a few last steps beside standing fill its top decile,
    # and the sway of standing on a floor taken from the standing load looks like steps. There, walking
    # also needs a quarter of the window's blocks to reach down to swings and a quarter up to contacts.
    one_sided = finite_blocks < 2 * half + 1
    walking &= ~one_sided | ((typical_high - typical_low) >= _TRACK_MIN_RANGE * load_range)
    local_floor = np.where(walking, local_floor, floor)
    local_range = np.where(walking, local_top - local_floor, load_range)
    return _Track(n, block, local_floor), _Track(n, block, local_range)


def _window_counts(flags: np.ndarray, width: int) -> np.ndarray:
    """``sliding_window_view(flags, width).sum(axis=1)`` of a 1-D boolean array: the difference of a running count
    ``width`` apart (exact integers)."""
    running = np.zeros(flags.size + 1, dtype=np.int64)
    np.cumsum(flags, out=running[1:])
    return running[width:] - running[:-width]


def _block_extremes(filled: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Each block's lowest and highest value, NaN where it has none (what nanmin / nanmax reduce with): the blocks
    read where they lie, one 1-D ``reduceat`` each (a last partial block is reduced over the samples it has, as
    padding it with NaN would: ``fmin`` and ``fmax`` pass NaN by). A 1-D ``reduceat`` runs 2x quicker than a
    reduction along the rows of the (blocks, block) array, whose inner loop starts once per block."""
    bounds = np.arange(0, filled.size, block)
    return np.fmin.reduceat(filled, bounds), np.fmax.reduceat(filled, bounds)


def _centre_interp(n: int, block: int, values: np.ndarray) -> np.ndarray:
    """``np.interp(np.arange(n), (np.arange(m) + 0.5) * block, values)``, the same numbers by whole blocks.

    Between two block centres the samples sit at the same offsets from the left centre in every block, so
    each sample's ``slope x offset + left value`` (np.interp's own formula, in the same two roundings) is one
    broadcast product instead of a search per sample. Non-finite values go to ``np.interp`` itself.
    """
    m = values.size
    if m < 2 or not np.isfinite(values).all():
        return np.interp(np.arange(n), (np.arange(m) + 0.5) * block, values)
    first = -(-block // 2)  # the first sample at or after the first centre (block / 2)
    out = np.empty(n)
    out[:min(first, n)] = values[0]  # before the first centre: its value
    rows = min(m - 1, max(0, -(-(n - first) // block)))  # spans between two centres holding samples
    if rows > 0:
        offsets = (first - 0.5 * block) + np.arange(block)  # sample minus left centre (exact: halves of integers)
        slopes = (values[1:rows + 1] - values[:rows]) / block  # centres are ``block`` apart exactly
        whole = min(rows, (n - first) // block)  # spans wholly inside: written in place
        inner = out[first:first + whole * block].reshape(whole, block)
        np.multiply(slopes[:whole, None], offsets[None, :], out=inner)
        inner += values[:whole, None]
        if whole < rows:  # the last span, cut by the end of the recording
            last = slopes[whole] * offsets + values[whole]
            out[first + whole * block:] = last[:n - first - whole * block]
        if offsets[0] == 0:  # a sample on a centre takes its value (as np.interp does)
            out[first:first + rows * block:block] = values[:rows]
    out[first + (m - 1) * block:] = values[-1]  # at and after the last centre: its value
    return out


def _centre_interp_at(n: int, block: int, values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``_centre_interp(n, block, values)[index]`` (indices in ``[0, n)``) without the whole array: each sample by
    the same formula and roundings, ``slope x offset + left value`` in the span between two block centres."""
    index = np.asarray(index, dtype=np.int64)
    m = values.size
    if m < 2 or not np.isfinite(values).all():  # np.interp, as there (it takes each sample on its own)
        return np.interp(index, (np.arange(m) + 0.5) * block, values)
    first = -(-block // 2)
    span = (index - first) // block  # the span a sample lies in (from the centre before it); -1 before the first
    out = np.where(span < 0, values[0], values[-1])  # before the first centre / at or after the last
    inside = np.flatnonzero((span >= 0) & (span < m - 1))
    if inside.size:
        k = span[inside]
        step = index[inside] - first - k * block  # the sample's place in its span
        offsets = (first - 0.5 * block) + np.arange(block)  # as in _centre_interp
        slopes = (values[k + 1] - values[k]) / block
        found = slopes * offsets[step] + values[k]
        if offsets[0] == 0:  # a sample on a centre takes its value
            found = np.where(step == 0, values[k], found)
        out[inside] = found
    return out


# The onset of a rise is clear when its steepest point follows within _ONSET_STEEP_S (a clean heel strike's
# comes 10-30 ms after it; confidence halves at twice that and is gone at three times) and nothing loaded the
# foot by more than _SHOULDER_FRACTION of the contact's rise in the _SHOULDER_S before it (halved at twice that).
_ONSET_STEEP_S = 0.03
_SHOULDER_S = 0.3
_SHOULDER_FRACTION = 0.15


def _onset_clarity(signal, hs, first_peak, swing_from, floor_before, peak, sample_rate_hz, clean=None):
    """0-1 per heel strike: low where the onset is ambiguous (a two-stage or creeping rise, or a touch before it).

    Two signs that another reader (or another rule) would put the heel strike
    elsewhere: the rise's steepest point comes long after the onset (the
    force creeps, or rises in two stages), and the foot already carried part
    of the contact's load in the moments before the onset (a brief touch, a
    partial unloading, a shuffle), counted from the previous toe off. Both
    are measured on the signal the heel strike was found on.

    Contacts without a heel strike (``hs`` < 0: one that begins in a gap) get 0 and take no part: searched from
    the recording's start, each would reach over every contact before it (memory and time growing with the
    recording's length, and its level painted over theirs).
    """
    known = np.asarray(hs) >= 0
    out = np.zeros(np.size(hs))
    if known.any():
        values, slope = clean if clean is not None else _clean_and_slope(signal)
        out[known] = _onset_clarity_known(signal.size, values, slope, np.asarray(hs)[known],
                                          *(np.asarray(x)[known] for x in (first_peak, swing_from, floor_before,
                                                                           peak)), sample_rate_hz)
    return out


def _onset_clarity_known(n, values, slope, hs, first_peak, swing_from, floor_before, peak, sample_rate_hz):
    """``_onset_clarity`` of contacts that all have a heel strike. ``slope``: ``gradient(values)``, or None to
    make it only where it is read."""
    at = np.clip(hs, 0, n - 1)
    # when the rise gets (nearly) as steep as it will get: the first sample at 90 % of its steepest slope
    # (a straight ramp has no single steepest sample)
    hi = np.maximum(first_peak, at + 1)
    if slope is None and n >= 2 and values.ndim == 1 and values.dtype == np.float64 and bool(np.all(at[1:] >= hi[:-1])):
        # the rises in order and apart (the usual case): the slope of their samples only, laid end to end
        # (gradient_of_intervals: the same numbers); the steepest sample and those steep enough found among
        # them, then read as sample indices
        lengths = hi - at
        first = np.cumsum(lengths) - lengths
        ends = first + lengths
        rises = gradient_of_intervals(values, at, hi)
        steepest_at = interval_argmax(rises, first, ends)
        steepest = at + (steepest_at - first)
        found = _painted_true(rises, first, ends, 0.9 * rises[steepest_at], np.greater_equal)
        rise = np.searchsorted(first, found, side="right") - 1
        steep_enough = at[rise] + (found - first[rise])
    else:
        slope = slope if slope is not None else gradient(values)
        steepest = interval_argmax(slope, at, hi)
        steep_enough = _painted_true(slope, at, hi, 0.9 * slope[steepest], np.greater_equal)
    delay_s = (np.minimum(next_at_or_after(steep_enough, at, n), steepest) - at) / sample_rate_hz
    steep = 1 - np.clip((delay_s - _ONSET_STEEP_S) / (2 * _ONSET_STEEP_S), 0, 1)
    window = max(1, int(round(_SHOULDER_S * sample_rate_hz)))
    lo = np.minimum(np.maximum(swing_from, at - window), at)
    high, low = reduce_short_intervals((np.maximum, np.minimum), values, lo, at + 1)
    rise = np.where(peak - floor_before > 0, peak - floor_before, np.inf)
    shoulder_fraction = (high - low) / rise
    shoulder = 1 - np.clip((shoulder_fraction - _SHOULDER_FRACTION) / (2 * _SHOULDER_FRACTION), 0, 1)
    return np.nan_to_num(steep * shoulder)


def _split_long_contacts(filled, starts, stops, floor, load_range, sample_rate_hz, params):
    """Split contacts far longer than the foot's typical one at a deep unloading inside them.

    In a shuffling turn the foot may never unload down to the coarse off
    level, and a residual in-shoe load can hold a short swing above it; two
    steps then look like one long contact. A contact longer than
    ``split_stance_factor`` x the median walking contact is split at its
    lowest inner point when that point lies below ``split_depth_fraction`` of
    the load range there and the force on both sides of it climbs back by at
    least ``detect_high_fraction`` of the range (a step, not the sway of
    standing on both feet, whose load hovers at half the walking range); each
    part lasts at least ``min_stance_s``. Repeated while such points remain.
    Contacts of ordinary length are never split, however deep their
    mid-stance valley. A contact longer than ``max_stance_s`` (standing, or a
    shuffle that never unloads) is split only where the unloading is as quick
    as a swing: the force leaves the climb-back level and returns to it
    within twice the foot's median swing. A weight shift while standing
    unloads a foot slowly; a shuffling step lifts and replaces it in a swing's time.

    ``floor`` and ``load_range`` are the tracked levels (read at the dips only).
    """
    n = filled.size
    lengths = stops - starts
    walking = lengths <= params.max_stance_s * sample_rate_hz
    if walking.sum() < 3:
        return starts, stops
    longest = params.split_stance_factor * float(np.median(lengths[walking]))
    swings = starts[1:] - stops[:-1]
    typical_swing = float(np.median(swings[walking[1:] & walking[:-1]])) if (walking[1:] & walking[:-1]).any() else 0
    quick = max(2.0 * typical_swing, 1.0)
    min_part = max(1, int(round(params.min_stance_s * sample_rate_hz)))
    values = climbing = None  # the force with gaps as +inf (never a dip) and -inf (never a climb), once needed
    standing = params.max_stance_s * sample_rate_hz
    for _ in range(64):  # one split per long contact per pass (a shuffling bout may hold many steps)
        lengths = stops - starts
        candidate = np.flatnonzero((lengths > longest) & (lengths > 2 * min_part))
        if candidate.size == 0:
            break
        if values is None or climbing is None:
            values = np.where(np.isnan(filled), np.inf, filled)  # a long gap is never a dip
            climbing = np.where(np.isinf(values), -np.inf, values)
        lo, hi = starts[candidate], stops[candidate]
        dip = interval_argmax(-values, lo + min_part, hi - min_part)
        before = reduce_intervals(np.maximum, climbing, lo, dip)
        after = reduce_intervals(np.maximum, climbing, dip + 1, hi)
        # a step, not a sway: the force climbs back by a clear excursion on both sides
        range_at = load_range.at(dip)
        excursion = params.detect_high_fraction * range_at
        deep = values[dip] < floor.at(dip) + params.split_depth_fraction * range_at
        split = deep & (before - values[dip] >= excursion) & (after - values[dip] >= excursion)
        # in a contact longer than standing, only a swing-quick unloading is a step
        back = values[dip] + excursion
        above = _painted_true(climbing, lo, hi, back, np.greater_equal)
        left_edge = last_at_or_before(above, dip, n)
        right_edge = next_at_or_after(above, dip, n)
        swift = (right_edge - left_edge) <= quick
        split &= (lengths[candidate] <= standing) | swift
        if not split.any():
            break
        which, at = candidate[split], dip[split]
        starts = np.insert(starts, which + 1, at + 1)
        stops = np.insert(stops, which, at)
    return starts, stops


def _standing_throughout(filled: np.ndarray, valid: np.ndarray, levels: dict[str, float]) -> Contacts:
    """One contact per run of observed samples (long gaps split them), with no heel strike or toe off."""
    starts, stops = runs(np.isfinite(filled))
    m = starts.size
    unknown = np.full(m, -1, dtype=np.int64)
    return Contacts(
        heel_strike_index=unknown,
        toe_off_index=unknown.copy(),
        peak_index=interval_argmax(np.nan_to_num(filled, nan=-np.inf), starts, stops).astype(np.int64),
        start_index=starts.astype(np.int64),
        stop_index=stops.astype(np.int64),
        heel_strike_confidence=np.full(m, np.nan),
        toe_off_confidence=np.full(m, np.nan),
        has_gap=count_true_between(~valid, starts, stops) > 0,
        long_gap_before=np.arange(m) > 0,
        levels=levels,
    )


def _empty(smoothed: np.ndarray, levels: dict[str, float] | None = None) -> Contacts:
    none = np.zeros(0, dtype=np.int64)
    return Contacts(none, none, none, none, none, np.zeros(0), np.zeros(0), np.zeros(0, bool), np.zeros(0, bool),
                    levels or {})


def _interval_nanmin(values: np.ndarray, starts: np.ndarray, stops: np.ndarray,
                     filled: np.ndarray | None = None) -> np.ndarray:
    """Minimum ignoring NaN over each interval; NaN for empty or all-NaN intervals.

    ``filled``: ``np.where(np.isnan(values), np.inf, values)`` when the caller has it already.
    """
    out = np.full(starts.size, np.nan)
    nonempty = stops > starts
    if nonempty.any():
        if filled is None:
            filled = np.where(np.isnan(values), np.inf, values)
        result = reduce_intervals(np.minimum, filled, starts[nonempty], stops[nonempty])
        out[nonempty] = np.where(np.isinf(result), np.nan, result)
    return out


def _clean_and_slope(signal: np.ndarray, finite: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The signal with NaN as 0 (infinities as the largest floats, as ``np.nan_to_num`` makes them) and its
    ``np.gradient``; a signal without NaN or infinity is used as it is (no copy). Both only read by the
    edge rules. ``finite``: whether every value is finite, when the caller knows it already."""
    values = _clean(signal, finite)
    return values, gradient(values)


def _clean(signal: np.ndarray, finite: bool | None = None) -> np.ndarray:
    """``_clean_and_slope(signal, finite)[0]``, without the slope."""
    values = np.asarray(signal)
    if not (all_finite(values) if finite is None else finite):
        values = nan_to_num_inplace(np.array(values))
    return values


def _first_of_two_maxima(values: np.ndarray, first: np.ndarray, second: np.ndarray, split: np.ndarray,
                         starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``interval_argmax(values, starts, stops)`` of NaN-free ``values`` from the argmax of each interval's two
    halves, ``first`` over ``[start, middle)`` and ``second`` over ``[middle, stop)``, where ``split`` (the middle
    lies inside): the first maximum of the whole is the first half's unless the second half's is larger. Values
    are compared as ``interval_argmax`` compares them (infinities as the largest finite floats). Where
    ``split`` is False the interval is taken whole.
    """
    first_key = np.nan_to_num(values[first])
    second_key = np.nan_to_num(values[second])
    found = np.where(first_key >= second_key, first, second)
    if not split.all():
        whole = np.flatnonzero(~split)
        found[whole] = interval_argmax(values, starts[whole], stops[whole])
    return found


def _paint(n: int, starts: np.ndarray, stops: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """A per-sample array holding ``levels[k]`` on ``[starts[k], stops[k])`` (NaN elsewhere).

    Intervals must not overlap each other; later intervals win where they touch.
    """
    out = np.full(n, np.nan)
    lengths = np.maximum(stops - starts, 0)
    if lengths.sum() == 0:
        return out
    owner = np.repeat(np.arange(starts.size), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[np.repeat(starts, lengths) + offsets] = levels[owner]
    return out


def _painted_true(values: np.ndarray, starts: np.ndarray, stops: np.ndarray, levels: np.ndarray,
                  compare: np.ufunc) -> np.ndarray:
    """``np.flatnonzero(compare(values, _paint(values.size, starts, stops, levels)))``: the samples inside the
    intervals where ``values`` compares true with the interval's level (NaN on either side: false).

    Intervals in order and apart (the usual case) are read where they lie, without painting every sample;
    any other set is painted as ``_paint`` does (later intervals win), so the samples found are the same.
    ``compare`` must be false where the level is NaN (less, greater, greater_equal...: not not_equal).
    """
    n = values.size
    lengths = np.maximum(stops - starts, 0)
    some = lengths > 0
    s, e = starts[some], stops[some]
    if s.size and (s[0] < 0 or e[-1] > n or bool(np.any(s[1:] < e[:-1]))):
        return np.flatnonzero(compare(values, _paint(n, starts, stops, levels)))
    if s.size == 0:
        return np.zeros(0, dtype=np.int64)
    counts = lengths[some]
    covered = int(counts.sum())
    span_lo, span_hi = int(s[0]), int(e[-1])
    level_of = np.asarray(levels, dtype=np.float64)[some]
    # Two ways to the same samples, whichever writes fewer bytes (the temporaries are the cost here: a heel
    # strike's or toe off's intervals cover about half the recording). Where the intervals cover much of their
    # span: one level per sample of the span (NaN between intervals, where no comparison is true), compared with
    # the signal where it lies (9 bytes a sample). Where they cover little of it: the covered samples' positions,
    # values and levels only (25 bytes a covered sample).
    if 9 * (span_hi - span_lo) <= 25 * covered:
        edges = np.empty(2 * s.size, dtype=np.int64)  # interval starts and stops, interleaved
        edges[0::2] = s
        edges[1::2] = e
        level = np.full(2 * s.size - 1, np.nan)  # each interval's level, NaN on the stretch before the next
        level[0::2] = level_of
        found = np.flatnonzero(compare(values[span_lo:span_hi], np.repeat(level, np.diff(edges))))
        found += span_lo  # (in place: the found samples as indices into ``values``)
        return found
    # the positions by one cumulative sum of their steps: 1 within an interval, the jump over the stretch
    # between two intervals at an interval's first sample
    position = np.ones(covered, dtype=np.int64)
    first = np.cumsum(counts) - counts
    position[first[1:]] = s[1:] - e[:-1] + 1
    position[0] = span_lo
    np.cumsum(position, out=position)  # (in place: the steps become the positions)
    return position[compare(values.take(position), np.repeat(level_of, counts))]


def _apart(starts: np.ndarray, stops: np.ndarray, n: int) -> bool:
    """The non-empty intervals lie inside ``[0, n)``, in order and apart (as ``_painted_true`` reads them directly)."""
    some = stops > starts
    s, e = starts[some], stops[some]
    return not (s.size and (s[0] < 0 or e[-1] > n or bool(np.any(s[1:] < e[:-1]))))


# Samples read first at the searched end of each interval by ``_nearest_true``: most heel strikes lie within this
# many samples before the contact's first peak, most toe offs within this many after its last.
_NEAR_SAMPLES = 32


def _nearest_true(values: np.ndarray, starts: np.ndarray, stops: np.ndarray, levels: np.ndarray,
                  compare: np.ufunc, last: bool) -> np.ndarray | None:
    """Per interval ``[starts[k], stops[k])``: its last (``last``) or first sample where ``compare(values,
    levels[k])`` holds (NaN on either side: false), -1 where it has none; None where the intervals are not in order
    and apart (the caller then reads them as ``_painted_true`` does, later intervals winning).

    Only the ``_NEAR_SAMPLES`` samples at the searched end of each interval are read first, as the rows of one small
    array; the intervals with none there are searched over the rest of their samples (``_painted_true``). The same
    samples as the last or first of each interval's own in ``_painted_true``, without a level for every sample.
    """
    n = values.size
    if not _apart(starts, stops, n):
        return None
    lengths = np.maximum(stops - starts, 0)
    found = np.full(starts.size, -1, dtype=np.int64)
    if not lengths.any():
        return found
    near_lo = np.maximum(starts, stops - _NEAR_SAMPLES) if last else starts
    near_hi = stops if last else np.minimum(stops, starts + _NEAR_SAMPLES)
    hit = compare(interval_windows(values, near_lo, near_hi, fill=np.nan), np.asarray(levels, dtype=float)[:, None])
    # (the padding past a short interval's end is NaN: never a hit)
    seen, column = _row_first_or_last_true(hit, last)
    at = near_lo + column
    found[seen] = at[seen]
    further = np.flatnonzero(~seen & (lengths > _NEAR_SAMPLES))
    if further.size:  # the rest of these intervals, in order and apart as they are
        lo = starts[further] if last else near_hi[further]
        hi = near_lo[further] if last else stops[further]
        true = _painted_true(values, lo, hi, np.asarray(levels, dtype=float)[further], compare)
        if last:
            at = last_at_or_before(true, hi - 1, n)
            found[further] = np.where(at >= lo, at, -1)
        else:
            at = next_at_or_after(true, lo, n)
            found[further] = np.where(at < hi, at, -1)
    return found


def _row_first_or_last_true(hit: np.ndarray, last: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a 2-D boolean array: whether it holds a True, and the column of its first (``last``: last) True
    (meaningless where it holds none): ``hit.any(axis=1)`` and ``np.argmax(hit, axis=1)`` (the last: from the row
    reversed).

    Rows of at most 52 columns are read as the bits of one integer each (``np.packbits``, column j as bit j): the
    first True is the lowest set bit, the last the highest, each found as the exponent of the integer (made
    exact as a float) of that bit alone or of the whole: a few operations on one number per row, where numpy's
    reductions along the rows run their inner loop once for each row.
    """
    m, width = hit.shape
    if width == 0:  # (no column: no True)
        return np.zeros(m, dtype=bool), np.zeros(m, dtype=np.int64)
    if width > 52:
        seen = np.asarray(hit.any(axis=1))
        if last:
            return seen, width - 1 - np.argmax(hit[:, ::-1], axis=1)
        return seen, np.argmax(hit, axis=1)
    # each row widened to 64 columns, the whole packed as one flat array (8 bytes a row: column j as bit j of
    # the row's little-endian integer, below 2^52); packbits along the rows' axis would hold the GIL (numpy
    # releases it by the length of the packed axis, here a few bytes)
    wide = np.zeros((m, 64), dtype=bool)
    wide[:, :width] = hit
    bits = np.packbits(wide, bitorder="little").view("<u8")
    seen = bits != 0
    if not last:
        bits &= ~bits + np.uint64(1)  # (in place: the lowest set bit alone, x & -x)
    # the highest set bit of a whole number below 2^53, exact as a float: the exponent frexp gives, less one
    column = np.frexp(bits.astype(np.float64))[1].astype(np.int64)
    column -= 1
    return seen, column


def _seen_from(values: np.ndarray, starts: np.ndarray, stops: np.ndarray, levels: np.ndarray, compare: np.ufunc,
               at: np.ndarray, known: np.ndarray, last: bool) -> np.ndarray:
    """``next_at_or_after`` (``last``: ``last_at_or_before``) of ``_painted_true(values, starts, stops, levels,
    compare)`` at ``at``, for the ``known`` entries (the others' entries are left n, or -1: the caller drops them).

    Each known ``at[k]`` lies in its own interval (the search from an event to the contact's level): where every
    known entry has its sample in its own interval, between ``at`` and the interval's end (or start), that sample
    is the one the search among all intervals finds, and is read there (``_nearest_true``); otherwise (a search
    that reaches into another contact, or intervals that overlap) the search among all intervals is made.
    """
    n = values.size
    m = starts.size
    which = np.flatnonzero(known)
    inside = bool(np.all(starts[which] <= at[which])) and bool(np.all(at[which] < stops[which]))
    if inside and _apart(starts, stops, n):
        if last:  # the last from the interval's start to at (inclusive)
            own = _nearest_true(values, starts[which], at[which] + 1, levels[which], compare, last=True)
        else:  # the first from at to the interval's end
            own = _nearest_true(values, at[which], stops[which], levels[which], compare, last=False)
        if own is not None and bool(np.all(own >= 0)):
            found = np.full(m, -1 if last else n, dtype=np.int64)
            found[which] = own
            return found
    search = last_at_or_before if last else next_at_or_after
    return search(_painted_true(values, starts, stops, levels, compare), at, n)


def _next_heel_strike(hs: np.ndarray, hs_ok: np.ndarray, n: int) -> np.ndarray:
    """Each contact's next heel strike where it was found (``n`` where it was not, and after the last contact):
    the latest sample a contact's toe off may lie before."""
    found = np.where(hs_ok, hs, n)
    return np.concatenate([found[1:], [n]]).astype(np.int64)


def _heel_strike_level(smoothed, lo, peak_index, floor_before, typical_peak, params):
    """First sample at or above ``floor + on_fraction x (typical peak - floor)`` before the peak."""
    n = smoothed.size
    on_level = floor_before + params.contact_on_fraction * (typical_peak - floor_before)
    # the last sample below the level before the peak: its contact's own (-1 where it has none, then not ok, as
    # a sample of an earlier contact found by the search among all contacts' samples below their levels is)
    last_below = _nearest_true(smoothed, lo, peak_index, on_level, np.less, last=True)
    if last_below is None:  # intervals that overlap: searched among all contacts' samples, as they are painted
        below = _painted_true(smoothed, lo, peak_index, on_level, np.less)  # NaN compares False
        last_below = last_at_or_before(below, np.maximum(peak_index - 1, 0), n)
    hs = last_below + 1
    ok = (last_below >= lo) & (hs <= peak_index) & np.isfinite(on_level)
    return hs, ok


def _toe_off_level(smoothed, peak_index, hi, floor_after, typical_peak, params):
    """First sample below ``floor_after + off_fraction x (typical peak - floor_after)`` after the peak."""
    n = smoothed.size
    off_level = floor_after + params.contact_off_fraction * (typical_peak - floor_after)
    # the first sample below the level after the peak: its contact's own (n where it has none, then not ok, as a
    # sample of a later contact found by the search among all contacts' samples below their levels is)
    first_below = _nearest_true(smoothed, peak_index, hi, off_level, np.less, last=False)
    if first_below is None:  # intervals that overlap: searched among all contacts' samples, as they are painted
        to = next_at_or_after(_painted_true(smoothed, peak_index, hi, off_level, np.less), peak_index, n)
    else:
        to = np.where(first_below >= 0, first_below, n)
    ok = (to < hi) & np.isfinite(off_level)
    return to, ok


def _earlier_touch(shape, lo, knee, knee_ok, first_peak, peak_index, sample_rate_hz, params, clean=None):
    """Move a heel strike back to a brief touch just before the main rise (a heel tap, then the loading).

    The foot may tap the ground and lift a little before it takes the load
    (a double bump at the start of the contact). The shape method's onset
    then lands on the main rise, after the dip that follows the tap. When,
    within ``touch_window_s`` before that onset, the force left the swing
    floor (rose above it by ``contact_on_fraction`` of the contact's rise)
    and never fell back to it, and rose there at least
    ``touch_slope_fraction`` times as steeply as the main rise does, the foot was
    already on the ground: the heel strike is that touch's onset (walking
    back from its steepest point to ``shape_slope_fraction`` of that slope). A slow creep
    before the rise is not a touch (too shallow) and keeps the main onset.
    """
    n = shape.size
    values, slope = clean if clean is not None else _clean_and_slope(shape)
    knee_safe = np.clip(knee, 0, n - 1)
    w = max(1, int(round(params.touch_window_s * sample_rate_hz)))
    base_lo = np.clip(np.maximum(lo, knee_safe - w), 0, knee_safe)
    base = reduce_intervals(np.minimum, np.where(np.isnan(shape), np.inf, shape), base_lo, knee_safe + 1)
    # a window that lies wholly in a gap has no floor (inf): no level there, so nothing in it is below one
    seen = np.isfinite(base)
    floor_level = np.full(base.shape, np.nan)
    floor_level[seen] = base[seen] + params.contact_on_fraction * (values[peak_index[seen]] - base[seen])
    below = _painted_true(shape, base_lo, knee_safe + 1, floor_level, np.less)
    last_floor = last_at_or_before(below, knee_safe, n)
    main = interval_argmax(slope, knee_safe, np.maximum(first_peak, knee_safe + 1))
    region_lo = np.minimum(last_floor + 1, knee_safe)
    has_region = knee_ok & (last_floor >= base_lo) & (region_lo < knee_safe)
    touch = np.where(has_region, interval_argmax(slope, region_lo, np.maximum(knee_safe, region_lo + 1)), knee_safe)
    is_touch = has_region & (slope[touch] >= params.touch_slope_fraction * slope[main]) & (slope[main] > 0)
    flat = _painted_true(slope, region_lo, touch + 1, params.shape_slope_fraction * slope[touch], np.less)
    touch_onset = np.maximum(last_at_or_before(flat, touch, n) + 1, region_lo)
    return np.where(is_touch, touch_onset, knee)


def _lifts_after(shape, hs, first_peak, sample_rate_hz, params, clean=None):
    """True where the heel strike is a touch the foot lifts from before it loads (whatever rule placed it).

    The rise from the heel strike stops at a first top, within ``touch_window_s``, and the force then falls
    back by more than half of what it had risen before climbing to the contact's first peak, which is higher:
    a tap, a near unloading, then the landing.
    """
    n = shape.size
    values, slope = clean if clean is not None else _clean_and_slope(shape)
    at = np.clip(hs, 0, n - 1)
    w = max(1, int(round(params.touch_window_s * sample_rate_hz)))
    falling = slope <= 0
    top_at = next_true_at_or_after_at(falling, np.minimum(at + 1, n - 1))
    top_at = np.where((top_at < n) & (top_at - at <= w) & (top_at < first_peak), top_at, first_peak)
    top_at = np.clip(top_at, 0, n - 1)
    after_hi = np.maximum(first_peak, top_at + 1)
    dip = reduce_intervals(np.minimum, values, top_at, after_hi)
    height = values[top_at] - values[at]
    return (hs >= 0) & (height > 0) & (values[top_at] - dip > 0.5 * height) & (values[first_peak] > values[top_at])


def _heel_strike_knee(shape, lo, peak_index, params, clean=None):
    """Walk back from the steepest point of the rise to where the slope drops below a fraction of it.

    A two-stage rise (a brief touch, then the real loading) gives the start of
    the main rise, as the gaitndd laboratory's own event times do.
    """
    n = shape.size
    slope = (clean if clean is not None else _clean_and_slope(shape))[1]
    hi = np.maximum(peak_index, lo + 1)
    steepest = interval_argmax(slope, lo, hi)
    limit = params.shape_slope_fraction * slope[steepest]
    flat = _painted_true(slope, lo, steepest + 1, limit, np.less)
    last_flat = last_at_or_before(flat, steepest, n)
    hs = last_flat + 1
    ok = (last_flat >= lo) & (slope[steepest] > 0)
    return hs, ok


def _toe_off_shape(shape, peak_index, hi, next_start, floor_after, sample_rate_hz, params, clean=None):
    """Toe off of each contact from the shape of its unloading (the "shape" method).

    1. *Knee*: walk forward from the steepest point of the fall to where the
       slope flattens below ``shape_toe_off_fraction`` of it.
    2. *Settled floor*: the lowest force within ``shape_settle_s`` after the
       knee, i.e. the level the unloading is heading for. The unloading of a
       force-sensitive resistor often ends in a kink and a short, slower fall
       as the toes leave the ground; toe off is where the force has come down
       to within ``shape_floor_fraction`` of the contact's amplitude of that
       floor, unless the fall first pauses or rebounds (slope flatter than
       ``shape_pause_fraction`` of the steepest: the insole springing back, or
       residual load settling), in which case the knee ends the contact.
    3. *Unloaded?* A toe off still more than ``shape_unloaded_fraction`` of the
       contact's amplitude above the swing floor is a pause within a two-stage
       unloading, not the end of the contact: steps 1-2 are repeated from there
       (at most twice).

    Returns the toe-off indices and whether each was found.
    """
    n = shape.size
    values, slope = clean if clean is not None else _clean_and_slope(shape)
    window = max(1, int(round(params.shape_settle_s * sample_rate_hz)))
    stop_search = np.maximum(hi, peak_index + 1)
    amplitude = values[peak_index] - floor_after
    start = peak_index
    to = np.full(peak_index.size, n, dtype=np.int64)
    steep_ok = np.zeros(peak_index.size, dtype=bool)
    search = np.ones(peak_index.size, dtype=bool)
    for _ in range(3):
        idx = np.flatnonzero(search)
        if idx.size == 0:
            break
        lo, hi_i, nxt = start[idx], np.maximum(stop_search[idx], start[idx] + 1), next_start[idx]
        steepest = interval_argmax(-slope, lo, hi_i)
        end = np.maximum(nxt, steepest + 1)
        fall = slope[steepest]
        flat = _painted_true(slope, steepest, end, params.shape_toe_off_fraction * fall, np.greater)
        knee = next_at_or_after(flat, steepest, n)
        knee_safe = np.clip(knee, 0, n - 1)
        settle_stop = np.clip(np.minimum(knee + window, end), knee_safe + 1, n)
        settled = reduce_intervals(np.minimum, values, knee_safe, settle_stop)
        level = settled + params.shape_floor_fraction * (values[peak_index[idx]] - settled)
        below = _painted_true(values, steepest, end, level, np.less)
        at_level = next_at_or_after(below, steepest, n)
        # a pause or rebound between the knee and the level crossing ends the contact at the knee
        later = at_level > knee
        pause_stop = np.clip(np.maximum(at_level, knee + 1), knee_safe + 1, n)
        flattest = reduce_intervals(np.maximum, slope, knee_safe, pause_stop)
        paused = later & (flattest > params.shape_pause_fraction * fall)
        found = np.where(paused, knee, at_level)
        to[idx] = found
        steep_ok[idx] = fall < 0
        found_safe = np.clip(found, 0, n - 1)
        still_loaded = values[found_safe] > floor_after[idx] + params.shape_unloaded_fraction * amplitude[idx]
        search[:] = False
        more = still_loaded & (found < stop_search[idx] - 2) & (fall < 0)
        search[idx[more]] = True
        start = start.copy()
        start[idx[more]] = found[more]
    ok = (to < next_start) & steep_ok & np.isfinite(floor_after)
    return to, ok

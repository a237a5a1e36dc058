"""Preparation of one foot: sensor checks, the total force, and the per-sensor loads.

Sensor checks (on valid samples only), in this order:

* **spikes**: isolated one- or two-sample jumps up and straight back down, by
  more than the sensor's typical peak (the 75th percentile of its 0.5 s
  window maxima) and at least half the strongest sensor's. No plantar load rises and falls by a
  whole step's peak within one sample, so these samples are marked invalid
  *for that sensor* (zero in the per-sensor arrays, never filled); at those
  samples the totals lack that sensor's reading. Counted in the quality.
* **flat**: the sensor never changes (dead, or never under the foot);
* **dead / stuck spans**: the recording is cut into blocks of
  ``max(stuck_run_s / 2, 2 s)``. In a *walking block* (the foot's provisional
  total swings by at least half its robust range, and, for calibrated units,
  comes down to ``unloaded_max_fraction`` of its block maximum), a sensor
  whose own range stays within 5 % of its usual range (the 90th percentile
  over walking blocks) is *quiet*. Each run of quiet blocks is followed out,
  sample by sample, for as long as the sensor stays within that band; a span
  of ``stuck_run_s`` or more is **dead** when the band sits at or below 5 % of
  the sensor's usual block maximum (it reads nothing: zero, or a noise
  floor), otherwise **stuck** (it holds a value while the foot loads and
  unloads). Only sensors that matter are checked (usual maximum at least a
  tenth of the strongest sensor's), and a span counts only if the sensor
  worked outside it (moving in 80 % and at least 3 of the walking blocks
  there, and loaded in at least 5 % of the samples): a grid cell at the edge
  of the footprint, touched in some steps only, is no failure. Only the span
  is excluded (zero in the per-sensor arrays); the sensor stays in use
  elsewhere, unless less than ``stuck_run_s`` of it would be left.
* **dead / stuck throughout**: among the weak sensors (usual range under a
  tenth of the strongest's: a dead sensor's noise, a stuck one's band), one
  whose mean while the foot is loaded (30 % of the block's range or more)
  exceeds its mean in true swing (within 5 % of the block's floor) by less
  than half its SD in swing never follows the loading. Dead when its highest
  loaded reading is within 5 % of the strongest sensor's usual maximum, stuck
  otherwise. Excluded throughout.
* **saturated**: it sits on a plateau at its maximum (or at the saturation
  pressure the source states) in at least 3 runs of 5 or more samples while
  the foot's load changes. Its clipped readings are a lower bound of the true
  load, so by default they are **kept** (``exclude_saturated=False``): the
  totals and its peak pressure are then lower bounds during its plateaus,
  which the quality says with the sensor's share of the load. Leaving it out
  would remove all of its load instead of the part above the ceiling.

Every finding is a ``SensorFlag`` with the span, the samples it cost and the
sensor's share of the foot's load, and the quality states what the totals
lack or under-read.

The total force, in order of preference: the sum of the sensor forces (unit N,
or kPa with known sensor areas: force = pressure x area); the source's own
total-force channel ``vendor_total_force_n`` (when the areas are unknown);
otherwise the sum of the raw values in arbitrary units ("au", proportional to
force only if the sensors are alike). Which one was used is recorded.

Zero offset: once the swings are known, the swings that are genuinely unloaded
are kept: each swing's mid-swing mean force must lie at least half as deep
below the higher peak of the contacts beside it as the foot's usual swing (the
75th percentile of those depths); a baseline that drifts moves swings and
contacts together, a weight shift while standing is shallow on both sides. Each sensor's median over
their mid-swing samples (the middle half of every swing) is subtracted, and
the total force's too. For calibrated force (N), whose zero means no load, an
offset above ``unloaded_max_fraction`` of the typical contact peak is no
offset at all: the foot never unloaded (standing, or sway taken for steps),
and nothing is subtracted. Negative values of the total force left after the
offset are kept (they are data); ``finish_loads`` then clips the per-sensor
loads at zero for COP and regional weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from insole._recording import FootSamples, Recording
from insole.analysis._params import AnalysisParams
from insole.analysis._segments import all_finite, percentiles, reduce_intervals, reduce_rows_intervals, runs

if TYPE_CHECKING:
    from insole.analysis._events import Contacts

__all__ = [
    "SensorChecks",
    "SensorFlag",
    "FootLoads",
    "ZeroOffset",
    "check_sensors",
    "foot_loads",
    "remove_offset",
    "prepare_foot",
    "find_zero_offset",
    "apply_zero_offset",
    "finish_loads",
]

_SATURATION_MIN_RUNS = 3
_SATURATION_MIN_RUN_SAMPLES = 5
# Blocks for the dead/stuck checks: long enough to hold a loaded and an
# unloaded phase of a slow stride, short enough to place a failure in time.
_BLOCK_MIN_S = 2.0
# A walking block: the foot's total moves by at least this fraction of its
# robust (5th-95th percentile) range within the block.
_WALKING_RANGE_FRACTION = 0.5
# Loaded samples and true-swing samples of a walking block, as fractions of its range.
_LOADED_FRACTION = 0.3
_SWING_FRACTION = 0.05
_MIN_PHASE_SAMPLES = 20
# A weak sensor follows the loading when its mean while loaded exceeds its mean
# in swing by at least this fraction of its SD in swing.
_RESPONSE_SD_FRACTION = 0.5
_WEAK_TEST_SAMPLES = 100_000
# Quiet: a sensor's range in a walking block within this fraction of its usual range.
_QUIET_RANGE_FRACTION = 0.05
# Dead rather than stuck: the quiet band at or below this fraction of the usual maximum.
_DEAD_LEVEL_FRACTION = 0.05
# Spans are sought in sensors whose usual maximum is at least this fraction of
# the strongest sensor's, and kept only if the sensor moved (range at least
# _ACTIVE_RANGE_FRACTION of its usual) in this share of the walking blocks outside them.
_SUBSTANTIAL_FRACTION = 0.1
_ACTIVE_RANGE_FRACTION = 0.25
_ACTIVE_ELSEWHERE_FRACTION = 0.8
_ACTIVE_ELSEWHERE_MIN_BLOCKS = 3
# ... and read above _ACTIVE_RANGE_FRACTION of its usual maximum in at least
# this share of its valid samples there (a sensor under the foot is loaded for
# much of every stance; a grid cell at the footprint's edge for a sample or two).
_LOADED_DUTY_MIN = 0.05
# The "never follows the loading" test runs on sensors whose usual range is
# below this fraction of the strongest sensor's.
_WEAK_RANGE_FRACTION = 0.1
# A sensor's spike threshold is at least this fraction of the strongest sensor's
# typical peak (a small cell at the edge of a grid may be touched for one sample).
_SPIKE_MIN_FRACTION = 0.5
_SPIKE_WINDOW_S = 0.5
# Zero offset: a swing is unloaded when it lies at least this fraction as deep
# below its neighbouring contacts' peaks as the foot's usual swing (the 75th
# percentile of swing depths, so that a quarter of real swings settle it).
_SWING_DEPTH_FRACTION = 0.5
_DEEP_SWINGS_PERCENTILE = 75


@dataclass(frozen=True)
class SensorFlag:
    """A sensor the checks found.

    ``status`` is "flat", "dead", "stuck", "saturated" or "spikes".
    ``excluded``: left out of the totals for the whole recording.
    ``start_s``/``end_s``: the span the finding covers (None: throughout).
    ``excluded_samples``: samples of this sensor marked invalid (its span or its
    spikes; every valid sample when excluded throughout). ``load_share_pct``:
    the sensor's share of the foot's load where it was read (None: unknown,
    e.g. a sensor that never worked). ``effect``: what the totals suffer:
    "missing" (its load is not in them), "lower bound" (clipped readings kept)
    or "" (none).
    """

    sensor: str
    status: str
    excluded: bool
    detail: str
    start_s: float | None = None
    end_s: float | None = None
    excluded_samples: int = 0
    load_share_pct: float | None = None
    effect: str = ""

    def to_dict(self) -> dict:
        return {
            "sensor": self.sensor, "status": self.status, "excluded": self.excluded, "detail": self.detail,
            "start_s": self.start_s, "end_s": self.end_s, "excluded_samples": int(self.excluded_samples),
            "load_share_pct": self.load_share_pct, "effect": self.effect,
        }


@dataclass(frozen=True, eq=False)
class SensorChecks:
    """What the sensor checks found on one foot, and its readings with what they left out set to zero.

    ``readings_t`` (sensors x samples, float32 as recorded) is zero at invalid
    samples, for sensors excluded throughout (``sensor_used`` False), over the
    dead or stuck spans (``sensor_gaps``: (sensor, start, stop) sample spans)
    and at the spikes (``spike_sensor`` / ``spike_sample``: single samples).
    ``valid``: observed samples with every reading finite. ``flags``: every
    finding, in the order the checks ran. ``unit`` is the recording's.
    ``plain_rows``: (sensors,) bools, True for a row of ``readings_t`` whose values all lie in [+0.0, +inf] as the
    checks leave them (no sign bit set, no NaN; False: not known to), or None; the stages that work on the
    readings' bits as unsigned integers then need no pass over a row to find out (it holds while the readings are
    as the checks left them).
    """

    side: str
    time_s: np.ndarray
    valid: np.ndarray
    sample_rate_hz: float
    unit: str
    sensor_names: tuple[str, ...]
    readings_t: np.ndarray
    sensor_used: np.ndarray
    flags: tuple[SensorFlag, ...]
    sensor_gaps: tuple[tuple[int, int, int], ...]
    spike_sensor: np.ndarray
    spike_sample: np.ndarray
    plain_rows: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.time_s.size)

    def flagged(self, status: str | None = None) -> tuple[SensorFlag, ...]:
        """The findings, or those of one ``status`` ("flat", "dead", "stuck", "saturated", "spikes")."""
        return tuple(flag for flag in self.flags if status is None or flag.status == status)


@dataclass(frozen=True, eq=False)
class ZeroOffset:
    """The mid-swing offset of one foot (``applied`` False: nothing subtracted, ``note`` says why).

    ``offsets``: per sensor, in the per-sensor load's unit; ``pressure_offsets``
    per sensor in kPa when the pressures are an array of their own (areas
    known), else None; ``force_offset`` in the force unit.
    """

    applied: bool = False
    note: str = "not applied"
    force_offset: float = 0.0
    offsets: np.ndarray | None = None
    pressure_offsets: np.ndarray | None = None


class StanceMaxima(NamedTuple):
    """The largest reading of each sensor (columns) in each stance ``[starts, stops)`` (rows), float32, of the
    pressures as the checks left them (before the offset), and the sensor areas that made the loads of them.

    ``remove_offset`` takes them while it still has those readings: the peak pressure and the peak load of a
    stance follow from them (``stance_peaks``), one pass over the readings instead of one over the pressures and
    one over the loads."""

    starts: np.ndarray
    stops: np.ndarray
    largest: np.ndarray
    weights: np.ndarray


@dataclass(frozen=True, eq=False)
class FootLoads:
    """One foot's total force and per-sensor loads, built on its sensor checks (arrays sample by sample).

    ``force`` is the total force (N, or "au" when ``force_unit == "au"``), NaN
    where invalid. ``sensor_load_t`` (sensors x samples) is the per-sensor load
    used for COP and regional shares: force in N when known, otherwise the raw
    values (kPa or au, i.e. an equal-area assumption). ``sensor_pressure_t``
    (kPa) is set only when the recording holds pressures (it may be the same
    array as the load). What the checks left out is zero in both (float32).

    ``foot_loads`` gives them as read; ``remove_offset`` (or ``apply_zero_offset``
    and ``finish_loads``) a new value with the mid-swing offset subtracted
    (``zero_offset``) and the per-sensor arrays clipped at zero (``clipped``:
    then ``positive_load_t`` / ``positive_pressure_t`` are those arrays).
    """

    checks: SensorChecks
    valid: np.ndarray
    force: np.ndarray
    force_unit: str
    force_source: str
    sensor_load_t: np.ndarray
    sensor_load_unit: str
    sensor_pressure_t: np.ndarray | None
    imu: FootSamples | None = None
    zero_offset: ZeroOffset = ZeroOffset()
    clipped: bool = False
    # (sensors,) float32 where ``sensor_load_t`` is ``sensor_pressure_t`` times these, as ``foot_loads`` made them
    # (pressures with known areas, neither array touched since); None otherwise
    load_weights: np.ndarray | None = None
    # ``StanceMaxima`` of the readings before ``remove_offset`` (which takes them), for the stance stage; or None
    readings_max: StanceMaxima | None = None

    # the checks' facts, under the names the stages downstream read
    @property
    def side(self) -> str:
        return self.checks.side

    @property
    def time_s(self) -> np.ndarray:
        return self.checks.time_s

    @property
    def sample_rate_hz(self) -> float:
        return self.checks.sample_rate_hz

    @property
    def n(self) -> int:
        return int(self.checks.time_s.size)

    @property
    def sensor_used(self) -> np.ndarray:
        return self.checks.sensor_used

    @property
    def sensor_names(self) -> tuple[str, ...]:
        return self.checks.sensor_names

    @property
    def flags(self) -> tuple[SensorFlag, ...]:
        return self.checks.flags

    @property
    def sensor_gaps(self) -> tuple[tuple[int, int, int], ...]:
        return self.checks.sensor_gaps

    @property
    def spike_sensor(self) -> np.ndarray:
        return self.checks.spike_sensor

    @property
    def spike_sample(self) -> np.ndarray:
        return self.checks.spike_sample

    @property
    def offsets(self) -> np.ndarray | None:
        return self.zero_offset.offsets

    @property
    def force_offset(self) -> float:
        return self.zero_offset.force_offset

    @property
    def zero_offset_note(self) -> str:
        return self.zero_offset.note

    @property
    def zero_offset_applied(self) -> bool:
        return self.zero_offset.applied

    @property
    def positive_load_t(self) -> np.ndarray | None:
        """The per-sensor loads clipped at zero (None until clipped)."""
        return self.sensor_load_t if self.clipped else None

    @property
    def positive_pressure_t(self) -> np.ndarray | None:
        return self.sensor_pressure_t if self.clipped else None


def _zero_sensor_gaps(array: np.ndarray, checks: SensorChecks) -> None:
    """Zero the per-sensor invalid samples of a (sensors x samples) array, in place (the caller's own new array)."""
    for j, a, b in checks.sensor_gaps:
        array[j, a:b] = 0
    if checks.spike_sensor.size:
        array[checks.spike_sensor, checks.spike_sample] = 0


# The bits of float32 +inf: a float32 at or below it, read as an unsigned integer, is one of [+0.0, +inf]
_POSITIVE_INF_BITS = 0x7F800000


def _offset_and_clip(array: np.ndarray, offsets: np.ndarray | None, loads: FootLoads, clip: bool,
                     in_place: bool = False, plain: np.ndarray | None = None,
                     before_row: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
    """``array`` (sensors x samples) less ``offsets`` (then re-zeroed where left out), clipped at zero.

    A new array, the value it came from left as it was; with ``in_place`` the result is written
    into ``array`` itself (the same numbers: the same float32 operations), which is then returned.
    ``plain``: ``_known_plain_rows`` of ``array`` (or None). ``before_row(j, array[j])``, with ``clip`` and
    ``in_place`` of a 2-D array, is called with each row before it is written.
    """
    if before_row is not None and not (clip and in_place and array.ndim == 2):
        raise ValueError("before_row needs clip and in_place of a 2-D array (the rows are then written one by one)")
    if offsets is None:
        if not clip:
            return array
        if in_place and array.ndim == 2:
            _offset_and_clip_rows(array, np.zeros(array.shape[0], dtype=np.float32), clip, plain, before_row)
            return array
        return np.maximum(array, 0, out=array) if in_place else np.maximum(array, 0)
    shift = offsets.astype(np.float32)[:, None]
    by_rows = in_place and array.ndim == 2
    if by_rows:  # subtracted and clipped here (the rows that need it)
        _offset_and_clip_rows(array, shift[:, 0], clip, plain, before_row)
        out = array
    else:
        out = np.subtract(array, shift, out=array) if in_place else array - shift
    if not loads.valid.all():
        out[:, np.flatnonzero(~loads.valid)] = 0
    _zero_sensor_gaps(out, loads.checks)
    if clip and not by_rows:
        np.maximum(out, 0, out=out)
    return out


def _offset_and_clip_rows(array: np.ndarray, shift: np.ndarray, clip: bool, plain: np.ndarray | None = None,
                          before_row: Callable[[int, np.ndarray], None] | None = None) -> None:
    """``array -= shift[:, None]`` and, if ``clip``, ``np.maximum(array, 0, out=array)``, in place, row by row.

    With ``clip``, a row whose offset is +0.0 and whose readings all lie in [+0.0, +inf] (no sign bit set, no NaN:
    one maximum of their bits, unless ``plain``, (rows,) bools, already says so) is left as it is: subtracting +0.0
    and the maximum with 0 give back each such reading, bit for bit (numpy's maximum turns a -0.0 into +0.0, hence
    the sign bits). Many sensors read exactly zero in swing. Clipping before the caller zeroes the left-out
    readings gives the same bits as after (a zeroed reading is +0.0 either way). ``before_row(j, row)`` first
    reads each row (in cache for the writes).
    """
    for j in range(array.shape[0]):  # one step per sensor
        row = array[j]
        if before_row is not None:
            before_row(j, row)
        if clip and shift[j] == 0 and not np.signbit(shift[j]) and row.dtype == np.float32 and (
                (plain is not None and plain[j]) or row.size == 0
                or row.view(np.uint32).max() <= _POSITIVE_INF_BITS):
            continue
        np.subtract(row, shift[j], out=row)
        if clip:
            np.maximum(row, 0, out=row)


def _rebuilt(loads: FootLoads, found: ZeroOffset | None, clip: bool, in_place: bool = False,
             before_pressure_row: Callable[[int, np.ndarray], None] | None = None) -> FootLoads:
    """``loads`` with ``found`` subtracted now (None, or not applied: nothing) and, if ``clip``, clipped at zero.

    ``in_place``: into the per-sensor arrays of ``loads`` (and so of its checks' readings, which they may
    share) and its total force, for a caller that made ``loads`` and drops it: an hour's two feet then need
    96 MiB less. ``before_pressure_row(j, row)``: called with each row of the pressures (an array of their own,
    2-D, ``in_place`` and ``clip``) before the row is written.
    """
    now = found if found is not None and found.applied else None
    # which rows are plain, known before either array is written
    load_plain, pressure_plain = _known_plain_rows(loads, loads.sensor_load_t), _known_plain_rows(
        loads, loads.sensor_pressure_t)
    load = _offset_and_clip(loads.sensor_load_t, now.offsets if now else None, loads, clip, in_place, load_plain)
    pressure = loads.sensor_pressure_t
    if pressure is loads.sensor_load_t:  # pressures with unknown areas are the loads
        pressure = load
    elif pressure is not None:
        pressure = _offset_and_clip(pressure, now.pressure_offsets if now else None, loads, clip, in_place,
                                    pressure_plain, before_pressure_row)
    force = loads.force
    if now and in_place and force.flags.writeable:  # the caller's own force, dropped with its loads
        force = np.subtract(force, now.force_offset, out=force)
    elif now:
        force = force - now.force_offset
    return replace(loads, force=force, sensor_load_t=load, sensor_pressure_t=pressure,
                   zero_offset=found if found is not None else loads.zero_offset, clipped=clip or loads.clipped,
                   load_weights=None, readings_max=None)


def _known_plain_rows(loads: FootLoads, array: np.ndarray | None) -> np.ndarray | None:
    """(sensors,) bools, True for a row of ``array`` (one of the per-sensor arrays of ``loads``) known to lie in
    [+0.0, +inf] without a look at it (``SensorChecks.plain_rows``), or None: the checks' readings as they left
    them, or those readings times ``load_weights`` as ``foot_loads`` made them (a float32 product of such a value
    and a positive finite weight is in [+0.0, +inf] too), neither touched since."""
    plain = loads.checks.plain_rows
    if (array is None or plain is None or loads.clipped or loads.zero_offset.applied
            or plain.shape != (array.shape[0],) or array.dtype != np.float32):
        return None
    if array is loads.checks.readings_t:
        return plain
    weights = _pressure_weights(loads)
    if weights is not None and array is loads.sensor_load_t:
        return plain & (weights > 0) & (weights < np.inf)
    return None


def finish_loads(loads: FootLoads) -> FootLoads:
    """``loads`` with the per-sensor loads (and pressures) clipped at zero, for COP and regional loads.

    A reading below zero after the offset is noise around the unloaded level:
    it counts as no load. The total force is not touched: it keeps its
    negatives. A new value (new arrays); ``loads`` is left as it was.
    """
    if loads.clipped:
        return loads
    return _rebuilt(loads, None, clip=True)


def prepare_foot(recording: Recording, side: str, params: AnalysisParams) -> FootLoads:
    """``foot_loads(recording, check_sensors(recording, side, params))``: the loads as read, offsets not yet removed."""
    return foot_loads(recording, check_sensors(recording, side, params))


def remove_offset(loads: FootLoads, contacts: Contacts, params: AnalysisParams, *,
                  in_place: bool = False) -> FootLoads:
    """The loads ready for the stance features: the mid-swing offset subtracted, per-sensor loads clipped at zero.

    The swings are the spans between one contact's toe off and the next
    contact's heel strike (both observed). With ``params.zero_offset`` False
    only the clipping is done. A new value; ``loads`` is left as it was unless
    ``in_place``: then its per-sensor arrays (and its checks' readings, which
    they may share) and its total force are overwritten and reused, the same
    numbers without a second copy of the foot's readings (``analyze`` does this
    with loads it made for the purpose and drops).
    """
    if not params.zero_offset:
        if loads.clipped:
            return loads
        maxima = _readings_max(loads, contacts, params)
        return replace(_rebuilt(loads, None, clip=True, in_place=in_place), readings_max=maxima)
    starts, stops = _swings(contacts)
    found = find_zero_offset(loads, starts, stops, params)
    bounds = _stance_bounds(loads, contacts, params)
    plain = _known_plain_rows(loads, loads.sensor_pressure_t)
    pressure = loads.sensor_pressure_t
    if (in_place and bounds is not None and plain is not None and bool(plain.all()) and pressure is not None
            and pressure.dtype == np.float32 and pressure.flags.c_contiguous and loads.load_weights is not None):
        # the stance maxima of each pressure row taken as the offset's pass reaches the row, before it is
        # overwritten: one read of the pressures from memory for both (``_readings_max``'s numbers)
        largest, take = _stance_maxima_taker(bounds[0], bounds[1], pressure.shape)
        rebuilt = _rebuilt(loads, found, clip=True, in_place=True, before_pressure_row=take)
        return replace(rebuilt, readings_max=StanceMaxima(bounds[0], bounds[1], largest.view(np.float32),
                                                          loads.load_weights))
    maxima = _readings_max(loads, contacts, params)  # before the readings are overwritten (in_place)
    return replace(_rebuilt(loads, found, clip=True, in_place=in_place), readings_max=maxima)


def _stance_bounds(loads: FootLoads, contacts: Contacts, params: AnalysisParams
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """The stances ``[starts, stops)`` the stance stage will measure (see ``_stance._step_table``: both events
    known, walking, no gap) for loads that are the pressures times the sensor areas as ``foot_loads`` made them
    (``_readings_max`` takes their maxima); None for any other loads, or no such stance."""
    pressure = loads.sensor_pressure_t
    weights = loads.load_weights
    if (weights is None or pressure is None or pressure is not loads.checks.readings_t or loads.clipped
            or loads.zero_offset.applied or pressure.ndim != 2 or pressure.shape[1] != loads.n):
        return None
    hs, to = contacts.heel_strike_index, contacts.toe_off_index
    walking = (contacts.stop_index - contacts.start_index) / loads.sample_rate_hz <= params.max_stance_s
    measured = (hs >= 0) & (to >= 0) & (to > hs) & walking & ~contacts.has_gap
    starts, stops = hs[measured].astype(np.int64), to[measured].astype(np.int64)
    if starts.size == 0:
        return None
    return starts, stops


def _readings_max(loads: FootLoads, contacts: Contacts, params: AnalysisParams) -> StanceMaxima | None:
    """``StanceMaxima`` of the stances the stance stage will measure (``_stance_bounds``), for loads that are the
    pressures times the sensor areas as ``foot_loads`` made them; None for any other loads."""
    bounds = _stance_bounds(loads, contacts, params)
    if bounds is None or loads.sensor_pressure_t is None or loads.load_weights is None:
        return None
    starts, stops = bounds
    pressure = loads.sensor_pressure_t
    plain = _known_plain_rows(loads, pressure)
    return StanceMaxima(starts, stops, _interval_maxima(pressure, starts, stops,
                                                        plain is not None and bool(plain.all())), loads.load_weights)


def _stance_maxima_taker(starts: np.ndarray, stops: np.ndarray, shape: tuple[int, ...]
                         ) -> tuple[np.ndarray, Callable[[int, np.ndarray], None]]:
    """A (stances, rows) uint32 array and ``take(j, row)``, which fills its column ``j`` with the largest bits of
    the float32 row (all in [+0.0, +inf]: their bits order as the floats do) over each stance ``[starts, stops)``:
    ``_interval_maxima(rows, starts, stops, plain=True)``'s bits, a row at a time (a 1-D ``reduceat`` over the
    stances' bounds, as ``reduce_rows_intervals`` reduces each row's; a stance that ends at the last sample on its
    own)."""
    k, n = shape
    largest = np.empty((starts.size, k), dtype=np.uint32)
    inner = stops < n
    bounds = np.empty(2 * int(inner.sum()), dtype=np.int64)
    bounds[0::2], bounds[1::2] = starts[inner], stops[inner]
    at_end = np.flatnonzero(~inner).tolist()
    every = bool(inner.all())

    def take(j: int, row: np.ndarray) -> None:
        bits = row.view(np.uint32)
        if bounds.size:
            reduced = np.maximum.reduceat(bits, bounds)[0::2]
            if every:
                largest[:, j] = reduced
            else:
                largest[inner, j] = reduced
        for i in at_end:  # (at most the last stance)
            largest[i, j] = bits[starts[i]:].max()

    return largest, take


def _interval_maxima(rows: np.ndarray, starts: np.ndarray, stops: np.ndarray, plain: bool = False) -> np.ndarray:
    """``reduce_rows_intervals(np.maximum, rows, starts, stops)``; for float32 rows whose values all lie in [+0.0,
    +inf] (no sign bit set, no NaN: one maximum of their bits, unless ``plain`` already says so) taken on the bits
    as unsigned integers, which order as those floats do (equal floats there have equal bits), so the maxima are
    the same floats. numpy's integer maximum is about twice as fast over intervals of a stance's lengths (its float
    one is slow on the samples past the last whole SIMD step of each interval)."""
    if (rows.dtype == np.float32 and rows.ndim == 2 and rows.flags.c_contiguous and rows.size
            and (plain or rows.view(np.uint32).max() <= _POSITIVE_INF_BITS)):
        return reduce_rows_intervals(np.maximum, rows.view(np.uint32), starts, stops).view(np.float32)
    return reduce_rows_intervals(np.maximum, rows, starts, stops)


def stance_peaks(loads: FootLoads, starts: np.ndarray, stops: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The peak pressure and the peak load of each sensor in each stance ``[starts, stops)`` (stances x sensors,
    float32), as the maxima of ``positive_pressure_t`` and ``positive_load_t`` over the stance are, and the
    sensors (a mask) whose two columns are those; None when the loads took no ``readings_max`` of these stances.

    The offset and the clipping never reorder a sensor's readings: the sample with its largest reading in a stance
    has its largest pressure and its largest load there too (pressure = max(reading - offset, 0), load =
    max(reading x area - offset, 0), each in float32, rising with the reading), and what the checks left out of a
    stance (spikes, dead or stuck spans) reads zero before and after. Where that largest reading is above zero
    and both peaks come out above zero (one sample holds them: no sign of a zero to choose) the peaks are these;
    a sensor with any other stance (or a zero area) is left to the caller (False in the mask).
    """
    maxima = loads.readings_max
    if (maxima is None or not loads.clipped or not np.array_equal(maxima.starts, starts)
            or not np.array_equal(maxima.stops, stops)):
        return None
    largest, weights = maxima.largest, maxima.weights
    found = loads.zero_offset if loads.zero_offset.applied else None
    load = largest * weights[None, :]
    pressure = largest.copy()
    if found is not None:
        assert found.offsets is not None
        np.subtract(load, found.offsets.astype(np.float32)[None, :], out=load)
        if found.pressure_offsets is not None:
            np.subtract(pressure, found.pressure_offsets.astype(np.float32)[None, :], out=pressure)
    np.maximum(load, 0, out=load)
    np.maximum(pressure, 0, out=pressure)
    exact = (largest > 0).all(axis=0) & (load > 0).all(axis=0) & (pressure > 0).all(axis=0) & (weights > 0)
    return pressure, load, exact


def _swings(contacts: Contacts) -> tuple[np.ndarray, np.ndarray]:
    """The swings the offset is taken from: each contact's toe off to the next contact's heel strike (both known)."""
    hs, to = contacts.heel_strike_index, contacts.toe_off_index
    ok = (to[:-1] >= 0) & (hs[1:] > to[:-1])
    return to[:-1][ok], hs[1:][ok]


def remove_offset_later(loads: FootLoads, contacts: Contacts, params: AnalysisParams,
                        gather: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]) -> FootLoads:
    """``remove_offset`` for loads without per-sensor arrays (``_foot_loads(..., per_sensor=False)``): the offset
    found (``gather`` gives the per-sensor values at the mid-swing samples) and subtracted from the total force;
    the per-sensor loads get theirs, and their clipping, a stretch at a time in ``stretch_loads``."""
    if not params.zero_offset:
        return replace(loads, clipped=True)
    starts, stops = _swings(contacts)
    found = find_zero_offset(loads, starts, stops, params, gather)
    force = loads.force - found.force_offset if found.applied else loads.force
    return replace(loads, force=force, zero_offset=found, clipped=True)


def check_sensors(recording: Recording, side: str, params: AnalysisParams, *,
                  reuse_values: bool = False) -> SensorChecks:
    """The sensor checks of one foot (see the module docstring): what they found, and the readings they leave.

    Per-sensor arrays are kept one row per sensor, (sensors, samples), in
    float32 as recorded: every per-sensor pass is then one contiguous 1-D
    sweep. Invalid samples are zero there.

    ``reuse_values``: when the foot's values are stored sensor by sensor (as
    our Parquet reader makes them), the checks write into that very array
    instead of a copy of it: the same numbers without a second copy of the
    foot's readings, but the recording's values are overwritten. Only for a
    caller that made the recording for this analysis and drops it after
    (``insole analyze`` without outputs that read the samples).
    """
    foot = recording.foot(side)
    if foot is None:
        raise ValueError(f"the recording has no {side} foot")
    layout = recording.layout
    fs = float(recording.sample_rate_hz)
    unit = recording.unit
    # the sum over the sensors (float64: no float32 value can overflow it) is finite exactly where every reading
    # is: one test per sample instead of one per reading, and the foot's provisional total when nothing is zeroed
    values_t = _writable_rows(foot.values) if reuse_values else None
    # which sensors read only values in [+0.0, +inf], seen as the sum reads them (zeroing a reading later keeps
    # that): the blocks' extremes of those are taken on the bits, faster
    plain = np.zeros(foot.values.shape[1], dtype=bool)
    # the blocks' extremes of each row too, while the sum has it in cache (for a foot observed throughout; used if
    # every reading is finite, so that no reading is zeroed before the blocks are measured)
    extremes, take_extremes = _extremes_taker(foot.values.shape[0], foot.values.shape[1], fs, params, plain) \
        if bool(np.all(foot.valid)) else (None, None)
    row_plain = plain if take_extremes is None else None  # (else the extremes' taker sets it)
    if values_t is not None:
        summed = _sum_rows(values_t, plain=row_plain, after=take_extremes)
    else:  # the one transposition
        values_t, summed = _copied_rows_and_sum(foot.values, plain=row_plain, after=take_extremes)
    k, n = values_t.shape
    names = layout.sensor_names
    valid = _valid_where_finite(foot.valid, summed)
    all_valid = bool(valid.all())
    if not all_valid:
        values_t[:, ~valid] = 0
    time_s = np.asarray(foot.time_s)

    flags: list[SensorFlag] = []
    used = np.ones(k, dtype=bool)
    gaps: list[tuple[int, int, int]] = []
    spike_sensor = spike_sample = np.zeros(0, dtype=np.int64)
    weights = layout.load_weights(unit)
    if valid.sum() >= 3:
        blocks = _Blocks(values_t, valid, fs, params, plain, extremes if all_valid else None)
        spike_threshold = _spike_thresholds(blocks)
        spike_sensor, spike_sample = _find_spikes(values_t, valid, blocks, spike_threshold)
        if spike_sensor.size:
            values_t[spike_sensor, spike_sample] = 0  # invalid for that sensor, never filled
            blocks.refresh(values_t, np.unique(spike_sensor))
        if all_valid:  # the blocks' extremes and the tail's: no masked reduction, no second pass
            tail = values_t[:, blocks.count * blocks.size:]
            top, bottom = blocks.maximum.max(axis=1, initial=-np.inf), blocks.minimum.min(axis=1, initial=np.inf)
            if tail.shape[1]:
                top, bottom = np.maximum(top, tail.max(axis=1)), np.minimum(bottom, tail.min(axis=1))
        else:
            top = np.max(values_t, axis=1, where=valid[None, :], initial=-np.inf)
            bottom = np.min(values_t, axis=1, where=valid[None, :], initial=np.inf)
        # flat: never changes
        for j in np.flatnonzero(top == bottom):
            flags.append(SensorFlag(names[j], "flat", True,
                                    f"reads {top[j]:g} {unit} throughout (dead or never loaded)",
                                    excluded_samples=int(valid.sum()), effect="missing"))
        used &= top != bottom
        if spike_sensor.size:  # the sum again, without the spikes
            provisional_total = values_t.sum(axis=0, dtype=np.float64)
        else:  # the same sum: zero (as the sum of the zeroed readings) where invalid
            provisional_total = summed if all_valid else np.where(valid, summed, 0.0)
        del summed
        # one partition for both checks
        low, high = percentiles(provisional_total if all_valid else provisional_total[valid], [5, 95])
        span = float(high - low)
        calibrated = unit in ("N", "kPa")
        quiet = _quiet_sensors(values_t, valid, provisional_total, blocks, used, span, calibrated, params)
        spans_of: dict[int, list[tuple[int, int]]] = {}
        for j, _, a, b, _ in quiet:
            if a is not None:
                spans_of.setdefault(j, []).append((a, b))
        # the share each sensor carried while it worked: outside all of its spans, before any is zeroed
        shares = {j: _load_share(values_t, weights, used, valid, j, spans) for j, spans in spans_of.items()}
        for j, status, a, b, detail in quiet:
            if not used[j]:  # already left out throughout by an earlier span of its own
                continue
            share = shares.get(j)
            remaining = int(valid.sum()) - sum(int(valid[s0:s1].sum()) for s0, s1 in spans_of.get(j, []))
            if a is None or remaining < params.stuck_run_s * fs:  # nothing worth keeping outside its spans
                used[j] = False
                flags.append(SensorFlag(names[j], status, True, detail + ": left out throughout",
                                        excluded_samples=int(valid.sum()), load_share_pct=share, effect="missing"))
                continue
            gaps.append((j, a, b))
            values_t[j, a:b] = 0
            flags.append(SensorFlag(
                names[j], status, False, detail + f": left out from {time_s[a]:.2f} s to {time_s[b - 1]:.2f} s",
                start_s=float(time_s[a]), end_s=float(time_s[b - 1]), excluded_samples=int(valid[a:b].sum()),
                load_share_pct=share, effect="missing",
            ))
        saturation = _saturation_kpa(recording)
        for j, detail in _saturated_sensors(values_t, valid, top, provisional_total, saturation, unit, used, span,
                                            blocks):
            share = _load_share(values_t, weights, used, valid, j, [])
            if params.exclude_saturated:
                used[j] = False
                flags.append(SensorFlag(names[j], "saturated", True, detail + ": left out (exclude_saturated)",
                                        excluded_samples=int(valid.sum()), load_share_pct=share, effect="missing"))
            else:
                flags.append(SensorFlag(names[j], "saturated", False,
                                        detail + ": kept; its clipped readings are lower bounds",
                                        load_share_pct=share, effect="lower bound"))
        if spike_sensor.size:
            counts = np.bincount(spike_sensor, minlength=k)
            threshold = spike_threshold
            for j in np.flatnonzero(counts):
                flags.append(SensorFlag(
                    names[j], "spikes", False,
                    f"{counts[j]} sample(s) of isolated one- or two-sample spikes (jumps of more than "
                    f"{threshold[j]:.4g} {unit} up and straight back) marked invalid for this sensor, not filled",
                    excluded_samples=int(counts[j]), effect="missing" if used[j] else "",
                ))
    values_t[~used] = 0  # this foot's own copy (the transposition made it)
    return SensorChecks(
        side=side,
        time_s=foot.time_s,
        valid=valid,
        sample_rate_hz=recording.sample_rate_hz,
        unit=unit,
        sensor_names=tuple(names),
        readings_t=values_t,
        sensor_used=used,
        flags=tuple(flags),
        sensor_gaps=tuple(gaps),
        spike_sensor=spike_sensor,
        spike_sample=spike_sample,
        plain_rows=plain,  # (zeroing a reading keeps its row plain)
    )


def foot_loads(recording: Recording, checks: SensorChecks) -> FootLoads:
    """The total force and per-sensor loads of one foot from its checked readings (offsets not yet removed).

    Invalid samples are NaN in ``force`` (float64). The per-sensor arrays
    share the checks' readings where no conversion is needed (N, or pressures
    with unknown areas): neither is written afterwards.
    """
    return _foot_loads(recording, checks, per_sensor=True)


# Samples per block of the total force when the per-sensor loads are not kept (16 sensors x 65536 x 4 bytes = 4 MiB)
_FORCE_BLOCK = 65536


def _foot_loads(recording: Recording, checks: SensorChecks, per_sensor: bool) -> FootLoads:
    """``foot_loads``; without ``per_sensor`` the per-sensor arrays are left out (empty (sensors, 0) stand-ins, the
    same one for loads and pressures where ``foot_loads`` gives one array for both): for the streamed analysis,
    which rebuilds them a stretch at a time (``stretch_loads``). The total force is the same either way: pressure
    x area is summed over the sensors block by block of samples, each sample's sum in the same order."""
    foot = recording.foot(checks.side)
    assert foot is not None
    layout = recording.layout
    unit = checks.unit
    masked = checks.readings_t
    vendor = foot.channels.get("vendor_total_force_n")
    pressure = masked if unit == "kPa" else None
    load_weights = None
    summed_here = True  # the force is the sensors' sum, an array of this call's own
    if unit == "N":
        load, load_unit = masked, "N"
        force = _sum_rows(masked)
        force_unit, source = "N", "sum of the sensor forces"
    elif unit == "kPa" and layout.areas_known:
        weights = layout.load_weights(unit).astype(np.float32)[:, None]
        if per_sensor:
            load, force = _weighted_rows_and_sum(masked, weights)
            load_weights = weights[:, 0]
        else:
            load = np.zeros((masked.shape[0], 0), dtype=np.float32)
            force = np.empty(masked.shape[1], dtype=np.float64)
            for start in range(0, masked.shape[1], _FORCE_BLOCK):
                stop = start + _FORCE_BLOCK
                force[start:stop] = (masked[:, start:stop] * weights).sum(axis=0, dtype=np.float64)
        load_unit = "N"
        force_unit, source = "N", "sum of sensor pressure x sensor area"
    elif vendor is not None:
        load, load_unit = masked, unit
        force = np.asarray(vendor, dtype=np.float64)  # may be the recording's own array: never kept as it is
        summed_here = False
        force_unit, source = "N", "the source's total-force channel (sensor areas unknown)"
    else:
        load, load_unit = masked, unit
        force = _sum_rows(masked)
        force_unit = "au"
        source = (
            "sum of the sensor values in arbitrary units"
            + (" (pressures with unknown areas: equal areas assumed)" if unit == "kPa" else "")
        )
    valid = _valid_where_finite(checks.valid, force)
    if not (summed_here and valid.all()):  # (a sum of this call's own with every sample valid is its masked copy)
        force = np.where(valid, force, np.nan)
    if not per_sensor:  # stand-ins of no samples, one object where the loads are the readings
        stand_in = np.zeros((masked.shape[0], 0), dtype=np.float32)
        load = stand_in if load is masked else load
        pressure = stand_in if pressure is masked else pressure
    return FootLoads(
        checks=checks,
        valid=valid,
        force=force,
        force_unit=force_unit,
        force_source=source,
        sensor_load_t=load,
        sensor_load_unit=load_unit,
        sensor_pressure_t=pressure,
        imu=foot if foot.gyro_dps is not None else None,
        load_weights=load_weights,
    )


def stretch_loads(loads: FootLoads, layout_weights: np.ndarray, start: int, raw: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """The per-sensor loads and pressures of ``remove_offset(loads, ...)`` over the samples ``[start, start + L)``,
    rebuilt from the recording's own values of those samples: ``raw`` (sensors x L, float32, this caller's own: it
    is overwritten and may be returned).

    For the streamed analysis, whose ``loads`` keep no per-sensor arrays (``_foot_loads(..., per_sensor=False)``):
    what the checks left out is zeroed (invalid samples, spikes, dead or stuck spans, sensors not used), the
    pressures become loads as ``foot_loads`` makes them, the offset is subtracted and the result clipped at zero
    as in ``remove_offset``. Every step is element by element in float32, so these are the numbers of the whole
    arrays' ``[:, start:start + L]``, bit for bit. ``layout_weights``: ``layout.load_weights(unit)``.
    """
    checks = loads.checks
    stop = start + raw.shape[1]
    masked = stretch_readings(checks, start, raw)
    unit = checks.unit
    if unit == "kPa" and loads.sensor_load_unit == "N":  # pressures with known areas: the loads are forces
        load = masked * layout_weights.astype(np.float32)[:, None]
        pressure: np.ndarray | None = masked
    else:
        load = masked
        pressure = masked if unit == "kPa" else None
    found = loads.zero_offset if loads.zero_offset.applied else None
    shared = pressure is load
    load = _stretch_offset_and_clip(load, found.offsets if found else None, loads, start, stop)
    if shared:
        pressure = load
    elif pressure is not None:
        pressure = _stretch_offset_and_clip(pressure, found.pressure_offsets if found else None, loads, start, stop)
    return load, pressure


def stretch_readings(checks: SensorChecks, start: int, raw: np.ndarray) -> np.ndarray:
    """``checks.readings_t[:, start:start + L]`` rebuilt in ``raw`` (the recording's values of those samples,
    sensors x L, float32, overwritten and returned): zero where the checks left a reading out."""
    stop = start + raw.shape[1]
    valid = checks.valid[start:stop]
    if not valid.all():
        raw[:, ~valid] = 0
    _zero_left_out(raw, checks, start, stop)
    raw[~checks.sensor_used] = 0
    return raw


def _zero_left_out(array: np.ndarray, checks: SensorChecks, start: int, stop: int) -> None:
    """``_zero_sensor_gaps`` of the samples ``[start, stop)`` of the whole arrays, on ``array`` holding only those."""
    for j, a, b in checks.sensor_gaps:
        lo, hi = max(a, start), min(b, stop)
        if lo < hi:
            array[j, lo - start:hi - start] = 0
    if checks.spike_sample.size:
        inside = (checks.spike_sample >= start) & (checks.spike_sample < stop)
        if inside.any():
            array[checks.spike_sensor[inside], checks.spike_sample[inside] - start] = 0


def _stretch_offset_and_clip(array: np.ndarray, offsets: np.ndarray | None, loads: FootLoads, start: int,
                             stop: int) -> np.ndarray:
    """``_offset_and_clip(..., clip=True, in_place=True)`` of the samples ``[start, stop)`` only."""
    shift = np.zeros(array.shape[0], dtype=np.float32) if offsets is None else offsets.astype(np.float32)
    _offset_and_clip_rows(array, shift, clip=True)  # (clipped before the zeroing: the same bits)
    if offsets is None:
        return array
    valid = loads.valid[start:stop]
    if not valid.all():
        array[:, np.flatnonzero(~valid)] = 0
    _zero_left_out(array, loads.checks, start, stop)
    return array


def apply_zero_offset(
    loads: FootLoads, swing_starts: np.ndarray, swing_stops: np.ndarray, params: AnalysisParams | None = None
) -> FootLoads:
    """``loads`` with ``find_zero_offset`` subtracted from each sensor and the total force (a new value).

    Not clipped: ``finish_loads`` does that (``remove_offset`` does both at once).
    """
    if loads.zero_offset.applied:
        raise ValueError("the zero offset of these loads is already subtracted")
    found = find_zero_offset(loads, swing_starts, swing_stops, params if params is not None else AnalysisParams())
    return _rebuilt(loads, found, clip=False)


def find_zero_offset(
    loads: FootLoads, swing_starts: np.ndarray, swing_stops: np.ndarray, params: AnalysisParams,
    gather: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]] | None = None,
) -> ZeroOffset:
    """Each sensor's and the total force's median over unloaded mid-swing samples.

    Only swings that are genuinely unloaded count (see the module docstring);
    when none are, or the offset they give is implausible for calibrated force,
    the result is not applied and its ``note`` says why. ``gather(samples)``:
    the per-sensor loads and pressures at those samples (sensors x samples),
    for loads that keep no per-sensor arrays of their own (the streamed analysis).
    """
    swing_starts = np.asarray(swing_starts, dtype=np.int64)
    swing_stops = np.asarray(swing_stops, dtype=np.int64)
    lengths = swing_stops - swing_starts
    keep = lengths >= 4
    a = swing_starts[keep] + lengths[keep] // 4
    b = swing_stops[keep] - lengths[keep] // 4
    if a.size == 0:
        return ZeroOffset(note="not applied: no swing phase found")
    force = loads.force
    valid = loads.valid
    all_valid = bool(valid.all())  # the usual case: no pass over the samples to mask or count them
    if all_valid:
        counts_per_swing = b - a
        sums = reduce_intervals(np.add, force, a, b)
    else:
        valid_count = np.concatenate([[0], np.cumsum(valid)])
        counts_per_swing = valid_count[b] - valid_count[a]
        sums = reduce_intervals(np.add, np.where(valid, force, 0.0), a, b)
    observed = counts_per_swing > 0
    if observed.sum() == 0:
        return ZeroOffset(note="not applied: too few valid mid-swing samples")
    a, b, level = a[observed], b[observed], sums[observed] / counts_per_swing[observed]
    swing_a, swing_b = swing_starts[keep][observed], swing_stops[keep][observed]
    highs = force if all_valid else np.where(valid, force, -np.inf)  # the force, -inf where invalid
    contacts = _contact_highs(highs, swing_a, swing_b)  # the highest force between swings, once for both
    peak = _typical_contact_peak(force, valid, contacts)
    depth = _swing_depth(contacts, level)
    finite_depth = depth[np.isfinite(depth)]
    usual_depth = float(np.percentile(finite_depth, _DEEP_SWINGS_PERCENTILE)) if finite_depth.size else np.nan
    if not (np.isfinite(usual_depth) and usual_depth > 0):
        return ZeroOffset(note="not applied: the foot's force shows no contact above its swings")
    # a genuine swing unloads the foot: it lies about as deep below the step
    # beside it as the foot's usual swings do (a slow drift of the baseline
    # moves swing and contacts together; a weight shift while standing is shallow)
    unloaded = depth >= _SWING_DEPTH_FRACTION * usual_depth
    a, b = a[unloaded], b[unloaded]
    left_out = int((~unloaded).sum())
    mid_swing = _mid_swing_samples(a, b, valid, all_valid)
    if mid_swing.size < 3:
        return ZeroOffset(note="not applied: too few valid mid-swing samples")
    # a median over at most ~20000 evenly spread mid-swing samples is plenty
    rows = mid_swing[:: max(1, mid_swing.size // 20000)]
    force_offset = float(np.median(force[rows]))
    unit = loads.force_unit
    limit = float(params.unloaded_max_fraction) * peak
    if unit == "N" and force_offset > limit:
        return ZeroOffset(note=(
            f"not applied: the foot never unloads (its swings still carry {force_offset:.4g} N, "
            f"{100 * force_offset / peak:.0f} % of its typical contact peak {peak:.4g} N, above the "
            f"{100 * params.unloaded_max_fraction:.0f} % an unloaded foot may keep): standing or sway, not swing"
        ))
    weights = _pressure_weights(loads) if gather is None else None
    pressure_medians = None
    if weights is not None:  # loads that are the pressures times the areas: both medians from one sort
        assert loads.sensor_pressure_t is not None
        offsets, pressure_medians = _weighted_row_medians(loads.sensor_pressure_t[:, rows], weights)
    else:
        load_rows, pressure_rows = gather(rows) if gather is not None else _mid_swing_rows(loads, rows)
        offsets = _row_medians(load_rows)
    offsets[~loads.sensor_used] = 0.0
    pressure_offsets = None
    if loads.sensor_pressure_t is not None and loads.sensor_pressure_t is not loads.sensor_load_t:
        if pressure_medians is not None:
            pressure_offsets = pressure_medians
        else:
            pressure_offsets = _row_medians(pressure_rows if pressure_rows is not None
                                            else loads.sensor_pressure_t[:, rows])
        pressure_offsets[~loads.sensor_used] = 0.0
    note = (
        f"median of {int(mid_swing.size)} mid-swing samples subtracted per sensor "
        f"(total force offset {force_offset:.4g} {unit}"
        + (f", {100 * force_offset / peak:.1f} % of the typical contact peak" if unit == "N" else "")
        + ")"
        + (f"; {left_out} of {left_out + a.size} swings left out as not unloaded "
           f"(less than {100 * _SWING_DEPTH_FRACTION:.0f} % as deep below their neighbouring contacts as the "
           "foot's usual swing)" if left_out else "")
    )
    return ZeroOffset(applied=True, note=note, force_offset=force_offset, offsets=offsets,
                      pressure_offsets=pressure_offsets)


def _mid_swing_rows(loads: FootLoads, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The per-sensor loads at the samples ``rows`` (sensors x rows), and the pressures there when they come
    with them (else None: ``find_zero_offset`` reads them itself).

    Loads that are the pressures times the sensor areas, as ``foot_loads`` made them (``load_weights``), are
    the pressures read at those samples times the areas: the same float32 products as in the whole array, from
    one read of the scattered samples instead of two.
    """
    pressure = loads.sensor_pressure_t
    weights = _pressure_weights(loads)
    if weights is not None and pressure is not None:
        pressure_rows = pressure[:, rows]
        return pressure_rows * weights[:, None], pressure_rows
    return loads.sensor_load_t[:, rows], None


def _pressure_weights(loads: FootLoads) -> np.ndarray | None:
    """``loads.load_weights`` when the per-sensor loads are the pressures (the checks' readings) times them, as
    ``foot_loads`` made them (neither touched since); None otherwise."""
    weights = loads.load_weights
    if (weights is not None and loads.sensor_pressure_t is not None
            and loads.sensor_pressure_t is loads.checks.readings_t and not loads.clipped
            and not loads.zero_offset.applied):
        return weights
    return None


def _mid_swing_samples(starts: np.ndarray, stops: np.ndarray, valid: np.ndarray, all_valid: bool) -> np.ndarray:
    """The valid samples inside any of the intervals ``[starts, stops)`` (non-empty), in ascending order.

    Swings follow one another, so the intervals are usually sorted and apart:
    their samples are then listed directly (no pass over the whole recording);
    otherwise they are marked on a running count of interval edges.
    """
    if starts.size and np.all(starts[1:] > starts[:-1]) and np.all(stops[:-1] <= starts[1:]):
        lengths = stops - starts
        first = np.cumsum(lengths) - lengths  # where each interval's samples begin in the list
        index = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - first, lengths)
        return index if all_valid else index[valid[index]]
    edges = np.bincount(starts, minlength=valid.size + 1) - np.bincount(stops, minlength=valid.size + 1)
    return np.flatnonzero((np.cumsum(edges[:-1]) > 0) & valid)


class _ContactHighs(NamedTuple):
    """The highest force (-inf where invalid) of the stretches between swings, in swing order (``order``: the
    swings sorted by start): ``inner[k]`` between swing k and k + 1 where ``between[k]`` (they do not touch),
    ``first`` before the first swing and ``last`` after the last (None where that stretch is empty)."""

    order: np.ndarray
    between: np.ndarray
    inner: np.ndarray
    first: float | None
    last: float | None


def _contact_highs(highs: np.ndarray, swing_starts: np.ndarray, swing_stops: np.ndarray) -> _ContactHighs:
    """``_ContactHighs`` of the force ``highs`` (-inf where invalid) around these swings (non-empty, any order).

    The typical contact peak and each swing's depth read the same maxima; the largest of a stretch is the same
    value however the stretch is reduced, so one reduction serves both.
    """
    n = highs.size
    order = np.argsort(swing_starts, kind="stable")
    starts, stops = swing_starts[order], swing_stops[order]
    between = starts[1:] > stops[:-1]
    inner = reduce_intervals(np.maximum, highs, stops[:-1][between], starts[1:][between])
    first = float(np.max(highs[: starts[0]])) if starts.size and starts[0] > 0 else None
    last = float(np.max(highs[stops[-1]:])) if starts.size and n > stops[-1] else None
    return _ContactHighs(order, between, inner, first, last)


def _swing_depth(contacts: _ContactHighs, level: np.ndarray) -> np.ndarray:
    """How far each swing's mid-swing level lies below the higher of the peaks of the contacts beside it.

    The contact before a swing runs from the previous swing's end (or the recording's start) to its start, the
    one after from its end to the next swing's start (or the recording's end); a side with no valid sample is
    ignored (NaN when both are). ``level`` in the swings' own order; ``contacts``: ``_contact_highs``.
    """
    order = contacts.order
    m = order.size
    before = np.full(m, -np.inf)
    after = np.full(m, -np.inf)
    before[1:][contacts.between] = contacts.inner
    after[:-1][contacts.between] = contacts.inner
    if contacts.first is not None:
        before[0] = contacts.first
    if contacts.last is not None:
        after[-1] = contacts.last
    higher = np.maximum(before, after)  # the step on either side (standing beside a swing is only half a peak)
    depth = np.full(m, np.nan)
    depth[order] = np.where(np.isfinite(higher), higher - level[order], np.nan)
    return depth


def _typical_contact_peak(force: np.ndarray, valid: np.ndarray, contacts: _ContactHighs) -> float:
    """The median of the largest force between consecutive swings (the 95th percentile of the force if none).

    ``contacts``: ``_contact_highs`` of the force, -inf where invalid.
    """
    if contacts.between.any():
        peaks = contacts.inner[np.isfinite(contacts.inner)]
        if peaks.size:
            return float(np.median(peaks))
    return float(np.percentile(force[valid], 95)) if valid.any() else float("nan")


def _row_medians(values: np.ndarray) -> np.ndarray:
    """The median of each row of a finite 2-D array, as ``np.median(values, axis=1)`` gives it.

    By sorting: mid-swing readings are mostly one value (often exactly zero),
    and with so many ties numpy's sort beats its partition (and ``np.median``,
    which partitions and also checks for NaN; these values are all valid).
    """
    width = values.shape[1]
    half = width // 2
    ordered = np.sort(values, axis=1)
    if width % 2:
        return ordered[:, half]
    return (ordered[:, half - 1] + ordered[:, half]) / 2


def _weighted_row_medians(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_row_medians(values * weights[:, None])`` and ``_row_medians(values)`` (float32 (rows, width) values,
    float32 (rows,) weights), from one sort of ``values``, of the rows that need one.

    A float32 product with a positive weight never reorders a row (rounding is monotone), so the products of a
    row, sorted, are its sorted values times the weight: their middle ones are the sorted row's middle ones times
    it, the same floats. That holds for a row whose values all have a clear sign bit and a positive finite weight
    (a -0.0 could sit elsewhere among equal zeros, or a product underflow to one); any other row's products are
    sorted as ``_row_medians`` sorts them. A row of values in [+0.0, +inf] (one maximum of their bits says so)
    more than half of which are zero has its middle ones zero: both its medians are +0.0 (+0.0 times a weight,
    halved, is +0.0), with no sort; mid-swing readings are often so.
    """
    k, width = values.shape
    half = width // 2
    settled = np.zeros(k, dtype=bool)
    if values.dtype == np.float32 and width:
        # all rows at once (a few calls, not a few per row: each call re-takes the GIL the other foot's thread may
        # hold); zeros counted as a sum of a mask (np.count_nonzero keeps the GIL)
        plain = values.view(np.uint32).max(axis=1) <= _POSITIVE_INF_BITS
        zeros = width - np.add.reduce(values > 0, axis=1, dtype=np.intp)
        # (only with a positive finite weight: +0.0 times a negative or infinite one is -0.0 or NaN)
        settled = (0 < weights) & (weights < np.inf) & plain & (zeros > half)
    pressure = np.zeros(k, dtype=values.dtype)
    load = np.zeros(k, dtype=np.result_type(values.dtype, weights.dtype))
    rest = np.flatnonzero(~settled)
    if rest.size == 0:
        return load, pressure
    some, some_weights = (values, weights) if rest.size == k else (values[rest], weights[rest])
    ordered = np.sort(some, axis=1)  # (mid-swing readings are mostly one value: a sort beats a partition there)
    if width % 2:
        pressure[rest] = ordered[:, half]
        load[rest] = ordered[:, half] * some_weights
    else:
        low, high = ordered[:, half - 1], ordered[:, half]
        pressure[rest] = (low + high) / 2
        load[rest] = (low * some_weights + high * some_weights) / 2
    sorted_alike = (some_weights > 0) & np.isfinite(some_weights) & ~np.signbit(ordered).any(axis=1)
    if not sorted_alike.all():
        other = np.flatnonzero(~sorted_alike)
        load[rest[other]] = _row_medians(some[other] * some_weights[other, None])
    return load, pressure


def _valid_where_finite(valid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``valid & np.isfinite(values)``, a new array; a copy of a boolean ``valid`` when every value is finite (one
    sum says so, the usual case: no mask of the values is made)."""
    if valid.dtype == np.bool_ and valid.shape == values.shape and all_finite(values):
        return valid.copy()
    return valid & np.isfinite(values)


def _writable_rows(values: np.ndarray) -> np.ndarray | None:
    """``values.T`` itself, made writable, when ``values`` (samples, sensors) is float32 stored sensor by sensor and
    its memory is a whole array of its own (None otherwise: the caller copies)."""
    rows = values.T
    owner = rows.base
    if not (rows.dtype == np.float32 and rows.flags.c_contiguous and isinstance(owner, np.ndarray)
            and owner.flags.owndata and owner.flags.writeable and owner.shape == rows.shape):
        return None
    rows.setflags(write=True)
    return rows


def _rows_and_sum(rows: np.ndarray, fill: Callable[[int, np.ndarray], object] | None = None,
                  plain: np.ndarray | None = None, after: Callable[[int, np.ndarray], object] | None = None
                  ) -> np.ndarray:
    """The float64 sum over the rows of a (rows, samples) array, ``rows.sum(axis=0, dtype=np.float64)``'s numbers
    (each sample's values added in row order, from +0.0 plus the first row's: a sample whose readings are all -0.0
    sums to +0.0, as numpy's does), a row at a time: faster than numpy's reduction over the first axis, which casts
    through a buffer. ``fill(j, rows[j])`` first writes each row (a product, a copy), so that the row is added
    while still in cache. ``plain``: (rows,) bools to set to ``_plain_row`` of each row, taken likewise.
    ``after(j, rows[j])`` last reads each row (``plain[j]`` set), still in cache."""
    k, n = rows.shape
    summed = np.empty(n, dtype=np.float64)
    if k == 0:
        summed[:] = 0.0
    for j in range(k):  # one step per sensor
        row = rows[j]
        if fill is not None:
            fill(j, row)
        if j == 0:
            np.add(row, 0.0, out=summed)  # (+0.0 + x: x, but -0.0 becomes +0.0, as numpy's sum starts from +0.0)
        else:
            np.add(summed, row, out=summed)
        if plain is not None:
            plain[j] = _plain_row(row)
        if after is not None:
            after(j, row)
    return summed


def _sum_rows(rows: np.ndarray, plain: np.ndarray | None = None,
              after: Callable[[int, np.ndarray], object] | None = None) -> np.ndarray:
    """``rows.sum(axis=0, dtype=np.float64)`` of a (rows, samples) array, the same numbers (``_rows_and_sum``)."""
    return _rows_and_sum(rows, plain=plain, after=after)


def _plain_row(row: np.ndarray) -> bool:
    """Whether every value of a float32 row lies in [+0.0, +inf] (no sign bit set, no NaN; one maximum of their
    bits): their bits, read as unsigned integers, then order as the floats do, and equal floats have equal bits."""
    return row.dtype == np.float32 and (row.size == 0 or bool(row.view(np.uint32).max() <= _POSITIVE_INF_BITS))


def _weighted_rows_and_sum(rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rows * weights`` ((rows, samples) float32 times (rows, 1) float32) and ``_sum_rows`` of it, a row at a
    time: each row's products are added to the sum while still in cache, the same numbers from one read of them."""
    product = np.empty(rows.shape, dtype=np.float32)
    return product, _rows_and_sum(product, lambda j, row: np.multiply(rows[j], weights[j], out=row))


def _copied_rows_and_sum(values: np.ndarray, plain: np.ndarray | None = None,
                         after: Callable[[int, np.ndarray], object] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``_transposed_float32(values)`` and ``_sum_rows`` of it (``plain`` and ``after`` as there). Values stored
    sensor by sensor are copied a row at a time and each row added to the sum as it is copied (still in cache):
    the readings are read from memory once."""
    rows = values.T
    if not rows.flags.c_contiguous:
        copied = _transposed_float32(values)
        return copied, _sum_rows(copied, plain=plain, after=after)
    copied = np.empty(rows.shape, dtype=np.float32)

    def copy_row(j: int, row: np.ndarray) -> None:
        row[...] = rows[j]  # (float32 as np.array(values.T, dtype=np.float32) makes it)

    return copied, _rows_and_sum(copied, copy_row, plain, after)


def _transposed_float32(values: np.ndarray) -> np.ndarray:
    """``values`` (samples, sensors) as a C-contiguous float32 (sensors, samples) copy.

    Values stored sensor by sensor are one plain copy. Others are transposed
    block by block: a tall, thin array transposed in one go walks memory with a
    large stride and is about three times slower.
    """
    if values.T.flags.c_contiguous:
        return np.array(values.T, dtype=np.float32, order="C")
    n, k = values.shape
    out = np.empty((k, n), dtype=np.float32)
    block = 8192
    for start in range(0, n, block):  # one step per 8192 samples, not per sample
        out[:, start:start + block] = values[start:start + block].T
    return out


def _load_share(values, weights, used, valid, j, spans) -> float | None:
    """Sensor ``j``'s share (%) of the foot's summed load over the valid samples outside its ``spans``.

    The sum is over the sensors in use plus ``j`` (values as they stand:
    spikes already zero). Only called for flagged sensors.
    """
    keep = valid.copy()
    for a, b in spans:
        keep[a:b] = False
    if not keep.any():
        return None
    members = used.copy()
    members[j] = True
    per_sensor = values[:, keep].sum(axis=1, dtype=np.float64) * weights
    whole = float(per_sensor[members].sum())
    return round(100.0 * float(per_sensor[j]) / whole, 2) if whole > 0 else None


class _Blocks:
    """Per-sensor maxima and minima over windows of ``_SPIKE_WINDOW_S`` and over blocks of whole windows.

    Blocks last ``max(stuck_run_s / 2, 2 s)`` (rounded to whole windows; the
    whole recording if it is shorter). The block extremes are taken from the
    window extremes, so the samples are swept once for both.
    """

    def __init__(self, values: np.ndarray, valid: np.ndarray, sample_rate_hz: float, params: AnalysisParams,
                 plain: np.ndarray | None = None, extremes: _RowExtremes | None = None) -> None:
        # ``plain``: per row, True where ``_plain_row`` holds (and stays so: the values are only ever zeroed)
        # ``extremes``: every row's window maxima and block minima, taken already (``_RowExtremes`` of these
        # values, with this geometry); otherwise taken here
        self.plain = np.zeros(values.shape[0], dtype=bool) if plain is None else plain
        n = values.shape[1]
        self.sample_rate_hz = sample_rate_hz
        self.window, self.per_block = _block_geometry(n, sample_rate_hz, params)
        self.size = self.window * self.per_block
        self.count = n // self.size
        self.windows = n // self.window
        self.valid = valid[: self.count * self.size].reshape(self.count, self.size).all(axis=1)
        if extremes is None:
            self.refresh(values, None)
        else:
            self.window_max = extremes.window_max
            self.maximum, self.minimum = self._block_maxima(values, np.arange(values.shape[0])), extremes.block_min

    def cut(self, values: np.ndarray) -> np.ndarray:
        """(sensors, blocks, samples) view of the whole blocks (no copy: rows are contiguous)."""
        return values[:, : self.count * self.size].reshape(values.shape[0], self.count, self.size)

    def refresh(self, values: np.ndarray, rows: np.ndarray | None) -> None:
        rows = np.arange(values.shape[0]) if rows is None else np.asarray(rows)
        if not hasattr(self, "window_max"):
            self.window_max = np.zeros((values.shape[0], self.windows), dtype=values.dtype)
        block_low = np.empty((rows.size, self.count), dtype=values.dtype)
        for i, j in enumerate(rows.tolist()):  # one step per sensor
            _row_extremes(values[j], bool(self.plain[j]), self.window, self.windows, self.size, self.count,
                          self.window_max[j], block_low[i])
        block_high = self._block_maxima(values, rows)
        if not hasattr(self, "maximum"):
            self.maximum, self.minimum = block_high, block_low
        else:
            self.maximum[rows], self.minimum[rows] = block_high, block_low

    def _block_maxima(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The block maxima of ``rows``, from their window maxima."""
        nb = self.count * self.per_block
        if self.plain[rows].all():
            # plain rows: the largest of each block's windows on their bits, one strided maximum per window of a
            # block over all the rows at once (a maximum over a short last axis is some 25 times slower)
            whole = rows.size == values.shape[0] and bool(np.array_equal(rows, np.arange(rows.size)))
            bits = (self.window_max[:, :nb] if whole else self.window_max[rows, :nb]).view(np.uint32)
            high_bits = bits[:, 0::self.per_block].copy()
            for p in range(1, self.per_block):  # one step per window of a block
                np.maximum(high_bits, bits[:, p::self.per_block], out=high_bits)
            return high_bits.view(values.dtype)
        return self.window_max[rows, :nb].reshape(rows.size, self.count, self.per_block).max(axis=2)


def _block_geometry(n: int, sample_rate_hz: float, params: AnalysisParams) -> tuple[int, int]:
    """``_Blocks``' window (samples) and windows per block for ``n`` samples."""
    window = max(1, int(round(_SPIKE_WINDOW_S * sample_rate_hz)))
    per_block = max(1, int(round(max(params.stuck_run_s / 2, _BLOCK_MIN_S) / _SPIKE_WINDOW_S)))
    if window * per_block > n:  # shorter than one block: one block, one window
        window, per_block = max(n, 1), 1
    return window, per_block


class _RowExtremes(NamedTuple):
    """Every row's maxima over ``_Blocks``' windows and minima over its blocks, (rows, windows) and (rows, blocks)."""

    window_max: np.ndarray
    block_min: np.ndarray


def _extremes_taker(n: int, k: int, sample_rate_hz: float, params: AnalysisParams, plain: np.ndarray
                    ) -> tuple[_RowExtremes, Callable[[int, np.ndarray], None]]:
    """Arrays for ``_Blocks``' extremes of ``k`` float32 rows of ``n`` samples, and ``take(j, row)`` filling row
    ``j``'s as ``_Blocks`` takes them, and setting ``plain[j]`` to ``_plain_row(row)``.

    The window maxima are taken on the row's bits first: with the bits past the last whole window, their largest
    is the row's, which says whether the row is plain (no pass of its own over the row); a row that is not has its
    extremes taken again on the floats.
    """
    window, per_block = _block_geometry(n, sample_rate_hz, params)
    size = window * per_block
    windows, count = n // window, n // size
    extremes = _RowExtremes(np.zeros((k, windows), dtype=np.float32), np.empty((k, count), dtype=np.float32))
    window_starts = np.arange(0, windows * window, window)
    block_starts = np.arange(0, count * size, size)

    def take(j: int, row: np.ndarray) -> None:
        if row.dtype != np.float32:  # (not read as bits)
            plain[j] = _plain_row(row)
            _row_extremes(row, bool(plain[j]), window, windows, size, count, extremes.window_max[j],
                          extremes.block_min[j])
            return
        bits = row.view(np.uint32)
        window_bits = np.maximum.reduceat(bits[: windows * window], window_starts) if windows else None
        top = int(window_bits.max()) if window_bits is not None else 0
        if windows * window < n:
            top = max(top, int(bits[windows * window:].max()))
        plain[j] = top <= _POSITIVE_INF_BITS
        if not plain[j]:
            _row_extremes(row, False, window, windows, size, count, extremes.window_max[j], extremes.block_min[j])
            return
        if window_bits is not None:
            extremes.window_max[j] = window_bits.view(np.float32)
        if count:
            extremes.block_min[j] = np.minimum.reduceat(bits[: count * size], block_starts).view(np.float32)

    return extremes, take


def _row_extremes(row: np.ndarray, plain: bool, window: int, windows: int, size: int, count: int,
                  window_max: np.ndarray, block_min: np.ndarray) -> None:
    """One row's maxima over its whole windows of ``window`` samples into ``window_max`` (``windows``) and its
    minima over its whole blocks of ``size`` into ``block_min`` (``count``).

    1-D reduceat (one call per row): several times faster than reduceat along an axis of the 2-D array, or a max
    (min) over a short last axis; both of a row in turn, the second from cache. A plain row's extremes on its bits
    as unsigned integers: the same floats, about twice as fast (numpy's float maximum and minimum are slow on the
    samples past each window's last whole SIMD step).
    """
    values = row.view(np.uint32) if plain else row
    if windows:
        window_max[...] = np.maximum.reduceat(values[: windows * window], np.arange(0, windows * window, window)
                                              ).view(row.dtype)
    if count:
        block_min[...] = np.minimum.reduceat(values[: count * size], np.arange(0, count * size, size)
                                             ).view(row.dtype)


# The interpolation below is numpy 2.4's: numpy 2.0-2.3 give other last bits (the weight reaches them another way)
# and numpy 1.x a float64 result, so with those numpy's own percentile is used
_PERCENTILE_AS_NUMPY_2_4 = np.lib.NumpyVersion(np.__version__) >= "2.4.0"


def _row_percentile(values: np.ndarray, q: int | float) -> np.ndarray:
    """``np.percentile(values, q, axis=1)`` of a 2-D array (``q`` a Python number, as in the calls here), bit for bit.

    numpy moves the axis first and partitions the columns of that view with four ranks at once, which its
    partition does by a slow general selection; for float32 values all in [+0.0, +inf] (no sign bit set, no NaN:
    one maximum of their bits) the two order statistics numpy interpolates are read from the rows sorted on their
    bits as unsigned integers, which order as those floats do (equal floats there have equal bits, so any ordering
    puts the same ones there). numpy's sort is several times faster than that selection, and than its own single
    selection on rows with many equal values (a sensor unloaded in most windows). They are then interpolated by
    numpy's own formula (``numpy.lib._function_base_impl._lerp``, with the weight a Python float as
    ``np.percentile`` makes it for a Python ``q``). Any other array, and any numpy before 2.4, is ``np.percentile``'s
    own.
    """
    k, width = values.shape
    if (not _PERCENTILE_AS_NUMPY_2_4 or values.dtype != np.float32 or k == 0 or width == 0
            or type(q) not in (int, float) or values.view(np.uint32).max() > _POSITIVE_INF_BITS):
        return np.percentile(values, q, axis=1)
    virtual = float((width - 1) * np.true_divide(q, 100))
    if not 0 <= virtual <= width - 1:
        return np.percentile(values, q, axis=1)
    below = width - 1 if virtual >= width - 1 else int(np.floor(virtual))  # numpy's lower index
    ordered = np.sort(values.view(np.uint32), axis=1).view(np.float32)
    lower = ordered[:, below]
    upper = lower if below == width - 1 else ordered[:, below + 1]
    gamma = virtual - (-1 if virtual >= width - 1 else below)  # (numpy's weight: above the end its index is -1)
    difference = upper - lower
    out = np.add(lower, difference * gamma)
    np.subtract(upper, difference * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe", dtype=out.dtype.type)
    return out


def _spike_thresholds(blocks: _Blocks) -> np.ndarray:
    """Per sensor: its typical peak, at least ``_SPIKE_MIN_FRACTION`` of the strongest sensor's.

    The typical peak is the 75th percentile of the sensor's maxima over
    windows of ``_SPIKE_WINDOW_S`` (a loaded sensor peaks in most of them): a
    spike lifts one window, so the estimate holds until a quarter of the
    windows hold one (a spike in every 200th sample of a sensor at 100 Hz).
    """
    typical = _row_percentile(blocks.window_max, 75)
    strongest = float(typical.max()) if typical.size else 0.0
    return np.maximum(typical, _SPIKE_MIN_FRACTION * max(strongest, 0.0))


def _samples_above(values: np.ndarray, bar: np.ndarray, blocks: _Blocks) -> np.ndarray:
    """``np.flatnonzero(values > bar[:, None])`` for (sensors, samples) ``values``, looking only where it may be True.

    A sample is above its sensor's bar only in a window whose maximum (``blocks.window_max``, of these very
    values) is: only those windows are read, and the samples past the last whole window.
    """
    k, n = values.shape
    width, windows = blocks.window, blocks.windows
    covered = windows * width
    hit = np.flatnonzero(blocks.window_max[:, :windows] > bar[:, None])
    row, window = np.divmod(hit, windows)
    samples = values[:, :covered].reshape(k, windows, width)[row, window]  # (hit windows, width), a small copy
    at, offset = np.divmod(np.flatnonzero(samples > bar[row][:, None]), width)  # np.nonzero of 2-D is slow
    found = row[at] * n + window[at] * width + offset  # in order: by sensor, window, then sample
    if covered < n:
        tail_row, tail_i = np.divmod(np.flatnonzero(values[:, covered:] > bar[:, None]), n - covered)
        found = np.sort(np.concatenate([found, tail_row * n + covered + tail_i]))
    return found


def _counts_at_or_above(values: np.ndarray, bar: np.ndarray, blocks: _Blocks) -> np.ndarray:
    """Per sensor, how many of its samples are at or above its ``bar`` (> 0), reading only the windows whose
    maximum (``blocks.window_max``, of these values or of values no lower where above zero) reaches it, and the
    samples past the last whole window: ``np.count_nonzero(values >= bar[:, None], axis=1)``."""
    k, n = values.shape
    width, windows = blocks.window, blocks.windows
    covered = windows * width
    hit = np.flatnonzero(blocks.window_max[:, :windows] >= bar[:, None])
    row, window = np.divmod(hit, windows)
    samples = values[:, :covered].reshape(k, windows, width)[row, window]  # (hit windows, width), a small copy
    per_window = np.count_nonzero(samples >= bar[row][:, None], axis=1)
    counts = np.bincount(row, weights=per_window, minlength=k).astype(np.int64)
    if covered < n:
        counts += np.count_nonzero(values[:, covered:] >= bar[:, None], axis=1)
    return counts


def _find_spikes(values: np.ndarray, valid: np.ndarray, blocks: _Blocks,
                 threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sensor, sample) indices of isolated one- or two-sample spikes, in sample order per sensor.

    A jump up from the previous sample by more than the sensor's threshold
    that comes straight back down by more than it after one sample, or after
    two (both high samples above both neighbours by more than it). The
    threshold is the sensor's typical peak, at least ``_SPIKE_MIN_FRACTION``
    of the strongest sensor's. Only jumps between valid samples count.
    """
    none = np.zeros(0, dtype=np.int64)
    k, n = values.shape
    threshold = threshold.astype(values.dtype)
    if n < 3 or not (threshold.size and threshold.max() > 0):
        return none, none
    # a sample that jumped up by the threshold stands above the sensor's floor by
    # more than it: one comparison screens the candidates (cheaper than a
    # difference of the whole array); flatnonzero, because np.nonzero on a 2-D
    # mask costs some 40 ms per hour of data even with no hit
    tail = values[:, blocks.count * blocks.size:]
    floor = blocks.minimum.min(axis=1, initial=np.inf)
    if tail.shape[1]:
        floor = np.minimum(floor, tail.min(axis=1))
    high = _samples_above(values, floor + threshold, blocks)
    rows, i = np.divmod(high, n)
    x = values
    # the first and last samples have one neighbour: a drop to it by the threshold is enough (read for those only)
    at_edge = np.flatnonzero((i == 0) | (i == n - 1))
    edge_rows, edge_i = rows[at_edge], i[at_edge]
    first = (edge_i == 0) & valid[0] & valid[1] & (x[edge_rows, 0] - x[edge_rows, 1] > threshold[edge_rows])
    last = (edge_i == n - 1) & valid[n - 1] & valid[n - 2] & (
        x[edge_rows, n - 1] - x[edge_rows, n - 2] > threshold[edge_rows])
    edge_rows, edge_i = edge_rows[first | last], edge_i[first | last]
    inside = (i >= 1) & (i <= n - 2)
    rows, i = rows[inside], i[inside]
    t = threshold[rows]
    up = x[rows, i] - x[rows, i - 1] > t
    rows, i, t = rows[up], i[up], t[up]
    if i.size + edge_i.size == 0:
        return none, none
    around = valid[i - 1] & valid[i] & valid[i + 1]
    single = around & (x[rows, i] - x[rows, i + 1] > t)
    j2 = np.minimum(i + 2, n - 1)
    double = (
        around & (i + 2 <= n - 1) & valid[j2]
        & (x[rows, i + 1] - x[rows, i - 1] > t) & (x[rows, i] - x[rows, j2] > t) & (x[rows, i + 1] - x[rows, j2] > t)
    )
    sensor = np.concatenate([rows[single | double], rows[double], edge_rows])
    sample = np.concatenate([i[single | double], i[double] + 1, edge_i])
    linear = np.unique(sensor.astype(np.int64) * n + sample)
    return linear // n, linear % n


def _quiet_sensors(values, valid, total, blocks: _Blocks, used, span, calibrated, params):
    """Dead or stuck sensors while the foot walks: (sensor, status, start, stop, detail), start None for throughout.

    See the module docstring for the rules. Spans are sample indices
    ``[start, stop)`` of ``stuck_run_s`` or more; the per-sensor loops run only
    over the few sensors with a quiet block or a weak range.
    """
    k, n = values.shape
    if blocks.count == 0 or not (span > 0) or not used.any():
        return []
    size = blocks.size
    cut_total = total[: blocks.count * size].reshape(blocks.count, size)
    # each block's extremes by a 1-D reduceat (twice as fast as over the blocks' short rows); the same numbers: the
    # total is a float64 sum from +0.0, finite (zero where invalid), so neither a NaN nor a -0.0 can tie them
    block_starts = np.arange(0, blocks.count * size, size)
    t_max = np.maximum.reduceat(total[: blocks.count * size], block_starts)
    t_min = np.minimum.reduceat(total[: blocks.count * size], block_starts)
    t_range = t_max - t_min
    walking = blocks.valid & (t_range >= _WALKING_RANGE_FRACTION * span)
    if calibrated:  # the foot really comes off the ground within the block
        walking &= t_min <= params.unloaded_max_fraction * t_max
    if walking.sum() < 2:
        return []
    sensor_range = blocks.maximum - blocks.minimum
    usual_range = _row_percentile(sensor_range[:, walking], 90)
    usual_max = _row_percentile(blocks.maximum[:, walking], 90)
    strongest_range = float(usual_range[used].max())
    strongest_max = float(usual_max[used].max())
    # spans are sought only in sensors that matter and normally move in every
    # walking block: a cell at the edge of a grid's footprint is loaded in some
    # steps and not in others, which is no failure
    substantial = used & (usual_max >= _SUBSTANTIAL_FRACTION * strongest_max) & (usual_range > 0)
    quiet = (sensor_range <= _QUIET_RANGE_FRACTION * usual_range[:, None]) & walking[None, :] & substantial[:, None]
    active = (sensor_range >= _ACTIVE_RANGE_FRACTION * usual_range[:, None]) & walking[None, :]
    sample_rate_hz = blocks.sample_rate_hz
    min_samples = params.stuck_run_s * sample_rate_hz
    found: list[tuple[int, str, int | None, int | None, str]] = []
    spanned = np.zeros(k, dtype=bool)
    for j in np.flatnonzero(quiet.any(axis=1)):
        row = values[j]
        spans: list[tuple[int, int, str, str]] = []
        starts, stops = runs(quiet[j])
        for j0, j1 in zip(starts.tolist(), stops.tolist()):
            a0, b0 = j0 * size, j1 * size
            segment = row[a0:b0]
            hi, lo = float(segment.max()), float(segment.min())
            centre, tolerance = (hi + lo) / 2, (hi - lo) / 2 + 1e-6 * max(float(usual_max[j]), 1e-12)
            outside = (np.abs(row - centre) > tolerance) & valid
            before = np.flatnonzero(outside[:a0])
            after = np.flatnonzero(outside[b0:])
            a = int(before[-1]) + 1 if before.size else 0
            b = b0 + int(after[0]) if after.size else n
            if b - a < min_samples or (spans and a < spans[-1][1]):
                continue
            dead = hi <= _DEAD_LEVEL_FRACTION * usual_max[j]
            status = "dead" if dead else "stuck"
            band = f" (+/- {(hi - lo) / 2:.2g})" if hi > lo else ""
            what = (f"reads nothing (at most {hi:.3g}) while the foot walks" if dead
                    else f"holds {centre:.4g}{band} while the foot loads and unloads")
            spans.append((a, b, status, f"{status}: {what} for {(b - a) / sample_rate_hz:.1f} s"))
        if not spans:
            continue
        # outside its spans the sensor must have worked: moving in nearly every walking block
        in_span = np.zeros(blocks.count, dtype=bool)
        for a, b, _, _ in spans:
            in_span[a // size: -(-b // size)] = True
        elsewhere = walking & ~in_span
        worked = active[j, elsewhere]
        if worked.sum() < _ACTIVE_ELSEWHERE_MIN_BLOCKS or worked.mean() < _ACTIVE_ELSEWHERE_FRACTION:
            continue
        keep = valid.copy()
        for a, b, _, _ in spans:
            keep[a:b] = False
        if np.mean(row[keep] > _ACTIVE_RANGE_FRACTION * usual_max[j]) < _LOADED_DUTY_MIN:
            continue
        spanned[j] = True
        found.extend((int(j), status, a, b, detail) for a, b, status, detail in spans)

    # sensors that never follow the foot's loading: among the weak ones (a
    # dead sensor's noise, a stuck one's small band), those whose mean while
    # the foot is loaded exceeds their mean in true swing by less than half
    # their spread (SD) in swing: noise around one level, loaded or not
    weak = used & ~spanned & (usual_range < _WEAK_RANGE_FRACTION * strongest_range)
    if weak.any():
        swing_low = t_min[:, None] + _SWING_FRACTION * t_range[:, None]
        loaded_high = t_min[:, None] + _LOADED_FRACTION * t_range[:, None]
        # the phases at every few samples (on long recordings every few settle the means below): only those are read
        step = max(1, n // _WEAK_TEST_SAMPLES)
        in_swing = (cut_total[:, ::step] <= swing_low) & walking[:, None]
        in_loaded = (cut_total[:, ::step] >= loaded_high) & walking[:, None]
        # each phase needs enough samples in the whole recording (counted, to well past any phase minimum); those
        # read here are some of them, so the whole is counted only when these are too few
        n_swing, n_loaded = float(np.count_nonzero(in_swing)), float(np.count_nonzero(in_loaded))
        if n_swing < _MIN_PHASE_SAMPLES or n_loaded < _MIN_PHASE_SAMPLES:
            n_swing = float(np.count_nonzero((cut_total <= swing_low) & walking[:, None]))
            n_loaded = float(np.count_nonzero((cut_total >= loaded_high) & walking[:, None]))
        if n_swing >= _MIN_PHASE_SAMPLES and n_loaded >= _MIN_PHASE_SAMPLES:
            rows = np.flatnonzero(weak)
            # those samples of the few weak rows, in float64, copied straight from the readings, row by row (one
            # copy of them, not a float32 copy and then a float64 one)
            picked = blocks.cut(values)[:, :, ::step]
            cut = np.empty((rows.size,) + picked.shape[1:], dtype=np.float64)
            for i, sensor in enumerate(rows.tolist()):  # one step per weak sensor
                cut[i] = picked[sensor]
            swing = in_swing.astype(values.dtype)
            loaded = in_loaded.astype(values.dtype)
            n_swing, n_loaded = float(swing.sum()), float(loaded.sum())
            swing_mean = np.einsum("kjb,jb->k", cut, swing) / n_swing
            loaded_mean = np.einsum("kjb,jb->k", cut, loaded) / n_loaded
            loaded_top = np.max(cut, axis=(1, 2), where=loaded[None] > 0, initial=-np.inf)
            squares = np.multiply(cut, cut, out=cut)  # (read no more as the samples: their squares in place)
            swing_sd = np.sqrt(np.maximum(np.einsum("kjb,jb->k", squares, swing) / n_swing - swing_mean ** 2, 0.0))
            silent = (loaded_mean - swing_mean) < _RESPONSE_SD_FRACTION * swing_sd
            for j, level, spread, top in zip(rows[silent].tolist(), loaded_mean[silent].tolist(),
                                             swing_sd[silent].tolist(), loaded_top[silent].tolist()):
                dead = top <= _DEAD_LEVEL_FRACTION * strongest_max
                status = "dead" if dead else "stuck"
                what = (f"reads only noise (at most {top:.3g}) throughout, loaded or not" if dead
                        else f"does not follow the foot's loading throughout (about {level:.4g} +/- {spread:.2g}, "
                             "loaded or not)")
                found.append((int(j), status, None, None, f"{status}: {what}"))
    return found


def _saturation_kpa(recording: Recording) -> float | None:
    for source in (recording.layout.extra, recording.meta.extra):
        value = source.get("saturation_kpa") if isinstance(source, dict) or hasattr(source, "get") else None
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _saturated_sensors(values, valid, top, total, saturation_kpa, unit, used, span, blocks=None):
    """Sensors on a plateau at their maximum (or at the stated saturation) in several runs of samples.

    A plateau counts only while the foot's total load keeps changing (by more
    than 5 % of its range): a sensor that holds its value while the whole foot
    stands still is quiet standing, not saturation. ``blocks``: the checks' ``_Blocks`` of these values (their
    window maxima say where a sample can reach the level, so only those windows are read).
    """
    k, n = values.shape  # (sensors, samples)
    if saturation_kpa is not None and unit == "kPa":
        level = np.where(top >= saturation_kpa, saturation_kpa, np.inf)
    else:
        level = np.where(top > 0, top, np.inf)
    level = np.where(used, level, np.inf).astype(values.dtype)
    need = _SATURATION_MIN_RUNS * _SATURATION_MIN_RUN_SAMPLES
    found = []
    at_top: np.ndarray | None = None
    if blocks is not None and blocks.windows and bool(np.all(level > 0)) and bool(valid.all()):
        # counted where a sample can reach the level: in the windows whose maximum does (zeroing a reading after
        # the windows were measured never lifts it to a level above zero), and past the last whole window
        counts = _counts_at_or_above(values, level, blocks)
        candidates = [j for j in range(k) if counts[j] >= need]
    else:
        at_top = values >= level[:, None]
        if not valid.all():
            at_top &= valid[None, :]
        # counted row by row (count_nonzero of a 1-D mask is a fast C loop; a sum along an axis is not)
        candidates = [j for j in range(k) if np.count_nonzero(at_top[j]) >= need]
    for j in candidates:  # usually none: only these get a closer look
        row_at_top = at_top[j] if at_top is not None else values[j] >= level[j]
        starts, stops = runs(row_at_top)
        long = (stops - starts) >= _SATURATION_MIN_RUN_SAMPLES
        if not long.any() or span <= 0:
            continue
        changing = (reduce_intervals(np.maximum, total, starts[long], stops[long])
                    - reduce_intervals(np.minimum, total, starts[long], stops[long])) > 0.05 * span
        plateaus = int(changing.sum())
        if plateaus >= _SATURATION_MIN_RUNS:
            at_ceiling = 100.0 * float(row_at_top.sum()) / max(float((values[j] > 0.1 * top[j]).sum()), 1.0)
            found.append((int(j), f"flat at its maximum {top[j]:g} {unit} in {plateaus} plateaus of 5+ samples "
                                  f"({at_ceiling:.1f} % of its loaded samples at the ceiling)"))
    return found

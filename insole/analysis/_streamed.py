"""The streamed analysis of our Parquet recordings: the numbers of ``analyze(load(path))`` in memory that does not
hold the recording.

``analyze(path)`` on a file our writer made (``insole.io.write_parquet``: each foot one block of rows in time
order, columns of the documented types, no missing values) reads the file while it works, in two passes per
foot:

1. **Preparation, events and timing.** The foot's sensor columns (as ``load`` stores them, sensor by sensor),
   its validity and its time are read; the sensor checks and the total force run on them as in ``analyze``,
   and the events are detected on the force. The zero offset needs each sensor's reading at up to 20,000
   mid-swing samples: the first foot, read while nothing else is held, keeps its readings through event
   detection and takes them there; a later foot lets its readings go before event detection and reads its
   columns again for them, on a second thread, while the main thread goes on. The timing runs on that thread
   too (it reads the IMU columns again: the accelerometer, of which ~20,000 samples find the vertical axis,
   and the gyroscope's vertical axis). What stays per foot is one-dimensional (time, validity, total force) or
   small (the checks' findings, offsets, events).
2. **Stance features, by stretches of time.** After both feet's timing (a stride's exclusion and the body
   weight need the other foot), each foot's sensor columns are read again a row group at a time (the next one
   read ahead on another thread); the per-sensor loads of the analysis are rebuilt for a stretch of about
   65,536 samples (``stretch_loads``: the same float32 operations, element by element) and the stances inside
   it are measured. A stretch ends where a stance starts, never inside one, so each stance's COP, regional and
   per-sensor numbers come from its own samples; the per-stance rows are joined and every sum across sensors
   and every aggregate is taken once over all of them, as on the whole arrays.

A foot stored in one row group of at most 64 MiB (our writer's hour) keeps its checked readings from the first
pass instead of reading them twice more. A file that is not our writer's (another layout of rows, other column
types, missing values, a part Arrow cannot read: anything this reader does not expect) is not streamed:
``analyze`` then loads it whole, which also gives the whole-file reader's own message for a file it refuses.

The reader lives here, beside the analysis, rather than in ``insole.io``: a package uses another's private
modules only through its public names (tests/test_public_surfaces.py), and it needs the analysis' stages. What
the format says it takes from ``insole._recording_format``, as the whole-file reader does: the description parsed
and checked by the same code (a file that reader refuses is not streamed), the column checks, Arrow to numpy, each
foot's rows, the duration and the no-load rule.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from insole._errors import InsoleError
from insole._layout import SensorLayout
from insole._recording import SIDES, Recording, RecordingMeta, adopted_foot
from insole._recording_format import (
    DESCRIPTION_ERRORS,
    FORMAT_VERSION,
    check_columns,
    chunk_numpy,
    described,
    description_from_schema,
    duration_s,
    foot_pieces,
    imu_columns,
    load_extremes,
    no_load,
    sensor_columns,
)
from insole.analysis._events import Contacts, detect_events
from insole.analysis._params import AnalysisParams
from insole.analysis._prepare import (
    FootLoads,
    _foot_loads,
    check_sensors,
    remove_offset_later,
    stretch_loads,
    stretch_readings,
)

# the stages after the first pass, and pandas under them, are imported where they are used: the first pass (numpy
# and Arrow) runs while they are imported on another thread (``insole.analysis._entry``)
if TYPE_CHECKING:
    from insole.analysis._result import Analysis
    from insole.analysis._stance import StanceFeatures, Stretch
    from insole.analysis._strides import FootTiming

__all__ = ["NotStreamable", "analyze_parquet"]

# columns per read of a row group in the first pass (as the reader does: the memory beside the foot's arrays is
# these columns of one row group)
_COLUMNS_AT_ONCE = 8
# samples per stretch of the second pass, about (a stretch ends where a stance starts)
_STRETCH_SAMPLES = 65536
# a foot in one row group keeps its sensor readings from the first pass up to this size (an hour of 16 sensors at
# 100 Hz is 23 MB), not read again: the memory they take is bounded, and short recordings are read once
_KEEP_BYTES = 64 * 1024 * 1024


def _trim() -> None:
    """Give the memory freed inside the C heap back to the system (glibc's ``malloc_trim``; nothing elsewhere).

    The first pass frees a foot's readings and event detection's temporaries, tens of MiB each at 8 hours;
    glibc serves later arrays of that size from its heap, where freed memory between arrays alive stays
    resident unless trimmed (about 150 MiB of the 8-hour peak, measured).
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc's, or no trimming
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


class NotStreamable(Exception):
    """The file is not one this reader streams (another writer's layout or types): load it whole instead."""


@dataclass(frozen=True)
class _Skeleton:
    """What the stages after the timing read of the recording: everything but the samples."""

    layout: SensorLayout
    unit: str
    sample_rate_hz: float
    meta: RecordingMeta
    sides: tuple[str, ...]
    times: Mapping[str, np.ndarray] = field(repr=False)

    @property
    def duration_s(self) -> float:  # as ``Recording.duration_s``
        return duration_s(self.times.values(), self.sample_rate_hz)


class _Feet:
    """Our Parquet file, each foot's rows as a block: columns of a range of a foot's samples, read row group by
    row group."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:  # a file the reader refuses (cut short, not Parquet) is loaded whole, for the reader's own refusal
            self.file = pq.ParquetFile(path, pre_buffer=False, page_checksum_verification=True)
        except (pa.ArrowException, OSError) as error:
            raise NotStreamable(str(error)) from None
        try:
            self._describe()
        except NotStreamable:
            self.file.close()
            raise
        except (*DESCRIPTION_ERRORS, InsoleError, pa.ArrowException, OSError) as error:
            self.file.close()
            raise NotStreamable(str(error)) from None

    def _describe(self) -> None:
        schema = self.file.schema_arrow
        # the reader's checks of the description and the columns: a file they refuse is loaded whole, for the
        # reader's message (``insole._recording_format``'s errors end the streaming in ``__init__``)
        description = description_from_schema(schema, self.path, "Parquet")
        if description.get("format_version") != FORMAT_VERSION:
            raise NotStreamable("not version 1 of our format")
        # a simulated recording's known answer (the events placed, and the simulator's table of every step: 14 MB
        # of text at 8 h, some 60 MiB parsed) is for whoever checks against it, and no stage reads it: it stays in
        # the file, not beside the samples here (the rest of the meta's extras stay: the checks read a stated
        # sensor saturation there). The events are checked as the reader checks them, then let go.
        extra = (description.get("meta") or {}).get("extra") if isinstance(description.get("meta"), dict) else None
        if isinstance(extra, dict) and isinstance(extra.get("simulation"), dict):
            extra["simulation"] = {k: v for k, v in extra["simulation"].items() if k != "steps"}
        self.layout, self.unit, self.rate, self.meta, _, _ = described(description)
        description.pop("reference_events", None)
        self.description = description
        self.columns = sensor_columns(self.layout, self.unit)
        check_columns(schema, self.columns, self.path)
        # what this reader streams: exactly our writer's types (no dictionary, no other width of number)
        types = {f.name: f.type for f in schema}
        imu = [*imu_columns("accel"), *imu_columns("gyro")]
        expected = {"side": None, "time_s": pa.float64(), "valid": pa.bool_(),
                    **dict.fromkeys(self.columns, pa.float32())}
        self.has_imu = "accel_x_g" in types
        if self.has_imu:
            expected.update(dict.fromkeys(imu, pa.float32()))
        for name, kind in types.items():
            want = expected.get(name, pa.float64())
            if name == "side":
                if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                    raise NotStreamable("side column not text")
            elif kind != want:
                raise NotStreamable(f"column {name} of type {kind}")
        self.kept: dict[str, np.ndarray] = {}  # a small foot's checked readings, kept from the first pass
        self.groups = [self.file.metadata.row_group(g).num_rows for g in range(self.file.metadata.num_row_groups)]
        self._blocks()

    def _blocks(self) -> None:
        """Each foot's first row and number of rows: one block of rows per foot (``foot_pieces``), else
        ``NotStreamable``."""
        pieces = foot_pieces(self.file, self.path)
        if not pieces:
            raise NotStreamable("a foot's rows not one block")
        first_row = np.concatenate([[0], np.cumsum(self.groups)]).tolist()
        self.start = {}
        for side, runs in pieces.items():
            group, start, _ = runs[0]
            self.start[side] = (int(first_row[group] + start), sum(stop - begin for _, begin, stop in runs))
        self.sides = tuple(side for side in SIDES if side in self.start)

    def n(self, side: str) -> int:
        return self.start[side][1]

    def fill(self, side: str, names: list[str], targets: list[np.ndarray], first: int = 0,
             at_once: int = _COLUMNS_AT_ONCE) -> None:
        """The samples ``[first, first + len(target))`` of ``side`` of each column into its 1-D target."""
        begin = self.start[side][0] + first
        end = begin + (targets[0].size if targets else 0)
        row = 0
        for group, rows in enumerate(self.groups):
            lo, hi = max(row, begin), min(row + rows, end)
            for k in range(0, len(names) if lo < hi else 0, at_once):
                piece = self.file.read_row_group(group, columns=names[k:k + at_once])
                for name, target in zip(names[k:k + at_once], targets[k:k + at_once]):
                    at = lo - begin
                    for chunk in piece.column(name).slice(lo - row, hi - lo).chunks:
                        values = _numbers(chunk)
                        target[at:at + values.size] = values
                        at += values.size
                del piece
            if lo < hi:  # the group's buffers back to the system, not kept by Arrow's allocator
                pa.default_memory_pool().release_unused()
            row += rows

    def column(self, side: str, name: str, dtype: Any) -> np.ndarray:
        out = np.empty(self.n(side), dtype=dtype)
        self.fill(side, [name], [out])
        return out

    def sensor_rows(self, side: str, first: int = 0, count: int | None = None,
                    at_once: int = _COLUMNS_AT_ONCE) -> np.ndarray:
        """(sensors, samples) float32 of the samples ``[first, first + count)``, one contiguous row per sensor."""
        count = self.n(side) - first if count is None else count
        rows = np.empty((len(self.columns), count), dtype=np.float32)
        self.fill(side, self.columns, list(rows), first, at_once)
        return rows

    def group_spans(self, side: str) -> list[int]:
        """The foot's sample indices where its row groups end (ascending, the last is its number of samples)."""
        begin, n = self.start[side]
        ends, row = [], 0
        for rows in self.groups:
            row += rows
            if begin < row < begin + n:
                ends.append(row - begin)
        return [*ends, n]

    def reopened(self) -> _Feet:
        """The same file on a handle of its own (for another thread: a Parquet reader is one thread's)."""
        twin = copy.copy(self)
        twin.file = pq.ParquetFile(self.path, pre_buffer=False, metadata=self.file.metadata,
                                   page_checksum_verification=True)
        return twin

    def close(self) -> None:
        self.file.close()


def _numbers(chunk: pa.Array) -> np.ndarray:
    """The values of a chunk of one of our columns (``chunk_numpy``, as the reader makes them); a chunk with a
    missing value is ``NotStreamable`` (the reader makes it NaN or false, and the whole file is loaded)."""
    if chunk.null_count:
        raise NotStreamable("a missing value")
    return chunk_numpy(chunk)


class _ImuColumns:
    """A foot's accelerometer or gyroscope, (samples, 3) float32, read from the file only where the timing reads
    it: rows of all three axes (``columns[rows]``), or one axis whole (``columns[:, axis]``)."""

    def __init__(self, feet: _Feet, side: str, names: list[str]) -> None:
        self.feet, self.side, self.names = feet, side, names

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):
            rows, axis = key
            if not (isinstance(rows, slice) and rows == slice(None)):
                raise NotImplementedError("only whole axes")
            return self.feet.column(self.side, self.names[int(axis)], np.float32)
        rows = np.asarray(key)
        out = np.empty((rows.size, len(self.names)), dtype=np.float32)
        for j, name in enumerate(self.names):  # one axis whole at a time, then only the rows asked for
            out[:, j] = self.feet.column(self.side, name, np.float32)[rows]
        return out


@dataclass(frozen=True)
class _Imu:
    accel_g: _ImuColumns | None
    gyro_dps: _ImuColumns | None


def analyze_parquet(path: str | Path, params: AnalysisParams, method_of: Callable[[Any, AnalysisParams], str],
                    assemble: Callable[..., Analysis]) -> Analysis:
    """``analyze(load(path), params)`` of our Parquet file, read while the analysis works (``NotStreamable`` when
    the file is not one this reader streams). ``method_of`` and ``assemble`` are the pipeline's ``event_method``
    and ``_assemble``."""
    feet = _Feet(Path(path))
    try:
        return _analyze(feet, params, method_of, assemble)
    except (OSError, pa.ArrowException) as error:  # a part of the file that cannot be read: the reader says so
        raise NotStreamable(str(error)) from None
    finally:
        feet.close()


def _analyze(feet: _Feet, params: AnalysisParams, method_of: Callable[[Any, AnalysisParams], str],
             assemble: Callable[..., Analysis]) -> Analysis:
    # two feet whose readings fit twice in the room kept for a foot go side by side, each on a thread and a file
    # handle of its own (their numpy and Arrow work overlaps on two cores); longer ones one after the other
    twin = feet.reopened() if _side_by_side(feet) else None
    try:
        return _analyze_feet(feet, twin, params, method_of, assemble)
    finally:
        if twin is not None:
            twin.close()


def _side_by_side(feet: _Feet) -> bool:
    return len(feet.sides) == 2 and all(len(feet.columns) * feet.n(side) * 4 <= _KEEP_BYTES for side in feet.sides)


def _analyze_feet(feet: _Feet, twin: _Feet | None, params: AnalysisParams,
                  method_of: Callable[[Any, AnalysisParams], str], assemble: Callable[..., Analysis]) -> Analysis:
    timed: dict[str, Future[FootTiming]] = {}
    offset: dict[str, Future[FootLoads]] = {}
    read: dict[str, FootLoads] = {}  # the loads before the offset: time, validity, the checks' findings
    contacts: dict[str, Contacts] = {}
    recording: Recording | None = None
    features: dict[str, StanceFeatures] = {}
    first = feet.sides[0]
    # each foot's timing and offset (reads of its IMU, and of its sensor columns at the mid-swing samples) on a
    # second thread, while the main thread goes on with the next foot; side by side, the last foot's first pass
    # runs on a thread of its own (``beside``) at the same time as the first foot's
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="insole-offset") as pool, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="insole-foot") as beside:
        passes: dict[str, Any] = {}
        if twin is not None:
            last = feet.sides[1]
            later = beside.submit(_first_pass, twin, last, params, method_of, pool)
            passes[first] = _first_pass(feet, first, params, method_of, pool)
            passes[last] = later.result()
        else:
            for side in feet.sides:
                passes[side] = _first_pass(feet, side, params, method_of, pool)
        for side in feet.sides:
            timed[side], offset[side], read[side], contacts[side], recording = passes[side]
        del passes
        assert recording is not None
        skeleton = _Skeleton(layout=recording.layout, unit=recording.unit, sample_rate_hz=recording.sample_rate_hz,
                             meta=recording.meta, sides=feet.sides,
                             times={side: read[side].time_s for side in feet.sides})
        whole = cast(Recording, skeleton)  # the stages below read no samples of the recording
        from insole.analysis._session import body_weight, standing_split, summarise, weight_from_mass
        from insole.analysis._stance import stance_features
        from insole.analysis._strides import exclude_out_of_step

        timing = exclude_out_of_step({side: timed[side].result() for side in feet.sides})
        # the standing split sums each sensor's positive load over the samples when both feet stand: which samples
        # is asked of it first (with stand-ins; it reads the timing and time), those samples are gathered in the
        # second pass, then it runs again
        wanted: dict[str, np.ndarray] = {}
        standing_split(whole, {side: replace(foot, sensor_load_t=cast(np.ndarray, _Asked(foot, wanted)), clipped=True)
                               for side, foot in read.items()}, timing, params)
        gathered: dict[str, list[np.ndarray]] = {side: [] for side in wanted}
        weights = skeleton.layout.load_weights(skeleton.unit)

        def features_of(handle: _Feet, side: str, loads: FootLoads, weight_value: float) -> StanceFeatures:
            stretches = _stretches(handle, side, loads, weights, wanted.get(side), gathered.get(side))
            return stance_features(whole, side, loads, contacts[side], timing, weight_value, params,
                                   stretches=stretches)

        # a body weight from the body mass needs no forces: one foot after the other, the first foot's stance
        # features go ahead while the last foot's offset is still read (checked against the body weight once it
        # is known)
        early = weight_from_mass(whole, read, params)[2]
        if early is not None and len(feet.sides) > 1 and twin is None:
            features[first] = features_of(feet, first, offset[first].result(), early)
        loads = {side: offset[side].result() for side in feet.sides}
        weight = body_weight(whole, loads, timing, params)
        if first in features and not _same_number(weight.value, early):  # never, unless the two rules part
            for pieces in gathered.values():
                pieces.clear()
            features.clear()
        if twin is not None:  # side by side: each foot holds a stretch or two and its stances' windows
            last = feet.sides[1]
            later_features = beside.submit(features_of, twin, last, loads[last], weight.value)
            features[first] = features_of(feet, first, loads[first], weight.value)
            features[last] = later_features.result()
    for side in feet.sides:  # one foot after the other: each holds a stretch or two and its stances' windows
        if side not in features:
            features[side] = features_of(feet, side, loads[side], weight.value)
    for side, pieces in gathered.items():
        rows = np.concatenate(pieces, axis=1) if pieces else np.zeros((skeleton.layout.n_sensors, 0), np.float32)
        loads[side] = replace(loads[side], sensor_load_t=cast(np.ndarray, _Given(rows)))
    standing = standing_split(whole, loads, timing, params)
    summary = summarise(whole, loads, timing, features, weight, params, standing=standing)
    return assemble(whole, params, method_of(whole, params), loads, contacts, timing, weight, features, summary)


def _same_number(a: float, b: float | None) -> bool:
    return b is not None and (a == b or (math.isnan(a) and math.isnan(b)))


def _first_pass(feet: _Feet, side: str, params: AnalysisParams, method_of: Callable[[Any, AnalysisParams], str],
                pool: ThreadPoolExecutor
                ) -> tuple[Future[FootTiming], Future[FootLoads], FootLoads, Contacts, Recording]:
    """Checks, total force, events, offset and timing of one foot: its sensor columns read whole for the checks
    and the total force; the first foot's kept for its offset, a later one's let go before event detection (the
    room it needs) and its mid-swing samples read again from the file on the ``pool``'s thread, after the timing
    (which reads the IMU there). Returns the timing and the loads with the offset (to come), the loads before it,
    the contacts and the recording's description (a recording of no samples)."""
    description = feet.description
    values = feet.sensor_rows(side)  # 8 columns of a row group at a time, as the whole-file reader
    time_s = feet.column(side, "time_s", np.float64)
    valid = feet.column(side, "valid", bool)
    channels: dict[str, np.ndarray] = {}
    channel_sides = description.get("channel_sides") or {}
    if "vendor_total_force_n" in feet.file.schema_arrow.names and \
            "vendor_total_force_n" in channel_sides.get(side, ["vendor_total_force_n"]):
        channels["vendor_total_force_n"] = feet.column(side, "vendor_total_force_n", np.float64)
    try:
        foot = adopted_foot(time_s=time_s, values=values.T, valid=valid, channels=channels)
        recording = Recording(layout=feet.layout, unit=feet.unit, sample_rate_hz=feet.rate,
                              meta=feet.meta, left=foot if side == "left" else None,
                              right=foot if side == "right" else None)
    except Exception as error:  # noqa: BLE001 - the whole-file reader says what is wrong with it
        raise NotStreamable(str(error)) from None
    # the reader refuses a foot of no load (every value zero or below, some below): it is loaded whole, for its message
    if feet.unit != "au" and foot.values.size and no_load(feet.unit, *load_extremes(foot.values)):
        raise NotStreamable("no load")
    del foot
    fs = float(recording.sample_rate_hz)
    checks = check_sensors(recording, side, params, reuse_values=True)
    loads = _foot_loads(recording, checks, per_sensor=False)
    # the readings go (what stays is one-dimensional, or the checks' findings), unless the foot is one row group
    # (our writer's hour) and small: reading it again would take a row group, the whole foot, anyway, so it keeps
    # them for the offset and the stance features instead of reading the file twice more
    if len(feet.group_spans(side)) == 1 and values.nbytes <= _KEEP_BYTES:
        feet.kept[side] = checks.readings_t
    # the first foot, read while nothing else is held, keeps them through event detection: its offset is then
    # gathered from them (no second read of its columns); a later foot's would add to the first foot's arrays
    held = checks.readings_t if side == feet.sides[0] and side not in feet.kept else None
    stand_in = np.zeros((values.shape[0], 0), dtype=np.float32)
    loads = replace(loads, checks=replace(checks, readings_t=stand_in))
    method = method_of(recording, params)
    empty = adopted_foot(time_s=np.zeros(0), values=np.zeros((0, values.shape[0]), dtype=np.float32),
                         valid=np.zeros(0, dtype=bool))
    recording = replace(recording, left=empty if side == "left" else None, right=empty if side == "right" else None)
    del checks, values
    _trim()
    contacts = detect_events(loads.force, fs, params, valid=loads.valid, time_s=loads.time_s,
                             method=method, calibrated=loads.force_unit == "N")
    _trim()
    imu = None
    if feet.has_imu:
        gyro_sides = description.get("gyro_sides")
        imu_sides = description.get("imu_sides")
        if gyro_sides is None or side in gyro_sides:
            accel = _ImuColumns(feet, side, imu_columns("accel")) \
                if imu_sides is None or side in imu_sides else None
            imu = _Imu(accel_g=accel, gyro_dps=_ImuColumns(feet, side, imu_columns("gyro")))
    loads = replace(loads, imu=cast(Any, imu))
    timing = pool.submit(_timing, feet, side, loads, contacts, params)
    if held is None:
        return timing, pool.submit(_offset, feet, side, loads, contacts, params), loads, contacts, recording
    offset: Future[FootLoads] = Future()
    offset.set_result(replace(remove_offset_later(loads, contacts, params, _held_gatherer(held, feet, loads)),
                              imu=None))
    return timing, offset, loads, contacts, recording


def _held_gatherer(readings: np.ndarray, feet: _Feet, loads: FootLoads
                   ) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]:
    """``_gatherer`` from the foot's checked readings, held in memory."""
    weights = feet.layout.load_weights(feet.unit).astype(np.float32)[:, None]
    separate = loads.sensor_pressure_t is not None and loads.sensor_pressure_t is not loads.sensor_load_t

    def gather(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        at = readings[:, rows]
        return (at * weights, at) if separate else (at, None)

    return gather


def _timing(feet: _Feet, side: str, loads: FootLoads, contacts: Contacts, params: AnalysisParams) -> FootTiming:
    """``foot_timing`` of a foot (it reads no force: the offset does not matter to it), its IMU read on a file
    handle of this thread's."""
    from insole.analysis._strides import foot_timing

    own = feet.reopened()
    try:
        if loads.imu is not None:
            imu = cast(_Imu, loads.imu)
            loads = replace(loads, imu=cast(Any, _Imu(
                accel_g=_ImuColumns(own, side, imu.accel_g.names) if imu.accel_g is not None else None,
                gyro_dps=_ImuColumns(own, side, imu.gyro_dps.names) if imu.gyro_dps is not None else None)))
        return foot_timing(loads, contacts, params)
    finally:
        own.close()


def _offset(feet: _Feet, side: str, loads: FootLoads, contacts: Contacts, params: AnalysisParams) -> FootLoads:
    """``remove_offset_later`` of a foot, its mid-swing samples read on a file handle of this thread's."""
    own = feet.reopened()
    try:
        weights = feet.layout.load_weights(feet.unit).astype(np.float32)[:, None]
        separate = loads.sensor_pressure_t is not None and loads.sensor_pressure_t is not loads.sensor_load_t
        found = remove_offset_later(loads, contacts, params, _gatherer(own, side, loads, weights, separate))
        return replace(found, imu=None)
    finally:
        own.close()


def _gatherer(feet: _Feet, side: str, loads: FootLoads, weights: np.ndarray, separate: bool
              ) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]:
    """The per-sensor loads (and pressures, when they are arrays of their own) at some samples (ascending), as
    ``foot_loads`` makes them (the checked readings; pressure x area in float32, element by element), read from
    the file a row group at a time."""
    def gather(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        at = np.empty((len(feet.columns), rows.size), dtype=np.float32)
        for start, raw in _groups(feet, side, prefetch=False):
            lo, hi = np.searchsorted(rows, [start, start + raw.shape[1]])
            if hi > lo:
                at[:, lo:hi] = stretch_readings(loads.checks, start, raw)[:, rows[lo:hi] - start]
            del raw
        return (at * weights, at) if separate else (at, None)

    return gather


def _groups(feet: _Feet, side: str, prefetch: bool = True) -> Iterator[tuple[int, np.ndarray]]:
    """``(first sample, sensors x samples)`` of each row group of the foot, in order; with ``prefetch`` the next
    group is read on a thread of its own (its own file handle) while the caller works on this one."""
    if side in feet.kept:  # the checked readings, kept: rebuilding them changes nothing
        yield 0, feet.kept[side]
        return
    ends = feet.group_spans(side)
    starts = [0, *ends[:-1]]
    if not prefetch or len(ends) == 1:
        for start, end in zip(starts, ends):
            yield start, feet.sensor_rows(side, start, end - start)
        return
    own = feet.reopened()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="insole-read") as pool:
            def read(i: int) -> np.ndarray:
                return own.sensor_rows(side, starts[i], ends[i] - starts[i])

            pending = pool.submit(read, 0)
            for i in range(len(ends)):
                raw = pending.result()
                if i + 1 < len(ends):
                    pending = pool.submit(read, i + 1)
                yield starts[i], raw
                del raw
    finally:
        own.close()


def _stretches(feet: _Feet, side: str, loads: FootLoads, weights: np.ndarray, standing: np.ndarray | None,
               gathered: list[np.ndarray] | None) -> Callable[[np.ndarray | None], Iterator[Stretch]]:
    """The stretches of ``stance_features``: the foot's row groups read one after the other, each stretch from the
    last cut to the last allowed cut before the rows read so far end (the rest waits for the next group)."""

    def stretches(cuts: np.ndarray | None) -> Iterator[Stretch]:
        n = feet.n(side)
        start = 0
        carry = np.zeros((len(feet.columns), 0), dtype=np.float32)
        for first, read in _groups(feet, side):
            end = first + read.shape[1]
            raw = np.concatenate([carry, read], axis=1) if carry.shape[1] else read
            del read
            if end >= n:
                stop = n
            elif cuts is None:
                stop = end
            else:  # the last allowed cut in the rows read
                before = int(np.searchsorted(cuts, end, side="right"))
                stop = int(cuts[before - 1]) if before else start
            if stop <= start:  # no place to end a stretch yet: read on
                carry = raw
                continue
            carry = raw[:, stop - start:].copy()
            # the rows up to ``stop`` in stretches of about _STRETCH_SAMPLES (each ending at an allowed cut), each
            # rebuilt in place in a view of them: the loads made beside them are a stretch's, not a row group's
            base = start
            while start < stop:
                end_at = _stretch_end(cuts, start, stop)
                load, pressure = stretch_loads(loads, weights, start, raw[:, start - base:end_at - base])
                if standing is not None and gathered is not None:
                    inside = standing[start:end_at]
                    if inside.any():
                        gathered.append(load[:, inside])
                yield start, load, pressure
                del load, pressure
                start = end_at
            del raw
        if start < n:  # never: the last group ends the foot
            raise AssertionError("stretches did not reach the end of the foot")

    return stretches


def _stretch_end(cuts: np.ndarray | None, start: int, stop: int) -> int:
    """Where the stretch from ``start`` ends, at most ``stop`` (itself a place a stretch may end): the last allowed
    cut within _STRETCH_SAMPLES of ``start``, else the first one after (``stop`` when there is none before it)."""
    limit = start + _STRETCH_SAMPLES
    if limit >= stop:
        return stop
    if cuts is None:
        return limit
    within = int(np.searchsorted(cuts, limit, side="right"))
    if within and cuts[within - 1] > start:
        return int(cuts[within - 1])
    return int(cuts[within]) if within < cuts.size and cuts[within] < stop else stop


class _Asked:
    """A stand-in for a foot's positive per-sensor loads that notes which samples are asked for (``[:, mask]``)."""

    def __init__(self, foot: FootLoads, wanted: dict[str, np.ndarray]) -> None:
        self.foot, self.wanted = foot, wanted

    def __getitem__(self, key: tuple[slice, np.ndarray]) -> np.ndarray:
        mask = np.asarray(key[1], dtype=bool)
        self.wanted[self.foot.side] = mask
        return np.zeros((len(self.foot.sensor_names), int(mask.sum())), dtype=np.float32)


class _Given:
    """The positive per-sensor loads at the samples ``_Asked`` noted, gathered stretch by stretch."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def __getitem__(self, key: tuple[slice, np.ndarray]) -> np.ndarray:
        if int(np.count_nonzero(key[1])) != self.rows.shape[1]:
            raise AssertionError("the standing samples asked for are not those gathered")
        return self.rows


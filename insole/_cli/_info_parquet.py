"""What ``insole info`` shows of our Parquet recording, read without its sensor values.

``insole info`` prints a recording's description (layout, unit, rate, metadata,
reference events, marks), each foot's sample count, start and end, valid
fraction and gaps, and which IMU and extra channels it has. Of the samples
that needs each foot's time and validity columns alone: an eight-hour
recording's 2 x 2.88 million rows are some 50 MB of those, where loading it
whole took 964 MiB and 9.2 s.

``parquet_facts`` reads them, and the file's own footer for the rest: the
schema and metadata (what ``insole.io.read_parquet`` reads them from) and each
row group's column statistics. A file is described this way only when
everything the whole reader checks can be checked so, and passes:

* every column ours and of our types, the metadata complete (the reader's own checks);
* each row group one foot's (its side column's statistics: no missing value,
  least and greatest the same foot), each foot's groups one run;
* each foot's times finite and strictly increasing (``FootSamples``' own check);
* every sensor and IMU column of each foot with statistics saying its values are
  finite and within float32, and a foot in kPa or N with a value above zero
  unless it has none below (the reader's refusals of infinite values and of a
  load of the wrong sign).

Anything else (another writer's file, a column without statistics, a foot in
two runs, a file the reader refuses) returns None, and the command loads the
file whole as before: a refusal is the reader's own, word for word.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from insole._layout import SensorLayout
from insole._recording import SIDES, UNITS, FootSamples, Mark, RecordingMeta, ReferenceEvents, adopted_foot
from insole.io import sensor_columns

__all__ = ["FootFacts", "ParquetFacts", "parquet_facts"]

_AXES = ("x", "y", "z")
# Where our writer keeps a recording's description, and the format it says (docs/recording-format.md); a file of
# another version is loaded whole, by the reader that knows them all
_META_KEY = b"insole.recording"
_FORMAT = ("insole-recording", 1)
# The largest finite float32 (a value beyond it is refused by the reader: it would become infinite)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class _Whole(Exception):
    """The file is not described from its footer and its time and validity columns: load it whole."""


@dataclass(frozen=True)
class FootFacts:
    """What ``insole info`` shows of a foot: its samples' times and validity (a ``FootSamples`` without sensor
    columns), whether it has an accelerometer and a gyroscope, and its extra channels' names."""

    samples: FootSamples
    accel_g: bool | None  # True, or None where the foot has none (as ``FootSamples.accel_g``)
    gyro_dps: bool | None
    channels: Mapping[str, None]

    @property
    def n_samples(self) -> int:
        return self.samples.n_samples

    @property
    def time_s(self) -> np.ndarray:
        return self.samples.time_s

    @property
    def valid(self) -> np.ndarray:
        return self.samples.valid

    @property
    def valid_fraction(self) -> float:
        return self.samples.valid_fraction

    def gaps(self) -> list[tuple[float, float, int]]:
        return self.samples.gaps()


@dataclass(frozen=True)
class ParquetFacts:
    """The parts of a ``Recording`` that ``insole info`` shows, with the same names."""

    layout: SensorLayout
    unit: str
    sample_rate_hz: float
    feet: Mapping[str, FootFacts]
    meta: RecordingMeta
    reference_events: ReferenceEvents | None
    marks: tuple[Mark, ...]

    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(side for side in SIDES if side in self.feet)

    def samples(self, side: str) -> FootFacts:
        return self.feet[side]

    @property
    def duration_s(self) -> float:
        """As ``Recording.duration_s``: from the first sample of either foot to the last, plus one sample."""
        starts = [foot.time_s[0] for foot in self.feet.values() if foot.n_samples]
        ends = [foot.time_s[-1] for foot in self.feet.values() if foot.n_samples]
        if not starts:
            return 0.0
        return float(max(ends) - min(starts) + 1.0 / self.sample_rate_hz)


def parquet_facts(path: Path) -> ParquetFacts | None:
    """What ``insole info`` shows of our Parquet recording ``path``, or None where it must be loaded whole."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # a FIFO or a device would be waited on: the whole reader refuses it without opening it
        file = pq.ParquetFile(path, pre_buffer=False)
    except Exception:  # noqa: BLE001 - whatever it is, the whole reader says it in its own words
        return None
    try:
        return _facts(file)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - _Whole, or anything the checks did not foresee: the whole reader decides
        return None
    finally:
        file.close()
        pa.default_memory_pool().release_unused()


def _facts(file: pq.ParquetFile) -> ParquetFacts:
    schema = file.schema_arrow
    description = json.loads((schema.metadata or {})[_META_KEY])
    layout, unit, rate, meta, reference_events, marks = _described(description)
    columns = sensor_columns(layout, unit)
    _check_columns(schema, columns)
    names = schema.names
    has_imu = "accel_x_g" in names
    accel = [f"accel_{a}_g" for a in _AXES]
    gyro = [f"gyro_{a}_dps" for a in _AXES]
    base = {"side", "time_s", "valid", *columns} | ({*accel, *gyro} if has_imu else set())
    extra_columns = [c for c in names if c not in base]
    imu_sides = description.get("imu_sides")
    gyro_sides = description.get("gyro_sides")
    channel_sides = description.get("channel_sides") or {}
    pieces = _pieces_by_side(file)
    feet: dict[str, FootFacts] = {}
    for side in SIDES:
        if side not in pieces:
            continue
        has_accel = has_imu and (imu_sides is None or side in imu_sides)
        has_gyro = has_imu and (gyro_sides is None or side in gyro_sides)
        _check_values(file, pieces[side], columns, unit, [*(accel if has_accel else []), *(gyro if has_gyro else [])])
        time_s, valid = _time_and_validity(file, pieces[side])
        samples = adopted_foot(time_s=time_s, values=np.zeros((time_s.size, 0), dtype=np.float32), valid=valid)
        wanted = channel_sides.get(side, extra_columns)
        feet[side] = FootFacts(samples, True if has_accel else None, True if has_gyro else None,
                               dict.fromkeys(c for c in extra_columns if c in wanted))
    if not feet:
        raise _Whole("no foot")
    return ParquetFacts(layout, unit, rate, feet, meta, reference_events, marks)


def _described(description: Any) -> tuple[Any, ...]:
    """Layout, unit, rate, meta, reference events and marks of our description, as the reader makes them; of
    anything the reader might read otherwise or refuse (another version, a value of another type), ``_Whole``."""
    if not isinstance(description, dict) or (description.get("format"), description.get("format_version")) != _FORMAT \
            or isinstance(description.get("format_version"), bool):
        raise _Whole("not version 1 of our format")
    layout_dict, unit, rate = description["layout"], description["unit"], description["sample_rate_hz"]
    if not isinstance(layout_dict, Mapping) or not isinstance(unit, str) or unit not in UNITS:
        raise _Whole("layout or unit")
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not (math.isfinite(rate) and rate > 0):
        raise _Whole("sample rate")
    meta_dict, events_dict = description.get("meta"), description.get("reference_events")
    channel_sides = description.get("channel_sides")
    marks_list = description.get("marks") or []
    if not all(value is None or isinstance(value, Mapping) for value in (meta_dict, events_dict, channel_sides)) \
            or not isinstance(marks_list, list) or not all(isinstance(m, Mapping) for m in marks_list) \
            or not all(isinstance(v, list) for v in (channel_sides or {}).values()) \
            or not all(description.get(key) is None or isinstance(description[key], list)
                       for key in ("imu_sides", "gyro_sides")):
        raise _Whole("metadata of another type")
    meta = RecordingMeta.from_dict(meta_dict or {})
    events = ReferenceEvents.from_dict(events_dict) if events_dict else None
    marks = tuple(Mark(m["time_s"], m["label"], m.get("kind", "mark")) for m in marks_list)
    return SensorLayout.from_dict(layout_dict), unit, float(rate), meta, events, marks


def _check_columns(schema: pa.Schema, columns: list[str]) -> None:
    """Every column ours, once, of our writer's type: text side, true/false valid, numbers elsewhere."""
    names = schema.names
    if len(set(names)) != len(names) or any(c not in names for c in ("side", "time_s", "valid", *columns)):
        raise _Whole("a column twice or missing")
    for field in schema:
        kind = field.type
        good = (pa.types.is_string(kind) or pa.types.is_large_string(kind)) if field.name == "side" else \
            pa.types.is_boolean(kind) if field.name == "valid" else \
            (pa.types.is_floating(kind) or pa.types.is_integer(kind))
        if not good:
            raise _Whole(f"column {field.name} of type {kind}")


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    """A column of numbers or true/false without a missing value as one numpy array, from the Arrow buffers
    (Arrow's own conversion imports pandas: 0.3 s, for nothing else here); a missing value is ``_Whole``."""
    parts = []
    for chunk in column.chunks:
        if chunk.null_count:
            raise _Whole("a missing value")
        kind, n, offset = chunk.type, len(chunk), chunk.offset
        data = chunk.buffers()[1]
        if n == 0:
            continue
        if pa.types.is_boolean(kind):
            bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=offset + n, bitorder="little")
            parts.append(bits[offset:].astype(bool))
        else:
            code = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
            dtype = np.dtype(f"{code}{kind.bit_width // 8}")
            parts.append(np.frombuffer(data, dtype=dtype, count=n, offset=offset * dtype.itemsize))
    return np.concatenate(parts) if parts else np.zeros(0)


def _rows_by_side(table: pa.Table) -> dict[str, np.ndarray]:
    """Row indices of each foot in ``table``'s side column (each chunk's few distinct texts compared, not a text
    per row); a row of neither foot is ``_Whole``."""
    found: dict[str, list[np.ndarray]] = {side: [] for side in SIDES}
    start = 0
    for chunk in table.column("side").chunks:
        encoded = chunk.dictionary_encode()
        if encoded.null_count or any(text not in SIDES for text in encoded.dictionary.to_pylist()):
            raise _Whole("a row of neither foot")
        codes = _numpy(pa.chunked_array([encoded.indices]))
        for code, text in enumerate(encoded.dictionary.to_pylist()):
            found[text].append(start + np.flatnonzero(codes == code))
        start += len(chunk)
    return {side: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64) for side, parts in found.items()}


@dataclass(frozen=True)
class _Piece:
    """Rows ``[start, stop)`` of row group ``group``, all one foot's; ``whole``: they are the whole group."""

    group: int
    start: int
    stop: int
    whole: bool


def _pieces_by_side(file: pq.ParquetFile) -> dict[str, list[_Piece]]:
    """Each foot's rows as pieces of row groups, in order, each foot one run of rows (as our writer puts them).

    A group whose side statistics say one foot throughout (no missing value, least and greatest the same) is that
    foot's without reading it; the side column of any other group (where one foot's rows end and the other's
    begin: a short recording's only group) is read, and each foot's rows in it must be one block.
    """
    metadata = file.metadata
    side_index = metadata.schema.to_arrow_schema().get_field_index("side")
    found: dict[str, list[_Piece]] = {}
    last = None
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        if rows == 0:
            continue
        stats = metadata.row_group(group).column(side_index).statistics
        if stats is not None and stats.has_min_max and stats.null_count == 0 and stats.min == stats.max \
                and stats.min in SIDES:
            blocks = [(str(stats.min), 0, rows)]
        else:
            rows_of = _rows_by_side(file.read_row_group(group, columns=["side"]))
            blocks = sorted(((side, int(r[0]), int(r[-1]) + 1) for side, r in rows_of.items() if r.size),
                            key=lambda block: block[1])  # in the order of the rows
            if any(stop - start != rows_of[side].size for side, start, stop in blocks):
                raise _Whole("a foot's rows not one block")
        for side, start, stop in blocks:
            if side in found and last != side:
                raise _Whole("a foot in two runs of rows")
            found.setdefault(side, []).append(_Piece(group, start, stop, stop - start == rows))
            last = side
    return found


def _read(file: pq.ParquetFile, piece: _Piece, names: list[str]) -> pa.Table:
    table = file.read_row_group(piece.group, columns=names)
    return table if piece.whole else table.slice(piece.start, piece.stop - piece.start)


def _time_and_validity(file: pq.ParquetFile, pieces: list[_Piece]) -> tuple[np.ndarray, np.ndarray]:
    """A foot's ``time_s`` and ``valid`` as the reader makes them (a missing time NaN, a missing validity false)."""
    times, valids = [], []
    for piece in pieces:
        table = _read(file, piece, ["time_s", "valid"])
        times.append(_numpy(table.column("time_s")).astype(np.float64, copy=False))
        valids.append(_numpy(table.column("valid")).astype(bool, copy=False))
        del table
    return np.concatenate(times), np.concatenate(valids)


def _check_values(file: pq.ParquetFile, pieces: list[_Piece], columns: list[str], unit: str,
                  imu: list[str]) -> None:
    """What the reader refuses in a foot's values: an infinite value or one beyond float32 (sensors, IMU), and
    (kPa, N) sensors with values below zero and none above. From the statistics of the groups that are the foot's
    alone; a piece of a group shared with the other foot is read, a column at a time."""
    metadata = file.metadata
    index = {metadata.row_group(0).column(i).path_in_schema: i for i in range(metadata.num_columns)}
    highest, lowest = -math.inf, math.inf
    for piece in pieces:
        row_group = metadata.row_group(piece.group)
        for name in (*columns, *imu):
            if piece.whole:
                stats = row_group.column(index[name]).statistics
                if stats is None or not stats.has_min_max:
                    raise _Whole(f"no statistics of {name}")  # (all values missing, or a writer that kept none)
                least, most = float(stats.min), float(stats.max)
            else:
                values = _numpy(_read(file, piece, [name]).column(name)).astype(np.float64, copy=False)
                if values.size == 0 or np.isnan(values).all():
                    continue  # nothing but gaps: no value to refuse (the reader's reductions skip NaN too)
                least, most = float(np.fmin.reduce(values)), float(np.fmax.reduce(values))
            if not (abs(least) <= _FLOAT32_MAX and abs(most) <= _FLOAT32_MAX):  # NaN and infinities fail too
                raise _Whole(f"{name} beyond float32")
            if name in columns:  # the values as the reader stores them (float32): a tiny value may become zero
                highest = max(highest, float(np.float32(most)))
                lowest = min(lowest, float(np.float32(least)))
    if unit != "au" and highest <= 0.0 and lowest < 0.0:
        raise _Whole("no load above zero")

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
file whole as before: a refusal is the reader's own, word for word. The checks
are the reader's own code where they can be (``insole._recording_format``: the
description, the columns, each foot's rows, the no-load rule, the duration).
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from insole._layout import SensorLayout
from insole._recording import SIDES, FootSamples, Mark, RecordingMeta, ReferenceEvents, adopted_foot
from insole._recording_format import (
    FLOAT32_MAX,
    FORMAT_VERSION,
    check_columns,
    column_numpy,
    described,
    description_from_schema,
    duration_s,
    foot_pieces,
    imu_columns,
    no_load,
    sensor_columns,
)

__all__ = ["FootFacts", "ParquetFacts", "parquet_facts"]


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
        return duration_s((foot.time_s for foot in self.feet.values()), self.sample_rate_hz)


def parquet_facts(path: Path) -> ParquetFacts | None:
    """What ``insole info`` shows of our Parquet recording ``path``, or None where it must be loaded whole."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # a FIFO or a device would be waited on: the whole reader refuses it without opening it
        file = pq.ParquetFile(path, pre_buffer=False, page_checksum_verification=True)
    except Exception:  # noqa: BLE001 - whatever it is, the whole reader says it in its own words
        return None
    try:
        return _facts(file, path)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - _Whole, or anything the checks did not foresee: the whole reader decides
        return None
    finally:
        file.close()
        pa.default_memory_pool().release_unused()


def _facts(file: pq.ParquetFile, path: Path) -> ParquetFacts:
    schema = file.schema_arrow
    # the reader's own checks of the description and the columns (a file they refuse is loaded whole, for the
    # reader's message); a version other than 1, a rate the recording refuses, a dictionary-encoded column: whole
    description = description_from_schema(schema, path, "Parquet")
    if description.get("format_version") != FORMAT_VERSION:
        raise _Whole("not version 1 of our format")
    layout, unit, rate, meta, reference_events, marks = described(description)
    if not (math.isfinite(rate) and rate > 0):
        raise _Whole("sample rate")
    columns = sensor_columns(layout, unit)
    check_columns(schema, columns, path)
    if any(pa.types.is_dictionary(field.type) for field in schema):
        raise _Whole("a dictionary-encoded column")
    names = schema.names
    has_imu = "accel_x_g" in names
    accel, gyro = imu_columns("accel"), imu_columns("gyro")
    base = {"side", "time_s", "valid", *columns} | ({*accel, *gyro} if has_imu else set())
    extra_columns = [c for c in names if c not in base]
    imu_sides = description.get("imu_sides")
    gyro_sides = description.get("gyro_sides")
    channel_sides = description.get("channel_sides") or {}
    found = foot_pieces(file, path)
    if found is None:
        raise _Whole("not each foot one run of rows")
    metadata = file.metadata
    pieces = {side: [_Piece(group, start, stop, stop - start == metadata.row_group(group).num_rows)
                     for group, start, stop in runs] for side, runs in found.items()}
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


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    """A column of numbers or true/false as the reader makes it (``column_numpy``); one with a missing value is
    left to the reader (``_Whole``)."""
    if column.null_count:
        raise _Whole("a missing value")
    return column_numpy(column)


@dataclass(frozen=True)
class _Piece:
    """Rows ``[start, stop)`` of row group ``group``, all one foot's; ``whole``: they are the whole group."""

    group: int
    start: int
    stop: int
    whole: bool


def _read(file: pq.ParquetFile, piece: _Piece, names: list[str]) -> pa.Table:
    table = file.read_row_group(piece.group, columns=names)
    return table if piece.whole else table.slice(piece.start, piece.stop - piece.start)


def _time_and_validity(file: pq.ParquetFile, pieces: list[_Piece]) -> tuple[np.ndarray, np.ndarray]:
    """A foot's ``time_s`` and ``valid`` as the reader makes them (a column with a missing value: ``_Whole``)."""
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
            if not (abs(least) <= FLOAT32_MAX and abs(most) <= FLOAT32_MAX):  # NaN and infinities fail too
                raise _Whole(f"{name} beyond float32")
            if name in columns:  # the values as the reader stores them (float32): a tiny value may become zero
                highest = max(highest, float(np.float32(most)))
                lowest = min(lowest, float(np.float32(least)))
    if no_load(unit, highest, lowest):
        raise _Whole("no load above zero")

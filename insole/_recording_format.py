"""What our recording format says, stated once (docs/recording-format.md), for each of its readers.

Three pieces of code read our Parquet recordings: the reader (``insole.io._format``: ``insole.load``), the
streamed analysis (``insole.analysis._streamed``: ``analyze(path)``) and ``insole info`` (``insole._cli.
_info_parquet``: the footer and the time and validity columns). They share here:

* the format's name and version and where the description is kept (``FORMAT_NAME``, ``FORMAT_VERSION``,
  ``META_KEY``), its parsing and checks (``description_from_schema``, ``described``), with the reader's messages;
* the columns: their names (``sensor_columns``, ``imu_columns``) and the check of their types (``check_columns``);
* Arrow to numpy without pandas (``chunk_numpy``, ``column_numpy``), each foot's rows (``rows_by_side``) and, for
  the two readers that go row group by row group, each foot's pieces of row groups (``foot_pieces``);
* the recording's duration (``duration_s``, as ``Recording.duration_s``) and the refusal of a foot with no load
  above zero (``no_load``).

The two fast readers take a file only where they give what the reader gives; anything else they leave to the
reader, whose refusal is then the user's message. This module lives beside the data model, not in ``insole.io``:
a package uses another's private modules only through its public names (tests/test_public_surfaces.py), and the
analysis and the command line read the format too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from insole._errors import MalformedFileError, RecordingError
from insole._layout import SensorLayout
from insole._recording import SIDES, UNITS, Mark, RecordingMeta, ReferenceEvents, duration_s

__all__ = [
    "AXES",
    "DESCRIPTION_ERRORS",
    "FLOAT32_MAX",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "META_KEY",
    "check_columns",
    "chunk_numpy",
    "column_numpy",
    "described",
    "description_from_schema",
    "duration_s",
    "foot_pieces",
    "imu_columns",
    "load_extremes",
    "no_load",
    "rows_by_side",
    "sensor_columns",
]

FORMAT_NAME = "insole-recording"
FORMAT_VERSION = 1
# the key of the Parquet key-value metadata (and of the Arrow stream's schema metadata) holding the description
META_KEY = b"insole.recording"
# the key of the Parquet key-value metadata of an analysis table insole writes (``analyze --tables``, ``export --to
# tables``): {"table": its name, "writer": "insole <version>"}, so that a table copied away from its tables.json is
# still known for what it is (``insole batch`` skips it rather than failing it as a recording)
TABLE_KEY = b"insole.table"
_UNIT_SUFFIX = {"kPa": "kpa", "N": "n", "au": "au"}
AXES = ("x", "y", "z")
# the largest finite float32: a sensor or IMU value beyond it would become infinite, and is refused
FLOAT32_MAX = float(np.finfo(np.float32).max)
# what ``described`` raises for a description of the wrong shape (the reader: "incomplete or of the wrong type")
DESCRIPTION_ERRORS = (KeyError, TypeError, ValueError, AttributeError, RecordingError)


def sensor_columns(layout: SensorLayout, unit: str) -> list[str]:
    """The sensor columns' names, in layout order: ``<sensor>_<unit suffix>`` (``heel_kpa``, ``s1_n``, ...)."""
    return [f"{name}_{_UNIT_SUFFIX[unit]}" for name in layout.sensor_names]


def imu_columns(kind: str) -> list[str]:
    """The accelerometer's (``"accel"``: ``accel_x_g``...) or the gyroscope's (``"gyro"``: ``gyro_x_dps``...)."""
    unit = {"accel": "g", "gyro": "dps"}[kind]
    return [f"{kind}_{a}_{unit}" for a in AXES]


# ---------------------------------------------------------------- the description


# the key of the Parquet metadata of the cohort and strides tables ``insole batch`` writes (``insole.batch``'s own
# constant is this one: the batch imports it from here)
BATCH_TABLE_KEY = b"insole.batch"


def _not_a_recording(metadata: dict[bytes, bytes]) -> str:
    """Why a file without an insole recording's description is none, in the reader's words: one of insole's own
    tables (their metadata says which: a table copied away from its folder is still known), or another writer's."""
    if BATCH_TABLE_KEY in metadata:
        return "is a table written by insole batch (cohort or strides), not a recording"
    if TABLE_KEY in metadata:
        try:
            name = str(json.loads(metadata[TABLE_KEY])["table"])
        except (ValueError, KeyError, TypeError, RecursionError):
            return "is an analysis table written by insole, not a recording"
        return f"is an analysis table written by insole (its {name:.40} table), not a recording"
    return "was not written by insole (no insole metadata)"


def description_from_schema(schema: pa.Schema, path: Path, what: str) -> dict[str, Any]:
    """The description under ``META_KEY`` of a file's schema, parsed, of our format and of a version this insole
    reads; ``MalformedFileError`` (the reader's messages) otherwise. ``what``: "Parquet" or "Arrow stream"."""
    metadata = schema.metadata or {}
    raw = metadata.get(META_KEY)
    if raw is None:
        raise MalformedFileError(path, f"{what} file {_not_a_recording(metadata)}")
    try:
        description = json.loads(raw)
    except (ValueError, RecursionError):
        raise MalformedFileError(path, "insole metadata is not valid JSON") from None
    if not isinstance(description, dict):
        raise MalformedFileError(path, f"insole metadata is a JSON {type(description).__name__}, not an object")
    if description.get("format") != FORMAT_NAME:
        raise MalformedFileError(path, f"{what} file is not an insole recording")
    version = description.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise MalformedFileError(path, f"format_version {version!r:.40} is not a whole number")
    if version > FORMAT_VERSION:
        raise MalformedFileError(
            path, f"recording format version {description['format_version']} is newer than this insole reads "
            f"({FORMAT_VERSION}); upgrade insole"
        )
    return description


def _optional_mapping(description: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = description.get(key)
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(f"{key} must be a JSON object, not {type(value).__name__}")
    return value


def described(
    description: Mapping[str, Any],
) -> tuple[SensorLayout, str, float, RecordingMeta, ReferenceEvents | None, tuple[Mark, ...]]:
    """Layout, unit, rate, meta, reference events and marks of a description, every key the readers use checked
    (``imu_sides``, ``gyro_sides`` and ``channel_sides`` too); one of ``DESCRIPTION_ERRORS`` if one is wrong.

    The rate is checked to be a number here; that it is finite and above zero is the recording's own check
    (``Recording``: "sample rate must be positive")."""
    layout_dict = description["layout"]
    if not isinstance(layout_dict, Mapping):
        raise TypeError(f"layout must be a JSON object, not {type(layout_dict).__name__}")
    layout = SensorLayout.from_dict(layout_dict)
    unit = description["unit"]
    if not isinstance(unit, str) or unit not in UNITS:
        raise ValueError(f"unit {unit!r:.40} is not one of {', '.join(UNITS)}")
    rate = description["sample_rate_hz"]
    if not isinstance(rate, (int, float)) or isinstance(rate, bool):
        raise TypeError(f"sample_rate_hz must be a number, not {type(rate).__name__}")
    meta = RecordingMeta.from_dict(_optional_mapping(description, "meta") or {})
    events_dict = _optional_mapping(description, "reference_events")
    events = ReferenceEvents.from_dict(events_dict) if events_dict else None
    marks_list = description.get("marks") or []
    if not isinstance(marks_list, list) or not all(isinstance(m, Mapping) for m in marks_list):
        raise TypeError("marks must be a list of JSON objects")
    marks = tuple(Mark(m["time_s"], m["label"], m.get("kind", "mark")) for m in marks_list)
    for key in ("imu_sides", "gyro_sides"):
        if description.get(key) is not None and not isinstance(description[key], list):
            raise TypeError(f"{key} must be a list")
    channel_sides = _optional_mapping(description, "channel_sides") or {}
    if not all(isinstance(v, list) for v in channel_sides.values()):
        raise TypeError("channel_sides must map each side to a list")
    return layout, unit, float(rate), meta, events, marks


# ---------------------------------------------------------------- the columns


_NUMERIC_KINDS = (pa.types.is_floating, pa.types.is_integer)


def check_columns(schema: pa.Schema, columns: list[str], path: Path) -> None:
    """Every column ours, once, and of the type our writer gives it: text side, bool valid, numbers elsewhere
    (a dictionary-encoded column by its values' type); ``MalformedFileError`` otherwise."""
    names = schema.names
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise MalformedFileError(path, f"column {twice!r:.60} appears twice")
    missing = [c for c in ["side", "time_s", "valid", *columns] if c not in names]
    if missing:
        raise MalformedFileError(path, f"missing columns {missing[:3]}{'...' if len(missing) > 3 else ''}")
    for field in schema:
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if field.name == "side":
            good = pa.types.is_string(kind) or pa.types.is_large_string(kind)
            expected = "text ('left'/'right')"
        elif field.name == "valid":
            good = pa.types.is_boolean(kind)
            expected = "true/false"
        else:
            good = any(test(kind) for test in _NUMERIC_KINDS)
            expected = "numbers"
        if not good:
            raise MalformedFileError(path, f"column {field.name!r:.60} holds {kind}, expected {expected}")


# ---------------------------------------------------------------- Arrow to numpy


_SIGNED_IDS = {pa.int8().id, pa.int16().id, pa.int32().id, pa.int64().id}


def chunk_numpy(chunk: pa.Array) -> np.ndarray:
    """``chunk.to_numpy(zero_copy_only=False)`` as far as a reader of it can tell, read from the Arrow buffers for
    the numbers and true/false of our columns: Arrow's own conversion imports pandas the first time it is used
    (0.3 s of every command that reads a recording). A missing value is NaN (integers then become float64),
    or false for true/false; other types go through Arrow's conversion."""
    kind = chunk.type
    numeric = pa.types.is_floating(kind) or pa.types.is_integer(kind)
    if not (numeric or pa.types.is_boolean(kind)):
        return chunk.to_numpy(zero_copy_only=False)
    n, offset = len(chunk), chunk.offset
    validity, data = chunk.buffers()[:2]
    if data is None:  # no values at all (an empty or all-null chunk of the null layout)
        return chunk.to_numpy(zero_copy_only=False)
    if numeric:
        code = "f" if pa.types.is_floating(kind) else ("i" if kind.id in _SIGNED_IDS else "u")
        dtype = np.dtype(f"{code}{kind.bit_width // 8}")
        values = np.frombuffer(data, dtype=dtype, count=n, offset=offset * dtype.itemsize)
    else:
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=offset + n, bitorder="little")
        values = bits[offset:].astype(bool)
    if chunk.null_count and validity is not None:
        present = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=offset + n, bitorder="little")
        missing = present[offset:] == 0
        if not numeric:
            return np.where(missing, False, values)
        return np.where(missing, np.nan, values if values.dtype.kind == "f" else values.astype(np.float64))
    return values


def column_numpy(column: pa.ChunkedArray) -> np.ndarray:
    """A whole column as one numpy array (see ``chunk_numpy``)."""
    parts = [chunk_numpy(chunk) for chunk in column.chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


# ---------------------------------------------------------------- the feet's rows


def rows_by_side(table: pa.Table) -> dict[str, np.ndarray]:
    """Row indices of each foot (a row of neither foot, or without a side, in none): each chunk of the side column
    dictionary-encoded in Arrow, and only its few distinct texts compared here (no Python string per row; and no
    Python text handed to Arrow, whose conversion of it imports pandas: 0.3 s of every command that reads a
    recording)."""
    column = table.column("side")
    try:
        found: dict[str, list[np.ndarray]] = {side: [] for side in SIDES}
        for chunk in column.chunks:
            encoded = chunk if pa.types.is_dictionary(chunk.type) else chunk.dictionary_encode()
            texts = encoded.dictionary.to_pylist()
            codes = chunk_numpy(encoded.indices)  # float with NaN where a side is missing
            if encoded.null_count:
                codes = np.where(np.isnan(codes), len(texts), codes)
            codes = codes.astype(np.int64, copy=False)
            for side in SIDES:
                found[side].append(np.array([text == side for text in texts] + [False])[codes])
        return {
            side: np.flatnonzero(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
            for side, parts in found.items()
        }
    except (pa.ArrowException, NotImplementedError, TypeError):  # a side column that is not text
        values = column.to_numpy(zero_copy_only=False)
        return {side: np.flatnonzero(values == side) for side in SIDES}


def _one_foot(statistics: Any) -> str | None:
    """The foot a row group's side column holds throughout by its statistics (no missing value, least and greatest
    the same foot); None where they do not say so."""
    if statistics is None or not statistics.has_min_max or statistics.null_count != 0 \
            or statistics.min != statistics.max:
        return None
    text = statistics.min.decode() if isinstance(statistics.min, bytes) else statistics.min
    return text if text in SIDES else None


def foot_pieces(file: pq.ParquetFile, path: Path) -> dict[str, list[tuple[int, int, int]]] | None:
    """Each foot's rows as pieces ``(row group, first row in it, end)``, in order, where each foot is one run of
    rows (as our writer puts them, the left foot first); None for any other arrangement (a row of neither foot or
    without a side, a foot's rows in two runs).

    A group whose side statistics say one foot throughout is that foot's without reading it; the side column of
    any other group (where one foot's rows end and the other's begin: a short recording's only group) is read,
    dictionary-encoded (its few texts once and a small integer per row)."""
    metadata = file.metadata
    column = metadata.schema.to_arrow_schema().get_field_index("side")
    found: dict[str, list[tuple[int, int, int]]] = {}
    last = None
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        if rows == 0:
            continue
        side = _one_foot(metadata.row_group(group).column(column).statistics)
        if side is not None:
            blocks = [(side, 0, rows)]
        else:
            coded = pq.ParquetFile(path, pre_buffer=False, metadata=metadata, read_dictionary=["side"],
                                   page_checksum_verification=True)
            try:
                rows_of = rows_by_side(coded.read_row_group(group, columns=["side"]))
            finally:
                coded.close()
            if sum(r.size for r in rows_of.values()) != rows:
                return None  # a row of neither foot, or without a side
            blocks = sorted(((side, int(r[0]), int(r[-1]) + 1) for side, r in rows_of.items() if r.size),
                            key=lambda block: block[1])  # in the order of the rows
            if any(stop - start != rows_of[side].size for side, start, stop in blocks):
                return None  # a foot's rows in this group not one block
        for side, start, stop in blocks:
            if side in found and last != side:
                return None  # a foot in two runs of rows
            found.setdefault(side, []).append((group, start, stop))
            last = side
    return found


# ---------------------------------------------------------------- rules of the recording


def load_extremes(values: np.ndarray) -> tuple[float, float]:
    """The highest and lowest of a foot's sensor values, gaps (NaN) skipped without copying the values; NaN only
    where every value is."""
    flat = values.ravel(order="K")  # a view in either memory order
    return float(np.fmax.reduce(flat)), float(np.fmin.reduce(flat))


def no_load(unit: str, highest: float, lowest: float) -> bool:
    """Whether a foot whose sensor values reach from ``lowest`` to ``highest`` holds no load, and is refused: every
    value zero or below, some below (its sign inverted, or not pressure or force at all). Small negatives beside
    positive values, from an offset, are data. Raw signals (unit ``au``) have no true zero, so their sign says
    nothing: the gaitndd foot switches of three real records (als8, hunt10, hunt20) sit wholly below zero, and
    are read."""
    return unit != "au" and highest <= 0.0 and lowest < 0.0

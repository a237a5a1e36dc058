"""The insole recording file format (docs/recording-format.md), version 1.

Two containers share one table layout (one row per foot-sample):

* **Parquet** (``.parquet``, zstd): the finished recording. The recording's
  description (layout, unit, rate, metadata, reference events, marks) is JSON
  under the ``insole.recording`` key of the Parquet key-value metadata, so
  ``pandas.read_parquet`` opens the file without this package.
* **Arrow IPC stream** (``.arrows``): written during capture, one record batch
  per append, unbuffered, so a killed writer loses at most the batch being
  written. The description is in the stream's schema metadata; what changes
  during capture (marks, capture quality) goes to a JSON sidecar
  ``<name>.arrows.json`` replaced atomically. ``finalize``/``recover`` turn a
  stream into the Parquet file.

Columns: ``side`` (string "left"/"right"), ``time_s`` (float64), ``valid``
(bool), one float32 column per sensor named ``<sensor>_<unit>`` (unit ``kpa``,
``n`` or ``au``), optional ``accel_{x,y,z}_g`` and ``gyro_{x,y,z}_dps``
(float32), optional extra float64 channels named with their unit.

What the format says (its name and version, the description's checks, the
columns, Arrow to numpy, the feet's rows, the duration and load-sign rules) is
stated once in ``insole._recording_format``, which the streamed analysis and
``insole info`` read too; this module writes and reads the files.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq

from insole._errors import InputError, MalformedFileError, OutputError, RecordingError
from insole._layout import SensorLayout
from insole._output import FORCE_HINT, atomic_path
from insole._recording import (
    SIDES,
    FootSamples,
    Mark,
    Recording,
    RecordingMeta,
    adopted_foot,
)
from insole._recording_format import (
    AXES,
    DESCRIPTION_ERRORS,
    FLOAT32_MAX,
    FORMAT_NAME,
    FORMAT_VERSION,
    META_KEY,
    check_columns,
    chunk_numpy,
    column_numpy,
    described,
    description_from_schema,
    imu_columns,
    load_extremes,
    no_load,
    rows_by_side,
    sensor_columns,
)
from insole._version import __version__

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "write_parquet",
    "read_parquet",
    "read_stream",
    "RecordingStreamWriter",
    "recover",
    "is_parquet",
    "is_arrow_stream",
    "check_input_file",
    "refuse_negative_load",
]

_ARROW_STREAM_MAGIC = b"\xff\xff\xff\xff"
_ARROW_END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"
_PARQUET_MAGIC = b"PAR1"
# A power cut (unlike a process crash) also loses what sits in the page cache;
# fsync this often bounds that loss.
_FSYNC_INTERVAL_S = 5.0


def check_input_file(path: str | Path) -> os.stat_result:
    """Refuse, before anything opens it, an input that is not a readable regular file.

    A FIFO or a device would block or never end (``open`` of a FIFO waits for a
    writer), a folder is not a recording: each is one ``InputError`` at once.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except PermissionError:
        raise InputError(path, "cannot be read (permission denied)") from None
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror or error})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(path, "is a folder, not a recording file")
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode)
            else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket" if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )
        raise InputError(path, f"is {kind}, not a recording file")
    if not os.access(path, os.R_OK):
        raise InputError(path, "cannot be read (permission denied)")
    return info


def refuse_negative_load(path: Path, recording: Recording) -> None:
    """A foot whose sensor values hold negatives and nothing above zero is not a measurement of load: refused
    (``insole._recording_format.no_load``, the rule the streamed analysis and ``insole info`` follow too)."""
    for side in recording.sides:
        values = recording.samples(side).values
        if values.size == 0:
            continue
        highest, lowest = load_extremes(values)
        if no_load(recording.unit, highest, lowest):
            raise MalformedFileError(
                path,
                f"{side} foot: every sensor value is zero or negative (lowest {lowest:g} "
                f"{recording.unit}): not a load (sign inverted?); refused",
            )


def _schema(
    layout: SensorLayout, unit: str, has_imu: bool, channels: Sequence[str], header: Mapping[str, Any]
) -> pa.Schema:
    fields = [pa.field("side", pa.string()), pa.field("time_s", pa.float64()), pa.field("valid", pa.bool_())]
    fields += [pa.field(c, pa.float32()) for c in sensor_columns(layout, unit)]
    if has_imu:
        fields += [pa.field(c, pa.float32()) for c in (*imu_columns("accel"), *imu_columns("gyro"))]
    fields += [pa.field(c, pa.float64()) for c in channels]
    return pa.schema(fields, metadata={META_KEY: json.dumps(header, allow_nan=False).encode()})


def _header(recording_like: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "writer": f"insole {__version__}",
        **recording_like,
    }


def _description(recording: Recording) -> dict[str, Any]:
    return _header(
        {
            "layout": recording.layout.to_dict(),
            "unit": recording.unit,
            "sample_rate_hz": recording.sample_rate_hz,
            "sides": list(recording.sides),
            "meta": recording.meta.to_dict(),
            "reference_events": recording.reference_events.to_dict() if recording.reference_events else None,
            "marks": [m.to_dict() for m in recording.marks],
        }
    )


def _foot_table(side: str, foot: FootSamples, schema: pa.Schema, unit: str, layout: SensorLayout) -> pa.Table:
    n = foot.n_samples
    arrays: dict[str, Any] = {
        "side": pa.array([side] * n, pa.string()),
        "time_s": foot.time_s,
        "valid": foot.valid,
    }
    for j, column in enumerate(sensor_columns(layout, unit)):
        arrays[column] = foot.values[:, j]
    names = set(schema.names)
    if "accel_x_g" in names:
        for k, a in enumerate(AXES):
            arrays[f"accel_{a}_g"] = foot.accel_g[:, k] if foot.accel_g is not None else np.full(n, np.nan, np.float32)
            arrays[f"gyro_{a}_dps"] = (
                foot.gyro_dps[:, k] if foot.gyro_dps is not None else np.full(n, np.nan, np.float32)
            )
    for name in schema.names[len(arrays):]:
        arrays[name] = foot.channels.get(name, np.full(n, np.nan))
    return pa.table([arrays[name] for name in schema.names], schema=schema)


def write_parquet(recording: Recording, path: str | Path, *, force: bool = False) -> Path:
    """Write ``recording`` as one zstd Parquet file; an existing file is replaced only with ``force``.

    The file is written under a temporary name beside ``path`` and published
    only once complete (``insole._output.atomic_path``): a crash leaves the old
    file or the new one, never half of one. Without ``force`` an existing
    ``path`` is an ``OutputError`` (checked before any work, and again at the
    final step, so a file that appears meanwhile is not replaced either).
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(path, "is a folder; give a file name")
    if not force and (path.exists() or path.is_symlink()):
        raise OutputError(path, FORCE_HINT)
    feet = [recording.samples(s) for s in recording.sides]
    has_imu = any(f.accel_g is not None or f.gyro_dps is not None for f in feet)
    channels = sorted({name for f in feet for name in f.channels})
    schema = _schema(recording.layout, recording.unit, has_imu, channels, _description(recording))
    # imu flags per foot so that a foot without IMU reads back as None, not NaN
    table = pa.concat_tables(
        [_foot_table(s, recording.samples(s), schema, recording.unit, recording.layout) for s in recording.sides]
    )
    description = _description(recording)
    description["imu_sides"] = [s for s in recording.sides if recording.samples(s).accel_g is not None]
    description["gyro_sides"] = [s for s in recording.sides if recording.samples(s).gyro_dps is not None]
    description["channel_sides"] = {s: sorted(recording.samples(s).channels) for s in recording.sides}
    table = table.replace_schema_metadata({META_KEY: json.dumps(description, allow_nan=False).encode()})
    with atomic_path(path, force=force) as temporary:
        _write_recording_table(table, temporary)
    return path


def _write_recording_table(table: pa.Table, where: Path) -> None:
    """``table`` written with ``parquet_write_options``, its description in the file's key-value metadata once.

    Without pyarrow's own copy of the Arrow schema (``ARROW:schema``): that copy holds the schema's metadata,
    our description, again (base64, a third larger), and every reader of the file decodes it, each open file
    handle anew (a simulated 8 h recording with its known answer: a 32 MB footer, 27 MiB per handle). Our columns
    are plain Parquet types that read back as the same Arrow types without it.
    """
    options = parquet_write_options(table)
    rows = options.pop("row_group_size")
    description = table.schema.metadata
    plain = table.replace_schema_metadata(None)
    with pq.ParquetWriter(where, plain.schema, store_schema=False, **options) as writer:
        writer.write_table(plain, row_group_size=rows)
        writer.add_key_value_metadata(description)


def parquet_write_options(table: pa.Table) -> dict[str, Any]:
    """``pyarrow.parquet.write_table``'s options for a recording's table (docs/recording-format.md, "Storage").

    zstd, row groups of 360,000 rows; the side column dictionary-encoded; each number column (float32 sensors and
    IMU, float64 time and channels) in whichever of two encodings makes it smaller, judged on a sample of the
    table's rows (``_encoding_sample``) written both ways:

    * ``BYTE_STREAM_SPLIT`` (the bytes of the values regrouped by position before zstd): smaller where nearly every
      value differs, as a continuous signal's do (the time axis; the simulated hour's pressures and IMU: 79 -> 52
      MB for the file, written in under half the CPU time, decoded in 0.16 instead of 0.21-0.28 CPU-s);
    * dictionary (each distinct value once, then small indices): smaller for quantised signals with few levels
      (PhysioNet gaitpdb's forces, gaitndd's foot switches: half the size of the split bytes).

    On the real files in ../shared/data and the hour (issue 19) the sample chose, column for column, the encoding
    that is smaller on the whole file (no column missed). Both encodings are standard Parquet that pyarrow reads
    (``BYTE_STREAM_SPLIT`` for FLOAT and DOUBLE since pyarrow 1.0; our floor is 15): a reader sees the same values.
    """
    floats = [field.name for field in table.schema if pa.types.is_floating(field.type)]
    split = _smaller_split(_encoding_sample(table.select(floats))) if floats else set()
    return {
        "compression": "zstd",
        # a CRC-32 per page, checked by every reader of ours (``page_checksum_verification``): a flipped byte inside
        # a compressed page otherwise decodes to wrong numbers without a word (a new user's damaged copy read 9,749
        # samples as ~1e-38 and was analysed); ~20 ms more to write the hour, ~15 ms more to read it
        "write_page_checksum": True,
        "row_group_size": 360_000,
        "use_dictionary": [name for name in table.schema.names if name not in split],
        "use_byte_stream_split": [name for name in floats if name in split],
    }


# The sample the float columns' encoding is judged on: this many blocks of this many consecutive rows, spread
# evenly over the table (both feet, start to end); the whole table when it is no longer. Consecutive rows keep
# what either encoding exploits (a signal's neighbouring values, its repeated levels). 8 x 1,024 rows chose as
# well as 8 x 2,048 on every column of the files above; the choice costs ~50 ms for the hour's 23 columns.
_SAMPLE_BLOCKS = 8
_SAMPLE_BLOCK_ROWS = 1024


def _encoding_sample(table: pa.Table) -> pa.Table:
    n = table.num_rows
    if n <= _SAMPLE_BLOCKS * _SAMPLE_BLOCK_ROWS:
        return table
    starts = np.linspace(0, n - _SAMPLE_BLOCK_ROWS, _SAMPLE_BLOCKS).astype(np.int64)
    return pa.concat_tables([table.slice(int(start), _SAMPLE_BLOCK_ROWS) for start in starts])


def _smaller_split(sample: pa.Table) -> set[str]:
    """The columns of ``sample`` that zstd makes no larger with ``BYTE_STREAM_SPLIT`` than with a dictionary."""
    split = _column_bytes(sample, use_dictionary=False, use_byte_stream_split=True)
    dictionary = _column_bytes(sample, use_dictionary=True, use_byte_stream_split=False)
    return {name for name in sample.schema.names if split[name] <= dictionary[name]}


def _column_bytes(table: pa.Table, **encoding: bool) -> dict[str, int]:
    """Each column's compressed bytes when ``table`` is written to memory with ``encoding`` and zstd."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", **encoding)
    metadata = pq.read_metadata(pa.BufferReader(sink.getvalue()))
    sizes = dict.fromkeys(table.schema.names, 0)
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for i in range(row_group.num_columns):
            sizes[row_group.column(i).path_in_schema] += row_group.column(i).total_compressed_size
    return sizes


class _NotOurLayout(Exception):
    """A foot's rows are not one block in time order: the file is read whole instead of row group by row group."""


# pieces of the rows [start, start + n) of some columns, each with its offset in that range
_RowReader = Callable[[int, int, list[str]], Iterator[tuple[int, pa.Table]]]


def _recording_from_table(
    table: pa.Table,
    description: Mapping[str, Any],
    path: Path,
    read_rows: _RowReader | None = None,
    schema: pa.Schema | None = None,
) -> Recording:
    """The recording of ``table``; with ``read_rows``, ``table`` holds only every row's side and time, ``schema``
    is the file's (its feet then read piece by piece, each foot one block of rows in time order, else
    ``_NotOurLayout``)."""
    try:
        layout, unit, rate, meta, reference_events, marks = described(description)
    except DESCRIPTION_ERRORS as error:
        raise MalformedFileError(path, f"insole metadata is incomplete or of the wrong type ({error})"[:400]) from None
    columns = sensor_columns(layout, unit)
    schema = table.schema if schema is None else schema
    names = schema.names
    check_columns(schema, columns, path)
    rows_of = rows_by_side(table)
    unknown = table.num_rows - sum(rows.size for rows in rows_of.values())
    if unknown:
        other = np.ones(table.num_rows, dtype=bool)
        for rows in rows_of.values():
            other[rows] = False
        row = int(np.flatnonzero(other)[0])
        raise MalformedFileError(
            path, f"row {row + 1} has side {table.column('side')[row].as_py()!r:.40} "
            f"({unknown} such row(s)); every row must be 'left' or 'right'"
        )
    has_imu = "accel_x_g" in names
    base = {"side", "time_s", "valid", *columns} | (
        {*imu_columns("accel"), *imu_columns("gyro")} if has_imu else set()
    )
    extra_columns = [c for c in names if c not in base]
    imu_sides = description.get("imu_sides")
    gyro_sides = description.get("gyro_sides")
    channel_sides = description.get("channel_sides") or {}
    feet: dict[str, FootSamples | None] = {"left": None, "right": None}
    for side in SIDES:
        rows = rows_of[side]
        if rows.size == 0:
            continue
        # our writer puts each foot in one block of rows in time order: then a
        # zero-copy slice is the foot, and sorting it would change nothing
        block_of_rows = bool(rows[-1] - rows[0] + 1 == rows.size)
        reader: Callable[[list[str]], Iterator[tuple[int, pa.Table]]]
        known: dict[str, np.ndarray] = {}
        if read_rows is not None:
            foot_time = table.column("time_s").slice(int(rows[0]), int(rows.size))
            time_s = column_numpy(foot_time) if block_of_rows else None
            if time_s is None or not np.all(time_s[1:] >= time_s[:-1]):
                raise _NotOurLayout
            # this foot's own new array (a concatenation), the numbers a read of the column gives: not read again
            known["time_s"] = time_s.astype(np.float64, copy=False)
            reader = functools.partial(read_rows, int(rows[0]), int(rows.size))
        else:
            part = table.slice(int(rows[0]), int(rows.size)) if block_of_rows else table.take(pa.array(rows))
            time_s = column_numpy(part.column("time_s"))
            if not np.all(time_s[1:] >= time_s[:-1]):
                part = part.take(pa.array(np.argsort(time_s, kind="stable")))

            def whole(names: list[str], part: pa.Table = part) -> Iterator[tuple[int, pa.Table]]:
                yield 0, part

            reader = whole

        wanted = channel_sides.get(side, extra_columns)
        plan = {
            "values": columns,
            "accel_g": imu_columns("accel") if has_imu and (imu_sides is None or side in imu_sides)
            else None,
            "gyro_dps": imu_columns("gyro") if has_imu and (gyro_sides is None or side in gyro_sides)
            else None,
        }
        arrays = _read_foot(reader, int(rows.size), plan, [c for c in extra_columns if c in wanted], side, path,
                            known)
        try:
            # every array was made here for this foot alone: the recording keeps them (no second copy)
            feet[side] = adopted_foot(**arrays)
        except RecordingError as error:
            raise MalformedFileError(path, f"{side} foot: {error}") from None
    try:
        recording = Recording(
            layout=layout,
            unit=unit,
            sample_rate_hz=rate,
            left=feet["left"],
            right=feet["right"],
            meta=meta,
            reference_events=reference_events,
            marks=marks,
        )
    except RecordingError as error:
        raise MalformedFileError(path, str(error)) from None
    refuse_negative_load(path, recording)
    return recording


def _read_foot(
    reader: Callable[[list[str]], Iterator[tuple[int, pa.Table]]],
    n: int,
    plan: Mapping[str, list[str] | None],
    channels: list[str],
    side: str,
    path: Path,
    known: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """A foot's arrays, each allocated once and filled piece by piece from ``reader`` (one copy of each value).

    ``plan`` maps the float32 blocks (``values``, ``accel_g``, ``gyro_dps``) to their columns (None: absent).
    ``known``: columns already read (``time_s``), as this foot's own arrays: kept, not read again.
    """
    known = dict(known or {})
    out: dict[str, Any] = {
        "time_s": known.get("time_s", np.empty(n, dtype=np.float64)),
        "valid": np.empty(n, dtype=bool),
        "channels": {c: np.empty(n, dtype=np.float64) for c in channels},
    }
    targets: dict[str, np.ndarray] = {}
    for key, names in plan.items():
        if names is None:
            out[key] = None
        elif key == "values":
            # sensor by sensor (the transpose of a (sensors, samples) array): each column is written in one
            # contiguous run, and the analysis' per-sensor rows are ``values.T``, a plain copy away
            out[key] = np.empty((len(names), n), dtype=np.float32).T
        else:
            out[key] = np.empty((n, len(names)), dtype=np.float32)
        if names is not None:
            targets.update((name, out[key][:, j]) for j, name in enumerate(names))
    targets.update({**out["channels"], "time_s": out["time_s"], "valid": out["valid"]})
    for name in known:
        del targets[name]
    for offset, piece in reader(list(targets)):
        for name in (name for name in targets if name in piece.column_names):  # in the order of ``targets``
            target, at = targets[name], offset
            for chunk in piece.column(name).chunks:
                array = chunk_numpy(chunk)
                if target.dtype == np.float32 and array.dtype.kind == "f" and array.dtype.itemsize > 4:
                    with np.errstate(invalid="ignore"):
                        too_large = ~(np.abs(array) <= FLOAT32_MAX) & ~np.isnan(array)  # inf included
                    if too_large.any():
                        k = int(np.argmax(too_large))
                        raise MalformedFileError(
                            path, f"{side} foot, column {name!r}: {float(array[k])!r} at its sample {at + k} is "
                            "infinite or beyond ±3.4e38 (a missing sample is NaN, marked invalid)"
                        )
                target[at:at + array.size] = array
                at += array.size
    return out


def read_parquet(path: str | Path) -> Recording:
    """Read a recording written by ``write_parquet``."""
    path = Path(path)
    check_input_file(path)
    file = None
    try:
        # Column chunks read as they are decoded, not all buffered first: some
        # 60 MB less at the peak for an hour and no slower from a local disk.
        file = pq.ParquetFile(path, pre_buffer=False, page_checksum_verification=True)
        schema = file.schema_arrow
        names = schema.names  # a column name that is not UTF-8 fails here
        keys = None
        if len(set(names)) == len(names) and {"side", "time_s"} <= set(names):
            keys = _keys(file, path, schema)
            keys.validate(full=True)  # e.g. text that is not UTF-8, which Arrow checks only when asked
    except (OSError, pa.ArrowException, ValueError) as error:
        if file is not None:
            file.close()
        raise MalformedFileError(path, f"not a readable Parquet file ({_first_line(error)})") from None
    try:
        description = description_from_schema(schema, path, "Parquet")
        if keys is not None:
            # a few columns of a row group at a time into the recording's arrays: the peak is the
            # recording and that piece, not the recording and the whole file's table beside it
            try:
                return _recording_from_table(keys, description, path, functools.partial(_row_groups, file, path),
                                             schema)
            except _NotOurLayout:
                pass
        try:
            table = file.read()
            table.validate(full=True)
        except (OSError, pa.ArrowException, ValueError) as error:
            raise MalformedFileError(path, f"not a readable Parquet file ({_first_line(error)})") from None
        return _recording_from_table(table, description, path)
    finally:
        # The recording holds numpy copies; the Arrow buffers are free now, but
        # Arrow's allocator keeps freed memory for itself unless told to give it
        # back, which the analysis then cannot use.
        keys = table = None
        file.close()
        pa.default_memory_pool().release_unused()


def _keys(file: pq.ParquetFile, path: Path, schema: pa.Schema) -> pa.Table:
    """Every row's side and time. A text side column is read dictionary-encoded: its few texts once and a
    small integer per row (8 hours: 23 MB of codes instead of 50 MB of text, and no encoding of the text
    after the read)."""
    side = schema.field("side").type
    if not (pa.types.is_string(side) or pa.types.is_large_string(side)):
        return file.read(columns=["side", "time_s"])
    coded = pq.ParquetFile(path, pre_buffer=False, metadata=file.metadata, read_dictionary=["side"],
                           page_checksum_verification=True)
    try:
        return coded.read(columns=["side", "time_s"])
    finally:
        coded.close()


def _row_groups(
    file: pq.ParquetFile, path: Path, start: int, n: int, names: list[str]
) -> Iterator[tuple[int, pa.Table]]:
    """The rows [start, start + n) of ``names``, with their offset in that range, a few columns of a row group at
    a time: only the groups holding those rows are read, and the memory this takes beside the recording is
    those few columns of one group (about ``_PIECE_BYTES`` decoded), not the file's table.

    Arrow's freed buffers go back to the system once per row group, not after every piece: the next piece
    reuses them instead of faulting fresh pages in (issue 19, the hour's load: kernel time 0.09-0.12 s with a
    release after each of its 12 pieces, 0.05 s with one per group, for 5-7 MB more at the peak)."""
    metadata = file.metadata
    first = 0
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        lo, hi = max(first, start), min(first + rows, start + n)
        for batch in _pieces(metadata.row_group(group), names) if lo < hi else ():
            try:
                piece = file.read_row_group(group, columns=batch)
            except (OSError, pa.ArrowException, ValueError) as error:
                raise MalformedFileError(path, f"not a readable Parquet file ({_first_line(error)})") from None
            yield lo - start, piece.slice(lo - first, hi - lo)
            del piece
        if lo < hi:
            pa.default_memory_pool().release_unused()  # the buffers back to the system, not kept by Arrow
        first += rows


def _pieces(group: pq.RowGroupMetaData, names: list[str]) -> Iterator[list[str]]:
    """``names`` in runs whose decoded size in ``group`` (``_decoded_bytes``) stays within ``_PIECE_BYTES``, at
    least one column each: for 360,000 rows of float32, four sensor columns at a time."""
    size_of = {group.column(i).path_in_schema: _decoded_bytes(group.column(i), group.num_rows)
               for i in range(group.num_columns)}
    batch: list[str] = []
    size = 0
    for name in names:
        column_size = size_of.get(name, 0)
        if batch and size + column_size > _PIECE_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(name)
        size += column_size
    if batch:
        yield batch


# bytes per value of a number column once read, by its Parquet type
_VALUE_BYTES = {"FLOAT": 4, "DOUBLE": 8, "INT32": 4, "INT64": 8}


def _decoded_bytes(column: pq.ColumnChunkMetaData, rows: int) -> int:
    """A column chunk's size once read: its stored size before compression (the file's metadata), and at least
    a number column's values in full. A dictionary-encoded column stores a small index per value (a few bits for
    gaitpdb's forces), but is read as whole values: its stored size alone would put a dozen such columns in
    one piece of several times ``_PIECE_BYTES``."""
    width = _VALUE_BYTES.get(column.physical_type)
    stored = int(column.total_uncompressed_size)
    return stored if width is None else max(stored, rows * width)


# Decoded bytes of one read beside the recording's arrays. Measured on the hour's file (issue 19, 2 x 360,000
# rows, 25 columns; CPU of the load, median of 5): 6 MB pieces released per group peak 17-20 MB lower than 8
# columns (11.5 MB) released per piece, in 0.28 s of CPU instead of 0.31; 12 MB pieces peak 15-20 MB higher
# than 6 MB ones for no less CPU.
_PIECE_BYTES = 6 << 20


def _first_line(error: BaseException) -> str:
    """The first line of an error's text (Arrow's run to several), short enough for a one-line message."""
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:200]


def is_parquet(head: bytes) -> bool:
    return head[:4] == _PARQUET_MAGIC


def is_arrow_stream(head: bytes) -> bool:
    return head[:4] == _ARROW_STREAM_MAGIC


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def read_stream(path: str | Path) -> tuple[Recording, dict[str, Any]]:
    """Read an Arrow stream written during capture, up to its last complete batch.

    Returns the recording and a dict with ``batches`` read, ``rows``,
    ``truncated`` (True when the stream ended in a damaged or partial batch, as
    after a kill mid-write) and ``closed`` (True when the writer closed the
    stream cleanly; False after a crash, even between two batches). A missing
    or damaged JSON sidecar is not an error here: the stream's own description
    is used (``recover`` says so in the file it writes).
    """
    recording, info, _ = _read_stream(Path(path))
    return recording, info


def _read_stream(path: Path) -> tuple[Recording, dict[str, Any], str]:
    """``read_stream``, and the sidecar's state: "ok", "missing" or "damaged (<why>)"."""
    check_input_file(path)
    batches: list[pa.RecordBatch] = []
    truncated = False
    try:
        source = pa.memory_map(str(path), "r")
        reader = pa.ipc.open_stream(source)
        _ = reader.schema.names  # column names that are not UTF-8 fail here, not later
    except (OSError, pa.ArrowException, ValueError) as error:
        raise MalformedFileError(path, f"not a readable insole stream ({_first_line(error)})") from None
    description = description_from_schema(reader.schema, path, "Arrow stream")
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (OSError, pa.ArrowException):
            truncated = True  # a partial batch at the end of a killed capture
            break
        try:
            # the stream is not checksummed: a damaged batch can point outside its buffers or hold
            # text that is not UTF-8, which Arrow checks only when asked
            batch.validate(full=True)
        except (pa.ArrowException, ValueError) as error:
            raise MalformedFileError(
                path, f"batch {len(batches) + 1} of the capture stream is damaged ({_first_line(error)})"
            ) from None
        batches.append(batch)
    if not batches:
        raise MalformedFileError(
            path, "capture stream holds no samples yet (the writer stopped before its first append)"
        )
    # A writer that closed cleanly ends the stream with the end-of-stream marker; a killed one does not.
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - len(_ARROW_END_OF_STREAM)))
        closed = handle.read() == _ARROW_END_OF_STREAM
    updates, sidecar_state = _read_sidecar(_sidecar(path), description)
    description = {**description, **updates}
    table = pa.Table.from_batches(batches, schema=reader.schema)
    recording = _recording_from_table(table, description, path)
    info = {"batches": len(batches), "truncated": truncated, "rows": table.num_rows, "closed": closed}
    return recording, info, sidecar_state


def _read_sidecar(sidecar: Path, description: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The sidecar's meta, marks and reference events, and its state: "ok", "missing" or "damaged (...)".

    A damaged sidecar (cut, not JSON, fields of the wrong type) is not used,
    and said so, rather than failing the whole recovery or being trusted.
    """
    if not sidecar.exists():
        return {}, "missing"
    try:
        updates = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        return {}, f"damaged ({type(error).__name__}: {str(error)[:80]})"
    if not isinstance(updates, dict):
        return {}, f"damaged (a JSON {type(updates).__name__}, not an object)"
    updates = {k: v for k, v in updates.items() if k in ("meta", "marks", "reference_events")}
    try:
        described({**description, **updates})
    except DESCRIPTION_ERRORS as error:
        return {}, f"damaged ({str(error)[:120]})"
    return updates, "ok"


class RecordingStreamWriter:
    """Append samples during capture; every append reaches the OS before ``append`` returns.

    ``append`` writes one Arrow record batch per call (call it about once a
    second per foot). ``update`` replaces the JSON sidecar atomically with the
    latest metadata and marks. ``finalize`` closes the stream and writes the
    Parquet recording; the stream is removed only after the Parquet file is
    complete, so a crash at any moment leaves a readable file.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        layout: SensorLayout,
        unit: str,
        sample_rate_hz: float,
        meta: RecordingMeta,
        has_imu: bool = False,
        channels: Sequence[str] = (),
        force: bool = False,
    ) -> None:
        self.path = Path(path)
        self.layout = layout
        self.unit = unit
        self.sample_rate_hz = float(sample_rate_hz)
        self._meta = meta
        self._marks: list[Mark] = []
        self._description = _header(
            {
                "layout": layout.to_dict(),
                "unit": unit,
                "sample_rate_hz": self.sample_rate_hz,
                "meta": meta.to_dict(),
                "reference_events": None,
                "marks": [],
            }
        )
        self._schema = _schema(layout, unit, has_imu, list(channels), self._description)
        self._columns = sensor_columns(layout, unit)
        self._has_imu = has_imu
        self._channels = list(channels)
        # An existing stream may be an earlier session not yet recovered: never replaced without force.
        try:
            self._file = open(self.path, "wb" if force else "xb", buffering=0)  # noqa: SIM115 - kept open
        except FileExistsError:
            raise OutputError(self.path, FORCE_HINT) from None
        except IsADirectoryError:
            raise OutputError(self.path, "is a folder; give a file name") from None
        except PermissionError:
            raise OutputError(self.path, f"cannot write into {self.path.parent} (permission denied)") from None
        except FileNotFoundError:
            raise OutputError(self.path, f"its folder {self.path.parent} does not exist (create it first)") from None
        self._writer = pa.ipc.new_stream(self._file, self._schema)
        self._last_fsync = time.monotonic()
        self.rows_written = 0
        self._closed = False
        self.update()

    def append(
        self,
        side: str,
        time_s: np.ndarray,
        values: np.ndarray,
        valid: np.ndarray,
        *,
        accel_g: np.ndarray | None = None,
        gyro_dps: np.ndarray | None = None,
        channels: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        if side not in SIDES:
            raise ValueError(f"side must be 'left' or 'right', not {side!r}")
        n = len(time_s)
        if n == 0:
            return
        values = np.asarray(values, dtype=np.float32).reshape(n, len(self._columns))
        arrays = [
            pa.array([side] * n, pa.string()),
            pa.array(np.asarray(time_s, np.float64)),
            pa.array(np.asarray(valid, bool)),
        ]
        arrays += [pa.array(values[:, j]) for j in range(values.shape[1])]
        if self._has_imu:
            nan3 = np.full((n, 3), np.nan, np.float32)
            a = np.asarray(accel_g, np.float32) if accel_g is not None else nan3
            g = np.asarray(gyro_dps, np.float32) if gyro_dps is not None else nan3
            arrays += [pa.array(a[:, k]) for k in range(3)] + [pa.array(g[:, k]) for k in range(3)]
        for name in self._channels:
            data = (channels or {}).get(name)
            arrays.append(pa.array(np.asarray(data, np.float64) if data is not None else np.full(n, np.nan)))
        self._writer.write_batch(pa.record_batch(arrays, schema=self._schema))
        self.rows_written += n
        now = time.monotonic()
        if now - self._last_fsync >= _FSYNC_INTERVAL_S:
            os.fsync(self._file.fileno())
            self._last_fsync = now

    def add_mark(self, mark: Mark) -> None:
        self._marks.append(mark)
        self.update()

    def update(self, **meta_changes: Any) -> None:
        """Record metadata changes (e.g. capture quality, devices) in the sidecar, atomically."""
        if meta_changes:
            self._meta = RecordingMeta.from_dict({**self._meta.to_dict(), **meta_changes})
        payload = {"meta": self._meta.to_dict(), "marks": [m.to_dict() for m in self._marks]}
        sidecar = _sidecar(self.path)
        tmp = sidecar.with_name(sidecar.name + ".tmp")
        tmp.write_text(json.dumps(payload, allow_nan=False, default=float))
        os.replace(tmp, sidecar)

    @property
    def meta(self) -> RecordingMeta:
        return self._meta

    def close(self) -> None:
        if not self._closed:
            self._writer.close()
            os.fsync(self._file.fileno())
            self._file.close()
            self._closed = True

    def finalize(self, parquet_path: str | Path | None = None, *, force: bool = False) -> Path:
        """Close the stream and write the Parquet recording (replacing a file only with ``force``); return its path."""
        self.close()
        return recover(self.path, parquet_path, force=force)


def default_parquet_path(stream_path: Path) -> Path:
    name = stream_path.name
    stem = name[: -len(".arrows")] if name.endswith(".arrows") else stream_path.stem
    return stream_path.with_name(stem + ".parquet")


def recover(
    stream_path: str | Path, parquet_path: str | Path | None = None, *, keep_stream: bool = False, force: bool = False
) -> Path:
    """Turn a capture stream (complete, or cut by a crash) into the Parquet recording.

    Everything up to the last complete batch is kept. The stream and its
    sidecar are removed only once the Parquet file has been written and read
    back with the same number of rows, and never when the sidecar was missing
    or damaged (the file then says so in ``meta.extra["recovered_from_stream"]``).
    An existing Parquet file is replaced only with ``force``.
    """
    stream_path = Path(stream_path)
    check_input_file(stream_path)
    out = Path(parquet_path) if parquet_path else default_parquet_path(stream_path)
    if not force and (out.exists() or out.is_symlink()):
        raise OutputError(out, FORCE_HINT)  # before any work
    recording, info, sidecar = _read_stream(stream_path)
    sidecar_ok = sidecar == "ok"
    if info["truncated"] or not info["closed"] or not sidecar_ok:
        recording = recording.with_meta(
            extra={
                **dict(recording.meta.extra),
                "recovered_from_stream": {
                    "batches": info["batches"],
                    "rows": info["rows"],
                    "ended_in_partial_batch": info["truncated"],
                    **({} if sidecar_ok else {"sidecar": (
                        f"{sidecar}: marks and capture quality of the session are not in this file; "
                        "the stream and its sidecar were kept"
                    )}),
                },
            }
        )
    write_parquet(recording, out, force=force)
    check = read_parquet(out)
    rows = sum(check.samples(s).n_samples for s in check.sides)
    if rows != info["rows"]:
        raise MalformedFileError(out, f"read back {rows} rows, expected {info['rows']}; stream kept")
    if not keep_stream and sidecar_ok:
        stream_path.unlink()
        _sidecar(stream_path).unlink(missing_ok=True)
    return out

"""Reading large, plain delimited text exports in pieces, in bounded memory.

The careful reader of ``_table.py`` holds the whole file as text, its lines
as Python strings and a pandas frame of every column at once: about ten times
the file's size in memory, and pandas' import on top. Most exports are plain
(UTF-8, one line break per row, numbers or empty fields), and for those this
module does the same job in two passes over the file:

1. ``scan_text`` reads it in blocks of a few MiB: its leading header lines, the number of data rows, and
   where the data can be cut into pieces at line ends. It answers ``None`` for
   any file that is not plain (not UTF-8, a lone carriage return, a NUL byte,
   no line break at the end, no data row): the careful reader then takes it,
   with the messages it gives. Meanwhile a thread takes the SHA-256 of the
   file's bytes (for the provenance).
2. ``read_columns`` parses the pieces with Arrow's C parser (two threads on
   two cores) straight into arrays the importer allocated for the whole file
   (it knows the row count from the scan), column by column, so memory is the
   result's arrays plus a few pieces in flight. Any field the careful reader
   would treat differently (a word, ``nan``, a space around a number, a wrong
   number of fields) raises ``NotPlain``, and the importer starts again with
   the careful reader: the fast path never gives a different result, only the
   same one sooner.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from concurrent.futures import Future

# concurrent.futures is imported where it is used: every command imports the importers, few read a text export

__all__ = ["NotPlain", "TextScan", "scan_text", "read_columns", "provenance_from_scan"]

# One read of the scan and, roughly, one piece of the parse. The 1 h Moticon export (120 MB) read with
# insole info --json: 4 MiB pieces 215-221 MiB peak, 8 MiB 242-260 MiB, 16 MiB 295-306 MiB, the same CPU time
# (1.3-1.4 s); the pieces in flight are most of what is not the recording itself.
BLOCK_BYTES = 4 * 2**20
# Arrow parses a piece in blocks of this size: 1 MiB parsed a 16 MiB piece of a Moticon export in 0.07-0.1 s,
# 4 MiB in 0.18-0.22 s and 16 MiB in 0.27-0.41 s (cache-sized blocks win; measured on this 2-core machine)
_PARSE_BLOCK_BYTES = 2**20
_HASH_BLOCK_BYTES = 2**20


class NotPlain(Exception):  # noqa: N818 - a signal to take the careful reader, never shown to anyone
    """The file needs the careful reader (it is not plain text of numbers, or not as the scan saw it)."""


@dataclass(frozen=True)
class TextScan:
    """What one pass over a plain text file found.

    ``header`` holds the leading lines that start with the header prefix, as
    text without their line ends; ``pieces`` are (byte offset, byte length,
    first row, rows) of consecutive runs of whole data lines covering every
    data row in order. The SHA-256 of the file is taken by a thread of its own
    while the file is parsed (hashing releases the interpreter's lock: on two
    cores it costs no wall time); ``sha256`` waits for it.
    """

    size_bytes: int
    header: list[str]
    n_rows: int
    pieces: list[tuple[int, int, int, int]]
    digest: Future[str]
    stop_digest: threading.Event

    def cancel(self) -> None:
        """Stop taking the digest (the careful reader takes the file over and hashes it itself)."""
        self.stop_digest.set()

    @property
    def sha256(self) -> str:
        try:
            return self.digest.result()
        except OSError as error:  # the file went away or changed meanwhile: the careful reader says so
            raise NotPlain(str(error)) from None


def _sha256(path: Path, stop: threading.Event) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK_BYTES):
            if stop.is_set():  # never a digest of part of the file
                raise NotPlain("the digest was no longer needed")
            digest.update(block)
    return digest.hexdigest()


def scan_text(path: Path, *, header_prefix: str = "#", block_bytes: int | None = None) -> TextScan | None:
    """One pass over ``path``: its digest, header lines, data rows and pieces; ``None`` when it is not plain."""
    from concurrent.futures import ThreadPoolExecutor

    prefix = header_prefix.encode("ascii")
    stop = threading.Event()
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="insole-sha256")
    digest = hasher.submit(_sha256, path, stop)
    hasher.shutdown(wait=False)
    try:
        scan = _scan(path, prefix, block_bytes or BLOCK_BYTES, digest, stop)
    except BaseException:
        stop.set()
        raise
    if scan is None:  # the careful reader takes the file (and hashes it itself)
        stop.set()
    return scan


def _scan(
    path: Path, prefix: bytes, block_bytes: int, digest: Future[str], stop_digest: threading.Event
) -> TextScan | None:
    # One buffer for the whole pass (the last block's unfinished line, then the next block): a new object
    # per 16 MiB block cost some 45,000 page faults (0.13 s of system time) for an hour's export.
    buffer = bytearray(2 * block_bytes)
    header: list[str] = []
    header_bytes = 0
    pieces: list[tuple[int, int, int, int]] = []
    in_header = True
    n_rows = 0
    offset = 0  # file offset of the buffer's first byte
    filled = 0  # bytes in use in the buffer
    try:
        handle = path.open("rb", buffering=0)
    except OSError:
        return None
    with handle, memoryview(buffer) as view:
        while True:
            got = handle.readinto(view[filled : filled + block_bytes])
            if not got:
                break
            filled += got
            end = buffer.rfind(b"\n", 0, filled) + 1
            if end == 0:  # no line end yet: a line longer than a block is no export's
                if filled > block_bytes:
                    return None
                continue
            if not _plain(buffer, view, end):
                return None
            start = 0
            if in_header:
                while start < end and buffer.startswith(prefix, start):
                    stop = buffer.index(b"\n", start, end)
                    header.append(bytes(view[start:stop]).decode("utf-8").removesuffix("\r"))
                    start = stop + 1
                header_bytes += start
                if start < end:
                    in_header = False
                elif header_bytes > block_bytes:  # a header longer than a block is no export's
                    return None
            if not in_header and start < end:
                rows = buffer.count(b"\n", start, end)
                pieces.append((offset + start, end - start, n_rows, rows))
                n_rows += rows
            buffer[: filled - end] = buffer[end:filled]  # the unfinished line, to the front (copied first)
            filled -= end
            offset += end
    if filled or in_header or n_rows == 0:
        # no line break at the end (a cut row), only header lines, or no data: the careful reader's messages
        return None
    return TextScan(size_bytes=offset, header=header, n_rows=n_rows, pieces=pieces, digest=digest,
                    stop_digest=stop_digest)


def _plain(buffer: bytearray, view: memoryview, end: int) -> bool:
    """``buffer[:end]`` is UTF-8 text without NUL bytes whose only carriage returns end lines (CRLF)."""
    if buffer.find(b"\x00", 0, end) >= 0:
        return False
    if buffer.find(b"\r", 0, end) >= 0 and buffer.count(b"\r", 0, end) != buffer.count(b"\r\n", 0, end):
        return False
    if int(np.frombuffer(view[:end], dtype=np.uint8).max()) >= 0x80:  # not ASCII: is it UTF-8?
        try:
            bytes(view[:end]).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


# A destination receives one piece's column: ``store(first_row, float64 values, empty)``, the values NaN where
# the field was empty and ``empty`` the mask of those rows (None when there is none).
Store = Callable[[int, np.ndarray, "np.ndarray | None"], None]


def read_columns(
    path: Path,
    scan: TextScan,
    n_columns: int,
    stores: Mapping[int, Store],
    *,
    delimiter: str = "\t",
    text_columns: tuple[int, ...] = (),
    workers: int | None = None,
) -> dict[int, list[Any]]:
    """Parse every data row of ``path`` and hand each wanted column, piece by piece, to its store.

    ``stores`` maps a 0-based column to the function that puts a piece of it
    (float64, NaN where the field is empty, and the mask of empty fields) where it belongs: every field of
    those columns is a finite number or empty, else ``NotPlain``. Every row
    must have exactly ``n_columns`` fields (else ``NotPlain``). The columns of
    ``text_columns`` are returned as text, one Arrow array per piece in order.
    """
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [str(i) for i in range(n_columns)]
    parse = pacsv.ParseOptions(delimiter=delimiter, quote_char=False, double_quote=False, escape_char=False,
                               newlines_in_values=False, ignore_empty_lines=False)
    wanted = sorted(set(stores) | set(text_columns))
    types = {str(c): pa.float64() for c in stores}
    types.update({str(c): pa.string() for c in text_columns})
    # only an empty field is missing: "nan", "NA" or "null" are words, and the careful reader names them
    convert = pacsv.ConvertOptions(column_types=types, include_columns=[str(c) for c in wanted],
                                   null_values=[""], true_values=[], false_values=[], strings_can_be_null=False,
                                   quoted_strings_can_be_null=False)

    def one(piece: tuple[int, int, int, int]) -> dict[int, Any]:
        start, length, first_row, rows = piece
        try:
            with path.open("rb", buffering=0) as handle:
                handle.seek(start)
                data = handle.read(length)
        except OSError as error:
            raise NotPlain(str(error)) from None
        if len(data) != length:
            raise NotPlain("the file changed while it was read")
        read = pacsv.ReadOptions(column_names=names, use_threads=False, block_size=_PARSE_BLOCK_BYTES)
        try:
            table = pacsv.read_csv(pa.py_buffer(data), read_options=read, parse_options=parse,
                                   convert_options=convert)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise NotPlain(str(error)) from None
        del data
        if table.num_rows != rows:
            raise NotPlain(f"{table.num_rows} rows parsed where the scan saw {rows}")
        texts = {}
        for column, store in stores.items():
            row = first_row
            for chunk in table.column(str(column)).chunks:
                values = _float_values(chunk)
                finite = np.isfinite(values)
                if np.count_nonzero(finite) != len(chunk) - chunk.null_count:  # "inf", "nan", 1e999
                    raise NotPlain(f"column {column + 1} holds a number that is not finite")
                # every value not finite is now an empty field (NaN)
                store(row, values, np.logical_not(finite, out=finite) if chunk.null_count else None)
                row += len(chunk)
        for column in text_columns:
            texts[column] = table.column(str(column))
        return texts

    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if workers <= 1 or len(scan.pieces) == 1:
        found = [one(piece) for piece in scan.pieces]
    else:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="insole-text")
        try:
            found = [future.result() for future in [pool.submit(one, piece) for piece in scan.pieces]]
        finally:  # after a NotPlain, the pieces not started are dropped (the careful reader starts over)
            pool.shutdown(wait=True, cancel_futures=True)
    return {column: [part[column] for part in found] for column in text_columns}


def _float_values(chunk: Any) -> np.ndarray:
    """An Arrow float64 array as numpy, NaN where it is null (a read-only view of Arrow's memory when none is).

    Read from its buffers: Arrow's own ``to_numpy`` imports pandas (0.2-0.7 s
    here), which reading a text export does not need.
    """
    n = len(chunk)
    validity, data = chunk.buffers()
    values = np.frombuffer(data, dtype=np.float64, count=n, offset=chunk.offset * 8)
    if chunk.null_count:
        values = values.copy()
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        values[bits[chunk.offset : chunk.offset + n] == 0] = np.nan
    return values


def provenance_from_scan(path: Path, scan: TextScan, format_name: str) -> dict[str, object]:
    """The same ``source`` entry as ``_table.provenance``, from the digest the scan took."""
    return {"path": str(path), "file": path.name, "format": format_name, "size_bytes": scan.size_bytes,
            "sha256": scan.sha256}

"""Opening any supported file: our Parquet and capture stream, and every importer.

An importer is a small object registered in ``insole.io._importers.IMPORTERS``
with a ``name`` (what ``--format`` takes), a ``description`` (for --help and
the docs), ``sniff(path, head) -> bool`` that recognises the content from the
first bytes (and the path, for companion files), and ``load(path) ->
Recording`` that raises ``InputError`` subclasses for anything wrong with the
file. Detection is by content, not by file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from insole._digest import file_sha256
from insole._errors import InputError, MalformedFileError, RecordingError, UnknownFormatError
from insole._recording import Recording
from insole.io._format import (
    check_input_file,
    is_arrow_stream,
    is_parquet,
    read_parquet,
    read_stream,
    refuse_negative_load,
)

__all__ = ["load", "formats", "Importer", "detect_format", "provenance", "HEAD_BYTES"]

HEAD_BYTES = 8192


class Importer(Protocol):
    # read-only: an importer's name and description are not set by its users
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def sniff(self, path: Path, head: bytes) -> bool: ...

    def load(self, path: Path) -> Recording: ...


@dataclass(frozen=True)
class _Builtin:
    name: str
    description: str
    sniff: Callable[[Path, bytes], bool]
    load: Callable[[Path], Recording]


_OURS = (
    _Builtin(
        "parquet",
        "insole recording (Parquet, zstd; docs/recording-format.md)",
        lambda p, h: is_parquet(h),
        read_parquet,
    ),
    _Builtin(
        "stream",
        "insole capture stream (Arrow IPC, written while recording; read up to the last complete second)",
        lambda p, h: is_arrow_stream(h),
        lambda p: read_stream(p)[0],
    ),
)


def _importers() -> tuple[Importer, ...]:
    try:
        from insole.io._importers import IMPORTERS
    except ImportError:  # pragma: no cover - importers not built
        IMPORTERS = ()
    return (*_OURS, *IMPORTERS)


def formats() -> dict[str, str]:
    """Every format name ``load`` takes, with its description."""
    return {imp.name: imp.description for imp in _importers()}


def _read_head(path: Path) -> bytes:
    check_input_file(path)  # before opening: a FIFO or a device is refused, never waited on
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror})") from None


def detect_format(path: str | Path) -> str:
    """The name of the format of ``path``, by content."""
    path = Path(path)
    head = _read_head(path)
    if not head:
        raise MalformedFileError(path, "file is empty")
    # our own formats first: recognising them needs none of the importers imported
    for ours in _OURS:
        if ours.sniff(path, head):
            return ours.name
    for importer in _importers()[len(_OURS):]:
        if importer.sniff(path, head):
            return importer.name
    if path.suffix.lower() == ".parquet":  # named as ours but not written as Parquet: say that, not "unknown"
        raise UnknownFormatError(path, "is named .parquet but is not a Parquet file (it does not start with "
                                       "Parquet's PAR1 mark): a different file renamed, or a damaged one")
    raise UnknownFormatError(
        path, f"unknown format (supported: {', '.join(formats())}; use --format to force one)"
    )


def _importer(name: str) -> Importer | None:
    for importer in _OURS:
        if importer.name == name:
            return importer
    return next((importer for importer in _importers() if importer.name == name), None)


def load(path: str | Path, format: str | None = None) -> Recording:
    """Open any supported recording file; ``format`` forces an importer by name."""
    path = Path(path)
    if format is None:
        importer = _importer(detect_format(path))
        assert importer is not None  # detect_format returns the name of a registered importer
    else:
        importer = _importer(format)
        if importer is None:
            raise UnknownFormatError(path, f"unknown --format {format!r} (choose from {', '.join(formats())})")
        _read_head(path)
    try:
        recording = importer.load(path)
    except RecordingError as error:
        # the file's content would make an inconsistent recording: the file is at fault
        raise MalformedFileError(path, str(error)) from None
    except OSError as error:  # a companion file that cannot be read (permission, vanished)
        where = Path(error.filename) if isinstance(error.filename, str) else path
        raise InputError(where, f"cannot be read ({error.strerror or error})") from None
    if importer not in _OURS:  # our own readers refuse a negative load themselves: no second pass over the values
        refuse_negative_load(path, recording)
    return recording


def provenance(path: Path, format_name: str) -> dict[str, object]:
    """What an input file was: its name as given, size and SHA-256 (so that a result can be traced to a file).

    Here, not among the importers, so that a caller needing only the digest (``insole analyze`` of our Parquet
    file, on a thread beside its imports) does not import every importer: 40-90 ms of Python on the 2-core test
    machine that held the interpreter lock the imports needed (issue 19: the hour's command 0.075 s faster).
    """
    return {"path": str(path), "file": path.name, "format": format_name, "size_bytes": path.stat().st_size,
            "sha256": file_sha256(path)}



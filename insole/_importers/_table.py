"""Reading delimited numeric text tables with precise, one-line error messages.

Shared by the text importers (gaitpdb, Moticon, generic CSV). The happy path
is vectorised (numpy parses every field in one call); only when something is
wrong does a slow pass look for the first bad line, so the message can name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from insole._errors import InputError, MalformedFileError

__all__ = ["TextTable", "read_text", "split_rows", "parse_numeric"]


def read_text(path: Path, *, encoding: str = "utf-8") -> str:
    """The whole file as text, with CRLF and CR line endings turned into LF."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror})") from None
    if not raw.strip():
        raise MalformedFileError(path, "file is empty")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise MalformedFileError(path, f"is not {encoding} text (byte {error.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class TextTable:
    """Rows of string fields, each row with the same number of fields.

    ``fields`` (n_rows, n_columns) array of str; ``first_line`` is the 1-based
    line number of row 0 in the file (for messages).
    """

    fields: np.ndarray
    first_line: int

    @property
    def n_rows(self) -> int:
        return int(self.fields.shape[0])


def split_rows(path: Path, lines: list[str], first_line: int, delimiter: str, n_columns: int, *, ended_with_newline: bool) -> TextTable:
    """Split ``lines`` on ``delimiter`` into exactly ``n_columns`` fields per line.

    A last line with too few fields in a file that does not end with a newline
    is reported as a truncated file (cut mid-row), anything else with the wrong
    count as a wrong column count, naming the line.
    """
    if not lines:
        raise MalformedFileError(path, "has a header but no data rows")
    counts = np.fromiter((line.count(delimiter) + 1 for line in lines), dtype=np.int64, count=len(lines))
    wrong = np.flatnonzero(counts != n_columns)
    if wrong.size:
        index = int(wrong[0])
        line_number = first_line + index
        if index == len(lines) - 1 and not ended_with_newline and counts[index] < n_columns:
            raise MalformedFileError(
                path, f"file ends in the middle of a row (line {line_number} has {counts[index]} of "
                f"{n_columns} fields): truncated?"
            )
        raise MalformedFileError(
            path, f"line {line_number} has {counts[index]} fields, expected {n_columns} (wrong column count)"
        )
    # A row cut inside its last number still has all its fields; that cannot be
    # told from a complete row without a newline, so such a last row is accepted.
    fields = np.array([line.split(delimiter) for line in lines], dtype=str)
    return TextTable(fields=fields.reshape(len(lines), n_columns), first_line=first_line)


MISSING_WORDS = ("nan", "na", "null", "none", "-")


def parse_numeric(
    path: Path,
    table: TextTable,
    columns: list[int] | np.ndarray,
    names: list[str] | None = None,
    *,
    allow_empty: bool,
    missing_words_are_empty: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The given columns as float64, and a mask of empty fields.

    Empty (or whitespace-only) fields become NaN when ``allow_empty``; else
    they are an error. With ``missing_words_are_empty`` the words in
    ``MISSING_WORDS`` (any case) count as empty too. Anything else that is not
    a finite number is an error naming the line, the column and the text.
    """
    columns = np.asarray(columns, dtype=np.int64)
    raw = np.char.strip(table.fields[:, columns])
    empty = raw == ""
    if missing_words_are_empty:
        empty |= np.isin(np.char.lower(raw), MISSING_WORDS)
    if empty.any() and not allow_empty:
        row, col = (int(i) for i in np.argwhere(empty)[0])
        raise MalformedFileError(path, f"line {table.first_line + row}, {_column_name(columns, col, names)}: field is empty")
    filled = np.where(empty, "nan", raw)
    try:
        values = filled.astype(np.float64)
    except ValueError:
        values = None
    if values is None or _has_textual_nan(filled, empty):
        row, col, text = _first_non_numeric(filled, empty)
        raise MalformedFileError(
            path, f"line {table.first_line + row}, {_column_name(columns, col, names)}: {text!r} is not a number"
        )
    return values, empty


def _has_textual_nan(filled: np.ndarray, empty: np.ndarray) -> bool:
    # "nan"/"inf" written in the file itself are not measurements; only our own
    # placeholder for an empty field may be NaN.
    lowered = np.char.lower(filled)
    suspicious = (np.char.find(lowered, "nan") >= 0) | (np.char.find(lowered, "inf") >= 0)
    return bool(np.any(suspicious & ~empty))


def _first_non_numeric(filled: np.ndarray, empty: np.ndarray) -> tuple[int, int, str]:
    for (row, col), text in np.ndenumerate(filled):
        if empty[row, col]:
            continue
        lowered = text.lower()
        if "nan" in lowered or "inf" in lowered:
            return row, col, str(text)
        try:
            float(text)
        except ValueError:
            return row, col, str(text)
    raise AssertionError("no bad field found")  # pragma: no cover - only called after a failure


def _column_name(columns: np.ndarray, index: int, names: list[str] | None) -> str:
    number = int(columns[index]) + 1
    if names:
        return f"column {number} ({names[index]})"
    return f"column {number}"


def provenance(path: Path, format_name: str) -> dict[str, object]:
    """What the input was: its name as given, size and SHA-256 (so a result can be traced to a file)."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "file": path.name, "format": format_name, "size_bytes": path.stat().st_size,
            "sha256": digest.hexdigest()}


def importer_software(importer_name: str) -> dict[str, object]:
    """The ``software`` entry of an imported recording's metadata."""
    from insole._version import __version__

    return {"name": "insole", "version": __version__, "role": "imported", "importer": importer_name}


def head_lines(head: bytes, encoding: str = "utf-8") -> list[str]:
    """The complete lines in the first bytes of a file (a cut last line is dropped unless it is all there is)."""
    text = head.decode(encoding, errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if len(lines) > 1:
        lines = lines[:-1]
    return lines


def is_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return value == value and abs(value) != float("inf")

"""Reading delimited numeric text tables with precise, one-line error messages.

Shared by the text importers (gaitpdb, Moticon, generic CSV). The happy path
is vectorised: pandas' C parser reads every column of the table in one pass
and the columns it reads as numbers (with empty fields as NaN) are kept.
Only a column holding anything else (a word, "nan", a decimal comma, a blank
field) takes the slow path, which reads that column field by field, accepts
what is fine (blanks are empty fields) and names the first bad line for the
message.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from insole._errors import InputError, MalformedFileError
from insole.io._load import file_sha256, provenance  # noqa: F401  (one digest for every input; the importers import it from here)

__all__ = ["TextTable", "read_text", "split_rows", "parse_numeric", "CUT_SHORT", "one_line", "refuse_huge_gaps"]

# Invalid slots an importer may insert for the holes a file's own clock or frame numbers show: at
# most ten per sample present, or an hour at 100 Hz. A damaged time stamp or frame number would
# otherwise ask for billions of slots (memory), where the file holds a few thousand samples.
MAX_GAP_SLOTS_PER_SAMPLE = 10
MAX_GAP_SLOTS_ANYWAY = 360_000

CUT_SHORT = "(a complete file ends with a line break)"


def one_line(error: BaseException | str, limit: int = 200) -> str:
    """An error's text (a parser's, a library's) on one line and short, for inside our own one-line message."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def refuse_huge_gaps(path: Path, n_present: int, n_slots: int, where: str) -> None:
    """Refuse a file whose holes would need far more slots than it has samples (a damaged clock)."""
    if n_slots - n_present > max(MAX_GAP_SLOTS_PER_SAMPLE * n_present, MAX_GAP_SLOTS_ANYWAY):
        raise MalformedFileError(
            path, f"{where} leave {n_slots - n_present} missing samples for {n_present} present: "
            "a damaged time stamp or frame number?"
        )


def read_text(path: Path, *, encoding: str = "utf-8", row_end: str = "") -> str:
    """The whole file as text, with CRLF and CR line endings turned into LF.

    The text must end with a line break (or with one of the characters of
    ``row_end``, for formats whose every row ends with a separator, as pedar's
    tab): otherwise its last value may have been cut (``662.64`` cut to ``6``
    is still a number), and the file is refused as truncated. Every real
    export we hold ends so.
    """
    from insole.io._format import check_input_file

    check_input_file(path)
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
    except LookupError:  # pragma: no cover - our own encodings are all known
        raise MalformedFileError(path, f"unknown text encoding {encoding}") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith(("\n", *row_end)):
        line = text.count("\n") + 1
        raise MalformedFileError(
            path, f"file ends in the middle of a row (line {line} has no line break at its end): truncated? "
            + CUT_SHORT
        )
    return text


@dataclass(frozen=True, eq=False)
class TextTable:
    """Data lines of a delimited table, each with exactly ``n_columns`` fields.

    ``first_line`` is the 1-based line number of row 0 in the file (for
    messages). ``fields`` (n_rows, n_columns) array of str is built only when
    asked for: the numeric path reads the lines directly.
    """

    lines: list[str]
    first_line: int
    delimiter: str
    n_columns: int

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def field(self, row: int, column: int) -> str:
        """One field as written (not stripped)."""
        return self.lines[row].split(self.delimiter)[column]

    @cached_property
    def fields(self) -> np.ndarray:
        split = [line.split(self.delimiter) for line in self.lines]
        return np.array(split, dtype=str).reshape(len(self.lines), self.n_columns)

    @cached_property
    def numeric_columns(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Column index -> (float64 values, empty mask) for each column whose fields are all finite numbers or empty."""
        return _read_numeric_columns(self)


def split_rows(
    path: Path, lines: list[str], first_line: int, delimiter: str, n_columns: int, *, ended_with_newline: bool
) -> TextTable:
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
    # A row cut inside its last number still has all its fields: read_text refuses
    # a file that does not end with a line break, which is how such a cut shows.
    return TextTable(lines=lines, first_line=first_line, delimiter=delimiter, n_columns=n_columns)


def _read_numeric_columns(table: TextTable) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    import pandas as pd

    text = "\n".join(table.lines)
    # The C tokenizer ends a field at NUL and a line at CR; such text takes the slow path.
    if "\x00" in text or "\r" in text or len(table.delimiter) != 1:
        return {}
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=table.delimiter, header=None, names=range(table.n_columns), index_col=False,
            # only an empty field is missing: "nan", "NA", "null" stay text, so that the slow path names them
            na_values=[""], keep_default_na=False,
            quoting=csv.QUOTE_NONE, skip_blank_lines=False, low_memory=False, engine="c",
        )
    except (ValueError, pd.errors.ParserError):
        return {}
    if len(frame) != table.n_rows or frame.shape[1] != table.n_columns:
        return {}
    found = {}
    for index in range(table.n_columns):
        column = frame[index]
        kind = column.dtype.kind
        if kind not in "fiu":  # text (object/str) or bool: not every field is a number
            continue
        values = column.to_numpy(dtype=np.float64)
        if kind == "f":
            empty = np.isnan(values)
            # "inf" and overflowing numbers parse as infinite: not measurements, left to the slow path's message
            if np.isinf(values).any():
                continue
        else:
            empty = np.zeros(values.shape, dtype=bool)
        found[index] = (values, empty)
    return found


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
    numeric = table.numeric_columns
    if columns.size and all(int(c) in numeric for c in columns):
        values = np.column_stack([numeric[int(c)][0] for c in columns])
        empty = np.column_stack([numeric[int(c)][1] for c in columns])
        if empty.any() and not allow_empty:
            _raise_empty(path, table, columns, names, empty)
        return values, empty
    return _parse_fields(path, table, columns, names, allow_empty, missing_words_are_empty)


def _raise_empty(path: Path, table: TextTable, columns: np.ndarray, names: list[str] | None, empty: np.ndarray) -> None:
    row, col = (int(i) for i in np.argwhere(empty)[0])
    raise MalformedFileError(
        path, f"line {table.first_line + row}, {_column_name(columns, col, names)}: field is empty"
    )


def _parse_fields(
    path: Path, table: TextTable, columns: np.ndarray, names: list[str] | None, allow_empty: bool,
    missing_words_are_empty: bool,
) -> tuple[np.ndarray, np.ndarray]:
    raw = np.char.strip(table.fields[:, columns])
    empty = raw == ""
    if missing_words_are_empty:
        empty |= np.isin(np.char.lower(raw), MISSING_WORDS)
    if empty.any() and not allow_empty:
        _raise_empty(path, table, columns, names, empty)
    filled = np.where(empty, "nan", raw)
    try:
        values = filled.astype(np.float64)
    except ValueError:
        values = None
    # "nan"/"inf" written in the file are not measurements (only our own
    # placeholder for an empty field may be NaN), nor is a number too large for float64.
    if values is None or not np.isfinite(values[~empty]).all():
        row, col, text = _first_non_numeric(filled, empty)
        raise MalformedFileError(
            path, f"line {table.first_line + row}, {_column_name(columns, col, names)}: {text!r} is not a number"
        )
    return values, empty


def _first_non_numeric(filled: np.ndarray, empty: np.ndarray) -> tuple[int, int, str]:
    for (row, col), text in np.ndenumerate(filled):
        if empty[row, col]:
            continue
        try:
            value = float(text)
        except ValueError:
            return row, col, str(text)
        if not math.isfinite(value):
            return row, col, str(text)
    raise AssertionError("no bad field found")  # pragma: no cover - only called after a failure


def _column_name(columns: np.ndarray, index: int, names: list[str] | None) -> str:
    number = int(columns[index]) + 1
    if names:
        return f"column {number} ({names[index]})"
    return f"column {number}"


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

"""The analysis as JSON: plain types only, NaN written as null (documented in docs/analysis-json.md).

An hour of walking gives stride and step tables of some 3400 rows by 80
columns per foot, about a million numbers, so everything here is built for
size, and every path writes exactly the text of ``json.dumps(analysis_to_dict(
analysis), indent=1, allow_nan=False, ensure_ascii=False)`` (tests compare the
bytes):

* ``plain`` turns a DataFrame into its rows column by column with numpy;
* ``dumps`` (behind ``Analysis.to_json``) writes tables of row dicts from one
  ``%`` template per row and every other all-scalar container with the C
  encoder, instead of the pure-Python encoder that ``json`` falls back to
  whenever an indent is asked for; formatting floats is most of the cost,
  so each distinct value is formatted once per document;
* ``analysis_to_json`` and ``write_json`` do the same from the DataFrames
  without building the row dicts at all; ``write_json`` also skips joining
  the pieces into one string.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from insole.analysis._result import Analysis

__all__ = ["analysis_to_dict", "analysis_to_json", "dumps", "lean_document", "lean_json", "plain", "write_json"]


def plain(value: Any) -> Any:
    """Numpy, pandas and NaN to JSON-ready Python (NaN and infinities become None)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.floating):
        return plain(float(value))
    if isinstance(value, np.ndarray):
        return _array_values(value)
    if isinstance(value, pd.DataFrame):
        return _frame_rows(value)
    if isinstance(value, pd.Series):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    return str(value)


def _numbers(values: np.ndarray) -> list[Any]:
    """A 1-d numeric array as Python numbers, non-finite floats as None."""
    if values.dtype.kind != "f":
        return values.tolist()  # bool -> bool, integer -> int
    boxed = values.astype(np.float64).astype(object)  # Python floats
    boxed[~np.isfinite(values)] = None
    return boxed.tolist()


def _array_values(array: np.ndarray) -> list[Any]:
    if array.ndim == 1 and array.dtype.kind in "fbiu":
        return _numbers(array)
    if array.ndim > 1 and array.dtype.kind in "fbiu":
        return [_array_values(part) for part in array]
    return [plain(v) for v in array.tolist()]


def _column_values(frame: pd.DataFrame, position: int) -> list[Any]:
    """One column's cells as ``plain(to_dict(orient="records")[row][column])`` gives them."""
    column = frame.iloc[:, position]
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fbiu":
        return _numbers(column.to_numpy())
    values = column.tolist()
    if set(map(type, values)) <= _UNCHANGED:  # text without missing cells, the common case
        return values
    # missing cells, numpy scalars in object columns, extension types: pandas' own boxing, then plain
    return [plain(next(iter(row.values()))) for row in frame.iloc[:, [position]].to_dict(orient="records")]


def _frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``[{column: value}]`` per row, as ``frame.to_dict(orient="records")`` then ``plain`` on each value."""
    keys = [str(k) for k in frame.columns]
    if not frame.columns.is_unique or len(set(keys)) != len(keys):
        return [{str(k): plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    if not keys:
        return [{} for _ in range(len(frame))]
    columns = [_column_values(frame, j) for j in range(frame.shape[1])]
    return [dict(zip(keys, row)) for row in zip(*columns)]


def _by_metric(frame: pd.DataFrame) -> dict[str, Any]:
    return {str(metric): {str(k): plain(v) for k, v in row.items()} for metric, row in frame.iterrows()}


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    """The documented JSON structure (docs/analysis-json.md) as plain Python objects."""
    return _document(analysis, plain)


def _document(analysis: Analysis, table: Callable[[pd.DataFrame], Any]) -> dict[str, Any]:
    """The JSON structure, with each table (a DataFrame written as a list of rows) given to ``table``."""
    return {
        "schema": "insole.analysis",
        "schema_version": analysis.provenance.get("schema_version"),
        "provenance": plain(analysis.provenance),
        "quality": plain(analysis.quality),
        "events": {
            side: {
                "heel_strike_s": plain(events.heel_strike_s),
                "toe_off_s": plain(events.toe_off_s),
                "heel_strike_confidence": plain(events.heel_strike_confidence),
                "toe_off_confidence": plain(events.toe_off_confidence),
                "contacts": table(events.contacts),
            }
            for side, events in analysis.events.items()
        },
        "strides": {side: table(frame) for side, frame in analysis.strides.items()},
        "steps": {side: table(frame) for side, frame in analysis.steps.items()},
        "summary": _summary(analysis),
        "curves": {side: {c: plain(curve[c].to_numpy()) for c in curve.columns}
                   for side, curve in analysis.curves.items()},
        "regions": {side: table(frame) for side, frame in analysis.regions.items()},
        "sensors": {side: table(frame) for side, frame in analysis.sensors.items()},
    }


def _summary(analysis: Analysis) -> dict[str, Any]:
    """The document's ``summary``, as plain Python objects."""
    summary = analysis.summary
    return {
        "cadence_steps_per_min": plain(summary.cadence_steps_per_min),
        "stride_time_cv_pct": plain(summary.stride_time_cv_pct),
        "stride_time_robust_cv_pct": plain(summary.stride_time_robust_cv_pct),
        "stride_time_sd_s": plain(summary.stride_time_sd_s),
        "strides_used": plain(summary.strides_used),
        "stride_time_variability_pct": plain(summary.stride_time_variability_pct),
        "stance_time_variability_pct": plain(summary.stance_time_variability_pct),
        "timing_variability": plain(summary.timing_variability),
        "body_weight": plain(summary.body_weight),
        "standing": plain(summary.standing),
        "per_foot": _by_metric(summary.per_foot),
        "symmetry": _by_metric(summary.symmetry),
    }


def dumps(data: Mapping[str, Any], indent: int | None = 1) -> str:
    """``json.dumps(data, indent=indent, allow_nan=False, ensure_ascii=False)``, the same text, faster."""
    if indent is None:
        return json.dumps(data, allow_nan=False, ensure_ascii=False)
    try:
        return "".join(_IndentedWriter(indent, data).write(data, 0))
    except _Unusual:
        # anything outside dict/list/tuple/str/int/float/bool/None: json's own rules (and errors) apply
        return json.dumps(data, indent=indent, allow_nan=False, ensure_ascii=False)


def analysis_to_json(analysis: Analysis, indent: int | None = 1) -> str:
    """``dumps(analysis_to_dict(analysis), indent)``, the same text, written from the tables without row dicts."""
    if indent is None:
        return dumps(analysis_to_dict(analysis), indent=None)
    return "".join(_analysis_parts(analysis, indent))


def write_json(analysis: Analysis, out: Any, indent: int | None = 1, *, force: bool = False, full: bool = False,
               tables: Mapping[str, Any] | None = None) -> None:
    """Write the lean document (``lean_json``; what ``insole analyze --json`` writes) to a path or a text file.

    ``full=True`` writes the whole structure instead, ``analysis_to_json(analysis, indent)`` (every table
    as rows; some 50 MB for an hour), piece by piece without joining it first. ``tables`` (lean only)
    says where the Parquet tables went. A path is written atomically (a temporary file beside it,
    renamed once complete: a crash leaves the old file or the new one); ``force=False`` refuses to
    replace an existing file (``OutputError``). A newline ends the text.
    """
    if isinstance(out, (str, Path)):
        from insole._output import atomic_write

        with atomic_write(out, force=force) as handle:
            write_json(analysis, handle, indent, full=full, tables=tables)
        return
    if not full:
        out.write(lean_json(analysis, tables) + "\n")
        return
    if indent is None:
        out.write(analysis_to_json(analysis, None))
    else:
        out.writelines(_analysis_parts(analysis, indent))
    out.write("\n")


def _analysis_parts(analysis: Analysis, indent: int | str) -> list[str]:
    document = _document(analysis, _Table)
    try:
        return _IndentedWriter(indent, document).write(document, 0)
    except _Unusual:
        return [json.dumps(analysis_to_dict(analysis), indent=indent, allow_nan=False, ensure_ascii=False)]


@dataclass(frozen=True, eq=False)
class _Table:
    """A DataFrame to be written as its list of rows (``plain(frame)``) without building the rows."""

    frame: pd.DataFrame


_SCALARS = frozenset({str, int, float, bool, type(None)})
_UNCHANGED = frozenset({str, int, bool, type(None)})  # what plain() returns as it is
_encode_text = json.encoder.encode_basestring  # what json writes for a str with ensure_ascii=False
_BOOLEAN = {True: "true", False: "false"}


class _Unusual(Exception):
    """A value this writer leaves to ``json`` itself."""


class _IndentedWriter:
    """json's indented layout, written in large pieces.

    Tables (a ``_Table``, or a list of dicts with the same string keys and
    scalar values) are written with one ``%`` template per row from their
    columns' texts; their float cells, most of the work, are formatted with
    ``repr`` once per distinct value over the whole document (the stride
    tables repeat the step tables' stance metrics). Every other all-scalar
    container goes to the C encoder in one call: with an item separator of
    ``",\\n" + indentation`` it lays out one level exactly as the indented
    encoder does, and only the brackets need their newlines. Encoded strings
    never hold a raw newline (json escapes it), so the only raw newlines are
    the ones the layout adds.
    """

    def __init__(self, indent: int | str, document: Any) -> None:
        self.unit = " " * indent if isinstance(indent, int) else str(indent)
        self._encoders: dict[int, json.JSONEncoder] = {}
        self._key = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
        # id(table) -> (names, columns): each column a list of cell texts, or an index into the float pool
        self._tables: dict[int, tuple[list[str], list[Any]]] = {}
        self._float_columns: list[np.ndarray] = []
        self._float_texts: list[Any] = []
        self._find_tables(document)
        self._format_floats()

    # -- tables

    def _find_tables(self, value: Any) -> None:
        kind = type(value)
        if kind is _Table:
            self._add_frame(value.frame)
        elif kind is dict:
            for member in value.values():
                if type(member) not in _SCALARS:
                    self._find_tables(member)
        elif kind is list or kind is tuple:
            if value and set(map(type, value)) == {dict}:
                self._add_rows(value)
            else:
                for member in value:
                    if type(member) not in _SCALARS:
                        self._find_tables(member)

    def _add_frame(self, frame: pd.DataFrame) -> None:
        keys = [str(k) for k in frame.columns]
        if not keys or not len(frame) or len(set(keys)) != len(keys) or not frame.columns.is_unique:
            return  # written from plain(frame) instead
        columns: list[Any] = []
        for position in range(len(keys)):
            dtype = frame.dtypes.iloc[position]
            if isinstance(dtype, np.dtype) and dtype.kind in "fbiu":
                values = frame.iloc[:, position].to_numpy()
                if dtype.kind == "f":
                    columns.append(self._pool(values.astype(np.float64)))
                elif dtype.kind == "b":
                    columns.append(np.where(values, "true", "false").tolist())
                else:
                    columns.append(list(map(int.__repr__, values.tolist())))
                continue
            texts = self._scalar_texts(_column_values(frame, position))
            if texts is None:
                return
            columns.append(texts)
        self._tables[id(frame)] = (keys, columns)

    def _add_rows(self, rows: Any) -> None:
        keys = tuple(rows[0])
        if not keys or set(map(type, keys)) != {str} or set(map(tuple, rows)) != {keys}:
            return
        columns: list[Any] = []
        for cells in zip(*map(dict.values, rows)):  # every row has the keys in the same order
            kinds = set(map(type, cells))
            if float in kinds and kinds <= {float, type(None)}:
                values = np.array(cells, dtype=np.float64)  # None -> NaN
                if np.count_nonzero(np.isnan(values)) != cells.count(None) or np.isinf(values).any():
                    return  # a NaN or infinity: json's encoder raises, and so must we
                columns.append(self._pool(values))
                continue
            texts = self._scalar_texts(cells)
            if texts is None:
                return
            columns.append(texts)
        self._tables[id(rows)] = (list(keys), columns)

    def _scalar_texts(self, cells: Any) -> list[str] | None:
        kinds = set(map(type, cells))
        if kinds == {str}:
            return list(map(_encode_text, cells))
        if kinds == {int}:
            return list(map(int.__repr__, cells))
        if kinds == {bool}:
            return list(map(_BOOLEAN.__getitem__, cells))
        if kinds <= _SCALARS:
            try:
                return [self._key.encode(v) for v in cells]
            except ValueError:
                return None  # a NaN or infinity: left to the encoder, which raises
        return None

    def _pool(self, values: np.ndarray) -> int:
        """Queue a float column for formatting; its index in the pool (NaN cells are written null)."""
        self._float_columns.append(values)
        return len(self._float_columns) - 1

    def _format_floats(self) -> None:
        if not self._float_columns:
            return
        texts = _float_texts(np.concatenate(self._float_columns))  # every queued column's values, formatted once
        start = 0
        for column in self._float_columns:
            self._float_texts.append(texts[start : start + column.size])
            start += column.size

    def _table(self, key: int, depth: int) -> str:
        names, columns = self._tables[key]
        cells = [self._float_texts[c] if type(c) is int else c for c in columns]
        outer, inner = self.unit * (depth + 1), self.unit * (depth + 2)
        encoded = [self._key.encode(name).replace("%", "%%") for name in names]
        row = "{\n" + inner + (",\n" + inner).join(f"{name}: %s" for name in encoded) + "\n" + outer + "}"
        rows = (",\n" + outer).join([row % texts for texts in zip(*cells)])
        return "[\n" + outer + rows + "\n" + self.unit * depth + "]"

    # -- everything else

    def _encoder(self, depth: int) -> json.JSONEncoder:
        """Items of a container opened at ``depth``, one per line."""
        encoder = self._encoders.get(depth)
        if encoder is None:
            separator = ",\n" + self.unit * (depth + 1)
            encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(separator, ": "))
            self._encoders[depth] = encoder
        return encoder

    def write(self, value: Any, depth: int) -> list[str]:
        kind = type(value)
        if kind in _SCALARS:
            return [self._key.encode(value)]
        if kind is _Table:
            if id(value.frame) in self._tables:
                return [self._table(id(value.frame), depth)]
            return self.write(plain(value.frame), depth)
        if id(value) in self._tables:
            return [self._table(id(value), depth)]
        if kind is dict:
            members = value.values()
        elif kind is list or kind is tuple:
            members = value
        else:
            raise _Unusual
        if not members:
            return ["{}" if kind is dict else "[]"]
        types = set(map(type, members))
        if types <= _SCALARS:
            if kind is dict and not set(map(type, value)) <= _SCALARS:
                raise _Unusual
            return [self._open(self._encoder(depth).encode(value), depth)]
        if kind is not dict and types == {dict} and self._flat_rows(value):
            return [self._rows(value, depth)]
        return self._nested(value, kind, depth)

    def _open(self, encoded: str, depth: int) -> str:
        """``[a,\\n  b]`` -> ``[\\n  a,\\n  b\\n ]`` for a container opened at ``depth``."""
        return encoded[0] + "\n" + self.unit * (depth + 1) + encoded[1:-1] + "\n" + self.unit * depth + encoded[-1]

    @staticmethod
    def _flat_rows(rows: Any) -> bool:
        """Every row a non-empty dict of scalars under scalar keys (checked in C iterators, not per value in Python)."""
        if not all(rows):
            return False
        values = set(map(type, chain.from_iterable(map(dict.values, rows))))
        return values <= _SCALARS and set(map(type, chain.from_iterable(rows))) <= _SCALARS

    def _rows(self, rows: Any, depth: int) -> str:
        """A list of non-empty all-scalar dicts in one encoder call."""
        outer, inner = self.unit * (depth + 1), self.unit * (depth + 2)
        encoded = self._encoder(depth + 1).encode(rows)  # "[{k: v,\\n<inner>k: v},\\n<inner>{...}]"
        body = encoded[2:-2].replace("},\n" + inner + "{", "\n" + outer + "},\n" + outer + "{\n" + inner)
        return "[\n" + outer + "{\n" + inner + body + "\n" + outer + "}\n" + self.unit * depth + "]"

    def _nested(self, value: Any, kind: type, depth: int) -> list[str]:
        inside = "\n" + self.unit * (depth + 1)
        parts = ["{" if kind is dict else "["]
        first = True
        if kind is dict:
            for key, member in value.items():
                if type(key) not in _SCALARS:
                    raise _Unusual
                parts.append(inside if first else "," + inside)
                parts.append(self._key.encode({key: 0})[1:-4] + ": ")  # the key as json writes it
                parts.extend(self.write(member, depth + 1))
                first = False
        else:
            for member in value:
                parts.append(inside if first else "," + inside)
                parts.extend(self.write(member, depth + 1))
                first = False
        parts.append("\n" + self.unit * depth + ("}" if kind is dict else "]"))
        return parts


# ---------------------------------------------------------------- the lean file `insole analyze --json` writes

#: The schema of the lean document (``write_json``; the full ``to_dict`` structure keeps ``JSON_SCHEMA_VERSION``).
LEAN_SCHEMA_VERSION = "2.1"

#: The stride columns the lean document keeps (docs/analysis-json.md, "Stable keys"); every other column of
#: the stride table, and the step, contact, curve, region and sensor tables, go to the Parquet tables.
STRIDE_JSON_COLUMNS = (
    "stride", "heel_strike_s", "toe_off_s", "next_heel_strike_s", "stride_time_s", "stance_time_s",
    "swing_time_s", "used", "exclusion_reason",
)


def lean_document(analysis: Analysis, tables: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The lean JSON structure: the stable keys, the summary, quality and provenance; no per-stance tables.

    ``tables`` (optional) is recorded under ``"tables"``: where the full tables were written and their names.
    """
    return _lean(analysis, tables, lambda frame: _frame_rows(frame), plain)


def _lean(analysis: Analysis, tables: Mapping[str, Any] | None, strides: Callable[[pd.DataFrame], Any],
          events: Callable[[np.ndarray], Any]) -> dict[str, Any]:
    """The lean structure with each foot's stride table (its lean columns) given to ``strides`` and each event
    array to ``events``: only the parts the lean document keeps are converted (not the steps, curves, regions,
    sensors and event confidences the full document's ``_document`` converts)."""
    provenance = plain(analysis.provenance)
    provenance["schema_version"] = LEAN_SCHEMA_VERSION
    document: dict[str, Any] = {
        "schema": "insole.analysis",
        "schema_version": LEAN_SCHEMA_VERSION,
        "provenance": provenance,
        "quality": plain(analysis.quality),
        "events": {side: {"heel_strike_s": events(found.heel_strike_s), "toe_off_s": events(found.toe_off_s)}
                   for side, found in analysis.events.items()},
        "strides": {side: strides(frame[[c for c in STRIDE_JSON_COLUMNS if c in frame.columns]])
                    for side, frame in analysis.strides.items()},
        "summary": _summary(analysis),
    }
    if tables is not None:
        document["tables"] = plain(dict(tables))
    return document


def lean_json(analysis: Analysis, tables: Mapping[str, Any] | None = None) -> str:
    """The lean document as text: indented by one space, but each stride row and each event list on one line.

    Numbers are written as ``json`` writes them (shortest exact form), so every value equals the full document's.
    The text is ``json.dumps(lean_document(...), indent=1)`` with each stride table and event list replaced by
    its compact form (``_compact`` of each row, ``_compact`` of each list); the stride rows are written from
    their columns' texts (``_row_texts``), not one encoder call per row dict.
    """
    place = _PLACE
    while True:
        text, pieces = _held_text(analysis, tables, place)
        marker = json.dumps(place)[1:-1]  # as json escapes it
        if text.count(marker) == 2 * len(pieces):  # the placeholders' own, and no other text of the document
            break
        place += "+"  # some text of the document holds the marker: another one, not in it
    # each placeholder is written as a JSON string: its piece goes in its place, in one pass over the text
    parts = text.split('"' + marker)
    out = [parts[0]]
    for part in parts[1:]:
        number, _, rest = part.partition(marker + '"')
        out += [pieces[int(number)], rest]
    return "".join(out)


def _held_text(analysis: Analysis, tables: Mapping[str, Any] | None, place: str) -> tuple[str, list[str]]:
    """The indented lean text with each stride table and event list held out (a placeholder ``place<n>place``
    in its place), and the compact texts held."""
    pieces: list[str] = []

    def hold(text: str) -> str:
        pieces.append(text)
        return f"{place}{len(pieces) - 1}{place}"

    def stride_rows(frame: pd.DataFrame) -> str:
        rows = _row_texts(frame)
        if rows is None:  # a column of something else than plain scalars: row by row, as json writes them
            rows = list(map(_compact.encode, _frame_rows(frame)))
        return hold("[\n   " + ",\n   ".join(rows) + "\n  ]" if rows else "[]")

    document = _lean(analysis, tables, stride_rows, lambda values: hold(_compact.encode(plain(values))))
    return json.dumps(document, indent=1, allow_nan=False, ensure_ascii=False), pieces


# what stands for a piece of the lean text while the rest is encoded (a text no analysis writes)
_PLACE = "\x00lean-piece\x00"
_compact = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _row_texts(frame: pd.DataFrame) -> list[str] | None:
    """Each row of ``frame`` as ``_compact.encode`` writes its dict of ``_frame_rows(frame)``, from one ``%``
    template and each column's cell texts (None: a column this does not write, for the encoder instead).

    The float columns' cells are formatted once per distinct value of the table (times at 100 Hz repeat)."""
    keys = [str(k) for k in frame.columns]
    if not keys or not len(frame) or len(set(keys)) != len(keys) or not frame.columns.is_unique:
        return None
    columns: list[Any] = []
    floats: list[np.ndarray] = []
    for position in range(len(keys)):
        dtype = frame.dtypes.iloc[position]
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            floats.append(frame.iloc[:, position].to_numpy().astype(np.float64))
            columns.append(len(floats) - 1)
            continue
        texts = _cell_texts(_column_values(frame, position))
        if texts is None:
            return None
        columns.append(texts)
    if floats:
        float_texts = _float_texts(np.concatenate(floats))
        columns = [float_texts[c * len(frame):(c + 1) * len(frame)] if type(c) is int else c for c in columns]
    template = "{" + ", ".join(_compact.encode(key).replace("%", "%%") + ": %s" for key in keys) + "}"
    return [template % cells for cells in zip(*columns)]


def _float_texts(values: np.ndarray) -> list[str]:
    """Each value as json writes a float (``float.__repr__``), NaN and infinities as null (as ``plain`` makes
    them None); each distinct value (by its bits: -0.0 keeps its sign) formatted once."""
    finite = np.isfinite(values)
    bits, inverse = np.unique(values[finite].view(np.int64), return_inverse=True)
    distinct = np.array([*map(float.__repr__, bits.view(np.float64).tolist()), "null"], dtype=object)
    index = np.full(values.shape, bits.size, dtype=np.intp)
    index[finite] = inverse.reshape(-1)
    texts: list[str] = distinct[index].tolist()
    return texts


def _null(_: None) -> str:
    return "null"


# the text json writes for a cell of each plain type (a float only when finite: checked by the caller)
_CELL_TEXT: dict[type, Callable[[Any], str]] = {
    str: _encode_text, int: int.__repr__, bool: _BOOLEAN.__getitem__, type(None): _null, float: float.__repr__,
}


def _cell_texts(cells: list[Any]) -> list[str] | None:
    """The JSON text of each of a column's cells (as ``plain`` made them), as the encoder writes it (None: a cell
    of another type, or a float NaN or infinity, which the encoder refuses: left to it)."""
    kinds = set(map(type, cells))
    if not kinds <= _CELL_TEXT.keys():
        return None
    if float in kinds and not all(math.isfinite(cell) for cell in cells if type(cell) is float):
        return None
    if len(kinds) == 1:
        return list(map(_CELL_TEXT[kinds.pop()], cells))
    return [_CELL_TEXT[type(cell)](cell) for cell in cells]

"""CSV export: one row per sample time, both feet side by side, plus a JSON sidecar with provenance.

Columns (docs/recording-format.md, "CSV export")::

    time_s,
    left_valid, left_<sensor>_<unit> ... , [left_accel_{x,y,z}_g, left_gyro_{x,y,z}_dps], [left_<channel> ...],
    right_valid, right_<sensor>_<unit> ..., ...

``<side>_valid`` is 1 for a valid sample, 0 for a marked gap (its values are
empty), and empty when that foot has no sample slot at that time (feet with
separate clocks). Numbers are written in their shortest exact form (float32
sensor values as float32, times as float64), so reading the CSV back gives
the stored values. The sidecar ``<out>.json`` holds the recording's full
description (layout, unit, rate, metadata, reference events, marks) and how
the export was made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insole._output import atomic_write, check_target
from insole._recording import Recording
from insole._version import __version__
from insole.io._format import _description, sensor_columns

__all__ = ["write_csv", "csv_columns", "spreadsheet_safe", "safe_cell", "CSV_FORMAT", "CSV_FORMAT_VERSION"]

CSV_FORMAT = "insole-csv"
CSV_FORMAT_VERSION = 1
_AXES = ("x", "y", "z")
# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula; else unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _one_row_cell(value: Any) -> Any:
    # a carriage return inside a cell is not quoted by the CSV writer (its line end is "\n") and most readers
    # take it for the end of a row: written as the two characters \r instead
    value = safe_cell(value)
    return value.replace("\r", "\\r") if isinstance(value, str) else value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot start a formula (``safe_cell``).

    Only text (object and string) columns are looked at: numeric columns,
    negative numbers included, are written as they are. A carriage return in
    a text cell (a file name can hold one) is written as ``\r``, so that the
    cell stays in its row for every reader.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(_one_row_cell)
    renames: dict[Hashable, Any] = {c: safe_cell(c) for c in out.columns if isinstance(c, str)}
    if any(k != v for k, v in renames.items()):
        out = out.rename(columns=renames)
    if out.index.name is not None:
        out.index.name = safe_cell(out.index.name)
    return out


def _foot_frame(recording: Recording, side: str) -> pd.DataFrame:
    foot = recording.samples(side)
    columns: dict[str, Any] = {f"{side}_valid": pd.array(foot.valid.astype(np.int8), dtype="Int8")}
    for j, name in enumerate(sensor_columns(recording.layout, recording.unit)):
        columns[f"{side}_{name}"] = foot.values[:, j]
    if foot.accel_g is not None:
        for k, axis in enumerate(_AXES):
            columns[f"{side}_accel_{axis}_g"] = foot.accel_g[:, k]
    if foot.gyro_dps is not None:
        for k, axis in enumerate(_AXES):
            columns[f"{side}_gyro_{axis}_dps"] = foot.gyro_dps[:, k]
    for name in sorted(foot.channels):
        columns[f"{side}_{name}"] = foot.channels[name]
    return pd.DataFrame(columns, index=pd.Index(foot.time_s, name="time_s"))


def csv_columns(recording: Recording) -> list[str]:
    """The header of the CSV that ``write_csv`` writes for ``recording``."""
    names = ["time_s"]
    for side in recording.sides:
        names += list(_foot_frame(recording, side).columns)
    return names


def write_csv(recording: Recording, path: str | Path, *, delimiter: str = ",", force: bool = False
              ) -> tuple[Path, Path]:
    """Write the CSV and its ``.json`` sidecar (both via a temporary name, then renamed); return both paths.

    An existing CSV or sidecar is an ``OutputError`` unless ``force``.
    """
    path = Path(path)
    sidecar = path.with_name(path.name + ".json")
    for target in (path, sidecar):
        check_target(target, force=force)
    frames = [_foot_frame(recording, side) for side in recording.sides]
    table = pd.concat(frames, axis=1, join="outer").sort_index()
    for side in recording.sides:  # a foot without a slot at this time: valid stays empty, not 0
        table[f"{side}_valid"] = table[f"{side}_valid"].astype("Int8")
    description = _description(recording)
    payload = {
        "format": CSV_FORMAT,
        "format_version": CSV_FORMAT_VERSION,
        "writer": f"insole {__version__}",
        "csv_file": path.name,
        "delimiter": delimiter,
        "columns": ["time_s", *table.columns],  # as the recording names them (the CSV header may quote some)
        "rows": int(len(table)),
        "recording": description,
    }
    text = json.dumps(payload, indent=1, allow_nan=False) + "\n"
    with atomic_write(path, "w", force=force, newline="") as handle:
        spreadsheet_safe(table).to_csv(handle, sep=delimiter, na_rep="", lineterminator="\n", float_format=None)
    with atomic_write(sidecar, "w", force=force) as handle:
        handle.write(text)
    return path, sidecar

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
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insole._recording import Recording
from insole._version import __version__
from insole.io._format import _description, sensor_columns

__all__ = ["write_csv", "csv_columns", "CSV_FORMAT", "CSV_FORMAT_VERSION"]

CSV_FORMAT = "insole-csv"
CSV_FORMAT_VERSION = 1
_AXES = ("x", "y", "z")


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


def write_csv(recording: Recording, path: str | Path, *, delimiter: str = ",") -> tuple[Path, Path]:
    """Write the CSV and its ``.json`` sidecar (both via a temporary name, then renamed); return both paths."""
    path = Path(path)
    frames = [_foot_frame(recording, side) for side in recording.sides]
    table = pd.concat(frames, axis=1, join="outer").sort_index()
    for side in recording.sides:  # a foot without a slot at this time: valid stays empty, not 0
        table[f"{side}_valid"] = table[f"{side}_valid"].astype("Int8")
    tmp = path.with_name(path.name + ".partial")
    table.to_csv(tmp, sep=delimiter, na_rep="", lineterminator="\n", float_format=None)
    sidecar = path.with_name(path.name + ".json")
    description = _description(recording)
    payload = {
        "format": CSV_FORMAT,
        "format_version": CSV_FORMAT_VERSION,
        "writer": f"insole {__version__}",
        "csv_file": path.name,
        "delimiter": delimiter,
        "columns": ["time_s", *table.columns],
        "rows": int(len(table)),
        "recording": description,
    }
    sidecar_tmp = sidecar.with_name(sidecar.name + ".partial")
    sidecar_tmp.write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n")
    os.replace(tmp, path)
    os.replace(sidecar_tmp, sidecar)
    return path, sidecar

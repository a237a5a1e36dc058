"""Tables out: per-stride and summary tables (and our footprint table) as CSV and Parquet.

``write_tables`` takes named pandas DataFrames, or an analysis result that
offers them, and writes ``<name>.csv`` and ``<name>.parquet`` for each, plus
``tables.json`` saying how they were made (insole version, input, analysis
parameters when the result carries them). Parquet keeps dtypes; CSV writes
every float in its shortest exact form and missing values as empty fields,
and text cells that a spreadsheet would run as a formula get a leading
quote (``spreadsheet_safe``; the Parquet files keep the text as it is).
Existing files are refused unless ``force``, all of them before anything
is written; each file appears whole or not at all (``insole._output``).

``analysis_tables`` of an ``insole.analyze`` result are its own long-form
tables (``Analysis.strides_frame()`` and the like) and summary, nothing
recomputed: the numbers are those the report and the dashboard show.

``footprint_table`` is a footprint measure of any recording, walking or not,
from ``insole.analysis``' footprint maps: per foot and region group, the
largest value over the whole recording, the largest sensor's whole-recording
time integral, the largest contact area and the arch index (Cavanagh &
Rodgers). It is not a per-stance mean: the analysis' per-stance load maps
are the ``sensors`` table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insole._errors import AnalysisError, OutputError
from insole._output import atomic_path, atomic_write, check_target
from insole._recording import Recording
from insole._recording_format import TABLE_KEY
from insole._version import __version__
from insole.analysis import Analysis, arch_index, peak_pressure_map, pressure_time_integral_map
from insole.io._export._csv import spreadsheet_safe

__all__ = ["analysis_tables", "footprint_table", "write_tables"]

_GROUPS = ("heel", "midfoot", "forefoot", "toes", "medial_forefoot", "lateral_forefoot")


def analysis_tables(analysis: Any) -> dict[str, pd.DataFrame]:
    """The named DataFrames of an analysis result.

    An ``insole.analyze`` result gives ``strides``, ``steps``, ``contacts``,
    ``curves``, ``regions`` and ``sensors`` (its long-form frames: one row per
    stride, step, detected contact, percent of stance, region group or sensor,
    with a ``side`` column), ``summary_per_foot``,
    ``summary_symmetry`` and the ``summary`` row of its plain numbers.

    Also accepted: a mapping of name -> DataFrame; an object with a ``tables()``
    method returning one; or an analysis object whose attributes are
    DataFrames (``strides``, ``summary``), mappings side -> DataFrame
    (``strides``, ``steps``, ``regions``: stacked with a ``side`` column), or a
    summary object whose DataFrame attributes become ``summary_<name>`` and
    whose plain numbers become one ``summary`` row.
    """
    if isinstance(analysis, Analysis):
        tables = {"strides": analysis.strides_frame(), "steps": analysis.steps_frame(),
                  "contacts": _contacts(analysis), "curves": _stack_sides(analysis.curves),
                  "regions": analysis.regions_frame(), "sensors": analysis.sensors_frame(),
                  **_summary_tables(analysis.summary),
                  "summary_body_weight": _body_weight(analysis.summary.body_weight),
                  "summary_standing": _standing(analysis.summary.standing)}
    elif isinstance(analysis, Mapping):
        tables = dict(analysis)
    elif callable(getattr(analysis, "tables", None)):
        tables = dict(analysis.tables())
    else:
        tables = {}
        for name in ("strides", "stride_table", "steps", "regions", "summary", "summary_table"):
            value = getattr(analysis, name, None)
            value = value() if callable(value) and not isinstance(value, pd.DataFrame) else value
            key = name.replace("_table", "")
            if isinstance(value, pd.DataFrame):
                tables.setdefault(key, value)
            elif isinstance(value, Mapping) and value and all(isinstance(v, pd.DataFrame) for v in value.values()):
                tables.setdefault(key, _stack_sides(value))
            elif value is not None and key == "summary":
                tables.update(_summary_tables(value))
    bad = [name for name, table in tables.items() if not isinstance(table, pd.DataFrame)]
    if bad or not tables:
        offered = ', '.join(bad) or type(analysis).__name__
        raise AnalysisError(f"the analysis result offers no tables to export ({offered})")
    return tables


def _contacts(analysis: Analysis) -> pd.DataFrame:
    """Every detected contact of both feet: ``side``, ``contact`` (its index in the foot's list), then its columns."""
    frames = {}
    for side, events in analysis.events.items():
        frame = events.contacts.reset_index(drop=True)
        frame.insert(0, "contact", np.arange(len(frame), dtype=np.int64))
        frames[side] = frame
    return _stack_sides(frames)


def _stack_sides(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for side, frame in frames.items():
        part = frame.reset_index(drop=frame.index.name is None)
        if "side" not in part.columns:
            part.insert(0, "side", side)
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _summary_tables(summary: Any) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    row: dict[str, Any] = {}
    fields = vars(summary) if hasattr(summary, "__dict__") else {}
    if not fields and hasattr(summary, "__dataclass_fields__"):
        fields = {name: getattr(summary, name) for name in summary.__dataclass_fields__}
    for name, value in fields.items():
        if isinstance(value, pd.DataFrame):
            tables[f"summary_{name}"] = value.reset_index(drop=value.index.name is None)
        elif _is_number(value):
            row[name] = _number(value)
        elif isinstance(value, Mapping) and value and all(_is_number(v) for v in value.values()):
            row.update({f"{name}_{k}": _number(v) for k, v in value.items()})
    if row:
        tables["summary"] = pd.DataFrame([row])
    return tables


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _number(value: Any) -> int | float:
    """A count stays an integer (``strides_used``: int64 in Parquet, as in the JSON); any other number a float."""
    return int(value) if isinstance(value, (int, np.integer)) else float(value)


def _body_weight(body_weight: Mapping[str, Any]) -> pd.DataFrame:
    """``summary.body_weight`` as one row: its keys as columns, the plausible ratio's two ends as ``_low``/``_high``."""
    row: dict[str, Any] = {}
    for key, value in body_weight.items():
        if key == "plausible_load_to_body_weight_ratio":
            low, high = value if isinstance(value, (list, tuple)) and len(value) == 2 else (None, None)
            row[f"{key}_low"], row[f"{key}_high"] = _plain(low), _plain(high)
        else:
            row[key] = _plain(value)
    frame = pd.DataFrame([row])
    for column in frame.columns:  # text (a null note too) and numbers (a null mass too), never a column of nulls
        text = column in ("note", "source", "method", "unit") or isinstance(frame[column].iloc[0], str)
        frame[column] = frame[column].astype("string") if text else pd.to_numeric(frame[column]).astype("float64")
    return frame


def _standing(standing: Mapping[str, Any] | None) -> pd.DataFrame:
    """``summary.standing`` as one row per standing segment: ``start_s``, ``end_s``, then the figures of all the
    standing together (``duration_s``, ``left_pct``, ``right_pct``, ...), the same on every row; no rows (only
    ``start_s`` and ``end_s``) when the recording has no standing."""
    segments = list((standing or {}).get("segments") or [])
    rest = {k: _plain(v) for k, v in (standing or {}).items() if k != "segments"}
    rows = [{"start_s": float(s["start_s"]), "end_s": float(s["end_s"]), **rest} for s in segments]
    if not rows:
        return pd.DataFrame({"start_s": pd.Series([], dtype="float64"), "end_s": pd.Series([], dtype="float64")})
    return pd.DataFrame(rows)


def _plain(value: Any) -> Any:
    """A number as int or float, a truth value as bool, anything else (text, None) as it is."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if _is_number(value):
        return _number(value)
    return value


def footprint_table(recording: Recording, threshold: float | None = None) -> pd.DataFrame:
    """Per foot and region group: peak (unit), largest sensor PTI (unit·s), max contact area (mm²), arch index."""
    level = threshold if threshold is not None else (10.0 if recording.unit == "kPa" else None)
    rows = []
    for side in recording.sides:
        peak = peak_pressure_map(recording, side)
        pti = pressure_time_integral_map(recording, side)
        if level is None:
            finite = peak[np.isfinite(peak)]
            side_level = 0.05 * float(finite.max()) if finite.size else 0.0
        else:
            side_level = float(level)
        areas_known = recording.layout.areas_known
        arch = arch_index(recording.layout, peak, side_level, unit=recording.unit)
        unit = recording.unit.lower()
        for group in ("whole_foot", *_GROUPS):
            if group == "whole_foot":
                mask = np.ones(recording.layout.n_sensors, dtype=bool)
            else:
                mask = recording.layout.region_mask(group)
            if not mask.any():
                continue
            rows.append({
                "side": side,
                "region": group,
                "n_sensors": int(mask.sum()),
                f"peak_{unit}": _max(peak[mask]),
                f"peak_pressure_time_integral_{unit}_s": _max(pti[mask]),
                "max_contact_area_mm2": (_max(_region_contact(recording, side, mask, side_level))
                                         if areas_known else np.nan),
                "arch_index": arch.value if group == "whole_foot" else np.nan,
                "arch_category": arch.category if group == "whole_foot" else "",
                "threshold": side_level,
            })
    return pd.DataFrame(rows)


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (null): tables.json stays JSON a strict reader accepts."""
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")


def _region_contact(recording: Recording, side: str, mask: np.ndarray, level: float) -> np.ndarray:
    foot = recording.samples(side)
    with np.errstate(invalid="ignore"):
        area = (foot.values[:, mask] > level).astype(np.float64) @ recording.layout.area_mm2[mask]
    area[~foot.valid] = np.nan
    return area


def _write_parquet_table(table: pd.DataFrame, name: str, path: Path) -> None:
    """``table.to_parquet(path, index=False)`` with the table's name and writer under ``TABLE_KEY`` in the file's
    metadata (pandas' own metadata kept: pandas reads the same frame back)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    ours = json.dumps({"table": name, "writer": f"insole {__version__}"}).encode()
    # a CRC-32 per page, as our recordings carry (a reader that asks, pyarrow's page_checksum_verification, finds
    # a damaged page)
    pq.write_table(arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), TABLE_KEY: ours}), path,
                   write_page_checksum=True)


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir: str | Path, *,
                 provenance: Mapping[str, Any] | None = None,
                 formats: tuple[str, ...] = ("csv", "parquet"), force: bool = False,
                 inputs: Iterable[str | Path] = ()) -> list[Path]:
    """Write each table as ``<name>.csv`` / ``<name>.parquet`` and a ``tables.json``; return the files.

    ``out_dir`` is created when its parent exists. Every target is checked
    first (``check_target``): an existing file without ``force``, or one of
    ``inputs`` even with it, is an ``OutputError`` and nothing is written.
    """
    out = check_target(out_dir, folder=True, inputs=inputs)
    for name in tables:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise OutputError(out / str(name), "is not a table name (letters, digits, _ and -; no folders)")
    targets = [out / f"{name}.{kind}" for name in tables for kind in ("csv", "parquet") if kind in formats]
    targets.append(out / "tables.json")
    for target in targets if out.is_dir() else ():  # a new folder holds nothing to refuse
        check_target(target, force=force, inputs=inputs)
    try:
        out.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(out, f"cannot be created ({error.strerror or error})") from None
    written: list[Path] = []
    for name, table in tables.items():
        if "csv" in formats:
            with atomic_write(out / f"{name}.csv", "w", force=force, newline="") as handle:
                spreadsheet_safe(table).to_csv(handle, index=False, lineterminator="\n")
            written.append(out / f"{name}.csv")
        if "parquet" in formats:
            with atomic_path(out / f"{name}.parquet", force=force) as temporary:
                _write_parquet_table(table, name, temporary)
            written.append(out / f"{name}.parquet")
    manifest = {
        "writer": f"insole {__version__}",
        "tables": {name: {"rows": int(len(t)), "columns": [str(c) for c in t.columns]}
                   for name, t in tables.items()},
        "provenance": dict(provenance or {}),
    }
    with atomic_write(out / "tables.json", "w", force=force) as handle:
        handle.write(json.dumps(_finite(manifest), indent=1, default=str, allow_nan=False) + "\n")
    written.append(out / "tables.json")
    return written

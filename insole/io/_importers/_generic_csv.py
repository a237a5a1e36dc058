"""Generic CSV/TSV with a column mapping (docs/generic-csv.md), and our own CSV export.

A delimited text file with a header row says nothing about which columns are
which foot's sensors, so a *mapping* says it: a small TOML or JSON file, given
with ``--map`` or lying beside the data as ``<data file>.map.toml`` /
``<data file>.map.json`` (then the file is recognised on its own). Example::

    sample_rate_hz = 100        # nominal rate (required)
    time_column = "t"           # optional; without it time = row index / rate
    time_unit = "s"             # "s" (default) or "ms"
    unit = "kPa"                # kPa | N | au, after scaling
    scale = 10.0                # optional: multiply sensor values (e.g. N/cm^2 -> kPa)
    layout = "insole16"         # a built-in layout; the sensor lists below follow its order
    shoe_size_eu = 42           # optional, scales size-dependent layouts
    left = ["L1", "L2", ...]    # one column per layout sensor (omit a foot that is absent)
    right = ["R1", "R2", ...]
    left_valid = "L_ok"         # optional: 1/0 column; else a row is invalid where any mapped field is empty
    left_accel_g = ["ax", "ay", "az"]     # optional IMU columns
    left_gyro_dps = ["gx", "gy", "gz"]
    delimiter = ","             # optional; guessed from the header line (tab, ';' or ',')
    header_line = 1             # optional 1-based line of the column names

    [left_channels]             # optional extra per-foot channels, named with their unit
    vendor_total_force_n = "Fz_L"

    [meta]                      # optional: subject_id, body_mass_kg, shoe_size_eu, condition, notes
    subject_id = "P01"

Empty fields and the words NaN/NA/null in mapped columns are gaps: that foot's
sample in that row is invalid, never filled. Our own CSV export (``insole
convert --to csv``) carries its mapping in its ``.json`` sidecar and reads
back to the same recording.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from insole._errors import InputError, MalformedFileError, RecordingError
from insole._layout import SensorLayout, get_layout
from insole._recording import SIDES, FootSamples, Mark, Recording, RecordingMeta, ReferenceEvents
from insole.io._importers._companions import beside
from insole.io._importers._table import importer_software, one_line, parse_numeric, provenance, read_text, split_rows

__all__ = ["IMPORTERS", "GenericCsvImporter", "load_with_mapping", "mapping_path_for", "MAPPING_KEYS"]

MAPPING_KEYS = {
    "sample_rate_hz", "time_column", "time_unit", "unit", "scale", "layout", "shoe_size_eu", "delimiter",
    "header_line", "left", "right", "left_valid", "right_valid", "left_accel_g", "right_accel_g",
    "left_gyro_dps", "right_gyro_dps", "left_channels", "right_channels", "meta",
    "format", "format_version",  # optional markers
}
_TIME_SCALE = {"s": 1.0, "ms": 1e-3}
_META_KEYS = ("subject_id", "body_mass_kg", "shoe_size_eu", "condition", "notes", "recorded_at")


def mapping_path_for(path: Path) -> Path | None:
    """The mapping (or our CSV export's sidecar) lying beside ``path``, if any."""
    for suffix in (".map.toml", ".map.json"):
        candidate = path.with_name(path.name + suffix)
        if beside(path, candidate):  # never a link leading out of the data's folder
            return candidate
    sidecar = path.with_name(path.name + ".json")
    if beside(path, sidecar):
        try:
            if json.loads(sidecar.read_text()).get("format") == "insole-csv":
                return sidecar
        except (OSError, ValueError, AttributeError):
            return None
    return None


@dataclass(frozen=True)
class _Mapping:
    raw: dict[str, Any]
    layout: SensorLayout
    unit: str
    sample_rate_hz: float
    description: dict[str, Any] | None  # our CSV export's full recording description


def _read_mapping(data_path: Path, mapping_path: Path) -> _Mapping:
    try:
        text = mapping_path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(mapping_path, f"column mapping cannot be read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise MalformedFileError(mapping_path, f"column mapping is not UTF-8 text (byte {error.start})") from None
    try:
        raw = tomllib.loads(text) if mapping_path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise MalformedFileError(
            mapping_path, f"column mapping is not valid {mapping_path.suffix[1:].upper()}: {one_line(error)}"
        ) from None
    if not isinstance(raw, dict):
        raise MalformedFileError(mapping_path, "column mapping must be a table/object")
    if raw.get("format") == "insole-csv":
        return _mapping_from_export(mapping_path, raw)
    unknown = sorted(set(raw) - MAPPING_KEYS)
    if unknown:
        raise MalformedFileError(mapping_path, f"unknown mapping key(s) {unknown} (see docs/generic-csv.md)")
    _check_types(mapping_path, raw)
    try:
        rate = float(raw["sample_rate_hz"])
        unit = str(raw.get("unit", "kPa"))
        layout = get_layout(str(raw.get("layout", "insole16")), shoe_size_eu=raw.get("shoe_size_eu"))
    except KeyError:
        raise MalformedFileError(mapping_path, "column mapping needs sample_rate_hz") from None
    except (TypeError, ValueError, RecordingError) as error:
        raise MalformedFileError(mapping_path, f"column mapping: {one_line(error)}") from None
    if not any(side in raw for side in SIDES):
        raise MalformedFileError(mapping_path, "column mapping names no sensor columns (keys 'left' and/or 'right')")
    for side in SIDES:
        if side in raw and len(raw[side]) != layout.n_sensors:
            raise MalformedFileError(
                mapping_path,
                f"'{side}' lists {len(raw[side])} columns but layout {layout.name} has {layout.n_sensors} sensors",
            )
    if str(raw.get("time_unit", "s")) not in _TIME_SCALE:
        raise MalformedFileError(mapping_path, f"time_unit must be one of {sorted(_TIME_SCALE)}")
    return _Mapping(raw=raw, layout=layout, unit=unit, sample_rate_hz=rate, description=None)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_names(value: Any, count: int | None = None) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value) and (count is None or len(value) == count)


def _is_channel_table(value: Any) -> bool:
    return isinstance(value, dict) and _is_names(list(value.values()))


# What each mapping key holds (docs/generic-csv.md); a key of another type is one line naming it.
_KEY_TYPES: dict[str, tuple[str, Any]] = {
    "sample_rate_hz": ("a number", _is_number),
    "scale": ("a number", _is_number),
    "shoe_size_eu": ("a number", _is_number),
    "time_column": ("a column name (text)", lambda v: isinstance(v, str)),
    "time_unit": ("text", lambda v: isinstance(v, str)),
    "unit": ("text", lambda v: isinstance(v, str)),
    "layout": ("a layout name (text)", lambda v: isinstance(v, str)),
    "delimiter": ("one or more characters", lambda v: isinstance(v, str) and v != ""),
    "header_line": ("a line number (1, 2, ...)", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1),
    "left": ("a list of column names", _is_names),
    "right": ("a list of column names", _is_names),
    "left_valid": ("a column name (text)", lambda v: isinstance(v, str)),
    "right_valid": ("a column name (text)", lambda v: isinstance(v, str)),
    "left_accel_g": ("a list of 3 column names", lambda v: _is_names(v, 3)),
    "right_accel_g": ("a list of 3 column names", lambda v: _is_names(v, 3)),
    "left_gyro_dps": ("a list of 3 column names", lambda v: _is_names(v, 3)),
    "right_gyro_dps": ("a list of 3 column names", lambda v: _is_names(v, 3)),
    "left_channels": ("a table of channel = column name", lambda v: _is_channel_table(v)),
    "right_channels": ("a table of channel = column name", lambda v: _is_channel_table(v)),
    "meta": ("a table", lambda v: isinstance(v, dict)),
}


def _check_types(mapping_path: Path, raw: dict[str, Any]) -> None:
    for key, (what, fits) in _KEY_TYPES.items():
        if key in raw and not fits(raw[key]):
            raise MalformedFileError(mapping_path, f"column mapping: {key} must be {what}, not {raw[key]!r:.40}")


def _mapping_from_export(sidecar: Path, payload: dict[str, Any]) -> _Mapping:
    """A mapping for a CSV written by ``insole convert --to csv`` (column names from our own convention)."""
    try:
        description = payload["recording"]
        layout = SensorLayout.from_dict(description["layout"])
        unit = description["unit"]
        rate = float(description["sample_rate_hz"])
        columns = list(payload["columns"])
    except (KeyError, TypeError, ValueError, RecordingError) as error:
        raise MalformedFileError(sidecar, f"insole CSV sidecar is incomplete ({one_line(error)})") from None
    suffix = {"kPa": "kpa", "N": "n", "au": "au"}[unit]
    raw: dict[str, Any] = {"time_column": "time_s", "delimiter": payload.get("delimiter", ",")}
    for side in description.get("sides", SIDES):
        raw[side] = [f"{side}_{name}_{suffix}" for name in layout.sensor_names]
        raw[f"{side}_valid"] = f"{side}_valid"
        if f"{side}_accel_x_g" in columns:
            raw[f"{side}_accel_g"] = [f"{side}_accel_{a}_g" for a in "xyz"]
        if f"{side}_gyro_x_dps" in columns:
            raw[f"{side}_gyro_dps"] = [f"{side}_gyro_{a}_dps" for a in "xyz"]
        known = {f"{side}_valid", *raw[side], *raw.get(f"{side}_accel_g", []), *raw.get(f"{side}_gyro_dps", [])}
        raw[f"{side}_channels"] = {
            c[len(side) + 1 :]: c for c in columns if c.startswith(f"{side}_") and c not in known
        }
    return _Mapping(raw=raw, layout=layout, unit=unit, sample_rate_hz=rate, description=description)


def _guess_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in ("\t", ";", ",")}
    return max(counts, key=counts.__getitem__) if max(counts.values()) else ","


def load_with_mapping(path: str | Path, mapping_path: str | Path) -> Recording:
    """Read a delimited text file using the column mapping in ``mapping_path``."""
    path, mapping_path = Path(path), Path(mapping_path)
    if not path.is_file():
        raise InputError(path, "no such file")
    mapping = _read_mapping(path, mapping_path)
    raw = mapping.raw
    text = read_text(path, encoding="utf-8-sig")
    ended_with_newline = text.endswith("\n")
    lines = text.split("\n")
    if ended_with_newline:
        lines = lines[:-1]
    header_index = int(raw.get("header_line", 0)) - 1
    if header_index < 0:
        header_index = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), 0)
    if header_index >= len(lines):
        raise MalformedFileError(path, f"has no header line {header_index + 1}")
    delimiter = raw.get("delimiter") or _guess_delimiter(lines[header_index])
    names = [n.strip().strip('"') for n in lines[header_index].split(delimiter)]
    position = {name: k for k, name in enumerate(names)}

    def column(name: str) -> int:
        if name not in position:
            raise MalformedFileError(path, f"has no column {name!r} named in the mapping {mapping_path.name}")
        return position[name]

    table = split_rows(path, lines[header_index + 1 :], header_index + 2, delimiter, len(names),
                       ended_with_newline=ended_with_newline)
    time_column = raw.get("time_column")
    if time_column:
        times, _ = parse_numeric(path, table, [column(time_column)], [time_column], allow_empty=False)
        time_s = times[:, 0] * _TIME_SCALE[str(raw.get("time_unit", "s"))]
    else:
        time_s = np.arange(table.n_rows, dtype=np.float64) / mapping.sample_rate_hz
    scale = float(raw.get("scale", 1.0))
    feet: dict[str, FootSamples | None] = {"left": None, "right": None}
    for side in SIDES:
        if side not in raw:
            continue
        names_used = list(raw[side]) + list(raw.get(f"{side}_accel_g", [])) + list(raw.get(f"{side}_gyro_dps", []))
        channel_map = dict(raw.get(f"{side}_channels", {}))
        names_used += list(channel_map.values())
        values, empty = parse_numeric(path, table, [column(n) for n in names_used], names_used,
                                      allow_empty=True, missing_words_are_empty=True)
        by_name = dict(zip(names_used, values.T))
        rows = np.ones(table.n_rows, dtype=bool)
        if raw.get(f"{side}_valid"):
            flag_name = raw[f"{side}_valid"]
            flags, flag_empty = parse_numeric(path, table, [column(flag_name)], [flag_name], allow_empty=True)
            # our CSV export leaves the flag empty where this foot has no sample slot at all
            rows = ~flag_empty[:, 0]
            valid = flags[:, 0] != 0
        else:
            valid = ~empty.any(axis=1)
        n_sensors = len(raw[side])
        sensors = values[:, :n_sensors] * scale
        accel = np.column_stack([by_name[n] for n in raw[f"{side}_accel_g"]]) if raw.get(f"{side}_accel_g") else None
        gyro = np.column_stack([by_name[n] for n in raw[f"{side}_gyro_dps"]]) if raw.get(f"{side}_gyro_dps") else None
        try:
            feet[side] = FootSamples(
                time_s=time_s[rows],
                values=sensors[rows],
                valid=valid[rows],
                accel_g=accel[rows] if accel is not None else None,
                gyro_dps=gyro[rows] if gyro is not None else None,
                channels={name: by_name[col][rows] for name, col in channel_map.items()},
            )
        except RecordingError as error:
            raise MalformedFileError(path, f"{side} foot: {one_line(error)}") from None
    return _recording(path, mapping_path, mapping, feet)


def _recording(path: Path, mapping_path: Path, mapping: _Mapping, feet: dict[str, FootSamples | None]) -> Recording:
    description = mapping.description
    try:
        if description is not None:  # our own export: everything but the samples comes from the sidecar
            events = description.get("reference_events")
            return Recording(
                layout=mapping.layout,
                unit=mapping.unit,
                sample_rate_hz=mapping.sample_rate_hz,
                left=feet["left"],
                right=feet["right"],
                meta=RecordingMeta.from_dict(description.get("meta") or {}),
                reference_events=ReferenceEvents.from_dict(events) if events else None,
                marks=tuple(Mark(float(m["time_s"]), str(m["label"]), str(m.get("kind", "mark")))
                            for m in description.get("marks") or ()),
            )
        given = dict(mapping.raw.get("meta") or {})
        meta_fields = {k: given.pop(k) for k in list(given) if k in _META_KEYS}
        source = provenance(path, "generic-csv")
        source["mapping"] = {"file": mapping_path.name, "content": mapping.raw}
        meta = RecordingMeta(
            **meta_fields,
            software=importer_software("generic-csv"),
            source=source,
            extra={"mapping_meta": given} if given else {},
        )
        return Recording(
            layout=mapping.layout,
            unit=mapping.unit,
            sample_rate_hz=mapping.sample_rate_hz,
            left=feet["left"],
            right=feet["right"],
            meta=meta,
        )
    except (RecordingError, TypeError) as error:
        raise MalformedFileError(path, f"with mapping {mapping_path.name}: {one_line(error)}") from None


@dataclass(frozen=True)
class GenericCsvImporter:
    name: str = "generic-csv"
    description: str = (
        "CSV/TSV with a column mapping (<file>.map.toml/.map.json beside it, or --map; docs/generic-csv.md); "
        "also our own CSV export"
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        return mapping_path_for(path) is not None

    def load(self, path: Path) -> Recording:
        path = Path(path)
        mapping = mapping_path_for(path)
        if mapping is None:
            raise InputError(
                path, f"a CSV/TSV file needs a column mapping: put it in {path.name}.map.toml beside the file "
                "or pass --map (see docs/generic-csv.md)"
            )
        return load_with_mapping(path, mapping)


IMPORTERS = (GenericCsvImporter(),)

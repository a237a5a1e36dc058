"""Moticon OpenGo text export (the OpenGo Software's "export as text").

Header lines start with ``#`` (``key: value``: start time, duration, insole
serials, size, recording type, name, notes, tag); the last ``#`` line names
the columns. Then one tab-separated row per sample (100 Hz) with, per foot,
16 pressures (N/cm^2), acceleration (g), angular velocity (deg/s), total force
(N) and centre of pressure (normalised, -0.5..+0.5), then event columns.

Columns are found by their names, so both variants seen in the wild import:
the 53-column export with the software's step events (``left steps[]`` /
``right steps[]``: 11/21 heel strike, 15/25 toe off of left/right) and the
57-column live export with manually set events (``Left Events[]``: 1 heel
strike, 2 mid-stance force minimum) and COP velocity.

An empty field means the insole sent nothing for that sample: the sample of
that foot in that row is invalid (the rest of its fields, if any, are kept as
given; the empty ones are NaN). Nothing else is ever marked invalid, and no
row is invented: where the time column jumps (a sample the software itself
dropped), the jump is listed in ``meta.extra["time_steps_over_nominal"]``.
Pressures are converted to kPa (1 N/cm^2 = 10 kPa).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from insole._errors import MalformedFileError
from insole._layout import get_layout
from insole._recording import FootSamples, Recording, RecordingMeta, ReferenceEvents, adopted_foot
from insole.io._importers._table import importer_software, parse_numeric, provenance, read_text, split_rows
from insole.io._importers._text_reading import (
    NotPlain,
    Store,
    TextScan,
    provenance_from_scan,
    read_columns,
    scan_text,
)

__all__ = ["IMPORTERS", "MoticonImporter"]

SAMPLE_RATE_HZ = 100.0
KPA_PER_N_PER_CM2 = 10.0
EVENT_SOURCE = "Moticon OpenGo Software"
_SIDES = ("left", "right")
_PRESSURE = re.compile(r"^(left|right) pressure (\d+)\s*\[N/cm", re.IGNORECASE)
_ACCEL = re.compile(r"^(left|right) acceleration ([XYZ])\s*\[g\]", re.IGNORECASE)
_GYRO = re.compile(r"^(left|right) angular ([XYZ])\s*\[dps\]", re.IGNORECASE)
_TOTAL = re.compile(r"^(left|right) total force\s*\[N\]", re.IGNORECASE)
_COP = re.compile(r"^(left|right) center of pressure ([XY])\s*\[", re.IGNORECASE)
_COP_VELOCITY = re.compile(r"^(left|right) COP velocity\s*\[", re.IGNORECASE)
_STEPS = re.compile(r"^(left|right) steps\s*\[", re.IGNORECASE)
_EVENTS = re.compile(r"^(left|right) Events\s*\[", re.IGNORECASE)
_EVENT_LABELS = re.compile(r"^(left|right) Events label\s*\[", re.IGNORECASE)
# OpenGo Software step codes (as decoded by Moticon's own moticon-opengo library)
_STEP_CODES = {
    11: ("left", "heel_strike"),
    15: ("left", "toe_off"),
    21: ("right", "heel_strike"),
    25: ("right", "toe_off"),
}
_MANUAL_CODES = {1: "heel_strike", 2: "midstance_force_minimum"}
_N_PRESSURES = 16
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class _Columns:
    """Where each quantity sits in the row (0-based column indices) per foot."""

    pressure: dict[str, list[int]]
    accel: dict[str, list[int]]
    gyro: dict[str, list[int]]
    total: dict[str, int]
    cop: dict[str, list[int]]
    cop_velocity: dict[str, int]
    steps: dict[str, int]
    events: dict[str, int]
    event_labels: dict[str, int]

    def foot_columns(self, side: str) -> list[int]:
        """Every measurement column of one foot (their emptiness makes the foot's sample invalid)."""
        found = [*self.pressure[side], *self.accel.get(side, []), *self.gyro.get(side, [])]
        found += [c for c in (self.total.get(side), self.cop_velocity.get(side)) if c is not None]
        found += self.cop.get(side, [])
        return found


def _find_columns(path: Path, names: list[str]) -> _Columns:
    pressure: dict[str, dict[int, int]] = {s: {} for s in _SIDES}
    accel: dict[str, dict[str, int]] = {s: {} for s in _SIDES}
    gyro: dict[str, dict[str, int]] = {s: {} for s in _SIDES}
    cop: dict[str, dict[str, int]] = {s: {} for s in _SIDES}
    total: dict[str, int] = {}
    cop_velocity: dict[str, int] = {}
    steps: dict[str, int] = {}
    events: dict[str, int] = {}
    event_labels: dict[str, int] = {}
    for index, name in enumerate(names):
        name = name.strip()
        if m := _PRESSURE.match(name):
            pressure[m[1].lower()][int(m[2])] = index
        elif m := _ACCEL.match(name):
            accel[m[1].lower()][m[2].lower()] = index
        elif m := _GYRO.match(name):
            gyro[m[1].lower()][m[2].lower()] = index
        elif m := _TOTAL.match(name):
            total[m[1].lower()] = index
        elif m := _COP.match(name):
            cop[m[1].lower()][m[2].lower()] = index
        elif m := _COP_VELOCITY.match(name):
            cop_velocity[m[1].lower()] = index
        elif m := _STEPS.match(name):
            steps[m[1].lower()] = index
        elif m := _EVENT_LABELS.match(name):
            event_labels[m[1].lower()] = index
        elif m := _EVENTS.match(name):
            events[m[1].lower()] = index
    for side in _SIDES:
        if sorted(pressure[side]) != list(range(1, _N_PRESSURES + 1)):
            raise MalformedFileError(
                path, f"the column names do not list {side} pressure 1..{_N_PRESSURES} (not an OpenGo pressure export?)"
            )

    def xyz(found: dict[str, int]) -> list[int]:
        return [found[a] for a in "xyz"] if set(found) == set("xyz") else []

    return _Columns(
        pressure={s: [pressure[s][k] for k in range(1, _N_PRESSURES + 1)] for s in _SIDES},
        accel={s: xyz(accel[s]) for s in _SIDES},
        gyro={s: xyz(gyro[s]) for s in _SIDES},
        total=total,
        cop={s: [cop[s][a] for a in "xy"] if set(cop[s]) == {"x", "y"} else [] for s in _SIDES},
        cop_velocity=cop_velocity,
        steps=steps,
        events=events,
        event_labels=event_labels,
    )


def _header_facts(lines: list[str]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.lstrip("#").partition(":")
        if sep:
            facts[key.strip()] = value.strip()
    return facts


def _start_time_iso(text: str | None) -> str | None:
    if not text:
        return None
    for pattern in ("%d.%m.%Y %H:%M:%S.%f", "%d.%m.%Y %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, pattern).isoformat(timespec="milliseconds")
        except ValueError:
            continue
    return None


def _serials(text: str | None) -> dict[str, str]:
    found = {}
    for side, serial in re.findall(r"(Left|Right)\s+(\S+?)(?:,|$)", text or "", re.IGNORECASE):
        found[side.lower()] = serial
    return found


@dataclass(frozen=True)
class MoticonImporter:
    name: str = "moticon"
    description: str = "Moticon OpenGo text export (16 pressures + IMU per foot, 100 Hz; step events kept as reference)"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head.decode("utf-8", errors="replace")
        return text.startswith("#") and "left pressure 1[N/cm" in text and "\n# time\t" in text.replace("\r\n", "\n")

    def load(self, path: Path) -> Recording:
        path = Path(path)
        try:
            return _load_plain(path)
        except NotPlain:  # anything unusual: the careful reader, whose messages name the line and the column
            return _load_careful(path)


def _load_plain(path: Path) -> Recording:
    """A plain export read in pieces (``_text_reading``) into arrays made once for the whole file."""
    from insole.io._format import check_input_file  # (imported here: insole.io._format imports the importers)

    check_input_file(path)
    scan = scan_text(path)
    if scan is None:
        raise NotPlain("not plain text")
    try:
        return _recording_from_scan(path, scan)
    except BaseException:
        scan.cancel()  # the careful reader takes the file (or the error stands): no digest needed any more
        raise


def _recording_from_scan(path: Path, scan: TextScan) -> Recording:
    if not scan.header:
        raise NotPlain("no header")
    names = scan.header[-1].lstrip("#").lstrip().split("\t")
    if names[0].strip().lower() != "time":
        raise NotPlain("no column names")
    columns = _find_columns(path, names)
    n = scan.n_rows
    time_s = np.empty(n)
    stores: dict[int, Store] = {0: _into(time_s)}
    feet_arrays: dict[str, dict[str, Any]] = {}
    for side in _SIDES:
        invalid = np.zeros(n, dtype=bool)
        # sensor by sensor, as our Parquet reader stores them (the transpose of a (sensors, samples) array,
        # which the recording keeps without a copy): each column's pieces land next to each other (row-major,
        # every value was a 64-byte stride apart: 0.3 s of stores for an hour's export against 0.04 s)
        values = np.empty((_N_PRESSURES, n), dtype=np.float32).T
        for k, column in enumerate(columns.pressure[side]):
            stores[column] = _into(values, k, invalid, scale=KPA_PER_N_PER_CM2)
        arrays: dict[str, Any] = {"values": values, "invalid": invalid, "channels": {}}
        for name, found in (("accel_g", columns.accel[side]), ("gyro_dps", columns.gyro[side])):
            arrays[name] = np.empty((3, n), dtype=np.float32).T if found else None
            for k, column in enumerate(found):
                stores[column] = _into(arrays[name], k, invalid)
        channel_columns = {}
        if side in columns.total:
            channel_columns["vendor_total_force_n"] = columns.total[side]
        if columns.cop[side]:
            channel_columns["vendor_cop_x_norm"] = columns.cop[side][0]
            channel_columns["vendor_cop_y_norm"] = columns.cop[side][1]
        if side in columns.cop_velocity:
            channel_columns["vendor_cop_velocity_au"] = columns.cop_velocity[side]
        for key, column in channel_columns.items():
            arrays["channels"][key] = np.empty(n)
            stores[column] = _into(arrays["channels"][key], None, invalid)
        feet_arrays[side] = arrays
    codes: dict[int, np.ndarray] = {}
    for column in [*columns.steps.values(), *columns.events.values()]:
        codes[column] = np.empty(n)
        stores[column] = _into(codes[column])
    texts = read_columns(path, scan, len(names), stores, text_columns=tuple(columns.event_labels.values()))
    if np.isnan(time_s).any():  # an empty time field
        raise NotPlain("a time field is empty")
    first_line = len(scan.header) + 1
    _check_increasing(path, time_s, first_line)
    feet = {}
    for side, arrays in feet_arrays.items():
        for name in ("values", "accel_g", "gyro_dps"):
            # a reduction, not np.abs(...) >= max: no temporary array as large as the foot's values
            if arrays[name] is not None and (np.fmax.reduce(arrays[name], axis=None) >= _FLOAT32_MAX
                                             or np.fmin.reduce(arrays[name], axis=None) <= -_FLOAT32_MAX):
                raise NotPlain("a value beyond float32")  # the careful reader's message says so
        # every array was made here for this foot alone: the recording keeps them (no second copy)
        feet[side] = adopted_foot(
            time_s=time_s if side == "left" else time_s.copy(),
            values=arrays["values"],
            valid=~arrays["invalid"],
            accel_g=arrays["accel_g"],
            gyro_dps=arrays["gyro_dps"],
            channels=arrays["channels"],
        )
    labels = {column: _text_column(parts) for column, parts in texts.items()}

    def label_of(row: int, column: int) -> str:
        return str(labels[column][row].as_py())

    return Recording(
        layout=get_layout("moticon16"),
        unit="kPa",
        sample_rate_hz=SAMPLE_RATE_HZ,
        left=feet["left"],
        right=feet["right"],
        meta=_meta(path, _header_facts(scan.header[:-1]), time_s,
                   provenance_from_scan(path, scan, "moticon")),
        reference_events=_reference_events(columns, time_s, lambda column, name: codes[column], label_of),
    )


def _into(
    target: np.ndarray, k: int | None = None, invalid: np.ndarray | None = None, *, scale: float | None = None
) -> Store:
    """A store putting a piece of one column into ``target`` (its column ``k`` when 2-D), marking empty rows."""

    def store(first_row: int, values: np.ndarray, empty: np.ndarray | None) -> None:
        rows = slice(first_row, first_row + values.shape[0])
        if invalid is not None and empty is not None:
            invalid[rows] |= empty
        into = target[rows] if k is None else target[rows, k]
        with np.errstate(over="ignore"):  # beyond float32: infinite here, found after the parse (NotPlain)
            if scale is not None:
                # the float64 product, rounded once to the target's type: as the careful reader, no temporary
                np.multiply(values, scale, out=into, casting="unsafe")
            else:
                into[...] = values

    return store


def _text_column(parts: list[Any]) -> Any:
    import pyarrow as pa

    return pa.chunked_array([chunk for part in parts for chunk in part.chunks], type=pa.string())


def _check_increasing(path: Path, time_s: np.ndarray, first_line: int) -> None:
    steps = np.diff(time_s)
    if np.any(steps <= 0):
        row = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise MalformedFileError(path, f"line {first_line + row}: time {time_s[row]:g} s does not increase")


def _load_careful(path: Path) -> Recording:
    """Any export, read whole as text (``_table``): exact messages for whatever is wrong in it."""
    text = read_text(path, encoding="utf-8")
    ended_with_newline = text.endswith("\n")
    lines = text.split("\n")
    if ended_with_newline:
        lines = lines[:-1]
    n_header = 0
    while n_header < len(lines) and lines[n_header].startswith("#"):
        n_header += 1
    if n_header == 0:
        raise MalformedFileError(path, "has no '#' header lines (not an OpenGo text export)")
    names = lines[n_header - 1].lstrip("#").lstrip().split("\t")
    if names[0].strip().lower() != "time":
        raise MalformedFileError(path, "the last '#' line does not name the columns (expected 'time' first)")
    columns = _find_columns(path, names)
    table = split_rows(
        path, lines[n_header:], n_header + 1, "\t", len(names), ended_with_newline=ended_with_newline
    )
    time_s, _ = parse_numeric(path, table, [0], ["time"], allow_empty=False)
    time_s = time_s[:, 0]
    _check_increasing(path, time_s, table.first_line)
    feet = {}
    for side in _SIDES:
        foot_cols = columns.foot_columns(side)
        values, empty = parse_numeric(path, table, foot_cols, [names[c] for c in foot_cols], allow_empty=True)
        by_column = dict(zip(foot_cols, values.T))
        valid = ~np.any(empty, axis=1)  # an (n,) array: the method form is typed as maybe a scalar
        channels = {}
        if side in columns.total:
            channels["vendor_total_force_n"] = by_column[columns.total[side]]
        if columns.cop[side]:
            channels["vendor_cop_x_norm"] = by_column[columns.cop[side][0]]
            channels["vendor_cop_y_norm"] = by_column[columns.cop[side][1]]
        if side in columns.cop_velocity:
            channels["vendor_cop_velocity_au"] = by_column[columns.cop_velocity[side]]
        feet[side] = FootSamples(
            time_s=time_s,
            values=np.column_stack([by_column[c] for c in columns.pressure[side]]) * KPA_PER_N_PER_CM2,
            valid=valid,
            accel_g=np.column_stack([by_column[c] for c in columns.accel[side]]) if columns.accel[side] else None,
            gyro_dps=np.column_stack([by_column[c] for c in columns.gyro[side]]) if columns.gyro[side] else None,
            channels=channels,
        )
    facts = _header_facts(lines[: n_header - 1])

    def codes_of(column: int, name: str) -> np.ndarray:
        return parse_numeric(path, table, [column], [name], allow_empty=True)[0][:, 0]

    def label_of(row: int, column: int) -> str:
        return table.field(row, column)

    return Recording(
        layout=get_layout("moticon16"),
        unit="kPa",
        sample_rate_hz=SAMPLE_RATE_HZ,
        left=feet["left"],
        right=feet["right"],
        meta=_meta(path, facts, time_s, provenance(path, "moticon")),
        reference_events=_reference_events(columns, time_s, codes_of, label_of),
    )


def _meta(path: Path, facts: dict[str, str], time_s: np.ndarray, source: dict[str, object]) -> RecordingMeta:
    serials = _serials(facts.get("Sensor insoles"))
    size = facts.get("Size") or None
    devices = {
        side: {"vendor": "Moticon ReGo AG", "model": "OpenGo sensor insole", "serial": serials.get(side),
               "insole_size": size}
        for side in _SIDES
    }
    nominal = 1.0 / SAMPLE_RATE_HZ
    steps = np.diff(time_s)
    # a step of 1.5 nominal periods or more means the software itself skipped a sample
    long_steps = np.flatnonzero(steps >= 1.5 * nominal)
    extra: dict[str, Any] = {
        "moticon_header": facts,
        "insole_size_note": "Moticon insole size code as in the file (not an EU shoe size); layout drawn at EU 40",
        "time_steps_over_nominal": [
            {"after_s": float(time_s[i]), "step_s": round(float(steps[i]), 6)} for i in long_steps
        ],
        "licence_hint": "Moticon OpenGo sample data: Apache-2.0, Moticon ReGo AG (when from moticon-opengo)",
    }
    return RecordingMeta(
        subject_id=None,  # OpenGo exports carry a recording name, not a subject
        condition=facts.get("Tag") or facts.get("Recording type") or None,
        notes=facts.get("Notes") or None,
        recorded_at=_start_time_iso(facts.get("Start time")),
        devices=devices,
        software={**importer_software("moticon"), "captured_by": "Moticon OpenGo Software"},
        source=source,
        extra=extra,
    )


def _reference_events(
    columns: _Columns,
    time_s: np.ndarray,
    codes_of: Callable[[int, str], np.ndarray],
    label_of: Callable[[int, int], str],
) -> ReferenceEvents | None:
    """The software's step events (or the events set by hand): ``codes_of(column, name)`` reads a code column
    (NaN where empty), ``label_of(row, column)`` one label as written."""
    heel: dict[str, list[float]] = {s: [] for s in _SIDES}
    toe: dict[str, list[float]] = {s: [] for s in _SIDES}
    extra: dict[str, Any] = {}
    source = EVENT_SOURCE
    automatic = False
    for side, column in columns.steps.items():
        codes = codes_of(column, f"{side} steps[]")
        present = np.flatnonzero(~np.isnan(codes))
        other = []
        for row in present:
            code = int(codes[row])
            if code in _STEP_CODES:
                event_side, kind = _STEP_CODES[code]
                (heel if kind == "heel_strike" else toe)[event_side].append(float(time_s[row]))
            else:
                other.append({"time_s": float(time_s[row]), "code": code, "column": f"{side} steps[]"})
        automatic = True
        if other:
            extra.setdefault("unknown_step_codes", []).extend(other)
    manual: list[dict[str, Any]] = []
    for side, column in columns.events.items():
        codes = codes_of(column, f"{side} Events[]")
        label_column = columns.event_labels.get(side)
        for row in np.flatnonzero(~np.isnan(codes)):
            code = int(codes[row])
            label = label_of(int(row), label_column).strip() if label_column is not None else ""
            manual.append({"side": side, "time_s": float(time_s[row]), "code": code,
                           "meaning": _MANUAL_CODES.get(code, "unknown"), "label": label})
    if manual:
        manual.sort(key=lambda e: (e["time_s"], e["side"]))
        extra["manual_events"] = manual
        extra["midstance_force_minimum_s"] = {
            s: [e["time_s"] for e in manual if e["side"] == s and e["code"] == 2] for s in _SIDES
        }
        if not automatic:
            source = f"{EVENT_SOURCE} (events set manually)"
            for event in manual:
                if event["code"] == 1:
                    heel[event["side"]].append(event["time_s"])
    if not automatic and not manual:
        return None
    extra["codes"] = (
        "steps: 11/21 heel strike, 15/25 toe off (left/right); manual events: 1 heel strike, "
        "2 mid-stance force minimum"
    )
    return ReferenceEvents(
        source=source,
        heel_strike_s={s: tuple(sorted(v)) for s, v in heel.items() if v},
        toe_off_s={s: tuple(sorted(v)) for s, v in toe.items() if v},
        extra=extra,
    )


IMPORTERS = (MoticonImporter(),)

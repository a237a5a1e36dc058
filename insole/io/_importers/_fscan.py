"""Tekscan F-Scan ASCII movie export (``.asf``; one foot per file).

A ``KEY value`` header (``DATA_TYPE MOVIE``, ``ROWS``, ``COLS``, ``ROW_SPACING
5.08 mm``, ``COL_SPACING``, ``SENSEL_AREA 25.8064 mm2``, ``SECONDS_PER_FRAME``,
``START_FRAME``, ``END_FRAME``, ``UNITS KPa``, ``SATURATION_PRESSURE``,
``CALIBRATION_POINT_n``, ``MIRROR_ROW``/``MIRROR_COL``, ...) ends at
``ASCII_DATA @@``. Then, per frame, a ``Frame N`` line and ROWS lines of COLS
comma-separated values; ``B`` marks a sensel outside the trimmed insole.

What becomes of it:

* the layout is the grid of sensels inside the insole (never ``B``) with the
  file's spacing and sensel area (real geometry, not approximate), regions
  from the automatic mask on this recording's footprint (``insole.analysis._grid``);
* frames are placed on ``(N - START_FRAME) x SECONDS_PER_FRAME``; a frame
  number missing between START and END is kept as an invalid slot;
* the walk calibration's load (kg) becomes the body mass (a walk calibration
  is made with the subject's body weight), every calibration point is kept;
* the side comes from the file name stored in the header (``...01L.fsx``),
  else this file's name, else the insole outline (the toe end leans medially).

Orientation: row 1 is at the toes and the grid is seen from above, so for a
left insole the columns run lateral to medial; ``MIRROR_ROW 1`` /
``MIRROR_COL 1`` flip the respective axis. Checked on the sample file: its
loaded midfoot band lies on the low-column (lateral) side.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from insole._errors import MalformedFileError
from insole._recording import FootSamples, Recording, RecordingMeta
from insole.analysis import GridGeometry, grid_layout
from insole.io._importers._table import (
    head_lines,
    importer_software,
    one_line,
    provenance,
    read_text,
    refuse_huge_gaps,
)
from insole.io._importers._vendor import kpa_factor, number_in, side_from_name

__all__ = ["IMPORTERS", "FscanImporter", "parse_header"]

_DATA_MARK = "ASCII_DATA @@"
_REQUIRED = ("ROWS", "COLS", "ROW_SPACING", "COL_SPACING", "SENSEL_AREA", "SECONDS_PER_FRAME", "UNITS")
_FRAME = re.compile(r"^Frame\s+(\d+)\s*$")


def parse_header(path: Path, lines: list[str]) -> tuple[dict[str, str], int]:
    """The header as ``KEY -> rest of line``, and the index of the ``ASCII_DATA @@`` line."""
    header: dict[str, str] = {}
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == _DATA_MARK:
            return header, index
        if not stripped:
            continue
        key, _, rest = stripped.partition(" ")
        if key.endswith(":"):  # COMMENTS: spans lines up to the next KEY
            header[key.rstrip(":")] = rest
            continue
        if key.isupper():
            header.setdefault(key, rest.strip())
    raise MalformedFileError(path, f"no '{_DATA_MARK}' line: not a complete F-Scan ASCII export (truncated header?)")


def _header_number(path: Path, header: dict[str, str], key: str, *, integer: bool = False) -> float:
    if key not in header:
        raise MalformedFileError(path, f"header has no {key} line")
    value = number_in(header[key])
    if value is None or (integer and value != int(value)):
        raise MalformedFileError(path, f"header {key} {header[key]!r} is not a{'n integer' if integer else ' number'}")
    return value


def _length_mm(path: Path, header: dict[str, str], key: str) -> float:
    value = _header_number(path, header, key)
    unit = header[key].lower()
    if "cm" in unit or "centimeter" in unit:
        return value * 10.0
    if "inch" in unit or re.search(r"\bin\b", unit):
        return value * 25.4
    return value


def _area_mm2(path: Path, header: dict[str, str]) -> float:
    value = _header_number(path, header, "SENSEL_AREA")
    unit = header["SENSEL_AREA"].lower()
    if "cm" in unit:
        return value * 100.0
    if "in" in unit:
        return value * 645.16
    return value


def _calibration(header: dict[str, str]) -> list[dict[str, Any]]:
    points = []
    for key in sorted(k for k in header if k.startswith("CALIBRATION_POINT_")):
        text = header[key]
        numbers = [float(n) for n in re.findall(r"[-+]?\d+(?:\.\d+)?", text)]
        point: dict[str, Any] = {"text": text}
        if "kg" in text.lower() and numbers:
            point["load_kg"] = numbers[0]
        if "raw sum" in text.lower() and len(numbers) > 1:
            point["raw_sum"] = numbers[1]
        if "loaded cells" in text.lower() and len(numbers) > 2:
            point["loaded_cells"] = int(numbers[2])
        point["mode"] = header.get("CALIBRATION_MODE_" + key.rsplit("_", 1)[1])
        points.append(point)
    return points


@dataclass(frozen=True)
class FscanImporter:
    name: str = "fscan"
    description: str = "Tekscan F-Scan ASCII movie export (.asf): sensel grid, B outside the insole, calibration header"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = [line.strip() for line in head_lines(head, "latin-1")[:40]]
        # A header cut short must still be recognised, so the load can say what is missing.
        return bool(lines) and lines[0].startswith("DATA_TYPE") and any(
            line.startswith(("ROWS", "SENSOR_TYPE", "VERSION Tekscan", "SECONDS_PER_FRAME")) for line in lines
        )

    def load(self, path: Path) -> Recording:
        path = Path(path)
        text = read_text(path, encoding="latin-1")
        lines = text.split("\n")
        header, mark = parse_header(path, lines)
        for key in _REQUIRED:
            if key not in header:
                raise MalformedFileError(path, f"header has no {key} line")
        n_rows = int(_header_number(path, header, "ROWS", integer=True))
        n_cols = int(_header_number(path, header, "COLS", integer=True))
        period_s = _header_number(path, header, "SECONDS_PER_FRAME")
        if n_rows < 1 or n_cols < 1 or not period_s > 0:
            raise MalformedFileError(path, f"header gives a {n_rows} x {n_cols} grid at {period_s} s per frame")
        units = header["UNITS"]
        raw_units = units.strip().lower() in ("raw", "raw sum", "counts")
        factor = 1.0 if raw_units else kpa_factor(path, units)
        geometry = GridGeometry(
            n_rows=n_rows,
            n_cols=n_cols,
            row_spacing_mm=_length_mm(path, header, "ROW_SPACING"),
            col_spacing_mm=_length_mm(path, header, "COL_SPACING"),
            sensel_area_mm2=_area_mm2(path, header),
        )

        frame_numbers, cells = _read_frames(path, lines, mark + 1, n_rows, n_cols)
        start = (
            int(_header_number(path, header, "START_FRAME", integer=True))
            if "START_FRAME" in header
            else int(frame_numbers[0])
        )
        end = (
            int(_header_number(path, header, "END_FRAME", integer=True))
            if "END_FRAME" in header
            else int(frame_numbers[-1])
        )
        if frame_numbers[-1] < end:
            raise MalformedFileError(
                path, f"file ends after frame {frame_numbers[-1]} but the header's END_FRAME is {end}: truncated?"
            )
        if frame_numbers[0] < start or frame_numbers[-1] > end:
            raise MalformedFileError(
                path,
                f"frames {frame_numbers[0]}..{frame_numbers[-1]} lie outside START_FRAME {start} .. END_FRAME {end}",
            )

        outside = np.isnan(cells)
        insole = ~outside[0]
        changed = np.flatnonzero(np.any(outside != outside[0], axis=(1, 2)))
        if changed.size:
            raise MalformedFileError(
                path,
                f"the insole outline (B cells) changes at frame {frame_numbers[changed[0]]}; "
                "expected one outline for the movie",
            )
        if not insole.any():
            raise MalformedFileError(path, "every sensel is marked B (outside the insole)")
        mirror_row = header.get("MIRROR_ROW", "0").strip() == "1"
        mirror_col = header.get("MIRROR_COL", "0").strip() == "1"
        side, side_from = _side(path, header, insole, mirror_col)

        # Canonical grid: row 0 at the toes, columns increasing medially.
        flip_rows = mirror_row
        flip_cols = (side == "right") != mirror_col
        rows, cols = np.nonzero(insole)
        canon_rows = (n_rows - 1 - rows) if flip_rows else rows
        canon_cols = (n_cols - 1 - cols) if flip_cols else cols
        order = np.lexsort((canon_cols, canon_rows))
        rows, cols, canon_rows, canon_cols = rows[order], cols[order], canon_rows[order], canon_cols[order]

        n_slots = end - start + 1
        refuse_huge_gaps(path, int(frame_numbers.size), n_slots, f"frame numbers {start}..{end}")
        values = np.full((n_slots, rows.size), np.nan, dtype=np.float64)
        slots = frame_numbers - start
        values[slots] = cells[:, rows, cols] * factor
        valid = np.zeros(n_slots, dtype=bool)
        valid[slots] = True
        negative = np.flatnonzero(np.nanmin(values[valid], axis=1) < 0) if valid.any() else np.array([])
        if negative.size:
            raise MalformedFileError(path, f"frame {int(frame_numbers[negative[0]])} holds a negative pressure")

        peak = np.nanmax(np.where(valid[:, None], values, -np.inf), axis=0)
        peak[~np.isfinite(peak)] = 0.0
        layout = grid_layout(
            f"fscan_{n_rows}x{n_cols}",
            geometry,
            canon_rows,
            canon_cols,
            peak=peak,
            source=(
                f"Tekscan F-Scan header of {path.name}: {n_rows} x {n_cols} grid, row spacing "
                f"{geometry.row_spacing_mm:g} mm, column spacing {geometry.col_spacing_mm:g} mm, sensel area "
                f"{geometry.sensel_area_mm2:g} mm², insole outline from the B cells; regions from this "
                "recording's footprint (automatic mask)"
            ),
            extra={"vendor": "Tekscan", "sensor_type": header.get("SENSOR_TYPE"), "hardware": header.get("HARDWARE"),
                   "vendor_row": (rows + 1).tolist(), "vendor_col": (cols + 1).tolist()},
        )
        time_s = np.arange(n_slots, dtype=np.float64) * period_s
        foot = FootSamples(time_s=time_s, values=values, valid=valid)
        calibration = _calibration(header)
        body_mass = next(
            (p["load_kg"] for p in calibration if (p.get("mode") or "").lower() == "walk" and "load_kg" in p), None
        )
        meta = RecordingMeta(
            subject_id=None,
            body_mass_kg=body_mass,
            notes=header.get("COMMENTS") or None,
            recorded_at=_iso_time(header.get("TIME")),
            devices={side: {"vendor": "Tekscan", "system": "F-Scan", "sensor_type": header.get("SENSOR_TYPE"),
                            "hardware": header.get("HARDWARE"), "software_version": header.get("VERSION")}},
            software=importer_software("fscan"),
            source=provenance(path, "fscan"),
            extra={
                "vendor_header": header,
                "calibration": calibration,
                "body_mass_from": "walk calibration load" if body_mass is not None else None,
                "saturation_pressure_kpa": _scaled(number_in(header.get("SATURATION_PRESSURE", "")), factor),
                "noise_threshold_raw": number_in(header.get("NOISE_THRESHOLD", "")),
                "side_from": side_from,
                "frames": {"start": start, "end": end, "present": int(frame_numbers.size)},
                "unit_in_file": units,
            },
        )
        return Recording(
            layout=layout,
            unit="au" if raw_units else "kPa",
            sample_rate_hz=1.0 / period_s,
            left=foot if side == "left" else None,
            right=foot if side == "right" else None,
            meta=meta,
        )


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _iso_time(text: str | None) -> str | None:
    """``Thursday, 16 February 2017 11:26:22 a.m.`` -> ``2017-02-16T11:26:22``; other text kept as is."""
    if not text:
        return None
    cleaned = text.strip().replace("a.m.", "AM").replace("p.m.", "PM")
    cleaned = re.sub(r"^[A-Za-z]+,\s*", "", cleaned)
    for pattern in ("%d %B %Y %I:%M:%S %p", "%d %B %Y %H:%M:%S", "%B %d, %Y %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p"):
        try:
            return datetime.strptime(cleaned, pattern).isoformat()
        except ValueError:
            continue
    return text.strip()


def _read_frames(path: Path, lines: list[str], first: int, n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame numbers (n,) and cells (n, rows, cols) as float with NaN for B."""
    body = [(i, line.strip()) for i, line in enumerate(lines[first:], start=first)]
    body = [(i, line) for i, line in body if line and line != "@@"]
    frame_at = [k for k, (_, line) in enumerate(body) if line.startswith("Frame")]
    if not frame_at:
        raise MalformedFileError(path, "no 'Frame N' block after ASCII_DATA @@")
    numbers = []
    for k in frame_at:
        match = _FRAME.match(body[k][1])
        if not match:
            raise MalformedFileError(path, f"line {body[k][0] + 1}: {body[k][1]!r} is not a 'Frame N' line")
        numbers.append(int(match.group(1)))
    frame_numbers = np.asarray(numbers, dtype=np.int64)
    if np.any(np.diff(frame_numbers) <= 0):
        k = int(np.flatnonzero(np.diff(frame_numbers) <= 0)[0]) + 1
        raise MalformedFileError(
            path,
            f"line {body[frame_at[k]][0] + 1}: frame {frame_numbers[k]} does not follow frame {frame_numbers[k - 1]}",
        )
    bounds = frame_at + [len(body)]
    sizes = np.diff(bounds) - 1
    wrong = np.flatnonzero(sizes != n_rows)
    if wrong.size:
        k = int(wrong[0])
        if k == len(frame_at) - 1 and sizes[k] < n_rows:
            raise MalformedFileError(
                path, f"frame {frame_numbers[k]} has {sizes[k]} of {n_rows} rows: file cut short (truncated?)"
            )
        raise MalformedFileError(
            path,
            f"frame {frame_numbers[k]} (line {body[frame_at[k]][0] + 1}) has {sizes[k]} rows, "
            f"but the header says ROWS {n_rows}",
        )
    is_frame_line = np.zeros(len(body), dtype=bool)
    is_frame_line[frame_at] = True
    data = [line for (_, line), skip in zip(body, is_frame_line) if not skip]
    commas = np.fromiter((line.count(",") for line in data), dtype=np.int64, count=len(data))
    bad = np.flatnonzero(commas != n_cols - 1)
    if bad.size:
        data_lines = [i for (i, _), skip in zip(body, is_frame_line) if not skip]
        line_number = data_lines[int(bad[0])] + 1
        raise MalformedFileError(
            path,
            f"line {line_number} has {commas[bad[0]] + 1} values, but the header says COLS {n_cols} (wrong grid size)",
        )
    try:
        import pandas as pd  # here, not at the top: listing the formats (`insole --help`) must stay light
        table = pd.read_csv(io.StringIO("\n".join(data)), header=None, na_values=["B"], keep_default_na=False,
                            dtype=np.float64, engine="c")
    except ValueError as error:
        raise MalformedFileError(path, f"a sensel value is neither a number nor B ({one_line(error)})") from None
    cells = table.to_numpy().reshape(frame_numbers.size, n_rows, n_cols)
    return frame_numbers, cells


def _side(path: Path, header: dict[str, str], insole: np.ndarray, mirror_col: bool) -> tuple[str, str]:
    for source, name in (("header FILENAME", header.get("FILENAME", "")), ("file name", path.name)):
        side = side_from_name(name) if name else None
        if side:
            return side, source
    # The trimmed insole's toe end leans toward the big toe (medial side): in
    # the unmirrored top view that is the high-column side for a left foot.
    rows, cols = np.nonzero(insole)
    span = rows.max() - rows.min() + 1
    front = cols[rows < rows.min() + max(1, span // 8)].mean()
    back = cols[rows > rows.max() - max(1, span // 8)].mean()
    leans_high = front > back
    return ("left" if leans_high != mirror_col else "right"), "insole outline (toe end leans medially)"


IMPORTERS = (FscanImporter(),)

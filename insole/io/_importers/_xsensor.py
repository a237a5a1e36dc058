"""XSENSOR in-shoe CSV export (X4/X3 insoles; both feet in one file).

Layout of the export (checked on a real X4 file, HX210 31 x 11 sensels of
0.86 cm): a file header (``File:``, ``Units:``, ``Threshold:``), then per frame
``FRAME,<n>``, ``Date``, ``Time`` and, per insole, a ``SENSOR,<model>-LF|RF
<serial>`` block (``Rows``, ``Columns``, ``Sensel Width (cm)``, ``Sensel
Height (cm)``, summary pressures, ``Contact Area (cm²)``, ``Est. Load (N)``,
stance figures) ending in ``SENSELS`` and the Rows x Columns matrix; then the
named regions (``GROUP,<k>``, ``Name,Left Heel``, ``Cells,36``, the same
summary figures, ``SENSELS`` and the region's cell values in a traced order).
Every line is followed by a line of commas; the file starts with a UTF-8 BOM.

What becomes of it:

* pressures converted from the file's unit (mmHg in the sample) to kPa;
* one canonical grid for both feet: row 1 at the toes, columns increasing
  medially (the right insole's columns are mirrored; checked on the sample:
  each foot's loaded midfoot band lies laterally);
* the insole outline is the union of the named regions' cells (located by
  matching each region's per-frame values to the grid) and every cell that
  ever carried load; the named regions are kept in ``layout.extra
  ["vendor_regions"]`` and their per-frame ``Est. Load (N)`` as channels
  ``vendor_<region>_force_n``; the insole's own ``Est. Load (N)`` and
  ``Contact Area (cm²)`` become ``vendor_total_force_n`` and
  ``vendor_contact_area_mm2``;
* times from the frames' ``Time`` stamps (ms resolution), relative to the
  first frame; the nominal rate is frames over the time they span.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from insole._errors import MalformedFileError
from insole._recording import FootSamples, Recording, RecordingMeta
from insole.analysis import GridGeometry, grid_layout
from insole.io._importers._table import head_lines, importer_software, one_line, provenance, read_text
from insole.io._importers._vendor import kpa_factor, number_in, side_from_name

__all__ = ["IMPORTERS", "XsensorImporter"]


@dataclass
class _Block:
    kind: str  # "sensor" | "group"
    frame: int  # index of the frame it belongs to
    name: str
    line: int  # 1-based line of its SENSOR/GROUP line
    fields: dict[str, str]
    data: list[str]
    data_lines: list[int]


def _region_key(name: str) -> str:
    words = re.sub(r"^(left|right)\s+", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")


@dataclass(frozen=True)
class XsensorImporter:
    name: str = "xsensor"
    description: str = "XSENSOR in-shoe CSV export: sensel grid per insole and its named regions (mmHg or kPa)"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = [line.lstrip("\ufeff").strip() for line in head_lines(head, "utf-8")[:120]]
        keys = {line.split(",", 1)[0].strip() for line in lines if line.strip(",")}
        return "SENSELS" in keys and "FRAME" in keys and ("Sensel Width (cm)" in keys or "SENSOR" in keys)

    def load(self, path: Path) -> Recording:
        path = Path(path)
        text = read_text(path, encoding="utf-8").lstrip("\ufeff")
        header, frames, blocks = _scan(path, text.split("\n"))
        if not frames:
            raise MalformedFileError(path, "no FRAME block")
        unit = header.get("Units:", "")
        if not unit:
            raise MalformedFileError(path, "header has no Units: line")
        factor = kpa_factor(path, unit)

        sensors = [b for b in blocks if b.kind == "sensor"]
        if not sensors:
            raise MalformedFileError(path, "no SENSOR block after the first FRAME: not a complete export (truncated?)")
        names = list(dict.fromkeys(b.name for b in sensors))
        sides = {name: _sensor_side(path, name) for name in names}
        if len(set(sides.values())) != len(names):
            raise MalformedFileError(path, f"cannot tell the feet apart from the sensor names {names}")
        n_rows = _int_field(path, sensors[0], "Rows")
        n_cols = _int_field(path, sensors[0], "Columns")
        width_cm = _float_field(path, sensors[0], "Sensel Width (cm)")
        height_cm = _float_field(path, sensors[0], "Sensel Height (cm)")
        geometry = GridGeometry(n_rows, n_cols, row_spacing_mm=height_cm * 10.0, col_spacing_mm=width_cm * 10.0,
                                sensel_area_mm2=width_cm * height_cm * 100.0)
        n_frames = len(frames)
        grids: dict[str, np.ndarray] = {}
        channels: dict[str, dict[str, np.ndarray]] = {}
        for name in names:
            mine = [b for b in sensors if b.name == name]
            present = [b.frame for b in mine]
            if present != list(range(n_frames)):
                missing = sorted(set(range(n_frames)) - set(present))
                at = frames[missing[0]][0] if missing else frames[-1][0]
                if missing == [n_frames - 1]:
                    raise MalformedFileError(
                        path, f"frame {at} has no block for sensor {name}: file cut short (truncated?)"
                    )
                raise MalformedFileError(path, f"sensor {name} has no block in frame {at} (mixed export?)")
            for block in mine:
                if _int_field(path, block, "Rows") != n_rows or _int_field(path, block, "Columns") != n_cols:
                    raise MalformedFileError(
                        path, f"line {block.line}: sensor {name} gives another Rows/Columns than in its first frame "
                        f"({n_rows} x {n_cols}; wrong grid size)")
            grids[name] = _read_grid(path, mine, n_rows, n_cols, frames)  # the file's own numbers
            side = sides[name]
            channels[side] = {
                "vendor_total_force_n": _column(mine, "Est. Load (N)"),
                "vendor_contact_area_mm2": _column(mine, "Contact Area (cm²)", "Contact Area (cm2)") * 100.0,
            }
        if any(np.nanmin(g) < 0 for g in grids.values()):
            raise MalformedFileError(path, "a sensel holds a negative pressure")

        # Regions are matched in the file's own numbers, before unit conversion.
        vendor_regions, region_cells = _locate_regions(path, blocks, grids, sides, n_frames, n_cols)
        # Canonical orientation: mirror the right insole's columns.
        canonical = {sides[n]: (g[:, :, ::-1] if sides[n] == "right" else g) * factor for n, g in grids.items()}
        for side, regions in region_cells.items():
            for key, (force, _) in regions.items():
                channels[side][f"vendor_{key}_force_n"] = force

        loaded = np.zeros((n_rows, n_cols), dtype=bool)
        peak = np.zeros((n_rows, n_cols))
        for image in canonical.values():
            loaded |= np.any(image > 0, axis=0)
            peak = np.maximum(peak, image.max(axis=0))
        insole = loaded.copy()
        for cells in vendor_regions.values():
            for r, c in cells:
                insole[r, c] = True
        if not vendor_regions:
            insole[:] = True  # no outline in the file: keep the whole grid
        rows, cols = np.nonzero(insole)
        layout = grid_layout(
            f"xsensor_{n_rows}x{n_cols}",
            geometry,
            rows,
            cols,
            peak=peak[rows, cols],
            source=(
                f"XSENSOR export {path.name}: {n_rows} x {n_cols} grid, sensels {width_cm:g} x {height_cm:g} cm "
                "(the file rounds to 0.01 cm); insole outline = vendor regions' cells and loaded cells; "
                "regions from this recording's footprint (automatic mask), vendor regions in extra"
            ),
            extra={
                "vendor": "XSENSOR",
                "vendor_regions": {name: [f"r{r + 1:02d}c{c + 1:02d}" for r, c in cells]
                                   for name, cells in vendor_regions.items()},
            },
        )
        times = np.array([t for _, t in frames], dtype="datetime64[ms]")
        time_s = (times - times[0]).astype(np.float64) / 1000.0
        if n_frames > 1 and np.any(np.diff(time_s) <= 0):
            k = int(np.flatnonzero(np.diff(time_s) <= 0)[0]) + 1
            raise MalformedFileError(path, f"frame {frames[k][0]}: time does not increase")
        rate_hz = (n_frames - 1) / time_s[-1] if n_frames > 1 else float("nan")
        if not np.isfinite(rate_hz):
            raise MalformedFileError(path, "one frame only: no sample rate can be had from the time stamps")
        feet: dict[str, FootSamples | None] = {"left": None, "right": None}
        for side, image in canonical.items():
            feet[side] = FootSamples(
                time_s=time_s,
                values=image[:, rows, cols],
                valid=np.ones(n_frames, dtype=bool),
                channels=channels[side],
            )
        threshold = number_in(header.get("Threshold:", ""))
        meta = RecordingMeta(
            recorded_at=str(times[0]),
            devices={sides[n]: {"vendor": "XSENSOR", "sensor": n} for n in names},
            software=importer_software("xsensor"),
            source={**provenance(path, "xsensor"), "time_zero": {
                # the frames carry clock time; our axis starts at the first frame
                "source_column": "frame date and time", "source_unit": "clock time", "source_value": str(times[0])}},
            extra={
                "vendor_file": header.get("File:"),
                "unit_in_file": unit,
                "threshold_kpa": None if threshold is None else threshold * factor,
                "frames": {"first": frames[0][0], "last": frames[-1][0], "count": n_frames},
                "time_resolution_s": 0.001,
                "sample_rate_from": "frame count over the span of the frames' time stamps",
                "vendor_summary_first_frame": {sides[b.name]: b.fields for b in sensors if b.frame == 0},
            },
        )
        return Recording(layout=layout, unit="kPa", sample_rate_hz=float(round(rate_hz, 3)),
                         left=feet["left"], right=feet["right"], meta=meta)


def _scan(path: Path, lines: list[str]) -> tuple[dict[str, str], list[tuple[int, datetime]], list[_Block]]:
    """One pass over the lines: file header, frames (number, time) and blocks with their data lines."""
    header: dict[str, str] = {}
    frames: list[tuple[int, datetime]] = []
    blocks: list[_Block] = []
    block: _Block | None = None
    in_data = False
    date = ""
    for number, line in enumerate(lines, start=1):
        stripped = line.rstrip("\r")
        if not stripped.strip(", "):
            continue
        key, _, rest = stripped.partition(",")
        key = key.strip()
        if key and (key[0].isdigit() or key[0] in "-.") or (not key and in_data):
            if not in_data or block is None:
                raise MalformedFileError(path, f"line {number}: numbers outside a SENSELS block")
            block.data.append(stripped)
            block.data_lines.append(number)
            continue
        in_data = False
        value = rest.split(",", 1)[0].strip() if not rest.startswith('"') else rest.split('"')[1]
        if key == "FRAME":
            frame_number = number_in(value)
            if frame_number is None:
                raise MalformedFileError(path, f"line {number}: FRAME without a number")
            frames.append((int(frame_number), datetime.min))
            block = None
        elif key == "Date":
            date = value
        elif key == "Time":
            if not frames:
                raise MalformedFileError(path, f"line {number}: Time before the first FRAME")
            frames[-1] = (frames[-1][0], _timestamp(path, number, date, value))
        elif key in ("SENSOR", "GROUP"):
            if not frames:
                raise MalformedFileError(path, f"line {number}: {key} before the first FRAME")
            block = _Block("sensor" if key == "SENSOR" else "group", len(frames) - 1, value, number, {}, [], [])
            blocks.append(block)
        elif key == "SENSELS":
            if block is None:
                raise MalformedFileError(path, f"line {number}: SENSELS outside a SENSOR or GROUP block")
            in_data = True
        elif block is not None:
            if key == "Name" and block.kind == "group":
                block.name = value
            block.fields[key] = value
        else:
            header[key] = value
    return header, frames, blocks


def _timestamp(path: Path, line: int, date: str, time: str) -> datetime:
    for pattern in ("%Y %b %d %H:%M:%S.%f", "%Y %b %d %H:%M:%S", "%d/%m/%Y %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            return datetime.strptime(f"{date.strip()} {time.strip()}", pattern)
        except ValueError:
            continue
    raise MalformedFileError(path, f"line {line}: cannot read the time stamp {date.strip()!r} {time.strip()!r}")


def _sensor_side(path: Path, name: str) -> str:
    match = re.search(r"-(L|R)F\b", name)
    if match:
        return "left" if match.group(1) == "L" else "right"
    side = side_from_name(name.split()[0]) if name.split() else None
    if side is None:
        raise MalformedFileError(path, f"cannot tell which foot sensor {name!r} is on (no -LF/-RF in its name)")
    return side


def _int_field(path: Path, block: _Block, key: str) -> int:
    value = number_in(block.fields.get(key, ""))
    if value is None or value != int(value) or value < 1:
        raise MalformedFileError(path, f"line {block.line}: block has no valid {key!r} line")
    return int(value)


def _float_field(path: Path, block: _Block, key: str) -> float:
    value = number_in(block.fields.get(key, ""))
    if value is None or not value > 0:
        raise MalformedFileError(path, f"line {block.line}: block has no valid {key!r} line")
    return value


def _column(blocks: list[_Block], *keys: str) -> np.ndarray:
    out = np.full(len(blocks), np.nan)
    for i, block in enumerate(blocks):
        for key in keys:
            if key in block.fields:
                value = number_in(block.fields[key])
                out[i] = np.nan if value is None else value
                break
    return out


def _read_grid(
    path: Path, blocks: list[_Block], n_rows: int, n_cols: int, frames: list[tuple[int, datetime]]
) -> np.ndarray:
    """(frames, rows, cols) from the SENSELS lines of each block, parsed in one call."""
    for block in blocks:
        if len(block.data) != n_rows:
            last = block is blocks[-1] and len(block.data) < n_rows
            where = f"frame {frames[block.frame][0]}, sensor {block.name}"
            if last:
                raise MalformedFileError(
                    path, f"{where} has {len(block.data)} of {n_rows} sensel rows: file cut short (truncated?)"
                )
            raise MalformedFileError(
                path,
                f"{where} (line {block.line}) has {len(block.data)} sensel rows, "
                f"but Rows says {n_rows} (wrong grid size)",
            )
    lines = [line for block in blocks for line in block.data]
    numbers = [n for block in blocks for n in block.data_lines]
    filled = np.fromiter((len(line.rstrip(", ").split(",")) for line in lines), dtype=np.int64, count=len(lines))
    wrong = np.flatnonzero(filled != n_cols)
    if wrong.size:
        k = int(wrong[0])
        raise MalformedFileError(
            path, f"line {numbers[k]} has {filled[k]} sensel values, but Columns says {n_cols} (wrong grid size)"
        )
    try:
        import pandas as pd  # here, not at the top: listing the formats (`insole --help`) must stay light
        table = pd.read_csv(io.StringIO("\n".join(lines)), header=None, usecols=range(n_cols), dtype=np.float64,
                            engine="c", keep_default_na=False, na_values=[])
    except ValueError as error:
        raise MalformedFileError(path, f"a sensel value is not a number ({one_line(error)})") from None
    return table.to_numpy().reshape(len(blocks), n_rows, n_cols)


def _locate_regions(
    path: Path,
    blocks: list[_Block],
    grids: dict[str, np.ndarray],
    sides: dict[str, str],
    n_frames: int,
    n_cols: int,
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, dict[str, tuple[np.ndarray, str]]]]:
    """Where each named region lies on the canonical grid, and its per-frame vendor force.

    A region lists its cells' values in a traced order, not their positions;
    a cell is found as the one grid cell whose values match in every frame.
    Cells that never carried load match many cells; each is placed next to its
    neighbours in the traced order when that leaves one candidate, else left
    out (the region's force channel is the vendor's own figure either way).
    """
    groups = [b for b in blocks if b.kind == "group"]
    by_name: dict[str, list[_Block]] = {}
    for block in groups:
        by_name.setdefault(block.name, []).append(block)
    cells: dict[str, list[tuple[int, int]]] = {}
    forces: dict[str, dict[str, tuple[np.ndarray, str]]] = {}
    side_of_sensor = {sides[n]: n for n in grids}
    taken_by_side: dict[str, set[int]] = {}  # the regions of one insole do not overlap
    # Regions with the fewest ambiguous cells first, so their cells are out of the way of the others.
    for name, mine in by_name.items():
        side = side_from_name(name.split()[0]) if name.split() else None
        if side not in side_of_sensor:
            continue
        if len(mine) != n_frames:
            last = {b.frame for b in mine}
            if len(mine) == n_frames - 1 and n_frames - 1 not in last:
                raise MalformedFileError(
                    path,
                    f"the last frame (number {n_frames} in the file) lacks region {name}: file cut short (truncated?)",
                )
            continue
        grid = grids[side_of_sensor[side]]
        count = number_in(mine[0].fields.get("Cells", ""))
        series = []
        for block in mine:
            values = np.array([v for v in ",".join(block.data).split(",") if v.strip() != ""], dtype=np.float64)
            if count is not None and values.size != int(count):
                cut = block is mine[-1] and block.frame == n_frames - 1
                raise MalformedFileError(
                    path,
                    f"line {block.line}: region {name} lists {values.size} cells, its Cells line says {int(count)}"
                    + (": file cut short (truncated?)" if cut else ""),
                )
            series.append(values)
        if len({s.size for s in series}) != 1:
            raise MalformedFileError(path, f"region {name} changes its number of cells between frames")
        matrix = np.stack(series)  # frames x cells
        flat = grid.reshape(n_frames, -1)
        match = np.all(matrix[:, :, None] == flat[:, None, :], axis=0)  # cells x grid cells
        placed = _place(match, n_cols, taken_by_side.setdefault(side, set()))
        if side == "right":
            placed = [(r, n_cols - 1 - c) for r, c in placed]
        cells[name] = placed
        key = _region_key(name)
        forces.setdefault(side, {})[key] = (_column(mine, "Est. Load (N)"), name)
    return cells, forces


def _place(match: np.ndarray, n_cols: int, taken: set[int]) -> list[tuple[int, int]]:
    n_cells = match.shape[0]
    position = np.where(match.sum(axis=1) == 1, np.argmax(match, axis=1), -1)
    taken.update(position[position >= 0].tolist())
    for _ in range(4):  # a few sweeps resolve chains of unloaded cells
        for k in np.flatnonzero(position < 0):
            candidates = [int(j) for j in np.flatnonzero(match[k]) if int(j) not in taken]
            neighbours = [position[i] for i in (k - 1, k + 1) if 0 <= i < n_cells and position[i] >= 0]
            if neighbours:
                both = [j for j in candidates if all(_adjacent(j, n, n_cols) for n in neighbours)]
                candidates = both or [j for j in candidates if any(_adjacent(j, n, n_cols) for n in neighbours)]
            if len(candidates) == 1:
                position[k] = candidates[0]
                taken.add(candidates[0])
    return [divmod(int(j), n_cols) for j in position if j >= 0]


def _adjacent(a: int, b: int, n_cols: int) -> bool:
    ra, ca = divmod(a, n_cols)
    rb, cb = divmod(b, n_cols)
    return max(abs(ra - rb), abs(ca - cb)) == 1


IMPORTERS = (XsensorImporter(),)

"""novel pedar / pedar-x ASCII export (``.asc``): 99 sensors per insole, both feet in one file.

The header (tab-separated ``key: value`` pairs over a few lines)::

    file name:  <trial>.sol    date/time  25.04.23 10.49
    sensor type:  y-1865l-1870r-pxf306-11mar2021
    total time [secs]:  15.050    time per frame [secs]:  0.01000    scanning rate [Hz]:   100
    pressure values in  kPa
    mask definition:
    left insole: 1,2,...,99,
    right insole: 1,2,...,99,

then ``time[secs]`` and the sensor numbers as column names, and one row per
frame: time (s), left sensors 1-99, right sensors 1-99 (kPa, fixed width).

The file holds no geometry, so the layout is an approximation of ours
(``pedar99``, marked approximate), built from what is known of the insole:

* 99 sensors in 15 rows from heel to toe holding 5, twelve times 7, then 6
  and 4 sensors, numbered row by row from the heel and, within a row, from
  the medial to the lateral edge (sensor 1 medial heel, 96 the hallux's
  tip); this numbering agrees with the published pedar region masks below;
* every sensor has the same area, the size's mean sensor area (the sensor
  type's first letter is the insole size; u 127, v 141, w 157, x 174, y 193,
  z 217 mm², means of the per-sensor areas tabulated in the R package
  pressuRe, ``pedar_insole_area``; single sensors differ by about 3 %);
* the sensors tile our generic insole outline (``insole._layout``) scaled
  so that its area equals the sensors' summed area: rows are cut where the
  outline's cumulative area reaches each row's share, sensors spread evenly
  across the row's width. Positions are therefore good to a sensor's size,
  not better.

Regions are the nine-region pedar mask used in the literature (medial and
lateral hindfoot and midfoot, MTPJ1, MTPJ2-3, MTPJ4-5, hallux, lesser toes;
sensor sets as in pressuRe ``pedar_mask(..., "mask3")``, which cites
J Foot Ankle Res 2014, 7:20 for them).
The header's mask definition (which sensors the export includes) is kept in
``meta.extra["mask_definition"]``; columns are kept as written.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from insole._errors import MalformedFileError
from insole._layout import SensorLayout, _foot_outline
from insole._recording import FootSamples, Recording, RecordingMeta
from insole.io._importers._table import head_lines, importer_software, one_line, provenance, read_text
from insole.io._importers._vendor import kpa_factor, number_in

__all__ = ["IMPORTERS", "PedarImporter", "pedar_layout", "ROW_COUNTS", "SENSOR_AREA_MM2"]

N_SENSORS = 99
ROW_COUNTS = (5,) + (7,) * 12 + (6, 4)  # heel to toe
SENSOR_AREA_MM2 = {"u": 127.0, "v": 141.0, "w": 157.0, "x": 174.0, "y": 193.0, "z": 217.0}
_DEFAULT_SIZE_AREA_MM2 = SENSOR_AREA_MM2["x"]


def _ranges(*spans: tuple[int, int]) -> list[int]:
    return [n for first, last in spans for n in range(first, last + 1)]


# Nine-region pedar mask (sensor numbers, 1-based).
_MASK = {
    "medial_heel": _ranges((1, 2), (6, 8), (13, 15), (20, 22)),
    "lateral_heel": _ranges((3, 5), (9, 12), (16, 19), (23, 26)),
    "medial_midfoot": _ranges((27, 29), (34, 36), (41, 43), (48, 50), (55, 57)),
    "lateral_midfoot": _ranges((30, 33), (37, 40), (44, 47), (51, 54), (58, 59)),
    "first_metatarsal": _ranges((62, 63), (69, 70), (76, 77)),
    "central_metatarsals": _ranges((64, 66), (71, 73), (78, 80)),
    "lateral_metatarsals": _ranges((60, 61), (67, 68), (74, 75)),
    "hallux": _ranges((83, 84), (90, 91), (96, 96)),
    "lesser_toes": _ranges((81, 82), (85, 89), (92, 95), (97, 99)),
}


def pedar_layout(size: str | None = None) -> SensorLayout:
    """Our approximate pedar insole of a size letter (see the module docstring)."""
    key = (size or "").lower()
    area = SENSOR_AREA_MM2.get(key, _DEFAULT_SIZE_AREA_MM2)
    unit_outline = _foot_outline(1.0)
    unit_area = 0.5 * abs(np.dot(unit_outline[:, 0], np.roll(unit_outline[:, 1], 1))
                          - np.dot(unit_outline[:, 1], np.roll(unit_outline[:, 0], 1)))
    length = math.sqrt(N_SENSORS * area / unit_area)
    outline = _foot_outline(length)
    half = len(outline) // 2 + 1
    medial_pts, lateral_pts = outline[:half], outline[half - 1:][::-1]
    xs = np.linspace(0.0, length, 4001)
    medial = np.interp(xs, medial_pts[:, 0], medial_pts[:, 1])
    lateral = np.interp(xs, lateral_pts[:, 0], lateral_pts[:, 1])
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (medial - lateral)[1:] * np.diff(xs)
                                                   + 0.5 * (medial - lateral)[:-1] * np.diff(xs))])
    bounds = np.interp(np.concatenate([[0], np.cumsum(ROW_COUNTS)]) * area * cumulative[-1] / (N_SENSORS * area),
                       cumulative, xs)
    x_mm, y_mm = [], []
    for row, count in enumerate(ROW_COUNTS):
        centre = 0.5 * (bounds[row] + bounds[row + 1])
        edge_medial = float(np.interp(centre, xs, medial))
        edge_lateral = float(np.interp(centre, xs, lateral))
        step = (edge_medial - edge_lateral) / count
        for k in range(count):  # medial first
            x_mm.append(centre)
            y_mm.append(edge_medial - (k + 0.5) * step)
    regions = ["" for _ in range(N_SENSORS)]
    for region, sensors in _MASK.items():
        for number in sensors:
            regions[number - 1] = region
    known = key in SENSOR_AREA_MM2
    return SensorLayout(
        name="pedar99",
        sensor_names=tuple(f"s{n}" for n in range(1, N_SENSORS + 1)),
        x_mm=np.asarray(x_mm),
        y_mm=np.asarray(y_mm),
        area_mm2=np.full(N_SENSORS, area),
        regions=tuple(regions),
        foot_length_mm=float(length),
        outline_mm=outline,
        approximate=True,
        source=(
            "APPROXIMATE: novel pedar 99-sensor insole; rows of 5, 7 (x12), 6, 4 sensors numbered heel to toe "
            "and medial to lateral, equal-area sensors tiling our generic outline; sensor area "
            + (f"{area:g} mm² (mean for insole size {key!r})" if known else
               f"{area:g} mm² assumed (insole size {size!r} unknown; size x)")
            + "; regions: nine-region pedar mask"
        ),
        extra={"vendor": "novel", "insole_size": key or None, "row_counts": list(ROW_COUNTS),
               "sensor_area_known": known},
    )


def _header_fields(lines: list[str]) -> dict[str, str]:
    """``key: value`` pairs; several may share a line, separated by tabs."""
    fields: dict[str, str] = {}
    for line in lines:
        for part in line.split("\t"):
            part = part.strip()
            if not part:
                continue
            if ":" in part:
                key, _, value = part.partition(":")
                fields[key.strip().lower()] = value.strip()
            elif part.lower().startswith("date/time"):
                fields["date/time"] = part[len("date/time"):].strip()
            elif part.lower().startswith("pressure values in"):
                fields["pressure values in"] = part[len("pressure values in"):].strip()
    return fields


@dataclass(frozen=True)
class PedarImporter:
    name: str = "pedar"
    description: str = "novel pedar ASCII export (.asc): 99 sensors per insole, kPa, mask definition in the header"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = head_lines(head, "latin-1")[:30]
        text = "\n".join(lines).lower()
        return "sensor type:" in text and "time[secs]" in text and ("scanning rate" in text or "time per frame" in text)

    def load(self, path: Path) -> Recording:
        path = Path(path)
        text = read_text(path, encoding="latin-1", row_end="\t")  # its rows end with a tab
        lines = text.split("\n")
        column_line = next((i for i, line in enumerate(lines[:60]) if line.strip().lower().startswith("time[")), None)
        if column_line is None:
            raise MalformedFileError(
                path, "no 'time[secs]' column line in the first 60 lines: not a complete pedar export"
            )
        fields = _header_fields(lines[:column_line])
        unit = fields.get("pressure values in", "kPa")
        factor = kpa_factor(path, unit)
        rate_hz = number_in(fields.get("scanning rate [hz]", "") or "")
        period_s = number_in(fields.get("time per frame [secs]", "") or "")
        if rate_hz is None and period_s:
            rate_hz = 1.0 / period_s
        if not rate_hz or rate_hz <= 0:
            raise MalformedFileError(path, "header gives no scanning rate [Hz] or time per frame")
        total_s = number_in(fields.get("total time [secs]", "") or "")
        masks = {side: _mask(path, fields.get(f"{side} insole")) for side in ("left", "right")}
        names = lines[column_line].split()
        numbers = names[1:]
        n_insoles = len(numbers) // N_SENSORS
        if len(numbers) % N_SENSORS or n_insoles not in (1, 2):
            raise MalformedFileError(
                path, f"line {column_line + 1} names {len(numbers)} sensor columns, expected 99 or 198 (99 per insole)"
            )
        expected = [str(n) for n in range(1, N_SENSORS + 1)] * n_insoles
        if numbers != expected:
            raise MalformedFileError(path, f"line {column_line + 1}: sensor columns are not numbered 1..99 per insole")
        sides = (
            ("left", "right") if n_insoles == 2 else (("right",) if masks["right"] and not masks["left"] else ("left",))
        )

        data = _read_rows(path, lines, column_line + 1, 1 + N_SENSORS * n_insoles)
        n_frames = data.shape[0]
        if total_s is not None:
            expected_frames = int(round(total_s * rate_hz))
            if n_frames < expected_frames:
                raise MalformedFileError(
                    path, f"has {n_frames} of the {expected_frames} frames its header announces "
                    f"(total time {total_s:g} s at {rate_hz:g} Hz): truncated?"
                )
        time_s = data[:, 0]
        if n_frames > 1 and np.any(np.diff(time_s) <= 0):
            k = int(np.flatnonzero(np.diff(time_s) <= 0)[0]) + 1
            raise MalformedFileError(path, f"line {column_line + 2 + k}: time {time_s[k]:g} s does not increase")
        pressures = data[:, 1:] * factor
        if np.any(pressures < 0):
            k = int(np.flatnonzero(np.any(pressures < 0, axis=1))[0])
            raise MalformedFileError(path, f"line {column_line + 2 + k}: negative pressure")
        size, serials = _sensor_type(fields.get("sensor type", ""))
        layout = pedar_layout(size)
        feet: dict[str, FootSamples | None] = {"left": None, "right": None}
        valid = np.ones(n_frames, dtype=bool)
        for k, side in enumerate(sides):
            feet[side] = FootSamples(time_s=time_s, values=pressures[:, k * N_SENSORS:(k + 1) * N_SENSORS], valid=valid)
        devices = {side: {"vendor": "novel", "system": "pedar", "insole_size": size, "insole_serial": serials.get(side),
                          "sensor_type": fields.get("sensor type")} for side in sides}
        meta = RecordingMeta(
            recorded_at=_date(fields.get("date/time", "")),
            devices=devices,
            software=importer_software("pedar"),
            source=provenance(path, "pedar"),
            extra={
                "vendor_file": fields.get("file name"),
                "vendor_header": fields,
                "mask_definition": {side: masks[side] for side in sides},
                "total_time_s": total_s,
                "unit_in_file": unit,
            },
        )
        return Recording(layout=layout, unit="kPa", sample_rate_hz=float(rate_hz), left=feet["left"],
                         right=feet["right"], meta=meta)


def _mask(path: Path, text: str | None) -> list[int] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise MalformedFileError(path, f"mask definition {text[:40]!r} is not a list of sensor numbers") from None
    if any(not 1 <= n <= N_SENSORS for n in numbers):
        raise MalformedFileError(path, "mask definition names a sensor outside 1..99")
    return numbers


def _sensor_type(text: str) -> tuple[str | None, dict[str, str]]:
    parts = [p.strip() for p in text.strip().split("-") if p.strip()]
    size = parts[0].lower() if parts and re.fullmatch(r"[a-z]{1,2}", parts[0].lower()) else None
    serials = {}
    for part in parts[1:]:
        if re.fullmatch(r"\d+l", part.lower()):
            serials["left"] = part
        elif re.fullmatch(r"\d+r", part.lower()):
            serials["right"] = part
    return size, serials


def _date(text: str) -> str | None:
    for pattern in ("%d.%m.%y %H.%M", "%d.%m.%Y %H.%M", "%d.%m.%y %H:%M", "%d.%m.%Y %H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), pattern).isoformat()
        except ValueError:
            continue
    return text.strip() or None


def _read_rows(path: Path, lines: list[str], first: int, n_columns: int) -> np.ndarray:
    body = lines[first:]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        raise MalformedFileError(path, "has a header but no frames")
    counts = np.fromiter((len(line.split()) for line in body), dtype=np.int64, count=len(body))
    wrong = np.flatnonzero(counts != n_columns)
    if wrong.size:
        k = int(wrong[0])
        if k == len(body) - 1 and counts[k] < n_columns:
            raise MalformedFileError(
                path, f"line {first + k + 1} has {counts[k]} of {n_columns} fields: file cut short (truncated?)"
            )
        raise MalformedFileError(
            path, f"line {first + k + 1} has {counts[k]} fields, expected {n_columns} (time and 99 per insole)"
        )
    try:
        import pandas as pd  # here, not at the top: listing the formats (`insole --help`) must stay light
        table = pd.read_csv(io.StringIO("\n".join(body)), header=None, sep=r"\s+", dtype=np.float64, engine="c")
    except ValueError as error:
        raise MalformedFileError(path, f"a value is not a number ({one_line(error)})") from None
    return table.to_numpy()


IMPORTERS = (PedarImporter(),)

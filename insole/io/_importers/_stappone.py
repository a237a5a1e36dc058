"""stappone insole CSV: 12 pressure channels, IMU and a corrupt flag per sample, one or two soles.

Columns: ``sole_id``, ``timestamp`` (ms since the Unix epoch), ``accel_x/y/z``,
``gyro_x/y/z``, ``magn_x/y/z``, ``pressure_01`` .. ``pressure_12`` (raw,
uncalibrated units), ``corrupt`` (1 for a sample the insole marked bad).

What becomes of it:

* one foot per ``sole_id``; **sole 1 is taken as the left foot and sole 2 as
  the right** (an assumption: no stappone documentation was at hand; the
  sole id is kept in ``meta.devices``);
* time from the timestamps, relative to the earliest sample of either sole;
  the nominal rate is 1 / median interval (16 ms -> 62.5 Hz in the sample);
  a hole of more than 1.5 intervals becomes invalid slots at the nominal
  spacing (gaps are marked, never filled);
* a ``corrupt`` sample is an invalid slot (NaN values);
* pressures stay raw (unit ``au``): the file gives no calibration;
* IMU units are inferred from the values' steps, since the file does not
  state them: accelerations step by ~4.79 and rest near 9800 at 1 g, i.e.
  mm/s² (0.488 mg per bit); angular rates step by ~1221.7 = 0.07 °/s in
  µrad/s (70 mdps per bit). Both are the resolutions of a common 16 g /
  2000 °/s IMU. Converted to g and °/s. An all-zero magnetometer is left out.

Layout ``stappone12`` (approximate, no geometry in the file or at hand): the
sample's stance timing shows sensors 3, 7, 8, 10 and 11 peaking early in
stance (rearfoot) and 1, 2, 4, 5, 6, 9 and 12 late (forefoot and toes); the
layout places them accordingly with coarse regions ``heel`` and
``forefoot``. Positions are placeholders for drawing, not measurements.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from insole._errors import MalformedFileError
from insole._layout import SensorLayout, _foot_outline, foot_length_mm_for_eu_size
from insole._recording import FootSamples, Recording, RecordingMeta
from insole.io._importers._table import (
    head_lines,
    importer_software,
    one_line,
    provenance,
    read_text,
    refuse_huge_gaps,
)

__all__ = ["IMPORTERS", "StapponeImporter", "stappone_layout"]

N_PRESSURES = 12
PRESSURE_COLUMNS = tuple(f"pressure_{k:02d}" for k in range(1, N_PRESSURES + 1))
REQUIRED = ("sole_id", "timestamp", *PRESSURE_COLUMNS)
ACCEL_MM_S2_PER_G = 9806.65
GYRO_URAD_S_TO_DPS = 180.0 / math.pi * 1e-6
SOLE_SIDE = {1: "left", 2: "right"}

# name -> (x as a fraction of length, y as a fraction of ball width (+ medial), region)
_STAPPONE12 = {
    "pressure_01": (0.90, 0.25, "forefoot"),
    "pressure_02": (0.78, 0.30, "forefoot"),
    "pressure_03": (0.32, -0.20, "heel"),
    "pressure_04": (0.72, 0.15, "forefoot"),
    "pressure_05": (0.72, -0.05, "forefoot"),
    "pressure_06": (0.68, -0.25, "forefoot"),
    "pressure_07": (0.10, 0.10, "heel"),
    "pressure_08": (0.10, -0.10, "heel"),
    "pressure_09": (0.86, -0.10, "forefoot"),
    "pressure_10": (0.20, 0.12, "heel"),
    "pressure_11": (0.20, -0.14, "heel"),
    "pressure_12": (0.62, -0.35, "forefoot"),
}


def stappone_layout(shoe_size_eu: float = 42.0) -> SensorLayout:
    """Our placeholder 12-sensor stappone layout (see the module docstring)."""
    length = foot_length_mm_for_eu_size(shoe_size_eu)
    ball_width = 0.39 * length
    names = tuple(_STAPPONE12)
    fx, fy, regions = zip(*(_STAPPONE12[n] for n in names))
    return SensorLayout(
        name="stappone12",
        sensor_names=names,
        x_mm=np.asarray(fx) * length,
        y_mm=np.asarray(fy) * ball_width,
        area_mm2=np.full(N_PRESSURES, np.nan),
        regions=tuple(regions),
        foot_length_mm=length,
        outline_mm=_foot_outline(length),
        approximate=True,
        source=(
            "APPROXIMATE: stappone sensor positions are unknown to us; rearfoot/forefoot split inferred from "
            "the stance timing of each channel in a real stappone export (pressuRe sample), positions are "
            "placeholders; areas unknown (raw values)"
        ),
        shoe_size_eu=float(shoe_size_eu),
    )


@dataclass(frozen=True)
class StapponeImporter:
    name: str = "stappone"
    description: str = "stappone insole CSV: 12 raw pressure channels, IMU, corrupt flag, one or two soles"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = head_lines(head)
        if not lines:
            return False
        names = [n.strip() for n in lines[0].lstrip("\ufeff").split(",")]
        return all(column in names for column in REQUIRED)

    def load(self, path: Path) -> Recording:
        path = Path(path)
        text = read_text(path).lstrip("\ufeff")
        lines = text.rstrip("\n").split("\n")
        names = [n.strip() for n in lines[0].split(",")]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise MalformedFileError(path, f"missing columns {', '.join(missing)}")
        if len(lines) < 2:
            raise MalformedFileError(path, "has a header but no samples")
        counts = np.fromiter((line.count(",") + 1 for line in lines[1:]), dtype=np.int64, count=len(lines) - 1)
        wrong = np.flatnonzero(counts != len(names))
        if wrong.size:
            k = int(wrong[0])
            cut = k == len(lines) - 2 and counts[k] < len(names) and not text.endswith("\n")
            raise MalformedFileError(
                path, f"line {k + 2} has {counts[k]} of {len(names)} fields"
                + (": file cut short (truncated?)" if cut else " (wrong column count)")
            )
        try:
            import pandas as pd  # here, not at the top: listing the formats (`insole --help`) must stay light
            table = pd.read_csv(io.StringIO(text), dtype=np.float64, engine="c", keep_default_na=False, na_values=[])
        except ValueError as error:
            raise MalformedFileError(path, f"a field is not a number ({one_line(error)})") from None
        table.columns = [c.strip() for c in table.columns]
        sole_ids = table["sole_id"].to_numpy()
        unknown = sorted(set(sole_ids.tolist()) - set(SOLE_SIDE))
        if unknown:
            raise MalformedFileError(path, f"sole_id {unknown[0]:g} is neither 1 nor 2")
        stamps_ms = table["timestamp"].to_numpy()
        t0_ms = float(stamps_ms.min())
        has_imu = all(f"{s}_{a}" in table for s in ("accel", "gyro") for a in "xyz")
        magnetometer = [f"magn_{a}" for a in "xyz" if f"magn_{a}" in table]
        keep_magnetometer = bool(magnetometer) and bool(np.any(table[magnetometer].to_numpy() != 0))
        corrupt = table["corrupt"].to_numpy() != 0 if "corrupt" in table else np.zeros(len(table), dtype=bool)

        feet: dict[str, FootSamples | None] = {"left": None, "right": None}
        periods = {}
        gaps = {}
        for sole in sorted(set(sole_ids.astype(int).tolist())):
            rows = np.flatnonzero(sole_ids == sole)
            stamps = stamps_ms[rows]
            step = np.diff(stamps)
            if np.any(step <= 0):
                k = int(np.flatnonzero(step <= 0)[0]) + 1
                raise MalformedFileError(
                    path, f"line {rows[k] + 2}: sole {sole} timestamp {stamps[k]:.0f} ms does not increase"
                )
            period_ms = float(np.median(step)) if step.size else 16.0
            periods[sole] = period_ms
            slot_of_row, n_slots = _slots(stamps, period_ms)
            if step.size:
                k = int(np.argmax(step)) + 1
                jump = f"a jump of {step[k - 1] / 1000.0:g} s at line {rows[k] + 2}"
                refuse_huge_gaps(path, int(rows.size), n_slots, f"sole {sole}'s timestamps ({jump})")
            gaps[sole] = int(n_slots - rows.size)
            time_ms = np.empty(n_slots)
            time_ms[slot_of_row] = stamps
            missing_slots = np.setdiff1d(np.arange(n_slots), slot_of_row)
            if missing_slots.size:
                # A missing slot's time: its nearest earlier sample plus whole periods.
                before = np.searchsorted(slot_of_row, missing_slots) - 1
                time_ms[missing_slots] = stamps[before] + (missing_slots - slot_of_row[before]) * period_ms
            valid = np.zeros(n_slots, dtype=bool)
            valid[slot_of_row] = ~corrupt[rows]

            def slotted(
                columns: list[str], scale: float = 1.0, *, n_slots: int = n_slots,
                slot_of_row: np.ndarray = slot_of_row, rows: np.ndarray = rows, valid: np.ndarray = valid,
            ) -> np.ndarray:
                out = np.full((n_slots, len(columns)), np.nan)
                out[slot_of_row] = table[columns].to_numpy()[rows] * scale
                out[~valid] = np.nan
                return out

            channels = {}
            if keep_magnetometer:
                for column, values in zip(magnetometer, slotted(magnetometer).T):
                    channels[f"{column}_au"] = values
            feet[SOLE_SIDE[sole]] = FootSamples(
                time_s=(time_ms - t0_ms) / 1000.0,
                values=slotted(list(PRESSURE_COLUMNS)),
                valid=valid,
                accel_g=slotted([f"accel_{a}" for a in "xyz"], 1.0 / ACCEL_MM_S2_PER_G) if has_imu else None,
                gyro_dps=slotted([f"gyro_{a}" for a in "xyz"], GYRO_URAD_S_TO_DPS) if has_imu else None,
                channels=channels,
            )
        period_ms = float(np.median(list(periods.values())))
        meta = RecordingMeta(
            recorded_at=datetime.fromtimestamp(t0_ms / 1000.0, tz=timezone.utc).isoformat(timespec="milliseconds"),
            devices={
                SOLE_SIDE[s]: {"vendor": "stappone", "sole_id": s, "side_from": "assumed: sole 1 left, sole 2 right"}
                for s in periods
            },
            software=importer_software("stappone"),
            source={
                **provenance(path, "stappone"),
                "time_zero": {
                    # the file's clock is absolute; our axis starts at its first sample
                    "source_column": "timestamp",
                    "source_unit": "ms since the Unix epoch",
                    "source_value": t0_ms,
                },
            },
            extra={
                "start_epoch_ms": t0_ms,
                # keys as text: the description is JSON, and must read back equal
                "period_ms": {f"sole_{k}": v for k, v in periods.items()},
                "inserted_gap_slots": {f"sole_{k}": v for k, v in gaps.items()},
                "corrupt_samples": int(corrupt.sum()),
                "imu_units_in_file": "accel mm/s², gyro µrad/s (inferred from value steps)",
                "magnetometer": "kept as magn_*_au" if keep_magnetometer else "all zero in the file; left out",
            },
        )
        return Recording(layout=stappone_layout(), unit="au", sample_rate_hz=1000.0 / period_ms,
                         left=feet["left"], right=feet["right"], meta=meta)


def _slots(stamps_ms: np.ndarray, period_ms: float) -> tuple[np.ndarray, int]:
    """Slot index of every sample, with the holes (> 1.5 periods) kept as empty slots."""
    if stamps_ms.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    step = np.diff(stamps_ms)
    advance = np.where(step > 1.5 * period_ms, np.rint(step / period_ms), 1).astype(np.int64)
    slot = np.concatenate([[0], np.cumsum(advance)])
    return slot, int(slot[-1]) + 1


IMPORTERS = (StapponeImporter(),)

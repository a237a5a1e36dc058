"""BIDS-motion export and its reader (BIDS 1.9+, the motion datatype of BEP029).

One dataset directory per export::

    dataset_description.json  README  participants.tsv  participants.json
    sub-<label>/sub-<label>_scans.tsv
    sub-<label>/motion/sub-<label>_task-<task>_tracksys-<left|right>insole_motion.tsv
                                                                     _motion.json
                                                                     _channels.tsv

Each insole is its own tracking system (one device, one clock, one
``tracksys``). ``*_motion.tsv`` has no header row; one row per sample slot
of that foot and the columns of ``*_channels.tsv`` in order:

* ``latency`` (type ``LATENCY``, s): the slot's time on the recording's
  axis, so irregular sampling and the two feet's clocks survive;
* ``sample_valid`` (``MISC``, 1/0): 0 marks a gap slot (its values are
  ``n/a``; gaps are marked, never filled);
* one ``MISC`` channel per sensor, in the recording's unit (kPa, N; ``n/a``
  for uncalibrated values) with the sensor's position in ``placement``:
  BIDS has no pressure channel type;
* ``ACCEL`` x/y/z in m/s² and ``GYRO`` x/y/z in rad/s when the insole has an
  IMU (converted from g and °/s);
* the recording's extra channels (``MISC``, unit from the name's suffix).

``*_motion.json`` carries the BIDS fields (``TaskName``, ``SamplingFrequency``,
channel counts, ``RecordingDuration``, ``MissingValues``, device facts);
``*_insole.json`` beside it (listed in ``.bidsignore``) holds our own
description of the recording (layout, unit, metadata, events) so
``read_bids`` rebuilds it. ``GeneratedBy`` in
dataset_description.json names insole, its version and the export's input.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insole._errors import InputError, MalformedFileError
from insole._layout import SensorLayout
from insole._recording import SIDES, FootSamples, Mark, Recording, RecordingMeta, ReferenceEvents
from insole._version import __version__
from insole.io._format import _description

__all__ = ["BidsExportParams", "write_bids", "read_bids", "bids_label", "STANDARD_GRAVITY_M_S2"]

STANDARD_GRAVITY_M_S2 = 9.80665
BIDS_VERSION = "1.10.0"
_AXES = ("x", "y", "z")
_DEG_TO_RAD = np.pi / 180.0
_INSOLE_KEY = "InsoleRecording"
_UNITS = {"kPa": "kPa", "N": "N", "au": "n/a"}


@dataclass(frozen=True)
class BidsExportParams:
    """What the export is called: BIDS entity labels (alphanumeric) and the dataset's name."""

    subject: str | None = None  # default: the recording's subject_id made alphanumeric, else "01"
    session: str | None = None
    task: str = "walk"
    run: int | None = None
    dataset_name: str = "insole recordings"


def bids_label(text: str | None, default: str) -> str:
    """``text`` reduced to the letters and digits a BIDS label allows (``default`` if none are left)."""
    label = re.sub(r"[^A-Za-z0-9]", "", text or "")
    return label or default


def _channel_unit(name: str) -> str:
    for suffix, unit in (("_kpa", "kPa"), ("_n", "N"), ("_mm2", "mm^2"), ("_mm", "mm"), ("_s", "s"), ("_hz", "Hz"),
                         ("_bw", "n/a"), ("_au", "n/a"), ("_g", "n/a")):
        if name.endswith(suffix):
            return unit
    return "n/a"


def _foot_table(recording: Recording, side: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(channels.tsv rows, sample columns) for one foot."""
    foot = recording.samples(side)
    layout = recording.layout
    tracked = f"{side}_foot"
    rows: list[dict[str, Any]] = [
        {"name": "latency", "component": "n/a", "type": "LATENCY", "tracked_point": "n/a", "units": "s",
         "placement": "n/a", "description": "time of the sample slot on the recording's time axis"},
        {"name": "sample_valid", "component": "n/a", "type": "MISC", "tracked_point": tracked, "units": "n/a",
         "placement": "n/a", "description": "1 = valid sample, 0 = gap slot (values n/a, never filled)"},
    ]
    columns: dict[str, np.ndarray] = {"latency": foot.time_s, "sample_valid": foot.valid.astype(np.int8)}
    unit = _UNITS[recording.unit]
    for j, name in enumerate(layout.sensor_names):
        area = layout.area_mm2[j]
        rows.append({
            "name": name, "component": "n/a", "type": "MISC", "tracked_point": tracked, "units": unit,
            "placement": f"x={layout.x_mm[j]:.2f} mm y={layout.y_mm[j]:.2f} mm (heel origin, +x toes, +y medial); "
                         f"region {layout.regions[j]}",
            "description": ("plantar pressure" if recording.unit == "kPa" else "sensor force" if recording.unit == "N"
                            else "uncalibrated sensor value (arbitrary units)")
                           + (f"; sensor area {area:.4g} mm^2" if np.isfinite(area) else ""),
        })
        columns[name] = foot.values[:, j]
    if foot.accel_g is not None:
        for k, axis in enumerate(_AXES):
            rows.append({"name": f"accel_{axis}", "component": axis, "type": "ACCEL", "tracked_point": tracked,
                         "units": "m/s^2", "placement": "insole IMU", "description": "acceleration (insole frame)"})
            columns[f"accel_{axis}"] = foot.accel_g[:, k].astype(np.float64) * STANDARD_GRAVITY_M_S2
    if foot.gyro_dps is not None:
        for k, axis in enumerate(_AXES):
            rows.append({"name": f"gyro_{axis}", "component": axis, "type": "GYRO", "tracked_point": tracked,
                         "units": "rad/s", "placement": "insole IMU", "description": "angular rate (insole frame)"})
            columns[f"gyro_{axis}"] = foot.gyro_dps[:, k].astype(np.float64) * _DEG_TO_RAD
    for name in sorted(foot.channels):
        rows.append(
            {
                "name": name,
                "component": "n/a",
                "type": "MISC",
                "tracked_point": tracked,
                "units": _channel_unit(name),
                "placement": "n/a",
                "description": "channel of the source recording",
            }
        )
        columns[name] = foot.channels[name]
    return pd.DataFrame(rows), pd.DataFrame(columns)


def write_bids(recording: Recording, out_dir: str | Path, params: BidsExportParams | None = None,
               *, input_path: str | Path | None = None) -> list[Path]:
    """Write ``recording`` as a BIDS-motion dataset under ``out_dir``; return the files written."""
    params = params or BidsExportParams()
    out = Path(out_dir)
    subject = bids_label(params.subject or recording.meta.subject_id, "01")
    task = bids_label(params.task, "walk")
    sub_dir = out / f"sub-{subject}"
    prefix = f"sub-{subject}"
    if params.session:
        session = bids_label(params.session, "01")
        sub_dir = sub_dir / f"ses-{session}"
        prefix += f"_ses-{session}"
    motion_dir = sub_dir / "motion"
    motion_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    description = _description(recording)
    scans = []
    for side in recording.sides:
        foot = recording.samples(side)
        name = f"{prefix}_task-{task}_tracksys-{side}insole"
        if params.run is not None:
            name += f"_run-{int(params.run)}"
        channels, samples = _foot_table(recording, side)
        # pandas writes each float in the shortest form that reads back to the same float32/float64.
        written.append(_write_text(motion_dir / f"{name}_motion.tsv", samples.to_csv(
            sep="\t", header=False, index=False, lineterminator="\n", na_rep="n/a")))
        written.append(_write_text(motion_dir / f"{name}_channels.tsv",
                                   channels.to_csv(sep="\t", index=False, lineterminator="\n", na_rep="n/a")))
        counts = channels["type"].value_counts().to_dict()
        device = dict(recording.meta.devices.get(side, {}))
        span = float(foot.time_s[-1] - foot.time_s[0]) if foot.n_samples > 1 else 0.0
        sidecar = {
            "TaskName": task,
            "TaskDescription": recording.meta.condition or "walking with instrumented insoles",
            "SamplingFrequency": float(recording.sample_rate_hz),
            **({"SamplingFrequencyEffective": (foot.n_samples - 1) / span} if span > 0 else {}),
            "TrackingSystemName": f"{side} insole ({recording.layout.name})",
            "Manufacturer": str(device.get("vendor", "n/a")),
            "ManufacturersModelName": recording.layout.name,
            "DeviceSerialNumber": str(device.get("serial", device.get("insole_serial", "n/a"))),
            "SoftwareVersions": f"insole {__version__}",
            "RecordingDuration": float(span + 1.0 / recording.sample_rate_hz) if foot.n_samples else 0.0,
            "RecordingType": "continuous",
            "MotionChannelCount": int(len(channels)),
            # BIDS 1.11 renamed this MiscChannelCount (the old name is deprecated, a warning); the
            # npm bids-validator 1.x schema still rejects the new name, so the old one is written.
            "MISCChannelCount": int(counts.get("MISC", 0)),
            "ACCELChannelCount": int(counts.get("ACCEL", 0)),
            "GYROChannelCount": int(counts.get("GYRO", 0)),
            "LATENCYChannelCount": int(counts.get("LATENCY", 0)),
            "TrackedPointsCount": 1,
            "MissingValues": "n/a",
            "SubjectArtefactDescription": (
                f"{int((~foot.valid).sum())} of {foot.n_samples} sample slots are gaps (sample_valid 0)"
            ),
        }
        written.append(_write_text(motion_dir / f"{name}_motion.json", json.dumps(_jsonable(sidecar), indent=1) + "\n"))
        # Our full description sits beside the BIDS files (listed in .bidsignore): BIDS sidecars
        # may not carry extra keys under the validator's schema.
        ours = {_INSOLE_KEY: {"side": side, "recording": description}}
        written.append(_write_text(motion_dir / f"{name}_insole.json", json.dumps(_jsonable(ours), indent=1) + "\n"))
        scans.append({"filename": f"motion/{name}_motion.tsv", "acq_time": _acq_time(recording.meta.recorded_at)})
    written.append(_write_text(sub_dir / f"{prefix}_scans.tsv",
                               pd.DataFrame(scans).to_csv(sep="\t", index=False, lineterminator="\n")))
    written += _dataset_files(out, recording, subject, params, input_path)
    return written


def _dataset_files(out: Path, recording: Recording, subject: str, params: BidsExportParams,
                   input_path: str | Path | None) -> list[Path]:
    source = recording.meta.source or {}
    generated = {
        "Name": "insole",
        "Version": __version__,
        "Description": (
            f"BIDS-motion export of {source.get('file', input_path or 'a recording')} "
            f"(format {source.get('format', 'unknown')}, sha256 {source.get('sha256', 'n/a')}); "
            f"export parameters {json.dumps(asdict(params))}"
        ),
    }
    dataset = {
        "Name": params.dataset_name,
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "raw",
        "GeneratedBy": [generated],
    }
    licence = (recording.meta.extra or {}).get("licence") if isinstance(recording.meta.extra, Mapping) else None
    if licence:
        dataset["License"] = str(licence)
    files = [_write_text(out / "dataset_description.json", json.dumps(dataset, indent=1) + "\n")]
    ignore = out / ".bidsignore"
    lines = ignore.read_text().split("\n") if ignore.exists() else []
    if "*_insole.json" not in lines:
        files.append(_write_text(ignore, "\n".join([*(line for line in lines if line), "*_insole.json"]) + "\n"))
    readme = out / "README"
    if not readme.exists():
        files.append(_write_text(readme, (
            f"Insole pressure recordings exported by insole {__version__} as BIDS motion data.\n"
            "Each insole is one tracking system; pressures are MISC channels (BIDS has no pressure type),\n"
            "the LATENCY channel gives each sample's time, sample_valid marks gap slots.\n")))
    participants = out / "participants.tsv"
    row = {"participant_id": f"sub-{subject}",
           "weight": recording.meta.body_mass_kg if recording.meta.body_mass_kg is not None else "n/a"}
    table = pd.read_csv(participants, sep="\t", dtype=str) if participants.exists() else pd.DataFrame(columns=list(row))
    table = pd.concat([table[table["participant_id"] != row["participant_id"]], pd.DataFrame([row])], ignore_index=True)
    files.append(_write_text(participants, table.to_csv(sep="\t", index=False, lineterminator="\n", na_rep="n/a")))
    files.append(_write_text(out / "participants.json", json.dumps({
        "participant_id": {"Description": "subject label"},
        "weight": {"Description": "body mass", "Units": "kg"},
    }, indent=1) + "\n"))
    return files


def _acq_time(recorded_at: str | None) -> str:
    if not recorded_at:
        return "n/a"
    try:
        stamp = pd.Timestamp(recorded_at)
    except (ValueError, TypeError):
        return "n/a"
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return _jsonable(value.item())
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _write_text(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


# ----------------------------------------------------------------------------- reader


def read_bids(path: str | Path) -> Recording:
    """Rebuild a recording from our BIDS-motion export.

    ``path`` is the dataset directory, a subject directory, or one
    ``*_motion.tsv``/``*_motion.json`` (its sibling tracking systems of the
    same subject, task and run are read with it).
    """
    path = Path(path)
    if path.is_dir():
        sidecars = sorted(path.rglob("*_motion.json"))
    elif path.name.endswith(("_motion.tsv", "_motion.json")):
        stem = re.sub(r"_tracksys-[A-Za-z0-9]+", "_tracksys-*", path.name.rsplit("_motion.", 1)[0])
        sidecars = sorted(path.parent.glob(stem + "_motion.json"))
    else:
        raise InputError(path, "not a BIDS dataset directory or a *_motion.tsv/json file")
    if not sidecars:
        raise MalformedFileError(path, "no *_motion.json found")
    feet: dict[str, FootSamples] = {}
    description: Mapping[str, Any] | None = None
    for sidecar in sidecars:
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise MalformedFileError(sidecar, f"is not readable JSON ({error})") from None
        companion = sidecar.with_name(sidecar.name[: -len("_motion.json")] + "_insole.json")
        try:
            ours = json.loads(companion.read_text(encoding="utf-8")).get(_INSOLE_KEY)
        except (OSError, ValueError, AttributeError):
            ours = None
        if not isinstance(ours, Mapping):
            raise MalformedFileError(companion, f"is missing or not insole's description ({_INSOLE_KEY}): "
                                                "only our own BIDS exports can be read back")
        side = ours.get("side")
        if side not in SIDES or side in feet:
            raise MalformedFileError(sidecar, f"side {side!r} is not a new left/right foot")
        if description is not None and ours["recording"].get("layout") != description.get("layout"):
            raise MalformedFileError(sidecar, "belongs to another recording (different layout)")
        description = ours["recording"]
        base = sidecar.name[: -len("_motion.json")]
        feet[side] = _read_foot(sidecar.with_name(base + "_motion.tsv"), sidecar.with_name(base + "_channels.tsv"),
                                description, float(meta["SamplingFrequency"]))
        if abs(float(meta["SamplingFrequency"]) - float(description["sample_rate_hz"])) > 0:
            raise MalformedFileError(sidecar, "SamplingFrequency differs from the recording's rate")
    assert description is not None
    return Recording(
        layout=SensorLayout.from_dict(description["layout"]),
        unit=description["unit"],
        sample_rate_hz=float(description["sample_rate_hz"]),
        left=feet.get("left"),
        right=feet.get("right"),
        meta=RecordingMeta.from_dict(description.get("meta") or {}),
        reference_events=ReferenceEvents.from_dict(description["reference_events"])
        if description.get("reference_events")
        else None,
        marks=tuple(Mark(**m) for m in description.get("marks") or ()),
    )


def _read_foot(motion: Path, channels_path: Path, description: Mapping[str, Any], rate_hz: float) -> FootSamples:
    for needed in (motion, channels_path):
        if not needed.is_file():
            raise MalformedFileError(needed, "is missing (every *_motion.json needs its _motion.tsv and _channels.tsv)")
    channels = pd.read_csv(channels_path, sep="\t", dtype=str, keep_default_na=False)
    required = ["name", "component", "type", "tracked_point", "units"]
    if list(channels.columns[:5]) != required:
        raise MalformedFileError(channels_path, f"columns must start with {', '.join(required)}")
    names = channels["name"].tolist()
    try:
        table = pd.read_csv(motion, sep="\t", header=None, names=names, na_values=["n/a"], keep_default_na=False,
                            dtype=np.float64, engine="c")
    except ValueError as error:
        raise MalformedFileError(motion, f"has a value that is not a number or n/a ({error})") from None
    if table.shape[1] != len(names):
        raise MalformedFileError(motion, f"has {table.shape[1]} columns, channels.tsv lists {len(names)}")
    units = dict(zip(names, channels["units"]))
    layout = description["layout"]
    expected_unit = _UNITS[description["unit"]]
    for sensor in layout["sensor_names"]:
        if sensor not in table:
            raise MalformedFileError(channels_path, f"sensor channel {sensor!r} is missing")
        if units[sensor] != expected_unit:
            raise MalformedFileError(
                channels_path, f"sensor {sensor!r} is in {units[sensor]}, expected {expected_unit}"
            )
    values = table[list(layout["sensor_names"])].to_numpy().astype(np.float32)
    accel = gyro = None
    if all(f"accel_{a}" in table for a in _AXES):
        accel = (table[[f"accel_{a}" for a in _AXES]].to_numpy() / STANDARD_GRAVITY_M_S2).astype(np.float32)
    if all(f"gyro_{a}" in table for a in _AXES):
        gyro = (table[[f"gyro_{a}" for a in _AXES]].to_numpy() / _DEG_TO_RAD).astype(np.float32)
    known = {
        "latency",
        "sample_valid",
        *layout["sensor_names"],
        *(f"accel_{a}" for a in _AXES),
        *(f"gyro_{a}" for a in _AXES),
    }
    extra = {name: table[name].to_numpy() for name in names if name not in known}
    return FootSamples(
        time_s=table["latency"].to_numpy(),
        values=values,
        valid=table["sample_valid"].to_numpy() == 1,
        accel_g=accel,
        gyro_dps=gyro,
        channels=extra,
    )

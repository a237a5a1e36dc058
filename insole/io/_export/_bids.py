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
dataset_description.json names insole and its version.

A dataset grows one export at a time and is never rewritten: participants.tsv
records the subject id each label was made from (``source_subject_id``), each
subject's scans.tsv the source file, SHA-256 and licence of each run
(``source_file``, ``source_sha256``, ``license``; described in the top-level
scans.json). The dataset's ``License`` is the first recording's; when a
recording under another (or no known) licence joins, only that field changes,
to say the licences are mixed, and README gains a sentence naming the licence
the dataset had until then.
``write_bids`` reads these back to refuse a label that would merge two people
and a run that would replace another file's data (docs/exports.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insole._errors import InputError, MalformedFileError, OutputError
from insole._layout import SensorLayout
from insole._output import atomic_write, check_target
from insole._recording import SIDES, FootSamples, Mark, Recording, RecordingMeta, ReferenceEvents
from insole._version import __version__
from insole.io._export._csv import safe_cell, spreadsheet_safe
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
    """What the export is called: BIDS entity labels and the dataset's name.

    Labels given here must already be BIDS labels (letters and digits only);
    anything else is a ``ValueError`` saying what is allowed, never quietly
    changed. ``run`` is a positive integer.
    """

    subject: str | None = None  # default: the recording's subject_id reduced to letters and digits, else "01"
    session: str | None = None
    task: str = "walk"
    run: int | None = None
    dataset_name: str = "insole recordings"

    def __post_init__(self) -> None:
        for entity in ("subject", "session", "task"):
            value = getattr(self, entity)
            if value is not None and not (isinstance(value, str) and _LABEL.fullmatch(value)):
                raise ValueError(
                    f"{entity} label {_shown(value)} is not allowed: BIDS labels are letters and digits only "
                    f"(A-Z, a-z, 0-9, at most {MAX_LABEL_CHARS}), such as 01, P017 or pre"
                )
        if self.run is not None and (isinstance(self.run, bool) or not isinstance(self.run, int) or self.run < 1):
            raise ValueError(f"run {self.run!r} is not allowed: runs are positive integers (1, 2, 3, ...)")


MAX_LABEL_CHARS = 64
_LABEL = re.compile(rf"[A-Za-z0-9]{{1,{MAX_LABEL_CHARS}}}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"


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
               *, input_path: str | Path | None = None, force: bool = False,
               inputs: Iterable[str | Path] = ()) -> list[Path]:
    """Write ``recording`` into the BIDS-motion dataset ``out_dir`` (created or extended); return the files written.

    An existing dataset is extended, never rewritten: its
    ``dataset_description.json`` and README are kept, participants.tsv and
    the subject's scans.tsv gain rows. The dataset records where each
    participant label came from (participants.tsv ``source_subject_id``)
    and each run's source file (scans.tsv ``source_file``,
    ``source_sha256``), so that:

    * a label already holding another person is an ``OutputError`` naming
      both (``P-017`` and ``P_017`` both reduce to ``P017``; two recordings
      without a subject id would both be ``01``): unless the subject ids are
      the same, the same source file is exported again, or ``--subject``
      (``params.subject``) names the participant on purpose;
    * an existing run is an ``OutputError`` unless ``force``, and even with
      ``force`` it is replaced only by an export of the same source file.

    Every check runs before the first file is written. ``inputs`` are the
    files the export reads: never written over.
    """
    params = params or BidsExportParams()
    out = check_target(out_dir, folder=True, inputs=inputs)
    explicit = params.subject is not None
    subject_id = recording.meta.subject_id
    subject = params.subject if explicit else bids_label(subject_id, "01")
    assert subject is not None
    if len(subject) > MAX_LABEL_CHARS:
        raise OutputError(out, f"the recording's subject id is {len(subject_id or '')} characters long, too long for "
                               f"a BIDS label (at most {MAX_LABEL_CHARS}): give the participant's label with --subject")
    task = params.task
    sub_dir = out / f"sub-{subject}"
    prefix = f"sub-{subject}"
    if params.session:
        sub_dir = sub_dir / f"ses-{params.session}"
        prefix += f"_ses-{params.session}"
    motion_dir = sub_dir / "motion"
    source = _source_of(recording, input_path)
    _claim_subject(out, subject, subject_id, explicit, source)
    names = {}
    for side in recording.sides:
        name = f"{prefix}_task-{task}_tracksys-{side}insole"
        if params.run is not None:
            name += f"_run-{params.run}"
        names[side] = name
        for suffix in _RUN_FILES:
            _check_run_file(motion_dir / f"{name}{suffix}", sub_dir, source, force, inputs)
    scans_path = sub_dir / f"{prefix}_scans.tsv"
    if scans_path.exists():
        check_target(scans_path, force=True, inputs=inputs)
    try:
        motion_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(motion_dir, f"cannot be created ({error.strerror or error})") from None

    written: list[Path] = []
    description = _description(recording)
    scans = []
    for side in recording.sides:
        foot = recording.samples(side)
        name = names[side]
        channels, samples = _foot_table(recording, side)
        # pandas writes each float in the shortest form that reads back to the same float32/float64.
        written.append(_write_text(motion_dir / f"{name}_motion.tsv", samples.to_csv(
            sep="\t", header=False, index=False, lineterminator="\n", na_rep="n/a"), force=force))
        written.append(_write_text(motion_dir / f"{name}_channels.tsv", channels.to_csv(
            sep="\t", index=False, lineterminator="\n", na_rep="n/a"), force=force))
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
        written.append(_write_text(motion_dir / f"{name}_motion.json",
                                   json.dumps(_jsonable(sidecar), indent=1) + "\n", force=force))
        # Our full description sits beside the BIDS files (listed in .bidsignore): BIDS sidecars
        # may not carry extra keys under the validator's schema.
        ours = {_INSOLE_KEY: {"side": side, "recording": description}}
        written.append(_write_text(motion_dir / f"{name}_insole.json",
                                   json.dumps(_jsonable(ours), indent=1) + "\n", force=force))
        scans.append({"filename": f"motion/{name}_motion.tsv", "acq_time": _acq_time(recording.meta.recorded_at),
                      "source_file": source.file, "source_sha256": source.sha256,
                      "license": _licence_of(recording) or "n/a"})
    table = _read_tsv(scans_path)
    if table is None:
        table = pd.DataFrame(columns=list(scans[0]))
    for column in scans[0]:
        if column not in table.columns:
            table[column] = "n/a"
    mine = {row["filename"] for row in scans}
    table = pd.concat([table[~table["filename"].isin(mine)], pd.DataFrame(scans)], ignore_index=True)
    written.append(_write_text(scans_path, _tsv(table), force=True))
    written += _dataset_files(out, recording, subject, subject_id, params)
    return written


_RUN_FILES = ("_motion.tsv", "_channels.tsv", "_motion.json", "_insole.json")
_NA = ("", "n/a")


@dataclass(frozen=True)
class _Source:
    """Where a recording came from, as the dataset records it (file name and SHA-256, 'n/a' when unknown)."""

    file: str
    sha256: str

    def describe(self) -> str:
        return f"from {self.file}" if self.file not in _NA else "from an unnamed source"


def _source_of(recording: Recording, input_path: str | Path | None) -> _Source:
    source = recording.meta.source or {}
    file = source.get("file") or (str(input_path) if input_path is not None else "")
    sha = str(source.get("sha256") or "")
    if not re.fullmatch(r"[0-9a-f]{64}", sha) and input_path is not None and Path(input_path).is_file():
        # our own captures and simulations name no origin: the file being exported is the source
        digest = hashlib.sha256()
        with open(input_path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sha = digest.hexdigest()
    return _Source(safe_cell(Path(str(file)).name) if file else "n/a", sha if re.fullmatch(r"[0-9a-f]{64}", sha)
                   else "n/a")


def _read_tsv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise OutputError(path, f"cannot be read to extend it ({error})") from None


def _tsv(table: pd.DataFrame) -> str:
    return spreadsheet_safe(table).to_csv(sep="\t", index=False, lineterminator="\n", na_rep="n/a")


def _sources_under(folder: Path) -> list[tuple[str, str, str]]:
    """(scans.tsv filename, source_file, source_sha256) of every run recorded under ``folder``."""
    found = []
    for scans in sorted(folder.rglob("*_scans.tsv")) if folder.is_dir() else []:
        table = _read_tsv(scans)
        if table is None or "filename" not in table.columns:
            continue
        for _, row in table.iterrows():
            found.append((str(row["filename"]), str(row.get("source_file", "n/a")),
                          str(row.get("source_sha256", "n/a"))))
    return found


def _claim_subject(out: Path, label: str, subject_id: str | None, explicit: bool, source: _Source) -> None:
    """Refuse to put this recording under ``sub-<label>`` when the label already holds someone else."""
    sub_dir = out / f"sub-{label}"
    participants = _read_tsv(out / "participants.tsv")
    row = None
    if participants is not None and "participant_id" in participants.columns:
        rows = participants[participants["participant_id"] == f"sub-{label}"]
        row = rows.iloc[0] if len(rows) else None
    if row is None and not sub_dir.exists():
        return  # a new participant
    known = None if row is None else str(row.get("source_subject_id", "n/a"))
    known = None if known in _NA or known is None else known
    mine = safe_cell(subject_id) if subject_id not in (None, "") else None
    if known is not None and mine is not None:
        if known == mine:
            return
        reason = "a different subject id"
    else:
        earlier = _sources_under(sub_dir)
        if source.sha256 != "n/a" and any(sha == source.sha256 for _, _, sha in earlier):
            return  # the same source file again (another task, run or session of it)
        if explicit:
            return  # --subject names the participant on purpose
        reason = "no subject id to tell them apart" if mine is None or known is None else "a different subject id"
    earlier_files = sorted({file for _, file, _ in _sources_under(sub_dir) if file not in _NA})
    theirs = (f"subject id {known!r}" if known is not None else "recordings without a subject id") + (
        f" from {', '.join(earlier_files[:3])}" if earlier_files else "")
    ours = (f"subject id {mine!r}" if mine is not None else "no subject id") + f" {source.describe()}"
    advice = ("choose another label with --subject" if explicit
              else "give this participant its own label with --subject")
    raise OutputError(sub_dir, f"already holds {theirs}; this recording ({ours}) has {reason} and would be merged "
                               f"into it: {advice}")


def _check_run_file(path: Path, sub_dir: Path, source: _Source, force: bool, inputs: Iterable[str | Path]) -> None:
    if not (path.exists() or path.is_symlink()):
        return
    check_target(path, force=True, inputs=inputs)  # one of the inputs, or a folder in the way
    stem = path.name.rsplit("_", 1)[0]
    earlier = {file: (src, sha) for file, src, sha in _sources_under(sub_dir)}
    src, sha = earlier.get(f"motion/{stem}_motion.tsv", ("n/a", "n/a"))
    theirs = f"from {src}" if src not in _NA else "from an unrecorded source"
    if not force:
        raise OutputError(path, f"already exists ({theirs}): give this recording another --run "
                                f"(e.g. --run {_next_run(path)}) or --task, or add --force to replace that run "
                                "with a new export of the same source file")
    if source.sha256 == "n/a" or sha != source.sha256:
        raise OutputError(path, f"already exists ({theirs}) and {source.describe()} is not the same source file: "
                                f"--force replaces a run only with the same source; give another --run "
                                f"(e.g. --run {_next_run(path)})")


def _next_run(path: Path) -> int:
    """The run index after the highest one beside ``path`` for the same subject, session, task and foot."""
    base = re.sub(r"_run-\d+", "", path.name.rsplit("_", 1)[0])
    runs = [1]
    for other in path.parent.glob("*_motion.tsv"):
        stem = other.name[: -len("_motion.tsv")]
        match = re.search(r"_run-(\d+)", stem)
        if re.sub(r"_run-\d+", "", stem) == base:
            runs.append(int(match.group(1)) if match else 1)
    return max(runs) + 1


def _dataset_files(out: Path, recording: Recording, subject: str, subject_id: str | None,
                   params: BidsExportParams) -> list[Path]:
    """The dataset-level files: created when missing, extended (never rewritten) when present."""
    files: list[Path] = []
    description_path = out / "dataset_description.json"
    licence = _licence_of(recording)
    if description_path.exists():
        files += _mark_mixed_licences(out, description_path, licence, subject)
    else:
        dataset: dict[str, Any] = {
            "Name": params.dataset_name,
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "GeneratedBy": [{
                "Name": "insole",
                "Version": __version__,
                "Description": "BIDS-motion export of insole recordings; each run's source file and SHA-256 are "
                               "in the scans.tsv files (source_file, source_sha256), each participant's subject "
                               "id in participants.tsv (source_subject_id)",
            }],
        }
        if licence:
            dataset["License"] = licence
        files.append(_write_text(description_path, json.dumps(dataset, indent=1) + "\n", force=False))
    ignore = out / ".bidsignore"
    lines = ignore.read_text(encoding="utf-8").split("\n") if ignore.is_file() else []
    if "*_insole.json" not in lines:
        files.append(_write_text(ignore, "\n".join([*(line for line in lines if line), "*_insole.json"]) + "\n",
                                 force=True))
    readme = out / "README"
    if not readme.exists():
        files.append(_write_text(readme, (
            f"Insole pressure recordings exported by insole {__version__} as BIDS motion data.\n"
            "Each insole is one tracking system; pressures are MISC channels (BIDS has no pressure type),\n"
            "the LATENCY channel gives each sample's time, sample_valid marks gap slots.\n"), force=False))
    participants = out / "participants.tsv"
    person = _person(recording)
    row = {"participant_id": f"sub-{subject}", "age": person["age"], "sex": person["sex"], "height": person["height"],
           "weight": recording.meta.body_mass_kg if recording.meta.body_mass_kg is not None else "n/a",
           "source_subject_id": subject_id if subject_id not in (None, "") else "n/a"}
    table = _read_tsv(participants)
    if table is None or "participant_id" not in table.columns:
        table = pd.DataFrame(columns=list(row))
    if not (table["participant_id"] == row["participant_id"]).any():  # an existing row is never changed
        for column in row:
            if column not in table.columns:
                table[column] = "n/a"
        table = pd.concat([table, pd.DataFrame([{k: str(v) for k, v in row.items()}])], ignore_index=True)
        files.append(_write_text(participants, _tsv(table), force=True))
    files += _merge_json(out / "participants.json", {
        "participant_id": {"Description": "participant label"},
        "age": {"Description": "age at the recording, from the participant's first exported recording's metadata "
                               "(e.g. a study's demographics table; n/a: not given)", "Units": "year"},
        "sex": {"Description": "sex as the source recording's metadata gives it (n/a: not given)",
                "Levels": {"male": "male", "female": "female"}},
        "height": {"Description": "body height, from the participant's first exported recording's metadata "
                                  "(n/a: not given)", "Units": "m"},
        "weight": {"Description": "body mass, from the participant's first exported recording (each recording's "
                                  "own value is in its *_insole.json)", "Units": "kg"},
        "source_subject_id": {"Description": "the subject id in the source recording that this label was made "
                                             "from (n/a: the recording had none)"},
    })
    files += _merge_json(out / "scans.json", {
        "source_file": {"Description": "the file this run was exported from"},
        "source_sha256": {"Description": "SHA-256 of that file (n/a: not known)"},
        "license": {"Description": "the licence of the recording this run was exported from (n/a: not known)"},
    })
    return files


def _person(recording: Recording) -> dict[str, str]:
    """Age (years), sex ("male"/"female") and height (m) from the recording's metadata, where importers keep a
    study's demographics (``extra["demographics"]``: gaitpdb) or subject description (``extra["subject"]``:
    gaitndd); "n/a" for what the file does not give. Never guessed."""
    extra = recording.meta.extra if isinstance(recording.meta.extra, Mapping) else {}
    person = extra.get("demographics") or extra.get("subject") or {}
    person = person if isinstance(person, Mapping) else {}

    def number(key: str, low: float, high: float) -> str:
        try:
            value = float(person.get(key))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return "n/a"
        return f"{value:g}" if np.isfinite(value) and low < value < high else "n/a"

    sex = str(person.get("sex") or "").strip().lower()
    sex = {"f": "female", "female": "female", "m": "male", "male": "male"}.get(sex, "n/a")
    return {"age": number("age_years", 0.0, 130.0), "sex": sex, "height": number("height_m", 0.3, 2.8)}


_MIXED_LICENCES = "Mixed licences: each run's licence is in the license column of its scans.tsv (see README)"


def _licence_of(recording: Recording) -> str | None:
    extra = recording.meta.extra
    licence = extra.get("licence") if isinstance(extra, Mapping) else None
    return str(licence) if licence not in (None, "") else None


def _mark_mixed_licences(out: Path, description_path: Path, licence: str | None, subject: str) -> list[Path]:
    """Set the dataset's License to ``_MIXED_LICENCES`` when a recording under another licence joins it.

    Only that field of dataset_description.json changes; README gains one sentence saying what the
    dataset's licence was before, so nothing the earlier recordings were published under is lost.
    """
    try:
        dataset = json.loads(description_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise OutputError(description_path, f"cannot be read to extend it ({error})") from None
    if not isinstance(dataset, dict):
        raise OutputError(description_path, "is not a JSON object; cannot extend it")
    before = dataset.get("License")
    if before == _MIXED_LICENCES or before == licence or (before in (None, "") and licence is None):
        return []
    dataset["License"] = _MIXED_LICENCES
    files = [_write_text(description_path, json.dumps(dataset, indent=1) + "\n", force=True)]
    readme = out / "README"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    was = f"was {before}" if before not in (None, "") else "did not say"
    now = f"is {licence}" if licence else "is not known"
    sentence = (f"The recordings in this dataset are under different licences: the dataset's License {was} until "
                f"sub-{subject} was added, whose licence {now}; each run's licence is in the license column of its "
                "sub-<label>_scans.tsv (n/a: not known).\n")
    files.append(_write_text(readme, text + ("" if not text or text.endswith("\n") else "\n") + sentence,
                             force=True))
    return files


def _merge_json(path: Path, entries: Mapping[str, Any]) -> list[Path]:
    """Add ``entries`` to the JSON object at ``path`` (created when missing); keys already there are kept."""
    current: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise OutputError(path, f"cannot be read to extend it ({error})") from None
        if not isinstance(loaded, dict):
            raise OutputError(path, "is not a JSON object; cannot extend it")
        current = loaded
    missing = {k: v for k, v in entries.items() if k not in current}
    if not missing:
        return []
    return [_write_text(path, json.dumps({**current, **missing}, indent=1) + "\n", force=True)]


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


def _write_text(path: Path, text: str, *, force: bool) -> Path:
    with atomic_write(path, "w", force=force, newline="") as handle:
        handle.write(text)
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

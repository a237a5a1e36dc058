"""The task every engine runs: one recording's path in, one small row out.

``analyse_job(job)`` runs in a worker process (local pool or Dask worker). It
opens the file itself (the path must be reachable from the worker; nothing
but the path travels to it), analyses it and returns a plain dict:

``{"ok": True, "row": {...}, "strides": DataFrame | None}`` or
``{"ok": False, "error": {...}}``.

The row holds identity, metadata, data quality, the summary metrics and the
finding columns; docs/batch.md lists every column. It never raises: a file
that cannot be used becomes an error with its one-line reason, so one bad
recording never stops a batch.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Job", "analyse_job", "TIMING_COLUMNS", "TIMING_METRICS", "SUBJECT_COLUMNS", "VARIABILITY_COLUMNS",
           "error_record"]

# Columns that say when and where a row was computed; they differ between runs and engines by nature.
TIMING_COLUMNS = ("analysis_time_s", "worker")
# Timing metrics whose stride-to-stride variability is reported (CV, %), besides their mean and SD.
TIMING_METRICS = ("stride_time_s", "stance_time_s", "swing_time_s", "step_time_s", "double_support_s")
_SIDES = ("left", "right")
_QUALITY_FIELDS = (
    ("valid_fraction", float),
    ("n_gaps", int),
    ("gap_total_s", float),
    ("longest_gap_s", float),
    ("n_sensors_used", int),
    ("contacts_detected", int),
    ("strides_detected", int),
    ("strides_used", int),
    ("event_confidence_mean", float),
    ("low_confidence_events", int),
)
# Subject facts importers put in meta.extra (gaitpdb "demographics", gaitndd "subject") that are not columns.
_SUBJECT_SKIP = {"id", "source", "group"}
# The subject columns every row has (docs/batch.md), empty when the recording's description table does not give
# them: a gaitpdb file copied without the demographics.txt beside it has no mass, sex or age, and its row says so
# (``subject_facts_source`` empty) instead of leaving the columns out.
SUBJECT_COLUMNS: tuple[tuple[str, type], ...] = (
    ("sex", str),
    ("age_years", float),
    ("height_m", float),
    ("gait_speed_m_per_s", float),
    ("hoehn_yahr", float),
    ("updrs", float),
    ("updrs_motor", float),
    ("timed_up_and_go_s", float),
    ("duration_or_severity", float),
)
_SUBJECT_NAMES = frozenset(name for name, _ in SUBJECT_COLUMNS)
# The robust stride-to-stride figures of ``Summary.timing_variability`` and the parts each is made of: a figure
# one of whose parts has a median absolute deviation of 0 is not a measurement (the report shows "n/a (MAD 0)").
VARIABILITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "timing_variability_pct": ("stride_variability_pct", "stance_variability_pct"),
    "stride_variability_pct": ("stride_variability_pct",),
    "stance_variability_pct": ("stance_variability_pct",),
}
# Why a force symmetry index the analysis marks ``uncalibrated_force`` is left empty (docs/batch.md).
UNCALIBRATED_SI_REASON = (
    "not compared between feet: uncalibrated insoles (au), each foot on its own scale, so a left/right difference "
    "mixes load and the two insoles' gains (the analysis marks these uncalibrated_force)"
)


@dataclass(frozen=True)
class Job:
    """One recording to analyse, as sent to a worker: a path, never the data.

    ``path`` absolute, as the workers see it; ``format`` the detected importer;
    ``sha256`` of the file (from the driver, for the row); ``params`` the
    ``AnalysisParams`` as a dict; ``strides`` also return the per-stride table;
    ``findings`` run the report's findings engine.
    """

    path: str
    format: str
    sha256: str
    params: Mapping[str, Any]
    strides: bool = False
    findings: bool = True


def _float(value: Any) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return value if math.isfinite(value) else float("nan")




def error_record(path: str, format_name: str | None, error_type: str, reason: str, stage: str) -> dict[str, Any]:
    """One row of the errors table."""
    return {
        "recording_id": Path(path).stem,
        "path": path,
        "format": format_name,
        "stage": stage,
        "error_type": error_type,
        "reason": reason,
    }


def analyse_job(job: Job) -> dict[str, Any]:
    """Open, analyse and summarise one recording; never raises (see the module docstring)."""
    from insole._errors import InputError, InsoleError, error_line
    from insole.analysis import AnalysisParams, analyze
    from insole.io import load

    started = time.perf_counter()
    stage = "load"
    try:
        recording = load(job.path, job.format)
        stage = "analyse"
        params = AnalysisParams.from_dict(dict(job.params))
        analysis = analyze(recording, params)
        stage = "summarise"
        row = recording_row(job, recording, analysis)
        strides = stride_rows(row["recording_id"], analysis) if job.strides else None
    except InputError as error:
        return {"ok": False, "error": error_record(job.path, job.format, type(error).__name__, error.problem, stage)}
    except InsoleError as error:
        reason = error_line(error)
        return {"ok": False, "error": error_record(job.path, job.format, type(error).__name__, reason, stage)}
    except MemoryError:
        return {"ok": False, "error": error_record(job.path, job.format, "MemoryError", "out of memory", stage)}
    except Exception as error:  # noqa: BLE001 - an unforeseen failure is reported, and the batch goes on
        reason = f"unexpected {type(error).__name__} while {stage.rstrip('e')}ing: {error_line(error)}"
        return {"ok": False, "error": error_record(job.path, job.format, type(error).__name__, reason, stage)}
    row["analysis_time_s"] = time.perf_counter() - started
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return {"ok": True, "row": row, "strides": strides}


def recording_row(job: Job, recording: Any, analysis: Any) -> dict[str, Any]:
    """Identity, metadata, quality, metrics and findings of one analysed recording, as plain Python values."""
    meta = recording.meta
    extra = dict(meta.extra or {})
    path = Path(job.path)
    row: dict[str, Any] = {
        "recording_id": path.stem,
        "subject_id": meta.subject_id,
        "path": job.path,
        "file": path.name,
        "format": job.format,
        "sha256": job.sha256,
        "size_bytes": path.stat().st_size,
        "dataset": extra.get("dataset"),
        "group": extra.get("group"),
        "condition": meta.condition,
        "recorded_at": meta.recorded_at,
        "body_mass_kg": _float(meta.body_mass_kg),
    }
    for name, kind in SUBJECT_COLUMNS:
        row[name] = float("nan") if kind is float else None
    row["subject_facts_source"] = None
    for table in ("demographics", "subject"):
        facts = extra.get(table)
        if isinstance(facts, Mapping):
            source = facts.get("source")
            if isinstance(source, str) and not row["subject_facts_source"]:
                row["subject_facts_source"] = source
            for key, value in facts.items():
                if key in _SUBJECT_SKIP or key.endswith("_meaning") or (key in row and key not in _SUBJECT_NAMES):
                    continue
                if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
                    row[key] = _float(value)
                elif isinstance(value, str):
                    row[key] = value
    source = analysis.provenance["input"]
    row.update(
        {
            "layout": source["layout"],
            "layout_approximate": bool(source["layout_approximate"]),
            "unit": source["unit"],
            "sample_rate_hz": _float(source["sample_rate_hz"]),
            "duration_s": _float(source["duration_s"]),
            "sides": ",".join(analysis.sides),
            "n_sensors_per_foot": int(recording.layout.n_sensors),
            "event_method": analysis.provenance.get("event_method"),
        }
    )
    row.update(quality_columns(analysis))
    row.update(metric_columns(analysis))
    if job.findings:
        from insole.batch._findings import finding_columns

        row.update(finding_columns(analysis, recording))
    else:
        row.update({"findings": None, "findings_status": "not requested (--no-findings)"})
    return row


def quality_columns(analysis: Any) -> dict[str, Any]:
    """``{side}_{fact}`` per foot (NaN/None for a missing foot), sensor flags, and the quality notes as text."""
    columns: dict[str, Any] = {}
    notes: dict[str, list[str]] = {side: [] for side in _SIDES}
    for side in _SIDES:
        quality = analysis.quality.get(side)
        for name, kind in _QUALITY_FIELDS:
            if quality is None:
                columns[f"{side}_{name}"] = float("nan") if kind is float else None
            else:
                columns[f"{side}_{name}"] = _float(quality.get(name)) if kind is float else int(quality.get(name, 0))
        flags = (quality or {}).get("sensor_flags") or []
        columns[f"{side}_sensor_flags"] = ", ".join(f"{f['sensor']} {f['status']}" for f in flags) if quality else None
        notes[side].extend(str(note) for note in (quality or {}).get("notes", []))
    # a note of the whole recording (the body-weight check, uncalibrated insoles) is in both feet's notes: once here
    both = [note for note in notes["left"] if note in notes["right"]]
    parts = [f"both feet: {note}" for note in both]
    parts += [f"{side}: {note}" for side in _SIDES for note in notes[side] if note not in both]
    columns["quality_notes"] = "; ".join(parts)
    return columns


def metric_columns(analysis: Any) -> dict[str, Any]:
    """Summary metrics: cadence, stride-time variability, per-foot mean (and SD/CV of timing), both-feet mean, symmetry.

    ``{side}_{metric}`` the mean over the foot's used strides; ``{side}_{metric}_sd``
    and ``{side}_{name}_cv_pct`` for the timing metrics; ``{metric}`` the mean
    of the feet that have a value (one foot's when the other has none, NaN
    when neither has); ``{metric}_si_pct`` the symmetry index
    (R - L) / mean(R, L) x 100, NaN where the analysis marks it not comparable
    (``uncalibrated_force``; ``si_not_comparable`` names them and says why).
    ``cadence_steps_per_min`` is the session's (both feet);
    ``{side}_foot_cadence_steps_per_min`` the mean over one foot's strides of
    120 / stride time. A robust figure whose median absolute deviation is 0
    (below ``ROBUST_CV_ZERO_PCT``) is NaN, as the report shows it "n/a (MAD 0)".
    """
    from insole.analysis import robust_cv_is_zero

    def robust(value: Any) -> float:
        value = _float(value)
        return float("nan") if robust_cv_is_zero(value) else value

    def mean_of_feet(values: Any) -> float:
        finite = [v for v in values if math.isfinite(v)]
        return float(np.mean(finite)) if finite else float("nan")

    summary = analysis.summary
    per_foot: pd.DataFrame = summary.per_foot
    symmetry: pd.DataFrame = summary.symmetry
    cv = {s: _float(summary.stride_time_cv_pct.get(s)) for s in _SIDES}
    columns: dict[str, Any] = {
        "cadence_steps_per_min": _float(summary.cadence_steps_per_min),
        "stride_time_cv_pct": mean_of_feet(cv.values()),
        "left_stride_time_cv_pct": cv["left"],
        "right_stride_time_cv_pct": cv["right"],
    }
    robust_cv = {s: robust(summary.stride_time_robust_cv_pct.get(s)) for s in _SIDES}  # the analysis' own
    columns["stride_time_robust_cv_pct"] = mean_of_feet(robust_cv.values())
    columns["left_stride_time_robust_cv_pct"] = robust_cv["left"]
    columns["right_stride_time_robust_cv_pct"] = robust_cv["right"]
    # stride-to-stride timing variability of both feet, the figure the irregular_gait finding is judged on
    variability = dict(summary.timing_variability or {})
    for name, parts in VARIABILITY_COLUMNS.items():
        measurable = all(math.isfinite(robust(variability.get(part))) for part in parts)
        columns[name] = robust(variability.get(name)) if measurable else float("nan")
    weight = summary.body_weight
    columns["body_weight_method"] = weight.get("method")
    columns["body_weight_n"] = _float(weight.get("value")) if weight.get("unit") == "N" else float("nan")
    columns["body_weight_source"] = weight.get("source")
    standing = summary.standing or {}
    not_comparable: list[str] = []
    columns["standing_s"] = _float(standing.get("duration_s", 0.0))
    columns["standing_left_pct"] = _float(standing.get("left_pct"))
    if standing.get("uncalibrated_force") and math.isfinite(columns["standing_left_pct"]):
        columns["standing_left_pct"] = float("nan")
        not_comparable.append("standing_left_pct")
    for metric in per_foot.index:
        # the per-foot cadence is one foot's mean of 120 / stride time: named apart from the session's cadence
        name_of = "foot_cadence_steps_per_min" if metric == "cadence_steps_per_min" else metric
        means = {}
        for side in _SIDES:
            means[side] = _float(per_foot.at[metric, f"{side}_mean"]) if f"{side}_mean" in per_foot else float("nan")
            columns[f"{side}_{name_of}"] = means[side]
            if metric in TIMING_METRICS:
                columns[f"{side}_{metric}_sd"] = (
                    _float(per_foot.at[metric, f"{side}_sd"]) if f"{side}_sd" in per_foot else float("nan")
                )
                if metric != "stride_time_s":  # stride_time_cv_pct is above, from the summary itself
                    name = metric.removesuffix("_s")
                    columns[f"{side}_{name}_cv_pct"] = (
                        _float(per_foot.at[metric, f"{side}_cv_pct"]) if f"{side}_cv_pct" in per_foot else float("nan")
                    )
        if metric in TIMING_METRICS and metric != "stride_time_s":
            name = metric.removesuffix("_s")
            columns[f"{name}_cv_pct"] = mean_of_feet(columns[f"{side}_{name}_cv_pct"] for side in _SIDES)
        if metric != "cadence_steps_per_min":  # the session's cadence above is the both-feet figure
            columns[metric] = mean_of_feet(means.values())
        si = float("nan")
        if metric in symmetry.index:
            si = _float(symmetry.at[metric, "symmetry_index_pct"])
            marked = "uncalibrated_force" in symmetry and bool(symmetry.at[metric, "uncalibrated_force"])
            if math.isfinite(si) and marked:
                si = float("nan")
                not_comparable.append(f"{metric}_si_pct")
        columns[f"{name_of}_si_pct"] = si
    columns["si_not_comparable"] = f"{', '.join(not_comparable)}: {UNCALIBRATED_SI_REASON}" if not_comparable else None
    return columns


def stride_rows(recording_id: str, analysis: Any) -> pd.DataFrame:
    """Every stride of both feet with ``recording_id`` and ``side`` in front (the ``--strides`` table)."""
    tables = []
    for side in analysis.sides:
        table = analysis.strides[side].copy()
        table.insert(0, "side", side)
        table.insert(0, "recording_id", recording_id)
        tables.append(table)
    if not tables:
        return pd.DataFrame({"recording_id": pd.Series(dtype=object), "side": pd.Series(dtype=object)})
    return pd.concat(tables, ignore_index=True)

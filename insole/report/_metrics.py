"""What the findings engine reads: per-foot, per-step metrics of one session, in one fixed vocabulary.

The engine never reaches into the analysis core's containers directly; an
adapter (``session_metrics``) copies what it needs into a ``SessionMetrics``,
so a renamed column in the core breaks one function here, not the rules.
Nothing is computed here: the steps are the analysis' used strides (each
with the stance metrics of its first contact), the load maps its per-sensor
table, the session's timing variability its summary's
(``Summary.timing_variability``), and ``analysis_symmetry_index`` gives the
report the analysis' own symmetry indices wherever a report metric is one of
the analysis' (``ANALYSIS_METRICS``; ``_build.foot_mean`` reads its per-foot
means the same way).

Per-step columns (one row per used stride of one foot; any may be missing,
and a rule that needs a missing column reports "not assessed" and why):

=========================  ===============================================================
``stance_s``               heel strike to toe off (s)
``stride_s``               heel strike to the next heel strike of the same foot (s)
``stance_pct``             stance time as % of stride time
``impulse``                force-time integral over stance (BW·s, or au·s when uncalibrated)
``peak_force``             largest force of the step (BW, or au)
``f1``                     first (weight-acceptance) peak (BW or au)
``valley``                 mid-stance minimum between the peaks (BW or au)
``f2``                     second (push-off) peak (BW or au)
``valley_ratio``           valley / mean of the two peaks (scale-free)
``loading_rate_bw_s``      F1 / time from heel strike to F1 (BW/s); only when calibrated
``share_<group>``          share of the step's force-time integral on a region group (0-1):
                           heel, midfoot, forefoot, toes, hallux, lesser_toes,
                           medial_forefoot, lateral_forefoot
``share_front``            forefoot + toes share (0-1)
``cop_ml_offset_mm``       force-weighted mean medial-lateral COP over stance (mm, + medial)
``cop_ml_pct``             that offset as % of the layout's ball width (only for layouts with
                           medial and lateral sensors at heel and forefoot)
=========================  ===============================================================

Every column is the analysis' own (``Analysis.strides``), renamed; the shares
are stored 0-1 here and shown in %.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from insole._layout import SensorLayout

# the analysis decides which metrics are signed and where the COP offset is assessable
from insole.analysis import ROBUST_CV_ZERO_PCT, SIGNED_METRICS, cop_ml_assessable, robust_cv_is_zero

__all__ = [
    "FootMetrics",
    "SessionMetrics",
    "STEP_COLUMNS",
    "REGION_SHARES",
    "ANALYSIS_METRICS",
    "SIGNED_KEYS",
    "analysis_difference",
    "ball_width_mm",
    "analysis_symmetry_index",
    "Footprint",
    "footprint_measures",
    "ROBUST_CV_ZERO_PCT",
    "robust_cv_is_zero",
    "timing_resolution_pct",
]

REGION_SHARES: tuple[str, ...] = (
    "heel", "midfoot", "forefoot", "toes", "hallux", "lesser_toes", "medial_forefoot", "lateral_forefoot",
)
STEP_COLUMNS: tuple[str, ...] = (
    "stance_s", "stride_s", "stance_pct", "impulse", "peak_force", "f1", "valley", "f2", "valley_ratio",
    "loading_rate_bw_s", *(f"share_{g}" for g in REGION_SHARES), "share_front", "cop_ml_offset_mm", "cop_ml_pct",
    "step_s", "double_support_pct", "cpei_pct",
)
# the analysis' share columns (%) -> the report's (0-1)
_SHARES = {**{f"{g}_share_pct": f"share_{g}" for g in REGION_SHARES}, "forefoot_toes_share_pct": "share_front"}

# Report metrics that are one of the analysis' per-foot metrics: (analysis metric, report value per analysis
# value). Shares are stored 0-1 per step and shown in %; the analysis gives them in %.
ANALYSIS_METRICS: Mapping[str, tuple[str, float]] = {
    "stance_s": ("stance_time_s", 1.0),
    "stride_s": ("stride_time_s", 1.0),
    "stance_pct": ("stance_pct", 1.0),
    "impulse": ("impulse_bw_s", 1.0),
    "peak_force": ("max_force_bw", 1.0),
    "f1": ("first_peak_bw", 1.0),
    "valley": ("valley_bw", 1.0),
    "f2": ("second_peak_bw", 1.0),
    "loading_rate_bw_s": ("loading_rate_bw_s", 1.0),
    "valley_ratio": ("valley_ratio", 1.0),
    "cop_ml_offset_mm": ("cop_ml_offset_mm", 1.0),
    "cop_ml_pct": ("cop_ml_offset_pct", 1.0),
    "cpei_pct": ("cpei_pct", 1.0),
    "step_s": ("step_time_s", 1.0),
    "double_support_pct": ("double_support_pct", 1.0),
    **{report: (analysis, 0.01) for analysis, report in _SHARES.items()},
}
# Report metrics that are signed (medial/lateral offsets, CPEI): the feet are compared by their difference R - L,
# never by a symmetry index, whose mean(R, L) denominator is near 0 or changes sign (the analysis' SIGNED_METRICS)
SIGNED_KEYS: frozenset[str] = frozenset(k for k, (m, _) in ANALYSIS_METRICS.items() if m in SIGNED_METRICS)


def ball_width_mm(layout: SensorLayout) -> float:
    """Typical ball width (mm) of the foot the layout fits (``SensorLayout.ball_width_mm``: 0.39 x foot length)."""
    return layout.ball_width_mm


@dataclass(frozen=True, eq=False)
class FootMetrics:
    """One foot's usable steps and what the analysis said about their quality.

    ``steps`` one row per usable step (columns from ``STEP_COLUMNS``);
    ``stride_times_s`` the walking stride times used for variability (turns and
    bout edges already left out by the analysis) and ``stance_times_s`` the
    stance times of the same strides, in the same order; ``quality`` the analysis's
    verdict ("good", "fair", "poor"); ``quality_notes`` its reasons;
    ``curve_mean`` / ``curve_sd`` the mean and SD of the time-normalised
    stance force (0-100 %, BW or au) and ``cop_path_mm`` (x, y per % stance)
    for the figures, when available; ``sensor_peak`` / ``sensor_pti`` the
    analysis' per-sensor load maps (``Analysis.sensor_maps``: peak and time
    integral in the recording's unit and unit·s, means over the used stances).
    """

    side: str
    steps: pd.DataFrame
    stride_times_s: np.ndarray
    stance_times_s: np.ndarray | None = None
    quality: str = "good"
    quality_notes: tuple[str, ...] = ()
    valid_fraction: float = 1.0
    n_excluded: int = 0
    excluded_reasons: Mapping[str, int] = field(default_factory=dict)
    curve_mean: np.ndarray | None = None
    curve_sd: np.ndarray | None = None
    cop_path_mm: np.ndarray | None = None  # (points, 2): x, y
    sensor_peak: np.ndarray | None = None
    sensor_pti: np.ndarray | None = None

    @property
    def n_steps(self) -> int:
        return int(len(self.steps))

    def has(self, column: str) -> bool:
        return column in self.steps.columns and bool(np.isfinite(self.steps[column].to_numpy(float)).any())

    def values(self, column: str) -> np.ndarray:
        if column not in self.steps.columns:
            return np.zeros(0)
        v = self.steps[column].to_numpy(float)
        return v[np.isfinite(v)]


@dataclass(frozen=True, eq=False)
class SessionMetrics:
    """Everything the findings engine and the report figures read about one session.

    ``force_unit`` is "BW" when forces are normalised to body weight (N or kPa
    input), "au" for uncalibrated sensors (then forces compare only within one
    foot). ``body_weight_source`` "given" (from the recording or the user),
    "estimated" (from the recording's own load) or None. ``cop_ml_ok`` says
    whether the layout has medial and lateral sensors at both heel and
    forefoot (the evidence base's condition for reporting medial-lateral COP).
    ``timing`` the analysis' session timing variability
    (``Summary.timing_variability``: ``stride_variability_pct``,
    ``stance_variability_pct``, ``timing_variability_pct``, ``stride_cv_pct``,
    ``stride_sd_ms``). ``summary`` is the analysis summary as JSON-ready data;
    ``provenance`` how it was made.
    """

    feet: Mapping[str, FootMetrics]
    layout: SensorLayout
    unit: str
    sample_rate_hz: float
    force_unit: str
    duration_s: float
    body_weight_source: str | None = None
    body_mass_kg: float | None = None
    cop_ml_ok: bool = False
    cadence_steps_per_min: float | None = None
    timing: Mapping[str, float] = field(default_factory=dict)
    summary: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    # walking speed (m/s) when the file carries it (e.g. a study's 10-metre walk), not measured by the insoles
    walking_speed_m_s: float | None = None
    # the ``insole.analyze`` result this view was read from: figures and tables read it directly
    analysis: Any = None
    # per foot: contact area and arch index of the footprint, on layouts dense enough to draw one (``Footprint``)
    footprints: Mapping[str, Footprint] = field(default_factory=dict)
    # per foot: the analysis' robust stride-time CV, 1.4826 x MAD of the used stride times / their median (%), the
    # figure ``insole analyze`` prints (``Summary.stride_time_robust_cv_pct``); NaN with fewer than 3 strides
    stride_robust_cv_pct: Mapping[str, float] = field(default_factory=dict)

    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(s for s in ("left", "right") if s in self.feet)

    def foot(self, side: str) -> FootMetrics | None:
        return self.feet.get(side)


# ---------------------------------------------------------------- what the sample interval allows of timing scatter

# A robust figure below the analysis' ROBUST_CV_ZERO_PCT is a MAD of 0 (event times lie on the sample grid), never a
# measurement (insole/analysis/_summary.py says why)


def timing_resolution_pct(session: SessionMetrics) -> float:
    """What one sample interval adds to a stride-to-stride timing figure, in % of the median stride; NaN unknown.

    Each event time is rounded to the sample grid: an error spread evenly over one interval dt, SD dt/sqrt 12.
    Successive stride-time differences combine three event errors (e[i+1] - 2 e[i] + e[i-1]: variance 6 dt^2/12),
    so after the figure's division by sqrt 2 the rounding alone gives an SD of dt/2, i.e. 50 dt / median stride
    (%); the same is the figure's smallest step (1.4826 x (dt/2) / sqrt 2 = 0.52 dt). At 20 Hz and a 1.07 s
    stride that is 2.3 %, as large as the real controls' median (1.8 %): the figure then measures the sampling.
    """
    times = [np.asarray(f.stride_times_s, float) for f in session.feet.values()]
    strides = np.concatenate(times) if times else np.zeros(0)
    strides = strides[np.isfinite(strides) & (strides > 0)]
    if not strides.size or not session.sample_rate_hz or session.sample_rate_hz <= 0:
        return float("nan")
    return float(50.0 / session.sample_rate_hz / np.median(strides))


# ---------------------------------------------------------------- footprint: contact area and arch index

# A footprint is drawn only where sensors are dense enough (pressure grids, pedar's 99 sensors): the analysis'
# ``arch_index`` says "undetermined" under 60 sensors. 10 kPa is the analysis' contact threshold for pressures.
FOOTPRINT_MIN_SENSORS = 60
FOOTPRINT_THRESHOLD_KPA = 10.0


@dataclass(frozen=True)
class Footprint:
    """One foot's footprint: every sensor whose peak pressure over the recording exceeded ``threshold_kpa``.

    ``contact_area_cm2`` the summed area of those sensors (toes included); ``arch_index`` Cavanagh & Rodgers'
    index of the footprint without the toes (midfoot third's area over the whole, the analysis' ``arch_index``),
    NaN when it cannot be drawn; ``reason`` says why not. This is a dynamic in-shoe footprint (all the steps of
    the walk on the insole), not the standing barefoot footprint the index was defined on.

    It belongs in the analysis (a number several views need); the report computes it here until the analysis
    carries it, with the analysis' own functions (``peak_pressure_map``, ``arch_index``), as
    ``insole export --to tables`` does for its footprint table.
    """

    side: str
    contact_area_cm2: float
    arch_index: float
    n_sensors: int
    threshold_kpa: float = FOOTPRINT_THRESHOLD_KPA
    reason: str = ""


def footprint_measures(layout: SensorLayout, peak_kpa: np.ndarray, side: str,
                       threshold_kpa: float = FOOTPRINT_THRESHOLD_KPA) -> Footprint:
    """Contact area (cm²) and arch index of one foot from its peak-pressure image (kPa, one value per sensor)."""
    from insole.analysis import arch_index

    peak = np.asarray(peak_kpa, dtype=np.float64)
    if layout.n_sensors < FOOTPRINT_MIN_SENSORS or not layout.areas_known:
        why = (f"{layout.n_sensors} sensors draw no footprint (at least {FOOTPRINT_MIN_SENSORS} needed)"
               if layout.n_sensors < FOOTPRINT_MIN_SENSORS else f"layout {layout.name} has no sensor areas")
        return Footprint(side, float("nan"), float("nan"), 0, threshold_kpa, why)
    loaded = np.nan_to_num(peak, nan=-np.inf) > threshold_kpa
    area_cm2 = float(np.asarray(layout.area_mm2, dtype=np.float64)[loaded].sum() / 100.0)
    arch = arch_index(layout, peak, threshold_kpa, unit="kPa", min_sensors=FOOTPRINT_MIN_SENSORS)
    reason = "" if np.isfinite(arch.value) else "too few loaded sensors outside the toes for an arch index"
    return Footprint(side, area_cm2 if loaded.any() else float("nan"), float(arch.value), int(loaded.sum()),
                     threshold_kpa, reason)


def _footprints(recording: Any) -> dict[str, Footprint]:
    """Each foot's footprint when the recording holds pressures on a dense layout; empty otherwise."""
    layout = recording.layout
    if recording.unit != "kPa" or layout.n_sensors < FOOTPRINT_MIN_SENSORS or not layout.areas_known:
        return {}
    from insole.analysis import peak_pressure_map

    return {side: footprint_measures(layout, peak_pressure_map(recording, side), side) for side in recording.sides}


# A foot's data quality verdict from the analysis's facts (docs/report.md, "Measurement confidence").
_POOR = {"valid_fraction": 0.90, "event_confidence_mean": 0.5, "strides_used": 10}
_FAIR = {"valid_fraction": 0.98, "event_confidence_mean": 0.7, "low_confidence_fraction": 0.10}


_SPARSE_LAYOUT_SENSORS = 32  # up to this many sensors, every sensor covers a region of its own


def quality_verdict(quality: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """"good", "fair" or "poor" for one foot from the analysis's quality facts, with the reasons.

    poor: under 90 % valid samples, mean event confidence under 0.5, or fewer than 10 strides used.
    fair: under 98 % valid, mean event confidence under 0.7, over 10 % of events with low confidence,
    a dead, stuck, saturated or spiking sensor, or a flat (never loaded) sensor in a sparse insole (up to 32 sensors,
    where each sensor is a region; on pressure grids cells outside the footprint are flat by nature).
    """
    reasons: list[str] = []
    valid = float(quality.get("valid_fraction", 1.0))
    confidence = quality.get("event_confidence_mean")
    confidence = float(confidence) if confidence is not None and np.isfinite(confidence) else float("nan")
    used = int(quality.get("strides_used", 0))
    events = int(quality.get("heel_strikes_observed", 0)) + int(quality.get("toe_offs_observed", 0))
    low = int(quality.get("low_confidence_events", 0))
    flags = [f for f in (quality.get("sensor_flags") or []) if isinstance(f, Mapping)]
    by_status: dict[str, list[str]] = {}
    for flag in flags:
        by_status.setdefault(str(flag.get("status", "flagged")), []).append(str(flag.get("sensor", "?")))
    sparse = int(quality.get("n_sensors", 0) or 0) <= _SPARSE_LAYOUT_SENSORS
    sensor_problem = bool(by_status.get("stuck") or by_status.get("saturated") or by_status.get("dead")
                          or by_status.get("spikes") or (sparse and by_status.get("flat")))
    verdict = "good"
    if valid < _POOR["valid_fraction"] or confidence < _POOR["event_confidence_mean"] or used < _POOR["strides_used"]:
        verdict = "poor"
    elif (valid < _FAIR["valid_fraction"] or confidence < _FAIR["event_confidence_mean"]
          or (events and low / events > _FAIR["low_confidence_fraction"]) or sensor_problem):
        verdict = "fair"
    reasons.append(f"{100 * valid:.1f}% of samples valid")
    if np.isfinite(confidence):
        reasons.append(f"mean event confidence {confidence:.2f}")
    if events and low:
        reasons.append(f"{low} of {events} events with low confidence")
    notes = [str(n) for n in quality.get("notes") or []]
    for status, sensors in sorted(by_status.items()):
        if any(n.startswith(f"{len(sensors)} sensor(s) {status} ") for n in notes):
            continue  # the analysis' own note says it, with what was left out (F-Scan: 484 flat cells said twice)
        names = ", ".join(sensors[:5]) + (f" and {len(sensors) - 5} more" if len(sensors) > 5 else "")
        reasons.append(f"{len(sensors)} sensor{'s' if len(sensors) != 1 else ''} {status} ({names})")
    reasons += notes
    return verdict, tuple(reasons)


_STEP_RENAMES = {
    "stance_time_s": "stance_s",
    "impulse_bw_s": "impulse",
    "max_force_bw": "peak_force",
    "first_peak_bw": "f1",
    "valley_bw": "valley",
    "second_peak_bw": "f2",
    "loading_rate_bw_s": "loading_rate_bw_s",
    "cop_ml_offset_mm": "cop_ml_offset_mm",
    "stance_pct": "stance_pct",
    "valley_ratio": "valley_ratio",
    "cop_ml_offset_pct": "cop_ml_pct",
    "step_time_s": "step_s",
    "double_support_pct": "double_support_pct",
    "cpei_pct": "cpei_pct",
}


def _file_speed(recording: Any) -> float | None:
    extra = getattr(recording.meta, "extra", None) or {}
    person = extra.get("demographics") or extra.get("subject") or {}
    speed = person.get("gait_speed_m_per_s") if isinstance(person, dict) else None
    try:
        value = float(speed) if speed is not None else None
    except (TypeError, ValueError):
        return None
    return value if value is not None and np.isfinite(value) and value > 0 else None


def session_from_analysis(analysis: Any, recording: Any) -> SessionMetrics:
    """Copy what the findings engine reads out of the analysis core's ``Analysis``."""
    calibrated = recording.unit in ("kPa", "N")
    weight = dict(analysis.summary.body_weight)
    ratio = weight.get("load_to_body_weight_ratio")
    band = weight.get("plausible_load_to_body_weight_ratio") or (0.8, 1.2)
    # the insoles' load contradicts the body mass: every force in BW carries that error, so the data are not "good"
    weight_failed = bool(calibrated and ratio is not None and np.isfinite(ratio)
                         and not band[0] <= float(ratio) <= band[1])
    feet = {}
    for side in analysis.sides:
        # the steps are the used strides, each with the stance metrics of its first contact: the rows the
        # analysis' per-foot means and symmetry indices are taken over
        strides = analysis.strides[side]
        used_strides = strides[strides["used"].astype(bool)] if len(strides) else strides
        steps = pd.DataFrame({new: used_strides[old].to_numpy(float) for old, new in _STEP_RENAMES.items()
                              if old in used_strides.columns})
        for column, name in _SHARES.items():
            if column in used_strides.columns:
                steps[name] = used_strides[column].to_numpy(float) / 100.0
        steps["stride_s"] = used_strides["stride_time_s"].to_numpy(float) if len(strides) else np.zeros(0)
        quality = analysis.quality[side]
        verdict, notes = quality_verdict(quality)
        if weight_failed and verdict == "good":
            verdict = "fair"
            if not any(str(n).startswith("body weight check") for n in notes):  # the analysis' own note says it
                notes = (*notes, f"body weight check failed (load {float(ratio or 0.0):.2f} x body mass x g, "
                                 f"plausible {band[0]:g}-{band[1]:g}): forces in body weights are in doubt")
        curves = analysis.curves[side]
        curve_mean = curves["force_bw_mean"].to_numpy(float) if "force_bw_mean" in curves else None
        curve_sd = curves["force_bw_sd"].to_numpy(float) if "force_bw_sd" in curves else None
        cop = None
        if "cop_x_mm_mean" in curves and "cop_y_mm_mean" in curves:
            cop = np.column_stack([curves["cop_x_mm_mean"].to_numpy(float), curves["cop_y_mm_mean"].to_numpy(float)])
        maps = analysis.sensor_maps(side)
        excluded = {str(k): int(v) for k, v in (quality.get("strides_excluded") or {}).items()}
        feet[side] = FootMetrics(
            side=side, steps=steps.reset_index(drop=True),
            stride_times_s=used_strides["stride_time_s"].to_numpy(float) if len(strides) else np.zeros(0),
            stance_times_s=used_strides["stance_time_s"].to_numpy(float) if len(strides) else np.zeros(0),
            quality=verdict, quality_notes=notes, valid_fraction=float(quality.get("valid_fraction", 1.0)),
            n_excluded=int(sum(excluded.values())), excluded_reasons=excluded,
            curve_mean=curve_mean, curve_sd=curve_sd, cop_path_mm=cop, sensor_peak=maps["peak"],
            sensor_pti=maps["integral"],
        )
    summary = analysis.summary
    source = {"mass": "given", "load": "estimated"}.get(str(weight.get("method")))
    cadence = summary.cadence_steps_per_min
    return SessionMetrics(
        feet=feet, layout=recording.layout, unit=recording.unit, sample_rate_hz=float(recording.sample_rate_hz),
        force_unit="BW" if calibrated else "au", duration_s=float(recording.duration_s),
        body_weight_source=source if calibrated else None,
        body_mass_kg=weight.get("mass_kg"),
        cop_ml_ok=cop_ml_assessable(recording.layout),
        cadence_steps_per_min=float(cadence) if cadence is not None and np.isfinite(cadence) else None,
        timing={str(k): float(v) for k, v in summary.timing_variability.items()},
        walking_speed_m_s=_file_speed(recording),
        footprints=_footprints(recording),
        stride_robust_cv_pct={str(k): float(v) for k, v in summary.stride_time_robust_cv_pct.items()},
        summary={"analysis": analysis.to_dict()["summary"]},
        provenance={"metrics": "insole analysis core (insole.analyze)",
                    "analysis_params": dict(analysis.provenance.get("parameters") or {}),
                    "analysis_methods": str(analysis.provenance.get("methods", "")),
                    "analysis_references": dict(analysis.provenance.get("references") or {}),
                    "analysis_version": analysis.provenance.get("version")},
        analysis=analysis,
    )


def analysis_symmetry_index(session: SessionMetrics, key: str) -> float | None:
    """The analysis' symmetry index (%, R vs L) of report metric ``key``; None if it gives none."""
    analysis = session.analysis
    if analysis is None or key not in ANALYSIS_METRICS:
        return None
    symmetry = analysis.summary.symmetry
    metric = ANALYSIS_METRICS[key][0]
    if metric not in symmetry.index:
        return None
    value = float(symmetry.at[metric, "symmetry_index_pct"])
    return value if np.isfinite(value) else None


def analysis_difference(session: SessionMetrics, key: str) -> float | None:
    """The analysis' right-minus-left difference of report metric ``key`` (in the report's unit); None if none."""
    analysis = session.analysis
    if analysis is None or key not in ANALYSIS_METRICS:
        return None
    symmetry = analysis.summary.symmetry
    metric, factor = ANALYSIS_METRICS[key]
    if metric not in symmetry.index or "difference" not in symmetry.columns:
        return None
    value = float(symmetry.at[metric, "difference"])
    return value * factor if np.isfinite(value) else None


def session_metrics(recording: Any, body_mass_kg: float | None = None) -> SessionMetrics:
    """The findings engine's view of a recording: ``insole.analyze`` (the analysis core), adapted."""
    from insole.analysis import AnalysisParams, analyze

    params = AnalysisParams(body_mass_kg=body_mass_kg) if body_mass_kg is not None else AnalysisParams()
    return session_from_analysis(analyze(recording, params), recording)

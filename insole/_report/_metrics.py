"""What the findings engine reads: per-foot, per-step metrics of one session, in one fixed vocabulary.

The engine never reaches into the analysis core's containers directly; an
adapter (``session_metrics``) copies what it needs into a ``SessionMetrics``,
so a renamed column in the core breaks one function here, not the rules.

Per-step columns (one row per usable step of one foot; any may be missing,
and a rule that needs a missing column reports "not assessed" and why):

=========================  ===============================================================
``stance_s``               heel strike to toe off (s)
``stride_s``               heel strike to the next heel strike of the same foot (s)
``impulse``                force-time integral over stance (BW·s, or au·s when uncalibrated)
``peak_force``             largest force of the step (BW, or au)
``f1``                     first (weight-acceptance) peak (BW or au)
``valley``                 mid-stance minimum between the peaks (BW or au)
``f2``                     second (push-off) peak (BW or au)
``loading_rate_bw_s``      F1 / time from heel strike to F1 (BW/s); only when calibrated
``share_<group>``          share of the step's force-time integral on a region group (0-1):
                           heel, midfoot, forefoot, toes, hallux, lesser_toes,
                           medial_forefoot, lateral_forefoot
``cop_ml_offset_mm``       force-weighted mean medial-lateral COP over stance (mm, + medial)
=========================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from insole._layout import SensorLayout

__all__ = ["FootMetrics", "SessionMetrics", "STEP_COLUMNS", "REGION_SHARES", "ball_width_mm"]

REGION_SHARES: tuple[str, ...] = (
    "heel", "midfoot", "forefoot", "toes", "hallux", "lesser_toes", "medial_forefoot", "lateral_forefoot",
)
STEP_COLUMNS: tuple[str, ...] = (
    "stance_s", "stride_s", "impulse", "peak_force", "f1", "valley", "f2", "loading_rate_bw_s",
    *(f"share_{g}" for g in REGION_SHARES), "cop_ml_offset_mm",
)

# Ball (forefoot) width as a fraction of foot length: the same anthropometric
# average the layouts are scaled with (insole._layout).
_BALL_WIDTH_PER_LENGTH = 0.39


def ball_width_mm(layout: SensorLayout) -> float:
    """Typical ball width (mm) of the foot the layout fits: 0.39 x foot length."""
    return _BALL_WIDTH_PER_LENGTH * float(layout.foot_length_mm)


@dataclass(frozen=True, eq=False)
class FootMetrics:
    """One foot's usable steps and what the analysis said about their quality.

    ``steps`` one row per usable step (columns from ``STEP_COLUMNS``);
    ``stride_times_s`` the walking stride times used for variability (turns and
    bout edges already left out by the analysis); ``quality`` the analysis's
    verdict ("good", "fair", "poor"); ``quality_notes`` its reasons;
    ``curve_mean`` / ``curve_sd`` the mean and SD of the time-normalised
    stance force (0-100 %, BW or au) and ``cop_path_mm`` (x, y per % stance)
    for the figures, when available; ``region_peak`` / ``region_pti`` per
    sensor peak value and pressure-time integral (recording unit, unit·s).
    """

    side: str
    steps: pd.DataFrame
    stride_times_s: np.ndarray
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
    ``summary`` is the analysis summary as JSON-ready data; ``provenance``
    how it was made.
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
    summary: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(s for s in ("left", "right") if s in self.feet)

    def foot(self, side: str) -> FootMetrics | None:
        return self.feet.get(side)


def cop_ml_assessable(layout: SensorLayout) -> bool:
    """True when the layout has a medial and a lateral sensor at the heel and at the forefoot."""
    regions = set(layout.regions)
    return {"medial_heel", "lateral_heel"} <= regions and {"first_metatarsal", "lateral_metatarsals"} <= regions


def session_metrics(recording: Any, body_mass_kg: float | None = None) -> SessionMetrics:
    """The findings engine's view of a recording: from the analysis core, or the interim extractor until it lands."""
    from insole._report._interim import interim_session_metrics

    return interim_session_metrics(recording, body_mass_kg)

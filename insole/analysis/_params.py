"""The analysis parameters: one small frozen dataclass, every field with its unit and a default.

``AnalysisParams()`` is what ``insole.analyze`` uses unless told otherwise;
``dataclasses.asdict(params)`` is the provenance record written into every
result. The defaults and why they were chosen are in ``docs/analysis-methods.md``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from insole._errors import AnalysisError

__all__ = ["AnalysisParams", "STANDARD_GRAVITY_M_S2"]

STANDARD_GRAVITY_M_S2 = 9.80665


@dataclass(frozen=True)
class AnalysisParams:
    """How ``insole.analyze`` turns a recording into gait events and foot-loading metrics.

    Preparation
        ``body_mass_kg``: overrides the recording's body mass (None: use the
        recording's, else estimate body weight from the recording's own load).
        ``zero_offset``: subtract each sensor's unloaded (mid-swing) level.
        ``exclude_saturated``: leave sensors that sit at a plateau at their
        maximum out of forces, COP and regional loads. Off by default: their
        clipped readings are lower bounds and are kept, and the quality says
        so with the sensor's share of the load (flagged either way).
        ``stuck_run_s``: a sensor that reads nothing (dead) or holds one value
        within a small band (stuck) for at least this long while the foot
        walks is left out over that span.
        ``unloaded_max_fraction``: calibrated force (N) counts as unloaded only
        below this fraction of the foot's typical loaded level: a foot whose
        lowest force stays above it never unloads (standing: one contact, no
        steps), and a mid-swing level above it is not subtracted as an offset.
    Events
        ``event_method``: "level" (thresholds on calibrated force, for N and kPa
        insoles), "shape" (edges from the waveform, for uncalibrated "au"
        force-sensitive resistors), or "auto" (shape for "au", level otherwise).
        ``event_lowpass_hz``: zero-phase 2nd-order Butterworth low-pass applied
        to the total force before event detection (not to the metrics).
        ``shape_lowpass_hz`` / ``shape_slope_fraction`` /
        ``shape_toe_off_fraction``: the shape method's smoothing, the fraction of
        the steepest loading slope below which the rise has not started yet, and
        the fraction of the steepest unloading slope at which the fall has ended.
        ``shape_settle_s`` / ``shape_floor_fraction`` / ``shape_pause_fraction`` /
        ``shape_unloaded_fraction``: toe off is where the signal comes within
        ``shape_floor_fraction`` of the contact's amplitude of its lowest level in
        the ``shape_settle_s`` after the fall's end, unless the fall pauses or
        rebounds first (slope flatter than ``shape_pause_fraction`` of the
        steepest); one still more than ``shape_unloaded_fraction`` of the
        amplitude above the swing floor is followed to the next fall.
        ``touch_slope_fraction`` / ``touch_window_s``: the shape method takes a
        touch that began within ``touch_window_s`` before the main rise, rose at
        least ``touch_slope_fraction`` times as steeply and never fell back to
        the swing floor as the heel strike (a heel tap before the loading).
        ``split_stance_factor`` / ``split_depth_fraction``: a contact longer than
        this many times the foot's median walking contact (and not longer than
        ``max_stance_s``) is split at an inner unloading below this fraction of
        the load range (shuffling turns; swings held up by residual load).
        ``detect_high_fraction`` / ``detect_low_fraction``: hysteresis levels of
        the coarse contact detector, as fractions of the foot's robust load range.
        ``contact_on_fraction`` / ``contact_off_fraction``: the level method's
        heel-strike and toe-off levels, above each contact's local floor, as
        fractions of the foot's typical contact peak; the higher off level steps
        over residual in-shoe load.
        ``min_stance_s`` / ``min_swing_s``: shorter contacts are dropped, shorter
        unloadings are merged into the contact around them.
        ``max_stance_s`` / ``max_stride_s``: longer contacts are standing, longer
        strides are pauses; both end a walking bout.
        ``min_bout_strides``: strides in a bout with fewer strides are not used.
        ``turn_threshold_deg``: a stride whose heading changes more than this
        (from the insole gyroscope, when there is one) is a turning stride.
        ``low_confidence``: events with a confidence below this are counted as low.
    COP and curves
        ``cop_min_force_fraction``: COP is masked where the foot carries less
        than this fraction of body weight.
        ``curve_points``: points of the time-normalised stance curves (0-100 %).
    Standing
        ``min_standing_s``: both feet loaded at once for at least this long,
        with little change, is a standing segment.
    """

    body_mass_kg: float | None = None
    zero_offset: bool = True
    exclude_saturated: bool = False
    stuck_run_s: float = 5.0
    unloaded_max_fraction: float = 0.30

    event_method: str = "auto"
    event_lowpass_hz: float = 12.0
    detect_high_fraction: float = 0.30
    detect_low_fraction: float = 0.20
    contact_on_fraction: float = 0.045
    contact_off_fraction: float = 0.135
    shape_lowpass_hz: float = 30.0
    shape_slope_fraction: float = 0.15
    shape_toe_off_fraction: float = 0.14
    shape_settle_s: float = 0.10
    shape_floor_fraction: float = 0.04
    shape_pause_fraction: float = 0.08
    shape_unloaded_fraction: float = 0.30
    touch_slope_fraction: float = 0.5
    touch_window_s: float = 0.15
    split_stance_factor: float = 1.75
    split_depth_fraction: float = 0.35
    min_stance_s: float = 0.20
    min_swing_s: float = 0.12
    max_stance_s: float = 2.5
    max_stride_s: float = 3.0
    min_bout_strides: int = 3
    turn_threshold_deg: float = 30.0
    low_confidence: float = 0.5

    cop_min_force_fraction: float = 0.05
    curve_points: int = 101

    min_standing_s: float = 2.0

    def __post_init__(self) -> None:
        def positive(name: str) -> None:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise AnalysisError(f"{name} must be a positive number, not {value!r}")

        for name in (
            "stuck_run_s", "event_lowpass_hz", "shape_lowpass_hz", "shape_settle_s", "min_stance_s", "min_swing_s",
            "max_stance_s", "max_stride_s", "turn_threshold_deg", "min_standing_s", "split_stance_factor",
            "touch_slope_fraction", "touch_window_s",
        ):
            positive(name)
        for name in (
            "detect_high_fraction", "detect_low_fraction", "contact_on_fraction",
            "contact_off_fraction", "cop_min_force_fraction", "low_confidence", "shape_slope_fraction",
            "shape_toe_off_fraction", "shape_floor_fraction", "shape_pause_fraction", "shape_unloaded_fraction",
            "split_depth_fraction", "unloaded_max_fraction",
        ):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value < 1):
                raise AnalysisError(f"{name} must be a fraction in [0, 1), not {value!r}")
        if self.event_method not in ("auto", "level", "shape"):
            raise AnalysisError(f"event_method must be 'auto', 'level' or 'shape', not {self.event_method!r}")
        if self.detect_low_fraction > self.detect_high_fraction:
            raise AnalysisError("detect_low_fraction must not exceed detect_high_fraction (hysteresis)")
        if self.body_mass_kg is not None and not (0 < float(self.body_mass_kg) < 500):
            raise AnalysisError(f"body_mass_kg {self.body_mass_kg!r} is not plausible")
        if int(self.curve_points) != self.curve_points or self.curve_points < 11:
            raise AnalysisError(f"curve_points must be an integer >= 11, not {self.curve_points!r}")
        if int(self.min_bout_strides) != self.min_bout_strides or self.min_bout_strides < 1:
            raise AnalysisError(f"min_bout_strides must be an integer >= 1, not {self.min_bout_strides!r}")
        if self.max_stance_s <= self.min_stance_s:
            raise AnalysisError("max_stance_s must exceed min_stance_s")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisParams:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise AnalysisError(f"unknown analysis parameters: {', '.join(sorted(unknown))}")
        return cls(**data)

    def replace(self, **changes: Any) -> AnalysisParams:
        return dataclasses.replace(self, **changes)

"""The typed result of ``insole.analyze``: events, tables, summary, curves, regions, quality, provenance.

Everything a report, a dashboard or a batch needs, in native containers
(numpy arrays and pandas DataFrames) held by frozen dataclasses. The column
names carry their units; ``docs/analysis-json.md`` lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from insole.analysis._params import AnalysisParams

__all__ = ["FootEvents", "Summary", "Analysis", "JSON_SCHEMA_VERSION"]

# Bump the minor for added keys, the major for renamed or removed ones.
# 1.2: per-sensor mean pressure, force and au maps (``sensors``: mean_pressure_kpa, peak_force_n, ...).
# 1.3: stance columns ``valley_ratio``, ``cop_ml_offset_pct``, ``forefoot_toes_share_pct``; summary
# ``stride_time_variability_pct``, ``stance_time_variability_pct``, ``timing_variability``.
JSON_SCHEMA_VERSION = "1.4"


@dataclass(frozen=True, eq=False)
class FootEvents:
    """The gait events of one foot, on the recording's own clock (s).

    One entry per detected contact whose event was observed (walking and
    standing contacts alike); ``*_confidence`` in [0, 1] follow the same order.
    ``contacts`` has one row per contact with both events (NaN where unknown),
    its kind ("walking" or "standing") and whether a gap lies inside it.
    """

    heel_strike_s: np.ndarray
    toe_off_s: np.ndarray
    heel_strike_confidence: np.ndarray
    toe_off_confidence: np.ndarray
    contacts: pd.DataFrame


@dataclass(frozen=True, eq=False)
class Summary:
    """Session-level numbers.

    ``per_foot``: index = metric (the numeric columns of the stride tables),
    columns ``{side}_mean``, ``{side}_sd``, ``{side}_cv_pct``, ``{side}_n``
    over the used strides. ``symmetry``: index = metric, columns
    ``left_mean``, ``right_mean``, ``symmetry_index_pct`` = (R - L) / (0.5 (R + L))
    x 100 (positive: right larger; NaN for signed metrics and where a mean is
    not positive), ``difference`` = R - L in the metric's unit, and
    ``uncalibrated_force``: True for force metrics of uncalibrated (au)
    insoles, whose index mixes load and gain differences. ``body_weight``:
    value, method, source, the insoles' load-to-body-weight ratio and, when
    that is implausible, a ``note``. ``stride_time_cv_pct`` is the plain
    CV (SD / mean) of the used strides per foot; ``stride_time_robust_cv_pct``
    is 1.4826 x MAD / median, which one hesitation or split contact does not
    inflate (both in %). ``stride_time_variability_pct`` /
    ``stance_time_variability_pct``: per foot, the robust SD of successive
    differences / sqrt(2) / median (%) of the used stride / stance times (NaN
    under 10 used strides). ``timing_variability``: the session's
    ``stride_variability_pct``, ``stance_variability_pct`` (means of those over
    the feet with 10 or more used strides), ``timing_variability_pct`` (their
    mean), ``stride_cv_pct`` and ``stride_sd_ms`` (means of the per-foot plain CV
    and SD over the feet with 3 or more).
    """

    per_foot: pd.DataFrame
    symmetry: pd.DataFrame
    cadence_steps_per_min: float
    stride_time_cv_pct: Mapping[str, float]
    stride_time_robust_cv_pct: Mapping[str, float]
    stride_time_sd_s: Mapping[str, float]
    strides_used: Mapping[str, int]
    body_weight: Mapping[str, Any]
    standing: Mapping[str, Any] | None
    key_metrics: Mapping[str, Any] = field(default_factory=dict)
    stride_time_variability_pct: Mapping[str, float] = field(default_factory=dict)
    stance_time_variability_pct: Mapping[str, float] = field(default_factory=dict)
    timing_variability: Mapping[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        sides = list(self.strides_used)
        used = ", ".join(f"{s} {self.strides_used[s]}" for s in sides) or "none"
        timing = self.timing_variability.get("timing_variability_pct", float("nan"))
        return (f"<Summary: {_number(self.cadence_steps_per_min, '.1f')} steps/min, strides used {used}, "
                f"timing variability {_number(timing, '.2f', ' %')}, {len(self.per_foot)} metrics per foot; "
                f"read .per_foot, .symmetry, .metric(name, side)>")

    def metric(self, name: str, side: str, statistic: str = "mean") -> float:
        """One value of ``per_foot``, e.g. ``metric("stance_time_s", "left")``; NaN if absent."""
        column = f"{side}_{statistic}"
        if name in self.per_foot.index and column in self.per_foot.columns:
            return float(self.per_foot.at[name, column])
        return float("nan")


@dataclass(frozen=True, eq=False)
class Analysis:
    """What ``insole.analyze(recording, params)`` returns.

    ``events[side]``: ``FootEvents``. ``steps[side]``: one row per contact with
    both events (stance-level metrics). ``strides[side]``: one row per stride
    (heel strike to the next of the same foot) with timing, the stance metrics
    of its first contact, ``used`` and ``exclusion_reason``. ``summary``:
    ``Summary``. ``curves[side]``: mean and SD over the used stances (those
    starting a used stride, without a lost sample) at 0-100 %
    of stance (force in N and BW, COP x and y in mm). ``regions[side]``: one
    row per region group (mean and SD over used stances). ``sensors[side]``:
    one row per sensor for load maps (``sensor_maps`` picks the recording
    unit's). ``quality[side]``: data-quality facts.
    ``provenance``: software, version, parameters, input, methods and references.

    This is the one place every derived number lives: the report, the
    dashboards, the exports and batch tables read them from here. For pandas,
    ``strides_frame()``, ``steps_frame()``, ``sensors_frame()`` and
    ``regions_frame()`` give each table of both feet as one long frame.
    """

    params: AnalysisParams
    sides: tuple[str, ...]
    events: Mapping[str, FootEvents]
    steps: Mapping[str, pd.DataFrame]
    strides: Mapping[str, pd.DataFrame]
    summary: Summary
    curves: Mapping[str, pd.DataFrame]
    regions: Mapping[str, pd.DataFrame]
    sensors: Mapping[str, pd.DataFrame]
    quality: Mapping[str, Mapping[str, Any]]
    provenance: Mapping[str, Any]

    def __repr__(self) -> str:
        source = self.provenance.get("input", {})
        duration = source.get("duration_s")
        head = (f"<Analysis: {', '.join(self.sides) or 'no feet'}, "
                f"{_number(duration, '.1f')} s, layout {source.get('layout', '?')}, unit {self.unit}")
        feet = []
        for side in self.sides:
            table = self.strides.get(side)
            total = len(table) if table is not None else 0
            quality = self.quality.get(side, {})
            feet.append(f"  {side}: {self.summary.strides_used.get(side, 0)} of {total} strides used, "
                        f"{_number(self.summary.metric('stride_time_s', side), '.3f')} s stride time"
                        + (f", quality notes: {len(quality.get('notes') or [])}" if quality.get("notes") else ""))
        lines = [head + f", cadence {_number(self.summary.cadence_steps_per_min, '.1f')} steps/min>", *feet,
                 "  next: .summary (.per_foot, .symmetry, .metric(name, side)), .strides_frame(), .steps_frame(),",
                 "        .regions_frame(), .sensors_frame(), .curves[side], .quality[side], .to_json(), "
                 ".methods_text()"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON structure (``docs/analysis-json.md``) as plain Python objects."""
        from insole.analysis._json import analysis_to_dict

        return analysis_to_dict(self)

    def to_json(self, indent: int | None = 1) -> str:
        from insole.analysis._json import analysis_to_json

        return analysis_to_json(self, indent=indent)  # the same text as dumps(self.to_dict()), from the tables

    def methods_text(self) -> str:
        """A methods paragraph generated from the parameters used."""
        return str(self.provenance.get("methods", ""))

    # ------------------------------------------------------------ long-form tables

    def strides_frame(self) -> pd.DataFrame:
        """Every stride of both feet, one row each: ``side`` (str), then the columns of ``strides[side]``.

        ``stride`` (int) numbers the strides of one foot from 0, ``used`` (bool)
        says whether it enters the summary, ``exclusion_reason`` (str) why not;
        the metrics are floats in the units their names end with (NaN where
        not measured). Rows are left foot first, then right, each in time order.
        """
        return _long_form(self.strides, self.sides)

    def steps_frame(self) -> pd.DataFrame:
        """Every contact with both events, one row each: ``side`` (str), then the columns of ``steps[side]``.

        ``contact`` (int) indexes the foot's contacts, ``kind`` (str) is
        "walking" or "standing", ``used`` (bool) marks the stances of used
        strides; stance metrics are floats (NaN for standing contacts and
        contacts with a gap).
        """
        return _long_form(self.steps, self.sides)

    def sensors_frame(self) -> pd.DataFrame:
        """One row per sensor and foot: ``side`` (str), ``sensor`` (str), ``region`` (str), ``x_mm``, ``y_mm``,
        ``used`` (bool), ``share_pct`` and the load-map columns (floats; means over the used stances, NaN for
        sensors the analysis left out). ``sensor_maps`` says which columns are the maps of this recording.
        """
        return _long_form(self.sensors, self.sides)

    def regions_frame(self) -> pd.DataFrame:
        """One row per region group and foot: ``side`` (str), ``region`` (str), ``n_sensors`` (int),
        ``sensors`` (str, comma-separated), and ``<metric>_mean`` / ``<metric>_sd`` (floats) over the used
        stances for ``peak_pressure_kpa``, ``pti_kpa_s``, ``fti_n_s`` and ``share_pct`` where they apply.
        """
        return _long_form(self.regions, self.sides)

    # ------------------------------------------------------------ reading helpers

    @property
    def unit(self) -> str:
        """The recording's unit ("kPa", "N" or "au"), as analysed."""
        return str(self.provenance.get("input", {}).get("unit", "au"))

    def sensor_maps(self, side: str) -> dict[str, np.ndarray]:
        """Per-sensor load maps of one foot in the recording's unit: ``peak``, ``mean`` (stance mean) and
        ``integral`` (unit·s), each (n_sensors,) means over the used stances; NaN for sensors not used."""
        from insole.analysis._regions import sensor_map_columns

        table = self.sensors[side]
        return {statistic: table[column].to_numpy(dtype=np.float64) if column in table
                else np.full(len(table), np.nan) for statistic, column in sensor_map_columns(self.unit).items()}


def _number(value: Any, spec: str, unit: str = "") -> str:
    """``value`` formatted with ``spec`` (then ``unit``); "n/a" when missing or not finite."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return format(number, spec) + unit if np.isfinite(number) else "n/a"


def _long_form(tables: Mapping[str, pd.DataFrame], sides: tuple[str, ...]) -> pd.DataFrame:
    """The per-foot tables stacked, with a leading ``side`` column; each foot's dtypes kept."""
    parts = []
    for side in sides:
        table = tables.get(side)
        if table is None:
            continue
        part = table.reset_index(drop=True)
        part.insert(0, "side", pd.Series([side] * len(part), dtype=object))
        parts.append(part)
    if not parts:
        return pd.DataFrame({"side": pd.Series(dtype=object)})
    frame = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    if "used" in frame:
        frame["used"] = frame["used"].astype(bool)
    return frame

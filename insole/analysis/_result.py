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
JSON_SCHEMA_VERSION = "1.1"


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
    inflate (both in %).
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
    one row per sensor for load maps. ``quality[side]``: data-quality facts.
    ``provenance``: software, version, parameters, input, methods and references.
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

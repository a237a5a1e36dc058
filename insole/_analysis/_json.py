"""The analysis as JSON: plain types only, NaN written as null (documented in docs/analysis-json.md)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from insole._analysis._result import Analysis

__all__ = ["analysis_to_dict", "dumps", "plain"]


def plain(value: Any) -> Any:
    """Numpy, pandas and NaN to JSON-ready Python (NaN and infinities become None)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.floating):
        return plain(float(value))
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return [{str(k): plain(v) for k, v in row.items()} for row in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    return str(value)


def _by_metric(frame: pd.DataFrame) -> dict[str, Any]:
    return {str(metric): {str(k): plain(v) for k, v in row.items()} for metric, row in frame.iterrows()}


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    summary = analysis.summary
    return {
        "schema": "insole.analysis",
        "schema_version": analysis.provenance.get("schema_version"),
        "provenance": plain(analysis.provenance),
        "quality": plain(analysis.quality),
        "events": {
            side: {
                "heel_strike_s": plain(events.heel_strike_s),
                "toe_off_s": plain(events.toe_off_s),
                "heel_strike_confidence": plain(events.heel_strike_confidence),
                "toe_off_confidence": plain(events.toe_off_confidence),
                "contacts": plain(events.contacts),
            }
            for side, events in analysis.events.items()
        },
        "strides": {side: plain(table) for side, table in analysis.strides.items()},
        "steps": {side: plain(table) for side, table in analysis.steps.items()},
        "summary": {
            "cadence_steps_per_min": plain(summary.cadence_steps_per_min),
            "stride_time_cv_pct": plain(summary.stride_time_cv_pct),
            "stride_time_sd_s": plain(summary.stride_time_sd_s),
            "strides_used": plain(summary.strides_used),
            "body_weight": plain(summary.body_weight),
            "standing": plain(summary.standing),
            "per_foot": _by_metric(summary.per_foot),
            "symmetry": _by_metric(summary.symmetry),
        },
        "curves": {side: {c: plain(curve[c].to_numpy()) for c in curve.columns} for side, curve in analysis.curves.items()},
        "regions": {side: plain(table) for side, table in analysis.regions.items()},
        "sensors": {side: plain(table) for side, table in analysis.sensors.items()},
    }


def dumps(data: Mapping[str, Any], indent: int | None = 1) -> str:
    return json.dumps(data, indent=indent, allow_nan=False, ensure_ascii=False)

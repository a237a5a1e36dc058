"""Gait analysis: ``analyze(recording, params) -> Analysis``, and its stages for use alone.

::

    import insole
    from insole.analysis import AnalysisParams, analyze

    analysis = analyze(insole.load("recordings/gaitpdb_GaCo01_01_60s.parquet"), AnalysisParams())
    analysis.strides_frame()      # one row per stride, both feet, a ``side`` column

``analyze`` runs named stages in order, each a function of the results
before it (and the frozen ``AnalysisParams``) returning a frozen result, each
on whole arrays; any of them runs alone::

    checks = check_sensors(recording, "left", params)        # SensorChecks: flags, sensors used
    loads = foot_loads(recording, checks)                     # FootLoads: total force, per-sensor loads
    contacts = detect_events(loads.force, 100.0, params)      # Contacts (any force array will do)
    loads = remove_offset(loads, contacts, params)            # mid-swing zero offset, loads clipped at 0
    timing = stride_timing({"left": loads}, {"left": contacts}, params)   # FootTiming per foot
    weight = body_weight(recording, {"left": loads}, timing, params)      # BodyWeight
    features = stance_features(recording, "left", loads, contacts, timing, weight.value, params)
    summary = summarise(recording, {"left": loads}, timing, {"left": features}, weight, params)

1. sensor checks (flat, dead, stuck, saturated, spikes): ``check_sensors``;
2. loads: total force and per-sensor loads, ``foot_loads``;
3. events: contacts, heel strike and toe off with a confidence each,
   ``detect_events``; then the zero offset from mid-swing samples, ``remove_offset``;
4. strides: timing, walking bouts, turns, exclusions, ``stride_timing``;
5. features: body weight (``body_weight``) and per-stance features, curves,
   regional loads and double support, ``stance_features``;
6. summary: mean/SD/CV per foot, symmetry, standing weight distribution, ``summarise``;

then the quality and the methods text say what it rests on and how it was
made. ``_pipeline`` runs them in order. ``_grid`` holds footprint measures for dense
layouts (pedar, F-Scan and XSENSOR grids). ``docs/analysis-methods.md`` explains
the choices; ``docs/analysis-json.md`` the output.

Importing this package is cheap: each name loads its module (and scipy, pandas)
on first use, so the commands that never analyse start quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insole._lazy import lazy_surface

if TYPE_CHECKING:
    from insole.analysis._cop import cop_ml_assessable, cop_path
    from insole.analysis._entry import analyze, event_method
    from insole.analysis._events import Contacts, detect_contacts, detect_events, lowpass_by_segment
    from insole.analysis._filters import butter_lowpass_sos, zero_phase
    from insole.analysis._grid import (
        GridGeometry,
        arch_index,
        contact_area_mm2,
        footprint,
        force_n,
        grid_image,
        grid_layout,
        is_grid,
        peak_pressure_map,
        pressure_time_integral_map,
    )
    from insole.analysis._json import LEAN_SCHEMA_VERSION, write_json
    from insole.analysis._params import STANDARD_GRAVITY_M_S2, AnalysisParams
    from insole.analysis._prepare import (
        FootLoads,
        SensorChecks,
        SensorFlag,
        ZeroOffset,
        apply_zero_offset,
        check_sensors,
        find_zero_offset,
        finish_loads,
        foot_loads,
        prepare_foot,
        remove_offset,
    )
    from insole.analysis._regions import SENSOR_MAPS, sensor_map_columns
    from insole.analysis._result import JSON_SCHEMA_VERSION, Analysis, FootEvents, Summary
    from insole.analysis._segments import hysteresis
    from insole.analysis._session import BodyWeight, body_weight, summarise
    from insole.analysis._stance import StanceFeatures, stance_features
    from insole.analysis._strides import FootTiming, stride_timing
    from insole.analysis._summary import (
        ROBUST_CV_ZERO_PCT,
        SIGNED_METRICS,
        metric_unit,
        robust_cv_is_zero,
        robust_cv_pct,
        symmetry_index_pct,
    )

__all__ = [
    "analyze",
    # the stages, in order, and their results
    "check_sensors",
    "SensorChecks",
    "SensorFlag",
    "foot_loads",
    "FootLoads",
    "detect_events",
    "event_method",
    "remove_offset",
    "ZeroOffset",
    "stride_timing",
    "FootTiming",
    "body_weight",
    "BodyWeight",
    "stance_features",
    "StanceFeatures",
    "summarise",
    "find_zero_offset",
    "apply_zero_offset",
    "AnalysisParams",
    "Analysis",
    "FootEvents",
    "Summary",
    "JSON_SCHEMA_VERSION",
    "LEAN_SCHEMA_VERSION",
    "write_json",
    "SIGNED_METRICS",
    "STANDARD_GRAVITY_M_S2",
    "prepare_foot",
    "finish_loads",
    "detect_contacts",
    "Contacts",
    "cop_path",
    "cop_ml_assessable",
    "robust_cv_pct",
    "ROBUST_CV_ZERO_PCT",
    "robust_cv_is_zero",
    "symmetry_index_pct",
    "metric_unit",
    "SENSOR_MAPS",
    "sensor_map_columns",
    "hysteresis",
    "lowpass_by_segment",
    "butter_lowpass_sos",
    "zero_phase",
    "GridGeometry",
    "grid_layout",
    "is_grid",
    "grid_image",
    "footprint",
    "arch_index",
    "contact_area_mm2",
    "force_n",
    "peak_pressure_map",
    "pressure_time_integral_map",
]

_HOMES = {
    "analyze": "_entry",
    "butter_lowpass_sos": "_filters",
    "zero_phase": "_filters",
    "check_sensors": "_prepare",
    "SensorChecks": "_prepare",
    "SensorFlag": "_prepare",
    "foot_loads": "_prepare",
    "FootLoads": "_prepare",
    "detect_events": "_events",
    "event_method": "_entry",
    "remove_offset": "_prepare",
    "ZeroOffset": "_prepare",
    "stride_timing": "_strides",
    "FootTiming": "_strides",
    "body_weight": "_session",
    "BodyWeight": "_session",
    "stance_features": "_stance",
    "StanceFeatures": "_stance",
    "summarise": "_session",
    "find_zero_offset": "_prepare",
    "apply_zero_offset": "_prepare",
    "AnalysisParams": "_params",
    "Analysis": "_result",
    "FootEvents": "_result",
    "Summary": "_result",
    "JSON_SCHEMA_VERSION": "_result",
    "LEAN_SCHEMA_VERSION": "_json",
    "write_json": "_json",
    "SIGNED_METRICS": "_summary",
    "STANDARD_GRAVITY_M_S2": "_params",
    "prepare_foot": "_prepare",
    "finish_loads": "_prepare",
    "detect_contacts": "_events",
    "Contacts": "_events",
    "cop_path": "_cop",
    "cop_ml_assessable": "_cop",
    "robust_cv_pct": "_summary",
    "ROBUST_CV_ZERO_PCT": "_summary",
    "robust_cv_is_zero": "_summary",
    "symmetry_index_pct": "_summary",
    "metric_unit": "_summary",
    "SENSOR_MAPS": "_regions",
    "sensor_map_columns": "_regions",
    "hysteresis": "_segments",
    "lowpass_by_segment": "_events",
    "GridGeometry": "_grid",
    "grid_layout": "_grid",
    "is_grid": "_grid",
    "grid_image": "_grid",
    "footprint": "_grid",
    "arch_index": "_grid",
    "contact_area_mm2": "_grid",
    "force_n": "_grid",
    "peak_pressure_map": "_grid",
    "pressure_time_integral_map": "_grid",
}


__getattr__, __dir__ = lazy_surface(__name__, _HOMES)

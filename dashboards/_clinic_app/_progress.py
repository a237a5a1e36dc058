"""Progress: the key numbers of a test, each with its minimal detectable change, and a patient's timeline.

``key_measures`` reads a test's key numbers from the report insole writes for
it (``insole.report.write_report``: the same rows, units and reference texts
as the report's key-numbers table), adds stride time and peak force from the
analysis and the clinic test's result (10-metre walk speed and time, 6-minute
distance, TUG time, sway area), and gives each the MDC95 insole measured for
it, as ``insole report --baseline`` judges a change:

* the layout's own same-day test-retest repeatability
  (``insole/report/_data/repeatability/<layout>.json``; today gaitpdb8 only):
  per-foot metrics, their left/right symmetry indices (signed measures: right minus left) and session metrics;
* for stride-timing measures (cadence, stride-time variability and SD) on a
  layout without its own, the gaitpdb8 figures: stride timing does not depend
  on where the sensors sit (the report's reference rule for timing,
  docs/report.md), and ``mdc_source`` says so;
* nothing else: no MDC95, and the timeline says "no MDC: change not judged".

``build_timeline`` lays the stored measures out per visit and judges each
change between consecutive visits: ``changed`` True when |change| > MDC95,
and not judged (None) between tests recorded with other insoles (another
sensor layout): an MDC95 is one system's day-to-day noise, not the
difference between two systems.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from dashboards._clinic_app._model import (
    TESTS,
    Measure,
    Patient,
    Timeline,
    TimelineChange,
    TimelinePoint,
    TimelineRow,
    Visit,
)

__all__ = ["key_measures", "build_timeline", "mdc95_of", "TIMING_MEASURES", "CLINIC_MEASURES"]

#: session measures of stride timing: their repeatability does not depend on the sensor layout
TIMING_MEASURES = frozenset({
    "cadence_steps_per_min", "timing_variability_pct", "stride_variability_pct", "stance_variability_pct",
    "stride_cv_pct", "stride_sd_ms",
})
_TIMING_LAYOUT = "gaitpdb8"  # where the stride-timing repeatability was measured

#: per clinic test: (key in the result's measures, label, unit) kept as key numbers
CLINIC_MEASURES: Mapping[str, tuple[tuple[str, str, str], ...]] = {
    "10mwt": (("gait_speed_m_s", "10-metre walk: gait speed", "m/s"), ("timed_s", "10-metre walk: time", "s")),
    "6mwt": (("distance_m", "6-minute walk: distance", "m"),),
    "tug": (("total_time_s", "Timed Up and Go: time", "s"),),
    "balance": (("eyes_open_ellipse_area_mm2", "Standing balance: sway area, eyes open", "mm²"),
                ("eyes_closed_ellipse_area_mm2", "Standing balance: sway area, eyes closed", "mm²")),
}

# foot metrics the analysis has but the report's key numbers do not: (analysis metric, name, label, unit)
_ANALYSIS_FOOT = (
    ("stride_time_s", "stride_time_s", "Stride time", "s"),
    ("max_force_bw", "peak_force_bw", "Peak force", "BW"),
)


@cache
def _repeatability(layout: str) -> dict[str, Any] | None:
    """The stored repeatability document of ``layout`` (insole's report data), None when none was measured."""
    entry = resources.files("insole.report").joinpath("_data", "repeatability", f"{layout}.json")
    if not entry.is_file():
        return None
    document = json.loads(entry.read_text(encoding="utf-8"))
    return document if isinstance(document, dict) else None


def _stored_mdc(document: Mapping[str, Any] | None, group: str, key: str) -> float | None:
    if document is None:
        return None
    entry = (document.get(group) or {}).get(key) or {}
    value = entry.get("mdc95") if isinstance(entry, Mapping) else None
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def mdc95_of(layout: str, group: str, key: str, scale: float = 1.0) -> tuple[float | None, str]:
    """(MDC95 in the shown unit, where it comes from) of ``key`` in ``group`` ("foot", "lr_index", "session")."""
    own = _repeatability(layout)
    value = _stored_mdc(own, group, key)
    if value is not None:
        n = own.get("n_pairs") if own else None
        return value * scale, f"{layout} same-day test-retest ({n} pairs)"
    if group == "session" and key in TIMING_MEASURES and layout != _TIMING_LAYOUT:
        timing = _repeatability(_TIMING_LAYOUT)
        value = _stored_mdc(timing, "session", key)
        if value is not None:
            n = timing.get("n_pairs") if timing else None
            return value * scale, (f"{_TIMING_LAYOUT} same-day test-retest ({n} pairs); stride timing does not "
                                   "depend on the sensor layout")
    return None, ""


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def key_measures(report: Any, analysis: Any, clinic_result: Mapping[str, Any] | None, layout: str) -> list[Measure]:
    """The key numbers of one test (see the module docstring), in the report's order."""
    out: list[Measure] = []
    seen: set[str] = set()

    def add(name: str, value: Any, unit: str, label: str, reference: str, mdc: tuple[float | None, str]) -> None:
        number = _finite(value)
        if number is None or name in seen:
            return
        seen.add(name)
        out.append(Measure(name=name, value=number, unit=unit, reference=reference, mdc95=mdc[0], label=label,
                           mdc_source=mdc[1]))

    for test, specs in CLINIC_MEASURES.items():
        if clinic_result is None or clinic_result.get("test") != test or not clinic_result.get("complete"):
            continue
        measures = clinic_result.get("measures") or {}
        for key, label, unit in specs:
            add(key, measures.get(key), unit, label, "see the report's clinic-test section", (None, ""))
    for row in report.key_numbers:
        scale = 100.0 if row.key.startswith("share_") else 1.0  # shares are stored 0-1 and shown in %
        if row.session is not None:
            add(row.key, row.session, row.unit, row.label, row.reference, mdc95_of(layout, "session", row.key))
            continue
        for side in ("left", "right"):
            add(f"{row.key}_{side}", getattr(row, side), row.unit, f"{row.label}, {side}", row.reference,
                mdc95_of(layout, "foot", row.key, scale))
        if row.symmetry_index_pct is not None:
            add(f"{row.key}_si_pct", row.symmetry_index_pct, "%", f"{row.label}: symmetry index (R vs L)",
                "none available (healthy left/right indices can be wide: docs/report.md)",
                mdc95_of(layout, "lr_index", row.key))
        elif row.difference is not None:  # a signed measure (COP offset, CPEI): compared by R - L, never an index
            add(f"{row.key}_r_minus_l", row.difference, row.unit, f"{row.label}: right minus left",
                "none available (healthy left/right differences: docs/report.md)", (None, ""))
    if analysis is not None:
        for metric, name, label, unit in _ANALYSIS_FOOT:
            for side in analysis.sides:
                add(f"{name}_{side}", analysis.summary.metric(metric, side), unit, f"{label}, {side}",
                    "none available", (None, ""))
    return out


def _changes(points: Sequence[TimelinePoint], mdc: float | None) -> tuple[TimelineChange, ...]:
    changes = []
    for a, b in zip(points, points[1:]):
        change = b.value - a.value
        systems_differ = bool(a.layout and b.layout and a.layout != b.layout)
        changes.append(TimelineChange(
            visit_a_id=a.visit_id, visit_b_id=b.visit_id, change=change,
            changed=None if mdc is None or systems_differ else bool(abs(change) > mdc),
            conditions_differ=(a.footwear, a.orthosis) != (b.footwear, b.orthosis),
            systems_differ=systems_differ,
        ))
    return tuple(changes)


def build_timeline(patient: Patient, visits: Sequence[Visit], rows: Iterable[Any]) -> Timeline:
    """The timeline of ``patient`` from the stored measures of their done tests.

    ``rows``: one per stored measure (mappings or ``sqlite3.Row``) with ``visit_id``, ``test_id``, ``test``
    (the kind), ``name``, ``label``, ``unit``, ``value``, ``mdc95``, ``mdc_source``, ``position`` and, when
    known, ``layout`` (the recording's sensor layout), in test order (a later test of the same kind in a visit
    replaces an earlier one's value).
    """
    by_visit = {v.id: v for v in visits}
    order = {v.id: i for i, v in enumerate(visits)}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        visit = by_visit.get(row["visit_id"])
        if visit is None:
            continue
        key = (row["test"], row["name"])
        group = groups.setdefault(key, {"values": {}, "position": row["position"]})
        # the latest test's label, unit and MDC: they describe the newest analysis
        group.update(label=row["label"], unit=row["unit"], mdc95=row["mdc95"], mdc_source=row["mdc_source"])
        group["values"][visit.id] = TimelinePoint(visit_id=visit.id, visit_date=visit.visit_date,
                                                  test_id=row["test_id"], value=float(row["value"]),
                                                  footwear=visit.footwear, orthosis=visit.orthosis,
                                                  layout=(row["layout"] or "") if "layout" in row.keys() else "")
    test_order = {t: i for i, t in enumerate(TESTS)}
    out = []
    for (test, name), group in sorted(groups.items(),
                                      key=lambda kv: (test_order.get(kv[0][0], 99), kv[1]["position"], kv[0][1])):
        points = tuple(sorted(group["values"].values(), key=lambda p: order[p.visit_id]))
        mdc = group["mdc95"]
        out.append(TimelineRow(test=test, name=name, label=group["label"], unit=group["unit"], mdc95=mdc,
                               mdc_source=group["mdc_source"], points=points, changes=_changes(points, mdc)))
    return Timeline(patient=patient, visits=tuple(visits), rows=tuple(out))

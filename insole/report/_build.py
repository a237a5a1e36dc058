"""Build a report: the findings, key numbers, quality, changes since baseline, methods and references.

``build_report(recording)`` returns a ``Report``; ``report.to_dict()`` is the
JSON (schema ``insole-report`` v1, docs/report.md); ``_html.render_html``
turns it into the page and ``_pdf.print_pdf`` prints that page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from insole._errors import InputError
from insole._recording import Recording
from insole._version import __version__
from insole.analysis import symmetry_index_pct
from insole.report._clinic_test import clinic_section
from insole.report._evidence import (
    DATASET_CITATIONS,
    DISCLAIMER,
    EVIDENCE_SOURCE,
    REFERENCES,
)
from insole.report._findings import (
    CODES,
    FOOT_RULES,
    OPPOSITE_RULES,
    SPEED_DEPENDENT,
    FindingParams,
    FindingsResult,
    evaluate,
    foot_quality_reason,
    irregular_limit,
    rules_methods_text,
    speed_outside_controls,
    timing_controls,
    variability_too_coarse,
    whole_foot_note,
)
from insole.report._metrics import (
    ANALYSIS_METRICS,
    FOOTPRINT_THRESHOLD_KPA,
    SIGNED_KEYS,
    SessionMetrics,
    analysis_difference,
    analysis_symmetry_index,
    robust_cv_is_zero,
    session_from_analysis,
    session_metrics,
    timing_resolution_pct,
)
from insole.report._model import json_number
from insole.report._reference import (
    BODY_WEIGHT_METRICS,
    FOOT_LEVEL_METRICS,
    PER_PERSON_FOOT_METRICS,
    NormBand,
    ReferenceSet,
    Repeatability,
    _is_this_walk,
    _same_subject,
    body_weight_check,
    foot_level_values,
    foot_metric_values,
    load_norms,
    load_reference_sets,
    norm_band_for,
    norm_reference_line,
    reference_set_for,
    session_metric_values,
)
from insole.report._spm import StanceCurveComparison, compare_stance_force, compare_with_baseline

__all__ = ["Report", "build_report", "REPORT_SCHEMA", "REPORT_SCHEMA_VERSION", "SECTIONS"]


REPORT_SCHEMA = "insole-report"
REPORT_SCHEMA_VERSION = 1
# The sections of the page, in order (ids and headings; the PDF has the same).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("session", "Session"),
    ("quality", "Data quality"),
    ("key-numbers", "Key numbers"),
    ("findings", "Findings"),
    ("chain", "Kinetic chain"),
    ("left-right", "Left / right comparison"),
    ("force-curves", "Force curves"),
    ("cop", "Centre of pressure"),
    ("load-maps", "Regional load maps"),
    ("changes", "Changes since baseline"),
    ("methods", "Methods"),
    ("references", "References"),
    ("disclaimer", "Not a diagnosis"),
)


# ---------------------------------------------------------------- key numbers


@dataclass(frozen=True)
class KeyNumber:
    """One row of the key-numbers table: both feet (or the session), the reference range and its source."""

    key: str
    label: str
    unit: str
    left: float | None = None
    right: float | None = None
    session: float | None = None
    symmetry_index_pct: float | None = None
    reference: str = "none available"
    reference_kind: str = "none"  # literature | real controls | simulated (not real people) | none
    references: tuple[int, ...] = ()
    digits: int = 2
    # where the value lies outside the real controls' range of this layout: "left", "right" or "session"
    outside: tuple[str, ...] = ()
    real_range: tuple[float, float] | None = None
    # why the row's values are shown but not judged against the range beside them ("" when they are judged)
    not_judged: str = ""
    # shown instead of a value that would mislead (e.g. a robust CV of 0 when the MAD is 0); the value is then None
    not_available: str = ""
    # "foot" (left and right) or "session" (one value)
    scope: str = "foot"
    # the age/sex band of the cadence and speed norms the value was judged against (``NormBand.to_dict`` + why)
    norm_band: dict[str, Any] | None = None
    # signed measures (COP offset, CPEI): right minus left, shown instead of a symmetry index (which is then None)
    difference: float | None = None
    # one sentence beside the label saying what the number is and how it differs from its neighbours
    note: str = ""
    # the person walked outside every control's speed and the measure changes with speed (``speed_outside_controls``)
    speed_note: str = ""
    # a finding rests on this measure although the row itself is not marked (``link_findings``)
    see_finding: str = ""
    # the measure rests on sensors the quality checks flagged (``sensor_caveat``): which, and what that means
    caveat: str = ""
    # the same, short, for the table (``sensor_caveat_short``)
    caveat_short: str = ""
    # the same measure in another unit as another view shows it (the COP offset in mm, as insole analyze prints
    # it): {"unit", "left", "right", "difference_right_minus_left"}, the analysis' own values
    other_unit: dict[str, Any] | None = None
    # how finely the sample rate lets the value move, said beside it where two decimals would suggest more
    # (``robust_cv_resolution``: the per-foot robust stride-time CV)
    resolution: str = ""
    # the walk's mean of both feet, when the row's range is of two-foot means and judged it (``_judge``)
    mean_of_feet: float | None = None

    def direction(self, where: str) -> str:
        """Whether the value at ``where`` ("left", "right", "session") lies "above" or "below" the range."""
        value = {"left": self.left, "right": self.right, "session": self.session}[where]
        if where not in self.outside or value is None or self.real_range is None:
            return ""
        return "above" if value > self.real_range[1] else "below"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "unit": self.unit, "digits": self.digits,
                "outside_real_range": list(self.outside),
                "outside_direction": {w: self.direction(w) for w in self.outside},
                "not_judged": self.not_judged, "not_available": self.not_available or None, "scope": self.scope,
                "norm_band": self.norm_band,
                "real_range": [json_number(v) for v in self.real_range] if self.real_range else None,
                "left": json_number(self.left),
                "right": json_number(self.right), "session": json_number(self.session),
                "symmetry_index_pct": json_number(self.symmetry_index_pct),
                "difference_right_minus_left": json_number(self.difference), "note": self.note or None,
                "speed_note": self.speed_note or None, "see_finding": self.see_finding or None,
                "resolution": self.resolution or None, "mean_of_feet": json_number(self.mean_of_feet),
                "sensor_caveat": self.caveat or None, "sensor_caveat_short": self.caveat_short or None,
                "other_unit": ({k: (json_number(v) if k != "unit" else v) for k, v in self.other_unit.items()}
                               if self.other_unit else None),
                "reference": self.reference,
                "reference_kind": self.reference_kind, "references": list(self.references)}


def _mean(values: np.ndarray) -> float | None:
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


def _si(right: float | None, left: float | None) -> float | None:
    if right is None or left is None:
        return None
    value = symmetry_index_pct(right, left)
    return value if math.isfinite(value) else None


def foot_mean(session: SessionMetrics, side: str, key: str, values: np.ndarray, scale: float = 1.0) -> float | None:
    """A foot's mean of report metric ``key`` as shown (x ``scale``): the analysis' own where it has one.

    ``values`` are the foot's per-step values; when none is finite (e.g. a force
    metric of uncalibrated insoles, which the report does not compare) there is no mean.
    """
    own = _mean(values)
    if own is None:
        return None
    analysis = session.analysis
    if analysis is not None and key in ANALYSIS_METRICS:
        metric, factor = ANALYSIS_METRICS[key]
        value = analysis.summary.metric(metric, side)
        if math.isfinite(value):
            return value if factor * scale == 1.0 else value * factor * scale
    return own * scale


def _counted(ref: ReferenceSet, metric: str, per_foot: bool) -> str:
    """What a real range's values are, counting people (each person counts once: docs/report.md)."""
    dist = ref.foot_metric(metric) if per_foot else ref.session_metric(metric)
    if dist is None:
        return ""
    if not per_foot:
        return f"{dist.n} recordings"
    if dist.people and dist.people == dist.n and metric in PER_PERSON_FOOT_METRICS:
        return f"{dist.n} people, each the mean of both feet"
    if dist.people and dist.people != dist.n:
        return f"{dist.n} feet of {dist.people} people"
    return f"{dist.n} feet"


def _range_text(ref: ReferenceSet, metric: str, scale: float, unit: str, digits: int, per_foot: bool) -> str | None:
    dist = ref.foot_metric(metric) if per_foot else ref.session_metric(metric)
    if dist is None:
        return None
    judged = dist.judging_range() if ref.kind == "real" else None
    if judged is not None:
        # min-max from SMALL_SAMPLE_N values up, else the 95 % prediction interval (docs/report.md)
        low, high, how = judged
        return (f"{number_text(low * scale, digits)}–{number_text(high * scale, digits)} {unit} "
                f"({how} of {_counted(ref, metric, per_foot)})").replace(" %", "%")
    return (f"{number_text(dist.quantile(0.025) * scale, digits)}–{number_text(dist.quantile(0.975) * scale, digits)} "
            f"{unit} (middle 95%, {dist.n} feet)").replace(" %", "%")


# (key, label, unit, scale, digits, literature text, literature refs)
_FOOT_ROWS: tuple[tuple[str, str, str, float, int, str, tuple[int, ...]], ...] = (
    ("stance_s", "Stance time", "s", 1.0, 3, "", ()),
    ("stance_pct", "Stance, % of stride", "%", 1.0, 1, "58–64% (speed-dependent, 64.2 − 3.5 × speed in m/s)", (75,)),
    ("f1", "First peak F1", "BW", 1.0, 2, "≈1.2 BW at about 1.5 m/s (lower when slower)", (45,)),
    ("valley_ratio", "Valley ratio (valley / mean peak)", "", 1.0, 2, "", ()),
    ("loading_rate_bw_s", "Loading rate (20–80% of F1)", "BW/s", 1.0, 1,
     "≈8 BW/s at about 1.5 m/s; method- and speed-dependent",
     (45, 47)),
    ("share_heel", "Heel share", "%", 100.0, 1, "", ()),
    ("share_midfoot", "Midfoot share", "%", 100.0, 1, "", ()),
    ("share_front", "Forefoot + toes share", "%", 100.0, 1, "", ()),
    ("share_hallux", "Hallux share", "%", 100.0, 1, "", ()),
    ("share_lesser_toes", "Lesser-toe share", "%", 100.0, 1, "", ()),
    ("cop_ml_pct", "COP medial offset", "% ball width", 1.0, 1, "", ()),
    ("cpei_pct", "Centre of pressure excursion index (CPEI)", "%", 1.0, 1, "", ()),
    ("step_s", "Step time (ending at this foot's heel strike)", "s", 1.0, 3, "", ()),
    ("double_support_pct", "Double support, % of stride", "%", 1.0, 1, "", ()),
    ("stride_robust_cv_pct", "Stride-time robust CV", "%", 1.0, 2, "", ()),
)
_SESSION_ROWS: tuple[tuple[str, str, str, int, str, tuple[int, ...]], ...] = (
    # no literature band: the one quoted before (113.8 ± 4.3 steps/min [76]) was the control group of a Parkinson's
    # study; cadence is judged against the age- and sex-banded norms of real controls (``load_norms``)
    ("cadence_steps_per_min", "Cadence", "steps/min", 1, "", ()),
    ("timing_variability_pct", "Stride-to-stride timing variability (stride and stance)", "%", 2, "", ()),
    ("stride_variability_pct", "Stride-to-stride variability, stride time", "%", 2, "", ()),
    ("stance_variability_pct", "Stride-to-stride variability, stance time", "%", 2, "", ()),
    ("stride_cv_pct", "Stride-time CV (plain)", "%", 2, "", ()),
    ("stride_sd_ms", "Stride-time SD", "ms", 0, "group means (± SD), not a normal range: older adults who did "
     "not fall 49 ± 4 ms, who fell 106 ± 30 ms", (67,)),
    ("stance_si_pct", "Stance-time symmetry index (R vs L)", "%", 1,
     "|SI| > 10% is a convention its users call arbitrary; no finding uses it (antalgic gait: stance SI ≤ −5% with a "
     "lower peak force on the same foot, see Methods)", (53,)),
    ("impulse_si_pct", "Impulse symmetry index (R vs L)", "%", 1,
     "load asymmetry needs |SI| > 10% (a convention its users call arbitrary) beyond its MDC95 and, with real "
     "controls, the impulse, peak-force and F1 indices together beyond their healthy asymmetry (see Methods)", (53,)),
    ("step_si_pct", "Step-time symmetry index (R vs L)", "%", 1,
     "|SI| > 10% is a convention its users call arbitrary; no finding uses it", (53,)),
    ("cop_ml_sd_pct", "COP variability: step-to-step SD of the medial-lateral offset", "% ball width", 2, "", ()),
)


# What each variability figure is, in one sentence each, shown beside it: three ways of measuring stride-to-stride
# scatter that give different numbers on the same walk (gaitpdb GaCo01_01: plain CV 3.90 %, robust stride-to-stride
# 2.15 %, timing variability 2.50 %; insole analyze's per-foot "robust CV" is a fourth, 2.44 / 3.01 %).
VARIABILITY_NOTES: dict[str, str] = {
    "timing_variability_pct": (
        "The figure the irregular-timing finding judges: the mean of the two robust stride-to-stride figures below "
        "(stride time and stance time)."),
    "stride_variability_pct": (
        "Robust: the typical change of stride time from one stride to the next (median absolute change, scaled to "
        "an SD), as % of the median stride; a turn, a pause or a slow change of pace hardly moves it."),
    "stance_variability_pct": "The same robust stride-to-stride figure for the stance times.",
    "stride_cv_pct": (
        "Plain coefficient of variation, averaged over the two feet: for each foot, the SD of its used stride times "
        "over their mean; every odd stride and any change of pace raise it, so it runs above the robust figures and "
        "compares only with other plain CVs."),
    "stride_sd_ms": (
        "The SD behind the plain CV, in milliseconds, averaged over the two feet: turns, pauses and any odd stride "
        "raise it as they raise the plain CV (the robust figures above hardly move), so on a walk with turns it can "
        "read near the fallers\u2019 group mean beside it for that reason alone; that mean and the non-fallers\u2019 "
        "come from one study\u2019s protocol and are not limits for this walk."),
    "stride_robust_cv_pct": (
        "Per foot, as insole analyze prints it: 1.4826 × the median absolute deviation of the foot\u2019s used stride "
        "times over their median; one odd stride hardly moves it, a slow change of pace does (unlike the "
        "stride-to-stride figures below)."),
}


# Session figures that are the mean over the feet of each foot's figure (``timing_variability``, the COP scatter):
# on a walk of one foot, that foot's (the controls' are each the mean of both feet)
FEET_MEAN_SESSION_KEYS = frozenset({"timing_variability_pct", "stride_variability_pct", "stance_variability_pct",
                                    "stride_cv_pct", "stride_sd_ms", "cop_ml_sd_pct"})


def variability_note(session: SessionMetrics, key: str) -> str:
    """``VARIABILITY_NOTES[key]`` as computed on this walk: the plain CV and SD are the mean over the feet with at
    least 3 strides (``timing_variability``); with one such foot (a one-foot recording), that foot's, and said so
    (stappone_example.csv, left foot only, said "averaged over the two feet")."""
    note = VARIABILITY_NOTES.get(key, "")
    if key not in ("stride_cv_pct", "stride_sd_ms"):
        return note
    feet = [s for s in session.sides if session.feet[s].stride_times_s.size >= 3]
    if len(feet) != 1:
        return note
    why = "the only one recorded" if len(session.sides) == 1 else "the only one with 3 strides or more"
    if key == "stride_cv_pct":
        return note.replace("averaged over the two feet: for each foot, the SD of its used stride times over their "
                            "mean", f"of the {feet[0]} foot alone ({why}): the SD of its used stride times over their "
                            "mean")
    return note.replace("averaged over the two feet", f"of the {feet[0]} foot alone ({why})")


# Other rows' sentences beside their label: what the measure is, where a reader would otherwise have to guess.
ROW_NOTES: dict[str, str] = {
    "step_si_pct": (
        "The step ending at the right heel strike against the one ending at the left's (negative: the right steps "
        "are shorter). No finding rule judges it alone; when marked it is named under the findings."),
}


@dataclass(frozen=True)
class _Judged:
    """How a row's values were judged against its real range (``_judge``): the places marked outside it, the
    range, the value judged when the range is of two-foot means (``mean_of_feet``), and the values beyond a limit
    by less than the measure's resolution (``at_limit``: {where: (value, limit)}), which are not marked."""

    outside: tuple[str, ...] = ()
    real_range: tuple[float, float] | None = None
    mean_of_feet: float | None = None
    at_limit: dict[str, tuple[float, float]] = field(default_factory=dict)


def _per_person(ref: ReferenceSet, metric: str, per_foot: bool) -> bool:
    """Whether ``ref``'s range of ``metric`` holds one value per person, the mean of the two feet
    (``PER_PERSON_FOOT_METRICS``): a foot is then judged by the walk's own mean of both feet, like with like."""
    dist = ref.foot_metric(metric) if per_foot else None
    return bool(dist is not None and metric in PER_PERSON_FOOT_METRICS and dist.people and dist.people == dist.n)


def _judge(ref: ReferenceSet | None, metric: str, scale: float, per_foot: bool, values: dict[str, float | None],
           resolution: float = 0.0) -> _Judged:
    """Which of ``values`` lie outside the real controls' range of ``metric``, and that range: the min-max from
    ``SMALL_SAMPLE_N`` values up, else the 95 % prediction interval (``MetricDistribution.judging_range``).

    A range of two-foot means (the per-foot timing measures) judges the walk's mean of both feet: a foot is marked
    only when that mean lies outside, and only a foot beyond the same limit. A value beyond a limit by no more
    than ``resolution`` (the measure's step at this sample rate, ``timing_step``) is not told apart from it: not
    marked, and kept in ``at_limit`` so the row can say so.
    """
    if ref is None or ref.kind != "real":
        return _Judged()
    dist = ref.foot_metric(metric) if per_foot else ref.session_metric(metric)
    if dist is None:
        return _Judged()
    judged = dist.judging_range()
    if judged is None:
        return _Judged()
    low, high = judged[0] * scale, judged[1] * scale
    # the stored values are rounded to 6 decimals: a value at the edge of the range is inside it
    rounding = 1e-6 * max(abs(scale), 1.0)
    tol = rounding + max(resolution, 0.0)
    present = {k: v for k, v in values.items() if v is not None}
    mean = None
    # a walk with both feet is judged by its mean of both feet; a walk of one foot by that foot (no mean to take)
    if "left" in present and "right" in present and _per_person(ref, metric, per_foot):
        mean = float(np.mean([present["left"], present["right"]]))
        judged_values = {"mean": mean}
    else:
        judged_values = present
    beyond = {k: v for k, v in judged_values.items() if not low - tol <= v <= high + tol}
    # at the limit: beyond it by more than the rounding but no more than the resolution (none without a resolution)
    at_limit = {k: (v, high if v > high else low) for k, v in judged_values.items()
                if resolution > 0 and k not in beyond and not low - rounding <= v <= high + rounding}
    if mean is not None:
        # the feet beyond the limit the mean lies beyond (at least one is, by more than the resolution)
        above = mean > high
        beyond = {k: v for k, v in present.items() if (v > high + tol if above else v < low - tol)} if beyond else {}
        if beyond and resolution > 0:
            # a foot beyond that limit by less than the resolution is not marked: the row says so (jupt07's left
            # stance time 0.548 s beside 0.557-0.795 s, 8.5 ms below at 100 Hz, read unmarked without a word)
            limit = high if above else low
            at_limit.update({k: (v, limit) for k, v in present.items() if k not in beyond
                             and (v > high + rounding if above else v < low - rounding)})
    return _Judged(tuple(k for k in values if k in beyond), (low, high), mean, at_limit)


def reference_membership(record: dict[str, Any] | None, sets: Sequence[ReferenceSet], layout: str) -> str:
    """Whether this walk or this person is one of the layout's real controls, and that it was judged against the
    other controls (``sets_without_self``); "" when neither. ``sets`` are the sets the walk was judged against."""
    real = reference_set_for(sets, layout, kind="real")
    if real is None or not record:
        return ""
    total = real.n_recordings + len(real.left_out)
    for entry in (*real.left_out, *real.recordings):
        if _is_this_walk(entry, record):
            if not real.left_out:
                return (f"This walk ({entry.get('file')}, {entry.get('dataset')}) is one of the {total} controls of "
                        f"this reference: its ranges and limits include it, so a value inside them is no "
                        f"independent check.")
            return (f"This walk ({entry.get('file')}, {entry.get('dataset')}) is one of the {total} controls of this "
                    f"reference: it is judged against the {real.n_recordings} other controls (its own values are "
                    f"left out of every range and limit).")
    for entry in (*real.left_out, *real.recordings):
        if _same_subject(entry.get("subject"), record.get("subject_id")):
            if not real.left_out:
                return (f"This person ({entry.get('subject')}) is one of the {total} controls of this reference "
                        f"(with another walk, {entry.get('file')}, {entry.get('dataset')}): its ranges and limits "
                        f"include that walk.")
            return (f"This person ({entry.get('subject')}) is one of the {total} controls of this reference (with "
                    f"another walk, {entry.get('file')}, {entry.get('dataset')}): this walk is judged against the "
                    f"{real.n_recordings} other controls (that walk is left out of every range and limit).")
    return ""


def repeatability_membership(record: dict[str, Any] | None, base_record: dict[str, Any] | None,
                             repeatability: Repeatability | None) -> str:
    """Whether the recording and its baseline are one of the pairs the layout's MDC95 was measured on, and that
    the MDC95 they were judged by leaves that pair out (``repeatability_without_self``); "" when not."""
    if repeatability is None or not record or not base_record:
        return ""
    names = {str(record.get("name") or "").casefold(), str(base_record.get("name") or "").casefold()}
    total = repeatability.n_pairs + len(repeatability.left_out)
    every = (*repeatability.left_out, *repeatability.pairs)
    others = (f"the MDC95 they are judged by is that of the {repeatability.n_pairs} other pairs (this pair left out)"
              if repeatability.left_out else "")
    for _subject, first, second in every:
        if names == {first.casefold(), second.casefold()}:
            if others:
                return (f"These two walks ({first}, {second}) are one of the {total} same-day pairs the MDC95 was "
                        f"measured on: {others}.")
            return (f"These two walks ({first}, {second}) are one of the {total} same-day pairs the MDC95 was "
                    f"measured on: their own difference is part of it, so a change within it is expected by "
                    f"construction.")
    for subject, first, second in every:
        if _same_subject(subject, record.get("subject_id")):
            return (f"This person ({subject}) is one of the {total} people whose same-day pair ({first}, {second}) "
                    f"the MDC95 was measured on" + (f": {others}." if others else "."))
    return ""


def timing_minimum(session: SessionMetrics, params: FindingParams | None = None) -> str:
    """The one least number of strides every timing key number is judged from, in words, with this walk's counts
    when it has fewer (a 5 s Moticon walk of 4 and 3 strides had its cadence and stance times judged while its
    variability said "too few strides to judge")."""
    params = params or FindingParams()
    least = params.min_variability_strides
    counts = {s: int(session.feet[s].stride_times_s.size) for s in session.sides}
    few = ""
    if counts and min(counts.values()) < least:
        few = " (this walk: " + ", ".join(f"{n} on the {s} foot" for s, n in counts.items()) + ")"
    return (f"Timing numbers (stance, step and double support, cadence, stride-time variability and the stance- "
            f"and step-time symmetry indices) are judged against controls only from at least {least} used strides "
            f"on each foot, about as many as stride-to-stride variability needs [77]; with fewer they are shown and "
            f"say \"too few strides to judge\"{few}.")


def reference_status(session: SessionMetrics, sets: Sequence[ReferenceSet],
                     record: dict[str, Any] | None = None, params: FindingParams | None = None) -> dict[str, Any]:
    """Whether a reference from real people exists for the recording's layout, and what is judged without one;
    with the input ``record``, whether this walk or person is one of its controls (``reference_membership``); and
    the least number of strides timing numbers are judged from (``timing_minimum``, ``min_timing_strides``)."""
    least = (params or FindingParams()).min_variability_strides
    minimum = timing_minimum(session, params)
    real = reference_set_for(sets, session.layout.name, kind="real")
    if real is not None:
        member = reference_membership(record, sets, session.layout.name)
        return {"layout": session.layout.name, "real_reference": real.name,
                "n_recordings": real.n_recordings + len(real.left_out), "n_judged_against": real.n_recordings,
                "includes_this": member or None, "min_timing_strides": least,
                "statement": f"Reference from real people for layout {session.layout.name}: {real.description}"
                             f" {minimum}" + (f" {member}" if member else "")}
    simulated = reference_set_for(sets, session.layout.name, kind="simulated")
    other = reference_set_for(sets, session.layout.name, kind="real", layout_specific=False)
    return {"layout": session.layout.name, "real_reference": None, "n_recordings": 0, "min_timing_strides": least,
            "statement": (f"No reference from real people exists for layout {session.layout.name}. Only what needs "
                          f"no population norm is judged: differences between the two feet (against the measured "
                          f"repeatability where known), change against your own earlier session, and values with "
                          f"published thresholds"
                          + (", and timing measures (event times, which do not depend on the sensors) against real "
                             "controls recorded with other insoles; " if other is not None else "; ")
                          + (f"the simulated set {simulated.name} (not real people) is used only to tell which "
                             f"foot departs, with lower confidence." if simulated is not None else
                             "which foot departs from typical cannot be told, so confidence is low.")
                          + (f" {minimum}" if other is not None else ""))}


def person_record(recording: Recording) -> dict[str, Any]:
    """Age, sex, height and walking speed when the file carries them (gaitpdb demographics, gaitndd subject
    descriptions): read, kept and shown, never guessed."""
    extra = recording.meta.extra or {}
    person = dict(extra.get("demographics") or extra.get("subject") or {})
    speed = person.get("gait_speed_m_per_s")
    speed = float(speed) if speed is not None and math.isfinite(float(speed)) else None
    return {"age_years": person.get("age_years"), "sex": person.get("sex"), "height_m": person.get("height_m"),
            "gait_speed_m_per_s": speed,
            "source": person.get("source") if person else None}


# measures of timing only (event times): comparable across insoles, so judged against real controls of other
# insoles when the layout has none; the others depend on the sensors and are shown but not judged then
_TIMING_KEYS = frozenset({"stance_s", "stance_pct", "step_s", "double_support_pct", "cadence_steps_per_min",
                          "stride_robust_cv_pct",
                          "timing_variability_pct", "stride_variability_pct", "stance_variability_pct",
                          "stride_cv_pct", "stride_sd_ms", "stance_si_pct", "step_si_pct"})
# session rows judged from the scatter of strides (need FindingParams.min_variability_strides) and from the two
# feet's step means (need FindingParams.min_steps steps per foot)
_VARIABILITY_KEYS = frozenset({"timing_variability_pct", "stride_variability_pct", "stance_variability_pct",
                               "stride_cv_pct", "stride_sd_ms", "cop_ml_sd_pct"})
_ASYMMETRY_KEYS = frozenset({"stance_si_pct", "impulse_si_pct", "step_si_pct"})
NOT_JUDGED_BODY_WEIGHT = "not judged: the body-weight check failed (see data quality)"
NOT_JUDGED_OTHER_INSOLE = "not judged: another insole"
NOT_JUDGED_BODY_WEIGHT_ESTIMATED = "not judged: body weight estimated from this walk's own load"
NOT_JUDGED_FEW_STRIDES = "too few strides to judge"


# ---------------------------------------------------------------- flagged sensors and the figures they affect

_REGION_GROUPS = ("heel", "medial_midfoot", "lateral_midfoot", "midfoot", "medial_forefoot", "lateral_forefoot",
                  "forefoot", "hallux", "lesser_toes", "toes")
# Report measures -> the region groups whose sensors they rest on; None: the whole foot's load (forces, COP,
# footprint). Timing measures are not listed: they rest on the foot's total load crossing a threshold.
SENSOR_DEPENDENT: dict[str, tuple[str, ...] | None] = {
    "share_heel": ("heel",), "share_midfoot": ("midfoot",), "share_front": ("forefoot", "toes"),
    "share_hallux": ("hallux",), "share_lesser_toes": ("lesser_toes",),
    "share_forefoot": ("forefoot",), "share_toes": ("toes",),
    "share_medial_forefoot": ("medial_forefoot",), "share_lateral_forefoot": ("lateral_forefoot",),
    **{f"pti_{group}": (group,) for group in _REGION_GROUPS},
    **dict.fromkeys(("f1", "loading_rate_bw_s", "valley_ratio", "impulse", "peak_force", "impulse_si_pct",
                     "peak_force_si_pct", "cop_ml_pct", "cpei_pct", "cop_ml_sd_pct", "contact_area_cm2",
                     "arch_index"), None),
}


def flagged_sensors(session: SessionMetrics) -> dict[str, list[dict[str, Any]]]:
    """Per foot, the sensors the analysis' quality checks flagged (``quality[side]["sensor_flags"]``) that a
    reader must know about (the analysis decides which: each flag's ``named``; a grid's never-loaded cells are
    not), each with its status, what the check saw, the region groups it lies in (the flag's ``regions``), the
    samples of it the checks left out (``excluded_samples``) and the foot's samples (``n_samples``)."""
    analysis = session.analysis
    if analysis is None:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for side in session.sides:
        quality = analysis.quality.get(side, {})
        flags = [f for f in (quality.get("sensor_flags") or []) if isinstance(f, dict)]
        rows = []
        for flag in (f for f in flags if f.get("named", True)):
            name = str(flag.get("sensor"))
            rows.append({"sensor": name, "status": str(flag.get("status", "flagged")),
                         "detail": str(flag.get("detail") or ""), "excluded": bool(flag.get("excluded", False)),
                         "regions": [g for g in _REGION_GROUPS if g in flag.get("regions", ())],
                         "excluded_samples": int(flag.get("excluded_samples") or 0),
                         "n_samples": int(quality.get("n_samples") or 0)})
        if rows:
            out[side] = rows
    return out


# what each flag of the analysis' sensor checks means, in words a reader needs
_FLAG_WORDS = {"flat": "flat (never changed: dead or never loaded)", "dead": "dead", "stuck": "stuck",
               "saturated": "saturated", "spikes": "spiking"}


def _statuses(rows: Sequence[dict[str, Any]]) -> str:
    return " or ".join(_FLAG_WORDS.get(s, s) for s in sorted({r["status"] for r in rows}))


def _names(sensors: Sequence[str]) -> str:
    return ", ".join(sensors[:6]) + (f" and {len(sensors) - 6} more" if len(sensors) > 6 else "")


def _spikes_only(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether every one of ``rows`` is a spiking sensor: isolated samples marked invalid, the rest of its load as
    recorded (hunt16's right foot switch: 11 of 90,000 samples), not a sensor whose load is missing or wrong."""
    return bool(rows) and all(r["status"] == "spikes" for r in rows)


def _spike_extent(rows: Sequence[dict[str, Any]]) -> str:
    """How much of the spiking sensors' load the checks left out: "11 of its 90,000 samples"."""
    left_out = sum(r["excluded_samples"] for r in rows)
    total = sum(r["n_samples"] for r in rows)
    whose = "its" if len(rows) == 1 else "their"
    return f"{left_out:,} of {whose} {total:,} samples" if total else f"{left_out:,} samples"


def sensor_caveat(flagged: dict[str, list[dict[str, Any]]], key: str) -> str:
    """One sentence for a figure resting on flagged sensors ("" when none of its sensors is flagged)."""
    if key not in SENSOR_DEPENDENT:
        return ""
    groups = SENSOR_DEPENDENT[key]
    parts = []
    hits: list[dict[str, Any]] = []
    for side, rows in flagged.items():
        hit = [r for r in rows if groups is None or set(r["regions"]) & set(groups)]
        if not hit:
            continue
        hits += hit
        where = "in this region" if groups is not None else "under this foot"
        parts.append(f"{side} foot: {len(hit)} sensor{'s' if len(hit) != 1 else ''} {where} flagged "
                     f"{_statuses(hit)} in the data-quality checks ({_names([r['sensor'] for r in hit])})")
    if not parts:
        return ""
    if _spikes_only(hits):
        return ("; ".join(parts) + f": {_spike_extent(hits)} were isolated spikes, left out, so at those samples "
                "only this value lacks that sensor's load.")
    return ("; ".join(parts) + (": its load is" if len(hits) == 1 else ": their load is") + " missing or wrong, so "
            "this value and any left/right difference in it may come from the sensor rather than the foot.")


def sensor_caveat_short(flagged: dict[str, list[dict[str, Any]]], key: str) -> str:
    """The table's short form of ``sensor_caveat``: which flagged sensors the value rests on ("" when none)."""
    groups = SENSOR_DEPENDENT.get(key, ()) if key in SENSOR_DEPENDENT else ()
    if groups == ():
        return ""
    parts = [f"{side} {_names([r['sensor'] for r in hit])}" for side, rows in flagged.items()
             if (hit := [r for r in rows if groups is None or set(r["regions"]) & set(groups)])]
    return ("rests on flagged sensors: " + "; ".join(parts)) if parts else ""


def sensor_caveats(session: SessionMetrics, marked: Collection[str] | None = None) -> dict[str, Any]:
    """The flagged sensors per foot, a summary line, and each affected measure's sentence (findings read it by
    their measured metric). ``marked``: the measures the page shows with a value (its key numbers, pressure-time
    integral rows as ``pti_<region>`` and findings' metrics); the summary promises a ⚠ beside affected values only
    when one of them carries it (default: every measure is taken as shown)."""
    flagged = flagged_sensors(session)
    by_metric = {key: text for key in SENSOR_DEPENDENT if (text := sensor_caveat(flagged, key))}
    summary = ""
    if flagged:
        feet = []
        for side, rows in flagged.items():
            regions = sorted({g for r in rows for g in r["regions"] if g in ("heel", "midfoot", "forefoot", "toes")})
            status = (f"{_statuses(rows)}: {_spike_extent(rows)} left out" if _spikes_only(rows)
                      else _statuses(rows))
            feet.append(f"{side} foot {_names([r['sensor'] for r in rows])} "
                        f"({status}; {', '.join(regions) or 'no region'})")
        every = [r for rows in flagged.values() for r in rows]
        shown = set(by_metric) if marked is None else set(by_metric) & set(marked)
        # the mark is promised only when a value shown carries it (hunt16's report promised one and showed none)
        mark = "; each affected value is marked \u26a0." if shown else "."
        if _spikes_only(every):
            summary = ("Sensors flagged in the data-quality checks: " + "; ".join(feet) + ". Those samples were "
                       "isolated one- or two-sample spikes, marked invalid and not filled: at them only, the foot's "
                       "load lacks that sensor's reading; the rest is as recorded" + mark)
        else:
            summary = ("Sensors flagged in the data-quality checks: " + "; ".join(feet) + ". Their load is missing "
                       "or wrong: the regional shares, load maps and left/right comparisons of those regions, and the "
                       "whole-foot forces and centre of pressure of that foot, rest on them and may show the sensor "
                       "rather than the foot" + mark)
    figure_line = ""
    if flagged:
        every = [r for rows in flagged.values() for r in rows]
        named = "; ".join(f"{side} foot {_names([r['sensor'] for r in rows])}" for side, rows in flagged.items())
        if _spikes_only(every):
            figure_line = (f"\u26a0 This figure rests on sensors flagged in the data-quality checks ({named}: "
                           f"{_spike_extent(every)} were isolated spikes, left out; at those samples only its load is "
                           "missing).")
        else:
            figure_line = (f"\u26a0 This figure rests on sensors flagged in the data-quality checks ({named}): where "
                           "it differs between the feet, the sensor may be the cause (see Key numbers).")
    return {"flagged": flagged, "by_metric": by_metric, "summary": summary or None, "figure_line": figure_line or None}


def _other_insoles(controls: ReferenceSet, key: str = "") -> str:
    """The layouts whose controls make up ``controls``; for a force measure (not event timing) only those recorded
    in calibrated units, the only ones holding it (the pooled set's footswitch1 controls are in au: a simulated
    insole16 walk's F1 range was credited to "footswitch1, gaitpdb8")."""
    records = [r for r in controls.recordings if r.get("layout")]
    if key and key not in _TIMING_KEYS:
        records = [r for r in records if r.get("unit") in ("N", "kPa")]
    layouts = sorted({str(r["layout"]) for r in records} or set(controls.layouts))
    return ", ".join(layouts) or controls.name


def key_numbers(session: SessionMetrics, sets: Sequence[ReferenceSet],
                person: dict[str, Any] | None = None, params: FindingParams | None = None,
                norms: Sequence[NormBand] | None = None) -> list[KeyNumber]:
    """The key-numbers table. ``norms``: the cadence and walking-speed bands (default: the stored ones); the
    person's band (by the file's age and sex) judges cadence and walking speed."""
    params = params or FindingParams()
    norms = load_norms() if norms is None else tuple(norms)
    band = norm_band_for(norms, (person or {}).get("age_years"), (person or {}).get("sex"))
    band_record = ({**band.to_dict(), "compared_as": norm_reference_line(band, person)}
                   if band is not None else None)
    bw_failed = not body_weight_check(session)[1]
    n_strides = min((int(session.feet[s].stride_times_s.size) for s in session.sides), default=0)
    n_steps = min((len(session.feet[s].steps) for s in session.sides), default=0)
    coarse = variability_too_coarse(session, params)
    layout_ref = (reference_set_for(sets, session.layout.name, kind="real")
                  or reference_set_for(sets, session.layout.name))
    # timing and force-curve measures do not depend on where the sensors sit: the layout's real controls, else
    # every real control
    controls = timing_controls(sets, session.layout.name)
    values = {side: foot_metric_values(session, side) for side in session.sides}
    # a walk of one foot: its values stand where the controls' ranges hold each person's mean of both feet (the
    # per-foot timing measures, the session's variability figures); judged so, and the reference cell says it
    one_foot = (f"; judged on this walk's one foot, the {session.sides[0]}, the only one recorded"
                if len(session.sides) == 1 else "")
    rows: list[KeyNumber] = []
    for key, label, unit, scale, digits, literature, refs in _FOOT_ROWS:
        level_values = None
        if key in FOOT_LEVEL_METRICS:
            # one figure of the foot's walk (the analysis' own), not a mean over steps; a MAD of 0 is no figure
            level_values = {s: foot_level_values(session, s)[key] for s in session.sides}
            feet = {s: v if math.isfinite(v) and not robust_cv_is_zero(v) else None for s, v in level_values.items()}
        else:
            feet = {s: foot_mean(session, s, key, values[s].get(key, np.zeros(0)), scale) for s in session.sides}
        if all(v is None for v in feet.values()) and not (level_values and any(
                robust_cv_is_zero(v) for v in level_values.values())):
            continue
        left, right = feet.get("left"), feet.get("right")
        speed = (person or {}).get("gait_speed_m_per_s")
        if key == "stance_pct" and speed is not None:
            # the evidence base's speed regression (Kirtley et al. [75]) at this person's walking speed
            literature = (f"{64.2 - 3.5 * speed:.1f}% at {speed:.2f} m/s (64.2 − 3.5 × speed; 58–64% when speed "
                          f"is unknown)")

        def reference_texts(shown: int, judged: _Judged | None = None, key: str = key, scale: float = scale,
                            unit: str = unit, literature: str = literature
                            ) -> tuple[list[str], list[str], ReferenceSet | None, str]:
            """The row's references at ``shown`` digits (the judged range with the walk's mean of both feet when
            that is what it judged), the set it is judged against and why not."""
            texts, kinds = [], []

            def walk_mean(ref: ReferenceSet) -> str:
                mean = judged.mean_of_feet if judged is not None else None
                space = "" if unit == "%" else " "
                if judged is None or judged.real_range is None or not _per_person(ref, key, True):
                    return ""
                if mean is None:
                    # one foot recorded: no mean of both feet to take, so that foot stands for it (``one_foot``)
                    return one_foot or ""
                return f"; judged on this walk's mean of both feet, {mean:.{shown}f}{space}{unit}"

            if literature:
                texts.append(f"{literature} [literature]")
                kinds.append("literature")
            # real controls of another layout only for metrics that do not depend on the sensor layout
            judge_ref, not_judged = layout_ref, ""
            if (controls is not None and controls is not layout_ref
                    and key in ("stance_s", "stance_pct", "step_s", "double_support_pct", "f1", "loading_rate_bw_s",
                                "valley_ratio", "stride_robust_cv_pct")):
                text = _range_text(controls, key, scale, unit, shown, per_foot=True)
                if text:
                    timing = key in _TIMING_KEYS
                    texts.append(f"{text} [real controls of another insole ({_other_insoles(controls, key)})"
                                 f"{'; timing only' if timing else ''}]{walk_mean(controls)}")
                    kinds.append("real controls")
                    judge_ref, not_judged = (controls, "") if timing else (None, NOT_JUDGED_OTHER_INSOLE)
            if layout_ref is not None:
                text = _range_text(layout_ref, key, scale, unit, shown, per_foot=True)
                if text:
                    texts.append(f"{text} [{layout_ref.source_kind}]"
                                 f"{walk_mean(layout_ref) if judge_ref is layout_ref else ''}")
                    kinds.append(layout_ref.source_kind)
            return texts, kinds, judge_ref, not_judged

        texts, kinds, judge_ref, not_judged = reference_texts(digits)
        # a signed measure has no ratio: compared by R - L (the analysis' difference), no symmetry index
        signed = key in SIGNED_KEYS
        si = difference = None
        if signed and left is not None and right is not None:
            difference = analysis_difference(session, key)
            difference = difference * scale if difference is not None else right - left
        elif left is not None and right is not None and level_values is None:
            # the analysis' own index where the metric is one of its own, else of the means shown (a foot-level
            # figure such as the robust CV has none: the analysis gives no index of it)
            si = (analysis_symmetry_index(session, key) if session.analysis is not None and key in ANALYSIS_METRICS
                  else _si(right, left))
        if bw_failed and key in BODY_WEIGHT_METRICS:
            judge_ref, not_judged = None, NOT_JUDGED_BODY_WEIGHT
        elif session.body_weight_source == "estimated" and key in BODY_WEIGHT_METRICS and judge_ref is not None:
            # the controls' body weights are their measured masses; this walk's is its own mean load, a figure
            # of the walk itself (GaPt23_01's F1 and loading rate were marked against them)
            judge_ref, not_judged = None, NOT_JUDGED_BODY_WEIGHT_ESTIMATED
        not_available = ""
        if key in _TIMING_KEYS and n_strides < params.min_variability_strides:
            # every timing number is judged from the same least number of strides (``timing_minimum``)
            judge_ref, not_judged = None, NOT_JUDGED_FEW_STRIDES
        if level_values is not None:
            # a figure of stride-time scatter: judged, like the session's, only at a sample rate fine enough
            # (``variability_too_coarse``)
            if coarse and not not_judged:
                judge_ref, not_judged = None, f"not judged: {coarse}"
            zero = [s for s, v in level_values.items() if robust_cv_is_zero(v)]
            if zero:
                not_available = (f"n/a (median absolute deviation 0: most stride times of the "
                                 f"{' and '.join(zero)} foot equal their median to the sample, too few distinct "
                                 f"values to measure variability this way)")
        step = timing_step(session, key)
        judged = _judge(judge_ref, key, scale, True, {"left": left, "right": right}, step)
        shown = _digits_to_tell(digits, judged, {"left": left, "right": right})
        if judged.real_range is not None:
            texts, kinds = reference_texts(shown, judged)[:2]
        resolution = robust_cv_resolution(session) if level_values else ""
        if judged.at_limit:
            resolution = " ".join(t for t in (resolution or resolution_sentence(session, key, step),
                                              at_limit_sentence(judged, shown, unit, step)) if t)
        rows.append(KeyNumber(key, label, unit, left=left, right=right, symmetry_index_pct=si, difference=difference,
                              reference="; ".join(texts) or "none available",
                              reference_kind=", ".join(kinds) or "none", references=refs, digits=shown,
                              outside=judged.outside, real_range=judged.real_range, not_judged=not_judged,
                              not_available=not_available, note=variability_note(session, key),
                              resolution=resolution, mean_of_feet=judged.mean_of_feet))
    rows = [_with_cop_mm(row, session) if row.key == "cop_ml_pct" else row for row in rows]
    rows += footprint_rows(session)
    session_values = session_metric_values(session)
    speed = (person or {}).get("gait_speed_m_per_s")
    if speed is not None:
        # read from the file (e.g. a 10-metre walk in the study's demographics), not from the insoles
        speeds = [float(r["gait_speed_m_per_s"]) for r in (controls.recordings if controls is not None else ())
                  if r.get("gait_speed_m_per_s") is not None and math.isfinite(float(r["gait_speed_m_per_s"]))]

        def speed_text(shown: int) -> tuple[str, tuple[float, float] | None, str | None]:
            band_text = band.text("gait_speed_m_per_s", "m/s", shown) if band is not None else None
            low_high = band.interval("gait_speed_m_per_s") if band is not None and band_text else None
            if low_high is not None and band is not None:
                return f"{band_text} [real controls, {norm_reference_line(band, person)}]", low_high, band_text
            if len(speeds) >= 3:
                return (f"{min(speeds):.{shown}f}–{max(speeds):.{shown}f} m/s (range of {len(speeds)} recordings) "
                        f"[real controls]", (min(speeds), max(speeds)), band_text)
            return "none available", None, band_text

        text, low_high, band_text = speed_text(2)
        outside: tuple[str, ...] = ("session",) if low_high and not low_high[0] <= speed <= low_high[1] else ()
        shown = _digits_to_tell(2, _Judged(outside, low_high), {"session": speed})
        if shown != 2:
            text = speed_text(shown)[0]
        rows.append(KeyNumber("gait_speed_m_per_s", "Walking speed (from the file, not the insoles)", "m/s",
                              session=speed, reference=text, reference_kind="real controls" if low_high else "none",
                              digits=shown, real_range=low_high, scope="session", outside=outside,
                              norm_band=band_record if low_high and band_text else None))
    for key, label, unit, digits, literature, refs in _SESSION_ROWS:
        value = session_values.get(key)
        if value is None or not math.isfinite(value):
            continue
        # the person's age/sex band of real controls judges cadence (event timing: every insole's controls count)
        band_judges = key == "cadence_steps_per_min" and band is not None and band.interval(key) is not None

        def session_texts(shown: int, key: str = key, unit: str = unit, literature: str = literature,
                          band_judges: bool = band_judges) -> tuple[list[str], list[str], ReferenceSet | None, str]:
            """The row's references at ``shown`` digits, the set it is judged against and why not."""
            texts, kinds = [], []
            if literature:
                texts.append(f"{literature} [literature]")
                kinds.append("literature")
            judge_ref, not_judged = controls, ""
            if controls is not None:
                text = _range_text(controls, key, 1.0, unit, shown, per_foot=False)
                if text:
                    if controls is layout_ref:
                        texts.append(f"{text} [real controls]")
                    else:
                        timing = key in _TIMING_KEYS
                        texts.append(f"{text} [real controls of another insole ({_other_insoles(controls, key)})"
                                     f"{'; timing only' if timing else ''}]")
                        if not timing:
                            judge_ref, not_judged = None, NOT_JUDGED_OTHER_INSOLE
                    kinds.append("real controls")
            if band_judges and band is not None:
                texts = [t for t in texts if t.endswith("[literature]")]
                texts.append(f"{band.text(key, unit, shown)} [real controls, {norm_reference_line(band, person)}]")
                kinds = [k for k in kinds if k == "literature"] + ["real controls"]
            return texts, kinds, judge_ref, not_judged

        texts, kinds, judge_ref, not_judged = session_texts(digits)
        if not_judged == NOT_JUDGED_OTHER_INSOLE:
            # another insole's controls judge timing only, however many strides (motfast's impulse index read "too
            # few strides to judge" beside the gaitpdb8 controls' range, its F1 "another insole")
            pass
        elif (((key in _VARIABILITY_KEYS or key in _TIMING_KEYS) and n_strides < params.min_variability_strides)
                or (key in _ASYMMETRY_KEYS and n_steps < params.min_steps)):
            # timing numbers (cadence, variability, the stance- and step-time indices) from the one minimum of
            # strides (``timing_minimum``); the COP scatter from as many; the impulse index from ``min_steps`` steps
            judge_ref, not_judged = None, NOT_JUDGED_FEW_STRIDES
        elif key in _VARIABILITY_KEYS & _TIMING_KEYS and coarse:
            judge_ref, not_judged = None, f"not judged: {coarse}"
        step = timing_step(session, key)
        judged = _judge(judge_ref, key, 1.0, False, {"session": value}, step)
        row_band = None
        if band_judges and band is not None and not not_judged:
            interval = band.interval(key)
            judged = _Judged(("session",) if interval is not None and not interval[0] <= value <= interval[1]
                             else (), interval)
            row_band = band_record
        outside, real_range = judged.outside, judged.real_range
        shown = _digits_to_tell(digits, judged, {"session": value})
        if shown != digits:
            texts, kinds = session_texts(shown)[:2]
        resolution = ""
        if judged.at_limit:
            resolution = " ".join(t for t in (resolution_sentence(session, key, step),
                                              at_limit_sentence(judged, shown, unit, step)) if t)
        na = _robust_cv_unavailable(key, session_values)
        if na:
            value, outside, real_range, not_judged = None, (), None, ""
        if one_foot and key in FEET_MEAN_SESSION_KEYS and real_range is not None and not na:
            # the controls' value is each the mean of both feet, this walk's that of its one foot
            texts = [f"{t}; the controls' values are each the mean of both feet{one_foot}" if "[real controls" in t
                     else t for t in texts]
        note = variability_note(session, key) or ROW_NOTES.get(key, "")
        if key == "impulse_si_pct" and layout_ref is not None and not not_judged:
            note = " ".join(t for t in (note, whole_foot_note(session, layout_ref, params)) if t)
        rows.append(KeyNumber(key, label, unit, session=value, reference="; ".join(texts) or "none available",
                              reference_kind=", ".join(kinds) or "none", references=refs, digits=shown,
                              outside=outside, real_range=real_range, not_judged=not_judged, not_available=na,
                              scope="session", norm_band=row_band, note=note, resolution=resolution))
    # beside each judged speed-dependent row, when the person walked outside every judging control's speed
    speed_note = speed_outside_controls((person or {}).get("gait_speed_m_per_s"), controls)
    if speed_note:
        rows = [dataclasses.replace(row, speed_note=speed_note)
                if row.key in SPEED_DEPENDENT and row.real_range is not None else row for row in rows]
    rows = [_enough_digits(row) for row in rows]
    flagged = flagged_sensors(session)
    return [dataclasses.replace(row, caveat=sensor_caveat(flagged, row.key),
                                caveat_short=sensor_caveat_short(flagged, row.key)) if flagged else row
            for row in rows]


# Per timing key: how one sample interval moves it. Times (s): one interval. Percentages of the stride: one interval
# over the median stride. Stride-to-stride variability (1.4826 x MAD of successive differences / sqrt 2 / median):
# differences are whole samples, their MAD moves in half intervals, so the figure in 1.4826 x (dt/2) / sqrt 2 /
# median (``timing_resolution_pct``'s docstring); the per-foot robust CV (1.4826 x MAD / median) in 1.4826 x
# (dt/2) / median (``robust_cv_resolution``).
_STEP_TIMES = frozenset({"stance_s", "step_s"})
_STEP_STRIDE_PCT = frozenset({"stance_pct", "double_support_pct"})


def _median_stance_s(session: SessionMetrics) -> float:
    """The median of the steps' stance times, s; NaN when none."""
    parts = [foot_metric_values(session, side).get("stance_s", np.zeros(0)) for side in session.sides]
    times = np.concatenate(parts) if parts else np.zeros(0)
    times = times[np.isfinite(times) & (times > 0)]
    return float(np.median(times)) if times.size else math.nan


def timing_step(session: SessionMetrics, key: str) -> float:
    """How far one sample interval moves timing key number ``key``, in its shown unit (0 for other keys or when
    unknown): values closer than this to a range's limit are not told apart from it (``_judge``).

    Stance time 0.770 s against a limit of 0.769 s at 300 Hz (3.3 ms a sample): one sample apart at most; the
    per-foot robust CV at 100 Hz moves in steps of 0.69 points, so 4.10 % is not above a limit of 4.01 %.
    """
    rate = float(session.sample_rate_hz or 0.0)
    if rate <= 0:
        return 0.0
    dt = 1.0 / rate
    if key in _STEP_TIMES:
        return dt
    half = timing_resolution_pct(session)  # half an interval over the median stride, %
    per_change = 1.4826 / math.sqrt(2.0)  # a stride-to-stride figure's step, in half intervals
    stance_half = 100.0 * (dt / 2.0) / _median_stance_s(session)
    steps = {
        "stance_pct": 2.0 * half, "double_support_pct": 2.0 * half,
        "stride_robust_cv_pct": 1.4826 * half,
        "stride_variability_pct": per_change * half, "stance_variability_pct": per_change * stance_half,
        "timing_variability_pct": per_change * (half + stance_half) / 2.0,
    }
    step = steps.get(key, 0.0)
    return step if math.isfinite(step) and step > 0 else 0.0


def resolution_sentence(session: SessionMetrics, key: str, step: float) -> str:
    """The measure's resolution in words, for a row where it decided a mark ("" without one)."""
    if step <= 0:
        return ""
    rate = f"{session.sample_rate_hz:g}"
    if key in _STEP_TIMES:
        return (f"At {rate} Hz each event falls on a whole sample, so times are known to one sample interval "
                f"({step * 1000:.1f} ms): values closer than that are not told apart.")
    if key in _STEP_STRIDE_PCT:
        return (f"At {rate} Hz each event falls on a whole sample, and one sample interval is {step:.2f}% of the "
                f"median stride: values closer than that are not told apart.")
    return (f"At {rate} Hz stride and stance times are counted in whole samples, so this figure moves in steps of "
            f"about {step:.2f} percentage points: values closer than that are not told apart.")


def at_limit_sentence(judged: _Judged, digits: int, unit: str, step: float) -> str:
    """What was not marked because it lies beyond a limit by less than the measure's resolution."""
    out = []
    for where, (value, limit) in judged.at_limit.items():
        who = {"mean": "The mean of both feet", "session": "This walk's value"}.get(where, f"The {where} foot's value")
        gap = abs(value - limit)
        gap_text = f"{gap * 1000:.1f} ms" if unit == "s" else f"{gap:.2g} {'points' if unit == '%' else unit}"
        side = "above the controls' upper" if value > limit else "below the controls' lower"
        shown_unit = "%" if unit == "%" else f" {unit}" if unit else ""
        out.append(f"{who}, {value:.{digits}f}{shown_unit}, lies {gap_text} {side} limit ({limit:.{digits}f}"
                   f"{shown_unit}), closer than the {step * 1000:.1f} ms resolution: at the limit, not marked."
                   if unit == "s" else
                   f"{who}, {value:.{digits}f}{shown_unit}, lies {gap_text} {side} limit ({limit:.{digits}f}"
                   f"{shown_unit}), closer than that: at the limit, not marked.")
    return " ".join(out)


def _digits_to_tell(digits: int, judged: _Judged, values: dict[str, float | None]) -> int:
    """The digits a row is printed at: as many more than ``digits`` (up to 3) as it takes for every marked value
    (and the mean of both feet that marked it, and a value said to lie at the limit) to read apart from the printed
    limits ("28 ▼ below" beside 28–127 ms for 27.6; "3.449" beside 0.80–3.45%). The range is printed at these
    digits wherever the page shows it."""
    if not (judged.outside or judged.at_limit) or judged.real_range is None:
        return digits
    marked = [v for where in judged.outside if (v := values.get(where)) is not None]
    if judged.mean_of_feet is not None and judged.outside:
        marked.append(judged.mean_of_feet)
    # a value at the limit, said so beside the row, is printed so that it reads beside the limit it lies beyond
    marked += [value for value, _ in judged.at_limit.values()]
    low, high = judged.real_range
    shown = digits
    while shown < digits + 3 and any(f"{v:.{shown}f}" in (f"{low:.{shown}f}", f"{high:.{shown}f}") for v in marked):
        shown += 1
    return shown


def robust_cv_resolution(session: SessionMetrics) -> str:
    """The per-foot robust stride-time CV's step at this sample rate, said beside it ("" when unknown).

    Stride times are whole samples, so their median absolute deviation moves in steps of half a sample interval,
    and the CV (1.4826 x MAD / median) in steps of 1.4826 x ``timing_resolution_pct`` (its dt/2 over the median
    stride): 0.76 points on gaitpdb-cohort GaPt13_01 at 100 Hz (3.03 % is 4 steps), where two decimals would
    suggest a finer figure. The row is judged under the same sample-rate guard as the stride-to-stride figures
    (``variability_too_coarse``, in ``key_numbers``); this says what that guard lets through.
    """
    step = timing_step(session, "stride_robust_cv_pct")
    if step <= 0:
        return ""
    return (f"At {session.sample_rate_hz:g} Hz stride times are counted in whole samples, so this figure moves in "
            f"steps of about {step:.2f} percentage points (1.4826 \u00d7 half a sample interval over the median "
            f"stride): values closer than that are not told apart.")


def _enough_digits(row: KeyNumber) -> KeyNumber:
    """A value is marked outside its range on its unrounded figure; printed at the row's digits it may read as the
    range's own limit ("28 ▼ below" beside 28–127 ms for 27.6): print as many more digits (up to 3) as it takes to
    tell them apart."""
    if not row.outside or row.real_range is None:
        return row
    digits = row.digits
    values = [v for where in row.outside for v in ({"left": row.left, "right": row.right,
                                                    "session": row.session}[where],) if v is not None]
    while digits < row.digits + 3 and any(f"{v:.{digits}f}" in (f"{row.real_range[0]:.{digits}f}",
                                                                  f"{row.real_range[1]:.{digits}f}")
                                          for v in values):
        digits += 1
    return row if digits == row.digits else dataclasses.replace(row, digits=digits)


def number_text(value: float, digits: int, signed: bool = False) -> str:
    """``value`` at ``digits`` decimals (with its sign when ``signed``); a value that rounds to zero reads 0.0,
    never -0.0 (nor +0.0), as insole analyze prints it (a COP offset of -0.02 mm read "-0.0" in the report)."""
    text = f"{value:{'+' if signed else ''}.{digits}f}"
    return f"{0.0:.{digits}f}" if math.isfinite(value) and float(text) == 0 else text


def _with_cop_mm(row: KeyNumber, session: SessionMetrics) -> KeyNumber:
    """The COP offset row with the same measure in mm beside it: insole analyze prints the analysis'
    ``cop_ml_offset_mm``, the report its ``cop_ml_offset_pct`` (the mm over the layout's ball width, 0.39 x foot
    length, so that feet of different sizes compare); both are the analysis' own columns, shown in both views."""
    analysis = session.analysis
    if analysis is None:
        return row
    mm = {side: analysis.summary.metric("cop_ml_offset_mm", side) for side in session.sides}
    mm = {side: float(v) for side, v in mm.items() if math.isfinite(v)}
    if not mm or (row.left is None and row.right is None):
        return row
    difference = analysis_difference(session, "cop_ml_offset_mm")
    shown = ", ".join(f"{side} {number_text(mm[side], 1, signed=True)}" for side in ("left", "right") if side in mm)
    note = (f"In mm, as insole analyze prints it: {shown}"
            + (f" (R−L {number_text(difference, 1, signed=True)})" if difference is not None else "")
            + f". % of ball width = mm / {session.layout.ball_width_mm:.1f} mm (0.39 × the layout's foot length), so "
              "feet of different sizes compare; the controls are judged in %.")
    return dataclasses.replace(row, note=note, other_unit={
        "unit": "mm", "left": mm.get("left"), "right": mm.get("right"), "difference_right_minus_left": difference})


# Findings whose test is not the row's own range: the rows they rest on besides their measured metric, and how the
# finding is named there (load asymmetry combines the impulse, peak and F1 indices against the controls' healthy
# asymmetry, so the impulse index alone can lie inside its controls' range while the finding is flagged).
_FINDING_ROWS: dict[str, tuple[tuple[str, ...], str]] = {
    "load_asymmetry": (("impulse_si_pct",), "load asymmetry (combined impulse/peak/F1 test)"),
    "antalgic_gait": (("stance_si_pct",), "antalgic gait (stance-time and peak-force indices together)"),
}


def link_findings(rows: Sequence[KeyNumber], findings: Sequence[Any]) -> list[KeyNumber]:
    """Say "see finding: ..." on each key row a finding rests on whose value on the finding's foot is unmarked
    (every value, for a finding of both feet or a session row), so that a flagged finding and an unmarked value of
    its measure do not seem to disagree (a row marked on the left foot only, beside a finding of the right foot,
    points to it)."""
    # per key, each finding's name (once, in order) and the places its findings speak for
    links: dict[str, dict[str, frozenset[str]]] = {}
    for finding in findings:
        extra, name = _FINDING_ROWS.get(finding.code, ((), finding.title[:1].lower() + finding.title[1:]))
        for key in (finding.measured.metric, *extra):
            named_here = links.setdefault(key, {})
            named_here[name] = named_here.get(name, frozenset()) | _finding_places(finding)

    def named(row: KeyNumber) -> list[str]:
        return [name for name, where in links.get(row.key, {}).items() if not where & set(row.outside)]

    return [dataclasses.replace(row, see_finding="see finding: " + "; ".join(named(row))) if named(row) else row
            for row in rows]


# ---------------------------------------------------------------- marked key numbers no finding speaks for

# The key rows each finding speaks for besides its measured metric: a marked row among them is explained by the
# finding; any other marked row is listed under the findings with why no rule made it one (``outside_without_finding``)
_VARIABILITY_FAMILY = ("timing_variability_pct", "stride_variability_pct", "stance_variability_pct", "stride_cv_pct",
                       "stride_sd_ms", "stride_robust_cv_pct")
_FINDING_FAMILY: dict[str, tuple[str, ...]] = {
    "irregular_gait": _VARIABILITY_FAMILY,
    "load_asymmetry": ("impulse_si_pct",),
    "antalgic_gait": ("stance_si_pct", "stance_s"),
    "heel_avoidance": ("share_heel", "share_front"),
    "pronated_loading": ("cop_ml_pct",), "supinated_loading": ("cop_ml_pct",),
    "low_arch_loading": ("share_midfoot",), "high_arch_loading": ("share_midfoot",),
}


def _apart(value: float, limit: float, digits: int = 2) -> int:
    """Digits (up to 3 more than ``digits``) at which ``value`` and ``limit`` read apart."""
    shown = digits
    while shown < digits + 3 and f"{value:.{shown}f}" == f"{limit:.{shown}f}":
        shown += 1
    return shown


def _why_no_finding(row: KeyNumber, session_values: dict[str, float], codes: set[str],
                    speed_m_s: float | None, params: FindingParams | None = None,
                    irregular_limit: float | None = None) -> str:
    """Why a key number outside the real controls' range is no finding (the rules' cut-offs: docs/report.md)."""
    params = params or FindingParams()
    key = row.key
    low = any(row.direction(w) == "below" for w in row.outside)

    def si(name: str) -> str:
        value = session_values.get(name)
        return f"{number_text(value, 1, signed=True)}%" if value is not None and math.isfinite(value) else "not known"

    both_feet_speed = ""
    if key in SPEED_DEPENDENT:
        why = (f"the person {row.speed_note.split(':')[0]}" if row.speed_note else
               "the file gives no walking speed" if speed_m_s is None else "")
        if why:
            both_feet_speed = (f"; a level that changes with speed is judged on both feet only at a walking speed "
                               f"within the controls', and {why}")
    if key == "step_si_pct":
        value = session_values.get("step_si_pct", math.nan)
        which = "right" if value < 0 else "left"
        return (f"no finding rule uses step-time asymmetry (the evidence base ties no pattern or joint to it), so it "
                f"is named here. It compares the step ending at the right heel strike with the one ending at the "
                f"left's: here the steps ending at the {which} heel strike are shorter")
    if key == "stance_si_pct":
        # SI = R - L: a shorter right stance reads negative and needs a peak-force SI as negative, a shorter left
        # stance positive (the text said "-10% or less" whatever foot was shorter)
        value = session_values.get("stance_si_pct", math.nan)
        right_shorter = not value > 0
        shorter = "right" if right_shorter else "left"
        stance_cut, peak_cut = params.antalgic_stance_si_pct, params.antalgic_peak_si_pct
        need_peak = f"-{peak_cut:g}% or less" if right_shorter else f"+{peak_cut:g}% or more"
        need_stance = ""
        if not (math.isfinite(value) and abs(value) >= stance_cut):
            need_stance = (f"a stance SI of -{stance_cut:g}% or less (a shorter right stance) or +{stance_cut:g}% "
                           f"or more (a shorter left one), which {si('stance_si_pct')} does not reach, and ")
        return (f"antalgic gait needs {need_stance}a lower peak force on the foot with the shorter stance, the "
                f"{shorter}, as well (peak-force SI {si('peak_force_si_pct')}; needs {need_peak}, beyond its MDC95)")
    if key == "impulse_si_pct":
        return (f"load asymmetry needs the peak force and first peak to move with the impulse, beyond the controls' "
                f"healthy asymmetry of the three together (peak-force SI {si('peak_force_si_pct')}, first-peak SI "
                f"{si('si_f1')}); an impulse that differs through stance time alone is a timing asymmetry")
    if key in _VARIABILITY_FAMILY:
        if low:
            # a walk steadier than the controls' range: no rule looks for that (irregular timing only for higher)
            return ("no finding rule judges timing steadier than typical (irregular timing looks only for higher "
                    "variability)")
        combined = session_values.get("timing_variability_pct", math.nan)
        factor = f"{params.irregular_factor:g} × the controls' median"
        if (math.isfinite(combined) and irregular_limit is not None
                and "irregular_gait" not in codes):
            shown = _apart(combined, irregular_limit)
            return (f"irregular timing is judged on the combined timing variability, here {combined:.{shown}f} % "
                    f"against {irregular_limit:.{shown}f} % ({factor}), which was not reached")
        return (f"irregular timing is judged on the combined timing variability ({factor}), which "
                + ("is flagged" if "irregular_gait" in codes else "was not reached"))
    if key == "loading_rate_bw_s":
        return ("no finding rule judges a low loading rate (high impact looks for high ones)" if low else
                "high impact needs the difference between the feet (+25% and the controls' healthy asymmetry), or "
                "both feet beyond the controls' feet (past their 99th percentile and the range shown)"
                + both_feet_speed)
    if key == "valley_ratio":
        return ("no finding rule judges a deep mid-stance valley" if low else
                "a flattened force curve needs the difference between the feet (0.10 and the controls' healthy "
                "asymmetry), or both feet beyond the controls' feet (past their 99th percentile and the range shown)"
                + both_feet_speed)
    if key == "f1":
        return ("no finding rule judges the first peak by itself (it enters load asymmetry with the impulse and the "
                "peak force)")
    if key in ("share_heel", "share_midfoot", "share_front", "share_hallux", "share_lesser_toes", "cop_ml_pct"):
        return ("the foot rules need the difference between the feet beyond healthy asymmetry, or both feet beyond "
                "the controls' feet (past their 1st/99th percentile and the range shown); neither was passed"
                + both_feet_speed)
    if key in ("cpei_pct", "cop_ml_sd_pct"):
        return "no finding rule uses it (no verified association in the evidence base)"
    return ("no finding rule judges this level by itself: it changes with walking speed and age, and the evidence "
            "base ties no foot pattern to it alone")


def _finding_places(finding: Any) -> frozenset[str]:
    """The places of a key row a finding speaks for: a finding of one foot that foot's value (and a session
    value, which is of both feet); a finding of both feet every place."""
    side = getattr(finding, "side", "both")
    return frozenset((side, "session")) if side in ("left", "right") else frozenset(("left", "right", "session"))


def covered_places(findings: Sequence[Any]) -> dict[str, frozenset[str]]:
    """Per key row, the places ("left", "right", "session") a finding speaks for: its measured metric and its
    family (``_FINDING_FAMILY``), on the finding's foot (``_finding_places``)."""
    out: dict[str, frozenset[str]] = {}
    for finding in findings:
        for key in (finding.measured.metric, *_FINDING_FAMILY.get(finding.code, ())):
            out[key] = out.get(key, frozenset()) | _finding_places(finding)
    return out


def _other_foot_findings(row: KeyNumber, findings: Sequence[Any]) -> list[Any]:
    """The findings on ``row``'s measure that name a foot other than the ones listed (``row.outside``)."""
    if row.scope != "foot":
        return []
    return [f for f in findings if row.key in (f.measured.metric, *_FINDING_FAMILY.get(f.code, ()))
            and getattr(f, "side", "both") in ("left", "right") and f.side not in row.outside]


# the measure and direction of each rule that has an opposite reading of the same difference between the feet
# (docs/report.md, "One finding per asymmetry"): +1 when the flagged foot reads higher
_MIRRORED: dict[str, tuple[str, int]] = {rule.code: (rule.metric, rule.direction) for rule in FOOT_RULES
                                         if any(rule.code in pair[:2] for pair in OPPOSITE_RULES)}


def _mirror_of(row: KeyNumber, finding: Any) -> bool:
    """Whether ``row``'s unexplained values are the other side of ``finding``'s one difference between the feet: a
    measure with opposite rules (midfoot share, COP offset), marked the opposite way to the finding's foot."""
    metric, direction = _MIRRORED.get(finding.code, ("", 0))
    opposite = "below" if direction > 0 else "above"
    return metric == row.key and bool(row.outside) and all(row.direction(w) == opposite for w in row.outside)


def outside_without_finding(rows: Sequence[KeyNumber], findings: Sequence[Any], session: SessionMetrics,
                            repeatability: Repeatability | None, sets: Sequence[ReferenceSet] = (),
                            params: FindingParams | None = None) -> list[dict[str, Any]]:
    """Every key number marked outside its real controls' range that no finding speaks for, with the range and why no
    rule made it a finding (gaitpdb-cohort GaPt23_01: a step-time symmetry index of -18 %, beyond the controls'
    -8.9 to 4.2 % and its MDC95 of 6.0 %, had neither a finding nor a word under the findings)."""
    codes = {f.code for f in findings}
    covered = covered_places(findings)
    values = session_metric_values(session)
    params = params or FindingParams()
    irregular_at = irregular_limit(timing_controls(sets, session.layout.name), params) if sets else None
    out = []
    for marked in rows:
        # the places (feet, session) marked that no finding on this measure speaks for: a finding of one foot
        # speaks for that foot's value only (a left midfoot share below the controls was left unlisted by a
        # low-arch finding of the right foot)
        row = dataclasses.replace(marked, outside=tuple(w for w in marked.outside
                                                        if w not in covered.get(marked.key, ())))
        if not row.outside or row.real_range is None:
            continue
        shown = {where: {"left": row.left, "right": row.right, "session": row.session}[where] for where in row.outside}
        # the day-to-day repeatability of a left/right index (a finding from an asymmetry must exceed it); a level's
        # MDC95 is about change between sessions, not about a departure from the controls, and is not shown
        mdc = (repeatability.session_mdc(row.key) if repeatability is not None and row.key in _ASYMMETRY_KEYS
               else None)
        entry: dict[str, Any] = {
            "key": row.key, "label": row.label, "unit": row.unit, "digits": row.digits, "values": shown,
            "directions": {w: row.direction(w) for w in row.outside}, "real_range": list(row.real_range),
            "reference": row.reference, "mdc95": mdc,
            "beyond_mdc95": (None if mdc is None or row.session is None else bool(abs(row.session) > mdc)),
            "why_no_finding": _why_no_finding(row, values, codes, session.walking_speed_m_s, params,
                                              irregular_at)}
        other = _other_foot_findings(row, findings)
        names = "; ".join(_finding_name(f) for f in other)
        if other and all(_mirror_of(row, f) for f in other):
            # the same difference between the feet, read from this foot's side, was reported on the other foot
            entry["why_no_finding"] = (f"a difference between the feet in this measure is reported once, on one "
                                       f"foot: here as {names}")
        elif other:
            entry["why_no_finding"] += f" (the finding on this measure names the other foot: {names})"
        out.append(entry)
    return out


# Published footprint values are barefoot; shoes enlarge the midfoot's contact [11], so none transfers to an
# in-shoe walking footprint: shown beside the value, never judged.
FOOTPRINT_NOT_JUDGED = "not judged: published values are barefoot footprints"


def footprint_rows(session: SessionMetrics) -> list[KeyNumber]:
    """Contact area and arch index per foot, on layouts dense enough to draw a footprint (``_metrics.Footprint``)."""
    feet = session.footprints
    if not feet:
        return []
    approximate = "; sensor positions approximate" if session.layout.approximate else ""
    how = (f"in-shoe footprint of the whole walk: sensors whose peak exceeded {FOOTPRINT_THRESHOLD_KPA:g} kPa"
           f"{approximate}")

    def value(side: str, name: str) -> float | None:
        foot = feet.get(side)
        number = getattr(foot, name) if foot is not None else math.nan
        return float(number) if math.isfinite(number) else None

    rows = []
    area = {s: value(s, "contact_area_cm2") for s in ("left", "right")}
    if any(v is not None for v in area.values()):
        rows.append(KeyNumber(
            "contact_area_cm2", f"Contact area ({how})", "cm²", left=area["left"], right=area["right"],
            symmetry_index_pct=_si(area["right"], area["left"]), digits=1,
            reference=("165 cm² in neutral and 118 cm² in cavus feet (one study; its footprint conditions were not "
                       "read) [literature]"), reference_kind="literature", references=(37,),
            not_judged=FOOTPRINT_NOT_JUDGED))
    arch = {s: value(s, "arch_index") for s in ("left", "right")}
    if any(v is not None for v in arch.values()):
        rows.append(KeyNumber(
            "arch_index", "Arch index (midfoot third's contact area over the footprint without toes; dynamic, "
            "in-shoe)", "", left=arch["left"], right=arch["right"], symmetry_index_pct=_si(arch["right"], arch["left"]),
            digits=3,
            reference=("barefoot walking footprints on a pressure plate: 0.11–0.25 in normal feet (a study's "
                       "inclusion range; its normal group 0.22 ± 0.03) [2]; shoes enlarge the midfoot's contact "
                       "area [11], so an in-shoe index runs higher and these values do not transfer [literature]"),
            reference_kind="literature", references=(2, 11), not_judged=FOOTPRINT_NOT_JUDGED))
    return rows


# the robust CVs (1.4826 x MAD of successive differences / sqrt 2 / median) and what each is made of
_ROBUST_CV_PARTS: dict[str, tuple[str, ...]] = {
    "stride_variability_pct": ("stride_variability_pct",),
    "stance_variability_pct": ("stance_variability_pct",),
    "timing_variability_pct": ("stride_variability_pct", "stance_variability_pct"),
}
ROBUST_CV_UNAVAILABLE = ("n/a (median absolute deviation 0: most successive {what} differ by less than one "
                         "sample, too few distinct values to measure variability this way)")


def _robust_cv_unavailable(key: str, values: dict[str, float]) -> str:
    """Why a robust CV is not shown: its MAD is 0 (a variability of 0 % is not a measurement; below
    ``ROBUST_CV_ZERO_PCT`` it is 0 up to floating-point rounding); "" else."""
    parts = _ROBUST_CV_PARTS.get(key, ())
    zero = [p for p in parts if robust_cv_is_zero(values.get(p))]
    if not zero and not (key in _ROBUST_CV_PARTS and robust_cv_is_zero(values.get(key))):
        return ""
    what = " and ".join(p.split("_")[0] + " times" for p in (zero or parts))
    return ROBUST_CV_UNAVAILABLE.format(what=what)


# ---------------------------------------------------------------- regional pressure-time integral

# The table's regions, in order from heel to toes (``insole.analysis`` region groups), and their labels.
PTI_REGIONS: tuple[tuple[str, str], ...] = (
    ("heel", "Heel"),
    ("medial_midfoot", "Midfoot, medial"),
    ("lateral_midfoot", "Midfoot, lateral"),
    ("midfoot", "Midfoot (arch), whole"),
    ("medial_forefoot", "Forefoot, medial"),
    ("lateral_forefoot", "Forefoot, lateral"),
    ("forefoot", "Forefoot, whole"),
    ("hallux", "Hallux"),
    ("lesser_toes", "Lesser toes"),
    ("toes", "Toes, whole"),
)


def pti_table(session: SessionMetrics, sets: Sequence[ReferenceSet]) -> dict[str, Any]:
    """Per region and foot, the analysis' mean over its used stances of the region's pressure-time integral (kPa·s:
    the area under the region's highest-pressure curve over stance; ``Analysis.regions``), with the real controls'
    range of the layout beside it when a real reference set holds it; ``reason`` when there is no table. ``steps``:
    per foot, the stances behind the means (``foot_counts``' ``stances_used``)."""
    analysis = session.analysis
    out: dict[str, Any] = {"unit": "kPa·s", "rows": [], "reason": None, "reference": None}
    if session.unit != "kPa":
        what = "uncalibrated values (au)" if session.unit == "au" else f"forces ({session.unit})"
        out["reason"] = f"the recording holds {what}, not pressures, and a pressure-time integral needs pressures"
        return out
    if analysis is None:
        out["reason"] = "the recording was not analysed"
        return out
    real = reference_set_for(sets, session.layout.name, kind="real")
    flagged = flagged_sensors(session)
    means: dict[str, dict[str, float | None]] = {}
    steps: dict[str, int] = {}
    for side in session.sides:
        # the analysis' own regional means, over the stances it used (the count the curves and maps rest on)
        steps[side] = int(foot_counts(session, side)["stances_used"] or 0)
        regions = analysis.regions[side]
        if "pti_kpa_s_mean" not in regions.columns or not len(regions):
            continue
        table = regions.set_index("region")["pti_kpa_s_mean"]
        for region, _ in PTI_REGIONS:
            if region in table.index:
                value = float(table.at[region])
                means.setdefault(region, {})[side] = value if math.isfinite(value) else None
    for region, label in PTI_REGIONS:
        if region not in means or all(v is None for v in means[region].values()):
            continue
        dist = real.foot_metric(f"{region}_pti_kpa_s") if real is not None else None
        controls = None
        outside: dict[str, str] = {}
        if dist is not None and dist.n >= 3:
            low, high = dist.quantile(0.025), dist.quantile(0.975)
            controls = {"n": dist.n, "median": json_number(dist.quantile(0.5)), "p2_5": json_number(low),
                        "p97_5": json_number(high)}
            for side, v in means[region].items():
                if v is not None and not low <= v <= high:
                    outside[side] = "above" if v > high else "below"
        out["rows"].append({"region": region, "label": label,
                            "sensor_caveat": sensor_caveat(flagged, f"pti_{region}") or None,
                            "sensor_caveat_short": sensor_caveat_short(flagged, f"pti_{region}") or None,
                            "left": json_number(means[region].get("left")),
                            "right": json_number(means[region].get("right")),
                            "controls": controls, "outside": outside,
                            "controls_range": ([controls["p2_5"], controls["p97_5"]] if controls else None)})
    if not out["rows"]:
        out["reason"] = "no region of this layout had a used step"
    out["steps"] = steps
    if real is not None and any(row["controls"] for row in out["rows"]):
        out["reference"] = (f"the real controls of layout {session.layout.name} ({real.name}): median and "
                            f"2.5–97.5th percentiles of their feet; ▲/▼ marks a value outside them")
    elif real is not None:
        out["reference"] = (f"none: the real controls of layout {session.layout.name} ({real.name}) were stored "
                            f"without pressure-time integrals")
    else:
        out["reference"] = (f"none: no reference from real people exists for layout {session.layout.name} (the "
                            f"only real control sets, gaitpdb8 and footswitch1, record forces and foot-switch "
                            f"signals, not pressures)")
    return out


# ---------------------------------------------------------------- changes since baseline


def baseline_changes(session: SessionMetrics, baseline: SessionMetrics,
                     repeatability: Repeatability | None = None) -> list[dict[str, Any]]:
    """Per foot and metric: before, after, change (absolute and %), direction, and whether it exceeds the metric's
    minimal detectable change (MDC95, day-to-day repeatability: the criterion) and step scatter (context)."""
    now = {side: foot_metric_values(session, side) for side in session.sides}
    before = {side: foot_metric_values(baseline, side) for side in baseline.sides}
    # a body-weight row of a walk whose body-weight check failed: its level not judged, its change is
    bw_note = (BODY_WEIGHT_CHANGE_NOTE if not body_weight_check(session)[1] else
               BASELINE_BODY_WEIGHT_CHANGE_NOTE if not body_weight_check(baseline)[1] else None)
    rows = []
    for key, label, unit, scale, digits, _, _ in _FOOT_ROWS:
        for side in session.sides:
            if side not in before:
                continue
            a = np.asarray(before[side].get(key, []), float)
            b = np.asarray(now[side].get(key, []), float)
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            if a.size < 3 or b.size < 3:
                continue
            ma, mb = foot_mean(baseline, side, key, a, scale), foot_mean(session, side, key, b, scale)
            if ma is None or mb is None:
                continue
            se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size) * scale
            t = (mb - ma) / se if se > 0 else (math.inf if mb != ma else 0.0)
            change = mb - ma
            mdc = repeatability.foot_mdc(key) if repeatability is not None else None
            mdc = mdc * scale if mdc is not None else None
            rows.append({
                "key": key, "label": label, "unit": unit, "digits": _change_digits(change, mdc, digits),
                "note": bw_note if key in BODY_WEIGHT_METRICS else None,
                "side": side, "before": json_number(ma),
                "after": json_number(mb), "change": json_number(change),
                "change_pct": json_number(100.0 * change / abs(ma)) if ma and key not in _SIGNED else None,
                "direction": _direction(change, digits),
                "mdc95": json_number(mdc), "beyond_mdc95": None if mdc is None else bool(abs(change) > mdc),
                "beyond_step_scatter": bool(abs(t) >= 3.0), "t": json_number(t, 2), "not_judged": None,
            })
    s_now, s_before = session_metric_values(session), session_metric_values(baseline)
    for key, label, unit, digits, _, _ in _SESSION_ROWS:
        earlier, later = s_before.get(key), s_now.get(key)
        if earlier is None or later is None or not (math.isfinite(earlier) and math.isfinite(later)):
            continue
        change = later - earlier
        mdc = repeatability.session_mdc(key) if repeatability is not None else None
        rows.append({"key": key, "label": label, "unit": unit, "digits": _change_digits(change, mdc, digits),
                     "note": None, "side": "both", "before": json_number(earlier),
                     "mdc95": json_number(mdc), "beyond_mdc95": None if mdc is None else bool(abs(change) > mdc),
                     "after": json_number(later), "change": json_number(change),
                     "change_pct": (json_number(100.0 * change / abs(earlier))
                                    if earlier and key not in _SIGNED else None),
                     "direction": _direction(change, digits),
                     "beyond_step_scatter": None, "t": None, "not_judged": None})
    return rows


def _change_digits(change: float, mdc: float | None, digits: int) -> int:
    """The digits a change row is printed at: as many more than ``digits`` (up to 3) as it takes for the change to
    read apart from its MDC95 ("+0.07 ... yes (0.07)" for 0.0695 against 0.0653), as the key numbers print a marked
    value apart from its limit (``_digits_to_tell``)."""
    if mdc is None or not (math.isfinite(change) and math.isfinite(mdc)) or abs(change) == mdc:
        return digits
    return _apart(abs(change), mdc, digits)


# beside a body-weight row of a walk whose body-weight check failed: the key numbers do not judge its level, but
# the same insoles' change between two walks does not rest on the level
BODY_WEIGHT_CHANGE_NOTE = "the level is not judged: the body-weight check failed; a change of the same insoles is"
BASELINE_BODY_WEIGHT_CHANGE_NOTE = ("the baseline's level is not judged: its body-weight check failed; a change of the "
                                    "same insoles is")


def _speed(record: dict[str, Any] | None) -> float | None:
    speed = ((record or {}).get("person") or {}).get("gait_speed_m_per_s")
    return float(speed) if speed is not None and math.isfinite(float(speed)) else None


def baseline_speeds(record: dict[str, Any] | None, base_record: dict[str, Any] | None) -> dict[str, Any]:
    """Both sessions' walking speeds from their files (None when unknown), whether they differ at the 0.01 m/s the
    page shows, and the sentence that says what a change of speed means for the speed-dependent measures."""
    after, before = _speed(record), _speed(base_record)
    differ = before is not None and after is not None and f"{before:.2f}" != f"{after:.2f}"
    note = None
    if differ:
        assert before is not None and after is not None
        way = "faster" if after > before else "slower"
        note = (f"the person walked {way} than at the baseline ({after:.2f} vs {before:.2f} m/s): walking speed "
                f"alone changes each of these measures, so their change may reflect the speed alone")
    return {"before_m_per_s": json_number(before), "after_m_per_s": json_number(after), "differ": differ,
            "note": note}


def with_speed_marks(changes: Sequence[dict[str, Any]], speeds: dict[str, Any]) -> list[dict[str, Any]]:
    """The change rows, each speed-dependent one (``SPEED_DEPENDENT``) marked when the two walks' speeds differ."""
    return [{**row, "speed_dependent": bool(speeds.get("differ") and row["key"] in SPEED_DEPENDENT)}
            for row in changes]


def chance_note(changes: Sequence[dict[str, Any]]) -> str | None:
    """How many of the rows judged against their MDC95 would read "yes" for a person who did not change: each
    MDC95 lets about 5 % of unchanged values past, so about N/20 of N rows (None when no row is judged)."""
    judged = [row for row in changes if row.get("beyond_mdc95") is not None]
    if not judged:
        return None
    n, yes = len(judged), sum(1 for row in judged if row["beyond_mdc95"])
    expected = n / 20
    about = f"{expected:.0f}" if expected >= 1 else f"{expected:.1f}"
    return (f"With {n} rows each judged against its MDC95, a person who did not change would still show about "
            f"{about} \"yes\" by chance (each MDC95 is meant to let about 5 % of unchanged values past, {n} / 20; "
            f"measured on 20 pairs, it lets about 6.5 %); this table shows {yes}.")


# Signed measures (offsets, CPEI, symmetry indices): a percentage change of them means nothing.
_SIGNED = SIGNED_KEYS | {"stance_si_pct", "impulse_si_pct", "step_si_pct"}


def _direction(change: float, digits: int) -> str:
    """"higher", "lower", or "unchanged" when the change does not show at the measure's precision."""
    if abs(change) < 0.5 * 10.0 ** -digits:
        return "unchanged"
    return "higher" if change > 0 else "lower"


# ---------------------------------------------------------------- quality


def foot_counts(session: SessionMetrics, side: str) -> dict[str, Any]:
    """One foot's counts as the analysis gives them, under one name each (docs/report.md, "Data quality").

    ``contacts_detected`` every contact found; ``strides_detected`` heel strike to the next heel strike of the same
    foot, as found ("strides found" on the page; ``insole analyze`` prints used/found); ``strides_used`` those the
    per-foot means, the variability, the symmetry indices and the findings are taken over (each with the stance
    that starts it); ``strides_excluded`` why the others were left out; ``stances_used`` the used strides' stances
    with no lost sample, which the force curves, the load maps, the regional tables and the pressure-time
    integrals average (``Analysis.steps[side]["used"]``; the dashboard's "stances" and the force curves' "steps").
    """
    analysis = session.analysis
    foot = session.feet[side]
    if analysis is None or side not in analysis.quality:
        used = int(foot.stride_times_s.size)
        return {"contacts_detected": None, "strides_detected": used + foot.n_excluded, "strides_used": used,
                "strides_excluded": dict(foot.excluded_reasons), "stances_used": None}
    quality = analysis.quality[side]
    steps = analysis.steps[side]
    return {"contacts_detected": int(quality["contacts_detected"]),
            "strides_detected": int(quality["strides_detected"]),
            "strides_used": int(analysis.summary.strides_used.get(side, 0)),
            "strides_excluded": {str(k): int(v) for k, v in (quality.get("strides_excluded") or {}).items()},
            "stances_used": int(steps["used"].astype(bool).sum()) if "used" in steps and len(steps) else 0}


def quality_rows(session: SessionMetrics, recording: Recording) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for side in ("left", "right"):
        foot = session.foot(side)
        samples = recording.foot(side)
        if foot is None or samples is None:
            rows.append({"side": side, "present": False})
            continue
        gaps = samples.gaps()
        counts = foot_counts(session, side)
        rows.append({
            "side": side, "present": True, "quality": foot.quality, "notes": list(_report_notes(session, foot)),
            "valid_pct": json_number(100.0 * samples.valid_fraction, 2), "gaps": len(gaps),
            "gap_samples": int(sum(g[2] for g in gaps)),
            # the findings' "steps" are the used strides (each with its first stance): one number, two names
            "steps_used": foot.n_steps, "strides_used": counts["strides_used"],
            "strides_detected": counts["strides_detected"], "contacts_detected": counts["contacts_detected"],
            "stances_used": counts["stances_used"],
            "excluded": int(sum(counts["strides_excluded"].values())), "excluded_reasons": counts["strides_excluded"],
            "enough_steps": foot.n_steps >= FindingParams().full_confidence_steps,
        })
    return rows


def both_feet_notes(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The quality notes about the session that both feet's rows carry (the body-weight check, the units): the page
    says them once, "Both feet: ...", and each foot's paragraph keeps its own (``notes_shown``)."""
    present = [row for row in rows if row.get("present")]
    if len(present) != 2:
        return []
    return [n for n in present[0]["notes"] if n in present[1]["notes"] and str(n).startswith(_SESSION_NOTE_PREFIXES)]


# The analysis' note for uncalibrated insoles ("metrics are given in body weights only") means that its force
# metrics are scaled by the walk's own mean load; read on a report page it says the opposite of what the page does.
_AU_NOTE_PREFIX = "forces are in arbitrary units"
UNCALIBRATED_NOTE = ("forces are in arbitrary units (uncalibrated sensors): no force is shown in body weights in this "
                     "report; force curves and load maps are in au, for their shape and within-foot shares only")
UNCALIBRATED_STATEMENT = (
    "Uncalibrated insoles (values in au): a sensor reading is not a force, and the walk's mean load is not a body "
    "weight, so no number here is in body weights or newtons. First peak, loading rate, valley ratio, peak force "
    "and impulse (and their symmetry indices) are not shown; force curves and load maps are in au and show shape "
    "only. Timing, the COP and each region's share of its own foot's load (a ratio within one insole) are shown; no "
    "load is compared between the feet, where a difference between the two insoles' gains would read as one.")
# the statement on a layout with one sensor a foot (gaitndd's foot switches): no COP, no regions, no load map
UNCALIBRATED_ONE_SENSOR_STATEMENT = (
    "Uncalibrated insoles (values in au): a sensor reading is not a force, and the walk's mean load is not a body "
    "weight, so no number here is in body weights or newtons. First peak, loading rate, valley ratio, peak force "
    "and impulse (and their symmetry indices) are not shown; force curves are in au and show shape only. Timing is "
    "shown: with one sensor a foot there is no centre of pressure, no region to share the load and no load map. No "
    "load is compared between the feet, where a difference between the two insoles' gains would read as one.")
# why the page has no standing left/right split, said where the units are (``insole analyze`` prints it with a caveat)
UNCALIBRATED_STANDING = ("The standing left/right split that insole analyze prints is not shown: it compares the "
                         "two insoles' readings, which need not share one scale.")


def shown_measures(session: SessionMetrics) -> dict[str, bool]:
    """Which within-foot measures this recording has: ``cop`` the medial-lateral COP offset or a COP path,
    ``shares`` any region's share of the foot's load, ``maps`` more than one sensor a foot."""
    values = {side: foot_metric_values(session, side) for side in session.sides}
    shares = any(np.isfinite(np.asarray(v.get(m, np.zeros(0)), float)).any()
                 for v in values.values() for m in ("share_heel", "share_midfoot", "share_front", "share_hallux",
                                                    "share_lesser_toes"))
    cop = session.cop_ml_ok and any(np.isfinite(np.asarray(v.get("cop_ml_pct", np.zeros(0)), float)).any()
                                    for v in values.values())
    analysis = session.analysis
    if not cop and analysis is not None:
        for side in session.sides:
            curve = analysis.curves.get(side)
            if curve is not None and "cop_x_mm_mean" in curve and np.isfinite(
                    np.asarray(curve["cop_x_mm_mean"], float)).any():
                cop = True
    return {"cop": bool(cop), "shares": bool(shares), "maps": session.layout.n_sensors > 1}


def _report_notes(session: SessionMetrics, foot: Any) -> tuple[str, ...]:
    """The foot's quality notes as the page shows them: the analysis' notes, the uncalibrated-units one in the
    report's words (the page never shows au as body weights)."""
    if session.force_unit != "au":
        return tuple(foot.quality_notes)
    return tuple(UNCALIBRATED_NOTE if str(n).startswith(_AU_NOTE_PREFIX) else n for n in foot.quality_notes)


def units_statement(session: SessionMetrics) -> dict[str, Any]:
    """What the numbers' units are: body weights (calibrated, with how the weight was known) or au (withheld)."""
    if session.force_unit == "au":
        shown = shown_measures(session)
        statement = (UNCALIBRATED_STATEMENT if shown["cop"] and shown["shares"] else
                     UNCALIBRATED_ONE_SENSOR_STATEMENT if not (shown["cop"] or shown["shares"] or shown["maps"]) else
                     UNCALIBRATED_STATEMENT.replace(
                         "Timing, the COP and each region's share of its own foot's load (a ratio within one insole) "
                         "are shown",
                         "Timing" + (", the COP" if shown["cop"] else "")
                         + (" and each region's share of its own foot's load (a ratio within one insole)"
                            if shown["shares"] else "")
                         + (" are" if shown["cop"] or shown["shares"] else " is") + " shown"
                         + ("" if shown["cop"] else " (this layout cannot locate a centre of pressure)")
                         + ("" if shown["shares"] else " (this layout has no regions to share the load)")))
        standing = (session.analysis.summary.standing if session.analysis is not None else None)
        if standing:
            statement = f"{statement} {UNCALIBRATED_STANDING}"
        return {"force_unit": "au", "calibrated": False, "statement": statement}
    how = {"given": "the given body mass", "estimated": "a body weight estimated from the walk's own load"}.get(
        str(session.body_weight_source), "the body weight")
    return {"force_unit": session.force_unit, "calibrated": True,
            "statement": f"Forces are in body weights (BW), from {how}."}


# ---------------------------------------------------------------- caveats shared by the findings, said once


# notes about the session or the layout that the analysis writes on each foot: said once for both feet (the
# body-weight check, the units, the layout's too few sensors for a COP)
_SESSION_NOTE_PREFIXES = ("body weight", _AU_NOTE_PREFIX, "uncalibrated insoles", "COP needs")
# reasons that are the finding's own judgement (its evidence grade, its severity), short and said where they apply
# even when two findings word them alike; the shared limits are caveats about the data
_JUDGEMENT_REASONS = ("evidence grade", "severity capped", "lowered one step")


def not_assessed_groups(items: Sequence[Any]) -> list[dict[str, Any]]:
    """The "not assessed" rules grouped by their reason: one row per reason with every code it stops (a Moticon walk
    of 5 usable steps listed the same reason on 18 rows, one per rule and foot). A reason that names a foot is one
    row for both feet when it reads the same for each (then "each foot")."""
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        key = re.sub(r"\bthe (left|right) foot\b", "the foot", item.reason)
        group = groups.setdefault(key, {"codes": [], "sides": [], "reason": item.reason})
        if item.code not in group["codes"]:
            group["codes"].append(item.code)
        if item.side not in group["sides"]:
            group["sides"].append(item.side)
    out = []
    for key, group in groups.items():
        sides = group["sides"]
        both_feet = set(sides) >= {"left", "right"} or "both" in sides
        reason = key.replace("the foot", "each foot") if both_feet and key != group["reason"] else group["reason"]
        out.append({"codes": group["codes"], "side": "both" if both_feet else sides[0], "reason": reason})
    return out


def rules_assessed(not_assessed: Sequence[Any], sides: Sequence[str]) -> list[str]:
    """The rules applied to at least one foot: every rule but those whose "not assessed" lines name both feet (or
    each recorded foot). None applied (a 0.05 s file of 5 samples, no step on either foot): the report says so
    instead of "no pattern was flagged", which would read as a clean result."""
    skipped: dict[str, set[str]] = {}
    for item in not_assessed:
        skipped.setdefault(item.code, set()).add(item.side)
    feet = set(sides) or {"left", "right"}
    return [code for code in CODES if not ("both" in skipped.get(code, set()) or feet <= skipped.get(code, set()))]


def key_numbers_reason(session: SessionMetrics, rows: Sequence[KeyNumber]) -> str | None:
    """Why the key-numbers table is empty, in one sentence (None when it has a row)."""
    if rows:
        return None
    steps = {side: session.feet[side].n_steps for side in session.sides}
    duration = f"{session.duration_s:.3g} s" if math.isfinite(session.duration_s) else "of unknown length"
    if not steps:
        where = "records no foot"
    elif not any(steps.values()):
        where = "has no used step on " + ("either foot" if len(steps) > 1 else f"the {next(iter(steps))} foot")
    else:
        where = "gives no measure a value from its " + " and ".join(
            f"{n} used step{'s' if n != 1 else ''} on the {side} foot" for side, n in steps.items())
    return f"No key number could be measured: the recording lasts {duration} and {where} (see Data quality)."


# the findings engine's words when it caps a severity by the confidence (``_findings._finish``, and
# ``_outside_controls_speed`` after lowering the confidence for the walking speed)
_CAPPED = re.compile(r"severity capped at (\w+) by the ([\w ]+?) confidence")
_BY_CUT_OFF = re.compile(r"by the cut-off alone it would be (\w+)")


def severity_cap(finding: Any) -> dict[str, Any] | None:
    """When the finding's severity was capped by its confidence: by which confidence, the severity its size alone
    gives (the cut-off's, None when the reasons do not say it) and the words the header shows; None when not capped.
    hunt16's irregular timing, 8.4 times the controls' median, read "severity mild" without a word of the cap."""
    reasons = tuple(getattr(finding, "confidence_reasons", ()) or ())
    caps = [m for reason in reasons if (m := _CAPPED.search(reason))]
    if not caps or caps[-1].group(1) != finding.severity:
        return None
    confidence = caps[-1].group(2)
    alone = next((m.group(1) for reason in reasons if (m := _BY_CUT_OFF.search(reason))), None)
    text = f"{finding.severity} (capped by the {confidence} confidence" + (
        f"; by its size alone: {alone})" if alone and alone != finding.severity else ")")
    return {"confidence": confidence, "by_size_alone": alone, "text": text}


def _finding_name(finding: Any) -> str:
    where = "both feet" if finding.side == "both" else f"{finding.side} foot"
    return f"{finding.title[:1].lower() + finding.title[1:]}, {where}"


# The measures each finding rests on (its measured metric and what its rule also reads), and the measures each
# note about the session affects: a note both feet carry is one of a finding's limits only when it affects one of
# the finding's measures (hunt16: "COP needs at least 3 sensors" and the uncalibrated insoles' force-symmetry note
# were limits of irregular stride timing, which reads event times only). Shares are ratios within one foot: a gain
# error moves none. The body-weight check tests both insoles' load together, and what fails it may be one insole's
# calibration (the note says so), which moves the symmetry indices between the feet: they stay among its measures.
# (the key rows a finding speaks for, ``_FINDING_FAMILY``, and what its rule reads besides them)
_FINDING_READS_ALSO: dict[str, frozenset[str]] = {
    "load_asymmetry": frozenset({"peak_force_si_pct", "si_f1"}),
    "antalgic_gait": frozenset({"peak_force_si_pct"}),
}
_RULE_METRICS: dict[str, frozenset[str]] = {code: frozenset() for code in _FINDING_FAMILY}
_RULE_METRICS.update({rule.code: frozenset({rule.metric}) for rule in FOOT_RULES})
_FINDING_MEASURES: dict[str, frozenset[str]] = {
    code: frozenset(_FINDING_FAMILY.get(code, ())) | _FINDING_READS_ALSO.get(code, frozenset()) | metric
    for code, metric in _RULE_METRICS.items()
}
_NOTE_MEASURES: tuple[tuple[str, frozenset[str]], ...] = (
    ("body weight", frozenset(BODY_WEIGHT_METRICS) | {"impulse_si_pct", "peak_force_si_pct", "si_f1"}),
    ("COP needs", frozenset({"cop_ml_pct", "cpei_pct", "cop_ml_sd_pct"})),
    ("uncalibrated insoles", frozenset({"impulse_si_pct", "peak_force_si_pct", "si_f1", "f1", "loading_rate_bw_s",
                                        "valley_ratio"})),
)


def note_affects(note: str, finding: Any) -> bool:
    """Whether a note about the session (``_NOTE_MEASURES``) affects a measure ``finding`` rests on; a note or a
    finding this table does not know is taken to affect it."""
    measures = _FINDING_MEASURES.get(finding.code)
    for prefix, affected in _NOTE_MEASURES:
        if str(note).startswith(prefix):
            return measures is None or bool(affected & (measures | {finding.measured.metric}))
    return True


def findings_limits(findings: Sequence[Any], session: SessionMetrics) -> tuple[list[dict[str, Any]],
                                                                                 list[dict[str, Any]]]:
    """Caveats that several findings (or both feet of one) share, said once, and what each finding then shows.

    A new user found the body-weight sentence repeated in every finding's confidence text, once per foot. So a
    quality note both feet carry (the body-weight check) becomes one limit; the foot's own data-quality reason
    keeps only its foot's notes; a reason or a note that two or more findings give (approximate sensor
    positions, a data-quality line) becomes one limit too; a note that repeats one of its finding's reasons
    (the speed sentence) is not shown again. Returns ``limits`` [{number, text, findings}] and, per finding in
    order, {limits: [numbers], reasons: [its own reasons, shown], notes: [its notes, shown]}. The findings'
    own ``confidence_reasons`` and ``notes`` stay complete in the JSON.
    """
    feet = {side: session.feet[side] for side in session.sides}
    common: list[str] = []
    if len(feet) == 2:
        # notes about the session, which the analysis writes on each foot (the body-weight check, the units); a
        # foot's own figures that happen to read the same on both feet (100.0% of samples valid) stay with it
        left, right = feet["left"].quality_notes, feet["right"].quality_notes
        common = [n for n in left if n in right and str(n).startswith(_SESSION_NOTE_PREFIXES)]
    limit_texts: list[str] = []
    users: dict[str, list[str]] = {}

    def limit(text: str, finding: Any) -> int:
        if text not in limit_texts:
            limit_texts.append(text)
        who = users.setdefault(text, [])
        if _finding_name(finding) not in who:
            who.append(_finding_name(finding))
        return limit_texts.index(text) + 1

    rebuilt: list[tuple[list[int], list[str], list[str]]] = []
    for finding in findings:
        numbers: list[int] = []
        reasons: list[str] = []
        for reason in finding.confidence_reasons:
            own = reason
            for side, foot in feet.items():
                if reason == foot_quality_reason(side, foot.quality, foot.quality_notes):
                    # the analysis' au note is the page's units statement, said above the findings: no limit
                    shared = [n for n in foot.quality_notes if n in common and not n.startswith(_AU_NOTE_PREFIX)
                              and note_affects(n, finding)]
                    numbers += [limit(f"Both feet: {n}", finding) for n in shared]
                    specific = [n for n in foot.quality_notes if n not in common]
                    own = (foot_quality_reason(side, foot.quality, specific) if specific
                           else f"{side} foot data quality {foot.quality}")
                    break
            reasons.append(own)
        said = " ".join(reasons).casefold()
        notes = [n for n in finding.notes if n.rstrip(". ").casefold() not in said]
        rebuilt.append((numbers, reasons, notes))
    # a reason or a note that two or more findings give: one limit
    counts: dict[str, int] = {}
    for _, reasons, notes in rebuilt:
        for text in dict.fromkeys([*reasons, *notes]):
            counts[text] = counts.get(text, 0) + 1
    shown: list[dict[str, Any]] = []
    for finding, (numbers, reasons, notes) in zip(findings, rebuilt):
        numbers = list(numbers)
        kept_reasons, kept_notes = [], []
        for text in reasons:
            if counts[text] > 1 and not text.startswith(_JUDGEMENT_REASONS):
                numbers.append(limit(text, finding))
            else:
                kept_reasons.append(text)
        for text in notes:
            if counts[text] > 1:
                numbers.append(limit(text, finding))
            else:
                kept_notes.append(text)
        shown.append({"limits": sorted(set(numbers)), "reasons": kept_reasons, "notes": kept_notes})
    limits = [{"number": i, "text": text, "findings": users[text]} for i, text in enumerate(limit_texts, 1)]
    return limits, shown


# ---------------------------------------------------------------- methods


def methods_text(session: SessionMetrics, params: FindingParams, sets: Sequence[ReferenceSet],
                 recording: Recording, repeatability: Repeatability | None | object = None) -> str:
    """The methods paragraph; ``repeatability``: the MDC95s the findings used (default: the stored ones)."""
    rules = (rules_methods_text(session, params, sets) if repeatability is None
             else rules_methods_text(session, params, sets, repeatability=repeatability))
    ap = dict(session.provenance.get("analysis_params") or {})
    layout = session.layout
    parts = [
        f"The recording ({session.duration_s:.1f} s, {session.sample_rate_hz:g} Hz, layout {layout.name} with "
        f"{layout.n_sensors} sensor{'s' if layout.n_sensors != 1 else ''}, values in {session.unit}"
        f"{'; sensor positions approximate' if layout.approximate else ''}) was analysed by insole {__version__}.",
    ]
    core_text = str(session.provenance.get("analysis_methods") or "")
    if core_text:
        parts.append(core_text)
    elif ap:
        parts.append(
            f"Heel strike and toe off were detected on each foot's total force after a zero-phase "
            f"{ap.get('event_lowpass_hz', 'n/a')} Hz low-pass filter, with hysteresis at "
            f"{ap.get('detect_high_fraction')}/{ap.get('detect_low_fraction')} of the foot's robust load range and "
            f"refined at {ap.get('contact_on_fraction')} (strike) and {ap.get('contact_off_fraction')} (toe off) of "
            f"each contact's rise; contacts shorter than {ap.get('min_stance_s')} s and unloadings shorter than "
            f"{ap.get('min_swing_s')} s were discarded, and steps touching a gap were not used.")
    if session.force_unit == "BW":
        mass = (f"{session.body_mass_kg:g} kg" if session.body_mass_kg else "unknown")
        how = ("the given body mass" if session.body_weight_source == "given"
               else "body weight estimated as the mean total force of both feet over the walk")
        parts.append(f"Forces were normalised to body weight using {how} ({mass}).")
    else:
        parts.append("The sensors are uncalibrated (arbitrary units): only timing and within-foot shape measures "
                     "are compared, and no force is compared between the feet. Where the analysis' methods above "
                     "speak of a body weight, it is the walk's mean load in au, a scale, not a weight: no number "
                     "in this report is given in body weights.")
    # only the measures this recording has (a gaitndd foot switch has no share, COP or force-curve figure)
    shown = shown_measures(session)
    defined = [text for text, has in (
        ("regional shares are each region's part of the step's force-time integral", shown["shares"]),
        ("the medial-lateral COP offset is the force-weighted mean sensor position across the foot over stance, as a "
         "percentage of the ball width (0.39 × foot length)", shown["cop"]),
        ("the loading rate is the mean slope of the force between 20% and 80% of the first peak (BW/s); the valley "
         "ratio is the mid-stance minimum over the mean of the two peaks", session.force_unit == "BW")) if has]
    parts.append(
        ("; ".join(defined)[:1].upper() + "; ".join(defined)[1:] + ". " if defined else "")
        + "Stride-to-stride variability of a time series (stride time, stance time) is the robust SD of its "
        "successive differences (1.4826 × median absolute deviation) divided by √2 and by its median; timing "
        "variability is the mean of the stride-time and stance-time values over both feet.")
    parts.append(
        f"Findings follow the rules in docs/report.md. {rules} Fewer than "
        f"{params.full_confidence_steps} steps per foot lower confidence [78]. Confidence is the lower of the "
        f"measurement confidence and what the evidence grade allows.")
    # each reference set is described once in the report: the key numbers' section states the layout's reference
    # (``reference_status``); here it is named, and only a set that statement does not describe is described
    statement = reference_status(session, sets, params=params)["statement"]
    described = [ref for ref in sets if ref.description in statement]
    if described:
        parts.append(f"Reference set{'s' if len(described) > 1 else ''} "
                     f"{', '.join(f'{ref.name} ({ref.source_kind})' for ref in described)}: described under Key "
                     f"numbers.")
    else:
        parts.append(statement)
    for ref in sets:
        if all(ref is not d for d in described):
            parts.append(f"Reference set {ref.name} ({ref.source_kind}): {ref.description.rstrip('. ')}.")
    parts.append(f"Evidence: {EVIDENCE_SOURCE}.")
    return " ".join(parts)


# ---------------------------------------------------------------- the report


@dataclass
class Report:
    """Everything the page, the JSON and the PDF show."""

    recording: Recording
    session: SessionMetrics
    result: FindingsResult
    key_numbers: list[KeyNumber]
    quality: list[dict[str, Any]]
    methods: str
    input: dict[str, Any]
    generated_at: str
    baseline: SessionMetrics | None = None
    baseline_input: dict[str, Any] | None = None
    baseline_result: FindingsResult | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    # both walks' speeds from their files and what a change of speed means for the changes (``baseline_speeds``)
    baseline_speeds: dict[str, Any] = field(default_factory=dict)
    # why nothing is judged against the baseline (it is another person: ``other_person``), else None
    baseline_not_judged: str | None = None
    # the "Clinic test" section (``_clinic_test.clinic_section``) when the recording holds a saved clinic test
    clinic_test: dict[str, Any] | None = None
    # where in stance the feet's force curves differ (SPM), computed once here; the page and the JSON show it
    stance_spm: StanceCurveComparison | None = None
    # per foot: this session's stance force curves vs the baseline's (SPM), with --baseline
    baseline_spm: dict[str, StanceCurveComparison] = field(default_factory=dict)
    # the regional pressure-time-integral table (``pti_table``)
    pti: dict[str, Any] = field(default_factory=dict)
    # sensors the quality checks flagged and the measures resting on them (``sensor_caveats``)
    caveats: dict[str, Any] = field(default_factory=dict)
    # key numbers marked outside the real controls' range that no finding speaks for (``outside_without_finding``)
    outside_rows: list[dict[str, Any]] = field(default_factory=list)
    # the MDC95s the findings and changes were judged by (``repeatability_without_self``: without this person's
    # same-day pair when it is one of them); None: none known for the layout
    repeatability: Repeatability | None = None
    # the clinic test's sources (``clinic_section``), listed after the evidence base's entries the report cites
    clinic_references: list[dict[str, Any]] = field(default_factory=list)

    @property
    def findings(self):  # noqa: ANN201 - tuple of Finding
        return self.result.findings

    @property
    def references(self) -> list[dict[str, Any]]:
        """The reference list the page prints: the evidence-base entries its content cites (``cited_numbers``),
        then the clinic test's sources; made with the rest of ``to_dict`` (it was a field set by ``build_report``
        until the list became exactly what the page cites)."""
        return list(self.to_dict()["references"])

    def summary(self) -> dict[str, Any]:
        """The analysis summary: per foot means of every metric, session values, counts."""
        feet = {}
        for side in self.session.sides:
            values = foot_metric_values(self.session, side)
            foot = self.session.feet[side]
            feet[side] = {"n_steps": foot.n_steps, "n_strides": int(foot.stride_times_s.size),
                          **{k: json_number(foot_mean(self.session, side, k, v)) for k, v in values.items()},
                          **{k: json_number(v) for k, v in foot_level_values(self.session, side).items()}}
        return {"feet": feet, "session": {k: json_number(v) for k, v in session_metric_values(self.session).items()},
                "force_unit": self.session.force_unit, "body_weight_source": self.session.body_weight_source,
                **{k: v for k, v in self.session.summary.items()}}

    @property
    def rules_assessed(self) -> list[str]:
        """The finding rules applied to at least one foot (``rules_assessed``): none, and "no finding" is no clean
        result."""
        return rules_assessed(self.result.not_assessed, self.session.sides)

    def to_dict(self) -> dict[str, Any]:
        limits, shown = findings_limits(self.findings, self.session)
        out = {
            "schema": REPORT_SCHEMA,
            "schema_version": REPORT_SCHEMA_VERSION,
            "software": {"name": "insole", "version": __version__},
            "generated_at": self.generated_at,
            "input": self.input,
            "summary": self.summary(),
            "quality": self.quality,
            "key_numbers": [k.to_dict() for k in self.key_numbers],
            # why the table is empty, one sentence (``key_numbers_reason``); None when it has a row
            "key_numbers_reason": key_numbers_reason(self.session, self.key_numbers),
            # caveats several findings share, said once (``findings_limits``); each finding names its by number
            "limits": limits,
            "findings": [{**f.to_dict(), "limits": sh["limits"], "confidence_reasons_shown": sh["reasons"],
                          "notes_shown": sh["notes"], "severity_capped": severity_cap(f)}
                         for f, sh in zip(self.findings, shown)],
            "quality_notes_both_feet": both_feet_notes(self.quality),
            # notes the units statement already says (shown beside the data quality): not repeated there
            "quality_notes_in_units": [UNCALIBRATED_NOTE] if self.session.force_unit == "au" else [],
            "outside_without_finding": [{**row, "values": {k: json_number(v) for k, v in row["values"].items()},
                                         "real_range": [json_number(v) for v in row["real_range"]],
                                         "mdc95": json_number(row["mdc95"])} for row in self.outside_rows],
            "not_assessed": [n.to_dict() for n in self.result.not_assessed],
            # the rules applied to at least one foot (``rules_assessed``): none, and "no finding" is no clean result
            "rules_assessed": self.rules_assessed,
            "not_assessed_grouped": not_assessed_groups(self.result.not_assessed),
            "references": [],  # below: exactly the sources the content above and below cites
            "analysis_method_sources": analysis_sources(self.session),
            "reference_sets": [r.to_dict() for r in self.result.reference_sets],
            "reference_status": reference_status(self.session, self.result.reference_sets, self.input,
                                                 self.result.params),
            "units": units_statement(self.session),
            "sensor_caveats": self.caveats or None,
            "baseline": None,
            "clinic_test": self.clinic_test,
            "stance_force_spm": self.stance_spm.to_dict() if self.stance_spm is not None else None,
            "pressure_time_integral": self.pti or None,
            "methods": self.methods,
            "disclaimer": DISCLAIMER,
            "provenance": {
                "insole_version": __version__,
                "analysis": dict(self.session.provenance),
                "findings_params": self.result.params.to_dict(),
                "evidence": EVIDENCE_SOURCE,
                "dataset_citations": dict(DATASET_CITATIONS),
            },
        }
        if self.baseline is not None:
            before = {(f.code, f.side) for f in self.baseline_result.findings} if self.baseline_result else set()
            after = {(f.code, f.side) for f in self.findings}
            if self.baseline_not_judged is not None:  # another person's findings are no "new" or "resolved" ones
                before = after = set()
            out["baseline"] = {
                "input": self.baseline_input,
                "not_judged": self.baseline_not_judged,
                "repeatability_includes_this_pair": repeatability_membership(
                    self.input, self.baseline_input, self.repeatability) or None,
                "changes": self.changes,
                "walking_speed": self.baseline_speeds or baseline_speeds(self.input, self.baseline_input),
                # how many "yes" the rows judged against their MDC95 would show by chance (``chance_note``)
                "chance_note": chance_note(self.changes),
                "findings_new": [{"code": c, "side": s} for c, s in sorted(after - before)],
                "findings_resolved": [{"code": c, "side": s} for c, s in sorted(before - after)],
                "findings_persisting": [{"code": c, "side": s} for c, s in sorted(after & before)],
                "stance_force_spm": {side: c.to_dict() for side, c in self.baseline_spm.items()},
            }
        out["references"] = cited_references(out) + list(self.clinic_references)
        return out


def _input_record(recording: Recording, path: str | Path | None) -> dict[str, Any]:
    meta = recording.meta
    record: dict[str, Any] = {
        "path": str(path) if path is not None else None,
        "name": Path(path).name if path is not None else None,
        "sha256": (hashlib.sha256(Path(path).read_bytes()).hexdigest()
                   if path is not None and Path(path).is_file() else None),
        "source": dict(meta.source),
        "subject_id": meta.subject_id,
        "condition": meta.condition,
        "notes": meta.notes,
        "recorded_at": meta.recorded_at,
        "body_mass_kg": meta.body_mass_kg,
        # where an importer took the mass from when the file has no body mass as such (F-Scan: its walk
        # calibration load), so the page can say so
        "body_mass_from": (meta.extra or {}).get("body_mass_from"),
        "person": person_record(recording),
        "layout": recording.layout.name,
        "unit": recording.unit,
        "sample_rate_hz": recording.sample_rate_hz,
        "duration_s": json_number(recording.duration_s, 3),
        "devices": {k: dict(v) for k, v in meta.devices.items()},
    }
    return record


def refuse_same_file(record: dict[str, Any], base_record: dict[str, Any], baseline_path: str | Path | None) -> None:
    """An ``InputError`` when the baseline is the recording's own file (the same path or the same SHA-256)."""
    if baseline_path is None:
        return
    same_path = (record["path"] is not None
                 and Path(record["path"]).resolve() == Path(baseline_path).resolve())
    same_bytes = record["sha256"] is not None and record["sha256"] == base_record["sha256"]
    if same_path or same_bytes:
        how = ("is the same file as the recording" if same_path
               else f"has the same contents (SHA-256) as the recording {record['name']}")
        raise InputError(baseline_path, f"the baseline {how}; a baseline must be an earlier session of the same "
                                        f"person")


def other_person(record: dict[str, Any], base_record: dict[str, Any]) -> str | None:
    """Why the baseline is not judged, when both files name their subject and the names differ; else None.

    Subject IDs are compared without surrounding spaces and case; an ID missing from either file is not taken as
    a difference (nothing is known).
    """
    now, before = (str(r.get("subject_id") or "").strip() for r in (record, base_record))
    if not now or not before or now.casefold() == before.casefold():
        return None
    return f"the baseline is another person ({before} vs {now})"


# The analysis core's methods text cites these keys; what the evidence base says about each.
ANALYSIS_SOURCE_NOTES = {
    "song1996": "title only in the evidence base (ref 1): findings not read, detail not verified",
    "hausdorff1998": "evidence base ref 64: abstract read",
    "robinson1987": "evidence base ref 51: abstract read",
    "herzog1989": "title only in the evidence base (ref 52): findings not read",
    "tekscan_threshold": "vendor support page; not part of the evidence base",
}


def analysis_sources(session: SessionMetrics) -> list[dict[str, str]]:
    """The analysis core's own method references, each with what is known about its verification."""
    refs = dict(session.provenance.get("analysis_references") or {})
    return [{"key": key, "citation": citation,
             "verification": ANALYSIS_SOURCE_NOTES.get(key, "not checked against the evidence base")}
            for key, citation in refs.items()]


# A citation in the report's text: "[13]", "[13,16]", "[49, 62, 80]", "[45–47]" (evidence-base numbers)
_CITATION = re.compile(r"\[(\d+(?:\s*[,\u2013-]\s*\d+)*)\]")
# Parts of the report's content that cite nothing from the evidence base: the reference list itself, the analysis
# core's own sources (cited by key), the clinic test (its sources are numbered and listed by ``clinic_section``),
# the reference sets' stored data and the provenance (JSON only)
_NOT_CITING = frozenset({"references", "analysis_method_sources", "clinic_test", "reference_sets", "provenance"})
# where the content names files, at any depth: a file named "walk[3].txt" cites nothing
_FILE_KEYS = frozenset({"input", "baseline_input"})


def cited_numbers(content: Any, _top: bool = True) -> set[int]:
    """Every evidence-base number the report's content cites: in its texts ("[13]", "[13,16]", "[45–47]") and in
    its lists of reference numbers (a key number's, a finding's and each joint's ``references``), which the page
    prints as links. The reference list is made of exactly these (``Report.to_dict``): a source no sentence cites
    is not listed (every report listed Menz 2013 [13], cited only by the methods of a simulated reference set)."""
    numbers: set[int] = set()
    if isinstance(content, str):
        for match in _CITATION.finditer(content):
            for element in match.group(1).split(","):  # each element a number or a range: "[13, 16–17]"
                ends = [int(n) for n in re.split(r"\s*[\u2013-]\s*", element.strip())]
                numbers.update(range(ends[0], ends[-1] + 1))
    elif isinstance(content, dict):
        for key, value in content.items():
            if (_top and key in _NOT_CITING) or key in _FILE_KEYS:
                continue
            if key == "references" and isinstance(value, (list, tuple)) and all(
                    isinstance(n, int) and not isinstance(n, bool) for n in value):
                numbers.update(value)
            else:
                numbers |= cited_numbers(value, _top=False)
    elif isinstance(content, (list, tuple)):
        for value in content:
            numbers |= cited_numbers(value, _top=False)
    return numbers


def cited_references(content: dict[str, Any]) -> list[dict[str, Any]]:
    """The evidence base's entries of every number ``content`` cites (``cited_numbers``), in number order."""
    cited = sorted(cited_numbers(content))
    unknown = [n for n in cited if n not in REFERENCES]
    if unknown:  # a text citing a number the evidence base does not hold is a defect of that text, never dropped
        raise ValueError(f"the report cites {unknown}, which the evidence base does not hold")
    return [REFERENCES[n].to_dict() for n in cited]


def _marked_measures(key_rows: Sequence[KeyNumber], pti: dict[str, Any], findings: Sequence[Any]) -> set[str]:
    """The measures the page shows with a value, where a flagged sensor's ⚠ would stand (``sensor_caveats``)."""
    shown = {row.key for row in key_rows if any(v is not None for v in (row.left, row.right, row.session))}
    shown |= {f"pti_{row['region']}" for row in pti.get("rows", ())}
    return shown | {finding.measured.metric for finding in findings}


def build_report(recording: Recording, *, path: str | Path | None = None, baseline: Recording | None = None,
                 baseline_path: str | Path | None = None, body_mass_kg: float | None = None,
                 params: FindingParams | None = None, reference_sets: Sequence[ReferenceSet] | None = None,
                 generated_at: str | None = None, analysis: Any = None) -> Report:
    """Analyse ``recording`` (and ``baseline``), evaluate the findings and gather what the report shows.

    ``analysis``: an ``insole.analyze`` result of ``recording`` already at hand (``insole analyze
    --report``); it is used as is instead of analysing again (``body_mass_kg`` then does not apply to it).
    """
    params = params or FindingParams()
    sets = tuple(load_reference_sets() if reference_sets is None else reference_sets)
    if body_mass_kg is not None:
        recording = recording.with_meta(body_mass_kg=float(body_mass_kg))
    record = _input_record(recording, path)
    base_record = _input_record(baseline, baseline_path) if baseline is not None else None
    not_judged = None
    if base_record is not None:
        refuse_same_file(record, base_record, baseline_path)
        not_judged = other_person(record, base_record)
    session = session_from_analysis(analysis, recording) if analysis is not None else session_metrics(recording)
    base_session = None
    if baseline is not None:
        if body_mass_kg is not None:
            baseline = baseline.with_meta(body_mass_kg=float(body_mass_kg))
        base_session = session_metrics(baseline)
    # what the walk is judged against is decided once, by the findings engine (``judging_frame``, as for ``insole
    # batch``): a walk of the reference's controls (or another walk of one of them) against the other controls and
    # the norms without that person, a walk of the test-retest pairs by the MDC95s of the other pairs
    # (docs/report.md, reference sets); every table below reads the same frame. Another person's session is no
    # frame for this one's findings.
    result = evaluate(session, params, reference_sets=sets, baseline=base_session if not_judged is None else None,
                      walk=record, baseline_walk=base_record if not_judged is None else None)
    frame = result.frame
    assert frame is not None
    sets, mdc = frame.reference_sets, frame.repeatability
    base_result = None
    changes: list[dict[str, Any]] = []
    speeds: dict[str, Any] = {}
    if base_session is not None:
        base_result = evaluate(base_session, params, reference_sets=sets, repeatability=mdc)
        changes = baseline_changes(session, base_session, mdc)
        if not_judged is not None:  # the numbers side by side, no change judged
            changes = [{**row, "beyond_mdc95": None, "beyond_step_scatter": None, "t": None,
                        "not_judged": not_judged} for row in changes]
        speeds = baseline_speeds(record, base_record)
        changes = with_speed_marks(changes, speeds)
    key_rows = link_findings(key_numbers(session, sets, person_record(recording), params, norms=frame.norms),
                             result.findings)
    clinic, clinic_refs = clinic_section(recording.meta.extra.get("clinic_test"))
    stance_spm = base_spm = None
    if session.analysis is not None:
        stance_spm = compare_stance_force(recording, session.analysis)
        if (baseline is not None and base_session is not None and base_session.analysis is not None
                and not_judged is None):
            base_spm = {side: compare_with_baseline(recording, session.analysis, baseline, base_session.analysis, side)
                        for side in session.sides if side in base_session.sides}
    pti = pti_table(session, sets)
    return Report(
        recording=recording, session=session, result=result, key_numbers=key_rows,
        quality=quality_rows(session, recording),
        methods=methods_text(session, params, result.reference_sets, recording, repeatability=mdc),
        clinic_references=clinic_refs, input=record,
        generated_at=generated_at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        baseline=base_session, baseline_input=base_record, baseline_not_judged=not_judged,
        baseline_result=base_result, changes=changes, baseline_speeds=speeds, clinic_test=clinic,
        stance_spm=stance_spm, baseline_spm=base_spm or {}, pti=pti,
        caveats=sensor_caveats(session, marked=_marked_measures(key_rows, pti, result.findings)),
        outside_rows=outside_without_finding(key_rows, result.findings, session, mdc, sets, params),
        repeatability=mdc,
    )


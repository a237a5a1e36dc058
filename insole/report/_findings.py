"""The findings engine: documented rules over the session's metrics, each with its frame of reference.

``evaluate(session)`` applies every rule and returns the findings it flags and,
for every rule it could not apply, the reason. Each rule is written down in
docs/report.md; in short:

Foot rules (one per code; the foot X is compared with the other foot):

==========================  =========================  ===========  =============================
code                        metric (mean over steps)   flagged if   default cut-off
==========================  =========================  ===========  =============================
pronated_loading            COP medial offset, %       X − other ≥  3 % of ball width
                            of ball width
supinated_loading           same                       other − X ≥  3 % of ball width
low_arch_loading            midfoot share              SI ≥         +30 %
high_arch_loading           midfoot share              SI ≤         −30 %
heel_avoidance              heel share                 SI ≤         −25 % (and forefoot+toes
                                                                    share higher on X)
reduced_hallux_loading      hallux share               SI ≤         −45 %
lesser_toe_offloading       lesser-toe share           SI ≤         −45 %
high_impact                 loading rate (BW/s)        SI ≥         +25 %
flattened_force_curve       valley / mean(F1, F2)      X − other ≥  0.10
==========================  =========================  ===========  =============================

and, for every foot rule: the difference must exceed 3 standard errors of the
step-to-step scatter, and, when a reference set exists for the insole layout,
foot X must lie in the reference set's extreme fifth in the rule's direction
(the quintile approach of the Framingham studies [13,16]); that is what tells
which foot departs from typical. With a baseline recording, the same cut-offs
apply to the change of foot X since the baseline.

Session rules: ``load_asymmetry`` (|SI| of impulse per step > 10 %, the
conventional, arbitrary cut-off [53], and with real controls beyond their
asymmetry of impulse, peak force and F1 taken together); ``antalgic_gait`` (stance-time SI
≤ −5 % and peak-force SI ≤ −10 % on the same foot); ``irregular_gait``
(stride-to-stride timing variability, the mean of the stride-time and
stance-time measures, ≥ 2 × the real controls' median, the ratio by which
Parkinson's and Huntington's groups exceeded controls [64]).

Confidence = the lower of the measurement confidence (data quality, number
of steps, what the reference is) and what the evidence grade allows.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from insole.analysis import symmetry_index_pct
from insole.report._evidence import (
    CONFIDENCE_LEVELS,
    FINDINGS,
    FindingSpec,
    grade_confidence,
    lower_confidence,
)
from insole.report._metrics import SessionMetrics, robust_cv_is_zero, timing_resolution_pct
from insole.report._model import SEVERITIES, Comparison, Finding, LinkedJoint, Measured
from insole.report._reference import (
    BODY_WEIGHT_METRICS,
    DIFF_METRICS,
    LR_INDEX_METRICS,
    SHARE_METRICS,
    JudgingFrame,
    ReferenceSet,
    Repeatability,
    body_weight_check,
    foot_metric_values,
    judging_frame,
    load_reference_sets,
    load_repeatability,
    reference_set_for,
    session_metric_values,
    timing_variability,
)
from insole.report._words import counted

__all__ = ["FindingParams", "FindingsResult", "NotAssessed", "evaluate", "FOOT_RULES", "CODES", "bilateral_limit",
           "OPPOSITE_RULES", "timing_controls", "irregular_limit",
           "variability_too_coarse", "speed_outside_controls", "SPEED_DEPENDENT", "foot_quality_reason", "step_welch_t"]

CODES: tuple[str, ...] = tuple(FINDINGS)
_OTHER = {"left": "right", "right": "left"}


@dataclass(frozen=True)
class FindingParams:
    """The cut-offs of the findings rules (docs/report.md says where each comes from).

    ``full_confidence_steps`` about 30 steps per foot are recommended for
    in-shoe pressure data [78]; fewer lower confidence, fewer than
    ``min_steps`` and a foot rule is not applied. ``min_variability_strides``
    at least ~20 strides for variability [77]. ``step_t_min`` the difference
    between feet (or sessions) must exceed this many standard errors of the
    step-to-step scatter. ``reference_quantile`` the extreme fraction of a
    simulated reference set a foot must lie in (a quintile [13,16]);
    ``real_reference_quantile`` the two-sided tail of healthy asymmetry with a
    real control set of the layout: the left/right index must lie beyond the
    controls' indices' mean ± z SD (z for this tail; the same for load
    asymmetry), and where a metric has no stored index, the foot beyond that
    percentile of the controls' feet. The rest are the
    rules' cut-offs: symmetry indices in %, COP offset in % of ball width,
    the valley ratio as a plain difference.
    """

    full_confidence_steps: int = 30
    min_steps: int = 10
    min_variability_strides: int = 20
    step_t_min: float = 3.0
    reference_quantile: float = 0.20
    real_reference_quantile: float = 0.01
    min_reference_people: int = 10
    cop_ml_diff_pct: float = 3.0
    midfoot_si_pct: float = 30.0
    heel_si_pct: float = 25.0
    toe_si_pct: float = 45.0
    loading_rate_si_pct: float = 25.0
    valley_ratio_diff: float = 0.10
    load_si_pct: float = 10.0
    antalgic_stance_si_pct: float = 5.0
    antalgic_peak_si_pct: float = 10.0
    irregular_factor: float = 2.0
    loading_rate_min_rate_hz: float = 200.0
    # stride-to-stride timing figures are judged (and irregular_gait applied) only when one sample interval adds at
    # most this much to them (``_metrics.timing_resolution_pct``: 50 x interval / median stride, %): half the real
    # controls' median timing variability (gaitpdb8 1.81 %, footswitch1 2.01 %, pooled 1.82 %), so the sampling
    # adds at most about an eighth to a control-typical figure (summed as variances: sqrt(1 + 0.5^2) = 1.12)
    variability_resolution_max_pct: float = 0.9

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class FootRule:
    """One foot rule: which metric, which direction, compared how, with which cut-off."""

    code: str
    metric: str
    label: str
    unit: str
    scale: float  # display factor (shares are stored 0-1, shown in %)
    direction: int  # +1 flagged when higher on the foot, -1 when lower
    compare: str  # "si": symmetry index in %; "diff": plain difference (display units)
    threshold: str  # name of the FindingParams field
    calibrated_only: bool = False
    needs_cop: bool = False
    region: str | None = None  # a region group the layout must have


FOOT_RULES: tuple[FootRule, ...] = (
    FootRule("pronated_loading", "cop_ml_pct", "Medial-lateral COP offset (+ medial)", "% ball width", 1.0, +1,
             "diff", "cop_ml_diff_pct", needs_cop=True),
    FootRule("supinated_loading", "cop_ml_pct", "Medial-lateral COP offset (+ medial)", "% ball width", 1.0, -1,
             "diff", "cop_ml_diff_pct", needs_cop=True),
    FootRule("low_arch_loading", "share_midfoot", "Midfoot share of stance load", "%", 100.0, +1, "si",
             "midfoot_si_pct", region="midfoot"),
    FootRule("high_arch_loading", "share_midfoot", "Midfoot share of stance load", "%", 100.0, -1, "si",
             "midfoot_si_pct", region="midfoot"),
    FootRule("heel_avoidance", "share_heel", "Heel share of stance load", "%", 100.0, -1, "si", "heel_si_pct",
             region="heel"),
    FootRule("reduced_hallux_loading", "share_hallux", "Hallux share of stance load", "%", 100.0, -1, "si",
             "toe_si_pct", region="hallux"),
    FootRule("lesser_toe_offloading", "share_lesser_toes", "Lesser-toe share of stance load", "%", 100.0, -1,
             "si", "toe_si_pct", region="lesser_toes"),
    FootRule("high_impact", "loading_rate_bw_s", "Loading rate, 20–80% of the first peak", "BW/s", 1.0, +1,
             "si", "loading_rate_si_pct", calibrated_only=True),
    FootRule("flattened_force_curve", "valley_ratio", "Valley ratio (valley / mean of the two peaks)", "", 1.0,
             +1, "diff", "valley_ratio_diff", calibrated_only=True),
)


@dataclass(frozen=True)
class NotAssessed:
    """A rule that could not be applied, and why (shown in the report, never hidden)."""

    code: str
    side: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "side": self.side, "reason": self.reason}


@dataclass(frozen=True)
class FindingsResult:
    findings: tuple[Finding, ...]
    not_assessed: tuple[NotAssessed, ...]
    params: FindingParams
    reference_sets: tuple[ReferenceSet, ...] = ()
    measurement: Mapping[str, Any] = field(default_factory=dict)
    # what the walk was judged against (``judging_frame``): every set, the MDC95s and the norms, each without this
    # walk's person when it is one of theirs; the report's key numbers, tables and methods read the same frame
    frame: JudgingFrame | None = None

    def codes(self) -> set[tuple[str, str]]:
        return {(f.code, f.side) for f in self.findings}

    def at_least(self, level: str) -> tuple[Finding, ...]:
        floor = CONFIDENCE_LEVELS.index(level)
        return tuple(f for f in self.findings if CONFIDENCE_LEVELS.index(f.confidence) >= floor)


# ---------------------------------------------------------------- helpers


def _mean_sd(values: np.ndarray) -> tuple[float, float, int]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan, 0
    sd = float(values.std(ddof=1)) if values.size > 1 else math.nan
    return float(values.mean()), sd, int(values.size)


def _si(this: float, other: float) -> float:
    """Symmetry index (%) of this foot against the other (``insole.analysis.symmetry_index_pct``)."""
    return symmetry_index_pct(this, other)


def _t(a: tuple[float, float, int], b: tuple[float, float, int]) -> float:
    """Welch's t of two means from (mean, sd, n) (``_mean_sd``): NaN under 2 values on either side; when neither
    has any scatter, infinite with the sign of the difference (0 for equal means)."""
    (ma, sa, na), (mb, sb, nb) = a, b
    if na < 2 or nb < 2:
        return math.nan
    se = math.sqrt(sa * sa / na + sb * sb / nb)
    if se == 0:
        return math.copysign(math.inf, ma - mb) if ma != mb else 0.0
    return (ma - mb) / se


def step_welch_t(this: Any, other: Any) -> float:
    """Welch's t of one set of step values against another (NaN values left out): the step-scatter condition of
    the rules (a foot against the other foot or against the baseline must reach ``FindingParams.step_t_min``).
    The one computation the rules use (``_t`` of ``_mean_sd``), named for the findings validation
    (docs/scripts/validate_findings.py), which quotes it beside each change it makes."""
    return _t(_mean_sd(np.asarray(this, dtype=np.float64)), _mean_sd(np.asarray(other, dtype=np.float64)))


@functools.lru_cache(maxsize=256)
def prediction_sd(tail_q: float, people: int, fitted: int = 0, mean_estimated: bool = False) -> float:
    """How many SD of ``people`` healthy controls' spread a limit must lie at so that one new healthy person goes
    past it (either way) with probability ``tail_q`` only: a prediction limit, Student's t with ``people -
    fitted`` degrees of freedom. ``fitted``: what the same people's values were also used to fit besides the
    spread (0 for mirrored left/right differences, whose mean is 0 by construction; k - 1 for a direction among k
    indices). ``mean_estimated``: the limit is mean ± this x SD around the controls' own mean, so t has one degree
    of freedom less and the mean's uncertainty widens it by sqrt(1 + 1/n).

    The normal quantile would hold only for a spread known exactly. From the spread of 36 people it lets 0.8 % of
    healthy people past a limit meant for 0.5 % (t 2.99 against z 2.81), from 9 people 2 %: the limit must
    widen with fewer controls. Infinite (nothing flags) with no degree of freedom left."""
    from scipy.special import stdtrit  # (the report imports scipy for its SPM already; kept off the module's import)

    df = people - fitted - (1 if mean_estimated else 0)
    if df < 1:
        return math.inf
    widen = math.sqrt(1.0 + 1.0 / people) if mean_estimated else 1.0
    return float(stdtrit(df, 1.0 - tail_q / 2.0)) * widen


def _healthy_limit(differences: Sequence[float], tail_q: float) -> tuple[float, float]:
    """The two-sided limit of healthy left/right differences, and the SD multiple it lies at: ``prediction_sd``
    of the controls counted x the RMS of their differences mirrored (each counted as it is and with the feet
    swapped, so that left and right count alike: mean 0)."""
    values = np.asarray(differences, float)
    values = values[np.isfinite(values)]
    if not values.size:
        return math.inf, math.inf
    z = prediction_sd(tail_q, int(values.size))
    return z * float(np.sqrt(np.mean(values ** 2))), z


def _given_other_foot(pairs: np.ndarray, this: float, other: float) -> tuple[float, float, float, float]:
    """How far ``this`` foot lies from what healthy people's other foot predicts of it, in SD.

    ``pairs`` are the real controls' (left, right) values, one row per person, counted both ways round so that
    left and right count alike. From their joint spread, a foot whose partner reads ``other`` is expected at
    mean + slope x (other - mean), with the residual SD of that regression. Returns (z, expected, residual SD,
    slope). A change of one foot by d moves this z by d / residual SD, more than it moves the left/right
    difference in its own SD whenever a person's feet are less than perfectly alike (and more than it moves the
    foot's level against the population's feet): the one-foot comparison the controls' data allow.
    """
    both = np.vstack([pairs, pairs[:, ::-1]])
    mean = float(both[:, 0].mean())
    cov = np.cov(both.T, ddof=1)
    slope = float(cov[0, 1] / cov[1, 1]) if cov[1, 1] > 0 else 0.0
    residual_sd = math.sqrt(max(float(cov[0, 0] - slope * cov[0, 1]), 1e-12))
    expected = mean + slope * (other - mean)
    return (this - expected) / residual_sd, expected, residual_sd, slope


def _given_other_limit(pairs: np.ndarray, tail_q: float) -> float:
    """The limit of ``_given_other_foot``'s z for one new healthy person (two-sided, ``tail_q``): Student's t with
    n - 2 degrees of freedom, for a line fitted to n people's two feet. The line is fitted to both feet of each
    person counted both ways round (2n points, n people's worth of information): a simulation of healthy pairs
    drawn from the gaitpdb8 controls' spread (correlation 0 to 0.9, 37 people) flagged 0.91-1.03 % at a 1 % tail
    with this limit, 0.76-0.83 % when it was also widened for the line's uncertainty counted in people."""
    return prediction_sd(tail_q, int(pairs.shape[0]), fitted=2)


def _pattern_limit(vectors: np.ndarray, observed: np.ndarray, direction: np.ndarray, tail_q: float) -> float:
    """The limit of ``_pattern_z`` for one new healthy person at ``observed`` (two-sided, ``tail_q``).

    The direction's weights S^-1 p come from the n controls' covariance of k indices, estimated: along it the
    spread has n - k + 1 degrees of freedom (``_pattern_z`` divides by n), and the weights' own error adds to the
    new person's, the more the further ``observed`` lies from the controls in the other directions. So the limit
    is t(n - k + 1) x sqrt(n / (n - k + 1) x (1 + q)), q = (x' S^-1 x - u^2) / n; one index (k = 1, q = 0) gives the
    mirrored spread's t(n). A seeded simulation of healthy people drawn from the gaitpdb8 controls' covariance
    (37 people, 3 indices, 200,000 draws) flagged 1.03 % at a 1 % tail with it; t(n - k + 1) alone 1.47 %, the
    normal quantile 2.05 %."""
    n, k = vectors.shape
    if n - k + 1 < 1:
        return math.inf
    both = np.vstack([vectors, -vectors])
    cov = both.T @ both / both.shape[0]
    weights = np.linalg.solve(cov, direction)
    u = float(weights @ observed / math.sqrt(float(direction @ weights)))
    q = max(float(observed @ np.linalg.solve(cov, observed)) - u * u, 0.0) / n
    return _pattern_limit_of(n, k, q, tail_q)


def _pattern_limit_of(n: int, k: int, q: float, tail_q: float) -> float:
    """``_pattern_limit``'s t(n - k + 1) x sqrt(n / (n - k + 1) x (1 + q)) for n controls, k indices and the walk's
    q (0: a walk at the controls' centre in the other directions, the least limit)."""
    df = n - k + 1
    return prediction_sd(tail_q, n, fitted=k - 1) * math.sqrt(n / df * (1.0 + q)) if df >= 1 else math.inf


def _pattern_z(vectors: np.ndarray, observed: np.ndarray, direction: np.ndarray) -> float:
    """The projection of ``observed`` on ``direction``, in SD of the controls' ``vectors`` along it, scaled by
    their covariance (each row counted also with the opposite sign: left and right count alike, mean 0):
    ``p' S^-1 x / sqrt(p' S^-1 p)``, standard normal for healthy people when the spread is normal."""
    both = np.vstack([vectors, -vectors])
    cov = both.T @ both / both.shape[0]
    weights = np.linalg.solve(cov, direction)
    return float(weights @ observed / math.sqrt(float(direction @ weights)))


def _severity(ratio: float) -> str:
    """How far past the cut-off: under 1.5 x mild, under 2.5 x moderate, beyond marked."""
    if ratio < 1.5:
        return "mild"
    if ratio < 2.5:
        return "moderate"
    return "marked"


def _fmt(value: float, unit: str, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}f}"
    if unit in ("%", "% ball width"):
        return f"{text}{'%' if unit == '%' else ' % of ball width'}"
    return f"{text} {unit}".strip()


def _steps_confidence(n_steps: int, params: FindingParams, side: str) -> tuple[str, str | None]:
    if n_steps >= params.full_confidence_steps:
        return "high", None
    level = "moderate" if n_steps >= params.full_confidence_steps // 2 else "low"
    return level, (f"only {counted(n_steps, 'step')} on the {side} foot (about {params.full_confidence_steps} per "
                   f"foot are recommended [78]): confidence lowered")


_QUALITY_LEVEL = {"good": "high", "fair": "moderate", "poor": "low"}


def foot_quality_reason(side: str, quality: str, notes: Sequence[str]) -> str:
    """The confidence reason a foot's data quality gives (the report's shared-limits block rebuilds it to say a
    note common to both feet once, ``_build.findings_limits``)."""
    return f"{side} foot data quality {quality} ({'; '.join(notes) or 'see data quality'})"


def _foot_quality(session: SessionMetrics, side: str) -> tuple[str, str | None]:
    foot = session.feet[side]  # a side of the session's (every caller iterates session.sides)
    level = _QUALITY_LEVEL.get(foot.quality, "low")
    if level == "high":
        return level, None
    return level, foot_quality_reason(side, foot.quality, foot.quality_notes)


def _joints(spec: FindingSpec, side: str, drawn: bool = True) -> tuple[LinkedJoint, ...]:
    """The finding's joint associations resolved to a leg: the drawn ones (positive, on the study's measure or a
    validated proxy, grade capped), or (``drawn=False``) the ones listed but never drawn, with why."""
    out = []
    for link in spec.links:
        if link.drawn != drawn:
            continue
        if link.joint in ("low_back", "whole_body"):
            resolved = "midline"
        elif side not in ("left", "right") or link.side == "both":
            resolved = "both"
        elif link.side == "other":
            resolved = _OTHER[side]
        else:
            resolved = side
        out.append(LinkedJoint(link.joint, resolved, link.drawn_grade if drawn else link.grade, link.statement,
                               link.references, link.association, link.study_measure, link.measure_match,
                               link.why_not_drawn))
    return tuple(out)


def _finish(spec: FindingSpec, side: str, severity: str, measurement: str, reasons: list[str],
            measured: Measured, reference: Comparison, comparisons: Sequence[Comparison], statement: str,
            notes: Sequence[str] = ()) -> Finding:
    evidence_cap = grade_confidence(spec.grade)
    confidence = lower_confidence(measurement, evidence_cap)
    reasons = list(reasons)
    if CONFIDENCE_LEVELS.index(evidence_cap) < CONFIDENCE_LEVELS.index(measurement):
        reasons.append(f"evidence grade {spec.grade.replace('_', '-')} limits confidence to "
                       f"{evidence_cap.replace('_', ' ')}")
    # severity never says more than the confidence supports: "marked" needs high confidence, "moderate" at least
    # moderate; below that a finding is at most mild
    allowed = {"very_low": "mild", "low": "mild", "moderate": "moderate", "high": "marked"}[confidence]
    if SEVERITIES.index(severity) > SEVERITIES.index(allowed):
        reasons.append(f"severity capped at {allowed} by the {confidence.replace('_', ' ')} confidence "
                       f"(by the cut-off alone it would be {severity})")
        severity = allowed
    refs = tuple(sorted(set(spec.all_references)))
    return Finding(
        code=spec.code, title=spec.title, side=side, severity=severity, confidence=confidence,
        measurement_confidence=measurement, confidence_reasons=tuple(reasons), evidence_grade=spec.grade,
        measured=measured, reference=reference, comparisons=tuple(comparisons), statement=statement,
        consistent_with=spec.consistent_with, mechanism=spec.mechanism, joints=_joints(spec, side),
        references=refs, notes=tuple(notes), not_drawn=_joints(spec, side, drawn=False),
    )


# ---------------------------------------------------------------- foot rules


def _deviation(rule: FootRule, this: float, other: float) -> float:
    if rule.compare == "si":
        return _si(this, other)
    return (this - other) * rule.scale


def rule_unavailable(rule: FootRule, session: SessionMetrics) -> str:
    """Why the recording's units or sensor layout rule ``rule`` out, whatever the walk ("" when they do not)."""
    if rule.calibrated_only and session.force_unit != "BW":
        return ("needs forces calibrated to body weight; this recording is in arbitrary units (uncalibrated sensors "
                "are not linear in force)")
    if rule.needs_cop and not session.cop_ml_ok:
        return ("the sensor layout lacks medial and lateral sensors at both heel and forefoot, which medial-lateral "
                "COP needs")
    if rule.region and not session.layout.region_mask(rule.region).any():
        return f"the sensor layout has no {rule.region.replace('_', ' ')} sensor"
    return ""


def _foot_rule(rule: FootRule, session: SessionMetrics, side: str, params: FindingParams,
               reference: ReferenceSet | None, baseline: SessionMetrics | None,
               values: Mapping[str, Mapping[str, np.ndarray]],
               baseline_values: Mapping[str, Mapping[str, np.ndarray]],
               repeatability: Repeatability | None = None) -> Finding | NotAssessed | None:
    spec = FINDINGS[rule.code]
    threshold = float(getattr(params, rule.threshold))
    other_side = _OTHER[side]
    foot = session.feet[side]  # evaluate() passes the session's own sides
    unavailable = rule_unavailable(rule, session)
    if unavailable:
        return NotAssessed(rule.code, side, unavailable)
    if foot.n_steps < params.min_steps:
        return NotAssessed(rule.code, side, f"only {foot.n_steps} usable steps on the {side} foot "
                                            f"(at least {params.min_steps} needed)")
    this = _mean_sd(values[side].get(rule.metric, np.zeros(0)))
    if this[2] < params.min_steps:
        return NotAssessed(rule.code, side, f"{rule.label.lower()} not available for the {side} foot")

    comparisons: list[Comparison] = []
    flagged_by: list[tuple[str, float]] = []  # (frame, deviation)
    other = None
    other_foot = session.foot(other_side)
    # a regional share with a real control set of the layout: the fixed cut-off gives way to the controls' own
    # healthy left/right differences, judged both relatively (symmetry index) and absolutely (share points),
    # below in the reference frame
    # (the medial-lateral COP offset, a signed position, absolutely only)
    healthy_limits = (rule.metric in DIFF_METRICS and reference is not None and reference.kind == "real"
                      and reference.session_metric(f"diff_{rule.metric}") is not None
                      and (rule.metric not in SHARE_METRICS
                           or reference.session_metric(f"si_{rule.metric}") is not None))
    if other_foot is not None and other_foot.n_steps >= params.min_steps:
        other = _mean_sd(values[other_side].get(rule.metric, np.zeros(0)))
        if other[2] >= params.min_steps:
            deviation = _deviation(rule, this[0], other[0])
            t = _t(this, other)
            beyond_cut_off = healthy_limits or rule.direction * deviation >= threshold
            passed = beyond_cut_off and math.isfinite(t) and rule.direction * t >= params.step_t_min
            # the left/right index must also exceed its own day-to-day repeatability (MDC95)
            lr_mdc = repeatability.lr_mdc(rule.metric) if repeatability is not None else None
            lr_si = _si(this[0], other[0])
            mdc_text = ""
            if lr_mdc is not None:
                passed = passed and abs(lr_si) > lr_mdc
                mdc_text = (f"; left/right index {lr_si:+.1f}% against its MDC95 {lr_mdc:.1f}% "
                            f"({repeatability.description})" if repeatability is not None else "")
            diff_mdc = (repeatability.session_mdc(f"diff_{rule.metric}")
                        if repeatability is not None and rule.metric not in LR_INDEX_METRICS else None)
            if diff_mdc is not None and repeatability is not None:
                # a measure without a symmetry index (the COP offset): its left/right difference against its MDC95
                passed = passed and abs(this[0] - other[0]) > diff_mdc
                mdc_text = (f"; left/right difference {(this[0] - other[0]) * rule.scale:+.1f} {rule.unit} against "
                            f"its MDC95 {diff_mdc * rule.scale:.1f} ({repeatability.description})")
            if rule.code == "heel_avoidance" and passed:
                # the load left the heel for the front of the foot, not only for the arch: the forefoot and toes'
                # share must not be lower on this foot (beyond the repeatability of its left/right index, when
                # known: feet differ in front share by up to about 10 points in healthy people)
                front_this = _mean_sd(values[side]["share_front"])[0]
                front_other = _mean_sd(values[other_side]["share_front"])[0]
                front_mdc = repeatability.lr_mdc("share_front") if repeatability is not None else None
                passed = (_si(front_this, front_other) > -front_mdc if front_mdc is not None
                          else front_this > front_other)
            cut_off_text = ("the real controls' healthy limits (below)" if healthy_limits else
                            f"{'+' if rule.direction > 0 else '−'}{threshold:g}{'%' if rule.compare == 'si' else ''}")
            comparisons.append(Comparison(
                frame="other_foot",
                description=(f"{other_side} foot {_fmt(other[0] * rule.scale, rule.unit, 2)}; "
                             f"{'symmetry index' if rule.compare == 'si' else 'difference'} "
                             f"{deviation:+.1f}{'%' if rule.compare == 'si' else ''}, flagged beyond "
                             f"{cut_off_text} and ≥ {params.step_t_min:g} standard errors "
                             f"(t = {t:+.1f}){mdc_text}"),
                value=other[0] * rule.scale, limit=threshold * rule.direction, passed=bool(passed),
                source_kind="this recording", n=other[2]))
            if passed:
                flagged_by.append(("other_foot", deviation))
        else:
            other = None
    if baseline is not None and baseline.foot(side) is not None:
        base = _mean_sd(baseline_values[side].get(rule.metric, np.zeros(0)))
        if base[2] >= params.min_steps:
            deviation = _deviation(rule, this[0], base[0])
            t = _t(this, base)
            mdc = repeatability.foot_mdc(rule.metric) if repeatability is not None else None
            if mdc is not None:
                # a change is judged by the measured day-to-day repeatability, not by within-session scatter
                change = this[0] - base[0]
                passed = rule.direction * deviation >= threshold and rule.direction * change > mdc
                judged = (f"change {change * rule.scale:+.2f} against the MDC95 {mdc * rule.scale:.2f} "
                          f"{rule.unit} ({repeatability.description if repeatability else ''})")
            else:
                passed = (rule.direction * deviation >= threshold and math.isfinite(t)
                          and rule.direction * t >= params.step_t_min)
                judged = (f"t = {t:+.1f}; no measured repeatability for layout {session.layout.name}, so judged "
                          f"against step-to-step scatter")
            comparisons.append(Comparison(
                frame="baseline",
                description=(f"baseline {side} foot {_fmt(base[0] * rule.scale, rule.unit, 2)}; change "
                             f"{deviation:+.1f}{'%' if rule.compare == 'si' else ''} ({judged})"),
                value=base[0] * rule.scale, limit=threshold * rule.direction, passed=bool(passed),
                source_kind="baseline recording", n=base[2]))
            if passed:
                flagged_by.append(("baseline", deviation))
    if other is None and not any(c.frame == "baseline" for c in comparisons):
        return NotAssessed(rule.code, side, "no other foot and no baseline to compare with")
    if not flagged_by:
        return None

    reasons: list[str] = []
    notes: list[str] = []
    measurement = "high"
    level, why = _foot_quality(session, side)
    measurement = lower_confidence(measurement, level)
    reasons += [why] if why else []
    level, why = _steps_confidence(foot.n_steps, params, side)
    measurement = lower_confidence(measurement, level)
    reasons += [why] if why else []
    if session.layout.approximate and rule.region or session.layout.approximate and rule.needs_cop:
        measurement = lower_confidence(measurement, "moderate")
        reasons.append(f"sensor positions of layout {session.layout.name} are approximate")
    if rule.code == "high_impact" and session.sample_rate_hz < params.loading_rate_min_rate_hz:
        measurement = lower_confidence(measurement, "low")
        reasons.append(f"loading rate sampled at {session.sample_rate_hz:g} Hz (under "
                       f"{params.loading_rate_min_rate_hz:g} Hz the heel-strike rise is smoothed)")
    if rule.code == "high_impact" and session.body_weight_source == "estimated":
        notes.append("body weight estimated from the recording's own load (no body mass given)")

    only_contralateral = [f for f, _ in flagged_by] == ["other_foot"]
    healthy_ratio: float | None = None  # how far past the healthy left/right limit (regional shares, real controls)
    given_other_z: float | None = None  # this foot against what the other predicts of it (COP offset, real controls)
    dist = reference.foot_metric(rule.metric) if reference is not None else None
    if reference is not None and dist is not None:
        # each foot's departure from the controls' median in the rule's direction (the other foot's the other way),
        # in the controls' spread on its side of the median, so that the two feet compare on a skewed measure
        this_departure = _signed_departure(this[0], dist, rule.direction)
        other_departure = _signed_departure(other[0], dist, -rule.direction) if other is not None else -math.inf
        lr = reference.session_metric(f"si_{rule.metric}") if reference.kind == "real" else None
        diff = reference.session_metric(f"diff_{rule.metric}") if healthy_limits else None
        if diff is not None and other is not None:
            # against real controls: the difference between the feet must lie beyond the controls' healthy
            # left/right differences, absolutely (in the metric's units: share points, % of ball width) or, for a
            # share, relatively (symmetry index), each the two-sided z interval of the controls' mirrored
            # differences (the data-driven limit the evidence base asks for [53]); and this foot must be on the
            # rule's side of the controls' median
            # two criteria (a share's absolute and relative difference), either of which flags: each at half the
            # tail (Bonferroni), so that together they flag no more healthy feet than one criterion would
            tail_q = params.real_reference_quantile / (2 if lr is not None else 1)
            diff_limit, z = _healthy_limit(diff.values, tail_q)
            points = this[0] - other[0]
            absolute = rule.direction * points > diff_limit
            healthy_ratio = rule.direction * points / diff_limit
            unit = "points" if rule.metric in SHARE_METRICS else rule.unit
            limits_text = f"±{diff_limit * rule.scale:.1f} {unit}"
            here_text = f"{points * rule.scale:+.1f} {unit}"
            pairs = reference.foot_pairs(rule.metric) if lr is None else np.zeros((0, 2))
            if pairs.shape[0] >= params.min_reference_people:
                # a measure without a relative criterion (the COP offset): this foot against what the other foot
                # predicts of it in healthy people (the controls' two feet per person), rather than the plain
                # difference, which counts the other foot's own scatter in full
                given_other_z, expected, residual_sd, slope = _given_other_foot(pairs, this[0], other[0])
                z = _given_other_limit(pairs, tail_q)
                absolute = rule.direction * given_other_z > z
                healthy_ratio = rule.direction * given_other_z / z
                limits_text = (f"a healthy {side} foot whose partner reads {_fmt(other[0] * rule.scale, rule.unit, 1)} "
                               f"lies at {_fmt(expected * rule.scale, rule.unit, 1)}, SD "
                               f"{residual_sd * rule.scale:.1f} (the regression of one foot on the other over "
                               f"{pairs.shape[0]} people's two feet, slope {slope:.2f}), flagged beyond ± {z:.2f} SD "
                               f"(where one new healthy person lies but for {tail_q:.2%}: Student's t with "
                               f"{pairs.shape[0] - 2} degrees of freedom)")
                here_text = f"the {side} foot lies {given_other_z:+.2f} SD from that"
            relative = False
            z_lr = None
            if lr is not None:
                lr_limit, z_lr = _healthy_limit(lr.values, tail_q)
                lr_si = _si(this[0], other[0])
                relative = rule.direction * lr_si > lr_limit
                healthy_ratio = max(healthy_ratio, rule.direction * lr_si / lr_limit)
                limits_text = f"±{lr_limit:.1f}% (symmetry index) and {limits_text}"
                here_text = (f"{lr_si:+.1f}% and {here_text} ({'beyond' if relative else 'within'} the first, "
                             f"{'beyond' if absolute else 'within'} the second: one beyond is enough)")
            inside = (relative or absolute) and this_departure > 0
            both_z = f"{z:.2f}" if z_lr is None or f"{z_lr:.2f}" == f"{z:.2f}" else f"{z_lr:.2f} and {z:.2f}"
            what = (limits_text if given_other_z is not None else
                    f"healthy left/right differences of this measure within {limits_text} (mean ± {both_z} SD, "
                    f"where one new healthy person lies but for {tail_q:.2%}, from {diff.n_people} controls: "
                    f"Student's t)")
            description = (f"{reference.name} ({reference.source_kind}, {diff.n} people): {what}; here "
                           f"{here_text}; median {_fmt(dist.median * rule.scale, rule.unit, 2)} ({dist.n} feet), "
                           f"the {side} foot {_fmt(this[0] * rule.scale, rule.unit, 2)} must lie "
                           f"{'above' if rule.direction > 0 else 'below'} it")
            limit = dist.median
        elif lr is not None and other is not None:
            # real controls: the left/right index must lie beyond healthy asymmetry (the controls' indices,
            # mirrored so that left and right count alike: mean ± z SD, z for the two-sided tail), the data-driven
            # limit the evidence base asks for [53]; and this foot, not the other, must be the one that departs
            # from the controls' median in the rule's direction
            lr_limit, z = _healthy_limit(lr.values, params.real_reference_quantile)
            lr_si = _si(this[0], other[0])
            inside = (rule.direction * lr_si > lr_limit and this_departure > 0
                      and _departs_further(this_departure, other_departure))
            description = (f"{reference.name} ({reference.source_kind}, {lr.n} people): healthy left/right index "
                           f"of this measure within ±{lr_limit:.1f}% (mean ± {z:.2f} SD, Student's t for "
                           f"{lr.n_people} people); here {lr_si:+.1f}%; "
                           f"median {_fmt(dist.median * rule.scale, rule.unit, 2)} ({dist.n} feet), the {side} foot "
                           f"{_fmt(this[0] * rule.scale, rule.unit, 2)} must depart from it in the rule's direction "
                           f"further than the other foot departs the other way (each in the controls' spread on "
                           f"its side of the median)")
            limit = dist.median
        else:
            q = params.real_reference_quantile if reference.kind == "real" else params.reference_quantile
            limit = dist.quantile(1 - q if rule.direction > 0 else q)
            tail = ("beyond the " + ("99th" if rule.direction > 0 else "1st") + " percentile"
                    if reference.kind == "real" else f"in the {'top' if rule.direction > 0 else 'bottom'} fifth")
            inside = rule.direction * (this[0] - limit) >= 0
            if other is not None:
                # and this foot departs from the reference median further than the other foot does the other
                # way: when one foot is atypical, the typical one differs from it too, and must not be flagged
                inside = inside and _departs_further(this_departure, other_departure)
            description = (f"{reference.name} ({reference.source_kind}, {dist.n} feet): median "
                           f"{_fmt(dist.median * rule.scale, rule.unit, 2)}, middle 95% "
                           f"{_fmt(dist.quantile(0.025) * rule.scale, rule.unit, 2)} to "
                           f"{_fmt(dist.quantile(0.975) * rule.scale, rule.unit, 2)}; the {side} foot must lie "
                           f"{tail}, {'above' if rule.direction > 0 else 'below'} "
                           f"{_fmt(limit * rule.scale, rule.unit, 2)}, and depart from the median further than the "
                           f"other foot departs the other way (each in the controls' spread on its side of the "
                           f"median)")
        comparisons.append(Comparison(
            frame="reference_set", description=description,
            value=dist.median * rule.scale, limit=limit * rule.scale, passed=bool(inside),
            source_kind=reference.source_kind, source=reference.description, n=dist.n,
            range_low=dist.quantile(0.025) * rule.scale, range_high=dist.quantile(0.975) * rule.scale))
        if only_contralateral and not inside:
            return None  # the other foot is the one that departs from typical (or neither does)
        if reference.kind != "real":
            measurement = lower_confidence(measurement, "moderate")
            reasons.append("which foot departs from typical was judged against simulated walking, not real people")
    elif only_contralateral:
        measurement = lower_confidence(measurement, "low")
        reasons.append("no reference set for this sensor layout")
        notes.append("Compared with the other foot only: without a reference set for this insole layout it "
                     "cannot be told which foot departs from typical; the other foot may be the one that differs.")

    # the baseline is the more specific frame: the same foot, the same insole, earlier
    frame, deviation = next(((f, d) for f, d in flagged_by if f == "baseline"), flagged_by[0])
    primary = next(c for c in comparisons if c.frame == frame)
    ratio = (healthy_ratio if healthy_ratio is not None and frame == "other_foot"
             else rule.direction * deviation / threshold)
    value = this[0] * rule.scale
    measured = Measured(
        metric=rule.metric, label=rule.label, unit=rule.unit, value=value,
        other_value=other[0] * rule.scale if other else None,
        difference=(this[0] - other[0]) * rule.scale if other else None,
        symmetry_index_pct=_si(this[0], other[0]) if other and rule.compare == "si" else None,  # signed: R-L only
        sd=this[1] * rule.scale if math.isfinite(this[1]) else None, n_steps=this[2],
        extra={} if given_other_z is None else {"z_given_other_foot": given_other_z},
    )
    against = "the other foot" if frame == "other_foot" else "the baseline recording"
    compared = (f"{rule.label} on the {side} foot was {_fmt(value, rule.unit, 2)}"
                + (f" vs {_fmt(other[0] * rule.scale, rule.unit, 2)} on the {other_side}" if other else "")
                + f" ({'symmetry index' if rule.compare == 'si' else 'difference'} against {against} "
                f"{deviation:+.1f}{'%' if rule.compare == 'si' else ''}; "
                + ("flagged beyond where a healthy foot lies given its partner, in real controls of this insole "
                   "layout)." if given_other_z is not None and frame == "other_foot" else
                   "flagged beyond the healthy left/right differences of real controls of this insole layout)."
                   if healthy_ratio is not None and frame == "other_foot" else
                   f"flagged at {'+' if rule.direction > 0 else '−'}{threshold:g}"
                   f"{'%' if rule.compare == 'si' else ''}, a cut-off without a validated clinical basis)."))
    statement = f"{compared} This loading pattern is consistent with {spec.consistent_with}."
    return _finish(spec, side, _severity(ratio), measurement, reasons, measured, primary, comparisons,
                   statement, notes)


# ---------------------------------------------------------------- session rules


# Metrics whose level depends on walking speed: a level judged against controls needs the speed to match.
SPEED_DEPENDENT_METRICS: tuple[str, ...] = ("valley_ratio", "loading_rate_bw_s", "f1", "stance_pct")


def bilateral_limit(dist: Any, direction: int, params: FindingParams) -> tuple[float, str] | None:
    """The level both feet must pass for a bilateral finding in ``direction``, and what it is: the controls' 1st
    (99th) percentile of feet, or, when further out, the end of the range the key numbers judge a foot by
    (``MetricDistribution.judging_range``: the lowest or highest control foot, or the 95 % prediction interval under
    20 people), so that a foot the finding calls beyond the controls is marked so in the key numbers too. None when
    the key numbers give no range."""
    judged = dist.judging_range()
    if judged is None:
        return None
    q = params.real_reference_quantile
    limit = dist.quantile(1 - q if direction > 0 else q)
    named = f"{'99th' if direction > 0 else '1st'} percentile of the real controls' feet"
    edge = judged[1] if direction > 0 else judged[0]
    if direction * (edge - limit) > 0:
        limit = edge
        if judged[2] == "range":
            named = f"{'highest' if direction > 0 else 'lowest'} of the real controls' feet"
        else:
            named = f"{'upper' if direction > 0 else 'lower'} end of the real controls' 95% prediction interval"
    return limit, named


def _bilateral(rule: FootRule, session: SessionMetrics, params: FindingParams, reference: ReferenceSet | None,
               values: Mapping[str, Mapping[str, np.ndarray]]) -> Finding | None:
    """Both feet beyond the real controls' feet in the rule's direction: a bilateral departure, which no
    comparison between the feet can show (e.g. less heel load on both feet, as with a reduced heel strike)."""
    spec = FINDINGS[rule.code]
    if reference is None or reference.kind != "real" or set(session.sides) != {"left", "right"}:
        return None
    dist = reference.foot_metric(rule.metric)
    if dist is None or (rule.calibrated_only and session.force_unit != "BW"):
        return None
    if rule.needs_cop and not session.cop_ml_ok:
        return None
    if rule.metric in BODY_WEIGHT_METRICS and (not body_weight_check(session)[1]
                                               or session.body_weight_source == "estimated"):
        # the level in body weights is in doubt when the insoles' load contradicts the body mass, and unknown when
        # the body weight was estimated from the walk's own load (no mass given): the controls' is from their mass
        return None
    if rule.metric in SPEED_DEPENDENT_METRICS:
        # the force curve changes with walking speed (evidence base [82]; in the 37 people of real-controls-gaitpdb8
        # the valley ratio, each person's mean of the two feet, falls with speed, Spearman rho -0.84): its level is
        # judged only at a known speed the controls cover
        speeds = [float(r["gait_speed_m_per_s"]) for r in reference.recordings
                  if r.get("gait_speed_m_per_s") is not None]
        speed = session.walking_speed_m_s
        if speed is None or len(speeds) < 3 or not min(speeds) <= speed <= max(speeds):
            return None
    bounded = bilateral_limit(dist, rule.direction, params)
    if bounded is None:
        return None
    limit, percentile = bounded
    feet = {s: _mean_sd(values[s].get(rule.metric, np.zeros(0))) for s in ("left", "right")}
    if any(f[2] < params.min_steps or session.feet[s].n_steps < params.min_steps for s, f in feet.items()):
        return None
    if not all(rule.direction * (f[0] - limit) > 0 for f in feet.values()):
        return None
    left, right = feet["left"], feet["right"]
    comparison = Comparison(
        frame="reference_set",
        description=(f"{reference.name} ({reference.source_kind}, {dist.n} feet): "
                     f"{percentile} {_fmt(limit * rule.scale, rule.unit, 2)}"
                     f", median {_fmt(dist.median * rule.scale, rule.unit, 2)}; both feet lie beyond it "
                     f"(left {_fmt(left[0] * rule.scale, rule.unit, 2)}, right "
                     f"{_fmt(right[0] * rule.scale, rule.unit, 2)})"),
        value=dist.median * rule.scale, limit=limit * rule.scale, passed=True, source_kind=reference.source_kind,
        source=reference.description, n=dist.n, range_low=dist.quantile(0.025) * rule.scale,
        range_high=dist.quantile(0.975) * rule.scale)
    measurement, reasons = "high", []
    for side in ("left", "right"):
        for level, why in (_foot_quality(session, side), _steps_confidence(session.feet[side].n_steps, params, side)):
            measurement = lower_confidence(measurement, level)
            reasons += [why] if why else []
    if session.layout.approximate and (rule.region or rule.needs_cop):
        measurement = lower_confidence(measurement, "moderate")
        reasons.append(f"sensor positions of layout {session.layout.name} are approximate")
    mean = 0.5 * (left[0] + right[0])
    measured = Measured(metric=rule.metric, label=rule.label, unit=rule.unit, value=mean * rule.scale,
                        other_value=None, sd=None, n_steps=min(left[2], right[2]),
                        extra={"left": left[0] * rule.scale, "right": right[0] * rule.scale})
    statement = (f"{rule.label} was {_fmt(left[0] * rule.scale, rule.unit, 2)} on the left and "
                 f"{_fmt(right[0] * rule.scale, rule.unit, 2)} on the right, both "
                 f"{'above' if rule.direction > 0 else 'below'} the {percentile} "
                 f"({_fmt(limit * rule.scale, rule.unit, 2)}): a departure "
                 f"of both feet, which the comparison between the feet cannot show. This loading pattern is "
                 f"consistent with {spec.consistent_with}.")
    spread = max(float(np.std(dist.values)), 1e-12)
    ratio = 1.0 + min(abs(left[0] - limit), abs(right[0] - limit)) / spread
    return _finish(spec, "both", _severity(ratio), measurement, reasons, measured, comparison, [comparison],
                   statement)


# The left/right indices a whole-foot offload moves together (right vs left, %), as the reference sets store them:
# impulse and peak force per step, and the first peak of the force curve.
WHOLE_FOOT_INDICES: tuple[tuple[str, str], ...] = (("impulse_si_pct", "impulse"), ("peak_force_si_pct", "peak force"),
                                                   ("si_f1", "first peak (F1)"))


def _whole_foot_z(session: SessionMetrics, reference: ReferenceSet,
                  params: FindingParams) -> tuple[float, list[str], int, float] | None:
    """The session's whole-foot indices projected on their common direction, in SD of the real controls'
    (``_pattern_z``), with the indices used, the number of controls and the limit for one new healthy person
    (``_pattern_limit`` at the rule's two-sided ``real_reference_quantile``); None without a real set holding
    them for at least ``min_reference_people`` people."""
    if reference.kind != "real":
        return None
    observed = session_metric_values(session)
    keys = [k for k, _ in WHOLE_FOOT_INDICES if math.isfinite(observed.get(k, math.nan))]
    if "impulse_si_pct" not in keys:
        return None
    vectors = reference.session_vectors(keys)
    if vectors.shape[0] < params.min_reference_people:
        return None
    x = np.asarray([observed[k] for k in keys], float)
    direction = np.ones(len(keys))
    u = _pattern_z(vectors, x, direction)
    limit = _pattern_limit(vectors, x, direction, params.real_reference_quantile)
    labels = dict(WHOLE_FOOT_INDICES)
    return u, [labels[k] for k in keys], int(vectors.shape[0]), limit


def _load_asymmetry(session: SessionMetrics, params: FindingParams,
                    values: Mapping[str, Mapping[str, np.ndarray]], reference: ReferenceSet | None = None,
                    repeatability: Repeatability | None = None) -> Finding | NotAssessed | None:
    spec = FINDINGS["load_asymmetry"]
    if set(session.sides) != {"left", "right"}:
        return NotAssessed(spec.code, "both", "needs both feet")
    if session.force_unit != "BW":
        return NotAssessed(spec.code, "both", "needs calibrated forces: uncalibrated sensors of the two feet need "
                                              "not share one scale")
    left, right = session.feet["left"], session.feet["right"]
    if min(left.n_steps, right.n_steps) < params.min_steps:
        return NotAssessed(spec.code, "both", "too few usable steps on one foot")
    best = None
    comparisons = []
    # impulse is the load a leg carries per step; peak force alone never flags (a hard heel strike raises it
    # without shifting load between the legs): with a real reference it and F1 only say, beside the impulse, how
    # far from healthy asymmetry the foot lies (``_whole_foot_z``)
    for column, label in (("impulse", "Impulse per step"),):
        l_stats, r_stats = _mean_sd(left.values(column)), _mean_sd(right.values(column))
        si = _si(r_stats[0], l_stats[0])
        t = _t(r_stats, l_stats)
        passed = abs(si) > params.load_si_pct and math.isfinite(t) and abs(t) >= params.step_t_min
        comparisons.append(Comparison(
            frame="other_foot", description=(f"{label}: left {l_stats[0]:.3f}, right {r_stats[0]:.3f} "
                                             f"(SI {si:+.1f}%, t = {t:+.1f}); flagged at |SI| > "
                                             f"{params.load_si_pct:g}% (conventional, called arbitrary [53])"),
            value=l_stats[0], limit=params.load_si_pct, passed=bool(passed), source_kind="this recording",
            n=min(l_stats[2], r_stats[2])))
        mdc = repeatability.session_mdc("impulse_si_pct") if repeatability is not None else None
        if mdc is not None and repeatability is not None:
            ok = abs(si) > mdc
            passed = passed and ok
            comparisons.append(Comparison(
                frame="repeatability", description=(f"|SI| must exceed the index's minimal detectable change, "
                                                    f"MDC95 {mdc:.1f}% ({repeatability.description})"),
                value=mdc, limit=mdc, passed=bool(ok), source_kind="test-retest", n=repeatability.n_pairs))
        dist = reference.session_metric("impulse_si_pct") if reference is not None else None
        combined = _whole_foot_z(session, reference, params) if reference is not None else None
        if combined is not None and reference is not None:
            # a foot that carries less moves impulse, peak force and the first peak together, by the same
            # proportion; healthy left/right differences of the three are partly independent (the peak is the
            # steadier): the three indices' projection on that common direction, in the controls' SD along it
            # (their covariance, left and right counted alike), flagged beyond where one new healthy person lies
            # but for the rule's two-sided tail (``_pattern_limit``: the estimated covariance counted)
            u, names, n_people, z = combined
            ok = abs(u) > z and u * si > 0
            passed = passed and ok
            comparisons.append(Comparison(
                frame="reference_set", description=(f"{reference.name} ({reference.source_kind}, {n_people} "
                                                    f"recordings): the left/right indices of "
                                                    f"{', '.join(names)} taken together (a foot that carries "
                                                    f"less lowers all of them by the same proportion) are "
                                                    f"{u:+.2f} SD of the controls' spread along that direction "
                                                    f"(from their covariance, left and right counted alike); "
                                                    f"flagged beyond ±{z:.2f} SD for this walk, where one new "
                                                    f"healthy person lies but for "
                                                    f"{params.real_reference_quantile:.0%} (Student's t from "
                                                    f"{n_people} controls, their covariance's own error counted; "
                                                    f"a data-driven limit, as the evidence base recommends "
                                                    f"[53])"),
                value=0.0, limit=z if u > 0 else -z, passed=bool(ok), source_kind=reference.source_kind,
                source=reference.description, n=n_people))
        elif dist is not None and reference is not None and reference.kind == "real":
            # the evidence base: replace the arbitrary 10 % with limits from control data when available [53].
            # A symmetry index scatters roughly normally around zero in controls, and its tails are what matter:
            # the limits are the parametric reference interval mean ± z SD (z for the rule's two-sided tail),
            # steadier than the one or two most extreme controls a percentile this far out would rest on.
            z = prediction_sd(params.real_reference_quantile, dist.n_people, mean_estimated=True)
            low, high = dist.mean - z * dist.sd, dist.mean + z * dist.sd
            ok = not low <= si <= high
            passed = passed and ok
            comparisons.append(Comparison(
                frame="reference_set", description=(f"{reference.name} ({reference.source_kind}, {dist.n} "
                                                    f"recordings): prediction interval of the SI for one new "
                                                    f"healthy person (mean ± {z:.2f} SD, Student's t) "
                                                    f"{low:+.1f}% to {high:+.1f}%; "
                                                    f"flagged only outside it (a data-driven limit, as the "
                                                    f"evidence base recommends [53])"),
                value=dist.median, limit=high if si > 0 else low, passed=bool(ok), source_kind=reference.source_kind,
                source=reference.description, n=dist.n, range_low=low, range_high=high))
        if passed and (best is None or abs(si) > abs(best[1])):
            best = (column, si, label, l_stats, r_stats, comparisons[-1])
    if best is None:
        return None
    column, si, label, l_stats, r_stats, primary = best
    lower = "left" if si > 0 else "right"
    this, other = (l_stats, r_stats) if lower == "left" else (r_stats, l_stats)
    unit = "BW·s" if column == "impulse" else "BW"
    measurement, reasons = "high", []
    for side in ("left", "right"):
        for level, why in (_foot_quality(session, side), _steps_confidence(session.feet[side].n_steps, params, side)):
            measurement = lower_confidence(measurement, level)
            reasons += [why] if why else []
    measured = Measured(metric=column, label=label, unit=unit, value=this[0], other_value=other[0],
                        difference=this[0] - other[0], symmetry_index_pct=_si(this[0], other[0]), sd=this[1],
                        n_steps=this[2], extra={"si_right_vs_left_pct": si})
    frames = {c.frame: c for c in comparisons}
    beyond = ((", beyond its repeatability (MDC95)" if "repeatability" in frames else "")
              + ("; with the peak force and first peak, beyond the real controls' healthy asymmetry"
                 if "reference_set" in frames and "taken together" in frames["reference_set"].description else
                 "; beyond the real controls' healthy asymmetry of the index" if "reference_set" in frames else ""))
    statement = (f"{label} was {this[0]:.3f} {unit} on the {lower} foot vs {other[0]:.3f} {unit} on the "
                 f"{_OTHER[lower]} (symmetry index, right vs left, {si:+.1f}%: above the conventional "
                 f"{params.load_si_pct:g}%, a cut-off described as arbitrary [53]{beyond}; healthy gait is not "
                 f"perfectly symmetric [56,60]). This is consistent with "
                 f"{spec.consistent_with}: less on the {lower}.")
    note = _force_only_note(session, params, repeatability)
    return _finish(spec, lower, _severity(abs(si) / params.load_si_pct), measurement, reasons, measured, primary,
                   comparisons, statement, notes=(note,) if note else ())


@dataclass(frozen=True)
class _StanceDifference:
    """One foot's stance time against the other's: (mean, SD, n) of each, the symmetry index (this vs the other,
    %), Welch's t, and the MDC95 of the stance-time left/right index (None when not measured)."""

    this: tuple[float, float, int]
    other: tuple[float, float, int]
    si_pct: float
    t: float
    mdc95_pct: float | None
    differs: bool


def _stance_difference(session: SessionMetrics, side: str, params: FindingParams,
                       repeatability: Repeatability | None) -> _StanceDifference:
    """The stance-time test of the two feet, in one place: ``differs`` when the difference is beyond the step-to-step
    scatter (|t| >= ``step_t_min``) and beyond its MDC95 where measured. The antalgic-gait rule needs it (with its
    own cut-off, on the shorter side); a force-only load asymmetry is one where it is not met
    (``_force_only_note``)."""
    this = _mean_sd(session.feet[side].values("stance_s"))
    other = _mean_sd(session.feet[_OTHER[side]].values("stance_s"))
    si, t = _si(this[0], other[0]), _t(this, other)
    mdc = repeatability.lr_mdc("stance_s") if repeatability is not None else None
    # an infinite t (no step-to-step scatter on either foot) is no evidence, as in every other rule of t
    differs = bool(math.isfinite(t) and abs(t) >= params.step_t_min and (mdc is None or abs(si) > mdc))
    return _StanceDifference(this, other, si, t, mdc, differs)


def _force_only_note(session: SessionMetrics, params: FindingParams, repeatability: Repeatability | None) -> str:
    """For a load asymmetry whose feet spend the same time on the ground: the other reading of a difference in force
    alone, which the insoles cannot tell from a person sparing a leg ("" when the stance times differ).

    A spared leg also spends less time on the ground (antalgic gait: shorter stance on the painful side, evidence
    base row 9 [49,62,80]); two insoles that read differently (calibration, fit, a drifting sensor) change the force
    and leave the timing as it was. "Alike" is the antalgic-gait rule's stance test (``_stance_difference``), not
    met: the stance-time difference is within the step-to-step scatter (|t| < ``step_t_min``) or within its MDC95
    where measured.
    """
    stance = _stance_difference(session, "right", params, repeatability)
    stance_si, t, mdc = stance.si_pct, stance.t, stance.mdc95_pct
    if not (math.isfinite(stance_si) and math.isfinite(t)) or stance.differs:
        return ""
    within = (f"within its MDC95 of {mdc:.1f}%" if mdc is not None and abs(stance_si) <= mdc
              else f"t = {t:+.1f}, within the step-to-step scatter")
    return (f"The two feet's stance times were alike (stance-time SI {stance_si:+.1f}%, {within}): the difference is "
            f"in force only. A spared leg usually also spends less time on the ground (the antalgic-gait rule "
            f"needs a shorter stance on the spared side); a difference in force alone is also what two insoles reading "
            f"differently produce (calibration, fit, a drifting sensor). This recording cannot tell the two apart; "
            f"a second walk after the insoles are re-zeroed or re-calibrated can.")


def _antalgic(session: SessionMetrics, params: FindingParams,
              repeatability: Repeatability | None = None) -> list[Finding | NotAssessed]:
    spec = FINDINGS["antalgic_gait"]
    if set(session.sides) != {"left", "right"}:
        return [NotAssessed(spec.code, "both", "needs both feet")]
    if session.force_unit != "BW":
        return [NotAssessed(spec.code, "both", "needs calibrated forces to compare peak force between feet")]
    out: list[Finding | NotAssessed] = []
    for side in ("left", "right"):
        foot, other = session.feet[side], session.feet[_OTHER[side]]
        if min(foot.n_steps, other.n_steps) < params.min_steps:
            out.append(NotAssessed(spec.code, side, "too few usable steps"))
            continue
        stance = _stance_difference(session, side, params, repeatability)
        st, st_o, stance_si, t_stance = stance.this, stance.other, stance.si_pct, stance.t
        pk, pk_o = _mean_sd(foot.values("peak_force")), _mean_sd(other.values("peak_force"))
        peak_si, t_peak = _si(pk[0], pk_o[0]), _t(pk, pk_o)
        # a shorter stance on this foot: the stance test (beyond the step scatter and the MDC95), past the cut-off
        stance_ok = stance_si <= -params.antalgic_stance_si_pct and stance.differs
        peak_ok = peak_si <= -params.antalgic_peak_si_pct and math.isfinite(t_peak) and t_peak <= -params.step_t_min
        if repeatability is not None:
            # the peak-force index must also exceed its day-to-day repeatability (MDC95)
            peak_mdc = repeatability.session_mdc("peak_force_si_pct")
            peak_ok = peak_ok and (peak_mdc is None or abs(peak_si) > peak_mdc)
        if not (stance_ok and peak_ok):
            continue
        comparisons = [
            Comparison("other_foot", f"stance time {st[0]:.3f} s vs {st_o[0]:.3f} s on the {_OTHER[side]} "
                                     f"(SI {stance_si:+.1f}%, flagged at −{params.antalgic_stance_si_pct:g}%, "
                                     f"t = {t_stance:+.1f})", st_o[0], -params.antalgic_stance_si_pct, True,
                       "this recording", n=st_o[2]),
            Comparison("other_foot", f"peak force {pk[0]:.2f} BW vs {pk_o[0]:.2f} BW on the {_OTHER[side]} "
                                     f"(SI {peak_si:+.1f}%, flagged at −{params.antalgic_peak_si_pct:g}%, "
                                     f"t = {t_peak:+.1f})", pk_o[0], -params.antalgic_peak_si_pct, True,
                       "this recording", n=pk_o[2]),
        ]
        measurement, reasons = "high", []
        for s in ("left", "right"):
            for level, why in (_foot_quality(session, s), _steps_confidence(session.feet[s].n_steps, params, s)):
                measurement = lower_confidence(measurement, level)
                reasons += [why] if why else []
        measured = Measured(metric="stance_s", label="Stance time", unit="s", value=st[0], other_value=st_o[0],
                            difference=st[0] - st_o[0], symmetry_index_pct=stance_si, sd=st[1], n_steps=st[2],
                            extra={"peak_force_bw": pk[0], "other_peak_force_bw": pk_o[0],
                                   "peak_force_si_pct": peak_si})
        ratio = min(-stance_si / params.antalgic_stance_si_pct, -peak_si / params.antalgic_peak_si_pct)
        statement = (f"On the {side} foot stance was shorter ({st[0]:.3f} s vs {st_o[0]:.3f} s, SI "
                     f"{stance_si:+.1f}%) and the peak force lower ({pk[0]:.2f} vs {pk_o[0]:.2f} BW, SI "
                     f"{peak_si:+.1f}%) than on the {_OTHER[side]} foot. Together these are consistent with "
                     f"{spec.consistent_with}; the evidence base describes this pattern in people with knee "
                     f"pain or osteoarthritis [49,62].")
        out.append(_finish(spec, side, _severity(ratio), measurement, reasons, measured, comparisons[0],
                           comparisons, statement))
    return out


# Measures that change with walking speed alone, and which way slower walking moves each (+1 up, -1 down): slower
# walking lengthens stance and double support (stance % falls by 3.5 points per m/s [75]), flattens the force curve
# (lower F1 and F2, a shallower valley: the valley ratio rises), lowers the loading rate and the cadence, and
# softens the heel contact; the impulse grows with the longer stance; stride timing varies more at slow speeds (in
# the gaitpdb8 controls timing variability falls with speed, Spearman rho -0.47; stride -0.36, stance -0.27,
# docs/report.md). The heel share is here from the softer heel contact, although the gaitpdb8 controls' speeds
# show no relation for it (rho -0.09; `make validate` lists each): outside their speeds that cannot be checked. A
# symmetry index or a left/right difference compares two feet at the same speed and is not in this list's reach.
SLOWER_WALKING_MOVES: dict[str, int] = {
    "stance_s": 1, "stance_pct": 1, "double_support_pct": 1, "step_s": 1, "share_heel": -1, "valley_ratio": 1,
    "f1": -1, "f2": -1, "peak_force": -1, "loading_rate_bw_s": -1, "impulse": 1, "cadence_steps_per_min": -1,
    "timing_variability_pct": 1, "stride_variability_pct": 1, "stance_variability_pct": 1,
}
SPEED_DEPENDENT = frozenset(SLOWER_WALKING_MOVES)


# findings that are left/right tests whatever their frame (an index of the two feet against the controls' indices)
_LEFT_RIGHT_CODES = frozenset({"load_asymmetry", "antalgic_gait"})


def _speed_against_controls(speed_m_s: float | None, reference: ReferenceSet | None) -> tuple[int, list[float]]:
    """-1 when the person walked slower than every real control of ``reference`` (at least 3 speeds recorded), +1
    faster, 0 within their speeds or unknown; with the controls' speeds."""
    if speed_m_s is None or not math.isfinite(speed_m_s) or reference is None or reference.kind != "real":
        return 0, []
    speeds = [float(r["gait_speed_m_per_s"]) for r in reference.recordings
              if r.get("gait_speed_m_per_s") is not None and math.isfinite(float(r["gait_speed_m_per_s"]))]
    if len(speeds) < 3 or min(speeds) <= speed_m_s <= max(speeds):
        return 0, speeds
    return (-1 if speed_m_s < min(speeds) else 1), speeds


def speed_outside_controls(speed_m_s: float | None, reference: ReferenceSet | None) -> str:
    """A note when the person's walking speed (from the file) lies outside every real control's; "" else.

    The controls' speeds are those their reference set records (at least 3 needed): "walked slower than every
    control (0.66 vs 0.91–1.54 m/s): slower walking alone changes this measure".
    """
    side, speeds = _speed_against_controls(speed_m_s, reference)
    if not side or speed_m_s is None:
        return ""
    word = "slower" if side < 0 else "faster"
    # one reference, named: the set these measures are judged against, not the age band the speed row uses
    name = getattr(reference, "name", "")
    which = (f" of {name}, the set these measures are judged against (the walking-speed row compares with the "
             f"age band of all real controls instead)" if name else "")
    return (f"walked {word} than every control ({speed_m_s:.2f} vs {min(speeds):.2f}–{max(speeds):.2f} m/s){which}: "
            f"{word} walking alone changes this measure")


# the direction each finding departs in (+1: its measure higher than typical), for the speed caveat above
_FINDING_DIRECTION: dict[str, int] = {**{rule.code: rule.direction for rule in FOOT_RULES}, "irregular_gait": 1}


def _outside_controls_speed(findings: list[Finding], session: SessionMetrics, reference: ReferenceSet | None,
                            timing_reference: ReferenceSet | None = None) -> list[Finding]:
    """Findings judged against the controls on a speed-dependent measure, when the person walked outside every
    control's speed in the direction that alone would move the measure the way the finding departs: the note
    added and the confidence lowered one step (severity capped to match). Each finding by the set it was judged
    against: ``timing_reference`` for irregular timing (the layout's real controls, else every real control),
    ``reference`` for the others."""
    out = []
    for f in findings:
        judged_by = timing_reference if f.code == "irregular_gait" else reference
        note = speed_outside_controls(session.walking_speed_m_s, judged_by)
        # which way the person's speed alone moves each measure against the controls': +1 up, -1 down
        slower = -_speed_against_controls(session.walking_speed_m_s, judged_by)[0]
        if (not note or f.measured.metric not in SPEED_DEPENDENT or f.reference.frame != "reference_set"
                or f.code in _LEFT_RIGHT_CODES
                # a departure the other way than the speed would move the measure is not explained by it (a
                # faster walker's high variability): no caveat
                or slower * SLOWER_WALKING_MOVES[f.measured.metric] != _FINDING_DIRECTION.get(f.code, 0)):
            out.append(f)
            continue
        confidence = CONFIDENCE_LEVELS[max(CONFIDENCE_LEVELS.index(f.confidence) - 1, 0)]
        reasons = [*f.confidence_reasons, f"lowered one step from {f.confidence.replace('_', ' ')}: the person "
                                          f"{note}"]
        allowed = {"very_low": "mild", "low": "mild", "moderate": "moderate", "high": "marked"}[confidence]
        severity = f.severity
        if SEVERITIES.index(severity) > SEVERITIES.index(allowed):
            # the size-alone severity said once (an earlier cap by the measurement confidence may have said it)
            alone = "" if any("by the cut-off alone it would be" in r for r in reasons) else (
                f" (by the cut-off alone it would be {severity})")
            reasons.append(f"severity capped at {allowed} by the {confidence.replace('_', ' ')} confidence{alone}")
            severity = allowed
        out.append(replace(f, confidence=confidence, severity=severity, confidence_reasons=tuple(reasons),
                           notes=(*f.notes, f"The person {note}.")))
    return out


def variability_too_coarse(session: SessionMetrics, params: FindingParams) -> str:
    """Why stride-to-stride timing figures are not judged at this sample rate ("" when they are).

    One sample interval adds ``timing_resolution_pct`` (50 x interval / median stride, %) to them; above
    ``params.variability_resolution_max_pct`` the figure tells more about the sampling than about the walk.
    """
    resolution = timing_resolution_pct(session)
    if not math.isfinite(resolution) or resolution <= params.variability_resolution_max_pct:
        return ""
    return (f"at {session.sample_rate_hz:g} Hz one sample interval alone adds about {resolution:.1f}% "
            f"to stride-to-stride timing variability (judged up to {params.variability_resolution_max_pct:g}%)")


def timing_controls(sets: Sequence[ReferenceSet], layout: str) -> ReferenceSet | None:
    """The real controls timing is judged against: the layout's own, else every real control (stride timing does not
    depend on where the sensors sit)."""
    return (reference_set_for(sets, layout, kind="real")
            or reference_set_for(sets, layout, kind="real", layout_specific=False))


def irregular_limit(controls: ReferenceSet | None, params: FindingParams) -> float | None:
    """The combined timing variability irregular timing is flagged at: ``irregular_factor`` x the median of
    ``controls`` (``timing_controls``); None without them."""
    dist = controls.session_metric("timing_variability_pct") if controls is not None else None
    if dist is None or not math.isfinite(dist.median):
        return None
    return params.irregular_factor * dist.median


def _irregular(session: SessionMetrics, params: FindingParams,
               controls: ReferenceSet | None) -> Finding | NotAssessed | None:
    spec = FINDINGS["irregular_gait"]
    counts = {s: int(session.feet[s].stride_times_s.size) for s in session.sides}
    if max(counts.values(), default=0) < 10:
        return NotAssessed(spec.code, "both", "fewer than 10 walking strides on each foot")
    dist = controls.session_metric("timing_variability_pct") if controls is not None else None
    if controls is None or dist is None:
        return NotAssessed(spec.code, "both", "no real control reference set for timing variability is installed")
    measures = timing_variability(session)
    value = measures["timing_variability_pct"]
    if not math.isfinite(value):
        return NotAssessed(spec.code, "both", "stance times of the walking strides are not available")
    coarse = variability_too_coarse(session, params)
    if coarse:
        return NotAssessed(spec.code, "both", coarse)
    zero = [k.split("_")[0] for k in ("stride_variability_pct", "stance_variability_pct")
            if robust_cv_is_zero(measures[k])]
    if zero:
        return NotAssessed(spec.code, "both", f"the {' and '.join(zero)}-time variability is not measurable (median "
                                              f"absolute deviation 0: too few distinct values)")
    n_strides = int(min(v for v in counts.values() if v >= 10))
    limit = params.irregular_factor * dist.median  # ``irregular_limit``, from the same distribution
    # the controls' range as the key numbers state it (``MetricDistribution.judging_range``: the min-max from
    # SMALL_SAMPLE_N people up, else the 95 % prediction interval): context only, the flag is the limit
    judged = dist.judging_range()
    low, high, how = judged if judged is not None else (min(dist.values), max(dist.values), "range")
    session_values = session_metric_values(session)
    comparison = Comparison(
        frame="reference_set",
        description=(f"{controls.name} ({controls.source_kind}, {dist.n} recordings): median "
                     f"{dist.median:.2f}%, {low:.2f}–{high:.2f}% ({how} of {dist.n}); flagged at "
                     f"{params.irregular_factor:g} × median = {limit:.2f}% (in one study, groups with "
                     f"neurological conditions averaged about 2× and 3× their controls' variability [64]: a limit "
                     f"taken from group averages that names no condition for this person; some healthy people "
                     f"exceed it)"),
        value=dist.median, limit=limit, passed=value >= limit, source_kind=controls.source_kind,
        source=controls.description, n=dist.n, range_low=low, range_high=high)
    if value < limit:
        return None
    measurement, reasons, notes = "high", [], []
    if n_strides < params.min_variability_strides:
        measurement = "low"
        reasons.append(f"only {n_strides} walking strides (at least ~{params.min_variability_strides} are needed "
                       f"for variability [77])")
    for side in session.sides:
        level, why = _foot_quality(session, side)
        measurement = lower_confidence(measurement, level)
        reasons += [why] if why else []
    if dist.n < 20:
        measurement = lower_confidence(measurement, "moderate")
        reasons.append(f"the real control reference has only {counted(dist.n, 'recording')}")
    sd_ms = session_values.get("stride_sd_ms", math.nan)
    measured = Measured(metric="timing_variability_pct", label="Stride-to-stride timing variability", unit="%",
                        value=value, n_steps=n_strides,
                        extra={"stride_variability_pct": measures["stride_variability_pct"],
                               "stance_variability_pct": measures["stance_variability_pct"],
                               "stride_cv_pct": session_values.get("stride_cv_pct"), "stride_sd_ms": sd_ms})
    statement = (f"Stride-to-stride timing variability was {value:.2f}% (stride time "
                 f"{measures['stride_variability_pct']:.2f}%, stance time {measures['stance_variability_pct']:.2f}%, "
                 f"both feet, at least {n_strides} strides each), {value / dist.median:.1f}× the real controls' "
                 f"median of {dist.median:.2f}% (flagged at {params.irregular_factor:g}×). For context, stride-time "
                 f"SD was {sd_ms:.0f} ms; in one study of older adults the group means (± SD) were 49 ± 4 ms in "
                 f"those who did not fall over a year and 106 ± 30 ms in those who fell [67], group averages "
                 f"rather than a normal range. This is consistent with {spec.consistent_with}; it is a marker of "
                 f"fall risk, not of stress on one joint, and this report does not interpret it neurologically.")
    notes.append("Turning, stopping and walking speed all raise variability; the measure used ignores a few "
                 "irregular strides and slow changes of pace, but not a whole walk of stop-and-go.")
    return _finish(spec, "both", _severity(value / limit), measurement, reasons, measured, comparison,
                   [comparison], statement, notes)


# ---------------------------------------------------------------- entry point


# Opposite rules on one metric: a difference between the feet shows as both (one foot "high", the other "low").
OPPOSITE_RULES: tuple[tuple[str, str, str], ...] = (
    ("low_arch_loading", "high_arch_loading", "share_midfoot"),
    ("pronated_loading", "supinated_loading", "cop_ml_pct"),
)


def _signed_departure(value: float, dist: Any, direction: int) -> float:
    """How far ``value`` lies from the controls' median in ``direction`` (negative: the other way), as a fraction of
    the distance from their median to their 2.5th (below it) or 97.5th (above it) percentile: comparable between
    the two sides of a skewed measure (gaitpdb8's midfoot share: median 17 %, feet from 6 to 37 %, so 11 points
    below the median lie beyond every control and 11 points above inside their range). A side without spread
    (every control at the median on that side) borrows the other side's reach, then the SD."""
    median = dist.median
    below, above = abs(dist.quantile(0.025) - median), abs(dist.quantile(0.975) - median)
    reach = below if value < median else above
    for fallback in (above if value < median else below, dist.sd):
        if not reach > 0:
            reach = fallback
    if reach > 0:
        return direction * (value - median) / reach
    return 0.0 if value == median else math.copysign(math.inf, direction * (value - median))


def _departs_further(this_departure: float, other_departure: float) -> bool:
    """Whether a foot, not its partner, is the one that departs from the controls in the rule's direction: further
    than the partner departs the other way (``_signed_departure``), or beyond the controls' 2.5th/97.5th percentile
    itself, whatever the partner does (a loading rate above the 97.5th percentile stays a finding beside a partner
    below the 2.5th: both feet are atypical, and no opposite rule would report the difference otherwise)."""
    return this_departure > other_departure or this_departure >= 1.0


def _one_finding_per_asymmetry(findings: list[Finding], reference: ReferenceSet | None,
                               values: Mapping[str, Mapping[str, np.ndarray]]) -> list[Finding]:
    """Where opposite rules flag the two feet for one difference, report it once: on the foot that departs
    further from the reference median (the other is the same asymmetry seen from the other side); without a
    reference, once, on the first rule's foot, naming the other reading (which foot differs cannot be told)."""
    drop: set[int] = set()
    kept: dict[int, str] = {}
    for high_code, low_code, metric in OPPOSITE_RULES:
        pair = [f for f in findings if f.code in (high_code, low_code) and f.side in ("left", "right")]
        if len({f.code for f in pair}) < 2 or len({f.side for f in pair}) < 2:
            continue
        dist = reference.foot_metric(metric) if reference is not None else None
        changed = [f for f in pair if any(c.frame == "baseline" and c.passed for c in f.comparisons)]
        if len(changed) == 1:
            # with a baseline, the foot that changed since it is the one that differs
            keep = changed[0]
            note = ("The other foot showed the opposite pattern for the same difference; this foot is the one that "
                    "changed since the baseline, so the other is not reported as a second finding.")
        elif all("z_given_other_foot" in (f.measured.extra or {}) for f in pair):
            # each foot judged against what the other predicts of it: the one further from that is the one
            # that differs
            keep = max(pair, key=lambda f: abs(float(f.measured.extra["z_given_other_foot"] or 0.0)))
            note = ("The other foot showed the opposite pattern for the same difference; it lies nearer to what "
                    "its partner predicts in healthy people, so it is not reported as a second finding.")
        elif dist is not None:
            # how far each foot lies from the controls' median, in the controls' own spread on that side of it
            # (``_signed_departure``: a share is skewed)
            departures = []
            for f in pair:
                own = np.asarray(values[f.side].get(metric, np.zeros(0)), float)
                own = own[np.isfinite(own)]
                departures.append(abs(_signed_departure(float(own.mean()), dist, 1)) if own.size else 0.0)
            keep = pair[int(np.argmax(departures))]
            note = ("The other foot showed the opposite pattern for the same difference; it departs less from the "
                    "reference median (each foot measured in the controls' spread on its side of the median), so it "
                    "is not reported as a second finding.")
        else:
            keep = next(f for f in pair if f.code == high_code)
            other = next(f for f in pair if f is not keep)
            note = (f"The same difference reads as {other.title.lower()} of the {other.side} foot: without a "
                    f"reference set for this layout it cannot be told which foot differs, so it is reported once.")
        kept[id(keep)] = note
        drop.update(id(f) for f in pair if f is not keep)
    out = []
    for f in findings:
        if id(f) in drop:
            continue
        if id(f) in kept:
            f = replace(f, notes=(*f.notes, kept[id(f)]))
        out.append(f)
    return out


def _impact_of_the_heavier_foot(findings: list[Finding], params: FindingParams,
                                reference: ReferenceSet | None) -> list[Finding]:
    """A foot that carries less also loads more slowly in BW/s, so its partner's loading rate reads high: where
    ``load_asymmetry`` names one foot and ``high_impact`` the other, the loading rates are compared again with the
    lighter foot's scaled up by the feet's impulse ratio (the share of the difference the whole-foot asymmetry
    explains). If the rest no longer passes the high-impact cut-offs, the high impact is the same asymmetry seen
    from the other foot and is not reported as a second finding; the load-asymmetry finding says so."""
    lighter = next((f for f in findings if f.code == "load_asymmetry" and f.side in _OTHER), None)
    impact = next((f for f in findings if f.code == "high_impact" and lighter is not None
                   and f.side == _OTHER[lighter.side]), None)
    if lighter is None or impact is None:
        return findings
    light, heavy = lighter.measured.value, lighter.measured.other_value
    rate, light_rate = impact.measured.value, impact.measured.other_value
    if not (light and heavy and rate and light_rate) or light <= 0:
        return findings
    scaled_si = _si(rate, light_rate * heavy / light)
    keep = scaled_si >= params.loading_rate_si_pct
    lr = reference.session_metric("si_loading_rate_bw_s") if reference is not None and reference.kind == "real" \
        else None
    if lr is not None:
        keep = keep and scaled_si > _healthy_limit(lr.values, params.real_reference_quantile)[0]
    if keep:
        return findings
    note = (f"The {impact.side} foot's loading rate was higher ({rate:.1f} vs {light_rate:.1f} BW/s); with the "
            f"{lighter.side} foot's rate scaled by the feet's impulse ratio ({heavy / light:.2f}) the difference is "
            f"{scaled_si:+.1f}%, within the high-impact cut-offs, so it is read as part of this asymmetry and not "
            f"reported as high impact.")
    return [replace(f, notes=(*f.notes, note)) if f is lighter else f for f in findings if f is not impact]


_NO_REPEATABILITY = object()


def evaluate(session: SessionMetrics, params: FindingParams | None = None, *,
             reference_sets: Sequence[ReferenceSet] | None = None,
             baseline: SessionMetrics | None = None,
             repeatability: Repeatability | None | object = _NO_REPEATABILITY,
             walk: Mapping[str, Any] | None = None,
             baseline_walk: Mapping[str, Any] | None = None) -> FindingsResult:
    """Apply every rule to ``session``; ``baseline`` adds the patient's own earlier session as a frame.

    ``repeatability``: the minimal detectable changes of the layout (default: the stored ones,
    ``load_repeatability``; None: none known, asymmetries and changes are then judged by step scatter only).
    ``walk`` (and ``baseline_walk``): the identity of the recording judged (``walk_identity``: file name,
    SHA-256, subject). Every caller that judges a real file passes it (the report, ``insole batch``): a walk of
    the references' own controls is then judged against the others, and a walk of the MDC95's same-day pairs by
    the other pairs (``judging_frame``, the one place that decides it). Without it the references are used as
    given.
    """
    params = params or FindingParams()
    frame = judging_frame(walk, session.layout.name, reference_sets=reference_sets,
                          repeatability=(load_repeatability(session.layout.name)
                                         if repeatability is _NO_REPEATABILITY else repeatability),
                          base_record=baseline_walk)
    mdc = frame.repeatability
    sets = frame.reference_sets
    # a real control set of this layout first; else the simulated one (insole16), which only tells which foot
    # departs, with lower confidence. Timing variability: the layout's real controls, else every real control
    # (stride timing does not depend on where the sensors sit).
    layout_reference = (reference_set_for(sets, session.layout.name, kind="real")
                        or reference_set_for(sets, session.layout.name))
    controls = timing_controls(sets, session.layout.name)
    values = {side: foot_metric_values(session, side) for side in session.sides}
    baseline_values = ({side: foot_metric_values(baseline, side) for side in baseline.sides}
                       if baseline is not None else {})
    if baseline is not None and baseline.layout.name != session.layout.name:
        raise ValueError(f"the baseline uses layout {baseline.layout.name}, this session {session.layout.name}")

    findings: list[Finding] = []
    skipped: list[NotAssessed] = []

    def collect(result: Finding | NotAssessed | None) -> None:
        if isinstance(result, Finding):
            findings.append(result)
        elif isinstance(result, NotAssessed):
            skipped.append(result)

    for rule in FOOT_RULES:
        before = len(findings)
        for side in session.sides:
            collect(_foot_rule(rule, session, side, params, layout_reference, baseline, values, baseline_values,
                               mdc))
        if len(findings) == before:
            collect(_bilateral(rule, session, params, layout_reference, values))
    collect(_load_asymmetry(session, params, values, layout_reference, mdc))
    for result in _antalgic(session, params, mdc):
        collect(result)
    collect(_irregular(session, params, controls))

    findings = _one_finding_per_asymmetry(findings, layout_reference, values)
    findings = _impact_of_the_heavier_foot(findings, params, layout_reference)
    findings = _outside_controls_speed(findings, session, layout_reference, controls)

    # one "not assessed" line per code and reason (a reason true of both feet is said once, for both)
    sides: dict[tuple[str, str], list[str]] = {}
    for item in skipped:
        sides.setdefault((item.code, item.reason), []).append(item.side)
    unique = {key: NotAssessed(key[0], "both" if len(set(s)) > 1 or s[0] == "both" else s[0], key[1])
              for key, s in sides.items()}
    order = {code: k for k, code in enumerate(CODES)}
    findings.sort(key=lambda f: (order[f.code], f.side))
    used = tuple(r for k, r in enumerate((layout_reference, controls))
                 if r is not None and not (k == 1 and r is layout_reference))
    return FindingsResult(
        findings=tuple(findings), not_assessed=tuple(unique.values()), params=params, reference_sets=used,
        frame=frame,
    )


def rules_methods_text(session: SessionMetrics, params: FindingParams | None = None,
                       reference_sets: Sequence[ReferenceSet] | None = None,
                       repeatability: Repeatability | None | object = _NO_REPEATABILITY) -> str:
    """The findings rules in words, as ``evaluate`` applies them to ``session`` (same reference set, same
    repeatability, the same branches), for the report's methods: a reader can tell from it why one index
    flags and a larger one does not."""
    params = params or FindingParams()
    mdc = (load_repeatability(session.layout.name) if repeatability is _NO_REPEATABILITY else repeatability)
    assert mdc is None or isinstance(mdc, Repeatability)
    sets = tuple(load_reference_sets() if reference_sets is None else reference_sets)
    reference = (reference_set_for(sets, session.layout.name, kind="real")
                 or reference_set_for(sets, session.layout.name))
    real = reference is not None and reference.kind == "real"
    # the limits' SD multiples for the set's people (a measure held by fewer of them, e.g. force metrics without the
    # walks that fail the body-weight check, has a slightly wider one: ``prediction_sd``)
    people = len(reference.recordings) if real and reference is not None else 0
    z = prediction_sd(params.real_reference_quantile, people)
    z_two = prediction_sd(params.real_reference_quantile / 2, people)
    # only the rules this recording's units and sensor layout allow are described (a gaitndd foot switch, one
    # sensor a foot in au, has none: its methods described COP, share and force-curve cut-offs it never applied)
    usable = [rule for rule in FOOT_RULES if not rule_unavailable(rule, session)]
    cop_ok = any(rule.needs_cop for rule in usable)
    regions = {rule.region for rule in usable if rule.region}
    curve_ok = any(rule.calibrated_only for rule in usable)
    indices = [f"{v:g}% ({name})" for v, name in ((params.midfoot_si_pct, "midfoot"), (params.heel_si_pct, "heel"))
               if name in regions]
    toes = [name.replace("_", " ") for name in ("hallux", "lesser_toes") if name in regions]
    if toes:
        indices.append(f"{params.toe_si_pct:g}% ({', '.join(toes)})")
    if curve_ok:
        indices.append(f"{params.loading_rate_si_pct:g}% (loading rate)")
    pieces = ([f"{params.cop_ml_diff_pct:g}% of ball width for the COP offset"] if cop_ok else []) + (
        [f"symmetry indices of {_listed(indices)}"] if indices else []) + (
        [f"{params.valley_ratio_diff:g} for the valley ratio"] if curve_ok else [])
    cut_offs = ", ".join(pieces[:-1]) + (", and " if len(pieces) > 2 else " and ") + pieces[-1] if len(pieces) > 1 \
        else "".join(pieces)
    scatter = f"{params.step_t_min:g} standard errors of the step-to-step scatter"
    mdc_text = (f" and its minimal detectable change (MDC95, {mdc.description})" if mdc is not None
                else " (no measured repeatability for this layout)")
    parts: list[str] = []
    if not usable:
        parts.append("No foot rule can be applied to this recording (its units and sensor layout rule each out: see "
                     "Not assessed).")
    elif real and reference is not None:
        tail = params.real_reference_quantile
        normal = NormalDist().inv_cdf(1 - tail / 2)  # what the limits would be for a spread known exactly
        # the COP offset with each control's two feet: judged by what the other foot predicts (``_foot_rule``)
        cop_metrics = {rule.metric for rule in usable if rule.needs_cop}
        cop_pairs = min((reference.foot_pairs(m).shape[0] for m in cop_metrics), default=0)
        cop_by_line = cop_ok and cop_pairs >= params.min_reference_people
        subject = " and ".join(name for name, ok in (("the regional shares", bool(regions)),
                                                     ("the COP offset", cop_ok and not cop_by_line)) if ok)
        clauses = []
        if subject:
            clauses.append(
                f"for {subject} the difference between the feet must lie beyond the controls' healthy left/right "
                f"differences, in place of a fixed cut-off (mean ± {z:.2f} SD of their mirrored differences: where "
                f"one new healthy person lies with {1 - tail:.0%} probability, given that the SD comes from {people} "
                f"people (Student's t; the normal {normal:.2f} would hold for an SD known exactly)"
                + (f"; for a share either its symmetry index or its difference in share points may flag, each at "
                   f"± {z_two:.2f} SD so that the two together flag no more healthy feet than one" if regions else "")
                + ")")
        if cop_by_line:
            clauses.append(
                f"for the COP offset a foot must lie beyond what the controls' other foot predicts of it (the "
                f"regression of one foot on the other over {cop_pairs} people's two feet), by more than "
                f"± {prediction_sd(tail, cop_pairs, fitted=2):.2f} residual SDs: where one new healthy person lies "
                f"with {1 - tail:.0%} probability (Student's t with {cop_pairs - 2} degrees of freedom)")
        if curve_ok:
            clauses.append(f"for the loading rate and the valley ratio the left/right index must lie beyond both the "
                           f"fixed cut-off and the controls' indices (mean ± {z:.2f} SD)")
        clauses.append("where the controls hold only each foot's values, the foot must lie beyond their 1st/99th "
                       "percentile")
        parts.append(
            f"Foot rules, against the real controls of the layout ({reference.name}): {'; '.join(clauses)}. Every "
            f"difference must also exceed {scatter}{mdc_text}, and the "
            f"flagged foot must depart from the controls' median in the rule's direction, further than the other "
            f"foot departs the other way (each in the controls' spread on its side of the median) unless it lies "
            f"beyond their 2.5th/97.5th percentile itself. The fixed cut-offs are {cut_offs}; change against a "
            f"baseline is judged by them and the MDC95. Both feet beyond the controls' 1st/99th percentile and "
            f"beyond the range of their feet the key numbers give is a bilateral finding (levels that change with "
            f"walking speed only at a speed within the controls').")
    else:
        where = ("" if reference is None else
                 f"; the flagged foot must also lie in the extreme fifth of the simulated reference set "
                 f"{reference.name} (not real people) [13]")
        parts.append(f"Foot rules compare each foot with the other foot (and with the baseline when given) with "
                     f"cut-offs of {cut_offs}; every difference must also exceed {scatter}{mdc_text}{where}.")
    if session.force_unit != "BW":
        parts.append("Load asymmetry and antalgic gait compare forces between the feet and need calibrated forces: "
                     "not applied to this recording.")
        return " ".join([*parts, _irregular_methods(params)])
    impulse_mdc = mdc.session_mdc("impulse_si_pct") if mdc is not None else None
    load = (f"Load asymmetry needs all of: |SI| of impulse per step above {params.load_si_pct:g}% (a conventional, "
            f"arbitrary cut-off [53]) and beyond {scatter}")
    if impulse_mdc is not None:
        load += f"; |SI| beyond its MDC95 of {impulse_mdc:.1f}%"
    vectors = (reference.session_vectors([k for k, _ in WHOLE_FOOT_INDICES]) if real and reference is not None
               else np.zeros((0, 0)))
    if real and reference is not None and vectors.shape[0] >= params.min_reference_people:
        k_whole, people_whole = len(WHOLE_FOOT_INDICES), vectors.shape[0]
        # ``_pattern_limit`` for a walk at the controls' centre in the other directions (q = 0): its least value
        z_whole = _pattern_limit_of(people_whole, k_whole, 0.0, params.real_reference_quantile)
        load += (f"; and the left/right indices of impulse, peak force and first peak (F1) taken together beyond "
                 f"the {vectors.shape[0]} controls' spread along the direction a foot that carries less moves all "
                 f"three (from the controls' covariance), on the impulse's side: beyond where one new healthy person "
                 f"lies but for {params.real_reference_quantile:.0%}, ± {z_whole:.2f} SD or a little more for a walk "
                 f"unlike the controls in the other directions (Student's t, the covariance's own error counted). "
                 f"An impulse "
                 f"index above {params.load_si_pct:g}% whose peaks are as symmetric as a control's stays within "
                 f"healthy asymmetry and is not a finding")
    elif real and reference is not None and (impulse := reference.session_metric("impulse_si_pct")) is not None:
        z_impulse = prediction_sd(params.real_reference_quantile, impulse.n_people, mean_estimated=True)
        load += f"; and the impulse index outside the real controls' mean ± {z_impulse:.2f} SD"
    parts.append(load + ".")
    parts.append(f"Antalgic gait needs, on the same foot, stance-time SI ≤ −{params.antalgic_stance_si_pct:g}% and "
                 f"peak-force SI ≤ −{params.antalgic_peak_si_pct:g}%, each beyond {scatter}"
                 f"{' and beyond its MDC95 where measured' if mdc is not None else ''}.")
    parts.append(_irregular_methods(params))
    return " ".join(parts)


def _listed(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _irregular_methods(params: FindingParams) -> str:
    return (f"Irregular timing needs the timing variability at {params.irregular_factor:g}× the real controls' "
            f"median or more [64] (the layout's controls, else every real control), from at least 10 walking "
            f"strides (fewer than about {params.min_variability_strides} lower confidence [77]), judged only "
            f"when one sample interval adds at most {params.variability_resolution_max_pct:g}% to it.")


def whole_foot_note(session: SessionMetrics, reference: ReferenceSet,
                    params: FindingParams | None = None) -> str:
    """Beside the impulse index: the load-asymmetry rule's combined test of the impulse, peak-force and F1
    indices for this walk (``_whole_foot_z``), so that a reader sees why an index above 10 % is or is not a
    finding ("" without a real set holding them)."""
    params = params or FindingParams()
    combined = _whole_foot_z(session, reference, params)
    if combined is None:
        return ""
    u, names, n_people, z = combined
    # enough digits that the value and its limit read apart (3.05 within ±3.05 would leave the reader guessing)
    digits = next((d for d in (2, 3, 4) if f"{abs(u):.{d}f}" != f"{z:.{d}f}"), 4)
    return (f"Load asymmetry's test against the {n_people} real controls: the indices of {', '.join(names)} taken "
            f"together lie {u:+.{digits}f} SD from the controls' along the direction a foot carrying less moves "
            f"them ({'beyond' if abs(u) > z else 'within'} the ±{z:.{digits}f} SD it needs).")

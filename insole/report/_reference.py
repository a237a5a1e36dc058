"""Reference sets: what "typical" means for each metric, where it comes from, and how much to trust it.

A finding compares a foot with the other foot, with the patient's baseline,
with a reference set, or with a literature value. This module holds the
reference sets and builds them:

* ``real-controls-<layout>``: the **real** healthy controls recorded with one
  sensor layout (gaitpdb8: 37 people, footswitch1: 9 people; a walk staged
  twice under two labels is left out, ``without_staged_copies``).
* ``real-controls-pooled``: every layout's real controls together (46 people),
  applying to no layout in particular. A layout without real controls of its
  own is judged against it for **timing only** (event times, which do not
  depend on where the sensors sit); the report names the layouts it pools.
  (It replaced the five-walk ``physionet-controls`` set, whose walks it holds.)
* ``simulated-normal-<layout>``: the insole simulator's ``normal`` pattern
  over many seeds. **Not measured people**: the simulator's normal foot is
  built from literature values (docs/simulator.md). It exists because no real
  walking data with the insole16 sensor layout is available yet; it is used
  only to decide *which* foot departs from typical when two feet differ, and
  every finding that leans on it says so and carries lower confidence.

The stored numbers are data, one JSON file per set in ``_data/reference_sets/``,
written by ``make references`` (``docs/scripts/rebuild_references.py``, through
``build_reference_sets`` and ``write_reference_sets`` below) from the staged data and
the simulator, with the command, time, software version and parameters that made
them; ``tests/test_report_real.py`` rebuilds the real set and checks it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from insole._digest import recording_bytes_sha256
from insole.analysis import symmetry_index_pct
from insole.report._metrics import SessionMetrics, analysis_symmetry_index
from insole.report._model import json_number

__all__ = [
    "MetricDistribution",
    "ReferenceSet",
    "foot_metric_values",
    "session_metric_values",
    "timing_variability",
    "load_reference_sets",
    "reference_set_for",
    "build_reference_sets",
    "write_reference_sets",
    "reference_set_json",
    "reference_set_from_json",
    "REFERENCE_SCHEMA_VERSION",
    "REAL_LAYOUT_SOURCES",
    "POOLED_CONTROLS",
    "SMALL_SAMPLE_N",
    "pool_real_controls",
    "BODY_WEIGHT_METRICS",
    "body_weight_check",
    "build_real_layout_controls",
    "layout_reference_from_sessions",
    "Repeatability",
    "build_repeatability",
    "write_repeatability",
    "load_repeatability",
    "repeatability_from_document",
    "FOOT_METRICS",
    "FOOT_LEVEL_METRICS",
    "foot_level_values",
    "SESSION_METRICS",
    "SHARE_METRICS",
    "DIFF_METRICS",
    "LR_INDEX_METRICS",
    "NormBand",
    "build_norm_bands",
    "load_norms",
    "norm_band_for",
    "JudgingFrame",
    "judging_frame",
    "walk_identity",
]

# Per-foot metrics (one value per foot per recording) and per-session ones.
FOOT_METRICS: tuple[str, ...] = (
    "share_heel", "share_midfoot", "share_front", "share_hallux", "share_lesser_toes", "cop_ml_pct",
    "loading_rate_bw_s", "valley_ratio", "f1", "stance_s", "stance_pct", "step_s", "double_support_pct",
    "cpei_pct",
)
# Per-foot metrics that are one figure of the foot's whole walk, not a mean over its steps (``foot_level_values``):
# the analysis' robust stride-time CV (1.4826 x MAD / median), which ``insole analyze`` prints per foot.
FOOT_LEVEL_METRICS: tuple[str, ...] = ("stride_robust_cv_pct",)
# The left/right indices of per-foot metrics: the symmetry index (right vs left, %) of the feet's means. Their
# spread in real controls is the data-driven limit of healthy asymmetry the evidence base asks for [53]; their
# repeatability (MDC95) is measured from same-day retests.
LR_INDEX_METRICS: tuple[str, ...] = ("share_heel", "share_midfoot", "share_front", "share_hallux",
                                     "share_lesser_toes", "loading_rate_bw_s", "valley_ratio", "f1", "stance_s",
                                     "stance_pct")
# Regional shares also get an absolute left/right difference (right minus left, in share units 0-1): a symmetry
# index overstates a small share's difference (hallux 3 % vs 5 % reads -50 %) and understates a large one's
# (midfoot 50 % vs 40 % reads +22 %), so the share rules judge healthy asymmetry both ways.
SHARE_METRICS: tuple[str, ...] = ("share_heel", "share_midfoot", "share_front", "share_hallux", "share_lesser_toes")
# Per-foot metrics whose left/right difference (right minus left, in the metric's own units) is kept: the shares,
# and the medial-lateral COP offset, a signed position for which a symmetry index means nothing.
DIFF_METRICS: tuple[str, ...] = (*SHARE_METRICS, "cop_ml_pct")
SESSION_METRICS: tuple[str, ...] = (
    "timing_variability_pct", "stride_variability_pct", "stance_variability_pct", "stride_cv_pct", "stride_sd_ms",
    "stance_si_pct", "impulse_si_pct", "peak_force_si_pct", "cadence_steps_per_min", "step_si_pct", "cop_ml_sd_pct",
) + tuple(f"si_{m}" for m in LR_INDEX_METRICS) + tuple(f"diff_{m}" for m in DIFF_METRICS)


_TIMING = ("stride_variability_pct", "stance_variability_pct", "timing_variability_pct")


def timing_variability(session: SessionMetrics) -> dict[str, float]:
    """The analysis' stride-to-stride variability of stride time and of stance time (%), and their mean.

    Read from the session (``SessionMetrics.timing``, the analysis'
    ``Summary.timing_variability``): the robust SD of successive differences
    / sqrt(2) / median of each foot's used stride (stance) times, averaged over
    the feet with at least 10 strides. Hausdorff et al. found every gait-cycle
    timing variability measure raised in Parkinson's and Huntington's disease
    [64]; the mean of the stride and stance measures is what ``irregular_gait`` uses.
    """
    return {name: float(session.timing.get(name, math.nan)) for name in _TIMING}


def _mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def foot_metric_values(session: SessionMetrics, side: str) -> dict[str, np.ndarray]:
    """Per-step values of every per-foot metric of one foot: the analysis' columns, NaN where the report does
    not compare them (force-curve metrics of uncalibrated insoles, the COP offset on layouts without medial and
    lateral sensors)."""
    foot = session.foot(side)
    out: dict[str, np.ndarray] = {}
    if foot is None or foot.n_steps == 0:
        return out
    steps = foot.steps

    def col(name: str) -> np.ndarray:
        return steps[name].to_numpy(float) if name in steps.columns else np.full(len(steps), np.nan)

    for name in ("share_heel", "share_midfoot", "share_front", "share_hallux", "share_lesser_toes", "cop_ml_pct",
                 "loading_rate_bw_s", "valley_ratio", "f1", "stance_s", "stance_pct", "step_s", "double_support_pct",
                 "cpei_pct"):
        out[name] = col(name)
    if not session.cop_ml_ok:
        out["cop_ml_pct"] = np.full(len(steps), np.nan)
        out["cpei_pct"] = np.full(len(steps), np.nan)
    if session.force_unit != "BW":
        # force-sensitive resistors are not linear in force: their curve shape is not the force's
        for name in ("valley_ratio", "loading_rate_bw_s", "f1"):
            out[name] = np.full(len(steps), np.nan)
    return out


def foot_level_values(session: SessionMetrics, side: str) -> dict[str, float]:
    """One value per foot for each of ``FOOT_LEVEL_METRICS``: the analysis' own (NaN where it gives none)."""
    return {"stride_robust_cv_pct": float(session.stride_robust_cv_pct.get(side, math.nan))}


def _si(session: SessionMetrics, column: str) -> float:
    """The analysis' symmetry index of report metric ``column`` (R vs L, %); without an analysis, of the step means."""
    if session.analysis is not None:
        value = analysis_symmetry_index(session, column)
        return math.nan if value is None else value
    left, right = session.feet["left"], session.feet["right"]
    return symmetry_index_pct(_mean(right.values(column)), _mean(left.values(column)))


def session_metric_values(session: SessionMetrics) -> dict[str, float]:
    """One value per session: variability, symmetry indices (R vs L, %), cadence."""
    out: dict[str, float] = dict(timing_variability(session))
    for name in ("stride_cv_pct", "stride_sd_ms"):
        out[name] = float(session.timing.get(name, math.nan))
    if set(session.sides) == {"left", "right"}:
        for metric, column in (("stance_si_pct", "stance_s"), ("impulse_si_pct", "impulse"),
                               ("peak_force_si_pct", "peak_force")):
            if column in ("impulse", "peak_force") and session.force_unit != "BW":
                out[metric] = math.nan
                continue
            out[metric] = _si(session, column)
    out["cadence_steps_per_min"] = (float(session.cadence_steps_per_min)
                                    if session.cadence_steps_per_min else math.nan)
    if set(session.sides) == {"left", "right"}:
        left, right = foot_metric_values(session, "left"), foot_metric_values(session, "right")
        for m in LR_INDEX_METRICS:
            out[f"si_{m}"] = symmetry_index_pct(_mean(right.get(m, np.zeros(0))), _mean(left.get(m, np.zeros(0))))
        for m in DIFF_METRICS:
            out[f"diff_{m}"] = _mean(right.get(m, np.zeros(0))) - _mean(left.get(m, np.zeros(0)))
        # step-time asymmetry: the step ending at the right heel strike vs the one ending at the left's
        out["step_si_pct"] = symmetry_index_pct(_mean(right.get("step_s", np.zeros(0))),
                                                _mean(left.get("step_s", np.zeros(0))))
    # COP variability: the step-to-step SD of the medial-lateral COP offset (% of ball width), mean of the feet
    sds = []
    for side in session.sides:
        offsets = foot_metric_values(session, side).get("cop_ml_pct", np.zeros(0))
        offsets = offsets[np.isfinite(offsets)]
        if offsets.size >= 10:
            sds.append(float(offsets.std(ddof=1)))
    out["cop_ml_sd_pct"] = float(np.mean(sds)) if sds else math.nan
    return out


# Below this many values a reference's min-max is not used to mark a value (``MetricDistribution.judging_range``).
SMALL_SAMPLE_N = 20


@dataclass(frozen=True)
class MetricDistribution:
    """The values of one metric across a reference set's recordings (per foot for per-foot metrics)."""

    values: tuple[float, ...]
    # how many people the values come from (0: one value per person, as many as ``values``); a set holding both
    # feet of each person has twice as many values as people, and its small-sample statistics count people
    people: int = 0

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def n_people(self) -> int:
        return self.people or self.n

    def quantile(self, q: float) -> float:
        return float(np.quantile(np.asarray(self.values), q)) if self.values else math.nan

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values)) if self.values else math.nan

    @property
    def sd(self) -> float:
        return float(np.std(self.values, ddof=1)) if self.n > 1 else math.nan

    def judging_range(self) -> tuple[float, float, str] | None:
        """The range a value is judged against (marked outside it), and how it was made; None under 3 people.

        The min-max of n healthy people leaves out a new healthy person with probability 2/(n + 1) (values
        exchangeable): 33 % for n = 5, 20 % for n = 9, 9.5 % for n = 20. From ``SMALL_SAMPLE_N`` people up,
        the min-max is used ("range of n"); below, the 95 % prediction interval mean ± t(0.975, n − 1) × SD ×
        √(1 + 1/n) (normal values assumed), which leaves out 5 % of healthy people at any n. n counts people
        (``n_people``), not values: the two feet of one person are not two independent people.
        """
        n = self.n_people
        if self.n < 3 or n < 3:
            return None
        if n >= SMALL_SAMPLE_N:
            return min(self.values), max(self.values), "range"
        from scipy import stats

        half = float(stats.t.ppf(0.975, n - 1)) * self.sd * math.sqrt(1.0 + 1.0 / n)
        return self.mean - half, self.mean + half, "95% prediction interval"

    def summary(self) -> dict[str, float]:
        return {"n": self.n, "mean": self.mean, "sd": self.sd, "p2_5": self.quantile(0.025),
                "p20": self.quantile(0.2), "median": self.median, "p80": self.quantile(0.8),
                "p97_5": self.quantile(0.975), "min": min(self.values), "max": max(self.values)}


@dataclass(frozen=True)
class ReferenceSet:
    """A named set of reference values: ``kind`` "real" or "simulated"; ``layouts`` it applies to (empty: any).

    ``foot`` maps per-foot metric -> values (both feet of every recording);
    ``session`` maps per-session metric -> values; ``recordings`` lists what
    went in (name, group, and per-recording values for the report's table).
    """

    name: str
    kind: str
    description: str
    layouts: tuple[str, ...]
    foot: Mapping[str, MetricDistribution]
    session: Mapping[str, MetricDistribution]
    recordings: tuple[Mapping[str, Any], ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    # the recordings taken out of this set for the walk it judges (``without_subject``): a control judged against
    # the other controls, not against a range that holds its own values
    left_out: tuple[Mapping[str, Any], ...] = ()

    @property
    def source_kind(self) -> str:
        return "real controls" if self.kind == "real" else "simulated (not real people)"

    @property
    def n_recordings(self) -> int:
        return len(self.recordings)

    def holds_subject(self, subject: Any) -> bool:
        """Whether a recording of ``subject`` (compared without case and surrounding spaces) is one of the set's."""
        return any(_same_subject(r.get("subject"), subject) for r in self.recordings)

    def without_subject(self, subject: Any) -> ReferenceSet:
        """This set without the recordings of ``subject``: every distribution rebuilt from the other recordings'
        own values (``MEMBER_VALUES`` of each entry), in the stored order, so that each remaining value is the
        stored figure itself. The set itself when it holds no recording of ``subject``.

        Raises ``ValueError`` for a set stored without each recording's values (rebuild with ``make references``).
        """
        kept = tuple(r for r in self.recordings if not _same_subject(r.get("subject"), subject))
        if len(kept) == len(self.recordings):
            return self
        if any(MEMBER_VALUES not in r for r in self.recordings):
            raise ValueError(f"reference set {self.name} is stored without each recording's values: it cannot be "
                             f"rebuilt without {subject} (rebuild with `make references`)")
        foot, session = _distributions_from_members(kept, self.foot, self.session)
        removed = tuple(r for r in self.recordings if _same_subject(r.get("subject"), subject))
        return replace(self, foot=foot, session=session, recordings=kept, left_out=(*self.left_out, *removed))

    def applies_to(self, layout_name: str) -> bool:
        return not self.layouts or layout_name in self.layouts

    def foot_metric(self, metric: str) -> MetricDistribution | None:
        dist = self.foot.get(metric)
        return dist if dist is not None and dist.n >= 3 else None

    def session_metric(self, metric: str) -> MetricDistribution | None:
        dist = self.session.get(metric)
        return dist if dist is not None and dist.n >= 3 else None

    def foot_pairs(self, metric: str) -> np.ndarray:
        """(left, right) of ``metric`` per recording, one row per person with both feet known (``DIFF_METRICS``
        only; shape (0, 2) for a set stored without them)."""
        rows = [(r.get(f"left_{metric}"), r.get(f"right_{metric}")) for r in self.recordings]
        kept: list[tuple[float, float]] = [(float(a), float(b)) for a, b in rows if a is not None and b is not None]
        pairs = np.asarray(kept, dtype=np.float64).reshape(-1, 2)
        return pairs[np.isfinite(pairs).all(axis=1)]

    def session_vectors(self, metrics: Sequence[str]) -> np.ndarray:
        """The per-session ``metrics`` of each recording, one row per recording with all of them known."""
        rows = [[r.get(m) for m in metrics] for r in self.recordings]
        kept: list[list[float]] = [[float(v) for v in row if v is not None] for row in rows
                                   if all(v is not None for v in row)]
        values = np.asarray(kept, dtype=np.float64).reshape(-1, len(metrics))
        return values[np.isfinite(values).all(axis=1)]

    def to_dict(self) -> dict[str, Any]:
        def clean(d: Mapping[str, MetricDistribution]) -> dict[str, Any]:
            return {k: {s: (None if isinstance(v, float) and not math.isfinite(v) else v)
                        for s, v in dist.summary().items()} for k, dist in d.items() if dist.n}

        return {"name": self.name, "kind": self.kind, "source_kind": self.source_kind,
                "description": self.description, "layouts": list(self.layouts),
                "n_recordings": self.n_recordings, "foot_metrics": clean(self.foot),
                "session_metrics": clean(self.session), "recordings": [dict(r) for r in self.recordings],
                "provenance": dict(self.provenance)}


# Metrics in body weights: a recording whose insoles' load contradicts the body mass (the analysis' body-weight
# check, ``insole.analysis.PLAUSIBLE_LOAD_TO_BODY_WEIGHT``) carries that error into every one of them. Shares,
# ratios (valley ratio) and symmetry indices of one system are free of a common gain error and are kept.
BODY_WEIGHT_METRICS: tuple[str, ...] = ("f1", "loading_rate_bw_s")


def body_weight_check(session: SessionMetrics) -> tuple[float | None, bool]:
    """The insoles' mean walking load over body mass x g, and whether it lies in the analysis' plausible band.

    No mass (body weight estimated from the load itself) or uncalibrated sensors: (None, True), nothing to check.
    """
    analysis = session.analysis
    if analysis is None or session.force_unit != "BW":
        return None, True
    weight = dict(analysis.summary.body_weight)
    ratio = weight.get("load_to_body_weight_ratio")
    if ratio is None or not math.isfinite(float(ratio)):
        return None, True
    low, high = weight.get("plausible_load_to_body_weight_ratio") or (0.8, 1.2)
    return float(ratio), bool(low <= float(ratio) <= high)


# Per-foot timing metrics: both feet see the same gait cycles (a stride of the left foot spans one of the right's;
# stance, step and double support of the two feet share their events), so a person's two values are nearly one
# figure twice. A real set holds one value per person for them, the mean of the two feet: each person counts once.
PER_PERSON_FOOT_METRICS: tuple[str, ...] = ("stance_s", "stance_pct", "step_s", "double_support_pct",
                                            "stride_robust_cv_pct")
# The key of each recording's own contribution to the set's distributions: {"foot": {metric: [values]},
# "session": {metric: value}}, the very figures the distributions hold (same rounding), so that a set can be
# rebuilt without one of its people at report time (``ReferenceSet.without_subject``).
MEMBER_VALUES = "member_values"


def _same_subject(a: Any, b: Any) -> bool:
    return bool(a) and bool(b) and str(a).strip().casefold() == str(b).strip().casefold()


def _distributions_from_members(recordings: Sequence[Mapping[str, Any]], foot_metrics: Iterable[str],
                                session_metrics: Iterable[str]
                                ) -> tuple[dict[str, MetricDistribution], dict[str, MetricDistribution]]:
    """The foot and session distributions of ``recordings`` from their ``MEMBER_VALUES``, in recording order;
    a foot metric counts as people the recordings that give it at least one value."""
    def own(entry: Mapping[str, Any], part: str, metric: str) -> list[float]:
        value = (entry.get(MEMBER_VALUES) or {}).get(part, {}).get(metric)
        return [] if value is None else [float(v) for v in value] if part == "foot" else [float(value)]

    def dist(part: str, metric: str) -> MetricDistribution:
        given = [own(r, part, metric) for r in recordings]
        values = tuple(v for person in given for v in person)
        return MetricDistribution(values, people=sum(1 for person in given if person) if part == "foot" else 0)

    return ({m: dist("foot", m) for m in foot_metrics}, {m: dist("session", m) for m in session_metrics})


def reference_from_sessions(name: str, kind: str, description: str, layouts: Sequence[str],
                            sessions: Iterable[tuple[Mapping[str, Any], SessionMetrics]],
                            provenance: Mapping[str, Any], *, body_weight_check_forces: bool = False,
                            one_value_per_person: bool = False) -> ReferenceSet:
    """Collect the metrics of several analysed sessions into a reference set.

    ``body_weight_check_forces``: leave a recording out of the metrics in body weights
    (``BODY_WEIGHT_METRICS``) when it fails the body-weight check. ``one_value_per_person``: the per-foot timing
    metrics (``PER_PERSON_FOOT_METRICS``) get one value per recording, the mean of its feet. Each recording's
    entry keeps its own values (``MEMBER_VALUES``).
    """
    foot_names = (*FOOT_METRICS, *FOOT_LEVEL_METRICS)
    recordings = []
    for info, metrics in sessions:
        entry = dict(info)
        own_foot: dict[str, list[float]] = {m: [] for m in foot_names}
        own_session: dict[str, float] = {}
        skip: tuple[str, ...] = ()
        if body_weight_check_forces:
            ratio, passed = body_weight_check(metrics)
            entry["load_to_body_weight_ratio"] = None if ratio is None else round(ratio, 3)
            entry["body_weight_check"] = "passed" if passed else "failed: left out of " + ", ".join(
                BODY_WEIGHT_METRICS)
            skip = () if passed else BODY_WEIGHT_METRICS
        raw: dict[str, list[float]] = {m: [] for m in foot_names}
        for side in metrics.sides:
            per_step = foot_metric_values(metrics, side)
            for m in FOOT_METRICS:
                if m in skip:
                    continue
                v = _mean(per_step.get(m, np.zeros(0)))
                if math.isfinite(v):
                    raw[m].append(v)
                    if m in DIFF_METRICS:
                        # each foot's own value, per person: the relation between a person's two feet (what one
                        # foot predicts of the other) is what the findings judge a one-sided change against
                        entry[f"{side}_{m}"] = round(v, 6)
            for m, v in foot_level_values(metrics, side).items():
                if math.isfinite(v):
                    raw[m].append(v)
        for m, values in raw.items():
            if one_value_per_person and m in PER_PERSON_FOOT_METRICS and values:
                own_foot[m] = [round(float(np.mean(values)), 6)]
            else:
                own_foot[m] = [round(v, 6) for v in values]
        per_session = session_metric_values(metrics)
        for m in SESSION_METRICS:
            v = per_session.get(m, math.nan)
            if math.isfinite(v):
                own_session[m] = round(v, 6)
                entry[m] = round(v, 4)
        entry[MEMBER_VALUES] = {"foot": {m: v for m, v in own_foot.items() if v}, "session": own_session}
        recordings.append(entry)
    foot, session = _distributions_from_members(recordings, foot_names, SESSION_METRICS)
    return ReferenceSet(
        name=name, kind=kind, description=description, layouts=tuple(layouts), foot=foot, session=session,
        recordings=tuple(recordings), provenance=dict(provenance),
    )


def _from_stored(data: Mapping[str, Any]) -> ReferenceSet:
    recordings = tuple(data["recordings"])
    foot = {m: MetricDistribution(tuple(v)) for m, v in data["foot"].items()}
    if recordings and all(MEMBER_VALUES in r for r in recordings):
        # how many people give each foot metric (the stored values are the distributions, as written)
        people = _distributions_from_members(recordings, foot, ())[0]
        foot = {m: replace(d, people=people[m].people) for m, d in foot.items()}
    return ReferenceSet(
        name=data["name"], kind=data["kind"], description=data["description"], layouts=tuple(data["layouts"]),
        foot=foot, session={m: MetricDistribution(tuple(v)) for m, v in data["session"].items()},
        recordings=recordings, provenance=data["provenance"],
    )


def to_stored(ref: ReferenceSet) -> dict[str, Any]:
    out = {"name": ref.name, "kind": ref.kind, "description": ref.description, "layouts": list(ref.layouts),
           "foot": {m: list(d.values) for m, d in ref.foot.items()},
           "session": {m: list(d.values) for m, d in ref.session.items()},
           "recordings": [dict(r) for r in ref.recordings], "provenance": dict(ref.provenance)}
    if ref.kind == "real":
        # for a reader of the file: n and percentiles per metric (the values above are what the report uses)
        def table(d: Mapping[str, MetricDistribution]) -> dict[str, Any]:
            return {m: {k: round(float(v), 6) for k, v in dist.summary().items()} for m, dist in d.items() if dist.n}

        out["percentiles"] = {"foot": table(ref.foot), "session": table(ref.session)}
    return out


# The stored sets: one JSON file per set in insole/report/_data/reference_sets/, shipped as package data.
REFERENCE_SCHEMA_VERSION = 1
_STORE = ("_data", "reference_sets")


def reference_set_json(ref: ReferenceSet, built: Mapping[str, Any]) -> str:
    """The stored form of one set: pretty-printed, keys sorted, one value a line, so a rebuild diffs line by line.

    ``built`` says how and when the numbers were made (command, UTC time); the
    set's own ``provenance`` says with what (software version, parameters).
    """
    document = {"schema_version": REFERENCE_SCHEMA_VERSION, "built": dict(built), "reference_set": to_stored(ref)}
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def reference_set_from_json(text: str) -> ReferenceSet:
    """Read one stored set (the inverse of ``reference_set_json``)."""
    document = json.loads(text)
    version = document.get("schema_version")
    if version != REFERENCE_SCHEMA_VERSION:
        # an old or newer store is not guessed at: the numbers would be read with the wrong meaning
        raise ValueError(f"stored reference set has schema_version {version!r}; "
                         f"this insole reads {REFERENCE_SCHEMA_VERSION} (rebuild with `make references`)")
    return _from_stored(document["reference_set"])


def load_reference_sets() -> tuple[ReferenceSet, ...]:
    """The stored reference sets, in file-name order (empty if none were built yet)."""
    folder = resources.files("insole.report").joinpath(*_STORE)
    if not folder.is_dir():
        return ()
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)
    return tuple(reference_set_from_json(e.read_text(encoding="utf-8")) for e in entries)


def reference_set_for(sets: Sequence[ReferenceSet], layout_name: str, *, kind: str | None = None,
                      layout_specific: bool = True) -> ReferenceSet | None:
    """The first set that applies to the layout (``layout_specific``: only sets naming that layout)."""
    for ref in sets:
        if kind is not None and ref.kind != kind:
            continue
        if layout_specific and layout_name not in ref.layouts:
            continue
        if not layout_specific and ref.layouts:
            continue
        return ref
    return None


# ---------------------------------------------------------------- building the stored sets

# The real healthy-control recordings staged with the project (shared/data), by dataset.
REAL_CONTROL_FILES: tuple[tuple[str, str], ...] = (
    ("gaitndd", "control1.hea"),
    ("gaitndd", "control2.hea"),
    ("gaitpdb", "GaCo01_01.txt"),
    ("gaitpdb", "JuCo01_01.txt"),
    ("gaitpdb", "SiCo01_01.txt"),
)
SIMULATED_LAYOUTS: tuple[str, ...] = ("insole16",)


def build_real_controls(data_dir: Any) -> ReferenceSet:
    """The five staged PhysioNet control walks as a reference set (no longer stored: ``real-controls-pooled``
    holds them among 46; kept for the leave-one-out tests of the irregular-gait rule)."""

    from insole._version import __version__
    from insole.io import load
    from insole.report._evidence import DATASET_CITATIONS
    from insole.report._metrics import session_metrics

    data_dir = Path(data_dir)
    sessions = []
    for dataset, name in REAL_CONTROL_FILES:
        path = data_dir / dataset / name
        recording = load(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        info = {"dataset": dataset, "file": name, "group": "control", "sha256": digest,
                "layout": recording.layout.name, "unit": recording.unit}
        sessions.append((info, session_metrics(recording)))
    return reference_from_sessions(
        name="physionet-controls", kind="real",
        description=("real healthy-control walks staged with insole: PhysioNet gaitndd control1-2 (force-sensitive "
                     "foot switches, 300 Hz, 5 min) and gaitpdb GaCo01, JuCo01, SiCo01 (8-sensor Infotronic "
                     "insoles, 100 Hz, 1-2 min); n = 5, few. " + DATASET_CITATIONS["gaitndd"] + " "
                     + DATASET_CITATIONS["gaitpdb"]),
        layouts=(), sessions=sessions,
        provenance={"insole_version": __version__, "built_from": "shared/data (staged development subset)",
                    "metrics": sessions[0][1].provenance.get("metrics", "insole analysis core")},
    )


# ---------------------------------------------------------------- one recording staged under two names

# Every staged real recording a reference set, the norms or the findings validation may gather: (dataset folder,
# glob). The copies rule (``without_staged_copies``) compares each gathered file with all of these, so that a copy
# outside a builder's own selection (a patient's file, a second trial) is still seen.
STAGED_RECORDINGS: tuple[tuple[str, str], ...] = (
    ("gaitpdb", "*_[0-9][0-9].txt"), ("gaitpdb-cohort", "*_[0-9][0-9].txt"),
    ("gaitndd", "*.hea"), ("gaitndd-cohort", "*.hea"),
)
# The group a staged file's name gives it: gaitpdb <study>Co/Pt<n>_<trial>.txt, gaitndd control/park/hunt/als<n>.
_STAGED_GROUP_NAMES = (
    (re.compile(r"^[A-Za-z]{2}Co\d+_"), "control"), (re.compile(r"^[A-Za-z]{2}Pt\d+_"), "Parkinson's"),
    (re.compile(r"^control\d"), "control"), (re.compile(r"^park\d"), "Parkinson's"),
    (re.compile(r"^hunt\d"), "Huntington's"), (re.compile(r"^als\d"), "ALS"),
)


def staged_group(name: str) -> str | None:
    """The group label a staged recording's file name gives (control, Parkinson's, Huntington's, ALS), or None."""
    return next((group for pattern, group in _STAGED_GROUP_NAMES if pattern.match(Path(name).name)), None)


def _described(dataset: str, path: Path, group: str | None) -> str:
    return f"{path.name} ({dataset}), labelled {group or 'with no group'}"


def without_staged_copies(data_dir: Any, files: Sequence[tuple[str, Any]]
                          ) -> tuple[list[tuple[str, Path]], list[dict[str, Any]]]:
    """``files`` ((dataset, path) pairs, in the caller's order) without the recordings that must not count, and
    what was left out and why (JSON-ready: dataset, file, group, sha256, same_as, reason).

    A recording whose bytes (``recording_bytes_sha256``) another staged recording (``STAGED_RECORDINGS`` under
    ``data_dir``, or another of ``files``) also has under a **different group label** is left out: one walk cannot
    be a healthy control's and a patient's, and which label is true cannot be told from the data, so it counts as
    neither (every copy is left out). Copies under the **same** label are one recording: the first of ``files``
    is kept, the later ones left out, so that it counts once. The group comes from the file's name
    (``staged_group``)."""
    data_dir = Path(data_dir)
    staged: dict[Path, tuple[str, Path]] = {}
    for dataset, pattern in STAGED_RECORDINGS:
        for path in sorted((data_dir / dataset).glob(pattern)):
            staged[path.resolve()] = (dataset, path)
    for dataset, path in files:
        staged.setdefault(Path(path).resolve(), (dataset, Path(path)))
    digests = {key: recording_bytes_sha256(path) for key, (_, path) in staged.items()}
    by_digest: dict[str, list[Path]] = {}
    for key, digest in digests.items():
        by_digest.setdefault(digest, []).append(key)
    kept: list[tuple[str, Path]] = []
    kept_digests: dict[str, tuple[str, Path]] = {}
    left_out: list[dict[str, Any]] = []
    for dataset, path in files:
        path = Path(path)
        key = path.resolve()
        digest = digests[key]
        group = staged_group(path.name)
        copies = [staged[other] for other in by_digest[digest] if other != key]
        other_groups = [(d, p, staged_group(p.name)) for d, p in copies]
        differ = [(d, p, g) for d, p, g in other_groups if g != group]
        entry = {"dataset": dataset, "file": path.name, "group": group, "sha256": digest,
                 "same_as": [{"dataset": d, "file": p.name, "group": g} for d, p, g in other_groups]}
        if differ:
            named = "; ".join(_described(*x) for x in differ)
            entry["reason"] = (f"the same bytes as {named}: which label is true is unknown, so this walk counts as "
                               f"neither ({group or 'no group'} nor {', '.join(sorted({str(g) for *_, g in differ}))})")
            left_out.append(entry)
        elif digest in kept_digests:
            first_dataset, first = kept_digests[digest]
            entry["reason"] = (f"the same bytes as {_described(first_dataset, first, group)} too, which is kept: one "
                               f"recording counts once")
            left_out.append(entry)
        else:
            kept.append((dataset, path))
            kept_digests[digest] = (dataset, path)
    return kept, left_out


def left_out_text(left_out: Sequence[Mapping[str, Any]]) -> str:
    """One sentence naming the recordings left out (``without_staged_copies``) and why; empty when none."""
    if not left_out:
        return ""
    return ("Left out: " + "; ".join(f"{e['file']} ({e['dataset']}, labelled {e.get('group') or 'with no group'}), "
                                     f"{e['reason']}" for e in left_out) + ".")


# The real healthy controls per sensor layout: (dataset folder, file glob) under shared/data. One usual-walk
# file per subject (gaitpdb "_01"; "_02" is a same-day second trial, kept for repeatability).
REAL_LAYOUT_SOURCES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "gaitpdb8": (("gaitpdb", "*Co*_01.txt"), ("gaitpdb-cohort", "*Co*_01.txt")),
    "footswitch1": (("gaitndd", "control*.hea"), ("gaitndd-cohort", "control*.hea")),
}


def real_layout_selection(data_dir: Any, layout: str) -> tuple[list[tuple[str, Path]], list[dict[str, Any]]]:
    """The real control recordings staged for ``layout`` (``REAL_LAYOUT_SOURCES``, in name order) that may count,
    and those left out because another staged recording has their bytes (``without_staged_copies``), with why."""
    data_dir = Path(data_dir)
    found: list[tuple[str, Path]] = []
    for dataset, pattern in REAL_LAYOUT_SOURCES[layout]:
        found += [(dataset, p) for p in sorted((data_dir / dataset).glob(pattern))]
    return without_staged_copies(data_dir, found)


def real_layout_files(data_dir: Any, layout: str) -> list[tuple[str, Any]]:
    """(dataset, path) of every real control recording staged for ``layout``, in name order, without the ones
    another staged recording repeats byte for byte (``real_layout_selection`` says which and why)."""
    return list(real_layout_selection(data_dir, layout)[0])


def recording_info(dataset: str, path: Any, recording: Any) -> dict[str, Any]:
    """What a reference set records about one recording: source, subject, age, sex, speed, mass."""
    import hashlib
    from pathlib import Path

    extra = recording.meta.extra or {}
    person = dict(extra.get("demographics") or extra.get("subject") or {})
    return {"dataset": dataset, "file": Path(path).name, "subject": recording.meta.subject_id,
            "group": extra.get("group", "control"), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
            "layout": recording.layout.name, "unit": recording.unit, "age_years": person.get("age_years"),
            "sex": person.get("sex"), "gait_speed_m_per_s": person.get("gait_speed_m_per_s"),
            "body_mass_kg": recording.meta.body_mass_kg}


def layout_reference_from_sessions(layout: str, sessions: Sequence[tuple[Mapping[str, Any], SessionMetrics]],
                                   *, name: str | None = None, note: str = "",
                                   left_out: Sequence[Mapping[str, Any]] = ()) -> ReferenceSet:
    """A per-layout real control set from analysed (info, session) pairs (also used leave-one-subject-out).

    ``left_out``: the staged control recordings not among them because another staged recording has their bytes
    (``without_staged_copies``), named in the description and the provenance."""
    from insole._version import __version__
    from insole.report._evidence import DATASET_CITATIONS

    ages = [float(i["age_years"]) for i, _ in sessions if i.get("age_years") is not None]
    speeds = [float(i["gait_speed_m_per_s"]) for i, _ in sessions
              if i.get("gait_speed_m_per_s") is not None and math.isfinite(float(i["gait_speed_m_per_s"]))]
    sexes = [str(i.get("sex")) for i, _ in sessions]
    datasets = sorted({str(i["dataset"]) for i, _ in sessions})
    citations = " ".join(DATASET_CITATIONS[d] for d in ("gaitpdb", "gaitndd") if any(x.startswith(d) for x in datasets))

    def span(values: list[float], digits: int) -> str:
        return f"{min(values):.{digits}f}-{max(values):.{digits}f} (median {float(np.median(values)):.{digits}f})" \
            if values else "not given"

    description = (f"real healthy controls walking at their usual pace, layout {layout}: n = {len(sessions)} people "
                   f"({', '.join(datasets)}; {sexes.count('female')} women, {sexes.count('male')} men), ages "
                   f"{span(ages, 0)} years, walking speeds {span(speeds, 2)} m/s. Not stratified by speed or age "
                   f"(too few people per stratum); recordings failing the body-weight check are left out of the "
                   f"metrics in body weights. Each person counts once: per-foot timing measures (stance, step, double "
                   f"support, stride-time robust CV) are each person's mean of the two feet; the other per-foot "
                   f"measures hold both feet of each person, and their ranges count people, not feet. "
                   f"{note}{left_out_text(left_out) + ' ' if left_out else ''}{citations}")
    return reference_from_sessions(
        name=name or f"real-controls-{layout}", kind="real", description=description, layouts=(layout,),
        sessions=sessions, body_weight_check_forces=True, one_value_per_person=True,
        provenance={"insole_version": __version__, "built_from": "shared/data (" + ", ".join(datasets) + ")",
                    "layout": layout, "one_file_per_subject": True,
                    "metrics": sessions[0][1].provenance.get("metrics", "insole analysis core") if sessions else "",
                    **({"left_out": [dict(e) for e in left_out]} if left_out else {})},
    )


def build_real_layout_controls(data_dir: Any, layout: str) -> ReferenceSet:
    """The real control reference set of one layout (``REAL_LAYOUT_SOURCES``) from the staged data."""
    from insole.io import load
    from insole.report._metrics import session_metrics

    sessions = []
    files, left_out = real_layout_selection(data_dir, layout)
    for dataset, path in files:
        recording = load(path)
        sessions.append((recording_info(dataset, path, recording), session_metrics(recording)))
    return layout_reference_from_sessions(layout, sessions, left_out=left_out)


# The name of the set pooling every layout's real controls (``pool_real_controls``).
POOLED_CONTROLS = "real-controls-pooled"


def pool_real_controls(sets: Sequence[ReferenceSet]) -> ReferenceSet:
    """Every layout's real controls in ``sets`` as one set applying to no layout: the recordings of the layout sets
    one after the other (in name order), their distributions made from the recordings' own values by the rule every
    set uses (``_distributions_from_members``, as ``ReferenceSet.without_subject`` rebuilds them), nothing
    re-analysed.

    Each person counts once: a subject id (compared as ``holds_subject`` compares it) found in two recordings is
    refused (``ValueError``), since the pool would count that person twice and ``without_subject`` would take out
    both. The staged cohorts share no subject: each layout's controls come from another PhysioNet database and its
    own studies (gaitpdb8: Yogev 2005, Hausdorff 2007, Frenkel-Toledo 2005; footswitch1: Hausdorff 1997, 2000),
    each numbering its own subjects (GaCo/JuCo/SiCo..., control...), one usual-walk file per subject, and nothing
    in them links a person across the two -- so the pooled number of people is the number of recordings.

    It applies to any layout (``layouts`` empty) and is meant for the layouts without real controls of their own,
    for the measures that do not depend on where the sensors sit (event timing); the report and the findings use
    it for nothing else (the rows of other measures beside it say "not judged: another insole").
    """
    from insole._version import __version__

    parts = sorted((ref for ref in sets if ref.kind == "real" and ref.layouts), key=lambda ref: ref.name)
    if not parts:
        raise ValueError("no per-layout real control set to pool")
    recordings = tuple(r for ref in parts for r in ref.recordings)
    seen: dict[str, str] = {}
    for ref in parts:
        for r in ref.recordings:
            key = str(r.get("subject") or "").strip().casefold()
            if key and key in seen:
                raise ValueError(f"subject {r.get('subject')} is in {seen[key]} and in {ref.name}: pooling would "
                                 f"count one person twice")
            if key:
                seen[key] = ref.name
    if any(MEMBER_VALUES not in r for r in recordings):
        raise ValueError("a per-layout real set is stored without each recording's values: rebuild it with "
                         "`make references` before pooling")
    foot, session = _distributions_from_members(recordings, (*FOOT_METRICS, *FOOT_LEVEL_METRICS), SESSION_METRICS)
    people = len(recordings)
    counts = ", ".join(f"{ref.name} {ref.n_recordings}" for ref in parts)
    left_out = [dict(e) for ref in parts for e in ref.provenance.get("left_out") or ()]
    layouts = ", ".join(layout for ref in parts for layout in ref.layouts)
    return ReferenceSet(
        name=POOLED_CONTROLS, kind="real",
        description=(f"every real healthy control staged with insole, pooled over the sensor layouts ({layouts}): "
                     f"n = {people} people ({counts}). Used for timing only (stride, stance, swing and step times, "
                     f"double support, stride-to-stride variability, timing symmetry: event times, which do not "
                     f"depend on where the sensors sit) on layouts without real controls of their own; each "
                     f"person's walk is described in the per-layout set."
                     + (f" {left_out_text(left_out)}" if left_out else "")),
        layouts=(), foot=foot, session=session, recordings=recordings,
        provenance={"insole_version": __version__, "pooled_from": [ref.name for ref in parts],
                    "metrics": parts[0].provenance.get("metrics", "insole analysis core"),
                    **({"left_out": left_out} if left_out else {})},
    )


def build_simulated_normal(layout: str = "insole16", seeds: Sequence[int] = tuple(range(10_000, 10_100)),
                           duration_s: float = 60.0) -> ReferenceSet:
    """The simulator's ``normal`` pattern over ``seeds`` (NOT real people), as a reference set for ``layout``."""
    from insole._version import __version__
    from insole.report._metrics import session_metrics
    from insole.simulate import SimulationParams, simulate

    sessions = []
    for seed in seeds:
        params = SimulationParams(pattern="normal", duration_s=duration_s, seed=int(seed), layout=layout)
        sessions.append(({"seed": int(seed)}, session_metrics(simulate(params))))
    return reference_from_sessions(
        name=f"simulated-normal-{layout}", kind="simulated",
        description=(f"insole simulator, pattern 'normal', {len(sessions)} simulated subjects of {duration_s:g} s "
                     f"on layout {layout} (seeds {min(seeds)}-{max(seeds)}): model values built from literature "
                     f"(docs/simulator.md), NOT measurements of people; used only until real {layout} control "
                     f"data exist"),
        layouts=(layout,), sessions=[(dict(info), m) for info, m in sessions],
        provenance={"insole_version": __version__, "simulation": {"pattern": "normal", "duration_s": duration_s,
                                                                   "seeds": [min(seeds), max(seeds)]},
                    "metrics": sessions[0][1].provenance.get("metrics", "insole analysis core")},
    )


def build_reference_sets(data_dir: Any, *, seeds: int = 100,
                         layouts: Sequence[str] = SIMULATED_LAYOUTS) -> tuple[ReferenceSet, ...]:
    """Build every stored reference set with the current analysis: the real controls, then the simulated cohorts.

    Parameters
    ----------
    data_dir
        The staged datasets (``../shared/data``); the real control files are
        read from it (``REAL_LAYOUT_SOURCES``), then pooled (``pool_real_controls``).
    seeds
        Simulated normal subjects per layout (seeds 10000 onwards, disjoint
        from the findings validation's seeds).
    layouts
        Layouts that get a simulated normal set.
    """
    built = [build_real_layout_controls(data_dir, layout) for layout in REAL_LAYOUT_SOURCES
             if real_layout_files(data_dir, layout)]
    # the layouts' controls pooled, for timing on layouts without their own (replaces the five-walk set)
    built = [pool_real_controls(built), *built] if built else []
    built += [build_simulated_normal(layout, tuple(range(10_000, 10_000 + seeds))) for layout in layouts]
    return tuple(built)


def write_reference_sets(sets: Sequence[ReferenceSet], folder: str | Path, *, command: str) -> list[Path]:
    """Write each set to ``folder/<name>.json`` (``reference_set_json``), stamped with ``command`` and the UTC time.

    Files of sets not in ``sets`` are left alone; returns the paths written.
    """
    from datetime import datetime, timezone

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    built = {"command": command, "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    written = []
    for ref in sets:
        path = folder / f"{ref.name}.json"
        path.write_text(reference_set_json(ref, built), encoding="utf-8")
        written.append(path)
    return written


# ---------------------------------------------------------------- repeatability (minimal detectable change)

# The same-day second trials staged per layout: (dataset folder, glob of the second trials); the first trial is
# the same name with "_01". gaitpdb-cohort holds 20 Ga subjects with a second usual walk on the same day.
REPEATABILITY_SOURCES: Mapping[str, tuple[str, str]] = {"gaitpdb8": ("gaitpdb-cohort", "Ga*_02.txt")}
# The left/right indices whose repeatability is measured: a foot metric's symmetry index (right vs left, %).

@dataclass(frozen=True)
class Repeatability:
    """MDC95 per metric of one layout from same-day test-retest pairs.

    ``foot``: per-foot metric -> MDC95 of a foot's mean (the metric's stored unit: shares 0-1);
    ``lr_index``: foot metric -> MDC95 of its right-vs-left symmetry index (%); ``session``: per-session
    metric -> MDC95. MDC95 = 1.96 x sqrt(2) x SEM with SEM = SD of the trial-to-trial differences / sqrt(2),
    i.e. 1.96 x SD of the differences.
    """

    layout: str
    foot: Mapping[str, float]
    lr_index: Mapping[str, float]
    session: Mapping[str, float]
    n_pairs: int
    description: str = ""
    # the pairs the MDC95 rests on: (subject, first file, second file)
    pairs: tuple[tuple[str, str, str], ...] = ()
    # each pair's second-minus-first differences ({"foot": {metric: [per foot]}, "lr_index": {metric: d},
    # "session": {metric: d}}), in the order of ``pairs``; empty for a document stored without them
    differences: tuple[Mapping[str, Any], ...] = ()
    # the pairs taken out for the walk judged (``without_subject``): (subject, first file, second file)
    left_out: tuple[tuple[str, str, str], ...] = ()
    # the description of the document as stored (``description`` names the pairs left out)
    stored_description: str = ""

    def holds_subject(self, subject: Any) -> bool:
        return any(_same_subject(p[0], subject) for p in self.pairs)

    def without_subject(self, subject: Any) -> Repeatability:
        """The MDC95s without ``subject``'s same-day pair, from the other pairs' stored differences (the same
        computation as the stored figures); itself when no pair is the subject's.

        Raises ``ValueError`` for a document stored without the pairs' differences (rebuild with ``make
        references``).
        """
        drop = [k for k, p in enumerate(self.pairs) if _same_subject(p[0], subject)]
        if not drop:
            return self
        if len(self.differences) != len(self.pairs):
            raise ValueError(f"the repeatability of {self.layout} is stored without each pair's differences: it "
                             f"cannot be rebuilt without {subject} (rebuild with `make references`)")
        kept = [d for k, d in enumerate(self.differences) if k not in drop]
        mdc = _mdc_from_differences(kept)

        def pick(part: str) -> dict[str, float]:
            return {m: float(v["mdc95"]) for m, v in mdc[part].items() if v.get("mdc95") is not None}

        pairs = tuple(p for k, p in enumerate(self.pairs) if k not in drop)
        removed = tuple(p for k, p in enumerate(self.pairs) if k in drop)
        base = self.stored_description or self.description
        return replace(self, foot=pick("foot"), lr_index=pick("lr_index"), session=pick("session"),
                       n_pairs=len(pairs), pairs=pairs, differences=tuple(kept),
                       left_out=(*self.left_out, *removed), stored_description=base,
                       description=(f"{base}, without this person's own pair ({removed[0][1]}, {removed[0][2]}): "
                                    f"the {len(pairs)} other pairs"))

    def foot_mdc(self, metric: str) -> float | None:
        value = self.foot.get(metric)
        return float(value) if value is not None and math.isfinite(value) else None

    def lr_mdc(self, metric: str) -> float | None:
        value = self.lr_index.get(metric)
        return float(value) if value is not None and math.isfinite(value) else None

    def session_mdc(self, metric: str) -> float | None:
        value = self.session.get(metric)
        return float(value) if value is not None and math.isfinite(value) else None


def _mdc95(differences: Sequence[float]) -> dict[str, Any]:
    d = np.asarray([x for x in differences if math.isfinite(x)], float)
    if d.size < 3:
        return {"n": int(d.size), "mdc95": None, "sem": None, "mean_difference": None}
    sd = float(d.std(ddof=1))
    return {"n": int(d.size), "mdc95": round(1.96 * sd, 6), "sem": round(sd / math.sqrt(2), 6),
            "mean_difference": round(float(d.mean()), 6)}


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def pair_differences(first: SessionMetrics, second: SessionMetrics) -> dict[str, Any]:
    """One same-day pair's second-minus-first differences (JSON-ready, None where not measured): per foot
    metric the feet's (left, right order), per left/right index and per session metric one each."""
    means = []
    for s in (first, second):
        means.append({side: {m: _mean(v) for m, v in foot_metric_values(s, side).items()} for side in s.sides})
    foot: dict[str, list[float | None]] = {m: [] for m in FOOT_METRICS}
    for side in sorted(set(means[0]) & set(means[1])):
        for m in FOOT_METRICS:
            foot[m].append(_json_float(means[1][side].get(m, math.nan) - means[0][side].get(m, math.nan)))
    lr: dict[str, float | None] = {}
    if all({"left", "right"} <= set(x) for x in means):
        for m in LR_INDEX_METRICS:
            si = [symmetry_index_pct(x["right"].get(m, math.nan), x["left"].get(m, math.nan)) for x in means]
            lr[m] = _json_float(si[1] - si[0])
    v1, v2 = session_metric_values(first), session_metric_values(second)
    session = {m: _json_float(v2.get(m, math.nan) - v1.get(m, math.nan)) for m in SESSION_METRICS}
    return {"foot": foot, "lr_index": lr, "session": session}


def _mdc_from_differences(differences: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The MDC95 table of every metric from the pairs' differences (``pair_differences``)."""
    def gather(part: str, metric: str) -> list[float]:
        out: list[float] = []
        for d in differences:
            value = (d.get(part) or {}).get(metric)
            for v in (value if isinstance(value, list) else [value]):
                out.append(math.nan if v is None else float(v))
        return out

    return {"foot": {m: _mdc95(gather("foot", m)) for m in FOOT_METRICS},
            "lr_index": {m: _mdc95(gather("lr_index", m)) for m in LR_INDEX_METRICS},
            "session": {m: _mdc95(gather("session", m)) for m in SESSION_METRICS}}


def repeatability_from_pairs(layout: str, pairs: Sequence[tuple[Mapping[str, Any], SessionMetrics, SessionMetrics]]
                             ) -> dict[str, Any]:
    """The repeatability document (JSON-ready) from (info, first trial, second trial) triples; each pair keeps
    its own differences, so that the MDC95s can be recomputed without one pair (``Repeatability.without_subject``)."""
    differences = [pair_differences(first, second) for _, first, second in pairs]
    mdc = _mdc_from_differences(differences)
    groups = [str(info.get("group")) for info, _, _ in pairs]
    return {
        "layout": layout, "n_pairs": len(pairs),
        "groups": {g: groups.count(g) for g in sorted(set(groups))},
        "method": "MDC95 = 1.96 x sqrt(2) x SEM, SEM = SD of the second-minus-first differences / sqrt(2) "
                  "(= 1.96 x SD of the differences); foot metrics: each foot's mean over its used strides, both "
                  "feet of each person; left/right indices: the symmetry index right vs left (%) of the feet's "
                  "means; shares are stored 0-1",
        **mdc,
        "pairs": [{"first": info["first"], "second": info["second"], "subject": info.get("subject"),
                   "group": info.get("group"), "age_years": info.get("age_years"),
                   "gait_speed_m_per_s": info.get("gait_speed_m_per_s"), "differences": diff}
                  for (info, _, _), diff in zip(pairs, differences)],
    }


def build_repeatability(data_dir: Any, layout: str = "gaitpdb8") -> dict[str, Any]:
    """Analyse the staged same-day test-retest pairs of ``layout`` and return the repeatability document."""
    from pathlib import Path

    from insole._version import __version__
    from insole.io import load
    from insole.report._metrics import session_metrics

    dataset, pattern = REPEATABILITY_SOURCES[layout]
    folder = Path(data_dir) / dataset
    found = [(second.with_name(second.name.replace("_02", "_01")), second) for second in sorted(folder.glob(pattern))]
    found = [(first, second) for first, second in found if first.is_file()]
    # a pair whose walk another staged recording repeats (under another label, or the pair's two walks the same
    # bytes) is left out, as from every reference (``without_staged_copies``)
    kept, left_out = without_staged_copies(data_dir, [(dataset, p) for pair in found for p in pair])
    kept_paths = {p for _, p in kept}
    pairs = []
    for first_path, second_path in found:
        if first_path not in kept_paths or second_path not in kept_paths:
            continue
        first, second = load(first_path), load(second_path)
        info = recording_info(dataset, first_path, first)
        info.update(first=first_path.name, second=second_path.name)
        pairs.append((info, session_metrics(first), session_metrics(second)))
    document = repeatability_from_pairs(layout, pairs)
    document["provenance"] = {"insole_version": __version__, "built_from": f"shared/data/{dataset} ({pattern})"}
    if left_out:
        document["provenance"]["left_out"] = left_out
    return document


def write_repeatability(document: Mapping[str, Any], folder: str | Path, *, command: str) -> Path:
    from datetime import datetime, timezone

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{document['layout']}.json"
    stamped = {"built": {"command": command, "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
               **document}
    path.write_text(json.dumps(stamped, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def repeatability_from_document(document: Mapping[str, Any]) -> Repeatability:
    def pick(part: str) -> dict[str, float]:
        return {m: float(v["mdc95"]) for m, v in (document.get(part) or {}).items()
                if v.get("mdc95") is not None}

    groups = ", ".join(f"{n} {g}" for g, n in (document.get("groups") or {}).items())
    pairs = list(document.get("pairs") or ())
    differences = (tuple(p["differences"] for p in pairs)
                   if pairs and all(isinstance(p.get("differences"), dict) for p in pairs) else ())
    return Repeatability(layout=str(document["layout"]), foot=pick("foot"), lr_index=pick("lr_index"),
                         session=pick("session"), n_pairs=int(document.get("n_pairs", 0)),
                         pairs=tuple((str(p.get("subject") or ""), str(p.get("first") or ""),
                                      str(p.get("second") or "")) for p in pairs),
                         differences=differences,
                         description=(f"same-day test-retest of {document.get('n_pairs', 0)} people ({groups}) on "
                                      f"layout {document['layout']}"))


def load_repeatability(layout: str) -> Repeatability | None:
    """The stored repeatability of ``layout`` (``_data/repeatability/<layout>.json``), or None when not measured."""
    entry = resources.files("insole.report").joinpath("_data", "repeatability", f"{layout}.json")
    if not entry.is_file():
        return None
    return repeatability_from_document(json.loads(entry.read_text(encoding="utf-8")))


# ---------------------------------------------------------------- age- and sex-banded cadence and speed norms

# Built by docs/scripts/build_norms.py from the real healthy controls staged with the project (docs/report.md,
# section 5); stored as JSON beside the reference sets.
NORMS_FILE: tuple[str, ...] = ("_data", "norms", "cadence-speed.json")
NORM_METRICS: tuple[str, ...] = ("cadence_steps_per_min", "gait_speed_m_per_s")
NORM_MIN_BAND_N = 8  # fewer people than this in a band: its sexes are pooled (or the band is not made)
NORM_AGE_EDGES: tuple[int, ...] = (55, 65)  # bands: under 55, 55-64, 65 and over (chosen so each holds >= 8)


def norm_sex(value: Any) -> str | None:
    """"female", "male" or None from a file's sex field ("f", "F", "female", "m", "Male", ...)."""
    text = str(value).strip().lower() if value is not None else ""
    if text in ("f", "female", "w", "woman", "women"):
        return "female"
    if text in ("m", "male", "man", "men"):
        return "male"
    return None


def norm_age(value: Any) -> float | None:
    try:
        age = float(value)
    except (TypeError, ValueError):
        return None
    return age if math.isfinite(age) and age > 0 else None


def norm_stats(values: Sequence[Any]) -> dict[str, float] | None:
    """n, mean, SD, median, min, max and the 95 % prediction interval (``low``, ``high``) of ``values``.

    The interval is where a new healthy person of the band is expected with 95 % probability if the band's
    values are normal: mean ± t(0.975, n − 1) × SD × √(1 + 1/n). With 8-20 people a band's min-max range covers
    only about 80-90 % of healthy people, and its 2.5-97.5 percentiles cannot be estimated.
    """
    from scipy import stats

    x = np.asarray([v for v in values if v is not None and math.isfinite(float(v))], dtype=np.float64)
    if x.size < 3:
        return None
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    half = float(stats.t.ppf(0.975, x.size - 1)) * sd * math.sqrt(1.0 + 1.0 / x.size)
    return {"n": int(x.size), "mean": mean, "sd": sd, "median": float(np.median(x)), "min": float(x.min()),
            "max": float(x.max()), "low": mean - half, "high": mean + half}


@dataclass(frozen=True)
class NormBand:
    """One band of the cadence and walking-speed norms: who is in it, and each metric's figures (``norm_stats``).

    ``age_min``/``age_max`` are inclusive whole years (None: open); ``sex`` "female", "male" or None (both);
    ``note`` says when the sexes were pooled and why.
    """

    key: str
    label: str
    age_min: int | None
    age_max: int | None
    sex: str | None
    n: int
    ages: tuple[float, float]
    women: int
    men: int
    datasets: tuple[str, ...]
    stats: dict[str, dict[str, float]]
    note: str = ""

    def contains(self, age: float | None, sex: str | None) -> bool:
        if self.sex is not None and sex != self.sex:
            return False
        if self.age_min is None and self.age_max is None:
            return True
        if age is None:
            return False
        return (self.age_min is None or age >= self.age_min) and (self.age_max is None or age < self.age_max + 1)

    @property
    def specificity(self) -> int:
        """3 for an age band of one sex, 2 for an age band of both sexes, 1 for one sex of all ages, 0 for all
        controls: age comes before sex (walking speed changes more with age than between the sexes)."""
        return int(self.sex is not None) + 2 * int(self.age_min is not None or self.age_max is not None)

    def interval(self, metric: str) -> tuple[float, float] | None:
        figures = self.stats.get(metric)
        return (figures["low"], figures["high"]) if figures else None

    def text(self, metric: str, unit: str, digits: int) -> str | None:
        """The band's reference for ``metric`` as the key numbers show it."""
        f = self.stats.get(metric)
        if not f:
            return None
        sexes = f", {self.women} women and {self.men} men" if self.women and self.men else ""
        return (f"{self.label}: {f['low']:.{digits}f}–{f['high']:.{digits}f} {unit} (95% prediction interval of "
                f"{int(f['n'])} real controls aged {self.ages[0]:.0f}–{self.ages[1]:.0f}{sexes}; mean "
                f"{f['mean']:.{digits}f} ± {f['sd']:.{digits}f} SD{'; ' + self.note if self.note else ''})")

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "age_min": self.age_min, "age_max": self.age_max,
                "sex": self.sex, "n": self.n, "ages": [json_number(a, 1) for a in self.ages], "women": self.women,
                "men": self.men, "datasets": list(self.datasets), "note": self.note,
                "stats": {m: {k: json_number(v) for k, v in f.items()} for m, f in self.stats.items()}}


def _band_ages(age_min: int | None, age_max: int | None) -> str:
    if age_min is None and age_max is None:
        return "all ages"
    if age_min is None:
        return f"under {(age_max or 0) + 1}"
    if age_max is None:
        return f"{age_min} and over"
    return f"{age_min}–{age_max}"


def _band_label(age_min: int | None, age_max: int | None, sex: str | None) -> str:
    who = {"female": "women", "male": "men", None: "people"}[sex]
    if age_min is None and age_max is None:
        return f"all {who}" if sex else "all real controls"
    return f"{who} aged {_band_ages(age_min, age_max)}"


def build_norm_bands(people: Sequence[dict[str, Any]], age_edges: Sequence[int] = NORM_AGE_EDGES,
                     min_n: int = NORM_MIN_BAND_N) -> list[NormBand]:
    """The cadence and speed norm bands from real controls (dicts with ``age_years``, ``sex``, ``dataset`` and
    the ``NORM_METRICS``): all controls; each sex; each age band, split by sex where both sexes have at least
    ``min_n`` people there (otherwise pooled, and the band says so; the pooled band is kept beside a split one
    for people whose sex is not given); a band with fewer than ``min_n`` people in all is not made (a person of
    that age then gets the wider band)."""
    bounds = [None, *age_edges, None]
    candidates: list[tuple[int | None, int | None, str | None]] = [(None, None, None), (None, None, "female"),
                                                                   (None, None, "male")]
    for low, high in zip(bounds, bounds[1:]):
        candidates.append((low, None if high is None else high - 1, None))
    bands: list[NormBand] = []
    for age_min, age_max, sex in candidates:
        probe = NormBand("", "", age_min, age_max, sex, 0, (0.0, 0.0), 0, 0, (), {})
        members = [p for p in people if probe.contains(norm_age(p.get("age_years")), norm_sex(p.get("sex")))]
        if len(members) < min_n:
            continue
        groups: list[tuple[str | None, list[dict[str, Any]], str]] = [(sex, members, "")]
        if age_min is not None or age_max is not None:
            by_sex = {s: [p for p in members if norm_sex(p.get("sex")) == s] for s in ("female", "male")}
            if all(len(v) >= min_n for v in by_sex.values()):
                # both sexes, for a person whose sex the file does not give, then each sex
                groups += [(s, v, "") for s, v in by_sex.items()]
            else:
                few = ", ".join(f"{len(v)} {'women' if s == 'female' else 'men'}" for s, v in by_sex.items()
                                if len(v) < min_n)
                groups = [(None, members, f"women and men pooled: {few} (fewer than {min_n})")]
        for band_sex, group, note in groups:
            ages = [a for a in (norm_age(p.get("age_years")) for p in group) if a is not None]
            sexes = [norm_sex(p.get("sex")) for p in group]
            stats = {m: f for m in NORM_METRICS if (f := norm_stats([p.get(m) for p in group])) is not None}
            key = f"{_band_ages(age_min, age_max).replace(' ', '-').replace('–', '-')}/{band_sex or 'both'}"
            bands.append(NormBand(
                key=key, label=_band_label(age_min, age_max, band_sex), age_min=age_min, age_max=age_max,
                sex=band_sex, n=len(group), ages=(min(ages), max(ages)) if ages else (math.nan, math.nan),
                women=sexes.count("female"), men=sexes.count("male"),
                datasets=tuple(sorted({str(p.get("dataset")) for p in group})), stats=stats, note=note))
    return bands


def norm_band_from_dict(data: dict[str, Any]) -> NormBand:
    return NormBand(key=data["key"], label=data["label"], age_min=data["age_min"], age_max=data["age_max"],
                    sex=data["sex"], n=int(data["n"]), ages=(float(data["ages"][0]), float(data["ages"][1])),
                    women=int(data["women"]), men=int(data["men"]), datasets=tuple(data["datasets"]),
                    stats={m: {k: float(v) for k, v in f.items()} for m, f in data["stats"].items()},
                    note=data.get("note", ""))


@functools.lru_cache(maxsize=1)
def _norms_document() -> Mapping[str, Any]:
    entry = resources.files("insole.report").joinpath(*NORMS_FILE)
    return json.loads(entry.read_text(encoding="utf-8")) if entry.is_file() else {}


@functools.lru_cache(maxsize=1)
def load_norms() -> tuple[NormBand, ...]:
    """The stored norm bands (empty when the file was not built)."""
    return tuple(norm_band_from_dict(b) for b in _norms_document().get("bands") or ())


def load_norm_people() -> tuple[Mapping[str, Any], ...]:
    """The real controls the stored norm bands were built from (``docs/scripts/build_norms.py``: file, subject,
    dataset, SHA-256, age, sex, walking speed, cadence), one row per person."""
    return tuple(_norms_document().get("people") or ())


def norms_from_people(people: Sequence[Mapping[str, Any]]) -> tuple[NormBand, ...]:
    """The bands of ``people`` as the stored ones are made and stored (``build_norm_bands``, then the figures
    rounded as the JSON holds them), so that bands rebuilt from every stored person are the stored bands."""
    return tuple(norm_band_from_dict(json.loads(json.dumps(b.to_dict())))
                 for b in build_norm_bands([dict(p) for p in people]))


def norm_band_for(bands: Sequence[NormBand], age: Any, sex: Any) -> NormBand | None:
    """The most specific band holding a person of this age and sex (age band of one sex, then age band of both,
    then the sex, then all controls); None when there are no bands."""
    age_value, sex_value = norm_age(age), norm_sex(sex)
    fitting = [b for b in bands if b.contains(age_value, sex_value)]
    return max(fitting, key=lambda b: b.specificity) if fitting else None


def norm_reference_line(band: NormBand, person: dict[str, Any] | None) -> str:
    """Which band the person was compared with, and why (what the file gave)."""
    age, sex = norm_age((person or {}).get("age_years")), norm_sex((person or {}).get("sex"))
    given = []
    if age is not None:
        given.append(f"age {age:.0f}")
    if sex is not None:
        given.append(sex)
    if not given:
        return "age and sex not given: all real controls"
    missing = [w for w, v in (("age", age), ("sex", sex)) if v is None]
    return f"{' and '.join(given)} from the file" + (f" ({' and '.join(missing)} not given)" if missing else "")


# ---------------------------------------------------------------- what a walk is judged against

def _is_this_walk(entry: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether a stored walk is this file, or the file it was converted from: by SHA-256 (the file given, or the
    original that the importer recorded in ``source``), else by file name when no digest is known."""
    given = record.get("source")
    source: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    digests = [d for d in (record.get("sha256"), source.get("sha256")) if d]
    if digests:
        return any(_same_subject(entry.get("sha256"), d) for d in digests)
    return _same_subject(entry.get("file"), record.get("name") or source.get("file"))


def reference_member(record: Mapping[str, Any] | None, sets: Sequence[ReferenceSet], layout: str) -> str | None:
    """The subject under which this walk (the same file, by its SHA-256 or name) or this person (the file's
    subject) is one of the layout's real controls; None when neither."""
    real = reference_set_for(sets, layout, kind="real")
    if real is None or not record:
        return None
    for entry in real.recordings:
        if _is_this_walk(entry, record):
            return str(entry.get("subject") or entry.get("file"))
    subject = record.get("subject_id")
    return str(subject).strip() if subject and real.holds_subject(subject) else None


def sets_without_self(record: Mapping[str, Any] | None, sets: Sequence[ReferenceSet], layout: str
                      ) -> tuple[ReferenceSet, ...]:
    """The reference sets a walk is judged against: a real set holding this walk or another walk of this person
    rebuilt without that person (``ReferenceSet.without_subject``), so that a control is judged against the other
    controls, as the findings validation does (leave one subject out); the others as they are."""
    subject = reference_member(record, sets, layout)
    if subject is None:
        return tuple(sets)

    def without(ref: ReferenceSet) -> ReferenceSet:
        if ref.kind != "real" or not ref.holds_subject(subject):
            return ref
        try:
            return ref.without_subject(subject)
        except ValueError:  # a set built without each recording's values: kept, and the report says it holds them
            return ref

    return tuple(without(ref) for ref in sets)


def repeatability_without_self(record: Mapping[str, Any] | None, base_record: Mapping[str, Any] | None,
                               repeatability: Repeatability | None) -> Repeatability | None:
    """The MDC95s a walk (and its baseline) are judged by: without the same-day pair of this person when it is one
    of the pairs they were measured on (by the pair's file names or the file's subject), else as stored."""
    if repeatability is None:
        return None
    names = {str(r.get("name") or "").casefold() for r in (record, base_record) if r}
    for subject, first, second in repeatability.pairs:
        if (names & {first.casefold(), second.casefold()}
                or any(_same_subject(subject, r.get("subject_id")) for r in (record, base_record) if r)):
            try:
                return repeatability.without_subject(subject)
            except ValueError:  # stored without the pairs' differences: as stored, and the report says so
                return repeatability
    return repeatability


def _norm_person_is(person: Mapping[str, Any], record: Mapping[str, Any], layout: str | None) -> bool:
    """Whether a row of the norms' people is this walk (by SHA-256 or file name) or this person (by subject, on
    the person's own layout: a subject id such as "control1" names a person only within its cohort)."""
    return _is_this_walk(person, record) or (
        (layout is None or person.get("layout") == layout)
        and _same_subject(person.get("subject"), record.get("subject_id")))


def norms_without_self(record: Mapping[str, Any] | None, norms: Sequence[NormBand] | None = None,
                       people: Sequence[Mapping[str, Any]] | None = None, layout: str | None = None
                       ) -> tuple[tuple[NormBand, ...], str | None]:
    """The cadence and speed bands a walk is judged against, and the person left out of them (None: nobody).

    The bands are built from real controls (``load_norm_people``); when this walk or its person is one of them,
    the bands are rebuilt from the others (``norms_from_people``): a band may then hold fewer than
    ``NORM_MIN_BAND_N`` people and not be made, and the person is compared with the wider band holding them.
    ``norms`` given without ``people`` (bands from elsewhere, e.g. a test's) are kept as they are.
    """
    if norms is not None and people is None:
        return tuple(norms), None
    bands = load_norms() if norms is None else tuple(norms)
    people = load_norm_people() if people is None else tuple(people)
    if not record:
        return bands, None
    members = [p for p in people if _norm_person_is(p, record, layout)]
    if not members:
        return bands, None
    who = str(members[0].get("subject") or members[0].get("file"))
    left = f"this person ({who}), one of the controls, left out"
    return tuple(replace(b, note=f"{b.note}; {left}" if b.note else left)
                 for b in norms_from_people([p for p in people if not _norm_person_is(p, record, layout)])), who


def walk_identity(recording: Any, path: str | Path | None = None) -> dict[str, Any]:
    """What tells whether a walk is one of the references' own (``judging_frame``): its file name and SHA-256
    (of ``path`` when given, else as the importer recorded them in ``meta.source``) and its subject."""
    import hashlib

    meta = recording.meta
    source = dict(meta.source or {})
    if path is not None:
        name: Any = Path(path).name
        sha = hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).is_file() else None
    else:
        name, sha = source.get("file"), source.get("sha256")
    return {"name": name, "sha256": sha, "subject_id": meta.subject_id}


@dataclass(frozen=True)
class JudgingFrame:
    """What one walk is judged against: every reference set, the MDC95s and the cadence and speed bands, each
    without this walk's person when it is one of theirs (``judging_frame``)."""

    reference_sets: tuple[ReferenceSet, ...]
    repeatability: Repeatability | None
    norms: tuple[NormBand, ...]
    # the subject taken out of the real reference sets, of the MDC95's pairs and of the norm bands (None: none)
    reference_member: str | None = None
    repeatability_member: str | None = None
    norms_member: str | None = None


_STORED = object()


def judging_frame(record: Mapping[str, Any] | None, layout: str, *,
                  reference_sets: Sequence[ReferenceSet] | None = None,
                  repeatability: Repeatability | None | object = _STORED,
                  base_record: Mapping[str, Any] | None = None,
                  norms: Sequence[NormBand] | None = None) -> JudgingFrame:
    """The one place that decides what a walk is judged against; the report, the findings engine
    (``evaluate(..., walk=...)``) and ``insole batch`` all go through it, so every view judges a walk alike.

    ``record``: the walk's identity (``walk_identity``, or the report's input record: ``name``, ``sha256``,
    ``subject_id``); None judges against everything as stored. A walk that is one of a layout's real controls,
    or another walk of such a person, is judged against the sets rebuilt without that person
    (``sets_without_self``); a walk (or its baseline ``base_record``) of one of the MDC95's same-day pairs by the
    other pairs' MDC95 (``repeatability_without_self``); a control of the cadence and speed norms against the
    bands rebuilt without them (``norms_without_self``). Defaults: the stored sets, repeatability and norms.
    """
    sets = tuple(load_reference_sets() if reference_sets is None else reference_sets)
    mdc = load_repeatability(layout) if repeatability is _STORED else repeatability
    assert mdc is None or isinstance(mdc, Repeatability)
    judged_sets = sets_without_self(record, sets, layout)
    judged_mdc = repeatability_without_self(record, base_record, mdc)
    bands, norm_member = norms_without_self(record, norms, None if norms is not None else load_norm_people(),
                                            layout=layout)
    ref_member = next((r.left_out[-1].get("subject") for r in judged_sets if r.left_out), None)
    return JudgingFrame(
        reference_sets=judged_sets, repeatability=judged_mdc, norms=bands,
        reference_member=str(ref_member) if ref_member else None,
        repeatability_member=(judged_mdc.left_out[-1][0] if judged_mdc is not None and judged_mdc.left_out
                              else None),
        norms_member=norm_member)

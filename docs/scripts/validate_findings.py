"""`make validate`: do the findings hold on real people, and does the engine find what the simulator put in?

Two parts, both written to docs/findings-validation.md by
``python docs/scripts/validate_findings.py`` (``make validate``):

* **Real cohorts, leave one subject out** (``real_cases``, ``real_cohort_rows``,
  ``real_cohort_markdown``): every usual-walk recording of the staged gaitpdb,
  gaitpdb-cohort, gaitndd and gaitndd-cohort data is evaluated as ``insole
  report`` evaluates its file (``loso_frame``: the stored sets and MDC95s and
  the walk's identity, from which the engine's ``judging_frame`` leaves out the
  walk's own person and same-day pair); per finding, how often it fires on
  controls, Parkinson's, Huntington's and ALS; the acceptance figures of issue
  16; the AUC of the variability measures.
* **Simulated walks** (``run_validation``): every simulator pattern (one-sided
  ones on each side) over a number of seeds, counting how often the pattern's
  code is flagged on the right side and, for ``normal``, how many walks have
  any finding. The simulator's seeds here (0-49) are disjoint from the seeds of
  the simulated reference set (10000+), so no walk is compared with itself.

``tests/test_report_validation.py`` and ``tests/test_validate_findings.py`` run
the same functions. Only public names of ``insole`` are used, and of the report's
internals its reference builders and ``step_welch_t`` (the rules' step-scatter t).
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import insole
from insole.report import evaluate, load_reference_sets, session_from_analysis, timing_variability, walk_identity
from insole.report._findings import step_welch_t

REPO = Path(__file__).resolve().parents[2]

# The code each simulator pattern should produce, and on which side.
PATTERN_CODES: dict[str, str] = {
    "overpronation": "pronated_loading",
    "supination": "supinated_loading",
    "flat_foot": "low_arch_loading",
    "high_arch": "high_arch_loading",
    "heel_avoidance": "heel_avoidance",
    "hallux_offload": "reduced_hallux_loading",
    "high_impact": "high_impact",
    "antalgic": "antalgic_gait",
    "irregular": "irregular_gait",
}
WHOLE_BODY = ("irregular",)


@dataclass(frozen=True)
class CaseResult:
    pattern: str
    side: str
    seed: int
    findings: tuple[tuple[str, str, str], ...]  # (code, side, confidence)
    expected: tuple[str, str] | None = None

    @property
    def hit(self) -> bool:
        return self.expected is not None and any((c, s) == self.expected for c, s, _ in self.findings)

    @property
    def wrong_side(self) -> bool:
        return self.expected is not None and any(
            c == self.expected[0] and s != self.expected[1] for c, s, _ in self.findings)


def session_metrics(recording: Any) -> Any:
    """What ``insole report`` evaluates: the analysis with default parameters, as the findings engine reads it."""
    return session_from_analysis(insole.analyze(recording), recording)


def run_case(pattern: str, side: str, seed: int, duration_s: float = 60.0) -> CaseResult:
    from insole.simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(pattern=pattern, duration_s=duration_s, seed=seed,
                                          side=side if side != "both" else "left"))
    result = evaluate(session_metrics(recording))
    expected = None
    if pattern in PATTERN_CODES:
        expected = (PATTERN_CODES[pattern], "both" if pattern in WHOLE_BODY else side)
    return CaseResult(pattern, side, seed, tuple((f.code, f.side, f.confidence) for f in result.findings), expected)


def _cases(seeds: int, normal_seeds: int) -> list[tuple[str, str, int]]:
    cases = [("normal", "both", s) for s in range(normal_seeds)]
    for pattern in PATTERN_CODES:
        sides = ("both",) if pattern in WHOLE_BODY else ("left", "right")
        cases += [(pattern, side, s) for side in sides for s in range(seeds)]
    return cases


def run_validation(seeds: int = 20, normal_seeds: int = 50, workers: int = 2,
                   patterns: Sequence[str] | None = None) -> list[CaseResult]:
    cases = [c for c in _cases(seeds, normal_seeds) if patterns is None or c[0] in patterns]
    if workers <= 1:
        return [run_case(*c) for c in cases]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_case, *zip(*cases), chunksize=4))


@dataclass
class Row:
    pattern: str
    side: str
    expected: str
    runs: int = 0
    hits: int = 0
    wrong_side: int = 0
    others: Counter = field(default_factory=Counter)


def summarise(results: Sequence[CaseResult]) -> tuple[list[Row], dict[str, Any]]:
    rows: dict[tuple[str, str], Row] = {}
    normal: dict[str, Any] = {"runs": 0, "any_finding": 0, "moderate_or_above": 0}
    normal_codes: Counter = Counter()
    for r in results:
        if r.pattern == "normal":
            normal["runs"] += 1
            normal["any_finding"] += bool(r.findings)
            normal["moderate_or_above"] += any(conf in ("moderate", "high") for _, _, conf in r.findings)
            normal_codes.update(f"{c} ({s})" for c, s, _ in r.findings)
            continue
        row = rows.setdefault((r.pattern, r.side), Row(r.pattern, r.side, r.expected[0] if r.expected else "?"))
        row.runs += 1
        row.hits += r.hit
        row.wrong_side += r.wrong_side
        row.others.update(f"{c} ({s})" for c, s, _ in r.findings if (c, s) != r.expected)
    normal["codes"] = dict(normal_codes)
    return list(rows.values()), normal


# ---------------------------------------------------------------- real cohorts, leave one subject out

_GROUPS = {"hunt": "Huntington's", "control": "control", "park": "Parkinson's", "als": "ALS", "Co": "control",
           "Pt": "Parkinson's"}
GROUP_ORDER = ("control", "Parkinson's", "Huntington's", "ALS")


@dataclass
class RealCase:
    dataset: str
    path: Path
    group: str
    subject: str
    layout: str
    trial: str
    info: dict[str, Any]
    session: Any
    # what tells the findings engine whether this walk is one of the references' own (``walk_identity``: file name,
    # SHA-256, subject), as ``insole report`` gives it
    identity: dict[str, Any] = field(default_factory=dict)


def _group(name: str) -> str:
    return next((g for k, g in _GROUPS.items() if k in name), "?")


def _load_case(dataset: str, path: Path) -> RealCase | str:
    """The analysed case, or the loader's one-line refusal (reported, not hidden)."""
    from insole.report._reference import recording_info

    try:
        recording = insole.load(path)
    except insole.InputError as exc:
        return f"{dataset}/{path.name}: {exc}"
    session = session_metrics(recording)
    stem = path.stem
    trial = stem.split("_")[1] if "_" in stem else "01"
    return RealCase(dataset, path, _group(stem), str(recording.meta.subject_id or stem.split("_")[0]),
                    recording.layout.name, trial, recording_info(dataset, path, recording), session,
                    walk_identity(recording, path))


def real_case_files(data_dir: Path) -> tuple[list[tuple[str, Path]], list[dict[str, Any]]]:
    """The recordings of the staged real cohorts (gaitpdb, gaitpdb-cohort ``_01``/``_02``, gaitndd, gaitndd-cohort)
    that count, and those left out because another staged recording has their bytes (``without_staged_copies``,
    the rule of the reference sets and norms: a walk under two group labels counts as neither), with why."""
    from insole.report._reference import without_staged_copies

    jobs: list[tuple[str, Path]] = []
    for dataset in ("gaitpdb", "gaitpdb-cohort"):
        jobs += [(dataset, p) for p in sorted((data_dir / dataset).glob("*_0[12].txt"))]
    for dataset in ("gaitndd", "gaitndd-cohort"):
        jobs += [(dataset, p) for p in sorted((data_dir / dataset).glob("*.hea"))]
    return without_staged_copies(data_dir, [j for j in jobs if j[0] and j[1].is_file()])


def real_cases(data_dir: Path, workers: int = 2) -> tuple[list[RealCase], list[str]]:
    """Every usual-walk recording of the staged real cohorts (gaitpdb, gaitpdb-cohort, gaitndd, gaitndd-cohort),
    without the ones ``real_case_files`` leaves out."""
    jobs, _ = real_case_files(data_dir)
    if workers <= 1:
        loaded = [_load_case(*j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            loaded = list(pool.map(_load_case, *zip(*jobs), chunksize=4))
    return [c for c in loaded if isinstance(c, RealCase)], [c for c in loaded if isinstance(c, str)]


@functools.lru_cache(maxsize=1)
def stored_sets() -> tuple[Any, ...]:
    """The stored reference sets (``load_reference_sets``), read once: what ``insole report`` judges against."""
    return load_reference_sets()


@functools.lru_cache(maxsize=8)
def stored_repeatability(layout: str) -> Any:
    """The stored MDC95s of ``layout`` (``load_repeatability``; None when not measured), read once."""
    from insole.report._reference import load_repeatability

    return load_repeatability(layout)


def loso_frame(case: RealCase) -> dict[str, Any]:
    """What ``case`` is judged with (``evaluate``'s keywords), as ``insole report`` judges its file: the stored
    reference sets and MDC95s, and the walk's identity, from which the engine's one rule (``judging_frame``) leaves
    out the walk's own person (``ReferenceSet.without_subject``: a control against the other controls of its
    layout) and its own same-day pair (``Repeatability.without_subject``: the 20 people of the MDC95's pairs by the
    other 19 pairs' MDC95)."""
    return {"reference_sets": stored_sets(), "repeatability": stored_repeatability(case.layout),
            "walk": case.identity}


def stored_sets_match(cases: Sequence[RealCase]) -> dict[str, float]:
    """Per layout with a stored real set: the largest difference between its stored distributions and the same
    set rebuilt (``layout_reference_from_sessions``) from the control walks analysed here (0: the stored set is
    what the current analysis makes of these walks; ``make references`` rebuilds it)."""
    import math

    from insole.report._reference import layout_reference_from_sessions, reference_set_for

    out = {}
    for layout in sorted({c.layout for c in cases}):
        stored = reference_set_for(stored_sets(), layout, kind="real")
        if stored is None:
            continue
        by_file = {(c.dataset, c.path.name): c for c in cases if c.layout == layout}
        members = [by_file.get((str(r.get("dataset")), str(r.get("file")))) for r in stored.recordings]
        if any(m is None for m in members):
            out[layout] = math.inf  # a stored walk not among the staged ones
            continue
        rebuilt = layout_reference_from_sessions(layout, [(m.info, m.session) for m in members if m is not None])
        gaps = [abs(a - b) for part in ("foot", "session") for metric, dist in getattr(stored, part).items()
                for a, b in zip(dist.values, getattr(rebuilt, part)[metric].values)]
        sizes_differ = any(len(dist.values) != len(getattr(rebuilt, part)[metric].values)
                           for part in ("foot", "session") for metric, dist in getattr(stored, part).items())
        out[layout] = math.inf if sizes_differ else max(gaps, default=0.0)
    return out


def real_cohort_rows(cases: Sequence[RealCase]) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        if case.trial != "01":
            continue
        result = evaluate(case.session, **loso_frame(case))
        rows.append({"dataset": case.dataset, "record": case.path.stem, "group": case.group, "layout": case.layout,
                     "subject": case.subject,
                     "strides": min(int(f.stride_times_s.size) for f in case.session.feet.values()),
                     "timing_variability_pct": timing_variability(case.session)["timing_variability_pct"],
                     "stride_cv_pct": float(case.session.timing.get("stride_cv_pct", float("nan"))),
                     "stride_variability_pct": float(case.session.timing.get("stride_variability_pct",
                                                                              float("nan"))),
                     "stance_variability_pct": float(case.session.timing.get("stance_variability_pct",
                                                                              float("nan"))),
                     "findings": [(f.code, f.side, f.confidence) for f in result.findings]})
    return rows


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Area under the ROC curve: P(a patient's value > a control's), ties counting half (Mann-Whitney)."""
    pos = [p for p in positives if p == p]
    neg = [n for n in negatives if n == n]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def _left_out_markdown(left_out: Sequence[dict[str, Any]]) -> str:
    """The recordings not counted because another staged recording has their bytes, and why."""
    from insole.report._reference import left_out_text

    return ("Not counted in any group, nor in the reference sets and norms (the same recording staged twice, "
            "`without_staged_copies`): " + left_out_text(left_out).removeprefix("Left out: "))


def _match_text(stored_match: dict[str, float]) -> str:
    if not stored_match:
        return ""
    def said(gap: float) -> str:
        if gap == 0:
            return "exactly"
        return "NOT (rerun `make references`)" if gap == float("inf") else f"to within {gap:.2g}"

    parts = [f"{layout} {said(gap)}" for layout, gap in stored_match.items()]
    return (" The stored sets match the same sets rebuilt from the walks analysed here (the current analysis): "
            + ", ".join(parts) + ".")


def real_cohort_markdown(rows: Sequence[dict[str, Any]], refused: Sequence[str] = (),
                         stored_match: dict[str, float] | None = None,
                         left_out: Sequence[dict[str, Any]] = ()) -> str:
    by_group: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_group.setdefault(r["group"], []).append(r)
    groups = [g for g in GROUP_ORDER if g in by_group]
    controls = by_group.get("control", [])
    n_any = sum(bool(r["findings"]) for r in controls)
    hd = by_group.get("Huntington's", [])
    hd_flag = sum(any(c == "irregular_gait" for c, _, _ in r["findings"]) for r in hd)
    ctl_irr = sum(any(c == "irregular_gait" for c, _, _ in r["findings"]) for r in controls)

    def pct(k: int, n: int) -> str:
        return f"{k} of {n} ({100 * k / n:.0f} %)" if n else "none"

    lines = [
        "## Real cohorts, leave one subject out",
        "",
        "Every usual-walk recording of the staged real cohorts (gaitpdb + gaitpdb-cohort `_01`, layout gaitpdb8; "
        "gaitndd + gaitndd-cohort, layout footswitch1), analysed and evaluated as `insole report` does with the "
        "file (given its identity, `walk_identity`): each recording is judged against its "
        "layout's stored real control reference set **without its own subject** (`ReferenceSet.without_subject`: "
        "`real-controls-<layout>` minus one; patients against all controls of their layout), and, for the 20 "
        "people of the MDC95's same-day pairs, by the other pairs' MDC95 (`Repeatability.without_subject`). The "
        "simulated sets play no part: they apply to insole16 only." + _match_text(stored_match or {}),
        "",
        *([f"Refused by the loader (not counted): {'; '.join(refused)}.", ""] if refused else []),
        *([_left_out_markdown(left_out), ""] if left_out else []),
        "### Acceptance (issue 16)",
        "",
        "| criterion | target | measured | holds |",
        "|---|---|---|---|",
        f"| real controls with any finding, any confidence | ≤ 10 % | {pct(n_any, len(controls))} | "
        f"{'yes' if controls and n_any <= 0.10 * len(controls) else 'no'} |",
        f"| Huntington's walks flagged `irregular_gait` | ≥ 70 % | {pct(hd_flag, len(hd))} | "
        f"{'yes' if hd and hd_flag >= 0.70 * len(hd) else 'no'} |",
        f"| controls flagged `irregular_gait` | ≤ 10 % | {pct(ctl_irr, len(controls))} | "
        f"{'yes' if controls and ctl_irr <= 0.10 * len(controls) else 'no'} |",
        "",
        "### How often each finding fires, per group",
        "",
        "| finding | " + " | ".join(f"{g} (n = {len(by_group[g])})" for g in groups) + " |",
        "|---|" + "---|" * len(groups),
    ]
    codes = sorted({c for r in rows for c, _, _ in r["findings"]})
    for code in codes:
        cells = [pct(sum(any(c == code for c, _, _ in r["findings"]) for r in by_group[g]), len(by_group[g]))
                 for g in groups]
        lines.append(f"| `{code}` | " + " | ".join(cells) + " |")
    lines.append("| any finding | " + " | ".join(pct(sum(bool(r["findings"]) for r in by_group[g]),
                                                      len(by_group[g])) for g in groups) + " |")
    lines += [
        "",
        "### Group separation of the variability measures (AUC, patients vs controls of the same layout)",
        "",
        "AUC = the chance that a patient's value exceeds a control's (0.5 = no separation). Rank-based, so no "
        "reference is fitted; which measure is best is read from this same table (in-sample).",
        "",
        "| measure | layout | Parkinson's | Huntington's | ALS |",
        "|---|---|---|---|---|",
    ]
    for measure in ("timing_variability_pct", "stride_variability_pct", "stance_variability_pct", "stride_cv_pct"):
        for layout in sorted({r["layout"] for r in rows}):
            ctl = [r[measure] for r in controls if r["layout"] == layout]
            cells = []
            for g in ("Parkinson's", "Huntington's", "ALS"):
                pts = [r[measure] for r in by_group.get(g, []) if r["layout"] == layout]
                value = auc(pts, ctl)
                cells.append(f"{value:.2f} (n = {len(pts)})" if pts and ctl else "–")
            lines.append(f"| {measure} | {layout} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### What this does and does not show",
        "",
        "* How the controls' figure came about (each step measured on these same controls, leave-one-subject-out, "
        "so the figures are not blind; the other halves of gaitpdb and gaitndd, kept apart, are the blind test): "
        "the per-layout real sets with the old rules (47 controls then, JuCo26_01 among them; it is not counted "
        "since it was found to be JuPt01_01's bytes), a foot in the controls' extreme fifth: 13 of 47; beyond "
        "their 2.5th/97.5th percentile with asymmetries past their MDC95: 8 of 47; beyond the 1st/99th and load "
        "asymmetry outside the controls' 99 % interval: 4 of 47; the left/right index beyond the controls' own "
        "healthy left/right indices (99 % interval) with the foot departing from their median: 1 of 47 (the 95 % "
        "interval gave 6 of 47); adding bilateral departures (both feet beyond the controls' 1st/99th "
        "percentile): 2 of 47. Then (issue 16, region masks and share rules) gaitpdb8's sensors 2-3 became heel "
        "and sensor 8 toes (docs/report.md, region masks), which makes the medial-lateral COP rules assessable, "
        "and regional shares and the COP offset are judged against the controls' healthy left/right differences "
        "absolutely or relatively (each at half the 1 % tail) on the rule's side of the controls' median: 4 of 47. "
        "Then the COP rules judged a foot against what its partner predicts in the controls (the regression of one "
        "foot on the other) and load asymmetry took impulse, peak force and F1 together against the controls' "
        "covariance (docs/report.md): the same four controls of 47. Then JuCo26_01 was left out (the bytes of "
        "JuPt01_01, above); its right-minus-left midfoot share (+0.083) was the controls' largest, so the healthy "
        "left/right differences narrowed and JuCo14_01's, the largest the other way (-0.110), judged without itself, "
        "became `low_arch_loading` on the left foot (low confidence): 5 of 46, over the 10 % target. Then every "
        "limit taken from the controls' spread became a prediction limit for one new person (Student's t for the "
        "number of controls, docs/report.md rule 2), as the cadence and speed norms already were: the normal "
        "quantile holds for a spread known exactly and let 0.8 % of healthy people past a limit meant for 0.5 % "
        "with 36 controls. Found while looking at JuCo14_01 (its +11.0 share points against a limit of 10.5, "
        "now 11.2: a thin margin, stated as such), applied to every such limit alike, with the degrees of "
        "freedom each fit leaves (a review's simulation checked each limit's rate): 4 of 46, the figure above. "
        "Parkinson's with any finding 29 to 28 of 55; the known-answer changes below 48 / 62 / 93 % to 47 / 59 / "
        "91 %, not like for like: JuCo14_01, now without a finding of its own, joined the walks changed (32 to 33) "
        "and the left/right alternation of every walk after it in the list flipped.",
        "* The minimal detectable changes (MDC95) come from 20 same-day pairs (7 controls, 13 Parkinson's) of the Ga "
        "study; each of those 20 people is judged with the MDC95 of the other 19 pairs (leave one pair out, as in "
        "the baseline section below), everyone else with the stored one.",
        "* gaitndd foot switches (footswitch1) carry one uncalibrated sensor per foot: only timing is judged there.",
        "",
        "### Every recording",
        "",
        "| dataset | record | group | layout | strides (fewer foot) | timing variability (%) "
        "| findings (side, confidence) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        findings = "; ".join(f"{c} ({s}, {conf.replace('_', ' ')})" for c, s, conf in r["findings"]) or "none"
        lines.append(f"| {r['dataset']} | {r['record']} | {r['group']} | {r['layout']} | {r['strides']} | "
                     f"{r['timing_variability_pct']:.2f} | {findings} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- speed and age in the real controls

# The measures whose relation with walking speed (and age) docs/report.md quotes: the speed-dependent ones the report
# caveats (``SLOWER_WALKING_MOVES``) that the stored set holds, and the ones it leaves out for want of a relation.
RELATION_MEASURES: tuple[str, ...] = (
    "stance_pct", "double_support_pct", "valley_ratio", "cadence_steps_per_min", "share_heel", "share_midfoot",
    "timing_variability_pct", "stride_variability_pct", "stance_variability_pct", "stride_cv_pct",
    "stride_robust_cv_pct",
)


def control_relations(layout: str = "gaitpdb8") -> list[dict[str, Any]]:
    """Spearman's rho of each ``RELATION_MEASURES`` value (each control's mean of both feet for a per-foot measure)
    with the control's walking speed and age, over the stored real control set of ``layout``: the relations the
    report's speed caveat rests on (docs/report.md)."""
    import numpy as np
    from scipy.stats import spearmanr

    from insole.report._reference import reference_set_for

    reference = reference_set_for(stored_sets(), layout, kind="real")
    rows = []
    for measure in RELATION_MEASURES:
        triples = []
        for record in reference.recordings if reference is not None else ():
            values = record.get("member_values", {})
            value = values.get("session", {}).get(measure, values.get("foot", {}).get(measure))
            value = float(np.nanmean(value)) if isinstance(value, list) and value else value
            if value is not None and math.isfinite(float(value)):
                triples.append((float(value), record.get("gait_speed_m_per_s"), record.get("age_years")))
        row: dict[str, Any] = {"measure": measure}
        for key, column in (("speed", 1), ("age", 2)):
            known = [(t[0], float(t[column])) for t in triples if t[column] is not None]
            row[key] = (float(spearmanr(*zip(*known)).statistic), len(known)) if len(known) >= 3 else None
        rows.append(row)
    return rows


def relations_markdown(rows: Sequence[dict[str, Any]], layout: str = "gaitpdb8") -> str:
    lines = [
        f"## Walking speed and age in the real controls ({layout})",
        "",
        f"Spearman's rho of each measure with the control's walking speed and age, from the stored set "
        f"`real-controls-{layout}` (each control's mean of both feet for a per-foot measure; speeds and ages from the "
        "cohort's demographics). The report's speed caveat and docs/report.md quote these; they are in-sample "
        "descriptions of these controls, not fitted limits.",
        "",
        "| measure | rho with speed (n) | rho with age (n) |",
        "|---|---|---|",
    ]
    for r in rows:
        cells = [f"{r[k][0]:+.2f} ({r[k][1]})" if r[k] is not None else "–" for k in ("speed", "age")]
        lines.append(f"| `{r['measure']}` | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- known-answer changes on real walks


@dataclass(frozen=True)
class KnownAnswer:
    """One clinic pattern made on one foot of a real walk: load moved from the ``source`` regions to the
    ``target`` regions (region groups or region names of ``insole._layout``), or taken off the foot (no target).
    ``measure`` is the per-foot measure (or session index) the pattern moves, ``direction`` which way; ``paired``
    moves each source sensor's load to the target sensor nearest along the foot (medial-lateral patterns keep the
    heel-to-toe distribution), otherwise it is spread evenly over the targets."""

    name: str
    code: str
    source: tuple[str, ...]
    target: tuple[str, ...]
    measure: str
    direction: int
    paired: bool = False


_LATERAL = ("lateral_heel", "lateral_midfoot", "lateral_metatarsals")
_MEDIAL = ("medial_heel", "medial_midfoot", "first_metatarsal")
KNOWN_ANSWERS: tuple[KnownAnswer, ...] = (
    KnownAnswer("pronated (load moved lateral to medial)", "pronated_loading", _LATERAL, _MEDIAL, "cop_ml_pct", +1,
                paired=True),
    KnownAnswer("supinated (load moved medial to lateral)", "supinated_loading", _MEDIAL, _LATERAL, "cop_ml_pct", -1,
                paired=True),
    KnownAnswer("low arch (load moved into the midfoot)", "low_arch_loading", ("heel", "front"), ("midfoot",),
                "share_midfoot", +1),
    KnownAnswer("high arch (load moved off the midfoot)", "high_arch_loading", ("midfoot",), ("heel", "front"),
                "share_midfoot", -1),
    KnownAnswer("heel offload (heel to forefoot and toes)", "heel_avoidance", ("heel",), ("front",), "share_heel",
                -1),
    KnownAnswer("hallux offload (hallux to the metatarsals)", "reduced_hallux_loading", ("hallux",), ("forefoot",),
                "share_hallux", -1),
    KnownAnswer("whole-foot asymmetry (load taken off one foot)", "load_asymmetry", ("heel", "midfoot", "front"),
                (), "impulse_si_pct", -1),
)
KNOWN_ANSWER_LAYOUT = "gaitpdb8"
PILOT_FRACTION = 0.5  # the trial size that calibrates each pattern's fraction (below)
PILOT_WALKS = 6
# How far the cohort's Parkinson's feet depart from the controls' median in the pattern's direction: their 10th
# (90th) percentile, their 5th (95th), their furthest. Each size is no larger than a difference between the cohort's
# controls and patients; the first is the strictest reading of that.
CHANGE_SIZES: tuple[tuple[str, float], ...] = (("one patient in ten", 10.0), ("one patient in twenty", 5.0),
                                               ("the furthest patient", 0.0))


def region_sensors(layout: Any, names: Sequence[str]) -> list[int]:
    """The sensor indices of ``layout`` in these region groups or regions."""
    import numpy as np

    mask = np.zeros(layout.n_sensors, dtype=bool)
    for name in names:
        mask |= layout.region_mask(name)
    return [int(j) for j in np.flatnonzero(mask)]


def moved_load(recording: Any, side: str, source: Sequence[int], target: Sequence[int], fraction: float,
               paired: bool = False) -> Any:
    """``recording`` with ``fraction`` of the load on ``source`` sensors of ``side`` moved to ``target`` (evenly, or
    with ``paired`` each to the target sensor nearest along the foot), or dropped when ``target`` is empty (the
    foot then carries less). Sample by sample, so the foot's total is kept unless the load is dropped."""
    import dataclasses

    import numpy as np

    foot = recording.samples(side)
    values = np.array(foot.values, dtype=np.float64)
    moved = fraction * values[:, list(source)]
    values[:, list(source)] -= moved
    if target and paired:
        x = np.asarray(recording.layout.x_mm, float)
        for k, j in enumerate(source):
            nearest = min(target, key=lambda t: abs(x[t] - x[j]))
            values[:, nearest] += moved[:, k]
    elif target:
        values[:, list(target)] += moved.sum(axis=1, keepdims=True) / len(target)
    changed = dataclasses.replace(foot, values=values.astype(np.float32))
    return recording.replace(**{side: changed})


def _measure(session: Any, answer: KnownAnswer, side: str) -> float:
    """The pattern's measure on ``side`` (a session index is read as the changed foot's symmetry index)."""
    import numpy as np

    from insole.report._reference import foot_metric_values, session_metric_values

    if answer.measure.endswith("_si_pct"):
        value = session_metric_values(session).get(answer.measure, float("nan"))
        return value if side == "right" else -value  # this foot vs the other, %
    values = foot_metric_values(session, side).get(answer.measure, np.zeros(0))
    values = values[np.isfinite(values)]
    scale = 100.0 if answer.measure.startswith("share_") else 1.0
    return float(values.mean()) * scale if values.size else float("nan")


def _rule_measure(session: Any, answer: KnownAnswer, side: str) -> float:
    """What the pattern's rule judges on ``side``: ``_measure``, but for the whole-foot change the rule's own
    statistic, the impulse, peak force and F1 indices taken together (``_whole_foot_z``: their projection on the
    common direction, in SD of the stored gaitpdb8 controls' spread along it; this foot vs the other)."""
    if answer.code != "load_asymmetry":
        return _measure(session, answer, side)
    from insole.report import FindingParams
    from insole.report._findings import _whole_foot_z
    from insole.report._reference import reference_set_for

    reference = reference_set_for(stored_sets(), KNOWN_ANSWER_LAYOUT, kind="real")
    combined = _whole_foot_z(session, reference, FindingParams()) if reference is not None else None
    if combined is None:
        return float("nan")
    return combined[0] if side == "right" else -combined[0]  # the projection reads right vs left


def change_bound(cases: Sequence[RealCase], answer: KnownAnswer, tail_pct: float = 10.0) -> dict[str, Any]:
    """How large a change may be: the gap between the controls' median and the patients' ``tail_pct`` percentile
    (or 100 - ``tail_pct``, in the pattern's direction) of the measure, per foot (for the whole-foot index: the
    patients' 100 - ``tail_pct`` percentile of |SI|), i.e. a departure that patients of this cohort show."""
    import numpy as np

    groups: dict[str, list[float]] = {"control": [], "Parkinson's": []}
    for case in cases:
        if case.trial == "01" and case.layout == KNOWN_ANSWER_LAYOUT and case.group in groups:
            if answer.measure.endswith("_si_pct"):
                groups[case.group].append(abs(_measure(case.session, answer, "right")))
            else:
                groups[case.group] += [_measure(case.session, answer, s) for s in ("left", "right")]
    ctl = np.asarray([v for v in groups["control"] if np.isfinite(v)])
    pts = np.asarray([v for v in groups["Parkinson's"] if np.isfinite(v)])
    if ctl.size == 0 or pts.size == 0:
        return {"bound": float("nan")}
    if answer.measure.endswith("_si_pct"):
        patients = float(np.percentile(pts, 100 - tail_pct))
        return {"bound": patients, "control_median": float(np.median(ctl)), "patients": patients}
    q = 100 - tail_pct if answer.direction > 0 else tail_pct
    patients = float(np.percentile(pts, q))
    return {"bound": answer.direction * (patients - float(np.median(ctl))), "control_median": float(np.median(ctl)),
            "patients": patients}


def _known_answer_case(path: Path, side: str, answer: KnownAnswer, fraction: float, frame: dict[str, Any]
                       ) -> tuple[list[tuple[str, str]], float, tuple[float, float]]:
    """The findings of the walk at ``path`` changed on ``side``, the change of the pattern's measure on that foot,
    and what the pattern's rule judges after the change on that foot and on the other (``_rule_measure``)."""
    recording = insole.load(path)
    layout = recording.layout
    target = region_sensors(layout, answer.target)
    changed = moved_load(recording, side, region_sensors(layout, answer.source), target, fraction, answer.paired)
    before = _measure(session_metrics(recording), answer, side)
    session = session_metrics(changed)
    result = evaluate(session, **frame)
    other = "right" if side == "left" else "left"
    after = (_rule_measure(session, answer, side), _rule_measure(session, answer, other))
    return [(f.code, f.side) for f in result.findings], _measure(session, answer, side) - before, after


def _calibrated_fraction(answer: KnownAnswer, bound: float, pilot_walks: Sequence[tuple[RealCase, Any]],
                         pilots: dict[tuple[str, float], float]) -> float:
    """The fraction of load to move so that the median change of the pattern's measure over ``pilot_walks`` is
    ``bound``: scaled from a trial at ``PILOT_FRACTION``, then once more from a trial at that first estimate (the
    measures are close to, but not exactly, linear in the load moved). ``pilots`` caches the trials."""
    import numpy as np

    def median_change(fraction: float) -> float:
        key = (answer.name, round(fraction, 4))
        if key not in pilots:
            pilots[key] = float(np.median([abs(_known_answer_case(case.path, ("left", "right")[j % 2], answer,
                                                                  fraction, frame)[1])
                                           for j, (case, frame) in enumerate(pilot_walks)]))
        return pilots[key]

    fraction = PILOT_FRACTION
    for _ in range(2):
        change = median_change(fraction)
        if not change > 0:
            return 1.0
        fraction = float(min(1.0, round(fraction * bound / change, 4)))
    return fraction


def known_answer_rows(cases: Sequence[RealCase], walks: int | None = None,
                      sizes: Sequence[tuple[str, float]] = CHANGE_SIZES) -> list[dict[str, Any]]:
    """Each pattern on ``walks`` (default: every) real gaitpdb8 control walk without a finding of its own, on the
    left and the right foot in turn, judged against the controls without that subject. The fraction of load moved
    is set per pattern so that the median change of its measure on the first walks equals the pattern's bound
    (``change_bound``): changes no larger than the differences between the cohort's controls and patients."""
    import numpy as np

    clean = []
    for case in cases:
        if case.group == "control" and case.trial == "01" and case.layout == KNOWN_ANSWER_LAYOUT:
            frame = loso_frame(case)
            if not evaluate(case.session, **frame).findings:
                clean.append((case, frame))
    chosen = clean if walks is None else clean[:: max(len(clean) // walks, 1)][:walks]
    rows = []
    pilots: dict[tuple[str, float], float] = {}
    for (size, tail_pct), answer in ((size, answer) for size in sizes for answer in KNOWN_ANSWERS):
        layout = insole.get_layout(KNOWN_ANSWER_LAYOUT)
        source, target = region_sensors(layout, answer.source), region_sensors(layout, answer.target)
        row: dict[str, Any] = {"change": answer.name, "code": answer.code, "walks": len(chosen), "found": 0,
                               "clean_hits": 0, "other_foot": 0, "missed": [], "assessable": True, "size": size,
                               "after": []}
        if not source or (answer.target and not target):
            lacking = answer.source if not source else answer.target
            row.update(assessable=False, walks=0, reason=f"layout {KNOWN_ANSWER_LAYOUT} has no "
                                                         f"{' or '.join(n.replace('_', ' ') for n in lacking)} sensor")
            rows.append(row)
            continue
        bound = change_bound(cases, answer, tail_pct)
        fraction = _calibrated_fraction(answer, bound["bound"], chosen[:PILOT_WALKS], pilots)
        changes = []
        for j, (case, frame) in enumerate(chosen):
            side = ("left", "right")[j % 2]
            findings, change, after = _known_answer_case(case.path, side, answer, fraction, frame)
            changes.append(change)
            row["after"].append(after)
            hit = (answer.code, side) in findings
            elsewhere = any(s not in (side, "both") for _, s in findings)
            row["found"] += hit
            row["other_foot"] += elsewhere
            row["clean_hits"] += hit and not elsewhere
            if not hit:
                row["missed"].append(f"{case.path.stem} {side}")
        row.update(fraction=fraction, bound=bound, median_change=float(np.median(changes)))
        rows.append(row)
    return rows


# ---------------------------------------------------------------- what any cut-off could do in one session

# The acceptance's two figures (issue 16): at most this share of the controls with any finding, and at least this
# share of the changes found. The bound below gives the whole first share to one rule alone.
CONTROL_BUDGET = 0.10
FOUND_TARGET = 0.90


def cutoff_tradeoff(controls: Any, changed: Any, budget: float = CONTROL_BUDGET, target: float = FOUND_TARGET
                    ) -> dict[str, Any]:
    """What cut-offs on a rule's statistics can do, a value flagged when any of its statistics reaches its cut-off
    (larger values lie further in the rule's direction). ``controls``: one row per healthy person (each statistic
    the further of their two feet), ``changed``: one row per changed walk; one column per statistic (at most two).
    ``found_within_budget``: the most changed walks any cut-offs find while flagging at most ``budget`` of the
    controls; ``flagged_at_target``: the fewest controls flagged by cut-offs that find ``target`` of the changes
    (None when no cut-off does: too many changed walks at -inf, on the wrong side of the controls' median).
    Every cut-off that makes a difference is tried, with hindsight on these very values, so both figures flatter
    what a rule fixed in advance can do."""
    import itertools

    import numpy as np

    healthy = np.asarray(controls, dtype=float).reshape(len(controls), -1)
    moved = np.asarray(changed, dtype=float).reshape(len(changed), -1)
    allowed = math.floor(budget * healthy.shape[0] + 1e-9)  # controls the cut-offs may flag
    needed = max(math.ceil(target * moved.shape[0] - 1e-9), 1)  # changed walks they must find
    # a cut-off's flags change only at the values themselves: those, and one above them all, are every choice
    # (-inf, a foot on the wrong side of the controls' median, is no value a cut-off can reach)
    cuts = [np.unique(np.r_[healthy[:, j], moved[:, j], np.inf]) for j in range(healthy.shape[1])]
    cuts = [c[c > -np.inf] for c in cuts]
    best_found, fewest_flagged = 0, None
    for chosen in itertools.product(*cuts):
        flagged = int(np.count_nonzero((healthy >= chosen).any(axis=1)))
        found = int(np.count_nonzero((moved >= chosen).any(axis=1)))
        if flagged <= allowed:
            best_found = max(best_found, found)
        if found >= needed and (fewest_flagged is None or flagged < fewest_flagged):
            fewest_flagged = flagged
    return {"controls": healthy.shape[0], "changed": moved.shape[0], "allowed": allowed, "needed": needed,
            "found_within_budget": best_found, "flagged_at_target": fewest_flagged}


def _control_feet(cases: Sequence[RealCase], answer: KnownAnswer) -> list[tuple[float, float]]:
    """Each real control's (left, right) values of what the pattern's rule judges (``_rule_measure``; for a
    session statistic (-value, value), each foot against the other)."""
    out = []
    for case in cases:
        if case.group == "control" and case.trial == "01" and case.layout == KNOWN_ANSWER_LAYOUT:
            pair = (_rule_measure(case.session, answer, "left"), _rule_measure(case.session, answer, "right"))
            if all(map(math.isfinite, pair)):
                out.append(pair)
    return out


def cutoff_statistics(answer: KnownAnswer, controls: Sequence[tuple[float, float]],
                      changed: Sequence[tuple[float, float]]) -> tuple[str, list[list[float]], list[list[float]]]:
    """The statistics the rule judges a one-sided change by, in the rule's direction, as (what they are, controls'
    rows, changed walks' rows): for a share the difference between the feet (points) and its symmetry index (%),
    either of which flags (docs/report.md, rule 2); for the COP offset the foot's departure from what its partner
    predicts (the controls' line of one foot on the other, both ways round, as the rule fits it); for the
    whole-foot change the three indices taken together (``_rule_measure``). As the rule asks, a foot counts only on
    the rule's side of the controls' median (its level against the population; for the whole-foot change the
    statistic's sign): a foot on the other side gets -inf, which no cut-off reaches. A control's row holds, per
    statistic, the further of their two feet; ``changed`` holds each walk's (changed foot, other foot) after the
    change, and only the changed foot counts."""
    import numpy as np

    from insole.report._findings import _given_other_foot, _si

    d = answer.direction
    if answer.code == "load_asymmetry":
        return ("impulse, peak force and F1 indices together (SD along their common direction)",
                [[max(d * left, d * right)] for left, right in controls], [[d * this] for this, _ in changed])
    median = float(np.median([v for pair in controls for v in pair]))

    def counted(this: float, value: float) -> float:
        return value if d * (this - median) > 0 else -math.inf

    if answer.measure == "cop_ml_pct":
        pairs = np.asarray(controls, dtype=float).reshape(-1, 2)

        def departure(this: float, other: float) -> float:
            return counted(this, d * _given_other_foot(pairs, this, other)[0])

        return ("departure from the partner's prediction (residual SDs)",
                [[max(departure(left, right), departure(right, left))] for left, right in controls],
                [[departure(this, other)] for this, other in changed])

    def both(this: float, other: float) -> list[float]:
        return [counted(this, d * (this - other)), counted(this, d * _si(this, other))]

    def further(left: float, right: float) -> list[float]:
        return [max(a, b) for a, b in zip(both(left, right), both(right, left))]

    return ("difference between the feet (points) or its symmetry index (%)",
            [further(left, right) for left, right in controls], [both(this, other) for this, other in changed])


def cutoff_rows(cases: Sequence[RealCase], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per assessed known-answer row, ``cutoff_tradeoff`` of the controls' and the changed walks' statistics."""
    out = []
    for row in rows:
        if not row["assessable"]:
            continue
        answer = next(a for a in KNOWN_ANSWERS if a.code == row["code"])
        name, healthy, moved = cutoff_statistics(answer, _control_feet(cases, answer), row["after"])
        out.append({"size": row["size"], "change": row["change"], "statistic": name, "rule_found": row["found"],
                    **cutoff_tradeoff(healthy, moved)})
    return out


def _either(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def cutoff_markdown(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "### What any cut-off could do in one session",
        "",
        "The rules above are one choice of limits. Whatever the limit, a cut-off on the statistic a rule judges "
        "trades the controls it flags against the changes it finds. For each change and statistic: the controls "
        f"flagged by the highest cut-off that still finds {100 * FOUND_TARGET:.0f} % of the changed walks above, "
        f"and the most changed walks any cut-off finds while flagging at most {100 * CONTROL_BUDGET:.0f} % of the "
        "controls, that rule alone taking the whole share the acceptance allows for every finding together. As "
        "the rule asks, a foot counts only on the rule's side of the controls' median. Each control counts once, by "
        "the further of their two feet in the rule's direction; a changed walk counts by its changed foot. Three "
        "things flatter both columns: every cut-off is tried with hindsight on these very values; the changed foot "
        "is taken as known, where the rule must itself tell which foot of an asymmetry departs (one finding per "
        "asymmetry, docs/report.md), and can give it to the other foot under the opposite code; and the rule's "
        "other conditions (the step scatter, the MDC95) are left out; for load asymmetry the three indices are "
        "projected with the stored set, each control in it, without the rule's widening for a walk unlike the "
        "controls. Where a row flags more than "
        f"{100 * CONTROL_BUDGET:.0f} % of the controls, or finds fewer than {100 * FOUND_TARGET:.0f} % of the "
        "changes, no cut-off on that statistic meets the acceptance at that size, whatever the other rules do; "
        "whether another statistic would tell these changes from healthy asymmetry better is not shown here. Where "
        "a cut-off exists but the rule finds fewer (the last column), the rule's limits (a prediction limit for one "
        "new person, set so that every rule together stays within the 10 %), its other conditions or its "
        "attribution to a foot withheld the rest; a cut-off placed at these controls' own tail would be fitted to "
        "these people.",
        "",
        "| size | change (one foot) | statistic | to find 90 % of the changes, a cut-off flags | a cut-off flagging "
        "≤ 10 % of the controls finds at most | the rule found (above) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        flagged = (f"{r['flagged_at_target']} of {r['controls']} controls "
                   f"({100 * r['flagged_at_target'] / r['controls']:.0f} %)" if r["flagged_at_target"] is not None
                   else f"none finds {100 * FOUND_TARGET:.0f} % (too many changed feet on the other side of the "
                        "controls' median)")
        lines.append(f"| {r['size']} | {r['change']} | {r['statistic']} | {flagged} | "
                     f"{r['found_within_budget']} of {r['changed']} changes "
                     f"({100 * r['found_within_budget'] / r['changed']:.0f} %) | {r['rule_found']} of {r['changed']} |")
    lines.append("")
    for size in dict.fromkeys(r["size"] for r in rows):
        part = [r for r in rows if r["size"] == size]
        beyond = [r["change"].split(" (")[0] for r in part
                  if r["flagged_at_target"] is None or r["flagged_at_target"] > r["allowed"]]
        found, changed = sum(r["found_within_budget"] for r in part), sum(r["changed"] for r in part)
        pooled = (f" All {len(part)} changes together: at most {found} of {changed} found "
                  f"({100 * found / max(changed, 1):.1f} %), each rule given the whole "
                  f"{100 * CONTROL_BUDGET:.0f} % of the controls.")
        lines.append(f"* The size of {size}: " + (
            f"no cut-off finds {100 * FOUND_TARGET:.0f} % of the {_either(beyond)} changes without flagging more "
            f"than {100 * CONTROL_BUDGET:.0f} % of the controls ({len(beyond)} of {len(part)} changes)." if beyond
            else f"a cut-off exists for every change ({len(part)} of {len(part)}).") + pooled)
    return "\n".join(lines) + "\n"


# The baseline frame's MDC95 metrics shown in the doc: (part of the repeatability document, metric, display scale,
# unit) for the measures the one-foot changes above move.
MDC_SHOWN: tuple[tuple[str, str, float, str], ...] = (
    ("foot", "cop_ml_pct", 1.0, "% ball width"), ("foot", "share_heel", 100.0, "points"),
    ("foot", "share_midfoot", 100.0, "points"), ("lr_index", "share_heel", 1.0, "% (L/R index)"),
    ("lr_index", "share_midfoot", 1.0, "% (L/R index)"), ("session", "impulse_si_pct", 1.0, "% SI"),
)


def mdc_pairs(cases: Sequence[RealCase], layout: str = KNOWN_ANSWER_LAYOUT) -> list[tuple[dict[str, Any], Any, Any]]:
    """The same-day pairs the stored MDC95 of ``layout`` rests on (its file's ``pairs``), as the (info, first
    session, second session) triples ``repeatability_from_pairs`` takes, from the analysed cases."""
    from insole.report._reference import REPEATABILITY_SOURCES, load_repeatability

    stored = load_repeatability(layout)
    dataset = REPEATABILITY_SOURCES[layout][0]
    by_file = {c.path.name: c for c in cases if c.dataset == dataset}
    triples = []
    for _, first_name, second_name in stored.pairs if stored is not None else ():
        first, second = by_file.get(first_name), by_file.get(second_name)
        if first is not None and second is not None:
            triples.append(({**first.info, "first": first_name, "second": second_name}, first.session,
                            second.session))
    return triples


def _mdc_value(document: dict[str, Any], part: str, metric: str) -> float:
    value = (document.get(part) or {}).get(metric, {}).get("mdc95")
    return float("nan") if value is None else float(value)


def _rep_value(repeatability: Any, part: str, metric: str) -> float:
    value = getattr(repeatability, part).get(metric)
    return float("nan") if value is None else float(value)


def baseline_known_answer_rows(cases: Sequence[RealCase], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The same changes judged against the person's own baseline: each control with a same-day second walk
    (``_02``) has that walk changed (the fractions of ``rows``) and compared with the unchanged first walk, as
    ``insole report --baseline`` does (a change must exceed the measured MDC95). Also the unchanged second walk
    against the first: how often a baseline comparison of a healthy person flags anything.

    The MDC95 is out of sample, as the report has it: the stored one rests on these same pairs, so each pair is
    judged with the MDC95 of the other pairs (the engine's ``judging_frame``: ``Repeatability.without_subject``,
    from the stored pairs' differences); the stored, in-sample MDC95's counts are kept beside it (``*_stored``).
    The stored file is also recomputed from the pairs' walks analysed here (``repeatability_from_pairs``, as
    ``make references`` makes it), to show it is current."""
    from insole.report._reference import judging_frame, repeatability_from_pairs

    firsts = {c.subject: c for c in cases
              if c.group == "control" and c.trial == "01" and c.layout == KNOWN_ANSWER_LAYOUT}
    pairs = [(firsts[c.subject], c) for c in cases
             if c.group == "control" and c.trial == "02" and c.layout == KNOWN_ANSWER_LAYOUT and c.subject in firsts]
    answers = {a.name: a for a in KNOWN_ANSWERS}
    stored = stored_repeatability(KNOWN_ANSWER_LAYOUT)
    stored_document = json_repeatability(KNOWN_ANSWER_LAYOUT)
    recomputed = repeatability_from_pairs(KNOWN_ANSWER_LAYOUT, mdc_pairs(cases))
    # what the report judges each pair with: the frame of the second walk against the first as its baseline
    frames = {first.subject: judging_frame(second.identity, KNOWN_ANSWER_LAYOUT, reference_sets=stored_sets(),
                                           repeatability=stored, base_record=first.identity)
              for first, second in pairs}
    out: dict[str, Any] = {
        "pairs": len(pairs), "mdc_pairs": stored.n_pairs, "mdc_groups": stored_document["groups"],
        "in_mdc": sum(stored.holds_subject(first.subject) for first, _ in pairs),
        "recomputed_pairs": recomputed["n_pairs"],
        "recomputed_max_diff": max((abs(_mdc_value(recomputed, part, m) - _mdc_value(stored_document, part, m))
                                    for part in ("foot", "lr_index", "session") for m in recomputed[part]
                                    if _mdc_value(stored_document, part, m) == _mdc_value(stored_document, part, m)),
                                   default=float("nan")),
        "mdc_table": [(part, metric, scale, unit, _rep_value(stored, part, metric) * scale,
                       [_rep_value(frame.repeatability, part, metric) * scale for frame in frames.values()])
                      for part, metric, scale, unit in MDC_SHOWN],
        "unchanged_flagged": [], "unchanged_flagged_stored": [], "rows": []}

    def judged(session: Any, first: RealCase, second: RealCase, in_sample: bool) -> Any:
        if in_sample:  # the frame's sets (without this person), the stored MDC95 with this person's own pair
            return evaluate(session, reference_sets=frames[first.subject].reference_sets, baseline=first.session,
                            repeatability=stored)
        return evaluate(session, reference_sets=stored_sets(), baseline=first.session, repeatability=stored,
                        walk=second.identity, baseline_walk=first.identity)

    for first, second in pairs:
        for key, in_sample in (("unchanged_flagged", False), ("unchanged_flagged_stored", True)):
            result = judged(second.session, first, second, in_sample)
            if result.findings:
                out[key].append(f"{second.path.stem}: " + ", ".join(f"{f.code} ({f.side})" for f in result.findings))
    for row in rows:
        if not row["assessable"]:
            continue
        answer = answers[row["change"]]
        counts = {"found": 0, "other_foot": 0, "found_stored": 0, "other_foot_stored": 0}
        missed: list[str] = []
        for j, (first, second) in enumerate(pairs):
            side = ("left", "right")[j % 2]
            recording = insole.load(second.path)
            layout = recording.layout
            changed = session_metrics(moved_load(recording, side, region_sensors(layout, answer.source),
                                                 region_sensors(layout, answer.target), row["fraction"],
                                                 answer.paired))
            for suffix, in_sample in (("", False), ("_stored", True)):
                result = judged(changed, first, second, in_sample)
                codes = {(f.code, f.side) for f in result.findings}
                hit = (answer.code, side) in codes
                counts["found" + suffix] += hit
                counts["other_foot" + suffix] += any(s not in (side, "both") for _, s in codes)
                if not hit and not suffix:
                    missed.append(f"{second.path.stem} {side}")
        out["rows"].append({"change": row["change"], "code": row["code"], "size": row["size"], "walks": len(pairs),
                            **counts, "missed": missed})
    return out


def json_repeatability(layout: str) -> dict[str, Any]:
    """The stored repeatability document of ``layout`` as written by ``make references`` (empty when none)."""
    import json
    from importlib import resources

    entry = resources.files("insole.report").joinpath("_data", "repeatability", f"{layout}.json")
    return json.loads(entry.read_text(encoding="utf-8")) if entry.is_file() else {}


def baseline_markdown(result: dict[str, Any]) -> str:
    groups = ", ".join(f"{n} {g}" for g, n in result["mdc_groups"].items())
    lines = [
        "### The same changes against the person's own baseline",
        "",
        f"The {result['pairs']} controls with a same-day second usual walk (`_02`, Ga study): the second walk, "
        "changed on one foot as above, compared with the unchanged first walk as `insole report --baseline` does "
        "(a change must exceed the measured MDC95, docs/report.md). `load_asymmetry` has no baseline frame: it is "
        "judged within the walk, as above.",
        "",
        f"**Out of sample.** The stored MDC95 (insole/report/_data/repeatability/{KNOWN_ANSWER_LAYOUT}.json) comes "
        f"from {result['mdc_pairs']} same-day pairs ({groups}), and {result['in_mdc']} of these "
        f"{result['pairs']} controls are among them: judged with it, each pair would help set the limit it is "
        "judged against. So each pair is judged here with the MDC95 of the other pairs (leave one pair out), as "
        "`insole report` judges it (`Repeatability.without_subject`, from the stored pairs' differences). "
        f"Recomputed from the {result['recomputed_pairs']} pairs' walks analysed here (`repeatability_from_pairs`, "
        "as `make references` makes it; the stored file is not changed) it matches the stored file "
        + ("exactly" if result["recomputed_max_diff"] == 0 else
           f"to within {result['recomputed_max_diff']:.2g} (the largest difference over every metric)")
        + ". The MDC95s of the measures "
        "these changes move, stored and without each control's pair:",
        "",
        "| MDC95 of | stored (all pairs) | without one control's pair (min – max) |",
        "|---|---|---|",
    ]
    for part, metric, _, unit, value, lopo in result["mdc_table"]:
        what = {"foot": "a foot's", "lr_index": "the left/right index of", "session": "the session's"}[part]
        lines.append(f"| {what} `{metric}` | {value:.2f} {unit} | {min(lopo):.2f} – {max(lopo):.2f} {unit} |")
    lines += [
        "",
        "Unchanged second walks against their first walk flagged (out-of-sample MDC95): "
        + ("; ".join(result["unchanged_flagged"]) or "none") + f" (of {result['pairs']}); with the stored MDC95: "
        + ("; ".join(result["unchanged_flagged_stored"]) or "none") + ".",
        "",
        "| change (one foot) | size | found on that foot | a finding on the other foot | missed | with the stored "
        "(in-sample) MDC95: found, other foot |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(f"| {r['change']} | {r['size']} | {r['found']}/{r['walks']} | {r['other_foot']}/{r['walks']} | "
                     f"{len(r['missed'])}: {', '.join(r['missed']) or 'none'} | {r['found_stored']}/{r['walks']}, "
                     f"{r['other_foot_stored']}/{r['walks']} |")
    found = sum(r["found"] for r in result["rows"])
    stored = sum(r["found_stored"] for r in result["rows"])
    total = sum(r["walks"] for r in result["rows"])
    lines += ["", f"All changes: found on that foot {found} of {total} with the out-of-sample MDC95, {stored} of "
              f"{total} with the stored one.", ""]
    return "\n".join(lines)


def _unit(code: str) -> str:
    return {"pronated_loading": "% ball width", "supinated_loading": "% ball width",
            "load_asymmetry": "% SI"}.get(code, "points")


def _minority_text(rows: Sequence[dict[str, Any]]) -> str:
    """Which changes, at which size, the rules found in fewer than half the walks (from the rows, not by hand)."""
    parts = []
    for size in dict.fromkeys(r["size"] for r in rows):
        few = [r["change"].split(" (")[0] for r in rows
               if r["size"] == size and r["assessable"] and 2 * r["found"] < r["walks"]]
        if few:
            parts.append(f"{', '.join(few)} at the size of {size}")
    if not parts:
        return "Every change was found in at least half the walks at every size."
    return f"Found in fewer than half the walks: {'; '.join(parts)}."


def known_answer_markdown(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "## Known-answer changes on real walks",
        "",
        f"Real {KNOWN_ANSWER_LAYOUT} control walks that have no finding of their own, with load moved between the "
        "sensors of one foot (half the walks on the left, half on the right; sensors by region, "
        "docs/report.md \"Region masks per layout\"), judged against the controls without that subject (and, for "
        "the Ga controls whose same-day pair the MDC95 rests on, with the MDC95 of the other pairs). "
        "Acceptance (issue 16): at least 90 % found on the right foot, with no finding on the other foot.",
        "",
        "How large each change is: the fraction of the source sensors' load moved is set so that the median change "
        "of the pattern's measure (calibrated on the first six walks: a trial at 50 %, scaled, tried and scaled once "
        "more) equals the gap "
        "between the controls' median and a percentile of the cohort's Parkinson's feet in the pattern's direction "
        "(whole-foot: a percentile of the patients' impulse |SI|): the 10th/90th (a departure one patient in ten "
        "shows), the 5th/95th (one in twenty) or the furthest patient. Every size is thus no larger than a "
        "difference between this cohort's controls and patients; the first is the strictest reading.",
        "",
    ]
    for size in dict.fromkeys(r["size"] for r in rows):
        part = [r for r in rows if r["size"] == size]
        lines += [
            f"### Changes the size of {size}",
            "",
            "| change (one foot) | expected code | controls' median → patients | load moved | median change "
            "| found on that foot | and nothing on the other foot | a finding on the other foot | missed |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in part:
            if not r["assessable"]:
                lines.append(f"| {r['change']} | `{r['code']}` | – | – | – | not assessable: {r['reason']} (the walks "
                             f"that have one: below) | – | – | – |")
                continue
            b, unit = r["bound"], _unit(r["code"])
            bound_text = (f"patients' \\|SI\\| {b['patients']:.1f} %" if r["code"] == "load_asymmetry" else
                          f"{b['control_median']:.1f} → {b['patients']:.1f} ({b['bound']:.1f} {unit})")
            moved = (f"{100 * r['fraction']:.0f} % of the foot's load removed" if r["code"] == "load_asymmetry"
                     else f"{100 * r['fraction']:.0f} % of the source sensors' load")
            lines.append(f"| {r['change']} | `{r['code']}` | {bound_text} | {moved} | {r['median_change']:+.1f} "
                         f"{unit} | {r['found']}/{r['walks']} | {r['clean_hits']}/{r['walks']} | "
                         f"{r['other_foot']}/{r['walks']} | {len(r['missed'])}: {', '.join(r['missed']) or 'none'} |")
        assessed = [r for r in part if r["assessable"]]
        total = sum(r["walks"] for r in assessed)
        found = sum(r["found"] for r in assessed)
        clean = sum(r["clean_hits"] for r in assessed)
        skipped = [r["change"] for r in part if not r["assessable"]]
        lines += ["", f"Found on the right foot: {found} of {total} ({100 * found / max(total, 1):.0f} %); with no "
                  f"finding on the other foot: {clean} of {total} ({100 * clean / max(total, 1):.0f} %); the "
                  f"acceptance asks for at least 90 %."
                  + (f" Not assessable on {KNOWN_ANSWER_LAYOUT}, so not counted: {', '.join(skipped)}." if skipped
                     else ""), ""]
    lines += [
        "What this shows: in one session a one-sided change is found when what it makes of the foot, with the "
        "person's own asymmetry, passes the real controls' healthy limits (docs/report.md, rule 2; gaitpdb8: heel "
        "share ±16.1 points or ±38 %, midfoot share ±12.2 points or ±65 % between the feet; the COP offset beyond "
        "2.72 residual SDs (2.1 % of ball width) of what the other foot predicts; load asymmetry: impulse, peak "
        "force and F1 indices together beyond at least 2.80 SDs of the controls' along their common direction, "
        "more for a walk unlike the controls in the other directions; each a prediction limit for one new person, "
        "Student's t). A person's own asymmetry can hide a change of this size or add to it: most misses are walks "
        "whose own difference ran the other way (for pronation, a right foot already more lateral than its "
        "partner predicts). " + _minority_text(rows) + " Lower limits would flag more of the healthy controls "
        "themselves (the 10 % acceptance above; the next section shows how far any cut-off could go). The "
        "figures were measured on the same controls the limits come "
        "from (leave-one-subject-out), and the statistics were chosen after seeing the earlier figures: they are "
        "not blind. Against the person's own baseline only the MDC95 must be exceeded, and the same changes are "
        "found in most walks (below). The whole-foot change scales every sensor of one foot, which is also what "
        "one insole reading low does: it shows that a difference in force between the feet is found, not that a "
        "spared leg would be told from an insole reading differently (the finding names both readings when the "
        "stance times are alike, docs/report.md).",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- hallux offload on the real walks with a hallux sensor

# The staged real walks of layouts that have a hallux sensor (gaitpdb8 has none): every recording file below these
# folders is screened (their READMEs, licences and the vendor's gait reports (.xlsx) are not recordings).
HALLUX_DATASETS: tuple[str, ...] = ("moticon-opengo", "vendor-exports")
_NOT_RECORDINGS = (".md", ".xlsx")
# How much of the hallux sensors' load is moved to the metatarsal-head sensors of the same foot. No cohort gives a
# patient distribution for these layouts, and the evidence table's only size (hallux force-time integral SMD -0.39
# in hallux valgus [32]) is in units of a between-person SD no staged data give for them; so fixed fractions, set
# about the rule's cut-off: the foot's total is kept, so its hallux share falls by exactly the fraction, and a walker
# whose feet were alike would read SI = -200 f / (2 - f): -29 % (short of the -45 % cut-off), -67 %, -120 %.
HALLUX_FRACTIONS: tuple[float, ...] = (0.25, 0.50, 0.75)
HALLUX_CODE = "reduced_hallux_loading"


def _hallux_answer() -> KnownAnswer:
    return next(a for a in KNOWN_ANSWERS if a.code == HALLUX_CODE)


def hallux_walk_files(data_dir: Path) -> list[tuple[str, Path]]:
    """(dataset, path) of every recording file of ``HALLUX_DATASETS`` (walked recursively, sorted)."""
    files: list[tuple[str, Path]] = []
    for dataset in HALLUX_DATASETS:
        folder = data_dir / dataset
        if folder.is_dir():
            files += [(dataset, p) for p in sorted(folder.rglob("*"))
                      if p.is_file() and p.suffix.lower() not in _NOT_RECORDINGS and not p.name.startswith("LICENSE")]
    return files


def _hallux_shares(session: Any) -> dict[str, Any]:
    """Per foot: the hallux share of each used step (0-1, NaN where not measured)."""
    import numpy as np

    from insole.report._reference import foot_metric_values

    return {side: np.asarray(foot_metric_values(session, side).get("share_hallux", np.zeros(0)), float)
            for side in session.sides}


def screen_hallux_walk(dataset: str, path: Path, data_dir: Path) -> dict[str, Any]:
    """Whether a file is a walk on both feet of a layout with hallux and metatarsal-head sensors, and if not, why."""
    import numpy as np

    name = str(path.relative_to(data_dir / dataset))
    out: dict[str, Any] = {"dataset": dataset, "file": name, "path": path, "layout": "–", "sides": (),
                           "duration_s": float("nan"), "steps": {}, "usable": False, "reasons": []}
    try:
        recording = insole.load(path)
    except insole.InputError as exc:
        out["reasons"].append(f"the loader refuses it ({exc})")
        return out
    layout = recording.layout
    out.update(layout=layout.name, sides=tuple(recording.sides), duration_s=float(recording.duration_s))
    answer = _hallux_answer()
    if not region_sensors(layout, answer.source):
        out["reasons"].append(f"layout {layout.name} has no hallux sensor")
    elif not region_sensors(layout, answer.target):
        out["reasons"].append(f"layout {layout.name} has no metatarsal-head sensor")
    if set(recording.sides) != {"left", "right"}:
        out["reasons"].append(f"one foot only ({', '.join(recording.sides)})")
    session = session_metrics(recording)
    shares = _hallux_shares(session) if not out["reasons"] else {}
    out["steps"] = {side: int(session.feet[side].n_steps) for side in session.sides}
    finite = {side: int(np.isfinite(v).sum()) for side, v in shares.items()}
    if shares and min(finite.values()) < 2:
        out["reasons"].append(f"{recording.duration_s:.1f} s, not a walk: "
                              + ", ".join(f"{n} used step{'s' * (n != 1)} on the {s} foot"
                                          for s, n in out["steps"].items()))
    out["usable"] = not out["reasons"]
    out["hallux_steps"] = min(finite.values()) if finite else 0
    return out


def _hallux_outcome(result: Any, side: str, unchanged: Any) -> dict[str, Any]:
    """What the report made of the hallux rule on ``side`` (found / missed / not assessed), what else it found on
    the other foot, and which frames the finding passed."""
    other = {"left": "right", "right": "left"}[side]
    finding = next((f for f in result.findings if f.code == HALLUX_CODE and f.side == side), None)
    skipped = next((n.reason for n in result.not_assessed if n.code == HALLUX_CODE and n.side in (side, "both")),
                   None)
    before = {(f.code, f.side) for f in unchanged.findings}
    on_other = sorted({f"{f.code} ({f.side})" for f in result.findings if f.side == other})
    new_other = sorted({f"{f.code} ({f.side})" for f in result.findings
                        if f.side == other and (f.code, f.side) not in before})
    status = "found" if finding is not None else ("not assessed" if skipped else "missed")
    return {"status": status, "reason": skipped, "other_foot": on_other, "new_other_foot": new_other,
            "frames": tuple(c.frame for c in finding.comparisons if c.passed) if finding else (),
            "all_frames": tuple(c.frame for c in finding.comparisons) if finding else (),
            "confidence": finding.confidence if finding else None,
            "si_pct": finding.measured.symmetry_index_pct if finding else None}


def hallux_known_answer(walk: dict[str, Any], fractions: Sequence[float] = HALLUX_FRACTIONS) -> dict[str, Any]:
    """Hallux offload made on each foot of one usable walk in turn, judged as ``insole report`` does (its default
    rules; these layouts have no reference set and no measured repeatability, ``evaluate`` finds none) and again
    with the rules' step minimum lowered to the walk's own steps (``FindingParams.min_steps``; the report does not
    do that), which shows what the rule's cut-off would make of the change."""
    import numpy as np

    from insole.report import FindingParams

    recording = insole.load(walk["path"])
    layout = recording.layout
    answer = _hallux_answer()
    source, target = region_sensors(layout, answer.source), region_sensors(layout, answer.target)
    session = session_metrics(recording)
    lowered = FindingParams(min_steps=max(2, int(walk["hallux_steps"])))
    frames = {"report": None, "lowered": lowered}
    unchanged = {k: evaluate(session, p) for k, p in frames.items()}
    shares = {s: float(np.nanmean(v)) * 100.0 for s, v in _hallux_shares(session).items()}
    runs = []
    for fraction in fractions:
        for side in ("left", "right"):
            changed = session_metrics(moved_load(recording, side, source, target, fraction))
            steps = _hallux_shares(changed)
            after = {s: float(np.nanmean(v)) * 100.0 for s, v in steps.items()}
            other = {"left": "right", "right": "left"}[side]
            run: dict[str, Any] = {"fraction": fraction, "side": side, "share_after": after[side],
                                   "si_pct": symmetry_index(after[side], after[other]),
                                   "t": step_welch_t(steps[side], steps[other])}
            for key, params in frames.items():
                run[key] = _hallux_outcome(evaluate(changed, params), side, unchanged[key])
            runs.append(run)
    from insole.report._reference import load_reference_sets, load_repeatability, reference_set_for

    return {**walk, "shares": shares, "lowered_min_steps": lowered.min_steps, "runs": runs,
            "source": source, "target": target,
            "reference": reference_set_for(load_reference_sets(), layout.name) is not None,
            "repeatability": load_repeatability(layout.name) is not None,
            "unchanged": {k: [f"{f.code} ({f.side})" for f in r.findings] for k, r in unchanged.items()},
            "unchanged_hallux": next((n.reason for n in unchanged["report"].not_assessed if n.code == HALLUX_CODE),
                                     None)}


def symmetry_index(this: float, other: float) -> float:
    """This foot against the other, % of their mean (the report's symmetry index)."""
    from insole.analysis import symmetry_index_pct

    return float(symmetry_index_pct(this, other))


def hallux_rows(data_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(every screened file, the known-answer result of each usable walk)."""
    screened = [screen_hallux_walk(dataset, path, data_dir) for dataset, path in hallux_walk_files(data_dir)]
    return screened, [hallux_known_answer(w) for w in screened if w["usable"]]


def _hallux_cell(outcome: dict[str, Any]) -> str:
    if outcome["status"] == "not assessed":
        return f"not assessed: {outcome['reason']}"
    if outcome["status"] == "missed":
        return "missed"
    frames = "other foot only" if outcome["frames"] == ("other_foot",) else ", ".join(outcome["frames"])
    return f"found ({frames}; {outcome['confidence']} confidence)"


def hallux_markdown(screened: Sequence[dict[str, Any]], walks: Sequence[dict[str, Any]],
                    fractions: Sequence[float] = HALLUX_FRACTIONS) -> str:
    lines = [
        "## Hallux offload on the real walks that have a hallux sensor",
        "",
        "gaitpdb8 has no hallux sensor (above), so the hallux rule is tried on every staged real recording whose "
        f"layout has one ({', '.join(f'`{d}`' for d in HALLUX_DATASETS)}): load moved from the hallux sensors "
        "to the metatarsal-head sensors of one foot (spread evenly; the foot's total kept), on the left in one run "
        "and on the right in another, judged with the report's own `evaluate` as `insole report` does.",
        "",
        "**Sizes.** No cohort gives a patient distribution for these layouts (no real controls and no patients "
        "walk on Moticon, pedar, F-Scan or XSENSOR insoles in the staged data), so the sizes cannot be set, as "
        "for gaitpdb8, by how far patients depart from controls. The evidence table's only size for hallux "
        "loading is a standardised mean difference (in-shoe meta-analysis, hallux force-time integral in hallux "
        "valgus SMD −0.39, 95 % CI −0.71 to −0.07 [32]), in units of a between-person SD that no staged data give "
        "for these layouts. The sizes are therefore fixed fractions of the hallux sensors' load, "
        + ", ".join(f"{100 * f:.0f} %" for f in fractions)
        + ", set about the rule's cut-off (hallux share SI ≤ −45 %): with the foot's total kept, its hallux share "
        "falls by exactly the fraction, so on a walker whose feet were alike the symmetry index would read "
        + ", ".join(f"{symmetry_index(1 - f, 1):+.0f} %" for f in fractions)
        + " (the first short of the cut-off: found only where the walk's own asymmetry adds to it).",
        "",
        "### Which files are walks on two feet with a hallux sensor",
        "",
        "| dataset | file | layout | feet | duration | used steps (left / right) | used | why not |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in screened:
        steps = " / ".join(str(w["steps"].get(s, "–")) for s in ("left", "right")) if w["steps"] else "–"
        duration = f"{w['duration_s']:.1f} s" if w["duration_s"] == w["duration_s"] else "–"
        lines.append(f"| {w['dataset']} | `{w['file']}` | {w['layout']} | {', '.join(w['sides']) or '–'} | "
                     f"{duration} | {steps} | {'yes' if w['usable'] else 'no'} | {'; '.join(w['reasons']) or '–'} |")
    people = len(walks)
    lines += [
        "",
        f"Usable: {people} walk{'s' * (people != 1)} of {len(screened)} files"
        + (", fewer than the 5 walks per pattern the acceptance asks for" if people < 5 else "")
        + ". The files come from at most a few people (the Moticon README: the two `230927` trials are the same "
        "insoles, presumably one person; `text_export.txt` another pair; the vendor exports one file per system).",
        "",
    ]
    if not walks:
        return "\n".join(lines) + "\n"
    from insole.report import FindingParams

    min_steps = FindingParams().min_steps
    cut_off = -FindingParams().toe_si_pct
    cut_text = f"−{-cut_off:g} %"
    t_min = FindingParams().step_t_min
    lines += [
        "### What `insole report` makes of them",
        "",
        "| walk | layout | hallux share, left / right (unchanged) | findings of the unchanged walk | hallux rule on "
        "the unchanged walk | findings of the unchanged walk with the step minimum lowered (below) |",
        "|---|---|---|---|---|---|",
    ]
    for w in walks:
        lines.append(f"| `{w['file']}` | {w['layout']} | {w['shares']['left']:.1f} % / {w['shares']['right']:.1f} % | "
                     f"{', '.join(w['unchanged']['report']) or 'none'} | "
                     f"{'not assessed: ' + w['unchanged_hallux'] if w['unchanged_hallux'] else 'assessed, not flagged'}"
                     f" | {', '.join(w['unchanged']['lowered']) or 'none'} (at {w['lowered_min_steps']} steps) |")
    runs = [(w, r) for w in walks for r in w["runs"]]
    counts = Counter(r["report"]["status"] for _, r in runs)
    lines += [
        "",
        f"Every usable walk has fewer than the {min_steps} used steps per foot the foot rules need (docs/report.md, "
        "rule 3), so the report judges no hallux rule on any of them, changed or not: of "
        f"{len(runs)} changed walks (each walk, size and foot), found on that foot {counts['found']}, missed "
        f"{counts['missed']}, not assessed {counts['not assessed']}. On these files the acceptance cannot be met: "
        "it needs walks of at least ten steps a foot with a hallux sensor, on both feet.",
        "",
        "### The same changes with the step minimum lowered to each walk's own steps (not what the report does)",
        "",
        "To show what the rule's cut-off and its other conditions make of the change, each walk is judged again "
        "with `FindingParams(min_steps=…)` set to the fewest steps a foot of that walk has with a hallux share "
        "(the report never lowers it: with so few steps a mean share is not a stable figure). "
        + ("None of these layouts has a reference set or a measured repeatability"
           if not any(w["reference"] or w["repeatability"] for w in walks) else
           "Some of these layouts have a reference set or a measured repeatability (see the frames)")
        + f", so the rule that can fire is the comparison with the other foot alone: hallux share SI ≤ {cut_text} "
        f"and Welch's t ≤ −{t_min:g} over the steps (docs/report.md, rule 1); the finding is then low confidence and "
        "says the other foot may be the one that differs (\"other foot only\" below: the only comparison it passed).",
        "",
        "| walk | steps allowed | load moved | foot | hallux share after | SI vs the other foot | t | hallux rule "
        "| new findings on the other foot |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w, r in runs:
        o = r["lowered"]
        lines.append(f"| `{w['file']}` | {w['lowered_min_steps']} | {100 * r['fraction']:.0f} % | {r['side']} | "
                     f"{r['share_after']:.1f} % | {r['si_pct']:+.0f} % | {r['t']:+.1f} | {_hallux_cell(o)} | "
                     f"{', '.join(o['new_other_foot']) or 'none'} |")
    lines += ["", "| load moved | found on that foot | and nothing new on the other foot | missed | not assessed |",
              "|---|---|---|---|---|"]
    for fraction in fractions:
        part = [r["lowered"] for _, r in runs if r["fraction"] == fraction]
        found = sum(o["status"] == "found" for o in part)
        clean = sum(o["status"] == "found" and not o["new_other_foot"] for o in part)
        lines.append(f"| {100 * fraction:.0f} % | {found}/{len(part)} | {clean}/{len(part)} | "
                     f"{sum(o['status'] == 'missed' for o in part)}/{len(part)} | "
                     f"{sum(o['status'] == 'not assessed' for o in part)}/{len(part)} |")
    missed = [(w, r) for w, r in runs if r["lowered"]["status"] == "missed"]
    other_side = {"left": "right", "right": "left"}
    # short of the cut-off: the changed foot loaded its hallux more than its partner before the change (its own
    # difference worked against the change), or not (the change itself was too small)
    against = sum(r["si_pct"] > cut_off and w["shares"][r["side"]] > w["shares"][other_side[r["side"]]]
                  for w, r in missed)
    small = sum(r["si_pct"] > cut_off and w["shares"][r["side"]] <= w["shares"][other_side[r["side"]]]
                for w, r in missed)
    scatter = sum(r["si_pct"] <= cut_off and not r["t"] <= -t_min for _, r in missed)
    new_other = sum(bool(r["lowered"]["new_other_foot"]) for _, r in runs)
    lines += [
        "",
        f"Of the {len(missed)} misses with the lowered minimum, {against + small} left the index short of {cut_text}: "
        f"{against} on a foot that loaded its hallux more than its partner before the change (its own difference "
        f"worked against the change) and {small} on a foot that did not (the change itself too small: at 25 % the "
        f"index of feet alike reads {symmetry_index(0.75, 1):+.0f} %); {scatter} passed the cut-off but not the "
        f"step-scatter condition (t > −{t_min:g} on a few steps). Changes that added a finding on the other foot: "
        f"{new_other} of {len(runs)}. The unchanged walks' own findings under the lowered minimum are findings on "
        "a handful of steps against fixed cut-offs, which the report does not judge.",
        "",
    ]
    return "\n".join(lines)


def validation_markdown(results: Sequence[CaseResult], seeds: int, normal_seeds: int, duration_s: float = 60.0) -> str:
    rows, normal = summarise(results)
    lines = [
        "## Simulated walks",
        "",
        f"Each walk is {duration_s:g} s of the insole simulator (`insole.simulate._simulator`, layout insole16, "
        "100 Hz, default noise), analysed and evaluated exactly as `insole report` does. One-sided patterns are "
        f"simulated on each side; {seeds} seeds per row (0-{seeds - 1}), {normal_seeds} seeds of `normal`. The "
        "simulated reference set uses seeds 10000+, so no walk is compared with itself.",
        "",
        "Acceptance: the pattern's code on the right side in at least 19 of 20 walks; on `normal`, no finding at "
        "moderate confidence or above in at least 48 of 50.",
        "",
        "| pattern | side | expected code | flagged on that side | flagged on the wrong side "
        "| other findings (count) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        others = ", ".join(f"{k}: {v}" for k, v in sorted(row.others.items())) or "none"
        lines.append(f"| {row.pattern} | {row.side} | `{row.expected}` | {row.hits}/{row.runs} | "
                     f"{row.wrong_side}/{row.runs} | {others} |")
    codes = ", ".join(f"{k}: {v}" for k, v in sorted(normal["codes"].items())) or "none"
    lines += [
        "",
        "### Normal walking",
        "",
        "| walks | with any finding | with a finding at moderate confidence or above | findings seen (count) |",
        "|---|---|---|---|",
        f"| {normal['runs']} | {normal['any_finding']} | {normal['moderate_or_above']} | {codes} |",
        "",
        "### What this does and does not show",
        "",
        "* The simulator's patterns are built from the evidence base's descriptions, and the one-sided ones change "
        "one foot only, so a left/right comparison sees them clearly. Real feet differ from each other more than "
        "simulated ones do; the cut-offs were therefore set above the left/right differences seen in the staged "
        "real control recordings (docs/report.md), not tuned to the simulator.",
        "* The specificity figure for `normal` is optimistic for the same reason: simulated left and right feet "
        "are more alike than real ones.",
        "* Which foot departs from typical is judged against the simulated normal reference set for insole16; "
        "for real insole16 users that reference is a stand-in until real control data exist, and the findings "
        "say so.",
        "",
    ]
    return "\n".join(lines)


HEADER = (
    "# Findings validation: real cohorts and simulated walks\n\n"
    "Generated by `make validate` (`docs/scripts/validate_findings.py`, insole " + insole.__version__
    + "); do not edit by hand.\n"
)

BEFORE = """## Before issue 16 (measured 2026-12-06, kept for comparison)

The engine as it stood before issue 16, with its stored references (five real controls, simulated insole16), on
every usual-walk file of the real cohorts: controls with any finding 17 of 47 (36 %; gaitpdb 17 of 38, gaitndd
0 of 9); Parkinson's 38 of 56, ALS 3 of 7, Huntington's 9 of 11. Control findings: reduced_hallux_loading 5,
load_asymmetry 8, heel_avoidance 3, high_impact 3. Five of those controls were in the reference itself, so that
figure was not yet leave-one-subject-out.
"""


def _default_data() -> Path:
    # the same rule as the tests (tests/_data.py): $INSOLE_SHARED_DATA, else ../shared/data beside the repo
    return Path(os.environ.get("INSOLE_SHARED_DATA") or REPO.parent / "shared" / "data")


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description="Regenerate docs/findings-validation.md: the findings on the staged real cohorts judged "
                    "leave-one-subject-out, known-answer changes on real control walks, and simulated walks "
                    "(about 2-10 minutes on 2 cores).")
    parser.add_argument("--seeds", type=int, default=20,
                        help="simulator seeds per pattern (default 20; 0: leave out the simulated part)")
    parser.add_argument("--normal-seeds", type=int, default=50,
                        help="simulator seeds of normal walking, for the specificity row (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="processes that analyse in parallel (default 2)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "findings-validation.md",
                        help="the page to write (default: docs/findings-validation.md, replaced in place)")
    parser.add_argument("--data", type=Path, default=_default_data(),
                        help="the staged datasets (default: $INSOLE_SHARED_DATA, else ../shared/data beside the "
                             "repository)")
    parser.add_argument("--no-real", action="store_true",
                        help="leave out the real-data sections on purpose (otherwise a missing --data is an error)")
    args = parser.parse_args(argv)
    if not args.no_real and not args.data.is_dir():
        # a page without its real-data sections would replace the validated one silently
        print(f"validate_findings: {args.data}: no such folder of staged datasets; give --data, set "
              f"INSOLE_SHARED_DATA, or pass --no-real to leave the real-data sections out", file=sys.stderr)
        raise SystemExit(2)
    text = HEADER
    if not args.no_real:
        cases, refused = real_cases(args.data, args.workers)
        text += "\n" + real_cohort_markdown(real_cohort_rows(cases), refused, stored_sets_match(cases),
                                            real_case_files(args.data)[1])
        text += "\n" + relations_markdown(control_relations())
        rows = known_answer_rows(cases)
        text += "\n" + known_answer_markdown(rows) + "\n" + cutoff_markdown(cutoff_rows(cases, rows))
        text += "\n" + baseline_markdown(baseline_known_answer_rows(cases, rows))
        text += "\n" + hallux_markdown(*hallux_rows(args.data))
    else:
        text += "\n(The real-data sections were left out on purpose: `--no-real`.)\n"
    if args.seeds > 0:
        results = run_validation(args.seeds, args.normal_seeds, args.workers)
        text += "\n" + validation_markdown(results, args.seeds, args.normal_seeds)
    text += "\n" + BEFORE
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Cohort comparison: groups of recordings side by side, with effect sizes and their confidence intervals.

``compare_cohort(cohort, CohortParams(group_by=...))`` takes the table that
``insole batch`` writes (optionally joined with a group-label table through
``read_groups`` and ``join_groups``) and returns a ``CohortComparison``:

``values``    one row per (recording, metric): what the distributions are drawn from;
``stats``     per group and metric: n, mean, SD, median, quartiles, range;
``effects``   each group against the reference group, per metric:
              Hedges' g with its analytic confidence interval (the normal
              approximation of Hedges & Olkin 1985) and Cliff's delta with a
              percentile bootstrap interval (resampling within each group,
              seeded, so the same input gives the same interval);
``findings``  per group and finding code: recordings assessed, flagged, and the share.

Hedges' g: the difference of means over the pooled SD, times the small-sample
correction J = 1 - 3 / (4 (n1 + n2) - 9). Its variance is approximately
(n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2)). Cliff's delta: P(X > Y) - P(X < Y)
for a recording X of the group and Y of the reference, in [-1, 1]; it needs
no normality and is what to read for skewed metrics such as variability.
Positive values mean the group is higher than the reference.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insole._errors import InputError

__all__ = [
    "MetricSpec",
    "KEY_METRICS",
    "CohortParams",
    "CohortComparison",
    "JoinReport",
    "compare_cohort",
    "read_groups",
    "join_groups",
    "hedges_g",
    "cliffs_delta",
]


@dataclass(frozen=True)
class MetricSpec:
    """A compared metric: cohort column, label, unit, family; ``absolute`` compares |value| (asymmetry)."""

    column: str
    label: str
    unit: str
    family: str
    absolute_of: str | None = None


# The key metrics, in the order shown. Asymmetries are |symmetry index|: which foot is larger does not
# matter when comparing groups.
KEY_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("stride_time_cv_pct", "Stride-time CV", "%", "variability"),
    MetricSpec("stride_time_robust_cv_pct", "Stride-time robust CV (MAD)", "%", "variability"),
    MetricSpec("stance_time_cv_pct", "Stance-time CV", "%", "variability"),
    MetricSpec("cadence_steps_per_min", "Cadence", "steps/min", "timing"),
    MetricSpec("stride_time_s", "Stride time", "s", "timing"),
    MetricSpec("stance_pct", "Stance", "% of stride", "timing"),
    MetricSpec("double_support_pct", "Double support", "% of stride", "timing"),
    MetricSpec("stance_time_asymmetry_pct", "Stance-time asymmetry |SI|", "%", "symmetry",
               absolute_of="stance_time_s_si_pct"),
    MetricSpec("impulse_asymmetry_pct", "Impulse asymmetry |SI|", "%", "symmetry", absolute_of="impulse_bw_s_si_pct"),
    MetricSpec("first_peak_bw", "First force peak", "BW", "loading"),
    MetricSpec("second_peak_bw", "Second force peak", "BW", "loading"),
    MetricSpec("loading_rate_bw_s", "Loading rate", "BW/s", "loading"),
    MetricSpec("heel_share_pct", "Heel share of load", "%", "loading"),
    MetricSpec("midfoot_share_pct", "Midfoot (arch) share of load", "%", "loading"),
    MetricSpec("forefoot_share_pct", "Forefoot share of load", "%", "loading"),
    MetricSpec("cop_ml_offset_mm", "Mean COP offset (+ medial)", "mm", "loading"),
)
_CONTROL_NAMES = re.compile(r"^(control|controls|healthy|co|hc|ctrl)$", re.IGNORECASE)


@dataclass(frozen=True)
class CohortParams:
    """How to compare: the grouping column, the reference group (None: a control group if one is
    named so, else the first in sort order), extra metric columns, bootstrap resamples, seed, and the
    confidence level of the intervals."""

    group_by: str
    reference: str | None = None
    extra_metrics: tuple[str, ...] = ()
    bootstrap: int = 2000
    seed: int = 0
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), not {self.confidence}")
        if self.bootstrap < 100:
            raise ValueError(f"bootstrap needs at least 100 resamples, not {self.bootstrap}")

    def to_dict(self) -> dict[str, Any]:
        return {"group_by": self.group_by, "reference": self.reference, "extra_metrics": list(self.extra_metrics),
                "bootstrap": self.bootstrap, "seed": self.seed, "confidence": self.confidence}


@dataclass(frozen=True)
class JoinReport:
    """How a group-label table was joined: file, its id column, the cohort key, what matched."""

    path: str
    on: str
    key: str
    matched: int
    unmatched_recordings: tuple[str, ...]
    n_rows: int
    columns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "on": self.on, "key": self.key, "matched": self.matched,
                "unmatched_recordings": list(self.unmatched_recordings), "rows_in_file": self.n_rows,
                "columns": list(self.columns)}


@dataclass(frozen=True)
class CohortComparison:
    """The comparison the page is drawn from (see the module docstring)."""

    params: CohortParams
    groups: tuple[str, ...]
    reference: str
    group_sizes: Mapping[str, int]
    metrics: tuple[MetricSpec, ...]
    values: pd.DataFrame
    stats: pd.DataFrame
    effects: pd.DataFrame
    findings: pd.DataFrame
    quality: pd.DataFrame
    excluded: tuple[str, ...]
    provenance: Mapping[str, Any]
    join: JoinReport | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready structure (NaN as None)."""
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]

        return {
            "schema": "insole.cohort",
            "schema_version": "1.0",
            "params": self.params.to_dict(),
            "groups": list(self.groups),
            "reference": self.reference,
            "group_sizes": dict(self.group_sizes),
            "metrics": [{"column": m.column, "label": m.label, "unit": m.unit, "family": m.family,
                         "absolute_of": m.absolute_of} for m in self.metrics],
            "stats": records(self.stats),
            "effects": records(self.effects),
            "findings": records(self.findings),
            "quality": records(self.quality),
            "excluded": list(self.excluded),
            "join": self.join.to_dict() if self.join else None,
            "notes": list(self.notes),
            "provenance": _plain(self.provenance),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


# ---------------------------------------------------------------- effect sizes


def hedges_g(x: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Hedges' g of ``x`` against ``y`` and its analytic confidence interval; NaNs when undefined."""
    from scipy.stats import norm

    n1, n2 = x.size, y.size
    nan = (float("nan"),) * 3
    if n1 < 2 or n2 < 2:
        return nan
    pooled = math.sqrt(((n1 - 1) * np.var(x, ddof=1) + (n2 - 1) * np.var(y, ddof=1)) / (n1 + n2 - 2))
    if not pooled > 0:
        return nan
    correction = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0)
    g = correction * (float(np.mean(x)) - float(np.mean(y))) / pooled
    se = math.sqrt((n1 + n2) / (n1 * n2) + g * g / (2.0 * (n1 + n2)))
    z = float(norm.ppf(0.5 + confidence / 2.0))
    return g, g - z * se, g + z * se


def cliffs_delta(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) - P(X < Y) over all pairs, by sorting (n log n, not n^2)."""
    if x.size == 0 or y.size == 0:
        return float("nan")
    ys = np.sort(y)
    below = np.searchsorted(ys, x, side="left")  # y values smaller than each x
    not_above = np.searchsorted(ys, x, side="right")
    greater = float(below.sum())
    less = float((y.size - not_above).sum())
    return (greater - less) / (x.size * y.size)


def _bootstrap_delta(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_boot: int,
                     confidence: float) -> tuple[float, float]:
    """Percentile bootstrap interval of Cliff's delta, resampling each group with replacement."""
    if x.size < 2 or y.size < 2:
        return float("nan"), float("nan")
    xi = rng.integers(0, x.size, size=(n_boot, x.size))
    yi = rng.integers(0, y.size, size=(n_boot, y.size))
    # Each resample is shifted into its own band of the number line, so one sorted array and one
    # searchsorted count every resample's pairs at once (B n log n, not B n^2). Equal values stay
    # equal: the same shift is added to both.
    low = min(float(x.min()), float(y.min()))
    band = 2.0 * (max(float(x.max()), float(y.max())) - low) + 1.0
    shift = np.arange(n_boot, dtype=float)[:, None] * band
    xs = (x[xi] - low) + shift
    ys = (np.sort(y[yi], axis=1) - low) + shift
    flat = ys.ravel()
    start = (np.arange(n_boot) * y.size)[:, None]
    below = np.searchsorted(flat, xs, side="left") - start
    not_above = np.searchsorted(flat, xs, side="right") - start
    deltas = (below.sum(axis=1) - (y.size - not_above).sum(axis=1)) / (x.size * y.size)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(deltas, [tail, 1.0 - tail])
    return float(low), float(high)


# ---------------------------------------------------------------- group labels


_MISSING = {"", "nan", "na", "n/a", "missing", "none", "null", "-"}


def read_groups(path: str | Path) -> pd.DataFrame:
    """A CSV or TSV of labels per recording or subject, every cell as text (missing as None).

    Tab-separated when the header has a tab, else comma or semicolon
    (whichever splits the header into more cells). Read with the csv module
    in its standard dialect: quoted cells may hold the delimiter, line breaks
    and quotes written twice (the standard escape of a quote inside a quoted
    cell). A blank first header cell (as in gaitndd's
    ``subject-description.txt``) is named ``id``; trailing blank header cells and the empty cells under
    them are dropped (gaitpdb's ``demographics.txt``). A tab-separated row
    with fewer cells than the header whose cells hold spaces is split on
    any whitespace (one row of subject-description.txt has a space for a tab).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = next((line for line in text.split("\n") if line.strip()), "")
    if "\t" in first:
        delimiter = "\t"
    else:
        widths = {d: len(next(csv.reader([first], delimiter=d))) for d in (",", ";")}
        delimiter = max(widths, key=lambda d: widths[d])
        if widths[delimiter] < 2:
            raise InputError(path, "is neither tab- nor comma-separated (no delimiter in the header)")
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter, doublequote=True, strict=True)
                if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise InputError(path, f"is not valid CSV ({error})") from None
    if len(rows) < 2:
        raise InputError(path, "needs a header row and at least one row of labels")
    header = [cell.strip() for cell in rows[0]]
    while header and not header[-1]:
        header.pop()
    if header and not header[0]:
        header[0] = "id"
    if any(not name for name in header):
        raise InputError(path, "has a blank column name in its header")
    if len(set(header)) != len(header):
        raise InputError(path, "has duplicate column names in its header")
    width = len(header)
    table = []
    for number, cells in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in cells]
        if len(cells) < width and any(" " in c for c in cells):
            cells = " ".join(cells).split()
        while len(cells) > width and not cells[-1]:
            cells.pop()
        if len(cells) > width:
            raise InputError(path, f"line {number} has {len(cells)} cells, the header {width}")
        cells += [""] * (width - len(cells))
        table.append([None if c.lower() in _MISSING else c for c in cells])
    return pd.DataFrame(table, columns=header, dtype=object)


def join_groups(cohort: pd.DataFrame, groups: pd.DataFrame, *, path: str | Path, on: str | None = None,
                key: str | None = None) -> tuple[pd.DataFrame, JoinReport]:
    """Add the label table's columns to the cohort, matching its ``on`` column to the cohort's ``key``.

    ``on`` defaults to the table's first column. ``key`` None tries
    ``recording_id`` and ``subject_id`` (file stem, and the subject the
    importer names: gaitpdb ``GaPt03`` for ``GaPt03_01.txt``) and takes the one
    that matches more rows. Numbers are turned into numbers where a whole
    column parses; a column name the cohort already has gets ``_groups``.
    """
    on = on or str(groups.columns[0])
    if on not in groups.columns:
        raise InputError(path, f"has no column {on!r} (columns: {', '.join(map(str, groups.columns))})")
    ids = groups[on].astype(object)
    if ids.isna().any():
        groups = groups[ids.notna()]
        ids = groups[on]
    duplicated = sorted(set(ids[ids.duplicated()]))
    if duplicated:
        raise InputError(path, f"lists these ids more than once in {on!r}: {', '.join(duplicated[:5])}")
    candidates = [key] if key else ["recording_id", "subject_id"]
    known = set(ids)
    best, best_matches = None, -1
    for candidate in candidates:
        if candidate not in cohort.columns:
            if key:
                raise InputError(path, f"cannot join on {key!r}: the cohort has no such column")
            continue
        matches = int(cohort[candidate].astype(object).isin(known).sum())
        if matches > best_matches:
            best, best_matches = candidate, matches
    if best is None or best_matches == 0:
        example = ", ".join(repr(v) for v in list(ids[:2]))
        tried = " or ".join(candidates)
        have = ", ".join(repr(str(v)) for v in cohort.get(candidates[0], pd.Series(dtype=object)).head(2))
        raise InputError(path, f"no recording matches the ids in column {on!r} (e.g. {example}); tried the cohort's "
                               f"{tried} (e.g. {have})")
    labels = groups.copy()
    for column in labels.columns:
        if column == on:
            continue
        numbers = pd.to_numeric(labels[column], errors="coerce")
        if numbers.notna().sum() == labels[column].notna().sum() and labels[column].notna().any():
            labels[column] = numbers
    renames = {c: (f"{c}_groups" if c in cohort.columns else c) for c in labels.columns if c != on}
    labels = labels.rename(columns=renames)
    labels = labels.rename(columns={on: "__join_id"})
    joined = cohort.merge(labels, how="left", left_on=best, right_on="__join_id").drop(columns="__join_id")
    joined.index = cohort.index
    matched_mask = cohort[best].astype(object).isin(known)
    report = JoinReport(
        path=str(path), on=on, key=best, matched=int(matched_mask.sum()),
        unmatched_recordings=tuple(str(r) for r in cohort.loc[~matched_mask, "recording_id"]),
        n_rows=len(groups), columns=tuple(renames.values()),
    )
    return joined, report


# ---------------------------------------------------------------- the comparison


def _label(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _resolve_column(frame: pd.DataFrame, name: str, what: str) -> str:
    if name in frame.columns:
        return name
    folded = [c for c in frame.columns if str(c).lower() == name.lower()]
    if len(folded) == 1:
        return str(folded[0])
    shown = ", ".join(str(c) for c in list(frame.columns)[:12])
    raise ValueError(f"{what} {name!r} is not a column of the cohort (columns include: {shown}, ...)")


def _metric_frame(cohort: pd.DataFrame, extra: Sequence[str]) -> tuple[pd.DataFrame, tuple[MetricSpec, ...]]:
    """The metric values per recording (asymmetries as |SI|), and the metrics that have any value."""
    specs = list(KEY_METRICS)
    for name in extra:
        column = _resolve_column(cohort, name, "metric")
        if not any(s.column == column for s in specs):
            specs.append(MetricSpec(column, column, _unit_of(column), "extra"))
    data = {}
    present = []
    for spec in specs:
        source = spec.absolute_of or spec.column
        if source not in cohort.columns:
            continue
        values = pd.to_numeric(cohort[source], errors="coerce").astype(float)
        if spec.absolute_of:
            values = values.abs()
        if values.notna().any():
            data[spec.column] = values.to_numpy()
            present.append(spec)
    return pd.DataFrame(data, index=cohort.index), tuple(present)


def _unit_of(column: str) -> str:
    for suffix, unit in (("_pct", "%"), ("_s", "s"), ("_hz", "Hz"), ("_n", "N"), ("_kpa", "kPa"), ("_bw", "BW"),
                         ("_mm", "mm"), ("_bw_s", "BW/s"), ("_kg", "kg"), ("_m", "m")):
        if column.endswith(suffix):
            return unit
    return ""


def _reference(groups: Sequence[str], wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in groups:
            raise ValueError(f"reference group {wanted!r} is not among the groups ({', '.join(groups)})")
        return wanted
    named = [g for g in groups if _CONTROL_NAMES.match(g)]
    return named[0] if named else groups[0]


def compare_cohort(cohort: pd.DataFrame, params: CohortParams, *, provenance: Mapping[str, Any] | None = None,
                   join: JoinReport | None = None) -> CohortComparison:
    """Compare the groups of ``params.group_by`` (see the module docstring); ValueError for an unusable request."""
    group_column = _resolve_column(cohort, params.group_by, "--group-by")
    labels = cohort[group_column].map(_label)
    excluded = tuple(str(r) for r in cohort.loc[labels.isna(), "recording_id"])
    repeated, copies, conflicts = _copies(cohort, labels)
    kept = cohort[labels.notna() & ~repeated]
    labels = labels[labels.notna() & ~repeated]
    groups_sorted = sorted(set(labels))
    if len(groups_sorted) < 2:
        raise ValueError(f"{group_column!r} gives {len(groups_sorted)} group(s) with a label; at least 2 are needed")
    reference = _reference(groups_sorted, params.reference)
    groups = (reference, *[g for g in groups_sorted if g != reference])
    sizes = {g: int((labels == g).sum()) for g in groups}
    metrics_frame, metrics = _metric_frame(kept, params.extra_metrics)
    if not metrics:
        raise ValueError("the cohort has none of the compared metrics (is it a table written by 'insole batch'?)")

    long = metrics_frame.assign(recording_id=kept["recording_id"].to_numpy(), group=labels.to_numpy())
    values = long.melt(id_vars=["recording_id", "group"], var_name="metric", value_name="value")
    values = values[np.isfinite(values["value"].to_numpy(dtype=float))].reset_index(drop=True)

    stat_rows = []
    for spec in metrics:
        for group in groups:
            v = metrics_frame.loc[(labels == group).to_numpy(), spec.column].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            stat_rows.append({
                "metric": spec.column, "group": group, "n": int(v.size),
                "mean": float(v.mean()) if v.size else float("nan"),
                "sd": float(v.std(ddof=1)) if v.size > 1 else float("nan"),
                "median": float(np.median(v)) if v.size else float("nan"),
                "q1": float(np.quantile(v, 0.25)) if v.size else float("nan"),
                "q3": float(np.quantile(v, 0.75)) if v.size else float("nan"),
                "min": float(v.min()) if v.size else float("nan"),
                "max": float(v.max()) if v.size else float("nan"),
            })
    stats = pd.DataFrame(stat_rows)

    rng = np.random.default_rng(params.seed)
    effect_rows = []
    ref_mask = (labels == reference).to_numpy()
    for group in groups[1:]:
        mask = (labels == group).to_numpy()
        for spec in metrics:
            x = metrics_frame.loc[mask, spec.column].to_numpy(dtype=float)
            y = metrics_frame.loc[ref_mask, spec.column].to_numpy(dtype=float)
            x, y = x[np.isfinite(x)], y[np.isfinite(y)]
            g, g_low, g_high = hedges_g(x, y, params.confidence)
            delta = cliffs_delta(x, y)
            d_low, d_high = _bootstrap_delta(x, y, rng, params.bootstrap, params.confidence)
            effect_rows.append({
                "metric": spec.column, "group": group, "reference": reference, "n_group": int(x.size),
                "n_reference": int(y.size),
                "median_difference": float(np.median(x) - np.median(y)) if x.size and y.size else float("nan"),
                "hedges_g": g, "hedges_g_ci_low": g_low, "hedges_g_ci_high": g_high,
                "cliffs_delta": delta, "cliffs_delta_ci_low": d_low, "cliffs_delta_ci_high": d_high,
            })
    effects = pd.DataFrame(effect_rows)

    findings = _finding_shares(kept, labels, groups)
    quality = _quality(kept, labels, groups)
    notes = []
    small = [g for g in groups if sizes[g] < 5]
    if small:
        notes.append(
            f"small groups ({', '.join(f'{g}: n={sizes[g]}' for g in small)}): effect sizes and their intervals "
            "are very uncertain, and a bootstrap of so few values has few distinct resamples (its interval can "
            "collapse to a point)"
        )
    if excluded:
        notes.append(f"{len(excluded)} recording(s) without a value in {group_column!r} are left out: "
                     + ", ".join(excluded[:20]) + (" ..." if len(excluded) > 20 else ""))
    if copies:
        notes.append(f"{len(copies)} row(s) of the table are copies of another row's recording in the same group, "
                     "byte for byte (duplicate_of), and are left out so that each recording counts once: "
                     + ", ".join(copies[:20]) + (" ..." if len(copies) > 20 else ""))
    if conflicts:
        notes.append(f"{len(conflicts)} recording(s) appear byte for byte under more than one group (duplicate_of), "
                     "so which group they belong to cannot be told and every copy is left out: "
                     + "; ".join(conflicts[:10]) + (" ..." if len(conflicts) > 10 else ""))
    return CohortComparison(
        params=CohortParams(
            **{**params.to_dict(), "group_by": group_column, "extra_metrics": tuple(params.extra_metrics)}
        ),
        groups=groups,
        reference=reference,
        group_sizes=sizes,
        metrics=metrics,
        values=values,
        stats=stats,
        effects=effects,
        findings=findings,
        quality=quality,
        excluded=excluded,
        provenance=dict(provenance or {}),
        join=join,
        notes=tuple(notes),
    )


def _copies(cohort: pd.DataFrame, labels: pd.Series) -> tuple[pd.Series, tuple[str, ...], tuple[str, ...]]:
    """Which labelled rows to leave out because ``insole batch`` found their recording in another row too
    (``duplicate_of``), those rows as ``recording_id (path)``, and the recordings labelled in two groups.

    Among the labelled rows of one recording, the first is kept when they all have one group; when they have
    different groups, none is kept (the same bytes cannot be a control and a patient: the labels or the files are
    wrong). A table from before that column leaves out nothing."""
    repeated = pd.Series(False, index=cohort.index)
    if "duplicate_of" not in cohort.columns:
        return repeated, (), ()
    marks = cohort["duplicate_of"].map(lambda v: v if isinstance(v, str) and v not in ("nan", "None") else "")
    recording = marks.where(marks != "", cohort["path"].astype(str))
    labelled = labels.notna()
    copies: list[str] = []
    conflicts: list[str] = []
    members: dict[str, list[Any]] = {}  # the labelled rows of each recording, in the table's order
    for row in cohort.index[labelled]:
        members.setdefault(recording[row], []).append(row)
    for rows in members.values():
        if len(rows) < 2:
            continue
        named = [f"{cohort.at[r, 'recording_id']} ({cohort.at[r, 'path']})" for r in rows]
        if len({labels[r] for r in rows}) == 1:
            repeated[rows[1:]] = True
            copies.extend(named[1:])
        else:
            repeated[rows] = True
            conflicts.append(", ".join(f"{cohort.at[r, 'recording_id']} in {labels[r]}" for r in rows))
    return repeated, tuple(copies), tuple(conflicts)


def _finding_shares(cohort: pd.DataFrame, labels: pd.Series, groups: Sequence[str]) -> pd.DataFrame:
    """Per group and code: assessed (the rule could be applied), flagged (any confidence), moderate or higher
    confidence. ``finding_<code>`` is "flagged"/"not_flagged"/empty and the confidence is in
    ``finding_<code>_confidence``; a table from before that column held the confidence in ``finding_<code>``."""
    beside = ("_side", "_severity", "_confidence")
    codes = [c[len("finding_"):] for c in cohort.columns if c.startswith("finding_") and not c.endswith(beside)]
    rows = []
    for code in codes:
        column = cohort[f"finding_{code}"].map(_label)
        confidence = cohort[f"finding_{code}_confidence"].map(_label) if f"finding_{code}_confidence" in cohort \
            else column
        for group in groups:
            mask = (labels == group).to_numpy()
            cells = column[mask]
            assessed = cells.notna()
            flagged = assessed & (cells != "not_flagged")
            strong = flagged & confidence[mask].isin(["moderate", "high"])
            n_assessed = int(assessed.sum())
            rows.append({
                "code": code, "group": group, "n_recordings": int(cells.size), "n_assessed": n_assessed,
                "n_flagged": int(flagged.sum()), "n_moderate_or_high": int(strong.sum()),
                "share_flagged": float(flagged.sum()) / n_assessed if n_assessed else float("nan"),
            })
    return pd.DataFrame(rows, columns=["code", "group", "n_recordings", "n_assessed", "n_flagged",
                                       "n_moderate_or_high", "share_flagged"])


def _quality(cohort: pd.DataFrame, labels: pd.Series, groups: Sequence[str]) -> pd.DataFrame:
    """What each group's numbers rest on: recordings, strides used, valid fraction, low-confidence events."""
    rows = []
    for group in groups:
        part = cohort[(labels == group).to_numpy()]

        def both(name: str, how: str, part: pd.DataFrame = part) -> float:
            cols = [f"{s}_{name}" for s in ("left", "right") if f"{s}_{name}" in part.columns]
            if not cols:
                return float("nan")
            values = part[cols].apply(pd.to_numeric, errors="coerce")
            per_recording = values.sum(axis=1, min_count=1) if how == "sum" else values.min(axis=1)
            return float(per_recording.median()) if per_recording.notna().any() else float("nan")

        rows.append({
            "group": group, "n_recordings": len(part),
            "median_strides_used": both("strides_used", "sum"),
            "median_valid_fraction_worse_foot": both("valid_fraction", "min"),
            "median_low_confidence_events": both("low_confidence_events", "sum"),
            "recordings_with_quality_notes": int((part.get("quality_notes", pd.Series(dtype=object))
                                                  .fillna("").astype(str) != "").sum()),
        })
    return pd.DataFrame(rows)

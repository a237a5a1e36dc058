"""Session summary: mean, SD and CV per foot, left/right symmetry, standing weight distribution.

Symmetry index (Robinson, Herzog & Nigg 1987; formula as used by Herzog et
al. 1989): ``SI = (R - L) / (0.5 (R + L)) x 100 %``. Positive means the right
foot's value is larger; swapping the feet flips the sign. It is given for
every metric measured on both feet whose two means are positive (ratio
scale). Signed metrics (COP offsets and positions, CPEI, the forefoot
medial-lateral index) get only ``difference = R - L``. About 10 % is the usual
flag for force and timing metrics, a cut-off called arbitrary by its users.

Uncalibrated insoles (unit "au") have each foot's force on its own unknown
scale, and one body weight (from both feet's pooled load) divides both, so a
difference between the two insoles' gains shows as a left/right difference
in every force metric. Those rows carry ``uncalibrated_force = True``: their
index is kept but does not measure load asymmetry unless the insoles are
calibrated alike. Timing, percent-of-stance and within-foot share metrics do
not depend on a foot's force scale and are not marked.

Stride-to-stride timing variability (``stride_variability_pct``,
``timing_variability``): the robust SD of successive differences of stride
(and stance) times over sqrt(2), relative to their median; for independent
strides it equals the CV, but slow changes of pace and a few turning strides
do not inflate it. Hausdorff et al. (1998) found every gait-cycle timing
variability measure raised in Parkinson's and Huntington's disease.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from insole.analysis._regions import table_of

__all__ = [
    "ROBUST_CV_ZERO_PCT",
    "robust_cv_is_zero",
    "per_foot_statistics",
    "foot_statistics",
    "FootStatistics",
    "symmetry_table",
    "symmetry_index_pct",
    "robust_cv_pct",
    "stride_variability_pct",
    "timing_variability",
    "VARIABILITY_MIN_STRIDES",
    "metric_unit",
    "NOT_METRICS",
    "SIGNED_METRICS",
    "scales_with_force",
]

# columns of the stride tables that are not metrics to average
NOT_METRICS = frozenset(
    {
        "stride", "contact", "heel_strike_s", "toe_off_s", "next_heel_strike_s", "bout", "used",
        "exclusion_reason", "kind", "has_gap", "heel_strike_confidence", "toe_off_confidence",
        "heading_change_deg",
    }
)
SIGNED_METRICS = frozenset(
    {
        "cop_start_x_mm", "cop_start_y_mm", "cop_end_x_mm", "cop_end_y_mm", "cop_ml_offset_mm",
        "cop_ml_offset_pct", "cpei_pct", "forefoot_ml_index_pct",
    }
)


# metrics in a force, pressure or body-weight unit scale with each insole's gain
_FORCE_UNIT_SUFFIXES = ("_n", "_bw", "_n_s", "_bw_s", "_kpa", "_kpa_s", "_au")


def scales_with_force(metric: str) -> bool:
    """Whether a metric scales with its foot's force reading (a gain error moves it), by its unit suffix."""
    return metric.endswith(_FORCE_UNIT_SUFFIXES)


# A metric's unit from its name's suffix (longest first); rates are "per second", integrals "times seconds".
_UNITS = (
    ("_steps_per_min", "steps/min"),
    ("loading_rate_n_s", "N/s"), ("loading_rate_bw_s", "BW/s"), ("loading_rate_au_s", "au/s"),
    ("_kpa_s", "kPa·s"), ("_n_s", "N·s"), ("_bw_s", "BW·s"), ("_au_s", "au·s"), ("_pct", "%"), ("_kpa", "kPa"),
    ("_deg", "°"), ("_mm", "mm"), ("_bw", "BW"), ("_au", "au"), ("_n", "N"), ("_s", "s"),
)


def metric_unit(metric: str) -> str:
    """The unit of a metric of the stride and step tables, e.g. "N/s" for ``loading_rate_n_s``; "" if none.

    Column names carry their units as suffixes; a loading rate is a rate (its
    ``_n_s`` is N per second), every other ``_n_s`` an integral (N·s).
    """
    for suffix, unit in _UNITS:
        if metric.endswith(suffix):
            return unit
    return ""


def symmetry_index_pct(right: float | np.ndarray | pd.Series, left: float | np.ndarray | pd.Series) -> Any:
    """Symmetry index (%) of right against left: (R - L) / (0.5 (R + L)) x 100; positive when R is larger.

    Defined on a ratio scale only: NaN unless both values are positive (for
    a signed metric, compare ``R - L`` instead). Works on numbers (returns a
    float) and elementwise on arrays and Series. Every symmetry index in
    insole (analysis summary, report, findings, reference sets) is this one.
    """
    r = np.asarray(right, dtype=np.float64)
    left_values = np.asarray(left, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        si = np.where((r > 0) & (left_values > 0), 100.0 * (r - left_values) / (0.5 * (r + left_values)), np.nan)
    if isinstance(right, pd.Series):
        return pd.Series(si, index=right.index)
    return float(si) if si.ndim == 0 else si


def metric_columns(table: pd.DataFrame) -> list[str]:
    """The columns of a stride or step table that are metrics to average: numeric, and not in ``NOT_METRICS``."""
    return _metric_names(zip(table.columns, table.dtypes))


def _metric_names(dtypes: Iterable[tuple[Any, Any]]) -> list[str]:
    """``metric_columns`` of a table's ``(column, dtype)`` pairs, in its order."""
    numeric: dict[Any, bool] = {}  # each distinct dtype judged once (a table has a handful)
    names = []
    for name, dtype in dtypes:
        if name in NOT_METRICS:
            continue
        if dtype not in numeric:
            numeric[dtype] = pd.api.types.is_numeric_dtype(dtype)
        if numeric[dtype]:
            names.append(name)
    return names


def per_foot_statistics(
    strides: dict[str, pd.DataFrame], known: dict[str, FootStatistics] | None = None
) -> pd.DataFrame:
    """Mean, SD (n-1), CV (% of |mean|) and n over the used strides of each foot.

    ``known``: ``foot_statistics(strides[side])`` of some feet, taken earlier (each foot's on its own thread,
    say); used for a foot whose metrics are all the session's metrics in the session's order (the usual case:
    both feet have the same columns), which are then the same numbers, and taken here otherwise.
    """
    metrics: list[str] = []
    seen: set[str] = set()
    for side, table in strides.items():
        # a foot's statistics taken earlier name its metric columns (``foot_statistics`` read them off its table)
        found = known.get(side) if known else None
        for name in found.metrics if found is not None else metric_columns(table):
            if name not in seen:
                seen.add(name)
                metrics.append(name)
    columns: dict[str, np.ndarray] = {}
    for side, table in strides.items():
        found = known.get(side) if known else None
        if found is None or found.metrics != metrics:
            found = FootStatistics(metrics, *_statistics_of(table, metrics))
        columns[f"{side}_mean"] = found.mean
        columns[f"{side}_sd"] = found.sd
        columns[f"{side}_cv_pct"] = found.cv_pct
        columns[f"{side}_n"] = found.n
    # (one DataFrame of the columns' blocks, not pandas' per-column dict path: this runs on the main thread, after the
    # feet's threads)
    return table_of(columns, index=pd.Index(metrics, name="metric"))


@dataclass(frozen=True, eq=False)
class FootStatistics:
    """One foot's column of ``per_foot_statistics``: its metrics (in order) and their mean, SD, CV and n."""

    metrics: list[str]
    mean: np.ndarray
    sd: np.ndarray
    cv_pct: np.ndarray
    n: np.ndarray


def foot_statistics(table: pd.DataFrame, columns: Mapping[str, np.ndarray] | None = None) -> FootStatistics:
    """``per_foot_statistics`` of one foot's stride table over its own metrics (see ``known`` there).

    ``columns``: the table's columns as the numpy arrays it was made of (``stance_features_and_statistics``), read
    in place of the table's (the same values, without pandas' selection and copies), when it has every metric and
    "used"."""
    if columns is not None and table.columns.tolist() == list(columns):
        # the table's columns are these arrays (its dtypes theirs): the metrics read from them, without pandas'
        # Series of the table's dtypes
        metrics = _metric_names((name, values.dtype) for name, values in columns.items())
    else:
        metrics = metric_columns(table)
    if columns is not None and "used" in columns and all(name in columns for name in metrics):
        used = np.asarray(columns["used"], dtype=bool)
        # (strides, metrics), C order, as the table's rows are taken below: the columns stacked as rows (each copied
        # whole), then the used rows of its transpose gathered (np.ascontiguousarray: C order whatever numpy gives)
        values = np.ascontiguousarray(
            np.stack([columns[name] for name in metrics], dtype=np.float64, casting="unsafe").T[used]) \
            if metrics else np.zeros((int(used.sum()), 0))
        return FootStatistics(metrics, *_statistics_of_values(values))
    return FootStatistics(metrics, *_statistics_of(table, metrics))


def _statistics_of(table: pd.DataFrame, metrics: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, SD, CV and n of ``metrics`` (NaN columns where the table lacks one) over the table's used rows."""
    used = table["used"].to_numpy(dtype=bool) if "used" in table else np.ones(len(table), dtype=bool)
    present = [j for j, name in enumerate(metrics) if name in table.columns]
    if len(present) == len(metrics):  # every metric (the usual case): the rows as taken, no NaN frame first
        values = np.ascontiguousarray(table[metrics].to_numpy(dtype=float)[used])  # (strides, metrics), C order
    else:
        values = np.full((int(used.sum()), len(metrics)), np.nan)
        if present:  # the foot's metric columns taken at once (the same floats as column by column)
            values[:, present] = table[[metrics[j] for j in present]].to_numpy(dtype=float)[used]
    return _statistics_of_values(values)


def _statistics_of_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, SD, CV and n of each column of ``values`` (used strides x metrics, C order: each column's sums run down
    it row after row; our own array, overwritten)."""
    finite = np.isfinite(values)
    # every value finite (the usual case): no value to zero, each count the number of rows (the masks' steps skipped)
    unknown = None if finite.all() else finite
    if unknown is None:
        n = np.full(values.shape[1], values.shape[0], dtype=np.intp)  # (what the mask's sum gives)
    else:
        n = finite.sum(axis=0)
        np.logical_not(finite, out=unknown)  # (the finite mask, counted, inverted in place)
        values[unknown] = 0.0  # our own array: what np.where(finite, values, 0.0) gives, in place
    total = values.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / n, np.nan)
        # the deviations in ``values`` itself (our own array, its sum taken): no second (strides x metrics) array
        deviations = np.subtract(values, mean, out=values)
        deviations *= deviations  # (** 2 is this same product)
        if unknown is not None:
            deviations[unknown] = 0.0
        squares = deviations.sum(axis=0)
        sd = np.where(n > 1, np.sqrt(squares / np.maximum(n - 1, 1)), np.nan)
        cv = np.where(np.abs(mean) > 0, 100.0 * sd / np.abs(mean), np.nan)
    return mean, sd, cv, n


def symmetry_table(per_foot: pd.DataFrame, uncalibrated: bool = False) -> pd.DataFrame:
    """Left/right comparison of every metric measured on both feet.

    ``uncalibrated``: the forces are in arbitrary units; the force metrics get
    ``uncalibrated_force = True`` (their index mixes load and gain differences).
    """
    columns = ["left_mean", "right_mean", "symmetry_index_pct", "difference", "uncalibrated_force"]
    if "left_mean" not in per_foot or "right_mean" not in per_foot:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="metric"))
    # the columns as numpy arrays (the same values as the Series they were taken from), one DataFrame of them
    left = per_foot["left_mean"].to_numpy(dtype=float)
    right = per_foot["right_mean"].to_numpy(dtype=float)
    both = ~np.isnan(left) & ~np.isnan(right)
    left, right = left[both], right[both]
    metrics = per_foot.index[both]
    names = metrics.tolist()
    si = symmetry_index_pct(right, left)
    table = table_of(
        {
            "left_mean": left,
            "right_mean": right,
            "symmetry_index_pct": np.where(np.array([m in SIGNED_METRICS for m in names], dtype=bool), np.nan, si),
            "difference": right - left,
            "uncalibrated_force": np.array([bool(uncalibrated) and scales_with_force(m) for m in names], dtype=bool),
        },
        index=metrics,
    )
    table.index.name = "metric"
    return table


# Event times lie on the sample grid, so a MAD of stride times (or of their successive differences) is 0 or at
# least a fraction of the sample interval: a robust figure 0 or at least some 0.025 % even at 1 kHz and a 1.5 s
# stride. A figure below this is a MAD of 0 that floating-point rounding left a few 1e-12 % above it (a simulated
# 20 Hz walk: 2.29e-12 %), never a measurement: every view shows it as n/a.
ROBUST_CV_ZERO_PCT = 1e-6


def robust_cv_is_zero(value: float | None) -> bool:
    """Whether a robust stride-to-stride figure (%) is one of a MAD of 0 (below ``ROBUST_CV_ZERO_PCT``): every view
    shows it as n/a (the report "n/a (MAD 0)", the batch table empty)."""
    return value is not None and bool(np.isfinite(value)) and abs(value) < ROBUST_CV_ZERO_PCT


def robust_cv_pct(values: np.ndarray) -> float:
    """Robust CV (%): 1.4826 x MAD / median x 100 of the finite values; NaN with fewer than 3 or a median <= 0.

    The plain CV squares every deviation, so one split contact (a 0.35 s
    "stride" among 1.1 s ones) or a hesitation can double it; the scaled
    median absolute deviation equals the SD for normally distributed strides
    and ignores such outliers (robust estimation for contaminated gait data:
    Chau, Young & Redekop 2005, J NeuroEng Rehabil 2:22).
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 3:
        return float("nan")
    median = float(np.median(values))
    if median <= 0:
        return float("nan")
    return 100.0 * 1.4826 * float(np.median(np.abs(values - median))) / median


# a foot enters the session's timing variability with at least this many used strides
VARIABILITY_MIN_STRIDES = 10


def stride_variability_pct(times_s: np.ndarray) -> float:
    """Stride-to-stride variability (%): robust SD of successive differences / sqrt(2) / median.

    For any series of cycle times (stride or stance times, in order). For
    independent strides this equals the coefficient of variation; unlike the
    plain CV it is not inflated by slow changes of pace or by a few turning
    strides (the median absolute deviation ignores them): 1.4826 x MAD of the
    successive differences estimates their SD, and a difference of two
    independent strides has sqrt(2) times a stride's SD. NaN with fewer than
    3 finite values.
    """
    values = np.asarray(times_s, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 3:
        return float("nan")
    diffs = np.diff(values)
    mad = np.median(np.abs(diffs - np.median(diffs)))
    return float(100.0 * 1.4826 * mad / np.sqrt(2.0) / np.median(values))


def _mean_or_nan(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def timing_variability(
    stride_times_s: dict[str, np.ndarray], stance_times_s: dict[str, np.ndarray],
    min_strides: int = VARIABILITY_MIN_STRIDES, *,
    known: tuple[dict[str, float], dict[str, float]] | None = None,
) -> dict[str, float]:
    """Session timing variability over both feet, from each foot's used stride and stance times (same order).

    ``stride_variability_pct`` / ``stance_variability_pct``: the mean over the
    feet with at least ``min_strides`` strides of ``stride_variability_pct`` of
    their stride / stance times; ``timing_variability_pct``: the mean of the two
    (NaN unless both are known). ``stride_cv_pct`` and ``stride_sd_ms``: the mean
    over the feet with at least 3 strides of the plain CV (SD / mean x 100) and
    SD (ms) of their stride times. ``known``: each foot's ``stride_variability_pct`` of its stride and of its
    stance times when the caller has them already (taken for the feet with at least ``min_strides``).
    """
    stride, stance, cvs, sds = [], [], [], []
    for side, times in stride_times_s.items():
        times = np.asarray(times, dtype=float)
        stances = np.asarray(stance_times_s.get(side, np.zeros(0)), dtype=float)
        if times.size >= min_strides:
            stride.append(known[0][side] if known is not None else stride_variability_pct(times))
            if stances.size >= min_strides:
                stance.append(known[1][side] if known is not None else stride_variability_pct(stances))
        if times.size >= 3:
            sd = times.std(ddof=1)
            cvs.append(100.0 * sd / times.mean())
            sds.append(1000.0 * sd)
    out = {"stride_variability_pct": _mean_or_nan(stride), "stance_variability_pct": _mean_or_nan(stance)}
    both = np.array([out["stride_variability_pct"], out["stance_variability_pct"]])
    out["timing_variability_pct"] = float(both.mean()) if np.isfinite(both).all() else float("nan")
    out["stride_cv_pct"] = _mean_or_nan(cvs)
    out["stride_sd_ms"] = _mean_or_nan(sds)
    return out

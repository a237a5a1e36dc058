"""Whole stance curves compared between the feet with statistical parametric mapping (SPM).

A peak or a mean says how two feet differ at one moment; SPM says *where in stance* they differ. Each used
walking step's vertical force is sampled at 0-100 % of its stance (as the analysis' mean curves are), the left
and right steps are compared point by point with a two-sample t statistic, and the threshold that the whole
curve's t would cross by chance in only ``alpha`` of walks is set by random field theory from the curves' own
smoothness: the method of spm1d (Pataky 2012, J Biomech 45:1022), the field's reference implementation, which
does the inference here. The steps of one walk are the observations, so the result speaks of this walk (as a
single-subject analysis does), not of a population.

Only calibrated forces are compared (uncalibrated sensors of the two feet need not share one scale). spm1d is
its own extra, ``spm`` (spm1d is GPL-3.0, insole MIT: installing it is the user's choice); without it
:func:`compare_stance_force` says so instead of guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from insole.analysis._force import normalised_curves

__all__ = ["CurveCluster", "StanceCurveComparison", "compare_stance_force", "stance_force_curves"]


@dataclass(frozen=True)
class CurveCluster:
    """One stretch of stance where the feet's curves differ beyond the SPM threshold."""

    start_pct: float
    end_pct: float
    p: float
    higher: str  # "left" or "right": the foot whose force is higher there

    def to_dict(self) -> dict[str, Any]:
        return {"start_pct": round(self.start_pct, 1), "end_pct": round(self.end_pct, 1),
                "p": float(f"{self.p:.3g}"), "higher": self.higher}


@dataclass(frozen=True)
class StanceCurveComparison:
    """The SPM comparison of the left and right stance force curves of one walk (``reason`` when not done)."""

    n_left: int
    n_right: int
    alpha: float
    threshold_t: float | None
    clusters: tuple[CurveCluster, ...]
    unit: str
    reason: str | None = None

    @property
    def done(self) -> bool:
        return self.reason is None

    def to_dict(self) -> dict[str, Any]:
        return {"n_left": self.n_left, "n_right": self.n_right, "alpha": self.alpha,
                "threshold_t": None if self.threshold_t is None else round(self.threshold_t, 3),
                "clusters": [c.to_dict() for c in self.clusters], "unit": self.unit, "reason": self.reason}


def stance_force_curves(recording: Any, analysis: Any, side: str, points: int = 101) -> np.ndarray:
    """(steps, points) vertical force of each used walking step of ``side`` at 0-100 % of its stance, in the
    recording's force unit: the sum of the foot's sensor forces, from the analysis' own heel strikes and toe
    offs (steps touching a gap are left out)."""
    steps = analysis.steps[side]
    use = steps["used"].to_numpy(bool) & ~steps["has_gap"].to_numpy(bool)
    foot = recording.samples(side)
    force = np.nan_to_num(np.asarray(foot.values, dtype=np.float64)).sum(axis=1)
    time = np.asarray(foot.time_s, dtype=np.float64)
    hs = np.searchsorted(time, steps["heel_strike_s"].to_numpy(float)[use])
    to = np.searchsorted(time, steps["toe_off_s"].to_numpy(float)[use])
    keep = (to - hs) >= 3
    return normalised_curves(force, hs[keep], to[keep], points)


def compare_stance_force(recording: Any, analysis: Any, *, alpha: float = 0.05, points: int = 101,
                         min_steps: int = 10) -> StanceCurveComparison:
    """Left vs right stance force curves by SPM (two-sample t, two-tailed, random field theory threshold)."""
    unit = str(getattr(recording, "unit", ""))
    if set(analysis.sides) != {"left", "right"}:
        return StanceCurveComparison(0, 0, alpha, None, (), unit, "needs both feet")
    if unit not in ("N", "kPa"):
        return StanceCurveComparison(0, 0, alpha, None, (), unit,
                                     "needs calibrated forces: uncalibrated sensors of the two feet need not "
                                     "share one scale")
    left = stance_force_curves(recording, analysis, "left", points)
    right = stance_force_curves(recording, analysis, "right", points)
    n_left, n_right = int(left.shape[0]), int(right.shape[0])
    if min(n_left, n_right) < min_steps:
        return StanceCurveComparison(n_left, n_right, alpha, None, (), unit,
                                     f"fewer than {min_steps} usable steps on a foot")
    try:
        import spm1d
    except ImportError:
        return StanceCurveComparison(n_left, n_right, alpha, None, (), unit,
                                     "spm1d is not installed (pip install 'insole[spm]'; GPL-3.0)")
    t = spm1d.stats.ttest2(right, left)  # positive t: the right foot higher
    inference = t.inference(alpha=alpha, two_tailed=True, interp=True)
    scale = 100.0 / (points - 1)
    clusters = []
    for cluster in inference.clusters:
        start, end = (float(v) for v in cluster.endpoints)
        middle = int(round(0.5 * (start + end)))
        clusters.append(CurveCluster(start * scale, end * scale, float(cluster.P),
                                     "right" if float(inference.z[middle]) > 0 else "left"))
    threshold = float(inference.zstar)
    return StanceCurveComparison(n_left, n_right, alpha, threshold if math.isfinite(threshold) else None,
                                 tuple(clusters), unit)

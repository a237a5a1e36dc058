"""Whole stance curves compared with statistical parametric mapping (SPM): the feet, or a session and its baseline.

A peak or a mean says how two feet differ at one moment; SPM says *where in stance* they differ. Each used
walking step's vertical force is sampled at 0-100 % of its stance (as the analysis' mean curves are), the two
groups of steps are compared point by point with a two-sample t statistic, and the threshold that the whole
curve's t would cross by chance in only ``alpha`` of walks is set by random field theory from the curves' own
smoothness: the method of spm1d (Pataky 2012, J Biomech 45:1022), the field's reference implementation, which
does the inference here. The steps of one walk are the observations, so the result speaks of this walk (as a
single-subject analysis does), not of a population.

Only calibrated forces are compared (uncalibrated sensors of the two feet need not share one scale). spm1d is
its own extra, ``spm`` (spm1d is GPL-3.0, insole MIT: installing it is the user's choice); without it the
comparison says so instead of guessing. The report computes each comparison once (``build_report``) and its
page and JSON only show it; :func:`spm_figure` draws it.

(Until issue 16's report work this lived in ``insole.analysis._clinical_measures``; it moved here because only the
report uses it, and a package may not reach into another package's private modules.)
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import math
import sys
import types
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "CurveCluster",
    "StanceCurveComparison",
    "compare_curves",
    "compare_stance_force",
    "compare_with_baseline",
    "spm_figure",
    "stance_force_curves",
]

CALIBRATED_UNITS = ("N", "kPa")


@dataclass(frozen=True)
class CurveCluster:
    """One stretch of stance where the two groups' curves differ beyond the SPM threshold."""

    start_pct: float
    end_pct: float
    p: float
    higher: str  # the label of the group whose force is higher there ("left"/"right", "this session"/"baseline")

    def to_dict(self) -> dict[str, Any]:
        return {"start_pct": round(self.start_pct, 1), "end_pct": round(self.end_pct, 1),
                "p": float(f"{self.p:.3g}"), "higher": self.higher}


@dataclass(frozen=True)
class StanceCurveComparison:
    """The SPM comparison of two groups of stance force curves (``reason`` when not done).

    ``labels`` name the groups (first, second); ``n_first``/``n_second`` their steps; ``mean_first`` /
    ``mean_second`` the mean curve of each at 0-100 % of stance in ``unit`` (empty when not computed). The
    historical names ``n_left`` and ``n_right`` read the feet comparison's counts.
    """

    labels: tuple[str, str]
    n_first: int
    n_second: int
    alpha: float
    threshold_t: float | None
    clusters: tuple[CurveCluster, ...]
    unit: str
    reason: str | None = None
    mean_first: tuple[float, ...] = ()
    mean_second: tuple[float, ...] = ()
    # the usable steps of each group when more than MAX_SPM_STEPS were (then n_* of them, evenly spaced, compared)
    available_first: int | None = None
    available_second: int | None = None

    @property
    def done(self) -> bool:
        return self.reason is None

    def count(self, label: str) -> int:
        return self.n_first if label == self.labels[0] else self.n_second if label == self.labels[1] else 0

    @property
    def n_left(self) -> int:
        return self.count("left")

    @property
    def n_right(self) -> int:
        return self.count("right")

    def sentence(self) -> str:
        """One plain sentence: where in stance the two curves differ, or why they were not compared."""
        first, second = self.labels
        if not self.done:
            return f"The stance force curves of {first} and {second} were not compared: {self.reason}."
        steps = f"{self.n_first} {first} and {self.n_second} {second} step{'' if self.n_second == 1 else 's'}"
        if self.available_first is not None or self.available_second is not None:
            steps = (f"{self._of(self.n_first, self.available_first)} {first} and "
                     f"{self._of(self.n_second, self.available_second)} {second} steps (evenly spaced across the "
                     f"walk: at most {MAX_SPM_STEPS} per group are compared)")
        if not self.clusters:
            return (f"Over {steps}, the force curves did not differ anywhere in stance beyond what step-to-step "
                    f"scatter explains (SPM, α = {self.alpha:g}).")
        parts = [f"{c.higher} higher {_where(c)} ({_p_text(c.p, self.alpha)})" for c in self.clusters]
        return (f"Over {steps}, the force curves differed where stance is marked: {'; '.join(parts)} "
                f"(SPM, α = {self.alpha:g}; with many steps small differences reach significance, so this says "
                f"where the curves differ, not whether it matters).")

    @staticmethod
    def _of(n: int, available: int | None) -> str:
        return str(n) if available is None else f"{n} of {available}"

    def to_dict(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "n": {self.labels[0]: self.n_first, self.labels[1]: self.n_second},
                "available": {self.labels[0]: self.available_first or self.n_first,
                              self.labels[1]: self.available_second or self.n_second},
                "alpha": self.alpha,
                "threshold_t": None if self.threshold_t is None else round(self.threshold_t, 3),
                "clusters": [c.to_dict() for c in self.clusters], "unit": self.unit, "reason": self.reason,
                "sentence": self.sentence()}


# ---------------------------------------------------------------- spm1d without matplotlib

# The modules spm1d's package imports at its top although only its plotting, smoothing, random-field and
# multivariate functions use them: spm1d/__init__ imports spm1d.plot (matplotlib, scipy.ndimage), spm1d.stats
# imports pyplot itself. Importing them costs some 0.45 s of a report's 2 s (matplotlib.pyplot 0.3 s,
# scipy.ndimage 0.15 s); the two-sample t inference here uses none of them.
_SPM1D_DEFERRED = ("matplotlib", "matplotlib.pyplot", "matplotlib.cm", "matplotlib.patches",
                   "matplotlib.collections", "scipy.ndimage")


class _Later:
    """An object spm1d named at import from a deferred module, imported the first time it is used."""

    def __init__(self, dotted: tuple[str, ...]) -> None:
        self._dotted = dotted

    def _resolved(self) -> Any:
        found: Any = importlib.import_module(self._dotted[0])
        for k, part in enumerate(self._dotted[1:], start=2):
            try:
                found = getattr(found, part)
            except AttributeError:  # a submodule not imported yet (matplotlib.pyplot, matplotlib.backend_bases)
                # (scipy's own lazy attributes import theirs: scipy.ndimage)
                found = importlib.import_module(".".join(self._dotted[:k]))
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._resolved(), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._resolved()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{'.'.join(self._dotted)}, imported when first used>"


class _LaterModule(types.ModuleType):
    """Stands for a deferred module while spm1d is imported: each name taken from it is a ``_Later``."""

    __path__: list[str] = []  # a package, so that ``from matplotlib import pyplot`` takes the name from here

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Later((*self.__name__.split("."), name))


def _import_spm1d() -> Any:
    """spm1d, imported without matplotlib and scipy.ndimage (spm1d's functions that use them import them).

    While spm1d is imported, each deferred module not imported yet is a stand-in whose names import the real
    object when first used (scipy.stats, imported by spm1d, takes one name from scipy.ndimage the same way);
    the stand-ins leave ``sys.modules`` at once, so any later import of those modules (by spm1d's plotting
    functions or by anything else in the process) imports the real ones. Should a version of spm1d or scipy
    use a deferred module while it imports, the attempt is undone and spm1d imported as it comes. When spm1d is
    already imported, this is a plain ``import spm1d``.
    """
    if "spm1d" in sys.modules:
        import spm1d

        return spm1d
    if importlib.util.find_spec("spm1d") is None:
        raise ImportError("spm1d is not installed")
    stand_ins = {name: _LaterModule(name) for name in _SPM1D_DEFERRED if name not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        import spm1d
    except Exception:  # a version of spm1d or scipy that uses a deferred module as it imports
        # Python has taken the modules that failed out of sys.modules; those that imported keep the stand-ins'
        # names, which import the real objects when used. spm1d starts over, with the real modules.
        for name in [*stand_ins, *(m for m in sys.modules if m == "spm1d" or m.startswith("spm1d."))]:
            sys.modules.pop(name, None)
        import spm1d  # as it comes, matplotlib and all
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
    return spm1d


def _p_text(p: float, alpha: float | None = None, short: bool = False) -> str:
    """p as the page prints it: "p < 0.001", else 3 decimals, or 3 significant digits where 3 decimals would read
    as the threshold ``alpha`` itself (a cluster at p = 0.0496 printed "p = 0.050" beside α = 0.05).

    spm1d's cluster p is the chance of a stretch at least this wide above the threshold (random field theory);
    for a stretch that only just crosses the threshold (width near 0) it is α itself, not a capped value: GaPt13_01
    against its baseline, right foot, a stretch 0.002 % of stance wide, p = 0.04999999; left against right, one
    0.15 % wide, p = 0.04997. Such a p reads "p ≈ 0.05, only just across the threshold" (``short``: "p ≈ 0.05, at the
    threshold" for the figure), not as six digits that look like a measurement (docs/report.md)."""
    if p < 0.001:
        return "p < 0.001"
    if alpha is None or f"{p:.3f}" != f"{alpha:.3f}":
        return f"p = {p:.3f}"
    if f"{p:.3g}" != f"{alpha:.3g}":
        return f"p = {p:.3g}"
    return f"p ≈ {alpha:g}, at the threshold" if short else f"p ≈ {alpha:g}, only just across the threshold"


def _where(cluster: CurveCluster) -> str:
    """Where in stance a cluster lies; one that is a single point of the stance grid wide says so (it printed as
    "4–4% of stance")."""
    start, end = round(cluster.start_pct, 1), round(cluster.end_pct, 1)
    if start == end:
        return f"at {start:g}% of stance only (a cluster one grid point wide)"
    return f"at {start:g}–{end:g}% of stance"


def _not_done(labels: tuple[str, str], unit: str, reason: str, alpha: float, n: tuple[int, int] = (0, 0)
              ) -> StanceCurveComparison:
    return StanceCurveComparison(labels, n[0], n[1], alpha, None, (), unit, reason)


def _resampled(signal: np.ndarray, hs: np.ndarray, to: np.ndarray, points: int) -> np.ndarray:
    """(stances, points) of ``signal`` from the heel-strike sample (0 %) to the last sample before toe off (100 %),
    linearly interpolated, all stances at once."""
    if hs.size == 0:
        return np.zeros((0, points))
    frac = np.linspace(0.0, 1.0, points)
    position = hs[:, None] + frac[None, :] * (to - 1 - hs)[:, None].astype(np.float64)
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, signal.size - 1)
    weight = position - lower
    return signal[lower] * (1.0 - weight) + signal[upper] * weight


def stance_force_curves(recording: Any, analysis: Any, side: str, points: int = 101) -> np.ndarray:
    """(steps, points) vertical force of each used walking step of ``side`` at 0-100 % of its stance, in the
    recording's force unit: the sum of the foot's sensor values, from the analysis' own heel strikes and toe
    offs (steps touching a gap are left out)."""
    steps = analysis.steps[side]
    use = steps["used"].to_numpy(bool) & ~steps["has_gap"].to_numpy(bool)
    foot = recording.samples(side)
    force = np.nan_to_num(np.asarray(foot.values, dtype=np.float64)).sum(axis=1)
    time = np.asarray(foot.time_s, dtype=np.float64)
    hs = np.searchsorted(time, steps["heel_strike_s"].to_numpy(float)[use])
    to = np.searchsorted(time, steps["toe_off_s"].to_numpy(float)[use])
    keep = (to - hs) >= 3
    return _resampled(force, hs[keep], to[keep], points)


# spm1d's two-sample t costs grow steeply with the steps (measured here, one thread: 250 steps per group 0.1 s,
# 600 1.3 s, 1200 6.7 s; an hour's walk has some 3,400 per foot): above this many, that many evenly spaced
# steps are compared, which keeps the test a within-walk comparison spanning the whole walk, and the sentence
# says how many of how many.
MAX_SPM_STEPS = 250


def _evenly_spaced(curves: np.ndarray) -> tuple[np.ndarray, int | None]:
    """At most MAX_SPM_STEPS rows of ``curves``, evenly spaced, first and last kept; and the count before (None:
    all kept)."""
    n = int(curves.shape[0])
    if n <= MAX_SPM_STEPS:
        return curves, None
    return curves[np.round(np.linspace(0, n - 1, MAX_SPM_STEPS)).astype(np.intp)], n


def compare_curves(first: np.ndarray, second: np.ndarray, labels: tuple[str, str], *, unit: str,
                   alpha: float = 0.05, min_steps: int = 10) -> StanceCurveComparison:
    """Two groups of (steps, points) curves by SPM (two-sample t, two-tailed, random field theory threshold).

    More than ``MAX_SPM_STEPS`` steps in a group: that many, evenly spaced across the walk, are compared."""
    first, available_first = _evenly_spaced(first)
    second, available_second = _evenly_spaced(second)
    n = (int(first.shape[0]), int(second.shape[0]))
    if min(n) < min_steps:
        fewest = labels[0] if n[0] < n[1] else labels[1]
        return _not_done(labels, unit, f"fewer than {min_steps} usable steps ({fewest}: {min(n)})", alpha, n)
    try:
        spm1d = _import_spm1d()
    except ImportError:
        return _not_done(labels, unit, "the optional spm1d package is not installed (pip install 'insole[spm]'; "
                                       "GPL-3.0)", alpha, n)
    points = first.shape[1]
    t = spm1d.stats.ttest2(first, second)  # positive t: the first group higher
    inference = t.inference(alpha=alpha, two_tailed=True, interp=True)
    scale = 100.0 / (points - 1)
    clusters = []
    for cluster in inference.clusters:
        start, end = (float(v) for v in cluster.endpoints)
        middle = int(round(0.5 * (start + end)))
        clusters.append(CurveCluster(start * scale, end * scale, float(cluster.P),
                                     labels[0] if float(inference.z[middle]) > 0 else labels[1]))
    threshold = float(inference.zstar)
    return StanceCurveComparison(labels, n[0], n[1], alpha, threshold if math.isfinite(threshold) else None,
                                 tuple(clusters), unit, None,
                                 tuple(float(v) for v in first.mean(axis=0)),
                                 tuple(float(v) for v in second.mean(axis=0)), available_first, available_second)


def compare_stance_force(recording: Any, analysis: Any, *, alpha: float = 0.05, points: int = 101,
                         min_steps: int = 10) -> StanceCurveComparison:
    """Right vs left stance force curves of one walk (labels ``("right", "left")``)."""
    unit = str(getattr(recording, "unit", ""))
    labels = ("right", "left")
    if set(analysis.sides) != {"left", "right"}:
        return _not_done(labels, unit, "only one foot was recorded", alpha)
    if unit not in CALIBRATED_UNITS:
        return _not_done(labels, unit, "the forces are not calibrated (uncalibrated sensors of the two feet need "
                                       "not share one scale)", alpha)
    right = stance_force_curves(recording, analysis, "right", points)
    left = stance_force_curves(recording, analysis, "left", points)
    return compare_curves(right, left, labels, unit=unit, alpha=alpha, min_steps=min_steps)


def compare_with_baseline(recording: Any, analysis: Any, baseline: Any, baseline_analysis: Any, side: str, *,
                          alpha: float = 0.05, points: int = 101, min_steps: int = 10) -> StanceCurveComparison:
    """One foot's stance force curves, this session vs the baseline (labels ``("this session", "baseline")``).

    Both must be calibrated in the same unit: the comparison is in that unit (newtons), so a change of body
    weight between the sessions shows as a change of force."""
    unit = str(getattr(recording, "unit", ""))
    labels = ("this session", "baseline")
    if side not in analysis.sides or side not in baseline_analysis.sides:
        return _not_done(labels, unit, f"the {side} foot is not in both recordings", alpha)
    if unit not in CALIBRATED_UNITS or str(getattr(baseline, "unit", "")) != unit:
        return _not_done(labels, unit, "both recordings need forces calibrated in the same unit", alpha)
    now = stance_force_curves(recording, analysis, side, points)
    before = stance_force_curves(baseline, baseline_analysis, side, points)
    return compare_curves(now, before, labels, unit=unit, alpha=alpha, min_steps=min_steps)


_LABEL_COLOURS = {"this session": "#1d4ed8", "baseline": "#6b7280"}


def spm_figure(comparison: StanceCurveComparison, *, height_px: int = 340, as_dict: bool = False) -> Any:
    """The two mean curves over % stance with each stretch where they differ shaded and its p written on it;
    None when the comparison was not done (the page then gives its reason in one line).

    A ``plotly.graph_objects.Figure``; with ``as_dict``, that figure as plotly's ``Figure.to_dict()`` gives it,
    built without plotly's objects (the page only embeds it).
    """
    if not comparison.done or not comparison.mean_first:
        return None
    from insole import plot

    points = len(comparison.mean_first)
    pct = np.linspace(0.0, 100.0, points)
    fig: dict[str, Any] = {"data": [], "layout": {"template": "plotly_white"}}
    for label, mean, n in ((comparison.labels[0], comparison.mean_first, comparison.n_first),
                           (comparison.labels[1], comparison.mean_second, comparison.n_second)):
        colour = plot.SIDE_COLOURS.get(label) or _LABEL_COLOURS.get(label, "#374151")
        fig["data"].append({"type": "scatter", "x": pct, "y": np.asarray(mean), "mode": "lines",
                            "line": {"color": colour, "width": 2.5},
                            "name": f"{label} mean ({n} step{'' if n == 1 else 's'})"})
    shapes, annotations = [], []
    for i, cluster in enumerate(comparison.clusters):
        shapes.append({"type": "rect", "x0": cluster.start_pct, "x1": cluster.end_pct, "xref": "x", "y0": 0, "y1": 1,
                       "yref": "y domain", "fillcolor": "#f59e0b", "opacity": 0.22, "line": {"width": 0},
                       "layer": "below"})
        middle = 0.5 * (cluster.start_pct + cluster.end_pct)
        # near an end of stance the label runs inward, so that it stays over the plot
        anchor = "left" if middle < 15 else "right" if middle > 85 else "center"
        annotations.append({"x": middle, "xanchor": anchor, "y": 1.0, "yref": "paper", "yanchor": "bottom",
                            "showarrow": False, "yshift": 16 * (i % 2),
                            # in the colour of the curve that is higher there, as the legend draws it
                            "font": {"size": 11, "color": plot.SIDE_COLOURS.get(cluster.higher)
                                     or _LABEL_COLOURS.get(cluster.higher, "#92400e")},
                            "text": f"{cluster.higher} higher, {_p_text(cluster.p, comparison.alpha, short=True)}"})
    unit = "N" if comparison.unit == "N" else f"sum of sensor pressures, {comparison.unit}"
    layout = fig["layout"]
    if shapes:
        layout.update(shapes=shapes, annotations=annotations)
    layout["xaxis"] = {"title": {"text": "stance (% of heel strike to toe off)"}, "range": [0, 100]}
    layout["yaxis"] = {"title": {"text": f"vertical force ({unit})"}}
    # no title: the page's heading names the figure, and the p-values sit above the plot (alternate rows, so
    # that two narrow stretches side by side do not write over each other)
    layout.update(height=height_px, margin={"l": 55, "r": 20, "t": 50, "b": 80},
                  legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0.0})
    if not as_dict:
        import plotly.graph_objects as go

        return go.Figure(fig)
    return _as_plotly_dict(fig)


@functools.cache
def _template(name: str) -> str:
    return resources.files("plotly").joinpath("package_data", "templates", f"{name}.json").read_text("utf-8")


def _as_plotly_dict(fig: dict[str, Any]) -> dict[str, Any]:
    """A figure dict as plotly's ``Figure.to_dict()`` gives it: the named template written out (plotly's own
    file), numpy arrays as plotly's base64 typed arrays (tests/test_report_speed_identity.py compares the two)."""
    fig["layout"]["template"] = json.loads(_template(fig["layout"]["template"]))
    try:
        from _plotly_utils.utils import convert_to_base64  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # plotly 5 keeps the arrays in to_dict
        return fig
    convert_to_base64(fig)
    return fig

"""Left against right: the symmetry index of each stride metric (``analysis.summary.symmetry``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from insole.plot._common import styled
from insole.plot._spec import as_figure, as_json_dict, figure
from insole.plot._style import SIDE_COLOURS

__all__ = ["SYMMETRY_METRICS", "symmetry_indices", "symmetry_metrics", "why_not_symmetry_indices"]

# The metrics compared, in the order shown, and their labels. A force metric in newtons stands for its
# arbitrary-unit twin (``max_force_n`` for ``max_force_au``) when the insole is uncalibrated.
SYMMETRY_METRICS: Mapping[str, str] = MappingProxyType({
    "stance_time_s": "stance time",
    "swing_time_s": "swing time",
    "step_time_s": "step time",
    "double_support_s": "double support",
    "max_force_n": "peak force",
    "first_peak_n": "first force peak",
    "second_peak_n": "second force peak",
    "impulse_n_s": "force impulse",
    "loading_rate_n_s": "loading rate",
    "heel_share_pct": "heel load share",
    "midfoot_share_pct": "midfoot (arch) load share",
    "forefoot_share_pct": "forefoot load share",
    "toes_share_pct": "toes load share",
    "cop_path_length_mm": "COP path length",
})


def symmetry_metrics(analysis: Any) -> list[tuple[str, str]]:
    """(row of ``analysis.summary.symmetry``, label) of each ``SYMMETRY_METRICS`` entry the analysis has."""
    if len(analysis.sides) < 2:
        return []
    table = analysis.summary.symmetry
    out = []
    for metric, label in SYMMETRY_METRICS.items():
        if metric not in table.index and metric.replace("_n", "_au") in table.index:
            metric = metric.replace("_n", "_au")
        if metric in table.index:
            out.append((metric, label))
    return out


def _shown(analysis: Any) -> list[tuple[str, float]]:
    table = analysis.summary.symmetry
    values = [(label, float(table.at[metric, "symmetry_index_pct"])) for metric, label in symmetry_metrics(analysis)]
    return [(label, value) for label, value in values if np.isfinite(value)]


def why_not_symmetry_indices(analysis: Any) -> str | None:
    if len(analysis.sides) < 2:
        return "only one foot was recorded"
    if not _shown(analysis):
        return "no stride metric was measured on both feet"
    return None


def symmetry_indices(analysis: Any, *, height_px: int | None = None, as_dict: bool = False) -> Any:
    """Horizontal bars of each metric's symmetry index, (R − L) / ((R + L) / 2) × 100, coloured by the larger foot.

    Values are ``analysis.summary.symmetry["symmetry_index_pct"]`` as they are;
    the metrics and their order are ``SYMMETRY_METRICS``. ``height_px``: the
    figure's height (default 380 px). ``as_dict``: the figure as plotly's ``Figure.to_dict()`` gives it,
    without building plotly's objects (for a page that only embeds it).
    """
    spec = _symmetry_indices(analysis, height_px)
    if spec is None:
        return None
    return as_json_dict(spec) if as_dict else as_figure(spec)


def _symmetry_indices(analysis: Any, height_px: int | None) -> dict[str, Any] | None:
    if why_not_symmetry_indices(analysis) is not None:
        return None
    shown = _shown(analysis)[::-1]  # plotly draws the first bar at the bottom
    labels = [label for label, _ in shown]
    values = np.array([value for _, value in shown], float)
    colours = [SIDE_COLOURS["right"] if v > 0 else SIDE_COLOURS["left"] for v in values]
    span = max(10.0, float(np.max(np.abs(values))) * 1.15)
    fig = figure([{"type": "bar", "x": values, "y": labels, "orientation": "h", "marker": {"color": colours},
                   "showlegend": False, "hovertemplate": "%{y}: %{x:+.1f} %<extra></extra>"}],
                 {"xaxis": {"title": {"text": "symmetry index (%): ← left larger · right larger →"},
                            "range": [-span, span], "zeroline": True, "zerolinecolor": "#475569"},
                  "yaxis": {"automargin": True}})
    return styled(fig, "Symmetry index per metric", height_px=height_px or 380)

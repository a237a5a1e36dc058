"""The centre of pressure: each foot's mean path on its outline, and the two-foot 'butterfly'."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from insole._layout import SensorLayout
from insole.plot._common import display_x, foot_geometry, outline_trace, styled, used_strides
from insole.plot._spec import as_figure, as_json_dict, grid, merged, trace_axes
from insole.plot._style import SIDE_COLOURS

__all__ = ["cop_paths", "why_not_cop_paths", "BUTTERFLY_ASSUMPTIONS"]

# Where the feet are put for the butterfly: insoles do not measure it.
BUTTERFLY_ASSUMPTIONS: Mapping[str, float] = MappingProxyType({"step_width_mm": 160.0, "walking_speed_m_s": 1.2})


def _mean_path_mm(analysis: Any, side: str) -> np.ndarray | None:
    """(points, 2): x (heel to toe), y (+ medial) of the mean COP over stance, or None."""
    curve = analysis.curves[side]
    if "cop_x_mm_mean" not in curve or "cop_y_mm_mean" not in curve:
        return None
    path = np.column_stack([curve["cop_x_mm_mean"].to_numpy(float), curve["cop_y_mm_mean"].to_numpy(float)])
    return path if np.isfinite(path).all(axis=1).any() else None


def why_not_cop_paths(analysis: Any) -> str | None:
    if any(_mean_path_mm(analysis, side) is not None for side in analysis.sides):
        return None
    return "no centre of pressure: the layout cannot locate it (one sensor per foot) or no stance was used"


def cop_paths(analysis: Any, layout: SensorLayout | None = None, *,
              height_px: int | None = None, as_dict: bool = False) -> Any:
    """Left panel: each foot's mean COP path (gait line) on its outline. Right: the reconstructed butterfly.

    ``layout``: the recording's layout, for the outline (default: the built-in one the analysis names).
    ``height_px``: the figure's height (default 460 px). ``as_dict``: the figure as plotly's
    ``Figure.to_dict()`` gives it, without building plotly's objects (for a page that only embeds it).
    """
    spec = _cop_paths(analysis, layout, height_px)
    if spec is None:
        return None
    return as_json_dict(spec) if as_dict else as_figure(spec)


def _cop_paths(analysis: Any, layout: SensorLayout | None, height_px: int | None) -> dict[str, Any] | None:
    if why_not_cop_paths(analysis) is not None:
        return None
    geometry = foot_geometry(analysis, layout)
    # short panel titles and a wide gap: at print width the longer titles ran together and the butterfly's
    # axis title lay on the right foot of the first panel
    fig = grid(2, column_widths=[0.5, 0.5], horizontal_spacing=0.16,
               titles=("Path per foot (measured)", "Butterfly (reconstructed)"))
    data, axes = fig["data"], fig["layout"]
    gap_mm = 0.45 * geometry.foot_length_mm
    for side in analysis.sides:
        offset = -gap_mm if side == "left" else gap_mm
        outline = outline_trace(geometry, side, offset)
        if outline is not None:
            data.append({**outline, **trace_axes(1)})
        path = _mean_path_mm(analysis, side)
        if path is None:
            continue
        data.append({"type": "scatter", "x": display_x(side, path[:, 1]) + offset, "y": path[:, 0],
                     "mode": "lines+markers", "marker": {"size": 3},
                     "line": {"color": SIDE_COLOURS[side], "width": 2.5}, "name": f"{side} COP path",
                     **trace_axes(1)})
    butterfly = _butterfly(analysis)
    if butterfly is not None:
        x, y, phase = butterfly
        data.append({"type": "scatter", "x": x, "y": y, "mode": "lines", "line": {"color": "#34495e", "width": 2},
                     "name": "combined COP (one stride)", "hovertext": [f"{p:.0f}% of stride" for p in phase],
                     "hoverinfo": "text", **trace_axes(2)})
    else:
        # the panel says why it is empty (an empty frame under its title read as a figure that failed to draw)
        # placed on the page (plotly draws no axis without a trace, so "x2 domain" would fall on the first panel)
        x_domain, y_domain = axes["xaxis2"]["domain"], axes["yaxis2"]["domain"]
        axes.setdefault("annotations", []).append(
            {"text": _why_no_butterfly(analysis), "xref": "paper", "yref": "paper",
             "x": (x_domain[0] + x_domain[1]) / 2, "y": (y_domain[0] + y_domain[1]) / 2, "showarrow": False,
             "font": {"size": 12, "color": "#566573"}, "name": "reason"})
        axes["xaxis2"]["visible"] = False
        axes["yaxis2"]["visible"] = False
    merged(axes["xaxis"], {"title": {"text": "medial-lateral (mm)"}, "scaleanchor": "y", "scaleratio": 1})
    merged(axes["yaxis"], {"title": {"text": "heel to toe (mm)"}})
    merged(axes["xaxis2"], {"title": {"text": "left-right (mm)"}})
    merged(axes["yaxis2"], {"title": {"text": "forward (mm)"}})
    return styled(fig, "Centre of pressure", height_px=height_px or 460)


def _why_no_butterfly(analysis: Any) -> str:
    if set(analysis.sides) != {"left", "right"}:
        return "No butterfly: it needs both feet<br>(one foot was recorded)."
    return "No butterfly: a foot has no COP path<br>or no used stride."


def _fill_ends(path: np.ndarray) -> np.ndarray:
    """A mean COP path with its masked (NaN) ends and holes filled from the nearest measured points."""
    out = np.array(path, dtype=float)
    for k in range(out.shape[1]):
        column = out[:, k]
        ok = np.isfinite(column)
        if ok.sum() >= 2:
            out[:, k] = np.interp(np.arange(column.size), np.flatnonzero(ok), column[ok])
    return out


def _butterfly(analysis: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Combined COP of both feet over one median stride in a treadmill-like frame.

    Insoles measure the COP within each foot, not where the feet are. Each
    foot is placed half a step width from the midline and, while in stance,
    moves backward at a nominal walking speed (as on a treadmill belt); the
    right foot strikes half a stride after the left. The combined COP is the
    force-weighted mean of the two feet's COPs; its figure-of-eight shape shows
    the alternation of the feet, not their measured placement.
    """
    if set(analysis.sides) != {"left", "right"}:
        return None
    feet = {}
    for side in ("left", "right"):
        curve = analysis.curves[side]
        path = _mean_path_mm(analysis, side)
        force = curve["force_bw_mean"].to_numpy(float) if "force_bw_mean" in curve else None
        strides = used_strides(analysis, side)
        if (path is None or force is None or not np.isfinite(force).all()
                or np.isfinite(path).all(axis=1).sum() < 10 or not len(strides)):
            return None
        feet[side] = (force, path, strides)
    stride_s = float(np.nanmedian(np.concatenate([feet[s][2]["stride_time_s"].to_numpy(float) for s in feet])))
    speed_mm_s = BUTTERFLY_ASSUMPTIONS["walking_speed_m_s"] * 1000.0
    half_width_mm = BUTTERFLY_ASSUMPTIONS["step_width_mm"] / 2
    t = np.linspace(0.0, stride_s, 400, endpoint=False)
    total_f = np.zeros_like(t)
    sum_x = np.zeros_like(t)
    sum_y = np.zeros_like(t)
    for side, strike_s in (("left", 0.0), ("right", stride_s / 2)):
        force, path, strides = feet[side]
        stance_s = float(np.nanmedian(strides["stance_time_s"].to_numpy(float)))
        since = (t - strike_s) % stride_s
        in_stance = since < stance_s
        u = np.clip(since / stance_s, 0, 1)
        grid = np.linspace(0, 1, force.size)
        f = np.where(in_stance, np.interp(u, grid, np.clip(force, 0, None)), 0.0)
        filled = _fill_ends(path)
        x_foot = np.interp(u, grid, filled[:, 0])
        y_foot = np.interp(u, grid, filled[:, 1])
        world_x = (-half_width_mm + y_foot) if side == "left" else (half_width_mm - y_foot)
        world_y = x_foot - speed_mm_s * since + speed_mm_s * stance_s / 2
        total_f += f
        sum_x += f * world_x
        sum_y += f * world_y
    ok = total_f > 0.02 * total_f.max()
    x = np.where(ok, sum_x / np.where(ok, total_f, 1), np.nan)
    y = np.where(ok, sum_y / np.where(ok, total_f, 1), np.nan)
    x, y = np.append(x, x[:1]), np.append(y, y[:1])
    return x, y, np.append(100 * t / stride_s, 100.0)

"""Figures over time: the mean stance force of each foot, and the stride times through the session."""

from __future__ import annotations

from typing import Any

import numpy as np

from insole.plot._common import styled, used_strides
from insole.plot._spec import as_figure, as_json_dict, axis_name, figure, grid, merged, trace_axes
from insole.plot._style import SIDE_COLOURS

__all__ = ["force_curves", "stride_times", "why_not_force_curves", "why_not_stride_times"]


def _calibrated(analysis: Any) -> bool:
    return str(analysis.unit) in ("N", "kPa")


def why_not_force_curves(analysis: Any) -> str | None:
    for side in analysis.sides:
        curve = analysis.curves[side]
        if "force_bw_mean" in curve and np.isfinite(curve["force_bw_mean"].to_numpy(float)).any():
            return None
    return "no stance was used, so there is no mean stance force"


# The COP panels ``force_curves(..., cop=True)`` adds: (column of ``analysis.curves``, panel title).
# Short: three panels share a card's width, and longer titles ran into each other.
_COP_PANELS = (("cop_x_mm", "COP from heel (mm)"), ("cop_y_mm", "COP medial + (mm)"))


def _drawn(curve: Any) -> bool:
    return "force_bw_mean" in curve and np.isfinite(curve["force_bw_mean"].to_numpy(float)).any()


def force_curves(analysis: Any, *, cop: bool = False, height_px: int | None = None, as_dict: bool = False) -> Any:
    """Mean ± SD of each foot's stance force over 0-100 % of stance (``analysis.curves``).

    In body weights (BW) for calibrated insoles; for uncalibrated (au) ones the
    same curve is only relative to the recording's own load, so it is labelled au.
    ``cop=True`` adds two panels, the centre of pressure along and across the
    foot over stance, when every foot drawn has them (one panel otherwise).
    ``height_px``: the figure's height (default 380 px). ``as_dict``: the figure as plotly's
    ``Figure.to_dict()`` gives it, without building plotly's objects (for a page that only embeds it).
    """
    spec = _force_curves(analysis, cop, height_px)
    if spec is None:
        return None
    return as_json_dict(spec) if as_dict else as_figure(spec)


def _force_curves(analysis: Any, cop: bool, height_px: int | None) -> dict[str, Any] | None:
    if why_not_force_curves(analysis) is not None:
        return None
    unit = "BW" if _calibrated(analysis) else "au"
    sides = [side for side in analysis.sides if _drawn(analysis.curves[side])]
    panels = [("force_bw", f"force ({unit})")]
    if cop and all(f"{key}_mean" in analysis.curves[side]
                   and np.isfinite(analysis.curves[side][f"{key}_mean"].to_numpy(float)).any()
                   for side in sides for key, _ in _COP_PANELS):
        panels += _COP_PANELS
    if len(panels) == 1:  # the report's figure
        fig = figure()
        for side in sides:
            fig["data"] += _side_traces(analysis.curves[side], side, "force_bw", legend=True, grouped=False)
        fig["layout"].update(xaxis={"title": {"text": "stance (% of heel strike to toe off)"}, "range": [0, 100]},
                             yaxis={"title": {"text": f"vertical force ({unit})"}})
        return styled(fig, "Force curves: mean ± SD over stances", height_px=height_px or 380)
    fig = grid(len(panels), horizontal_spacing=0.09, titles=[title for _, title in panels])
    for col, (key, _) in enumerate(panels, start=1):
        for side in sides:
            for trace in _side_traces(analysis.curves[side], side, key, legend=col == 1, grouped=True):
                fig["data"].append({**trace, **trace_axes(col)})
        merged(fig["layout"][axis_name("x", col)], {"title": {"text": "stance (%)"}, "range": [0, 100]})
        # narrow panels: a y tick at the bottom corner met the x axis's "0" (seen on moticon16 in the dashboard)
        fig["layout"][axis_name("y", col)]["ticklabelstandoff"] = 6
    for annotation in fig["layout"].get("annotations", []):
        annotation["font"] = {"size": 12}
    return styled(fig, "Force and centre of pressure over stance: mean ± SD over stances", height_px=height_px or 380)


def _side_traces(curve: Any, side: str, key: str, *, legend: bool, grouped: bool) -> list[dict[str, Any]]:
    """One foot's ± SD band (when the table has the SD) and mean line of ``analysis.curves`` column ``key``."""
    pct = curve["percent_stance"].to_numpy(float)
    mean = curve[f"{key}_mean"].to_numpy(float)
    colour = SIDE_COLOURS[side]
    group = {"legendgroup": side} if grouped else {}
    shown = {} if legend else {"showlegend": False}
    traces = []
    if f"{key}_sd" in curve:
        sd = curve[f"{key}_sd"].to_numpy(float)
        band_y = np.concatenate([mean + sd, (mean - sd)[::-1]])
        traces.append({"type": "scatter", "x": np.concatenate([pct, pct[::-1]]), "y": band_y, "fill": "toself",
                       "fillcolor": colour, "opacity": 0.18, "line": {"width": 0}, "hoverinfo": "skip",
                       "name": f"{side} ± SD", **group, **shown})
    n_stances = int(np.nanmax(curve["n_stances"].to_numpy(float))) if "n_stances" in curve else 0
    traces.append({"type": "scatter", "x": pct, "y": mean, "mode": "lines", "line": {"color": colour, "width": 2.5},
                   "name": f"{side} mean ({n_stances} stance{'' if n_stances == 1 else 's'})", **group, **shown})
    return traces


def why_not_stride_times(analysis: Any) -> str | None:
    for side in analysis.sides:
        table = analysis.strides[side]
        if len(table) and np.isfinite(table["stride_time_s"].to_numpy(float)).any():
            return None
    return "no stride was found"


def stride_times(analysis: Any, *, as_dict: bool = False) -> Any:
    """Each stride's time at its heel strike, per foot (``analysis.strides``); strides left out are hollow.

    ``as_dict``: the figure as plotly's ``Figure.to_dict()`` gives it, without building plotly's objects.
    """
    spec = _stride_times(analysis)
    if spec is None:
        return None
    return as_json_dict(spec) if as_dict else as_figure(spec)


def _stride_times(analysis: Any) -> dict[str, Any] | None:
    if why_not_stride_times(analysis) is not None:
        return None
    fig = figure()
    for side in analysis.sides:
        table = analysis.strides[side]
        if not len(table):
            continue
        colour = SIDE_COLOURS[side]
        used = used_strides(analysis, side)
        fig["data"].append({"type": "scatter", "x": used["heel_strike_s"].to_numpy(), "y":
                            used["stride_time_s"].to_numpy(), "mode": "lines+markers",
                            "line": {"color": colour, "width": 1.5}, "marker": {"color": colour, "size": 6},
                            "name": f"{side} ({len(used)} used)",
                            "hovertemplate": "%{x:.2f} s: stride %{y:.3f} s<extra>" + side + "</extra>"})
        left_out = table[~table["used"].astype(bool)]
        left_out = left_out[np.isfinite(left_out["stride_time_s"].to_numpy(float))]
        if len(left_out):
            reasons = [str(r) for r in left_out["exclusion_reason"]]
            fig["data"].append({
                "type": "scatter", "x": left_out["heel_strike_s"].to_numpy(), "y": left_out["stride_time_s"].to_numpy(),
                "mode": "markers", "marker": {"color": "rgba(0,0,0,0)", "size": 7, "line": {"color": colour,
                                                                                            "width": 1.5}},
                "name": f"{side} left out ({len(left_out)})", "text": reasons,
                "hovertemplate": "%{x:.2f} s: stride %{y:.3f} s, %{text}<extra>" + side + "</extra>"})
    fig["layout"].update(xaxis={"title": {"text": "time of heel strike (s)"}},
                         yaxis={"title": {"text": "stride time (s)"}})
    return styled(fig, "Stride times through the session")

"""Figures over time: the mean stance force of each foot, and the stride times through the session."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from insole.plot._common import styled, used_strides
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


def force_curves(analysis: Any, *, cop: bool = False, height_px: int | None = None) -> go.Figure | None:
    """Mean ± SD of each foot's stance force over 0-100 % of stance (``analysis.curves``).

    In body weights (BW) for calibrated insoles; for uncalibrated (au) ones the
    same curve is only relative to the recording's own load, so it is labelled au.
    ``cop=True`` adds two panels, the centre of pressure along and across the
    foot over stance, when every foot drawn has them (one panel otherwise).
    ``height_px``: the figure's height (default 380 px).
    """
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
        fig = go.Figure()
        for side in sides:
            for trace in _side_traces(analysis.curves[side], side, "force_bw", legend=True, grouped=False):
                fig.add_trace(trace)
        fig.update_xaxes(title_text="stance (% of heel strike to toe off)", range=[0, 100])
        fig.update_yaxes(title_text=f"vertical force ({unit})")
        return styled(fig, "Force curves: mean ± SD over steps", height_px=height_px or 380)
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[title for _, title in panels],
                        horizontal_spacing=0.09)
    for col, (key, _) in enumerate(panels, start=1):
        for side in sides:
            for trace in _side_traces(analysis.curves[side], side, key, legend=col == 1, grouped=True):
                fig.add_trace(trace, row=1, col=col)
        fig.update_xaxes(title_text="stance (%)", range=[0, 100], row=1, col=col)
    # narrow panels: a y tick at the bottom corner met the x axis's "0" (seen on moticon16 in the dashboard)
    fig.update_yaxes(ticklabelstandoff=6)
    fig.update_annotations(font=dict(size=12))
    return styled(fig, "Force and centre of pressure over stance: mean ± SD over steps", height_px=height_px or 380)


def _side_traces(curve: Any, side: str, key: str, *, legend: bool, grouped: bool) -> list[go.Scatter]:
    """One foot's ± SD band (when the table has the SD) and mean line of ``analysis.curves`` column ``key``."""
    pct = curve["percent_stance"].to_numpy(float)
    mean = curve[f"{key}_mean"].to_numpy(float)
    colour = SIDE_COLOURS[side]
    group = dict(legendgroup=side) if grouped else {}
    shown = {} if legend else dict(showlegend=False)
    traces = []
    if f"{key}_sd" in curve:
        sd = curve[f"{key}_sd"].to_numpy(float)
        band_y = np.concatenate([mean + sd, (mean - sd)[::-1]])
        traces.append(go.Scatter(x=np.concatenate([pct, pct[::-1]]), y=band_y, fill="toself", fillcolor=colour,
                                 opacity=0.18, line=dict(width=0), hoverinfo="skip", name=f"{side} ± SD",
                                 **group, **shown))
    n_stances = int(np.nanmax(curve["n_stances"].to_numpy(float))) if "n_stances" in curve else 0
    traces.append(go.Scatter(x=pct, y=mean, mode="lines", line=dict(color=colour, width=2.5),
                             name=f"{side} mean ({n_stances} step{'' if n_stances == 1 else 's'})", **group, **shown))
    return traces


def why_not_stride_times(analysis: Any) -> str | None:
    for side in analysis.sides:
        table = analysis.strides[side]
        if len(table) and np.isfinite(table["stride_time_s"].to_numpy(float)).any():
            return None
    return "no stride was found"


def stride_times(analysis: Any) -> go.Figure | None:
    """Each stride's time at its heel strike, per foot (``analysis.strides``); strides left out are hollow."""
    if why_not_stride_times(analysis) is not None:
        return None
    fig = go.Figure()
    for side in analysis.sides:
        table = analysis.strides[side]
        if not len(table):
            continue
        colour = SIDE_COLOURS[side]
        used = used_strides(analysis, side)
        fig.add_trace(go.Scatter(x=used["heel_strike_s"], y=used["stride_time_s"], mode="lines+markers",
                                 line=dict(color=colour, width=1.5), marker=dict(color=colour, size=6),
                                 name=f"{side} ({len(used)} used)",
                                 hovertemplate="%{x:.2f} s: stride %{y:.3f} s<extra>" + side + "</extra>"))
        left_out = table[~table["used"].astype(bool)]
        left_out = left_out[np.isfinite(left_out["stride_time_s"].to_numpy(float))]
        if len(left_out):
            reasons = [str(r) for r in left_out["exclusion_reason"]]
            fig.add_trace(go.Scatter(x=left_out["heel_strike_s"], y=left_out["stride_time_s"], mode="markers",
                                     marker=dict(color="rgba(0,0,0,0)", size=7, line=dict(color=colour, width=1.5)),
                                     name=f"{side} left out ({len(left_out)})", text=reasons,
                                     hovertemplate="%{x:.2f} s: stride %{y:.3f} s, %{text}<extra>" + side + "</extra>"))
    fig.update_xaxes(title_text="time of heel strike (s)")
    fig.update_yaxes(title_text="stride time (s)")
    return styled(fig, "Stride times through the session")

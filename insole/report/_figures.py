"""The report's plotly figures, built from the session metrics (pure: metrics in, figure out).

Display frame for foot pictures: feet seen from above, toes up, the left foot
on the left and both big toes toward the middle: the left foot's medial axis
``y`` points right on screen and the right foot's points left (the left foot
is the mirror image of the right in the layout's shared anatomical frame).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from insole.report._metrics import SessionMetrics

__all__ = ["force_curves", "cop_figure", "load_maps", "lr_bars", "SIDE_COLOURS", "BUTTERFLY_ASSUMPTIONS"]

SIDE_COLOURS = {"left": "#1f77b4", "right": "#d62728"}
_FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=12)
# Where the feet are put for the butterfly (insoles do not measure it).
BUTTERFLY_ASSUMPTIONS = {"step_width_mm": 160.0, "walking_speed_m_s": 1.2}


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    # the page's section heading names the figure; the title stays for the figure's own export
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=12, color="#566573")), height=height,
                      font=_FONT, margin=dict(l=55, r=20, t=60, b=80), template="plotly_white",
                      legend=dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0.0))
    return fig


def _fill_ends(path: np.ndarray) -> np.ndarray:
    """A mean COP path with its masked (NaN) ends and holes filled from the nearest measured points."""
    out = np.array(path, dtype=float)
    for k in range(out.shape[1]):
        column = out[:, k]
        ok = np.isfinite(column)
        if ok.sum() >= 2:
            out[:, k] = np.interp(np.arange(column.size), np.flatnonzero(ok), column[ok])
    return out


def _display_x(side: str, y_mm: np.ndarray) -> np.ndarray:
    return np.asarray(y_mm) if side == "left" else -np.asarray(y_mm)


def force_curves(session: SessionMetrics) -> go.Figure:
    """Mean ± SD of the time-normalised stance force of each foot."""
    fig = go.Figure()
    unit = "BW" if session.force_unit == "BW" else "au"
    for side in session.sides:
        foot = session.feet[side]
        if foot.curve_mean is None:
            continue
        pct = np.linspace(0, 100, foot.curve_mean.size)
        colour = SIDE_COLOURS[side]
        if foot.curve_sd is not None:
            upper, lower = foot.curve_mean + foot.curve_sd, foot.curve_mean - foot.curve_sd
            fig.add_trace(go.Scatter(x=np.concatenate([pct, pct[::-1]]), y=np.concatenate([upper, lower[::-1]]),
                                     fill="toself", fillcolor=colour, opacity=0.18, line=dict(width=0),
                                     hoverinfo="skip", name=f"{side} ± SD", showlegend=True))
        fig.add_trace(go.Scatter(x=pct, y=foot.curve_mean, mode="lines", line=dict(color=colour, width=2.5),
                                 name=f"{side} mean ({foot.n_steps} steps)"))
    fig.update_xaxes(title_text="stance (% of heel strike to toe off)", range=[0, 100])
    fig.update_yaxes(title_text=f"vertical force ({unit})")
    return _layout(fig, "Force curves: mean ± SD over steps")


def _outline_trace(session: SessionMetrics, side: str, offset: float = 0.0, showlegend: bool = False,
                   row: int | None = None, col: int | None = None) -> go.Scatter:
    outline = session.layout.outline_mm
    closed = np.vstack([outline, outline[:1]])
    return go.Scatter(x=_display_x(side, closed[:, 1]) + offset, y=closed[:, 0], mode="lines",
                      line=dict(color="#7f8c8d", width=1.2), hoverinfo="skip", showlegend=showlegend,
                      name="insole outline")


def cop_figure(session: SessionMetrics) -> go.Figure:
    """Left: each foot's mean COP path (gait line) on its outline. Right: the COP 'butterfly' (reconstructed)."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.08,
                        subplot_titles=("COP path per foot (measured, mean step)",
                                        "COP butterfly (reconstructed, see note)"))
    gap = 0.45 * session.layout.foot_length_mm
    for side in session.sides:
        foot = session.feet[side]
        offset = -gap if side == "left" else gap
        fig.add_trace(_outline_trace(session, side, offset), row=1, col=1)
        if foot.cop_path_mm is None or not np.isfinite(foot.cop_path_mm).any():
            continue
        path = foot.cop_path_mm
        fig.add_trace(go.Scatter(x=_display_x(side, path[:, 1]) + offset, y=path[:, 0], mode="lines+markers",
                                 marker=dict(size=3), line=dict(color=SIDE_COLOURS[side], width=2.5),
                                 name=f"{side} COP path"), row=1, col=1)
    butterfly = _butterfly(session)
    if butterfly is not None:
        x, y, phase = butterfly
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=dict(color="#34495e", width=2),
                                 name="combined COP (one stride)", hovertext=[f"{p:.0f}% of stride" for p in phase],
                                 hoverinfo="text"), row=1, col=2)
    fig.update_xaxes(title_text="medial-lateral (mm)", row=1, col=1, scaleanchor="y", scaleratio=1)
    fig.update_yaxes(title_text="heel to toe (mm)", row=1, col=1)
    fig.update_xaxes(title_text="left-right (mm)", row=1, col=2)
    fig.update_yaxes(title_text="forward (mm, treadmill-like frame)", row=1, col=2)
    return _layout(fig, "Centre of pressure", height=460)


def _butterfly(session: SessionMetrics) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Combined COP of both feet over one mean stride in a treadmill-like frame.

    Insoles measure the COP within each foot, not where the feet are. Each
    foot is placed half a step width from the midline and, while in stance,
    moves backward at a nominal walking speed (as on a treadmill belt); the
    right foot strikes half a stride after the left. The combined COP is the
    force-weighted mean of the two feet's COPs; its figure-of-eight shape shows
    the alternation of the feet, not their measured placement.
    """
    if set(session.sides) != {"left", "right"}:
        return None
    feet = session.feet
    for foot in feet.values():
        if (foot.curve_mean is None or not np.isfinite(foot.curve_mean).all() or foot.cop_path_mm is None
                or np.isfinite(foot.cop_path_mm).all(axis=1).sum() < 10):
            return None
    strides = np.concatenate([feet[s].stride_times_s for s in ("left", "right")])
    if strides.size == 0:
        return None
    stride = float(np.median(strides))
    speed_mm_s = BUTTERFLY_ASSUMPTIONS["walking_speed_m_s"] * 1000.0
    half_width = BUTTERFLY_ASSUMPTIONS["step_width_mm"] / 2
    t = np.linspace(0.0, stride, 400, endpoint=False)
    total_f = np.zeros_like(t)
    sum_x = np.zeros_like(t)
    sum_y = np.zeros_like(t)
    for side, strike in (("left", 0.0), ("right", stride / 2)):
        foot = feet[side]
        stance = float(np.median(foot.values("stance_s")))
        since = (t - strike) % stride
        in_stance = since < stance
        u = np.clip(since / stance, 0, 1)
        grid = np.linspace(0, 1, foot.curve_mean.size)
        force = np.where(in_stance, np.interp(u, grid, np.clip(foot.curve_mean, 0, None)), 0.0)
        path = _fill_ends(foot.cop_path_mm)
        x_foot = np.interp(u, grid, path[:, 0])
        y_foot = np.interp(u, grid, path[:, 1])
        world_x = (-half_width + y_foot) if side == "left" else (half_width - y_foot)
        world_y = x_foot - speed_mm_s * since + speed_mm_s * stance / 2
        total_f += force
        sum_x += force * world_x
        sum_y += force * world_y
    ok = total_f > 0.02 * total_f.max()
    x = np.where(ok, sum_x / np.where(ok, total_f, 1), np.nan)
    y = np.where(ok, sum_y / np.where(ok, total_f, 1), np.nan)
    x, y = np.append(x, x[:1]), np.append(y, y[:1])
    return x, y, np.append(100 * t / stride, 100.0)


def load_maps(session: SessionMetrics) -> go.Figure | None:
    """Per-sensor peak and pressure-time integral on the insole outlines (left foot mirrored)."""
    feet = {s: session.feet[s] for s in session.sides
            if session.feet[s].sensor_peak is not None and session.feet[s].sensor_pti is not None}
    if not feet:
        return None
    unit = session.unit
    layout = session.layout
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=(f"peak ({unit})", f"pressure-time integral per step ({unit}·s)"))
    gap = 0.45 * layout.foot_length_mm
    size = float(np.clip(90.0 / math.sqrt(max(layout.n_sensors, 1)), 4, 24))
    for col, (attr, title) in enumerate((("sensor_peak", f"peak ({unit})"), ("sensor_pti", f"PTI ({unit}·s)")), 1):
        values = np.concatenate([np.asarray(getattr(f, attr), float) for f in feet.values()])
        top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
        for k, (side, foot) in enumerate(feet.items()):
            offset = -gap if side == "left" else gap
            fig.add_trace(_outline_trace(session, side, offset), row=1, col=col)
            v = np.asarray(getattr(foot, attr), float)
            fig.add_trace(go.Scatter(
                x=_display_x(side, layout.y_mm) + offset, y=layout.x_mm, mode="markers",
                marker=dict(size=size, color=v, cmin=0, cmax=top, colorscale="YlOrRd",
                            line=dict(color="#566573", width=0.5 if layout.n_sensors <= 64 else 0),
                            showscale=k == 0, colorbar=dict(title=title, x=0.44 if col == 1 else 1.0, len=0.9)),
                text=[f"{side} {name} ({region}): {val:.1f}" for name, region, val in
                      zip(layout.sensor_names, layout.regions, v)],
                hoverinfo="text", name=f"{side}", showlegend=False), row=1, col=col)
        fig.update_xaxes(showticklabels=False, title_text="left foot | right foot", row=1, col=col,
                         scaleanchor=f"y{'' if col == 1 else col}", scaleratio=1)
        fig.update_yaxes(title_text="heel to toe (mm)" if col == 1 else None, row=1, col=col)
    note = " (sensor positions approximate)" if layout.approximate else ""
    return _layout(fig, f"Regional load maps, layout {layout.name}{note}", height=520)


def lr_bars(rows: list[dict]) -> go.Figure:
    """Left vs right bars for the key share metrics (rows as made by the report builder)."""
    fig = go.Figure()
    labels = [r["label"] for r in rows]
    for side in ("left", "right"):
        fig.add_trace(go.Bar(x=labels, y=[r.get(side) for r in rows], name=side,
                             marker_color=SIDE_COLOURS[side]))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="share of stance load (%)")
    return _layout(fig, "Left / right comparison: regional share of stance load")

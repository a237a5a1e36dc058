"""Per-sensor maps on the insole outlines, from the analysis's sensor table (never recomputed here)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from insole._layout import SensorLayout
from insole.analysis import sensor_map_columns
from insole.plot._common import display_x, foot_geometry, outline_trace, styled
from insole.plot._spec import as_figure, as_json_dict, axis_name, colorscale, grid, merged, trace_axes

__all__ = ["load_maps", "why_not_load_maps"]

# The panel titles of the analysis's load maps (``insole.analysis.SENSOR_MAPS``) in each recording unit.
_TITLES = {
    "kPa": ("peak pressure (kPa)", "pressure-time integral per step (kPa·s)"),
    "N": ("peak force (N)", "force-time integral per step (N·s)"),
    "au": ("peak load (au)", "load-time integral per step (au·s)"),
}
_SHARE = ("share_pct", "share of stance load (%)")


# Sensors the analysis' quality checks flagged, those a reader must know about (the analysis decides which: each
# flag's ``named``; on a pressure grid the cells outside the footprint never load and are flagged "flat" but not
# named), are drawn over their dot as a grey crossed circle (their value, dead or wrong, would read as unloaded or
# loaded foot).
_FLAG_WORDS = {"flat": "flat/dead", "dead": "flat/dead"}


def _flagged(analysis: Any, side: str) -> dict[str, dict[str, Any]]:
    """The sensors of ``side`` that ``analysis.quality[side]["sensor_flags"]`` flags and names, by name."""
    flags = [f for f in (analysis.quality.get(side, {}).get("sensor_flags") or []) if isinstance(f, dict)]
    return {str(f.get("sensor")): f for f in flags if f.get("named", True)}


def _has_values(analysis: Any, column: str) -> bool:
    return any(column in analysis.sensors[s] and np.isfinite(analysis.sensors[s][column].to_numpy(float)).any()
               for s in analysis.sides)


def _panels(analysis: Any) -> list[tuple[str, str]]:
    """(column, title) of the peak panel and the time-integral panel, as the analysis names them for its unit.

    The load share exists for every insole and stands in for an integral without a value.
    """
    unit = analysis.unit if analysis.unit in _TITLES else "au"
    columns = sensor_map_columns(unit)
    peak_title, integral_title = _TITLES[unit]
    panels = [(columns["peak"], peak_title)] if _has_values(analysis, columns["peak"]) else []
    if _has_values(analysis, columns["integral"]):
        panels.append((columns["integral"], integral_title))
    elif _has_values(analysis, _SHARE[0]):
        panels.append(_SHARE)
    return panels


def why_not_load_maps(analysis: Any) -> str | None:
    if not analysis.sides:
        return "no foot was recorded"
    if max(len(analysis.sensors[s]) for s in analysis.sides) < 2:
        return "the layout has one sensor per foot: there is nothing to map"
    if not _panels(analysis):
        return "no stance was used, so no sensor has a load"
    return None


def load_maps(analysis: Any, layout: SensorLayout | None = None, *, as_dict: bool = False) -> Any:
    """Each sensor's mean peak and time integral (or load share) over the used stances, left foot mirrored.

    Values are ``analysis.sensors[side]`` as they are; ``layout`` only gives
    the outline (default: the built-in layout the analysis names). ``as_dict``: the figure as plotly's
    ``Figure.to_dict()`` gives it, without building plotly's objects (for a page that only embeds it).
    """
    spec = _load_maps(analysis, layout)
    if spec is None:
        return None
    return as_json_dict(spec) if as_dict else as_figure(spec)


def _load_maps(analysis: Any, layout: SensorLayout | None) -> dict[str, Any] | None:
    if why_not_load_maps(analysis) is not None:
        return None
    geometry = foot_geometry(analysis, layout)
    panels = _panels(analysis)
    # each panel's colour bar sits in the gap after it (never on the next panel), so the gap is wide enough
    # for a bar and its tick labels, and only the first panel labels the shared heel-to-toe axis
    fig = grid(len(panels), horizontal_spacing=0.2, shared_yaxes=True, titles=[t for _, t in panels])
    gap_mm = 0.45 * geometry.foot_length_mm
    n_sensors = max(len(analysis.sensors[s]) for s in analysis.sides)
    size_px = float(np.clip(90.0 / math.sqrt(n_sensors), 4, 24))
    flagged = {side: _flagged(analysis, side) for side in analysis.sides}
    statuses = sorted({_FLAG_WORDS.get(str(f.get("status")), str(f.get("status"))) for side in flagged
                       for f in flagged[side].values()})
    legend_shown = False
    for col, (column, title) in enumerate(panels, 1):
        values = np.concatenate([analysis.sensors[s][column].to_numpy(float) for s in analysis.sides])
        top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
        for k, side in enumerate(analysis.sides):
            table = analysis.sensors[side]
            offset = -gap_mm if side == "left" else gap_mm
            outline = outline_trace(geometry, side, offset)
            if outline is not None:
                fig["data"].append({**outline, **trace_axes(col)})
            v = table[column].to_numpy(float)
            colorbar_x = float(fig["layout"][axis_name("x", col)]["domain"][1]) + 0.01
            unit = title[title.rindex("(") + 1:-1]
            fig["data"].append({
                "type": "scatter",
                "x": display_x(side, table["y_mm"].to_numpy(float)) + offset, "y": table["x_mm"].to_numpy(float),
                "mode": "markers",
                "marker": {"size": size_px, "color": v, "cmin": 0, "cmax": top, "colorscale": colorscale("YlOrRd"),
                           "line": {"color": "#566573", "width": 0.5 if n_sensors <= 64 else 0},
                           "showscale": k == 0, "colorbar": {"title": {"text": unit, "side": "top"}, "x": colorbar_x,
                                                              "xanchor": "left", "len": 0.9, "thickness": 14}},
                "text": [f"{side} {name} ({region}): {val:.1f}" for name, region, val in
                         zip(table["sensor"], table["region"], v)],
                "hoverinfo": "text", "name": side, "showlegend": False, **trace_axes(col)})
            marked = np.isin(table["sensor"].astype(str).to_numpy(), list(flagged[side]))
            if marked.any():
                fig["data"].append({
                    "type": "scatter", "mode": "markers",
                    "x": display_x(side, table["y_mm"].to_numpy(float)[marked]) + offset,
                    "y": table["x_mm"].to_numpy(float)[marked],
                    "marker": {"size": size_px, "color": "#9ca3af", "symbol": "circle-x",
                               "line": {"color": "#374151", "width": 1}},
                    "text": [f"{side} {name}: flagged {flagged[side][name].get('status')} "
                             f"({flagged[side][name].get('detail') or 'see data quality'})"
                             for name in table["sensor"].astype(str)[marked]],
                    "hoverinfo": "text", "name": "flagged: " + ", ".join(statuses), "legendgroup": "flagged",
                    "showlegend": not legend_shown, **trace_axes(col)})
                legend_shown = True
        merged(fig["layout"][axis_name("x", col)], {"showticklabels": False,
                                                    "title": {"text": "left foot | right foot"},
                                                    "scaleanchor": f"y{'' if col == 1 else col}", "scaleratio": 1})
        if col == 1:
            merged(fig["layout"][axis_name("y", col)], {"title": {"text": "heel to toe (mm)"}})
    note = " (sensor positions approximate)" if geometry.approximate else ""
    return styled(fig, f"Regional load maps, layout {geometry.name}{note}", height_px=520)

"""What the figure modules share: the page style and the feet's display geometry.

Display frame for foot pictures: feet seen from above, toes up, the left foot
on the left and both big toes toward the middle. The layouts' frame has
``+y`` medial for both feet, so the left foot's ``y`` points right on screen
and the right foot's points left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from insole._layout import SensorLayout, get_layout
from insole.plot._spec import styled
from insole.plot._style import OUTLINE

__all__ = ["styled", "FootGeometry", "foot_geometry", "display_x", "outline_trace", "used_strides"]


@dataclass(frozen=True)
class FootGeometry:
    """Where to draw a foot: the insole outline (None when unknown) and the foot length for spacing."""

    name: str
    outline_mm: np.ndarray | None
    foot_length_mm: float
    approximate: bool


def foot_geometry(analysis: Any, layout: SensorLayout | None = None) -> FootGeometry:
    """The layout's outline for ``analysis``: the given layout, else the built-in one of the same name.

    An ``Analysis`` holds its sensors' positions but not the insole outline. A
    built-in layout is used only when its sensors sit where the analysis says
    (a layout scaled to another shoe size would draw the outline off the
    sensors); otherwise the feet are drawn without an outline.
    """
    source = dict(analysis.provenance.get("input") or {})
    name = str(source.get("layout") or (layout.name if layout is not None else "unknown"))
    if layout is None:
        try:
            candidate = get_layout(name)
        except Exception:  # a custom layout: nothing to look up
            candidate = None
        if candidate is not None and _same_positions(analysis, candidate):
            layout = candidate
    if layout is not None:
        return FootGeometry(layout.name, np.asarray(layout.outline_mm, float), float(layout.foot_length_mm),
                            bool(layout.approximate))
    x_mm = np.concatenate([analysis.sensors[s]["x_mm"].to_numpy(float) for s in analysis.sides] or [np.zeros(1)])
    length = float(np.nanmax(x_mm)) * 1.1 if np.isfinite(x_mm).any() and np.nanmax(x_mm) > 0 else 260.0
    return FootGeometry(name, None, length, bool(source.get("layout_approximate", False)))


def _same_positions(analysis: Any, layout: SensorLayout) -> bool:
    for side in analysis.sides:
        table = analysis.sensors[side]
        if len(table) != layout.n_sensors:
            return False
        if not (np.allclose(table["x_mm"].to_numpy(float), layout.x_mm, atol=0.5)
                and np.allclose(table["y_mm"].to_numpy(float), layout.y_mm, atol=0.5)):
            return False
    return True


def display_x(side: str, y_mm: np.ndarray) -> np.ndarray:
    return np.asarray(y_mm, float) if side == "left" else -np.asarray(y_mm, float)


def outline_trace(geometry: FootGeometry, side: str, offset_mm: float) -> dict[str, Any] | None:
    if geometry.outline_mm is None:
        return None
    closed = np.vstack([geometry.outline_mm, geometry.outline_mm[:1]])
    return {"type": "scatter", "x": display_x(side, closed[:, 1]) + offset_mm, "y": closed[:, 0], "mode": "lines",
            "line": {"color": OUTLINE, "width": 1.2}, "hoverinfo": "skip", "showlegend": False,
            "name": "insole outline"}


def used_strides(analysis: Any, side: str) -> Any:
    """The strides the summary counts (``used``), as a DataFrame."""
    table = analysis.strides[side]
    if not len(table) or "used" not in table:
        return table.iloc[0:0]
    return table[table["used"].astype(bool)]

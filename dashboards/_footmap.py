"""Pressure maps on the insole outline: from a layout to a display grid and its weights.

A heat map of a foot is drawn on a regular grid over the insole outline. Each
grid cell inside the outline takes an inverse-distance-weighted mean of its
nearest sensors; cells farther than ``reach_mm`` from every sensor stay empty
(drawn as "no sensor here") so a sparse insole does not pretend to measure
where it has no sensor. The weights are computed once per layout, here, and
the browser turns every sample into a grid with a few multiply-adds per cell
(``_static/footmap.js``), so only the sensor values travel.

Display frame: feet seen from above, toes up. The horizontal display axis is
the foot frame's medial axis ``y`` for the left foot and ``-y`` for the right
foot, so both halluxes point to the middle of the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from insole import SensorLayout

__all__ = ["FootGrid", "foot_grid", "display_x_mm"]

# A cell takes its value from at most this many sensors; more makes maps of
# dense sensel grids blurrier and slower without showing anything new.
_NEIGHBOURS = 4
_POWER = 2.0  # inverse-distance power: the classic Shepard choice


@dataclass(frozen=True, eq=False)
class FootGrid:
    """A display grid over one insole outline and the weights that fill it from sensor values.

    ``x_mm`` (rows, heel to toe) and ``y_mm`` (columns, lateral to medial) are
    cell centres in the foot frame. ``cells`` (m,) are flat indices
    ``row * n_cols + col`` of the cells that get a value; ``neighbours`` (m, k)
    the sensor indices and ``weights`` (m, k) their weights (rows sum to 1;
    padding has weight 0). ``inside`` (rows, cols) marks cells inside the
    outline, including those too far from any sensor to get a value.
    """

    x_mm: np.ndarray
    y_mm: np.ndarray
    cells: np.ndarray
    neighbours: np.ndarray
    weights: np.ndarray
    inside: np.ndarray
    reach_mm: float

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.x_mm), len(self.y_mm))

    def fill(self, values: np.ndarray) -> np.ndarray:
        """Grids for sensor values (..., n_sensors): (..., rows, cols), NaN where nothing is measured."""
        values = np.asarray(values, dtype=np.float64)
        flat = np.full(values.shape[:-1] + (self.shape[0] * self.shape[1],), np.nan)
        flat[..., self.cells] = np.sum(values[..., self.neighbours] * self.weights, axis=-1)
        return flat.reshape(values.shape[:-1] + self.shape)

    def to_json(self) -> dict[str, Any]:
        """What the browser needs (plain lists; small: a few thousand numbers)."""
        return {
            "x_mm": np.round(self.x_mm, 2).tolist(),
            "y_mm": np.round(self.y_mm, 2).tolist(),
            "cells": self.cells.tolist(),
            "k": int(self.neighbours.shape[1]),
            "neighbours": self.neighbours.ravel().tolist(),
            "weights": np.round(self.weights.ravel(), 5).tolist(),
            # a single-sensor layout reaches the whole foot (inf): null in strict JSON
            "reach_mm": round(self.reach_mm, 1) if np.isfinite(self.reach_mm) else None,
        }


def display_x_mm(side: str, y_mm: np.ndarray) -> np.ndarray:
    """Horizontal display coordinate of foot-frame ``y`` (+ medial): halluxes toward the middle."""
    return np.asarray(y_mm, dtype=np.float64) * (1.0 if side == "left" else -1.0)


def _reach_mm(layout: SensorLayout) -> float:
    """How far a sensor's value is shown around it: 1.6 x the median spacing, at least 18 mm."""
    if layout.n_sensors < 2:
        return float("inf")  # one sensor speaks for the whole foot (e.g. a foot switch)
    points = np.column_stack([layout.x_mm, layout.y_mm])
    distance = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(distance, np.inf)
    return float(max(1.6 * np.median(distance.min(axis=1)), 18.0))


def foot_grid(layout: SensorLayout, rows: int | None = None) -> FootGrid:
    """The display grid of ``layout``: about 56 rows (more for dense layouts), square cells."""
    outline = layout.outline_mm
    if rows is None:
        rows = 56 if layout.n_sensors <= 64 else 84
    x_lo, x_hi = float(outline[:, 0].min()), float(outline[:, 0].max())
    y_lo, y_hi = float(outline[:, 1].min()), float(outline[:, 1].max())
    cell = (x_hi - x_lo) / rows
    n_cols = max(1, int(np.ceil((y_hi - y_lo) / cell)))
    x_mm = x_lo + (np.arange(rows) + 0.5) * cell
    y_mm = 0.5 * (y_lo + y_hi) + (np.arange(n_cols) - (n_cols - 1) / 2.0) * cell
    grid_x, grid_y = np.meshgrid(x_mm, y_mm, indexing="ij")
    inside = layout.contains(grid_x, grid_y)

    sensors = np.column_stack([layout.x_mm, layout.y_mm])
    k = min(_NEIGHBOURS, layout.n_sensors)
    flat_inside = np.flatnonzero(inside.ravel())
    cell_points = np.column_stack([grid_x.ravel()[flat_inside], grid_y.ravel()[flat_inside]])
    distance = np.hypot(
        cell_points[:, None, 0] - sensors[None, :, 0], cell_points[:, None, 1] - sensors[None, :, 1]
    )
    nearest = np.argsort(distance, axis=1)[:, :k]
    nearest_distance = np.take_along_axis(distance, nearest, axis=1)
    reach = _reach_mm(layout)
    in_reach = nearest_distance <= reach
    # a sensor right under the cell centre dominates instead of dividing by zero
    raw = np.where(in_reach, 1.0 / np.maximum(nearest_distance, 0.25 * cell) ** _POWER, 0.0)
    has_value = raw.sum(axis=1) > 0
    weights = raw[has_value] / raw[has_value].sum(axis=1, keepdims=True)
    neighbours = np.where(in_reach[has_value], nearest[has_value], 0)
    return FootGrid(
        x_mm=x_mm,
        y_mm=y_mm,
        cells=flat_inside[has_value].astype(np.int32),
        neighbours=neighbours.astype(np.int32),
        weights=weights.astype(np.float32),
        inside=inside,
        reach_mm=reach,
    )

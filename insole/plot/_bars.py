"""Left and right side by side: each region group's share of the stance load (``analysis.regions``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from insole.plot._common import styled
from insole.plot._style import SIDE_COLOURS

__all__ = ["region_shares", "why_not_region_shares", "SHARE_GROUPS"]

# The groups shown, in heel-to-toe order; the first four share out the whole foot, the rest split them.
SHARE_GROUPS = ("heel", "midfoot", "forefoot", "toes", "hallux", "lesser_toes", "medial_forefoot",
                "lateral_forefoot")


def _shares(analysis: Any, side: str) -> dict[str, tuple[float, float]]:
    table = analysis.regions[side]
    if not len(table) or "share_pct_mean" not in table:
        return {}
    rows = table.set_index("region")
    out = {}
    for group in SHARE_GROUPS:
        if group in rows.index and np.isfinite(float(rows.at[group, "share_pct_mean"])):
            out[group] = (float(rows.at[group, "share_pct_mean"]), float(rows.at[group, "share_pct_sd"]))
    return out


def why_not_region_shares(analysis: Any) -> str | None:
    if any(_shares(analysis, side) for side in analysis.sides):
        return None
    return "the layout has no region groups (one sensor per foot), or no stance was used"


def region_shares(analysis: Any, *, groups: Sequence[str] = SHARE_GROUPS,
                  height_px: int | None = None) -> go.Figure | None:
    """Bars of each region group's share of the stance load (mean ± SD over the used stances), left and right.

    ``groups``: the region groups shown, in that order, those the analysis has
    (default: all of ``SHARE_GROUPS``; ``("heel", "midfoot", "forefoot", "toes")``
    shares out the whole foot). ``height_px``: the figure's height (default 380 px).
    """
    if why_not_region_shares(analysis) is not None:
        return None
    shares = {side: _shares(analysis, side) for side in analysis.sides}
    groups = [g for g in groups if any(g in s for s in shares.values())]
    if not groups:
        return None
    labels = [g.replace("_", " ") for g in groups]
    fig = go.Figure()
    for side in analysis.sides:
        values = [shares[side].get(g, (np.nan, np.nan)) for g in groups]
        fig.add_trace(go.Bar(x=labels, y=[v[0] for v in values], name=side, marker_color=SIDE_COLOURS[side],
                             error_y=dict(type="data", array=[v[1] for v in values], thickness=1, color="#566573")))
    fig.update_layout(barmode="group")
    # two-word groups shown on two lines: at print width the one-line names ran into each other
    fig.update_xaxes(tickvals=labels, ticktext=[label.replace(" ", "<br>") for label in labels])
    fig.update_yaxes(title_text="share of stance load (%)")
    # one foot recorded: its own shares, titled so (a "comparison" of one foot misled the reader)
    title = ("Left / right comparison: regional share of stance load (mean ± SD over steps)"
             if len(analysis.sides) > 1 else
             f"Regional share of stance load, {analysis.sides[0]} foot only (mean ± SD over steps)")
    return styled(fig, title, height_px=height_px or 380)

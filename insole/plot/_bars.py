"""Left and right side by side: each region group's share of the stance load (``analysis.regions``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from insole.plot._common import styled
from insole.plot._spec import as_figure, as_json_dict, figure
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
                  height_px: int | None = None, as_dict: bool = False) -> Any:
    """Bars of each region group's share of the stance load (mean ± SD over the used stances), left and right.

    ``groups``: the region groups shown, in that order, those the analysis has
    (default: all of ``SHARE_GROUPS``; ``("heel", "midfoot", "forefoot", "toes")``
    shares out the whole foot). ``height_px``: the figure's height (default 380 px).
    ``as_dict``: the figure as plotly's ``Figure.to_dict()`` gives it, without building plotly's objects
    (for a page that only embeds it); a ``plotly.graph_objects.Figure`` otherwise.
    """
    spec = _region_shares(analysis, groups, height_px)
    if spec is None:
        return None
    return as_json_dict(spec) if as_dict else as_figure(spec)


def _region_shares(analysis: Any, groups: Sequence[str], height_px: int | None) -> dict[str, Any] | None:
    if why_not_region_shares(analysis) is not None:
        return None
    shares = {side: _shares(analysis, side) for side in analysis.sides}
    groups = [g for g in groups if any(g in s for s in shares.values())]
    if not groups:
        return None
    labels = [g.replace("_", " ") for g in groups]
    fig = figure()
    for side in analysis.sides:
        values = [shares[side].get(g, (np.nan, np.nan)) for g in groups]
        fig["data"].append({"type": "bar", "x": labels, "y": [v[0] for v in values], "name": side,
                            "marker": {"color": SIDE_COLOURS[side]},
                            "error_y": {"type": "data", "array": [v[1] for v in values], "thickness": 1,
                                        "color": "#566573"}})
    # two-word groups shown on two lines: at print width the one-line names ran into each other
    fig["layout"].update(barmode="group", xaxis={"tickvals": labels,
                                                 "ticktext": [label.replace(" ", "<br>") for label in labels]},
                         yaxis={"title": {"text": "share of stance load (%)"}})
    # one foot recorded: its own shares, titled so (a "comparison" of one foot misled the reader)
    title = ("Left / right comparison: regional share of stance load (mean ± SD over stances)"
             if len(analysis.sides) > 1 else
             f"Regional share of stance load, {analysis.sides[0]} foot only (mean ± SD over stances)")
    return styled(fig, title, height_px=height_px or 380)

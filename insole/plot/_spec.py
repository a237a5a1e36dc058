"""Figures as plain dicts: what each figure function draws, without building plotly's objects.

Each figure module builds its figure as a dict ``{"data": [...], "layout": {...}}`` in plotly's own
terms (numpy arrays where the data are arrays). The public functions turn that dict into a
``plotly.graph_objects.Figure`` (``as_figure``), which validates every property; a page that only
embeds the figure (the report) serialises the dict itself (``as_json_dict``), as plotly's
``Figure.to_dict()`` would give it: the named template written out, numpy arrays as base64 typed arrays.
Validating the objects cost about 0.35 s of a report (plotly deep-copies and re-validates the page
template for every figure); the dict costs milliseconds, and tests/test_report_speed_identity.py checks
that both give the same figure.

The subplot grids are laid out as ``plotly.subplots.make_subplots`` lays out one row of panels (the same
arithmetic, so the same domains to the last bit), and ``as_figure`` rebuilds such a figure with
``make_subplots`` so that it still accepts ``add_trace(..., row=, col=)``.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from insole.plot._style import FONT, MUTED

__all__ = ["figure", "styled", "grid", "axis_name", "trace_axes", "as_figure", "as_json_dict", "colorscale",
           "merged", "TEMPLATE"]

TEMPLATE = "plotly_white"
_GRID = "_insole_grid"  # the grid's arguments, kept in the dict for ``as_figure`` (never serialised)


@functools.cache
def _template(name: str) -> dict[str, Any]:
    """plotly's named template as ``Figure.to_dict()`` writes it (read once per process from plotly's data)."""
    text = resources.files("plotly").joinpath("package_data", "templates", f"{name}.json").read_text("utf-8")
    found: dict[str, Any] = json.loads(text)
    return found


def figure(data: list[dict[str, Any]] | None = None, layout: dict[str, Any] | None = None) -> dict[str, Any]:
    """A figure dict with plotly's ``plotly_white`` template (every figure of insole.plot uses it)."""
    return {"data": list(data or []), "layout": {"template": TEMPLATE, **(layout or {})}}


def styled(fig: dict[str, Any], title: str, height_px: int = 380) -> dict[str, Any]:
    """The shared look; the title stays small because a page's own heading names the figure."""
    fig["layout"].update(title={"text": title, "x": 0.01, "font": {"size": 12, "color": MUTED}}, height=height_px,
                         font=dict(FONT), margin={"l": 55, "r": 20, "t": 60, "b": 80},
                         legend={"orientation": "h", "yanchor": "top", "y": -0.16, "xanchor": "left", "x": 0.0})
    return fig


def axis_name(kind: str, col: int) -> str:
    """``xaxis``, ``xaxis2``, ... (``kind`` "x" or "y") of panel ``col`` (1-based)."""
    return f"{kind}axis{'' if col == 1 else col}"


def trace_axes(col: int) -> dict[str, str]:
    """The axis references of a trace in panel ``col`` of a grid (as ``add_trace(row=1, col=col)`` sets them)."""
    suffix = "" if col == 1 else str(col)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def grid(cols: int, *, horizontal_spacing: float, titles: Sequence[str] = (),
         column_widths: Sequence[float] | None = None, shared_yaxes: bool = False) -> dict[str, Any]:
    """A figure dict with one row of ``cols`` panels, laid out as ``make_subplots(rows=1, cols=cols, ...)`` does."""
    free = 1.0 - horizontal_spacing * (cols - 1)
    if column_widths is None:
        widths = [free / cols] * cols
    else:
        total = float(sum(column_widths))
        widths = [free * (w / total) for w in column_widths]
    layout: dict[str, Any] = {}
    domains = []
    for c in range(cols):
        start = sum(widths[:c]) + c * horizontal_spacing
        domain = [start + 0.0, start + widths[c] - 0.0]
        domains.append(domain)  # the subplot titles are centred on the domain as computed (plotly's order)
        layout[axis_name("x", c + 1)] = {"domain": [max(0.0, domain[0]), min(1.0, domain[1])],
                                         "anchor": f"y{'' if c == 0 else c + 1}"}
        layout[axis_name("y", c + 1)] = {"domain": [0.0, 1.0], "anchor": f"x{'' if c == 0 else c + 1}"}
        if shared_yaxes and c > 0:
            layout[axis_name("y", c + 1)].update(matches="y", showticklabels=False)
    annotations = [{"y": 1.0, "xref": "paper", "x": sum(domain) / 2.0, "yref": "paper", "text": title,
                    "showarrow": False, "font": {"size": 16}, "xanchor": "center", "yanchor": "bottom"}
                   for title, domain in zip(titles, domains) if title]
    if annotations:
        layout["annotations"] = annotations
    fig = figure(layout=layout)
    fig[_GRID] = {"cols": cols, "horizontal_spacing": horizontal_spacing, "column_widths": column_widths,
                  "shared_yaxes": shared_yaxes, "subplot_titles": list(titles) or None}
    return fig


def as_figure(fig: dict[str, Any]) -> Any:
    """The figure dict as a ``plotly.graph_objects.Figure`` (validated by plotly; a grid stays a subplot grid)."""
    import plotly.graph_objects as go

    spec = {key: value for key, value in fig.items() if key != _GRID}
    arguments = fig.get(_GRID)
    if arguments is None:
        return go.Figure(spec)
    from plotly.subplots import make_subplots

    made = make_subplots(rows=1, **arguments)
    made.add_traces(spec["data"])
    made.update_layout(spec["layout"])
    return made


def as_json_dict(fig: dict[str, Any]) -> dict[str, Any]:
    """The figure dict as ``Figure.to_dict()`` gives it, ready for ``plotly.io.to_html(..., validate=False)``:
    the template written out, numpy arrays as plotly's base64 typed arrays."""
    out = copy.deepcopy({"data": fig["data"], "layout": fig["layout"]})  # (converting works in place)
    template = out["layout"].get("template")
    if isinstance(template, str):
        out["layout"]["template"] = copy.deepcopy(_template(template))
    _convert_to_base64(out)
    return out


def _convert_to_base64(fig: dict[str, Any]) -> None:
    """As plotly (6 and later) writes a figure's numpy arrays in ``to_dict``; plotly 5 keeps them as arrays."""
    try:
        from _plotly_utils.utils import convert_to_base64  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # plotly 5
        return
    convert_to_base64(fig)


@functools.cache
def _colorscale(name: str) -> tuple[tuple[float, str], ...]:
    from _plotly_utils.colors import sequential  # type: ignore[import-untyped,unused-ignore]

    colours = getattr(sequential, name)
    last = len(colours) - 1
    return tuple(((1.0 * i) / (1.0 * last), colour) for i, colour in enumerate(colours))


def colorscale(name: str) -> list[list[Any]]:
    """A named sequential colour scale written out as plotly's validator writes it ([[0.0, colour], ...])."""
    return [list(stop) for stop in _colorscale(name)]


def merged(target: dict[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """``target`` updated as plotly's ``update_*`` does: nested dicts merged, other values replaced."""
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            merged(target[key], value)
        else:
            target[key] = dict(value) if isinstance(value, Mapping) else value
    return target

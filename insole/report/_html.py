"""The report as one self-contained HTML page: no CDN, no font or script from the network.

plotly.js is inlined from the installed plotly package; figures are plotly's
own HTML fragments; the kinetic chain is inline SVG. The page is a Jinja2
template with autoescaping, so every piece of text that comes from the
recording or the user (subject id, notes, file names) is shown as text,
never run as markup.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import struct
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import plotly.io as pio
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from insole import plot
from insole._output import atomic_write
from insole.report._build import SECTIONS, Report, number_text
from insole.report._chain import GRADE_COLOURS, chain_svg
from insole.report._clinic_test import CLINIC_SECTION
from insole.report._evidence import CONFIDENCE_LEVELS, GRADE_LABELS, JOINT_LABELS
from insole.report._spm import spm_figure
from insole.report._words import counted

__all__ = ["render_html", "write_html"]

_PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}


def _figure_html(fig: Any, div_id: str, reason: str | None = None, what: str | None = None) -> Markup:
    """The figure, or one line saying why there is none (naming the figure when its section shows more)."""
    if fig is None:
        because = f": {reason}" if reason else ""
        if what:
            return Markup('<p class="muted figure-reason">{} not shown for this recording{}.</p>').format(what, because)
        return Markup('<p class="muted figure-reason">Not available for this recording{}.</p>').format(because)
    # the figures come as plotly's figure dicts (``as_dict``: built without plotly's objects, 0.35 s less per
    # report), so plotly need not validate them again
    html = pio.to_html(fig, full_html=False, include_plotlyjs=False, include_mathjax=False, div_id=div_id,
                       config=_PLOT_CONFIG, default_width="100%", validate=False)
    return Markup(html)


def _spm_html(comparison: Any, div_id: str, what: str) -> Markup:
    """An SPM comparison's figure, or the one line saying why it was not done."""
    if comparison is None:
        return _figure_html(None, div_id, "the recording was not analysed", what=what)
    return _figure_html(spm_figure(comparison, as_dict=True), div_id, comparison.reason, what=what)


def _fmt(value: Any, digits: int = 2, signed: bool = False) -> str:
    """A number as the page shows it: "–" when missing; a float at ``digits`` decimals (with its sign when
    ``signed``), never "-0.0" (``number_text``)."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return number_text(value, digits, signed)
    return str(value)


# The page's Jinja2 template is a data file beside this module (HTML is easier to read and diff there).
_TEMPLATE_FILE = "report.html.j2"

_FRAME_LABELS = {"other_foot": "the other foot", "baseline": "the baseline recording",
                 "reference_set": "the reference set", "literature": "the literature"}


@functools.cache
def _template_text() -> str:
    return resources.files("insole.report").joinpath("_templates", _TEMPLATE_FILE).read_text(encoding="utf-8")


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's own cache of compiled templates, on disk (a folder of this user's in the temporary directory):
    compiling the page's template cost 0.06 s of each report. A cache that cannot be read or written is
    skipped, never an error; the source's checksum decides whether the cached code is this template's."""

    def load_bytecode(self, bucket: Any) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, ValueError, EOFError):
            bucket.reset()

    def dump_bytecode(self, bucket: Any) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _compiled_templates() -> jinja2.BytecodeCache | None:
    try:
        return _CompiledTemplates()
    except (OSError, RuntimeError):  # no private cache folder can be made here
        return None


# The name under which the compiled page is cached: the environment's options are part of it, since they
# change the compiled code and jinja's cache key is the name and the source only.
_CACHED_AS = "insole.report/" + _TEMPLATE_FILE + "?autoescape,strict,trim_blocks,lstrip_blocks"


@functools.cache
def _template() -> jinja2.Template:
    """The page's template, compiled once per process, and once per version of it while jinja's cache keeps it
    (a batch renders many reports)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, loader=jinja2.DictLoader({_CACHED_AS: _template_text()}),
                             bytecode_cache=_compiled_templates())
    env.filters["counted"] = counted
    return env.get_template(_CACHED_AS)


@functools.cache
def _plotlyjs() -> Markup:
    """plotly.js as shipped with the installed plotly (4.6 MB, read once per process)."""
    return Markup(get_plotlyjs())


# ---------------------------------------------------------------- the page a browser started ahead loads first

_PLOTLYJS_SLOT = "{{ plotlyjs }}"


def warm_page() -> str:
    """A page that runs plotly.js as the report's page will, for a browser started before the report is built.

    Chromium's JavaScript engine keeps a script it has compiled and reuses it when the same source comes
    again from the same place: the same page address, the same line and column where the script starts,
    decoded from the same character set. A browser that first loads this page at the address where it
    then prints the report skips compiling plotly.js (about half a second), and drawing the small figure
    here first compiles plotly's code for what the report's figures draw (bars with error bars, filled
    areas, lines, coloured markers with a colour bar, two panels, shapes and notes). Nothing of this page
    is printed; it only has to start plotly.js where the page's template does (tests check that it does).
    """
    text = _template_text()
    before, after = text.split(_PLOTLYJS_SLOT, 1)
    line_start = before.rfind("\n") + 1
    lines_before = before.count("\n")
    # line 0 carries the character set (the report's page declares UTF-8 too); the script starts on the same
    # line and column as in the page (the text before it on its line, "<script>", is the template's own)
    return "".join(("<!DOCTYPE html><meta charset=\"utf-8\">", "\n" * lines_before, before[line_start:], _plotlyjs(),
                    after.split("\n", 1)[0], "\n<body>\n", _warm_figure(), "\n</body>\n"))


@functools.cache
def _plot_template() -> dict[str, Any]:
    """plotly's ``plotly_white`` template (the one insole.plot draws with), as plotly ships it (read once)."""
    text = resources.files("plotly").joinpath("package_data", "templates", "plotly_white.json").read_text("utf-8")
    found: dict[str, Any] = json.loads(text)
    return found


def _typed(values: list[float]) -> dict[str, str]:
    """Numbers as plotly's base64 typed array (as the report's figures carry their data)."""
    return {"dtype": "f8", "bdata": base64.b64encode(struct.pack(f"<{len(values)}d", *values)).decode("ascii")}


def _warm_figure() -> str:
    """One small figure drawing what the report's figures draw (never shown: only the browser's warm-up).

    Written out directly (a millisecond; plotly's own ``to_html`` takes 50 ms): this runs before the
    browser starts, while the command waits.
    """
    x = [10.0 * i for i in range(11)]
    data = [
        {"type": "bar", "x": ["a", "b"], "y": _typed([1.0, 2.0]), "name": "left",
         "error_y": {"type": "data", "array": _typed([0.1, 0.2]), "visible": True}},
        {"type": "bar", "x": ["a", "b"], "y": _typed([1.5, 1.0]), "name": "right",
         "error_y": {"type": "data", "array": _typed([0.2, 0.1]), "visible": True}},
        {"type": "scatter", "x": _typed(x + x[::-1]), "y": _typed(x + [v + 5.0 for v in x[::-1]]), "fill": "toself",
         "fillcolor": "#c2410c", "opacity": 0.18, "line": {"width": 0}, "hoverinfo": "skip", "name": "band"},
        {"type": "scatter", "x": _typed(x), "y": _typed(x), "mode": "lines+markers", "marker": {"size": 3},
         "line": {"color": "#1d4ed8", "width": 2.5}, "name": "mean"},
        {"type": "scatter", "x": _typed(x), "y": _typed(x[::-1]), "mode": "markers", "text": [str(v) for v in x],
         "hoverinfo": "text", "showlegend": False, "xaxis": "x2", "yaxis": "y2",
         "marker": {"size": 12, "color": _typed(x), "cmin": 0, "cmax": 100,
                    "colorscale": [[0.0, "rgb(255,255,204)"], [0.5, "rgb(253,141,60)"], [1.0, "rgb(128,0,38)"]],
                    "line": {"color": "#566573", "width": 0.5}, "showscale": True,
                    "colorbar": {"title": {"text": "kPa", "side": "top"}, "len": 0.9, "thickness": 14}}},
    ]
    layout = {
        "template": _plot_template(), "barmode": "group", "height": 380,
        "title": {"text": "warm-up", "x": 0.01, "font": {"size": 12, "color": "#566573"}},
        "font": {"family": "DejaVu Sans, Arial, sans-serif", "size": 12},
        "margin": {"l": 55, "r": 20, "t": 60, "b": 80},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.16, "xanchor": "left", "x": 0.0},
        "xaxis": {"domain": [0.0, 0.42], "anchor": "y", "title": {"text": "stance (%)"}},
        "yaxis": {"domain": [0.0, 1.0], "anchor": "x", "title": {"text": "force (BW)"}},
        "xaxis2": {"domain": [0.58, 1.0], "anchor": "y2", "scaleanchor": "y2", "scaleratio": 1},
        "yaxis2": {"domain": [0.0, 1.0], "anchor": "x2", "matches": "y", "showticklabels": False},
        "shapes": [{"type": "rect", "xref": "x2", "yref": "paper", "x0": 10, "x1": 30, "y0": 0, "y1": 1,
                    "fillcolor": "#f5b7b1", "opacity": 0.3, "line": {"width": 0}}],
        "annotations": [{"text": "note", "xref": "paper", "yref": "paper", "x": 0.5, "y": 1.0, "showarrow": False,
                         "xanchor": "center", "yanchor": "bottom"}],
    }
    arguments = ", ".join(json.dumps(part, separators=(",", ":")) for part in (data, layout, _PLOT_CONFIG))
    return ('<div id="warm-up" class="plotly-graph-div" style="height:380px; width:100%;"></div>\n'
            f'<script>window.PLOTLYENV = window.PLOTLYENV || {{}}; Plotly.newPlot("warm-up", {arguments});</script>')


def _unrounded(value: Any) -> Any:
    """A number as the analysis holds it (None where the JSON has none: NaN, infinity)."""
    return value if isinstance(value, float) and math.isfinite(value) else None if isinstance(value, float) else value


# the key-number fields the page prints at the row's digits
_KEY_VALUES = {"left": "left", "right": "right", "session": "session", "symmetry_index_pct": "symmetry_index_pct",
               "difference_right_minus_left": "difference", "mean_of_feet": "mean_of_feet"}


def _page_data(report: Report) -> dict[str, Any]:
    """The report's content for the page: its JSON, with the key numbers' values unrounded. The JSON keeps 4
    decimals; printed again at 2 its 18.055 read "18.05" where the finding's text, from the unrounded 18.055029,
    read "18.06" (hunt16's stance-time variability): the page prints each number from the one float."""
    data = report.to_dict()
    data["key_numbers"] = [{**row, **{name: _unrounded(getattr(key, field)) for name, field in _KEY_VALUES.items()
                                      if row.get(name) is not None}}
                           for row, key in zip(data["key_numbers"], report.key_numbers)]
    data["outside_without_finding"] = [
        {**row, "values": {where: _unrounded(raw["values"].get(where)) if value is not None else None
                           for where, value in row["values"].items()}}
        for row, raw in zip(data["outside_without_finding"], report.outside_rows)]
    return data


def render_html(report: Report) -> str:
    """The page as a string."""
    template = _template()
    data = _page_data(report)
    # the figures read the analysis itself (insole.plot), with the recording's layout for the outlines
    analysis, layout = report.session.analysis, report.session.layout
    missing = plot.unavailable(analysis)
    lr = plot.region_shares(analysis, as_dict=True)
    curves = plot.force_curves(analysis, as_dict=True)
    cop = plot.cop_paths(analysis, layout, as_dict=True)
    maps = plot.load_maps(analysis, layout, as_dict=True)
    return template.render(
        r=data,
        plotlyjs=_plotlyjs(),
        chain=Markup(chain_svg(report.findings)),
        fig_lr=_figure_html(lr, "fig-left-right", missing.get("region_shares"),
                            what="Regional shares of the stance load:"),
        fig_curves=_figure_html(curves, "fig-force-curves", missing.get("force_curves")),
        fig_cop=_figure_html(cop, "fig-cop", missing.get("cop_paths")),
        cop_missing=bool(missing.get("cop_paths")),
        fig_maps=_figure_html(maps, "fig-load-maps", missing.get("load_maps")),
        # which figures are drawn: a flagged sensor's line stands under a drawn figure only (not under "not shown")
        drawn={"left-right": lr is not None, "force-curves": curves is not None, "cop": cop is not None,
               "load-maps": maps is not None},
        # the SPM comparisons computed by build_report; a comparison not done is one line with its reason
        fig_spm=_spm_html(report.stance_spm, "fig-stance-spm", "Where in stance the feet differ:"),
        fig_spm_baseline={side: _spm_html(c, f"fig-baseline-spm-{side}",
                                          f"Where in stance the {side} foot changed since the baseline:")
                          for side, c in report.baseline_spm.items()},
        butterfly=plot.BUTTERFLY_ASSUMPTIONS,
        fmt=_fmt,
        frame_label=lambda f: _FRAME_LABELS.get(f, f),
        joint_label=lambda j: JOINT_LABELS.get(j, j),
        sections=SECTIONS,
        clinic_section=CLINIC_SECTION,
        grade_colours=GRADE_COLOURS,
        grade_labels=GRADE_LABELS,
        confidence_levels=CONFIDENCE_LEVELS,
    )


def write_html(report: Report, path: str | Path, *, force: bool = False) -> Path:
    """Write the page to ``path`` (atomically: a temporary file beside it, renamed once complete).

    ``force=False`` refuses to replace an existing file (``OutputError``).
    """
    path = Path(path)
    page = render_html(report)  # built before anything is written
    with atomic_write(path, force=force) as handle:
        handle.write(page)
    return path

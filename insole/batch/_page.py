"""The cohort comparison as one self-contained HTML page (plotly.js inlined; nothing is fetched).

Sections: groups and what their numbers rest on; the distribution of every
key metric per group (box with every recording as a point); effect sizes
against the reference group (Hedges' g and Cliff's delta with their
intervals, as a forest plot and a table); the share of each finding per
group; notes, methods and provenance. The whole ``CohortComparison`` is
embedded as JSON (``<script id="cohort-data" type="application/json">``) so
the numbers behind every chart can be read back from the page itself; a
number that is not finite (an effect size of a group of one, a share of no
recordings) is ``null`` there, as in ``insole cohort --json``.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from insole.batch._cohort import CohortComparison

__all__ = ["cohort_page"]

# One colour per group (the reference first), distinguishable in print and for common colour-vision deficiencies.
_COLOURS = ("#4d4d4d", "#d55e00", "#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442")
_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
        "font-src data:")


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element; NaN and infinities become null (JSON has no such numbers)."""
    from plotly.utils import PlotlyJSONEncoder

    text = (json.dumps(_finite_or_null(value), cls=PlotlyJSONEncoder, allow_nan=False)
            if not isinstance(value, str) else value)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _finite_or_null(value: Any) -> Any:
    """``value`` with every non-finite float (numpy arrays and scalars included) replaced by None."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, Mapping):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _colour(comparison: CohortComparison, group: str) -> str:
    return _COLOURS[comparison.groups.index(group) % len(_COLOURS)]


def _distribution_figure(comparison: CohortComparison, spec) -> dict[str, Any]:
    import plotly.graph_objects as go  # plotly only when a page is drawn ([batch] extra)

    values = comparison.values[comparison.values["metric"] == spec.column]
    fig = go.Figure()
    for group in comparison.groups:
        part = values[values["group"] == group]
        fig.add_trace(go.Box(
            y=part["value"].tolist(), name=f"{group} (n={len(part)})", text=part["recording_id"].tolist(),
            boxpoints="all", jitter=0.35, pointpos=0, marker={"color": _colour(comparison, group), "size": 6},
            line={"color": _colour(comparison, group)}, hovertemplate="%{text}: %{y:.3g}<extra></extra>",
        ))
    fig.update_layout(
        title=_title_below_toolbar(f"{spec.label} ({spec.unit})"), showlegend=False,
        margin={"l": 50, "r": 10, "t": _TOP_PX, "b": 40}, height=300 + _TOP_PX - 40, template="plotly_white",
        yaxis={"title": {"text": spec.unit}},
    )
    return fig.to_plotly_json()


# The plot toolbar shows in the top 26 px of a figure, at its right: each title sits just above its plot, below that
# band (a title at the top of the figure was covered by the toolbar on the narrow box plots).
_TOP_PX = 64


def _title_below_toolbar(text: str, above_legend_px: int = 0) -> dict[str, Any]:
    return {"text": text, "font": {"size": 14}, "x": 0, "xanchor": "left", "xref": "paper", "y": 1,
            "yref": "paper", "yanchor": "bottom", "pad": {"b": 6 + above_legend_px}}


def _forest_figure(comparison: CohortComparison, measure: str, title: str, axis: str) -> dict[str, Any]:
    import plotly.graph_objects as go  # plotly only when a page is drawn ([batch] extra)

    effects = comparison.effects
    labels = {m.column: m.label for m in comparison.metrics}
    order = [m.column for m in comparison.metrics][::-1]
    others = comparison.groups[1:]
    # each group's marker a little above or below the metric's line, so intervals do not hide each other
    step = 0.6 / max(len(others), 1)
    fig = go.Figure()
    for k, group in enumerate(others):
        part = effects[effects["group"] == group].set_index("metric").reindex(order)
        centre = part[measure].astype(float)
        offset = (k - (len(others) - 1) / 2) * step
        fig.add_trace(go.Scatter(
            x=centre.tolist(), y=[i + offset for i in range(len(order))], mode="markers",
            name=f"{group} vs {comparison.reference}", text=[labels[m] for m in order],
            marker={"color": _colour(comparison, group), "size": 8},
            error_x={"type": "data", "symmetric": False,
                     "array": (part[f"{measure}_ci_high"] - centre).tolist(),
                     "arrayminus": (centre - part[f"{measure}_ci_low"]).tolist(),
                     "color": _colour(comparison, group), "thickness": 1.5, "width": 3},
            hovertemplate="%{text}: %{x:.2f}<extra>" + html.escape(group) + "</extra>",
        ))
    fig.add_vline(x=0, line={"color": "#999", "dash": "dot"})
    fig.update_layout(
        title=_title_below_toolbar(title, above_legend_px=26), template="plotly_white",
        height=150 + 30 * len(order), margin={"l": 230, "r": 20, "t": _TOP_PX + 40, "b": 50},
        xaxis={"title": {"text": axis}, "zeroline": False},
        yaxis={"tickmode": "array", "tickvals": list(range(len(order))), "ticktext": [labels[m] for m in order],
               "range": [-0.6, len(order) - 0.4]},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
    )
    return fig.to_plotly_json()


def _findings_figure(comparison: CohortComparison) -> dict[str, Any] | None:
    import plotly.graph_objects as go  # plotly only when a page is drawn ([batch] extra)

    shares = comparison.findings
    if shares.empty or not (shares["n_assessed"] > 0).any():
        return None
    codes = [c for c in dict.fromkeys(shares["code"]) if (shares.loc[shares["code"] == c, "n_assessed"] > 0).any()]
    fig = go.Figure()
    for group in comparison.groups:
        part = shares[shares["group"] == group].set_index("code").reindex(codes)
        fig.add_trace(go.Bar(
            x=codes, y=(100 * part["share_flagged"].astype(float)).tolist(), name=group,
            marker={"color": _colour(comparison, group)},
            customdata=list(zip(part["n_flagged"].tolist(), part["n_assessed"].tolist())),
            hovertemplate="%{x}: %{y:.0f}% (%{customdata[0]} of %{customdata[1]} assessed)<extra>"
            + html.escape(group) + "</extra>",
        ))
    fig.update_layout(
        barmode="group", template="plotly_white", height=360 + _TOP_PX - 40,
        margin={"l": 50, "r": 10, "t": _TOP_PX, "b": 120},
        title=_title_below_toolbar("Recordings flagged, % of those the rule could be applied to"),
        yaxis={"title": {"text": "% flagged"}, "range": [0, 100]},
    )
    return fig.to_plotly_json()


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def cohort_page(comparison: CohortComparison, title: str | None = None) -> str:
    """The HTML page (a string; write it with UTF-8)."""
    from plotly.offline import get_plotlyjs

    group_by = comparison.params.group_by
    title = title or f"Cohort comparison by {group_by}"
    esc = html.escape
    figures: list[tuple[str, dict[str, Any]]] = []

    sizes = ", ".join(f"<b>{esc(g)}</b> n={comparison.group_sizes[g]}" for g in comparison.groups)
    parts = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="lead">Groups by <code>{esc(group_by)}</code>: {sizes}. Reference group: '
        f"<b>{esc(comparison.reference)}</b>. Positive effect sizes: the group is higher than the reference.</p>",
    ]
    if comparison.notes:
        parts.append('<div class="notes">' + "".join(f"<p>{esc(n)}</p>" for n in comparison.notes) + "</div>")

    quality_rows = [[esc(r["group"]), str(r["n_recordings"]), _fmt(r["median_strides_used"], 0),
                     _fmt(r["median_valid_fraction_worse_foot"], 3), _fmt(r["median_low_confidence_events"], 0),
                     str(r["recordings_with_quality_notes"])] for r in comparison.quality.to_dict("records")]
    parts += ["<h2>What the numbers rest on</h2>",
              _table(["group", "recordings", "median strides used (both feet)", "median valid fraction (worse foot)",
                      "median low-confidence events", "recordings with quality notes"], quality_rows)]

    parts.append("<h2>Distributions</h2><p>Each point is one recording; boxes show the median and quartiles.</p>"
                 '<div class="grid">')
    for k, spec in enumerate(comparison.metrics):
        div = f"dist-{k}"
        parts.append(f'<div class="plot" id="{div}" data-metric="{esc(spec.column)}"></div>')
        figures.append((div, _distribution_figure(comparison, spec)))
    parts.append("</div>")

    if len(comparison.groups) > 1 and not comparison.effects.empty:
        parts.append("<h2>Effect sizes against the reference group</h2>")
        parts.append(
            '<div class="grid2"><div class="plot" id="forest-g"></div><div class="plot" id="forest-delta"></div></div>'
        )
        confidence = f"{100 * comparison.params.confidence:g}%"
        figures.append(("forest-g", _forest_figure(comparison, "hedges_g", f"Hedges' g, {confidence} CI (analytic)",
                                                   "Hedges' g (SD units)")))
        figures.append(("forest-delta", _forest_figure(
            comparison, "cliffs_delta", f"Cliff's delta, {confidence} CI (bootstrap)", "Cliff's delta (-1 to 1)")))
        stats = comparison.stats.set_index(["metric", "group"])
        rows = []
        for effect in comparison.effects.to_dict("records"):
            spec = next(m for m in comparison.metrics if m.column == effect["metric"])
            g, ref = stats.loc[(spec.column, effect["group"])], stats.loc[(spec.column, effect["reference"])]
            rows.append([
                f"{esc(spec.label)} ({esc(spec.unit)})", esc(effect["group"]),
                f"{_fmt(g['median'])} ({_fmt(g['q1'])}–{_fmt(g['q3'])}), n={int(g['n'])}",
                f"{_fmt(ref['median'])} ({_fmt(ref['q1'])}–{_fmt(ref['q3'])}), n={int(ref['n'])}",
                f"{_fmt(effect['hedges_g'])} [{_fmt(effect['hedges_g_ci_low'])}, {_fmt(effect['hedges_g_ci_high'])}]",
                f"{_fmt(effect['cliffs_delta'])} [{_fmt(effect['cliffs_delta_ci_low'])}, "
                f"{_fmt(effect['cliffs_delta_ci_high'])}]",
            ])
        parts.append(_table(["metric", "group", "group median (IQR)", f"{esc(comparison.reference)} median (IQR)",
                             f"Hedges' g [{confidence} CI]", f"Cliff's delta [{confidence} CI]"], rows, "effects"))

    parts.append("<h2>Findings per group</h2>")
    findings_fig = _findings_figure(comparison)
    if findings_fig is None:
        parts.append("<p>No finding could be assessed in these recordings (or the batch ran without findings).</p>")
    else:
        parts.append('<div class="plot" id="findings"></div>')
        figures.append(("findings", findings_fig))
        shares = comparison.findings
        rows = []
        for code in dict.fromkeys(shares["code"]):
            cells = [f"<code>{esc(code)}</code>"]
            for group in comparison.groups:
                r = shares[(shares["code"] == code) & (shares["group"] == group)].iloc[0]
                if r["n_assessed"]:
                    cells.append(f"{r['n_flagged']} / {r['n_assessed']} ({100 * r['share_flagged']:.0f}%)"
                                 f"; confidence moderate+ {r['n_moderate_or_high']}")
                else:
                    cells.append("not assessable")
            rows.append(cells)
        parts.append(_table(["finding"] + [esc(g) for g in comparison.groups], rows))
        parts.append("<p>Flagged / assessed: a rule that cannot be applied to a recording (a sensor layout "
                     "without that region, uncalibrated forces, too few steps) counts as not assessed, never as "
                     "not flagged. Confidence moderate+ counts the flagged recordings whose finding has moderate or "
                     "high confidence (how much it can be trusted, not how severe it is). Findings inform; they do "
                     "not diagnose.</p>")

    params = comparison.params
    batch = comparison.provenance or {}
    methods = (
        f"Groups from <code>{esc(group_by)}</code>; reference <b>{esc(comparison.reference)}</b>. Per metric: "
        "Hedges' g (difference of means over the pooled SD, small-sample corrected) with the analytic interval "
        "of Hedges &amp; Olkin (1985); Cliff's delta (P(group &gt; reference) − P(group &lt; reference)) with a "
        f"percentile bootstrap interval of {params.bootstrap} resamples within each group (seed {params.seed}). "
        "Asymmetries are compared as |symmetry index|. The stride-time robust CV is 1.4826 × MAD / median of "
        "the used strides, which a few split contacts or turns do not inflate."
    )
    parts += ["<h2>Methods and provenance</h2>", f"<p>{methods}</p>"]
    prov_rows = [
        ["cohort table", esc(str(batch.get("source", "")))],
        ["insole version (batch)", esc(str(batch.get("version", "")))],
        ["analysis parameters", f"<code>{esc(json.dumps(batch.get('analysis_parameters', {})))}</code>"],
        ["batch inputs", esc(", ".join(map(str, batch.get("inputs", []))))],
        ["recordings in the table", esc(str(batch.get("counts", {})))],
    ]
    if comparison.join is not None:
        join = comparison.join
        prov_rows.append(["group labels", f"{esc(join.path)}: column <code>{esc(join.on)}</code> matched to the "
                          f"cohort's <code>{esc(join.key)}</code>; {join.matched} recordings matched"
                          + (f"; unmatched: {esc(', '.join(join.unmatched_recordings))}"
                             if join.unmatched_recordings else "")])
    if comparison.excluded:
        prov_rows.append(["left out (no group)", esc(", ".join(comparison.excluded))])
    prov_rows.append(["comparison parameters", f"<code>{esc(json.dumps(params.to_dict()))}</code>"])
    parts.append(_table(["", ""], prov_rows, "provenance"))

    data = _script_json(comparison.to_dict())
    plots = _script_json([{"id": div, "figure": fig} for div, fig in figures])
    style = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1280px;color:#222;
padding:0 16px}
h1{font-size:22px;margin:0 0 6px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.lead{color:#444} .notes{background:#fff6e0;border-left:4px solid #e69f00;padding:4px 12px;margin:12px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:10px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:10px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4} code{font-size:12px;word-break:break-all}
table.provenance td:first-child{white-space:nowrap;font-weight:600}
@media print{.grid,.grid2{display:block}}
"""
    boot = (
        "(function(){var plots=" + plots + ";window.__cohortErrors=[];var drawn=0;"
        "plots.forEach(function(p){try{Plotly.newPlot(p.id,p.figure.data,p.figure.layout,"
        "{responsive:true,displaylogo:false});drawn++;}catch(e){window.__cohortErrors.push(String(e));}});"
        "window.__cohortPlotsDrawn=drawn;})();"
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{style}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        + "\n".join(parts)
        + f'<script type="application/json" id="cohort-data">{data}</script>'
        + f"<script>{boot}</script></body></html>\n"
    )

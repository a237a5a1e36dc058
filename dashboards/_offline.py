"""The offline session dashboard: one self-contained HTML file per recorded session.

``write_dashboard(recording, path, analysis=...)`` writes a single HTML file
that works with no network: plotly.js, our scripts and the session's data are
all inside it. It shows

* the load of both feet over the whole session (zoomable) with heel strikes,
  toe offs, marks and gaps;
* a pressure-map player that scrubs the whole session (every sample, or as
  many as the size budget allows), synchronised with the load chart;
* peak, mean and pressure-time-integral maps on the insole outline (the
  analysis' per-sensor maps: ``Analysis.sensor_maps``);
* the per-stride table and the figures of the analysis, each drawn by ``insole.plot``
  as in the report: mean +/- SD stance curves per foot
  (``force_curves``, with the COP panels), the COP paths and the butterfly
  (``cop_paths``), the left/right symmetry indices (``symmetry_indices``) and
  the regional load shares (``region_shares``);
* data quality and provenance (software version, parameters, input);
* for a clinic test (phase marks, ``meta.extra["clinic_test"]``): its phases
  shaded and labelled on the load chart, and a card with the test, its status
  (complete, or incomplete and why) and its measures.

How the pressure maps are stored: once, compactly. Every frame is one byte per
sensor (square-root companding between the session's lowest and highest value:
fine steps at low pressure, code 255 = no data) for both feet, base64 in the page and decoded in the browser into a
``Uint8Array``; the player draws them on a canvas. Plotly animation frames
(one figure per frame) do not scale to a session and are not used.

Text from the recording (subject, notes, marks, sensor names) is never
inserted as HTML: it travels as JSON (with ``<``, ``>`` and ``&`` escaped) and
the page sets it with ``textContent``.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import errno
import html
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from dashboards._assets import STATIC_DIR, plotly_js_path
from dashboards._footmap import foot_grid
from dashboards._signals import load_scale, total_load
from insole import InsoleError, OutputError, Recording, __version__, plot
from insole.analysis import metric_unit

__all__ = ["DashboardParams", "build_dashboard", "write_dashboard", "dashboard_payload", "clinic_phases"]

_MISSING_CODE = 255
_FULL_SCALE_CODE = 254


@dataclass(frozen=True)
class DashboardParams:
    """What goes into the offline dashboard and how big it may get.

    ``player_budget_bytes``: bytes of quantised pressure frames (both feet);
    the player keeps every sample when that fits, else a regular subsample.
    """

    player_budget_bytes: int = 3_000_000
    title: str | None = None

    def __post_init__(self) -> None:
        if self.player_budget_bytes < 10_000:
            raise ValueError("player_budget_bytes must be at least 10 kB")


# ------------------------------------------------------------------ helpers


def _finite(value: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python, recursively."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def _script_json(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no <, >, & characters)."""
    text = json.dumps(_finite(data), allow_nan=False, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _layout(**extra: Any) -> go.Layout:
    base = dict(
        template=go.layout.Template(),
        font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", size=12, color="#1f2937"),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff",
        margin=dict(l=60, r=16, t=16, b=44),
        hoverlabel=dict(font=dict(size=12)),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0),
    )
    base.update(extra)
    return go.Layout(**base)


def _axis(**extra: Any) -> dict[str, Any]:
    return {**dict(gridcolor="#eef2f7", zeroline=False, linecolor="#94a3b8", ticks="outside", tickcolor="#94a3b8"),
            **extra}


def _regular(time_s: np.ndarray, rate_hz: float) -> bool:
    if time_s.size < 2:
        return True
    expected = time_s[0] + np.arange(time_s.size) / rate_hz
    return bool(np.max(np.abs(time_s - expected)) < 0.25 / rate_hz)


# ------------------------------------------------------------------ stance intervals and maps


def integral_title(unit: str) -> str:
    """The time-integral map's title by what the sensors measure, as the report's maps name it: a pressure-time
    integral only for pressures (kPa); forces (N, gaitpdb) give a force-time integral, au a load-time integral."""
    return {"kPa": "Pressure-time integral (per step)", "N": "Force-time integral (per step)"}.get(
        unit, "Load-time integral (per step)")


def _pressure_maps(recording: Recording, side: str, analysis: Any) -> tuple[dict[str, np.ndarray], int]:
    """The analysis' per-sensor peak, stance-mean and time-integral maps of one foot, and its stance count.

    Each is the mean over the stances the analysis used (``Analysis.sensor_maps``,
    in the recording's unit); without an analysis there are no maps (NaN).
    """
    n = recording.layout.n_sensors
    if analysis is None or side not in analysis.sensors:
        nan = np.full(n, np.nan)
        return {"peak": nan, "mean": nan.copy(), "pti": nan.copy()}, 0
    maps = analysis.sensor_maps(side)
    steps = analysis.steps[side]
    stances = int(steps["used"].sum()) if "used" in steps else 0
    return {"peak": maps["peak"], "mean": maps["mean"], "pti": maps["integral"]}, stances


# ------------------------------------------------------------------ the player's frames


def _player_frames(recording: Recording, params: DashboardParams) -> dict[str, Any]:
    """All feet's pressure frames on one regular clock, one companded byte per sensor."""
    sides = recording.sides
    n_sensors = recording.layout.n_sensors
    starts = [recording.samples(s).time_s[0] for s in sides]
    ends = [recording.samples(s).time_s[-1] for s in sides]
    t0, t1 = float(min(starts)), float(max(ends))
    fs = recording.sample_rate_hz
    duration = max(t1 - t0, 1.0 / fs)
    every_sample = int(round(duration * fs)) + 1
    affordable = max(2, params.player_budget_bytes // (len(sides) * n_sensors))
    if every_sample <= affordable:
        n_frames, rate = every_sample, float(fs)
    else:
        n_frames = int(affordable)
        rate = (n_frames - 1) / duration
    frame_t = t0 + np.arange(n_frames) / rate
    # the scale runs from 0 (or the lowest value, for signals that go negative) to the highest value
    vmin, vmax = 0.0, 0.0
    for s in sides:
        foot = recording.samples(s)
        finite = foot.values[foot.valid]
        if finite.size and np.isfinite(finite).any():
            vmax = max(vmax, float(np.nanmax(finite)))
            vmin = min(vmin, float(np.nanmin(finite)))
    if vmax <= vmin:
        vmax = vmin + 1.0
    blobs = {}
    for s in sides:
        foot = recording.samples(s)
        nearest = np.clip(np.searchsorted(foot.time_s, frame_t), 0, foot.n_samples - 1)
        before = np.clip(nearest - 1, 0, foot.n_samples - 1)
        pick = np.where(np.abs(foot.time_s[before] - frame_t) < np.abs(foot.time_s[nearest] - frame_t), before, nearest)
        too_far = np.abs(foot.time_s[pick] - frame_t) > 0.75 / fs
        values = foot.values[pick].astype(np.float64)
        missing = (~foot.valid[pick] | too_far)[:, None] | ~np.isfinite(values)
        codes = np.rint(np.sqrt((np.clip(values, vmin, vmax) - vmin) / (vmax - vmin)) * _FULL_SCALE_CODE)
        codes = np.where(missing, _MISSING_CODE, codes).astype(np.uint8)
        blobs[s] = _b64(codes)
    return {
        "t0_s": t0,
        "rate_hz": rate,
        "n_frames": n_frames,
        "n_sensors": n_sensors,
        "full_scale": vmax,
        "zero_scale": vmin,
        "full_scale_code": _FULL_SCALE_CODE,
        "missing_code": _MISSING_CODE,
        "companding": "sqrt",
        "every_sample": bool(rate >= fs * 0.999),
        "frames": blobs,
    }


# ------------------------------------------------------------------ clinic tests

# light, distinct fills; one per phase name (a name that comes back, such as "seated", keeps its colour)
_PHASE_FILLS = ("#bfdbfe", "#fde68a", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fed7aa", "#a5f3fc", "#d9f99d",
                "#fecaca", "#e5e7eb")
_PHASE_OPACITY = 0.55
_PHASE_END_LABEL = "end"
_LABEL_PX_PER_CHAR = 6.5  # 10 px system-ui, about; decides whether a band's label fits across it
_CHART_WIDTH_PX = 1300.0  # the load chart's usual plotting width on a desktop screen


def clinic_phases(recording: Recording) -> list[dict[str, Any]]:
    """The clinic test's phases from the recording's phase marks, in time order.

    Each phase runs from its mark to the next phase mark; a mark labelled
    ``"end"`` closes the last one. A last phase with no ``"end"`` runs to the
    end of the recording (``closed`` is False). Times in seconds, exactly the marks'.
    """
    marks = sorted((m for m in recording.marks if m.kind == "phase"), key=lambda m: m.time_s)
    names = [m.label for m in marks if m.label != _PHASE_END_LABEL]
    fills = {name: _PHASE_FILLS[i % len(_PHASE_FILLS)] for i, name in enumerate(dict.fromkeys(names))}
    phases = []
    for mark, after in zip(marks, [*marks[1:], None]):
        if mark.label == _PHASE_END_LABEL:
            continue
        end_s = (after.time_s if after is not None
                 else max(float(recording.samples(s).time_s[-1]) for s in recording.sides))
        phases.append({"name": mark.label, "start_s": float(mark.time_s), "end_s": float(end_s),
                       "closed": after is not None, "fill": fills[mark.label]})
    return phases


def _phase_text(name: str) -> str:
    return name.replace("_", " ")


def _clinic_result(recording: Recording) -> dict[str, Any] | None:
    """What the clinic card shows: the stored result's test, status, reasons, measures and comparisons."""
    result = recording.meta.extra.get("clinic_test") if isinstance(recording.meta.extra, dict) else None
    if not isinstance(result, dict):
        return None
    raw_measures = result.get("measures")
    measures = raw_measures if isinstance(raw_measures, dict) else {}
    comparisons = [str(r["comparison"]) for r in result.get("references") or []
                   if isinstance(r, dict) and r.get("comparison")]
    return {
        "test": result.get("test"),
        "name": result.get("name"),
        "status": result.get("status"),
        "complete": result.get("complete"),
        "reasons": [str(r) for r in result.get("reasons") or []],
        "measures": {str(k): v for k, v in measures.items() if isinstance(v, (int, float, str, bool)) or v is None},
        "comparisons": comparisons,
        "found_by": {str(p.get("name")): p.get("found_by") for p in result.get("phases") or [] if isinstance(p, dict)},
    }


def _phase_shapes(phases: list[dict[str, Any]], duration_s: float) -> tuple[list[dict], list[dict]]:
    """A shaded band per phase (below the curves, one legend entry per phase name) and its label."""
    shapes, annotations, named = [], [], set()
    for phase in phases:
        label = _phase_text(phase["name"])
        width_px = (phase["end_s"] - phase["start_s"]) / max(duration_s, 1e-9) * _CHART_WIDTH_PX
        across = width_px >= _LABEL_PX_PER_CHAR * len(label) + 4
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=phase["start_s"], x1=phase["end_s"], y0=0, y1=1,
                           fillcolor=phase["fill"], opacity=_PHASE_OPACITY, line=dict(width=0), layer="below",
                           name=f"phase: {label}", legendgroup=f"phase:{phase['name']}", legend="legend",
                           showlegend=phase["name"] not in named))
        named.add(phase["name"])
        annotations.append(dict(x=(phase["start_s"] + phase["end_s"]) / 2, y=0.985, xref="x", yref="paper",
                                text=html.escape(label), showarrow=False, yanchor="top",
                                textangle=0 if across else -90, font=dict(size=10, color="#334155"),
                                name=f"phase: {label}"))
    return shapes, annotations


# ------------------------------------------------------------------ the load as analysed

_VENDOR_FORCE = "vendor_total_force_n"


@dataclass(frozen=True)
class _AsAnalysed:
    """Each foot's load as the analysis uses it, with what the axis and the note say about it."""

    loads: dict[str, np.ndarray]
    unit: str
    label: str
    axis_label: str
    offsets: dict[str, float]
    note: str


def _as_analysed(recording: Recording, analysis: Any, scale: Any, loads: dict[str, np.ndarray]) -> _AsAnalysed:
    """The load of each foot as the analysis uses it: its force source, less its zero offset.

    The analysis' total force is either the sum the dashboard draws (the sensor values, or pressure x area)
    or the source's own total-force channel (N); it subtracts each foot's median mid-swing level from it.
    The raw values stay in the file (the player's frames); this is what the load chart and readouts show.
    Without an analysis, or for a force source the page cannot rebuild, the raw sums are shown as they are.
    """
    raw = _AsAnalysed(loads, scale.unit, scale.label, scale.axis_label, {}, "")
    if analysis is None or any(side not in analysis.quality for side in recording.sides):
        return raw
    sources = {str(analysis.quality[side].get("force_source", "")) for side in recording.sides}
    if len(sources) != 1:
        return raw
    source = sources.pop()
    out: dict[str, np.ndarray] = {}
    if source.startswith("the source's total-force channel"):
        unit, label, axis = "N", "total force (N, the recording's own total-force channel)", "force (N)"
        for side in recording.sides:
            foot = recording.samples(side)
            channel = foot.channels.get(_VENDOR_FORCE)
            if channel is None:
                return raw
            out[side] = np.where(foot.valid, np.asarray(channel, dtype=np.float64), np.nan)
    elif source.startswith("sum of"):
        unit, label, axis = scale.unit, scale.label, scale.axis_label
        out = dict(loads)
    else:
        return raw
    offsets: dict[str, float] = {}
    for side in recording.sides:
        quality = analysis.quality[side]
        if not quality.get("zero_offset_applied"):
            continue
        if (quality.get("force_unit") == "N") != (unit == "N"):
            return raw  # the analysis' force is not the quantity drawn here: raw values rather than a guess
        offsets[side] = float(quality["zero_offset_force"])
        out[side] = out[side] - offsets[side]
    note = ""
    if offsets:
        word = "au" if unit == "kPa" else unit  # the analysis calls a sum of pressures of unknown areas au
        note = ("zero offset subtracted, as in the analysis (each foot's median mid-swing level): "
                + ", ".join(f"{side} {offsets[side]:.4g} {word}" for side in recording.sides if side in offsets))
        axis = f"{axis}, less zero offset"
        label = f"{label}, less the zero offset"
    return _AsAnalysed(out, unit, label, axis, offsets, note)


# ------------------------------------------------------------------ figures


_MAX_GAP_SHAPES = 300


def _gap_spans(recording: Recording) -> list[tuple[float, float]]:
    """Gaps of either foot as shaded spans; close ones merged so a lossy session stays drawable."""
    half = 0.5 / recording.sample_rate_hz
    spans = sorted((start - half, end + half)
                   for side in recording.sides for start, end, _ in recording.samples(side).gaps())
    join_s = 0.0
    while True:
        merged: list[list[float]] = []
        for start, end in spans:
            if merged and start - merged[-1][1] <= join_s:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        if len(merged) <= _MAX_GAP_SHAPES:
            return [(a, b) for a, b in merged]
        join_s = max(0.1, join_s * 2)


def _force_view(recording: Recording, loads: dict[str, np.ndarray], scale_label: str,
                analysis: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The load chart's figure (traces filled by the page) and its data: every sample, base64 float32.

    The page draws a min/max-decimated view of the visible range (a few thousand
    points) and redraws it from the full data on every zoom, so the whole session
    opens fast and every sample is there when zoomed in.
    """
    fig = go.Figure(layout=_layout(
        xaxis=_axis(title=dict(text="time (s)")),
        yaxis=_axis(title=dict(text=scale_label), rangemode="tozero"),
        hovermode="x",
        dragmode="zoom",
        margin=dict(l=64, r=16, t=28, b=44),
    ))
    data: dict[str, Any] = {"sides": {}, "events": {}}
    for side in recording.sides:
        foot = recording.samples(side)
        regular = _regular(foot.time_s, recording.sample_rate_hz)
        entry = {
            "load": _b64(loads[side].astype(np.float32)),
            "n": int(foot.n_samples),
            "t0_s": float(foot.time_s[0]),
            "dt_s": 1.0 / recording.sample_rate_hz,
            "time": None if regular else _b64(foot.time_s.astype(np.float64)),
        }
        data["sides"][side] = entry
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=f"{side} load",
                                 line=dict(color=plot.SIDE_COLOURS[side], width=1.3),
                                 connectgaps=False, hovertemplate=f"{side}: %{{y:.0f}}<extra></extra>"))
    for side in recording.sides:
        if analysis is None:
            continue
        events = analysis.events[side]
        data["events"][side] = {"hs": np.round(np.asarray(events.heel_strike_s, float), 4).tolist(),
                                "to": np.round(np.asarray(events.toe_off_s, float), 4).tolist()}
        for kind, symbol in (("heel strike", "triangle-up"), ("toe off", "triangle-down")):
            fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name=f"{side} {kind}",
                                     marker=dict(symbol=symbol, size=8, color=plot.SIDE_COLOURS[side],
                                                 line=dict(color="#ffffff", width=1)),
                                     hovertemplate=f"{side} {kind} %{{x:.2f}} s<extra></extra>"))
    shapes, annotations = _phase_shapes(clinic_phases(recording), recording.duration_s)
    for start, end in _gap_spans(recording):
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=start, x1=end, y0=0, y1=1,
                           fillcolor="rgba(148,163,184,0.4)", line=dict(width=0), layer="below"))
    for number, mark in enumerate(recording.marks, start=1):
        if mark.kind == "phase":  # a phase band's edge already shows it
            continue
        shapes.append(dict(type="line", xref="x", yref="paper", x0=mark.time_s, x1=mark.time_s, y0=0, y1=1,
                           line=dict(color="#7c3aed", width=1.5, dash="dot")))
        annotations.append(dict(x=mark.time_s, y=1, xref="x", yref="paper", text=str(number), showarrow=False,
                                yanchor="bottom", font=dict(color="#7c3aed", size=11)))
    fig.update_layout(shapes=shapes, annotations=annotations)
    return fig.to_plotly_json(), data


# The plot heights of the page (dashboards/_static/offline.css: .plot.curves, .butterfly, .sym, .regions).
_HEIGHTS_PX = {"curves": 380, "butterfly": 420, "symmetry": 300, "regions": 230}
# The regional shares shown: the four groups that share out the whole foot (their finer splits are in the report).
_REGION_GROUPS = ("heel", "midfoot", "forefoot", "toes")


def _in_card(fig: dict[str, Any], legend_on_top: bool = False) -> dict[str, Any]:
    """An ``insole.plot`` figure (plotly's figure dict) as the page embeds it: the card's heading names it, so no
    title of its own.

    Only the layout changes (the traces are the ``insole.plot`` ones); a short figure gets its legend on top,
    clear of its tick labels. (As plotly's ``update_layout`` would: the title emptied, the margin and the
    legend merged; the figures come as dicts, ``as_dict=True``, because building plotly's objects cost some
    0.4 s of the dashboard.)
    """
    layout = fig["layout"]
    layout["title"] = {}  # (plotly's update_layout(title=None) leaves an empty title, which draws nothing)
    # the top margin keeps the plot toolbar (top right, about 26 px) above the subplot titles and the legend
    layout["margin"] = {**layout.get("margin", {}), "t": 56, "b": 60}
    layout["paper_bgcolor"] = "rgba(0,0,0,0)"
    if legend_on_top:
        layout["legend"] = {**layout.get("legend", {}), "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0}
    return fig


def _analysis_figures(recording: Recording, analysis: Any) -> tuple[dict[str, Any], str]:
    """The figures of the analysis, each the ``insole.plot`` figure of the same name; and the COP note."""
    if analysis is None:
        return dict.fromkeys(_HEIGHTS_PX), "the gait analysis is not available"
    figures = {
        "curves": plot.force_curves(analysis, cop=True, height_px=_HEIGHTS_PX["curves"], as_dict=True),
        "butterfly": plot.cop_paths(analysis, recording.layout, height_px=_HEIGHTS_PX["butterfly"], as_dict=True),
        "symmetry": plot.symmetry_indices(analysis, height_px=_HEIGHTS_PX["symmetry"], as_dict=True),
        "regions": plot.region_shares(analysis, groups=_REGION_GROUPS, height_px=_HEIGHTS_PX["regions"],
                                      as_dict=True),
    }
    if figures["butterfly"] is None:
        reason = plot.unavailable(analysis).get("cop_paths", "")
        note = re.sub(r"^no centre of pressure: ", "", reason)  # the page says "No centre of pressure: " itself
    else:
        assumed = plot.BUTTERFLY_ASSUMPTIONS
        note = ("COP paths: measured, the mean stance of each foot (left foot mirrored). Butterfly: reconstructed — "
                "insoles do not measure where the feet are, so each foot is placed "
                f"{assumed['step_width_mm']:.0f} mm apart and moved backward at a nominal "
                f"{assumed['walking_speed_m_s']} m/s while in stance, as on a treadmill; only its shape within "
                "each foot is measured.")
    return {name: None if fig is None else _in_card(fig, legend_on_top=name == "regions")
            for name, fig in figures.items()}, note


# ------------------------------------------------------------------ flagged sensors

# The region groups of each flagged sensor the page lists (of those the analysis gives it: ``regions``), and the
# left/right table's metrics (``plot.SYMMETRY_METRICS``) -> the region groups whose sensors they rest on; None: the
# whole foot's load (forces, centre of pressure). As the report decides for the same measures
# (insole/report/_build.py, SENSOR_DEPENDENT); timing rests on no one sensor.
_FLAG_REGIONS = ("heel", "midfoot", "forefoot", "toes", "hallux", "lesser_toes")
_SENSOR_DEPENDENT: dict[str, tuple[str, ...] | None] = {
    **dict.fromkeys(("max_force_n", "first_peak_n", "second_peak_n", "impulse_n_s", "loading_rate_n_s",
                     "cop_path_length_mm"), None),
    "heel_share_pct": ("heel",), "midfoot_share_pct": ("midfoot",), "forefoot_share_pct": ("forefoot",),
    "toes_share_pct": ("toes",),
}


def _flagged_sensors(recording: Recording, analysis: Any) -> dict[str, list[dict[str, Any]]]:
    """Per foot, the sensors the analysis' quality checks flagged (``quality[side]["sensor_flags"]``) that a reader
    must know about (the analysis decides which: ``named``): name, index in the layout, status, what the check saw
    and the region groups it lies in (the analysis' ``regions``)."""
    if analysis is None:
        return {}
    names = list(recording.layout.sensor_names)
    out: dict[str, list[dict[str, Any]]] = {}
    for side in recording.sides:
        flags = [f for f in (analysis.quality.get(side, {}).get("sensor_flags") or []) if isinstance(f, dict)]
        rows = []
        for flag in (f for f in flags if f.get("named", True)):
            name = str(flag.get("sensor"))
            index = names.index(name) if name in names else None
            rows.append({"sensor": name, "index": index, "status": str(flag.get("status") or "flagged"),
                         "detail": str(flag.get("detail") or ""),
                         "regions": [g for g in _FLAG_REGIONS if g in flag.get("regions", ())]})
        if rows:
            out[side] = rows
    return out


def _rests_on(flagged: dict[str, list[dict[str, Any]]], metric: str) -> dict[str, list[str]]:
    """The flagged sensors of each foot that the table's ``metric`` rests on (empty when none)."""
    if metric not in _SENSOR_DEPENDENT:
        return {}
    groups = _SENSOR_DEPENDENT[metric]
    return {side: hit for side, rows in flagged.items()
            if (hit := [r["sensor"] for r in rows if groups is None or set(r["regions"]) & set(groups)])}


# A force metric in newtons and its twin in body weights (the analysis gives both when a body weight is known)
_BW_TWINS = {"max_force_n": "max_force_bw", "first_peak_n": "first_peak_bw", "second_peak_n": "second_peak_bw",
             "impulse_n_s": "impulse_bw_s", "loading_rate_n_s": "loading_rate_bw_s"}


def _in_body_weights(analysis: Any) -> bool:
    """Whether the page's force figures are in body weights: a calibrated walk (not au) whose body weight is
    known (from a mass, or the walk's own load). The stride table, the left/right table and the stance curves all
    follow this one rule."""
    if analysis is None or analysis.unit == "au":
        return False
    value = analysis.summary.body_weight.get("value")
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _symmetry_rows(analysis: Any, flagged: dict[str, list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """The left/right table: the metrics of ``insole.plot.symmetry_indices``, in its order, with their means, and
    the flagged sensors each rests on (``_flagged_sensors``, per foot; {} when none)."""
    if analysis is None or len(analysis.sides) < 2:
        return []
    per_foot = analysis.summary.per_foot
    symmetry = analysis.summary.symmetry
    in_bw = _in_body_weights(analysis)
    rows = []
    for metric, label in plot.SYMMETRY_METRICS.items():
        rests_on = _rests_on(flagged or {}, metric)
        if metric not in symmetry.index and metric.replace("_n", "_au") in symmetry.index:
            metric = metric.replace("_n", "_au")  # an uncalibrated insole's twin, as the figure takes it
        elif in_bw and metric in _BW_TWINS and _BW_TWINS[metric] in symmetry.index:
            # in body weights, as the stride table and the stance curves on the same page (a loading rate of
            # 5224 N/s here beside 6.4 BW/s there read as two measures); the symmetry index is the same number
            metric = _BW_TWINS[metric]
        if metric not in symmetry.index:
            continue
        row: dict[str, Any] = {"metric": metric, "label": label, "unit": metric_unit(metric)}
        for side in ("left", "right"):
            row[f"{side}_mean"] = per_foot.at[metric, f"{side}_mean"] if f"{side}_mean" in per_foot else None
            row[f"{side}_sd"] = per_foot.at[metric, f"{side}_sd"] if f"{side}_sd" in per_foot else None
        row["symmetry_index_pct"] = symmetry.at[metric, "symmetry_index_pct"]
        row["difference"] = symmetry.at[metric, "difference"]
        row["flagged_sensors"] = rests_on
        rows.append(row)
    return rows


# ------------------------------------------------------------------ tables and facts


_STRIDE_COLUMNS = (
    ("stride", "#", ""),
    ("heel_strike_s", "heel strike", "s"),
    ("stride_time_s", "stride", "s"),
    ("stance_time_s", "stance", "s"),
    ("swing_time_s", "swing", "s"),
    ("stance_pct", "stance", "%"),
    ("double_support_pct", "double support", "%"),
    ("cadence_steps_per_min", "cadence", "steps/min"),
    ("max_force_bw", "peak force", "BW"),
    ("max_force_n", "peak force", "N"),
    ("max_force_au", "peak load", "au"),
    ("first_peak_bw", "1st peak", "BW"),
    ("second_peak_bw", "2nd peak", "BW"),
    ("impulse_bw_s", "impulse", "BW·s"),
    ("loading_rate_bw_s", "loading rate", "BW/s"),
    ("cop_path_length_mm", "COP path", "mm"),
    ("cpei_pct", "CPEI", "%"),
    ("heel_share_pct", "heel share", "%"),
    ("forefoot_share_pct", "forefoot share", "%"),
    ("used", "used", ""),
    ("exclusion_reason", "why not used", ""),
)


def _stride_tables(analysis: Any) -> dict[str, Any]:
    if analysis is None:
        return {}
    out: dict[str, Any] = {}
    for side in analysis.sides:
        table = analysis.strides[side]
        columns = [(c, label, unit) for c, label, unit in _STRIDE_COLUMNS if c in table.columns]
        # body-weight figures when body weight is known, newtons otherwise (not both); an uncalibrated walk (au)
        # has neither: its "body weight" is only its own mean load, so its figures stay in au
        uncalibrated = analysis.unit == "au"
        has_bw = _in_body_weights(analysis) and "max_force_bw" in table
        if uncalibrated:
            columns = [c for c in columns if not c[0].endswith(("_bw", "_bw_s", "_n"))]
        elif has_bw:
            columns = [c for c in columns if c[0] != "max_force_n"]
        else:
            columns = [c for c in columns if not c[0].endswith(("_bw", "_bw_s"))]
        rows = []
        for record in table[[c[0] for c in columns]].itertuples(index=False, name=None):
            rows.append([_finite(v) if not isinstance(v, str) else v for v in record])
        out[side] = {"columns": [{"key": c, "label": label, "unit": unit} for c, label, unit in columns], "rows": rows}
    return out


def _quality(recording: Recording, analysis: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for side in recording.sides:
        foot = recording.samples(side)
        gaps = foot.gaps()
        facts: dict[str, Any] = {
            "samples": foot.n_samples,
            "valid_pct": 100.0 * foot.valid_fraction,
            "gaps": len(gaps),
            "gap_total_s": float(sum(n for _, _, n in gaps) / recording.sample_rate_hz),
            "longest_gap_s": float(max((n for _, _, n in gaps), default=0) / recording.sample_rate_hz),
        }
        if analysis is not None and side in analysis.quality:
            q = analysis.quality[side]
            for key in ("n_sensors_used", "n_sensors", "force_source", "zero_offset", "contacts_detected",
                        "strides_detected", "strides_used", "strides_excluded", "event_confidence_mean",
                        "low_confidence_events", "sensor_flags", "notes"):
                if key in q:
                    facts[key] = q[key]
        out[side] = facts
    return out


def _describe(recording: Recording, analysis: Any, source: str | None, params: DashboardParams) -> dict[str, Any]:
    meta = recording.meta
    layout = recording.layout
    summary: dict[str, Any] = {}
    if analysis is not None:
        s = analysis.summary
        summary = {
            "cadence_steps_per_min": s.cadence_steps_per_min,
            "strides_used": dict(s.strides_used),
            "stride_time_cv_pct": dict(s.stride_time_cv_pct),
            # 1.4826 x MAD / median per foot: the figure insole analyze prints and the report's key numbers show
            "stride_time_robust_cv_pct": dict(s.stride_time_robust_cv_pct),
            "body_weight_source": s.body_weight.get("source"),
            # the body weight check's note (the walk's load far from mass x g): every figure in BW carries its error,
            # so the page shows it at the top and under the stance curves, not only in each foot's quality notes
            "body_weight_note": s.body_weight.get("note"),
            "in_body_weights": _in_body_weights(analysis),
            "stride_time_s": {side: s.metric("stride_time_s", side) for side in analysis.sides},
            "stance_pct": {side: s.metric("stance_pct", side) for side in analysis.sides},
            "standing": dict(s.standing) if s.standing else None,
        }
    return {
        "title": params.title or "Session dashboard",
        "subject_id": meta.subject_id,
        "condition": meta.condition,
        "notes": meta.notes,
        "recorded_at": meta.recorded_at,
        "body_mass_kg": meta.body_mass_kg,
        "shoe_size_eu": meta.shoe_size_eu,
        "devices": meta.devices,
        "capture_quality": meta.capture_quality,
        "source": source or (meta.source.get("path") if isinstance(meta.source, dict) else None),
        "recording_source": dict(meta.source),
        "sides": list(recording.sides),
        "unit": recording.unit,
        "sample_rate_hz": recording.sample_rate_hz,
        "duration_s": recording.duration_s,
        "layout": {
            "name": layout.name,
            "n_sensors": layout.n_sensors,
            "sensor_names": list(layout.sensor_names),
            "x_mm": layout.x_mm.round(2).tolist(),
            "y_mm": layout.y_mm.round(2).tolist(),
            "outline_mm": layout.outline_mm.round(2).tolist(),
            "approximate": layout.approximate,
            "source": layout.source,
            "foot_length_mm": layout.foot_length_mm,
        },
        "marks": [{"n": i, "t": m.time_s, "label": m.label, "kind": m.kind} for i, m in enumerate(recording.marks, 1)],
        "summary": summary,
        "generated": {
            "software": "insole",
            "version": __version__,
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "dashboard_params": dataclasses.asdict(params),
        },
    }


# ------------------------------------------------------------------ assembling


def dashboard_payload(recording: Recording, analysis: Any = None, *, source: str | None = None,
                      params: DashboardParams | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data (figures as plotly JSON, frames as base64)."""
    params = params or DashboardParams()
    analysis_error = None
    if analysis is None:
        try:
            from insole.analysis import analyze

            analysis = analyze(recording)
        except ImportError:  # pragma: no cover - analysis core absent
            analysis_error = "the analysis core is not installed"
        except InsoleError as error:
            analysis_error = str(error)
    scale = load_scale(recording.layout, recording.unit)
    loads = {}
    for side in recording.sides:
        foot = recording.samples(side)
        values = np.where(foot.valid[:, None], foot.values.astype(np.float64), np.nan)
        loads[side] = total_load(values, scale)
    maps: dict[str, dict[str, np.ndarray]] = {"peak": {}, "mean": {}, "pti": {}}
    counts: dict[str, int] = {}
    for side in recording.sides:
        side_maps, counts[side] = _pressure_maps(recording, side, analysis)
        for name, array in side_maps.items():
            maps[name][side] = array
    how = ("means over the stances of the strides the analysis used (its per-sensor maps)" if analysis is not None
           else "no maps: the gait analysis is not available")
    flagged = _flagged_sensors(recording, analysis)
    symmetry_rows = _symmetry_rows(analysis, flagged)
    shown = _as_analysed(recording, analysis, scale, loads)
    force_figure, force_data = _force_view(recording, shown.loads, shown.axis_label, analysis)
    figures, butterfly_note = _analysis_figures(recording, analysis)
    describe = _describe(recording, analysis, source, params)
    describe["analysis"] = {
        "available": analysis is not None,
        "error": analysis_error,
        "provenance": dict(analysis.provenance) if analysis is not None else None,
    }
    return {
        "meta": describe,
        "grid": foot_grid(recording.layout).to_json(),
        "load": {"unit": shown.unit, "label": shown.label, "weights": np.round(scale.sensor_weights, 8).tolist(),
                 "zero_offsets": shown.offsets, "note": shown.note},
        "player": _player_frames(recording, params),
        "force": force_data,
        # the flagged sensors are drawn apart on the maps, never blended into the colour field
        "maps": {**maps, "unit": recording.unit, "stances": counts, "how": how, "flagged": flagged,
                 "pti_title": integral_title(recording.unit)},
        "strides": _stride_tables(analysis),
        "symmetry": symmetry_rows,
        "quality": _quality(recording, analysis),
        "figures": {
            "force": force_figure,
            **figures,
        },
        "notes": {"butterfly": butterfly_note},
        "clinic": {"phases": clinic_phases(recording), "result": _clinic_result(recording)},
    }


def build_dashboard(recording: Recording, analysis: Any = None, *, source: str | None = None,
                    params: DashboardParams | None = None) -> str:
    """The dashboard's HTML text (self-contained; see the module docstring)."""
    payload = dashboard_payload(recording, analysis, source=source, params=params)
    template = (STATIC_DIR / "offline.html").read_text(encoding="utf-8")
    scripts = {
        "PLOTLY_JS": plotly_js_path().read_text(encoding="utf-8"),
        "FOOTMAP_JS": (STATIC_DIR / "footmap.js").read_text(encoding="utf-8"),
        "PLAYER_JS": (STATIC_DIR / "player.js").read_text(encoding="utf-8"),
        "OFFLINE_JS": (STATIC_DIR / "offline.js").read_text(encoding="utf-8"),
        "OFFLINE_CSS": (STATIC_DIR / "offline.css").read_text(encoding="utf-8"),
    }
    for name, text in scripts.items():
        if "</script" in text.lower() or "</style" in text.lower():  # pragma: no cover - guards the inlining
            raise InsoleError(f"{name} cannot be inlined: it contains a closing tag")
    title = html.escape(f"{payload['meta']['title']} · {payload['meta']['subject_id'] or 'unnamed subject'}")
    values = {**scripts, "TITLE": title, "PAYLOAD": _script_json(payload)}
    # one pass over the template: inserted text (plotly.js, the data) is never scanned again
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda match: values[match.group(1)], template)


def write_dashboard(recording: Recording, path: str | Path, analysis: Any = None, *, source: str | None = None,
                    params: DashboardParams | None = None, force: bool = False) -> Path:
    """Write the self-contained dashboard of ``recording`` to ``path`` (HTML); return the path.

    The page goes to a temporary file beside ``path``, renamed once complete (a crash leaves the old file
    or the new one); ``force=False`` refuses to replace an existing file (``OutputError``).
    """
    path = Path(path)
    text = build_dashboard(recording, analysis, source=source, params=params)
    _write_atomically(path, text.encode("utf-8"), force=force)
    return path


def _write_atomically(path: Path, data: bytes, *, force: bool) -> None:
    """``data`` to a temporary file beside ``path``, then published under ``path``.

    The rule of ``insole._output.atomic_write`` (private to insole, so not imported here): with
    ``force`` the file is renamed over ``path``; without, it is hard-linked to ``path``, which fails
    when a file is there (even one that appeared while we wrote), so nothing is ever replaced.
    """
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name[:180]}.", suffix=".part", dir=folder)
    except OSError as error:
        raise OutputError(path, f"cannot write here ({error.strerror or error})") from None
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # as a page written by open() would be under the usual umask (mkstemp: 0600)
        if force:
            os.replace(temporary, path)
            return
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise OutputError(path, "already exists (add --force to replace it)") from None
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            if path.exists():  # a file system without hard links: check, then rename
                raise OutputError(path, "already exists (add --force to replace it)") from None
            os.replace(temporary, path)
            return
        temporary.unlink()
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise

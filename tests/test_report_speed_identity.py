"""The report's speed work changes nothing a reader sees (issue 19).

* spm1d is imported without matplotlib and scipy.ndimage (its plotting and smoothing functions import them
  when called), and its inference gives the same numbers as a plain ``import spm1d`` in a fresh process.
* The figures are built as plain dicts: the page embeds ``as_dict=True`` figures (no plotly objects), the
  public functions return plotly Figures made from the same dicts. Every figure of the shipped samples (and of
  a one-foot recording) is the same figure either way: the dict is what plotly's validation and ``to_dict()``
  make of it, to the last bit, and the report page embeds exactly those figures. (When the dicts replaced the
  plotly objects, every figure of the three shipped samples and a simulated 5-minute walk was compared with the
  figures the plotly-object code drew: no difference in 10 figures x 4 recordings.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _data import shared_data_dir

import insole
from insole import plot

pytest.importorskip("spm1d")
pytest.importorskip("plotly")

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "recordings").glob("*.parquet"))
SHARED = shared_data_dir()

# Two groups of curves that differ in mid-stance: one cluster, with a threshold and p-value to compare.
_INFERENCE = """
import json, sys
import numpy as np
{how}
rng = np.random.default_rng(7)
a = rng.normal(size=(20, 101)).cumsum(1)
b = a + 0.3 * rng.normal(size=(20, 101)).cumsum(1) + np.concatenate([np.zeros(40), 40 * np.hanning(30), np.zeros(31)])
ti = spm1d.stats.ttest2(a, b).inference(alpha=0.05, two_tailed=True, interp=True)
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib" or m.startswith("scipy.ndimage"))
print(json.dumps({{"zstar": float(ti.zstar), "clusters": [[float(e) for e in c.endpoints] + [float(c.P)]
                                                          for c in ti.clusters], "loaded": loaded}}))
"""


def _run(how: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _INFERENCE.format(how=how)], capture_output=True, text=True,
                          check=True, timeout=120)
    return json.loads(done.stdout)


def test_spm1d_is_imported_without_matplotlib_and_infers_the_same_numbers() -> None:
    plain = _run("import spm1d")
    deferred = _run("from insole.report._spm import _import_spm1d\nspm1d = _import_spm1d()")
    assert "matplotlib.pyplot" in plain["loaded"]  # what the deferral saves (spm1d's package imports it)
    assert deferred["loaded"] == []
    assert len(plain["clusters"]) == 1
    # the same inference code on the same data: bit-identical results
    assert deferred["zstar"] == plain["zstar"]
    assert deferred["clusters"] == plain["clusters"]


def test_a_module_needed_while_importing_makes_spm1d_import_as_it_comes() -> None:
    # scipy.interpolate needs scipy.spatial as it imports: deferring it too must not break the report
    fallback = _run("from insole.report import _spm\n_spm._SPM1D_DEFERRED += ('scipy.spatial',)\n"
                    "spm1d = _spm._import_spm1d()")
    plain = _run("import spm1d")
    assert "matplotlib.pyplot" in fallback["loaded"]
    assert (fallback["zstar"], fallback["clusters"]) == (plain["zstar"], plain["clusters"])


def test_spm1d_functions_that_need_the_deferred_modules_still_work() -> None:
    code = """
import sys
import numpy as np
from insole.report._spm import _import_spm1d
spm1d = _import_spm1d()
smoothed = spm1d.util.smooth(np.arange(10.0), fwhm=2)   # scipy.ndimage, imported now
import matplotlib
matplotlib.use("Agg")
ti = spm1d.stats.ttest2(np.random.default_rng(1).normal(size=(8, 51)),
                        np.random.default_rng(2).normal(size=(8, 51))).inference(0.05)
ti.plot()                                               # matplotlib.pyplot, imported now
from matplotlib import pyplot
print(type(sys.modules["scipy.ndimage"]).__name__, type(pyplot.gca()).__name__, round(float(smoothed[0]), 6))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    module, axes, first = done.stdout.split()
    assert module == "module"  # the real scipy.ndimage, not the stand-in
    assert axes == "Axes"
    assert first == "2.651376"


# ---------------------------------------------------------------- figures: dicts and plotly Figures


def _json(fig: Any) -> Any:
    """A figure (dict or plotly Figure) as the JSON a page embeds, parsed back."""
    from plotly.io.json import to_json_plotly

    return json.loads(to_json_plotly(fig if isinstance(fig, dict) else fig.to_dict()))


def _figures(recording: insole.Recording, analysis: insole.Analysis, as_dict: bool) -> dict[str, Any]:
    from insole.report._spm import compare_stance_force, spm_figure

    kw: dict[str, Any] = {"as_dict": as_dict}
    return {
        "region_shares": plot.region_shares(analysis, **kw),
        "region_shares_4": plot.region_shares(analysis, groups=("heel", "midfoot", "forefoot", "toes"),
                                              height_px=230, **kw),
        "force_curves": plot.force_curves(analysis, **kw),
        "force_curves_cop": plot.force_curves(analysis, cop=True, height_px=380, **kw),
        "cop_paths": plot.cop_paths(analysis, recording.layout, **kw),
        "cop_paths_builtin_outline": plot.cop_paths(analysis, height_px=420, **kw),
        "load_maps": plot.load_maps(analysis, recording.layout, **kw),
        "stride_times": plot.stride_times(analysis, **kw),
        "symmetry_indices": plot.symmetry_indices(analysis, height_px=300, **kw),
        "spm": spm_figure(compare_stance_force(recording, analysis), **kw),
    }


def _recordings() -> list[tuple[str, insole.Recording]]:
    found = [(path.stem, insole.load(path)) for path in SAMPLES]
    moticon = next(r for name, r in found if name.startswith("moticon"))
    return [*found, ("moticon_left_foot_only", moticon.replace(right=None))]


@pytest.fixture(scope="module")
def analysed() -> list[tuple[str, insole.Recording, insole.Analysis]]:
    assert len(SAMPLES) >= 3, "the shipped samples are missing"
    return [(name, recording, insole.analyze(recording)) for name, recording in _recordings()]


def test_each_figure_dict_is_the_plotly_figure_it_stands_for(analysed: list) -> None:
    drawn = 0
    for name, recording, analysis in analysed:
        as_dicts = _figures(recording, analysis, as_dict=True)
        figures = _figures(recording, analysis, as_dict=False)
        for key, fig in figures.items():
            assert (fig is None) == (as_dicts[key] is None), (name, key)
            if fig is None:
                continue
            assert _json(as_dicts[key]) == _json(fig), (name, key)
            drawn += 1
    # what the comparison covered: every figure kind, the butterfly's reason panel, the SPM shading
    assert drawn >= 30
    one_foot = dict((n, _figures(r, a, as_dict=True)) for n, r, a in analysed)["moticon_left_foot_only"]
    assert [a["name"] for a in one_foot["cop_paths"]["layout"]["annotations"] if "name" in a] == ["reason"]
    assert any(f["spm"] is not None and f["spm"]["layout"].get("shapes")
               for f in (_figures(r, a, as_dict=True) for _, r, a in analysed))


def test_a_grid_figure_is_still_a_plotly_subplot_grid(analysed: list) -> None:
    name, recording, analysis = next(item for item in analysed if item[0].startswith("moticon_2"))
    fig = plot.cop_paths(analysis, recording.layout)
    before = len(fig.data)
    fig.add_trace({"type": "scatter", "x": [0], "y": [0]}, row=1, col=2)
    assert len(fig.data) == before + 1 and fig.data[-1].xaxis == "x2"


def test_the_report_page_embeds_the_plotly_figures(analysed: list, tmp_path: Path) -> None:
    from insole.report import build_report, render_html

    name, recording, analysis = next(item for item in analysed if item[0].startswith("moticon_2"))
    page = render_html(build_report(recording, analysis=analysis))
    embedded = {}
    drawn = r'Plotly\.newPlot\(\s*"([^"]+)",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"displaylogo"'
    for div_id, data, layout in re.findall(drawn, page, flags=re.S):
        embedded[div_id] = {"data": json.loads(data), "layout": json.loads(layout)}
    expected = {"fig-left-right": plot.region_shares(analysis), "fig-force-curves": plot.force_curves(analysis),
                "fig-cop": plot.cop_paths(analysis, recording.layout),
                "fig-load-maps": plot.load_maps(analysis, recording.layout)}
    for div_id, fig in expected.items():
        assert embedded[div_id] == _json(fig), div_id


def test_the_written_out_parts_are_plotlys_own(analysed: list) -> None:
    """What the dicts write out themselves is what plotly makes of the names: the template, the colour scale,
    the subplot grid (domains and titles as make_subplots lays them out)."""
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.subplots import make_subplots

    name, recording, analysis = next(item for item in analysed if item[0].startswith("moticon_2"))
    figures = _figures(recording, analysis, as_dict=True)
    white = _json(go.Figure(layout={"template": pio.templates["plotly_white"]}))["layout"]["template"]
    assert all(f["layout"]["template"] == white for f in figures.values() if f is not None)
    scale = [list(stop) for stop in go.scatter.Marker(colorscale="YlOrRd").colorscale]
    maps = figures["load_maps"]
    assert [t["marker"]["colorscale"] for t in maps["data"] if "marker" in t and "colorscale" in t["marker"]] \
        == [scale] * 4
    grids = {
        "cop_paths": make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.16,
                                   subplot_titles=("Path per foot (measured)", "Butterfly (reconstructed)")),
        "force_curves_cop": make_subplots(rows=1, cols=3, horizontal_spacing=0.09,
                                          subplot_titles=["force (BW)", "COP from heel (mm)", "COP medial + (mm)"]),
        "load_maps": make_subplots(rows=1, cols=2, horizontal_spacing=0.2, shared_yaxes=True,
                                   subplot_titles=["peak pressure (kPa)", "pressure-time integral per step (kPa·s)"]),
    }
    for key, made in grids.items():
        layout, ours = _json(made)["layout"], figures[key]["layout"]
        for axis in ("xaxis", "xaxis2", "yaxis", "yaxis2"):
            assert ours[axis]["domain"] == layout[axis]["domain"], (key, axis)
        assert [(a["x"], a["y"], a["text"]) for a in ours["annotations"]] == \
            [(a["x"], a["y"], a["text"]) for a in layout["annotations"]], key


def test_the_dashboard_embeds_the_plotly_figures_as_plotly_updates_them(analysed: list) -> None:
    """The offline dashboard takes the figures as dicts and restyles them for its cards itself: the same as
    plotly's ``update_layout`` on the Figure (no title, margin and legend merged)."""
    from dashboards import build_dashboard

    name, recording, analysis = next(item for item in analysed if item[0].startswith("moticon_2"))
    page = build_dashboard(recording, analysis)
    found = re.search(r'<script type="application/json" id="payload">(.*?)</script>', page, flags=re.S)
    assert found is not None
    payload = json.loads(found.group(1))
    expected = {"curves": plot.force_curves(analysis, cop=True, height_px=380),
                "butterfly": plot.cop_paths(analysis, recording.layout, height_px=420),
                "symmetry": plot.symmetry_indices(analysis, height_px=300),
                "regions": plot.region_shares(analysis, groups=("heel", "midfoot", "forefoot", "toes"), height_px=230)}
    for key, fig in expected.items():
        fig.update_layout(title=None, margin={"t": 56, "b": 60}, paper_bgcolor="rgba(0,0,0,0)")
        if key == "regions":
            fig.update_layout(legend={"yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0})
        assert payload["figures"][key] == _json(fig), key


def test_the_moticon_reader_fills_each_sensor_in_place_and_the_recording_keeps_the_arrays() -> None:
    """The streamed Moticon reader writes each sensor's column where its values lie side by side (the transpose
    of a (sensors, samples) array, as our Parquet reader does) and the recording adopts the arrays as made
    (a row-major array written column by column cost 0.3 s of stores for an hour's export; an array the
    recording would not adopt was copied, +60 MB at the peak). Bit-identity with the careful reader is
    tests/test_importers_streamed.py's."""
    path = SHARED / "moticon-opengo" / "230927_102114.txt"
    recording = insole.load(path)
    for side in recording.sides:
        foot = recording.samples(side)
        for array in (foot.values, foot.accel_g, foot.gyro_dps):
            assert array is not None
            assert array.flags.f_contiguous and array.T.flags.c_contiguous
            assert array.base is not None and array.base.shape == array.shape[::-1]  # kept, not copied

"""insole.plot: figures read the analysis's own tables, say why when they cannot draw, and share one colour pair.

The colour pair is checked where each page gets it: the report's figures, the
offline dashboard's payload figures and its stylesheet, and the live page's
script and stylesheet (the JS pages keep it as constants, so this test is what
holds them to ``SIDE_COLOURS``).
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import insole
from dashboards import build_dashboard, write_dashboard
from insole import plot
from insole.report import build_report, write_html

REPO = Path(__file__).resolve().parents[1]
STATIC = REPO / "dashboards" / "_static"
MOTICON = REPO / "recordings" / "moticon_230927_102114.parquet"  # kPa, 16 sensors
FOOTSWITCH = REPO / "recordings" / "gaitndd_control1.parquet"  # au, one sensor per foot
GAITPDB = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"  # N, 8 sensors


@pytest.fixture(scope="module")
def moticon() -> tuple[insole.Recording, insole.Analysis]:
    recording = insole.load(MOTICON)
    return recording, insole.analyze(recording)


@pytest.fixture(scope="module")
def footswitch() -> insole.Analysis:
    return insole.analyze(insole.load(FOOTSWITCH))


def test_importing_insole_and_its_plot_package_does_not_import_plotly() -> None:
    code = "import sys, insole, insole.plot; insole.plot.SIDE_COLOURS; print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_load_maps_show_the_analysis_sensor_table_as_it_is(moticon: tuple[insole.Recording, insole.Analysis]) -> None:
    recording, analysis = moticon
    fig = plot.load_maps(analysis, recording.layout)
    assert fig is not None
    markers = [t for t in fig.data if t.mode == "markers"]
    # two panels (peak, pressure-time integral), each foot in each
    assert [(t.name, t.xaxis) for t in markers] == [("left", "x"), ("right", "x"), ("left", "x2"), ("right", "x2")]
    for trace, side, column in zip(markers, ("left", "right") * 2, ("peak_pressure_kpa",) * 2 + ("pti_kpa_s",) * 2):
        shown = np.asarray(trace.marker.color, float)
        np.testing.assert_array_equal(shown, analysis.sensors[side][column].to_numpy(float))
    peak = max(float(np.nanmax(analysis.sensors[s]["peak_pressure_kpa"])) for s in analysis.sides)
    assert markers[0].marker.cmax == peak == markers[1].marker.cmax
    # the left foot is mirrored: its medial sensors (+y) lie right of its own centre on screen
    left = analysis.sensors["left"]
    medial = left["y_mm"].to_numpy(float) > 0
    assert np.asarray(markers[0].x)[medial].mean() > np.asarray(markers[0].x)[~medial].mean()
    # the outline is the recording's layout, and the built-in one of the same name when none is given
    without = plot.load_maps(analysis)
    assert without is not None and len(without.data) == len(fig.data)


def test_force_insoles_map_peak_force_and_its_integral() -> None:
    analysis = insole.analyze(insole.load(GAITPDB))
    fig = plot.load_maps(analysis)
    assert fig is not None
    assert [a.text for a in fig.layout.annotations] == ["peak force (N)", "force-time integral per step (N·s)"]
    markers = [t for t in fig.data if t.mode == "markers"]
    for trace, side, column in zip(markers, ("left", "right") * 2, ("peak_force_n",) * 2 + ("fti_n_s",) * 2):
        np.testing.assert_array_equal(np.asarray(trace.marker.color, float), analysis.sensors[side][column])


def test_force_curves_and_shares_are_the_analysis_tables(moticon: tuple[insole.Recording, insole.Analysis]) -> None:
    _, analysis = moticon
    curves = plot.force_curves(analysis)
    assert curves is not None
    means = {t.name.split()[0]: t for t in curves.data if t.name.endswith("stances)")}
    for side in analysis.sides:
        np.testing.assert_array_equal(np.asarray(means[side].y, float), analysis.curves[side]["force_bw_mean"])
        assert means[side].line.color == plot.SIDE_COLOURS[side]
    assert curves.layout.yaxis.title.text == "vertical force (BW)"
    bars = plot.region_shares(analysis)
    assert bars is not None
    for trace in bars.data:
        regions = analysis.regions[trace.name].set_index("region")
        groups = [label.replace(" ", "_") for label in trace.x]
        np.testing.assert_allclose(np.asarray(trace.y, float), regions.loc[groups, "share_pct_mean"].to_numpy(float))
        assert trace.marker.color == plot.SIDE_COLOURS[trace.name]
    strides = plot.stride_times(analysis)
    assert strides is not None
    used = {t.name.split()[0]: len(t.x) for t in strides.data if "used" in t.name}
    assert used == {s: int(analysis.strides[s]["used"].sum()) for s in analysis.sides}
    cop = plot.cop_paths(analysis)
    assert cop is not None and any(t.name == "combined COP (one stride)" for t in cop.data)
    assert plot.unavailable(analysis) == {}


def test_curves_with_cop_panels_and_the_symmetry_indices(moticon: tuple[insole.Recording, insole.Analysis]) -> None:
    _, analysis = moticon
    # cop=True adds the COP along and across the foot; the force panel is the report's figure's traces
    plain, with_cop = plot.force_curves(analysis), plot.force_curves(analysis, cop=True, height_px=300)
    assert plain is not None and with_cop is not None and with_cop.layout.height == 300
    force = [t for t in with_cop.data if t.xaxis == "x"]
    assert [(t.name, t.showlegend) for t in force] == [(t.name, None) for t in plain.data]
    for panel, column in (("x2", "cop_x_mm"), ("x3", "cop_y_mm")):
        means = {t.name.split()[0]: t for t in with_cop.data if t.xaxis == panel and t.mode == "lines"}
        for side in analysis.sides:
            np.testing.assert_array_equal(np.asarray(means[side].y, float), analysis.curves[side][f"{column}_mean"])
            assert means[side].showlegend is False and means[side].line.color == plot.SIDE_COLOURS[side]
    # the symmetry indices: the summary's own values, metrics in SYMMETRY_METRICS order, coloured by the larger foot
    bars = plot.symmetry_indices(analysis)
    assert bars is not None
    table = analysis.summary.symmetry
    labels = list(bars.data[0].y)[::-1]
    order = list(plot.SYMMETRY_METRICS.values())
    assert labels == sorted(labels, key=order.index) and "loading rate" in labels
    by_label = {label: metric for metric, label in plot.SYMMETRY_METRICS.items()}
    for label, value, colour in zip(bars.data[0].y, bars.data[0].x, bars.data[0].marker.color):
        assert value == pytest.approx(table.at[by_label[label], "symmetry_index_pct"])
        assert colour == plot.SIDE_COLOURS["right" if value > 0 else "left"]
    # the regional shares of chosen groups only, in the order asked
    shares = plot.region_shares(analysis, groups=("toes", "heel"))
    assert shares is not None and [tuple(t.x) for t in shares.data] == [("toes", "heel")] * 2


def test_a_one_sensor_insole_gets_curves_and_reasons_instead_of_maps(footswitch: insole.Analysis) -> None:
    missing = plot.unavailable(footswitch)
    assert set(missing) == {"load_maps", "cop_paths", "region_shares"}
    assert "one sensor" in missing["load_maps"]
    assert plot.load_maps(footswitch) is None and plot.cop_paths(footswitch) is None
    assert plot.region_shares(footswitch) is None
    curves = plot.force_curves(footswitch)
    assert curves is not None and curves.layout.yaxis.title.text == "vertical force (au)"
    assert plot.stride_times(footswitch) is not None


def test_the_report_page_says_why_a_figure_is_missing(tmp_path: Path) -> None:
    report = build_report(insole.load(FOOTSWITCH))
    page = write_html(report, tmp_path / "report.html").read_text(encoding="utf-8")
    reason = plot.unavailable(report.session.analysis)["load_maps"]
    assert f"Not available for this recording: {html.escape(reason)}." in page
    # the left/right section names what it cannot show; its timing table follows under its own heading
    shares_reason = html.escape(plot.unavailable(report.session.analysis)["region_shares"])
    assert f"Regional shares of the stance load: not shown for this recording: {shares_reason}." in page
    # the per-foot rows are not printed a second time under left/right: a pointer to the key numbers instead
    assert 'class="muted each-foot-pointer"' in page and '<a href="#key-numbers">Key numbers</a>' in page
    assert page.count("<td>Stance time ") == 1  # the key-numbers row only


def _hex_colours(text: str, pattern: str) -> dict[str, str]:
    return {side: colour.lower() for side, colour in re.findall(pattern, text)}


def test_one_colour_pair_in_the_report_and_the_dashboards(moticon: tuple[insole.Recording, insole.Analysis],
                                                          tmp_path: Path) -> None:
    recording, analysis = moticon
    expected = dict(plot.SIDE_COLOURS)
    # the JS pages: constants in their stylesheets and the live script
    for css in ("offline.css", "live.css"):
        assert _hex_colours((STATIC / css).read_text(), r"--(left|right):\s*(#[0-9a-fA-F]{6})") == expected, css
    live_js = (STATIC / "live.js").read_text()
    assert _hex_colours(live_js, r"(left|right):\s*'(#[0-9a-fA-F]{6})'") == expected
    # the offline dashboard's own figures, as built into the page
    text = build_dashboard(recording, analysis)
    payload = json.loads(re.search(r'<script type="application/json" id="payload">(.*?)</script>', text, re.S).group(1))
    lines = {t["name"].split()[0]: t["line"]["color"] for t in payload["figures"]["curves"]["data"]
             if t.get("mode") == "lines" and t["name"].split()[0] in expected}
    assert lines == expected
    # the report's figures, as embedded in its page
    page = write_html(build_report(recording, analysis=analysis), tmp_path / "report.html").read_text(encoding="utf-8")
    for div, kind in (("fig-force-curves", "line"), ("fig-left-right", "marker")):
        start = re.search(r'Plotly\.newPlot\(\s*"' + div + r'",\s*', page).end()
        traces, _ = json.JSONDecoder().raw_decode(page, start)
        coloured = {t["name"].split()[0]: t[kind]["color"] for t in traces if "color" in t.get(kind, {})}
        assert coloured == expected, div


@pytest.mark.browser
@pytest.mark.slow
def test_report_and_dashboard_pages_draw_the_left_foot_in_the_same_colour(
        moticon: tuple[insole.Recording, insole.Analysis], tmp_path: Path, artifacts: Path) -> None:
    from browser import chromium, wait_for

    recording, analysis = moticon
    report_path = write_html(build_report(recording, analysis=analysis), tmp_path / "report.html")
    dashboard_path = write_dashboard(recording, tmp_path / "dashboard.html", analysis=analysis)
    rgb = {s: "rgb({}, {}, {})".format(*(int(c[i:i + 2], 16) for i in (1, 3, 5))) for s, c in plot.SIDE_COLOURS.items()}
    with chromium(width=1300, height=1000) as (context, _):
        page = context.new_page()
        page.goto(dashboard_path.as_uri())
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        page.evaluate("() => window.__renderAll()")
        wait_for(page, "() => window.__dashboardStats.all_rendered_ms", 60)
        assert page.evaluate("getComputedStyle(document.querySelector('.foot-l')).color") == rgb["left"]
        drawn = page.evaluate("() => Array.from(document.querySelectorAll('#fig-curves .scatterlayer path.js-line'))"
                              ".map(p => p.style.stroke)")
        assert rgb["left"] in drawn and rgb["right"] in drawn
        # the left/right table: a loading rate is per second, an impulse a product with seconds
        rows = "Array.from(document.querySelectorAll('#sym-table tbody tr'))"
        units = dict(page.evaluate(f"() => {rows}.map(r => [r.cells[0].firstChild.textContent,"
                                   " r.cells[0].querySelector('.hint').textContent.trim()])"))
        assert units["loading rate"] in ("N/s", "BW/s")
        assert units["force impulse"] in ("N·s", "BW·s")
        page.evaluate("() => document.getElementById('fig-curves').scrollIntoView()")
        page.screenshot(path=str(artifacts / "plot_colours_dashboard.png"))
        page = context.new_page()
        page.goto(report_path.as_uri())
        lines = "document.querySelectorAll('#fig-force-curves .scatterlayer path.js-line')"
        wait_for(page, f"() => {lines}.length", 60)
        drawn = page.evaluate(f"() => Array.from({lines}).map(p => p.style.stroke)")
        assert rgb["left"] in drawn and rgb["right"] in drawn
        page.evaluate("() => document.getElementById('force-curves').scrollIntoView()")
        page.screenshot(path=str(artifacts / "plot_colours_report.png"))

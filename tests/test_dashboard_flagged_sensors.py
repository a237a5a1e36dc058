"""The offline dashboard names the sensors the analysis flagged: the left/right rows resting on them are marked, and
the maps draw them apart (grey hatched, with a legend) instead of blending a dead sensor into the colour field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dashboards import write_dashboard
from dashboards._offline import dashboard_payload
from insole import load
from insole.simulate import SimulationParams, simulate

PEDAR = "vendor-exports/pedar_example.asc"
# pedar_example.asc: six left sensors and one right sensor read 0 kPa throughout (the analysis' "flat" checks);
# on the pedar layout s69 and s76 lie in the forefoot, s88, s89, s95 and s99 in the lesser toes, s83 under the hallux
LEFT_FLAT = ["s69", "s76", "s88", "s89", "s95", "s99"]
RIGHT_FLAT = ["s83"]


@pytest.fixture(scope="module")
def pedar(shared_data: Path) -> dict:
    recording = load(shared_data / PEDAR)
    return {"recording": recording, "payload": dashboard_payload(recording)}


def test_pedar_flat_sensors_are_named_with_their_regions(pedar: dict) -> None:
    payload, layout = pedar["payload"], pedar["recording"].layout
    flagged = payload["maps"]["flagged"]
    assert [f["sensor"] for f in flagged["left"]] == LEFT_FLAT
    assert [f["sensor"] for f in flagged["right"]] == RIGHT_FLAT
    assert {f["status"] for rows in flagged.values() for f in rows} == {"flat"}
    for rows in flagged.values():
        for f in rows:
            assert layout.sensor_names[f["index"]] == f["sensor"]
    regions = {f["sensor"]: f["regions"] for f in flagged["left"]}
    assert regions["s69"] == regions["s76"] == ["forefoot"]
    assert all(regions[s] == ["toes", "lesser_toes"] for s in ("s88", "s89", "s95", "s99"))
    assert flagged["right"][0]["regions"] == ["toes", "hallux"]
    # the same sensors the analysis' quality checks list: nothing recomputed
    for side in ("left", "right"):
        assert [f["sensor"] for f in flagged[side]] == [f["sensor"] for f in payload["quality"][side]["sensor_flags"]]


def test_pedar_rows_resting_on_flagged_sensors_are_marked(pedar: dict) -> None:
    rows = {r["metric"]: r["flagged_sensors"] for r in pedar["payload"]["symmetry"]}
    assert rows["forefoot_share_pct"] == {"left": ["s69", "s76"]}
    assert rows["toes_share_pct"] == {"left": ["s88", "s89", "s95", "s99"], "right": ["s83"]}
    assert rows["heel_share_pct"] == {}
    # whole-foot forces and the centre of pressure rest on every sensor of the foot
    for metric in ("max_force_bw", "impulse_bw_s", "loading_rate_bw_s", "cop_path_length_mm"):
        assert rows[metric] == {"left": LEFT_FLAT, "right": RIGHT_FLAT}, metric
    # timing rests on the foot's total load crossing a threshold, on no one sensor
    for metric in ("stance_time_s", "swing_time_s", "step_time_s", "double_support_s"):
        assert rows[metric] == {}, metric


def test_no_flags_no_marks() -> None:
    payload = dashboard_payload(simulate(SimulationParams(duration_s=30.0, seed=3)))
    assert all(not payload["quality"][s].get("sensor_flags") for s in ("left", "right"))
    assert payload["maps"]["flagged"] == {}
    assert payload["symmetry"] and all(r["flagged_sensors"] == {} for r in payload["symmetry"])


@pytest.mark.browser
def test_pedar_page_marks_the_row_and_greys_the_flagged_sensors(pedar: dict, tmp_path: Path, artifacts: Path) -> None:
    from browser import chromium, wait_for

    flagged = pedar["payload"]["maps"]["flagged"]
    path = write_dashboard(pedar["recording"], tmp_path / "pd.html", source=PEDAR)
    with chromium(width=1500, height=1000) as (context, _):
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        page.evaluate("() => window.__renderAll()")
        wait_for(page, "() => window.__dashboardStats.all_rendered_ms", 60)
        forefoot = page.locator("#sym-table tr", has_text="forefoot load share").inner_text()
        heel = page.locator("#sym-table tr", has_text="heel load share").inner_text()
        note = page.locator("#maps-flagged").inner_text()
        # each flagged sensor's spot on each map: grey (the hatched dot), never the colour scale's hues or its
        # near-white zero (#f8fafc)
        pixels = page.evaluate("""() => ['peak', 'mean', 'pti'].map(function (name) {
            var c = window.__maps[name], L = c.fm.layout, ctx = c.canvas.getContext('2d');
            var dpr = window.devicePixelRatio || 1;
            return P_FLAGGED.map(function (f) {
              var q = c.px(f[0], L.x_mm[f[1]], L.y_mm[f[1]]);
              return Array.from(ctx.getImageData(Math.round(q[0] * dpr), Math.round(q[1] * dpr), 1, 1).data);
            });
          })""".replace("P_FLAGGED", json.dumps([[s, f["index"]] for s, rows in flagged.items() for f in rows])))
        page.locator("#sec-maps").screenshot(path=str(artifacts / "offline_pedar_flagged_maps.png"))
        page.close()
    assert errors == []
    assert "\u26a0 rests on flagged sensors: left s69, s76" in forefoot
    assert "flagged" not in heel
    assert "flagged: flat/dead" in note
    assert "left s69, s76, s88, s89, s95, s99; right s83" in note
    assert len(pixels) == 3 and all(len(p) == 7 for p in pixels)
    for rgba in (p for per_map in pixels for p in per_map):
        assert max(rgba[:3]) - min(rgba[:3]) < 30 and max(rgba[:3]) < 200 and rgba[3] == 255, rgba


def test_report_load_maps_draw_the_flagged_sensors_apart(pedar: dict) -> None:
    """``insole.plot.load_maps`` (the report's figure): each panel keeps every sensor's value as the analysis gives
    it, and draws the flagged ones over it as grey crossed circles, with one legend entry."""
    from insole import analyze, plot

    recording = pedar["recording"]
    analysis = analyze(recording)
    fig = plot.load_maps(analysis, recording.layout)
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [(t.name, t.xaxis) for t in markers] == [
        ("left", "x"), ("flagged: flat/dead", "x"), ("right", "x"), ("flagged: flat/dead", "x"),
        ("left", "x2"), ("flagged: flat/dead", "x2"), ("right", "x2"), ("flagged: flat/dead", "x2")]
    assert [t.showlegend for t in markers if t.name.startswith("flagged")] == [True, False, False, False]
    for trace, side in zip(markers[1::2], ("left", "right") * 2):
        names = [text.split(":")[0].split(" ")[1] for text in trace.text]
        assert names == (LEFT_FLAT if side == "left" else RIGHT_FLAT)
        assert trace.marker.color == "#9ca3af" and trace.marker.symbol == "circle-x"
    # the colour field keeps every sensor's value as the analysis gives it
    for trace, side in zip(markers[0::2], ("left", "right") * 2):
        column = "peak_pressure_kpa" if trace.xaxis == "x" else "pti_kpa_s"
        np.testing.assert_array_equal(np.asarray(trace.marker.color, float), analysis.sensors[side][column])


@pytest.mark.browser
def test_pedar_player_draws_a_flagged_sensor_as_no_data(pedar: dict, tmp_path: Path, artifacts: Path) -> None:
    """The pressure player drew a dead (flat 0 kPa) sensor white, like an unloaded spot: now grey hatched, as on the
    maps, with "no data" in its legend and hint, and left out of the colour field, at every frame (here the left
    foot's most loaded one, where the colour field around the sensors is far from white)."""
    from browser import chromium, wait_for

    flagged = pedar["payload"]["maps"]["flagged"]
    path = write_dashboard(pedar["recording"], tmp_path / "pd.html", source=PEDAR)
    with chromium(width=1500, height=1000) as (context, _):
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        wait_for(page, "() => window.__player !== undefined", 30)
        hint = page.locator("#player-hint").inner_text()
        # the left foot's most loaded frame
        index = page.evaluate("""() => {
            var P = window.__player, load = P.load.left, best = 0;
            for (var i = 1; i < load.length; i++) if (load[i] > load[best]) best = i;
            P.pause(); P.seek(best); return best; }""")
        wait_for(page, f"() => window.__player.index === {index} && window.__player.draws > 1", 30)
        page.wait_for_timeout(200)
        pixels = page.evaluate("""() => {
            var c = window.__player.canvas, L = c.fm.layout, ctx = c.canvas.getContext('2d');
            var dpr = window.devicePixelRatio || 1;
            return P_FLAGGED.map(function (f) {
              var q = c.px(f[0], L.x_mm[f[1]], L.y_mm[f[1]]);
              return Array.from(ctx.getImageData(Math.round(q[0] * dpr), Math.round(q[1] * dpr), 1, 1).data);
            }); }""".replace("P_FLAGGED", json.dumps([[s, f["index"]] for s, rows in flagged.items() for f in rows])))
        values = page.evaluate("() => Array.from(window.__player.canvas.values.left)")
        page.locator("#sec-player").screenshot(path=str(artifacts / "offline_pedar_player_flagged.png"))
        page.close()
    assert errors == []
    assert "grey hatched dots: no data (sensors the quality checks flagged: flat/dead)" in hint
    assert index > 0 and len(pixels) == 7
    for rgba in pixels:  # grey (the hatched dot), never white (#ffffff, zero) or a hue of the colour scale
        assert max(rgba[:3]) - min(rgba[:3]) < 30 and max(rgba[:3]) < 200 and rgba[3] == 255, rgba
    # left out of the colour field: NaN at the flagged sensors, numbers elsewhere
    left = {f["index"] for f in flagged["left"]}
    assert all(math.isnan(values[i]) for i in left)
    assert all(math.isfinite(v) for i, v in enumerate(values) if i not in left)

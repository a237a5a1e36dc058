"""The offline session dashboard: what goes into the file, and the file in headless Chromium."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dashboards import DashboardParams, build_dashboard, write_dashboard
from dashboards._offline import _REGION_GROUPS, dashboard_payload
from insole import Mark, Recording, load
from insole.simulate import SimulationParams, simulate

REPO = Path(__file__).resolve().parents[1]
HOSTILE = '</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
MAX_BYTES_10_MIN = 12_000_000


@pytest.fixture(scope="module")
def ten_minutes() -> Recording:
    """A 10-minute two-foot walk with turns (insole16, 100 Hz), a half-second gap and two marks."""
    recording = simulate(SimulationParams(duration_s=600.0, seed=5, turns=4))
    left = recording.left
    valid = left.valid.copy()
    valid[30_000:30_050] = False  # half a second lost on the left foot at 300 s
    values = np.where(valid[:, None], left.values, np.nan)
    from insole import FootSamples

    recording = recording.replace(left=FootSamples(left.time_s, values, valid, left.accel_g, left.gyro_dps))
    recording = recording.replace(marks=(Mark(120.0, "turn"), Mark(305.5, "pain, left knee")))
    return recording.with_meta(subject_id="P-12", notes="Left knee pain after 20 min of walking; new insoles")


@pytest.fixture(scope="module")
def ten_minute_file(ten_minutes: Recording, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dashboard(ten_minutes, tmp_path_factory.mktemp("offline") / "ten_minutes.html")


def _decode_frames(player: dict, side: str) -> np.ndarray:
    codes = np.frombuffer(base64.b64decode(player["frames"][side]), np.uint8)
    return codes.reshape(player["n_frames"], player["n_sensors"])


# ---------------------------------------------------------------- what goes into the file


def test_ten_minute_dashboard_is_small_enough_and_keeps_every_sample(ten_minute_file: Path) -> None:
    size = ten_minute_file.stat().st_size
    assert size <= MAX_BYTES_10_MIN, f"{size / 1e6:.2f} MB"
    text = ten_minute_file.read_text()
    payload = _payload_from_html(text)
    assert payload["player"]["every_sample"] is True
    assert payload["player"]["n_frames"] == 60_000
    assert payload["force"]["sides"]["left"]["n"] == 60_000


def _payload_from_html(text: str) -> dict:
    found = re.search(r'<script type="application/json" id="payload">(.*?)</script>', text, re.S)
    assert found, "payload block missing"
    return json.loads(found.group(1))


def test_player_frames_decode_to_the_recorded_values(ten_minutes: Recording) -> None:
    payload = dashboard_payload(ten_minutes)
    player = payload["player"]
    zero, full, top = player["zero_scale"], player["full_scale"], player["full_scale_code"]
    for side in ("left", "right"):
        codes = _decode_frames(player, side)
        foot = ten_minutes.foot(side)
        missing = codes == player["missing_code"]
        np.testing.assert_array_equal(missing.any(axis=1), ~foot.valid)  # gaps stay gaps, nothing else is one
        decoded = zero + (codes / top) ** 2 * (full - zero)
        # square-root companding with 254 steps: the error is at most (2 f d + d^2) x span
        # with d = 0.5/254 and f <= 1, i.e. below span / 254
        error = np.abs(decoded - foot.values)[~missing]
        assert error.max() <= (full - zero) / 254
        # and finer than that where the pressure is low (the point of companding)
        low = (foot.values < 0.05 * full)[~missing]
        assert error[low].max() <= (full - zero) * (2 * np.sqrt(0.05) * 0.5 / 254 + (0.5 / 254) ** 2) + 1e-9


def test_player_stays_within_its_budget_for_hundreds_of_sensors(shared_data: Path) -> None:
    recording = load(shared_data / "vendor-exports" / "pedar_example.asc")  # 99 sensors, both feet
    params = DashboardParams(player_budget_bytes=100_000)
    player = dashboard_payload(recording, params=params)["player"]
    total = sum(len(base64.b64decode(blob)) for blob in player["frames"].values())
    assert total <= params.player_budget_bytes
    assert player["every_sample"] is False and player["rate_hz"] < recording.sample_rate_hz
    assert player["n_sensors"] == 99


def test_maps_are_the_analysis_per_sensor_maps(ten_minutes: Recording) -> None:
    """The maps are the analysis' own (means over its used stances of each stance's peak, mean and integral)."""
    from insole.analysis import analyze

    analysis = analyze(ten_minutes)
    payload = dashboard_payload(ten_minutes, analysis)
    for side in ("left", "right"):
        table = analysis.sensors[side]
        for name, column in (("peak", "peak_pressure_kpa"), ("mean", "mean_pressure_kpa"), ("pti", "pti_kpa_s")):
            np.testing.assert_array_equal(np.asarray(payload["maps"][name][side], float), table[column].to_numpy(float))
        assert payload["maps"]["stances"][side] == int(analysis.steps[side]["used"].sum())
    # the stance mean is the stance's integral over its duration, stance by stance (so not pti / mean stance)
    right = analysis.sensors["right"]
    assert np.all(right["mean_pressure_kpa"] < right["peak_pressure_kpa"])


def _trace_data(traces: list) -> list[dict]:
    """What a figure's traces show (type, name, x, y, colours), as plain JSON values."""
    keep = ("type", "name", "x", "y", "marker", "line", "fillcolor", "error_y", "xaxis", "yaxis")
    return json.loads(json.dumps([{k: t[k] for k in keep if k in t} for t in traces], default=_plain))


def _plain(value: object) -> object:
    return np.asarray(value).tolist()


@pytest.mark.parametrize("relative", ["recordings/moticon_230927_102114.parquet",
                                      "recordings/gaitndd_control1.parquet"])
def test_the_analysis_figures_are_the_insole_plot_figures(relative: str) -> None:
    """One analysis, many views: each figure of the analysis is drawn by insole.plot, as in the report."""
    from insole import analyze, plot

    recording = load(REPO / relative)
    analysis = analyze(recording)
    figures = _payload_from_html(build_dashboard(recording, analysis))["figures"]
    expected = {
        "curves": plot.force_curves(analysis, cop=True),
        "butterfly": plot.cop_paths(analysis, recording.layout),
        "symmetry": plot.symmetry_indices(analysis),
        "regions": plot.region_shares(analysis, groups=_REGION_GROUPS),
    }
    assert set(figures) == {"force", *expected}
    for name, fig in expected.items():
        if fig is None:  # a one-sensor insole: no COP, no regions; the page says why
            assert figures[name] is None, name
            continue
        assert _trace_data(figures[name]["data"]) == _trace_data(fig.to_plotly_json()["data"]), name
    # the left/right table lists the metrics the symmetry figure shows, in its order
    bars = plot.symmetry_indices(analysis)
    assert bars is not None
    shown = list(bars.data[0].y)[::-1]
    assert [r["label"] for r in dashboard_payload(recording, analysis)["symmetry"]
            if np.isfinite(r["symmetry_index_pct"])] == shown


def test_hostile_text_cannot_leave_the_data_block() -> None:
    short = simulate(SimulationParams(duration_s=20.0, seed=1)).with_meta(notes=HOSTILE, subject_id=HOSTILE)
    html = build_dashboard(short.replace(marks=(Mark(1.0, HOSTILE),)))
    assert "window.__pwned" in html  # the text is there...
    assert "<script>window.__pwned" not in html and "<img src=x" not in html  # ...but never as markup
    payload = _payload_from_html(html)
    assert payload["meta"]["notes"] == HOSTILE and payload["meta"]["subject_id"] == HOSTILE
    assert payload["meta"]["marks"][0]["label"] == HOSTILE


def test_dashboard_of_a_recording_without_steps() -> None:
    quiet = simulate(SimulationParams(duration_s=20.0, seed=1))
    zeros = {side: quiet.foot(side).__class__(quiet.foot(side).time_s, np.zeros_like(quiet.foot(side).values),
                                               quiet.foot(side).valid) for side in ("left", "right")}
    payload = dashboard_payload(quiet.replace(**zeros))
    # no steps: no strides, no stance maps, no curves, but the recording, player and quality are there
    assert all(not table["rows"] or not any(r[-2] for r in table["rows"]) for table in payload["strides"].values())
    assert payload["maps"]["stances"] == {"left": 0, "right": 0}
    assert payload["figures"]["curves"] is None
    assert payload["player"]["n_frames"] == 2000
    assert payload["quality"]["left"]["valid_pct"] == 100.0


def test_cli_writes_the_dashboard(tmp_path: Path) -> None:
    source = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"
    out = tmp_path / "d.html"
    result = subprocess.run([sys.executable, "-m", "insole._cli", "dashboard", str(source), "--out", str(out)],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert out.exists() and out.stat().st_size > 4_000_000  # plotly.js alone is 4.8 MB
    assert f"wrote {out}" in result.stdout


def test_cli_mass_and_mapping(tmp_path: Path) -> None:
    """--mass-kg sets the body mass the analysis uses; --map reads a generic CSV (as report and convert do)."""
    recording = simulate(SimulationParams(duration_s=30.0, seed=9))
    names = {side: [f"{side[0]}{k}" for k in range(recording.layout.n_sensors)] for side in recording.sides}
    data = tmp_path / "lab.csv"
    np.savetxt(data, np.hstack([recording.samples(side).values for side in recording.sides]), delimiter=",",
               fmt="%.3f", header=",".join(names["left"] + names["right"]), comments="")
    mapping = tmp_path / "columns.json"
    mapping.write_text(json.dumps({"sample_rate_hz": recording.sample_rate_hz, "layout": "insole16",
                                   "left": names["left"], "right": names["right"]}))
    out = tmp_path / "d.html"
    done = subprocess.run([sys.executable, "-m", "insole", "dashboard", str(data), "--map", str(mapping),
                           "--mass-kg", "81.5", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    payload = _payload_from_html(out.read_text())
    assert payload["meta"]["body_mass_kg"] == 81.5 and payload["meta"]["layout"]["name"] == "insole16"
    assert "81.5 kg" in payload["meta"]["summary"]["body_weight_source"]  # the analysis used the mass given
    result = subprocess.run([sys.executable, "-m", "insole._cli", "dashboard", str(data), "--map", str(mapping),
                             "--mass-kg", "0", "--out", str(tmp_path / "e.html")], capture_output=True, text=True)
    assert result.returncode == 2 and "--mass-kg 0 is not a plausible body mass" in result.stderr


@pytest.mark.parametrize("argv, needle", [
    (["dashboard", "no/such/file.parquet"], "no/such/file.parquet"),
    (["dashboard", "recordings/gaitpdb_GaCo01_01_60s.parquet", "--out", "no/such/folder/x.html"], "no/such/folder"),
])
def test_cli_bad_input_is_one_line_and_exit_2(argv: list[str], needle: str) -> None:
    result = subprocess.run([sys.executable, "-m", "insole._cli", *argv], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- the file in Chromium


def _open(context, path: Path):
    page = context.new_page()
    console_errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    return page, console_errors, requests


@pytest.mark.browser
@pytest.mark.slow
def test_ten_minute_dashboard_loads_fast_offline_and_plays(ten_minute_file: Path, artifacts: Path) -> None:
    from browser import chromium, wait_for

    with chromium(width=1500, height=1000) as (context, _):
        page, console_errors, requests = _open(context, ten_minute_file)
        ready_ms = wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        sections = page.evaluate("window.__dashboardStats.sections")
        print(f"offline dashboard ready after {ready_ms:.0f} ms; sections {sections}")
        # how fast it gets ready is measured in benchmarks/bench_dashboard.py, not judged here
        assert requests == [ten_minute_file.as_uri()]  # nothing but the file itself
        # the player moves through the session: scrub to the middle, then play
        page.evaluate("() => { const s = document.getElementById('scrub'); s.value = '30000';"
                      " s.dispatchEvent(new Event('input')); }")
        wait_for(page, "() => window.__dashboardStats.player.index === 30000", 10)
        assert page.text_content("#player-time") == "5:00.00"
        page.click("#play")  # the button plays...
        wait_for(page, "() => window.__dashboardStats.player.playing", 10)
        page.click("#play")  # ...and pauses
        wait_for(page, "() => !window.__dashboardStats.player.playing", 10)
        # playing at 1x moves the session time as fast as the wall clock (timed inside the page,
        # so the test's own delays do not count)
        start = page.evaluate("() => [performance.now(), window.__player.seekTime(300.0), window.__player.play()][0]")
        time.sleep(1.5)
        end, moved_to = page.evaluate(
            "() => { window.__player.pause(); return [performance.now(), window.__player.time()]; }"
        )
        elapsed_s = (end - start) / 1000.0
        # within a frame or two of the wall clock (the first frame only starts the clock)
        assert abs((moved_to - 300.0) - elapsed_s) <= 0.15, (moved_to, elapsed_s)
        minutes, seconds = page.text_content("#player-time").split(":")
        assert abs(int(minutes) * 60 + float(seconds) - moved_to) <= 0.006  # shown to the centisecond
        # the half second lost at 300 s shows as a gap in the player
        page.evaluate("() => window.__player.seekTime(300.2)")
        wait_for(page, "() => Math.abs(window.__dashboardStats.player.time_s - 300.2) < 0.01", 10)
        assert page.text_content("#player-load-left") == "gap"
        # the sections further down are built when scrolled to; build them all now
        page.evaluate("() => window.__renderAll()")
        wait_for(page, "() => window.__dashboardStats.all_rendered_ms", 60)
        # a stride row moves the player to that stride
        page.click("#stride-table tbody tr:nth-child(20)")
        row_time = float(page.text_content("#stride-table tbody tr:nth-child(20) td:nth-child(3)"))
        wait_for(page, f"() => Math.abs(window.__dashboardStats.player.time_s - {row_time}) < 0.02", 10)
        page.click("#window-btns button[data-window='all']")
        page.evaluate("() => { window.__player.seekTime(62.0); window.scrollTo(0, 0);"
                      " document.querySelector('.table-wrap').scrollTop = 0; }")
        time.sleep(0.3)
        page.screenshot(path=str(artifacts / "offline_dashboard.png"), full_page=True)
        assert console_errors == [] and page.evaluate("window.__dashboardStats.errors") == []
        assert requests == [ten_minute_file.as_uri()]


@pytest.mark.browser
@pytest.mark.slow
def test_hostile_text_is_shown_as_text(tmp_path: Path) -> None:
    from browser import chromium, wait_for

    recording = simulate(SimulationParams(duration_s=20.0, seed=2)).with_meta(subject_id=HOSTILE, notes=HOSTILE)
    path = write_dashboard(recording.replace(marks=(Mark(5.0, HOSTILE),)), tmp_path / "hostile.html")
    with chromium() as (context, _):
        page, console_errors, requests = _open(context, path)
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        assert page.text_content("#notes") == HOSTILE
        assert page.text_content("#subject") == HOSTILE
        assert page.text_content("#marks li .lbl") == HOSTILE
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("document.querySelectorAll('body img, main script').length") == 0
        assert console_errors == [] and requests == [path.as_uri()]


LAYOUT_CASES = [
    ("recordings/gaitndd_control1.parquet", 1),
    ("recordings/gaitpdb_GaCo01_01_60s.parquet", 8),
    ("recordings/moticon_230927_102114.parquet", 16),
    ("vendor-exports/pedar_example.asc", 99),
    ("vendor-exports/xsensor_data.csv", 233),
    ("vendor-exports/fscan_testL.asf", 955),
]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("relative, n_sensors", LAYOUT_CASES)
def test_dashboard_works_for_every_layout_size(relative: str, n_sensors: int, shared_data: Path, tmp_path: Path,
                                               artifacts: Path) -> None:
    from browser import chromium, wait_for

    source = REPO / relative if relative.startswith("recordings/") else shared_data / relative
    recording = load(source)
    assert recording.layout.n_sensors == n_sensors
    path = write_dashboard(recording, tmp_path / "d.html", source=source.name)
    with chromium(width=1500, height=1000) as (context, _):
        page, console_errors, requests = _open(context, path)
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        page.evaluate("() => window.__renderAll()")
        wait_for(page, "() => window.__dashboardStats.all_rendered_ms", 60)
        last = page.evaluate("window.__player.n - 1")
        page.evaluate(f"() => window.__player.seek({last // 2})")
        wait_for(page, f"() => window.__dashboardStats.player.index === {last // 2}", 10)
        draws = page.evaluate("window.__dashboardStats.player.draws")
        assert draws >= 2
        assert console_errors == [] and page.evaluate("window.__dashboardStats.errors") == []
        assert requests == [path.as_uri()]
        page.screenshot(path=str(artifacts / f"offline_layout_{n_sensors}_sensors.png"))


@pytest.mark.browser
def test_capture_quality_and_layout_banner_read_as_words(tmp_path: Path) -> None:
    """A captured recording's quality card listed every stored field, the nested ones as JSON text (a narrow column
    of braces: 'feet {"left":{"name":...'); an approximate layout's banner ended with its provenance note (the
    ORPHE SDK's file names). Both seen in the gallery's orphe6 dashboard (issue 20)."""
    from browser import chromium, wait_for

    def foot(name: str, lost: int, drift: float, at_limit: bool) -> dict:
        return {"name": name, "packets_sent": 1045, "packets_received": 1045 - lost, "packets_lost": lost,
                "packet_loss_pct": 100 * lost / 1045, "gaps": 1 if lost else 0, "gap_total_ms": 20.0 * lost,
                "longest_gap_ms": 20.0 * lost, "reconnects": 0, "battery_pct_start": 87, "battery_pct_end": 85,
                "low_battery": False, "clock": {"method": "envelope", "drift_ppm": drift, "drift_at_limit": at_limit}}

    quality = {"schema": "insole-capture-quality", "version": 1, "speed": 4.0, "lr_alignment_residual_ms": 0.04,
               "lr_alignment_uncertainty_ms": 4.9, "notification_to_disk_ms": {"p50": 219.4, "p99": 806.3},
               "clock_method": "each insole's sample grid ...",
               "feet": {"left": foot("INS-1", 0, 2.5, False), "right": foot("INS-2", 3, -1000.0, True)}}
    recording = load(REPO / "recordings/moticon_230927_102114.parquet").with_meta(capture_quality=quality)
    path = write_dashboard(recording, tmp_path / "d.html", source="test")
    with chromium() as (context, _):
        page, errors, _requests = _open(context, path)
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        page.evaluate("() => window.__renderAll()")
        wait_for(page, "() => window.__dashboardStats.all_rendered_ms", 60)
        card = page.locator("#quality .qcard").last
        rows = card.locator("dt").all_inner_texts()
        values = dict(zip(rows, card.locator("dd").all_inner_texts(), strict=True))
        banner = page.locator("#warnings").inner_text()
        page.close()
    assert errors == []
    assert "{" not in "".join(values.values())
    assert values == {
        "emulated at": "4× real time",
        "left/right alignment": "0.04 ms (uncertainty 4.90 ms)",
        "on disk after": "median 219 ms, 99 % within 806 ms",
        "left packets": "1045 of 1045 received",
        "left gaps": "none",
        "left clock drift": "2.5 ppm",
        "left battery": "87 % → 85 %",
        "right packets": "1042 of 1045 received, 3 lost (0.29 %)",
        "right gaps": "1 (60 ms in all, longest 60 ms)",
        "right clock drift": "-1000.0 ppm (at the limit of the clock fit: its time axis may be off by this much)",
        "right battery": "87 % → 85 %",
    }
    assert "are approximate" in banner and "APPROXIMATE" not in banner and "fitted by us" not in banner


def _chart_load(payload: dict, side: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(payload["force"]["sides"][side]["load"]), np.float32).astype(np.float64)


def test_footswitch_load_is_drawn_less_the_analysis_zero_offset() -> None:
    """A foot switch reads about -2 au unloaded and nearer 0 au loaded: the load chart and the player drew that raw
    scale (0 to -2 au) while the analysis subtracts each foot's zero offset first (issue 20, gaitndd hunt10).
    The chart now draws the analysis' load (raw sum less the offset the analysis subtracted), and says so."""
    from insole import analyze

    recording = load(REPO / "recordings/gaitndd_control1.parquet")
    analysis = analyze(recording)
    payload = dashboard_payload(recording, analysis)
    # the offsets the analysis subtracted (quality[side]["zero_offset_force"]), the numbers its sentence rounds
    assert [analysis.quality[s]["zero_offset"].split("(")[1] for s in ("left", "right")] == [
        "total force offset -0.536 au)", "total force offset -0.6397 au)"]
    offsets = {s: analysis.quality[s]["zero_offset_force"] for s in ("left", "right")}
    assert [round(offsets[s], 4) for s in ("left", "right")] == [-0.536, -0.6397]
    assert payload["load"]["zero_offsets"] == offsets
    for side, offset in payload["load"]["zero_offsets"].items():
        foot = recording.samples(side)
        raw = np.where(foot.valid, foot.values[:, 0].astype(np.float64), np.nan)
        assert np.nanmin(raw) < -0.5  # raw, the unloaded foot reads well below zero...
        # ...the chart is the raw value less the offset (float32 in the page: half a unit in the 7th digit)
        np.testing.assert_allclose(_chart_load(payload, side), raw - offset, rtol=0, atol=1e-6, equal_nan=True)
        # unloaded mid-swing sits at 0 after the offset: only noise of a few hundredths of the ~0.87 au peak below it
        assert np.nanmin(_chart_load(payload, side)) > -0.1
    title = payload["figures"]["force"]["layout"]["yaxis"]["title"]["text"]
    assert title == "load (au), less zero offset"
    assert payload["load"]["note"] == ("zero offset subtracted, as in the analysis (each foot's median mid-swing "
                                       "level): left -0.536 au, right -0.6397 au")
    assert payload["load"]["label"] == "total load (arbitrary units), less the zero offset"


def test_dashboard_without_an_offset_shows_the_raw_load() -> None:
    """Without the analysis' offset (zero_offset=False) the chart is the raw sum, labelled as before."""
    from insole import AnalysisParams, analyze

    recording = load(REPO / "recordings/gaitndd_control1.parquet")
    payload = dashboard_payload(recording, analyze(recording, AnalysisParams(zero_offset=False)))
    assert payload["load"]["zero_offsets"] == {} and payload["load"]["note"] == ""
    assert payload["figures"]["force"]["layout"]["yaxis"]["title"]["text"] == "load (au)"
    foot = recording.samples("left")
    np.testing.assert_allclose(_chart_load(payload, "left"), np.where(foot.valid, foot.values[:, 0], np.nan),
                               rtol=0, atol=1e-6, equal_nan=True)


def test_moticon_load_chart_is_the_force_the_table_reports() -> None:
    """The Moticon load chart summed the sensor pressures (kPa, areas unknown) while the left/right table gave
    "peak force N": the analysis' force is the recording's own total-force channel in newtons (its metric unit
    is N), so the chart now draws that channel, less the analysis' offset, in N (issue 20)."""
    from insole import analyze
    from insole.analysis import metric_unit

    recording = load(REPO / "recordings/moticon_230927_102114.parquet")
    analysis = analyze(recording)
    assert analysis.quality["left"]["force_source"] == "the source's total-force channel (sensor areas unknown)"
    payload = dashboard_payload(recording, analysis)
    assert payload["load"]["unit"] == "N"
    assert payload["figures"]["force"]["layout"]["yaxis"]["title"]["text"] == "force (N), less zero offset"
    rows = {r["metric"]: r for r in payload["symmetry"]}
    # the table gives forces in body weights (its walk's own load here: no body mass), as the stride table does
    assert rows["max_force_bw"]["unit"] == metric_unit("max_force_bw") == "BW"
    weight_n = analysis.summary.body_weight["value"]
    for side in ("left", "right"):
        foot = recording.samples(side)
        channel = np.where(foot.valid, foot.channels["vendor_total_force_n"], np.nan)
        offset = payload["load"]["zero_offsets"][side]
        np.testing.assert_allclose(_chart_load(payload, side), channel - offset, rtol=0, atol=1e-3, equal_nan=True)
        # the table's mean peak force of the used strides, in N, lies within the chart's range of the same force
        assert 0 < rows["max_force_bw"][f"{side}_mean"] * weight_n <= np.nanmax(_chart_load(payload, side))


@pytest.mark.browser
def test_player_readout_is_the_load_chart_value(tmp_path: Path) -> None:
    """The player's L/R readout read the raw quantised frames (-0.5, -0.6 au for a foot switch): it now shows the
    load chart's value at the player's time (the load less the analysis' offset)."""
    from browser import chromium, wait_for

    recording = load(REPO / "recordings/gaitndd_control1.parquet")
    path = write_dashboard(recording, tmp_path / "d.html", source="test")
    payload = _payload_from_html(path.read_text())
    left = _chart_load(payload, "left")
    just_below = int(np.flatnonzero((left < -0.01) & (left > -0.05))[0])  # mid-swing noise under the offset
    with chromium() as (context, _):
        page, errors, _requests = _open(context, path)
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        page.evaluate(f"() => {{ window.__player.pause(); window.__player.seek({just_below}); }}")
        wait_for(page, f"() => window.__dashboardStats.player && window.__dashboardStats.player.index === {just_below}",
                 30)
        below = page.locator("#player-load-left").inner_text()
        page.evaluate("() => { window.__player.pause(); window.__player.seek(1234); }")
        # the player draws (and fills its readouts) on the next animation frame
        wait_for(page, "() => window.__dashboardStats.player && window.__dashboardStats.player.index === 1234", 30)
        time_s = page.evaluate("() => window.__dashboardStats.player.time_s")
        shown = {s: page.locator(f"#player-load-{s}").inner_text() for s in ("left", "right")}
        unit = page.locator("#player-load-unit").inner_text()
        page.close()
    assert errors == []
    for side in ("left", "right"):
        entry = payload["force"]["sides"][side]
        index = int(round((time_s - entry["t0_s"]) / entry["dt_s"]))
        assert shown[side] == f"{_chart_load(payload, side)[index]:.1f}"
        assert not shown[side].startswith("-")
    assert unit == "total load (arbitrary units), less the zero offset"
    assert below == "0.0"  # not "-0.0"


@pytest.mark.browser
def test_the_robust_stride_time_cv_card_shows_the_analysis_figure(tmp_path: Path) -> None:
    """One number, many views: the analysis' robust stride-time CV per foot (1.4826 x MAD / median), which
    insole analyze prints and the report's key numbers show, is on the dashboard's cards too."""
    from browser import chromium, wait_for

    from insole import analyze

    recording = simulate(SimulationParams(pattern="irregular", duration_s=40.0, seed=5))
    robust = dict(analyze(recording).summary.stride_time_robust_cv_pct)
    assert dashboard_payload(recording)["meta"]["summary"]["stride_time_robust_cv_pct"] == robust
    path = write_dashboard(recording, tmp_path / "robust.html")
    with chromium() as (context, _):
        page, console_errors, _ = _open(context, path)
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        card = page.locator("#kpis .kpi", has_text="Stride-time robust CV").inner_text()
        page.close()
    assert console_errors == []
    assert f"L {robust['left']:.2f} %" in card and f"R {robust['right']:.2f} %" in card, card
    assert "1.4826 × MAD / median of the used stride times" in card


def test_the_time_integral_map_is_named_by_what_the_sensors_measure(shared_data: Path) -> None:
    """A force layout's (gaitpdb, N) integral was titled "Pressure-time integral" in N·s: it is a force-time
    integral, as the report's maps name it (issue 16 review, item 6)."""
    gaitpdb = load(shared_data / "gaitpdb" / "GaCo01_01.txt")
    assert gaitpdb.unit == "N"
    page = build_dashboard(gaitpdb)
    assert _payload_from_html(page)["maps"]["pti_title"] == "Force-time integral (per step)"
    assert "Pressure-time integral" not in page
    assert dashboard_payload(simulate(SimulationParams(duration_s=10.0, seed=1)))["maps"]["pti_title"] == (
        "Pressure-time integral (per step)")  # insole16 reads kPa


@pytest.mark.browser
def test_the_page_shows_the_force_time_integral_title(shared_data: Path, tmp_path: Path) -> None:
    from browser import chromium, wait_for

    path = write_dashboard(load(shared_data / "gaitpdb" / "GaCo01_01.txt"), tmp_path / "gaitpdb.html")
    with chromium(width=1500, height=1000) as (context, _):
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        page.evaluate("() => window.__renderAll()")
        wait_for(page, "() => window.__dashboardStats.all_rendered_ms", 60)
        title = page.locator("#map-pti-title").text_content()  # the CSS shows h3 in capitals
        page.close()
    assert errors == []
    assert title == "Force-time integral (per step)"

"""The live dashboard: its server, its model of the feed, the replay session, and the page in Chromium.

The browser tests run the real ``insole live`` command (a subprocess serving on
127.0.0.1) and drive the page in the system's headless Chromium.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import numpy as np
import pytest

from dashboards import LiveServer, LiveServerError, ReplaySession, SessionControl, is_loopback
from dashboards._footmap import foot_grid
from dashboards._live_model import ClientCursor, LiveModel
from dashboards._signals import StepDetector, cadence_steps_per_min, detect_steps, load_scale, total_load
from insole import Recording, get_layout, load, write_parquet
from insole.capture import LinkStatus, LiveHub, SampleBlock, SessionEvent
from insole.simulate import SimulationParams, simulate

REPO = Path(__file__).resolve().parents[1]
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def walk() -> Recording:
    """60 s of simulated two-foot walking (insole16, kPa, 100 Hz)."""
    recording = simulate(SimulationParams(duration_s=60.0, seed=3))
    return recording.with_meta(subject_id="S-07", notes="Follow-up 6 weeks after a right ankle sprain; own shoes")


@pytest.fixture(scope="module")
def walk_file(walk: Recording, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_parquet(walk, tmp_path_factory.mktemp("live") / "walk.parquet")


@pytest.fixture(scope="module")
def hostile_file(walk: Recording, tmp_path_factory: pytest.TempPathFactory) -> Path:
    hostile = walk.with_meta(subject_id="S-07 <b>bold</b>", notes=f"notes {HOSTILE}")
    return write_parquet(hostile, tmp_path_factory.mktemp("live") / "hostile.parquet")


class LiveCommand:
    """``insole live --replay FILE`` (or ``--emulate`` when ``replay`` is None) in a subprocess on a free loopback
    port."""

    def __init__(self, replay: Path | None, out_dir: Path, *extra: str) -> None:
        self.out_dir = out_dir
        source = ["--replay", str(replay)] if replay is not None else ["--emulate"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "insole._cli", "live", *source, "--port", "0",
             "--out-dir", str(out_dir), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + 60
        self.url = None
        while time.monotonic() < deadline and self.url is None:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            found = re.search(r"open (http://\S+)", line)
            if found:
                self.url = found.group(1)
        if self.url is None:
            self.process.kill()
            raise RuntimeError(f"insole live did not start: {self.lines} {self.process.stderr.read()}")

    def stop(self) -> tuple[str, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=60)
        return "".join(self.lines) + out, err


@pytest.fixture
def live(walk_file: Path, tmp_path: Path):
    command = LiveCommand(walk_file, tmp_path / "sessions")
    yield command
    command.stop()


def _token(http_url: str) -> str:
    """The session's secret from the page's URL (``http://host:port/?token=...``)."""
    return parse_qs(urlsplit(http_url).query)["token"][0]


def _ws_url(http_url: str) -> str:
    """The websocket's URL, with the session's secret of the page's URL."""
    parts = urlsplit(http_url)
    return f"ws://{parts.netloc}/ws?token={_token(http_url)}"


async def _control(http_url: str, action: str, **fields) -> dict:
    """Send one control as a script would (no Origin header, the secret of the URL) and return the server's ack."""
    async with aiohttp.ClientSession() as client:
        async with client.ws_connect(_ws_url(http_url)) as ws:
            message = {"type": "control", "id": 99, "token": _token(http_url), "action": action, **fields}
            await ws.send_str(json.dumps(message))
            async for message in ws:
                data = json.loads(message.data)
                if data.get("type") == "ack":
                    return data
    raise AssertionError("no ack")


# ---------------------------------------------------------------- pure parts


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.20")
    assert not is_loopback("::")


def test_server_refuses_non_loopback_without_permission() -> None:
    layout = get_layout("insole16")
    with pytest.raises(LiveServerError, match="--host"):
        LiveServer(LiveHub(), layout=layout, unit="kPa", sample_rate_hz=100, host="0.0.0.0")
    with pytest.raises(LiveServerError):
        LiveServer(LiveHub(), layout=layout, unit="kPa", sample_rate_hz=100, host="192.0.2.10")
    # allowed when the caller says so explicitly (insole live --host)
    LiveServer(LiveHub(), layout=layout, unit="kPa", sample_rate_hz=100, host="0.0.0.0", allow_remote=True)


def test_cli_without_insoles_says_so_in_one_line(tmp_path: Path) -> None:
    # this machine has no Bluetooth: the capture cannot start, and the command says why
    result = subprocess.run([sys.executable, "-m", "insole._cli", "live", "--port", "0", "--scan-timeout", "1",
                             "--out-dir", str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 1
    assert "device error" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_missing_replay_file_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.parquet"
    result = subprocess.run([sys.executable, "-m", "insole._cli", "live", "--replay", str(missing)],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert str(missing) in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_warns_when_serving_beyond_loopback(walk_file: Path, tmp_path: Path) -> None:
    command = LiveCommand(walk_file, tmp_path, "--host", "0.0.0.0", "--duration-s", "1")
    out, err = command.stop()
    assert "warning: serving on 0.0.0.0" in err
    assert command.url.startswith("http://0.0.0.0:")


@pytest.mark.parametrize("name", ["insole16", "gaitpdb8", "footswitch1", "moticon16"])
def test_foot_grid_weights_interpolate(name: str) -> None:
    layout = get_layout(name)
    grid = foot_grid(layout)
    np.testing.assert_allclose(grid.weights.sum(axis=1), 1.0, rtol=1e-5)
    # a uniform load reads the same everywhere it is shown
    filled = grid.fill(np.full(layout.n_sensors, 50.0))
    shown = filled[np.isfinite(filled)]
    np.testing.assert_allclose(shown, 50.0, rtol=1e-5)
    # nothing outside the outline
    assert not np.isfinite(filled[~grid.inside]).any()
    if layout.n_sensors == 1:
        assert np.isfinite(filled[grid.inside]).all()  # one sensor speaks for the whole insole
    # the cell over a sensor is dominated by that sensor
    values = np.zeros(layout.n_sensors)
    values[0] = 100.0
    filled = grid.fill(values)
    row = int(np.argmin(abs(grid.x_mm - layout.x_mm[0])))
    col = int(np.argmin(abs(grid.y_mm - layout.y_mm[0])))
    assert filled[row, col] > 50.0


@pytest.mark.parametrize("name", ["pedar_example.asc", "fscan_testL.asf", "xsensor_data.csv"])
def test_foot_grid_for_real_dense_layouts(shared_data: Path, name: str) -> None:
    recording = load(shared_data / "vendor-exports" / name)  # 99, 955 and 233 sensors
    layout = recording.layout
    grid = foot_grid(layout)
    assert grid.neighbours.max() < layout.n_sensors
    np.testing.assert_allclose(grid.weights.sum(axis=1), 1.0, rtol=1e-5)
    side = recording.sides[0]
    foot = recording.foot(side)
    frame = foot.values[int(np.nanargmax(np.nansum(foot.values, axis=1)))]
    filled = grid.fill(frame)
    # interpolation never invents pressure beyond what the sensors read
    assert np.nanmax(filled) <= np.nanmax(frame) + 1e-3
    assert np.nanmin(filled) >= np.nanmin(frame) - 1e-3
    assert np.isfinite(filled).sum() > 0.5 * grid.inside.sum()


def test_step_detector_finds_exact_transitions() -> None:
    # 100 Hz; load 0 in swing, 600 N in stance from 0.50-1.10 s and 1.60-2.20 s
    t = np.arange(0, 3, 0.01)
    load = np.where(((t >= 0.5) & (t < 1.1)) | ((t >= 1.6) & (t < 2.2)), 600.0, 0.0)
    detector = StepDetector()
    found = []
    for start in range(0, t.size, 7):  # blocks of 7 samples, like packets
        found += detector.update(t[start:start + 7], load[start:start + 7])
    kinds = [k for k, _ in found]
    times = [round(v, 2) for _, v in found]
    assert kinds == ["hs", "to", "hs", "to"]
    assert times == [0.5, 1.1, 1.6, 2.2]


def test_step_detector_ignores_gaps_and_noise() -> None:
    t = np.arange(0, 2, 0.01)
    rng = np.random.default_rng(0)
    load = np.where((t >= 0.5) & (t < 1.1), 600.0, 0.0) + rng.normal(0, 5, t.size)
    load[60:70] = np.nan  # a gap in stance is not a toe off
    heel, toe = detect_steps(t, load)
    assert heel.round(2).tolist() == [0.5] and toe.round(2).tolist() == [1.1]


def test_quick_steps_match_the_simulators_known_events(walk: Recording) -> None:
    scale = load_scale(walk.layout, walk.unit)
    for side in ("left", "right"):
        foot = walk.foot(side)
        heel, _ = detect_steps(foot.time_s, total_load(foot.values, scale))
        truth = np.asarray(walk.reference_events.heel_strike_s[side])
        truth = truth[(truth > 0.5) & (truth < walk.duration_s - 0.5)]
        nearest = np.abs(heel[:, None] - truth[None, :]).min(axis=0)
        # the quick detector fires when the load passes 12 % of the peak: a few samples
        # after the true first contact (loading rises over ~40 ms), never a whole step off
        assert np.median(nearest) <= 0.05 and nearest.max() <= 0.1
        cadence = cadence_steps_per_min([heel])
        truth_cadence = 120.0 / np.median(np.diff(truth))
        assert abs(cadence - truth_cadence) <= 2.0


def test_live_model_sends_every_sample_once_and_caps_a_slow_page(walk: Recording) -> None:
    model = LiveModel(walk.layout, walk.unit, walk.sample_rate_hz, window_s=10.0)
    fast, slow = ClientCursor(), ClientCursor()
    foot = walk.left
    received = []
    for start in range(0, 3000, 5):
        model.ingest(SampleBlock("left", foot.time_s[start:start + 5], foot.values[start:start + 5],
                                 foot.valid[start:start + 5]))
        frame = model.frame_for(fast)
        received += frame["feet"]["left"]["t"]
    np.testing.assert_allclose(received, foot.time_s[:3000].round(3))
    late = model.frame_for(slow)  # 30 s behind: gets only the visible window
    assert len(late["feet"]["left"]["t"]) == 1001
    assert late["feet"]["left"]["t"][-1] == pytest.approx(foot.time_s[2999])
    assert model.frame_for(slow) is None  # nothing new since


def test_live_model_status_and_events() -> None:
    layout = get_layout("insole16")
    model = LiveModel(layout, "kPa", 100.0)
    cursor = ClientCursor()
    model.ingest(LinkStatus("left", "streaming", samples_received=990, samples_lost=10, packets_received=98,
                            packets_lost=2, reconnects=1, battery_pct=81))
    model.ingest(SessionEvent("mark", 12.5, HOSTILE))
    frame = model.frame_for(cursor)
    assert frame["status"]["left"]["sample_loss_pct"] == 1.0
    assert frame["status"]["left"]["packet_loss_pct"] == 2.0
    assert frame["session"][0]["label"] == HOSTILE  # stored as typed; the page shows it as text
    assert model.frame_for(cursor) is None


async def test_replay_session_records_exactly_what_it_played(walk: Recording, tmp_path: Path) -> None:
    hub = LiveHub()
    session = ReplaySession(walk, hub, out_dir=tmp_path, speed=20.0, loop=False)
    assert isinstance(session, SessionControl)
    runner = asyncio.create_task(session.run())
    await asyncio.sleep(0.3)
    path = await session.start_recording()
    await asyncio.sleep(0.5)
    await session.mark("turn")
    await asyncio.sleep(0.5)
    saved = await session.stop_recording()
    await runner
    recorded = load(saved)
    assert path.suffix == ".arrows" and saved.suffix == ".parquet"
    for side in ("left", "right"):
        got, source = recorded.foot(side), walk.foot(side)
        assert got.n_samples > 100
        # contiguous: every sample between the first and the last, none invalid
        np.testing.assert_allclose(np.diff(got.time_s), 1 / walk.sample_rate_hz, rtol=1e-6)
        first = int(np.searchsorted(source.time_s, got.time_s[0] - 1e-9))
        np.testing.assert_array_equal(got.values, source.values[first:first + got.n_samples])
    assert [m.label for m in recorded.marks] == ["turn"]
    assert recorded.meta.source["replay_of"] == "recording"


# ---------------------------------------------------------------- HTTP and websocket guards


async def test_server_rejects_foreign_host_and_cross_site_websocket(walk: Recording) -> None:
    hub = LiveHub()
    server = LiveServer(hub, layout=walk.layout, unit=walk.unit, sample_rate_hz=100.0, port=0)
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(url) as response:
                assert response.status == 200
                assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            async with client.get(url, headers={"Host": "attacker.example"}) as response:
                assert response.status == 403  # DNS rebinding
            async with client.get(server.base_url + "static/plotly.min.js") as response:
                assert response.status == 200 and len(await response.read()) > 1_000_000
            async with client.get(server.base_url + "static/../_live_server.py") as response:
                assert response.status == 404
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(_ws_url(url), headers={"Origin": "http://attacker.example"})
            assert refused.value.status == 403
            async with client.ws_connect(_ws_url(url), headers={"Origin": server.base_url.rstrip("/")}) as ws:
                hello = json.loads((await ws.receive()).data)
                assert hello["type"] == "hello" and hello["layout"]["n_sensors"] == 16
                await ws.send_str(json.dumps({"type": "control", "id": 1, "token": server.token, "action": "zero"}))
                ack = json.loads((await ws.receive()).data)
                while ack["type"] != "ack":
                    ack = json.loads((await ws.receive()).data)
                assert ack == {"type": "ack", "id": 1, "action": "zero", "ok": False,
                               "message": "this page is view-only: the capture has no controls"}
    finally:
        await server.stop()


async def test_a_page_that_joins_late_gets_the_hello_first_then_every_event_so_far(walk: Recording) -> None:
    """A page that connects after the first phases were published still gets them, after its hello.

    The page builds itself from the hello and ignores frames before it; the first frame carries every
    session event so far. Browsers negotiate permessage-deflate, under which the large hello is
    compressed off the event loop: the first frame must still not overtake it (it did, and the live
    page of a clinic test never showed its first phase).
    """
    hub = LiveHub()
    server = LiveServer(hub, layout=walk.layout, unit=walk.unit, sample_rate_hz=100.0, port=0)
    url = await server.start()
    phases = ["seated", "sit_to_stand"]
    try:
        for t, name in enumerate(phases):
            hub.publish(SessionEvent("phase", float(t), name, {"test": "tug", "phase": name}))
        while len(server.model.session_events) < len(phases):  # the server's own subscriber takes them in
            await asyncio.sleep(0.01)
        async with aiohttp.ClientSession() as client:
            for compress in (15, 0):  # as a browser does, and without compression
                async with client.ws_connect(_ws_url(url), compress=compress) as ws:
                    messages = [json.loads((await ws.receive(timeout=10)).data) for _ in range(2)]
                    assert [m["type"] for m in messages] == ["hello", "frame"], compress
                    assert [e["label"] for e in messages[1]["session"] if e["kind"] == "phase"] == phases
    finally:
        await server.stop()


# ---------------------------------------------------------------- the page in Chromium


@pytest.mark.browser
@pytest.mark.slow
def test_live_page_redraws_fast_and_fresh(live: LiveCommand, artifacts: Path) -> None:
    from browser import chromium, live_figures, wait_for

    with chromium() as (context, _):
        page = context.new_page()
        console_errors: list[str] = []
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.goto(live.url)
        wait_for(page, "() => window.__liveStats && window.__liveStats.heat_draws > 30", 30)
        figures = live_figures(page, seconds=10.0)
        print(f"live page: {figures.as_dict()}")
        # a page in use: recording, two marks
        page.click("#btn-record")
        page.click("button.markbtn[data-label='turn']")
        page.fill("#mark-text", "patient reports mild pain, right ankle")
        page.click("#btn-mark")
        wait_for(page, "() => document.querySelectorAll('#events li').length >= 3", 10)
        time.sleep(1.5)
        page.screenshot(path=str(artifacts / "live_dashboard.png"))
        assert figures.heat_fps >= 20.0, figures
        assert figures.curve_fps >= 10.0, figures
        assert figures.heat_age_p95_ms <= 100.0, figures
        assert figures.curve_age_p95_ms <= 100.0, figures
        assert figures.errors == () and console_errors == []
        # what the page shows is what the replay plays
        assert page.text_content("#cadence").strip().isdigit()
        assert page.text_content("#link-left .state").strip() == "streaming"
        assert 40 <= int(re.sub(r"\D", "", page.text_content("#bal-left-text"))) <= 60


@pytest.mark.browser
@pytest.mark.slow
def test_live_page_shows_hostile_text_as_text(hostile_file: Path, tmp_path: Path) -> None:
    from browser import chromium, wait_for

    live = LiveCommand(hostile_file, tmp_path)
    with chromium() as (context, _):
        page = context.new_page()
        page.goto(live.url)
        wait_for(page, "() => window.__liveStats && window.__liveStats.hellos > 0", 30)
        page.wait_for_selector("#btn-mark:not([disabled])")
        page.fill("#mark-text", HOSTILE)
        page.click("#btn-mark")
        wait_for(page, "() => document.querySelectorAll('#events li').length > 0", 10)
        assert page.text_content("#events li .lbl") == HOSTILE
        assert page.text_content("#notes") == f"notes {HOSTILE}"
        assert page.text_content("#subject") == "S-07 <b>bold</b>"
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("document.querySelectorAll('body img, #events script, #notes *, #subject *').length") == 0
    live.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_killing_the_browser_loses_nothing_of_the_recording(live: LiveCommand, walk: Recording) -> None:
    from browser import browser_pid, chromium, wait_for

    with chromium() as (context, profile):
        page = context.new_page()
        page.goto(live.url)
        page.wait_for_selector("#btn-record:not([disabled])", timeout=30_000)
        page.click("#btn-record")
        wait_for(page, "() => document.getElementById('rec').classList.contains('on')", 10)
        page.click("button.markbtn[data-label='turn']")
        wait_for(page, "() => window.__liveStats.acks.length >= 2", 10)
        time.sleep(2.0)
        pid = browser_pid(profile)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # the browser we started, gone without a goodbye
        killed_at = time.monotonic()
    time.sleep(2.0)  # the capture keeps recording with no page open
    ack = asyncio.run(_control(live.url, "stop_recording"))
    recording_s = time.monotonic() - killed_at
    assert ack["ok"], ack
    saved = Path(ack["message"].removeprefix("saved "))
    recorded = load(saved)
    assert [m.label for m in recorded.marks] == ["turn"]
    for side in ("left", "right"):
        got, source = recorded.foot(side), walk.foot(side)
        assert got.valid.all()
        # contiguous from start to stop: no sample lost when the page died
        np.testing.assert_allclose(np.diff(got.time_s), 1 / walk.sample_rate_hz, rtol=1e-6)
        # at least 2 s (recorded before the kill) + the time since the kill, at 100 Hz
        assert got.n_samples >= (2.0 + recording_s) * walk.sample_rate_hz * 0.95
        first = int(np.searchsorted(source.time_s, got.time_s[0] - 1e-9))
        np.testing.assert_array_equal(got.values, source.values[first:first + got.n_samples])
    assert live.process.poll() is None  # the capture is still running


@pytest.mark.browser
@pytest.mark.slow
def test_a_page_without_the_secret_gets_nothing_and_controls_nothing(live: LiveCommand) -> None:
    """The address without ``?token=`` (or with another one) shows an empty page that says why."""
    from browser import chromium, wait_for

    base = live.url.split("?", 1)[0]
    with chromium() as (context, _):
        page = context.new_page()
        page.goto(base)
        wait_for(page, "() => document.getElementById('conn').textContent.includes('no session secret')", 10)
        page.goto(base + "?token=not-the-secret")
        wait_for(page, "() => document.getElementById('conn').textContent.includes('disconnected')", 10)
        time.sleep(1.5)  # it keeps retrying, and keeps being refused
        assert page.evaluate("window.__liveStats.hellos") == 0
        assert page.evaluate("window.__liveStats.frames") == 0
        assert page.evaluate("document.getElementById('btn-record').disabled") is True
    # the capture never heard of it: the same address with the secret still works
    ack = asyncio.run(_control(live.url, "mark", label="after the refused pages"))
    assert ack["ok"], ack


@pytest.mark.ble
@pytest.mark.browser
@pytest.mark.slow
def test_live_capture_of_emulated_insoles_survives_the_browser(tmp_path: Path, artifacts: Path) -> None:
    """The real collector (bleak against emulated insoles on a private BlueZ) feeding the page."""
    from browser import browser_pid, chromium, live_figures, wait_for

    command = LiveCommand(None, tmp_path, "--subject", "E-01", "--notes", "emulated clinic walk")
    try:
        with chromium() as (context, profile):
            page = context.new_page()
            console_errors: list[str] = []
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.goto(command.url)
            wait_for(page, "() => window.__liveStats && window.__liveStats.heat_draws > 30", 60)
            figures = live_figures(page, seconds=8.0)
            print(f"live page, emulated insoles: {figures.as_dict()}")
            assert figures.heat_fps >= 20.0 and figures.curve_fps >= 10.0, figures
            assert figures.heat_age_p95_ms <= 100.0 and figures.curve_age_p95_ms <= 100.0, figures
            assert page.text_content("#link-left .state").strip() == "streaming"
            assert page.text_content("#link-right .state").strip() == "streaming"
            page.click("button.markbtn[data-label='turn']")
            wait_for(page, "() => window.__liveStats.acks.some(a => a.ok && a.action === 'mark')", 10)
            wait_for(page, "() => document.querySelectorAll('#events li').length > 0", 10)
            page.screenshot(path=str(artifacts / "live_dashboard_emulated.png"))
            assert console_errors == [] and figures.errors == ()
            os.kill(browser_pid(profile), signal.SIGKILL)
            killed_at = time.monotonic()
        time.sleep(3.0)  # capturing with no page open
        ack = asyncio.run(_control(command.url, "stop_recording"))
        after_kill_s = time.monotonic() - killed_at
    finally:
        out, err = command.stop()
    assert ack["ok"], (ack, err)
    saved = Path(ack["message"].removeprefix("saved "))
    recorded = load(saved)
    assert [m.label for m in recorded.marks] == ["turn"]
    for side in ("left", "right"):
        foot = recorded.foot(side)
        # no faults were injected: every slot from start to stop arrived
        assert foot.valid.all(), f"{side}: {(~foot.valid).sum()} samples lost"
        assert np.allclose(np.diff(foot.time_s), 0.01, atol=0.002)
        # 8 s measured + the time after the kill, at 100 Hz (the connection took place before)
        assert foot.n_samples >= (8.0 + after_kill_s) * 100 * 0.95


def test_live_model_plays_a_bursty_feed_smoothly(walk: Recording) -> None:
    """A collector that hands over 0.25 s of samples at a time is shown one frame's worth at a time."""
    wall = {"now": 0.0}
    model = LiveModel(walk.layout, walk.unit, walk.sample_rate_hz, clock=lambda: wall["now"])
    cursor = ClientCursor()
    foot = walk.right
    per_frame, map_times = [], []
    for burst in range(40):  # 10 s of feed in bursts of 25 samples every 0.25 s
        rows = slice(burst * 25, burst * 25 + 25)
        model.ingest(SampleBlock("right", foot.time_s[rows], foot.values[rows], foot.valid[rows]))
        for _ in range(8):  # the page's 30 frames per second... in 0.25 s, about 8
            frame = model.frame_for(cursor)
            if frame and "feet" in frame and "right" in frame["feet"]:
                per_frame.append(len(frame["feet"]["right"].get("t", [])))
                if "map_t" in frame["feet"]["right"]:
                    map_times.append(frame["feet"]["right"]["map_t"])
            wall["now"] += 0.25 / 8
    steady = per_frame[len(per_frame) // 2:]
    # about 3 samples a frame (100 Hz / 32 frames/s), never a whole burst at once
    assert max(steady) <= 6 and np.mean(steady) == pytest.approx(100 / 32, rel=0.15)
    # a new map in (almost) every frame, moving forward in time
    assert np.all(np.diff(map_times) > 0) and len(map_times) >= 0.9 * 8 * 39
    assert 0.25 <= model.playout_delay_s <= 0.35  # 1.2 x the 0.25 s burst interval


@pytest.mark.parametrize("layout_name", ["footswitch1", "gaitpdb8", "moticon16", "insole16"])
def test_the_hello_of_every_layout_family_is_strict_json(layout_name: str) -> None:
    # a foot switch's one sensor reaches the whole foot (an infinite reach): the hello was not valid
    # JSON, and `insole live --replay` of a gaitndd recording dropped every page that joined
    layout = get_layout(layout_name)
    server = LiveServer(LiveHub(), layout=layout, unit="kPa", sample_rate_hz=100)
    hello = json.loads(json.dumps(server._hello(), allow_nan=False))
    assert hello["layout"]["n_sensors"] == layout.n_sensors
    assert (hello["grid"]["reach_mm"] is None) == (layout.n_sensors == 1)


def _quick_heel_strikes(recording: Recording, side: str, offset: float = 0.0) -> np.ndarray:
    """The live model's heel strikes of one foot fed in 20 ms blocks, as a capture hands them over."""
    model = LiveModel(recording.layout, "au", recording.sample_rate_hz)
    foot = recording.foot(side)
    block = max(1, int(round(0.02 * recording.sample_rate_hz)))
    found = []
    for start in range(0, foot.n_samples, block):
        before = model.steps_dropped + len(model.steps)
        part = slice(start, start + block)
        model.ingest(SampleBlock(side, foot.time_s[part], foot.values[part] + offset, foot.valid[part]))
        new = model.steps_dropped + len(model.steps) - before
        found += [s["t"] for s in model.steps[len(model.steps) - new:] if s["kind"] == "hs"] if new else []
    return np.array(found)


def test_quick_steps_of_uncalibrated_values_do_not_depend_on_their_resting_level(walk: Recording) -> None:
    """Values in arbitrary units rest where the sensor rests: an ORPHE insole's raw counts near 220 a channel.

    The live page's step detector took fractions of the peak from zero, so a foot in the air (ORPHE: at 10 % of
    the peak; here 20 %) never read as off the ground: one step in a whole walk, no cadence (seen on 'insole live
    --replay' of an emulated ORPHE capture). Above the foot's recent lowest load, the same steps are found at the
    same times.
    """
    for side in ("left", "right"):
        plain = _quick_heel_strikes(walk, side)
        rest = 0.2 * float(np.nanmax(walk.foot(side).values.sum(axis=1))) / walk.layout.n_sensors
        raised = _quick_heel_strikes(walk, side, offset=rest)
        assert plain.size >= 50  # 60 s of walking
        np.testing.assert_array_equal(raised, plain)


@pytest.mark.parametrize("name", ["gaitndd_control1.parquet", "stappone_example.csv"])
def test_quick_steps_of_uncalibrated_real_feet_follow_the_analysis(name: str, request: pytest.FixtureRequest) -> None:
    """Real signals in arbitrary units whose zero is not "in the air".

    A gaitndd foot switch reads about -0.6 in the air and +0.2 on the ground; a stappone insole about 2900 in the
    air and 5000-6000 on the ground (residual load in the shoe). The detector took its thresholds as fractions of
    the peak above zero: the stappone foot never left the ground (no step, no cadence) and the gaitndd page showed
    319 steps/min. Now the quick count is within 10 % of the analysis' (stappone 56 of 60, gaitndd 268 of 270 and
    269 of 269), 80 % of the analysis' heel strikes have a quick one within 50 ms (the page's ▲: a twentieth of a
    stride; the quick detector fires once the load passes 12 % of its swing, a few samples after contact), and no
    quick heel strike lies more than 0.1 s from the analysis' between its first and last (stappone's first 5 s of
    standing are not read as steps: the lowest load there is close to the peak).
    """
    from insole import analyze

    if name.endswith(".parquet"):
        recording = load(REPO / "recordings" / name)
    else:
        recording = load(request.getfixturevalue("shared_data") / "vendor-exports" / name)
    analysis = analyze(recording)
    for side in recording.sides:
        quick = _quick_heel_strikes(recording, side)
        truth = np.asarray(analysis.events[side].heel_strike_s)
        nearest = np.abs(quick[:, None] - truth[None, :]).min(axis=0)
        assert abs(quick.size - truth.size) <= 0.1 * truth.size, (side, quick.size, truth.size)
        assert np.mean(nearest <= 0.05) >= 0.8, (side, np.sort(nearest)[-8:])
        alone = quick[np.abs(quick[:, None] - truth[None, :]).min(axis=1) > 0.1]
        assert np.all((alone < truth[0]) | (alone > truth[-1])), (side, alone)


def test_uncalibrated_feet_get_no_left_right_share(walk: Recording) -> None:
    """Two uncalibrated sensors' values are not comparable: the live page shows no balance for "au" (it says why)."""
    shares = {}
    for unit in ("kPa", "au"):
        model = LiveModel(walk.layout, unit, walk.sample_rate_hz)
        for side in ("left", "right"):
            foot = walk.foot(side)
            model.ingest(SampleBlock(side, foot.time_s[:600], foot.values[:600], foot.valid[:600]))
        shares[unit] = model.balance_left_pct()
    assert shares["au"] is None and 40.0 <= shares["kPa"] <= 60.0


def test_a_replay_has_a_status_line(walk_file: Path, tmp_path: Path) -> None:
    """'insole live --replay' printed nothing between its address and "stopped"; 'insole record' has a status line."""
    command = LiveCommand(walk_file, tmp_path, "--duration-s", "6")
    command.process.wait(timeout=60)  # it stops by itself after 6 s
    out, err = command.stop()
    lines = [line for line in out.splitlines() if "| replaying walk.parquet |" in line]
    assert lines, out
    assert re.fullmatch(r" +5\.\d s \| replaying walk\.parquet \| not recording", lines[0]), lines

"""Dashboards: size and load time of the offline dashboard of a 10-minute session, and the live page's pace.

    .venv/bin/python benchmarks/bench_dashboard.py           # prints the markdown section
    .venv/bin/python benchmarks/run_all.py bench_dashboard   # and writes docs/benchmarks.md

``measure()`` returns the figures as a dict; ``run()`` the markdown section.
Both drive the system's headless Chromium (see ``tests/browser.py``).
The machine's load average is printed with the figures: browser timings on a
shared 2-core machine move with whatever else runs.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

OFFLINE_DURATION_S = 600.0
LOAD_RUNS = 3
SEEKS = 60
LIVE_SECONDS = 15.0


def _load_average() -> str:
    try:
        return " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux
        return "n/a"


def _offline(workdir: Path) -> dict[str, Any]:
    from dashboards import write_dashboard
    from insole import write_parquet
    from insole.analysis import analyze
    from insole.simulate import SimulationParams, simulate
    from tests.browser import chromium, wait_for

    recording = simulate(SimulationParams(duration_s=OFFLINE_DURATION_S, seed=11, turns=4))
    write_parquet(recording, workdir / "ten_minutes.parquet")
    analysis = analyze(recording)
    started = time.perf_counter()
    path = write_dashboard(recording, workdir / "ten_minutes.html", analysis=analysis)
    build_s = time.perf_counter() - started
    ready, seek_ms, requests = [], [], set()
    with chromium(width=1500, height=1000) as (context, _):
        for _ in range(LOAD_RUNS):
            page = context.new_page()
            page.on("request", lambda r: requests.add(r.url))
            page.goto(path.as_uri())
            ready.append(wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 120))
            sections = page.evaluate("window.__dashboardStats.sections")
            page.close()
        page = context.new_page()
        page.goto(path.as_uri())
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 120)
        # seeks to random places, each awaited until drawn: what scrubbing costs
        seek_ms = page.evaluate(
            """async (n) => {
                const p = window.__player, out = [];
                for (let i = 0; i < n; i++) {
                    const target = Math.floor(Math.random() * p.n), t0 = performance.now(), before = p.draws;
                    p.seek(target);
                    while (p.draws === before) await new Promise(r => requestAnimationFrame(r));
                    out.push(performance.now() - t0);
                }
                return out;
            }""",
            SEEKS,
        )
    return {
        "duration_s": OFFLINE_DURATION_S,
        "size_mb": path.stat().st_size / 1e6,
        "build_s": build_s,
        "ready_ms": ready,
        "sections_ms": sections,
        "seek_ms_median": statistics.median(seek_ms),
        "seek_ms_p95": sorted(seek_ms)[int(0.95 * (len(seek_ms) - 1))],
        "requests": sorted(requests),
        "parquet_mb": (workdir / "ten_minutes.parquet").stat().st_size / 1e6,
    }


def _live(workdir: Path, emulate: bool = False) -> dict[str, Any]:
    from tests.browser import chromium, live_figures, wait_for

    source = ["--emulate"] if emulate else ["--replay", str(workdir / "ten_minutes.parquet")]
    command = subprocess.Popen(
        [sys.executable, "-m", "insole._cli", "live", *source, "--port", "0", "--out-dir", str(workdir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )
    # both streams were opened with PIPE
    assert command.stdout is not None and command.stderr is not None
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = command.stdout.readline()
            found = re.search(r"open (http://\S+)", line or "")
            url = found.group(1) if found else None
            if not line:
                break
        if url is None:
            raise RuntimeError(f"insole live did not start: {command.stderr.read()}")
        with chromium(width=1600, height=1000) as (context, _):
            page = context.new_page()
            page.goto(url)
            wait_for(page, "() => window.__liveStats && window.__liveStats.heat_draws > 30", 60)
            figures = live_figures(page, LIVE_SECONDS)
        return figures.as_dict()
    finally:
        command.send_signal(signal.SIGINT)
        command.communicate(timeout=60)


def measure() -> dict[str, Any]:
    """Offline and live figures (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as folder:
        workdir = Path(folder)
        load_before = _load_average()
        offline = _offline(workdir)
        live = _live(workdir)
        try:  # the real collector against emulated insoles on a private BlueZ (needs dbus-daemon)
            emulated: dict[str, Any] = _live(workdir, emulate=True)
        except Exception as error:  # reported in the table, the other figures still count
            emulated = {"error": f"{type(error).__name__}: {error}"}
        return {"offline": offline, "live": live, "emulated": emulated,
                "load_average": f"{load_before} (before) · {_load_average()} (after)"}


def run() -> str:
    figures = measure()
    off, live, emulated = figures["offline"], figures["live"], figures["emulated"]
    ready = off["ready_ms"]
    lines = [
        "## Dashboards (`benchmarks/bench_dashboard.py`)",
        "",
        "Headless Chromium (system package, software rendering). "
        f"Load average 1/5/15 min: {figures['load_average']}.",
        "",
        f"### Offline dashboard of a {off['duration_s'] / 60:.0f}-minute two-foot session "
        "(insole16, 100 Hz, every sample in the player)",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| file size | {off['size_mb']:.2f} MB (the recording itself: {off['parquet_mb']:.1f} MB Parquet) "
        "| <= 12 MB |",
        f"| build time (analysis given) | {off['build_s']:.1f} s | |",
        f"| ready in the browser (from navigation), {len(ready)} loads | median {statistics.median(ready):.0f} ms "
        f"(min {min(ready):.0f}, max {max(ready):.0f}) | <= 3000 ms |",
        f"| player seek to a random moment, drawn | median {off['seek_ms_median']:.1f} ms, "
        f"p95 {off['seek_ms_p95']:.1f} ms | smooth scrubbing |",
        f"| network requests | {len(off['requests'])} "
        f"({', '.join('file:' if r.startswith('file:') else r for r in off['requests'])}) | the file only |",
        "",
        "Time spent per section on the last load (ms): "
        + ", ".join(f"{k} {v}" for k, v in off["sections_ms"].items()) + ".",
        "",
        f"### Live page, measured over {LIVE_SECONDS:.0f} s",
        "",
        "Replay: that session played at real time in 20 ms blocks. Emulated: `insole live --emulate`, the real "
        "collector (bleak) against two emulated insoles on a private fake BlueZ, in the same process as the server "
        "(the collector hands samples over every 0.25 s; the page plays them out one frame at a time).",
        "",
        "| figure | replay | emulated insoles | target |",
        "|---|---|---|---|",
    ]

    def cell(data: dict[str, Any], key: str, fmt: str) -> str:
        return "n/a" if "error" in data else format(data[key], fmt)

    rows = [
        ("heat-map redraws (/s)", "heat_fps", ".1f", ">= 20"),
        ("load-curve redraws (/s)", "curve_fps", ".1f", ">= 10"),
        ("frames received from the server (/s)", "frames_per_s", ".1f", "30 sent"),
        ("age of the drawn map, p50 (ms)", "heat_age_p50_ms", ".0f", ""),
        ("age of the drawn map, p95 (ms)", "heat_age_p95_ms", ".0f", "<= 100"),
        ("age of the oldest sample in a curve draw, p95 (ms)", "curve_age_p95_ms", ".0f", "<= 100"),
        ("draw time per map frame, p50 (ms)", "heat_draw_ms_p50", ".1f", ""),
        ("playout delay behind the newest sample (ms)", "playout_delay_ms", ".0f", "as the feed needs"),
    ]
    for label, key, fmt, target in rows:
        lines.append(f"| {label} | {cell(live, key, fmt)} | {cell(emulated, key, fmt)} | {target} |")
    emulated_errors = "n/a" if "error" in emulated else len(emulated["errors"])
    lines.append(f"| page errors | {len(live['errors'])} | {emulated_errors} | 0 |")
    if "error" in emulated:
        lines += ["", f"Emulated insoles not measured: {emulated['error']}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())

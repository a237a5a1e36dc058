"""Driving the dashboards in a real headless Chromium, for the tests and the benchmarks.

Test support, not part of the shipped packages: the tests import it as
``browser`` (pytest puts ``tests/`` on ``sys.path``), the benchmarks as
``tests.browser`` with the repository root on ``sys.path``.

Uses Playwright's Python package with the *system* Chromium (Debian's
``chromium``; no browser is ever downloaded). Playwright is a test
dependency, imported only when these helpers run.

The live page counts its own draws and the age of what each draw showed
(``window.__liveStats``); ``live_figures`` reads them over a time window. The
offline dashboard records how long it took to become ready
(``window.__dashboardStats``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CHROMIUM_ARGS",
    "chromium_path",
    "chromium",
    "browser_pid",
    "LiveFigures",
    "live_figures",
    "live_replay",
    "wait_for",
]

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def chromium_path() -> str:
    """The Chromium to drive: $INSOLE_CHROMIUM, else ``chromium`` on PATH, else Debian's path."""
    return os.environ.get("INSOLE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def chromium(*, width: int = 1600, height: int = 1000) -> Iterator[tuple[Any, Path]]:
    """A headless Chromium context with its own profile folder; yields ``(context, profile_dir)``.

    The profile folder names the browser's processes on the command line, so a
    test can find (and kill) exactly the browser it started: ``browser_pid``.
    """
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="insole-chromium-"))
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=chromium_path(),
                args=list(CHROMIUM_ARGS),
                headless=True,
                viewport={"width": width, "height": height},
            )
            try:
                yield context, profile
            finally:
                with contextlib.suppress(Exception):
                    context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def browser_pid(profile: Path) -> int | None:
    """The pid of the main browser process started with ``profile`` (not its renderers)."""
    marker = f"--user-data-dir={profile}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in argv and not any(a.startswith(b"--type=") for a in argv):
            return int(entry.name)
    return None


@dataclass(frozen=True)
class LiveFigures:
    """What the live page achieved over ``seconds``: draw rates (per s) and ages (ms)."""

    seconds: float
    heat_fps: float
    curve_fps: float
    frames_per_s: float
    heat_age_p50_ms: float
    heat_age_p95_ms: float
    curve_age_p50_ms: float
    curve_age_p95_ms: float
    heat_draw_ms_p50: float
    curve_draw_ms_p50: float
    playout_delay_ms: float
    errors: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def live_figures(page: Any, seconds: float = 10.0) -> LiveFigures:
    """Measure the open live page for ``seconds`` (the page must already be running)."""
    read = "() => { const s = window.__liveStats; return {h: s.heat_draws, c: s.curve_draws, f: s.frames, " \
           "nh: s.heat_age_ms.length, nc: s.curve_age_ms.length, nhm: s.heat_ms.length, ncm: s.curve_ms.length}; }"
    before = page.evaluate(read)
    started = time.monotonic()
    time.sleep(seconds)
    after = page.evaluate(read)
    elapsed = time.monotonic() - started
    stats = page.evaluate(
        "() => { const s = window.__liveStats; return {ha: s.heat_age_ms, ca: s.curve_age_ms, "
        "hm: s.heat_ms, cm: s.curve_ms, errors: s.errors, delay: s.playout_delay_ms}; }"
    )
    # the stats lists keep their newest 5000 entries; take those of this window
    heat_ages = stats["ha"][-(after["nh"] - before["nh"]) or len(stats["ha"]):]
    curve_ages = stats["ca"][-(after["nc"] - before["nc"]) or len(stats["ca"]):]
    return LiveFigures(
        seconds=round(elapsed, 2),
        heat_fps=(after["h"] - before["h"]) / elapsed,
        curve_fps=(after["c"] - before["c"]) / elapsed,
        frames_per_s=(after["f"] - before["f"]) / elapsed,
        heat_age_p50_ms=_percentile(heat_ages, 50),
        heat_age_p95_ms=_percentile(heat_ages, 95),
        curve_age_p50_ms=_percentile(curve_ages, 50),
        curve_age_p95_ms=_percentile(curve_ages, 95),
        heat_draw_ms_p50=_percentile(stats["hm"], 50),
        curve_draw_ms_p50=_percentile(stats["cm"], 50),
        playout_delay_ms=float(stats["delay"]) if stats.get("delay") is not None else float("nan"),
        errors=tuple(stats["errors"]),
    )


def wait_for(page: Any, expression: str, timeout_s: float = 30.0, interval_s: float = 0.1) -> Any:
    """Poll ``expression`` (a JS arrow function) until it returns something truthy.

    Playwright's ``wait_for_function`` evaluates its predicate with ``eval``,
    which the live page's Content-Security-Policy forbids (as it should);
    ``page.evaluate`` goes through the DevTools protocol and is not affected.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {expression}")
        time.sleep(interval_s)


@contextlib.contextmanager
def live_replay(recording: Path, *extra: str, timeout_s: float = 60.0) -> Iterator[str]:
    """``insole live --replay RECORDING`` on a free loopback port; yields the page's address (with its secret).

    Ctrl-C (SIGINT) stops it on the way out, as a user would; it is killed if it has not stopped in 30 s.
    """
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="insole-live-") as out_dir:
        process = subprocess.Popen(
            [sys.executable, "-m", "insole._cli", "live", "--replay", str(recording), "--port", "0",
             "--out-dir", out_dir, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=repo,
        )
        try:
            url, lines, deadline = None, [], time.monotonic() + timeout_s
            while url is None and time.monotonic() < deadline:
                line = process.stdout.readline() if process.stdout else ""
                if not line:
                    break
                lines.append(line)
                found = re.search(r"open (http://\S+)", line)
                url = found.group(1) if found else None
            if url is None:
                process.kill()
                raise RuntimeError(f"insole live did not start: {''.join(lines)} {process.communicate()[1]}")
            yield url
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()

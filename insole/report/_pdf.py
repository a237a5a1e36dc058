"""The PDF: the same HTML page, printed by headless Chromium (no second layout to keep in step).

Chromium runs with networking, first-run work and its own pages switched off
and prints the file after its scripts have run (``--virtual-time-budget`` lets
plotly draw before the page is printed). The HTML file is written first and
printed from disk, so the PDF shows exactly what the page shows.

Starting Chromium takes about a second (1.1 s for an empty page here). A
command that will print once its work is done (``insole report --pdf``) can
start it first (``prestart_pdf``); the next ``print_pdf`` then drives that
browser over its DevTools pipe: the same page,
the same virtual-time budget and the same print settings as the command-line
print (``--print-to-pdf`` prints backgrounds and takes the page size from the
page's CSS), so the same PDF, without the wait. Should anything go wrong with
the started browser, the page is printed the command-line way.

The started browser also does the page's slowest part ahead: it opens a
warm-up page (``insole.report._html.warm_page``) that runs plotly.js (4.8 MB)
exactly where the report's page runs it, and then loads a byte-for-byte copy of
the page to print at the warm-up page's address, in the same tab. Chromium
reuses the plotly.js it compiled for the warm-up, so the page loads in about
0.5 s instead of 1.3 s. The copy prints as the page does: the page is
self-contained (nothing it shows comes from beside it) and its links are to
places in itself or on the web.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from insole._errors import InsoleError

__all__ = ["print_pdf", "chromium_path", "PdfError", "prestart_pdf", "discard_prestarted_pdf"]

_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# How long (virtual ms) the page may run its scripts before printing; plotly draws in well under this.
_VIRTUAL_TIME_MS = 10_000
_TIMEOUT_S = 180
# Chromium's profile goes to memory when there is room (see _scratch_folder)
_MEMORY_FOLDER = "/dev/shm"
_MEMORY_FOLDER_FREE_B = 1 << 30
_PREFIX = "insole-pdf-"
# A folder of ours left there this long belongs to a print that was killed (a print times out after _TIMEOUT_S)
_STALE_S = 6 * 3600
# How long a print waits for the warm-up page of a browser started ahead (``prestart_pdf``) to finish loading
_WARM_WAIT_S = 20.0
# Chromium's switches for both ways of printing: no network, no first-run work, nothing of a user profile, and
# none of the browser's own pages started ahead: headless Chromium 156 still loads the address bar's suggestion
# popup (a page of its own, in a renderer of its own: 0.55 s of CPU) and keeps a spare renderer ready; without
# them, and without translation, optimisation hints, casting and component updates, starting the browser costs
# 0.45 s of CPU instead of 1.3 s here (the PDF is the same, byte for byte but for its dates)
_SWITCHES = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
             "--disable-extensions", "--disable-sync", "--no-default-browser-check", "--disable-component-update",
             "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,PreloadTopChromeWebUI,"
             "SpareRendererForSitePerProcess,Translate,OptimizationHints,MediaRouter")


class PdfError(InsoleError):
    """Headless Chromium was not found or could not print the page."""


def chromium_path() -> str | None:
    """The Chromium executable: ``INSOLE_CHROMIUM`` if set, else the usual install paths, else PATH."""
    configured = os.environ.get("INSOLE_CHROMIUM")
    if configured:
        return configured
    for candidate in _CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _scratch_folder() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for Chromium's throwaway profile (and the page it prints), in memory where possible.

    Chromium writes some 140 files into a new profile as it starts (2.7 MB: small databases, each synced to
    disk) and the folder is removed after the print: on a disk mounted with ``discard`` that removal alone
    took 0.3 s here, on ``/dev/shm`` (memory) 5 ms. ``/dev/shm`` is used when it is there and has room (a
    container's may be 64 MB, which Chromium's own shared memory needs); else the usual temporary folder.
    A file Chromium still writes as the folder goes is no error: the folder is removed as far as it can be.
    """
    where: str | None = None
    try:
        found = os.statvfs(_MEMORY_FOLDER)
        if found.f_bavail * found.f_frsize >= _MEMORY_FOLDER_FREE_B and os.access(_MEMORY_FOLDER, os.W_OK | os.X_OK):
            where = _MEMORY_FOLDER
            _sweep(where)
    except (OSError, AttributeError):  # no /dev/shm (macOS, Windows: no statvfs)
        pass
    return tempfile.TemporaryDirectory(prefix=_PREFIX, dir=where, ignore_cleanup_errors=True)


def _sweep(where: str) -> None:
    """Remove this user's folders left in ``where`` by a print that was killed (memory is not freed otherwise).

    Only folders of ours (the prefix, this user's) untouched for ``_STALE_S``: no print runs that long.
    """
    now = time.time()
    with os.scandir(where) as entries:
        for entry in entries:
            if not entry.name.startswith(_PREFIX):
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if entry.is_dir(follow_symlinks=False) and stat.st_uid == os.getuid() and now - stat.st_mtime > _STALE_S:
                shutil.rmtree(entry.path, ignore_errors=True)


def print_pdf(html_path: str | Path, pdf_path: str | Path, chromium: str | None = None) -> Path:
    """Print the HTML file at ``html_path`` to ``pdf_path`` with headless Chromium; returns the PDF path."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    executable = chromium or chromium_path()
    if not executable:
        raise PdfError("headless Chromium is needed for --pdf and was not found (install chromium, or set "
                       "INSOLE_CHROMIUM to its path)")
    browser = _STARTED.pop() if _STARTED and _STARTED[-1].executable == executable else None
    if browser is not None:
        try:
            pdf_path.write_bytes(browser.print_page(html_path))
            return pdf_path
        except (OSError, ValueError, KeyError, _BrowserError):
            pass  # printed the command-line way below
        finally:
            browser.close()
    with _scratch_folder() as profile:
        command = [
            executable, *_SWITCHES, f"--user-data-dir={profile}", "--no-pdf-header-footer",
            f"--virtual-time-budget={_VIRTUAL_TIME_MS}", f"--print-to-pdf={pdf_path}", html_path.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PdfError(f"Chromium could not print {html_path.name}: {error}") from None
    if done.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PdfError(f"Chromium could not print {html_path.name} (exit {done.returncode}): {detail[0]}")
    return pdf_path


# ---------------------------------------------------------------- a browser started ahead of the print

_STARTED: list[_Browser] = []  # at most one: the browser ``prestart_pdf`` started, until a print takes it


def prestart_pdf(chromium: str | None = None) -> bool:
    """Start headless Chromium now, for the next ``print_pdf`` in this process; False when it cannot start.

    For a command that will print once it has done its work: the browser
    starts, and compiles plotly.js on the report's warm-up page, while the
    work runs. ``discard_prestarted_pdf`` (also run at exit) stops a browser
    no print took.
    """
    discard_prestarted_pdf()
    executable = chromium or chromium_path()
    if not executable:
        return False
    try:
        _STARTED.append(_Browser(executable, _warm_page()))
    except (OSError, ValueError, subprocess.SubprocessError):
        return False
    return True


def _warm_page() -> str | None:
    """The report's warm-up page (insole/report/_html.py ``warm_page``); None if it cannot be made."""
    from insole.report._html import warm_page

    try:
        return warm_page()
    except (OSError, ValueError):
        return None


def discard_prestarted_pdf() -> None:
    """Stop the browser ``prestart_pdf`` started, if no print took it."""
    while _STARTED:
        _STARTED.pop().close()


atexit.register(discard_prestarted_pdf)


class _BrowserError(Exception):
    """The started browser did not answer as expected (the command-line print is used instead)."""


class _Browser:
    """Headless Chromium driven over ``--remote-debugging-pipe`` (DevTools messages, each ended by a NUL byte).

    Chromium reads commands from its file descriptor 3 and writes answers and
    events to its descriptor 4.
    """

    def __init__(self, executable: str, warm_page: str | None = None) -> None:
        self.executable = executable
        # one temporary folder for Chromium's profile and the page it prints: the warm-up page first (opened as
        # the browser starts), then, at the same address, a copy (byte for byte) of the page to print
        self._profile = _scratch_folder()
        profile = Path(self._profile.name) / "profile"
        self._page = Path(self._profile.name) / "page.html"
        self._warm = warm_page is not None
        first = "about:blank"
        if warm_page is not None:
            try:
                self._page.write_text(warm_page, encoding="utf-8")
                first = self._page.as_uri()
            except OSError:
                self._warm = False
        commands_in, self._commands = os.pipe()
        self._answers, answers_out = os.pipe()

        def as_3_and_4() -> None:  # in the child, before exec
            os.dup2(commands_in, 3)
            os.dup2(answers_out, 4)

        try:
            self._process = subprocess.Popen(
                [executable, *_SWITCHES, f"--user-data-dir={profile}", "--remote-debugging-pipe", first],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=as_3_and_4, pass_fds=(3, 4, commands_in, answers_out),  # noqa: PLW1509 - before any thread
            )
        except BaseException:
            for fd in (commands_in, answers_out, self._commands, self._answers):
                os.close(fd)
            self._profile.cleanup()
            raise
        os.close(commands_in)
        os.close(answers_out)
        self._pending = b""
        self._last_id = 0
        self._events: list[dict[str, Any]] = []
        self._deadline = 0.0

    def print_page(self, html_path: Path) -> bytes:
        """The PDF of the page at ``html_path``, printed as ``--print-to-pdf --no-pdf-header-footer`` prints it."""
        self._deadline = time.monotonic() + _TIMEOUT_S
        # a browser started long ago (a notebook's prestart_pdf) is in use: its folder is not stale (``_sweep`` reads
        # the folder's own time, which Chromium's writes inside its profile do not change)
        os.utime(self._profile.name)
        session = self._warm_session() if self._warm else None
        if session is not None:  # the page's copy, at the address of the warm-up page
            shutil.copyfile(html_path, self._page)
            url = self._page.as_uri()
        else:
            target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            url = html_path.as_uri()
        self._send("Page.enable", session=session)
        navigated = self._send("Page.navigate", {"url": url}, session=session)
        if navigated.get("errorText"):
            raise _BrowserError(navigated["errorText"])
        self._wait_for("Page.loadEventFired")
        # as --virtual-time-budget: the page's scripts (plotly drawing) run until the budget is spent
        self._send("Emulation.setVirtualTimePolicy",
                   {"policy": "pauseIfNetworkFetchesPending", "budget": _VIRTUAL_TIME_MS}, session=session)
        self._wait_for("Emulation.virtualTimeBudgetExpired")
        printed = self._send("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True,
                                                 "displayHeaderFooter": False}, session=session)
        pdf = base64.b64decode(printed["data"], validate=True)
        if not pdf.startswith(b"%PDF"):
            raise _BrowserError("Page.printToPDF gave no PDF")
        return pdf

    def _warm_session(self) -> str | None:
        """A session on the tab that opened the warm-up page, once that page has loaded; None without one.

        The page to print is then loaded at the same address in the same tab (the same renderer), where the
        compiled plotly.js is kept. Waiting for the warm-up to end costs less than starting the page over:
        a load started while plotly.js still runs waits for it anyway.
        """
        warm_url = self._page.as_uri()
        targets = self._send("Target.getTargets")["targetInfos"]
        tabs = [found["targetId"] for found in targets if found.get("type") == "page"]
        if not tabs:
            return None
        session: str = self._send("Target.attachToTarget", {"targetId": tabs[0], "flatten": True})["sessionId"]
        loaded = ("new Promise(done => document.readyState === 'complete' ? done(location.href) : "
                  "addEventListener('load', () => done(location.href)))")
        until = time.monotonic() + _WARM_WAIT_S
        # each question waits for the page's load event: no longer than the warm-up may take, so a page that never
        # loads costs _WARM_WAIT_S, not the whole print's time (a final read's finding)
        print_deadline, self._deadline = self._deadline, min(self._deadline, until)
        try:
            while time.monotonic() < until:
                try:
                    found = self._send("Runtime.evaluate", {"expression": loaded, "awaitPromise": True,
                                                            "returnByValue": True}, session=session)
                except _BrowserError:  # the page changed while it was asked (the warm-up page replaced about:blank),
                    found = {}  # or did not answer in time
                address = found.get("result", {}).get("value")
                if address == warm_url or address not in (None, "about:blank"):
                    return session  # loaded; or something else is there (an error page): nothing to wait for
                time.sleep(0.02)  # the warm-up page is not there yet: the browser is still starting
        finally:
            self._deadline = print_deadline
        return None  # not loaded in time: the page is printed from a tab of its own

    def close(self) -> None:
        if self._process.poll() is None:
            # SIGTERM: Chromium shuts down as on DevTools' Browser.close, without closing its tabs one by one first
            # (the browser and all its processes gone in 40 ms instead of 105 ms here)
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for fd in (self._commands, self._answers):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    def _send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode("utf-8") + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._last_id:
                if "error" in answer:
                    raise _BrowserError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            if "method" in answer:
                self._events.append(answer)

    def _wait_for(self, event: str) -> None:
        for index, seen in enumerate(self._events):
            if seen.get("method") == event:
                del self._events[index]
                return
        while True:
            answer = self._read()
            if answer.get("method") == event:
                return
            self._events.append(answer)

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._pending:
            left = self._deadline - time.monotonic()
            if left <= 0 or not select.select([self._answers], [], [], left)[0]:
                raise _BrowserError(f"no answer from Chromium within {_TIMEOUT_S} s")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise _BrowserError("Chromium closed its DevTools pipe")
            self._pending += chunk
        message, self._pending = self._pending.split(b"\0", 1)
        found: dict[str, Any] = json.loads(message)
        return found

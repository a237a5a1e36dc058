"""The PDF: the same HTML page, printed by headless Chromium (no second layout to keep in step).

Chromium runs with networking and first-run work switched off and prints the
file after its scripts have run (``--virtual-time-budget`` lets plotly draw
before the page is printed). The HTML file is written first and printed from
disk, so the PDF shows exactly what the page shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from insole._errors import InsoleError

__all__ = ["print_pdf", "chromium_path", "PdfError"]

_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# How long (virtual ms) the page may run its scripts before printing; plotly draws in well under this.
_VIRTUAL_TIME_MS = 10_000
_TIMEOUT_S = 180


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


def print_pdf(html_path: str | Path, pdf_path: str | Path, chromium: str | None = None) -> Path:
    """Print the HTML file at ``html_path`` to ``pdf_path`` with headless Chromium; returns the PDF path."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    executable = chromium or chromium_path()
    if not executable:
        raise PdfError("headless Chromium is needed for --pdf and was not found (install chromium, or set "
                       "INSOLE_CHROMIUM to its path)")
    with tempfile.TemporaryDirectory(prefix="insole-pdf-") as profile:
        command = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--no-first-run", "--disable-extensions", "--disable-sync", "--no-default-browser-check",
            f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--virtual-time-budget={_VIRTUAL_TIME_MS}",
            f"--print-to-pdf={pdf_path}", html_path.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PdfError(f"Chromium could not print {html_path.name}: {error}") from None
    if done.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PdfError(f"Chromium could not print {html_path.name} (exit {done.returncode}): {detail[0]}")
    return pdf_path

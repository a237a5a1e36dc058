"""A Chromium started ahead of the print (``prestart_pdf``) prints the same PDF as the command-line print.

``insole report --pdf`` can start Chromium before it reads and analyses the
recording, then print the written page over the browser's DevTools pipe. These
tests hold it to the command-line print (``--print-to-pdf``): same pages, same
page size, same text; a browser that died meanwhile still gives the PDF (the
command-line way), and a browser no print took is stopped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from insole.report import _pdf, build_report, write_html
from insole.simulate import SimulationParams, simulate

pypdf = pytest.importorskip("pypdf")

pytestmark = pytest.mark.skipif(_pdf.chromium_path() is None, reason="headless Chromium not installed")


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a real report: plotly draws its figures while the virtual-time budget runs
    recording = simulate(SimulationParams(pattern="normal", duration_s=60.0, seed=3))
    return write_html(build_report(recording), tmp_path_factory.mktemp("page") / "report.html")


def _pages(path: Path) -> list[tuple[tuple[float, float], str]]:
    reader = pypdf.PdfReader(str(path))
    return [((float(p.mediabox.width), float(p.mediabox.height)), " ".join(p.extract_text().split()))
            for p in reader.pages]


def test_prestarted_browser_prints_what_the_command_line_prints(report_page: Path, tmp_path: Path) -> None:
    reference = _pdf.print_pdf(report_page, tmp_path / "command-line.pdf")
    assert _pdf.prestart_pdf()
    browser = _pdf._STARTED[-1]
    printed = _pdf.print_pdf(report_page, tmp_path / "prestarted.pdf")
    assert not _pdf._STARTED  # the print took the browser ...
    assert browser._process.poll() is not None  # ... and stopped it
    expected = _pages(reference)
    assert len(expected) > 2
    assert _pages(printed) == expected


def test_a_browser_that_died_still_gives_the_pdf(report_page: Path, tmp_path: Path) -> None:
    assert _pdf.prestart_pdf()
    _pdf._STARTED[-1]._process.kill()
    printed = _pdf.print_pdf(report_page, tmp_path / "after-death.pdf")
    assert _pages(printed) == _pages(_pdf.print_pdf(report_page, tmp_path / "command-line.pdf"))


def test_an_unused_browser_is_stopped(tmp_path: Path) -> None:
    assert _pdf.prestart_pdf()
    browser = _pdf._STARTED[-1]
    profile = Path(browser._profile.name)
    assert profile.is_dir()
    _pdf.discard_prestarted_pdf()
    assert not _pdf._STARTED
    assert browser._process.poll() is not None
    assert not profile.exists()


def test_a_chromium_that_cannot_start_is_no_prestart(tmp_path: Path) -> None:
    assert not _pdf.prestart_pdf(chromium=str(tmp_path / "no-chromium"))
    assert not _pdf._STARTED

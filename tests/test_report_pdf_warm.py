"""The warm-up page a browser started ahead of the print loads first (``insole.report._html.warm_page``).

Chromium reuses the compiled plotly.js only for the same source at the same
place: the same address (the print's copy of the page replaces the warm-up page
at its address), the same line and column where the script starts, decoded from
the same character set. These tests hold the warm-up page to the report's page
on each of these, and check that a print from the warmed browser is the
report's page, not the warm-up page.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from pathlib import Path

import pytest

from insole.report import _pdf, build_report, render_html
from insole.report._html import warm_page
from insole.simulate import SimulationParams, simulate

# the opening tag of the script that carries plotly.js: the only script whose source starts with plotly's banner
_PLOTLY_SCRIPT = re.compile(r"<script>(?=/\*\*\s*\n?\s*\* plotly\.js)")


def _plotly_script(page: str) -> tuple[int, int, str]:
    """(line, column) where plotly.js's source starts in ``page`` (0-based, as the parser counts), and the source."""
    found = list(_PLOTLY_SCRIPT.finditer(page))
    assert len(found) == 1
    start = found[0].end()
    end = page.index("</script>", start)
    return page.count("\n", 0, start), start - (page.rfind("\n", 0, start) + 1), page[start:end]


@pytest.fixture(scope="module")
def report_page() -> str:
    # a subject id in the title: the title shares the lines above the script
    recording = simulate(SimulationParams(pattern="normal", duration_s=30.0, seed=5))
    return render_html(build_report(recording))


def test_warm_page_starts_plotly_where_the_report_page_does(report_page: str) -> None:
    warm = warm_page()
    line, column, source = _plotly_script(report_page)
    assert _plotly_script(warm) == (line, column, source)
    assert line > 0 and len(source) > 1_000_000  # the whole library, not a stub


def test_warm_page_declares_the_report_pages_character_set(report_page: str) -> None:
    # a page without a declared character set is read as windows-1252 from a file: another source string
    declared = re.compile(r'<meta charset="utf-8">', re.IGNORECASE)
    assert declared.search(report_page[:1024]) and declared.search(warm_page()[:1024])


def test_warm_page_draws_no_text_of_a_report(report_page: str) -> None:
    # nothing of it can pass for a report's page (the print tests below would see it)
    warm = warm_page()
    assert "Foot loading report" in report_page
    assert "Foot loading report" not in warm


@pytest.mark.skipif(_pdf.chromium_path() is None, reason="headless Chromium not installed")
def test_print_after_the_warm_up_is_the_pages_print(report_page: str, tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    page = tmp_path / "report.html"
    page.write_text(report_page, encoding="utf-8")
    reference = _pdf.print_pdf(page, tmp_path / "command-line.pdf")
    assert _pdf.prestart_pdf()
    browser = _pdf._STARTED[-1]
    assert browser._warm
    # the print waits for the warm-up page to have loaded, then loads the page at its address
    printed = _pdf.print_pdf(page, tmp_path / "warmed.pdf")
    assert not browser._page.exists()  # the browser's folder went with it

    def pages(path: Path) -> list[tuple[tuple[float, float], str]]:
        return [((float(p.mediabox.width), float(p.mediabox.height)), " ".join(p.extract_text().split()))
                for p in pypdf.PdfReader(str(path)).pages]

    expected = pages(reference)
    assert len(expected) > 2 and "Foot loading report" in expected[0][1]
    assert pages(printed) == expected


def test_chromiums_profile_goes_to_memory_when_there_is_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a folder with room is used (any folder stands for /dev/shm here) ...
    monkeypatch.setattr(_pdf, "_MEMORY_FOLDER", str(tmp_path))
    monkeypatch.setattr(_pdf, "_MEMORY_FOLDER_FREE_B", 1)
    with _pdf._scratch_folder() as folder:
        assert Path(folder).parent == tmp_path
    assert not Path(folder).exists()
    # ... one without room, or none at all, leaves the profile to the usual temporary folder
    monkeypatch.setattr(_pdf, "_MEMORY_FOLDER_FREE_B", 1 << 62)
    with _pdf._scratch_folder() as folder:
        assert Path(folder).parent == Path(tempfile.gettempdir())
    monkeypatch.setattr(_pdf, "_MEMORY_FOLDER", str(tmp_path / "absent"))
    with _pdf._scratch_folder() as folder:
        assert Path(folder).parent == Path(tempfile.gettempdir())


@pytest.mark.skipif(_pdf.chromium_path() is None, reason="headless Chromium not installed")
def test_a_warm_up_page_that_did_not_load_is_not_waited_for(report_page: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # the warm-up file is gone before Chromium opens it: the tab shows Chromium's error page, which never becomes
    # the warm-up page; the print goes on at once (were it waited for, with no limit, this print would never end)
    monkeypatch.setattr(_pdf, "_WARM_WAIT_S", 1e9)
    page = tmp_path / "report.html"
    page.write_text(report_page, encoding="utf-8")
    browser = _pdf._Browser(_pdf.chromium_path() or "", "<p>warm-up</p>")
    browser._page.unlink()
    _pdf._STARTED.append(browser)
    printed: list[Path] = []
    worker = threading.Thread(target=lambda: printed.append(_pdf.print_pdf(page, tmp_path / "p.pdf")), daemon=True)
    worker.start()
    worker.join(timeout=120)  # a guard against hanging the test run, not a measure of speed
    assert printed, "the print waited for a warm-up page that could not come"
    pypdf = pytest.importorskip("pypdf")
    assert "Foot loading report" in pypdf.PdfReader(str(printed[0])).pages[0].extract_text()


def test_a_warm_up_page_that_never_loads_costs_the_warm_up_wait_not_the_whole_print(
        report_page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a warm-up page whose load event never fires (its script never ends): each question about it waited for the
    # whole print's time (_TIMEOUT_S, 180 s) where the warm-up may take _WARM_WAIT_S; now the print goes on after it
    monkeypatch.setattr(_pdf, "_WARM_WAIT_S", 2.0)
    page = tmp_path / "report.html"
    page.write_text(report_page, encoding="utf-8")
    browser = _pdf._Browser(_pdf.chromium_path() or "", "<script>for (;;) {}</script>")
    _pdf._STARTED.append(browser)
    printed: list[Path] = []
    worker = threading.Thread(target=lambda: printed.append(_pdf.print_pdf(page, tmp_path / "p.pdf")), daemon=True)
    worker.start()
    worker.join(timeout=90)  # a guard against hanging the test run (the old wait: 180 s), not a measure of speed
    assert printed, "the print waited for the whole print's time on a warm-up page that never loads"
    pypdf = pytest.importorskip("pypdf")
    assert "Foot loading report" in pypdf.PdfReader(str(printed[0])).pages[0].extract_text()


def test_folders_left_in_memory_by_a_killed_print_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pdf, "_MEMORY_FOLDER", str(tmp_path))
    monkeypatch.setattr(_pdf, "_MEMORY_FOLDER_FREE_B", 1)
    old, recent, other = tmp_path / "insole-pdf-old", tmp_path / "insole-pdf-recent", tmp_path / "someone-else"
    for folder in (old, recent, other):
        (folder / "profile").mkdir(parents=True)
    stale = time.time() - _pdf._STALE_S - 60
    for folder in (old, other):
        os.utime(folder, (stale, stale))
    with _pdf._scratch_folder():
        pass
    assert not old.exists()  # ours and stale: gone
    assert recent.exists() and other.exists()  # a print that may still run, and a folder not ours: kept

"""What a reader sees, checked by machine on real files of every layout family (issue 20).

The PDF report (printed by headless Chromium, as ``insole report --pdf`` does) is read back with
``pdftotext -bbox-layout`` (poppler-utils): no two words' boxes overlap, every page says
"page N of M", no page holds only the footer, no page ends on a heading. The same report page,
laid out for print, and the offline dashboard are opened in headless Chromium: no text box of a
figure lies on another text box, on another subplot's plotting area or on the plot toolbar; no
label of the kinetic-chain drawing lies on the drawing; no plot is empty without a message; no
console error. The live page (``insole live --replay`` of the same file) is checked the same way in
Chromium while it plays: no element on a card's title, no figure broken across lines or spilling out
of its box, a map or the reason there is none, load curves drawn, no negative pressure scale, no
console error.

The families are those of the built-in layouts and the vendor formats; ``orphe6`` (ORPHE INSOLE) has
no real file here, so its case is a 20 s capture of the emulated ORPHE pair made by ``insole record
--source orphe --emulate`` (marked ``ble``: it needs the private D-Bus of the emulation).

Each case writes its PDF and screenshots of the dashboard and the live page to ``tests/artifacts``
for a person to look at (``docs/gallery/`` holds the reviewed ones, made by ``docs/scripts/gallery.py``).
"""

from __future__ import annotations

import functools
import html
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _data import REPO, shared_data_dir

from insole import Recording, load, write_parquet
from insole.simulate import SimulationParams, simulate

SHARED = shared_data_dir()
# a capture of the emulated ORPHE pair, made on first use (no real ORPHE file exists here)
EMULATED_ORPHE = Path("emulated-orphe")

# one real file per layout family (the simulated insole16 and the emulated ORPHE capture are made here)
CASES = {
    "insole16": None,
    "orphe6": EMULATED_ORPHE,
    "moticon16": REPO / "recordings/moticon_230927_102114.parquet",
    "gaitpdb8": REPO / "recordings/gaitpdb_GaCo01_01_60s.parquet",
    "footswitch1": REPO / "recordings/gaitndd_control1.parquet",
    "pedar99": SHARED / "vendor-exports/pedar_example.asc",
    "fscan": SHARED / "vendor-exports/fscan_testL.asf",
    "xsensor": SHARED / "vendor-exports/xsensor_data.csv",
    "stappone": SHARED / "vendor-exports/stappone_example.csv",
}

_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
_PAGE_LABEL = re.compile(r"page (\d+) of (\d+)")
# Two words overlap when their common area exceeds this share of the smaller word's box: glyph boxes of
# neighbouring words on one line touch (ascenders, kerning) without the letters meeting.
_OVERLAP_SHARE = 0.15


# what each case is, for a reader of the gallery
ABOUT = {
    "insole16": "simulated insole16 walk (60 s, seed 20)",
    "orphe6": "emulated ORPHE INSOLE pair, 20 s (insole record --source orphe --emulate --duration 20 --speed 4)",
}


def _params() -> list[Any]:
    """The families as test parameters; the ORPHE capture needs the BLE emulation."""
    return [pytest.param(name, marks=pytest.mark.ble) if CASES[name] is EMULATED_ORPHE else name for name in CASES]


@functools.cache
def _work() -> Path:
    return Path(tempfile.mkdtemp(prefix="insole-visual-"))


def _emulated_orphe_capture() -> Path:
    """20 s of the emulated ORPHE pair through the real collector, as a user makes it (about 10 s at 4x)."""
    out = _work() / "orphe-emulated.parquet"
    done = subprocess.run([sys.executable, "-m", "insole", "record", "--source", "orphe", "--emulate",
                           "--duration", "20", "--speed", "4", "--out", str(out)],
                          capture_output=True, text=True, timeout=180, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"the emulated ORPHE capture failed: {done.stderr[-2000:]}")
    return out


@functools.cache
def _recording(name: str) -> tuple[Recording, Path | None]:
    source = CASES[name]
    if source is None:
        return simulate(SimulationParams(duration_s=60.0, seed=20)), None
    if source is EMULATED_ORPHE:
        source = _emulated_orphe_capture()
    return load(source), source


def _replayable(name: str) -> Path:
    """A file ``insole live --replay`` plays: the case's own file, or the simulated walk written as Parquet."""
    recording, source = _recording(name)
    if source is not None:
        return source
    path = _work() / f"{name}.parquet"
    if not path.exists():
        write_parquet(recording, path)
    return path


@dataclass(frozen=True)
class PdfLine:
    words: tuple[tuple[float, float, float, float, str], ...]

    @property
    def text(self) -> str:
        return " ".join(w[4] for w in self.words)

    @property
    def top(self) -> float:
        return min(w[1] for w in self.words)

    @property
    def height(self) -> float:
        return max(w[3] for w in self.words) - self.top


def pdf_pages(path: Path) -> list[list[PdfLine]]:
    """Each page's lines of words with their boxes (points), as poppler's pdftotext reads them."""
    out = subprocess.run(["pdftotext", "-bbox-layout", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        lines = []
        for line in re.findall(r"<line .*?</line>", page, re.S):
            words = tuple((float(a), float(b), float(c), float(d), html.unescape(t))
                          for a, b, c, d, t in _WORD.findall(line))
            if words:
                lines.append(PdfLine(words))
        pages.append(lines)
    return pages


def overlapping_words(lines: list[PdfLine]) -> list[tuple[str, str]]:
    words = [w for line in lines for w in line.words]
    if len(words) < 2:
        return []
    box = np.array([w[:4] for w in words])
    width = np.minimum(box[:, None, 2], box[None, :, 2]) - np.maximum(box[:, None, 0], box[None, :, 0])
    height = np.minimum(box[:, None, 3], box[None, :, 3]) - np.maximum(box[:, None, 1], box[None, :, 1])
    common = np.clip(width, 0, None) * np.clip(height, 0, None)
    area = (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])
    smaller = np.minimum(area[:, None], area[None, :])
    pairs = np.argwhere(np.triu(common > _OVERLAP_SHARE * smaller, 1))
    return [(words[i][4], words[j][4]) for i, j in pairs]


def pdf_problems(path: Path, footer_prefix: str) -> list[str]:
    """What is wrong with the printed report, one line per problem (empty when it reads cleanly)."""
    pages = pdf_pages(path)
    problems = []
    for number, lines in enumerate(pages, 1):
        labels = [m for line in lines for m in _PAGE_LABEL.finditer(line.text)]
        if [(int(m[1]), int(m[2])) for m in labels] != [(number, len(pages))]:
            problems.append(f"page {number}: page label {[m[0] for m in labels]}, not 'page {number} of "
                            f"{len(pages)}'")
        content = [line for line in lines if not _PAGE_LABEL.search(line.text)
                   and not line.text.startswith(footer_prefix)]
        if not content:
            problems.append(f"page {number}: holds only the footer")
            continue
        for a, b in overlapping_words(lines):
            problems.append(f"page {number}: words overlap: {a!r} / {b!r}")
        # a heading is a line much taller than the page's ordinary text; none may end a page
        heights = np.array([line.height for line in content])
        last = max(content, key=lambda line: line.top)
        if number < len(pages) and last.height > 1.4 * float(np.median(heights)):
            problems.append(f"page {number}: ends on the heading {last.text!r}")
    return problems


# ---------------------------------------------------------------- in the browser

# Every text box of every plotly figure against the others, against the plotting areas of the other
# subplots and against the toolbar; the kinetic chain's labels against its drawing; empty figures.
_LAYOUT_PROBLEMS_JS = r"""
() => {
  const problems = [];
  const box = (el) => el.getBoundingClientRect();
  const shown = (el) => { const b = box(el); return b.width > 0.5 && b.height > 0.5; };
  const meet = (a, b, pad) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > pad
                           && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > pad;
  const where = (el) => { const s = el.closest('[id]'); return s ? s.id : '?'; };
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (!shown(gd)) continue;
    const say = (what) => problems.push(`${where(gd)}: ${what}`);
    const areas = [...gd.querySelectorAll('.draglayer .nsewdrag')].filter(shown).map((el) => box(el));
    const texts = [...gd.querySelectorAll('.main-svg text')]
      .filter((t) => !t.closest('.hoverlayer') && !t.closest('.legend') && (t.textContent || '').trim() && shown(t));
    const boxes = texts.map((t) => box(t));
    const bars = [...gd.querySelectorAll('.colorbar')];
    const modebar = gd.querySelector('.modebar');
    const toolbar = modebar && shown(modebar) && getComputedStyle(modebar.parentElement).display !== 'none';
    for (let i = 0; i < texts.length; i++) {
      const text = `"${texts[i].textContent}"`;
      for (let j = i + 1; j < texts.length; j++) {
        if (meet(boxes[i], boxes[j], 1.5)) say(`${text} overlaps "${texts[j].textContent}"`);
      }
      const tick = texts[i].closest('[class*="tick"]');
      const onBar = texts[i].closest('.colorbar');
      for (const area of areas) {
        const inside = boxes[i].left >= area.left - 1 && boxes[i].right <= area.right + 1
                    && boxes[i].top >= area.top - 1 && boxes[i].bottom <= area.bottom + 1;
        if ((!tick || onBar) && !inside && meet(boxes[i], area, 2)) say(`${text} lies on a plotting area`);
      }
      for (const bar of bars) {
        if (!bar.contains(texts[i]) && meet(boxes[i], box(bar), 2)) say(`${text} lies on a colour bar`);
      }
      if (toolbar && meet(boxes[i], box(modebar), 1)) say(`the plot toolbar covers ${text}`);
    }
    for (const bar of bars) {
      for (const area of areas) if (meet(box(bar), area, 2)) say('a colour bar lies on a plotting area');
    }
    const some = (v) => v !== null && v !== undefined && !(typeof v === 'number' && isNaN(v));
    const values = (a) => (Array.isArray(a) || ArrayBuffer.isView(a)) ? Array.prototype.some.call(a, some)
                          : !!(a && typeof a === 'object' && a.bdata);  // plotly's packed arrays
    const points = (gd.data || []).some((t) => ['x', 'y', 'z', 'values'].some((k) => values(t[k])));
    const said = ((gd.layout || {}).annotations || []).some((a) => (a.text || '').trim());
    if (!points && !said) say('an empty plot without a message');
    // each panel of a figure with several: a trace drawn on it, or a message inside it (a subplot title sits
    // above its panel, so it does not count)
    // (plotly leaves an axis without traces out of its own full layout: the figure's layout names every panel)
    const given = gd.layout || {};
    for (const key of Object.keys(given).filter((k) => /^xaxis\d*$/.test(k))) {
      const id = 'x' + key.slice(5), yid = 'y' + key.slice(5);
      if ((gd.data || []).some((t) => (t.xaxis || 'x') === id)) continue;
      const yaxis = given['yaxis' + key.slice(5)];
      if (!yaxis) continue;
      const dx = given[key].domain || [0, 1], dy = yaxis.domain || [0, 1];
      // the panel on the screen, from the plotting region plotly reserved; a message must be drawn inside it
      const size = (gd._fullLayout || {})._size, page = box(gd);
      if (!size) continue;
      const panel = {left: page.left + size.l + dx[0] * size.w, right: page.left + size.l + dx[1] * size.w,
                     top: page.top + size.t + (1 - dy[1]) * size.h, bottom: page.top + size.t + (1 - dy[0]) * size.h};
      const said = [...gd.querySelectorAll('.annotation')].filter(shown).some((el) => {
        const b = box(el), x = (b.left + b.right) / 2, y = (b.top + b.bottom) / 2;
        return x > panel.left && x < panel.right && y > panel.top && y < panel.bottom;
      });
      if (!said) say(`panel ${id}${yid} is empty and says nothing`);
    }
  }
  for (const svg of document.querySelectorAll('.chain svg')) {
    const drawn = [...svg.querySelectorAll('line, circle, rect, path, polyline')]
      .filter((el) => !el.closest('.grade-label')).map((el) => {
        // a straight line's box has no width or height: give it its stroke
        const b = box(el);
        return {el, left: b.left - 2, right: b.right + 2, top: b.top - 2, bottom: b.bottom + 2};
      });
    for (const t of svg.querySelectorAll('text')) {
      if (t.closest('.grade-label') || !shown(t)) continue;
      const own = t.closest('.finding-box');  // a finding's text sits in its own box: that is not across the figure
      if (drawn.some((b) => !(own && own.contains(b.el)) && meet(box(t), b, 1)))
        problems.push(`chain: "${t.textContent}" is drawn across the figure`);
    }
  }
  return problems;
}
"""

# The pages' own elements (the live page's figures are canvases): nothing over a card's title, no short figure
# ("R 19%", "L 36 R 24", "100.0 %") broken across lines, no text spilling out of its box unless the box clips it
# on purpose (an ellipsis). Run on the live page and on the offline dashboard.
_LIVE_PROBLEMS_JS = r"""
() => {
  const problems = [];
  const box = (el) => el.getBoundingClientRect();
  const shown = (el) => { const b = box(el); return b.width > 0.5 && b.height > 0.5
                          && getComputedStyle(el).visibility !== 'hidden'; };
  const meet = (a, b, pad) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > pad
                           && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > pad;
  const words = (el) => (el.textContent || '').replace(/\s+/g, ' ').trim();
  const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  // the part of an element a reader sees: its box cut by every scrolling or clipping box around it
  const seen = (el) => {
    const b = box(el);
    let r = {left: b.left, right: b.right, top: b.top, bottom: b.bottom};
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const c = box(e);
      r = {left: Math.max(r.left, c.left), right: Math.min(r.right, c.right),
           top: Math.max(r.top, c.top), bottom: Math.min(r.bottom, c.bottom)};
    }
    return r;
  };
  const leaves = [...document.querySelectorAll('body *')]
    .filter((el) => shown(el) && (ownText(el) || ['CANVAS', 'BUTTON', 'INPUT', 'IMG', 'svg'].includes(el.tagName)));
  for (const title of [...document.querySelectorAll('h1, h2, h3')].filter(shown)) {
    for (const el of leaves) {
      if (title.contains(el) || el.contains(title)) continue;
      const what = words(el).slice(0, 40) || el.tagName;
      if (meet(seen(title), seen(el), 1)) problems.push(`"${what}" lies on the title "${words(title)}"`);
    }
  }
  const clipped = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.textOverflow === 'ellipsis' || style.overflowX === 'auto' || style.overflowX === 'scroll') return true;
    }
    return false;
  };
  for (const el of leaves.filter((e) => ownText(e) && !clipped(e))) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect(), parent = box(el.parentElement);
    if (text.left < parent.left - 1 || text.right > parent.right + 1)
      problems.push(`"${words(el).slice(0, 40)}" spills out of its box`);
  }
  // a sentence squeezed into a column a word or two wide (the dashboard's quality notes, before)
  for (const el of leaves.filter((e) => ownText(e) && words(e).length > 60)) {
    const size = parseFloat(getComputedStyle(el).fontSize) || 14;
    if (box(el).width < 10 * size) problems.push(`"${words(el).slice(0, 40)}..." runs a word or two a line`);
  }
  // a number parted from its unit or its spread: a figure ("100.0 %", "489.62 ± 37.18", "R 19%") broken inside
  // itself (a table's column heading may wrap: it is words, not a figure)
  const figure = /^(?:(?:[LR] )?[-+\u2212]?[\d.,]+(?: ± [\d.,]+)?(?: ?[^\s\d]{1,6})? ?)+$/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\s+/g, ' ').trim();
    if (text.length > 40 || !figure.test(text) || !node.parentElement || !shown(node.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0.5);
    if (rects.some((a) => rects.some((b) => a.top >= b.bottom - 1))) problems.push(`"${text}" is broken across lines`);
  }
  // short figures side by side ("L 36 R 24"), all of them inline, on more than one line
  for (const el of [...document.querySelectorAll('body *')].filter(shown)) {
    const text = words(el);
    if (!text || text.length > 16 || !figure.test(text)) continue;
    if ([...el.querySelectorAll('*')].some((c) => getComputedStyle(c).display !== 'inline')) continue;
    if (getComputedStyle(el).display === 'inline' && el.parentElement && words(el.parentElement) === text) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    // boxes of one line overlap vertically (whatever their font sizes); a box wholly below another is a new line
    const rects = [...range.getClientRects()].filter((r) => r.width > 0.5);
    if (rects.some((a) => rects.some((b) => a.top >= b.bottom - 1))) problems.push(`"${text}" is broken across lines`);
  }
  return problems;
}
"""


pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")


@pytest.fixture(scope="module")
def browser_context() -> Any:
    """One headless Chromium for the module's pages (a launch per case would add a second or two each)."""
    from browser import chromium

    with chromium(width=1400, height=1000) as (context, _):
        yield context


def _open(context: Any, path: Path) -> tuple[Any, list[str]]:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(path.as_uri())
    return page, errors


@pytest.mark.browser
@pytest.mark.parametrize("name", _params())
def test_report_reads_cleanly_on_paper_and_screen(name: str, tmp_path: Path, artifacts: Path,
                                                  browser_context: Any) -> None:
    from browser import wait_for

    from insole.report import write_report

    recording, source = _recording(name)
    pdf = artifacts / f"visual_report_{name}.pdf"
    report = write_report(recording, tmp_path / "r.html", path=source, pdf_path=pdf, force=True)
    problems = pdf_problems(pdf, footer_prefix=f"insole {report.to_dict()['software']['version']} · report schema")
    # the page as it is laid out for print (A4 less its margins), then as a screen shows it
    page, errors = _open(browser_context, tmp_path / "r.html")
    try:
        page.set_viewport_size({"width": 720, "height": 1000})
        page.emulate_media(media="print")
        wait_for(page, "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
                       "document.querySelectorAll('.js-plotly-plot').length", 30)
        page.wait_for_timeout(300)
        problems += [f"print: {p}" for p in page.evaluate(_LAYOUT_PROBLEMS_JS)]
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1200, "height": 900})
        page.wait_for_timeout(500)
        problems += [f"screen: {p}" for p in page.evaluate(_LAYOUT_PROBLEMS_JS)]
        problems += errors
    finally:
        page.close()
    assert not problems, "\n".join(problems)


@pytest.mark.browser
@pytest.mark.parametrize("name", _params())
def test_dashboard_reads_cleanly(name: str, tmp_path: Path, artifacts: Path, browser_context: Any) -> None:
    from browser import wait_for

    from dashboards import write_dashboard

    recording, source = _recording(name)
    path = write_dashboard(recording, tmp_path / "d.html", source=source.name if source else "simulated")
    page, errors = _open(browser_context, path)
    try:
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        page.evaluate("() => window.__renderAll()")
        wait_for(page, "() => window.__dashboardStats.all_rendered_ms", 60)
        page.wait_for_timeout(300)
        # the toolbar shows while the pointer is over a plot: show every toolbar, as a hover would
        page.add_style_tag(content=".modebar { opacity: 1 !important; }")
        problems = page.evaluate(_LAYOUT_PROBLEMS_JS) + page.evaluate(_LIVE_PROBLEMS_JS)
        page.set_viewport_size({"width": 1200, "height": 1000})  # narrower cards: "100.0 %" was split there
        page.wait_for_timeout(500)
        problems += [f"at 1200 px: {p}" for p in page.evaluate(_LIVE_PROBLEMS_JS)]
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.wait_for_timeout(300)
        if recording.layout.n_sensors == 1:
            # one sensor per foot: no map painting the whole insole, the reason instead; no comparison invited
            shown = page.evaluate("() => [...document.querySelectorAll('#sec-player canvas, #sec-maps canvas')]"
                                  ".filter((c) => c.getBoundingClientRect().width > 0).length")
            assert shown == 0
            assert page.locator("#sec-maps .empty").inner_text().count("one sensor per foot") == 1
            assert page.locator("#sec-player .empty").inner_text().count("one sensor per foot") == 1
        if recording.unit == "au":
            assert "left/right differences in load are not interpretable" in page.locator("#warnings").inner_text()
        if len(recording.sides) == 1:  # said once, not under the table and again under the chart beside it
            assert page.locator("#sec-lr").inner_text().count("Only one foot was recorded.") == 1
        page.screenshot(path=str(artifacts / f"visual_dashboard_{name}.png"), full_page=True)
        problems += errors + page.evaluate("window.__dashboardStats.errors")
    finally:
        page.close()
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_the_checks_see_overlapping_words(tmp_path: Path) -> None:
    """The PDF reader finds words printed on top of each other, and a missing page label."""
    from insole.report._pdf import print_pdf

    page = tmp_path / "p.html"
    page.write_text('<html><body><p style="position:absolute;top:40px;left:40px">overlapping words</p>'
                    '<p style="position:absolute;top:44px;left:60px">printed here</p></body></html>')
    pytest.importorskip("jinja2")
    try:
        pdf = print_pdf(page, tmp_path / "p.pdf")
    except Exception as error:  # no Chromium on this machine
        pytest.skip(f"cannot print: {error}")
    problems = pdf_problems(pdf, footer_prefix="no footer")
    assert any("words overlap" in p for p in problems)
    assert any("page label" in p for p in problems)


@pytest.mark.browser
def test_the_checks_see_a_label_across_the_chain_drawing(tmp_path: Path, browser_context: Any) -> None:
    """Before issue 20 the report wrote "No findings flagged" across the body of the kinetic-chain figure."""
    from insole.report._chain import chain_svg

    svg = chain_svg([])
    across = svg.replace("</svg>", '<text x="380" y="100" font-size="14" text-anchor="middle">No findings flagged'
                                   "</text></svg>")
    page_file = tmp_path / "c.html"
    page = browser_context.new_page()
    try:
        for drawing, expected in ((svg, []), (across, ['chain: "No findings flagged" is drawn across the figure'])):
            page_file.write_text(f'<html><body><div class="chain">{drawing}</div></body></html>')
            page.goto(page_file.as_uri())
            assert page.evaluate(_LAYOUT_PROBLEMS_JS) == expected
    finally:
        page.close()


@pytest.mark.browser
def test_cohort_page_toolbar_covers_no_title(tmp_path: Path, browser_context: Any) -> None:
    """The cohort page's figures (box plots, forest plots, findings bars) with every toolbar shown.

    A small table of two groups stands in for a cohort (the page's layout does not depend on the numbers;
    tests/test_batch_cohort.py opens the page of the real gaitndd cohort).
    """
    import pandas as pd

    from insole.batch import CohortParams, cohort_page, compare_cohort

    table = pd.DataFrame({
        "recording_id": [f"r{k}" for k in range(6)],
        "arm": ["control", "control", "control", "treated", "treated", "treated"],
        "stride_time_cv_pct": [2.0, 3.0, 4.0, 6.0, 7.0, 8.0],
        "stance_time_s_si_pct": [-2.0, 1.0, 3.0, -10.0, 2.5, 12.0],
        "finding_irregular_gait": ["not_flagged", "not_flagged", "low", "moderate", "low", "not_flagged"],
        "finding_irregular_gait_side": [None, None, "both", "both", "both", None],
    })
    path = tmp_path / "cohort.html"
    path.write_text(cohort_page(compare_cohort(table, CohortParams(group_by="arm", bootstrap=100, seed=1))))
    page, errors = _open(browser_context, path)
    try:
        page.set_viewport_size({"width": 1300, "height": 900})
        page.wait_for_function("window.__cohortPlotsDrawn !== undefined", timeout=60_000)
        page.add_style_tag(content=".modebar { opacity: 1 !important; }")
        problems = page.evaluate(_LAYOUT_PROBLEMS_JS) + errors
    finally:
        page.close()
    assert not problems, "\n".join(problems)



@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("name", _params())
def test_live_page_reads_cleanly(name: str, artifacts: Path, browser_context: Any) -> None:
    """``insole live --replay FILE`` of each family, watched for a few seconds of walking in Chromium."""
    from browser import live_replay, wait_for

    recording, _ = _recording(name)
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    try:
        with live_replay(_replayable(name), "--speed", "2") as url:  # the page as at 1x, reached in half the time
            page.set_viewport_size({"width": 1400, "height": 1000})
            page.goto(url)
            # 8 s of the file: past a first step of every foot recorded (the files start with standing)
            wait_for(page, "() => window.__liveStats && window.__liveStats.curve_draws > 0 && "
                           "document.getElementById('clock').textContent >= '0:08'", 60)
            page.wait_for_timeout(300)
            stats = page.evaluate("() => window.__liveStats")
            problems = page.evaluate(_LIVE_PROBLEMS_JS) + page.evaluate(_LAYOUT_PROBLEMS_JS)
            page.set_viewport_size({"width": 1200, "height": 1000})  # the two-column layout of narrower screens
            page.wait_for_timeout(400)
            problems += [f"at 1200 px: {p}" for p in page.evaluate(_LIVE_PROBLEMS_JS)]
            page.set_viewport_size({"width": 1400, "height": 1000})
            page.wait_for_timeout(400)
            page.screenshot(path=str(artifacts / f"visual_live_{name}.png"), full_page=True)
            reason = page.locator("#heat.empty")
            if recording.layout.n_sensors == 1:
                # one sensor per foot: no map painting the whole insole, the reason instead
                assert "one sensor per foot" in reason.inner_text() and stats["heat_draws"] == 0
            else:
                assert reason.count() == 0 and stats["maps_shown"] == len(recording.sides), stats["maps_shown"]
            assert stats["curve_points"] > 0, "the load curves are empty"
            if recording.unit != "au":  # a pressure or force is never below zero: no negative scale
                assert stats["map_min"] == 0 and stats["load_min"] == 0, (stats["map_min"], stats["load_min"])
            else:  # two uncalibrated sensors are not compared: the balance says why it is not shown
                assert "not comparable" in page.locator("#bal-note").inner_text()
            problems += errors + stats["errors"]
    finally:
        page.close()
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_the_live_checks_see_a_wrapped_figure_and_a_covered_title(tmp_path: Path, browser_context: Any) -> None:
    """What the pages showed before: "R 19%" wrapped in the live page's narrow balance bar, "L 36 R 24" on two lines
    in its column, the dashboard's "100.0 %" split in a narrow card and its quality notes a word or two a line; and
    a legend over a card's title. The checks
    find each; the pages as they are now pass them (test_live_page_reads_cleanly, test_dashboard_reads_cleanly)."""
    css = (REPO / "dashboards/_static/live.css").read_text()
    old = (".bal-left, .bal-right { display: flex; align-items: center; color: #fff; }"
           ".bal-right { justify-content: flex-end; padding-right: 8px; }")
    body = ('<div class="card gauges" style="width:340px">'
            '<div class="gauge"><h3>Load balance</h3><div class="balance">'
            '<div class="bal-left" style="width:81%"><span>L 81%</span></div>'
            '<div class="bal-right" style="width:19%"><span>R 19%</span></div></div></div>'
            '<div class="gauge steps"><h3>Steps seen</h3><div><span class="foot-l">L</span> '
            '<span class="mid">36</span> <span class="foot-r">R</span> <span class="mid">24</span></div></div>'
            '<div class="gauge"><h3 style="width:120px">Cadence</h3>'
            '<span style="position:relative;top:-22px;left:10px">legend 12</span></div></div>'
            # the offline dashboard's valid-samples card as it was: each foot's figure in loose text
            '<div style="width:142px;font-size:16px;font-weight:600;font-family:sans-serif"><span>L </span>100.0 %  '
            '<span>R </span>100.0 %</div>'
            # the dashboard's quality card as it was: a note beside its label, a word or two a line
            '<dl style="display:grid;grid-template-columns:auto 1fr;width:220px;font-size:13px"><dt>event confidence '
            '(mean)</dt><dd style="margin:0">uncalibrated insoles (au): one body weight, from both feet, scales both '
            'feet</dd></dl>')
    path = tmp_path / "old.html"
    path.write_text(f"<html><head><style>{css}{old}</style></head><body>{body}</body></html>")
    page = browser_context.new_page()
    try:
        page.goto(path.as_uri())
        problems = page.evaluate(_LIVE_PROBLEMS_JS)
    finally:
        page.close()
    assert '"R 19%" is broken across lines' in problems
    assert '"L 36 R 24" is broken across lines' in problems
    assert '"100.0 %" is broken across lines' in problems, problems
    assert any(p.startswith('"uncalibrated insoles (au)') and p.endswith("runs a word or two a line") for p in problems)
    assert any('lies on the title "Cadence"' in p for p in problems), problems


def test_the_report_names_a_structured_device_entry_instead_of_dumping_it(tmp_path: Path) -> None:
    """An ORPHE capture stores each insole's calibration points as a table in the device facts; the report's
    Session table printed it as Python code ("calibration: {'method': 'two-point per channel ...', ...}")."""
    pytest.importorskip("jinja2")
    from insole.report import write_report

    calibration = {"method": "two-point per channel", "no_load_counts": [220.1, 219.9], "full_body_weight_counts": None}
    recording = simulate(SimulationParams(duration_s=20.0, seed=4)).with_meta(
        devices={"left": {"vendor": "ORPHE Inc.", "mount_position": 0, "calibration": calibration}})
    write_report(recording, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    row = re.search(r"<td>Device, left</td><td>(.*?)</td></tr>", page, re.S)
    assert row is not None
    text = html.unescape(re.sub(r"<[^>]+>", "", row.group(1)))
    assert text == "vendor: ORPHE Inc. · mount position: 0 (calibration: stored in the file)"


def test_a_one_foot_report_compares_nothing(tmp_path: Path) -> None:
    """A one-foot recording (stappone, F-Scan) had a "Left / right comparison" section and figure holding one foot's
    bars; it is now that foot's regional shares, and says there is no other foot."""
    pytest.importorskip("jinja2")
    from insole.report import write_report

    walk = simulate(SimulationParams(duration_s=30.0, seed=5))
    write_report(walk.replace(right=None), tmp_path / "left.html")
    page = (tmp_path / "left.html").read_text(encoding="utf-8")
    assert "<h2>Regional shares, left foot only</h2>" in page
    assert "Only the left foot was recorded: there is no other foot to compare it with." in page
    assert "Regional share of stance load, left foot only" in page  # the figure's own title
    assert "Left / right comparison" not in page
    write_report(walk, tmp_path / "both.html")
    both = (tmp_path / "both.html").read_text(encoding="utf-8")
    assert "<h2>Left / right comparison</h2>" in both and "foot only" not in both

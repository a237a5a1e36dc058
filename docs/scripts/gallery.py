"""Regenerate docs/gallery/: what each view looks like for each layout family, from real files.

    .venv/bin/python docs/scripts/gallery.py            # every family (about 4 minutes)
    .venv/bin/python docs/scripts/gallery.py gaitpdb8   # one family
    .venv/bin/python docs/scripts/gallery.py --views report dashboard   # only what changed: the live pages kept

For each family (the files of tests/test_visual_checks.py: recordings/ and $INSOLE_SHARED_DATA, else
../shared/data) it writes

* ``report-FAMILY.png``: every page of the PDF report (``insole report --pdf``), side by side;
* ``dashboard-FAMILY.png``: the offline dashboard, whole page, every figure drawn;
* ``live-FAMILY.png``: the live page (``insole live --replay``) 16 s into the file;

and once ``cohort.png`` (the cohort page of a small two-group table). Images are reduced (half size, 128
colours) to keep the folder small; a reader checks layout, not pixels. ``docs/gallery/README.md`` lists them
with what the machine checks of tests/test_visual_checks.py said about each page when it was made.

Needs the report and dashboards extras, Playwright with the system Chromium, and pdftoppm (poppler-utils);
the orphe6 family is a capture of the emulated ORPHE pair, made with the BLE emulation (dbus-daemon).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GALLERY = REPO / "docs" / "gallery"
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from PIL import Image  # noqa: E402  (after the path set-up; Pillow comes with the test tools)

from tests.browser import chromium, live_replay, wait_for  # noqa: E402
from tests.test_visual_checks import (  # noqa: E402
    _LAYOUT_PROBLEMS_JS,
    _LIVE_PROBLEMS_JS,
    ABOUT,
    CASES,
    _recording,
    _replayable,
    pdf_problems,
)

_COLOURS = 128


def _save(image: Image.Image, path: Path, scale: float = 0.5) -> None:
    image = image.convert("RGB")
    if scale != 1.0:
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))), Image.LANCZOS)
    image.quantize(colors=_COLOURS, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def _pdf_sheet(pdf: Path, out: Path, work: Path) -> int:
    """Every page of ``pdf`` at 45 dpi, in rows of five; returns the number of pages."""
    subprocess.run(["pdftoppm", "-r", "45", "-png", str(pdf), str(work / "page")], check=True)
    pages = [Image.open(p) for p in sorted(work.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))]
    columns = min(5, len(pages))
    rows = (len(pages) + columns - 1) // columns
    width, height = pages[0].width, pages[0].height
    sheet = Image.new("RGB", (columns * (width + 8) + 8, rows * (height + 8) + 8), "#9aa5b1")
    for k, page in enumerate(pages):
        sheet.paste(page, (8 + (k % columns) * (width + 8), 8 + (k // columns) * (height + 8)))
    _save(sheet, out, scale=1.0)
    return len(pages)


VIEWS = ("report", "dashboard", "live")
# each view's image line in the README starts with this (the line after it says what the checks found)
_IMAGE_LINE = {"report": "![report ", "dashboard": "![dashboard ", "live": "![live page "}


def _previous_sections(readme: Path) -> dict[str, list[str]]:
    """The README's section of each family (and of the cohort page, "cohort") as it stands, by its heading."""
    if not readme.is_file():
        return {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in readme.read_text(encoding="utf-8").split("\n"):
        if line.startswith("## "):
            name = line[3:].strip()
            current = sections.setdefault("cohort" if name == "Cohort page" else name, [])
        if current is not None:
            current.append(line)
    return sections


def _kept(previous: list[str], view: str, name: str) -> list[str]:
    """A view not made this time: its two lines (image, what the checks said) from the README as it stands."""
    for k, line in enumerate(previous):
        if line.startswith(_IMAGE_LINE[view]) and k + 1 < len(previous):
            return [line, previous[k + 1], ""]
    return [f"{_IMAGE_LINE[view]}{name}]({view}-{name}.png)", "(not made yet)", ""]


def _family(name: str, context, work: Path, views: tuple[str, ...] = VIEWS,
            previous: list[str] | None = None) -> list[str]:

    recording, source = _recording(name)
    label = ABOUT.get(name) or (source.name if source else name)
    notes = [f"## {name}", "", f"Source: `{label}`, layout {recording.layout.name} "
             f"({recording.layout.n_sensors} sensor{'s' if recording.layout.n_sensors != 1 else ''} per foot, "
             f"{' and '.join(recording.sides)} foot), unit {recording.unit}.", ""]
    n_pages = 0
    problems: list[str] = []
    found: list[str] = []
    live: list[str] = []
    if "report" in views:
        n_pages, problems = _report(name, recording, source, work, notes)
    else:
        notes += _kept(previous or [], "report", name)
    if "dashboard" in views:
        found = _dashboard(name, recording, label, context, work, notes)
    else:
        notes += _kept(previous or [], "dashboard", name)
    if "live" in views:
        live = _live(name, context, work)
        notes.append(f"![live page {name}](live-{name}.png)")
        notes.append("Live page (`insole live --replay`, 16 s in): " + (
            "no problem found by the checks." if not live else "the checks found: " + "; ".join(live)))
        notes.append("")
    else:
        notes += _kept(previous or [], "live", name)
    print(f"gallery: {name}: " + "; ".join(
        text for view, text in (("report", f"report {n_pages} pages, {len(problems)} problem(s)"),
                                ("dashboard", f"dashboard {len(found)} problem(s)"),
                                ("live", f"live page {len(live)} problem(s)")) if view in views), flush=True)
    return notes


def _report(name: str, recording, source, work: Path, notes: list[str]) -> tuple[int, list[str]]:
    from insole.report import write_report

    pdf = work / f"{name}.pdf"
    report = write_report(recording, work / f"{name}.html", path=source, pdf_path=pdf, force=True)
    version = report.to_dict()["software"]["version"]
    problems = pdf_problems(pdf, footer_prefix=f"insole {version} · report schema")
    pages_dir = work / f"{name}-pages"
    pages_dir.mkdir()
    n_pages = _pdf_sheet(pdf, GALLERY / f"report-{name}.png", pages_dir)
    notes.append(f"![report {name}](report-{name}.png)")
    notes.append(f"Report PDF, {n_pages} pages: " + ("no problem found by the checks." if not problems
                                                     else "the checks found: " + "; ".join(problems)))
    notes.append("")
    return n_pages, problems


def _dashboard(name: str, recording, label: str, context, work: Path, notes: list[str]) -> list[str]:
    from dashboards import write_dashboard

    dashboard = write_dashboard(recording, work / f"{name}-dashboard.html", source=label, force=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(dashboard.as_uri())
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        page.evaluate("() => window.__renderAll()")
        wait_for(page, "() => window.__dashboardStats.all_rendered_ms", 60)
        page.wait_for_timeout(400)
        found = page.evaluate(_LAYOUT_PROBLEMS_JS) + errors
        shot = work / f"{name}-dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    _save(Image.open(shot), GALLERY / f"dashboard-{name}.png")
    notes.append(f"![dashboard {name}](dashboard-{name}.png)")
    notes.append("Dashboard: " + ("no problem found by the checks." if not found
                                  else "the checks found: " + "; ".join(found)))
    notes.append("")
    return found


def _live(name: str, context, work: Path) -> list[str]:
    """The live page playing the family's file at its own pace, 16 s in (past the standing some files start with)."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    shot = work / f"{name}-live.png"
    try:
        with live_replay(_replayable(name)) as url:
            page.goto(url)
            wait_for(page, "() => window.__liveStats && window.__liveStats.curve_draws > 0 && "
                           "document.getElementById('clock').textContent >= '0:16'", 60)
            page.wait_for_timeout(300)
            found = page.evaluate(_LIVE_PROBLEMS_JS) + errors + page.evaluate("window.__liveStats.errors")
            page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    _save(Image.open(shot), GALLERY / f"live-{name}.png")
    return found


def _cohort(context, work: Path) -> list[str]:
    import pandas as pd

    from insole.batch import CohortParams, cohort_page, compare_cohort

    table = pd.DataFrame({
        "recording_id": [f"r{k}" for k in range(8)],
        "arm": ["control"] * 4 + ["treated"] * 4,
        "stride_time_cv_pct": [2.0, 2.6, 3.0, 4.0, 5.5, 6.0, 7.0, 8.0],
        "stance_time_s_si_pct": [-2.0, 1.0, 1.5, 3.0, -10.0, 2.5, 6.0, 12.0],
        "finding_irregular_gait": ["not_flagged", "not_flagged", "low", "not_flagged", "moderate", "low",
                                   "not_flagged", "high"],
        "finding_irregular_gait_side": [None, None, "both", None, "both", "both", None, "both"],
    })
    path = work / "cohort.html"
    path.write_text(cohort_page(compare_cohort(table, CohortParams(group_by="arm", bootstrap=200, seed=1))))
    page = context.new_page()
    try:
        page.goto(path.as_uri())
        page.wait_for_function("window.__cohortPlotsDrawn !== undefined", timeout=60_000)
        page.add_style_tag(content=".modebar { opacity: 1 !important; }")  # as a pointer over a plot shows it
        found = page.evaluate(_LAYOUT_PROBLEMS_JS)
        shot = work / "cohort.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    _save(Image.open(shot), GALLERY / "cohort.png")
    return ["## Cohort page", "", "A small made-up table of two groups (the page's layout, not real results); "
            "every plot toolbar shown, as a pointer over the plot would.", "", "![cohort](cohort.png)",
            "Cohort page: " + ("no problem found by the checks." if not found else "; ".join(found)), ""]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="regenerate docs/gallery/")
    parser.add_argument("families", nargs="*", help=f"layout families (default every one: {', '.join(CASES)})")
    parser.add_argument("--views", nargs="+", choices=VIEWS, default=list(VIEWS),
                        help="make only these views; the others' images and README lines are kept as they are "
                             "(and the cohort page, made only with every view)")
    args = parser.parse_args(argv)
    names = args.families or list(CASES)
    views = tuple(v for v in VIEWS if v in args.views)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"gallery: unknown family {', '.join(unknown)} (choose from {', '.join(CASES)})", file=sys.stderr)
        return 2
    GALLERY.mkdir(parents=True, exist_ok=True)
    previous = _previous_sections(GALLERY / "README.md")
    sections: list[str] = []
    with tempfile.TemporaryDirectory(prefix="insole-gallery-") as folder, \
            chromium(width=1280, height=900) as (context, _):
        work = Path(folder)
        for name in names:
            sections += _family(name, context, work, views, previous.get(name))
        if not args.families:
            if views == VIEWS or "cohort" not in previous:
                sections += _cohort(context, work)
            else:
                sections += previous["cohort"]
    if not args.families:  # the index describes the whole gallery only when every family was made
        (GALLERY / "README.md").write_text(
            "# Gallery: every view for every layout family\n\n"
            "Made by `.venv/bin/python docs/scripts/gallery.py` from the real files the visual checks use "
            "(tests/test_visual_checks.py). Images are reduced to half size and 128 colours: they show layout "
            "(what overlaps, what is missing, what a page says instead), not pixel detail. Under each image: what "
            "the machine checks said when it was made.\n\n" + "\n".join(sections), encoding="utf-8")
    print(f"gallery: wrote {GALLERY.relative_to(REPO)}/", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

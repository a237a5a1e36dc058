"""The report page in real headless Chromium, its PDF, its JSON and the ``insole report`` command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from insole._cli import main
from insole.io import write_parquet
from insole.report import SECTIONS, build_report, print_pdf, write_html
from insole.report._evidence import DISCLAIMER
from insole.simulate import SimulationParams, simulate

CHROMIUM = "/usr/bin/chromium"
NOTE = 'knee pain <script>window.__pwned = 1; console.error("injected")</script> & "quotes"'


@pytest.fixture(scope="module")
def antalgic_walk(tmp_path_factory) -> Path:
    """A 60 s simulated antalgic walk (left painful) with a hostile subject note, saved in our format."""
    recording = simulate(SimulationParams(pattern="antalgic", side="left", duration_s=60.0, seed=4))
    path = tmp_path_factory.mktemp("report") / "antalgic.parquet"
    assert recording.meta.subject_id == "sim-4"  # the simulated person is the seed, whatever the pattern
    write_parquet(recording.with_meta(notes=NOTE), path)
    return path


@pytest.fixture(scope="module")
def report_files(antalgic_walk, tmp_path_factory) -> dict[str, Path]:
    """``insole report`` run for real: HTML, JSON and PDF, with a normal walk as baseline."""
    out = tmp_path_factory.mktemp("out")
    baseline = out / "baseline.parquet"
    # the same simulated person (seed 4, subject "sim-4") before the pain: one subject, so the change is judged
    write_parquet(simulate(SimulationParams(pattern="normal", duration_s=60.0, seed=4)), baseline)
    files = {"html": out / "report.html", "json": out / "report.json", "pdf": out / "report.pdf"}
    code = main(["report", str(antalgic_walk), "--baseline", str(baseline), "--out", str(files["html"]),
                 "--json", str(files["json"]), "--pdf", str(files["pdf"])])
    assert code == 0
    return files


@pytest.mark.browser
def test_page_opens_offline_without_errors_and_shows_the_note_as_text(report_files, artifacts):
    from playwright.sync_api import sync_playwright

    html = report_files["html"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        problems: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html.as_uri())
        page.wait_for_function("document.querySelectorAll('.plotly-graph-div .main-svg').length >= 4")
        # the note is text: the script inside it never ran and never became an element
        assert page.evaluate("window.__pwned === undefined")
        assert page.locator("td.note").inner_text() == NOTE
        assert page.locator("script", has_text="__pwned").count() == 0
        for section, heading in SECTIONS:
            assert page.locator(f"section#{section} h2").inner_text() == heading
        # every finding's references resolve to entries of the page's reference list
        for link in page.locator(".finding a[href^='#ref-']").all():
            target = link.get_attribute("href")
            assert page.locator(f"ol.refs li{target}").count() == 1, target
        assert page.locator(".finding").count() >= 1
        # the antalgic walk's findings (antalgic gait, flattened force curve, load asymmetry) have no drawn link:
        # their knee, hip and ankle results are protective, conflicting or on another measure (issue 16 review),
        # so the chain says why nothing is drawn instead of drawing an arrow
        data = json.loads(report_files["json"].read_text("utf-8"))
        drawn = sum(len(f["joints"]) for f in data["findings"])
        assert drawn == 0 and all(f["associations_not_drawn"] for f in data["findings"])
        assert page.locator("svg.chain .link").count() == 0
        assert page.locator(".chain-empty").count() == 1
        page.screenshot(path=str(artifacts / "report_antalgic.png"), full_page=True)
        browser.close()
    assert problems == []
    assert requests == [html.as_uri()]  # the page itself, nothing from the network


def test_json_has_findings_with_references_in_the_list(report_files):
    data = json.loads(report_files["json"].read_text(encoding="utf-8"))
    assert data["schema"] == "insole-report" and data["schema_version"] == 1
    codes = {(f["code"], f["side"]) for f in data["findings"]}
    assert ("antalgic_gait", "left") in codes
    listed = {r["number"] for r in data["references"]}
    for finding in data["findings"]:
        assert set(finding) >= {"code", "title", "side", "severity", "confidence", "evidence_grade", "measured",
                                "reference", "joints", "references"}
        assert finding["references"] and set(finding["references"]) <= listed
    assert data["summary"]["feet"]["left"]["n_steps"] > 30
    assert data["input"]["notes"] == NOTE
    assert data["disclaimer"] == DISCLAIMER
    assert data["baseline"]["findings_new"]  # the antalgic findings are new against the normal baseline
    assert any(c["key"] == "stance_s" and c["side"] == "left" and c["direction"] == "lower"
               for c in data["baseline"]["changes"])
    assert data["provenance"]["analysis"]["metrics"] == "insole analysis core (insole.analyze)"


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    pypdf = pytest.importorskip("pypdf", reason="needs pdftotext (poppler-utils) or pypdf to read the PDF")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


def test_pdf_has_the_same_sections(report_files):
    text = " ".join(_pdf_text(report_files["pdf"]).split())
    for _, heading in SECTIONS:
        assert heading in text, heading
    assert "Antalgic (protective) pattern" in text
    assert "<script>window.__pwned" in text  # the note, printed as text
    assert "Not a diagnosis." in text


def test_report_in_memory_without_baseline(tmp_path):
    recording = simulate(SimulationParams(pattern="normal", duration_s=60.0, seed=11))
    report = build_report(recording)
    page = write_html(report, tmp_path / "normal.html").read_text(encoding="utf-8")
    assert "No baseline recording was given" in page
    # nothing is loaded from elsewhere: no external script, stylesheet or image (plotly.js itself is inline)
    assert "<script src" not in page and "<link" not in page and "<img" not in page
    assert report.to_dict()["baseline"] is None


def test_report_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "missing.parquet"
    assert main(["report", str(missing), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "missing.parquet" in err and "Traceback" not in err
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("this is not a recording\n")
    assert main(["report", str(garbage), "--out", str(tmp_path / "r.html")]) == 2
    assert "garbage.csv" in capsys.readouterr().err


def test_report_command_refuses_a_missing_output_directory(antalgic_walk, tmp_path, capsys):
    target = tmp_path / "no-such-dir" / "r.html"
    assert main(["report", str(antalgic_walk), "--out", str(target)]) == 2
    assert "no-such-dir" in capsys.readouterr().err
    assert not target.exists()


def test_pdf_without_chromium_is_a_clear_error(tmp_path, monkeypatch):
    from insole.report import PdfError

    page = tmp_path / "p.html"
    page.write_text("<html><body>x</body></html>")
    with pytest.raises(PdfError, match="Chromium"):
        print_pdf(page, tmp_path / "p.pdf", chromium=str(tmp_path / "no-chromium"))


def test_report_command_runs_as_a_process(antalgic_walk, tmp_path):
    out = tmp_path / "cli.html"
    done = subprocess.run([sys.executable, "-m", "insole._cli", "report", str(antalgic_walk), "--out", str(out),
                           "--mass-kg", "72"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "antalgic_gait (left" in done.stdout
    assert out.stat().st_size > 1_000_000  # plotly.js is inside


def _generic_csv(folder: Path) -> tuple[Path, Path]:
    """A 40 s simulated walk (insole16, kPa) written as a plain CSV with a column mapping beside it (not named for
    it, so it is found only through --map)."""
    import numpy as np

    recording = simulate(SimulationParams(duration_s=40.0, seed=7))
    names = {side: [f"{side[0]}{k}" for k in range(recording.layout.n_sensors)] for side in recording.sides}
    rows = np.hstack([recording.samples(side).values for side in recording.sides])
    data = folder / "lab.csv"
    np.savetxt(data, rows, delimiter=",", fmt="%.3f", header=",".join(names["left"] + names["right"]), comments="")
    mapping = folder / "columns.json"
    mapping.write_text(json.dumps({"sample_rate_hz": recording.sample_rate_hz, "layout": "insole16", "unit": "kPa",
                                   "left": names["left"], "right": names["right"]}))
    return data, mapping


def test_report_reads_a_generic_csv_through_its_mapping(tmp_path):
    data, mapping = _generic_csv(tmp_path)
    out = tmp_path / "lab.html"
    assert main(["report", str(data), "--map", str(mapping), "--out", str(out), "--mass-kg", "70"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "insole16" in page and "lab.csv" in page
    # without the mapping the same file is refused with one line naming it (exit 2), before anything is written
    done = subprocess.run([sys.executable, "-m", "insole", "report", str(data), "--out", str(tmp_path / "x.html")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "lab.csv" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.html").exists()

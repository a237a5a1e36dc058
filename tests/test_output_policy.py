"""Issue 15, part A: the output policy as a user meets it, through processes and the public Python writers.

The policy (docs/safety.md): no command writes over an existing file unless
``--force`` is given, nor over one of its own inputs even then; every file is
written to a temporary name beside the target and renamed once complete, so a
crash leaves the old file or the new one, never half of one. The refusals
command by command are in ``test_cli_refusals.py``; here: every writing
command offers ``--force``, the refusals hold for a real process, the library
writers honour ``force=``, and a writer killed mid-write or failing leaves the
earlier file whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import insole
from insole.simulate import SimulationParams, simulate

REPO = Path(__file__).resolve().parents[1]
WRITING_COMMANDS = ("simulate", "recover", "convert", "analyze", "report", "dashboard", "record", "test", "live")


def _insole(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "insole._cli", *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd, timeout=180, env={**os.environ, "PYTHONPATH": str(REPO)})


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def recording() -> insole.Recording:
    return simulate(SimulationParams(duration_s=5.0, seed=3))


@pytest.fixture
def walk(recording: insole.Recording, tmp_path: Path) -> Path:
    return insole.write_parquet(recording, tmp_path / "walk.parquet")


@pytest.mark.parametrize("command", WRITING_COMMANDS)
def test_every_writing_command_offers_force(command, tmp_path):
    result = _insole(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # help lines are wrapped
    assert "--force" in text
    assert "already exists" in text  # the help says what it does


def test_report_of_a_recording_onto_itself_is_refused_by_the_process(walk, tmp_path):
    # the reproducer, as typed at a shell: the recording used to become an HTML page, exit 0
    before = _digest(walk)
    for extra in ([], ["--force"]):
        result = _insole("report", "walk.parquet", "--out", "walk.parquet", *extra, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            "insole report: error: walk.parquet: is one of this command's inputs; it is never overwritten "
            "(choose another name)"]
    assert _digest(walk) == before and insole.load(walk).duration_s > 0


def test_rerunning_a_record_line_from_the_shell_history_keeps_the_session(walk, tmp_path):
    # the issue: re-running `insole record ... --out walk.parquet` deleted the patient's earlier session
    before = _digest(walk)
    result = _insole("record", "--emulate", "--duration", "2", "--out", "walk.parquet", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["insole record: error: walk.parquet: already exists (add --force to "
                                          "replace it)"]
    assert result.stdout == ""  # nothing started: no emulated insoles, no "Looking for" line
    assert _digest(walk) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.parquet"]


# ---------------------------------------------------------------- the Python writers


def test_library_writers_refuse_an_existing_file_with_force_false(recording, tmp_path):
    from dashboards import write_dashboard
    from insole.analysis import write_json
    from insole.report import build_report, write_html, write_report

    analysis = insole.analyze(recording)
    report = build_report(recording, analysis=analysis)
    existing = tmp_path / "existing.out"
    existing.write_text("keep me\n")
    writers = {
        "write_json": lambda force: write_json(analysis, existing, force=force),
        "write_html": lambda force: write_html(report, existing, force=force),
        "write_report": lambda force: write_report(recording, existing, analysis=analysis, force=force),
        "write_dashboard": lambda force: write_dashboard(recording, existing, analysis, force=force),
    }
    for name, write in writers.items():
        with pytest.raises(insole.OutputError, match="already exists"):
            write(False)
        assert existing.read_text() == "keep me\n", name
        write(True)  # the library's default, as open() does: replaced, atomically
        assert existing.read_text(encoding="utf-8") != "keep me\n", name
        existing.write_text("keep me\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.out"]  # no temporary file left


def test_a_failing_pdf_printer_leaves_the_earlier_pdf(recording, tmp_path, monkeypatch):
    from insole.report import PdfError, write_report

    # a "Chromium" that writes half a PDF where it is told to, then fails
    printer = tmp_path / "chromium"
    printer.write_text(textwrap.dedent("""\
        #!/bin/sh
        for arg in "$@"; do
          case "$arg" in --print-to-pdf=*) printf '%%PDF-1.4 half' > "${arg#--print-to-pdf=}";; esac
        done
        exit 1
    """))
    printer.chmod(0o755)
    monkeypatch.setenv("INSOLE_CHROMIUM", str(printer))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 the earlier, complete report")
    with pytest.raises(PdfError):
        write_report(recording, tmp_path / "report.html", pdf_path=pdf, force=True)
    assert pdf.read_bytes() == b"%PDF-1.4 the earlier, complete report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chromium", "report.html", "report.pdf"]


_KILLED_WRITER = textwrap.dedent("""
    import sys
    import insole
    from insole.analysis import write_json

    analysis = insole.analyze(insole.load(sys.argv[1]))
    write_json(analysis, sys.argv[2], force=True)
    print("ready", flush=True)
    while True:  # the same file, over and over, until killed
        write_json(analysis, sys.argv[2], force=True)
""")


def test_a_writer_killed_mid_write_leaves_a_whole_file(walk, tmp_path):
    # SIGKILL at random moments while the JSON is rewritten in a loop (about 50 ms a write): the file is
    # always the complete JSON, never a cut one; only the temporary file of the interrupted write remains
    out = tmp_path / "analysis.json"
    rng = random.Random(15)
    for _ in range(4):
        child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(walk), str(out)], stdout=subprocess.PIPE,
                                 text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.02, 0.4))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
        document = json.loads(out.read_text(encoding="utf-8"))  # a cut file fails here
        assert document["schema"] == "insole.analysis"
    left = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("walk.parquet", "analysis.json"))
    assert all(name.startswith(".analysis.json.") and name.endswith(".part") for name in left), left
    # the kills did land inside writes (a temporary file exists for nearly all of the loop): not a vacuous pass
    assert left


def test_force_replaces_through_the_process(walk, tmp_path):
    page = tmp_path / "walk.html"
    page.write_text("an old dashboard\n")
    result = _insole("dashboard", "walk.parquet", cwd=tmp_path)
    assert result.returncode == 2 and page.read_text() == "an old dashboard\n"
    result = _insole("dashboard", "walk.parquet", "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert page.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.html", "walk.parquet"]

"""The command line wires the parts: `insole analyze --report/--dashboard` and `--help` everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from insole._cli import build_parser

REPO = Path(__file__).resolve().parents[1]
MOTICON_SAMPLE = REPO / "recordings" / "moticon_230927_102114.parquet"


def _insole(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "insole._cli", *args], capture_output=True, text=True, cwd=REPO)


def _commands() -> list[str]:
    parser = build_parser()
    choices = next(a.choices for a in parser._actions if isinstance(getattr(a, "choices", None), dict))
    return sorted(choices)


def test_every_command_of_the_readme_exists():
    readme = (REPO / "README.md").read_text()
    for command in _commands():
        assert f"`insole {command}`" in readme, f"README does not document `insole {command}`"
    for command in ("info", "convert", "recover", "simulate", "emulate", "scan", "record", "analyze",
                    "report", "dashboard", "live", "batch", "cohort", "export", "test"):
        assert command in _commands(), f"`insole {command}` is not wired"


@pytest.mark.parametrize("command", _commands())
def test_help_describes_the_command_and_its_options(command):
    parser = build_parser()
    sub = next(a.choices for a in parser._actions if isinstance(getattr(a, "choices", None), dict))[command]
    text = sub.format_help()
    assert "usage: insole " + command in text
    assert len(text.splitlines()) > 5  # options are described, not only listed


def test_analyze_writes_report_and_dashboard_of_the_same_analysis(tmp_path):
    report, dashboard, analysis = tmp_path / "r.html", tmp_path / "d.html", tmp_path / "a.json"
    result = _insole("analyze", str(MOTICON_SAMPLE), "--json", str(analysis), "--report", str(report),
                     "--dashboard", str(dashboard))
    assert result.returncode == 0, result.stderr
    assert f"report: {report}" in result.stdout and f"dashboard: {dashboard}" in result.stdout
    page = report.read_text()
    assert "Not a diagnosis" in page
    # self-contained: no script or stylesheet fetched from anywhere
    # (plotly.min.js itself mentions its CDN in a string, so look at tags, not text)
    import re

    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?://", page)
    assert "<html" in dashboard.read_text()[:500].lower()
    data = json.loads(analysis.read_text())
    assert data["summary"]["cadence_steps_per_min"] > 0

"""insole report's command line beside insole analyze's, for session 13's fixes (public names only).

* A 5-sample gaitpdb file (0.05 s) printed "0 finding(s): none", which reads as a clean result; the page and the
  JSON say that no rule could be applied (tests/test_report_s13_build.py), and so does the line.
* A COP offset that rounds to zero reads 0.0 in the report, as insole analyze prints it, never -0.0.
"""

from __future__ import annotations

import re

from insole import load
from insole._cli import main
from insole.report import build_report, render_html


def _section(page: str, section: str) -> str:
    match = re.search(rf'<section id="{section}".*?</section>', page, re.S)
    assert match, section
    return match.group(0)


def test_the_command_line_says_no_rule_could_be_applied(shared_data, tmp_path, capsys):
    lines = (shared_data / "gaitpdb" / "GaCo01_01.txt").read_text().splitlines(keepends=True)[:5]
    path = tmp_path / "GaCo01_01.txt"
    path.write_text("".join(lines))
    assert main(["report", str(path), "--out", str(tmp_path / "page.html")]) == 0
    assert capsys.readouterr().out.strip().endswith(
        "0 finding(s): none: no rule could be applied (see Not assessed)")


def test_a_cop_offset_that_rounds_to_zero_reads_as_insole_analyze_prints_it(shared_data, capsys):
    """gaitpdb-cohort GaPt07_02: left mean COP offset -0.0x mm; insole analyze prints 0.0, the report printed -0.0.
    GaPt21_02: the right-minus-left COP difference printed "R−L -0.0"."""
    path = shared_data / "gaitpdb-cohort" / "GaPt07_02.txt"
    report = build_report(load(path), path=path)
    row = next(k for k in report.key_numbers if k.key == "cop_ml_pct")
    assert -0.05 < row.other_unit["left"] < 0
    assert "In mm, as insole analyze prints it: left 0.0, right -1.7 (R−L -1.7)" in row.note
    assert main(["analyze", str(path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "mean COP offset" in x)
    assert line.split()[-4:-2] == ["0.0", "-1.7"]
    second = shared_data / "gaitpdb-cohort" / "GaPt21_02.txt"
    other = build_report(load(second), path=second)
    page = _section(render_html(other), "key-numbers")
    assert "R−L -0.0<" not in page and re.search(r"R−L 0\.0<", page)
    assert not re.search(r"(?<![\d.])-0\.0+(?![\d])", re.sub(r"<script.*?</script>", "", page, flags=re.S))

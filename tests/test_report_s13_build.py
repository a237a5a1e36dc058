"""What a new user's review of `insole report` found in session 13 (docs/report.md).

* A key number marked outside the real controls' range counted as spoken for by a finding on the same measure of
  either foot: a changed walk's left midfoot share of 5.15 %, below the controls, with a low-arch finding of the
  right foot only, never appeared under "Outside the real controls' range, without a finding".
* A 5-sample gaitpdb file (0.05 s) gave an empty key-numbers table without a word and "no pattern was flagged",
  which reads as a clean result although no rule could be applied.
* A one-foot recording (stappone_example.csv, left foot) labelled its plain stride-time CV "averaged over the two
  feet" and judged the foot against ranges of two-foot means without saying so.
* A COP value that rounds to zero printed "-0.0" where insole analyze prints "0.0".
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from markupsafe import escape

from insole import load
from insole.report._build import (
    VARIABILITY_NOTES,
    KeyNumber,
    build_report,
    link_findings,
    number_text,
    outside_without_finding,
)
from insole.report._html import _fmt, render_html


@functools.lru_cache(maxsize=None)
def _report(path: Path) -> Any:
    return build_report(load(path), path=path)


def _section(page: str, section: str) -> str:
    match = re.search(rf'<section id="{section}".*?</section>', page, re.S)
    assert match, section
    return match.group(0)


def _finding(code: str, side: str, metric: str, title: str) -> SimpleNamespace:
    return SimpleNamespace(code=code, side=side, title=title, measured=SimpleNamespace(metric=metric))


# ---------------------------------------------------------------- 1. a finding speaks for its own foot only

MIDFOOT = KeyNumber("share_midfoot", "Midfoot share", "%", left=5.15, right=28.6, outside=("left",),
                    real_range=(6.0, 30.0), digits=2)
LOW_ARCH_RIGHT = _finding("low_arch_loading", "right", "share_midfoot", "Low arch loading")


def test_a_marked_foot_is_listed_when_the_finding_on_its_measure_is_of_the_other_foot(shared_data):
    """The review's walk: left midfoot share 5.15 % ▼, the only finding low-arch loading of the right foot. The
    left value is listed, with only the left foot, and why says the finding names the other foot."""
    session = _report(shared_data / "gaitpdb" / "GaCo01_01.txt").session
    listed = {o["key"]: o for o in outside_without_finding([MIDFOOT], [LOW_ARCH_RIGHT], session, None)}
    assert set(listed) == {"share_midfoot"}
    entry = listed["share_midfoot"]
    assert entry["values"] == {"left": 5.15} and entry["directions"] == {"left": "below"}
    assert entry["why_no_finding"] == ("a difference between the feet in this measure is reported once, on one "
                                       "foot: here as low arch loading, right foot")
    # a finding of the same foot, or of both feet, speaks for it
    for side in ("left", "both"):
        finding = _finding("high_arch_loading", side, "share_midfoot", "High arch loading")
        assert outside_without_finding([MIDFOOT], [finding], session, None) == [], side


def test_a_foot_departing_the_same_way_as_the_finding_foot_is_no_mirror_reading(shared_data):
    """Midfoot share left 38 % ▲ and right 50 % ▲, low-arch loading of the right foot: the left value is a second
    high departure, not the other side of the right's difference, so it keeps its own reason and names the other
    foot's finding (session 13's review); a heel share has no opposite rule, so it is never called a mirror."""
    session = _report(shared_data / "gaitpdb" / "GaCo01_01.txt").session
    high = KeyNumber("share_midfoot", "Midfoot share", "%", left=38.0, right=50.0, outside=("left", "right"),
                     real_range=(6.0, 36.0), digits=2)
    (entry,) = outside_without_finding([high], [LOW_ARCH_RIGHT], session, None)
    assert entry["values"] == {"left": 38.0}
    assert not entry["why_no_finding"].startswith("a difference between the feet in this measure is reported once")
    assert entry["why_no_finding"].endswith("(the finding on this measure names the other foot: low arch loading, "
                                            "right foot)")
    heel = KeyNumber("share_heel", "Heel share", "%", left=20.0, right=45.0, outside=("left",),
                     real_range=(28.0, 60.0), digits=2)
    offload = _finding("heel_avoidance", "right", "share_heel", "Heel offloading")
    (entry,) = outside_without_finding([heel], [offload], session, None)
    assert "reported once" not in entry["why_no_finding"] and "names the other foot" in entry["why_no_finding"]


def test_only_the_feet_no_finding_speaks_for_are_listed(shared_data):
    """Both feet marked, a finding of the right foot: the left is listed, the right is not."""
    session = _report(shared_data / "gaitpdb" / "GaCo01_01.txt").session
    both = dataclasses.replace(MIDFOOT, right=31.0, outside=("left", "right"))
    (entry,) = outside_without_finding([both], [LOW_ARCH_RIGHT], session, None)
    assert entry["values"] == {"left": 5.15} and entry["directions"] == {"left": "below"}


def test_a_session_number_is_spoken_for_by_a_finding_of_either_foot(shared_data):
    """A session-level row (the impulse index, of both feet) is explained by load asymmetry named on one foot."""
    session = _report(shared_data / "gaitpdb" / "GaCo01_01.txt").session
    row = KeyNumber("impulse_si_pct", "Impulse SI", "%", session=25.0, outside=("session",),
                    real_range=(-13.0, 17.3), scope="session")
    finding = _finding("load_asymmetry", "left", "impulse", "Left/right load asymmetry")
    assert outside_without_finding([row], [finding], session, None) == []
    assert [o["key"] for o in outside_without_finding([row], [], session, None)] == ["impulse_si_pct"]


def test_the_page_and_the_json_list_the_same_foot_and_the_row_points_to_the_finding(shared_data):
    """One computation, two views: the JSON's list and the page's table show the left value, and the key row, whose
    right value (the finding's foot) is unmarked, points to the finding."""
    report = _report(shared_data / "gaitpdb" / "GaCo01_01.txt")
    rows = link_findings([MIDFOOT], [LOW_ARCH_RIGHT])
    assert rows[0].see_finding == "see finding: low arch loading"
    changed = dataclasses.replace(
        report, key_numbers=rows, outside_rows=outside_without_finding(rows, [LOW_ARCH_RIGHT], report.session, None))
    data, page = changed.to_dict(), render_html(changed)
    (listed,) = data["outside_without_finding"]
    assert listed["key"] == "share_midfoot" and listed["values"] == {"left": 5.15}
    table = re.search(r'<table class="outside-without-finding">.*?</table>', page, re.S)
    assert table is not None
    cell = re.search(r'<tr data-key="share_midfoot">.*?</tr>', table.group(0), re.S)
    assert cell is not None and "left 5.15 ▼" in cell.group(0) and "right" not in cell.group(0)
    assert str(escape("see finding: low arch loading")) in _section(page, "key-numbers")


# ---------------------------------------------------------------- 2. a file too short to measure

def test_a_file_too_short_to_measure_says_why_and_that_no_rule_was_assessed(shared_data, tmp_path):
    """The first 5 data lines of gaitpdb GaCo01_01 (0.05 s): the key numbers say in one line why there are none,
    and the findings say no rule could be applied, not "no pattern was flagged"."""
    lines = (shared_data / "gaitpdb" / "GaCo01_01.txt").read_text().splitlines(keepends=True)[:5]
    path = tmp_path / "GaCo01_01.txt"
    path.write_text("".join(lines))
    report = build_report(load(path), path=path)
    data, page = report.to_dict(), render_html(report)
    assert data["key_numbers"] == [] and data["findings"] == []
    assert data["key_numbers_reason"] == ("No key number could be measured: the recording lasts 0.05 s and has no "
                                          "used step on either foot (see Data quality).")
    assert data["rules_assessed"] == []
    key = _section(page, "key-numbers")
    assert str(escape(data["key_numbers_reason"])) in key and "<table>" not in key
    findings = _section(page, "findings")
    assert "No rule could be applied to this recording" in findings and "no clean result" in findings
    assert "No pattern was flagged" not in findings
    assert 'data-why="none-assessed"' in _section(page, "chain")


def test_a_walk_with_its_rules_applied_says_nothing_of_the_kind(shared_data):
    report = _report(shared_data / "gaitpdb" / "GaCo01_01.txt")
    data = report.to_dict()
    assert data["key_numbers"] and data["key_numbers_reason"] is None
    assert "irregular_gait" in data["rules_assessed"] and "reduced_hallux_loading" not in data["rules_assessed"]
    assert "No rule could be applied" not in render_html(report)


# ---------------------------------------------------------------- 3. one foot recorded

def test_a_one_foot_walk_says_its_figures_are_of_that_foot(shared_data):
    """stappone_example.csv (left foot only): the plain CV and SD say they are of the left foot alone, and every
    row judged against a range of two-foot means says it judged the one foot."""
    report = _report(shared_data / "vendor-exports" / "stappone_example.csv")
    assert report.session.sides == ("left",)
    rows = {k.key: k for k in report.key_numbers}
    page = render_html(report)
    for key in ("stride_cv_pct", "stride_sd_ms"):
        assert "averaged over the two feet" not in rows[key].note, key
        assert "of the left foot alone (the only one recorded)" in rows[key].note, key
        assert str(escape(rows[key].note)) in page
    one_foot = "judged on this walk's one foot, the left, the only one recorded"
    for key in ("stride_cv_pct", "stride_sd_ms", "timing_variability_pct", "stride_variability_pct",
                "stance_variability_pct"):
        assert rows[key].real_range is not None, key
        assert rows[key].reference.endswith(f"; the controls' values are each the mean of both feet; {one_foot}"), key
    for key in ("stance_s", "stance_pct", "stride_robust_cv_pct"):
        assert "each the mean of both feet" in rows[key].reference and rows[key].mean_of_feet is None, key
        assert rows[key].reference.endswith(f"; {one_foot}"), key
    assert str(escape(rows["stance_s"].reference)) in page
    # cadence is one figure of the walk's steps, not a mean over feet
    assert "one foot" not in rows["cadence_steps_per_min"].reference


def test_a_two_foot_walk_keeps_its_notes_and_references(shared_data):
    report = _report(shared_data / "gaitpdb" / "GaCo01_01.txt")
    rows = {k.key: k for k in report.key_numbers}
    assert rows["stride_cv_pct"].note == VARIABILITY_NOTES["stride_cv_pct"]
    assert rows["stride_sd_ms"].note == VARIABILITY_NOTES["stride_sd_ms"]
    assert not any("one foot" in k.reference for k in report.key_numbers)


# ---------------------------------------------------------------- 4. no negative zero

@pytest.mark.parametrize(("value", "digits", "signed", "text"), [
    (-0.02, 1, False, "0.0"), (-0.02, 1, True, "0.0"), (0.02, 1, True, "0.0"), (-0.004, 2, True, "0.00"),
    (-0.06, 1, True, "-0.1"), (0.3, 1, True, "+0.3"), (-2.5, 1, False, "-2.5"), (0.0, 0, False, "0"),
])
def test_a_value_that_rounds_to_zero_prints_without_a_sign(value, digits, signed, text):
    assert number_text(value, digits, signed) == text
    assert _fmt(value, digits, signed) == text



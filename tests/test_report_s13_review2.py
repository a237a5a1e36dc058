"""What a second new user's reading of real reports found in session 13 (docs/report.md).

* Changes since baseline ignored a change of walking speed (GaCo02_02 walked 1.16 m/s, its baseline 1.04 m/s) and
  did not say how many "yes" its MDC95 column shows by chance.
* A change and its MDC95 printed the same ("+0.07 ... yes (0.07)" for 0.0695 against 0.0653); a body-weight row
  whose level is not judged was judged as a change without a word.
* A finding capped by its confidence read "severity mild" without saying so (hunt16's irregular timing, 8.4 x the
  controls' median).
* A foot beyond the printed limit by less than the sample interval was left unmarked without a word (JuPt07_01's
  left stance time 0.548 s beside 0.557-0.795 s).
* Antalgic gait's "why no finding" always asked for a peak-force SI of -10 % or less; irregular timing's gave no
  value nor limit.
* Moticon's impulse index read "too few strides to judge" beside another insole's controls; GaPt23_01's F1 and
  loading rate, from a body weight estimated from the walk's own load, were marked against measured masses.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from insole import load
from insole.report import _build
from insole.report._build import KeyNumber, _why_no_finding, build_report
from insole.report._html import render_html


@functools.lru_cache(maxsize=None)
def _report(path: Path, baseline: Path | None = None) -> Any:
    if baseline is None:
        return build_report(load(path), path=path)
    return build_report(load(path), path=path, baseline=load(baseline), baseline_path=baseline)


@functools.lru_cache(maxsize=None)
def _page(path: Path, baseline: Path | None = None) -> str:
    return render_html(_report(path, baseline))


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def _section(page: str, section: str) -> str:
    match = re.search(rf'<section id="{section}".*?</section>', page, re.S)
    assert match, section
    return match.group(0)


def _gaco02(shared_data: Path) -> tuple[Path, Path]:
    return shared_data / "gaitpdb-cohort" / "GaCo02_02.txt", shared_data / "gaitpdb-cohort" / "GaCo02_01.txt"


def _row(report: Any, key: str) -> KeyNumber:
    return next(row for row in report.key_numbers if row.key == key)


# ---------------------------------------------------------------- 1. a change of walking speed


def test_the_changes_show_both_speeds_and_mark_the_speed_dependent_rows(shared_data):
    path, base = _gaco02(shared_data)
    data = _report(path, base).to_dict()["baseline"]
    assert data["walking_speed"]["before_m_per_s"] == 1.04 and round(data["walking_speed"]["after_m_per_s"], 2) == 1.16
    assert data["walking_speed"]["differ"]
    marked = {row["key"] for row in data["changes"] if row["speed_dependent"]}
    assert {"stance_s", "f1", "cadence_steps_per_min", "timing_variability_pct"} <= marked
    assert not marked & {"stance_si_pct", "share_midfoot", "cop_ml_pct"}
    text = _text(_section(_page(path, base), "changes"))
    assert "1.04 m/s at the baseline, 1.16 m/s now" in text
    assert "may reflect the speed alone" in text
    assert "† walking speed" in text


def test_the_changes_say_how_many_yes_come_by_chance(shared_data):
    path, base = _gaco02(shared_data)
    data = _report(path, base).to_dict()["baseline"]
    n = sum(1 for row in data["changes"] if row["beyond_mdc95"] is not None)
    assert n >= 20
    assert f"With {n} rows each judged against its MDC95" in data["chance_note"]
    assert f"about {n / 20:.0f} \"yes\" by chance" in data["chance_note"]
    assert data["chance_note"] in _text(_section(_page(path, base), "changes"))


# ---------------------------------------------------------------- 2. a change read apart from its MDC95


def test_a_change_prints_apart_from_its_mdc95():
    assert _build._change_digits(0.0695, 0.0653, 2) == 3
    assert _build._change_digits(-0.0695, 0.0653, 2) == 3
    assert _build._change_digits(0.04, 0.0653, 2) == 2
    assert _build._change_digits(0.04, None, 2) == 2


def test_gaco02_first_peak_change_reads_apart_and_says_its_level_is_not_judged(shared_data):
    path, base = _gaco02(shared_data)
    rows = _report(path, base).to_dict()["baseline"]["changes"]
    f1 = next(row for row in rows if row["key"] == "f1" and row["side"] == "right")
    assert f1["beyond_mdc95"]
    digits = f1["digits"]
    assert f"{abs(f1['change']):.{digits}f}" != f"{f1['mdc95']:.{digits}f}"
    assert f1["note"] == ("the level is not judged: the body-weight check failed; a change of the same insoles is")
    text = _text(_section(_page(path, base), "changes"))
    assert "the level is not judged: the body-weight check failed; a change of the same insoles is" in text
    assert "yes (0.07)" not in text


# ---------------------------------------------------------------- 3. a capped severity says so


def _finding(severity: str, *reasons: str) -> SimpleNamespace:
    return SimpleNamespace(severity=severity, confidence_reasons=reasons)


def test_a_capped_severity_reads_from_the_reasons():
    capped = _build.severity_cap(_finding(
        "mild", "severity capped at moderate by the moderate confidence (by the cut-off alone it would be marked)",
        "lowered one step from moderate: the person walked slower", "severity capped at mild by the low confidence"))
    assert capped is not None
    assert capped["text"] == "mild (capped by the low confidence; by its size alone: marked)"
    # capped without the cut-off's own severity written: the cap said, no size guessed
    assert _build.severity_cap(_finding("mild", "severity capped at mild by the low confidence"))["text"] == (
        "mild (capped by the low confidence)")
    assert _build.severity_cap(_finding("moderate", "the real control reference has only 9 recordings")) is None


def test_hunt16_irregular_timing_header_says_the_cap(shared_data):
    path = shared_data / "gaitndd-cohort" / "hunt16.hea"
    page = _page(path)
    match = re.search(r'data-code="irregular_gait".*?</h3>\s*<div>(.*?)</div>', page, re.S)
    assert match
    assert "severity mild (capped by the low confidence; by its size alone: marked)" in _text(match.group(1))


# ---------------------------------------------------------------- 4. a foot at the limit says so


def test_jupt07_left_stance_at_the_limit_says_why_it_is_unmarked(shared_data):
    report = _report(shared_data / "gaitpdb-cohort" / "JuPt07_01.txt")
    for key, value in (("stance_s", "0.548"), ("step_s", "0.453")):
        row = _row(report, key)
        assert row.outside == ("right",)
        assert row.left is not None and row.real_range is not None and row.left < row.real_range[0]
        assert f"The left foot's value, {value} s" in row.resolution
        assert "at the limit, not marked" in row.resolution


# ---------------------------------------------------------------- 5-6. why no finding: sign, value and limit


def _stance_si_row(value: float) -> KeyNumber:
    return KeyNumber("stance_si_pct", "Stance-time symmetry index", "%", session=value, scope="session",
                     outside=("session",), real_range=(-3.0, 3.0), digits=1)


def test_antalgic_why_follows_the_shorter_foot():
    left_shorter = _why_no_finding(_stance_si_row(12.9), {"stance_si_pct": 12.9, "peak_force_si_pct": 2.0},
                                   set(), None)
    assert "needs +10% or more" in left_shorter and "-10% or less" not in left_shorter
    assert "the left" in left_shorter
    right_shorter = _why_no_finding(_stance_si_row(-10.3), {"stance_si_pct": -10.3, "peak_force_si_pct": -0.7},
                                    set(), None)
    assert "needs -10% or less" in right_shorter and "the right" in right_shorter
    assert "does not reach" not in right_shorter
    # the stance index itself short of its ±5 % condition: said too
    short = _why_no_finding(_stance_si_row(-3.8), {"stance_si_pct": -3.8, "peak_force_si_pct": 8.0}, set(), None)
    assert "which -3.8% does not reach" in short


def test_irregular_timing_why_gives_the_value_and_the_limit(shared_data):
    report = _report(shared_data / "gaitndd-cohort" / "als12.hea")
    rows = {row["key"]: row for row in report.outside_rows}
    why = rows["timing_variability_pct"]["why_no_finding"]
    assert re.search(r"here 3\.60 % against 4\.0\d % \(2 × the controls' median\), which was not reached", why)


# ---------------------------------------------------------------- 7-8. force indices not judged


def test_moticon_impulse_index_is_not_judged_against_another_insole(shared_data):
    report = _report(shared_data / "moticon-opengo" / "230927_102231.txt")
    row = _row(report, "impulse_si_pct")
    assert "another insole" in row.reference
    assert row.not_judged == "not judged: another insole"


def test_an_estimated_body_weight_leaves_the_body_weight_rows_unjudged(shared_data):
    report = _report(shared_data / "gaitpdb-cohort" / "GaPt23_01.txt")
    assert report.session.body_weight_source == "estimated"
    for key in ("f1", "loading_rate_bw_s"):
        row = _row(report, key)
        assert row.not_judged == "not judged: body weight estimated from this walk's own load"
        assert row.outside == ()


# ---------------------------------------------------------------- 9. one float, one printed figure


def test_hunt16_stance_variability_reads_the_same_in_the_key_numbers_and_the_finding(shared_data):
    report = _report(shared_data / "gaitndd-cohort" / "hunt16.hea")
    value = _row(report, "stance_variability_pct").session
    assert value is not None and f"{value:.2f}" == "18.06" and f"{round(value, 4):.2f}" == "18.05"
    page = _page(shared_data / "gaitndd-cohort" / "hunt16.hea")
    row = re.search(r"<tr><td>Stride-to-stride variability, stance time.*?</tr>", _section(page, "key-numbers"), re.S)
    assert row and "18.06" in row.group(0) and "18.05" not in row.group(0)
    finding = next(f for f in report.findings if f.code == "irregular_gait")
    assert "stance time 18.06%" in finding.statement

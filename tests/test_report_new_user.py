"""What a new user found in the report on files the tests had not used (issue 16 follow-up, docs/report.md).

* A caveat shared by several findings (the body-weight check, a foot's data quality, approximate sensor
  positions) was repeated in every finding's confidence text, once per foot: it is said once, in "What limits
  these findings", and each finding names it by number; the data-quality section says the body-weight check once
  for both feet.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markupsafe import escape

from insole import load
from insole.report import build_report
from insole.report._html import render_html

# where a finding's block ends: the next finding, the "not assessed" table or the section's end
NEXT = r'(?=<div class="finding"|<h3>Not assessed|</section>)'


@pytest.fixture(scope="module")
def jupt13(shared_data: Path):
    """gaitpdb-cohort JuPt13_01: four findings, both feet 'fair' with the same failed body-weight check."""
    path = shared_data / "gaitpdb-cohort" / "JuPt13_01.txt"
    report = build_report(load(path), path=path)
    return report, report.to_dict(), render_html(report)


def test_a_caveat_several_findings_share_is_said_once(jupt13):
    report, data, page = jupt13
    assert len(data["findings"]) == 4
    feet = report.session.feet
    weight = [n for n in feet["left"].quality_notes if n.startswith("body weight check")]
    assert len(weight) == 1 and weight[0] in feet["right"].quality_notes  # the analysis writes it on each foot
    # before: 2 (data quality, one per foot) + 7 (each finding, once per foot it rests on); now once in each
    # section, and a limit of the one finding whose measures a failed check may move: the impulse index (one
    # insole's calibration moves it), not the COP offset, the heel share (ratios within a foot) or the timing
    assert page.count(escape(weight[0])) == 2
    assert data["quality_notes_both_feet"] == weight
    (limit,) = [limit for limit in data["limits"] if weight[0] in limit["text"]]
    assert [f["code"] for f in data["findings"] if limit["number"] in f["limits"]] == ["load_asymmetry"]
    approximate = "sensor positions of layout gaitpdb8 are approximate"
    assert page.count(approximate) == 1
    texts = {limit["number"]: limit["text"] for limit in data["limits"]}
    for finding in data["findings"]:
        shown = " ".join([*finding["confidence_reasons_shown"], *(texts[n] for n in finding["limits"])])
        # nothing is lost: every quality note of every foot a reason named is still said, here or in a limit,
        # except a note about the session that does not affect the finding's measures (said under the data quality)
        for reason in finding["confidence_reasons"]:
            side = reason.split(" foot data quality")[0] if " foot data quality" in reason else None
            for note in (feet[side].quality_notes if side in feet else (reason,)):
                if note == weight[0] and finding["code"] != "load_asymmetry":  # said under the data quality only
                    continue
                assert note in shown, (finding["code"], note)
        # the finding's limits are links to the block
        block = re.search(rf'id="finding-{finding["code"]}-{finding["side"]}".*?{NEXT}', page, re.S)
        assert block is not None
        for n in finding["limits"]:
            assert f'<a href="#limit-{n}">{n}</a>' in block.group(0)
        assert escape(weight[0]) not in block.group(0)


def test_a_note_repeating_its_own_reason_is_not_shown_twice(jupt13):
    _, data, page = jupt13
    heel = next(f for f in data["findings"] if f["code"] == "heel_avoidance")
    speed = "walked slower than every control (0.66 vs 0.91–1.54 m/s)"
    assert any(speed in n for n in heel["notes"]) and any(speed in r for r in heel["confidence_reasons_shown"])
    assert not any(speed in n for n in heel["notes_shown"])
    block = re.search(rf'id="finding-heel_avoidance-both".*?{NEXT}', page, re.S)
    assert block is not None and block.group(0).count(speed) == 1


def test_the_robust_stride_time_cv_is_one_number_in_every_view(shared_data: Path, capsys) -> None:
    """insole analyze prints each foot's robust stride-time CV (1.4826 x MAD / median); the report's key numbers
    now show the same figure, beside the real controls' range of it (a per-foot metric of the reference sets)."""
    from insole._cli import main
    from insole.report._reference import load_reference_sets, reference_set_for

    path = shared_data / "gaitpdb-cohort" / "GaPt23_01.txt"
    report = build_report(load(path), path=path)
    robust = report.session.analysis.summary.stride_time_robust_cv_pct
    row = next(k for k in report.key_numbers if k.key == "stride_robust_cv_pct")
    assert (row.left, row.right) == (robust["left"], robust["right"])  # the analysis' own, not recomputed
    controls = reference_set_for(load_reference_sets(), "gaitpdb8", kind="real").foot_metric("stride_robust_cv_pct")
    assert controls.n == controls.people == 37  # one value per control: the mean of the two feet
    assert row.real_range == (min(controls.values), max(controls.values))
    # GaPt23 (Parkinson's, Hoehn & Yahr 3): 5.89 % and 8.14 %, above every control (at most 4.01 %, the mean of
    # both feet)
    assert row.outside == ("left", "right") and row.real_range[1] < min(robust.values())
    data = report.to_dict()
    assert data["summary"]["feet"]["left"]["stride_robust_cv_pct"] == pytest.approx(robust["left"], abs=1e-4)
    page = render_html(report)
    assert f"{robust['left']:.2f} <strong" in page
    assert "(range of 37 people, each the mean of both feet) [real controls]" in page
    assert main(["analyze", str(path)]) == 0
    printed = capsys.readouterr().out
    assert f"robust CV {robust['left']:.2f}%" in printed and f"robust CV {robust['right']:.2f}%" in printed


def test_the_cop_offset_is_shown_in_mm_beside_its_percent_of_ball_width(shared_data: Path, capsys) -> None:
    """insole analyze printed the medial COP offset in mm, the report in % of ball width: both are the analysis'
    own columns (cop_ml_offset_mm; cop_ml_offset_pct = mm / the layout's ball width), and the report's row now
    gives the mm too, the numbers insole analyze prints."""
    from insole._cli import main

    path = shared_data / "gaitpdb-cohort" / "GaPt23_01.txt"
    report = build_report(load(path), path=path)
    summary = report.session.analysis.summary
    row = next(k for k in report.key_numbers if k.key == "cop_ml_pct")
    mm = {side: summary.metric("cop_ml_offset_mm", side) for side in ("left", "right")}
    assert row.other_unit is not None
    assert (row.other_unit["left"], row.other_unit["right"]) == (mm["left"], mm["right"])
    assert row.other_unit["difference_right_minus_left"] == summary.symmetry.at["cop_ml_offset_mm", "difference"]
    # one measure in two units: the % is the mm over the ball width (the same constant for every stride)
    ball = report.session.layout.ball_width_mm
    for side, value in (("left", row.left), ("right", row.right)):
        assert value == pytest.approx(100.0 * mm[side] / ball, rel=1e-9)
    assert "In mm, as insole analyze prints it: left +2.7, right +0.2 (R−L -2.5)" in row.note
    assert main(["analyze", str(path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "mean COP offset" in x)
    assert line.split()[-4:] == ["2.7", "0.2", "R-L", "-2.5"]


def test_a_marked_key_number_without_a_finding_is_named_under_the_findings(shared_data: Path) -> None:
    """GaPt23_01 (gaitpdb-cohort, Parkinson's): a step-time symmetry index of -18 % lay outside the 37 controls'
    -7.6 to 4.2 % and beyond its day-to-day MDC95 (6.0 %), marked in the key numbers but with neither a finding nor a
    word under the findings: no rule uses step-time asymmetry. Every marked row that no finding speaks for is now
    listed under the findings with its range and why no rule made it a finding."""
    path = shared_data / "gaitpdb-cohort" / "GaPt23_01.txt"
    report = build_report(load(path), path=path)
    data, page = report.to_dict(), render_html(report)
    assert [f["code"] for f in data["findings"]] == ["irregular_gait"]
    listed = {o["key"]: o for o in data["outside_without_finding"]}
    step = listed["step_si_pct"]
    assert step["values"] == {"session": pytest.approx(-18.03, abs=0.01)} and step["directions"] == {"session": "below"}
    assert step["real_range"] == pytest.approx([-7.6424, 4.2425], abs=1e-4)  # -8.8834 with JuCo26_01 (JuPt01_01)
    # GaPt23 is one of the 20 same-day pairs: judged by the MDC95 of the 19 others (6.02 % with its own pair)
    assert step["mdc95"] == pytest.approx(5.68, abs=0.01) and step["beyond_mdc95"] is True
    assert "no finding rule uses step-time asymmetry" in step["why_no_finding"]
    assert "the steps ending at the right heel strike are shorter" in step["why_no_finding"]
    assert "peak-force SI -0.7%" in listed["stance_si_pct"]["why_no_finding"]
    # complete: every marked key row is either one the finding speaks for (the variability rows of irregular
    # timing) or listed; nothing listed is unmarked
    marked = {k["key"] for k in data["key_numbers"] if k["outside_real_range"]}
    variability = {"timing_variability_pct", "stride_variability_pct", "stance_variability_pct", "stride_sd_ms",
                   "stride_robust_cv_pct"}
    assert marked - variability == set(listed) and variability & set(listed) == set()
    assert {"stance_s", "double_support_pct", "cadence_steps_per_min", "impulse_si_pct", "step_si_pct"} <= set(listed)
    row = next(k for k in data["key_numbers"] if k["key"] == "step_si_pct")
    assert "No finding rule judges it alone" in row["note"]
    assert '<tr data-key="step_si_pct">' in page and "-18.0 ▼" in page


def test_a_robust_cv_of_a_mad_of_zero_reads_n_a_per_foot() -> None:
    """At 20 Hz most stride times of a steady simulated walk fall on one sample count: the MAD is 0, and a robust
    CV of 0 % would read as no variability. The per-foot row shows n/a with why, judges nothing, and the analysis'
    figure is indeed 0 (to rounding)."""
    from insole.report._metrics import robust_cv_is_zero
    from insole.simulate import SimulationParams, simulate

    report = build_report(simulate(SimulationParams(duration_s=60.0, sample_rate_hz=20.0, seed=3)))
    assert all(robust_cv_is_zero(v) for v in report.session.analysis.summary.stride_time_robust_cv_pct.values())
    row = next(k for k in report.key_numbers if k.key == "stride_robust_cv_pct")
    assert (row.left, row.right, row.outside) == (None, None, ())
    assert row.not_available.startswith("n/a (median absolute deviation 0: most stride times of the left and right")
    assert row.not_available in render_html(report)


def test_a_baseline_of_the_same_simulated_person_with_another_pattern_is_judged():
    """A clinician comparing a simulated walk with a baseline of the same seed and another pattern expects the
    same person: the report judges that baseline (``other_person`` is None) and refuses one of another seed."""
    from insole.report._build import other_person
    from insole.simulate import SimulationParams, simulate

    def walk(pattern: str, seed: int) -> dict:
        recording = simulate(SimulationParams(pattern=pattern, seed=seed, duration_s=20.0))
        return {"subject_id": recording.meta.subject_id}

    normal, antalgic, other_seed = walk("normal", 3), walk("antalgic", 3), walk("normal", 4)
    assert other_person(antalgic, normal) is None
    assert other_person(other_seed, normal) == "the baseline is another person (sim-3 vs sim-4)"

"""The kinetic-chain picture: one box per finding, one arrow per joint association, grades on the arrows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from test_report_findings import SETS, _session

from insole.report._chain import GRADE_COLOURS, chain_svg
from insole.report._evidence import GRADE_SHORT, GRADES
from insole.report._findings import evaluate

SVG = "{http://www.w3.org/2000/svg}"


def _findings():
    session = _session(left={"share_heel": 0.15, "share_forefoot": 0.56, "share_toes": 0.19, "stance_s": 0.60,
                             "peak_force": 0.98, "impulse": 0.44},
                       right={"cop_ml_offset_mm": 8.5}, stride_cv=0.08)
    return evaluate(session, reference_sets=SETS).findings


def test_every_association_is_an_arrow_with_its_strongest_grade():
    findings = _findings()
    assert {f.code for f in findings} >= {"heel_avoidance", "antalgic_gait", "load_asymmetry", "pronated_loading",
                                          "irregular_gait"}
    root = ET.fromstring(chain_svg(findings))
    boxes = root.findall(f".//{SVG}g[@class='finding-box']")
    assert sorted((b.get("data-code"), b.get("data-side")) for b in boxes) == sorted((f.code, f.side) for f in findings)
    arrows = {(a.get("data-code"), a.get("data-joint"), a.get("data-side")): a.get("data-grade")
              for a in root.findall(f".//{SVG}line[@class='link']")}
    expected: dict[tuple[str, str, str], str] = {}
    for f in findings:
        for j in f.joints:
            side = "midline" if j.side == "midline" else j.side
            key = (f.code, j.joint, side)
            if key not in expected or GRADES.index(j.grade) > GRADES.index(expected[key]):
                expected[key] = j.grade
    assert arrows == expected
    # the grade is written on the arrow
    labels = [t.text for t in root.findall(f".//{SVG}g[@class='grade-label']/{SVG}text")]
    assert len(labels) == len(arrows)
    assert all(any(GRADE_SHORT[g] in label.split(", ") for g in GRADES) for label in labels)
    # irregular gait's one whole-body arrow rests on the falls studies (moderate); the disease-severity studies are
    # another outcome, listed and not drawn
    assert "M" in labels and "M, M–S" not in labels
    irregular = next(f for f in findings if f.code == "irregular_gait")
    assert [j.references for j in irregular.joints] == [(67, 71, 72)]
    assert [j.association for j in irregular.not_drawn] == ["other_outcome"]


def test_joints_are_highlighted_in_the_strongest_grade_colour_and_others_not():
    findings = _findings()
    root = ET.fromstring(chain_svg(findings))
    strongest: dict[tuple[str, str], str] = {}
    for f in findings:
        for j in f.joints:
            sides = ["left", "right"] if j.side == "both" else [j.side]
            for side in sides:
                key = (j.joint, side)
                if key not in strongest or GRADES.index(j.grade) > GRADES.index(strongest[key]):
                    strongest[key] = j.grade
    for circle in root.findall(f".//{SVG}circle[@data-joint]"):
        key = (circle.get("data-joint"), circle.get("data-side"))
        if key in strongest:
            assert "highlighted" in circle.get("class")
            assert circle.get("fill") == GRADE_COLOURS[strongest[key]]
        else:
            assert "highlighted" not in circle.get("class")


def test_contralateral_associations_are_listed_on_the_other_leg_and_not_drawn():
    # load asymmetry's contralateral-knee results are a different measure (joint moments in hip OA) and a
    # protective one (MOST): both are listed, resolved to the other leg, and neither is an arrow
    findings = [f for f in _findings() if f.code == "load_asymmetry"]
    (finding,) = findings
    assert finding.side == "left"
    assert finding.joints == ()
    assert sorted((j.joint, j.side, j.association) for j in finding.not_drawn) == [
        ("knee", "right", "positive"), ("knee", "right", "protective")]
    root = ET.fromstring(chain_svg(findings))
    assert root.findall(f".//{SVG}line[@class='link']") == []


def test_null_and_protective_results_never_become_arrows():
    findings = _findings()
    pronated = next(f for f in findings if f.code == "pronated_loading")
    # CPEI "not associated with knee pain" [15] is listed as a null result, not drawn to the knee
    assert ("knee", "null") in {(j.joint, j.association) for j in pronated.not_drawn}
    root = ET.fromstring(chain_svg(findings))
    drawn = {(a.get("data-code"), a.get("data-joint")) for a in root.findall(f".//{SVG}line[@class='link']")}
    assert ("pronated_loading", "knee") not in drawn
    assert ("pronated_loading", "low_back") not in drawn  # CPEI, not our COP offset
    for f in findings:
        assert all(j.association == "positive" for j in f.joints)
        assert all(j.why_not_drawn for j in f.not_drawn)


def test_no_findings_draws_the_legs_and_says_so():
    svg = chain_svg([])
    root = ET.fromstring(svg)
    assert root.findall(f".//{SVG}line[@class='link']") == []
    assert "No findings flagged" in svg


# ---------------------------------------------------------------- the page's chain section when nothing is drawn


def _chain_section(report) -> str:  # noqa: ANN001 - insole.report.Report
    import re

    from insole.report._html import render_html

    found = re.search(r'<section id="chain".*?</section>', render_html(report), re.S)
    assert found
    return found.group(0)


def test_chain_section_without_findings_says_why_nothing_is_drawn():
    from insole.report import build_report
    from insole.simulate import SimulationParams, simulate

    report = build_report(simulate(SimulationParams(pattern="normal", duration_s=40.0, seed=3)),
                          generated_at="2026-01-01T00:00:00Z")
    assert report.findings == ()
    section = _chain_section(report)
    assert 'data-why="no-finding"' in section and "no finding was flagged" in section
    assert "<svg" not in section  # no empty drawing of two legs


def test_chain_section_with_findings_but_no_drawn_link_names_them_and_draws_nothing():
    import dataclasses

    from insole.report import build_report
    from insole.simulate import SimulationParams, simulate

    report = build_report(simulate(SimulationParams(pattern="normal", duration_s=40.0, seed=3)),
                          generated_at="2026-01-01T00:00:00Z")
    findings = tuple(dataclasses.replace(f, joints=()) for f in _findings())
    report.result = dataclasses.replace(report.result, findings=findings)
    section = _chain_section(report)
    assert 'data-why="nothing-drawn"' in section and "<svg" not in section
    assert "none of the findings" in section
    for finding in findings:
        assert finding.title.lower() in section.lower()
    assert ("Listed, not drawn" in section) == any(f.not_drawn for f in findings)
    # with a drawn link the picture is there
    report.result = dataclasses.replace(report.result, findings=_findings())
    section = _chain_section(report)
    assert "<svg" in section and "chain-empty" not in section

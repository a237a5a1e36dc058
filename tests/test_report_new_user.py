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
    # before: 2 (data quality, one per foot) + 7 (each finding, once per foot it rests on); now once in each section
    assert page.count(escape(weight[0])) == 2
    assert data["quality_notes_both_feet"] == weight
    assert data["limits"][0] == {"number": 1, "text": f"Both feet: {weight[0]}",
                                 "findings": [f"{f['title'][0].lower()}{f['title'][1:]}, "
                                              f"{'both feet' if f['side'] == 'both' else f['side'] + ' foot'}"
                                              for f in data["findings"]]}
    approximate = "sensor positions of layout gaitpdb8 are approximate"
    assert page.count(approximate) == 1
    texts = {limit["number"]: limit["text"] for limit in data["limits"]}
    for finding in data["findings"]:
        assert 1 in finding["limits"]
        shown = " ".join([*finding["confidence_reasons_shown"], *(texts[n] for n in finding["limits"])])
        # nothing is lost: every quality note of every foot a reason named is still said, here or in a limit
        for reason in finding["confidence_reasons"]:
            side = reason.split(" foot data quality")[0] if " foot data quality" in reason else None
            for note in (feet[side].quality_notes if side in feet else (reason,)):
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

"""What a new user found in the report on real files the tests had not used (issue 16, second review).

* The methods said "Load asymmetry uses |SI| > 10% of impulse per step" while the rule also needs the impulse,
  peak-force and F1 indices together beyond the real controls' healthy asymmetry: gaitpdb-cohort GaPt09_01
  (impulse SI +14.2 %) has no finding and GaCo06_02 (+12.2 %) has one, and the report must say why.
* Cadence was shown beside "113.8 ± 4.3 steps/min in healthy controls", the control group of a Parkinson's study
  [76], for everyone, although age- and sex-banded norms of real controls are stored.
* A walk that is one of the reference's own controls (GaCo06_01 is one of the 37) was compared with a range that
  includes it, without a word; the same for a baseline pair that is one of the MDC95's test-retest pairs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from insole import load
from insole.report import build_report
from insole.report._html import render_html


def _report(shared_data: Path, name: str, baseline: str | None = None):
    path = shared_data / "gaitpdb-cohort" / f"{name}.txt"
    base = shared_data / "gaitpdb-cohort" / f"{baseline}.txt" if baseline else None
    return build_report(load(path), path=path, baseline=load(base) if base else None, baseline_path=base)


@pytest.fixture(scope="module")
def gapt09(shared_data: Path):
    return _report(shared_data, "GaPt09_01")


@pytest.fixture(scope="module")
def gaco06_02(shared_data: Path):
    return _report(shared_data, "GaCo06_02")


def _row(report, key):
    (row,) = [r for r in report.key_numbers if r.key == key]
    return row


def test_the_methods_state_the_load_asymmetry_rule_the_code_applies(gapt09, gaco06_02, shared_data):
    # each judged without its own same-day pair (MDC95 of the 19 other pairs), GaCo06_02 against the 37 controls
    # other than GaCo06 (its first walk is one of the 37)
    # the limit for one new person from n controls' covariance of 3 indices (``_pattern_limit``): Student's t with
    # n - 2 degrees of freedom, x sqrt(n / (n - 2)) for the covariance's own error, at the two-sided 1 % (37: 2.80,
    # 36: 2.81), more for a walk unlike the controls in the other directions; the normal 2.58 before
    # (GaCo06_02's MDC95 was 4.6 before 7830cc5)
    for report, mdc, n, z in ((gapt09, "5.3", 37, "2.80"), (gaco06_02, "4.5", 36, "2.81")):
        methods = report.methods
        # before: "Load asymmetry uses |SI| > 10% of impulse per step, a conventional, arbitrary cut-off [53]"
        assert "Load asymmetry uses |SI| > 10% of impulse per step" not in methods
        assert ("Load asymmetry needs all of: |SI| of impulse per step above 10% (a conventional, arbitrary "
                f"cut-off [53]) and beyond 3 standard errors of the step-to-step scatter; |SI| beyond its MDC95 of "
                f"{mdc}%; and the left/right indices of impulse, peak force and first peak (F1) taken together beyond "
                f"the {n} controls' spread along the direction a foot that carries less moves all three (from the "
                f"controls' covariance), on the impulse's side: beyond where one new healthy person lies but for 1%, "
                f"± {z} SD or a little more") in methods
        # with a real set the foot rules are judged against the controls' healthy differences, not a fixed cut-off
        # and not the "extreme fifth" of a simulated set
        assert "extreme fifth" not in methods
        assert "the real controls of the layout (real-controls-gaitpdb8)" in methods
    # the two walks the reviewer compared: the impulse index alone does not tell them apart, the combined test
    # does (+1.21 against +3.045 SD); neither is a finding since its limit counts the controls' covariance as
    # estimated (GaCo06_02, a control's second walk, was flagged load_asymmetry against the normal 2.58 and
    # against t(34) = 2.73 alone; its own limit is 3.052)
    assert _row(gapt09, "impulse_si_pct").session == pytest.approx(14.22, abs=0.01)
    assert _row(gaco06_02, "impulse_si_pct").session == pytest.approx(12.23, abs=0.01)
    assert [f.code for f in gapt09.findings] == []
    assert [f.code for f in gaco06_02.findings] == []
    # beside the key number: the combined test's value for this walk, and which side of the limit it lies
    assert "lie +1.21 SD from the controls'" in _row(gapt09, "impulse_si_pct").note  # +1.20 with JuCo26_01
    assert "(within the ±2.91 SD it needs)" in _row(gapt09, "impulse_si_pct").note
    # +3.13 with JuCo26_01 (the bytes of JuPt01_01, left out); +3.01 with GaCo06_01; +3.14 before 7830cc5's events
    assert "lie +3.045 SD from the controls'" in _row(gaco06_02, "impulse_si_pct").note  # 3 digits: +3.05 and 3.05
    assert "(within the ±3.052 SD it needs)" in _row(gaco06_02, "impulse_si_pct").note
    # no key number quotes the 10 % convention as the flag any more
    for report in (gapt09, gaco06_02):
        for row in report.key_numbers:
            assert "commonly flagged" not in row.reference, row.key
    assert "needs |SI| > 10%" in _row(gapt09, "impulse_si_pct").reference
    # a walk the combined test does flag (a Parkinson's patient's): its statement says what it rests on
    (finding,) = _report(shared_data, "GaPt15_01").findings
    assert (finding.code, finding.side) == ("load_asymmetry", "left")
    assert "commonly flagged" not in finding.statement
    assert "beyond its repeatability (MDC95); with the peak force and first peak, beyond the real controls' " \
           "healthy asymmetry" in finding.statement


def test_cadence_is_judged_against_the_persons_age_and_sex_band_not_a_parkinsons_study(gapt09, shared_data):
    gaco06_01 = _report(shared_data, "GaCo06_01")
    # GaCo06 is one of the band's 11 men: judged against the other 10 (the band rebuilt without him)
    for report, age, value, band, n in ((gaco06_01, 82, 102.66, (83.7, 134.6), 10),
                                        (gapt09, 69, 121.73, (84.5, 132.7), 11)):
        row = _row(report, "cadence_steps_per_min")
        assert row.session == pytest.approx(value, abs=0.01)
        assert "113.8" not in row.reference and 76 not in row.references
        assert row.reference.startswith(f"men aged 65 and over: {band[0]:.1f}–{band[1]:.1f} steps/min (95% prediction "
                                        f"interval of {n} real controls aged 65–86")
        assert f"[real controls, age {age} and male from the file]" in row.reference
        # judged against that band: inside it, so unmarked (the Parkinson's controls' band put both > 2 SD off)
        assert row.real_range == pytest.approx(band, abs=0.05)
        assert row.outside == ()
    assert "this person (GaCo06), one of the controls, left out" in _row(gaco06_01, "cadence_steps_per_min").reference
    assert "[76]" not in render_html(gaco06_01).split('id="references"')[0].split('id="key-numbers"')[-1]


def test_a_walk_of_the_reference_set_says_the_range_includes_it(gaco06_02, shared_data):
    gaco06_01 = _report(shared_data, "GaCo06_01")
    status = gaco06_01.to_dict()["reference_status"]
    assert status["includes_this"] == ("This walk (GaCo06_01.txt, gaitpdb-cohort) is one of the 37 controls of this "
                                       "reference: it is judged against the 36 other controls (its own values are "
                                       "left out of every range and limit).")
    assert status["statement"].endswith(status["includes_this"])
    assert status["includes_this"] in render_html(gaco06_01)
    # the person's other walk: the set holds their first walk
    other = gaco06_02.to_dict()["reference_status"]["includes_this"]
    assert other == ("This person (GaCo06) is one of the 37 controls of this reference (with another walk, "
                     "GaCo06_01.txt, gaitpdb-cohort): this walk is judged against the 36 other controls (that walk "
                     "is left out of every range and limit).")
    # a Parkinson's walk is in no control set
    assert _report(shared_data, "GaPt09_01").to_dict()["reference_status"]["includes_this"] is None


def test_a_baseline_pair_of_the_repeatability_set_says_its_mdc_includes_it(shared_data):
    report = _report(shared_data, "GaCo06_02", baseline="GaCo06_01")
    said = report.to_dict()["baseline"]["repeatability_includes_this_pair"]
    assert said == ("These two walks (GaCo06_01.txt, GaCo06_02.txt) are one of the 20 same-day pairs the MDC95 "
                    "was measured on: the MDC95 they are judged by is that of the 19 other pairs (this pair left "
                    "out).")
    assert said in render_html(report)


def test_what_the_page_said_several_times_is_said_once(shared_data: Path, gapt09):
    from insole.report._build import UNCALIBRATED_NOTE

    # the reference set's description: beside the key numbers only (it was there and twice in the methods)
    page = render_html(gapt09)
    description = gapt09.result.reference_sets[0].description
    assert page.count(description[:120]) == 1
    # a body-weight check that failed: once per key-number row, not in each foot's cell (F1, loading rate)
    assert page.count("ot judged: the body-weight check failed (see data quality)") == 2
    # park10 (gaitndd-cohort, one foot switch per foot, au): the layout's and the units' notes are said once, in the
    # data quality ("Both feet"); the one finding, irregular stride timing, reads event times only, so neither is
    # one of its limits (S9 review, ``note_affects``)
    park = build_report(load(shared_data / "gaitndd-cohort" / "park10.hea"))
    page = render_html(park)
    assert [f.code for f in park.findings] == ["irregular_gait"]
    assert page.count("COP needs at least 3 sensors (1 used)") == 1  # was 4, then 2
    assert page.count("uncalibrated insoles (au): one body weight") == 1  # was 3, with the au note's 4th wording
    assert UNCALIBRATED_NOTE not in page  # the units statement above the key numbers says it
    assert "forces are in arbitrary units: force metrics are scaled" not in page
    assert UNCALIBRATED_NOTE in park.to_dict()["quality"][0]["notes"]  # the JSON keeps each foot's notes
    # Moticon 230927_102231 (5 usable steps a foot): one "not assessed" row for the nine rules sharing the reason
    moticon = build_report(load(shared_data / "moticon-opengo" / "230927_102231.txt")).to_dict()
    grouped = moticon["not_assessed_grouped"]
    assert grouped[0] == {"codes": ["pronated_loading", "supinated_loading", "low_arch_loading", "high_arch_loading",
                                    "heel_avoidance", "reduced_hallux_loading", "lesser_toe_offloading", "high_impact",
                                    "flattened_force_curve"],
                          "side": "both", "reason": "only 5 usable steps on each foot (at least 10 needed)"}
    assert len(grouped) == 4 and len(moticon["not_assessed"]) == 21
    # F-Scan: the 484 flat cells named once on the foot's quality line (the verdict's and the analysis' note)
    fscan = build_report(load(shared_data / "vendor-exports" / "fscan_testL.asf"))
    (left,) = [q for q in fscan.to_dict()["quality"] if q.get("present")]
    line = "; ".join(left["notes"]) + "; " + fscan.session.feet["left"].quality
    reason = [r for r in fscan.session.feet["left"].quality_notes if "flat" in r]
    assert len(reason) == 1 and reason[0].startswith("484 sensor(s) flat (never changing: dead or never loaded) left")
    assert line.count("484") == 1


def test_spm_clusters_are_reported_truthfully():
    """GaPt13's baseline comparison printed "baseline higher at 4–4% of stance (p = 0.050)": a cluster one grid
    point wide, at a p that rounds to the threshold α = 0.05 itself."""
    from insole.report._spm import CurveCluster, StanceCurveComparison

    comparison = StanceCurveComparison(
        labels=("this session", "baseline"), n_first=125, n_second=118, alpha=0.05, threshold_t=3.1,
        clusters=(CurveCluster(4.0, 4.0, 0.0496, "baseline"), CurveCluster(38.0, 54.9, 0.0004, "baseline"),
                  CurveCluster(77.2, 82.1, 0.0243, "baseline")), unit="N")
    text = comparison.sentence()
    assert "baseline higher at 4% of stance only (a cluster one grid point wide) (p = 0.0496)" in text
    assert "baseline higher at 38–54.9% of stance (p < 0.001)" in text
    assert "baseline higher at 77.2–82.1% of stance (p = 0.024)" in text
    assert "4–4%" not in text and "p = 0.050" not in text


def test_smaller_items_of_the_review(shared_data: Path):
    from insole.report._build import VARIABILITY_NOTES, KeyNumber, _enough_digits, _why_no_finding

    # a change at the measure's resolution: stance time "0.72 -> 0.72, change -0.00" now reads in ms-level digits
    report = _report(shared_data, "GaCo06_01", baseline="GaCo06_02")
    stance = next(c for c in report.changes if c["key"] == "stance_s" and c["side"] == "left")
    assert stance["digits"] == 3 and abs(stance["change"]) < 0.005  # the change that printed as -0.00
    page = render_html(report)
    assert f"<td class=\"num\">{stance['before']:.3f}</td><td class=\"num\">{stance['after']:.3f}</td>" in page
    assert f"{stance['change']:+.3f}" in page
    # the plain CV is the mean of the feet's CVs (insole.analysis: mean of the per-foot CVs), not a pooled CV
    assert "averaged over the two feet: for each foot, the SD of its" in VARIABILITY_NOTES["stride_cv_pct"]
    assert "SD of all used stride times" not in VARIABILITY_NOTES["stride_cv_pct"]
    # a value marked below 28–127 ms printed as "28": enough digits to show it lies below
    row = KeyNumber("stride_sd_ms", "Stride-time SD", "ms", session=27.6, digits=0, outside=("session",),
                    real_range=(28.4, 127.2))
    assert _enough_digits(row).digits == 1
    assert _enough_digits(dataclasses.replace(row, session=20.0)).digits == 0  # "20" already reads below "28"
    # a variability below the controls' range is not "irregular timing not reached"
    low = dataclasses.replace(row, key="stride_variability_pct", session=0.5, real_range=(0.96, 3.04))
    why = _why_no_finding(low, {}, set(), None)
    assert why.startswith("no finding rule judges timing steadier than typical") and "not reached" not in why
    high = dataclasses.replace(low, session=3.2)
    assert _why_no_finding(high, {}, set(), None).endswith("was not reached")

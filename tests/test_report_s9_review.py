"""What a new user found in the report (S9 review): references, shared limits, flagged-sensor lines, SPM p, CV steps.

* The reference list is exactly what the page cites (every report listed Menz 2013 [13], which only the methods
  of a simulated reference set cite).
* A note about the session (COP needs 3 sensors, uncalibrated insoles) is a limit only of findings whose measures it
  affects (hunt16: both were limits of irregular stride timing, which reads event times only).
* A flagged sensor's line stands under drawn figures only, and a foot switch with 11 spike samples in 90,000 is not
  "missing or wrong", nor does the page promise a mark no value carries.
* An SPM stretch that only just crosses the threshold has p = alpha by construction (spm1d's cluster p at extent 0):
  it reads "p ≈ 0.05, only just across the threshold", not "p = 0.050000".
* The per-foot robust stride-time CV moves in steps at 100 Hz (GaPt13_01: 3.026 % is 4 steps of 0.757): said beside it.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from markupsafe import escape

from insole import load
from insole.report import build_report
from insole.report._html import render_html

REF_SECTION = '<section id="references">'


def _cited_on_page(page: str) -> set[int]:
    """Every evidence-base number the page cites before its reference list: its links and its bracketed numbers."""
    body = re.sub(r"<script.*?</script>", "", page.split(REF_SECTION)[0], flags=re.S)
    cited = {int(n) for n in re.findall(r'href="#ref-(\d+)"', body)}
    for group in re.findall(r"\[(\d+(?:\s*[,\u2013-]\s*\d+)*)\]", re.sub(r"<[^>]+>", " ", body)):
        for element in group.split(","):  # "[13, 16–17]": 13, 16 and 17
            first, _, last = element.strip().replace("\u2013", "-").partition("-")
            cited.update(range(int(first), int(last or first) + 1))
    return cited


def _listed_on_page(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'<li id="ref-(\d+)"', page.split(REF_SECTION)[1])}


@pytest.fixture(scope="module")
def hunt16(shared_data: Path):
    """gaitndd-cohort hunt16 (Huntington's; one foot switch per foot, au): irregular stride timing, and the right
    foot's switch flagged for isolated spike samples."""
    path = shared_data / "gaitndd-cohort" / "hunt16.hea"
    report = build_report(load(path), path=path, generated_at="2026-01-01T00:00:00Z")
    return report, report.to_dict(), render_html(report)


@pytest.fixture(scope="module")
def gaco14(shared_data: Path):
    """gaitpdb-cohort GaCo14_01: a healthy control with no finding."""
    path = shared_data / "gaitpdb-cohort" / "GaCo14_01.txt"
    report = build_report(load(path), path=path, generated_at="2026-01-01T00:00:00Z")
    return report, report.to_dict(), render_html(report)


# ---------------------------------------------------------------- 1. the reference list is what the text cites


@pytest.mark.parametrize("name", ["hunt16", "gaco14"])
def test_the_reference_list_is_exactly_what_the_page_cites(name: str, request) -> None:
    _, data, page = request.getfixturevalue(name)
    cited, listed = _cited_on_page(page), _listed_on_page(page)
    assert cited and cited == listed, (sorted(cited - listed), sorted(listed - cited))
    assert [r["number"] for r in data["references"]] == sorted(listed)
    # Menz 2013 is cited only by the methods of a simulated reference set: no gaitpdb or gaitndd walk cites it
    assert 13 not in listed


def test_a_simulated_reference_cites_and_lists_its_source() -> None:
    """On our own insole layout the methods describe the simulated set with its quintile source [13]: cited, so
    listed (the list follows the text both ways)."""
    from insole.simulate import SimulationParams, simulate

    report = build_report(simulate(SimulationParams(duration_s=40.0, seed=5)), generated_at="2026-01-01T00:00:00Z")
    page = render_html(report)
    assert "[13]" in report.methods
    assert 13 in _listed_on_page(page) and _cited_on_page(page) == _listed_on_page(page)


def test_cited_numbers_reads_texts_and_number_lists() -> None:
    from insole.report._build import cited_numbers

    content = {"methods": "a [13,16] b [45–47] c [literature] d [2.5]", "key_numbers": [{"references": [75]}],
               "references": [{"number": 99}], "clinic_test": {"sources": "[98]"}}
    assert cited_numbers(content) == {13, 16, 45, 46, 47, 75}
    # a list mixing numbers and ranges is read element by element (it was read as one range: 13-17, 45-50)
    assert cited_numbers({"methods": "[13, 16-17] and [45–47, 50]"}) == {13, 16, 17, 45, 46, 47, 50}
    # file names cite nothing, at any depth
    assert cited_numbers({"input": "walk[3].txt", "baseline": {"input": "before[2].txt"}, "x": "[4]"}) == {4}


def test_a_cited_number_the_evidence_base_lacks_is_an_error() -> None:
    from insole.report._build import cited_references
    from insole.report._evidence import REFERENCES

    missing = max(REFERENCES) + 1
    with pytest.raises(ValueError, match=f"cites \\[{missing}\\]"):
        cited_references({"methods": f"a claim [{missing}]"})
    assert [r["number"] for r in cited_references({"methods": "[13]"})] == [13]


def test_the_report_object_still_gives_its_reference_list(hunt16) -> None:
    report, data, _ = hunt16
    assert report.references == data["references"] and report.references


# ---------------------------------------------------------------- 2. caveats where they apply


def test_session_notes_are_limits_only_of_findings_they_affect(hunt16) -> None:
    report, data, page = hunt16
    assert [f["code"] for f in data["findings"]] == ["irregular_gait"]
    feet = report.session.feet
    cop = next(n for n in feet["left"].quality_notes if n.startswith("COP needs"))
    au = next(n for n in feet["left"].quality_notes if n.startswith("uncalibrated insoles"))
    assert cop in feet["right"].quality_notes and au in feet["right"].quality_notes
    # before: both were "limits 1, 2" of irregular stride timing, which reads event times only
    assert data["limits"] == [] and data["findings"][0]["limits"] == []
    shown = " ".join(data["findings"][0]["confidence_reasons_shown"])
    assert "COP needs" not in shown and "uncalibrated insoles" not in shown
    assert "What limits these findings" not in page
    # still said once, under the data quality, for both feet
    assert cop in data["quality_notes_both_feet"] and au in data["quality_notes_both_feet"]


def test_which_note_affects_which_finding() -> None:
    from insole.report._build import note_affects

    def finding(code: str, metric: str) -> SimpleNamespace:
        return SimpleNamespace(code=code, measured=SimpleNamespace(metric=metric))

    cop, au = "COP needs at least 3 sensors (1 used)", "uncalibrated insoles (au): one body weight ..."
    weight = "body weight check: the insoles' mean walking load is 1.31 x body mass x g ..."
    irregular = finding("irregular_gait", "timing_variability_pct")
    assert not any(note_affects(n, irregular) for n in (cop, au, weight))
    assert note_affects(cop, finding("pronated_loading", "cop_ml_pct"))
    assert not note_affects(cop, finding("heel_avoidance", "share_heel"))
    assert note_affects(au, finding("load_asymmetry", "impulse"))
    assert note_affects(au, finding("antalgic_gait", "stance_s"))  # its peak-force index
    assert note_affects(weight, finding("high_impact", "loading_rate_bw_s"))
    # shares are ratios within one foot: a gain error moves none
    assert not note_affects(weight, finding("heel_avoidance", "share_heel"))
    # what fails the body-weight check may be one insole's calibration, which moves the indices between the feet
    assert note_affects(weight, finding("load_asymmetry", "impulse"))
    assert note_affects(weight, finding("antalgic_gait", "stance_s"))  # its peak-force index
    # a note or a finding the table does not know: taken to apply
    assert note_affects("sensor positions of layout x are approximate", irregular)
    assert note_affects(cop, finding("some_new_rule", "x"))


def test_the_flagged_sensor_line_stands_under_drawn_figures_only(hunt16) -> None:
    _, data, page = hunt16
    line = f'<p class="warn sensor-caveats">{escape(data["sensor_caveats"]["figure_line"])}</p>'
    sections = {}
    for name in ("left-right", "force-curves", "cop", "load-maps"):
        found = re.search(rf'<section id="{name}".*?</section>', page, re.S)
        assert found is not None, name
        sections[name] = found.group(0)
    # one sensor per foot: no regional shares, no COP, no map; the force curves are drawn
    for section in ("left-right", "cop", "load-maps"):
        assert "not shown for this recording" in sections[section] or "Not available" in sections[section]
        assert line not in sections[section], section
    curves = sections["force-curves"]
    assert curves.count(line) == 1 and curves.index('id="fig-force-curves"') < curves.index(line)
    # under the curves, not under the SPM comparison's "not shown" line that follows them
    assert curves.index(line) < curves.index("Where in stance the feet differ")


def test_isolated_spike_samples_are_not_called_missing_or_wrong(hunt16) -> None:
    report, data, page = hunt16
    flags = report.session.analysis.quality["right"]["sensor_flags"]
    assert [f["status"] for f in flags] == ["spikes"] and "left" not in data["sensor_caveats"]["flagged"]
    spikes, samples = flags[0]["excluded_samples"], report.session.analysis.quality["right"]["n_samples"]
    assert 0 < spikes < samples / 1000  # 11 of 90,000 on the review's run
    caveats = data["sensor_caveats"]
    assert caveats["summary"] == (
        f"Sensors flagged in the data-quality checks: right foot force (spiking: {spikes:,} of its {samples:,} "
        f"samples left out; no region). Those samples were isolated one- or two-sample spikes, marked invalid and not "
        f"filled: at them only, the foot's load lacks that sensor's reading; the rest is as recorded.")
    assert "missing or wrong" not in caveats["figure_line"]
    assert f"{spikes:,} of its {samples:,}" in caveats["figure_line"]
    # no value shown carries a mark, and the page no longer promises one
    assert not [row["key"] for row in data["key_numbers"] if row["sensor_caveat"]]
    assert "\u26a0" not in caveats["summary"] and "each affected value is marked" not in page


# ---------------------------------------------------------------- 4. SPM p at the threshold


def test_a_cluster_p_that_reads_as_alpha_is_said_to_be_at_the_threshold() -> None:
    from insole.report._spm import _p_text

    # GaPt13_01 against GaPt13_02 (right foot) and its left/right comparison, as spm1d returned them
    assert _p_text(0.04999999334712557, 0.05) == "p ≈ 0.05, only just across the threshold"
    assert _p_text(0.049974055071389856, 0.05) == "p ≈ 0.05, only just across the threshold"
    assert _p_text(0.04999999334712557, 0.05, short=True) == "p ≈ 0.05, at the threshold"
    assert _p_text(0.0496, 0.05) == "p = 0.0496"  # below alpha at 3 significant digits: the value
    assert _p_text(0.02427, 0.05) == "p = 0.024"
    assert _p_text(0.0004, 0.05) == "p < 0.001"


def test_spm1d_gives_a_stretch_of_no_width_at_the_threshold_p_alpha() -> None:
    """spm1d's cluster p is the chance of a stretch at least this wide above the threshold (random field theory);
    at a width of 0 it is the chance of crossing the threshold at all, alpha: not a capped or rounded value."""
    spm1d = pytest.importorskip("spm1d")
    rng = np.random.default_rng(0)
    noise = np.cumsum(rng.normal(size=(2, 30, 101)), axis=2)  # smooth-ish curves, two groups of 30
    t = spm1d.stats.ttest2(noise[0], noise[1])
    inference = t.inference(alpha=0.05, two_tailed=True, interp=True)
    p0 = 2 * spm1d.rft1d.t.p_cluster_resels(0.0, inference.zstar, t.df[1], t.resels)
    assert p0 == pytest.approx(0.05, abs=1e-6)
    assert 2 * spm1d.rft1d.t.p_cluster_resels(0.5, inference.zstar, t.df[1], t.resels) < 0.05


def test_gapt13_baseline_comparison_prints_no_p_of_six_digits(shared_data: Path) -> None:
    pytest.importorskip("spm1d")
    folder = shared_data / "gaitpdb-cohort"
    report = build_report(load(folder / "GaPt13_01.txt"), path=folder / "GaPt13_01.txt",
                          baseline=load(folder / "GaPt13_02.txt"), baseline_path=folder / "GaPt13_02.txt",
                          generated_at="2026-01-01T00:00:00Z")
    assert report.stance_spm is not None
    comparisons = [report.stance_spm, *report.baseline_spm.values()]
    at_alpha = [c for comparison in comparisons for c in comparison.clusters if f"{c.p:.3g}" == "0.05"]
    assert at_alpha  # the review's two stretches (right foot vs baseline at 4 %, left vs right at 0-0.2 %)
    assert all(c.end_pct - c.start_pct < 0.5 for c in at_alpha)  # each only just wide enough to count
    for comparison in comparisons:
        text = comparison.sentence()
        assert not re.search(r"p = 0\.0\d{4,}", text), text
        assert text.count("only just across the threshold") == sum(f"{c.p:.3g}" == "0.05"
                                                                    for c in comparison.clusters)


# ---------------------------------------------------------------- 5. the robust CV's step


def test_the_robust_cv_states_its_step_at_this_sample_rate(shared_data: Path) -> None:
    path = shared_data / "gaitpdb-cohort" / "GaPt13_01.txt"
    report = build_report(load(path), path=path, generated_at="2026-01-01T00:00:00Z")
    row = next(k for k in report.key_numbers if k.key == "stride_robust_cv_pct")
    assert report.session.sample_rate_hz == 100.0 and row.not_judged == ""  # 100 Hz passes the sample-rate guard
    pooled = np.concatenate([report.session.feet[s].stride_times_s for s in ("left", "right")])
    step = 1.4826 * 100.0 * (0.01 / 2) / float(np.median(pooled))
    assert f"steps of about {step:.2f} percentage points" in row.resolution
    # the claim: each foot's figure is a whole number of steps of its own median stride (3.026 % = 4 x 0.757)
    for side, value in (("left", row.left), ("right", row.right)):
        assert value is not None
        own = 1.4826 * 100.0 * 0.005 / float(np.median(report.session.feet[side].stride_times_s))
        assert value / own == pytest.approx(round(value / own), abs=1e-6), side
    assert f'<span class="muted key-resolution">{escape(row.resolution)}</span>' in render_html(report)


def test_the_robust_cv_at_a_coarse_rate_is_not_judged() -> None:
    """The same guard as the stride-to-stride figures (``variability_too_coarse``) applies to the per-foot row."""
    from insole.simulate import SimulationParams, simulate

    # at 20 Hz one sample interval adds ~2.3 % to the stride-to-stride figures, above the 0.9 % they are judged up to
    report = build_report(simulate(SimulationParams(duration_s=60.0, sample_rate_hz=20.0, seed=3)),
                          generated_at="2026-01-01T00:00:00Z")
    rows = {k.key: k for k in report.key_numbers}
    row = rows["stride_robust_cv_pct"]
    assert row.not_judged.startswith("not judged: at 20 Hz one sample interval alone adds about")
    assert row.not_judged == rows["stride_variability_pct"].not_judged


# ---------------------------------------------------------------- 3. one measure, one reference, one statement


def test_the_timing_variability_range_is_stated_alike_in_the_key_numbers_and_the_finding(hunt16) -> None:
    """hunt16: the key numbers judge timing variability against 0.79-3.16 % (95 % prediction interval of the 9
    footswitch1 controls: under 20 people the min-max leaves out a healthy person 1 time in 5), while the finding's
    box said "range 1.04-2.63 %" (their min-max) of the same 9. The finding flags at 2 x the median (4.02 %), not at
    either range; the range beside it is context and must be the one the key numbers state."""
    report, data, _ = hunt16
    row = next(k for k in report.key_numbers if k.key == "timing_variability_pct")
    finding = next(f for f in report.findings if f.code == "irregular_gait")
    assert row.real_range is not None
    low, high = row.real_range
    assert (finding.reference.range_low, finding.reference.range_high) == pytest.approx((low, high), abs=1e-9)
    assert f"{low:.2f}–{high:.2f}%" in finding.reference.description

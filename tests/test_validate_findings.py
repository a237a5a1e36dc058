"""docs/scripts/validate_findings.py: the hallux known-answer section and the leave-one-pair-out MDC95.

The script behind `make validate` is imported by name from its folder, as tests/test_report_validation.py does.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "scripts"))
from validate_findings import (  # noqa: E402
    HALLUX_CODE,
    KNOWN_ANSWERS,
    _hallux_shares,
    _load_case,
    cutoff_statistics,
    cutoff_tradeoff,
    hallux_known_answer,
    hallux_markdown,
    loso_frame,
    mdc_pairs,
    moved_load,
    region_sensors,
    screen_hallux_walk,
    session_metrics,
    step_welch_t,
    stored_sets_match,
)


def _screen(shared_data: Path, dataset: str, name: str) -> dict:
    return screen_hallux_walk(dataset, shared_data / dataset / name, shared_data)


def test_hallux_walks_are_screened_with_a_reason_each(shared_data):
    """Only files with a hallux sensor, both feet and used steps on each are walks for the hallux changes; every
    other file is named with its reason (the doc lists them)."""
    usable = {("moticon-opengo", "230927_102114.txt"), ("moticon-opengo", "230927_102231.txt"),
              ("moticon-opengo", "walk_data_with_events/text_export.txt"), ("vendor-exports", "pedar_example.asc")}
    for dataset, name in usable:
        walk = _screen(shared_data, dataset, name)
        assert walk["usable"] and walk["reasons"] == [], (name, walk["reasons"])
        assert set(walk["sides"]) == {"left", "right"}
    fscan = _screen(shared_data, "vendor-exports", "fscan_testL.asf")
    assert not fscan["usable"] and fscan["reasons"] == ["one foot only (left)"]
    stappone = _screen(shared_data, "vendor-exports", "stappone_example.csv")
    assert stappone["reasons"] == ["layout stappone12 has no hallux sensor", "one foot only (left)"]
    xsensor = _screen(shared_data, "vendor-exports", "xsensor_data.csv")
    assert not xsensor["usable"] and len(xsensor["reasons"]) == 1 and "not a walk" in xsensor["reasons"][0]

    text = hallux_markdown([fscan, stappone, xsensor], [])
    assert "Usable: 0 walks of 3 files, fewer than the 5 walks" in text
    assert "one foot only (left)" in text and "not a walk" in text


def test_hallux_offload_lowers_each_steps_hallux_share_by_exactly_the_fraction(shared_data):
    """Load moved from the hallux to the metatarsal heads keeps the foot's total, so every step's hallux share
    falls by the fraction moved and the other foot is untouched."""
    import insole

    recording = insole.load(shared_data / "moticon-opengo" / "230927_102114.txt")
    layout = recording.layout
    hallux, heads = region_sensors(layout, ("hallux",)), region_sensors(layout, ("forefoot",))
    assert hallux == [13]  # sensor 14, the most distal medial one (docs/report.md, region masks)
    assert heads == [8, 9, 10, 11, 12]  # sensors 9-13, the first, central and lateral metatarsals
    before = _hallux_shares(session_metrics(recording))
    after = _hallux_shares(session_metrics(moved_load(recording, "left", hallux, heads, 0.5)))
    # float32 storage of the changed samples: shares agree to about 1e-6 of their size
    np.testing.assert_allclose(after["left"], 0.5 * before["left"], rtol=1e-4)
    np.testing.assert_array_equal(after["right"], before["right"])


def test_hallux_changes_are_judged_as_the_report_judges_them(shared_data):
    """On a walk of 8 steps a foot the report assesses no hallux rule (it needs 10); with the step minimum
    lowered, the rule fires exactly where its two conditions hold (SI <= -45 %, Welch t <= -3), on the other-foot
    comparison alone and at low confidence (no reference set, no measured repeatability for pedar99)."""
    walk = _screen(shared_data, "vendor-exports", "pedar_example.asc")
    result = hallux_known_answer(walk, fractions=(0.25, 0.75))
    assert result["lowered_min_steps"] == 8
    assert not result["reference"] and not result["repeatability"]
    assert result["unchanged"]["report"] == []
    assert "only 8 usable steps" in result["unchanged_hallux"]
    assert len(result["runs"]) == 4
    for run in result["runs"]:
        assert run["report"]["status"] == "not assessed"
        assert "only 8 usable steps" in run["report"]["reason"]
        lowered = run["lowered"]
        expected = run["si_pct"] <= -45.0 and run["t"] <= -3.0
        assert (lowered["status"] == "found") == expected, run
        if expected:
            assert lowered["frames"] == ("other_foot",) and lowered["all_frames"] == ("other_foot",)
            assert lowered["confidence"] == "low"
            assert lowered["si_pct"] == pytest.approx(run["si_pct"], abs=1e-6)
    assert HALLUX_CODE == "reduced_hallux_loading"


def test_a_control_walk_is_judged_as_the_report_judges_its_file(shared_data):
    """The validation gives ``evaluate`` the walk's identity and the stored sets, so the engine's one rule
    (``judging_frame``) leaves the person out of the controls and their same-day pair out of the MDC95: the very
    frame and findings ``insole report`` has for the file (GaCo06_02, a control's second walk, one of the pairs;
    GaPt15_01, a patient of the pairs with a load asymmetry)."""
    from insole import load
    from insole.report import build_report, evaluate
    from insole.report._reference import load_repeatability

    path = shared_data / "gaitpdb-cohort" / "GaCo06_02.txt"
    case = _load_case("gaitpdb-cohort", path)
    result = evaluate(case.session, **loso_frame(case))
    frame = result.frame
    assert frame.reference_member == "GaCo06" and frame.repeatability_member == "GaCo06"
    (real,) = [ref for ref in frame.reference_sets if ref.name == "real-controls-gaitpdb8"]
    assert real.n_recordings == 36 and not real.holds_subject("GaCo06")
    assert frame.repeatability.n_pairs == 19 and not frame.repeatability.holds_subject("GaCo06")
    # the MDC95 without the pair: 1.96 x SD of the other 19 pairs' stored differences
    stored = load_repeatability("gaitpdb8")
    others = [d["session"]["impulse_si_pct"] for (subject, _, _), d in zip(stored.pairs, stored.differences)
              if subject != "GaCo06"]
    assert frame.repeatability.session_mdc("impulse_si_pct") == pytest.approx(1.96 * np.std(others, ddof=1),
                                                                              abs=1e-6)  # stored to 6 decimals
    # GaCo06_02's +3.045 SD lies within its whole-foot limit (3.052): no finding here or in the report
    report = build_report(load(path), path=path)
    assert [(f.code, f.side, f.confidence) for f in result.findings] == \
        [(f.code, f.side, f.confidence) for f in report.findings] == []
    patient = shared_data / "gaitpdb-cohort" / "GaPt15_01.txt"
    case = _load_case("gaitpdb-cohort", patient)
    result = evaluate(case.session, **loso_frame(case))
    assert result.frame.repeatability_member == "GaPt15" and result.frame.reference_member is None
    report = build_report(load(patient), path=patient)
    assert [(f.code, f.side, f.confidence) for f in result.findings] == \
        [(f.code, f.side, f.confidence) for f in report.findings] == [("load_asymmetry", "left", "low")]


def test_the_stored_mdc_recomputed_from_analysed_pairs(shared_data):
    """The freshness check of the baseline section: the stored file's pairs, found among the analysed cases and
    recomputed by the function `make references` uses, give the stored MDC95 of these pairs' subjects."""
    from insole.report._reference import repeatability_from_pairs, session_metric_values

    subjects = ("GaCo02", "GaCo04", "GaPt07")
    cases = [_load_case("gaitpdb-cohort", shared_data / "gaitpdb-cohort" / f"{s}_0{k}.txt")
             for s in subjects for k in (1, 2)]
    triples = mdc_pairs(cases)  # only the stored file's pairs that these cases hold
    assert [(t[0]["first"], t[0]["second"]) for t in triples] == [(f"{s}_01.txt", f"{s}_02.txt") for s in subjects]
    document = repeatability_from_pairs("gaitpdb8", triples)
    differences = [session_metric_values(second)["impulse_si_pct"] - session_metric_values(first)["impulse_si_pct"]
                   for _, first, second in triples]
    assert document["session"]["impulse_si_pct"]["mdc95"] == pytest.approx(1.96 * np.std(differences, ddof=1),
                                                                           abs=1e-6)


def test_stored_sets_match_tells_a_stale_set(shared_data):
    """The real-cohort section says whether the stored sets are what the current analysis makes of the staged
    walks: 0 for footswitch1's nine controls as analysed, more when one walk's analysis differs."""
    from dataclasses import replace

    folders = {"gaitndd": shared_data / "gaitndd", "gaitndd-cohort": shared_data / "gaitndd-cohort"}
    cases = [_load_case(dataset, path) for dataset, folder in folders.items()
             for path in sorted(folder.glob("control*.hea"))]
    assert len(cases) == 9
    assert stored_sets_match(cases) == {"footswitch1": 0.0}
    swapped = [replace(cases[0], session=cases[1].session), *cases[1:]]
    assert stored_sets_match(swapped)["footswitch1"] > 0.0


def test_the_validation_quotes_the_rules_own_t():
    from insole.report._findings import step_welch_t as engine

    assert step_welch_t is engine


def _answer(code: str):
    return next(a for a in KNOWN_ANSWERS if a.code == code)


def test_a_single_cut_off_trades_controls_flagged_against_changes_found():
    # controls 0..9, changed walks 5..14 (larger: further in the rule's direction). Flagging at most 10 % of ten
    # controls allows one: a cut-off just above 8 flags only 9 and finds 9..14, six changes. Finding 90 % of ten
    # changes needs nine: the highest such cut-off is 6, which flags the controls 6, 7, 8 and 9.
    result = cutoff_tradeoff([[v] for v in range(10)], [[v] for v in range(5, 15)])
    assert result["allowed"] == 1 and result["needed"] == 9
    assert result["found_within_budget"] == 6
    assert result["flagged_at_target"] == 4


def test_two_statistics_either_of_which_flags_are_searched_together():
    # half the changes show on the first statistic, half on the second, where no control reaches: either one alone
    # finds five of ten, the two together all ten without flagging a control
    controls = [[v, 0.0] for v in range(10)]
    changed = [[20.0, 0.0]] * 5 + [[0.0, 20.0]] * 5
    together = cutoff_tradeoff(controls, changed)
    assert together["found_within_budget"] == 10 and together["flagged_at_target"] == 0
    alone = cutoff_tradeoff([[c[0]] for c in controls], [[c[0]] for c in changed])
    assert alone["found_within_budget"] == 5 and alone["flagged_at_target"] == 10


def test_cut_off_statistics_are_the_rules_own_in_the_rules_direction():
    # shares: the difference between the feet (points) and its symmetry index; the controls' feet have median 12.5,
    # and a foot counts only above it for a low arch (the rule's level condition): the first control by its left
    # foot (20 vs 10: 10 points, +66.7 %), the second by its right (15 vs 10: 5 points, +40 %)
    name, healthy, moved = cutoff_statistics(_answer("low_arch_loading"), [(20.0, 10.0), (10.0, 15.0)], [(30.0, 10.0)])
    assert "symmetry index" in name
    assert healthy == [[10.0, pytest.approx(200 / 3)], [5.0, 40.0]]
    assert moved == [[20.0, 100.0]]
    # a high arch counts a foot below the median only (here 15): a changed foot at 30 is no high arch, one at 10
    # beside 20 is, by 10 points and 66.7 %
    _, _, moved = cutoff_statistics(_answer("high_arch_loading"), [(20.0, 10.0)], [(30.0, 10.0), (10.0, 20.0)])
    assert moved == [[-math.inf, -math.inf], [10.0, pytest.approx(200 / 3)]]
    # the COP offset: departure from what the partner predicts, in residual SDs, as the rule judges it. Controls
    # (0, 1), (1, 0), (2, 3), (3, 2): feet median 1.5, slope 0.6, residual SD sqrt(6.4 / 7); a foot at 5 beside a
    # partner at 2 is expected at 1.8, so it departs by 3.2 / sqrt(6.4 / 7) residual SDs medially. Tolerance:
    # floating-point rounding only
    pairs = [(0.0, 1.0), (1.0, 0.0), (2.0, 3.0), (3.0, 2.0)]
    sd = math.sqrt(6.4 / 7)
    _, healthy, moved = cutoff_statistics(_answer("pronated_loading"), pairs, [(5.0, 2.0), (1.0, 2.0)])
    assert moved[0][0] == pytest.approx(3.2 / sd, rel=1e-12)
    assert moved[1] == [-math.inf]  # lateral of the controls' median: no pronation, however far from the line
    # the first two controls have no foot medial of the median; the others count by their further foot, 1.2 SD out
    assert healthy[:2] == [[-math.inf], [-math.inf]] and healthy[2][0] == pytest.approx(1.2 / sd, rel=1e-12)
    _, _, moved = cutoff_statistics(_answer("supinated_loading"), pairs, [(5.0, 2.0), (0.0, 2.0)])
    assert moved[0] == [-math.inf] and moved[1][0] == pytest.approx(1.8 / sd, rel=1e-12)
    # the whole-foot change: the changed foot's statistic (this foot vs the other, lower: negative)
    _, healthy, moved = cutoff_statistics(_answer("load_asymmetry"), [(6.0, -6.0), (-2.0, 2.0)], [(-15.0, 15.0)])
    assert healthy == [[6.0], [2.0]] and moved == [[15.0]]


def test_validate_refuses_a_missing_data_folder_rather_than_writing_a_gutted_page(tmp_path, capsys):
    from validate_findings import main

    out = tmp_path / "page.md"
    with pytest.raises(SystemExit) as stop:
        main(["--data", str(tmp_path / "nowhere"), "--out", str(out), "--seeds", "0"])
    assert stop.value.code == 2 and not out.exists()
    (line,) = capsys.readouterr().err.splitlines()
    assert "nowhere: no such folder of staged datasets" in line and "--no-real" in line


def test_a_target_no_cut_off_reaches_is_said_so():
    # four of ten changed feet lie on the wrong side of the controls' median (-inf): no cut-off finds nine of ten
    result = cutoff_tradeoff([[v] for v in range(10)], [[20.0]] * 6 + [[-math.inf]] * 4)
    assert result["flagged_at_target"] is None and result["found_within_budget"] == 6

"""What a new user found in the report in session 10 (files the tests had not used; docs/report.md).

* Marks at a range's edge: a single foot was judged against a range of two-foot means (gaitndd-cohort als10: right
  stance 0.770 s marked above 0.617–0.769 s while the person's two-foot mean, 0.7672 s, lies inside); values
  closer to a limit than the measure's resolution were marked although the row said they are not told apart
  (GaPt15_01: robust CVs 4.10 and 4.12 % above 4.01 %, steps of 0.69 points at 100 Hz); a marked value printed
  beside a range rounded to its own figure (hunt14: "3.449 ▲" beside "0.80–3.45%").
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path
from typing import Any

import pytest

from insole import load
from insole.report._build import (
    _judge,
    build_report,
    key_numbers,
    outside_without_finding,
    person_record,
    timing_step,
)
from insole.report._reference import MetricDistribution, ReferenceSet, load_reference_sets


@functools.lru_cache(maxsize=None)
def _report(path: Path) -> Any:
    return build_report(load(path), path=path)


def _row(report: Any, key: str) -> Any:
    return next(k for k in report.key_numbers if k.key == key)


def _set(values: tuple[float, ...], metric: str = "stance_s") -> ReferenceSet:
    """A real set of one value per person (the mean of both feet) for ``metric``."""
    return ReferenceSet("t", "real", "test", ("x",), foot={metric: MetricDistribution(values, people=len(values))},
                        session={})


def test_a_range_of_two_foot_means_judges_the_walks_two_foot_mean(shared_data):
    """als10: right stance 0.770 s was marked ▲ against 0.617–0.769 s (a 9-person prediction interval of two-foot
    means); the two-foot mean (0.7672 s) is inside, so nothing is marked and nothing is listed as outside."""
    report = _report(shared_data / "gaitndd-cohort" / "als10.hea")
    row = _row(report, "stance_s")
    assert row.right > row.real_range[1] > row.left  # the right foot alone lies past the upper limit
    assert row.mean_of_feet == pytest.approx((row.left + row.right) / 2, abs=1e-12)
    assert row.real_range[0] < row.mean_of_feet < row.real_range[1]
    assert row.outside == ()
    assert row.reference.endswith("each the mean of both feet) [real controls]; judged on this walk's mean of both "
                                  "feet, 0.767 s")
    assert "stance_s" not in {o["key"] for o in report.to_dict()["outside_without_finding"]}
    shown = next(k for k in report.to_dict()["key_numbers"] if k["key"] == "stance_s")
    assert shown["mean_of_feet"] == pytest.approx(row.mean_of_feet, abs=1e-4)


def test_only_the_feet_beyond_the_limit_the_mean_passes_are_marked():
    """Two-foot means 0.50–0.70 s (25 people: the min-max judges): feet 0.69 and 0.75 s (mean 0.72) mark only the
    right foot; 0.60 and 0.85 (mean 0.725) likewise; 0.65 and 0.74 (mean 0.695) mark nothing."""
    ref = _set(tuple(0.5 + 0.2 * k / 24 for k in range(25)))
    for feet, marked in (((0.69, 0.75), ("right",)), ((0.60, 0.85), ("right",)), ((0.65, 0.74), ()),
                         ((0.42, 0.44), ("left", "right"))):
        judged = _judge(ref, "stance_s", 1.0, True, {"left": feet[0], "right": feet[1]}, 0.01)
        assert judged.outside == marked, feet
        assert judged.real_range == pytest.approx((0.5, 0.7), abs=1e-12)


def test_a_value_within_the_resolution_of_a_limit_is_at_the_limit_not_outside():
    """A step of 0.01 s: a mean 0.705 s (0.005 past 0.70) is at the limit; 0.7101 s is outside."""
    ref = _set(tuple(0.5 + 0.2 * k / 24 for k in range(25)))
    at = _judge(ref, "stance_s", 1.0, True, {"left": 0.705, "right": 0.705}, 0.01)
    assert at.outside == () and at.at_limit == {"mean": (pytest.approx(0.705), pytest.approx(0.7))}
    out = _judge(ref, "stance_s", 1.0, True, {"left": 0.7101, "right": 0.7101}, 0.01)
    assert out.outside == ("left", "right") and out.at_limit == {}
    # without a resolution the old rule: past the limit (beyond the 6-decimal storage rounding) is outside
    assert _judge(ref, "stance_s", 1.0, True, {"left": 0.705, "right": 0.705}).outside == ("left", "right")


def test_without_a_resolution_nothing_is_at_the_limit():
    """A final read's finding: a value past a limit by no more than the storage rounding (1e-6) was put "at the
    limit" on rows with no resolution (shares, cadence, SIs), whose sentence then had no step to name. Inside the
    rounding it is inside the range; past it, outside; never at the limit."""
    ref = _set(tuple(0.5 + 0.2 * k / 24 for k in range(25)))
    for value in (0.7 + 5e-7, 0.7 + 2e-6):
        judged = _judge(ref, "stance_s", 1.0, True, {"left": value, "right": value})
        assert judged.at_limit == {}, value
        assert judged.outside == (() if value < 0.7 + 1e-6 else ("left", "right")), value


def test_a_walk_of_one_foot_is_judged_by_that_foot_not_by_a_mean_of_both():
    """A final read's finding: with one foot measured, its value alone was called "this walk's mean of both feet".
    That foot is judged by itself: marked past the limit, no mean of both feet said."""
    ref = _set(tuple(0.5 + 0.2 * k / 24 for k in range(25)))
    judged = _judge(ref, "stance_s", 1.0, True, {"left": 0.8, "right": None}, 0.01)
    assert judged.mean_of_feet is None and judged.outside == ("left",)
    inside = _judge(ref, "stance_s", 1.0, True, {"left": None, "right": 0.6}, 0.01)
    assert inside.mean_of_feet is None and inside.outside == () and inside.at_limit == {}


def test_robust_cvs_closer_to_the_limit_than_their_step_are_not_marked(shared_data):
    """GaPt15_01 at 100 Hz: robust CVs 4.10 and 4.12 % (mean 4.11 %) against the 38 controls' upper limit 4.01 %;
    the row says the figure moves in steps of 0.69 points, so they are at the limit, not marked nor listed."""
    report = _report(shared_data / "gaitpdb-cohort" / "GaPt15_01.txt")
    row = _row(report, "stride_robust_cv_pct")
    assert round(row.left, 2) == 4.10 and round(row.right, 2) == 4.12 and round(row.real_range[1], 2) == 4.01
    step = timing_step(report.session, "stride_robust_cv_pct")
    assert round(step, 2) == 0.69
    assert row.outside == ()
    assert ("The mean of both feet, 4.11%, lies 0.099 points above the controls' upper limit (4.01%), closer than "
            "that: at the limit, not marked.") in row.resolution
    assert "stride_robust_cv_pct" not in {o["key"] for o in report.to_dict()["outside_without_finding"]}


def test_a_value_at_the_limit_is_printed_with_the_digits_that_tell_them_apart(shared_data):
    """hunt14: stance-time variability 3.4485 % beside an upper limit of 3.4454 %, 0.003 points past it, within the
    figure's 0.26-point step at 300 Hz: not marked, said at the limit, range and value at 3 decimals."""
    report = _report(shared_data / "gaitndd-cohort" / "hunt14.hea")
    row = _row(report, "stance_variability_pct")
    assert row.outside == () and row.digits == 3
    assert row.reference == "0.798–3.445% (95% prediction interval of 9 recordings) [real controls]"
    assert round(timing_step(report.session, "stance_variability_pct"), 2) == 0.26
    assert "This walk's value, 3.449%, lies 0.0031 points above the controls' upper limit (3.445%)" in row.resolution


def test_a_marked_value_reads_outside_the_range_printed_beside_it_and_below(shared_data):
    """hunt14 as if sampled finely enough that 0.003 points tells: marked, and every place the page prints it
    (the key row's range, the list of values outside without a finding) has 3 decimals, so 3.449 ▲ stands beside
    0.798–3.445%, not beside 0.80–3.45%."""
    report = _report(shared_data / "gaitndd-cohort" / "hunt14.hea")
    fine = dataclasses.replace(report.session, sample_rate_hz=1e6)
    assert timing_step(fine, "stance_variability_pct") < 0.001
    rows = key_numbers(fine, load_reference_sets(), person_record(report.recording))
    row = next(r for r in rows if r.key == "stance_variability_pct")
    assert row.outside == ("session",) and row.digits == 3
    assert row.reference.startswith("0.798–3.445% ")
    listed = next(o for o in outside_without_finding(rows, (), fine, None) if o["key"] == "stance_variability_pct")
    assert listed["digits"] == 3 and f"{listed['values']['session']:.3f}" == "3.449"
    assert f"{listed['real_range'][1]:.3f}" == "3.445"
    assert not math.isclose(listed["values"]["session"], listed["real_range"][1], abs_tol=0.0005)


# ---------------------------------------------------------------- one minimum of strides for every timing number

TIMING_ROWS = ("stance_s", "stance_pct", "step_s", "double_support_pct", "stride_robust_cv_pct",
               "cadence_steps_per_min", "stride_cv_pct", "stride_sd_ms", "stance_si_pct", "step_si_pct")


def test_every_timing_number_of_a_short_walk_is_shown_not_judged(shared_data):
    """The 5 s Moticon walk (4 and 3 used strides): cadence 108.9 steps/min and the stance times were judged against
    the controls while the variability rows said "too few strides to judge"; now every timing row says it, and the
    page states the one minimum (20 strides on each foot) with this walk's counts."""
    report = _report(shared_data / "moticon-opengo" / "walk_data_with_events" / "text_export.txt")
    assert {s: report.session.feet[s].stride_times_s.size for s in report.session.sides} == {"left": 4, "right": 3}
    rows = {k.key: k for k in report.key_numbers}
    for key in TIMING_ROWS:
        row = rows[key]
        assert row.not_judged == "too few strides to judge", key
        assert row.outside == () and row.real_range is None, key
    assert round(rows["cadence_steps_per_min"].session, 1) == 108.9
    assert "[real controls, age and sex not given: all real controls]" in rows["cadence_steps_per_min"].reference
    status = report.to_dict()["reference_status"]
    assert status["min_timing_strides"] == 20
    assert status["statement"].endswith(
        "judged against controls only from at least 20 used strides on each foot, about as many as stride-to-stride "
        "variability needs [77]; with fewer they are shown and say \"too few strides to judge\" (this walk: 4 on the "
        "left foot, 3 on the right foot).")


def test_a_long_walk_has_its_timing_numbers_judged_and_the_minimum_stated(shared_data):
    """hunt14 (5 minutes, over 100 strides a foot): every timing row is judged against its range; the minimum is
    stated without counts."""
    report = _report(shared_data / "gaitndd-cohort" / "hunt14.hea")
    rows = {k.key: k for k in report.key_numbers}
    for key in TIMING_ROWS:
        assert rows[key].not_judged == "" and rows[key].real_range is not None, key
    statement = report.to_dict()["reference_status"]["statement"]
    assert "only from at least 20 used strides on each foot" in statement and "(this walk:" not in statement


# ---------------------------------------------------------------- what a one-sensor, uncalibrated report describes

def test_a_one_sensor_uncalibrated_report_describes_only_what_it_has(shared_data):
    """gaitndd (one force sensor a foot, au): the units line said "Timing, the COP and each region's share ... are
    shown" and the methods described the COP offset, regional shares, loading rate and the foot-rule and
    load-asymmetry cut-offs, none of which such a file has or applies."""
    report = _report(shared_data / "gaitndd-cohort" / "als10.hea")
    data = report.to_dict()
    units = data["units"]["statement"]
    assert "the COP" not in units and "region's share" not in units and "load maps" not in units
    assert "Timing is shown: with one sensor a foot there is no centre of pressure, no region to share the load and " \
           "no load map." in units
    methods = data["methods"]
    for absent in ("Regional shares are each region's part", "medial-lateral COP offset is the force-weighted",
                   "the loading rate is the mean slope", "The fixed cut-offs are", "Load asymmetry needs all of",
                   "Antalgic gait needs"):
        assert absent not in methods, absent
    assert ("No foot rule can be applied to this recording (its units and sensor layout rule each out: see Not "
            "assessed). Load asymmetry and antalgic gait compare forces between the feet and need calibrated "
            "forces: not applied to this recording. Irregular timing needs") in methods
    assert ("Stride-to-stride variability of a time series (stride time, stance time) is the robust SD of its "
            "successive differences") in methods
    # every rule the methods leave out is in the "not assessed" table, with its reason
    skipped = {n["code"] for n in data["not_assessed"]}
    assert skipped >= {"pronated_loading", "low_arch_loading", "heel_avoidance", "high_impact", "load_asymmetry",
                       "antalgic_gait"}


def test_a_calibrated_report_describes_the_rules_its_layout_allows(shared_data):
    """GaPt15_01 (gaitpdb8, newtons): shares, COP and force-curve rules and load asymmetry are described; the toe
    cut-off is not (gaitpdb8 has no hallux or lesser-toe sensor alone, and those rules are not assessed)."""
    methods = _report(shared_data / "gaitpdb-cohort" / "GaPt15_01.txt").to_dict()["methods"]
    assert "Regional shares are each region's part of the step's force-time integral; the medial-lateral COP " \
           "offset is the force-weighted" in methods
    assert "the valley ratio is the mid-stance minimum over the mean of the two peaks. Stride-to-stride" in methods
    assert ("The fixed cut-offs are 3% of ball width for the COP offset, symmetry indices of 30% (midfoot), 25% "
            "(heel) and 25% (loading rate), and 0.1 for the valley ratio;") in methods
    assert "for the regional shares the difference between the feet must lie beyond" in methods
    # the COP offset, with each control's two feet in the set, by what the other foot predicts (as the rule judges)
    assert ("for the COP offset a foot must lie beyond what the controls' other foot predicts of it (the regression "
            "of one foot on the other over 37 people's two feet), by more than ± 2.72 residual SDs") in methods
    assert "Load asymmetry needs all of" in methods and "Antalgic gait needs" in methods


def test_an_uncalibrated_walk_with_standing_says_why_its_standing_split_is_not_shown(shared_data):
    """als10 stands 5.7 s (insole analyze prints "Standing (5.7 s): left 49.3% / right 50.7%; uncalibrated insoles:
    see the note above"; the batch sets it NaN); the report leaves the split out and says why, once, in the units
    line. A recording with no standing (stappone) has no such line."""
    report = _report(shared_data / "gaitndd-cohort" / "als10.hea")
    standing = report.session.analysis.summary.standing
    assert standing["uncalibrated_force"] is True and round(standing["duration_s"], 1) == 5.7
    units = report.to_dict()["units"]["statement"]
    assert units.endswith(" The standing left/right split that insole analyze prints is not shown: it compares the "
                          "two insoles' readings, which need not share one scale.")
    assert units.count("standing") == 1
    other = _report(shared_data / "vendor-exports" / "stappone_example.csv")
    assert other.session.force_unit == "au" and not other.session.analysis.summary.standing
    assert "standing" not in other.to_dict()["units"]["statement"]


def test_a_walking_speed_just_outside_its_band_is_printed_with_the_digits_of_its_limit(shared_data):
    """The walking-speed row (from the file) is marked on its unrounded figure: 1 mm/s below the band's lower limit
    it would read as the limit itself at 2 decimals; the row and its band are printed at the digits that tell them
    apart, both alike."""
    report = _report(shared_data / "gaitpdb-cohort" / "GaPt15_01.txt")
    person = person_record(report.recording)
    first = next(r for r in report.key_numbers if r.key == "gait_speed_m_per_s")
    low = first.real_range[0]
    speed = low - 0.001
    rows = key_numbers(report.session, load_reference_sets(), {**person, "gait_speed_m_per_s": speed})
    row = next(r for r in rows if r.key == "gait_speed_m_per_s")
    assert row.outside == ("session",) and row.real_range == first.real_range
    assert row.digits > 2 and f"{speed:.{row.digits}f}" != f"{low:.{row.digits}f}"
    assert row.reference.split(": ", 1)[1].startswith(f"{low:.{row.digits}f}–")

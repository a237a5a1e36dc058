"""Honest references (issue 16, third review): a control judged without itself, each person counted once.

* A walk of the reference's own controls (GaCo06_01 is one of the 37 of gaitpdb8), or another walk of one of them
  (GaCo06_02), is judged against the other 36: every range and limit is rebuilt at report time from the other
  recordings' own stored values, which must be the very figures of the stored set (the non-members' figures do
  not move), and equal to a set rebuilt from the staged data without that person.
* A walk of one of the MDC95's same-day pairs is judged by the MDC95 of the other 19 pairs.
* Each person counts once: per-foot timing measures hold one value per person (the mean of the two feet), and a
  range's small-sample statistics count people, not feet (footswitch1: 9 people, not 18 feet; gaitpdb8's F1 and
  loading rate: the 12 people passing the body-weight check, not 24 feet).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from insole import load
from insole.report import build_report
from insole.report._metrics import session_metrics
from insole.report._reference import (
    FOOT_LEVEL_METRICS,
    FOOT_METRICS,
    MEMBER_VALUES,
    PER_PERSON_FOOT_METRICS,
    SESSION_METRICS,
    MetricDistribution,
    ReferenceSet,
    Repeatability,
    _distributions_from_members,
    _mdc95,
    foot_level_values,
    foot_metric_values,
    layout_reference_from_sessions,
    load_reference_sets,
    load_repeatability,
    real_layout_files,
    recording_info,
    reference_member,
    reference_set_for,
    repeatability_from_pairs,
    repeatability_without_self,
    sets_without_self,
)


def _real_sets():
    return [ref for ref in load_reference_sets() if ref.kind == "real"]


def _real(sets, layout: str, layout_specific: bool = True) -> ReferenceSet:
    ref = reference_set_for(sets, layout, kind="real", layout_specific=layout_specific)
    assert ref is not None
    return ref


def _gaitpdb8() -> ReferenceSet:
    return _real(load_reference_sets(), "gaitpdb8")


def _stored_mdc() -> Repeatability:
    stored = load_repeatability("gaitpdb8")
    assert stored is not None
    return stored


@pytest.mark.parametrize("ref", _real_sets(), ids=lambda ref: ref.name)
def test_each_stored_members_values_are_the_sets_figures(ref):
    """What a set is rebuilt from at report time is exactly what it stores: the members' own values, in order."""
    assert all(MEMBER_VALUES in r for r in ref.recordings)
    foot, session = _distributions_from_members(ref.recordings, ref.foot, ref.session)
    for metric, dist in ref.foot.items():
        assert foot[metric].values == dist.values, metric
        assert foot[metric].people == dist.people, metric
    for metric, dist in ref.session.items():
        assert session[metric].values == dist.values, metric


@pytest.mark.parametrize("subject", ["GaCo06", "SiCo01", "JuCo22"])
def test_leaving_one_person_out_moves_no_other_persons_figure(subject):
    full = _gaitpdb8()
    (k,) = [i for i, r in enumerate(full.recordings) if r["subject"] == subject]
    member = full.recordings[k][MEMBER_VALUES]
    without = full.without_subject(subject.lower())  # subjects compare without case, as the report's record does
    assert without.n_recordings == 36 and [r["subject"] for r in without.left_out] == [subject]
    assert subject not in {r["subject"] for r in without.recordings}
    for part, metrics in (("foot", (*FOOT_METRICS, *FOOT_LEVEL_METRICS)), ("session", SESSION_METRICS)):
        for metric in metrics:
            values = getattr(full, part)[metric].values
            before = sum(len(_own(r, part, metric)) for r in full.recordings[:k])
            own = _own(full.recordings[k], part, metric)
            assert tuple(values[before:before + len(own)]) == tuple(own), (part, metric)
            # the set without the person is the stored figures with exactly that person's taken out, in order
            assert getattr(without, part)[metric].values == values[:before] + values[before + len(own):], \
                (part, metric)
    assert member  # the person gave values at all (else the check above proves nothing)
    # a person not in the set: the set itself
    assert full.without_subject("GaPt09") is full


def _own(entry, part, metric):
    value = entry[MEMBER_VALUES][part].get(metric)
    return [] if value is None else list(value) if part == "foot" else [value]


def test_a_set_stored_without_member_values_is_not_guessed_at():
    full = _gaitpdb8()
    stripped = type(full)(**{**full.__dict__, "recordings": tuple({k: v for k, v in r.items() if k != MEMBER_VALUES}
                                                                  for r in full.recordings)})
    with pytest.raises(ValueError, match="without each recording's values"):
        stripped.without_subject("GaCo06")


def test_the_set_without_a_person_is_the_set_rebuilt_from_the_data_without_them(shared_data: Path):
    """Leave-one-out at report time gives what ``make references`` gives from the staged data without the person
    (the findings validation's leave-one-subject-out set)."""
    sessions = [(recording_info(d, p, r), session_metrics(r)) for d, p, r in
                ((d, p, load(p)) for d, p in real_layout_files(shared_data, "gaitpdb8"))]
    rebuilt = layout_reference_from_sessions("gaitpdb8", [s for s in sessions if s[0]["subject"] != "GaCo06"])
    without = _gaitpdb8().without_subject("GaCo06")
    for part in ("foot", "session"):
        for metric, dist in getattr(rebuilt, part).items():
            left = getattr(without, part)[metric]
            assert left.n == dist.n and left.people == dist.people, (part, metric)
            assert np.allclose(left.values, dist.values, rtol=0, atol=1e-5), (part, metric)  # stored to 1e-6


def test_a_control_is_judged_against_the_other_controls(shared_data: Path):
    path = shared_data / "gaitpdb-cohort" / "GaCo06_01.txt"
    report = build_report(load(path), path=path)
    status = report.to_dict()["reference_status"]
    assert status["includes_this"] == ("This walk (GaCo06_01.txt, gaitpdb-cohort) is one of the 37 controls of this "
                                       "reference: it is judged against the 36 other controls (its own values are "
                                       "left out of every range and limit).")
    assert (status["n_recordings"], status["n_judged_against"]) == (37, 36)
    (used,) = [r for r in report.result.reference_sets if r.name == "real-controls-gaitpdb8"]
    assert used.n_recordings == 36 and all(r["subject"] != "GaCo06" for r in used.recordings)
    # every range beside a key number comes from the 36: stance time's is their min-max, one value per person
    (row,) = [r for r in report.key_numbers if r.key == "stance_s"]
    others = used.foot["stance_s"].values
    assert len(others) == 36 and row.real_range == (min(others), max(others))
    assert "(range of 36 people, each the mean of both feet)" in row.reference
    assert "taken together beyond the 36 controls' spread" in report.methods
    # another walk of the same person (same day): judged against the same 36
    second = shared_data / "gaitpdb-cohort" / "GaCo06_02.txt"
    other = build_report(load(second), path=second).to_dict()["reference_status"]
    assert other["includes_this"] == ("This person (GaCo06) is one of the 37 controls of this reference (with another "
                                      "walk, GaCo06_01.txt, gaitpdb-cohort): this walk is judged against the 36 "
                                      "other controls (that walk is left out of every range and limit).")
    # a walk of no control: all 37
    patient = shared_data / "gaitpdb-cohort" / "GaPt09_01.txt"
    judged = build_report(load(patient), path=patient)
    assert judged.to_dict()["reference_status"]["n_judged_against"] == 37
    assert reference_member(judged.input, load_reference_sets(), "gaitpdb8") is None


def test_a_renamed_copy_of_a_control_walk_is_recognised_by_its_contents(shared_data: Path, tmp_path: Path):
    copy = tmp_path / "walk.txt"
    copy.write_bytes((shared_data / "gaitpdb-cohort" / "GaCo06_01.txt").read_bytes())
    record = {"name": "walk.txt", "sha256": hashlib.sha256(copy.read_bytes()).hexdigest(),
              "subject_id": None}
    sets = sets_without_self(record, load_reference_sets(), "gaitpdb8")
    assert _real(sets, "gaitpdb8").n_recordings == 36
    # the pooled set (timing for other layouts) leaves the person out too
    assert _real(sets, "x", layout_specific=False).n_recordings == 45


def test_the_mdc95_of_a_pairs_walk_leaves_that_pair_out():
    stored = _stored_mdc()
    assert len(stored.differences) == stored.n_pairs == 20
    # the stored MDC95s are what the stored differences give
    assert stored.without_subject("nobody") is stored
    (k,) = [i for i, p in enumerate(stored.pairs) if p[0] == "GaCo06"]
    kept = [d for i, d in enumerate(stored.differences) if i != k]
    without = repeatability_without_self({"name": "GaCo06_02.txt", "subject_id": "GaCo06"},
                                         {"name": "GaCo06_01.txt", "subject_id": "GaCo06"}, stored)
    assert without is not None and without.n_pairs == 19 and without.left_out == (stored.pairs[k],)
    expected = _mdc95([d["session"]["impulse_si_pct"] for d in kept])["mdc95"]
    assert without.session_mdc("impulse_si_pct") == pytest.approx(expected, abs=0)
    everything = _mdc95([d["session"]["impulse_si_pct"] for d in stored.differences])["mdc95"]
    assert stored.session_mdc("impulse_si_pct") == everything
    # a foot metric pools both feet of each remaining pair
    feet = [v for d in kept for v in d["foot"]["share_heel"]]
    assert without.foot_mdc("share_heel") == _mdc95(feet)["mdc95"]
    assert "without this person's own pair (GaCo06_01.txt, GaCo06_02.txt): the 19 other pairs" in \
        without.description
    # the file's name alone (no subject in it) finds the pair as well
    assert repeatability_without_self({"name": "GaCo06_01.txt"}, None, stored).n_pairs == 19
    assert repeatability_without_self({"name": "GaPt99_01.txt", "subject_id": "GaPt99"}, None, stored) is stored


def test_the_mdc95_without_a_pair_is_the_mdc95_rebuilt_from_the_other_pairs(shared_data: Path):
    folder = shared_data / "gaitpdb-cohort"
    pairs = []
    for second in sorted(folder.glob("Ga*_02.txt")):
        if second.name.startswith("GaCo06"):
            continue
        first = second.with_name(second.name.replace("_02", "_01"))
        info = recording_info("gaitpdb-cohort", first, load(first))
        info.update(first=first.name, second=second.name)
        pairs.append((info, session_metrics(load(first)), session_metrics(load(second))))
    rebuilt = repeatability_from_pairs("gaitpdb8", pairs)
    without = _stored_mdc().without_subject("GaCo06")
    for part, table in (("foot", without.foot), ("lr_index", without.lr_index), ("session", without.session)):
        for metric, entry in rebuilt[part].items():
            if entry["mdc95"] is None:
                assert metric not in table
                continue
            # the analysis reproduces the stored differences to rounding (1e-9 relative of a float's text)
            assert table[metric] == pytest.approx(entry["mdc95"], abs=2e-6), (part, metric)


def test_a_baseline_pair_of_the_mdc95_is_judged_by_the_other_pairs(shared_data: Path):
    first, second = (shared_data / "gaitpdb-cohort" / f"GaCo06_0{k}.txt" for k in (1, 2))
    report = build_report(load(second), path=second, baseline=load(first), baseline_path=first)
    said = report.to_dict()["baseline"]["repeatability_includes_this_pair"]
    assert said == ("These two walks (GaCo06_01.txt, GaCo06_02.txt) are one of the 20 same-day pairs the MDC95 was "
                    "measured on: the MDC95 they are judged by is that of the 19 other pairs (this pair left out).")
    assert report.repeatability is not None and report.repeatability.n_pairs == 19
    # every change is judged by the 19 pairs' MDC95
    by_key = {(row.get("side"), row["key"]): row for row in report.changes}
    stance = by_key.get(("left", "stance_s")) or next(r for r in report.changes if r["key"] == "stance_s")
    # the change table prints the MDC95 to 4 decimals (json_number)
    assert stance["mdc95"] == pytest.approx(report.repeatability.foot_mdc("stance_s"), abs=5e-5)
    assert report.repeatability.foot_mdc("stance_s") != _stored_mdc().foot_mdc("stance_s")


# ---------------------------------------------------------------- one person, one vote


def test_a_range_counts_people_not_feet():
    """The 95 % prediction interval of values from n people uses n, however many feet: t(0.975, n - 1) and
    sqrt(1 + 1/n). The two feet of nine people are not eighteen people."""
    rng = np.random.default_rng(7)
    values = tuple(float(v) for v in rng.normal(0.7, 0.05, 18))
    as_feet = MetricDistribution(values)
    as_people = MetricDistribution(values, people=9)
    sd = float(np.std(values, ddof=1))
    for dist, n in ((as_feet, 18), (as_people, 9)):
        low, high, how = dist.judging_range()
        half = float(stats.t.ppf(0.975, n - 1)) * sd * math.sqrt(1 + 1 / n)
        assert how == "95% prediction interval"
        assert (low, high) == pytest.approx((np.mean(values) - half, np.mean(values) + half), abs=1e-12)
    # 24 feet of 12 people: below the 20 people the min-max needs, so a prediction interval, not the range
    twelve = MetricDistribution(values + values[:6], people=12)
    assert twelve.judging_range()[2] == "95% prediction interval"
    assert MetricDistribution(values + values[:6]).judging_range()[2] == "range"


def test_footswitch1_holds_one_timing_value_per_person(shared_data: Path):
    ref = _real(load_reference_sets(), "footswitch1")
    assert ref.n_recordings == 9
    for metric in PER_PERSON_FOOT_METRICS:
        dist = ref.foot[metric]
        assert dist.n == dist.people == 9, metric
    # each value is that person's mean of the two feet
    (k,) = [i for i, r in enumerate(ref.recordings) if r["file"] == "control1.hea"]
    session = session_metrics(load(shared_data / "gaitndd" / "control1.hea"))
    feet = [float(np.nanmean(foot_metric_values(session, side)["stance_s"])) for side in ("left", "right")]
    assert ref.foot["stance_s"].values[k] == pytest.approx(np.mean(feet), abs=1e-6)  # stored to 1e-6
    cv = [foot_level_values(session, side)["stride_robust_cv_pct"] for side in ("left", "right")]
    assert ref.foot["stride_robust_cv_pct"].values[k] == pytest.approx(np.mean(cv), abs=1e-6)
    # the report says so beside the range
    report = build_report(load(shared_data / "gaitndd-cohort" / "park10.hea"))
    (row,) = [r for r in report.key_numbers if r.key == "stance_s"]
    assert "(95% prediction interval of 9 people, each the mean of both feet)" in row.reference


def test_gaitpdb8_force_ranges_count_the_people_who_passed_the_weight_check():
    ref = _gaitpdb8()
    passed = sum(r["body_weight_check"] == "passed" for r in ref.recordings)
    f1 = ref.foot["f1"]
    assert f1.n == 2 * passed and f1.people == passed < 20
    assert f1.judging_range()[2] == "95% prediction interval"
    # shares: both feet of all 37 (each person's two feet, counted as 37 people)
    assert (ref.foot["share_heel"].n, ref.foot["share_heel"].people) == (74, 37)


def test_a_set_without_member_values_is_kept_whole_and_said_to_include_the_walk():
    """Sets built elsewhere without each recording's values cannot be rebuilt: the report keeps them and says the
    old sentence (its ranges include the walk) rather than failing."""
    from insole.report._build import reference_membership

    full = _gaitpdb8()
    stripped = type(full)(**{**full.__dict__, "recordings": tuple({k: v for k, v in r.items() if k != MEMBER_VALUES}
                                                                  for r in full.recordings)})
    record = {"name": "GaCo06_01.txt", "sha256": None, "subject_id": "GaCo06"}
    (kept,) = sets_without_self(record, (stripped,), "gaitpdb8")
    assert kept is stripped
    assert reference_membership(record, (kept,), "gaitpdb8") == (
        "This walk (GaCo06_01.txt, gaitpdb-cohort) is one of the 37 controls of this reference: its ranges and limits "
        "include it, so a value inside them is no independent check.")

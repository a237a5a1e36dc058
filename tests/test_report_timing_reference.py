"""Timing on layouts without real controls of their own is judged against every layout's real controls pooled
(46 people), not a handful; and a small reference is not judged by its min-max."""

from __future__ import annotations

import math

import pytest

from insole.report._reference import (
    POOLED_CONTROLS,
    SMALL_SAMPLE_N,
    MetricDistribution,
    load_reference_sets,
    pool_real_controls,
    reference_set_for,
)


def _stored() -> dict:
    return {ref.name: ref for ref in load_reference_sets()}


def test_the_pooled_set_is_the_layout_sets_one_after_the_other():
    sets = _stored()
    pooled = sets[POOLED_CONTROLS]
    footswitch, gaitpdb = sets["real-controls-footswitch1"], sets["real-controls-gaitpdb8"]
    assert pooled.kind == "real" and pooled.layouts == ()
    assert pooled.n_recordings == 46 == footswitch.n_recordings + gaitpdb.n_recordings  # 9 + 37 people
    # exactly the stored per-layout values, in set-name order: the stored file is what pooling them gives
    for metric in ("stance_s", "stance_pct", "step_s", "double_support_pct"):
        assert pooled.foot[metric].values == footswitch.foot[metric].values + gaitpdb.foot[metric].values
        assert pooled.foot[metric].n == pooled.foot[metric].people == 46  # each person's mean of both feet
    for metric in ("timing_variability_pct", "stride_variability_pct", "stance_si_pct", "step_si_pct"):
        assert pooled.session[metric].values == footswitch.session[metric].values + gaitpdb.session[metric].values
    assert pool_real_controls(list(sets.values())) == pooled
    files = [r["file"] for r in footswitch.recordings] + [r["file"] for r in gaitpdb.recordings]
    assert [r["file"] for r in pooled.recordings] == files
    assert "n = 46 people (real-controls-footswitch1 9, real-controls-gaitpdb8 37)" in pooled.description
    assert "timing only" in pooled.description


def test_layouts_without_real_controls_get_the_pooled_set_and_the_others_their_own():
    sets = load_reference_sets()
    assert "physionet-controls" not in {ref.name for ref in sets}  # its five walks are among the 46
    for layout in ("moticon16", "stappone", "pedar99", "insole16"):
        assert reference_set_for(sets, layout, kind="real") is None
        assert reference_set_for(sets, layout, kind="real", layout_specific=False).name == POOLED_CONTROLS
    assert reference_set_for(sets, "gaitpdb8", kind="real").name == "real-controls-gaitpdb8"
    assert reference_set_for(sets, "footswitch1", kind="real").name == "real-controls-footswitch1"


def test_pooling_needs_a_layout_set():
    with pytest.raises(ValueError, match="no per-layout real control set"):
        pool_real_controls([ref for ref in load_reference_sets() if not ref.layouts])


def test_from_twenty_values_the_min_max_is_judged_below_the_prediction_interval():
    assert SMALL_SAMPLE_N == 20
    assert MetricDistribution(tuple(float(v) for v in range(20))).judging_range() == (0.0, 19.0, "range")
    # 1..5: mean 3, SD sqrt(2.5); t(0.975, 4) = 2.776445; half width 2.776445 x 1.581139 x sqrt(1.2) = 4.808944
    low, high, how = MetricDistribution((1.0, 2.0, 3.0, 4.0, 5.0)).judging_range()
    assert how == "95% prediction interval"
    assert math.isclose(low, 3.0 - 4.808944, abs_tol=1e-5) and math.isclose(high, 3.0 + 4.808944, abs_tol=1e-5)
    assert MetricDistribution((1.0, 2.0)).judging_range() is None


def test_timing_rows_of_a_layout_without_controls_name_the_pooled_controls(shared_data):
    """stappone has no real controls: its timing variability (2.73 %) lies inside the 46 controls' range
    (1.04-3.10 %; 1.04-3.20 % before 7830cc5's event changes),
    where the five-walk set (1.73-2.50 %) marked it above."""
    from insole import load
    from insole.report._build import build_report

    path = shared_data / "vendor-exports" / "stappone_example.csv"
    rows = {k["key"]: k for k in build_report(load(path), path=path).to_dict()["key_numbers"]}
    pooled = _stored()[POOLED_CONTROLS]
    tag = "[real controls of another insole (footswitch1, gaitpdb8); timing only]"
    row = rows["timing_variability_pct"]
    assert "(range of 46 recordings) " + tag in row["reference"]
    dist = pooled.session["timing_variability_pct"]
    # the JSON keeps 4 decimals
    assert row["real_range"] == [round(min(dist.values), 4), round(max(dist.values), 4)] == [1.0362, 3.1007]
    assert round(row["session"], 2) == 2.73 and row["outside_real_range"] == []
    stance = rows["stance_s"]
    assert "(range of 46 people, each the mean of both feet) " + tag in stance["reference"]
    stance_s = pooled.foot["stance_s"].values
    assert stance["real_range"] == [round(min(stance_s), 4), round(max(stance_s), 4)]
    assert stance["outside_real_range"] == []  # left foot only, 0.736 s inside 0.557-0.795 s

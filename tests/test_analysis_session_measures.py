"""The session and stance measures the analysis derives once for every view: known answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from insole import get_layout
from insole.analysis import analyze
from insole.analysis._cop import cop_features, cop_ml_assessable
from insole.analysis._force import force_features, valley_ratio
from insole.analysis._summary import (
    SIGNED_METRICS,
    VARIABILITY_MIN_STRIDES,
    stride_variability_pct,
    timing_variability,
)
from insole.simulate import SimulationParams, simulate

# 1.4826 x MAD of successive differences / sqrt(2) / median, for differences of +-d around a median stride m
ROBUST = 1.4826 / math.sqrt(2.0)


# ---------------------------------------------------------------- successive-difference variability

def test_alternating_strides_give_the_known_variability():
    # 1.0, 1.1, 1.0, ... (21 strides): 20 differences of +-0.1, median 0, MAD 0.1; median stride 1.0
    strides = np.where(np.arange(21) % 2 == 0, 1.0, 1.1)
    assert stride_variability_pct(strides) == pytest.approx(100.0 * ROBUST * 0.1, rel=1e-9)


def test_steady_and_drifting_pace_have_no_stride_to_stride_variability():
    assert stride_variability_pct(np.full(30, 1.05)) == 0.0
    drift = np.linspace(1.0, 1.3, 30)  # every difference the same: a slow change of pace, not irregularity
    assert stride_variability_pct(drift) == pytest.approx(0.0, abs=1e-9)
    assert 100 * drift.std(ddof=1) / drift.mean() > 5  # the plain CV is inflated


def test_variability_needs_three_finite_strides():
    assert math.isnan(stride_variability_pct(np.array([1.0, 1.1])))
    assert math.isnan(stride_variability_pct(np.array([1.0, np.nan, 1.1, np.nan])))
    assert stride_variability_pct(np.array([1.0, np.nan, 1.1, 1.0, 1.1, 1.0])) == pytest.approx(
        stride_variability_pct(np.array([1.0, 1.1, 1.0, 1.1, 1.0])))


def test_stride_variability_is_the_cv_for_independent_strides():
    rng = np.random.default_rng(0)
    strides = 1.0 + 0.03 * rng.standard_normal(20_000)
    # robust SD of successive differences / sqrt(2): 3% within sampling error (0.02 points for 20000 strides)
    assert stride_variability_pct(strides) == pytest.approx(3.0, abs=0.05)
    # a slow drift of pace inflates the plain CV but not this measure
    drift = strides + np.linspace(0.0, 0.5, strides.size)
    assert stride_variability_pct(drift) == pytest.approx(3.0 * 1.0 / np.median(drift), abs=0.05)
    assert 100 * drift.std() / drift.mean() > 10


def test_session_timing_variability_averages_the_feet_with_enough_strides():
    alternating = np.where(np.arange(21) % 2 == 0, 1.0, 1.1)
    steady = np.full(21, 1.0)
    stance = 0.6 * alternating
    few = np.array([1.0, 1.5, 1.0, 1.5])  # under VARIABILITY_MIN_STRIDES: left out of the variability
    assert few.size < VARIABILITY_MIN_STRIDES
    out = timing_variability({"left": alternating, "right": steady}, {"left": stance, "right": steady * 0.6})
    expected = 100.0 * ROBUST * 0.1
    assert out["stride_variability_pct"] == pytest.approx(expected / 2)
    # stance 0.6 / 0.66: differences +-0.06, median 0.6
    assert out["stance_variability_pct"] == pytest.approx(100.0 * ROBUST * 0.06 / 0.6 / 2)
    assert out["timing_variability_pct"] == pytest.approx(0.5 * (out["stride_variability_pct"]
                                                                 + out["stance_variability_pct"]))
    assert out["stride_cv_pct"] == pytest.approx(0.5 * 100 * alternating.std(ddof=1) / alternating.mean())
    assert out["stride_sd_ms"] == pytest.approx(0.5 * 1000 * alternating.std(ddof=1))

    only_one = timing_variability({"left": alternating, "right": few}, {"left": stance, "right": few * 0.6})
    assert only_one["stride_variability_pct"] == pytest.approx(expected)
    # the short foot still counts for the plain CV and SD (3 strides or more)
    cv_few = 100 * few.std(ddof=1) / few.mean()
    assert only_one["stride_cv_pct"] == pytest.approx(0.5 * (100 * alternating.std(ddof=1) / alternating.mean()
                                                             + cv_few))
    none = timing_variability({"left": few}, {"left": few * 0.6})
    assert math.isnan(none["stride_variability_pct"]) and math.isnan(none["timing_variability_pct"])
    no_stance = timing_variability({"left": alternating}, {})
    assert math.isfinite(no_stance["stride_variability_pct"]) and math.isnan(no_stance["timing_variability_pct"])


# ---------------------------------------------------------------- stance columns

def test_valley_ratio_of_a_valley_at_half_the_mean_peak_is_one_half():
    assert valley_ratio(np.array([1.2]), np.array([0.55]), np.array([1.0]))[0] == pytest.approx(0.5)
    ratio = valley_ratio(np.array([0.0, np.nan, 2.0]), np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 2.0]))
    assert math.isnan(ratio[0]) and math.isnan(ratio[1]) and ratio[2] == 1.0


def test_force_features_give_the_valley_ratio_of_the_curve():
    # two humps of 800 N (first half) and 600 N (second half) with a 350 N valley: ratio 350 / 700 = 0.5
    t = np.linspace(0.0, 1.0, 101)
    curve = np.interp(t, [0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 800.0, 350.0, 600.0, 0.0])
    force = np.concatenate([np.zeros(10), curve, np.zeros(10)])
    out = force_features(force, np.array([10]), np.array([111]), 100.0, 700.0, calibrated=True)
    assert out["valley_ratio"][0] == pytest.approx(0.5)
    # scale-free: the same in arbitrary units and without a body weight
    scaled = force_features(3.0 * force, np.array([10]), np.array([111]), 100.0, float("nan"), calibrated=False)
    assert scaled["valley_ratio"][0] == pytest.approx(0.5)


def test_cop_offset_in_percent_of_ball_width():
    layout = get_layout("insole16")
    assert cop_ml_assessable(layout)
    n = 50
    y = np.full(n, 0.05 * layout.ball_width_mm)  # 5 % of the ball width, medial
    x = np.linspace(20.0, 200.0, n)
    out = cop_features(x, y, np.full(n, 500.0), np.array([0]), np.array([n]), layout, False)
    assert out["cop_ml_offset_pct"][0] == pytest.approx(5.0)
    assert "cop_ml_offset_pct" in SIGNED_METRICS
    sparse = get_layout("orphe6")  # no medial and lateral heel sensors: no percentage
    assert not cop_ml_assessable(sparse)
    assert "cop_ml_offset_pct" not in cop_features(x, y, np.full(n, 500.0), np.array([0]), np.array([n]), sparse,
                                                   False)


# ---------------------------------------------------------------- in the analysis

@pytest.fixture(scope="module")
def walk():
    return analyze(simulate(SimulationParams(duration_s=40.0, seed=5, layout="insole16")))


def test_the_summary_holds_the_session_measures_of_the_used_strides(walk):
    strides = {s: walk.strides[s][walk.strides[s]["used"]] for s in walk.sides}
    expected = timing_variability({s: t["stride_time_s"].to_numpy(float) for s, t in strides.items()},
                                  {s: t["stance_time_s"].to_numpy(float) for s, t in strides.items()})
    assert walk.summary.timing_variability == expected
    for side, table in strides.items():
        assert walk.summary.stride_time_variability_pct[side] == stride_variability_pct(
            table["stride_time_s"].to_numpy(float))
        assert math.isfinite(walk.summary.stance_time_variability_pct[side])
        np.testing.assert_allclose(table["forefoot_toes_share_pct"],
                                   table["forefoot_share_pct"] + table["toes_share_pct"])
        np.testing.assert_allclose(table["valley_ratio"],
                                   table["valley_bw"] / (0.5 * (table["first_peak_bw"] + table["second_peak_bw"])))
        np.testing.assert_allclose(table["cop_ml_offset_pct"],
                                   100 * table["cop_ml_offset_mm"] / get_layout("insole16").ball_width_mm)
    # per-foot means and a signed metric without a symmetry index
    assert "valley_ratio" in walk.summary.per_foot.index
    assert math.isnan(walk.summary.symmetry.at["cop_ml_offset_pct", "symmetry_index_pct"])


def test_the_json_carries_them(walk):
    data = json.loads(walk.to_json())
    assert data["schema_version"] == "1.4"
    summary = data["summary"]
    assert summary["timing_variability"]["timing_variability_pct"] == pytest.approx(
        walk.summary.timing_variability["timing_variability_pct"])
    assert set(summary["stride_time_variability_pct"]) == set(walk.sides)
    assert "valley_ratio" in data["strides"]["left"][0] and "cop_ml_offset_pct" in data["steps"]["right"][0]


def test_repr_is_a_few_lines_that_say_what_to_call_next(walk):
    text = repr(walk)
    assert len(text.splitlines()) <= 6 and len(text) < 800
    for part in ("left", "right", "strides used", "steps/min", " s,", "strides_frame()", ".summary"):
        assert part in text
    assert str(walk.summary.strides_used["left"]) in text
    summary = repr(walk.summary)
    assert len(summary) < 300 and "per_foot" in summary

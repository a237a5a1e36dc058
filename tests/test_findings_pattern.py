"""The one-sided statistics of the findings (issue 16): a foot against what its partner predicts, and a whole-foot
offload read from impulse, peak force and F1 together. Exact expectations on hand-made numbers; real walks only
check that the stored reference carries what the statistics need and that a plain one-sided change is named on
its own foot."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from insole.report._findings import _given_other_foot, _pattern_z, prediction_sd

# the known-answer helpers of `make validate` (docs/scripts/, not part of the package), imported by name from their
# folder as tests/test_report_validation.py does
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "scripts"))
from validate_findings import moved_load, region_sensors  # noqa: E402


def test_a_foot_is_judged_against_what_its_partner_predicts():
    # three people's (left, right); counted both ways round the six pairs have mean 0, variance 6/5, covariance
    # 2/5 (ddof 1): slope 1/3, residual variance 6/5 - 2/15 = 16/15
    pairs = np.array([(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)])
    z, expected, residual_sd, slope = _given_other_foot(pairs, this=2.0, other=3.0)
    assert slope == pytest.approx(1 / 3)
    assert expected == pytest.approx(1.0)
    assert residual_sd == pytest.approx(4 / math.sqrt(15))
    assert z == pytest.approx(math.sqrt(15) / 4)
    # which foot is listed first does not matter: left and right count alike
    assert _given_other_foot(pairs[:, ::-1], 2.0, 3.0)[0] == pytest.approx(z)


def test_alike_feet_make_a_one_sided_change_stand_out_more_than_their_difference_does():
    rng = np.random.default_rng(7)
    person = rng.normal(0.0, 3.0, 200)
    pairs = np.column_stack([person + rng.normal(0.0, 1.0, 200), person + rng.normal(0.0, 1.0, 200)])
    diff_sd = float(np.sqrt(np.mean((pairs[:, 1] - pairs[:, 0]) ** 2)))
    z_before = _given_other_foot(pairs, this=0.0, other=0.0)[0]
    z_after = _given_other_foot(pairs, this=4.0, other=0.0)[0]
    # the change of 4 moves the z by 4 / residual SD; the residual SD (about 1.0 x sqrt(1 + 1/10) here) is
    # below the difference's RMS (about sqrt(2)): the given-the-other-foot z moves further
    assert z_after - z_before > 4.0 / diff_sd


def test_a_pattern_is_projected_on_its_direction_in_the_controls_spread():
    # rows sqrt(3) x the unit vectors: counted with both signs, their covariance is the identity
    vectors = math.sqrt(3.0) * np.eye(3)
    assert _pattern_z(vectors, np.array([3.0, 0.0, 0.0]), np.ones(3)) == pytest.approx(3.0 / math.sqrt(3.0))
    assert _pattern_z(vectors, np.array([1.0, 1.0, 1.0]), np.ones(3)) == pytest.approx(math.sqrt(3.0))
    # one measure: the value over the controls' root mean square
    single = np.array([[2.0], [-4.0], [4.0]])
    assert _pattern_z(single, np.array([6.0]), np.ones(1)) == pytest.approx(6.0 / math.sqrt(12.0))
    # healthy spread SD 1 along (1, 1) and SD 4 along (1, -1) (covariance [[8.5, -7.5], [-7.5, 8.5]]): the same
    # step along each direction is sqrt(2) SD along the first, a quarter of that along the second
    narrow = np.array([[4.0, -4.0], [1.0, 1.0]])
    assert _pattern_z(narrow, np.array([1.0, 1.0]), np.ones(2)) == pytest.approx(math.sqrt(2.0))
    assert _pattern_z(narrow, np.array([1.0, -1.0]), np.array([1.0, -1.0])) == pytest.approx(math.sqrt(2.0) / 4)


def test_the_stored_gaitpdb8_controls_carry_each_persons_two_feet(shared_data):
    from insole.report._reference import load_reference_sets, reference_set_for

    ref = reference_set_for(load_reference_sets(), "gaitpdb8", kind="real")
    pairs = ref.foot_pairs("cop_ml_pct")
    assert pairs.shape == (37, 2)
    # each person's right minus left is the stored left/right difference of that recording
    diffs = np.array([r["diff_cop_ml_pct"] for r in ref.recordings])
    assert np.allclose(pairs[:, 1] - pairs[:, 0], diffs, atol=1e-4)
    whole_foot = ref.session_vectors(("impulse_si_pct", "peak_force_si_pct", "si_f1"))
    assert whole_foot.shape == (37, 3)


@pytest.mark.parametrize("side", ["left", "right"])
def test_load_moved_medially_or_taken_off_one_real_foot_is_named_on_that_foot(shared_data, side):
    """A same-day second walk of a control (its first walk is in the stored reference; the second is not),
    changed on one foot by more than the cohort's furthest patient departs: half the lateral sensors' load moved
    to their medial partners, or a quarter of the foot's load taken off."""
    import insole
    from insole.report import evaluate, session_from_analysis

    recording = insole.load(shared_data / "gaitpdb-cohort" / "GaCo04_02.txt")
    layout = recording.layout

    def findings(rec):
        return {(f.code, f.side): f for f in evaluate(session_from_analysis(insole.analyze(rec), rec)).findings}

    assert not findings(recording)
    lateral = region_sensors(layout, ("lateral_heel", "lateral_midfoot", "lateral_metatarsals"))
    medial = region_sensors(layout, ("medial_heel", "medial_midfoot", "first_metatarsal"))
    pronated = findings(moved_load(recording, side, lateral, medial, 0.5, paired=True))
    assert set(pronated) == {("pronated_loading", side)}
    reference = next(c for c in pronated["pronated_loading", side].comparisons if c.frame == "reference_set")
    assert "whose partner reads" in reference.description
    lighter = findings(moved_load(recording, side, region_sensors(layout, ("heel", "midfoot", "front")), [], 0.25))
    assert ("load_asymmetry", side) in lighter
    assert not any(s not in (side, "both") for _, s in lighter)
    combined = next(c for c in lighter["load_asymmetry", side].comparisons if c.frame == "reference_set")
    assert "impulse, peak force, first peak (F1)" in combined.description


def test_a_lighter_foot_does_not_make_its_partner_high_impact(shared_data):
    """A quarter of the right foot's load taken off a control's same-day second walk (not in the stored reference)
    lowers that foot's loading rate too: the left's reads 23.8 vs 15.4 BW/s. Scaled by the feet's impulse ratio the
    difference is within the high-impact cut-offs, so one finding, on the lighter foot, says so."""
    import insole
    from insole.report import evaluate, session_from_analysis

    recording = insole.load(shared_data / "gaitpdb-cohort" / "GaCo16_02.txt")
    changed = moved_load(recording, "right", region_sensors(recording.layout, ("heel", "midfoot", "front")), [], 0.25)
    findings = evaluate(session_from_analysis(insole.analyze(changed), changed)).findings
    assert [(f.code, f.side) for f in findings] == [("load_asymmetry", "right")]
    assert any("not reported as high impact" in note for note in findings[0].notes)


def test_limits_from_a_few_controls_are_prediction_limits():
    # one new healthy person passes the limit at the rate asked only if the SD's own uncertainty is counted:
    # Student's t quantiles (tables: t(0.995; 35) = 2.724, t(0.9975; 36) = 2.990, t(0.995; 8) = 3.355)
    assert prediction_sd(0.01, 35) == pytest.approx(2.7238, abs=1e-4)
    assert prediction_sd(0.005, 36) == pytest.approx(2.9905, abs=1e-4)
    assert prediction_sd(0.01, 10, fitted=2) == pytest.approx(3.3554, abs=1e-4)
    # around an estimated mean: one degree of freedom less, and wider by sqrt(1 + 1/n)
    assert prediction_sd(0.01, 9, mean_estimated=True) == pytest.approx(3.3554 * math.sqrt(1 + 1 / 9), abs=1e-4)
    # many controls: the normal quantile (2.5758 for the two-sided 1 %)
    assert prediction_sd(0.01, 100_000) == pytest.approx(2.5758, abs=1e-3)
    assert prediction_sd(0.01, 40) > prediction_sd(0.01, 80) > 2.5758
    # no degree of freedom left: nothing can be judged, nothing flags
    assert prediction_sd(0.01, 2, fitted=2) == math.inf


# How often one new healthy person goes past each limit taken from the controls' spread, by a seeded simulation
# of many reference sets and one new person each (all drawn from the same normal spread): the rate asked for, within
# 3.5 binomial SDs of the draws (the tolerance is the simulation's own scatter; the seed makes it exact). The normal
# quantile, the old limits, lies outside every one of these bands (its rates in the comments).
_TRIALS = 20_000


def _band(rate: float) -> tuple[float, float]:
    sd = math.sqrt(rate * (1 - rate) / _TRIALS)
    return rate - 3.5 * sd, rate + 3.5 * sd


def test_the_mirrored_left_right_limit_flags_healthy_people_at_the_rate_asked():
    from insole.report._findings import _healthy_limit

    rng = np.random.default_rng(11)
    people, tail = 36, 0.005  # a share's criterion on gaitpdb8 (half the 1 % tail); the normal quantile: 0.80 %
    flagged = 0
    for _ in range(_TRIALS):
        controls, new = rng.normal(size=people), rng.normal()
        flagged += abs(new) > _healthy_limit(controls, tail)[0]
    low, high = _band(tail)
    assert low <= flagged / _TRIALS <= high


def test_the_whole_foot_limit_counts_the_estimated_covariance():
    from insole.report._findings import _pattern_limit

    rng = np.random.default_rng(12)
    people, tail = 37, 0.01  # gaitpdb8's controls, three indices; t(n - k + 1) alone: 1.47 %, the normal: 2.05 %
    spread = np.array([[1.0, 0.3, 0.2], [0.3, 0.45, 0.35], [0.2, 0.35, 0.4]])  # correlated, unequal indices
    root = np.linalg.cholesky(spread)
    direction = np.ones(3)
    flagged = 0
    for _ in range(_TRIALS):
        controls = rng.normal(size=(people, 3)) @ root.T
        new = root @ rng.normal(size=3)
        flagged += abs(_pattern_z(controls, new, direction)) > _pattern_limit(controls, new, direction, tail)
    low, high = _band(tail)
    assert low <= flagged / _TRIALS <= high


def test_the_one_foot_given_the_other_limit_flags_at_the_rate_asked():
    from insole.report._findings import _given_other_limit

    rng = np.random.default_rng(13)
    people, tail, r = 37, 0.01, 0.55  # gaitpdb8's COP offsets: the feet correlate about 0.55
    root = np.linalg.cholesky(np.array([[1.0, r], [r, 1.0]]))
    limit = _given_other_limit(np.zeros((people, 2)), tail)  # t(n - 2): the same for every set of this size
    flagged = 0
    for _ in range(_TRIALS):
        pairs = rng.normal(size=(people, 2)) @ root.T
        this, other = root @ rng.normal(size=2)
        flagged += abs(_given_other_foot(pairs, this, other)[0]) > limit
    # the line is fitted to 2n mirrored points from n people: the rate lands just under the one asked for
    low, high = _band(tail)
    assert low <= flagged / _TRIALS <= high

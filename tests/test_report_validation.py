"""Simulate-then-recover: every simulator pattern is found on the right side, normal walking stays clean."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The harness is the maintenance script behind `make validate` (docs/scripts/, not part of the package); it is
# imported by name from its folder so that the acceptance run's worker processes can import it too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "scripts"))
from validate_findings import (  # noqa: E402
    KNOWN_ANSWERS,
    PATTERN_CODES,
    WHOLE_BODY,
    auc,
    moved_load,
    real_cases,
    real_cohort_rows,
    region_sensors,
    run_case,
    run_validation,
    summarise,
)


@pytest.mark.parametrize("pattern", sorted(PATTERN_CODES))
def test_one_walk_per_pattern_and_side(pattern):
    sides = ("both",) if pattern in WHOLE_BODY else ("left", "right")
    for side in sides:
        case = run_case(pattern, side, seed=100)
        assert case.hit, (pattern, side, case.findings)
        assert not case.wrong_side, (pattern, side, case.findings)


def test_normal_walks_have_no_findings():
    for seed in (100, 101, 102):
        case = run_case("normal", "both", seed=seed)
        assert case.findings == (), case.findings


@pytest.mark.slow
def test_acceptance_20_seeds_per_pattern_50_normal():
    """The acceptance run (docs/findings-validation.md is written from the same function)."""
    rows, normal = summarise(run_validation(seeds=20, normal_seeds=50, workers=2))
    for row in rows:
        assert row.runs == 20
        assert row.hits >= 19, (row.pattern, row.side, row.hits)
        assert row.wrong_side == 0, (row.pattern, row.side)
    assert normal["runs"] == 50
    assert normal["runs"] - normal["moderate_or_above"] >= 48
    assert normal["runs"] - normal["any_finding"] >= 48


def test_auc_counts_ties_as_half():
    assert auc([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert auc([1.0], [1.0]) == 0.5
    assert auc([1.0, 3.0], [2.0]) == 0.5


@pytest.fixture(scope="module")
def real_rows(shared_data):
    """Every staged real walk judged leave-one-subject-out, as docs/findings-validation.md is written (once for
    the tests below: it analyses some 150 walks)."""
    cases, _ = real_cases(shared_data, workers=2)
    return real_cohort_rows(cases)


@pytest.mark.slow
def test_real_cohorts_leave_one_subject_out(real_rows):
    """Issue 16's acceptance on real people (docs/findings-validation.md is written from the same functions):
    Huntington's walks flagged irregular in at least 70 %, controls in at most 10 %, each judged against their
    layout's controls without themselves."""
    controls = [r for r in real_rows if r["group"] == "control"]
    hd = [r for r in real_rows if r["group"] == "Huntington's"]
    assert len(controls) == 46  # 37 gaitpdb + 9 gaitndd, one usual walk each (JuCo26_01 is JuPt01_01's bytes)
    irregular = [any(c == "irregular_gait" for c, _, _ in r["findings"]) for r in hd]
    assert hd and sum(irregular) >= 0.70 * len(hd)
    assert sum(any(c == "irregular_gait" for c, _, _ in r["findings"]) for r in controls) <= 0.10 * len(controls)


@pytest.mark.slow
def test_at_most_a_tenth_of_real_controls_get_any_finding(real_rows):
    """Issue 16's acceptance: at most 10 % of the real controls get any finding at any confidence, judged against
    their layout's controls without themselves. 4 of 46 (JuCo12_01, JuCo20_01, SiCo04_01, SiCo10_01) since the
    limits from the controls' spread are prediction limits (Student's t for the controls counted); with the normal
    quantile JuCo14_01 was a fifth (+11.0 share points against a limit of 10.5; 11.2 now)."""
    controls = [r for r in real_rows if r["group"] == "control"]
    assert sum(bool(r["findings"]) for r in controls) <= 0.10 * len(controls)


def test_known_answer_patterns_take_their_sensors_from_the_regions():
    import insole

    layout = insole.get_layout("gaitpdb8")
    picked = {a.name.split(" (")[0]: (region_sensors(layout, a.source), region_sensors(layout, a.target))
              for a in KNOWN_ANSWERS}
    # sensors 1-3 heel, 4-5 midfoot, 6-8 forefoot and toes; lateral 2, 4, 6 and medial 3, 5, 7 (0-based below)
    assert picked["heel offload"] == ([0, 1, 2], [5, 6, 7])
    assert picked["low arch"] == ([0, 1, 2, 5, 6, 7], [3, 4])
    assert picked["pronated"] == ([1, 3, 5], [2, 4, 6])
    assert picked["supinated"] == ([2, 4, 6], [1, 3, 5])
    assert picked["hallux offload"][0] == []  # sensor 8 lies mid-toe: no hallux sensor, so not assessable


def test_moved_load_moves_exactly_the_fraction_asked(shared_data):
    import numpy as np

    import insole

    recording = insole.load(shared_data / "gaitpdb" / "SiCo01_01.txt")
    before = np.asarray(recording.samples("left").values, float)
    # medial-lateral: each lateral sensor gives 30 % of its load to the medial sensor of its own row
    after = np.asarray(moved_load(recording, "left", [1, 3, 5], [2, 4, 6], 0.3, paired=True).samples("left").values,
                       float)
    for lateral, medial in ((1, 2), (3, 4), (5, 6)):
        np.testing.assert_allclose(after[:, lateral], 0.7 * before[:, lateral], atol=1e-3)  # float32 storage
        np.testing.assert_allclose(after[:, medial], before[:, medial] + 0.3 * before[:, lateral], atol=1e-3)
    np.testing.assert_allclose(after.sum(axis=1), before.sum(axis=1), atol=1e-2)  # the foot's total is kept
    np.testing.assert_array_equal(after[:, [0, 7]], before[:, [0, 7]].astype(np.float32))
    # whole foot: a quarter of every sensor's load taken off, the other foot untouched
    lighter = moved_load(recording, "left", list(range(8)), [], 0.25)
    np.testing.assert_allclose(np.asarray(lighter.samples("left").values, float), 0.75 * before, atol=1e-3)
    np.testing.assert_array_equal(lighter.samples("right").values, recording.samples("right").values)


"""Simulate-then-recover: every simulator pattern is found on the right side, normal walking stays clean."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The harness is the maintenance script behind `make validate` (docs/scripts/, not part of the package); it is
# imported by name from its folder so that the acceptance run's worker processes can import it too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "scripts"))
from validate_findings import (  # noqa: E402
    PATTERN_CODES,
    WHOLE_BODY,
    auc,
    real_cases,
    real_cohort_rows,
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


@pytest.mark.slow
def test_real_cohorts_leave_one_subject_out(shared_data):
    """Issue 16's acceptance on real people (docs/findings-validation.md is written from the same functions):
    at most 10 % of the real controls get any finding, judged against their layout's controls without
    themselves; Huntington's walks flagged irregular in at least 70 %, controls in at most 10 %."""
    cases, _ = real_cases(shared_data, workers=2)
    rows = real_cohort_rows(cases)
    controls = [r for r in rows if r["group"] == "control"]
    hd = [r for r in rows if r["group"] == "Huntington's"]
    assert len(controls) == 47  # 38 gaitpdb + 9 gaitndd, one usual walk each
    assert sum(bool(r["findings"]) for r in controls) <= 0.10 * len(controls)
    irregular = [any(c == "irregular_gait" for c, _, _ in r["findings"]) for r in hd]
    assert hd and sum(irregular) >= 0.70 * len(hd)
    assert sum(any(c == "irregular_gait" for c, _, _ in r["findings"]) for r in controls) <= 0.10 * len(controls)

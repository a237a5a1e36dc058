"""One rule, one place (issue 16, closing review): each rule the report and its validation share lives once.

* the pooled real controls count each person once (``pool_real_controls``), and are built from the recordings'
  own values by the rule every set uses, so that the pool without one person is the pool of the sets without them;
* the step-scatter t the rules use is ``step_welch_t`` (the findings validation quotes the same function);
* the antalgic-gait rule and the force-only note of a load asymmetry read one stance-time test
  (``_stance_difference``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from insole.report import _findings
from insole.report._findings import evaluate, step_welch_t
from insole.report._metrics import session_metrics
from insole.report._reference import (
    POOLED_CONTROLS,
    load_reference_sets,
    pool_real_controls,
    reference_set_for,
)
from insole.simulate import SimulationParams, simulate


def _layout_sets() -> list:
    return [ref for ref in load_reference_sets() if ref.kind == "real" and ref.layouts]


def test_no_person_is_in_two_layouts_controls_and_the_pool_counts_people():
    parts = _layout_sets()
    assert sorted(ref.name for ref in parts) == ["real-controls-footswitch1", "real-controls-gaitpdb8"]
    subjects = [str(r["subject"]).casefold() for ref in parts for r in ref.recordings]
    # every stored control has a subject id, and no id occurs twice, within a layout or across the two
    assert all(subjects) and len(set(subjects)) == len(subjects) == 37 + 9
    (stored,) = [ref for ref in load_reference_sets() if ref.name == POOLED_CONTROLS]
    assert stored.n_recordings == 46 and "n = 46 people" in stored.description
    # a per-foot timing measure holds one value per person, a regional share both feet of each person
    assert stored.foot["double_support_pct"].n == stored.foot["double_support_pct"].n_people == 46
    assert stored.foot["share_heel"].n_people == sum(ref.foot["share_heel"].n_people for ref in parts)


def test_the_pool_is_what_pooling_the_stored_layout_sets_makes():
    (stored,) = [ref for ref in load_reference_sets() if ref.name == POOLED_CONTROLS]
    pooled = pool_real_controls(_layout_sets())
    assert pooled.foot == stored.foot and pooled.session == stored.session
    assert [r["file"] for r in pooled.recordings] == [r["file"] for r in stored.recordings]


def test_the_pool_without_one_person_is_the_pool_of_the_sets_without_them():
    parts = _layout_sets()
    for subject in ("GaCo02", "control4"):
        left_out = pool_real_controls(parts).without_subject(subject)
        pooled_after = pool_real_controls([ref.without_subject(subject) for ref in parts])
        assert left_out.n_recordings == pooled_after.n_recordings == 45
        assert left_out.foot == pooled_after.foot and left_out.session == pooled_after.session


def test_pooling_refuses_a_subject_found_in_two_layouts():
    gaitpdb = reference_set_for(load_reference_sets(), "gaitpdb8", kind="real")
    assert gaitpdb is not None
    # a made-up second layout whose one control carries the id of a gaitpdb control
    other = dataclasses.replace(gaitpdb, name="real-controls-other", layouts=("other",),
                                recordings=(dict(gaitpdb.recordings[0], subject=" gaco01 "),))
    with pytest.raises(ValueError, match="subject  gaco01  is in real-controls-gaitpdb8 and in real-controls-other"):
        pool_real_controls([gaitpdb, other])


def test_step_welch_t_is_welchs_t_of_the_finite_steps():
    # means 2 and 5, variances 1 and 1, three steps each: t = -3 / sqrt(1/3 + 1/3)
    assert step_welch_t([1.0, 2.0, 3.0, math.nan], [4.0, 5.0, 6.0]) == pytest.approx(-3.0 / math.sqrt(2.0 / 3.0))
    assert math.isnan(step_welch_t([1.0], [2.0, 3.0]))
    # no scatter on either foot: infinite, with the sign of the difference
    assert step_welch_t([2.0, 2.0], [1.0, 1.0]) == math.inf
    assert step_welch_t([1.0, 1.0], [2.0, 2.0]) == -math.inf
    assert step_welch_t([1.0, 1.0], [1.0, 1.0]) == 0.0


def test_the_rule_quotes_the_t_of_step_welch_t():
    from insole.report._reference import foot_metric_values

    session = session_metrics(simulate(SimulationParams(pattern="hallux_offload", side="left", duration_s=60.0,
                                                        seed=100)))
    (finding,) = [f for f in evaluate(session).findings if f.code == "reduced_hallux_loading"]
    assert finding.side == "left"
    t = step_welch_t(foot_metric_values(session, "left")["share_hallux"],
                     foot_metric_values(session, "right")["share_hallux"])
    (other_foot,) = [c for c in finding.comparisons if c.frame == "other_foot"]
    assert f"(t = {t:+.1f})" in other_foot.description


def test_antalgic_rule_and_force_only_note_read_one_stance_test(monkeypatch):
    # the simulator's antalgic walk: a shorter stance and less load on the spared (left) foot
    session = session_metrics(simulate(SimulationParams(pattern="antalgic", side="left", duration_s=60.0, seed=5)))
    found = {f.code: f for f in evaluate(session).findings}
    assert "antalgic_gait" in found and not found["load_asymmetry"].notes
    stance = _findings._stance_difference(session, "left", _findings.FindingParams(), None)
    assert stance.differs and stance.si_pct < 0 and stance.t < 0
    assert stance.si_pct == pytest.approx(_findings._si(stance.this[0], stance.other[0]))

    # the same walk with the stance test made to say "alike": the antalgic rule no longer fires and the load
    # asymmetry names the other reading, both from that one test
    real = _findings._stance_difference

    def alike(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), differs=False)

    monkeypatch.setattr(_findings, "_stance_difference", alike)
    found = {f.code: f for f in evaluate(session).findings}
    assert "antalgic_gait" not in found
    assert any("the difference is in force only" in n for n in found["load_asymmetry"].notes)


def test_the_stance_test_is_symmetric_between_the_feet():
    session = session_metrics(simulate(SimulationParams(pattern="antalgic", side="right", duration_s=60.0, seed=6)))
    params = _findings.FindingParams()
    right = _findings._stance_difference(session, "right", params, None)
    left = _findings._stance_difference(session, "left", params, None)
    assert right.differs == left.differs
    np.testing.assert_allclose([right.si_pct, right.t], [-left.si_pct, -left.t], rtol=1e-12)


def test_an_infinite_t_is_no_stance_difference(monkeypatch):
    """With no step-to-step scatter on either foot the t of the stance times is infinite (signed): no evidence of a
    difference, as in the foot rules and the load-asymmetry rule, which all need a finite t."""
    session = session_metrics(simulate(SimulationParams(pattern="antalgic", side="right", duration_s=60.0, seed=6)))
    params = _findings.FindingParams()
    assert _findings._stance_difference(session, "right", params, None).differs  # the simulated antalgic walk
    monkeypatch.setattr(_findings, "_t", lambda a, b: -math.inf)
    assert not _findings._stance_difference(session, "right", params, None).differs

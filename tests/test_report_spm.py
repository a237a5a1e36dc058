"""Where in stance the feet differ: statistical parametric mapping of the left and right stance force curves."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
from markupsafe import escape

import insole
from insole.report._spm import compare_stance_force

pytest.importorskip("spm1d")


def _scaled(recording, side: str, sensors: list[int], factor: float, to: list[int] | None = None):
    """``recording`` with ``side``'s ``sensors`` scaled by ``factor`` (the load taken off moved to ``to``)."""
    foot = recording.samples(side)
    values = np.array(foot.values, dtype=np.float64)
    taken = (1.0 - factor) * values[:, sensors]
    values[:, sensors] -= taken
    if to:
        values[:, to] += taken.sum(axis=1, keepdims=True) / len(to)
    return recording.replace(**{side: dataclasses.replace(foot, values=values.astype(np.float32))})


def test_spm_shows_where_in_stance_the_feet_differ(shared_data):
    """A quarter of one foot's load taken off at every sample: SPM finds the other foot higher all through stance;
    load moved within the foot (heel to forefoot) leaves the foot's total, hence its force curve, as it was."""
    recording = insole.load(shared_data / "gaitpdb" / "SiCo01_01.txt")
    lighter = _scaled(recording, "left", list(range(8)), 0.75)
    result = compare_stance_force(lighter, insole.analyze(lighter))
    assert result.done and min(result.n_left, result.n_right) >= 80
    assert len(result.clusters) == 1
    (cluster,) = result.clusters
    assert cluster.higher == "right" and cluster.start_pct == 0.0 and cluster.end_pct == 100.0
    assert cluster.p < 0.001
    unchanged = compare_stance_force(recording, insole.analyze(recording))
    moved = _scaled(recording, "left", [0, 1, 2], 0.5, to=[5, 6, 7])
    within = compare_stance_force(moved, insole.analyze(moved))
    assert [c.to_dict() for c in within.clusters] == [c.to_dict() for c in unchanged.clusters]


def test_spm_needs_calibrated_forces(shared_data):
    recording = insole.load(shared_data / "gaitndd" / "control1.hea")  # foot switches, arbitrary units
    assert recording.unit == "au"
    result = compare_stance_force(recording, insole.analyze(recording))
    assert not result.done and "calibrated" in (result.reason or "") and result.clusters == ()


# ---------------------------------------------------------------- on the report page


def _covered(clusters) -> float:
    """Per cent of stance inside the clusters."""
    return sum(c["end_pct"] - c["start_pct"] for c in clusters)


@pytest.fixture(scope="module")
def simulated():
    """60 s of the simulator's normal walker (kPa, both feet): about 50 used steps a foot."""
    from insole.simulate import SimulationParams, simulate

    return simulate(SimulationParams(duration_s=60.0, seed=16))


def test_the_report_shows_where_the_feet_differ(simulated):
    """A quarter of the left foot's pressure taken off at every sample: the report's SPM (computed once, in
    build_report) finds the right foot higher through the whole stance, and the page draws it and says so."""
    from insole.report import build_report, render_html

    lighter = _scaled(simulated, "left", list(range(simulated.layout.n_sensors)), 0.75)
    report = build_report(lighter, generated_at="2026-12-06T00:00:00Z")
    spm = report.to_dict()["stance_force_spm"]
    assert spm["reason"] is None and min(spm["n"].values()) >= 40
    # right higher all through stance except its first few per cent: at heel strike both feet carry almost
    # nothing, so a proportional change is there smaller than the step-to-step scatter (5 % allows for it)
    assert {c["higher"] for c in spm["clusters"]} == {"right"}
    assert _covered(spm["clusters"]) >= 95.0 and spm["clusters"][-1]["end_pct"] == 100.0
    assert max(c["p"] for c in spm["clusters"] if c["end_pct"] - c["start_pct"] > 50) < 0.001
    assert "right higher at " in spm["sentence"] and "left higher" not in spm["sentence"]
    page = render_html(report)
    assert 'id="fig-stance-spm"' in page and str(escape(spm["sentence"])) in page
    assert "Where in stance the feet differ: not shown" not in page
    # the figure's mean curves are the two feet's own: the left one three quarters of the right (same walker)
    ratio = np.mean(report.stance_spm.mean_second) / np.mean(report.stance_spm.mean_first)
    assert ratio == pytest.approx(0.75, abs=0.03)  # the feet of one simulated walker differ by a few per cent
    # each stretch's label is written in the colour of the foot that is higher there (the right foot's)
    from insole.plot import SIDE_COLOURS
    from insole.report._spm import spm_figure

    labels = spm_figure(report.stance_spm).layout.annotations
    assert labels and {a.font.color for a in labels} == {SIDE_COLOURS["right"]}


def test_the_report_says_why_there_is_no_spm(simulated, monkeypatch):
    """Without spm1d the page gives the reason in one line, and draws no empty figure."""
    from insole.report import build_report, render_html

    monkeypatch.setitem(sys.modules, "spm1d", None)  # ``import spm1d`` now raises ImportError
    report = build_report(simulated)
    spm = report.to_dict()["stance_force_spm"]
    assert spm["clusters"] == [] and "spm1d package is not installed" in spm["reason"]
    page = render_html(report)
    assert 'id="fig-stance-spm"' not in page
    assert page.count("Where in stance the feet differ: not shown for this recording: the optional spm1d") == 1


def test_the_report_gives_no_spm_for_uncalibrated_feet(shared_data):
    from insole.report import build_report, render_html

    report = build_report(insole.load(shared_data / "gaitndd" / "control1.hea"))
    page = render_html(report)
    assert 'id="fig-stance-spm"' not in page
    assert "Where in stance the feet differ: not shown for this recording: the forces are not calibrated" in page


def test_baseline_spm_finds_the_changed_foot_only(simulated):
    """The same walk as baseline, then the left foot a quarter lighter: the left foot's curve is lower than the
    baseline's all through stance; the right foot, untouched, does not differ anywhere."""
    from insole.report import build_report, render_html

    lighter = _scaled(simulated, "left", list(range(simulated.layout.n_sensors)), 0.75)
    report = build_report(lighter, baseline=simulated)
    spm = report.to_dict()["baseline"]["stance_force_spm"]
    assert {c["higher"] for c in spm["left"]["clusters"]} == {"baseline"}
    assert _covered(spm["left"]["clusters"]) >= 95.0  # as above: little load at heel strike
    assert spm["right"]["reason"] is None and spm["right"]["clusters"] == []
    page = render_html(report)
    assert 'id="fig-baseline-spm-left"' in page and 'id="fig-baseline-spm-right"' in page
    assert "did not differ anywhere in stance" in page and "judges whether a change is real" in page


def test_a_long_walk_compares_at_most_max_spm_steps_evenly_spaced_and_says_so():
    """spm1d's cost grows steeply with the steps: 600 and 300 steps become 250 each, spread over the walk."""
    pytest.importorskip("spm1d")
    from insole.report._spm import MAX_SPM_STEPS, _evenly_spaced, compare_curves

    assert MAX_SPM_STEPS == 250
    rows = np.arange(600, dtype=float)[:, None] * np.ones((1, 101))
    kept, available = _evenly_spaced(rows)
    assert available == 600 and kept.shape == (250, 101)
    assert kept[0, 0] == 0.0 and kept[-1, 0] == 599.0  # the first and last steps are kept
    assert np.all(np.diff(kept[:, 0]) >= 2.0)  # every step at most once, spread over the whole walk
    assert _evenly_spaced(rows[:250])[1] is None  # 250 or fewer: all of them

    rng = np.random.default_rng(3)
    shape = np.sin(np.linspace(0, np.pi, 101)) * 700.0
    right = shape + rng.normal(0, 20, (600, 101))
    left = shape + rng.normal(0, 20, (300, 101))
    found = compare_curves(right, left, ("right", "left"), unit="N")
    assert (found.n_first, found.n_second, found.available_first, found.available_second) == (250, 250, 600, 300)
    assert found.to_dict()["available"] == {"right": 600, "left": 300}
    assert found.sentence().startswith("Over 250 of 600 right and 250 of 300 left steps (evenly spaced across the "
                                       "walk: at most 250 per group are compared)")
    few = compare_curves(right[:40], left[:30], ("right", "left"), unit="N")
    assert few.available_first is None and few.sentence().startswith("Over 40 right and 30 left steps")

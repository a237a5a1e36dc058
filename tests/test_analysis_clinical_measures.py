"""Where in stance the feet differ: statistical parametric mapping of the left and right stance force curves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import insole
from insole.analysis._clinical_measures import compare_stance_force

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

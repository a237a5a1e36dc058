"""Known-answer tests of the gait simulator (insole._simulate)."""

from __future__ import annotations

import numpy as np

from insole._simulate import SimulationParams, simulate


def test_normal_walk_has_stored_answer():
    recording = simulate(SimulationParams(duration_s=30.0, seed=1))
    truth = recording.meta.extra["simulation"]
    assert truth["pattern"] == "normal"
    assert recording.reference_events.source == "insole simulator"
    assert len(recording.reference_events.heel_strike_s["left"]) >= 25
    assert np.all(recording.left.values >= 0)

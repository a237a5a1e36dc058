"""The body weight from a body mass is one rule (``_session.weight_from_mass``), read by ``body_weight`` and, ahead
of it, by the streamed analysis (task S9-IO: the streamed analysis restated it before)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import insole
from insole.analysis import STANDARD_GRAVITY_M_S2, AnalysisParams
from insole.analysis._session import weight_from_mass
from insole.simulate import SimulationParams, simulate


def _feet(*units: str) -> Any:
    """A recording and its loads as ``weight_from_mass`` reads them: the feet's force units, the stated mass."""
    sides = ("left", "right")[:len(units)]
    recording = SimpleNamespace(sides=sides, meta=SimpleNamespace(body_mass_kg=70.0))
    return cast(Any, recording), {side: cast(Any, SimpleNamespace(force_unit=unit)) for side, unit in zip(sides, units)}


def test_the_mass_gives_the_weight_only_for_calibrated_forces() -> None:
    recording, loads = _feet("N", "N")
    assert weight_from_mass(recording, loads, AnalysisParams()) == (70.0, "N", 70.0 * STANDARD_GRAVITY_M_S2)
    # the parameters' mass before the recording's
    assert weight_from_mass(recording, loads, AnalysisParams(body_mass_kg=82.5)) == \
        (82.5, "N", 82.5 * STANDARD_GRAVITY_M_S2)
    # one foot uncalibrated: the forces are a scale, not newtons; no weight from the mass
    recording, loads = _feet("N", "au")
    assert weight_from_mass(recording, loads, AnalysisParams()) == (70.0, "au", None)
    # one foot, no mass anywhere
    recording, loads = _feet("N")
    recording.meta.body_mass_kg = None
    assert weight_from_mass(recording, loads, AnalysisParams()) == (None, "N", None)


def test_body_weight_and_the_streamed_analysis_take_it(tmp_path: Path) -> None:
    walk = simulate(SimulationParams(duration_s=12.0, seed=8))
    walk = walk.replace(meta=dataclasses.replace(walk.meta, body_mass_kg=64.0))
    path = insole.write_parquet(walk, tmp_path / "walk.parquet")
    expected = 64.0 * STANDARD_GRAVITY_M_S2
    for analysis in (insole.analyze(walk), insole.analyze(path)):
        weight = analysis.summary.body_weight
        assert weight["method"] == "mass" and weight["value"] == expected

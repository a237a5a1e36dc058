"""``analyze`` checks its ``params`` once, before it chooses the streamed reader or the pipeline (task S9-IO)."""

from __future__ import annotations

from pathlib import Path

import pytest

import insole
from insole import AnalysisError
from insole.simulate import SimulationParams, simulate


@pytest.fixture(scope="module")
def walk() -> insole.Recording:
    return simulate(SimulationParams(duration_s=6.0, seed=3))


def test_params_of_another_type_are_refused_for_a_recording(walk: insole.Recording) -> None:
    with pytest.raises(AnalysisError, match="^params must be AnalysisParams, not dict$"):
        insole.analyze(walk, {"event_method": "level"})  # type: ignore[arg-type]


def test_params_of_another_type_are_refused_for_a_file_before_it_is_read(tmp_path: Path) -> None:
    # the file does not exist: the parameters are refused before anything opens it
    with pytest.raises(AnalysisError, match="^params must be AnalysisParams, not str$"):
        insole.analyze(tmp_path / "absent.parquet", "level")  # type: ignore[arg-type]


def test_a_file_and_a_recording_analysed_without_params_use_the_defaults(
        walk: insole.Recording, tmp_path: Path) -> None:
    path = tmp_path / "walk.parquet"
    insole.write_parquet(walk, path)
    assert insole.analyze(path).params == insole.AnalysisParams()
    assert insole.analyze(walk).params == insole.AnalysisParams()

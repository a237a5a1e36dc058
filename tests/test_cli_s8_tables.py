"""Issue 19, task S8 item 5: the tables folder carries what the JSON's summary carries.

``insole analyze --tables DIR`` lacked the body weight the BW values were divided by and the standing split
(``summary.body_weight``, ``summary.standing`` of the JSON): now ``summary_body_weight.parquet`` and
``summary_standing.parquet``. Counts stay integers (``strides_used_*`` was a double in ``summary.parquet``).
Each table is compared with the JSON written in the same run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import insole
from insole._cli import main
from insole.simulate import SimulationParams, simulate


def _run(tmp_path: Path, recording: insole.Recording, *extra: str) -> tuple[dict, Path]:
    path = tmp_path / "walk.parquet"
    insole.write_parquet(recording, path)
    assert main(["analyze", str(path), "--json", str(tmp_path / "a.json"), "--tables", str(tmp_path / "t"),
                 *extra]) == 0
    return json.loads((tmp_path / "a.json").read_text())["summary"], tmp_path / "t"


def _same(table_value: object, json_value: object) -> bool:
    """A Parquet cell equals the JSON's value: the JSON writes NaN as null."""
    if json_value is None:
        return table_value is None or table_value is pd.NA or (isinstance(table_value, float)
                                                               and math.isnan(table_value))
    return bool(table_value == json_value)


@pytest.fixture(scope="module")
def standing_walk(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    # 8 s standing at each end, 24 s walking between: a standing split and a body weight from the mass (72 kg)
    recording = simulate(SimulationParams(duration_s=40.0, seed=2, standing_s=8.0, body_mass_kg=72.0))
    summary, folder = _run(tmp_path_factory.mktemp("standing"), recording)
    assert summary["standing"] and summary["standing"]["segments"]  # the recording is what the tests need
    return summary, folder


def test_the_body_weight_table_is_the_jsons_body_weight(standing_walk: tuple[dict, Path]) -> None:
    summary, folder = standing_walk
    table = pd.read_parquet(folder / "summary_body_weight.parquet")
    assert len(table) == 1
    row = table.iloc[0]
    expected = dict(summary["body_weight"])
    low, high = expected.pop("plausible_load_to_body_weight_ratio")
    assert (row["plausible_load_to_body_weight_ratio_low"], row["plausible_load_to_body_weight_ratio_high"]) == (
        low, high)
    assert set(table.columns) == set(expected) | {"plausible_load_to_body_weight_ratio_low",
                                                  "plausible_load_to_body_weight_ratio_high"}
    for key, value in expected.items():
        assert _same(row[key], value), key
    assert row["method"] == "mass" and row["mass_kg"] == 72.0 and row["unit"] == "N"
    assert row["value"] == pytest.approx(72.0 * 9.80665)  # the value the BW columns were divided by


def test_the_standing_table_is_the_jsons_standing(standing_walk: tuple[dict, Path]) -> None:
    summary, folder = standing_walk
    standing = summary["standing"]
    table = pd.read_parquet(folder / "summary_standing.parquet")
    assert table[["start_s", "end_s"]].to_dict("records") == standing["segments"]
    for key, value in standing.items():
        if key != "segments":
            assert all(_same(cell, value) for cell in table[key]), key
    assert set(table.columns) == {"start_s", "end_s"} | (set(standing) - {"segments"})


def test_counts_stay_integers_in_the_summary_table(standing_walk: tuple[dict, Path]) -> None:
    summary, folder = standing_walk
    table = pd.read_parquet(folder / "summary.parquet")
    for side in ("left", "right"):
        assert table[f"strides_used_{side}"].dtype == "int64"
        assert int(table.at[0, f"strides_used_{side}"]) == summary["strides_used"][side]
    assert table["cadence_steps_per_min"].dtype == "float64"


def test_the_summary_columns_follow_the_naming_rule(standing_walk: tuple[dict, Path]) -> None:
    summary, folder = standing_walk
    table = pd.read_parquet(folder / "summary.parquet")
    expected = {"cadence_steps_per_min"}
    for key, value in summary.items():
        if isinstance(value, dict) and key not in ("body_weight", "standing", "per_foot", "symmetry"):
            expected |= {f"{key}_{inner}" for inner in value}
    assert set(table.columns) == expected
    for key in summary["timing_variability"]:
        assert _same(table.at[0, f"timing_variability_{key}"], summary["timing_variability"][key])


def test_without_standing_the_standing_table_has_no_rows_and_the_load_body_weight_no_mass(tmp_path: Path) -> None:
    recording = simulate(SimulationParams(duration_s=20.0, seed=4))
    recording = recording.with_meta(body_mass_kg=None)  # the body weight from the walking load: no mass
    summary, folder = _run(tmp_path, recording)
    standing = pd.read_parquet(folder / "summary_standing.parquet")
    assert summary["standing"] is None or not summary["standing"].get("segments")
    assert list(standing.columns) == ["start_s", "end_s"] and len(standing) == 0
    body_weight = pd.read_parquet(folder / "summary_body_weight.parquet")
    assert body_weight["mass_kg"].dtype == "float64" and body_weight["note"].dtype == "string"
    assert _same(body_weight.at[0, "value"], summary["body_weight"]["value"])


def test_the_tables_json_lists_the_new_tables(standing_walk: tuple[dict, Path]) -> None:
    _, folder = standing_walk
    manifest = json.loads((folder / "tables.json").read_text())
    assert {"summary_body_weight", "summary_standing"} <= set(manifest["tables"])

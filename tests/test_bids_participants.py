"""BIDS export: participants.tsv carries the age, sex, height and body mass the recording's metadata give.

A new user exported gaitpdb-cohort walks (whose files carry the study's demographics) and found only the body
mass in participants.tsv. Age, sex and height now come from the same metadata the report shows ("n/a" where the
file gives none), and participants.json describes each column with its unit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _data import missing_reason, shared_data_dir

import insole
from insole.io import BidsExportParams, write_bids
from insole.simulate import SimulationParams, simulate

COHORT = shared_data_dir() / "gaitpdb-cohort"
pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or "")


def _participants(folder: Path) -> list[dict[str, str]]:
    return pd.read_csv(folder / "participants.tsv", sep="\t", dtype=str, keep_default_na=False).to_dict("records")


def test_participants_carry_age_sex_height_and_weight_from_the_files(tmp_path: Path) -> None:
    # demographics.txt of gaitpdb: GaCo04 male, 86 years, 1.66 m, 65 kg; GaPt23 female, 71 years, 1.60 m, weight NaN
    write_bids(insole.load(COHORT / "GaCo04_01.txt"), tmp_path, input_path=COHORT / "GaCo04_01.txt")
    write_bids(insole.load(COHORT / "GaPt23_01.txt"), tmp_path, input_path=COHORT / "GaPt23_01.txt")
    simulated = simulate(SimulationParams(duration_s=10.0, standing_s=1.0, turns=0, seed=2))  # no demographics
    write_bids(simulated, tmp_path, BidsExportParams(subject="sim2"))
    assert _participants(tmp_path) == [
        {"participant_id": "sub-GaCo04", "age": "86", "sex": "male", "height": "1.66", "weight": "65.0",
         "source_subject_id": "GaCo04"},
        {"participant_id": "sub-GaPt23", "age": "71", "sex": "female", "height": "1.6", "weight": "n/a",
         "source_subject_id": "GaPt23"},
        {"participant_id": "sub-sim2", "age": "n/a", "sex": "n/a", "height": "n/a", "weight": "70.0",
         "source_subject_id": "sim-2"},
    ]
    described = json.loads((tmp_path / "participants.json").read_text())
    assert described["age"]["Units"] == "year" and described["height"]["Units"] == "m"
    assert described["weight"]["Units"] == "kg" and set(described["sex"]["Levels"]) == {"male", "female"}
    assert all("n/a" in described[c]["Description"] for c in ("age", "sex", "height"))


def test_an_older_dataset_gains_the_columns_with_n_a_for_its_rows(tmp_path: Path) -> None:
    # a dataset written before these columns existed: its rows are never changed, the new columns read n/a there
    (tmp_path / "participants.tsv").write_text("participant_id\tweight\tsource_subject_id\nsub-old\t80.0\told\n")
    write_bids(insole.load(COHORT / "GaCo04_01.txt"), tmp_path, input_path=COHORT / "GaCo04_01.txt")
    rows = _participants(tmp_path)
    assert rows[0] == {"participant_id": "sub-old", "weight": "80.0", "source_subject_id": "old", "age": "n/a",
                       "sex": "n/a", "height": "n/a"}
    assert rows[1]["age"] == "86" and rows[1]["sex"] == "male"

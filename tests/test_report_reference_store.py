"""The stored reference sets are JSON data: canonical on disk, read back to exactly what was written.

(The sets moved from the generated module ``_reference_data.py`` to JSON unchanged: the commit that added the
JSON files tested them bit for bit against that module before it was deleted.)
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from insole.report._reference import (
    REFERENCE_SCHEMA_VERSION,
    build_simulated_normal,
    load_reference_sets,
    reference_set_from_json,
    reference_set_json,
    write_reference_sets,
)


def _stored_files() -> list:
    folder = resources.files("insole.report").joinpath("_data", "reference_sets")
    return sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)


def test_the_package_ships_the_real_and_the_simulated_sets():
    sets = load_reference_sets()
    assert [s.name for s in sets] == ["real-controls-footswitch1", "real-controls-gaitpdb8", "real-controls-pooled",
                                      "simulated-normal-insole16"]
    assert [s.kind for s in sets] == ["real", "real", "real", "simulated"]
    # 9 gaitndd controls, 37 gaitpdb controls (one usual walk per person; JuCo26_01, the bytes of JuPt01_01, left
    # out), the two pooled, 100 simulated subjects
    assert [s.n_recordings for s in sets] == [9, 37, 46, 100]
    assert [s.layouts for s in sets] == [("footswitch1",), ("gaitpdb8",), (), ("insole16",)]
    assert sets[3].foot_metric("share_heel").n == 200  # both feet of each simulated subject


def test_the_real_layout_sets_say_who_is_in_them_and_leave_failed_weights_out_of_forces():
    gaitpdb = next(s for s in load_reference_sets() if s.name == "real-controls-gaitpdb8")
    people = gaitpdb.recordings
    assert len({r["subject"] for r in people}) == 37  # one file per subject
    assert all(r["file"].endswith("_01.txt") and r["group"] == "control" for r in people)
    assert all(r["age_years"] is not None and r["sex"] in ("male", "female") for r in people)
    failed = [r for r in people if r["body_weight_check"] != "passed"]
    passed = [r for r in people if r["body_weight_check"] == "passed"]
    assert failed and passed
    assert all(not 0.8 <= r["load_to_body_weight_ratio"] <= 1.2 for r in failed)
    # metrics in body weights come from the feet of the recordings that passed only; shares from every foot
    assert gaitpdb.foot["f1"].n == 2 * len(passed)
    assert gaitpdb.foot["share_heel"].n == 2 * 37
    document = json.loads(next(e for e in _stored_files() if e.name == "real-controls-gaitpdb8.json").read_text())
    stored = document["reference_set"]["percentiles"]["foot"]["share_heel"]
    assert stored["n"] == 74 and stored["p2_5"] <= stored["median"] <= stored["p97_5"]


@pytest.mark.parametrize("entry", _stored_files(), ids=lambda e: e.name)
def test_stored_files_are_in_canonical_form(entry):
    """A hand edit that breaks the sorted, one-value-a-line layout (or a stale schema) shows here."""
    text = entry.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["schema_version"] == REFERENCE_SCHEMA_VERSION
    assert set(document["built"]) == {"command", "at"}
    assert entry.name == document["reference_set"]["name"] + ".json"
    assert reference_set_json(reference_set_from_json(text), document["built"]) == text


def test_write_then_load_gives_the_same_set(tmp_path):
    built = build_simulated_normal("insole16", seeds=(10_000, 10_001, 10_002), duration_s=20.0)
    (path,) = write_reference_sets([built], tmp_path, command="test")
    assert path == tmp_path / "simulated-normal-insole16.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["built"]["command"] == "test" and document["built"]["at"].endswith("Z")
    again = reference_set_from_json(path.read_text(encoding="utf-8"))
    assert again == built
    assert again.foot_metric("share_heel").values == built.foot_metric("share_heel").values
    assert again.n_recordings == 3


def test_an_unknown_schema_version_is_refused():
    text = _stored_files()[0].read_text(encoding="utf-8")
    document = json.loads(text)
    document["schema_version"] = REFERENCE_SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="schema_version"):
        reference_set_from_json(json.dumps(document))

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


def test_the_package_ships_the_real_and_the_simulated_set():
    sets = load_reference_sets()
    assert [s.name for s in sets] == ["physionet-controls", "simulated-normal-insole16"]
    assert [s.kind for s in sets] == ["real", "simulated"]
    assert [s.n_recordings for s in sets] == [5, 100]
    assert sets[1].foot_metric("share_heel").n == 200  # both feet of each simulated subject


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

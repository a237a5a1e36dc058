"""The stored reference sets are JSON data: canonical on disk, read back to exactly what was written."""

from __future__ import annotations

import json

import pytest

from insole.report._reference import (
    REFERENCE_SCHEMA_VERSION,
    build_simulated_normal,
    load_reference_sets,
    reference_set_from_json,
    reference_set_json,
    write_reference_sets,
)


def test_json_store_holds_exactly_the_sets_of_the_python_module():
    """One-off: the JSON files carry the same sets the generated module held (removed with the module)."""
    from insole.report._reference_data import REFERENCE_SETS
    from insole.report._reference import _from_stored

    before = tuple(_from_stored(d) for d in REFERENCE_SETS)
    after = load_reference_sets()
    assert [s.name for s in after] == ["physionet-controls", "simulated-normal-insole16"]
    assert after == before
    # exactly: same floats bit for bit, not merely close
    for old, new in zip(before, after):
        for metric, dist in old.foot.items():
            assert [v.hex() for v in new.foot[metric].values] == [v.hex() for v in dist.values]

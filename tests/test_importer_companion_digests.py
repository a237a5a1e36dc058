"""A gaitndd recording's provenance fingerprints the files that hold its data, not only its header.

The header (.hea) is ~120 bytes naming the signal files; the left and right signals (.let, .rit) and the
laboratory's stride table (.ts) are the data. Known answer: PhysioNet publishes the SHA-256 of each file
(SHA256SUMS.txt, shipped beside the records), so the digests in the provenance must equal those.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _data import shared_data_dir

import insole

GAITNDD = shared_data_dir() / "gaitndd"


def _published_digests(folder: Path) -> dict[str, str]:
    digests = {}
    for line in (folder / "SHA256SUMS.txt").read_text().splitlines():
        digest, _, name = line.partition(" ")
        digests[name.strip().lstrip("*")] = digest
    return digests


@pytest.mark.parametrize("record", ["als1", "control1", "hunt1", "park1"])
def test_gaitndd_provenance_holds_the_published_digest_of_each_data_file(record: str) -> None:
    if not (GAITNDD / f"{record}.hea").exists():
        pytest.skip(f"{GAITNDD} is not staged beside the repository")
    source = insole.load(GAITNDD / f"{record}.hea").meta.source
    published = _published_digests(GAITNDD)
    assert source["companions"] == [f"{record}.let", f"{record}.rit", f"{record}.ts"]
    assert source["companions_sha256"] == {name: published[name] for name in source["companions"]}
    assert source["sha256"] == published[f"{record}.hea"]

"""`insole.io.provenance` (name, size and SHA-256 of an input) without importing every importer.

`insole analyze` of our Parquet file records the file it read (``analysed_file``: its SHA-256) on a thread
beside its imports. The digest used to come from the importers' helpers, so that thread imported every
importer: 40-90 ms of Python holding the interpreter lock the command's own imports needed (issue 19: the
hour's command 0.075 s faster without it). The public function now lives with ``load``; it must give exactly
what the importers' own ``provenance`` gives, and calling it must not import them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import insole.io
from insole.io._importers._table import provenance as importers_provenance

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["gaitpdb_GaCo01_01_60s.parquet", "moticon_230927_102114.parquet"])
def test_the_same_record_as_the_importers_give(name: str, tmp_path: Path) -> None:
    path = REPO / "recordings" / name
    assert importers_provenance is insole.io.provenance  # one function: the importers' name for it
    assert insole.io.provenance(path, "parquet") == importers_provenance(path, "parquet")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert insole.io.provenance(empty, "x") == importers_provenance(empty, "x")
    assert insole.io.provenance(empty, "x")["sha256"] == (  # the SHA-256 of nothing
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_the_digest_imports_no_importer() -> None:
    code = ("import sys\nfrom pathlib import Path\nfrom insole.io import provenance\n"
            "record = provenance(Path(sys.argv[1]), 'parquet')\n"
            "print(record['size_bytes'], any(m.startswith('insole.io._importers') for m in sys.modules))")
    path = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(path.stat().st_size), "False"]

"""What a new user found wrong in ``insole batch`` in session 10, each pinned by the outcome they checked.

1. A folder or file that does not exist and a glob that matches nothing ran a batch of "1 recording: 0 analysed,
   1 failed" (exit 1, a progress bar, ``<out>.errors.csv``), and the errors table left behind refused the corrected
   re-run. Now: one line naming the input, exit 2, nothing written. A recording that exists but cannot be read stays
   a failed recording (exit 1, errors table), also on its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _data import shared_data_dir

from insole import InputError
from insole.batch import run_batch

SHARED = shared_data_dir()
BIN = Path(sys.executable).parent
WALK = SHARED / "moticon-opengo" / "walk_data_with_events" / "text_export.txt"  # a 5 s Moticon walk


def _insole(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "insole"), *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def _files(folder: Path) -> list[str]:
    """Every entry below ``folder`` (hidden ones too: the cache is .insole-cache), relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# ---------------------------------------------------------------- 1. inputs that name nothing


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("missing_dir", "no such file or folder"),
        ("missing.txt", "no such file or folder"),
        ("nomatch*.txt", "no file matches this pattern"),
    ],
)
def test_an_input_that_names_nothing_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, given: str, reason: str
) -> None:
    done = _insole("batch", given, "--out", "c.parquet", cwd=tmp_path)  # cache on, progress bar on: the defaults
    assert done.returncode == 2
    assert done.stderr == f"insole batch: error: {given}: {reason}; nothing was analysed\n"
    assert _files(tmp_path) == []  # no errors table, no cache folder
    # so the corrected command needs no --force
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "notes.txt").write_text("not a recording\n")
    again = _insole("batch", "recordings", "--out", "c.parquet", cwd=tmp_path)
    assert again.stderr == "insole batch: error: recordings: no supported recordings found\n"


def test_a_missing_input_beside_real_ones_stops_the_batch_before_any_work(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(WALK, folder)
    done = _insole("batch", "study", "stdy", "other*.txt", "--out", "c.parquet", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "insole batch: error: stdy: no such file or folder (nor is there anything at "
        "'other*.txt'); nothing was analysed\n"
    )
    assert _files(tmp_path) == ["study", "study/text_export.txt"]
    # the same from Python: an InputError before anything is written
    with pytest.raises(InputError, match=r"stdy: no such file or folder"):
        run_batch([folder, tmp_path / "stdy"], tmp_path / "c.parquet", progress=False)
    assert _files(tmp_path) == ["study", "study/text_export.txt"]


def test_an_unreadable_recording_named_alone_is_a_failed_recording(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    done = _insole("batch", "empty.txt", "--out", "c.parquet", "--no-cache", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    # no progress bar over nothing: the summary line first, then the failure
    assert lines[0].startswith("insole batch: 1 recording: 0 analysed, 1 failed in ")
    assert lines[1:] == [f"  failed: {tmp_path / 'empty.txt'}: file is empty"]
    errors = pd.read_csv(tmp_path / "c.errors.csv")
    assert errors[["recording_id", "stage", "error_type", "reason"]].values.tolist() == [
        ["empty", "discover", "MalformedFileError", "file is empty"]
    ]
    assert _files(tmp_path) == ["c.errors.csv", "empty.txt"]

"""What a new user found wrong in ``insole batch`` in session 10, each pinned by the outcome they checked.

1. A folder or file that does not exist and a glob that matches nothing ran a batch of "1 recording: 0 analysed,
   1 failed" (exit 1, a progress bar, ``<out>.errors.csv``), and the errors table left behind refused the corrected
   re-run. Now: one line naming the input, exit 2, nothing written. A recording that exists but cannot be read stays
   a failed recording (exit 1, errors table), also on its own.
2. Byte-identical copies of one recording (good.parquet, g2.parquet, td/strides.parquet) were three rows without a
   word, weighting any cohort statistic. Now ``duplicate_of`` names the first of them in the others' rows, a note
   names the copies, and ``insole cohort`` counts each recording once.
3. The tables ``insole analyze --tables`` wrote into the studied folder became 11 failed recordings "not written by
   insole". Tables insole wrote (listed in the tables.json beside them; a batch's cohort table) are now skipped with
   a note, and named alone they are an error that says what they are.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _data import shared_data_dir

from insole import InputError
from insole.batch import CohortParams, compare_cohort, read_cohort, run_batch
from insole.batch._discover import Candidate, content_digest, content_files
from insole.batch._run import _recording_identity
from insole.io import load, write_parquet

SHARED = shared_data_dir()
BIN = Path(sys.executable).parent
WALK = SHARED / "moticon-opengo" / "walk_data_with_events" / "text_export.txt"  # a 5 s Moticon walk
NDD = SHARED / "gaitndd"  # PhysioNet records: .hea header, .let/.rit signals


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


# ---------------------------------------------------------------- 3. insole's own tables are not recordings


def test_tables_insole_wrote_in_the_folder_are_skipped_with_a_note_not_failed(tmp_path: Path) -> None:
    study = tmp_path / "study"
    study.mkdir()
    shutil.copy(WALK, study)
    # the tables of `insole analyze --tables` written into the folder being studied
    made = _insole("analyze", str(study / "text_export.txt"), "--tables", str(study))
    assert made.returncode == 0, made.stderr
    tables = sorted(p.name for p in study.glob("*.parquet"))
    assert len(tables) == 11 and "strides.parquet" in tables
    # a cohort table of an earlier batch under another name, in a subfolder
    (study / "earlier").mkdir()
    first = _insole(
        "batch",
        str(study / "text_export.txt"),
        "--out",
        str(study / "earlier" / "old.parquet"),
        "--quiet",
        "--no-cache",
    )
    assert first.returncode == 0, first.stderr
    # a recording saved under a table's name stays a recording
    (study / "copy").mkdir()
    write_parquet(load(WALK), study / "copy" / "strides.parquet")

    out = tmp_path / "cohort.parquet"
    done = _insole("batch", str(study), "--out", str(out), "--quiet", "--no-cache")
    assert done.returncode == 0, done.stderr
    cohort, provenance = read_cohort(out)
    assert sorted(cohort["path"]) == [str(study / "copy" / "strides.parquet"), str(study / "text_export.txt")]
    assert pd.read_csv(tmp_path / "cohort.errors.csv").empty
    assert provenance["insole_tables_skipped"] == 12
    notes = [line for line in done.stderr.splitlines() if line.startswith("  note: ")]
    assert len(notes) == 1, done.stderr
    assert notes[0].startswith("  note: 12 Parquet tables that insole wrote (")
    assert notes[0].endswith(f"were skipped: not recordings (in {study}, {study / 'earlier'})")

    # named on their own, each is an error that says what it is
    named = _insole(
        "batch",
        str(study / "strides.parquet"),
        str(study / "earlier" / "old.parquet"),
        "--out",
        str(tmp_path / "named.parquet"),
        "--quiet",
        "--no-cache",
    )
    assert named.returncode == 1
    errors = pd.read_csv(tmp_path / "named.errors.csv").set_index("recording_id")
    assert errors.loc["strides", "reason"] == (
        "is an analysis table written by insole (its strides table), not a recording"
    )
    assert errors.loc["old", "reason"] == "is a table written by insole batch (cohort or strides), not a recording"

    # a folder holding only insole's tables: nothing to analyse, and the line says why
    only = _insole("batch", str(study / "earlier"), "--out", str(tmp_path / "only.parquet"), "--quiet")
    assert only.returncode == 2
    assert only.stderr == (
        f"insole batch: error: {study / 'earlier'}: no supported recordings found "
        "(only 1 table that insole wrote: not recordings)\n"
    )


def test_an_analysis_table_copied_away_from_its_tables_json_is_still_known(tmp_path: Path) -> None:
    """A table of `insole analyze --tables` names itself in its Parquet metadata (``insole.table``): copied alone
    into another folder, without the tables.json that listed it, it is still skipped as insole's table (it was a
    failed "recording": "Parquet file was not written by insole")."""
    made = _insole("analyze", str(WALK), "--tables", str(tmp_path / "tables"))
    assert made.returncode == 0, made.stderr
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(tmp_path / "tables" / "strides.parquet", moved / "my_strides.parquet")
    original = pd.read_parquet(tmp_path / "tables" / "strides.parquet")
    assert pd.read_parquet(moved / "my_strides.parquet").equals(original)  # pandas reads the table as before
    only = _insole("batch", str(moved), "--out", str(tmp_path / "c.parquet"), "--quiet", "--no-cache")
    assert only.returncode == 2
    assert only.stderr == (
        f"insole batch: error: {moved}: no supported recordings found "
        "(only 1 table that insole wrote: not recordings)\n"
    )
    assert not (tmp_path / "c.parquet").exists() and not (tmp_path / "c.errors.csv").exists()


def test_analyze_and_info_name_a_copied_insole_table_for_what_it_is(tmp_path: Path) -> None:
    """A new user's finding (session 11): `insole analyze` and `insole info` of a copied analysis table, or of a
    batch's cohort table, said "Parquet file was not written by insole (no insole metadata)" although the file
    names its writer (``insole.table``, ``insole.batch``) and `insole batch` says what it is. Now they say it too."""
    made = _insole("analyze", str(WALK), "--tables", str(tmp_path / "tables"))
    assert made.returncode == 0, made.stderr
    copied = tmp_path / "strides_table.parquet"
    shutil.copy(tmp_path / "tables" / "strides.parquet", copied)
    cohort = tmp_path / "cohort.parquet"
    assert _insole("batch", str(WALK), "--out", str(cohort), "--quiet", "--no-cache").returncode == 0
    for path, what in ((copied, "is an analysis table written by insole (its strides table), not a recording"),
                       (cohort, "is a table written by insole batch (cohort or strides), not a recording")):
        for command in (["analyze", str(path)], ["info", str(path)]):
            done = _insole(*command)
            assert done.returncode == 2
            assert done.stderr == f"insole {command[0]}: error: {path}: Parquet file {what}\n", done.stderr
    # another writer's table keeps the plain refusal
    pd.DataFrame({"stride_time_s": [1.0, 1.1]}).to_parquet(tmp_path / "other.parquet")
    done = _insole("info", str(tmp_path / "other.parquet"))
    assert done.returncode == 2
    assert done.stderr.endswith("Parquet file was not written by insole (no insole metadata)\n"), done.stderr


def test_a_parquet_table_of_another_writer_is_still_an_error_row(tmp_path: Path) -> None:
    # not listed in an insole tables.json, no insole metadata: nothing says insole wrote it
    pd.DataFrame({"stride_time_s": [1.0, 1.1]}).to_parquet(tmp_path / "strides.parquet")
    shutil.copy(WALK, tmp_path)
    out = tmp_path / "out" / "c.parquet"
    out.parent.mkdir()
    done = _insole("batch", str(tmp_path), "--out", str(out), "--quiet", "--no-cache")
    assert done.returncode == 1
    errors = pd.read_csv(out.with_name("c.errors.csv"))
    assert errors[["path", "reason"]].values.tolist() == [
        [str(tmp_path / "strides.parquet"), "Parquet file was not written by insole (no insole metadata)"]
    ]


# ---------------------------------------------------------------- 2. copies of one recording


def _copy_record(name: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".hea", ".let", ".rit"):
        shutil.copy(NDD / f"{name}{suffix}", folder)
    shutil.copy(NDD / "subject-description.txt", folder)  # the subject facts (read by the importer)


def test_copies_of_a_recording_are_named_and_counted_once(tmp_path: Path) -> None:
    study = tmp_path / "study"
    (study / "a").mkdir(parents=True)
    shutil.copy(WALK, study / "a" / "walk.txt")
    (study / "b").mkdir()
    shutil.copy(WALK, study / "b" / "walk.txt")  # the same name in another folder
    shutil.copy(WALK, study / "b" / "renamed.txt")  # renamed
    _copy_record("control1", study / "ndd")
    _copy_record("control1", study / "ndd_copy")
    with open(study / "ndd_copy" / "subject-description.txt", "a") as table:  # another table: still a copy
        table.write("\n")
    _copy_record("hunt1", study / "ndd")  # a different record
    out = tmp_path / "cohort.parquet"
    done = _insole("batch", str(study), "--out", str(out), "--quiet", "--no-cache")
    assert done.returncode == 0, done.stderr
    cohort, provenance = read_cohort(out)
    a, b, renamed = (str(study / f) for f in ("a/walk.txt", "b/walk.txt", "b/renamed.txt"))
    c1, c1_copy = str(study / "ndd" / "control1.hea"), str(study / "ndd_copy" / "control1.hea")
    # rows in the table's order (recording_id, then path); the first of each set of copies has duplicate_of empty
    assert cohort[["path", "duplicate_of"]].values.tolist() == [
        [c1, ""],
        [c1_copy, c1],
        [str(study / "ndd" / "hunt1.hea"), ""],
        [renamed, ""],
        [a, renamed],
        [b, renamed],
    ]
    assert list(cohort.columns[cohort.columns.get_loc("size_bytes") :][:2]) == ["size_bytes", "duplicate_of"]
    assert provenance["duplicate_rows"] == 3
    notes = [line for line in done.stderr.splitlines() if line.startswith("  note: ")]
    assert notes == [
        f"  note: 3 recordings are copies of another in this batch, byte for byte (the same SHA-256): {c1_copy} of "
        f"{c1}; {a}, {b} of {renamed}. Each copy keeps its row, with duplicate_of naming the first; leave the rows "
        "with a duplicate_of out of a cohort statistic, or that recording counts more than once"
    ]
    # the copies' analyses are the same numbers (the same bytes, read alike)
    walks = cohort.set_index("path").loc[
        [renamed, a, b], ["left_strides_detected", "stride_time_s", "cadence_steps_per_min"]
    ]
    assert len(walks.drop_duplicates()) == 1

    # insole cohort counts each recording once: the first labelled row of a recording is kept
    grouped = cohort.assign(arm=["x", "x", "y", "y", "y", "y"])
    comparison = compare_cohort(grouped, CohortParams(group_by="arm", bootstrap=200))
    assert comparison.group_sizes == {"x": 1, "y": 2}
    assert comparison.notes[-1] == (
        "3 row(s) of the table are copies of another row's recording in the same group, byte for byte "
        f"(duplicate_of), and are left out so that each recording counts once: control1 ({c1_copy}), "
        f"walk ({a}), walk ({b})"
    )
    # the original without a label, a copy with one: the copy stands for the recording
    unlabelled_first = cohort.assign(arm=["x", "x", "y", None, "y", "y"])
    comparison = compare_cohort(unlabelled_first, CohortParams(group_by="arm", bootstrap=200))
    assert comparison.group_sizes == {"x": 1, "y": 2} and comparison.excluded == ("renamed",)
    assert comparison.notes[-1].endswith(f"counts once: control1 ({c1_copy}), walk ({b})")
    # one recording under two groups: no copy is kept
    conflicting = cohort.assign(arm=["x", "y", "x", "y", "y", "y"])
    comparison = compare_cohort(conflicting, CohortParams(group_by="arm", bootstrap=200))
    assert comparison.group_sizes == {"x": 1, "y": 1}
    assert comparison.notes[-1] == (
        "1 recording(s) appear byte for byte under more than one group (duplicate_of), so which group they belong "
        "to cannot be told and every copy is left out: control1 in x, control1 in y"
    )


def test_a_wfdb_record_is_the_same_recording_only_with_the_same_signals(tmp_path: Path) -> None:
    _copy_record("control1", tmp_path / "one")
    _copy_record("control1", tmp_path / "two")
    _copy_record("control1", tmp_path / "three")
    signal = tmp_path / "three" / "control1.rit"
    signal.write_bytes(signal.read_bytes()[:-2] + b"\x00\x00")  # the same header, another right foot

    # the same record under another name: its header names the record and its signal files, which are the same
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for suffix in (".let", ".rit"):
        shutil.copy(NDD / f"control1{suffix}", renamed / f"walk7{suffix}")
    header = (NDD / "control1.hea").read_text(encoding="latin-1").replace("control1", "walk7")
    (renamed / "walk7.hea").write_text(header, encoding="latin-1")

    def identity(folder: str, record: str = "control1") -> str:
        path = tmp_path / folder / f"{record}.hea"
        files = content_files(path)
        memo: dict[Path, str] = {}
        content_digest(files, memo)
        return _recording_identity(Candidate(path, "gaitndd"), files, memo)

    assert identity("one") == identity("two") != identity("three")
    assert identity("renamed", "walk7") == identity("one")  # a final read's finding: the header's name counted


def test_the_gaitpdb_file_that_is_both_a_control_and_a_patient(tmp_path: Path) -> None:
    # PhysioNet gaitpdb's JuCo26_01.txt (a control) and JuPt01_01.txt (a patient) are the same bytes: its own
    # SHA256SUMS.txt gives both 888d6082...bd. A batch names the copy; insole cohort keeps it out of both groups.
    study = tmp_path / "pdb"
    study.mkdir()
    for name in ("JuCo26_01.txt", "JuPt01_01.txt", "GaCo02_01.txt", "GaPt05_01.txt", "demographics.txt"):
        shutil.copy(SHARED / "gaitpdb-cohort" / name, study)
    out = tmp_path / "pdb.parquet"
    done = _insole("batch", str(study), "--out", str(out), "--quiet", "--no-cache")
    assert done.returncode == 0, done.stderr
    cohort, _ = read_cohort(out)
    assert dict(zip(cohort["recording_id"], cohort["duplicate_of"])) == {
        "GaCo02_01": "",
        "GaPt05_01": "",
        "JuCo26_01": "",
        "JuPt01_01": str(study / "JuCo26_01.txt"),
    }
    page, data = tmp_path / "pdb.html", tmp_path / "pdb.json"
    compared = _insole(
        "cohort",
        str(out),
        "--groups",
        str(study / "demographics.txt"),
        "--on",
        "ID",
        "--group-by",
        "Group",
        "--reference",
        "2",
        "--out",
        str(page),
        "--json",
        str(data),
    )
    assert compared.returncode == 0, compared.stderr
    comparison = json.loads(data.read_text())
    assert comparison["group_sizes"] == {"2": 1, "1": 1}  # GaCo02_01 and GaPt05_01 only
    assert comparison["notes"][-1] == (
        "1 recording(s) appear byte for byte under more than one group (duplicate_of), so which group they belong "
        "to cannot be told and every copy is left out: JuCo26_01 in 2, JuPt01_01 in 1"
    )


def test_the_strides_table_tells_copies_and_namesakes_apart(tmp_path: Path) -> None:
    """Two files named alike in two folders (one a copy of the other, one a different walk) have the same
    ``recording_id``: the strides table keys each stride by path too, and ``duplicate_of`` as in the cohort."""
    study = tmp_path / "study"
    for folder in ("a", "b", "c"):
        (study / folder).mkdir(parents=True)
    shutil.copy(WALK, study / "a" / "walk.txt")
    shutil.copy(WALK, study / "b" / "walk.txt")  # a copy under the same name
    write_parquet(load(NDD / "control1.hea"), study / "c" / "walk.parquet")  # another walk, the same id
    out = tmp_path / "cohort.parquet"
    done = _insole("batch", str(study), "--out", str(out), "--quiet", "--no-cache", "--strides")
    assert done.returncode == 0, done.stderr
    cohort, _ = read_cohort(out)
    strides, _ = read_cohort(out.with_name("cohort.strides.parquet"))
    assert list(strides.columns[:4]) == ["recording_id", "side", "path", "duplicate_of"]
    assert set(strides["recording_id"]) == {"walk"}
    a, b, c = (str(study / f) for f in ("a/walk.txt", "b/walk.txt", "c/walk.parquet"))
    assert dict(zip(cohort["path"], cohort["duplicate_of"])) == {a: "", b: a, c: ""}
    # each recording's strides under its own path, in the cohort's row order; the copy's are the original's again
    assert list(dict.fromkeys(strides["path"])) == list(cohort["path"])
    for path, duplicate_of in zip(cohort["path"], cohort["duplicate_of"]):
        rows = strides[strides["path"] == path]
        assert set(rows["duplicate_of"]) == {duplicate_of}
        row = cohort.set_index("path").loc[path]
        assert (rows["side"] == "left").sum() == row["left_strides_detected"]
        assert (rows["side"] == "right").sum() == row["right_strides_detected"]
    original = strides[strides["path"] == a].drop(columns=["path", "duplicate_of"]).reset_index(drop=True)
    copy = strides[strides["path"] == b].drop(columns=["path", "duplicate_of"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(original, copy)
    # the rows to count: every recording once
    once = strides[strides["duplicate_of"] == ""]
    assert sorted(set(once["path"])) == [a, c]

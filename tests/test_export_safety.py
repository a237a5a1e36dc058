"""Issue 15, part D: exports, batch and cohort never lose what was recorded and never write a trap.

Each reproducer of the issue is a test named for it: BIDS labels that would merge two people, an
existing dataset rewritten, --run -1 and --session ../.., exports over an existing file or over
their own input, formula cells in the CSVs we write, the cohort page of a gaitpdb batch grouped by
subject (non-finite numbers in JSON), a --groups CSV with doubled quotes, batch --out in a missing
folder, and file-system refusals (permission) as one line with exit 2.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _data import shared_data_dir
from hypothesis import given
from hypothesis import strategies as st

import insole
from insole import FootSamples, OutputError
from insole._cli import main
from insole.batch import EngineSpec, read_groups, run_batch
from insole.io._export import BidsExportParams, read_bids, write_bids, write_c3d, write_tables
from insole.io._export._bids import _MIXED_LICENCES
from insole.io._export._csv import safe_cell, spreadsheet_safe

SHARED = shared_data_dir()
GAITPDB = SHARED / "gaitpdb" / "GaCo01_01.txt"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def gaitpdb() -> insole.Recording:
    return insole.load(GAITPDB)


def _cut(recording: insole.Recording, n: int, *, subject_id: str | None, mass_kg: float | None,
         sha256: str | None = None) -> insole.Recording:
    """The first ``n`` samples of each foot, as a recording of ``subject_id`` (and of another source file
    when ``sha256`` is given)."""
    feet = {}
    for side in recording.sides:
        foot = recording.samples(side)
        feet[side] = FootSamples(foot.time_s[:n], foot.values[:n], foot.valid[:n],
                                 channels={k: v[:n] for k, v in foot.channels.items()})
    source = dict(recording.meta.source)
    if sha256 is not None:
        source = {**source, "file": f"other-{sha256[:6]}.txt", "sha256": sha256}
    meta = dataclasses.replace(recording.meta, subject_id=subject_id, body_mass_kg=mass_kg, source=source)
    return recording.replace(left=feet.get("left"), right=feet.get("right"), meta=meta)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------------ BIDS


def test_bids_subject_ids_p_017_and_p_017_underscore_are_not_merged(gaitpdb, tmp_path: Path) -> None:
    first = _cut(gaitpdb, 3000, subject_id="P-017", mass_kg=61.0)
    second = _cut(gaitpdb, 4000, subject_id="P_017", mass_kg=95.0, sha256=_sha("another walk"))
    write_bids(first, tmp_path)
    before = _tree(tmp_path)
    with pytest.raises(OutputError) as refused:
        write_bids(second, tmp_path)
    message = str(refused.value)
    # one line naming both subject ids and both sources
    assert "\n" not in message and "'P-017'" in message and "'P_017'" in message
    assert "GaCo01_01.txt" in message and "other-" in message and "--subject" in message
    assert _tree(tmp_path) == before  # nothing written, nothing changed
    motion = tmp_path / "sub-P017" / "motion" / "sub-P017_task-walk_tracksys-leftinsole_motion.tsv"
    assert len(motion.read_text().splitlines()) == 3000
    participants = pd.read_csv(tmp_path / "participants.tsv", sep="\t", dtype=str)
    # age, sex and height are the source file's demographics (GaCo01 of gaitpdb: 66 years, male, 1.8 m)
    assert participants.to_dict("records") == [
        {"participant_id": "sub-P017", "age": "66", "sex": "male", "height": "1.8", "weight": "61.0",
         "source_subject_id": "P-017"}
    ]
    # with its own label the second person has their own folder and row
    write_bids(second, tmp_path, BidsExportParams(subject="P017b"))
    participants = pd.read_csv(tmp_path / "participants.tsv", sep="\t", dtype=str)
    assert participants["participant_id"].tolist() == ["sub-P017", "sub-P017b"]
    assert participants["weight"].tolist() == ["61.0", "95.0"]
    assert len(motion.read_text().splitlines()) == 3000


def test_bids_two_recordings_without_subject_id_are_not_both_sub_01(gaitpdb, tmp_path: Path) -> None:
    first = _cut(gaitpdb, 3000, subject_id=None, mass_kg=61.0)
    second = _cut(gaitpdb, 1000, subject_id=None, mass_kg=95.0, sha256=_sha("someone else"))
    write_bids(first, tmp_path)
    with pytest.raises(OutputError, match=r"sub-01: already holds recordings without a subject id from "
                                          r"GaCo01_01.txt; this recording \(no subject id from other-"):
        write_bids(second, tmp_path)
    assert not list((tmp_path / "sub-01").rglob("*run-*"))
    weights = pd.read_csv(tmp_path / "participants.tsv", sep="\t", dtype=str)["weight"].tolist()
    assert weights == ["61.0"]


def test_bids_same_subject_id_adds_sessions_to_one_participant(gaitpdb, tmp_path: Path) -> None:
    visit1 = _cut(gaitpdb, 3000, subject_id="P-017", mass_kg=61.0)
    visit2 = _cut(gaitpdb, 2000, subject_id="P-017", mass_kg=62.0, sha256=_sha("second visit"))
    write_bids(visit1, tmp_path, BidsExportParams(session="1"))
    write_bids(visit2, tmp_path, BidsExportParams(session="2"))
    participants = pd.read_csv(tmp_path / "participants.tsv", sep="\t", dtype=str)
    # one participant; the row is the first visit's, never rewritten (visit 2's mass is in its own description)
    assert participants.to_dict("records") == [
        {"participant_id": "sub-P017", "age": "66", "sex": "male", "height": "1.8", "weight": "61.0",
         "source_subject_id": "P-017"}
    ]
    scans = pd.read_csv(tmp_path / "sub-P017" / "ses-2" / "sub-P017_ses-2_scans.tsv", sep="\t", dtype=str)
    assert scans["source_sha256"].tolist() == [_sha("second visit")] * 2
    assert read_bids(tmp_path / "sub-P017" / "ses-2").meta.body_mass_kg == 62.0


def test_bids_existing_dataset_is_extended_never_rewritten(gaitpdb, tmp_path: Path) -> None:
    first = _cut(gaitpdb, 3000, subject_id="A1", mass_kg=61.0)
    first = first.replace(meta=dataclasses.replace(first.meta, extra={"licence": "CC0"}))
    second = _cut(gaitpdb, 1000, subject_id="B2", mass_kg=95.0, sha256=_sha("b2"))
    second = second.replace(meta=dataclasses.replace(second.meta, extra={"licence": "proprietary"}))
    write_bids(first, tmp_path, BidsExportParams(dataset_name="Study one"))
    description = (tmp_path / "dataset_description.json").read_bytes()
    readme = (tmp_path / "README").read_bytes()
    first_files = {k: v for k, v in _tree(tmp_path).items() if k.startswith("sub-A1/")}
    write_bids(second, tmp_path, BidsExportParams(dataset_name="Something else"))
    # only the License field changes, to mixed (issue 20: CC0 stayed the licence of a proprietary recording);
    # README keeps its text and gains one sentence naming the licence the dataset had until then
    assert json.loads(description)["Name"] == "Study one" and json.loads(description)["License"] == "CC0"
    assert json.loads((tmp_path / "dataset_description.json").read_text()) == {
        **json.loads(description), "License": _MIXED_LICENCES}
    assert (tmp_path / "README").read_text() == readme.decode() + (
        "The recordings in this dataset are under different licences: the dataset's License was CC0 until sub-B2 "
        "was added, whose licence is proprietary; each run's licence is in the license column of its "
        "sub-<label>_scans.tsv (n/a: not known).\n")
    assert {k: v for k, v in _tree(tmp_path).items() if k.startswith("sub-A1/")} == first_files
    participants = pd.read_csv(tmp_path / "participants.tsv", sep="\t", dtype=str)
    assert participants[["participant_id", "weight"]].values.tolist() == [["sub-A1", "61.0"], ["sub-B2", "95.0"]]
    assert read_bids(tmp_path / "sub-A1").equals(first) and read_bids(tmp_path / "sub-B2").equals(second)


def test_bids_existing_run_needs_force_and_then_only_the_same_source(gaitpdb, tmp_path: Path) -> None:
    recording = _cut(gaitpdb, 3000, subject_id="A1", mass_kg=61.0)
    write_bids(recording, tmp_path)
    motion = tmp_path / "sub-A1" / "motion" / "sub-A1_task-walk_tracksys-leftinsole_motion.tsv"
    before = _tree(tmp_path)
    with pytest.raises(OutputError, match=r"already exists \(from GaCo01_01.txt\): .*--run 2.*--force"):
        write_bids(recording, tmp_path)
    assert _tree(tmp_path) == before
    write_bids(recording, tmp_path, force=True)  # a new export of the same source replaces its own run
    assert _tree(tmp_path) == before
    # another source of the same person is not a replacement, even with force
    retake = _cut(gaitpdb, 2000, subject_id="A1", mass_kg=61.0, sha256=_sha("retake"))
    with pytest.raises(OutputError, match="is not the same source file"):
        write_bids(retake, tmp_path, force=True)
    assert _tree(tmp_path) == before
    write_bids(retake, tmp_path, BidsExportParams(run=2))
    assert len(motion.read_text().splitlines()) == 3000
    scans = pd.read_csv(tmp_path / "sub-A1" / "sub-A1_scans.tsv", sep="\t", dtype=str)
    assert scans["filename"].tolist() == [
        "motion/sub-A1_task-walk_tracksys-leftinsole_motion.tsv",
        "motion/sub-A1_task-walk_tracksys-rightinsole_motion.tsv",
        "motion/sub-A1_task-walk_tracksys-leftinsole_run-2_motion.tsv",
        "motion/sub-A1_task-walk_tracksys-rightinsole_run-2_motion.tsv",
    ]
    assert read_bids(tmp_path / "sub-A1" / "motion" / "sub-A1_task-walk_tracksys-leftinsole_run-2_motion.tsv"
                     ).equals(retake)


@pytest.mark.parametrize("subject", ["S1", None], ids=["with id", "without id"])
def test_bids_re_export_of_our_own_capture_with_force_replaces_its_run(tmp_path: Path, subject: str | None) -> None:
    # found by a review: a recording of ours (no origin hash in its metadata) re-exported with --force was refused
    # as "from n5.parquet ... is not the same source file" (and without a subject id, as a merge of two people)
    from insole.simulate import SimulationParams, simulate

    walk = simulate(SimulationParams(duration_s=8, seed=5))
    walk = walk.replace(meta=dataclasses.replace(walk.meta, subject_id=subject, source={}))
    path = insole.write_parquet(walk, tmp_path / "n5.parquet")
    out = tmp_path / "ds"
    write_bids(walk, out, input_path=path)
    before = _tree(out)
    write_bids(walk, out, input_path=path, force=True)
    assert _tree(out) == before
    other = insole.write_parquet(simulate(SimulationParams(duration_s=8, seed=6)).replace(meta=walk.meta),
                                 tmp_path / "n6.parquet")
    with pytest.raises(OutputError, match="is not the same source file|would be merged"):
        write_bids(insole.load(other), out, input_path=other, force=True)
    assert _tree(out) == before


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--run", "-1", "run -1 is not allowed: runs are positive integers (1, 2, 3, ...)"),
    ("--run", "0", "run 0 is not allowed: runs are positive integers (1, 2, 3, ...)"),
    ("--session", "../..", "session label '../..' is not allowed: BIDS labels are letters and digits only"),
    ("--subject", "P-017", "subject label 'P-017' is not allowed: BIDS labels are letters and digits only"),
    ("--task", "walk fast", "task label 'walk fast' is not allowed: BIDS labels are letters and digits only"),
])
def test_bids_run_minus_1_and_session_dotdot_are_one_line_errors(option: str, value: str, expected: str,
                                                                   tmp_path: Path, capsys) -> None:
    out = tmp_path / "bids"
    code = main(["export", str(GAITPDB), "--to", "bids", "--out", str(out), f"{option}={value}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and expected in err
    assert not out.exists()  # no ses-01, no run--1: nothing at all


def test_bids_subject_id_too_long_for_a_label_is_one_line(gaitpdb, tmp_path: Path) -> None:
    # (a 100,000-character id is refused when the recording is made; 128 characters are allowed there,
    # more than a file name of sub-<label>_ses-<label>_task-..._motion.tsv can hold with its other parts)
    long = _cut(gaitpdb, 100, subject_id="x" * 128, mass_kg=None)
    with pytest.raises(OutputError, match="subject id is 128 characters long, too long for a BIDS label") as refused:
        write_bids(long, tmp_path)
    assert len(str(refused.value)) < 400 and not list(tmp_path.iterdir())
    write_bids(long, tmp_path, BidsExportParams(subject="x64"))
    assert (tmp_path / "sub-x64").is_dir()


# ------------------------------------------------------------------------------------ existing files


@pytest.mark.parametrize("target", ["c3d", "tables"])
def test_export_to_an_existing_file_is_refused_without_force(target: str, tmp_path: Path, capsys) -> None:
    args = ["export", str(GAITPDB), "--to", target, "--out", str(tmp_path / "out")]
    assert main(args) == 0
    written = [Path(p) for p in capsys.readouterr().out.split()]
    before = {p: p.read_bytes() for p in written}
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "already exists (add --force to replace it)" in err
    assert {p: p.read_bytes() for p in written} == before
    assert main([*args, "--force"]) == 0
    assert sorted(Path(p) for p in capsys.readouterr().out.split()) == sorted(written)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary left


def test_export_never_writes_over_its_own_input(tmp_path: Path, capsys) -> None:
    # a gaitpdb recording that happens to be called walk.c3d: --to c3d would write walk.c3d beside it
    source = tmp_path / "walk.c3d"
    shutil.copy(GAITPDB, source)
    original = source.read_bytes()
    code = main(["export", str(source), "--to", "c3d", "--out", str(tmp_path), "--force"])
    err = capsys.readouterr().err
    assert code == 2 and "is one of this command's inputs" in err and err.count("\n") == 1
    assert source.read_bytes() == original


def test_c3d_and_tables_writers_refuse_an_existing_file(gaitpdb, tmp_path: Path) -> None:
    path = write_c3d(gaitpdb, tmp_path / "walk.c3d")
    with pytest.raises(OutputError, match="already exists"):
        write_c3d(gaitpdb, path)
    frame = pd.DataFrame({"a": [1.0]})
    write_tables({"t": frame}, tmp_path / "tables")
    with pytest.raises(OutputError, match="t.csv: already exists"):
        write_tables({"t": frame}, tmp_path / "tables")
    write_tables({"t": frame * 2}, tmp_path / "tables", force=True)
    assert pd.read_parquet(tmp_path / "tables" / "t.parquet")["a"].tolist() == [2.0]


# --------------------------------------------------------------------------------- formula injection


def test_spreadsheet_safe_quotes_formula_text_but_not_numbers() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+A1", "-2+3", "@SUM(1)", "\tx", "\rx", "-1.5", "+2e3", "ok", 5)] == [
        "'=1+1", "'+A1", "'-2+3", "'@SUM(1)", "'\tx", "'\rx", "-1.5", "+2e3", "ok", 5]
    frame = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "plain"], "value": [-1.5, 2.0], "=x": [1, 2]})
    safe = spreadsheet_safe(frame)
    assert safe["name"].tolist() == ["'=cmd|' /C calc'!A0", "plain"]
    assert safe["value"].tolist() == [-1.5, 2.0] and safe["value"].dtype == np.float64
    assert list(safe.columns) == ["name", "value", "'=x"]
    assert frame["name"][0].startswith("=")  # the caller's frame is left alone


@given(st.text(alphabet=st.sampled_from("=+-@\t\r'0123456789.eE ax(),\"\n"), max_size=12))
def test_safe_cell_never_leaves_a_formula_start_and_loses_nothing(text: str) -> None:
    safe = safe_cell(text)
    if safe != text:  # quoted: exactly one quote in front, the text itself unchanged
        assert safe == "'" + text and text.startswith(FORMULA_START)
    else:  # left alone: no formula start, or a plain number (which a spreadsheet reads as a number)
        if text.startswith(FORMULA_START):
            float(text)  # raises ValueError unless it is a plain number


def _cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def test_batch_errors_csv_with_hyperlink_and_sum_file_names(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    cut = GAITPDB.read_bytes()[:300_000]  # a gaitpdb walk cut inside a row: recognised, then refused
    # a file name cannot hold "/": the link's slashes are backslashes, which Windows spreadsheets accept too
    names = ['=HYPERLINK("http:\\\\x","y").csv', "@SUM(1).csv"]
    for name in names:
        (folder / name).write_bytes(cut)
    out = tmp_path / "cohort.parquet"
    result = run_batch([folder], out, engine=EngineSpec(workers=1), progress=False, cache=False)
    assert len(result.errors) == 2
    cells = _cells(result.paths["errors"])
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)]
    assert "'=HYPERLINK(\"http:\\\\x\",\"y\")" in cells and "'@SUM(1)" in cells
    # the Parquet-side frame keeps the names as they are
    assert sorted(result.errors["recording_id"]) == ['=HYPERLINK("http:\\\\x","y")', "@SUM(1)"]


def test_tables_csv_neutralises_formulas_and_keeps_negative_numbers(tmp_path: Path) -> None:
    table = pd.DataFrame({"note": ["=1+1", "-x", "fine"], "offset_mm": [-1.5, -0.25, 3.0]})
    write_tables({"strides": table}, tmp_path)
    back = pd.read_csv(tmp_path / "strides.csv")
    assert back["note"].tolist() == ["'=1+1", "'-x", "fine"]
    assert back["offset_mm"].tolist() == [-1.5, -0.25, 3.0] and back["offset_mm"].dtype == np.float64
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "strides.parquet"), table)


def test_a_carriage_return_in_a_text_cell_stays_in_its_row(tmp_path: Path) -> None:
    # found by a review: a file named "\x1b[31mred\r.parquet" in a batch broke errors.csv into an extra row
    table = pd.DataFrame({"recording_id": ["a\rb", "plain", "c\r\nd"], "n": [1, 2, 3]})
    write_tables({"errors": table}, tmp_path)
    with (tmp_path / "errors.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert [row[0] for row in rows] == ["recording_id", "a\\rb", "plain", "c\\r\nd"]
    back = pd.read_csv(tmp_path / "errors.csv")
    assert back["n"].tolist() == [1, 2, 3]


# ----------------------------------------------------------------------------------- batch and cohort


@pytest.fixture(scope="module")
def gaitpdb_batch(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pdb") / "cohort.parquet"
    result = run_batch([shared_data / "gaitpdb"], out, engine=EngineSpec(workers=2), progress=False, cache=False)
    assert len(result.cohort) == 6 and len(result.errors) == 0
    return out


def test_cohort_group_by_subject_id_on_gaitpdb_writes_null_for_non_finite(gaitpdb_batch: Path, tmp_path: Path,
                                                                         capsys) -> None:
    page, data = tmp_path / "c.html", tmp_path / "c.json"
    code = main(["cohort", str(gaitpdb_batch), "--group-by", "subject_id", "--out", str(page), "--json", str(data)])
    assert code == 0, capsys.readouterr().err
    comparison = json.loads(data.read_text())  # strict JSON: no NaN or Infinity tokens
    assert comparison["group_sizes"] == {s: 1 for s in ("GaCo01", "GaPt03", "JuCo01", "JuPt03", "SiCo01", "SiPt02")}
    # groups of one recording: Hedges' g needs two per group, so every g is null, never NaN
    assert {e["hedges_g"] for e in comparison["effects"]} == {None}
    html = page.read_text()
    embedded = html.split('<script type="application/json" id="cohort-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded)["effects"] == comparison["effects"]
    boot = html.rsplit("<script>", 1)[1]  # the figures (error bars of undefined intervals among them)
    assert "NaN" not in boot and "Infinity" not in boot and "null" in boot


def test_cohort_groups_csv_with_doubled_quotes(gaitpdb_batch: Path, tmp_path: Path, capsys) -> None:
    groups = tmp_path / "groups.csv"
    groups.write_text('subject,arm\nGaCo01,"control, ""A"""\nJuCo01,"control, ""A"""\nSiCo01,"control, ""A"""\n'
                      'GaPt03,"PD ""B"""\nJuPt03,"PD ""B"""\nSiPt02,"PD ""B"""\n', encoding="utf-8")
    table = read_groups(groups)
    assert table["arm"].tolist() == ['control, "A"'] * 3 + ['PD "B"'] * 3
    data = tmp_path / "c.json"
    code = main(["cohort", str(gaitpdb_batch), "--groups", str(groups), "--group-by", "arm", "--reference",
                 'control, "A"', "--out", str(tmp_path / "c.html"), "--json", str(data)])
    assert code == 0, capsys.readouterr().err
    assert json.loads(data.read_text())["group_sizes"] == {'control, "A"': 3, 'PD "B"': 3}


def test_cohort_refuses_existing_page_and_its_own_input(gaitpdb_batch: Path, tmp_path: Path, capsys) -> None:
    page = tmp_path / "c.html"
    page.write_text("an earlier page\n")
    code = main(["cohort", str(gaitpdb_batch), "--group-by", "group", "--out", str(page)])
    assert code == 2 and "already exists (add --force to replace it)" in capsys.readouterr().err
    assert page.read_text() == "an earlier page\n"
    before = gaitpdb_batch.read_bytes()
    code = main(["cohort", str(gaitpdb_batch), "--group-by", "group", "--out", str(gaitpdb_batch), "--force"])
    assert code == 2 and "is one of this command's inputs" in capsys.readouterr().err
    assert gaitpdb_batch.read_bytes() == before


def test_batch_out_in_a_missing_folder_exits_2_and_creates_nothing(tmp_path: Path, capsys) -> None:
    for extra in ([], ["--cache", str(tmp_path / "missing" / "cache")]):
        code = main(["batch", str(GAITPDB), "--out", str(tmp_path / "missing" / "dir" / "x"), "--quiet", *extra])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "does not exist" in err
        assert list(tmp_path.iterdir()) == []
    code = main(["batch", str(GAITPDB), "--out", str(tmp_path / "x.parquet"), "--cache",
                 str(tmp_path / "missing" / "cache"), "--quiet"])
    assert code == 2 and "missing does not exist" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_batch_refuses_existing_tables_without_force_and_reads_the_cache_with_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cohort.parquet"
    args = ["batch", str(GAITPDB), "--out", str(out), "--quiet", "--workers", "1"]
    assert main(args) == 0
    before = out.read_bytes()
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and err.strip().endswith(f"{out}: already exists (add --force to replace it)")
    assert out.read_bytes() == before
    assert main([*args, "--force"]) == 0
    assert "(1 from the cache)" in capsys.readouterr().err  # --force replaces the tables, not the analysis
    assert main([*args, "--force", "--refresh"]) == 0
    assert "from the cache" not in capsys.readouterr().err
    # a table named like the recording it reads is refused even with --force
    copy = tmp_path / "walk.txt"
    shutil.copy(GAITPDB, copy)
    code = main(["batch", str(copy), "--out", str(copy), "--quiet", "--force"])
    assert code == 2 and "is one of this command's inputs" in capsys.readouterr().err
    assert copy.read_bytes() == GAITPDB.read_bytes()


def test_batch_rerun_into_the_studied_folder_does_not_read_its_own_tables(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(GAITPDB, folder)
    out = folder / "cohort.parquet"
    first = run_batch([folder], out, engine=EngineSpec(workers=1), progress=False)
    again = run_batch([folder], out, engine=EngineSpec(workers=1), progress=False, force=True)
    assert len(first.cohort) == len(again.cohort) == 1 and len(again.errors) == 0
    assert again.n_skipped_files == first.n_skipped_files == 0


# ------------------------------------------------------------------------------------------ permission


def _deny(path: Path) -> None:
    raise PermissionError(13, "Permission denied", str(path))


def test_batch_unreadable_folder_is_an_error_row_not_silence(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "study"
    (folder / "locked").mkdir(parents=True)
    shutil.copy(GAITPDB, folder)
    real_walk = os.walk

    def walk(top, onerror=None, **kwargs):  # the subfolder cannot be listed (as chmod 000 does for a user)
        for root, dirs, names in real_walk(top, onerror=onerror, **kwargs):
            if Path(root).name == "locked":
                onerror(PermissionError(13, "Permission denied", root))
                dirs[:] = []
                continue
            yield root, dirs, names

    monkeypatch.setattr("insole.batch._discover.os.walk", walk)
    result = run_batch([folder], tmp_path / "c.parquet", engine=EngineSpec(workers=1), progress=False, cache=False)
    assert len(result.cohort) == 1
    assert result.errors[["path", "reason"]].values.tolist() == [
        [str(folder / "locked"), "folder cannot be read (Permission denied)"]]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads and writes any folder")
def test_permission_denied_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)  # read-only folder
    try:
        for args in (["export", str(GAITPDB), "--to", "c3d", "--out", str(locked)],
                     ["export", str(GAITPDB), "--to", "bids", "--out", str(locked / "bids")],
                     ["batch", str(GAITPDB), "--out", str(locked / "c.parquet"), "--quiet"]):
            code = main(args)
            err = capsys.readouterr().err
            assert code == 2 and err.count("\n") == 1 and str(locked) in err, (args, err)
    finally:
        locked.chmod(0o700)


def test_export_write_failure_is_one_line_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    # a file system that refuses the write itself (a read-only mount seen as root, a full disk)
    monkeypatch.setattr("insole._output.tempfile.mkstemp", lambda **kwargs: _deny(Path(kwargs["dir"])))
    for target in ("c3d", "tables", "bids"):
        code = main(["export", str(GAITPDB), "--to", target, "--out", str(tmp_path / target)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "permission denied" in err, (target, err)

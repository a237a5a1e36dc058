"""One recording staged twice: under two group labels it counts as neither; under one label it counts once.

In the staged gaitpdb-cohort, JuCo26_01.txt (a control) and JuPt01_01.txt (a person with Parkinson's) are the same
file byte for byte; which label is true cannot be told from the data. The references, norms and the findings
validation gather their files through ``without_staged_copies``; these tests build small staged folders in tmp_path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from insole.report._reference import (
    build_repeatability,
    left_out_text,
    real_layout_files,
    real_layout_selection,
    recording_bytes_sha256,
    staged_group,
    without_staged_copies,
)


def _walk(text: str) -> bytes:
    # only the bytes' equality matters here (nothing is loaded)
    return "".join(f"{k / 100:.2f}\t{text}\n" for k in range(5)).encode()


def _stage(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_group_labels_come_from_the_staged_names():
    assert [staged_group(n) for n in ("JuCo26_01.txt", "JuPt01_01.txt", "GaCo02_02.txt", "control4.hea",
                                      "park10.hea", "hunt1.hea", "als12.hea", "demographics.txt")] == [
        "control", "Parkinson's", "control", "control", "Parkinson's", "Huntington's", "ALS", None]


def test_a_walk_under_two_labels_counts_as_neither(tmp_path):
    same = _walk("a")
    data = _stage(tmp_path, {"gaitpdb-cohort/JuCo26_01.txt": same, "gaitpdb-cohort/JuPt01_01.txt": same,
                             "gaitpdb-cohort/JuCo01_01.txt": _walk("b"), "gaitpdb/GaCo01_01.txt": _walk("c")})
    # the controls: the patient's copy is outside the selection, and is still seen
    kept, left_out = real_layout_selection(data, "gaitpdb8")
    assert [p.name for _, p in kept] == ["GaCo01_01.txt", "JuCo01_01.txt"]
    assert [p.name for _, p in real_layout_files(data, "gaitpdb8")] == ["GaCo01_01.txt", "JuCo01_01.txt"]
    (entry,) = left_out
    assert entry == {
        "dataset": "gaitpdb-cohort", "file": "JuCo26_01.txt", "group": "control",
        "sha256": hashlib.sha256(same).hexdigest(),
        "same_as": [{"dataset": "gaitpdb-cohort", "file": "JuPt01_01.txt", "group": "Parkinson's"}],
        "reason": "the same bytes as JuPt01_01.txt (gaitpdb-cohort), labelled Parkinson's: which label is true is "
                  "unknown, so this walk counts as neither (control nor Parkinson's)",
    }
    assert left_out_text(left_out).startswith("Left out: JuCo26_01.txt (gaitpdb-cohort, labelled control), the same "
                                              "bytes as JuPt01_01.txt")
    # the patients' side: the same walk is not a patient's either
    patients = [("gaitpdb-cohort", data / "gaitpdb-cohort" / "JuPt01_01.txt")]
    kept, left_out = without_staged_copies(data, patients)
    assert kept == [] and [e["file"] for e in left_out] == ["JuPt01_01.txt"]
    assert left_out[0]["same_as"] == [{"dataset": "gaitpdb-cohort", "file": "JuCo26_01.txt", "group": "control"}]


def test_a_walk_twice_under_one_label_counts_once(tmp_path):
    same = _walk("a")
    data = _stage(tmp_path, {"gaitpdb/JuCo01_01.txt": same, "gaitpdb-cohort/JuCo30_01.txt": same,
                             "gaitpdb-cohort/SiCo02_01.txt": _walk("b")})
    kept, left_out = real_layout_selection(data, "gaitpdb8")
    assert [(d, p.name) for d, p in kept] == [("gaitpdb", "JuCo01_01.txt"), ("gaitpdb-cohort", "SiCo02_01.txt")]
    assert [(e["file"], e["reason"]) for e in left_out] == [
        ("JuCo30_01.txt", "the same bytes as JuCo01_01.txt (gaitpdb), labelled control too, which is kept: one "
                          "recording counts once")]
    # distinct walks: nothing left out, the order kept
    files = [("gaitpdb-cohort", data / "gaitpdb-cohort" / "SiCo02_01.txt"),
             ("gaitpdb", data / "gaitpdb" / "JuCo01_01.txt")]
    assert without_staged_copies(data, files) == (files, [])


def test_a_wfdb_record_is_its_signal_files_not_its_header(tmp_path):
    def record(name: str, let: bytes, rit: bytes) -> dict[str, bytes]:
        header = (f"{name} 2 300 5\r\n{name}.let 212 3000 12 0 0 0 0 left-foot\r\n"
                  f"{name}.rit 212 3000 12 0 0 0 0 right-foot\r\n")
        return {f"gaitndd-cohort/{name}.hea": header.encode(), f"gaitndd-cohort/{name}.let": let,
                f"gaitndd-cohort/{name}.rit": rit}

    data = _stage(tmp_path, {**record("control4", b"L1", b"R1"), **record("park6", b"L1", b"R1"),
                             **record("control6", b"L1", b"R2")})
    folder = data / "gaitndd-cohort"
    # the headers differ (each names its own record) but the signals are the same: one walk
    assert (folder / "control4.hea").read_bytes() != (folder / "park6.hea").read_bytes()
    assert recording_bytes_sha256(folder / "control4.hea") == recording_bytes_sha256(folder / "park6.hea")
    # one signal file differs: another walk
    assert recording_bytes_sha256(folder / "control4.hea") != recording_bytes_sha256(folder / "control6.hea")
    kept, left_out = real_layout_selection(data, "footswitch1")
    assert [p.name for _, p in kept] == ["control6.hea"]
    assert [(e["file"], e["same_as"][0]["file"]) for e in left_out] == [("control4.hea", "park6.hea")]


def test_a_same_day_pair_with_a_copied_walk_is_left_out_of_the_repeatability(tmp_path):
    # the second trial is the first's bytes again: no test-retest difference to measure, the pair is left out
    # (nothing is analysed, so the walks need not be loadable)
    same = _walk("a")
    data = _stage(tmp_path, {"gaitpdb-cohort/GaCo02_01.txt": same, "gaitpdb-cohort/GaCo02_02.txt": same})
    document = build_repeatability(data, "gaitpdb8")
    assert document["n_pairs"] == 0 and document["pairs"] == []
    assert [e["file"] for e in document["provenance"]["left_out"]] == ["GaCo02_02.txt"]

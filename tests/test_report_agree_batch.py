"""Issue 16: one judgement per walk. ``insole batch`` and the report judge a reference member the same way.

The report judges a walk of the reference's own controls (GaCo06_01 is one of gaitpdb8's 37) or another walk of
such a person (GaCo06_02) against the other controls, and a walk of the MDC95's same-day pairs by the other pairs'
MDC95. The batch's finding columns used the whole sets, so the cohort table and the report could disagree on the
same file. Both now go through ``judging_frame`` (in ``evaluate(..., walk=...)``); these tests run both on the same
real files and compare what they flag and what they judged it against. The cadence and speed norms, built from the
same people, are rebuilt without the person too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _data import shared_data_dir

from insole import load
from insole.analysis import analyze
from insole.batch import _findings as batch_findings
from insole.report import build_report
from insole.report._reference import (
    judging_frame,
    load_norm_people,
    load_norms,
    norms_from_people,
    reference_set_for,
    walk_identity,
)

SHARED = shared_data_dir()
COHORT = SHARED / "gaitpdb-cohort"

# file -> (subject left out of the gaitpdb8 controls, of the MDC95's pairs): exact, from the stored sets' lists
WALKS = {
    "GaCo06_01.txt": ("GaCo06", "GaCo06"),  # a control of the set, and the first walk of a same-day pair
    "GaCo06_02.txt": ("GaCo06", "GaCo06"),  # the same person's second walk: not in the set, its person is
    "GaPt23_01.txt": (None, "GaPt23"),  # Parkinson's: no control, but one of the MDC95's pairs
    "GaPt05_01.txt": (None, None),  # Parkinson's, single walk: judged against everything as stored
}


def _captured_batch(monkeypatch: pytest.MonkeyPatch, analysis: Any, recording: Any) -> tuple[dict[str, Any], Any]:
    """The batch's finding columns of one recording, and the ``FindingsResult`` the batch's engine made them from."""
    engine = batch_findings._engine()
    seen: list[Any] = []

    def evaluate(*args: Any, **kwargs: Any) -> Any:
        seen.append(engine[0](*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(batch_findings, "_engine", lambda: (evaluate, *engine[1:]))
    columns = batch_findings.finding_columns(analysis, recording)
    monkeypatch.undo()
    assert len(seen) == 1
    return columns, seen[0]


def _flagged(findings: Any) -> list[tuple[str, str, str]]:
    return [(f.code, f.side, f.confidence) for f in findings]


def _worded(findings: Any) -> list[tuple[str, str, str, str]]:
    return [(f.code, f.side, f.severity, f.confidence) for f in findings]


@pytest.mark.parametrize("name", sorted(WALKS))
def test_the_batch_flags_what_the_report_flags_against_the_same_references(name, monkeypatch):
    path = COHORT / name
    recording = load(path)
    analysis = analyze(recording)
    report = build_report(recording, path=path, analysis=analysis)
    columns, batch = _captured_batch(monkeypatch, analysis, recording)

    assert columns["findings_status"] == "evaluated"
    # the same findings, code, side and confidence, in the same order, and every finding's full record (severity,
    # measurement, comparisons with the n they were judged against) alike
    assert _flagged(batch.findings) == _flagged(report.findings)
    assert [f.to_dict() for f in batch.findings] == [f.to_dict() for f in report.findings]
    # the report's two words under their own names: severity (how far past the cut-off) and confidence
    assert columns["findings"] == "; ".join(
        f"{c}({s}, severity {v}, confidence {k})" for c, s, v, k in _worded(report.findings))
    for code, side, severity, confidence in _worded(report.findings):
        assert columns[f"finding_{code}"] == "flagged" and columns[f"finding_{code}_side"] == side
        assert (columns[f"finding_{code}_severity"], columns[f"finding_{code}_confidence"]) == (severity, confidence)
    assert [n.to_dict() for n in batch.not_assessed] == [n.to_dict() for n in report.result.not_assessed]

    # judged against the same sets (names and sizes) and the same MDC95s
    assert [(r.name, r.n_recordings) for r in batch.reference_sets] == [
        (r.name, r.n_recordings) for r in report.result.reference_sets]
    assert batch.frame is not None and report.repeatability is not None
    assert batch.frame.repeatability is not None
    assert batch.frame.repeatability.n_pairs == report.repeatability.n_pairs
    assert dict(batch.frame.repeatability.lr_index) == dict(report.repeatability.lr_index)
    assert dict(batch.frame.repeatability.session) == dict(report.repeatability.session)

    # and that frame is the one the walk's membership calls for
    member, pair = WALKS[name]
    real = reference_set_for(batch.frame.reference_sets, "gaitpdb8", kind="real")
    assert real is not None
    assert real.n_recordings == (36 if member else 37)
    assert [r.get("subject") for r in real.left_out] == ([member] if member else [])
    assert batch.frame.reference_member == member
    assert batch.frame.repeatability.n_pairs == (19 if pair else 20)
    assert batch.frame.repeatability_member == pair


def test_the_walk_identity_is_the_reports_input_record():
    """The batch tells a walk by what the importer recorded; the report by the file it reads: the same three."""
    path = COHORT / "GaCo06_01.txt"
    recording = load(path)
    from insole.report._build import _input_record

    record = _input_record(recording, path)
    for identity in (walk_identity(recording), walk_identity(recording, path)):
        assert identity == {k: record[k] for k in ("name", "sha256", "subject_id")}


# ---------------------------------------------------------------- the cadence and speed norms


def test_bands_rebuilt_from_every_stored_person_are_the_stored_bands():
    """What the norms are rebuilt from at report time is what they were made of (the same rounding)."""
    people = load_norm_people()
    assert len(people) == 46 and all(p.get("subject") for p in people)
    assert norms_from_people(people) == load_norms()


def _band(report: Any, key: str) -> dict[str, Any]:
    row = next(r for r in report.key_numbers if r.key == key)
    assert row.norm_band is not None
    return row.norm_band


@pytest.mark.parametrize(("path", "stored_key", "judged_key", "judged_n"), [
    # GaCo06 (82, male) is one of the 11 men 65 and over: judged against the other 10
    (COHORT / "GaCo06_02.txt", "65-and-over/male", "65-and-over/male", 10),
    # GaCo12 (65, female) is one of the 8 women 65 and over: without her that band has 7, fewer than the 8 a band
    # needs, so she is compared with the 65-and-over band of both sexes (19 people less her)
    (COHORT / "GaCo12_01.txt", "65-and-over/female", "65-and-over/both", 18),
])
def test_a_control_is_judged_against_the_norms_without_them(path: Path, stored_key, judged_key, judged_n):
    recording = load(path)
    report = build_report(recording, path=path)
    stored = {b.key: b for b in load_norms()}
    subject = recording.meta.subject_id
    others = [p for p in load_norm_people() if p.get("subject") != subject]
    assert len(others) == 45
    rebuilt = {b.key: b for b in norms_from_people(others)}
    # the band this person was in holds one person less; a band left with too few people is not made
    assert stored[judged_key].n == judged_n + 1
    assert (stored_key in rebuilt) == (stored_key == judged_key)
    for key in ("cadence_steps_per_min", "gait_speed_m_per_s"):
        band = _band(report, key)
        assert band["key"] == judged_key and band["n"] == judged_n, key
        assert band["n"] == rebuilt[judged_key].n
        assert f"this person ({subject}), one of the controls, left out" in band["note"]
        row = next(r for r in report.key_numbers if r.key == key)
        assert row.real_range == rebuilt[judged_key].interval(key)
        assert f"of {judged_n} real controls" in (row.reference or "")
    assert report.result.frame is not None and report.result.frame.norms_member == subject


def test_a_person_outside_the_norms_is_judged_against_the_stored_bands():
    path = COHORT / "GaPt05_01.txt"
    report = build_report(load(path), path=path)
    assert report.result.frame is not None and report.result.frame.norms_member is None
    stored = {b.key: b for b in load_norms()}
    for key in ("cadence_steps_per_min", "gait_speed_m_per_s"):
        band = _band(report, key)
        assert band["n"] == stored[band["key"]].n and "left out" not in band["note"]


def test_norms_given_by_a_caller_are_kept_as_given():
    """A caller's own bands (not built from the stored people) are not rebuilt: nobody is known to be in them."""
    bands = load_norms()[:2]
    frame = judging_frame({"name": "GaCo06_01.txt", "sha256": None, "subject_id": "GaCo06"}, "gaitpdb8",
                          norms=bands)
    assert frame.norms == bands and frame.norms_member is None
    assert frame.reference_member == "GaCo06"


def test_a_subject_id_names_a_norms_person_only_on_their_own_layout() -> None:
    # the norms pool people of two cohorts (gaitpdb8, footswitch1): a Moticon walk whose subject id happens to be
    # "GaCo06" is not that control, and the bands it is judged by keep him (a final read found it left out)
    from insole.report._reference import load_norm_people, norms_without_self

    people = load_norm_people()
    assert any(p.get("subject") == "GaCo06" and p.get("layout") == "gaitpdb8" for p in people)
    _, who = norms_without_self({"subject_id": "GaCo06"}, people=people, layout="gaitpdb8")
    assert who is not None and "GaCo06" in who
    _, who = norms_without_self({"subject_id": "GaCo06"}, people=people, layout="moticon16")
    assert who is None


def test_a_converted_copy_of_a_reference_walk_is_that_walk(shared_data: Path, tmp_path: Path) -> None:
    # the batch names a walk by what its importer recorded (the original file's name and SHA-256), the report by
    # the file it was given: a reference control converted to Parquet, without a subject id, is the same walk to
    # both (a final read found the report judging the copy against a set that held its original)
    import hashlib

    import insole
    from insole.report import walk_identity
    from insole.report._reference import reference_member

    original = insole.load(shared_data / "gaitpdb-cohort" / "GaCo06_01.txt")
    copy = original.with_meta(subject_id=None)
    path = insole.io.write_parquet(copy, tmp_path / "copy.parquet")
    sets = insole.report.load_reference_sets()
    report_record = {"name": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                     "source": dict(insole.load(path).meta.source), "subject_id": None}
    assert reference_member(report_record, sets, "gaitpdb8") is not None
    assert reference_member(walk_identity(insole.load(path)), sets, "gaitpdb8") is not None

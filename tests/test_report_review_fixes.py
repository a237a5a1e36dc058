"""Fixes from a new user's review of the report: a baseline of another person, a baseline that is the file itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from insole._cli import main
from insole._errors import InputError
from insole.io import write_parquet
from insole.report import build_report
from insole.report._build import other_person
from insole.report._html import render_html
from insole.simulate import SimulationParams, simulate


@pytest.fixture(scope="module")
def walks():
    """Two 40 s simulated walks: a normal one and an antalgic one (left painful)."""
    normal = simulate(SimulationParams(pattern="normal", duration_s=40.0, seed=4))
    antalgic = simulate(SimulationParams(pattern="antalgic", side="left", duration_s=40.0, seed=5))
    return normal, antalgic


def test_a_baseline_of_another_person_is_shown_but_not_judged(walks):
    normal, antalgic = walks
    now, before = antalgic.with_meta(subject_id="JuPt13"), normal.with_meta(subject_id="SiCo20")
    alone = build_report(now)
    report = build_report(now, baseline=before)
    reason = "the baseline is another person (SiCo20 vs JuPt13)"
    assert report.baseline_not_judged == reason
    # the findings are those of the session alone: the other person's session is no frame for them
    assert [(f.code, f.side) for f in report.findings] == [(f.code, f.side) for f in alone.findings]
    data = report.to_dict()["baseline"]
    assert data["not_judged"] == reason and data["input"]["subject_id"] == "SiCo20"
    assert data["findings_new"] == data["findings_resolved"] == data["findings_persisting"] == []
    assert data["stance_force_spm"] == {}
    assert data["changes"]  # the numbers are still side by side
    for row in data["changes"]:
        assert row["beyond_mdc95"] is None and row["beyond_step_scatter"] is None and row["t"] is None, row
        assert row["not_judged"] == reason
    page = render_html(report)
    assert page.count(f"Not judged: {reason}") == 1  # in the changes section
    assert 'class="warn baseline-other-person">⚠ Baseline' in page  # the warning under the session table
    assert "subject SiCo20" in page


def test_the_same_subject_written_differently_is_one_person_and_a_missing_id_is_no_difference():
    assert other_person({"subject_id": "GaCo02"}, {"subject_id": " gaco02 "}) is None
    assert other_person({"subject_id": "GaCo02"}, {"subject_id": None}) is None
    assert other_person({"subject_id": ""}, {"subject_id": "GaCo02"}) is None
    assert other_person({"subject_id": "A"}, {"subject_id": "B"}) == "the baseline is another person (B vs A)"


def test_a_baseline_of_the_same_person_is_judged(walks):
    normal, antalgic = walks
    report = build_report(antalgic.with_meta(subject_id="P1"), baseline=normal.with_meta(subject_id="P1"))
    assert report.baseline_not_judged is None
    data = report.to_dict()["baseline"]
    assert data["not_judged"] is None and data["findings_new"]
    assert data["changes"] and all(row["not_judged"] is None for row in data["changes"])


def test_a_baseline_that_is_the_recording_itself_is_refused(walks, tmp_path):
    normal, _ = walks
    path = tmp_path / "walk.parquet"
    write_parquet(normal, path)
    with pytest.raises(InputError) as same:
        build_report(normal, path=path, baseline=normal, baseline_path=tmp_path / "." / "walk.parquet")
    assert str(same.value) == (f"{tmp_path / 'walk.parquet'}: the baseline is the same file as the recording; "
                               f"a baseline must be an earlier session of the same person")
    copy = tmp_path / "copy.parquet"
    shutil.copyfile(path, copy)
    with pytest.raises(InputError) as copied:
        build_report(normal, path=path, baseline=normal, baseline_path=copy)
    assert copied.value.path == Path(copy)
    assert copied.value.problem == ("the baseline has the same contents (SHA-256) as the recording walk.parquet; "
                                    "a baseline must be an earlier session of the same person")


def test_the_command_line_refuses_the_recording_as_its_own_baseline_in_one_line(walks, tmp_path, capsys):
    normal, _ = walks
    path = tmp_path / "walk.parquet"
    write_parquet(normal, path)
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--baseline", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the baseline is the same file as the recording" in err
    assert "Traceback" not in err and not out.exists()

"""Fixes from a new user's review of the report: a baseline of another person, a baseline that is the file itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from insole import InputError
from insole._cli import main
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


# ---------------------------------------------------------------- variability at coarse sample rates


def test_a_robust_cv_below_a_millionth_of_a_percent_is_a_mad_of_zero():
    from insole.report._metrics import robust_cv_is_zero

    assert robust_cv_is_zero(0.0) and robust_cv_is_zero(2.29e-12)  # the 20 Hz walk's stance figure
    assert not robust_cv_is_zero(1e-6) and not robust_cv_is_zero(None) and not robust_cv_is_zero(float("nan"))
    # the smallest figure a MAD of half a sample interval gives at 1 kHz and a 1.5 s stride is far above it
    assert not robust_cv_is_zero(1.4826 * 0.0005 / 2 ** 0.5 / 1.5 * 100.0)


@pytest.fixture(scope="module")
def walk_20hz():
    """The review's walk: 120 s, seed 3, gaitpdb8, sampled at 20 Hz (50 ms, about 4.7 % of a stride)."""
    return simulate(SimulationParams(duration_s=120.0, seed=3, layout="gaitpdb8", sample_rate_hz=20.0))


def test_timing_variability_is_not_judged_at_20_hz(walk_20hz):
    from insole.report._metrics import timing_resolution_pct

    report = build_report(walk_20hz)
    resolution = timing_resolution_pct(report.session)
    stride_s = float(np.median(np.concatenate([f.stride_times_s for f in report.session.feet.values()])))
    assert resolution == pytest.approx(50.0 * 0.05 / stride_s, rel=1e-12)
    assert 2.0 < resolution < 2.6  # a 1-1.2 s stride of the simulated normal walker
    rows = {k.key: k for k in report.key_numbers}
    # the stance figure was 2.29e-12 %: a MAD of 0, so it and the mean it enters are n/a
    for key in ("stance_variability_pct", "timing_variability_pct"):
        assert rows[key].session is None and rows[key].not_available.startswith("n/a (median absolute deviation 0")
    reason = (f"at 20 Hz one sample interval alone adds about {resolution:.1f}% to stride-to-stride timing "
              f"variability (judged up to 0.9%)")
    for key in ("stride_variability_pct", "stride_cv_pct", "stride_sd_ms"):
        assert rows[key].session is not None and rows[key].outside == () and rows[key].real_range is None
        assert rows[key].not_judged == f"not judged: {reason}"
    assert [(n.side, n.reason) for n in report.result.not_assessed if n.code == "irregular_gait"] == [("both", reason)]


def test_timing_variability_is_judged_at_100_hz():
    from insole.report._metrics import timing_resolution_pct

    report = build_report(simulate(SimulationParams(duration_s=120.0, seed=3, layout="gaitpdb8")))
    assert timing_resolution_pct(report.session) < 0.9
    rows = {k.key: k for k in report.key_numbers}
    for key in ("timing_variability_pct", "stride_variability_pct", "stance_variability_pct", "stride_cv_pct"):
        assert rows[key].not_judged == "" and rows[key].not_available == "" and rows[key].real_range is not None
    assert not [n for n in report.result.not_assessed if n.code == "irregular_gait"]


# ---------------------------------------------------------------- a walking speed outside every control's


def test_a_speed_outside_every_controls_is_named_and_within_it_is_not():
    from types import SimpleNamespace
    from typing import Any, cast

    from insole.report._findings import speed_outside_controls

    controls = cast(Any, SimpleNamespace(kind="real", recordings=[
        {"gait_speed_m_per_s": v} for v in (0.91, 1.2, 1.54, None, float("nan"))]))
    assert speed_outside_controls(0.66, controls) == (
        "walked slower than every control (0.66 vs 0.91–1.54 m/s): slower walking alone changes this measure")
    assert speed_outside_controls(1.60, controls).startswith("walked faster than every control (1.60 vs 0.91–1.54")
    assert speed_outside_controls(0.91, controls) == speed_outside_controls(1.54, controls) == ""
    assert speed_outside_controls(None, controls) == ""
    simulated = cast(Any, SimpleNamespace(kind="simulated", recordings=controls.recordings))
    assert speed_outside_controls(0.66, simulated) == ""
    two = cast(Any, SimpleNamespace(kind="real", recordings=[{"gait_speed_m_per_s": 1.0}, {"gait_speed_m_per_s": 1.2}]))
    assert speed_outside_controls(0.66, two) == ""  # fewer than 3 speeds: no range


def test_a_person_slower_than_every_control_is_told_so_beside_speed_dependent_measures(shared_data):
    """JuPt13_01 (gaitpdb-cohort): 0.66 m/s in the demographics, the gaitpdb8 controls 0.91-1.54 m/s."""
    from insole import load
    from insole.report._findings import SPEED_DEPENDENT

    path = shared_data / "gaitpdb-cohort" / "JuPt13_01.txt"
    report = build_report(load(path), path=path)
    # the set named: the speed row compares with the person's age band, these rows with the layout's controls
    note = ("walked slower than every control (0.66 vs 0.91–1.54 m/s) of real-controls-gaitpdb8, the set these "
            "measures are judged against (the walking-speed row compares with the age band of all real "
            "controls instead): slower walking alone changes this measure")
    rows = {k.key: k for k in report.key_numbers}
    for key in ("share_heel", "double_support_pct", "stance_pct", "valley_ratio"):
        assert rows[key].speed_note == note and rows[key].outside, key
    for row in rows.values():
        assert row.speed_note == (note if row.key in SPEED_DEPENDENT and row.real_range is not None else ""), row.key
    heel = [f for f in report.findings if f.code == "heel_avoidance"]
    assert [(f.side, f.confidence) for f in heel] == [("both", "low")]  # moderate without the speed caveat
    assert heel[0].notes[-1] == f"The person {note}."
    assert heel[0].confidence_reasons[-2:] == (f"lowered one step from moderate: the person {note}",
                                               "severity capped at mild by the low confidence")
    assert heel[0].severity == "mild"
    # a left/right test is not a comparison of values with the controls': untouched
    for f in report.findings:
        if f.code in ("load_asymmetry", "pronated_loading"):
            assert all("walked slower" not in n for n in (*f.notes, *f.confidence_reasons)), f.code
    # timing variability is judged against the controls' own and rises at slow speeds (session 13): caveated
    (irregular,) = [f for f in report.findings if f.code == "irregular_gait"]
    assert irregular.notes[-1] == f"The person {note}." and irregular.confidence == "low"
    assert irregular.confidence_reasons[-1].startswith("lowered one step from moderate: the person walked slower")
    page = render_html(report)
    # said once above the table (a new user found it repeated on every row), each row it concerns marked with †
    shared = note.replace("changes this measure", "changes each of these measures")
    assert page.count(f'Rows marked "† walking speed": the person {shared}.') == 1
    marked = sum(bool(r.speed_note) for r in rows.values())
    assert page.count("† walking speed (see the note above the table)") == marked


# ---------------------------------------------------------------- a finding and its key row agree


def test_an_unmarked_row_a_finding_rests_on_points_to_it():
    from types import SimpleNamespace

    from insole.report._build import KeyNumber, link_findings

    rows = [KeyNumber("impulse_si_pct", "Impulse SI", "%", session=17.1, real_range=(-13.0, 17.3), scope="session"),
            KeyNumber("share_heel", "Heel share", "%", left=20.0, right=21.0, outside=("left", "right")),
            KeyNumber("share_midfoot", "Midfoot share", "%", left=10.0, right=10.5),
            KeyNumber("cadence_steps_per_min", "Cadence", "steps/min", session=100.0)]
    findings = [SimpleNamespace(code="load_asymmetry", title="Left/right load asymmetry",
                                measured=SimpleNamespace(metric="impulse")),
                SimpleNamespace(code="heel_avoidance", title="Heel offloading",
                                measured=SimpleNamespace(metric="share_heel")),
                SimpleNamespace(code="low_arch_loading", title="Low arch loading",
                                measured=SimpleNamespace(metric="share_midfoot"))]
    linked = {k.key: k.see_finding for k in link_findings(rows, findings)}
    assert linked == {"impulse_si_pct": "see finding: load asymmetry (combined impulse/peak/F1 test)",
                      "share_heel": "",  # marked itself: nothing to reconcile
                      "share_midfoot": "see finding: low arch loading", "cadence_steps_per_min": ""}


def test_jupt13s_impulse_index_row_points_to_its_load_asymmetry_finding(shared_data):
    """JuPt13_01: load asymmetry flagged by the combined test; the impulse index 17.1 % lies inside the controls'
    -13.0..17.3 %, so the row has no mark and says where the judgement is."""
    from insole import load

    path = shared_data / "gaitpdb-cohort" / "JuPt13_01.txt"
    report = build_report(load(path), path=path)
    assert ("load_asymmetry", "left") in {(f.code, f.side) for f in report.findings}
    row = next(k for k in report.key_numbers if k.key == "impulse_si_pct")
    assert round(row.session or 0.0, 1) == 17.1 and row.outside == ()
    assert row.to_dict()["see_finding"] == "see finding: load asymmetry (combined impulse/peak/F1 test)"
    page = render_html(report)
    assert page.count('<span class="see-finding">see finding: load asymmetry (combined impulse/peak/F1 test)') == 1


def test_a_body_mass_taken_from_an_fscan_calibration_load_is_rounded_and_says_where_it_came_from(tmp_path):
    """F-Scan files give no body mass: the importer takes the walk calibration load (75.0001 kg), which the page
    shows rounded, named, and with why the body-weight check cannot test that calibration."""
    from _data import shared_data_dir

    from insole import load
    from insole.report import build_report, render_html

    path = shared_data_dir() / "vendor-exports" / "fscan_testL.asf"
    if not path.exists():
        pytest.skip("needs shared/data/vendor-exports")
    report = build_report(load(path), path=path)
    assert report.to_dict()["input"]["body_mass_from"] == "walk calibration load"
    assert ("<tr><td>Body mass</td><td>75.0 kg (the file's walk calibration load: the insole was calibrated to "
            "this load, so the body-weight check cannot test its calibration)") in render_html(report)

"""What a new user found wrong in ``insole batch`` on real files, each pinned by the outcome they checked.

1. A real Parquet recording at ``--out`` was left out of the inputs and replaced with the cohort table
   (``--force``): a recording at an output path is now refused even with ``--force`` (exit 2, file unchanged).
2. The batch row must be a view of the same ``Analysis`` that ``insole.analyze`` makes: the body weight from the
   demographics' mass, the first peak in BW and the body-weight check note alike. (The user's 658 N "load" row was
   a copy of GaCo14_01.txt without the demographics.txt beside it: the row now says where the subject facts came
   from, and has the subject columns empty rather than absent.)
3. The stride-to-stride timing variability irregular_gait is judged on is a column, and severity and confidence
   of a finding are two named columns.
4. A force symmetry index of uncalibrated insoles, which the analysis marks ``uncalibrated_force``, is empty with
   the reason.
5. A robust CV with a median absolute deviation of 0 is missing (NaN), not 0, and the both-feet mean is that of
   the feet that have one.
6. The session's cadence and one foot's cadence have names that say which is which.
7. A batch in which every recording fails writes no cohort table (not an empty one) and says so in one line.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _data import shared_data_dir

import insole
from insole import OutputError
from insole.analysis import ROBUST_CV_ZERO_PCT
from insole.batch import EngineSpec, read_cohort, run_batch
from insole.io import write_parquet

SHARED = shared_data_dir()
BIN = Path(sys.executable).parent
GACO14 = SHARED / "gaitpdb-cohort" / "GaCo14_01.txt"  # demographics.txt beside it: 47 kg, female, 68 years
HUNT16 = SHARED / "gaitndd-cohort" / "hunt16.hea"  # uncalibrated foot switches (au)
MOTICON = SHARED / "moticon-opengo" / "230927_102231.txt"  # right foot: stride-time MAD 0 at 100 Hz, 5 strides


def _insole(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "insole"), *args], capture_output=True, text=True, timeout=600)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GaCo14_01 with its demographics, the same file copied alone (no demographics), hunt16 and a Moticon walk."""
    root = tmp_path_factory.mktemp("study")
    (root / "gaitpdb").mkdir()
    shutil.copy(GACO14, root / "gaitpdb")
    shutil.copy(GACO14.parent / "demographics.txt", root / "gaitpdb")
    (root / "copied_alone").mkdir()
    shutil.copy(GACO14, root / "copied_alone" / "GaCo14_01.txt")
    (root / "gaitndd").mkdir()
    for suffix in (".hea", ".let", ".rit"):
        shutil.copy(HUNT16.with_suffix(suffix), root / "gaitndd")
    shutil.copy(HUNT16.parent / "subject-description.txt", root / "gaitndd")
    (root / "moticon").mkdir()
    shutil.copy(MOTICON, root / "moticon")
    return root


@pytest.fixture(scope="module")
def rows(study: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("out") / "cohort.parquet"
    result = run_batch([study], out, engine=EngineSpec(workers=1), cache=False, progress=False)
    assert len(result.errors) == 0, result.errors.to_dict(orient="records")
    # the one recording read without its table is named in a note the command prints
    assert [n for n in result.notes if "had no subject facts" in n] == [
        "1 recording (GaCo14_01) had no subject facts (body mass, sex, age): no demographics.txt beside the file, "
        "or no row for it there. A calibrated recording without a body mass has its body weight estimated from "
        "its load, so its BW metrics differ from the same file's in its dataset folder"]
    cohort, _ = read_cohort(out)  # what was written, not only what was returned
    return cohort.set_index("path")


def _row(rows: pd.DataFrame, path: Path) -> pd.Series:
    return rows.loc[str(path.resolve())]


def _value(cell):
    """A table cell with Parquet's missing text (None or NaN, by pandas version) as None."""
    return None if cell is None or (isinstance(cell, float) and math.isnan(cell)) else cell


# ---------------------------------------------------------------- 1. a recording at the output path


def test_a_recording_at_the_output_path_is_never_overwritten_even_with_force(tmp_path: Path) -> None:
    folder = tmp_path / "bf"
    folder.mkdir()
    shutil.copy(MOTICON, folder / "mt.txt")
    recording = folder / "rec.parquet"
    write_parquet(insole.load(GACO14), recording)
    before = _sha(recording)

    done = _insole("batch", str(folder), "--out", str(recording), "--force", "--quiet", "--no-cache")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (f"insole batch: error: {recording}: is a recording (parquet); it is never "
                                   "overwritten, even with --force (choose another name for the table)")
    assert _sha(recording) == before
    assert sorted(p.name for p in folder.iterdir()) == ["mt.txt", "rec.parquet"]  # nothing else written

    # the Python entry point refuses it alike, before any work
    with pytest.raises(OutputError, match="is a recording"):
        run_batch([folder], recording, force=True, cache=False, progress=False)
    assert _sha(recording) == before
    assert sorted(p.name for p in folder.iterdir()) == ["mt.txt", "rec.parquet"]


def test_a_table_of_another_writer_at_the_output_path_is_replaced_with_force(tmp_path: Path) -> None:
    """Parquet is recognised by its first bytes alone: a table pandas wrote is no recording, and --force replaces it
    as any table (a reviewer found it refused as 'a recording')."""
    from insole.batch import refuse_recording

    folder = tmp_path / "bf"
    folder.mkdir()
    shutil.copy(MOTICON, folder / "mt.txt")
    table = tmp_path / "mine.parquet"
    pd.DataFrame({"recording_id": ["a"], "cadence_steps_per_min": [110.0]}).to_parquet(table)
    refuse_recording(table)  # not refused
    done = _insole("batch", str(folder), "--out", str(table), "--force", "--quiet", "--no-cache")
    assert done.returncode == 0, done.stderr
    cohort, meta = read_cohort(table)
    assert list(cohort["recording_id"]) == ["mt"] and meta["schema"] == "insole.batch"  # the pandas table replaced


# ---------------------------------------------------------------- 2. the row is the analysis' own


def test_body_weight_and_first_peak_are_those_of_insole_analyze(rows: pd.DataFrame, study: Path) -> None:
    path = study / "gaitpdb" / "GaCo14_01.txt"
    analysis = insole.analyze(insole.load(path))
    weight = analysis.summary.body_weight
    row = _row(rows, path)
    assert (row["body_mass_kg"], row["body_weight_method"]) == (47.0, "mass")
    assert row["body_weight_n"] == weight["value"] == 47.0 * 9.80665
    assert row["body_weight_source"] == weight["source"]
    per_foot = analysis.summary.per_foot
    for side in ("left", "right"):
        assert row[f"{side}_first_peak_bw"] == per_foot.at["first_peak_bw", f"{side}_mean"]
        assert row[f"{side}_loading_rate_bw_s"] == per_foot.at["loading_rate_bw_s", f"{side}_mean"]
    # the body-weight check (walking load 1.43 x mass x g) is a note of the whole walk: once, for both feet
    assert row["quality_notes"].count("body weight check") == 1
    assert "both feet: body weight check: the insoles' mean walking load is 1.43 x body mass x g" in (
        row["quality_notes"])
    assert (row["sex"], row["age_years"], row["height_m"], row["hoehn_yahr"]) == ("female", 68.0, 1.7, 0.0)
    assert row["subject_facts_source"] == "demographics.txt (PhysioNet gaitpdb)"


def test_a_copy_without_its_demographics_says_so_and_keeps_the_columns(rows: pd.DataFrame, study: Path) -> None:
    alone = _row(rows, study / "copied_alone" / "GaCo14_01.txt")
    analysis = insole.analyze(insole.load(study / "copied_alone" / "GaCo14_01.txt"))
    assert alone["body_weight_method"] == "load" and math.isnan(alone["body_mass_kg"])
    assert alone["body_weight_n"] == analysis.summary.body_weight["value"]
    assert alone["body_weight_source"].startswith("estimated from the recording's own load")
    assert _value(alone["subject_facts_source"]) is None
    assert _value(alone["sex"]) is None and math.isnan(alone["age_years"]) and math.isnan(alone["hoehn_yahr"])
    # the same bytes: the walk's timing is the same, only what rests on the mass differs
    with_table = _row(rows, study / "gaitpdb" / "GaCo14_01.txt")
    assert alone["cadence_steps_per_min"] == with_table["cadence_steps_per_min"]
    assert alone["left_first_peak_bw"] != with_table["left_first_peak_bw"]


# ---------------------------------------------------------------- 3. variability, severity and confidence


def test_timing_variability_columns_are_the_analysis_own(rows: pd.DataFrame, study: Path) -> None:
    analysis = insole.analyze(insole.load(study / "gaitndd" / "hunt16.hea"))
    row = _row(rows, study / "gaitndd" / "hunt16.hea")
    for name in ("timing_variability_pct", "stride_variability_pct", "stance_variability_pct"):
        assert row[name] == analysis.summary.timing_variability[name], name
    # the value the report's irregular_gait finding states and judges is this column's
    from insole.report import evaluate, session_from_analysis, walk_identity

    recording = insole.load(study / "gaitndd" / "hunt16.hea")
    result = evaluate(session_from_analysis(analysis, recording), walk=walk_identity(recording))
    irregular = next(f for f in result.findings if f.code == "irregular_gait")
    assert irregular.measured.value == row["timing_variability_pct"]
    assert (irregular.severity, irregular.confidence) == (
        row["finding_irregular_gait_severity"], row["finding_irregular_gait_confidence"])
    # hunt16 is flagged irregular by the report's engine; the two words are in columns named for them
    assert row["finding_irregular_gait"] == "flagged" and row["finding_irregular_gait_side"] == "both"
    assert row["finding_irregular_gait_severity"] in ("mild", "moderate", "marked")
    assert row["finding_irregular_gait_confidence"] in ("very_low", "low", "moderate", "high")
    assert (f"irregular_gait(both, severity {row['finding_irregular_gait_severity']}, confidence "
            f"{row['finding_irregular_gait_confidence']})") in row["findings"]
    assert "finding_irregular_gait_severity_side" not in rows.columns


# ---------------------------------------------------------------- 4. uncalibrated force symmetry


def test_force_symmetry_of_uncalibrated_insoles_is_empty_with_the_reason(rows: pd.DataFrame, study: Path) -> None:
    analysis = insole.analyze(insole.load(study / "gaitndd" / "hunt16.hea"))
    symmetry = analysis.summary.symmetry
    marked = symmetry.index[symmetry["uncalibrated_force"].astype(bool)].tolist()
    assert "impulse_bw_s" in marked  # the analysis' own flag, not a rule of the batch's
    row = _row(rows, study / "gaitndd" / "hunt16.hea")
    for metric in marked:
        assert math.isnan(row[f"{metric}_si_pct"]), metric
        assert f"{metric}_si_pct" in row["si_not_comparable"]
    assert "uncalibrated insoles (au)" in row["si_not_comparable"]
    # timing is not on a force scale: its symmetry stays
    assert row["stance_time_s_si_pct"] == symmetry.at["stance_time_s", "symmetry_index_pct"]
    # calibrated insoles (N): the impulse symmetry is given, and nothing is said to be withheld
    calibrated = _row(rows, study / "gaitpdb" / "GaCo14_01.txt")
    gaco = insole.analyze(insole.load(study / "gaitpdb" / "GaCo14_01.txt")).summary.symmetry
    assert calibrated["impulse_bw_s_si_pct"] == gaco.at["impulse_bw_s", "symmetry_index_pct"]
    assert _value(calibrated["si_not_comparable"]) is None


# ---------------------------------------------------------------- 5. a MAD of 0 is missing, not 0


def test_a_robust_cv_with_mad_zero_is_missing_and_the_mean_is_of_the_other_foot(rows: pd.DataFrame,
                                                                               study: Path) -> None:
    analysis = insole.analyze(insole.load(study / "moticon" / "230927_102231.txt"))
    robust = analysis.summary.stride_time_robust_cv_pct
    assert abs(robust["right"]) < ROBUST_CV_ZERO_PCT < robust["left"]  # the file is what this test is about
    row = _row(rows, study / "moticon" / "230927_102231.txt")
    assert math.isnan(row["right_stride_time_robust_cv_pct"])
    assert row["left_stride_time_robust_cv_pct"] == robust["left"]
    assert row["stride_time_robust_cv_pct"] == robust["left"]  # the mean of the feet that have a value


# ---------------------------------------------------------------- 6. two cadences, two names


def test_the_session_cadence_and_each_foots_cadence_are_named_apart(rows: pd.DataFrame, study: Path) -> None:
    analysis = insole.analyze(insole.load(study / "gaitndd" / "hunt16.hea"))
    row = _row(rows, study / "gaitndd" / "hunt16.hea")
    assert row["cadence_steps_per_min"] == analysis.summary.cadence_steps_per_min
    for side in ("left", "right"):
        assert row[f"{side}_foot_cadence_steps_per_min"] == analysis.summary.per_foot.at[
            "cadence_steps_per_min", f"{side}_mean"]
    assert row["left_foot_cadence_steps_per_min"] != row["cadence_steps_per_min"]
    assert not {"left_cadence_steps_per_min", "right_cadence_steps_per_min", "foot_cadence_steps_per_min"} & set(
        rows.columns)


# ---------------------------------------------------------------- 7. every recording fails


def test_when_every_recording_fails_no_cohort_table_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "cut"
    folder.mkdir()
    (folder / "GaCo14_01.txt").write_bytes(GACO14.read_bytes()[:300_000])  # ends in the middle of a row
    out = tmp_path / "cohort.parquet"
    done = _insole("batch", str(folder), "--out", str(out), "--quiet", "--no-cache")
    assert done.returncode == 1, done.stderr
    assert not out.exists()
    errors = pd.read_csv(tmp_path / "cohort.errors.csv")
    assert errors["error_type"].tolist() == ["MalformedFileError"]
    first = done.stderr.splitlines()[0]
    assert first.startswith("insole batch: 1 recording: 0 analysed, 1 failed in ")
    assert first.endswith(f"; no recording could be analysed, so no cohort table was written ({out}); "
                          f"errors table: {tmp_path / 'cohort.errors.csv'}")

    # an earlier run's cohort table under --force is not left behind to be read as this run's
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(MOTICON, good)
    assert _insole("batch", str(good), "--out", str(out), "--quiet", "--no-cache", "--force").returncode == 0
    assert out.exists()
    done = _insole("batch", str(folder), "--out", str(out), "--quiet", "--no-cache", "--force")
    assert done.returncode == 1 and not out.exists()
    assert f"  note: the cohort table {out} of an earlier run was removed" in done.stderr

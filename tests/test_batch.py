"""insole batch on the real datasets: discovery, rows, errors, cache, and the same table from a real Dask cluster.

The acceptance run copies every gaitpdb, gaitndd and Moticon file of
../shared/data into a temporary folder, adds a truncated recording, and runs
``insole batch`` (the installed command, as a subprocess) with the default
process pool and against a Dask cluster this module starts itself: one
``dask scheduler`` and two ``dask worker`` processes from the venv, on
127.0.0.1 with free ports.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from insole.analysis import AnalysisParams, analyze, robust_cv_pct
from insole.batch import TIMING_COLUMNS, EngineSpec, Job, discover, read_cohort, run_batch
from insole.batch._cache import code_digest
from insole.batch._engines import run_jobs
from insole.batch._task import analyse_job
from insole.io import load

BIN = Path(sys.executable).parent
DATASETS = ("gaitpdb", "gaitndd", "moticon-opengo")
# 6 gaitpdb walks, 8 gaitndd records (each .hea/.let/.rit/.ts once), 3 Moticon text exports
EXPECTED_IDS = sorted(
    ["GaCo01_01", "GaPt03_01", "JuCo01_01", "JuPt03_01", "SiCo01_01", "SiPt02_01"]
    + ["als1", "als2", "control1", "control2", "hunt1", "hunt2", "park1", "park2"]
    + ["230927_102114", "230927_102231", "text_export"]
)
CORRUPT = "GaCo02_01.txt"


def _insole(*args: str, cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "insole"), *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
    )


@pytest.fixture(scope="module")
def study(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three datasets copied into one folder, plus a truncated gaitpdb file (an interrupted copy)."""
    root = tmp_path_factory.mktemp("study")
    for name in DATASETS:
        shutil.copytree(shared_data / name, root / name)
    original = (shared_data / "gaitpdb" / "GaCo01_01.txt").read_bytes()
    (root / "gaitpdb" / CORRUPT).write_bytes(original[:300_000])  # ends in the middle of a row
    return root


@pytest.fixture(scope="module")
def default_run(study: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("default") / "cohort.parquet"
    done = _insole("batch", str(study), "--out", str(out), "--strides")
    return done, out


def test_discover_finds_each_recording_once_by_content(shared_data: Path) -> None:
    found = discover([shared_data / name for name in DATASETS])
    assert sorted(c.recording_id for c in found.recordings) == EXPECTED_IDS
    by_id = {c.recording_id: c for c in found.recordings}
    assert by_id["hunt1"].path.name == "hunt1.hea" and by_id["hunt1"].format == "gaitndd"
    assert by_id["GaPt03_01"].format == "gaitpdb" and by_id["text_export"].format == "moticon"
    skipped = {p.name for p in found.skipped}
    # READMEs, checksums, description tables, stride tables and the vendor's xlsx reports are not recordings
    assert {"README.md", "demographics.txt", "subject-description.txt", "hunt1.ts",
            "gait_report_230927_10_21_14.xlsx"} <= skipped
    assert not any(name.endswith((".let", ".rit", ".hea")) for name in skipped)
    assert found.problems == ()


def test_discover_globs_files_and_missing_inputs(shared_data: Path, tmp_path: Path) -> None:
    readme = shared_data / "gaitpdb" / "README.md"
    found = discover([str(shared_data / "gaitndd" / "*.rit"), readme, tmp_path / "nothing-here",
                      str(tmp_path / "*.txt")])
    # a .rit opens its whole record, listed under the header
    assert [c.path.name for c in found.recordings] == [
        f"{n}.hea" for n in ("als1", "als2", "control1", "control2", "hunt1", "hunt2", "park1", "park2")
    ]
    reasons = {p.path.name: p.reason for p in found.problems}
    assert reasons["README.md"].startswith("unknown format")  # named on its own: an error, not a skip
    assert reasons["nothing-here"] == "no such file or folder"
    assert reasons["*.txt"] == "no file matches this pattern"


def test_default_engine_analyses_all_and_lists_the_corrupt_file(default_run, study: Path) -> None:
    done, out = default_run
    assert done.returncode == 1, done.stderr  # 1: the batch ran, one recording failed
    cohort, provenance = read_cohort(out)
    assert sorted(cohort["recording_id"]) == EXPECTED_IDS
    assert cohort["recording_id"].tolist() == sorted(cohort["recording_id"])
    errors = pd.read_csv(out.with_name("cohort.errors.csv"))
    assert errors["path"].tolist() == [str((study / "gaitpdb" / CORRUPT).resolve())]
    assert errors.loc[0, "format"] == "gaitpdb" and errors.loc[0, "error_type"] == "MalformedFileError"
    # the importer's own words after its first clause (how it tells the row is cut) are its to choose
    assert errors.loc[0, "reason"].startswith("file ends in the middle of a row (line 3191 ")
    # the summary line says where the errors are, and names the failure
    assert "18 recordings: 17 analysed, 1 failed in " in done.stderr
    assert "errors table: " + str(out.with_name("cohort.errors.csv")) in done.stderr
    assert f"  failed: {(study / 'gaitpdb' / CORRUPT).resolve()}: file ends in the middle of a row" in done.stderr
    # the progress bar (tqdm) went to stderr with counts
    assert "18/18" in done.stderr and done.stdout == ""
    assert provenance["counts"] == {"recordings": 17, "errors": 1, "from_cache": 0, "skipped_files": 18}
    assert provenance["analysis_parameters"] == AnalysisParams().to_dict()
    assert provenance["engine"] == {"engine": "processes", "workers": os.cpu_count()}
    assert provenance["version"] and provenance["inputs"] == [str(study)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A real Dask cluster: ``dask scheduler`` and two ``dask worker`` processes from the venv, torn down after."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    cwd = tmp_path_factory.mktemp("dask")  # workers run elsewhere: the jobs must carry absolute paths
    logs = [open(cwd / f"{name}.log", "w") for name in ("scheduler", "worker1", "worker2")]
    common = dict(cwd=cwd, stderr=subprocess.STDOUT, start_new_session=True)
    processes = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], stdout=logs[0], **common)]
    for k in (1, 2):
        processes.append(subprocess.Popen(
            [str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1",
             "--no-dashboard", "--name", f"worker{k}"], stdout=logs[k], **common))
    try:
        deadline = time.monotonic() + 180  # generous: worker start-up imports numpy/pandas on a busy machine
        workers = 0
        while time.monotonic() < deadline:
            try:
                with Client(address, timeout=10) as client:
                    workers = len(client.scheduler_info(n_workers=-1)["workers"])
                    if workers == 2:
                        break
            except (OSError, TimeoutError):
                pass
            time.sleep(1)
        assert workers == 2, "the Dask cluster did not come up: " + (cwd / "worker1.log").read_text()[-2000:]
        yield address
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in logs:
            log.close()


@pytest.mark.slow
def test_dask_cluster_gives_the_identical_tables(default_run, study: Path, dask_cluster: str,
                                                 tmp_path: Path) -> None:
    out = tmp_path / "cohort.parquet"
    done = _insole("batch", str(study), "--out", str(out), "--strides", "--scheduler", dask_cluster)
    assert done.returncode == 1, done.stderr
    dask_cohort, provenance = read_cohort(out)
    local_cohort, _ = read_cohort(default_run[1])
    assert provenance["engine"] == {"engine": "dask", "scheduler": dask_cluster, "workers": 2}
    # both workers took part (the worker column says host:pid)
    assert dask_cohort["worker"].nunique() == 2
    ordered = [frame.sort_values("recording_id").drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)
               for frame in (local_cohort, dask_cohort)]
    pd.testing.assert_frame_equal(ordered[0], ordered[1], check_exact=True)
    local_strides, _ = read_cohort(default_run[1].with_name("cohort.strides.parquet"))
    dask_strides, _ = read_cohort(out.with_name("cohort.strides.parquet"))
    pd.testing.assert_frame_equal(local_strides, dask_strides, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_csv(out.with_name("cohort.errors.csv")),
                                  pd.read_csv(default_run[1].with_name("cohort.errors.csv")))


def test_row_holds_the_analysis_summary_exactly(default_run, study: Path) -> None:
    cohort, _ = read_cohort(default_run[1])
    row = cohort.set_index("recording_id").loc["hunt1"]
    analysis = analyze(load(study / "gaitndd" / "hunt1.hea"))
    per_foot = analysis.summary.per_foot
    assert row["left_stride_time_s"] == per_foot.at["stride_time_s", "left_mean"]
    assert row["right_stance_time_s_sd"] == per_foot.at["stance_time_s", "right_sd"]
    assert row["right_swing_time_cv_pct"] == per_foot.at["swing_time_s", "right_cv_pct"]
    assert row["stance_pct"] == (per_foot.at["stance_pct", "left_mean"] + per_foot.at["stance_pct", "right_mean"]) / 2
    assert row["stance_time_s_si_pct"] == analysis.summary.symmetry.at["stance_time_s", "symmetry_index_pct"]
    cv = analysis.summary.stride_time_cv_pct
    assert row["stride_time_cv_pct"] == (cv["left"] + cv["right"]) / 2
    assert row["cadence_steps_per_min"] == analysis.summary.cadence_steps_per_min
    assert row["left_strides_used"] == analysis.quality["left"]["strides_used"]
    # identity and metadata from the importer (gaitndd subject-description.txt beside the record)
    assert (row["subject_id"], row["group"], row["sex"], row["age_years"], row["body_mass_kg"]) == (
        "hunt1", "huntingtons", "male", 42.0, 72.0)
    assert row["unit"] == "au" and row["layout"] == "footswitch1" and row["sample_rate_hz"] == 300.0
    gaitpdb = cohort.set_index("recording_id").loc["GaPt03_01"]
    assert (gaitpdb["subject_id"], gaitpdb["group"], gaitpdb["hoehn_yahr"]) == ("GaPt03", "parkinsons", 3.0)
    assert math.isnan(cohort.set_index("recording_id").loc["text_export", "body_mass_kg"])


def test_findings_columns_match_the_report_engine(default_run, study: Path) -> None:
    from insole.report import CODES, evaluate, session_from_analysis

    cohort, provenance = read_cohort(default_run[1])
    assert provenance["findings"]["codes"] == list(CODES)
    row = cohort.set_index("recording_id").loc["GaPt03_01"]
    recording = load(study / "gaitpdb" / "GaPt03_01.txt")
    result = evaluate(session_from_analysis(analyze(recording), recording))
    assert row["findings_status"] == "evaluated"
    flagged = {f.code: f for f in result.findings}
    skipped = {n.code for n in result.not_assessed}
    for code in CODES:
        expected = "flagged" if code in flagged else (None if code in skipped else "not_flagged")
        assert _value(row[f"finding_{code}"]) == expected, code
        words = (flagged[code].severity, flagged[code].confidence) if code in flagged else (None, None)
        assert (_value(row[f"finding_{code}_severity"]), _value(row[f"finding_{code}_confidence"])) == words, code
    assert row["findings"] == "; ".join(
        f"{f.code}({f.side}, severity {f.severity}, confidence {f.confidence})" for f in result.findings)
    # a single-sensor foot switch cannot show arch loading: not assessed, never "not flagged"
    assert _value(cohort.set_index("recording_id").loc["hunt1", "finding_low_arch_loading"]) is None


def _value(cell):
    """A table cell with Parquet's missing text (None or NaN, by pandas version) as None."""
    return None if cell is None or (isinstance(cell, float) and math.isnan(cell)) else cell


def test_strides_table_has_every_stride(default_run, study: Path) -> None:
    strides, _ = read_cohort(default_run[1].with_name("cohort.strides.parquet"))
    analysis = analyze(load(study / "moticon-opengo" / "230927_102114.txt"))
    mine = strides[strides["recording_id"] == "230927_102114"]
    for side in ("left", "right"):
        expected = analysis.strides[side].reset_index(drop=True)
        got = mine[mine["side"] == side].drop(columns=["recording_id", "side"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
    assert set(strides["recording_id"]) == set(EXPECTED_IDS)


def test_cache_skips_done_work_and_sees_changed_content(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "gaitndd"
    folder.mkdir()
    for name in ("control1", "hunt1"):
        for suffix in (".hea", ".let", ".rit", ".ts"):
            shutil.copy(shared_data / "gaitndd" / f"{name}{suffix}", folder)
    shutil.copy(shared_data / "gaitndd" / "subject-description.txt", folder)
    out = tmp_path / "out" / "cohort.parquet"
    out.parent.mkdir()
    engine = EngineSpec(workers=1)
    first = run_batch([folder], out, engine=engine, progress=False)
    assert first.n_from_cache == 0 and len(first.cohort) == 2
    assert (out.parent / ".insole-cache").is_dir()

    again = run_batch([folder], out, engine=engine, progress=False, force=True)
    assert again.n_from_cache == 2
    pd.testing.assert_frame_equal(again.cohort, first.cohort, check_exact=True)  # timing columns too: cached rows

    # a new body mass in the description table beside the records changes both recordings' content
    table = folder / "subject-description.txt"
    table.write_text(table.read_text().replace("hunt1\thunt\t42\t1.86\t72", "hunt1\thunt\t42\t1.86\t80"))
    changed = run_batch([folder], out, engine=engine, progress=False, force=True)
    assert changed.n_from_cache == 0
    assert changed.cohort.set_index("recording_id").loc["hunt1", "body_mass_kg"] == 80.0

    # one digit of one record's stride table (a companion file): only that record is analysed again
    stride_table = folder / "control1.ts"
    text = stride_table.read_text()
    stride_table.write_text(text.replace(text.split("\t")[1], text.split("\t")[1][:-1] + "9", 1))
    partial = run_batch([folder], out, engine=engine, progress=False, force=True)
    assert partial.n_from_cache == 1 and len(partial.errors) == 0
    before = changed.cohort.drop(columns=list(TIMING_COLUMNS))
    pd.testing.assert_frame_equal(partial.cohort.drop(columns=list(TIMING_COLUMNS)), before, check_exact=True)
    assert partial.cohort.loc[1, "analysis_time_s"] == changed.cohort.loc[1, "analysis_time_s"]  # hunt1: cached
    assert partial.cohort.loc[0, "analysis_time_s"] != changed.cohort.loc[0, "analysis_time_s"]  # control1: redone

    # other parameters are other work; refresh (--refresh) redoes everything
    other = run_batch([folder], out, engine=engine, progress=False, force=True,
                      params=AnalysisParams(min_bout_strides=5))
    assert other.n_from_cache == 0
    forced = run_batch([folder], out, engine=engine, progress=False, force=True, refresh=True)
    assert forced.n_from_cache == 0
    # --strides needs the stride tables: rows cached without them are analysed again
    with_strides = run_batch([folder], out, engine=engine, progress=False, force=True, strides=True)
    assert with_strides.n_from_cache == 0 and len(with_strides.strides) > 400
    assert run_batch([folder], out, engine=engine, progress=False, force=True, strides=True).n_from_cache == 2


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a recording\n")
    done = _insole("batch", str(empty), "--out", str(tmp_path / "cohort.parquet"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"insole batch: error: {empty}: no supported recordings found"
    done = _insole("batch", str(empty), "--out", str(tmp_path / "missing" / "cohort.parquet"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().endswith(f"its folder {tmp_path / 'missing'} does not exist (create it first)")
    assert not (tmp_path / "missing").exists()
    done = _insole("batch", str(empty), "--out", str(tmp_path / "c.parquet"), "--scheduler", "nowhere")
    assert done.returncode == 2 and "--scheduler must be 'local' or an address" in done.stderr


def test_unreachable_scheduler_is_one_line(shared_data: Path, tmp_path: Path) -> None:
    done = _insole("batch", str(shared_data / "gaitndd" / "als1.hea"), "--out", str(tmp_path / "c.parquet"),
                   "--scheduler", f"tcp://127.0.0.1:{_free_port()}", "--no-cache", "--quiet", timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in done.stderr


def _die_on_hunt(job: Job) -> dict:
    """A task whose worker process dies on one recording, as a native crash would kill it."""
    if Path(job.path).stem == "hunt1":
        os._exit(3)
    return analyse_job(job)


def test_a_crashed_worker_fails_only_its_recording(shared_data: Path) -> None:
    found = discover([shared_data / "gaitndd"])
    jobs = [Job(str(c.path), c.format, "", AnalysisParams().to_dict(), findings=False) for c in found.recordings]
    results = list(run_jobs(jobs, EngineSpec(workers=2), task=_die_on_hunt))
    failed = [r["error"] for r in results if not r["ok"]]
    assert len(results) == 8
    assert [e["recording_id"] for e in failed] == ["hunt1"]
    assert failed[0]["reason"] == "the worker process died while analysing this recording (a crash, or out of memory)"
    assert sorted(r["row"]["recording_id"] for r in results if r["ok"]) == [
        "als1", "als2", "control1", "control2", "hunt2", "park1", "park2"]


def test_robust_cv_known_answer() -> None:
    # the batch row's robust CV is the analysis' (insole.analysis.robust_cv_pct over the used strides)
    # strides 1.0, 1.1, 1.2: median 1.1, MAD 0.1 -> 1.4826 * 0.1 / 1.1 * 100
    assert robust_cv_pct(np.array([1.0, 1.1, 1.2])) == pytest.approx(100 * 1.4826 * 0.1 / 1.1, rel=1e-12)
    # one split contact (a 0.35 s "stride") in 200 steady strides: the plain CV more than triples,
    # the robust CV moves by under 2 % of itself (one of 201 values shifts the median by a rank)
    steady = 1.1 + 0.02 * np.random.default_rng(7).standard_normal(200)
    split = np.r_[steady, 0.35]
    assert robust_cv_pct(split) == pytest.approx(robust_cv_pct(steady), rel=0.02)
    assert np.std(split, ddof=1) / np.mean(split) > 3 * np.std(steady, ddof=1) / np.mean(steady)
    assert math.isnan(robust_cv_pct(np.array([1.0, 1.1])))


@pytest.mark.slow
def test_scheduler_local_starts_a_dask_localcluster_from_the_command(shared_data: Path, tmp_path: Path) -> None:
    records = [str(shared_data / "gaitndd" / f"{name}.hea") for name in ("control1", "hunt2")]
    out = tmp_path / "local.parquet"
    done = _insole("batch", *records, "--out", str(out), "--scheduler", "local", "--workers", "2", "--no-cache")
    assert done.returncode == 0, done.stderr
    cohort, provenance = read_cohort(out)
    assert provenance["engine"] == {"engine": "dask-local", "workers": 2}
    # the default engine, also from the command (the same code as the run above, imported afresh)
    default = _insole("batch", *records, "--out", str(tmp_path / "default.parquet"), "--no-cache", "--quiet")
    assert default.returncode == 0, default.stderr
    reference, _ = read_cohort(tmp_path / "default.parquet")
    assert len(reference) == 2
    pd.testing.assert_frame_equal(cohort.drop(columns=list(TIMING_COLUMNS)),
                                  reference.drop(columns=list(TIMING_COLUMNS)), check_exact=True)


@pytest.mark.slow
def test_a_scheduler_without_workers_is_one_line(shared_data: Path, tmp_path: Path) -> None:
    port = _free_port()
    scheduler = subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
    try:
        spec = EngineSpec(scheduler=f"tcp://127.0.0.1:{port}", connect_timeout_s=60)
        job = Job(str(shared_data / "gaitndd" / "als1.hea"), "gaitndd", "", AnalysisParams().to_dict())
        from insole.batch import EngineError

        with pytest.raises(EngineError, match=f"no Dask worker joined the scheduler at tcp://127.0.0.1:{port} "
                                              "within 60 s"):
            list(run_jobs([job], spec))
    finally:
        os.killpg(scheduler.pid, signal.SIGTERM)
        scheduler.wait(timeout=30)


def test_the_cache_key_changes_with_the_findings_data_not_only_the_code(tmp_path: Path) -> None:
    # a rebuilt reference set changes findings as a changed rule does: a row cached before it must not be reused
    package = tmp_path / "insole"
    (package / "report" / "_data" / "reference_sets").mkdir(parents=True)
    (package / "analysis.py").write_text("x = 1\n")
    reference = package / "report" / "_data" / "reference_sets" / "set.json"
    reference.write_text('{"n": 38}')
    digest = code_digest.__wrapped__  # the package's own digest is cached once per process: this tree's, afresh
    before = digest(package)
    reference.write_text('{"n": 37}')
    assert digest(package) != before
    (package / "notes.txt").write_text("not read")  # outside the findings' data: no part of the key
    reference.write_text('{"n": 38}')
    assert digest(package) == before


def test_finding_columns_are_text_whether_or_not_any_recording_has_the_finding() -> None:
    # bench_batch found the cohort of 60 recordings and the first 60 rows of the cohort of 200 typed apart: a side
    # column all empty was Python objects, one with a side in it text
    from insole.batch._run import cohort_frame

    none = cohort_frame([{"recording_id": f"r{k}", "path": f"p{k}", "finding_x_side": None} for k in range(3)])
    some = cohort_frame([{"recording_id": f"r{k}", "path": f"p{k}", "finding_x_side": ("left" if k == 3 else None)}
                         for k in range(4)])
    assert none["finding_x_side"].dtype == some["finding_x_side"].dtype
    assert none["finding_x_side"].equals(some["finding_x_side"].iloc[:3])

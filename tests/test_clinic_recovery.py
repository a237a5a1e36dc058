"""A capture killed with the app (SIGKILL) is recovered into its visit at the next start; nothing else is lost.

The child process plays the app: it holds the clinic's database open, begins a
capture and writes the capture stream exactly as the recorder does
(``insole.io.RecordingStreamWriter`` at the path ``insole.capture`` derives from
``TestRun.capture_path``), says how many rows have reached the operating
system, and is killed with SIGKILL while it holds everything open.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dashboards._clinic_app._recovery import RECOVERED_NOTE
from dashboards._clinic_app._store import DB_NAME, ClinicStore
from insole.io import RecordingStreamWriter, read_parquet
from insole.simulate import SimulationParams, simulate

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"

# The child: a capture of a simulated walk, one batch per foot per simulated second, then it waits to be killed.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from dashboards._clinic_app._store import ClinicStore
    from insole import RecordingMeta
    from insole.io import RecordingStreamWriter
    from insole.simulate import SimulationParams, simulate

    folder, visit_id, seconds, partial = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    store = ClinicStore.open(folder)
    run = store.begin_capture(visit_id, test="free_walk", source="emulated")
    stream = run.capture_path.with_name(run.capture_path.stem + ".arrows")   # insole.capture's name for it
    walk = simulate(SimulationParams(duration_s=seconds + 5, seed=3))
    writer = RecordingStreamWriter(stream, layout=walk.layout, unit=walk.unit, sample_rate_hz=walk.sample_rate_hz,
                                   meta=RecordingMeta(subject_id="P-1", body_mass_kg=70.0), has_imu=True)
    rows = 0
    for second in range(seconds):
        for side in ("left", "right"):
            foot = walk.samples(side)
            part = (foot.time_s >= second) & (foot.time_s < second + 1)
            writer.append(side, foot.time_s[part], foot.values[part], foot.valid[part],
                          accel_g=foot.accel_g[part], gyro_dps=foot.gyro_dps[part])
            rows += int(part.sum())
    if partial:
        # the start of one more batch: what a kill in the middle of a write leaves at the end of the stream
        with open(stream, "ab") as handle:
            handle.write(b"\\xff\\xff\\xff\\xff" + (4096).to_bytes(4, "little") + b"\\x01" * 100)
            handle.flush()
    print(run.id, rows, flush=True)
    time.sleep(600)
""")


def _rows(folder: Path, table: str) -> list[tuple]:
    connection = sqlite3.connect(folder / DB_NAME)
    try:
        return connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    finally:
        connection.close()


def _kill_during_capture(folder: Path, visit_id: int, seconds: int, partial: bool) -> tuple[int, int]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(visit_id), str(seconds),
                              "1" if partial else "0"], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # written only once every batch has reached the operating system
        assert line, "the capturing child ended without saying what it wrote"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    test_id, rows = (int(x) for x in line.split())
    return test_id, rows


@pytest.mark.parametrize("partial", [False, True], ids=["between-batches", "mid-batch"])
def test_a_capture_killed_with_the_app_is_recovered_into_its_visit(tmp_path: Path, partial: bool) -> None:
    folder = tmp_path / "clinic"
    with ClinicStore.open(folder) as store:
        patient = store.add_patient("P-1", mass_kg=70)
        first = store.add_visit(patient.id, visit_date=dt.date(2026, 1, 5), footwear="shoes")
        earlier = store.import_recording(first.id, SAMPLE)
        today = store.add_visit(patient.id, visit_date=dt.date(2026, 2, 5), orthosis="insert A")
    before = {table: _rows(folder, table) for table in ("patients", "visits", "files", "measures")}
    test_id, rows = _kill_during_capture(folder, today.id, seconds=25, partial=partial)
    assert (folder / "captures" / f"{test_id}.arrows").exists()

    with ClinicStore.open(folder) as store:
        assert store.test(test_id).status == "capturing"  # what the killed app left
        recovered = store.recover_interrupted()
        assert [r.id for r in recovered] == [test_id]
        run = recovered[0]
        assert (run.status, run.visit_id, run.reason) == ("done", today.id, "")
        assert run.summary.startswith(RECOVERED_NOTE)
        assert run.recording_sha256 is not None and run.report_sha256 is not None
        recording = read_parquet(store.file_path(run.recording_sha256))
        # every row that had reached the operating system is in the visit; a partial batch is dropped
        assert sum(recording.samples(side).n_samples for side in recording.sides) == rows
        assert recording.meta.extra["recovered_from_stream"]["ended_in_partial_batch"] is partial
        assert store.tests(today.id) == [run]
        assert {m.name for m in store.measures(run.id)} >= {"cadence_steps_per_min", "stance_pct_left"}
        assert store.test(earlier.id) == earlier
        assert store.recover_interrupted() == []  # done once
    # nothing else lost or changed: the earlier rows are all still there, as they were
    after = {table: _rows(folder, table) for table in ("patients", "visits", "files", "measures")}
    for table, old in before.items():
        assert after[table][:len(old)] == old, table
    assert sorted(p.name for p in (folder / "captures").iterdir()) == []


def test_a_capture_killed_before_its_first_batch_is_a_failed_test_and_the_rest_is_kept(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    with ClinicStore.open(folder) as store:
        visit = store.add_visit(store.add_patient("P-1").id, visit_date=dt.date(2026, 1, 5))
        run = store.begin_capture(visit.id, test="10mwt", source="insole", inputs={"walkway_m": 14.0})
        assert run.capture_path == folder / "captures" / f"{run.id}.parquet"
    # the app died before the recorder wrote anything
    with ClinicStore.open(folder) as store:
        (failed,) = store.recover_interrupted()
        assert (failed.id, failed.status, failed.reason) == (
            run.id, "failed",
            "recovered after the app stopped during the capture: nothing was captured (no recording was written)")
        assert store.visit(visit.id) == visit


def test_a_finalised_capture_whose_app_died_before_storing_it_is_stored(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    walk = simulate(SimulationParams(duration_s=30, seed=2))
    with ClinicStore.open(folder) as store:
        visit = store.add_visit(store.add_patient("P-1").id, visit_date=dt.date(2026, 1, 5))
        run = store.begin_capture(visit.id, test="free_walk", source="emulated")
        assert run.capture_path is not None
        stream = run.capture_path.with_name(f"{run.id}.arrows")
        writer = RecordingStreamWriter(stream, layout=walk.layout, unit=walk.unit, sample_rate_hz=100.0,
                                       meta=walk.meta, has_imu=True)
        for side in walk.sides:
            foot = walk.samples(side)
            writer.append(side, foot.time_s, foot.values, foot.valid, accel_g=foot.accel_g, gyro_dps=foot.gyro_dps)
        assert writer.finalize(run.capture_path) == run.capture_path  # the recorder's end: the Parquet file
    with ClinicStore.open(folder) as store:
        (done,) = store.recover_interrupted()
        assert done.status == "done" and done.recording_sha256 is not None
        stored = read_parquet(store.file_path(done.recording_sha256))
        assert stored.samples("left").n_samples == walk.samples("left").n_samples
        assert not run.capture_path.exists()


def test_recovery_leaves_alone_a_capture_this_app_is_running(tmp_path: Path) -> None:
    with ClinicStore.open(tmp_path / "clinic") as store:
        visit = store.add_visit(store.add_patient("P-1").id, visit_date=dt.date(2026, 1, 5))
        running = store.begin_capture(visit.id, test="free_walk", source="emulated")
        assert store.recover_interrupted() == []
        assert store.test(running.id).status == "capturing"

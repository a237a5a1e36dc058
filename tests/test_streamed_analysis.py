"""Reading our Parquet recordings a few columns of a row group at a time gives the recording the file holds.

``insole.io.load`` of our own Parquet file fills each foot's arrays piece by
piece (issue 19: the peak is the recording and a piece, not the recording and
the file's whole table beside it). Whatever the row groups (aligned with the
feet or not, one row or many), the recording must be the one written, array
for array; a file whose feet are not one block of rows in time order (another
writer's) is read whole, as before, and gives the same recording too.

The lean analysis path gives the same numbers as the whole-array path, table
by table, bit for bit. The reader stores a foot's values sensor by sensor
(column-major: ``values.T`` is the (sensors, samples) array the sensor checks
work on) and ``insole analyze``, when no other output reads the samples after
the analysis, runs its lean path (``analyze(..., overwrite_recording=True)``):
the checks work in the recording's own values instead of a copy, and the feet go
one after the other.
Neither may move a number. On real recordings of four layouts and units written
to our Parquet format, and on a simulated walk with an IMU: ``analyze`` of the
file read back, with and without ``overwrite_recording``, gives every table
(events, steps, strides, summary, curves, regions, sensors, quality) of the
original, bit for bit (the flattening and comparison of ``test_core_identity``),
and ``insole analyze --json --tables``
(the lean path) writes the JSON and every table the whole-array analysis
gives, exactly.

The streamed analysis (``analyze(path)``, which ``insole analyze`` runs on our
Parquet files when no other output reads the samples) reads the file while it
works: each foot's columns whole for the checks, the force and the events, then
let go; its stances' per-sensor numbers a stretch of samples at a time. Files
rewritten in small row groups (shorter than a stance, across the two feet) and
in large ones (a group cut into several stretches) make every stretch boundary
happen; on real recordings of four layouts and units, simulated walks with an
IMU, spikes, a stuck span, a flat sensor, lost samples and standing, every table
is the whole arrays' bit for bit, with loading the whole file barred (so the
streamed path is the one that ran). Files of other writers are loaded whole,
with the same numbers and the same refusals.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _data import missing_reason, shared_data_dir
from test_core_identity import differences, flatten

from insole import FootSamples, Recording
from insole._cli import main
from insole._cli._analyze import analysed_file
from insole.analysis import _streamed as streamed
from insole.analysis import analyze, write_json
from insole.io import analysis_tables, load, write_parquet, write_tables
from insole.simulate import SimulationParams, simulate


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    recording = simulate(SimulationParams(duration_s=40.0, seed=3, layout="insole16", sample_rate_hz=100.0))
    path = write_parquet(recording, tmp_path_factory.mktemp("streamed") / "walk.parquet")
    return recording, path


def _rewritten(source: Path, out: Path, row_group_size: int, order: np.ndarray | None = None) -> Path:
    table = pq.read_table(source)
    if order is not None:
        table = table.take(pa.array(order))
    pq.write_table(table, out, compression="zstd", row_group_size=row_group_size)
    return out


@pytest.mark.parametrize("row_group_size", [1_000, 3_999, 4_000, 4_001, 7_919, 1_000_000])
def test_any_row_groups_read_back_the_recording_written(written, tmp_path: Path, row_group_size: int) -> None:
    recording, path = written
    assert recording.left.n_samples == 4_000  # 40 s at 100 Hz: 4,000 is the feet's boundary, 3,999/4,001 beside it
    again = load(_rewritten(path, tmp_path / "r.parquet", row_group_size))
    assert again.equals(recording)
    for side in again.sides:  # read-only, as every recording's arrays
        assert not again.samples(side).values.flags.writeable
        assert again.samples(side).values.T.flags.c_contiguous  # sensor by sensor, one contiguous row each


def test_feet_in_another_order_or_interleaved_read_the_same(written, tmp_path: Path) -> None:
    recording, path = written
    n = recording.left.n_samples
    right_first = np.r_[np.arange(n, 2 * n), np.arange(n)]
    interleaved = np.column_stack([np.arange(n), np.arange(n, 2 * n)]).ravel()
    backwards_in_time = np.r_[np.arange(n)[::-1], np.arange(n, 2 * n)]
    for name, order in (("right_first", right_first), ("interleaved", interleaved),
                        ("backwards", backwards_in_time)):
        again = load(_rewritten(path, tmp_path / f"{name}.parquet", 1_500, order))
        assert again.equals(recording), name


REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["gaitndd_control1", "gaitpdb_GaCo01_01_60s", "moticon_230927_102114"])
def test_analyze_json_of_a_file_in_small_row_groups_is_the_same(name: str, tmp_path: Path) -> None:
    # the whole command (reading beside the analysis' imports on a second thread): the same bytes out
    from insole._cli import main

    source = REPO / "recordings" / f"{name}.parquet"
    small = _rewritten(source, tmp_path / f"{name}.parquet", 777)  # groups across both feet, none aligned
    assert pq.ParquetFile(small).metadata.num_row_groups > 2
    outs = []
    for path in (source, small):
        out = tmp_path / f"{path.parent.name}-{name}.json"
        assert main(["analyze", str(path), "--json", str(out)]) == 0
        document = json.loads(out.read_text())
        analysed = document["provenance"]["input"].pop("analysed_file")  # path, size, SHA-256: another file
        assert analysed["size_bytes"] == path.stat().st_size
        outs.append(document)
    assert outs[0] == outs[1]


def _variants(table: pa.Table) -> dict[str, pa.Table]:
    """Files another writer could make: nulls in a sensor and in ``valid``, integer and float64 sensor columns."""
    names = table.column_names
    sensor = next(n for n in names if n.endswith("_n") and n != "vendor_total_force_n")
    at = names.index(sensor)
    gaps = np.zeros(table.num_rows, dtype=bool)
    gaps[[5, 3_000, 7_000, 11_000]] = True  # in several row groups of either foot
    values = table.column(sensor).to_numpy()
    valid = table.column("valid").to_numpy(zero_copy_only=False)
    return {
        "sensor_nulls": table.set_column(at, sensor, pa.array(values, mask=gaps)),
        "valid_nulls": table.set_column(names.index("valid"), "valid", pa.array(valid, mask=gaps)),
        "int32": table.set_column(at, sensor, pa.array(np.round(values).astype(np.int32))),
        "float64": table.set_column(at, sensor, pa.array(values.astype(np.float64))),
    }


def test_other_writers_files_read_the_same_in_any_row_groups(tmp_path: Path) -> None:
    table = pq.read_table(REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet")
    for name, variant in _variants(table).items():
        one, many = tmp_path / f"{name}-one.parquet", tmp_path / f"{name}-many.parquet"
        pq.write_table(variant, one, row_group_size=variant.num_rows)
        pq.write_table(variant, many, row_group_size=999)
        read = load(many)
        assert read.equals(load(one)), name
        if name == "sensor_nulls":  # a null reading is a NaN sample, where it was
            column = table.column_names.index(next(n for n in table.column_names if n.endswith("_n")))
            left = read.samples("left").values[:, column - 3]  # side, time_s, valid come first
            assert np.isnan(left[[5, 3_000]]).all() and np.isfinite(np.delete(left, [5, 3_000])).all()


def test_an_infinite_reading_is_refused_alike_in_any_row_groups(tmp_path: Path) -> None:
    from insole import MalformedFileError

    table = _variants(pq.read_table(REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"))["float64"]
    sensor = next(n for n in table.column_names if n.endswith("_n"))
    values = table.column(sensor).to_numpy().copy()
    values[8_000] = np.inf  # the right foot's sample 1999 (the left has 6001)
    table = table.set_column(table.column_names.index(sensor), sensor, pa.array(values))
    messages = []
    for groups in (table.num_rows, 2_500):
        path = tmp_path / f"inf-{groups}.parquet"
        pq.write_table(table, path, row_group_size=groups)
        with pytest.raises(MalformedFileError) as refused:
            load(path)
        messages.append(str(refused.value).replace(str(path), "FILE"))
    assert messages[0] == messages[1]
    assert f"right foot, column '{sensor}': inf at its sample 1999" in messages[0]


def test_reading_our_parquet_imports_no_pandas() -> None:
    # Arrow's own to_numpy imports pandas on first use (0.3 s of every command that reads a recording):
    # the reader takes numbers and true/false from the Arrow buffers instead
    import subprocess
    import sys

    code = ("import sys\nfrom insole.io import load\nrecording = load(sys.argv[1])\n"
            "print(recording.left.n_samples, 'pandas' in sys.modules)")
    path = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["6001", "False"]


# --- the lean analysis path (column-major values; insole analyze works in the recording's own arrays) ---

SHARED = shared_data_dir()
REAL = {
    "gaitpdb": SHARED / "gaitpdb" / "GaCo01_01.txt",  # 8 force sensors, N, two feet
    "moticon": SHARED / "moticon-opengo" / "230927_102114.txt",  # 16 pressure sensors, kPa, IMU
    "pedar": SHARED / "vendor-exports" / "pedar_example.asc",  # 99 pressure sensors, kPa
    "stappone": SHARED / "vendor-exports" / "stappone_example.csv",  # 12 sensors, au, one foot, "shape"
}


def _copy(recording: Recording) -> Recording:
    """The recording with arrays of its own, C-ordered as an importer makes them: equal, sharing no memory."""
    feet: dict[str, FootSamples] = {}
    for side in recording.sides:
        foot = recording.samples(side)
        feet[side] = FootSamples(time_s=foot.time_s, values=np.ascontiguousarray(foot.values), valid=foot.valid,
                                 accel_g=foot.accel_g, gyro_dps=foot.gyro_dps, channels=dict(foot.channels))
    return recording.replace(left=feet.get("left"), right=feet.get("right"))


def _check_lean_path(original: Recording, parquet: Path, folder: Path) -> None:
    analysis = analyze(original)
    read = load(parquet)
    assert read.equals(original)  # the reader's column-major values are the same numbers
    for side in read.sides:
        assert read.samples(side).values.T.flags.c_contiguous  # stored sensor by sensor
    kept = _copy(read)
    problems = differences(flatten(analyze(read)), flatten(analysis))
    assert not problems, "analyze of the Parquet recording:\n" + "\n".join(problems[:40])
    assert read.equals(kept)  # analyze never writes into a recording, however its values are stored
    problems = differences(flatten(analyze(load(parquet), overwrite_recording=True)), flatten(analysis))
    assert not problems, "analyze(overwrite_recording=True):\n" + "\n".join(problems[:40])

    # the command's lean path against the whole-array analysis of the original, output by output
    _check_command(analysis, parquet, folder)


@pytest.mark.parametrize("case", list(REAL))
def test_real_recordings_give_identical_tables_on_the_lean_path(case: str, tmp_path: Path) -> None:
    original = load(REAL[case])
    _check_lean_path(original, write_parquet(original, tmp_path / f"{case}.parquet"), tmp_path)


def test_a_simulated_walk_with_an_imu_gives_identical_tables_on_the_lean_path(tmp_path: Path) -> None:
    # 1000 s, two feet: long enough that the whole-array analyze runs both feet on two threads
    # (100,000 samples or more per foot) while the lean path runs them one after the other
    recording = simulate(SimulationParams(duration_s=1000.0, seed=3, layout="insole16", sample_rate_hz=100.0))
    assert recording.samples("left").n_samples >= 100_000 and recording.samples("left").gyro_dps is not None
    _check_lean_path(recording, write_parquet(recording, tmp_path / "walk.parquet"), tmp_path)


def test_overwrite_recording_works_in_the_readers_arrays_only(tmp_path: Path) -> None:
    recording = simulate(SimulationParams(duration_s=60.0, seed=3, layout="insole16", sample_rate_hz=100.0))
    kept = _copy(recording)
    # an importer's recording (values C-ordered, read-only): the checks copy it, however asked
    analyze(recording, overwrite_recording=True)
    assert recording.equals(kept)
    # our reader's (sensor by sensor): the checks work in its values, which now hold the readings as the analysis
    # left them (offset subtracted, clipped at zero, in place), so they differ from the file's
    read = load(write_parquet(recording, tmp_path / "walk.parquet"))
    analyze(read, overwrite_recording=True)
    assert not read.equals(kept)


# --- the streamed analysis: analyze(path) reads our Parquet file while it works (issue 19, 8-hour recordings) ---
#
# The second pass reads a foot's sensor columns a row group at a time and cuts stretches where a stance starts;
# files rewritten in small row groups (shorter than a stance, and of sizes that fall anywhere in the steps and
# across the two feet) make every kind of boundary happen many times in a short recording: a stretch ending
# inside a group, a stance spanning several groups (read on before cutting), the feet's boundary inside a group.


def _streamed(path: Path, monkeypatch: pytest.MonkeyPatch):
    """``analyze(path)``, with loading the whole file barred: the streamed analysis is the one that ran. Two feet
    small enough go side by side (a thread each); the same file analysed one foot after the other, as longer
    recordings are, must give the same tables."""
    import insole.io

    def barred(*args: object, **kwargs: object) -> None:
        raise AssertionError("analyze(path) loaded the file whole instead of streaming it")

    with monkeypatch.context() as patched:
        patched.setattr(insole.io, "load", barred)
        found = analyze(path)
        patched.setattr(streamed, "_side_by_side", lambda feet: False)
        _same(analyze(path), found, "one foot after the other against side by side")
        return found


def _same(found, expected, what: str) -> None:
    problems = differences(flatten(found), flatten(expected))
    assert not problems, f"{what}:\n" + "\n".join(problems[:40])


def _groups_per_foot(path: Path, recording: Recording) -> int:
    metadata = pq.ParquetFile(path).metadata
    return metadata.num_row_groups // len(recording.sides)


@pytest.mark.parametrize("rows", [50, 333])
@pytest.mark.parametrize("case", list(REAL))
def test_streamed_analysis_in_small_row_groups_is_the_whole_arrays_analysis(
        case: str, rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if missing_reason():
        pytest.skip(missing_reason())
    original = load(REAL[case])
    path = _rewritten(write_parquet(original, tmp_path / "whole.parquet"), tmp_path / f"{rows}.parquet", rows)
    assert _groups_per_foot(path, original) >= 4
    _same(_streamed(path, monkeypatch), analyze(original), f"{case}, row groups of {rows}")


def _walk_with_faults(duration_s: float, seed: int) -> Recording:
    """A simulated walk with an IMU whose readings hold what the checks leave out, so that the stretches must
    rebuild it: isolated spikes, a sensor stuck for 40 s, a flat sensor, and invalid samples (NaN, lost)."""
    recording = simulate(SimulationParams(duration_s=duration_s, seed=seed, layout="insole16", sample_rate_hz=100.0))
    feet: dict[str, FootSamples] = {}
    for side in recording.sides:
        foot = recording.samples(side)
        values = np.array(foot.values)
        valid = np.array(foot.valid)
        top = float(values.max())
        if side == "left":
            values[[1_001, 7_777, 15_003, 22_222], [3, 5, 3, 9]] += 2.0 * top  # one-sample spikes
            values[6_000:10_000, 2] = values[6_000, 2]  # stuck for 40 s
            values[:, 15] = 0.0  # flat: never loaded
        lost = np.r_[2_500:2_503, 12_345, 20_000:20_040]
        values[lost] = np.nan
        valid[lost] = False
        feet[side] = FootSamples(time_s=foot.time_s, values=values, valid=valid, accel_g=foot.accel_g,
                                 gyro_dps=foot.gyro_dps, channels=dict(foot.channels))
    return recording.replace(left=feet["left"], right=feet["right"])


@pytest.mark.parametrize("rows", [333, 7_919])
def test_streamed_analysis_rebuilds_what_the_checks_left_out(rows: int, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    recording = _walk_with_faults(300.0, seed=5)
    assert recording.samples("left").gyro_dps is not None
    expected = analyze(recording)
    flags = {(f["sensor"], f["status"]) for f in expected.quality["left"]["sensor_flags"]}
    statuses = {status for _, status in flags}
    assert {"spikes", "flat"} <= statuses and statuses & {"stuck", "dead"}, flags  # the faults are found
    assert not expected.quality["left"]["valid_fraction"] == 1.0
    path = _rewritten(write_parquet(recording, tmp_path / "whole.parquet"), tmp_path / f"{rows}.parquet", rows)
    assert _groups_per_foot(path, recording) >= 4
    _same(_streamed(path, monkeypatch), expected, f"row groups of {rows}")


def test_standing_periods_are_gathered_from_the_stretches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the standing weight split sums each sensor's load over the samples when both feet stand: those samples are
    # gathered stretch by stretch in the streamed analysis
    from insole.simulate import simulate_clinic_test

    recording = simulate_clinic_test("10mwt", seed=1)
    expected = analyze(recording)
    assert expected.summary.standing is not None and expected.summary.standing["duration_s"] > 5
    assert "left_forefoot_pct" in expected.summary.standing
    path = _rewritten(write_parquet(recording, tmp_path / "whole.parquet"), tmp_path / "small.parquet", 300)
    _same(_streamed(path, monkeypatch), expected, "10-metre walk with standing")


def test_the_command_streams_and_writes_the_whole_arrays_outputs(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    recording = _walk_with_faults(250.0, seed=7)
    path = _rewritten(write_parquet(recording, tmp_path / "whole.parquet"), tmp_path / "small.parquet", 1_234)
    import insole.io

    def barred(*args: object, **kwargs: object) -> None:
        raise AssertionError("insole analyze loaded the file whole instead of streaming it")

    import insole._cli._analyze as command

    monkeypatch.setattr(insole.io, "load", barred)
    monkeypatch.setattr(command, "load", barred)  # the command's own name for it: its whole-file path barred too
    _check_command(analyze(recording), path, tmp_path)


def _check_command(analysis, parquet: Path, folder: Path) -> None:
    """``insole analyze --json --tables`` of ``parquet``: the JSON and every table of ``analysis``, exactly."""
    out, tables = folder / "lean.json", folder / "lean"
    assert main(["analyze", str(parquet), "--json", str(out), "--tables", str(tables)]) == 0
    frames = analysis_tables(analysis)
    expected_tables = folder / "whole"
    provenance = dict(analysis.provenance)
    provenance["input"] = {**provenance["input"], "analysed_file": analysed_file(parquet)}
    write_tables(frames, expected_tables, provenance=provenance, formats=("parquet",))
    assert sorted(p.name for p in tables.iterdir()) == sorted(p.name for p in expected_tables.iterdir())
    for name in frames:
        found = pd.read_parquet(tables / f"{name}.parquet")
        expected = pd.read_parquet(expected_tables / f"{name}.parquet")
        pd.testing.assert_frame_equal(found, expected, check_exact=True, obj=name)
    expected_json = folder / "whole.json"
    whole = dataclasses.replace(analysis, provenance=provenance)
    write_json(whole, expected_json, tables={"folder": str(tables), "format": "parquet", "names": list(frames)})
    assert json.loads(out.read_text()) == json.loads(expected_json.read_text())


def test_other_writers_files_are_analysed_whole_with_the_same_numbers(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # missing values in a sensor column, or a float64 sensor column: not streamed (loaded whole, as before)
    table = pq.read_table(REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet")
    for name in ("sensor_nulls", "float64"):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(_variants(table)[name], path, row_group_size=999)
        _same(analyze(path), analyze(load(path)), name)
        with pytest.raises(AssertionError, match="instead of streaming"):
            _streamed(path, monkeypatch)


def test_a_file_the_reader_refuses_is_refused_alike_by_the_command(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from insole import MalformedFileError

    table = pq.read_table(REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet")
    sensor = next(n for n in table.column_names if n.endswith("_n"))
    values = table.column(sensor).to_numpy().astype(np.float32)
    values[8_000] = np.inf  # the right foot's sample 1999, in a float32 column as our writer's
    table = table.set_column(table.column_names.index(sensor), sensor, pa.array(values))
    path = tmp_path / "inf.parquet"
    pq.write_table(table, path, row_group_size=2_500)
    with pytest.raises(MalformedFileError) as refused:
        load(path)
    assert main(["analyze", str(path), "--json", str(tmp_path / "out.json")]) == 2
    assert str(refused.value) in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def test_a_file_cut_short_is_refused_in_one_line_by_the_command(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    # a Parquet file cut short has no footer: the streamed path's own opening of it failed with a traceback (found
    # by a new user); it must hand the file to the reader, whose refusal is one line naming the file, exit 2
    path = tmp_path / "cut.parquet"
    path.write_bytes((REPO / "recordings" / "gaitndd_control1.parquet").read_bytes()[:50_000])
    assert main(["analyze", str(path), "--json", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "not a readable Parquet file" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.json").exists()


def test_a_long_walk_in_large_row_groups_is_cut_into_stretches_alike(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # 100,000 samples per foot in row groups of 150,000 rows: the left foot is one group longer than a stretch
    # (cut into several inside the group), the right foot's rows begin inside it and end in the next
    recording = simulate(SimulationParams(duration_s=1000.0, seed=11, layout="insole16", sample_rate_hz=100.0))
    path = _rewritten(write_parquet(recording, tmp_path / "whole.parquet"), tmp_path / "large.parquet", 150_000)
    assert pq.ParquetFile(path).metadata.num_row_groups == 2
    _same(_streamed(path, monkeypatch), analyze(recording), "row groups of 150,000")


def test_a_damaged_row_group_is_refused_as_the_reader_refuses_it(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # bytes overwritten in the middle of the file (a sensor column of a row group): the reader's one-line refusal
    from insole import MalformedFileError

    recording = simulate(SimulationParams(duration_s=120.0, seed=2, layout="insole16", sample_rate_hz=100.0))
    path = _rewritten(write_parquet(recording, tmp_path / "whole.parquet"), tmp_path / "damaged.parquet", 3_000)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4_000] = bytes(4_000)
    path.write_bytes(bytes(data))
    with pytest.raises(MalformedFileError) as refused:
        load(path)
    assert main(["analyze", str(path), "--json", str(tmp_path / "out.json")]) == 2
    assert str(refused.value) in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def test_a_stated_sensor_saturation_is_read_by_the_streamed_analysis_too(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # the checks read meta.extra["saturation_kpa"] (docs/analysis-methods.md); the streamed reader, which leaves the
    # simulator's known answer out of memory, once dropped every extra with it (a final read found it: no sensor
    # flagged saturated streamed, eight when loaded whole)
    recording = simulate(SimulationParams(duration_s=60.0, seed=1, layout="insole16"))
    left = recording.samples("left")
    values = np.array(left.values, dtype=np.float32)
    ceiling = np.float32(0.6 * values[:, 0].max())
    plateau = values[:, 0] >= ceiling
    values[plateau, 0] = ceiling + np.random.default_rng(0).normal(0, 0.5, int(plateau.sum())).astype(np.float32)
    recording = recording.replace(left=dataclasses.replace(left, values=values)).with_meta(
        extra={**recording.meta.extra, "saturation_kpa": float(ceiling) - 3.0})
    expected = analyze(recording)
    assert any(flag.get("status") == "saturated" for flag in expected.quality["left"]["sensor_flags"])
    path = write_parquet(recording, tmp_path / "clipped.parquet")
    _same(_streamed(path, monkeypatch), expected, "a stated saturation")

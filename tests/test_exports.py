"""Research formats out: BIDS-motion (validated and read back), C3D (read back with ezc3d), tables.

BIDS validation uses what the package registries offer and installs here:
the PyPI ``bids-validator`` (file naming against the BIDS schema of
``bidsschematools``) always, the schema's rules for the sidecar and
channels.tsv, and the npm ``bids-validator`` (full dataset check) when its
command is found (``INSOLE_BIDS_VALIDATOR`` or ``bids-validator`` on PATH).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _data import shared_data_dir

import insole
from insole import FootSamples
from insole._cli import main
from insole.io._export import (
    BidsExportParams,
    analysis_tables,
    c3d_channels,
    footprint_table,
    read_bids,
    read_c3d_analogs,
    write_bids,
    write_c3d,
    write_tables,
)
from insole.io._export._bids import _MIXED_LICENCES

SHARED = shared_data_dir()
GAITPDB = SHARED / "gaitpdb" / "GaCo01_01.txt"
VENDOR = SHARED / "vendor-exports"


@pytest.fixture(scope="module")
def gaitpdb() -> insole.Recording:
    return insole.load(GAITPDB)


@pytest.fixture(scope="module")
def gaitpdb_bids(gaitpdb, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bids")
    write_bids(gaitpdb, out, input_path=GAITPDB)
    return out


def test_bids_export_of_gaitpdb_reads_back_exactly(gaitpdb, gaitpdb_bids: Path) -> None:
    back = read_bids(gaitpdb_bids)
    assert back.equals(gaitpdb)  # every array, unit, rate, layout and metadata
    motion = sorted((gaitpdb_bids / "sub-GaCo01" / "motion").glob("*_motion.tsv"))
    assert [p.name for p in motion] == [
        "sub-GaCo01_task-walk_tracksys-leftinsole_motion.tsv",
        "sub-GaCo01_task-walk_tracksys-rightinsole_motion.tsv",
    ]
    # also from one of its files
    assert read_bids(motion[0]).equals(gaitpdb)


def test_bids_files_follow_the_schema(gaitpdb, gaitpdb_bids: Path) -> None:
    from bids_validator import BIDSValidator
    from bidsschematools import schema as bids_schema

    validator = BIDSValidator()
    ignored = (gaitpdb_bids / ".bidsignore").read_text().split()
    for path in sorted(p for p in gaitpdb_bids.rglob("*") if p.is_file()):
        relative = "/" + path.relative_to(gaitpdb_bids).as_posix()
        if path.name == ".bidsignore" or any(path.match(pattern) for pattern in ignored):
            continue
        assert validator.is_bids(relative), relative

    rules = bids_schema.load_schema()["rules"]
    required = [
        field
        for group in rules["sidecars"]["motion"].values()
        for field, level in group["fields"].items()
        if (level if isinstance(level, str) else level["level"]) == "required"
    ]
    assert set(required) >= {"TaskName", "SamplingFrequency"}
    table_rule = rules["tabular_data"]["motion"]["motionChannels"]
    allowed_types = {"ACCEL", "ANGACCEL", "GYRO", "JNTANG", "LATENCY", "MAGN", "MISC", "ORNT", "POS", "VEL"}
    for sidecar in sorted(gaitpdb_bids.rglob("*_motion.json")):
        meta = json.loads(sidecar.read_text())
        assert all(field in meta for field in required)
        assert meta["SamplingFrequency"] == gaitpdb.sample_rate_hz == 100
        channels = pd.read_csv(str(sidecar).replace("_motion.json", "_channels.tsv"), sep="\t", dtype=str)
        initial = [c.split("__")[0] for c in table_rule["initial_columns"]]
        assert list(channels.columns[: len(initial)]) == initial
        assert set(channels["type"]) <= allowed_types
        pressure = channels[channels["name"].isin(gaitpdb.layout.sensor_names)]
        assert len(pressure) == 8 and set(pressure["type"]) == {"MISC"} and set(pressure["units"]) == {"N"}
        assert meta["MISCChannelCount"] == int((channels["type"] == "MISC").sum())
        assert meta["MotionChannelCount"] == len(channels)
        data = pd.read_csv(str(sidecar).replace(".json", ".tsv"), sep="\t", header=None)
        assert data.shape == (gaitpdb.left.n_samples, len(channels))  # no header row, one column per channel


def _bids_validator_command() -> str | None:
    # `make test` installs the npm validator into .venv/node and names it here;
    # where npm could not install it the variable points at nothing.
    configured = os.environ.get("INSOLE_BIDS_VALIDATOR")
    if configured and Path(configured).exists():
        return configured
    return shutil.which("bids-validator")


def test_npm_bids_validator_passes_the_gaitpdb_export(gaitpdb_bids: Path) -> None:
    command = _bids_validator_command()
    if command is None:
        pytest.skip("npm bids-validator not installed (npm install bids-validator; set INSOLE_BIDS_VALIDATOR)")
    result = subprocess.run([command, str(gaitpdb_bids), "--json"], capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout[result.stdout.index("{"):])
    errors = [issue["key"] for issue in report["issues"]["errors"]]
    assert errors == [], errors


@pytest.mark.parametrize("name", ["xsensor_data.csv", "stappone_example.csv", "pedar_example.asc", "fscan_testL.asf"])
def test_bids_round_trip_of_vendor_recordings(name: str, tmp_path: Path) -> None:
    recording = insole.load(VENDOR / name)
    write_bids(recording, tmp_path, BidsExportParams(subject="vendor", task="gait", run=1))
    back = read_bids(tmp_path)
    assert back.equals(recording)
    if recording.left.accel_g is not None:
        channels = pd.read_csv(next(tmp_path.rglob("*_channels.tsv")), sep="\t")
        assert channels.loc[channels["type"] == "ACCEL", "units"].tolist() == ["m/s^2"] * 3
        assert channels.loc[channels["type"] == "GYRO", "units"].tolist() == ["rad/s"] * 3


def test_bids_keeps_gaps_marked(gaitpdb, tmp_path: Path) -> None:
    foot = gaitpdb.left
    valid = foot.valid.copy()
    valid[100:150] = False
    values = foot.values.copy()
    values[~valid] = np.nan
    gappy = gaitpdb.replace(left=FootSamples(foot.time_s, values, valid, channels=foot.channels))
    write_bids(gappy, tmp_path)
    tsv = next(tmp_path.rglob("*leftinsole_motion.tsv")).read_text().splitlines()
    assert tsv[120].split("\t")[1] == "0" and tsv[120].split("\t")[2] == "n/a"
    back = read_bids(tmp_path)
    assert back.equals(gappy) and back.left.gaps() == gappy.left.gaps() == [(foot.time_s[100], foot.time_s[149], 50)]


@pytest.mark.parametrize("source", ["gaitpdb", "xsensor_data.csv", "stappone_example.csv"])
def test_c3d_reads_back_identical_channels_and_rate(source: str, gaitpdb, tmp_path: Path) -> None:
    recording = gaitpdb if source == "gaitpdb" else insole.load(VENDOR / source)
    path = write_c3d(recording, tmp_path / "out.c3d")
    rate, labels, units, data = read_c3d_analogs(path)
    expected_labels, expected_units, _, expected = c3d_channels(recording)
    assert rate == float(np.float32(recording.sample_rate_hz))  # C3D stores the rate as a 32-bit float
    assert labels == expected_labels and units == expected_units
    # C3D stores analogs as 32-bit floats: sensor values (float32) come back bit for bit,
    # float64 channels (time, vendor totals) at float32 precision.
    assert np.array_equal(data, expected.astype(np.float32).astype(np.float64), equal_nan=True)
    for side in recording.sides:
        prefix = "L_" if side == "left" else "R_"
        first = labels.index(prefix + recording.layout.sensor_names[0].upper())
        block = data[first:first + recording.layout.n_sensors, : recording.foot(side).n_samples]
        assert np.array_equal(block.T.astype(np.float32), recording.foot(side).values, equal_nan=True)


@pytest.mark.parametrize("source", ["gaitpdb", "recordings/gaitndd_control1.parquet"])
def test_c3d_carries_the_gait_events_and_reads_back_in_ezc3d(source: str, gaitpdb, tmp_path: Path) -> None:
    """Heel strikes and toe offs of each foot in the EVENT group, as Nexus names them, at the analysis's times."""
    import ezc3d

    from insole.analysis import analyze
    from insole.io._export._c3d import read_c3d_events

    recording = gaitpdb if source == "gaitpdb" else insole.load(Path(__file__).resolve().parents[1] / source)
    path = write_c3d(recording, tmp_path / "out.c3d")
    analysis = analyze(recording)
    expected = sorted((side.capitalize(), label, float(t)) for side in analysis.sides
                      for label, times in (("Foot Strike", analysis.events[side].heel_strike_s),
                                           ("Foot Off", analysis.events[side].toe_off_s)) for t in times)
    assert len(expected) > 100  # a minute or more of walking on both feet
    back = read_c3d_events(path)
    assert [(c, label) for c, label, _ in back] == [(c, label) for c, label, _ in sorted(expected, key=lambda e: e[2])]
    # C3D stores event seconds as 32-bit floats: each time comes back within float32's spacing at that time
    got = np.array([t for *_, t in back])
    want = np.array(sorted(t for *_, t in expected))
    assert np.all(np.abs(got - want) <= np.spacing(np.float32(want.max())))
    # read as a gait lab's tool would, straight from ezc3d: the group, its counts and its labels
    event = ezc3d.c3d(str(path))["parameters"]["EVENT"]
    assert int(event["USED"]["value"][0]) == min(len(expected), 255)  # a C3D parameter holds 255 entries
    assert set(event["CONTEXTS"]["value"]) == {"Left", "Right"}
    assert set(event["LABELS"]["value"]) == {"Foot Strike", "Foot Off"}
    assert sorted(np.unique(event["ICON_IDS"]["value"]).tolist()) == [1, 2]


def test_c3d_of_more_than_65535_samples_reads_back_every_sample_in_ezc3d(tmp_path: Path) -> None:
    """issue 20: a 300 s walk at 300 Hz (90,000 samples) read back as 65,535 (POINT:FRAMES and the header are 16-bit).

    Two analog samples per C3D frame (POINT:RATE 150 Hz, ANALOG:RATE 300 Hz): 45,000 frames hold all 90,000.
    """
    import ezc3d

    from insole.io._export._c3d import read_c3d_events

    recording = insole.load(SHARED / "gaitndd-cohort" / "hunt10.hea")
    assert [recording.foot(side).n_samples for side in recording.sides] == [90_000, 90_000]
    path = write_c3d(recording, tmp_path / "hunt10.c3d")
    raw = ezc3d.c3d(str(path))
    assert raw["data"]["analogs"].shape[2] == 90_000
    assert int(raw["parameters"]["POINT"]["FRAMES"]["value"][0]) == 45_000
    assert float(raw["parameters"]["ANALOG"]["RATE"]["value"][0]) == 300.0
    assert float(raw["parameters"]["POINT"]["RATE"]["value"][0]) == 150.0
    rate, _, _, data = read_c3d_analogs(path)
    _, _, _, expected = c3d_channels(recording)
    assert rate == 300.0 and data.shape == expected.shape == (expected.shape[0], 90_000)
    assert np.array_equal(data, expected.astype(np.float32).astype(np.float64), equal_nan=True)
    last_s = max(t for *_, t in read_c3d_events(path))
    assert last_s <= float(recording.left.time_s[-1]) + 1e-3  # float32 seconds: within 0.03 ms at 300 s


def test_c3d_pads_an_odd_long_recording_to_whole_frames_with_invalid_samples(gaitpdb, tmp_path: Path) -> None:
    import ezc3d

    n = 65_537  # needs two samples per frame; the last frame gets one padding sample
    foot = gaitpdb.left
    reps = -(-n // foot.n_samples)
    long_foot = FootSamples(np.arange(n) / 100.0, np.tile(foot.values, (reps, 1))[:n],
                            np.tile(foot.valid, reps)[:n])
    long = gaitpdb.replace(left=long_foot, right=None)
    path = write_c3d(long, tmp_path / "long.c3d")
    assert ezc3d.c3d(str(path))["data"]["analogs"].shape[2] == n + 1
    _, labels, _, data = read_c3d_analogs(path)
    _, _, _, expected = c3d_channels(long)
    assert np.array_equal(data[:, :n], expected.astype(np.float32).astype(np.float64), equal_nan=True)
    assert data[labels.index("L_VALID"), n] == 0.0 and np.isnan(data[labels.index("L_TIME"), n])


def test_tables_as_csv_and_parquet(tmp_path: Path) -> None:
    recording = insole.load(VENDOR / "fscan_testL.asf")
    table = footprint_table(recording)
    assert set(table["region"]) >= {"whole_foot", "heel", "midfoot", "forefoot", "toes"}
    whole = table[table["region"] == "whole_foot"].iloc[0]
    assert whole["peak_kpa"] == float(np.nanmax(recording.left.values))
    assert 0.15 < whole["arch_index"] < 0.35
    strides = pd.DataFrame({"stride": [1, 2], "stride_time_s": [1.02, np.nan], "side": ["left", "left"]})
    written = write_tables({"footprint": table, "strides": strides}, tmp_path, provenance={"input": "fscan_testL.asf"})
    assert {p.name for p in written} == {
        "footprint.csv", "footprint.parquet", "strides.csv", "strides.parquet", "tables.json"
    }
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "footprint.parquet"), table)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "strides.csv"), strides)
    manifest = json.loads((tmp_path / "tables.json").read_text())
    assert manifest["tables"]["strides"]["rows"] == 2 and manifest["provenance"]["input"] == "fscan_testL.asf"


def test_analysis_tables_accepts_the_shapes_an_analysis_can_take() -> None:
    frame = pd.DataFrame({"a": [1]})

    class WithMethod:
        def tables(self):
            return {"strides": frame}

    class WithAttributes:
        strides = frame
        summary = frame

    assert list(analysis_tables({"x": frame})) == ["x"]
    assert list(analysis_tables(WithMethod())) == ["strides"]
    assert list(analysis_tables(WithAttributes())) == ["strides", "summary"]
    with pytest.raises(insole.AnalysisError):
        analysis_tables(object())


@pytest.mark.parametrize("target", ["bids", "c3d", "tables"])
def test_cli_export(target: str, tmp_path: Path, capsys) -> None:
    code = main(["export", str(GAITPDB), "--to", target, "--out", str(tmp_path)])
    printed = capsys.readouterr().out.split()
    assert code == 0 and printed and all(Path(p).is_file() for p in printed)
    if target == "bids":
        assert read_bids(tmp_path).equals(insole.load(GAITPDB))


def test_cli_export_c3d_says_in_one_line_where_the_events_past_255_are(tmp_path: Path, capsys) -> None:
    # issue 20: the EVENT group keeps the first 255 events and the command said nothing about the rest
    from insole.io._export._c3d import read_c3d_events

    source = SHARED / "gaitndd-cohort" / "hunt10.hea"
    assert main(["export", str(source), "--to", "c3d", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    path = tmp_path / "hunt10.c3d"
    assert captured.out == f"{path}\n"
    n = len(read_c3d_events(path))
    assert n > 255
    assert captured.err == (
        f"{path}: the EVENT group (what Nexus and Visual3D read) holds the first 255 of {n} gait events; the other "
        f"{n - 255} are in INSOLE:EVENT_CONTEXTS2/EVENT_LABELS2/EVENT_SECONDS2 and on "
        "(insole.io.read_c3d_events reads them all)\n")
    # a recording whose events all fit says nothing more than the file it wrote
    short = tmp_path / "short.c3d"
    assert main(["export", str(VENDOR / "stappone_example.csv"), "--to", "c3d", "--out", str(short)]) == 0
    captured = capsys.readouterr()
    assert 0 < len(read_c3d_events(short)) <= 255
    assert captured.out == f"{short}\n" and captured.err == ""


@pytest.mark.parametrize("name", ["hunt10.c3d", "walk.C3D"])
def test_cli_export_c3d_out_ending_in_c3d_is_the_file(name: str, tmp_path: Path, capsys) -> None:
    # issue 20: --out hunt10.c3d created a folder hunt10.c3d holding GaCo01_01.c3d
    target = tmp_path / name
    assert main(["export", str(GAITPDB), "--to", "c3d", "--out", str(target)]) == 0
    assert capsys.readouterr().out == f"{target}\n"
    assert target.is_file() and sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert read_c3d_analogs(target)[3].shape[1] == insole.load(GAITPDB).left.n_samples
    # the file now exists: a second export is refused in one line, without --force
    assert main(["export", str(GAITPDB), "--to", "c3d", "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(target) in err and "\n" not in err
    assert main(["export", str(GAITPDB), "--to", "c3d", "--out", str(target), "--force"]) == 0
    # a folder that already exists under such a name stays a folder
    folder = tmp_path / "old.c3d"
    folder.mkdir()
    assert main(["export", str(GAITPDB), "--to", "c3d", "--out", str(folder)]) == 0
    assert (folder / "GaCo01_01.c3d").is_file()


def test_cli_export_bad_input_exits_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "nothing.txt"
    bad.write_text("this is not a recording\n")
    code = main(["export", str(bad), "--to", "c3d", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and str(bad) in err and "\n" not in err


def test_bids_records_each_recordings_licence_and_says_mixed_when_they_differ(gaitpdb, tmp_path: Path) -> None:
    # issue 20: a pedar recording added to an ODC-By dataset left "ODC-By 1.0" as the whole dataset's licence
    write_bids(gaitpdb, tmp_path, input_path=GAITPDB)  # PhysioNet gaitpdb: ODC-By 1.0
    description = json.loads((tmp_path / "dataset_description.json").read_text())
    assert description["License"] == "ODC-By 1.0"
    readme = (tmp_path / "README").read_text()
    second = SHARED / "gaitpdb" / "GaPt03_01.txt"  # the same licence: nothing dataset-wide changes
    write_bids(insole.load(second), tmp_path, input_path=second)
    assert json.loads((tmp_path / "dataset_description.json").read_text()) == description
    assert (tmp_path / "README").read_text() == readme
    pedar_path = VENDOR / "pedar_example.asc"
    write_bids(insole.load(pedar_path), tmp_path, BidsExportParams(subject="pedar01"), input_path=pedar_path)
    assert json.loads((tmp_path / "dataset_description.json").read_text()) == {
        **description, "License": _MIXED_LICENCES}
    assert (tmp_path / "README").read_text() == readme + (
        "The recordings in this dataset are under different licences: the dataset's License was ODC-By 1.0 until "
        "sub-pedar01 was added, whose licence is not known; each run's licence is in the license column of its "
        "sub-<label>_scans.tsv (n/a: not known).\n")
    licences = {scans.name: pd.read_csv(scans, sep="\t", dtype=str, keep_default_na=False)["license"].tolist()
                for scans in tmp_path.rglob("*_scans.tsv")}
    assert licences == {"sub-GaCo01_scans.tsv": ["ODC-By 1.0", "ODC-By 1.0"],
                        "sub-GaPt03_scans.tsv": ["ODC-By 1.0", "ODC-By 1.0"],
                        "sub-pedar01_scans.tsv": ["n/a"] * len(insole.load(pedar_path).sides)}
    assert "license" in json.loads((tmp_path / "scans.json").read_text())
    # once mixed, the dataset stays mixed and README keeps its one sentence
    write_bids(gaitpdb, tmp_path, BidsExportParams(subject="again", task="stand"), input_path=GAITPDB)
    assert json.loads((tmp_path / "dataset_description.json").read_text())["License"] == _MIXED_LICENCES
    assert (tmp_path / "README").read_text().count("different licences") == 1


def test_npm_bids_validator_passes_two_recordings_of_different_licences(gaitpdb, tmp_path: Path) -> None:
    # issue 20: a second export into the same folder rewrote dataset_description.json so that it described
    # only the last recording (name, licence); now the dataset grows and stays valid
    command = _bids_validator_command()
    if command is None:
        pytest.skip("npm bids-validator not installed (npm install bids-validator; set INSOLE_BIDS_VALIDATOR)")
    moticon_path = Path(__file__).resolve().parents[1] / "recordings" / "moticon_230927_102114.parquet"
    moticon = insole.load(moticon_path)
    write_bids(gaitpdb, tmp_path, input_path=GAITPDB)  # PhysioNet gaitpdb: ODC-By 1.0
    description = (tmp_path / "dataset_description.json").read_bytes()
    write_bids(moticon, tmp_path, BidsExportParams(subject="moticon01"), input_path=moticon_path)  # Apache-2.0
    # only the License field changes (to mixed: the Moticon sample carries no licence of its own)
    after = json.loads((tmp_path / "dataset_description.json").read_text())
    assert after == {**json.loads(description), "License": _MIXED_LICENCES}
    participants = pd.read_csv(tmp_path / "participants.tsv", sep="\t", dtype=str)
    assert participants["participant_id"].tolist() == ["sub-GaCo01", "sub-moticon01"]
    result = subprocess.run([command, str(tmp_path), "--json"], capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout[result.stdout.index("{"):])
    errors = [issue["key"] for issue in report["issues"]["errors"]]
    assert errors == [], errors

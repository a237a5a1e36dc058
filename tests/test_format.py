"""Our recording file format v1: Parquet round trip, what pandas sees, the capture stream, recovery."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import insole
import insole.io._format as _format
from insole import (
    FootSamples,
    MalformedFileError,
    Mark,
    Recording,
    RecordingMeta,
    RecordingStreamWriter,
    ReferenceEvents,
    get_layout,
)
from insole.io._format import (
    FORMAT_VERSION,
    parquet_write_options,
    read_parquet,
    read_stream,
    recover,
    write_parquet,
)

RATE_HZ = 100.0


def _synthetic() -> Recording:
    """Two feet on separate clocks, IMU and channels on one foot only, gaps, marks, reference events."""
    rng = np.random.default_rng(7)
    n_left, n_right = 500, 480
    left_valid = np.ones(n_left, bool)
    left_valid[100:112] = False
    left_values = rng.uniform(0, 400, (n_left, 16)).astype(np.float32)
    left_values[~left_valid] = np.nan
    right_valid = np.ones(n_right, bool)
    right_valid[-3:] = False
    right_values = rng.uniform(0, 400, (n_right, 16))
    right_values[~right_valid] = np.nan
    return Recording(
        layout=get_layout("insole16", shoe_size_eu=39),
        unit="kPa",
        sample_rate_hz=RATE_HZ,
        left=FootSamples(
            time_s=np.arange(n_left) / RATE_HZ,
            values=left_values,
            valid=left_valid,
            accel_g=rng.normal(0, 1, (n_left, 3)),
            gyro_dps=rng.normal(0, 90, (n_left, 3)),
            channels={"battery_v": np.linspace(4.1, 4.0, n_left)},
        ),
        right=FootSamples(
            time_s=0.0037 + np.arange(n_right) / RATE_HZ,  # the other insole's clock, offset
            values=right_values,
            valid=right_valid,
            channels={"rssi_dbm": np.full(n_right, -61.0)},
        ),
        meta=RecordingMeta(
            subject_id="S-0042",
            body_mass_kg=71.5,
            shoe_size_eu=39.0,
            condition="barefoot-equivalent insole, 10 m walk",
            notes="knee pain left (patient report)",
            recorded_at="2026-03-02T10:15:00+01:00",
            devices={"left": {"serial": "A1", "firmware": "1.2.0"}, "right": {"serial": "B2", "firmware": "1.2.0"}},
            software={"name": "insole", "version": insole.__version__, "role": "captured"},
            capture_quality={"packets_lost": {"left": 3, "right": 0}, "clock_offset_ms": 3.7},
            extra={"room": "gait lab 2"},
        ),
        reference_events=ReferenceEvents(
            source="force plate", heel_strike_s={"left": (0.5, 1.6)}, toe_off_s={"right": (1.1,)},
            extra={"plate": "AMTI"},
        ),
        marks=(Mark(1.0, "turn"), Mark(2.5, "walk", kind="phase")),
    )


def test_parquet_round_trip_is_exact(tmp_path: Path) -> None:
    recording = _synthetic()
    path = write_parquet(recording, tmp_path / "walk.parquet")
    again = read_parquet(path)
    assert again.equals(recording)
    assert again.right.accel_g is None and again.right.gyro_dps is None  # not NaN-filled IMU
    assert set(again.right.channels) == {"rssi_dbm"} and set(again.left.channels) == {"battery_v"}
    assert again.meta.capture_quality == {"packets_lost": {"left": 3, "right": 0}, "clock_offset_ms": 3.7}
    assert not list(tmp_path.glob("*.partial"))


def test_what_pandas_and_pyarrow_see_without_insole(tmp_path: Path) -> None:
    path = write_parquet(_synthetic(), tmp_path / "walk.parquet")
    frame = pd.read_parquet(path)
    sensors = [f"{name}_kpa" for name in get_layout("insole16").sensor_names]
    expected = ["side", "time_s", "valid", *sensors, "accel_x_g", "accel_y_g", "accel_z_g",
                "gyro_x_dps", "gyro_y_dps", "gyro_z_dps", "battery_v", "rssi_dbm"]
    assert list(frame.columns) == expected
    assert (frame.side == "left").sum() == 500 and (frame.side == "right").sum() == 480
    assert int((~frame.valid).sum()) == 15
    assert str(frame["heel_med_post_kpa"].dtype) == "float32" and str(frame["time_s"].dtype) == "float64"
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    description = json.loads(parquet.schema_arrow.metadata[b"insole.recording"])
    assert description["format"] == "insole-recording" and description["format_version"] == FORMAT_VERSION
    assert description["writer"] == f"insole {insole.__version__}"
    assert description["meta"]["subject_id"] == "S-0042" and description["unit"] == "kPa"
    assert description["layout"]["name"] == "insole16" and len(description["layout"]["x_mm"]) == 16
    assert description["marks"] == [{"time_s": 1.0, "label": "turn", "kind": "mark"},
                                    {"time_s": 2.5, "label": "walk", "kind": "phase"}]


def test_a_newer_format_version_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = write_parquet(_synthetic(), tmp_path / "walk.parquet")
    table = pq.read_table(path)
    description = json.loads(table.schema.metadata[b"insole.recording"])
    description["format_version"] = FORMAT_VERSION + 1
    pq.write_table(table.replace_schema_metadata({b"insole.recording": json.dumps(description)}), path)
    with pytest.raises(MalformedFileError, match=f"version {FORMAT_VERSION + 1} is newer"):
        read_parquet(path)


def _write_stream(path: Path, recording: Recording, *, seconds_per_append: float = 1.0) -> RecordingStreamWriter:
    writer = RecordingStreamWriter(
        path, layout=recording.layout, unit=recording.unit, sample_rate_hz=recording.sample_rate_hz,
        meta=recording.meta, has_imu=True, channels=["battery_v", "rssi_dbm"],
    )
    per_append = int(seconds_per_append * recording.sample_rate_hz)
    for side in recording.sides:
        foot = recording.foot(side)
        for start in range(0, foot.n_samples, per_append):
            part = slice(start, start + per_append)
            writer.append(
                side, foot.time_s[part], foot.values[part], foot.valid[part],
                accel_g=None if foot.accel_g is None else foot.accel_g[part],
                gyro_dps=None if foot.gyro_dps is None else foot.gyro_dps[part],
                channels={k: v[part] for k, v in foot.channels.items()},
            )
    return writer


def test_stream_reads_while_open_and_finalizes_to_the_same_parquet(tmp_path: Path) -> None:
    recording = _synthetic()
    stream = tmp_path / "walk.arrows"
    writer = _write_stream(stream, recording)
    writer.add_mark(Mark(1.0, "turn"))
    writer.update(capture_quality={"packets_lost": {"left": 3, "right": 0}})
    during, facts = read_stream(stream)  # as `insole info` sees a capture in progress
    assert facts == {"batches": 10, "truncated": False, "rows": 980, "closed": False}
    np.testing.assert_array_equal(during.left.values, recording.left.values)
    np.testing.assert_array_equal(during.right.valid, recording.right.valid)
    assert during.marks == (Mark(1.0, "turn"),)
    assert during.meta.capture_quality == {"packets_lost": {"left": 3, "right": 0}}
    parquet = writer.finalize(tmp_path / "walk.parquet")
    assert not stream.exists() and not (tmp_path / "walk.arrows.json").exists()
    final = read_parquet(parquet)
    assert final.left.equals(during.left) and final.right.equals(during.right)
    assert "recovered_from_stream" not in final.meta.extra  # closed cleanly


def test_stream_cut_mid_batch_keeps_every_complete_batch(tmp_path: Path) -> None:
    recording = _synthetic()
    stream = tmp_path / "walk.arrows"
    writer = _write_stream(stream, recording)
    complete = stream.stat().st_size
    writer.append("left", np.array([5.0, 5.01]), np.zeros((2, 16)), np.ones(2, bool))
    writer._file.flush()
    data = stream.read_bytes()
    cut = tmp_path / "cut.arrows"
    cut.write_bytes(data[: complete + (len(data) - complete) // 2])  # the last batch half written
    (tmp_path / "cut.arrows.json").write_bytes((tmp_path / "walk.arrows.json").read_bytes())
    recovered, facts = read_stream(cut)
    assert facts == {"batches": 10, "truncated": True, "rows": 980, "closed": False}
    np.testing.assert_array_equal(recovered.left.time_s, recording.left.time_s)
    out = recover(cut, tmp_path / "cut.parquet")
    final = read_parquet(out)
    assert final.meta.extra["recovered_from_stream"] == {"batches": 10, "rows": 980, "ended_in_partial_batch": True}
    assert final.left.n_samples == 500 and final.right.n_samples == 480
    assert not cut.exists()
    writer.close()


def test_stream_with_no_samples_yet_is_reported_not_crashed_on(tmp_path: Path) -> None:
    stream = tmp_path / "empty.arrows"
    writer = RecordingStreamWriter(stream, layout=get_layout("footswitch1"), unit="au", sample_rate_hz=300,
                                   meta=RecordingMeta())
    with pytest.raises(MalformedFileError, match="file is empty"):  # pyarrow writes the schema with the first batch
        insole.load(stream)
    writer.close()
    with pytest.raises(MalformedFileError, match="holds no samples yet"):
        insole.load(stream)


def test_csv_export_of_feet_on_separate_clocks_reads_back_identical(tmp_path: Path) -> None:
    from insole.io._export._csv import write_csv

    recording = _synthetic()
    csv_path, sidecar = write_csv(recording, tmp_path / "walk.csv")
    frame = pd.read_csv(csv_path)
    assert len(frame) == 500 + 480  # no time is shared, so each row holds one foot
    assert frame.left_valid.isna().sum() == 480 and frame.right_valid.isna().sum() == 500
    assert "right_accel_x_g" not in frame.columns and "left_gyro_z_dps" in frame.columns
    again = insole.load(csv_path)
    assert again.equals(recording)
    one_foot = recording.replace(right=None)
    csv_path, _ = write_csv(one_foot, tmp_path / "left.csv")
    assert insole.load(csv_path).equals(one_foot)


def test_the_writer_options_follow_the_columns_the_table_has() -> None:
    """Which float column gets which encoding is tested in test_format_encoding.py; here the options' shape."""
    table = pa.table({"side": pa.array(["left"] * 3), "time_s": pa.array([0.0, 0.01, 0.02]),
                      "valid": pa.array([True, False, True]), "force_au": pa.array([1.0, 2.0, 3.0], pa.float32())})
    options = parquet_write_options(table)
    assert options["compression"] == "zstd" and options["row_group_size"] == 360_000
    floats = {"time_s", "force_au"}
    split, dictionary = set(options["use_byte_stream_split"]), set(options["use_dictionary"])
    assert split <= floats and not split & dictionary  # a column in both would be dictionary-encoded
    assert split | dictionary == set(table.schema.names)


def test_dictionary_columns_are_read_in_pieces_of_their_decoded_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quantised sensor is stored as small dictionary indices but read as whole float32 values: the reader's
    pieces are sized by the values (rows x 4 bytes), not by the few stored bytes."""
    n = 20_000
    rng = np.random.default_rng(3)
    values = rng.integers(0, 8, (n, 16)) * np.float32(12.5)  # 8 levels: every sensor column dictionary-encoded
    foot = FootSamples(time_s=np.arange(n) / RATE_HZ, values=values.astype(np.float32), valid=np.ones(n, bool))
    recording = Recording(layout=get_layout("insole16"), unit="kPa", sample_rate_hz=RATE_HZ, left=foot, right=None,
                          meta=RecordingMeta())
    path = write_parquet(recording, tmp_path / "levels.parquet")
    group = pq.ParquetFile(path).metadata.row_group(0)
    sensors = [f"{name}_kpa" for name in recording.layout.sensor_names]
    stored = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    assert all("RLE_DICTIONARY" in stored[name].encodings for name in sensors)
    assert all(stored[name].total_uncompressed_size < n for name in sensors)  # under a byte per value stored
    monkeypatch.setattr(_format, "_PIECE_BYTES", 3 * n * 4)  # three sensors' values
    runs = list(_format._pieces(group, sensors))
    assert [len(run) for run in runs] == [3, 3, 3, 3, 3, 1]
    assert read_parquet(path).equals(recording)

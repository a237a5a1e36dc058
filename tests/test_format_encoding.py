"""How the recording's Parquet file stores its numbers (docs/recording-format.md, "Storage"): each float column
in BYTE_STREAM_SPLIT or dictionary encoding, whichever suits it; files written before that still read the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _data import shared_data_dir

import insole
from insole import FootSamples, Recording, RecordingMeta, get_layout
from insole.io import read_parquet, sensor_columns, write_parquet
from insole.simulate import SimulationParams, simulate

RATE_HZ = 100.0
REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "recordings").glob("*.parquet"))
GAITPDB = shared_data_dir() / "gaitpdb" / "GaCo01_01.txt"
SPLIT, DICTIONARY = "BYTE_STREAM_SPLIT", "RLE_DICTIONARY"
# the sensors of ``_mixed`` that read in a few fixed steps (a coarse converter), the others continuous
STEPPED = range(0, 16, 2)


def _mixed(n: int = 20_000) -> Recording:
    """Two feet of ``n`` samples: half the sensors continuous (every value different), half in 8 steps of 12.5 kPa;
    a continuous IMU on the left foot only; gaps as NaN."""
    rng = np.random.default_rng(11)

    def foot(offset_s: float, imu: bool) -> FootSamples:
        values = rng.uniform(0.0, 400.0, (n, 16)).astype(np.float32)
        values[:, STEPPED] = rng.integers(0, 8, (n, len(STEPPED))) * np.float32(12.5)
        valid = np.ones(n, bool)
        valid[1000:1040] = False
        values[~valid] = np.nan
        return FootSamples(
            time_s=offset_s + np.arange(n) / RATE_HZ, values=values, valid=valid,
            accel_g=rng.normal(0.0, 1.0, (n, 3)) if imu else None,
            gyro_dps=rng.normal(0.0, 90.0, (n, 3)) if imu else None,
        )

    return Recording(
        layout=get_layout("insole16", shoe_size_eu=40), unit="kPa", sample_rate_hz=RATE_HZ,
        left=foot(0.0, imu=True), right=foot(0.0041, imu=False), meta=RecordingMeta(subject_id="S-7"),
    )


def _encodings(path: Path) -> dict[str, set[str]]:
    """Each column's encodings over every row group of the file, as its metadata lists them."""
    metadata = pq.read_metadata(path)
    found: dict[str, set[str]] = {}
    for group in range(metadata.num_row_groups):
        for i in range(metadata.num_columns):
            chunk = metadata.row_group(group).column(i)
            found.setdefault(chunk.path_in_schema, set()).update(chunk.encodings)
    return found


def _write_as_before(source: Path, out: Path) -> Path:
    """``source``'s table written the way ``write_parquet`` wrote every file before the encodings were chosen."""
    pq.write_table(pq.read_table(source), out, compression="zstd", row_group_size=360_000)
    return out


def test_each_float_column_carries_the_encoding_that_suits_its_values(tmp_path: Path) -> None:
    recording = _mixed()
    path = write_parquet(recording, tmp_path / "walk.parquet")
    encodings = _encodings(path)
    names = [f"{name}_kpa" for name in recording.layout.sensor_names]
    stepped = {names[j] for j in STEPPED}
    imu = [f"accel_{a}_g" for a in "xyz"] + [f"gyro_{a}_dps" for a in "xyz"]
    continuous = [*(set(names) - stepped), "time_s", *imu]
    for name in continuous:
        assert SPLIT in encodings[name] and DICTIONARY not in encodings[name], name
    for name in stepped:
        assert DICTIONARY in encodings[name] and SPLIT not in encodings[name], name
    assert DICTIONARY in encodings["side"] and SPLIT not in encodings["side"]
    assert SPLIT not in encodings["valid"]
    assert read_parquet(path).equals(recording)


def test_the_chosen_encodings_make_the_file_no_larger_than_either_single_one(tmp_path: Path) -> None:
    """The sample decides column by column; on the whole file the choice must not lose to dictionary encoding
    everywhere (the writer before) nor to BYTE_STREAM_SPLIT everywhere."""
    path = write_parquet(_mixed(), tmp_path / "chosen.parquet")
    table = pq.read_table(path)
    floats = [f.name for f in table.schema if pa.types.is_floating(f.type)]
    every_split = tmp_path / "split.parquet"
    pq.write_table(table, every_split, compression="zstd", row_group_size=360_000,
                   use_dictionary=["side"], use_byte_stream_split=floats)
    every_dictionary = _write_as_before(path, tmp_path / "dictionary.parquet")
    size = path.stat().st_size
    assert size < every_split.stat().st_size and size < every_dictionary.stat().st_size


def test_a_file_written_before_reads_the_same_as_one_written_now(tmp_path: Path) -> None:
    recording = _mixed()
    now = write_parquet(recording, tmp_path / "now.parquet")
    before = _write_as_before(now, tmp_path / "before.parquet")
    assert not any(SPLIT in found for found in _encodings(before).values())
    assert read_parquet(before).equals(recording) and read_parquet(now).equals(recording)
    # and pandas alone (its pyarrow engine) sees the same frame in both, NaN where NaN
    pd.testing.assert_frame_equal(pd.read_parquet(now), pd.read_parquet(before), check_exact=True)


@pytest.mark.parametrize("shipped", SHIPPED, ids=[p.name for p in SHIPPED])
def test_the_shipped_recordings_read_the_same_after_rewriting(shipped: Path, tmp_path: Path) -> None:
    """The files in recordings/ were written before the encodings were chosen (and are kept as they are): each
    reads to the same recording, and the same pandas frame, as its rewrite by today's writer."""
    as_shipped = read_parquet(shipped)
    rewritten = write_parquet(as_shipped, tmp_path / shipped.name)
    assert read_parquet(rewritten).equals(as_shipped)
    pd.testing.assert_frame_equal(pd.read_parquet(rewritten), pd.read_parquet(shipped), check_exact=True)


def test_real_quantised_forces_keep_the_dictionary_and_the_file_shrinks(tmp_path: Path) -> None:
    """PhysioNet gaitpdb's forces are few distinct levels (a dictionary's case), its time axis is not."""
    recording = insole.load(GAITPDB)
    now = write_parquet(recording, tmp_path / "now.parquet")
    encodings = _encodings(now)
    for name in (f"{sensor}_n" for sensor in recording.layout.sensor_names):
        assert DICTIONARY in encodings[name] and SPLIT not in encodings[name], name
    assert SPLIT in encodings["time_s"]
    before = _write_as_before(now, tmp_path / "before.parquet")
    assert now.stat().st_size < before.stat().st_size
    assert read_parquet(now).equals(recording) and read_parquet(before).equals(recording)


@pytest.mark.parametrize("shipped", SHIPPED, ids=[p.name for p in SHIPPED])
def test_the_analysis_of_a_shipped_file_and_of_its_rewrite_is_the_same(shipped: Path, tmp_path: Path) -> None:
    """``analyze`` of a path reads the file itself, a stretch at a time: the encodings must not change a number."""
    from insole.analysis import analyze
    from insole.io import analysis_tables

    rewritten = write_parquet(read_parquet(shipped), tmp_path / shipped.name)
    before, now = analysis_tables(analyze(shipped)), analysis_tables(analyze(rewritten))
    assert sorted(before) == sorted(now) and before
    for name, table in before.items():
        pd.testing.assert_frame_equal(now[name], table, check_exact=True, obj=name)


def test_the_description_is_stored_once_without_pyarrows_schema_copy(tmp_path: Path) -> None:
    # ARROW:schema would hold the description a second time, decoded by every reader on every open handle; the
    # columns read back as the same types without it
    recording = simulate(SimulationParams(duration_s=20.0, seed=3, layout="insole16"))
    path = write_parquet(recording, tmp_path / "walk.parquet")
    assert set(pq.read_metadata(path).metadata) == {b"insole.recording"}
    schema = pq.read_schema(path)
    assert (schema.field("side").type, schema.field("time_s").type, schema.field("valid").type) == \
        (pa.string(), pa.float64(), pa.bool_())
    assert {schema.field(name).type for name in sensor_columns(recording.layout, recording.unit)} == {pa.float32()}
    assert insole.load(path).equals(recording)

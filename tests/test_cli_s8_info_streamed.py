"""Issue 19, task S8 item 3: ``insole info`` of our Parquet file reads its footer and each foot's time and
validity columns, not the sensor values (an eight-hour recording whole was 964 MiB and 9.2 s).

Every test compares the printed text and ``--json`` with what the whole-file way (``insole.load``) prints, byte
for byte, and checks that the streamed way was the one taken; files it cannot vouch for (a refusal of the reader)
go the whole way and say what the reader says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from _data import missing_reason, shared_data_dir

import insole
from insole import FootSamples, Recording
from insole._cli import EXIT_BAD_INPUT, _info_parquet, main
from insole.io import _format as recording_format
from insole.simulate import SimulationParams, simulate

REPO = Path(__file__).resolve().parents[1]


def _printed(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["info", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _same_either_way(path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """``insole info PATH`` and ``--json`` print the same read streamed as loaded whole; the streamed text."""
    assert _info_parquet.parquet_facts(path) is not None  # the streamed way is taken for this file
    streamed = [_printed(capsys, str(path)), _printed(capsys, str(path), "--json")]
    with monkeypatch.context() as patched:
        patched.setattr(_info_parquet, "parquet_facts", lambda path: None)  # the whole-file way
        whole = [_printed(capsys, str(path)), _printed(capsys, str(path), "--json")]
    assert streamed == whole
    assert streamed[0][0] == 0 and streamed[0][2] == ""
    return streamed[0][1]


@pytest.fixture
def small_row_groups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Files written in row groups of 700 rows: a foot in several groups, one group shared by both feet (as an
    hour's file is in groups of 360,000 rows)."""
    # the writer's own options, with smaller row groups
    options = recording_format.parquet_write_options

    def smaller(table):
        return {**options(table), "row_group_size": 700}

    monkeypatch.setattr(recording_format, "parquet_write_options", smaller)
    yield


def _with_gaps(recording: Recording, spans_s: list[tuple[float, float]]) -> Recording:
    """Each foot with its samples in ``spans_s`` lost (invalid, NaN values), as a dropped link leaves them."""
    feet = {}
    for side in recording.sides:
        foot = recording.samples(side)
        lost = np.zeros(foot.n_samples, dtype=bool)
        for start, end in spans_s:
            lost |= (foot.time_s >= start) & (foot.time_s <= end)
        values = foot.values.copy()
        values[lost] = np.nan
        feet[side] = dataclasses.replace(foot, values=values, valid=foot.valid & ~lost)
    return recording.replace(**feet)


def test_two_feet_with_imu_in_several_row_groups(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, small_row_groups: None) -> None:
    path = tmp_path / "walk.parquet"
    insole.write_parquet(simulate(SimulationParams(duration_s=20.0, seed=1, imu=True)), path)
    assert pq.ParquetFile(path).metadata.num_row_groups == 6  # 2 x 2000 rows: 5 x 700 and the rest
    text = _same_either_way(path, capsys, monkeypatch)
    assert "  left  foot    2000 samples, 100.00% valid, 0 gap(s); IMU" in text.splitlines()


def test_one_foot_only(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "left.parquet"
    insole.write_parquet(simulate(SimulationParams(duration_s=15.0, seed=2)).replace(right=None), path)
    text = _same_either_way(path, capsys, monkeypatch)
    assert "right foot" not in text and "  left  foot    1500 samples" in text


def test_gaps_more_than_the_text_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch, small_row_groups: None) -> None:
    spans = [(1.0 + 1.5 * k, 1.2 + 1.5 * k) for k in range(12)]  # 12 gaps of 21 samples each (0.2 s at 100 Hz)
    recording = _with_gaps(simulate(SimulationParams(duration_s=20.0, seed=3)), spans)
    path = tmp_path / "gappy.parquet"
    insole.write_parquet(recording, path)
    text = _same_either_way(path, capsys, monkeypatch)
    assert "  left  foot    2000 samples, 87.40% valid, 12 gap(s)" in text  # 252 of 2000 lost
    assert "      ... 2 more (see --json)" in text


def test_a_foot_with_extra_channels_and_devices(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    recording = simulate(SimulationParams(duration_s=10.0, seed=4))
    left = recording.samples("left")
    left = FootSamples(left.time_s, left.values, left.valid,
                       channels={"vendor_total_force_n": np.linspace(0.0, 1.0, left.n_samples)})
    recording = recording.replace(left=left).with_meta(devices={"left": {"name": "L1"}, "right": {"name": "R1"}})
    path = tmp_path / "channels.parquet"
    insole.write_parquet(recording, path)
    text = _same_either_way(path, capsys, monkeypatch)
    assert "; vendor_total_force_n" in text and "  right device  name R1" in text


def test_the_repositorys_real_recordings(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    paths = sorted((REPO / "recordings").glob("*.parquet"))
    assert len(paths) >= 3  # gaitndd, gaitpdb, Moticon
    for path in paths:
        _same_either_way(path, capsys, monkeypatch)


@pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))
def test_real_recordings_of_the_shared_data_converted_to_our_parquet(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = shared_data_dir()
    sources = [p for p in (root / "gaitpdb-cohort" / "JuPt07_01.txt", root / "gaitpdb-cohort" / "GaCo10_01.txt")
               if p.is_file()]
    sources += sorted((root / "gaitndd").glob("*.hea"))[:1]
    if not sources:
        pytest.skip("none of the chosen real recordings is in the shared data")
    for source in sources:
        path = tmp_path / f"{source.stem}.parquet"
        insole.write_parquet(insole.load(source), path)
        _same_either_way(path, capsys, monkeypatch)


def test_a_multi_group_foot_is_described_without_reading_a_sensor_column(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_row_groups: None) -> None:
    path = tmp_path / "walk.parquet"
    insole.write_parquet(simulate(SimulationParams(duration_s=21.0, seed=5)), path)  # 2100 rows a foot: 3 x 700
    read: list[tuple[str, ...]] = []
    for name in ("read_row_group", "read_row_groups"):
        original = getattr(pq.ParquetFile, name)

        def spy(self, *args, columns=None, _original=original, **kwargs):
            read.append(tuple(columns or ("<all>",)))
            return _original(self, *args, columns=columns, **kwargs)

        monkeypatch.setattr(pq.ParquetFile, name, spy)
    facts = _info_parquet.parquet_facts(path)
    assert facts is not None and facts.samples("right").n_samples == 2100
    assert {column for columns in read for column in columns} == {"time_s", "valid"}


def test_a_file_the_reader_refuses_is_refused_in_its_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a foot whose every value is zero or below (sign inverted): the whole reader refuses it
    recording = simulate(SimulationParams(duration_s=5.0, seed=6))
    left = recording.samples("left")
    recording = recording.replace(left=dataclasses.replace(left, values=-np.abs(left.values) - 1.0))
    path = tmp_path / "inverted.parquet"
    insole.write_parquet(recording, path)
    assert _info_parquet.parquet_facts(path) is None
    code, out, err = _printed(capsys, str(path))
    assert code == EXIT_BAD_INPUT and out == ""
    with pytest.raises(insole.MalformedFileError) as refused:
        insole.load(path)
    assert err == f"insole info: error: {refused.value}\n"
    assert "every sensor value is zero or negative" in err

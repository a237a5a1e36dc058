"""Task S9-IO: our recording format is stated once (insole/_recording_format.py) and its three readers agree.

The reader (``insole.load``), the streamed analysis (``insole.analyze(path)``) and ``insole info`` (its footer
reader) each used to restate parts of the format: the metadata key and version, the description's checks, the
column checks, Arrow to numpy, the feet's rows, the duration, the no-load refusal. Where the restatements
differed, a file the reader refuses was analysed: the streamed analysis took a ``format_version`` of ``true``
(``True == 1``) and a rate given as text (``float("100")``), and did not check ``channel_sides``, ``imu_sides``,
the reference events or the marks at all.
Each test here gives the three readers one file and expects one answer.

(Named ``test_cli_*``: it drives ``insole info`` in-process, as the command line's own tests do.)
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

import insole
from insole import MalformedFileError
from insole._cli import EXIT_BAD_INPUT, _info_parquet, main
from insole.simulate import SimulationParams, simulate

REPO = Path(__file__).resolve().parents[1]
READERS = ("insole/io/_format.py", "insole/analysis/_streamed.py", "insole/_cli/_info_parquet.py")


@pytest.fixture(scope="module")
def walk_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return insole.write_parquet(simulate(SimulationParams(duration_s=8.0, seed=11)),
                                tmp_path_factory.mktemp("one_reader") / "walk.parquet")


def _rewritten(source: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """``source`` with its description changed by ``change`` (written by pyarrow: the table is the same)."""
    key = pq.read_schema(source).metadata
    description = json.loads(next(value for name, value in key.items() if name.startswith(b"insole")))
    change(description)
    table = pq.read_table(source)
    (name,) = [name for name in table.schema.metadata if name.startswith(b"insole")]
    pq.write_table(table.replace_schema_metadata({name: json.dumps(description).encode()}), target)
    return target


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(description: dict[str, Any]) -> None:
        description[key] = value

    return change


# each a description the reader refuses, and the words it refuses it in
REFUSED = {
    "format_version true": (_set("format_version", True), "format_version True is not a whole number"),
    "channel_sides a list": (_set("channel_sides", ["left"]), "channel_sides must be a JSON object, not list"),
    "imu_sides text": (_set("imu_sides", "left"), "imu_sides must be a list"),
    "reference events damaged": (_set("reference_events", {"heel_strike_s": [1.0, 2.0]}), "wrong type"),
    "a mark without a time": (_set("marks", [{"time_s": "soon", "label": "turn"}]), "a mark's time must be"),
    "rate as text": (_set("sample_rate_hz", "100"), "sample_rate_hz must be a number, not str"),
    "rate zero": (_set("sample_rate_hz", 0), "sample rate must be positive"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_description_the_reader_refuses_is_refused_by_all_three_in_its_words(
        case: str, walk_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    change, words = REFUSED[case]
    path = _rewritten(walk_file, tmp_path / "changed.parquet", change)
    with pytest.raises(MalformedFileError) as loaded:
        insole.load(path)
    assert words in str(loaded.value)
    # the streamed analysis: before, it analysed all but "rate zero" (checked at the commit before this task's:
    # 6 failed); now it leaves them to the reader
    with pytest.raises(MalformedFileError) as analysed:
        insole.analyze(path)
    assert str(analysed.value) == str(loaded.value)
    assert _info_parquet.parquet_facts(path) is None
    assert main(["info", str(path)]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == f"insole info: error: {loaded.value}\n"


def test_the_unchanged_description_rewritten_is_read_by_all_three(
        walk_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the rewriting itself changes nothing the readers refuse: the cases above fail for their change alone
    path = _rewritten(walk_file, tmp_path / "same.parquet", lambda description: None)
    recording = insole.load(path)
    assert recording.equals(insole.load(walk_file))
    with monkeypatch.context() as patched:
        _streamed_only(patched)
        assert insole.analyze(path).provenance["input"]["duration_s"] == recording.duration_s
    facts = _info_parquet.parquet_facts(path)
    assert facts is not None and facts.duration_s == recording.duration_s


def test_a_foot_of_no_load_is_refused_by_all_three_in_the_readers_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = simulate(SimulationParams(duration_s=5.0, seed=6))
    right = recording.samples("right")
    recording = recording.replace(right=dataclasses.replace(right, values=-np.abs(right.values) - 0.5))
    path = insole.write_parquet(recording, tmp_path / "inverted.parquet")
    with pytest.raises(MalformedFileError) as loaded:
        insole.load(path)
    assert "right foot: every sensor value is zero or negative" in str(loaded.value)
    with pytest.raises(MalformedFileError) as analysed:
        insole.analyze(path)
    assert str(analysed.value) == str(loaded.value)
    assert main(["info", str(path)]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == f"insole info: error: {loaded.value}\n"


def _streamed_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """``analyze(path)`` may not load the file whole: the streamed analysis is the one that runs."""
    def refused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("loaded whole: the streamed analysis did not take the file")

    monkeypatch.setattr(insole.io, "load", refused)


def test_the_duration_is_the_recordings_in_all_three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recording = simulate(SimulationParams(duration_s=10.0, seed=4))
    left, right = recording.samples("left"), recording.samples("right")
    # two clocks: the right foot's first 50 samples left out, and 1.25 s added to its times (it starts 1.75 s
    # after the left foot and ends 1.25 s after it)
    cut = {name: getattr(right, name)[50:] for name in ("values", "valid", "accel_g", "gyro_dps")
           if getattr(right, name) is not None}
    right = dataclasses.replace(right, time_s=right.time_s[50:] + 1.25, **cut)
    recording = recording.replace(right=right)
    path = insole.write_parquet(recording, tmp_path / "two_clocks.parquet")
    # from the first sample of either foot to the last, plus one sample (exact: the same operations)
    expected = float(max(left.time_s[-1], right.time_s[-1]) - min(left.time_s[0], right.time_s[0])
                     + 1.0 / recording.sample_rate_hz)
    assert expected == pytest.approx(10.0 + 1.25, abs=1e-9)  # 10 s of samples, the right foot's 1.25 s later
    assert insole.load(path).duration_s == expected
    with monkeypatch.context() as patched:
        _streamed_only(patched)
        assert insole.analyze(path).provenance["input"]["duration_s"] == expected  # the streamed analysis' skeleton
    facts = _info_parquet.parquet_facts(path)
    assert facts is not None and facts.duration_s == expected


def test_the_format_is_stated_in_one_place() -> None:
    # the metadata key and the format's name are written once in the package, and each reader takes the format's
    # pieces from that one module
    stated: dict[str, list[str]] = {'b"insole.recording"': [], '"insole-recording"': []}
    for path in sorted((REPO / "insole").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for literal, where in stated.items():
            if literal in text:
                where.append(path.relative_to(REPO).as_posix())
    assert stated == {literal: ["insole/_recording_format.py"] for literal in stated}
    for reader in READERS:
        text = (REPO / reader).read_text(encoding="utf-8")
        assert re.search(r"^from insole\._recording_format import", text, re.MULTILINE), reader
        for restated in ("def _described(", "def _check_columns(", "def _rows_by_side(", "_META_KEY =", "_FORMAT ="):
            assert restated not in text, (reader, restated)

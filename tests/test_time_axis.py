"""Event times on the source file's own time axis, or a stated way back to it.

`docs/analysis-json.md` promises outside tools that times are seconds on the
source file's own axis. Most sources count from (about) zero and we keep
their times as they are; two count absolute clock time (stappone: ms since
the Unix epoch; XSENSOR: date and time of day). For those our axis starts at
their first sample and `provenance.input.source.time_zero` gives that
sample's time in the file's own terms, so source time = ours + time zero.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from _data import shared_data_dir

import insole
from insole.analysis import analyze

EXPORTS = shared_data_dir() / "vendor-exports"


def test_stappone_time_zero_maps_back_to_the_files_timestamps() -> None:
    path = EXPORTS / "stappone_example.csv"
    recording = insole.load(path)
    time_zero = recording.meta.source["time_zero"]
    assert time_zero["source_column"] == "timestamp" and time_zero["source_unit"] == "ms since the Unix epoch"
    with path.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["sole_id"] == "1"]  # sole 1 is read as the left
    file_ms = np.array([float(row["timestamp"]) for row in rows])
    left = recording.left
    ours_ms = left.time_s[left.valid] * 1000.0 + time_zero["source_value"]
    # every observed sample sits at one of the file's own timestamps (ms / 1000 and back: exact after rounding)
    assert np.isin(np.round(ours_ms), file_ms).all()
    assert ours_ms.size == file_ms.size  # 4575: every row of sole 1 observed
    assert ours_ms[0] == file_ms[0]


def test_xsensor_time_zero_is_the_first_frames_clock_time() -> None:
    path = EXPORTS / "xsensor_data.csv"
    recording = insole.load(path)
    time_zero = recording.meta.source["time_zero"]
    assert time_zero["source_unit"] == "clock time"
    # the file's "Date, 2022 Aug 16" and "Time, 08:21:17.982"
    assert time_zero["source_value"] == "2022-08-16T08:21:17.982"
    assert recording.left.time_s[0] == 0.0


@pytest.mark.parametrize("name", ["pedar_example.asc", "fscan_testL.asf"])
def test_relative_sources_keep_their_own_times(name: str) -> None:
    recording = insole.load(EXPORTS / name)
    assert "time_zero" not in recording.meta.source


def test_time_zero_reaches_the_analysis_json() -> None:
    recording = insole.load(EXPORTS / "stappone_example.csv")
    provenance = analyze(recording).to_dict()["provenance"]
    assert provenance["input"]["source"]["time_zero"] == recording.meta.source["time_zero"]

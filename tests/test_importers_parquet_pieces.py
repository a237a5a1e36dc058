"""Our Parquet reader (the "parquet" importer of `insole.io.load`) fills each foot's arrays from pieces of row
groups of a bounded decoded size.

``read_parquet`` reads the columns of each row group in runs whose decoded size (the file's own metadata) stays
within ``_PIECE_BYTES`` (issue 19: 6 MB, four of the hour's sensor columns at a time), at least one column each.
Whatever the size of the pieces, from one column at a time to whole row groups, the recording read is the one
written, array for array.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from insole.io import _format, load, write_parquet
from insole.simulate import SimulationParams, simulate


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    recording = simulate(SimulationParams(duration_s=60.0, seed=5, layout="insole16", sample_rate_hz=100.0))
    path = tmp_path_factory.mktemp("pieces") / "walk.parquet"
    table_path = write_parquet(recording, path)
    return recording, table_path


def test_runs_of_columns_stay_within_the_budget(written, monkeypatch: pytest.MonkeyPatch) -> None:
    _, path = written
    group = pq.ParquetFile(path).metadata.row_group(0)
    size = {group.column(i).path_in_schema: group.column(i).total_uncompressed_size for i in range(group.num_columns)}
    names = list(size)[2:]  # every column but side and time, as the reader asks for them
    one_column = max(size[name] for name in names)
    for budget in (1, one_column, 2 * one_column + 1, 5 * one_column, sum(size.values())):
        monkeypatch.setattr(_format, "_PIECE_BYTES", budget)
        runs = list(_format._pieces(group, names))
        assert [name for run in runs for name in run] == names  # every column once, in order
        for run in runs:
            assert len(run) == 1 or sum(size[name] for name in run) <= budget
        if budget == 1:
            assert all(len(run) == 1 for run in runs)
        if budget == sum(size.values()):
            assert len(runs) == 1


@pytest.mark.parametrize("budget", [1, 3 << 20, 1 << 40])
def test_any_piece_size_reads_the_recording_written(written, monkeypatch: pytest.MonkeyPatch, budget: int) -> None:
    recording, path = written
    monkeypatch.setattr(_format, "_PIECE_BYTES", budget)
    read = load(path)
    assert read.equals(recording)
    for side in read.sides:
        assert read.samples(side).values.T.flags.c_contiguous  # still stored sensor by sensor

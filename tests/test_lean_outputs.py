"""`insole analyze --json` (the lean document) and `--tables` (Parquet) hold the same numbers as the full document.

The full document (``Analysis.to_dict()``, what ``--json`` wrote before the lean
file, still ``write_json(..., full=True)``) is the reference: every table it
holds as rows (strides, steps, contacts, curves, regions, sensors, the summary's
per-foot and symmetry tables) must come back from the Parquet files, read by
pandas alone, row for row and value for value (NaN as null, as JSON has it);
every key the lean JSON keeps must equal the full document's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _data import shared_data_dir

import insole
from insole._cli import main
from insole._cli._analyze import _TABLES
from insole.analysis import analyze
from insole.analysis._json import LEAN_SCHEMA_VERSION, STRIDE_JSON_COLUMNS, write_json

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_data_dir()
CASES = {
    "moticon": REPO / "recordings" / "moticon_230927_102114.parquet",
    "gaitndd": REPO / "recordings" / "gaitndd_control1.parquet",
    "gaitpdb": REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet",
    "pedar": SHARED / "vendor-exports" / "pedar_example.asc",
    "moticon_text": SHARED / "moticon-opengo" / "230927_102114.txt",
}


def _cell(value: Any) -> Any:
    """A Parquet cell as the JSON writer gives it: NaN -> None, numpy scalars -> Python."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rows(frame: pd.DataFrame, side: str | None = None, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    if side is not None:
        frame = frame[frame["side"] == side].drop(columns="side")
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    return [{k: _cell(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


@pytest.fixture(scope="module", params=sorted(CASES))
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    path = CASES[request.param]
    if not path.is_file():
        pytest.skip(f"{path} is not here (shared data absent)")
    out = tmp_path_factory.mktemp(request.param)
    assert main(["analyze", str(path), "--json", str(out / "a.json"), "--tables", str(out / "tables")]) == 0
    full = analyze(insole.load(path)).to_dict()  # the document --json wrote before the lean file
    return json.loads((out / "a.json").read_text(encoding="utf-8")), full, out / "tables"


def test_every_table_of_the_full_document_is_in_the_parquet_files(written: tuple[Any, ...]) -> None:
    _, full, tables = written
    sides = list(full["strides"])
    frames = {name: pd.read_parquet(tables / f"{name}.parquet") for name in
              ("strides", "steps", "contacts", "curves", "regions", "sensors", "summary_per_foot", "summary_symmetry")}
    for side in sides:
        assert _rows(frames["strides"], side) == full["strides"][side]
        assert _rows(frames["steps"], side) == full["steps"][side]
        contacts = _rows(frames["contacts"], side)
        assert [row.pop("contact") for row in contacts] == list(range(len(full["events"][side]["contacts"])))
        assert contacts == full["events"][side]["contacts"]
        assert _rows(frames["regions"], side) == full["regions"][side]
        assert _rows(frames["sensors"], side) == full["sensors"][side]
        curve = frames["curves"][frames["curves"]["side"] == side].drop(columns="side")
        assert {c: [_cell(v) for v in curve[c]] for c in curve.columns} == full["curves"][side]
    for name, key in (("summary_per_foot", "per_foot"), ("summary_symmetry", "symmetry")):
        by_metric = {row.pop("metric"): row for row in _rows(frames[name])}
        assert by_metric == full["summary"][key]
    manifest = json.loads((tables / "tables.json").read_text(encoding="utf-8"))
    assert set(manifest["tables"]) == set(_TABLES) >= set(frames)  # the names the command checks before any work


def test_the_lean_json_keeps_the_stable_keys_with_the_same_values(written: tuple[Any, ...]) -> None:
    lean, full, tables = written
    assert set(lean) == {"schema", "schema_version", "provenance", "quality", "events", "strides", "summary", "tables"}
    assert (lean["schema"], lean["schema_version"]) == ("insole.analysis", LEAN_SCHEMA_VERSION)
    assert lean["tables"]["folder"] == str(tables) and "strides" in lean["tables"]["names"]
    assert lean["quality"] == full["quality"] and lean["summary"] == full["summary"]
    provenance = dict(lean["provenance"])
    assert provenance.pop("schema_version") == LEAN_SCHEMA_VERSION
    assert provenance.pop("input").pop("analysed_file")["path"]  # added by the command line
    assert provenance == {k: v for k, v in full["provenance"].items() if k not in ("schema_version", "input")}
    for side in full["strides"]:
        assert lean["events"][side] == {key: full["events"][side][key] for key in ("heel_strike_s", "toe_off_s")}
        expected = [{k: row[k] for k in STRIDE_JSON_COLUMNS} for row in full["strides"][side]]
        assert lean["strides"][side] == expected
        assert len(expected) > 0


def test_write_json_full_is_the_document_to_json_writes(tmp_path: Path) -> None:
    analysis = analyze(insole.load(CASES["moticon"]))
    write_json(analysis, tmp_path / "full.json", full=True)
    assert (tmp_path / "full.json").read_text(encoding="utf-8") == analysis.to_json() + "\n"
    write_json(analysis, tmp_path / "lean.json")
    assert json.loads((tmp_path / "lean.json").read_text(encoding="utf-8"))["strides"] == {
        side: [{k: row[k] for k in STRIDE_JSON_COLUMNS} for row in rows]
        for side, rows in analysis.to_dict()["strides"].items()}


def test_tables_refuses_an_existing_table_without_force(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["analyze", str(CASES["moticon"]), "--tables", str(tmp_path / "t")]
    assert main(argv) == 0
    before = (tmp_path / "t" / "strides.parquet").stat().st_mtime_ns
    capsys.readouterr()
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "tables.json" in error and "exists" in error  # one line, before any work
    assert (tmp_path / "t" / "strides.parquet").stat().st_mtime_ns == before
    assert main([*argv, "--force"]) == 0

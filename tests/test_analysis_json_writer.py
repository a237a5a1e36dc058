"""The fast JSON path of the analysis (insole/analysis/_json.py) writes what the straightforward one wrote.

``plain`` converts DataFrames column by column and ``dumps`` lets the C
encoder write each all-scalar container; the reference below is the
value-by-value conversion and ``json.dumps(indent=...)`` they replaced. The
outputs must be the same text, byte for byte, so that no reader of the JSON
(docs/analysis-json.md) can tell the difference, NaN still written as null.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _data import shared_data_dir

import insole
from insole.analysis import analyze
from insole.analysis._json import _IndentedWriter, _Table, analysis_to_json, dumps, plain, write_json
from insole.simulate import SimulationParams, simulate

SHARED = shared_data_dir()
MOTICON = SHARED / "moticon-opengo" / "230927_102114.txt"


def _reference_plain(value: Any) -> Any:
    # the conversion before the fast path, value by value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.floating):
        return _reference_plain(float(value))
    if isinstance(value, np.ndarray):
        return [_reference_plain(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return [{str(k): _reference_plain(v) for k, v in row.items()} for row in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): _reference_plain(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): _reference_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reference_plain(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "to_dict"):
        return _reference_plain(value.to_dict())
    return str(value)


def _reference_to_dict(analysis: Any) -> dict[str, Any]:
    p = _reference_plain
    by_metric = lambda frame: {str(m): {str(k): p(v) for k, v in row.items()} for m, row in frame.iterrows()}  # noqa: E731
    summary = analysis.summary
    return {
        "schema": "insole.analysis",
        "schema_version": analysis.provenance.get("schema_version"),
        "provenance": p(analysis.provenance),
        "quality": p(analysis.quality),
        "events": {
            side: {
                "heel_strike_s": p(e.heel_strike_s),
                "toe_off_s": p(e.toe_off_s),
                "heel_strike_confidence": p(e.heel_strike_confidence),
                "toe_off_confidence": p(e.toe_off_confidence),
                "contacts": p(e.contacts),
            }
            for side, e in analysis.events.items()
        },
        "strides": {side: p(t) for side, t in analysis.strides.items()},
        "steps": {side: p(t) for side, t in analysis.steps.items()},
        "summary": {
            "cadence_steps_per_min": p(summary.cadence_steps_per_min),
            "stride_time_cv_pct": p(summary.stride_time_cv_pct),
            "stride_time_robust_cv_pct": p(summary.stride_time_robust_cv_pct),
            "stride_time_sd_s": p(summary.stride_time_sd_s),
            "strides_used": p(summary.strides_used),
            "stride_time_variability_pct": p(summary.stride_time_variability_pct),
            "stance_time_variability_pct": p(summary.stance_time_variability_pct),
            "timing_variability": p(summary.timing_variability),
            "body_weight": p(summary.body_weight),
            "standing": p(summary.standing),
            "per_foot": by_metric(summary.per_foot),
            "symmetry": by_metric(summary.symmetry),
        },
        "curves": {side: {c: p(curve[c].to_numpy()) for c in curve.columns} for side, curve in analysis.curves.items()},
        "regions": {side: p(t) for side, t in analysis.regions.items()},
        "sensors": {side: p(t) for side, t in analysis.sensors.items()},
    }


def _reference_json(analysis: Any) -> str:
    return json.dumps(_reference_to_dict(analysis), indent=1, allow_nan=False, ensure_ascii=False)


def _with_gap(recording: Any) -> Any:
    # a 1.5 s gap in the left foot: NaN values, invalid samples, strides excluded, NaN cells in every table
    foot = recording.left
    gap = (foot.time_s >= 20.0) & (foot.time_s < 21.5)
    values = foot.values.copy()
    values[gap] = np.nan
    return dataclasses.replace(recording, left=dataclasses.replace(foot, values=values, valid=foot.valid & ~gap))


CASES = {
    "normal with a gap": lambda: _with_gap(simulate(SimulationParams(duration_s=60.0, seed=1))),
    "antalgic, turns, standing": lambda: simulate(
        SimulationParams(pattern="antalgic", duration_s=60.0, seed=2, turns=2, standing_s=5.0)
    ),
    "gaitpdb8 layout in N": lambda: simulate(
        SimulationParams(pattern="irregular", duration_s=40.0, seed=3, layout="gaitpdb8")
    ),
    "Moticon export": lambda: insole.load(MOTICON),
}


@pytest.mark.parametrize("case", list(CASES))
def test_json_is_byte_identical_to_the_value_by_value_writer(case: str, tmp_path: Path) -> None:
    analysis = analyze(CASES[case]())
    written = analysis.to_json()
    expected = _reference_json(analysis)
    assert json.loads(written) == json.loads(expected)  # the same document
    assert written == expected  # and the same text
    # the writer from the tables (no row dicts), as a string and streamed to a file
    assert analysis_to_json(analysis) == expected
    out = tmp_path / "analysis.json"
    write_json(analysis, out, full=True)  # the full document (the lean one: test_lean_outputs.py)
    assert out.read_text(encoding="utf-8") == expected + "\n"


def test_nan_cells_become_null_and_integers_stay_integers() -> None:
    analysis = analyze(CASES["normal with a gap"]())
    strides = analysis.strides["left"]
    parsed = json.loads(analysis.to_json())
    rows = parsed["strides"]["left"]
    assert len(rows) == len(strides) and "NaN" not in analysis.to_json()
    missing = strides["stride_time_s"].isna().to_numpy()
    assert missing.any() and (~missing).any()  # the gap made some, not all, cells NaN
    assert [r["stride_time_s"] is None for r in rows] == missing.tolist()
    assert ([r["stride_time_s"] for r in rows if r["stride_time_s"] is not None]
            == strides["stride_time_s"].dropna().tolist())
    assert all(type(r["stride"]) is int and type(r["used"]) is bool for r in rows)
    assert [r["exclusion_reason"] for r in rows] == strides["exclusion_reason"].tolist()


def test_plain_matches_the_reference_on_every_column_kind() -> None:
    frame = pd.DataFrame({
        "f64": [1.5, np.nan, np.inf, -0.0],
        "f32": np.array([0.1, np.nan, 2.5, 3.0], dtype=np.float32),
        "i64": [1, 2, 3, -4],
        "u8": np.array([1, 2, 3, 255], dtype=np.uint8),
        "flag": [True, False, True, False],
        "text": ["a", "", "é", "d"],
        "text_with_nan": ["a", None, "c", np.nan],
        "nullable": pd.array([1, None, 3, 4], dtype="Int64"),
        "mixed": [1, "x", 2.5, np.nan],
        7: [0.25, 0.5, 0.75, 1.0],
    })
    assert plain(frame) == _reference_plain(frame)
    assert json.dumps(plain(frame)) == json.dumps(_reference_plain(frame))  # same types (1 vs 1.0)
    assert plain(frame.iloc[:0]) == [] and plain(frame[[]]) == [{}, {}, {}, {}]
    for array in (np.array([1.0, np.nan, -np.inf]), np.arange(4).reshape(2, 2), np.array([[0.5, np.nan]], np.float32),
                  np.array([True, False]), np.array(["a", "b"])):
        assert json.dumps(plain(array)) == json.dumps(_reference_plain(array))


def _every_kind_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "f64": [1.5, np.nan, np.inf, -0.0],
        "zero": [0.0, -0.0, 0.0, 1 / 3],  # -0.0 and 0.0 must not share a formatted text
        "f32": np.array([0.1, np.nan, 2.5, 3.0], dtype=np.float32),
        "i64": [1, 2, 3, -4],
        "flag": [True, False, True, False],
        "text": ["a", "", "é\n\"", "d"],
        "text_with_nan": ["a", None, "c", np.nan],
        "nullable": pd.array([1, None, 3, 4], dtype="Int64"),
        "100% share": [0.1, 0.2, 0.3, 0.4],  # a % in a key
        7: [0.25, 0.5, 0.75, 1.0],
    })


@pytest.mark.parametrize(("frame", "templated"), [
    (_every_kind_frame(), True),
    (_every_kind_frame().iloc[:0], False),  # no rows
    (_every_kind_frame()[[]], False),  # no columns
    (_every_kind_frame().assign(listed=[[1], [2], [], [3.5]]), False),  # a non-scalar cell: the generic writer
    (_every_kind_frame()[["f64"]], True),
], ids=["every kind", "no rows", "no columns", "list cells", "one column"])
def test_tables_written_from_columns_match_json_of_their_rows(frame: pd.DataFrame, templated: bool) -> None:
    document = {"a": {"t": _Table(frame), "u": _Table(frame.iloc[::-1])}, "b": [1.0, -0.0]}
    expected = {"a": {"t": _reference_plain(frame), "u": _reference_plain(frame.iloc[::-1])}, "b": [1.0, -0.0]}
    for indent in (1, 2):
        writer = _IndentedWriter(indent, document)
        assert (id(frame) in writer._tables) == templated  # the path under test was the one taken
        written = "".join(writer.write(document, 0))
        assert written == json.dumps(expected, indent=indent, allow_nan=False, ensure_ascii=False)
    # the same rows as plain lists of dicts go through the row-table path of dumps()
    rows = {"t": _reference_plain(frame)}
    assert (id(rows["t"]) in _IndentedWriter(1, rows)._tables) == templated
    assert dumps(rows) == json.dumps(rows, indent=1, allow_nan=False, ensure_ascii=False)


def _random_document(rng: random.Random, depth: int = 0) -> Any:
    scalars = [0, -7, 0.1, 1e300, 1e-7, True, False, None, "", "x", "line\nbreak", "},\n  {", "[1, 2]", "é€", '"q"']
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return rng.choice(scalars)
    if roll < 0.6:
        return [_random_document(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if roll < 0.7:
        return tuple(_random_document(rng, depth + 1) for _ in range(rng.randrange(0, 4)))
    if roll < 0.75:  # a table: rows with the same keys, columns of one kind or mixed
        kinds = [rng.choice(["float", "int", "text", "bool", "mixed"]) for _ in range(rng.randrange(1, 5))]
        cell = {
            "float": lambda: rng.choice([None, -0.0, 0.0, 1 / 3, 2.5, 1e-300, rng.random()]),
            "int": lambda: rng.randrange(-5, 5),
            "text": lambda: rng.choice(["a", "é", "x\ny", '"%s"', ""]),
            "bool": lambda: rng.random() < 0.5,
            "mixed": lambda: rng.choice(scalars),
        }
        return [{f"c%{i}": cell[kind]() for i, kind in enumerate(kinds)} for _ in range(rng.randrange(1, 6))]
    if roll < 0.85:  # table-like: a list of dicts, sometimes with a nested value or an empty row
        return [
            {f"c{i}": (_random_document(rng, depth + 2) if rng.random() < 0.15 else rng.choice(scalars))
             for i in range(rng.randrange(0, 4))}
            for _ in range(rng.randrange(0, 4))
        ]
    keys = ["k", "é", 1, 2.5, True, None, "a\nb", "}, {"]
    return {rng.choice(keys): _random_document(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


@pytest.mark.parametrize("indent", [1, 2, 0, "\t"])
def test_dumps_writes_what_json_dumps_writes(indent: int | str) -> None:
    rng = random.Random(11)
    for _ in range(1500):
        document = _random_document(rng)
        assert dumps(document, indent=indent) == json.dumps(document, indent=indent, allow_nan=False,
                                                            ensure_ascii=False)


def test_dumps_refuses_what_json_refuses() -> None:
    with pytest.raises(ValueError):
        dumps({"rows": [{"a": float("nan")}]})
    for bad in (float("nan"), float("inf")):  # also inside a table of floats and None
        with pytest.raises(ValueError):
            dumps({"rows": [{"a": 1.5, "b": None}, {"a": bad, "b": None}, {"a": None, "b": 2.0}]})
    with pytest.raises(TypeError):
        dumps({"a": [np.float32(1.0)]})  # not converted by plain(): json's own error
    assert dumps({"a": 1}, indent=None) == '{"a": 1}'

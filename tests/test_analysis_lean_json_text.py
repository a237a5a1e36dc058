"""The lean JSON text (`insole analyze --json`) is written from the stride table's columns, byte for byte the text
of its definition.

``lean_json`` writes each foot's stride rows from a ``%`` template and each column's cell texts (floats formatted
once per distinct value), and puts the compact pieces in the indented document in one pass (issue 19: 53 -> 23 ms
for the hour's 6,800 stride rows). Its definition, restated here as the reference: ``json.dumps`` of
``lean_document`` with indent 1, except that each stride row and each event list is on one line, as ``json``'s
compact encoder (``", "`` and ``": "``) writes them. The two must give the same bytes on real analyses and on
tables holding every kind of cell the writer meets or must leave to ``json`` (NaN, -0.0, missing reasons, text
with quotes, ``%`` and non-ASCII letters, integers held as floats, numpy scalars in an object column), and a
document whose own text looks like the writer's placeholders.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import insole
from insole.analysis import analyze
from insole.analysis._json import _PLACE, lean_document, lean_json

REPO = Path(__file__).resolve().parents[1]


def _reference(analysis: Any, tables: dict[str, Any] | None = None) -> str:
    """The lean text by its definition: every stride row and event list compact, one by one."""
    document = lean_document(analysis, tables)
    compact = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    pieces: dict[str, str] = {}

    def hold(text: str) -> str:
        key = f"\x01reference-{len(pieces)}\x01"
        pieces[key] = text
        return key

    for side, rows in document["strides"].items():
        lines = ",\n   ".join(map(compact.encode, rows))
        document["strides"][side] = hold("[\n   " + lines + "\n  ]" if rows else "[]")
    for events in document["events"].values():
        for key, values in events.items():
            events[key] = hold(compact.encode(values))
    text = json.dumps(document, indent=1, allow_nan=False, ensure_ascii=False)
    for key, piece in pieces.items():
        text = text.replace(json.dumps(key), piece, 1)
    return text


@pytest.fixture(scope="module")
def analysis() -> Any:
    return analyze(insole.load(REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"))


@pytest.mark.parametrize("name", ["gaitndd_control1", "gaitpdb_GaCo01_01_60s", "moticon_230927_102114"])
def test_lean_text_is_its_definition_on_real_analyses(name: str) -> None:
    analysis = analyze(insole.load(REPO / "recordings" / f"{name}.parquet"))
    tables = {"folder": "out/tables", "format": "parquet", "names": ["strides", "steps"]}
    assert lean_json(analysis) == _reference(analysis)
    assert lean_json(analysis, tables) == _reference(analysis, tables)


def _odd_strides(frame: pd.DataFrame) -> pd.DataFrame:
    """The stride table with every kind of cell the writer must format as json does."""
    frame = frame.copy()
    n = len(frame)
    times = frame["stride_time_s"].to_numpy(dtype=float).copy()
    times[0], times[1], times[2] = np.nan, -0.0, 0.0  # null, the sign of zero kept, and zero
    frame["stride_time_s"] = times
    frame["stance_time_s"] = frame["stance_time_s"].astype(np.float32)  # float32 cells written as float64 values
    frame["swing_time_s"] = np.round(frame["swing_time_s"].to_numpy(dtype=float))  # whole numbers held as floats
    reasons = np.array([None] * n, dtype=object)
    reasons[0], reasons[1], reasons[3] = 'a "quoted" 100% reason', "Fußheber\tschwäche", "\x00lean-piece\x00"
    frame["exclusion_reason"] = reasons
    frame["used"] = [bool(k % 2) for k in range(n)]
    return frame


def test_lean_text_is_its_definition_on_every_kind_of_cell(analysis: Any) -> None:
    odd = dataclasses.replace(analysis, strides={side: _odd_strides(f) for side, f in analysis.strides.items()})
    text = lean_json(odd)
    assert text == _reference(odd)
    rows = json.loads(text)["strides"]["left"]
    assert rows[0]["stride_time_s"] is None and str(rows[1]["stride_time_s"]) == "-0.0"
    assert rows[0]["exclusion_reason"] == 'a "quoted" 100% reason'


def test_lean_text_of_an_object_column_of_numpy_numbers_and_an_empty_table(analysis: Any) -> None:
    strides = dict(analysis.strides)
    frame = strides["left"].copy()
    frame["stride"] = pd.Series([np.int64(k) for k in range(len(frame))], dtype=object)  # left to json's encoder
    strides["left"], strides["right"] = frame, strides["right"].iloc[:0]
    odd = dataclasses.replace(analysis, strides=strides)
    assert lean_json(odd) == _reference(odd)
    assert '"right": []' in lean_json(odd)


def test_a_document_whose_text_looks_like_a_placeholder_is_still_written_exactly(analysis: Any) -> None:
    provenance = {**analysis.provenance, "note": _PLACE + "0" + _PLACE, "other": _PLACE}
    odd = dataclasses.replace(analysis, provenance=provenance)
    text = lean_json(odd)
    assert text == _reference(odd)
    assert json.loads(text)["provenance"]["note"] == _PLACE + "0" + _PLACE

"""The shared text-table reader (insole/io/_importers/_table.py): its fast path reads exactly what the slow one did.

The fast path (pandas' C parser over the whole table) is taken only for
columns whose every field is a finite number or empty; everything else goes
field by field so that the message names the line. These tests pin both
halves: the numbers are bit-identical to Python's ``float`` of each field, and
text that is not a measurement ("nan", "inf", overflowing numbers, words) is
still an error naming line, column and text, also when the rest of the file
takes the fast path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _data import shared_data_dir

import insole
from insole import MalformedFileError
from insole.io._importers._table import parse_numeric, split_rows

SHARED = shared_data_dir()
MOTICON = SHARED / "moticon-opengo" / "230927_102114.txt"
HERE = Path("table.txt")


def _table(rows: list[list[str]], delimiter: str = "\t"):
    lines = [delimiter.join(row) for row in rows]
    return split_rows(HERE, lines, 5, delimiter, len(rows[0]), ended_with_newline=True)


def test_numbers_are_bit_identical_to_python_float() -> None:
    # up to 17 significant digits, with and without exponents and signs: the
    # C parser must round exactly as Python does (no tolerance: same bits)
    rng = np.random.default_rng(7)
    texts = []
    for _ in range(8000):
        digits = "".join(str(d) for d in rng.integers(0, 10, rng.integers(1, 18)))
        point = int(rng.integers(0, len(digits) + 1))
        text = digits[:point] + "." + digits[point:] if point < len(digits) else digits
        if rng.random() < 0.3:
            text += f"e{int(rng.integers(-280, 280))}"  # within float64 range
        texts.append(("-" if rng.random() < 0.5 else "") + text)
    rows = [texts[i : i + 4] for i in range(0, len(texts), 4)]
    table = _table(rows)
    values, empty = parse_numeric(HERE, table, [0, 1, 2, 3], allow_empty=False)
    expected = np.array([[float(t) for t in row] for row in rows])
    assert sorted(table.numeric_columns) == [0, 1, 2, 3]  # the fast path was taken
    assert np.array_equal(values, expected) and not empty.any()


def test_empty_and_blank_fields_are_empty_and_the_rest_is_kept() -> None:
    table = _table([["0.0", "1.5", ""], ["0.01", " ", "7"], ["0.02", "  2.25 ", "8"]])
    values, empty = parse_numeric(HERE, table, [1, 2], allow_empty=True)
    assert empty.tolist() == [[False, True], [True, False], [False, False]]
    assert values[0, 0] == 1.5 and values[2, 0] == 2.25 and values[1, 1] == 7.0
    assert np.isnan(values[empty]).all()
    with pytest.raises(MalformedFileError, match=r"line 5, column 3: field is empty"):  # first in row order
        parse_numeric(HERE, table, [1, 2], allow_empty=False)


@pytest.mark.parametrize("text", ["nan", "NaN", "-nan", "inf", "-Inf", "Infinity", "1e999", "n/a", "12,5", '"1.5"',
                                  "True"])
def test_text_that_is_not_a_measurement_is_named(text: str) -> None:
    rows = [[f"{0.01 * i:.2f}", f"{i}.5", "3"] for i in range(200)]
    rows[120][1] = text
    table = _table(rows)
    assert 0 in table.numeric_columns and 2 in table.numeric_columns and 1 not in table.numeric_columns
    with pytest.raises(MalformedFileError) as raised:
        parse_numeric(HERE, table, [0, 1, 2], ["time", "p1", "p2"], allow_empty=True)
    assert str(raised.value) == f"{HERE}: line 125, column 2 (p1): {text!r} is not a number"
    # the other columns still read, on the fast path
    values, _ = parse_numeric(HERE, table, [0, 2], allow_empty=False)
    assert values[120].tolist() == [1.2, 3.0]


def test_an_empty_field_is_reported_before_a_bad_one_when_empties_are_not_allowed() -> None:
    # the order the messages had before the fast path: emptiness first
    table = _table([["1", "abc"], ["2", ""], ["3", "4"]])
    with pytest.raises(MalformedFileError, match=r"line 6, column 2: field is empty"):
        parse_numeric(HERE, table, [0, 1], allow_empty=False)
    with pytest.raises(MalformedFileError, match=r"line 5, column 2: 'abc' is not a number"):
        parse_numeric(HERE, table, [0, 1], allow_empty=True)


def test_missing_words_count_as_empty_only_when_asked() -> None:
    table = _table([["1", "NA"], ["2", "null"], ["3", "-"], ["4", "5"]], delimiter=",")
    values, empty = parse_numeric(HERE, table, [1], allow_empty=True, missing_words_are_empty=True)
    assert empty[:, 0].tolist() == [True, True, True, False] and values[3, 0] == 5.0
    with pytest.raises(MalformedFileError, match="'NA' is not a number"):
        parse_numeric(HERE, table, [1], allow_empty=True)


def test_text_columns_are_read_as_written() -> None:
    table = _table([["1", "heel strike"], ["2", ""], ["3", " label "]])
    assert table.field(0, 1) == "heel strike" and table.field(2, 1) == " label "
    assert table.fields.tolist() == [["1", "heel strike"], ["2", ""], ["3", " label "]]


def _moticon_with(tmp_path: Path, line_index: int, column: int, text: str) -> Path:
    lines = MOTICON.read_text(encoding="utf-8").split("\n")
    fields = lines[line_index].split("\t")
    fields[column] = text
    lines[line_index] = "\t".join(fields)
    path = tmp_path / "session.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("text", ["nan", "inf", "1e999"])
def test_moticon_textual_nan_in_one_pressure_field_is_an_error(text: str, tmp_path: Path) -> None:
    # line 301 of the file is lines[300]; column 31 is right pressure 5
    path = _moticon_with(tmp_path, 300, 30, text)
    with pytest.raises(MalformedFileError) as raised:
        insole.load(path)
    assert str(raised.value) == f"{path}: line 301, column 31 (right pressure 5[N/cm²]): {text!r} is not a number"


def test_moticon_blank_pressure_field_makes_that_sample_invalid(tmp_path: Path) -> None:
    original = insole.load(MOTICON)
    changed = insole.load(_moticon_with(tmp_path, 300, 30, " "))
    row = 300 - 9  # nine header lines
    assert original.right.valid[row] and not changed.right.valid[row]
    assert np.isnan(changed.right.values[row, 4])
    same = np.ones(original.right.n_samples, dtype=bool)
    same[row] = False
    assert np.array_equal(changed.right.values[same], original.right.values[same], equal_nan=True)
    assert changed.left.equals(original.left)

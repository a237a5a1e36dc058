"""The Moticon text export read in pieces (``_text_reading``) gives what the careful whole-text reader gives.

The streamed reader is only a faster way to the same recording: on every real
export, and on the same export cut into many pieces (parsed by two threads),
each array is bit for bit the careful reader's, and so are the metadata and
the reference events. A file that is not plain (a word, ``nan``, a lone
carriage return, a blank line, a cut last row...) is handed to the careful
reader, so its message is the one it always was.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _data import shared_data_dir

import insole
import insole.io
from insole import Recording
from insole.io._importers import _moticon, _text_reading
from insole.io._importers._text_reading import NotPlain, scan_text

MOTICON = shared_data_dir() / "moticon-opengo"
REAL = [
    MOTICON / "230927_102114.txt",  # 53 columns, the software's step events, left insole empty at times
    MOTICON / "230927_102231.txt",
    MOTICON / "walk_data_with_events" / "text_export.txt",  # 57 columns, events set by hand with labels
]


def _assert_same(fast: Recording, careful: Recording) -> None:
    assert fast.sides == careful.sides
    assert fast.layout == careful.layout and fast.unit == careful.unit
    for side in careful.sides:
        a, b = fast.samples(side), careful.samples(side)
        for name in ("time_s", "values", "valid", "accel_g", "gyro_dps"):
            x, y = getattr(a, name), getattr(b, name)
            if y is None:
                assert x is None, name
                continue
            assert x.dtype == y.dtype and x.shape == y.shape, name
            # bit for bit: NaN (an empty field) where the careful reader has NaN, every number identical
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (side, name)
        assert a.channels.keys() == b.channels.keys()
        for name in b.channels:
            assert np.array_equal(a.channels[name], b.channels[name], equal_nan=True), (side, name)
    assert fast.meta.to_dict() == careful.meta.to_dict()
    assert fast.reference_events == careful.reference_events


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_streamed_reader_equals_the_careful_one_on_real_exports(path: Path) -> None:
    fast = _moticon._load_plain(path)
    _assert_same(fast, _moticon._load_careful(path))
    # and it is what insole.io.load gives
    _assert_same(insole.io.load(path, format="moticon"), fast)


def test_real_export_cut_into_many_pieces_by_two_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the real export six times over, its time column continued: a file of several pieces of 64 KiB
    source = REAL[0].read_bytes().split(b"\n")
    header = [line for line in source if line.startswith(b"#")]
    rows = [line.split(b"\t", 1) for line in source[len(header):] if line]
    span = float(rows[-1][0]) + 0.01
    body = [b"%.2f\t%s" % (float(t) + k * span, rest) for k in range(6) for t, rest in rows]
    path = tmp_path / "long.txt"
    path.write_bytes(b"\n".join(header + body) + b"\n")
    monkeypatch.setattr(_text_reading, "BLOCK_BYTES", 64 * 2**10)
    scan = scan_text(path)
    assert scan is not None
    assert len(scan.pieces) > 10
    assert scan.n_rows == len(body) == sum(piece[3] for piece in scan.pieces)
    fast = _moticon._load_plain(path)
    assert fast.samples("left").n_samples == len(body)
    _assert_same(fast, _moticon._load_careful(path))


def _with_field(text: bytes, row: int, column: int) -> bytes:
    """The first real export with one field of one data row replaced."""
    lines = REAL[0].read_bytes().split(b"\n")
    first = sum(1 for line in lines if line.startswith(b"#"))
    fields = lines[first + row].split(b"\t")
    fields[column] = text
    lines[first + row] = b"\t".join(fields)
    return b"\n".join(lines)


def _variants() -> dict[str, tuple[bytes, bool]]:
    """name -> (file bytes, whether the streamed reader takes it itself)."""
    real = REAL[0].read_bytes()
    return {
        "crlf line ends": (real.replace(b"\n", b"\r\n"), True),
        "plus sign": (_with_field(b"+1.5", 200, 3), True),
        "no leading digit": (_with_field(b".5", 200, 3), True),
        "exponent": (_with_field(b"1E2", 200, 3), True),
        "many digits": (_with_field(b"0.1000000000000000055511151231257827021181583404541015625", 200, 3), True),
        "lone carriage return": (real.replace(b"\n", b"\r", 1), False),
        "blank line at the end": (real + b"\n", False),
        "no line break at the end": (real[:-1], False),
        "word nan": (_with_field(b"nan", 200, 3), False),
        "infinite": (_with_field(b"inf", 200, 3), False),
        "overflow": (_with_field(b"1e999", 200, 3), False),
        "beyond float32": (_with_field(b"1e38", 200, 3), False),  # 1e39 kPa
        "underscore": (_with_field(b"1_0", 200, 3), False),  # Python reads 10: the careful reader decides
        "quoted": (_with_field(b'"1.5"', 200, 3), False),
        "decimal comma": (_with_field(b"1,5", 200, 3), False),
        "empty time": (_with_field(b"", 200, 0), False),
        "time going back": (_with_field(b"0.00", 1, 0), True),
        "extra field": (_with_field(b"1\t2", 200, 3), False),
        "NUL byte": (_with_field(b"1\x002", 200, 3), False),
        "not UTF-8": (_with_field(b"\xff", 200, 3), False),
        "byte order mark": (b"\xef\xbb\xbf" + real, False),
        "blank step code": (_with_field(b" ", 200, 52), False),
        "word step code": (_with_field(b"x", 200, 52), False),
    }


@pytest.mark.parametrize("name", list(_variants()))
def test_unusual_files_give_what_the_careful_reader_gives(tmp_path: Path, name: str) -> None:
    data, streamed = _variants()[name]
    path = tmp_path / "export.txt"
    path.write_bytes(data)
    careful_error: Exception | None = None
    try:
        careful = _moticon._load_careful(path)
    except Exception as error:  # noqa: BLE001 - compared with what the importer raises
        careful_error = error
    try:
        _moticon._load_plain(path)
        took_it = True
    except NotPlain:
        took_it = False
    except Exception:  # noqa: BLE001 - an error of the file itself, raised as the careful reader raises it
        took_it = True
    assert took_it == streamed
    importer = _moticon.MoticonImporter()
    if careful_error is None:
        _assert_same(importer.load(path), careful)
    else:
        with pytest.raises(type(careful_error)) as raised:
            importer.load(path)
        assert str(raised.value) == str(careful_error)


def test_reading_an_export_imports_neither_pandas_nor_scipy() -> None:
    # pandas' import alone costs 0.2-0.7 s here; Arrow's own to_numpy of an array with nulls would import it
    code = (
        "import sys, insole.io\n"
        f"insole.io.load({str(REAL[2])!r}); insole.io.load({str(REAL[0])!r})\n"
        "print(sorted(m for m in ('pandas', 'scipy') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_line_longer_than_a_block_goes_to_the_careful_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the scan never holds more than a block or two of text: a 256 KiB line with 64 KiB blocks is not plain
    real = REAL[0].read_bytes()
    path = tmp_path / "long-line.txt"
    path.write_bytes(real + b"1" * 256 * 2**10 + b"\n")
    monkeypatch.setattr(_text_reading, "BLOCK_BYTES", 64 * 2**10)
    assert scan_text(path) is None
    with pytest.raises(NotPlain):
        _moticon._load_plain(path)
    with pytest.raises(insole.MalformedFileError, match="has 1 fields, expected 53"):
        _moticon.MoticonImporter().load(path)


def test_a_cancelled_scan_gives_no_digest_of_part_of_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # when the careful reader takes a file over, the scan's digest thread stops, and never answers with a partial hash
    monkeypatch.setattr(_text_reading, "_HASH_BLOCK_BYTES", 1024)
    path = tmp_path / "export.txt"
    path.write_bytes(REAL[0].read_bytes())
    scan = scan_text(path)
    assert scan is not None
    scan.cancel()
    try:
        digest = scan.sha256
    except NotPlain:
        return  # stopped before the end
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()  # it had finished already: the whole file's

"""Bad input through the real command line: exit code 2, exactly one line naming the file, no traceback."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _data import shared_data_dir

import insole
from insole import MalformedFileError, MissingCompanionError, UnknownFormatError

SHARED = shared_data_dir()
REPO = Path(__file__).resolve().parents[1]
GAITPDB = SHARED / "gaitpdb" / "GaCo01_01.txt"
MOTICON = SHARED / "moticon-opengo" / "230927_102114.txt"


def _insole(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "insole._cli", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\r\n")


def _empty(tmp: Path) -> Path:
    path = tmp / "empty.txt"
    path.write_bytes(b"")
    return path


def _truncated_mid_row(tmp: Path) -> Path:
    path = tmp / "GaCo01_01.txt"
    data = GAITPDB.read_bytes()
    path.write_bytes(data[: data.index(b"\r\n", 50_000) + 20])  # 20 bytes into a row
    return path


def _moticon_truncated_mid_row(tmp: Path) -> Path:
    path = tmp / "session.txt"
    data = MOTICON.read_bytes()
    path.write_bytes(data[: data.index(b"\n", 100_000) + 40])
    return path


def _wrong_column_count(tmp: Path) -> Path:
    lines = _lines(GAITPDB)
    lines[99] = b"\t".join(lines[99].split(b"\t")[:-1])  # line 100 loses its last field
    path = tmp / "GaCo01_01.txt"
    path.write_bytes(b"\r\n".join(lines))
    return path


def _non_numeric(tmp: Path) -> Path:
    lines = _lines(GAITPDB)
    fields = lines[199].split(b"\t")
    fields[4] = b"12,5"  # a decimal comma from a spreadsheet
    lines[199] = b"\t".join(fields)
    path = tmp / "GaCo01_01.txt"
    path.write_bytes(b"\r\n".join(lines))
    return path


def _moticon_non_numeric(tmp: Path) -> Path:
    text = MOTICON.read_text(encoding="utf-8").split("\n")
    fields = text[300].split("\t")
    fields[30] = "n/a"
    text[300] = "\t".join(fields)
    path = tmp / "session.txt"
    path.write_text("\n".join(text), encoding="utf-8")
    return path


def _unknown_format(tmp: Path) -> Path:
    path = tmp / "notes.txt"
    path.write_text("Patient walked 10 m twice.\nNo pain reported.\n")
    return path


def _hea_without_let(tmp: Path) -> Path:
    for suffix in (".hea", ".rit", ".ts"):
        shutil.copy(SHARED / "gaitndd" / f"als2{suffix}", tmp / f"als2{suffix}")
    return tmp / "als2.hea"


def _let_without_hea(tmp: Path) -> Path:
    shutil.copy(SHARED / "gaitndd" / "hunt1.let", tmp / "hunt1.let")
    return tmp / "hunt1.let"


def _parquet_not_ours(tmp: Path) -> Path:
    path = tmp / "table.parquet"
    pd.DataFrame({"time_s": [0.0, 0.01], "force": [1.0, 2.0]}).to_parquet(path)
    return path


def _stream_cut_in_its_schema(tmp: Path) -> Path:
    path = tmp / "session.arrows"
    path.write_bytes(b"\xff\xff\xff\xff\x40\x01\x00\x00\x10\x00")
    return path


def _text_named_parquet(tmp: Path) -> Path:
    path = tmp / "walk.parquet"
    path.write_text("time_s,force\n0.00,1.0\n0.01,2.0\n")
    return path


def _no_such_file(tmp: Path) -> Path:
    return tmp / "missing.parquet"


CASES = [
    ("empty", _empty, MalformedFileError, "file is empty"),
    ("truncated mid-row", _truncated_mid_row, MalformedFileError, "ends in the middle of a row"),
    ("truncated mid-row (Moticon)", _moticon_truncated_mid_row, MalformedFileError, "ends in the middle of a row"),
    ("wrong column count", _wrong_column_count, MalformedFileError, "line 100 has 18 fields, expected 19"),
    ("non-numeric", _non_numeric, MalformedFileError, "line 200, column 5: '12,5' is not a number"),
    ("non-numeric (Moticon)", _moticon_non_numeric, MalformedFileError, "'n/a' is not a number"),
    ("unknown format", _unknown_format, UnknownFormatError, "unknown format"),
    (".hea whose .let is missing", _hea_without_let, MissingCompanionError, "als2.let (left foot)"),
    (".let whose .hea is missing", _let_without_hea, MissingCompanionError, "WFDB header hunt1.hea"),
    ("Parquet not ours", _parquet_not_ours, MalformedFileError, "not written by insole"),
    ("stream cut in its schema", _stream_cut_in_its_schema, MalformedFileError, "not a readable insole stream"),
    ("text named .parquet", _text_named_parquet, UnknownFormatError, "is named .parquet but is not a Parquet file"),
    ("no such file", _no_such_file, insole.InputError, "no such file"),
]


@pytest.mark.parametrize(("make", "error", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_library_raises_the_right_error(make, error, problem, tmp_path: Path) -> None:
    path = make(tmp_path)
    with pytest.raises(error) as caught:
        insole.load(path)
    assert caught.value.path == path
    assert problem in str(caught.value)


# every case through `insole info`; `insole convert` shares the same loading path, so a few suffice
_CLI_CASES = [("info", c) for c in CASES] + [("convert", c) for c in CASES if c[0] in
                                               ("truncated mid-row", ".hea whose .let is missing", "Parquet not ours")]


@pytest.mark.parametrize(("command", "case"), _CLI_CASES, ids=[f"{cmd}: {c[0]}" for cmd, c in _CLI_CASES])
def test_cli_says_one_line_naming_the_file_and_exits_2(command: str, case: tuple, tmp_path: Path) -> None:
    _, make, _, problem = case
    path = make(tmp_path)
    args = [command, path] if command == "info" else [command, path, "--to", "parquet", "--out", tmp_path / "o.parquet"]
    result = _insole(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and problem in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "o.parquet").exists()


def test_forcing_the_wrong_format_is_bad_input_too(tmp_path: Path) -> None:
    result = _insole("info", GAITPDB, "--format", "moticon")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert str(GAITPDB) in result.stderr and "not an OpenGo text export" in result.stderr


def test_recover_of_something_that_is_not_a_stream(tmp_path: Path) -> None:
    path = _parquet_not_ours(tmp_path)
    result = _insole("recover", path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and str(path) in result.stderr
    assert path.exists()  # never removed


def test_an_input_error_is_one_printable_line_whatever_the_reader_library_said() -> None:
    """A new user's finding (session 11): pyarrow's message for a damaged page carried a raw byte of the file
    (0x0F) into the one-line error and the batch's errors table. Unprintable characters (line breaks too) become
    their escape, in the path as in the problem; printable text (tabs, units, accents) stays as it was."""
    from insole import MalformedFileError
    from insole._errors import error_line

    error = MalformedFileError("a\nwalk.parquet", "Couldn't deserialize thrift: \x0f\nat byte 12\tof ±5 kPa, é")
    assert str(error) == "a\\nwalk.parquet: Couldn't deserialize thrift: \\x0f\\nat byte 12\tof ±5 kPa, é"
    assert error.problem == "Couldn't deserialize thrift: \\x0f\\nat byte 12\tof ±5 kPa, é"
    assert "\n" not in str(error)
    # any other error, as the batch's errors table takes it: its first line, printable
    assert error_line(ValueError("\n  bad value \x1b[31m \nthe detail")) == "bad value \\x1b[31m"
    assert error_line(ValueError()) == "ValueError"


def test_a_byte_flipped_inside_a_compressed_page_is_refused_not_decoded(tmp_path: Path) -> None:
    """A new user's finding (session 11): 400 bytes flipped inside a zstd page of a recording decoded to 9,749
    samples of ~1e-38 and were analysed without a word. Our files carry a CRC-32 per page and every reader of
    ours checks it: the whole reader, the streamed analysis and `insole info` refuse the file in one line."""
    import pyarrow.parquet as pq

    import insole

    good = tmp_path / "good.parquet"
    insole.io.write_parquet(insole.load(REPO / "recordings" / "moticon_230927_102114.parquet"), good)
    chunk = pq.ParquetFile(good).metadata.row_group(0).column(5)  # a sensor column's pages
    middle = chunk.data_page_offset + chunk.total_compressed_size // 2
    data = bytearray(good.read_bytes())
    for i in range(middle, middle + 40):
        data[i] ^= 0x5A
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(bytes(data))
    problem = "not a readable Parquet file (could not verify page integrity, CRC checksum verification failed"
    with pytest.raises(insole.MalformedFileError, match=re.escape(problem)):
        insole.load(bad)
    with pytest.raises(insole.MalformedFileError, match=re.escape(problem)):
        insole.analyze(bad)
    for command in ("info", "analyze"):
        done = subprocess.run([str(Path(sys.executable).parent / "insole"), command, str(bad)], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith(f"insole {command}: error: {bad}: {problem}") and done.stderr.count("\n") == 1
    insole.analyze(good)  # the same file undamaged reads

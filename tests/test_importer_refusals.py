"""What the importers refuse (issue 15, part B): each reproducer of the issue, by a test named for it.

Importers never leave their folder (a WFDB header naming /etc/passwd or ../..),
sizes a header announces are checked against the file before anything is
allocated, a value cut at the end of a file is refused, our own Parquet with
metadata or columns of the wrong type is refused, and input that is not a
regular file is refused at once. Each refusal is one ``InputError`` line naming
the file; through the command line it is exit 2.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from _data import shared_data_dir
from test_fuzz_importers import SEEDS, gaitndd_files, gaitpdb_file

import insole
import insole.io
from insole import (
    FootSamples,
    InputError,
    MalformedFileError,
    OutputError,
    Recording,
    RecordingError,
    RecordingMeta,
    get_layout,
)
from insole._cli import main

SHARED = shared_data_dir()


def _refused(path: Path, error: type[InputError] = MalformedFileError) -> str:
    with pytest.raises(error) as raised:
        insole.load(path)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(str(raised.value.path)), message
    return message


# ----------------------------------------------------------------------------- WFDB: companions stay in the folder


def _header_naming(folder: Path, name: str, n: int = 40) -> Path:
    header = gaitndd_files(folder, n)
    text = header.read_text(encoding="ascii").replace("control9.let", name, 1)
    header.write_text(text, encoding="ascii", newline="")
    return header


@pytest.mark.parametrize("named", ["/etc/passwd", "../../../etc/passwd", "sub/control9.let", "..", "C:\\x.let"])
def test_wfdb_header_naming_a_file_outside_its_folder_is_refused(named: str, tmp_path: Path) -> None:
    # /etc/passwd has enough bytes for 40 samples: before the fix it became the left foot
    header = _header_naming(tmp_path, named)
    (tmp_path / "sub").mkdir()
    shutil.copy(tmp_path / "control9.let", tmp_path / "sub" / "control9.let")  # there, but not beside the header
    message = _refused(header)
    assert message.startswith(f"{header}: ") and "not a plain file name in its own folder" in message


def test_wfdb_signal_file_that_is_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"x" * 600)
    record = tmp_path / "record"
    record.mkdir()
    header = _header_naming(record, "control9x.let")
    (record / "control9x.let").symlink_to(outside / "secret.txt")
    assert "is a link that leads out of the header's folder" in _refused(header)


def test_companions_found_by_name_do_not_follow_links_out_of_the_folder(tmp_path: Path) -> None:
    # found by a review: a stride table .ts, a CSV's mapping and a subject table linked to files elsewhere were read
    outside = tmp_path / "outside"
    outside.mkdir()
    record = tmp_path / "record"
    record.mkdir()
    header = gaitndd_files(record, strides=True)
    assert insole.load(header).reference_events is not None  # the stride table beside it is read
    (outside / "control9.ts").write_bytes((record / "control9.ts").read_bytes())
    (record / "control9.ts").unlink()
    (record / "control9.ts").symlink_to(outside / "control9.ts")
    (record / "subject-description.txt").symlink_to("/etc/passwd")
    recording = insole.load(header)
    assert recording.reference_events is None, "a stride table that is a link leading out is not read"
    csv_file = SEEDS["generic-csv"](record)
    mapping = csv_file.with_name(csv_file.name + ".map.toml")
    mapping.rename(outside / mapping.name)
    mapping.symlink_to(outside / mapping.name)
    with pytest.raises(InputError, match="unknown format"):  # without its mapping a CSV is not recognised
        insole.load(csv_file)


def test_wfdb_signal_file_that_is_a_link_within_the_folder_is_read(tmp_path: Path) -> None:
    header = gaitndd_files(tmp_path)
    expected = insole.load(header)
    (tmp_path / "control9.let").rename(tmp_path / "left-copy.bin")
    (tmp_path / "control9.let").symlink_to("left-copy.bin")
    assert insole.load(header).samples("left").equals(expected.samples("left"))


def test_wfdb_header_announcing_900_billion_samples_is_refused_before_allocating(tmp_path: Path) -> None:
    header = gaitndd_files(tmp_path, 40)
    text = header.read_text(encoding="ascii").replace("control9 2 300 40", "control9 2 300 900000000000", 1)
    header.write_text(text, encoding="ascii", newline="")
    # before the fix: MemoryError allocating the 7.2 TB time axis; now the signal file's 60 bytes decide
    message = _refused(header)
    assert "holds 40 samples but its header control9.hea announces 900000000000: truncated" in message


def test_wfdb_signal_file_shorter_than_announced_is_refused(tmp_path: Path) -> None:
    header = gaitndd_files(tmp_path, 40)
    (tmp_path / "control9.rit").write_bytes((tmp_path / "control9.rit").read_bytes()[:30])
    assert "holds 20 samples but its header control9.hea announces 40: truncated" in _refused(header)


def test_wfdb_header_with_a_number_that_is_not_one_is_refused(tmp_path: Path) -> None:
    header = gaitndd_files(tmp_path)
    text = header.read_text(encoding="ascii").replace(" 300 ", " 3.0.0 ", 1)
    header.write_text(text, encoding="ascii", newline="")
    assert "sample rate '3.0.0'" in _refused(header)


# ----------------------------------------------------------------------------- a value cut at the end


def test_gaitpdb_file_cut_inside_its_last_field_is_refused(tmp_path: Path) -> None:
    # the case: the last field 662.64 cut to 7 characters short was read as a smaller number
    path = gaitpdb_file(tmp_path)
    data = path.read_bytes()
    assert data.endswith(b"\r\n")
    last_field = data.rstrip(b"\r\n").rsplit(b"\t", 1)[1]
    assert len(last_field) >= 4  # e.g. b"662.64", here b"9.05": cut, it is a shorter number still
    path.write_bytes(data[: -len(b"\r\n") - 3])  # ...\t9
    message = _refused(path)
    assert message.endswith("file ends in the middle of a row (line 30 has no line break at its end): truncated? "
                            "(a complete file ends with a line break)")


def test_real_gaitpdb_file_cut_inside_its_last_field_is_refused(tmp_path: Path) -> None:
    data = (SHARED / "gaitpdb" / "GaCo01_01.txt").read_bytes()
    assert data.endswith(b"\t609.51\r\n")  # every staged gaitpdb file ends with CRLF
    path = tmp_path / "GaCo01_01.txt"
    path.write_bytes(data[:-4])  # ...\t609.5
    assert "file ends in the middle of a row" in _refused(path)


@pytest.mark.parametrize("name", ["gaitpdb", "moticon", "pedar", "fscan", "xsensor", "stappone", "generic-csv"])
def test_every_text_importer_refuses_a_value_cut_at_the_end(name: str, tmp_path: Path) -> None:
    path = SEEDS[name](tmp_path)
    data = path.read_bytes()
    body = data.rstrip(b"\r\n\t,@")  # the last value of the file, whatever its format puts after it
    path.write_bytes(body[:-1])
    assert "truncated" in _refused(path)


def test_gaitndd_stride_table_cut_at_the_end_is_refused(tmp_path: Path) -> None:
    header = gaitndd_files(tmp_path)
    ts = tmp_path / "control9.ts"
    rows = ["\t".join(f"{1.1 * (i + 1) + 0.01 * k:.4f}" for k in range(13)) for i in range(5)]
    ts.write_text("\n".join(rows) + "\n", encoding="ascii")
    assert insole.load(header).reference_events is not None
    ts.write_text("\n".join(rows)[:-2], encoding="ascii")
    message = _refused(header)
    assert message.startswith(f"{ts}: file ends in the middle of a row")


def test_pedar_last_row_ending_in_its_tab_is_complete(tmp_path: Path) -> None:
    # the real pedar export ends its last row with a tab and no line break: that is a complete file
    path = SEEDS["pedar"](tmp_path)
    assert path.read_bytes().endswith(b"\t") and not path.read_bytes().endswith(b"\n")
    assert insole.load(path).samples("left").n_samples == 6


# ----------------------------------------------------------------------------- our Parquet, of the wrong types


@pytest.fixture
def parquet(tmp_path: Path) -> tuple[pa.Table, dict]:
    path = SEEDS["parquet"](tmp_path)
    table = pq.read_table(path)
    return table, json.loads(table.schema.metadata[b"insole.recording"])


def _write(tmp_path: Path, table: pa.Table, description: object, name: str = "bad.parquet") -> Path:
    path = tmp_path / name
    metadata = {b"insole.recording": json.dumps(description).encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)
    return path


WRONG_TYPES = {
    "description is a list": (lambda d: [1, 2], "insole metadata is a JSON list, not an object"),
    "meta is text": (lambda d: {**d, "meta": "x"}, "meta must be a JSON object, not str"),
    "unit is a list": (lambda d: {**d, "unit": ["au"]}, "unit ['au'] is not one of kPa, N, au"),
    "rate is text": (lambda d: {**d, "sample_rate_hz": "100"}, "sample_rate_hz must be a number, not str"),
    "events are a list": (lambda d: {**d, "reference_events": [1]}, "reference_events must be a JSON object"),
    "marks are an object": (lambda d: {**d, "marks": {"a": 1}}, "marks must be a list of JSON objects"),
    "mark time is text": (lambda d: {**d, "marks": [{"time_s": "1", "label": "x"}]}, "a mark's time must be"),
    "subject id is an object": (lambda d: {**d, "meta": {**d["meta"], "subject_id": {"a": 1}}},
                                "metadata subject_id must be text, not dict"),
    "body mass is text": (lambda d: {**d, "meta": {**d["meta"], "body_mass_kg": "61"}},
                          "metadata body_mass_kg must be a number, not str"),
    "devices is a list": (lambda d: {**d, "meta": {**d["meta"], "devices": []}}, "metadata devices must be a mapping"),
    "format_version is text": (lambda d: {**d, "format_version": "one"}, "format_version 'one' is not a whole number"),
    "layout is text": (lambda d: {**d, "layout": "insole16"}, "layout must be a JSON object"),
}


@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_parquet_metadata_of_the_wrong_type_is_refused(case: str, parquet, tmp_path: Path) -> None:
    table, description = parquet
    change, problem = WRONG_TYPES[case]
    assert problem in _refused(_write(tmp_path, table, change(description)))


def test_parquet_sensor_column_of_strings_is_refused(parquet, tmp_path: Path) -> None:
    table, description = parquet
    index = table.schema.get_field_index("force_au")
    text = pa.array([f"{v}" for v in table.column(index).to_pylist()])
    message = _refused(_write(tmp_path, table.set_column(index, "force_au", text), description))
    assert message.endswith("column 'force_au' holds string, expected numbers")


def test_parquet_row_with_side_middle_is_refused(parquet, tmp_path: Path) -> None:
    # before the fix the row was dropped without a word
    table, description = parquet
    sides = table.column("side").to_pylist()
    sides[5] = "middle"
    path = _write(tmp_path, table.set_column(0, "side", pa.array(sides)), description)
    assert _refused(path).endswith("row 6 has side 'middle' (1 such row(s)); every row must be 'left' or 'right'")


def test_parquet_with_all_pressures_negative_is_refused(tmp_path: Path) -> None:
    from insole.simulate import SimulationParams, simulate

    walk = simulate(SimulationParams(duration_s=12, seed=3))
    assert walk.unit == "kPa"
    table = pq.read_table(insole.write_parquet(walk, tmp_path / "walk.parquet"))
    description = json.loads(table.schema.metadata[b"insole.recording"])
    for name in insole.io.sensor_columns(walk.layout, walk.unit):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.negate(table.column(index)))
    message = _refused(_write(tmp_path, table, description))
    assert "left foot: every sensor value is zero or negative" in message and "refused" in message


def test_raw_signals_wholly_below_zero_are_read(parquet, tmp_path: Path) -> None:
    # uncalibrated 'au' signals have no true zero (three real gaitndd records sit wholly below it)
    table, description = parquet
    assert description["unit"] == "au"
    index = table.schema.get_field_index("force_au")
    negated = table.set_column(index, "force_au", pc.subtract(pc.negate(table.column(index)), pa.scalar(1.0)))
    recording = insole.load(_write(tmp_path, negated, description))
    assert recording.samples("left").values.max() < 0


@pytest.mark.realdata
@pytest.mark.parametrize("record", ["als8", "hunt10", "hunt20"])
def test_real_foot_switch_records_below_zero_are_read(record: str) -> None:
    folder = SHARED / "gaitndd" if (SHARED / "gaitndd" / f"{record}.hea").exists() else SHARED / "gaitndd-cohort"
    recording = insole.load(folder / f"{record}.hea")
    assert recording.unit == "au" and recording.samples("left").n_samples > 1000


def test_parquet_with_small_negatives_beside_loads_is_read(parquet, tmp_path: Path) -> None:
    # an offset leaves small negatives in swing: that is data, not a sign error
    table, description = parquet
    index = table.schema.get_field_index("force_au")
    shifted = pc.subtract(table.column(index), pa.scalar(1.0, pa.float32()))
    recording = insole.load(_write(tmp_path, table.set_column(index, "force_au", shifted), description))
    values = recording.samples("left").values
    assert values.min() < 0 < values.max()


@pytest.mark.parametrize("value", [1e300, float("inf"), -1e39])
def test_parquet_value_too_large_for_float32_is_refused_like_inf(value: float, parquet, tmp_path: Path) -> None:
    # before the fix 1e300 became inf silently while a written inf was refused
    table, description = parquet
    index = table.schema.get_field_index("force_au")
    values = table.column(index).to_pylist()
    values[3] = value
    path = _write(tmp_path, table.set_column(index, "force_au", pa.array(values, pa.float64())), description)
    message = _refused(path)
    assert f"column 'force_au': {value!r} at its sample 3 is infinite or beyond ±3.4e38" in message


def test_parquet_with_a_subject_id_of_100000_characters_is_refused(parquet, tmp_path: Path) -> None:
    # decided: refused with one line (a subject id is a pseudonymous code; it names BIDS folders)
    table, description = parquet
    description["meta"]["subject_id"] = "x" * 100_000
    message = _refused(_write(tmp_path, table, description))
    assert "subject id is 100000 characters long; at most 128" in message and len(message) < 400


def test_recording_meta_refuses_control_characters_in_a_subject_id() -> None:
    with pytest.raises(RecordingError, match="control characters"):
        RecordingMeta(subject_id="P-01\x1b[2J")


def test_values_beyond_float32_are_refused_by_every_importer(tmp_path: Path) -> None:
    path = SEEDS["generic-csv"](tmp_path)
    lines = path.read_text(encoding="utf-8").split("\n")
    fields = lines[4].split(";")
    fields[1] = "1e300"
    lines[4] = ";".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")
    message = _refused(path)
    assert "left foot: values hold 1 infinite value(s) or value(s) beyond ±3.4e38 (first 1e+300 at sample 3" in message


def test_foot_samples_refuse_values_beyond_float32() -> None:
    with pytest.raises(RecordingError, match="beyond"):
        FootSamples(time_s=np.array([0.0, 0.01]), values=np.array([[1.0], [1e300]]), valid=np.ones(2, dtype=bool))
    foot = FootSamples(time_s=np.array([0.0, 0.01]), values=np.array([[1.0], [np.nan]]),
                       valid=np.array([True, False]))  # a gap is NaN
    assert np.isnan(foot.values[1, 0])


def test_stream_with_a_column_name_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    # found by the fuzz suite: a flipped byte in the schema's column name raised UnicodeDecodeError
    stream = SEEDS["stream"](tmp_path)
    data = stream.read_bytes()
    at = data.index(b"time_s")
    stream.write_bytes(data[:at] + b"\x9c" + data[at + 1:])
    assert "not a readable insole stream" in _refused(stream)


# ----------------------------------------------------------------------------- input that is not a regular file


def test_input_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "walk.parquet"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            insole.load(fifo)
        except BaseException as error:  # noqa: BLE001 - kept for the assertion below
            outcome.append(error)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # before the fix: waited for a writer forever; release it and fail
        with open(fifo, "wb"):
            pass
        pytest.fail("insole.load waited on a FIFO")
    assert len(outcome) == 1 and type(outcome[0]) is InputError
    assert str(outcome[0]) == f"{fifo}: is a FIFO (named pipe), not a recording file"


@pytest.mark.parametrize(("make", "problem"), [
    (lambda tmp: tmp, "is a folder, not a recording file"),
    (lambda tmp: Path(os.devnull), "is a device, not a recording file"),
])
def test_input_that_is_a_folder_or_a_device_is_refused(make, problem: str, tmp_path: Path) -> None:
    path = make(tmp_path)
    for forced in (None, "gaitpdb", "parquet"):
        with pytest.raises(InputError) as raised:
            insole.io.load(path, format=forced)
        assert str(raised.value) == f"{path}: {problem}"
    with pytest.raises(InputError, match=problem):
        insole.io.read_parquet(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: a permission refusal cannot be staged")
def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    path = gaitpdb_file(tmp_path)
    path.chmod(0)
    assert str(_refused(path, InputError)).endswith("cannot be read (permission denied)")


def test_unreadable_file_or_folder_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # staged as the OS reports it (the tests may run as root, who is never refused)
    import insole.io._format as fmt

    path = gaitpdb_file(tmp_path)
    real_stat = os.stat

    def denied(target, *args, **kwargs):
        if Path(target) == path:
            raise PermissionError(13, "Permission denied", str(target))
        return real_stat(target, *args, **kwargs)

    monkeypatch.setattr(fmt.os, "stat", denied)
    with pytest.raises(InputError) as raised:
        insole.load(path)
    assert str(raised.value) == f"{path}: cannot be read (permission denied)"
    monkeypatch.setattr(fmt.os, "stat", real_stat)
    monkeypatch.setattr(fmt.os, "access", lambda target, mode: Path(target) != path)
    with pytest.raises(InputError, match="cannot be read \\(permission denied\\)"):
        insole.load(path)


# ----------------------------------------------------------------------------- the writer: atomic, never over a file


def _recording(tmp_path: Path) -> Recording:
    folder = tmp_path / "seed"
    folder.mkdir()
    recording = insole.load(SEEDS["parquet"](folder))
    shutil.rmtree(folder)
    return recording


def test_write_parquet_refuses_an_existing_file_without_force(tmp_path: Path) -> None:
    recording = _recording(tmp_path)
    path = tmp_path / "walk.parquet"
    path.write_bytes(b"an earlier session")
    with pytest.raises(OutputError) as raised:
        insole.io.write_parquet(recording, path)
    assert str(raised.value) == f"{path}: already exists (add --force to replace it)"
    assert path.read_bytes() == b"an earlier session"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.parquet"]  # no temporary file left


def test_write_parquet_with_force_replaces_the_file(tmp_path: Path) -> None:
    recording = _recording(tmp_path)
    path = tmp_path / "walk.parquet"
    path.write_bytes(b"an earlier session")
    insole.io.write_parquet(recording, path, force=True)
    assert insole.load(path).equals(recording)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.parquet"]


def test_write_parquet_that_fails_midway_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:
    recording = _recording(tmp_path)
    path = tmp_path / "walk.parquet"
    path.write_bytes(b"an earlier session")

    real = pq.ParquetWriter.write_table

    def crash(writer, table, **kwargs):  # the disk fills while the samples are written
        if not isinstance(writer.where, (str, Path)):  # the writer's trial of encodings on a sample, in memory
            return real(writer, table, **kwargs)
        with open(writer.where, "wb") as half:
            half.write(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", crash)
    with pytest.raises(OSError):
        insole.io.write_parquet(recording, path, force=True)
    assert path.read_bytes() == b"an earlier session"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.parquet"]


def test_stream_writer_refuses_an_existing_stream(tmp_path: Path) -> None:
    stream = tmp_path / "walk.arrows"
    stream.write_bytes(b"an earlier session, not yet recovered")
    with pytest.raises(OutputError, match="already exists"):
        insole.io.RecordingStreamWriter(stream, layout=get_layout("footswitch1"), unit="au", sample_rate_hz=100.0,
                                        meta=RecordingMeta())
    assert stream.read_bytes() == b"an earlier session, not yet recovered"


def test_recover_refuses_to_replace_an_unrelated_parquet(tmp_path: Path) -> None:
    stream = SEEDS["stream"](tmp_path)
    unrelated = tmp_path / "walk.parquet"
    unrelated.write_bytes(b"another patient's session")
    with pytest.raises(OutputError, match="already exists"):
        insole.io.recover(stream)
    assert unrelated.read_bytes() == b"another patient's session" and stream.exists()
    written = insole.io.recover(stream, force=True)
    assert written == unrelated and insole.load(written).samples("left").n_samples == 16 and not stream.exists()


@pytest.mark.parametrize("sidecar", [None, b'{"meta": {"capture_quality": {"lost"', b'{"meta": "x"}', b"[1]"])
def test_recover_with_a_missing_or_damaged_sidecar_keeps_the_stream_and_says_so(sidecar, tmp_path: Path) -> None:
    # before the fix: a file without capture quality was written and the sidecar deleted, without a word
    stream = SEEDS["stream"](tmp_path)
    side = tmp_path / "walk.arrows.json"
    if sidecar is None:
        side.unlink()
    else:
        side.write_bytes(sidecar)
    out = insole.io.recover(stream)
    note = insole.load(out).meta.extra["recovered_from_stream"]["sidecar"]
    assert note.startswith("missing" if sidecar is None else "damaged")
    assert "the stream and its sidecar were kept" in note
    assert stream.exists() and (side.exists() == (sidecar is not None))


# ----------------------------------------------------------------------------- the command line: one line, exit 2


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "walk.parquet")
    return tmp / "walk.parquet"


def _passwd_header(tmp: Path) -> Path:
    return _header_naming(tmp, "/etc/passwd")


def _cut_gaitpdb(tmp: Path) -> Path:
    path = gaitpdb_file(tmp)
    path.write_bytes(path.read_bytes()[:-4])
    return path


@pytest.mark.parametrize("make", [_fifo, _passwd_header, _cut_gaitpdb], ids=["fifo", "passwd", "cut"])
def test_the_command_line_says_one_line_and_exits_2(make, tmp_path: Path, capsys) -> None:
    path = make(tmp_path)
    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(main(["info", str(path)])), daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # a FIFO waited on: release it, then fail
        with open(path, "wb"):
            pass
        worker.join(30)
        pytest.fail(f"insole info waited on {path}")
    code = codes[0]
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and str(path) in err and "Traceback" not in err


# ----------------------------------------------------------------------------- the generic CSV's mapping

MAPPING = 'sample_rate_hz = 50\ntime_column = "t"\nunit = "au"\nlayout = "footswitch1"\nleft = ["L1"]\nright = ["R1"]\n'


@pytest.mark.parametrize(("change", "problem"), [
    (('left = ["L1"]', "left = 5"), "left must be a list of column names, not 5"),
    (("sample_rate_hz = 50", "sample_rate_hz = true"), "sample_rate_hz must be a number, not True"),
    (("unit", 'scale = "x"\nunit'), "scale must be a number, not 'x'"),
    (("unit", 'header_line = "x"\nunit'), "header_line must be a line number (1, 2, ...), not 'x'"),
    (("unit", "delimiter = 5\nunit"), "delimiter must be one or more characters, not 5"),
    (("unit", "left_accel_g = 5\nunit"), "left_accel_g must be a list of 3 column names, not 5"),
    (("unit", 'shoe_size_eu = "x"\nunit'), "shoe_size_eu must be a number, not 'x'"),
])
def test_generic_csv_mapping_of_the_wrong_type_is_refused(change: tuple[str, str], problem: str,
                                                          tmp_path: Path) -> None:
    # before the fix: TypeError/ValueError tracebacks, or `true` read as 1 Hz
    path = SEEDS["generic-csv"](tmp_path)
    mapping = tmp_path / "walk.csv.map.toml"
    mapping.write_text(MAPPING.replace(*change, 1), encoding="utf-8")
    with pytest.raises(MalformedFileError) as raised:
        insole.load(path)
    assert str(raised.value) == f"{mapping}: column mapping: {problem}"


def test_generic_csv_mapping_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = SEEDS["generic-csv"](tmp_path)
    mapping = tmp_path / "walk.csv.map.toml"
    mapping.write_bytes(b"\xaf" + mapping.read_bytes())
    with pytest.raises(MalformedFileError, match="column mapping is not UTF-8 text \\(byte 0\\)"):
        insole.load(path)

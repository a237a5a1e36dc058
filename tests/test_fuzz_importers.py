"""Property tests over every importer: any damage to a file gives a Recording or exactly one InputError.

Each format in ``insole.io.formats()`` has a small valid seed built here (so the
tests run without the real datasets), checked first to load. Hypothesis then
damages it the ways files get damaged: cut anywhere, bytes flipped, inserted or
deleted, the text re-encoded (UTF-16, latin-1, a BOM, CRLF or LF line ends),
and the result must be a ``Recording`` or one ``InputError`` (of any subclass)
whose message is a single line naming the file. Anything else (a traceback
from deep inside, a hang, a MemoryError, a multi-line message) fails the test
and shows the input.

2,000 examples per format (``MAX_EXAMPLES``), as issue 15 asks; the seeds are a
few kB so that each format takes seconds, not minutes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import insole
import insole.io
from insole import FootSamples, InputError, Recording, RecordingMeta, get_layout

MAX_EXAMPLES = 2000
# The same 2,000 damaged files on every run (derandomize), so a CI run fails only for a change of ours,
# never for a new draw; INSOLE_FUZZ_EXPLORE=1 draws new ones (and should be run now and then).
DERANDOMIZE = os.environ.get("INSOLE_FUZZ_EXPLORE") != "1"

# ----------------------------------------------------------------------------- small valid seeds
# Each builder writes its files into a folder and returns the path to open. The
# fuzzer damages that file or a companion it makes us read (WFDB: the header,
# the signal file, the stride table; generic CSV: the data or its mapping).


def _walk(n: int, n_sensors: int, seed: int) -> np.ndarray:
    """Loads that look like steps: a positive bump per stride plus a little noise (for every seed)."""
    rng = np.random.default_rng(seed)
    phase = np.sin(np.linspace(0.0, 4.0 * np.pi, n))[:, None]
    return np.clip(phase, 0.0, None) * rng.uniform(50.0, 300.0, n_sensors) + rng.uniform(0.0, 2.0, (n, n_sensors))


def _parquet(folder: Path) -> Path:
    n = 24
    time_s = np.arange(n) / 100.0
    left, right = (FootSamples(time_s=time_s, values=_walk(n, 1, k), valid=np.ones(n, dtype=bool)) for k in (0, 1))
    recording = Recording(layout=get_layout("footswitch1"), unit="au", sample_rate_hz=100.0, left=left, right=right,
                          meta=RecordingMeta(subject_id="P-01"))
    return insole.io.write_parquet(recording, folder / "walk.parquet")


def _stream(folder: Path) -> Path:
    path = folder / "walk.arrows"
    writer = insole.io.RecordingStreamWriter(path, layout=get_layout("footswitch1"), unit="au", sample_rate_hz=100.0,
                                             meta=RecordingMeta(subject_id="P-01"))
    for start in (0, 8):
        time_s = (start + np.arange(8)) / 100.0
        for k, side in enumerate(("left", "right")):
            writer.append(side, time_s, _walk(8, 1, k + start), np.ones(8, dtype=bool))
    writer.close()
    return path


def _pack_212(samples: np.ndarray) -> bytes:
    """WFDB format 212: two 12-bit samples in three bytes (the inverse of the importer's decoder)."""
    values = np.asarray(samples, dtype=np.int64) & 0xFFF
    if values.size % 2:
        values = np.append(values, 0)
    first, second = values[0::2], values[1::2]
    packed = np.column_stack([first & 0xFF, ((first >> 8) & 0x0F) | ((second >> 4) & 0xF0), second & 0xFF])
    return packed.astype(np.uint8).tobytes()


def gaitndd_files(folder: Path, n: int = 40, *, record: str = "control9", strides: bool = False) -> Path:
    """A small gaitndd record (.hea, .let, .rit, CRLF header as PhysioNet writes it); returns the header.

    ``strides``: with the lab's stride table ``.ts`` (13 tab-separated columns, LF).
    """
    if strides:
        rows = ["\t".join(f"{0.05 * (i + 1) + 0.001 * k:.4f}" for k in range(13)) for i in range(3)]
        (folder / f"{record}.ts").write_bytes(("\n".join(rows) + "\n").encode("ascii"))
    lines = [f"{record} 2 300 {n}"]
    for k, (suffix, side) in enumerate(((".let", "left"), (".rit", "right"))):
        samples = np.rint(_walk(n, 1, k)[:, 0] * 4).astype(np.int64)
        (folder / f"{record}{suffix}").write_bytes(_pack_212(samples))
        checksum = int(samples.sum()) & 0xFFFF
        checksum = checksum - 0x10000 if checksum >= 0x8000 else checksum
        lines.append(f"{record}{suffix} 212 3000 12 0 {samples[0]} {checksum} 0 {side}-foot")
    header = folder / f"{record}.hea"
    header.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
    return header


def gaitpdb_file(folder: Path, n: int = 30, name: str = "GaCo01_01.txt") -> Path:
    """A gaitpdb text file: 19 tab-separated columns (time, 8 + 8 sensors, 2 totals), CRLF, 2 decimals."""
    left, right = _walk(n, 8, 1), _walk(n, 8, 2)
    rows = np.column_stack([np.arange(n) / 100.0, left, right, left.sum(axis=1), right.sum(axis=1)])
    text = "".join("\t".join(f"{v:.2f}" for v in row) + "\r\n" for row in rows)
    path = folder / name
    path.write_bytes(text.encode("ascii"))
    return path


def _moticon(folder: Path) -> Path:
    names = ["time"]
    for side in ("left", "right"):
        names += [f"{side} pressure {k}[N/cm²]" for k in range(1, 17)]
        names += [f"{side} acceleration {a}[g]" for a in "XYZ"] + [f"{side} angular {a}[dps]" for a in "XYZ"]
        names += [f"{side} total force[N]"] + [f"{side} center of pressure {a}[-0.5...+0.5]" for a in "XY"]
    names += ["right steps[]", "left steps[]"]
    header = ["# Start time: 27.09.2023 10:21:14.922", "# Sensor insoles: Left SN1, Right SN2", "# Size: 7",
              "# " + "\t".join(names)]
    n = 12
    rows = []
    for i in range(n):
        fields = [f"{i / 100:.2f}"]
        for k in range(2):
            fields += [f"{v:.2f}" for v in _walk(n, 16, k)[i] / 10.0] + ["0.01", "0.02", "0.97", "1.1", "2.2", "3.3"]
            fields += ["500.00", "-0.20", "0.07"]
        fields += ["21" if i == 3 else "", "11" if i == 9 else ""]
        rows.append("\t".join(fields))
    path = folder / "session.txt"
    path.write_bytes(("\n".join(header + rows) + "\n").encode("utf-8"))
    return path


def _pedar(folder: Path) -> Path:
    n = 6
    sensors = "".join(f"{k},"for k in range(1, 100))
    header = [
        "file name:  walk.sol\tdate/time  25.04.23 10.49",
        "sensor type:  y-1865l-1870r-pxf306-11mar2021 ",
        f"total time [secs]:  {n / 100:.3f}\ttime per frame [secs]:  0.01000\tscanning rate [Hz]:   100",
        "pressure values in  kPa",
        "",
        "mask definition: ",
        f"left insole: {sensors}",
        f"right insole: {sensors}",
        "",
        "time[secs]    \t" + "\t".join(f"{k:7d}" for k in range(1, 100)) * 1 + "\t"
        + "\t".join(f"{k:7d}" for k in range(1, 100)) + "\t",
    ]
    values = np.column_stack([_walk(n, 99, 1), _walk(n, 99, 2)])
    rows = [f"{(i + 1) / 100:12.5f}\t" + "".join(f"{v:7.3f}\t" for v in values[i]) for i in range(n)]
    path = folder / "walk.asc"
    path.write_bytes(("\n".join(header + rows)).encode("latin-1"))  # pedar ends its last row with a tab, no newline
    return path


def _fscan(folder: Path) -> Path:
    n_rows, n_cols, frames = 6, 4, 3
    header = [
        "DATA_TYPE MOVIE", "VERSION Tekscan Pressure Measurement System 6.33", "FILENAME C:\\MOVIES\\walk01L.fsx",
        "SENSOR_TYPE FSCAN", f"ROWS {n_rows}", f"COLS {n_cols}", "ROW_SPACING 5.08 mm", "COL_SPACING 5.08 mm",
        "SENSEL_AREA 25.8064 mm2", "NOISE_THRESHOLD 3", "SECONDS_PER_FRAME 0.032", "START_FRAME 1",
        f"END_FRAME {frames}", "UNITS KPa", "CALIBRATION_POINT_1 75.0 kg, 1000 raw sum, 40 loaded cells",
        "CALIBRATION_MODE_1 Walk", "ASCII_DATA @@",
    ]
    body = []
    for frame in range(1, frames + 1):
        body.append(f"Frame {frame}")
        grid = np.rint(_walk(n_rows * n_cols, 1, frame)[:, 0]).astype(int).reshape(n_rows, n_cols)
        for r in range(n_rows):
            cells = ["B" if (r == 0 and c in (0, n_cols - 1)) else str(grid[r, c]) for c in range(n_cols)]
            body.append(",".join(cells))
        body.append("")
    path = folder / "walk.asf"
    path.write_bytes(("\n".join(header + body + ["@@"]) + "\n").encode("latin-1"))
    return path


def _xsensor(folder: Path) -> Path:
    n_rows, n_cols = 4, 3
    pad = "," * 5
    lines = ["\ufeffFile:,\"C:\\walk.XSN\"" + pad, pad, "Units:,kPa" + pad, "Threshold:,1.0" + pad]
    for frame in range(2):
        lines += [f"FRAME,{frame + 1}" + pad, "Date, 2022 Aug 16" + pad, f"Time, 08:21:17.{100 + 16 * frame:03d}" + pad]
        for side, tag in (("left", "LF"), ("right", "RF")):
            lines += [f"SENSOR,HX210.11.31.M4-{tag} S0001" + pad, f"Rows,{n_rows}" + pad, f"Columns,{n_cols}" + pad,
                      "Sensel Width (cm),0.86" + pad, "Sensel Height (cm),0.86" + pad, "Est. Load (N),120.5" + pad,
                      "Contact Area (cm²),30.1" + pad, "SENSELS" + pad]
            grid = _walk(n_rows * n_cols, 1, frame * 2 + (side == "right"))[:, 0].reshape(n_rows, n_cols)
            lines += [",".join(f"{v:.2f}" for v in row) + "," * (6 - n_cols) for row in grid]
    path = folder / "walk.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def _stappone(folder: Path) -> Path:
    names = ["sole_id", "timestamp", *(f"{q}_{a}" for q in ("accel", "gyro", "magn") for a in "xyz"),
             *(f"pressure_{k:02d}" for k in range(1, 13)), "corrupt"]
    rows = []
    n = 10
    for sole in (1, 2):
        pressures = np.rint(_walk(n, 12, sole)).astype(int)
        for i in range(n):
            rows.append(",".join([str(sole), str(1768494979568 + 16 * i), "-1780", "-387", "9748", "-6108", "-31764",
                                  "3665", "0", "0", "0", *map(str, pressures[i]), "0"]))
    path = folder / "soles.csv"
    path.write_bytes(("\n".join([",".join(names), *rows]) + "\n").encode("utf-8"))
    return path


def _generic_csv(folder: Path) -> Path:
    n = 12
    values = _walk(n, 2, 3)
    lines = ["t;L1;R1"] + [f"{i / 50:.2f};{values[i, 0]:.3f};{values[i, 1]:.3f}" for i in range(n)]
    path = folder / "walk.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    (folder / "walk.csv.map.toml").write_text(
        'sample_rate_hz = 50\ntime_column = "t"\nunit = "au"\nlayout = "footswitch1"\n'
        'left = ["L1"]\nright = ["R1"]\n', encoding="utf-8"
    )
    return path


SEEDS: dict[str, Callable[[Path], Path]] = {
    "parquet": _parquet,
    "stream": _stream,
    "gaitndd": lambda folder: gaitndd_files(folder, strides=True),
    "gaitpdb": gaitpdb_file,
    "moticon": _moticon,
    "pedar": _pedar,
    "fscan": _fscan,
    "xsensor": _xsensor,
    "stappone": _stappone,
    "generic-csv": _generic_csv,
}


def test_every_format_has_a_seed_that_loads(tmp_path: Path) -> None:
    assert sorted(SEEDS) == sorted(insole.io.formats())  # a new importer needs a seed here
    for name, build in SEEDS.items():
        folder = tmp_path / name
        folder.mkdir()
        path = build(folder)
        assert insole.io.detect_format(path) == name
        recording = insole.load(path)
        assert isinstance(recording, Recording) and recording.sides, name


# ----------------------------------------------------------------------------- damage


def _reencode(data: bytes, how: str) -> bytes:
    text = data.decode("utf-8", errors="surrogateescape")
    if how == "crlf":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if how == "lf":
        return data.replace(b"\r\n", b"\n")
    if how == "cr":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "latin-1":  # UTF-8 text read and written again as if it were latin-1 (mojibake both ways)
        return text.encode("utf-8", errors="surrogateescape").decode("latin-1").encode("utf-8")
    if how == "to-latin-1":
        return text.encode("latin-1", errors="replace")
    return text.encode(how, errors="surrogatepass")  # utf-16, utf-16-le, utf-16-be, utf-32


ENCODINGS = ["crlf", "lf", "cr", "bom", "latin-1", "to-latin-1", "utf-16", "utf-16-le", "utf-32"]


KINDS = ("cut", "flip", "insert", "delete", "encode", "duplicate")
CHUNKS = (b"\t", b",", b"\n", b"-", b"1e300", b"nan", b"inf", b"\x00", b"9" * 30, b"..", b"/", b"\xff\xfe", b"middle")

# One damage: (kind, position, amount, bytes to insert, encoding). Plain data, drawn by one fixed
# strategy: cheap to generate and to shrink (a composite strategy over the seed costs more than the load).
DAMAGE = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, 1 << 20),
    st.integers(1, 64),
    st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from(CHUNKS)),
    st.sampled_from(ENCODINGS),
)


def damaged(data: bytes, damages: list[tuple[str, int, int, bytes, str]]) -> bytes:
    """``data`` after the damages files suffer: cut, bytes flipped, inserted, deleted or repeated, re-encoded."""
    for kind, position, amount, chunk, encoding in damages:
        size = len(data)
        at = position % (size + 1)
        if kind == "cut":
            data = data[:at]
        elif kind == "flip" and size:
            buffer = bytearray(data)
            for k in range(min(amount, 4)):
                buffer[(position + 7919 * k) % size] = (amount * 37 + k * 101 + position) % 256
            data = bytes(buffer)
        elif kind == "insert":
            data = data[:at] + chunk + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + min(amount, 16):]
        elif kind == "duplicate":  # a block repeated, as a careless copy or a resent packet does
            data = data[: at + amount] + data[at : at + amount] + data[at + amount :]
        elif kind == "encode":
            data = _reencode(data, encoding)
    return data


def _check(path: Path, forced: str | None, damaged_bytes: bytes) -> None:
    try:
        result = insole.io.load(path, format=forced)
    except InputError as error:
        message = str(error)
        assert "\n" not in message and "\r" not in message, f"a message of several lines: {message!r}"
        assert message.startswith(str(error.path)), message
        return
    except BaseException as error:  # noqa: BLE001 - the point of the test: nothing else may escape
        pytest.fail(
            f"{type(error).__name__}: {error!s:.300} from {'forced ' + forced if forced else 'detection'} "
            f"on {len(damaged_bytes)} bytes: {damaged_bytes[:400]!r}"
        )
    assert isinstance(result, Recording)


def _put(path: Path, data: bytes) -> None:
    # a new file, not an overwrite: on ext4 truncating a file and writing it again waits for the
    # disk (auto_da_alloc), some 3 ms, which is more than most loads take
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def _fuzz(name: str, folder: Path) -> Callable[..., None]:
    opened = SEEDS[name](folder)
    targets = [opened]  # the file opened, and the companions it makes us read
    if name == "gaitndd":
        targets += [opened.with_suffix(".let"), opened.with_suffix(".ts")]
    if name == "generic-csv":
        targets.append(opened.with_name(opened.name + ".map.toml"))
    seeds = {target: target.read_bytes() for target in targets}

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(target=st.sampled_from(targets), forced=st.sampled_from([None, name]),
           damages=st.lists(DAMAGE, min_size=1, max_size=3))
    def run(target: Path, forced: str | None, damages: list[tuple[str, int, int, bytes, str]]) -> None:
        damaged_bytes = damaged(seeds[target], damages)
        try:
            _put(target, damaged_bytes)
            _check(opened, forced, damaged_bytes)
        finally:
            _put(target, seeds[target])

    return run


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_damaged_files_give_a_recording_or_one_input_error(name: str, tmp_path: Path) -> None:
    # the seed is made once here, not per example: the hypothesis function only damages and reads it
    _fuzz(name, tmp_path)()


# ----------------------------------------------------------------------------- whole-file oddities


@pytest.mark.parametrize("name", sorted(SEEDS))
@pytest.mark.parametrize("how", ENCODINGS)
def test_every_encoding_of_every_seed_gives_a_recording_or_one_input_error(name: str, how: str,
                                                                          tmp_path: Path) -> None:
    path = SEEDS[name](tmp_path)
    data = _reencode(path.read_bytes(), how)
    path.write_bytes(data)
    for forced in (None, name):
        _check(path, forced, data)


def test_a_seed_is_still_valid_after_the_harmless_line_end_changes(tmp_path: Path) -> None:
    # CRLF and LF are both line breaks: the text formats read the same either way
    for name in ("gaitpdb", "moticon", "stappone", "generic-csv", "fscan", "xsensor"):
        folder = tmp_path / name
        folder.mkdir()
        path = SEEDS[name](folder)
        original = insole.load(path)
        for how in ("crlf", "lf"):
            path.write_bytes(_reencode(path.read_bytes(), how))
            again = insole.load(path)
            assert np.array_equal(again.samples(again.sides[0]).values, original.samples(original.sides[0]).values)


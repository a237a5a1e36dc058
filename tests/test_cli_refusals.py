"""Issue 15, part A: the command line's refusals, each a reproducer of the issue, run through ``insole._cli.main``.

Every refusal is exit code 2 and exactly one line on stderr naming the path,
with nothing written and every file that was there byte-identical afterwards.
A recording is simulated once (5 s, known content) and copied into each
test's folder.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import insole
from insole._cli import EXIT_BAD_INPUT, main
from insole._cli import _outputs as outputs
from insole.simulate import SimulationParams, simulate

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("simulated") / "walk.parquet"
    insole.write_parquet(simulate(SimulationParams(duration_s=5.0, seed=3)), path)
    return path


@pytest.fixture
def walk(simulated: Path, tmp_path: Path) -> Path:
    """A copy of the simulated recording in this test's own folder."""
    return Path(shutil.copy(simulated, tmp_path / "walk.parquet"))


def _digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (names relative to it) and its SHA-256: what must not change."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str | Path], named: str | Path) -> str:
    """Run ``insole ARGV``: exit 2, one line on stderr naming ``named``, no traceback; return the line."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"insole {argv[0]}: "), lines[0]
    assert str(named) in lines[0], lines[0]
    assert "Traceback" not in err
    return lines[0]


# ---------------------------------------------------------------- never over an input, even with --force


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
def test_report_refuses_to_overwrite_its_own_input(walk, tmp_path, capsys, force):
    # the issue: `insole report walk.parquet --out walk.parquet` turned the recording into HTML
    before = _digests(tmp_path)
    line = _refused(capsys, ["report", walk, "--out", walk, *force], walk)
    assert "inputs" in line and "never overwritten" in line
    assert _digests(tmp_path) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "{walk}", "--out", "r.html", "--json", "{walk}", "--force"],
        ["report", "{walk}", "--baseline", "{other}", "--out", "{other}", "--force"],
        ["dashboard", "{walk}", "--out", "{walk}", "--force"],
        ["analyze", "{walk}", "--json", "{walk}", "--force"],
        ["analyze", "{walk}", "--report", "{walk}", "--force"],
        ["analyze", "{walk}", "--dashboard", "{walk}", "--force"],
        ["convert", "{walk}", "--to", "parquet", "--out", "{walk}", "--force"],
        ["test", "tug", "--from", "{walk}", "--out", "{walk}", "--force"],
    ],
    ids=["report-json", "report-baseline", "dashboard", "analyze-json", "analyze-report", "analyze-dashboard",
         "convert", "test-from"],
)
def test_no_command_overwrites_one_of_its_inputs_even_with_force(walk, tmp_path, capsys, argv):
    other = Path(shutil.copy(walk, tmp_path / "before.parquet"))
    before = _digests(tmp_path)
    argv = [a.format(walk=walk, other=other) for a in argv]
    named = other if "{other}" in " ".join(argv) or "--baseline" in argv else walk
    _refused(capsys, argv, named)
    assert _digests(tmp_path) == before


def test_convert_refuses_the_mapping_as_output(walk, tmp_path, capsys):
    mapping = tmp_path / "lab.map.toml"
    mapping.write_text("# a mapping\n")
    before = _digests(tmp_path)
    _refused(capsys, ["convert", walk, "--map", mapping, "--to", "parquet", "--out", mapping, "--force"], mapping)
    assert _digests(tmp_path) == before


# ---------------------------------------------------------------- never over an existing file without --force


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (["report", "{walk}", "--out", "{old}"], "old.html"),
        (["report", "{walk}", "--out", "r.html", "--json", "{old}"], "old.json"),
        (["dashboard", "{walk}", "--out", "{old}"], "old.html"),
        (["dashboard", "{walk}"], "walk.html"),  # the default name, in the current folder (here also the recording's)
        (["analyze", "{walk}", "--json", "{old}"], "old.json"),
        (["analyze", "{walk}", "--report", "{old}"], "old.html"),
        (["analyze", "{walk}", "--dashboard", "{old}"], "old.html"),
        (["convert", "{walk}", "--to", "csv", "--out", "{old}"], "old.csv"),
        (["convert", "{walk}", "--to", "csv", "--out", "fresh.csv"], "fresh.csv.json"),  # the sidecar
        (["convert", "{walk}", "--to", "parquet", "--out", "{old}"], "old.parquet"),
        (["simulate", "--duration", "5", "--out", "{old}"], "old.parquet"),
        (["test", "tug", "--from", "{walk}", "--out", "{old}"], "old.parquet"),
    ],
)
def test_existing_file_refused_without_force(walk, tmp_path, capsys, monkeypatch, argv, target):
    monkeypatch.chdir(tmp_path)
    old = tmp_path / target
    old.write_bytes(b"an earlier result that must survive\n")
    before = _digests(tmp_path)
    argv = [a.format(walk=walk, old=old) for a in argv]
    argv = [str(tmp_path / a) if a in ("r.html", "fresh.csv") else a for a in argv]
    line = _refused(capsys, argv, target)
    assert "already exists" in line and "--force" in line
    assert _digests(tmp_path) == before


def test_analyze_json_refuses_existing_without_force(walk, tmp_path, capsys):
    out = tmp_path / "result.json"
    out.write_text('{"earlier": true}\n')
    _refused(capsys, ["analyze", walk, "--json", out], out)
    assert out.read_text() == '{"earlier": true}\n'
    # refused before any work: nothing printed on stdout (the summary comes after the analysis)
    assert main(["analyze", str(walk), "--json", str(out)]) == EXIT_BAD_INPUT
    assert capsys.readouterr().out == ""


def test_force_replaces(walk, tmp_path, capsys):
    simulated = tmp_path / "sim.parquet"
    assert main(["simulate", "--duration", "5", "--seed", "1", "--out", str(simulated)]) == 0
    first = simulated.read_bytes()
    assert main(["simulate", "--duration", "5", "--seed", "2", "--out", str(simulated), "--force"]) == 0
    assert simulated.read_bytes() != first
    assert insole.load(simulated).meta.extra["simulation"]["seed"] == 2
    out = tmp_path / "a.json"
    out.write_text("old\n")
    assert main(["analyze", str(walk), "--json", str(out), "--force"]) == 0
    assert out.read_text().startswith("{")
    page = tmp_path / "r.html"
    page.write_text("old\n")
    assert main(["report", str(walk), "--out", str(page), "--force"]) == 0
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # nothing but the outputs is left in the folder: no temporary file
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "r.html", "sim.parquet", "walk.parquet"]


def test_published_files_have_the_usual_mode_not_private(walk, tmp_path):
    out = tmp_path / "a.json"
    assert main(["analyze", str(walk), "--json", str(out)]) == 0
    mask = os.umask(0o022)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_two_outputs_named_the_same_are_refused(walk, tmp_path, capsys):
    page = tmp_path / "r.html"
    _refused(capsys, ["report", walk, "--out", page, "--json", page], page)
    _refused(capsys, ["analyze", walk, "--report", page, "--dashboard", page], page)
    assert not page.exists()


# ---------------------------------------------------------------- --out that cannot be a file


OUT_COMMANDS = [
    ["report", "{walk}", "--out", "{out}"],
    ["report", "{walk}", "--out", "{tmp}/r.html", "--json", "{out}"],
    ["dashboard", "{walk}", "--out", "{out}"],
    ["analyze", "{walk}", "--json", "{out}"],
    ["analyze", "{walk}", "--report", "{out}"],
    ["analyze", "{walk}", "--dashboard", "{out}"],
    ["convert", "{walk}", "--to", "csv", "--out", "{out}"],
    ["convert", "{walk}", "--to", "parquet", "--out", "{out}"],
    ["simulate", "--duration", "5", "--out", "{out}"],
    ["test", "tug", "--from", "{walk}", "--out", "{out}"],
    ["record", "--emulate", "--out", "{out}"],
    ["test", "tug", "--emulate", "--out", "{out}"],
    ["live", "--emulate", "--out", "{out}"],
]
_IDS = ["report", "report-json", "dashboard", "analyze-json", "analyze-report", "analyze-dashboard", "convert-csv",
        "convert-parquet", "simulate", "test-from", "record", "test", "live"]


def _fill(argv: list[str], walk: Path, out: Path, tmp: Path) -> list[str]:
    return [a.format(walk=walk, out=out, tmp=tmp) for a in argv]


@pytest.fixture
def no_capture(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replaces every way a capture command could connect: a call is recorded (and the test then fails)."""
    from insole._cli import _device_options, _live, _record, _test

    started: list[str] = []

    def refuse(name: str):
        def call(*args, **kwargs):
            started.append(name)
            raise AssertionError(f"{name} was reached: the capture was not refused first")
        return call

    for module in (_record, _test, _live, _device_options):
        for name in ("start_emulation", "require_capture_extras"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse(f"{module.__name__}.{name}"))
    monkeypatch.setattr(_record, "_record", refuse("record capture"))
    monkeypatch.setattr(_test, "_test", refuse("test capture"))
    monkeypatch.setattr(_live, "_serve_capture", refuse("live capture"))
    return started


@pytest.mark.parametrize("argv", OUT_COMMANDS, ids=_IDS)
def test_out_is_a_folder(walk, tmp_path, capsys, no_capture, argv):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "kept.txt").write_text("kept\n")
    before = _digests(tmp_path)
    argv = _fill(argv, walk, folder, tmp_path)
    if argv[0] in ("record", "test", "live") and "--from" not in argv:
        folder = folder.with_name("results.parquet")  # a capture's --out gets .parquet appended
        folder.mkdir()
    line = _refused(capsys, argv, folder.name)
    assert "folder" in line
    assert _digests(tmp_path) == before and no_capture == []


@pytest.mark.parametrize("argv", OUT_COMMANDS, ids=_IDS)
def test_out_folder_missing(walk, tmp_path, capsys, no_capture, argv):
    out = tmp_path / "no-such-folder" / "out.parquet"
    before = _digests(tmp_path)
    line = _refused(capsys, _fill(argv, walk, out, tmp_path), "no-such-folder")
    assert "does not exist" in line
    assert _digests(tmp_path) == before and no_capture == []
    assert not (tmp_path / "no-such-folder").exists()


def test_out_is_a_device_even_with_force(walk, capsys):
    # /dev/null exists: with --force it would have been replaced by a regular file (as root, for everyone)
    line = _refused(capsys, ["simulate", "--duration", "5", "--out", "/dev/null", "--force"], "/dev/null")
    assert "not a regular file" in line
    assert Path("/dev/null").is_char_device()


def test_out_name_too_long_is_one_line(walk, tmp_path, capsys):
    # a name of 300 bytes (the limit is 255 per name on the usual file systems): OSError ENAMETOOLONG before
    long_name = tmp_path / ("x" * 300 + ".html")
    line = _refused(capsys, ["report", walk, "--out", long_name], "xxxx")
    assert "too long" in line
    # a long but legal name (250 bytes) is written: the temporary file's name stays within the limit
    legal = tmp_path / ("y" * 245 + ".json")
    assert main(["analyze", str(walk), "--json", str(legal)]) == 0
    assert legal.read_text(encoding="utf-8").startswith("{")


# ---------------------------------------------------------------- capture commands refuse before connecting


@pytest.mark.parametrize("emulate", [[], ["--emulate"]], ids=["insoles", "emulated"])
def test_record_refuses_existing_target_before_connecting(tmp_path, capsys, no_capture, emulate):
    out = tmp_path / "walk.parquet"
    out.write_bytes(b"a patient's earlier session\n")
    line = _refused(capsys, ["record", *emulate, "--duration", "5", "--out", out], out)
    assert "already exists" in line
    assert no_capture == []  # neither the insoles nor the emulator were touched
    assert out.read_bytes() == b"a patient's earlier session\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.parquet"]  # no stream started


def test_record_appends_parquet_and_checks_that_name(tmp_path, capsys, no_capture):
    (tmp_path / "walk.parquet").write_bytes(b"earlier\n")
    _refused(capsys, ["record", "--out", tmp_path / "walk"], "walk.parquet")
    assert no_capture == []


@pytest.mark.parametrize("argv", [["test", "tug"], ["test", "10mwt", "--emulate"], ["live"], ["live", "--emulate"]])
def test_test_and_live_refuse_existing_target_before_connecting(tmp_path, capsys, no_capture, argv):
    out = tmp_path / "tug.parquet"
    out.write_bytes(b"earlier\n")
    _refused(capsys, [*argv, "--out", out], out)
    assert no_capture == [] and out.read_bytes() == b"earlier\n"


def test_capture_refuses_an_unfinished_stream_even_with_force(tmp_path, capsys, no_capture):
    stream = tmp_path / "walk.arrows"
    stream.write_bytes(b"an unrecovered capture\n")
    line = _refused(capsys, ["record", "--emulate", "--out", tmp_path / "walk.parquet", "--force"], stream)
    assert "insole recover" in line and no_capture == []
    sidecar_only = tmp_path / "b.arrows.json"
    sidecar_only.write_text("{}")
    _refused(capsys, ["test", "tug", "--out", tmp_path / "b.parquet", "--force"], sidecar_only)
    assert stream.read_bytes() == b"an unrecovered capture\n"


# ---------------------------------------------------------------- recover


def _stream(path: Path, rows: int = 100) -> Path:
    """A complete capture stream of ``rows`` samples per foot (written by the public stream writer)."""
    writer = insole.RecordingStreamWriter(path, layout=insole.get_layout("insole16"), unit="kPa",
                                          sample_rate_hz=100, meta=insole.RecordingMeta(subject_id="s02"))
    index = np.arange(rows)
    for side in ("left", "right"):
        writer.append(side, index / 100, np.ones((rows, 16), np.float32), np.ones(rows, bool))
    writer.close()
    return path


def test_recover_does_not_replace_an_unrelated_parquet(walk, tmp_path, capsys):
    # the issue: `insole recover s.arrows` replaced an unrelated s.parquet
    stream = _stream(tmp_path / "walk.arrows")
    before = _digests(tmp_path)
    line = _refused(capsys, ["recover", stream], walk)
    assert "already exists" in line
    assert _digests(tmp_path) == before  # the stream and its sidecar stay too
    assert main(["recover", str(stream), "--force"]) == 0
    recovered = insole.load(walk)
    assert recovered.meta.subject_id == "s02" and recovered.samples("left").n_samples == 100
    assert not stream.exists()


def test_recover_never_writes_over_its_stream_or_sidecar(tmp_path, capsys):
    stream = _stream(tmp_path / "s.arrows")
    before = _digests(tmp_path)
    sidecar = tmp_path / "s.arrows.json"
    _refused(capsys, ["recover", stream, "--out", sidecar, "--force"], sidecar)
    _refused(capsys, ["recover", stream, "--out", stream, "--force"], stream)
    assert _digests(tmp_path) == before


# ---------------------------------------------------------------- permissions (real ones, as any user)


def _without_root_override() -> list[str]:
    """The command prefix that runs a process without root's permission override, [] when not root.

    Root reads and writes through any file mode (CAP_DAC_OVERRIDE), so chmod alone proves nothing when
    the tests run as root (as in CI). ``setpriv`` drops that capability for the child: it then meets the
    permissions a clinician's account meets. Skips when neither is possible.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv (util-linux) is absent: file modes cannot be enforced")
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"running as root and setpriv cannot drop CAP_DAC_OVERRIDE here: {probe.stderr!r}")
    return prefix


def _insole(prefix: list[str], *argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "insole._cli", *map(str, argv)], capture_output=True,
                          text=True, cwd=cwd, timeout=180, env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "{src}", "--out", "ro/r.html"],
        ["dashboard", "{src}", "--out", "ro/d.html"],
        ["analyze", "{src}", "--json", "ro/a.json"],
        ["convert", "{src}", "--to", "csv", "--out", "ro/c.csv"],
        ["simulate", "--duration", "5", "--out", "ro/s.parquet"],
        ["record", "--emulate", "--out", "ro/w.parquet"],
    ],
    ids=["report", "dashboard", "analyze", "convert", "simulate", "record"],
)
def test_read_only_output_folder(walk, tmp_path, argv):
    prefix = _without_root_override()
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "kept.txt").write_text("kept\n")
    folder.chmod(0o555)
    try:
        result = _insole(prefix, *[a.format(src=walk) for a in argv], cwd=tmp_path)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "ro/" in lines[0] and "cannot write" in lines[0], result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["kept.txt"]


@pytest.mark.parametrize("command", ["info", "analyze", "report", "dashboard", "convert", "recover"])
def test_unreadable_input_folder(walk, tmp_path, command):
    prefix = _without_root_override()
    folder = tmp_path / "private"
    folder.mkdir()
    source = Path(shutil.copy(walk, folder / ("s.arrows" if command == "recover" else "s.parquet")))
    extra = {"report": ["--out", "r.html"], "convert": ["--to", "csv", "--out", "c.csv"]}.get(command, [])
    folder.chmod(0o000)
    try:
        result = _insole(prefix, command, source.relative_to(tmp_path), *extra, cwd=tmp_path)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "private/s." in lines[0] and "ermission denied" in lines[0], result.stderr


def test_read_only_folder_refused_before_work_in_process(walk, tmp_path, capsys, monkeypatch):
    # the same refusal in this process (where root would pass chmod): the folder is reported not writable
    real_access = os.access
    folder = tmp_path / "ro"
    folder.mkdir()

    def access(path, mode, *args, **kwargs):
        if Path(path) == folder and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    line = _refused(capsys, ["analyze", walk, "--json", folder / "a.json"], folder / "a.json")
    assert "cannot write into" in line
    assert capsys.readouterr().out == ""  # refused before the analysis ran


# ---------------------------------------------------------------- other tracebacks of the issue


@pytest.mark.parametrize("duration", ["1", "4.9", "0", "-3", "nan"])
def test_simulate_duration_too_short(tmp_path, capsys, duration):
    # the issue: `simulate --duration 1` wrote the file, then a TypeError (no cadence from so few steps)
    out = tmp_path / "s.parquet"
    line = _refused(capsys, ["simulate", "--duration", duration, "--out", out], "--duration")
    assert "at least 5 s" in line
    assert not out.exists()


@pytest.mark.parametrize("duration", ["inf", "1e9", "28800.5"])
def test_simulate_duration_too_long(tmp_path, capsys, duration):
    out = tmp_path / "s.parquet"
    line = _refused(capsys, ["simulate", "--duration", duration, "--out", out], "--duration")
    # the cap (8 h at 100 Hz) is explained, with the way to a longer file
    assert "at most 28800 s (8 h)" in line and "0.4 GB per simulated hour" in line and "insole record" in line
    assert not out.exists()


def test_simulate_duration_cap_is_in_samples_at_a_higher_rate(tmp_path, capsys):
    out = tmp_path / "s.parquet"
    line = _refused(capsys, ["simulate", "--duration", "14400.5", "--rate", "200", "--out", out], "--duration")
    assert "at most 2,880,000 samples per foot (14400 s at 200 Hz, 8 h at 100 Hz)" in line and not out.exists()


def test_simulate_shortest_duration_is_written(tmp_path, capsys):
    out = tmp_path / "s.parquet"
    assert main(["simulate", "--duration", "5", "--out", str(out)]) == 0
    assert "cadence" in capsys.readouterr().out and insole.load(out).duration_s == pytest.approx(5.0, abs=0.01)


def test_unexpected_os_error_is_one_line(tmp_path, capsys, monkeypatch):
    from insole._cli import _info

    def failing(args):
        raise OSError(errno.EIO, "Input/output error", str(tmp_path / "x.parquet"))

    monkeypatch.setattr(_info, "run", failing)
    line = _refused(capsys, ["info", tmp_path / "x.parquet"], tmp_path / "x.parquet")
    assert line == f"insole info: error: {tmp_path / 'x.parquet'}: Input/output error"


def test_os_error_without_a_file_name_is_one_line(capsys, monkeypatch):
    from insole._cli import _info

    def failing(args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_info, "run", failing)
    assert main(["info", "x.parquet"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == "insole info: error: No space left on device\n"


def test_programming_errors_keep_their_traceback(monkeypatch):
    from insole._cli import _info

    def broken(args):
        raise TypeError("a bug, not the user's input")

    monkeypatch.setattr(_info, "run", broken)
    with pytest.raises(TypeError, match="a bug"):
        main(["info", "x.parquet"])


# ---------------------------------------------------------------- what reaches the terminal


def test_info_escapes_control_characters(walk, tmp_path, capsys):
    # the issue: `insole info` printed escape sequences and carriage returns from metadata raw
    recording = insole.load(walk).with_meta(
        notes="first\rERASED\x1b[2J\x1b]0;title\x07 \x9b31m \u202egnp.exe", condition="naïve 步行\tcane",
    )
    hostile = tmp_path / "hostile.parquet"
    insole.write_parquet(recording, hostile)
    assert main(["info", str(hostile)]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x1b\r\x07\x9b\u202e")
    notes = next(line for line in out.splitlines() if line.lstrip().startswith("notes"))
    assert notes.split(None, 1)[1] == "first\\rERASED\\x1b[2J\\x1b]0;title\\x07 \\x9b31m \\u202egnp.exe"
    condition = next(line for line in out.splitlines() if line.lstrip().startswith("condition"))
    assert condition.split(None, 1)[1] == "naïve 步行\tcane"  # letters of any script and tabs stay


def test_scan_escapes_control_characters_in_advertised_names():
    # any device in radio range chooses its own name: it reaches the table as text
    from insole._cli._scan import format_table

    row = {"name": "INSOLE-L\x1b[2J\x1b[1;1H", "side": "left", "address": "C1:1E:00:00:1A:2B", "rssi_dbm": -48,
           "battery_pct": 87, "serial": None, "protocol_version": 1, "problem": "odd\rreply"}
    table = format_table([row])
    assert "\x1b" not in table and "\r" not in table
    assert table.splitlines()[1].startswith("INSOLE-L\\x1b[2J\\x1b[1;1H  left")
    assert table.splitlines()[2] == "note: INSOLE-L\\x1b[2J\\x1b[1;1H: odd\\rreply"


def test_error_lines_escape_control_characters(tmp_path, capsys):
    missing = tmp_path / "walk\x1b[31m\rred.parquet"
    line = _refused(capsys, ["info", missing], "walk\\x1b[31m\\rred.parquet")
    assert "\x1b" not in line and "\r" not in line


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text", "plain text"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\rb\nc", "a\\rb\\nc"),
        ("bell\x07 del\x7f nul\x00", "bell\\x07 del\\x7f nul\\x00"),
        ("csi\x9b1m nel\x85", "csi\\x9b1m nel\\x85"),  # C1 controls act on some terminals
        ("\u202eevil\u2066 \u2028", "\\u202eevil\\u2066 \\u2028"),  # bidirectional overrides, line separator
        ("tab\there", "tab\there"),
        ("no-break\xa0space", "no-break\xa0space"),
        ("Müller 李 Ωμέγα", "Müller 李 Ωμέγα"),
    ],
)
def test_printable_escapes_control_characters(text, shown):
    assert outputs.printable(text) == shown


# ---------------------------------------------------------------- the atomic writer itself


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "page.html"
    target.write_text("old page\n")
    with pytest.raises(RuntimeError, match="writer crashed"):
        with outputs.atomic_path(target, force=True) as temporary:
            temporary.write_text("half a new pa")
            raise RuntimeError("writer crashed")
    assert target.read_text() == "old page\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


def test_a_file_that_appears_while_writing_is_not_replaced(tmp_path):
    target = tmp_path / "walk.json"
    with pytest.raises(insole.OutputError, match="already exists"):
        with outputs.atomic_path(target, force=False) as temporary:
            temporary.write_text("ours\n")
            target.write_text("another process's file\n")  # appears after the check, before publishing
    assert target.read_text() == "another process's file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.json"]


@pytest.mark.parametrize("command", [["dashboard"], ["report", "--out", "r.html"], ["analyze", "--json", "a.json"]])
def test_a_missing_input_is_named_before_any_output(tmp_path, capsys, monkeypatch, command):
    # `insole dashboard no/such/walk.parquet` writes walk.html here: the missing recording is the news
    monkeypatch.chdir(tmp_path)
    missing = Path("no") / "such" / "walk.parquet"
    line = _refused(capsys, [command[0], missing, *command[1:]], missing)
    assert line.endswith("no such file")


def test_live_out_dir_that_is_a_file_and_out_with_replay_are_refused(walk, tmp_path, capsys, no_capture):
    not_a_folder = tmp_path / "sessions"
    not_a_folder.write_text("a file\n")
    line = _refused(capsys, ["live", "--emulate", "--out-dir", not_a_folder], not_a_folder)
    assert "not a folder" in line
    # --out names the first capture's file: a replay records only from the page, into --out-dir
    line = _refused(capsys, ["live", "--replay", walk, "--out", tmp_path / "x.parquet"], "--out-dir")
    assert no_capture == [] and not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
def test_two_outputs_named_for_one_file_through_a_linked_folder(walk, tmp_path, capsys, force):
    # found by a review: --out r.html --json sub/up/r.html (sub/up links back to the folder) wrote the JSON over
    # the HTML report with --force, and without it wrote the report before refusing the JSON
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    before = _digests(tmp_path)
    line = _refused(capsys, ["report", walk, "--out", tmp_path / "r.html", "--json", tmp_path / "sub/up/r.html",
                             *force], "r.html")
    assert "named for two outputs" in line
    assert _digests(tmp_path) == before, "nothing written"


def test_a_100000_character_subject_id_is_one_line_exit_2(tmp_path, capsys):
    # the issue: a 100,000-character subject id ended in a traceback; the id is the user's input (exit 2)
    out = tmp_path / "r.parquet"
    line = _refused(capsys, ["record", "--emulate", "--yes", "--duration", "2", "--subject", "x" * 100_000,
                             "--out", out], "subject id is 100000 characters long")
    assert len(line) < 300 and not out.exists()


@pytest.mark.parametrize("source", ["orphe", "moticon"])
def test_insole_test_emulate_with_another_source_is_one_line(tmp_path, capsys, source):
    # the test's emulation is a simulated patient on our own emulated insoles; it used to wait 10 s for ORPHE
    # insoles that nothing emulated, then fail as a device error
    line = _refused(capsys, ["test", "10mwt", "--source", source, "--emulate", "--yes",
                             "--out", tmp_path / "t.parquet"], f"--source {source}")
    assert ("insole record --source orphe --emulate" if source == "orphe" else "replay an export") in line
    assert not (tmp_path / "t.parquet").exists()

"""``insole scan`` and ``insole record --emulate`` as processes: crash safety, signals, bad input.

The collector runs in a subprocess (``insole record --emulate``) with its
emulated insoles, fake BlueZ and private ``dbus-daemon`` of its own; the test
reads its status lines (one per half second when stdout is not a terminal),
then kills or stops it. The emulated insoles run at real speed so that "one
second before the kill" means a wall-clock second, as the acceptance says.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from insole.io import read_parquet

pytestmark = pytest.mark.ble

REPO = Path(__file__).resolve().parents[1]
GUARD_S = 120.0
STATUS = re.compile(
    r"^\s*(?P<elapsed>[\d.]+) s \| L (?P<lstate>\S+)\s+(?P<left>\d+) smp .*\| R (?P<rstate>\S+)\s+(?P<right>\d+) smp"
)


def insole(*args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "insole._cli", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=GUARD_S, **options)


class Recorder:
    """``insole record --emulate`` in its own process group, its status lines timestamped on arrival."""

    def __init__(self, out: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "insole._cli", "record", "--emulate", "--pattern", "synthetic", "--no-tare",
             "--out", str(out), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, start_new_session=True,
        )
        self.deadline = time.monotonic() + GUARD_S

    def next_status(self) -> tuple[float, dict[str, int]]:
        """Block until the next status line; return (arrival time, samples received per foot)."""
        assert self.process.stdout is not None
        while time.monotonic() < self.deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"recorder ended early: {self.process.wait()} {self.process.stderr.read()}")
            match = STATUS.match(line)
            if match:
                return time.monotonic(), {"left": int(match["left"]), "right": int(match["right"])}
        raise AssertionError("no status line in time")

    def wait_for_samples(self, count: int) -> tuple[float, dict[str, int]]:
        while True:
            arrived, samples = self.next_status()
            if min(samples.values()) >= count:
                return arrived, samples

    def cleanup(self) -> None:
        # the recorder's own dbus-daemon is in its process group
        with_group = self.process.pid
        try:
            os.killpg(with_group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


def assert_contiguous_valid(foot, at_least: int) -> None:
    assert foot.n_samples >= at_least
    assert foot.valid[:at_least].all()
    device_us = np.rint(foot.channels["device_time_s"] * 1e6).astype(np.int64)
    np.testing.assert_array_equal(np.diff(device_us), 10_000)  # one 100 Hz grid, no slot missing


def test_sigkill_mid_capture_loses_at_most_the_last_second(tmp_path):
    out = tmp_path / "killed.parquet"
    recorder = Recorder(out)
    try:
        # every status line says how many samples had arrived when it was printed; kill the
        # recorder at the first status line that comes at least a second after a reference one
        reference_time, reference = recorder.wait_for_samples(200)
        arrived = reference_time
        while arrived < reference_time + 1.0:
            arrived, _ = recorder.next_status()
        recorder.process.send_signal(signal.SIGKILL)
        recorder.process.wait(timeout=10)
    finally:
        recorder.cleanup()
    stream = tmp_path / "killed.arrows"
    assert stream.exists() and not out.exists()
    info = insole("info", str(stream), "--json")
    assert info.returncode == 0, info.stderr
    described = json.loads(info.stdout)
    assert described["stream"]["closed_cleanly"] is False
    assert all(described["feet"][side]["valid_samples"] >= reference[side] for side in ("left", "right"))
    recovered = insole("recover", str(stream))
    assert recovered.returncode == 0, recovered.stderr
    recording = read_parquet(out)
    for side in ("left", "right"):
        assert_contiguous_valid(recording.foot(side), reference[side])
    # the capture quality written to the sidecar during capture came through the crash
    quality = recording.meta.capture_quality
    assert quality["feet"]["left"]["packets_received"] > 0
    assert quality["time_axis"].startswith("online")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_or_ctrl_c_finalises_the_parquet_file(tmp_path, stop_signal):
    out = tmp_path / "stopped.parquet"
    recorder = Recorder(out, "--subject", "s07", "--mass-kg", "64.5", "--notes", "signal test")
    try:
        _, reference = recorder.wait_for_samples(150)
        recorder.process.send_signal(stop_signal)
        code = recorder.process.wait(timeout=GUARD_S)
        stdout = recorder.process.stdout.read()
    finally:
        recorder.cleanup()
    assert code == 0, recorder.process.stderr
    assert f"wrote {out}" in stdout
    assert not (tmp_path / "stopped.arrows").exists()
    recording = read_parquet(out)
    for side in ("left", "right"):
        assert_contiguous_valid(recording.foot(side), reference[side])
        assert recording.foot(side).valid.all()
    meta = recording.meta
    assert (meta.subject_id, meta.body_mass_kg, meta.notes) == ("s07", 64.5, "signal test")
    assert meta.capture_quality["time_axis"].startswith("whole-session")
    assert meta.devices["left"]["name"] == "INSOLE-L-1A2B"


def test_record_emulated_with_faults_and_duration_reports_quality(tmp_path):
    out = tmp_path / "faulty.parquet"
    result = insole("record", "--emulate", "--pattern", "synthetic", "--duration", "8", "--speed", "2",
                    "--faults", "drop_seq_left=10;11;12,corrupt_seq_right=20", "--out", str(out))
    assert result.returncode == 0, result.stderr
    recording = read_parquet(out)
    quality = recording.meta.capture_quality
    left, right = quality["feet"]["left"], quality["feet"]["right"]
    assert (left["packets_lost"], left["gaps"], left["missing_samples"]) == (3, 1, 3)
    assert (right["crc_failures"], right["packets_lost"], right["gaps"]) == (1, 1, 1)
    assert left["tared"] is True  # zeroed before recording (the default)
    gaps = recording.foot("left").gaps()
    assert [n for _, _, n in gaps] == [3]
    assert "left  packets" in result.stdout and "CRC failures 1" in result.stdout


def test_record_tares_the_emulated_insoles(tmp_path):
    out = tmp_path / "tared.parquet"
    result = insole("record", "--emulate", "--pattern", "normal", "--duration", "4", "--speed", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Zeroing" in result.stdout
    recording = read_parquet(out)
    assert recording.meta.devices["left"]["tared"] is True
    assert recording.meta.capture_quality["feet"]["right"]["tared"] is True
    assert recording.meta.software["emulated"]["pattern"] == "normal"


def test_scan_lists_both_emulated_insoles():
    result = insole("scan", "--emulate", "--json", "--timeout", "2")
    assert result.returncode == 0, result.stderr
    rows = sorted(json.loads(result.stdout), key=lambda row: row["side"])
    assert [(r["name"], r["side"], r["address"], r["battery_pct"], r["serial"], r["protocol_version"])
            for r in rows] == [
        ("INSOLE-L-1A2B", "left", "C0:1E:00:00:1A:2B", 87, "00001A2B", 1),
        ("INSOLE-R-1A2C", "right", "C1:1E:00:00:1A:2C", 87, "00001A2C", 1),
    ]
    assert all(isinstance(r["rssi_dbm"], int) for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--faults", "drop=2"], "--faults"),
        (["--faults", "bogus=1"], "unknown fault"),
        (["--pattern", "moonwalk"], "unknown pattern"),
        (["--mass-kg", "-3"], "--mass-kg"),
        (["--speed", "0"], "--speed"),
    ],
)
def test_bad_record_options_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    from insole._cli import main

    try:
        code = main(["record", "--emulate", "--out", str(tmp_path / "x.parquet"), *args])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    stderr = capsys.readouterr().err
    assert code == 2
    assert message in stderr and "Traceback" not in stderr
    assert not list(tmp_path.iterdir())


def test_faults_without_emulate_are_refused(capsys):
    from insole._cli import main

    assert main(["record", "--faults", "drop=0.1"]) == 2
    assert "--emulate" in capsys.readouterr().err


def test_unfinished_capture_in_the_way_is_named_not_overwritten(tmp_path):
    (tmp_path / "walk.arrows").write_bytes(b"partial")
    result = insole("record", "--emulate", "--pattern", "synthetic", "--duration", "1",
                    "--out", str(tmp_path / "walk.parquet"))
    assert result.returncode == 2
    assert "walk.arrows" in result.stderr and "insole recover" in result.stderr
    assert (tmp_path / "walk.arrows").read_bytes() == b"partial"


@pytest.mark.parametrize("command", [["scan", "--timeout", "1"], ["record", "--duration", "1"]])
def test_no_bluetooth_stack_gives_one_line_not_a_traceback(tmp_path, monkeypatch, capsys, command):
    from insole._cli import main

    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-bus")
    if command[0] == "record":
        command = [*command, "--out", str(tmp_path / "x.parquet")]
    assert main(command) == 1
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and "no D-Bus system bus" in stderr
    assert not (tmp_path / "x.arrows").exists()

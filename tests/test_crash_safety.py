"""A capture killed with SIGKILL loses at most its last second: a real writer process, really killed.

The child writes with ``RecordingStreamWriter``, one append per foot per 100 ms
of data, and reports each completed append on stdout. The test waits for its
reports (events, not wall-clock windows), kills it with SIGKILL, and checks
with the real ``insole info`` and ``insole recover`` that every reported sample
is in the file, exactly as written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import insole
from insole.io import write_parquet
from insole.simulate import SimulationParams, simulate

RATE_HZ = 100
BLOCK = 10  # samples per append: 100 ms of data at 100 Hz
APPENDS_BEFORE_KILL = 40

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from insole import RecordingMeta, RecordingStreamWriter, get_layout

    def values(side, index):
        # exact in float32: small integers plus a per-side half
        return ((index[:, None] * 16 + np.arange(16)) % 1000 + (0.5 if side == "right" else 0.0)).astype(np.float32)

    writer = RecordingStreamWriter(
        sys.argv[1], layout=get_layout("insole16"), unit="kPa", sample_rate_hz=100,
        meta=RecordingMeta(subject_id="crash-test"),
    )
    block = 0
    while True:  # until killed
        index = np.arange(block * 10, (block + 1) * 10)
        for side in ("left", "right"):
            writer.append(side, index / 100, values(side, index), np.ones(10, bool))
        print(f"appended {block} {index[-1]}", flush=True)
        block += 1
    """
)


def _expected_values(side: str, index: np.ndarray) -> np.ndarray:
    return ((index[:, None] * 16 + np.arange(16)) % 1000 + (0.5 if side == "right" else 0.0)).astype(np.float32)


def _insole(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "insole._cli", *map(str, args)], capture_output=True, text=True,
                          timeout=180)


def test_sigkill_during_capture_loses_at_most_the_last_second(tmp_path: Path) -> None:
    stream = tmp_path / "session.arrows"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(stream)], stdout=subprocess.PIPE, text=True)
    reported = []
    try:
        for line in child.stdout:  # wait for the child's own reports
            reported.append(line)
            if len(reported) == APPENDS_BEFORE_KILL:
                os.kill(child.pid, signal.SIGKILL)
                break
        else:
            raise AssertionError(f"writer ended by itself after {len(reported)} appends (exit {child.wait()})")
        reported += child.stdout.readlines()  # anything it reported before the signal landed
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    last_block, last_index = map(int, reported[-1].split()[1:])
    assert last_block == len(reported) - 1
    reported_samples = last_index + 1
    last_reported_s = last_index / RATE_HZ  # the child was killed after this sample was reported

    # `insole info` opens the stream as it was left
    result = _insole("info", stream, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["format"] == "stream" and info["stream"]["closed_cleanly"] is False
    for side in ("left", "right"):
        foot = info["feet"][side]
        # every reported sample is there (far better than "up to 1 s before the kill") ...
        assert foot["end_s"] >= last_reported_s
        assert foot["samples"] >= reported_samples
        # ... and at most the one append that was under way when the signal landed
        assert foot["samples"] <= reported_samples + BLOCK
        assert foot["invalid_samples"] == 0
    # the content is exactly what was written
    recording = insole.load(stream)
    for side in ("left", "right"):
        foot = recording.foot(side)
        index = np.arange(foot.n_samples)
        np.testing.assert_array_equal(foot.time_s, index / RATE_HZ)
        np.testing.assert_array_equal(foot.values, _expected_values(side, index))
    rows = info["stream"]["rows"]

    # `insole recover` makes the Parquet file with the same rows
    parquet = tmp_path / "session.parquet"
    result = _insole("recover", stream, "--out", parquet)
    assert result.returncode == 0, result.stderr
    assert f"{rows} rows" in result.stdout
    recovered = insole.load(parquet)
    assert sum(recovered.foot(s).n_samples for s in recovered.sides) == rows
    assert recovered.left.equals(recording.left) and recovered.right.equals(recording.right)
    assert recovered.meta.subject_id == "crash-test"
    assert recovered.meta.extra["recovered_from_stream"]["rows"] == rows
    assert not stream.exists()


# ---------------------------------------------------------------- `insole record` killed at 10 random moments

REPO = Path(__file__).resolve().parents[1]
RECORD_STATUS = re.compile(r"\| L \S+\s+\d+ smp\s+(?P<left>\d+) written .*\| R \S+\s+\d+ smp\s+(?P<right>\d+) written")
KILL_SEED = 15
KILLS = 10


def _record_and_kill(out: Path, kill_after_s: float) -> list[dict[str, int]]:
    """``insole record --emulate`` (real bleak, emulated insoles, its own D-Bus) killed with SIGKILL.

    ``kill_after_s`` counts from the process's start, so a moment may fall while it connects, while it
    records, while it writes the Parquet file, or after it ended. Returns the ``written`` counts of
    every status line it printed before it died (each printed after those samples went to the stream).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "insole._cli", "record", "--emulate", "--pattern", "synthetic", "--no-tare",
         "--duration", "3", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO, start_new_session=True,
    )
    try:
        process.wait(timeout=kill_after_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the recorder and its private dbus-daemon, at once
        process.wait(timeout=30)
    assert process.stdout is not None
    printed = process.stdout.read()  # everything it printed before it died is in the pipe
    process.stdout.close()
    return [{side: int(m[side]) for side in ("left", "right")} for m in RECORD_STATUS.finditer(printed)]


def _assert_holds(path: Path, written: dict[str, int]) -> None:
    recording = insole.load(path)
    for side in ("left", "right"):
        foot = recording.foot(side)
        if foot is None:
            # a kill that lands as the stream takes its first blocks can leave one foot's samples and none of the
            # other's; nothing of that foot had been reported, so nothing reported is lost (a fresh clone's run,
            # session 13: take-5, reported 0 and 0, recovered with one foot)
            assert written[side] == 0, (path.name, side, written[side])
            continue
        assert foot.n_samples >= written[side], (path.name, side, foot.n_samples, written[side])
        # no faults injected: every slot up to what was reported is a valid sample, one 100 Hz grid
        assert foot.valid[: written[side]].all(), (path.name, side)
        device_us = np.rint(foot.channels["device_time_s"] * 1e6).astype(np.int64)
        np.testing.assert_array_equal(np.diff(device_us), 10_000, err_msg=f"{path.name} {side}")


@pytest.mark.ble
@pytest.mark.slow
def test_sigkill_during_record_at_10_random_moments_loses_nothing_reported(tmp_path: Path) -> None:
    """Issue 15 acceptance: SIGKILL at 10 random moments (seeded); every sample reported before the last
    flush is recovered, and the files already in the folder are untouched.

    ``insole record`` prints a status line every half second after a flush; its ``written`` counts are
    the sample slots already in the capture stream then. A kill may land before the recording started
    (nothing to recover, nothing reported), while recording (recover the stream), while the Parquet
    file is written or re-timed (the stream, the file, or both are there: each must hold everything
    reported), or after the command ended.
    """
    folder = tmp_path / "patient-017"
    folder.mkdir()
    earlier = folder / "earlier-session.parquet"
    write_parquet(simulate(SimulationParams(duration_s=5.0, seed=1)), earlier)
    (folder / "notes.txt").write_text("visit 3: new orthosis\n")
    (folder / "walk.csv").write_text("time_s,left\n0.00,1\n")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    # start-up (D-Bus, emulated insoles, scan, connect) takes about a second, the recording 3 s, the Parquet
    # file a fraction of a second: moments up to 5 s fall on each phase, and a few after the end
    moments = np.random.default_rng(KILL_SEED).uniform(0.5, 5.0, KILLS)
    outcomes = []
    for n, moment in enumerate(moments):
        out = folder / f"take-{n}.parquet"
        stream = folder / f"take-{n}.arrows"
        statuses = _record_and_kill(out, float(moment))
        reported = statuses[-1] if statuses else {"left": 0, "right": 0}
        found = "+".join(name for name, path in (("stream", stream), ("parquet", out)) if path.exists()) or "nothing"
        if out.exists():  # finished, or killed after the Parquet file was published
            _assert_holds(out, reported)
        if stream.exists():  # killed before the stream was removed: it is recovered in full
            target = out if not out.exists() else folder / f"take-{n}.recovered.parquet"
            result = _insole("recover", stream, "--out", target)
            if result.returncode == 2 and reported == {"left": 0, "right": 0}:
                # killed as the stream was being created, before its first samples: nothing was reported,
                # there is nothing to recover, and recover says so in one line
                assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
            else:
                assert result.returncode == 0, result.stderr
                _assert_holds(target, reported)
        if not out.exists() and not stream.exists():
            assert reported == {"left": 0, "right": 0}, f"kill at {moment:.2f} s: samples reported, no file"
        outcomes.append((round(float(moment), 2), found, len(statuses), reported))
    print("kills (s after start, left behind, status lines, last written):", outcomes)
    print("other files left behind:", sorted(p.name for p in folder.iterdir() if p.name not in before
                                             and not p.name.startswith("take-")))
    # the pre-existing files, byte for byte
    assert {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in before} == before
    # the kills really hit a recording (not only the start-up or the end)
    assert sum(1 for _, found, _, reported in outcomes if "stream" in found and min(reported.values()) > 0) >= 3

"""A capture killed with SIGKILL loses at most its last second: a real writer process, really killed.

The child writes with ``RecordingStreamWriter``, one append per foot per 100 ms
of data, and reports each completed append on stdout. The test waits for its
reports (events, not wall-clock windows), kills it with SIGKILL, and checks
with the real ``insole info`` and ``insole recover`` that every reported sample
is in the file, exactly as written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

import insole

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

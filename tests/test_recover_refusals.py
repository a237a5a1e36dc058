"""``recover`` after a crash: what it refuses, what it keeps, and what it says about a lost sidecar.

Issue 15: a sidecar with fields of the wrong type gave a traceback; a missing or cut sidecar gave a file
with no capture quality and the sidecar deleted; ``recover s.arrows`` replaced an unrelated
``s.parquet``. The stream here is written as the collector writes it (``RecordingStreamWriter``, the
capture quality explicitly unknown in the stream's header until the first sidecar update).

What these tests pin: an existing Parquet file is never replaced without ``force`` (an ``OutputError``,
before anything is read or removed); a damaged or missing sidecar never stops the samples from being
recovered, the file then says that its capture quality is unknown, and the stream and its sidecar stay
untouched; the stream is removed only after the Parquet file is complete.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from insole import InputError, OutputError, RecordingMeta, RecordingStreamWriter, get_layout
from insole.capture._quality import QUALITY_SCHEMA, format_capture_quality, unknown_capture_quality
from insole.io import read_parquet, recover

REPO = Path(__file__).resolve().parents[1]
BLOCKS = 6  # appends per foot, 10 samples each
QUALITY = {"schema": QUALITY_SCHEMA, "version": 1, "duration_s": 0.6, "feet": {}, "time_axis": "online clock fit"}


def _values(side: str, index: np.ndarray) -> np.ndarray:
    return ((index[:, None] * 16 + np.arange(16)) % 500 + (0.5 if side == "right" else 0.0)).astype(np.float32)


def _stream(path: Path, *, close: bool = False) -> Path:
    """A capture stream as the collector leaves it after a crash (or, with ``close``, a clean stop)."""
    meta = RecordingMeta(subject_id="r-01", capture_quality=unknown_capture_quality())
    writer = RecordingStreamWriter(path, layout=get_layout("insole16"), unit="kPa", sample_rate_hz=100, meta=meta)
    for block in range(BLOCKS):
        index = np.arange(block * 10, block * 10 + 10)
        for side in ("left", "right"):
            writer.append(side, index / 100, _values(side, index), np.ones(10, bool))
    writer.update(capture_quality=QUALITY)  # the session's figures, once a second
    if close:
        writer.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_every_sample(out: Path) -> None:
    recording = read_parquet(out)
    for side in ("left", "right"):
        foot = recording.samples(side)
        index = np.arange(BLOCKS * 10)
        np.testing.assert_array_equal(foot.time_s, index / 100)
        np.testing.assert_array_equal(foot.values, _values(side, index))
    assert recording.meta.subject_id == "r-01"


def _damage(sidecar: Path, how: str) -> None:
    if how == "missing":
        sidecar.unlink()
    elif how == "cut":
        text = sidecar.read_text()
        sidecar.write_text(text[: len(text) // 2])
    elif how == "wrong types":
        payload = json.loads(sidecar.read_text())
        payload["meta"]["body_mass_kg"] = "heavy"
        payload["marks"] = "not a list"
        sidecar.write_text(json.dumps(payload))
    elif how == "not an object":
        sidecar.write_text("[1, 2, 3]")
    else:  # pragma: no cover
        raise AssertionError(how)


def test_a_complete_sidecar_gives_the_quality_and_the_stream_goes(tmp_path: Path) -> None:
    stream = _stream(tmp_path / "s.arrows")
    out = recover(stream)
    assert out == tmp_path / "s.parquet"
    _assert_every_sample(out)
    assert read_parquet(out).meta.capture_quality == QUALITY
    assert not stream.exists() and not (tmp_path / "s.arrows.json").exists()


@pytest.mark.parametrize("how", ["missing", "cut", "wrong types", "not an object"])
def test_a_lost_or_damaged_sidecar_gives_every_sample_with_the_quality_marked_unknown(tmp_path: Path, how: str) -> None:
    stream = _stream(tmp_path / "s.arrows")
    sidecar = tmp_path / "s.arrows.json"
    _damage(sidecar, how)
    kept = {p.name: _digest(p) for p in tmp_path.iterdir()}
    out = recover(stream)
    _assert_every_sample(out)
    meta = read_parquet(out).meta
    # never a file silently lacking its capture quality: it says the quality is unknown ...
    assert meta.capture_quality == unknown_capture_quality()
    assert format_capture_quality(meta.capture_quality)[0].startswith("capture quality: not known")
    # ... and why, in the recovery note
    note = meta.extra["recovered_from_stream"]["sidecar"]
    assert note.startswith("missing" if how == "missing" else "damaged"), note
    # the stream and what is left of the sidecar stay, byte for byte (someone may repair the sidecar)
    assert {p.name: _digest(p) for p in tmp_path.iterdir() if p != out} == kept


def test_recover_never_replaces_an_unrelated_parquet_file(tmp_path: Path) -> None:
    stream = _stream(tmp_path / "s.arrows")
    other = tmp_path / "s.parquet"
    other.write_bytes(b"another session, recorded last week")
    before = {p.name: _digest(p) for p in tmp_path.iterdir()}
    with pytest.raises(OutputError, match="already exists"):
        recover(stream)
    assert {p.name: _digest(p) for p in tmp_path.iterdir()} == before  # nothing read, written or removed
    # with force it is replaced, and only then does the stream go
    assert recover(stream, force=True) == other
    _assert_every_sample(other)
    assert not stream.exists()


def test_recover_into_a_missing_folder_keeps_the_stream(tmp_path: Path) -> None:
    stream = _stream(tmp_path / "s.arrows", close=True)
    before = {p.name: _digest(p) for p in tmp_path.iterdir()}
    with pytest.raises(InputError):
        recover(stream, tmp_path / "no such folder" / "s.parquet")
    assert {p.name: _digest(p) for p in tmp_path.iterdir()} == before


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "insole._cli", "recover", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


@pytest.mark.parametrize("how", ["cut", "wrong types"])
def test_cli_recover_with_a_damaged_sidecar_is_no_traceback(tmp_path: Path, how: str) -> None:
    stream = _stream(tmp_path / "s.arrows")
    _damage(tmp_path / "s.arrows.json", how)
    result = _cli(stream)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    _assert_every_sample(tmp_path / "s.parquet")
    assert stream.exists() and (tmp_path / "s.arrows.json").exists()


@pytest.mark.parametrize("how", ["missing", "wrong types"])
def test_cli_recover_says_what_it_kept(tmp_path: Path, how: str) -> None:
    stream = _stream(tmp_path / "s.arrows")
    _damage(tmp_path / "s.arrows.json", how)
    result = _cli(stream)
    assert result.returncode == 0, result.stderr
    _assert_every_sample(tmp_path / "s.parquet")
    assert stream.exists()
    assert "removed" not in result.stdout  # it must not claim to have removed what it kept


def test_cli_recover_refuses_an_existing_parquet_in_one_line(tmp_path: Path) -> None:
    stream = _stream(tmp_path / "s.arrows")
    other = tmp_path / "s.parquet"
    other.write_bytes(b"another session")
    result = _cli(stream)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "s.parquet" in result.stderr
    assert other.read_bytes() == b"another session" and stream.exists()

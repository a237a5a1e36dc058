"""SHA-256 digests of inputs: of a file's bytes, and of the bytes that make a recording. One place for both.

The importers stamp every input (and its companions) with ``file_sha256``; ``insole batch`` and the reference
sets tell two copies of one recording apart from two recordings with ``recording_bytes_sha256``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

__all__ = ["file_sha256", "recording_bytes_sha256"]


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, hex, read a megabyte at a time."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recording_bytes_sha256(path: str | Path, digest: Callable[[Path], str] = file_sha256) -> str:
    """The SHA-256 of the bytes that make a recording: a plain file's own; for a WFDB record (its ``.hea``), the
    signal files the header names (``.let``, ``.rit``), in the header's order -- the header itself carries the
    record's name, so two copies of one walk under two names differ only there. Names and folders do not count.

    ``digest``: a file's SHA-256, for a caller that has hashed the files already (``insole batch``'s memo).
    """
    path = Path(path)
    if path.suffix.lower() != ".hea":
        return digest(path)
    lines = [line.split() for line in path.read_text(encoding="latin-1").splitlines()]
    lines = [fields for fields in lines if fields and not fields[0].startswith("#")]
    signal_files: list[str] = []
    for fields in lines[1:]:
        if fields[0] not in signal_files:
            signal_files.append(fields[0])
    if not signal_files:
        return digest(path)
    combined = hashlib.sha256()
    for k, name in enumerate(signal_files):
        signal = path.with_name(name)
        combined.update(f"{k}\0{digest(signal) if signal.is_file() else 'missing'}\n".encode())
    return combined.hexdigest()

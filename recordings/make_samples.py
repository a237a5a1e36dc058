"""Rebuild the sample recordings in this folder from ../shared/data (run from the repository root).

    .venv/bin/python recordings/make_samples.py

Each file is our Parquet format (docs/recording-format.md); its metadata names
the source file (with its SHA-256), the importer and insole version, and for
an excerpt, which part of the source it is. See recordings/README.md for the
sources, citations and licences.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import insole
from insole._recording import FootSamples, Recording

REPO = Path(__file__).resolve().parents[1]
SHARED = Path("../shared/data")  # relative, so the recorded source path does not name this machine
GAITPDB_EXCERPT_S = 60.0


def first_seconds(recording: Recording, seconds: float) -> Recording:
    """The samples with time_s < ``seconds`` of every foot (metadata says it is an excerpt)."""
    feet = {}
    for side in recording.sides:
        foot = recording.samples(side)
        keep = foot.time_s < seconds
        feet[side] = FootSamples(
            time_s=foot.time_s[keep],
            values=foot.values[keep],
            valid=foot.valid[keep],
            accel_g=None if foot.accel_g is None else foot.accel_g[keep],
            gyro_dps=None if foot.gyro_dps is None else foot.gyro_dps[keep],
            channels={k: v[keep] for k, v in foot.channels.items()},
        )
    total = recording.samples(recording.sides[0]).n_samples
    kept = feet[recording.sides[0]].n_samples
    extra = {**dict(recording.meta.extra),
             "excerpt": {"from_s": 0.0, "to_s": seconds, "rows_kept": kept, "rows_in_source": total}}
    return dataclasses.replace(recording, left=feet.get("left"), right=feet.get("right"),
                               meta=dataclasses.replace(recording.meta, extra=extra))


def main() -> int:
    if not (REPO.parent / "shared" / "data").is_dir():
        print("recordings/make_samples.py: ../shared/data is not beside the repository", file=sys.stderr)
        return 2
    made = {
        "gaitpdb_GaCo01_01_60s.parquet": first_seconds(insole.load(SHARED / "gaitpdb" / "GaCo01_01.txt"),
                                                       GAITPDB_EXCERPT_S),
        "gaitndd_control1.parquet": insole.load(SHARED / "gaitndd" / "control1.hea"),
        "moticon_230927_102114.parquet": insole.load(SHARED / "moticon-opengo" / "230927_102114.txt"),
    }
    for name, recording in made.items():
        path = insole.write_parquet(recording, REPO / "recordings" / name, force=True)  # regenerates the samples
        assert insole.load(path).equals(recording)
        print(f"{path.relative_to(REPO)}: {recording!r}, {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make references`: rebuild the stored reference sets with the current analysis.

    python docs/scripts/rebuild_references.py [--data ../shared/data] [--seeds 100] [--out DIR]

Re-analyses the staged real control recordings and simulates the normal cohort,
then writes one JSON file per set to ``insole/report/_data/reference_sets/``
(shipped with the package), stamped with this command, the time, the software
version and the parameters. Run it after any change to the analysis core:
``tests/test_report_real.py`` fails while the stored real set is out of date.
The files are pretty-printed with sorted keys, so ``git diff`` shows which
numbers a change of the analysis moved.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from insole.report import build_reference_sets, write_reference_sets

REPO = Path(__file__).resolve().parents[2]
STORE = REPO / "insole" / "report" / "_data" / "reference_sets"


def _default_data() -> Path:
    # the same rule as the tests (tests/_data.py): $INSOLE_SHARED_DATA, else ../shared/data beside the repo
    return Path(os.environ.get("INSOLE_SHARED_DATA") or REPO.parent / "shared" / "data")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="rebuild the stored reference sets (insole/report/_data)")
    parser.add_argument("--data", type=Path, default=_default_data(), help="the staged datasets")
    parser.add_argument("--seeds", type=int, default=100, help="simulated normal subjects per layout")
    parser.add_argument("--out", type=Path, default=STORE, help="folder of the JSON files")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"no staged data at {args.data} (set INSOLE_SHARED_DATA or pass --data)")
    built = build_reference_sets(args.data, seeds=args.seeds)
    written = write_reference_sets(built, args.out, command="make references (docs/scripts/rebuild_references.py "
                                                            f"--seeds {args.seeds})")
    for ref, path in zip(built, written):
        print(f"wrote {path} ({ref.name}: {ref.n_recordings} recordings)")


if __name__ == "__main__":
    main()

"""`make references`: rebuild the stored reference sets with the current analysis.

    python docs/scripts/rebuild_references.py [--data ../shared/data] [--seeds 100] [--out DIR] [--sets NAME ...]
    python docs/scripts/rebuild_references.py --pool-stored   # only re-pool the stored per-layout sets

Re-analyses the staged real control recordings (one set per sensor layout with
real controls: ``real-controls-gaitpdb8`` from the 37 gaitpdb + gaitpdb-cohort
controls, ``real-controls-footswitch1`` from the 9 gaitndd + gaitndd-cohort
controls, and ``real-controls-pooled``, the two together, for timing on layouts
without real controls of their own) and simulates the normal cohort, then
writes one JSON file per set to ``insole/report/_data/reference_sets/``, and the
repeatability (MDC95 of every metric and left/right index, from the 20 same-day
second trials of gaitpdb-cohort) to ``insole/report/_data/repeatability/`` (both
shipped with the package), stamped with this command, the time, the software
version and the parameters. Run it after any change to the analysis core:
``tests/test_report_real.py`` fails while the stored real set is out of date.
The files are pretty-printed with sorted keys, so ``git diff`` shows which
numbers a change of the analysis moved.

A control walk another staged recording repeats byte for byte is left out
(``insole.report._reference.without_staged_copies``): under another group label
it counts as neither (gaitpdb-cohort JuCo26_01, a control, is JuPt01_01, a person
with Parkinson's), under the same label once. Each set's provenance
(``left_out``) and description name it and say why.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from insole.report import build_reference_sets, write_reference_sets
from insole.report._reference import (
    REPEATABILITY_SOURCES,
    build_repeatability,
    load_reference_sets,
    pool_real_controls,
    write_repeatability,
)

REPO = Path(__file__).resolve().parents[2]
STORE = REPO / "insole" / "report" / "_data" / "reference_sets"
REPEATABILITY = REPO / "insole" / "report" / "_data" / "repeatability"


def _default_data() -> Path:
    # the same rule as the tests (tests/_data.py): $INSOLE_SHARED_DATA, else ../shared/data beside the repo
    return Path(os.environ.get("INSOLE_SHARED_DATA") or REPO.parent / "shared" / "data")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="rebuild the stored reference sets (insole/report/_data)")
    parser.add_argument("--data", type=Path, default=_default_data(), help="the staged datasets")
    parser.add_argument("--seeds", type=int, default=100, help="simulated normal subjects per layout")
    parser.add_argument("--out", type=Path, default=STORE, help="folder of the JSON files")
    parser.add_argument("--sets", nargs="*", default=None, help="write only these sets (names), e.g. "
                                                               "real-controls-gaitpdb8 real-controls-footswitch1; "
                                                               "'repeatability' for the MDC95 files")
    parser.add_argument("--repeatability-out", type=Path, default=REPEATABILITY,
                        help="folder of the repeatability (MDC95) files")
    parser.add_argument("--pool-stored", action="store_true",
                        help="only write real-controls-pooled from the stored per-layout real sets (no analysis)")
    args = parser.parse_args(argv)
    if args.pool_stored:
        pooled = pool_real_controls(load_reference_sets())
        (path,) = write_reference_sets([pooled], args.out, command="make references (docs/scripts/"
                                                                    "rebuild_references.py --pool-stored)")
        print(f"wrote {path} ({pooled.name}: {pooled.n_recordings} recordings)")
        return
    if not args.data.is_dir():
        parser.error(f"no staged data at {args.data} (set INSOLE_SHARED_DATA or pass --data)")
    # simulate only when a simulated set is asked for (the real sets do not depend on --seeds)
    simulated = args.sets is None or any(name.startswith("simulated-") for name in args.sets)
    built = build_reference_sets(args.data, seeds=args.seeds, **({} if simulated else {"layouts": ()}))
    if args.sets:
        unknown = set(args.sets) - {ref.name for ref in built} - {"repeatability"}
        if unknown:
            parser.error(f"no such reference set: {', '.join(sorted(unknown))}")
        built = tuple(ref for ref in built if ref.name in args.sets)
    command = ("make references (docs/scripts/rebuild_references.py"
               + (f" --seeds {args.seeds}" if simulated else "")
               + (f" --sets {' '.join(args.sets)}" if args.sets else "") + ")")
    written = write_reference_sets(built, args.out, command=command)
    for ref, path in zip(built, written):
        print(f"wrote {path} ({ref.name}: {ref.n_recordings} recordings)")
    if args.sets is None or "repeatability" in args.sets:
        # the minimal detectable change of every metric, from the same-day second trials
        for layout in REPEATABILITY_SOURCES:
            document = build_repeatability(args.data, layout)
            path = write_repeatability(document, args.repeatability_out,
                                       command="make references (docs/scripts/rebuild_references.py)")
            print(f"wrote {path} (repeatability of {layout}: {document['n_pairs']} same-day pairs)")


if __name__ == "__main__":
    main()

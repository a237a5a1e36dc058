"""Maintenance command: rebuild the stored reference sets in ``_reference_data.py``.

``python -m insole.report._rebuild [--data ../shared/data] [--seeds 100]`` re-analyses the staged real
control recordings and simulates the normal cohort with the current analysis, then writes the module with
the software version and parameters that made it. Run it after any change to the analysis core;
``tests/test_report_real.py`` fails while the stored real set is out of date.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from insole.report._reference import (
    SIMULATED_LAYOUTS,
    build_real_controls,
    build_simulated_normal,
    write_reference_module,
)


def main() -> None:
    parser = argparse.ArgumentParser(description="rebuild insole/report/_reference_data.py")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    parser.add_argument("--seeds", type=int, default=100, help="simulated normal subjects per layout")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("_reference_data.py"))
    args = parser.parse_args()
    built = [build_real_controls(args.data)]
    built += [build_simulated_normal(layout, tuple(range(10_000, 10_000 + args.seeds))) for layout in SIMULATED_LAYOUTS]
    write_reference_module(built, args.out)
    print(f"wrote {args.out}: " + ", ".join(f"{s.name} ({s.n_recordings})" for s in built))


if __name__ == "__main__":
    main()

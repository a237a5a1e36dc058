"""``insole dashboard PATH --out FILE.html``: the interactive offline dashboard of one session.

One self-contained HTML file (plotly.js, scripts and data inside; no network
needed): load curves with events, a pressure-map player over the whole
session, peak/mean/pressure-time-integral maps, strides, stance curves, centre
of pressure, left/right comparison, data quality and provenance.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from insole._cli._arguments import add_recording_command
from insole._errors import require_extra
from insole.io import formats, load

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_recording_command(
        subparsers,
        "dashboard",
        help="interactive offline dashboard of a session (one self-contained HTML file)",
        description=(
            "Write the interactive dashboard of a recording as one HTML file that opens in any browser with no "
            "network: load curves with heel strikes, toe offs, gaps and marks; a pressure-map player over the "
            "whole session; peak, mean and pressure-time-integral maps; strides; stance curves (mean +/- SD); "
            "centre of pressure; left/right comparison; data quality and provenance."
        ),
        example="insole dashboard recordings/moticon_230927_102114.parquet --out walk.html",
    )
    parser.add_argument("--out", type=Path, default=None, help="HTML file to write (default: PATH with .html)")
    parser.add_argument("--format", choices=sorted(formats()), help="force the input format instead of detecting it")
    parser.add_argument("--title", default=None, help="title shown on the page (default: Session dashboard)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_extra("dashboards")
    from dashboards import write_dashboard

    started = time.perf_counter()
    recording = load(args.path, args.format)  # a bad input file is reported first, by name
    out = args.out or args.path.with_suffix(".html")
    if out.exists() and out.is_dir():
        print(f"insole dashboard: error: {out}: is a directory; give a file name with --out", file=sys.stderr)
        return 2
    if not out.parent.exists():
        print(f"insole dashboard: error: {out.parent}: no such folder", file=sys.stderr)
        return 2
    from dashboards import DashboardParams

    write_dashboard(recording, out, source=args.path.name, params=DashboardParams(title=args.title))
    size_mb = out.stat().st_size / 1e6
    print(f"insole dashboard: wrote {out} ({size_mb:.1f} MB, {time.perf_counter() - started:.1f} s)")
    return 0

"""``insole dashboard PATH [--out FILE.html]``: the interactive offline dashboard of one session.

One self-contained HTML file (plotly.js, scripts and data inside; no network
needed): load curves with events, a pressure-map player over the whole
session, peak/mean/pressure-time-integral maps, strides, stance curves, centre
of pressure, left/right comparison, data quality and provenance. Without
``--out`` the page is the recording's name with ``.html`` in the current
folder (not beside the recording, whose folder may be shared or read-only),
and the output line gives its full path.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from insole._cli._arguments import FormatChoices, add_recording_command, check_body_mass_kg
from insole._cli._outputs import add_force_option, check_outputs
from insole._errors import InputError, RecordingError, require_extra

__all__ = ["add_parser"]

# The force figures of the page are in body weights whenever the insoles are calibrated (the stride table, the
# left/right table and the stance curves, one rule: dashboards._offline._in_body_weights); the mass sets that weight.
DASHBOARD_MASS_KG_HELP = (
    "body mass in kg, above 0 and below 500, overriding the recording's own: the page's force figures (stance "
    "curves, left/right table, stride table) are in body weights (BW), mass x g. Without any mass (none given, none "
    "in the recording's metadata, which for a gaitpdb or gaitndd text file is the subject table beside it) the body "
    "weight is the walk's own load (the mean vertical force of both feet over complete strides); the note under "
    "the stance curves says which. Uncalibrated insoles (au) use no mass"
)


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
    parser.add_argument("--out", type=Path, default=None,
                        help="HTML file to write (default: the recording's name with .html, in the current folder, "
                             "not beside the recording)")
    parser.add_argument("--format", choices=FormatChoices(), metavar="FORMAT",
                        help="force an input format instead of detecting it: %(choices)s")
    parser.add_argument("--map", type=Path, metavar="MAPPING",
                        help="column mapping (TOML or JSON) for a generic CSV/TSV file (docs/generic-csv.md)")
    parser.add_argument("--mass-kg", type=float, metavar="M", help=DASHBOARD_MASS_KG_HELP)
    parser.add_argument("--title", default=None, help="title shown on the page (default: Session dashboard)")
    add_force_option(parser, help="replace the HTML file if it already exists (without it the command stops "
                                  "before any work); never the recording itself")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # by default here, not beside the recording: recordings often sit in a shared or read-only data folder
    out = args.out or Path(args.path.name).with_suffix(".html")
    check_outputs([out], force=args.force, inputs=[args.path, args.map])
    require_extra("dashboards")
    from dashboards import DashboardParams, write_dashboard
    from insole._cli._convert import open_input

    check_body_mass_kg(args.mass_kg)  # the option's fault, not the file's
    started = time.perf_counter()
    recording = open_input(args.path, args.format, args.map)  # a bad input file is reported first, by name
    if args.mass_kg is not None:
        try:
            recording = recording.with_meta(body_mass_kg=args.mass_kg)
        except RecordingError as error:
            raise InputError(args.path, str(error)) from None
    write_dashboard(recording, out, source=args.path.name, params=DashboardParams(title=args.title), force=args.force)
    size_mb = out.stat().st_size / 1e6
    where = out if args.out is not None else out.absolute()  # a default name says which folder it went to
    print(f"insole dashboard: wrote {where} ({size_mb:.1f} MB, {time.perf_counter() - started:.1f} s)")
    return 0

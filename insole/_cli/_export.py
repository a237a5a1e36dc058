"""``insole export PATH --to bids|c3d|tables --out DIR``: research formats out.

* ``bids``: a BIDS-motion dataset (pressures as MISC channels, one tracking
  system per insole; docs/formats.md);
* ``c3d``: ``<stem>.c3d`` with every channel as an analog (ezc3d);
* ``tables``: the analysis' per-stride and summary tables (when the analysis
  core is installed) and the footprint table (peak pressure, pressure-time
  integral, contact area, arch index per region), each as CSV and Parquet,
  with ``tables.json`` saying how they were made.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from insole._cli._arguments import add_recording_command
from insole.io import formats, load

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_recording_command(
        subparsers,
        "export",
        help="write a recording as BIDS-motion, C3D analogs, or result tables (CSV + Parquet)",
        description=(
            "Export a recording (any supported input) to a research format: a BIDS-motion dataset, a C3D "
            "file with every channel as an analog, or the per-stride, summary and footprint tables as CSV "
            "and Parquet."
        ),
        example="insole export recordings/gaitpdb_GaCo01_01_60s.parquet --to bids --out exports/bids",
    )
    parser.add_argument("--to", required=True, choices=("bids", "c3d", "tables"), help="output format")
    parser.add_argument("--out", required=True, type=Path, help="output directory (created if missing)")
    parser.add_argument("--format", choices=sorted(formats()), help="force an input format instead of detecting it")
    bids = parser.add_argument_group("BIDS labels")
    bids.add_argument("--subject", help="participant label (default: the recording's subject id, else 01)")
    bids.add_argument("--session", help="session label (default: none)")
    bids.add_argument("--task", default="walk", help="task label (default: walk)")
    bids.add_argument("--run", type=int, help="run index (default: none)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    recording = load(args.path, args.format)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.to == "bids":
        from insole.io import BidsExportParams, write_bids

        params = BidsExportParams(subject=args.subject, session=args.session, task=args.task, run=args.run)
        written = write_bids(recording, out, params, input_path=args.path)
    elif args.to == "c3d":
        from insole.io import write_c3d

        written = [write_c3d(recording, out / f"{args.path.stem}.c3d")]
    else:
        written = _tables(recording, args.path, out)
    for path in written:
        sys.stdout.write(f"{path}\n")
    return 0


def _tables(recording: Any, path: Path, out: Path) -> list[Path]:
    from insole.analysis import analyze
    from insole.io import analysis_tables, footprint_table, write_tables

    tables = {"footprint": footprint_table(recording)}
    analysis = analyze(recording)
    tables.update(analysis_tables(analysis))
    provenance: dict[str, Any] = {"input": str(path), "source": dict(recording.meta.source or {}),
                                  "analysis": {"params": analysis.params.to_dict()}}
    return write_tables(tables, out, provenance=provenance)

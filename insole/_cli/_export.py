"""``insole export PATH --to bids|c3d|tables --out DIR``: research formats out.

* ``bids``: a BIDS-motion dataset (pressures as MISC channels, one tracking
  system per insole; docs/formats.md);
* ``c3d``: ``<stem>.c3d`` (or the --out given, when it ends in ``.c3d``) with
  every channel as an analog (ezc3d); a line on stderr says when the EVENT
  group could not hold every gait event;
* ``tables``: the analysis' per-stride and summary tables (when the analysis
  core is installed) and the footprint table (peak pressure, pressure-time
  integral, contact area, arch index per region), each as CSV and Parquet,
  with ``tables.json`` saying how they were made.

The output policy of every command (``insole._output``): an existing file is
refused unless ``--force``, the command's input even with it; files appear
whole or not at all. A BIDS dataset is extended, never rewritten: a label
that would merge two people, or a run of another source, is refused
(docs/exports.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from insole._cli import UsageError
from insole._cli._arguments import FormatChoices, add_examples_command
from insole._errors import InputError, OutputError
from insole._output import check_target

__all__ = ["add_parser", "run"]

_FIRST_TABLES = ("footprint.csv", "footprint.parquet", "tables.json")  # every tables export writes these


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "export",
        help="write a recording as BIDS-motion, C3D analogs, or result tables (CSV + Parquet)",
        description=(
            "Export a recording (any supported input) to a research format: a BIDS-motion dataset, a C3D "
            "file with every channel as an analog, or the per-stride, summary and footprint tables as CSV "
            "and Parquet."
        ),
        examples=(
            "insole export recordings/gaitpdb_GaCo01_01_60s.parquet --to bids --out exports/bids",
            "insole export walk.parquet --to bids --out study --subject P07 --session 2 --task walk --run 1",
            "insole export walk.parquet --to c3d --out walk.c3d",
            "insole export walk.parquet --to tables --out walk-tables",
            "insole export lab.csv --map lab.map.toml --to tables --out lab-tables",
        ),
        after="What each format holds and how a BIDS dataset is extended: docs/exports.md.",
    )
    parser.add_argument("path", type=Path, help="recording file (any supported format)")
    parser.add_argument("--to", required=True, choices=("bids", "c3d", "tables"), help="output format")
    parser.add_argument("--out", required=True, type=Path,
                        help="output folder (created if missing; its parent must exist); a BIDS dataset is "
                             "extended; with --to c3d, a name ending in .c3d is the file itself")
    parser.add_argument("--force", action="store_true",
                        help="replace existing files (a BIDS run only with a new export of the same source file)")
    parser.add_argument("--format", choices=FormatChoices(), metavar="FORMAT",
                        help="force an input format instead of detecting it: %(choices)s")
    parser.add_argument("--map", type=Path, metavar="MAPPING",
                        help="column mapping (TOML or JSON) for a generic CSV/TSV file (docs/generic-csv.md); "
                             "never written over, even with --force")
    bids = parser.add_argument_group("BIDS labels")
    bids.add_argument("--subject", help="participant label, letters and digits (default: the recording's subject id "
                                        "reduced to letters and digits, else 01)")
    bids.add_argument("--session", help="session label, letters and digits (default: none)")
    bids.add_argument("--task", default="walk", help="task label, letters and digits (default: walk)")
    bids.add_argument("--run", type=int, help="run index, a positive integer (default: none)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inputs = [p for p in (args.path, args.map) if p is not None]  # never written over, even with --force
    params = None
    if args.to == "bids":
        from insole.io import BidsExportParams

        try:
            params = BidsExportParams(subject=args.subject, session=args.session, task=args.task, run=args.run)
        except ValueError as error:
            raise UsageError(str(error)) from None
    if args.to == "c3d" and args.out.suffix.lower() == ".c3d" and not args.out.is_dir():
        # an --out ending in .c3d names the file itself (issue 20: it used to become a folder)
        target: Path | None = check_target(args.out, force=args.force, inputs=inputs)
        out = args.out.parent
    else:
        out = check_target(args.out, folder=True, inputs=inputs)
        target = out / f"{args.path.stem}.c3d" if args.to == "c3d" else None
    # refuse what can be refused before the recording is read and analysed
    first = [target] if target is not None else [out / n for n in _FIRST_TABLES] if args.to == "tables" else []
    for path in first if out.is_dir() else ():
        check_target(path, force=args.force, inputs=inputs)
    from insole._cli._convert import open_input  # the readers load here, not for --help

    try:
        recording = open_input(args.path, args.format, args.map)
    except OSError as error:  # the importers' own errors are InputErrors; this is the file system's
        raise InputError(args.path, f"cannot be read ({error.strerror or error})") from None
    try:
        out.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(out, f"cannot be created ({error.strerror or error})") from None
    try:
        written = _write(args, recording, out, params, target, inputs)
    except OSError as error:  # the file system refused mid-way (full disk, a mount turned read-only)
        where = error.filename or out
        raise OutputError(where, f"cannot be written ({error.strerror or error})") from None
    for path in written:
        sys.stdout.write(f"{path}\n")
    return 0


def _write(args: argparse.Namespace, recording: Any, out: Path, params: Any, target: Path | None,
           inputs: list[Path]) -> list[Path]:
    if args.to == "bids":
        from insole.io import write_bids

        return write_bids(recording, out, params, input_path=args.path, force=args.force, inputs=inputs)
    if args.to == "c3d":
        from insole.io import c3d_events_note, write_c3d

        assert target is not None
        path = write_c3d(recording, target, force=args.force, inputs=inputs)
        note = c3d_events_note(path)
        if note is not None:
            sys.stderr.write(note + "\n")
        return [path]
    return _tables(recording, args.path, out, force=args.force, inputs=inputs)


def _tables(recording: Any, path: Path, out: Path, *, force: bool, inputs: list[Path]) -> list[Path]:
    from insole.analysis import analyze
    from insole.io import analysis_tables, footprint_table, write_tables

    tables = {"footprint": footprint_table(recording)}
    analysis = analyze(recording)
    tables.update(analysis_tables(analysis))
    provenance: dict[str, Any] = {"input": str(path), "source": dict(recording.meta.source or {}),
                                  "analysis": {"params": analysis.params.to_dict()}}
    return write_tables(tables, out, provenance=provenance, force=force, inputs=inputs)

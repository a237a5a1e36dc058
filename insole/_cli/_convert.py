"""``insole convert PATH --to csv|parquet --out OUT``: any supported file to our Parquet or to CSV."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import TYPE_CHECKING

from insole._cli._arguments import FormatChoices, add_examples_command
from insole._cli._outputs import add_force_option, check_outputs, write_recording

if TYPE_CHECKING:  # the readers (insole.io, pyarrow) are imported when the command runs, not for its --help
    from insole._recording import Recording

__all__ = ["add_parser", "described", "open_input"]

_SUFFIX = {"parquet": ".parquet", "csv": ".csv"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "convert",
        help="convert any supported file to our Parquet format or to CSV",
        description=(
            "Import a recording (any supported format, detected by content) and write it as our Parquet "
            "recording (docs/recording-format.md) or as CSV (one row per sample, both feet) with the metadata "
            "in a sidecar file named after the CSV plus .json (walk.csv -> walk.csv.json)."
        ),
        examples=(
            "insole convert recordings/gaitpdb_GaCo01_01_60s.parquet --to csv --out GaCo01_01.csv",
            "insole convert walk.parquet --to csv --out walk.csv",
            "insole convert lab.csv --map lab.map.toml --to parquet --out lab.parquet",
        ),
    )
    parser.add_argument("path", type=Path, help="input recording (any supported format)")
    parser.add_argument("--to", choices=sorted(_SUFFIX), required=True, help="output format")
    parser.add_argument("--out", type=Path, help="output file (default: the input's name with the new suffix, here)")
    parser.add_argument("--format", choices=FormatChoices(), metavar="FORMAT",
                        help="force an input format instead of detecting it: %(choices)s")
    parser.add_argument(
        "--map", type=Path, metavar="MAPPING",
        help="column mapping (TOML or JSON) for a generic CSV/TSV file (docs/generic-csv.md)",
    )
    add_force_option(parser, help="replace OUT (and, for CSV, its sidecar OUT.json) if it already exists; never "
                                  "the input file or the mapping")
    parser.set_defaults(func=run)


def open_input(path: Path, format: str | None, mapping: Path | None) -> Recording:
    """Load ``path``; with a mapping, through the generic CSV importer."""
    from insole.io import load, load_with_mapping

    if mapping is not None:
        return load_with_mapping(path, mapping)
    return load(path, format)


def described(recording: Recording) -> str:
    """A recording in words: ``10.1 s at 100 Hz, layout moticon16, unit kPa, left 1007 and right 1007 samples``."""
    feet = " and ".join(f"{side} {recording.samples(side).n_samples}" for side in recording.sides)
    return (f"{recording.duration_s:.1f} s at {recording.sample_rate_hz:g} Hz, layout {recording.layout.name}, "
            f"unit {recording.unit}, {feet} samples")


def run(args: argparse.Namespace) -> int:
    out = args.out or Path(args.path.name).with_suffix(_SUFFIX[args.to])
    inputs = [args.path, args.map]
    if args.to == "csv":  # the CSV and its .json sidecar, both checked before the input is read
        check_outputs([out, out.with_name(out.name + ".json")], force=args.force, inputs=inputs)
    else:
        check_outputs([out], force=args.force, inputs=inputs)
    recording = open_input(args.path, args.format, args.map)
    if args.to == "parquet":
        write_recording(recording, out, force=args.force)
        print(f"wrote {out}: {described(recording)}")
    else:
        from insole.io import write_csv  # pandas, only when writing CSV

        # the sidecar names the CSV file, so write_csv writes under the final name itself
        if "force" in inspect.signature(write_csv).parameters:
            csv_path, sidecar = write_csv(recording, out, force=args.force)
        else:
            csv_path, sidecar = write_csv(recording, out)
        print(f"wrote {csv_path} and {sidecar.name}: {described(recording)}")
    return 0

"""``insole recover PATH.arrows``: turn a capture stream (complete or cut by a crash) into our Parquet file."""

from __future__ import annotations

import argparse
from pathlib import Path

from insole._cli._outputs import add_force_option, check_outputs
from insole._errors import InputError

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recover",
        help="turn a capture stream cut by a crash into a Parquet recording",
        description=(
            "Read a capture stream (.arrows, with its .arrows.json sidecar) up to its last complete "
            "batch and write the Parquet recording. The stream is removed only after the Parquet file "
            "has been written and read back with the same number of rows (keep it with --keep-stream)."
        ),
        epilog="example: insole recover session.arrows --out session.parquet",
    )
    parser.add_argument("path", type=Path, help="capture stream (.arrows)")
    parser.add_argument("--out", type=Path, help="Parquet file to write (default: beside the stream, .parquet)")
    parser.add_argument("--keep-stream", action="store_true", help="keep the stream and its sidecar afterwards")
    add_force_option(parser, help="replace the Parquet file if it already exists (without it the command "
                                  "stops and the stream stays); never the stream or its sidecar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from insole.io import default_parquet_path, read_parquet, read_stream, recover  # here, not for --help

    out = args.out or default_parquet_path(args.path)
    if not args.path.exists():
        raise InputError(args.path, "no such file")
    if args.path.suffix != ".arrows":  # most likely not a stream at all: say that first
        read_stream(args.path)
    # an existing Parquet file of that name may be another session: refused before anything is read or removed
    sidecar = args.path.with_name(args.path.name + ".json")
    # the sidecar is an input only when there is one: a stream without it is still recovered (quality unknown)
    check_outputs([out], force=args.force, inputs=[args.path, sidecar if sidecar.exists() else None])
    _, facts = read_stream(args.path)  # fails with one clear line if this is not a capture stream
    written = recover(args.path, out, keep_stream=args.keep_stream, force=args.force)
    recording = read_parquet(written)
    feet = ", ".join(f"{side} {n} sample{'' if n == 1 else 's'}" for side in recording.sides
                     for n in [recording.samples(side).n_samples])
    ending = (
        "ended in a partial batch (writer stopped mid-write); that batch is lost" if facts["truncated"] else "complete"
    )
    print(f"wrote {written}: {facts['rows']} rows from {facts['batches']} batches ({feet}); stream {ending}")
    if not args.path.exists():
        print(f"removed {args.path}" + (" and its sidecar" if not sidecar.exists() else ""))
    elif not args.keep_stream:
        print(f"kept {args.path}: its sidecar is missing or damaged, so the capture quality is marked unknown")
    return 0

"""``insole batch PATH... --out cohort.parquet``: every recording under folders or globs, one row each.

Exit codes: 0 every recording analysed; 1 the batch ran but some recordings
failed (they are in the errors table; when every one failed, only the errors
table is written); 2 bad input, nothing written (a folder, file or glob that
names nothing, nothing to analyse, an output that exists without --force, an
output that is a recording even with --force, an unwritable output,
unreadable parameters).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from insole._cli._arguments import add_examples_command
from insole._cli._outputs import printable
from insole._errors import AnalysisError, InputError, require_extra
from insole._output import check_target

if TYPE_CHECKING:  # the analysis pulls in scipy and pandas: imported when the command runs
    from insole.analysis import AnalysisParams

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "batch",
        help="analyse every recording under folders/globs into one cohort table (local processes or Dask)",
        description=(
            "Analyse every supported recording found under the given folders, files or globs (formats are "
            "recognised by content) and write one row per recording: identity, metadata, data quality, the "
            "summary metrics and the clinical findings with their confidence. A recording that fails is "
            "listed with its reason in the errors table (<out>.errors.csv) and the batch goes on. Finished "
            "rows are cached by file content and parameters, so a re-run only analyses what changed. "
            "Runs on local processes, or on a Dask cluster with --scheduler. See docs/batch.md."
        ),
        examples=(
            "insole batch recordings --out cohort.parquet",
            "insole batch 'study/**/*.parquet' --out cohort.parquet --strides --workers 2",
            "insole batch /shared/study --out cohort.parquet --scheduler tcp://10.0.0.5:8786",
        ),
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="recording files, folders (searched recursively) or globs"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="COHORT.parquet", help="the cohort table to write")
    parser.add_argument("--strides", action="store_true", help="also write every stride (<out>.strides.parquet)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes (default: the number of CPUs; also the size of --scheduler local)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT|local",
                        help="run on an existing Dask cluster, or 'local' to start a Dask LocalCluster")
    parser.add_argument("--force", action="store_true",
                        help="replace the tables if they exist (without it an existing table is an error; "
                             "a recording is never replaced)")
    parser.add_argument("--refresh", action="store_true",
                        help="analyse everything again, ignoring cached rows (the fresh rows replace them)")
    parser.add_argument("--cache", type=Path, metavar="DIR",
                        help="cache folder (default: .insole-cache beside the output)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--no-findings", action="store_true", help="skip the clinical findings columns")
    parser.add_argument("--params", type=Path, metavar="PARAMS.json",
                        help="analysis parameters as JSON (AnalysisParams field names; the rest default)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _params(path: Path | None) -> AnalysisParams:
    from insole.analysis import AnalysisParams

    if path is None:
        return AnalysisParams()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror})") from None
    except ValueError as error:
        raise InputError(path, f"is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise InputError(path, "must hold a JSON object of AnalysisParams fields")
    try:
        return AnalysisParams.from_dict(data)
    except (AnalysisError, TypeError) as error:
        raise InputError(path, str(error)) from None


def run(args: argparse.Namespace) -> int:
    require_extra("batch")
    from insole.batch import (
        EngineError,
        EngineSpec,
        output_paths,
        refuse_missing_inputs,
        refuse_recording,
        run_batch,
    )

    if args.workers is not None and args.workers < 1:
        raise InputError(args.out, f"--workers must be at least 1, not {args.workers}")
    if args.scheduler is not None and args.scheduler != "local" and "://" not in args.scheduler:
        raise InputError(
            args.out, f"--scheduler must be 'local' or an address like tcp://HOST:PORT, not {args.scheduler!r}"
        )
    refuse_missing_inputs(args.paths)  # a typo in a folder or glob: one line, before anything else is checked
    params = _params(args.params)
    cache: Path | bool = False if args.no_cache else (args.cache if args.cache is not None else True)
    engine = EngineSpec(workers=args.workers, scheduler=args.scheduler)
    named = [Path(p) for p in args.paths if Path(p).is_file()]
    inputs = [*named, args.params] if args.params is not None else named
    for path in output_paths(args.out, args.strides).values():  # before any work, never over an input or --params
        refuse_recording(path, inputs)  # a recording is never overwritten, --force or not
        check_target(path, force=args.force, inputs=inputs)
    try:
        result = run_batch(
            args.paths, args.out, params=params, engine=engine, strides=args.strides,
            findings=not args.no_findings, force=args.force, refresh=args.refresh, cache=cache,
            progress=not args.quiet,
        )
    except EngineError as error:
        print(f"insole batch: error: {printable(str(error))}", file=sys.stderr)
        return 2
    except PermissionError as error:  # anything the checks before could not foresee
        raise InputError(error.filename or args.out, f"cannot be used ({error.strerror or error})") from None
    print(f"insole batch: {printable(result.summary_line())}", file=sys.stderr)
    for note in result.notes:
        print(f"  note: {printable(note)}", file=sys.stderr)
    if len(result.errors):
        shown = result.errors.head(5)
        for _, failure in shown.iterrows():  # file names and reasons come from the files: escaped for the terminal
            print(f"  failed: {printable(failure['path'])}: {printable(failure['reason'])}", file=sys.stderr)
        if len(result.errors) > len(shown):
            print(f"  ... and {len(result.errors) - len(shown)} more in {result.paths['errors']}", file=sys.stderr)
        return 1
    return 0

"""``insole cohort COHORT.parquet --group-by COLUMN --out cohort.html``: compare groups of recordings.

The page and the JSON follow the output policy of every command
(``insole._output``): an existing file is refused unless ``--force``, the
command's inputs (the cohort table, the --groups table) even with it; each
file appears whole or not at all.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from insole._cli._arguments import add_examples_command
from insole._errors import InputError, OutputError, require_extra
from insole._output import atomic_write, check_target

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "cohort",
        help="compare groups of a batch's recordings: distributions, effect sizes with CIs, findings per group",
        description=(
            "Compare groups of recordings from a cohort table written by 'insole batch': the distribution of "
            "every key metric (stride-time variability, cadence, stance, symmetry, loading) per group, effect "
            "sizes against a reference group (Hedges' g with an analytic CI, Cliff's delta with a seeded "
            "bootstrap CI) and the share of recordings with each clinical finding. Writes one self-contained "
            "HTML page (no network needed to open it). Group labels can come from the table itself (e.g. the "
            "'group' the importers fill in) or from a CSV/TSV joined on the recording or subject id."
        ),
        examples=(
            "insole cohort cohort.parquet --group-by group --out cohort.html",
            "insole cohort cohort.parquet --groups subjects.csv --on ID --group-by Group --reference 2 \\",
            "    --out study.html",
        ),
    )
    parser.add_argument("cohort", type=Path, help="cohort table (Parquet) written by 'insole batch'")
    parser.add_argument("--group-by", required=True, metavar="COLUMN", help="the column whose values are the groups")
    parser.add_argument("--out", required=True, type=Path, metavar="COHORT.html", help="the HTML page to write")
    parser.add_argument("--groups", type=Path, metavar="FILE.csv|tsv",
                        help="a table of labels per recording or subject to join to the cohort")
    parser.add_argument("--on", metavar="ID-COLUMN",
                        help="the --groups column holding the ids (default: its first column)")
    parser.add_argument("--key", choices=("recording_id", "subject_id"),
                        help="the cohort column the ids match (default: whichever matches more)")
    parser.add_argument("--reference", metavar="GROUP",
                        help="the group the others are compared with (default: a 'control' group, else the first)")
    parser.add_argument("--metrics", metavar="COL,COL", help="more cohort columns to compare, comma-separated")
    parser.add_argument("--bootstrap", type=int, default=2000, metavar="N", help="bootstrap resamples (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--json", type=Path, metavar="OUT.json",
                        help="also write the comparison as JSON (a number that is not finite is null)")
    parser.add_argument("--force", action="store_true", help="replace --out and --json if they exist")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_extra("batch", "plotly")  # the comparison page's figures
    from insole.batch import CohortParams, cohort_page, compare_cohort, join_groups, read_cohort, read_groups

    if args.on and not args.groups:
        raise InputError(args.cohort, "--on names a column of the --groups table; give --groups too")
    inputs = [p for p in (args.cohort, args.groups) if p is not None]
    for out in (args.out, args.json):
        if out is not None:
            check_target(out, force=args.force, inputs=inputs)
    if args.json is not None and args.json.resolve() == args.out.resolve():
        raise InputError(args.json, "--json and --out name the same file")
    cohort, provenance = read_cohort(args.cohort)
    provenance = {**provenance, "source": str(args.cohort)}
    join = None
    if args.groups:
        cohort, join = join_groups(cohort, read_groups(args.groups), path=args.groups, on=args.on, key=args.key)
    extra = tuple(m.strip() for m in (args.metrics or "").split(",") if m.strip())
    try:
        params = CohortParams(group_by=args.group_by, reference=args.reference, extra_metrics=extra,
                              bootstrap=args.bootstrap, seed=args.seed)
        comparison = compare_cohort(cohort, params, provenance=provenance, join=join)
    except ValueError as error:
        raise InputError(args.cohort, str(error)) from None
    page = cohort_page(comparison)
    data = json.dumps(comparison.to_dict(), indent=1, allow_nan=False) + "\n" if args.json else None
    _write(args.out, page, force=args.force)
    if args.json and data is not None:
        _write(args.json, data, force=args.force)
    sys.stdout.write(summary_text(comparison))
    print(f"insole cohort: page written to {args.out}" + (f"; JSON to {args.json}" if args.json else ""),
          file=sys.stderr)
    return 0


def _write(path: Path, text: str, *, force: bool) -> None:
    try:
        with atomic_write(path, "w", force=force) as handle:
            handle.write(text)
    except OSError as error:
        raise OutputError(path, f"cannot be written ({error.strerror or error})") from None


def _f(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, float) and math.isfinite(value) else "-"


def summary_text(comparison) -> str:  # noqa: ANN001 - CohortComparison
    """Medians per group and the effect sizes, one metric per line."""
    lines = [
        f"Groups by {comparison.params.group_by}: "
        + ", ".join(f"{g} (n={comparison.group_sizes[g]})" for g in comparison.groups)
        + f"; reference {comparison.reference}",
    ]
    lines += [f"  note: {note}" for note in comparison.notes]
    stats = comparison.stats.set_index(["metric", "group"])
    effects = comparison.effects.set_index(["metric", "group"]) if not comparison.effects.empty else None
    for spec in comparison.metrics:
        cells = []
        for group in comparison.groups:
            median = stats.loc[(spec.column, group), "median"]
            cell = f"{group} {_f(float(median))}"
            if effects is not None and group != comparison.reference and (spec.column, group) in effects.index:
                e = effects.loc[(spec.column, group)]
                cell += (f" (g {_f(float(e['hedges_g']))} [{_f(float(e['hedges_g_ci_low']))}, "
                         f"{_f(float(e['hedges_g_ci_high']))}], delta {_f(float(e['cliffs_delta']))} "
                         f"[{_f(float(e['cliffs_delta_ci_low']))}, {_f(float(e['cliffs_delta_ci_high']))}])")
            cells.append(cell)
        lines.append(f"  {spec.label} ({spec.unit}), median: " + "; ".join(cells))
    return "\n".join(lines) + "\n"

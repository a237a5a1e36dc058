"""``insole report PATH``: the clinical report of a recording, as one offline HTML page (and JSON, PDF)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from insole._cli._arguments import MASS_KG_HELP, FormatChoices, check_body_mass_kg
from insole._cli._outputs import add_force_option, check_outputs, printable
from insole._errors import InputError, RecordingError, require_extra

__all__ = ["add_parser", "run"]

_EXAMPLE = """\
examples:
  insole report walk.parquet --out walk-report.html
  insole report after.parquet --baseline before.parquet --out change.html --json change.json --pdf change.pdf
  insole report recordings/gaitpdb_GaCo01_01_60s.parquet --mass-kg 83 --out gaco01.html
  insole report lab.csv --map lab.map.toml --out lab.html

What the findings mean, how each is decided and where the evidence comes from:
docs/report.md. The page works offline (plotly is embedded) and is not a diagnosis.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="evidence-graded foot-loading report: findings, reference ranges, kinetic chain (HTML, JSON, PDF)",
        description=textwrap.fill(
            "Analyse a recording and write a self-contained HTML report: data quality, key numbers with reference "
            "ranges, findings with evidence grades and references, left/right comparison, force curves, COP, "
            "regional load maps and a methods paragraph."),
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", type=Path, help="recording file (any supported format)")
    parser.add_argument("--baseline", type=Path, metavar="PATH", help="an earlier recording to compare with")
    parser.add_argument("--out", type=Path, required=True, metavar="HTML", help="the HTML page to write")
    parser.add_argument("--json", type=Path, metavar="JSON", help="also write the findings and summary as JSON")
    parser.add_argument("--pdf", type=Path, metavar="PDF", help="also print the page to PDF (headless Chromium)")
    parser.add_argument("--mass-kg", type=float, metavar="M", help=MASS_KG_HELP)
    parser.add_argument("--format", choices=FormatChoices(), metavar="FORMAT",
                        help="force the input format instead of detecting it (the baseline's too): %(choices)s")
    parser.add_argument("--map", type=Path, metavar="MAPPING",
                        help="column mapping (TOML or JSON) for a generic CSV/TSV file (docs/generic-csv.md); "
                             "the baseline is read with it too")
    parser.add_argument("--note", metavar="TEXT", help="a note shown in the session header (as plain text)")
    add_force_option(parser, help="replace the HTML, JSON or PDF file if it already exists (without it the command "
                                  "stops before any work); never the recording or the baseline")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    outputs = check_outputs((args.out, args.json, args.pdf), force=args.force,
                            inputs=(args.path, args.baseline, args.map))
    require_extra("report")
    from insole.report import discard_prestarted_pdf, prestart_pdf, write_report

    check_body_mass_kg(args.mass_kg)  # the option's fault, named as such (not the file's)
    # Chromium starts (about half a second) while the recording is read and analysed, and prints the page once it
    # is written (insole/report/_pdf.py); a browser that cannot start leaves the print to the command-line way.
    if args.pdf is not None:
        prestart_pdf()
    try:
        return _run(args, outputs, write_report)
    finally:
        discard_prestarted_pdf()  # a browser the command did not use (it stopped before printing)


def _run(args: argparse.Namespace, outputs: list[Path], write_report: Any) -> int:
    from insole._cli._convert import open_input

    recording = open_input(args.path, args.format, args.map)
    baseline = open_input(args.baseline, args.format, args.map) if args.baseline is not None else None
    if baseline is not None and baseline.layout.name != recording.layout.name:
        raise InputError(args.baseline, f"baseline uses insole layout {baseline.layout.name}, the recording "
                                        f"{recording.layout.name}; they cannot be compared")
    if args.note:
        notes = "\n".join(n for n in (recording.meta.notes, args.note) if n)
        try:
            recording = recording.with_meta(notes=notes)
        except RecordingError as error:  # pragma: no cover - notes are free text
            raise InputError(args.path, str(error)) from None
    report = write_report(recording, args.out, path=args.path, baseline=baseline, baseline_path=args.baseline,
                          json_path=args.json, pdf_path=args.pdf, body_mass_kg=args.mass_kg, force=args.force)
    flagged = ", ".join(_finding_words(f) for f in report.findings)
    if not flagged:
        # no finding from rules that could not be applied is no clean result: say so (a 0.05 s file)
        flagged = "none" if report.rules_assessed else "none: no rule could be applied (see Not assessed)"
    written = ", ".join(str(p) for p in outputs)
    print(f"wrote {written}: {len(report.findings)} finding(s): {flagged}", file=sys.stdout)
    not_judged = getattr(report, "baseline_not_judged", None)  # why the page judges no change, e.g. another person
    if args.baseline is not None and not_judged:
        print(printable(f"baseline {args.baseline} not compared: {not_judged}; the page shows both sessions' numbers "
                        "side by side and judges no change"), file=sys.stdout)
    return 0


def _finding_words(finding: Any) -> str:
    """``pronated_loading (left; severity mild, confidence low)``: both grades named, neither read as the other."""
    return (f"{finding.code} ({finding.side}; severity {finding.severity.replace('_', ' ')}, "
            f"confidence {finding.confidence.replace('_', ' ')})")

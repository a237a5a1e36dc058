"""The clinical report: findings over the analysis metrics, evidence-graded, as JSON, HTML and PDF.

Private package; the lead curates what ``insole`` exports. ``write_report`` is
what ``insole report`` (and ``insole analyze --report``) call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from insole._output import atomic_path, atomic_write
from insole.report._build import REPORT_SCHEMA, REPORT_SCHEMA_VERSION, SECTIONS, Report, build_report
from insole.report._findings import CODES, FindingParams, evaluate
from insole.report._html import render_html, write_html
from insole.report._metrics import session_from_analysis
from insole.report._pdf import PdfError, discard_prestarted_pdf, prestart_pdf, print_pdf
from insole.report._reference import (
    ReferenceSet,
    build_reference_sets,
    load_reference_sets,
    timing_variability,
    walk_identity,
    write_reference_sets,
)

__all__ = [
    "build_report", "render_html", "write_html", "print_pdf", "write_report", "evaluate", "Report",
    "FindingParams", "CODES", "SECTIONS", "REPORT_SCHEMA", "REPORT_SCHEMA_VERSION", "PdfError",
    "session_from_analysis", "load_reference_sets",
    # a command that will print a PDF starts Chromium first, while it works (insole report --pdf)
    "prestart_pdf", "discard_prestarted_pdf",
    # the stored reference sets and how they are rebuilt (docs/scripts/rebuild_references.py, validate_findings.py)
    "ReferenceSet", "build_reference_sets", "write_reference_sets", "timing_variability",
    # what tells whether a walk is one of the references' own, so that evaluate(walk=...) judges it without itself
    # (insole batch gives it as the report does)
    "walk_identity",
]


def write_report(recording: Any, out_html: str | Path, *, path: str | Path | None = None,
                 baseline: Any = None, baseline_path: str | Path | None = None,
                 json_path: str | Path | None = None, pdf_path: str | Path | None = None,
                 body_mass_kg: float | None = None, analysis: Any = None, force: bool = False) -> Report:
    """Build the report of ``recording`` and write the HTML page (and the JSON and PDF when asked).

    ``analysis``: pass the ``insole.analyze`` result when it already exists (``insole analyze --report``).
    Each file is written to a temporary name beside it and renamed once complete (a crash leaves the old
    file or the new one); ``force=False`` refuses to replace an existing file (``OutputError``), as the
    command line does without ``--force``.
    """
    report = build_report(recording, path=path, baseline=baseline, baseline_path=baseline_path,
                          body_mass_kg=body_mass_kg, analysis=analysis)
    write_html(report, out_html, force=force)
    if json_path is not None:
        with atomic_write(json_path, force=force) as handle:
            handle.write(json.dumps(report.to_dict(), indent=1, ensure_ascii=False, allow_nan=False))
    if pdf_path is not None:
        with atomic_path(pdf_path, force=force, suffix=".pdf") as temporary:
            print_pdf(out_html, temporary)
    return report

"""The extra outputs of ``insole analyze``: ``--report`` and ``--dashboard``.

They live here, in the command line, because the command line is the one
place that wires every part: the analysis must not import the report or the
dashboards, and ``insole`` must not import ``dashboards`` at all.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from insole._cli._analyze import ExtraOutput, register_output


def _report(analysis: Any, recording: Any, value: str, args: argparse.Namespace) -> str:
    from insole.report import write_report

    out = Path(value)
    write_report(recording, out, path=getattr(args, "path", None), analysis=analysis,
                 body_mass_kg=getattr(args, "mass_kg", None), force=getattr(args, "force", False))
    return f"report: {out}"


def _dashboard(analysis: Any, recording: Any, value: str, args: argparse.Namespace) -> str:
    from dashboards import write_dashboard

    out = write_dashboard(recording, value, analysis, source=str(getattr(args, "path", "") or ""),
                          force=getattr(args, "force", False))
    return f"dashboard: {out}"


def register() -> None:
    register_output(ExtraOutput(
        flag="--report", metavar="OUT.html", handler=_report, extra="report",
        help="also write the evidence-graded clinical report (self-contained HTML; same as 'insole report')",
    ))
    register_output(ExtraOutput(
        flag="--dashboard", metavar="OUT.html", handler=_dashboard, extra="dashboards",
        help="also write the interactive offline dashboard (self-contained HTML; same as 'insole dashboard')",
    ))

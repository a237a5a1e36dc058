"""The clinical report's findings as cohort columns (the hook into ``insole.report``).

For every finding code of the findings engine, four columns:

``finding_<code>``
    "flagged", "not_flagged" when the rule was applied and flagged nothing,
    or None when the rule could not be applied to this recording (the engine
    says why; for instance a layout without a midfoot sensor cannot show
    arch loading).
``finding_<code>_severity``
    how far past its cut-off the finding is: "mild", "moderate", "marked"
    (None when not flagged); the report's "severity".
``finding_<code>_confidence``
    how much the finding can be trusted: "very_low", "low", "moderate",
    "high" (None when not flagged); the report's "confidence".
``finding_<code>_side``
    "left", "right", "both" (two feet flagged, or a whole-gait finding), or None.

When both feet are flagged, severity and confidence are those of the more
confident foot's finding (on a tie, the more severe): the two words always
belong to one finding as the report shows it. Plus ``findings`` (every
flagged finding as ``code(side, severity S, confidence C)``, "; " joined) and
``findings_status`` ("evaluated", or why the engine was not run).

``finding_columns`` is the only place the batch touches the report package;
should the engine be missing or fail, the recording keeps its analysis row
and ``findings_status`` says what happened. It judges each recording as the
report does: the engine is given the walk's identity (``walk_identity``: file,
SHA-256, subject), so a walk of the reference's own controls is judged against
the other controls and a walk of the MDC95's same-day pairs by the other pairs
(``insole.report._reference.judging_frame``, the one place that decides it);
the batch's findings for a file are the report's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from insole._errors import error_line

__all__ = ["finding_columns", "finding_codes", "findings_provenance", "finding_text", "CONFIDENCE_ORDER",
           "SEVERITY_ORDER", "FLAGGED", "NOT_FLAGGED"]

CONFIDENCE_ORDER = ("very_low", "low", "moderate", "high")
SEVERITY_ORDER = ("mild", "moderate", "marked")
FLAGGED = "flagged"
NOT_FLAGGED = "not_flagged"
_WORDS = ("severity", "confidence", "side")  # the columns beside finding_<code>, as finding_<code>_<word>


@lru_cache(maxsize=1)
def _engine() -> Any:
    """(evaluate, session_from_analysis, CODES, FindingParams, reference sets, walk_identity), loaded once per
    process."""
    from insole.report import CODES, FindingParams, evaluate, load_reference_sets, session_from_analysis, walk_identity

    return (evaluate, session_from_analysis, tuple(CODES), FindingParams, tuple(load_reference_sets()),
            walk_identity)


def finding_codes() -> tuple[str, ...]:
    """The engine's finding codes, or () when the engine cannot be imported."""
    try:
        return _engine()[2]
    except ImportError:
        return ()


def findings_provenance() -> dict[str, Any]:
    """The findings engine's parameters and reference sets, for the cohort's provenance."""
    try:
        _, _, codes, params, sets, _ = _engine()
    except ImportError as error:
        return {"status": f"unavailable: {error}"}
    return {
        "engine": "insole.report._findings.evaluate",
        "codes": list(codes),
        "parameters": params().to_dict(),
        "reference_sets": [getattr(s, "name", str(s)) for s in sets],
        "judged_against": ("each recording as the report judges it (insole.report._reference.judging_frame): a "
                           "walk of a reference set's controls, or of such a person, against the set without that "
                           "person; a walk of the MDC95's same-day pairs by the other pairs' MDC95"),
    }


def finding_columns(analysis: Any, recording: Any) -> dict[str, Any]:
    """The finding columns of one recording (see the module docstring)."""
    try:
        evaluate, session_from_analysis, codes, params, sets, walk_identity = _engine()
    except ImportError as error:
        return {"findings": None, "findings_status": f"unavailable: the findings engine cannot be imported ({error})"}
    columns: dict[str, Any] = {}
    for code in codes:
        columns[f"finding_{code}"] = NOT_FLAGGED
        for word in _WORDS:
            columns[f"finding_{code}_{word}"] = None
    try:
        result = evaluate(session_from_analysis(analysis, recording), params(), reference_sets=sets,
                          walk=walk_identity(recording))
    except Exception as error:  # noqa: BLE001 - a findings failure must not lose the analysis row
        for code in codes:
            columns[f"finding_{code}"] = None
        columns["findings"] = None
        columns["findings_status"] = f"failed: {type(error).__name__}: {error_line(error)}"
        return columns
    for skipped in result.not_assessed:
        columns[f"finding_{skipped.code}"] = None
    flagged: dict[str, list[Any]] = {}
    for finding in result.findings:
        flagged.setdefault(finding.code, []).append(finding)
    for code, findings in flagged.items():
        best = max(findings, key=lambda f: (_rank(CONFIDENCE_ORDER, f.confidence), _rank(SEVERITY_ORDER, f.severity)))
        sides = {f.side for f in findings}
        columns[f"finding_{code}"] = FLAGGED
        columns[f"finding_{code}_severity"] = best.severity
        columns[f"finding_{code}_confidence"] = best.confidence
        columns[f"finding_{code}_side"] = "both" if len(sides) > 1 else next(iter(sides))
    columns["findings"] = "; ".join(finding_text(f) for f in result.findings)
    columns["findings_status"] = "evaluated"
    return columns


def finding_text(finding: Any) -> str:
    """One flagged finding as the ``findings`` column lists it: ``code(side, severity S, confidence C)``."""
    return f"{finding.code}({finding.side}, severity {finding.severity}, confidence {finding.confidence})"


def _rank(order: tuple[str, ...], word: str) -> int:
    return order.index(word) if word in order else -1



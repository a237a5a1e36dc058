"""The typed results of the findings engine: a finding, what was measured, what it was compared with.

These are what the JSON, the HTML report and the kinetic-chain picture are
built from; ``to_dict`` gives the JSON form (documented in docs/report.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from insole.report._evidence import GRADE_LABELS

__all__ = ["Comparison", "Measured", "LinkedJoint", "Finding", "SEVERITIES", "json_number"]

SEVERITIES: tuple[str, ...] = ("mild", "moderate", "marked")


def json_number(value: Any, digits: int = 4) -> Any:
    """A float rounded for JSON; NaN and infinities become None."""
    if value is None:
        return None
    if isinstance(value, (bool, str)):
        return value
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, digits)


@dataclass(frozen=True)
class Comparison:
    """One frame of reference a finding was checked against, and its outcome.

    ``frame`` is "other_foot", "baseline", "reference_set" or "literature".
    ``value`` is the reference value (the other foot's, the baseline's, the
    reference set's median); ``limit`` the value at which the rule flags;
    ``range_low`` / ``range_high`` a reference range when there is one.
    ``source_kind`` says what the reference is: "this recording", "baseline
    recording", "real controls", "simulated (not real people)" or "literature".
    ``passed`` is True when this frame supports the finding.
    """

    frame: str
    description: str
    value: float | None
    limit: float | None
    passed: bool
    source_kind: str
    source: str = ""
    range_low: float | None = None
    range_high: float | None = None
    n: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame": self.frame, "description": self.description, "value": json_number(self.value),
            "limit": json_number(self.limit), "range_low": json_number(self.range_low),
            "range_high": json_number(self.range_high), "passed": self.passed, "source_kind": self.source_kind,
            "source": self.source, "n": self.n,
        }


@dataclass(frozen=True)
class Measured:
    """What was measured on the finding's foot (or both feet).

    ``value`` on the finding's side; ``other_value`` on the other foot;
    ``difference`` value - other_value; ``symmetry_index_pct`` the finding
    foot against the other, (this - other) / mean(this, other) x 100 (this
    sign convention makes "lower on this foot" negative). ``sd`` the
    step-to-step SD on the finding's side; ``n_steps`` the steps behind it.
    """

    metric: str
    label: str
    unit: str
    value: float | None
    other_value: float | None = None
    difference: float | None = None
    symmetry_index_pct: float | None = None
    sd: float | None = None
    n_steps: int | None = None
    extra: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "label": self.label, "unit": self.unit, "value": json_number(self.value),
            "other_foot_value": json_number(self.other_value), "difference": json_number(self.difference),
            "symmetry_index_pct": json_number(self.symmetry_index_pct), "step_sd": json_number(self.sd),
            "n_steps": self.n_steps, "extra": {k: json_number(v) for k, v in self.extra.items()},
        }


@dataclass(frozen=True)
class LinkedJoint:
    """A joint association of a finding, resolved to a leg ("left", "right", "both" or "midline").

    In ``Finding.joints`` (drawn in the kinetic chain): a positive association on
    the measure the study used or a validated proxy, ``grade`` already capped
    for the distance between the measures. In ``Finding.not_drawn``: a null,
    protective or conflicting result, or one found on a different measure;
    ``grade`` is then the grade on the study's own measure and ``why_not_drawn``
    says why it is listed and not drawn.
    """

    joint: str
    side: str
    grade: str
    statement: str
    references: tuple[int, ...]
    association: str = "positive"
    study_measure: str = ""
    measure_match: str = "same"
    why_not_drawn: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"joint": self.joint, "side": self.side, "grade": self.grade,
                "grade_label": GRADE_LABELS[self.grade], "statement": self.statement,
                "references": list(self.references), "association": self.association,
                "study_measure": self.study_measure, "measure_match": self.measure_match,
                "why_not_drawn": self.why_not_drawn or None}


@dataclass(frozen=True)
class Finding:
    """One flagged pattern: what, where, how sure, compared with what, and what it has been associated with.

    ``confidence`` is the lower of ``measurement_confidence`` (data quality,
    amount of data, quality of the reference) and the confidence the evidence
    grade allows; ``confidence_reasons`` says what limited it.
    """

    code: str
    title: str
    side: str
    severity: str
    confidence: str
    measurement_confidence: str
    confidence_reasons: tuple[str, ...]
    evidence_grade: str
    measured: Measured
    reference: Comparison
    comparisons: tuple[Comparison, ...]
    statement: str
    consistent_with: str
    mechanism: str
    joints: tuple[LinkedJoint, ...]
    references: tuple[int, ...]
    notes: tuple[str, ...] = ()
    not_drawn: tuple[LinkedJoint, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "side": self.side,
            "severity": self.severity,
            "confidence": self.confidence,
            "measurement_confidence": self.measurement_confidence,
            "confidence_reasons": list(self.confidence_reasons),
            "evidence_grade": self.evidence_grade,
            "evidence_grade_label": GRADE_LABELS[self.evidence_grade],
            "measured": self.measured.to_dict(),
            "reference": self.reference.to_dict(),
            "comparisons": [c.to_dict() for c in self.comparisons],
            "statement": self.statement,
            "consistent_with": self.consistent_with,
            "mechanism": self.mechanism,
            "joints": [j.to_dict() for j in self.joints],
            "associations_not_drawn": [j.to_dict() for j in self.not_drawn],
            "references": list(self.references),
            "notes": list(self.notes),
        }

"""What the clinic store hands out: small frozen records, read from the database, never live rows.

``Patient`` and ``PatientRow`` (a patient with their visit count and last visit
date, for the list page), ``Visit``, ``TestRun`` (a walking test captured in a
visit or a file imported into one), ``Measure`` (one key number of a test with
its unit, reference text and minimal detectable change), and ``Timeline`` (a
patient's key numbers across visits, each change between consecutive visits
judged against its MDC95).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from insole import ClinicError

__all__ = [
    "ClinicError",
    "NotFoundError",
    "Patient",
    "PatientRow",
    "Visit",
    "TestRun",
    "Measure",
    "TimelinePoint",
    "TimelineChange",
    "TimelineRow",
    "Timeline",
    "SEXES",
    "TESTS",
    "SOURCES",
    "STATUSES",
    "number_text",
]

#: what ``sex`` may be (None: not recorded)
SEXES = ("female", "male", "other")
#: the walking tests a visit may hold (``free_walk``: any walk, also an imported file)
TESTS = ("free_walk", "10mwt", "6mwt", "tug", "balance")
#: where a test's recording came from (``import``: a file the clinician uploaded)
SOURCES = ("insole", "moticon", "orphe", "emulated", "import")
#: a test's state: recording in progress, finished and analysed, or failed (``reason`` says why)
STATUSES = ("capturing", "done", "failed")


class NotFoundError(ClinicError, LookupError):
    """No patient, visit, test or file with that id (the web app answers 404)."""


@dataclass(frozen=True)
class Patient:
    """A pseudonymous patient: no name is stored. Heights in m, masses in kg."""

    id: int
    pseudonym: str
    birth_year: int | None = None
    sex: str | None = None
    height_m: float | None = None
    mass_kg: float | None = None
    notes: str = ""
    archived: bool = False
    created_at: str = ""


@dataclass(frozen=True)
class PatientRow(Patient):
    """A patient as the list shows it: with the number of visits and the date of the last one."""

    n_visits: int = 0
    last_visit_date: dt.date | None = None


@dataclass(frozen=True)
class Visit:
    """One visit: the date, what was worn and the pain scores (0-10) the clinician entered."""

    id: int
    patient_id: int
    visit_date: dt.date
    footwear: str = ""
    orthosis: str = ""  # "" = none
    pain_scores: Mapping[str, int] = field(default_factory=dict)
    notes: str = ""
    created_at: str = ""

    @property
    def conditions(self) -> str:
        """What was worn, in words: ``"shoes, orthosis: insert A"``, ``"barefoot, no orthosis"``."""
        worn = self.footwear or "footwear not recorded"
        return f"{worn}, orthosis: {self.orthosis}" if self.orthosis else f"{worn}, no orthosis"


@dataclass(frozen=True)
class TestRun:
    """A test in a visit: a capture from the app or an imported file.

    ``status``: "capturing" (the recorder writes ``capture_path``), "done" (analysed; the files are in the
    store, by SHA-256) or "failed" (``reason``, one line; what was recorded is kept when there was any).
    ``recording_sha256``: our Parquet recording; ``original_sha256``: an imported file as it was given;
    ``report_sha256``: the HTML report. ``summary``: the test's result in one line, when it has one.
    ``complete``: whether the clinic test was completed by the patient (False: "done" is the recording analysed,
    the test itself incomplete); None for a test without a clinic result (a free walk, a failed capture).
    """

    __test__ = False  # a clinic test run, not a pytest class

    id: int
    visit_id: int
    test: str
    source: str
    status: str
    reason: str = ""
    recording_sha256: str | None = None
    original_sha256: str | None = None
    original_name: str = ""
    report_sha256: str | None = None
    fmt: str = ""
    layout: str = ""
    summary: str = ""
    started_at: str = ""
    finished_at: str = ""
    capture_path: Path | None = None
    complete: bool | None = None


@dataclass(frozen=True)
class Measure:
    """One key number of a test: ``value`` in ``unit``; ``mdc95`` its minimal detectable change (same unit).

    ``mdc95`` is None when no repeatability was measured for it (a change is then not judged);
    ``mdc_source`` says where the MDC95 comes from. ``reference`` is the report's reference text.
    """

    name: str
    value: float
    unit: str
    reference: str = ""
    mdc95: float | None = None
    label: str = ""
    mdc_source: str = ""


@dataclass(frozen=True)
class TimelinePoint:
    """One visit's value of a measure, with what the patient wore."""

    visit_id: int
    visit_date: dt.date
    test_id: int
    value: float
    footwear: str = ""
    orthosis: str = ""
    layout: str = ""  # the sensor layout of the test's recording ("" when not known)


@dataclass(frozen=True)
class TimelineChange:
    """The change between two consecutive visits that have the measure.

    ``changed``: True when |change| > MDC95, False when within it, None when not judged: there is no MDC95, or
    the two tests were recorded with other insoles (``systems_differ``: another sensor layout; an MDC95 is the
    same system's day-to-day noise, and forces, regional shares and timing of two systems differ by more).
    ``conditions_differ``: the footwear or orthosis differed between the two visits.
    """

    visit_a_id: int
    visit_b_id: int
    change: float
    changed: bool | None
    conditions_differ: bool = False
    systems_differ: bool = False


@dataclass(frozen=True)
class TimelineRow:
    """One measure of one kind of test across the patient's visits (date order)."""

    test: str
    name: str
    label: str
    unit: str
    mdc95: float | None
    mdc_source: str
    points: tuple[TimelinePoint, ...]
    changes: tuple[TimelineChange, ...]

    @property
    def judgement(self) -> str:
        """``"no MDC: change not judged"`` when there is no MDC95, else the MDC95 with its unit."""
        if self.mdc95 is None:
            return "no MDC: change not judged"
        return f"MDC95 {number_text(self.mdc95)} {self.unit}".rstrip()


@dataclass(frozen=True)
class Timeline:
    """A patient's key numbers across visits: ``rows`` one per (test, measure), ``visits`` in date order."""

    patient: Patient
    visits: tuple[Visit, ...]
    rows: tuple[TimelineRow, ...]


def number_text(value: float | int | None, digits: int = 3, *, signed: bool = False) -> str:
    """A number as a clinician reads it: ``digits`` significant digits, never an exponent, at most 4 decimals.

    Rounding noise is 0 (a symmetry index of -3.4e-14 % is "0", not "-3.39e-14"), large values keep their
    integer digits (a sway area of 1234.5 mm² is "1235", not "1.23e+03"). ``signed``: "+" before a positive
    number (a change). None is "".
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"+{value}" if signed and value > 0 else str(value)
    number = float(value)
    if not math.isfinite(number):
        return "not a number" if math.isnan(number) else ("+" if number > 0 and signed else "") + str(number)
    decimals = 0
    if number != 0.0:
        decimals = min(max(digits - 1 - math.floor(math.log10(abs(number))), 0), 4)
    text = f"{number:.{decimals}f}"
    if float(text) == 0.0:
        return "0"
    return f"+{text}" if signed and number > 0 else text

"""The report's "Clinic test" section: a saved clinic test's result, its reference values and their sources.

A recording saved by ``insole test`` carries its result in
``meta.extra["clinic_test"]`` (docs/clinic-tests.md). The section is built from
that stored dictionary alone, so a file saved by an earlier version shows what
it holds. Its sources join the report's numbered reference list: they are not
part of the findings' evidence base, so they are numbered after its highest
number, in the fixed order of ``insole.clinic._protocols.SOURCES`` (the same
source keeps the same number in every report of one version).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from insole.clinic import PROTOCOLS, SOURCES
from insole.report._evidence import REFERENCES
from insole.report._model import json_number

__all__ = ["CLINIC_SECTION", "clinic_section", "clinic_source_numbers"]

CLINIC_SECTION: tuple[str, str] = ("clinic-test", "Clinic test")

# Longest suffix first: "_mm_s" must win over "_s", "_m_s" over "_s".
_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_steps_per_min", "steps/min"), ("_mm_s", "mm/s"), ("_m_s", "m/s"), ("_mm2", "mm²"), ("_deg", "°"),
    ("_pct", "%"), ("_kpa", "kPa"), ("_bw", "BW"), ("_mm", "mm"), ("_hz", "Hz"), ("_n", "N"), ("_m", "m"),
    ("_s", "s"),
)
_VERIFIED_MEANING = {
    "abstract read": "the numbers are in the source's own abstract",
    "secondary source": "read in a text that cites the source, not in the source",
    "record only": "only the bibliographic record was seen; no number from it is used",
}


def clinic_source_numbers() -> dict[str, int]:
    """Reference-list number of each known clinic source key (after the evidence base's highest number)."""
    first = max(REFERENCES) + 1
    return {key: first + i for i, key in enumerate(SOURCES)}


def _unit_of(key: str, specs: Mapping[str, Any]) -> str:
    if key in specs:
        unit = specs[key].unit
        return "mm²" if unit == "mm2" else unit
    if "_pct_of_" in key:  # "seated_load_pct_of_standing": a percentage of another level
        return "% of " + key.split("_pct_of_", 1)[1].replace("_", " ")
    return next((unit for suffix, unit in _UNIT_SUFFIXES if key.endswith(suffix)), "")


def _label_of(key: str, specs: Mapping[str, Any]) -> str:
    if key in specs:
        return specs[key].title
    bare = key.split("_pct_of_", 1)[0]
    for suffix, _ in _UNIT_SUFFIXES:
        if key.endswith(suffix):
            bare = key[: -len(suffix)]
            break
    return bare.replace("_", " ").capitalize()


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def _source_record(key: str, detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """The source as stored with the result; the current table fills in what an older file lacks."""
    known = SOURCES[key].to_dict() if key in SOURCES else {}
    merged = {**known, **{k: v for k, v in dict(detail or {}).items() if v}}
    merged.setdefault("key", key)
    return merged


def clinic_section(stored: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The section (JSON-ready) and its entries for the report's reference list, from ``meta.extra["clinic_test"]``.

    Returns ``(None, [])`` when the recording holds no clinic test. Every
    reference comparison carries ``reference_number``, the number of its
    source in the report's list.
    """
    if not stored:
        return None, []
    test = str(stored.get("test", ""))
    specs = {m.key: m for m in PROTOCOLS[test].measures} if test in PROTOCOLS else {}
    numbers = clinic_source_numbers()
    next_number = max(numbers.values()) + 1
    sources: dict[str, dict[str, Any]] = {}

    def number_for(key: str, detail: Mapping[str, Any] | None) -> int:
        nonlocal next_number
        if key not in numbers:  # a source this version does not know: numbered after the known ones
            numbers[key] = next_number
            next_number += 1
        if key not in sources:
            sources[key] = {**_source_record(key, detail), "number": numbers[key]}
        return numbers[key]

    comparisons = []
    for ref in stored.get("references") or []:
        key = str(ref.get("source", ""))
        detail = ref.get("source_detail") or {}
        number = number_for(key, detail)
        verified = str(sources[key].get("verified", "not stated"))
        comparisons.append({
            "measure": ref.get("measure"), "measure_label": _label_of(str(ref.get("measure", "")), specs),
            "value": json_number(ref.get("value")) if not isinstance(ref.get("value"), str) else ref.get("value"),
            "unit": ref.get("unit", ""), "kind": ref.get("kind"), "statement": ref.get("statement", ""),
            "population": ref.get("population", ""), "depends_on": list(ref.get("depends_on") or []),
            "compared": bool(ref.get("compared", False)), "comparison": ref.get("comparison", ""),
            "source": key, "source_short": sources[key].get("short", key), "reference_number": number,
            "verified": verified,
        })
    # the protocol's own sources (the test's description) are cited too, after those of the comparisons
    for key, detail in sorted(dict((stored.get("provenance") or {}).get("sources") or {}).items(),
                              key=lambda kv: numbers.get(kv[0], next_number)):
        number_for(key, detail)

    def measure_value(value: Any) -> Any:
        return json_number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    measures = [{"key": key, "label": _label_of(key, specs), "unit": _unit_of(key, specs),
                 "value": measure_value(value), "shown": _shown(value)}
                for key, value in dict(stored.get("measures") or {}).items()]
    phases = [{"name": p.get("name"), "start_s": json_number(p.get("start_s"), 3),
               "end_s": json_number(p.get("end_s"), 3),
               "duration_s": (json_number(p["end_s"] - p["start_s"], 3)
                              if isinstance(p.get("start_s"), (int, float)) and isinstance(p.get("end_s"), (int, float))
                              else None),
               "found_by": p.get("found_by", "")}
              for p in stored.get("phases") or []]
    ordered = sorted(sources.values(), key=lambda s: s["number"])
    references = [{
        "number": s["number"],
        "citation": s.get("citation", s["key"]) + (f" {s['locator']}" if s.get("locator") else ""),
        "verification": f"clinic test source, {s.get('verified', 'checking not stated')}",
        "key": s["key"],
        "clinic_test": True,
    } for s in ordered]
    complete = bool(stored.get("complete", stored.get("status") == "complete"))
    section = {
        "test": test,
        "name": stored.get("name") or test,
        "status": stored.get("status") or ("complete" if complete else "incomplete"),
        "complete": complete,
        "reasons": list(stored.get("reasons") or []),
        "measures": measures,
        "phases": phases,
        "comparisons": comparisons,
        "sources": [{**{k: s.get(k, "") for k in ("key", "short", "citation", "locator", "verified", "note")},
                     "number": s["number"], "verified_meaning": _VERIFIED_MEANING.get(
                         str(s.get("verified", "")).split(";")[0].strip(), "")} for s in ordered],
        "inputs": dict(stored.get("inputs") or {}),
        "quality": dict(stored.get("quality") or {}),
        "result": dict(stored),
    }
    return section, references

"""What the vendor-export importers (pedar, F-Scan, XSENSOR, stappone) share.

Pressure units and their factors to kPa, the foot side from a file name, and
reading a vendor's ``KEY value`` header without tripping on odd spacing.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from insole._errors import MalformedFileError

__all__ = ["PRESSURE_TO_KPA", "kpa_factor", "side_from_name", "number_in"]

# Exact factors: 1 mmHg = 133.322387415 Pa; 1 psi = 6.894757293168 kPa;
# 1 kgf/cm² = 98.0665 kPa; 1 N/cm² = 10 kPa.
PRESSURE_TO_KPA: dict[str, float] = {
    "kpa": 1.0,
    "mpa": 1000.0,
    "pa": 0.001,
    "mmhg": 0.133322387415,
    "psi": 6.894757293168,
    "kg/cm2": 98.0665,
    "kgf/cm2": 98.0665,
    "n/cm2": 10.0,
    "n/cm²": 10.0,
    "bar": 100.0,
}


def kpa_factor(path: Path, unit: str) -> float:
    """The factor from the file's pressure unit to kPa; an unknown unit is a malformed file."""
    key = unit.strip().lower().replace(" ", "")
    try:
        return PRESSURE_TO_KPA[key]
    except KeyError:
        raise MalformedFileError(
            path,
            f"pressure unit {unit.strip()!r} is not one we can convert "
            "(known: kPa, MPa, mmHg, psi, kg/cm2, N/cm2, bar)",
        ) from None


_SIDE = re.compile(r"(?:^|[^a-z])(left|right|l|r|lf|rf|lt|rt)$", re.IGNORECASE)


def side_from_name(name: str) -> str | None:
    """``left``/``right`` when a file or sensor name ends in L/R/Left/Right (before its extension)."""
    stem = re.split(r"[\\/]", name.strip())[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    match = (
        _SIDE.search(stem)
        or re.search(r"[0-9_\-](l|r)$", stem, re.IGNORECASE)
        or re.search(r"[a-z](L|R)$", stem)  # camel case: "testL"
    )
    if not match:
        return None
    return "left" if match.group(1).lower().startswith("l") else "right"


def number_in(text: str) -> float | None:
    """The first number in ``text`` (e.g. ``'5.08 mm'`` -> 5.08), or None (also for one beyond float64)."""
    match = re.search(r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?", text)
    if not match:
        return None
    value = float(match.group(0).replace(",", "."))
    return value if math.isfinite(value) else None  # "1e999" is not a header's number

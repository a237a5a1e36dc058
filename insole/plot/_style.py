"""The colours and fonts every figure shares (no plotly here: ``import insole.plot`` stays light)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["SIDE_COLOURS", "FONT", "MUTED", "OUTLINE"]

# Left warm, right blue: a pair that stays distinct for red-green colour-blind viewers. The report,
# the offline dashboard and the live page all use these two values (tests/test_plot.py checks the pages).
SIDE_COLOURS: Mapping[str, str] = MappingProxyType({"left": "#c2410c", "right": "#1d4ed8"})
FONT: Mapping[str, Any] = MappingProxyType({"family": "DejaVu Sans, Arial, sans-serif", "size": 12})
MUTED = "#566573"
OUTLINE = "#7f8c8d"

"""Figures from an ``Analysis``: plotly figures, the ones the report and the dashboard embed."""

from __future__ import annotations

__all__: list[str] = []

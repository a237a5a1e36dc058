"""Why a figure cannot be drawn for an analysis: the same checks the figure functions make first."""

from __future__ import annotations

from typing import Any

from insole.plot._bars import why_not_region_shares
from insole.plot._cop import why_not_cop_paths
from insole.plot._curves import why_not_force_curves, why_not_stride_times
from insole.plot._maps import why_not_load_maps
from insole.plot._symmetry import why_not_symmetry_indices

__all__ = ["unavailable"]

_CHECKS = {
    "force_curves": why_not_force_curves,
    "cop_paths": why_not_cop_paths,
    "load_maps": why_not_load_maps,
    "region_shares": why_not_region_shares,
    "stride_times": why_not_stride_times,
    "symmetry_indices": why_not_symmetry_indices,
}


def unavailable(analysis: Any) -> dict[str, str]:
    """Figure name -> why that figure function returns None for ``analysis`` (absent when it draws)."""
    reasons = {name: check(analysis) for name, check in _CHECKS.items()}
    return {name: reason for name, reason in reasons.items() if reason is not None}

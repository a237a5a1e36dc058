"""Figures from an ``Analysis``: the plotly figures the report and the offline dashboard embed, one call each.

::

    import insole
    from insole import plot

    analysis = insole.analyze(insole.load("recordings/moticon_230927_102114.parquet"))
    plot.force_curves(analysis).show()       # mean ± SD stance force per foot
    plot.unavailable(analysis)               # {} here; figure name -> reason when one returns None

Each function takes an ``insole.analysis.Analysis`` and returns a
``plotly.graph_objects.Figure``, or ``None`` when the recording cannot show
it (``unavailable`` says why). They read the analysis's own tables
(``curves``, ``sensors``, ``regions``, ``strides``, ``summary``) and compute
nothing the analysis already gives. The foot pictures take the recording's
``layout`` for the insole outline when it is at hand. ``height_px`` sets a
figure's height where a page needs another one. ``as_dict=True`` gives the
figure as plotly's ``Figure.to_dict()`` would, built without plotly's objects
(milliseconds instead of a third of a second; for pages that only embed it).

``SIDE_COLOURS`` is the one left/right colour pair of the report and the
dashboards. Importing this package does not import plotly; the first figure does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insole._lazy import lazy_surface
from insole.plot._style import SIDE_COLOURS

if TYPE_CHECKING:
    from insole.plot._available import unavailable
    from insole.plot._bars import region_shares
    from insole.plot._cop import BUTTERFLY_ASSUMPTIONS, cop_paths
    from insole.plot._curves import force_curves, stride_times
    from insole.plot._maps import load_maps
    from insole.plot._symmetry import SYMMETRY_METRICS, symmetry_indices

__all__ = [
    "SIDE_COLOURS",
    "force_curves",
    "cop_paths",
    "load_maps",
    "region_shares",
    "stride_times",
    "symmetry_indices",
    "unavailable",
    "BUTTERFLY_ASSUMPTIONS",
    "SYMMETRY_METRICS",
]

_HOMES = {
    "force_curves": "_curves",
    "stride_times": "_curves",
    "cop_paths": "_cop",
    "BUTTERFLY_ASSUMPTIONS": "_cop",
    "load_maps": "_maps",
    "region_shares": "_bars",
    "symmetry_indices": "_symmetry",
    "SYMMETRY_METRICS": "_symmetry",
    "unavailable": "_available",
}


__getattr__, __dir__ = lazy_surface(__name__, _HOMES)

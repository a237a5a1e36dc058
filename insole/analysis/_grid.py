"""High-resolution layouts: sensel grids, automatic region masks, footprint measures.

A sensel grid (F-Scan, XSENSOR) becomes an ordinary ``SensorLayout`` with one
sensor per sensel inside the insole, so everything that works for a 16-sensor
insole works for a grid of hundreds of sensels. The grid itself is kept in
``layout.extra["grid"]`` (row and column of every sensel) so maps can be drawn
back onto it.

Grid convention (``canonical``): row 0 is at the toes and rows run toward the
heel; columns increase toward the *medial* side. Importers bring each foot's
grid into this convention (flipping rows or columns as the vendor's frame
requires), so sensel ``k`` sits at the same anatomical place for both feet.

The functions on recordings (``peak_pressure_map``, ``pressure_time_integral_map``,
``contact_area_mm2``, ``force_n``) and on footprints (``arch_index``,
``automask_regions``) take any layout with positions and, where needed, areas:
they serve pedar's 99 sensors as well as grids.

Regions come from an automatic mask on the footprint (the sensels that carried
load): the footprint's length is cut at fixed fractions into heel (0-27 %),
midfoot (27-55 %) and forefoot, the toes are what lies in front of the
sulcus (the row of least load between 70 % and 92 % of the length), and each
part is split medial/lateral. The 27 % and 55 % lines are the proportions of
novel's simple automask, as implemented in the R package pressuRe
(``create_mask_auto``, "automask_simple"); the forefoot ray fractions (first
ray 0-30 % of the forefoot width from the medial edge, rays 4-5 beyond 64 %)
follow the same package's "automask_novel"; the hallux takes the medial 35 %
of the toes' width (pressuRe ``pedar_mask`` "mask2", after Bryant et al.,
J Foot Ankle Res 2014, 7:18).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from insole._errors import AnalysisError, RecordingError
from insole._layout import REGION_GROUPS, SensorLayout
from insole._recording import Recording

__all__ = [
    "GridGeometry",
    "AutomaskParams",
    "ArchIndex",
    "grid_layout",
    "is_grid",
    "grid_image",
    "automask_regions",
    "footprint",
    "peak_pressure_map",
    "pressure_time_integral_map",
    "contact_area_mm2",
    "force_n",
    "arch_index",
    "outline_from_cells",
    "arch_category",
    "region_sums",
]


@dataclass(frozen=True)
class GridGeometry:
    """The physical grid: size and spacing as the vendor's file states them.

    ``row_spacing_mm`` is the pitch along the foot (row to row),
    ``col_spacing_mm`` across it; ``sensel_area_mm2`` the active area of one
    sensel (it can be smaller than the pitch squared).
    """

    n_rows: int
    n_cols: int
    row_spacing_mm: float
    col_spacing_mm: float
    sensel_area_mm2: float

    def __post_init__(self) -> None:
        if self.n_rows < 1 or self.n_cols < 1:
            raise RecordingError(f"grid must have rows and columns, not {self.n_rows} x {self.n_cols}")
        for name in ("row_spacing_mm", "col_spacing_mm", "sensel_area_mm2"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise RecordingError(f"grid {name} must be positive, not {value!r}")


@dataclass(frozen=True)
class AutomaskParams:
    """Where the automatic mask cuts the footprint (fractions, see the module docstring)."""

    heel_end: float = 0.27  # of footprint length, from the back of the heel
    midfoot_end: float = 0.55
    toe_search: tuple[float, float] = (0.70, 0.92)  # where the sulcus is looked for
    toe_default: float = 0.80  # used when the footprint shows no sulcus
    first_ray_end: float = 0.30  # of forefoot width, from the medial edge
    lateral_rays_start: float = 0.64
    hallux_end: float = 0.35  # of the toes' width, from the medial edge
    min_footprint_sensors: int = 8  # fewer loaded sensors than this: use the whole insole


@dataclass(frozen=True)
class ArchIndex:
    """Cavanagh & Rodgers' arch index of one footprint.

    The footprint without the toes is cut, perpendicular to the foot axis,
    into three parts of equal length: A (forefoot), B (midfoot), C (heel).
    ``value = B / (A + B + C)`` of contact areas. Cavanagh & Rodgers
    (J Biomech 1987, 20(5):547-551) classed static standing footprints
    <= 0.21 as high-arched, >= 0.26 as low-arched (flat) and between as
    normal. Footprints here come from in-shoe peak-pressure maps while walking
    (a dynamic footprint): the classes are given for orientation only.
    """

    value: float
    category: str  # "high" | "normal" | "low" | "undetermined"
    forefoot_area_mm2: float
    midfoot_area_mm2: float
    heel_area_mm2: float
    axis_length_mm: float
    n_footprint_sensors: int
    threshold: float
    unit: str
    method: str = (
        "Cavanagh & Rodgers 1987 (J Biomech 20(5):547-551): toes excluded, foot axis from heel centre "
        "toward the toes' centroid (stand-in for the second toe), length cut in equal thirds, "
        "arch index = middle-third area / total area; footprint = sensors whose peak exceeded threshold"
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------- layouts


def grid_layout(
    name: str,
    geometry: GridGeometry,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    source: str,
    peak: np.ndarray | None = None,
    approximate: bool = False,
    params: AutomaskParams | None = None,
    extra: Mapping[str, Any] | None = None,
) -> SensorLayout:
    """A layout of the sensels at ``rows``, ``cols`` of a canonical grid.

    ``rows``/``cols`` (k,) are 0-based indices in the canonical convention
    (row 0 at the toes, columns increasing medially). ``peak`` (k,) is the
    footprint image the regions are cut from (e.g. both feet's peak pressure);
    without it the whole insole is taken as the footprint. Positions are the
    sensel centres: x from the heel edge of the last insole row, y from the
    middle of the insole's column range.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    if rows.shape != cols.shape or rows.ndim != 1 or rows.size == 0:
        raise RecordingError(f"layout {name}: rows and cols must be equal, non-empty 1-d arrays")
    if rows.min() < 0 or rows.max() >= geometry.n_rows or cols.min() < 0 or cols.max() >= geometry.n_cols:
        raise RecordingError(f"layout {name}: sensel indices outside the {geometry.n_rows} x {geometry.n_cols} grid")
    heel_row = int(rows.max())
    x_mm = (heel_row - rows + 0.5) * geometry.row_spacing_mm
    centre_col = 0.5 * (int(cols.min()) + int(cols.max()))
    y_mm = (cols - centre_col) * geometry.col_spacing_mm
    length_mm = float((heel_row - int(rows.min()) + 1) * geometry.row_spacing_mm)
    area = np.full(rows.size, float(geometry.sensel_area_mm2))
    footprint_mask = None
    if peak is not None:
        peak = np.asarray(peak, dtype=np.float64)
        if peak.shape != rows.shape:
            raise RecordingError(f"layout {name}: footprint image has shape {peak.shape}, expected {rows.shape}")
        footprint_mask = np.nan_to_num(peak, nan=0.0) > 0
    regions = automask_regions(x_mm, y_mm, footprint_mask, params)
    grid = {
        "n_rows": geometry.n_rows,
        "n_cols": geometry.n_cols,
        "row_spacing_mm": geometry.row_spacing_mm,
        "col_spacing_mm": geometry.col_spacing_mm,
        "sensel_area_mm2": geometry.sensel_area_mm2,
        "row": rows.tolist(),
        "col": cols.tolist(),
        "convention": "row 0 at the toes, columns increase medially",
    }
    return SensorLayout(
        name=name,
        sensor_names=tuple(f"r{r + 1:02d}c{c + 1:02d}" for r, c in zip(rows.tolist(), cols.tolist())),
        x_mm=x_mm,
        y_mm=y_mm,
        area_mm2=area,
        regions=regions,
        foot_length_mm=length_mm,
        outline_mm=outline_from_cells(x_mm, y_mm, geometry.row_spacing_mm, geometry.col_spacing_mm),
        approximate=approximate,
        source=source,
        extra={
            "grid": grid,
            "regions_from": "automatic mask on the footprint (insole.analysis._grid.automask_regions)",
            "automask": {k: list(v) if isinstance(v, tuple) else v
                         for k, v in asdict(params or AutomaskParams()).items()},
            **dict(extra or {}),
        },
    )


def is_grid(layout: SensorLayout) -> bool:
    """True for layouts built from a sensel grid (they carry ``extra['grid']``)."""
    return isinstance(layout.extra.get("grid"), Mapping)


def grid_image(layout: SensorLayout, values: np.ndarray) -> np.ndarray:
    """Per-sensor ``values`` (..., n_sensors) placed on the canonical grid (..., rows, cols); NaN outside the insole."""
    if not is_grid(layout):
        raise AnalysisError(f"layout {layout.name} is not a sensel grid")
    grid = layout.extra["grid"]
    values = np.asarray(values, dtype=np.float64)
    if values.shape[-1] != layout.n_sensors:
        raise AnalysisError(f"{values.shape[-1]} values for {layout.n_sensors} sensors")
    image = np.full(values.shape[:-1] + (int(grid["n_rows"]), int(grid["n_cols"])), np.nan)
    image[..., np.asarray(grid["row"]), np.asarray(grid["col"])] = values
    return image


def outline_from_cells(x_mm: np.ndarray, y_mm: np.ndarray, row_pitch_mm: float, col_pitch_mm: float) -> np.ndarray:
    """A closed polygon around sensor cells: per row of cells, its medial and lateral edge."""
    x_mm = np.asarray(x_mm, dtype=np.float64)
    y_mm = np.asarray(y_mm, dtype=np.float64)
    stations, inverse = np.unique(np.round(x_mm, 6), return_inverse=True)
    medial = np.full(stations.size, -np.inf)
    lateral = np.full(stations.size, np.inf)
    np.maximum.at(medial, inverse, y_mm)
    np.minimum.at(lateral, inverse, y_mm)
    medial += col_pitch_mm / 2
    lateral -= col_pitch_mm / 2
    lower = stations - row_pitch_mm / 2
    upper = stations + row_pitch_mm / 2
    # Up the medial side (heel to toe), back down the lateral side.
    medial_side = np.column_stack([np.column_stack([lower, upper]).ravel(), np.repeat(medial, 2)])
    lateral_side = np.column_stack([np.column_stack([upper, lower]).ravel()[::-1], np.repeat(lateral, 2)[::-1]])
    polygon = np.vstack([medial_side, lateral_side, medial_side[:1]])
    return polygon


# ----------------------------------------------------------------------------- automatic mask


def automask_regions(
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    footprint_mask: np.ndarray | None = None,
    params: AutomaskParams | None = None,
    *,
    load: np.ndarray | None = None,
) -> tuple[str, ...]:
    """The fine region (``insole._layout.REGIONS``) of every sensor, cut from the footprint.

    ``footprint_mask`` (n,) marks the sensors that carried load; ``load`` (n,)
    is the image the sulcus is searched in (defaults to the mask itself).
    Sensors outside the footprint get the region their position falls in.
    """
    params = params or AutomaskParams()
    x = np.asarray(x_mm, dtype=np.float64)
    y = np.asarray(y_mm, dtype=np.float64)
    n = x.size
    fp = np.ones(n, dtype=bool) if footprint_mask is None else np.asarray(footprint_mask, dtype=bool)
    if fp.sum() < params.min_footprint_sensors:
        fp = np.ones(n, dtype=bool)
    image = fp.astype(np.float64) if load is None else np.where(fp, np.nan_to_num(np.asarray(load, float)), 0.0)

    x_heel, x_toe = float(x[fp].min()), float(x[fp].max())
    span = max(x_toe - x_heel, 1e-9)
    along = (x - x_heel) / span  # 0 at the back of the footprint, 1 at its tip

    toe_start = _sulcus(along, image, fp, params)
    heel = along < params.heel_end
    midfoot = (along >= params.heel_end) & (along < params.midfoot_end)
    toes = along >= toe_start
    forefoot = ~(heel | midfoot | toes)

    regions = np.empty(n, dtype=object)

    heel_centre = _centre(x, y, fp & heel, fallback=heel)
    regions[heel] = np.where(y[heel] >= heel_centre[1], "medial_heel", "lateral_heel")

    forefoot_centre = _centre(x, y, fp & forefoot, fallback=forefoot)
    # The foot axis from heel centre to forefoot centre splits the midfoot.
    dx = forefoot_centre[0] - heel_centre[0]
    slope = (forefoot_centre[1] - heel_centre[1]) / dx if abs(dx) > 1e-9 else 0.0
    axis_y = heel_centre[1] + slope * (x - heel_centre[0])
    regions[midfoot] = np.where(y[midfoot] >= axis_y[midfoot], "medial_midfoot", "lateral_midfoot")

    fraction = _width_fraction(y, fp & forefoot, forefoot)
    regions[forefoot] = np.select(
        [fraction[forefoot] < params.first_ray_end, fraction[forefoot] < params.lateral_rays_start],
        ["first_metatarsal", "central_metatarsals"],
        "lateral_metatarsals",
    )
    fraction = _width_fraction(y, fp & toes, toes)
    regions[toes] = np.where(fraction[toes] < params.hallux_end, "hallux", "lesser_toes")
    return tuple(str(r) for r in regions)


def _sulcus(along: np.ndarray, image: np.ndarray, fp: np.ndarray, params: AutomaskParams) -> float:
    """Fraction of footprint length where the toes start: the least-loaded row in the search window."""
    stations, inverse = np.unique(np.round(along, 6), return_inverse=True)
    load = np.zeros(stations.size)
    np.add.at(load, inverse, np.where(fp, image, 0.0))
    low, high = params.toe_search
    window = (stations >= low) & (stations <= high)
    if not window.any() or not np.any(load[window] > 0) or np.allclose(load[window], load[window][0]):
        return params.toe_default
    candidates = np.flatnonzero(window)
    best = candidates[int(np.argmin(load[candidates]))]
    # The sulcus row itself belongs to the toes' side of the crease.
    return float(stations[best])


def _centre(x: np.ndarray, y: np.ndarray, mask: np.ndarray, *, fallback: np.ndarray) -> tuple[float, float]:
    use = mask if mask.any() else fallback
    if not use.any():
        return float(np.mean(x)), float(np.mean(y))
    return float(x[use].mean()), float(y[use].mean())


def _width_fraction(y: np.ndarray, footprint_part: np.ndarray, part: np.ndarray) -> np.ndarray:
    """0 at the medial edge of the part's footprint, 1 at its lateral edge (clipped)."""
    use = footprint_part if footprint_part.any() else part
    if not use.any():
        return np.zeros_like(y)
    medial_edge, lateral_edge = float(y[use].max()), float(y[use].min())
    width = medial_edge - lateral_edge
    if width <= 0:
        return np.zeros_like(y)
    return np.clip((medial_edge - y) / width, 0.0, 1.0)


# ----------------------------------------------------------------------------- maps on recordings


def _foot_values(recording: Recording, side: str) -> tuple[np.ndarray, np.ndarray]:
    foot = recording.foot(side)
    if foot is None:
        raise AnalysisError(f"the recording has no {side} foot")
    return foot.values, foot.valid


def peak_pressure_map(recording: Recording, side: str) -> np.ndarray:
    """Per sensor, the largest value over the valid samples (recording unit); NaN if none is valid."""
    values, valid = _foot_values(recording, side)
    used = values[valid]
    if used.shape[0] == 0:
        return np.full(values.shape[1], np.nan)
    with np.errstate(invalid="ignore"):
        peak = np.nanmax(np.where(np.isnan(used), -np.inf, used), axis=0).astype(np.float64)
    peak[~np.isfinite(peak)] = np.nan
    return peak


def pressure_time_integral_map(recording: Recording, side: str) -> np.ndarray:
    """Per sensor, the sum of value x sample period over valid samples (unit x s, e.g. kPa·s).

    Invalid samples add nothing: a gap lowers the integral rather than being
    filled; the recording's data quality says how much is missing.
    """
    values, valid = _foot_values(recording, side)
    used = np.nan_to_num(values[valid].astype(np.float64), nan=0.0)
    return used.sum(axis=0) / float(recording.sample_rate_hz)


def contact_area_mm2(recording: Recording, side: str, threshold: float | None = None) -> np.ndarray:
    """Per sample, the summed area (mm²) of sensors above ``threshold``; NaN for invalid samples.

    ``threshold`` is in the recording's unit; by default 10 kPa for pressure
    recordings and 5 % of the recording's largest value otherwise.
    """
    values, valid = _foot_values(recording, side)
    area = recording.layout.area_mm2
    if not recording.layout.areas_known:
        raise AnalysisError(f"layout {recording.layout.name} has no sensor areas; contact area is unknown")
    level = _default_threshold(recording) if threshold is None else float(threshold)
    with np.errstate(invalid="ignore"):
        result = (values > level).astype(np.float64) @ area
    result[~valid] = np.nan
    return result


def force_n(recording: Recording, side: str) -> np.ndarray:
    """Per sample, the total force (N): pressure (kPa) x area (mm²) summed; NaN for invalid samples."""
    values, valid = _foot_values(recording, side)
    if recording.unit == "N":
        total = np.nansum(values.astype(np.float64), axis=1)
    elif recording.unit == "kPa":
        if not recording.layout.areas_known:
            raise AnalysisError(f"layout {recording.layout.name} has no sensor areas; forces are unknown")
        total = np.nan_to_num(values.astype(np.float64), nan=0.0) @ recording.layout.area_mm2 / 1000.0
    else:
        raise AnalysisError(f"forces cannot be computed from uncalibrated ({recording.unit}) values")
    total[~valid] = np.nan
    return total


def _default_threshold(recording: Recording) -> float:
    if recording.unit == "kPa":
        return 10.0
    feet = [recording.samples(s) for s in recording.sides]
    peaks = [np.nanmax(foot.values[foot.valid]) for foot in feet if foot.valid.any()]
    return 0.05 * float(max(peaks)) if peaks else 0.0


def footprint(recording: Recording, side: str, threshold: float | None = None) -> np.ndarray:
    """Sensors whose peak over the recording exceeded ``threshold`` (default as ``contact_area_mm2``)."""
    level = _default_threshold(recording) if threshold is None else float(threshold)
    return np.nan_to_num(peak_pressure_map(recording, side), nan=-np.inf) > level


# ----------------------------------------------------------------------------- arch index


def arch_index(
    layout: SensorLayout,
    peak: np.ndarray,
    threshold: float,
    *,
    unit: str = "kPa",
    min_sensors: int = 60,
) -> ArchIndex:
    """Cavanagh & Rodgers' arch index from a peak image (one value per sensor, see ``ArchIndex``).

    The toes are the sensors in the layout's toe regions; sensors with
    unknown area count with the median known area (all of them equal if none
    is known). Layouts with fewer than ``min_sensors`` sensors (8-16 sensor
    insoles) draw no footprint: the index is "undetermined" there.
    """
    peak = np.asarray(peak, dtype=np.float64)
    if peak.shape != (layout.n_sensors,):
        raise AnalysisError(f"peak image has shape {peak.shape}, expected ({layout.n_sensors},)")
    loaded = np.nan_to_num(peak, nan=-np.inf) > threshold
    toes = layout.region_mask("toes")
    footprint_mask = loaded & ~toes
    area = np.asarray(layout.area_mm2, dtype=np.float64)
    if not np.isfinite(area).any():
        area = np.ones_like(area)
    area = np.where(np.isfinite(area), area, np.nanmedian(area))
    n_fp = int(footprint_mask.sum())
    if n_fp < 3 or layout.n_sensors < min_sensors:
        return ArchIndex(float("nan"), "undetermined", 0.0, 0.0, 0.0, 0.0, n_fp, float(threshold), unit)

    x, y = layout.x_mm, layout.y_mm
    heel = footprint_mask & layout.region_mask("heel")
    heel_pt = np.array(_centre(x, y, heel, fallback=footprint_mask))
    toe_fp = loaded & toes
    front = toe_fp if toe_fp.any() else footprint_mask & layout.region_mask("forefoot")
    front_pt = np.array(_centre(x, y, front, fallback=footprint_mask))
    axis = front_pt - heel_pt
    norm = float(np.hypot(*axis))
    if norm < 1e-9:
        axis, norm = np.array([1.0, 0.0]), 1.0
    axis = axis / norm
    along = (x - heel_pt[0]) * axis[0] + (y - heel_pt[1]) * axis[1]
    start, end = float(along[footprint_mask].min()), float(along[footprint_mask].max())
    length = end - start
    if length <= 0:
        return ArchIndex(float("nan"), "undetermined", 0.0, 0.0, 0.0, 0.0, n_fp, float(threshold), unit)
    third = np.clip(((along - start) / length * 3.0).astype(np.int64), 0, 2)  # 0 heel, 1 mid, 2 fore
    areas = np.array([area[footprint_mask & (third == k)].sum() for k in range(3)])
    value = float(areas[1] / areas.sum())
    return ArchIndex(
        value=value,
        category=arch_category(value),
        forefoot_area_mm2=float(areas[2]),
        midfoot_area_mm2=float(areas[1]),
        heel_area_mm2=float(areas[0]),
        axis_length_mm=length,
        n_footprint_sensors=n_fp,
        threshold=float(threshold),
        unit=unit,
    )


def arch_category(value: float) -> str:
    """Cavanagh & Rodgers' classes: <= 0.21 high, >= 0.26 low, else normal."""
    if not np.isfinite(value):
        return "undetermined"
    if value <= 0.21:
        return "high"
    if value >= 0.26:
        return "low"
    return "normal"


def region_sums(layout: SensorLayout, values: np.ndarray,
                groups: Sequence[str] = ("heel", "midfoot", "forefoot", "toes")) -> dict[str, np.ndarray]:
    """Per region group, the sum of ``values`` (..., n_sensors) over its sensors."""
    values = np.asarray(values, dtype=np.float64)
    unknown = [g for g in groups if g not in REGION_GROUPS]
    if unknown:
        raise AnalysisError(f"unknown region groups {unknown}")
    return {g: np.nansum(values[..., layout.region_mask(g)], axis=-1) for g in groups}

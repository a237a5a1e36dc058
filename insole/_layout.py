"""Sensor layouts: where each sensor sits under the foot, how big it is, which region it serves.

Coordinates are in millimetres in a per-foot anatomical frame shared by both feet:
origin at the back of the heel, +x toward the toes along the foot's long axis,
+y toward the *medial* side. A left and a right foot therefore compare directly;
a plot that shows the feet as seen from above mirrors the left foot's y.

Each sensor belongs to exactly one region. Fine regions (``REGIONS``) name the
anatomy a 16-sensor insole resolves; a coarse region ("heel", "midfoot",
"forefoot", "toes", "whole_foot") is used by layouts too sparse to tell medial
from lateral there. ``REGION_GROUPS`` says which regions make up the groups the
analysis reports (heel, midfoot/arch, forefoot, toes, medial/lateral forefoot).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from insole._errors import RecordingError

__all__ = [
    "SensorLayout",
    "REGIONS",
    "COARSE_REGIONS",
    "REGION_GROUPS",
    "regions_mask",
    "get_layout",
    "builtin_layouts",
    "foot_length_mm_for_eu_size",
    "points_in_polygon",
    "BALL_WIDTH_PER_LENGTH",
    "KPA_MM2_TO_N",
]

REGIONS = (
    "medial_heel",
    "lateral_heel",
    "medial_midfoot",
    "lateral_midfoot",
    "first_metatarsal",
    "central_metatarsals",
    "lateral_metatarsals",
    "hallux",
    "lesser_toes",
)
COARSE_REGIONS = ("heel", "midfoot", "forefoot", "toes", "whole_foot")

# Which sensor regions make up each reported group. "medial_forefoot" and
# "lateral_forefoot" leave the central metatarsals out on purpose: the
# medial-lateral comparison is between the first and the lateral rays.
REGION_GROUPS: Mapping[str, tuple[str, ...]] = {
    "heel": ("medial_heel", "lateral_heel", "heel"),
    "midfoot": ("medial_midfoot", "lateral_midfoot", "midfoot"),
    "forefoot": ("first_metatarsal", "central_metatarsals", "lateral_metatarsals", "forefoot"),
    "toes": ("hallux", "lesser_toes", "toes"),
    "hallux": ("hallux",),
    "lesser_toes": ("lesser_toes",),
    "medial_forefoot": ("first_metatarsal",),
    "lateral_forefoot": ("lateral_metatarsals",),
    "medial_midfoot": ("medial_midfoot",),
    "lateral_midfoot": ("lateral_midfoot",),
    "rearfoot": ("medial_heel", "lateral_heel", "heel"),
    "front": ("first_metatarsal", "central_metatarsals", "lateral_metatarsals", "forefoot",
              "hallux", "lesser_toes", "toes"),
}

# Typical adult foot proportions used to scale a layout to a shoe size: ball
# width ~ 0.39 x foot length, heel width ~ 0.26 x foot length (anthropometric
# averages; a layout built from them is an approximation and says so). The
# report's medial-lateral COP offset is a percentage of the same ball width.
BALL_WIDTH_PER_LENGTH = 0.39
_HEEL_WIDTH_PER_LENGTH = 0.26
# kPa x mm^2 = 1e3 N/m^2 x 1e-6 m^2 = 1e-3 N
KPA_MM2_TO_N = 1e-3


def foot_length_mm_for_eu_size(eu_size: float) -> float:
    """Insole (foot) length in mm for a Paris-point (EU) shoe size.

    One Paris point is 2/3 cm of shoe last; the insole is about 15 mm shorter
    than the last. EU 42 -> 265 mm.
    """
    return eu_size * 20.0 / 3.0 - 15.0


def regions_mask(regions: Sequence[str], group: str) -> np.ndarray:
    """Which of these sensor regions belong to a region group (see ``REGION_GROUPS``) or are that region: the
    one rule ``SensorLayout.region_mask`` and the analysis' cached masks apply."""
    return np.isin(np.asarray(regions), REGION_GROUPS.get(group, (group,)))


@dataclass(frozen=True, eq=False)
class SensorLayout:
    """Positions (mm), areas (mm^2) and regions of the sensors of one insole model.

    The same layout serves both feet (coordinates are anatomical: +y medial).
    ``area_mm2`` may hold NaN where a sensor's area is unknown (then pressures
    cannot be turned into forces). ``approximate`` is True when the geometry is
    not from the manufacturer; ``source`` says where it comes from.
    """

    name: str
    sensor_names: tuple[str, ...]
    x_mm: np.ndarray
    y_mm: np.ndarray
    area_mm2: np.ndarray
    regions: tuple[str, ...]
    foot_length_mm: float
    outline_mm: np.ndarray  # (m, 2) closed polygon of the insole in the foot frame
    approximate: bool
    source: str
    shoe_size_eu: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.sensor_names)
        for attr in ("x_mm", "y_mm", "area_mm2"):
            arr = np.asarray(getattr(self, attr), dtype=np.float64)
            if arr.shape != (n,):
                raise RecordingError(f"layout {self.name}: {attr} has shape {arr.shape}, expected ({n},)")
            arr.setflags(write=False)
            object.__setattr__(self, attr, arr)
        outline = np.asarray(self.outline_mm, dtype=np.float64)
        if outline.ndim != 2 or outline.shape[1] != 2:
            raise RecordingError(f"layout {self.name}: outline must be (m, 2)")
        outline.setflags(write=False)
        object.__setattr__(self, "outline_mm", outline)
        if len(self.regions) != n:
            raise RecordingError(f"layout {self.name}: {len(self.regions)} regions for {n} sensors")
        unknown = set(self.regions) - set(REGIONS) - set(COARSE_REGIONS)
        if unknown:
            raise RecordingError(f"layout {self.name}: unknown regions {sorted(unknown)}")
        if len(set(self.sensor_names)) != n:
            raise RecordingError(f"layout {self.name}: sensor names are not unique")
        # checked here so that a layout read from a file cannot carry what no analysis can use
        if n == 0:
            raise RecordingError(f"layout {self.name}: has no sensors")
        if not all(isinstance(name, str) and name for name in self.sensor_names):
            raise RecordingError(f"layout {self.name}: sensor names must be non-empty text")
        if not (np.all(np.isfinite(self.x_mm)) and np.all(np.isfinite(self.y_mm)) and np.all(np.isfinite(outline))):
            raise RecordingError(f"layout {self.name}: sensor positions and outline must be finite numbers")
        if not (math.isfinite(float(self.foot_length_mm)) and float(self.foot_length_mm) > 0):
            raise RecordingError(f"layout {self.name}: foot length {self.foot_length_mm!r} mm is not a length")

    @property
    def n_sensors(self) -> int:
        return len(self.sensor_names)

    @property
    def areas_known(self) -> bool:
        return bool(np.all(np.isfinite(self.area_mm2)))

    def region_mask(self, group: str) -> np.ndarray:
        """Boolean mask over sensors for a region group (see ``REGION_GROUPS``) or a region."""
        return regions_mask(self.regions, group)

    @property
    def ball_width_mm(self) -> float:
        """Typical ball (forefoot) width of the foot this layout fits: 0.39 x foot length (mm)."""
        return BALL_WIDTH_PER_LENGTH * float(self.foot_length_mm)

    def load_weights(self, unit: str) -> np.ndarray:
        """Per-sensor factors that add values recorded in ``unit`` up to one load per sample.

        Pressures (kPa) with known sensor areas: area x 1e-3, so the sum is a
        force in N. Anything else (N, au, kPa with unknown areas): 1, so the
        sum is in the recorded unit (see ``load_unit``).
        """
        if unit == "kPa" and self.areas_known:
            return np.asarray(self.area_mm2, dtype=np.float64) * KPA_MM2_TO_N
        return np.ones(self.n_sensors)

    def load_unit(self, unit: str) -> str:
        """The unit of ``values @ load_weights(unit)``: "N" for N and for kPa with known areas, else ``unit``."""
        return "N" if unit == "N" or (unit == "kPa" and self.areas_known) else unit

    def contains(self, x_mm: np.ndarray, y_mm: np.ndarray) -> np.ndarray:
        """Which points (foot frame, mm) lie inside the insole outline (``points_in_polygon``)."""
        return points_in_polygon(x_mm, y_mm, self.outline_mm)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description; ``SensorLayout.from_dict`` rebuilds it exactly."""
        return {
            "name": self.name,
            "sensor_names": list(self.sensor_names),
            "x_mm": self.x_mm.tolist(),
            "y_mm": self.y_mm.tolist(),
            "area_mm2": [None if not math.isfinite(a) else a for a in self.area_mm2.tolist()],
            "regions": list(self.regions),
            "foot_length_mm": self.foot_length_mm,
            "outline_mm": self.outline_mm.tolist(),
            "approximate": self.approximate,
            "source": self.source,
            "shoe_size_eu": self.shoe_size_eu,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SensorLayout:
        try:
            return cls(
                name=str(data["name"]),
                sensor_names=tuple(data["sensor_names"]),
                x_mm=np.asarray(data["x_mm"], dtype=np.float64),
                y_mm=np.asarray(data["y_mm"], dtype=np.float64),
                area_mm2=np.asarray([np.nan if a is None else a for a in data["area_mm2"]], dtype=np.float64),
                regions=tuple(data["regions"]),
                foot_length_mm=float(data["foot_length_mm"]),
                outline_mm=np.asarray(data["outline_mm"], dtype=np.float64),
                approximate=bool(data["approximate"]),
                source=str(data["source"]),
                shoe_size_eu=data.get("shoe_size_eu"),
                extra=dict(data.get("extra") or {}),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise RecordingError(f"layout description is incomplete or invalid: {error}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SensorLayout):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # holds arrays

    def __repr__(self) -> str:
        sensors = "1 sensor" if self.n_sensors == 1 else f"{self.n_sensors} sensors"
        return f"SensorLayout({self.name!r}, {sensors}, foot {self.foot_length_mm:.0f} mm)"


def _foot_outline(length_mm: float) -> np.ndarray:
    """A generic insole outline in the foot frame (+y medial), as a closed polygon.

    Built from half-widths at stations along the foot (fractions of length),
    with a medial concavity at the arch. Good enough to draw heat maps on; it
    is not anybody's last.
    """
    stations = np.array([0.0, 0.03, 0.08, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.72, 0.80, 0.88, 0.94, 0.98, 1.0])
    # half widths as fractions of length, medial and lateral separately
    medial = np.array([0.0, 0.09, 0.125, 0.135, 0.12, 0.09, 0.09, 0.12, 0.17, 0.19, 0.19, 0.17, 0.13, 0.07, 0.0])
    lateral = np.array([0.0, 0.09, 0.125, 0.135, 0.14, 0.145, 0.15, 0.16, 0.175, 0.18, 0.165, 0.13, 0.09, 0.04, 0.0])
    x = stations * length_mm
    upper = np.column_stack([x, medial * length_mm])
    lower = np.column_stack([x[::-1], -lateral[::-1] * length_mm])
    polygon = np.vstack([upper, lower[1:]])
    return polygon


def points_in_polygon(px: np.ndarray, py: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd rule test of points (``px``, ``py``, any one shape) against a closed polygon (m, 2).

    Vectorised over points; the loop runs over the polygon's edges (a few
    dozen), so a fine grid of points needs no (points x edges) array.
    """
    px = np.asarray(px, dtype=np.float64)
    py = np.asarray(py, dtype=np.float64)
    polygon = np.asarray(polygon, dtype=np.float64)
    inside = np.zeros(np.broadcast(px, py).shape, bool)
    xs, ys = polygon[:, 0], polygon[:, 1]
    for i in range(len(polygon)):  # loop over polygon edges (a few dozen), not points
        x1, y1, x2, y2 = xs[i - 1], ys[i - 1], xs[i], ys[i]
        crosses = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (px < x_at)
    return inside


def tributary_areas_mm2(x_mm: np.ndarray, y_mm: np.ndarray, outline_mm: np.ndarray, step_mm: float = 1.0) -> np.ndarray:
    """The insole area closest to each sensor (its Voronoi cell inside the outline), in mm^2.

    A discrete sensor samples the pressure of the sole around it; force is
    pressure times the area it stands for, not times the sensing element's own
    area (which would miss most of the contact area and inflate pressures).
    """
    xs = np.arange(outline_mm[:, 0].min(), outline_mm[:, 0].max(), step_mm) + step_mm / 2
    ys = np.arange(outline_mm[:, 1].min(), outline_mm[:, 1].max(), step_mm) + step_mm / 2
    gx, gy = np.meshgrid(xs, ys)
    inside = points_in_polygon(gx.ravel(), gy.ravel(), outline_mm)
    px, py = gx.ravel()[inside], gy.ravel()[inside]
    nearest = np.argmin((px[:, None] - x_mm[None, :]) ** 2 + (py[:, None] - y_mm[None, :]) ** 2, axis=1)
    return np.bincount(nearest, minlength=len(x_mm)).astype(np.float64) * step_mm**2


def _scaled(fractions_x: list[float], fractions_y: list[float], length_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """Sensor positions from fractions of foot length (x) and of ball width (y)."""
    ball_width = BALL_WIDTH_PER_LENGTH * length_mm
    return np.asarray(fractions_x) * length_mm, np.asarray(fractions_y) * ball_width


# Our own 16-sensor insole (docs/insole16.md): x as a fraction of insole length,
# y as a fraction of ball width (+ medial), sensor diameter 15 mm at EU 42.
_INSOLE16 = (
    # name,        x,     y,     region
    ("heel_med_post", 0.07, 0.12, "medial_heel"),
    ("heel_lat_post", 0.07, -0.12, "lateral_heel"),
    ("heel_med_ant", 0.17, 0.14, "medial_heel"),
    ("heel_lat_ant", 0.17, -0.16, "lateral_heel"),
    ("mid_med_post", 0.34, 0.10, "medial_midfoot"),
    ("mid_lat_post", 0.34, -0.28, "lateral_midfoot"),
    ("mid_med_ant", 0.50, 0.14, "medial_midfoot"),
    ("mid_lat_ant", 0.50, -0.32, "lateral_midfoot"),
    ("met1", 0.70, 0.32, "first_metatarsal"),
    ("met2", 0.73, 0.14, "central_metatarsals"),
    ("met3", 0.72, -0.04, "central_metatarsals"),
    ("met4", 0.70, -0.20, "lateral_metatarsals"),
    ("met5", 0.66, -0.36, "lateral_metatarsals"),
    ("hallux", 0.91, 0.28, "hallux"),
    ("toe2", 0.89, 0.06, "lesser_toes"),
    ("toes345", 0.84, -0.18, "lesser_toes"),
)
_INSOLE16_DIAMETER_MM_AT_EU42 = 15.0


def _insole16(shoe_size_eu: float = 42.0) -> SensorLayout:
    length = foot_length_mm_for_eu_size(shoe_size_eu)
    scale = length / foot_length_mm_for_eu_size(42.0)
    names, fx, fy, regions = zip(*_INSOLE16)
    x, y = _scaled(list(fx), list(fy), length)
    diameter = _INSOLE16_DIAMETER_MM_AT_EU42 * scale
    outline = _foot_outline(length)
    return SensorLayout(
        name="insole16",
        sensor_names=tuple(names),
        x_mm=x,
        y_mm=y,
        area_mm2=tributary_areas_mm2(x, y, outline),
        regions=tuple(regions),
        foot_length_mm=length,
        outline_mm=outline,
        approximate=False,
        source=(
            "insole firmware hardware design, docs/insole16.md (positions scale with shoe size; "
            "area_mm2 is each sensor's effective area: its Voronoi cell inside the insole outline)"
        ),
        shoe_size_eu=float(shoe_size_eu),
        extra={"element_diameter_mm": round(diameter, 3)},
    )


# PhysioNet gaitpdb: Infotronic insole, 8 sensors per foot. format.txt gives
# arbitrary (X, Y) units: Y from -800 (heel) to 800 (toes), X offsets of +-200
# about the foot's midline. Mapped here onto a 260 mm foot with the 8 sensors
# spread from 10% to 90% of its length; the mapping is ours (approximate).
_GAITPDB_Y = np.array([-800, -400, -400, 0, 0, 400, 400, 800], dtype=float)
# medial offset in format.txt units for the LEFT foot (X - (-500)); the right
# foot is the mirror image, so sensor k sits at the same anatomical place.
_GAITPDB_MEDIAL = np.array([0, -200, 200, -200, 200, -200, 200, 0], dtype=float)
# Regions checked against those positions and against when each sensor carries its load (docs/report.md,
# "Region masks per layout"; docs/figures/regions-gaitpdb8.png). Sensors 2 and 3 (Y = -400) lie a quarter of the
# way from the heel sensor to the toe sensor, at the front of the heel: in 38 real control walks (measured before
# JuCo26_01 was found to be the bytes of a Parkinson's walk and left out of the controls) their load peaks at
# 18-19 % of stance, with the heel's loading response (sensor 1: 5 %), not with the midfoot row (sensors 4-5:
# 62-65 %), so they are the lateral and medial heel. Sensor 8 sits on the foot's long axis (X = -500) under the
# toes: between the hallux and the second toe, not under the hallux alone, so it is "toes".
_GAITPDB_REGIONS = (
    "heel",
    "lateral_heel",
    "medial_heel",
    "lateral_midfoot",
    "medial_midfoot",
    "lateral_metatarsals",
    "first_metatarsal",
    "toes",
)


def _gaitpdb8() -> SensorLayout:
    length = 260.0
    mm_per_unit = 0.8 * length / 1600.0
    x = 0.10 * length + (_GAITPDB_Y + 800.0) * mm_per_unit
    y = _GAITPDB_MEDIAL * mm_per_unit
    return SensorLayout(
        name="gaitpdb8",
        sensor_names=tuple(f"s{i}" for i in range(1, 9)),
        x_mm=x,
        y_mm=y,
        area_mm2=np.full(8, np.nan),  # the file gives forces in N; no areas needed or published
        regions=_GAITPDB_REGIONS,
        foot_length_mm=length,
        outline_mm=_foot_outline(length),
        approximate=True,
        source=(
            "PhysioNet gaitpdb format.txt relative sensor coordinates (Infotronic), scaled by us "
            "onto a 260 mm foot; regions assigned by position and by when each sensor is loaded in stance"
        ),
        extra={"format_txt_x_left": [-500, -700, -300, -700, -300, -700, -300, -500],
               "format_txt_y": _GAITPDB_Y.tolist()},
    )


# Moticon OpenGo: 16 sensors. The files carry no geometry, but they carry the vendor's own total force and centre
# of pressure (insole-normalised, -0.5 to +0.5 along and across) beside the 16 pressures: total = sum(area_i x p_i)
# and COP x total = sum(area_i x p_i x position_i) are linear in the unknowns, so a least-squares fit over a walk
# gives every sensor's position (and area). On moticon-opengo 230927_102114 (1215 left, 1321 right loaded samples)
# the fit is exact (R^2 of the total 0.999999) and the two insoles give the same positions to 0.01; the positions
# below are those fits (x = along + 0.5; y = across, + medial: the distal toe sensor and the unloaded arch sensor
# are on that side, as a hallux and a medial arch are). Sensor 14 is thus under the hallux, as the vendor's gait
# report has it, not a lesser toe. docs/report.md, "Region masks per layout"; docs/figures/regions-moticon16.png.
_MOTICON16 = (
    ("p1", 0.10, 0.11, "medial_heel"),
    ("p2", 0.08, -0.17, "lateral_heel"),
    ("p3", 0.23, 0.09, "medial_heel"),
    ("p4", 0.21, -0.22, "lateral_heel"),
    ("p5", 0.37, 0.06, "medial_midfoot"),
    ("p6", 0.35, -0.27, "lateral_midfoot"),
    ("p7", 0.58, 0.24, "medial_midfoot"),
    ("p8", 0.49, -0.39, "lateral_midfoot"),
    ("p9", 0.76, 0.27, "first_metatarsal"),
    ("p10", 0.74, 0.06, "central_metatarsals"),
    ("p11", 0.73, -0.12, "central_metatarsals"),
    ("p12", 0.71, -0.29, "lateral_metatarsals"),
    ("p13", 0.67, -0.46, "lateral_metatarsals"),
    ("p14", 0.91, 0.18, "hallux"),
    ("p15", 0.91, -0.08, "lesser_toes"),
    ("p16", 0.86, -0.31, "lesser_toes"),
)


def _moticon16(shoe_size_eu: float = 40.0) -> SensorLayout:
    length = foot_length_mm_for_eu_size(shoe_size_eu)
    names, fx, fy, regions = zip(*_MOTICON16)
    x, y = _scaled(list(fx), list(fy), length)
    return SensorLayout(
        name="moticon16",
        sensor_names=tuple(names),
        x_mm=x,
        y_mm=y,
        area_mm2=np.full(16, np.nan),
        regions=tuple(regions),
        foot_length_mm=length,
        outline_mm=_foot_outline(length),
        approximate=True,
        source=(
            "APPROXIMATE: Moticon OpenGo sensor positions are not in the export files; positions fitted by us "
            "to the vendor's own centre of pressure and total force in a real export (exact fit), scaled to "
            "the shoe size; areas not used"
        ),
        shoe_size_eu=float(shoe_size_eu),
    )


def _footswitch1() -> SensorLayout:
    length = 260.0
    return SensorLayout(
        name="footswitch1",
        sensor_names=("force",),
        x_mm=np.array([0.5 * length]),
        y_mm=np.array([0.0]),
        area_mm2=np.array([np.nan]),
        regions=("whole_foot",),
        foot_length_mm=length,
        outline_mm=_foot_outline(length),
        approximate=True,
        source="PhysioNet gaitndd: one force-sensitive resistor signal per foot (no geometry)",
    )


# ORPHE INSOLE: 6 channels. The vendor SDK's sensor map (Orphe-OSS/ORPHE-INSOLE.js src/InsoleUtils.js,
# SENSOR_LAYOUT_IMAGE): marker positions on a picture of the RIGHT insole as fractions of the picture (x
# across, y from the toe end), numbered by the SDK 1 toe medial .. 6 heel; its foot frame from them:
# across = (x - 0.5) * 0.58, along = (0.5 - y) * 0.9, in foot lengths (medial at larger picture x).
_ORPHE6 = (
    # name,            image x, image y, region
    ("p1_toe_medial", 0.7596, 0.1680, "hallux"),
    ("p2_ball_medial", 0.7513, 0.3320, "first_metatarsal"),
    ("p3_toe_lateral", 0.4024, 0.2210, "lesser_toes"),
    ("p4_ball_centre", 0.5245, 0.3483, "central_metatarsals"),
    ("p5_midfoot_lateral", 0.2884, 0.3681, "lateral_midfoot"),
    ("p6_heel", 0.5552, 0.8206, "heel"),
)


def _orphe6(shoe_size_eu: float = 42.0) -> SensorLayout:
    length = foot_length_mm_for_eu_size(shoe_size_eu)
    names, image_x, image_y, regions = zip(*_ORPHE6)
    across = (np.asarray(image_x) - 0.5) * 0.58
    along = (0.5 - np.asarray(image_y)) * 0.9
    return SensorLayout(
        name="orphe6",
        sensor_names=tuple(names),
        x_mm=(0.5 + along) * length,
        y_mm=across * length,
        area_mm2=np.full(len(names), np.nan),
        regions=tuple(regions),
        foot_length_mm=length,
        outline_mm=_foot_outline(length),
        approximate=True,
        source=(
            "APPROXIMATE: ORPHE INSOLE channel positions from the vendor SDK (Orphe-OSS/ORPHE-INSOLE.js "
            "src/InsoleUtils.js SENSOR_LAYOUT_IMAGE and its foot-frame factors 0.58 and 0.9, right foot, "
            "numbering 1 toe medial .. 6 heel), scaled by us to the shoe size; areas unknown (raw ADC counts)"
        ),
        shoe_size_eu=float(shoe_size_eu),
    )


_BUILTIN = {
    "insole16": _insole16,
    "gaitpdb8": _gaitpdb8,
    "moticon16": _moticon16,
    "footswitch1": _footswitch1,
    "orphe6": _orphe6,
}


def builtin_layouts() -> tuple[str, ...]:
    """Names of the built-in layouts."""
    return tuple(_BUILTIN)


def get_layout(name: str, *, shoe_size_eu: float | None = None) -> SensorLayout:
    """A built-in layout by name; ``shoe_size_eu`` scales layouts that depend on size."""
    try:
        factory = _BUILTIN[name]
    except KeyError:
        raise RecordingError(f"unknown layout {name!r}; built-in layouts: {', '.join(_BUILTIN)}") from None
    if shoe_size_eu is not None and name in ("insole16", "moticon16", "orphe6"):
        return factory(shoe_size_eu)  # type: ignore[call-arg]
    return factory()

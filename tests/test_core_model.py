"""The data model: layouts, recordings, and the public surface of the package."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import insole
from insole import FootSamples, Recording, RecordingError, RecordingMeta, get_layout
from insole._layout import REGION_GROUPS, REGIONS, points_in_polygon

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_public_surface_is_pinned():
    # The curated surface changes only on purpose: update this list with the change.
    assert sorted(insole.__all__) == sorted(
        [
            "__version__",
            "Recording",
            "FootSamples",
            "RecordingMeta",
            "ReferenceEvents",
            "Mark",
            "SensorLayout",
            "get_layout",
            "builtin_layouts",
            "analyze",
            "AnalysisParams",
            "Analysis",
            "SimulationParams",
            "io",
            "analysis",
            "report",
            "plot",
            "simulate",
            "capture",
            "clinic",
            "batch",
            "load",
            "formats",
            "write_parquet",
            "read_parquet",
            "RecordingStreamWriter",
            "recover",
            "InsoleError",
            "InputError",
            "UnknownFormatError",
            "MalformedFileError",
            "MissingCompanionError",
            "OutputError",
            "RecordingError",
            "DeviceError",
            "AnalysisError",
            "ProtocolError",
            "ClinicError",
        ]
    )
    for name in insole.__all__:
        assert hasattr(insole, name), name


def test_one_error_hierarchy():
    for name in ("InputError", "RecordingError", "DeviceError", "AnalysisError", "ClinicError"):
        assert issubclass(getattr(insole, name), insole.InsoleError)
    for name in ("UnknownFormatError", "MalformedFileError", "MissingCompanionError"):
        assert issubclass(getattr(insole, name), insole.InputError)
    error = insole.MalformedFileError("a/b.txt", "truncated in row 12")
    assert str(error) == "a/b.txt: truncated in row 12"
    assert "\n" not in str(error)


def test_insole16_effective_areas_tile_the_outline():
    """Voronoi cells inside the outline: they sum to the outline's own (shoelace) area within the 1 mm grid's error."""
    layout = get_layout("insole16")
    x, y = layout.outline_mm[:, 0], layout.outline_mm[:, 1]
    polygon_area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    # a 1 mm grid misplaces at most about half a cell along the ~600 mm perimeter
    assert abs(layout.area_mm2.sum() - polygon_area) < 300
    assert np.all(layout.area_mm2 > 500)


@pytest.mark.parametrize("name", ["insole16", "gaitpdb8", "moticon16", "footswitch1"])
def test_builtin_layouts_are_consistent(name):
    layout = get_layout(name)
    assert layout.n_sensors == {"insole16": 16, "gaitpdb8": 8, "moticon16": 16, "footswitch1": 1}[name]
    # every sensor lies along the foot, inside its length
    assert np.all(layout.x_mm > 0) and np.all(layout.x_mm < layout.foot_length_mm)
    # a layout's JSON description rebuilds it exactly
    assert insole.SensorLayout.from_dict(layout.to_dict()) == layout
    assert layout.approximate == (name != "insole16")


def test_insole16_covers_every_region_and_groups_partition_it():
    layout = get_layout("insole16")
    assert set(layout.regions) == set(REGIONS)
    heel, mid, fore, toes = (layout.region_mask(g) for g in ("heel", "midfoot", "forefoot", "toes"))
    assert np.array_equal(heel.astype(int) + mid + fore + toes, np.ones(16, int))
    # medial sensors have y > 0 by the frame's definition
    assert np.all(layout.y_mm[layout.region_mask("medial_forefoot")] > 0)
    assert np.all(layout.y_mm[layout.region_mask("lateral_forefoot")] < 0)
    assert set(REGION_GROUPS["heel"]) >= {"medial_heel", "lateral_heel"}


def test_insole16_doc_table_matches_geometry():
    """docs/insole16.md gives worked sizes; they must be what get_layout builds."""
    text = (DOCS / "insole16.md").read_text()
    rows = re.findall(
        r"^\| (\d\d) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+), ([\d.]+) \| ([\d.]+), ([\d.]+) \|$",
        text, re.M
    )
    assert len(rows) == 3
    for size, length, width, diameter, area_cm2, mx, my, hx, hy in rows:
        layout = get_layout("insole16", shoe_size_eu=float(size))
        assert round(layout.foot_length_mm, 1) == float(length)
        assert round(0.39 * layout.foot_length_mm, 1) == float(width)
        assert round(layout.extra["element_diameter_mm"], 1) == float(diameter)
        assert round(layout.area_mm2.sum() / 100, 1) == float(area_cm2)
        assert (round(layout.x_mm[8], 1), round(layout.y_mm[8], 1)) == (float(mx), float(my))
        assert (round(layout.x_mm[13], 1), round(layout.y_mm[13], 1)) == (float(hx), float(hy))


def _foot(n=100, sensors=16, start=0.0):
    t = start + np.arange(n) / 100.0
    return FootSamples(time_s=t, values=np.ones((n, sensors)), valid=np.ones(n, bool))


def test_recording_is_validated_and_immutable():
    layout = get_layout("insole16")
    rec = Recording(layout, "kPa", 100.0, _foot(), None)
    assert rec.sides == ("left",)
    with pytest.raises(ValueError):
        rec.left.values[0, 0] = 5.0  # read-only arrays
    with pytest.raises(RecordingError, match="8 sensor columns"):
        Recording(layout, "kPa", 100.0, _foot(sensors=8), None)
    with pytest.raises(RecordingError, match="unit"):
        Recording(layout, "psi", 100.0, _foot(), None)
    with pytest.raises(RecordingError, match="at least one foot"):
        Recording(layout, "kPa", 100.0, None, None)
    with pytest.raises(RecordingError, match="strictly increasing"):
        FootSamples(time_s=[0.0, 0.02, 0.01], values=np.ones((3, 1)), valid=np.ones(3, bool))
    with pytest.raises(RecordingError, match="plausible"):
        RecordingMeta(body_mass_kg=-3)


def test_gaps_are_runs_of_invalid_slots():
    valid = np.ones(10, bool)
    valid[[2, 3, 7]] = False
    foot = FootSamples(time_s=np.arange(10) / 10, values=np.zeros((10, 1)), valid=valid)
    assert foot.gaps() == [(0.2, 0.3, 2), (0.7, 0.7, 1)]
    assert foot.valid_fraction == 0.7


def test_points_in_polygon_square() -> None:
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    inside = points_in_polygon(np.array([5, 11, -1, 9.9]), np.array([5, 5, 5, 0.1]), square)
    assert inside.tolist() == [True, False, False, True]

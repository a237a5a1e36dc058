"""Which flagged sensors a reader must know about, decided once in the analysis: each ``quality[side]["sensor_flags"]``
entry says whether it is ``named`` and, given the layout, which region groups hold the sensor (``regions``).

Known answers. pedar_example.asc: 6 left sensors and 1 right read 0 kPa throughout (flagged flat); 6 of 99 is
under 10 %, so all are named; on the pedar layout s69 and s76 lie under the first metatarsal (medial forefoot),
s88, s89, s95 and s99 under the lesser toes, s83 under the hallux. fscan_testL.asf: 484 of 955 cells never load
(outside the footprint), flagged flat and not named.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from insole import analyze, load
from insole.analysis import _pipeline
from insole.analysis._quality import FLAG_REGION_GROUPS, FLAT_NAMED_MAX_FRACTION, _with_reader_keys, foot_quality

PEDAR = "vendor-exports/pedar_example.asc"
FSCAN = "vendor-exports/fscan_testL.asf"


def _flags(statuses: list[str]) -> list[dict]:
    return [{"sensor": f"s{i}", "status": status} for i, status in enumerate(statuses)]


def test_flat_sensors_are_named_up_to_a_tenth_of_the_layout() -> None:
    assert FLAT_NAMED_MAX_FRACTION == 0.10
    # 2 flat of 20 sensors is exactly 10 %: named; 3 of 20 is over: the flat ones are not, the others still are
    at_limit = _with_reader_keys(_flags(["flat", "flat", "stuck"]), 20, None)
    assert [f["named"] for f in at_limit] == [True, True, True]
    over = _with_reader_keys(_flags(["flat", "dead", "flat", "flat", "saturated", "spikes"]), 20, None)
    assert [f["named"] for f in over] == [False, True, False, False, True, True]
    # without a layout no regions are claimed
    assert all("regions" not in f for f in at_limit + over)


def test_pedar_flags_are_all_named(shared_data: Path) -> None:
    analysis = analyze(load(shared_data / PEDAR))
    named = {side: [(f["sensor"], f["named"]) for f in analysis.quality[side]["sensor_flags"]]
             for side in analysis.sides}
    assert named == {"left": [(s, True) for s in ("s69", "s76", "s88", "s89", "s95", "s99")],
                     "right": [("s83", True)]}


def test_a_dense_grid_flags_its_unloaded_cells_without_naming_them(shared_data: Path) -> None:
    analysis = analyze(load(shared_data / FSCAN))
    flags = analysis.quality["left"]["sensor_flags"]
    assert analysis.quality["left"]["n_sensors"] == 955
    assert [f["status"] for f in flags] == ["flat"] * 484
    assert not any(f["named"] for f in flags)


def test_given_the_layout_each_flag_carries_its_region_groups(shared_data: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    recording = load(shared_data / PEDAR)

    def with_layout(*args, **kwargs):  # the pipeline's call, given the layout (whether or not it passes it)
        return foot_quality(*args, **{**kwargs, "layout": recording.layout})

    monkeypatch.setattr(_pipeline, "foot_quality", with_layout)
    analysis = analyze(recording)
    regions = {f["sensor"]: f["regions"] for side in analysis.sides for f in analysis.quality[side]["sensor_flags"]}
    assert regions == {"s69": ["medial_forefoot", "forefoot"], "s76": ["medial_forefoot", "forefoot"],
                       "s88": ["lesser_toes", "toes"], "s89": ["lesser_toes", "toes"],
                       "s95": ["lesser_toes", "toes"], "s99": ["lesser_toes", "toes"], "s83": ["hallux", "toes"]}
    # the groups the report's measures rest on, in that order
    assert FLAG_REGION_GROUPS == ("heel", "medial_midfoot", "lateral_midfoot", "midfoot", "medial_forefoot",
                                  "lateral_forefoot", "forefoot", "hallux", "lesser_toes", "toes")

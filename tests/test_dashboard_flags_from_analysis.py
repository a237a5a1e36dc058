"""The views take which flagged sensors to name, and their region groups, from the analysis (each
``quality[side]["sensor_flags"]`` entry's ``named`` and ``regions``) and decide nothing of their own: changing
those keys in an analysis changes what the offline dashboard and the report's load maps show."""

from __future__ import annotations

from pathlib import Path

from dashboards._offline import _flagged_sensors
from insole import analyze, load, plot

PEDAR = "vendor-exports/pedar_example.asc"  # flags: left s69, s76, s88, s89, s95, s99; right s83 (all flat, named)


def test_dashboard_and_load_maps_follow_the_analysis_keys(shared_data: Path) -> None:
    recording = load(shared_data / PEDAR)
    analysis = analyze(recording)
    before = _flagged_sensors(recording, analysis)
    assert [f["sensor"] for f in before["left"]] == ["s69", "s76", "s88", "s89", "s95", "s99"]
    # the analysis says s69 is not to be named, and places s83 (hallux) in the heel group
    left = analysis.quality["left"]["sensor_flags"]
    right = analysis.quality["right"]["sensor_flags"]
    left[0] = {**left[0], "named": False}
    right[0] = {**right[0], "regions": ["heel"]}
    after = _flagged_sensors(recording, analysis)
    assert [f["sensor"] for f in after["left"]] == ["s76", "s88", "s89", "s95", "s99"]
    assert after["right"][0]["regions"] == ["heel"]
    fig = plot.load_maps(analysis, recording.layout)
    flagged = [t for t in fig.data if t.mode == "markers" and t.name.startswith("flagged")]
    left_names = [text.split(":")[0].split(" ")[1] for text in flagged[0].text]
    assert left_names == ["s76", "s88", "s89", "s95", "s99"]

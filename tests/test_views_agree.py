"""Every view of a recording shows the analysis' own stride and stance counts, under names that tell them apart.

The guide: every derived number is computed once, in the analysis; the report,
the dashboard, ``insole analyze`` (text and JSON) and ``insole export --to
tables`` are views of it. Counts that legitimately differ are different
numbers with different names, never one name for two numbers:

* strides found (``quality[side]["strides_detected"]``): heel strike to the
  next heel strike of the same foot;
* strides used (``summary.strides_used[side]``): the strides every mean,
  variability, symmetry index and finding is taken over;
* stances in curves and maps (``steps[side]["used"]``): the used strides'
  stances without a lost sample, which the force curves, load maps, regional
  tables and pressure-time integrals average.

Before this test the report called the used strides "steps used" beside a
"strides used" column with the same number, and said its pressure-time
integrals were over those 6 "steps" on Moticon 230927_102114, while the
analysis averaged them (and the dashboard's maps and the force curves) over 5
stances per foot. The files are chosen so that the counts differ: found >
used on every one, used > stances on the Moticon walk and on gaitpdb SiPt02's
left foot.

Counts are integers: every comparison is exact.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
from dataclasses import dataclass
from html import escape as html_escape
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_report_chain import _findings as _rule_findings

from dashboards import build_dashboard
from insole import load
from insole._cli._analyze import summary_text
from insole.analysis import SIGNED_METRICS, Analysis, analyze, write_json
from insole.io import analysis_tables
from insole.report import build_report
from insole.report._build import (
    UNCALIBRATED_NOTE,
    UNCALIBRATED_ONE_SENSOR_STATEMENT,
    UNCALIBRATED_STANDING,
    UNCALIBRATED_STATEMENT,
    VARIABILITY_NOTES,
)
from insole.report._html import render_html
from insole.report._metrics import ANALYSIS_METRICS, SIGNED_KEYS
from insole.simulate import SimulationParams, simulate

FILES = {
    "gaitpdb": "gaitpdb/GaCo01_01.txt",  # N, 8 sensors; found 97, used 96 per foot
    "gaitpdb_patient": "gaitpdb/SiPt02_01.txt",  # left: 107 strides used, 107 stances; right: 108 found
    "gaitpdb_cohort": "gaitpdb-cohort/GaCo02_01.txt",
    "gaitndd": "gaitndd/control1.hea",  # au foot switches, 270 strides found on the left
    "moticon": "moticon-opengo/230927_102114.txt",  # kPa; 6 strides used but 5 stances in curves and maps
    "pedar": "vendor-exports/pedar_example.asc",  # kPa, 99 sensors
}


@dataclass(frozen=True)
class Views:
    analysis: Analysis
    report_json: dict[str, Any]
    report_html: str
    text: str
    lean: dict[str, Any]
    dashboard: dict[str, Any]
    tables: dict[str, Any]


@pytest.fixture(scope="module", params=sorted(FILES))
def views(request: pytest.FixtureRequest, shared_data: Path) -> Views:
    path = shared_data / FILES[request.param]
    recording = load(path)
    analysis = analyze(recording)
    report = build_report(recording, path=path, analysis=analysis, generated_at="2026-01-01T00:00:00Z")
    buffer = io.StringIO()
    write_json(analysis, buffer)
    html = build_dashboard(recording, analysis)
    found = re.search(r'<script type="application/json" id="payload">(.*?)</script>', html, re.S)
    assert found, "the dashboard embeds no payload"
    return Views(analysis, report.to_dict(), render_html(report), summary_text(analysis, path),
                 json.loads(buffer.getvalue()), json.loads(found.group(1)), analysis_tables(analysis))


def _own(analysis: Analysis, side: str) -> dict[str, int]:
    """The analysis' own counts of one foot."""
    quality = analysis.quality[side]
    return {"found": int(quality["strides_detected"]), "used": int(analysis.summary.strides_used[side]),
            "left_out": int(sum(quality["strides_excluded"].values())),
            "stances": int(analysis.steps[side]["used"].sum())}


def test_the_analysis_counts_agree_with_themselves(views: Views) -> None:
    analysis = views.analysis
    for side in analysis.sides:
        own = _own(analysis, side)
        strides = analysis.strides[side]
        assert own["found"] == len(strides)
        assert own["used"] == int(analysis.quality[side]["strides_used"]) == int(strides["used"].sum())
        assert own["found"] - own["used"] == own["left_out"]
        # the stances the curves average
        assert int(analysis.curves[side]["n_stances"].max()) == own["stances"]


def test_the_files_make_the_counts_differ(views: Views) -> None:
    """The test checks names that matter: on every file some strides were left out."""
    assert any(_own(views.analysis, s)["found"] > _own(views.analysis, s)["used"] for s in views.analysis.sides)


def test_moticon_has_fewer_stances_than_used_strides(shared_data: Path) -> None:
    analysis = analyze(load(shared_data / FILES["moticon"]))
    assert [(_own(analysis, s)["used"], _own(analysis, s)["stances"]) for s in analysis.sides] == [(6, 5), (6, 5)]


def test_report_json_counts_are_the_analysis_own(views: Views) -> None:
    data = views.report_json
    for side in views.analysis.sides:
        own = _own(views.analysis, side)
        quality = next(q for q in data["quality"] if q["side"] == side)
        assert quality["strides_detected"] == own["found"]
        assert quality["strides_used"] == own["used"]
        assert quality["excluded"] == own["left_out"]
        assert quality["excluded_reasons"] == views.analysis.quality[side]["strides_excluded"]
        assert quality["stances_used"] == own["stances"]
        assert quality["contacts_detected"] == views.analysis.quality[side]["contacts_detected"]
        # the findings' "steps" are the used strides: one number under the two names
        assert quality["steps_used"] == own["used"]
        feet = data["summary"]["feet"][side]
        assert feet["n_steps"] == feet["n_strides"] == own["used"]
        pti = data["pressure_time_integral"] or {}
        if pti.get("rows"):
            assert pti["steps"][side] == own["stances"]
        spm = data["stance_force_spm"]
        if spm and spm.get("reason") is None:
            assert spm["n"][side] == own["stances"]  # SPM compares the stance curves the analysis averaged
        for finding in data["findings"]:
            if finding["side"] == side:
                assert finding["measured"]["n_steps"] == own["used"], finding["code"]


def test_report_page_shows_each_count_under_its_own_name(views: Views) -> None:
    html = views.report_html
    assert "<th>Strides found</th><th>Strides used</th><th>Strides left out</th><th>Stances in curves and maps</th>" \
        in html
    assert "Steps used" not in html and "Steps left out" not in html
    for side in views.analysis.sides:
        own = _own(views.analysis, side)
        row = re.search(rf"<tr><td>{side}</td>.*?</tr>", html, re.S)
        assert row, side
        cell = r'<td class="num (strides-found|strides-used|strides-left-out|stances-used)">(\d+)</td>'
        cells = dict(re.findall(cell, row.group(0)))
        assert cells == {"strides-found": str(own["found"]), "strides-used": str(own["used"]),
                         "strides-left-out": str(own["left_out"]), "stances-used": str(own["stances"])}


def test_analyze_text_and_json_counts_are_the_analysis_own(views: Views) -> None:
    for side in views.analysis.sides:
        own = _own(views.analysis, side)
        assert f"strides used {own['used']}/{own['found']}" in views.text
        quality = views.lean["quality"][side]
        assert quality["strides_used"] == own["used"] and quality["strides_detected"] == own["found"]


def test_dashboard_counts_are_the_analysis_own(views: Views) -> None:
    payload = views.dashboard
    for side in views.analysis.sides:
        own = _own(views.analysis, side)
        facts = payload["quality"][side]
        assert facts["strides_used"] == own["used"] and facts["strides_detected"] == own["found"]
        assert payload["meta"]["summary"]["strides_used"][side] == own["used"]
        assert payload["maps"]["stances"][side] == own["stances"]
        rows = payload["strides"][side]["rows"]
        used_column = [c["key"] for c in payload["strides"][side]["columns"]].index("used")
        assert len(rows) == own["found"] and sum(bool(r[used_column]) for r in rows) == own["used"]


def test_exported_tables_counts_are_the_analysis_own(views: Views) -> None:
    strides, steps, summary = views.tables["strides"], views.tables["steps"], views.tables["summary"]
    for side in views.analysis.sides:
        own = _own(views.analysis, side)
        mine = strides[strides["side"] == side]
        assert len(mine) == own["found"] and int(mine["used"].sum()) == own["used"]
        assert int(steps.loc[steps["side"] == side, "used"].sum()) == own["stances"]
        assert int(summary.at[0, f"strides_used_{side}"]) == own["used"]


# ---------------------------------------------------------------- signed measures: R - L, never a symmetry index


def test_signed_measures_are_compared_by_their_difference_in_every_view(views: Views) -> None:
    """A symmetry index (R - L) / mean(R, L) of a measure near 0 or of either sign means nothing (pedar's CPEI,
    5.26 % left and 6.09 % right, read as a 14.6 % asymmetry in the report before): every view gives R - L."""
    analysis = views.analysis
    symmetry = analysis.summary.symmetry
    signed = [m for m in SIGNED_METRICS if m in symmetry.index]
    for metric in signed:
        assert math.isnan(float(symmetry.at[metric, "symmetry_index_pct"])), metric
    rows = {row["key"]: row for row in views.report_json["key_numbers"]}
    for key in SIGNED_KEYS & set(rows):
        row = rows[key]
        assert row["symmetry_index_pct"] is None, key
        metric, factor = ANALYSIS_METRICS[key]
        if row["left"] is not None and row["right"] is not None:
            expected = float(symmetry.at[metric, "difference"]) * factor
            assert row["difference_right_minus_left"] == round(expected, 4), key
            label = re.escape(row["label"])
            assert re.search(rf"<td>{label}.*?R−L [+-]\d", views.report_html, re.S), key
    for row in views.dashboard["symmetry"]:
        if row["metric"] in SIGNED_METRICS:
            assert row["symmetry_index_pct"] is None or math.isnan(row["symmetry_index_pct"]), row["metric"]
    table = views.tables["summary_symmetry"].set_index("metric")
    for metric in signed:
        assert math.isnan(float(table.at[metric, "symmetry_index_pct"])), metric
    if "cpei_pct" in signed and "CPEI (%)" in views.text:
        difference = float(symmetry.at["cpei_pct", "difference"])
        assert re.search(r"CPEI \(%\).*R-L " + re.escape(f"{difference:+.1f}"), views.text)


def test_pedar_cpei_and_cop_offset_show_r_minus_l(shared_data: Path) -> None:
    recording = load(shared_data / FILES["pedar"])
    analysis = analyze(recording)
    rows = {row["key"]: row for row in build_report(recording, analysis=analysis).to_dict()["key_numbers"]}
    assert rows["cpei_pct"]["symmetry_index_pct"] is None and rows["cop_ml_pct"]["symmetry_index_pct"] is None
    # R - L of the analysis' means: 6.0851 - 5.2569 and -3.2930 - (-3.6479)
    assert rows["cpei_pct"]["difference_right_minus_left"] == pytest.approx(0.8283, abs=1e-4)
    assert rows["cop_ml_pct"]["difference_right_minus_left"] == pytest.approx(0.3549, abs=1e-4)


# ---------------------------------------------------------------- uncalibrated insoles: never in body weights

BODY_WEIGHT_UNITS = ("BW", "BW/s", "BW·s", "N")


@pytest.mark.parametrize("name", ["gaitndd/control1.hea", "vendor-exports/stappone_example.csv"])
def test_an_uncalibrated_report_shows_no_number_in_body_weights(shared_data: Path, name: str) -> None:
    """au recordings (gaitndd foot switches, stappone): the analysis scales their forces by the walk's mean load
    and calls it a body weight; the report shows none of them, says why, and never calls au body weights."""
    recording = load(shared_data / name)
    assert recording.unit == "au"
    report = build_report(recording, generated_at="2026-01-01T00:00:00Z")
    data = report.to_dict()
    # one force sensor a foot (gaitndd) has no COP, shares or maps, and says so; control1 stands for a while, whose
    # left/right split of uncalibrated readings is not shown, and the page says why
    expected = (f"{UNCALIBRATED_ONE_SENSOR_STATEMENT} {UNCALIBRATED_STANDING}" if name.startswith("gaitndd")
                else UNCALIBRATED_STATEMENT)
    assert data["units"] == {"force_unit": "au", "calibrated": False, "statement": expected}
    assert not [row["key"] for row in data["key_numbers"] if row["unit"] in BODY_WEIGHT_UNITS]
    for side, feet in data["summary"]["feet"].items():
        assert feet["f1"] is None and feet["loading_rate_bw_s"] is None and feet["valley_ratio"] is None, side
    for quality in data["quality"]:
        if quality["present"]:
            assert not any("metrics are given in body weights" in note for note in quality["notes"]), quality["notes"]
            assert UNCALIBRATED_NOTE in quality["notes"]
    html = render_html(report)
    assert 'class="warn uncalibrated' in html and "metrics are given in body weights" not in html
    # the analysis underneath does carry such numbers: the report withholds them
    summary = analyze(recording).summary
    assert any(math.isfinite(summary.metric("first_peak_bw", side)) for side in recording.sides)


def test_a_calibrated_report_says_its_forces_are_in_body_weights(views: Views) -> None:
    units = views.report_json["units"]
    if views.analysis.unit == "au":
        assert units["calibrated"] is False and 'class="warn uncalibrated' in views.report_html
    else:
        assert units["calibrated"] is True and units["force_unit"] == "BW"
        assert 'class="warn uncalibrated' not in views.report_html


# ---------------------------------------------------------------- the variability figures say how they differ


def test_each_variability_figure_says_what_it_is_beside_it(views: Views) -> None:
    """Plain CV, robust stride-to-stride variability and timing variability give different numbers on one walk;
    each row carries its own sentence, in the JSON and on the page, and each is the analysis' own value."""
    timing = views.analysis.summary.timing_variability
    rows = {row["key"]: row for row in views.report_json["key_numbers"]}
    shown = [key for key in VARIABILITY_NOTES if key in rows]
    assert {"stride_cv_pct", "stride_sd_ms"} <= set(shown)  # every file here has at least 3 strides per foot
    for key in shown:
        row = rows[key]
        assert row["note"] == VARIABILITY_NOTES[key]
        assert row["session"] is None or row["session"] == round(float(timing[key]), 4), key
        assert f'<span class="muted key-note">{html_escape(VARIABILITY_NOTES[key])}</span>' in views.report_html
    assert len(set(VARIABILITY_NOTES.values())) == len(VARIABILITY_NOTES)


# ---------------------------------------------------------------- flagged sensors: every figure they affect says so


def test_pedar_flat_sensors_are_named_beside_every_figure_they_affect(shared_data: Path) -> None:
    """pedar_example: the analysis flags 6 left sensors flat (s69 and s76 medial forefoot; s88, s89, s95 and s99
    lesser toes) and 1 right (s83, hallux); the left lesser-toe share then reads 3.4 % against 7.4 % on the right
    (SI 74 %). Each share, PTI row and whole-foot measure resting on them names them; the others do not."""
    recording = load(shared_data / FILES["pedar"])
    analysis = analyze(recording)
    flags = {side: sorted(f["sensor"] for f in analysis.quality[side]["sensor_flags"]) for side in analysis.sides}
    assert flags == {"left": ["s69", "s76", "s88", "s89", "s95", "s99"], "right": ["s83"]}
    report = build_report(recording, analysis=analysis, generated_at="2026-01-01T00:00:00Z")
    data = report.to_dict()
    rows = {row["key"]: row for row in data["key_numbers"]}
    lesser = rows["share_lesser_toes"]["sensor_caveat"]
    assert "left foot: 4 sensors" in lesser and "s88, s89, s95, s99" in lesser and "right foot" not in lesser
    hallux = rows["share_hallux"]["sensor_caveat"]
    assert "right foot: 1 sensor" in hallux and "(s83)" in hallux and "left foot" not in hallux
    assert rows["share_heel"]["sensor_caveat"] is None and rows["share_midfoot"]["sensor_caveat"] is None
    for key in ("share_front", "f1", "loading_rate_bw_s", "cop_ml_pct", "cpei_pct"):
        assert "s69" in rows[key]["sensor_caveat"] and "s83" in rows[key]["sensor_caveat"], key
    for key in ("stance_s", "stance_pct", "step_s", "cadence_steps_per_min"):
        assert rows[key]["sensor_caveat"] is None, key  # timing rests on the foot's total load only
    pti = {row["region"]: row for row in data["pressure_time_integral"]["rows"]}
    assert {region for region, row in pti.items() if row["sensor_caveat"]} == {
        "medial_forefoot", "forefoot", "hallux", "lesser_toes", "toes"}
    caveats = data["sensor_caveats"]
    assert caveats["summary"].startswith("Sensors flagged in the data-quality checks: left foot s69, s76, s88, s89, "
                                         "s95, s99 (flat (never changed: dead or never loaded); forefoot, toes)")
    html = render_html(report)
    # once in full above the key numbers, then one line under each figure comparing the feet's loads
    assert html.count('<p class="warn sensor-caveats keep-with-next">') == 1
    figure_line = html_escape(caveats["figure_line"], quote=False)
    assert caveats["figure_line"].startswith("\u26a0 This figure rests on sensors flagged in the data-quality checks "
                                             "(left foot s69, s76, s88, s89, s95, s99; right foot s83)")
    for section in ("left-right", "force-curves", "cop", "load-maps"):
        body = re.search(rf'<section id="{section}".*?</section>', html, re.S)
        assert body and f'<p class="warn sensor-caveats">{figure_line}</p>' in body.group(0), section
    assert html_escape(lesser, quote=False) in html


def test_a_dense_grid_does_not_name_its_unloaded_cells(shared_data: Path) -> None:
    """F-Scan: 484 of 955 cells never load (outside the footprint) and are flagged flat; naming them would bury
    the page, so flat cells are named only when they are at most 10 % of the layout's."""
    recording = load(shared_data / "vendor-exports/fscan_testL.asf")
    analysis = analyze(recording)
    assert sum(f["status"] == "flat" for f in analysis.quality["left"]["sensor_flags"]) == 484
    data = build_report(recording, analysis=analysis, generated_at="2026-01-01T00:00:00Z").to_dict()
    assert data["sensor_caveats"]["summary"] is None
    assert not [row["key"] for row in data["key_numbers"] if row["sensor_caveat"]]


def test_a_sensor_dying_mid_walk_is_named_beside_the_heel_share_and_any_finding_on_it() -> None:
    walk = simulate(SimulationParams(pattern="normal", duration_s=60.0, seed=1))
    assert walk.left is not None
    values = np.array(walk.left.values, dtype=float)
    values[3000:, walk.layout.sensor_names.index("heel_med_post")] = 0.0  # dead from 30 s
    recording = walk.replace(left=dataclasses.replace(walk.left, values=values))
    report = build_report(recording, generated_at="2026-01-01T00:00:00Z")
    rows = {row["key"]: row for row in report.to_dict()["key_numbers"]}
    assert "left foot: 1 sensor in this region flagged dead" in rows["share_heel"]["sensor_caveat"]
    assert "(heel_med_post): its load is missing" in rows["share_heel"]["sensor_caveat"]
    assert rows["share_front"]["sensor_caveat"] is None
    # a finding on the heel share (one of the rule tests' findings, put on this report) carries the same sentence
    finding = next(f for f in _rule_findings() if f.measured.metric == "share_heel")
    report.result = dataclasses.replace(report.result, findings=(dataclasses.replace(finding, side="left"),))
    html = render_html(report)
    section = re.search(r'<div class="finding".*?References:', html, re.S)
    assert section and html_escape(rows["share_heel"]["sensor_caveat"], quote=False) in section.group(0)


def test_the_dashboard_stride_table_of_an_uncalibrated_walk_has_no_body_weight_column(shared_data: Path) -> None:
    recording = load(shared_data / "gaitndd/control1.hea")
    html = build_dashboard(recording, analyze(recording))
    found = re.search(r'<script type="application/json" id="payload">(.*?)</script>', html, re.S)
    assert found
    units = {c["unit"] for c in json.loads(found.group(1))["strides"]["left"]["columns"]}
    assert not units & set(BODY_WEIGHT_UNITS)

"""One analysis, many views: the report, the dashboard, the exports and batch show the analysis' own numbers.

For one recording of each kind (Moticon, gaitpdb, gaitndd, pedar, F-Scan, and
a simulated walk whose left heel sensor dies at 30 s) every number the views
give for the recording is compared with the ``Analysis`` value it shows:
stance and swing time, cadence, loading rate, per-sensor load maps, regional
shares and symmetry indices.

Equality is exact wherever a view carries the number as a float (the
dashboard's embedded JSON, the export tables, the batch row). The report's
JSON rounds every number to 4 decimals (``insole.report._model.json_number``),
so there the check is ``round(value, 4)``, again exact. The one tolerance is
for the findings' measured values, which the findings engine takes as means of
the same per-stride rows itself (same rows, another summation order: they may
differ from the analysis' mean in the last bits, so by at most one unit in the
4th decimal after rounding).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboards import build_dashboard
from insole import Recording, load
from insole.analysis import Analysis, analyze, metric_unit
from insole.batch import metric_columns
from insole.io import analysis_tables, write_tables
from insole.report import build_report
from insole.simulate import SimulationParams, simulate

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
DEAD_SENSOR = "heel_med_post"
CASES = ("moticon", "gaitpdb", "gaitndd", "pedar", "fscan", "dead_heel")

# report key-number / per-foot metric -> the analysis' per-foot metric it shows (shares: the report's summary
# keeps them as fractions, its key numbers in %)
FOOT_METRICS = {
    "stance_s": "stance_time_s",
    "stance_pct": "stance_pct",
    "f1": "first_peak_bw",
    "loading_rate_bw_s": "loading_rate_bw_s",
    "share_heel": "heel_share_pct",
    "share_midfoot": "midfoot_share_pct",
    "share_hallux": "hallux_share_pct",
    "share_lesser_toes": "lesser_toes_share_pct",
}
SESSION_SYMMETRY = {"stance_si_pct": "stance_time_s", "impulse_si_pct": "impulse_bw_s",
                    "peak_force_si_pct": "max_force_bw"}


def _report_number(value: float) -> float | None:
    """How the report's JSON writes a number (``json_number``): 4 decimals, None for NaN."""
    return round(float(value), 4) if math.isfinite(value) else None


def _plain(values: Any) -> np.ndarray:
    """JSON numbers (None for NaN) as a float array."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _figure_values(array: Any) -> np.ndarray:
    """A plotly figure's data array: a list, or plotly's typed array ``{"dtype", "bdata"}``."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).astype(float)
    return _plain(array)


@dataclass(frozen=True)
class Views:
    recording: Recording
    analysis: Analysis
    report: Any  # insole.report.Report
    report_json: dict[str, Any]
    dashboard: dict[str, Any]  # the payload the dashboard page embeds, parsed back from the HTML


def _dead_heel() -> Recording:
    """A simulated walk (the seed the sensor-check tests use) whose left heel sensor reads 0 from 30 s."""
    walk = simulate(SimulationParams(pattern="normal", duration_s=60.0, seed=1))
    values = np.array(walk.left.values, dtype=float)
    values[3000:, walk.layout.sensor_names.index(DEAD_SENSOR)] = 0.0
    return walk.replace(left=dataclasses.replace(walk.left, values=values))


def _recording(name: str, shared_data: Path) -> Recording:
    vendor = shared_data / "vendor-exports"
    paths = {
        "moticon": RECORDINGS / "moticon_230927_102114.parquet",
        "gaitpdb": RECORDINGS / "gaitpdb_GaCo01_01_60s.parquet",
        "gaitndd": RECORDINGS / "gaitndd_control1.parquet",
        "pedar": vendor / "pedar_example.asc",
        "fscan": vendor / "fscan_testL.asf",
    }
    return _dead_heel() if name == "dead_heel" else load(paths[name])


@pytest.fixture(scope="module", params=CASES)
def views(request: pytest.FixtureRequest, shared_data: Path) -> Views:
    recording = _recording(request.param, shared_data)
    analysis = analyze(recording)
    report = build_report(recording, analysis=analysis, generated_at="2026-01-01T00:00:00Z")
    html = build_dashboard(recording, analysis)
    found = re.search(r'<script type="application/json" id="payload">(.*?)</script>', html, re.S)
    assert found, "the dashboard embeds no payload"
    return Views(recording, analysis, report, report.to_dict(), json.loads(found.group(1)))


# ---------------------------------------------------------------- the report


def test_report_key_numbers_are_the_analysis_means_and_symmetry_indices(views: Views) -> None:
    analysis, summary = views.analysis, views.analysis.summary
    rows = {row["key"]: row for row in views.report_json["key_numbers"]}
    assert "stance_s" in rows and "cadence_steps_per_min" in rows  # every recording here has walking strides
    for key, metric in FOOT_METRICS.items():
        if key not in rows:
            continue
        row = rows[key]
        for side in ("left", "right"):
            expected = summary.metric(metric, side) if side in analysis.sides else math.nan
            assert row[side] == _report_number(expected), (key, side)
        si = summary.symmetry.at[metric, "symmetry_index_pct"] if metric in summary.symmetry.index else math.nan
        assert row["symmetry_index_pct"] == _report_number(si), key
    assert rows["cadence_steps_per_min"]["session"] == _report_number(summary.cadence_steps_per_min)
    for key, metric in SESSION_SYMMETRY.items():
        if key in rows:
            assert rows[key]["session"] == _report_number(summary.symmetry.at[metric, "symmetry_index_pct"]), key


def test_report_summary_counts_and_means_are_the_analysis_own(views: Views) -> None:
    analysis, summary = views.analysis, views.analysis.summary
    data = views.report_json["summary"]
    for side in analysis.sides:
        feet = data["feet"][side]
        # the report's steps are the analysis' used strides: "steps used" is their number
        assert feet["n_steps"] == feet["n_strides"] == summary.strides_used[side]
        quality = next(q for q in views.report_json["quality"] if q["side"] == side)
        assert quality["steps_used"] == quality["strides_used"] == summary.strides_used[side]
        assert feet["stance_s"] == _report_number(summary.metric("stance_time_s", side))
        for key, metric in FOOT_METRICS.items():
            if key.startswith("share_") and feet.get(key) is not None:
                assert feet[key] == _report_number(0.01 * summary.metric(metric, side)), (side, key)
    session = data["session"]
    assert session["cadence_steps_per_min"] == _report_number(summary.cadence_steps_per_min)
    if len(analysis.sides) == 2:
        for key, metric in SESSION_SYMMETRY.items():
            if session.get(key) is not None:
                assert session[key] == _report_number(summary.symmetry.at[metric, "symmetry_index_pct"]), key
    # the analysis summary the report embeds is the analysis' JSON summary itself
    assert data["analysis"] == analysis.to_dict()["summary"]


def test_report_findings_measure_what_the_analysis_measured(views: Views) -> None:
    summary = views.analysis.summary
    scale = {"share_heel": 1.0, "share_midfoot": 1.0, "share_hallux": 1.0, "share_lesser_toes": 1.0}
    for finding in views.report_json["findings"]:
        measured, side = finding["measured"], finding["side"]
        metric = FOOT_METRICS.get(measured["metric"])
        if metric is None or side not in ("left", "right"):
            continue
        other = "right" if side == "left" else "left"
        factor = scale.get(measured["metric"], 1.0)
        # same rows, another summation order: one unit of the 4th decimal at most (module docstring)
        assert measured["value"] == pytest.approx(factor * summary.metric(metric, side), abs=1.5e-4)
        assert measured["other_foot_value"] == pytest.approx(factor * summary.metric(metric, other), abs=1.5e-4)


def test_report_load_maps_are_the_analysis_sensor_maps(views: Views) -> None:
    for side in views.analysis.sides:
        maps = views.analysis.sensor_maps(side)
        foot = views.report.session.feet[side]
        np.testing.assert_array_equal(foot.sensor_peak, maps["peak"])
        np.testing.assert_array_equal(foot.sensor_pti, maps["integral"])


# ---------------------------------------------------------------- the dashboard


def test_dashboard_tables_are_the_analysis_own(views: Views) -> None:
    analysis, payload = views.analysis, views.dashboard
    summary = analysis.summary
    assert payload["meta"]["summary"]["cadence_steps_per_min"] == summary.cadence_steps_per_min
    assert payload["meta"]["summary"]["strides_used"] == dict(summary.strides_used)
    for row in payload["symmetry"]:
        metric = row["metric"]
        assert row["unit"] == metric_unit(metric)
        for side in ("left", "right"):
            assert _plain([row[f"{side}_mean"]])[0] == pytest.approx(summary.metric(metric, side), rel=0, abs=0,
                                                                      nan_ok=True)
        si = summary.symmetry.at[metric, "symmetry_index_pct"]
        assert _plain([row["symmetry_index_pct"]])[0] == pytest.approx(si, rel=0, abs=0, nan_ok=True)
        assert row["difference"] == summary.symmetry.at[metric, "difference"]
    if len(analysis.sides) == 2:
        shown = {row["metric"] for row in payload["symmetry"]}
        assert "stance_time_s" in shown and "swing_time_s" in shown
        rate = next((row for row in payload["symmetry"] if row["metric"].startswith("loading_rate")), None)
        if rate is not None:  # a rate: force per second, never the impulse's N·s
            assert rate["unit"] in ("N/s", "BW/s", "au/s")
    for side in analysis.sides:
        table = payload["strides"][side]
        keys = [c["key"] for c in table["columns"]]
        strides = analysis.strides[side]
        for column in ("stance_time_s", "swing_time_s", "cadence_steps_per_min", "loading_rate_bw_s", "heel_share_pct"):
            if column in keys:
                shown = _plain([r[keys.index(column)] for r in table["rows"]])
                np.testing.assert_array_equal(shown, strides[column].to_numpy(float), err_msg=f"{side} {column}")


def test_dashboard_maps_and_regions_are_the_analysis_own(views: Views) -> None:
    analysis, payload = views.analysis, views.dashboard
    assert payload["maps"]["unit"] == views.recording.unit
    for side in analysis.sides:
        maps = analysis.sensor_maps(side)
        for name, statistic in (("peak", "peak"), ("mean", "mean"), ("pti", "integral")):
            shown = _plain(payload["maps"][name][side])
            np.testing.assert_array_equal(shown, maps[statistic], err_msg=f"{side} {name}")
        assert payload["maps"]["stances"][side] == int(analysis.steps[side]["used"].sum())
    figure = payload["figures"]["regions"]
    if figure is not None:
        for trace in figure["data"]:
            regions = analysis.regions[trace["name"]].set_index("region")
            shares = regions.loc[list(trace["x"]), "share_pct_mean"].to_numpy(float)
            np.testing.assert_array_equal(_figure_values(trace["y"]), shares)


# ---------------------------------------------------------------- exports and batch


def test_exported_tables_are_the_analysis_own(views: Views, tmp_path: Path) -> None:
    analysis, summary = views.analysis, views.analysis.summary
    tables = analysis_tables(analysis)
    write_tables(tables, tmp_path)
    for reader, suffix in ((pd.read_parquet, "parquet"), (pd.read_csv, "csv")):
        strides = reader(tmp_path / f"strides.{suffix}")
        for side in analysis.sides:
            mine = strides[strides["side"] == side]
            for column in ("stance_time_s", "swing_time_s", "cadence_steps_per_min"):
                expected = analysis.strides[side][column].to_numpy(float)
                np.testing.assert_array_equal(mine[column].to_numpy(float), expected, err_msg=column)
        per_foot = reader(tmp_path / f"summary_per_foot.{suffix}").set_index("metric")
        symmetry = reader(tmp_path / f"summary_symmetry.{suffix}").set_index("metric")
        for metric in ("stance_time_s", "swing_time_s", "loading_rate_n_s", "loading_rate_bw_s", "heel_share_pct"):
            for side in analysis.sides:
                if metric in per_foot.index:
                    assert per_foot.at[metric, f"{side}_mean"] == pytest.approx(
                        summary.metric(metric, side), rel=0, abs=0, nan_ok=True)
            if metric in symmetry.index:
                assert symmetry.at[metric, "symmetry_index_pct"] == pytest.approx(
                    summary.symmetry.at[metric, "symmetry_index_pct"], rel=0, abs=0, nan_ok=True)
        row = reader(tmp_path / f"summary.{suffix}").iloc[0]
        assert row["cadence_steps_per_min"] == summary.cadence_steps_per_min
        sensors = reader(tmp_path / f"sensors.{suffix}")
        regions = reader(tmp_path / f"regions.{suffix}")
        for side in analysis.sides:
            mine = sensors[sensors["side"] == side]
            for column in analysis.sensors[side].columns:
                if column.startswith(("peak_", "mean_", "pti_", "fti_", "ti_", "share_")):
                    # per-sensor maps are float32 (as recorded); CSV writes a float32's shortest exact form
                    expected = analysis.sensors[side][column].to_numpy()
                    np.testing.assert_array_equal(mine[column].to_numpy(expected.dtype), expected, err_msg=column)
            if "share_pct_mean" in analysis.regions[side]:
                np.testing.assert_array_equal(regions.loc[regions["side"] == side, "share_pct_mean"].to_numpy(float),
                                              analysis.regions[side]["share_pct_mean"].to_numpy(float))


def test_batch_row_is_the_analysis_own(views: Views) -> None:
    analysis, summary = views.analysis, views.analysis.summary
    row = metric_columns(analysis)
    assert row["cadence_steps_per_min"] == summary.cadence_steps_per_min
    for side in analysis.sides:
        assert row[f"{side}_stance_time_s"] == summary.metric("stance_time_s", side)
        assert row[f"{side}_swing_time_s"] == summary.metric("swing_time_s", side)
        assert row[f"{side}_stride_time_robust_cv_pct"] == pytest.approx(
            summary.stride_time_robust_cv_pct[side], rel=0, abs=0, nan_ok=True)
    if len(analysis.sides) == 2:
        symmetry = summary.symmetry
        for metric in ("stance_time_s", "loading_rate_n_s", "loading_rate_bw_s"):
            if metric not in symmetry.index:
                continue
            if "uncalibrated_force" in symmetry and bool(symmetry.at[metric, "uncalibrated_force"]):
                # a force index of uncalibrated insoles (gaitndd) is not shown by the report: empty, and named
                assert math.isnan(row[f"{metric}_si_pct"]) and metric in row["si_not_comparable"]
            else:
                assert row[f"{metric}_si_pct"] == pytest.approx(symmetry.at[metric, "symmetry_index_pct"],
                                                                rel=0, abs=0, nan_ok=True)


# ---------------------------------------------------------------- the long-form tables


def test_long_form_frames_hold_every_row_of_both_feet_with_a_side(views: Views) -> None:
    analysis = views.analysis
    for frame, tables in ((analysis.strides_frame(), analysis.strides), (analysis.steps_frame(), analysis.steps),
                          (analysis.sensors_frame(), analysis.sensors), (analysis.regions_frame(), analysis.regions)):
        assert frame.columns[0] == "side"
        assert list(frame["side"]) == [side for side in analysis.sides for _ in range(len(tables[side]))]
        for side in analysis.sides:
            if len(tables[side]) == 0:  # e.g. no region groups on a one-sensor foot switch
                continue
            mine = frame[frame["side"] == side].drop(columns="side").reset_index(drop=True)
            pd.testing.assert_frame_equal(mine[list(tables[side].columns)], tables[side].reset_index(drop=True),
                                          check_dtype=False)
        if "used" in frame:
            assert frame["used"].dtype == bool


# ---------------------------------------------------------------- the dead heel sensor, with its known answer


def test_a_dead_heel_sensor_shows_one_peak_everywhere(shared_data: Path) -> None:
    """With the heel sensor dead from 30 s, every view shows the analysis' heel peak: within a few per cent of
    the clean walk's (its ~25 working stances), not the ~half that counting dead stances as zero gave."""
    dead = _dead_heel()
    clean = simulate(SimulationParams(pattern="normal", duration_s=60.0, seed=1))
    analysis, reference = analyze(dead), analyze(clean)
    j = dead.layout.sensor_names.index(DEAD_SENSOR)
    peak = analysis.sensor_maps("left")["peak"][j]
    # stance-to-stance variation of the simulated heel peak is a few per cent
    assert peak == pytest.approx(reference.sensor_maps("left")["peak"][j], rel=0.05)
    report = build_report(dead, analysis=analysis)
    assert report.session.feet["left"].sensor_peak[j] == peak
    html = build_dashboard(dead, analysis)
    payload = json.loads(re.search(r'<script type="application/json" id="payload">(.*?)</script>', html, re.S).group(1))
    assert payload["maps"]["peak"]["left"][j] == peak

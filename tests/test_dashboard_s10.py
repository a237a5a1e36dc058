"""What a new user found on the offline dashboard (session 10): one unit for a measure on the page, the body weight
check where the figures in body weights are, a one-sensor layout's missing maps said as missing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dashboards import write_dashboard
from dashboards._offline import dashboard_payload
from insole import load
from insole._cli import main
from insole.analysis import AnalysisParams, analyze

REPO = Path(__file__).resolve().parents[1]
GAITPDB = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"  # calibrated (N), 83 kg in its metadata
GAITNDD = REPO / "recordings" / "gaitndd_control1.parquet"  # one foot switch a foot, uncalibrated (au)
FORCE_ROWS = {"peak force": ("max_force_bw", "BW"), "first force peak": ("first_peak_bw", "BW"),
              "second force peak": ("second_peak_bw", "BW"), "force impulse": ("impulse_bw_s", "BW·s"),
              "loading rate": ("loading_rate_bw_s", "BW/s")}


def _payload_from_html(text: str) -> dict:
    found = re.search(r'<script type="application/json" id="payload">(.*?)</script>', text, re.S)
    assert found, "payload block missing"
    return json.loads(found.group(1))


def _force_rows(payload: dict) -> dict[str, dict]:
    return {row["label"]: row for row in payload["symmetry"] if row["label"] in FORCE_ROWS}


def test_the_left_right_table_is_in_body_weights_as_the_stride_table() -> None:
    """The left/right table gave a loading rate of 5224 N/s beside the stride table's and the curves' 6.4 BW/s: its
    force rows are now the analysis' BW figures, the stride table's unit; the symmetry index is the same number."""
    recording = load(GAITPDB)
    analysis = analyze(recording)
    payload = dashboard_payload(recording, analysis)
    rows = _force_rows(payload)
    assert set(rows) == set(FORCE_ROWS)
    per_foot, symmetry = analysis.summary.per_foot, analysis.summary.symmetry
    for label, (metric, unit) in FORCE_ROWS.items():
        row = rows[label]
        assert (row["metric"], row["unit"]) == (metric, unit), label
        assert row["left_mean"] == per_foot.at[metric, "left_mean"]
        assert row["right_sd"] == per_foot.at[metric, "right_sd"]
        # the same index as the newton row's (one body weight scales both feet), to rounding of the division
        assert row["symmetry_index_pct"] == pytest.approx(symmetry.at[metric.replace("_bw", "_n"),
                                                                      "symmetry_index_pct"], abs=1e-9)
    stride_units = {c["key"]: c["unit"] for c in payload["strides"]["left"]["columns"]}
    assert stride_units["loading_rate_bw_s"] == rows["loading rate"]["unit"] == "BW/s"
    assert not any(key.endswith(("_n", "_n_s")) for key in stride_units)


def test_uncalibrated_insoles_have_no_figure_in_body_weights() -> None:
    payload = dashboard_payload(load(GAITNDD))
    assert payload["meta"]["summary"]["in_body_weights"] is False
    assert [row["unit"] for row in payload["symmetry"]] == ["s", "s", "s", "s"]  # timing only: one switch a foot
    assert not any(c["unit"].startswith(("BW", "N")) for c in payload["strides"]["left"]["columns"])


def test_dashboard_mass_sets_the_body_weight_of_the_tables(tmp_path: Path) -> None:
    """`insole dashboard --mass-kg 80` said "forces then read in body weights" and the table stayed in N: now its
    force rows are in BW from 80 kg (not the file's 83 kg), as the analysis with that mass gives them."""
    out = tmp_path / "d.html"
    assert main(["dashboard", str(GAITPDB), "--mass-kg", "80", "--out", str(out)]) == 0
    payload = _payload_from_html(out.read_text())
    expected = analyze(load(GAITPDB), AnalysisParams(body_mass_kg=80.0)).summary.per_foot
    rows = _force_rows(payload)
    for label, (metric, unit) in FORCE_ROWS.items():
        assert (rows[label]["unit"], rows[label]["left_mean"]) == (unit, expected.at[metric, "left_mean"]), label
    assert payload["meta"]["summary"]["body_weight_source"].startswith("body mass 80 kg")


def test_the_body_weight_check_travels_with_the_summary() -> None:
    """gaitpdb's insoles read some 1.3-1.5 x mass x g: the analysis' check note is in the page's summary (shown at
    the top and under the stance curves), not only in each foot's quality notes."""
    recording = load(GAITPDB)
    analysis = analyze(recording)
    note = analysis.summary.body_weight["note"]
    assert note and note.startswith("body weight check:")  # the file is what this test is about
    summary = dashboard_payload(recording, analysis)["meta"]["summary"]
    assert summary["body_weight_note"] == note and summary["in_body_weights"] is True


@pytest.mark.browser
def test_the_page_shows_the_check_at_the_top_and_under_the_curves_and_no_maps_for_one_sensor(tmp_path: Path) -> None:
    """GaCo01 (gaitpdb): the failed body weight check is in the banner and under the stance curves (it was only a
    note of each foot's quality card, at the bottom); the left/right table's loading rate in BW/s. gaitndd control1
    (one sensor a foot): the banner says maps and centre of pressure are not available (it said "indicative")."""
    from browser import chromium, wait_for

    recording = load(GAITPDB)
    note = analyze(recording).summary.body_weight["note"]
    calibrated = write_dashboard(recording, tmp_path / "gaitpdb.html")
    switches = write_dashboard(load(GAITNDD), tmp_path / "gaitndd.html")
    with chromium() as (context, _):
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(calibrated.as_uri())
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        banner = page.locator("#warnings").inner_text()
        under_curves = page.locator("#curves-bw-check").inner_text()
        source = page.locator("#curves-note").inner_text()
        rate = page.locator("#sym-table tr", has_text="loading rate").locator("td").first.inner_text()
        page.goto(switches.as_uri())
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        one_sensor = page.locator("#warnings").inner_text()
        hidden = page.locator("#curves-note").is_hidden() and page.locator("#curves-bw-check").is_hidden()
        stats_errors = page.evaluate("() => window.__dashboardStats.errors")
        page.close()
    assert errors == [] and stats_errors == []
    assert note.startswith("body weight check: ")  # the page says it once, capitalised
    assert (f"Body weight check: {note.removeprefix('body weight check: ')} (the stance curves, the left/right table "
            "and the stride table are in BW).") in banner
    assert under_curves == f"\u26a0 {note}"
    assert source.startswith("BW: body weight, body mass 83 kg (recording metadata, from the subject table "
                             "demographics.txt) x g = 814 N")
    assert rate.split() == ["loading", "rate", "BW/s"]
    assert ("Layout footswitch1 has one sensor per foot: pressure maps and centre of pressure are not available "
            "(each foot\u2019s load over time is).") in one_sensor
    assert "indicative" not in one_sensor
    assert hidden  # an uncalibrated walk has no figure in BW: no body weight line


def test_dashboard_mass_help_says_what_the_mass_changes(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["dashboard", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ("the page's force figures (stance curves, left/right table, stride table) are in body weights (BW), "
            "mass x g.") in text
    assert "forces then read in body weights" not in text

"""Issue 16, Deliver 5: what clinicians expect to read.

Age- and sex-banded cadence and walking-speed norms from the real controls (band making, band picking, a
recording with a given age and sex judged against its band's limits), contact area and arch index of a
footprint with a known answer, and the robust CV that reads "n/a" instead of 0.00 % when its MAD is 0.
"""

from __future__ import annotations

import dataclasses
import json
import math
from importlib import resources
from typing import Any

import numpy as np
import pytest

from insole.report._build import key_numbers, person_record
from insole.report._reference import NormBand, build_norm_bands, load_norms, norm_band_for, norm_stats


def _people(n: int, age: float, sex: str, cadence: float = 110.0, speed: float = 1.2) -> list[dict[str, Any]]:
    # cadence and speed step by 2 and 0.02 from the given value: a spread with an SD that is not zero
    return [{"age_years": age, "sex": sex, "dataset": "synthetic", "cadence_steps_per_min": cadence + 2 * i,
             "gait_speed_m_per_s": speed + 0.02 * i} for i in range(n)]


def _by_key(bands: list[NormBand]) -> dict[str, NormBand]:
    return {b.key: b for b in bands}


# ---------------------------------------------------------------- the bands


def test_prediction_interval_of_a_band_by_hand():
    """100, 102, ..., 114 (n = 8): mean 107, sample variance 4 x var(0..7) = 24, t(0.975, 7) = 2.3646,
    half width 2.3646 x sqrt(24) x sqrt(1 + 1/8) = 12.29 (worked by hand)."""
    figures = norm_stats([100.0 + 2 * i for i in range(8)])
    assert figures is not None
    assert figures["n"] == 8 and figures["mean"] == 107.0 and figures["median"] == 107.0
    assert round(figures["sd"] ** 2, 9) == 24.0
    assert (round(figures["low"], 2), round(figures["high"], 2)) == (94.71, 119.29)
    assert (figures["min"], figures["max"]) == (100.0, 114.0)
    assert norm_stats([1.0, 2.0]) is None  # no interval from two people
    assert norm_stats([1.0, float("nan"), None, 2.0]) is None  # missing values are not people


def test_bands_split_by_sex_only_where_both_sexes_have_eight():
    people = (_people(8, 40, "female") + _people(5, 45, "male")  # under 55: 5 men, pooled
              + _people(9, 70, "female") + _people(10, 75, "male")  # 65 and over: split
              + _people(4, 60, "male"))  # 55-64: 4 people in all, no band
    bands = _by_key(build_norm_bands(people))
    assert sorted(bands) == ["65-and-over/both", "65-and-over/female", "65-and-over/male", "all-ages/both",
                             "all-ages/female", "all-ages/male", "under-55/both"]
    young = bands["under-55/both"]
    assert (young.n, young.women, young.men, young.ages) == (13, 8, 5, (40.0, 45.0))
    assert young.note == "women and men pooled: 5 men (fewer than 8)"
    assert (bands["65-and-over/female"].n, bands["65-and-over/male"].n, bands["65-and-over/both"].n) == (9, 10, 19)
    assert bands["65-and-over/female"].note == "" and bands["65-and-over/female"].label == "women aged 65 and over"
    assert bands["all-ages/both"].n == 36 and bands["all-ages/male"].n == 19
    # the female 65+ band's cadence: 110, 112, ..., 126
    assert bands["65-and-over/female"].stats["cadence_steps_per_min"]["mean"] == 118.0


@pytest.mark.parametrize(("age", "sex", "expected"), [
    (70, "female", "65-and-over/female"),
    (70, "F", "65-and-over/female"),  # the file's own spelling (gaitndd: "f")
    (82.0, "male", "65-and-over/male"),
    (70, None, "65-and-over/both"),  # sex not given: both sexes of the age band
    (40, "male", "under-55/both"),  # under 55 the sexes are pooled
    (60, "female", "all-ages/female"),  # no 55-64 band: the sex, all ages
    (None, "male", "all-ages/male"),
    (None, None, "all-ages/both"),
    ("unknown", "x", "all-ages/both"),
    (65, "female", "65-and-over/female"),  # the band's lower edge is inside it
    (64.5, "female", "all-ages/female"),  # 64.5 is in no whole-year age band from 65
])
def test_a_person_gets_the_most_specific_band_that_holds_them(age, sex, expected):
    people = (_people(8, 40, "female") + _people(5, 45, "male") + _people(9, 70, "female")
              + _people(10, 75, "male") + _people(4, 60, "male"))
    band = norm_band_for(build_norm_bands(people), age, sex)
    assert band is not None and band.key == expected


def test_no_bands_no_band():
    assert norm_band_for([], 70, "female") is None
    assert build_norm_bands(_people(7, 70, "female")) == []  # 7 people: fewer than 8, no band at all


# ---------------------------------------------------------------- a recording judged against its band


def _walk(age: float | None, sex: str | None) -> Any:
    from insole.simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(pattern="normal", duration_s=40.0, seed=11))
    person = {k: v for k, v in (("age_years", age), ("sex", sex), ("gait_speed_m_per_s", 1.1)) if v is not None}
    return recording.with_meta(extra={**(recording.meta.extra or {}), "demographics": person})


def _norm_rows(recording: Any, bands: list[NormBand]) -> dict[str, dict[str, Any]]:
    from insole.report._metrics import session_metrics

    rows = key_numbers(session_metrics(recording), (), person_record(recording), norms=bands)
    return {r.key: r.to_dict() for r in rows}


def test_a_recording_with_age_and_sex_is_judged_against_its_band():
    """A 70-year-old woman: cadence against the women 65+ band's interval, speed too; marked when outside."""
    # women 65+: cadence 150..166 (far above any simulated walker), speed 1.30..1.46 (above 1.1 m/s)
    people = (_people(9, 70, "female", cadence=150.0, speed=1.3) + _people(10, 75, "male", cadence=80.0, speed=0.5)
              + _people(8, 40, "female"))
    bands = build_norm_bands(people)
    women = _by_key(bands)["65-and-over/female"]
    rows = _norm_rows(_walk(70, "female"), bands)
    cadence = rows["cadence_steps_per_min"]
    low, high = women.interval("cadence_steps_per_min") or (math.nan, math.nan)
    assert cadence["real_range"] == [round(low, 4), round(high, 4)]
    assert cadence["session"] < low
    assert cadence["outside_real_range"] == ["session"] and cadence["outside_direction"] == {"session": "below"}
    assert cadence["norm_band"]["key"] == "65-and-over/female"
    assert cadence["norm_band"]["compared_as"] == "age 70 and female from the file"
    assert "women aged 65 and over: " in cadence["reference"]
    assert "[real controls, age 70 and female from the file]" in cadence["reference"]
    speed = rows["gait_speed_m_per_s"]
    assert speed["session"] == 1.1 and speed["outside_direction"] == {"session": "below"}
    s_low, s_high = women.interval("gait_speed_m_per_s") or (math.nan, math.nan)
    assert speed["real_range"] == [round(s_low, 4), round(s_high, 4)]
    # the same walk of a 75-year-old man is above the men's band (cadence 80..98, speed 0.50..0.68)
    men = _norm_rows(_walk(75, "male"), bands)
    assert men["cadence_steps_per_min"]["outside_direction"] == {"session": "above"}
    assert men["gait_speed_m_per_s"]["outside_direction"] == {"session": "above"}


def test_without_age_and_sex_every_control_is_the_reference():
    people = _people(9, 70, "female", cadence=150.0) + _people(10, 75, "male", cadence=80.0)
    bands = build_norm_bands(people)
    row = _norm_rows(_walk(None, None), bands)["cadence_steps_per_min"]
    assert row["norm_band"]["key"] == "all-ages/both" and row["norm_band"]["n"] == 19
    assert row["norm_band"]["compared_as"] == "age and sex not given: all real controls"
    assert "all real controls: " in row["reference"]
    everyone = _by_key(bands)["all-ages/both"].interval("cadence_steps_per_min")
    assert everyone is not None and row["real_range"] == [round(v, 4) for v in everyone]


# ---------------------------------------------------------------- the stored norms, from real people


def _stored() -> dict[str, Any]:
    entry = resources.files("insole.report").joinpath("_data", "norms", "cadence-speed.json")
    return json.loads(entry.read_text(encoding="utf-8"))


def test_stored_norms_hold_enough_people_per_band_with_their_sources():
    doc = _stored()
    bands = {b.key: b for b in load_norms()}
    assert sorted(bands) == ["55-64/both", "65-and-over/both", "65-and-over/female", "65-and-over/male",
                             "all-ages/both", "all-ages/female", "all-ages/male", "under-55/both"]
    assert all(b.n >= 8 for b in bands.values())
    assert bands["all-ages/both"].n == len(doc["people"]) == 46
    assert (bands["all-ages/both"].women, bands["all-ages/both"].men) == (23, 23)
    assert bands["under-55/both"].note == "women and men pooled: 5 men (fewer than 8)"
    assert bands["55-64/both"].note == "women and men pooled: 7 women, 7 men (fewer than 8)"
    assert (bands["65-and-over/female"].n, bands["65-and-over/male"].n) == (8, 11)
    assert set(doc["sources"]) == {"gaitpdb", "gaitpdb-cohort", "gaitndd", "gaitndd-cohort"}
    assert all("PhysioNet" in text for text in doc["sources"].values())
    # every band is made of the people listed: its n and sexes recount from them
    for band in bands.values():
        members = [p for p in doc["people"] if band.contains(p["age_years"], p["sex"])]
        assert len(members) == band.n, band.key


def test_stored_norms_match_the_stored_reference_sets(shared_data):
    """The norms' people are the real control sets' recordings with the same age, sex, speed and cadence: when
    the analysis changes and the reference sets are rebuilt, rebuild the norms too
    (python docs/scripts/build_norms.py)."""
    from insole.report._reference import load_reference_sets

    recorded = {r["file"]: r for ref in load_reference_sets() if ref.name.startswith("real-controls-")
                for r in ref.recordings}
    people = {p["file"]: p for p in _stored()["people"]}
    assert set(people) == set(recorded)
    for name, person in people.items():
        ref = recorded[name]
        assert (person["age_years"], person["sex"], person["gait_speed_m_per_s"]) == (
            ref["age_years"], ref["sex"], ref["gait_speed_m_per_s"]), name
        # both rounded to 4 decimals from the same analysis
        assert abs(person["cadence_steps_per_min"] - ref["cadence_steps_per_min"]) <= 1e-4, name


def test_a_real_control_file_is_judged_against_its_own_band(shared_data):
    """gaitpdb-cohort GaCo02_01: a 74-year-old man walking at 1.04 m/s."""
    from insole.io import load

    recording = load(shared_data / "gaitpdb-cohort" / "GaCo02_01.txt")
    rows = _norm_rows(recording, list(load_norms()))
    men = {b.key: b for b in load_norms()}["65-and-over/male"]
    for key in ("cadence_steps_per_min", "gait_speed_m_per_s"):
        assert rows[key]["norm_band"]["key"] == "65-and-over/male", key
        assert rows[key]["real_range"] == [round(v, 4) for v in men.interval(key) or ()], key
        assert rows[key]["outside_real_range"] == [], key  # a control inside his own band
    assert rows["gait_speed_m_per_s"]["session"] == 1.04


# ---------------------------------------------------------------- footprint: contact area and arch index


def _grid_layout() -> Any:
    from insole.analysis import GridGeometry, grid_layout

    rows, cols = np.meshgrid(np.arange(40), np.arange(10), indexing="ij")
    geometry = GridGeometry(n_rows=40, n_cols=10, row_spacing_mm=5.0, col_spacing_mm=5.0, sensel_area_mm2=25.0)
    return grid_layout("synthetic_40x10", geometry, rows.ravel(), cols.ravel(), source="test")


def test_arch_index_and_contact_area_of_a_known_footprint():
    """A 40 x 10 grid of 5 mm sensels; the automask puts the toes in the front 8 rows (x >= 80 % of the length).
    The 32 rows behind them fall in thirds of 11, 10 and 11 rows (sensel centres cut at 1/3 and 2/3 of the
    footprint's centre-to-centre length). Heel third and forefoot third loaded across all 10 columns, the midfoot
    third across 3 (a high arch), toes across all 10: arch index = 10 x 3 / (110 + 30 + 110) = 0.12; contact
    area = (110 + 30 + 110 + 80) sensels x 25 mm² = 82.5 cm²."""
    from insole.report._metrics import footprint_measures

    layout = _grid_layout()
    row = np.repeat(np.arange(40), 10)
    col = np.tile(np.arange(10), 40)
    assert int(layout.region_mask("toes").sum()) == 80 and set(row[layout.region_mask("toes")]) == set(range(8))
    from_heel = 39 - row  # 0 at the back of the heel
    midfoot = (from_heel >= 11) & (from_heel <= 20)
    peak = np.where(midfoot & (col >= 3), 0.0, 200.0)  # the arch's 7 medial columns unloaded
    peak[(midfoot & (col < 3))] = 50.0
    foot = footprint_measures(layout, peak, "left")
    assert foot.arch_index == pytest.approx(0.12, abs=1e-12)
    assert foot.contact_area_cm2 == pytest.approx(82.5, abs=1e-9)
    assert foot.n_sensors == 330 and foot.reason == ""
    # a flat foot: the midfoot loaded across its width too, 100 / 320 = 0.3125
    flat = footprint_measures(layout, np.full(400, 200.0), "left")
    assert flat.arch_index == pytest.approx(100 / 320, abs=1e-12) and flat.contact_area_cm2 == pytest.approx(100.0)
    # under 10 kPa is not contact: the same high arch with the arch's columns at 9 kPa reads the same
    peak[(midfoot & (col >= 3))] = 9.0
    assert footprint_measures(layout, peak, "left").arch_index == pytest.approx(0.12, abs=1e-12)


def test_a_sparse_insole_draws_no_footprint():
    from insole import get_layout
    from insole.report._metrics import footprint_measures

    layout = get_layout("insole16")
    foot = footprint_measures(layout, np.full(layout.n_sensors, 200.0), "right")
    assert math.isnan(foot.arch_index) and math.isnan(foot.contact_area_cm2)
    assert foot.reason == "16 sensors draw no footprint (at least 60 needed)"


def test_footprint_rows_in_the_key_numbers_are_shown_not_judged(shared_data):
    """F-Scan (vendor export, left foot): the report's rows equal the analysis' own footprint functions."""
    from insole.analysis import arch_index, peak_pressure_map
    from insole.io import load
    from insole.report._build import FOOTPRINT_NOT_JUDGED
    from insole.report._metrics import session_metrics

    recording = load(shared_data / "vendor-exports" / "fscan_testL.asf")
    rows = {r.key: r for r in key_numbers(session_metrics(recording), (), person_record(recording), norms=())}
    peak = peak_pressure_map(recording, "left")
    assert rows["arch_index"].left == arch_index(recording.layout, peak, 10.0).value
    assert rows["contact_area_cm2"].left == pytest.approx(float(recording.layout.area_mm2[peak > 10.0].sum()) / 100)
    assert rows["arch_index"].right is None
    for key in ("arch_index", "contact_area_cm2"):
        assert rows[key].not_judged == FOOTPRINT_NOT_JUDGED and rows[key].outside == ()
    assert rows["arch_index"].references == (2, 11) and rows["contact_area_cm2"].references == (37,)


# ---------------------------------------------------------------- a robust CV of a MAD of 0


def test_a_robust_cv_with_a_mad_of_zero_reads_not_available():
    from insole.report._metrics import session_metrics
    from insole.simulate import SimulationParams, simulate

    session = session_metrics(simulate(SimulationParams(pattern="normal", duration_s=40.0, seed=11)))
    timing = {**session.timing, "stride_variability_pct": 0.0, "timing_variability_pct": 0.5 * float(
        session.timing["stance_variability_pct"])}
    rows = {r.key: r for r in key_numbers(dataclasses.replace(session, timing=timing), (), {}, norms=())}
    for key in ("stride_variability_pct", "timing_variability_pct"):
        assert rows[key].session is None and rows[key].outside == () and rows[key].real_range is None, key
        assert rows[key].not_available.startswith("n/a (median absolute deviation 0: most successive stride "
                                                  "times differ by less than one sample"), key
        assert rows[key].to_dict()["not_available"] == rows[key].not_available
    assert rows["stance_variability_pct"].not_available == ""
    assert rows["stance_variability_pct"].session == session.timing["stance_variability_pct"]


def test_the_page_prints_not_available_instead_of_zero():
    from insole.report._build import build_report
    from insole.report._html import render_html

    report = build_report(_walk(70, "female"), reference_sets=())
    timing = {**report.session.timing, "stride_variability_pct": 0.0, "stance_variability_pct": 0.0,
              "timing_variability_pct": 0.0}
    session = dataclasses.replace(report.session, timing=timing)
    report.key_numbers = key_numbers(session, (), person_record(report.recording), norms=())
    page = render_html(report)
    table = page[page.index('<section id="key-numbers">'):]
    table = table[:table.index("</section>")]
    start = table.index("<td>Stride-to-stride variability, stride time")
    row = table[start:table.index("</tr>", start)]
    assert 'class="num not-available">n/a (median absolute deviation 0' in row and "0.00" not in row
    # a session row, not a foot row: it is not in the per-foot table under the left/right comparison
    section = page[page.index('<section id="left-right"'):]
    assert "Stride-to-stride variability" not in section[:section.index("</section>")]


def test_slow_parkinsons_walks_are_marked_below_their_band(shared_data):
    """gaitpdb SiPt02 (PD, 77-year-old woman): 0.77 m/s under the women-65+ band's 0.84-1.56; GaPt03 (PD, 82,
    woman, no speed in the file): cadence 79.5 steps/min under the same band's 94.2-129.5."""
    from insole.io import load

    slow = _norm_rows(load(shared_data / "gaitpdb" / "SiPt02_01.txt"), list(load_norms()))
    assert slow["gait_speed_m_per_s"]["norm_band"]["key"] == "65-and-over/female"
    assert [round(v, 2) for v in slow["gait_speed_m_per_s"]["real_range"]] == [0.84, 1.56]
    assert slow["gait_speed_m_per_s"]["outside_direction"] == {"session": "below"}
    few = _norm_rows(load(shared_data / "gaitpdb" / "GaPt03_01.txt"), list(load_norms()))
    assert "gait_speed_m_per_s" not in few  # Speed_01 is NaN in the demographics: no speed row
    cadence = few["cadence_steps_per_min"]
    assert round(cadence["session"], 1) == 79.5 and [round(v, 1) for v in cadence["real_range"]] == [94.2, 129.5]
    assert cadence["outside_direction"] == {"session": "below"}

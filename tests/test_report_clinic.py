"""The report's "Clinic test" section: a saved test's result, its reference values and their numbered sources."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markupsafe import escape

from insole.clinic import SOURCES, TestInputs, run_test
from insole.io import load, write_parquet
from insole.report import write_report
from insole.report._clinic_test import clinic_source_numbers
from insole.report._evidence import REFERENCES
from insole.simulate import simulate_clinic_test


def _saved_test(tmp_path: Path, test: str, inputs: TestInputs, **simulation) -> tuple[Path, dict]:
    """A simulated test analysed as ``insole test --from`` does, written to disk; the path and the stored result."""
    recording = simulate_clinic_test(test, 1, **simulation)
    result = run_test(recording, test, inputs)
    path = write_parquet(result.with_recording(recording), tmp_path / f"{test}.parquet")
    return Path(path), load(path).meta.extra["clinic_test"]


def _report(tmp_path: Path, path: Path) -> tuple[str, dict, str]:
    """``write_report`` for real: the page, the JSON read back from disk, and the clinic section's HTML."""
    html_path, json_path = tmp_path / f"{path.stem}-report.html", tmp_path / f"{path.stem}-report.json"
    write_report(load(path), html_path, path=path, json_path=json_path)
    html = html_path.read_text(encoding="utf-8")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    match = re.search(r'<section id="clinic-test".*?</section>', html, re.S)
    return html, data, match.group(0) if match else ""


def _reference_list(html: str) -> dict[int, str]:
    """The page's reference list: number -> the list item's text."""
    refs = re.search(r'<section id="references">.*?</section>', html, re.S).group(0)
    return {int(n): text for n, text in re.findall(r'<li id="ref-(\d+)" value="\d+">(.*?)</li>', refs, re.S)}


@pytest.fixture(scope="module")
def tug(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tug")
    path, stored = _saved_test(tmp, "tug", TestInputs(age_years=74))
    return (stored, *_report(tmp, path))


@pytest.fixture(scope="module")
def ten_metre(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("10mwt")
    path, stored = _saved_test(tmp, "10mwt", TestInputs(walkway_m=14, timed_m=10, age_years=67, sex="female"))
    return (stored, *_report(tmp, path))


@pytest.mark.parametrize("case", ["tug", "ten_metre"])
def test_section_shows_the_test_its_measures_phases_and_comparisons(case, request):
    stored, html, data, section = request.getfixturevalue(case)
    assert stored["status"] == "complete" and stored["references"]
    assert section, "the page has no clinic test section"
    assert f"<h2>Clinic test: {escape(stored['name'])}</h2>" in section
    assert '<strong class="clinic-status">complete</strong>' in section
    shown = {m["key"]: m for m in data["clinic_test"]["measures"]}
    assert set(shown) == set(stored["measures"])
    for key, row in shown.items():
        assert f'<tr data-key="{key}"><td>{escape(row["label"])}</td><td class="num">{escape(row["shown"])}</td>' \
               f'<td>{escape(row["unit"])}</td></tr>' in section
    for phase in stored["phases"]:
        assert f'<td>{phase["name"].replace("_", " ")}</td><td class="num">{phase["start_s"]:.2f}</td>' \
               f'<td class="num">{phase["end_s"]:.2f}</td>' in section
    for ref in stored["references"]:
        assert str(escape(ref["comparison"])) in section
        assert str(escape(ref["source_detail"]["verified"])) in section


def test_measure_units_come_from_the_protocol(tug, ten_metre):
    tug_units = {m["key"]: m["unit"] for m in tug[2]["clinic_test"]["measures"]}
    walk_units = {m["key"]: m["unit"] for m in ten_metre[2]["clinic_test"]["measures"]}
    assert tug_units["total_time_s"] == "s" and tug_units["turn_out_deg"] == "°"
    assert tug_units["seated_load_pct_of_standing"] == "% of standing"
    assert tug_units["walk_steps"] == ""  # a count: no unit suffix, none guessed
    assert walk_units["gait_speed_m_s"] == "m/s" and walk_units["cadence_steps_per_min"] == "steps/min"
    assert walk_units["step_length_m"] == "m" and walk_units["timed_s"] == "s"


@pytest.mark.parametrize("case", ["tug", "ten_metre"])
def test_every_comparison_source_is_in_the_reference_list(case, request):
    stored, html, data, section = request.getfixturevalue(case)
    listed = _reference_list(html)
    numbers = clinic_source_numbers()
    for ref in stored["references"]:
        number = numbers[ref["source"]]
        assert number > max(REFERENCES)  # after the evidence base, never one of its numbers
        citation = SOURCES[ref["source"]].citation
        assert str(escape(citation)) in listed[number]
        assert f'<a href="#ref-{number}">[{number}]</a>' in section
        json_ref = next(r for r in data["references"] if r["number"] == number)
        assert json_ref["key"] == ref["source"] and json_ref["citation"].startswith(citation)
    # the protocol's description sources are cited too (TUG: Podsiadlo 1991, record only)
    for key in stored["provenance"]["sources"]:
        assert numbers[key] in listed
    assert sorted(listed) == [r["number"] for r in data["references"]]


def test_report_json_carries_the_clinic_test(tug, ten_metre):
    for stored, _, data, _ in (tug, ten_metre):
        ct = data["clinic_test"]
        assert ct["test"] == stored["test"] and ct["status"] == "complete" and ct["reasons"] == []
        assert [c["comparison"] for c in ct["comparisons"]] == [r["comparison"] for r in stored["references"]]
        assert [c["source"] for c in ct["comparisons"]] == [r["source"] for r in stored["references"]]
        assert [p["name"] for p in ct["phases"]] == [p["name"] for p in stored["phases"]]
        assert ct["result"]["measures"] == stored["measures"]
    assert {c["source"] for c in tug[2]["clinic_test"]["comparisons"]} == {"bohannon2006", "barry2014"}
    assert {c["source"] for c in ten_metre[2]["clinic_test"]["comparisons"]} == {
        "bohannon2011", "bohannon1997", "schmid2007"}


def test_incomplete_test_shows_its_reason_and_no_total(tmp_path):
    path, stored = _saved_test(tmp_path, "tug", TestInputs(age_years=74), stops_midway=True)
    assert stored["status"] == "incomplete" and stored["reasons"]
    _, data, section = _report(tmp_path, path)
    assert '<strong class="clinic-status">incomplete</strong>' in section
    for reason in stored["reasons"]:
        assert str(escape(reason)) in section
    assert "total_time_s" not in section and "Total time" not in section
    assert "Reference values</h3>\n<table" not in section
    ct = data["clinic_test"]
    assert ct["status"] == "incomplete" and ct["complete"] is False
    assert "total_time_s" not in {m["key"] for m in ct["measures"]} and ct["comparisons"] == []
    # only the test's description source is cited: no reference value was compared
    assert {r["key"] for r in data["references"] if r.get("clinic_test")} == set(stored["provenance"]["sources"])


def test_stored_text_is_escaped_and_a_plain_walk_has_no_section(tmp_path):
    recording = simulate_clinic_test("10mwt", 2)
    result = run_test(recording, "10mwt", TestInputs(age_years=67, sex="female")).to_dict()
    hostile = '<script>window.__pwned = 1</script> & "quotes"'
    result["reasons"] = [hostile]
    result["phases"][0]["found_by"] = hostile
    path = write_parquet(recording.with_meta(extra={**recording.meta.extra, "clinic_test": result}),
                         tmp_path / "h.parquet")
    html, _, section = _report(tmp_path, Path(path))
    assert "<script>window.__pwned" not in html
    assert str(escape(hostile)) in section

    plain = write_parquet(recording, tmp_path / "plain.parquet")
    html, data, section = _report(tmp_path, Path(plain))
    assert section == "" and data["clinic_test"] is None
    assert not any(r.get("clinic_test") for r in data["references"])

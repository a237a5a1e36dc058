"""The offline dashboard of a clinic test: phases shaded on the load chart, and the result card."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from dashboards import write_dashboard
from dashboards._offline import dashboard_payload
from insole import Mark, Recording
from insole.clinic import TestInputs, run_test
from insole.simulate import simulate_clinic_test

TUG_PHASES = ("seated", "sit_to_stand", "walk_out", "turn_out", "walk_back", "turn_back", "stand_to_sit", "seated")
HOSTILE = '</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def _with_result(recording: Recording, test: str) -> Recording:
    """What ``insole test TEST --from FILE`` saves: the phases as marks, the result in meta.extra."""
    return run_test(recording, test, TestInputs(age_years=74)).with_recording(recording)


@pytest.fixture(scope="module")
def tug() -> Recording:
    return _with_result(simulate_clinic_test("tug", seed=3), "tug")


@pytest.fixture(scope="module")
def tug_payload(tug: Recording) -> dict:
    return dashboard_payload(tug)


def _phase_shapes(payload: dict) -> list[dict]:
    return [s for s in payload["figures"]["force"]["layout"]["shapes"] if str(s.get("name", "")).startswith("phase: ")]


def test_phases_are_the_phase_marks_in_order(tug: Recording, tug_payload: dict) -> None:
    marks = [m for m in tug.marks if m.kind == "phase"]
    assert [m.label for m in marks] == [*TUG_PHASES, "end"]
    phases = tug_payload["clinic"]["phases"]
    assert tuple(p["name"] for p in phases) == TUG_PHASES
    # each phase runs exactly from its mark to the next one; "end" closes the last
    assert [p["start_s"] for p in phases] == [m.time_s for m in marks[:-1]]
    assert [p["end_s"] for p in phases] == [m.time_s for m in marks[1:]]
    assert all(p["closed"] for p in phases)
    # one shaded band per phase at exactly those times, below the curves, one legend entry per phase name
    shapes = _phase_shapes(tug_payload)
    assert [(s["x0"], s["x1"]) for s in shapes] == [(p["start_s"], p["end_s"]) for p in phases]
    assert all(s["layer"] == "below" and s["yref"] == "paper" for s in shapes)
    assert [s["name"] for s in shapes if s["showlegend"]] == [
        f"phase: {n.replace('_', ' ')}" for n in dict.fromkeys(TUG_PHASES)
    ]
    fills = {p["name"]: p["fill"] for p in phases}
    assert len(set(fills.values())) == len(fills) == 7  # distinct colours; "seated" twice keeps one
    labels = [a["text"] for a in tug_payload["figures"]["force"]["layout"]["annotations"]
              if a.get("name", "").startswith("phase")]
    assert labels == [n.replace("_", " ") for n in TUG_PHASES]


def test_result_card_data_is_the_stored_result(tug: Recording, tug_payload: dict) -> None:
    stored = tug.meta.extra["clinic_test"]
    result = tug_payload["clinic"]["result"]
    assert (result["test"], result["name"], result["status"], result["complete"]) == (
        "tug", "Timed Up and Go", "complete", True
    )
    assert result["reasons"] == []
    assert result["measures"]["total_time_s"] == stored["measures"]["total_time_s"]
    # the simulated patient's TUG lasts from rising to sitting down again (about 14.5 s for seed 3)
    assert 10.0 < result["measures"]["total_time_s"] < 20.0
    assert result["comparisons"] and all(isinstance(c, str) for c in result["comparisons"])


def test_incomplete_test_shows_its_reasons_and_no_phases() -> None:
    recording = _with_result(simulate_clinic_test("tug", seed=3, stops_midway=True), "tug")
    clinic = dashboard_payload(recording)["clinic"]
    assert clinic["result"]["status"] == "incomplete" and clinic["result"]["complete"] is False
    assert clinic["result"]["reasons"] == ["the patient did not sit down again"]
    assert "total_time_s" not in clinic["result"]["measures"]
    assert clinic["phases"] == []


def test_last_phase_without_end_runs_to_the_end_of_the_recording(tug: Recording) -> None:
    open_ended = tug.replace(marks=tuple(m for m in tug.marks if m.label != "end"))
    phases = dashboard_payload(open_ended)["clinic"]["phases"]
    assert phases[-1]["closed"] is False
    assert phases[-1]["end_s"] == max(float(open_ended.foot(s).time_s[-1]) for s in open_ended.sides)


def test_recording_without_a_clinic_test_has_no_clinic_data(tug: Recording) -> None:
    plain = tug.replace(marks=(Mark(3.0, "pain"),))
    plain = plain.with_meta(extra={k: v for k, v in plain.meta.extra.items() if k != "clinic_test"})
    clinic = dashboard_payload(plain)["clinic"]
    assert clinic == {"phases": [], "result": None}


def test_hostile_phase_label_is_escaped_in_the_chart_label() -> None:
    recording = simulate_clinic_test("balance", seed=1)  # its phase marks come from the simulator
    marks = list(recording.marks)
    marks[0] = Mark(marks[0].time_s, HOSTILE, "phase")
    payload = dashboard_payload(recording.replace(marks=tuple(marks)))
    label = next(a["text"] for a in payload["figures"]["force"]["layout"]["annotations"]
                 if a.get("name", "").startswith("phase"))
    assert "<" not in label and ">" not in label and "&lt;/script&gt;" in label
    assert payload["clinic"]["phases"][0]["name"] == HOSTILE  # the data keeps the text; the page sets it as text


# ---------------------------------------------------------------- in headless Chromium


@pytest.mark.browser
@pytest.mark.slow
def test_page_shows_phase_bands_and_the_clinic_card(tug: Recording, tmp_path: Path, artifacts: Path) -> None:
    from browser import chromium, wait_for

    path = write_dashboard(tug, tmp_path / "tug.html")
    text = path.read_text()
    embedded = json.loads(
        re.search(r'<script type="application/json" id="payload">(.*?)</script>', text, re.S).group(1)
    )
    assert [p["name"] for p in embedded["clinic"]["phases"]] == list(TUG_PHASES)
    with chromium(width=1500, height=1250) as (context, _):
        page = context.new_page()
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        wait_for(page, "() => window.__dashboardStats && window.__dashboardStats.ready_ms", 60)
        drawn = page.evaluate(
            "() => { const l = document.getElementById('fig-force')._fullLayout;"
            " return { shapes: l.shapes.filter(s => (s.name || '').startsWith('phase: ')).map(s => [s.x0, s.x1]),"
            " rects: document.querySelectorAll('#fig-force .shapelayer path,"
            " #fig-force .layer-below .shapelayer path').length,"
            " legend: Array.from(document.querySelectorAll('#fig-force .legend .legendtext'))"
            ".map(e => e.textContent) }; }")
        assert drawn["shapes"] == [[p["start_s"], p["end_s"]] for p in embedded["clinic"]["phases"]]
        assert drawn["rects"] >= len(TUG_PHASES)  # the bands are really in the SVG
        for name in dict.fromkeys(TUG_PHASES):
            assert f"phase: {name.replace('_', ' ')}" in drawn["legend"]
        assert page.is_visible("#sec-clinic")
        assert page.text_content("#clinic-test") == "Timed Up and Go (tug)"
        assert page.text_content("#clinic-status") == "complete"
        total = tug.meta.extra["clinic_test"]["measures"]["total_time_s"]
        measures = page.evaluate("() => Array.from(document.querySelectorAll("
                                 "'#clinic .measures dt, #clinic .measures dd'))"
                                 ".map(e => e.textContent)")
        assert measures[:2] == ["total time", f"{total:.2f} s"]
        assert measures[measures.index("turn out angle") + 1] == "180°"
        rows = page.evaluate("() => Array.from(document.querySelectorAll('#clinic .phases tbody tr'))"
                             ".map(r => r.cells[0].textContent)")
        assert rows == [n.replace("_", " ") for n in TUG_PHASES]
        # a phase row zooms the chart to that phase
        page.click("#clinic .phases tbody tr:nth-child(4)")
        turn = embedded["clinic"]["phases"][3]
        wait_for(page, f"() => {{ const r = document.getElementById('fig-force')._fullLayout.xaxis.range;"
                       f" return r[0] < {turn['start_s']} && r[1] > {turn['end_s']} && r[1] - r[0] < 3; }}", 10)
        page.click("#window-btns button[data-window='all']")
        time.sleep(0.4)
        page.screenshot(path=str(artifacts / "dashboard_clinic.png"))
        assert errors == [] and page.evaluate("window.__dashboardStats.errors") == []
        assert requests == [path.as_uri()]

"""Clinic tests, piece by piece: the path along the walkway, sway measures on a known COP, the protocol tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from insole.clinic._path import feet_path
from insole.clinic._phases import ClinicParams
from insole.clinic._protocols import PROTOCOLS, SOURCES, reference_comparisons
from insole.clinic._results import TestInputs, _FootCop, _sway, compare_over_time, run_test
from insole.io import read_parquet, write_parquet
from insole.simulate import simulate_clinic_test

# ---------------------------------------------------------------- position along the walkway


def test_feet_path_places_each_step_ahead_of_the_other_foot() -> None:
    # left lifts at 0.0 and lands at 0.5 one step (0.7 m) ahead; right lifts at 0.4 and lands 0.7 m ahead of it
    # at 0.9; the left joins the right at 1.5 (a closing step of 0 m)
    path = feet_path([(0.5, "left", 0.7), (0.9, "right", 0.7), (1.5, "left", 0.0)],
                     {"left": [0.0, 1.0], "right": [0.4]})
    assert [(s.side, s.start_s, s.end_s, s.from_m, s.to_m) for s in path.swings] == [
        ("left", 0.0, 0.5, 0.0, 0.7), ("right", 0.4, 0.9, 0.0, 1.4), ("left", 1.0, 1.5, 0.7, 1.4)]
    assert path.final_m == pytest.approx(1.4)
    # minimum jerk is half way at mid-swing: the left foot at 0.35 m at 0.25 s, the body at 0.175 m
    assert path.foot_position_m("left", np.array([0.25]))[0] == pytest.approx(0.35)
    assert path.position_m(np.array([0.25]))[0] == pytest.approx(0.175)
    assert path.crossing_s(0.175) == pytest.approx(0.25, abs=1e-3)  # found on a 1 ms grid
    assert math.isnan(path.crossing_s(2.0))


# ---------------------------------------------------------------- sway on a known centre of pressure


def _feet(ml_amplitude_mm: float, ap_amplitude_mm: float, f_hz: float, seconds: float, rate_hz: float = 100.0,
          stance_width_mm: float = 100.0):
    """Two feet whose loads swap in antiphase (medial-lateral sway) and whose COPs move heel-toe together.

    Each foot's COP sits 10 mm medial of its centre line, so the combined COP's medial-lateral position is
    (left - right) / (left + right) x (width / 2 - 10): a load swing of ``a`` gives an amplitude a x 40 mm.
    """
    t = np.arange(0.0, seconds, 1.0 / rate_hz)
    a = ml_amplitude_mm / (0.5 * stance_width_mm - 10.0)
    w = 2 * np.pi * f_hz
    x = 120.0 + ap_amplitude_mm * np.cos(w * t)
    out = {}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        force = 350.0 * (1.0 + sign * a * np.sin(w * t))
        out[side] = _FootCop(t, force, x, np.full(t.size, 10.0), 0.55 * force, 0.40 * force)
    return out


def test_sway_measures_of_a_known_elliptical_sway() -> None:
    """COP on an ellipse (ML 3 mm, AP 5 mm, 0.25 Hz) for 20 s: exact path, velocity, RMS, ellipse and loads."""
    feet = _feet(3.0, 5.0, 0.25, 20.0)
    row = _sway(feet, 0.0, 19.99, TestInputs(stance_width_mm=100.0), ClinicParams())
    assert row["rms_ml_mm"] == pytest.approx(3.0 / math.sqrt(2), rel=2e-3)  # 5 whole cycles
    assert row["rms_ap_mm"] == pytest.approx(5.0 / math.sqrt(2), rel=2e-3)
    # the 95 % ellipse of a covariance diag(A^2/2, B^2/2): pi x 5.991 x A B / 2
    assert row["ellipse_area_mm2"] == pytest.approx(math.pi * 5.991464547107979 * 3.0 * 5.0 / 2.0, rel=5e-3)
    # path: five perimeters of the ellipse (numerically, 100 000 points a lap)
    u = np.linspace(0.0, 2 * np.pi, 100_001)
    lap = np.sum(np.hypot(np.diff(3.0 * np.sin(u)), np.diff(5.0 * np.cos(u))))
    assert row["path_length_mm"] == pytest.approx(5 * lap, rel=5e-3)
    assert row["mean_velocity_mm_s"] == pytest.approx(5 * lap / 19.99, rel=5e-3)
    assert row["left_load_pct"] == pytest.approx(50.0, abs=1e-3)  # the window is a sample short of 5 cycles
    assert row["rearfoot_load_pct"] == pytest.approx(55.0) and row["forefoot_load_pct"] == pytest.approx(40.0)
    assert row["stepped_at_s"] is None


def test_sway_reports_a_foot_coming_off_the_ground() -> None:
    feet = _feet(2.0, 2.0, 0.3, 10.0)
    lifted = feet["right"]
    lifted.force[500:530] = 5.0  # the right foot unloads at 5.0 s
    row = _sway(feet, 0.0, 9.99, TestInputs(), ClinicParams())
    assert row["stepped_at_s"] == pytest.approx(5.0)


# ---------------------------------------------------------------- protocols as data


def test_every_reference_value_names_a_checked_source() -> None:
    allowed = {"abstract read", "secondary source", "record only",
               "abstract read; per-decade values from a secondary source"}
    for key, spec in PROTOCOLS.items():
        assert spec.phases and spec.measures and spec.patient_instruction and spec.ends_when
        for ref in spec.reference_values:
            source = SOURCES[ref.source]
            assert source.verified in allowed, (key, ref.source)
            assert source.citation and source.locator and source.note
            assert ref.source in spec.sources
            # a value taken from a source only known by its record is never used
            assert source.verified != "record only"
            if any(s.sex != "any" for s in ref.strata):
                assert "sex" in ref.depends_on and "age" in ref.depends_on
    json.dumps({k: p.to_dict() for k, p in PROTOCOLS.items()}, allow_nan=False)


def test_reference_comparisons_pick_the_patients_stratum_only() -> None:
    speed = reference_comparisons("10mwt", {"gait_speed_m_s": 1.10}, {"age_years": 72, "sex": "female"})[0]
    assert speed["compared"] and speed["reference_value"] == 1.13
    assert speed["comparison"] == "1.1 m/s is below the reference mean of 1.13 m/s for women aged 70-79"
    unknown = reference_comparisons("10mwt", {"gait_speed_m_s": 1.10}, {"age_years": 72})[0]
    assert not unknown["compared"] and "age and sex" in unknown["comparison"]
    fast = reference_comparisons("10mwt", {"gait_speed_m_s": 1.9}, {"age_years": 30, "sex": "male", "pace": "fast"})[0]
    assert not fast["compared"] and "comfortable pace" in fast["comparison"]
    tug = reference_comparisons("tug", {"total_time_s": 10.5}, {"age_years": 64})
    assert tug[0]["comparison"].endswith("for adults aged 60-69; above the interval's upper limit")
    assert tug[1]["comparison"] == "10.5 s is below the 13.5 s cut-off"
    classes = reference_comparisons("10mwt", {"gait_speed_m_s": 0.55}, {})[2]
    assert classes["category"] == "limited community ambulation"


def test_six_minute_prediction_follows_the_equations() -> None:
    # men: 7.57 x 180 - 5.02 x 60 - 1.76 x 80 - 309 = 611.6 m;
    # women: 2.11 x 165 - 2.29 x 60 - 5.78 x 70 + 667 = 473.15 m
    man = reference_comparisons("6mwt", {"distance_m": 500.0},
                                {"age_years": 60, "sex": "male", "height_cm": 180, "mass_kg": 80})[0]
    assert man["reference_value"] == pytest.approx(611.6)
    woman = reference_comparisons("6mwt", {"distance_m": 500.0},
                                  {"age_years": 70, "sex": "female", "height_cm": 165, "mass_kg": 60})[0]
    assert woman["reference_value"] == pytest.approx(473.15)
    assert woman["percent_of_predicted"] == pytest.approx(100 * 500 / 473.15)


# ---------------------------------------------------------------- the saved result


def test_result_round_trips_through_the_file_with_phase_marks(tmp_path) -> None:
    recording = simulate_clinic_test("tug", seed=6)
    result = run_test(recording, "tug", TestInputs(age_years=71))
    saved = read_parquet(write_parquet(result.with_recording(recording), tmp_path / "tug.parquet"))
    stored = saved.meta.extra["clinic_test"]
    assert stored == json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert stored["status"] == "complete" and stored["references"][0]["compared"]
    phases = [m for m in saved.marks if m.kind == "phase"]
    assert [m.label for m in phases] == [p.name for p in result.phases] + ["end"]
    assert [m.time_s for m in phases[:-1]] == [round(p.start_s, 3) for p in result.phases]
    # analysing the saved file again gives the same result (phase marks do not feed back)
    again = run_test(saved, "tug", TestInputs(age_years=71))
    assert again.measures["total_time_s"] == pytest.approx(result.measures["total_time_s"], abs=1e-3)


def test_run_test_refuses_what_it_cannot_measure() -> None:
    recording = simulate_clinic_test("10mwt", seed=1)
    with pytest.raises(ValueError, match="unknown clinic test"):
        run_test(recording, "sprint")
    with pytest.raises(ValueError, match="both feet"):
        run_test(recording.replace(right=None), "10mwt")
    with pytest.raises(ValueError, match="shorter than the walkway"):
        TestInputs(walkway_m=8.0, timed_m=10.0)
    # a TUG analysed on a recording that starts standing: not "timed wrong", but not measurable
    result = run_test(recording, "tug")
    assert not result.complete and "not seated at the start" in result.reasons[0]


def test_repeated_tests_compared_over_time_skip_the_unfinished_one() -> None:
    finished = [run_test(simulate_clinic_test("tug", seed=s), "tug").to_dict() for s in (1, 2)]
    stopped = run_test(simulate_clinic_test("tug", seed=3, stops_midway=True), "tug").to_dict()
    rows = compare_over_time([("2024-05-02", finished[1]), ("2024-03-01", finished[0]), ("2024-04-01", stopped)])
    assert [r["recorded_at"] for r in rows] == ["2024-03-01", "2024-04-01", "2024-05-02"]
    assert rows[1]["status"] == "incomplete" and rows[1]["value"] is None and "change_from_first" not in rows[1]
    first, last = finished[0]["measures"]["total_time_s"], finished[1]["measures"]["total_time_s"]
    assert rows[2]["change_from_first"] == pytest.approx(last - first)
    assert rows[2]["change_from_previous"] == pytest.approx(last - first)  # the stopped test is not "previous"



def test_insole_test_printout_agrees_with_its_phase_table(tmp_path) -> None:
    """``insole test tug --from FILE`` as a user runs it: the stand-to-sit phase row says what of it the result
    line times; ``--source`` beside ``--from`` is its own option (the two once shared one dest, and
    ``insole test tug --emulate`` asked for source None); balance prints each reference line once."""
    import re
    import subprocess
    import sys

    tug = tmp_path / "tug.parquet"
    write_parquet(simulate_clinic_test("tug", seed=3), tug)
    done = subprocess.run([sys.executable, "-m", "insole", "test", "tug", "--from", str(tug), "--source", "moticon"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = run_test(read_parquet(tug), "tug", TestInputs())
    measure = f"{result.measures['stand_to_sit_s']:.2f}"
    assert f"stand-to-sit (lowering) {measure} s" in done.stdout
    row = next(line for line in done.stdout.splitlines() if line.strip().startswith("phase stand_to_sit"))
    start, end, held, standing, lowering = map(float, re.findall(r"\d+\.\d+", row))
    assert f"{lowering:.2f}" == measure and abs(standing + lowering - held) <= 0.011  # each shown to 0.01 s
    assert f"{end - start:.2f}" == f"{held:.2f}"
    balance = tmp_path / "balance.parquet"
    recording = simulate_clinic_test("balance", seed=3)
    write_parquet(recording, balance)
    width = recording.meta.extra["simulation"]["clinic_test"]["inputs"]["stance_width_mm"]
    done = subprocess.run([sys.executable, "-m", "insole", "test", "balance", "--from", str(balance),
                           "--stance-width-mm", str(width)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip().startswith("reference")]
    assert lines and len(lines) == len(set(lines))

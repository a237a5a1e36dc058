"""Hand-built arrays with exact answers: interval helpers, contact detection, summary maths, JSON and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from insole._errors import AnalysisError
from insole.analysis import AnalysisParams, analyze
from insole.analysis._events import detect_contacts
from insole.analysis._segments import hysteresis, interval_windows, reduce_intervals, runs
from insole.analysis._summary import per_foot_statistics, symmetry_table
from insole.io import write_parquet
from insole.simulate import SimulationParams, simulate

REPO = Path(__file__).resolve().parents[1]


def test_runs_and_interval_reductions() -> None:
    starts, stops = runs(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool))
    assert starts.tolist() == [1, 4, 7] and stops.tolist() == [3, 5, 8]
    values = np.arange(10.0)
    assert reduce_intervals(np.add, values, np.array([0, 3, 8]), np.array([2, 6, 10])).tolist() == [1.0, 12.0, 17.0]
    assert reduce_intervals(np.maximum, values, np.array([2, 0]), np.array([10, 5])).tolist() == [9.0, 4.0]
    two = np.column_stack([values, -values])
    assert reduce_intervals(np.add, two, np.array([1]), np.array([3])).tolist() == [[3.0, -3.0]]
    windows = interval_windows(values, np.array([1, 5]), np.array([3, 8]))
    np.testing.assert_array_equal(windows, [[1, 2, np.nan], [5, 6, 7]])


def test_hysteresis_needs_the_high_level_to_start_and_the_low_level_to_end() -> None:
    x = np.array([0, 5, 11, 7, 6, 4, 7, 9, 12, 3, np.nan, 12])
    state = hysteresis(x, high=10, low=5)
    assert state.tolist() == [False, False, True, True, True, False, False, False, True, False, False, True]


def _pulses(n_steps: int = 6, fs: float = 100.0, floor: float = 0.0,
            rise: int = 10) -> tuple[np.ndarray, list[int], list[int]]:
    """Trapezoid contacts of 60 samples every 100 samples; linear edges of ``rise`` samples from floor to 100."""
    signal = np.full(100 * n_steps + 50, floor)
    onsets, ends = [], []
    for k in range(n_steps):
        a = 20 + 100 * k
        ramp = np.linspace(0, 1, rise + 1)[1:]
        signal[a:a + rise] = floor + 100 * ramp
        signal[a + rise:a + 50] = floor + 100
        signal[a + 50:a + 50 + rise] = floor + 100 * ramp[::-1] - 100 / rise
        onsets.append(a)
        ends.append(a + 50 + rise - 1)
    return signal, onsets, ends


def test_level_events_land_on_known_samples() -> None:
    signal, onsets, ends = _pulses()
    time = np.arange(signal.size) / 100.0
    # no smoothing (cut-off above 0.45 fs): the edges are exact ramps
    params = AnalysisParams(event_lowpass_hz=50.0, min_swing_s=0.1)
    found = detect_contacts(time, signal, np.ones(signal.size, bool), 100.0, params, method="level")
    assert found.n == 6
    # first sample at or above 4.5 % of the typical peak (100): ramp sample 0 is 10
    assert found.heel_strike_index.tolist() == onsets
    # first sample below 13.5: the ramp ends ... 20, 10, 0 -> the sample at 10
    assert found.toe_off_index.tolist() == [e - 1 for e in ends]
    assert np.all(found.heel_strike_confidence > 0.9)


def test_residual_floor_does_not_move_level_events() -> None:
    clean, _, _ = _pulses()
    loaded, _, _ = _pulses(floor=30.0)  # 30 % of the contact's load stays on the insole in swing
    time = np.arange(clean.size) / 100.0
    params = AnalysisParams(event_lowpass_hz=50.0, min_swing_s=0.1)
    a = detect_contacts(time, clean, np.ones(clean.size, bool), 100.0, params, method="level")
    b = detect_contacts(time, loaded, np.ones(clean.size, bool), 100.0, params, method="level")
    assert a.heel_strike_index.tolist() == b.heel_strike_index.tolist()
    assert a.toe_off_index.tolist() == b.toe_off_index.tolist()


def test_a_rise_inside_a_gap_is_not_an_event() -> None:
    signal, onsets, _ = _pulses()
    valid = np.ones(signal.size, bool)
    valid[onsets[2] - 2:onsets[2] + 3] = False  # the third heel strike happens while samples are lost
    time = np.arange(signal.size) / 100.0
    found = detect_contacts(time, signal, valid, 100.0, AnalysisParams(event_lowpass_hz=50.0, min_swing_s=0.1),
                            method="level")
    assert found.heel_strike_index[2] == -1
    assert found.heel_strike_index[[0, 1, 3]].tolist() == [onsets[0], onsets[1], onsets[3]]
    assert found.toe_off_index[2] > onsets[2]  # its toe off was observed and stays known


def test_shape_events_on_a_footswitch_like_signal() -> None:
    signal, onsets, ends = _pulses(rise=10)
    time = np.arange(signal.size) / 100.0
    params = AnalysisParams(event_lowpass_hz=50.0, shape_lowpass_hz=50.0, min_swing_s=0.1)
    found = detect_contacts(time, signal, np.ones(signal.size, bool), 100.0, params, method="shape")
    # the rise starts at the onset sample; the fall has flattened at the last ramp sample + 1
    assert np.all(np.abs(found.heel_strike_index - np.array(onsets)) <= 1)
    assert np.all(np.abs(found.toe_off_index - np.array(ends)) <= 1)


def _unloading(tail: np.ndarray, n_steps: int = 6) -> tuple[np.ndarray, list[int]]:
    """Contacts (rise, plateau at 100, steep fall to 10) each followed by ``tail``, then zeros; kink indices."""
    signal = np.zeros(150 * n_steps + 50)
    kinks = []
    for k in range(n_steps):
        a = 20 + 150 * k
        signal[a:a + 10] = np.linspace(10, 100, 10)
        signal[a + 10:a + 50] = 100
        signal[a + 50:a + 58] = np.linspace(100, 10, 9)[1:]  # steep: -11.25 per sample
        signal[a + 58:a + 58 + tail.size] = tail
        kinks.append(a + 57)  # the last sample of the steep fall (at 10)
    return signal, kinks


def test_shape_toe_off_follows_a_slow_second_fall_to_the_floor() -> None:
    # after the kink the force keeps falling at 11 % of the steepest slope (the
    # toes leaving): not a pause, so toe off is where it comes within 4 % of the
    # contact's amplitude of its floor: 10 - 1.25 i < 4 at i = 5 samples after the kink
    signal, kinks = _unloading(np.linspace(10, 0, 9)[1:])
    time = np.arange(signal.size) / 100.0
    params = AnalysisParams(event_lowpass_hz=50.0, shape_lowpass_hz=50.0, min_swing_s=0.1)
    found = detect_contacts(time, signal, np.ones(signal.size, bool), 100.0, params, method="shape")
    assert found.n == 6
    assert np.all(np.abs(found.toe_off_index - (np.array(kinks) + 5)) <= 1)


def test_shape_toe_off_stays_at_the_knee_when_the_insole_springs_back() -> None:
    # after the kink the force rises again (the insole springing back) before it
    # falls to the floor: the fall paused, so toe off is at the end of the steep fall
    rebound = np.concatenate([np.linspace(10, 14, 5)[1:], np.full(5, 14.0), np.linspace(14, 0, 8)[1:]])
    signal, kinks = _unloading(rebound)
    time = np.arange(signal.size) / 100.0
    params = AnalysisParams(event_lowpass_hz=50.0, shape_lowpass_hz=50.0, min_swing_s=0.1)
    found = detect_contacts(time, signal, np.ones(signal.size, bool), 100.0, params, method="shape")
    assert found.n == 6
    assert np.all(np.abs(found.toe_off_index - (np.array(kinks) + 1)) <= 1)


def _contacts_with_dip(dip_at: int, dip_level: float, length: int) -> np.ndarray:
    """Trapezoid contacts of 60 samples every 100 (ramps of 5), one of them ``length`` long with a V-shaped dip."""
    signal = np.zeros(1200)
    for a in range(20, 1100, 100):
        if a in range(dip_at, dip_at + length):
            continue
        signal[a:a + 5] = np.linspace(20, 100, 5)
        signal[a + 5:a + 55] = 100
        signal[a + 55:a + 60] = np.linspace(100, 20, 5)
    signal[dip_at:dip_at + 5] = np.linspace(20, 100, 5)
    signal[dip_at + 5:dip_at + length - 5] = 100
    signal[dip_at + length - 5:dip_at + length] = np.linspace(100, 20, 5)
    middle = dip_at + length // 2
    signal[middle - 10:middle + 11] = np.concatenate([np.linspace(100, dip_level, 11),
                                                      np.linspace(dip_level, 100, 11)[1:]])
    return signal


def test_an_over_long_contact_is_split_at_a_deep_inner_unloading() -> None:
    time = np.arange(1200) / 100.0
    params = AnalysisParams(event_lowpass_hz=50.0, min_swing_s=0.1)
    ones = np.ones(1200, bool)
    # two steps of a shuffle joined by a dip to 25 % (above the 20 % off level):
    # 1.6 s, more than 1.75 x the typical 0.6 s contact, so it is split at the dip
    shuffle = detect_contacts(time, _contacts_with_dip(320, 25.0, 160), ones, 100.0, params, method="level")
    ordinary = detect_contacts(time, _contacts_with_dip(320, 100.0, 160), ones, 100.0, params, method="level")
    assert ordinary.n == 10 and shuffle.n == 11
    # split at the lowest point (sample 400): the first step ends before it, the second starts after it
    assert shuffle.stop_index[3] == 400 and shuffle.start_index[4] == 401
    assert shuffle.toe_off_index[3] == 399 and shuffle.heel_strike_index[4] == 401
    # a contact of ordinary length keeps its deep mid-stance valley
    valley = detect_contacts(time, _contacts_with_dip(320, 25.0, 60), ones, 100.0, params, method="level")
    assert valley.n == 11 and np.all(valley.stop_index - valley.start_index <= 61)
    # standing on both feet: the load sways around half the walking load and
    # never climbs back by 30 % of the range after the dip, so it is no step
    sway = _contacts_with_dip(320, 25.0, 160)
    sway[401:480] = np.minimum(sway[401:480], 50.0)
    assert detect_contacts(time, sway, ones, 100.0, params, method="level").n == 10
    # past max_stance_s a dip this quick (0.2 s down and up, as fast as a swing) is still a step: a shuffling
    # foot that never unloads fully (docs/analysis-methods.md); a slow weight shift while standing is not one
    # (tests/test_events_pathological.py::test_a_quick_dip_in_a_long_contact_is_a_step_a_slow_weight_shift_is_not)
    standing = detect_contacts(time, _contacts_with_dip(320, 25.0, 160), ones, 100.0, params.replace(max_stance_s=1.5),
                               method="level")
    assert standing.n == 11


def test_symmetry_index_formula_and_sign() -> None:
    strides = {
        "left": pd.DataFrame({"stance_time_s": [0.6, 0.6], "cop_ml_offset_mm": [2.0, 2.0], "used": [True, True]}),
        "right": pd.DataFrame({"stance_time_s": [0.66, 0.66], "cop_ml_offset_mm": [-1.0, -1.0], "used": [True, True]}),
    }
    per_foot = per_foot_statistics(strides)
    assert per_foot.at["stance_time_s", "left_mean"] == pytest.approx(0.6)
    assert per_foot.at["stance_time_s", "left_sd"] == 0.0
    table = symmetry_table(per_foot)
    # (0.66 - 0.60) / 0.63 x 100
    assert table.at["stance_time_s", "symmetry_index_pct"] == pytest.approx(100 * 0.06 / 0.63)
    # a signed metric gets only the difference
    assert np.isnan(table.at["cop_ml_offset_mm", "symmetry_index_pct"])
    assert table.at["cop_ml_offset_mm", "difference"] == pytest.approx(-3.0)


def test_parameters_are_validated() -> None:
    with pytest.raises(AnalysisError, match="event_method"):
        AnalysisParams(event_method="magic")
    with pytest.raises(AnalysisError, match="hysteresis"):
        AnalysisParams(detect_low_fraction=0.5, detect_high_fraction=0.3)
    with pytest.raises(AnalysisError, match="positive"):
        AnalysisParams(min_stance_s=0)
    with pytest.raises(AnalysisError, match="unknown analysis parameters"):
        AnalysisParams.from_dict({"min_stance_s": 0.2, "speed": 3})
    assert AnalysisParams.from_dict(AnalysisParams().to_dict()) == AnalysisParams()
    with pytest.raises(AnalysisError, match="Recording"):
        analyze("not a recording")
    # a file's name as text is refused with what to give instead (a new user tried analyze("walk.parquet"))
    with pytest.raises(AnalysisError, match=r"not text: analyze\(Path\('walk.parquet'\)\) reads the file"):
        analyze("walk.parquet")


@pytest.fixture(scope="module")
def simulated_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("analysis") / "walk.parquet"
    write_parquet(simulate(SimulationParams(duration_s=30.0, seed=2)), path)
    return path


def test_json_has_the_stable_keys_and_no_nan(simulated_file: Path) -> None:
    import insole

    analysis = analyze(insole.load(simulated_file))
    data = json.loads(analysis.to_json())  # allow_nan=False inside: NaN would have raised
    # 1.1: keys added (summary.symmetry.*.uncalibrated_force, body_weight note and plausible range)
    # 1.3: valley_ratio, cop_ml_offset_pct, forefoot_toes_share_pct; summary timing variability
    assert data["schema"] == "insole.analysis" and data["schema_version"] == "1.4"
    for side in ("left", "right"):
        events = data["events"][side]
        assert events["heel_strike_s"] == analysis.events[side].heel_strike_s.tolist()
        assert len(events["toe_off_s"]) == analysis.events[side].toe_off_s.size
        row = data["strides"][side][0]
        for key in ("heel_strike_s", "toe_off_s", "stride_time_s", "stance_time_s", "swing_time_s", "used"):
            assert key in row
        assert data["quality"][side]["valid_fraction"] == 1.0
    assert data["summary"]["cadence_steps_per_min"] == pytest.approx(analysis.summary.cadence_steps_per_min)
    assert data["provenance"]["version"] and data["provenance"]["parameters"]["min_stance_s"] == 0.2
    assert "Gait events" in data["provenance"]["methods"]
    assert data["provenance"]["input"]["source"]["kind"] == "simulation"


def test_cli_summary_json_and_bad_input(simulated_file: Path, tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "insole._cli"]
    out = tmp_path / "a.json"
    done = subprocess.run([*cli, "analyze", str(simulated_file), "--json", str(out), "--mass-kg", "80"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "Cadence" in done.stdout and "stride time" in done.stdout
    data = json.loads(out.read_text())
    assert data["summary"]["body_weight"]["mass_kg"] == 80.0
    piped = subprocess.run([*cli, "analyze", str(simulated_file), "--json", "-"], capture_output=True, text=True,
                           cwd=REPO)
    assert json.loads(piped.stdout)["events"]["left"]["heel_strike_s"]
    bad = tmp_path / "broken.txt"
    bad.write_text("this is not a recording\n")
    failed = subprocess.run([*cli, "analyze", str(bad)], capture_output=True, text=True, cwd=REPO)
    assert failed.returncode == 2
    assert failed.stderr.count("\n") == 1 and str(bad) in failed.stderr and "Traceback" not in failed.stderr

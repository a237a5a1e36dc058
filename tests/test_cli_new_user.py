"""What a new user found wrong in the command line, on files the other tests do not use (S7 review)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _data import shared_data_dir

from insole._cli import main
from insole._cli._analyze import _robust_cv_text

SHARED = shared_data_dir()
MOTICON_5_STRIDES = SHARED / "moticon-opengo" / "230927_102231.txt"  # right foot: 5 used strides, MAD 0
GAITPDB8 = SHARED / "gaitpdb-cohort" / "GaPt09_01.txt"  # 68 kg in its metadata, insoles read 1.3 x that
GAITNDD_AU = SHARED / "gaitndd-cohort" / "hunt12.hea"  # foot switches, unit au


def _analyze(capsys, *argv: object) -> str:
    assert main(["analyze", *map(str, argv)]) == 0
    return capsys.readouterr().out


def _folded(text: str) -> str:
    return " ".join(text.split())


def test_a_robust_cv_of_a_mad_of_zero_is_no_figure(capsys, tmp_path: Path) -> None:
    out = _analyze(capsys, MOTICON_5_STRIDES, "--json", tmp_path / "a.json")
    figure = json.loads((tmp_path / "a.json").read_text())["summary"]["stride_time_robust_cv_pct"]
    assert abs(figure["right"]) < 1e-6 and figure["left"] > 1  # the file is what this test is about
    folded = _folded(out)
    assert "right CV 8.49%, robust CV n/a (MAD 0: most strides equal the median to the sample)" in folded
    assert f"left CV 4.50%, robust CV {figure['left']:.2f}%" in folded
    assert "0.00%" not in out


def test_robust_cv_text_rule() -> None:
    # a MAD of 0 left a few 1e-12 % above zero by rounding (a simulated 20 Hz walk) is no figure; NaN is unknown
    assert _robust_cv_text(2.29e-12).startswith("n/a (MAD 0")
    assert _robust_cv_text(0.0).startswith("n/a (MAD 0")
    assert _robust_cv_text(float("nan")) == "-"
    assert _robust_cv_text(0.025) == "0.03%"  # the smallest real figure (1 kHz, 1.5 s stride) is a figure


def test_a_note_of_both_feet_is_printed_once(capsys) -> None:
    out = _analyze(capsys, GAITPDB8)
    assert out.count("body weight check:") == 1
    assert "both feet, note: body weight check:" in out
    out = _analyze(capsys, GAITNDD_AU)
    assert out.count("forces are in arbitrary units") == 1
    assert out.count("uncalibrated insoles (au): one body weight") == 1
    assert out.count("COP needs at least 3 sensors") == 1


def test_gaitpdb8_region_shares_add_up_with_the_toes(capsys, tmp_path: Path) -> None:
    out = _analyze(capsys, GAITPDB8, "--tables", tmp_path / "t")
    import pandas as pd

    regions = pd.read_parquet(tmp_path / "t" / "regions.parquet")
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Regions:"))
    shares: dict[str, list[float]] = {"left": [], "right": []}
    for label, key in (("heel", "heel"), ("midfoot (arch)", "midfoot"), ("forefoot", "forefoot"), ("toes", "toes")):
        row = next(line for line in lines[start:] if re.match(rf"  {re.escape(label)}\s+\d", line))
        numbers = row[len(label) + 2:].split()  # L FTI, L share, R FTI, R share
        for side, share in (("left", numbers[1]), ("right", numbers[3])):
            expected = regions[(regions["side"] == side) & (regions["region"] == key)]["share_pct_mean"].iloc[0]
            assert share == f"{expected:.1f}"
            shares[side].append(float(share))
    for side in shares:  # four shares each rounded to 0.1: at most 0.2 off 100 %
        assert sum(shares[side]) == pytest.approx(100.0, abs=0.2)
    assert re.search(r"^  toes share \(%\)\s", out, re.M)
    assert "hallux" not in out  # gaitpdb8 does not split the toes


def test_a_layout_with_hallux_and_lesser_toes_prints_no_whole_toes_row(capsys) -> None:
    out = _analyze(capsys, MOTICON_5_STRIDES)
    assert re.search(r"^  hallux\s", out, re.M) and re.search(r"^  lesser toes\s", out, re.M)
    assert not re.search(r"^  toes", out, re.M)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="no /proc on this system")
def test_a_folder_that_exists_but_takes_no_files_is_not_called_missing(capsys, tmp_path: Path) -> None:
    assert main(["simulate", "--duration", "10", "--out", "/proc/x.parquet"]) == 2
    err = capsys.readouterr().err
    # as root the permission bits allow it and creating the file fails; as anyone else the bits refuse it
    assert ("/proc/x.parquet: its folder /proc exists but is not writable" in err
            or "/proc/x.parquet: cannot write into /proc" in err)
    assert "does not exist" not in err
    assert main(["simulate", "--duration", "10", "--out", str(tmp_path / "missing" / "x.parquet")]) == 2
    assert f"its folder {tmp_path / 'missing'} does not exist" in capsys.readouterr().err


def test_atomic_path_says_an_existing_folder_takes_no_files() -> None:
    from insole import OutputError
    from insole._output import atomic_path

    if not Path("/proc").is_dir():
        pytest.skip("no /proc on this system")
    with pytest.raises(OutputError, match="its folder /proc exists but is not writable|permission denied"):
        with atomic_path("/proc/x.json"):
            pass


@pytest.mark.parametrize(("path", "to", "words"), [
    (MOTICON_5_STRIDES, "csv", "10.1 s at 100 Hz, layout moticon16, unit kPa, left 1007 and right 1007 samples"),
    (GAITPDB8, "parquet", "121.2 s at 100 Hz, layout gaitpdb8, unit N, left 12119 and right 12119 samples"),
])
def test_convert_says_what_it_wrote_in_words(path: Path, to: str, words: str, capsys, tmp_path: Path) -> None:
    out = tmp_path / f"walk.{to}"
    assert main(["convert", str(path), "--to", to, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Recording(" not in printed  # no Python repr
    names = f"{out} and walk.csv.json" if to == "csv" else str(out)
    assert printed == f"wrote {names}: {words}\n"
    if to == "csv":
        assert (tmp_path / "walk.csv.json").is_file()


def test_convert_help_names_the_sidecar_as_it_is_written(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    text = _folded(capsys.readouterr().out)
    assert "walk.csv -> walk.csv.json" in text and "a .json sidecar" not in text
    assert "its sidecar OUT.json" in text


def test_insole_test_from_a_file_describes_it_in_words(capsys, tmp_path: Path) -> None:
    from insole.io import write_parquet
    from insole.simulate import simulate_clinic_test

    recording = simulate_clinic_test("tug", seed=8)
    source = write_parquet(recording, tmp_path / "tug.parquet")
    assert main(["test", "tug", "--from", str(source), "--age", "66"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (f"{source}: {recording.duration_s:.1f} s at {recording.sample_rate_hz:g} Hz, layout "
                     f"{recording.layout.name}, unit {recording.unit}, left {recording.samples('left').n_samples} "
                     f"and right {recording.samples('right').n_samples} samples")


def test_simulate_accepts_a_two_hour_walk(capsys, tmp_path: Path, monkeypatch) -> None:
    """--duration 7200 passes the command's checks and reaches the simulator (stopped there: 2 h take ~9 s)."""
    import insole.simulate

    asked = []

    def stop(params):
        asked.append(params.duration_s)
        raise ValueError("stopped by the test")

    monkeypatch.setattr(insole.simulate, "simulate", stop)  # the command imports it when it runs
    assert main(["simulate", "--duration", "7200", "--out", str(tmp_path / "s.parquet")]) == 2
    assert asked == [7200.0] and "stopped by the test" in capsys.readouterr().err


def _help(capsys, command: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"])
    assert stopped.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_mass_help_says_what_happens_without_it_and_the_range(capsys, command: str) -> None:
    text = _folded(_help(capsys, command))
    assert "above 0 and below 500" in text
    assert ("without it the recording's own mass is used: its metadata, which for a gaitpdb or gaitndd text file is "
            "the subject table beside the file") in text.lower()
    assert "with no mass at all the body weight is the recording's own walking load" in text.lower()


def test_report_help_is_wrapped_and_lists_the_formats_once(capsys, monkeypatch) -> None:
    from insole.io import formats

    monkeypatch.setenv("COLUMNS", "80")  # argparse fills the options to the terminal's width
    text = _help(capsys, "report")
    assert max(len(line) for line in text.split("examples:")[0].splitlines()) <= 80
    assert "[--format FORMAT]" in text
    listed = ", ".join(sorted(formats()))
    assert _folded(text).count(listed) == 1 and "{" not in text


def test_export_help_shows_an_example_of_each_format(capsys) -> None:
    examples = [line.strip() for line in _help(capsys, "export").split("examples:")[1].splitlines()
                if line.strip().startswith("insole export")]
    assert {e.split("--to ")[1].split()[0] for e in examples} == {"bids", "c3d", "tables"}
    assert any("--map" in e for e in examples) and any("--subject" in e for e in examples)


def test_report_says_a_baseline_of_another_person_was_not_compared(capsys, tmp_path: Path) -> None:
    from insole.io import write_parquet
    from insole.simulate import SimulationParams, simulate

    walk = simulate(SimulationParams(duration_s=20.0, seed=1))
    now = write_parquet(walk.with_meta(subject_id="P07"), tmp_path / "now.parquet")
    before = write_parquet(simulate(SimulationParams(duration_s=20.0, seed=2)).with_meta(subject_id="P08"),
                           tmp_path / "before.parquet")
    page = tmp_path / "r.html"
    assert main(["report", str(now), "--baseline", str(before), "--out", str(page)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"wrote {page}: ")
    assert lines[1:] == [f"baseline {before} not compared: the baseline is another person (P08 vs P07); the page "
                         "shows both sessions' numbers side by side and judges no change"]
    # the same person's earlier walk prints no such line
    same = write_parquet(simulate(SimulationParams(duration_s=20.0, seed=2)).with_meta(subject_id="P07"),
                         tmp_path / "same.parquet")
    assert main(["report", str(now), "--baseline", str(same), "--out", str(page), "--force"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1

"""What `insole analyze` prints and what its JSON says about the file it read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from insole._cli import main

REPO = Path(__file__).resolve().parents[1]
MOTICON = REPO / "recordings" / "moticon_230927_102114.parquet"
GAITNDD = REPO / "recordings" / "gaitndd_control1.parquet"


def _run(capsys, *argv: str) -> str:
    assert main(["analyze", *map(str, argv)]) == 0
    return capsys.readouterr().out


def test_summary_fits_a_terminal_and_compares_signed_measures_by_difference(capsys, tmp_path) -> None:
    out = _run(capsys, MOTICON, "--json", tmp_path / "a.json")
    assert max(len(line) for line in out.splitlines()) <= 100
    analysis = json.loads((tmp_path / "a.json").read_text())
    offset = analysis["summary"]["symmetry"]["cop_ml_offset_mm"]
    row = next(line for line in out.splitlines() if line.strip().startswith("mean COP offset"))
    assert row.endswith(f"R-L {offset['difference']:+.1f}")
    # the same offset as % of the ball width, the measure the report shows (one number, two units)
    percent = analysis["summary"]["symmetry"]["cop_ml_offset_pct"]
    row = next(line for line in out.splitlines() if line.strip().startswith("COP offset (% ball width)"))
    assert row.split()[-4:] == [f"{percent['left_mean']:.1f}", f"{percent['right_mean']:.1f}", "R-L",
                                f"{percent['difference']:+.1f}"]
    share = analysis["summary"]["symmetry"]["heel_share_pct"]
    row = next(line for line in out.splitlines() if line.strip().startswith("heel share"))
    assert row.endswith(f"{share['symmetry_index_pct']:+.1f}")


def test_summary_prints_the_regional_loads(capsys, tmp_path) -> None:
    out = _run(capsys, MOTICON, "--tables", tmp_path / "tables")
    frame = pd.read_parquet(tmp_path / "tables" / "regions.parquet")
    regions = {side: frame[frame["side"] == side].to_dict(orient="records") for side in ("left", "right")}
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Regions:"))
    for region, label in (("heel", "heel"), ("medial_forefoot", "medial forefoot"), ("lesser_toes", "lesser toes")):
        row = next(line for line in lines[start:] if line.strip().startswith(label + " ") or line.strip() == label)
        numbers = row.split()[len(label.split()):]
        for side, (peak, pti, share) in zip(("left", "right"), (numbers[:3], numbers[3:])):
            entry = next(r for r in regions[side] if r["region"] == region)
            assert peak == f"{entry['peak_pressure_kpa_mean']:.0f}"
            assert pti == f"{entry['pti_kpa_s_mean']:.0f}"
            assert share == f"{entry['share_pct_mean']:.1f}"


def test_json_names_the_analysed_file_and_keeps_the_original_source(capsys, tmp_path) -> None:
    _run(capsys, MOTICON, "--json", tmp_path / "a.json")
    provenance = json.loads((tmp_path / "a.json").read_text())["provenance"]["input"]
    assert provenance["analysed_file"] == {
        "path": str(MOTICON),
        "size_bytes": MOTICON.stat().st_size,
        "sha256": hashlib.sha256(MOTICON.read_bytes()).hexdigest(),
    }
    assert provenance["source"]["file"] == "230927_102114.txt"  # the vendor export it was converted from


def _folded(text: str) -> str:
    """The printed text with its line breaks and indents folded to single spaces (the summary wraps at 100)."""
    return " ".join(text.split())


def test_uncalibrated_insoles_print_no_number_in_body_weights(capsys) -> None:
    """gaitndd control1 (foot switches, unit au): the force rows in BW are withheld, one line says why, the walk's
    mean load is a load scale, and the timing rows and their symmetry indices stay (unmarked: no gain in them)."""
    out = _run(capsys, GAITNDD)
    lines = out.splitlines()
    for label in ("first peak", "mid-stance valley", "second peak", "loading rate", "impulse"):
        assert not [line for line in lines if line.strip().startswith(label)], label
    assert "(BW" not in out and " N)" not in out
    assert "body weight:" not in out and "metrics are given in body weights" not in out
    folded = _folded(out)
    assert "load scale (au, not a body weight): estimated from the recording's own load" in folded
    assert "= 0.9184 au" in folded
    assert ("uncalibrated insoles (au): a reading is not a force and the walk's mean load is not a body weight, so "
            "first peak, mid-stance valley, second peak, loading rate and impulse are not shown") in folded
    assert folded.count("no force metric is printed in body weights or newtons") == 1  # once, for both feet
    stride = next(line for line in lines if line.strip().startswith("stride time"))
    # the index rounds to zero at one decimal: +0.0 (it printed -0.0 before, a sign the rounding has no room for)
    assert stride.split() == ["stride", "time", "(s)", "1.073", "(4)", "1.073", "(3)", "+0.0"]
    assert "*" not in out  # no row shown depends on the insoles' gain


def test_counts_strides_used_and_stances_in_curves_beside_each_other(capsys) -> None:
    """Each foot's stride count and the stances its curves and maps average, as the report names them."""
    folded = _folded(_run(capsys, GAITNDD))
    assert "strides used 269/270 (excluded: 1 event unknown); stances in curves and maps 269;" in folded
    assert "strides used 268/269 (excluded: 1 event unknown); stances in curves and maps 268;" in folded
    # Moticon: the two counts differ (6 strides used, 5 stances averaged), so both are printed
    folded = _folded(_run(capsys, MOTICON))
    assert "strides used 6/9 (excluded: 2 event unknown, 1 standing or pause); stances in curves and maps 5;" in folded
    assert "strides used 6/8 (excluded: 1 event unknown, 1 standing or pause); stances in curves and maps 5;" in folded
    # a calibrated recording keeps its body weight and its rows in BW
    assert "body weight: estimated from the recording's own load" in folded and "load scale" not in folded
    assert "first peak (BW) 1.05 (5) 1.06 (1) +1.7" in folded


def test_no_strides_prints_no_empty_table(capsys, tmp_path) -> None:
    from insole.io import write_parquet
    from insole.simulate import SimulationParams, simulate

    path = tmp_path / "short.parquet"
    write_parquet(simulate(SimulationParams(pattern="normal", duration_s=2.0, seed=1)), path)
    out = _run(capsys, path)
    assert "No strides used" in out
    assert "SI %" not in out and "Regions:" not in out


@pytest.mark.parametrize("path", [MOTICON, GAITNDD])
def test_json_to_stdout_is_the_same_document(capsys, tmp_path, path) -> None:
    _run(capsys, path, "--json", tmp_path / "a.json")
    printed = _run(capsys, path, "--json", "-")
    assert json.loads(printed) == json.loads((tmp_path / "a.json").read_text())


def test_flagged_sensors_are_named_as_the_analysis_says(capsys) -> None:
    """pedar: the six flat left sensors by name (the analysis marks them named); F-Scan: its 484 cells that never
    load are counted, not named (more than 10 % of the grid)."""
    from _data import shared_data_dir

    exports = shared_data_dir() / "vendor-exports"
    if not (exports / "pedar_example.asc").exists():
        pytest.skip("needs shared/data/vendor-exports")
    assert main(["analyze", str(exports / "pedar_example.asc")]) == 0
    out = capsys.readouterr().out
    assert "(flagged: flat s69, s76, s88, s89, s95, s99)" in out and "(flagged: flat s83)" in out
    assert main(["analyze", str(exports / "fscan_testL.asf")]) == 0
    assert "(flagged: 484 flat (cells that never load, not named))" in capsys.readouterr().out


@pytest.mark.parametrize(("recording", "method", "reads"), [
    (MOTICON, "level", "where the total force crosses a level above the unloaded floor"),
    (GAITNDD, "shape", "at the onset of the force's rise, toe off at the end of its fall"),
])
def test_summary_says_what_the_event_method_reads(capsys, recording: Path, method: str, reads: str) -> None:
    out = _run(capsys, recording)
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  gait events: "))
    said = " ".join(line.strip() for line in lines[start:start + 2])
    assert reads in said
    assert f"(method '{method}', docs/analysis-methods.md)" in said


def test_a_tie_reads_zero_and_a_one_foot_walk_says_whose_strides(capsys, tmp_path) -> None:
    """A new user's findings (session 11): an exact tie printed "SI -0.0" (a symmetry index of -2e-14), and a
    one-foot walk's cadence line spoke of "both feet's used strides"."""
    from insole._cli._analyze import _fmt

    assert [_fmt(v, "+.1f") for v in (-2e-14, -0.04, -0.06, 0.0, 3.25)] == ["+0.0", "+0.0", "-0.1", "+0.0", "+3.2"]
    assert [_fmt(v, ".1f") for v in (-0.0, -0.04, float("nan"))] == ["0.0", "0.0", "-"]
    assert [_fmt(v, ".0f") for v in (10.0, -0.4, 100.2)] == ["10", "0", "100"]
    import insole

    left = tmp_path / "left.parquet"
    insole.io.write_parquet(insole.load(MOTICON).replace(right=None), left)
    out = _run(capsys, left)
    cadence = next(line for line in out.splitlines() if line.startswith("Cadence"))
    assert cadence.endswith("(session cadence: 120 / the mean stride time of the left foot's used strides)")
    out = _run(capsys, MOTICON)
    cadence = next(line for line in out.splitlines() if line.startswith("Cadence"))
    assert cadence.endswith("(session cadence: 120 / the mean stride time of both feet's used strides)")

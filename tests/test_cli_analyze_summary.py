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


def test_uncalibrated_indices_are_marked(capsys) -> None:
    out = _run(capsys, GAITNDD)
    row = next(line for line in out.splitlines() if line.strip().startswith("first peak"))
    assert row.endswith("*")
    timing = next(line for line in out.splitlines() if line.strip().startswith("stride time"))
    assert not timing.endswith("*")  # timing does not depend on the insoles' gain
    assert "* uncalibrated insoles" in out


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

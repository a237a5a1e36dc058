"""`insole info`, `insole convert` through the real command line, on every staged file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _data import shared_data_dir

import insole

SHARED = shared_data_dir()
GAITPDB = sorted((SHARED / "gaitpdb").glob("[A-Z][a-z][A-Z][a-z][0-9]*_[0-9]*.txt"))
GAITNDD = sorted((SHARED / "gaitndd").glob("*.hea"))
MOTICON = sorted((SHARED / "moticon-opengo").rglob("*.txt"))
REPO = Path(__file__).resolve().parents[1]

# the keys docs/info-json.md promises at the top level of schema version 1
TOP_LEVEL_KEYS = {
    "schema", "schema_version", "insole_version", "file", "format", "duration_s", "sample_rate_hz", "unit",
    "layout", "sides", "feet", "meta", "capture_quality", "reference_events", "marks", "stream",
}
FOOT_KEYS = {
    "samples", "valid_samples", "invalid_samples", "valid_fraction", "start_s", "end_s", "gap_count", "gaps",
    "imu", "channels",
}


def _insole(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "insole._cli", *map(str, args)], capture_output=True, text=True, timeout=180
    )


def _info_json(path: Path, *extra: str) -> dict:
    result = _insole("info", path, "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("path", GAITPDB + GAITNDD + MOTICON, ids=lambda p: p.name)
def test_info_json_on_every_staged_file(path: Path) -> None:
    info = _info_json(path)
    recording = insole.load(path)
    assert set(info) == TOP_LEVEL_KEYS
    assert (info["schema"], info["schema_version"]) == ("insole-info", 1)
    assert info["file"] == str(path)
    assert info["duration_s"] == recording.duration_s
    assert info["sample_rate_hz"] == recording.sample_rate_hz and info["unit"] == recording.unit
    assert info["layout"]["name"] == recording.layout.name
    assert info["layout"]["sensors_per_foot"] == recording.layout.n_sensors
    for side in ("left", "right"):
        foot, expected = info["feet"][side], recording.foot(side)
        assert set(foot) == FOOT_KEYS
        assert foot["samples"] == expected.n_samples
        assert foot["invalid_samples"] == int((~expected.valid).sum())
        assert foot["valid_fraction"] == expected.valid_fraction
        assert sum(g["samples"] for g in foot["gaps"]) == foot["invalid_samples"]
    assert info["meta"]["source"]["sha256"] == recording.meta.source["sha256"]
    events = recording.reference_events
    if events is None:
        assert info["reference_events"] is None
    else:
        assert info["reference_events"]["heel_strikes"] == {s: len(t) for s, t in events.heel_strike_s.items()}
    assert info["stream"] is None


def test_info_json_figures_for_known_files() -> None:
    moticon = _info_json(SHARED / "moticon-opengo" / "230927_102114.txt")
    assert moticon["format"] == "moticon" and moticon["unit"] == "kPa"
    assert moticon["feet"]["left"]["invalid_samples"] == 63 and moticon["feet"]["right"]["invalid_samples"] == 13
    assert moticon["feet"]["left"]["gaps"][0] == {"start_s": 0.0, "end_s": 0.49, "samples": 50}
    assert moticon["reference_events"]["toe_offs"] == {"left": 7, "right": 7}
    assert moticon["meta"]["devices"]["right"]["serial"] == "SN9171"
    ndd = _info_json(SHARED / "gaitndd" / "control2.let")  # a signal file finds its header
    assert ndd["format"] == "gaitndd" and ndd["sample_rate_hz"] == 300.0 and ndd["duration_s"] == 300.0
    assert ndd["feet"]["left"]["gaps"] == [{"start_s": 7581 / 300, "end_s": 7581 / 300, "samples": 1}]
    assert ndd["reference_events"]["heel_strikes"] == {"left": 241}
    pdb = _info_json(SHARED / "gaitpdb" / "GaPt03_01.txt", "--format", "gaitpdb")
    assert pdb["meta"]["body_mass_kg"] == 50.0 and pdb["layout"]["sensors_per_foot"] == 8


def test_info_text_names_what_matters() -> None:
    result = _insole("info", SHARED / "gaitndd" / "als1.hea")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for expected in ("format        gaitndd", "duration      300.00 s", "sample rate   300 Hz",
                     "footswitch1 (1 sensor per foot", "right foot    90000 samples, 100.00% valid, 1 gap(s)",
                     "reference events  PhysioNet gaitndd stride table als1.ts"):
        assert expected in text, text


def test_convert_to_parquet_and_csv_through_the_cli(tmp_path: Path) -> None:
    source = SHARED / "gaitpdb" / "JuCo01_01.txt"
    parquet = tmp_path / "JuCo01_01.parquet"
    result = _insole("convert", source, "--to", "parquet", "--out", parquet)
    assert result.returncode == 0, result.stderr
    assert insole.load(parquet).equals(insole.load(source))
    csv_path = tmp_path / "JuCo01_01.csv"
    result = _insole("convert", parquet, "--to", "csv", "--out", csv_path)
    assert result.returncode == 0, result.stderr
    header = csv_path.read_text().split("\n", 1)[0].split(",")
    assert header[:3] == ["time_s", "left_valid", "left_s1_n"] and header[-1] == "right_vendor_total_force_n"
    assert len(csv_path.read_text().strip().split("\n")) == 1 + 5349
    sidecar = json.loads((tmp_path / "JuCo01_01.csv.json").read_text())
    assert sidecar["format"] == "insole-csv" and sidecar["recording"]["meta"]["subject_id"] == "JuCo01"
    assert insole.load(csv_path).equals(insole.load(source))
    # refuses to overwrite without --force
    again = _insole("convert", parquet, "--to", "csv", "--out", csv_path)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_pandas_opens_our_parquet_without_insole(tmp_path: Path) -> None:
    parquet = tmp_path / "m.parquet"
    insole.write_parquet(insole.load(SHARED / "moticon-opengo" / "230927_102114.txt"), parquet)
    script = (
        "import json, sys, pandas as pd, pyarrow.parquet as pq\n"
        f"frame = pd.read_parquet({str(parquet)!r})\n"
        f"meta = json.loads(pq.read_schema({str(parquet)!r}).metadata[b'insole.recording'])\n"
        "assert 'insole' not in sys.modules\n"
        "left = frame[frame.side == 'left']\n"
        "print(len(frame), int((~left.valid).sum()), meta['unit'], meta['layout']['name'], frame.columns[3])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3500", "63", "kPa", "moticon16", "p1_kpa"]


def test_info_on_the_shipped_sample_recordings() -> None:
    shipped = sorted((REPO / "recordings").glob("*.parquet"))
    assert len(shipped) >= 3
    for path in shipped:
        info = _info_json(path)
        assert info["format"] == "parquet" and info["meta"]["source"]["sha256"]
        assert np.isfinite(info["duration_s"]) and info["duration_s"] > 0


def test_info_with_a_column_mapping(tmp_path: Path) -> None:
    data = tmp_path / "switches.tsv"
    data.write_text("t\tleft\tright\n0.00\t0.5\t0.1\n0.02\t0.6\t\n0.04\t0.7\t0.3\n")
    mapping = tmp_path / "switches.json"
    mapping.write_text('{"sample_rate_hz": 50, "time_column": "t", "layout": "footswitch1", "unit": "au", '
                       '"left": ["left"], "right": ["right"], "meta": {"subject_id": "FS-1"}}')
    info = _info_json(data, "--map", str(mapping))
    assert info["format"] == "generic-csv" and info["sample_rate_hz"] == 50.0
    assert info["feet"]["right"]["gaps"] == [{"start_s": 0.02, "end_s": 0.02, "samples": 1}]
    assert info["feet"]["left"]["invalid_samples"] == 0 and info["meta"]["subject_id"] == "FS-1"
    assert info["meta"]["source"]["mapping"]["file"] == "switches.json"


def test_the_command_listing_is_each_command_own_help() -> None:
    # `insole --help` lists the commands from COMMAND_HELP without importing them: the same lines their parsers give
    from insole._cli import COMMAND_HELP, build_parser

    full = next(a for a in build_parser()._actions if isinstance(getattr(a, "choices", None), dict))
    listed = next(a for a in build_parser(listing=True)._actions if isinstance(getattr(a, "choices", None), dict))
    assert {c.dest: c.help for c in full._choices_actions} == COMMAND_HELP
    assert [c.dest for c in listed._choices_actions] == list(COMMAND_HELP)


def test_help_and_version_import_no_command_nor_the_file_stack() -> None:
    # what `insole --help` and `insole --version` load (start-up speed is measured in benchmarks/, not here)
    probe = (
        "import sys\nfrom insole._cli import main\n"
        "for argv in (['--help'], ['--version'], []):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "heavy = ('pyarrow', 'pandas', 'scipy', 'insole.io', 'insole.analysis', 'insole._cli._analyze')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert f"insole {insole.__version__}" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]"

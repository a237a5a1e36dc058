"""Vendor exports (pedar, F-Scan, XSENSOR, stappone) on the real files in ../shared/data/vendor-exports.

Every fact the importers produce is checked against the file itself, read
here a second, independent way (plain string handling, no shared code).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _data import shared_data_dir

import insole
from insole._cli import main
from insole.analysis import (
    arch_index,
    footprint,
    force_n,
    grid_image,
    is_grid,
    peak_pressure_map,
    pressure_time_integral_map,
)
from insole.io._load import detect_format

VENDOR = shared_data_dir() / "vendor-exports"
PEDAR = VENDOR / "pedar_example.asc"
FSCAN = VENDOR / "fscan_testL.asf"
XSENSOR = VENDOR / "xsensor_data.csv"
STAPPONE = VENDOR / "stappone_example.csv"
ALL = {"pedar": PEDAR, "fscan": FSCAN, "xsensor": XSENSOR, "stappone": STAPPONE}
G = 9.80665
MMHG_KPA = 0.133322387415


@pytest.fixture(scope="module")
def recordings() -> dict[str, insole.Recording]:
    if not VENDOR.is_dir():
        pytest.fail(f"the vendor exports are expected at {VENDOR}")
    return {name: insole.load(path) for name, path in ALL.items()}


@pytest.mark.parametrize("name", sorted(ALL))
def test_detected_by_content_and_survives_our_parquet(name: str, recordings, tmp_path: Path) -> None:
    path = ALL[name]
    renamed = tmp_path / "export.dat"  # detection must not lean on the file name
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed) == name
    recording = recordings[name]
    insole.write_parquet(recording, tmp_path / "r.parquet")
    assert insole.read_parquet(tmp_path / "r.parquet").equals(recording)


@pytest.mark.parametrize("name", sorted(ALL))
def test_no_negative_values_and_provenance(name: str, recordings) -> None:
    recording = recordings[name]
    for side in recording.sides:
        values = recording.foot(side).values
        assert np.nanmin(values) >= 0
    assert recording.meta.source["sha256"] and recording.meta.source["format"] == name
    assert recording.meta.software["importer"] == name


# ----------------------------------------------------------------------------- pedar


def test_pedar_header_facts(recordings) -> None:
    lines = PEDAR.read_text(encoding="latin-1").splitlines()
    total = float(re.search(r"total time \[secs\]:\s*([\d.]+)", lines[2]).group(1))
    period = float(re.search(r"time per frame \[secs\]:\s*([\d.]+)", lines[2]).group(1))
    rate = float(re.search(r"scanning rate \[Hz\]:\s*([\d.]+)", lines[2]).group(1))
    assert lines[3].split()[-1] == "kPa"
    header_row = next(i for i, line in enumerate(lines) if line.startswith("time[secs]"))
    n_sensor_columns = len(lines[header_row].split()) - 1
    rows = [line.split() for line in lines[header_row + 1:] if line.strip()]

    recording = recordings["pedar"]
    assert recording.unit == "kPa"
    assert recording.sample_rate_hz == rate == 100
    assert n_sensor_columns == 198 and recording.layout.n_sensors == 99
    assert recording.left.n_samples == recording.right.n_samples == len(rows) == round(total / period) == 1505
    first, last = rows[0], rows[-1]
    assert recording.left.time_s[0] == float(first[0]) and recording.left.time_s[-1] == float(last[0])
    assert np.array_equal(recording.left.values[0], np.float32([float(v) for v in first[1:100]]))
    assert np.array_equal(recording.right.values[-1], np.float32([float(v) for v in last[100:199]]))
    assert recording.meta.extra["mask_definition"]["left"] == list(range(1, 100))
    assert recording.meta.devices["left"]["insole_serial"] == "1865l"
    assert recording.meta.devices["right"]["insole_serial"] == "1870r"


def test_pedar_layout_is_an_approximation_with_the_published_numbering(recordings) -> None:
    layout = recordings["pedar"].layout
    assert layout.approximate and "APPROXIMATE" in layout.source
    # sensor 1 sits at the medial heel, 5 at the lateral heel (first row of 5), 96 is the hallux tip row
    assert layout.y_mm[0] > 0 > layout.y_mm[4]
    assert layout.regions[0] == "medial_heel" and layout.regions[4] == "lateral_heel"
    assert layout.regions[95] == "hallux" and layout.regions[98] == "lesser_toes"
    assert np.all(np.diff(layout.x_mm) >= 0)  # numbered heel to toe
    # equal-area sensors of insole size y (193 mm²) tile an outline of the same area
    assert np.all(layout.area_mm2 == 193.0)
    outline = layout.outline_mm
    area = 0.5 * abs(np.dot(outline[:, 0], np.roll(outline[:, 1], 1))
                     - np.dot(outline[:, 1], np.roll(outline[:, 0], 1)))
    assert area == pytest.approx(99 * 193.0, rel=1e-3)  # polygon vs. construction: discretisation only


# ----------------------------------------------------------------------------- F-Scan


def _fscan_header() -> dict[str, str]:
    header = {}
    for line in FSCAN.read_text(encoding="latin-1").splitlines():
        if line.startswith("ASCII_DATA"):
            break
        key, _, value = line.partition(" ")
        header[key] = value.strip()
    return header


def _fscan_frame(number: int) -> list[list[str]]:
    lines = FSCAN.read_text(encoding="latin-1").splitlines()
    start = lines.index(f"Frame {number}") + 1
    return [line.split(",") for line in lines[start:start + 60]]


def test_fscan_header_facts(recordings) -> None:
    header = _fscan_header()
    recording = recordings["fscan"]
    grid = recording.layout.extra["grid"]
    assert (grid["n_rows"], grid["n_cols"]) == (int(header["ROWS"]), int(header["COLS"])) == (60, 21)
    assert grid["row_spacing_mm"] == float(header["ROW_SPACING"].split()[0]) == 5.08
    assert np.all(recording.layout.area_mm2 == float(header["SENSEL_AREA"].split()[0]))
    assert recording.sample_rate_hz == 1 / float(header["SECONDS_PER_FRAME"])
    n_frames = int(header["END_FRAME"]) - int(header["START_FRAME"]) + 1
    assert recording.left.n_samples == n_frames == 205 and recording.right is None  # ...L.fsx: left foot
    assert header["UNITS"] == "KPa" and recording.unit == "kPa"
    assert recording.meta.body_mass_kg == 75.0001
    first = _fscan_frame(1)
    inside = sum(cell != "B" for row in first for cell in row)
    assert recording.layout.n_sensors == inside  # B cells are not sensors
    assert not recording.layout.approximate


def test_fscan_values_match_the_file_cell_by_cell(recordings) -> None:
    recording = recordings["fscan"]
    grid = recording.layout.extra["grid"]
    frame = _fscan_frame(100)
    image = grid_image(recording.layout, recording.left.values[99])
    # left insole: canonical grid == vendor grid (row 1 toes, columns run lateral -> medial)
    for r in range(60):
        for c in range(21):
            cell = frame[r][c]
            assert (np.isnan(image[r, c]) if cell == "B" else image[r, c] == float(cell)), (r, c)
    assert grid["convention"].startswith("row 0 at the toes")


def test_fscan_total_force_matches_the_walk_calibration(recordings) -> None:
    recording = recordings["fscan"]
    body_weight_n = 75.0001 * G
    force = force_n(recording, "left")
    loaded = force > 0.05 * body_weight_n
    edges = np.flatnonzero(np.diff(loaded.astype(np.int8)))
    starts, stops = edges[::2] + 1, edges[1::2] + 1
    if loaded[0]:  # the recording starts inside a stance: skip that partial one
        starts, stops = edges[1::2] + 1, edges[2::2] + 1
    stances = [(a, b) for a, b in zip(starts, stops) if b - a >= 15]
    assert len(stances) >= 4
    for a, b in stances:
        middle = force[a + (b - a) // 3: a + 2 * (b - a) // 3]
        # Mid-stance force of walking sits near body weight; the acceptance is 20 %
        # (walk calibration against body weight, sensor creep and the 31 Hz sampling).
        assert 0.8 * body_weight_n < np.median(middle) < 1.2 * body_weight_n
        # and the stance peaks of walking stay within the usual 1.0-1.35 x body weight
        assert 1.0 * body_weight_n < force[a:b].max() < 1.35 * body_weight_n


def test_fscan_orientation_midfoot_loads_laterally(recordings) -> None:
    recording = recordings["fscan"]
    layout = recording.layout
    pti = pressure_time_integral_map(recording, "left")
    lateral = pti[layout.region_mask("lateral_midfoot")].sum()
    medial = pti[layout.region_mask("medial_midfoot")].sum()
    assert lateral > 2 * medial  # the arch spans the medial midfoot: if columns were flipped this would invert


# ----------------------------------------------------------------------------- XSENSOR


def _xsensor_lines() -> list[list[str]]:
    text = XSENSOR.read_text(encoding="utf-8-sig")
    return [line.split(",") for line in text.splitlines() if line.strip(",")]


def test_xsensor_header_facts_and_units(recordings) -> None:
    lines = _xsensor_lines()
    keys = [line[0] for line in lines]
    assert lines[keys.index("Units:")][1] == "mmHg"
    n_frames = keys.count("FRAME")
    rows = int(lines[keys.index("Rows")][1])
    cols = int(lines[keys.index("Columns")][1])
    width_cm = float(lines[keys.index("Sensel Width (cm)")][1])
    recording = recordings["xsensor"]
    grid = recording.layout.extra["grid"]
    assert (grid["n_rows"], grid["n_cols"]) == (rows, cols) == (31, 11)
    assert grid["col_spacing_mm"] == pytest.approx(width_cm * 10)
    assert recording.left.n_samples == recording.right.n_samples == n_frames == 101
    times = [lines[i][1].strip() for i, k in enumerate(keys) if k == "Time"]
    h, m, s = (float(v) for v in times[-1].split(":"))
    h0, m0, s0 = (float(v) for v in times[0].split(":"))
    span = (h - h0) * 3600 + (m - m0) * 60 + (s - s0)
    assert recording.left.time_s[-1] == pytest.approx(span, abs=1e-9)
    assert recording.sample_rate_hz == pytest.approx((n_frames - 1) / span, abs=1e-3)
    # first left grid: the 31 rows after the first SENSELS, mmHg -> kPa
    start = keys.index("SENSELS") + 1
    first = np.array([[float(v) for v in line[:cols]] for line in lines[start:start + rows]])
    image = grid_image(recording.layout, recording.left.values[0])
    inside = ~np.isnan(image)
    assert np.allclose(image[inside], (first * MMHG_KPA)[inside], rtol=1e-6)  # float32 storage
    assert np.all(first[~inside] == 0)  # cells outside the outline never carry load


def test_xsensor_force_agrees_with_the_vendor_estimate(recordings) -> None:
    recording = recordings["xsensor"]
    for side in ("left", "right"):
        ours = force_n(recording, side)
        vendor = recording.foot(side).channels["vendor_total_force_n"]
        loaded = vendor > 20
        assert loaded.sum() > 20
        # The file rounds the sensel size to 0.01 cm (0.86 cm): 0.3 % in area; vendor loads have 0.01 N steps.
        assert np.allclose(ours[loaded], vendor[loaded], rtol=0.005)


def test_xsensor_regions_are_located_and_both_feet_share_anatomy(recordings) -> None:
    recording = recordings["xsensor"]
    regions = recording.layout.extra["vendor_regions"]
    cells = {"Heel": 36, "Midfoot": 70, "Metatarsal": 76, "Toe": 51}
    for name, count in cells.items():
        for side in ("Left", "Right"):
            # Cells are placed by their values; a few that never carried load, in a row of such cells,
            # match several places equally and stay unplaced (4 of 51 at most in this file).
            assert count - 5 <= len(regions[f"{side} {name}"]) <= count
    # vendor heel cells lie in our heel, toe cells in our toes (same anatomy, both feet after mirroring)
    index = {n: i for i, n in enumerate(recording.layout.sensor_names)}
    ours = np.asarray(recording.layout.regions)
    for side in ("Left", "Right"):
        heel = ours[[index[n] for n in regions[f"{side} Heel"]]]
        assert np.mean(np.isin(heel, ["medial_heel", "lateral_heel"])) > 0.8
    for side in ("left", "right"):
        pti = pressure_time_integral_map(recording, side)
        layout = recording.layout
        assert pti[layout.region_mask("lateral_midfoot")].sum() > pti[layout.region_mask("medial_midfoot")].sum()


# ----------------------------------------------------------------------------- stappone


def test_stappone_facts(recordings) -> None:
    lines = STAPPONE.read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    recording = recordings["stappone"]
    assert recording.unit == "au" and recording.layout.n_sensors == sum(h.startswith("pressure_") for h in header) == 12
    assert recording.left.n_samples == len(rows) == 4575 and recording.right is None
    stamps = np.array([int(r[1]) for r in rows])
    assert recording.sample_rate_hz == 1000 / np.median(np.diff(stamps)) == 62.5
    assert np.array_equal(recording.left.time_s, (stamps - stamps[0]) / 1000)
    pressure = np.array([[float(v) for v in r[header.index("pressure_01"):header.index("pressure_12") + 1]]
                         for r in rows])
    assert np.array_equal(recording.left.values, pressure.astype(np.float32))
    assert recording.left.valid.all() and all(r[-1] == "0" for r in rows)
    # at rest (first half second) the accelerometer reads 1 g: mm/s² was the right unit
    magnitude = np.linalg.norm(recording.left.accel_g[:30], axis=1)
    assert np.all(np.abs(magnitude - 1) < 0.03)  # sensor offset and gain tolerance of a MEMS IMU


def test_stappone_corrupt_samples_holes_and_two_soles(tmp_path: Path) -> None:
    lines = STAPPONE.read_text().splitlines()
    header, rows = lines[0], lines[1:201]
    edited = []
    for i, line in enumerate(rows):
        fields = line.split(",")
        if i in (10, 11):
            fields[-1] = "1"  # corrupt
        if i in (50, 51, 52):
            continue  # a hole of three samples
        edited.append(",".join(fields))
        right = fields.copy()
        right[0] = "2"
        right[1] = str(int(fields[1]) + 3)  # the other sole's own clock
        edited.append(",".join(right))
    path = tmp_path / "two_soles.csv"
    path.write_text(header + "\n" + "\n".join(edited) + "\n")
    recording = insole.load(path)
    assert recording.sides == ("left", "right")
    left = recording.left
    assert left.n_samples == 200  # 197 rows + 3 inserted gap slots
    assert list(np.flatnonzero(~left.valid)) == [10, 11, 50, 51, 52]
    assert np.isnan(left.values[~left.valid]).all() and np.isnan(left.accel_g[~left.valid]).all()
    assert np.allclose(np.diff(left.time_s), 0.016)  # gap slots at the nominal spacing
    assert recording.right.time_s[0] == pytest.approx(0.003)


# ----------------------------------------------------------------------------- grids and footprints


@pytest.mark.parametrize("name", ["fscan", "xsensor", "pedar"])
def test_regions_run_heel_to_toe_and_arch_index_is_plausible(name: str, recordings) -> None:
    recording = recordings[name]
    layout = recording.layout
    means = [layout.x_mm[layout.region_mask(g)].mean() for g in ("heel", "midfoot", "forefoot", "toes")]
    assert means == sorted(means)
    for group in ("medial_forefoot", "lateral_forefoot", "hallux", "lesser_toes"):
        assert layout.region_mask(group).any()
    assert np.all(layout.y_mm[layout.region_mask("medial_forefoot")].mean()
                  > layout.y_mm[layout.region_mask("lateral_forefoot")].mean())
    for side in recording.sides:
        index = arch_index(layout, peak_pressure_map(recording, side), 10.0)
        # dynamic in-shoe footprints of adults: Cavanagh & Rodgers report 0.15-0.35 for footprints
        assert 0.15 < index.value < 0.35, index
        assert index.heel_area_mm2 > 0 and index.forefoot_area_mm2 > index.midfoot_area_mm2


def test_grid_layouts_are_grids(recordings) -> None:
    assert is_grid(recordings["fscan"].layout) and is_grid(recordings["xsensor"].layout)
    assert not is_grid(recordings["pedar"].layout)
    fp = footprint(recordings["fscan"], "left")
    assert 200 < fp.sum() < recordings["fscan"].layout.n_sensors  # a foot inside a larger insole


def test_analysis_core_runs_on_every_vendor_file(recordings) -> None:
    for name, recording in recordings.items():
        analysis = insole.analyze(recording)
        strides = {side: len(analysis.strides[side]) for side in analysis.sides}
        if name == "xsensor":
            continue  # 1.3 s of walking: shorter than one stride, nothing to count
        # pedar (15 s), F-Scan (6.6 s) and stappone (73 s) are walks: each foot has several strides
        assert all(n >= 3 for n in strides.values()), (name, strides)


# ----------------------------------------------------------------------------- malformed files


def _cut(path: Path, keep: float, out: Path) -> Path:
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * keep)])
    return out


def _run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err.strip()
    return code, err


@pytest.mark.parametrize("name", sorted(ALL))
def test_cut_files_fail_with_one_line_and_exit_2(name: str, tmp_path: Path, capsys) -> None:
    cut = _cut(ALL[name], 0.5, tmp_path / f"cut_{ALL[name].name}")
    code, err = _run_cli(["info", str(cut)], capsys)
    assert code == 2
    assert err.count("\n") == 0 and str(cut) in err
    assert "truncated" in err or "cut short" in err


def test_wrong_grid_sizes_fail_with_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    fscan = tmp_path / "rows.asf"
    fscan.write_text(FSCAN.read_text(encoding="latin-1").replace("ROWS 60", "ROWS 59", 1), encoding="latin-1")
    code, err = _run_cli(["info", str(fscan)], capsys)
    assert code == 2 and "ROWS 59" in err and err.count("\n") == 0
    cols = tmp_path / "cols.asf"
    cols.write_text(FSCAN.read_text(encoding="latin-1").replace("COLS 21", "COLS 20", 1), encoding="latin-1")
    code, err = _run_cli(["info", str(cols)], capsys)
    assert code == 2 and "wrong grid size" in err
    xs = tmp_path / "cols.csv"
    xs.write_text(XSENSOR.read_text(encoding="utf-8-sig").replace("Columns,11", "Columns,12", 1), encoding="utf-8")
    code, err = _run_cli(["export", str(xs), "--to", "bids", "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "wrong grid size" in err and err.count("\n") == 0
    pedar = tmp_path / "short.asc"
    text = PEDAR.read_text(encoding="latin-1").splitlines()
    text[20] = "\t".join(text[20].split("\t")[:150])
    pedar.write_text("\n".join(text) + "\n", encoding="latin-1")
    code, err = _run_cli(["info", str(pedar)], capsys)
    assert code == 2 and "line 21" in err and "expected 199" in err


def test_the_installed_command_reports_a_cut_file(tmp_path: Path) -> None:
    cut = _cut(FSCAN, 0.3, tmp_path / "cut.asf")
    insole_cmd = Path(sys.executable).with_name("insole")
    result = subprocess.run([str(insole_cmd), "info", str(cut)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr

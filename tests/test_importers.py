"""The importers on the real staged files in ../shared/data, checked against independent readings of them."""

from __future__ import annotations

import csv
import re
import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from _data import shared_data_dir

import insole
from insole import InputError, MalformedFileError
from insole.io._export._csv import write_csv
from insole.io._importers._generic_csv import load_with_mapping
from insole.io._load import detect_format

SHARED = shared_data_dir()
GAITPDB = sorted((SHARED / "gaitpdb").glob("[A-Z][a-z][A-Z][a-z][0-9]*_[0-9]*.txt"))
GAITNDD = sorted((SHARED / "gaitndd").glob("*.hea"))
MOTICON = sorted((SHARED / "moticon-opengo").rglob("*.txt"))
ALL_FILES = GAITPDB + GAITNDD + MOTICON


def _id(path: Path) -> str:
    return path.name


def test_the_development_sets_are_all_here(shared_data: Path) -> None:
    # the README of each dataset lists these; a missing file would silently shrink every test below
    assert len(GAITPDB) == 6
    assert len(GAITNDD) == 8
    assert len(MOTICON) == 3


@pytest.mark.parametrize("path", ALL_FILES, ids=_id)
def test_every_staged_file_imports_and_survives_our_parquet(path: Path, tmp_path: Path) -> None:
    recording = insole.load(path)
    assert recording.sides == ("left", "right")
    out = insole.write_parquet(recording, tmp_path / "roundtrip.parquet")
    again = insole.load(out)
    assert again.equals(recording)
    # and the importer's provenance is in it
    assert again.meta.source["sha256"] and again.meta.software["importer"] == detect_format(path)


@pytest.mark.parametrize("path", ALL_FILES, ids=_id)
def test_csv_export_reads_back_identical(path: Path, tmp_path: Path) -> None:
    recording = insole.load(path)
    csv_path, _ = write_csv(recording, tmp_path / "export.csv")
    assert insole.load(csv_path).equals(recording)


# --- gaitpdb -----------------------------------------------------------------------------------


def _decimals(text: str) -> int:
    return -Decimal(text).as_tuple().exponent if "." in text else 0


@pytest.mark.parametrize("path", GAITPDB, ids=_id)
def test_gaitpdb_values_time_and_totals(path: Path) -> None:
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    table = np.array(rows, dtype=np.float64)
    recording = insole.load(path)
    assert recording.unit == "N" and recording.layout.name == "gaitpdb8" and recording.sample_rate_hz == 100.0
    for side, sensors, total in (("left", slice(1, 9), 17), ("right", slice(9, 17), 18)):
        foot = recording.foot(side)
        np.testing.assert_array_equal(foot.time_s, table[:, 0])  # the file's own time column, not i/100
        np.testing.assert_array_equal(foot.values, table[:, sensors].astype(np.float32))
        np.testing.assert_array_equal(foot.channels["vendor_total_force_n"], table[:, total])
        assert foot.valid.all()
        # The file writes forces with `decimals` decimals, so a total rounded to the file's
        # precision may differ from the sum of the 8 rounded sensors by half a unit of the last
        # decimal. Our float32 storage adds at most 8 sensors x 2**-24 relative x ~2000 N < 0.001 N.
        decimals = max(_decimals(r[k]) for r in rows for k in [*range(sensors.start, sensors.stop), total])
        assert decimals == 2
        tolerance_n = 0.5 * 10.0**-decimals
        summed = foot.values.astype(np.float64).sum(axis=1)
        assert np.max(np.abs(summed - foot.channels["vendor_total_force_n"])) <= tolerance_n


def test_gaitpdb_subject_group_and_demographics() -> None:
    recording = insole.load(SHARED / "gaitpdb" / "GaPt03_01.txt")
    meta = recording.meta
    assert meta.subject_id == "GaPt03"
    assert meta.body_mass_kg == 50.0
    assert meta.condition == "usual walk"
    assert meta.extra["study"] == "Ga" and meta.extra["group"] == "parkinsons"
    demographics = meta.extra["demographics"]
    assert (demographics["sex"], demographics["age_years"], demographics["hoehn_yahr"]) == ("female", 82.0, 3.0)
    assert demographics["gait_speed_m_per_s"] is None  # Speed_01 is NaN for this subject
    control = insole.load(SHARED / "gaitpdb" / "JuCo01_01.txt").meta
    assert control.extra["group"] == "control"
    assert control.extra["demographics"]["height_m"] == pytest.approx(1.67)  # Ju heights are in cm in the file


def test_gaitpdb_without_demographics_still_imports(tmp_path: Path) -> None:
    copy = tmp_path / "SiCo01_01.txt"
    shutil.copy(SHARED / "gaitpdb" / "SiCo01_01.txt", copy)
    meta = insole.load(copy).meta
    assert meta.subject_id == "SiCo01" and meta.body_mass_kg is None and "demographics" not in meta.extra


# --- gaitndd -----------------------------------------------------------------------------------


def _decode_212_slowly(data: bytes, n: int) -> list[int]:
    """An independent, obviously-correct (and slow) reading of WFDB format 212."""
    out = []
    for k in range(0, 3 * ((n + 1) // 2), 3):
        b0, b1, b2 = data[k], data[k + 1], data[k + 2]
        for value in (b0 | ((b1 & 0x0F) << 8), b2 | ((b1 & 0xF0) << 4)):
            out.append(value - 4096 if value & 0x800 else value)
    return out[:n]


@pytest.mark.parametrize("header", GAITNDD, ids=_id)
def test_gaitndd_counts_rates_values_and_invalid_samples(header: Path) -> None:
    lines = header.read_text().split()
    record, n_signals, rate, n_samples = lines[0], int(lines[1]), float(lines[2]), int(lines[3])
    assert n_signals == 2
    recording = insole.load(header)
    assert recording.sample_rate_hz == rate == 300.0
    assert recording.unit == "au" and recording.layout.name == "footswitch1"
    for side, suffix in (("left", ".let"), ("right", ".rit")):
        spec = next(line for line in header.read_text().splitlines() if line.startswith(record + suffix)).split()
        gain = float(spec[2])
        raw = np.array(_decode_212_slowly((header.parent / (record + suffix)).read_bytes(), n_samples))
        foot = recording.foot(side)
        assert foot.n_samples == n_samples
        np.testing.assert_array_equal(foot.time_s, np.arange(n_samples) / rate)
        invalid = raw == -2048
        np.testing.assert_array_equal(foot.valid, ~invalid)
        expected = np.where(invalid, np.nan, raw / gain).astype(np.float32)
        np.testing.assert_array_equal(foot.values[:, 0], expected)


def test_gaitndd_invalid_samples_are_where_the_readme_says() -> None:
    als1 = insole.load(SHARED / "gaitndd" / "als1.hea")
    assert np.flatnonzero(~als1.right.valid).tolist() == [0] and als1.left.valid.all()
    assert np.isnan(als1.right.values[0, 0])


@pytest.mark.parametrize(
    ("record", "strides"),
    [("control1", 259), ("control2", 241), ("park1", 245), ("park2", 277), ("hunt1", 310), ("hunt2", 225),
     ("als1", 194), ("als2", 242)],
)
def test_gaitndd_stride_table_becomes_reference_events(record: str, strides: int) -> None:
    recording = insole.load(SHARED / "gaitndd" / f"{record}.hea")
    table = np.loadtxt(SHARED / "gaitndd" / f"{record}.ts")
    events = recording.reference_events
    assert events is not None and len(table) == strides
    assert events.heel_strike_s["left"] == tuple(table[:, 0])
    np.testing.assert_allclose(events.toe_off_s["left"], table[:, 0] - table[:, 3], rtol=0, atol=1e-12)
    assert "right" not in events.heel_strike_s  # the table has no absolute right-foot times
    assert events.extra["stride_table"]["right_stride_s"] == table[:, 2].tolist()


@pytest.mark.parametrize("suffix", [".let", ".rit"])
def test_gaitndd_opening_a_signal_file_finds_its_header(suffix: str) -> None:
    by_header = insole.load(SHARED / "gaitndd" / "park1.hea")
    by_signal = insole.load(SHARED / "gaitndd" / f"park1{suffix}")
    assert by_signal.equals(by_header)


def test_gaitndd_without_ts_has_no_reference(tmp_path: Path) -> None:
    for suffix in (".hea", ".let", ".rit"):
        shutil.copy(SHARED / "gaitndd" / f"hunt2{suffix}", tmp_path / f"hunt2{suffix}")
    recording = insole.load(tmp_path / "hunt2.hea")
    assert recording.reference_events is None and recording.left.n_samples == 90000


def test_gaitndd_damaged_signal_file_fails_its_checksum(tmp_path: Path) -> None:
    for suffix in (".hea", ".let", ".rit"):
        shutil.copy(SHARED / "gaitndd" / f"park2{suffix}", tmp_path / f"park2{suffix}")
    data = bytearray((tmp_path / "park2.rit").read_bytes())
    data[3000] ^= 0x01
    (tmp_path / "park2.rit").write_bytes(bytes(data))
    with pytest.raises(MalformedFileError, match="checksum"):
        insole.load(tmp_path / "park2.hea")


# --- Moticon -----------------------------------------------------------------------------------


def _moticon_independently(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    names = header[-1].lstrip("# ").split("\t")
    rows = list(csv.reader([line for line in lines if not line.startswith("#")], delimiter="\t"))
    return names, rows


_NOT_A_SAMPLE = re.compile(r"steps|events", re.IGNORECASE)


@pytest.mark.parametrize("path", MOTICON, ids=_id)
def test_moticon_every_empty_field_is_an_invalid_sample_and_nothing_else_is(path: Path) -> None:
    names, rows = _moticon_independently(path)
    recording = insole.load(path)
    for side in ("left", "right"):
        # every measurement column of this foot: pressures, IMU, force, COP (and COP velocity)
        columns = [k for k, n in enumerate(names) if n.lower().startswith(side + " ") and not _NOT_A_SAMPLE.search(n)]
        assert len(columns) >= 25
        expected_invalid = np.array([any(row[k].strip() == "" for k in columns) for row in rows])
        np.testing.assert_array_equal(recording.foot(side).valid, ~expected_invalid)
        pressures = [names.index(f"{side} pressure {i}[N/cm²]") for i in range(1, 17)]
        expected = np.array([[float(row[k]) * 10 if row[k] else np.nan for k in pressures] for row in rows])
        np.testing.assert_array_equal(recording.foot(side).values, expected.astype(np.float32))  # kPa
    np.testing.assert_array_equal(recording.left.time_s, [float(row[0]) for row in rows])


def test_moticon_gap_counts_match_the_readme() -> None:
    recording = insole.load(SHARED / "moticon-opengo" / "230927_102114.txt")
    assert int((~recording.left.valid).sum()) == 63
    assert int((~recording.right.valid).sum()) == 13
    assert (~recording.left.valid[:50]).all()  # "left insole empty for the first 50 rows"
    assert (~recording.right.valid[-5:]).all()  # "the right insole ... the last 5 rows"
    # the one skipped sample of the software is reported, not filled
    assert recording.meta.extra["time_steps_over_nominal"] == [{"after_s": 16.43, "step_s": 0.02}]


def test_moticon_step_events_and_header_facts() -> None:
    recording = insole.load(SHARED / "moticon-opengo" / "230927_102114.txt")
    events = recording.reference_events
    assert events.source == "Moticon OpenGo Software"
    assert events.heel_strike_s["left"][0] == 3.0 and events.toe_off_s["left"][0] == 3.97  # README / gait report
    assert {side: len(times) for side, times in events.heel_strike_s.items()} == {"left": 7, "right": 7}
    assert {side: len(times) for side, times in events.toe_off_s.items()} == {"left": 7, "right": 7}
    meta = recording.meta
    assert meta.recorded_at == "2023-09-27T10:21:14.922"
    assert meta.devices["left"]["serial"] == "SN5968" and meta.devices["right"]["serial"] == "SN9171"
    assert meta.devices["left"]["insole_size"] == "7"
    assert meta.condition == "normal" and meta.notes == "Some walking steps"
    assert set(recording.left.channels) == {"vendor_total_force_n", "vendor_cop_x_norm", "vendor_cop_y_norm"}
    assert recording.left.accel_g is not None and recording.left.gyro_dps is not None


def test_moticon_manual_events_of_the_57_column_export() -> None:
    path = SHARED / "moticon-opengo" / "walk_data_with_events" / "text_export.txt"
    names, rows = _moticon_independently(path)
    assert len(names) == 57
    recording = insole.load(path)
    events = recording.reference_events
    for side, title in (("left", "Left Events[]"), ("right", "Right Events[]")):
        k = names.index(title)
        expected_heel = tuple(float(row[0]) for row in rows if row[k] and float(row[k]) == 1)
        expected_minimum = [float(row[0]) for row in rows if row[k] and float(row[k]) == 2]
        assert events.heel_strike_s[side] == expected_heel and len(expected_heel) == 4
        assert events.extra["midstance_force_minimum_s"][side] == expected_minimum
    assert "manually" in events.source
    assert "vendor_cop_velocity_au" in recording.left.channels


# --- detection by content, generic CSV ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [(SHARED / "gaitpdb" / "JuPt03_01.txt", "gaitpdb"), (SHARED / "moticon-opengo" / "230927_102231.txt", "moticon")],
)
def test_detection_is_by_content_not_by_name(source: Path, expected: str, tmp_path: Path) -> None:
    renamed = tmp_path / "whatever.dat"
    shutil.copy(source, renamed)
    assert detect_format(renamed) == expected


def test_generic_csv_with_a_mapping_marks_gaps_and_scales(tmp_path: Path) -> None:
    data = tmp_path / "lab.csv"
    sensors = [f"S{i}" for i in range(1, 17)]
    header = "t_ms;" + ";".join(f"L_{s}" for s in sensors) + ";Fz_L"
    rows = [
        "0;" + ";".join(["1.5"] * 16) + ";100",
        "10;" + ";".join(["2"] * 15 + [""]) + ";110",  # an empty field: a gap in this row
        "20;" + ";".join(["NaN"] + ["3"] * 15) + ";120",  # NaN written by the lab's software: a gap too
        "30;" + ";".join(["4"] * 16) + ";130",
    ]
    data.write_text(header + "\n" + "\n".join(rows) + "\n")
    mapping = tmp_path / "lab.toml"
    mapping.write_text(
        'sample_rate_hz = 100\ntime_column = "t_ms"\ntime_unit = "ms"\nunit = "kPa"\nscale = 10.0\n'
        'layout = "insole16"\n'
        f"left = {[f'L_{s}' for s in sensors]!r}\n".replace("'", '"')
        + '[left_channels]\nvendor_total_force_n = "Fz_L"\n[meta]\nsubject_id = "P07"\nbody_mass_kg = 64.5\n'
    )
    recording = load_with_mapping(data, mapping)
    assert recording.sides == ("left",)
    np.testing.assert_array_equal(recording.left.time_s, [0.0, 0.01, 0.02, 0.03])
    np.testing.assert_array_equal(recording.left.valid, [True, False, False, True])
    assert recording.left.values[0, 0] == 15.0 and recording.left.values[3, 15] == 40.0
    assert np.isnan(recording.left.values[1, 15]) and recording.left.values[1, 0] == 20.0  # kept, not filled
    np.testing.assert_array_equal(recording.left.channels["vendor_total_force_n"], [100, 110, 120, 130])
    assert recording.meta.subject_id == "P07" and recording.meta.body_mass_kg == 64.5
    # beside the file, the same mapping makes it recognisable on its own
    shutil.copy(mapping, tmp_path / "lab.csv.map.toml")
    assert detect_format(data) == "generic-csv"
    assert insole.load(data).left.equals(recording.left)


def test_generic_csv_mapping_errors_name_the_problem(tmp_path: Path) -> None:
    data = tmp_path / "lab.tsv"
    data.write_text("a\tb\n1\t2\n")
    mapping = tmp_path / "m.json"
    mapping.write_text('{"sample_rate_hz": 100, "layout": "footswitch1", "left": ["a"], "right": ["c"]}')
    with pytest.raises(MalformedFileError, match="no column 'c'"):
        load_with_mapping(data, mapping)
    mapping.write_text('{"sample_rate_hz": 100, "layout": "insole16", "left": ["a"]}')
    with pytest.raises(MalformedFileError, match="lists 1 columns but layout insole16 has 16"):
        load_with_mapping(data, mapping)
    mapping.write_text('{"sample_rate": 100}')
    with pytest.raises(MalformedFileError, match="unknown mapping key"):
        load_with_mapping(data, mapping)
    with pytest.raises(InputError, match="no such file"):
        load_with_mapping(tmp_path / "absent.csv", mapping)


# --- the shipped samples in recordings/ --------------------------------------------------------


def test_shipped_samples_hold_exactly_the_source_data() -> None:
    recordings = Path(__file__).resolve().parents[1] / "recordings"
    for shipped, source in (("gaitndd_control1.parquet", SHARED / "gaitndd" / "control1.hea"),
                            ("moticon_230927_102114.parquet", SHARED / "moticon-opengo" / "230927_102114.txt")):
        sample, original = insole.load(recordings / shipped), insole.load(source)
        assert sample.left.equals(original.left) and sample.right.equals(original.right)
        assert sample.reference_events == original.reference_events
        assert sample.meta.source["sha256"] == original.meta.source["sha256"]
        # the layout stored in the sample is the one the importer gives today (sensor positions and regions are
        # revised as they are checked: a stale sample would be analysed with the old ones; make_samples.py)
        assert sample.layout == original.layout, shipped
    excerpt = insole.load(recordings / "gaitpdb_GaCo01_01_60s.parquet")
    original = insole.load(SHARED / "gaitpdb" / "GaCo01_01.txt")
    assert excerpt.layout == original.layout
    n = excerpt.left.n_samples
    assert n == 6001 and excerpt.meta.extra["excerpt"]["rows_in_source"] == 12119
    np.testing.assert_array_equal(excerpt.left.values, original.left.values[:n])
    np.testing.assert_array_equal(excerpt.right.time_s, original.right.time_s[:n])
    assert excerpt.meta.subject_id == "GaCo01" and excerpt.meta.body_mass_kg == 83.0
    total = sum(p.stat().st_size for p in recordings.glob("*.parquet"))
    assert total < 2 * 1024 * 1024  # the samples stay small enough for the repository

"""The clinic app's store (dashboards/_clinic_app): patients, visits, tests, files, measures, timeline, schema."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from _data import shared_data_dir

from dashboards._clinic_app._model import (
    ClinicError,
    NotFoundError,
    Patient,
    TimelinePoint,
    Visit,
    number_text,
)
from dashboards._clinic_app._progress import build_timeline, mdc95_of
from dashboards._clinic_app._schema import latest_version
from dashboards._clinic_app._store import DB_NAME, ClinicStore
from insole import InputError, InsoleError

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"  # a real gaitpdb walk, 60 s, in the repository
COHORT = shared_data_dir() / "gaitpdb-cohort"
DAY = dt.date(2026, 3, 2)
# insole's stored repeatability (make references rebuilds it): the expectations read it, never copy its numbers
REPEATABILITY = json.loads((REPO / "insole" / "report" / "_data" / "repeatability" / "gaitpdb8.json").read_text())
CADENCE_MDC = REPEATABILITY["session"]["cadence_steps_per_min"]["mdc95"]


@pytest.fixture()
def store(tmp_path: Path):
    with ClinicStore.open(tmp_path / "clinic") as opened:
        yield opened


# ---------------------------------------------------------------- the folder and its database


def test_a_new_clinic_is_a_wal_database_with_foreign_keys_at_the_latest_schema(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    with ClinicStore.open(folder):
        pass
    assert {p.name for p in folder.iterdir()} >= {DB_NAME, "files", "captures", "tmp"}
    connection = sqlite3.connect(folder / DB_NAME)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # stays WAL: stored in the file
    assert connection.execute("PRAGMA user_version").fetchone()[0] == latest_version() >= 1
    connection.close()


def test_open_without_create_refuses_a_folder_that_is_no_clinic(tmp_path: Path) -> None:
    with pytest.raises(ClinicError, match="no clinic here") as caught:
        ClinicStore.open(tmp_path / "nothing", create=False)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "nothing").exists()


def test_a_database_of_a_newer_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "future"
    with ClinicStore.open(folder):
        pass
    connection = sqlite3.connect(folder / DB_NAME)
    connection.execute(f"PRAGMA user_version = {latest_version() + 1}")
    connection.close()
    with pytest.raises(ClinicError) as caught:
        ClinicStore.open(folder)
    message = str(caught.value)
    assert "\n" not in message and f"schema version {latest_version() + 1} is newer" in message
    assert isinstance(caught.value, InsoleError)


def test_an_empty_database_file_is_migrated_to_the_latest_schema(tmp_path: Path) -> None:
    # version 0: a database file with nothing in it (what sqlite3 creates) is brought up to date
    folder = tmp_path / "old"
    folder.mkdir()
    sqlite3.connect(folder / DB_NAME).close()
    with ClinicStore.open(folder) as store:
        assert store.add_patient("P1").id == 1
    connection = sqlite3.connect(folder / DB_NAME)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == latest_version()
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    connection.close()


# ---------------------------------------------------------------- patients


def test_patients_are_added_read_updated_and_archived(store: ClinicStore) -> None:
    patient = store.add_patient("  P-0001 ", birth_year=1950, sex="female", height_m=1.62, mass_kg=61.5,
                                notes="knee OA, right")
    assert patient == Patient(id=patient.id, pseudonym="P-0001", birth_year=1950, sex="female", height_m=1.62,
                              mass_kg=61.5, notes="knee OA, right", archived=False, created_at=patient.created_at)
    assert store.patient(patient.id) == patient
    changed = store.update_patient(patient.id, mass_kg=60.0, notes="")
    assert (changed.mass_kg, changed.notes, changed.pseudonym) == (60.0, "", "P-0001")
    store.archive_patient(patient.id)
    assert store.patient(patient.id).archived is True
    assert store.patients() == [] and store.count_patients() == 0
    assert [p.id for p in store.patients(include_archived=True)] == [patient.id]
    store.archive_patient(patient.id, archived=False)
    assert store.count_patients() == 1


def test_a_pseudonym_is_required_and_unique_whatever_its_case(store: ClinicStore) -> None:
    store.add_patient("P-0001")
    with pytest.raises(ClinicError, match="already exists"):
        store.add_patient("p-0001")
    with pytest.raises(ClinicError, match="pseudonym is required"):
        store.add_patient("   ")
    other = store.add_patient("P-0002")
    with pytest.raises(ClinicError, match="already exists"):
        store.update_patient(other.id, pseudonym="P-0001")
    assert store.count_patients() == 2


@pytest.mark.parametrize(("fields", "problem"), [
    ({"sex": "f"}, "sex must be one of female, male, other"),
    ({"birth_year": 1850}, "year of birth 1850 is not plausible"),
    ({"birth_year": 1950.5}, "whole year"),
    ({"height_m": 175}, "height 175 m is not plausible"),
    ({"mass_kg": float("nan")}, "body mass nan kg is not plausible"),
    ({"mass_kg": "heavy"}, "body mass must be a number"),
    ({"notes": "x" * 20_001}, "notes is too long (20001 characters; at most 20000)"),
    ({"name": "Jane Doe"}, "a patient has no field 'name'"),
])
def test_bad_patient_values_are_refused_in_one_line_and_nothing_is_written(store: ClinicStore, fields: dict,
                                                                            problem: str) -> None:
    patient = store.add_patient("P-1")
    with pytest.raises(ClinicError) as caught:
        store.update_patient(patient.id, **fields)
    assert problem in str(caught.value) and "\n" not in str(caught.value)
    assert store.patient(patient.id) == patient


def test_a_pseudonym_is_one_line_and_hostile_text_is_stored_as_given(store: ClinicStore) -> None:
    with pytest.raises(ClinicError, match="one line"):
        store.add_patient("P-1\nDROP TABLE patients")
    hostile = "<script>alert('x')</script> \"; DROP TABLE patients; --"
    patient = store.add_patient(hostile, notes=hostile * 10)
    assert store.patient(patient.id).pseudonym == hostile.strip()
    assert store.patients(search="drop table")[0].notes == hostile * 10


def test_unknown_ids_are_not_found_errors(store: ClinicStore) -> None:
    for call in (lambda: store.patient(99), lambda: store.visit(99), lambda: store.test(99),
                 lambda: store.update_patient(99, notes="x"), lambda: store.archive_patient(99),
                 lambda: store.add_visit(99, visit_date=DAY), lambda: store.measures(99),
                 lambda: store.timeline(99), lambda: store.file_path("0" * 64),
                 lambda: store.file_path("../../clinic.sqlite3")):
        with pytest.raises(NotFoundError):
            call()


def test_the_patient_list_searches_pages_and_counts_visits(store: ClinicStore) -> None:
    for i in range(12):
        store.add_patient(f"P-{i:04d}", notes="diabetic foot" if i % 3 == 0 else "")
    first = store.patients()[0]
    store.add_visit(first.id, visit_date=dt.date(2026, 1, 5))
    store.add_visit(first.id, visit_date=dt.date(2025, 11, 30))
    rows = store.patients(limit=5)
    assert [r.pseudonym for r in rows] == [f"P-{i:04d}" for i in range(5)]
    assert (rows[0].n_visits, rows[0].last_visit_date) == (2, dt.date(2026, 1, 5))
    assert (rows[1].n_visits, rows[1].last_visit_date) == (0, None)
    assert [r.pseudonym for r in store.patients(limit=5, offset=10)] == ["P-0010", "P-0011"]
    assert [r.pseudonym for r in store.patients("0011")] == ["P-0011"]
    assert [r.pseudonym for r in store.patients("DIABETIC")] == ["P-0000", "P-0003", "P-0006", "P-0009"]
    assert store.count_patients("diabetic") == 4 and store.count_patients() == 12
    # LIKE's wildcards typed by the user match themselves only
    assert store.patients("%") == [] and store.patients("_") == []


# ---------------------------------------------------------------- visits


def test_visits_keep_what_was_worn_and_pain_scores_in_date_order(store: ClinicStore) -> None:
    patient = store.add_patient("P-1")
    later = store.add_visit(patient.id, visit_date=dt.date(2026, 5, 1), footwear="shoes", orthosis="insert A",
                            pain_scores={"knee": 3, "heel": 0}, notes="after 6 weeks")
    earlier = store.add_visit(patient.id, visit_date="2026-03-02", footwear="barefoot")
    assert later == Visit(id=later.id, patient_id=patient.id, visit_date=dt.date(2026, 5, 1), footwear="shoes",
                          orthosis="insert A", pain_scores={"heel": 0, "knee": 3}, notes="after 6 weeks",
                          created_at=later.created_at)
    assert [v.id for v in store.visits(patient.id)] == [earlier.id, later.id]
    assert store.update_visit(earlier.id, orthosis="night splint").orthosis == "night splint"
    assert later.conditions == "shoes, orthosis: insert A"
    assert store.visit(earlier.id).conditions == "barefoot, orthosis: night splint"


@pytest.mark.parametrize(("fields", "problem"), [
    ({"pain_scores": {"knee": 11}}, "pain score 'knee' must be a whole number 0-10"),
    ({"pain_scores": {"knee": 2.5}}, "pain score 'knee' must be a whole number 0-10"),
    ({"pain_scores": {"knee": True}}, "pain score 'knee' must be a whole number 0-10"),
    ({"visit_date": "yesterday"}, "visit date must be a date (YYYY-MM-DD)"),
    ({"footwear": "x" * 201}, "footwear is too long"),
])
def test_bad_visit_values_are_refused(store: ClinicStore, fields: dict, problem: str) -> None:
    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    with pytest.raises(ClinicError) as caught:
        store.update_visit(visit.id, **fields)
    assert problem in str(caught.value)
    assert store.visit(visit.id) == visit


# ---------------------------------------------------------------- tests: import, files, measures


def test_an_imported_recording_is_kept_analysed_reported_and_measured(store: ClinicStore) -> None:
    patient = store.add_patient("P-1", mass_kg=70)
    visit = store.add_visit(patient.id, visit_date=DAY, footwear="shoes")
    run = store.import_recording(visit.id, SAMPLE)
    assert (run.status, run.reason, run.source, run.test, run.layout) == ("done", "", "import", "free_walk",
                                                                          "gaitpdb8")
    assert store.tests(visit.id) == [run] and store.test(run.id) == run
    assert run.original_sha256 is not None and run.report_sha256 is not None
    # the file as given, under its own SHA-256, inside files/
    original = store.file_path(run.original_sha256)
    assert original.read_bytes() == SAMPLE.read_bytes()
    assert original.name == hashlib.sha256(SAMPLE.read_bytes()).hexdigest() + ".parquet"
    assert store.folder / "files" in original.parents
    report = store.file_path(run.report_sha256)
    assert hashlib.sha256(report.read_bytes()).hexdigest() == run.report_sha256
    assert report.suffix == ".html" and "<html" in report.read_text(encoding="utf-8")[:500].lower()
    measures = {m.name: m for m in store.measures(run.id)}
    # cadence: the report's key number, with gaitpdb8's measured MDC95
    cadence = measures["cadence_steps_per_min"]
    assert (cadence.unit, cadence.mdc95) == ("steps/min", CADENCE_MDC)
    assert 60 < cadence.value < 140
    # shares are shown in % and so is their MDC95 (stored 0-1)
    assert measures["share_heel_left"].unit == "%"
    heel_mdc = REPEATABILITY["foot"]["share_heel"]["mdc95"]
    assert measures["share_heel_left"].mdc95 == pytest.approx(100 * heel_mdc)  # float scaling only
    # a measure without measured repeatability has none, and the timeline will say so
    assert measures["stride_time_s_left"].mdc95 is None
    assert measures["gait_speed_m_per_s"].value == 1.075  # the study's walking speed, read from the file
    assert not list((store.folder / "tmp").iterdir())


def test_a_file_insole_cannot_read_is_one_input_error_and_nothing_is_stored(store: ClinicStore,
                                                                            tmp_path: Path) -> None:
    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not a recording\n")
    with pytest.raises(InputError) as caught:
        store.import_recording(visit.id, junk)
    assert str(junk) in str(caught.value) and "\n" not in str(caught.value)
    assert store.tests(visit.id) == []
    assert not any((store.folder / "files").iterdir())


def test_the_same_file_imported_twice_is_stored_once(store: ClinicStore) -> None:
    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    a = store.import_recording(visit.id, SAMPLE)
    b = store.import_recording(visit.id, SAMPLE, test="10mwt")
    assert a.original_sha256 == b.original_sha256
    stored = [p for p in (store.folder / "files").rglob("*") if p.is_file()]
    assert len([p for p in stored if p.suffix == ".parquet"]) == 1


# ---------------------------------------------------------------- progress


def _visit(i: int, footwear: str = "shoes", orthosis: str = "") -> Visit:
    return Visit(id=i, patient_id=1, visit_date=dt.date(2026, 1, i), footwear=footwear, orthosis=orthosis)


def _row(visit: int, test_id: int, value: float, mdc: float | None, name: str = "cadence_steps_per_min") -> dict:
    return {"visit_id": visit, "test_id": test_id, "test": "10mwt", "name": name, "label": name,
            "unit": "steps/min", "value": value, "mdc95": mdc, "mdc_source": "x" if mdc else "", "position": 0}


def test_the_timeline_marks_only_changes_beyond_the_mdc() -> None:
    visits = [_visit(1), _visit(2, orthosis="insert A"), _visit(3, orthosis="insert A"), _visit(4)]
    rows = [_row(1, 11, 100.0, 8.85), _row(2, 12, 110.0, 8.85), _row(3, 13, 105.0, 8.85),
            # visit 4 has two tests of this kind: the later one counts
            _row(4, 14, 90.0, 8.85), _row(4, 15, 96.0, 8.85),
            _row(1, 11, 1.2, None, name="stride_time_s_left"), _row(3, 13, 1.1, None, name="stride_time_s_left")]
    timeline = build_timeline(Patient(id=1, pseudonym="P"), visits, rows)
    cadence, stride = timeline.rows
    assert [p.value for p in cadence.points] == [100.0, 110.0, 105.0, 96.0]
    assert cadence.points[3] == TimelinePoint(visit_id=4, visit_date=dt.date(2026, 1, 4), test_id=15, value=96.0,
                                              footwear="shoes", orthosis="")
    assert [(c.change, c.changed, c.conditions_differ) for c in cadence.changes] == [
        (10.0, True, True), (-5.0, False, False), (-9.0, True, True)]
    assert stride.mdc95 is None and stride.judgement == "no MDC: change not judged"
    assert [(c.visit_a_id, c.visit_b_id, c.changed) for c in stride.changes] == [(1, 3, None)]
    assert pytest.approx(stride.changes[0].change) == -0.1  # float difference of 1.1 and 1.2


def test_a_change_between_two_insole_systems_is_shown_but_not_judged() -> None:
    # an MDC95 is one system's day-to-day noise: between two systems a change is not judged, however large
    visits = [_visit(1), _visit(2), _visit(3), _visit(4)]
    rows = [{**_row(1, 11, 100.0, 8.85), "layout": "gaitpdb8"}, {**_row(2, 12, 130.0, 8.85), "layout": "moticon16"},
            {**_row(3, 13, 101.0, 8.85), "layout": "moticon16"}, {**_row(4, 14, 120.0, 8.85), "layout": "moticon16"}]
    (cadence,) = build_timeline(Patient(id=1, pseudonym="P"), visits, rows).rows
    assert [p.layout for p in cadence.points] == ["gaitpdb8", "moticon16", "moticon16", "moticon16"]
    assert [(c.change, c.changed, c.systems_differ) for c in cadence.changes] == [
        (30.0, None, True), (-29.0, True, False), (19.0, True, False)]
    # rows that do not say their layout (older callers) are judged as before
    (plain,) = build_timeline(Patient(id=1, pseudonym="P"), visits[:2],
                              [_row(1, 11, 100.0, 8.85), _row(2, 12, 130.0, 8.85)]).rows
    assert [(c.changed, c.systems_differ) for c in plain.changes] == [(True, False)]


@pytest.mark.skipif(not (shared_data_dir() / "moticon-opengo").exists(), reason="needs shared/data/moticon-opengo")
def test_a_gaitpdb_walk_then_a_moticon_walk_are_not_judged_against_each_other(store: ClinicStore) -> None:
    patient = store.add_patient("P-2")
    first, second = (store.add_visit(patient.id, visit_date=dt.date(2026, 1, 5 + i)) for i in range(2))
    store.import_recording(first.id, SAMPLE)  # gaitpdb8
    store.import_recording(second.id, shared_data_dir() / "moticon-opengo" / "230927_102114.txt")  # moticon16
    cadence = next(r for r in store.timeline(patient.id).rows if r.name == "cadence_steps_per_min")
    assert cadence.mdc95 == CADENCE_MDC  # the measure has an MDC95 ...
    assert [p.layout for p in cadence.points] == ["gaitpdb8", "moticon16"]
    assert (cadence.changes[0].changed, cadence.changes[0].systems_differ) == (None, True)  # ... not used here
    # nor is a before/after report made across the two systems; the refusal says why in the clinic's words
    with pytest.raises(ClinicError, match=r"^the two tests were recorded with other insoles \(gaitpdb8, then "
                                          r"moticon16\); a before/after report compares recordings of one system$"):
        store.compare_report(first.id, second.id)


def test_numbers_are_shown_without_exponents_or_rounding_noise() -> None:
    assert [number_text(v) for v in (-3.39e-14, 0.0, 0.000333, 0.643, 1.06, 12.34, 106.0, 1234.5, 21000.0)] == [
        "0", "0", "0.0003", "0.643", "1.06", "12.3", "106", "1234", "21000"]
    assert [number_text(v, signed=True) for v in (0.212, -1.58, 1e-15, 3)] == ["+0.212", "-1.58", "0", "+3"]
    assert (number_text(None), number_text(7), number_text(float("nan"))) == ("", "7", "not a number")


def test_timing_mdcs_carry_to_other_layouts_and_nothing_else_does() -> None:
    own, source = mdc95_of("gaitpdb8", "session", "cadence_steps_per_min")
    assert own == CADENCE_MDC and f"gaitpdb8 same-day test-retest ({REPEATABILITY['n_pairs']} pairs)" in source
    carried, why = mdc95_of("insole16", "session", "cadence_steps_per_min")
    assert carried == own and "does not depend on the sensor layout" in why
    assert mdc95_of("insole16", "session", "impulse_si_pct") == (None, "")
    assert mdc95_of("insole16", "foot", "share_heel", 100.0) == (None, "")


@pytest.mark.skipif(not (COHORT / "GaCo02_01.txt").exists(), reason="needs shared/data/gaitpdb-cohort")
def test_two_real_visits_make_a_timeline_of_their_stored_measures(store: ClinicStore) -> None:
    patient = store.add_patient("GaCo02")
    first = store.add_visit(patient.id, visit_date=dt.date(2026, 1, 5), footwear="shoes")
    second = store.add_visit(patient.id, visit_date=dt.date(2026, 2, 5), footwear="shoes", orthosis="insert A")
    a = store.import_recording(first.id, COHORT / "GaCo02_01.txt")
    b = store.import_recording(second.id, COHORT / "GaCo02_02.txt")
    timeline = store.timeline(patient.id)
    assert [v.id for v in timeline.visits] == [first.id, second.id]
    before = {m.name: m for m in store.measures(a.id)}
    after = {m.name: m for m in store.measures(b.id)}
    cadence = next(r for r in timeline.rows if r.name == "cadence_steps_per_min")
    change = after["cadence_steps_per_min"].value - before["cadence_steps_per_min"].value
    assert [p.test_id for p in cadence.points] == [a.id, b.id]
    assert cadence.changes[0].change == change and cadence.changes[0].conditions_differ
    assert cadence.changes[0].changed is (abs(change) > CADENCE_MDC)
    assert {r.name for r in timeline.rows} == set(before) & set(after) | (set(before) ^ set(after))


def test_a_before_after_report_compares_two_visits_and_is_cached(store: ClinicStore) -> None:
    patient = store.add_patient("P-1", mass_kg=70)
    first = store.add_visit(patient.id, visit_date=dt.date(2026, 1, 5))
    second = store.add_visit(patient.id, visit_date=dt.date(2026, 2, 5), orthosis="insert A")
    runs = [store.import_recording(first.id, SAMPLE), store.import_recording(second.id, SAMPLE)]
    report = store.compare_report(first.id, second.id)
    assert store.folder / "files" in report.parents
    assert hashlib.sha256(report.read_bytes()).hexdigest() == report.name.removesuffix(".html")
    page = report.read_text(encoding="utf-8")
    assert "Changes since baseline" in page and "No baseline recording was given" not in page
    assert f"visit {first.id}" in page  # the baseline is named by its visit
    assert store.compare_report(first.id, second.id) == report  # cached, not made again
    # the two test reports and this one (the same file imported twice within one second has one report: its
    # "generated at" is to the second, so the count alone would depend on the clock)
    kept = {p.name.removesuffix(".html") for p in (store.folder / "files").rglob("*.html")}
    assert kept == {runs[0].report_sha256, runs[1].report_sha256, report.name.removesuffix(".html")}


def test_a_before_after_report_needs_two_visits_of_one_patient_with_a_test_of_one_kind(store: ClinicStore) -> None:
    a, b = store.add_patient("P-1"), store.add_patient("P-2")
    first = store.add_visit(a.id, visit_date=dt.date(2026, 1, 5))
    second = store.add_visit(a.id, visit_date=dt.date(2026, 2, 5))
    other = store.add_visit(b.id, visit_date=dt.date(2026, 2, 5))
    store.import_recording(first.id, SAMPLE)
    # the visits named as the clinician knows them: by date and by the tests they hold (not by database ids)
    with pytest.raises(ClinicError) as caught:
        store.compare_report(first.id, second.id)
    assert str(caught.value) == ("the visit of 2026-01-05 (free walk) and the visit of 2026-02-05 (no analysed test) "
                                 "do not both have an analysed test of the same kind; nothing to compare")
    store.import_recording(second.id, SAMPLE, test="10mwt")
    with pytest.raises(ClinicError, match=r"\(free walk\) and the visit of 2026-02-05 \(10-metre walk\) do not both "
                                          "have an analysed test of the same kind"):
        store.compare_report(first.id, second.id)
    with pytest.raises(ClinicError, match="do not both have an analysed free walk; nothing to compare"):
        store.compare_report(first.id, second.id, test="free_walk")
    with pytest.raises(ClinicError, match="different patients"):
        store.compare_report(first.id, other.id)
    with pytest.raises(ClinicError, match="two different visits"):
        store.compare_report(first.id, first.id)


def _capture(path: Path, recording) -> None:
    """Write ``recording`` where a test's recorder writes (its stream, then the Parquet file), as insole.capture."""
    from insole.io import RecordingStreamWriter

    writer = RecordingStreamWriter(path.with_name(path.stem + ".arrows"), layout=recording.layout,
                                   unit=recording.unit, sample_rate_hz=recording.sample_rate_hz, meta=recording.meta,
                                   has_imu=recording.samples("left").accel_g is not None)
    for side in recording.sides:
        foot = recording.samples(side)
        writer.append(side, foot.time_s, foot.values, foot.valid, accel_g=foot.accel_g, gyro_dps=foot.gyro_dps)
    writer.finalize(path)


def test_a_finished_capture_of_a_10m_walk_is_scored_analysed_and_moved_into_the_store(store: ClinicStore) -> None:
    from insole.clinic import run_test
    from insole.simulate import simulate_clinic_test

    patient = store.add_patient("P-1", birth_year=1950, sex="female", height_m=1.65, mass_kg=70)
    visit = store.add_visit(patient.id, visit_date=DAY)
    run = store.begin_capture(visit.id, test="10mwt", source="emulated", inputs={"walkway_m": 14.0, "timed_m": 10.0})
    assert (run.status, run.capture_path) == ("capturing", store.folder / "captures" / f"{run.id}.parquet")
    walk = simulate_clinic_test("10mwt", seed=4)
    assert run.capture_path is not None
    _capture(run.capture_path, walk)
    done = store.finish_capture(run.id)
    assert (done.status, done.reason, done.capture_path, done.layout) == ("done", "", None, "insole16")
    assert not any((store.folder / "captures").iterdir())
    expected = run_test(walk, "10mwt")  # the same walk scored directly: the store adds only the patient's facts
    measures = {m.name: m for m in store.measures(run.id)}
    assert measures["gait_speed_m_s"].value == expected.measures["gait_speed_m_s"]
    assert (measures["gait_speed_m_s"].unit, measures["gait_speed_m_s"].mdc95) == ("m/s", None)
    assert done.summary == expected.summary()
    with pytest.raises(ClinicError, match="is not being captured"):
        store.finish_capture(run.id)


def test_a_10m_walk_capture_without_a_walk_is_kept_with_the_reason_it_has_no_result(store: ClinicStore) -> None:
    from insole.simulate import Activity, SimulationParams, simulate

    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    run = store.begin_capture(visit.id, test="10mwt", source="insole")
    standing = simulate(SimulationParams(duration_s=20.0, script=(Activity("stand", 20.0),), seed=1))
    assert run.capture_path is not None
    _capture(run.capture_path, standing)
    kept = store.finish_capture(run.id)
    assert (kept.status, kept.summary) == ("done", "10-metre walk test: incomplete (no walk was found (fewer than "
                                                   "three steps in a row))")
    assert kept.recording_sha256 is not None and store.file_path(kept.recording_sha256).exists()
    names = {m.name for m in store.measures(run.id)}
    assert "gait_speed_m_s" not in names and "cadence_steps_per_min" not in names  # no steps, no numbers


def test_bad_capture_requests_are_refused(store: ClinicStore) -> None:
    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    with pytest.raises(ClinicError, match="test must be one of"):
        store.begin_capture(visit.id, test="sprint", source="insole")
    with pytest.raises(ClinicError, match="source must be one of"):
        store.begin_capture(visit.id, test="10mwt", source="fitbit")
    with pytest.raises(ClinicError, match="a test has no input 'speed'"):
        store.begin_capture(visit.id, test="10mwt", source="insole", inputs={"speed": 3})
    with pytest.raises(ClinicError, match="must be positive and shorter than the walkway"):
        store.begin_capture(visit.id, test="10mwt", source="insole", inputs={"walkway_m": 8.0, "timed_m": 10.0})
    with pytest.raises(NotFoundError):
        store.begin_capture(999, test="10mwt", source="insole")
    assert store.tests(visit.id) == []


def test_a_generic_csv_is_imported_with_its_column_mapping_from_beside_it_only(store: ClinicStore,
                                                                               tmp_path: Path) -> None:
    from insole.io import read_parquet, write_csv

    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    (tmp_path / "upload").mkdir()
    csv, mapping = write_csv(read_parquet(SAMPLE), tmp_path / "upload" / "walk.csv")
    elsewhere = tmp_path / "walk.json"
    elsewhere.write_bytes(mapping.read_bytes())
    with pytest.raises(ClinicError, match="must be a file beside the imported file"):
        store.import_recording(visit.id, csv, layout=elsewhere)
    with pytest.raises(ClinicError, match="give the column mapping of a generic CSV"):
        store.import_recording(visit.id, csv, layout="insole16")
    with pytest.raises(ClinicError, match="must be a file beside"):
        store.import_recording(visit.id, csv, layout=tmp_path / "upload" / ".." / "walk.json")
    assert store.tests(visit.id) == []
    run = store.import_recording(visit.id, csv, layout=mapping)
    assert (run.status, run.fmt, run.original_name, run.layout) == ("done", "generic-csv", "walk.csv", "gaitpdb8")
    assert store.file_path(run.original_sha256 or "").read_bytes() == csv.read_bytes()


# ---------------------------------------------------------------- every write one transaction


def test_an_import_failing_in_its_last_write_leaves_no_trace_in_the_database(store: ClinicStore,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboards._clinic_app._store as store_module
    from dashboards._clinic_app._model import Measure

    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    tables = ("tests", "measures", "files")
    before = {t: store._read(f"SELECT count(*) FROM {t}")[0][0] for t in tables}
    twice = [Measure(name="cadence_steps_per_min", value=100.0, unit="steps/min")] * 2  # breaks the primary key
    monkeypatch.setattr(store_module, "key_measures", lambda *args: twice)
    with pytest.raises(sqlite3.IntegrityError):
        store.import_recording(visit.id, SAMPLE)
    # the test's update, its files' rows and its measures were one transaction: none of it stayed
    assert {t: store._read(f"SELECT count(*) FROM {t}")[0][0] for t in tables} == before
    assert store.tests(visit.id) == []


def test_writes_from_many_threads_each_land_whole(store: ClinicStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def add(i: int) -> int:
        patient = store.add_patient(f"T-{i:03d}")
        store.add_visit(patient.id, visit_date=DAY, pain_scores={"knee": i % 11})
        return patient.id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(add, range(120)))
    assert len(set(ids)) == 120 and store.count_patients() == 120
    assert sorted(r.n_visits for r in store.patients(limit=200)) == [1] * 120


def test_a_file_that_is_not_a_database_is_refused_in_one_line_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / DB_NAME).write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(ClinicError, match="not a clinic database") as caught:
        ClinicStore.open(folder)
    assert "\n" not in str(caught.value)
    assert (folder / DB_NAME).read_bytes() == b"these are my notes, not a database\n" * 200


def test_a_version_1_database_is_migrated_by_the_next_migration_file_whole_or_not_at_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the migration machinery on a second migration written for this test (the shipped schema has one so far)
    import shutil

    import dashboards._clinic_app._schema as schema

    folder = tmp_path / "clinic"
    with ClinicStore.open(folder) as store:  # schema 1, with a patient in it
        kept = store.add_patient("P-1", notes="before the migration")
    assert latest_version() == 1
    migrations = tmp_path / "migrations"
    shutil.copytree(schema._MIGRATIONS, migrations)
    (migrations / "0002_broken.sql").write_text("ALTER TABLE patients ADD COLUMN clinic_site TEXT;\nNOT SQL;\n")
    monkeypatch.setattr(schema, "_MIGRATIONS", migrations)
    with pytest.raises(ClinicError, match="migration 0002_broken.sql failed .* the database is unchanged"):
        ClinicStore.open(folder)
    connection = sqlite3.connect(folder / DB_NAME)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "clinic_site" not in [r[1] for r in connection.execute("PRAGMA table_info(patients)")]
    connection.close()
    (migrations / "0002_broken.sql").unlink()
    (migrations / "0002_site.sql").write_text(
        "ALTER TABLE patients ADD COLUMN clinic_site TEXT NOT NULL DEFAULT 'main';\n"
        "CREATE INDEX patients_by_site ON patients (clinic_site);\n")
    with ClinicStore.open(folder) as store:
        assert store.patient(kept.id) == kept
    connection = sqlite3.connect(folder / DB_NAME)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
    assert connection.execute("SELECT pseudonym, clinic_site FROM patients").fetchall() == [("P-1", "main")]
    connection.close()
    (migrations / "0004_gap.sql").write_text("SELECT 1;\n")
    with pytest.raises(RuntimeError, match="without gaps"):
        ClinicStore.open(folder)


MOTICON = shared_data_dir() / "moticon-opengo"


@pytest.mark.skipif(not (MOTICON / "230927_102231.txt").exists(), reason="needs shared/data/moticon-opengo")
def test_two_real_moticon_exports_in_two_visits_give_the_analysis_numbers_and_judge_cadence(
        store: ClinicStore) -> None:
    from insole.analysis import analyze
    from insole.io import load

    patient = store.add_patient("MOTICON-1")
    visits = [store.add_visit(patient.id, visit_date=dt.date(2023, 9, 27 + i)) for i in range(2)]
    paths = [MOTICON / "230927_102114.txt", MOTICON / "230927_102231.txt"]
    runs = [store.import_recording(v.id, p) for v, p in zip(visits, paths)]
    assert [(r.status, r.fmt, r.layout) for r in runs] == [("done", "moticon", "moticon16")] * 2
    cadences = [analyze(load(p)).summary.cadence_steps_per_min for p in paths]  # the same analysis, run directly
    stored = [{m.name: m for m in store.measures(r.id)}["cadence_steps_per_min"] for r in runs]
    assert [m.value for m in stored] == cadences
    row = next(r for r in store.timeline(patient.id).rows if r.name == "cadence_steps_per_min")
    assert row.mdc95 == CADENCE_MDC and "does not depend on the sensor layout" in row.mdc_source
    assert row.changes[0].change == cadences[1] - cadences[0]
    assert row.changes[0].changed is (abs(cadences[1] - cadences[0]) > CADENCE_MDC)
    # force and regional shares of Moticon insoles have no measured repeatability: shown, not judged
    heel = next(r for r in store.timeline(patient.id).rows if r.name == "share_heel_left")
    assert heel.mdc95 is None and heel.changes[0].changed is None


def test_a_capture_scored_while_guided_keeps_its_own_result(store: ClinicStore) -> None:
    from insole.clinic import TestInputs, run_test
    from insole.simulate import simulate_clinic_test

    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    run = store.begin_capture(visit.id, test="10mwt", source="emulated")
    walk = simulate_clinic_test("10mwt", seed=5)
    # scored during the capture over a shorter timed stretch than the store's default inputs would use
    guided = run_test(walk, "10mwt", TestInputs(walkway_m=14.0, timed_m=6.0))
    default = run_test(walk, "10mwt")
    assert guided.measures["timed_s"] != default.measures["timed_s"]
    assert run.capture_path is not None
    _capture(run.capture_path, guided.with_recording(walk))
    done = store.finish_capture(run.id)
    measures = {m.name: m.value for m in store.measures(run.id)}
    assert measures["timed_s"] == guided.measures["timed_s"]
    # the visit page's line gives the test's own figures, as the terminal's summary does (speed and time here are
    # between 1 and 10, where 3 significant digits are what "%.3g" writes)
    speed, timed = guided.measures["gait_speed_m_s"], guided.measures["timed_s"]
    assert 1 <= speed < 10 and 1 <= timed < 10
    assert done.summary == f"10-metre walk test: complete: gait speed {speed:.3g} m/s, time {timed:.3g} s"
    assert done.report_sha256 is not None
    assert "<td>sim-10mwt-5</td>" in store.file_path(done.report_sha256).read_text(encoding="utf-8")  # its own


def test_a_capture_that_names_no_subject_is_reported_under_the_patients_pseudonym(store: ClinicStore) -> None:
    # what a capture from insoles gives: no subject (the insoles do not know whose feet they are under)
    walk = _guided_walk(complete=True).with_meta(subject_id=None)
    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    run = store.begin_capture(visit.id, test="10mwt", source="emulated")
    assert run.capture_path is not None
    _capture(run.capture_path, walk)
    done = store.finish_capture(run.id)
    assert done.report_sha256 is not None
    assert "<td>P-1</td>" in store.file_path(done.report_sha256).read_text(encoding="utf-8")


def test_an_incomplete_guided_test_says_why_on_its_line(store: ClinicStore) -> None:
    visit = store.add_visit(store.add_patient("P-1").id, visit_date=DAY)
    run = store.begin_capture(visit.id, test="10mwt", source="emulated")
    walk = _guided_walk(complete=False)
    assert run.capture_path is not None
    _capture(run.capture_path, walk)
    done = store.finish_capture(run.id)
    assert done.summary == "10-metre walk test: incomplete (the patient stopped before the 10 m were walked)"
    # "done" is the recording analysed; the test itself is marked incomplete on the visit's page
    assert (done.status, done.complete) == ("done", False)
    from dashboards._clinic_app._server import _environment

    page = _environment().get_template("visit.html").render(
        csrf="t", login=False, running=None, notice="", visit=store.visit(visit.id),
        patient=store.patient(store.visit(visit.id).patient_id), tests=store.tests(visit.id), measures={}, runs={})
    assert f'<span class="status incomplete" id="incomplete-{done.id}">test incomplete</span>' in page
    # a complete one is not, and a test without a clinic result (an imported free walk) has no say
    other = store.begin_capture(visit.id, test="10mwt", source="emulated")
    assert other.capture_path is not None
    _capture(other.capture_path, _guided_walk(complete=True))
    assert store.finish_capture(other.id).complete is True
    assert store.import_recording(visit.id, SAMPLE).complete is None


def _guided_walk(*, complete: bool):
    """A simulated 10-metre walk carrying a guided result: the one scored, or an incomplete one with a reason."""
    from insole.clinic import run_test
    from insole.simulate import simulate_clinic_test

    walk = simulate_clinic_test("10mwt", seed=5)
    result = run_test(walk, "10mwt")
    if not complete:
        result = dataclasses.replace(result, complete=False, reasons=("the patient stopped before the 10 m were "
                                                                      "walked",))
    return result.with_recording(walk)


def test_a_new_clinic_is_not_made_in_a_folder_holding_other_files(tmp_path: Path) -> None:
    (tmp_path / "letter.docx").write_text("mine")
    with pytest.raises(ClinicError, match="holds other files .* and no clinic") as caught:
        ClinicStore.open(tmp_path)
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["letter.docx"]
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "clinic.lock").touch()  # the web app takes its lock before it opens the store
    ClinicStore.open(tmp_path / "app").close()


def test_a_capture_that_failed_to_start_keeps_its_cause_as_the_reason(store: ClinicStore) -> None:
    visit = store.add_visit(store.add_patient("P-why").id, visit_date=dt.date(2026, 1, 5))
    run = store.begin_capture(visit.id, test="free_walk", source="insole")
    failed = store.finish_capture(run.id, note="no D-Bus system bus here.")
    assert (failed.status, failed.reason) == (
        "failed", "no D-Bus system bus here: nothing was captured (no recording was written)")


@pytest.mark.skipif(not (COHORT / "GaCo04_01.txt").exists(), reason="needs shared/data/gaitpdb-cohort")
def test_a_before_after_report_judges_the_patients_two_tests_whatever_subject_their_files_name(
        store: ClinicStore) -> None:
    """Two files naming two lab subjects (GaCo02, GaCo04), both filed under one patient: the clinic says they
    are this patient's, so the report judges the change (it refuses to judge a baseline of another person)."""
    patient = store.add_patient("P-7", mass_kg=70)
    first = store.add_visit(patient.id, visit_date=dt.date(2026, 1, 5))
    second = store.add_visit(patient.id, visit_date=dt.date(2026, 2, 5))
    store.import_recording(first.id, COHORT / "GaCo02_01.txt")
    store.import_recording(second.id, COHORT / "GaCo04_01.txt")
    page = store.compare_report(first.id, second.id).read_text(encoding="utf-8")
    assert "Changes since baseline" in page
    assert "another person" not in page

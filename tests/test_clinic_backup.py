"""Backup of a clinic folder into one archive, restore into an empty folder: the same database and the same files."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import sqlite3
import tarfile
from pathlib import Path

import pytest

from dashboards._clinic_app._backup import FORMAT
from dashboards._clinic_app._model import ClinicError
from dashboards._clinic_app._store import DB_NAME, ClinicStore

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"
MOTICON = REPO / "recordings" / "moticon_230927_102114.parquet"


def _tables(folder: Path) -> dict[str, list[tuple]]:
    """Every table of the clinic's database, row for row (sqlite_sequence too: the next ids must not change).

    Not sqlite_stat1: SQLite's query-planner statistics, which ``PRAGMA optimize`` refreshes when a store closes.
    """
    connection = sqlite3.connect(folder / DB_NAME)
    try:
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name "
                                                  "NOT LIKE 'sqlite_stat%' ORDER BY name")]
        out = {name: connection.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchall() for name in names}
        out["user_version"] = connection.execute("PRAGMA user_version").fetchall()
        return out
    finally:
        connection.close()


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / "files").rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("source") / "clinic"
    with ClinicStore.open(folder) as store:
        a = store.add_patient("P-1", birth_year=1950, sex="female", mass_kg=70, notes="<script>x</script>")
        b = store.add_patient("P-2", sex="male")
        store.archive_patient(b.id)
        first = store.add_visit(a.id, visit_date=dt.date(2026, 1, 5), footwear="shoes", pain_scores={"knee": 3})
        second = store.add_visit(a.id, visit_date=dt.date(2026, 2, 5), orthosis="insert A")
        store.import_recording(first.id, SAMPLE)
        store.import_recording(second.id, MOTICON)
        store.begin_capture(second.id, test="10mwt", source="emulated")  # in progress when backed up
    return folder


@pytest.mark.parametrize("name", ["clinic.tar", "clinic.tar.gz"])
def test_backup_then_restore_into_an_empty_folder_gives_the_same_database_and_files(clinic: Path, tmp_path: Path,
                                                                                   name: str) -> None:
    with ClinicStore.open(clinic) as store:
        archive = store.backup(tmp_path / name)
    assert archive == tmp_path / name and [p.name for p in tmp_path.iterdir()] == [name]
    with tarfile.open(archive) as tar:
        assert tar.getnames()[:2] == ["backup.json", DB_NAME]
    target = tmp_path / "restored"
    with ClinicStore.restore(archive, target) as restored:
        assert [p.pseudonym for p in restored.patients(include_archived=True)] == ["P-1", "P-2"]
    assert _tables(target) == _tables(clinic)
    # 2 recordings and 2 reports: an imported file in our own Parquet format is byte for byte the recording stored
    assert _files(target) == _files(clinic) and len(_files(clinic)) == 4
    # restored into an existing empty folder too
    (tmp_path / "empty").mkdir()
    ClinicStore.restore(archive, tmp_path / "empty").close()
    assert _tables(tmp_path / "empty") == _tables(clinic)


def test_a_backup_never_replaces_a_file_and_a_restore_needs_an_empty_folder(clinic: Path, tmp_path: Path) -> None:
    existing = tmp_path / "old.tar"
    existing.write_bytes(b"keep me")
    with ClinicStore.open(clinic) as store, pytest.raises(ClinicError, match="already exists"):
        store.backup(existing)
    assert existing.read_bytes() == b"keep me"
    with ClinicStore.open(clinic) as store:
        archive = store.backup(tmp_path / "b.tar")
    with pytest.raises(ClinicError, match="not an empty folder") as caught:
        ClinicStore.restore(archive, clinic)
    assert "\n" not in str(caught.value)


def _tamper(archive: Path, out: Path, change) -> Path:
    """A copy of ``archive`` with ``change(name, data) -> (name, data) | None`` applied to each member."""
    with tarfile.open(archive) as source, tarfile.open(out, "w") as target:
        for member in source:
            handle = source.extractfile(member)
            data = handle.read() if handle else b""
            changed = change(member.name, data)
            if changed is None:
                continue
            info = tarfile.TarInfo(changed[0])
            info.size = len(changed[1])
            target.addfile(info, io.BytesIO(changed[1]))
    return out


@pytest.mark.parametrize(("change", "problem"), [
    (lambda n, d: (n, d[:-1] + bytes([d[-1] ^ 1])) if n.endswith(".html") else (n, d),
     "does not match its SHA-256 (damaged archive)"),
    (lambda n, d: None if n.endswith(".parquet") else (n, d), "its files differ from its manifest"),
    (lambda n, d: ("../escape.html" if n.endswith(".html") else n, d), "which is no part of a clinic backup"),
    (lambda n, d: ("/etc/evil" if n.endswith(".html") else n, d), "which is no part of a clinic backup"),
    (lambda n, d: (n, d.replace(b'"format_version": 1', b'"format_version": 9')) if n == "backup.json" else (n, d),
     "backup format 9 is not one this insole reads"),
    (lambda n, d: (n, b"not a database" * 100) if n == DB_NAME else (n, d), "its database is missing or does not"),
])
def test_a_damaged_or_hostile_archive_restores_nothing(clinic: Path, tmp_path: Path, change, problem: str) -> None:
    with ClinicStore.open(clinic) as store:
        archive = store.backup(tmp_path / "good.tar")
    bad = _tamper(archive, tmp_path / "bad.tar", change)
    with pytest.raises(ClinicError) as caught:
        ClinicStore.restore(bad, tmp_path / "restored")
    assert problem in str(caught.value) and "nothing was restored" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar", "good.tar"]  # no folder, no leftovers


def test_a_link_in_the_archive_is_refused(clinic: Path, tmp_path: Path) -> None:
    with ClinicStore.open(clinic) as store:
        archive = store.backup(tmp_path / "good.tar")
    with tarfile.open(archive, "a") as tar:
        link = tarfile.TarInfo("files/aa/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(ClinicError, match="not a regular file"):
        ClinicStore.restore(archive, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda data: data[:-1] + bytes([data[-1] ^ 1]), "its content no longer matches its SHA-256"),  # bit rot
    (lambda data: data + b" ", "bytes, the database says"),
])
def test_a_file_damaged_in_the_clinic_folder_stops_the_backup(clinic: Path, tmp_path: Path, damage,
                                                              problem: str) -> None:
    copy = tmp_path / "copy"
    with ClinicStore.open(clinic) as store:
        ClinicStore.restore(store.backup(tmp_path / "a.tar"), copy).close()
    report = next((copy / "files").rglob("*.html"))
    report.write_bytes(damage(report.read_bytes()))
    with ClinicStore.open(copy) as store, pytest.raises(ClinicError, match=problem):
        store.backup(tmp_path / "b.tar")
    assert not (tmp_path / "b.tar").exists() and not list(tmp_path.glob(".b.tar*"))


def test_the_manifest_says_what_the_archive_holds(clinic: Path, tmp_path: Path) -> None:
    import json

    with ClinicStore.open(clinic) as store:
        archive = store.backup(tmp_path / "c.tar")
    with tarfile.open(archive) as tar:
        handle = tar.extractfile("backup.json")
        assert handle is not None
        manifest = json.loads(handle.read())
        names = set(tar.getnames())
    assert manifest["format"] == FORMAT and manifest["schema_version"] == _tables(clinic)["user_version"][0][0]
    assert {f"files/{s[:2]}/{s}{x}" for s, x, _ in manifest["files"]} == names - {"backup.json", DB_NAME}


def test_a_restore_the_command_cannot_do_is_one_line_and_exit_2(clinic: Path, tmp_path: Path, capsys) -> None:
    from insole._cli import main

    with ClinicStore.open(clinic) as store:
        archive = store.backup(tmp_path / "clinic.tar")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[:1000])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "letter.txt").write_text("mine", encoding="utf-8")
    cases = [(tmp_path / "absent.tar", tmp_path / "a", "absent.tar: no such backup file"),
             (cut, tmp_path / "b", "nothing was restored"),
             (archive, tmp_path / "full", "not an empty folder")]
    for given, target, problem in cases:
        assert main(["clinic", "--restore", str(given), "--data", str(target), "--port", "0"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("insole clinic: error: ") and err.count("\n") == 1 and problem in err, err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["letter.txt"]

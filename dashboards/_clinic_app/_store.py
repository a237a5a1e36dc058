"""The clinic's store: one folder holds a clinic's patients, visits, tests, recordings and reports.

::

    with ClinicStore.open(Path("clinic")) as store:
        patient = store.add_patient("P-0001", birth_year=1950, sex="female", mass_kg=70)
        visit = store.add_visit(patient.id, visit_date=datetime.date(2026, 12, 6), footwear="shoes")
        run = store.import_recording(visit.id, Path("walk.txt"))   # any format insole reads
        store.measures(run.id)                                     # its key numbers, each with its MDC95
        store.timeline(patient.id)                                 # the changes between visits, judged

The folder (docs/clinic-store.md)::

    clinic.sqlite3     the database: WAL, foreign keys on, schema version in PRAGMA user_version
    files/ab/<sha256><suffix>   every recording, imported file and report, named by its content's SHA-256
    captures/<test id>.parquet  where the recorder writes a test being captured (its .arrows stream and
                                sidecar beside it while capturing)
    tmp/               files being written (moved into files/ once complete)

Every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error). A file is
written to ``tmp/`` first, hashed, then published in ``files/`` by a hard link (atomic; a file of that name is
already the same content), and only then does the database point to it: a crash leaves at worst an unreferenced
file, never a row pointing at half a file. Files are never overwritten or deleted by the store.

The connection is shared by threads (aiohttp handlers through ``asyncio.to_thread``); a lock serialises the
store's statements, and the slow parts (analysis, reports) run outside it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dashboards._clinic_app._model import (
    SEXES,
    SOURCES,
    TESTS,
    ClinicError,
    Measure,
    NotFoundError,
    Patient,
    PatientRow,
    TestRun,
    Timeline,
    Visit,
    number_text,
)
from dashboards._clinic_app._progress import CLINIC_MEASURES, build_timeline, key_measures
from dashboards._clinic_app._schema import connect, migrate

__all__ = ["ClinicStore", "DB_NAME", "MAX_TEXT_CHARS", "MAX_NOTES_CHARS"]

DB_NAME = "clinic.sqlite3"
MAX_TEXT_CHARS = 200  # pseudonym, footwear, orthosis, pain-score names
MAX_NOTES_CHARS = 20_000
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CLINIC_TESTS = ("10mwt", "6mwt", "tug", "balance")
_PATIENT_FIELDS = ("pseudonym", "birth_year", "sex", "height_m", "mass_kg", "notes")
# what a clinic folder may hold before its database exists (the web app's lock and login, our sub-folders)
_CLINIC_NAMES = frozenset({"files", "captures", "tmp", "clinic.lock", "clinic-login.json"})
_VISIT_FIELDS = ("visit_date", "footwear", "orthosis", "pain_scores", "notes")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _finite_json(value: Any) -> Any:
    """``value`` with every NaN or infinity as None (strict JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    return value


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]


# ---------------------------------------------------------------- checking what a user typed


def _text(name: str, value: Any, *, one_line: bool = True, required: bool = False) -> str:
    """Typed text as stored: one-line fields stripped, without control characters, up to 200 characters."""
    limit = MAX_TEXT_CHARS if one_line else MAX_NOTES_CHARS
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ClinicError(f"{name} must be text, not {type(value).__name__}")
    if one_line:
        value = value.strip()
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ClinicError(f"{name} must be one line without control characters")
    if "\x00" in value:
        raise ClinicError(f"{name} must not contain a NUL character")
    if required and not value:
        raise ClinicError(f"{name} is required")
    if len(value) > limit:
        raise ClinicError(f"{name} is too long ({len(value)} characters; at most {limit})")
    return value


def _number(name: str, value: Any, low: float, high: float, unit: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ClinicError(f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ClinicError(f"{name} must be a number, not {str(value)[:40]!r}") from None
    if not low <= number <= high:  # NaN fails this too
        unit_text = f" {unit}" if unit else ""
        raise ClinicError(f"{name} {number:g}{unit_text} is not plausible ({low:g}-{high:g}{unit_text})")
    return number


def _patient_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(_PATIENT_FIELDS)
    if unknown:
        raise ClinicError(f"a patient has no field {sorted(unknown)[0]!r} (fields: {', '.join(_PATIENT_FIELDS)})")
    out: dict[str, Any] = {}
    if "pseudonym" in fields:
        out["pseudonym"] = _text("pseudonym", fields["pseudonym"], required=True)
    if "birth_year" in fields:
        year = _number("year of birth", fields["birth_year"], 1890, dt.date.today().year, "")
        if year is not None and year != int(year):
            raise ClinicError(f"year of birth must be a whole year, not {year:g}")
        out["birth_year"] = None if year is None else int(year)
    if "sex" in fields:
        sex = fields["sex"] or None
        if sex is not None and sex not in SEXES:
            raise ClinicError(f"sex must be one of {', '.join(SEXES)} or empty, not {str(sex)[:40]!r}")
        out["sex"] = sex
    if "height_m" in fields:
        out["height_m"] = _number("height", fields["height_m"], 0.4, 2.6, "m")
    if "mass_kg" in fields:
        out["mass_kg"] = _number("body mass", fields["mass_kg"], 2.0, 400.0, "kg")
    if "notes" in fields:
        out["notes"] = _text("notes", fields["notes"], one_line=False)
    return out


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ClinicError(f"visit date must be a date (YYYY-MM-DD), not {str(value)[:40]!r}")


def _pain(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ClinicError("pain scores must be pairs of a name and a score 0-10")
    out = {}
    for name, score in value.items():
        name = _text("pain score name", name, required=True)
        if isinstance(score, bool) or not isinstance(score, (int, float, str)):
            raise ClinicError(f"pain score {name!r} must be a whole number 0-10")
        try:
            number = float(score)
        except ValueError:
            raise ClinicError(f"pain score {name!r} must be a whole number 0-10, not {str(score)[:20]!r}") from None
        if not (0 <= number <= 10 and number == int(number)):
            raise ClinicError(f"pain score {name!r} must be a whole number 0-10, not {str(score)[:20]!r}")
        out[name] = int(number)
    if len(out) > 50:
        raise ClinicError("at most 50 pain scores per visit")
    return out


def _visit_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(_VISIT_FIELDS)
    if unknown:
        raise ClinicError(f"a visit has no field {sorted(unknown)[0]!r} (fields: {', '.join(_VISIT_FIELDS)})")
    out: dict[str, Any] = {}
    if "visit_date" in fields:
        out["visit_date"] = _date(fields["visit_date"]).isoformat()
    for name in ("footwear", "orthosis"):
        if name in fields:
            out[name] = _text(name, fields[name])
    if "pain_scores" in fields:
        out["pain_scores"] = json.dumps(_pain(fields["pain_scores"]), ensure_ascii=False, sort_keys=True)
    if "notes" in fields:
        out["notes"] = _text("notes", fields["notes"], one_line=False)
    return out


# ---------------------------------------------------------------- rows to records


def _patient(row: sqlite3.Row) -> Patient:
    return Patient(id=row["id"], pseudonym=row["pseudonym"], birth_year=row["birth_year"], sex=row["sex"],
                   height_m=row["height_m"], mass_kg=row["mass_kg"], notes=row["notes"],
                   archived=bool(row["archived"]), created_at=row["created_at"])


def _visit(row: sqlite3.Row) -> Visit:
    return Visit(id=row["id"], patient_id=row["patient_id"], visit_date=dt.date.fromisoformat(row["visit_date"]),
                 footwear=row["footwear"], orthosis=row["orthosis"], pain_scores=json.loads(row["pain_scores"]),
                 notes=row["notes"], created_at=row["created_at"])


class ClinicStore:
    """A clinic folder's database and files (see the module docstring). Open with :meth:`open`."""

    def __init__(self, folder: Path, connection: sqlite3.Connection) -> None:
        self.folder = folder
        self.db_path = folder / DB_NAME
        self.files_dir = folder / "files"
        self.captures_dir = folder / "captures"
        self.tmp_dir = folder / "tmp"
        self._db = connection
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._closed = False
        self._begun: set[int] = set()  # captures this store began: never "recovered" while their recorder runs

    # ------------------------------------------------------------ opening and closing

    @classmethod
    def open(cls, folder: Path | str, *, create: bool = True) -> ClinicStore:
        """Open the clinic in ``folder`` (created when ``create`` and absent); migrate its schema.

        A folder that is not a clinic (no database) without ``create``, or a database of a newer schema than
        this software knows, is a ``ClinicError`` (one line).
        """
        folder = Path(folder)
        db_path = folder / DB_NAME
        if not db_path.exists():
            if not create:
                raise ClinicError(f"{folder}: no clinic here (no {DB_NAME}); create one first")
            if folder.exists() and not folder.is_dir():
                raise ClinicError(f"{folder}: is a file, not a folder")
            if folder.is_dir():
                others = sorted(p.name for p in folder.iterdir()
                                if p.name not in _CLINIC_NAMES and not p.name.startswith("."))
                if others:
                    raise ClinicError(f"{folder}: holds other files ({others[0][:60]!r}...) and no clinic; give an "
                                      "empty folder or a new name for a new clinic")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise ClinicError(f"{folder}: cannot create the clinic folder ({error.strerror or error})") from None
        for sub in ("files", "captures", "tmp"):
            try:
                (folder / sub).mkdir(exist_ok=True)
            except OSError as error:
                raise ClinicError(f"{folder / sub}: cannot create ({error.strerror or error})") from None
        try:
            connection = connect(db_path)
        except sqlite3.Error as error:
            raise ClinicError(f"{db_path}: cannot open the database ({_one_line(error)})") from None
        try:
            migrate(connection, db_path)
        except BaseException:
            connection.close()
            raise
        return cls(folder, connection)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("PRAGMA optimize")
                self._db.close()

    def __enter__(self) -> ClinicStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ClinicStore {self.folder}>"

    # ------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with self._lock:
            if self._closed:
                raise ClinicError(f"{self.folder}: the clinic store is closed")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def _read(self, sql: str, params: tuple[Any, ...] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            if self._closed:
                raise ClinicError(f"{self.folder}: the clinic store is closed")
            return self._db.execute(sql, params).fetchall()

    # ------------------------------------------------------------ patients

    def add_patient(self, pseudonym: str, *, birth_year: int | None = None, sex: str | None = None,
                    height_m: float | None = None, mass_kg: float | None = None, notes: str = "") -> Patient:
        values = _patient_values({"pseudonym": pseudonym, "birth_year": birth_year, "sex": sex,
                                  "height_m": height_m, "mass_kg": mass_kg, "notes": notes})
        with self._write() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO patients (pseudonym, birth_year, sex, height_m, mass_kg, notes, created_at) "
                    "VALUES (:pseudonym, :birth_year, :sex, :height_m, :mass_kg, :notes, :created_at)",
                    {**values, "created_at": _now()},
                )
            except sqlite3.IntegrityError:
                raise ClinicError(f"a patient with pseudonym {values['pseudonym']!r} already exists") from None
            patient_id = cursor.lastrowid
        return self.patient(int(patient_id or 0))

    def update_patient(self, patient_id: int, **fields: Any) -> Patient:
        values = _patient_values(fields)
        if not values:
            return self.patient(patient_id)
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        with self._write() as db:
            try:
                cursor = db.execute(f"UPDATE patients SET {assignments} WHERE id = :id", {**values, "id": patient_id})
            except sqlite3.IntegrityError:
                raise ClinicError(f"a patient with pseudonym {values.get('pseudonym')!r} already exists") from None
            if cursor.rowcount != 1:
                raise NotFoundError(f"no patient {patient_id}")
        return self.patient(patient_id)

    def archive_patient(self, patient_id: int, archived: bool = True) -> None:
        with self._write() as db:
            cursor = db.execute("UPDATE patients SET archived = ? WHERE id = ?", (int(bool(archived)), patient_id))
            if cursor.rowcount != 1:
                raise NotFoundError(f"no patient {patient_id}")

    def patient(self, patient_id: int) -> Patient:
        rows = self._read("SELECT * FROM patients WHERE id = ?", (patient_id,))
        if not rows:
            raise NotFoundError(f"no patient {patient_id}")
        return _patient(rows[0])

    @staticmethod
    def _search(search: str, include_archived: bool) -> tuple[str, dict[str, Any]]:
        where, params = [], {}
        if not include_archived:
            where.append("p.archived = 0")
        search = (search or "").strip()
        if search:
            # a substring of the pseudonym or the notes; LIKE's own wildcards in the text are taken literally
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(p.pseudonym LIKE :pattern ESCAPE '\\' OR p.notes LIKE :pattern ESCAPE '\\')")
            params["pattern"] = pattern
        return (" WHERE " + " AND ".join(where)) if where else "", params

    def patients(self, search: str = "", *, include_archived: bool = False, limit: int = 50,
                 offset: int = 0) -> list[PatientRow]:
        """Patients whose pseudonym or notes contain ``search`` (any case), by pseudonym; a page of ``limit``."""
        where, params = self._search(search, include_archived)
        rows = self._read(
            "SELECT p.*, (SELECT count(*) FROM visits v WHERE v.patient_id = p.id) AS n_visits, "
            "(SELECT max(v.visit_date) FROM visits v WHERE v.patient_id = p.id) AS last_visit_date "
            f"FROM patients p{where} ORDER BY p.pseudonym COLLATE NOCASE, p.id LIMIT :limit OFFSET :offset",
            {**params, "limit": max(0, int(limit)), "offset": max(0, int(offset))},
        )
        return [PatientRow(**vars(_patient(row)), n_visits=row["n_visits"],
                           last_visit_date=dt.date.fromisoformat(row["last_visit_date"])
                           if row["last_visit_date"] else None) for row in rows]

    def count_patients(self, search: str = "", include_archived: bool = False) -> int:
        where, params = self._search(search, include_archived)
        return int(self._read(f"SELECT count(*) FROM patients p{where}", params)[0][0])

    # ------------------------------------------------------------ visits

    def add_visit(self, patient_id: int, *, visit_date: dt.date | str, footwear: str = "", orthosis: str = "",
                  pain_scores: Mapping[str, int] | None = None, notes: str = "") -> Visit:
        values = _visit_values({"visit_date": visit_date, "footwear": footwear, "orthosis": orthosis,
                                "pain_scores": pain_scores or {}, "notes": notes})
        with self._write() as db:
            if not db.execute("SELECT 1 FROM patients WHERE id = ?", (patient_id,)).fetchone():
                raise NotFoundError(f"no patient {patient_id}")
            cursor = db.execute(
                "INSERT INTO visits (patient_id, visit_date, footwear, orthosis, pain_scores, notes, created_at) "
                "VALUES (:patient_id, :visit_date, :footwear, :orthosis, :pain_scores, :notes, :created_at)",
                {**values, "patient_id": patient_id, "created_at": _now()},
            )
            visit_id = cursor.lastrowid
        return self.visit(int(visit_id or 0))

    def update_visit(self, visit_id: int, **fields: Any) -> Visit:
        values = _visit_values(fields)
        if not values:
            return self.visit(visit_id)
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        with self._write() as db:
            cursor = db.execute(f"UPDATE visits SET {assignments} WHERE id = :id", {**values, "id": visit_id})
            if cursor.rowcount != 1:
                raise NotFoundError(f"no visit {visit_id}")
        return self.visit(visit_id)

    def visit(self, visit_id: int) -> Visit:
        rows = self._read("SELECT * FROM visits WHERE id = ?", (visit_id,))
        if not rows:
            raise NotFoundError(f"no visit {visit_id}")
        return _visit(rows[0])

    def visits(self, patient_id: int) -> list[Visit]:
        """The patient's visits in date order (same date: in the order they were entered)."""
        self.patient(patient_id)
        rows = self._read("SELECT * FROM visits WHERE patient_id = ? ORDER BY visit_date, id", (patient_id,))
        return [_visit(row) for row in rows]

    # ------------------------------------------------------------ files

    def _file_name(self, sha256: str, suffix: str) -> Path:
        return self.files_dir / sha256[:2] / f"{sha256}{suffix}"

    def file_path(self, sha256: str) -> Path:
        """Where the file with this SHA-256 is (always inside ``files/``); ``NotFoundError`` if not stored."""
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise NotFoundError(f"no file {str(sha256)[:80]!r}")
        rows = self._read("SELECT suffix FROM files WHERE sha256 = ?", (sha256,))
        if not rows:
            raise NotFoundError(f"no file {sha256}")
        return self._file_name(sha256, rows[0]["suffix"])

    def _publish(self, source: Path, suffix: str) -> tuple[str, str, int]:
        """Copy ``source`` into ``files/`` under its content's hash; return (sha256, suffix, size).

        Written to ``tmp/`` first (fsynced), then hard-linked to its final name: the name appears only with the
        whole content. A file of that name already holds the same content (the name is its hash).
        """
        suffix = suffix if re.fullmatch(r"(\.[A-Za-z0-9]{1,12}){0,2}", suffix) else ""
        descriptor, name = tempfile.mkstemp(prefix="publish-", suffix=".part", dir=self.tmp_dir)
        temporary = Path(name)
        try:
            digest = hashlib.sha256()
            size = 0
            with source.open("rb") as reader, os.fdopen(descriptor, "wb") as writer:
                for block in iter(lambda: reader.read(1 << 20), b""):
                    digest.update(block)
                    writer.write(block)
                    size += len(block)
                writer.flush()
                os.fsync(writer.fileno())
            sha256 = digest.hexdigest()
            target = self._file_name(sha256, suffix)
            target.parent.mkdir(exist_ok=True)
            try:
                os.link(temporary, target)
            except FileExistsError:
                pass  # the same content is there already
        finally:
            temporary.unlink(missing_ok=True)
        return sha256, suffix, size

    @staticmethod
    def _register(db: sqlite3.Connection, sha256: str, suffix: str, size: int, kind: str) -> None:
        db.execute("INSERT OR IGNORE INTO files (sha256, suffix, size_bytes, kind, added_at) VALUES (?, ?, ?, ?, ?)",
                   (sha256, suffix, size, kind, _now()))

    @contextlib.contextmanager
    def _scratch(self) -> Iterator[Path]:
        """A private folder in ``tmp/`` for one operation's files; removed afterwards."""
        folder = Path(tempfile.mkdtemp(prefix="work-", dir=self.tmp_dir))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # ------------------------------------------------------------ tests

    def _test_run(self, row: sqlite3.Row) -> TestRun:
        capture = self.captures_dir / f"{row['id']}.parquet" if row["status"] == "capturing" else None
        return TestRun(id=row["id"], visit_id=row["visit_id"], test=row["test"], source=row["source"],
                       status=row["status"], reason=row["reason"], recording_sha256=row["recording_sha256"],
                       original_sha256=row["original_sha256"], original_name=row["original_name"],
                       report_sha256=row["report_sha256"], fmt=row["fmt"], layout=row["layout"],
                       summary=row["summary"], started_at=row["started_at"], finished_at=row["finished_at"],
                       capture_path=capture, complete=_completed(row["result"]))

    def test(self, test_id: int) -> TestRun:
        rows = self._read("SELECT * FROM tests WHERE id = ?", (test_id,))
        if not rows:
            raise NotFoundError(f"no test {test_id}")
        return self._test_run(rows[0])

    def tests(self, visit_id: int) -> list[TestRun]:
        self.visit(visit_id)
        return [self._test_run(row) for row in self._read("SELECT * FROM tests WHERE visit_id = ? ORDER BY id",
                                                           (visit_id,))]

    def measures(self, test_id: int) -> list[Measure]:
        self.test(test_id)
        rows = self._read("SELECT * FROM measures WHERE test_id = ? ORDER BY position", (test_id,))
        return [Measure(name=r["name"], value=r["value"], unit=r["unit"], reference=r["reference"],
                        mdc95=r["mdc95"], label=r["label"], mdc_source=r["mdc_source"]) for r in rows]

    def _new_test(self, visit_id: int, test: str, source: str, status: str, inputs: Mapping[str, Any]) -> int:
        if test not in TESTS:
            raise ClinicError(f"test must be one of {', '.join(TESTS)}, not {str(test)[:40]!r}")
        if source not in SOURCES:
            raise ClinicError(f"source must be one of {', '.join(SOURCES)}, not {str(source)[:40]!r}")
        with self._write() as db:
            if not db.execute("SELECT 1 FROM visits WHERE id = ?", (visit_id,)).fetchone():
                raise NotFoundError(f"no visit {visit_id}")
            cursor = db.execute(
                "INSERT INTO tests (visit_id, test, source, status, inputs, started_at) VALUES (?, ?, ?, ?, ?, ?)",
                (visit_id, test, source, status, json.dumps(dict(inputs), allow_nan=False), _now()),
            )
            return int(cursor.lastrowid or 0)

    def begin_capture(self, visit_id: int, *, test: str, source: str,
                      inputs: Mapping[str, Any] | None = None) -> TestRun:
        """A new test in ``visit_id``, status "capturing": the recorder writes ``TestRun.capture_path``.

        ``inputs``: what the clinician entered for a clinic test (``insole.clinic.TestInputs`` fields such as
        ``walkway_m``, ``timed_m``, ``pace``, ``course_m``); the patient's age, sex, height and mass are added
        from their record when the test is scored.
        """
        if source == "import":
            raise ClinicError("a capture's source is insole, moticon, orphe or emulated (use import_recording)")
        checked = self._test_inputs(inputs or {})
        test_id = self._new_test(visit_id, test, source, "capturing", checked)
        self._begun.add(test_id)
        return self.test(test_id)

    @staticmethod
    def _test_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
        from insole.clinic import TestInputs

        allowed = {"walkway_m", "timed_m", "pace", "course_m", "duration_s", "stance_width_mm", "condition_s"}
        unknown = set(inputs) - allowed
        if unknown:
            raise ClinicError(f"a test has no input {sorted(unknown)[0]!r} (inputs: {', '.join(sorted(allowed))})")
        try:
            TestInputs(**inputs)
        except (TypeError, ValueError) as error:
            raise ClinicError(f"test inputs: {_one_line(error)}") from None
        return dict(inputs)

    def _capture_files(self, test_id: int) -> tuple[Path, Path, Path]:
        """The capture's Parquet file, its stream and the stream's sidecar (``insole.capture``'s names)."""
        parquet = self.captures_dir / f"{test_id}.parquet"
        stream = self.captures_dir / f"{test_id}.arrows"
        return parquet, stream, stream.with_name(stream.name + ".json")

    def finish_capture(self, test_id: int, *, note: str = "") -> TestRun:
        """Move the captured recording into the store, analyse it, write its report, store its key numbers.

        The Parquet file the recorder finalised is used; when it never finalised (stopped or killed), its
        capture stream is recovered first (``insole.io.recover``: everything up to the last complete batch).
        Status "done", or "failed" with a one-line reason (nothing captured, analysis impossible); what was
        recorded is kept either way. ``note`` opens the test's summary (recovery says what happened), written in
        the same transaction.
        """
        from insole.io import read_parquet, recover

        run = self.test(test_id)
        if run.status != "capturing":
            raise ClinicError(f"test {test_id} is not being captured (status {run.status})")
        parquet, stream, _ = self._capture_files(test_id)
        if not parquet.exists() and stream.exists():
            try:
                recover(stream, parquet)
            except Exception as error:  # noqa: BLE001 - any unreadable stream is a failed test, said in one line
                return self._fail(test_id, f"the capture stream could not be recovered: {_one_line(error)}")
        if not parquet.exists():
            # the caller's note says why (e.g. no Bluetooth here); it is the reason the clinician reads later
            why = f"{note.rstrip('.')}: " if note else ""
            return self._fail(test_id, f"{why}nothing was captured (no recording was written)")
        try:
            recording = read_parquet(parquet)
        except Exception as error:  # noqa: BLE001
            return self._fail(test_id, f"the captured recording cannot be read: {_one_line(error)}")
        done = self._ingest(run, recording, parquet, original=None, fmt="insole-parquet", note=note)
        self._begun.discard(test_id)
        # the recording is in files/ now; a stream that recover kept (its sidecar missing or damaged) stays here
        parquet.unlink(missing_ok=True)
        return done

    def _fail(self, test_id: int, reason: str) -> TestRun:
        with self._write() as db:
            db.execute("UPDATE tests SET status = 'failed', reason = ?, finished_at = ? WHERE id = ?",
                       (reason[:500], _now(), test_id))
        self._begun.discard(test_id)
        return self.test(test_id)

    # ------------------------------------------------------------ safety

    def recover_interrupted(self) -> list[TestRun]:
        """At start: finish the captures a stopped app left "capturing" (see ``_recovery``); return them."""
        from dashboards._clinic_app._recovery import recover_interrupted

        return recover_interrupted(self)

    def backup(self, archive: Path | str) -> Path:
        """The whole clinic (database and files) as one new tar archive (see ``_backup``); return its path."""
        from dashboards._clinic_app._backup import backup

        return backup(self, Path(archive))

    @classmethod
    def restore(cls, archive: Path | str, folder: Path | str) -> ClinicStore:
        """Restore a backup into the empty (or absent) ``folder``, every file's hash checked; open it."""
        from dashboards._clinic_app._backup import restore

        return cls.open(restore(Path(archive), Path(folder)), create=False)

    def _snapshot(self, path: Path) -> None:
        """A consistent copy of the database in ``path`` (SQLite's online backup API), one self-contained file."""
        copy = sqlite3.connect(path)
        try:
            with self._lock:
                if self._closed:
                    raise ClinicError(f"{self.folder}: the clinic store is closed")
                self._db.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()

    def _interrupted(self) -> list[tuple[int, str]]:
        rows = self._read("SELECT id, source FROM tests WHERE status = 'capturing' ORDER BY id")
        return [(row["id"], row["source"]) for row in rows if row["id"] not in self._begun]

    # ------------------------------------------------------------ imports

    def import_recording(self, visit_id: int, path: Path, *, fmt: str | None = None,
                         layout: Path | str | None = None, test: str = "free_walk") -> TestRun:
        """Import ``path`` (any format ``insole.io`` reads) into ``visit_id`` as a done (or failed) test.

        The file is kept as it was given (content-hashed) beside our Parquet recording of it. ``fmt`` forces an
        importer by name (``insole.io.formats()``); ``layout``: the column mapping (.toml or .json) of a generic
        CSV (``insole.io.load_with_mapping``), a file in the same folder as ``path`` (nowhere else is read). A
        file insole cannot read is an ``InputError`` (one line, the file named) and nothing is stored.
        """
        from insole.io import detect_format, load, load_with_mapping

        path = Path(path)
        self.visit(visit_id)
        if test not in TESTS:
            raise ClinicError(f"test must be one of {', '.join(TESTS)}, not {str(test)[:40]!r}")
        if layout is not None:
            mapping = self._mapping_beside(path, Path(layout))
            recording = load_with_mapping(path, mapping)
        else:
            recording = load(path, fmt)
        test_id = self._new_test(visit_id, test, "import", "capturing", {})
        self._begun.add(test_id)
        try:
            run = self.test(test_id)
            used = fmt or ("generic-csv" if layout is not None else detect_format(path))
            # our own Parquet file is the recording already: stored as it is (one file, the original), not
            # written again (the writer's encodings may differ from those of the version that wrote it)
            own = path if used == "parquet" and layout is None else None
            return self._ingest(run, recording, own, original=path, fmt=used)
        except BaseException:
            # nothing half-imported stays: the test row goes (its files, if any were published, are harmless)
            with self._write() as db:
                db.execute("DELETE FROM measures WHERE test_id = ?", (test_id,))
                db.execute("DELETE FROM tests WHERE id = ? AND status = 'capturing'", (test_id,))
            raise
        finally:
            self._begun.discard(test_id)

    @staticmethod
    def _mapping_beside(path: Path, mapping: Path) -> Path:
        """A generic CSV's column mapping: a .toml or .json file in the same folder as the file imported.

        Only there: a mapping named by a web form must not make the app read any other file on the machine.
        """
        if mapping.suffix.lower() not in (".toml", ".json"):
            raise ClinicError(f"layout: give the column mapping of a generic CSV (a .toml or .json file), not "
                              f"{str(mapping)[:80]!r}; other files carry their own layout")
        try:
            beside = mapping.resolve(strict=True).parent == path.resolve(strict=True).parent
        except (OSError, RuntimeError):
            beside = False
        if not beside or not mapping.is_file():
            raise ClinicError(f"layout: the column mapping {mapping.name[:80]!r} must be a file beside the imported "
                              "file (upload it with it)")
        return mapping

    def _ingest(self, run: TestRun, recording: Any, parquet: Path | None, *, original: Path | None,
                fmt: str, note: str = "") -> TestRun:
        """Publish the recording (and the original), analyse, report, and record it all in one transaction."""
        from insole.io import write_parquet

        visit = self.visit(run.visit_id)
        patient = self.patient(visit.patient_id)
        with self._scratch() as work:
            if parquet is None:
                parquet = work / "recording.parquet"
                write_parquet(recording, parquet)
            stored = [(self._publish(parquet, ".parquet"), "recording")]
            if original is not None:
                stored.append((self._publish(original, "".join(Path(original.name).suffixes[-2:])), "original"))
            inputs = json.loads(self._read("SELECT inputs FROM tests WHERE id = ?", (run.id,))[0]["inputs"])
            outcome = self._analyse(recording, run.test, inputs, patient, visit, work,
                                    shown_as=original.name if original is not None else f"test {run.id}")
            report = (self._publish(outcome["report"], ".html"), "report") if outcome.get("report") else None
        with self._write() as db:
            for (sha256, suffix, size), kind in stored + ([report] if report else []):
                self._register(db, sha256, suffix, size, kind)
            cursor = db.execute(
                "UPDATE tests SET status = :status, reason = :reason, recording_sha256 = :recording, "
                "original_sha256 = :original, original_name = :name, report_sha256 = :report, fmt = :fmt, "
                "layout = :layout, result = :result, summary = :summary, finished_at = :finished "
                "WHERE id = :id AND status = 'capturing'",
                {"status": "failed" if outcome.get("reason") else "done", "reason": outcome.get("reason", ""),
                 "recording": stored[0][0][0], "original": stored[1][0][0] if original is not None else None,
                 "name": original.name[:255] if original is not None else "",
                 "report": report[0][0] if report else None,
                 "fmt": fmt[:40], "layout": recording.layout.name,
                 "summary": "; ".join(x for x in (note, outcome.get("summary", "")) if x),
                 "result": json.dumps(_finite_json(outcome["result"]), allow_nan=False) if outcome.get("result")
                 else None,
                 "finished": _now(), "id": run.id},
            )
            if cursor.rowcount != 1:
                raise ClinicError(f"test {run.id} was finished meanwhile")
            db.execute("DELETE FROM measures WHERE test_id = ?", (run.id,))
            db.executemany(
                "INSERT INTO measures (test_id, position, name, label, value, unit, reference, mdc95, mdc_source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run.id, i, m.name, m.label, m.value, m.unit, m.reference, m.mdc95, m.mdc_source)
                 for i, m in enumerate(outcome.get("measures", []))],
            )
        return self.test(run.id)

    def _analyse(self, recording: Any, test: str, inputs: Mapping[str, Any], patient: Patient, visit: Visit,
                 work: Path, *, shown_as: str) -> dict[str, Any]:
        """Score the clinic test (if it is one), analyse, write the report; a failure is a reason, not a raise."""
        from insole.analysis import analyze
        from insole.clinic import TestInputs, run_test
        from insole.report import write_report

        outcome: dict[str, Any] = {}
        recording = _of_patient(recording, patient)
        result = None
        problems = []
        if test in _CLINIC_TESTS:
            saved = recording.meta.extra.get("clinic_test")
            if isinstance(saved, Mapping) and saved.get("test") == test:
                result = dict(saved)  # scored while capturing (insole.clinic's guided test)
                outcome["summary"] = _saved_summary(test, saved)
            else:
                person: dict[str, Any] = {
                    "age_years": (visit.visit_date.year - patient.birth_year) if patient.birth_year else None,
                    "sex": patient.sex if patient.sex in ("male", "female") else None,
                    "height_cm": patient.height_m * 100.0 if patient.height_m else None,
                    "mass_kg": patient.mass_kg,
                }
                try:
                    scored = run_test(recording, test, TestInputs(**inputs, **person))
                except Exception as error:  # noqa: BLE001 - a test that cannot be scored is said, the walk is kept
                    problems.append(f"the {test} result could not be found: {_one_line(error)}")
                else:
                    recording = scored.with_recording(recording)
                    result = scored.to_dict()
                    outcome["summary"] = scored.summary()
        outcome["result"] = result
        try:
            analysis = analyze(recording)
            page = work / "report.html"
            report = write_report(recording, page, path=shown_as, analysis=analysis)
        except Exception as error:  # noqa: BLE001 - e.g. no walking at all: a failed test with its reason
            outcome["reason"] = "; ".join([*problems, f"analysis failed: {_one_line(error)}"])
            return outcome
        outcome["report"] = page
        outcome["measures"] = key_measures(report, analysis, result, recording.layout.name)
        if problems:
            outcome["summary"] = "; ".join(problems)
        return outcome

    # ------------------------------------------------------------ progress

    def _comparable(self, visit_a_id: int, visit_b_id: int, test: str | None) -> tuple[sqlite3.Row, sqlite3.Row]:
        """The latest done test of one kind in each visit: ``test`` if given, else the newest kind both have."""
        a, b = self.visit(visit_a_id), self.visit(visit_b_id)
        if a.patient_id != b.patient_id:
            raise ClinicError(f"visits {a.id} and {b.id} are of different patients; compare a patient's own visits")
        if a.id == b.id:
            raise ClinicError("choose two different visits to compare")
        done = {}
        for visit in (a, b):
            rows = self._read("SELECT * FROM tests WHERE visit_id = ? AND status = 'done' AND recording_sha256 IS NOT "
                              "NULL ORDER BY id", (visit.id,))
            done[visit.id] = {row["test"]: row for row in rows}  # the latest of each kind
        kinds = [t for t in done[b.id] if t in done[a.id]] if test is None else [test]
        kinds.sort(key=lambda t: done[b.id][t]["id"] if t in done[b.id] else -1)
        if not kinds or kinds[-1] not in done[a.id] or kinds[-1] not in done[b.id]:
            from dashboards._clinic_app._runs import TESTS as NAMES

            what = f"an analysed {NAMES.get(test, test)}" if test else "an analysed test of the same kind"

            def held(visit: Visit) -> str:
                names = [NAMES.get(t, t) for t in done[visit.id]]
                return f"the visit of {visit.visit_date} ({', '.join(names) if names else 'no analysed test'})"

            raise ClinicError(f"{held(a)} and {held(b)} do not both have {what}; nothing to compare")
        return done[a.id][kinds[-1]], done[b.id][kinds[-1]]

    def _recording_of(self, row: sqlite3.Row, patient: Patient) -> Any:
        from insole.io import read_parquet

        recording = _of_patient(read_parquet(self.file_path(row["recording_sha256"])), patient)
        if row["result"] and "clinic_test" not in recording.meta.extra:
            recording = recording.with_meta(extra={**dict(recording.meta.extra),
                                                   "clinic_test": json.loads(row["result"])})
        return recording

    def compare_report(self, visit_a_id: int, visit_b_id: int, *, test: str | None = None) -> Path:
        """The before/after report of visit A (baseline) and visit B (``insole report --baseline``); its path.

        Compares the latest done test of one kind in each visit (``test``, or the newest kind both have). The
        report is stored content-hashed and cached: asking again for the same two recordings returns it.
        """
        from insole.report import write_report

        before, after = self._comparable(visit_a_id, visit_b_id, test)
        if before["layout"] and after["layout"] and before["layout"] != after["layout"]:
            raise ClinicError(f"the two tests were recorded with other insoles ({before['layout']}, then "
                              f"{after['layout']}); a before/after report compares recordings of one system")
        cached = self._read("SELECT report_sha256 FROM compare_reports WHERE baseline_sha256 = ? AND "
                            "followup_sha256 = ?", (before["recording_sha256"], after["recording_sha256"]))
        if cached:
            return self.file_path(cached[0]["report_sha256"])
        patient = self.patient(self.visit(visit_a_id).patient_id)
        # both tests are this patient's, whatever subject id each file carried (an emulated walk names its
        # simulated person, an imported file its lab's code): the report judges a baseline of one person only
        baseline, recording = (self._recording_of(t, patient).with_meta(subject_id=patient.pseudonym)
                               for t in (before, after))
        with self._scratch() as work:
            page = work / "compare.html"
            try:
                write_report(recording, page, path=f"visit {visit_b_id}, test {after['id']}", baseline=baseline,
                             baseline_path=f"visit {visit_a_id}, test {before['id']}")
            except Exception as error:  # noqa: BLE001 - one line for the page, the visits are untouched
                raise ClinicError(f"the before/after report could not be made: {_one_line(error)}") from None
            sha256, suffix, size = self._publish(page, ".html")
        with self._write() as db:
            self._register(db, sha256, suffix, size, "compare_report")
            db.execute("INSERT OR IGNORE INTO compare_reports (baseline_sha256, followup_sha256, report_sha256, "
                       "created_at) VALUES (?, ?, ?, ?)",
                       (before["recording_sha256"], after["recording_sha256"], sha256, _now()))
            # another request may have made it meanwhile: everyone gets the one stored first
            stored = db.execute("SELECT report_sha256 FROM compare_reports WHERE baseline_sha256 = ? AND "
                                "followup_sha256 = ?", (before["recording_sha256"], after["recording_sha256"])
                                ).fetchone()["report_sha256"]
        return self.file_path(stored)

    def timeline(self, patient_id: int) -> Timeline:
        """The patient's key numbers across visits; each change between consecutive visits judged by its MDC95."""
        patient = self.patient(patient_id)
        visits = self.visits(patient_id)
        rows = self._read(
            "SELECT t.visit_id, t.id AS test_id, t.test, t.layout, m.name, m.label, m.unit, m.value, m.mdc95, "
            "m.mdc_source, m.position FROM tests t JOIN visits v ON v.id = t.visit_id "
            "JOIN measures m ON m.test_id = t.id WHERE v.patient_id = ? AND t.status = 'done' "
            "ORDER BY t.id, m.position",
            (patient_id,),
        )
        return build_timeline(patient, visits, rows)


def _of_patient(recording: Any, patient: Patient) -> Any:
    """``recording`` with what the patient's record adds where the recording has none: body mass, and the
    pseudonym as its subject (so that a report says whose it is)."""
    changes: dict[str, Any] = {}
    if recording.meta.body_mass_kg is None and patient.mass_kg is not None:
        changes["body_mass_kg"] = float(patient.mass_kg)
    if not recording.meta.subject_id:
        changes["subject_id"] = patient.pseudonym
    return recording.with_meta(**changes) if changes else recording


def _saved_summary(test: str, saved: Mapping[str, Any]) -> str:
    """One line of a clinic test scored while it was captured (``meta.extra["clinic_test"]``): its name, its
    status, and its main figures (as ``CLINIC_MEASURES`` names them), or why it is incomplete."""
    head = f"{saved.get('name', test)}: {saved.get('status', '')}"
    if not saved.get("complete"):
        reasons = [str(r) for r in saved.get("reasons") or []]
        return f"{head} ({'; '.join(reasons)})" if reasons else head
    measures = saved.get("measures") or {}
    figures = []
    for key, label, unit in CLINIC_MEASURES.get(test, ()):
        value = measures.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            figures.append(f"{label.split(': ', 1)[-1]} {number_text(value)} {unit}")
    return f"{head}: {', '.join(figures)}" if figures else head


def _completed(result: str | None) -> bool | None:
    """A stored clinic result's ``complete`` (None when there is no result or it does not say)."""
    if not result:
        return None
    try:
        value = json.loads(result).get("complete")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, bool) else None

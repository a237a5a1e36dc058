"""The whole clinic as one archive, and back: a tar file with the database, every stored file and a manifest.

``backup(store, archive)`` takes a consistent copy of the database with
SQLite's online backup API (the app may keep working meanwhile), then adds
every file that copy refers to, checking on the way that each file's content
still matches its name (its SHA-256). The archive is written under a
temporary name and appears under its own only once complete; an existing
archive is never replaced. ``.tar.gz``/``.tgz`` names are compressed, any
other name is a plain tar (recordings are compressed already).

``restore(archive, folder)`` fills an empty (or absent) folder: it accepts
only the members a backup holds (``backup.json``, ``clinic.sqlite3``,
``files/<sha256[:2]>/<sha256><suffix>``; no links, no other paths), checks
every file's SHA-256 against its name and the manifest, checks the
database's integrity and that it names exactly the files present, and only
then moves the restored clinic into place. Anything wrong is a one-line
``ClinicError`` and the folder is left as it was.

Archive layout::

    backup.json        {"format": "insole-clinic-backup", "format_version": 1, "schema_version": N,
                        "created_at": ..., "database_sha256": ..., "files": [[sha256, suffix, size], ...]}
    clinic.sqlite3     the database (a self-contained file: no -wal or -shm beside it)
    files/ab/ab12...ef.parquet
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dashboards._clinic_app._model import ClinicError
from dashboards._clinic_app._schema import latest_version
from dashboards._clinic_app._store import _now

if TYPE_CHECKING:
    from dashboards._clinic_app._store import ClinicStore

__all__ = ["backup", "restore", "FORMAT", "FORMAT_VERSION"]

FORMAT = "insole-clinic-backup"
FORMAT_VERSION = 1
_MANIFEST = "backup.json"
_DB = "clinic.sqlite3"
_FILE = re.compile(r"^files/([0-9a-f]{2})/([0-9a-f]{64})((?:\.[A-Za-z0-9]{1,12}){0,2})$")
_MAX_MANIFEST_BYTES = 64 << 20


def _compressed(archive: Path) -> bool:
    return archive.name.endswith((".tar.gz", ".tgz"))


def _copy_hashing(reader: IO[bytes], writer: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for block in iter(lambda: reader.read(1 << 20), b""):
        digest.update(block)
        writer.write(block)
        size += len(block)
    return digest.hexdigest(), size


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def backup(store: ClinicStore, archive: Path) -> Path:
    """Write the clinic of ``store`` into the new file ``archive``; return its path."""
    archive = Path(archive)
    if archive.exists() or archive.is_symlink():
        raise ClinicError(f"{archive}: already exists (a backup never replaces a file; choose another name)")
    parent = archive.parent if str(archive.parent) else Path(".")
    if not parent.is_dir():
        raise ClinicError(f"{archive}: its folder {parent} does not exist (create it first)")
    with contextlib.ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="backup-", dir=store.tmp_dir))
        stack.callback(shutil.rmtree, work, True)
        snapshot = work / _DB
        store._snapshot(snapshot)
        connection = sqlite3.connect(snapshot)
        try:
            rows = connection.execute("SELECT sha256, suffix, size_bytes FROM files ORDER BY sha256").fetchall()
            schema = int(connection.execute("PRAGMA user_version").fetchone()[0])
        finally:
            connection.close()
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "schema_version": schema,
                    "created_at": _now(), "database_sha256": _sha256(snapshot),
                    "files": [[sha, suffix, size] for sha, suffix, size in rows]}
        try:
            descriptor, name = tempfile.mkstemp(prefix=f".{archive.name[:100]}.", suffix=".part", dir=parent)
        except OSError as error:
            raise ClinicError(f"{archive}: cannot write here ({error.strerror or error})") from None
        temporary = Path(name)
        stack.callback(temporary.unlink, True)
        with os.fdopen(descriptor, "wb") as raw:
            opened = (tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) if _compressed(archive)
                      else tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT))
            with opened as tar:
                data = json.dumps(manifest, indent=1).encode("utf-8")
                info = tarfile.TarInfo(_MANIFEST)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
                tar.add(snapshot, arcname=_DB, recursive=False)
                for sha, suffix, size in rows:
                    path = store._file_name(sha, suffix)
                    name = f"files/{sha[:2]}/{sha}{suffix}"
                    if not path.is_file():
                        raise ClinicError(f"{path}: missing from the clinic folder (the database lists it); "
                                          "no backup written")
                    info = tar.gettarinfo(str(path), arcname=name)
                    if info.size != size:
                        raise ClinicError(f"{path}: {info.size} bytes, the database says {size}; no backup written")
                    with path.open("rb") as handle:
                        checked = _HashingReader(handle)
                        tar.addfile(info, checked)
                    if checked.hexdigest() != sha:
                        raise ClinicError(f"{path}: its content no longer matches its SHA-256 (damaged file); "
                                          "no backup written")
            raw.flush()
            os.fsync(raw.fileno())
        try:
            os.link(temporary, archive)  # appears complete, and never over a file that appeared meanwhile
        except FileExistsError:
            raise ClinicError(f"{archive}: already exists (a backup never replaces a file; choose another name)"
                              ) from None
        except OSError as error:
            raise ClinicError(f"{archive}: cannot write ({error.strerror or error})") from None
    return archive


class _HashingReader(io.RawIOBase):
    """Reads through ``source`` and hashes what it read."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self._digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._digest.update(data)
        return data

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def _refuse(archive: Path, problem: str) -> ClinicError:
    return ClinicError(f"{archive}: {problem}; nothing was restored")


def restore(archive: Path, folder: Path) -> Path:
    """Restore ``archive`` into ``folder`` (absent or empty); return the folder. Open it with ClinicStore.open."""
    archive, folder = Path(archive), Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ClinicError(f"{folder}: not an empty folder; a clinic is restored into an empty one only")
    if not archive.is_file():
        raise ClinicError(f"{archive}: no such backup file")
    parent = folder.parent if str(folder.parent) else Path(".")
    if not parent.is_dir():
        raise ClinicError(f"{folder}: its folder {parent} does not exist (create it first)")
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name[:100]}.restore-", dir=parent))
    try:
        _extract(archive, work)
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.rename(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder


def _extract(archive: Path, work: Path) -> None:
    try:
        tar = tarfile.open(archive, mode="r:*")
    except (tarfile.TarError, OSError) as error:
        raise _refuse(archive, f"not a clinic backup ({str(error)[:120]})") from None
    seen: dict[str, tuple[str, int]] = {}
    manifest: dict[str, Any] | None = None
    database = None
    with tar:
        try:
            for member in tar:
                if not member.isfile():
                    raise _refuse(archive, f"holds {member.name[:120]!r}, which is not a regular file")
                if member.name == _MANIFEST:
                    if member.size > _MAX_MANIFEST_BYTES:
                        raise _refuse(archive, "its manifest is implausibly large")
                    handle = tar.extractfile(member)
                    assert handle is not None
                    try:
                        manifest = json.loads(handle.read().decode("utf-8"))
                    except (ValueError, UnicodeDecodeError):
                        raise _refuse(archive, "its manifest is not JSON") from None
                    continue
                if member.name == _DB:
                    target = work / _DB
                    database = target
                else:
                    match = _FILE.match(member.name)
                    if not match or match.group(1) != match.group(2)[:2]:
                        raise _refuse(archive, f"holds {member.name[:120]!r}, which is no part of a clinic backup")
                    target = work / "files" / match.group(1) / f"{match.group(2)}{match.group(3)}"
                if member.name in seen:
                    raise _refuse(archive, f"holds {member.name[:120]!r} twice")
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                with target.open("xb") as writer:
                    sha, size = _copy_hashing(source, writer)
                    writer.flush()
                    os.fsync(writer.fileno())
                seen[member.name] = (sha, size)
                match = _FILE.match(member.name)
                if match and sha != match.group(2):
                    raise _refuse(archive, f"{member.name} does not match its SHA-256 (damaged archive)")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise _refuse(archive, f"cannot be read to the end ({str(error)[:120]})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(archive, "not a clinic backup (no insole-clinic-backup manifest)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(archive, f"backup format {manifest.get('format_version')!r} is not one this insole reads "
                               f"({FORMAT_VERSION})")
    if database is None or seen[_DB][0] != manifest.get("database_sha256"):
        raise _refuse(archive, "its database is missing or does not match the manifest")
    listed = {(f"files/{sha[:2]}/{sha}{suffix}", size) for sha, suffix, size in manifest.get("files", [])}
    present = {(name, size) for name, (_, size) in seen.items() if name != _DB}
    if listed != present:
        raise _refuse(archive, f"its files differ from its manifest ({len(listed ^ present)} differ)")
    _check_database(archive, database, present)
    for sub in ("captures", "tmp", "files"):
        (work / sub).mkdir(exist_ok=True)


def _check_database(archive: Path, database: Path, present: set[tuple[str, int]]) -> None:
    try:
        connection = sqlite3.connect(database)
    except sqlite3.Error as error:
        raise _refuse(archive, f"its database cannot be opened ({error})") from None
    try:
        if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise _refuse(archive, "its database fails SQLite's integrity check")
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > latest_version():
            raise _refuse(archive, f"its schema version {version} is newer than this insole knows "
                                   f"({latest_version()}); update insole to restore it")
        rows = connection.execute("SELECT sha256, suffix, size_bytes FROM files").fetchall()
    except sqlite3.Error as error:
        raise _refuse(archive, f"its database cannot be read ({error})") from None
    finally:
        connection.close()
    named = {(f"files/{sha[:2]}/{sha}{suffix}", size) for sha, suffix, size in rows}
    if named != present:
        raise _refuse(archive, f"its database and its files disagree ({len(named ^ present)} differ)")

"""The clinic database's schema: SQL migrations applied in order, the version in ``PRAGMA user_version``.

Each migration is a data file ``_migrations/NNNN_what.sql``; version N is the
schema after ``NNNN`` has run. Opening a database applies the missing ones,
each inside one transaction with the new ``user_version``, so a crash leaves
the old version or the new one. A database newer than this software knows is
refused (one line): an older insole must not write into a schema it does not
understand.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from dashboards._clinic_app._model import ClinicError

__all__ = ["migrations", "latest_version", "migrate", "connect"]

_MIGRATIONS = Path(__file__).with_name("_migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration, in version order (versions 1, 2, ... without gaps)."""
    found = []
    for entry in _MIGRATIONS.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"clinic migrations must be numbered 1, 2, ... without gaps; found {versions}")
    return found


def latest_version() -> int:
    return len(migrations())


def connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` the way the store uses it: autocommit (transactions are explicit), WAL, foreign keys on."""
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA busy_timeout = 30000")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ClinicError(f"{path}: cannot use write-ahead logging here (journal mode {mode})")
        # FULL: a committed change survives a power cut too (NORMAL would keep the database intact but might lose
        # the last commits); a clinic writes little, so the extra sync per commit costs nothing noticeable
        connection.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as error:
        connection.close()
        raise ClinicError(f"{path}: not a clinic database ({error})") from None
    except BaseException:
        connection.close()
        raise
    return connection


def migrate(connection: sqlite3.Connection, path: Path) -> int:
    """Bring the database to the latest schema; return the version it had. A newer one is refused."""
    known = migrations()
    try:
        current = int(connection.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as error:
        raise ClinicError(f"{path}: not a clinic database ({error})") from None
    if current > len(known):
        raise ClinicError(
            f"{path}: schema version {current} is newer than this insole knows ({len(known)}); "
            "update insole to open this clinic"
        )
    for version, name, sql in known[current:]:
        # executescript runs the file as is; the explicit BEGIN/COMMIT make it one transaction with the version
        try:
            connection.executescript(f"BEGIN IMMEDIATE;\n{sql}\n;PRAGMA user_version = {version};\nCOMMIT;")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise ClinicError(f"{path}: migration {name} failed ({error}); the database is unchanged") from None
    return current

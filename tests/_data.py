"""Where the real datasets are, for every test: one rule, usable from module-level constants.

The folder is ``$INSOLE_SHARED_DATA`` when that exists, else ``../shared/data``
beside the repository. A test module writes ``SHARED = shared_data_dir()`` and
builds its paths from it; ``tests/conftest.py`` marks every test that reads
below it ``realdata`` and skips those tests, with ``missing_reason()``, on a
machine without the data (a fresh clone, a wheel build), instead of failing
them one by one on a missing file.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "INSOLE_SHARED_DATA"
REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "data"


def _candidates() -> list[Path]:
    named = os.environ.get(ENV)
    return ([Path(named).expanduser().resolve()] if named else []) + [DEFAULT]


def shared_data_dir() -> Path:
    """The real-data folder: the first of ``$INSOLE_SHARED_DATA`` and ``../shared/data`` that exists.

    When neither exists this is still a path (the first candidate), so that
    module-level constants built from it can be defined; the tests that use
    them are skipped (``missing_reason``).
    """
    candidates = _candidates()
    return next((c for c in candidates if c.is_dir()), candidates[0])


def missing_reason() -> str | None:
    """Why the real-data tests are skipped here, or None when the data folder exists."""
    if shared_data_dir().is_dir():
        return None
    looked = " or ".join(str(c) for c in _candidates())
    return f"real datasets not found (looked in {looked}); set {ENV} to the folder holding gaitndd/, gaitpdb/, ..."


def is_real_data(value: object, root: Path | None = None, _depth: int = 0) -> bool:
    """True for a path (or path string) below the data folder, or a list, tuple or dict holding one."""
    root = shared_data_dir() if root is None else root
    if isinstance(value, Path):
        return value == root or root in value.parents
    if isinstance(value, str):
        return value.startswith(str(root) + os.sep)
    if isinstance(value, dict):
        items: list[object] = list(value.values())
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    else:
        return False
    # nested a little (lists of (path, expected) pairs); deeper structures are not path tables
    return _depth < 3 and any(is_real_data(v, root, _depth + 1) for v in items)

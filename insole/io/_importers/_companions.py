"""Companion files found beside a data file: they must stay in its folder.

A data file's partners (a WFDB header's signal and stride tables, a CSV's
column mapping or sidecar, a dataset's subject table) are looked up by name
in the data file's own folder. A symbolic link there that leads out of the
folder is not followed: reading it would copy a file the user never gave us
into converted files, dashboards and tables. (A hard link cannot be told
from the file itself; a folder's own files are the user's.)
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["beside", "in_folder"]


def in_folder(folder: Path, candidate: Path) -> bool:
    """True when ``candidate`` is a regular file whose real location is ``folder``."""
    try:
        return candidate.is_file() and candidate.resolve().parent == folder.resolve()
    except (OSError, RuntimeError):  # unreadable, or a symbolic-link loop
        return False


def beside(data_path: Path, candidate: Path) -> bool:
    """True when ``candidate`` is a regular file whose real location is the folder of ``data_path``."""
    return in_folder(data_path.parent, candidate)

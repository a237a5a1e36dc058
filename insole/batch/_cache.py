"""The batch cache: finished rows keyed by what the recording is made of and how it was analysed.

The key is a SHA-256 over the recording's content digest (every file it is
made of, ``_discover.content_files``), the analysis parameters, whether
findings were evaluated, the insole version, the batch row schema and a
digest of insole's own source files (so an edited analysis, in a
development install where the version does not change, is not served
from the cache). A
re-run with the same files and parameters finds every row here and analyses
nothing; change a byte of a file (or of the demographics table beside it), a
parameter or the insole version, and that recording is analysed again.

One entry per key: ``<key>.json`` (the row; JSON keeps Python floats exactly,
NaN included) and, when the per-stride table was asked for,
``<key>.strides.parquet``. Failures are not cached: a file that failed is
tried again next time. Entries are written by the driver (workers need not
see the cache), each through a temporary file and an atomic rename.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from insole._version import __version__

__all__ = ["BatchCache", "cache_key", "code_digest", "ROW_SCHEMA_VERSION"]

# Bump when the row's columns change meaning, so old cache entries are not reused.
ROW_SCHEMA_VERSION = "2"


@lru_cache(maxsize=1)
def code_digest(root: Path | None = None) -> str:
    """SHA-256 over the path and bytes of every ``.py`` file of the insole package (about 1 MB) and of the data
    files the findings read (``insole/report/_data``: reference sets, MDC95s, norms, evidence): a rebuilt reference
    changes a finding as surely as a changed rule does, so a cached row made before it is not reused."""
    root = root if root is not None else Path(__file__).resolve().parents[1]  # the package (another for a test)
    digest = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *(p for p in (root / "report" / "_data").rglob("*") if p.is_file())]):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(content_digest: str, params: Mapping[str, Any], findings: bool) -> str:
    """The cache key of one recording analysed with ``params``."""
    recipe = json.dumps(
        {
            "content": content_digest,
            "params": dict(params),
            "findings": bool(findings),
            "insole": __version__,
            "code": code_digest(),
            "row_schema": ROW_SCHEMA_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(recipe.encode()).hexdigest()


class BatchCache:
    """Rows (and stride tables) on disk under ``folder``; ``folder=None`` caches nothing."""

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None

    def _paths(self, key: str) -> tuple[Path, Path]:
        assert self.folder is not None
        base = self.folder / key[:2]
        return base / f"{key}.json", base / f"{key}.strides.parquet"

    def get(self, key: str, need_strides: bool) -> tuple[dict[str, Any], pd.DataFrame | None] | None:
        """The cached (row, strides) or None when absent, unreadable, or missing the strides asked for."""
        if self.folder is None:
            return None
        row_path, strides_path = self._paths(key)
        try:
            row = json.loads(row_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        strides = None
        if need_strides:
            try:
                # a damaged page fails its checksum (OSError): the recording is analysed again
                strides = pd.read_parquet(strides_path, page_checksum_verification=True)
            except (OSError, ValueError, ImportError):
                return None
        return row, strides

    def put(self, key: str, row: Mapping[str, Any], strides: pd.DataFrame | None) -> None:
        if self.folder is None:
            return
        row_path, strides_path = self._paths(key)
        row_path.parent.mkdir(parents=True, exist_ok=True)
        if strides is not None:
            tmp = strides_path.with_name(f"{strides_path.name}.{os.getpid()}.tmp")
            strides.to_parquet(tmp, index=False, write_page_checksum=True)
            os.replace(tmp, strides_path)
        tmp = row_path.with_name(f"{row_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(dict(row), allow_nan=True), encoding="utf-8")
        os.replace(tmp, row_path)

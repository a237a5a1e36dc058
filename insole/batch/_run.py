"""``run_batch``: discover, skip what the cache has, run the rest on an engine, write the tables.

Outputs, for ``--out cohort.parquet``:

``cohort.parquet``
    one row per analysed recording (docs/batch.md lists the columns), rows
    sorted by ``recording_id`` then ``path``; the provenance (insole version,
    analysis and findings parameters, inputs, engine, counts) is JSON under
    the Parquet schema metadata key ``insole.batch``.
``cohort.errors.csv``
    one row per recording (or named input) that could not be analysed:
    ``recording_id, path, format, stage, error_type, reason``; written on
    every run, with only its header when nothing failed.
``cohort.strides.parquet`` (``strides=True``)
    every stride of every recording, ``recording_id`` and ``side`` first.

The output policy of every command (``insole._output``): each table is
checked before any work (an existing file is refused unless ``force``; a
recording, that is any file an importer recognises other than a table this
command wrote, even with it; a missing or read-only folder always), and is
written beside its name and renamed, so it appears whole or not at all. The
tables themselves are never taken for inputs. Text cells of the errors table
that a spreadsheet would run as a formula get a leading quote
(``spreadsheet_safe``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from insole._digest import file_sha256, recording_bytes_sha256
from insole._errors import InputError, MissingExtraError, OutputError, UnknownFormatError, error_line
from insole._output import atomic_path, check_target, same_file
from insole._recording_format import META_KEY
from insole._subject_tables import SUBJECT_TABLES
from insole._version import __version__
from insole.analysis import AnalysisParams
from insole.batch._cache import ROW_SCHEMA_VERSION, BatchCache, cache_key
from insole.batch._discover import (
    BATCH_TABLE_KEY,
    Candidate,
    Discovery,
    FolderIndex,
    content_digest,
    content_files,
    discover,
    missing_input,
)
from insole.batch._engines import EngineSpec, run_jobs
from insole.batch._task import Job, error_record
from insole.io import detect_format, spreadsheet_safe

__all__ = [
    "run_batch",
    "BatchResult",
    "read_cohort",
    "output_paths",
    "METADATA_KEY",
    "BATCH_SCHEMA_VERSION",
    "ERROR_COLUMNS",
    "refuse_recording",
    "refuse_missing_inputs",
]

METADATA_KEY = BATCH_TABLE_KEY
BATCH_SCHEMA_VERSION = "1.0"
ERROR_COLUMNS = ("recording_id", "path", "format", "stage", "error_type", "reason")


@dataclass(frozen=True)
class BatchResult:
    """What a batch produced: the tables (as written), where they are, and the counts."""

    cohort: pd.DataFrame
    errors: pd.DataFrame
    strides: pd.DataFrame | None
    paths: Mapping[str, Path]
    provenance: Mapping[str, Any]
    n_from_cache: int
    n_skipped_files: int
    elapsed_s: float
    engine: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    written: tuple[str, ...] = ("cohort", "errors", "strides")

    def summary_line(self) -> str:
        """One line for people: how many were analysed, failed, came from the cache; where the tables are."""
        n_ok, n_err = len(self.cohort), len(self.errors)
        parts = [f"{n_ok + n_err} recording{'s' if n_ok + n_err != 1 else ''}: {n_ok} analysed"]
        if self.n_from_cache:
            parts[-1] += f" ({self.n_from_cache} from the cache)"
        parts.append(f"{n_err} failed")
        text = ", ".join(parts) + f" in {self.elapsed_s:.1f} s"
        if "cohort" in self.written:
            text += f" -> {self.paths['cohort']}"
        else:
            text += f"; no recording could be analysed, so no cohort table was written ({self.paths['cohort']})"
        text += f"; errors table: {self.paths['errors']}"
        if "strides" in self.paths and "strides" in self.written:
            text += f"; strides: {self.paths['strides']}"
        if self.n_skipped_files:
            plural = "s" if self.n_skipped_files != 1 else ""
            text += f"; {self.n_skipped_files} other file{plural} skipped (not recordings)"
        return text


def output_paths(out: str | Path, strides: bool = False) -> dict[str, Path]:
    """``cohort.parquet`` -> the cohort, ``cohort.errors.csv`` and (``strides``) ``cohort.strides.parquet``."""
    out = Path(out)
    stem = out.name[: -len(".parquet")] if out.name.endswith(".parquet") else out.name
    paths = {"cohort": out, "errors": out.with_name(f"{stem}.errors.csv")}
    if strides:
        paths["strides"] = out.with_name(f"{stem}.strides.parquet")
    return paths


def default_cache_folder(out: str | Path) -> Path:
    """The cache beside the output: ``<folder of out>/.insole-cache``."""
    return Path(out).resolve().parent / ".insole-cache"


@dataclass
class _Pending:
    candidate: Candidate
    key: str
    sha256: str


def run_batch(
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    params: AnalysisParams | None = None,
    engine: EngineSpec | None = None,
    strides: bool = False,
    findings: bool = True,
    force: bool = False,
    refresh: bool = False,
    cache: str | Path | None | bool = True,
    progress: bool = True,
    progress_file: Any = None,
    on_engine: Callable[[Mapping[str, Any]], None] | None = None,
) -> BatchResult:
    """Analyse every recording under ``inputs`` and write the cohort tables (see the module docstring).

    ``force`` replaces tables that already exist (without it they are an
    ``OutputError``, raised before any work). ``refresh`` analyses everything
    again (and refreshes the cache). ``cache`` True: the default folder
    beside ``out``; a path: that folder (its parent must exist); False/None:
    no cache. ``progress`` draws a tqdm bar on ``progress_file`` (stderr).
    """
    started = time.perf_counter()
    params = params if params is not None else AnalysisParams()
    engine = engine if engine is not None else EngineSpec()
    refuse_missing_inputs(inputs)
    paths = output_paths(out, strides)
    named = [Path(i) for i in inputs if Path(i).is_file()]
    for path in paths.values():
        refuse_recording(path, named)
        check_target(path, force=force, inputs=named)
    folder = default_cache_folder(out) if cache is True else (Path(cache) if cache else None)
    if folder is not None:
        check_target(folder, folder=True)
    store = BatchCache(folder)
    notes: list[str] = []

    found = _without_outputs(discover(inputs), paths.values(), folder)
    for path in paths.values():
        check_target(path, force=force, inputs=[c.path for c in found.recordings])
    if not found.recordings and not found.problems:
        where = ", ".join(found.inputs) or "(no inputs)"
        n_own = len(found.own_tables)
        own = f" (only {n_own} table{'s' if n_own != 1 else ''} that insole wrote: not recordings)" if n_own else ""
        raise InputError(where, f"no supported recordings found{own}")
    if (own_note := _own_tables_note(found.own_tables)) is not None:
        notes.append(own_note)
    errors = [error_record(str(p.path), p.format, p.error_type, p.reason, "discover") for p in found.problems]

    pending, rows, stride_tables, hash_errors, identity = _plan(found, params, findings, strides, refresh, store)
    errors.extend(hash_errors)
    n_cached = len(rows)
    jobs = [
        Job(str(p.candidate.path), p.candidate.format, p.sha256, params.to_dict(), strides, findings) for p in pending
    ]
    key_of = {str(p.candidate.path): p.key for p in pending}

    engine_info: dict[str, Any] = {**engine.describe()}
    bar = _progress_bar(len(found.recordings), n_cached, progress, progress_file)
    failed = len(errors)

    def started_engine(info: Mapping[str, Any]) -> None:
        engine_info.update(info)
        if on_engine:
            on_engine(info)

    try:
        if bar is not None:
            bar.set_postfix(failed=failed, refresh=False)
        for result in run_jobs(jobs, engine, on_start=started_engine):
            if result["ok"]:
                row = result["row"]
                rows.append(row)
                if result.get("strides") is not None:
                    stride_tables[row["path"]] = result["strides"]
                try:
                    store.put(key_of[row["path"]], row, result.get("strides"))
                except OSError as error:  # a cache that cannot be written costs speed next time, not this batch
                    notes.append(f"the cache {store.folder} cannot be written ({error.strerror or error}); "
                                 "rows were not cached")
                    store = BatchCache(None)
            else:
                errors.append(result["error"])
                failed += 1
            if bar is not None:
                bar.set_postfix(failed=failed, refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    cohort, duplicated = _mark_duplicates(cohort_frame(rows), identity)
    if duplicated:
        notes.append(duplicated)
    undescribed = _without_subject_table(rows)
    if undescribed:
        notes.append(undescribed)
    error_table = pd.DataFrame(sorted(errors, key=lambda e: (e["path"], e["stage"])), columns=list(ERROR_COLUMNS))
    stride_table = _stride_frame(cohort, stride_tables) if strides else None
    provenance = {
        "schema": "insole.batch",
        "schema_version": BATCH_SCHEMA_VERSION,
        "row_schema_version": ROW_SCHEMA_VERSION,
        "software": "insole",
        "version": __version__,
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": list(found.inputs),
        "analysis_parameters": params.to_dict(),
        "findings": _findings_provenance() if findings else {"status": "not requested"},
        "engine": engine_info,
        "counts": {
            "recordings": int(len(cohort)),
            "errors": int(len(error_table)),
            "from_cache": int(n_cached),
            "skipped_files": len(found.skipped),
        },
        # beside "counts" (whose keys readers of earlier tables know): tables insole wrote that were not taken
        # for recordings, and rows whose recording repeats another row's byte for byte (duplicate_of)
        "insole_tables_skipped": len(found.own_tables),
        "duplicate_rows": int((cohort["duplicate_of"] != "").sum()) if len(cohort) else 0,
        "tables": {name: path.name for name, path in paths.items()},
        "units": "in the column names (_s, _hz, _n, _kpa, _bw, _pct, ...); docs/batch.md",
        **({"notes": list(notes)} if notes else {}),
    }
    written = ["errors"]
    if len(cohort):
        _write_parquet(cohort, paths["cohort"], provenance, force=force)
        written.append("cohort")
        if stride_table is not None:
            _write_parquet(stride_table, paths["strides"], provenance, force=force)
            written.append("strides")
    else:  # nothing analysed: no cohort (or strides) table, rather than an empty one; an earlier one is removed
        for name in ("cohort", "strides"):
            if name in paths and _remove_own_table(paths[name]):
                notes.append(f"the {name} table {paths[name]} of an earlier run was removed (--force replaces it, "
                             "and this run has no rows to put there)")
    _write_csv(error_table, paths["errors"], force=force)
    return BatchResult(
        cohort=cohort,
        errors=error_table,
        strides=stride_table,
        paths=paths,
        provenance=provenance,
        n_from_cache=n_cached,
        n_skipped_files=len(found.skipped),
        elapsed_s=time.perf_counter() - started,
        engine=engine_info,
        notes=tuple(notes),
        written=tuple(written),
    )


def _without_subject_table(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """A note naming the recordings of a described dataset that were read without their subject facts, or None.

    Copied out of their dataset folder without its table, such a file has no body mass: its body weight is
    estimated from its load and every metric in BW differs from the same file's in its folder."""
    missing = sorted(str(r["recording_id"]) for r in rows
                     if r.get("format") in SUBJECT_TABLES and not r.get("subject_facts_source"))
    if not missing:
        return None
    tables = " or ".join(sorted({SUBJECT_TABLES[str(r["format"])] for r in rows
                                 if str(r["recording_id"]) in missing and r.get("format") in SUBJECT_TABLES}))
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return (f"{len(missing)} recording{'s' if len(missing) != 1 else ''} ({shown}) had no subject facts (body mass, "
            f"sex, age): no {tables} beside the file, or no row for it there. A calibrated recording without a body "
            "mass has its body weight estimated from its load, so its BW metrics differ from the same file's in its "
            "dataset folder")


def refuse_missing_inputs(inputs: Sequence[str | Path]) -> None:
    """Refuse a batch one of whose inputs names nothing: an ``InputError`` (exit 2), before any work or output.

    A folder or file that does not exist and a glob that matches nothing are a
    mistake on the command line (a typo, the wrong folder), not a recording that
    failed: the batch would otherwise run on the rest and the mistake would only
    show as a row of its errors table. The line names every such input."""
    missing = [(raw, reason) for raw in inputs if (reason := missing_input(raw)) is not None]
    if not missing:
        return
    (first, reason), rest = missing[0], missing[1:]
    also = f" (nor is there anything at {', '.join(repr(os.fspath(r)) for r, _ in rest)})" if rest else ""
    raise InputError(os.fspath(first), f"{reason}{also}; nothing was analysed")


def refuse_recording(path: str | Path, inputs: Sequence[str | Path] = ()) -> None:
    """Refuse an output ``path`` that holds a recording, even with --force: an ``OutputError`` (exit 2).

    A recording is any file an importer recognises by content (what the
    discovery would take as input), except a table ``insole batch`` wrote
    (its Parquet carries the ``insole.batch`` metadata), which --force may
    replace. A missing file, an empty one or one no importer knows is left to
    ``check_target`` and the usual --force policy, and so is one of the named
    ``inputs`` (``check_target`` says "is one of this command's inputs").
    """
    path = Path(path)
    if not path.is_file() or _is_batch_table(path) or any(same_file(path, i) for i in inputs):
        return
    try:
        format_name = detect_format(path)
    except (UnknownFormatError, InputError, OSError):  # not a recording (or unreadable: check_target says so)
        return
    if format_name == "parquet" and not _is_our_recording(path):  # a table of another writer (pandas), not a recording
        return
    raise OutputError(path, f"is a recording ({format_name}); it is never overwritten, even with --force "
                            "(choose another name for the table)")


def _schema_metadata(path: Path) -> dict[bytes, bytes]:
    """The key-value metadata of a Parquet file's schema ({} when it cannot be read as Parquet)."""
    try:
        return dict(pq.read_schema(path).metadata or {})
    except (pa.ArrowException, OSError, ValueError):
        return {}


def _is_our_recording(path: Path) -> bool:
    """Whether a Parquet file holds one of our recordings (its schema carries the recording's description):
    Parquet is recognised by its first bytes alone, which any table shares."""
    return META_KEY in _schema_metadata(path)


def _is_batch_table(path: Path) -> bool:
    """Whether ``path`` is a Parquet table written by ``insole batch`` (cohort or strides)."""
    return METADATA_KEY in _schema_metadata(path)


def _remove_own_table(path: Path) -> bool:
    """Remove an earlier run's table at ``path`` (already checked: ours, and --force given); True if removed."""
    if not path.is_file() or not _is_batch_table(path):
        return False
    try:
        path.unlink()
    except OSError as error:
        raise OutputError(path, f"cannot be removed ({error.strerror or error})") from None
    return True


def _without_outputs(found: Discovery, outputs: Any, cache: Path | None) -> Discovery:
    """``found`` less the batch's own tables and cache (a re-run into the studied folder must not read them)."""
    own = [Path(p) for p in outputs if Path(p).exists()]
    cache_root = cache.resolve() if cache is not None else None

    def ours(path: Path) -> bool:
        if cache_root is not None and (path.resolve() == cache_root or cache_root in path.resolve().parents):
            return True
        return any(same_file(path, o) for o in own)

    return Discovery(
        recordings=tuple(c for c in found.recordings if not ours(c.path)),
        problems=tuple(p for p in found.problems if not ours(p.path)),
        skipped=tuple(p for p in found.skipped if not ours(p)),
        inputs=found.inputs,
        own_tables=tuple(p for p in found.own_tables if not ours(p)),
    )


def _own_tables_note(tables: Sequence[Path]) -> str | None:
    """A note naming the tables insole wrote that the batch found among the recordings and left out, or None."""
    if not tables:
        return None
    folders = sorted({str(p.parent) for p in tables})
    shown = ", ".join(folders[:3]) + (f" and {len(folders) - 3} more folders" if len(folders) > 3 else "")
    n = len(tables)
    return (f"{n} Parquet table{'s' if n != 1 else ''} that insole wrote (analysis tables of insole analyze --tables "
            f"or export --to tables, listed in the tables.json beside them; tables of insole batch) "
            f"{'were' if n != 1 else 'was'} skipped: not recordings (in {shown})")


def _findings_provenance() -> dict[str, Any]:
    from insole.batch._findings import findings_provenance

    return findings_provenance()


def _plan(found: Discovery, params: AnalysisParams, findings: bool, strides: bool, refresh: bool,
          store: BatchCache):
    """Hash every recording (threads: hashing releases the GIL), look each up in the cache."""
    index = FolderIndex()
    memo: dict[Path, str] = {}
    # the folder listings and shared description tables first, so the threads only read recordings
    parts = [content_files(c.path, index) for c in found.recordings]

    def digest(files: tuple[Path, ...]) -> tuple[str, str] | OSError:
        try:
            return content_digest(files, memo)
        except OSError as error:
            return error

    with ThreadPoolExecutor(max_workers=4) as pool:
        digests = list(pool.map(digest, parts))
    pending: list[_Pending] = []
    rows: list[dict[str, Any]] = []
    stride_tables: dict[str, pd.DataFrame] = {}
    errors: list[dict[str, Any]] = []
    identity: dict[str, str] = {}
    for candidate, files, result in zip(found.recordings, parts, digests):
        if isinstance(result, OSError):
            reason = f"cannot be read ({result.strerror or result})"
            errors.append(error_record(str(candidate.path), candidate.format, "InputError", reason, "discover"))
            continue
        sha256, combined = result
        identity[str(candidate.path)] = _recording_identity(candidate, files, memo)
        key = cache_key(combined, params.to_dict(), findings)
        hit = None if refresh else store.get(key, strides)
        if hit is None:
            pending.append(_Pending(candidate, key, sha256))
            continue
        row, table = hit
        if row.get("path") != str(candidate.path):
            # same bytes at another path (a copied folder): the analysis holds, the identity is this file's
            row = {**row, "path": str(candidate.path), "file": candidate.path.name,
                   "recording_id": candidate.recording_id}
            if table is not None:
                table = table.assign(recording_id=candidate.recording_id)
        rows.append(row)
        if table is not None:
            stride_tables[str(candidate.path)] = table
    return pending, rows, stride_tables, errors, identity


def _recording_identity(candidate: Candidate, files: Sequence[Path], memo: Mapping[Path, str]) -> str:
    """The bytes that make the recording, as one digest: two files with the same one are the same recording.

    The rule the reference sets use (``recording_bytes_sha256``): the file's own SHA-256 (the ``sha256``
    column); for a WFDB record its signal files' instead (the header carries the record's name, so two copies of
    one walk under two names differ only there; two headers with different signals are different recordings).
    Names, folders and the description tables beside it do not count: a copy of a file elsewhere, renamed or
    without its demographics, is still the same walk of the same person. The files hashed for the row already
    (``memo``) are not read again."""
    return recording_bytes_sha256(files[0], digest=lambda path: memo.get(path) or file_sha256(path))


def _mark_duplicates(cohort: pd.DataFrame, identity: Mapping[str, str]) -> tuple[pd.DataFrame, str | None]:
    """The cohort with ``duplicate_of`` (after ``size_bytes``), and a note naming the copies, or None.

    Rows whose recordings have the same bytes (``_recording_identity``) are one recording counted more than once:
    the first in the table's order has ``duplicate_of`` empty, each other names the first's path. Filtering on an
    empty ``duplicate_of`` keeps every recording once."""
    if not len(cohort):
        return cohort, None
    keys = cohort["path"].map(lambda path: identity.get(str(path), f"path:{path}"))
    first_path = cohort.groupby(keys, sort=False)["path"].transform("first")
    duplicate_of = [str(first) if first != path else "" for path, first in zip(cohort["path"], first_path)]
    at = cohort.columns.get_loc("size_bytes") + 1 if "size_bytes" in cohort.columns else len(cohort.columns)
    cohort = cohort.copy()
    cohort.insert(int(at), "duplicate_of", pd.Series(duplicate_of, index=cohort.index, dtype="str"))
    copies = [d for d in duplicate_of if d]
    if not copies:
        return cohort, None
    groups: dict[str, list[str]] = {}
    for path, first in zip(cohort["path"], duplicate_of):
        if first:
            groups.setdefault(first, []).append(str(path))
    shown = "; ".join(f"{', '.join(others)} of {first}" for first, others in list(groups.items())[:3])
    more = f"; and {len(groups) - 3} more" if len(groups) > 3 else ""
    n = len(copies)
    note = (f"{n} recording{'s are copies' if n != 1 else ' is a copy'} of another in this batch, byte for byte "
            f"(the same SHA-256): {shown}{more}. Each copy keeps its row, with duplicate_of naming the first; leave "
            "the rows with a duplicate_of out of a cohort statistic, or that recording counts more than once")
    return cohort, note


def _progress_bar(total: int, initial: int, enabled: bool, file: Any):
    if not enabled or total == 0:  # nothing to analyse (every input failed before): the summary line says so
        return None
    try:
        from tqdm import tqdm
    except ModuleNotFoundError:
        raise MissingExtraError("batch", "tqdm") from None

    return tqdm(
        total=total, initial=initial, desc="insole batch", unit="rec", file=file or sys.stderr,
        mininterval=0.5, dynamic_ncols=True, smoothing=0.1,
    )


def cohort_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per recording, sorted by ``recording_id`` then ``path``; columns in first-seen order."""
    ordered = sorted(rows, key=lambda r: (str(r["recording_id"]), str(r["path"])))
    frame = pd.DataFrame.from_records(ordered) if ordered else pd.DataFrame(columns=["recording_id", "path"])
    return _consistent_types(frame)


_TEXT_COLUMNS = frozenset({"sex", "subject_facts_source", "body_weight_source", "si_not_comparable"})


def _consistent_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Mixed Python types in one column (a number here, text there) become text, so Parquet can hold them."""
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        kinds = {type(v) for v in frame[column] if v is not None and not (isinstance(v, float) and v != v)}
        if len(kinds) > 1 and not kinds <= {int, float}:
            frame[column] = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in frame[column]]
    # the finding columns are text (a confidence, a side, a list): text whatever the rows hold, so that a cohort in
    # which no recording has a finding on a side has the same column type as one in which some do
    # the same for the text columns that can be empty in every row of a cohort (no subject table read, calibrated
    # insoles throughout)
    for column in frame.columns:
        text = str(column).startswith("finding") or column in _TEXT_COLUMNS
        if text and frame[column].dtype == object and all(
                v is None or isinstance(v, str) or (isinstance(v, float) and v != v) for v in frame[column]):
            frame[column] = frame[column].astype("str")
    return frame


STRIDE_KEYS = ("recording_id", "side", "path", "duplicate_of")


def _stride_frame(cohort: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every stride of every recording, in the cohort's row order, each row keyed by ``STRIDE_KEYS``: the
    recording's id and the foot, then its path and ``duplicate_of`` from its cohort row. Two files can share an id
    (the same name in two folders) and a copy's strides are its original's again: the path tells the rows apart and
    an empty ``duplicate_of`` keeps each recording's strides once, as in the cohort table."""
    parts = []
    for path, duplicate_of in zip(cohort["path"], cohort["duplicate_of"]) if len(cohort) else ():
        table = tables.get(path)
        if table is None or not len(table):
            continue
        at = table.columns.get_loc("side") + 1
        table = table.copy()
        table.insert(int(at), "path", pd.Series(str(path), index=table.index, dtype="str"))
        table.insert(int(at) + 1, "duplicate_of", pd.Series(str(duplicate_of), index=table.index, dtype="str"))
        parts.append(table)
    if not parts:
        return pd.DataFrame({key: pd.Series(dtype=object) for key in STRIDE_KEYS})
    return pd.concat(parts, ignore_index=True)


def _write_parquet(frame: pd.DataFrame, path: Path, provenance: Mapping[str, Any], *, force: bool) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[METADATA_KEY] = json.dumps(provenance, allow_nan=False, default=str).encode()
    table = table.replace_schema_metadata(metadata)
    try:
        with atomic_path(path, force=force) as temporary:
            pq.write_table(table, temporary, compression="zstd", write_page_checksum=True)
    except OSError as error:
        raise OutputError(path, f"cannot be written ({error.strerror or error})") from None


def _write_csv(frame: pd.DataFrame, path: Path, *, force: bool) -> None:
    try:
        with atomic_path(path, force=force) as temporary:
            spreadsheet_safe(frame).to_csv(temporary, index=False)
    except OSError as error:
        raise OutputError(path, f"cannot be written ({error.strerror or error})") from None


def read_cohort(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A cohort (or strides) table written by ``run_batch``, and its provenance."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except (pa.ArrowException, OSError) as error:
        raise InputError(path, f"is not a readable Parquet file ({error_line(error)})") from None
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise InputError(path, "is not a cohort table written by 'insole batch' (no insole.batch metadata)")
    return table.to_pandas(), json.loads(raw)



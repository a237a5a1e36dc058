"""Finding the recordings under folders and globs, by content, and what each one is made of.

A folder is walked recursively; a glob is expanded (``**`` crosses folders).
Every file is sniffed with ``insole.io._load.detect_format``: a file no importer
recognises is skipped when it was found inside a folder (a README, a
demographics table, a vendor's PDF report) and is an error when it was named
on its own. A file that is recognised but unusable before loading (empty,
unreadable) is an error either way, so it shows up in the errors table.

A recording can span several files: a PhysioNet gaitndd record is a ``.hea``
header with ``.let``/``.rit`` signals, and any of the three opens it. Each
recording is listed once, under its canonical file (the header).

Tables insole itself wrote are not recordings, though Parquet is recognised by
its first bytes: a cohort or strides table of ``insole batch`` (schema key
``insole.batch``) and the tables of ``insole analyze --tables`` / ``insole
export --to tables`` (schema key ``insole.table`` naming the table; those
written before it carry no key, and are known by the ``tables.json`` insole
writes beside them). Found in a folder they are set apart in
``Discovery.own_tables`` (the batch names them in a note); named on their own
they are an error saying what they are.

``content_files`` names every file whose bytes can change what loading the
recording gives: the file itself, its siblings sharing its stem (WFDB
signals and stride table, a generic CSV's mapping, a stream's sidecar) and
the dataset description tables an importer reads from the same folder. The
cache key hashes all of them, so editing a demographics table re-runs the
recordings beside it.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from insole._digest import file_sha256
from insole._errors import InputError, UnknownFormatError
from insole._recording_format import BATCH_TABLE_KEY, META_KEY, TABLE_KEY
from insole._subject_tables import SUBJECT_TABLES
from insole.io import detect_format

__all__ = [
    "Candidate",
    "Problem",
    "Discovery",
    "FolderIndex",
    "discover",
    "missing_input",
    "insole_table",
    "content_files",
    "content_digest",
    "DESCRIPTION_TABLES",
]

# The schema metadata keys of insole's Parquet files: a recording's description, a table insole batch wrote.
RECORDING_KEY = META_KEY
# The manifest insole writes beside the tables of `insole analyze --tables` and `insole export --to tables`.
TABLES_MANIFEST = "tables.json"
# Tables that importers read from beside a recording (gaitpdb, gaitndd): part of the recording's content.
DESCRIPTION_TABLES = tuple(SUBJECT_TABLES.values())
_GLOB_CHARACTERS = set("*?[")
# WFDB signal files are opened through their header; listing both would analyse the record twice.
_WFDB_SIGNAL_SUFFIXES = (".let", ".rit")


@dataclass(frozen=True)
class Candidate:
    """One recording to analyse: its canonical file (absolute) and the format its content shows."""

    path: Path
    format: str

    @property
    def recording_id(self) -> str:
        """The file stem: ``GaPt03_01``, ``hunt1`` (the record of hunt1.hea/.let/.rit), ``230927_102114``."""
        return self.path.stem


@dataclass(frozen=True)
class Problem:
    """A file that looked like a recording (or was named as one) but cannot be opened."""

    path: Path
    reason: str
    error_type: str
    format: str | None = None


@dataclass(frozen=True)
class Discovery:
    """What ``discover`` found: recordings to analyse, problems, and how many other files were skipped."""

    recordings: tuple[Candidate, ...]
    problems: tuple[Problem, ...] = ()
    skipped: tuple[Path, ...] = ()
    inputs: tuple[str, ...] = field(default_factory=tuple)
    #: tables insole itself wrote (``insole analyze --tables``, ``insole batch``), found in a folder: not recordings
    own_tables: tuple[Path, ...] = ()


def missing_input(raw: str | Path) -> str | None:
    """Why an input names nothing ("no such file or folder", "no file matches this pattern"), or None.

    A glob is an input with ``*``, ``?`` or ``[`` that is not itself a file or folder."""
    text = os.fspath(raw)
    path = Path(text).expanduser()
    if path.is_dir() or path.is_file():
        return None
    if _GLOB_CHARACTERS & set(text):
        first = next(glob.iglob(os.path.expanduser(text), recursive=True), None)  # stops at the first match
        return None if first is not None else "no file matches this pattern"
    return "no such file or folder"


def _expand(inputs: Sequence[str | Path]) -> tuple[list[tuple[Path, bool]], list[Problem]]:
    """(file, named explicitly) for every input; folders walked, globs expanded, sorted within each input."""
    files: list[tuple[Path, bool]] = []
    problems: list[Problem] = []
    for raw in inputs:
        text = os.fspath(raw)
        path = Path(text).expanduser()
        if path.is_dir():
            found: list[Path] = []

            def unreadable(error: OSError, top: Path = path) -> None:  # os.walk would skip it without a word
                where = Path(error.filename) if error.filename else top
                problems.append(Problem(where, f"folder cannot be read ({error.strerror or error})", "InputError"))

            for root, dirs, names in os.walk(path, onerror=unreadable):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / n for n in names if not n.startswith("."))
            files.extend((p, False) for p in sorted(found))
        elif path.is_file():
            files.append((path, True))
        elif _GLOB_CHARACTERS & set(text):
            matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(text), recursive=True))
            if not matches:
                problems.append(Problem(path, "no file matches this pattern", "InputError"))
            for match in matches:
                if match.is_dir():
                    files.extend(_expand([match])[0])
                else:
                    files.append((match, False))
        else:
            problems.append(Problem(path, "no such file or folder", "InputError"))
    return files, problems


def _schema_metadata(path: Path) -> dict[bytes, bytes] | None:
    """The key-value metadata of a Parquet file's schema, or None when it cannot be read as Parquet."""
    try:
        return dict(pq.read_schema(path).metadata or {})
    except (pa.ArrowException, OSError, ValueError):
        return None


def _tables_manifest(folder: Path, memo: dict[Path, frozenset[str]]) -> frozenset[str]:
    """The table names a ``tables.json`` that insole wrote in ``folder`` lists (empty when there is none)."""
    if folder not in memo:
        names: frozenset[str] = frozenset()
        try:
            manifest = json.loads((folder / TABLES_MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None
        if (isinstance(manifest, dict) and str(manifest.get("writer", "")).startswith("insole ")
                and isinstance(manifest.get("tables"), dict)):
            names = frozenset(str(name) for name in manifest["tables"])
        memo[folder] = names
    return memo[folder]


def insole_table(path: Path, memo: dict[Path, frozenset[str]] | None = None) -> str | None:
    """What insole output a Parquet file is, when it is one of insole's tables and not a recording; else None.

    A recording carries its description under ``insole.recording``; a table
    ``insole batch`` wrote carries ``insole.batch``; the tables of ``insole
    analyze --tables`` and ``insole export --to tables`` carry ``insole.table``
    (older ones no key: they are listed in the ``tables.json`` insole wrote
    beside them). A
    Parquet file of another writer, or one that cannot be read, is None: the
    importer says what is wrong with it.
    """
    metadata = _schema_metadata(path)
    if metadata is None or RECORDING_KEY in metadata:
        return None
    if BATCH_TABLE_KEY in metadata:
        return "a table written by insole batch (cohort or strides)"
    if TABLE_KEY in metadata:  # an analysis table that names itself, wherever it was copied to
        try:
            name = str(json.loads(metadata[TABLE_KEY])["table"])
        except (ValueError, KeyError, TypeError):
            name = path.stem
        return f"an analysis table written by insole (its {name} table)"
    if path.suffix.lower() == ".parquet" and path.stem in _tables_manifest(path.parent, {} if memo is None else memo):
        return f"an analysis table written by insole (the {path.stem} table listed in {TABLES_MANIFEST} beside it)"
    return None


def _canonical(path: Path, format_name: str) -> Path:
    if format_name == "gaitndd" and path.suffix.lower() in _WFDB_SIGNAL_SUFFIXES:
        header = path.with_suffix(".hea")
        if header.is_file():
            return header
    return path


def discover(inputs: Sequence[str | Path]) -> Discovery:
    """Every supported recording under ``inputs`` (files, folders, globs), each once, in a stable order."""
    files, problems = _expand(inputs)
    recordings: dict[Path, Candidate] = {}
    skipped: list[Path] = []
    own_tables: list[Path] = []
    manifests: dict[Path, frozenset[str]] = {}
    seen: set[Path] = set()
    listed = {path.resolve() for path, _ in files}
    for path, explicit in files:
        absolute = path.resolve()
        if absolute in seen:
            continue
        seen.add(absolute)
        # a WFDB signal whose header is also listed is found through the header; no need to sniff it
        if absolute.suffix.lower() in _WFDB_SIGNAL_SUFFIXES and absolute.with_suffix(".hea") in listed:
            continue
        try:
            format_name = detect_format(absolute)
        except UnknownFormatError as error:
            if explicit:
                problems.append(Problem(absolute, error.problem, type(error).__name__))
            else:
                skipped.append(absolute)
            continue
        except InputError as error:
            problems.append(Problem(absolute, error.problem, type(error).__name__))
            continue
        except OSError as error:  # unreadable (permission), vanished meanwhile, a broken link
            problems.append(Problem(absolute, f"cannot be read ({error.strerror or error})", "InputError"))
            continue
        if format_name == "parquet" and (what := insole_table(absolute, manifests)) is not None:
            if explicit:  # named as a recording: an error that says what the file is
                problems.append(Problem(absolute, f"is {what}, not a recording", "UnknownFormatError", format_name))
            else:
                own_tables.append(absolute)
            continue
        canonical = _canonical(absolute, format_name)
        recordings.setdefault(canonical, Candidate(canonical, format_name))
    ordered = tuple(sorted(recordings.values(), key=lambda c: (c.recording_id, str(c.path))))
    return Discovery(
        recordings=ordered,
        problems=tuple(problems),
        skipped=tuple(skipped),
        inputs=tuple(os.fspath(i) for i in inputs),
        own_tables=tuple(own_tables),
    )


class FolderIndex:
    """Sorted file names per folder, so finding a file's stem siblings is a bisection, not a scan."""

    def __init__(self) -> None:
        self._names: dict[Path, list[str]] = {}

    def names(self, folder: Path) -> list[str]:
        if folder not in self._names:
            try:
                self._names[folder] = sorted(e.name for e in os.scandir(folder) if e.is_file())
            except OSError:
                self._names[folder] = []
        return self._names[folder]


def content_files(path: Path, index: FolderIndex | None = None) -> tuple[Path, ...]:
    """The files whose bytes make up the recording at ``path`` (itself first, then the rest sorted)."""
    index = index or FolderIndex()
    names = index.names(path.parent)
    prefix = path.stem + "."
    siblings = []
    at = bisect_left(names, prefix)
    while at < len(names) and names[at].startswith(prefix):
        if names[at] != path.name:
            siblings.append(names[at])
        at += 1
    siblings.extend(n for n in DESCRIPTION_TABLES if n in names and n != path.name and n not in siblings)
    return (path, *(path.parent / n for n in sorted(siblings)))


def _file_sha256(path: Path, memo: dict[Path, str] | None = None) -> str:
    if memo is not None and path in memo:
        return memo[path]
    found = file_sha256(path)
    if memo is not None:
        memo[path] = found
    return found


def content_digest(paths: Iterable[Path], memo: dict[Path, str] | None = None) -> tuple[str, str]:
    """(SHA-256 of the first file, SHA-256 over every file's name and SHA-256): the file's and the recording's.

    ``memo`` remembers digests within one run (a demographics table is part of every recording beside it).
    """
    combined = hashlib.sha256()
    first = ""
    for k, path in enumerate(paths):
        sha = _file_sha256(path, memo)
        if k == 0:
            first = sha
        combined.update(f"{path.name}\0{sha}\n".encode())
    return first, combined.hexdigest()

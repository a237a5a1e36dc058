"""The output policy as the commands apply it (``insole._output`` holds the rules themselves).

* ``add_force_option``: the ``--force`` every writing command offers;
* ``check_outputs``: every output checked before any work (an existing file
  without ``--force``, one of the inputs even with it, a folder, a missing or
  read-only folder, the same file named twice): one ``OutputError`` line;
* ``write_recording``: a Recording to our Parquet file under that policy;
* ``printable``: text from a file made safe to print to a terminal.
"""

from __future__ import annotations

import argparse
import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from insole._errors import InputError, OutputError, printable
from insole._output import atomic_path, check_target, same_file

__all__ = ["FORCE_HELP", "add_force_option", "atomic_path", "check_outputs", "printable", "write_recording"]

FORCE_HELP = ("replace an output file that already exists (without it the command stops and leaves the file "
              "as it is); never replaces one of the command's own input files")

PathLike = str | os.PathLike[str]


def add_force_option(parser: argparse._ActionsContainer, help: str = FORCE_HELP) -> None:
    """``--force``: replace existing outputs (never an input)."""
    parser.add_argument("--force", action="store_true", help=help)


def check_outputs(
    outputs: Iterable[PathLike | None], *, force: bool, inputs: Iterable[PathLike | None] = ()
) -> list[Path]:
    """Check each output (None entries skipped) before the command does any work; return them as Paths.

    Raises:
        InputError: an input that does not exist (said first).
        OutputError: the first output that cannot be written (see ``insole._output.check_target``),
            or an output named twice.
    """
    sources = [Path(p) for p in inputs if p is not None]
    for source in sources:  # a missing input is the first thing to say (an output named after it would mislead)
        try:
            os.lstat(source)
        except (FileNotFoundError, NotADirectoryError):
            raise InputError(source, "no such file") from None
        except (OSError, ValueError):
            pass  # unreadable, a bad name: reading it says so
    checked: list[Path] = []
    for output in outputs:
        if output is None:
            continue
        target = check_target(output, force=force, inputs=sources)
        _probe_folder(target)
        for earlier in checked:
            # the real file each name leads to (a link to a folder or a file makes two names one file)
            if os.path.realpath(earlier) == os.path.realpath(target) or (
                    target.exists() and earlier.exists() and same_file(earlier, target)):
                raise OutputError(target, "is named for two outputs of this command; give each its own file")
        checked.append(target)
    return checked


def _probe_folder(target: Path) -> None:
    """Create and remove a file beside ``target``: the folder exists (checked) and takes a new file, or say which fails.

    The permission bits can say yes where no file can be made: ``/proc`` or ``/sys`` for root, a read-only mount, a
    full disk. Every output is written as a temporary file in that folder first, so that is what is tried here, and
    existence and writability are reported apart ("does not exist" only for a folder that is not there).
    """
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, name = tempfile.mkstemp(prefix=".insole-probe.", suffix=".part", dir=folder)
    except OSError as error:
        if folder.is_dir():
            reason = "read-only file system" if error.errno == errno.EROFS else (
                "no space left on the device" if error.errno == errno.ENOSPC else
                "permission denied" if error.errno in (errno.EACCES, errno.EPERM) else
                "it takes no new files" if error.errno == errno.ENOENT else
                error.strerror or str(error))
            raise OutputError(target, f"its folder {folder} exists but is not writable ({reason})") from None
        raise OutputError(target, f"its folder {folder} does not exist (create it first)") from None
    os.close(handle)
    os.unlink(name)


def write_recording(recording: Any, out: PathLike, *, force: bool) -> Path:
    """Write ``recording`` as our Parquet file at ``out``: atomically, over an existing file only with ``force``."""
    from insole.io import write_parquet

    return Path(write_parquet(recording, Path(out), force=force))
    return Path(out)



"""The one output policy of every command and writer.

A patient's recording is irreplaceable, so every file insole writes goes
through here:

* ``check_target(path, force=..., inputs=...)`` before any work (and before a
  capture connects to anything): an existing file is refused unless ``force``;
  one of the command's own inputs is refused even with ``force``; a folder, a
  missing folder or a read-only folder is refused. Each refusal is one
  ``OutputError`` line naming the path.
* ``atomic_path(path, force=...)`` / ``atomic_write(path, ...)`` while
  writing: the content goes to a temporary file beside the target and is
  renamed over it only once complete, so a crash leaves the old file or the
  new one, never half of one. Without ``force`` the final step is a hard link,
  which fails if a file appeared at the target meanwhile (no race).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from insole._errors import OutputError

__all__ = ["check_target", "atomic_path", "atomic_write", "same_file", "FORCE_HINT"]

FORCE_HINT = "already exists (add --force to replace it)"


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` name the same file (hard links and symlinks included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _inputs_of(inputs: Iterable[str | os.PathLike[str]] | str | os.PathLike[str] | None) -> list[Path]:
    if inputs is None:
        return []
    if isinstance(inputs, (str, os.PathLike)):
        return [Path(inputs)]
    return [Path(p) for p in inputs]


def check_target(
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    inputs: Iterable[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
    folder: bool = False,
) -> Path:
    """Refuse ``path`` as an output unless it is safe to write; return it as a Path.

    ``inputs`` are the files the command reads: writing over one of them is
    refused even with ``force``. ``folder=True`` checks a target that is a
    folder to fill (batch, BIDS): it may exist, but must be a folder.
    """
    target = Path(path)
    for source in _inputs_of(inputs):
        if source.exists() and target.exists() and same_file(source, target):
            raise OutputError(target, "is one of this command's inputs; it is never overwritten (choose another name)")
        if not source.exists() and os.path.abspath(source) == os.path.abspath(target):
            raise OutputError(target, "is one of this command's inputs; it is never overwritten (choose another name)")
    parent = target.parent if str(target.parent) else Path(".")
    if folder:
        if target.exists() and not target.is_dir():
            raise OutputError(target, "is a file, not a folder")
        probe = target if target.exists() else parent
    else:
        if target.is_dir():
            raise OutputError(target, "is a folder; give a file name")
        if target.exists() or target.is_symlink():
            if not force:
                raise OutputError(target, FORCE_HINT)
        probe = parent
    if not probe.exists():
        raise OutputError(target, f"its folder {probe} does not exist (create it first)")
    if not probe.is_dir():
        raise OutputError(target, f"{probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(target, f"cannot write into {probe} (permission denied)")
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, force: bool = False, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it to ``path``.

    For writers that want a file name (pyarrow, plotly, weasyprint). The
    temporary file keeps the target's suffix (``suffix`` overrides it), as some
    writers choose their format by it. On an exception the temporary file is
    removed and ``path`` is untouched. Without ``force`` an existing ``path``
    (even one created while we wrote) is an ``OutputError``.
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=(suffix if suffix is not None else target.suffix) + ".part", dir=parent
        )
    except FileNotFoundError:
        raise OutputError(target, f"its folder {parent} does not exist (create it first)") from None
    except PermissionError:
        raise OutputError(target, f"cannot write into {parent} (permission denied)") from None
    except OSError as error:
        raise OutputError(target, f"cannot write: {error.strerror or error}") from None
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        _publish(temporary, target, force=force)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _fsync_folder(parent)


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, force: bool = False, encoding: str | None = "utf-8", **kwargs: Any
) -> Iterator[IO[Any]]:
    """``open(path, mode)`` that publishes the file only when the block completes."""
    if "b" in mode:
        encoding = None
    with atomic_path(path, force=force) as temporary:
        with open(temporary, mode, encoding=encoding, **kwargs) as handle:
            yield handle
            handle.flush()


def _publish(temporary: Path, target: Path, *, force: bool) -> None:
    if force:
        if target.is_dir():
            raise OutputError(target, "is a folder; give a file name")
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)  # fails if target exists: never replaces a file without force
    except FileExistsError:
        raise OutputError(target, FORCE_HINT) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise OutputError(target, f"cannot write: {error.strerror or error}") from None
        # file systems without hard links: check, then rename (a small window, stated)
        if target.exists():
            raise OutputError(target, FORCE_HINT) from None
        os.replace(temporary, target)
        return
    temporary.unlink()


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

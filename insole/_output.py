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
import stat
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
    An existing target that is not a regular file (a device such as
    ``/dev/null``, a FIFO, a socket) is refused even with ``force``: replacing
    it would put a file where the system expects something else.
    """
    target = Path(path)
    found = _stat(target, follow=True)
    for source in _inputs_of(inputs):
        if _is_same(source, target, found):
            raise OutputError(target, "is one of this command's inputs; it is never overwritten (choose another name)")
    parent = target.parent if str(target.parent) else Path(".")
    if folder:
        if found is not None and not stat.S_ISDIR(found.st_mode):
            raise OutputError(target, "is a file, not a folder")
        probe = target if found is not None else parent
    else:
        if found is not None and stat.S_ISDIR(found.st_mode):
            raise OutputError(target, "is a folder; give a file name")
        if found is not None and not stat.S_ISREG(found.st_mode):
            raise OutputError(target, "is not a regular file (a device, FIFO or socket); give a file name")
        if found is not None or _stat(target, follow=False) is not None:  # a link to nothing is a file too
            if not force:
                raise OutputError(target, FORCE_HINT)
        probe = parent
    probed = _stat(probe, follow=True, target=target)
    if probed is None:
        raise OutputError(target, f"its folder {probe} does not exist (create it first)")
    if not stat.S_ISDIR(probed.st_mode):
        raise OutputError(target, f"{probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(target, f"cannot write into {probe} (permission denied or read-only)")
    return target


def _is_same(source: Path, target: Path, found: os.stat_result | None) -> bool:
    """Whether the input ``source`` is the output ``target`` (same file, or the same name when neither exists)."""
    if os.path.abspath(source) == os.path.abspath(target):
        return True
    if found is None:
        return False
    try:
        known = os.stat(source)
    except (OSError, ValueError):
        return False
    return (known.st_dev, known.st_ino) == (found.st_dev, found.st_ino)


def _stat(path: Path, *, follow: bool, target: Path | None = None) -> os.stat_result | None:
    """``os.stat`` of ``path``, None when nothing is there; any other failure is an ``OutputError`` on ``target``."""
    try:
        return os.stat(path, follow_symlinks=follow)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            return None if follow else _stat(path, follow=False, target=target)
        raise OutputError(target or path, _problem(error)) from None
    except ValueError:  # an embedded NUL byte
        raise OutputError(target or path, "is not a usable file name (it contains a NUL byte)") from None


def _problem(error: OSError) -> str:
    """What an ``OSError`` on an output path means, in words."""
    if error.errno == errno.ENAMETOOLONG:
        return "the name is too long for the file system (at most 255 bytes per name)"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "cannot write here (permission denied)"
    if error.errno == errno.EROFS:
        return "cannot write here (read-only file system)"
    if error.errno == errno.ENOSPC:
        return "cannot write: no space left on the device"
    return f"cannot write: {error.strerror or error}"


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
    # the temporary name stays within the 255 bytes a file name may have, whatever the target's length
    ending = (suffix if suffix is not None else target.suffix)[:16] + ".part"
    stem = target.name.encode("utf-8", "surrogateescape")[:180].decode("utf-8", "ignore")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=ending, dir=parent)
    except FileNotFoundError:
        if parent.is_dir():  # a folder that is there but takes no files (/proc, /sys): not a missing folder
            raise OutputError(target, f"its folder {parent} exists but is not writable (it takes no new files)") \
                from None
        raise OutputError(target, f"its folder {parent} does not exist (create it first)") from None
    except OSError as error:
        raise OutputError(target, _problem(error)) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would create it (mkstemp makes it private, 0600)
    finally:
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
            raise OutputError(target, _problem(error)) from None
        # file systems without hard links: check, then rename (a small window, stated)
        if target.exists():
            raise OutputError(target, FORCE_HINT) from None
        os.replace(temporary, target)
        return
    temporary.unlink()


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it (else set and restored)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

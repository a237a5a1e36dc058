"""Lazy package surfaces: each public name loads its private module on first use.

A package lists where its public names live and installs the two module hooks
of PEP 562 made here::

    _HOMES = {"analyze": "_entry", "write_csv": "insole.io._export._csv"}
    __getattr__, __dir__ = lazy_surface(__name__, _HOMES)

A home starting with ``_`` is a private module of the package itself; any other
home is a full module path. ``submodules`` names subpackages reached as
attributes (``insole.plot``). So ``import insole`` and the quick commands do not
pay for scipy, pandas, plotly or bleak until something uses them, and a missing
optional package is reported as the extra to install.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from insole._errors import missing_extra

__all__ = ["import_beside", "lazy_surface", "quick_switching"]


def lazy_surface(package: str, homes: Mapping[str, str], submodules: Iterable[str] = ()
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` serving ``homes`` (name -> module) and ``submodules``."""
    namespace = vars(sys.modules[package])
    children = frozenset(submodules)

    def _import(path: str) -> Any:
        try:
            return importlib.import_module(path)
        except ModuleNotFoundError as error:  # an optional package, from a notebook: say which extra brings it
            raise (missing_extra(error) or error) from error

    def __getattr__(name: str) -> Any:
        if name in homes:
            home = homes[name]
            value = getattr(_import(f"{package}.{home}" if home.startswith("_") else home), name)
        elif name in children:
            value = _import(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # found once; later look-ups never reach this hook
        return value

    def __dir__() -> list[str]:
        # what a notebook's completion should offer: the public surface, not the machinery behind it
        public = set(namespace.get("__all__", ())) | set(homes) | children
        return sorted(public | {name for name in namespace if name.startswith("__") and name.endswith("__")})

    return __getattr__, __dir__


def import_beside(module: str, names: Iterable[str] = ()) -> threading.Thread:
    """Import ``module`` (and load its ``names``) on a second thread, started now; the caller may join it.

    For work that can begin before a heavy import ends: pandas and the stages
    built on it take some 0.3 s of Python to import, while reading a recording
    is mostly Arrow decoding and numpy, which let go of the interpreter lock.
    Side by side the two share the second core. A failed import is left for
    the caller's own import to raise, where it always did.
    """
    def work() -> None:
        try:
            found = importlib.import_module(module)
            for name in names:
                getattr(found, name)
        except Exception:  # noqa: BLE001, S110 - the caller's own import raises it again, in its place
            pass

    thread = threading.Thread(target=work, name="insole-imports", daemon=True)
    thread.start()
    return thread


# While a second thread runs Python (an import; a foot's table building), a thread computing (Arrow and numpy calls
# that let go of the interpreter lock during each) gets the lock back within this long of asking for it after each
# call, instead of the interpreter's default 5 ms
SWITCH_WHILE_IMPORTING_S = 0.0005


@contextmanager
def quick_switching() -> Iterator[None]:
    """The interpreter's switch interval at most ``SWITCH_WHILE_IMPORTING_S`` inside the block.

    The interval is the process's: it is restored after the block unless another thread changed it meanwhile,
    and a block entered while it is already that short leaves it alone, so that two threads in such blocks at
    once never leave it lowered for good.
    """
    before = sys.getswitchinterval()
    if before <= SWITCH_WHILE_IMPORTING_S:
        yield
        return
    sys.setswitchinterval(SWITCH_WHILE_IMPORTING_S)
    try:
        yield
    finally:
        if sys.getswitchinterval() == SWITCH_WHILE_IMPORTING_S:
            sys.setswitchinterval(before)

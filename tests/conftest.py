"""Shared test fixtures: where the real data lives, and temporary outputs.

Real data: ``tests/_data.py`` says where it is (``$INSOLE_SHARED_DATA``, else
``../shared/data``). Every test that reads it is marked ``realdata`` here, by
the ``shared_data`` fixture or by the module paths it reads, and is skipped
with the reason when the folder is absent; ``-m "not realdata"`` leaves them out.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType

import pytest
from _data import is_real_data, missing_reason, shared_data_dir
from ble_fixtures import emulation, private_dbus  # noqa: F401  (BLE fixtures for every test module)
from hypothesis import settings

# Hypothesis' per-example deadline measures speed, which lives in benchmarks/;
# on a loaded 2-core machine it fails correct code as "flaky". Properties only.
settings.register_profile("insole", deadline=None)
settings.load_profile("insole")

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
RECORDINGS = REPO / "recordings"
ARTIFACTS = REPO / "tests" / "artifacts"  # screenshots and pages a run leaves for people to look at


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data folder (tests using this are marked ``realdata`` and skipped when it is absent)."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    return shared_data_dir()


def _names(code: CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):  # comprehensions, lambdas, nested functions
            yield from _names(const)


def _in_tests(func: Callable[..., object]) -> bool:
    try:
        return TESTS in Path(inspect.getfile(func)).resolve().parents
    except (TypeError, OSError):
        return False


def _functions_in(value: object, depth: int = 0) -> Iterator[Callable[..., object]]:
    if inspect.isfunction(value):
        yield value
    elif isinstance(value, (list, tuple)) and depth < 2:
        for v in value:
            yield from _functions_in(v, depth + 1)


def _reads_real_data(func: Callable[..., object], seen: set[CodeType], keys: frozenset[object]) -> bool:
    """Does a test-suite function read a module global that is a real-data path, here or in its module's helpers?

    Helpers are followed when called by name, and when picked from a module
    table by the test's parameter (``CASES[case]()``) or passed as one.
    """
    func = inspect.unwrap(getattr(func, "__func__", func))
    code = getattr(func, "__code__", None)
    if code is None or code in seen or not _in_tests(func):
        return False
    seen.add(code)
    module_globals = getattr(func, "__globals__", {})
    for name in set(_names(code)):
        value = module_globals.get(name)
        if is_real_data(value):
            return True
        helpers = list(_functions_in(value))
        if isinstance(value, dict):
            helpers += [value[k] for k in keys if k in value and inspect.isfunction(value[k])]
        if any(_reads_real_data(h, seen, keys) for h in helpers):
            return True
    return False


def _needs_real_data(item: pytest.Item) -> bool:
    if "shared_data" in getattr(item, "fixturenames", ()):
        return True
    callspec = getattr(item, "callspec", None)
    params = list(callspec.params.values()) if callspec is not None else []
    if any(is_real_data(v) for v in params):
        return True
    keys = frozenset(v for v in params if isinstance(v, (str, int)))
    functions = [getattr(item, "function", None)] + [f for v in params for f in _functions_in(v)]
    fixtureinfo = getattr(item, "_fixtureinfo", None)
    for defs in (fixtureinfo.name2fixturedefs.values() if fixtureinfo is not None else ()):
        functions += [d.func for d in defs]
    seen: set[CodeType] = set()
    return any(f is not None and _reads_real_data(f, seen, keys) for f in functions)


@pytest.hookimpl(tryfirst=True)  # before -m selects on the marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = missing_reason()
    for item in items:
        if item.get_closest_marker("realdata") is None and _needs_real_data(item):
            item.add_marker(pytest.mark.realdata)
        if reason and item.get_closest_marker("realdata") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

"""Fixtures for tests that run real bleak against emulated insoles.

Import them into ``tests/conftest.py``::

    from ble_fixtures import emulation, private_dbus  # noqa: F401

(pytest puts ``tests/`` on ``sys.path``, as these test files have no package).

``private_dbus`` is one ``dbus-daemon`` for the whole session: bleak keeps its
connection to the "system" bus for the life of each event loop, so the daemon
must outlive every test's loop (stopping it earlier makes bleak log that its
D-Bus connection was lost). ``emulation`` starts a fake BlueZ and emulated
insoles on that bus for one test and points ``DBUS_SYSTEM_BUS_ADDRESS`` at it
(bleak reads it when it first opens the bus in the test's event loop).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from firmware_protocol import (
    DBUS_SYSTEM_BUS_ADDRESS,
    EmulatedEnvironment,
    EmulationSetupError,
    InsoleSpec,
    PrivateBus,
)

StartEmulation = Callable[..., Awaitable[EmulatedEnvironment]]


@pytest.fixture(scope="session")
def private_dbus() -> Iterator[str]:
    """Address of a private ``dbus-daemon`` shared by the whole test session."""
    bus = PrivateBus()
    try:
        address = bus.start()
    except EmulationSetupError as error:
        pytest.fail(str(error))
    try:
        yield address
    finally:
        bus.stop()


@pytest.fixture
async def emulation(private_dbus: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StartEmulation]:
    """``await emulation(InsoleSpec(...), ...)`` starts fake BlueZ + insoles for this test.

    With no specs it starts a default left and right insole. Everything is
    stopped when the test ends.
    """
    monkeypatch.setenv(DBUS_SYSTEM_BUS_ADDRESS, private_dbus)
    environments: list[EmulatedEnvironment] = []

    async def start(*specs: InsoleSpec) -> EmulatedEnvironment:
        environment = EmulatedEnvironment(specs or None, bus_address=private_dbus)
        await environment.start()
        environments.append(environment)
        return environment

    yield start
    for environment in reversed(environments):
        await environment.stop()

"""The whole emulated BLE world in one object: private D-Bus, fake BlueZ, two insoles.

::

    async with EmulatedEnvironment() as env:          # a left and a right insole
        env.set_system_bus_env()                      # before the first bleak call in this loop
        ...                                           # plain bleak finds INSOLE-L-1A2B, INSOLE-R-1A2C
        env.insole("left").record.streams[-1].dropped

or, for another process::

    async with EmulatedEnvironment() as env:
        print(env.shell_hint("python collect.py"))    # DBUS_SYSTEM_BUS_ADDRESS=... python collect.py

The environment starts, in the current event loop: a private ``dbus-daemon``
(unless given ``bus_address`` of one already running, see :class:`PrivateBus`),
a :class:`~firmware_protocol._fake_bluez.FakeBlueZ` claiming ``org.bluez`` on
it, and one :class:`~firmware_protocol._emulator.EmulatedInsole` per
:class:`~firmware_protocol._emulator.InsoleSpec`, all on one in-process bumble
link. It sets no environment variable unless asked to.

bleak reads ``DBUS_SYSTEM_BUS_ADDRESS`` when it first opens the system bus in an
event loop, and keeps that connection for the loop's life. So set the variable
before the first bleak call of the loop, and let the ``dbus-daemon`` outlive
bleak's connection where you can (a test session shares one :class:`PrivateBus`
for that reason); otherwise bleak logs that its D-Bus connection was lost when
the daemon stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from bumble.link import LocalLink

from firmware_protocol._emulator import EmulatedInsole, InsoleSpec
from firmware_protocol._fake_bluez import FakeBlueZ

__all__ = ["DBUS_SYSTEM_BUS_ADDRESS", "EmulatedEnvironment", "EmulationSetupError", "PrivateBus"]

#: The variable dbus-fast (and so bleak) reads to find the system bus.
DBUS_SYSTEM_BUS_ADDRESS = "DBUS_SYSTEM_BUS_ADDRESS"
_DBUS_DAEMON = "dbus-daemon"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the parent dies, so a crash leaks no daemon (Linux)."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmulationSetupError(RuntimeError):
    """The emulated BLE environment could not be set up (e.g. no ``dbus-daemon``)."""


class PrivateBus:
    """A private ``dbus-daemon`` (session policy) on a unix socket in a temporary directory.

    Anyone on the machine with access to the socket may connect and own names,
    so another process can reach the fake BlueZ through it. Use as a (sync or
    async) context manager, or call :meth:`start` and :meth:`stop`.

    Raises:
        EmulationSetupError: if ``dbus-daemon`` is not installed or does not start.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self._log: BinaryIO | None = None
        self.address = ""

    def start(self) -> str:
        """Spawn the daemon; returns its address (``unix:path=...,guid=...``)."""
        executable = shutil.which(_DBUS_DAEMON)
        if executable is None:
            raise EmulationSetupError(
                "dbus-daemon not found; the emulated insoles need it for their fake BlueZ. "
                "Install it with: apt-get install -y dbus-daemon"
            )
        self._directory = tempfile.TemporaryDirectory(prefix="insole-dbus-")
        socket_path = Path(self._directory.name) / "bus"
        # stderr goes to a file, never an unread pipe: a daemon that filled the
        # pipe buffer with warnings would block, and the whole bus with it.
        log_path = Path(self._directory.name) / "dbus-daemon.log"
        self._log = log_path.open("wb")
        self._process = subprocess.Popen(
            [
                executable,
                "--session",
                "--nofork",
                "--nopidfile",
                "--print-address=1",
                f"--address=unix:path={socket_path}",
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        assert self._process.stdout is not None
        # The daemon prints its address once it listens (about 5 ms).
        line = self._process.stdout.readline().decode().strip()
        if not line:
            self._process.wait(timeout=5)
            error = log_path.read_text(errors="replace").strip()
            self.stop()
            raise EmulationSetupError(f"dbus-daemon did not start: {error or 'no address printed'}")
        self.address = line
        return line

    def stop(self) -> None:
        """Terminate the daemon and remove its socket directory."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None

    def __enter__(self) -> PrivateBus:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> PrivateBus:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.stop()


class EmulatedEnvironment:
    """Private D-Bus + fake BlueZ + emulated insoles, as an async context manager.

    Args:
        insoles: One spec per insole; default a left and a right insole with
            default settings.
        bus_address: Address of a ``dbus-daemon`` already running (e.g. a
            test session's :class:`PrivateBus`); None starts a private one that
            lives as long as the environment.
        set_system_bus_env: Point ``DBUS_SYSTEM_BUS_ADDRESS`` of this process at
            the bus while the environment runs (restored afterwards). Same as
            calling :meth:`set_system_bus_env` after entering.

    Attributes:
        insoles: The running :class:`EmulatedInsole` objects, in spec order.
        fake_bluez: The :class:`FakeBlueZ` serving ``org.bluez``.
        link: The bumble link they all share.
    """

    def __init__(
        self,
        insoles: Sequence[InsoleSpec] | None = None,
        *,
        bus_address: str | None = None,
        set_system_bus_env: bool = False,
    ) -> None:
        specs = tuple(insoles) if insoles is not None else (InsoleSpec("left"), InsoleSpec("right"))
        names = [spec.local_name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"insoles must have distinct names, got {names}")
        addresses = [spec.address for spec in specs]
        if len(set(addresses)) != len(addresses):
            raise ValueError(f"insoles must have distinct addresses, got {addresses}")
        self._specs = specs
        self._given_bus_address = bus_address
        self._want_env = set_system_bus_env
        self._private_bus: PrivateBus | None = None
        self._saved_env: str | None = None
        self._env_set = False
        self.bus_address = bus_address or ""
        self.link: LocalLink | None = None
        self.fake_bluez: FakeBlueZ | None = None
        self.insoles: tuple[EmulatedInsole, ...] = ()

    async def start(self) -> None:
        """Start the bus (if needed), the fake BlueZ and every insole."""
        try:
            if self._given_bus_address is None:
                self._private_bus = PrivateBus()
                self.bus_address = self._private_bus.start()
            self.link = LocalLink()
            self.fake_bluez = FakeBlueZ(self.link)
            await self.fake_bluez.start(self.bus_address)
            insoles = []
            for spec in self._specs:
                insole = EmulatedInsole(spec)
                insoles.append(insole)
                await insole.start(self.link)
            self.insoles = tuple(insoles)
            if self._want_env:
                self.set_system_bus_env()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the insoles (ending their links), the fake BlueZ and the private bus."""
        for insole in self.insoles:
            with contextlib.suppress(Exception):
                await insole.stop()
        if self.fake_bluez is not None:
            with contextlib.suppress(Exception):
                await self.fake_bluez.stop()
            self.fake_bluez = None
        if self._private_bus is not None:
            self._private_bus.stop()
            self._private_bus = None
        self.restore_system_bus_env()

    async def __aenter__(self) -> EmulatedEnvironment:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- pointing bleak at the bus -------------------------------------------

    def set_system_bus_env(self) -> None:
        """Set ``DBUS_SYSTEM_BUS_ADDRESS`` of this process to the bus (undone by :meth:`stop`).

        bleak reads it when it first opens the system bus in an event loop, so
        call this before the first bleak call of the loop.
        """
        if not self._env_set:
            self._saved_env = os.environ.get(DBUS_SYSTEM_BUS_ADDRESS)
            self._env_set = True
        os.environ[DBUS_SYSTEM_BUS_ADDRESS] = self.bus_address

    def restore_system_bus_env(self) -> None:
        """Put ``DBUS_SYSTEM_BUS_ADDRESS`` back as it was before :meth:`set_system_bus_env`."""
        if not self._env_set:
            return
        if self._saved_env is None:
            os.environ.pop(DBUS_SYSTEM_BUS_ADDRESS, None)
        else:
            os.environ[DBUS_SYSTEM_BUS_ADDRESS] = self._saved_env
        self._env_set = False

    def environ(self) -> dict[str, str]:
        """The variables another process needs to reach this environment's BlueZ."""
        return {DBUS_SYSTEM_BUS_ADDRESS: self.bus_address}

    def shell_hint(self, command: str = "python your_collector.py") -> str:
        """A shell line that runs ``command`` with its bleak pointed at this environment."""
        return f"{DBUS_SYSTEM_BUS_ADDRESS}='{self.bus_address}' {command}"

    # -- lookup ----------------------------------------------------------------

    def insole(self, side_or_name: str) -> EmulatedInsole:
        """The insole for ``"left"``/``"right"`` (the first of that side) or with that local name."""
        for insole in self.insoles:
            if side_or_name in (insole.spec.side, insole.name):
                return insole
        raise KeyError(f"no emulated insole {side_or_name!r}; have {[i.name for i in self.insoles]}")

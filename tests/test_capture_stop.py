"""A stop asked before the recording starts ends the session at once, says so, and leaves no file.

Before the recording starts the session finds the insoles, connects them and
zeroes them; each step can take many seconds when an insole is out of range
(bleak's connect waits ``connect_timeout_s``, 20 s by default, and the session
waited twice that for both feet). A Stop pressed meanwhile must end it within
about a second with :class:`StoppedBeforeRecording`, and nothing on disk: the
capture stream is opened only when the recording starts.

``STOP_BOUND_S`` (3 s) in these tests is a hang guard, not a speed figure: the
bug it guards against made ``run()`` return 39 s after the stop, and the work
left after a stop (cancelling the links, one D-Bus disconnect) takes well under
a second; 3 s leaves room for a loaded 2-core machine without letting a wait
of ``connect_timeout_s`` through.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from firmware_protocol import EmulatedEnvironment
from firmware_protocol._fake_bluez import FakeBlueZ
from insole.capture._collector import CaptureParams, FoundInsole, InsoleLink, InsoleSelector
from insole.capture._session import CaptureSession, StoppedBeforeRecording
from insole.capture._sources import capture_session

REPO = Path(__file__).resolve().parents[1]
STOP_BOUND_S = 3.0  # hang guard (see the module docstring), not a speed figure
STOP_AFTER_S = 1.0  # how long into the step the stop is asked


def nothing_written(out: Path) -> list[Path]:
    """Every file the session left beside ``out`` (none expected)."""
    return sorted(out.parent.iterdir())


async def stop_and_wait(session: CaptureSession, task: asyncio.Task) -> tuple[BaseException, float]:
    """Ask the stop, wait (at most the hang guard) for ``run()`` to end; its error and how long it took (wall s)."""
    asked = time.monotonic()
    session.request_stop()
    done, _ = await asyncio.wait({task}, timeout=STOP_BOUND_S)
    took = time.monotonic() - asked
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        pytest.fail(f"run() had not returned {STOP_BOUND_S:g} s after the stop")
    error = task.exception()
    assert error is not None, "run() returned a recording although it was stopped before recording"
    return error, took


async def wait_for_links(session: CaptureSession, states: set[str]) -> None:
    """Until the session has its links and every one is in ``states`` (the run is where the test wants it)."""
    while not session.links or any(link.state not in states for link in session.links.values()):
        await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- no BLE: a wire that never connects


class NeverConnects:
    """A source's wire whose connection never completes and never looks at ``link.stopping``
    (like a discovery or connect call stuck in a library); records whether it was ended."""

    def __init__(self) -> None:
        self.started = 0
        self.cancelled = 0

    async def connect_and_stream(self, link: InsoleLink) -> bool:
        self.started += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return False  # never reached

    async def tare(self, link: InsoleLink) -> bool:
        return False


def found_behind(transport: Any) -> dict[str, FoundInsole]:
    return {
        side: FoundInsole(f"test-{side}", f"TEST-{side}", side, None, None, None, None, transport=transport)
        for side in ("left", "right")
    }


async def test_a_stop_while_a_wire_never_connects_ends_the_session_at_once(tmp_path):
    wire = NeverConnects()
    out = tmp_path / "walk.parquet"
    session = CaptureSession(out, params=CaptureParams(tare=False), found=found_behind(wire))
    task = asyncio.create_task(session.run())
    await wait_for_links(session, {"connecting"})
    await asyncio.sleep(STOP_AFTER_S)
    error, _ = await stop_and_wait(session, task)
    assert isinstance(error, StoppedBeforeRecording)
    assert str(error) == "stopped before the insoles connected; nothing was saved"
    # both connection attempts were cut short, not left running in the background
    assert (wire.started, wire.cancelled) == (2, 2)
    assert all(link.state == "stopped" for link in session.links.values())
    assert nothing_written(out) == []


async def test_a_stop_asked_before_run_ends_it_before_anything_connects(tmp_path):
    wire = NeverConnects()
    out = tmp_path / "walk.parquet"
    session = CaptureSession(out, params=CaptureParams(tare=False), found=found_behind(wire))
    session.request_stop()
    with pytest.raises(StoppedBeforeRecording, match="^stopped before the insoles connected"):
        await asyncio.wait_for(session.run(), STOP_BOUND_S)
    assert wire.started == wire.cancelled  # an attempt that began was cancelled
    assert nothing_written(out) == []


class ConnectsButNeverZeroes:
    """A wire that connects at once and waits for the go or the stop (as every source does), and whose
    zeroing never ends (e.g. a calibration waiting for the wearer); the stop is asked during the zeroing."""

    def __init__(self) -> None:
        self.ended_by_stop = 0
        self.cancelled = 0
        self.session: CaptureSession | None = None

    async def connect_and_stream(self, link: InsoleLink) -> bool:
        link.mark_ready()
        try:
            if not await link.wait_for_go():
                self.ended_by_stop += 1
            return False
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

    async def tare(self, link: InsoleLink) -> bool:
        assert self.session is not None
        self.session.request_stop()  # Stop pressed while the insoles are being zeroed
        await asyncio.Event().wait()
        return True  # never reached


async def test_a_stop_during_a_zeroing_that_never_ends_lets_the_connected_insoles_go(tmp_path):
    wire = ConnectsButNeverZeroes()
    out = tmp_path / "walk.parquet"
    session = CaptureSession(out, params=CaptureParams(tare=True), found=found_behind(wire))
    wire.session = session
    with pytest.raises(StoppedBeforeRecording) as stopped:
        await asyncio.wait_for(session.run(), STOP_BOUND_S)
    assert str(stopped.value) == "stopped while zeroing the insoles, before the recording started; nothing was saved"
    # connected links hear the stop and end by themselves (a clean disconnect), they are not cancelled
    assert (wire.ended_by_stop, wire.cancelled) == (2, 0)
    assert nothing_written(out) == []


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_stop_while_no_moticon_stream_arrives_ends_the_session_at_once(tmp_path):
    out = tmp_path / "moticon.parquet"
    session = capture_session("moticon", out, source_options={"udp_port": free_udp_port()})
    task = asyncio.create_task(session.run())
    await wait_for_links(session, {"connecting"})
    await asyncio.sleep(STOP_AFTER_S)
    error, _ = await stop_and_wait(session, task)
    assert isinstance(error, StoppedBeforeRecording)
    assert str(error) == "stopped before the insoles connected; nothing was saved"
    assert nothing_written(out) == []


def test_insole_record_ctrl_c_while_connecting_says_so_in_one_line_and_saves_nothing(tmp_path):
    # a Moticon stream that never comes: the command waits for it (connect_timeout_s, 20 s by default)
    out = tmp_path / "walk.parquet"
    process = subprocess.Popen(
        [sys.executable, "-m", "insole._cli", "record", "--source", "moticon", "--udp-port", str(free_udp_port()),
         "--no-tare", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed just before the session starts
        assert first.startswith("Listening for the Moticon OpenGo stream"), first
        time.sleep(STOP_AFTER_S)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=STOP_BOUND_S + 10.0)  # + the interpreter's shutdown
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert stderr == "insole record: stopped before the insoles connected; nothing was saved\n"
    assert stdout == ""
    assert nothing_written(out) == []


@pytest.mark.parametrize("command", ["live", "test"])
def test_insole_live_and_test_ctrl_c_while_connecting_say_so_in_one_line(tmp_path, command):
    # as record above: a Moticon stream that never comes, Ctrl-C while the command waits for it
    port = str(free_udp_port())
    args = {"live": ["live", "--source", "moticon", "--udp-port", port, "--no-tare", "--port", "0",
                     "--out-dir", str(tmp_path)],
            "test": ["test", "tug", "--source", "moticon", "--udp-port", port, "--no-tare",
                     "--out", str(tmp_path / "tug.parquet")]}[command]
    process = subprocess.Popen([sys.executable, "-m", "insole._cli", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert process.stdout is not None
        process.stdout.readline()  # the command has started (its first line)
        time.sleep(STOP_AFTER_S)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=STOP_BOUND_S + 10.0)  # + the interpreter's shutdown
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    # the last line says what happened; no 'device error', and no promise to write a file that cannot exist
    assert stderr.splitlines()[-1] == f"insole {command}: stopped before the insoles connected; nothing was saved"
    assert "device error" not in stderr and "writing the file" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- real bleak against the fake BlueZ


@pytest.fixture
def insoles_out_of_range(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fake BlueZ's Connect never completes (insoles that stopped answering after they advertised);
    the list holds the object path of every connection attempt that reached it."""
    attempts: list[str] = []

    async def never(self: FakeBlueZ, device: Any) -> None:
        attempts.append(str(device.path))
        await asyncio.Event().wait()

    monkeypatch.setattr(FakeBlueZ, "_connect", never)
    return attempts


@pytest.mark.ble
async def test_a_stop_while_bleak_is_connecting_ends_the_session_at_once(emulation, insoles_out_of_range, tmp_path):
    environment: EmulatedEnvironment = await emulation()
    out = tmp_path / "walk.parquet"
    session = CaptureSession(out, params=CaptureParams(tare=False))  # connect_timeout_s 20 s: bleak would wait it
    task = asyncio.create_task(session.run())
    await wait_for_links(session, {"connecting"})
    assert len(environment.insoles) == 2
    await asyncio.sleep(STOP_AFTER_S)
    error, _ = await stop_and_wait(session, task)
    assert isinstance(error, StoppedBeforeRecording)
    assert str(error) == "stopped before the insoles connected; nothing was saved"
    assert all(link.state == "stopped" for link in session.links.values())
    # each insole's one attempt was inside bleak's connect() (BlueZ's Connect) when the stop came
    assert len(set(insoles_out_of_range)) == len(insoles_out_of_range) == 2
    assert all(link.counters.connections == 0 for link in session.links.values())
    assert nothing_written(out) == []


@pytest.mark.ble
async def test_a_stop_while_scanning_ends_the_session_at_once(emulation, tmp_path):
    await emulation()
    out = tmp_path / "walk.parquet"
    # an insole that is not there: the scan would look for it for scan_timeout_s
    selectors = {"left": InsoleSelector("left", address="C0:FF:EE:00:00:01")}
    session = CaptureSession(out, params=CaptureParams(tare=False, scan_timeout_s=20.0), selectors=selectors)
    task = asyncio.create_task(session.run())
    await asyncio.sleep(STOP_AFTER_S)
    assert not task.done()
    error, _ = await stop_and_wait(session, task)
    assert isinstance(error, StoppedBeforeRecording)
    assert str(error) == "stopped while looking for the insoles, before they connected; nothing was saved"
    assert session.links == {}
    assert nothing_written(out) == []


@pytest.mark.ble
async def test_a_stop_during_the_zeroing_ends_the_session_and_disconnects_the_insoles(emulation, tmp_path):
    environment: EmulatedEnvironment = await emulation()
    out = tmp_path / "walk.parquet"
    session: CaptureSession

    async def stop_before_tare() -> None:  # e.g. Stop pressed while the wearer is asked to lift the feet
        session.request_stop()

    session = CaptureSession(out, params=CaptureParams(tare=True), before_tare=stop_before_tare)
    with pytest.raises(StoppedBeforeRecording) as stopped:
        await asyncio.wait_for(session.run(), 60.0)  # hang guard only: scan and connect happen first
    assert str(stopped.value) == "stopped while zeroing the insoles, before the recording started; nothing was saved"
    # the insoles were connected, and were let go (they advertise again for the next session)
    assert all(link.counters.connections == 1 for link in session.links.values())
    assert all(link.state == "stopped" for link in session.links.values())
    assert all(not insole.connected.is_set() for insole in environment.insoles)
    assert nothing_written(out) == []


# --------------------------------------------------------------------------- ORPHE INSOLEs (the emulator's BLE stack)


@pytest.fixture
async def orphe_insoles(private_dbus: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """The two emulated ORPHE INSOLEs (left, right) advertising on the test session's bus."""
    from firmware_protocol import DBUS_SYSTEM_BUS_ADDRESS
    from insole.capture._sources._orphe_emulator import OrpheEnvironment

    monkeypatch.setenv(DBUS_SYSTEM_BUS_ADDRESS, private_dbus)
    environment = OrpheEnvironment(bus_address=private_dbus)
    await environment.start()
    try:
        yield environment
    finally:
        await environment.stop()


@pytest.mark.ble
async def test_a_stop_while_an_orphe_insole_never_answers_ends_the_session_at_once(
    orphe_insoles, insoles_out_of_range, tmp_path
):
    out = tmp_path / "orphe.parquet"
    session = capture_session("orphe", out)
    task = asyncio.create_task(session.run())
    while len(insoles_out_of_range) < 2:  # both feet found and inside BlueZ's Connect
        assert not task.done(), task
        await asyncio.sleep(0.02)
    await asyncio.sleep(STOP_AFTER_S)
    error, _ = await stop_and_wait(session, task)
    assert isinstance(error, StoppedBeforeRecording)
    assert str(error) == "stopped before the insoles connected; nothing was saved"
    assert all(link.state == "stopped" for link in session.links.values())
    assert nothing_written(out) == []


@pytest.mark.ble
async def test_a_stop_while_looking_for_orphe_insoles_ends_the_scan_too(emulation, tmp_path):
    await emulation()  # a fake BlueZ with our insoles only: no ORPHE INSOLE to find
    out = tmp_path / "orphe.parquet"
    session = capture_session("orphe", out, source_options={"scan_timeout_s": 20.0})
    source = session.source
    task = asyncio.create_task(session.run())
    await asyncio.sleep(STOP_AFTER_S)
    assert source._scan is not None and not source._scan.done()  # still looking
    error, _ = await stop_and_wait(session, task)
    assert isinstance(error, StoppedBeforeRecording)
    assert str(error) == "stopped before the insoles connected; nothing was saved"
    # the source's one scan (its own task, shared by both feet) ended with the session, not 19 s later
    assert source._scan.done()
    assert nothing_written(out) == []


# ---------------------------------------------------------------- insole record --emulate, Ctrl-C at start-up


async def test_bumble_warning_after_a_cancelled_start_up_is_dropped_and_only_then():
    from insole._cli._record import _QuietAfterInterrupt

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("bumble.host", logging.WARNING, __file__, 0, message, None, None)

    quiet = _QuietAfterInterrupt()
    late_reply = record("!!! no pending response future to set")
    assert quiet.filter(late_reply)  # no command task yet: shown
    command = asyncio.create_task(asyncio.Event().wait())
    quiet.task = command
    await asyncio.sleep(0)
    assert quiet.filter(late_reply)  # the command runs: a late reply would be a real fault, shown
    command.cancel()  # what Ctrl-C does to it while the emulated insoles start
    assert not quiet.filter(late_reply)
    assert quiet.filter(record("!!! command result mismatch, expected 0x1 but got 0x2"))  # other warnings stay
    await asyncio.gather(command, return_exceptions=True)
    assert not quiet.filter(late_reply)  # also while asyncio.run tears the rest down after the task ended

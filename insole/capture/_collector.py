"""The BLE edge: find the insoles with one scanner, connect, command, receive, reconnect.

This is, with the emulated firmware, the only asyncio code in the project.
It uses plain bleak (``BleakScanner``, ``BleakClient``); on Linux that is
BlueZ over D-Bus, and against the emulated insoles it is the very same code
with ``DBUS_SYSTEM_BUS_ADDRESS`` pointing at the fake BlueZ.

What it does, per ``PROTOCOL.md``:

* **One scanner** for both insoles (BlueZ allows one discovery per client; two
  concurrent scans fail with ``org.bluez.Error.InProgress``). An insole is
  recognised by its service UUID plus manufacturer data that decodes (foot,
  serial, battery, protocol version), or by its local name ``INSOLE-L-xxxx``.
* Per insole an :class:`InsoleLink` connects, turns on the control
  notifications, asks ``GET_INFO`` (protocol version, foot, battery, settings),
  configures rate and batching, syncs the clock with ``READ_CLOCK`` round
  trips, subscribes to the samples and starts streaming. Commands go through
  the codec; each reply is matched to its command by token.
* The notification callback is deliberately tiny: it appends
  ``(arrival time, bytes)`` to the link's inbox. The session decodes and
  accounts in a periodic task (``_session``), so a burst of notifications
  never waits for numpy.
* On link loss (``disconnected_callback``) the link reconnects with back-off
  while the session goes on; the streams before and after are told apart in
  the inbox by a :class:`StreamStart` marker so the gap can be marked exactly.

The source seam: an insole that does not speak ``PROTOCOL.md`` over BLE (a
Moticon OpenGo stream over UDP, see ``insole.capture._sources``) is found by
its source, not by this scanner, and comes as a :class:`FoundInsole` whose
``transport`` is a :class:`LinkTransport`. The link then keeps everything
that is not about the wire (its state, counters, inbox, the ready/go/stop
handshake with the session, reconnection with back-off) and lets the
transport connect, stream and zero. With ``transport=None`` (our insoles)
nothing here changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from firmware_protocol import (
    BATTERY_LEVEL_UUID,
    COMPANY_ID,
    CONTROL_CHAR_UUID,
    DATA_CHAR_UUID,
    INSOLE_SERVICE_UUID,
    PROTOCOL_VERSION,
    ClockReply,
    Foot,
    GetInfo,
    Identify,
    InfoReply,
    ProtocolError,
    ReadClock,
    SetSampleRate,
    StartStreaming,
    Status,
    StopStreaming,
    Tare,
    decode_manufacturer_data,
    decode_reply,
    encode_command,
    packet_size,
    parse_local_name,
)
from insole._errors import DeviceError
from insole.capture._clock import ClockEstimator

__all__ = [
    "CaptureParams",
    "FoundInsole",
    "InsoleLink",
    "InsoleSelector",
    "LinkCounters",
    "LinkTransport",
    "SessionClock",
    "StreamStart",
    "identify_advertisement",
    "scan_insoles",
    "select_insoles",
]

logger = logging.getLogger(__name__)

SIDES = ("left", "right")
_FOOT_OF_SIDE = {"left": Foot.LEFT, "right": Foot.RIGHT}


@dataclass(frozen=True)
class CaptureParams:
    """How a capture talks to the insoles. Times are wall-clock seconds unless named otherwise.

    Attributes:
        sample_rate_hz: 50, 100 or 200.
        samples_per_packet: Samples batched per notification (1..7; PROTOCOL.md
            section 7 advises >= 2 at 200 Hz).
        imu: Ask for the 6-axis IMU (refused by insoles without one).
        tare: Zero the insoles (feet unloaded) before recording.
        scan_timeout_s: How long to look for the insoles.
        connect_timeout_s: bleak's connect timeout, and how long the first
            connection of each insole may take before the session gives up.
        command_timeout_s: How long to wait for a command's reply.
        reconnect_backoff_s: Waits between reconnection attempts (the last one
            repeats); reset after a connection that streamed.
        sync_round_trips: READ_CLOCK exchanges at each (re)connection.
        sync_interval_s: One READ_CLOCK exchange this often while streaming.
        flush_interval_s: How often received packets are decoded and written
            (samples reach the disk within about twice this).
        reorder_window_s: How long a packet waits for earlier ones before it is written.
        stop_grace_s: After STOP_STREAMING, how long packets formed before it may still arrive.
        stall_timeout_s: A streaming link that delivers nothing for this long is treated as
            lost and reconnected (a link can die without BlueZ noticing for a while).
    """

    sample_rate_hz: int = 100
    samples_per_packet: int = 1
    imu: bool = False
    tare: bool = True
    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 20.0
    command_timeout_s: float = 5.0
    reconnect_backoff_s: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
    sync_round_trips: int = 8
    sync_interval_s: float = 2.0
    flush_interval_s: float = 0.25
    reorder_window_s: float = 0.1
    stop_grace_s: float = 0.2
    stall_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        # validate through the codec so the rules live in one place
        SetSampleRate(self.sample_rate_hz, self.samples_per_packet, self.imu)
        if not self.reconnect_backoff_s or min(self.reconnect_backoff_s) < 0:
            raise ValueError("reconnect_backoff_s needs at least one non-negative wait")
        if self.flush_interval_s <= 0 or self.sync_round_trips < 1:
            raise ValueError("flush_interval_s must be > 0 and sync_round_trips >= 1")

    @property
    def period_us(self) -> int:
        return 1_000_000 // self.sample_rate_hz


class SessionClock:
    """The session clock: seconds since the recording started, on the host's monotonic clock.

    ``speed`` > 1 only for emulated insoles running faster than real time
    (``EmulatedInsole`` and this clock then both count emulated seconds), so
    that durations, rates and the time axis of the file are those of the
    emulated world.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError("speed must be > 0")
        self.speed = float(speed)
        self.origin = time.monotonic()

    def restart(self) -> None:
        """Session time 0 is now."""
        self.origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self.origin) * self.speed

    def wall_s(self, session_s: float) -> float:
        """Wall-clock seconds that ``session_s`` of session time take."""
        return session_s / self.speed


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class FoundInsole:
    """An insole seen advertising.

    ``side`` is None when the advertisement does not say; ``problem`` is set
    when it is one of ours but cannot be used (e.g. another protocol version).
    """

    address: str
    name: str | None
    side: str | None
    serial: int | None
    battery_pct: int | None
    rssi: int | None
    protocol_version: int | None
    problem: str | None = None
    device: BLEDevice | None = field(default=None, compare=False, repr=False)
    #: How to reach an insole of another source (None: our BLE protocol, through ``device``).
    transport: LinkTransport | None = field(default=None, compare=False, repr=False)


def identify_advertisement(device: BLEDevice, adv: AdvertisementData) -> FoundInsole | None:
    """The insole an advertisement describes, or None if it is not one (pure).

    PROTOCOL.md section 2: the company id 0xFFFF alone proves nothing; the
    service UUID must be advertised too, or the name must be an insole's.
    """
    name = adv.local_name or device.name
    has_service = INSOLE_SERVICE_UUID in [u.lower() for u in adv.service_uuids]
    side = serial = battery = version = None
    problem = None
    name_side = None
    if name:
        with contextlib.suppress(ProtocolError):
            foot, _ = parse_local_name(name)
            name_side = foot.side
    payload = adv.manufacturer_data.get(COMPANY_ID)
    if payload is not None and has_service:
        try:
            data = decode_manufacturer_data(payload)
        except ProtocolError as error:
            version = payload[0] if payload else None
            problem = (
                f"speaks protocol version {version}, this insole software speaks {PROTOCOL_VERSION}"
                if version not in (None, PROTOCOL_VERSION)
                else f"unreadable manufacturer data ({error})"
            )
        else:
            side, serial, battery, version = data.foot.side, data.serial, data.battery_pct, data.protocol_version
    if side is None and problem is None:
        side = name_side
    if not has_service and name_side is None:
        return None
    return FoundInsole(
        address=device.address,
        name=name,
        side=side,
        serial=serial,
        battery_pct=battery,
        rssi=adv.rssi,
        protocol_version=version,
        problem=problem,
        device=device,
    )


@dataclass(frozen=True)
class InsoleSelector:
    """Which insole to use for a foot: a BLE address, a local name, or (neither) any of that side."""

    side: str
    address: str | None = None
    name: str | None = None

    def matches(self, found: FoundInsole) -> bool:
        if found.problem is not None:
            return False
        if self.address is not None:
            return found.address.upper() == self.address.upper()
        if self.name is not None:
            return found.name == self.name
        return found.side == self.side

    @classmethod
    def parse(cls, side: str, text: str | None) -> InsoleSelector:
        """``--left AA:BB:..`` (address) or ``--left INSOLE-L-1A2B`` (name) or None (automatic)."""
        if text is None:
            return cls(side)
        if text.count(":") == 5 or text.count("-") == 5 and len(text) == 17:
            return cls(side, address=text.replace("-", ":").upper())
        return cls(side, name=text)


def select_insoles(found: Mapping[str, FoundInsole], selectors: Mapping[str, InsoleSelector]) -> dict[str, FoundInsole]:
    """Pick one insole per wanted side; the strongest signal wins among candidates (pure)."""
    chosen: dict[str, FoundInsole] = {}
    for side, selector in selectors.items():
        candidates = [
            f for f in found.values() if selector.matches(f) and f.address not in {c.address for c in chosen.values()}
        ]
        if candidates:
            chosen[side] = max(candidates, key=lambda f: f.rssi if f.rssi is not None else -999)
    return chosen


async def scan_insoles(
    timeout_s: float,
    *,
    selectors: Mapping[str, InsoleSelector] | None = None,
    on_found: Callable[[FoundInsole], None] | None = None,
) -> dict[str, FoundInsole]:
    """Scan with one ``BleakScanner``; return every insole seen, by address.

    With ``selectors`` the scan ends as soon as every wanted side has a match.
    """
    found: dict[str, FoundInsole] = {}
    complete = asyncio.Event()

    def detected(device: BLEDevice, adv: AdvertisementData) -> None:
        insole = identify_advertisement(device, adv)
        if insole is None:
            return
        is_new = insole.address not in found
        found[insole.address] = insole
        if is_new and on_found is not None:
            on_found(insole)
        if selectors and len(select_insoles(found, selectors)) == len(selectors):
            complete.set()

    try:
        scanner = BleakScanner(detected)
        await scanner.start()
    except FileNotFoundError:
        raise DeviceError(
            "cannot scan for insoles: no D-Bus system bus here (is BlueZ installed and running?)"
        ) from None
    except (BleakError, OSError, EOFError) as error:
        raise DeviceError(f"cannot scan for insoles: {error} (is Bluetooth available and switched on?)") from None
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(complete.wait(), timeout_s)
    finally:
        with contextlib.suppress(BleakError, OSError, EOFError):
            await scanner.stop()
    return found


# --------------------------------------------------------------------------- one insole


@dataclass(frozen=True)
class StreamStart:
    """Inbox marker: the packets after it belong to a new stream (numbered from 0).

    ``device_base_us`` is added to every device time of the stream (non-zero
    only after the insole rebooted, to keep its clock continuous).
    """

    samples_per_packet: int
    device_base_us: int


@dataclass
class LinkCounters:
    """What happened on one insole's link (the session adds the packet accounting)."""

    connections: int = 0
    reconnects: int = 0
    failed_attempts: int = 0
    link_losses: int = 0
    device_reboots: int = 0
    bad_replies: int = 0
    tared: bool = False
    tare_lost: bool = False
    battery_pct_start: int | None = None
    battery_pct: int | None = None
    last_error: str | None = None
    link_down_since_s: float | None = None
    stalls: int = 0


class LinkTransport(Protocol):
    """The wire of a non-BLE source, driven by its :class:`InsoleLink` (see the module docstring).

    ``connect_and_stream`` is one connection: it readies the link the first
    time (:meth:`InsoleLink.mark_ready`, then :meth:`InsoleLink.wait_for_go`),
    opens a stream (:meth:`InsoleLink.begin_stream`, a :class:`StreamStart`
    in the inbox before the stream's first payload), fills the inbox and
    returns True when the stream was lost or the link was stopped after it
    streamed, False when it never streamed; raising means a failed attempt
    (the link retries with back-off), :class:`FatalLinkError` ends the link.
    """

    async def connect_and_stream(self, link: InsoleLink) -> bool: ...

    async def tare(self, link: InsoleLink) -> bool: ...


class FatalLinkError(DeviceError):
    """A problem that reconnecting cannot fix (wrong foot, unsupported settings, MTU too small)."""


class InsoleLink:
    """One insole's connection for the length of a session, reconnecting as needed.

    The session reads ``inbox`` (swaps it for an empty list), watches ``state``
    and ``counters``, and drives the start with :meth:`wait_ready`,
    :meth:`tare` and :meth:`go`.
    """

    def __init__(
        self,
        side: str,
        found: FoundInsole,
        params: CaptureParams,
        clock: SessionClock,
        estimator: ClockEstimator,
        *,
        on_state: Callable[[InsoleLink], None] | None = None,
        last_device_us: Callable[[], int | None] | None = None,
        rescan: Callable[[InsoleLink], Awaitable[FoundInsole | None]] | None = None,
    ) -> None:
        self.side = side
        self.found = found
        self.params = params
        self.clock = clock
        self.estimator = estimator
        self.inbox: list[tuple[float, bytes | StreamStart]] = []
        self.state = "connecting"
        self.counters = LinkCounters(battery_pct_start=found.battery_pct, battery_pct=found.battery_pct)
        self.info: InfoReply | None = None
        self.device_base_us = 0
        self._on_state = on_state
        self._last_device_us = last_device_us or (lambda: None)
        self._rescan = rescan
        self._client: BleakClient | None = None
        self._pending: dict[int, asyncio.Future[tuple[Any, float]]] = {}
        self._token = 0
        self._ready = asyncio.Event()
        self._go = asyncio.Event()
        self._stopping = asyncio.Event()
        self._link_lost = asyncio.Event()
        self._wake = asyncio.Event()
        self._streamed_once = False
        self.fatal: BaseException | None = None
        self.last_data_s = 0.0  # session time of the last data notification

    # -- the session's handles ---------------------------------------------

    async def wait_ready(self) -> None:
        """Return once connected, checked and configured for the first time (raises if fatal)."""
        waiter = asyncio.ensure_future(self._ready.wait())
        try:
            while not self._ready.is_set():
                if self.fatal is not None:
                    raise self.fatal
                await asyncio.wait({waiter}, timeout=0.05)
        finally:
            waiter.cancel()
        if self.fatal is not None:
            raise self.fatal

    def go(self) -> None:
        """Start streaming (after every insole is ready and tared)."""
        self._go.set()

    # -- for a LinkTransport (another source's wire) ---------------------------

    @property
    def stopping(self) -> bool:
        """True once the session asked this link to stop."""
        return self._stopping.is_set()

    def mark_ready(self) -> None:
        """The first connection is made and checked: the session may tare and go."""
        if not self._ready.is_set():
            self._ready.set()
            self._set_state("ready")

    async def wait_for_go(self) -> bool:
        """Wait for :meth:`go`; False if the link is being stopped instead."""
        await self._wait_or_lost(self._go)
        return self._go.is_set() and not self._stopping.is_set()

    async def wait_stopping(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` (wall) for :meth:`stop`; True if it came."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout_s)
        return self._stopping.is_set()

    def begin_stream(self, arrived_s: float, device_base_us: int = 0) -> None:
        """A new stream starts with the next payload: mark it in the inbox and count the reconnect."""
        self.inbox.append((arrived_s, StreamStart(self.params.samples_per_packet, device_base_us)))
        self.last_data_s = arrived_s
        if self._streamed_once:
            self.counters.reconnects += 1
        self._streamed_once = True
        self.counters.link_down_since_s = None
        self._set_state("streaming")

    def stop(self) -> None:
        """Ask the link to stop streaming and disconnect; :meth:`run` then returns."""
        self._stopping.set()
        self._wake.set()

    async def tare(self) -> bool:
        """Send TARE (the wearer's feet unloaded); True when the insole confirmed it."""
        if self.found.transport is not None:
            ok = await self.found.transport.tare(self)
            self.counters.tared = self.counters.tared or ok
            return ok
        reply, _, _ = await self._command(Tare)
        ok = reply.status is Status.OK
        self.counters.tared = self.counters.tared or ok
        return ok

    async def identify(self, duration_s: int = 5) -> bool:
        """Make the insole blink and buzz so a person can tell which one it is; True if it did."""
        if self.found.transport is not None:
            return False  # no source but ours can be told to blink
        reply, _, _ = await self._command(lambda token: Identify(duration_s, token=token))
        return reply.status is Status.OK

    # -- callbacks (keep them tiny: they run for every notification) ----------

    def _on_data(self, _characteristic: Any, data: bytearray) -> None:
        arrived = self.clock.now()
        self.inbox.append((arrived, bytes(data)))
        self.last_data_s = arrived

    def _on_control(self, _characteristic: Any, data: bytearray) -> None:
        received = self.clock.now()
        try:
            reply = decode_reply(data)
        except ProtocolError as error:
            self.counters.bad_replies += 1
            logger.warning("%s insole: unreadable reply %s (%s)", self.side, bytes(data).hex(), error)
            return
        future = self._pending.pop(reply.token, None)
        if future is not None and not future.done():
            future.set_result((reply, received))

    def _on_disconnect(self, _client: BleakClient) -> None:
        self._link_lost.set()
        self._wake.set()

    # -- the life of the link -------------------------------------------------

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self._on_state is not None:
                self._on_state(self)

    async def run(self) -> None:
        """Connect, stream, and reconnect with back-off until :meth:`stop`."""
        backoff = self.params.reconnect_backoff_s
        attempt = 0
        try:
            while not self._stopping.is_set():
                streamed = False
                try:
                    transport = self.found.transport
                    streamed = await (
                        self._connect_and_stream() if transport is None else transport.connect_and_stream(self)
                    )
                except FatalLinkError as error:
                    self.fatal = error
                    self.counters.last_error = str(error)
                    self._set_state("failed")
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 - any BLE/D-Bus failure means: try again
                    self.counters.failed_attempts += 1
                    self.counters.last_error = f"{type(error).__name__}: {error}"
                    logger.info("%s insole: connection attempt failed: %s", self.side, self.counters.last_error)
                if self._stopping.is_set():
                    break
                if streamed:
                    attempt = 0
                    self.counters.link_losses += 1
                    if self.counters.link_down_since_s is None:
                        self.counters.link_down_since_s = self.clock.now()
                self._set_state("reconnecting" if self._streamed_once else "connecting")
                delay = backoff[min(attempt, len(backoff) - 1)]
                attempt += 1
                if attempt >= 3 and attempt % 3 == 0 and self._rescan is not None and self.found.transport is None:
                    # BlueZ forgets an unpaired device some time after it disappears; after a few
                    # failed attempts look for it again (through the session's one scanner)
                    with contextlib.suppress(Exception):
                        seen = await self._rescan(self)
                        if seen is not None and seen.device is not None:
                            self.found = seen
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            self._set_state("stopped" if self.fatal is None else "failed")

    async def _connect_and_stream(self) -> bool:
        """One connection: returns True if it streamed (then lost the link or was stopped)."""
        params = self.params
        self._link_lost = asyncio.Event()
        assert self.found.device is not None
        client = BleakClient(
            self.found.device, disconnected_callback=self._on_disconnect, timeout=params.connect_timeout_s
        )
        self._client = client
        streamed = False
        try:
            await client.connect()
            self.counters.connections += 1
            await client.start_notify(CONTROL_CHAR_UUID, self._on_control)
            info = await self._get_info()
            await self._configure(client, info)
            if not self._ready.is_set():
                self._ready.set()
                self._set_state("ready")
                await self._wait_or_lost(self._go)
                if self._stopping.is_set() or self._link_lost.is_set():
                    return False
            self._set_state("syncing")
            await self._sync_clock(params.sync_round_trips)
            await client.start_notify(DATA_CHAR_UUID, self._on_data)
            self.inbox.append((self.clock.now(), StreamStart(params.samples_per_packet, self.device_base_us)))
            reply, _, _ = await self._command(StartStreaming)
            if reply.status is Status.MTU_TOO_SMALL:
                raise FatalLinkError(
                    f"{self.side} insole ({self.found.address}) refuses to stream: the ATT MTU is too small for "
                    f"{params.samples_per_packet} sample(s) per packet; use --samples-per-packet 1"
                )
            if reply.status is not Status.OK:
                raise DeviceError(f"{self.side} insole: START_STREAMING answered {reply.status.name}")
            streamed = True
            self.last_data_s = self.clock.now()
            if self._streamed_once:
                self.counters.reconnects += 1
            self._streamed_once = True
            self.counters.link_down_since_s = None
            self._set_state("streaming")
            await self._stream_until_lost_or_stopped()
            if self._stopping.is_set() and not self._link_lost.is_set():
                await self._stop_streaming()
            return True
        except Exception:
            if streamed:
                return True  # the link dropped mid-command while streaming: a link loss, not a failure
            raise
        finally:
            for future in self._pending.values():
                future.cancel()
            self._pending.clear()
            self._client = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), params.command_timeout_s)

    async def _wait_or_lost(self, event: asyncio.Event) -> None:
        waiters = {
            asyncio.ensure_future(event.wait()),
            asyncio.ensure_future(self._link_lost.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        }
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _stream_until_lost_or_stopped(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.params.sync_interval_s
        stall_s = self.params.stall_timeout_s * self.clock.speed  # session seconds
        next_sync = loop.time() + interval
        while not (self._stopping.is_set() or self._link_lost.is_set()):
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(min(0.5, next_sync - loop.time()), 0.0))
            if self._stopping.is_set() or self._link_lost.is_set():
                return
            if self.clock.now() - self.last_data_s > stall_s:
                self.counters.stalls += 1
                self.counters.last_error = f"no data for {self.params.stall_timeout_s:g} s while streaming"
                logger.warning("%s insole: %s; reconnecting", self.side, self.counters.last_error)
                self._link_lost.set()
                return
            if loop.time() < next_sync:
                continue
            next_sync = loop.time() + interval
            # a failure here is either the link going down (seen via _link_lost) or one lost
            # exchange; neither should end the stream
            with contextlib.suppress(Exception):
                await self._sync_clock(1)
            with contextlib.suppress(Exception):
                await self._read_battery()

    async def _stop_streaming(self) -> None:
        with contextlib.suppress(Exception):
            await self._command(StopStreaming)
            # packets formed before the STOP may still be on their way
            await asyncio.sleep(self.params.stop_grace_s)

    # -- commands ---------------------------------------------------------------

    async def _command(self, make: Callable[..., Any]) -> tuple[Any, float, float]:
        """Write one command (with response) and wait for its reply: ``(reply, sent_s, received_s)``."""
        client = self._client
        if client is None:
            raise DeviceError(f"{self.side} insole is not connected")
        self._token = (self._token + 1) % 256
        token = self._token
        command = make(token=token)
        future: asyncio.Future[tuple[Any, float]] = asyncio.get_running_loop().create_future()
        self._pending[token] = future
        sent = self.clock.now()
        await client.write_gatt_char(CONTROL_CHAR_UUID, encode_command(command), response=True)
        try:
            reply, received = await asyncio.wait_for(future, self.params.command_timeout_s)
        except asyncio.TimeoutError:
            self._pending.pop(token, None)
            raise DeviceError(
                f"{self.side} insole: no reply to {type(command).__name__} within {self.params.command_timeout_s} s"
            ) from None
        return reply, sent, received

    async def _get_info(self) -> InfoReply:
        reply, _, _ = await self._command(GetInfo)
        if not isinstance(reply, InfoReply):
            raise DeviceError(f"{self.side} insole: GET_INFO answered {reply.status.name}")
        wanted = _FOOT_OF_SIDE[self.side]
        if reply.foot is not wanted:
            raise FatalLinkError(
                f"the insole chosen for the {self.side} foot ({self.found.name}, {self.found.address}) "
                f"says it is a {reply.foot.side} insole"
            )
        self.info = reply
        self.counters.battery_pct = reply.battery_pct
        if self.counters.battery_pct_start is None:
            self.counters.battery_pct_start = reply.battery_pct
        return reply

    async def _configure(self, client: BleakClient, info: InfoReply) -> None:
        params = self.params
        if params.imu and not info.imu_present:
            raise FatalLinkError(f"{self.side} insole ({self.found.address}) has no IMU; record without --imu")
        needed = packet_size(params.samples_per_packet, params.imu)
        characteristic = client.services.get_characteristic(DATA_CHAR_UUID)
        if characteristic is None:
            raise FatalLinkError(f"{self.side} insole ({self.found.address}) has no data characteristic")
        # BlueZ reports MTU - 3 here (client.mtu_size is always 23 on BlueZ); the firmware
        # enforces the limit too (MTU_TOO_SMALL), this only gives a clearer message early.
        if (
            characteristic.max_write_without_response_size < needed
            and characteristic.max_write_without_response_size > 20
        ):
            raise FatalLinkError(
                f"{self.side} insole: packets of {needed} bytes do not fit the link's "
                f"{characteristic.max_write_without_response_size}-byte notifications; use fewer samples per packet"
            )
        if info.streaming:
            await self._command(StopStreaming)
        if (info.sample_rate_hz, info.samples_per_packet, info.imu_enabled) != (
            params.sample_rate_hz,
            params.samples_per_packet,
            params.imu,
        ):
            reply, _, _ = await self._command(
                lambda token: SetSampleRate(params.sample_rate_hz, params.samples_per_packet, params.imu, token=token)
            )
            if reply.status is not Status.OK:
                raise FatalLinkError(
                    f"{self.side} insole refuses {params.sample_rate_hz} Hz x {params.samples_per_packet}: "
                    f"{reply.status.name}"
                )

    async def _read_battery(self) -> None:
        client = self._client
        if client is None:
            return
        value = await asyncio.wait_for(client.read_gatt_char(BATTERY_LEVEL_UUID), self.params.command_timeout_s)
        if value:
            self.counters.battery_pct = int(value[0])

    async def _sync_clock(self, round_trips: int) -> None:
        """READ_CLOCK exchanges into the clock estimator; detects an insole that rebooted."""
        for _ in range(round_trips):
            reply, sent, received = await self._command(ReadClock)
            if not isinstance(reply, ClockReply):
                raise DeviceError(f"{self.side} insole: READ_CLOCK answered {reply.status.name}")
            device_us = reply.timestamp_us + self.device_base_us
            last = self._last_device_us()
            if last is not None and device_us < last:
                # The clock went backwards: the insole rebooted (its clock restarts at 0, its tare
                # is gone). Continue the device time line where the model says we are now.
                model = self.estimator.model()
                if model is not None:
                    self.device_base_us = round(model.device_us((sent + received) / 2)) - reply.timestamp_us
                else:
                    self.device_base_us = last + self.params.period_us - reply.timestamp_us
                device_us = reply.timestamp_us + self.device_base_us
                self.counters.device_reboots += 1
                if self.counters.tared:
                    self.counters.tare_lost = True
            self.estimator.add_round_trip(sent, device_us, received)

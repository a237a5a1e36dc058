"""Moticon OpenGo as a source: the desktop software's UDP stream, received on this computer.

Chain: insoles -> BLE -> OpenGo mobile app -> network -> OpenGo desktop
software -> UDP datagrams to a host and port (``docs/source-moticon.md``).
We listen on ``127.0.0.1:8888`` by default (``MoticonOptions``). Each
datagram is one sample of both feet (``_moticon_decode``).

What the collector cannot be told, it infers, and says so:

* **No sequence number.** A datagram's place is its timestamp: its sample
  index is ``round((t - t0) / period)`` at the configured rate, ``t0`` the
  first timestamp of the stream. A missing index is a lost datagram (a gap,
  never filled), a repeated one a duplicate (kept once), a lower one a
  reordered datagram (put back in order if it comes within the reorder
  window, else counted late and left out).
* **Timestamp unit.** Not stated by the stream: unless given, it is taken
  from the first datagrams (the median step between their timestamps must be
  one sample period in s, ms or µs, else the link refuses to record: the
  rate setting and the desktop's disagree).
* **Link loss.** A stream that delivers nothing for ``stall_timeout_s`` is a
  link loss; the next datagram opens a new stream (a reconnect), and the
  time in between is one gap, as long as it lasted.
* **Clock restarts.** A timestamp that jumps back by more than
  ``restart_tolerance_s``, or ahead by that much more than the host's clock
  says passed, means the desktop restarted its clock: a new stream starts
  there, its device time rebased to follow on from the host's elapsed time,
  and it is counted. A sender that stalled and resumes with the next
  timestamp is not a restart: its clock is trusted.
* **A clock that does not tick at the rate.** Timestamps more than a quarter
  period from their slot are counted (``timestamps_off_grid``): the samples are
  still placed at the nearest slot, but that place is a guess.
* **One clock, both feet.** Both feet come in one datagram with one
  timestamp, so left and right are aligned by construction; the timestamp
  clock is mapped to the session clock by the collector's lower envelope of
  arrivals, as for any insole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from insole._errors import DeviceError
from insole.capture._collector import (
    CaptureParams,
    FatalLinkError,
    FoundInsole,
    InsoleLink,
    SessionClock,
    StreamStart,
)
from insole.capture._sources._moticon_decode import FIELD_COUNT, decode_datagrams
from insole.capture._sources._seam import Decoded, ValueTimeline

__all__ = ["MoticonCaptureParams", "MoticonOptions", "MoticonUdpSource", "timestamp_unit"]

logger = logging.getLogger(__name__)

_UNITS_S = (1.0, 1e-3, 1e-6)
_UNIT_NAMES = {1.0: "s", 1e-3: "ms", 1e-6: "µs"}
_SEQUENCE_MASK = 0xFFFFFFFF


@dataclass(frozen=True)
class MoticonOptions:
    """Where and how the OpenGo desktop streams.

    Attributes:
        host: Address to listen on (``127.0.0.1``: only this computer; ``0.0.0.0``: any interface,
            for a desktop running on another machine).
        port: UDP port (the desktop's "Port ON" setting; 8888 by default).
        sample_rate_hz: The rate set in the OpenGo app/desktop (a whole number of µs per sample).
        timestamp_unit_s: Seconds per timestamp unit (1, 0.001 or 1e-6); None: found from the stream.
        stall_timeout_s: Silence that counts as a link loss (wall seconds).
        restart_tolerance_s: How far a timestamp may run from the host's clock between two datagrams
            before it is taken as the desktop restarting its clock.
        unit_probe_datagrams: Datagrams looked at to find the timestamp unit.
    """

    host: str = "127.0.0.1"
    port: int = 8888
    sample_rate_hz: int = 100
    timestamp_unit_s: float | None = None
    stall_timeout_s: float = 1.0
    restart_tolerance_s: float = 2.0
    unit_probe_datagrams: int = 8

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"UDP port must be 1..65535, got {self.port}")
        if self.sample_rate_hz <= 0 or 1_000_000 % self.sample_rate_hz:
            raise ValueError(f"sample rate {self.sample_rate_hz} Hz has no whole-µs period")
        if self.timestamp_unit_s is not None and self.timestamp_unit_s not in _UNITS_S:
            raise ValueError("timestamp_unit_s must be 1, 0.001 or 1e-6 (s, ms or µs)")
        if self.stall_timeout_s <= 0 or self.restart_tolerance_s <= 0 or self.unit_probe_datagrams < 2:
            raise ValueError("stall_timeout_s and restart_tolerance_s must be > 0, unit_probe_datagrams >= 2")

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address in brackets, as in a URL
        return f"udp://{host}:{self.port}"


@dataclass(frozen=True)
class MoticonCaptureParams(CaptureParams):
    """Capture parameters for a UDP source: any rate with a whole-µs period, one sample per datagram,
    the IMU always on, no tare (zeroing is the OpenGo app's)."""

    sample_rate_hz: int = 100
    imu: bool = True
    tare: bool = False
    stall_timeout_s: float = 1.0

    def __post_init__(self) -> None:
        if self.sample_rate_hz <= 0 or 1_000_000 % self.sample_rate_hz:
            raise ValueError(f"sample rate {self.sample_rate_hz} Hz has no whole-µs period")
        if self.samples_per_packet != 1 or not self.imu:
            raise ValueError("a Moticon datagram is one sample of both feet, with the IMU")
        if self.flush_interval_s <= 0 or not self.reconnect_backoff_s or min(self.reconnect_backoff_s) < 0:
            raise ValueError("flush_interval_s must be > 0 and reconnect_backoff_s non-negative")


def timestamp_unit(timestamps: Sequence[float] | np.ndarray, sample_rate_hz: float) -> float | None:
    """Seconds per timestamp unit (1, 1e-3 or 1e-6) that makes the typical step one sample period (pure).

    The median step between the distinct sorted timestamps must be 0.75..1.5
    periods in that unit (a stream at half or twice the configured rate is
    refused); None when no unit fits.
    """
    values = np.unique(np.asarray(timestamps, dtype=np.float64))
    if values.size < 2:
        return None
    step = float(np.median(np.diff(values)))
    period_s = 1.0 / sample_rate_hz
    best = min(_UNITS_S, key=lambda unit: abs(math.log(step * unit / period_s)))
    ratio = step * best / period_s
    return best if 0.75 <= ratio <= 1.5 else None


#: Receive buffer asked for (the kernel may give less): about 10 s of datagrams at 100 Hz, so a
#: host busy for a moment (writing, a slow subscriber) loses none
_RECEIVE_BUFFER_BYTES = 4 << 20


def _listening_socket(address: tuple[str, int]) -> socket.socket:
    """A UDP socket bound to ``address`` with a large receive buffer (raises OSError if the port is taken)."""
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER_BYTES)
        sock.bind(address)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, source: MoticonUdpSource) -> None:
        self.source = source

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.source._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:  # pragma: no cover - ICMP errors on a listening socket
        self.source.socket_errors += 1


@dataclass
class _FootDecodeState:
    """Per-foot decoding across batches: the stream's first timestamp and the device-time rebase."""

    t0_us: int | None = None
    base_us: int = 0
    last_us: int | None = None
    last_arrival_s: float | None = None
    clock_restarts: int = 0
    off_grid: int = 0


class _Wire:
    """One foot's end of the shared socket: a :class:`~insole.capture._collector.LinkTransport`."""

    def __init__(self, source: MoticonUdpSource, side: str) -> None:
        self.source = source
        self.side = side
        self.state = "idle"  # "idle": not recording; "armed": the next datagram opens a stream; "streaming"
        self.link: InsoleLink | None = None
        self.readied = False

    def deliver(self, arrived_s: float, data: bytes) -> None:
        link = self.link
        if link is None or self.state == "idle":
            return
        if self.state == "armed":
            link.begin_stream(arrived_s)
            self.state = "streaming"
        link.inbox.append((arrived_s, data))
        link.last_data_s = arrived_s

    async def connect_and_stream(self, link: InsoleLink) -> bool:
        source, params = self.source, link.params
        self.link = link
        try:
            await source.open(link.clock, self.side)
            if not self.readied:
                if not await source.wait_unit(params.connect_timeout_s, link):
                    return False
                link.counters.connections += 1
                self.readied = True
                link.mark_ready()
                if not await link.wait_for_go():
                    return False
            if self.state == "idle":
                self.state = "armed"
            waited = 0.0
            while self.state == "armed":
                if await link.wait_stopping(0.05):
                    return False
                waited += 0.05
                if waited >= params.connect_timeout_s:
                    raise DeviceError(f"no datagram on {source.options.address} for {params.connect_timeout_s:g} s")
            stall_s = params.stall_timeout_s * link.clock.speed
            while not await link.wait_stopping(0.05):
                if link.clock.now() - link.last_data_s > stall_s:
                    link.counters.stalls += 1
                    link.counters.last_error = f"no datagram for {params.stall_timeout_s:g} s while streaming"
                    logger.info("moticon %s: %s; waiting for the stream to resume", self.side, link.counters.last_error)
                    self.state = "armed"
                    return True
            return True
        except (asyncio.CancelledError, FatalLinkError):
            source.release(self.side)  # the session is over for this foot; a failed attempt keeps listening
            raise
        finally:
            if link.stopping:
                self.state = "idle"
                source.release(self.side)

    async def tare(self, link: InsoleLink) -> bool:
        return False  # the stream has no way back to the insoles: zero them in the OpenGo app


class MoticonUdpSource:
    """Moticon OpenGo insoles through the desktop software's UDP stream (a :class:`~._seam.Source`)."""

    name = "moticon"
    layout_name = "moticon16"
    unit = "kPa"
    channels: tuple[str, ...] = ("vendor_total_force_n", "vendor_cop_x_norm", "vendor_cop_y_norm")
    transport_label = "UDP (Moticon OpenGo desktop software stream)"
    clock_method = (
        "one timestamp per datagram for both feet (the OpenGo desktop's clock) mapped to the session clock "
        "by the lower envelope of datagram arrivals (Moon et al. 1999); sample index inferred from the "
        "timestamp at the configured rate (UDP carries no sequence number); no round trips are possible, "
        "so the absolute latency is unknown; see docs/source-moticon.md"
    )

    def __init__(self, options: MoticonOptions | None = None) -> None:
        self.options = options if options is not None else MoticonOptions()
        self.unit_s: float | None = self.options.timestamp_unit_s
        self.unit_problem: str | None = None
        self.datagrams = 0
        self.socket_errors = 0
        self.senders: set[str] = set()
        self.decode_state: dict[str, _FootDecodeState] = {}
        self._wires: dict[str, _Wire] = {}
        self._users: set[str] = set()
        self._transport: asyncio.DatagramTransport | None = None
        self._opening: asyncio.Task[Any] | None = None
        self._clock: SessionClock | None = None
        self._probe: list[float] = []
        self._unit_event: asyncio.Event | None = None

    # ------------------------------------------------------------------ discovery and facts

    def capture_params(self) -> CaptureParams:
        return MoticonCaptureParams(
            sample_rate_hz=self.options.sample_rate_hz, stall_timeout_s=self.options.stall_timeout_s
        )

    def found(self, sides: Sequence[str]) -> dict[str, FoundInsole]:
        """The feet to record (both in every datagram); called once per session, which starts afresh."""
        self._wires = {}
        self.decode_state = {}
        found = {}
        for side in sides:
            wire = self._wires[side] = _Wire(self, side)
            found[side] = FoundInsole(
                address=self.options.address, name=f"Moticon OpenGo {side}", side=side, serial=None,
                battery_pct=None, rssi=None, protocol_version=None, transport=wire,
            )  # fmt: skip
        return found

    def devices(self, side: str) -> dict[str, Any]:
        return {
            "vendor": "Moticon ReGo AG",
            "model": "OpenGo sensor insole",
            "name": f"Moticon OpenGo {side}",
            "serial": None,
            "firmware": None,
            "note": "received from the OpenGo desktop software's UDP stream, which names no insole",
        }

    def software(self) -> dict[str, Any]:
        unit = self.unit_s
        return {
            "moticon_udp": {
                "host": self.options.host,
                "port": self.options.port,
                "sample_rate_hz": self.options.sample_rate_hz,
                "timestamp_unit": None if unit is None else _UNIT_NAMES[unit],
                "timestamp_unit_from": "option" if self.options.timestamp_unit_s is not None else "stream",
                "field_order": "timestamp; per foot (left, right): acceleration xyz g, angular rate xyz deg/s, "
                "COP xy normalised, pressures 1-16 N/cm2, total force N",
                "units_assumed": "as the OpenGo text export: N/cm2 (written as kPa x10), g, deg/s, N, normalised",
            }
        }

    def quality_facts(self) -> dict[str, Any]:
        return {
            "datagrams": self.datagrams,
            "senders": sorted(self.senders),
            "socket_errors": self.socket_errors,
            "clock_restarts": {side: state.clock_restarts for side, state in self.decode_state.items()},
            # timestamps more than a quarter period from their slot: the stream's clock does not tick at
            # the configured rate (or stamps arrival, not measurement); the samples' places are then guesses
            "timestamps_off_grid": {side: state.off_grid for side, state in self.decode_state.items()},
        }

    # ------------------------------------------------------------------ the socket

    async def open(self, clock: SessionClock, side: str) -> None:
        """Listen (once, for both feet: a second foot joins the same socket); raises FatalLinkError if we cannot."""
        self._clock = clock
        self._users.add(side)
        if self._unit_event is None:
            self._unit_event = asyncio.Event()
            if self.unit_s is not None and self.datagrams:
                self._unit_event.set()
        await self._ensure_socket()

    async def _ensure_socket(self) -> None:
        if self._transport is not None:
            return
        if self._opening is None:
            address = (self.options.host, self.options.port)
            try:
                sock = _listening_socket(address)
            except OSError as error:
                raise FatalLinkError(f"cannot listen on {self.options.address}: {error.strerror or error}") from None
            loop = asyncio.get_running_loop()
            self._opening = asyncio.ensure_future(loop.create_datagram_endpoint(lambda: _Receiver(self), sock=sock))
        transport, _ = await asyncio.shield(self._opening)
        self._transport = transport

    def release(self, side: str) -> None:
        self._users.discard(side)
        if not self._users and self._transport is not None:
            self._transport.close()
            self._transport = None
            self._opening = None

    async def wait_unit(self, timeout_s: float, link: InsoleLink) -> bool:
        """Wait until datagrams arrive and their timestamp unit is known; False if the link is stopped first.

        Raises DeviceError when nothing fitting arrives within ``timeout_s``, FatalLinkError when the
        timestamps fit no unit at the configured rate.
        """
        assert self._unit_event is not None
        waited_s = 0.0
        while not self._unit_event.is_set() and waited_s < timeout_s:
            if await link.wait_stopping(0.05):
                return False
            waited_s += 0.05
        if self.unit_problem is not None:
            raise FatalLinkError(self.unit_problem)
        if not self._unit_event.is_set():
            seen = f"{self.datagrams} datagram(s)" if self.datagrams else "nothing"
            raise DeviceError(
                f"{seen} from a Moticon OpenGo stream on {self.options.address} within {timeout_s:g} s "
                "(is the OpenGo desktop software streaming to this computer and port?)"
            )
        return True

    def _on_datagram(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        clock = self._clock
        if clock is None:
            return
        arrived = clock.now()
        self.datagrams += 1
        if len(self.senders) < 8:
            self.senders.add(str(addr[0]))
        if self._unit_event is not None and not self._unit_event.is_set():
            self._probe_unit(data)
        for wire in self._wires.values():
            wire.deliver(arrived, data)

    def _probe_unit(self, data: bytes) -> None:
        assert self._unit_event is not None
        if self.unit_s is not None:
            self._unit_event.set()
            return
        head = data.split(None, 1)
        with contextlib.suppress(ValueError, IndexError):
            value = float(head[0])
            if math.isfinite(value) and len(data.split()) == FIELD_COUNT:
                self._probe.append(value)
        if len(self._probe) < self.options.unit_probe_datagrams:
            return
        unit = timestamp_unit(self._probe, self.options.sample_rate_hz)
        if unit is None:
            steps = np.diff(np.unique(self._probe))
            step = float(np.median(steps)) if steps.size else float("nan")
            self.unit_problem = (
                f"the Moticon timestamps on {self.options.address} step by {step:g} per datagram, which is "
                f"not one sample at {self.options.sample_rate_hz} Hz in s, ms or µs: set the rate the OpenGo "
                "software streams at (or give the timestamp unit)"
            )
        self.unit_s = unit
        self._unit_event.set()

    # ------------------------------------------------------------------ decoding

    def new_timeline(self, params: CaptureParams, reorder_window_s: float) -> ValueTimeline:
        return ValueTimeline(
            params.sample_rate_hz, n_sensors=16, n_channels=len(self.channels), imu=True,
            reorder_window_s=reorder_window_s,
        )  # fmt: skip

    def decode(self, side: str, items: list[tuple[float, bytes | StreamStart]], timeline: ValueTimeline) -> Decoded:
        """Number, account and hold one foot's datagrams (see the module docstring)."""
        state = self.decode_state.setdefault(side, _FootDecodeState())
        unit_s = self.unit_s if self.unit_s is not None else 1.0
        period_us = timeline.period_us
        tolerance_us = self.options.restart_tolerance_s * 1e6 * (self._clock.speed if self._clock else 1.0)
        last_sample: list[np.ndarray] = []
        arrivals: list[np.ndarray] = []
        malformed = 0
        run: list[tuple[float, bytes]] = []

        def flush() -> None:
            nonlocal malformed
            if not run:
                return
            frames = decode_datagrams([data for _, data in run], side)
            malformed += frames.malformed
            arrived = np.array([run[k][0] for k in frames.kept.tolist()], dtype=np.float64)
            raw_us = np.rint(frames.timestamp * (unit_s * 1e6)).astype(np.int64)
            values = np.column_stack([frames.pressure_kpa, frames.force_n, frames.cop])
            imu = np.column_stack([frames.accel_g, frames.gyro_dps])
            values[~frames.valid] = np.nan  # a foot with any field missing is no sample of that foot
            device = np.empty_like(raw_us)
            for k in range(frames.n):
                device_us = int(raw_us[k]) + state.base_us
                if state.last_us is not None and state.last_arrival_s is not None:
                    host_us = (arrived[k] - state.last_arrival_s) * 1e6
                    step_us = device_us - state.last_us
                    # back by more than a reorder could explain, or ahead of the host's clock by far more than
                    # passed (a sender that stalled and resumes with the next sample is neither: trust its clock)
                    if step_us < -tolerance_us or step_us - host_us > tolerance_us:
                        # the desktop's clock restarted (or leapt): continue the device time line from the
                        # host's elapsed time, in a new stream
                        state.base_us = round(state.last_us + host_us) - int(raw_us[k])
                        device_us = int(raw_us[k]) + state.base_us
                        state.clock_restarts += 1
                        timeline.start_stream(1)
                        state.t0_us = None
                if state.t0_us is None:
                    state.t0_us = device_us
                index = round((device_us - state.t0_us) / period_us)
                if abs(device_us - state.t0_us - index * period_us) * 4 > period_us:
                    state.off_grid += 1
                timeline.add(index & _SEQUENCE_MASK, device_us, values[k : k + 1], imu[k : k + 1], float(arrived[k]))
                device[k] = device_us
                if state.last_us is None or device_us >= state.last_us:
                    state.last_us, state.last_arrival_s = device_us, float(arrived[k])
            last_sample.append(device)
            arrivals.append(arrived)
            run.clear()

        for arrival, payload in items:
            if isinstance(payload, StreamStart):
                flush()
                timeline.start_stream(1)
                state.t0_us = None
                continue
            if not timeline.streaming:
                malformed += 1
                continue
            run.append((arrival, payload))
        flush()
        if not last_sample:
            return Decoded(np.zeros(0, np.int64), np.zeros(0), malformed)
        return Decoded(np.concatenate(last_sample), np.concatenate(arrivals), malformed)

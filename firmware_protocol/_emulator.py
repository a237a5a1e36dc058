"""Emulated insole firmware: one bumble BLE peripheral per foot.

The emulated insole behaves like the firmware ``PROTOCOL.md`` describes:

* it advertises its local name (``INSOLE-L-1A2B``), the insole service UUID
  and the manufacturer data (foot, serial, battery);
* it serves the GATT table of :mod:`firmware_protocol._gatt` (data service with
  the samples and control characteristics, Battery Service, Device Information
  Service), caps the ATT MTU at 247 and requests that MTU itself right after a
  connection is made, as typical nRF firmware does (bumble would otherwise cut
  every notification to MTU-3 = 20 bytes without a word);
* it obeys the control commands (start/stop streaming, sample rate, samples per
  packet and IMU, tare, identify, read clock, get info) and notifies a reply to
  each;
* while streaming it sends sample packets built from a *source* it is given.

A source is any callable ``source(n_samples, sample_rate_hz)`` returning the
next ``n_samples`` rows of the 16 pressures in kPa, shape ``(n, 16)``, either
alone or as a pair ``(pressure_kpa, imu)`` with ``imu`` of shape ``(n, 6)``:
acceleration x, y, z in g then angular rate x, y, z in deg/s. It may return
fewer rows (or ``None``) when it runs out; the stream then ends. The gait
simulator of ``insole`` and the replay of a recording plug in here without
``firmware_protocol`` importing ``insole``; :func:`source_from_arrays` wraps
whole arrays. Without a source the insole uses :func:`synthetic_walking_source`,
a placeholder test signal.

Faults are requested with a :class:`FaultPlan`. The emulator records what it did
(:class:`InsoleRecord`) so that tests can compare it with what the collector
received. It may run faster than real time (``InsoleSpec.speed``): the device
clock and the sample timestamps stay true to the sample rate; only the wall
clock pace changes.

The firmware logic can run in C: with ``EmulatedInsole(spec, codec="c")``, or
the environment variable ``INSOLE_EMULATOR_CODEC=c`` (read when an insole is
created, so it reaches every emulated insole of a test run), the command state
machine, the tare, the sequence numbers, the status flags and every byte the
insole sends (advertising data, replies, sample packets) come from the portable
C library of ``firmware_protocol/c/`` through ctypes, as they would on a
builder's board. This module then keeps only the radio, the source, the faults
and the timing. The default is the Python codec.

Times: the *device clock* is µs since the emulated insole booted (its
``start``), shifted by ``FaultPlan.clock_offset_s`` and running fast or slow by
``FaultPlan.clock_drift_ppm`` relative to the host's (true) clock. Samples are
taken on the device clock (sample ``i`` of a stream at exactly
``t0 + i * period``), so a drifting insole delivers slightly more or fewer
samples per host second, as real hardware does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, Union

import numpy as np
import numpy.typing as npt
from bumble import hci
from bumble.controller import Controller
from bumble.device import (
    AdvertisingEventProperties,
    AdvertisingParameters,
    AdvertisingSet,
    Connection,
    Device,
    Peer,
)
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from firmware_protocol._codec import (
    N_IMU_AXES,
    N_SENSORS,
    PROTOCOL_VERSION,
    SAMPLE_RATES_HZ,
    SATURATED_CODE,
    ClockReply,
    Foot,
    GetInfo,
    Identify,
    InfoReply,
    ManufacturerData,
    Opcode,
    ReadClock,
    Reply,
    ReplyMessage,
    SamplePacket,
    SetSampleRate,
    StartStreaming,
    Status,
    StatusFlags,
    StopStreaming,
    Tare,
    bad_command_reply,
    decode_command,
    decode_reply,
    encode_advertising_data,
    encode_command,
    encode_reply,
    encode_sample_packet,
    encode_scan_response,
    local_name,
    max_samples_per_packet,
    min_att_mtu,
    serial_number_string,
)
from firmware_protocol._errors import CrcMismatchError, ProtocolError
from firmware_protocol._faults import FAULT_SPEC_HELP, FaultPlan, parse_fault_spec
from firmware_protocol._gatt import (
    BATTERY_LEVEL_UUID,
    CONTROL_CHAR_UUID,
    DATA_CHAR_UUID,
    FIRMWARE_REVISION_UUID,
    GATT_TABLE,
    MANUFACTURER_NAME,
    MANUFACTURER_NAME_UUID,
    MODEL_NUMBER,
    MODEL_NUMBER_UUID,
    PREFERRED_ATT_MTU,
    SERIAL_NUMBER_UUID,
    Properties,
)

if TYPE_CHECKING:
    from firmware_protocol._c_binding import CDevice

__all__ = [
    "EmulatedInsole",
    "FaultPlan",
    "InsoleRecord",
    "InsoleSpec",
    "SampleSource",
    "SourceBlock",
    "StreamRecord",
    "FAULT_SPEC_HELP",
    "parse_fault_spec",
    "source_from_arrays",
    "synthetic_walking_source",
]

logger = logging.getLogger(__name__)

#: What a source returns: pressures in kPa ``(n, 16)``, optionally with IMU ``(n, 6)``.
SourceBlock = Union[npt.ArrayLike, tuple[npt.ArrayLike, "npt.ArrayLike | None"], None]


class SampleSource(Protocol):
    """Where an emulated insole's samples come from (see the module docstring)."""

    def __call__(self, n_samples: int, sample_rate_hz: int) -> SourceBlock: ...


#: Battery level of a healthy emulated insole, and of one with ``FaultPlan.low_battery``.
DEFAULT_BATTERY_PCT = 87
LOW_BATTERY_PCT = 8
#: At or below this level the firmware sets ``StatusFlags.LOW_BATTERY`` (PROTOCOL.md).
LOW_BATTERY_THRESHOLD_PCT = 15
_DISCONNECT_GUARD_S = 5.0
#: TARE averages the readings over this much device time before it replies.
TARE_WINDOW_US = 300_000

#: Environment variable choosing the emulated firmware's codec: ``python`` (default) or ``c``.
CODEC_ENV = "INSOLE_EMULATOR_CODEC"
_CODECS = ("python", "c")

_ACCEL_CODES_PER_G = 1000
_GYRO_CODES_PER_DPS = 10
_INT16_MIN, _INT16_MAX = -32768, 32767


@dataclass(frozen=True)
class InsoleSpec:
    """Everything that defines one emulated insole.

    Attributes:
        side: ``"left"`` or ``"right"``.
        serial: 32-bit serial number; its low 16 bits are in the local name.
        sample_rate_hz: Rate at boot (50, 100 or 200); the host may change it.
        samples_per_packet: Samples per packet at boot (1..7 without IMU).
        imu_present: Whether the insole has the 6-axis IMU (off at boot).
        battery_pct: Battery level reported while ``faults.low_battery`` is off.
        firmware_version: (major, minor, patch).
        full_scale_kpa: Sensor full scale; a reading at or above it is sent as
            ``SATURATED_CODE``.
        source: Where samples come from (``None``: the synthetic placeholder).
        faults: Faults to inject.
        speed: Emulated seconds per wall-clock second (> 0); 10 runs a 10 s
            session in 1 s. The device clock is unaffected.
        max_packets: Stop producing after this many packets per stream
            (dropped ones included), so a test can assert the exact sequence.
        advertising_interval_ms: Advertising interval. 20 ms (the real
            firmware uses 100 ms) so tests find and reconnect the insole fast.
        address: Static random BLE address; derived from side and serial if None.
    """

    side: Literal["left", "right"]
    serial: int | None = None
    sample_rate_hz: int = 100
    samples_per_packet: int = 1
    imu_present: bool = False
    battery_pct: int = DEFAULT_BATTERY_PCT
    firmware_version: tuple[int, int, int] = (1, 0, 0)
    full_scale_kpa: float = 600.0
    source: SampleSource | Iterable | None = field(default=None, compare=False, repr=False)
    faults: FaultPlan = field(default_factory=FaultPlan)
    speed: float = 1.0
    max_packets: int | None = None
    advertising_interval_ms: float = 20.0
    address: str | None = None

    def __post_init__(self) -> None:
        if self.side not in ("left", "right"):
            raise ValueError(f"side={self.side!r}: must be 'left' or 'right'")
        if self.serial is None:
            object.__setattr__(self, "serial", 0x00001A2B if self.side == "left" else 0x00001A2C)
        if not 0 <= self.serial_number < 2**32:
            raise ValueError(f"serial={self.serial!r}: must be a 32-bit unsigned integer")
        if self.sample_rate_hz not in SAMPLE_RATES_HZ:
            raise ValueError(f"sample_rate_hz={self.sample_rate_hz!r}: must be one of {SAMPLE_RATES_HZ}")
        if not 1 <= self.samples_per_packet <= max_samples_per_packet(False):
            raise ValueError(f"samples_per_packet={self.samples_per_packet!r}: must be 1..7")
        if not 0 <= self.battery_pct <= 100:
            raise ValueError(f"battery_pct={self.battery_pct!r}: must be 0..100")
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ValueError(f"speed={self.speed!r}: must be > 0")
        if self.max_packets is not None and self.max_packets < 0:
            raise ValueError(f"max_packets={self.max_packets!r}: must be >= 0")
        if self.address is None:
            # Static random address: the two top bits of the first byte are 1.
            first = 0xC0 | (0 if self.side == "left" else 1)
            object.__setattr__(
                self,
                "address",
                ":".join(f"{b:02X}" for b in (first, 0x1E, *self.serial_number.to_bytes(4, "big"))),
            )

    @property
    def serial_number(self) -> int:
        """``serial``, never None: ``__post_init__`` gives a spec without one the side's default serial."""
        assert self.serial is not None, "InsoleSpec.__post_init__ sets the default serial"
        return self.serial

    @property
    def foot(self) -> Foot:
        return Foot.LEFT if self.side == "left" else Foot.RIGHT

    @property
    def local_name(self) -> str:
        """The advertised complete local name, e.g. ``INSOLE-L-1A2B``."""
        return local_name(self.foot, self.serial_number)


# ---------------------------------------------------------------------------
# Records: what the firmware did, for tests to compare with what arrived.
# ---------------------------------------------------------------------------


@dataclass
class StreamRecord:
    """One streaming session, from START_STREAMING to its end.

    Attributes:
        index: 0 for the first stream of the insole's life, then 1, 2, ...
        start_us: Device clock of the first sample, µs.
        sample_rate_hz, samples_per_packet, imu_enabled: The stream's settings.
        sequences: Every packet the firmware produced, in order (dropped,
            corrupted and lost ones included).
        timestamps_us: Device timestamp of each packet in ``sequences``.
        dropped: Sequences whose notification the link lost.
        corrupted: Sequences sent with a flipped bit.
        overrun: Sequences the firmware formed and discarded (``FaultPlan.overrun_sequences``).
        lost_in_buffer: Sequences held for a burst when the link went down.
        end: Why the stream ended (None while it runs): ``"stop"`` (command),
            ``"disconnect"`` (the host ended the link), ``"link_loss"`` (a
            ``FaultPlan`` link loss), ``"max_packets"``, ``"source_exhausted"``.
    """

    index: int
    start_us: int
    sample_rate_hz: int
    samples_per_packet: int
    imu_enabled: bool
    sequences: list[int] = field(default_factory=list)
    timestamps_us: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    corrupted: list[int] = field(default_factory=list)
    overrun: list[int] = field(default_factory=list)
    lost_in_buffer: list[int] = field(default_factory=list)
    end: str | None = None

    @property
    def delivered(self) -> list[int]:
        """Sequences handed to the link intact or corrupted (not dropped, discarded or lost)."""
        missing = set(self.dropped) | set(self.overrun) | set(self.lost_in_buffer)
        return [s for s in self.sequences if s not in missing]


@dataclass
class InsoleRecord:
    """Everything an emulated insole did since it started."""

    streams: list[StreamRecord] = field(default_factory=list)
    commands: list[bytes] = field(default_factory=list)
    replies: list[ReplyMessage] = field(default_factory=list)
    connections: int = 0
    #: Device clock (µs) of each fault-plan link loss carried out.
    link_losses_us: list[int] = field(default_factory=list)
    #: Link-loss times of the plan that found no host connected.
    link_losses_skipped_s: list[float] = field(default_factory=list)
    identify_requests_s: list[int] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Sources.
# ---------------------------------------------------------------------------

# Position of each insole16 sensor along the foot (fraction of foot length,
# heel = 0), in layout order, and a plausible peak pressure in kPa. Only for
# the placeholder signal below.
_SYNTHETIC_SENSOR_X = np.array(
    [0.07, 0.07, 0.17, 0.17, 0.34, 0.34, 0.50, 0.50, 0.70, 0.73, 0.72, 0.70, 0.66, 0.91, 0.89, 0.84]
)
_SYNTHETIC_PEAK_KPA = np.array(
    [260, 240, 220, 200, 60, 80, 50, 70, 230, 250, 210, 160, 120, 190, 110, 90], dtype=float
)


def synthetic_walking_source(
    side: Literal["left", "right"] = "left",
    *,
    stride_s: float = 1.1,
    stance_fraction: float = 0.62,
    seed: int | None = 0,
    noise_kpa: float = 1.0,
) -> SampleSource:
    """A placeholder test signal: smooth, periodic walking on the 16 sensors.

    Each sensor is loaded once per stride during stance, with a raised-cosine
    bump that travels from heel to toes, so the summed load shows the familiar
    double hump. It is NOT a gait model and carries no known answer: use the
    ``insole`` gait simulator for anything that is analysed. The right foot
    runs half a stride after the left. Pressures are in kPa, no IMU.

    Args:
        side: Which foot (sets the phase).
        stride_s: Stride time in seconds.
        stance_fraction: Fraction of the stride the foot is on the ground.
        seed: Seed of the additive noise; None for no noise.
        noise_kpa: Standard deviation of the noise, kPa (clipped at 0 kPa).
    """
    rng = np.random.default_rng(seed) if seed is not None else None
    phase_offset = 0.0 if side == "left" else 0.5
    # Each sensor peaks at a fraction of stance that grows with its position.
    peak_at = 0.12 + 0.75 * _SYNTHETIC_SENSOR_X
    half_width = 0.28
    # Samples are computed a block at a time: numpy on a handful of rows per
    # packet would cost more than the whole BLE path.
    block_samples = 256
    state: dict = {"next_sample": 0, "rate_hz": None, "buffer": np.empty((0, N_SENSORS))}

    def compute(first_sample: int, n_samples: int, sample_rate_hz: int) -> np.ndarray:
        t = (first_sample + np.arange(n_samples)) / sample_rate_hz
        stance_phase = (((t / stride_s) + phase_offset) % 1.0) / stance_fraction
        distance = (stance_phase[:, None] - peak_at[None, :]) / half_width
        bump = np.where(np.abs(distance) < 1.0, 0.5 * (1.0 + np.cos(np.pi * distance)), 0.0)
        bump[stance_phase > 1.0] = 0.0
        pressure = bump * _SYNTHETIC_PEAK_KPA[None, :]
        if rng is not None and noise_kpa > 0:
            pressure = np.clip(pressure + rng.normal(0.0, noise_kpa, pressure.shape), 0.0, None)
        return pressure

    def source(n_samples: int, sample_rate_hz: int) -> np.ndarray:
        if state["rate_hz"] != sample_rate_hz:
            # A new rate: carry on from the same instant, on the new grid.
            elapsed_s = (
                state["next_sample"] / state["rate_hz"] if state["rate_hz"] else 0.0
            )
            state.update(rate_hz=sample_rate_hz, buffer=np.empty((0, N_SENSORS)))
            state["computed"] = round(elapsed_s * sample_rate_hz)
            state["next_sample"] = state["computed"]
        while state["buffer"].shape[0] < n_samples:
            block = compute(state["computed"], block_samples, sample_rate_hz)
            state["computed"] += block_samples
            state["buffer"] = np.concatenate((state["buffer"], block))
        rows, state["buffer"] = state["buffer"][:n_samples], state["buffer"][n_samples:]
        state["next_sample"] += n_samples
        return rows

    return source


def source_from_arrays(
    pressure_kpa: npt.ArrayLike,
    imu: npt.ArrayLike | None = None,
    *,
    loop: bool = False,
) -> SampleSource:
    """A source that replays whole arrays, row by row.

    The rows are sent at whatever rate the insole streams at (the rate is not
    resampled). With ``loop`` the arrays repeat; otherwise the stream ends when
    they run out.

    Args:
        pressure_kpa: Shape ``(n, 16)``, kPa. NaN (a gap in a recording) is
            sent as 0 kPa: the wire format has no "missing" code.
        imu: Shape ``(n, 6)``: acceleration in g then angular rate in deg/s.
        loop: Start again at the first row after the last.
    """
    pressure = np.asarray(pressure_kpa, dtype=float)
    if pressure.ndim != 2 or pressure.shape[1] != N_SENSORS:
        raise ValueError(f"pressure_kpa must have shape (n, {N_SENSORS}), got {pressure.shape}")
    imu_array = None if imu is None else np.asarray(imu, dtype=float)
    if imu_array is not None and imu_array.shape != (pressure.shape[0], N_IMU_AXES):
        raise ValueError(f"imu must have shape ({pressure.shape[0]}, {N_IMU_AXES}), got {imu_array.shape}")
    state = {"row": 0}
    n_rows = pressure.shape[0]

    def source(n_samples: int, sample_rate_hz: int) -> SourceBlock:
        del sample_rate_hz  # replayed as recorded
        if n_rows == 0:
            return None
        if loop:
            rows = (state["row"] + np.arange(n_samples)) % n_rows
        else:
            rows = np.arange(state["row"], min(state["row"] + n_samples, n_rows))
        state["row"] = int(rows[-1]) + 1 if rows.size else state["row"]
        return pressure[rows], None if imu_array is None else imu_array[rows]

    return source


def _source_from_rows(rows: Iterable) -> SampleSource:
    """Adapt an iterable of rows (``(16,)`` or ``((16,), (6,))``) to a source."""
    iterator: Iterator = iter(rows)

    def source(n_samples: int, sample_rate_hz: int) -> SourceBlock:
        del sample_rate_hz
        pressures, imus = [], []
        for row in iterator:
            if isinstance(row, tuple):
                pressures.append(np.asarray(row[0], dtype=float))
                imus.append(None if row[1] is None else np.asarray(row[1], dtype=float))
            else:
                pressures.append(np.asarray(row, dtype=float))
                imus.append(None)
            if len(pressures) == n_samples:
                break
        if not pressures:
            return None
        present = [i for i in imus if i is not None]
        imu = np.stack(present) if len(present) == len(imus) else None
        return np.stack(pressures), imu

    return source


def _normalise_block(block: SourceBlock) -> tuple[np.ndarray, np.ndarray | None]:
    if block is None:
        return np.empty((0, N_SENSORS)), None
    if isinstance(block, tuple):
        pressure, imu = block
    else:
        pressure, imu = block, None
    pressure = np.asarray(pressure, dtype=float).reshape(-1, N_SENSORS)
    imu_array = None if imu is None else np.asarray(imu, dtype=float).reshape(-1, N_IMU_AXES)
    return pressure, imu_array


# ---------------------------------------------------------------------------
# The emulated insole.
# ---------------------------------------------------------------------------


class EmulatedPeripheral:
    """One bumble BLE peripheral on an in-process link: what every emulated device here shares.

    It powers a controller and a device on the link, serves the GATT table
    the subclass builds, advertises what the subclass says (again after every
    disconnection), asks for ``PREFERRED_ATT_MTU`` right after a connection
    is made, ends a link itself as a link loss would, and powers off. One host
    connection at a time. :class:`EmulatedInsole` (our firmware) and the
    emulated ORPHE INSOLE of ``insole.capture`` are built on it.

    A subclass gives ``name`` and ``address``, ``_gatt_services`` and
    ``_advertising_data``, and may react to ``_connected`` and
    ``_disconnected``; its ``start`` calls ``_power_on`` and its ``stop``
    ends its own activity, then calls ``_power_off``.
    """

    def __init__(self) -> None:
        self._device: Device | None = None
        self._controller: Controller | None = None
        self._link: LocalLink | None = None
        self._connection: Connection | None = None
        self._advertising_set: AdvertisingSet | None = None
        self._disconnected = asyncio.Event()
        self._disconnected.set()
        self._boot_loop_time = 0.0
        self._tasks: set[asyncio.Task] = set()

    # -- what a subclass gives -------------------------------------------------

    @property
    def name(self) -> str:
        """The advertised local name."""
        raise NotImplementedError

    @property
    def address(self) -> str:
        """The BLE address (static random), as BlueZ and bleak show it."""
        raise NotImplementedError

    def _gatt_services(self) -> list[Service]:
        raise NotImplementedError

    def _advertising_data(self) -> bytes:
        """The advertising data, asked for once powered on."""
        raise NotImplementedError

    def _connected(self, connection: Connection) -> None:
        """A host connected (``_connection`` is set)."""

    def _disconnected_from(self, connection: Connection, reason: int) -> None:
        """The host of ``connection`` is gone (``_connection`` is cleared)."""

    # -- power -------------------------------------------------------------------

    async def _power_on(self, link: LocalLink, controller_name: str, advertising_interval_ms: float) -> None:
        """Boot attached to ``link`` and advertise, connectable, again after every disconnection."""
        self._link = link
        self._boot_loop_time = asyncio.get_running_loop().time()
        controller = Controller(controller_name, link=link)
        self._controller = controller
        device = Device(
            name=self.name,
            address=hci.Address(self.address),
            host=Host(controller, AsyncPipeSink(controller)),
        )
        device.gatt_server.max_mtu = PREFERRED_ATT_MTU
        device.add_services(self._gatt_services())
        device.on(device.EVENT_CONNECTION, self._on_connection)
        self._device = device
        await device.power_on()
        # Extended, connectable, not scannable: the emulated link carries no
        # scan response, so all the data rides in the one advertising PDU.
        self._advertising_set = await device.create_advertising_set(
            advertising_parameters=AdvertisingParameters(
                advertising_event_properties=AdvertisingEventProperties(
                    is_connectable=True, is_scannable=False, is_legacy=False
                ),
                primary_advertising_interval_min=advertising_interval_ms,
                primary_advertising_interval_max=advertising_interval_ms,
            ),
            random_address=hci.Address(self.address),
            advertising_data=self._advertising_data(),
            auto_restart=True,
        )

    async def _power_off(self) -> None:
        """End any link (explicitly, never a silent power-off), stop advertising, power off, leave the link."""
        await self.lose_link(reason=hci.HCI_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF_ERROR)
        for task in list(self._tasks):
            task.cancel()
        device, self._device = self._device, None
        if device is not None:
            if self._advertising_set is not None:
                self._advertising_set.auto_restart = False
                with contextlib.suppress(Exception):
                    await self._advertising_set.stop()
            with contextlib.suppress(Exception):
                await device.power_off()
        if self._link is not None and self._controller is not None:
            with contextlib.suppress(KeyError):
                self._link.remove_controller(self._controller)
            self._controller = None

    # -- the link ----------------------------------------------------------------

    async def lose_link(self, *, reason: int = hci.HCI_CONNECTION_TIMEOUT_ERROR) -> None:
        """End the current connection now, as a link loss would (no-op if none).

        The peripheral sends the link-layer terminate itself: bumble's emulated
        link has no supervision timeout, so powering off would leave the host
        connected to nothing.
        """
        connection = self._connection
        if connection is None:
            return
        try:
            # The emulated controller completes a local disconnect at once;
            # the guard only keeps a broken link from hanging shutdown.
            async with asyncio.timeout(_DISCONNECT_GUARD_S):
                with contextlib.suppress(Exception):
                    await connection.disconnect(reason)
                await self._disconnected.wait()
        except TimeoutError:
            logger.warning("%s: disconnect did not complete; treating the link as gone", self.name)
            self._on_disconnection(connection, reason)

    async def wait_disconnected(self) -> None:
        """Return once no host is connected."""
        await self._disconnected.wait()

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        self._disconnected.clear()
        connection.on(connection.EVENT_DISCONNECTION, lambda reason: self._on_disconnection(connection, reason))
        self._connected(connection)
        self._spawn(self._request_mtu(connection))

    async def _request_mtu(self, connection: Connection) -> None:
        # Typical nRF firmware asks for its preferred MTU itself; the host's
        # own exchange (BlueZ offers 517) ends at the same value.
        with contextlib.suppress(Exception):
            await Peer(connection).request_mtu(PREFERRED_ATT_MTU)

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        if connection is not self._connection:
            return
        self._connection = None
        self._disconnected.set()
        self._disconnected_from(connection, reason)

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._log_task_failure)
        return task

    def _log_task_failure(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: emulated device task failed", self.name, exc_info=task.exception())


@dataclass
class _Stream:
    record: StreamRecord
    rng: np.random.Generator
    next_packet: int = 0
    overrun_pending: bool = False
    burst: list[tuple[int, bytes]] = field(default_factory=list)


class EmulatedInsole(EmulatedPeripheral):
    """One emulated insole: a bumble peripheral running the protocol-1 firmware.

    Use::

        insole = EmulatedInsole(InsoleSpec(side="left", max_packets=1000))
        await insole.start(link)       # power on, advertise (again after every disconnect)
        ...                            # a host connects, subscribes, sends START_STREAMING
        await insole.finished.wait()   # max_packets sent (or the source ran out)
        insole.record.streams[-1].dropped
        await insole.lose_link()       # link loss now (explicit disconnect, never power-off)
        await insole.stop()

    Attributes:
        spec: The :class:`InsoleSpec` it runs.
        record: What it has done (:class:`InsoleRecord`).
        connected: Set while a host is connected.
        finished: Set when a stream ended by ``max_packets`` or an exhausted
            source; cleared when a new stream starts.
    """

    def __init__(self, spec: InsoleSpec, *, codec: Literal["python", "c"] | None = None) -> None:
        super().__init__()
        self.spec = spec
        chosen = codec if codec is not None else (os.environ.get(CODEC_ENV, "").strip().lower() or "python")
        if chosen not in _CODECS:
            raise ValueError(f"codec={chosen!r} (or {CODEC_ENV}): must be 'python' or 'c'")
        #: ``"python"`` or ``"c"``: which implementation forms what the insole sends.
        self.codec: str = chosen
        self.record = InsoleRecord()
        self.connected = asyncio.Event()
        self.finished = asyncio.Event()
        source = spec.source
        if source is None:
            source = synthetic_walking_source(spec.side, seed=spec.serial)
        elif not callable(source):
            source = _source_from_rows(source)
        self._source: SampleSource = source
        faults = spec.faults
        self._battery_pct = LOW_BATTERY_PCT if faults.low_battery else spec.battery_pct
        self._sample_rate_hz = spec.sample_rate_hz
        self._samples_per_packet = spec.samples_per_packet
        self._imu_enabled = False
        self._tare_codes = np.zeros(N_SENSORS, dtype=np.int64)
        self._tared = False
        self._clock_read = False
        self._tare_rows: list[np.ndarray] | None = None
        self._tare_task: asyncio.Task | None = None
        self._data_characteristic: Characteristic | None = None
        self._control_characteristic: Characteristic | None = None
        self._battery_characteristic: Characteristic | None = None
        self._stream: _Stream | None = None
        self._stream_task: asyncio.Task | None = None
        self._first_stream_start_us: int | None = None
        self._pending_link_losses = list(faults.link_loss_at_s)
        self._c: CDevice | None = None
        if chosen == "c":
            self._c = self._new_c_device()

    def _new_c_device(self) -> CDevice:
        """The C firmware state (``insole_device_t``) of this insole, at power-on."""
        from firmware_protocol._c_binding import CDevice  # builds the library on first use

        spec = self.spec
        device = CDevice(
            int(spec.foot),
            spec.serial_number,
            spec.firmware_version,
            full_scale_code=round(spec.full_scale_kpa * 10),
            imu_present=spec.imu_present,
        )
        status = device.configure(SAMPLE_RATES_HZ.index(spec.sample_rate_hz), spec.samples_per_packet, False)
        if status != Status.OK:
            raise ValueError(f"the C firmware refused the boot settings of {spec!r}: status {status}")
        device.set_battery(self._battery_pct)
        return device

    # -- identity ----------------------------------------------------------

    @property
    def name(self) -> str:
        """The advertised local name, e.g. ``INSOLE-L-1A2B``."""
        return self.spec.local_name

    @property
    def address(self) -> str:
        """The BLE address (static random), as BlueZ and bleak show it."""
        assert self.spec.address is not None
        return self.spec.address

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    @property
    def battery_pct(self) -> int:
        return self._battery_pct

    # -- clock ---------------------------------------------------------------

    @property
    def booted_at(self) -> float:
        """Event-loop time (``loop.time()``, s) at which the insole booted (``start``)."""
        return self._boot_loop_time

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def device_clock_us(self, loop_time: float | None = None) -> int:
        """The device clock (µs since boot) at ``loop_time`` (default: now)."""
        loop_time = self._now() if loop_time is None else loop_time
        true_elapsed_s = (loop_time - self._boot_loop_time) * self.spec.speed
        faults = self.spec.faults
        return round((faults.clock_offset_s + true_elapsed_s * (1.0 + faults.clock_drift_ppm * 1e-6)) * 1e6)

    def _loop_time_of(self, device_us: int) -> float:
        faults = self.spec.faults
        true_elapsed_s = (device_us * 1e-6 - faults.clock_offset_s) / (1.0 + faults.clock_drift_ppm * 1e-6)
        return self._boot_loop_time + true_elapsed_s / self.spec.speed

    async def _sleep_until_device_us(self, device_us: int) -> None:
        delay = self._loop_time_of(device_us) - self._now()
        # Always yield, so a fast-forwarded stream still lets the link run.
        await asyncio.sleep(max(delay, 0.0))

    # -- lifecycle -----------------------------------------------------------

    async def start(self, link: LocalLink) -> None:
        """Power on, attached to ``link``, and advertise (again after each disconnect)."""
        await self._power_on(link, f"insole-{self.spec.side}", self.spec.advertising_interval_ms)

    def _advertising_data(self) -> bytes:
        # The local name rides in the advertising data, in one extended PDU,
        # because the emulated link has no scan response (PROTOCOL.md section 2).
        foot, serial = self.spec.foot, self.spec.serial_number
        if self._c is None:
            manufacturer = ManufacturerData(foot, serial, self._battery_pct)
            return encode_advertising_data(manufacturer) + encode_scan_response(foot, serial)
        from firmware_protocol._c_binding import CProtocol

        c_codec = CProtocol()
        c_advertising = c_codec.encode_advertising_data(int(foot), serial, self._battery_pct)
        c_name = c_codec.encode_scan_response(int(foot), serial)
        assert c_advertising is not None and c_name is not None, "the C encoder refused the advertising data"
        return c_advertising + c_name

    async def stop(self) -> None:
        """Stop streaming, end any link (explicitly, never a silent power-off) and power off."""
        await self._end_stream("stop")
        await self._power_off()

    # -- GATT ----------------------------------------------------------------

    def _gatt_services(self) -> list[Service]:
        static_values = {
            MANUFACTURER_NAME_UUID: MANUFACTURER_NAME.encode(),
            MODEL_NUMBER_UUID: MODEL_NUMBER.encode(),
            SERIAL_NUMBER_UUID: serial_number_string(self.spec.serial_number).encode(),
            FIRMWARE_REVISION_UUID: ".".join(str(p) for p in self.spec.firmware_version).encode(),
        }
        services = []
        for service_spec in GATT_TABLE:
            characteristics = []
            for spec in service_spec.characteristics:
                permissions = Characteristic.Permissions(0)
                if spec.properties & Properties.READ:
                    permissions |= Characteristic.Permissions.READABLE
                if spec.properties & (Properties.WRITE | Properties.WRITE_WITHOUT_RESPONSE):
                    permissions |= Characteristic.Permissions.WRITEABLE
                value: CharacteristicValue[bytes] | bytes
                if spec.uuid == CONTROL_CHAR_UUID:
                    value = CharacteristicValue(write=self._on_control_write)
                elif spec.uuid == BATTERY_LEVEL_UUID:
                    value = CharacteristicValue(read=lambda _connection: bytes((self._battery_pct,)))
                else:
                    value = static_values.get(spec.uuid, b"")
                characteristic: Characteristic[bytes] = Characteristic(
                    spec.uuid, Characteristic.Properties(int(spec.properties)), permissions, value
                )
                if spec.uuid == DATA_CHAR_UUID:
                    self._data_characteristic = characteristic
                elif spec.uuid == CONTROL_CHAR_UUID:
                    self._control_characteristic = characteristic
                elif spec.uuid == BATTERY_LEVEL_UUID:
                    self._battery_characteristic = characteristic
                characteristics.append(characteristic)
            services.append(Service(service_spec.uuid, characteristics))
        return services

    # -- connection ----------------------------------------------------------

    def _connected(self, connection: Connection) -> None:
        self.record.connections += 1
        self.connected.set()
        if self._c is not None:
            self._c.on_connect()
        logger.info("%s: host %s connected", self.name, connection.peer_address.to_string(False))

    def _disconnected_from(self, connection: Connection, reason: int) -> None:
        self.connected.clear()
        if self._c is not None:
            self._c.on_disconnect()
        logger.info("%s: disconnected (%s)", self.name, hci.HCI_Constant.error_name(reason))
        if self._stream is not None:
            self._finish_stream("link_loss" if reason == hci.HCI_CONNECTION_TIMEOUT_ERROR else "disconnect")

    # -- control -------------------------------------------------------------

    def _on_control_write(self, connection: Connection, value: bytes) -> None:
        value = bytes(value)
        self.record.commands.append(value)
        if self._c is not None:
            raw = self._execute_c(value, connection)
            if raw is not None:
                self._spawn(self._send_reply(connection, decode_reply(raw), raw))
            return
        reply = self._execute(value, connection)
        if reply is not None:
            # The write response goes first; the reply follows as a notification.
            self._spawn(self._send_reply(connection, reply))

    async def _send_reply(self, connection: Connection, reply: ReplyMessage, raw: bytes | None = None) -> None:
        """Notify ``reply``: ``raw`` when the C firmware already encoded it, else the Python encoding."""
        self.record.replies.append(reply)
        await self._notify(connection, self._control_characteristic, encode_reply(reply) if raw is None else raw)

    def _execute_c(self, value: bytes, connection: Connection) -> bytes | None:
        """Carry out one command in the C firmware; its reply bytes, or None when it comes later (TARE).

        The C state machine decides and encodes; this side only does what it
        asks for (start or stop the stream task, run the tare window, log an
        identify) and mirrors the settings that pace the stream task.
        """
        from firmware_protocol._c_binding import (
            ACTION_CLOCK_READ,
            ACTION_IDENTIFY,
            ACTION_STREAM_STARTED,
            ACTION_TARE_STARTED,
        )

        device = self._c
        assert device is not None
        device.set_att_mtu(connection.att_mtu)
        device.set_data_notify(self._data_notifications_on(connection))
        raw, actions = device.handle_command(value, self.device_clock_us())
        state = device.state
        self._sample_rate_hz = SAMPLE_RATES_HZ[state.rate_code]
        self._samples_per_packet = int(state.samples_per_packet)
        self._imu_enabled = bool(state.imu_enabled)
        if actions & ACTION_STREAM_STARTED:
            self._begin_stream(device.stream_start_us)
        if raw is not None and raw[1] == (Opcode.STOP_STREAMING | 0x80) and raw[3] == Status.OK:
            self._spawn(self._end_stream("stop"))
        if actions & ACTION_IDENTIFY:
            self.record.identify_requests_s.append(int(state.identify_s))
        if actions & ACTION_CLOCK_READ:
            self._clock_read = True
        if actions & ACTION_TARE_STARTED:
            self._tare_task = self._spawn(self._run_tare_c(connection, int(state.tare_end_us)))
        return raw

    async def _run_tare_c(self, connection: Connection, end_us: int) -> None:
        """Let the C firmware's tare window pass, feeding it samples if no stream does, then send its reply."""
        device = self._c
        assert device is not None
        try:
            await self._sleep_until_device_us(end_us)
            if device.state.tare_count == 0 and not device.streaming:
                # Not streaming: the firmware still samples its sensors.
                n = max(1, round(TARE_WINDOW_US * 1e-6 * self._sample_rate_hz))
                pressure, _ = _normalise_block(self._source(n, self._sample_rate_hz))
                for codes in _pressure_codes(pressure, self.spec.full_scale_kpa):
                    device.add_sample(codes)
            raw = device.poll(end_us)
            self._tared = True
        finally:
            self._tare_task = None
        if raw is not None:
            await self._send_reply(connection, decode_reply(raw), raw)

    def _execute(self, value: bytes, connection: Connection) -> ReplyMessage | None:
        """Carry out one command; its reply, or None when the reply comes later (TARE)."""
        token = value[2] if len(value) >= 3 else 0
        try:
            command = decode_command(value)
        except ProtocolError as error:
            if _is_bad_argument(value, error):
                return Reply(value[1], Status.BAD_ARGUMENT, token=token)
            return bad_command_reply(value)
        if self._tare_task is not None:
            # One command at a time: a tare is still averaging.
            return Reply(command.opcode, Status.BUSY, token=token)

        if isinstance(command, StartStreaming):
            if self._stream is None:
                needed = min_att_mtu(self._samples_per_packet, self._imu_enabled)
                if connection.att_mtu < needed:
                    return Reply(Opcode.START_STREAMING, Status.MTU_TOO_SMALL, token=token)
                if not self._data_notifications_on(connection):
                    return Reply(Opcode.START_STREAMING, Status.BUSY, token=token)
                self._begin_stream()
            return Reply(Opcode.START_STREAMING, Status.OK, token=token)
        if isinstance(command, StopStreaming):
            self._spawn(self._end_stream("stop"))
            return Reply(Opcode.STOP_STREAMING, Status.OK, token=token)
        if isinstance(command, SetSampleRate):
            if self._stream is not None:
                return Reply(Opcode.SET_SAMPLE_RATE, Status.BUSY, token=token)
            if command.imu_enabled and not self.spec.imu_present:
                return Reply(Opcode.SET_SAMPLE_RATE, Status.BAD_ARGUMENT, token=token)
            self._sample_rate_hz = command.sample_rate_hz
            self._samples_per_packet = command.samples_per_packet
            self._imu_enabled = command.imu_enabled
            return Reply(Opcode.SET_SAMPLE_RATE, Status.OK, token=token)
        if isinstance(command, Tare):
            self._tare_rows = []
            self._tare_task = self._spawn(self._run_tare(connection, token))
            return None
        if isinstance(command, Identify):
            self.record.identify_requests_s.append(command.duration_s)
            return Reply(Opcode.IDENTIFY, Status.OK, token=token)
        if isinstance(command, ReadClock):
            self._clock_read = True
            return ClockReply(self.device_clock_us(), token=token)
        if isinstance(command, GetInfo):
            return InfoReply(
                foot=self.spec.foot,
                serial=self.spec.serial_number,
                battery_pct=self._battery_pct,
                firmware_version=self.spec.firmware_version,
                sample_rate_hz=self._sample_rate_hz,
                samples_per_packet=self._samples_per_packet,
                imu_present=self.spec.imu_present,
                imu_enabled=self._imu_enabled,
                streaming=self._stream is not None,
                full_scale_kpa=self.spec.full_scale_kpa,
                token=token,
            )
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    def _data_notifications_on(self, connection: Connection) -> bool:
        assert self._device is not None and self._data_characteristic is not None
        subscribers = self._device.gatt_server.subscribers.get(connection, {})
        cccd = subscribers.get(self._data_characteristic.handle, b"")
        return len(cccd) == 2 and bool(cccd[0] & 0x01)

    async def _run_tare(self, connection: Connection, token: int) -> None:
        """Average the readings for ``TARE_WINDOW_US`` of device time, then subtract them."""
        try:
            await self._sleep_until_device_us(self.device_clock_us() + TARE_WINDOW_US)
            rows = self._tare_rows or []
            if not rows:
                # Not streaming: the firmware still samples its sensors.
                n = max(1, round(TARE_WINDOW_US * 1e-6 * self._sample_rate_hz))
                pressure, _ = _normalise_block(self._source(n, self._sample_rate_hz))
                rows = [pressure] if pressure.size else [np.zeros((1, N_SENSORS))]
            mean_kpa = np.concatenate(rows).mean(axis=0)
            codes = _pressure_codes(mean_kpa[None, :], self.spec.full_scale_kpa)[0]
            codes[codes == SATURATED_CODE] = 0
            self._tare_codes = codes
            self._tared = True
        finally:
            self._tare_rows = None
            self._tare_task = None
        await self._send_reply(connection, Reply(Opcode.TARE, Status.OK, token=token))

    def _feed_tare(self, pressure_kpa: np.ndarray) -> None:
        if self._tare_rows is not None:
            self._tare_rows.append(pressure_kpa)

    async def _notify(self, connection: Connection, characteristic: Characteristic | None, value: bytes) -> None:
        if self._device is None or characteristic is None or connection is not self._connection:
            return
        await self._device.notify_subscriber(connection, characteristic, value)

    # -- streaming -------------------------------------------------------------

    def _begin_stream(self, start_us: int | None = None) -> None:
        start_us = self.device_clock_us() if start_us is None else start_us
        if self._first_stream_start_us is None:
            self._first_stream_start_us = start_us
        index = len(self.record.streams)
        record = StreamRecord(
            index=index,
            start_us=start_us,
            sample_rate_hz=self._sample_rate_hz,
            samples_per_packet=self._samples_per_packet,
            imu_enabled=self._imu_enabled,
        )
        self.record.streams.append(record)
        self._stream = _Stream(record, np.random.default_rng([self.spec.faults.seed, index]))
        self.finished.clear()
        self._stream_task = self._spawn(self._run_stream(self._stream))
        logger.info(
            "%s: stream %d started, %d Hz, %d sample(s) per packet",
            self.name, index, record.sample_rate_hz, record.samples_per_packet,
        )

    def _finish_stream(self, reason: str) -> None:
        stream, self._stream = self._stream, None
        if self._c is not None:
            self._c.stop_streaming()
        if stream is None:
            return
        if reason in ("link_loss", "disconnect"):
            stream.record.lost_in_buffer.extend(seq for seq, _ in stream.burst)
            stream.burst.clear()
        stream.record.end = reason
        logger.info(
            "%s: stream %d ended (%s) after %d packets",
            self.name, stream.record.index, reason, len(stream.record.sequences),
        )
        task, self._stream_task = self._stream_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if reason in ("max_packets", "source_exhausted"):
            self.finished.set()

    async def _end_stream(self, reason: str) -> None:
        stream = self._stream
        if stream is None:
            return
        # A stopped stream hands over what it holds for a burst.
        burst, stream.burst = stream.burst, []
        self._finish_stream(reason)
        await self._send_burst(burst)

    def _next_link_loss_us(self) -> int | None:
        if not self._pending_link_losses or self._first_stream_start_us is None:
            return None
        return self._first_stream_start_us + round(self._pending_link_losses[0] * 1e6)

    async def _run_stream(self, stream: _Stream) -> None:
        record = stream.record
        n = record.samples_per_packet
        period_us = 1_000_000 // record.sample_rate_hz
        max_packets = self.spec.max_packets
        while self._stream is stream:
            if max_packets is not None and stream.next_packet >= max_packets:
                await self._flush_and_finish(stream, "max_packets")
                return
            sequence = stream.next_packet
            timestamp_us = record.start_us + sequence * n * period_us
            due_us = timestamp_us + (n - 1) * period_us
            loss_us = self._next_link_loss_us()
            if loss_us is not None and loss_us <= due_us:
                await self._sleep_until_device_us(loss_us)
                if self._stream is not stream:
                    return
                await self._fault_link_loss()
                continue
            await self._sleep_until_device_us(due_us)
            if self._stream is not stream or (self._c is not None and not self._c.streaming):
                return
            pressure, imu = _normalise_block(self._source(n, record.sample_rate_hz))
            if pressure.shape[0] < n:
                await self._flush_and_finish(stream, "source_exhausted")
                return
            stream.next_packet += 1
            record.sequences.append(sequence)
            record.timestamps_us.append(timestamp_us)
            if self._c is not None:
                # The C firmware forms every packet, the discarded ones too: they use up their sequence.
                packet = self._build_packet_c(stream, sequence, timestamp_us, pressure, imu)
                if sequence in self.spec.faults.overrun_sequences:
                    record.overrun.append(sequence)
                    self._c.packet_discarded()
                    continue
                await self._emit(stream, sequence, packet)
                continue
            self._feed_tare(pressure)
            if sequence in self.spec.faults.overrun_sequences:
                record.overrun.append(sequence)
                stream.overrun_pending = True
                continue
            packet = self._build_packet(stream, sequence, timestamp_us, pressure, imu)
            await self._emit(stream, sequence, packet)

    async def _flush_and_finish(self, stream: _Stream, reason: str) -> None:
        burst, stream.burst = stream.burst, []
        await self._send_burst(burst)
        if self._stream is stream:
            self._finish_stream(reason)

    async def _fault_link_loss(self) -> None:
        planned_s = self._pending_link_losses.pop(0)
        if self._connection is None:
            self.record.link_losses_skipped_s.append(planned_s)
            return
        self.record.link_losses_us.append(self.device_clock_us())
        logger.info("%s: link loss (fault plan, %.3f s after the first stream start)", self.name, planned_s)
        await self.lose_link(reason=hci.HCI_CONNECTION_TIMEOUT_ERROR)

    def _build_packet(
        self,
        stream: _Stream,
        sequence: int,
        timestamp_us: int,
        pressure_kpa: np.ndarray,
        imu: np.ndarray | None,
    ) -> bytes:
        codes = _pressure_codes(pressure_kpa, self.spec.full_scale_kpa)
        if self._tared:
            saturated = codes == SATURATED_CODE
            codes = np.where(saturated, SATURATED_CODE, np.clip(codes - self._tare_codes, 0, None))
        imu_codes = None
        if stream.record.imu_enabled:
            imu_codes = _imu_codes(imu if imu is not None else np.zeros((codes.shape[0], N_IMU_AXES)))
        flags = StatusFlags(0)
        if self._battery_pct <= LOW_BATTERY_THRESHOLD_PCT:
            flags |= StatusFlags.LOW_BATTERY
        if self._tared:
            flags |= StatusFlags.TARED
        if self._clock_read:
            flags |= StatusFlags.CLOCK_READ
        if stream.overrun_pending:
            flags |= StatusFlags.OVERRUN
            stream.overrun_pending = False
        packet = SamplePacket(
            foot=self.spec.foot,
            sequence=sequence & 0xFFFF_FFFF,
            timestamp_us=timestamp_us,
            sample_rate_hz=stream.record.sample_rate_hz,
            pressure_codes=codes,
            imu_codes=imu_codes,
            flags=flags,
        )
        return encode_sample_packet(packet)

    def _build_packet_c(
        self,
        stream: _Stream,
        sequence: int,
        timestamp_us: int,
        pressure_kpa: np.ndarray,
        imu: np.ndarray | None,
    ) -> bytes:
        """The packet the C firmware forms from these samples (raw codes in; tare and flags are its own)."""
        device = self._c
        assert device is not None
        codes = _pressure_codes(pressure_kpa, self.spec.full_scale_kpa)
        imu_codes = None
        if stream.record.imu_enabled:
            imu_codes = _imu_codes(imu if imu is not None else np.zeros((codes.shape[0], N_IMU_AXES)))
        packet = None
        for i in range(codes.shape[0]):
            packet = device.add_sample(codes[i], None if imu_codes is None else imu_codes[i])
        if packet is None:
            raise AssertionError(f"{self.name}: the C firmware formed no packet from {codes.shape[0]} samples")
        # The C stream and this task count packets and place them on the same grid.
        head = int.from_bytes(packet[4:8], "little"), int.from_bytes(packet[8:16], "little")
        if head != (sequence & 0xFFFF_FFFF, timestamp_us):
            raise AssertionError(f"{self.name}: C packet (sequence, time) {head}, expected {(sequence, timestamp_us)}")
        return packet

    async def _emit(self, stream: _Stream, sequence: int, packet: bytes) -> None:
        faults = self.spec.faults
        record = stream.record
        # Draw both every time so a packet's fate depends on its sequence only.
        drop_draw, corrupt_draw = stream.rng.random(2)
        if sequence in faults.corrupt_sequences or corrupt_draw < faults.corrupt_rate:
            packet = _flip_one_bit(packet)
            record.corrupted.append(sequence)
        if sequence in faults.drop_sequences or drop_draw < faults.drop_rate:
            record.dropped.append(sequence)
            return
        stream.burst.append((sequence, packet))
        if len(stream.burst) >= faults.burst_packets:
            burst, stream.burst = stream.burst, []
            await self._send_burst(burst)

    async def _send_burst(self, burst: list[tuple[int, bytes]]) -> None:
        connection = self._connection
        for _, packet in burst:
            if connection is None or connection is not self._connection:
                return
            await self._notify(connection, self._data_characteristic, packet)


# Frame size of each command, from the codec itself.
_COMMAND_SIZES: dict[int, int] = {  # opcode -> frame size; looked up by the received opcode byte
    command.opcode: len(encode_command(command))
    for command in (StartStreaming(), StopStreaming(), SetSampleRate(), Tare(), Identify(), ReadClock(), GetInfo())
}


def _is_bad_argument(value: bytes, error: ProtocolError) -> bool:
    """A well-formed frame of a known command whose argument is out of range.

    ``PROTOCOL.md`` section 5: BAD_ARGUMENT for that; BAD_COMMAND for a frame not
    understood (wrong CRC, version or length, unknown opcode).
    """
    if isinstance(error, CrcMismatchError) or len(value) < 2 or value[0] != PROTOCOL_VERSION:
        return False
    return _COMMAND_SIZES.get(value[1]) == len(value)


def _pressure_codes(pressure_kpa: np.ndarray, full_scale_kpa: float) -> np.ndarray:
    """Wire codes (0.1 kPa) of pressures; at or above full scale -> SATURATED_CODE."""
    clean = np.nan_to_num(pressure_kpa, nan=0.0, posinf=full_scale_kpa, neginf=0.0)
    codes = np.clip(np.rint(clean * 10.0), 0, SATURATED_CODE - 1).astype(np.int64)
    codes[clean >= full_scale_kpa] = SATURATED_CODE
    return codes


def _imu_codes(imu: np.ndarray) -> np.ndarray:
    scaled = np.concatenate(
        (imu[:, :3] * _ACCEL_CODES_PER_G, imu[:, 3:] * _GYRO_CODES_PER_DPS), axis=1
    )
    scaled = np.nan_to_num(scaled, nan=0.0)
    return np.clip(np.rint(scaled), _INT16_MIN, _INT16_MAX).astype(np.int16)


def _flip_one_bit(packet: bytes) -> bytes:
    """The packet with one body bit flipped; a CRC-16 detects every single-bit error."""
    corrupted = bytearray(packet)
    corrupted[len(corrupted) // 2] ^= 0x01
    return bytes(corrupted)


"""An emulated ORPHE INSOLE: a bumble BLE peripheral built from the vendor's published SDK, no hardware.

It runs on the same in-process bumble link and fake BlueZ as our own emulated
insoles (``firmware_protocol._environment``), so plain bleak, and the
collector, talk to it exactly as to a real one. What it does, per the
Orphe-OSS/ORPHE-INSOLE.js SDK (``docs/SENSOR_SPEC.md``, ``src/ORPHE-INSOLE.js``):

* it advertises a local name starting ``INS`` and manufacturer data for company
  0x0000 (byte 5 model, 6 mount position, 14 battery, 15-17 firmware version);
  like some real firmware it does not advertise its service UUIDs unless told to;
* it serves ORPHE_INFORMATION (DEVICE_INFORMATION: read 20 bytes, battery,
  ``mount_position``, ranges; write ``0x0D, mode`` to choose the streaming
  mode; DATE_TIME: read and write the device's time of day) and OTHER
  (SENSOR_VALUES: notify; STEP_ANALYSIS: notify, never sent, as on firmware
  1.0.1);
* while a host has SENSOR_VALUES notifications on, it sends 104-byte packets:
  mode 4 (default) header 56, 2 samples a packet at 100 Hz with quaternion;
  mode 3 header 55, 4 samples a packet. The packet serial is a 16-bit counter
  of the packets formed, wrapping after 65535, that carries on across
  connections; every packet is stamped with the device time of day of its
  first sample (whole ms).

Faults (:class:`OrpheFaults`): notifications lost (by packet counter or at a
rate), link losses at given device times, the serial starting anywhere (so a
short test crosses the wrap), and the IMU's true clock: the SDK's changelog
(1.3.1) measured the IMU output rate at about 208 Hz where 200 Hz was assumed,
so mode 3 here runs at ``mode3_rate_hz`` = 208 Hz unless told otherwise.

The wearer (``OrpheInsole.load``): ``"walk"`` (the source's signal),
``"none"`` (feet lifted: each channel reads its no-load offset, about 220 counts
as the SDK's changelog reports) or ``"full"`` (the wearer's whole weight on this
foot). A calibration test switches it. Everything sent is kept in
:attr:`OrpheInsole.record` for tests to compare with what arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from bumble import hci
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.link import LocalLink

from firmware_protocol import EmulatedPeripheral
from insole.capture._sources._orphe_decode import (
    COMPANY_ID,
    DATE_TIME_CHAR_UUID,
    DEVICE_INFORMATION_CHAR_UUID,
    INFORMATION_SERVICE_UUID,
    MODE_OPCODE,
    MODES,
    N_CHANNELS,
    OTHER_SERVICE_UUID,
    SENSOR_VALUES_CHAR_UUID,
    STEP_ANALYSIS_CHAR_UUID,
    Advertisement,
    DeviceInformation,
    decode_date_time,
    encode_advertisement,
    encode_date_time,
    encode_packet,
    time_of_day_ms,
)

__all__ = [
    "NO_LOAD_COUNTS",
    "OrpheEnvironment",
    "OrpheFaults",
    "OrpheInsole",
    "OrpheRecord",
    "OrpheSpec",
    "OrpheStreamRecord",
    "faults_from_plan",
    "walking_counts",
]

#: A source: ``(sample numbers (n,), rate_hz, load) -> raw counts (n, 6)``; sample numbers count every
#: sample the insole formed since power-on, across streams.
CountSource = Callable[[np.ndarray, float, str], np.ndarray]

#: Raw counts of an unloaded channel (the SDK changelog: "a no-load offset of roughly 220 per channel").
NO_LOAD_COUNTS = 220
_FULL_WEIGHT_COUNTS = np.array([2600, 5200, 1800, 4800, 3000, 9000], dtype=np.float64)
_ADVERTISING_INTERVAL_MS = 20.0
_MS_PER_DAY = 86_400_000
# a still insole, lying flat: 1 g on z at the 16 g range, no rotation, the identity quaternion (Q14)
_STILL_ACC_RAW = (0, 0, 2048)
_STILL_QUAT_RAW = (16384, 0, 0, 0)


def walking_counts(side: str, *, stride_s: float = 1.1, stance_fraction: float = 0.62, seed: int = 0) -> CountSource:
    """A placeholder walking signal on the 6 channels, in raw counts (not a gait model).

    Each channel rises from its no-load offset once per stride during stance, heel first, toes last.
    With load ``"none"`` every channel reads the offset; ``"full"`` the full-weight level.
    """
    # when in stance each channel peaks: heel (channel 6) first, toes last
    peak_at = np.array([0.85, 0.70, 0.85, 0.70, 0.50, 0.15])
    phase_offset = 0.0 if side == "left" else 0.5
    rng_seed = seed + (0 if side == "left" else 1)

    def source(samples: np.ndarray, rate_hz: float, load: str) -> np.ndarray:
        n = samples.shape[0]
        noise = np.random.default_rng([rng_seed, int(samples[0]) if n else 0]).integers(-3, 4, (n, N_CHANNELS))
        base = np.full((n, N_CHANNELS), float(NO_LOAD_COUNTS))
        if load == "none":
            return np.clip(base + noise, 0, 65534)
        if load == "full":
            return np.clip(_FULL_WEIGHT_COUNTS[None, :] + noise, 0, 65534)
        t = samples / rate_hz
        phase = (((t / stride_s) + phase_offset) % 1.0) / stance_fraction
        distance = (phase[:, None] - peak_at[None, :]) / 0.3
        bump = np.where(np.abs(distance) < 1.0, 0.5 * (1.0 + np.cos(np.pi * distance)), 0.0)
        bump[phase > 1.0] = 0.0
        return np.clip(base + bump * (_FULL_WEIGHT_COUNTS - NO_LOAD_COUNTS)[None, :] + noise, 0, 65534)

    return source


@dataclass(frozen=True)
class OrpheFaults:
    """Faults an emulated ORPHE INSOLE injects (none by default).

    Attributes:
        drop_counters: Packets (by the insole's packet counter, i.e. the serial before
            it wraps to 16 bits) formed but never notified.
        drop_rate: Fraction of packets lost at random (seeded by ``seed``).
        link_loss_at_s: Device seconds after the first stream started at which the
            insole ends the connection as a supervision timeout would (each once).
        seed: Seed of the random drops.
    """

    drop_counters: frozenset[int] = frozenset()
    drop_rate: float = 0.0
    link_loss_at_s: tuple[float, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.drop_rate < 1:
            raise ValueError("drop_rate must be in [0, 1)")


@dataclass(frozen=True)
class OrpheSpec:
    """One emulated ORPHE INSOLE.

    Attributes:
        side: Which foot its ``mount_position`` says.
        number: Its device number; the local name is ``INS-<number, 8 digits>``.
        dorsal: Mounted on the shoe's upper (``mount_position`` bit 1).
        mode: Streaming mode at power-on (3 or 4; the SDK's default is 4).
        mode4_rate_hz / mode3_rate_hz: The true sample rates of modes 4 and 3 (the
            IMU clock: 208 Hz in mode 3, as the SDK measured on hardware).
        serial_start: Packet counter at power-on (65500: the serial wraps within seconds).
        max_packets: Stop forming packets after this many in a stream (a test then knows
            exactly what was sent).
        source: The counts streamed (default :func:`walking_counts`).
        faults: :class:`OrpheFaults`.
        speed: Emulated seconds per wall second.
        advertise_services: Put the two service UUIDs in the advertisement.
        firmware: Version in the advertisement.
        battery: DEVICE_INFORMATION battery (0 low, 1 normal, 2 high).
        acc_range / gyro_range: Range indices (0..3) in DEVICE_INFORMATION.
        time_of_day: The device's time of day at power-on, before any host sets it.
        address: Static random BLE address (derived from side and number if None).
    """

    side: Literal["left", "right"]
    number: int | None = None
    dorsal: bool = False
    mode: int = 4
    mode4_rate_hz: float = 100.0
    mode3_rate_hz: float = 208.0
    serial_start: int = 0
    max_packets: int | None = None
    source: CountSource | None = field(default=None, compare=False, repr=False)
    faults: OrpheFaults = field(default_factory=OrpheFaults)
    speed: float = 1.0
    advertise_services: bool = False
    firmware: tuple[int, int, int] = (1, 0, 1)
    battery: int = 2
    acc_range: int = 3
    gyro_range: int = 3
    time_of_day: dt.time = dt.time(9, 30)
    address: str | None = None

    def __post_init__(self) -> None:
        if self.side not in ("left", "right"):
            raise ValueError(f"side={self.side!r}: must be 'left' or 'right'")
        if self.mode not in (3, 4):
            raise ValueError("the emulated ORPHE INSOLE streams mode 3 or 4")
        if self.number is None:
            object.__setattr__(self, "number", 161 if self.side == "left" else 162)
        if self.speed <= 0 or self.mode4_rate_hz <= 0 or self.mode3_rate_hz <= 0 or self.serial_start < 0:
            raise ValueError("speed and rates must be > 0, serial_start >= 0")
        if self.address is None:
            number = int(self.number or 0)
            first = 0xC4 | (0 if self.side == "left" else 1)
            object.__setattr__(self, "address", ":".join(f"{b:02X}" for b in (first, 0x0F, *number.to_bytes(4, "big"))))

    @property
    def name(self) -> str:
        return f"INS-{int(self.number or 0):08d}"

    @property
    def mount_position(self) -> int:
        return (1 if self.side == "right" else 0) | (2 if self.dorsal else 0)

    def rate_hz(self, mode: int) -> float:
        return self.mode4_rate_hz if mode == 4 else self.mode3_rate_hz


@dataclass
class OrpheStreamRecord:
    """One stream: from notifications on to off, a link loss, or ``max_packets``.

    ``counters`` every packet formed (the serial is ``counter & 0xFFFF``),
    ``first_samples`` the sample number of each packet's first sample,
    ``dropped`` the counters never notified, ``sent`` the bytes of each packet
    notified (by counter).
    """

    mode: int
    rate_hz: float
    samples_per_packet: int
    start_us: float
    counters: list[int] = field(default_factory=list)
    first_samples: list[int] = field(default_factory=list)
    time_ms: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    sent: dict[int, bytes] = field(default_factory=dict)
    counts: dict[int, np.ndarray] = field(default_factory=dict)
    end: str | None = None

    @property
    def delivered(self) -> list[int]:
        return [c for c in self.counters if c in self.sent]


@dataclass
class OrpheRecord:
    streams: list[OrpheStreamRecord] = field(default_factory=list)
    connections: int = 0
    mode_writes: list[int] = field(default_factory=list)
    date_time_writes: list[dt.datetime] = field(default_factory=list)
    link_losses_us: list[float] = field(default_factory=list)


class OrpheInsole(EmulatedPeripheral):
    """One emulated ORPHE INSOLE (see the module docstring), on the peripheral our emulated insoles use."""

    def __init__(self, spec: OrpheSpec) -> None:
        super().__init__()
        self.spec = spec
        self.record = OrpheRecord()
        self.load = "walk"
        self._hold: asyncio.TimerHandle | None = None
        self.finished = asyncio.Event()
        self._source: CountSource = spec.source if spec.source is not None else walking_counts(spec.side)
        self._mode = spec.mode
        self._counter = spec.serial_start
        self._samples_formed = 0
        self._tod_at_boot_ms = time_of_day_ms(
            spec.time_of_day.hour, spec.time_of_day.minute, spec.time_of_day.second,
            spec.time_of_day.microsecond // 1000,
        )  # fmt: skip
        self._sensor_values: Characteristic | None = None
        self._stream: OrpheStreamRecord | None = None
        self._stream_task: asyncio.Task | None = None
        self._first_start_us: float | None = None
        self._losses = sorted(spec.faults.link_loss_at_s)
        self._rng = np.random.default_rng(spec.faults.seed)

    # -- identity and clocks ------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def address(self) -> str:
        assert self.spec.address is not None
        return self.spec.address

    @property
    def mode(self) -> int:
        return self._mode

    def hold(self, load: str, device_s: float) -> None:
        """The wearer holds ``load`` ("none", "full") for ``device_s`` device seconds, then walks again."""
        if load not in ("walk", "none", "full"):
            raise ValueError(f"load {load!r}: walk, none or full")
        self.load = load
        if self._hold is not None:
            self._hold.cancel()
        self._hold = asyncio.get_running_loop().call_later(device_s / self.spec.speed, self._walk_again)

    def _walk_again(self) -> None:
        self.load = "walk"
        self._hold = None

    def device_us(self) -> float:
        """µs since power-on on the device's clock (emulated seconds run ``speed`` times wall seconds)."""
        return (asyncio.get_running_loop().time() - self._boot_loop_time) * self.spec.speed * 1e6

    def time_of_day_ms(self, device_us: float) -> int:
        """The device's time of day (ms, wrapped at midnight) at ``device_us``."""
        return int(self._tod_at_boot_ms + device_us // 1000) % _MS_PER_DAY

    async def _sleep_until(self, device_us: float) -> None:
        await asyncio.sleep(max((device_us - self.device_us()) / 1e6 / self.spec.speed, 0.0))

    # -- lifecycle ----------------------------------------------------------------

    async def start(self, link: LocalLink) -> None:
        """Power on attached to ``link`` and advertise (again after every disconnection)."""
        await self._power_on(link, f"orphe-{self.spec.side}", _ADVERTISING_INTERVAL_MS)

    def advertising_data(self) -> bytes:
        """The AD structures: complete local name, manufacturer data (and the service UUIDs if asked)."""
        spec = self.spec
        status = Advertisement(
            model_type=2, mount_position=spec.mount_position, activity=0, battery=spec.battery, firmware=spec.firmware
        )
        structures = [
            (0x09, self.name.encode()),
            (0xFF, COMPANY_ID.to_bytes(2, "little") + encode_advertisement(status)),
        ]
        if spec.advertise_services:
            uuids = b"".join(_uuid_le(u) for u in (INFORMATION_SERVICE_UUID, OTHER_SERVICE_UUID))
            structures.append((0x07, uuids))
        return b"".join(bytes((len(data) + 1, kind)) + data for kind, data in structures)

    def _advertising_data(self) -> bytes:
        return self.advertising_data()

    async def stop(self) -> None:
        """End any stream and link (explicitly) and power off."""
        self._end_stream("stop")
        await self._power_off()

    # -- GATT ---------------------------------------------------------------------

    def _gatt_services(self) -> list[Service]:
        read_write = Characteristic.Properties.READ | Characteristic.Properties.WRITE
        both = Characteristic.Permissions.READABLE | Characteristic.Permissions.WRITEABLE
        information: Characteristic[bytes] = Characteristic(
            DEVICE_INFORMATION_CHAR_UUID, read_write, both,
            CharacteristicValue(read=self._read_information, write=self._write_information),
        )  # fmt: skip
        date_time: Characteristic[bytes] = Characteristic(
            DATE_TIME_CHAR_UUID,
            read_write,
            both,
            CharacteristicValue(read=self._read_date_time, write=self._write_date_time),
        )
        notify = Characteristic.Properties.NOTIFY | Characteristic.Properties.READ
        sensor_values: Characteristic[bytes] = Characteristic(
            SENSOR_VALUES_CHAR_UUID, notify, Characteristic.Permissions.READABLE, b""
        )
        sensor_values.on(sensor_values.EVENT_SUBSCRIPTION, self._on_subscription)
        self._sensor_values = sensor_values
        step_analysis: Characteristic[bytes] = Characteristic(
            STEP_ANALYSIS_CHAR_UUID, notify, Characteristic.Permissions.READABLE, b""
        )
        return [
            Service(INFORMATION_SERVICE_UUID, [information, date_time]),
            Service(OTHER_SERVICE_UUID, [sensor_values, step_analysis]),
        ]

    def _read_information(self, _connection: Connection) -> bytes:
        spec = self.spec
        return DeviceInformation(spec.battery, spec.mount_position, spec.acc_range, spec.gyro_range).encode()

    def _write_information(self, _connection: Connection, value: bytes) -> None:
        value = bytes(value)
        if len(value) >= 2 and value[0] == MODE_OPCODE and value[1] in MODES:
            self.record.mode_writes.append(value[1])
            if value[1] in (3, 4) and value[1] != self._mode:
                self._mode = value[1]
                if self._stream is not None:  # the new mode takes effect at once, on a new sample grid
                    self._end_stream("mode change")
                    self._begin_stream()

    def _read_date_time(self, _connection: Connection) -> bytes:
        now_us = self.device_us()
        tod = self.time_of_day_ms(now_us)
        moment = dt.datetime(2026, 1, 1) + dt.timedelta(milliseconds=tod)
        return encode_date_time(moment)

    def _write_date_time(self, _connection: Connection, value: bytes) -> None:
        moment = decode_date_time(bytes(value))
        self.record.date_time_writes.append(moment)
        written = time_of_day_ms(moment.hour, moment.minute, moment.second, moment.microsecond // 1000)
        self._tod_at_boot_ms = written - int(self.device_us() // 1000)

    # -- connections ----------------------------------------------------------------

    def _connected(self, connection: Connection) -> None:
        self.record.connections += 1

    def _disconnected_from(self, connection: Connection, reason: int) -> None:
        self._end_stream("link_loss" if reason == hci.HCI_CONNECTION_TIMEOUT_ERROR else "disconnect")

    def _on_subscription(self, connection: Connection, notify: bool, _indicate: bool) -> None:
        if connection is not self._connection:
            return
        if notify and self._stream is None:
            self._begin_stream()
        elif not notify and self._stream is not None:
            self._end_stream("notifications off")

    # -- streaming --------------------------------------------------------------------

    def _begin_stream(self) -> None:
        mode = MODES[self._mode]
        start = self.device_us()
        if self._first_start_us is None:
            self._first_start_us = start
        stream = OrpheStreamRecord(self._mode, self.spec.rate_hz(self._mode), mode.samples_per_packet, start)
        self.record.streams.append(stream)
        self._stream = stream
        self.finished.clear()
        self._stream_task = self._spawn(self._run(stream))

    def _end_stream(self, reason: str) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        stream.end = reason
        self._samples_formed += len(stream.counters) * stream.samples_per_packet
        task, self._stream_task = self._stream_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if reason == "max_packets":
            self.finished.set()

    async def _run(self, stream: OrpheStreamRecord) -> None:
        k = stream.samples_per_packet
        period_us = 1e6 / stream.rate_hz
        mode = MODES[stream.mode]
        faults = self.spec.faults
        base = self._samples_formed
        packet = 0
        while self._stream is stream:
            if self.spec.max_packets is not None and packet >= self.spec.max_packets:
                self._end_stream("max_packets")
                return
            first_us = stream.start_us + packet * k * period_us
            due_us = first_us + (k - 1) * period_us
            if self._losses and self._first_start_us is not None:
                loss_us = self._first_start_us + self._losses[0] * 1e6
                if loss_us <= due_us:
                    await self._sleep_until(loss_us)
                    self._losses.pop(0)
                    if self._stream is stream and self._connection is not None:
                        self.record.link_losses_us.append(self.device_us())
                        await self.lose_link()
                    continue
            await self._sleep_until(due_us)
            if self._stream is not stream:
                return
            counter = self._counter
            self._counter += 1
            samples = base + packet * k + np.arange(k)
            counts = np.clip(np.rint(self._source(samples, stream.rate_hz, self.load)), 0, 0xFFFF).astype(np.int64)
            time_ms = self.time_of_day_ms(first_us)
            gyro = np.zeros((k, 3), np.int64)
            acc = np.tile(np.array(_STILL_ACC_RAW, np.int64), (k, 1))
            quat = np.tile(np.array(_STILL_QUAT_RAW, np.int64), (k, 1)) if mode.quaternion else None
            value = encode_packet(mode.header, counter & 0xFFFF, time_ms, counts, gyro, acc, quat)
            stream.counters.append(counter)
            stream.first_samples.append(int(samples[0]))
            stream.time_ms.append(time_ms)
            stream.counts[counter] = counts
            packet += 1
            lost = self._rng.random() < faults.drop_rate
            if counter in faults.drop_counters or lost:
                stream.dropped.append(counter)
                continue
            connection, characteristic, device = self._connection, self._sensor_values, self._device
            if connection is None or characteristic is None or device is None:
                return
            stream.sent[counter] = value
            with contextlib.suppress(Exception):
                await device.notify_subscriber(connection, characteristic, value)


def faults_from_plan(plan: Any) -> OrpheFaults:
    """The ORPHE faults of a ``firmware_protocol.FaultPlan`` (``--faults``): drop rate, dropped packets
    (by packet counter), link losses and seed; the rest has no ORPHE counterpart."""
    return OrpheFaults(
        drop_counters=frozenset(plan.drop_sequences), drop_rate=plan.drop_rate,
        link_loss_at_s=tuple(plan.link_loss_at_s), seed=plan.seed,
    )  # fmt: skip


def _uuid_le(uuid: str) -> bytes:
    return bytes.fromhex(uuid.replace("-", ""))[::-1]


class OrpheEnvironment:
    """Emulated ORPHE INSOLEs (default a left and a right) on a fake BlueZ, as an async context manager.

    ``bus_address``: a ``dbus-daemon`` already running (a test session's); None
    starts a private one. ``set_system_bus_env`` points this process's bleak at it.
    """

    def __init__(
        self, specs: tuple[OrpheSpec, ...] | None = None, *, bus_address: str | None = None,
        set_system_bus_env: bool = False,
    ) -> None:  # fmt: skip
        from firmware_protocol import EmulatedEnvironment

        self.specs = specs if specs is not None else (OrpheSpec("left"), OrpheSpec("right"))
        self._base = EmulatedEnvironment((), bus_address=bus_address, set_system_bus_env=set_system_bus_env)
        self.insoles: tuple[OrpheInsole, ...] = ()

    @property
    def bus_address(self) -> str:
        return self._base.bus_address

    def shell_hint(self, command: str) -> str:
        return self._base.shell_hint(command)

    def set_system_bus_env(self) -> None:
        self._base.set_system_bus_env()

    async def start(self) -> None:
        await self._base.start()
        try:
            assert self._base.link is not None
            insoles = []
            for spec in self.specs:
                insole = OrpheInsole(spec)
                insoles.append(insole)
                await insole.start(self._base.link)
            self.insoles = tuple(insoles)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        for insole in self.insoles:
            with contextlib.suppress(Exception):
                await insole.stop()
        await self._base.stop()

    async def __aenter__(self) -> OrpheEnvironment:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def insole(self, side: str) -> OrpheInsole:
        for insole in self.insoles:
            if insole.spec.side == side:
                return insole
        raise KeyError(side)


# the name insole.capture gives it
orphe_faults_from_plan = faults_from_plan

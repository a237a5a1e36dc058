"""ORPHE INSOLE as a source: the vendor's documented BLE GATT protocol, read with plain bleak.

Chain: two ORPHE INSOLEs -> Bluetooth LE -> this computer (no vendor software).
Wire formats in ``_orphe_decode``; the page for users is ``docs/source-orphe.md``.
The start-up follows the SDK's ``begin()`` (Orphe-OSS/ORPHE-INSOLE.js):
read DEVICE_INFORMATION, write ``0x0D, mode`` to it, set the device's clock
through DATE_TIME, turn on SENSOR_VALUES notifications.

The source's four jobs (``_seam``):

* **discovery**: one ``BleakScanner`` for both feet (BlueZ allows one
  discovery per client); an ORPHE INSOLE is a device whose local name starts
  ``INS`` with the vendor's manufacturer data (company 0x0000), or that
  advertises the ORPHE services. The advertisement's mount position says the
  foot; DEVICE_INFORMATION's ``mount_position`` (bit 0: right) confirms it on
  connecting, and an insole that is not the foot it was chosen for is refused.
* **connect**: per foot a :class:`_Wire` connects, selects the mode (4: 100 Hz
  with pressures and quaternion, the default; 3: pressures at the IMU's rate),
  checks the sample rate against the insole's own packet clock, and streams;
  on a link loss the link reconnects and a new stream begins.
* **decode**: the 16-bit packet serial is unwrapped to a packet index (each
  packet's step from the one before taken as the nearest, so 65535 -> 0 is one
  step and never a gap); packet ``p`` of a stream holds samples ``p * k ..
  p * k + k - 1`` on the stream's grid, so every sample, lost ones included, has
  its slot from the serial alone.
* **clock facts**: each stream's grid starts at the device time of day of its
  first packet (ms), unwrapped across midnight and rebased if the insole's
  clock went back (it restarted); the grid is mapped to the session clock by
  the collector's lower envelope of arrivals, as for any insole. The packet
  time stamps are checked against the grid (measured rate, largest offset).

The tare step offers the SDK's two-point calibration: the no-load point is
taken while the wearer's feet are lifted (after the session's ``before_tare``),
then, with ``OrpheOptions.full_weight`` and a ``prompt``, the full-body-weight
point of each foot in turn. Values are recorded as the raw ADC counts the
insoles send (unit ``au``); the calibration goes into the file's device
metadata, never into the values.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import importlib.metadata
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from insole._errors import DeviceError
from insole._layout import SensorLayout, get_layout
from insole.capture._collector import CaptureParams, FatalLinkError, FoundInsole, InsoleLink, StreamStart
from insole.capture._sources._orphe_decode import (
    COMPANY_ID,
    DATE_TIME_CHAR_UUID,
    DEVICE_INFORMATION_CHAR_UUID,
    INFORMATION_SERVICE_UUID,
    MODES,
    N_CHANNELS,
    NAME_PREFIX,
    OTHER_SERVICE_UUID,
    SENSOR_VALUES_CHAR_UUID,
    DeviceInformation,
    TwoPointCalibration,
    decode_advertisement,
    decode_packets,
    encode_date_time,
    mode_command,
)
from insole.capture._sources._seam import Decoded, ValueTimeline

__all__ = [
    "OrpheCaptureParams",
    "OrpheOptions",
    "OrpheSource",
    "default_rate_hz",
    "orphe6_layout",
    "unwrap_serials",
]

logger = logging.getLogger(__name__)

_SERIAL_MODULUS = 1 << 16
_DAY_US = 86_400_000_000
_SEQUENCE_MASK = 0xFFFFFFFF
#: The IMU's true output rate in mode 3: the SDK's changelog (1.3.1) measured about 208 Hz on hardware
#: (the LSM6DSOX's 208 Hz setting) where 200 Hz had been assumed.
MODE3_RATE_HZ = 208


def default_rate_hz(mode: int) -> int:
    """The sample rate a mode's packets are placed at unless told otherwise: 100 Hz (mode 4), 208 Hz (mode 3)."""
    return MODE3_RATE_HZ if mode == 3 else MODES[mode].nominal_rate_hz


# --------------------------------------------------------------------------- the layout


def orphe6_layout(shoe_size_eu: float = 42.0) -> SensorLayout:
    """The 6 channels of an ORPHE INSOLE in our foot frame, scaled to ``shoe_size_eu``.

    The built-in layout ``orphe6`` (``insole/_layout.py``: positions from the vendor SDK's sensor map,
    approximate; areas unknown, the values being raw ADC counts).
    """
    return get_layout("orphe6", shoe_size_eu=shoe_size_eu)


# --------------------------------------------------------------------------- options and parameters


@dataclass(frozen=True)
class OrpheOptions:
    """How the ORPHE INSOLEs are found and streamed.

    Attributes:
        mode: Streaming mode, 4 (default: 2 samples a packet, 100 Hz, pressures and
            quaternion) or 3 (4 samples a packet at the IMU's rate, pressures, no quaternion).
        sample_rate_hz: The rate the samples are placed at (None: 100 in mode 4, 208 in mode 3).
        left_address / right_address: Use this insole for that foot (None: found by mount position).
        scan_timeout_s: How long to look for the insoles.
        sync_clock: Set each insole's time of day to this computer's at its first connection
            (the SDK's ``syncCoreTime``); the collector does not need it.
        rate_check_s: Before recording, this much of the insole's own packet time stamps is
            compared with ``sample_rate_hz`` (0: no check). A disagreement beyond
            ``rate_tolerance`` is refused.
        full_weight: In the tare step take the full-body-weight point too (needs ``prompt``).
        prompt: Awaited with an instruction for the wearer ("Stand with your full weight on the
            left foot ...") before each full-body-weight point.
        calibration_s: Device seconds of readings averaged per calibration point.
        settle_s: Device seconds of readings let pass before each point (the wearer settling; also
            packets formed before the instruction was confirmed that are still on their way).
        tare: Take the calibration in the tare step (False: none; the values are raw counts either way).
        stall_timeout_s: A streaming insole that sends nothing for this long is treated as lost.
    """

    mode: int = 4
    sample_rate_hz: int | None = None
    left_address: str | None = None
    right_address: str | None = None
    scan_timeout_s: float = 10.0
    sync_clock: bool = True
    rate_check_s: float = 1.0
    rate_tolerance: float = 0.01
    full_weight: bool = False
    prompt: Callable[[str], Awaitable[None]] | None = field(default=None, compare=False, repr=False)
    calibration_s: float = 1.0
    settle_s: float = 0.5
    tare: bool = True
    stall_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.mode not in (3, 4):
            raise ValueError(f"ORPHE INSOLE mode {self.mode}: record mode 4 (100 Hz) or 3; mode 1 has no pressures")
        rate = self.rate_hz
        if rate <= 0:
            raise ValueError("sample_rate_hz must be > 0")
        if (
            min(self.scan_timeout_s, self.calibration_s, self.rate_tolerance) <= 0
            or min(self.rate_check_s, self.settle_s) < 0
        ):
            raise ValueError(
                "scan_timeout_s, calibration_s and rate_tolerance must be > 0; rate_check_s, settle_s >= 0"
            )

    @property
    def rate_hz(self) -> int:
        return self.sample_rate_hz if self.sample_rate_hz is not None else default_rate_hz(self.mode)

    @property
    def samples_per_packet(self) -> int:
        return MODES[self.mode].samples_per_packet


@dataclass(frozen=True)
class OrpheCaptureParams(CaptureParams):
    """Capture parameters of an ORPHE INSOLE: 2 or 4 samples a packet, the IMU always on, any whole rate
    (its period is rounded to whole µs: 4808 µs at 208 Hz, 64 ppm off, which the clock fit absorbs)."""

    sample_rate_hz: int = 100
    samples_per_packet: int = 2
    imu: bool = True
    tare: bool = True

    def __post_init__(self) -> None:
        if self.sample_rate_hz <= 0 or self.samples_per_packet not in (2, 4) or not self.imu:
            raise ValueError("an ORPHE INSOLE streams 2 or 4 samples a packet, with the IMU, at a rate > 0")
        if self.flush_interval_s <= 0 or not self.reconnect_backoff_s or min(self.reconnect_backoff_s) < 0:
            raise ValueError("flush_interval_s must be > 0 and reconnect_backoff_s non-negative")

    @property
    def period_us(self) -> int:
        return round(1_000_000 / self.sample_rate_hz)


class _OrpheTimeline(ValueTimeline):
    """A :class:`ValueTimeline` at a rate whose period is not a whole number of µs (208 Hz), rounded."""

    def __init__(self, sample_rate_hz: int, *, n_channels: int, reorder_window_s: float) -> None:
        super().__init__(100, n_sensors=N_CHANNELS, n_channels=n_channels, imu=True, reorder_window_s=reorder_window_s)
        self.sample_rate_hz = sample_rate_hz
        self.period_us = round(1_000_000 / sample_rate_hz)


# --------------------------------------------------------------------------- serial and clock (pure)


def unwrap_serials(serials: np.ndarray, last_index: int | None, last_serial: int | None) -> np.ndarray:
    """Packet indices of 16-bit serials: each step from the one before taken as the nearest (-32768..32767).

    ``last_index``/``last_serial``: where the previous batch ended (None: the first
    serial is index = serial). 65535 followed by 0 is one step; a lower serial
    than the one before is a reordered or repeated packet, not a wrap.
    """
    serials = np.asarray(serials, dtype=np.int64)
    if serials.size == 0:
        return serials
    previous = np.concatenate([[serials[0] if last_serial is None else last_serial], serials[:-1]])
    steps = (serials - previous) % _SERIAL_MODULUS
    steps = np.where(steps >= _SERIAL_MODULUS // 2, steps - _SERIAL_MODULUS, steps)
    start = int(serials[0]) if last_index is None else int(last_index)
    if last_index is None:
        steps[0] = 0
    return start + np.cumsum(steps)


def unwrap_days(time_of_day_us: np.ndarray, last_us: int | None) -> np.ndarray:
    """Device times of day (µs) made continuous across midnight (a step back of more than 12 h is a new day)."""
    values = np.asarray(time_of_day_us, dtype=np.int64)
    if values.size == 0:
        return values
    day = 0 if last_us is None else int(last_us) // _DAY_US
    previous = np.concatenate([[values[0] if last_us is None else int(last_us) % _DAY_US], values[:-1]])
    wrapped = (values - previous) < -_DAY_US // 2
    return values + (day + np.cumsum(wrapped)) * _DAY_US


# --------------------------------------------------------------------------- per-foot state


@dataclass
class _FootState:
    """One foot's decoding across batches."""

    new_stream: bool = False
    last_index: int | None = None  # unwrapped packet index of the last packet
    last_serial: int | None = None
    first_index: int = 0  # index of the current stream's first packet (its local sequence 0)
    t0_us: int = 0  # device time of the current stream's grid origin
    base_us: int = 0  # added to the device time of day (after the insole's clock went back)
    last_tod_us: int | None = None  # the last packet's device time of day, unwrapped (before base)
    last_device_us: int | None = None
    last_arrival_s: float | None = None
    packets: int = 0
    wraps: int = 0
    clock_restarts: int = 0
    largest_offset_us: int = 0
    stream_first: tuple[int, int] | None = None  # (index, device us) of the stream's first packet
    stream_last: tuple[int, int] | None = None
    measured_rates_hz: list[tuple[float, float]] = field(default_factory=list)  # (rate, span s) per stream

    def close_stream(self, k: int) -> None:
        if self.stream_first is None or self.stream_last is None:
            return
        span_us = self.stream_last[1] - self.stream_first[1]
        if span_us > 0:
            rate = (self.stream_last[0] - self.stream_first[0]) * k / (span_us * 1e-6)
            self.measured_rates_hz.append((rate, span_us * 1e-6))
        self.stream_first = self.stream_last = None

    def measured_rate_hz(self, k: int) -> float | None:
        rates = list(self.measured_rates_hz)
        if self.stream_first is not None and self.stream_last is not None:
            span_us = self.stream_last[1] - self.stream_first[1]
            if span_us > 0:
                rates.append(((self.stream_last[0] - self.stream_first[0]) * k / (span_us * 1e-6), span_us * 1e-6))
        if not rates:
            return None
        total = sum(span for _, span in rates)
        return sum(rate * span for rate, span in rates) / total if total > 0 else None


@dataclass
class _Seen:
    """An ORPHE INSOLE seen advertising."""

    device: BLEDevice
    name: str | None
    side: str | None
    battery: int | None
    firmware: str | None
    rssi: int | None


def identify_orphe(device: BLEDevice, adv: AdvertisementData) -> _Seen | None:
    """The ORPHE INSOLE an advertisement describes, or None (pure).

    One if it advertises an ORPHE service, or its name starts ``INS`` and it
    carries the vendor's manufacturer data (company 0x0000, 18 bytes or more).
    Our own insoles (``INSOLE-L-1A2B``, company 0xFFFF) are not.
    """
    name = adv.local_name or device.name
    uuids = {u.lower() for u in adv.service_uuids}
    status = None
    payload = adv.manufacturer_data.get(COMPANY_ID)
    if payload is not None:
        status = decode_advertisement(bytes(payload))
    has_service = bool(uuids & {INFORMATION_SERVICE_UUID, OTHER_SERVICE_UUID})
    if not has_service and not (name and name.startswith(NAME_PREFIX) and status is not None):
        return None
    return _Seen(
        device=device,
        name=name,
        side=None if status is None else status.side,
        battery=None if status is None else status.battery,
        firmware=None if status is None else ".".join(str(v) for v in status.firmware),
        rssi=adv.rssi,
    )


# --------------------------------------------------------------------------- the wire of one foot


class _Wire:
    """One foot's BLE connection: a :class:`~insole.capture._collector.LinkTransport`."""

    def __init__(self, source: OrpheSource, side: str) -> None:
        self.source = source
        self.side = side
        self.readied = False
        self.streaming = False
        self.info: DeviceInformation | None = None
        self.address: str | None = None
        self.name: str | None = None
        self.link: InsoleLink | None = None
        self.before_recording = 0
        self._collecting: list[bytes] | None = None
        self._lost = asyncio.Event()

    def _on_data(self, _characteristic: Any, data: bytearray) -> None:
        link = self.link
        if link is None:
            return
        arrived = link.clock.now()
        if self.streaming:
            link.inbox.append((arrived, bytes(data)))
            link.last_data_s = arrived
        else:
            self.before_recording += 1
        if self._collecting is not None:
            self._collecting.append(bytes(data))

    def _on_disconnect(self, _client: BleakClient) -> None:
        self._lost.set()

    async def collect(self, device_s: float, *, settle_s: float = 0.0) -> list[bytes]:
        """Packets for ``device_s`` seconds of samples (counted) after ``settle_s`` seconds of them are let
        pass (the wearer's weight moving), or what came within 3x that wall time."""
        self._collecting = []
        try:
            per_s = self.source.options.rate_hz / self.source.options.samples_per_packet
            skip = round(settle_s * per_s)
            needed = skip + max(1, round(device_s * per_s))
            speed = self.link.clock.speed if self.link is not None else 1.0
            deadline = asyncio.get_running_loop().time() + 3 * (device_s + settle_s) / speed + 1.0
            while len(self._collecting) < needed and asyncio.get_running_loop().time() < deadline:
                if self._lost.is_set():
                    break
                await asyncio.sleep(0.02)
            return list(self._collecting[skip:])
        finally:
            self._collecting = None

    async def connect_and_stream(self, link: InsoleLink) -> bool:
        source, params = self.source, link.params
        self.link = link
        seen = await source.discover(self.side)
        self.address, self.name = seen.device.address, seen.name
        link.found = dataclasses.replace(link.found, address=seen.device.address, name=seen.name, rssi=seen.rssi)
        self._lost = asyncio.Event()
        client = BleakClient(seen.device, disconnected_callback=self._on_disconnect, timeout=params.connect_timeout_s)
        streamed = False
        try:
            await client.connect()
            link.counters.connections += 1
            info = DeviceInformation.decode(bytes(await client.read_gatt_char(DEVICE_INFORMATION_CHAR_UUID)))
            if info.side != self.side:
                raise FatalLinkError(
                    f"the ORPHE INSOLE chosen for the {self.side} foot ({seen.name}, {seen.device.address}) says "
                    f"it is mounted on the {info.side} foot (mount_position {info.mount_position})"
                )
            self.info = info
            await client.write_gatt_char(DEVICE_INFORMATION_CHAR_UUID, mode_command(source.options.mode), response=True)
            if source.options.sync_clock and not self.readied:
                # the SDK's syncCoreTime sets the time of day; the collector maps the device clock itself
                now = dt.datetime.now() + dt.timedelta(milliseconds=5)
                await client.write_gatt_char(DATE_TIME_CHAR_UUID, encode_date_time(now), response=True)
                source.clock_synced[self.side] = now.isoformat(timespec="milliseconds")
            if self.readied:
                link.begin_stream(link.clock.now())
                self.streaming = True
                streamed = True
            await client.start_notify(SENSOR_VALUES_CHAR_UUID, self._on_data)
            if not self.readied:
                if source.options.rate_check_s > 0:
                    source.check_rate(self.side, await self.collect(source.options.rate_check_s))
                self.readied = True
                link.mark_ready()
                if not await link.wait_for_go():
                    return False
                link.begin_stream(link.clock.now())
                self.streaming = True
                streamed = True
            link.last_data_s = link.clock.now()
            stall_s = params.stall_timeout_s * link.clock.speed
            while not await link.wait_stopping(0.05):
                if self._lost.is_set() or not client.is_connected:
                    break
                if link.clock.now() - link.last_data_s > stall_s:
                    link.counters.stalls += 1
                    link.counters.last_error = f"no data for {params.stall_timeout_s:g} s while streaming"
                    break
            return True
        except Exception:
            if streamed:
                return True  # the link dropped while streaming: a link loss, the link reconnects
            raise
        finally:
            if streamed and link.stopping and not self._lost.is_set():
                # notifications formed before the stop may still be on their way
                await asyncio.sleep(params.stop_grace_s)
            self.streaming = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), params.command_timeout_s)

    async def tare(self, link: InsoleLink) -> bool:
        """The no-load point (and, if asked, the full-body-weight point) of the two-point calibration."""
        calibration = await self.source.calibrate()
        return self.side in calibration


# --------------------------------------------------------------------------- the source


class OrpheSource:
    """ORPHE INSOLEs over BLE (a :class:`~._seam.Source`)."""

    name = "orphe"
    layout_name = "orphe6"
    unit = "au"
    transport_label = "BLE (bleak), ORPHE INSOLE GATT protocol"

    def __init__(self, options: OrpheOptions | None = None) -> None:
        self.options = options if options is not None else OrpheOptions()
        mode = MODES[self.options.mode]
        self.mode = mode
        self.channels: tuple[str, ...] = ("quat_w", "quat_x", "quat_y", "quat_z") if mode.quaternion else ()
        self.clock_method = (
            f"each insole's sample grid ({self.options.rate_hz} Hz, {mode.samples_per_packet} samples per packet, "
            "placed by the unwrapped 16-bit packet serial) starts at the device time of day of the stream's first "
            "packet and is mapped to the session clock by the lower envelope of packet arrivals (Moon et al. "
            "1999); the packets' own time stamps are checked against it; see docs/source-orphe.md"
        )
        self.state: dict[str, _FootState] = {}
        self.seen: dict[str, _Seen] = {}
        self.wires: dict[str, _Wire] = {}
        self.calibrations: dict[str, TwoPointCalibration] = {}
        self.clock_synced: dict[str, str] = {}
        self.rate_checks: dict[str, float] = {}
        self.malformed: dict[str, int] = {}
        self._scan: asyncio.Future[Any] | None = None
        self._discovering = 0  # feet waiting in discover()
        self._found: dict[str, asyncio.Event] = {}
        self._candidates_text = ""
        self._calibration: asyncio.Task[dict[str, TwoPointCalibration]] | None = None

    # ------------------------------------------------------------------ discovery and facts

    def capture_params(self) -> CaptureParams:
        options = self.options
        return OrpheCaptureParams(
            sample_rate_hz=options.rate_hz, samples_per_packet=self.mode.samples_per_packet, tare=options.tare,
            stall_timeout_s=options.stall_timeout_s,
        )  # fmt: skip

    def found(self, sides: Sequence[str]) -> dict[str, FoundInsole]:
        """The feet to record; each insole is found (scanned for) when its link first connects."""
        self.wires = {}
        self.state = {}
        self.calibrations = {}
        self.clock_synced = {}
        self.rate_checks = {}
        self.malformed = {}
        self._calibration = None
        self._found = {side: asyncio.Event() for side in sides}
        for side in self.seen:
            if side in self._found:
                self._found[side].set()
        found = {}
        for side in sides:
            wire = self.wires[side] = _Wire(self, side)
            found[side] = FoundInsole(
                address="not found yet", name=None, side=side, serial=None, battery_pct=None, rssi=None,
                protocol_version=None, transport=wire,
            )  # fmt: skip
        return found

    async def discover(self, side: str) -> _Seen:
        """The insole for ``side`` (raises DeviceError if none is seen within the scan timeout).

        One scan at a time looks for every foot not found yet (BlueZ allows one discovery per
        client); a foot returns as soon as its insole is seen, while the scan goes on for the other.
        """
        while side not in self.seen:
            scan = self._scan
            if scan is None or scan.done():
                scan = self._scan = asyncio.ensure_future(self._scan_for({s for s in self.wires if s not in self.seen}))
            found: asyncio.Future[Any] = asyncio.ensure_future(self._found[side].wait())
            self._discovering += 1
            try:
                await asyncio.wait({scan, found}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                if self._discovering == 1 and not scan.done():
                    # the session stopped while looking: the scan is this source's own task, not the
                    # link's, so it would go on for the scan timeout; nobody waits for it any more
                    scan.cancel()
                    with contextlib.suppress(BaseException):
                        await scan  # its scanner stopped before this link's task ends
                raise
            finally:
                self._discovering -= 1
                found.cancel()
            if side in self.seen:
                break
            if scan.done():
                scan.result()  # a scan that could not start raises here
                raise DeviceError(
                    f"no ORPHE INSOLE for the {side} foot within {self.options.scan_timeout_s:g} s"
                    + (f"; seen: {self._candidates_text}" if self._candidates_text else
                       "; none seen (are they charged and awake?)")
                )  # fmt: skip
        return self.seen[side]

    async def _scan_for(self, wanted: set[str]) -> None:
        addresses = {"left": self.options.left_address, "right": self.options.right_address}
        candidates: dict[str, _Seen] = {}
        complete = asyncio.Event()

        def assign() -> None:
            for want in wanted:
                if want in self.seen:
                    continue
                address = addresses[want]
                # an insole named for a foot is never taken automatically for the other
                named = {a for w, a in addresses.items() if a is not None and w != want}
                taken = {t.upper() for t in {s.device.address for s in self.seen.values()} | named}
                for seen in candidates.values():
                    if seen.device.address.upper() in taken:
                        continue
                    if (address is not None and seen.device.address.upper() == address.upper()) or (
                        address is None and seen.side == want
                    ):
                        self.seen[want] = seen
                        self._found[want].set()
                        break
            if all(w in self.seen for w in wanted):
                complete.set()

        def detected(device: BLEDevice, adv: AdvertisementData) -> None:
            seen = identify_orphe(device, adv)
            if seen is None:
                return
            candidates[device.address] = seen
            self._candidates_text = ", ".join(
                f"{s.name or '?'} ({s.device.address}, {s.side or 'foot not advertised'})" for s in candidates.values()
            )
            assign()

        try:
            scanner = BleakScanner(detected)
            await scanner.start()
        except FileNotFoundError:
            raise DeviceError("cannot scan for ORPHE INSOLEs: no D-Bus system bus here (is BlueZ running?)") from None
        except (BleakError, OSError, EOFError) as error:
            raise DeviceError(f"cannot scan for ORPHE INSOLEs: {error} (is Bluetooth on?)") from None
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(complete.wait(), self.options.scan_timeout_s)
        finally:
            with contextlib.suppress(BleakError, OSError, EOFError):
                await scanner.stop()

    def check_rate(self, side: str, packets: list[bytes]) -> None:
        """Refuse to record when the insole's own packet clock says another rate than the one set."""
        frames = decode_packets(packets, self.mode.header)
        if frames.n < 3:
            return  # too little to tell; the file's capture quality reports the measured rate anyway
        index = unwrap_serials(frames.serial, None, None)
        device_us = unwrap_days(frames.time_of_day_ms * 1000, None)
        span_us = int(device_us[-1] - device_us[0])
        if span_us <= 0:
            return
        measured = float(index[-1] - index[0]) * self.mode.samples_per_packet / (span_us * 1e-6)
        self.rate_checks[side] = round(measured, 2)
        expected = self.options.rate_hz
        # the time stamps are whole ms: over the span the rate is known to about 2 ms / span
        resolution = 2e3 / span_us
        if abs(measured / expected - 1) > self.options.rate_tolerance + resolution:
            raise FatalLinkError(
                f"the {side} ORPHE INSOLE streams about {measured:.1f} samples/s by its own clock in mode "
                f"{self.options.mode}, not the {expected} Hz set; record with that rate (--orphe-rate)"
            )

    async def calibrate(self) -> dict[str, TwoPointCalibration]:
        """Both feet's calibration, taken once however many links ask (the tare step runs them together)."""
        if self._calibration is None:
            self._calibration = asyncio.ensure_future(self._take_calibration())
        return await asyncio.shield(self._calibration)

    async def _take_calibration(self) -> dict[str, TwoPointCalibration]:
        options = self.options
        wires = {side: wire for side, wire in self.wires.items() if wire.readied}
        settle = options.settle_s
        zero = dict(
            zip(
                wires,
                await asyncio.gather(*(w.collect(options.calibration_s, settle_s=settle) for w in wires.values())),
            )
        )
        full: dict[str, list[bytes]] = {}
        if options.full_weight and options.prompt is not None:
            for side, wire in wires.items():
                await options.prompt(
                    f"Calibration: the wearer stands still with the full body weight on the {side.upper()} foot only "
                    "(the other foot lifted); press Enter when ready."
                )
                full[side] = await wire.collect(options.calibration_s, settle_s=settle)
        for side, packets in zero.items():
            counts = self._counts(packets)
            if counts.shape[0] == 0:
                continue
            full_counts = self._counts(full[side]) if side in full else None
            if full_counts is not None and full_counts.shape[0] == 0:
                full_counts = None
            self.calibrations[side] = TwoPointCalibration.from_samples(counts, full_counts)
        return dict(self.calibrations)

    def _counts(self, packets: list[bytes]) -> np.ndarray:
        frames = decode_packets(packets, self.mode.header)
        return frames.pressure.reshape(-1, N_CHANNELS).astype(np.float64)

    def devices(self, side: str) -> dict[str, Any]:
        wire = self.wires.get(side)
        seen = self.seen.get(side)
        info = wire.info if wire is not None else None
        calibration = self.calibrations.get(side)
        return {
            "vendor": "ORPHE Inc.",
            "model": "ORPHE INSOLE",
            "name": None if seen is None else seen.name,
            "firmware": None if seen is None else seen.firmware,
            "mount_position": None if info is None else info.mount_position,
            "mount": None if info is None else info.surface,
            "battery_level": None if info is None else {0: "low", 1: "normal", 2: "high"}.get(info.battery),
            "acc_range_g": None if info is None else info.acc_range_g,
            "gyro_range_dps": None if info is None else info.gyro_range_dps,
            "streaming_mode": self.options.mode,
            "clock_set_to": self.clock_synced.get(side),
            "tared": calibration is not None,
            "calibration": None if calibration is None else calibration.to_dict(),
            "values": "raw ADC counts (no pressure, no force; vary by insole, fit and temperature); 65535 = saturated",
        }

    def software(self) -> dict[str, Any]:
        try:
            bleak_version = importlib.metadata.version("bleak")
        except importlib.metadata.PackageNotFoundError:
            bleak_version = None
        options = self.options
        return {
            "bleak": bleak_version,
            "orphe": {
                "mode": options.mode,
                "header": self.mode.header,
                "samples_per_packet": self.mode.samples_per_packet,
                "sample_rate_hz": options.rate_hz,
                "rate_basis": "set"
                if options.sample_rate_hz is not None
                else (
                    "mode 3: the IMU's measured 208 Hz (ORPHE SDK changelog 1.3.1)"
                    if options.mode == 3
                    else "mode 4: 100 Hz (ORPHE SDK)"
                ),
                "wire_format": "Orphe-OSS/ORPHE-INSOLE.js docs/SENSOR_SPEC.md and src/ORPHE-INSOLE.js",
                "channels": "p1 toe medial, p2 ball medial, p3 toe lateral, p4 ball centre, p5 midfoot lateral, p6 heel",  # noqa: E501
            },
        }

    def quality_facts(self) -> dict[str, Any]:
        k = self.mode.samples_per_packet
        feet = {}
        for side, state in self.state.items():
            rate = state.measured_rate_hz(k)
            feet[side] = {
                "packets_decoded": state.packets,
                "serial_wraps": state.wraps,
                "clock_restarts": state.clock_restarts,
                "measured_sample_rate_hz": None if rate is None else round(rate, 3),
                "rate_check_hz": self.rate_checks.get(side),
                "largest_timestamp_offset_ms": state.largest_offset_us / 1e3,
                "packets_before_recording": self.wires[side].before_recording if side in self.wires else 0,
                "malformed_packets": self.malformed.get(side, 0),
            }
        return {
            "mode": self.options.mode,
            "feet": feet,
            "calibration": {side: c.complete for side, c in self.calibrations.items()},
        }

    # ------------------------------------------------------------------ decoding

    def new_timeline(self, params: CaptureParams, reorder_window_s: float) -> ValueTimeline:
        return _OrpheTimeline(params.sample_rate_hz, n_channels=len(self.channels), reorder_window_s=reorder_window_s)

    def decode(self, side: str, items: list[tuple[float, bytes | StreamStart]], timeline: ValueTimeline) -> Decoded:
        """Number, account and hold one foot's packets (see the module docstring)."""
        state = self.state.setdefault(side, _FootState())
        k = self.mode.samples_per_packet
        period_us = timeline.period_us
        last_sample: list[np.ndarray] = []
        arrivals: list[np.ndarray] = []
        malformed = 0
        run: list[tuple[float, bytes]] = []

        def flush() -> None:
            nonlocal malformed
            if not run:
                return
            frames = decode_packets([payload for _, payload in run], self.mode.header)
            malformed += frames.malformed
            run_arrivals = np.array([run[i][0] for i in frames.kept.tolist()], dtype=np.float64)
            run.clear()
            if frames.n == 0:
                return
            index = unwrap_serials(frames.serial, state.last_index, state.last_serial)
            tod_us = unwrap_days(frames.time_of_day_ms * 1000, state.last_tod_us)
            if state.last_index is not None:
                state.wraps += int(index[-1] // _SERIAL_MODULUS - state.last_index // _SERIAL_MODULUS)
            else:
                state.wraps += int(index[-1] // _SERIAL_MODULUS - index[0] // _SERIAL_MODULUS)
            if state.new_stream:
                state.new_stream = False
                first_us = int(tod_us[0]) + state.base_us
                if state.last_device_us is not None and first_us <= state.last_device_us:
                    # the insole's clock went back (it restarted, or was set): carry on from the host's time
                    host_us = 0.0 if state.last_arrival_s is None else (run_arrivals[0] - state.last_arrival_s) * 1e6
                    state.base_us = round(state.last_device_us + max(host_us, period_us)) - int(tod_us[0])
                    state.clock_restarts += 1
                    first_us = int(tod_us[0]) + state.base_us
                state.first_index = int(index[0])
                state.t0_us = first_us
                state.stream_first = None
            sequence = index - state.first_index
            device_us = tod_us + state.base_us
            grid_us = state.t0_us + sequence * k * period_us
            keep = sequence >= 0  # a packet from before the stream began cannot be placed
            offsets = np.abs(device_us - grid_us)[keep]
            if offsets.size:
                state.largest_offset_us = max(state.largest_offset_us, int(offsets.max()))
            pressure = frames.pressure.astype(np.float64)
            values = pressure
            quaternion = frames.quaternion()
            if self.channels and quaternion is not None:
                values = np.concatenate([pressure, quaternion], axis=2)
            info = self.wires[side].info if side in self.wires else None
            acc_range, gyro_range = (16, 2000) if info is None else (info.acc_range_g, info.gyro_range_dps)
            imu = np.concatenate([frames.acc_g(acc_range), frames.gyro_dps(gyro_range)], axis=2)
            for p in np.flatnonzero(keep).tolist():
                timeline.add(
                    int(sequence[p]) & _SEQUENCE_MASK, int(grid_us[p]), values[p], imu[p], float(run_arrivals[p])
                )
            newest = int(np.argmax(index))
            if state.last_index is None or index[newest] > state.last_index:
                state.last_index, state.last_serial = int(index[newest]), int(frames.serial[newest])
                state.last_tod_us = int(tod_us[newest])
            state.last_device_us = max(int(device_us.max()), state.last_device_us or int(device_us.max()))
            state.last_arrival_s = float(run_arrivals[-1])
            state.packets += frames.n
            if keep.any():
                first_kept = int(np.flatnonzero(keep)[0])
                if state.stream_first is None:
                    state.stream_first = (int(index[first_kept]), int(device_us[first_kept]))
                state.stream_last = (int(index[newest]), int(device_us[newest]))
            last_sample.append((grid_us + (k - 1) * period_us)[keep])
            arrivals.append(run_arrivals[keep])

        for arrival, payload in items:
            if isinstance(payload, StreamStart):
                flush()
                timeline.start_stream(k)
                state.close_stream(k)
                state.new_stream = True
                continue
            if not timeline.streaming:
                malformed += 1
                continue
            run.append((arrival, payload))
        flush()
        self.malformed[side] = self.malformed.get(side, 0) + malformed
        if not last_sample:
            return Decoded(np.zeros(0, np.int64), np.zeros(0), malformed)
        return Decoded(np.concatenate(last_sample).astype(np.int64), np.concatenate(arrivals), malformed)


# the name insole.capture gives it
orphe_rate_hz = default_rate_hz

"""ORPHE INSOLE wire formats, pure (no I/O): sensor packets, device information, date-time, advertising.

Everything here follows the vendor's MIT-licensed SDK, Orphe-OSS/ORPHE-INSOLE.js
(``src/ORPHE-INSOLE.js``: ``parseInsoleSensorValues``, ``getDeviceInformation``,
``setDataStreamingMode``, ``setDateTime``, ``onAdvertisementReceived``;
``docs/SENSOR_SPEC.md``; ``src/InsoleUtils.js``: sensor layout, two-point
calibration, ``sideFromMountPosition``). The facts are the SDK's; the code is ours.

SENSOR_VALUES notifications are 104 bytes, big-endian:

======  ======  =====================================================
bytes   type    meaning
======  ======  =====================================================
0       uint8   header: 56 (mode 4), 55 (mode 3), 54 (lossless FIFO,
                the layout of 55), 50 (mode 1, orientation only)
1-2     uint16  packet serial, wraps from 65535 to 0
3,4,5   uint8   device time of day: hour, minute, second
6-7     uint16  device time of day: milliseconds
8-      ...     the samples (below)
======  ======  =====================================================

* header 56: 2 samples of 32 bytes: quaternion w, x, y, z int16 (Q14, /16384),
  gyro x, y, z int16, acc x, y, z int16, 6 pressures uint16 (raw ADC counts);
* header 55 and 54: 4 samples of 24 bytes: gyro, acc, 6 pressures (no quaternion).

The sample at the highest offset is the first in time (the SDK numbers the
sample at offset ``8 + stride * i`` as ``k - 1 - i``); every sample of a
packet carries the packet's one device time. :func:`decode_packets` returns
samples in time order.

Units (SDK 1.2.x): acceleration ``raw / 32768 * range_g`` (range from the
device information, index 0..3 -> 2, 4, 8, 16 g); angular rate
``raw * range_dps * 0.000035`` deg/s (the LSM6DSOX's sensitivity, index 0..3 ->
250, 500, 1000, 2000 deg/s); quaternion ``raw / 16384``. Pressures are raw ADC
counts, not a physical quantity; 65535 is saturation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ACC_RANGES_G",
    "COMPANY_ID",
    "DATE_TIME_CHAR_UUID",
    "DEVICE_INFORMATION_CHAR_UUID",
    "GYRO_RANGES_DPS",
    "HEADER_FIFO",
    "HEADER_FULL",
    "HEADER_ORIENTATION",
    "HEADER_PRESSURE",
    "INFORMATION_SERVICE_UUID",
    "MODES",
    "NAME_PREFIX",
    "N_CHANNELS",
    "OTHER_SERVICE_UUID",
    "PACKET_BYTES",
    "SATURATED_COUNT",
    "SENSOR_VALUES_CHAR_UUID",
    "STEP_ANALYSIS_CHAR_UUID",
    "Advertisement",
    "DeviceInformation",
    "OrpheFrames",
    "StreamingMode",
    "TwoPointCalibration",
    "decode_advertisement",
    "decode_date_time",
    "decode_packets",
    "encode_advertisement",
    "encode_date_time",
    "encode_packet",
    "mode_command",
    "side_from_mount_position",
    "time_of_day_ms",
]

# GATT (src/ORPHE-INSOLE.js, the OrpheInsole constructor); lower case, as bleak reports UUIDs
INFORMATION_SERVICE_UUID = "01a9d6b5-ff6e-444a-b266-0be75e85c064"
DEVICE_INFORMATION_CHAR_UUID = "24354f22-1c46-430e-a4ab-a1eeabbcdfc0"
DATE_TIME_CHAR_UUID = "f53eeeb1-b2e8-492a-9673-10e0f1c29026"
OTHER_SERVICE_UUID = "db1b7aca-cda5-4453-a49b-33a53d3f0833"
SENSOR_VALUES_CHAR_UUID = "f3f9c7ce-46ee-4205-89ac-abe64e626c0f"
STEP_ANALYSIS_CHAR_UUID = "4eb776dc-cf99-4af7-b2d3-ad0f791a79dd"

#: Manufacturer data company id of the advertisement (``optionalManufacturerData: [0x0000]``).
COMPANY_ID = 0x0000
#: Local name prefix the SDK's chooser filters on (some firmware advertises no service UUID).
NAME_PREFIX = "INS"

PACKET_BYTES = 104
HEADER_FULL = 56
HEADER_PRESSURE = 55
HEADER_FIFO = 54
HEADER_ORIENTATION = 50
N_CHANNELS = 6
SATURATED_COUNT = 0xFFFF
#: Write ``(MODE_OPCODE, mode)`` to DEVICE_INFORMATION to choose the streaming mode (``setDataStreamingMode``).
MODE_OPCODE = 0x0D

ACC_RANGES_G = (2, 4, 8, 16)
GYRO_RANGES_DPS = (250, 500, 1000, 2000)
_GYRO_DPS_PER_LSB_PER_RANGE = 0.000035
_QUATERNION_SCALE = 16384.0
_INT16_SCALE = 32768.0
_MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class StreamingMode:
    """One of the SDK's streaming modes (``ORPHE_INSOLE_STREAMING_MODES``)."""

    mode: int
    header: int
    samples_per_packet: int
    stride_bytes: int
    quaternion: bool
    pressures: bool
    nominal_rate_hz: int


#: mode -> its packets; mode 1 (orientation only, header 50) carries no pressures and is not recorded.
MODES: dict[int, StreamingMode] = {
    1: StreamingMode(1, HEADER_ORIENTATION, 4, 21, True, False, 200),
    3: StreamingMode(3, HEADER_PRESSURE, 4, 24, False, True, 200),
    4: StreamingMode(4, HEADER_FULL, 2, 32, True, True, 100),
}
_LAYOUT_OF_HEADER = {HEADER_FULL: MODES[4], HEADER_PRESSURE: MODES[3], HEADER_FIFO: MODES[3]}


@dataclass(frozen=True, eq=False)
class OrpheFrames:
    """Decoded sample packets of one header, in arrival order; samples within a packet in time order.

    ``serial`` (n,) uint16; ``time_of_day_ms`` (n,) int64 device time of day of
    each packet; ``pressure`` (n, k, 6) uint16 raw counts; ``gyro_raw`` and
    ``acc_raw`` (n, k, 3) int16; ``quat_raw`` (n, k, 4) int16 or None (header 55/54);
    ``kept`` (n,) indices of the decoded payloads among those given; ``malformed``
    how many payloads were no sample packet of that header.
    """

    header: int
    serial: np.ndarray
    time_of_day_ms: np.ndarray
    pressure: np.ndarray
    gyro_raw: np.ndarray
    acc_raw: np.ndarray
    quat_raw: np.ndarray | None
    kept: np.ndarray
    malformed: int

    @property
    def n(self) -> int:
        return int(self.serial.shape[0])

    @property
    def samples_per_packet(self) -> int:
        return int(self.pressure.shape[1])

    def acc_g(self, acc_range_g: float) -> np.ndarray:
        """Acceleration in g, (n, k, 3) float64 (SDK ``converted_acc``)."""
        return self.acc_raw.astype(np.float64) / _INT16_SCALE * acc_range_g

    def gyro_dps(self, gyro_range_dps: float) -> np.ndarray:
        """Angular rate in deg/s, (n, k, 3) float64 (SDK ``converted_gyro``)."""
        return self.gyro_raw.astype(np.float64) * (gyro_range_dps * _GYRO_DPS_PER_LSB_PER_RANGE)

    def quaternion(self) -> np.ndarray | None:
        """Quaternion w, x, y, z (Q14 / 16384), (n, k, 4) float64, or None without one."""
        return None if self.quat_raw is None else self.quat_raw.astype(np.float64) / _QUATERNION_SCALE


def time_of_day_ms(hour: int, minute: int, second: int, millisecond: int) -> int:
    return ((hour * 60 + minute) * 60 + second) * 1000 + millisecond


def decode_packets(payloads: Sequence[bytes], header: int) -> OrpheFrames:
    """Decode every 104-byte packet with ``header`` (56, 55 or 54) at once; the rest are counted malformed."""
    if header not in _LAYOUT_OF_HEADER:
        raise ValueError(f"header {header} carries no pressures (56, 55 or 54 do)")
    mode = _LAYOUT_OF_HEADER[header]
    kept = [i for i, p in enumerate(payloads) if len(p) == PACKET_BYTES and p[0] == header]
    n, k = len(kept), mode.samples_per_packet
    words_per_sample = mode.stride_bytes // 2
    if n:
        raw = np.frombuffer(b"".join(payloads[i] for i in kept), np.uint8).reshape(n, PACKET_BYTES)
    else:
        raw = np.zeros((0, PACKET_BYTES), np.uint8)
    head = raw[:, :8].astype(np.int64)
    serial = ((head[:, 1] << 8) | head[:, 2]).astype(np.uint16)
    millis = (head[:, 6] << 8) | head[:, 7]
    tod = ((head[:, 3] * 60 + head[:, 4]) * 60 + head[:, 5]) * 1000 + millis
    body = np.ascontiguousarray(raw[:, 8 : 8 + k * mode.stride_bytes])
    words = body.view(">u2").reshape(n, k, words_per_sample)[:, ::-1, :]  # highest offset = first in time
    signed = words.astype(np.int32)
    signed = np.where(signed >= 0x8000, signed - 0x10000, signed).astype(np.int16)
    at = 4 if mode.quaternion else 0
    quat = signed[:, :, 0:4].copy() if mode.quaternion else None
    return OrpheFrames(
        header=header,
        serial=serial,
        time_of_day_ms=tod.astype(np.int64),
        pressure=words[:, :, at + 6 : at + 12].astype(np.uint16),
        gyro_raw=signed[:, :, at : at + 3].copy(),
        acc_raw=signed[:, :, at + 3 : at + 6].copy(),
        quat_raw=quat,
        kept=np.asarray(kept, dtype=np.int64),
        malformed=len(payloads) - n,
    )


def encode_packet(
    header: int,
    serial: int,
    time_ms: int,
    pressure: np.ndarray,
    gyro_raw: np.ndarray,
    acc_raw: np.ndarray,
    quat_raw: np.ndarray | None = None,
) -> bytes:
    """One 104-byte packet (the device side; the emulator and the tests' golden packets use it).

    ``time_ms`` is the device time of day in ms (wrapped to a day); sample rows
    are in time order (the first is written at the highest offset).
    """
    mode = _LAYOUT_OF_HEADER[header]
    k = mode.samples_per_packet
    pressure = np.asarray(pressure, dtype=np.int64).reshape(k, N_CHANNELS)
    gyro = np.asarray(gyro_raw, dtype=np.int64).reshape(k, 3)
    acc = np.asarray(acc_raw, dtype=np.int64).reshape(k, 3)
    if not 0 <= serial <= 0xFFFF or np.any((pressure < 0) | (pressure > 0xFFFF)):
        raise ValueError("serial and pressures are uint16")
    parts = [gyro, acc, pressure]
    if mode.quaternion:
        if quat_raw is None:
            raise ValueError(f"header {header} carries a quaternion")
        parts.insert(0, np.asarray(quat_raw, dtype=np.int64).reshape(k, 4))
    words = np.concatenate(parts, axis=1)[::-1]  # the first sample in time goes last
    if np.any((words < -0x8000) | (words > 0xFFFF)):
        raise ValueError("a field does not fit 16 bits")
    body = (words & 0xFFFF).astype(">u2").tobytes()
    tod = int(time_ms) % _MS_PER_DAY
    seconds, millis = divmod(tod, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    head = bytes((header, serial >> 8, serial & 0xFF, hour, minute, second, millis >> 8, millis & 0xFF))
    return (head + body).ljust(PACKET_BYTES, b"\x00")


def mode_command(mode: int) -> bytes:
    """What to write to DEVICE_INFORMATION to choose streaming ``mode`` (1, 3 or 4)."""
    if mode not in MODES:
        raise ValueError(f"ORPHE INSOLE streaming mode {mode}: use 1, 3 or 4")
    return bytes((MODE_OPCODE, mode))


@dataclass(frozen=True)
class DeviceInformation:
    """The DEVICE_INFORMATION characteristic as read (``getDeviceInformation``).

    ``battery`` 0 low, 1 normal, 2 high; ``mount_position`` bit 0 right foot,
    bit 1 dorsal (upper) mount; ``acc_range`` and ``gyro_range`` indices 0..3.
    """

    battery: int
    mount_position: int
    acc_range: int
    gyro_range: int

    @property
    def side(self) -> str:
        return side_from_mount_position(self.mount_position)[0]

    @property
    def surface(self) -> str:
        return side_from_mount_position(self.mount_position)[1]

    @property
    def acc_range_g(self) -> int:
        """Full scale of the accelerometer; 16 g when the index is out of range (as the SDK falls back)."""
        return ACC_RANGES_G[self.acc_range] if 0 <= self.acc_range < 4 else 16

    @property
    def gyro_range_dps(self) -> int:
        return GYRO_RANGES_DPS[self.gyro_range] if 0 <= self.gyro_range < 4 else 2000

    @classmethod
    def decode(cls, data: bytes) -> DeviceInformation:
        if len(data) < 10:
            raise ValueError(f"DEVICE_INFORMATION of {len(data)} bytes (at least 10 expected)")
        return cls(battery=data[0], mount_position=data[1], acc_range=data[8], gyro_range=data[9])

    def encode(self) -> bytes:
        """The 20 bytes a device answers (bytes not named by the SDK are 0)."""
        out = bytearray(20)
        out[0], out[1], out[8], out[9] = self.battery, self.mount_position, self.acc_range, self.gyro_range
        return bytes(out)


def side_from_mount_position(mount_position: int) -> tuple[str, str]:
    """``("left" | "right", "plantar" | "dorsal")`` (``sideFromMountPosition``: bit 0 right, bit 1 dorsal)."""
    return ("right" if mount_position & 0b01 else "left", "dorsal" if mount_position & 0b10 else "plantar")


def encode_date_time(moment: dt.datetime) -> bytes:
    """DATE_TIME as written (``setDateTime``): year - 2000, month 1..12, day, h, m, s, hundredths of a second."""
    return bytes(
        (moment.year - 2000, moment.month, moment.day, moment.hour, moment.minute, moment.second,
         moment.microsecond // 10_000)
    )  # fmt: skip


def decode_date_time(data: bytes) -> dt.datetime:
    """DATE_TIME as the device holds it (the inverse of :func:`encode_date_time`)."""
    if len(data) < 7:
        raise ValueError(f"DATE_TIME of {len(data)} bytes (7 expected)")
    return dt.datetime(2000 + data[0], data[1], data[2], data[3], data[4], data[5], data[6] * 10_000)


@dataclass(frozen=True)
class Advertisement:
    """Manufacturer data (company 0x0000) of an advertisement (``onAdvertisementReceived``)."""

    model_type: int
    mount_position: int
    activity: int
    battery: int
    firmware: tuple[int, int, int]

    @property
    def side(self) -> str:
        return side_from_mount_position(self.mount_position)[0]


def decode_advertisement(payload: bytes) -> Advertisement | None:
    """The status in manufacturer data (bytes after the company id), or None when shorter than 18 bytes."""
    if len(payload) < 18:
        return None
    return Advertisement(payload[5], payload[6], payload[7], payload[14], (payload[15], payload[16], payload[17]))


def encode_advertisement(status: Advertisement) -> bytes:
    out = bytearray(18)
    out[5], out[6], out[7], out[14] = status.model_type, status.mount_position, status.activity, status.battery
    out[15:18] = bytes(status.firmware)
    return bytes(out)


@dataclass(frozen=True)
class TwoPointCalibration:
    """The SDK's two-point calibration of one insole (``PressureCalibrator``): per channel, the mean raw
    count with the foot unloaded and with the wearer's full body weight on it.

    ``normalise`` maps raw counts to 0..1 per channel, ``(count - zero) / (full - zero)``
    clipped to 0..1 (1 = as loaded as under the full body weight). It is a
    per-channel scale, not a force: six channels normalised so do not add up
    to the body weight.
    """

    zero_counts: tuple[float, ...]
    full_counts: tuple[float, ...] | None = None
    zero_samples: int = 0
    full_samples: int = 0

    @classmethod
    def from_samples(cls, zero: np.ndarray, full: np.ndarray | None = None) -> TwoPointCalibration:
        """From raw counts (n, 6) with no load and (m, 6) at full body weight (None: no-load point only)."""
        zero = np.asarray(zero, dtype=np.float64).reshape(-1, N_CHANNELS)
        if zero.shape[0] == 0:
            raise ValueError("no samples for the no-load point")
        full_counts = None
        n_full = 0
        if full is not None:
            full = np.asarray(full, dtype=np.float64).reshape(-1, N_CHANNELS)
            if full.shape[0] == 0:
                raise ValueError("no samples for the full-body-weight point")
            full_counts = tuple(round(float(v), 3) for v in full.mean(axis=0))
            n_full = int(full.shape[0])
        return cls(tuple(round(float(v), 3) for v in zero.mean(axis=0)), full_counts, int(zero.shape[0]), n_full)

    @property
    def complete(self) -> bool:
        return self.full_counts is not None

    def normalise(self, counts: np.ndarray) -> np.ndarray:
        """Counts (..., 6) as 0..1 of the full-body-weight reading per channel (NaN stays NaN)."""
        if self.full_counts is None:
            raise ValueError("the full-body-weight point was not taken")
        zero = np.asarray(self.zero_counts)
        span = np.asarray(self.full_counts) - zero
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = (np.asarray(counts, dtype=np.float64) - zero) / (span + 1e-6)
        return np.clip(scaled, 0.0, 1.0)

    def to_dict(self) -> dict[str, object]:
        return {
            "method": "two-point per channel (ORPHE SDK PressureCalibrator): no load, full body weight",
            "unit": "raw ADC counts",
            "no_load_counts": list(self.zero_counts),
            "full_body_weight_counts": None if self.full_counts is None else list(self.full_counts),
            "no_load_samples": self.zero_samples,
            "full_body_weight_samples": self.full_samples,
            "normalised": "(count - no_load) / (full_body_weight - no_load), clipped to 0..1",
        }

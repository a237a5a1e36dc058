"""Pure byte codec of the insole wire protocol, version 1 (see ``PROTOCOL.md``).

Bytes in, typed frozen messages out; no I/O, no asyncio. Every ``decode_*``
returns a message or raises :class:`ProtocolError` (never another exception);
a CRC failure raises its subclass :class:`CrcMismatchError`.

API summary::

    # sample packets (data characteristic, notify)
    SamplePacket(foot, sequence, timestamp_us, sample_rate_hz, pressure_codes,
                 imu_codes=None, flags=StatusFlags(0))
        .n_samples  .period_us  .sample_times_us  .pressures_kpa  .saturated
        .accel_g  .gyro_dps
    encode_sample_packet(packet) -> bytes
    decode_sample_packet(data) -> SamplePacket        # alias: decode_notification

    # commands (control characteristic, host writes with response)
    StartStreaming(token=0)  StopStreaming(token=0)  Tare(token=0)
    SetSampleRate(sample_rate_hz, samples_per_packet=1, imu_enabled=False, token=0)
    Identify(duration_s=5, token=0)  ReadClock(token=0)  GetInfo(token=0)
    encode_command(command) -> bytes
    decode_command(data) -> Command

    # replies (control characteristic, device notifies)
    Reply(opcode, status, token=0)                    # replies without payload, and all errors
    ClockReply(timestamp_us, token=0)                 # READ_CLOCK, status OK
    InfoReply(foot, serial, battery_pct, firmware_version, sample_rate_hz,
              samples_per_packet, imu_present, imu_enabled, streaming,
              full_scale_kpa, token=0)                # GET_INFO, status OK
    encode_reply(reply) -> bytes
    decode_reply(data) -> Reply | ClockReply | InfoReply
    bad_command_reply(data) -> Reply                  # firmware side: reply to an undecodable write

    # advertising
    ManufacturerData(foot, serial, battery_pct)       # battery_pct None = unknown
    encode_manufacturer_data(md) -> bytes             # bytes after the company id
    decode_manufacturer_data(data) -> ManufacturerData
    encode_advertising_data(md) -> bytes             # 31 B: flags, service UUID, manufacturer data
    encode_scan_response(foot, serial) -> bytes       # the local name
    local_name(foot, serial) -> str                   # "INSOLE-L-1A2B"
    parse_local_name(name) -> tuple[Foot, int]        # (foot, low 16 bits of serial)
    serial_number_string(serial) -> str               # DIS 0x2A25 value, "20241A2B"

    encode(message) -> bytes                          # any of the above messages
    crc16_ccitt_false(data) -> int
    packet_size(n_samples, imu) -> int ; min_att_mtu(n_samples, imu) -> int
    max_samples_per_packet(imu) -> int

    enums: Foot, Opcode, Status, StatusFlags; constants PROTOCOL_VERSION,
    N_SENSORS, SATURATED_CODE, SAMPLE_RATES_HZ, MAX_PACKET_SIZE, ...

All multi-byte integers are little-endian.
"""

from __future__ import annotations

import binascii
import re
import struct
import uuid
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import ClassVar, TypeAlias

import numpy as np
import numpy.typing as npt

from firmware_protocol._errors import CrcMismatchError, ProtocolError
from firmware_protocol._gatt import COMPANY_ID, INSOLE_SERVICE_UUID, LOCAL_NAME_PREFIX

__all__ = [
    "ACCEL_CODES_PER_G",
    "CODES_PER_KPA",
    "GYRO_CODES_PER_DPS",
    "MAX_PACKET_SIZE",
    "N_IMU_AXES",
    "N_SENSORS",
    "PRESSURE_KPA_PER_CODE",
    "PROTOCOL_VERSION",
    "SAMPLE_RATES_HZ",
    "SATURATED_CODE",
    "ClockReply",
    "Command",
    "Foot",
    "GetInfo",
    "Identify",
    "InfoReply",
    "ManufacturerData",
    "Message",
    "Opcode",
    "ReadClock",
    "Reply",
    "ReplyMessage",
    "SamplePacket",
    "SetSampleRate",
    "StartStreaming",
    "Status",
    "StatusFlags",
    "StopStreaming",
    "Tare",
    "bad_command_reply",
    "crc16_ccitt_false",
    "decode_command",
    "decode_manufacturer_data",
    "decode_notification",
    "decode_reply",
    "decode_sample_packet",
    "encode",
    "encode_advertising_data",
    "encode_command",
    "encode_manufacturer_data",
    "encode_reply",
    "encode_sample_packet",
    "encode_scan_response",
    "local_name",
    "max_samples_per_packet",
    "min_att_mtu",
    "packet_size",
    "parse_local_name",
    "serial_number_string",
]

PROTOCOL_VERSION = 1
#: Pressure sensors per insole, in the order of the ``insole16`` layout.
N_SENSORS = 16
#: IMU values per sample: accel x, y, z (mg), gyro x, y, z (0.1 dps).
N_IMU_AXES = 6
#: One pressure code is 0.1 kPa (decoders divide by ``CODES_PER_KPA``, which is exact).
PRESSURE_KPA_PER_CODE = 0.1
CODES_PER_KPA = 10
#: Pressure code meaning "at or above the sensor's full scale".
SATURATED_CODE = 0xFFFF
#: IMU codes: accel in mg (1000 per g), gyro in 0.1 deg/s (10 per deg/s).
ACCEL_CODES_PER_G = 1000
GYRO_CODES_PER_DPS = 10
#: Largest notification value: fits one LE data PDU with DLE (MTU 247).
MAX_PACKET_SIZE = 244
SAMPLE_HEADER_SIZE = 18
CRC_SIZE = 2
SAMPLE_RATES_HZ: tuple[int, ...] = (50, 100, 200)
_RATE_CODE = {rate: code for code, rate in enumerate(SAMPLE_RATES_HZ)}

_PRESSURE_BYTES = 2 * N_SENSORS
_IMU_BYTES = 2 * N_IMU_AXES
_SAMPLE_HEADER = struct.Struct("<BBBBIQH")  # version foot rate n seq t_us flags
_CRC = struct.Struct("<H")
_IMU_SAMPLE_DTYPE = np.dtype([("p", "<u2", (N_SENSORS,)), ("imu", "<i2", (N_IMU_AXES,))])


class Foot(IntEnum):
    """Which foot an insole is for."""

    LEFT = 0
    RIGHT = 1

    @property
    def letter(self) -> str:
        """``"L"`` or ``"R"``, as in the local name."""
        return "L" if self is Foot.LEFT else "R"

    @property
    def side(self) -> str:
        """``"left"`` or ``"right"``."""
        return "left" if self is Foot.LEFT else "right"


class StatusFlags(IntFlag):
    """Status bits of a sample packet (uint16). Unknown bits are kept, never rejected."""

    #: Each sample carries 6 IMU values (derived from ``imu_codes``).
    IMU_PRESENT = 0x0001
    #: At least one pressure code is ``SATURATED_CODE`` (derived from the codes).
    SATURATED = 0x0002
    #: Battery at or below 15 %.
    LOW_BATTERY = 0x0004
    #: The firmware discarded packets (transmit queue full) since the previous
    #: packet it sent; the gap in sequence numbers says how many.
    OVERRUN = 0x0008
    #: A tare (zero) offset is being subtracted from the pressures.
    TARED = 0x0010
    #: The host has read the device clock (READ_CLOCK) since the device booted.
    CLOCK_READ = 0x0020


_DERIVED_FLAGS = StatusFlags.IMU_PRESENT | StatusFlags.SATURATED


class Opcode(IntEnum):
    """Command opcodes; a reply carries ``opcode | 0x80``."""

    START_STREAMING = 0x01
    STOP_STREAMING = 0x02
    SET_SAMPLE_RATE = 0x03
    TARE = 0x04
    IDENTIFY = 0x05
    READ_CLOCK = 0x06
    GET_INFO = 0x07


class Status(IntEnum):
    """Reply status codes."""

    OK = 0x00
    BAD_COMMAND = 0x01
    BAD_ARGUMENT = 0x02
    BUSY = 0x03
    MTU_TOO_SMALL = 0x04


REPLY_FLAG = 0x80


# --------------------------------------------------------------------------- helpers


def crc16_ccitt_false(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0.

    Check value: ``crc16_ccitt_false(b"123456789") == 0x29B1``.
    """
    # binascii.crc_hqx is this CRC (in C) once seeded with 0xFFFF.
    return binascii.crc_hqx(data, 0xFFFF)


def _append_crc(body: bytes) -> bytes:
    return body + _CRC.pack(crc16_ccitt_false(body))


def _check_frame(data: object, what: str, min_size: int) -> bytes:
    """Bytes of ``data`` after checking type, minimum size, CRC and version."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProtocolError(f"{what}: expected bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) < min_size:
        raise ProtocolError(f"{what}: {len(raw)} bytes, need at least {min_size}")
    (received,) = _CRC.unpack_from(raw, len(raw) - CRC_SIZE)
    computed = crc16_ccitt_false(raw[:-CRC_SIZE])
    if received != computed:
        raise CrcMismatchError(
            f"{what}: CRC mismatch (received 0x{received:04X}, computed 0x{computed:04X})",
            received=received,
            computed=computed,
        )
    if raw[0] != PROTOCOL_VERSION:
        raise ProtocolError(
            f"{what}: protocol version {raw[0]}, this codec speaks {PROTOCOL_VERSION}"
        )
    return raw


def _check_uint(value: object, bits: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ProtocolError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if not 0 <= value < (1 << bits):
        raise ProtocolError(f"{name}={value} outside 0..{(1 << bits) - 1}")
    return value


def _check_foot(value: Foot | int) -> Foot:
    try:
        return Foot(value)
    except (ValueError, TypeError):
        raise ProtocolError(f"foot={value!r}: must be 0 (left) or 1 (right)") from None


def _check_rate(rate_hz: object) -> int:
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, np.integer)) or (
        rate_hz not in _RATE_CODE
    ):
        raise ProtocolError(f"sample_rate_hz={rate_hz!r}: must be one of {SAMPLE_RATES_HZ}")
    return int(rate_hz)


def _rate_from_code(code: int, what: str) -> int:
    """Sample rate in Hz of a wire rate code; ``what`` starts the error message."""
    if code >= len(SAMPLE_RATES_HZ):
        raise ProtocolError(f"{what} {code}, must be 0..{len(SAMPLE_RATES_HZ) - 1}")
    return SAMPLE_RATES_HZ[code]


def _check_samples_per_packet(value: object, imu_enabled: bool) -> int:
    limit = max_samples_per_packet(imu_enabled)
    n = _check_uint(value, 8, "samples_per_packet")
    if not 1 <= n <= limit:
        raise ProtocolError(f"samples_per_packet={n}, must be 1..{limit}")
    return n


def packet_size(n_samples: int, imu: bool) -> int:
    """Bytes of a sample packet holding ``n_samples`` samples."""
    per_sample = _PRESSURE_BYTES + (_IMU_BYTES if imu else 0)
    return SAMPLE_HEADER_SIZE + n_samples * per_sample + CRC_SIZE


def min_att_mtu(n_samples: int, imu: bool) -> int:
    """Smallest ATT MTU that carries the packet in one notification (3-byte ATT header)."""
    return packet_size(n_samples, imu) + 3


def max_samples_per_packet(imu: bool) -> int:
    """Most samples per packet within ``MAX_PACKET_SIZE``: 7 without IMU, 5 with."""
    per_sample = _PRESSURE_BYTES + (_IMU_BYTES if imu else 0)
    return (MAX_PACKET_SIZE - SAMPLE_HEADER_SIZE - CRC_SIZE) // per_sample


# --------------------------------------------------------------------------- sample packet


@dataclass(frozen=True, eq=False)
class SamplePacket:
    """One notification of the data characteristic: 1..7 consecutive samples.

    Attributes
    ----------
    foot : Foot
    sequence : int
        Packet counter, uint32; 0 at each START_STREAMING, +1 per packet, wraps.
    timestamp_us : int
        Device clock (µs since the insole booted, uint64) of the first sample.
        Sample ``i`` was taken at ``timestamp_us + i * period_us``.
    sample_rate_hz : int
        50, 100 or 200.
    pressure_codes : ndarray, shape (n_samples, 16), uint16
        Pressure in 0.1 kPa per sensor, in ``insole16`` layout order;
        ``SATURATED_CODE`` (65535) means at or above full scale.
    imu_codes : ndarray, shape (n_samples, 6), int16, or None
        accel x, y, z in mg, then gyro x, y, z in 0.1 deg/s (insole frame:
        x heel-to-toe, y to the wearer's left, z up out of the sole).
    flags : StatusFlags
        ``IMU_PRESENT`` and ``SATURATED`` are derived from the arrays; others
        are kept as given.
    """

    foot: Foot
    sequence: int
    timestamp_us: int
    sample_rate_hz: int
    pressure_codes: npt.NDArray[np.uint16]
    imu_codes: npt.NDArray[np.int16] | None = None
    flags: StatusFlags = StatusFlags(0)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "foot", _check_foot(self.foot))
        set_(self, "sequence", _check_uint(self.sequence, 32, "sequence"))
        set_(self, "timestamp_us", _check_uint(self.timestamp_us, 64, "timestamp_us"))
        set_(self, "sample_rate_hz", _check_rate(self.sample_rate_hz))
        codes = _as_code_array(self.pressure_codes, np.uint16, N_SENSORS, "pressure_codes")
        n = codes.shape[0]
        imu = self.imu_codes
        if imu is not None:
            imu = _as_code_array(imu, np.int16, N_IMU_AXES, "imu_codes")
            if imu.shape[0] != n:
                raise ProtocolError(
                    f"imu_codes has {imu.shape[0]} samples, pressure_codes {n}"
                )
        limit = max_samples_per_packet(imu is not None)
        if not 1 <= n <= limit:
            raise ProtocolError(f"{n} samples per packet, must be 1..{limit}")
        # Plain-int masking: ``~`` on an IntFlag would also drop the reserved bits.
        flags = StatusFlags(_check_uint(self.flags, 16, "flags") & ~int(_DERIVED_FLAGS))
        if imu is not None:
            flags |= StatusFlags.IMU_PRESENT
        if (codes == SATURATED_CODE).any():
            flags |= StatusFlags.SATURATED
        set_(self, "pressure_codes", codes)
        set_(self, "imu_codes", imu)
        set_(self, "flags", flags)

    @property
    def n_samples(self) -> int:
        """Number of samples in the packet."""
        return int(self.pressure_codes.shape[0])

    @property
    def period_us(self) -> int:
        """Sample period in µs (exact: 20000, 10000 or 5000)."""
        return 1_000_000 // self.sample_rate_hz

    @property
    def sample_times_us(self) -> npt.NDArray[np.uint64]:
        """Device time of each sample, µs since boot (uint64, wraps like the clock)."""
        steps = np.arange(self.n_samples, dtype=np.uint64) * np.uint64(self.period_us)
        return np.uint64(self.timestamp_us) + steps

    @property
    def saturated(self) -> npt.NDArray[np.bool_]:
        """True where a sensor was at or above full scale, shape (n_samples, 16)."""
        return self.pressure_codes == SATURATED_CODE

    @property
    def pressures_kpa(self) -> npt.NDArray[np.float64]:
        """Pressures in kPa, shape (n_samples, 16); NaN where ``saturated``.

        A saturated reading has no known value (only a lower bound, the
        sensor's full scale from GET_INFO), so it is NaN rather than 6553.5.
        """
        kpa = self.pressure_codes / CODES_PER_KPA
        kpa[self.saturated] = np.nan
        return kpa

    @property
    def accel_g(self) -> npt.NDArray[np.float64] | None:
        """Acceleration x, y, z in g, shape (n_samples, 3), or None without IMU."""
        if self.imu_codes is None:
            return None
        return self.imu_codes[:, :3] / ACCEL_CODES_PER_G

    @property
    def gyro_dps(self) -> npt.NDArray[np.float64] | None:
        """Angular rate x, y, z in deg/s, shape (n_samples, 3), or None without IMU."""
        if self.imu_codes is None:
            return None
        return self.imu_codes[:, 3:] / GYRO_CODES_PER_DPS

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SamplePacket):
            return NotImplemented
        if (self.imu_codes is None) != (other.imu_codes is None):
            return False
        return (
            self.foot == other.foot
            and self.sequence == other.sequence
            and self.timestamp_us == other.timestamp_us
            and self.sample_rate_hz == other.sample_rate_hz
            and self.flags == other.flags
            and np.array_equal(self.pressure_codes, other.pressure_codes)
            and (self.imu_codes is None or np.array_equal(self.imu_codes, other.imu_codes))  # type: ignore[arg-type]
        )

    __hash__ = None  # type: ignore[assignment]


def _as_code_array(values: object, dtype: type, width: int, name: str) -> np.ndarray:
    """``values`` as a read-only C-contiguous (n, width) array of ``dtype``, range-checked."""
    try:
        arr = np.asarray(values)
    except Exception as exc:  # noqa: BLE001 - any array-conversion failure is bad input
        raise ProtocolError(f"{name}: not an array ({exc})") from None
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ProtocolError(f"{name} must have shape (n_samples, {width}), got {arr.shape}")
    if arr.dtype != dtype:
        if arr.dtype.kind not in "iu":
            raise ProtocolError(f"{name} must hold integers, got dtype {arr.dtype}")
        info = np.iinfo(dtype)
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise ProtocolError(f"{name} outside {info.min}..{info.max}")
        arr = arr.astype(dtype)
    else:
        arr = np.array(arr, copy=True) if arr.flags.writeable else arr
    arr = np.ascontiguousarray(arr)
    arr.flags.writeable = False
    return arr


def encode_sample_packet(packet: SamplePacket) -> bytes:
    """Bytes of one data notification (``PROTOCOL.md`` section 4)."""
    header = _SAMPLE_HEADER.pack(
        PROTOCOL_VERSION,
        packet.foot,
        _RATE_CODE[packet.sample_rate_hz],
        packet.n_samples,
        packet.sequence,
        packet.timestamp_us,
        packet.flags,
    )
    if packet.imu_codes is None:
        body = packet.pressure_codes.astype("<u2", copy=False).tobytes()
    else:
        samples = np.empty(packet.n_samples, dtype=_IMU_SAMPLE_DTYPE)
        samples["p"] = packet.pressure_codes
        samples["imu"] = packet.imu_codes
        body = samples.tobytes()
    return _append_crc(header + body)


def decode_sample_packet(data: bytes | bytearray | memoryview) -> SamplePacket:
    """Decode one data notification; raises :class:`ProtocolError` on any defect."""
    raw = _check_frame(data, "sample packet", SAMPLE_HEADER_SIZE + CRC_SIZE)
    _, foot, rate_code, n, sequence, timestamp_us, flags = _SAMPLE_HEADER.unpack_from(raw)
    if foot > 1:
        raise ProtocolError(f"sample packet: foot byte {foot}, must be 0 or 1")
    sample_rate_hz = _rate_from_code(rate_code, "sample packet: sample rate code")
    has_imu = bool(flags & StatusFlags.IMU_PRESENT)
    limit = max_samples_per_packet(has_imu)
    if not 1 <= n <= limit:
        raise ProtocolError(f"sample packet: {n} samples, must be 1..{limit}")
    expected = packet_size(n, has_imu)
    if len(raw) != expected:
        raise ProtocolError(
            f"sample packet: {len(raw)} bytes, {n} samples"
            f"{' with IMU' if has_imu else ''} need {expected}"
        )
    body = raw[SAMPLE_HEADER_SIZE:-CRC_SIZE]
    imu: np.ndarray | None
    if has_imu:
        samples = np.frombuffer(body, dtype=_IMU_SAMPLE_DTYPE)
        codes = samples["p"].astype(np.uint16)
        imu = samples["imu"].astype(np.int16)
        imu.flags.writeable = False
    else:
        codes = np.frombuffer(body, dtype="<u2").reshape(n, N_SENSORS).astype(np.uint16, copy=False)
        imu = None
    is_saturated = bool((codes == SATURATED_CODE).any())
    if is_saturated != bool(flags & StatusFlags.SATURATED):
        raise ProtocolError(
            "sample packet: SATURATED flag "
            f"{'set' if flags & StatusFlags.SATURATED else 'clear'} but "
            f"{'a' if is_saturated else 'no'} pressure code is 65535"
        )
    packet = object.__new__(SamplePacket)
    # Fields were all validated above; skip __post_init__ on this hot path.
    set_ = object.__setattr__
    set_(packet, "foot", Foot(foot))
    set_(packet, "sequence", sequence)
    set_(packet, "timestamp_us", timestamp_us)
    set_(packet, "sample_rate_hz", sample_rate_hz)
    if codes.flags.writeable:
        codes.flags.writeable = False
    set_(packet, "pressure_codes", codes)
    set_(packet, "imu_codes", imu)
    set_(packet, "flags", StatusFlags(flags))
    return packet


#: Alias: the collector decodes every data notification with this.
decode_notification = decode_sample_packet


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class _CommandBase:
    opcode: ClassVar[Opcode]
    token: int = field(default=0, kw_only=True)

    def __post_init__(self) -> None:
        _check_uint(self.token, 8, "token")


@dataclass(frozen=True)
class StartStreaming(_CommandBase):
    """Start sending sample packets (sequence restarts at 0)."""

    opcode: ClassVar[Opcode] = Opcode.START_STREAMING


@dataclass(frozen=True)
class StopStreaming(_CommandBase):
    """Stop sending sample packets."""

    opcode: ClassVar[Opcode] = Opcode.STOP_STREAMING


@dataclass(frozen=True)
class SetSampleRate(_CommandBase):
    """Configure the stream: rate, samples per packet, IMU on/off (only while stopped)."""

    opcode: ClassVar[Opcode] = Opcode.SET_SAMPLE_RATE
    sample_rate_hz: int = 100
    samples_per_packet: int = 1
    imu_enabled: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_rate(self.sample_rate_hz)
        if not isinstance(self.imu_enabled, bool):
            raise ProtocolError(f"imu_enabled must be a bool, got {self.imu_enabled!r}")
        _check_samples_per_packet(self.samples_per_packet, self.imu_enabled)


@dataclass(frozen=True)
class Tare(_CommandBase):
    """Zero the pressures: the current readings become the offset subtracted from now on."""

    opcode: ClassVar[Opcode] = Opcode.TARE


@dataclass(frozen=True)
class Identify(_CommandBase):
    """Blink the LED and buzz for ``duration_s`` seconds (1..60)."""

    opcode: ClassVar[Opcode] = Opcode.IDENTIFY
    duration_s: int = 5

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= _check_uint(self.duration_s, 8, "duration_s") <= 60:
            raise ProtocolError(f"duration_s={self.duration_s}, must be 1..60")


@dataclass(frozen=True)
class ReadClock(_CommandBase):
    """Ask for the device clock (µs since boot), for time synchronisation."""

    opcode: ClassVar[Opcode] = Opcode.READ_CLOCK


@dataclass(frozen=True)
class GetInfo(_CommandBase):
    """Ask for protocol version, foot, serial, battery, firmware and stream settings."""

    opcode: ClassVar[Opcode] = Opcode.GET_INFO


Command: TypeAlias = (
    StartStreaming | StopStreaming | SetSampleRate | Tare | Identify | ReadClock | GetInfo
)
_COMMAND_TYPES: dict[int, type] = {
    cls.opcode: cls
    for cls in (StartStreaming, StopStreaming, SetSampleRate, Tare, Identify, ReadClock, GetInfo)
}
_COMMAND_ARG_SIZE = {Opcode.SET_SAMPLE_RATE: 3, Opcode.IDENTIFY: 1}
_COMMAND_HEADER_SIZE = 3


def encode_command(command: Command) -> bytes:
    """Bytes the host writes to the control characteristic."""
    header = bytes((PROTOCOL_VERSION, command.opcode, command.token))
    if isinstance(command, SetSampleRate):
        args = bytes(
            (_RATE_CODE[command.sample_rate_hz], command.samples_per_packet, int(command.imu_enabled))
        )
    elif isinstance(command, Identify):
        args = bytes((command.duration_s,))
    elif isinstance(command, _CommandBase):
        args = b""
    else:
        raise ProtocolError(f"not a command: {type(command).__name__}")
    return _append_crc(header + args)


def decode_command(data: bytes | bytearray | memoryview) -> Command:
    """Decode one control write; raises :class:`ProtocolError` on any defect."""
    raw = _check_frame(data, "command", _COMMAND_HEADER_SIZE + CRC_SIZE)
    opcode, token = raw[1], raw[2]
    if opcode not in _COMMAND_TYPES:
        raise ProtocolError(f"command: unknown opcode 0x{opcode:02X}")
    op = Opcode(opcode)
    arg_size = _COMMAND_ARG_SIZE.get(op, 0)
    expected = _COMMAND_HEADER_SIZE + arg_size + CRC_SIZE
    if len(raw) != expected:
        raise ProtocolError(f"command {op.name}: {len(raw)} bytes, must be {expected}")
    args = raw[_COMMAND_HEADER_SIZE:-CRC_SIZE]
    if op is Opcode.SET_SAMPLE_RATE:
        rate_code, n, imu = args
        rate_hz = _rate_from_code(rate_code, "command SET_SAMPLE_RATE: rate code")
        if imu > 1:
            raise ProtocolError(f"command SET_SAMPLE_RATE: IMU byte {imu}, must be 0 or 1")
        return SetSampleRate(rate_hz, n, bool(imu), token=token)
    if op is Opcode.IDENTIFY:
        return Identify(args[0], token=token)
    return _COMMAND_TYPES[op](token=token)


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class Reply:
    """A reply without payload: any status of START/STOP/SET_SAMPLE_RATE/TARE/IDENTIFY,
    and every non-OK reply (also to READ_CLOCK/GET_INFO and unknown opcodes).

    ``opcode`` is the command's opcode (an :class:`Opcode`, or the raw int of an
    unknown opcode when ``status`` is ``BAD_COMMAND``).
    """

    opcode: int
    status: Status
    token: int = field(default=0, kw_only=True)

    def __post_init__(self) -> None:
        _check_uint(self.token, 8, "token")
        try:
            object.__setattr__(self, "status", Status(self.status))
        except ValueError:
            raise ProtocolError(f"unknown reply status {self.status!r}") from None
        opcode = _check_uint(self.opcode, 7, "opcode")
        if opcode in _COMMAND_TYPES:
            object.__setattr__(self, "opcode", Opcode(opcode))
        elif self.status is not Status.BAD_COMMAND:
            raise ProtocolError(f"reply to unknown opcode 0x{opcode:02X} must be BAD_COMMAND")
        if self.status is Status.OK and opcode in (Opcode.READ_CLOCK, Opcode.GET_INFO):
            raise ProtocolError(
                f"an OK reply to {Opcode(opcode).name} carries a payload: use "
                f"{'ClockReply' if opcode == Opcode.READ_CLOCK else 'InfoReply'}"
            )

    @property
    def ok(self) -> bool:
        """True if the command was carried out."""
        return self.status is Status.OK


@dataclass(frozen=True)
class ClockReply:
    """OK reply to READ_CLOCK: the device clock when the reply was built."""

    timestamp_us: int
    token: int = field(default=0, kw_only=True)
    opcode: ClassVar[Opcode] = Opcode.READ_CLOCK
    status: ClassVar[Status] = Status.OK
    ok: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_uint(self.token, 8, "token")
        _check_uint(self.timestamp_us, 64, "timestamp_us")


@dataclass(frozen=True)
class InfoReply:
    """OK reply to GET_INFO.

    ``firmware_version`` is (major, minor, patch); ``battery_pct`` is None when
    unknown; ``full_scale_kpa`` is the sensors' full scale (a multiple of 0.1
    kPa), the lower bound of a saturated reading.
    """

    foot: Foot
    serial: int
    battery_pct: int | None
    firmware_version: tuple[int, int, int]
    sample_rate_hz: int
    samples_per_packet: int
    imu_present: bool
    imu_enabled: bool
    streaming: bool
    full_scale_kpa: float
    token: int = field(default=0, kw_only=True)
    opcode: ClassVar[Opcode] = Opcode.GET_INFO
    status: ClassVar[Status] = Status.OK
    ok: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_uint(self.token, 8, "token")
        object.__setattr__(self, "foot", _check_foot(self.foot))
        _check_uint(self.serial, 32, "serial")
        _check_battery(self.battery_pct)
        fw = tuple(self.firmware_version)
        if len(fw) != 3:
            raise ProtocolError(f"firmware_version must be (major, minor, patch), got {fw!r}")
        for part in fw:
            _check_uint(part, 8, "firmware_version part")
        object.__setattr__(self, "firmware_version", fw)
        _check_rate(self.sample_rate_hz)
        for name in ("imu_present", "imu_enabled", "streaming"):
            if not isinstance(getattr(self, name), bool):
                raise ProtocolError(f"{name} must be a bool")
        if self.imu_enabled and not self.imu_present:
            raise ProtocolError("imu_enabled without imu_present")
        _check_samples_per_packet(self.samples_per_packet, self.imu_enabled)
        code = _kpa_to_code(self.full_scale_kpa)
        object.__setattr__(self, "full_scale_kpa", code / CODES_PER_KPA)

    @property
    def firmware_revision(self) -> str:
        """``"MAJOR.MINOR.PATCH"``, as in the Device Information Service."""
        return ".".join(str(part) for part in self.firmware_version)


def _kpa_to_code(kpa: object) -> int:
    if isinstance(kpa, bool) or not isinstance(kpa, (int, float, np.integer, np.floating)):
        raise ProtocolError(f"full_scale_kpa must be a number, got {kpa!r}")
    code = round(float(kpa) * CODES_PER_KPA) if np.isfinite(kpa) else -1
    if not 1 <= code < SATURATED_CODE or abs(code / CODES_PER_KPA - kpa) > 1e-6:
        raise ProtocolError(f"full_scale_kpa={kpa!r}: must be a multiple of 0.1 in 0.1..6553.4")
    return code


def _check_battery(battery_pct: object) -> int:
    """Wire byte of a battery level: 0..100 %, or 127 when unknown (None)."""
    if battery_pct is None:
        return _BATTERY_UNKNOWN
    pct = _check_uint(battery_pct, 8, "battery_pct")
    if pct > 100:
        raise ProtocolError(f"battery_pct={pct}, must be 0..100 or None")
    return pct


_BATTERY_UNKNOWN = 0x7F


def _battery_from_byte(byte: int, what: str) -> int | None:
    """Battery level in % of a wire byte (127: unknown, None); ``what`` starts the error message."""
    if byte == _BATTERY_UNKNOWN:
        return None
    if byte > 100:
        raise ProtocolError(f"{what} {byte}, must be 0..100 or 127")
    return byte


ReplyMessage: TypeAlias = Reply | ClockReply | InfoReply
_REPLY_HEADER_SIZE = 4
_CLOCK_PAYLOAD = struct.Struct("<Q")
_INFO_PAYLOAD = struct.Struct("<BIBBBBBBBH")  # foot serial batt fw*3 rate n state full_scale
_INFO_IMU_PRESENT, _INFO_IMU_ENABLED, _INFO_STREAMING = 0x01, 0x02, 0x04


def encode_reply(reply: ReplyMessage) -> bytes:
    """Bytes the device notifies on the control characteristic."""
    if isinstance(reply, ClockReply):
        payload = _CLOCK_PAYLOAD.pack(reply.timestamp_us)
    elif isinstance(reply, InfoReply):
        state = (
            (_INFO_IMU_PRESENT if reply.imu_present else 0)
            | (_INFO_IMU_ENABLED if reply.imu_enabled else 0)
            | (_INFO_STREAMING if reply.streaming else 0)
        )
        payload = _INFO_PAYLOAD.pack(
            reply.foot,
            reply.serial,
            _check_battery(reply.battery_pct),
            *reply.firmware_version,
            _RATE_CODE[reply.sample_rate_hz],
            reply.samples_per_packet,
            state,
            _kpa_to_code(reply.full_scale_kpa),
        )
    elif isinstance(reply, Reply):
        payload = b""
    else:
        raise ProtocolError(f"not a reply: {type(reply).__name__}")
    header = bytes((PROTOCOL_VERSION, reply.opcode | REPLY_FLAG, reply.token, reply.status))
    return _append_crc(header + payload)


def bad_command_reply(data: bytes | bytearray | memoryview) -> Reply:
    """The firmware's ``BAD_COMMAND`` reply to a control write that does not decode.

    Echoes byte 1 (bit 7 cleared) and byte 2 of what was received, 0 where missing
    (``PROTOCOL.md`` section 5).
    """
    raw = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else b""
    opcode = raw[1] & ~REPLY_FLAG if len(raw) > 1 else 0
    token = raw[2] if len(raw) > 2 else 0
    return Reply(opcode, Status.BAD_COMMAND, token=token)


def decode_reply(data: bytes | bytearray | memoryview) -> ReplyMessage:
    """Decode one control notification; raises :class:`ProtocolError` on any defect."""
    raw = _check_frame(data, "reply", _REPLY_HEADER_SIZE + CRC_SIZE)
    op_byte, token, status_byte = raw[1], raw[2], raw[3]
    if not op_byte & REPLY_FLAG:
        raise ProtocolError(f"reply: opcode byte 0x{op_byte:02X} lacks the reply bit 0x80")
    opcode = op_byte & ~REPLY_FLAG
    try:
        status = Status(status_byte)
    except ValueError:
        raise ProtocolError(f"reply: unknown status 0x{status_byte:02X}") from None
    payload = raw[_REPLY_HEADER_SIZE:-CRC_SIZE]
    if status is Status.OK and opcode == Opcode.READ_CLOCK:
        if len(payload) != _CLOCK_PAYLOAD.size:
            raise ProtocolError(f"reply READ_CLOCK: {len(raw)} bytes, must be 14")
        return ClockReply(_CLOCK_PAYLOAD.unpack(payload)[0], token=token)
    if status is Status.OK and opcode == Opcode.GET_INFO:
        if len(payload) != _INFO_PAYLOAD.size:
            raise ProtocolError(f"reply GET_INFO: {len(raw)} bytes, must be 20")
        foot, serial, batt, major, minor, patch, rate, n, state, full_scale = (
            _INFO_PAYLOAD.unpack(payload)
        )
        sample_rate_hz = _rate_from_code(rate, "reply GET_INFO: sample rate code")
        battery_pct = _battery_from_byte(batt, "reply GET_INFO: battery byte")
        if state & ~(_INFO_IMU_PRESENT | _INFO_IMU_ENABLED | _INFO_STREAMING):
            raise ProtocolError(f"reply GET_INFO: reserved state bits set (0x{state:02X})")
        return InfoReply(
            foot=foot,
            serial=serial,
            battery_pct=battery_pct,
            firmware_version=(major, minor, patch),
            sample_rate_hz=sample_rate_hz,
            samples_per_packet=n,
            imu_present=bool(state & _INFO_IMU_PRESENT),
            imu_enabled=bool(state & _INFO_IMU_ENABLED),
            streaming=bool(state & _INFO_STREAMING),
            full_scale_kpa=full_scale / CODES_PER_KPA,
            token=token,
        )
    if payload:
        raise ProtocolError(
            f"reply 0x{opcode:02X} status {status.name}: {len(payload)} unexpected payload bytes"
        )
    return Reply(opcode, status, token=token)


# --------------------------------------------------------------------------- advertising


@dataclass(frozen=True)
class ManufacturerData:
    """Manufacturer-specific advertising data (after the 2-byte company id 0xFFFF).

    ``battery_pct`` is 0..100, or None when unknown.
    """

    foot: Foot
    serial: int
    battery_pct: int | None
    protocol_version: int = PROTOCOL_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "foot", _check_foot(self.foot))
        _check_uint(self.serial, 32, "serial")
        _check_battery(self.battery_pct)
        if self.protocol_version != PROTOCOL_VERSION:
            raise ProtocolError(
                f"protocol_version={self.protocol_version!r}, this codec speaks {PROTOCOL_VERSION}"
            )


_MANUFACTURER = struct.Struct("<BBI")  # version, foot<<7 | battery, serial


def encode_manufacturer_data(data: ManufacturerData) -> bytes:
    """The 6 bytes after the company id (what bleak's ``manufacturer_data[0xFFFF]`` holds)."""
    foot_battery = (data.foot << 7) | _check_battery(data.battery_pct)
    return _MANUFACTURER.pack(data.protocol_version, foot_battery, data.serial)


def decode_manufacturer_data(data: bytes | bytearray | memoryview) -> ManufacturerData:
    """Decode the bytes after the company id; raises :class:`ProtocolError` on any defect."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProtocolError(f"manufacturer data: expected bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) != _MANUFACTURER.size:
        raise ProtocolError(f"manufacturer data: {len(raw)} bytes, must be {_MANUFACTURER.size}")
    version, foot_battery, serial = _MANUFACTURER.unpack(raw)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"manufacturer data: protocol version {version}, this codec speaks {PROTOCOL_VERSION}"
        )
    battery_pct = _battery_from_byte(foot_battery & 0x7F, "manufacturer data: battery")
    return ManufacturerData(
        foot=Foot(foot_battery >> 7),
        serial=serial,
        battery_pct=battery_pct,
    )


# AD types (Bluetooth Assigned Numbers, "Common Data Types").
_AD_FLAGS = 0x01
_AD_COMPLETE_128_BIT_UUIDS = 0x07
_AD_COMPLETE_LOCAL_NAME = 0x09
_AD_MANUFACTURER_SPECIFIC = 0xFF
#: LE General Discoverable Mode, BR/EDR not supported.
_ADV_FLAGS_VALUE = 0x06


def _ad_structure(ad_type: int, value: bytes) -> bytes:
    return bytes((len(value) + 1, ad_type)) + value


def encode_advertising_data(data: ManufacturerData) -> bytes:
    """The 31-byte advertising payload: flags, the insole service UUID, manufacturer data.

    The local name does not fit beside them; it is in :func:`encode_scan_response`.
    """
    return (
        _ad_structure(_AD_FLAGS, bytes((_ADV_FLAGS_VALUE,)))
        + _ad_structure(_AD_COMPLETE_128_BIT_UUIDS, uuid.UUID(INSOLE_SERVICE_UUID).bytes[::-1])
        + _ad_structure(
            _AD_MANUFACTURER_SPECIFIC,
            struct.pack("<H", COMPANY_ID) + encode_manufacturer_data(data),
        )
    )


def encode_scan_response(foot: Foot | int, serial: int) -> bytes:
    """The scan-response payload: the complete local name, e.g. ``INSOLE-L-1A2B``."""
    return _ad_structure(_AD_COMPLETE_LOCAL_NAME, local_name(foot, serial).encode("ascii"))


_NAME_RE = re.compile(rf"{re.escape(LOCAL_NAME_PREFIX)}([LR])-([0-9A-F]{{4}})")


def local_name(foot: Foot | int, serial: int) -> str:
    """Complete local name, e.g. ``INSOLE-L-1A2B`` (low 16 bits of the serial in hex)."""
    foot = _check_foot(foot)
    serial = _check_uint(serial, 32, "serial")
    return f"{LOCAL_NAME_PREFIX}{foot.letter}-{serial & 0xFFFF:04X}"


def serial_number_string(serial: int) -> str:
    """The Device Information Service serial number: 8 upper-case hex digits."""
    return f"{_check_uint(serial, 32, 'serial'):08X}"


def parse_local_name(name: str) -> tuple[Foot, int]:
    """``(foot, low 16 bits of serial)`` from a local name; ProtocolError if not an insole's."""
    match = _NAME_RE.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise ProtocolError(f"{name!r} is not an insole name like 'INSOLE-L-1A2B'")
    return (Foot.LEFT if match[1] == "L" else Foot.RIGHT), int(match[2], 16)


# --------------------------------------------------------------------------- generic


Message: TypeAlias = SamplePacket | Command | ReplyMessage | ManufacturerData


def encode(message: Message) -> bytes:
    """Bytes of any protocol message."""
    if isinstance(message, SamplePacket):
        return encode_sample_packet(message)
    if isinstance(message, _CommandBase):
        return encode_command(message)
    if isinstance(message, (Reply, ClockReply, InfoReply)):
        return encode_reply(message)
    if isinstance(message, ManufacturerData):
        return encode_manufacturer_data(message)
    raise ProtocolError(f"not a protocol message: {type(message).__name__}")

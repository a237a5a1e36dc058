"""ctypes binding of the C implementation of the protocol (``firmware_protocol/c/``).

The C library is the device side of ``PROTOCOL.md`` for builders' firmware. This
module compiles it with the system C compiler into a shared library, once, in a
cache folder keyed by the sources and the compiler, and wraps it for the tests
and for the emulated insole's opt-in C codec (``INSOLE_EMULATOR_CODEC=c``).

Private: nothing here is part of ``firmware_protocol``'s public names.

The compiler is ``$CC`` when set, else the first of ``cc``, ``gcc``, ``clang`` on
``PATH``. The cache folder is ``$INSOLE_C_CACHE_DIR`` when set, else
``$XDG_CACHE_HOME/insole/protocol-c`` (``~/.cache/insole/protocol-c``).
:class:`CLibraryUnavailable` says why the library cannot be built.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from ctypes import POINTER, c_bool, c_char_p, c_int, c_size_t, c_uint8, c_uint16, c_uint32, c_uint64, c_void_p
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "ACTION_CLOCK_READ",
    "ACTION_IDENTIFY",
    "ACTION_SETTINGS_CHANGED",
    "ACTION_STREAM_STARTED",
    "ACTION_STREAM_STOPPED",
    "ACTION_TARE_STARTED",
    "C_SOURCE_DIR",
    "CDevice",
    "CLibraryUnavailable",
    "CProtocol",
    "DecodedCommand",
    "WARNING_FLAGS",
    "find_compiler",
    "library",
]

#: Folder of ``insole_protocol.h`` / ``insole_protocol.c``.
C_SOURCE_DIR = Path(__file__).resolve().parent / "c"
_SOURCES = ("insole_protocol.h", "insole_protocol.c")
#: The flags the library must build cleanly with (any warning is an error).
WARNING_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")

ACTION_STREAM_STARTED = 0x01
ACTION_STREAM_STOPPED = 0x02
ACTION_SETTINGS_CHANGED = 0x04
ACTION_TARE_STARTED = 0x08
ACTION_IDENTIFY = 0x10
ACTION_CLOCK_READ = 0x20

_N_SENSORS = 16
_N_IMU_AXES = 6
_BUFFER_SIZE = 256


class CLibraryUnavailable(RuntimeError):
    """The C library cannot be built or loaded here (no compiler, or the build failed)."""


def find_compiler() -> list[str] | None:
    """The C compiler command: ``$CC`` split like a shell would, else ``cc``/``gcc``/``clang``; None if absent."""
    configured = os.environ.get("CC")
    if configured:
        words = shlex.split(configured)
        if words and shutil.which(words[0]):
            return words
        return None
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return [path]
    return None


def _cache_dir() -> Path:
    configured = os.environ.get("INSOLE_C_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "insole" / "protocol-c"


def _compiler_identity(compiler: list[str]) -> str:
    try:
        done = subprocess.run([*compiler, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CLibraryUnavailable(f"C compiler {compiler[0]} does not run: {error}") from None
    return " ".join(compiler) + "\n" + done.stdout


def build_library(compiler: list[str] | None = None) -> Path:
    """Path of the shared library, compiling it first unless the cache already holds this build."""
    compiler = compiler or find_compiler()
    if compiler is None:
        raise CLibraryUnavailable("no C compiler found ($CC, cc, gcc or clang on PATH)")
    digest = hashlib.sha256(_compiler_identity(compiler).encode())
    for name in _SOURCES:
        digest.update(name.encode() + b"\0" + (C_SOURCE_DIR / name).read_bytes())
    suffix = ".dylib" if sys.platform == "darwin" else ".so"
    target = _cache_dir() / f"libinsole_protocol-{digest.hexdigest()[:16]}{suffix}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target, then rename: concurrent builders never see half a file.
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        built = Path(scratch) / target.name
        command = [
            *compiler, *WARNING_FLAGS, "-O2", "-fPIC", "-shared",
            str(C_SOURCE_DIR / "insole_protocol.c"), "-o", str(built),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise CLibraryUnavailable(f"building the C library failed: {shlex.join(command)}\n{done.stderr}")
        os.replace(built, target)
    return target


def _declare(lib: ctypes.CDLL) -> None:
    u8p = c_void_p  # pointers are passed as integer addresses (numpy .ctypes.data) or buffers
    signatures: dict[str, tuple[object, list[object]]] = {
        "insole_crc16": (c_uint16, [u8p, c_size_t]),
        "insole_period_us": (c_uint32, [c_uint8]),
        "insole_packet_size": (c_size_t, [c_uint8, c_bool]),
        "insole_min_att_mtu": (c_uint16, [c_uint8, c_bool]),
        "insole_max_samples_per_packet": (c_uint8, [c_bool]),
        "insole_encode_sample_packet": (
            c_size_t,
            [u8p, c_size_t, c_uint8, c_uint8, c_uint8, c_uint32, c_uint64, c_uint16, c_void_p, c_void_p],
        ),
        "insole_encode_reply": (c_size_t, [u8p, c_size_t, c_uint8, c_uint8, c_uint8]),
        "insole_encode_clock_reply": (c_size_t, [u8p, c_size_t, c_uint8, c_uint64]),
        "insole_encode_info_reply": (
            c_size_t,
            [u8p, c_size_t, c_uint8, c_uint8, c_uint32, c_uint8, c_uint8, c_uint8, c_uint8, c_uint8, c_uint8,
             c_uint8, c_uint16],
        ),
        "insole_encode_bad_command_reply": (c_size_t, [u8p, c_size_t, u8p, c_size_t]),
        "insole_encode_command": (c_size_t, [u8p, c_size_t, c_uint8, c_uint8, u8p, c_size_t]),
        "insole_decode_command": (c_int, [u8p, c_size_t, c_void_p]),
        "insole_encode_manufacturer_data": (c_size_t, [u8p, c_size_t, c_uint8, c_uint32, c_uint8]),
        "insole_encode_advertising_data": (c_size_t, [u8p, c_size_t, c_uint8, c_uint32, c_uint8]),
        "insole_encode_scan_response": (c_size_t, [u8p, c_size_t, c_uint8, c_uint32]),
        "insole_local_name": (c_size_t, [c_char_p, c_size_t, c_uint8, c_uint32]),
        "insole_serial_string": (c_size_t, [c_char_p, c_size_t, c_uint32]),
        "insole_clock_init": (None, [c_void_p, c_uint32]),
        "insole_clock_now": (c_uint64, [c_void_p, c_uint32]),
        "insole_device_size": (c_size_t, []),
        "insole_device_init": (
            c_bool, [c_void_p, c_uint8, c_uint32, c_uint8, c_uint8, c_uint8, c_uint16, c_bool]
        ),
        "insole_device_configure": (c_int, [c_void_p, c_uint8, c_uint8, c_bool]),
        "insole_device_set_battery": (None, [c_void_p, c_uint8]),
        "insole_device_on_connect": (None, [c_void_p]),
        "insole_device_set_att_mtu": (None, [c_void_p, c_uint16]),
        "insole_device_set_data_notify": (None, [c_void_p, c_bool]),
        "insole_device_on_disconnect": (None, [c_void_p]),
        "insole_device_stop_streaming": (None, [c_void_p]),
        "insole_device_handle_command": (
            c_size_t, [c_void_p, u8p, c_size_t, c_uint64, u8p, c_size_t, POINTER(c_uint8)]
        ),
        "insole_device_wants_samples": (c_bool, [c_void_p]),
        "insole_device_next_sample_us": (c_uint64, [c_void_p]),
        "insole_device_add_sample": (c_size_t, [c_void_p, c_void_p, c_void_p, u8p, c_size_t]),
        "insole_device_packet_discarded": (None, [c_void_p]),
        "insole_device_poll": (c_size_t, [c_void_p, c_uint64, u8p, c_size_t]),
    }  # fmt: skip
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes


_lock = threading.Lock()
_loaded: dict[str, ctypes.CDLL] = {}


def library() -> ctypes.CDLL:
    """The loaded C library (built on first use); raises :class:`CLibraryUnavailable`."""
    with _lock:
        if "lib" not in _loaded:
            path = build_library()
            try:
                lib = ctypes.CDLL(str(path))
            except OSError as error:
                raise CLibraryUnavailable(f"cannot load {path}: {error}") from None
            _declare(lib)
            if lib.insole_device_size() != ctypes.sizeof(_Device):
                raise CLibraryUnavailable(
                    f"insole_device_t is {lib.insole_device_size()} bytes in C but "
                    f"{ctypes.sizeof(_Device)} in the ctypes mirror: update _c_binding._Device"
                )
            _loaded["lib"] = lib
        return _loaded["lib"]


class _Command(ctypes.Structure):
    _fields_ = [
        ("opcode", c_uint8),
        ("token", c_uint8),
        ("rate_code", c_uint8),
        ("samples_per_packet", c_uint8),
        ("imu_enabled", c_uint8),
        ("duration_s", c_uint8),
    ]


class _Clock(ctypes.Structure):
    _fields_ = [("last_raw", c_uint32), ("wraps", c_uint32)]


class _Device(ctypes.Structure):
    """Mirror of ``insole_device_t`` (field for field; its size is checked on load)."""

    _fields_ = [
        ("serial", c_uint32),
        ("full_scale_code", c_uint16),
        ("foot", c_uint8),
        ("firmware", c_uint8 * 3),
        ("imu_present", c_bool),
        ("battery_pct", c_uint8),
        ("rate_code", c_uint8),
        ("samples_per_packet", c_uint8),
        ("imu_enabled", c_bool),
        ("connected", c_bool),
        ("data_notify", c_bool),
        ("att_mtu", c_uint16),
        ("streaming", c_bool),
        ("overrun_pending", c_bool),
        ("clock_read", c_bool),
        ("pending", c_uint8),
        ("identify_s", c_uint8),
        ("stream_start_us", c_uint64),
        ("packets_formed", c_uint64),
        ("pressure", c_uint16 * (7 * _N_SENSORS)),
        ("imu", ctypes.c_int16 * (5 * _N_IMU_AXES)),
        ("tared", c_bool),
        ("tare_running", c_bool),
        ("tare_token", c_uint8),
        ("tare_count", c_uint16),
        ("tare_end_us", c_uint64),
        ("tare_offset", c_uint16 * _N_SENSORS),
        ("tare_sum", c_uint32 * _N_SENSORS),
    ]


@dataclass(frozen=True)
class DecodedCommand:
    """What ``insole_decode_command`` made of a control write."""

    status: int  # 0 OK, 1 BAD_COMMAND, 2 BAD_ARGUMENT
    opcode: int
    token: int
    rate_code: int
    samples_per_packet: int
    imu_enabled: int
    duration_s: int


def _codes_pointer(values: npt.ArrayLike | None, dtype: type, width: int) -> tuple[np.ndarray | None, int | None]:
    """A C-contiguous array of ``dtype`` with rows of ``width`` (kept alive by the caller) and its address."""
    if values is None:
        return None, None
    array: np.ndarray = np.ascontiguousarray(values, dtype=dtype).reshape(-1, width)
    return array, array.ctypes.data


class CProtocol:
    """The C codec functions, with Python arguments and ``bytes`` results."""

    def __init__(self) -> None:
        self.lib = library()
        self._out = ctypes.create_string_buffer(_BUFFER_SIZE)

    def _result(self, size: int) -> bytes | None:
        return self._out.raw[:size] if size else None

    def crc16(self, data: bytes) -> int:
        return int(self.lib.insole_crc16(data, len(data)))

    def encode_sample_packet(
        self,
        foot: int,
        rate_code: int,
        sequence: int,
        timestamp_us: int,
        flags: int,
        pressure_codes: npt.ArrayLike,
        imu_codes: npt.ArrayLike | None = None,
        n_samples: int | None = None,
    ) -> bytes | None:
        """The packet bytes, or None when the C encoder refused the arguments."""
        pressure, pressure_ptr = _codes_pointer(pressure_codes, np.uint16, _N_SENSORS)
        imu, imu_ptr = _codes_pointer(imu_codes, np.int16, _N_IMU_AXES)
        assert pressure is not None
        n = pressure.shape[0] if n_samples is None else n_samples
        size = self.lib.insole_encode_sample_packet(
            self._out, _BUFFER_SIZE, foot, rate_code, n, sequence, timestamp_us, flags, pressure_ptr, imu_ptr
        )
        del pressure, imu  # kept alive until after the call
        return self._result(size)

    def encode_reply(self, opcode: int, token: int, status: int) -> bytes | None:
        return self._result(self.lib.insole_encode_reply(self._out, _BUFFER_SIZE, opcode, token, status))

    def encode_clock_reply(self, token: int, clock_us: int) -> bytes | None:
        return self._result(self.lib.insole_encode_clock_reply(self._out, _BUFFER_SIZE, token, clock_us))

    def encode_info_reply(
        self,
        token: int,
        foot: int,
        serial: int,
        battery_pct: int,
        firmware: tuple[int, int, int],
        rate_code: int,
        samples_per_packet: int,
        state: int,
        full_scale_code: int,
    ) -> bytes | None:
        size = self.lib.insole_encode_info_reply(
            self._out, _BUFFER_SIZE, token, foot, serial, battery_pct, *firmware, rate_code,
            samples_per_packet, state, full_scale_code,
        )  # fmt: skip
        return self._result(size)

    def encode_bad_command_reply(self, received: bytes) -> bytes | None:
        return self._result(self.lib.insole_encode_bad_command_reply(self._out, _BUFFER_SIZE, received, len(received)))

    def encode_command(self, opcode: int, token: int, args: bytes = b"") -> bytes | None:
        return self._result(self.lib.insole_encode_command(self._out, _BUFFER_SIZE, opcode, token, args, len(args)))

    def decode_command(self, data: bytes) -> DecodedCommand:
        command = _Command()
        status = self.lib.insole_decode_command(data, len(data), ctypes.byref(command))
        return DecodedCommand(
            status, command.opcode, command.token, command.rate_code, command.samples_per_packet,
            command.imu_enabled, command.duration_s,
        )  # fmt: skip

    def encode_manufacturer_data(self, foot: int, serial: int, battery_pct: int) -> bytes | None:
        return self._result(
            self.lib.insole_encode_manufacturer_data(self._out, _BUFFER_SIZE, foot, serial, battery_pct)
        )

    def encode_advertising_data(self, foot: int, serial: int, battery_pct: int) -> bytes | None:
        return self._result(self.lib.insole_encode_advertising_data(self._out, _BUFFER_SIZE, foot, serial, battery_pct))

    def encode_scan_response(self, foot: int, serial: int) -> bytes | None:
        return self._result(self.lib.insole_encode_scan_response(self._out, _BUFFER_SIZE, foot, serial))

    def local_name(self, foot: int, serial: int) -> str | None:
        text = ctypes.create_string_buffer(16)
        size = self.lib.insole_local_name(text, 16, foot, serial)
        return text.value.decode("ascii") if size else None

    def serial_string(self, serial: int) -> str | None:
        text = ctypes.create_string_buffer(16)
        size = self.lib.insole_serial_string(text, 16, serial)
        return text.value.decode("ascii") if size else None

    def clock(self, raw_us: int) -> CClock:
        return CClock(self.lib, raw_us)


class CClock:
    """``insole_clock_t``: widens a 32-bit microsecond counter to the 64-bit device clock."""

    def __init__(self, lib: ctypes.CDLL, raw_us: int) -> None:
        self._lib = lib
        self._clock = _Clock()
        lib.insole_clock_init(ctypes.byref(self._clock), raw_us)

    def now(self, raw_us: int) -> int:
        return int(self._lib.insole_clock_now(ctypes.byref(self._clock), raw_us))


class CDevice:
    """One ``insole_device_t``: the C command state machine, stream and tare of one insole."""

    def __init__(
        self,
        foot: int,
        serial: int,
        firmware: tuple[int, int, int] = (1, 0, 0),
        full_scale_code: int = 6000,
        imu_present: bool = False,
    ) -> None:
        self.lib = library()
        self.state = _Device()
        self._ref = ctypes.byref(self.state)
        self._reply = ctypes.create_string_buffer(_BUFFER_SIZE)
        self._packet = ctypes.create_string_buffer(_BUFFER_SIZE)
        self._actions = c_uint8()
        if not self.lib.insole_device_init(self._ref, foot, serial, *firmware, full_scale_code, imu_present):
            raise ValueError(f"insole_device_init refused foot={foot}, full_scale_code={full_scale_code}")

    # link and settings
    def configure(self, rate_code: int, samples_per_packet: int, imu_enabled: bool) -> int:
        return int(self.lib.insole_device_configure(self._ref, rate_code, samples_per_packet, imu_enabled))

    def set_battery(self, battery_pct: int) -> None:
        self.lib.insole_device_set_battery(self._ref, battery_pct)

    def on_connect(self) -> None:
        self.lib.insole_device_on_connect(self._ref)

    def set_att_mtu(self, att_mtu: int) -> None:
        self.lib.insole_device_set_att_mtu(self._ref, att_mtu)

    def set_data_notify(self, enabled: bool) -> None:
        self.lib.insole_device_set_data_notify(self._ref, enabled)

    def on_disconnect(self) -> None:
        self.lib.insole_device_on_disconnect(self._ref)

    def stop_streaming(self) -> None:
        self.lib.insole_device_stop_streaming(self._ref)

    # commands
    def handle_command(self, data: bytes, now_us: int) -> tuple[bytes | None, int]:
        """(reply bytes or None when it comes later, INSOLE_ACTION_* bits)."""
        size = self.lib.insole_device_handle_command(
            self._ref, bytes(data), len(data), now_us, self._reply, _BUFFER_SIZE, ctypes.byref(self._actions)
        )
        return (self._reply.raw[:size] if size else None), int(self._actions.value)

    def poll(self, now_us: int) -> bytes | None:
        size = self.lib.insole_device_poll(self._ref, now_us, self._reply, _BUFFER_SIZE)
        return self._reply.raw[:size] if size else None

    # samples
    def add_sample(self, pressure_codes: npt.ArrayLike, imu_codes: npt.ArrayLike | None = None) -> bytes | None:
        """Feed one sample (16 raw codes, optional 6 IMU codes); the packet bytes when it completes one."""
        pressure, pressure_ptr = _codes_pointer(pressure_codes, np.uint16, _N_SENSORS)
        imu, imu_ptr = _codes_pointer(imu_codes, np.int16, _N_IMU_AXES)
        size = self.lib.insole_device_add_sample(self._ref, pressure_ptr, imu_ptr, self._packet, _BUFFER_SIZE)
        del pressure, imu
        return self._packet.raw[:size] if size else None

    def packet_discarded(self) -> None:
        self.lib.insole_device_packet_discarded(self._ref)

    def next_sample_us(self) -> int:
        return int(self.lib.insole_device_next_sample_us(self._ref))

    @property
    def wants_samples(self) -> bool:
        return bool(self.lib.insole_device_wants_samples(self._ref))

    @property
    def streaming(self) -> bool:
        return bool(self.state.streaming)

    @property
    def stream_start_us(self) -> int:
        return int(self.state.stream_start_us)

    @property
    def tare_offset(self) -> list[int]:
        return list(self.state.tare_offset)

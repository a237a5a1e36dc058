"""The C implementation of the device side (``firmware_protocol/c/``) against PROTOCOL.md and the Python codec.

The library is compiled with the system C compiler (through
``firmware_protocol._c_binding``, into a cache folder) and called with ctypes:

* every golden example of PROTOCOL.md, byte for byte (the literals of
  ``test_protocol_golden``, which a test there reads back out of the document);
* 100 000 random messages encoded (and command frames decoded) identically to
  the Python reference codec;
* the command state machine against the Python emulated firmware, on random
  command sequences with link events, MTU and notification changes and tares;
* the tare, sequence wrap, overrun and sample grid of the C device, with exact
  expected values;
* a full BLE capture of both feet from emulated insoles whose firmware logic is
  the C library (``INSOLE_EMULATOR_CODEC=c``);
* the Cortex-M4 cross build (``build-cortex-m4.sh``) when ``arm-none-eabi-gcc``
  is installed.

Without a C compiler the whole module skips, saying so.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import types
from pathlib import Path

import numpy as np
import pytest
from test_protocol_golden import COMMANDS, GOLDEN_HEX, REPLIES, golden

import firmware_protocol as fp
import firmware_protocol._c_binding as cb
from firmware_protocol._emulator import CODEC_ENV, EmulatedInsole, InsoleSpec

if cb.find_compiler() is None:
    pytest.skip("no C compiler ($CC, cc, gcc or clang) on PATH: the C library cannot be built", allow_module_level=True)

RATE_CODE = {50: 0, 100: 1, 200: 2}
N_RANDOM = 100_000


@pytest.fixture(scope="module")
def c() -> cb.CProtocol:
    # A compiler is present, so a build failure is a test failure, not a skip.
    return cb.CProtocol()


def new_device(**kwargs) -> cb.CDevice:
    options = {"foot": 0, "serial": 0x20241A2B, "firmware": (1, 0, 0), "full_scale_code": 6000}
    options.update(kwargs)
    return cb.CDevice(**options)


def frame(*body: int) -> bytes:
    """Bytes plus their CRC, computed by the Python codec (independent of the C library)."""
    raw = bytes(body)
    return raw + fp.crc16_ccitt_false(raw).to_bytes(2, "little")


# --------------------------------------------------------------------------- the sources


def test_sources_include_nothing_beyond_the_freestanding_headers() -> None:
    allowed = {'"insole_protocol.h"', "<stdint.h>", "<stddef.h>", "<stdbool.h>"}
    for name in ("insole_protocol.h", "insole_protocol.c"):
        text = (cb.C_SOURCE_DIR / name).read_text()
        includes = set(re.findall(r"^\s*#\s*include\s+(\S+)", text, flags=re.M))
        assert includes <= allowed, (name, includes - allowed)
        assert not re.search(r"\b(malloc|calloc|realloc|free|printf)\s*\(", text), name


def test_builds_warning_free_as_c99_and_needs_no_libc(tmp_path: Path) -> None:
    compiler = cb.find_compiler()
    assert compiler is not None
    obj = tmp_path / "insole_protocol.o"
    command = [*compiler, *cb.WARNING_FLAGS, "-O2", "-c", str(cb.C_SOURCE_DIR / "insole_protocol.c"), "-o", str(obj)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not on PATH: cannot list the object's undefined symbols")
    undefined = subprocess.run([nm, "-u", str(obj)], capture_output=True, text=True, check=True).stdout.split()
    # GCC may itself emit calls to these four in freestanding code (its documented requirement).
    symbols = {word.lstrip("_") for word in undefined if word not in ("U", "w")}
    assert symbols <= {"memset", "memcpy", "memmove", "memcmp"}, symbols


def test_docs_and_examples_say_the_sketches_never_ran_on_hardware() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "firmware-c.md").read_text()
    assert "**The example sketches have not been run on hardware.**" in docs
    for example in ("esp32_nimble", "zephyr"):
        assert "NOT RUN ON HARDWARE" in (cb.C_SOURCE_DIR / "examples" / example / "main.c").read_text(), example


def test_random_inputs_under_address_and_undefined_behaviour_sanitizers(tmp_path: Path) -> None:
    """``c/check/sanitize_driver.c``: 200 000 random events, every buffer exactly as large as the library is told."""
    compiler = cb.find_compiler()
    assert compiler is not None
    flags = ["-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    if subprocess.run([*compiler, *flags, str(probe), "-o", str(tmp_path / "probe")], capture_output=True).returncode:
        pytest.skip(f"{compiler[0]} cannot build with -fsanitize=address,undefined (no sanitizer runtime)")
    driver = tmp_path / "driver"
    command = [*compiler, *cb.WARNING_FLAGS, *flags, "-I", str(cb.C_SOURCE_DIR),
               str(cb.C_SOURCE_DIR / "check" / "sanitize_driver.c"), str(cb.C_SOURCE_DIR / "insole_protocol.c"),
               "-o", str(driver)]  # fmt: skip
    built = subprocess.run(command, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0"}
    done = subprocess.run([str(driver), "200000"], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # "N iterations passed: P packets, T tares, replies OK a BAD_COMMAND b ..."
    counts = {name: int(n) for n, name in re.findall(r"(\d+) (packets|tares)", done.stdout)}
    counts.update((name, int(n)) for name, n in re.findall(r"([A-Z_]+) (\d+)", done.stdout))
    # The random events really reached the stream, the tare and every status.
    assert counts["packets"] > 1000 and counts["tares"] > 100, done.stdout
    for status in ("OK", "BAD_COMMAND", "BAD_ARGUMENT", "BUSY", "MTU_TOO_SMALL"):
        assert counts[status] > 0, (status, done.stdout)


# --------------------------------------------------------------------------- golden examples


def test_crc_check_value(c: cb.CProtocol) -> None:
    assert c.crc16(b"123456789") == 0x29B1
    assert c.crc16(b"") == 0xFFFF


def test_golden_advertising(c: cb.CProtocol) -> None:
    assert c.encode_manufacturer_data(0, 0x20241A2B, 87) == golden("manufacturer-data")
    assert c.encode_advertising_data(0, 0x20241A2B, 87) == golden("advertising-data")
    assert c.encode_scan_response(0, 0x20241A2B) == golden("scan-response")
    assert c.local_name(0, 0x20241A2B) == "INSOLE-L-1A2B"
    assert c.local_name(1, 0xABCDEF01) == "INSOLE-R-EF01"
    assert c.serial_string(0x20241A2B) == "20241A2B" and c.serial_string(0xAB) == "000000AB"


def test_golden_sample_packets(c: cb.CProtocol) -> None:
    codes = np.zeros((1, 16), dtype=np.uint16)
    codes[0, :6] = [1500, 1420, 980, 1010, 120, 60]
    flags = int(fp.StatusFlags.LOW_BATTERY | fp.StatusFlags.TARED)
    assert c.encode_sample_packet(0, 1, 42, 1_234_567_890, flags, codes) == golden("sample-packet-basic")

    met1, met2, hallux = 8, 9, 13
    codes = np.zeros((2, 16), dtype=np.uint16)
    codes[0, [met1, met2, hallux]] = [4000, 3500, 0xFFFF]
    codes[1, [met1, met2, hallux]] = [3900, 3300, 6000]
    imu = np.array([[0, 0, 1000, -150, 0, 25], [-120, 35, 980, -300, 10, 0]], dtype=np.int16)
    # IMU_PRESENT and SATURATED are derived from the data, as in the Python codec.
    packet = c.encode_sample_packet(1, 2, 0xFFFF_FFFF, 1 << 32, int(fp.StatusFlags.CLOCK_READ), codes, imu)
    assert packet == golden("sample-packet-imu")


def test_golden_corrupted_packet_fails_the_c_crc(c: cb.CProtocol) -> None:
    data = golden("sample-packet-corrupted")
    assert c.crc16(data[:-2]) == 0xE27B != int.from_bytes(data[-2:], "little")


def _command_args(command) -> bytes:
    if isinstance(command, fp.SetSampleRate):
        return bytes((RATE_CODE[command.sample_rate_hz], command.samples_per_packet, int(command.imu_enabled)))
    if isinstance(command, fp.Identify):
        return bytes((command.duration_s,))
    return b""


@pytest.mark.parametrize("name", list(COMMANDS))
def test_golden_commands(c: cb.CProtocol, name: str) -> None:
    command = COMMANDS[name]
    assert c.encode_command(int(command.opcode), command.token, _command_args(command)) == golden(name)
    decoded = c.decode_command(golden(name))
    assert (decoded.status, decoded.opcode, decoded.token) == (0, command.opcode, command.token)
    if isinstance(command, fp.SetSampleRate):
        assert (decoded.rate_code, decoded.samples_per_packet, decoded.imu_enabled) == (2, 4, 0)
    if isinstance(command, fp.Identify):
        assert decoded.duration_s == 10


def c_encode_reply(c: cb.CProtocol, reply) -> bytes | None:
    """The C encoding of a Python reply message."""
    if isinstance(reply, fp.ClockReply):
        return c.encode_clock_reply(reply.token, reply.timestamp_us)
    if isinstance(reply, fp.InfoReply):
        state = (1 if reply.imu_present else 0) | (2 if reply.imu_enabled else 0) | (4 if reply.streaming else 0)
        return c.encode_info_reply(
            reply.token, int(reply.foot), reply.serial, 127 if reply.battery_pct is None else reply.battery_pct,
            reply.firmware_version, RATE_CODE[reply.sample_rate_hz], reply.samples_per_packet, state,
            round(reply.full_scale_kpa * 10),
        )  # fmt: skip
    return c.encode_reply(int(reply.opcode), reply.token, int(reply.status))


@pytest.mark.parametrize("name", list(REPLIES))
def test_golden_replies(c: cb.CProtocol, name: str) -> None:
    assert c_encode_reply(c, REPLIES[name]) == golden(name)


def test_every_golden_example_is_covered() -> None:
    covered = {"manufacturer-data", "advertising-data", "scan-response", "sample-packet-basic", "sample-packet-imu",
               "sample-packet-corrupted", *COMMANDS, *REPLIES}  # fmt: skip
    assert covered == set(GOLDEN_HEX)


def test_golden_replies_from_the_device_state_machine() -> None:
    """The replies of PROTOCOL.md 9.7, produced by the C device from the commands of 9.6."""
    device = new_device()
    device.on_connect()  # ATT MTU 23 until the exchange: too small for a 52-byte packet
    assert device.handle_command(golden("command-start-streaming"), 0) == (golden("reply-start-mtu-too-small"), 0)
    # IMU on asked of an insole without an IMU
    assert device.handle_command(frame(1, 3, 3, 2, 4, 1), 0)[0] == golden("reply-set-sample-rate-bad-argument")
    device.set_att_mtu(247)
    device.set_data_notify(True)
    reply, actions = device.handle_command(golden("command-start-streaming"), 1000)
    assert (reply, actions) == (golden("reply-start-ok"), cb.ACTION_STREAM_STARTED)
    assert device.handle_command(golden("command-tare"), 0) == (None, cb.ACTION_TARE_STARTED)
    assert device.handle_command(golden("command-tare"), 10)[0] == golden("reply-tare-busy")
    assert device.poll(300_000) == fp.encode_reply(fp.Reply(fp.Opcode.TARE, fp.Status.OK, token=4))
    assert device.handle_command(frame(1, 0x42, 9), 0)[0] == golden("reply-unknown-opcode-bad-command")
    reply, actions = device.handle_command(golden("command-read-clock"), 9_876_543_210)
    assert (reply, actions) == (golden("reply-read-clock"), cb.ACTION_CLOCK_READ)

    right = new_device(foot=1, serial=0x20241A2C, firmware=(1, 2, 3), imu_present=True)
    right.set_battery(64)
    assert right.configure(1, 2, False) == fp.Status.OK
    right.on_connect()
    right.set_att_mtu(247)
    right.set_data_notify(True)
    right.handle_command(golden("command-start-streaming"), 0)
    assert right.handle_command(golden("command-get-info"), 0)[0] == golden("reply-get-info")


# --------------------------------------------------------------------------- random round trips


def test_100000_random_messages_equal_the_python_codec(c: cb.CProtocol) -> None:
    """Sample packets, replies and command frames from random fields, 100 000 in all.

    Each C frame decodes (Python codec) to exactly the fields it was made from, and
    the Python codec encodes that message to the same bytes; every 10th message is
    also built and encoded by the Python codec from the fields directly. Command
    frames (valid, out of range, corrupted, random) decode alike on both sides.
    The draws are vectorised and the C encoder is called directly, so the test
    takes a few seconds.
    """
    rng = np.random.default_rng(20261206)
    n_packets, n_replies = 60_000, 20_000
    n_commands = N_RANDOM - n_packets - n_replies
    lib, out = c.lib, c._out

    imu = rng.integers(2, size=n_packets).astype(bool)
    n = 1 + rng.integers(0, 35, size=n_packets) % np.where(imu, 5, 7)
    codes = rng.integers(0, 65536, size=(n_packets, 7, 16), dtype=np.uint16)
    saturate = np.flatnonzero(rng.random(n_packets) < 0.2)  # the full range rarely draws 65535
    codes[saturate, rng.integers(0, n[saturate]), rng.integers(0, 16, size=saturate.size)] = fp.SATURATED_CODE
    imu_codes = rng.integers(-32768, 32768, size=(n_packets, 5, 6), dtype=np.int16)
    foot = rng.integers(2, size=n_packets)
    rate_code = rng.integers(3, size=n_packets)
    sequence = rng.integers(0, 2**32, size=n_packets, dtype=np.uint64)
    timestamp = rng.integers(0, 2**64, size=n_packets, dtype=np.uint64)
    flags = rng.integers(0, 2**16, size=n_packets)  # derived bits 0-1 included: the encoder ignores them
    rows = np.arange(7)[None, :] < n[:, None]
    saturated = ((codes == fp.SATURATED_CODE).any(axis=2) & rows).any(axis=1)
    expected_flags = (flags & ~3) | imu.astype(int) | (saturated.astype(int) << 1)
    codes_base, imu_base = codes.ctypes.data, imu_codes.ctypes.data
    for i in range(n_packets):
        k = int(n[i])
        size = lib.insole_encode_sample_packet(
            out, 256, int(foot[i]), int(rate_code[i]), k, int(sequence[i]), int(timestamp[i]), int(flags[i]),
            codes_base + i * codes.strides[0], imu_base + i * imu_codes.strides[0] if imu[i] else None,
        )  # fmt: skip
        raw = out.raw[:size]
        packet = fp.decode_sample_packet(raw)
        assert (packet.foot, packet.sample_rate_hz, packet.sequence, packet.timestamp_us, packet.flags) == (
            foot[i], fp.SAMPLE_RATES_HZ[rate_code[i]], sequence[i], timestamp[i], expected_flags[i]), i  # fmt: skip
        assert np.array_equal(packet.pressure_codes, codes[i, :k]), i
        assert (packet.imu_codes is None) if not imu[i] else np.array_equal(packet.imu_codes, imu_codes[i, :k]), i
        assert fp.encode_sample_packet(packet) == raw, i
        if i % 10 == 0:
            built = fp.SamplePacket(
                foot=int(foot[i]), sequence=int(sequence[i]), timestamp_us=int(timestamp[i]),
                sample_rate_hz=fp.SAMPLE_RATES_HZ[rate_code[i]], pressure_codes=codes[i, :k],
                imu_codes=imu_codes[i, :k] if imu[i] else None, flags=fp.StatusFlags(int(flags[i])),
            )  # fmt: skip
            assert fp.encode_sample_packet(built) == raw, i

    statuses = list(fp.Status)
    kinds = rng.integers(3, size=n_replies)
    fields = rng.integers(0, 2**32, size=(n_replies, 12), dtype=np.uint64)
    for i in range(n_replies):
        f = [int(v) for v in fields[i]]
        token = f[0] % 256
        reply: fp.ReplyMessage
        if kinds[i] == 0:
            reply = fp.ClockReply((f[1] << 32) | f[2], token=token)
        elif kinds[i] == 1:
            imu_present = bool(f[3] & 1)
            imu_enabled = imu_present and bool(f[3] & 2)
            battery = f[4] % 102
            reply = fp.InfoReply(
                foot=f[5] % 2, serial=f[6], battery_pct=None if battery == 101 else battery,
                firmware_version=(f[7] % 256, f[8] % 256, f[9] % 256), sample_rate_hz=fp.SAMPLE_RATES_HZ[f[10] % 3],
                samples_per_packet=1 + f[11] % fp.max_samples_per_packet(imu_enabled),
                imu_present=imu_present, imu_enabled=imu_enabled, streaming=bool(f[3] & 4),
                full_scale_kpa=(1 + f[1] % 65534) / 10, token=token,
            )  # fmt: skip
        else:
            status = statuses[f[1] % len(statuses)]
            opcode = f[2] % 128 if status is fp.Status.BAD_COMMAND else 1 + f[2] % 5
            reply = fp.Reply(opcode, status, token=token)
        raw = c_encode_reply(c, reply)
        assert raw is not None and fp.decode_reply(raw) == reply, i
        assert fp.encode_reply(reply) == raw, i

    for _ in range(n_commands):
        _assert_command_decodes_alike(c, _random_command_frame(rng))


def _random_command_frame(rng: np.random.Generator) -> bytes:
    """A valid command, one with random arguments, a corrupted one or random bytes."""
    kind = rng.integers(4)
    opcode = int(rng.integers(0, 9))
    token = int(rng.integers(256))
    args = bytes(rng.integers(0, 256, size={3: 3, 5: 1}.get(opcode, 0), dtype=np.uint8))
    if kind == 0 and opcode == 3:
        args = bytes((int(rng.integers(3)), int(rng.integers(1, 8)), int(rng.integers(2))))
    elif kind == 0 and opcode == 5:
        args = bytes((int(rng.integers(1, 61)),))
    data = frame(1, opcode, token, *args)
    if kind == 2:
        corrupted = bytearray(data)
        corrupted[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
        data = bytes(corrupted)
    elif kind == 3:
        data = bytes(rng.integers(0, 256, size=int(rng.integers(0, 10)), dtype=np.uint8))
        if data and rng.random() < 0.5:
            data = frame(*data[:-2]) if len(data) > 2 else data
    return data


def _assert_command_decodes_alike(c: cb.CProtocol, data: bytes) -> None:
    decoded = c.decode_command(data)
    try:
        command = fp.decode_command(data)
    except fp.ProtocolError as error:
        # The emulated firmware's split of a decode failure (PROTOCOL.md section 5).
        from firmware_protocol._emulator import _is_bad_argument

        expected = fp.Status.BAD_ARGUMENT if _is_bad_argument(data, error) else fp.Status.BAD_COMMAND
        assert decoded.status == expected, (data.hex(" "), error)
        return
    assert decoded.status == fp.Status.OK, data.hex(" ")
    assert (decoded.opcode, decoded.token) == (command.opcode, command.token)
    if isinstance(command, fp.SetSampleRate):
        assert (decoded.rate_code, decoded.samples_per_packet, decoded.imu_enabled) == (
            RATE_CODE[command.sample_rate_hz], command.samples_per_packet, int(command.imu_enabled))  # fmt: skip
    if isinstance(command, fp.Identify):
        assert decoded.duration_s == command.duration_s


def test_bad_command_replies_echo_what_was_received(c: cb.CProtocol) -> None:
    for data in (bytes.fromhex("01 42 09 00 00"), bytes.fromhex("01 C2 09"), b"\x01", b""):
        assert c.encode_bad_command_reply(data) == fp.encode_reply(fp.bad_command_reply(data))


def test_encoders_refuse_out_of_range_arguments(c: cb.CProtocol) -> None:
    codes = np.zeros((8, 16), np.uint16)
    assert c.encode_sample_packet(2, 1, 0, 0, 0, codes[:1]) is None  # foot
    assert c.encode_sample_packet(0, 3, 0, 0, 0, codes[:1]) is None  # rate code
    assert c.encode_sample_packet(0, 1, 0, 0, 0, codes) is None  # 8 samples
    assert c.encode_sample_packet(0, 1, 0, 0, 0, codes[:6], np.zeros((6, 6), np.int16)) is None  # 6 with IMU
    assert c.encode_sample_packet(0, 1, 0, 0, 0, codes[:1], n_samples=0) is None
    info = (0, 1, 100, (1, 0, 0), 1, 1)
    assert c.encode_info_reply(0, *info, 0x02, 6000) is None  # IMU enabled without IMU present
    assert c.encode_info_reply(0, *info, 0x08, 6000) is None  # reserved state bit
    assert c.encode_info_reply(0, *info, 0, 0) is None and c.encode_info_reply(0, *info, 0, 0xFFFF) is None
    assert c.encode_info_reply(0, 0, 1, 101, (1, 0, 0), 1, 1, 0, 6000) is None  # battery 101
    assert c.encode_manufacturer_data(0, 1, 127) == fp.encode_manufacturer_data(fp.ManufacturerData(0, 1, None))


# --------------------------------------------------------------------------- the C device


def streaming_device(rate_code: int = 1, n: int = 1, imu: bool = False, now_us: int = 1_000_000) -> cb.CDevice:
    device = new_device(imu_present=imu)
    assert device.configure(rate_code, n, imu) == fp.Status.OK
    device.on_connect()
    device.set_att_mtu(247)
    device.set_data_notify(True)
    assert device.handle_command(fp.encode_command(fp.StartStreaming(token=1)), now_us)[0] == golden("reply-start-ok")
    return device


def test_packets_lie_on_the_sample_grid_and_the_sequence_wraps() -> None:
    device = streaming_device(rate_code=2, n=2, now_us=7_000_000)
    rows = np.arange(6 * 16, dtype=np.uint16).reshape(6, 16)
    packets = [device.add_sample(row) for row in rows]
    assert packets[0] is None and packets[2] is None and packets[4] is None
    decoded = [fp.decode_sample_packet(p) for p in packets[1::2]]
    assert [p.sequence for p in decoded] == [0, 1, 2]
    assert [p.timestamp_us for p in decoded] == [7_000_000, 7_010_000, 7_020_000]  # 2 samples x 5000 us
    np.testing.assert_array_equal(np.concatenate([p.pressure_codes for p in decoded]), rows)
    assert device.next_sample_us() == 7_030_000
    # the 32-bit sequence wraps to 0; the timestamp grid goes on
    device.state.packets_formed = 2**32 - 1
    first, second = (fp.decode_sample_packet(device.add_sample(rows[0]) or device.add_sample(rows[1]))
                     for _ in range(2))  # fmt: skip
    assert (first.sequence, second.sequence) == (0xFFFF_FFFF, 0)
    assert second.timestamp_us - first.timestamp_us == 10_000
    assert first.timestamp_us == 7_000_000 + (2**32 - 1) * 10_000


def test_stop_then_start_restarts_the_sequence_and_applies_new_settings() -> None:
    device = streaming_device()
    device.add_sample(np.zeros(16))
    assert device.handle_command(fp.encode_command(fp.SetSampleRate(50, 3, token=2)), 0)[0] == fp.encode_reply(
        fp.Reply(fp.Opcode.SET_SAMPLE_RATE, fp.Status.BUSY, token=2))  # fmt: skip
    assert device.handle_command(fp.encode_command(fp.StopStreaming()), 0)[1] == cb.ACTION_STREAM_STOPPED
    assert device.add_sample(np.zeros(16)) is None and not device.streaming
    assert device.handle_command(fp.encode_command(fp.SetSampleRate(50, 3, token=3)), 0)[1] == (
        cb.ACTION_SETTINGS_CHANGED)  # fmt: skip
    device.handle_command(fp.encode_command(fp.StartStreaming()), 5_000_000)
    packet = [device.add_sample(np.full(16, i)) for i in range(3)][-1]
    assert packet is not None
    decoded = fp.decode_sample_packet(packet)
    assert (decoded.sequence, decoded.timestamp_us, decoded.sample_rate_hz, decoded.n_samples) == (0, 5_000_000, 50, 3)


def test_overrun_flags_the_next_packet_and_the_sequence_gap_counts_the_loss() -> None:
    device = streaming_device()
    sent = []
    for i in range(5):
        packet = device.add_sample(np.full(16, i))
        if i in (1, 2):
            device.packet_discarded()  # transmit queue full
        else:
            sent.append(fp.decode_sample_packet(packet))
    assert [p.sequence for p in sent] == [0, 3, 4]
    assert [bool(p.flags & fp.StatusFlags.OVERRUN) for p in sent] == [False, True, False]


def test_tare_averages_its_window_then_subtracts_clamps_and_keeps_saturation() -> None:
    device = streaming_device(now_us=0)
    assert device.handle_command(golden("command-tare"), 0) == (None, cb.ACTION_TARE_STARTED)
    # 100 Hz: samples at 0 .. 290 ms fall in the 300 ms window, 30 of them
    for i in range(30):
        row = np.full(16, 100 + (i % 2) * 10, dtype=np.uint16)  # mean 105
        row[1] = 0xFFFF  # saturated: counts as the full scale, so sensor 1 cannot be zeroed
        row[2] = 40 + (1 if i < 15 else 0)  # mean 40.5 rounds to 41
        packet = device.add_sample(row)
        assert packet is not None and not fp.decode_sample_packet(packet).flags & fp.StatusFlags.TARED
    assert device.poll(299_999) is None  # the window has not ended
    after_window = np.full(16, 5000, dtype=np.uint16)  # sample at 300 ms: outside the window, not averaged
    device.add_sample(after_window)
    assert device.poll(300_000) == fp.encode_reply(fp.Reply(fp.Opcode.TARE, fp.Status.OK, token=4))
    assert device.tare_offset == [105, 0, 41] + [105] * 13
    row = np.array([200, 6100, 30, 105, 0xFFFF] + [106] * 11, dtype=np.uint16)
    decoded = fp.decode_sample_packet(device.add_sample(row))
    assert decoded.pressure_codes[0].tolist() == [95, 6100, 0, 0, 0xFFFF] + [1] * 11
    assert decoded.flags & fp.StatusFlags.TARED and decoded.flags & fp.StatusFlags.SATURATED


def test_tare_while_not_streaming_averages_every_sample_given() -> None:
    device = new_device()
    device.handle_command(fp.encode_command(fp.Tare(token=9)), 1000)
    assert device.wants_samples and not device.streaming
    for value in (10, 20, 30):
        assert device.add_sample(np.full(16, value)) is None
    assert device.poll(301_000) == fp.encode_reply(fp.Reply(fp.Opcode.TARE, fp.Status.OK, token=9))
    assert device.tare_offset == [20] * 16 and not device.wants_samples


def test_flags_low_battery_and_clock_read() -> None:
    device = streaming_device()
    device.set_battery(15)
    device.handle_command(fp.encode_command(fp.ReadClock()), 0)
    flags = fp.decode_sample_packet(device.add_sample(np.zeros(16))).flags
    assert flags == fp.StatusFlags.LOW_BATTERY | fp.StatusFlags.CLOCK_READ
    device.set_battery(16)
    assert fp.decode_sample_packet(device.add_sample(np.zeros(16))).flags == fp.StatusFlags.CLOCK_READ


def test_imu_packets_carry_the_imu_rows() -> None:
    device = streaming_device(n=2, imu=True)
    imu = np.array([[1, -2, 1000, -150, 0, 25], [-32768, 32767, 0, 0, 0, 0]], dtype=np.int16)
    device.add_sample(np.zeros(16), imu[0])
    decoded = fp.decode_sample_packet(device.add_sample(np.zeros(16), imu[1]))
    np.testing.assert_array_equal(decoded.imu_codes, imu)


def test_a_link_loss_ends_the_stream_and_the_next_connection_starts_afresh() -> None:
    device = streaming_device()
    device.add_sample(np.zeros(16))
    device.on_disconnect()
    assert not device.streaming
    device.on_connect()  # MTU back to 23, notifications off
    reply, _ = device.handle_command(golden("command-start-streaming"), 0)
    assert reply == golden("reply-start-mtu-too-small")
    device.set_att_mtu(247)
    assert device.handle_command(golden("command-start-streaming"), 0)[0] == fp.encode_reply(
        fp.Reply(fp.Opcode.START_STREAMING, fp.Status.BUSY, token=1))  # fmt: skip


def test_device_clock_widens_a_32_bit_counter_across_its_wraps(c: cb.CProtocol) -> None:
    clock = c.clock(0xFFFF_FF00)
    assert clock.now(0xFFFF_FFF0) == 0xFFFF_FFF0
    assert clock.now(0x10) == 0x1_0000_0010
    assert clock.now(0x10) == 0x1_0000_0010  # same reading, same time
    assert clock.now(0xFFFF_FFFF) == 0x1_FFFF_FFFF
    assert clock.now(5) == 0x2_0000_0005


# --------------------------------------------------------------------------- state machine vs the emulator


class _Harness:
    """An emulated insole with the radio and the stream task cut out, to drive its command logic directly."""

    def __init__(self, codec: str, release: asyncio.Event, clock: list[int]) -> None:
        self.insole = insole = EmulatedInsole(
            InsoleSpec("right", serial=0x20241A2C, imu_present=True, battery_pct=12),
            codec=codec,  # type: ignore[arg-type]
        )
        self.sent: list[bytes] = []
        self.notify_on = False

        async def notify(connection, characteristic, value: bytes) -> None:
            self.sent.append(bytes(value))

        async def sleep_until(device_us: int) -> None:
            await release.wait()

        async def no_stream(stream) -> None:
            await asyncio.Event().wait()

        insole._notify = notify  # type: ignore[method-assign]
        insole._sleep_until_device_us = sleep_until  # type: ignore[method-assign]
        insole._run_stream = no_stream  # type: ignore[method-assign]
        insole.device_clock_us = lambda loop_time=None: clock[0]  # type: ignore[method-assign]
        insole._data_notifications_on = lambda connection: self.notify_on  # type: ignore[method-assign]
        self.connection = types.SimpleNamespace(att_mtu=23)
        self.connect()

    def connect(self) -> None:
        self.insole._connection = self.connection  # type: ignore[assignment]
        self.connection.att_mtu = 23
        self.notify_on = False
        if self.insole._c is not None:
            self.insole._c.on_connect()

    def disconnect(self) -> None:
        self.insole._on_disconnection(self.connection, 0x08)  # type: ignore[arg-type]

    def packet(self, pressure_kpa: np.ndarray, discard: bool) -> bytes | None:
        """Form the stream's next packet as the stream task would (None when not streaming)."""
        insole = self.insole
        stream = insole._stream
        if stream is None:
            return None
        record = stream.record
        sequence = stream.next_packet
        stream.next_packet += 1
        timestamp_us = record.start_us + sequence * record.samples_per_packet * (1_000_000 // record.sample_rate_hz)
        imu = np.zeros((pressure_kpa.shape[0], 6))
        if insole._c is not None:
            packet = insole._build_packet_c(stream, sequence, timestamp_us, pressure_kpa, imu)
            if discard:
                insole._c.packet_discarded()
        else:
            insole._feed_tare(pressure_kpa)
            packet = insole._build_packet(stream, sequence, timestamp_us, pressure_kpa, imu)
            if discard:
                stream.overrun_pending = True
        return None if discard else packet


def _random_command(rng: np.random.Generator) -> bytes:
    token = int(rng.integers(256))
    choice = int(rng.integers(13))
    if choice in (0, 12):
        return fp.encode_command(fp.StartStreaming(token=token))
    if choice == 1:
        return fp.encode_command(fp.StopStreaming(token=token))
    if choice in (2, 3):
        imu = bool(rng.integers(2))
        n = int(rng.integers(1, fp.max_samples_per_packet(imu) + 1))
        return fp.encode_command(fp.SetSampleRate(int(rng.choice(fp.SAMPLE_RATES_HZ)), n, imu, token=token))
    if choice == 4:
        return fp.encode_command(fp.Tare(token=token))
    if choice == 5:
        return fp.encode_command(fp.Identify(int(rng.integers(1, 61)), token=token))
    if choice == 6:
        return fp.encode_command(fp.ReadClock(token=token))
    if choice == 7:
        return fp.encode_command(fp.GetInfo(token=token))
    return _random_command_frame(rng)  # malformed, out of range, unknown


async def test_command_state_machine_matches_the_python_emulator() -> None:
    """Random sessions through the Python firmware and the C firmware of the emulated insole: same bytes out."""
    rng = np.random.default_rng(7)
    release = asyncio.Event()
    clock = [1_000_000]
    python, c_side = _Harness("python", release, clock), _Harness("c", release, clock)
    both = (python, c_side)
    n_steps, n_packets = 3000, 0
    for step in range(n_steps):
        clock[0] += int(rng.integers(1, 50_000))
        event = rng.random()
        if event < 0.55:
            command = _random_command(rng)
            for side in both:
                side.insole._on_control_write(side.connection, command)  # type: ignore[arg-type]
        elif event < 0.65:
            mtu = int(rng.choice([23, 67, 150, 247, 247, 247]))
            for side in both:
                side.connection.att_mtu = mtu
        elif event < 0.75:
            on = rng.random() < 0.8
            for side in both:
                side.notify_on = on
        elif event < 0.80:
            release.set()  # any running tare finishes its window
        elif event < 0.83:
            for side in both:
                side.disconnect()
                side.connect()
        else:
            n = python.insole._stream.record.samples_per_packet if python.insole._stream else 1
            pressure = rng.integers(0, 6000, size=(n, 16)) / 10.0
            # Some sensors at the 600 kPa full scale (saturated). Not above it: real firmware
            # cannot read past full scale, the emulator could, and would tare on that.
            pressure[rng.random(pressure.shape) < 0.05] = 600.0
            discard = rng.random() < 0.1
            packets = [side.packet(pressure, discard) for side in both]
            if packets[0] is not None:
                n_packets += 1
                py, cc = (fp.decode_sample_packet(p) for p in packets)  # type: ignore[arg-type]
                assert (cc.sequence, cc.timestamp_us, cc.flags, cc.n_samples) == (
                    py.sequence, py.timestamp_us, py.flags, py.n_samples), step  # fmt: skip
                # The C firmware averages integer codes for the tare, the emulator kPa, and a tare
                # window the harness streams nothing in is zero in C but read from the source in
                # the emulator: tared codes may differ, the saturated ones may not.
                # The tare itself is checked exactly in the C device tests above.
                if py.flags & fp.StatusFlags.TARED:
                    np.testing.assert_array_equal(cc.saturated, py.saturated, err_msg=f"step {step}")
                else:
                    np.testing.assert_array_equal(cc.pressure_codes, py.pressure_codes, err_msg=f"step {step}")
            else:
                assert packets == [None, None], step
        for _ in range(4):  # let spawned replies, stream ends and released tares run
            await asyncio.sleep(0)
        if release.is_set() and python.insole._tare_task is None and c_side.insole._tare_task is None:
            release.clear()
        assert c_side.sent == python.sent, f"step {step}: {c_side.sent[-3:]} != {python.sent[-3:]}"
        assert c_side.insole.streaming == python.insole.streaming, step
    replies = [fp.decode_reply(raw) for raw in python.sent]
    statuses = {reply.status for reply in replies}
    assert statuses == set(fp.Status), statuses  # every status was exercised
    assert {reply.opcode for reply in replies if reply.status is fp.Status.OK} >= set(fp.Opcode)
    assert n_packets > 50
    for side in both:
        for task in list(side.insole._tasks):
            task.cancel()


# --------------------------------------------------------------------------- over BLE


@pytest.mark.ble
async def test_full_capture_from_insoles_running_the_c_firmware(emulation, tmp_path, monkeypatch) -> None:
    from test_capture_ble import SIDES, assert_file_matches, capture, specs

    from insole.capture._collector import CaptureParams

    monkeypatch.setenv(CODEC_ENV, "c")
    n_packets = 1500
    faults = {
        "left": fp.FaultPlan(drop_sequences=frozenset({10, 11, 700}), corrupt_sequences=frozenset({300}),
                             overrun_sequences=frozenset({500, 501})),
        "right": fp.FaultPlan(drop_rate=0.03, seed=5),
    }  # fmt: skip
    environment = await emulation(*specs(100, n_packets, 10.0, 2, **faults))
    assert [insole.codec for insole in environment.insoles] == ["c", "c"]
    params = CaptureParams(sample_rate_hz=100, samples_per_packet=2, tare=False)
    result, recording, _ = await capture(environment, tmp_path, params, 10.0)
    expectations = assert_file_matches(recording, environment)  # every slot, value and gap
    for insole in environment.insoles:
        side = insole.spec.side
        stream = insole.record.streams[0]
        assert stream.sequences == list(range(n_packets)) and len(insole.record.streams) == 1
        quality = result.quality["feet"][side]
        lost = set(stream.dropped) | set(stream.corrupted) | set(stream.overrun)
        last_arrived = max(set(stream.sequences) - lost)
        known_lost = {s for s in lost if s < last_arrived}  # trailing losses cannot show in sequence numbers
        assert quality["packets_received"] == last_arrived + 1 - len(known_lost)
        assert quality["packets_lost"] == len(known_lost)
        assert quality["missing_samples"] == expectations[side].dropped_samples == 2 * len(known_lost)
        assert quality["crc_failures"] == len(set(stream.corrupted) - set(stream.dropped))
        assert recording.foot(side).n_samples == 2 * (last_arrived + 1)
    assert result.quality["feet"]["left"]["packets_lost"] == 6
    assert set(SIDES) == {insole.spec.side for insole in environment.insoles}


# --------------------------------------------------------------------------- Cortex-M4


def test_cortex_m4_cross_build_reports_its_code_size(tmp_path: Path) -> None:
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("arm-none-eabi-size") is None:
        pytest.skip("arm-none-eabi-gcc not on PATH (Debian package gcc-arm-none-eabi): no Cortex-M4 build")
    script = cb.C_SOURCE_DIR / "build-cortex-m4.sh"
    done = subprocess.run(["sh", str(script), str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # -Werror: no warning either
    header, values = done.stdout.strip().splitlines()[-2:]
    sizes = dict(zip(header.split(), values.split(), strict=False))
    # The whole library, codec and state machine, in flash; no RAM of its own (the
    # insole_device_t is the firmware's). 8 KiB is the budget docs/firmware-c.md promises.
    assert 0 < int(sizes["text"]) < 8192
    assert int(sizes["data"]) == 0 and int(sizes["bss"]) == 0
    arch = subprocess.run(["arm-none-eabi-objdump", "-f", str(tmp_path / "insole_protocol.o")],
                          capture_output=True, text=True, check=False).stdout  # fmt: skip
    assert "elf32-littlearm" in arch

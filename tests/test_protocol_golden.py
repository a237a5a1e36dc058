"""Golden tests: every byte example of firmware_protocol/PROTOCOL.md, written here by hand.

The hex literals below are copied from the hand-composed examples of the spec,
not produced by the codec; each test checks both directions (decode the literal
to the expected message, encode the message to the literal).
``test_doc_examples_equal_golden_literals`` reads the examples back out of
PROTOCOL.md so the document and these tests cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import firmware_protocol as fp

PROTOCOL_MD = Path(fp.__file__).resolve().parent / "PROTOCOL.md"

GOLDEN_HEX = {
    "manufacturer-data": "01 57 2B 1A 24 20",
    "advertising-data": (
        "02 01 06"
        " 11 07 37 5A 30 80 CA 54 02 83 0E 48 41 34 00 01 1C 24"
        " 09 FF FF FF 01 57 2B 1A 24 20"
    ),
    "scan-response": "0E 09 49 4E 53 4F 4C 45 2D 4C 2D 31 41 32 42",
    "sample-packet-basic": (
        "01 00 01 01 2A 00 00 00 D2 02 96 49 00 00 00 00 14 00"
        " DC 05 8C 05 D4 03 F2 03 78 00 3C 00 00 00 00 00"
        " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
        " 82 4A"
    ),
    "sample-packet-imu": (
        "01 01 02 02 FF FF FF FF 00 00 00 00 01 00 00 00 23 00"
        " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
        " A0 0F AC 0D 00 00 00 00 00 00 FF FF 00 00 00 00"
        " 00 00 00 00 E8 03 6A FF 00 00 19 00"
        " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
        " 3C 0F E4 0C 00 00 00 00 00 00 70 17 00 00 00 00"
        " 88 FF 23 00 D4 03 D4 FE 0A 00 00 00"
        " 9C 01"
    ),
    "sample-packet-corrupted": (
        "01 00 01 01 2B 00 00 00 D2 02 96 49 00 00 00 00 14 00"
        " DC 05 8C 05 D4 03 F2 03 78 00 3C 00 00 00 00 00"
        " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
        " 82 4A"
    ),
    "command-start-streaming": "01 01 01 BC D8",
    "command-stop-streaming": "01 02 02 8C BD",
    "command-set-sample-rate": "01 03 03 02 04 00 1A 9C",
    "command-tare": "01 04 04 EC 77",
    "command-identify": "01 05 05 0A 3B 47",
    "command-read-clock": "01 06 06 CC 31",
    "command-get-info": "01 07 07 DC 12",
    "reply-start-ok": "01 81 01 00 2F CD",
    "reply-start-mtu-too-small": "01 81 01 04 AB 8D",
    "reply-set-sample-rate-bad-argument": "01 83 03 02 6F E5",
    "reply-tare-busy": "01 84 04 03 49 E9",
    "reply-unknown-opcode-bad-command": "01 C2 09 01 5A 10",
    "reply-read-clock": "01 86 06 00 EA 16 B0 4C 02 00 00 00 F1 77",
    "reply-get-info": "01 87 07 00 01 2C 1A 24 20 40 01 02 03 01 02 05 70 17 30 9F",
}


def golden(name: str) -> bytes:
    return bytes.fromhex(GOLDEN_HEX[name])


def _crc16_ccitt_false_bitwise(data: bytes) -> int:
    """Reference CRC, bit by bit from the spec's parameters (independent of the codec)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


# --------------------------------------------------------------------- doc <-> tests


def test_doc_examples_equal_golden_literals() -> None:
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    blocks = re.findall(r"^```hex example=(\S+)\n(.*?)^```", text, flags=re.S | re.M)
    names = [name for name, _ in blocks]
    assert len(names) == len(set(names)), "duplicate example names in PROTOCOL.md"
    in_doc = {name: bytes.fromhex(body) for name, body in blocks}
    assert set(in_doc) == set(GOLDEN_HEX)
    for name, data in in_doc.items():
        assert data == golden(name), name


def test_doc_states_crc_check_value() -> None:
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    assert "**`0x29B1`**" in text
    assert fp.crc16_ccitt_false(b"123456789") == 0x29B1
    assert _crc16_ccitt_false_bitwise(b"123456789") == 0x29B1


@pytest.mark.parametrize(
    "name", [n for n in GOLDEN_HEX if n.split("-")[0] in ("sample", "command", "reply")]
)
def test_every_framed_example_ends_with_its_crc(name: str) -> None:
    data = golden(name)
    crc = _crc16_ccitt_false_bitwise(data[:-2])
    if name == "sample-packet-corrupted":
        assert crc == 0xE27B  # the value PROTOCOL.md 9.5 says the receiver computes
        assert int.from_bytes(data[-2:], "little") == 0x4A82
    else:
        assert int.from_bytes(data[-2:], "little") == crc


# --------------------------------------------------------------------- advertising


def test_manufacturer_data() -> None:
    expected = fp.ManufacturerData(foot=fp.Foot.LEFT, serial=0x20241A2B, battery_pct=87)
    assert fp.decode_manufacturer_data(golden("manufacturer-data")) == expected
    assert fp.encode_manufacturer_data(expected) == golden("manufacturer-data")


def test_advertising_data_fits_legacy_31_bytes() -> None:
    md = fp.ManufacturerData(foot=fp.Foot.LEFT, serial=0x20241A2B, battery_pct=87)
    assert fp.encode_advertising_data(md) == golden("advertising-data")
    assert len(golden("advertising-data")) == 31


def test_scan_response_and_local_name() -> None:
    assert fp.local_name(fp.Foot.LEFT, 0x20241A2B) == "INSOLE-L-1A2B"
    assert fp.encode_scan_response(fp.Foot.LEFT, 0x20241A2B) == golden("scan-response")
    assert fp.parse_local_name("INSOLE-L-1A2B") == (fp.Foot.LEFT, 0x1A2B)


# --------------------------------------------------------------------- sample packets


def test_sample_packet_basic() -> None:
    codes = np.zeros((1, 16), dtype=np.uint16)
    codes[0, :6] = [1500, 1420, 980, 1010, 120, 60]
    expected = fp.SamplePacket(
        foot=fp.Foot.LEFT,
        sequence=42,
        timestamp_us=1_234_567_890,
        sample_rate_hz=100,
        pressure_codes=codes,
        flags=fp.StatusFlags.LOW_BATTERY | fp.StatusFlags.TARED,
    )
    packet = fp.decode_notification(golden("sample-packet-basic"))
    assert packet == expected
    assert fp.encode_sample_packet(expected) == golden("sample-packet-basic")
    assert len(golden("sample-packet-basic")) == 52 == fp.packet_size(1, imu=False)
    assert packet.imu_codes is None and packet.accel_g is None
    assert packet.pressures_kpa[0, :6].tolist() == [150.0, 142.0, 98.0, 101.0, 12.0, 6.0]
    assert packet.sample_times_us.tolist() == [1_234_567_890]
    assert not packet.saturated.any()


def test_sample_packet_imu_batched_saturated() -> None:
    met1, met2, hallux = 8, 9, 13
    codes = np.zeros((2, 16), dtype=np.uint16)
    codes[0, [met1, met2, hallux]] = [4000, 3500, 0xFFFF]
    codes[1, [met1, met2, hallux]] = [3900, 3300, 6000]
    imu = np.array([[0, 0, 1000, -150, 0, 25], [-120, 35, 980, -300, 10, 0]], dtype=np.int16)
    expected = fp.SamplePacket(
        foot=fp.Foot.RIGHT,
        sequence=0xFFFF_FFFF,
        timestamp_us=1 << 32,
        sample_rate_hz=200,
        pressure_codes=codes,
        imu_codes=imu,
        flags=fp.StatusFlags.CLOCK_READ,  # IMU_PRESENT and SATURATED are derived
    )
    packet = fp.decode_sample_packet(golden("sample-packet-imu"))
    assert packet == expected
    assert fp.encode_sample_packet(expected) == golden("sample-packet-imu")
    assert len(golden("sample-packet-imu")) == 108 == fp.packet_size(2, imu=True)
    assert packet.flags == (
        fp.StatusFlags.IMU_PRESENT | fp.StatusFlags.SATURATED | fp.StatusFlags.CLOCK_READ
    )
    assert packet.sample_times_us.tolist() == [4_294_967_296, 4_294_972_296]
    assert packet.saturated[0, hallux] and packet.saturated.sum() == 1
    assert np.isnan(packet.pressures_kpa[0, hallux])
    assert packet.pressures_kpa[1, [met1, met2, hallux]].tolist() == [390.0, 330.0, 600.0]
    assert packet.accel_g.tolist() == [[0.0, 0.0, 1.0], [-0.12, 0.035, 0.98]]
    assert packet.gyro_dps.tolist() == [[-15.0, 0.0, 2.5], [-30.0, 1.0, 0.0]]


def test_corrupted_packet_is_a_crc_failure() -> None:
    with pytest.raises(fp.CrcMismatchError) as info:
        fp.decode_sample_packet(golden("sample-packet-corrupted"))
    assert (info.value.received, info.value.computed) == (0x4A82, 0xE27B)
    assert isinstance(info.value, fp.ProtocolError)


# --------------------------------------------------------------------- commands

COMMANDS = {
    "command-start-streaming": fp.StartStreaming(token=1),
    "command-stop-streaming": fp.StopStreaming(token=2),
    "command-set-sample-rate": fp.SetSampleRate(
        sample_rate_hz=200, samples_per_packet=4, imu_enabled=False, token=3
    ),
    "command-tare": fp.Tare(token=4),
    "command-identify": fp.Identify(duration_s=10, token=5),
    "command-read-clock": fp.ReadClock(token=6),
    "command-get-info": fp.GetInfo(token=7),
}


def test_every_opcode_has_a_golden_command() -> None:
    assert {command.opcode for command in COMMANDS.values()} == set(fp.Opcode)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command(name: str) -> None:
    assert fp.decode_command(golden(name)) == COMMANDS[name]
    assert fp.encode_command(COMMANDS[name]) == golden(name)
    assert fp.encode(COMMANDS[name]) == golden(name)


# --------------------------------------------------------------------- replies

REPLIES = {
    "reply-start-ok": fp.Reply(fp.Opcode.START_STREAMING, fp.Status.OK, token=1),
    "reply-start-mtu-too-small": fp.Reply(
        fp.Opcode.START_STREAMING, fp.Status.MTU_TOO_SMALL, token=1
    ),
    "reply-set-sample-rate-bad-argument": fp.Reply(
        fp.Opcode.SET_SAMPLE_RATE, fp.Status.BAD_ARGUMENT, token=3
    ),
    "reply-tare-busy": fp.Reply(fp.Opcode.TARE, fp.Status.BUSY, token=4),
    "reply-unknown-opcode-bad-command": fp.Reply(0x42, fp.Status.BAD_COMMAND, token=9),
    "reply-read-clock": fp.ClockReply(timestamp_us=9_876_543_210, token=6),
    "reply-get-info": fp.InfoReply(
        foot=fp.Foot.RIGHT,
        serial=0x20241A2C,
        battery_pct=64,
        firmware_version=(1, 2, 3),
        sample_rate_hz=100,
        samples_per_packet=2,
        imu_present=True,
        imu_enabled=False,
        streaming=True,
        full_scale_kpa=600.0,
        token=7,
    ),
}


def test_every_status_has_a_golden_reply() -> None:
    assert {reply.status for reply in REPLIES.values()} == set(fp.Status)


@pytest.mark.parametrize("name", list(REPLIES))
def test_reply(name: str) -> None:
    assert fp.decode_reply(golden(name)) == REPLIES[name]
    assert fp.encode_reply(REPLIES[name]) == golden(name)
    assert fp.encode(REPLIES[name]) == golden(name)


def test_get_info_reply_fields() -> None:
    info = fp.decode_reply(golden("reply-get-info"))
    assert isinstance(info, fp.InfoReply)
    assert info.firmware_revision == "1.2.3"
    assert info.full_scale_kpa == 600.0


# --------------------------------------------------------------------- MTU table


@pytest.mark.parametrize(
    ("n_samples", "imu", "min_mtu"),
    [
        (1, False, 55), (2, False, 87), (3, False, 119), (4, False, 151),
        (5, False, 183), (6, False, 215), (7, False, 247),
        (1, True, 67), (2, True, 111), (3, True, 155), (4, True, 199), (5, True, 243),
    ],
)  # fmt: skip
def test_min_att_mtu_table(n_samples: int, imu: bool, min_mtu: int) -> None:
    # The table of PROTOCOL.md section 7, by hand.
    assert fp.min_att_mtu(n_samples, imu) == min_mtu
    assert min_mtu <= fp.PREFERRED_ATT_MTU


def test_max_samples_per_packet() -> None:
    assert fp.max_samples_per_packet(imu=False) == 7
    assert fp.max_samples_per_packet(imu=True) == 5


def test_bad_command_reply_echoes_what_was_received() -> None:
    # PROTOCOL.md section 5: echo byte 1 (bit 7 cleared) and byte 2, 0 where missing.
    assert fp.bad_command_reply(bytes.fromhex("01 42 09 00 00")) == REPLIES[
        "reply-unknown-opcode-bad-command"
    ]
    assert fp.bad_command_reply(bytes.fromhex("01 C2 09")) == REPLIES[
        "reply-unknown-opcode-bad-command"
    ]
    assert fp.bad_command_reply(b"\x01") == fp.Reply(0, fp.Status.BAD_COMMAND, token=0)


def test_device_information_serial_string() -> None:
    assert fp.serial_number_string(0x20241A2B) == "20241A2B"
    assert fp.serial_number_string(0xAB) == "000000AB"


# --------------------------------------------------------------------- GATT table vs doc


def _doc_gatt_rows() -> dict[str, str]:
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    section = text.split("## 3. GATT table", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`"):
            rows[cells[1].strip("`").lower()] = cells[2]
    return rows


def test_gatt_table_matches_doc() -> None:
    rows = _doc_gatt_rows()
    doc_names = {"READ": "Read", "WRITE": "Write", "NOTIFY": "Notify"}
    seen = set()
    for service in fp.GATT_TABLE:
        short = _short_form(service.uuid)
        assert rows[short] == "primary", service.name
        seen.add(short)
        for char in service.characteristics:
            short = _short_form(char.uuid)
            expected = ", ".join(
                doc_names[flag.name] for flag in fp.Properties if flag in char.properties
            )
            assert rows[short] == expected, char.description
            seen.add(short)
    assert seen == set(rows)


def _short_form(uuid: str) -> str:
    """``0x180f`` for SIG UUIDs (as the doc writes them), else the full 128-bit string."""
    if uuid.endswith("-0000-1000-8000-00805f9b34fb") and uuid.startswith("0000"):
        return "0x" + uuid[4:8]
    return uuid


def test_uuids_are_the_fixed_protocol_1_values() -> None:
    # Changing any of these breaks every deployed insole: they are fixed for version 1.
    assert fp.INSOLE_SERVICE_UUID == "241c0100-3441-480e-8302-54ca80305a37"
    assert fp.DATA_CHAR_UUID == "241c0101-3441-480e-8302-54ca80305a37"
    assert fp.CONTROL_CHAR_UUID == "241c0102-3441-480e-8302-54ca80305a37"
    assert fp.BATTERY_LEVEL_UUID == "00002a19-0000-1000-8000-00805f9b34fb"
    assert fp.SERIAL_NUMBER_UUID == "00002a25-0000-1000-8000-00805f9b34fb"
    assert fp.FIRMWARE_REVISION_UUID == "00002a26-0000-1000-8000-00805f9b34fb"
    assert fp.COMPANY_ID == 0xFFFF

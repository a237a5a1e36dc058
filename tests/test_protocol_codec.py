"""Property tests of the wire codec: round trips, fuzzing, bit flips, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import firmware_protocol as fp

U8 = st.integers(0, 0xFF)
U32 = st.integers(0, 0xFFFF_FFFF)
U64 = st.integers(0, 0xFFFF_FFFF_FFFF_FFFF)
FEET = st.sampled_from(list(fp.Foot))
RATES = st.sampled_from(fp.SAMPLE_RATES_HZ)
BATTERY = st.none() | st.integers(0, 100)


@st.composite
def sample_packets(draw: st.DrawFn) -> fp.SamplePacket:
    has_imu = draw(st.booleans())
    n = draw(st.integers(1, fp.max_samples_per_packet(has_imu)))
    # Bias codes toward 0 and SATURATED_CODE so both SATURATED states are common.
    code = st.integers(0, 0xFFFF) | st.sampled_from([0, 0xFFFE, 0xFFFF])
    codes = draw(hnp.arrays(np.uint16, (n, fp.N_SENSORS), elements=code))
    imu = draw(hnp.arrays(np.int16, (n, fp.N_IMU_AXES))) if has_imu else None
    return fp.SamplePacket(
        foot=draw(FEET),
        sequence=draw(U32),
        timestamp_us=draw(U64),
        sample_rate_hz=draw(RATES),
        pressure_codes=codes,
        imu_codes=imu,
        flags=fp.StatusFlags(draw(st.integers(0, 0xFFFF))),
    )


@st.composite
def set_sample_rates(draw: st.DrawFn) -> fp.SetSampleRate:
    imu = draw(st.booleans())
    return fp.SetSampleRate(
        sample_rate_hz=draw(RATES),
        samples_per_packet=draw(st.integers(1, fp.max_samples_per_packet(imu))),
        imu_enabled=imu,
        token=draw(U8),
    )


commands = st.one_of(
    st.builds(fp.StartStreaming, token=U8),
    st.builds(fp.StopStreaming, token=U8),
    set_sample_rates(),
    st.builds(fp.Tare, token=U8),
    st.builds(fp.Identify, duration_s=st.integers(1, 60), token=U8),
    st.builds(fp.ReadClock, token=U8),
    st.builds(fp.GetInfo, token=U8),
)


@st.composite
def plain_replies(draw: st.DrawFn) -> fp.Reply:
    known = [op for op in fp.Opcode if op not in (fp.Opcode.READ_CLOCK, fp.Opcode.GET_INFO)]
    opcode = draw(st.sampled_from(known) | st.sampled_from(list(fp.Opcode)) | st.integers(0, 0x7F))
    if opcode not in set(fp.Opcode):
        status = fp.Status.BAD_COMMAND
    elif opcode in (fp.Opcode.READ_CLOCK, fp.Opcode.GET_INFO):
        status = draw(st.sampled_from([s for s in fp.Status if s is not fp.Status.OK]))
    else:
        status = draw(st.sampled_from(list(fp.Status)))
    return fp.Reply(opcode, status, token=draw(U8))


@st.composite
def info_replies(draw: st.DrawFn) -> fp.InfoReply:
    imu_present = draw(st.booleans())
    imu_enabled = imu_present and draw(st.booleans())
    return fp.InfoReply(
        foot=draw(FEET),
        serial=draw(U32),
        battery_pct=draw(BATTERY),
        firmware_version=(draw(U8), draw(U8), draw(U8)),
        sample_rate_hz=draw(RATES),
        samples_per_packet=draw(st.integers(1, fp.max_samples_per_packet(imu_enabled))),
        imu_present=imu_present,
        imu_enabled=imu_enabled,
        streaming=draw(st.booleans()),
        full_scale_kpa=draw(st.integers(1, 0xFFFE)) / 10,
        token=draw(U8),
    )


replies = st.one_of(
    plain_replies(),
    st.builds(fp.ClockReply, timestamp_us=U64, token=U8),
    info_replies(),
)
manufacturer_data = st.builds(fp.ManufacturerData, foot=FEET, serial=U32, battery_pct=BATTERY)

FRAMED = {
    "sample": (sample_packets(), fp.decode_sample_packet),
    "command": (commands, fp.decode_command),
    "reply": (replies, fp.decode_reply),
}
DECODERS = [
    fp.decode_sample_packet,
    fp.decode_command,
    fp.decode_reply,
    fp.decode_manufacturer_data,
]


# --------------------------------------------------------------------- round trips


@given(sample_packets())
def test_sample_packet_round_trip(packet: fp.SamplePacket) -> None:
    data = fp.encode_sample_packet(packet)
    assert len(data) == fp.packet_size(packet.n_samples, packet.imu_codes is not None)
    assert len(data) <= fp.MAX_PACKET_SIZE
    decoded = fp.decode_notification(bytearray(data))
    assert decoded == packet
    assert fp.encode(decoded) == data
    assert decoded.pressure_codes.dtype == np.uint16
    assert bool(decoded.flags & fp.StatusFlags.SATURATED) == bool(
        (packet.pressure_codes == fp.SATURATED_CODE).any()
    )
    assert bool(decoded.flags & fp.StatusFlags.IMU_PRESENT) == (packet.imu_codes is not None)


@given(commands)
def test_command_round_trip(command: fp.Command) -> None:
    data = fp.encode_command(command)
    assert fp.decode_command(data) == command
    assert len(data) <= 8  # fits ATT MTU 23 (PROTOCOL.md section 7)


@given(replies)
def test_reply_round_trip(reply: fp.ReplyMessage) -> None:
    data = fp.encode_reply(reply)
    assert fp.decode_reply(data) == reply
    assert len(data) <= 20  # fits ATT MTU 23 (PROTOCOL.md section 7)


@given(manufacturer_data)
def test_manufacturer_data_round_trip(md: fp.ManufacturerData) -> None:
    data = fp.encode_manufacturer_data(md)
    assert fp.decode_manufacturer_data(data) == md
    assert len(fp.encode_advertising_data(md)) == 31  # legacy advertising limit


@given(FEET, U32)
def test_local_name_round_trip(foot: fp.Foot, serial: int) -> None:
    name = fp.local_name(foot, serial)
    assert fp.parse_local_name(name) == (foot, serial & 0xFFFF)
    assert len(fp.encode_scan_response(foot, serial)) <= 31


# --------------------------------------------------------------------- fuzzing


@settings(max_examples=500)
@given(st.binary(max_size=300))
@example(b"")
@example(b"\x01")
def test_arbitrary_bytes_give_message_or_protocol_error(data: bytes) -> None:
    for decode in DECODERS:
        try:
            decode(data)
        except fp.ProtocolError:
            pass


@settings(max_examples=500)
@given(st.binary(min_size=1, max_size=300), st.booleans())
def test_arbitrary_bodies_with_valid_crc_give_message_or_protocol_error(
    body: bytes, version_one: bool
) -> None:
    # Random bytes almost never pass the CRC; fixing it reaches the field checks.
    if version_one:
        body = b"\x01" + body[1:]
    data = body + fp.crc16_ccitt_false(body).to_bytes(2, "little")
    for decode in DECODERS:
        try:
            message = decode(data)
        except fp.ProtocolError as exc:
            assert not isinstance(exc, fp.CrcMismatchError) or decode is fp.decode_manufacturer_data
        else:
            assert fp.encode(message) == data  # whatever decodes, re-encodes to itself


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(FRAMED)).flatmap(lambda kind: FRAMED[kind][0].map(lambda m: (kind, m))),
    st.data(),
)
def test_valid_frame_with_mutated_field_and_fixed_crc(kind_message: tuple, data: st.DataObject) -> None:
    kind, message = kind_message
    frame = bytearray(fp.encode(message))
    position = data.draw(st.integers(0, len(frame) - 3), label="position")
    frame[position] = data.draw(U8, label="value")
    body = bytes(frame[:-2])
    mutated = body + fp.crc16_ccitt_false(body).to_bytes(2, "little")
    try:
        decoded = FRAMED[kind][1](mutated)
    except fp.ProtocolError:
        pass
    else:
        assert fp.encode(decoded) == mutated


@pytest.mark.parametrize("decode", DECODERS)
@pytest.mark.parametrize("value", [None, 42, "01 01 01", [1, 1, 1], 1.5])
def test_non_bytes_give_protocol_error(decode, value) -> None:
    with pytest.raises(fp.ProtocolError):
        decode(value)


# --------------------------------------------------------------------- corruption


@settings(max_examples=300)
@given(
    st.sampled_from(sorted(FRAMED)).flatmap(lambda kind: FRAMED[kind][0].map(lambda m: (kind, m))),
    st.data(),
)
def test_every_single_bit_flip_is_a_crc_failure(kind_message: tuple, data: st.DataObject) -> None:
    kind, message = kind_message
    frame = bytearray(fp.encode(message))
    bit = data.draw(st.integers(0, 8 * len(frame) - 1), label="bit")
    frame[bit // 8] ^= 1 << (bit % 8)
    # CRC-16 detects every single-bit error, and the CRC is checked before any
    # field, so even a flip in the version byte reports as a CRC failure.
    with pytest.raises(fp.CrcMismatchError):
        FRAMED[kind][1](bytes(frame))


def test_all_bit_flips_of_one_packet_are_caught() -> None:
    codes = np.arange(7 * 16, dtype=np.uint16).reshape(7, 16)
    frame = fp.encode(fp.SamplePacket(fp.Foot.RIGHT, 7, 10**9, 200, codes))
    for bit in range(8 * len(frame)):
        flipped = bytearray(frame)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(fp.CrcMismatchError):
            fp.decode_sample_packet(flipped)


@given(sample_packets(), st.data())
def test_truncated_or_extended_packet_is_rejected(packet: fp.SamplePacket, data: st.DataObject) -> None:
    frame = fp.encode(packet)
    cut = data.draw(st.integers(0, len(frame) - 1), label="cut")
    with pytest.raises(fp.ProtocolError):
        fp.decode_sample_packet(frame[:cut])
    with pytest.raises(fp.ProtocolError):
        fp.decode_sample_packet(frame + b"\x00")


# --------------------------------------------------------------------- semantics


def test_decoded_packet_does_not_alias_the_callback_buffer() -> None:
    codes = np.full((2, 16), 1234, dtype=np.uint16)
    buffer = bytearray(fp.encode(fp.SamplePacket(fp.Foot.LEFT, 1, 0, 100, codes)))
    packet = fp.decode_notification(buffer)
    buffer[18:20] = b"\x00\x00"  # bleak may reuse its bytearray
    assert packet.pressure_codes[0, 0] == 1234
    with pytest.raises(ValueError, match="read-only"):
        packet.pressure_codes[0, 0] = 0


def test_sample_times_follow_the_rate() -> None:
    for rate_hz, period_us in [(50, 20_000), (100, 10_000), (200, 5_000)]:
        codes = np.zeros((4, 16), dtype=np.uint16)
        packet = fp.SamplePacket(fp.Foot.LEFT, 0, 1_000_000, rate_hz, codes)
        assert packet.period_us == period_us
        assert packet.sample_times_us.tolist() == [1_000_000 + i * period_us for i in range(4)]


def test_saturated_flag_must_agree_with_codes() -> None:
    codes = np.zeros((1, 16), dtype=np.uint16)
    codes[0, 3] = fp.SATURATED_CODE
    frame = bytearray(fp.encode(fp.SamplePacket(fp.Foot.LEFT, 0, 0, 100, codes)))
    assert frame[16] & fp.StatusFlags.SATURATED
    frame[16] &= ~fp.StatusFlags.SATURATED & 0xFF
    body = bytes(frame[:-2])
    with pytest.raises(fp.ProtocolError, match="SATURATED"):
        fp.decode_sample_packet(body + fp.crc16_ccitt_false(body).to_bytes(2, "little"))


@given(st.integers(0, 0xFFFF))
@example(0x8000)
def test_given_flags_are_kept_except_the_derived_ones(flags: int) -> None:
    codes = np.zeros((1, 16), dtype=np.uint16)  # no saturation, no IMU
    packet = fp.SamplePacket(fp.Foot.LEFT, 0, 0, 100, codes, flags=fp.StatusFlags(flags))
    derived = int(fp.StatusFlags.IMU_PRESENT | fp.StatusFlags.SATURATED)
    assert packet.flags == flags & ~derived
    assert fp.decode_sample_packet(fp.encode(packet)).flags == flags & ~derived


def test_wrong_version_is_rejected_after_crc() -> None:
    body = bytes.fromhex("02 01 01")
    with pytest.raises(fp.ProtocolError, match="protocol version 2"):
        fp.decode_command(body + fp.crc16_ccitt_false(body).to_bytes(2, "little"))


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: fp.SamplePacket(0, 0, 0, 100, np.zeros((8, 16), np.uint16)), "1..7"),
        (
            lambda: fp.SamplePacket(
                0, 0, 0, 100, np.zeros((6, 16), np.uint16), imu_codes=np.zeros((6, 6), np.int16)
            ),
            "1..5",
        ),
        (lambda: fp.SamplePacket(0, 0, 0, 100, np.zeros((0, 16), np.uint16)), "1..7"),
        (lambda: fp.SamplePacket(0, 0, 0, 100, np.zeros((1, 15), np.uint16)), "shape"),
        (lambda: fp.SamplePacket(0, 0, 0, 100, np.full((1, 16), 70_000)), "outside"),
        (lambda: fp.SamplePacket(0, 0, 0, 100, np.zeros((1, 16)) + 0.5), "integers"),
        (lambda: fp.SamplePacket(2, 0, 0, 100, np.zeros((1, 16), np.uint16)), "foot"),
        (lambda: fp.SamplePacket(0, -1, 0, 100, np.zeros((1, 16), np.uint16)), "sequence"),
        (lambda: fp.SamplePacket(0, 0, 1 << 64, 100, np.zeros((1, 16), np.uint16)), "timestamp"),
        (lambda: fp.SamplePacket(0, 0, 0, 120, np.zeros((1, 16), np.uint16)), "sample_rate_hz"),
        (lambda: fp.SetSampleRate(100, 6, imu_enabled=True), "1..5"),
        (lambda: fp.SetSampleRate(100, 1, token=256), "token"),
        (lambda: fp.Identify(0), "1..60"),
        (lambda: fp.Reply(fp.Opcode.READ_CLOCK, fp.Status.OK), "ClockReply"),
        (lambda: fp.Reply(0x42, fp.Status.OK), "BAD_COMMAND"),
        (lambda: fp.ManufacturerData(0, 1, 101), "battery"),
        (lambda: fp.local_name(0, -1), "serial"),
        (lambda: fp.parse_local_name("INSOLE-X-0000"), "not an insole name"),
    ],
)
def test_invalid_messages_raise_protocol_error(build, match: str) -> None:
    with pytest.raises(fp.ProtocolError, match=match):
        build()

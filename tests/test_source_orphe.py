"""ORPHE INSOLE as a capture source: the wire format against the vendor's spec, and the collector on the BLE stack.

The pure tests check the packet codec against golden packets written here byte
by byte from the SDK's ``docs/SENSOR_SPEC.md`` (Orphe-OSS/ORPHE-INSOLE.js), and
against a per-sample reference decoder that follows the SDK parser's offsets,
on random packets. The ``ble`` tests run the collector (real bleak, fake BlueZ)
against emulated ORPHE INSOLEs that record what they sent, so the file is
compared with what it must hold, sample by sample; one test reads the emulated
insole with plain bleak and ``struct`` only, by the published spec.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insole import DeviceError, get_layout
from insole.capture._sources._orphe import (
    OrpheCaptureParams,
    OrpheOptions,
    OrpheSource,
    identify_orphe,
    orphe6_layout,
    unwrap_days,
    unwrap_serials,
)
from insole.capture._sources._orphe_decode import (
    Advertisement,
    DeviceInformation,
    TwoPointCalibration,
    decode_advertisement,
    decode_date_time,
    decode_packets,
    encode_advertisement,
    encode_date_time,
    encode_packet,
    mode_command,
    side_from_mount_position,
)

GUARD_S = 120.0
SIDES = ("left", "right")

# --------------------------------------------------------------------------- golden packets (SENSOR_SPEC.md)


def _golden_56() -> tuple[bytes, dict]:
    """Header 56, written field by field at the spec's offsets (sample n at offset 8 + 32 n)."""
    head = bytes([56]) + struct.pack(">H", 0xFFFE) + bytes([23, 59, 58]) + struct.pack(">H", 999)
    # offset 8 (n = 0): the SECOND sample in time; offset 40 (n = 1): the first
    second = struct.pack(">4h3h3h6H", 0, 16384, 0, -1, 100, -200, 300, 0, 0, 2048, 6, 5, 4, 3, 2, 65535)
    first = struct.pack(">4h3h3h6H", 16384, 0, 0, 0, -32768, 32767, 1, -2048, 1024, 2048, 220, 221, 222, 223, 224, 225)
    packet = head + second + first + bytes(104 - 8 - 64)
    expected = {
        "serial": 0xFFFE,
        "time_ms": ((23 * 60 + 59) * 60 + 58) * 1000 + 999,
        "pressure": [[220, 221, 222, 223, 224, 225], [6, 5, 4, 3, 2, 65535]],
        "gyro": [[-32768, 32767, 1], [100, -200, 300]],
        "acc": [[-2048, 1024, 2048], [0, 0, 2048]],
        "quat": [[16384, 0, 0, 0], [0, 16384, 0, -1]],
    }
    return packet, expected


def _golden_55(header: int = 55) -> tuple[bytes, dict]:
    """Header 55 (54 the same layout): 4 samples at offset 8 + 24 n, n = 3 the first in time."""
    head = bytes([header]) + struct.pack(">H", 7) + bytes([0, 0, 1]) + struct.pack(">H", 5)
    samples = []  # in time order
    for t in range(4):
        samples.append(((t, -t, 2 * t), (10 * t, -10 * t, 2048), tuple(100 * t + c for c in range(6))))
    body = b"".join(struct.pack(">3h3h6H", *g, *a, *p) for g, a, p in reversed(samples))
    expected = {
        "serial": 7,
        "time_ms": 1005,
        "pressure": [list(p) for _, _, p in samples],
        "gyro": [list(g) for g, _, _ in samples],
        "acc": [list(a) for _, a, _ in samples],
    }
    return head + body, expected


def test_golden_header_56_decodes_as_the_spec_says_and_encodes_back_to_the_same_bytes():
    packet, expected = _golden_56()
    assert len(packet) == 104
    frames = decode_packets([packet], 56)
    assert frames.n == 1 and frames.malformed == 0
    assert frames.serial.tolist() == [expected["serial"]]
    assert frames.time_of_day_ms.tolist() == [expected["time_ms"]]
    assert frames.pressure[0].tolist() == expected["pressure"]
    assert frames.gyro_raw[0].tolist() == expected["gyro"]
    assert frames.acc_raw[0].tolist() == expected["acc"]
    assert frames.quat_raw is not None and frames.quat_raw[0].tolist() == expected["quat"]
    # units as the SDK converts them: acc raw/32768 x 16 g, gyro raw x 2000 x 0.000035 deg/s, quat Q14
    assert frames.acc_g(16)[0, 1].tolist() == [0.0, 0.0, 1.0]
    assert frames.gyro_dps(2000)[0, 1, 0] == pytest.approx(100 * 0.07)
    assert frames.quaternion()[0, 0].tolist() == [1.0, 0.0, 0.0, 0.0]
    again = encode_packet(
        56,
        expected["serial"],
        expected["time_ms"],
        np.array(expected["pressure"]),
        np.array(expected["gyro"]),
        np.array(expected["acc"]),
        np.array(expected["quat"]),
    )
    assert again == packet


@pytest.mark.parametrize("header", [55, 54])
def test_golden_header_55_and_54_decode_four_samples_highest_offset_first(header):
    packet, expected = _golden_55(header)
    frames = decode_packets([packet], header)
    assert frames.pressure[0].tolist() == expected["pressure"]
    assert frames.gyro_raw[0].tolist() == expected["gyro"]
    assert frames.acc_raw[0].tolist() == expected["acc"]
    assert frames.quat_raw is None
    assert frames.serial.tolist() == [7] and frames.time_of_day_ms.tolist() == [1005]
    assert (
        encode_packet(
            header, 7, 1005, np.array(expected["pressure"]), np.array(expected["gyro"]), np.array(expected["acc"])
        )
        == packet
    )


def test_packets_that_are_not_samples_of_the_mode_are_counted_not_decoded():
    packet, _ = _golden_56()
    fifo, _ = _golden_55(54)
    frames = decode_packets([packet[:103], b"", fifo, packet, bytes([50]) + packet[1:]], 56)
    assert frames.n == 1 and frames.kept.tolist() == [3] and frames.malformed == 4


def _reference_decode(packet: bytes) -> dict:
    """A per-sample decoder written from the SDK parser's offsets, one sample and one field at a time."""
    header = packet[0]
    serial = struct.unpack_from(">H", packet, 1)[0]
    hour, minute, second = packet[3], packet[4], packet[5]
    millis = struct.unpack_from(">H", packet, 6)[0]
    k, stride, quat = (2, 32, True) if header == 56 else (4, 24, False)
    samples = []
    for i in range(k - 1, -1, -1):  # as the SDK: i from k-1 down, packet_number k-1-i
        base = 8 + stride * i
        fields = {}
        at = base
        if quat:
            fields["quat"] = list(struct.unpack_from(">4h", packet, at))
            at += 8
        fields["gyro"] = list(struct.unpack_from(">3h", packet, at))
        fields["acc"] = list(struct.unpack_from(">3h", packet, at + 6))
        fields["press"] = list(struct.unpack_from(">6H", packet, at + 12))
        samples.append(fields)
    return {"serial": serial, "time_ms": ((hour * 60 + minute) * 60 + second) * 1000 + millis, "samples": samples}


_int16 = st.integers(-32768, 32767)
_uint16 = st.integers(0, 65535)


@given(
    header=st.sampled_from([56, 55, 54]),
    serial=_uint16,
    time_ms=st.integers(0, 86_400_000 - 1),
    data=st.data(),
)
def test_random_packets_round_trip_and_agree_with_a_reference_decoder(header, serial, time_ms, data):
    k = 2 if header == 56 else 4
    pressure = np.array(data.draw(st.lists(st.lists(_uint16, min_size=6, max_size=6), min_size=k, max_size=k)))
    gyro = np.array(data.draw(st.lists(st.lists(_int16, min_size=3, max_size=3), min_size=k, max_size=k)))
    acc = np.array(data.draw(st.lists(st.lists(_int16, min_size=3, max_size=3), min_size=k, max_size=k)))
    quat = np.array(data.draw(st.lists(st.lists(_int16, min_size=4, max_size=4), min_size=k, max_size=k)))
    packet = encode_packet(header, serial, time_ms, pressure, gyro, acc, quat if header == 56 else None)
    assert len(packet) == 104
    frames = decode_packets([packet, packet], header)
    reference = _reference_decode(packet)
    assert frames.serial.tolist() == [serial, serial] == [reference["serial"]] * 2
    assert frames.time_of_day_ms.tolist() == [time_ms, time_ms] == [reference["time_ms"]] * 2
    assert frames.pressure[1].tolist() == pressure.tolist() == [s["press"] for s in reference["samples"]]
    assert frames.gyro_raw[1].tolist() == gyro.tolist() == [s["gyro"] for s in reference["samples"]]
    assert frames.acc_raw[1].tolist() == acc.tolist() == [s["acc"] for s in reference["samples"]]
    if header == 56:
        assert frames.quat_raw is not None
        assert frames.quat_raw[1].tolist() == quat.tolist() == [s["quat"] for s in reference["samples"]]


_PACKET_LIKE = st.builds(
    lambda h, body: bytes([h]) + body, st.sampled_from([50, 54, 55, 56]), st.binary(min_size=103, max_size=103)
)


@given(
    payloads=st.lists(st.one_of(st.binary(max_size=120), _PACKET_LIKE), max_size=20),
    header=st.sampled_from([56, 55, 54]),
)
def test_any_bytes_decode_or_count_as_malformed(payloads, header):
    frames = decode_packets(payloads, header)
    expected = [i for i, p in enumerate(payloads) if len(p) == 104 and p[0] == header]
    assert frames.kept.tolist() == expected and frames.malformed == len(payloads) - len(expected)
    assert frames.pressure.shape == (len(expected), 2 if header == 56 else 4, 6)


@given(
    start=st.integers(0, 200_000),
    steps=st.lists(st.integers(1, 3000), min_size=1, max_size=200),
    split=st.integers(0, 200),
)
def test_unwrapped_serials_are_the_packet_indices_across_any_number_of_wraps(start, steps, split):
    indices = start + np.concatenate([[0], np.cumsum(steps)])
    serials = indices % 65536
    split = min(split, indices.size - 1)
    first = unwrap_serials(serials[: split + 1], None, None)
    rest = unwrap_serials(serials[split + 1 :], int(first[-1]), int(serials[split]))
    unwrapped = np.concatenate([first, rest])
    np.testing.assert_array_equal(unwrapped - unwrapped[0], indices - indices[0])


def test_serial_wrap_is_one_step_and_a_lower_serial_is_a_reordered_packet():
    np.testing.assert_array_equal(
        unwrap_serials(np.array([65534, 65535, 0, 1]), None, None), [65534, 65535, 65536, 65537]
    )
    # 65535 then 0 in the next batch: still one step
    np.testing.assert_array_equal(unwrap_serials(np.array([0, 2, 1]), 65535, 65535), [65536, 65538, 65537])


def test_time_of_day_continues_across_midnight():
    day = 86_400_000_000
    np.testing.assert_array_equal(
        unwrap_days(np.array([day - 10_000, 0, 10_000]), None), [day - 10_000, day, day + 10_000]
    )
    np.testing.assert_array_equal(unwrap_days(np.array([5_000]), day - 5_000), [day + 5_000])


def test_device_information_mount_position_date_time_and_advertisement():
    info = DeviceInformation.decode(bytes([2, 3, 0, 0, 0, 0, 0, 0, 1, 2]) + bytes(10))
    assert (info.battery, info.mount_position, info.side, info.surface) == (2, 3, "right", "dorsal")
    assert (info.acc_range_g, info.gyro_range_dps) == (4, 1000)
    assert DeviceInformation.decode(info.encode()) == info
    assert [side_from_mount_position(m) for m in range(4)] == [
        ("left", "plantar"),
        ("right", "plantar"),
        ("left", "dorsal"),
        ("right", "dorsal"),
    ]
    assert mode_command(4) == b"\x0d\x04" and mode_command(3) == b"\x0d\x03"
    with pytest.raises(ValueError):
        mode_command(2)
    moment = dt.datetime(2026, 12, 6, 10, 11, 12, 340_000)
    assert encode_date_time(moment) == bytes([26, 12, 6, 10, 11, 12, 34])
    assert decode_date_time(encode_date_time(moment)) == moment
    status = Advertisement(model_type=2, mount_position=1, activity=0, battery=87, firmware=(1, 0, 1))
    payload = encode_advertisement(status)
    assert len(payload) == 18 and payload[6] == 1 and payload[14] == 87 and payload[15:18] == bytes([1, 0, 1])
    assert decode_advertisement(payload) == status and decode_advertisement(payload[:17]) is None


def test_two_point_calibration_normalises_each_channel_between_its_points():
    zero = np.full((10, 6), 220.0)
    full = np.tile(np.array([2600.0, 5200, 1800, 4800, 3000, 9000]), (10, 1))
    calibration = TwoPointCalibration.from_samples(zero, full)
    assert calibration.complete and calibration.zero_counts == (220.0,) * 6
    np.testing.assert_allclose(calibration.normalise(full[:1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(calibration.normalise(zero[:1]), 0.0, atol=1e-12)
    np.testing.assert_allclose(
        calibration.normalise(np.array([[1410.0, 0, 99999, 2510, 1610, 4610]])),
        [[0.5, 0.0, 1.0, 0.5, 0.5, 0.5]],
        atol=1e-6,
    )
    only_zero = TwoPointCalibration.from_samples(zero)
    assert not only_zero.complete and only_zero.to_dict()["full_body_weight_counts"] is None
    with pytest.raises(ValueError):
        only_zero.normalise(zero)


def test_orphe6_layout_puts_the_six_channels_where_the_sdk_numbers_them():
    layout = get_layout("orphe6")
    assert layout.n_sensors == 6 and layout.approximate
    assert layout.regions == (
        "hallux",
        "first_metatarsal",
        "lesser_toes",
        "central_metatarsals",
        "lateral_midfoot",
        "heel",
    )
    x, y = layout.x_mm, layout.y_mm
    toe_medial, ball_medial, toe_lateral, ball_centre, midfoot_lateral, heel = range(6)
    assert x[heel] == x.min() and x[toe_medial] == x.max()
    assert x[toe_medial] > x[ball_medial] and x[toe_lateral] > x[ball_centre]
    assert y[toe_medial] > 0 and y[ball_medial] > 0 and y[toe_lateral] < 0 and y[midfoot_lateral] < 0
    assert np.all(layout.contains(x, y)), "every channel lies inside the insole outline"
    assert orphe6_layout(38.0).foot_length_mm < orphe6_layout(45.0).foot_length_mm


def test_an_orphe_insole_is_told_from_ours_by_its_advertisement():
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData

    def adv(name, manufacturer, uuids=()):
        device = BLEDevice("AA:BB:CC:DD:EE:FF", name, None)
        return device, AdvertisementData(name, manufacturer, {}, list(uuids), None, -50, ())

    status = encode_advertisement(Advertisement(2, 1, 0, 80, (1, 0, 1)))
    seen = identify_orphe(*adv("INS-00000162", {0x0000: status}))
    assert seen is not None and seen.side == "right" and seen.firmware == "1.0.1"
    assert identify_orphe(*adv("INSOLE-L-1A2B", {0xFFFF: bytes(8)})) is None  # ours
    assert identify_orphe(*adv("INS-1", {})) is None  # a name alone is not enough
    unnamed = identify_orphe(*adv(None, {}, ["db1b7aca-cda5-4453-a49b-33a53d3f0833"]))
    assert unnamed is not None and unnamed.side is None


def test_options_refuse_mode_1_and_mode_3_is_placed_at_208_hz():
    with pytest.raises(ValueError, match="mode 1 has no pressures"):
        OrpheOptions(mode=1)
    assert OrpheOptions().rate_hz == 100 and OrpheOptions(mode=3).rate_hz == 208
    params = OrpheSource(OrpheOptions(mode=3)).capture_params()
    assert (params.sample_rate_hz, params.samples_per_packet, params.period_us) == (208, 4, 4808)


def test_mode_3_packets_at_208_hz_are_placed_on_a_4808_us_grid_and_the_rate_is_measured():
    """The decoding half of the 208 Hz IMU clock, without BLE: 4-sample packets stamped by a 208 Hz clock."""
    from insole.capture._collector import StreamStart

    source = OrpheSource(OrpheOptions(mode=3))
    source.found(("left",))
    params = source.capture_params()
    timeline = source.new_timeline(params, 0.1)
    period_s = 1 / 208.0
    items: list = [(0.0, StreamStart(4, 0))]
    for p in range(520):  # 10 s; the serial starts near the wrap and drops packet 300
        first = p * 4
        if p == 300:
            continue
        stamp_ms = 9 * 3_600_000 + int(first * period_s * 1000)
        counts = (np.arange(first, first + 4)[:, None] + 1000 * np.arange(6)[None, :]) % 65000
        packet = encode_packet(55, (65400 + p) % 65536, stamp_ms, counts, np.zeros((4, 3)), np.zeros((4, 3)))
        items.append(((first + 3) * period_s + 0.003, packet))
    decoded = source.decode("left", items, timeline)
    assert decoded.malformed == 0 and decoded.last_sample_us.size == 519
    block = timeline.drain(100.0, final=True)
    assert block is not None and block.n_slots == 520 * 4
    assert np.all(np.diff(block.device_us) == 4808)
    assert int((~block.valid).sum()) == 4 and not block.valid[1200:1204].any()
    np.testing.assert_array_equal(block.values_kpa[block.valid, 0], np.delete(np.arange(2080), range(1200, 1204)))
    facts = source.quality_facts()["feet"]["left"]
    assert facts["serial_wraps"] == 1
    # the stamps are whole ms: over 10 s the rate is known to 2 ms / 10 s = 0.02 %
    assert facts["measured_sample_rate_hz"] == pytest.approx(208.0, rel=2e-4)
    # the grid (4808 µs) and the 208 Hz stamps part by 0.31 µs a sample: 0.6 ms after 2080 samples, plus the ms floor
    assert facts["largest_timestamp_offset_ms"] <= 1.7


# --------------------------------------------------------------------------- on the emulated BLE stack


def known_counts(samples: np.ndarray, rate_hz: float, load: str) -> np.ndarray:
    """Channel c of sample s reads (s + 1000 c) mod 65000: the sample's number is channel 1's value."""
    del rate_hz, load
    return (samples[:, None] + 1000 * np.arange(6)[None, :]) % 65000


@pytest.fixture
async def orphe(private_dbus: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator:
    from firmware_protocol import DBUS_SYSTEM_BUS_ADDRESS
    from insole.capture._sources._orphe_emulator import OrpheEnvironment

    monkeypatch.setenv(DBUS_SYSTEM_BUS_ADDRESS, private_dbus)
    environments = []

    async def start(*specs):
        environment = OrpheEnvironment(tuple(specs) or None, bus_address=private_dbus)
        await environment.start()
        environments.append(environment)
        return environment

    yield start
    for environment in reversed(environments):
        await environment.stop()


async def record(environment, out: Path, source: OrpheSource, speed: float, **session):
    """Record until every emulated insole has formed its packets; (result, recording, session)."""
    from insole.capture._sources._seam import SourceSession
    from insole.io import read_parquet

    session_ = SourceSession(out, source=source, speed=speed, **session)
    task = asyncio.create_task(session_.run())
    async with asyncio.timeout(GUARD_S):
        for insole in environment.insoles:
            while not (insole.finished.is_set() and insole.record.streams[-1].end == "max_packets"):
                if task.done():
                    task.result()
                    raise AssertionError("the session ended before the insoles finished")
                await asyncio.sleep(0.05)
        session_.request_stop()
        result = await task
    return result, read_parquet(result.path), session_


def check_foot(foot, insole, period_us: int) -> dict[str, int]:
    """The file holds every sample the insole sent from its first recorded one, once, with its own values;
    every dropped packet in that span is ``k`` invalid slots; within a stream slots are one period apart."""
    streams = insole.record.streams
    valid = foot.valid
    numbers = np.rint(foot.values[valid, 0]).astype(np.int64)
    assert np.all(np.diff(numbers) > 0), "each sample once, in order"
    first = int(numbers[0])
    sent: list[int] = []
    dropped = 0
    for stream in streams:
        k = stream.samples_per_packet
        for counter, sample in zip(stream.counters, stream.first_samples):
            if sample < first:
                continue
            if counter in stream.sent:
                sent.extend(range(sample, sample + k))
            elif counter in stream.dropped and sample <= numbers[-1]:
                dropped += k
    np.testing.assert_array_equal(numbers, sent)
    expected_values = known_counts(numbers, 0, "walk")
    np.testing.assert_array_equal(foot.values[valid].astype(np.int64), expected_values)
    assert np.isnan(foot.values[~valid]).all(), "gaps are NaN, never filled"
    device_us = np.rint(foot.channels["device_time_s"] * 1e6).astype(np.int64)
    assert np.all(np.diff(foot.time_s) > 0)
    return {"dropped_samples": dropped, "invalid": int((~valid).sum()), "device_us": device_us}


@pytest.mark.ble
async def test_both_feet_every_sample_but_the_dropped_ones_across_the_serial_wrap(orphe, tmp_path):
    from insole.capture._sources._orphe_emulator import OrpheFaults, OrpheSpec

    speed, n_packets = 4.0, 500
    start = 65536 - 200  # the serial wraps 200 packets (4 s) into the stream, well after recording began
    drops = frozenset({65536 - 100, 65536, 65537, 65536 + 150})  # one at the wrap itself
    environment = await orphe(
        OrpheSpec(
            "left",
            serial_start=start,
            max_packets=n_packets,
            speed=speed,
            source=known_counts,
            faults=OrpheFaults(drop_counters=drops),
        ),
        OrpheSpec("right", serial_start=1000, max_packets=n_packets, speed=speed, source=known_counts),
    )
    source = OrpheSource(OrpheOptions(rate_check_s=0.5))
    result, recording, _ = await record(
        environment, tmp_path / "o.parquet", source, speed, params=OrpheCaptureParams(tare=False)
    )
    assert recording.layout.name == "orphe6" and recording.unit == "au" and recording.sample_rate_hz == 100
    for side in SIDES:
        insole = environment.insole(side)
        foot = recording.foot(side)
        facts = check_foot(foot, insole, 10_000)
        # one stream: slots on one 10 ms grid, the wrap included; the invalid ones are the dropped packets
        assert np.all(np.diff(facts["device_us"]) == 10_000)
        assert facts["invalid"] == facts["dropped_samples"]
        quality = result.quality["feet"][side]
        assert quality["packets_lost"] == facts["dropped_samples"] // 2
        assert quality["reconnects"] == 0 and quality["streams"] == 1
        assert np.all(foot.channels["quat_w"][foot.valid] == 1.0)
        assert np.all(foot.accel_g[foot.valid] == np.array([0.0, 0.0, 1.0], np.float32))
    left = result.quality["feet"]["left"]
    assert left["packets_lost"] == 4 and left["gaps"] == 3  # 65535->0: 2 adjacent drops are one gap
    assert result.quality["source"]["feet"]["left"]["serial_wraps"] == 1
    assert result.quality["source"]["feet"]["right"]["serial_wraps"] == 0
    devices = recording.meta.devices
    assert devices["left"]["mount_position"] == 0 and devices["right"]["mount_position"] == 1
    assert (
        devices["left"]["name"] == "INS-00000161" and devices["left"]["address"] == environment.insole("left").address
    )


@pytest.mark.ble
async def test_a_link_loss_reconnects_and_the_time_it_was_down_is_one_gap(orphe, tmp_path):
    from insole.capture._sources._orphe_emulator import OrpheFaults, OrpheSpec

    speed = 4.0
    environment = await orphe(
        OrpheSpec("left", max_packets=250, speed=speed, source=known_counts, faults=OrpheFaults(link_loss_at_s=(3.0,))),
        OrpheSpec("right", max_packets=500, speed=speed, source=known_counts),
    )
    source = OrpheSource(OrpheOptions(rate_check_s=0.5))
    result, recording, session = await record(
        environment, tmp_path / "loss.parquet", source, speed, params=OrpheCaptureParams(tare=False)
    )
    left = environment.insole("left")
    assert [s.end for s in left.record.streams] == ["link_loss", "max_packets"]
    foot = recording.foot("left")
    facts = check_foot(foot, left, 10_000)
    quality = result.quality["feet"]["left"]
    assert quality["reconnects"] == 1 and quality["link_losses"] == 1 and quality["streams"] == 2
    # the second stream starts at its first packet's device time of day (ms), exactly
    second = left.record.streams[1]
    first_sent = next(c for c in second.counters if c in second.sent)
    stamp_ms = second.time_ms[second.counters.index(first_sent)]
    first_number = second.first_samples[second.counters.index(first_sent)]
    numbers = np.rint(foot.values[foot.valid, 0]).astype(np.int64)
    at = int(np.flatnonzero(foot.valid)[np.searchsorted(numbers, first_number)])
    assert facts["device_us"][at] % 86_400_000_000 == stamp_ms * 1000
    # between the streams only invalid slots, on the first stream's grid: the link-down span
    before = int(np.flatnonzero(foot.valid)[np.searchsorted(numbers, first_number) - 1])
    assert not foot.valid[before + 1 : at].any() and at - before - 1 == quality["link_down_samples"] > 0
    assert facts["invalid"] == quality["link_down_samples"]
    # the file's time across the gap is the insole's: its packets were stamped (ms) 1 period apart in device
    # time at most 1 ms off; allow 1 ms for the stamps plus 20 ms for the clock fit at 4x emulation
    # (a wall millisecond of arrival jitter is 4 emulated ms)
    elapsed_device = (facts["device_us"][at] - facts["device_us"][before]) * 1e-6
    assert abs((foot.time_s[at] - foot.time_s[before]) - elapsed_device) < 0.021
    assert check_foot(recording.foot("right"), environment.insole("right"), 10_000)["invalid"] == 0


@pytest.mark.ble
async def test_two_point_calibration_in_the_tare_step_is_stored_in_the_file(orphe, tmp_path):
    from insole.capture._sources._orphe_emulator import NO_LOAD_COUNTS, OrpheSpec

    speed = 4.0
    environment = await orphe(
        OrpheSpec("left", max_packets=300, speed=speed), OrpheSpec("right", max_packets=300, speed=speed)
    )
    prompts: list[str] = []

    async def lift_both_feet() -> None:
        for insole in environment.insoles:
            insole.load = "none"

    async def prompt(text: str) -> None:
        prompts.append(text)
        standing = "left" if "LEFT" in text else "right"
        for insole in environment.insoles:
            insole.load = "full" if insole.spec.side == standing else "none"

    source = OrpheSource(OrpheOptions(rate_check_s=0.5, full_weight=True, prompt=prompt, calibration_s=0.5))
    result, recording, _ = await record(
        environment, tmp_path / "cal.parquet", source, speed, before_tare=lift_both_feet
    )
    assert len(prompts) == 2 and "LEFT" in prompts[0] and "RIGHT" in prompts[1]
    full_level = np.array([2600, 5200, 1800, 4800, 3000, 9000])
    for side in SIDES:
        stored = recording.meta.devices[side]["calibration"]
        assert recording.meta.devices[side]["tared"] is True
        # the emulated readings are the level plus integer noise in [-3, 3]: any mean is within 3 of it
        assert np.all(np.abs(np.array(stored["no_load_counts"]) - NO_LOAD_COUNTS) <= 3)
        assert np.all(np.abs(np.array(stored["full_body_weight_counts"]) - full_level) <= 3)
        assert stored["no_load_samples"] >= 50 and stored["full_body_weight_samples"] >= 50
        assert result.quality["source"]["calibration"][side] is True
        assert result.quality["feet"][side]["tared"] is True


@pytest.mark.ble
async def test_mode_3_runs_on_the_208_hz_imu_clock_and_the_file_keeps_true_time(orphe, tmp_path):
    from insole.capture._sources._orphe_emulator import OrpheSpec

    speed = 4.0
    environment = await orphe(
        *(OrpheSpec(side, mode=4, max_packets=260, speed=speed, source=known_counts) for side in SIDES)
    )
    source = OrpheSource(OrpheOptions(mode=3, rate_check_s=1.0))
    result, recording, _ = await record(
        environment,
        tmp_path / "m3.parquet",
        source,
        speed,
        params=OrpheCaptureParams(sample_rate_hz=208, samples_per_packet=4, tare=False),
    )
    assert recording.sample_rate_hz == 208
    for side in SIDES:
        insole = environment.insole(side)
        assert insole.mode == 3 and insole.record.mode_writes[-1] == 3
        foot = recording.foot(side)
        facts = check_foot(foot, insole, 4808)
        assert facts["invalid"] == 0 and np.all(np.diff(facts["device_us"]) == 4808)
        measured = result.quality["source"]["feet"][side]["measured_sample_rate_hz"]
        # ms stamps over the ~5 s recorded: the rate is known to 2 ms / 5 s = 0.04 %
        assert measured == pytest.approx(208.0, rel=5e-4)
        # 100 samples of the file span 100 true IMU periods (1/208 s), not 100 / 200 s: 4 % apart. Allow the
        # clock fit 2 ms at 4x emulation
        assert foot.time_s[-1] - foot.time_s[0] == pytest.approx((foot.n_samples - 1) / 208.0, abs=0.002)


@pytest.mark.ble
async def test_an_insole_whose_clock_disagrees_with_the_rate_set_is_refused_before_recording(orphe, tmp_path):
    from insole.capture._sources._orphe_emulator import OrpheSpec

    # an insole whose mode 4 runs on the IMU clock halved (104 Hz) while 100 Hz is set: 4 % apart
    environment = await orphe(*(OrpheSpec(side, mode4_rate_hz=104.0, speed=4.0) for side in SIDES))
    del environment
    from insole.capture._sources._seam import SourceSession

    session = SourceSession(
        tmp_path / "no.parquet", source=OrpheSource(OrpheOptions()), speed=4.0, params=OrpheCaptureParams(tare=False)
    )
    with pytest.raises(DeviceError, match=r"about 10[34]\.\d samples/s by its own clock in mode 4, not the 100 Hz"):
        async with asyncio.timeout(GUARD_S):
            await session.run()
    assert not (tmp_path / "no.parquet").exists()


@pytest.mark.ble
async def test_plain_bleak_reads_the_emulated_insole_by_the_published_spec(orphe):
    """No project code on this side: bleak, struct and the SDK's UUIDs and offsets, written out here."""
    from bleak import BleakClient, BleakScanner

    from insole.capture._sources._orphe_emulator import OrpheSpec

    environment = await orphe(
        OrpheSpec("left", serial_start=65530, max_packets=12, speed=2.0), OrpheSpec("right", max_packets=12, speed=2.0)
    )
    device_information = "24354f22-1c46-430e-a4ab-a1eeabbcdfc0"
    sensor_values = "f3f9c7ce-46ee-4205-89ac-abe64e626c0f"
    found = {}

    def detected(device, adv):
        status = adv.manufacturer_data.get(0x0000)
        if (adv.local_name or "").startswith("INS") and status is not None and len(status) >= 18:
            found[device.address] = (device, status[6] & 1)

    async with BleakScanner(detected):
        async with asyncio.timeout(10):
            while len(found) < 2:
                await asyncio.sleep(0.02)
    left = next(device for device, right in found.values() if right == 0)
    received: list[bytes] = []
    async with BleakClient(left) as client:
        info = await client.read_gatt_char(device_information)
        assert info[1] & 1 == 0  # mount_position bit 0: left
        await client.write_gatt_char(device_information, bytes([0x0D, 3]), response=True)  # mode 3
        await client.start_notify(sensor_values, lambda _c, data: received.append(bytes(data)))
        async with asyncio.timeout(GUARD_S):
            await environment.insole("left").finished.wait()
        await asyncio.sleep(0.2)
    stream = environment.insole("left").record.streams[-1]
    assert received == [stream.sent[c] for c in stream.delivered] and len(received) == 12
    for packet, counter in zip(received, stream.delivered):
        assert len(packet) == 104 and packet[0] == 55
        assert struct.unpack_from(">H", packet, 1)[0] == counter & 0xFFFF
        pressures = [list(struct.unpack_from(">6H", packet, 8 + 24 * i + 12)) for i in (3, 2, 1, 0)]
        assert pressures == stream.counts[counter].tolist()
    assert [struct.unpack_from(">H", p, 1)[0] for p in received][5:8] == [65535, 0, 1]


@pytest.mark.ble
async def test_the_live_page_draws_an_orphe_capture_on_the_orphe6_layout(orphe, tmp_path):
    """What ``insole live --source orphe`` serves: the orphe6 layout with its positions, then 6-channel maps."""
    import json

    aiohttp = pytest.importorskip("aiohttp")
    from dashboards import LiveServer
    from insole.capture import LiveHub
    from insole.capture._sources._orphe_emulator import OrpheSpec
    from insole.capture._sources._seam import SourceSession

    environment = await orphe(*(OrpheSpec(side, speed=4.0) for side in SIDES))
    del environment
    hub = LiveHub()
    layout = get_layout("orphe6")
    server = LiveServer(hub, layout=layout, unit="au", sample_rate_hz=100, port=0)
    session = SourceSession(tmp_path / "live.parquet", source=OrpheSource(OrpheOptions(rate_check_s=0.5)),
                            speed=4.0, hub=hub, params=OrpheCaptureParams(tare=False))  # fmt: skip
    seen: dict[str, object] = {}

    async def watch(url: str) -> None:
        parts = url.split("?token=")
        ws_url = parts[0].replace("http://", "ws://").rstrip("/") + "/ws?token=" + parts[1]
        async with aiohttp.ClientSession() as client, client.ws_connect(ws_url) as ws:
            async for message in ws:
                data = json.loads(message.data)
                if data["type"] == "hello":
                    seen["layout"] = data["layout"]
                for side, foot in (data.get("feet") or {}).items() if data["type"] == "frame" else ():
                    if "map" in foot:
                        seen[f"{side}_map"] = foot["map"]
                if {"left_map", "right_map"} <= set(seen):
                    return

    url = await server.start()
    recording = asyncio.create_task(session.run())
    try:
        async with asyncio.timeout(GUARD_S):
            await watch(url)
    finally:
        session.request_stop()
        await recording
        await server.stop()
    hello = seen["layout"]
    assert isinstance(hello, dict) and hello["name"] == "orphe6" and hello["n_sensors"] == 6
    assert isinstance(seen["left_map"], list) and len(seen["left_map"]) == 6 and len(seen["right_map"]) == 6
    # the positions the page draws are the layout's: toe medial foremost and medial, the heel hindmost
    np.testing.assert_allclose(hello["x_mm"], layout.x_mm, atol=0.01)
    np.testing.assert_allclose(hello["y_mm"], layout.y_mm, atol=0.01)


@pytest.mark.ble
async def test_midnight_on_the_insoles_clock_is_no_gap(orphe, tmp_path):
    from insole.capture._sources._orphe_emulator import OrpheSpec

    speed = 4.0
    # the insoles' time of day is left as it is (not set from this computer): it passes midnight mid-recording
    environment = await orphe(
        *(OrpheSpec(side, max_packets=300, speed=speed, source=known_counts, time_of_day=dt.time(23, 59, 58))
          for side in SIDES)
    )  # fmt: skip
    source = OrpheSource(OrpheOptions(rate_check_s=0.5, sync_clock=False))
    _, recording, _ = await record(environment, tmp_path / "midnight.parquet", source, speed,
                                   params=OrpheCaptureParams(tare=False))  # fmt: skip
    for side in SIDES:
        insole = environment.insole(side)
        stamps = insole.record.streams[-1].time_ms
        assert stamps[0] > 86_390_000 and stamps[-1] < 10_000  # 23:59:5x, then past 00:00
        facts = check_foot(recording.foot(side), insole, 10_000)
        assert facts["invalid"] == 0 and np.all(np.diff(facts["device_us"]) == 10_000)
        assert facts["device_us"][-1] > 86_400_000_000  # the day went on


@pytest.mark.ble
async def test_an_insole_mounted_on_the_other_foot_is_refused(orphe, tmp_path):
    from insole.capture._sources._orphe_emulator import OrpheSpec
    from insole.capture._sources._seam import SourceSession

    environment = await orphe(*(OrpheSpec(side, speed=4.0) for side in SIDES))
    right = environment.insole("right").address
    session = SourceSession(tmp_path / "no.parquet", source=OrpheSource(OrpheOptions(left_address=right)),
                            selectors=None, speed=4.0, params=OrpheCaptureParams(tare=False))  # fmt: skip
    with pytest.raises(
        DeviceError, match=r"chosen for the left foot \(INS-00000162, .*\) says it is mounted on the right"
    ):
        async with asyncio.timeout(GUARD_S):
            await session.run()
    assert not (tmp_path / "no.parquet").exists()

"""The collector end to end: real bleak (BlueZ backend, unmodified) against emulated insoles.

Each test runs a :class:`CaptureSession` in the test's event loop against the
fake BlueZ and emulated insoles of ``ble_fixtures``. The insoles record exactly
what they produced, dropped, corrupted and when they lost the link, and they
stream a known signal (every pressure code encodes the sample's row in the
source), so the file the collector writes is compared with what the file must
be, slot by slot. Tests wait on events (the insoles finishing their packets,
the session returning), never on wall-clock windows; ``GUARD_S`` only stops a
hung test.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from ble_fixtures import emulation, private_dbus  # noqa: F401 - fixtures

from firmware_protocol import EmulatedInsole, FaultPlan, InsoleSpec, source_from_arrays
from insole import InsoleError, RecordingMeta
from insole.capture._collector import CaptureParams
from insole.capture._live import LinkStatus, LiveHub, SampleBlock, SessionEvent
from insole.capture._session import CaptureSession
from insole.io import read_parquet

pytestmark = pytest.mark.ble

GUARD_S = 120.0
SOURCE_ROWS = 50_000
SIDES = ("left", "right")


def known_codes(rows: np.ndarray, side: str) -> np.ndarray:
    """The pressure codes (0.1 kPa) the source sends for source row ``rows``: unique per row and sensor."""
    offset = 0 if side == "left" else 1234
    return ((rows[:, None] % SOURCE_ROWS) * 7 + np.arange(16)[None, :] + offset) % 5000


def known_source(side: str):
    return source_from_arrays(known_codes(np.arange(SOURCE_ROWS), side) / 10.0, loop=True)


@dataclass
class Expected:
    """What the file must hold for one foot: every slot's device time, validity and source row."""

    device_us: np.ndarray
    valid: np.ndarray
    rows: np.ndarray  # source row of each slot (meaningful where valid)
    dropped_samples: int


def expected_foot(insole: EmulatedInsole) -> Expected:
    """The slots the collector must write, from the emulator's own record.

    Within a stream a slot exists for every sample up to the last packet that
    arrived intact (trailing lost packets cannot be known from sequence
    numbers). Between streams the old grid continues, invalid, until half a
    period before the next stream's first sample (the link was down).
    """
    device, valid, rows = [], [], []
    row_base = 0
    dropped = 0
    streams = insole.record.streams
    for index, stream in enumerate(streams):
        n = stream.samples_per_packet
        period = 1_000_000 // stream.sample_rate_hz
        arrived = set(stream.delivered) - set(stream.corrupted)
        produced = len(stream.sequences)
        if arrived:
            last = max(arrived)
            for seq in range(last + 1):
                for i in range(n):
                    device.append(stream.start_us + (seq * n + i) * period)
                    valid.append(seq in arrived)
                    rows.append(row_base + seq * n + i)
            dropped += sum(n for seq in range(last + 1) if seq not in arrived)
            later = [s for s in streams[index + 1 :] if set(s.delivered) - set(s.corrupted)]
            if later:  # the next stream that delivered anything (a stream may die before its first packet)
                next_start = later[0].start_us
                t = device[-1] + period
                while t < next_start - period // 2:
                    device.append(t)
                    valid.append(False)
                    rows.append(-1)
                    t += period
        row_base += produced * n
    return Expected(np.array(device, np.int64), np.array(valid, bool), np.array(rows, np.int64), dropped)


async def capture(environment, tmp_path: Path, params: CaptureParams, speed: float, **session_options):
    """Record until every emulated insole has finished its packets; return (result, recording, session)."""
    out = tmp_path / "capture.parquet"
    session = CaptureSession(out, params=params, speed=speed, meta=RecordingMeta(subject_id="t01"), **session_options)
    task = asyncio.create_task(session.run())
    async with asyncio.timeout(GUARD_S):
        for insole in environment.insoles:
            finished = asyncio.create_task(insole.finished.wait())
            done, _ = await asyncio.wait({finished, task}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                finished.cancel()
                task.result()  # raises what went wrong
                raise AssertionError("the session ended before the insoles finished")
        session.request_stop()
        result = await task
    return result, read_parquet(result.path), session


def assert_file_matches(recording, environment) -> dict[str, Expected]:
    expectations = {}
    for insole in environment.insoles:
        side = insole.spec.side
        expected = expected_foot(insole)
        foot = recording.foot(side)
        device_us = np.rint(foot.channels["device_time_s"] * 1e6).astype(np.int64)
        np.testing.assert_array_equal(device_us, expected.device_us, err_msg=f"{side}: slot device times")
        np.testing.assert_array_equal(foot.valid, expected.valid, err_msg=f"{side}: validity")
        codes = np.rint(foot.values[foot.valid].astype(np.float64) * 10).astype(np.int64)
        np.testing.assert_array_equal(
            codes, known_codes(expected.rows[expected.valid], side), err_msg=f"{side}: values"
        )
        assert np.isnan(foot.values[~foot.valid]).all(), f"{side}: gaps must be NaN, never filled"
        assert np.all(np.diff(foot.time_s) > 0)
        expectations[side] = expected
    return expectations


def specs(
    rate_hz: int, n_packets: int, speed: float, samples_per_packet: int = 1, **faults: FaultPlan
) -> list[InsoleSpec]:
    return [
        InsoleSpec(side, source=known_source(side), max_packets=n_packets, speed=speed, sample_rate_hz=rate_hz,
                   samples_per_packet=samples_per_packet, faults=faults.get(side, FaultPlan()))
        for side in SIDES
    ]


# --------------------------------------------------------------------------- acceptance


@pytest.mark.parametrize(
    ("rate_hz", "samples_per_packet", "speed"),
    [(100, 1, 10.0), (200, 2, 10.0)],
    ids=["100Hz", "200Hz"],
)
async def test_every_sample_of_both_feet_for_60_s_of_device_time(
    emulation, tmp_path, rate_hz, samples_per_packet, speed
):
    n_packets = 60 * rate_hz // samples_per_packet
    environment = await emulation(*specs(rate_hz, n_packets, speed, samples_per_packet))
    params = CaptureParams(sample_rate_hz=rate_hz, samples_per_packet=samples_per_packet, tare=False)
    result, recording, _ = await capture(environment, tmp_path, params, speed)
    expectations = assert_file_matches(recording, environment)
    for side in SIDES:
        foot = recording.foot(side)
        assert foot.n_samples == 60 * rate_hz and foot.valid.all(), side
        # the source rows arrive in order, none twice, none missing
        np.testing.assert_array_equal(expectations[side].rows, np.arange(60 * rate_hz))
        quality = result.quality["feet"][side]
        counts = (quality["packets_sent"], quality["packets_received"], quality["packets_lost"])
        assert counts == (n_packets, n_packets, 0)
        assert quality["gaps"] == 0 and quality["crc_failures"] == 0 and quality["reconnects"] == 0
    assert recording.sample_rate_hz == rate_hz and recording.layout.name == "insole16"
    assert recording.meta.subject_id == "t01"
    assert recording.meta.capture_quality["feet"]["left"]["packets_received"] == n_packets


async def test_dropped_and_corrupted_packets_are_exactly_the_gaps(emulation, tmp_path):
    n_packets = 2000
    faults = {
        "left": FaultPlan(drop_rate=0.05, seed=11, corrupt_sequences=frozenset({100, 101, 1500})),
        "right": FaultPlan(drop_rate=0.05, seed=12),
    }
    environment = await emulation(*specs(100, n_packets, 10.0, **faults))
    hub = LiveHub()
    feed = hub.subscribe()
    live: list = []

    async def watch() -> None:
        while True:
            live.append(await feed.get())

    watcher = asyncio.create_task(watch())
    result, recording, _ = await capture(environment, tmp_path, CaptureParams(tare=False), 10.0, hub=hub)
    await asyncio.sleep(0)  # let the watcher take the last items
    watcher.cancel()
    expectations = assert_file_matches(recording, environment)
    # the live feed carried exactly what went to disk (before the file was re-timed)
    assert hub.dropped_for_slow_subscribers == 0
    for side in SIDES:
        blocks = [item for item in live if isinstance(item, SampleBlock) and item.side == side]
        valid = np.concatenate([b.valid for b in blocks])
        np.testing.assert_array_equal(valid, recording.foot(side).valid)
        np.testing.assert_array_equal(np.concatenate([b.values for b in blocks]), recording.foot(side).values)
        states = [item.state for item in live if isinstance(item, LinkStatus) and item.side == side]
        assert "streaming" in states and states[-1] == "stopped"
    assert [e.kind for e in live if isinstance(e, SessionEvent)] == ["recording_started", "recording_stopped"]
    for insole in environment.insoles:
        side = insole.spec.side
        stream = insole.record.streams[0]
        quality = result.quality["feet"][side]
        lost = set(stream.dropped) | set(stream.corrupted)
        last_arrived = max(set(stream.sequences) - lost)
        known_lost = {s for s in lost if s < last_arrived}
        assert len(stream.dropped) > 50  # 5 % of 2000: the fault really happened
        assert quality["packets_sent"] == last_arrived + 1
        assert quality["packets_received"] == last_arrived + 1 - len(known_lost)
        assert quality["crc_failures"] == len(set(stream.corrupted) - set(stream.dropped))
        assert quality["crc_failures"] == (3 if side == "left" else 0)
        assert quality["packets_lost"] == len(known_lost)
        assert quality["missing_samples"] == expectations[side].dropped_samples == len(known_lost)
        foot = recording.foot(side)
        assert quality["gaps"] == len(foot.gaps())
        assert quality["gap_total_ms"] == pytest.approx(10.0 * len(known_lost))
        assert quality["packet_loss_pct"] == pytest.approx(100 * len(known_lost) / (last_arrived + 1))


async def test_two_link_losses_reconnect_and_the_gaps_are_exactly_the_lost_spans(emulation, tmp_path):
    n_packets = 700  # per stream: the last stream runs 7 s of device time after the last loss
    faults = {"left": FaultPlan(link_loss_at_s=(3.0, 8.0)), "right": FaultPlan(link_loss_at_s=(5.5,))}
    environment = await emulation(*specs(100, n_packets, 2.0, **faults))
    result, recording, _ = await capture(environment, tmp_path, CaptureParams(tare=False), 2.0)
    # slot by slot: every packet that arrived is in the file at its place, every slot in
    # between streams is invalid, nothing else is (see expected_foot)
    expectations = assert_file_matches(recording, environment)
    for insole, losses in zip(environment.insoles, (2, 1)):
        side = insole.spec.side
        streams = insole.record.streams
        quality = result.quality["feet"][side]
        assert insole.record.link_losses_us and len(insole.record.link_losses_us) == losses
        assert [s.end for s in streams] == ["link_loss"] * losses + ["max_packets"]
        assert quality["link_losses"] == losses
        assert quality["reconnects"] == losses and quality["streams"] == losses + 1
        # nothing sent after a reconnect is missing
        for stream in streams[1:]:
            assert stream.delivered == stream.sequences == list(range(len(stream.sequences)))
        # each gap is one link-down span, from the first sample after the last one received
        # before the loss to the last grid slot before the next stream's first sample
        # (a stream the insole lost before its first packet merges two spans into one gap)
        foot = recording.foot(side)
        delivering = [s for s in streams if s.delivered]
        gaps = foot.gaps()
        assert len(gaps) == len(delivering) - 1 >= 1
        device_us = np.rint(foot.channels["device_time_s"] * 1e6).astype(np.int64)
        for gap, before, after in zip(gaps, delivering[:-1], delivering[1:]):
            invalid = device_us[(foot.time_s >= gap[0]) & (foot.time_s <= gap[1])]
            assert invalid[0] == before.start_us + (max(before.delivered) + 1) * 10_000
            assert after.start_us - 10_000 - 10_000 // 2 <= invalid[-1] < after.start_us - 10_000 // 2
        assert quality["link_down_samples"] == int((~foot.valid).sum()) == int((~expectations[side].valid).sum())
        assert quality["gaps"] == len(gaps) and quality["packets_lost"] == 0


async def test_left_and_right_stay_aligned_with_opposite_drift_over_10_minutes(emulation, tmp_path):
    rate_hz, samples_per_packet, speed = 100, 7, 10.0
    n_packets = 600 * rate_hz // samples_per_packet
    # The emulated stack (bumble, fake BlueZ, D-Bus) costs about a millisecond of CPU per
    # notification, so on a busy 2-core machine it cannot carry 2 x 8571 notifications at 20x
    # speed: the insoles would fall behind their own schedule and their lateness would look
    # like drift. Dropping 80 % of the notifications (seeded) keeps them on time; the
    # estimator then works with a fifth of the packets, which makes the test harder, not easier.
    faults = {
        "left": FaultPlan(clock_drift_ppm=300.0, clock_offset_s=2.0, drop_rate=0.8, seed=1),
        "right": FaultPlan(clock_drift_ppm=-300.0, drop_rate=0.8, seed=2),
    }
    environment = await emulation(*specs(rate_hz, n_packets, speed, samples_per_packet, **faults))
    params = CaptureParams(sample_rate_hz=rate_hz, samples_per_packet=samples_per_packet, tare=False)
    result, recording, session = await capture(environment, tmp_path, params, speed)
    assert_file_matches(recording, environment)
    # The emulator's true clock: device_us = (offset + (loop - boot) * speed * (1 + drift)) * 1e6.
    # Map every slot back to the true (emulated) time it was sampled at, on the session clock.
    errors = {}
    loop = asyncio.get_running_loop()
    for insole in environment.insoles:
        side = insole.spec.side
        plan = insole.spec.faults
        now = loop.time()
        since_boot_s = insole.device_clock_us(now) * 1e-6 - plan.clock_offset_s  # device seconds since boot
        boot = now - since_boot_s / (speed * (1 + plan.clock_drift_ppm * 1e-6))
        foot = recording.foot(side)
        device_s = foot.channels["device_time_s"]
        true_loop = boot + (device_s - plan.clock_offset_s) / (1 + plan.clock_drift_ppm * 1e-6) / speed
        true_session_s = (true_loop - session.clock.origin) * speed
        errors[side] = (true_session_s, foot.time_s - true_session_s)
    t_left, error_left = errors["left"]
    t_right, error_right = errors["right"]
    valid_left, valid_right = recording.left.valid, recording.right.valid
    t_left, error_left = t_left[valid_left], error_left[valid_left]
    t_right, error_right = t_right[valid_right], error_right[valid_right]
    misalignment_s = error_left - np.interp(t_left, t_right, error_right)
    print(f"L/R misalignment: max {np.max(np.abs(misalignment_s)) * 1e3:.2f} ms, "
          f"last minute {np.max(np.abs(misalignment_s[t_left > t_left[-1] - 60])) * 1e3:.2f} ms; "
          f"drift {result.quality['feet']['left']['clock']['drift_ppm']:.1f} / "
          f"{result.quality['feet']['right']['clock']['drift_ppm']:.1f} ppm")
    last_minute = t_left > t_left[-1] - 60.0
    period_s = 1.0 / rate_hz
    assert np.max(np.abs(misalignment_s[last_minute])) <= period_s
    assert np.max(np.abs(misalignment_s)) <= period_s
    feet = result.quality["feet"]
    # At 10x speed a wall-clock millisecond is 10 ms of emulated time, and on a busy machine the
    # floor of the arrival times wanders by up to about a wall millisecond over the session:
    # 10 ms / 600 s ~ 17 ppm. +-25 ppm still tells +300 from -300 and from 0.
    assert feet["left"]["clock"]["drift_ppm"] == pytest.approx(300.0, abs=25.0)
    assert feet["right"]["clock"]["drift_ppm"] == pytest.approx(-300.0, abs=25.0)
    assert result.quality["lr_alignment_residual_ms"] is not None


async def test_imu_channels_arrive_in_g_and_dps(emulation, tmp_path):
    n_packets = 300
    rows = np.arange(SOURCE_ROWS)
    accel_mg = np.stack([rows % 1000, -(rows % 700), np.full(rows.size, 1000)], axis=1)
    gyro_tenth_dps = np.stack([rows % 500, -(rows % 300), rows % 7], axis=1)
    environment = await emulation(*(
        InsoleSpec(side, source=source_from_arrays(known_codes(rows, side) / 10.0,
                                                   np.hstack([accel_mg / 1000.0, gyro_tenth_dps / 10.0]), loop=True),
                   max_packets=n_packets, speed=5.0, samples_per_packet=2, imu_present=True)
        for side in SIDES
    ))
    params = CaptureParams(samples_per_packet=2, imu=True, tare=False)
    _, recording, _ = await capture(environment, tmp_path, params, 5.0)
    assert_file_matches(recording, environment)
    for side in SIDES:
        foot = recording.foot(side)
        assert foot.n_samples == 2 * n_packets and foot.valid.all()
        np.testing.assert_array_equal(np.rint(foot.accel_g.astype(np.float64) * 1000), accel_mg[: foot.n_samples])
        np.testing.assert_array_equal(np.rint(foot.gyro_dps.astype(np.float64) * 10), gyro_tenth_dps[: foot.n_samples])


async def test_marks_zeroing_while_recording_and_a_second_recording_without_a_new_scan(emulation, tmp_path):
    environment = await emulation(*specs(100, None, 2.0))
    hub = LiveHub()
    feed = hub.subscribe()

    async def until_streaming() -> None:
        streaming: set[str] = set()
        while streaming != set(SIDES):
            item = await feed.get()
            if isinstance(item, LinkStatus) and item.state == "streaming":
                streaming.add(item.side)

    first = CaptureSession(tmp_path / "first.parquet", params=CaptureParams(tare=False), speed=2.0, hub=hub)
    task = asyncio.create_task(first.run())
    async with asyncio.timeout(GUARD_S):
        await until_streaming()
        turn = first.mark("turn")
        tared = await first.zero()
        first.request_stop()
        result = await task
    assert tared == {"left": True, "right": True}
    recording = read_parquet(result.path)
    assert [(m.label, m.kind) for m in recording.marks] == [("turn", "mark"), ("zeroed", "tare")]
    assert recording.marks[0].time_s == turn.time_s
    for insole in environment.insoles:
        assert any(command[1] == 0x04 for command in insole.record.commands)  # TARE went out
    assert result.quality["feet"]["left"]["tared"] is True
    # the next recording reuses the insoles the first one found: no scan
    assert set(first.found) == set(SIDES) and first.seen
    hub.unsubscribe(feed)
    feed = hub.subscribe()  # forget the first recording's items
    second = CaptureSession(tmp_path / "second.parquet", params=CaptureParams(tare=False), speed=2.0,
                            found=first.found, hub=hub)
    task = asyncio.create_task(second.run())
    async with asyncio.timeout(GUARD_S):
        await until_streaming()
        second.request_stop()
        result = await task
    assert second.seen == {} and second.found == first.found
    assert read_parquet(result.path).foot("left").n_samples > 0
    with pytest.raises(InsoleError):
        second.mark("too late")


async def test_a_link_that_goes_silent_is_reconnected_and_the_silence_is_a_gap(emulation, tmp_path):
    # After max_packets the emulated insole stays connected but sends nothing more: to the
    # collector that is a stalled link (as when a link dies without BlueZ noticing yet).
    environment = await emulation(*specs(100, 200, 2.0))
    session = CaptureSession(
        tmp_path / "stall.parquet", params=CaptureParams(tare=False, stall_timeout_s=1.0), speed=2.0
    )
    task = asyncio.create_task(session.run())
    async with asyncio.timeout(GUARD_S):
        for insole in environment.insoles:  # the second stream, after the reconnect, has finished too
            while not (len(insole.record.streams) >= 2 and insole.finished.is_set()):
                await asyncio.sleep(0.05)
        session.request_stop()
        result = await task
    recording = read_parquet(result.path)
    assert_file_matches(recording, environment)
    for insole in environment.insoles:
        quality = result.quality["feet"][insole.spec.side]
        assert quality["stalls"] >= 1 and quality["reconnects"] >= 1
        assert quality["streams"] == len(insole.record.streams)
        assert len(recording.foot(insole.spec.side).gaps()) == len(insole.record.streams) - 1

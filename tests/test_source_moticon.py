"""Moticon OpenGo over UDP: the datagram decoder, the timestamp unit, and recordings of a replayed real export.

The end-to-end tests replay ``../shared/data/moticon-opengo`` exports as the
desktop's datagrams on loopback (``tests/moticon_replayer.py``), record them
through ``capture_session("moticon", ...)`` (the call the CLI makes), and
compare the file with the export sample by sample: every slot of the file's
span is valid exactly where the export has that foot's sample and the
replayer sent it, with the export's values; the replayer's dropped rows are
exactly the gaps (besides the export's own missing samples).
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import numpy as np
import pytest
from _data import shared_data_dir
from hypothesis import given
from hypothesis import strategies as st
from moticon_replayer import MoticonReplayer

from insole import DeviceError, FootSamples
from insole.capture import CaptureSession
from insole.capture._collector import StreamStart
from insole.capture._sources import SourceSession, capture_session
from insole.capture._sources._moticon_decode import (
    FIELD_COUNT,
    FIELD_NAMES,
    MoticonDatagramError,
    decode_datagram,
    decode_datagrams,
    encode_datagram,
)
from insole.capture._sources._moticon_udp import MoticonOptions, MoticonUdpSource, timestamp_unit
from insole.io import load, read_parquet

EXPORTS = shared_data_dir() / "moticon-opengo"
NORMAL = EXPORTS / "230927_102114.txt"
FAST = EXPORTS / "230927_102231.txt"

# ---------------------------------------------------------------------------------------------- decoder

# Built by hand from the field order in ../shared/research/real-insoles.md (hermes-moticon, PhysioSense):
# timestamp; left acc 1-3, gyro 4-6, cop 7-8, pressures 9-24, force 25; right acc 26-28, gyro 29-31,
# cop 32-33, pressures 34-49, force 50. Every number is unique, so a field read from the wrong place shows.
GOLDEN = (
    b"12.34 "
    b"-0.189453 0.047852 0.972168 "  # left acceleration g
    b"-2.45 -3.43 2.38 "  # left angular rate deg/s
    b"-0.201829 -0.076531 "  # left COP
    b"6.5 6.25 5.75 6.75 3.5 4.25 0.25 1.5 0 0.75 1 1.25 0.5 2.25 2.5 2.75 "  # left pressures N/cm2
    b"509 "  # left total force N
    b"-0.1 0.2 1.1 "
    b"10.5 -20.25 30.75 "
    b"0.3 -0.4 "
    b"11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 "
    b"777.5\n"
)


def test_golden_datagram_fields_land_in_place() -> None:
    fields = decode_datagram(GOLDEN)
    assert fields.shape == (FIELD_COUNT,) and fields[0] == 12.34
    left, right = decode_datagrams([GOLDEN], "left"), decode_datagrams([GOLDEN], "right")
    assert left.timestamp.tolist() == [12.34] == right.timestamp.tolist()
    assert left.accel_g.tolist() == [[-0.189453, 0.047852, 0.972168]]
    assert left.gyro_dps.tolist() == [[-2.45, -3.43, 2.38]]
    assert left.cop.tolist() == [[-0.201829, -0.076531]]
    expected_left = [6.5, 6.25, 5.75, 6.75, 3.5, 4.25, 0.25, 1.5, 0, 0.75, 1, 1.25, 0.5, 2.25, 2.5, 2.75]
    assert left.pressure_kpa.tolist() == [[v * 10.0 for v in expected_left]]  # 1 N/cm2 = 10 kPa
    assert left.force_n.tolist() == [509.0]
    assert right.accel_g.tolist() == [[-0.1, 0.2, 1.1]]
    assert right.gyro_dps.tolist() == [[10.5, -20.25, 30.75]]
    assert right.cop.tolist() == [[0.3, -0.4]]
    assert right.pressure_kpa.tolist() == [[float(v) * 10.0 for v in range(11, 27)]]
    assert right.force_n.tolist() == [777.5]
    assert left.valid.tolist() == [True] == right.valid.tolist() and left.malformed == 0


def test_field_names_follow_the_research_order() -> None:
    assert len(FIELD_NAMES) == FIELD_COUNT
    assert FIELD_NAMES[1] == "left_acceleration_x_g" and FIELD_NAMES[9] == "left_pressure_1_n_per_cm2"
    assert FIELD_NAMES[25] == "left_total_force_n" and FIELD_NAMES[26] == "right_acceleration_x_g"
    assert FIELD_NAMES[32] == "right_cop_x_norm" and FIELD_NAMES[50] == "right_total_force_n"


@pytest.mark.parametrize(
    "data, problem",
    [
        (GOLDEN.rsplit(b" ", 1)[0], "50 numbers"),
        (GOLDEN + b" 1", "52 numbers"),
        (b"hello " * 51, "not whitespace-separated numbers"),
        (b"nan" + GOLDEN[5:], "timestamp"),
        (b"", "0 numbers"),
        (b"\xff\xfe" * 3, "not whitespace-separated numbers"),
    ],
)
def test_malformed_datagrams_are_refused_and_counted(data: bytes, problem: str) -> None:
    with pytest.raises(MoticonDatagramError, match=problem):
        decode_datagram(data)
    frames = decode_datagrams([GOLDEN, data, GOLDEN], "left")
    assert frames.malformed == 1 and frames.n == 2 and frames.kept.tolist() == [0, 2]


def test_a_foot_with_nan_fields_is_an_invalid_sample_of_that_foot_only() -> None:
    fields = decode_datagram(GOLDEN)
    fields[1:26] = np.nan
    data = encode_datagram(fields)
    assert decode_datagrams([data], "left").valid.tolist() == [False]
    assert decode_datagrams([data], "right").valid.tolist() == [True]


_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(st.lists(_finite, min_size=FIELD_COUNT, max_size=FIELD_COUNT), st.sampled_from([b" ", b"\t", b"  ", b" \t "]))
def test_decoding_gives_back_every_number_sent(values: list[float], separator: bytes) -> None:
    data = separator.join(encode_datagram(values).split(b" ")) + b"\r\n"
    back = decode_datagram(data)
    assert back.tolist() == values
    left = decode_datagrams([data], "left")
    assert left.pressure_kpa.tolist() == [[v * 10.0 for v in values[9:25]]]
    assert left.force_n.tolist() == [values[25]] and left.accel_g.tolist() == [values[1:4]]


# ---------------------------------------------------------------------------------------------- timestamp unit


@pytest.mark.parametrize("unit", [1.0, 1e-3, 1e-6])
def test_timestamp_unit_is_found_from_steps_despite_drops_duplicates_and_reordering(unit: float) -> None:
    seconds = np.array([0.00, 0.01, 0.03, 0.02, 0.04, 0.04, 0.05, 0.07, 0.08, 0.09]) + 1234.5
    assert timestamp_unit(seconds / unit, 100) == unit


def test_timestamp_unit_refuses_a_stream_at_another_rate() -> None:
    assert timestamp_unit(np.arange(10) * (1 / 32), 100) is None  # 32 Hz stream, 100 Hz configured
    assert timestamp_unit([5.0, 5.0], 100) is None


# ------------------------------------------------------------------------------------- decoding into a timeline


def _items(times: list[float], arrivals: list[float]) -> list[tuple[float, bytes | StreamStart]]:
    fields = decode_datagram(GOLDEN)
    items: list[tuple[float, bytes | StreamStart]] = [(arrivals[0], StreamStart(1, 0))]
    for t, a in zip(times, arrivals):
        fields[0] = t
        items.append((a, encode_datagram(fields)))
    return items


def test_index_from_timestamps_marks_lost_duplicate_and_reordered_datagrams() -> None:
    source = MoticonUdpSource(MoticonOptions(timestamp_unit_s=1.0))
    timeline = source.new_timeline(source.capture_params(), reorder_window_s=0.1)
    times = [100.00, 100.01, 100.03, 100.02, 100.02, 100.05]  # 100.04 lost, 100.02 reordered and repeated
    decoded = source.decode("left", _items(times, [0.1 * k for k in range(6)]), timeline)
    block = timeline.drain(10.0, final=True)
    assert block is not None
    assert block.device_us.tolist() == [100_000_000 + 10_000 * k for k in range(6)]
    assert block.valid.tolist() == [True, True, True, True, False, True]
    assert np.isnan(block.values_kpa[4]).all()
    counts = timeline.counts
    assert (counts.packets_sent, counts.packets_received, counts.duplicates, counts.reordered) == (6, 5, 1, 1)
    assert decoded.last_sample_us.size == 6 and decoded.malformed == 0


def test_timestamps_off_the_rate_are_counted() -> None:
    source = MoticonUdpSource(MoticonOptions(timestamp_unit_s=1.0))
    timeline = source.new_timeline(source.capture_params(), reorder_window_s=0.1)
    # 10 ms steps, two of them stamped 3 ms off their slot (more than a quarter period), one 2 ms off (less)
    times = [10.000, 10.010, 10.023, 10.030, 10.037, 10.052]
    source.decode("left", _items(times, [0.01 * k for k in range(6)]), timeline)
    assert source.quality_facts()["timestamps_off_grid"] == {"left": 2}


def test_a_clock_that_restarts_opens_a_new_stream_after_the_old_one() -> None:
    source = MoticonUdpSource(MoticonOptions(timestamp_unit_s=1.0))
    timeline = source.new_timeline(source.capture_params(), reorder_window_s=0.1)
    # 3 samples at t=50 s, then the desktop restarts its clock at 0, 0.5 s (host) later
    source.decode("left", _items([50.00, 50.01, 50.02, 0.00, 0.01], [0.0, 0.01, 0.02, 0.52, 0.53]), timeline)
    block = timeline.drain(10.0, final=True)
    assert block is not None and timeline.counts.streams == 2
    assert source.decode_state["left"].clock_restarts == 1
    assert np.all(np.diff(block.device_us) > 0)
    # the new stream continues 0.5 s (the host's elapsed time) after the last sample; the time between is a gap
    assert block.device_us[-2] == 50_020_000 + 500_000 and block.valid.sum() == 5
    assert (~block.valid).sum() == 49


# ---------------------------------------------------------------------------------------------- recordings


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _record(replayer: MoticonReplayer, out: Path, *, tail_s: float = 0.3, **options: object) -> dict:
    session = capture_session(
        "moticon", out, source_options={"udp_port": replayer.port, **options}, speed=replayer.speed
    )
    assert isinstance(session, SourceSession)

    async def replay_then_stop() -> None:
        await replayer.run()
        await asyncio.sleep(tail_s)
        session.request_stop()

    task = asyncio.create_task(replay_then_stop())
    try:
        result = await session.run()
    finally:
        await task
    return result.quality


def _take(foot: FootSamples, keep: np.ndarray) -> FootSamples:
    assert foot.accel_g is not None and foot.gyro_dps is not None
    return FootSamples(
        time_s=foot.time_s[keep], values=foot.values[keep], valid=foot.valid[keep], accel_g=foot.accel_g[keep],
        gyro_dps=foot.gyro_dps[keep], channels={name: channel[keep] for name, channel in foot.channels.items()},
    )  # fmt: skip


def _compare(out: Path, export: Path, replayer: MoticonReplayer, *, max_slew: float = 0.0) -> dict[str, int]:
    """Every slot of the file against the export (module docstring); returns counts for the caller.

    ``max_slew``: a finished file is timed by one clock fit, so consecutive slots are one 10 ms period
    apart times the fit's slope, which is clamped to 1 +/- 1000 ppm. A file recovered from the stream
    keeps the online times, which slew by up to 5 % of the elapsed time when the fit improves
    (``TimeAxis``) on top of that slope: the two bounds multiply.
    """
    recording = read_parquet(out)
    reference = load(export)
    assert recording.layout.name == "moticon16" and recording.unit == "kPa"
    first_row = replayer.first_row
    ref_keys = np.rint(reference.samples("left").time_s * 100).astype(np.int64)
    row_of = {int(k): i for i, k in enumerate(ref_keys)}
    dropped_keys = {int(ref_keys[first_row + r]) for r in replayer.dropped}
    counts = {}
    times = {}
    last_key = int(ref_keys[first_row + len(replayer.rows.time_s) - 1])
    for side in ("left", "right"):
        whole = recording.samples(side)
        keys = np.rint(whole.channels["device_time_s"] * 100).astype(np.int64)
        assert np.all(np.diff(keys) == 1), "one slot per 10 ms of the desktop's clock, none skipped or repeated"
        # after the replay's last row the stream is silent: slots there are the link being down at the stop
        after = keys > last_key
        assert not whole.valid[after].any()
        counts[f"{side}_after_end"] = int(after.sum())
        foot, ref = _take(whole, ~after), reference.samples(side)
        keys = keys[~after]
        in_export = np.array([int(k) in row_of for k in keys])
        rows = np.array([row_of.get(int(k), -1) for k in keys])
        was_dropped = np.array([int(k) in dropped_keys for k in keys])
        expected_valid = in_export & ~was_dropped
        expected_valid[in_export] &= ref.valid[rows[in_export]]
        assert foot.valid.tolist() == expected_valid.tolist()
        valid_rows = rows[foot.valid]
        assert foot.accel_g is not None and foot.gyro_dps is not None
        assert ref.accel_g is not None and ref.gyro_dps is not None
        np.testing.assert_array_equal(foot.values[foot.valid], ref.values[valid_rows])
        np.testing.assert_array_equal(foot.accel_g[foot.valid], ref.accel_g[valid_rows])
        np.testing.assert_array_equal(foot.gyro_dps[foot.valid], ref.gyro_dps[valid_rows])
        for name in ("vendor_total_force_n", "vendor_cop_x_norm", "vendor_cop_y_norm"):
            np.testing.assert_array_equal(foot.channels[name][foot.valid], ref.channels[name][valid_rows])
        assert np.isnan(foot.values[~foot.valid]).all()
        # the gaps: exactly the dropped rows, the export's own missing samples, and this foot's empty rows
        gaps = set(keys[~foot.valid].tolist())
        span = set(range(int(keys[0]), int(keys[-1]) + 1))
        assert gaps == (dropped_keys & span) | (span - set(row_of)) | {
            int(ref_keys[i]) for i in np.flatnonzero(~ref.valid) if int(ref_keys[i]) in span
        }
        counts[side] = int(foot.valid.sum())
        times[side] = foot.time_s
        # the slots are on the desktop's clock: spacing 10 ms within the drift clamp (1000 ppm) and the slew
        max_drift = 1000e-6
        spacing = np.diff(foot.time_s)
        assert np.all(spacing >= 0.01 * (1 - max_slew) / (1 + max_drift) - 1e-9)
        assert np.all(spacing <= 0.01 * (1 + max_slew) / (1 - max_drift) + 1e-9)
        counts[f"{side}_first_row"] = row_of[int(keys[0])] - first_row
        counts[f"{side}_last_row"] = row_of[int(keys[-1])] - first_row
    np.testing.assert_array_equal(times["left"], times["right"])  # one timestamp, one clock, both feet
    return counts


@pytest.mark.realdata
def test_replayed_export_with_drops_duplicates_and_reordering_is_recorded_sample_by_sample(tmp_path: Path) -> None:
    drops, duplicates, swaps = [400, 401, 402, 700, 1103], [500, 900], [600, 1000]
    replayer = MoticonReplayer(NORMAL, _free_port(), speed=5.0, first_row=50, n_rows=1300,
                               drops=drops, duplicates=duplicates, swaps=swaps)  # fmt: skip
    out = tmp_path / "moticon.parquet"
    quality = asyncio.run(_record(replayer, out))
    counts = _compare(out, NORMAL, replayer)
    assert counts["left_first_row"] < 300, "the recording started before the first fault (timing of this test)"
    assert counts["left_last_row"] == 1299
    for side in ("left", "right"):
        foot = quality["feet"][side]
        assert foot["packets_sent"] - foot["packets_received"] == len(drops)
        assert foot["duplicates"] == len(duplicates) and foot["reordered"] == len(swaps)
        assert foot["late_packets"] == 0 and foot["malformed_packets"] == 0 and foot["streams"] == 1
    assert quality["source"]["name"] == "moticon" and quality["source"]["clock_restarts"] == {"left": 0, "right": 0}
    meta = read_parquet(out).meta
    assert meta.source["transport"].startswith("UDP") and meta.software["moticon_udp"]["timestamp_unit"] == "s"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", replayer.port))  # the session let go of its port


@pytest.mark.realdata
def test_a_drop_out_is_a_link_loss_and_the_stream_resumes_as_a_reconnect(tmp_path: Path) -> None:
    # 3 s of the export are not sent; at 5x a 0.2 s (wall) silence is a link loss (1 s of the desktop's clock)
    replayer = MoticonReplayer(FAST, _free_port(), speed=5.0, first_row=0, n_rows=900, pause=(500, 3.0),
                               drops=[850], duplicates=[860], swaps=[870])  # fmt: skip
    out = tmp_path / "pause.parquet"
    # the stream also goes silent after the replay: 1 s later that is a second link loss, down until the stop
    quality = asyncio.run(_record(replayer, out, tail_s=1.0, stall_timeout_s=0.2))
    paused = sorted(replayer.dropped - {850})
    assert len(paused) > 250 and paused == list(range(500, 500 + len(paused)))
    counts = _compare(out, FAST, replayer)
    times = replayer.rows.time_s
    # slots between the last sample before the drop-out and the first after it: the time the link was down
    down = round((times[paused[-1] + 1] - times[paused[0] - 1]) * 100) - 1
    for side in ("left", "right"):
        foot = quality["feet"][side]
        assert (foot["link_losses"], foot["stalls"], foot["reconnects"], foot["streams"]) == (2, 2, 1, 2)
        assert foot["link_down_samples"] == down + counts[f"{side}_after_end"]
        assert foot["packets_sent"] - foot["packets_received"] == 1  # the drop at row 850; the drop-out is a link gap


@pytest.mark.realdata
@pytest.mark.slow
def test_real_rate_replay_with_every_fault(tmp_path: Path) -> None:
    # 12 s of the export at its real rate: drops, a duplicate, a reordering, and a 1.5 s drop-out (a link loss
    # after the default 1 s of silence)
    replayer = MoticonReplayer(NORMAL, _free_port(), first_row=300, n_rows=1200, drops=[400, 650], duplicates=[450],
                               swaps=[500], pause=(800, 1.5))  # fmt: skip
    out = tmp_path / "real-rate.parquet"
    quality = asyncio.run(_record(replayer, out))
    counts = _compare(out, NORMAL, replayer)
    assert counts["left_first_row"] < 400 and counts["left_last_row"] == 1199
    for side in ("left", "right"):
        foot = quality["feet"][side]
        assert (foot["link_losses"], foot["reconnects"], foot["streams"]) == (1, 1, 2)
        assert foot["packets_sent"] - foot["packets_received"] == 2  # rows 400 and 650; the drop-out is a link gap
        assert (foot["duplicates"], foot["reordered"], foot["late_packets"]) == (1, 1, 0)
        assert not foot["clock"]["drift_at_limit"]


@pytest.mark.realdata
def test_millisecond_timestamps_the_live_hub_and_the_crash_safe_stream(tmp_path: Path) -> None:
    from insole.capture import LiveHub, SampleBlock
    from insole.io import read_stream

    replayer = MoticonReplayer(FAST, _free_port(), speed=5.0, first_row=0, n_rows=700, time_unit_s=1e-3, drops=[600])
    out = tmp_path / "ms.parquet"
    hub = LiveHub()
    queue = hub.subscribe()
    session = capture_session("moticon", out, source_options={"udp_port": replayer.port}, speed=5.0, hub=hub)
    seen_midway: list[int] = []

    async def replay_then_stop() -> None:
        sending = asyncio.create_task(replayer.run())
        await asyncio.sleep(0.8)  # wall: about 4 s of the export, past the start of the recording
        recording, info = read_stream(session.stream_path)  # what 'insole recover' would find after a crash now
        assert recording.layout.name == "moticon16" and not info["closed"]
        seen_midway.append(recording.samples("left").n_samples)
        await sending
        await asyncio.sleep(0.3)
        session.request_stop()

    async def run() -> None:
        task = asyncio.create_task(replay_then_stop())
        try:
            await session.run()
        finally:
            await task

    asyncio.run(run())
    _compare(out, FAST, replayer)
    assert seen_midway and seen_midway[0] > 100
    blocks = []
    while not queue.empty():
        item = queue.get_nowait()
        if isinstance(item, SampleBlock) and item.side == "left":
            blocks.append(item)
    assert blocks and all(b.unit == "kPa" and b.values.shape[1] == 16 and b.accel_g is not None for b in blocks)
    foot = read_parquet(out).samples("left")
    assert sum(int(b.valid.sum()) for b in blocks) == int(foot.valid.sum())  # the live page saw every sample
    assert read_parquet(out).meta.software["moticon_udp"]["timestamp_unit"] == "ms"


def _session(out: Path, port: int, stall_timeout_s: float = 0.1, **options: object) -> SourceSession:
    from insole.capture._sources._moticon_udp import MoticonCaptureParams

    source = MoticonUdpSource(MoticonOptions(port=port, **options))  # type: ignore[arg-type]
    params = MoticonCaptureParams(connect_timeout_s=0.3, reconnect_backoff_s=(0.05,), stall_timeout_s=stall_timeout_s)
    return SourceSession(out / "never.parquet", source=source, params=params)


@pytest.mark.realdata
def test_a_silence_longer_than_the_connect_timeout_still_resumes(tmp_path: Path) -> None:
    # waiting for the stream to resume gives up after 0.3 s and tries again (failed attempts) while the
    # socket keeps listening; the stream that resumes 1.5 s later is recorded
    replayer = MoticonReplayer(NORMAL, _free_port(), first_row=100, n_rows=350, pause=(120, 1.5), drops=[300])
    # the stream counts as lost after 0.5 s of silence: with 0.1 s, a busy machine's own stall between two
    # packets (seen in a parallel test run beside a browser) was a second loss, and the count below is exact
    session = _session(tmp_path, replayer.port, stall_timeout_s=0.5)

    async def run() -> None:
        async def replay_then_stop() -> None:
            await replayer.run()
            await asyncio.sleep(0.05)
            session.request_stop()

        task = asyncio.create_task(replay_then_stop())
        try:
            await session.run()
        finally:
            await task

    asyncio.run(run())
    quality = session.quality(final=True)
    _compare(session.out, NORMAL, replayer)
    for side in ("left", "right"):
        foot = quality["feet"][side]
        assert foot["failed_connection_attempts"] >= 2 and foot["reconnects"] == 1 and foot["streams"] == 2


def test_no_stream_is_one_clear_error(tmp_path: Path) -> None:
    port = _free_port()
    with pytest.raises(DeviceError, match=rf"udp://127\.0\.0\.1:{port}.*OpenGo desktop software streaming"):
        asyncio.run(_session(tmp_path, port).run())


def test_a_port_already_taken_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(DeviceError, match=rf"cannot listen on udp://127\.0\.0\.1:{port}"):
            asyncio.run(_session(tmp_path, port).run())


@pytest.mark.realdata
def test_a_stream_at_another_rate_than_configured_is_refused(tmp_path: Path) -> None:
    replayer = MoticonReplayer(NORMAL, _free_port(), speed=5.0, n_rows=200)

    async def run() -> None:
        sending = asyncio.create_task(replayer.run())
        try:
            await _session(tmp_path, replayer.port, sample_rate_hz=50).run()
        finally:
            await sending

    with pytest.raises(DeviceError, match="not one sample at 50 Hz"):
        asyncio.run(run())


def test_options_are_checked_and_an_ipv6_address_is_written_as_in_a_url() -> None:
    assert MoticonOptions().address == "udp://127.0.0.1:8888"
    assert MoticonOptions(host="::1", port=9000).address == "udp://[::1]:9000"
    for bad in ({"port": 0}, {"port": 70000}, {"sample_rate_hz": 30}, {"timestamp_unit_s": 0.01}):
        with pytest.raises(ValueError):
            MoticonOptions(**bad)  # type: ignore[arg-type]


def test_the_source_factory() -> None:
    assert type(capture_session("insole", "a.parquet")) is CaptureSession  # today's collector, as it was
    assert isinstance(capture_session("moticon", "a.parquet", source_options={"udp_port": 9999}), SourceSession)
    with pytest.raises(DeviceError, match=r"--source nosuch is not available .*available: insole, moticon, orphe"):
        capture_session("nosuch", "a.parquet")
    with pytest.raises(ValueError, match="takes no source options"):
        capture_session("insole", "a.parquet", source_options={"udp_port": 9999})


@pytest.mark.realdata
def test_the_live_page_draws_a_moticon_capture(tmp_path: Path) -> None:
    """What ``insole live --source moticon`` serves: the moticon16 layout, then pressure maps and load curves."""
    import json

    aiohttp = pytest.importorskip("aiohttp")
    from dashboards import LiveServer
    from insole.capture import LiveHub
    from insole.capture._sources import layout_for_source

    hub = LiveHub()
    server = LiveServer(hub, layout=layout_for_source("moticon"), unit="kPa", sample_rate_hz=100, port=0)
    replayer = MoticonReplayer(NORMAL, _free_port(), speed=5.0, first_row=100, n_rows=800)
    session = capture_session("moticon", tmp_path / "live.parquet", source_options={"udp_port": replayer.port},
                              speed=5.0, hub=hub)  # fmt: skip
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
                    if any(v is not None for v in foot.get("load", [])):
                        seen[f"{side}_load"] = True
                if {"left_map", "right_map", "left_load", "right_load"} <= set(seen):
                    return

    async def run() -> None:
        url = await server.start()
        watcher = asyncio.create_task(asyncio.wait_for(watch(url), 20))

        async def replay_then_stop() -> None:
            await replayer.run()
            await asyncio.sleep(0.3)
            session.request_stop()

        sender = asyncio.create_task(replay_then_stop())
        try:
            await session.run()
            await watcher
        finally:
            await sender
            await server.stop()

    asyncio.run(run())
    layout = seen["layout"]
    assert isinstance(layout, dict) and layout["name"] == "moticon16" and layout["n_sensors"] == 16
    assert isinstance(seen["left_map"], list) and len(seen["left_map"]) == 16 and len(seen["right_map"]) == 16


@pytest.mark.realdata
def test_a_capture_killed_midway_is_recovered_with_its_samples(tmp_path: Path) -> None:
    """A Moticon capture killed with SIGKILL is recovered from its stream, every sample it had equal to the export."""
    import subprocess
    import sys
    import time

    from insole.io import recover

    port = _free_port()
    out = tmp_path / "killed.parquet"
    script = (
        "import asyncio\n"
        "from insole.capture._sources import record_moticon\n"
        f"asyncio.run(record_moticon({str(out)!r}, port={port}, speed=5.0))\n"
    )
    capture = subprocess.Popen([sys.executable, "-c", script])
    replayer = MoticonReplayer(NORMAL, port, speed=5.0, first_row=0, n_rows=1500, drops=[700, 701], lead_in_s=3.0)
    try:
        replayer.run_blocking()  # the capture is killed while it is still recording, right after the last datagram
        time.sleep(1.0)  # the samples reach the stream within about twice the flush interval (0.25 s)
    finally:
        capture.kill()
        capture.wait()
    stream = out.with_name("killed.arrows")
    assert stream.exists() and not out.exists()
    recovered = recover(stream)
    recording = read_parquet(recovered)
    assert recording.layout.name == "moticon16"
    assert recording.meta.extra["recovered_from_stream"]["rows"] > 0
    counts = _compare(recovered, NORMAL, replayer, max_slew=0.05)
    assert counts["left_last_row"] > 1400  # nearly everything sent before the kill is in the stream


@pytest.mark.realdata
def test_one_foot_only(tmp_path: Path) -> None:
    from insole.capture import InsoleSelector

    replayer = MoticonReplayer(FAST, _free_port(), speed=5.0, first_row=100, n_rows=400, drops=[300])
    out = tmp_path / "left.parquet"
    session = capture_session("moticon", out, source_options={"udp_port": replayer.port}, speed=5.0,
                              selectors={"left": InsoleSelector("left")})  # fmt: skip

    async def run() -> None:
        async def replay_then_stop() -> None:
            await replayer.run()
            await asyncio.sleep(0.3)
            session.request_stop()

        task = asyncio.create_task(replay_then_stop())
        try:
            await session.run()
        finally:
            await task

    asyncio.run(run())
    recording = read_parquet(out)
    assert recording.sides == ("left",)
    reference = load(FAST)
    foot, ref = recording.samples("left"), reference.samples("left")
    rows = np.rint(foot.channels["device_time_s"] * 100).astype(np.int64)  # this export has no missing rows
    assert foot.valid.tolist() == [bool(ref.valid[r]) and r != 400 for r in rows.tolist()]
    np.testing.assert_array_equal(foot.values[foot.valid], ref.values[rows[foot.valid]])


@pytest.mark.realdata
def test_insole_record_source_moticon_from_the_command_line(tmp_path: Path) -> None:
    """The acceptance run as a user types it: ``insole record --source moticon`` beside a replayer.

    The replay (real rate, 10 s of the export, with drops, a duplicate and a reordering) starts
    after the command is listening and ends before its ``--duration`` does, so every replayed
    row must be in the file, equal to the export, and the dropped rows exactly its gaps.
    """
    import subprocess
    import sys
    import threading
    import time

    port = _free_port()
    out = tmp_path / "m.parquet"
    replayer = MoticonReplayer(NORMAL, port, speed=1.0, first_row=100, n_rows=1000,
                               drops=[200, 201, 650], duplicates=[300], swaps=[400], lead_in_s=0.5)  # fmt: skip
    command = [sys.executable, "-m", "insole", "record", "--source", "moticon", "--udp-port", str(port),
               "--duration", "14", "--yes", "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    started = time.monotonic()
    # the replay starts once the command says it listens (its socket is bound), as a user would start the desktop
    while "Listening for the Moticon OpenGo stream" not in process.stdout.readline():
        assert process.poll() is None and time.monotonic() - started < 60, "the command never listened"
    sender = threading.Thread(target=replayer.run_blocking)
    sender.start()
    try:
        _, stderr = process.communicate(timeout=90)
    finally:
        sender.join()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    counts = _compare(out, NORMAL, replayer)
    # the link is up once 8 datagrams have shown the timestamp unit and both feet are ready (docs/source-moticon.md):
    # the file starts a few rows into the replay (12 measured here); from there on, every row (_compare checks)
    assert counts["left_first_row"] < 50 and counts["left_last_row"] == 999
    quality = read_parquet(out).meta.capture_quality
    assert quality is not None
    for side in ("left", "right"):
        foot = quality["feet"][side]
        assert foot["packets_sent"] - foot["packets_received"] == 3
        assert foot["duplicates"] == 1 and foot["reordered"] == 1

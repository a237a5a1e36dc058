"""Sequence accounting and slot assembly (pure, no BLE): exact expectations."""

from __future__ import annotations

import numpy as np
import pytest

from insole.capture._sequence import SEQUENCE_MODULUS, Arrival, SequenceTracker, unwrap_sequence
from insole.capture._timeline import FootTimeline


def test_unwrap_takes_nearest_candidate_across_the_wrap():
    top = SEQUENCE_MODULUS - 2
    assert unwrap_sequence(3, top) == SEQUENCE_MODULUS + 3
    assert unwrap_sequence(top - 5, top) == top - 5
    assert unwrap_sequence(5, 9) == 5
    assert unwrap_sequence(SEQUENCE_MODULUS - 1, 0) == -1  # "before" the stream


def test_tracker_counts_gaps_duplicates_reorders_exactly():
    tracker = SequenceTracker(window=64)
    arrivals = [tracker.observe(s)[0] for s in [0, 1, 2, 5, 3, 3, 6, 9, 0]]
    assert arrivals == [
        Arrival.NEW, Arrival.NEW, Arrival.NEW, Arrival.NEW, Arrival.REORDERED,
        Arrival.DUPLICATE, Arrival.NEW, Arrival.NEW, Arrival.DUPLICATE,
    ]
    counts = tracker.counts
    assert (counts.sent, counts.received, counts.duplicates, counts.reordered) == (10, 7, 2, 1)
    assert counts.lost == 3  # 4, 7, 8


def test_tracker_across_the_uint32_wrap():
    tracker = SequenceTracker(window=16)
    start = SEQUENCE_MODULUS - 3
    # a stream that (hypothetically) began near the top: first packet sets the base
    tracker.highest = start - 1
    for s in [start, start + 1, start + 2, 0, 1, 3]:
        tracker.observe(s % SEQUENCE_MODULUS)
    assert tracker.highest == SEQUENCE_MODULUS + 3
    assert tracker.counts.received == 6


def test_tracker_window_marks_very_old_packets_stale():
    tracker = SequenceTracker(window=8)
    for s in range(20):
        tracker.observe(s)
    assert tracker.observe(5)[0] is Arrival.STALE
    assert tracker.observe(15)[0] is Arrival.DUPLICATE
    assert tracker.counts.stale == 1


def test_ring_is_cleared_when_the_number_jumps_past_the_window():
    tracker = SequenceTracker(window=8)
    tracker.observe(0)
    tracker.observe(1)
    tracker.observe(100)  # 98 lost
    # 96 is within the window of 100 and was never seen: reordered, not duplicate
    assert tracker.observe(96)[0] is Arrival.REORDERED
    assert tracker.counts.lost == 101 - 4


# --------------------------------------------------------------------------- timeline


def codes(index: int, n: int = 1) -> np.ndarray:
    """Pressure codes whose value tells the sample: every sensor = sample index."""
    return np.repeat(np.arange(index * n, index * n + n, dtype=np.uint16)[:, None], 16, axis=1)


def test_timeline_places_lost_packets_as_invalid_slots_on_the_grid():
    timeline = FootTimeline(100, reorder_window_s=0.0)
    timeline.start_stream(2)
    t0 = 5_000_000
    for seq in [0, 1, 3, 4]:  # packet 2 lost
        timeline.add(seq, t0 + seq * 2 * 10_000, codes(seq, 2), None, arrival_s=1.0)
    block = timeline.drain(now_s=2.0)
    assert block is not None
    assert block.device_us.tolist() == [t0 + k * 10_000 for k in range(10)]
    assert block.valid.tolist() == [True] * 4 + [False] * 2 + [True] * 4
    assert np.isnan(block.values_kpa[4:6]).all()
    np.testing.assert_array_equal(block.values_kpa[[0, 3, 6, 9], 0], np.float32([0, 0.3, 0.6, 0.9]))
    counts = timeline.counts
    assert (counts.packets_sent, counts.packets_received, counts.packets_lost) == (5, 4, 1)


def test_timeline_waits_for_reordered_packets_within_the_window():
    timeline = FootTimeline(100, reorder_window_s=0.5)
    timeline.start_stream(1)
    timeline.add(0, 0, codes(0), None, 1.0)
    timeline.add(2, 20_000, codes(2), None, 1.1)
    assert timeline.drain(now_s=1.55).device_us.tolist() == [0]  # 2 has not waited long enough
    timeline.add(1, 10_000, codes(1), None, 1.2)  # overtaken packet arrives
    block = timeline.drain(now_s=1.8)
    assert block.device_us.tolist() == [10_000, 20_000] and block.valid.all()
    assert timeline.counts.reordered == 1


def test_packet_arriving_after_its_slot_was_written_is_late_and_stays_a_gap():
    timeline = FootTimeline(100, reorder_window_s=0.0)
    timeline.start_stream(1)
    timeline.add(0, 0, codes(0), None, 0.0)
    timeline.add(2, 20_000, codes(2), None, 0.0)
    assert timeline.drain(1.0).valid.tolist() == [True, False, True]
    timeline.add(1, 10_000, codes(1), None, 1.0)
    assert timeline.drain(2.0) is None
    counts = timeline.counts
    assert counts.packets_late == 1 and counts.packets_lost == 1


def test_duplicates_are_counted_and_written_once():
    timeline = FootTimeline(200, reorder_window_s=0.0)
    timeline.start_stream(1)
    for seq in [0, 1, 1, 2]:
        timeline.add(seq, seq * 5_000, codes(seq), None, 0.0)
    block = timeline.drain(1.0)
    assert block.n_slots == 3 and block.valid.all()
    assert timeline.counts.duplicates == 1


def test_new_stream_after_link_loss_fills_exactly_the_down_time_with_invalid_slots():
    timeline = FootTimeline(100, reorder_window_s=0.0)
    timeline.start_stream(1)
    for seq in range(5):
        timeline.add(seq, 1_000_000 + seq * 10_000, codes(seq), None, 0.0)
    timeline.drain(0.1)
    # link lost after packet 4 (device 1.04 s); reconnected, the insole restarts at
    # device 1.5053 s (not on the old grid) and numbers from 0 again
    timeline.start_stream(1)
    for seq in range(3):
        timeline.add(seq, 1_505_300 + seq * 10_000, codes(100 + seq), None, 1.0)
    block = timeline.drain(2.0)
    # old grid 1.05 .. 1.50 s (46 slots; 1.50 s is more than half a period before
    # 1.5053 s) invalid, then the new stream's 3 samples
    assert block.n_slots == 46 + 3
    assert block.device_us[0] == 1_050_000 and block.device_us[45] == 1_500_000
    assert not block.valid[:46].any() and block.valid[46:].all()
    assert block.device_us[46:].tolist() == [1_505_300, 1_515_300, 1_525_300]
    assert np.all(np.diff(block.device_us) > 0)
    assert timeline.link_gap_slots == 46
    counts = timeline.counts
    assert (counts.streams, counts.packets_sent, counts.packets_lost) == (2, 8, 0)


def test_first_packets_of_a_stream_lost_are_gaps_from_slot_zero():
    timeline = FootTimeline(50, reorder_window_s=0.0)
    timeline.start_stream(1)
    timeline.add(3, 60_000 + 3 * 20_000, codes(3), None, 0.0)
    block = timeline.drain(1.0)
    assert block.device_us.tolist() == [60_000, 80_000, 100_000, 120_000]
    assert block.valid.tolist() == [False, False, False, True]


def test_timestamp_disagreeing_with_the_sequence_is_counted():
    timeline = FootTimeline(100, reorder_window_s=0.0)
    timeline.start_stream(1)
    timeline.add(0, 0, codes(0), None, 0.0)
    timeline.add(1, 10_000, codes(1), None, 0.0)
    timeline.add(2, 27_000, codes(2), None, 0.0)  # 7 ms off the grid
    timeline.drain(1.0)
    assert timeline.counts.timestamp_mismatches == 1


def test_saturated_codes_are_nan_but_valid_and_flagged():
    timeline = FootTimeline(100, reorder_window_s=0.0)
    timeline.start_stream(1)
    packet = codes(0).copy()
    packet[0, 13] = 0xFFFF
    timeline.add(0, 0, packet, None, 0.0)
    block = timeline.drain(1.0)
    assert block.valid.tolist() == [True]
    assert np.isnan(block.values_kpa[0, 13]) and block.saturated[0, 13]
    assert block.saturated.sum() == 1


def test_imu_values_are_scaled_to_g_and_dps():
    timeline = FootTimeline(100, imu=True, reorder_window_s=0.0)
    timeline.start_stream(1)
    timeline.add(0, 0, codes(0), np.array([[0, 0, 1000, -150, 0, 25]], np.int16), 0.0)
    timeline.add(2, 20_000, codes(2), np.array([[1, 2, 3, 4, 5, 6]], np.int16), 0.0)
    block = timeline.drain(1.0)
    np.testing.assert_allclose(block.accel_g[0], [0, 0, 1.0])
    np.testing.assert_allclose(block.gyro_dps[0], [-15.0, 0, 2.5])
    assert np.isnan(block.accel_g[1]).all()


def test_pad_until_marks_a_link_down_at_session_end():
    timeline = FootTimeline(100, reorder_window_s=0.0)
    timeline.start_stream(1)
    timeline.add(0, 0, codes(0), None, 0.0)
    timeline.drain(1.0)
    block = timeline.pad_until(50_000)
    assert block.device_us.tolist() == [10_000, 20_000, 30_000, 40_000, 50_000]
    assert not block.valid.any()


def test_period_must_be_whole_microseconds():
    with pytest.raises(ValueError):
        FootTimeline(300)

"""Memory that does not grow with a contact's or a gap's length (a new user's hour with dropouts ran out of 24 GB).

Event detection reads some per-contact intervals as the rows of one array as wide as the longest interval. A
standing spell among steps, or a contact that begins in a gap (whose heel-strike search once started at the
recording's first sample), widened every row: an hour with a 0.3 s dropout every 20 s asked for a
(3231, 358610) array. These tests pin the two mends by traced memory (deterministic, not timed) and by the same
answers as before where the old way fitted in memory.
"""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest

from insole.analysis import AnalysisParams, detect_events
from insole.analysis import _segments as segments
from insole.simulate import SimulationParams, simulate

# What the hour's event detection may hold beyond its inputs: its own per-sample arrays (a few tens of MB for
# 360,000 samples) and interval arrays of at most segments._WINDOW_ELEMENTS elements (32 MiB). Before the mends
# it was 434 MB (dropouts) and over 1 GB (standing) for the same hour.
EVENTS_BUDGET_BYTES = 150 * 2**20


def _traced_peak(work) -> tuple[object, int]:
    tracemalloc.start()
    try:
        found = work()
        return found, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_argmax_over_a_few_long_intervals_among_many_short_ones_stays_small() -> None:
    n = 400_000
    values = np.sin(np.arange(n) / 37.0) + np.arange(n) % 11 * 1e-3
    starts = np.arange(3000, dtype=np.int64) * 120
    stops = starts + 60
    starts[::300], stops[::300] = 0, n  # ten intervals over the whole signal
    found, peak = _traced_peak(lambda: segments.interval_argmax(values, starts, stops))
    assert peak < 64 * 2**20  # read at once it is 3000 x 400,000 float64: 9.6 GB
    expected = np.array([a + int(np.argmax(values[a:b])) for a, b in zip(starts, stops)])
    np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize("seed", range(40))
def test_argmax_in_groups_is_argmax_at_once(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # the grouping must not change an index: NaN, -inf, empty intervals and NaN-only intervals included
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 3000))
    values = rng.normal(size=n)
    values[rng.random(n) < 0.2 * (seed % 2)] = np.nan
    values[rng.integers(0, n, 3)] = -np.inf
    at = int(rng.integers(0, n - 20))
    values[at:at + 15] = np.nan
    m = int(rng.integers(2, 60))
    starts = rng.integers(0, n, m)
    lengths = rng.integers(0, 40, m)
    long = rng.random(m) < 0.1
    lengths[long] = rng.integers(0, n, int(long.sum()))
    starts[0], lengths[0] = at, 10  # NaN only
    stops = np.minimum(starts + lengths, n)
    at_once = segments.interval_argmax(values, starts, stops)
    monkeypatch.setattr(segments, "_WINDOW_ELEMENTS", int(rng.integers(1, 200)))
    np.testing.assert_array_equal(segments.interval_argmax(values, starts, stops), at_once)


def _hour_with(change: str):
    params = SimulationParams(duration_s=3600.0, seed=5, layout="insole16",
                              sample_rate_hz=100.0, standing_s=1500.0 if change == "standing" else 0.0, imu=False)
    recording = simulate(params)
    foot = recording.samples("left")
    if change == "dropouts":  # 0.3 s lost every 20 s, as a Bluetooth link drops packets
        valid = np.array(foot.valid)
        values = np.array(foot.values)
        lost = (np.arange(valid.size) % 2000) < 30
        valid[lost] = False
        values[lost] = np.nan
        foot = dataclasses.replace(foot, values=values, valid=valid)
    return foot, np.asarray(recording.reference_events.heel_strike_s["left"])


@pytest.mark.parametrize("change", ["dropouts", "standing"])
def test_an_hour_with_dropouts_or_long_standing_detects_events_in_bounded_memory(change: str) -> None:
    foot, placed_s = _hour_with(change)
    force = np.where(np.array(foot.valid), np.nansum(np.array(foot.values, dtype=np.float64), axis=1), np.nan)
    valid = np.array(foot.valid)
    time_s = np.array(foot.time_s)
    contacts, peak = _traced_peak(lambda: detect_events(force, 100.0, AnalysisParams(), valid=valid, time_s=time_s,
                                                       method="level", calibrated=False))
    assert peak < EVENTS_BUDGET_BYTES, f"{peak / 2**20:.0f} MiB"
    found_s = time_s[contacts.heel_strike_index[contacts.heel_strike_index >= 0]]
    # the walk's heel strikes are still found: every placed one within 50 ms, but those lost in a dropout (its
    # contact begins in the gap: 30 of every 2,000 samples, so a few percent)
    near = np.abs(placed_s[:, None] - found_s[None, :]).min(axis=1) <= 0.05
    assert near.mean() >= (0.95 if change == "dropouts" else 0.99), f"{near.sum()} of {placed_s.size}"


def test_quick_switching_restores_the_interval_and_never_leaves_it_lowered() -> None:
    # the streamed analysis lowers the process's switch interval while pandas is imported beside its first pass;
    # two such blocks at once (two threads analysing files) must not leave it lowered for good
    import sys

    from insole._lazy import SWITCH_WHILE_IMPORTING_S, quick_switching

    before = sys.getswitchinterval()
    assert before > SWITCH_WHILE_IMPORTING_S
    with quick_switching():
        assert sys.getswitchinterval() == SWITCH_WHILE_IMPORTING_S
        with quick_switching():  # another thread's block, entered meanwhile: leaves it alone
            assert sys.getswitchinterval() == SWITCH_WHILE_IMPORTING_S
        assert sys.getswitchinterval() == SWITCH_WHILE_IMPORTING_S
    assert sys.getswitchinterval() == before

"""The event detector's handling of lost samples, made without per-sample arrays, gives the per-sample forms' results.

Speed work (issue 19): the short gaps are bridged by one index per gap sample (not a per-sample "last valid
sample" array and two painted float arrays), and the valid runs are low-passed in place with the filter looked up
once. Both must equal the forms they replaced to the last bit.
"""

from __future__ import annotations

import numpy as np

from insole.analysis._events import _bridge_short_gaps, lowpass_by_segment
from insole.analysis._filters import butter_lowpass_sos, zero_phase
from insole.analysis._segments import last_true_at_or_before, runs


def _bridged_per_sample(smoothed: np.ndarray, valid: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """The bridging as it was: masks of every sample in a short and in a long gap, and each sample's last valid one."""
    filled = smoothed.copy()
    starts, stops = runs(~valid)
    in_short = np.zeros(valid.size, dtype=bool)
    long_gap = np.zeros(valid.size, dtype=bool)
    for start, stop in zip(starts.tolist(), stops.tolist()):
        if stop - start <= max_gap and start > 0:
            in_short[start:stop] = True
        else:
            long_gap[start:stop] = True
    filled[in_short] = smoothed[last_true_at_or_before(valid)[in_short]]
    return filled, long_gap


def test_short_gaps_bridged_as_by_the_per_sample_form() -> None:
    rng = np.random.default_rng(47)
    for trial in range(3000):
        n = int(rng.integers(1, 80))
        valid = rng.random(n) < rng.uniform(0.2, 1.0)
        if trial % 3 == 0:  # a few lost packets in a long run of valid samples
            valid[:] = True
            valid[rng.integers(0, n, size=int(rng.integers(1, 4)))] = False
        if valid.all():
            continue
        smoothed = rng.normal(size=n)
        smoothed[~valid] = np.nan
        max_gap = int(rng.integers(1, 6))
        filled, long_gap = _bridge_short_gaps(smoothed, valid, max_gap)
        expected_filled, expected_long = _bridged_per_sample(smoothed, valid, max_gap)
        assert filled.tobytes() == expected_filled.tobytes(), trial
        assert long_gap.dtype == bool and np.array_equal(long_gap, expected_long), trial


def test_runs_low_passed_as_one_by_one() -> None:
    """Each run long enough for the filter's padding is ``zero_phase`` of that run alone; shorter runs pass through
    unfiltered; invalid samples are NaN."""
    rng = np.random.default_rng(53)
    sos = butter_lowpass_sos(2, 12.0, 100.0)
    padlen = 3 * (2 * len(sos) + 1)
    for trial in range(200):
        n = int(rng.integers(20, 400))
        values = np.cumsum(rng.normal(size=n))
        valid = rng.random(n) > rng.uniform(0.0, 0.05)
        valid[rng.integers(0, n, size=int(rng.integers(0, 3)))] = False
        found = lowpass_by_segment(values, valid, 100.0, 12.0)
        expected = np.where(valid, values, np.nan)
        starts, stops = runs(valid)
        for start, stop in zip(starts.tolist(), stops.tolist()):
            if stop - start > padlen:
                expected[start:stop] = zero_phase(sos, values[start:stop])
        assert found.tobytes() == expected.tobytes(), trial

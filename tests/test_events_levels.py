"""The event detector's tracked levels read where they are needed give the numbers of the whole per-sample arrays.

Speed work (issue 19) stopped building the tracked floor and range of the coarse detector as whole arrays where
only a few samples of them are read, and builds the on and off levels a piece at a time instead of as whole
arrays. Both must give the same numbers to the last bit as the whole-array forms they replaced.
"""

from __future__ import annotations

import numpy as np
import pytest

import insole.analysis._events as events


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """The same dtype, shape and bits (NaN where NaN, the sign of a zero)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_centre_interpolation_at_samples_equals_numpy_interp() -> None:
    rng = np.random.default_rng(41)
    for trial in range(2000):
        block, m = int(rng.integers(1, 60)), int(rng.integers(1, 40))
        n = int(rng.integers(1, m * block + 3 * block + 5))  # recordings ending before, inside, after the centres
        values = rng.normal(size=m) * 10.0 ** rng.uniform(-3, 4)
        if trial % 40 == 0:
            values[rng.integers(0, m)] = np.nan
        index = rng.integers(0, n, size=int(rng.integers(0, 30)))
        expected = np.interp(np.arange(n), (np.arange(m) + 0.5) * block, values)[index]
        assert _same(events._centre_interp_at(n, block, values, index), expected), (block, m, n)


@pytest.mark.parametrize("piece", [1, 3, 7, 1 << 16])
def test_coarse_level_pieces_equal_the_whole_array_form(monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    """On and off level, ``fraction x range + floor``, made a piece at a time (one span between block centres a
    piece, a few, and the whole recording in one piece; recordings ending before, inside and after the block
    centres; even and odd blocks, so samples on a centre and not; a NaN among the tracked values): the pieces
    follow each other from the first sample to the last, and hold the numbers of the whole arrays."""
    monkeypatch.setattr(events, "_LEVEL_PIECE", piece)
    rng = np.random.default_rng(43)
    for trial in range(600):
        block, m = int(rng.integers(1, 30)), int(rng.integers(1, 20))
        n = int(rng.integers(1, m * block + 2 * block + 3))
        floor, load_range = rng.normal(size=m) * 50.0, np.abs(rng.normal(size=m)) * 400.0
        if trial % 50 == 0:
            load_range[rng.integers(0, m)] = np.nan
        lows, highs, ons, offs = [], [], [], []
        for lo, on, off in events._coarse_level_pieces(events._Track(n, block, floor),
                                                       events._Track(n, block, load_range), 0.3, 0.15):
            lows.append(lo)
            highs.append(lo + on.size)
            ons.append(on.copy())
            offs.append(off.copy())
        assert lows == [0] + highs[:-1] and highs[-1] == n, (block, m, n)
        whole_floor = events._centre_interp(n, block, floor)
        whole_range = events._centre_interp(n, block, load_range)
        assert _same(np.concatenate(ons), 0.3 * whole_range + whole_floor), (block, m, n)
        assert _same(np.concatenate(offs), 0.15 * whole_range + whole_floor), (block, m, n)


def _nearest_by_definition(values: np.ndarray, starts: np.ndarray, stops: np.ndarray, levels: np.ndarray,
                           compare: np.ufunc, last: bool) -> np.ndarray:
    """Each interval's last or first sample meeting its level, one interval at a time (-1: none)."""
    found = np.full(starts.size, -1, dtype=np.int64)
    for k, (start, stop) in enumerate(zip(starts.tolist(), stops.tolist())):
        hits = start + np.flatnonzero(compare(values[start:stop], levels[k])) if stop > start else np.zeros(0, int)
        if hits.size:
            found[k] = hits[-1] if last else hits[0]
    return found


@pytest.mark.parametrize("near", [1, 4, 32])
def test_nearest_true_equals_each_intervals_own_search(monkeypatch: pytest.MonkeyPatch, near: int) -> None:
    """Intervals in order and apart (some empty, some longer than the near end read first), NaN in the signal and
    the levels: each interval's own last or first hit; intervals that overlap are left to the caller (None)."""
    monkeypatch.setattr(events, "_NEAR_SAMPLES", near)
    rng = np.random.default_rng(61)
    for trial in range(1500):
        n = int(rng.integers(1, 200))
        values = rng.normal(size=n)
        values[rng.random(n) < 0.05] = np.nan
        m = int(rng.integers(0, 8))
        edges = np.sort(rng.integers(0, n + 1, size=2 * m))
        starts, stops = edges[0::2], edges[1::2].copy()
        if m and trial % 4 == 0:
            stops[rng.integers(0, m)] = starts[rng.integers(0, m)]  # an empty (or reversed) interval
        levels = rng.normal(size=m)
        levels[rng.random(m) < 0.1] = np.nan
        for compare in (np.less, np.greater_equal):
            for last in (True, False):
                found = events._nearest_true(values, starts, stops, levels, compare, last)
                some = stops > starts
                apart = not np.any(starts[some][1:] < stops[some][:-1])
                if not apart:
                    assert found is None
                    continue
                assert found is not None
                expected = _nearest_by_definition(values, starts, stops, levels, compare, last)
                assert found.dtype == np.int64 and np.array_equal(found, expected), (trial, compare, last)


def test_level_events_equal_the_search_among_all_contacts() -> None:
    """The level method's heel strike and toe off read from each contact's own samples: where found (ok), the
    same sample as the search among every contact's samples below their levels that they replaced; found where
    that one is."""
    from insole.analysis import AnalysisParams
    from insole.analysis._segments import last_at_or_before, next_at_or_after

    params = AnalysisParams()
    rng = np.random.default_rng(67)
    for trial in range(400):
        n = int(rng.integers(50, 600))
        smoothed = np.abs(np.cumsum(rng.normal(size=n))) * 50.0
        smoothed[rng.random(n) < 0.02] = np.nan
        m = int(rng.integers(1, 10))
        edges = np.sort(rng.choice(n + 1, size=2 * m, replace=False))
        lo, peak = edges[0::2], edges[1::2]
        if trial % 5 == 0:
            peak[rng.integers(0, m)] = lo[rng.integers(0, m)]  # an empty (or reversed) search
        floor = rng.normal(size=m) * 20.0
        typical_peak = float(rng.uniform(100.0, 800.0))

        hs, hs_ok = events._heel_strike_level(smoothed, lo, peak, floor, typical_peak, params)
        on_level = floor + params.contact_on_fraction * (typical_peak - floor)
        below = events._painted_true(smoothed, lo, peak, on_level, np.less)
        last_below = last_at_or_before(below, np.maximum(peak - 1, 0), n)
        expected_ok = (last_below >= lo) & (last_below + 1 <= peak) & np.isfinite(on_level)
        assert np.array_equal(hs_ok, expected_ok) and np.array_equal(hs[hs_ok], last_below[hs_ok] + 1), trial

        to, to_ok = events._toe_off_level(smoothed, lo, peak, floor, typical_peak, params)
        off_level = floor + params.contact_off_fraction * (typical_peak - floor)
        expected_to = next_at_or_after(events._painted_true(smoothed, lo, peak, off_level, np.less), lo, n)
        expected_ok = (expected_to < peak) & np.isfinite(off_level)
        assert np.array_equal(to_ok, expected_ok) and np.array_equal(to[to_ok], expected_to[to_ok]), trial


def test_search_from_an_event_equals_the_search_among_all_contacts() -> None:
    """_seen_from (the confidences' search from a heel strike to the mid level of the rise, and back from a toe off)
    gives, for every known event, the sample the search among all contacts' samples gives."""
    from insole.analysis._segments import last_at_or_before, next_at_or_after

    rng = np.random.default_rng(71)
    for trial in range(600):
        n = int(rng.integers(20, 400))
        values = np.cumsum(rng.normal(size=n))
        values[rng.random(n) < 0.03] = np.nan
        m = int(rng.integers(1, 9))
        edges = np.sort(rng.choice(n + 1, size=2 * m, replace=False))
        starts, stops = edges[0::2], edges[1::2].copy()
        if trial % 6 == 0:
            stops[rng.integers(0, m)] = int(rng.integers(0, n + 1))  # maybe overlapping, empty or reversed
        levels = rng.normal(size=m) * 3.0
        at = starts + (rng.random(m) * np.maximum(stops - starts, 1)).astype(np.int64)
        known = rng.random(m) < 0.8
        for last in (False, True):
            found = events._seen_from(values, starts, stops, levels, np.greater_equal, at, known, last)
            true = events._painted_true(values, starts, stops, levels, np.greater_equal)
            expected = (last_at_or_before if last else next_at_or_after)(true, at, n)
            assert np.array_equal(found[known], expected[known]), (trial, last)


def test_onset_clarity_with_the_slope_of_the_rises_only_equals_the_whole_slopes() -> None:
    """The level method's onset clarity with the slope made only from each heel strike to its first peak gives the
    numbers of the whole slope (rises in order and apart; rises that overlap take the whole slope as before)."""
    from insole.analysis._segments import gradient

    rng = np.random.default_rng(67)
    for trial in range(400):
        n = int(rng.integers(20, 600))
        values = np.cumsum(rng.normal(size=n))
        m = int(rng.integers(1, 8))
        hs = np.sort(rng.integers(0, n, size=m))
        first_peak = np.minimum(hs + rng.integers(0, 40, size=m), n - 1)
        if trial % 6 == 0:
            first_peak[0] = n - 1  # a rise over the others: overlapping
        swing_from = np.maximum(hs - rng.integers(0, 50, size=m), 0)
        floor_before = values[swing_from] - 1.0
        peak = values[first_peak] + rng.normal(size=m)
        args = (hs, first_peak, swing_from, floor_before, peak, 100.0)
        found = events._onset_clarity_known(n, values, None, *args)
        expected = events._onset_clarity_known(n, values, gradient(values), *args)
        assert _same(found, expected), trial

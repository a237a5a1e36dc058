"""The interval helpers and event-detection steps rewritten for speed give the same numbers, bit for bit, as the
plain forms they replace (each plain form written out here as numpy's own call or the steps it took before)."""

from __future__ import annotations

import numpy as np


def _bits(a: np.ndarray) -> bytes:
    """An array's dtype, shape and bytes: equal only when every value is the same, the sign of a zero and a NaN's
    payload included."""
    a = np.asarray(a)
    return str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()


def test_padding_mask_equals_the_broadcast_comparison() -> None:
    from insole.analysis._segments import _outside, _padding_mask, window_index

    rng = np.random.default_rng(101)
    for trial in range(300):
        m = int(rng.integers(1, 60))
        lengths = rng.integers(-3 if trial % 3 == 0 else 0, 70, m)
        expected = np.arange(int(lengths.max()))[None, :] >= lengths[:, None]
        assert _bits(_padding_mask(lengths)) == _bits(expected), trial
        starts = rng.integers(0, 1000, m)
        assert _bits(_outside(starts, starts + lengths)) == _bits(expected), trial
        if lengths.min() > 0:
            assert _bits(window_index(starts, starts + lengths)[1]) == _bits(expected), trial


def test_percentiles_equal_numpy_bit_for_bit() -> None:
    """One pass for every band (and the NaN check from the same masks) against np.percentile: ties, signed zeros,
    infinities, NaN (numpy's answer returned), statistics close together and far apart."""
    from insole.analysis._segments import percentiles

    rng = np.random.default_rng(103)
    qs_choices = ([5, 95], [10, 50, 90], [0, 100], [5, 5.01, 95], [25.3], [95, 5])
    for trial in range(120):
        n = int(rng.integers(50_000, 120_000))
        x = rng.normal(size=n) * 100
        kind = trial % 6
        if kind == 1:
            x[rng.integers(0, n, 3)] = np.nan
        elif kind == 2:
            x = np.round(x / 50) * 50  # many ties, zeros among them
        elif kind == 3:
            x[rng.random(n) < 0.3] = -0.0
        elif kind == 4:
            x[rng.integers(0, n, 5)] = np.inf
            x[rng.integers(0, n, 5)] = -np.inf
        elif kind == 5:
            x = np.sort(x)
        qs = qs_choices[trial % len(qs_choices)]
        with np.errstate(invalid="ignore"):  # (inf - inf in numpy's interpolation, for both)
            assert _bits(percentiles(x, qs)) == _bits(np.asarray(np.percentile(x, qs))), trial


def test_row_percentiles_with_the_counts_given_equal_those_counted() -> None:
    from insole.analysis._events import _row_nanpercentiles, _window_counts

    rng = np.random.default_rng(107)
    for trial in range(100):
        blocks = rng.normal(size=int(rng.integers(25, 300))) * 100
        blocks[rng.random(blocks.size) < 0.1 * (trial % 3)] = np.nan
        blocks[:: max(1, blocks.size // 5)] = 1.0  # at least one finite value in every window
        windows = np.lib.stride_tricks.sliding_window_view(blocks, 21)
        counts = _window_counts(np.isfinite(blocks), 21)
        assert _bits(counts) == _bits(np.isfinite(windows).sum(axis=1).astype(np.int64)), trial
        for qs in ((10.0, 75.0), (90.0, 25.0)):
            given, counted = _row_nanpercentiles(windows, qs, counts), _row_nanpercentiles(windows, qs)
            assert all(_bits(a) == _bits(b) for a, b in zip(given, counted)), trial


def test_reverse_plus_with_a_first_shift_equals_the_two_steps() -> None:
    """The forward pass's dc response added within the backward pass's reversal: each sample's two sums as the
    separate whole-array steps made them."""
    from insole.analysis._filters import _reverse_plus

    rng = np.random.default_rng(109)
    for n in (1, 2, 3, 17, 1 << 15, (1 << 16) + 3, 100_001):
        values = rng.normal(size=n) * 1e3
        first, shift = float(rng.normal() * 1e3), float(rng.normal() * 1e3)
        expected = values + first
        expected = expected[::-1] + shift
        assert _bits(_reverse_plus(values.copy(), shift, first=first)) == _bits(expected), n
        assert _bits(_reverse_plus(values.copy(), shift)) == _bits(values[::-1] + shift), n


def test_zero_phase_equals_its_steps_written_out() -> None:
    """The zero-phase filter against its steps as written before the passes were merged: the odd extension copied
    and then shifted, each block's Toeplitz product copied back before the state's effect was added, the forward
    dc response added over the whole array before the reversal."""
    from insole.analysis._filters import _block_matrices, butter_lowpass_sos, sos_padlen, zero_phase

    def causal(m, blocks):  # (the matrices of _block_matrices; the blocks in place)
        left = blocks @ m.state_in
        blocks[:] = blocks @ m.toeplitz
        state = np.zeros_like(left)
        state[1:] = left[:-1]
        offset = 1
        for power_t in m.powers_t:
            if offset >= len(blocks):
                break
            state[offset:] += state[:-offset] @ power_t
            offset *= 2
        blocks += state @ m.state_out
        return blocks

    def steps(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
        m = _block_matrices(sos.tobytes(), len(sos))
        edge, n = sos_padlen(sos), x.size
        n_ext = n + 2 * edge
        size = m.toeplitz.shape[0]
        work = np.zeros((-(-n_ext // size), size))
        flat = work.reshape(-1)
        flat[:edge] = 2.0 * x[0] - x[edge:0:-1]
        flat[edge:edge + n] = x
        flat[edge + n:n_ext] = 2.0 * x[-1] - x[-2:-edge - 2:-1]
        start = float(flat[0])
        flat[:n_ext] -= start
        causal(m, work)
        flat[:n_ext] += m.dc_gain * start
        start = float(flat[n_ext - 1])
        flat[:n_ext] = flat[:n_ext][::-1] + -start
        flat[n_ext:] = 0.0
        causal(m, work)
        return flat[:n_ext][::-1][edge:edge + n] + m.dc_gain * start

    rng = np.random.default_rng(113)
    for trial in range(40):
        sos = butter_lowpass_sos(int(rng.integers(1, 5)), float(rng.uniform(1.0, 30.0)), 100.0)
        # (short signals: numpy's matrix products of a few blocks; long ones: the slices of 256 blocks)
        x = rng.normal(size=int(rng.integers(40, 20_000))).cumsum() * 10
        assert _bits(zero_phase(sos, x)) == _bits(steps(sos, x)), trial


def test_reduce_intervals_of_few_intervals_gathered_equals_the_reduceat_over_their_bounds() -> None:
    """Intervals covering a small share of the samples are reduced from their samples gathered end to end: the same
    numbers as the reduceat over their bounds (and ``ufunc.reduce`` for one that ends at the last sample), sums'
    rounding and signed zeros included, in any order and overlapping."""
    from insole.analysis._segments import _COMPACT_SHARE, reduce_intervals

    def by_bounds(ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        out = np.empty(starts.size, dtype=values.dtype)
        inner = stops < values.size
        bounds = np.empty(2 * int(inner.sum()), dtype=np.int64)
        bounds[0::2], bounds[1::2] = starts[inner], stops[inner]
        if bounds.size:
            out[inner] = ufunc.reduceat(values, bounds)[0::2]
        for i in np.flatnonzero(~inner):
            out[i] = ufunc.reduce(values[starts[i]:])
        return out

    rng = np.random.default_rng(127)
    gathered = 0
    for trial in range(600):
        n = int(rng.integers(50, 5000))
        values = rng.normal(size=n) * 100
        if trial % 3 == 0:
            values[rng.random(n) < 0.1] = np.nan
        if trial % 5 == 0:
            values[rng.random(n) < 0.5] = rng.choice([0.0, -0.0])
        if trial % 7 == 0:
            values = values.astype(np.float32)
        m = int(rng.integers(1, 20))
        starts = rng.integers(0, n, m)
        if trial % 2:
            starts = np.sort(starts)
        stops = np.minimum(starts + rng.integers(1, max(2, n // (12 * m)), m), n)
        gathered += _COMPACT_SHARE * int((stops - starts).sum()) < n - int(starts.min())
        for ufunc in (np.minimum, np.maximum, np.add, np.fmin, np.fmax):
            assert _bits(reduce_intervals(ufunc, values, starts, stops)) == _bits(
                by_bounds(ufunc, values, starts, stops)), (trial, ufunc)
    assert gathered > 300  # (most trials took the gathered path)


def test_all_finite_equals_numpys_finiteness_check() -> None:
    """From the sum where it is finite, value by value where it is not (a NaN, an infinity, or finite values whose
    sum overflows), for float64, float32, integers and empty arrays."""
    from insole.analysis._segments import all_finite

    rng = np.random.default_rng(131)
    cases = [np.zeros(0), np.arange(10), np.full(5, 1e308), np.full(5, -3e38, dtype=np.float32)]
    for trial in range(200):
        x = rng.normal(size=int(rng.integers(1, 2000))) * 10.0 ** float(rng.integers(0, 300))
        if trial % 4 == 1:
            x[rng.integers(0, x.size)] = [np.nan, np.inf, -np.inf][trial % 3]
        if trial % 5 == 0:
            with np.errstate(over="ignore"):  # (values past float32's range become infinities)
                x = x.astype(np.float32)
        cases.append(x)
    for x in cases:
        assert all_finite(x) == bool(np.isfinite(x).all()), x


def test_first_or_last_true_of_rows_from_their_bits_equals_any_and_argmax() -> None:
    from insole.analysis._events import _row_first_or_last_true

    rng = np.random.default_rng(137)
    for trial in range(400):
        width = int(rng.integers(1, 60))
        hit = rng.random((int(rng.integers(0, 40)), width)) < [0.02, 0.2, 0.7][trial % 3]
        seen = np.asarray(hit.any(axis=1))
        for last in (False, True):
            found_seen, column = _row_first_or_last_true(hit, last)
            expected = width - 1 - np.argmax(hit[:, ::-1], axis=1) if last else np.argmax(hit, axis=1)
            assert _bits(found_seen) == _bits(seen), (trial, last)
            assert np.array_equal(column[seen], expected[seen]), (trial, last)
    assert _row_first_or_last_true(np.zeros((3, 0), dtype=bool), True)[0].tolist() == [False] * 3


def test_reduce_short_intervals_equals_reduce_intervals() -> None:
    """Short intervals reduced from their samples gathered as rows: the numbers of reduce_intervals (sums'
    rounding, signed zeros, NaN and infinities included), intervals in any order, overlapping, ending at the
    last sample; longer ones and other dtypes handed to reduce_intervals."""
    from insole.analysis._segments import reduce_intervals, reduce_short_intervals

    rng = np.random.default_rng(139)
    ufuncs = (np.maximum, np.minimum, np.add, np.fmax, np.fmin)
    for trial in range(800):
        n = int(rng.integers(1, 1500))
        values = rng.normal(size=n) * 100
        if trial % 3 == 0:
            values[rng.random(n) < 0.1] = np.nan
        if trial % 5 == 0:
            values[rng.random(n) < 0.4] = rng.choice([0.0, -0.0])
        if trial % 7 == 0:
            values[rng.random(n) < 0.05] = rng.choice([np.inf, -np.inf])
        if trial % 11 == 0:
            values = values.astype(np.float32)
        m = int(rng.integers(1, 40))
        starts = rng.integers(0, n, m)
        if trial % 2:
            starts = np.sort(starts)
        stops = np.minimum(starts + rng.integers(1, 70, m), n)
        if trial % 4 == 0:
            stops[-1] = n
        for ufunc, found in zip(ufuncs, reduce_short_intervals(ufuncs, values, starts, stops), strict=True):
            assert _bits(found) == _bits(reduce_intervals(ufunc, values, starts, stops)), (trial, ufunc)

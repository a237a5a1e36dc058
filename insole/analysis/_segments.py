"""Whole-array helpers for intervals of samples: runs, per-interval reductions, hysteresis.

Every interval is ``[start, stop)`` in sample indices. These helpers replace
per-sample and per-stride Python loops with numpy ufunc ``reduceat`` and
cumulative index tricks, so an hour of data is a handful of array passes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "runs",
    "reduce_intervals",
    "reduce_rows_intervals",
    "reduce_short_intervals",
    "interval_windows",
    "window_index",
    "hysteresis",
    "hysteresis_runs",
    "hysteresis_runs_in_pieces",
    "last_true_at_or_before",
    "next_true_at_or_after",
    "last_true_at_or_before_at",
    "next_true_at_or_after_at",
    "last_at_or_before",
    "next_at_or_after",
    "count_true_between",
    "interval_argmax",
    "nan_to_num_inplace",
    "all_finite",
    "gradient",
    "gradient_of_intervals",
    "percentiles",
]


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops (exclusive) of the runs of True in a 1-D boolean array."""
    mask = np.asarray(mask, dtype=bool)
    if mask.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # every sample that differs from the one before starts or stops a run; the ends close the first and last
    edges = np.flatnonzero(mask[1:] != mask[:-1]).astype(np.int64, copy=False)
    edges += 1
    if mask[0]:
        edges = np.concatenate([np.zeros(1, dtype=np.int64), edges])
    if mask[-1]:
        edges = np.concatenate([edges, np.full(1, mask.size, dtype=np.int64)])
    return edges[::2].copy(), edges[1::2].copy()  # two arrays of their own, as before


def reduce_intervals(ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``ufunc.reduce(values[start:stop], axis=0)`` for every interval, in one call.

    Intervals must be non-empty (``start < stop``); they may overlap. ``values``
    is (n,) or (n, k); the result has one row per interval.
    """
    starts = np.asarray(starts, dtype=np.int64)
    stops = np.asarray(stops, dtype=np.int64)
    if starts.size == 0:
        return np.zeros((0,) + values.shape[1:], dtype=values.dtype)
    if np.any(stops <= starts):
        raise ValueError("reduce_intervals needs non-empty intervals")
    n = values.shape[0]
    if values.ndim == 1 and _COMPACT_SHARE * int((stops - starts).sum()) < n - int(starts.min()):
        return _reduce_compacted(ufunc, values, starts, stops)
    at_end = stops >= n  # reduceat needs every index < len: those few are reduced one by one
    out = np.empty((starts.size,) + values.shape[1:], dtype=values.dtype)
    inner = ~at_end
    if inner.any():
        bounds = np.empty(2 * int(inner.sum()), dtype=np.int64)
        bounds[0::2] = starts[inner]
        bounds[1::2] = stops[inner]
        out[inner] = ufunc.reduceat(values, bounds, axis=0)[0::2]
    for i in np.flatnonzero(at_end):
        out[i] = ufunc.reduce(values[starts[i]:], axis=0)
    return out


# ``reduce_intervals`` reads 1-D intervals that cover less than 1 / _COMPACT_SHARE of the samples from the first
# one's start to the end laid end to end (``_reduce_compacted``): a ``reduceat`` over the interval bounds reduces
# every sample from the first bound on, those between and after the intervals too (a few intervals of a long
# recording: the whole recording), while a gather costs some 4 ns a sample gathered (measured: 3400 intervals
# covering 30 % of 360000 samples, 0.27 ms by the bounds, 0.6 ms gathered)
_COMPACT_SHARE = 8


def _reduce_compacted(ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``reduce_intervals`` of a 1-D array through the intervals' samples gathered end to end (each interval's
    samples in their order: the same reduction of the same values), one ``reduceat`` over that gathered array
    at each interval's first place in it; the stretches between intervals are neither copied nor reduced."""
    lengths = stops - starts
    first = np.cumsum(lengths) - lengths  # where each interval's samples begin among the gathered ones
    # the samples' positions by one cumulative sum of their steps: 1 within an interval, the jump from the
    # previous interval's last sample at an interval's first (intervals may overlap or come in any order)
    position = np.ones(int(lengths.sum()), dtype=np.int64)
    position[first[1:]] = starts[1:] - stops[:-1] + 1
    position[0] = starts[0]
    np.cumsum(position, out=position)
    out = np.empty(starts.size, dtype=values.dtype)  # (assigned into, as the reduceat path's rows are)
    out[:] = ufunc.reduceat(values.take(position), first)
    # an interval that ends at the last sample is reduced by ``ufunc.reduce``, as there (a sum of the same values
    # can differ in rounding from a reduceat's)
    for i in np.flatnonzero(stops >= values.shape[0]):
        out[i] = ufunc.reduce(values[starts[i]:], axis=0)
    return out


# ``reduce_short_intervals`` takes intervals up to this long (a foot's shoulders before its heel strikes)
_SHORT_INTERVAL = 64


def reduce_short_intervals(ufuncs: Sequence[np.ufunc], values: np.ndarray, starts: np.ndarray,
                           stops: np.ndarray) -> list[np.ndarray]:
    """``[reduce_intervals(ufunc, values, starts, stops) for ufunc in ufuncs]`` of a 1-D array, the same numbers:
    intervals all at most ``_SHORT_INTERVAL`` long are gathered once as the rows of one array (their samples in
    their order, each row padded to the longest) and each ufunc's ``reduceat`` runs over those rows' samples
    only, where one over the interval bounds in ``values`` reduces every sample between the intervals too (most
    of them, for short intervals); an interval that ends at the last sample is reduced by ``ufunc.reduce``, as
    there. Longer intervals, or values not a 1-D float64 array: ``reduce_intervals`` itself."""
    starts = np.asarray(starts, dtype=np.int64)
    stops = np.asarray(stops, dtype=np.int64)
    lengths = stops - starts
    if (values.ndim != 1 or values.dtype != np.float64 or starts.size == 0
            or int(lengths.max()) > _SHORT_INTERVAL or np.any(lengths <= 0)):
        return [reduce_intervals(ufunc, values, starts, stops) for ufunc in ufuncs]
    width = int(lengths.max())
    rows = interval_windows(values, starts, stops, fill=0.0)  # (the padding is never reduced)
    first = np.arange(0, rows.size, width, dtype=np.int64)  # each row's first place in the rows laid end to end
    bounds = np.empty(2 * starts.size, dtype=np.int64)
    bounds[0::2] = first
    bounds[1::2] = first + lengths
    if bounds[-1] == rows.size:  # (the last row full: its reduction runs to the end, no bound after it)
        bounds = bounds[:-1]
    at_end = np.flatnonzero(stops >= values.shape[0])
    found = []
    for ufunc in ufuncs:
        out = np.empty(starts.size, dtype=values.dtype)
        out[:] = ufunc.reduceat(rows.reshape(-1), bounds)[0::2]
        for i in at_end:
            out[i] = ufunc.reduce(values[starts[i]:], axis=0)
        found.append(out)
    return found


def reduce_rows_intervals(ufunc: np.ufunc, rows: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``ufunc.reduce(rows[:, start:stop], axis=1)`` for every interval, as an (intervals, rows) array.

    The same numbers as one ``ufunc.reduceat(rows, bounds, axis=1)`` over the
    interval bounds (each row's intervals reduced in the same order; the
    intervals that end at the last sample, which ``reduceat`` cannot bound,
    reduced on their own), but by a ``reduceat`` of a 1-D array: numpy holds
    the GIL through a ``reduceat`` along the last axis of a 2-D array (and
    through one given an ``out``), and releases it for a 1-D one of a
    contiguous array, so another thread (the other foot) runs meanwhile. The
    rows of a C-contiguous array are read as one 1-D array, laid end to end,
    with each row's bounds moved by its start: one call (one release and
    re-acquire of the GIL, not one a row), each interval's samples reduced as
    in its own row (the stretches between a row's last interval and the next
    row's first are reduced too, and dropped, as those between intervals are).
    ``rows`` is (rows, samples), e.g. a foot's sensors; ``starts < stops`` as
    for ``reduce_intervals``.
    """
    rows = np.asarray(rows)
    starts = np.asarray(starts, dtype=np.int64)
    stops = np.asarray(stops, dtype=np.int64)
    k, n = rows.shape
    inner = stops < n
    count = int(inner.sum())
    out = np.empty((starts.size, k), dtype=rows.dtype)
    if count:
        bounds = np.empty((k, 2 * count), dtype=np.int64)
        bounds[:, 0::2], bounds[:, 1::2] = starts[inner], stops[inner]
        if rows.flags.c_contiguous:
            bounds += np.arange(0, k * n, n, dtype=np.int64)[:, None]  # each row's bounds in the rows end to end
            # (no ``out=``: with one, numpy takes its outer-iterator path, which keeps the GIL)
            reduced = ufunc.reduceat(rows.reshape(-1), bounds.reshape(-1)).reshape(k, 2 * count)
        else:  # row by row (each a 1-D reduceat, as above)
            reduced = np.empty((k, 2 * count), dtype=rows.dtype)
            for j in range(k):
                reduced[j] = ufunc.reduceat(rows[j], bounds[j])
        if count == starts.size:  # (the usual case: a copy, which releases the GIL while it writes fresh memory)
            np.copyto(out, reduced[:, 0::2].T, casting="unsafe")
        else:
            out[inner] = reduced[:, 0::2].T
    for i in np.flatnonzero(~inner):
        out[i] = ufunc.reduce(rows[:, starts[i]:], axis=1)
    return out


def window_index(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where ``interval_windows`` reads: a (m, max_len) sample index per interval (0 past its end) and the
    mask of the padding past each end. Several signals cut at the same intervals share one."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(stops, dtype=np.int64) - starts
    if starts.size == 0:
        return np.zeros((0, 0), dtype=np.int64), np.zeros((0, 0), dtype=bool)
    offsets = np.arange(int(lengths.max()))
    outside = _padding_mask(lengths)
    index = starts[:, None] + offsets[None, :]
    index[outside] = 0
    return index, outside


def interval_windows(values: np.ndarray, starts: np.ndarray, stops: np.ndarray, fill: float = np.nan,
                     index: tuple[np.ndarray | None, np.ndarray] | None = None) -> np.ndarray:
    """A (m, max_len) array of ``values[start:stop]`` per interval, padded with ``fill``.

    ``index``: ``window_index(starts, stops)`` when the caller has it already (or the same cut to a width of
    at least the longest interval); ``(None, outside)`` gives only the padding mask (the windows are then as
    wide as ``outside``; an index, where one is needed, is made at that width).

    Each row is read as one run of samples from ``start`` (rows of a sliding-window view of ``values``; the
    samples past an interval's end are then overwritten with ``fill``), rather than sample by sample through
    the index; rows that would run past the last sample are read through the index. (No ``out=``: numpy
    gathers rows only into a new array, and copying them on into a caller's buffer took longer than using the
    new one: 1800 rows of 150 samples, 213 against 263 us gathered in cache-sized pieces.)
    """
    starts = np.asarray(starts, dtype=np.int64)
    if starts.size == 0:
        return np.zeros((0, 0), dtype=float)
    values = np.asarray(values)
    if index is not None:
        gather, outside = index
    else:
        gather, outside = None, _outside(starts, stops)
    width = outside.shape[1]
    n = values.shape[0] if values.ndim else 0
    if values.ndim != 1 or width == 0 or width > n:
        if gather is None:  # read at the mask's width (where a caller's index would have been cut)
            gather = starts[:, None] + np.arange(width)[None, :]
            np.copyto(gather, 0, where=outside)
        windows = values[gather].astype(float, copy=False)  # cut, then converted: the same values
    else:
        # the (n - width + 1, width) rows of a sliding window over values, as a strided view (no copy; only read).
        # (Made by the array constructor over a contiguous array: as_strided's Python set-up took 5 us a call)
        shape = (n - width + 1, width)
        rows = (np.ndarray(shape, values.dtype, buffer=values, strides=values.strides * 2)
                if values.flags.c_contiguous else
                np.lib.stride_tricks.as_strided(values, shape, values.strides * 2, writeable=False))
        # every row read from its start moved inside the recording (one gather: an interval near the recording's
        # end is the usual case, not the exception); the few rows whose start moved read again through the index
        inside = np.minimum(np.maximum(starts, 0), n - width)  # (np.clip's numbers for integers, without its Python)
        windows = rows[inside]
        cut = np.flatnonzero(inside != starts)
        if cut.size:
            near_end = starts[cut, None] + np.arange(width)[None, :]  # these rows as window_index reads them
            near_end[outside[cut]] = 0
            windows[cut] = values[near_end]
        windows = windows.astype(float, copy=False)
    windows[outside] = fill
    return windows


def _outside(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``window_index(starts, stops)[1]``: the padding past each interval's end, without the index."""
    return _padding_mask(np.asarray(stops, dtype=np.int64) - np.asarray(starts, dtype=np.int64))


def _padding_mask(lengths: np.ndarray, width: int | None = None) -> np.ndarray:
    """``np.arange(lengths.max())[None, :] >= lengths[:, None]``, True past each row's length: row ``k`` is row
    ``lengths[k]`` (clipped to the table) of one small triangular table, gathered whole (a broadcast comparison
    runs its inner loop once per short row: 2-3x the time for a foot's contacts). ``width``: of the rows, if not
    the longest length."""
    if width is None:
        width = max(int(lengths.max()), 0) if lengths.size else 0
    if not small_table(width, lengths.size):  # a few long intervals (standing, a long recording): the comparison
        return np.arange(width)[None, :] >= np.clip(lengths, 0, width)[:, None]
    # np.take clips each length to the table's rows itself (row 0 below, row ``width`` above), and gathers whole rows
    # some 3x as fast as indexing the table with the lengths
    return np.take(_padding_table(width), lengths, axis=0, mode="clip")


def _padding_table(width: int) -> np.ndarray:
    """The (width + 1, width) table of ``_padding_mask``, row j True from column j on; a narrow one made once
    (the stance and contact windows ask for the same few widths again and again)."""
    if width > _CACHED_TABLE_WIDTH:
        return np.arange(width)[None, :] >= np.arange(width + 1)[:, None]
    return _cached_padding_table(width)


# ``_padding_table`` keeps the tables up to this wide (each at most 64 kB; at most 16 of them)
_CACHED_TABLE_WIDTH = 255


@functools.lru_cache(maxsize=16)
def _cached_padding_table(width: int) -> np.ndarray:
    table = np.arange(width)[None, :] >= np.arange(width + 1)[:, None]
    table.flags.writeable = False  # (shared by every caller)
    return table


# A (width + 1, width) lookup table of row masks serves many short rows; it grows with the square of the width, so it
# is used only while it holds at most this many cells and no more rows than it serves (a few long intervals, as
# standing or a whole recording makes, would otherwise ask for width^2 bytes: 149 GiB for 400,000 samples)
_TABLE_CELLS = 1 << 22


def small_table(width: int, rows: int) -> bool:
    """Whether a (width + 1, width) table of row masks is worth making for ``rows`` rows (see ``_TABLE_CELLS``)."""
    return (width + 1) * width <= _TABLE_CELLS and width + 1 <= max(rows, 1) * 4


def all_finite(values: np.ndarray) -> bool:
    """``bool(np.isfinite(values).all())`` of a float array, without a boolean array of its size where its sum is
    finite (a NaN or an infinity makes the sum NaN or infinite: a finite sum means every value is finite; a sum
    that overflowed, or any other dtype, is judged value by value)."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):  # (an overflowing sum, inf - inf: judged below)
            if bool(np.isfinite(np.add.reduce(values, axis=None))):
                return True
    return bool(np.isfinite(values).all())


def nan_to_num_inplace(values: np.ndarray, nan: float = 0.0) -> np.ndarray:
    """``np.nan_to_num(values, nan=nan)`` written into ``values`` (a float array the caller owns), touching
    only the non-finite entries: one finiteness pass where ``np.nan_to_num`` makes three, and nothing more
    when all are finite (the usual case)."""
    bad = ~np.isfinite(values)
    if bad.any():
        values[bad] = np.nan_to_num(values[bad], nan=nan)
    return values


def gradient(values: np.ndarray) -> np.ndarray:
    """``np.gradient(values)`` of a 1-D float64 array (unit spacing): central differences over 2 inside, one-sided
    at the ends, the same operations without its general-purpose set-up."""
    values = np.asarray(values)
    if values.ndim != 1 or values.size < 2 or values.dtype != np.float64:
        return np.asarray(np.gradient(values))
    out = np.empty_like(values)
    np.subtract(values[2:], values[:-2], out=out[1:-1])
    out[1:-1] /= 2.0
    out[0] = (values[1] - values[0]) / 1.0
    out[-1] = (values[-1] - values[-2]) / 1.0
    return out


def gradient_of_intervals(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``gradient(values)`` at the samples of the intervals ``[start, stop)`` only, laid end to end (interval k
    from the sum of the lengths before it). The intervals must be non-empty, in order and apart (``start`` at or
    after the previous ``stop``) and ``values`` a 1-D float64 array of at least 2 samples: each sample's
    difference of its two neighbours over 2 (one-sided over 1 at the ends), the same operations as there."""
    n = values.size
    starts = np.asarray(starts, dtype=np.int64)
    stops = np.asarray(stops, dtype=np.int64)
    lengths = stops - starts
    if starts.size == 0:
        return np.zeros(0)
    width = int(lengths.max())
    if starts[0] >= 1 and stops[-1] <= n - 1 and width <= _SHORT_INTERVAL:
        # short intervals away from the recording's ends (a foot's rises): each interval and a neighbour either
        # side as one row (interval_windows: rows gathered where they lie, no index per sample); laid end to end,
        # sample j of row k sits at k (width + 2) + j + 1 with its neighbours 1 either side: one difference of
        # the whole array shifted by 2, then the rows' own samples taken in row order
        rows = interval_windows(values, starts - 1, stops + 1, fill=0.0, index=(None, _padding_mask(lengths + 2)))
        flat = rows.reshape(-1)
        out = np.zeros(flat.size)
        np.subtract(flat[2:], flat[:-2], out=out[:-2])
        out /= 2.0
        return out[~_padding_mask(lengths, width + 2).reshape(-1)]
    # the samples' positions by one cumulative sum of their steps: 1 within an interval, the jump over the
    # stretch between two intervals at an interval's first sample
    position = np.ones(int(lengths.sum()), dtype=np.int64)
    first = np.cumsum(lengths) - lengths
    position[first[1:]] = starts[1:] - stops[:-1] + 1
    position[0] = starts[0]
    np.cumsum(position, out=position)
    # the neighbours after and before, in one index array in turn (clipped at the ends, where the neighbour is
    # the sample itself: the one-sided difference)
    neighbour = np.add(position, 1, out=np.empty_like(position))
    np.minimum(neighbour, n - 1, out=neighbour)
    out = values[neighbour]
    np.subtract(position, 1, out=neighbour)
    np.maximum(neighbour, 0, out=neighbour)
    out -= values[neighbour]
    out /= 2.0
    # the ends' one-sided differences, over 1 (only an interval's first sample can be the first, and its last the
    # last, of the recording: they are in order)
    if position[0] == 0:
        out[0] = (values[1] - values[0]) / 1.0
    if position[-1] == n - 1:
        out[-1] = (values[-1] - values[-2]) / 1.0
    return out


# ``interval_argmax`` reads its intervals as the rows of one (intervals, longest interval) array. Up to this many
# elements (32 MiB of float64) it reads them at once; beyond, in groups of intervals of similar length, each group
# within it: a few long intervals among many short ones (a standing spell among steps, a contact that begins in a
# gap and is searched from the recording's start) would otherwise widen every row, and the array grows with the
# number of intervals times the longest (gigabytes in an hour with dropouts)
_WINDOW_ELEMENTS = 1 << 22


def interval_argmax(values: np.ndarray, starts: np.ndarray, stops: np.ndarray, *,
                    finite: bool | None = None) -> np.ndarray:
    """Index (into ``values``) of the first maximum within each non-empty interval (an empty one: its start).

    The same indices whether the intervals are read at once or in groups: each row's first maximum lies among its
    own samples, before the padding that a wider row adds after them; except in a row of NaN only, which ranks
    below the padding, so that its index is where its padding begins (its stop) in any row narrower than the
    widest: kept so in groups. ``finite``: ``all_finite(values)`` of float ``values``, when the caller knows it.
    """
    starts = np.asarray(starts, dtype=np.int64)
    stops = np.asarray(stops, dtype=np.int64)
    lengths = np.maximum(stops - starts, 0)
    if starts.size * (int(lengths.max()) if lengths.size else 0) <= _WINDOW_ELEMENTS:
        return _interval_argmax(values, starts, stops, finite)
    found = starts.copy()  # an empty interval's index: its start (an all-padding row's first sample)
    order = np.argsort(lengths, kind="stable")
    order = order[lengths[order] > 0]
    first = 0
    while first < order.size:
        # the group from ``first``: as many of the next-shortest intervals as fit, each row as wide as the last
        sizes = np.arange(1, order.size - first + 1) * lengths[order[first:]]
        count = max(1, int(np.searchsorted(sizes, _WINDOW_ELEMENTS, side="right")))
        group = order[first:first + count]
        found[group] = _interval_argmax(values, starts[group], stops[group], finite)
        first += count
    shorter = lengths < int(lengths.max())
    if shorter.any():
        nan_only = shorter & (lengths > 0)
        nan_only[nan_only] = count_true_between(np.isnan(values), starts[nan_only], stops[nan_only]) \
            == lengths[nan_only]
        found[nan_only] = stops[nan_only]
    return found


def _interval_argmax(values: np.ndarray, starts: np.ndarray, stops: np.ndarray,
                     finite: bool | None = None) -> np.ndarray:
    windows = interval_windows(values, starts, stops, fill=-np.inf)
    if windows.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Values compare as np.nan_to_num(nan=-inf) makes them (NaN lowest, infinities as the extreme floats, the
    # -inf padding past an interval's end as the lowest float). With every value finite that changes only the
    # padding, which comes after the values it would tie with: the same first maximum without converting.
    values = np.asarray(values)
    if not (values.dtype.kind == "f" and (all_finite(values) if finite is None else finite)):
        np.nan_to_num(windows, copy=False, nan=-np.inf)  # (the windows are this call's own: converted in place)
    return np.asarray(starts, dtype=np.int64) + np.argmax(windows, axis=1)


def hysteresis(values: np.ndarray, high: float | np.ndarray, low: float | np.ndarray) -> np.ndarray:
    """True from where ``values`` rises to ``high`` until it falls below ``low``.

    Starts False. NaN counts as below ``low`` (a gap ends a contact).
    """
    flips = _hysteresis_flips(values, high, low)
    marks = np.zeros(np.size(values), dtype=bool)
    marks[flips] = True
    return np.logical_xor.accumulate(marks)  # each flip toggles the state (no flip: False throughout)


def hysteresis_runs(values: np.ndarray, high: float | np.ndarray,
                    low: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``runs(hysteresis(values, high, low))``, the starts and stops of the True runs, without the per-sample
    state: the hysteresis switches on at every other flip and off at the next."""
    return _runs_of_flips(_hysteresis_flips(values, high, low), np.size(values))


def hysteresis_runs_in_pieces(values: np.ndarray, pieces: Iterable[tuple[int, np.ndarray, np.ndarray]]
                              ) -> tuple[np.ndarray, np.ndarray]:
    """``hysteresis_runs(values, high, low)`` with per-sample levels given a piece at a time: ``pieces`` yields
    ``(lo, high[lo:hi], low[lo:hi])`` for consecutive pieces from sample 0 to the last (each piece's levels
    read before the next is asked for, so that a caller may make them in the same arrays). Each piece's switch
    masks are made and their run starts found while the piece is in cache; no array of the whole length."""
    values = np.asarray(values, dtype=float)
    n = values.size
    found_on: list[np.ndarray] = []
    found_off: list[np.ndarray] = []
    on_before = off_before = False  # the state of the sample before the piece (none before the first: False)
    at = 0
    on = off = rises = np.zeros(0, dtype=bool)
    for lo, high, low in pieces:
        if lo != at:
            raise ValueError(f"hysteresis pieces must follow each other: one at {lo}, expected {at}")
        hi = lo + np.size(high)
        if on.size < hi - lo:  # (the masks' arrays: made for the first piece, reused by as long ones after)
            on, off, rises = (np.empty(hi - lo, dtype=bool) for _ in range(3))
        piece_on, piece_off = on[:hi - lo], off[:hi - lo]
        piece = values[lo:hi]
        # as in _hysteresis_flips: off below ``low`` (NaN too), on at or above ``high`` unless off
        np.greater_equal(piece, low, out=piece_off)
        np.logical_not(piece_off, out=piece_off)
        np.greater_equal(piece, high, out=piece_on)
        np.greater(piece_on, piece_off, out=piece_on)  # on and not off
        for mask, before, found in ((piece_on, on_before, found_on), (piece_off, off_before, found_off)):
            if hi > lo:
                starts = np.flatnonzero(np.greater(mask[1:], mask[:-1], out=rises[:hi - lo - 1]))
                starts += lo + 1
                found.append(np.concatenate([[lo], starts]) if mask[0] and not before else starts)
        if hi > lo:
            on_before, off_before = bool(piece_on[-1]), bool(piece_off[-1])
        at = hi
    if at != n:
        raise ValueError(f"hysteresis pieces end at {at}, not at the last sample ({n})")
    empty = np.zeros(0, dtype=np.int64)
    flips = _flips_of(np.concatenate(found_on) if found_on else empty,
                      np.concatenate(found_off) if found_off else empty)
    return _runs_of_flips(flips, n)


def _runs_of_flips(flips: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    stops = flips[1::2]
    if flips.size % 2:  # on at the end: the last run stops there
        stops = np.append(stops, n)
    return flips[0::2].astype(np.int64, copy=False), stops.astype(np.int64, copy=False)


def _hysteresis_flips(values: np.ndarray, high: float | np.ndarray, low: float | np.ndarray) -> np.ndarray:
    """Where the hysteresis state changes, in order (the first, if any, switches it on).

    Each sample takes the state of the last switching sample at or before it
    (False before the first): one at or above ``high`` switches on, one below
    ``low`` (or NaN) off; a sample both above ``high`` and below ``low``
    (crossed levels) switches off. The state changes at the first switching
    sample of each run of equal switches: among the starts of the runs of
    switch-on samples and of switch-off samples, in sample order, those whose
    kind differs from the one before (the last run start before a sample is
    of the kind of the last switching sample before it). Only the run starts
    are listed, not every switching sample.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    off = ~(values >= low)  # NaN -> off
    on = values >= high
    on &= ~off

    def run_starts(mask: np.ndarray) -> np.ndarray:
        found = np.flatnonzero(np.greater(mask[1:], mask[:-1])) + 1
        return np.concatenate([[0], found]) if mask[0] else found

    return _flips_of(run_starts(on), run_starts(off))


def _flips_of(switch_on: np.ndarray, switch_off: np.ndarray) -> np.ndarray:
    """The hysteresis flips from the starts of the runs of switch-on and of switch-off samples (see
    ``_hysteresis_flips``)."""
    at = np.concatenate([switch_on, switch_off]).astype(np.int64, copy=False)
    kind = np.concatenate([np.ones(switch_on.size, dtype=bool), np.zeros(switch_off.size, dtype=bool)])
    order = np.argsort(at, kind="stable")  # a sample starts at most one run: the order is strict
    at, kind = at[order], kind[order]
    changed = kind.copy()  # from False before the first
    changed[1:] ^= kind[:-1]
    return at[changed]


def last_true_at_or_before(mask: np.ndarray) -> np.ndarray:
    """For each i, the largest j <= i with mask[j] (or -1)."""
    index = np.arange(mask.size)
    return np.maximum.accumulate(np.where(mask, index, -1)) if mask.size else index


def last_true_at_or_before_at(mask: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``last_true_at_or_before(mask)[at]``, found by a search among the True samples (no pass over every sample
    for a few queries). ``at`` indexes ``mask`` as an index would (negative from the end)."""
    mask = np.asarray(mask, dtype=bool)
    return last_at_or_before(np.flatnonzero(mask), at, mask.size)


def next_true_at_or_after_at(mask: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``next_true_at_or_after(mask)[at]``, found by a search among the True samples (see
    ``last_true_at_or_before_at``)."""
    mask = np.asarray(mask, dtype=bool)
    return next_at_or_after(np.flatnonzero(mask), at, mask.size)


def last_at_or_before(true: np.ndarray, at: np.ndarray, n: int) -> np.ndarray:
    """``last_true_at_or_before_at`` of the mask of ``n`` samples that is True exactly at the sorted ``true``."""
    at = np.asarray(at, dtype=np.int64)
    at = np.where(at < 0, at + n, at)
    if true.size == 0:
        return np.full(at.shape, -1, dtype=np.int64)
    k = np.searchsorted(true, at, side="right") - 1
    return np.where(k >= 0, true[np.maximum(k, 0)], -1).astype(np.int64, copy=False)


def next_at_or_after(true: np.ndarray, at: np.ndarray, n: int) -> np.ndarray:
    """``next_true_at_or_after_at`` of the mask of ``n`` samples that is True exactly at the sorted ``true``."""
    at = np.asarray(at, dtype=np.int64)
    at = np.where(at < 0, at + n, at)
    if true.size == 0:
        return np.full(at.shape, n, dtype=np.int64)
    k = np.searchsorted(true, at, side="left")
    return np.where(k < true.size, true[np.minimum(k, true.size - 1)], n).astype(np.int64, copy=False)


def count_true_between(mask: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """How many samples of ``mask`` are True in each ``[start, stop)``: the count before ``stop`` less the count
    before ``start`` (as a cumulative count gives it), by a search among the True samples."""
    true = np.flatnonzero(np.asarray(mask, dtype=bool))
    return np.searchsorted(true, stops, side="left") - np.searchsorted(true, starts, side="left")


def next_true_at_or_after(mask: np.ndarray) -> np.ndarray:
    """For each i, the smallest j >= i with mask[j] (or len(mask))."""
    n = mask.size
    index = np.arange(n)
    if not n:
        return index
    return np.minimum.accumulate(np.where(mask, index, n)[::-1])[::-1]


# Below this many values ``percentiles`` is ``np.percentile`` itself (a partition of a small copy is quick).
_SELECT_MIN = 50_000
# ``percentiles`` judges where an order statistic lies from every so many values, sorted ...
_SELECT_SAMPLE = 4096
# ... and keeps the values within this many sampled places either side of it (some 3 % of a long array's).
_SELECT_MARGIN = 64


# ``percentiles`` reads the values in pieces of this many for its bands (the pieces' masks, not whole-length boolean
# arrays, in a core's cache: 512 kB of values and two 64 kB masks). Each piece is some eight numpy calls a band;
# 65536 measured a little faster than 32768 with half the calls (the hour's four calls: 4.0 against 4.1 ms of thread
# CPU, min of 25, twice; 131072 alike, the whole array at once 5.5)
_SELECT_PIECE = 1 << 16


def _bands(x: np.ndarray, bounds: list[tuple[float, float]]) -> tuple[list[tuple[int, np.ndarray]], bool]:
    """For each ``(low, high)`` of ``bounds`` (``low <= high``, or NaN): ``np.count_nonzero(x < low)`` and
    ``x[(x >= low) & (x <= high)]`` (its values in their order), all read in one pass, a piece at a time into two
    small masks; and whether ``x`` holds a NaN (then the counts are not those: the caller does not use them).

    Without NaN every value is at or above ``low`` or below it, so the count below is the piece's size less the
    count at or above; and every value is at or above ``low`` or at or below ``high``: a value that is neither
    is NaN, found from the masks' counts without a pass of its own.
    """
    size = min(x.size, _SELECT_PIECE)
    at_or_above, at_or_below = np.empty(size, dtype=bool), np.empty(size, dtype=bool)
    below = [0] * len(bounds)
    parts: list[list[np.ndarray]] = [[] for _ in bounds]
    has_nan = False
    for lo in range(0, x.size, _SELECT_PIECE):
        piece = x[lo:lo + _SELECT_PIECE]
        k = piece.size
        for j, (low, high) in enumerate(bounds):
            above_low = np.greater_equal(piece, low, out=at_or_above[:k])
            under_high = np.less_equal(piece, high, out=at_or_below[:k])
            count_low, count_high = int(np.count_nonzero(above_low)), int(np.count_nonzero(under_high))
            below[j] += k - count_low
            above_low &= under_high  # (in place: the band)
            band = piece[above_low]
            parts[j].append(band)
            has_nan |= count_low + count_high - band.size != k
    found = [(count, np.concatenate(band_parts) if band_parts else x[:0].copy())
             for count, band_parts in zip(below, parts, strict=True)]
    return found, has_nan


def percentiles(values: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """``np.percentile(values, qs)`` (linear interpolation) of a 1-D float64 array, bit for bit, without
    partitioning a copy of all of it.

    The order statistics the percentiles need are picked out of the few values near them: a sorted sample of
    some 4000 values says between which two values each one lies, and one pass over the values counts those below
    each band and copies the band (a few per cent of the values), whose partition gives the statistic exactly (the
    values below the band are all smaller, those above all larger). The statistics are then interpolated by
    numpy's own formula (``numpy.lib._function_base_impl._quantile``, method "linear"). ``np.percentile`` itself
    answers for short arrays, any other dtype, NaN (which it returns), a band that missed its statistic (a badly
    spread sample), and a statistic equal to zero (whose sign, +0.0 or -0.0, depends on where numpy's partition
    leaves it).
    """
    x = np.asarray(values)
    n = x.size
    if x.ndim != 1 or x.dtype != np.float64 or n < _SELECT_MIN:
        return np.asarray(np.percentile(x, qs))
    q = np.true_divide(np.asarray(qs, dtype=np.float64), 100)
    if q.ndim != 1 or not (np.all(q >= 0) and np.all(q <= 1)):
        return np.asarray(np.percentile(x, qs))
    # numpy's indexes: the floor of (n - 1) q and the next one, the last value for both at or past the end
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    past_end = virtual >= n - 1
    previous[past_end] = -1
    following[past_end] = -1
    previous_index = previous.astype(np.intp)
    following_index = following.astype(np.intp)
    gamma = np.asarray(virtual - previous_index, dtype=virtual.dtype)
    # the statistics' distinct ranks in order (a few: sorted in Python, where np.unique's own steps took ~30 us)
    ranks = np.array(sorted(set((np.concatenate([previous_index, following_index]) % n).tolist())), dtype=np.intp)
    sample = np.sort(x[:: max(1, n // _SELECT_SAMPLE)])
    groups: list[np.ndarray] = []
    bounds: list[tuple[float, float]] = []
    grouped: set[int] = set()
    for rank in ranks.tolist():
        if rank in grouped:
            continue
        group = ranks[(ranks >= rank) & (ranks <= rank + n // 200)]  # statistics close together: one band
        grouped.update(group.tolist())
        low_at = int(group[0]) * sample.size // n - _SELECT_MARGIN
        high_at = int(group[-1]) * sample.size // n + _SELECT_MARGIN
        groups.append(group)
        low = sample[low_at] if low_at >= 0 else -np.inf
        bounds.append((low, sample[high_at] if high_at < sample.size else np.inf))
    bands, has_nan = _bands(x, bounds)  # every group's band in one pass over the values
    if has_nan:
        return np.asarray(np.percentile(x, qs))
    found: dict[int, float] = {}
    for group, (below, band) in zip(groups, bands, strict=True):
        if not (below <= int(group[0]) and int(group[-1]) < below + band.size):
            return np.asarray(np.percentile(x, qs))
        band.partition(group - below)
        for r in group.tolist():
            found[r] = float(band[r - below])
    lower = np.array([found[r % n] for r in previous_index.tolist()])
    upper = np.array([found[r % n] for r in following_index.tolist()])
    if not (np.all(lower != 0) and np.all(upper != 0)):
        return np.asarray(np.percentile(x, qs))
    # numpy's _lerp: from the lower value, or back from the upper one where the weight is at least a half
    difference = upper - lower
    out = np.add(lower, difference * gamma)
    np.subtract(upper, difference * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe", dtype=out.dtype.type)
    return out

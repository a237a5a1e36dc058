"""Whole-array helpers for intervals of samples: runs, per-interval reductions, hysteresis.

Every interval is ``[start, stop)`` in sample indices. These helpers replace
per-sample and per-stride Python loops with numpy ufunc ``reduceat`` and
cumulative index tricks, so an hour of data is a handful of array passes.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "runs",
    "reduce_intervals",
    "interval_windows",
    "window_index",
    "hysteresis",
    "last_true_at_or_before",
    "next_true_at_or_after",
    "interval_argmax",
]


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops (exclusive) of the runs of True in a 1-D boolean array."""
    mask = np.asarray(mask, dtype=bool)
    if mask.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
    return edges[::2].astype(np.int64), edges[1::2].astype(np.int64)


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


def window_index(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where ``interval_windows`` reads: a (m, max_len) sample index per interval (0 past its end) and the
    mask of the padding past each end. Several signals cut at the same intervals share one."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(stops, dtype=np.int64) - starts
    if starts.size == 0:
        return np.zeros((0, 0), dtype=np.int64), np.zeros((0, 0), dtype=bool)
    offsets = np.arange(int(lengths.max()))
    outside = offsets[None, :] >= lengths[:, None]
    index = starts[:, None] + offsets[None, :]
    index[outside] = 0
    return index, outside


def interval_windows(values: np.ndarray, starts: np.ndarray, stops: np.ndarray, fill: float = np.nan,
                     index: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """A (m, max_len) array of ``values[start:stop]`` per interval, padded with ``fill``.

    ``index``: ``window_index(starts, stops)`` when the caller has it already.
    """
    if np.asarray(starts).size == 0:
        return np.zeros((0, 0), dtype=float)
    gather, outside = index if index is not None else window_index(starts, stops)
    windows = np.asarray(values)[gather].astype(float, copy=False)  # cut, then converted: the same values
    windows[outside] = fill
    return windows


def interval_argmax(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Index (into ``values``) of the first maximum within each non-empty interval."""
    windows = interval_windows(values, starts, stops, fill=-np.inf)
    if windows.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(starts, dtype=np.int64) + np.argmax(np.nan_to_num(windows, nan=-np.inf), axis=1)


def hysteresis(values: np.ndarray, high: float | np.ndarray, low: float | np.ndarray) -> np.ndarray:
    """True from where ``values`` rises to ``high`` until it falls below ``low``.

    Starts False. NaN counts as below ``low`` (a gap ends a contact).
    """
    values = np.asarray(values, dtype=float)
    n = values.size
    on = values >= high
    off = ~(values >= low)  # NaN -> off
    # index of the last switching sample at or before i, and which way it switched
    index = np.arange(n)
    last_on = np.maximum.accumulate(np.where(on, index, -1)) if n else index
    last_off = np.maximum.accumulate(np.where(off, index, -1)) if n else index
    return last_on > last_off


def last_true_at_or_before(mask: np.ndarray) -> np.ndarray:
    """For each i, the largest j <= i with mask[j] (or -1)."""
    index = np.arange(mask.size)
    return np.maximum.accumulate(np.where(mask, index, -1)) if mask.size else index


def next_true_at_or_after(mask: np.ndarray) -> np.ndarray:
    """For each i, the smallest j >= i with mask[j] (or len(mask))."""
    n = mask.size
    index = np.arange(n)
    if not n:
        return index
    return np.minimum.accumulate(np.where(mask, index, n)[::-1])[::-1]

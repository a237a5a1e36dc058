"""Force-curve features of each stance, and time-normalised stance curves.

For the stance samples ``[heel strike, toe off)`` of each contact:

* ``first_peak``: the largest force in the first half of stance (weight acceptance);
* ``second_peak``: the largest force in the second half (push-off);
* ``valley``: the smallest force between the two peaks (mid-stance);
* each in N (when the force is calibrated), in body weights (BW), with its
  timing in % of stance (sample time minus heel strike, over stance time);
* ``max_force`` and ``mean_force`` over stance;
* ``loading_rate_bw_s``: the mean slope of the rise between 20 % and 80 % of
  the first peak (crossing times interpolated between samples), in BW/s;
* ``impulse``: the force-time integral over stance (rectangle rule, N s and BW s);
* ``valley_ratio``: the valley over the mean of the two peaks (scale-free: the
  same in N, BW or au; NaN unless the peaks' mean is positive). A flattened
  curve (little unloading in mid-stance) has a ratio near 1.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from insole.analysis._segments import interval_windows, nan_to_num_inplace, small_table

__all__ = ["FeatureWork", "StanceGrid", "force_features", "normalised_curves", "stance_grid", "valley_ratio"]


def force_features(
    force: np.ndarray, hs: np.ndarray, to: np.ndarray, sample_rate_hz: float, body_weight: float, calibrated: bool,
    windows: np.ndarray | None = None, work: FeatureWork | None = None,
) -> dict[str, np.ndarray]:
    """Per-contact force-curve features; ``hs``/``to`` are sample indices with ``hs < to``.

    ``windows``: ``interval_windows(force, hs, to)`` when the caller has it already (it is not changed); ``work``:
    arrays of the windows' shape to work in (a caller's, reused block after block; overwritten), else new ones.
    """
    m = hs.size
    out: dict[str, np.ndarray] = {}
    if m == 0:
        for name in _COLUMNS:
            out[name] = np.zeros(0)
        return out
    if windows is None:
        windows = interval_windows(force, hs, to)  # (m, L), NaN-padded
    length = to - hs
    half = length // 2
    # each step's samples are those of each row before or from a column of its own (a prefix or a suffix of the row):
    # rows of two small tables (the row t: the columns before t, or from t) gathered into a work array, where comparing
    # a column index with a number a row took ~8x as long (a (1, L) by (m, 1) broadcast). Every row index lies in
    # [0, L]: the stances' lengths and halves are at most the windows' width L, the peaks' indices below it
    before, after = _prefix_tables(windows.shape[1], windows.shape[0])
    # one (m, L) float and two boolean work arrays for every step below (each step's array was a new one): ``values``
    # holds the windows with the samples a step must not pick set to -inf / inf / 0, ``mask`` and ``inside`` the
    # samples it may
    arrays = work if work is not None else FeatureWork.for_windows(windows.shape)
    values, mask, inside = arrays.a, arrays.flags, _rows_of(before, length, arrays.other_flags)
    # the first peak in the first half, the second in the second (the first half lies inside: half <= length)
    p1 = np.argmax(_kept(windows, _rows_of(before, half, mask), -np.inf, values), axis=1)
    _rows_of(after, half, mask)
    mask &= inside
    p2 = np.argmax(_kept(windows, mask, -np.inf, values), axis=1)
    rows = np.arange(m)
    f1 = windows[rows, p1]
    f2 = windows[rows, p2]
    # the valley between the two peaks (``inside``, not needed any more, takes the second bound's mask)
    _rows_of(after, p1, mask)
    mask &= _rows_of(before, p2 + 1, inside)
    v = np.argmin(_kept(windows, mask, np.inf, values), axis=1)
    fv = windows[rows, v]
    stance_samples = np.maximum(length, 1)
    dt = 1.0 / sample_rate_hz

    bw = body_weight if (body_weight and np.isfinite(body_weight) and body_weight > 0) else np.nan
    unit_n = 1.0 if calibrated else np.nan
    # the windows are NaN past each stance's end already: they are their own stance-only values. np.nanmean's and
    # np.nansum's steps, in ``values``: the windows with NaN as zero (which the stance-only values are past the end as
    # well), their sum (the impulse's and the mean's) and the count of non-NaN samples
    missing = np.isnan(windows, out=mask)
    # NaN only in the padding past each stance's end (the usual case; the windows are NaN there)?
    nan_in_stances = np.count_nonzero(missing) != missing.size - int(length.sum())
    # the largest force of each stance: then the larger of the two peaks, the largest of the first half and of the
    # rest (np.nanmax's number, without its pass along each row), unless it is zero, whose sign (+0.0 or -0.0) is the
    # one np.nanmax's own order of the samples finds
    largest = np.maximum(f1, f2)
    if nan_in_stances or not largest.all():
        largest = np.nanmax(windows, axis=1)
    np.copyto(values, windows)
    if not nan_in_stances:
        # each row's count of non-NaN samples is its stance's length, without a count along each row (~5x a count of
        # the whole array)
        count = length
    else:
        count = windows.shape[1] - missing.sum(axis=1, dtype=np.intp)
    np.copyto(values, 0, where=missing)
    total = values.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_force = np.divide(total, count, out=np.empty(m), casting="unsafe")
    out["max_force_n"] = largest * unit_n
    out["mean_force_n"] = mean_force * unit_n
    out["max_force_bw"] = largest / bw
    for name, value, index in (("first_peak", f1, p1), ("valley", fv, v), ("second_peak", f2, p2)):
        out[f"{name}_n"] = value * unit_n
        out[f"{name}_bw"] = value / bw
        out[f"{name}_pct"] = 100.0 * index / stance_samples
    impulse = total * dt
    out["impulse_n_s"] = impulse * unit_n
    out["impulse_bw_s"] = impulse / bw
    out["valley_ratio"] = valley_ratio(f1, fv, f2)

    # loading rate between 20 % and 80 % of the first peak, on the rise before it
    low, high = 0.2 * f1, 0.8 * f1
    t_low = _first_crossing(windows, p1, low, dt, mask)
    t_high = _first_crossing(windows, p1, high, dt, mask)
    with np.errstate(invalid="ignore", divide="ignore"):  # (no rise between the two levels: NaN below)
        rate = (high - low) / (t_high - t_low)
    rate = np.where(t_high > t_low, rate, np.nan)
    out["loading_rate_n_s"] = rate * unit_n
    out["loading_rate_bw_s"] = rate / bw
    return out


class _Comparison(NamedTuple):
    """A row mask made by comparing the column index with each row's value (``compare(columns, t)``) where the
    lookup table of ``_prefix_tables`` would be too large."""

    width: int
    compare: np.ufunc


class _Prefixes(NamedTuple):
    """Row t of ``before``: True at the columns before t; of ``after``: from t on (``width`` columns, t in [0,
    width]). Two lookup tables gathered row by row where they are small (``small_table``); else comparisons
    (``_Comparison``), the same booleans."""

    before: np.ndarray | _Comparison
    after: np.ndarray | _Comparison


def _prefix_tables(width: int, rows: int | None = None) -> _Prefixes:
    """The two tables for ``width`` columns (``rows``: how many rows they will serve; None: as many as the width), or
    comparisons where a table would be too large for them."""
    if not small_table(width, width + 1 if rows is None else rows):
        return _Prefixes(_Comparison(width, np.less), _Comparison(width, np.greater_equal))
    before = np.less(np.arange(width)[None, :], np.arange(width + 1)[:, None])
    return _Prefixes(before, ~before)


def _rows_of(table: np.ndarray | _Comparison, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``table[rows]`` written into ``out`` (its shape); every index of ``rows`` lies inside the table (mode "clip"
    takes the rows in place, where "raise" would copy ``out`` first; nothing is clipped). A ``_Comparison``
    compares the columns with ``rows`` instead."""
    if isinstance(table, _Comparison):
        return table.compare(np.arange(table.width)[None, :], np.asarray(rows)[:, None], out=out)
    return np.take(table, rows, axis=0, out=out, mode="clip")
    columns = np.arange(abs(table))[None, :]
    compare = np.less if table < 0 else np.greater_equal
    return compare(columns, np.asarray(rows)[:, None], out=out)


def _kept(windows: np.ndarray, keep: np.ndarray, other: float, work: np.ndarray) -> np.ndarray:
    """``np.where(keep, windows, other)``, written into ``work``."""
    work.fill(other)
    np.copyto(work, windows, where=keep)
    return work


_COLUMNS = (
    "max_force_n", "mean_force_n", "max_force_bw",
    "first_peak_n", "first_peak_bw", "first_peak_pct",
    "valley_n", "valley_bw", "valley_pct",
    "second_peak_n", "second_peak_bw", "second_peak_pct",
    "impulse_n_s", "impulse_bw_s", "loading_rate_n_s", "loading_rate_bw_s", "valley_ratio",
)


class FeatureWork(NamedTuple):
    """Work arrays of one block of stance windows (stances x longest stance), C-contiguous: two float and two
    boolean. ``force_features`` works in ``a``, ``flags`` and ``other_flags``; ``cop_features`` in all four."""

    a: np.ndarray
    b: np.ndarray
    flags: np.ndarray
    other_flags: np.ndarray

    @classmethod
    def for_windows(cls, shape: tuple[int, ...]) -> FeatureWork:
        return cls(np.empty(shape), np.empty(shape), np.empty(shape, dtype=bool), np.empty(shape, dtype=bool))

    def head(self, rows: int) -> FeatureWork:
        """The same memory as arrays of the first ``rows`` rows (the rows of a shorter block)."""
        return FeatureWork(*(part[:rows] for part in self))


def valley_ratio(first_peak: np.ndarray, valley: np.ndarray, second_peak: np.ndarray) -> np.ndarray:
    """Valley / mean of the two peaks, per stance; NaN where that mean is not positive (or a value is NaN)."""
    peaks = 0.5 * (np.asarray(first_peak, dtype=np.float64) + np.asarray(second_peak, dtype=np.float64))
    positive = peaks > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(positive, np.asarray(valley, dtype=np.float64) / np.where(positive, peaks, 1.0), np.nan)


def _first_crossing(windows: np.ndarray, last: np.ndarray, level: np.ndarray, dt: float,
                    work: np.ndarray | None = None) -> np.ndarray:
    """Time (s from the window start) where each row first reaches ``level`` at or before its column ``last``,
    interpolated. ``work``: a boolean array of the windows' shape to use for the samples reached (a caller's,
    overwritten)."""
    reached = np.greater_equal(windows, level[:, None], out=work)
    # the first sample reached in the whole row is the first one up to ``last`` when it lies there, and none up to
    # it lies there when it does not (or when none is reached: argmax then 0, a sample not reached): no mask of
    # the columns up to ``last`` and no pass over the rows for whether any is reached
    first = np.argmax(reached, axis=1)
    rows = np.arange(windows.shape[0])
    has = reached[rows, first] & (first <= last)
    prev = np.maximum(first - 1, 0)
    y0 = windows[rows, prev]
    y1 = windows[rows, first]
    fraction = np.where((first > 0) & (y1 > y0), (level - y0) / np.where(y1 > y0, y1 - y0, 1.0), 0.0)
    time = (prev + np.clip(fraction, 0, 1)) * dt
    time = np.where(first == 0, 0.0, time)
    return np.where(has, time, np.nan)


class StanceGrid(NamedTuple):
    """Where 0..100 % of each stance falls between samples, each (m, points): the samples either side
    (``lower``, ``upper``), the weight of the upper one and of the lower one (``1 - weight``), and where a
    point falls on a sample exactly (``weight`` not above 0: the lower sample alone)."""

    lower: np.ndarray
    upper: np.ndarray
    weight: np.ndarray
    keep: np.ndarray
    exact: np.ndarray


def stance_grid(hs: np.ndarray, to: np.ndarray, points: int, n: int, out: StanceGrid | None = None) -> StanceGrid:
    """The ``StanceGrid`` of these stances.

    Shared by every curve of the same stances (force, COP x, COP y), so the
    grid is computed once. ``out``: a ``StanceGrid`` of C-contiguous (m, points) arrays of its dtypes (int64, int64,
    float64, float64, bool) to write it into (a caller's buffers, reused block after block), else new ones.
    """
    m = hs.size
    if out is None:
        out = StanceGrid(np.empty((m, points), dtype=np.int64), np.empty((m, points), dtype=np.int64),
                         np.empty((m, points)), np.empty((m, points)), np.empty((m, points), dtype=bool))
    fraction = _fractions(points)
    # position = hs + fraction x (to - 1 - hs), formed in ``weight`` (the same operations, one array for the three
    # float steps: position, then position minus its floor); the stances' few ints are made floats first, which the
    # products would do anyway, block by block through a cast buffer (to - 1 - hs subtracted as floats: the same
    # numbers for sample indices, all below 2^53, in one call with the cast)
    position = np.multiply(fraction, np.subtract(to - 1, hs, dtype=np.float64)[:, None], out=out.weight)
    np.add(position, hs.astype(np.float64)[:, None], out=position)
    # positions are >= 0: their floor is their truncation to int64 and back (in ``keep`` until it is needed)
    floor = np.floor(position, out=out.keep)
    lower = out.lower
    np.copyto(lower, floor, casting="unsafe")
    upper = np.add(lower, 1, out=out.upper)
    np.minimum(upper, n - 1, out=upper)
    weight = np.subtract(position, floor, out=position)
    keep = np.subtract(1, weight, out=out.keep)
    exact = np.less_equal(weight, 0, out=out.exact)  # (not above 0: the weights are finite, never NaN)
    return StanceGrid(lower, upper, weight, keep, exact)


@functools.lru_cache(maxsize=8)
def _fractions(points: int) -> np.ndarray:
    """``np.linspace(0, 1, points)`` as a read-only (1, points) row, made once for a number of points (the grid is
    made block after block of stances: np.linspace's Python steps each time were ~0.5 ms of held GIL an hour)."""
    row = np.linspace(0.0, 1.0, points)[None, :]
    row.flags.writeable = False
    return row


def normalised_curves(
    signal: np.ndarray, hs: np.ndarray, to: np.ndarray, points: int,
    grid: StanceGrid | None = None, nan_as_zero: bool = False,
    out: np.ndarray | None = None, scratch: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(m, points) samples of ``signal`` at 0..100 % of each stance, linearly interpolated.

    0 % is the heel-strike sample and 100 % the last stance sample before toe off.
    NaN in the signal stays NaN where it is used, unless ``nan_as_zero``: then
    the curves are those of ``np.nan_to_num(signal)`` (only the samples used are
    converted, not the whole signal). ``grid`` is ``stance_grid`` of the same
    stances, when the caller has it already.

    ``out`` (float64, C-contiguous, (m, points)): where to write the curves; ``scratch``: two more such arrays for
    the samples gathered either side (a caller's buffers, reused). Both only for a float64 ``signal`` whose
    grid indices all lie inside it (its own whole-signal grid); the numbers are the same either way.
    """
    if hs.size == 0:
        return np.zeros((0, points))
    grid = grid if grid is not None else stance_grid(hs, to, points, signal.size)
    # lower x (1 - weight) + upper x weight, and the lower sample alone where a point falls on it; the
    # gathered samples are this call's own, so the products are formed in place (the same operations)
    if scratch is not None and signal.dtype == np.float64:
        # gathered into the caller's buffers; "clip" takes them in place where "raise" would copy the buffer
        # first (the indices lie inside the signal, so nothing is clipped)
        at_lower = np.take(signal, grid.lower, out=scratch[0], mode="clip")
        at_upper = np.take(signal, grid.upper, out=scratch[1], mode="clip")
    else:
        at_lower, at_upper = np.take(signal, grid.lower), np.take(signal, grid.upper)
    if nan_as_zero:
        nan_to_num_inplace(at_lower)
        nan_to_num_inplace(at_upper)
    if out is not None and at_lower.dtype == np.float64:
        curves = np.multiply(at_lower, grid.keep, out=out)
    else:
        curves = at_lower * grid.keep
    if at_upper.dtype == curves.dtype:
        curves += np.multiply(at_upper, grid.weight, out=at_upper)
    else:
        curves += at_upper * grid.weight
    np.copyto(curves, at_lower, where=grid.exact)
    if out is not None and curves is not out:
        out[...] = curves
        return out
    return curves

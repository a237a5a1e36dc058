"""Centre of pressure (COP) in the foot frame and the per-stance gait-line features.

COP = sum(w_i r_i) / sum(w_i) over the used sensors, with ``w_i`` each
sensor's positive load (force, or pressure with equal areas assumed when the
areas are unknown) and ``r_i`` its position (x heel to toe, y positive
medial, mm). It is masked (NaN) where the foot carries less than
``cop_min_force_fraction`` of body weight, or where the layout cannot place a
COP (fewer than 3 used sensors, or all of them in a line). As a weighted mean
with non-negative weights it always lies inside the convex hull of the used
sensors.

Per stance (heel strike to toe off), on the samples with a COP:

* ``cop_start_x_mm`` / ``cop_start_y_mm`` and ``cop_end_*``: first and last COP;
* ``gait_line_length_mm``: the heel-to-toe progression, end x minus start x;
* ``gait_line_width_mm``: the medial-lateral range (max y - min y);
* ``cop_path_length_mm``: the length of the COP path;
* ``cop_ml_offset_mm``: the force-weighted mean y (positive = medial);
* ``cop_ml_offset_pct``: that offset as % of the layout's ball width
  (``SensorLayout.ball_width_mm``), so feet of different sizes compare; only
  where the layout has a medial and a lateral sensor at the heel and at the
  forefoot (``cop_ml_assessable``: otherwise the offset mostly follows where
  the sensors sit, and the column is absent);
* ``cpei_pct``: centre of pressure excursion index (Song et al. 1996): at the
  anterior third of the foot (x = 2/3 foot length), the lateral distance of
  the COP from the line joining the first and last COP points, as % of the
  insole width there; positive when the COP lies lateral of that line. Only
  where the layout has medial and lateral sensors in front of and behind that
  line (otherwise NaN and the quality says why).
"""

from __future__ import annotations

import functools

import numpy as np

from insole._layout import SensorLayout
from insole.analysis._force import FeatureWork
from insole.analysis._segments import all_finite, interval_windows, window_index

__all__ = ["cop_path", "cop_features", "cop_capability", "cop_ml_assessable"]

# samples per block of the COP moment product (16 sensors x 16384 x 8 bytes = 2 MiB)
_COP_BLOCK = 16384
# samples per block of the COP at chosen samples (``cop_path(samples=...)``): its gathered loads, their float64 copy
# and sums (16 sensors x 8192 x 12 bytes, 1.5 MB) stay in a core's cache (2 MB of L2 here). With each block a few
# numpy calls, 4096 to 8192 measured alike (thread CPU a foot of the simulated hour, min of 20 runs, six times: 10.1
# to 11.2 ms for 8192, 10.1 to 11.9 for 4096, 12.3 to 13.5 for 16384); 8192 takes and gives back the GIL half as
# often. Each sample's COP is the same number in any block of two or more samples
_COP_AT_BLOCK = 8192


def cop_capability(layout: SensorLayout, used: np.ndarray) -> tuple[bool, bool, str]:
    """Whether the used sensors can place a COP, and whether they support CPEI, with the reason if not."""
    x, y = layout.x_mm[used], layout.y_mm[used]
    if used.sum() < 3:
        return False, False, f"COP needs at least 3 sensors ({int(used.sum())} used)"
    return _placed(x.dtype.str, x.tobytes(), y.dtype.str, y.tobytes(), layout.foot_length_mm)


@functools.lru_cache(maxsize=64)
def _placed(x_dtype: str, x_bytes: bytes, y_dtype: str, y_bytes: bytes, length: float) -> tuple[bool, bool, str]:
    """``cop_capability`` of three or more sensors at these positions (a layout's answer, worked out once: the
    rank test is a LAPACK call, which the stance stage of each foot would otherwise make on its own thread)."""
    x, y = np.frombuffer(x_bytes, dtype=x_dtype), np.frombuffer(y_bytes, dtype=y_dtype)
    centred = np.column_stack([x - x.mean(), y - y.mean()])
    if np.linalg.matrix_rank(centred, tol=1e-6) < 2:
        return False, False, "COP needs sensors that are not all in a line"
    anterior = x > length / 2
    posterior = x < length / 3
    front_spread = np.ptp(y[anterior]) if anterior.sum() >= 2 else 0.0
    if not posterior.any() or front_spread < 0.1 * length:
        return True, False, "CPEI needs medial and lateral sensors in the forefoot and a heel sensor"
    return True, True, ""


def cop_ml_assessable(layout: SensorLayout) -> bool:
    """True when the layout has a medial and a lateral sensor at the heel and at the forefoot."""
    regions = set(layout.regions)
    return {"medial_heel", "lateral_heel"} <= regions and {"first_metatarsal", "lateral_metatarsals"} <= regions


def cop_path(
    positive_load_t: np.ndarray, layout: SensorLayout, force: np.ndarray, min_force: float,
    samples: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample COP x and y (mm), NaN where masked; ``positive_load_t`` is (sensors, samples).

    ``samples``: only these sample indices are wanted (the stances' own, say); the others are NaN. Each
    sample's COP does not depend on the others, so those asked for are the same numbers either way.

    Excluded sensors carry zero load already. The total and the two moments
    come from a small (3 x sensors) by (sensors x samples) product in float64,
    block by block (a float64 copy of a block fits in cache; of the whole
    array it would not): a weighted mean in float64 with non-negative weights
    stays inside the sensors' hull, which float32 sums do not guarantee. The
    product is numpy's own einsum loop, not BLAS: a multi-threaded BLAS spins
    its threads on such thin products and burns more CPU than it saves.
    """
    loads = np.asarray(positive_load_t)
    n = loads.shape[1]
    weights = np.vstack([np.ones(layout.n_sensors), layout.x_mm, layout.y_mm]).astype(np.float64)
    if samples is not None:
        return _cop_at(loads, weights, force, min_force, np.asarray(samples, dtype=np.int64))
    sums = np.empty((3, n))
    block = np.empty((loads.shape[0], _COP_BLOCK))  # the float64 copy of each full block, one buffer for all
    for start in range(0, n, _COP_BLOCK):  # one product per block of samples, not per sample
        stop = start + _COP_BLOCK
        if stop <= n:
            np.copyto(block, loads[:, start:stop])
            np.einsum("jk,kn->jn", weights, block, out=sums[:, start:stop])
        else:
            np.einsum("jk,kn->jn", weights, loads[:, start:stop].astype(np.float64), out=sums[:, start:stop])
    total, moment_x, moment_y = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        x = moment_x / total
        y = moment_y / total
    masked = ~(total > 0) | ~(force >= min_force) | ~np.isfinite(force)
    x[masked] = np.nan
    y[masked] = np.nan
    return x, y


def _cop_at(loads: np.ndarray, weights: np.ndarray, force: np.ndarray, min_force: float,
            samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cop_path`` at ``samples`` only (NaN elsewhere): each sample's sums are the same products over the
    sensors, taken block by block of the samples asked for (a block's float64 copy stays small). Each block is a
    few numpy calls over both coordinates at once, and the force's part of the mask is one pass over all the
    samples: every call releases the GIL and must take it back, and the other foot's thread may hold it meanwhile."""
    n, k = loads.shape[1], loads.shape[0]
    # the gathers below clip an index out of range instead of raising (to gather in place): a caller's bug must
    # still be loud
    if samples.size and not (0 <= samples.min() and samples.max() < n):
        raise IndexError(f"COP samples outside the recording's {n} samples")
    # x and y as the two rows of one array: one allocation, at an hour's size (5.8 MB) one large enough for numpy to
    # ask the kernel for huge pages (two separate rows cost ~1100 page faults a foot of the simulated hour)
    x, y = np.full((2, n), np.nan)
    # one set of buffers for every block (a fresh set per block was most of this stage's allocations): the gathered
    # loads and their float64 copy, the three sums and a mask; a shorter block uses contiguous arrays at the start
    # of the same memory (``_head``), laid out as new ones of its width would be
    size = max(min(samples.size, _COP_AT_BLOCK), 2)
    gathered = np.empty((k, size), dtype=loads.dtype)
    block = np.empty((k, size))
    sums = np.empty((3, size))
    low = np.empty(size, dtype=bool)
    whole_sums = sums[0], sums[1:], sums[1], sums[2]  # (a full block's total, x and y, and each of them)
    with np.errstate(invalid="ignore", divide="ignore"):  # (the quotients of a zero total: masked below)
        for start in range(0, samples.size, _COP_AT_BLOCK):
            at = samples[start:start + _COP_AT_BLOCK]
            width = at.size
            if width == size:
                # "clip" gathers into the buffer in place ("raise" would copy it first); the samples lie inside
                np.copyto(block, np.take(loads, at, axis=1, out=gathered, mode="clip"))
                np.einsum("jk,kn->jn", weights, block, out=sums)
                total, xy, at_x, at_y = whole_sums
                bad = low
            else:
                # a block of one sample is taken as two (the sample twice): einsum sums a single column in another
                # order, and a sample's COP must not depend on where the blocks of samples end (stretches of a
                # recording)
                wide = max(width, 2)
                cut, found = _head(block, wide), _head(sums, wide)
                if width == 1:
                    np.copyto(cut, loads[:, np.repeat(at, 2)])
                else:
                    np.copyto(cut, np.take(loads, at, axis=1, out=_head(gathered, width), mode="clip"))
                np.einsum("jk,kn->jn", weights, cut, out=found)
                total, xy = found[0, :width], found[1:, :width]
                at_x, at_y = xy
                bad = low[:width]
            np.divide(xy, total, out=xy)  # x and y, in place of their moments
            # masked (NaN) where the total is not positive
            np.copyto(xy, np.nan, where=np.logical_not(np.greater(total, 0, out=bad), out=bad))
            x[at] = at_x
            y[at] = at_y
    # and where the force is below the least or not finite: ~(force >= min_force) | ~isfinite(force), one pass over
    # the samples' forces for all the blocks
    at_force = np.take(force, samples, mode="clip")
    force_ok = np.greater_equal(at_force, min_force)
    force_ok &= np.isfinite(at_force)
    if not force_ok.all():
        weak = samples[np.logical_not(force_ok, out=force_ok)]
        x[weak] = np.nan
        y[weak] = np.nan
    return x, y


def cop_features(
    cop_x: np.ndarray,
    cop_y: np.ndarray,
    force: np.ndarray,
    hs: np.ndarray,
    to: np.ndarray,
    layout: SensorLayout,
    cpei_possible: bool,
    index: tuple[np.ndarray | None, np.ndarray] | None = None,
    force_windows: np.ndarray | None = None,
    work: FeatureWork | None = None,
) -> dict[str, np.ndarray]:
    """The per-stance gait-line features of the module's docstring, one array each.

    ``cop_x`` and ``cop_y`` are a COP path as ``cop_path`` gives it: NaN at the same samples, finite elsewhere.
    ``index``: ``window_index(hs, to)`` (or ``interval_windows``' ``(None, outside)``), and ``force_windows``:
    ``interval_windows(force, hs, to)``, when the caller has them already (neither is changed). ``work``: arrays
    of the windows' shape to work in (a caller's, reused block after block; overwritten), else new ones.
    """
    m = hs.size
    names: tuple[str, ...] = (
        "cop_start_x_mm", "cop_start_y_mm", "cop_end_x_mm", "cop_end_y_mm", "gait_line_length_mm",
        "gait_line_width_mm", "cop_path_length_mm", "cop_ml_offset_mm", "cpei_pct",
    )
    ml_ok = cop_ml_assessable(layout)
    if ml_ok:
        names += ("cop_ml_offset_pct",)
    if m == 0:
        return {name: np.zeros(0) for name in names}
    index = index if index is not None else window_index(hs, to)
    wx = interval_windows(cop_x, hs, to, index=index)
    wy = interval_windows(cop_y, hs, to, index=index)
    wf = force_windows if force_windows is not None else interval_windows(force, hs, to, index=index)
    m, width = wx.shape
    if work is None:
        work = FeatureWork.for_windows(wx.shape)
    has = np.isfinite(wx, out=work.other_flags)
    rows = np.arange(m)
    first = np.argmax(has, axis=1)
    any_cop = has[rows, first]  # (argmax finds the first sample with a COP, or 0 in a row without one)
    # the last sample with a COP: the first of each row read backwards, the rows' flags made reversed into a work
    # array (np.argmax would copy the reversed view first)
    last = width - 1 - np.argmax(np.isfinite(wx[:, ::-1], out=work.flags), axis=1)
    out: dict[str, np.ndarray] = {}
    start_x = np.where(any_cop, wx[rows, first], np.nan)
    start_y = np.where(any_cop, wy[rows, first], np.nan)
    end_x = np.where(any_cop, wx[rows, last], np.nan)
    end_y = np.where(any_cop, wy[rows, last], np.nan)
    out["cop_start_x_mm"], out["cop_start_y_mm"] = start_x, start_y
    out["cop_end_x_mm"], out["cop_end_y_mm"] = end_x, end_y
    out["gait_line_length_mm"] = end_x - start_x
    # two (stances x longest stance) float work arrays and a boolean one for every step below, instead of a new
    # array per step (np.where's, np.diff's, the copies and masks); the steps' (stances x longest - 1) arrays are
    # contiguous ones at the start of the same memory
    work_a, work_b, flags = work.a, work.b, work.flags
    with np.errstate(all="ignore"):
        # the largest and least y of the samples with a COP: y is NaN exactly where x is (``has`` false), and
        # fmax/fmin pass NaN over, so they are the numbers of nanmax/nanmin with -inf/inf put there first (a row
        # without a COP, NaN here, is NaN in the column anyway)
        highest, lowest = _row_extremes(wy, work_b)
        out["gait_line_width_mm"] = np.where(any_cop, highest - lowest, np.nan)
        # each step's length (np.diff's differences, then their hypotenuse in the x differences' array); NaN steps
        # as zeros, summed: a NaN-sum
        steps, dy = _head(work_b, width - 1), _head(work_a, width - 1)
        np.subtract(wx[:, 1:], wx[:, :-1], out=steps)
        np.subtract(wy[:, 1:], wy[:, :-1], out=dy)
        np.hypot(steps, dy, out=steps)
        np.copyto(steps, 0.0, where=np.isnan(steps, out=_head(flags, width - 1)))
        out["cop_path_length_mm"] = np.where(any_cop, steps.sum(axis=1), np.nan)
        # the stance force, clipped at zero, where the COP is known (zero elsewhere): clipped first (NaN stays NaN,
        # infinities go to zero or stay), then NaN to zero and infinities to the largest float, the numbers of
        # clip(nan_to_num(force), 0). The samples without a COP are zeroed first: the conversion then has nothing
        # to convert when what is left is finite (the usual case: one sum tells), and converts the same values if not
        weight = np.clip(wf, 0, None, out=work_a)
        no_cop = np.logical_not(has, out=flags)
        np.copyto(weight, 0.0, where=no_cop)
        if not all_finite(weight):  # (rare: a NaN or infinite force where the COP is known)
            _nan_to_zero(weight, np.empty(weight.shape, dtype=bool))
        total = weight.sum(axis=1)
        # finite weights times finite positions where the COP is known, zero elsewhere (zero weight times y as zero,
        # as before): nothing for a NaN-sum to skip, a plain sum is the same
        moment_terms = np.multiply(weight, wy, out=work_b)
        np.copyto(moment_terms, 0.0, where=no_cop)
        moment = moment_terms.sum(axis=1)
        out["cop_ml_offset_mm"] = np.where(total > 0, moment / total, np.nan)
    if ml_ok:
        out["cop_ml_offset_pct"] = 100.0 * out["cop_ml_offset_mm"] / layout.ball_width_mm
    out["cpei_pct"] = (_cpei(wx, wy, start_x, start_y, end_x, end_y, layout, has, flags) if cpei_possible
                       else np.full(m, np.nan))
    return out


def _row_extremes(windows: np.ndarray, work: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.fmax.reduce(windows, axis=1)`` and ``np.fmin.reduce(windows, axis=1)`` of a C-contiguous 2-D array;
    ``work``: a C-contiguous float64 array of as many elements (overwritten).

    Reduced down the columns of a transposed copy (one long inner loop a column, about half the time of a short one
    a row, with the copy): the largest and least of some numbers are the same numbers in any order, NaN passed over
    either way (a row all NaN is NaN), but for zeros, whose sign (+0.0 or -0.0) is the one the order finds: when an
    extreme is a zero (rare: a COP exactly on the midline) the rows' own reductions are taken, as before."""
    rows, columns = windows.shape
    if rows < 2 or columns < 2:
        return np.fmax.reduce(windows, axis=1), np.fmin.reduce(windows, axis=1)
    columns_first = work.reshape(-1)[:rows * columns].reshape(columns, rows)
    np.copyto(columns_first, windows.T)
    highest, lowest = np.fmax.reduce(columns_first, axis=0), np.fmin.reduce(columns_first, axis=0)
    if not (highest.all() and lowest.all()):  # (a zero among them; NaN is not)
        return np.fmax.reduce(windows, axis=1), np.fmin.reduce(windows, axis=1)
    return highest, lowest


def _head(work: np.ndarray, columns: int) -> np.ndarray:
    """A C-contiguous (rows, ``columns``) array on the first elements of the C-contiguous 2-D ``work`` (at most as
    many columns)."""
    return work.reshape(-1)[:work.shape[0] * columns].reshape(work.shape[0], columns)


def _nan_to_zero(values: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """``nan_to_num_inplace(values)``, NaN to zero and infinities to the largest finite floats in place, with
    ``flags``, a boolean array of the same shape, for the masks (no copies of the values that are not finite)."""
    np.copyto(values, 0.0, where=np.isnan(values, out=flags))
    if np.isinf(values, out=flags).any():  # (rare)
        values[flags] = np.nan_to_num(values[flags])
    return values


def _cpei(wx, wy, start_x, start_y, end_x, end_y, layout: SensorLayout, finite=None, flags=None) -> np.ndarray:
    """The CPEI of each stance; ``finite``: ``np.isfinite(wx)`` when the caller has it, ``flags``: a boolean array
    of the windows' shape to use (overwritten)."""
    x_third, width = _anterior_third(layout)
    reached = np.greater_equal(wx, x_third, out=flags)
    reached &= np.isfinite(wx) if finite is None else finite
    has = reached.any(axis=1)
    k = np.argmax(reached, axis=1)
    rows = np.arange(wx.shape[0])
    prev = np.maximum(k - 1, 0)
    x0, x1 = wx[rows, prev], wx[rows, k]
    y0, y1 = wy[rows, prev], wy[rows, k]
    fraction = np.where(np.isfinite(x0) & (x1 > x0), (x_third - x0) / np.where(x1 > x0, x1 - x0, 1.0), 1.0)
    y_cop = np.where(np.isfinite(y0), y0 + np.clip(fraction, 0, 1) * (y1 - y0), y1)
    span = end_x - start_x
    valid = has & (start_x < x_third) & (end_x > x_third) & (span > 0)
    with np.errstate(all="ignore"):
        y_line = start_y + (end_y - start_y) * (x_third - start_x) / span
        cpei = 100.0 * (y_line - y_cop) / width
    return np.where(valid, cpei, np.nan)


def _anterior_third(layout: SensorLayout) -> tuple[float, float]:
    """The x of the anterior third of the foot (2/3 of its length) and the insole's width there (mm), from the
    outline: a layout's two numbers, worked out once (``_third_of``)."""
    outline = np.ascontiguousarray(layout.outline_mm, dtype=np.float64)
    return _third_of(outline.tobytes(), outline.shape[0], layout.foot_length_mm)


@functools.lru_cache(maxsize=64)
def _third_of(outline_bytes: bytes, points: int, length: float) -> tuple[float, float]:
    """``_anterior_third`` of an outline of ``points`` (x, y) rows."""
    outline = np.frombuffer(outline_bytes, dtype=np.float64).reshape(points, 2)
    x_third = 2.0 * length / 3.0
    medial = outline[outline[:, 1] >= 0]
    lateral = outline[outline[:, 1] <= 0]
    med_half = np.interp(x_third, *_sorted(medial))
    lat_half = np.interp(x_third, *_sorted(lateral))
    return x_third, abs(med_half) + abs(lat_half)


def _sorted(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(points[:, 0])
    return points[order, 0], points[order, 1]

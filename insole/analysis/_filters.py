"""A zero-phase Butterworth low-pass in plain numpy (no scipy.signal, whose import costs ~0.7 s and ~100 MB).

Two functions, equal to the scipy calls the analysis used to make, to double-precision rounding:

* ``butter_lowpass_sos(order, cutoff_hz, sample_rate_hz)`` is ``scipy.signal.butter(order, cutoff_hz,
  fs=sample_rate_hz, output="sos")``: the analog Butterworth prototype (poles evenly spaced on the left half of
  the unit circle), scaled to the cutoff pre-warped for the bilinear transform, mapped to the z-plane, and split
  into second-order sections the way scipy's ``zpk2sos`` (pairing "nearest") splits them: the pole pair nearest the
  unit circle in the last section, the overall gain in the first, and for odd orders the real pole in the first
  section with an extra pole and zero at the origin.
* ``zero_phase(sos, x, axis=-1)`` is ``scipy.signal.sosfiltfilt(sos, x, axis)`` with its defaults: the signal is
  extended at each end by an odd reflection of ``padlen`` samples, filtered forward from the steady state of its
  first value, filtered backward from the steady state of the forward output's last value, and trimmed.

How the causal pass runs without a per-sample loop:

1. Starting a filter in the steady state of a constant input ``c`` (what scipy's ``sosfilt_zi`` times the first
   value does) is the same as the input having been ``c`` forever before the first sample. So the output is
   ``G c`` (``G`` the gain at 0 Hz) plus the response of the filter at rest to ``x - c``.
2. That response is computed in blocks of ``_BLOCK`` samples (see ``_causal``): inside a block, a matrix product
   with the first ``_BLOCK`` samples of the impulse response; from the blocks before, the filter's state at the
   block's start, a linear recurrence over blocks solved by doubling (log2 of the number of blocks array steps).
   The cascade's state-space matrices put each section in a normal (scaled-rotation) form, so the matrix powers
   lose no digits for poles near 1, where a direct-form recursion does.

The only approximation beyond rounding is the end of the doubling: it stops once the state carried across
``2^t`` blocks is damped below 1e-30 (``_block_matrices``), far below the 1.1e-16 relative rounding of each sample.
Measured against an 80-bit reference (tests/test_analysis_filters.py), the result is as accurate as scipy's recursion or
more (scipy's start-up transient rounding is larger for low cutoffs).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["butter_lowpass_sos", "sos_padlen", "zero_phase"]

# Samples per block of the blocked recursion (see ``_causal``).
_BLOCK = 32
# Rows (blocks) per matrix product. OpenBLAS splits a product over threads once rows x 32 x 32 exceeds 262,144;
# for these thin products that only adds hand-over costs (3-6x slower on this 2-core machine under load), so
# each product is kept under that size.
_ROWS = 256
_ONE_THREAD_SIZE = 262_144  # (rows x columns x inner size of the largest product OpenBLAS runs on one thread)


def butter_lowpass_sos(order: int, cutoff_hz: float, sample_rate_hz: float) -> np.ndarray:
    """Second-order sections (rows ``b0 b1 b2 1 a1 a2``) of a digital Butterworth low-pass.

    Equal to ``scipy.signal.butter(order, cutoff_hz, fs=sample_rate_hz, output="sos")`` to rounding (about 1e-15
    relative). ``order`` >= 1; ``0 < cutoff_hz < sample_rate_hz / 2``. Returns a new writable array.
    """
    return _design(int(order), float(cutoff_hz), float(sample_rate_hz)).copy()


@functools.lru_cache(maxsize=64)
def _design(order: int, cutoff_hz: float, sample_rate_hz: float) -> np.ndarray:
    if order < 1:
        raise ValueError(f"a Butterworth filter needs order >= 1, not {order}")
    if not 0.0 < cutoff_hz < 0.5 * sample_rate_hz:
        raise ValueError(f"the cutoff {cutoff_hz} Hz must lie between 0 and half the sample rate {sample_rate_hz} Hz")
    # Prototype poles at unit angular frequency: -exp(i*pi*m/(2N)) for m = -N+1, -N+3, ..., N-1.
    m = np.arange(-order + 1, order, 2)
    analog = -np.exp(1j * np.pi * m / (2 * order))
    # Pre-warp on the scale scipy uses (Nyquist = 1, a sampling "rate" of 2), so the rounding matches too.
    nyquist_fraction = 2.0 * cutoff_hz / sample_rate_hz
    warped = 4.0 * np.tan(np.pi * nyquist_fraction / 2.0)
    analog = warped * analog
    # Bilinear transform (z = (4 + s) / (4 - s) at that rate); each analog zero at infinity lands at z = -1.
    poles = (4.0 + analog) / (4.0 - analog)
    gain = float(np.real(warped**order / np.prod(4.0 - analog)))

    complex_poles = poles[poles.imag > 0]  # one of each conjugate pair
    real_poles = poles[poles.imag == 0]  # the pole of odd orders (m = 0 above gives an exactly real pole)
    if order % 2 == 0 and real_poles.size:  # pragma: no cover - m is never 0 for an even order
        raise AssertionError("an even-order Butterworth filter has no real pole")
    # The pair nearest the unit circle goes last; scipy fills sections from the last one backward.
    complex_poles = complex_poles[np.argsort(np.abs(1.0 - np.abs(complex_poles)), kind="stable")]
    n_sections = (order + 1) // 2
    sos = np.zeros((n_sections, 6))
    origin_zero_left = order % 2 == 1  # odd orders get a pole and a zero at the origin to fill the real section
    for i, pole in enumerate(complex_poles):
        section = n_sections - 1 - i
        # scipy pairs each pole with the nearest remaining zero: the one at the origin when the pole is nearer to
        # it than to -1 (real part above -0.5), then the nearest real zero, -1.
        if origin_zero_left and abs(pole) < abs(pole + 1.0):
            b = np.array([1.0, 1.0, 0.0])  # zeros -1 and 0
            origin_zero_left = False
        else:
            b = np.array([1.0, 2.0, 1.0])  # a double zero at -1
        sos[section, :3] = b
        sos[section, 3:] = [1.0, -2.0 * pole.real, (pole * pole.conjugate()).real]
    if real_poles.size:
        sos[0, :3] = [1.0, 1.0, 0.0] if origin_zero_left else [1.0, 2.0, 1.0]
        sos[0, 3:] = [1.0, -float(real_poles[0].real), 0.0]
    sos[0, :3] *= gain
    sos.setflags(write=False)
    return sos


def sos_padlen(sos: np.ndarray) -> int:
    """The edge padding ``scipy.signal.sosfiltfilt`` uses by default for these sections.

    Three times the number of taps, ``2 * n_sections + 1``, less the trailing zero coefficients that both the
    numerators and denominators have (scipy counts sections whose ``b2`` is 0 and those whose ``a2`` is 0 and
    takes the smaller count).
    """
    sos = np.asarray(sos, dtype=float)
    taps = 2 * len(sos) + 1 - min(int(np.sum(sos[:, 2] == 0)), int(np.sum(sos[:, 5] == 0)))
    return 3 * taps


def zero_phase(sos: np.ndarray, x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Forward-backward filtering, as ``scipy.signal.sosfiltfilt(sos, x, axis=axis)`` with its defaults.

    ``x`` must be longer than ``sos_padlen(sos)`` along ``axis`` (scipy's rule; it raises ValueError otherwise).
    Returns a float64 array of ``x``'s shape that nothing else holds (for one signal, a view into the filter's
    own work array; never ``x`` itself).
    """
    sos = np.asarray(sos, dtype=float)
    if sos.ndim != 2 or sos.shape[1] != 6 or len(sos) == 0:
        raise ValueError(f"second-order sections must be an array of shape (n, 6), not {sos.shape}")
    data = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    n = data.shape[-1]
    edge = sos_padlen(sos)
    if n <= edge:
        raise ValueError(f"the signal needs more than {edge} samples for this filter's edge padding, not {n}")
    m = _block_matrices(sos.tobytes(), len(sos))
    rows = data.reshape(-1, n)
    if len(rows) == 1:  # one signal (the analysis filters one at a time): the result in the filter's own work array
        return np.moveaxis(_zero_phase_1d(m, rows[0], edge).reshape(data.shape), -1, axis)
    out = np.empty(rows.shape)
    for i, row in enumerate(rows):  # one pass per signal
        _zero_phase_1d(m, row, edge, out=out[i])
    return np.moveaxis(out.reshape(data.shape), -1, axis)


def zero_phase_runs(sos: np.ndarray, x: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``x[start:stop] = zero_phase(sos, x[start:stop])`` for each run, in place in the 1-d float64 ``x``, and ``x``.

    Each run must be longer than ``sos_padlen(sos)``. The filter's matrices and padding are looked up once for all
    the runs (a recording with many lost packets has thousands), each run filtered as ``zero_phase`` filters it.
    """
    sos = np.asarray(sos, dtype=float)
    m = _block_matrices(sos.tobytes(), len(sos))
    edge = sos_padlen(sos)
    for start, stop in zip(np.asarray(starts).tolist(), np.asarray(stops).tolist()):  # one pass per run
        if stop - start <= edge:
            raise ValueError(f"the signal needs more than {edge} samples for this filter's edge padding, not "
                             f"{stop - start}")
        run = x[start:stop]
        _zero_phase_1d(m, run, edge, out=run)
    return x


def _zero_phase_1d(m: _BlockMatrices, x: np.ndarray, edge: int, out: np.ndarray | None = None) -> np.ndarray:
    """``zero_phase`` of one signal, in one full-size work array that both passes run in, in place (``_causal``);
    into ``out`` when given (which may be ``x`` itself: the signal is read only before the output is written),
    otherwise the result is the kept stretch of the work array itself."""
    n = x.size
    n_ext = n + 2 * edge
    size = m.toeplitz.shape[0]
    n_blocks = -(-n_ext // size)
    work = np.empty((n_blocks, size))  # the causal pass's input, in blocks of `size` samples, zero after n_ext
    flat = work.reshape(-1)
    # Odd extension: each end reflected through its end value, `edge` samples each side.
    np.subtract(2.0 * x[0], x[edge:0:-1], out=flat[:edge])
    np.subtract(2.0 * x[-1], x[-2 : -edge - 2 : -1], out=flat[edge + n : n_ext])
    flat[n_ext:] = 0.0
    # Forward, from the steady state of the first value: that value's response (dc gain times it) plus the
    # zero-state response to the signal minus it. (The signal minus that value is written in one step, not
    # copied and then shifted: the same differences.)
    start = float(flat[0])
    flat[:edge] -= start
    np.subtract(x, start, out=flat[edge : edge + n], dtype=np.float64)  # (in float64 whatever x's dtype)
    flat[edge + n : n_ext] -= start
    _causal(m, work)
    # Backward: the same on the forward output reversed, started from the steady state of its last value; the
    # forward pass's dc response is added within the reversal (the same two sums per sample, one pass fewer).
    forward_dc = m.dc_gain * start
    start = float(flat[n_ext - 1]) + forward_dc
    _reverse_plus(flat[:n_ext], -start, first=forward_dc)
    flat[n_ext:] = 0.0
    _causal(m, work)
    # Sample t of the signal is sample n_ext - 1 - t of the backward pass; keep t in [edge, edge + n).
    kept = flat[n_ext - edge - n : n_ext - edge]
    _reverse_plus(kept, m.dc_gain * start)
    if out is None:
        return kept
    out[...] = kept
    return out


# Samples per piece of an in-place reversal (``_reverse_plus``): a scratch piece that stays in the cache.
_PIECE = 1 << 15


def _reverse_plus(values: np.ndarray, shift: float, first: float | None = None) -> np.ndarray:
    """``values[:] = values[::-1] + shift`` in place (a 1-d contiguous array), each value the same sum; the two
    halves swapped piece by piece through one piece-sized scratch array instead of a reversed copy of the whole.
    ``first``: ``values += first`` before that, each sample's two sums in turn while its piece is in cache."""
    n = values.size
    half = n // 2
    scratch = np.empty(min(_PIECE, half))
    for lo in range(0, half, _PIECE):
        hi = min(lo + _PIECE, half)
        front, back = values[lo:hi], values[n - hi : n - lo][::-1]  # mirror images of each other
        piece = scratch[: hi - lo]
        if first is None:
            np.add(back, shift, out=piece)
            np.add(front, shift, out=back)
        else:
            np.add(back, first, out=piece)
            piece += shift
            np.add(front, first, out=back)
            back += shift
        front[:] = piece
    if n % 2:
        if first is not None:
            values[half] += first
        values[half] += shift  # the middle sample is its own mirror image
    return values


def _causal(m: _BlockMatrices, blocks: np.ndarray) -> np.ndarray:
    """The zero-state response of the cascade to a signal laid out in blocks (rows of ``blocks``), in blocks.

    Within a block the output is the convolution with the first ``L`` samples of the impulse response (one
    matrix product with a triangular Toeplitz matrix). What earlier blocks leave behind is carried by the
    filter's state at the block's start, ``s[k] = P s[k-1] + w[k-1]`` with ``P = A^L`` and ``w`` the state each
    block's inputs alone leave at its end. That recurrence over blocks is solved by doubling (after step t each
    block's state holds the terms of the 2^t blocks before it), and each state's effect on its block is one more
    matrix product. The result replaces ``blocks``, slice by slice: each slice's two products are taken into two
    slice-sized scratch arrays, then their sum written over the slice (one pass over the signal where the
    Toeplitz product was copied back and the state's effect added in two), and is returned.
    """
    n_blocks = blocks.shape[0]
    scratch = np.empty((min(_ROWS, n_blocks), blocks.shape[1]))
    carried_in = np.empty_like(scratch)
    left = np.empty((n_blocks, m.state_in.shape[1]))
    # in slices small enough that BLAS runs them on one thread (see _ROWS): for the state's few columns, slices of
    # thousands of blocks (a few products where slices of _ROWS took some 40, each with its call's overhead)
    state_rows = max(_ROWS, _ONE_THREAD_SIZE // max(1, m.state_in.size))
    for lo in range(0, n_blocks, state_rows):
        np.matmul(blocks[lo : lo + state_rows], m.state_in, out=left[lo : lo + state_rows])
    state = np.zeros_like(left)  # the state at each block's start, built up by doubling
    state[1:] = left[:-1]
    offset = 1
    for power_t in m.powers_t:  # (P^offset)^T, offset = 1, 2, 4, ...
        if offset >= n_blocks:
            break
        # each step's product into ``left`` (read only above): one scratch array for all the steps
        carried = np.matmul(state[:-offset], power_t, out=left[: n_blocks - offset])
        state[offset:] += carried
        offset *= 2
    for lo in range(0, n_blocks, _ROWS):
        # each slice's own response and what the blocks before leave in it, summed into the slice (read first)
        rows = blocks[lo : lo + _ROWS]
        own = np.matmul(rows, m.toeplitz, out=scratch[: rows.shape[0]])
        np.add(own, np.matmul(state[lo : lo + _ROWS], m.state_out, out=carried_in[: rows.shape[0]]), out=rows)
    return blocks


@dataclass(frozen=True)
class _BlockMatrices:
    toeplitz: np.ndarray  # (L, L): [j, i] = h[i - j] for i >= j
    state_in: np.ndarray  # (L, d): row j = (A^(L-1-j) B)^T
    state_out: np.ndarray  # (d, L): column i = (C A^i)^T
    powers_t: tuple[np.ndarray, ...]  # (P^(2^t))^T for t = 0, 1, ... while not negligible
    dc_gain: float  # the steady-state output per unit of a constant input


@functools.lru_cache(maxsize=64)
def _block_matrices(sos_bytes: bytes, n_sections: int) -> _BlockMatrices:
    """The matrices of the blocked recursion for these sections (see ``_causal``), built once per filter."""
    sos = np.frombuffer(sos_bytes, dtype=float).reshape(n_sections, 6)
    radius = max(float(np.max(np.abs(np.roots(row[3:])), initial=0.0)) for row in sos)
    if not radius < 1.0:
        raise ValueError("the filter is not stable (a pole on or outside the unit circle)")
    big_a, big_b, big_c, big_d = _state_space(sos)
    d = big_a.shape[0]
    size = _BLOCK
    a_powers = np.empty((size + 1, d, d))  # A^0 ... A^L
    a_powers[0] = np.eye(d)
    for i in range(1, size + 1):  # L small products, once per filter design
        a_powers[i] = a_powers[i - 1] @ big_a
    h = np.concatenate([[big_d], big_c @ a_powers[: size - 1] @ big_b])  # h[0] = D, h[k] = C A^(k-1) B
    lag = np.arange(size)[None, :] - np.arange(size)[:, None]
    toeplitz = np.where(lag >= 0, h[np.clip(lag, 0, None)], 0.0)
    state_in = (a_powers[size - 1 :: -1][:size] @ big_b).reshape(size, d)
    state_out = (big_c @ a_powers[:size]).T.reshape(d, size)
    powers: list[np.ndarray] = []
    power = a_powers[size]
    # Stop once P^(2^t) is below 1e-30 in every entry: the state carried from 2^t or more blocks back is then at
    # most ~1e-30 * d / (1 - |P|) of the largest state, over ten orders of magnitude under double rounding.
    while np.max(np.abs(power), initial=0.0) >= 1e-30 and len(powers) < 64:
        powers.append(np.ascontiguousarray(power.T))
        power = power @ power
    dc_gain = float(np.prod(sos[:, :3].sum(axis=1) / sos[:, 3:].sum(axis=1)))
    return _BlockMatrices(toeplitz, state_in, np.ascontiguousarray(state_out), tuple(powers), dc_gain)


def _state_space(sos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The cascade as one system ``x' = A x + B u, y = C x + D u``, each section in a well-conditioned form.

    A section is ``b0`` plus a strictly proper part ``(c1 z + c2) / (z^2 + a1 z + a2)`` with ``c1 = b1 - a1 b0``,
    ``c2 = b2 - a2 b0``. For a complex pole pair ``sigma +- i omega`` its state matrix is the scaled rotation
    ``[[sigma, -omega], [omega, sigma]]`` (a normal matrix: its powers are computed to full accuracy, where the
    companion matrix of poles near 1 loses digits), with ``B = [1, 0]`` and ``C = [c1, (c2 + c1 sigma) / omega]``.
    A first-order section (``a2 = b2 = 0``) uses its one real pole. Any other section with real poles (the
    first section of some odd orders: the real pole with one at the origin, a double zero at -1) uses the
    transposed direct form II; its poles are far from 1, where that form is accurate.
    """
    b = sos[:, :3] / sos[:, 3:4]
    a = sos[:, 3:] / sos[:, 3:4]
    n_sections = len(sos)
    size = 2 * n_sections
    big_a = np.zeros((size, size))
    big_b = np.zeros(size)
    big_c = np.zeros(size)
    big_d = 1.0
    for i in range(n_sections):  # series connection: section i's input is the output of the sections before it
        a1, a2 = a[i, 1], a[i, 2]
        b0, b1, b2 = b[i]
        c1, c2 = b1 - a1 * b0, b2 - a2 * b0
        discriminant = a1 * a1 - 4.0 * a2
        if discriminant < 0.0:  # complex pair
            sigma, omega = -0.5 * a1, 0.5 * np.sqrt(-discriminant)
            sec_a = np.array([[sigma, -omega], [omega, sigma]])
            sec_b, sec_c = np.array([1.0, 0.0]), np.array([c1, (c2 + c1 * sigma) / omega])
        elif a2 == 0.0 and b2 == 0.0:  # first order: (c1 z) / (z (z + a1)) = c1 / (z + a1)
            sec_a = np.array([[-a1, 0.0], [0.0, 0.0]])
            sec_b, sec_c = np.array([1.0, 0.0]), np.array([c1, 0.0])
        else:  # transposed direct form II
            sec_a = np.array([[-a1, 1.0], [-a2, 0.0]])
            sec_b, sec_c = np.array([c1, c2]), np.array([1.0, 0.0])
        s = slice(2 * i, 2 * i + 2)
        big_a[s, s] = sec_a
        big_a[s, : 2 * i] = np.outer(sec_b, big_c[: 2 * i])  # driven by C x + D u of what came before
        big_b[s] = sec_b * big_d
        big_c[: 2 * i] *= b0  # its output: sec_c x_i + b0 (C x + D u)
        big_c[s] = sec_c
        big_d *= b0
    return big_a, big_b, big_c, float(big_d)

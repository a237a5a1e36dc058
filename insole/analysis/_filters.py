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

How the causal pass runs without a per-sample loop: starting a filter in the steady state of a constant input
``c`` (what scipy's ``sosfilt_zi`` times the first value does) is the same as the input having been ``c`` forever
before the first sample. So the output is ``G * c + (h * (x - c))``, where ``G`` is the filter's gain at 0 Hz and
``h * u`` the zero-state response to ``u = x - c``: a convolution with the cascade's impulse response ``h``, done by
``numpy.convolve`` (short responses) or by FFT (long ones).

``h`` is infinite but decays geometrically (all poles inside the unit circle). It is cut at the first sample ``M``
after which the sum of ``|h[n]|`` is below ``_TAIL_L1 = 1e-18`` times the sum of all ``|h|``. The cut changes each
output by at most that tail sum times ``max |u|``, i.e. by at most 1e-18 of ``sum|h| * max|u|``; merely rounding
the convolution's own terms in double precision changes it by up to ~1.1e-16 of the same quantity (more for long
sums), and scipy's recursion rounds at that level too. The cut is therefore below the rounding of either method:
the two agree to the last few bits, not to the truncation.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["butter_lowpass_sos", "sos_padlen", "zero_phase"]

# The impulse response is cut where the rest of it holds less than this share of its absolute sum (see above).
_TAIL_L1 = 1e-18
# Impulse responses up to this many samples are applied by direct convolution (exact-order rounding, and faster
# than an FFT of the whole signal for short responses); longer ones by FFT.
_DIRECT_MAX_TAPS = 96


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
    Returns a new float64 array of ``x``'s shape.
    """
    sos = np.asarray(sos, dtype=float)
    if sos.ndim != 2 or sos.shape[1] != 6 or len(sos) == 0:
        raise ValueError(f"second-order sections must be an array of shape (n, 6), not {sos.shape}")
    data = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    n = data.shape[-1]
    edge = sos_padlen(sos)
    if n <= edge:
        raise ValueError(f"the signal needs more than {edge} samples for this filter's edge padding, not {n}")
    h, dc_gain = _impulse_response(sos.tobytes(), len(sos))
    # Odd extension: each end reflected through its end value, `edge` samples each side.
    first, last = data[..., :1], data[..., -1:]
    ext = np.concatenate([2.0 * first - data[..., edge:0:-1], data, 2.0 * last - data[..., -2 : -edge - 2 : -1]], -1)
    forward = _from_steady_state(h, dc_gain, ext)
    backward = _from_steady_state(h, dc_gain, forward[..., ::-1])[..., ::-1]
    out = backward[..., edge:-edge]
    return np.ascontiguousarray(np.moveaxis(out, -1, axis))


def _from_steady_state(h: np.ndarray, dc_gain: float, x: np.ndarray) -> np.ndarray:
    """The causal filter's output along the last axis, started at rest on a constant input equal to ``x[..., 0]``."""
    start = x[..., :1]
    return dc_gain * start + _causal(h, x - start)


def _causal(h: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The zero-state response ``sum_k h[k] u[n - k]`` along the last axis, same length as ``u``."""
    n = u.shape[-1]
    if h.size <= _DIRECT_MAX_TAPS and u.ndim == 1:
        return np.convolve(u, h)[:n]
    if h.size <= _DIRECT_MAX_TAPS:
        rows = u.reshape(-1, n)
        return np.stack([np.convolve(row, h)[:n] for row in rows]).reshape(u.shape)  # one call per signal
    size = _fast_fft_size(n + h.size - 1)
    spectrum = np.fft.rfft(u, size, axis=-1) * np.fft.rfft(h, size)
    return np.fft.irfft(spectrum, size, axis=-1)[..., :n]


def _fast_fft_size(n: int) -> int:
    """The smallest 2^a * 3^b * 5^c at or above ``n`` (sizes numpy's FFT handles quickly)."""
    best = 1 << max(n - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            size = p35 * (1 << max(-(-n // p35) - 1, 0).bit_length())  # p35 times the power of two that reaches n
            best = min(best, size)
            p35 *= 3
        p5 *= 5
    return best


@functools.lru_cache(maxsize=64)
def _impulse_response(sos_bytes: bytes, n_sections: int) -> tuple[np.ndarray, float]:
    """The cascade's impulse response, cut where its tail is negligible (see the module notes), and its 0 Hz gain.

    Built without a per-sample loop: the cascade as one state-space system (each section in transposed direct
    form II, in series), and the responses ``C A^k B`` for k = 0, 1, 2, ... by doubling: from the columns
    ``B ... A^(m-1) B`` the next m are ``A^m`` times them, so 2^j samples take j matrix products.
    """
    sos = np.frombuffer(sos_bytes, dtype=float).reshape(n_sections, 6)
    b = sos[:, :3] / sos[:, 3:4]
    a = sos[:, 3:] / sos[:, 3:4]
    size = 2 * n_sections
    big_a = np.zeros((size, size))
    big_b = np.zeros(size)
    big_c = np.zeros(size)
    big_d = 1.0
    for i in range(n_sections):  # series connection, section by section (input of section i = output of i - 1)
        a1, a2 = a[i, 1], a[i, 2]
        b0, b1, b2 = b[i]
        s = slice(2 * i, 2 * i + 2)
        sec_a = np.array([[-a1, 1.0], [-a2, 0.0]])
        sec_b = np.array([b1 - a1 * b0, b2 - a2 * b0])
        # the section's input is C x + D u of what came before
        big_a[s, s] = sec_a
        big_a[s, : 2 * i] = np.outer(sec_b, big_c[: 2 * i])
        big_b[s] = sec_b * big_d
        # its output y = x_i[0] + b0 * (C x + D u)
        big_c[: 2 * i] *= b0
        big_c[2 * i] = 1.0
        big_d *= b0
    dc_gain = float(np.prod(b.sum(axis=1) / a.sum(axis=1)))
    radius = float(np.max(np.abs(np.concatenate([np.roots(row) for row in a])), initial=0.0))
    if not radius < 1.0:
        raise ValueError("the filter is not stable (a pole on or outside the unit circle)")
    # Enough samples for the slowest pole to fall by 1e-20 (plus room for the sections' build-up), grown if the
    # tail is still not negligible at the window's end.
    length = 64 + (int(np.ceil(np.log(1e-20) / np.log(radius))) if radius > 0 else 0)
    while True:
        h = np.empty(length)
        h[0] = big_d
        columns = big_b[:, None]
        power = big_a
        while columns.shape[1] < length - 1:
            columns = np.concatenate([columns, power @ columns], axis=1)
            power = power @ power
        h[1:] = big_c @ columns[:, : length - 1]
        tail = np.cumsum(np.abs(h[::-1]))[::-1]  # tail[k] = sum of |h[k:]|
        keep = int(np.argmax(tail < _TAIL_L1 * tail[0])) if tail[-1] < _TAIL_L1 * tail[0] else 0
        if keep > 0 and keep <= length // 2:
            h = h[:keep]
            h.setflags(write=False)
            return h, dc_gain
        length *= 2

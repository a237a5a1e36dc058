"""One clock for both feet: map each insole's device clock onto the session clock.

Every insole stamps its samples with its own free-running clock (µs since it
booted, ``PROTOCOL.md`` section 1). Two crystals disagree by tens of ppm, and
the clocks started at different moments, so the collector estimates for each
insole, online, the line

    session_s = intercept_s + slope * (device_us - reference_us) / 1e6

and places every sample slot through it. ``slope`` is session seconds per
device second; the device clock's drift against the session clock is
``1 / slope - 1`` (reported in ppm, positive when the insole's clock runs fast).

Method (documented in ``docs/capture.md``):

* **Notification arrivals, lower envelope.** A packet cannot arrive before
  its last sample was taken, and every delay on the way (firmware queue,
  connection events, radio retries, the host's scheduler) only makes it later.
  So the points ``(device time of the packet's last sample, host arrival
  time)`` lie on or above the true line shifted up by the smallest latency,
  and the best estimate is a line *under* all of them. Following Moon, Skelly
  and Towsley (1999, "Estimation and removal of clock skew from network delay
  measurements", IEEE INFOCOM), we take the line under every point that
  minimises the summed vertical distance to them: it supports the lower
  convex hull at the mean device time. To stay cheap for hours and to follow
  slow drift changes (temperature), points are first reduced to the earliest
  arrival per ``block_s`` of device time, and the fit uses the blocks of the
  last ``window_s``. Until the points span ``min_span_for_drift_s`` the
  slope is held at 1 (drift unknown) and only the intercept is fitted.
* **Round trips** (``READ_CLOCK``): the reply's device time was read between
  the host's send and receive times. Each round trip bounds the intercept
  from both sides; the intersection of these windows gives a second,
  independent estimate of the intercept with a stated uncertainty. It is used
  before the first packet arrives, and afterwards as a cross-check: the
  difference between the envelope line and the round-trip line is the
  insole's smallest notification latency, which is the same for two insoles
  of the same firmware on the same adapter, so left and right stay aligned
  even though the absolute session time of a sample carries that latency.

The slope is clamped to ``1 ± max_drift_ppm`` so that a fit over a short or
disturbed stretch can never send the time axis somewhere absurd.

**When the arrivals stop following the device clock.** The envelope assumes
the smallest latency is reached again and again. A host (or an emulator run
faster than real time) that cannot keep up delivers the notifications later
and later, in catch-up bursts: the floor is not touched, and the envelope reads
the growing backlog as drift (at 5x emulation on a busy machine it went to the
-1000 ppm clamp with a true drift of 0, putting the end of a 10 s recording
10 ms off). Two facts hold however late anything arrives: a sample was taken
before its packet arrived, and a ``READ_CLOCK`` reading was taken between the
host's send and receive. Together they bound the slope from both sides
(:meth:`ClockEstimator.slope_range`, exact: every pair of bounds is checked).
An envelope slope a little outside that range (a floor that wandered) is
moved to the range's nearest end, the line still resting on the floor
(``"envelope, slope kept within the causal bounds"``). An envelope slope at the
clamp is no crystal's drift at all (a backlog): the slope is then the nominal 1
(crystals run within about 100 ppm of it) if the range allows it, else the
range's nearest end, wrong by at most the range's width, which narrows as
round trips accumulate; and the offset comes from the round trips too (the
middle of their windows for that slope, never above an arrival), because in a
backlog each foot's arrivals have a floor of their own, which would put left
and right apart, while the round trips place both at the time the sample was
taken (``"round trips, slope within the causal bounds (...)"``). Without any
round trip nothing contradicts the envelope: it is used, clamp and flag
included.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

_MAX_ROUND_TRIPS_IN_BOUNDS = 200
_BOUNDED_METHOD = "envelope, slope kept within the causal bounds"
_BACKLOG_METHOD = "round trips, slope within the causal bounds (arrivals fell behind the device clock)"

__all__ = ["ClockModel", "ClockEstimator", "RoundTrip", "lower_hull", "envelope_fit"]


@dataclass(frozen=True)
class ClockModel:
    """``session_s = intercept_s + slope * (device_us - reference_us) / 1e6``.

    ``method`` says how it was estimated: ``"round-trip"`` (no packets yet),
    ``"envelope, drift not yet estimated"`` (slope held at 1), ``"envelope"``,
    ``"envelope, slope kept within the causal bounds"`` or, when the arrivals
    fell behind the device clock, ``"round trips, slope within the causal bounds (...)"``.
    """

    reference_us: int
    intercept_s: float
    slope: float
    method: str

    def session_s(self, device_us: np.ndarray | int) -> np.ndarray | float:
        """Session time (s) of device time(s) in µs (int64 arrays keep µs exact)."""
        if isinstance(device_us, np.ndarray):
            relative = (device_us.astype(np.int64) - np.int64(self.reference_us)).astype(np.float64)
            return self.intercept_s + self.slope * relative * 1e-6
        return self.intercept_s + self.slope * (int(device_us) - self.reference_us) * 1e-6

    def device_us(self, session_s: float) -> float:
        """Device time (µs) that maps to ``session_s``."""
        return self.reference_us + (session_s - self.intercept_s) / self.slope * 1e6

    @property
    def drift_ppm(self) -> float:
        """How fast the device clock runs against the session clock, in ppm."""
        return (1.0 / self.slope - 1.0) * 1e6

    @property
    def offset_s(self) -> float:
        """Device clock reading (s) at session time 0."""
        return self.device_us(0.0) * 1e-6


@dataclass(frozen=True)
class RoundTrip:
    """One READ_CLOCK exchange: host times (session s) around a device reading (µs)."""

    sent_s: float
    device_us: int
    received_s: float

    @property
    def round_trip_s(self) -> float:
        return self.received_s - self.sent_s


def lower_hull(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower convex hull of points sorted by strictly increasing ``x`` (Andrew's monotone chain)."""
    hx: list[float] = []
    hy: list[float] = []
    for px, py in zip(x.tolist(), y.tolist()):
        while len(hx) >= 2 and (hx[-1] - hx[-2]) * (py - hy[-2]) - (hy[-1] - hy[-2]) * (px - hx[-2]) <= 0:
            hx.pop()
            hy.pop()
        hx.append(px)
        hy.append(py)
    return np.asarray(hx), np.asarray(hy)


def envelope_fit(
    x: np.ndarray, y: np.ndarray, *, slope_bounds: tuple[float, float] | None = None
) -> tuple[float, float]:
    """``(intercept, slope)`` of the line under all points with the least summed vertical distance.

    ``x`` strictly increasing. The optimum supports the lower hull at the mean
    of ``x``; a slope outside ``slope_bounds`` is clamped and the intercept is
    then the highest that keeps the line under every point.
    """
    if x.size == 0:
        raise ValueError("no points")
    hx, hy = lower_hull(x, y)
    if hx.size == 1:
        slope = 1.0
    else:
        edge = min(max(bisect.bisect_right(hx.tolist(), float(x.mean())) - 1, 0), hx.size - 2)
        slope = float((hy[edge + 1] - hy[edge]) / (hx[edge + 1] - hx[edge]))
    if slope_bounds is not None:
        slope = min(max(slope, slope_bounds[0]), slope_bounds[1])
    intercept = float(np.min(hy - slope * hx))
    return intercept, slope


class ClockEstimator:
    """Online estimate of one insole's :class:`ClockModel` (see the module docstring).

    Times given to it are session seconds (host side) and device µs.
    """

    def __init__(
        self,
        *,
        block_s: float = 1.0,
        window_s: float = 300.0,
        min_span_for_drift_s: float = 10.0,
        max_drift_ppm: float = 1000.0,
    ) -> None:
        self.block_s = block_s
        self.window_s = window_s
        self.min_span_for_drift_s = min_span_for_drift_s
        self.max_drift_ppm = max_drift_ppm
        self.reference_us: int | None = None
        self.round_trips: list[RoundTrip] = []
        self.arrivals = 0
        self.arrivals_out_of_order = 0
        # one point per block of device time: the earliest arrival in it
        self._block_x: list[float] = []
        self._block_y: list[float] = []
        self._block_id: list[int] = []
        self._session_range: tuple[int, tuple[float, float]] | None = None

    # ------------------------------------------------------------------ input

    def _x(self, device_us: int) -> float:
        if self.reference_us is None:
            self.reference_us = int(device_us)
        return (int(device_us) - self.reference_us) * 1e-6

    def add_round_trip(self, sent_s: float, device_us: int, received_s: float) -> None:
        if received_s < sent_s:
            raise ValueError("a round trip cannot end before it starts")
        self._x(device_us)
        self.round_trips.append(RoundTrip(sent_s, int(device_us), received_s))

    def add_arrivals(self, device_us: np.ndarray, arrival_s: np.ndarray) -> None:
        """Add packets: device time (µs) of each packet's last sample and its host arrival (session s)."""
        device_us = np.asarray(device_us, dtype=np.int64)
        arrival_s = np.asarray(arrival_s, dtype=np.float64)
        if device_us.size == 0:
            return
        if self.reference_us is None:
            self.reference_us = int(device_us[0])
        x = (device_us - np.int64(self.reference_us)).astype(np.float64) * 1e-6
        self.arrivals += int(x.size)
        blocks = np.floor(x / self.block_s).astype(np.int64)
        # earliest arrival (smallest y - x, i.e. latency at slope 1) per block, vectorised
        latency = arrival_s - x
        order = np.lexsort((latency, blocks))
        blocks_sorted = blocks[order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = blocks_sorted[1:] != blocks_sorted[:-1]
        for index in order[first].tolist():
            self._offer_block(int(blocks[index]), float(x[index]), float(arrival_s[index]))

    def _offer_block(self, block: int, x: float, y: float) -> None:
        if self._block_id and block < self._block_id[-1]:
            position = bisect.bisect_left(self._block_id, block)
            self.arrivals_out_of_order += 1
            if position < len(self._block_id) and self._block_id[position] == block:
                if y - x < self._block_y[position] - self._block_x[position]:
                    self._block_x[position], self._block_y[position] = x, y
            else:  # a block that had no packet so far
                self._block_id.insert(position, block)
                self._block_x.insert(position, x)
                self._block_y.insert(position, y)
            return
        if self._block_id and block == self._block_id[-1]:
            if y - x < self._block_y[-1] - self._block_x[-1]:
                self._block_x[-1], self._block_y[-1] = x, y
            return
        self._block_id.append(block)
        self._block_x.append(x)
        self._block_y.append(y)

    # ------------------------------------------------------------------ output

    @property
    def slope_bounds(self) -> tuple[float, float]:
        return 1.0 / (1.0 + self.max_drift_ppm * 1e-6), 1.0 / (1.0 - self.max_drift_ppm * 1e-6)

    def _window(self) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(self._block_x)
        y = np.asarray(self._block_y)
        if x.size:
            keep = x >= x[-1] - self.window_s
            x, y = x[keep], y[keep]
            order = np.argsort(x, kind="stable")
            x, y = x[order], y[order]
        return x, y

    def _round_trip_arrays(
        self, since_x: float | None, *, limit: int = _MAX_ROUND_TRIPS_IN_BOUNDS
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Round trips as arrays ``(x, sent, received)``, those at device times >= ``since_x`` (all if None).

        At most ``limit``: the shortest round trip of each of ``limit`` equal stretches of device time (the
        tight ones are those that bound the slope; this keeps the pairwise bounds cheap over hours).
        """
        if not self.round_trips or self.reference_us is None:
            empty = np.zeros(0)
            return empty, empty, empty
        x = np.array([(rt.device_us - self.reference_us) * 1e-6 for rt in self.round_trips])
        sent = np.array([rt.sent_s for rt in self.round_trips])
        received = np.array([rt.received_s for rt in self.round_trips])
        if since_x is not None:
            keep = x >= since_x
            x, sent, received = x[keep], sent[keep], received[keep]
        if x.size > limit:
            bins = np.minimum(((x - x.min()) / (np.ptp(x) or 1.0) * limit).astype(np.int64), limit - 1)
            order = np.lexsort((received - sent, bins))
            first = np.ones(order.size, dtype=bool)
            first[1:] = bins[order][1:] != bins[order][:-1]
            chosen = np.sort(order[first])
            x, sent, received = x[chosen], sent[chosen], received[chosen]
        return x, sent, received

    def slope_range(
        self, x: np.ndarray, y: np.ndarray, rt_x: np.ndarray, sent: np.ndarray, received: np.ndarray
    ) -> tuple[float, float]:
        """The slopes of every line that respects causality: ``(low, high)`` (``low > high``: none does).

        A true line ``t(x) = a + slope * x`` has ``t <= y`` at every arrival
        (the sample was taken before it arrived) and ``sent <= t <= received`` at
        every round trip. For a fixed slope such an ``a`` exists exactly when
        every lower bound is under every upper bound, so the range comes from
        the pairs (lower at x_j, upper at x_k): ``slope * (x_j - x_k) >= lower_j - upper_k``.
        Bounded by the clamp (``slope_bounds``).
        """
        low, high = self.slope_bounds
        if sent.size == 0:
            return low, high
        upper_x = np.concatenate([x, rt_x])
        upper = np.concatenate([y, received])
        # one send at a time against every upper bound: memory stays O(points) over hours of blocks
        for send_x, send_s in zip(rt_x.tolist(), sent.tolist()):
            dx = send_x - upper_x
            dy = send_s - upper
            later = dx > 0  # slope >= dy / dx
            earlier = dx < 0  # slope <= dy / dx
            if later.any():
                low = max(low, float(np.max(dy[later] / dx[later])))
            if earlier.any():
                high = min(high, float(np.min(dy[earlier] / dx[earlier])))
            same = dx == 0
            if same.any() and float(np.max(dy[same])) > 0:  # a send after an upper bound at the same device time
                return 1.0, 0.0
        return low, high

    def _session_slope_range(self) -> tuple[float, float]:
        """``slope_range`` over the whole session, recomputed when a round trip was added (bounds from fewer
        arrivals are wider, never wrong: cheap enough to ask for at every flush of a long backlog)."""
        key = len(self.round_trips)
        if self._session_range is None or self._session_range[0] != key:
            bounds = self.slope_range(
                np.asarray(self._block_x), np.asarray(self._block_y), *self._round_trip_arrays(None)
            )
            self._session_range = (key, bounds)
        return self._session_range[1]

    def envelope(self, *, whole_session: bool = False) -> tuple[float, float, str] | None:
        """``(intercept_s, slope, method)`` from arrivals (and round trips), or None before any arrival.

        Online the fit uses the last ``window_s``; ``whole_session`` fits every
        block (the retrospective fit the finished file is timed with).
        """
        if whole_session:
            x, y = np.asarray(self._block_x), np.asarray(self._block_y)
            order = np.argsort(x, kind="stable")
            x, y = x[order], y[order]
        else:
            x, y = self._window()
        if x.size == 0:
            return None
        if x[-1] - x[0] < self.min_span_for_drift_s:
            return float(np.min(y - x)), 1.0, "envelope, drift not yet estimated"
        intercept, slope = envelope_fit(x, y, slope_bounds=self.slope_bounds)
        rt_x, sent, received = self._round_trip_arrays(None if whole_session else float(x[0]))
        low, high = self.slope_range(x, y, rt_x, sent, received)
        clamp_low, clamp_high = self.slope_bounds
        at_clamp = slope <= clamp_low or slope >= clamp_high
        if sent.size == 0 or low > high or (low <= slope <= high and not at_clamp):
            return intercept, slope, "envelope"
        if not at_clamp:
            # The floor wandered (the envelope's slope is a little outside what causality allows): the slope
            # moves to the nearest end of the range, the line still rests on this window's floor.
            slope = min(max(slope, low), high)
            return float(np.min(y - slope * x)), slope, _BOUNDED_METHOD
        # At the clamp the arrivals did not follow the device clock at all (a backlog): their slope says
        # nothing about the crystal. The nominal rate if causality allows it, else the nearest slope it
        # allows (over the whole session, tighter, unless the drift changed within it): wrong by at most the
        # range's width, which narrows as round trips accumulate.
        since_x: float | None = None if whole_session else float(x[0])
        if not whole_session:
            every_low, every_high = self._session_slope_range()
            if every_low <= every_high:  # (not so after a reboot: the window's bounds then)
                low, high, since_x = every_low, every_high, None
        slope = min(max(1.0, low), high)
        # The offset: the arrivals' floor is no longer common to both feet (each foot's backlog is its own),
        # so the round trips place the line (the middle of their windows for this slope: the time the
        # sample was taken, without the notification latency), never above an arrival of the session.
        every_x, every_y = np.asarray(self._block_x), np.asarray(self._block_y)
        under = float(np.min(every_y - slope * every_x))
        checked = self.round_trip_intercept(slope, since_x=since_x)
        return (under if checked is None else min(checked[0], under)), slope, _BACKLOG_METHOD

    def round_trip_intercept(self, slope: float, *, since_x: float | None = None) -> tuple[float, float] | None:
        """``(intercept_s, uncertainty_s)`` from the round trips for a given slope, or None.

        Each round trip says ``sent <= intercept + slope * x <= received``; the
        windows are intersected. If they do not overlap (the clock moved, or a
        reply was built later than it says), the shortest round trip's
        midpoint is used and its half round trip is the uncertainty. ``since_x``: only the round trips
        from that device time (s after the reference) on.
        """
        if not self.round_trips or self.reference_us is None:
            return None
        x, sent_s, received_s = self._round_trip_arrays(since_x, limit=len(self.round_trips))
        if x.size == 0:
            return None
        sent = sent_s - slope * x
        received = received_s - slope * x
        low, high = float(sent.max()), float(received.min())
        if low <= high:
            return (low + high) / 2, (high - low) / 2
        best = int(np.argmin(received - sent))
        return float((sent[best] + received[best]) / 2), float((received[best] - sent[best]) / 2)

    def model(self, *, whole_session: bool = False) -> ClockModel | None:
        """The current best model, or None before the first round trip or packet.

        ``whole_session`` gives the retrospective fit over every packet so far
        (constant drift over the session), used to time the finished file.
        """
        if self.reference_us is None:
            return None
        fitted = self.envelope(whole_session=whole_session)
        if fitted is not None:
            intercept, slope, method = fitted
            return ClockModel(self.reference_us, intercept, slope, method)
        from_round_trips = self.round_trip_intercept(1.0)
        if from_round_trips is None:
            return None
        return ClockModel(self.reference_us, from_round_trips[0], 1.0, "round-trip")

    def summary(self, *, whole_session: bool = False) -> dict[str, float | int | str | bool | None]:
        """Figures for the capture quality (see ``docs/capture.md``)."""
        model = self.model(whole_session=whole_session)
        out: dict[str, float | int | str | bool | None] = {
            "method": model.method if model else None,
            "drift_ppm": model.drift_ppm if model else None,
            "offset_s": model.offset_s if model else None,
            "round_trips": len(self.round_trips),
            "arrivals": self.arrivals,
            "min_latency_ms": None,
            "sync_uncertainty_ms": None,
            "best_round_trip_ms": None,
        }
        # a fit at the clamp means the arrival times did not follow the device clock (a host or
        # emulator too busy to take notifications on time), not a real crystal
        out["drift_at_limit"] = bool(
            model is not None and abs(abs(model.drift_ppm) - self.max_drift_ppm) < 1e-6 * self.max_drift_ppm + 1e-9
        )
        if self.round_trips:
            out["best_round_trip_ms"] = 1e3 * min(rt.round_trip_s for rt in self.round_trips)
        if model is not None and model.method != "round-trip":
            checked = self.round_trip_intercept(model.slope)
            if checked is not None:
                out["min_latency_ms"] = 1e3 * (model.intercept_s - checked[0])
                out["sync_uncertainty_ms"] = 1e3 * checked[1]
        for key, value in out.items():
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
        return out


class TimeAxis:
    """Session times for one foot's slots as they are written, always strictly increasing.

    Each batch of slots is mapped through the clock model of the moment. When
    the model has moved since the previous batch (a better fit), the new
    times do not jump: the difference is slewed away at no more than
    ``max_slew`` (a fraction, 0.05 = 5 %) of the elapsed time, so consecutive
    slots stay between ``(1 - max_slew)`` and ``(1 + max_slew)`` periods apart
    and the axis never runs backwards. ``checkpoints`` keeps one
    ``(device_us, written_s)`` pair per batch so the written axis can be
    compared with the final model (the time-axis residual in the capture quality).
    """

    def __init__(self, max_slew: float = 0.05) -> None:
        if not 0 < max_slew < 1:
            raise ValueError("max_slew must be in (0, 1)")
        self.max_slew = max_slew
        self.last_device_us: int | None = None
        self.last_s: float | None = None
        self.checkpoints: list[tuple[int, float]] = []

    def map(self, device_us: np.ndarray, model: ClockModel) -> np.ndarray:
        device_us = np.asarray(device_us, dtype=np.int64)
        target = np.asarray(model.session_s(device_us), dtype=np.float64)
        if device_us.size == 0:
            return target
        if self.last_device_us is not None and self.last_s is not None:
            lag = self.last_s - float(model.session_s(self.last_device_us))  # written minus model
            if lag:
                elapsed_s = (device_us - np.int64(self.last_device_us)).astype(np.float64) * 1e-6 * model.slope
                remaining = np.maximum(abs(lag) - self.max_slew * elapsed_s, 0.0)
                target = target + math.copysign(1.0, lag) * remaining
        self.last_device_us = int(device_us[-1])
        self.last_s = float(target[-1])
        self.checkpoints.append((int(device_us[0]), float(target[0])))
        self.checkpoints.append((int(device_us[-1]), float(target[-1])))
        return target

    def residual_s(self, model: ClockModel) -> float | None:
        """Largest distance between the written axis and ``model`` at the checkpoints, s."""
        if not self.checkpoints:
            return None
        device = np.array([c[0] for c in self.checkpoints], dtype=np.int64)
        written = np.array([c[1] for c in self.checkpoints])
        return float(np.max(np.abs(written - np.asarray(model.session_s(device)))))

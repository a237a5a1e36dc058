"""What the live page shows, kept up to date from the live feed, ready to send as deltas.

``LiveModel.ingest`` takes every item of the feed (sample blocks, link status,
session events) and keeps, per foot, a short history of total load and centre
of pressure, the newest pressure map, the steps found by a quick online
detector, and the link's figures. Each page has a ``ClientCursor``;
``LiveModel.frame_for(cursor)`` returns what that page has not seen yet
(everything since its last frame, capped to the visible window) and moves
the cursor. A slow page therefore never builds a backlog: it gets fewer,
larger frames.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dashboards._signals import (
    StepDetector,
    cadence_steps_per_min,
    centre_of_pressure_mm,
    load_scale,
    nice_ceiling,
    total_load,
)
from insole import SensorLayout
from insole.capture import LinkStatus, SampleBlock, SessionEvent

__all__ = ["LiveModel", "ClientCursor", "json_numbers"]

# Curves are kept at no more than this rate for display (the detector sees every sample).
_DISPLAY_RATE_HZ = 100.0
_BALANCE_WINDOW_S = 6.0
_CADENCE_WINDOW_S = 12.0
# The colour scale and the load axis follow the recent peak, decaying this fast.
_PEAK_HALF_LIFE_S = 20.0
# COP is drawn only while the foot carries at least this fraction of its recent peak load.
_COP_MIN_LOAD_FRACTION = 0.05
# Maps are kept this long so the one at the playout time is at hand.
_MAP_HISTORY_S = 2.0
# A feed whose arrivals are never further apart than this is drawn as it comes.
_SMOOTH_GAP_S = 0.05
_MAX_PLAYOUT_DELAY_S = 0.6
_BURST_MEMORY_S = 5.0
# Values in arbitrary units have no zero at "unloaded": raw ADC counts of an ORPHE insole rest near 220 a channel,
# a foot switch's voltage goes negative. The step detector sees such a load above its lowest value over this long
# (in buckets of _FLOOR_BUCKET_S), so that its fractions of the peak mean "off the ground" and "on it" again. Long
# enough that a minute's standing does not make the standing load the floor. A lowest value not well below the
# peak is no foot in the air (someone standing still): then the floor stays 0, as for physical units. Seen: an
# ORPHE pair in the air at 0.1 of its peak, a stappone insole (residual load in the shoe) at 0.45, gaitndd's foot
# switches below 0; standing at the start of the stappone file, 0.95.
_FLOOR_MEMORY_S = 60.0
_FLOOR_BUCKET_S = 5.0
_FLOOR_MAX_SHARE_OF_PEAK = 0.6


def json_numbers(values: np.ndarray, decimals: int) -> list[float | None]:
    """Rounded floats for JSON, NaN and inf as null (JSON has no NaN)."""
    return [v if math.isfinite(v) else None for v in np.round(np.asarray(values, np.float64), decimals).tolist()]


class _Ring:
    """The last ``capacity`` rows of some columns, numbered by a running sequence."""

    def __init__(self, capacity: int, widths: dict[str, int] | None = None) -> None:
        self.capacity = capacity
        widths = widths or {name: 0 for name in ("t", "load", "cop_x", "cop_y")}
        self.columns = {name: np.full((capacity, w) if w else capacity, np.nan) for name, w in widths.items()}
        self.count = 0  # rows ever appended; the newest has sequence number count - 1

    def append(self, **columns: np.ndarray) -> None:
        n = len(columns["t"])
        if n == 0:
            return
        if n > self.capacity:
            columns = {k: v[-self.capacity:] for k, v in columns.items()}
            self.count += n - self.capacity
            n = self.capacity
        positions = (self.count + np.arange(n)) % self.capacity
        for name, values in columns.items():
            self.columns[name][positions] = values
        self.count += n

    def since(self, sequence: int, limit: int) -> tuple[int, dict[str, np.ndarray]]:
        """Rows from ``sequence`` on (at most the last ``limit``), and the sequence number of the first."""
        first = max(sequence, self.count - min(self.capacity, limit))
        positions = np.arange(first, self.count) % self.capacity
        return first, {name: column[positions] for name, column in self.columns.items()}

    def last_seconds(self, seconds: float) -> dict[str, np.ndarray]:
        _, data = self.since(0, self.capacity)
        if data["t"].size == 0:
            return data
        keep = data["t"] >= data["t"][-1] - seconds
        return {name: column[keep] for name, column in data.items()}


@dataclass
class _Foot:
    ring: _Ring
    maps: _Ring  # the recent valid samples of every sensor, for the map at the playout time
    detector: StepDetector
    decimation: int
    phase: int = 0
    heel_strikes_s: deque = field(default_factory=lambda: deque(maxlen=64))
    load_peak: float = 0.0
    map_peak: float = 0.0
    load_low: float = 0.0  # below 0 only for signals that go negative (uncalibrated "au")
    map_low: float = 0.0
    peak_time_s: float = 0.0
    floor_buckets: dict[int, float] = field(default_factory=dict)  # bucket of session time -> lowest load in it


@dataclass
class ClientCursor:
    """What one page has already been sent."""

    samples: dict[str, int] = field(default_factory=dict)
    maps: dict[str, float] = field(default_factory=dict)  # session time of the map last sent
    steps: int = 0
    session: int = 0
    status: int = 0


class LiveModel:
    """The live view's state for one capture (see module docstring).

    ``window_s`` is the visible span of the scrolling curves.
    """

    def __init__(self, layout: SensorLayout, unit: str, sample_rate_hz: float, *, window_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.layout = layout
        self.unit = unit
        self.sample_rate_hz = float(sample_rate_hz)
        self.window_s = float(window_s)
        self.scale = load_scale(layout, unit)
        decimation = max(1, int(round(self.sample_rate_hz / _DISPLAY_RATE_HZ)))
        capacity = int(max(_BALANCE_WINDOW_S, window_s) * self.sample_rate_hz / decimation * 1.5) + 64
        self.feet: dict[str, _Foot] = {}
        self._capacity = capacity
        self._decimation = decimation
        self.steps: list[dict[str, Any]] = []  # {"side", "kind", "t", "load"}
        self.steps_dropped = 0
        self.session_events: list[dict[str, Any]] = []
        self.session_events_dropped = 0
        self.status: dict[str, dict[str, Any]] = {}
        self.status_version = 0
        self.recording: dict[str, Any] = {"active": False, "path": None, "started_s": None}
        self.newest_time_s = 0.0
        self.newest_arrival_ms = 0.0
        self.samples_ingested = 0
        self._clock = clock
        self._newest_wall: float | None = None
        self._bursts: deque[tuple[float, float]] = deque()  # (wall time, gap since the previous arrival)
        self.playout_delay_s = 0.0
        self._played_s = -math.inf

    def _foot(self, side: str) -> _Foot:
        if side not in self.feet:
            map_capacity = int(_MAP_HISTORY_S * self.sample_rate_hz) + 8
            maps = _Ring(map_capacity, {"t": 0, "values": self.layout.n_sensors})
            self.feet[side] = _Foot(_Ring(self._capacity), maps, StepDetector(), self._decimation)
        return self.feet[side]

    # -- ingest -------------------------------------------------------------

    def ingest(self, item: object) -> None:
        if isinstance(item, SampleBlock):
            self._ingest_block(item)
        elif isinstance(item, LinkStatus):
            self._ingest_status(item)
        elif isinstance(item, SessionEvent):
            self._ingest_event(item)

    def _ingest_block(self, block: SampleBlock) -> None:
        n = len(block.time_s)
        if n == 0:
            return
        foot = self._foot(block.side)
        time_s = np.asarray(block.time_s, dtype=np.float64)
        values = np.asarray(block.values, dtype=np.float64).reshape(n, self.layout.n_sensors)
        valid = np.asarray(block.valid, dtype=bool)
        values = np.where(valid[:, None], values, np.nan)
        load = total_load(values, self.scale)
        newest_t = float(time_s[-1])
        decay = 0.5 ** (max(0.0, newest_t - foot.peak_time_s) / _PEAK_HALF_LIFE_S)
        foot.peak_time_s = newest_t
        if np.isfinite(load).any():
            foot.load_peak = max(foot.load_peak * decay, float(np.nanmax(load)))
            foot.map_peak = max(foot.map_peak * decay, float(np.nanmax(values)))
            foot.load_low = min(foot.load_low * decay, float(np.nanmin(load)))
            foot.map_low = min(foot.map_low * decay, float(np.nanmin(values)))
        cop_x, cop_y = centre_of_pressure_mm(values, self.layout, self.scale, _COP_MIN_LOAD_FRACTION * foot.load_peak)

        for kind, t in foot.detector.update(time_s, load - self._floor(foot, time_s, load)):
            index = min(int(np.searchsorted(time_s, t)), n - 1)
            self.steps.append({"side": block.side, "kind": kind, "t": t, "load": float(load[index])})
            if kind == "hs":
                foot.heel_strikes_s.append(t)
        if len(self.steps) > 400:  # only recent steps are ever shown
            self.steps_dropped += len(self.steps) - 200
            del self.steps[:-200]

        keep = (np.arange(foot.phase, foot.phase + n) % foot.decimation) == 0
        foot.phase = (foot.phase + n) % foot.decimation
        foot.ring.append(t=time_s[keep], load=load[keep], cop_x=cop_x[keep], cop_y=cop_y[keep])

        foot.maps.append(t=time_s[valid], values=values[valid])
        if newest_t > self.newest_time_s:
            self._note_arrival()
        self.newest_time_s = max(self.newest_time_s, newest_t)
        self.newest_arrival_ms = time.time() * 1000.0
        self.samples_ingested += n

    def _floor(self, foot: _Foot, time_s: np.ndarray, load: np.ndarray) -> float:
        """The load a foot in the air reads: 0 for physical units, the recent lowest for arbitrary units."""
        present = np.isfinite(load)
        if self.scale.unit != "au" or not present.any():
            return 0.0
        buckets = np.floor(time_s[present] / _FLOOR_BUCKET_S).astype(np.int64)
        lows = load[present]
        for bucket in np.unique(buckets):  # one or two buckets per block
            low = float(lows[buckets == bucket].min())
            foot.floor_buckets[int(bucket)] = min(low, foot.floor_buckets.get(int(bucket), low))
        oldest = int(buckets.max()) - int(_FLOOR_MEMORY_S / _FLOOR_BUCKET_S)
        for bucket in [b for b in foot.floor_buckets if b < oldest]:
            del foot.floor_buckets[bucket]
        floor = min(foot.floor_buckets.values())
        return floor if floor < _FLOOR_MAX_SHARE_OF_PEAK * foot.load_peak else 0.0

    def _note_arrival(self) -> None:
        """Follow how bursty the feed is: the playout delay covers the longest recent gap between arrivals."""
        now = self._clock()
        if self._newest_wall is not None:
            self._bursts.append((now, now - self._newest_wall))
        while self._bursts and now - self._bursts[0][0] > _BURST_MEMORY_S:
            self._bursts.popleft()
        longest = max((gap for _, gap in self._bursts), default=0.0)
        # a steady feed (blocks every few ms) plays at once; a bursty one (a collector that
        # hands over a quarter second at a time) plays that much behind, one sample per frame
        self.playout_delay_s = min(_MAX_PLAYOUT_DELAY_S, 1.2 * longest if longest > _SMOOTH_GAP_S else 0.0)
        self._newest_wall = now

    def playout_time_s(self) -> float:
        """The session time the page shows now: the newest sample, less the playout delay, moving smoothly."""
        if self._newest_wall is None:
            return self.newest_time_s
        since = self._clock() - self._newest_wall
        target = min(self.newest_time_s, self.newest_time_s - self.playout_delay_s + since)
        self._played_s = max(self._played_s, target)  # never backwards
        return min(self._played_s, self.newest_time_s)

    def _ingest_status(self, status: LinkStatus) -> None:
        attempted = status.samples_received + status.samples_lost
        packets = status.packets_received + status.packets_lost
        self.status[status.side] = {
            "state": status.state,
            "name": status.name,
            "address": status.address,
            "battery_pct": status.battery_pct,
            "samples_received": status.samples_received,
            "samples_lost": status.samples_lost,
            "sample_loss_pct": round(100.0 * status.samples_lost / attempted, 2) if attempted else None,
            "packets_received": status.packets_received,
            "packets_lost": status.packets_lost,
            "packet_loss_pct": round(100.0 * status.packets_lost / packets, 2) if packets else None,
            "crc_failures": status.crc_failures,
            "reconnects": status.reconnects,
            "rate_hz": None if status.rate_hz is None else round(float(status.rate_hz), 1),
        }
        self.status_version += 1

    def _ingest_event(self, event: SessionEvent) -> None:
        record = {"kind": event.kind, "t": round(float(event.time_s), 3), "label": str(event.label)}
        if event.kind == "recording_started":
            self.recording = {"active": True, "path": str(event.data.get("path", event.label)),
                              "started_s": event.time_s}
            record["label"] = str(event.data.get("path", event.label))
        elif event.kind == "recording_stopped":
            self.recording = {"active": False, "path": str(event.data.get("path", event.label)), "started_s": None}
            record["label"] = str(event.data.get("path", event.label))
            if "samples" in event.data:
                record["samples"] = int(event.data["samples"])
        elif event.kind in ("phase", "result") and event.data:
            record["data"] = _json_safe(event.data)  # a guided clinic test: the page's phase panel reads it
        self.session_events.append(record)
        if len(self.session_events) > 500:
            del self.session_events[:100]
            self.session_events_dropped += 100

    # -- figures --------------------------------------------------------------

    def balance_left_pct(self) -> float | None:
        """Left foot's share of the summed load of both feet over the last few seconds (%).

        None for arbitrary units: two uncalibrated sensors' values are not comparable (the page says so).
        """
        if set(self.feet) != {"left", "right"} or self.scale.unit == "au":
            return None
        means = []
        for side in ("left", "right"):
            recent = self.feet[side].ring.last_seconds(_BALANCE_WINDOW_S)["load"]
            recent = recent[np.isfinite(recent)]
            if recent.size == 0:
                return None
            means.append(float(np.clip(recent, 0, None).mean()))
        total = sum(means)
        return round(100.0 * means[0] / total, 1) if total > 0 else None

    def cadence_spm(self) -> float | None:
        horizon = self.newest_time_s - _CADENCE_WINDOW_S
        strikes = [np.array([t for t in foot.heel_strikes_s if t >= horizon]) for foot in self.feet.values()]
        cadence = cadence_steps_per_min(strikes)
        return None if cadence is None else round(cadence, 1)

    def hello(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "load_unit": self.scale.unit,
            "load_label": self.scale.label,
            "load_axis_label": self.scale.axis_label,
            "sample_rate_hz": self.sample_rate_hz,
            "window_s": self.window_s,
        }

    def frame_for(self, cursor: ClientCursor) -> dict[str, Any] | None:
        """What ``cursor``'s page has not seen yet, up to the playout time; None when nothing is new."""
        feet: dict[str, Any] = {}
        limit = int(self.window_s * self.sample_rate_hz / self._decimation) + 1
        play_s = self.playout_time_s()
        for side, foot in self.feet.items():
            entry: dict[str, Any] = {}
            seen = cursor.samples.get(side, 0)
            if foot.ring.count > seen:
                first, data = foot.ring.since(seen, limit)
                due = int(np.searchsorted(data["t"], play_s, side="right"))
                if due:
                    entry["t"] = json_numbers(data["t"][:due], 3)
                    entry["load"] = json_numbers(data["load"][:due], 1)
                    entry["cop_x"] = json_numbers(data["cop_x"][:due], 1)
                    entry["cop_y"] = json_numbers(data["cop_y"][:due], 1)
                    cursor.samples[side] = first + due
            if foot.maps.count:
                _, recent = foot.maps.since(0, foot.maps.capacity)
                at = int(np.searchsorted(recent["t"], play_s, side="right")) - 1
                if at >= 0 and recent["t"][at] != cursor.maps.get(side):
                    entry["map"] = json_numbers(recent["values"][at], 1)
                    entry["map_t"] = round(float(recent["t"][at]), 3)
                    cursor.maps[side] = float(recent["t"][at])
            if entry:
                feet[side] = entry
        frame: dict[str, Any] = {}
        if feet:
            frame["feet"] = feet
        total_steps = self.steps_dropped + len(self.steps)
        if total_steps > cursor.steps:
            start = max(0, cursor.steps - self.steps_dropped)
            pending = self.steps[start:]
            n_due = 0
            while n_due < len(pending) and pending[n_due]["t"] <= play_s:  # steps, not samples: a few per second
                n_due += 1
            due_steps = pending[:n_due]
            if due_steps:
                frame["steps"] = [
                    {"side": s["side"], "kind": s["kind"], "t": round(s["t"], 3),
                     "load": round(s["load"], 1) if math.isfinite(s["load"]) else None}
                    for s in due_steps
                ]
                cursor.steps = start + self.steps_dropped + len(due_steps)
        total_events = self.session_events_dropped + len(self.session_events)
        if total_events > cursor.session:
            start = max(0, cursor.session - self.session_events_dropped)
            frame["session"] = self.session_events[start:]
            cursor.session = total_events
        if self.status_version != cursor.status:
            frame["status"] = self.status
            cursor.status = self.status_version
        if not frame:
            return None
        frame["type"] = "frame"
        frame["t_s"] = round(play_s, 3)
        frame["newest_t_s"] = round(self.newest_time_s, 3)
        frame["playout_delay_ms"] = round(1000.0 * self.playout_delay_s)
        frame["arrival_ms"] = round(self.newest_arrival_ms, 1)
        frame["recording"] = self.recording
        frame["balance_left_pct"] = self.balance_left_pct()
        frame["cadence_spm"] = self.cadence_spm()
        peaks = [f.map_peak for f in self.feet.values()]
        loads = [f.load_peak for f in self.feet.values()]
        frame["map_max"] = nice_ceiling(max(peaks)) if peaks else 1.0
        frame["load_max"] = nice_ceiling(1.1 * max(loads)) if loads else 1.0
        lows = [f.load_low for f in self.feet.values()] + [0.0]
        map_lows = [f.map_low for f in self.feet.values()] + [0.0]
        frame["load_min"] = -nice_ceiling(-1.1 * min(lows)) if min(lows) < 0 else 0.0
        frame["map_min"] = -nice_ceiling(-min(map_lows)) if min(map_lows) < 0 else 0.0
        return frame


def _json_safe(value: Any, depth: int = 0) -> Any:
    """Plain JSON values only (strict JSON: non-finite numbers become None; nesting kept shallow)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if depth < 4 and isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if depth < 4 and isinstance(value, (list, tuple)):
        return [_json_safe(v, depth + 1) for v in value]
    return str(value)

"""Replaying a recording as if it were a live capture: the live page without insoles.

``ReplaySession`` plays a ``Recording`` onto a ``LiveHub`` in real time (or
faster), in small blocks like packets arriving, and publishes ``LinkStatus``
for each foot once a second. It is also a ``SessionControl``: it can record
what it plays to a capture stream (``RecordingStreamWriter``, then Parquet),
put marks on it and zero the sensors, exactly the controls the live page
drives on the real collector. Like the collector, it writes to disk on its
own: what the page does (or whether it is open at all) changes nothing on disk.

Session clock: the replay starts at 0 s; with ``loop=True`` the recording
repeats and the clock keeps running (each lap shifted by the recording's
duration), so a short sample session can drive the page for as long as needed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections import deque
from pathlib import Path

import numpy as np

from dashboards._control import clean_label
from insole import InsoleError, Mark, Recording, RecordingStreamWriter, __version__
from insole.capture import LinkStatus, LiveHub, SampleBlock, SessionEvent

__all__ = ["ReplaySession"]

# Blocks are published this often: about what one BLE connection event delivers.
_BLOCK_INTERVAL_S = 0.02
_STATUS_INTERVAL_S = 1.0
# The capture stream gets one record batch per foot about this often (the
# writer's own advice: one batch a second).
_WRITE_INTERVAL_S = 1.0
# Zeroing takes each sensor's lowest value over this much recent signal as its offset.
_ZERO_WINDOW_S = 2.0


class ReplaySession:
    """Play ``recording`` onto ``hub`` in real time; record, mark and zero on request.

    ``out_dir`` is where ``start_recording`` writes (``replay-<UTC time>.arrows``,
    finished into ``.parquet``). ``speed`` > 1 plays faster than real time.
    """

    def __init__(
        self,
        recording: Recording,
        hub: LiveHub,
        *,
        out_dir: str | Path = ".",
        speed: float = 1.0,
        loop: bool = True,
        source_name: str = "recording",
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.recording = recording
        self.hub = hub
        self.out_dir = Path(out_dir)
        self.speed = float(speed)
        self.loop = loop
        self.source_name = source_name
        self.sides = recording.sides
        starts = [recording.samples(s).time_s[0] for s in self.sides if recording.samples(s).n_samples]
        self._t0 = float(min(starts)) if starts else 0.0
        self._lap_s = recording.duration_s
        self._cursor = {side: 0 for side in self.sides}
        self._lap = 0
        self._offsets = {side: np.zeros(recording.layout.n_sensors, np.float32) for side in self.sides}
        self._recent: dict[str, deque[np.ndarray]] = {side: deque() for side in self.sides}
        self._counts = {side: {"valid": 0, "invalid": 0} for side in self.sides}
        self._writer: RecordingStreamWriter | None = None
        self._pending: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {s: [] for s in self.sides}
        self._last_write = 0.0
        self.marks: list[Mark] = []
        self.last_saved: Path | None = None
        self.now_s = 0.0
        self.finished = asyncio.Event()

    # -- SessionControl -------------------------------------------------

    @property
    def recording_path(self) -> Path | None:
        return self._writer.path if self._writer is not None else None

    async def start_recording(self) -> Path:
        if self._writer is not None:
            raise InsoleError(f"already recording to {self._writer.path.name}")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        path = self.out_dir / f"replay-{stamp}.arrows"
        n = 1
        while path.exists() or path.with_suffix(".parquet").exists():
            n += 1
            path = self.out_dir / f"replay-{stamp}-{n}.arrows"
        meta = dataclasses.replace(
            self.recording.meta,
            recorded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            software={"name": "insole", "version": __version__, "how": "insole live --replay (dashboards._replay)"},
            source={"replay_of": self.source_name, "speed": self.speed},
            capture_quality=None,
        )
        self._writer = RecordingStreamWriter(
            path, layout=self.recording.layout, unit=self.recording.unit,
            sample_rate_hz=self.recording.sample_rate_hz, meta=meta,
        )
        self._pending = {s: [] for s in self.sides}
        self._last_write = time.monotonic()
        self.hub.publish(SessionEvent("recording_started", self.now_s, path.name, {"path": str(path)}))
        return path

    async def stop_recording(self) -> Path:
        writer = self._writer
        if writer is None:
            raise InsoleError("not recording")
        self._flush()
        self._writer = None
        rows = writer.rows_written
        finished = await asyncio.to_thread(writer.finalize)
        self.last_saved = finished
        self.hub.publish(
            SessionEvent("recording_stopped", self.now_s, finished.name, {"path": str(finished), "samples": rows})
        )
        return finished

    async def mark(self, label: str) -> Mark:
        mark = Mark(time_s=round(self.now_s, 3), label=clean_label(label))
        self.marks.append(mark)
        if self._writer is not None:
            self._writer.add_mark(mark)
        self.hub.publish(SessionEvent("mark", mark.time_s, mark.label))
        return mark

    async def zero(self) -> None:
        for side in self.sides:
            recent = [block for block in self._recent[side] if block.size]
            if not recent:
                continue
            raw = np.concatenate(recent) + self._offsets[side]  # back to the unzeroed values
            baseline = np.nanmin(raw, axis=0) if np.isfinite(raw).any() else np.zeros(raw.shape[1])
            self._offsets[side] = np.nan_to_num(baseline, nan=0.0).astype(np.float32)
        self.hub.publish(
            SessionEvent("zeroed", self.now_s, "", {s: self._offsets[s].round(2).tolist() for s in self.sides})
        )

    # -- the feed ---------------------------------------------------------

    async def run(self) -> None:
        """Publish until the recording ends (never, with ``loop``); finish any running recording."""
        started = time.monotonic()
        last_status = -np.inf
        try:
            while True:
                self.now_s = (time.monotonic() - started) * self.speed
                done = self._publish_until(self.now_s)
                if time.monotonic() - last_status >= _STATUS_INTERVAL_S:
                    self._publish_status("streaming")
                    last_status = time.monotonic()
                if self._writer is not None and time.monotonic() - self._last_write >= _WRITE_INTERVAL_S:
                    self._flush()
                if done:
                    if not self.loop:
                        break
                    self._lap += 1
                    self._cursor = {side: 0 for side in self.sides}
                await asyncio.sleep(_BLOCK_INTERVAL_S)
        finally:
            self._publish_status("stopped")
            if self._writer is not None:
                await self.stop_recording()
            self.finished.set()

    def _publish_until(self, now_s: float) -> bool:
        """Publish every sample due by ``now_s``; True when this lap has no samples left."""
        done = True
        shift = self._lap * self._lap_s - self._t0
        for side in self.sides:
            foot = self.recording.samples(side)
            start = self._cursor[side]
            stop = int(np.searchsorted(foot.time_s, now_s - shift, side="right"))
            if stop > start:
                time_s = foot.time_s[start:stop] + shift
                values = foot.values[start:stop] - self._offsets[side]
                if self._offsets[side].any():
                    values = np.clip(values, 0.0, None)
                valid = foot.valid[start:stop]
                block = SampleBlock(side, time_s, values, valid, unit=self.recording.unit)
                self.hub.publish(block)
                self._remember(side, time_s, values)
                self._counts[side]["valid"] += int(valid.sum())
                self._counts[side]["invalid"] += int((~valid).sum())
                if self._writer is not None:
                    self._pending[side].append((time_s, values, valid))
                self._cursor[side] = stop
            done &= self._cursor[side] >= foot.n_samples
        return done

    def _remember(self, side: str, time_s: np.ndarray, values: np.ndarray) -> None:
        recent = self._recent[side]
        recent.append(values)
        held = sum(len(block) for block in recent)
        while recent and held - len(recent[0]) >= _ZERO_WINDOW_S * self.recording.sample_rate_hz:
            held -= len(recent.popleft())

    def _flush(self) -> None:
        writer = self._writer
        if writer is None:
            return
        for side in self.sides:
            parts = self._pending[side]
            if parts:
                writer.append(
                    side,
                    np.concatenate([p[0] for p in parts]),
                    np.concatenate([p[1] for p in parts]),
                    np.concatenate([p[2] for p in parts]),
                )
            self._pending[side] = []
        self._last_write = time.monotonic()

    def _publish_status(self, state: str) -> None:
        for side in self.sides:
            counts = self._counts[side]
            device = dict(self.recording.meta.devices.get(side, {}))
            self.hub.publish(
                LinkStatus(
                    side=side,
                    state=state,
                    address=None,
                    name=str(device.get("name") or f"replay of {self.source_name}"),
                    battery_pct=None,
                    samples_received=counts["valid"],
                    samples_lost=counts["invalid"],
                    rate_hz=self.recording.sample_rate_hz * self.speed,
                    extra={"replay": True},
                )
            )

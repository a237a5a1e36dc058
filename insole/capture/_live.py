"""The live feed: how a running capture shares its samples with whoever watches.

The collector *publishes* to a ``LiveHub``; dashboards (and the guided clinic
tests) *subscribe*. Publishing never waits: each subscriber has a bounded
queue, and when a slow subscriber's queue is full its oldest item is dropped
(and counted) so a stalled browser can never slow, block or lose the capture,
which goes to disk independently.

Items on the feed:

* ``SampleBlock``: new samples of one foot on the session clock, as decoded
  from one or more packets (values in the recording's unit, usually kPa);
* ``LinkStatus``: the state of one insole's link and its counters;
* ``SessionEvent``: something that happened to the session (recording
  started/stopped, a mark, zeroing done, a test phase change).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

__all__ = ["SampleBlock", "LinkStatus", "SessionEvent", "LiveItem", "LiveHub"]


@dataclass(frozen=True, eq=False)
class SampleBlock:
    side: str
    time_s: np.ndarray  # (n,) session clock
    values: np.ndarray  # (n, n_sensors) in ``unit``
    valid: np.ndarray  # (n,) bool; False slots are gaps (values NaN)
    unit: str = "kPa"
    accel_g: np.ndarray | None = None
    gyro_dps: np.ndarray | None = None


@dataclass(frozen=True)
class LinkStatus:
    side: str
    state: str  # "scanning" | "connecting" | "streaming" | "reconnecting" | "disconnected" | "stopped"
    address: str | None = None
    name: str | None = None
    battery_pct: int | None = None
    samples_received: int = 0
    samples_lost: int = 0
    packets_received: int = 0
    packets_lost: int = 0
    crc_failures: int = 0
    reconnects: int = 0
    rate_hz: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionEvent:
    kind: str  # "recording_started" | "recording_stopped" | "mark" | "zeroed" | "phase" | ...
    time_s: float
    label: str = ""
    data: dict[str, Any] = field(default_factory=dict)


LiveItem = Union[SampleBlock, LinkStatus, SessionEvent]


class LiveHub:
    """Fan-out from one publisher to many subscribers without ever blocking the publisher."""

    def __init__(self, queue_size: int = 2048) -> None:
        self._queue_size = queue_size
        self._subscribers: list[asyncio.Queue[LiveItem]] = []
        self.dropped_for_slow_subscribers = 0
        self.latest_status: dict[str, LinkStatus] = {}

    def subscribe(self) -> asyncio.Queue[LiveItem]:
        queue: asyncio.Queue[LiveItem] = asyncio.Queue(self._queue_size)
        for status in self.latest_status.values():  # a new watcher learns the link state at once
            queue.put_nowait(status)
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[LiveItem]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, item: LiveItem) -> None:
        if isinstance(item, LinkStatus):
            self.latest_status[item.side] = item
        for queue in self._subscribers:
            if queue.full():
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:  # pragma: no cover - raced empty
                    pass
                self.dropped_for_slow_subscribers += 1
            queue.put_nowait(item)

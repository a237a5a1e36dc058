"""The source seam: what every source gives the collector, and the session that takes any source.

A *source* is one kind of insole the collector can record: ours (``PROTOCOL.md``
over BLE, the plain :class:`~insole.capture.CaptureSession`), a Moticon OpenGo
stream over UDP (``_moticon_udp``), and whatever comes next. A source is a
small adapter with four jobs (:class:`Source`):

* **discovery**: :meth:`Source.found` names the insoles it will record, each a
  :class:`~insole.capture._collector.FoundInsole` whose ``transport`` is the
  source's wire;
* **connect**: the transport (a :class:`~insole.capture._collector.LinkTransport`)
  connects, streams and reports link loss; the link around it keeps the
  state, the counters and reconnection, the same for every source;
* **decode**: :meth:`Source.decode` turns what arrived into numbered samples
  in a :class:`ValueTimeline` (its sequence numbers, or for a source without
  any, numbers inferred from its timestamps);
* **its own clock facts**: the device time of every payload
  (:class:`Decoded`, which the collector's clock fit maps to the session
  clock), the layout, unit and extra channels it writes, and one sentence on
  how its clock is mapped (``clock_method``).

Everything else is the one collector path (``insole.capture._session``):
both feet on one clock (the lower-envelope clock fit), gap and loss
accounting, the crash-safe Arrow stream, the live hub, the capture quality
in the file, the whole-session retiming at the end. :class:`SourceSession`
is that path with the four jobs handed to the source; for our own insoles
the plain ``CaptureSession`` is unchanged, byte for byte.

Values on this path are floats in the recording's unit (our own insoles
deliver integer codes of 0.1 kPa, converted by ``FootTimeline``; another
source delivers what it measured, kept as sent).

A new source: a class with the :class:`Source` attributes and methods, a
:class:`~insole.capture._collector.LinkTransport` per foot (returned in the
``FoundInsole`` of :meth:`Source.found`), and ``register_source(name,
factory, layout_name)`` in ``insole.capture._sources``; ``capture_session(name,
...)`` then records it. A source with a sequence number gives ``timeline.add``
its unwrapped index (the timeline unwraps 32-bit numbers only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from insole._layout import SensorLayout, get_layout
from insole.capture._collector import SIDES, CaptureParams, FoundInsole, InsoleSelector, StreamStart
from insole.capture._session import CHANNELS, CaptureSession, _Foot
from insole.capture._timeline import FootTimeline, SlotBlock, _Stream

__all__ = ["Decoded", "Source", "SourceSession", "ValueTimeline"]


@dataclass(frozen=True)
class Decoded:
    """What one batch of a foot's inbox gave: the device time of each accepted payload's last sample
    and its arrival (for the clock fit), and how many payloads were not samples."""

    last_sample_us: np.ndarray
    arrival_s: np.ndarray
    malformed: int = 0


class Source(Protocol):
    """One kind of insole, as the collector needs it (see the module docstring)."""

    #: ``"moticon"``, ...: what ``--source`` names.
    name: str
    #: Built-in layout of the recording (``insole._layout``).
    layout_name: str
    #: Unit of the recording's values.
    unit: str
    #: Per-sample channels the source writes besides the collector's own (``CHANNELS``).
    channels: tuple[str, ...]
    #: ``meta.source.transport`` of the recording.
    transport_label: str
    #: ``capture_quality.clock_method``: one sentence on how the source's clock becomes the session clock.
    clock_method: str

    def capture_params(self) -> CaptureParams: ...

    def found(self, sides: Sequence[str]) -> dict[str, FoundInsole]: ...

    def devices(self, side: str) -> dict[str, Any]: ...

    def new_timeline(self, params: CaptureParams, reorder_window_s: float) -> ValueTimeline: ...

    def decode(self, side: str, items: list[tuple[float, bytes | StreamStart]], timeline: ValueTimeline) -> Decoded: ...

    def software(self) -> dict[str, Any]: ...

    def quality_facts(self) -> dict[str, Any]: ...


class ValueTimeline(FootTimeline):
    """A :class:`FootTimeline` whose packets carry float values as measured, not our integer codes.

    ``add`` takes ``values`` (n, n_values) float64: the ``n_sensors`` values
    in the recording's unit, then the source's extra channels; ``imu`` (n, 6)
    float64 acceleration (g) and angular rate (deg/s), or None. A row with a
    non-finite value among the ``n_sensors`` is received but invalid (the
    insole sent no reading). Slots come out with ``values_kpa`` holding all
    ``n_values`` columns (the session splits the channels off); sequence
    accounting, reordering, gaps and link gaps are the parent's.
    """

    def __init__(
        self, sample_rate_hz: int, *, n_sensors: int, n_channels: int, imu: bool, reorder_window_s: float
    ) -> None:
        super().__init__(sample_rate_hz, n_sensors=n_sensors + n_channels, imu=imu, reorder_window_s=reorder_window_s)
        self.n_pressures = n_sensors

    def _emit(self, stream: _Stream, through: int) -> SlotBlock:
        assert stream.t0_us is not None
        n = stream.samples_per_packet
        first = stream.written_through + 1
        count = through - first + 1
        slot_index = np.arange(first * n, (through + 1) * n, dtype=np.int64)
        device_us = stream.t0_us + slot_index * self.period_us
        values = np.full((count * n, self.n_sensors), np.nan)
        imu = np.full((count * n, 6), np.nan) if self.imu else None
        present = np.zeros(count * n, bool)
        arrival = np.full(count * n, np.nan)
        for index in range(first, through + 1):
            held = stream.pending.pop(index, None)
            if held is None:
                continue
            packet_values, packet_imu, arrived = held
            if packet_values.shape[0] != n:
                continue  # cannot be placed; counted as a mismatch in add()
            rows = slice((index - first) * n, (index - first + 1) * n)
            values[rows] = packet_values
            if imu is not None and packet_imu is not None:
                imu[rows] = packet_imu
            present[rows] = True
            arrival[rows] = arrived
        stream.written_through = through
        valid = present & np.all(np.isfinite(values[:, : self.n_pressures]), axis=1)
        values[~valid] = np.nan
        accel = gyro = None
        if imu is not None:
            imu[~valid] = np.nan
            accel, gyro = imu[:, :3], imu[:, 3:]
        arrival[~valid] = np.nan
        block = SlotBlock(device_us, values, valid, np.zeros(values.shape, bool), accel, gyro, arrival)
        if self.last_written_us is not None and device_us[0] <= self.last_written_us:
            keep = device_us > self.last_written_us
            self.overlap_dropped += int((~keep & valid).sum())
            block = SlotBlock(
                device_us[keep], values[keep], valid[keep], block.saturated[keep],
                None if accel is None else accel[keep], None if gyro is None else gyro[keep], arrival[keep],
            )  # fmt: skip
        return self._record(block)


class SourceSession(CaptureSession):
    """A :class:`~insole.capture.CaptureSession` recording another source's insoles.

    Same arguments as ``CaptureSession`` (``params`` defaults to the source's,
    ``selectors`` to both feet), plus ``source``. Only what differs between
    sources is handed to it: which insoles (no BLE scan), their wire, the
    decoding, the layout, unit and channels of the file, and the clock
    method's description. The rest is the session's own code.
    """

    def __init__(
        self,
        out: str | Path,
        *,
        source: Source,
        params: CaptureParams | None = None,
        selectors: Mapping[str, InsoleSelector] | None = None,
        **session: Any,
    ) -> None:
        if "found" in session:
            raise TypeError("a SourceSession finds its insoles through its source")
        sides = tuple(selectors) if selectors is not None else SIDES
        super().__init__(
            out,
            params=params if params is not None else source.capture_params(),
            selectors={side: InsoleSelector(side) for side in sides},
            found=source.found(sides),
            **session,
        )
        self.source = source
        self.malformed: dict[str, int] = {}

    def _new_timeline(self) -> FootTimeline:
        return self.source.new_timeline(self.params, self.params.reorder_window_s * self.clock.speed)

    def _file_facts(self) -> tuple[dict[str, dict[str, Any]], str, SensorLayout, str, tuple[str, ...]]:
        source = self.source
        devices = {side: {**source.devices(side), "address": link.found.address} for side, link in self.links.items()}
        return devices, source.transport_label, get_layout(source.layout_name), source.unit, CHANNELS + source.channels

    def _values_and_channels(self, block: SlotBlock) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n_values = block.values_kpa.shape[1] - len(self.source.channels)
        channels = {
            "device_time_s": block.device_us.astype(np.float64) * 1e-6,
            "saturated_sensors_count": block.saturated[:, :n_values].sum(axis=1).astype(np.float64),
        }
        for k, name in enumerate(self.source.channels):
            channels[name] = block.values_kpa[:, n_values + k]
        return block.values_kpa[:, :n_values].astype(np.float32), channels

    def _open_writer(self) -> None:
        # the source's facts as they are now (a Moticon stream's timestamp unit is known once it is ready)
        self.software = {"source": self.source.name, **self.source.software(), **self.software}
        super()._open_writer()

    def _decode(self, foot: _Foot, items: list[tuple[float, bytes | StreamStart]]) -> None:
        if not items:
            return
        assert isinstance(foot.timeline, ValueTimeline)
        decoded = self.source.decode(foot.side, items, foot.timeline)
        foot.malformed += decoded.malformed
        if decoded.last_sample_us.size:
            foot.estimator.add_arrivals(decoded.last_sample_us, decoded.arrival_s)
            newest = int(decoded.last_sample_us.max())
            foot.last_device_us = newest if foot.last_device_us is None else max(foot.last_device_us, newest)

    def quality(self, *, final: bool = False) -> dict[str, Any]:
        quality = super().quality(final=final)
        quality["clock_method"] = self.source.clock_method
        quality["source"] = {"name": self.source.name, **self.source.quality_facts()}
        return quality

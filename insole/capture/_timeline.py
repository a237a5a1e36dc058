"""Place one foot's samples into slots on its device clock; lost samples become invalid slots.

Pure, no I/O. A :class:`FootTimeline` receives decoded packets as they
arrive and hands out, on request, the next run of consecutive *sample slots*
(device time, pressures, validity) ready to be written.

* Within a stream (the packets after one ``START_STREAMING``) packet ``k``
  holds samples ``k * n .. k * n + n - 1`` and sample ``j`` lies at
  ``t0 + j * period`` on the device clock (``PROTOCOL.md`` section 4). So every
  slot, lost ones included, is placed from the sequence number alone; the
  timestamp is cross-checked and disagreements are counted.
* A slot whose packet never arrived (lost in the air, dropped by the firmware,
  failed its CRC) is written invalid with NaN values: gaps are marked, never
  filled.
* Between two streams (the link dropped and the collector reconnected, so the
  insole restarted its numbering) the slots on the old stream's grid up to
  the new stream's first sample are written invalid: the time the link was
  down is one gap in the file, as long as it lasted.
* A packet is written once it has waited ``reorder_window_s`` (session time)
  after its arrival, so one that overtook another is put back in order. A
  packet arriving after its slots were written is counted as late and
  discarded; its slots stay invalid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from insole.capture._sequence import Arrival, SequenceTracker

__all__ = ["SlotBlock", "FootTimeline", "StreamCounts"]

_CODES_PER_KPA = np.float32(10.0)  # divide, so code 3 is exactly float32(0.3)
_SATURATED_CODE = 0xFFFF
_ACCEL_G_PER_CODE = 0.001
_GYRO_DPS_PER_CODE = 0.1


@dataclass(frozen=True, eq=False)
class SlotBlock:
    """Consecutive sample slots of one foot.

    ``device_us`` (n,) int64 device time of each slot; ``values_kpa`` (n, 16)
    float32, NaN where invalid or saturated; ``valid`` (n,) bool;
    ``saturated`` (n, 16) bool; ``accel_g``/``gyro_dps`` (n, 3) float32 or None;
    ``arrival_s`` (n,) float64 session time the slot's packet arrived (NaN if invalid).
    """

    device_us: np.ndarray
    values_kpa: np.ndarray
    valid: np.ndarray
    saturated: np.ndarray
    accel_g: np.ndarray | None
    gyro_dps: np.ndarray | None
    arrival_s: np.ndarray

    @property
    def n_slots(self) -> int:
        return int(self.device_us.shape[0])

    @staticmethod
    def concatenate(blocks: list[SlotBlock]) -> SlotBlock:
        imu = blocks[0].accel_g is not None
        return SlotBlock(
            device_us=np.concatenate([b.device_us for b in blocks]),
            values_kpa=np.concatenate([b.values_kpa for b in blocks]),
            valid=np.concatenate([b.valid for b in blocks]),
            saturated=np.concatenate([b.saturated for b in blocks]),
            accel_g=np.concatenate([b.accel_g for b in blocks]) if imu else None,
            gyro_dps=np.concatenate([b.gyro_dps for b in blocks]) if imu else None,
            arrival_s=np.concatenate([b.arrival_s for b in blocks]),
        )


@dataclass
class _Stream:
    samples_per_packet: int
    tracker: SequenceTracker = field(default_factory=SequenceTracker)
    t0_us: int | None = None
    written_through: int = -1  # highest packet index written (or declared lost)
    # packet index -> (pressure codes (n,16) uint16, imu codes (n,6) int16 or None, arrival_s)
    pending: dict[int, tuple[np.ndarray, np.ndarray | None, float]] = field(default_factory=dict)
    late: int = 0
    timestamp_mismatches: int = 0


@dataclass(frozen=True)
class StreamCounts:
    """Per-foot packet accounting summed over all streams of the session."""

    streams: int
    packets_sent: int
    packets_received: int
    packets_late: int
    duplicates: int
    reordered: int
    stale: int
    timestamp_mismatches: int

    @property
    def packets_lost(self) -> int:
        """Packets the insole numbered that are not in the file (lost, or arrived too late)."""
        return self.packets_sent - self.packets_received + self.packets_late


class FootTimeline:
    """Slot assembly for one foot (see the module docstring).

    Parameters: ``sample_rate_hz`` (50, 100 or 200), ``n_sensors`` (16 for
    insole16), ``imu`` (whether slots carry IMU values), ``reorder_window_s``
    (how long a packet waits for earlier ones, session seconds).
    """

    def __init__(
        self, sample_rate_hz: int, *, n_sensors: int = 16, imu: bool = False, reorder_window_s: float = 0.1
    ) -> None:
        if 1_000_000 % sample_rate_hz:
            raise ValueError(f"sample rate {sample_rate_hz} Hz has no whole-µs period")
        self.sample_rate_hz = sample_rate_hz
        self.period_us = 1_000_000 // sample_rate_hz
        self.n_sensors = n_sensors
        self.imu = imu
        self.reorder_window_s = reorder_window_s
        self._streams: list[_Stream] = []
        self._current = -1  # index of the stream being drained
        self.last_written_us: int | None = None
        self.slots_written = 0
        self.valid_written = 0
        self.link_gap_slots = 0
        self.overlap_dropped = 0
        self.samples_received = 0  # samples of packets accepted (written or still waiting)

    # ------------------------------------------------------------------ input

    def start_stream(self, samples_per_packet: int) -> None:
        """The insole was told START_STREAMING: its next packets are numbered from 0 again."""
        self._streams.append(_Stream(samples_per_packet))
        if self._current < 0:
            self._current = 0

    @property
    def streaming(self) -> bool:
        return bool(self._streams)

    def add(
        self,
        sequence: int,
        timestamp_us: int,
        pressure_codes: np.ndarray,
        imu_codes: np.ndarray | None,
        arrival_s: float,
    ) -> Arrival:
        """Account and hold one packet of the current stream; return how it arrived."""
        if not self._streams:
            raise RuntimeError("start_stream() before the first packet")
        stream = self._streams[-1]
        arrival, index = stream.tracker.observe(sequence)
        if arrival in (Arrival.DUPLICATE, Arrival.STALE):
            return arrival
        n = stream.samples_per_packet
        if pressure_codes.shape[0] != n:
            # a packet of a different size than configured cannot be placed on the grid
            stream.timestamp_mismatches += 1
        if stream.t0_us is None:
            stream.t0_us = int(timestamp_us) - index * n * self.period_us
        elif abs(int(timestamp_us) - (stream.t0_us + index * n * self.period_us)) * 2 >= self.period_us:
            stream.timestamp_mismatches += 1
        if index <= stream.written_through:
            stream.late += 1
            return arrival
        stream.pending[index] = (pressure_codes, imu_codes, arrival_s)
        self.samples_received += int(pressure_codes.shape[0])
        return arrival

    # ------------------------------------------------------------------ output

    def drain(self, now_s: float, *, final: bool = False) -> SlotBlock | None:
        """Slots ready to write: everything that waited ``reorder_window_s`` (all of it if ``final``)."""
        blocks: list[SlotBlock] = []
        while 0 <= self._current < len(self._streams):
            stream = self._streams[self._current]
            is_last = self._current == len(self._streams) - 1
            if stream.t0_us is None:
                if is_last:
                    break
                self._current += 1  # a stream that never delivered a packet
                continue
            if self.last_written_us is not None and stream.written_through < 0:
                filler = self._filler_until(stream.t0_us)
                if filler is not None:
                    blocks.append(filler)
            ready = self._ready_index(stream, now_s, final or not is_last)
            if ready > stream.written_through:
                blocks.append(self._emit(stream, ready))
            if is_last:
                break
            self._current += 1
        if not blocks:
            return None
        return SlotBlock.concatenate(blocks) if len(blocks) > 1 else blocks[0]

    def pad_until(self, device_us: int) -> SlotBlock | None:
        """Invalid slots on the current grid up to ``device_us`` (the link is down at session end)."""
        if self.last_written_us is None:
            return None
        block = self._filler_until(int(device_us) + self.period_us // 2 + 1)
        return block

    def _ready_index(self, stream: _Stream, now_s: float, everything: bool) -> int:
        if not stream.pending:
            return stream.written_through
        if everything:
            return max(stream.pending)
        horizon = now_s - self.reorder_window_s
        ready = [index for index, (_, _, arrived) in stream.pending.items() if arrived <= horizon]
        return max(ready) if ready else stream.written_through

    def _filler_until(self, next_us: int) -> SlotBlock | None:
        """Invalid slots after the last written one, on its grid, strictly before ``next_us - period/2``."""
        assert self.last_written_us is not None
        count = (next_us - self.last_written_us - self.period_us // 2 - 1) // self.period_us
        if count <= 0:
            return None
        device_us = self.last_written_us + self.period_us * np.arange(1, count + 1, dtype=np.int64)
        self.link_gap_slots += int(count)
        return self._record(self._invalid(device_us))

    def _invalid(self, device_us: np.ndarray) -> SlotBlock:
        n = device_us.shape[0]
        imu = np.full((n, 3), np.nan, np.float32) if self.imu else None
        return SlotBlock(
            device_us=device_us,
            values_kpa=np.full((n, self.n_sensors), np.nan, np.float32),
            valid=np.zeros(n, bool),
            saturated=np.zeros((n, self.n_sensors), bool),
            accel_g=imu,
            gyro_dps=None if imu is None else imu.copy(),
            arrival_s=np.full(n, np.nan),
        )

    def _emit(self, stream: _Stream, through: int) -> SlotBlock:
        """Slots of packets ``written_through + 1 .. through`` of ``stream``."""
        assert stream.t0_us is not None
        n = stream.samples_per_packet
        first = stream.written_through + 1
        count = through - first + 1
        slot_index = np.arange(first * n, (through + 1) * n, dtype=np.int64)
        device_us = stream.t0_us + slot_index * self.period_us
        codes = np.full((count * n, self.n_sensors), _SATURATED_CODE, np.uint16)
        imu_codes = np.zeros((count * n, 6), np.int16) if self.imu else None
        valid = np.zeros(count * n, bool)
        arrival = np.full(count * n, np.nan)
        for index in range(first, through + 1):
            held = stream.pending.pop(index, None)
            if held is None:
                continue
            packet_codes, packet_imu, arrived = held
            rows = slice((index - first) * n, (index - first + 1) * n)
            if packet_codes.shape[0] != n:
                continue  # cannot be placed; counted as a mismatch in add()
            codes[rows] = packet_codes
            if imu_codes is not None and packet_imu is not None:
                imu_codes[rows] = packet_imu
            valid[rows] = True
            arrival[rows] = arrived
        stream.written_through = through
        saturated = (codes == _SATURATED_CODE) & valid[:, None]
        values = codes.astype(np.float32) / _CODES_PER_KPA
        values[saturated | ~valid[:, None]] = np.nan
        accel = gyro = None
        if imu_codes is not None:
            accel = (imu_codes[:, :3] * _ACCEL_G_PER_CODE).astype(np.float32)
            gyro = (imu_codes[:, 3:] * _GYRO_DPS_PER_CODE).astype(np.float32)
            accel[~valid] = np.nan
            gyro[~valid] = np.nan
        block = SlotBlock(device_us, values, valid, saturated, accel, gyro, arrival)
        if self.last_written_us is not None and device_us[0] <= self.last_written_us:
            # a new stream that starts before the last slot written (the insole rebooted and the
            # collector did not rebase its clock): keep the time axis increasing, count the loss
            keep = device_us > self.last_written_us
            self.overlap_dropped += int((~keep & valid).sum())
            block = _select(block, keep)
        return self._record(block)

    def _record(self, block: SlotBlock) -> SlotBlock:
        if block.n_slots:
            self.last_written_us = int(block.device_us[-1])
            self.slots_written += block.n_slots
            self.valid_written += int(block.valid.sum())
        return block

    # ------------------------------------------------------------------ accounting

    @property
    def counts(self) -> StreamCounts:
        per_stream = [s.tracker.counts for s in self._streams]
        return StreamCounts(
            streams=len(self._streams),
            packets_sent=sum(c.sent for c in per_stream),
            packets_received=sum(c.received for c in per_stream),
            packets_late=sum(s.late for s in self._streams),
            duplicates=sum(c.duplicates for c in per_stream),
            reordered=sum(c.reordered for c in per_stream),
            stale=sum(c.stale for c in per_stream),
            timestamp_mismatches=sum(s.timestamp_mismatches for s in self._streams),
        )

    @property
    def pending_packets(self) -> int:
        return sum(len(s.pending) for s in self._streams)


def _select(block: SlotBlock, keep: np.ndarray) -> SlotBlock:
    return SlotBlock(
        device_us=block.device_us[keep],
        values_kpa=block.values_kpa[keep],
        valid=block.valid[keep],
        saturated=block.saturated[keep],
        accel_g=None if block.accel_g is None else block.accel_g[keep],
        gyro_dps=None if block.gyro_dps is None else block.gyro_dps[keep],
        arrival_s=block.arrival_s[keep],
    )

"""One recording session: the collector's links, the per-foot timelines and clocks, the writer, the live hub.

::

    session = CaptureSession("walk.parquet", meta=RecordingMeta(subject_id="s01"), duration_s=60)
    result = await session.run()          # scan, connect, tare, record, finalise
    result.path, result.quality

The session owns the periodic task that turns what the links received into
the recording: every ``flush_interval_s`` it swaps each link's inbox for an
empty list, decodes the packets with the codec (CRC failures and malformed
packets are counted, never written), accounts them in the foot's
:class:`~insole.capture._timeline.FootTimeline`, feeds the arrival times to
the foot's :class:`~insole.capture._clock.ClockEstimator`, and appends the
slots that are ready, on the session clock, to the
:class:`~insole.io._format.RecordingStreamWriter` (an Arrow stream that survives
a crash) and to the :class:`~insole.capture._live.LiveHub`. At the end it writes the
capture quality and finalises the Parquet file.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import importlib.metadata
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from firmware_protocol import CrcMismatchError, ProtocolError, StatusFlags, decode_sample_packet
from insole._errors import DeviceError, InputError, InsoleError
from insole._layout import SensorLayout, get_layout
from insole._output import check_target
from insole._recording import FootSamples, Mark, RecordingMeta
from insole._version import __version__
from insole.capture._clock import ClockEstimator, TimeAxis
from insole.capture._collector import (
    SIDES,
    CaptureParams,
    FoundInsole,
    InsoleLink,
    InsoleSelector,
    SessionClock,
    StreamStart,
    scan_insoles,
    select_insoles,
)
from insole.capture._live import LinkStatus, LiveHub, SampleBlock, SessionEvent
from insole.capture._quality import (
    QUALITY_SCHEMA,
    QUALITY_VERSION,
    GapCounter,
    LatencyHistogram,
    unknown_capture_quality,
)
from insole.capture._timeline import FootTimeline, SlotBlock
from insole.io import RecordingStreamWriter, default_parquet_path, read_parquet, write_parquet

__all__ = ["CaptureResult", "CaptureSession", "FootStatus", "SessionStatus", "StoppedBeforeRecording", "CHANNELS"]

logger = logging.getLogger(__name__)

#: Extra per-sample channels a capture writes: the insole's own clock reading of
#: the slot (s since it booted, rebased after a reboot) and how many of its
#: sensors were saturated (their values are NaN although the sample is valid).
CHANNELS = ("device_time_s", "saturated_sensors_count")
_CLOCK_METHOD = (
    "device clock mapped to the session clock per insole: lower envelope of notification arrivals "
    "(Moon et al. 1999) for offset and drift, READ_CLOCK round trips as an independent check; "
    "see docs/capture.md"
)


class StoppedBeforeRecording(DeviceError):
    """The session was asked to stop while it was still finding, connecting or zeroing the insoles.

    Nothing was written: the capture stream is opened only when the recording starts.
    """


class _StopCameFirst(Exception):
    """A step before the recording was cut short by :meth:`CaptureSession.request_stop`."""


_T = TypeVar("_T")
#: Wall seconds a connected link gets to disconnect by itself when a session is stopped before recording.
_ABANDON_GRACE_S = 1.0
# what StoppedBeforeRecording says, by the step the stop came in (one line: the command line and the clinic app show it)
_STOPPED_LOOKING = "stopped while looking for the insoles, before they connected; nothing was saved"
_STOPPED_CONNECTING = "stopped before the insoles connected; nothing was saved"
_STOPPED_ZEROING = "stopped while zeroing the insoles, before the recording started; nothing was saved"
_STOPPED_CONNECTED = "stopped after the insoles connected, before the recording started; nothing was saved"


@dataclass(frozen=True)
class FootStatus:
    """One foot at a glance, for the status line and the live feed."""

    side: str
    state: str
    samples: int
    valid_samples: int
    received_samples: int
    rate_hz: float | None
    packets_sent: int
    packets_lost: int
    battery_pct: int | None
    reconnects: int

    @property
    def loss_pct(self) -> float:
        return 100.0 * self.packets_lost / self.packets_sent if self.packets_sent else 0.0


@dataclass(frozen=True)
class SessionStatus:
    elapsed_s: float
    feet: Mapping[str, FootStatus]

    def line(self) -> str:
        """``  12.3 s | L streaming 1230 smp 1228 written 100.0 Hz loss 0.00% bat 87% | R ...``

        ``smp`` counts the samples received so far (written within a second); ``written`` the sample
        slots (gaps included) already handed to the operating system in the capture stream when the
        line was made: a crash of this process from then on cannot lose them (``insole recover``).
        """
        parts = [f"{self.elapsed_s:7.1f} s"]
        for side, foot in self.feet.items():
            rate = f"{foot.rate_hz:5.1f} Hz" if foot.rate_hz is not None else "  --- Hz"
            battery = f"{foot.battery_pct}%" if foot.battery_pct is not None else "?"
            reconnects = f" rc {foot.reconnects}" if foot.reconnects else ""
            parts.append(
                f"{side[0].upper()} {foot.state:<12} {foot.received_samples:7d} smp {foot.samples:7d} written {rate} "
                f"loss {foot.loss_pct:5.2f}% bat {battery}{reconnects}"
            )
        return " | ".join(parts)


@dataclass(frozen=True)
class CaptureResult:
    path: Path
    quality: dict[str, Any]
    samples: dict[str, int]
    valid_samples: dict[str, int]


@dataclass
class _Foot:
    side: str
    timeline: FootTimeline
    estimator: ClockEstimator = field(default_factory=ClockEstimator)
    axis: TimeAxis = field(default_factory=TimeAxis)
    gaps: GapCounter = field(default_factory=GapCounter)
    device_base_us: int = 0
    last_device_us: int | None = None
    crc_failures: int = 0
    malformed: int = 0
    wrong_stream: int = 0
    low_battery: bool = False
    rate_window: collections.deque = field(default_factory=lambda: collections.deque(maxlen=64))

    def newest_device_us(self) -> int | None:
        """The newest device time written so far (the link compares its clock with it to detect a reboot)."""
        return self.last_device_us


class CaptureSession:
    """Record both insoles (or the ones in ``selectors``) into ``out`` (Parquet).

    Args:
        out: The Parquet file to write. While capturing, ``<stem>.arrows`` and
            its JSON sidecar are beside it (``insole recover`` reads them after a crash).
        params: :class:`CaptureParams`.
        selectors: side -> :class:`InsoleSelector`; default both feet, automatic.
        meta: Subject, mass, notes... (devices, software and capture quality are added).
        hub: A :class:`LiveHub` to publish to (live dashboard), or None.
        speed: Emulated seconds per wall second (1 with real insoles).
        duration_s: Stop after this much session time; None: until :meth:`request_stop`.
        before_tare: Awaited before the tare, e.g. to ask the wearer to lift both feet.
        on_status: Called with a :class:`SessionStatus` every ``status_interval_s`` (wall).
        software: Extra facts for ``meta.software`` (e.g. how the insoles were emulated).
        found: side -> insole already found by a scan (this session then does not scan;
            several sessions in one process must not scan at once: BlueZ allows one discovery).
        force: Replace an existing ``out`` (without it an existing file is refused before
            anything is connected, and again when the file is published).
    """

    def __init__(
        self,
        out: str | Path,
        *,
        params: CaptureParams = CaptureParams(),
        selectors: Mapping[str, InsoleSelector] | None = None,
        meta: RecordingMeta = RecordingMeta(),
        hub: LiveHub | None = None,
        speed: float = 1.0,
        duration_s: float | None = None,
        before_tare: Callable[[], Awaitable[None]] | None = None,
        on_status: Callable[[SessionStatus], None] | None = None,
        status_interval_s: float = 0.5,
        software: Mapping[str, Any] | None = None,
        found: Mapping[str, FoundInsole] | None = None,
        force: bool = False,
    ) -> None:
        self.out = Path(out)
        self.force = force
        self.stream_path = (
            self.out.with_name(self.out.stem + ".arrows")
            if self.out.suffix == ".parquet"
            else self.out.with_name(self.out.name + ".arrows")
        )
        self.params = params
        self.selectors = dict(selectors) if selectors is not None else {side: InsoleSelector(side) for side in SIDES}
        if not self.selectors or any(side not in SIDES for side in self.selectors):
            raise ValueError(f"selectors must be for 'left' and/or 'right', got {sorted(self.selectors)}")
        self.meta = meta
        self.hub = hub
        self.clock = SessionClock(speed)
        self.duration_s = duration_s
        self.before_tare = before_tare
        self.on_status = on_status
        self.status_interval_s = status_interval_s
        self.software = dict(software or {})
        self.links: dict[str, InsoleLink] = {}
        self.feet: dict[str, _Foot] = {}
        self.latency = LatencyHistogram()
        #: side -> the insole this session records (reuse it for the next session: no new scan)
        self.found: dict[str, FoundInsole] = {}
        #: address -> every insole the scan saw
        self.seen: dict[str, FoundInsole] = {}
        self._preselected = dict(found) if found is not None else None
        self._writer: RecordingStreamWriter | None = None
        self._stop = asyncio.Event()
        self._scan_lock = asyncio.Lock()
        self._recording = False
        self._stopped_at_s: float | None = None
        self._down_at_stop: set[str] = set()
        self.caught_up = asyncio.Event()

    # ------------------------------------------------------------------ control

    def request_stop(self) -> None:
        """End the recording (safe to call from a signal handler in the loop's thread)."""
        if self._stopped_at_s is None and self._recording:
            self._stopped_at_s = self.clock.now()
            self._down_at_stop = {side for side, link in self.links.items() if link.state != "streaming"}
        self._stop.set()

    @property
    def elapsed_s(self) -> float:
        return self.clock.now() if self._recording else 0.0

    @property
    def recording(self) -> bool:
        """True from the start of the recording until it is stopped."""
        return self._recording and self._stopped_at_s is None

    def mark(self, label: str, kind: str = "mark") -> Mark:
        """Put a mark (e.g. "turn", "pain") at the current session time, in the file and on the live feed."""
        if not self.recording or self._writer is None:
            raise InsoleError("not recording: a mark belongs to a running recording")
        mark = Mark(time_s=round(self.clock.now(), 3), label=str(label), kind=kind)
        self._writer.add_mark(mark)
        self._publish(SessionEvent("mark", mark.time_s, mark.label, data={"kind": kind}))
        return mark

    async def zero(self) -> dict[str, bool]:
        """Zero (tare) the streaming insoles now; the wearer's feet must be unloaded.

        Allowed while streaming (PROTOCOL.md section 5): packets during the
        tare still carry the old offset. Returns side -> confirmed.
        """
        if not self.recording:
            raise InsoleError("not recording: the insoles are zeroed when a recording starts")
        links = {side: link for side, link in self.links.items() if link.state == "streaming"}
        results = await asyncio.gather(*(link.tare() for link in links.values()), return_exceptions=True)
        tared = {side: result is True for side, result in zip(links, results)}
        self._publish(SessionEvent("zeroed", self.clock.now(), label="tare", data={"tared": tared}))
        if self._writer is not None:
            self._writer.add_mark(Mark(time_s=round(self.clock.now(), 3), label="zeroed", kind="tare"))
        return tared

    # ------------------------------------------------------------------ run

    async def run(self) -> CaptureResult:
        """Scan, connect, tare, record until the duration or :meth:`request_stop`, finalise."""
        if self.stream_path.exists():
            raise InputError(self.stream_path, "an unfinished capture is here; run 'insole recover' on it first")
        # an existing recording of that name is refused before any insole is connected
        check_target(self.out, force=self.force)
        tasks: list[asyncio.Task] = []
        try:
            # a stop is heard in every step before the recording starts, not only between them
            try:
                chosen = await self._unless_stopped(self._find())
            except _StopCameFirst:
                raise StoppedBeforeRecording(_STOPPED_LOOKING) from None
            for side, found in chosen.items():
                foot = _Foot(side, self._new_timeline())
                self.feet[side] = foot
                self.links[side] = InsoleLink(
                    side, found, self.params, self.clock, foot.estimator,
                    on_state=self._on_link_state,
                    last_device_us=foot.newest_device_us,
                    rescan=self._rescan,
                )
            tasks = [asyncio.create_task(link.run(), name=f"insole-{side}") for side, link in self.links.items()]
            try:
                await self._unless_stopped(
                    asyncio.gather(*(link.wait_ready() for link in self.links.values())),
                    self.params.connect_timeout_s * 2,
                )
            except _StopCameFirst:
                return await self._abandon(tasks, _STOPPED_CONNECTING)
            except asyncio.TimeoutError:
                late = [
                    f"{s} ({link.found.address}: {link.counters.last_error or 'no answer'})"
                    for s, link in self.links.items()
                    if link.state != "ready"
                ]
                raise DeviceError(f"could not connect to the {', '.join(late)} insole") from None
            if self.params.tare:
                if self._stop.is_set():  # (no prompt for the wearer then)
                    return await self._abandon(tasks, _STOPPED_CONNECTED)
                if self.before_tare is not None:
                    # not raced with a stop: a prompt may be reading the terminal in a thread, which
                    # cancelling cannot end (the stop is heard as soon as it returns)
                    await self.before_tare()
                try:
                    await self._unless_stopped(self._tare())
                except _StopCameFirst:
                    return await self._abandon(tasks, _STOPPED_ZEROING)
            if self._stop.is_set():
                return await self._abandon(tasks, _STOPPED_CONNECTED)
            self._open_writer()
            self.clock.restart()
            self._recording = True
            for link in self.links.values():
                link.go()
            self._publish(SessionEvent("recording_started", 0.0, data={"sides": list(self.links)}))
            await self._record_loop()
            return await self._finish(tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            if self._writer is not None:
                with contextlib.suppress(Exception):
                    self._writer.close()  # the stream stays for 'insole recover'
            raise

    async def _find(self) -> dict[str, FoundInsole]:
        if self._preselected is not None and all(side in self._preselected for side in self.selectors):
            self.found = {side: self._preselected[side] for side in self.selectors}
            return self.found
        found = await scan_insoles(self.params.scan_timeout_s, selectors=self.selectors)
        self.seen = found
        chosen = select_insoles(found, self.selectors)
        missing = [side for side in self.selectors if side not in chosen]
        if missing:
            seen = ", ".join(
                f"{f.name or '?'} ({f.address}, {f.side or 'side unknown'}{'; ' + f.problem if f.problem else ''})"
                for f in found.values()
            )
            wanted = ", ".join(
                f"{side}"
                + (
                    f" = {self.selectors[side].address or self.selectors[side].name}"
                    if self.selectors[side].address or self.selectors[side].name
                    else ""
                )
                for side in missing
            )
            raise DeviceError(
                f"no insole found for: {wanted} within {self.params.scan_timeout_s:g} s"
                + (f"; seen: {seen}" if seen else "; none seen (is Bluetooth on and are the insoles awake?)")
            )
        self.found = chosen
        return chosen

    async def _rescan(self, link: InsoleLink) -> FoundInsole | None:
        """Find one insole again by address, one scan at a time (BlueZ allows one discovery)."""
        selector = {link.side: InsoleSelector(link.side, address=link.found.address)}
        async with self._scan_lock:
            found = await scan_insoles(min(self.params.scan_timeout_s, 5.0), selectors=selector)
        return select_insoles(found, selector).get(link.side)

    async def _tare(self) -> None:
        results = await asyncio.gather(*(link.tare() for link in self.links.values()), return_exceptions=True)
        tared = {side: result is True for side, result in zip(self.links, results)}
        self._publish(SessionEvent("zeroed", 0.0, label="tare", data={"tared": tared}))

    async def _unless_stopped(self, step: Awaitable[_T], timeout_s: float | None = None) -> _T:
        """``await step``, unless :meth:`request_stop` comes first: then ``step`` is cancelled and
        :class:`_StopCameFirst` raised. ``asyncio.TimeoutError`` after ``timeout_s`` (wall), ``step`` cancelled."""
        work = asyncio.ensure_future(step)
        stopped = asyncio.ensure_future(self._stop.wait())
        finished = False
        try:
            await asyncio.wait({work, stopped}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
            finished = work.done()
        finally:
            stopped.cancel()
            if not work.done():
                work.cancel()
                # (a cancelled gather() ends with CancelledError as its exception, not as cancelled)
                with contextlib.suppress(asyncio.CancelledError):
                    await work
        if finished:
            return work.result()  # its result or its error, even if a stop came at the same time
        if self._stop.is_set():
            raise _StopCameFirst
        raise asyncio.TimeoutError

    async def _abandon(self, tasks: list[asyncio.Task], why: str) -> CaptureResult:
        """End the links of a session stopped before it recorded, and say so (nothing was written)."""
        for link in self.links.values():
            link.stop()
        # a connected link hears the stop and disconnects; one still connecting may be inside bleak's
        # connect() (which waits out connect_timeout_s) or a source's discovery: it is cancelled, and
        # so is a connected one that has not disconnected within the grace
        pending = [task for task, link in zip(tasks, self.links.values()) if link.state == "ready" and not task.done()]
        for task in tasks:
            if task not in pending:
                task.cancel()
        if pending:
            _, late = await asyncio.wait(pending, timeout=_ABANDON_GRACE_S)
            for task in late:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise StoppedBeforeRecording(why)

    # -- what another source replaces (insole.capture._sources.SourceSession) ---------------------

    def _new_timeline(self) -> FootTimeline:
        """One foot's slot assembly (our insoles: integer codes of 0.1 kPa)."""
        return FootTimeline(self.params.sample_rate_hz, imu=self.params.imu,
                            reorder_window_s=self.params.reorder_window_s * self.clock.speed)

    def _file_facts(self) -> tuple[dict[str, dict[str, Any]], str, SensorLayout, str, tuple[str, ...]]:
        """The file's ``meta.devices``, ``meta.source.transport``, layout, unit and per-sample channels."""
        devices = {}
        for side, link in self.links.items():
            info = link.info
            devices[side] = {
                "name": link.found.name,
                "address": link.found.address,
                "serial": f"{info.serial:08X}" if info else None,
                "firmware": info.firmware_revision if info else None,
                "protocol_version": link.found.protocol_version,
                "full_scale_kpa": info.full_scale_kpa if info else None,
                "battery_pct_start": link.counters.battery_pct_start,
                "tared": link.counters.tared,
            }
        return devices, "BLE (bleak)", get_layout("insole16"), "kPa", CHANNELS

    def _values_and_channels(self, block: SlotBlock) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """A block's sensor values and its channels as written (our insoles: the collector's own two)."""
        return block.values_kpa, {
            "device_time_s": block.device_us.astype(np.float64) * 1e-6,
            "saturated_sensors_count": block.saturated.sum(axis=1).astype(np.float64),
        }

    def _open_writer(self) -> None:
        devices, transport, layout, unit, channels = self._file_facts()
        try:
            bleak_version = importlib.metadata.version("bleak")
        except importlib.metadata.PackageNotFoundError:
            bleak_version = None
        software = {
            "name": "insole",
            "version": __version__,
            "collector": "insole.capture",
            "bleak": bleak_version,
            "capture_params": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.params).items()},
            "speed": self.clock.speed,
            **self.software,
        }
        meta = RecordingMeta.from_dict(
            {
                **self.meta.to_dict(),
                "recorded_at": self.meta.recorded_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "devices": devices,
                "software": software,
                "source": {**dict(self.meta.source), "kind": "live capture", "transport": transport},
                # in the stream's header: a file recovered without the sidecar says its quality is unknown
                "capture_quality": unknown_capture_quality(),
            }
        )
        self._writer = RecordingStreamWriter(
            self.stream_path,
            layout=layout,
            unit=unit,
            sample_rate_hz=self.params.sample_rate_hz,
            meta=meta,
            has_imu=self.params.imu,
            channels=channels,
        )

    async def _record_loop(self) -> None:
        params = self.params
        loop = asyncio.get_running_loop()
        started = loop.time()
        last_status = last_sidecar = started
        deadline = None if self.duration_s is None else started + self.clock.wall_s(self.duration_s)
        while not self._stop.is_set():
            timeout = params.flush_interval_s
            if deadline is not None:
                timeout = max(min(timeout, deadline - loop.time()), 0.0)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout)
            self._process(final=False)
            now = loop.time()
            if deadline is not None and now >= deadline:
                self.request_stop()
            if self._all_links_failed():
                logger.error("every insole link failed; ending the recording")
                self.request_stop()
            if now - last_status >= self.status_interval_s:
                last_status = now
                self._report_status()
            if now - last_sidecar >= 1.0:
                last_sidecar = now
                assert self._writer is not None
                self._writer.update(capture_quality=self.quality())

    def _all_links_failed(self) -> bool:
        return all(link.fatal is not None for link in self.links.values())

    async def _finish(self, tasks: list[asyncio.Task]) -> CaptureResult:
        if self._stopped_at_s is None:
            self.request_stop()
        for link in self.links.values():
            link.stop()
        done, pending = await asyncio.wait(tasks, timeout=self.params.command_timeout_s * 2 + self.params.stop_grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._process(final=True)
        self._report_status()
        assert self._writer is not None
        if not any(foot.timeline.slots_written for foot in self.feet.values()):
            # nothing to save (stopped before the first packet): leave no empty capture behind
            self._writer.close()
            self.stream_path.unlink(missing_ok=True)
            self.stream_path.with_name(self.stream_path.name + ".json").unlink(missing_ok=True)
            raise DeviceError("the recording stopped before any sample arrived; nothing was saved")
        quality = self.quality(final=True)
        self._writer.update(capture_quality=quality)
        path = self._writer.finalize(self.out, force=self.force)
        self._retime(path)
        self._publish(
            SessionEvent("recording_stopped", self._stopped_at_s or self.clock.now(), data={"path": str(path)})
        )
        return CaptureResult(
            path=path,
            quality=quality,
            samples={side: foot.timeline.slots_written for side, foot in self.feet.items()},
            valid_samples={side: foot.timeline.valid_written for side, foot in self.feet.items()},
        )

    def _retime(self, path: Path) -> None:
        """Time the finished file with the whole-session clock fit (better than the online one).

        During capture each batch is timed with the model known then; at the end
        the fit over the whole session is better (it has seen every packet), so
        the Parquet file's ``time_s`` is recomputed from the ``device_time_s``
        channel. A file recovered after a crash keeps the online times; the
        capture quality's ``time_axis_residual_ms`` says how far apart they are.
        """
        recording = read_parquet(path)
        feet = {}
        for side in recording.sides:
            foot = recording.samples(side)
            model = self.feet[side].estimator.model(whole_session=True) if side in self.feet else None
            if model is None or foot.n_samples == 0:
                feet[side] = foot
                continue
            device_us = np.rint(foot.channels["device_time_s"] * 1e6).astype(np.int64)
            feet[side] = FootSamples(
                time_s=np.asarray(model.session_s(device_us)),
                values=foot.values,
                valid=foot.valid,
                accel_g=foot.accel_g,
                gyro_dps=foot.gyro_dps,
                channels=foot.channels,
            )
        # our own file, just written: replaced atomically (a crash leaves the online-timed file or this one)
        write_parquet(recording.replace(left=feet.get("left"), right=feet.get("right")), path, force=True)

    # ------------------------------------------------------------------ the data path

    def _process(self, *, final: bool) -> None:
        now = self.clock.now()
        for side, foot in self.feet.items():
            link = self.links[side]
            items, link.inbox = link.inbox, []
            self._decode(foot, items)
            block = foot.timeline.drain(now, final=final)
            if block is not None:
                self._write(foot, block)
            if final and side in self._down_at_stop and self._stopped_at_s is not None:
                model = foot.estimator.model()
                if model is not None:
                    padding = foot.timeline.pad_until(int(model.device_us(self._stopped_at_s)))
                    if padding is not None:
                        self._write(foot, padding)
        if all(foot.timeline.pending_packets == 0 for foot in self.feet.values()) and all(
            not link.inbox for link in self.links.values()
        ):
            self.caught_up.set()
        else:
            self.caught_up.clear()

    def _decode(self, foot: _Foot, items: list[tuple[float, bytes | StreamStart]]) -> None:
        if not items:
            return
        period_us = self.params.period_us
        wanted_foot = 0 if foot.side == "left" else 1
        last_sample_us: list[int] = []
        arrivals: list[float] = []
        timeline = foot.timeline
        for arrival, payload in items:
            if isinstance(payload, StreamStart):
                timeline.start_stream(payload.samples_per_packet)
                foot.device_base_us = payload.device_base_us
                continue
            try:
                packet = decode_sample_packet(payload)
            except CrcMismatchError:
                foot.crc_failures += 1
                continue
            except ProtocolError:
                foot.malformed += 1
                continue
            if (
                packet.foot != wanted_foot
                or packet.sample_rate_hz != self.params.sample_rate_hz
                or (packet.imu_codes is not None) != self.params.imu
                or not timeline.streaming
            ):
                foot.wrong_stream += 1
                continue
            if packet.flags & StatusFlags.LOW_BATTERY:
                foot.low_battery = True
            timestamp = packet.timestamp_us + foot.device_base_us
            timeline.add(packet.sequence, timestamp, packet.pressure_codes, packet.imu_codes, arrival)
            last = timestamp + (packet.n_samples - 1) * period_us
            last_sample_us.append(last)
            arrivals.append(arrival)
        if last_sample_us:
            foot.estimator.add_arrivals(np.asarray(last_sample_us, np.int64), np.asarray(arrivals))
            newest = max(last_sample_us)
            foot.last_device_us = newest if foot.last_device_us is None else max(foot.last_device_us, newest)

    def _write(self, foot: _Foot, block: SlotBlock) -> None:
        model = foot.estimator.model()
        if model is None:  # cannot happen: slots come from packets, packets feed the estimator
            raise RuntimeError("no clock model for slots being written")
        times = foot.axis.map(block.device_us, model)
        values, channels = self._values_and_channels(block)
        assert self._writer is not None
        self._writer.append(
            foot.side, times, values, block.valid,
            accel_g=block.accel_g, gyro_dps=block.gyro_dps, channels=channels,
        )
        written = self.clock.now()
        self.latency.add((written - block.arrival_s[block.valid]) / self.clock.speed * 1e3)
        foot.gaps.feed(block.valid)
        foot.rate_window.append((written, foot.timeline.valid_written))
        if self.hub is not None:
            unit = self._writer.unit
            self.hub.publish(SampleBlock(foot.side, times, values, block.valid, unit, block.accel_g, block.gyro_dps))

    # ------------------------------------------------------------------ status and quality

    def _publish(self, item: Any) -> None:
        if self.hub is not None:
            self.hub.publish(item)

    def _on_link_state(self, link: InsoleLink) -> None:
        self._publish(self._link_status(link.side))

    def _link_status(self, side: str) -> LinkStatus:
        link = self.links[side]
        foot = self.feet[side]
        counts = foot.timeline.counts
        status = self._foot_status(side)
        return LinkStatus(
            side=side,
            state=link.state,
            address=link.found.address,
            name=link.found.name,
            battery_pct=link.counters.battery_pct,
            samples_received=foot.timeline.valid_written,
            samples_lost=foot.timeline.slots_written - foot.timeline.valid_written,
            packets_received=counts.packets_received,
            packets_lost=counts.packets_lost,
            crc_failures=foot.crc_failures,
            reconnects=link.counters.reconnects,
            rate_hz=status.rate_hz,
            extra={"last_error": link.counters.last_error},
        )

    def _foot_status(self, side: str) -> FootStatus:
        link = self.links[side]
        foot = self.feet[side]
        counts = foot.timeline.counts
        rate = None
        window = foot.rate_window
        if len(window) >= 2 and window[-1][0] - window[0][0] > 0:
            rate = (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])
        return FootStatus(
            side=side,
            state=link.state,
            samples=foot.timeline.slots_written,
            valid_samples=foot.timeline.valid_written,
            received_samples=foot.timeline.samples_received,
            rate_hz=rate,
            packets_sent=counts.packets_sent,
            packets_lost=counts.packets_lost,
            battery_pct=link.counters.battery_pct,
            reconnects=link.counters.reconnects,
        )

    def status(self) -> SessionStatus:
        return SessionStatus(self.elapsed_s, {side: self._foot_status(side) for side in self.links})

    def _report_status(self) -> None:
        for side in self.links:
            self._publish(self._link_status(side))
        if self.on_status is not None:
            self.on_status(self.status())

    def quality(self, *, final: bool = False) -> dict[str, Any]:
        """The capture quality so far (schema in ``insole.capture._quality``).

        ``final``: the clock figures are those of the whole-session fit the
        finished file is timed with.
        """
        period_ms = 1e3 / self.params.sample_rate_hz
        feet: dict[str, Any] = {}
        latency_floor: dict[str, float] = {}
        uncertainty: dict[str, float] = {}
        for side, foot in self.feet.items():
            link = self.links[side]
            counts = foot.timeline.counts
            clock = foot.estimator.summary(whole_session=final)
            model = foot.estimator.model(whole_session=final)
            residual = foot.axis.residual_s(model) if model is not None else None
            clock["time_axis_residual_ms"] = None if residual is None else residual * 1e3
            min_latency_ms = clock.get("min_latency_ms")
            if min_latency_ms is not None:
                latency_floor[side] = float(min_latency_ms)
                uncertainty[side] = float(clock["sync_uncertainty_ms"] or 0.0)
            written = foot.timeline.slots_written
            valid = foot.timeline.valid_written
            info = link.info
            feet[side] = {
                "name": link.found.name,
                "address": link.found.address,
                "serial": f"{info.serial:08X}" if info else None,
                "firmware": info.firmware_revision if info else None,
                "packets_sent": counts.packets_sent,
                "packets_received": counts.packets_received,
                "packets_lost": counts.packets_lost,
                "packet_loss_pct": 100.0 * counts.packets_lost / counts.packets_sent if counts.packets_sent else 0.0,
                "samples": written,
                "valid_samples": valid,
                "missing_samples": written - valid,
                "gaps": foot.gaps.count,
                "gap_total_ms": foot.gaps.total_samples * period_ms,
                "longest_gap_ms": foot.gaps.longest_samples * period_ms,
                "link_down_samples": foot.timeline.link_gap_slots,
                "crc_failures": foot.crc_failures,
                "malformed_packets": foot.malformed + foot.wrong_stream,
                "duplicates": counts.duplicates,
                "reordered": counts.reordered,
                "late_packets": counts.packets_late + counts.stale,
                "timestamp_mismatches": counts.timestamp_mismatches,
                "streams": counts.streams,
                "reconnects": link.counters.reconnects,
                "link_losses": link.counters.link_losses,
                "failed_connection_attempts": link.counters.failed_attempts,
                "stalls": link.counters.stalls,
                "device_reboots": link.counters.device_reboots,
                "battery_pct_start": link.counters.battery_pct_start,
                "battery_pct_end": link.counters.battery_pct,
                "low_battery": foot.low_battery,
                "tared": link.counters.tared,
                "tare_lost": link.counters.tare_lost,
                "link_state_at_end": link.state,
                "last_error": link.counters.last_error,
                "clock": clock,
            }
        residual = uncertainty_ms = None
        if len(latency_floor) == 2:
            residual = abs(latency_floor["left"] - latency_floor["right"])
            uncertainty_ms = uncertainty["left"] + uncertainty["right"]
        end = self._stopped_at_s if self._stopped_at_s is not None else self.elapsed_s
        return {
            "schema": QUALITY_SCHEMA,
            "version": QUALITY_VERSION,
            "duration_s": end,
            "speed": self.clock.speed,
            "sample_rate_hz": self.params.sample_rate_hz,
            "samples_per_packet": self.params.samples_per_packet,
            "lr_alignment_residual_ms": residual,
            "lr_alignment_uncertainty_ms": uncertainty_ms,
            "notification_to_disk_ms": self.latency.summary(),
            "clock_method": _CLOCK_METHOD,
            "time_axis": (
                "whole-session clock fit (the finished file)" if final
                else "online clock fit (what a file recovered after a crash holds)"
            ),
            "feet": feet,
        }


def parquet_path_for(out: Path) -> Path:
    return default_parquet_path(out) if out.suffix == ".arrows" else out

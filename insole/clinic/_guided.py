"""Guided capture of a clinic test: a running collector session, the live phase, the result when the test ends.

``GuidedTest(test, session, hub, inputs)`` takes a collector session (anything
with ``run()``, ``request_stop()`` and ``elapsed_s``: the BLE collector's
``CaptureSession``, or a test double) and the ``LiveHub`` it publishes to.
While the session records, a ``LiveTracker`` follows the test on the live
samples and publishes each phase change as ``SessionEvent("phase")`` on the
hub (the live page and the terminal show it), with the clinician's
instruction and, where the test has one, the countdown. The clinician's marks
(``add_mark``: "turn", "lap", "pain", free text) go into the session's
crash-safe stream at once (``session.mark``), and from there on the hub.
When the test ends (the patient has finished, the countdown ran out, the
clinician stopped it, or the time limit), the session is stopped, the saved
recording is analysed (``run_test``), and the file is written again with the
phases as marks and the result in ``meta.extra["clinic_test"]``; the result is
published as ``SessionEvent("result")``.

The live phases are quick estimates for following the test (thresholds on
the summed load, heading rate from the gyroscope); the saved phases and the
result come from the analysis of the whole recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from insole._errors import InsoleError
from insole._layout import SensorLayout
from insole._recording import Mark
from insole.analysis import STANDARD_GRAVITY_M_S2, hysteresis
from insole.capture import LiveHub, SampleBlock, SessionEvent
from insole.clinic._phases import PHASE_MARK_KIND
from insole.clinic._protocols import protocol
from insole.clinic._results import TestInputs, TestResult, run_test
from insole.io import read_parquet, write_parquet

__all__ = ["GuidedSession", "GuidedTest", "GuidedControl", "GuidedOutcome", "LivePhase", "LiveTracker",
           "TIME_LIMIT_S", "END_GRACE_S"]

logger = logging.getLogger(__name__)

# A guided test that has not ended by itself stops after this long (s of session time).
TIME_LIMIT_S = {"10mwt": 120.0, "tug": 120.0, "6mwt": 420.0, "balance": 120.0}
END_GRACE_S = 2.0  # recording goes on this long (s of samples) after the test has ended


@runtime_checkable
class GuidedSession(Protocol):
    """What the guided test needs of a capture session (the collector's ``CaptureSession`` has it).

    ``run()`` records until ``request_stop()`` and returns something with a
    ``path`` (the finished Parquet file). A session may also offer
    ``mark(label, kind)``; then marks reach its crash-safe stream at once.
    """

    @property
    def elapsed_s(self) -> float: ...

    async def run(self) -> Any: ...

    def request_stop(self) -> None: ...


@dataclass(frozen=True)
class LivePhase:
    """A phase change as the live tracker saw it (session time, s)."""

    name: str
    time_s: float
    instruction: str = ""
    countdown_s: float | None = None  # the time left in this phase when it started, where the test has a countdown
    data: dict[str, Any] = field(default_factory=dict)


class _Growing:
    """A growing float64 array (amortised doubling): the live buffers of one foot."""

    def __init__(self, columns: int) -> None:
        self._data = np.empty((1024, columns))
        self.n = 0

    def append(self, rows: np.ndarray) -> None:
        need = self.n + rows.shape[0]
        if need > self._data.shape[0]:
            bigger = np.empty((max(need, 2 * self._data.shape[0]), self._data.shape[1]))
            bigger[: self.n] = self._data[: self.n]
            self._data = bigger
        self._data[self.n: need] = rows
        self.n = need

    @property
    def data(self) -> np.ndarray:
        return self._data[: self.n]


class LiveTracker:
    """Follows a clinic test on live samples: per-foot loading, steps, heading rate, summed load.

    ``feed(block)`` returns the phase changes the new samples complete;
    ``done`` turns True when the test has ended by itself. Loads are judged
    against body weight (``body_weight_n``; without it against the highest
    one-second mean so far). Thresholds (fractions of body weight): a foot is
    loaded above 0.25 and unloaded below 0.12; sitting is a summed load below
    0.5; a turn is a mean heading rate above 30 deg/s (ends below 15).
    """

    def __init__(self, test: str, layout: SensorLayout, unit: str = "kPa", body_weight_n: float | None = None,
                 inputs: TestInputs | None = None) -> None:
        self.test = test
        self.protocol = protocol(test)
        self.inputs = inputs or TestInputs()
        self.scale = layout.load_weights(unit)
        self.body_weight = body_weight_n
        self._feet = {side: _Growing(3) for side in ("left", "right")}  # time, force, heading rate
        self._yaw_axis: dict[str, int] = {}
        self._t = _Growing(4)  # time, left, right, heading rate (common clock)
        self._loaded = {"left": False, "right": False}
        self._turning = False
        self._steps: list[tuple[float, str, str]] = []  # (time, side, "strike"|"off")
        self._level_peak = 0.0
        self.phases: list[LivePhase] = []
        self.done = False
        self.done_reason = ""
        self.marks: list[Mark] = []
        self._state: dict[str, Any] = {"stage": 0, "since": None, "turns": 0, "initial": None}
        first = {"10mwt": "standing", "tug": "seated", "6mwt": "standing", "balance": "getting_ready"}[test]
        self._pending: list[LivePhase] = [self._phase(first, 0.0)]

    # -- input ---------------------------------------------------------------------------------

    def feed(self, block: SampleBlock) -> list[LivePhase]:
        n = len(block.time_s)
        if n == 0 or block.side not in self._feet:
            return self._flush()
        values = np.asarray(block.values, dtype=float).reshape(n, -1)
        force = np.where(np.asarray(block.valid, bool), np.nan_to_num(values) @ self.scale, np.nan)
        yaw = np.zeros(n)
        if block.gyro_dps is not None and block.accel_g is not None:
            if block.side not in self._yaw_axis:
                gravity = np.nanmean(np.asarray(block.accel_g, float), axis=0)
                self._yaw_axis[block.side] = int(np.argmax(np.abs(gravity)))
            yaw = np.nan_to_num(np.asarray(block.gyro_dps, float)[:, self._yaw_axis[block.side]])
        self._feet[block.side].append(np.column_stack([np.asarray(block.time_s, float), force, yaw]))
        self._advance()
        return self._flush()

    def mark(self, label: str, time_s: float) -> list[LivePhase]:
        """A clinician's mark: "turn"/"lap" stand in for the gyroscope's turns; "stop" ends the test."""
        word = label.strip().lower()
        if word in ("turn", "lap", "cone") and not self._yaw_axis:
            self._on_turn_mark(time_s)
        return self._flush()

    # -- the common clock ---------------------------------------------------------------------

    def _advance(self) -> None:
        left, right = self._feet["left"].data, self._feet["right"].data
        if left.shape[0] == 0 or right.shape[0] == 0:
            return
        done = self._t.data[-1, 0] if self._t.n else -math.inf
        until = min(left[-1, 0], right[-1, 0])
        pick = (left[:, 0] > done) & (left[:, 0] <= until)
        if not pick.any():
            return
        t = left[pick, 0]
        fl = left[pick, 1]
        fr = np.interp(t, right[:, 0], right[:, 1])
        yaw = 0.5 * (left[pick, 2] + np.interp(t, right[:, 0], right[:, 2]))
        self._t.append(np.column_stack([t, fl, fr, yaw]))
        self._update(t, fl, fr, yaw)

    def _reference(self) -> float:
        if self.body_weight:
            return float(self.body_weight)
        return max(self._level_peak, 1e-9)

    def _recent(self, seconds: float) -> np.ndarray:
        data = self._t.data
        return data[data[:, 0] >= data[-1, 0] - seconds]

    def _total_mean(self, seconds: float) -> float:
        recent = self._recent(seconds)
        return float(np.nanmean(recent[:, 1] + recent[:, 2])) if recent.size else float("nan")

    def _heading_rate_mean(self, seconds: float) -> float:
        recent = self._recent(seconds)
        return float(np.nanmean(recent[:, 3])) if recent.size else float("nan")

    def _update(self, t: np.ndarray, fl: np.ndarray, fr: np.ndarray, yaw: np.ndarray) -> None:
        total_1s = self._total_mean(1.0)
        if math.isfinite(total_1s):
            self._level_peak = max(self._level_peak, total_1s)
            if self._state["initial"] is None and self._t.data[-1, 0] - self._t.data[0, 0] >= 1.0:
                self._state["initial"] = total_1s
        ref = self._reference()
        for side, f in (("left", fl), ("right", fr)):
            prior = np.array([ref if self._loaded[side] else 0.0])
            state = hysteresis(np.concatenate([prior, np.nan_to_num(f)]), 0.25 * ref, 0.12 * ref)[1:]
            before = np.concatenate([[self._loaded[side]], state[:-1]])
            for k in np.flatnonzero(state != before):
                self._steps.append((float(t[k]), side, "strike" if state[k] else "off"))
            self._loaded[side] = bool(state[-1])
        rate = abs(self._heading_rate_mean(0.5))
        was = self._turning
        self._turning = rate > 30.0 if not was else rate > 15.0
        now = float(t[-1])
        getattr(self, f"_step_{self.test.replace('10mwt', 'ten').replace('6mwt', 'six')}")(now, total_1s / ref, was)

    # -- the tests ---------------------------------------------------------------------------

    def _last(self, kind: str) -> float | None:
        times = [s[0] for s in self._steps if s[2] == kind]
        return times[-1] if times else None

    def _first_after(self, kind: str, after: float) -> float | None:
        times = [s[0] for s in self._steps if s[2] == kind and s[0] > after]
        return times[0] if times else None

    def _still_for(self, now: float, seconds: float) -> bool:
        last = self._steps[-1][0] if self._steps else -math.inf
        return now - last >= seconds and all(self._loaded.values())

    def _step_ten(self, now: float, relative: float, was_turning: bool) -> None:
        stage = self._state["stage"]
        if stage == 0:
            off = self._last("off")
            if off is not None:
                self._go("walking", off)
        elif stage == 1 and self._still_for(now, 1.5):
            self._go("standing", self._steps[-1][0], done="the patient walked and stood still")

    def _step_tug(self, now: float, relative: float, was_turning: bool) -> None:
        stage = self._state["stage"]
        initial = self._state["initial"]
        if stage == 0 and initial is not None:
            quick = self._total_mean(0.3)  # the rise is quick: a short mean sees it early
            rising = quick / self._reference() > 0.4 if self.body_weight else quick > 2.0 * initial
            if rising:
                self._go("sit_to_stand", now)
        elif stage == 1:
            off = self._first_after("off", self.phases[-1].time_s)
            if off is not None:
                self._go("walk_out", off)
        elif stage == 2 and self._turning and not was_turning:
            self._go("turn_out", now)
        elif stage == 3 and was_turning and not self._turning:
            self._go("walk_back", now)
        elif stage == 4 and self._turning and not was_turning:
            self._go("turn_back", now)
        elif stage == 5 and was_turning and not self._turning:
            self._go("stand_to_sit", now)
        if stage >= 2 and relative < 0.5:
            since = self._state.setdefault("low_since", now)
            if now - since >= 1.0:
                self._go("seated", since, done="the patient sat down again")
        else:
            self._state.pop("low_since", None)

    def _step_six(self, now: float, relative: float, was_turning: bool) -> None:
        stage = self._state["stage"]
        if stage == 0:
            off = self._last("off")
            if off is not None:
                self._state["start"] = off
                self._go("walking", off, countdown=self.inputs.duration_s, data={"length": 1})
            return
        start = self._state["start"]
        if now - start >= self.inputs.duration_s:
            self._go("end", start + self.inputs.duration_s, done="six minutes are over")
            return
        left = self.inputs.duration_s - (now - start)
        if self._turning and not was_turning:
            self._state["turns"] += 1
            self._go("turn", now, countdown=left, data={"lengths_completed": self._state["turns"]})
        elif was_turning and not self._turning:
            self._go("walking", now, countdown=left, data={"length": self._state["turns"] + 1})

    def _step_balance(self, now: float, relative: float, was_turning: bool) -> None:
        stage = self._state["stage"]
        condition = self.inputs.condition_s
        if stage == 0 and self._t.data[-1, 0] - self._t.data[0, 0] >= 2.0 and self._still_for(now, 2.0):
            self._go("eyes_open", now, countdown=condition)
        elif stage == 1 and now - self.phases[-1].time_s >= condition:
            self._go("eyes_closed", self.phases[-1].time_s + condition, countdown=condition)
        elif stage == 2 and now - self.phases[-1].time_s >= condition:
            self._go("end", self.phases[-1].time_s + condition, done="both periods are over")
        if stage in (1, 2) and not all(self._loaded.values()) and not self._state.get("stepped"):
            self._state["stepped"] = now  # reported by the analysis; the live page hears it as a mark
            self.marks.append(Mark(round(now, 3), "stepped"))

    def _on_turn_mark(self, time_s: float) -> None:
        if self.test == "tug" and self._state["stage"] in (2, 4):
            self._go("turn_out" if self._state["stage"] == 2 else "turn_back", time_s)
            self._go("walk_back" if self._state["stage"] == 3 else "stand_to_sit", time_s)
        elif self.test == "6mwt" and self._state["stage"] >= 1:
            self._state["turns"] += 1
            left = self.inputs.duration_s - (time_s - self._state["start"])
            self._go("turn", time_s, countdown=left, data={"lengths_completed": self._state["turns"]})
            self._go("walking", time_s, countdown=left, data={"length": self._state["turns"] + 1})

    # -- phases ---------------------------------------------------------------------------------

    def _phase(self, name: str, time_s: float, countdown: float | None = None, data: dict | None = None) -> LivePhase:
        specs = [p for p in self.protocol.phases if p.name == name]
        # a name that comes twice (TUG: seated before and after) takes its later meaning once the test is under way
        spec = (specs[-1] if self.phases else specs[0]) if specs else None
        instruction = spec.instruction if spec else {"walking": "Walking.", "end": "The test is over.",
                                                       "getting_ready": "Stand still; the test starts by itself.",
                                                       "turn": "Rounding a cone."}.get(name, "")
        if self.test == "balance" and name == "eyes_closed":
            instruction = "Close your eyes now and keep standing still."
        return LivePhase(name, round(float(time_s), 3), instruction, countdown, dict(data or {}))

    def _go(self, name: str, time_s: float, countdown: float | None = None, data: dict | None = None,
            done: str | None = None) -> None:
        if self.done:
            return
        phase = self._phase(name, time_s, countdown, data)
        self.phases.append(phase)
        self._pending.append(phase)
        self._state["stage"] += 1
        if done:
            self.done = True
            self.done_reason = done

    def _flush(self) -> list[LivePhase]:
        out, self._pending = self._pending, []
        return out

    def countdown_left_s(self, now: float) -> float | None:
        """Time left in the current phase, for tests with a countdown."""
        for phase in reversed(self.phases):
            if phase.countdown_s is not None:
                return max(0.0, phase.countdown_s - (now - phase.time_s))
        return None

    @property
    def current(self) -> str:
        return self.phases[-1].name if self.phases else self._pending[0].name if self._pending else ""


@dataclass
class GuidedOutcome:
    """What a guided test produced: the saved recording, its result, the live phases and the marks."""

    path: Path | None
    result: TestResult | None
    live_phases: list[LivePhase]
    marks: list[Mark]
    stopped_by: str
    capture: Any = None


class GuidedTest:
    """Run one clinic test on a capture session (see the module docstring).

    ``on_phase(phase)`` and ``on_result(result)`` let a terminal show them;
    ``time_limit_s`` (session time) stops a test that never ends by itself.
    """

    def __init__(
        self,
        test: str,
        session: GuidedSession,
        hub: LiveHub,
        inputs: TestInputs | None = None,
        *,
        layout: SensorLayout,
        unit: str = "kPa",
        body_mass_kg: float | None = None,
        time_limit_s: float | None = None,
        on_phase: Callable[[LivePhase], None] | None = None,
        on_result: Callable[[TestResult], None] | None = None,
    ) -> None:
        self.test = test
        self.protocol = protocol(test)
        self.session = session
        self.hub = hub
        self.inputs = inputs or TestInputs()
        weight = body_mass_kg * STANDARD_GRAVITY_M_S2 if body_mass_kg else None
        self.tracker = LiveTracker(test, layout, unit, weight, self.inputs)
        self.time_limit_s = time_limit_s if time_limit_s is not None else TIME_LIMIT_S[test]
        self.on_phase = on_phase
        self.on_result = on_result
        self.marks: list[Mark] = []
        self._superseded: list[Mark] = []
        self.stopped_by = ""
        self._stop = asyncio.Event()
        self._tracker_marks = 0
        self._last_block_session_s = 0.0
        self.path: Path | None = None

    @property
    def recording_path(self) -> Path | None:
        return self.path

    # -- the clinician ---------------------------------------------------------------------

    async def add_mark(self, label: str, kind: str = "mark") -> Mark:
        """A clinician's mark at the current session time: in the recording's stream and on the hub at once."""
        text = "".join(ch for ch in str(label) if ch.isprintable()).strip()[:200]
        mark = self._record_mark(text, kind)
        if text.lower() == "stop":
            self.stop("the clinician")
        else:
            self._announce(self.tracker.mark(text, mark.time_s))
        return mark

    def _record_mark(self, label: str, kind: str = "mark", time_s: float | None = None) -> Mark:
        """Put a mark into the session's crash-safe stream now (it also reaches the hub from there).

        A session without ``mark()`` (a test double), or one not recording yet
        or any more, cannot take it: the mark is then published here and kept
        for the file written when the test ends. ``time_s`` is the time the
        mark is about when it is not now (the tracker's "stepped"); the stream
        then gets it at the time it is written, and the exact time is added at
        the end.
        """
        own = getattr(self.session, "mark", None)
        mark = None
        if own is not None:
            try:
                mark = own(label, kind)
            except InsoleError as error:  # before the recording starts or after it stopped
                logger.info("mark %r kept for the end of the test: %s", label, error)
        if mark is None:
            mark = Mark(round(float(self.session.elapsed_s if time_s is None else time_s), 3), label, kind)
            self.hub.publish(SessionEvent("mark", mark.time_s, mark.label, {"kind": kind}))
        elif time_s is not None and abs(mark.time_s - time_s) >= 1e-3:
            self._superseded.append(mark)  # the exact time replaces the stream's in the finished file
            mark = Mark(round(float(time_s), 3), label, kind)
        self.marks.append(mark)
        return mark

    def stop(self, by: str = "the clinician") -> None:
        if not self.stopped_by:
            self.stopped_by = by
        self._stop.set()

    # -- the run ------------------------------------------------------------------------------

    async def run(self) -> GuidedOutcome:
        queue = self.hub.subscribe()
        capture = asyncio.create_task(self.session.run(), name="guided-capture")
        follower = asyncio.create_task(self._follow(queue), name="guided-follow")
        watchdog = asyncio.create_task(self._watch_time_limit(), name="guided-time-limit")
        stopper = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({capture, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not capture.done():
                self.session.request_stop()
            captured = await capture
        finally:
            for task in (follower, watchdog, stopper):
                task.cancel()
            for task in (follower, watchdog):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.hub.unsubscribe(queue)
        if not self.stopped_by:
            self.stopped_by = "the capture (it ended by itself)"
        path = Path(getattr(captured, "path", captured)) if captured is not None else None
        self.path = path
        result = None
        if path is not None and path.exists():
            result = await asyncio.get_running_loop().run_in_executor(None, self._finish, path)
            summary = result.summary()
            self.hub.publish(SessionEvent("result", float(self.session.elapsed_s), summary,
                                          {"test": self.test, "status": result.status,
                                           "measures": {k: v for k, v in result.to_dict()["measures"].items()
                                                        if isinstance(v, (int, float, str))}}))
            if self.on_result is not None:
                self.on_result(result)
        return GuidedOutcome(path, result, list(self.tracker.phases), list(self.marks), self.stopped_by, captured)

    async def _follow(self, queue: asyncio.Queue) -> None:
        self._announce(self.tracker._flush())
        while True:
            item = await queue.get()
            if not isinstance(item, SampleBlock):
                continue
            self._last_block_session_s = float(self.session.elapsed_s)
            self._announce(self.tracker.feed(item))
            while self._tracker_marks < len(self.tracker.marks):  # e.g. "stepped" during a balance period
                mark = self.tracker.marks[self._tracker_marks]
                self._tracker_marks += 1
                self._record_mark(mark.label, mark.kind, mark.time_s)
            if self.tracker.done:
                # record a little past the end: the saved file is retimed with the whole-session clock fit,
                # which may move the live times by a fraction of a second; the analysis needs the end inside
                ended = self.tracker.phases[-1].time_s
                if len(item.time_s) and float(item.time_s[-1]) >= ended + END_GRACE_S:
                    self.stop(f"the test ({self.tracker.done_reason})")
            elif len(item.time_s) and float(item.time_s[-1]) >= self.time_limit_s:
                self.stop(f"the time limit ({self.time_limit_s:g} s)")

    async def _watch_time_limit(self) -> None:
        """Stop at the time limit when the samples stopped coming (otherwise the samples' own time decides).

        The session clock may run ahead of the samples (emulated insoles that
        cannot keep up with ``--speed``): the limit is judged on the newest
        sample's time, and on the session clock only after 5 s without one.
        """
        while True:
            await asyncio.sleep(0.5)
            now = float(self.session.elapsed_s)
            quiet = now - self._last_block_session_s >= 5.0
            if now >= self.time_limit_s and quiet:
                self.stop(f"the time limit ({self.time_limit_s:g} s; no samples for 5 s)")
                return

    def _announce(self, phases: list[LivePhase]) -> None:
        for phase in phases:
            data = {"test": self.test, "phase": phase.name, "instruction": phase.instruction, **phase.data}
            if phase.countdown_s is not None:
                data["countdown_s"] = phase.countdown_s
                data["ends_at_s"] = phase.time_s + phase.countdown_s
            self.hub.publish(SessionEvent("phase", phase.time_s, phase.name, data))
            if self.on_phase is not None:
                self.on_phase(phase)

    def _finish(self, path: Path) -> TestResult:
        """Analyse the saved recording, then write it again with its phases, marks and result."""
        recording = read_parquet(path)
        extra_marks = list(self.marks)
        if self.test == "balance":  # the guided instructions are this test's phases
            extra_marks += [Mark(p.time_s, p.name, PHASE_MARK_KIND) for p in self.tracker.phases
                            if p.name in ("eyes_open", "eyes_closed", "end")]
        def key(m: Mark) -> tuple[float, str, str]:
            return round(float(m.time_s), 3), m.label, m.kind

        superseded = {key(m) for m in self._superseded}
        streamed = tuple(m for m in recording.marks if key(m) not in superseded)
        known = {key(m) for m in streamed}
        added = tuple(m for m in extra_marks if key(m) not in known)
        recording = recording.replace(marks=tuple(sorted(streamed + added, key=lambda m: m.time_s)))
        result = run_test(recording, self.test, self.inputs)
        guided = {"stopped_by": self.stopped_by,
                  "live_phases": [dataclasses.asdict(p) for p in self.tracker.phases]}
        saved = result.with_recording(recording)
        extra = {**dict(saved.meta.extra), "clinic_guided": guided}
        # the capture wrote this file a moment ago; the test result is added to that same file
        write_parquet(saved.replace(meta=dataclasses.replace(saved.meta, extra=extra)), path, force=True)
        return result


class GuidedControl:
    """The live page's controls during a guided test (the ``SessionControl`` verbs of ``dashboards``).

    Marks go to the test (a "turn" mark stands in for the gyroscope, "stop"
    ends the test); the recording itself belongs to the test, so the page can
    stop it (the result is computed as the clinician would by typing "stop")
    but not start another, and zeroing waits for the next test.
    """

    def __init__(self, guided: GuidedTest) -> None:
        self.guided = guided

    @property
    def recording_path(self) -> Path | None:
        return getattr(self.guided.session, "out", None)

    async def start_recording(self) -> Path:
        from insole._errors import InsoleError

        raise InsoleError("the guided test is recording already; start another test from the command line")

    async def stop_recording(self) -> Path:
        self.guided.stop("the live page")
        return Path(getattr(self.guided.session, "out", ""))

    async def mark(self, label: str) -> Mark:
        return await self.guided.add_mark(label)

    async def zero(self) -> None:
        from insole._errors import InsoleError

        raise InsoleError("zeroing happens before each test starts (feet unloaded), not during it")

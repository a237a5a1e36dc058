"""Running a test from the clinic app: capture into the store, the live page beside it, the result into the visit.

One test runs at a time (one pair of insoles on one patient). ``Runs.start``
asks the store for a capture (``begin_capture``: the test's row in the visit,
status "capturing", and the file the recorder writes under ``captures/``),
then runs on the app's event loop, as ``insole test`` and ``insole record``
do:

* the capture session of the chosen source (``insole.capture``), writing
  its crash-safe stream beside the capture file;
* for the clinic tests (10-metre walk, 6-minute walk, TUG, balance) the
  guided test of ``insole.clinic`` (phases, marks, the result when the test
  ends by itself); for a free walk, the capture until the clinician stops it;
* the live page (``dashboards.LiveServer``) on a port of its own, with the
  test's controls (marks; stop);
* ``emulated``: a simulated patient doing the test on emulated insoles on a
  private fake BlueZ (``insole test --emulate``), or the gait pattern walked
  for a free walk (``insole record --emulate``).

When the capture ends (the test ended, the clinician pressed Stop, or it
failed), the store finishes it (``finish_capture``: the file moved into the
clinic's files, analysed, the report written, the key numbers kept). A capture
killed with the app leaves its stream under ``captures/``; the store recovers
it into its visit at the next start (``recover_interrupted``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from insole import InsoleError

__all__ = ["RunOptions", "Runs", "RunState", "SOURCES", "TESTS", "GUIDED_TESTS", "phase_text"]

log = logging.getLogger(__name__)

#: The tests the app offers (the store's names) and what the page calls them.
TESTS = {
    "10mwt": "10-metre walk",
    "6mwt": "6-minute walk",
    "tug": "Timed Up and Go",
    "balance": "standing balance",
    "free_walk": "free walk",
}
GUIDED_TESTS = ("10mwt", "6mwt", "tug", "balance")
#: The sources (the store's names) and what the page calls them.
SOURCES = {
    "emulated": "emulated insoles (a simulated patient; no hardware)",
    "insole": "our insoles over Bluetooth LE",
    "moticon": "Moticon OpenGo (the OpenGo software on this computer, streaming over UDP)",
    "orphe": "ORPHE INSOLE over Bluetooth LE",
}
_RATE_HZ = 100
_UNLOADED_S = 0.5  # emulated insoles read no load this long first (the feet lifted for the tare)
_HOLD_S = 20.0  # after a clinic test's script, the simulated patient holds the last posture this long


class RunError(InsoleError):
    """A test cannot start as asked (another is running, an unknown test or source)."""


@dataclass(frozen=True)
class RunOptions:
    """What the run form sets: the test's own inputs and, for emulated insoles, the simulated patient."""

    walkway_m: float = 14.0
    timed_m: float | None = None
    pace: str = "comfortable"
    course_m: float = 30.0
    pattern: str = "normal"
    seed: int = 0
    speed: float = 1.0
    mass_kg: float | None = None
    age_years: float | None = None
    sex: str | None = None
    height_cm: float | None = None


@dataclass
class RunState:
    """One test started from the app, as its page shows it."""

    test_id: int
    visit_id: int
    test: str
    source: str
    started: float = field(default_factory=time.monotonic)
    live_url: str | None = None
    phase: str = ""
    status: str = "starting"  # starting, capturing, finishing, done, failed
    message: str = ""
    task: asyncio.Task[None] | None = None
    stop: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        return self.status in ("starting", "capturing", "finishing")


class Runs:
    """The tests running (at most one) and the last state of each started in this app's life."""

    def __init__(
        self,
        call_store: Callable[..., Awaitable[Any]],
        *,
        host: str = "127.0.0.1",
        allow_remote: bool = False,
    ) -> None:
        self._call_store = call_store
        self.host = host
        self.allow_remote = allow_remote
        self.states: dict[int, RunState] = {}
        self._starting: asyncio.Lock | None = None

    @property
    def current(self) -> RunState | None:
        return next((s for s in self.states.values() if s.running), None)

    async def start(self, visit_id: int, test: str, source: str, options: RunOptions) -> RunState:
        """Start a test in ``visit_id``; return once its live page is up (or it failed), at most 30 s."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:  # two clicks on Start: one test
            return await self._start(visit_id, test, source, options)

    async def _start(self, visit_id: int, test: str, source: str, options: RunOptions) -> RunState:
        if test not in TESTS:
            raise RunError(f"unknown test {test!r} (one of {', '.join(TESTS)})")
        if source not in SOURCES:
            raise RunError(f"unknown source {source!r} (one of {', '.join(SOURCES)})")
        running = self.current
        if running is not None:
            raise RunError(f"a test is running already ({TESTS[running.test]}, test {running.test_id}): stop it first")
        if source == "emulated":
            from insole.simulate import PATTERNS

            if options.pattern not in PATTERNS:
                raise RunError(f"unknown gait pattern {options.pattern[:40]!r} (one of {', '.join(PATTERNS)})")
        if test in GUIDED_TESTS:
            self._inputs(test, options, options.mass_kg)  # the test's inputs checked before anything is stored
        inputs: dict[str, Any] = {}
        if test in GUIDED_TESTS:
            inputs = {"walkway_m": options.walkway_m, "pace": options.pace, "course_m": options.course_m}
            if options.timed_m is not None:
                inputs["timed_m"] = options.timed_m
            elif options.walkway_m < 14.0:
                inputs["timed_m"] = max(options.walkway_m - 4.0, 0.5 * options.walkway_m)
        run = await self._call_store("begin_capture", visit_id, test=test, source=source, inputs=inputs)
        state = RunState(test_id=int(run.id), visit_id=visit_id, test=test, source=source)
        self.states[state.test_id] = state
        ready = asyncio.Event()
        state.task = asyncio.create_task(self._run(state, Path(run.capture_path), options, ready), name="clinic-run")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ready.wait(), 30.0)  # the live page is up (or the run already failed)
        return state

    async def stop(self, test_id: int) -> RunState:
        state = self.states.get(test_id)
        if state is None or not state.running:
            raise RunError(f"test {test_id} is not running")
        if state.stop is not None:
            state.stop()
        if state.task is not None:
            await asyncio.shield(state.task)
        return state

    async def close(self) -> None:
        """Stop every running test and let the store finish it (the app is closing normally)."""
        for state in list(self.states.values()):
            if state.running and state.stop is not None:
                state.stop()
        tasks = [s.task for s in self.states.values() if s.task is not None and not s.task.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- one run ------------------------------------------------------------------------------------------------

    async def _run(self, state: RunState, out: Path, options: RunOptions, ready: asyncio.Event) -> None:
        environment = None
        server = None
        try:
            try:
                environment, session, control, hub, layout, guided = await self._prepare(state, out, options)
                server = await self._serve(state, hub, layout, control)
                state.status = "capturing"
                ready.set()
                if guided is not None:
                    outcome = await guided.run()
                    if outcome.result is not None:
                        state.message = outcome.result.summary()
                else:
                    await session.run()
            finally:
                ready.set()
                if server is not None:
                    await server.stop()
                if environment is not None:
                    await environment.stop()
        except InsoleError as error:  # no insoles found, a refused connection: the reason is the message
            log.warning("clinic app: test %s failed: %s", state.test_id, _one_line(error))
            state.message = f"the capture failed: {_one_line(error)}"
        except Exception as error:  # a programming error: its traceback in the log; the store still hears of it
            log.exception("clinic app: test %s failed", state.test_id)
            state.message = f"the capture failed: {_one_line(error)}"
        state.status = "finishing"
        state.live_url = None
        try:
            failed = state.message if state.message.startswith("the capture failed") else ""
            finished = await self._call_store("finish_capture", state.test_id, note=failed)
        except Exception as error:
            log.exception("clinic app: finishing test %s failed", state.test_id)
            state.status = "failed"
            state.message = f"{state.message}; the result could not be stored: {_one_line(error)}".lstrip("; ")
            return
        state.status = str(getattr(finished, "status", "done"))
        reason = str(getattr(finished, "reason", "") or "")
        if reason:  # the capture's own failure first, then what the store found (once: it may open with it)
            said = state.message.rstrip(".")
            if said.startswith("the capture failed") and not reason.startswith(said):
                state.message = f"{state.message}; {reason}"
            else:
                state.message = reason

    async def _prepare(self, state: RunState, out: Path, options: RunOptions) -> tuple[Any, ...]:
        from insole import RecordingMeta
        from insole.capture import CaptureParams, InsoleSelector, LiveHub, capture_session, layout_for_source

        emulated = state.source == "emulated"
        source = "insole" if emulated else state.source
        guided_test = state.test in GUIDED_TESTS
        params = CaptureParams(sample_rate_hz=_RATE_HZ, samples_per_packet=1, imu=True, tare=True)
        selectors = {side: InsoleSelector(side) for side in ("left", "right")}
        mass = options.mass_kg if options.mass_kg is not None else (70.0 if emulated else None)
        meta = RecordingMeta(body_mass_kg=mass, condition=TESTS[state.test])
        software: dict[str, Any] = {"clinic_app": {"test_id": state.test_id, "visit_id": state.visit_id}}
        hub = LiveHub()
        environment = None
        inputs = None
        if guided_test:
            inputs = self._inputs(state.test, options, mass)
            software["clinic_test"] = state.test
        if emulated:
            environment, inputs = await self._emulate(state.test, options, params, mass, inputs, software)
        session = capture_session(
            source, out, params=params if source == "insole" else None, selectors=selectors, meta=meta, hub=hub,
            speed=options.speed if emulated else 1.0, duration_s=None, before_tare=None, software=software,
        )
        layout = layout_for_source(source)
        guided = None
        if guided_test:
            from insole.clinic import TIME_LIMIT_S, GuidedControl, GuidedTest

            def on_phase(phase: Any) -> None:
                state.phase = phase_text(state.test, phase.name)

            guided = GuidedTest(state.test, session, hub, inputs, layout=layout, body_mass_kg=mass,
                                time_limit_s=TIME_LIMIT_S[state.test], on_phase=on_phase)
            control: Any = GuidedControl(guided)
            state.stop = lambda: guided.stop("the clinic app")
        else:
            control = _FreeWalkControl(session)
            state.stop = session.request_stop
        return environment, session, control, hub, layout, guided

    @staticmethod
    def _inputs(test: str, options: RunOptions, mass: float | None) -> Any:
        from insole.clinic import TestInputs

        walkway = options.walkway_m
        timed = options.timed_m or (10.0 if walkway >= 14.0 else max(walkway - 4.0, 0.5 * walkway))
        try:
            return TestInputs(walkway_m=walkway, timed_m=timed, pace=options.pace, course_m=options.course_m,
                              age_years=options.age_years, sex=options.sex, height_cm=options.height_cm,
                              mass_kg=mass)
        except ValueError as error:
            raise RunError(str(error)) from None

    @staticmethod
    async def _emulate(test: str, options: RunOptions, params: Any, mass: float | None, inputs: Any,
                       software: dict[str, Any]) -> tuple[Any, Any]:
        """Emulated insoles streaming what ``insole test --emulate`` / ``insole record --emulate`` stream.

        A clinic test: a simulated patient doing it (``insole.simulate.simulate_clinic_test``), after half a
        second with the feet lifted (for the tare), then holding the last posture; the walkway or course that
        patient walked becomes the test's input unless the clinician entered one. A free walk: the gait
        pattern, looped, for as long as the clinician lets it run.
        """
        import numpy as np

        from firmware_protocol import (
            EmulatedEnvironment,
            EmulationSetupError,
            FaultPlan,
            InsoleSpec,
            source_from_arrays,
        )
        from insole import DeviceError

        rate = float(params.sample_rate_hz)
        unloaded_rows = int(np.ceil(_UNLOADED_S * rate))
        body = mass if mass is not None else 70.0
        if test in GUIDED_TESTS:
            from insole.simulate import simulate_clinic_test

            recording = simulate_clinic_test(test, seed=options.seed, fast=test == "10mwt" and options.pace == "fast",
                                             imu=True, pattern=options.pattern, body_mass_kg=body, sample_rate_hz=rate,
                                             course_m=options.course_m)
            answer = recording.meta.extra["simulation"]["clinic_test"]
            walked = answer["inputs"]
            if test == "10mwt" and "walkway_m" in walked:
                walkway = round(float(walked["walkway_m"]), 2)
                timed = options.timed_m or round(walkway - 4, 2)
                inputs = dataclasses.replace(inputs, walkway_m=walkway, timed_m=timed)
            elif test == "6mwt" and "course_m" in walked:
                inputs = dataclasses.replace(inputs, course_m=round(float(walked["course_m"]), 2))
            hold_rows, loop = int(np.ceil(_HOLD_S * rate)), False
            software["emulated"] = {
                "clinic_test": test, "seed": options.seed, "pattern": options.pattern, "speed": options.speed,
                "answer": {"inputs": walked, "totals": answer.get("totals"), "complete": answer.get("complete")},
                "note": "a simulated patient streamed by emulated insoles on a private fake BlueZ; not a real person",
            }
        else:
            from insole.simulate import SimulationParams, simulate

            recording = simulate(SimulationParams(pattern=options.pattern, duration_s=125.0, seed=options.seed,
                                                  sample_rate_hz=rate, body_mass_kg=body, side="left"))
            hold_rows, loop = 0, True
            software["emulated"] = {
                "pattern": options.pattern, "seed": options.seed, "speed": options.speed,
                "note": "emulated insoles (firmware_protocol emulator) on a private fake BlueZ; not a real person",
            }
        specs = []
        for side in ("left", "right"):
            foot = recording.samples(side)  # the simulator gives both feet
            values = np.where(foot.valid[:, None], foot.values, np.nan).astype(np.float64)
            unloaded = np.zeros((unloaded_rows, values.shape[1]))  # feet lifted for the tare
            held = np.repeat(values[-1:], hold_rows, axis=0)  # the patient holds the last posture
            still = np.repeat(np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]), unloaded_rows + hold_rows, axis=0)
            if foot.accel_g is not None and foot.gyro_dps is not None:
                motion = np.nan_to_num(np.hstack([foot.accel_g, foot.gyro_dps]).astype(np.float64))
            else:
                motion = np.repeat(still[:1], len(values), axis=0)
            imu = np.vstack([still[:unloaded_rows], motion, still[unloaded_rows:]])
            source = source_from_arrays(np.vstack([unloaded, values, held]), imu, loop=loop)
            specs.append(InsoleSpec(side, sample_rate_hz=int(rate), samples_per_packet=params.samples_per_packet,
                                    source=source, faults=FaultPlan(), speed=options.speed, imu_present=True))
        environment = EmulatedEnvironment(specs, set_system_bus_env=True)
        try:
            await environment.start()
        except EmulationSetupError as error:
            raise DeviceError(str(error)) from None
        return environment, inputs

    async def _serve(self, state: RunState, hub: Any, layout: Any, control: Any) -> Any:
        from dashboards._live_server import LiveServer

        server = LiveServer(
            hub, layout=layout, unit="kPa", sample_rate_hz=float(_RATE_HZ), session=control,
            info={"test": TESTS[state.test], "source": SOURCES[state.source], "test_id": str(state.test_id)},
            host=self.host, port=0, allow_remote=self.allow_remote,
        )
        state.live_url = await server.start()
        return server


class _FreeWalkControl:
    """The live page's controls during a free walk: marks go into the recording; Stop ends it."""

    def __init__(self, session: Any) -> None:
        self.session = session

    @property
    def recording_path(self) -> Path | None:
        return getattr(self.session, "out", None)

    async def start_recording(self) -> Path:
        raise InsoleError("this test is recording already; start another test from the visit's page")

    async def stop_recording(self) -> Path:
        self.session.request_stop()
        return Path(getattr(self.session, "out", ""))

    async def mark(self, label: str) -> Any:
        from dashboards._control import clean_label
        from insole import Mark

        own = getattr(self.session, "mark", None)
        if own is None:
            raise InsoleError("this source takes no marks")
        mark = own(clean_label(label))
        if asyncio.iscoroutine(mark):
            mark = await mark
        return mark if isinstance(mark, Mark) else Mark(time_s=float(self.session.elapsed_s), label=label)

    async def zero(self) -> None:
        raise InsoleError("zeroing happens before each test starts (feet unloaded), not during it")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]


def phase_text(test: str, name: str) -> str:
    """A live phase as the run page shows it: the protocol's title and instruction ("Eyes open: Stand still, look
    ahead."), or the name in words where the protocol names it once or not at all ("eyes_closed" ->
    "eyes closed"; a name two phases share, such as "standing" at both ends of a 10-metre walk, is only named).
    """
    from insole.clinic import PROTOCOLS

    protocol = PROTOCOLS.get(test)
    specs = [p for p in protocol.phases if p.name == name] if protocol is not None else []
    if len(specs) == 1:
        return f"{specs[0].title}: {specs[0].instruction}"
    return name.replace("_", " ")

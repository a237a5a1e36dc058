"""``insole test 10mwt|6mwt|tug|balance``: a guided clinic test captured from both insoles.

The same capture as ``insole record`` (the same device options, ``--emulate``
included), guided: the terminal shows the current phase, its instruction and
the countdown where the test has one; typed lines are the clinician's marks
("turn", "lap", "pain", any text; "stop" ends the test); the result is printed
the moment the test ends, and the recording is saved with its phases (marks)
and result (``meta.extra["clinic_test"]``). ``--live`` serves the live page
beside it (the page shows the phases and the result; its mark buttons work).

``--emulate`` streams a simulated patient doing the test (the simulator's
clinic tests) through emulated insoles and the real collector; the walkway or
course that patient walked is entered for you unless given.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insole._cli import EXIT_BAD_INPUT, UsageError
from insole._cli._arguments import add_examples_command, positive_float
from insole._cli._convert import described
from insole._cli._device_options import (
    CAPTURE_FORCE_HELP,
    EMULATED_UNLOADED_S,
    add_device_options,
    check_capture_target,
    emulation_faults,
    parquet_out,
    require_capture_extras,
    source_options,
)
from insole._cli._outputs import add_force_option, check_outputs, printable, write_recording

if TYPE_CHECKING:  # asyncio (~35 ms) is imported by the functions that run, not for --help
    import asyncio

__all__ = ["add_parser", "run"]

_TESTS = ("10mwt", "6mwt", "tug", "balance")
_EMULATED_HOLD_S = 20.0  # the simulated patient holds the last posture this long after the script


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "test",
        help="run a guided clinic test: 10-metre walk, 6-minute walk, Timed Up and Go, standing balance",
        description=(
            "Capture a clinic walking test from both insoles, guided: the current phase and its instruction, "
            "a countdown where the test has one, your marks (type a word and Enter: 'turn', 'lap', 'pain', "
            "'stop' ends the test), and the result the moment the test ends. The recording is saved with its "
            "phases and result. Tests: 10mwt (gait speed over the timed middle of a walkway), 6mwt (distance in "
            "six minutes on a course), tug (Timed Up and Go), balance (standing, eyes open then closed)."
        ),
        examples=(
            "insole test tug --subject s01 --mass-kg 72 --age 74 --out tug.parquet",
            "insole test 10mwt --walkway-m 14 --timed-m 10 --pace fast --out fast.parquet",
            "insole test 6mwt --course-m 30 --imu --live --out 6mwt.parquet",
            "insole test balance --emulate --speed 5 --out balance.parquet",
        ),
    )
    parser.add_argument("test", choices=_TESTS, help="which test")
    test = parser.add_argument_group("the test (what the clinician enters)")
    test.add_argument("--walkway-m", type=positive_float, default=None, metavar="M",
                      help="10mwt: start line to end line (default 14)")
    test.add_argument("--timed-m", type=positive_float, default=None, metavar="M",
                      help="10mwt: the timed middle (default 10, or the walkway less 4 m; the rest is split "
                           "before and after)")
    test.add_argument(
        "--pace", choices=("comfortable", "fast"), default="comfortable", help="10mwt: the pace asked for"
    )
    test.add_argument("--course-m", type=positive_float, default=None, metavar="M",
                      help="6mwt: distance between the cones (default 30)")
    test.add_argument("--stance-width-mm", type=float, default=100.0, metavar="MM",
                      help="balance: distance between the feet's centre lines (default 100, feet together)")
    test.add_argument(
        "--age", type=positive_float, default=None, metavar="YEARS", help="for age-specific reference values"
    )
    test.add_argument("--sex", choices=("male", "female"), default=None, help="for sex-specific reference values")
    test.add_argument(
        "--height-cm", type=positive_float, default=None, metavar="CM", help="6mwt: for the predicted distance"
    )
    # not dest "source": that is --source (the insoles' kind), which `insole test` takes as `record` does
    test.add_argument("--from", dest="from_file", type=Path, default=None, metavar="FILE",
                      help="no capture: find the test's phases and result in a saved recording (any format "
                           "'insole info' reads); with --out, write it with its phases and result")
    test.add_argument("--time-limit", type=positive_float, default=None, metavar="S",
                      help="stop a test that has not ended by itself after this long (default 120 s; 6mwt 420 s)")
    device = parser.add_argument_group("insoles (as for 'insole record')")
    add_device_options(
        device, out_help="Parquet file to write (default insole-TEST-YYYYMMDD-HHMMSS.parquet here)", one_foot=False,
        condition_example="'barefoot', 'with cane'",
        imu_switch=("record the insoles' IMU (default on for tug and 6mwt: the turns come from it)",
                    "no IMU (mark the turns or laps yourself)"),
    )
    emulation = parser.add_argument_group("emulated insoles (no hardware)")
    emulation.add_argument(
        "--emulate",
        action="store_true",
        help="a simulated patient does the test, streamed by emulated insoles on a private fake BlueZ",
    )
    emulation.add_argument("--pattern", default="normal", metavar="P", help="the simulated patient's gait pattern")
    emulation.add_argument("--seed", type=int, default=0, help="seed of the simulated patient (default 0)")
    emulation.add_argument("--stops-midway", action="store_true", help="the simulated patient does not finish")
    emulation.add_argument(
        "--faults", default=None, metavar="SPEC", help="faults to inject (see 'insole emulate --help')"
    )
    emulation.add_argument("--speed", type=positive_float, default=1.0, metavar="X",
                           help="emulated seconds per wall second (default 1)")
    page = parser.add_argument_group("the live page")
    page.add_argument("--live", action="store_true", help="serve the live page (phases, marks, result) while testing")
    page.add_argument("--host", default=None, help="address to serve on (default 127.0.0.1; others need this flag)")
    page.add_argument("--port", type=int, default=8765, help="port (0 = any free port; default 8765)")
    page.add_argument("--linger", type=float, default=10.0, metavar="S",
                      help="keep the page up this long after the test, showing the result (default 10 s)")
    add_force_option(parser, help=CAPTURE_FORCE_HELP)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from insole.clinic import TestInputs

    # the simulated patient walks a gait pattern: the emulator's placeholder signal is no patient
    source_options(args)  # --source and its options checked before anything starts
    if args.emulate and getattr(args, "source", "insole") != "insole":
        # the test's emulation is a simulated patient doing the test on our own emulated insoles; the other
        # sources' emulators play a placeholder signal, which no test can be scored on
        raise UsageError(f"--emulate with --source {args.source} is not offered by insole test (no simulated "
                         f"patient for that insole); try 'insole record --source {args.source} --emulate', or "
                         "run the test on real insoles")
    faults = emulation_faults(args, emulate_only=("--faults", "--speed", "--stops-midway"), synthetic=False)
    if args.imu is None:
        args.imu = args.test in ("tug", "6mwt")
    walkway = args.walkway_m or 14.0
    # the timed middle leaves 2 m to speed up and 2 m to slow down (10 m of 14 m) unless entered
    timed = args.timed_m or (10.0 if walkway >= 14.0 else max(walkway - 4.0, 0.5 * walkway))
    try:
        inputs = TestInputs(
            walkway_m=walkway, timed_m=timed,
            pace=args.pace, course_m=args.course_m or 30.0, stance_width_mm=args.stance_width_mm,
            age_years=args.age, sex=args.sex, height_cm=args.height_cm, mass_kg=args.mass_kg,
        )
    except ValueError as error:
        print(f"insole test: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.from_file is not None:
        if args.out is not None:
            check_outputs([args.out], force=args.force, inputs=[args.from_file])
        return _from_file(args, inputs)
    out = check_capture_target(parquet_out(args.out, default_stem=f"insole-{args.test}"), force=args.force)
    require_capture_extras(args)
    return asyncio.run(_test(args, out, faults, inputs))


async def _test(args: argparse.Namespace, out: Path, faults: Any, inputs: Any) -> int:
    import asyncio

    from insole._cli._device_options import (
        abandoned,
        capture_setup,
        session_force,
        start_emulation,
        stop_on_signals,
        tare_prompt,
    )
    from insole._recording import RecordingMeta
    from insole.capture import CaptureSession, LiveHub, StoppedBeforeRecording, capture_session, layout_for_source
    from insole.clinic import TIME_LIMIT_S, GuidedTest, protocol

    spec = protocol(args.test)
    params, selectors = capture_setup(args)
    mass = args.mass_kg if args.mass_kg is not None else (70.0 if args.emulate else None)
    meta = RecordingMeta(subject_id=args.subject, body_mass_kg=mass, shoe_size_eu=args.shoe_size_eu,
                         condition=args.condition or spec.name, notes=args.notes)
    tty = sys.stdout.isatty()

    environment = None
    software: dict[str, Any] = {"clinic_test": args.test}
    if args.emulate:
        assert mass is not None  # an emulated test defaults the mass to 70 kg (above)
        specs, answer = _emulated_specs(args, faults, params, mass, inputs)
        inputs = _emulated_inputs(args, inputs, answer)
        environment = await start_emulation(specs)
        software["emulated"] = {
            "clinic_test": args.test, "seed": args.seed, "pattern": args.pattern, "speed": args.speed,
            "stops_midway": args.stops_midway, "faults": args.faults,
            "answer": {"inputs": answer["inputs"], "totals": answer["totals"], "complete": answer["complete"]},
            "note": "a simulated patient streamed by emulated insoles on a private fake BlueZ; not a real person",
        }
        print(f"Emulated insoles: a simulated patient does the {spec.name} (seed {args.seed}, speed {args.speed:g}x"
              f"{', stops midway' if args.stops_midway else ''})", flush=True)

    hub = LiveHub()
    state: dict[str, Any] = {"phase": "", "guided": None}

    def on_status(status: Any) -> None:
        guided = state["guided"]
        left = guided.tracker.countdown_left_s(status.elapsed_s) if guided is not None else None
        clock = f" | {int(left // 60)}:{int(left % 60):02d} left" if left is not None else ""
        line = f"{status.line()} | {args.test} {state['phase']}{clock}"
        print(("\r" + line) if tty else line, end="" if tty else "\n", flush=True)

    session = capture_session(
        args.source, out, params=params, selectors=selectors, source_options=source_options(args),
        meta=meta, hub=hub, speed=args.speed if args.emulate else 1.0,
        duration_s=None, before_tare=tare_prompt(args, wearer="the patient"), on_status=on_status,
        status_interval_s=0.5 if tty else 5.0, software=software, **session_force(CaptureSession, args.force),
    )

    def on_phase(phase: Any) -> None:
        state["phase"] = phase.name
        clock = f" ({phase.countdown_s:.0f} s)" if phase.countdown_s is not None else ""
        print(f"{chr(10) if tty else ''}[{phase.time_s:7.2f} s] phase: {phase.name}{clock} - {phase.instruction}",
              flush=True)

    guided = GuidedTest(args.test, session, hub, inputs, layout=layout_for_source(args.source), body_mass_kg=mass,
                        time_limit_s=args.time_limit or TIME_LIMIT_S[args.test], on_phase=on_phase)
    state["guided"] = guided
    print(f"{spec.name}: {spec.patient_instruction}", flush=True)
    print(f"The test ends {spec.ends_when}. Type a mark and Enter ('turn', 'lap', 'pain'; 'stop' ends it).",
          flush=True)

    server = None
    loop = asyncio.get_running_loop()
    reading = _read_marks(loop, guided)

    def stop(name: str) -> None:
        # before the insoles connect there is no file to write: the stop ends the wait at once
        doing = "stopping the test and writing the file" if session.recording else "stopping the test"
        print(f"\n{name}: {doing} ... (again to abandon)", file=sys.stderr, flush=True)
        guided.stop(name)

    try:
        with stop_on_signals(stop) as interrupts:
            if args.live:
                server = await _serve(args, hub, guided, meta)
            outcome = await guided.run()
            if server is not None and args.linger > 0:
                print(f"insole test: the live page shows the result for {args.linger:g} s (Ctrl-C to close now)",
                      flush=True)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(_interrupted(interrupts), args.linger)
    except asyncio.CancelledError:
        return abandoned("test", session.stream_path)
    except StoppedBeforeRecording as error:  # a stop while the insoles were still connecting: nothing to score
        print(f"insole test: {error}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("insole test: interrupted before recording started", file=sys.stderr)
        return 130
    finally:
        if reading:
            with contextlib.suppress(Exception):
                loop.remove_reader(sys.stdin.fileno())
        if server is not None:
            await server.stop()
        if environment is not None:
            await environment.stop()
    if tty:
        print()
    _print_outcome(outcome, announced=True)
    return 0


def _from_file(args: argparse.Namespace, inputs: Any) -> int:
    """The test's result from a recording on disk (no capture), printed and optionally saved."""
    from types import SimpleNamespace

    from insole.clinic import run_test
    from insole.io import load

    if args.emulate:
        print("insole test: error: --from reads a file; --emulate captures: choose one", file=sys.stderr)
        return EXIT_BAD_INPUT
    recording = load(args.from_file)
    try:
        result = run_test(recording, args.test, inputs)
    except ValueError as error:
        print(f"insole test: error: {args.from_file}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    path = None
    if args.out is not None:
        path = write_recording(result.with_recording(recording), args.out, force=args.force)
    print(printable(f"{args.from_file}: {described(recording)}"), flush=True)
    _print_outcome(SimpleNamespace(result=result, path=path, stopped_by=None))
    return 0


async def _interrupted(interrupts: dict[str, int]) -> None:
    """Returns once Ctrl-C/SIGTERM arrives again (after the test itself was stopped by one or ended)."""
    import asyncio
    seen = interrupts["count"]
    while interrupts["count"] == seen:
        await asyncio.sleep(0.1)


def _read_marks(loop: asyncio.AbstractEventLoop, guided: Any) -> bool:
    """Typed lines become marks (when stdin can be read without blocking the capture)."""
    import asyncio
    if sys.stdin is None or sys.stdin.closed:
        return False
    try:
        fd = sys.stdin.fileno()
    except (OSError, ValueError):
        return False

    def on_line() -> None:
        line = sys.stdin.readline()
        if not line:  # end of input: no more marks
            loop.remove_reader(fd)
            return
        if line.strip():
            asyncio.ensure_future(guided.add_mark(line.strip()))

    try:
        loop.add_reader(fd, on_line)
    except (OSError, ValueError, NotImplementedError, PermissionError):
        return False
    return True


async def _serve(args: argparse.Namespace, hub: Any, guided: Any, meta: Any) -> Any:
    from dashboards import LiveServer, is_loopback
    from insole.clinic import GuidedControl

    host = args.host or "127.0.0.1"
    if args.host is not None and not is_loopback(host):
        print(f"insole test: warning: serving on {host}: anyone who can reach this machine can watch the test",
              file=sys.stderr)
    from insole.capture import layout_for_source

    server = LiveServer(hub, layout=layout_for_source(args.source), unit="kPa", sample_rate_hz=float(args.rate),
                        session=GuidedControl(guided),
                        info={"subject_id": meta.subject_id, "notes": meta.notes, "condition": meta.condition,
                              "source": "emulated insoles" if args.emulate else "insoles over Bluetooth LE"},
                        host=host, port=args.port, allow_remote=args.host is not None)
    url = await server.start()
    print(f"insole test: live page: open {url}", flush=True)
    return server


# The live announcements are made as each phase is seen, from a few samples, and can be late by a second; the
# table is the analysis of the whole saved recording. Without this line the two times of one phase read as a
# contradiction ("[5.89 s] phase: sit_to_stand" above a table starting it at 4.15 s).
ANALYSED_PHASES = ("  phases from the analysis of the saved recording (the '[... s] phase:' lines above were live "
                   "announcements, made as each phase was seen):")


def _print_outcome(outcome: Any, announced: bool = False) -> None:
    result = outcome.result
    if outcome.stopped_by:
        print(f"stopped by {outcome.stopped_by}", flush=True)
    if result is None:
        print("insole test: no recording was saved", flush=True)
        return
    print(f"RESULT {result.summary()}", flush=True)
    if announced and result.phases:
        print(ANALYSED_PHASES, flush=True)
    for phase in result.phases:
        print(f"  phase {phase.name:<14} {phase.start_s:8.2f} - {phase.end_s:8.2f} s "
              f"({phase.end_s - phase.start_s:5.2f} s){_phase_detail(result, phase)}", flush=True)
    for line in _reference_lines(result):
        print(line, flush=True)
    for reason in result.reasons:
        print(f"  incomplete: {reason}", flush=True)
    if outcome.path is not None:
        print(f"wrote {outcome.path} (phases as marks, result in meta.extra['clinic_test'])", flush=True)


def _reference_lines(result: Any) -> list[str]:
    """One line per comparison and source, naming its measures (two measures of one source, both "not
    compared", printed the same line twice before)."""
    from insole.clinic import PROTOCOLS

    titles = {m.key: m.title for m in PROTOCOLS[result.test].measures}
    grouped: dict[tuple[str, str], list[str]] = {}
    for ref in result.references:
        detail = ref["source_detail"]
        source = f"[{detail['short']}, {detail['locator']}; {detail['verified']}]"
        grouped.setdefault((ref["comparison"], source), []).append(
            titles.get(ref.get("measure"), str(ref.get("measure") or "").replace("_", " ")))
    return [f"  reference ({', '.join(m for m in measures if m)}): {comparison} {source}"
            for (comparison, source), measures in grouped.items()]


def _phase_detail(result: Any, phase: Any) -> str:
    """What a phase holds when the result line times only part of it (so the line and the table agree).

    The TUG's stand-to-sit phase runs from the end of the second turn to seated again; its measure (the
    result line's "stand-to-sit") is the lowering onto the chair, from the descent onset.
    """
    onset = (result.events or {}).get("descent_onset_s") if result.test == "tug" else None
    if phase.name != "stand_to_sit" or not isinstance(onset, (int, float)) or not phase.start_s <= onset <= phase.end_s:
        return ""
    return (f": in front of the chair {onset - phase.start_s:.2f} s, then stand-to-sit (lowering) "
            f"{phase.end_s - onset:.2f} s")


def _emulated_specs(args: argparse.Namespace, faults: Any, params: Any, mass: float, inputs: Any) -> tuple[list, dict]:
    """Emulated insoles streaming a simulated patient doing the test (after half a second unloaded, for the tare)."""
    import numpy as np

    from firmware_protocol import FaultPlan, InsoleSpec, source_from_arrays
    from insole.simulate import simulate_clinic_test

    recording = simulate_clinic_test(
        args.test, seed=args.seed, stops_midway=args.stops_midway, fast=args.test == "10mwt" and args.pace == "fast",
        imu=True, pattern=args.pattern, body_mass_kg=mass, sample_rate_hz=float(params.sample_rate_hz),
        course_m=inputs.course_m,
    )
    answer = recording.meta.extra["simulation"]["clinic_test"]
    rate = params.sample_rate_hz
    unloaded_rows = math.ceil(EMULATED_UNLOADED_S * rate)
    hold_rows = math.ceil(_EMULATED_HOLD_S * rate)
    sources = {}
    for side in ("left", "right"):
        foot = recording.samples(side)  # the simulator gives both feet
        assert foot.accel_g is not None and foot.gyro_dps is not None  # simulated with imu=True
        values = np.where(foot.valid[:, None], foot.values, np.nan).astype(np.float64)
        # feet lifted for the tare: the simulated insole reads no load (no residual in-shoe load is simulated;
        # a patient who never lifts a foot in the test, as in balance, leaves no minimum to borrow)
        unloaded = np.zeros((unloaded_rows, values.shape[1]))
        held = np.repeat(values[-1:], hold_rows, axis=0)  # the patient holds the last posture
        motion = np.hstack([foot.accel_g, foot.gyro_dps]).astype(np.float64)
        still = np.repeat(np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]), unloaded_rows + hold_rows, axis=0)
        imu = np.vstack([still[:unloaded_rows], np.nan_to_num(motion), still[unloaded_rows:]])
        sources[side] = source_from_arrays(np.vstack([unloaded, values, held]), imu if params.imu else None,
                                           loop=False)
    plans = faults or {"left": FaultPlan(), "right": FaultPlan()}
    specs = [InsoleSpec(side, sample_rate_hz=rate, samples_per_packet=params.samples_per_packet,
                        source=sources[side], faults=plans[side], speed=args.speed, imu_present=True)
             for side in ("left", "right")]
    return specs, answer


def _emulated_inputs(args: argparse.Namespace, inputs: Any, answer: dict) -> Any:
    """The walkway or course the simulated patient walked, unless the clinician entered one."""
    import dataclasses

    given = answer["inputs"]
    # Said nowhere before the test: nobody asked for a length, and the result line states the distance timed
    # ("gait speed ... over 10.51 m"); announcing the simulated walkway first read as a setting to check.
    if args.test == "10mwt" and args.walkway_m is None:
        walkway = round(given["walkway_m"], 2)
        return dataclasses.replace(inputs, walkway_m=walkway, timed_m=args.timed_m or round(walkway - 4.0, 2))
    if args.test == "6mwt" and args.course_m is None:
        return dataclasses.replace(inputs, course_m=round(given["course_m"], 2))
    return inputs

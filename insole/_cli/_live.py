"""``insole live``: record with a live dashboard in the browser (page on 127.0.0.1).

The page is served by ``dashboards.LiveServer`` on the capture's event loop
and its buttons drive the capture through ``dashboards.CaptureControl`` (the
BLE collector) or ``dashboards.ReplaySession`` (``--replay FILE``: a
recording played as if live, for demonstrations, training and tests). The
capture writes to disk on its own, so closing or reloading the browser loses
nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from insole._cli import UsageError
from insole._cli._arguments import FormatChoices, add_examples_command, positive_float
from insole._cli._device_options import (
    CAPTURE_FORCE_HELP,
    add_device_options,
    check_capture_target,
    emulation_faults,
    parquet_out,
    require_capture_extras,
    source_description,
    source_options,
)
from insole._cli._outputs import add_force_option, printable
from insole._errors import OutputError, require_extra

if TYPE_CHECKING:  # asyncio (~35 ms) is imported by the functions that run, not for --help
    import asyncio

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "live",
        help="record with a live dashboard in the browser (pressure maps, load curves, steps, balance, link)",
        description=(
            "Record both insoles (as 'insole record' does) and serve a live dashboard on "
            "http://127.0.0.1:PORT/: pressure maps on the insole outline, scrolling load curves with heel "
            "strikes and toe offs, centre of pressure, left/right balance, cadence and link quality, with "
            "buttons to stop/start recording, mark events and zero. The capture does not depend on the page: "
            "closing or reloading the browser loses nothing. --replay FILE plays a recording instead of insoles."
        ),
        examples=(
            "insole live --subject s01 --mass-kg 72 --out walk.parquet",
            "insole live --emulate --pattern antalgic --out-dir sessions/",
            "insole live --replay recordings/moticon_230927_102114.parquet",
        ),
    )
    device = parser.add_argument_group("insoles (as for 'insole record')")
    add_device_options(
        device, out_help="Parquet file of the first recording (default insole-YYYYMMDD-HHMMSS.parquet in --out-dir)",
        wait_option=False,
    )
    emulation = parser.add_argument_group("emulated insoles (no hardware)")
    emulation.add_argument("--emulate", action="store_true",
                           help="record emulated insoles started in this process on a private fake BlueZ")
    emulation.add_argument("--pattern", default="normal", metavar="P",
                           help="what the emulated insoles stream (see 'insole record --help'; default normal)")
    emulation.add_argument(
        "--faults", default=None, metavar="SPEC", help="faults to inject (see 'insole emulate --help')"
    )
    emulation.add_argument("--speed", type=positive_float, default=1.0, metavar="X",
                           help="emulated (or replayed) seconds per wall second (default 1)")
    emulation.add_argument("--seed", type=int, default=0, help="seed of the simulated walk (default 0)")
    replay = parser.add_argument_group("replay instead of insoles")
    replay.add_argument(
        "--replay",
        type=Path,
        metavar="FILE",
        help="play a recording as if it were live (any supported format); recording starts from the page",
    )
    replay.add_argument("--format", choices=FormatChoices(), metavar="FORMAT",
                        help="force the --replay file's format: %(choices)s")
    replay.add_argument("--once", action="store_true", help="play the replay once instead of looping it")
    page = parser.add_argument_group("the page")
    page.add_argument("--host", default=None,
                      help="address to serve on (default 127.0.0.1, this machine only); any other address "
                           "lets other machines watch and control the capture")
    page.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    page.add_argument("--fps", type=float, default=30.0, help="frames per second sent to the page (default 30)")
    page.add_argument("--window-s", type=float, default=10.0, help="seconds of load curve shown (default 10)")
    parser.add_argument("--out-dir", type=Path, default=Path("."),
                        help="folder for recordings started from the page (default: current folder)")
    parser.add_argument("--duration-s", "--duration", dest="duration_s", type=positive_float, default=None,
                        help="stop after this many seconds (default: run until Ctrl-C)")
    add_force_option(parser, help=CAPTURE_FORCE_HELP)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio
    if args.emulate and args.replay is not None:
        print("insole live: error: choose one of --replay and --emulate", file=sys.stderr)
        return 2
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise OutputError(args.out_dir, "is a file, not a folder (--out-dir names the folder for recordings)")
    if args.replay is not None and args.out is not None:
        raise UsageError("--out names the first capture's file; with --replay, recordings started from the page "
                         "go to --out-dir")
    if args.out is not None:  # before anything connects
        args.out = check_capture_target(parquet_out(args.out), force=args.force, inputs=[args.replay])
    require_extra("dashboards")
    if args.replay is not None:
        from insole.io import load  # the readers load here, not for --help

        recording = load(args.replay, args.format)
        return asyncio.run(_serve_replay(args, recording))
    source_options(args)  # --source and its options checked before anything starts
    # --speed also paces a replay, so only --faults needs --emulate here
    faults = emulation_faults(args, emulate_only=("--faults",), synthetic=True)
    require_capture_extras(args)
    return asyncio.run(_serve_capture(args, faults))


def _host(args: argparse.Namespace) -> str:
    from dashboards import is_loopback

    host = args.host or "127.0.0.1"
    if args.host is not None and not is_loopback(host):
        print(
            f"insole live: warning: serving on {host}: anyone who can reach this machine on port {args.port} "
            "can watch this session and control the recording",
            file=sys.stderr,
        )
    return host


async def _until_stopped(duration_s: float | None, *also: asyncio.Future) -> None:
    """Wait for Ctrl-C/SIGTERM, the duration, or any of ``also`` to finish."""
    import asyncio
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([waiter, *also], timeout=duration_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)


def replay_status_line(now_s: float, name: str, recording: Path | None) -> str:
    """The replay's counterpart of the capture's status line: where the replay is and what is being recorded."""
    return f"{now_s:8.1f} s | replaying {name} | " + (f"recording into {recording}" if recording else "not recording")


async def _replay_status(session, name: str) -> None:
    """A status line while a replay plays, as 'insole record' has: every 0.5 s on a terminal, else every 5 s."""
    import asyncio
    tty = sys.stdout.isatty()
    while True:
        await asyncio.sleep(0.5 if tty else 5.0)
        line = printable(replay_status_line(session.now_s, name, session.recording_path))
        print(("\r" + line) if tty else line, end="" if tty else "\n", flush=True)


async def _serve_capture(args: argparse.Namespace, faults) -> int:
    import asyncio

    from dashboards import CaptureControl, LiveServer
    from insole._cli._device_options import (
        capture_setup,
        emulated_walk_specs,
        orphe_emulated_wearer,
        session_force,
        start_emulation,
        start_orphe_emulation,
    )
    from insole._errors import DeviceError
    from insole._recording import RecordingMeta
    from insole.capture import CaptureSession, LiveHub, StoppedBeforeRecording, capture_session, layout_for_source

    params, selectors = capture_setup(args)
    meta = RecordingMeta(subject_id=args.subject, body_mass_kg=args.mass_kg, shoe_size_eu=args.shoe_size_eu,
                         condition=args.condition, notes=args.notes)
    host = _host(args)
    environment = None
    software: dict = {"live_dashboard": True}
    options = source_options(args)
    before_tare = None
    if args.emulate and args.source == "orphe":
        environment = await start_orphe_emulation(args, faults)
        before_tare = orphe_emulated_wearer(environment, options, None)
        software["emulated"] = {"source": "orphe", "speed": args.speed, "faults": args.faults,
                                "note": "emulated ORPHE INSOLEs on a private fake BlueZ; not a real person"}
    elif args.emulate:
        # the emulated insoles stream until the capture stops (no packet limit)
        environment = await start_emulation(
            emulated_walk_specs(args, faults, params, duration_s=args.duration_s, max_packets=None))
        software["emulated"] = {"pattern": args.pattern, "seed": args.seed, "speed": args.speed, "faults": args.faults,
                                "note": "emulated insoles on a private fake BlueZ; not a real person"}
    hub = LiveHub()
    # the same status line as `insole record` (connection, samples, losses), so the terminal shows progress too
    status_on_tty = sys.stdout.isatty()

    def on_status(status) -> None:
        if status_on_tty:
            print("\r" + status.line(), end="", flush=True)
        else:
            print(status.line(), flush=True)

    def make_session(path: Path, found):
        # --force is for the --out the user named; the page's later recordings get fresh names
        return capture_session(args.source, path, params=params, selectors=selectors,
                               source_options=options, meta=meta, hub=hub, before_tare=before_tare,
                              speed=args.speed if args.emulate else 1.0, software=software, found=found,
                              on_status=on_status,
                              **session_force(CaptureSession, bool(args.force and path == args.out)))

    control = CaptureControl(make_session, hub, out_dir=args.out_dir, first_path=args.out)
    server = LiveServer(
        hub, layout=layout_for_source(args.source), unit="au" if args.source == "orphe" else "kPa",
        sample_rate_hz=float(options.get("sample_rate_hz", args.rate)), session=control,
        info={"subject_id": args.subject, "notes": args.notes, "condition": args.condition,
              "source": "emulated insoles" if args.emulate else source_description(args)},
        host=host, port=args.port, allow_remote=args.host is not None, fps=args.fps, window_s=args.window_s,
    )
    try:
        url = await server.start()
        path = await control.start_recording()
        print(
            f"insole live: capturing into {path} (connecting to {source_description(args)}); open {url}  "
            "(Ctrl-C to stop)", flush=True
        )
        # stopping a recording from the page keeps the page (a new one can start); the command
        # ends on Ctrl-C, SIGTERM, --duration-s, or a capture that fails on its own
        failure = asyncio.create_task(control.failed.wait())
        try:
            await _until_stopped(args.duration_s, failure)
        finally:
            failure.cancel()
        try:
            if control.error is not None:
                raise control.error  # a capture that failed on its own says why
            if control.running:
                await control.stop_recording()
        except StoppedBeforeRecording as error:  # stopped while the insoles were still connecting
            print(f"insole live: {error}", file=sys.stderr, flush=True)
            return 130
        except OSError as error:  # no Bluetooth stack to talk to (BlueZ over D-Bus)
            raise DeviceError(f"cannot reach Bluetooth ({error.strerror or error}); "
                              "use --emulate for emulated insoles or --replay FILE") from None
    finally:
        await server.stop()
        if environment is not None:
            await environment.stop()
        if status_on_tty:
            print(flush=True)  # end the status line
    for result in control.results:
        print(f"insole live: wrote {result.path}", flush=True)
    print("insole live: stopped", flush=True)
    return 0


async def _serve_replay(args: argparse.Namespace, recording) -> int:
    import asyncio

    from dashboards import LiveServer, ReplaySession
    from insole.capture import LiveHub

    host = _host(args)
    hub = LiveHub()
    session = ReplaySession(recording, hub, out_dir=args.out_dir, speed=args.speed, loop=not args.once,
                            source_name=args.replay.name)
    meta = recording.meta
    server = LiveServer(
        hub,
        layout=recording.layout,
        unit=recording.unit,
        sample_rate_hz=recording.sample_rate_hz,
        session=session,
        info={
            "subject_id": meta.subject_id,
            "notes": meta.notes,
            "condition": meta.condition,
            "source": f"replay of {args.replay.name}" + (f" at {args.speed:g}x" if args.speed != 1 else ""),
        },
        host=host,
        port=args.port,
        allow_remote=args.host is not None,
        fps=args.fps,
        window_s=args.window_s,
    )
    url = await server.start()
    print(f"insole live: replaying {args.replay.name}; open {url}  (Ctrl-C to stop)", flush=True)
    feeder = asyncio.create_task(session.run(), name="replay")
    status = asyncio.create_task(_replay_status(session, args.replay.name), name="replay status")
    try:
        await _until_stopped(args.duration_s, feeder)
    finally:
        status.cancel()
        if sys.stdout.isatty():
            print(flush=True)  # end the status line
        feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeder  # finishes a running recording (Parquet) before returning
        await server.stop()
    if session.last_saved is not None:
        print(f"insole live: last recording saved to {session.last_saved}", flush=True)
    print("insole live: stopped", flush=True)
    return 0

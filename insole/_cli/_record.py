"""``insole record``: capture both insoles live into a recording file.

Finds the insoles with one scan (automatic pairing, or ``--left``/``--right``
by name or address), connects, checks protocol version and battery, zeroes
them with the feet unloaded (``--no-tare`` to skip), and records until
``--duration`` or Ctrl-C, showing a status line. Samples reach the disk
within a second (an Arrow stream beside the output); Ctrl-C or SIGTERM writes
the Parquet file; after a crash, ``insole recover`` reads the stream.

``--emulate`` runs the same collector against emulated insoles started in
this process on a private fake BlueZ (no hardware): only the D-Bus address
bleak talks to differs.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insole._cli._arguments import add_examples_command, positive_float
from insole._cli._device_options import (
    CAPTURE_FORCE_HELP,
    abandoned,
    add_device_options,
    capture_setup,
    check_capture_target,
    emulated_walk_specs,
    emulation_faults,
    orphe_emulated_wearer,
    parquet_out,
    require_capture_extras,
    session_force,
    source_description,
    source_options,
    start_emulation,
    start_orphe_emulation,
    stop_on_signals,
    tare_prompt,
)
from insole._cli._outputs import add_force_option

if TYPE_CHECKING:  # asyncio (~35 ms) is imported by the functions that run, not for --help
    import asyncio

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "record",
        help="record both insoles live over Bluetooth (or emulated ones) into a file",
        description=(
            "Record a session from a left and a right insole over Bluetooth LE. The insoles are "
            "found automatically (or by --left/--right name or address), checked (protocol "
            "version, battery), zeroed with the feet unloaded, and recorded until --duration or "
            "Ctrl-C. Every sample is accounted for: lost packets and link drop-outs become "
            "marked gaps, and the capture quality (loss, gaps, CRC failures, reconnects, clock "
            "drift, left/right alignment) is stored in the file. Samples reach the disk within "
            "a second; after a crash run 'insole recover' on the .arrows file."
        ),
        examples=(
            "insole record --subject s01 --mass-kg 72 --duration 60 --out walk.parquet",
            "insole record --left INSOLE-L-1A2B --right C1:1E:00:00:1A:2C --out walk.parquet",
            "insole record --emulate --pattern normal --speed 10 --duration 60 --out demo.parquet",
            "insole record --emulate --faults 'drop=0.05,linkloss=10s' --duration 30 --out faulty.parquet",
            "insole record --source orphe --calibrate --mass-kg 72 --duration 60 --out orphe.parquet",
            "insole record --source orphe --emulate --duration 20 --out orphe-demo.parquet",
        ),
    )
    add_device_options(parser, out_help="Parquet file to write (default insole-YYYYMMDD-HHMMSS.parquet here)",
                       duration=True)
    emulation = parser.add_argument_group("emulated insoles (no hardware)")
    emulation.add_argument("--emulate", action="store_true",
                           help="record emulated insoles started in this process on a private fake BlueZ")
    emulation.add_argument("--pattern", default="normal", metavar="P",
                           help="what the emulated insoles stream: a gait-simulator pattern (see 'insole "
                                "simulate --help'; default normal) or 'synthetic'")
    emulation.add_argument("--faults", default=None, metavar="SPEC",
                           help="faults to inject, e.g. 'drop=0.05,linkloss=10s;30s,drift_left=300' "
                                "(syntax: 'insole emulate --help')")
    emulation.add_argument("--speed", type=positive_float, default=1.0, metavar="X",
                           help="emulated seconds per wall second (default 1); with --duration each emulated "
                                "insole streams exactly that many seconds of samples (a link loss starts a new stream)")
    emulation.add_argument("--seed", type=int, default=0, help="seed of the simulated walk (default 0)")
    add_force_option(parser, help=CAPTURE_FORCE_HELP)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio
    source_options(args)  # --source and its options checked before anything starts
    out = check_capture_target(parquet_out(args.out), force=args.force)  # before anything connects
    faults = emulation_faults(args, emulate_only=("--faults", "--speed"), synthetic=True)
    require_capture_extras(args)
    quiet = _QuietAfterInterrupt()
    bumble_host = logging.getLogger("bumble.host")
    bumble_host.addFilter(quiet)
    try:
        return asyncio.run(_record(args, out, faults, quiet))
    finally:
        bumble_host.removeFilter(quiet)


class _QuietAfterInterrupt(logging.Filter):
    """Drop bumble's ``!!! no pending response future to set`` once Ctrl-C has cancelled this command.

    Ctrl-C while the emulated insoles start (before this command handles signals itself) cancels
    the command's task, and with it an HCI command of the emulated stack still waiting for its
    reply; the reply then arrives with nobody waiting and bumble warns. That is what a cancel does,
    not a fault, and it is ours to keep quiet; the same warning at any other time still shows.
    """

    def __init__(self) -> None:
        super().__init__()
        self.task: asyncio.Task[Any] | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        interrupted = self.task is not None and self.task.cancelling() > 0
        return not (interrupted and record.getMessage().startswith("!!! no pending response future"))


async def _record(args: argparse.Namespace, out: Path, faults: Any, quiet: _QuietAfterInterrupt) -> int:
    import asyncio
    quiet.task = asyncio.current_task()
    from insole._recording import RecordingMeta
    from insole.capture import CaptureSession, StoppedBeforeRecording, capture_session, format_capture_quality

    params, selectors = capture_setup(args)
    sides = tuple(selectors)
    meta = RecordingMeta(
        subject_id=args.subject,
        body_mass_kg=args.mass_kg,
        shoe_size_eu=args.shoe_size_eu,
        condition=args.condition,
        notes=args.notes,
    )
    status_on_tty = sys.stdout.isatty()

    def on_status(status: Any) -> None:
        if status_on_tty:
            print("\r" + status.line(), end="", flush=True)
        else:
            print(status.line(), flush=True)

    environment = None
    software: dict[str, Any] = {}
    options = source_options(args)
    before_tare = tare_prompt(args, wearer="the wearer")
    if args.emulate and args.source == "orphe":
        # emulated ORPHE INSOLEs stream until the session's --duration ends (their stream starts at
        # connection, before the recording, so a packet count would not be the recording's length)
        environment = await start_orphe_emulation(args, faults)
        before_tare = orphe_emulated_wearer(environment, options, before_tare)
        software["emulated"] = {
            "source": "orphe", "speed": args.speed, "faults": args.faults,
            "note": "emulated ORPHE INSOLEs (insole.capture._sources._orphe_emulator) on a private fake BlueZ; "
                    "a placeholder walking signal, not a real person",
        }
        print(f"Emulated ORPHE INSOLEs: {', '.join(i.name for i in environment.insoles)} "
              f"(speed {args.speed:g}x{', faults ' + args.faults if args.faults else ''})", flush=True)
    elif args.emulate:
        # --duration with emulated insoles: each streams exactly that much (its own packet count),
        # so the recording holds the full duration even when this machine cannot keep up with --speed
        max_packets = math.ceil(args.duration * args.rate / params.samples_per_packet) if args.duration else None
        environment = await start_emulation(
            emulated_walk_specs(args, faults, params, duration_s=args.duration, max_packets=max_packets))
        software["emulated"] = {
            "pattern": args.pattern, "seed": args.seed, "speed": args.speed, "faults": args.faults,
            "note": "emulated insoles (firmware_protocol emulator) on a private fake BlueZ; not a real person",
        }
        print(f"Emulated insoles: {', '.join(i.name for i in environment.insoles)} "
              f"(pattern {args.pattern}, speed {args.speed:g}x{', faults ' + args.faults if args.faults else ''})",
              flush=True)
    by_packets = environment is not None and args.source != "orphe"
    session = capture_session(
        args.source, out, params=params, selectors=selectors, source_options=options,
        meta=meta, speed=args.speed if args.emulate else 1.0,
        duration_s=None if by_packets else args.duration,
        before_tare=before_tare, on_status=on_status, software=software,
        **session_force(CaptureSession, args.force),
    )
    finish_watch = None
    if environment is not None and by_packets and args.duration:
        async def stop_when_streamed() -> None:
            await asyncio.gather(*(insole.finished.wait() for insole in environment.insoles
                                   if insole.spec.side in sides))
            session.request_stop()

        finish_watch = asyncio.create_task(stop_when_streamed())

    def stop(signal_name: str) -> None:
        if session.recording:
            print(f"\n{signal_name}: stopping and writing the file ... (again to abandon; "
                  f"'insole recover' can still read what was captured)", file=sys.stderr, flush=True)
        # before the recording starts there is no file to write: the stop ends the connecting at
        # once and run() says so in one line (StoppedBeforeRecording, below)
        session.request_stop()

    if args.source == "moticon":
        print(f"Listening for {source_description(args)} ({' and '.join(sides)} foot) ...", flush=True)
    else:
        print(f"Looking for {' and '.join(sides)} insole{'s' if len(sides) > 1 else ''} ...", flush=True)
    try:
        with stop_on_signals(stop):
            result = await session.run()
    except asyncio.CancelledError:
        return abandoned("record", session.stream_path)
    except StoppedBeforeRecording as stopped:
        # at a terminal the ^C echoed by Ctrl-C is on the current line: start a new one
        print(f"{chr(10) if sys.stderr.isatty() else ''}insole record: {stopped}", file=sys.stderr)
        return 130
    finally:
        if finish_watch is not None:
            finish_watch.cancel()
        if environment is not None:
            await environment.stop()
    if status_on_tty:
        print()
    print(f"wrote {result.path}")
    for side in result.samples:
        total, valid = result.samples[side], result.valid_samples[side]
        share = 100.0 * valid / total if total else 0.0
        print(f"  {side:<5} {total} samples, {share:.2f}% valid")
    for line in format_capture_quality(result.quality):
        print("  " + line)
    return 0

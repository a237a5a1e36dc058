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
import asyncio
import datetime as dt
import math
import signal
import sys
from pathlib import Path
from typing import Any

from insole._cli import EXIT_BAD_INPUT

__all__ = ["add_parser", "run"]

#: Seconds of unloaded readings the emulated insoles stream before the pattern (the tare reads them).
_EMULATED_UNLOADED_S = 0.5


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
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
        epilog=(
            "examples:\n"
            "  insole record --subject s01 --mass-kg 72 --duration 60 --out walk.parquet\n"
            "  insole record --left INSOLE-L-1A2B --right C1:1E:00:00:1A:2C --out walk.parquet\n"
            "  insole record --emulate --pattern normal --speed 10 --duration 60 --out demo.parquet\n"
            "  insole record --emulate --faults 'drop=0.05,linkloss=10s' --duration 30 --out faulty.parquet"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="Parquet file to write (default insole-YYYYMMDD-HHMMSS.parquet here)")
    parser.add_argument("--left", default=None, metavar="NAME|ADDRESS", help="the left insole (default: found automatically)")
    parser.add_argument("--right", default=None, metavar="NAME|ADDRESS", help="the right insole (default: found automatically)")
    parser.add_argument("--only", choices=("left", "right"), default=None, help="record one foot only")
    parser.add_argument("--duration", type=_positive_float, default=None, metavar="S",
                        help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument("--subject", default=None, metavar="ID", help="pseudonymous subject id")
    parser.add_argument("--mass-kg", type=_mass, default=None, metavar="KG", help="body mass, kg")
    parser.add_argument("--shoe-size-eu", type=_positive_float, default=None, metavar="EU", help="shoe size (EU)")
    parser.add_argument("--condition", default=None, help="e.g. 'barefoot', 'orthosis A'")
    parser.add_argument("--notes", default=None, help="free text stored with the recording")
    parser.add_argument("--rate", type=int, choices=(50, 100, 200), default=100, help="sample rate, Hz (default 100)")
    parser.add_argument("--samples-per-packet", type=_samples_per_packet, default=None, metavar="N",
                        help="samples batched per notification, 1..7 (default 1, or 2 at 200 Hz)")
    parser.add_argument("--imu", action="store_true", help="record the insoles' IMU too")
    parser.add_argument("--no-tare", dest="tare", action="store_false", help="do not zero the insoles before recording")
    parser.add_argument("--yes", action="store_true", help="do not wait for Enter before zeroing")
    parser.add_argument("--scan-timeout", type=_positive_float, default=10.0, metavar="S",
                        help="how long to look for the insoles, s (default 10)")
    emulation = parser.add_argument_group("emulated insoles (no hardware)")
    emulation.add_argument("--emulate", action="store_true",
                           help="record emulated insoles started in this process on a private fake BlueZ")
    emulation.add_argument("--pattern", default="normal", metavar="P",
                           help="what the emulated insoles stream: a gait-simulator pattern (see 'insole "
                                "simulate --help'; default normal) or 'synthetic'")
    emulation.add_argument("--faults", default=None, metavar="SPEC",
                           help="faults to inject, e.g. 'drop=0.05,linkloss=10s;30s,drift_left=300' "
                                "(syntax: 'insole emulate --help')")
    emulation.add_argument("--speed", type=_positive_float, default=1.0, metavar="X",
                           help="emulated seconds per wall second (default 1); with --duration each emulated "
                                "insole streams exactly that many seconds of samples (a link loss starts a new stream)")
    emulation.add_argument("--seed", type=int, default=0, help="seed of the simulated walk (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.emulate and (args.faults or args.speed != 1.0):
        print("insole record: error: --faults and --speed need --emulate", file=sys.stderr)
        return EXIT_BAD_INPUT
    faults = None
    if args.emulate and args.faults:
        from firmware_protocol._faults import parse_fault_spec

        try:
            faults = parse_fault_spec(args.faults)
        except ValueError as error:
            print(f"insole record: error: --faults: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if args.emulate and args.pattern != "synthetic":
        from insole._simulate import PATTERNS

        if args.pattern not in PATTERNS:
            print(f"insole record: error: unknown pattern {args.pattern!r}; choose from synthetic, "
                  f"{', '.join(PATTERNS)}", file=sys.stderr)
            return EXIT_BAD_INPUT
    out = args.out or Path(f"insole-{dt.datetime.now():%Y%m%d-%H%M%S}.parquet")
    if out.suffix != ".parquet":
        out = out.with_name(out.name + ".parquet")
    return asyncio.run(_record(args, out, faults))


async def _record(args: argparse.Namespace, out: Path, faults: Any) -> int:
    from insole._capture._collector import CaptureParams, InsoleSelector
    from insole._capture._quality import format_capture_quality
    from insole._capture._session import CaptureSession, StoppedBeforeRecording
    from insole._errors import DeviceError
    from insole._recording import RecordingMeta

    samples_per_packet = args.samples_per_packet or (2 if args.rate == 200 else 1)
    params = CaptureParams(
        sample_rate_hz=args.rate,
        samples_per_packet=samples_per_packet,
        imu=args.imu,
        tare=args.tare,
        scan_timeout_s=args.scan_timeout,
    )
    sides = (args.only,) if args.only else ("left", "right")
    selectors = {side: InsoleSelector.parse(side, getattr(args, side)) for side in sides}
    meta = RecordingMeta(
        subject_id=args.subject,
        body_mass_kg=args.mass_kg,
        shoe_size_eu=args.shoe_size_eu,
        condition=args.condition,
        notes=args.notes,
    )
    interactive = sys.stdin.isatty() and not args.emulate and not args.yes
    status_on_tty = sys.stdout.isatty()

    async def before_tare() -> None:
        if interactive:
            print("Zeroing: the wearer lifts both feet off the ground (insoles unloaded); press Enter when ready.",
                  flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        else:
            print("Zeroing the insoles (feet unloaded) ...", flush=True)

    def on_status(status: Any) -> None:
        if status_on_tty:
            print("\r" + status.line(), end="", flush=True)
        else:
            print(status.line(), flush=True)

    environment = None
    software: dict[str, Any] = {}
    if args.emulate:
        from firmware_protocol._environment import EmulatedEnvironment, EmulationSetupError

        # --duration with emulated insoles: each streams exactly that much (its own packet count),
        # so the recording holds the full duration even when this machine cannot keep up with --speed
        max_packets = math.ceil(args.duration * args.rate / samples_per_packet) if args.duration else None
        specs = _emulated_specs(args, faults, params, max_packets)
        environment = EmulatedEnvironment(specs, set_system_bus_env=True)
        try:
            await environment.start()
        except EmulationSetupError as error:
            raise DeviceError(str(error)) from None
        software["emulated"] = {
            "pattern": args.pattern, "seed": args.seed, "speed": args.speed, "faults": args.faults,
            "note": "emulated insoles (firmware_protocol emulator) on a private fake BlueZ; not a real person",
        }
        print(f"Emulated insoles: {', '.join(i.name for i in environment.insoles)} "
              f"(pattern {args.pattern}, speed {args.speed:g}x{', faults ' + args.faults if args.faults else ''})",
              flush=True)
    session = CaptureSession(
        out, params=params, selectors=selectors, meta=meta, speed=args.speed if args.emulate else 1.0,
        duration_s=None if environment is not None else args.duration,
        before_tare=before_tare if args.tare else None, on_status=on_status, software=software,
    )
    finish_watch = None
    if environment is not None and args.duration:
        async def stop_when_streamed() -> None:
            await asyncio.gather(*(insole.finished.wait() for insole in environment.insoles
                                   if insole.spec.side in sides))
            session.request_stop()

        finish_watch = asyncio.create_task(stop_when_streamed())
    loop = asyncio.get_running_loop()
    interrupts = {"count": 0}

    def on_signal(signal_name: str) -> None:
        interrupts["count"] += 1
        if interrupts["count"] == 1:
            print(f"\n{signal_name}: stopping and writing the file ... (again to abandon; "
                  f"'insole recover' can still read what was captured)", file=sys.stderr, flush=True)
            session.request_stop()
        else:
            main_task.cancel()

    main_task = asyncio.current_task()
    assert main_task is not None
    for signal_number, name in ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")):
        loop.add_signal_handler(signal_number, on_signal, name)
    print(f"Looking for {' and '.join(sides)} insole{'s' if len(sides) > 1 else ''} ...", flush=True)
    try:
        result = await session.run()
    except asyncio.CancelledError:
        print(f"insole record: abandoned; the capture so far is in {session.stream_path} "
              f"(run 'insole recover {session.stream_path}')", file=sys.stderr)
        return 130
    except StoppedBeforeRecording:
        print("insole record: interrupted before recording started; nothing was saved", file=sys.stderr)
        return 130
    finally:
        if finish_watch is not None:
            finish_watch.cancel()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signal_number)
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


def _emulated_specs(args: argparse.Namespace, faults: Any, params: Any, max_packets: int | None) -> list[Any]:
    """One emulated insole per foot streaming the chosen pattern after half a second unloaded."""
    import numpy as np

    from firmware_protocol._emulator import FaultPlan, InsoleSpec, source_from_arrays

    rate = params.sample_rate_hz
    sources: dict[str, Any] = {}
    if args.pattern == "synthetic":
        from insole._cli._emulate import source_for_pattern

        for side in ("left", "right"):
            sources[side] = _unloaded_first(source_for_pattern("synthetic", side, args.seed),
                                            math.ceil(_EMULATED_UNLOADED_S * rate))
    else:
        from insole._simulate import SimulationParams, simulate

        duration = (args.duration or 120.0) + 5.0
        recording = simulate(SimulationParams(
            pattern=args.pattern, duration_s=duration, seed=args.seed, sample_rate_hz=float(rate),
            body_mass_kg=args.mass_kg or 70.0, side="left",
        ))
        unloaded_rows = math.ceil(_EMULATED_UNLOADED_S * rate)
        for side in ("left", "right"):
            foot = recording.foot(side)
            values = np.where(foot.valid[:, None], foot.values, np.nan).astype(np.float64)
            # before the walk the wearer stands with the feet lifted for the tare: the insole then
            # reads only its unloaded offset (the smallest reading of each sensor)
            unloaded = np.repeat(np.nanmin(values, axis=0)[None, :], unloaded_rows, axis=0)
            imu = None
            if params.imu and foot.accel_g is not None and foot.gyro_dps is not None:
                motion = np.hstack([foot.accel_g, foot.gyro_dps]).astype(np.float64)
                still = np.repeat(np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]), unloaded_rows, axis=0)
                imu = np.vstack([still, np.nan_to_num(motion)])
            sources[side] = source_from_arrays(np.vstack([unloaded, values]), imu, loop=True)
    plans = faults or {"left": FaultPlan(), "right": FaultPlan()}
    return [
        InsoleSpec(side, sample_rate_hz=rate, samples_per_packet=params.samples_per_packet, source=sources[side],
                   faults=plans[side], speed=args.speed, imu_present=True, max_packets=max_packets)
        for side in ("left", "right")
    ]


def _unloaded_first(source: Any, rows: int) -> Any:
    """``source`` preceded by ``rows`` zero readings (the feet lifted for the tare)."""
    import numpy as np

    remaining = {"rows": rows}

    def unloaded_then_source(n_samples: int, sample_rate_hz: int) -> Any:
        zeros = min(n_samples, remaining["rows"])
        remaining["rows"] -= zeros
        if zeros == n_samples:
            return np.zeros((n_samples, 16))
        rest = source(n_samples - zeros, sample_rate_hz)
        return np.vstack([np.zeros((zeros, 16)), np.asarray(rest, dtype=float).reshape(-1, 16)]) if zeros else rest

    return unloaded_then_source


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number > 0")
    return value


def _mass(text: str) -> float:
    value = _positive_float(text)
    if not value < 500:
        raise argparse.ArgumentTypeError(f"{text!r}: a body mass in kg, below 500")
    return value


def _samples_per_packet(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 7:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer 1..7")
    return value

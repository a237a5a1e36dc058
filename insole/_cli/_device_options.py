"""What the capture commands (``record``, ``live``, ``test``) share: the insole options and their checks.

* ``add_device_options``: which insoles, who wears them, how they stream;
* ``emulation_faults``: the ``--emulate`` options checked together, and
  ``--faults`` parsed;
* ``capture_setup``, ``parquet_out``, ``tare_prompt``: the capture parameters,
  file and zeroing those options mean;
* ``source_options``, ``source_description``: ``--source`` and its own options
  (``--udp-host``, ``--udp-port`` for ``moticon``; ``--orphe-mode``, ``--orphe-rate``,
  ``--calibrate`` for ``orphe``) checked together;
* ``start_orphe_emulation``, ``orphe_emulated_wearer``: emulated ORPHE INSOLEs for
  ``--source orphe --emulate``;
* ``stop_on_signals``, ``abandoned``: Ctrl-C stops a capture and writes the
  file, a second one abandons it;
* ``start_emulation``, ``emulated_walk_specs``: emulated insoles on a private
  fake BlueZ (``scan --emulate`` starts them too).

The emulator, bleak and the capture modules are imported only when a command
runs: building the parser stays cheap for every other command.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware_protocol import FaultPlan, parse_fault_spec
from insole._cli import EXIT_INTERRUPTED, UsageError
from insole._cli._arguments import body_mass_kg, positive_float, samples_per_packet
from insole._errors import DeviceError, require_extra

if TYPE_CHECKING:
    from firmware_protocol import EmulatedEnvironment, InsoleSpec
    from insole.capture import CaptureParams, InsoleSelector

__all__ = [
    "CAPTURE_FORCE_HELP",
    "EMULATED_UNLOADED_S",
    "abandoned",
    "add_device_options",
    "capture_setup",
    "check_capture_target",
    "session_force",
    "emulated_walk_specs",
    "emulation_faults",
    "orphe_emulated_wearer",
    "orphe_options",
    "parquet_out",
    "source_description",
    "source_options",
    "start_emulation",
    "start_orphe_emulation",
    "stop_on_signals",
    "tare_prompt",
]

#: What ``--source`` offers (``insole.capture._sources`` builds each; not imported to build the parser).
SOURCES = ("insole", "moticon", "orphe")

#: Seconds of unloaded readings emulated insoles stream before the walk (the tare reads them).
EMULATED_UNLOADED_S = 0.5

#: Options that only mean something with ``--emulate``, and how to tell each was given.
_GIVEN = {
    "--faults": lambda args: bool(args.faults),
    "--speed": lambda args: args.speed != 1.0,
    "--stops-midway": lambda args: bool(args.stops_midway),
}


def add_device_options(
    group: argparse._ActionsContainer,
    *,
    out_help: str,
    one_foot: bool = True,
    duration: bool = False,
    condition_example: str = "'barefoot', 'orthosis A'",
    imu_switch: tuple[str, str] | None = None,
    wait_option: bool = True,
) -> None:
    """The insole options, in the order ``--help`` lists them.

    Args:
        group: The parser, or the argument group, that takes them.
        out_help: Help of ``--out`` (each command names its own default file).
        one_foot: Offer ``--only left|right``.
        duration: Offer ``--duration S``.
        condition_example: The example in the help of ``--condition``.
        imu_switch: None: ``--imu`` turns the IMU on (off by default). The helps
            of ``--imu`` and ``--no-imu``: both are offered, and ``args.imu`` is None
            when neither is given (the command picks).
        wait_option: Offer ``--yes`` (do not wait for Enter before zeroing).
    """
    group.add_argument("--out", type=Path, default=None, metavar="FILE", help=out_help)
    group.add_argument("--source", choices=SOURCES, default="insole",
                       help="which insoles: insole (ours, Bluetooth LE; the default), moticon (Moticon OpenGo, "
                            "through the OpenGo desktop software's UDP stream: docs/source-moticon.md), orphe "
                            "(ORPHE INSOLE, Bluetooth LE)")
    group.add_argument("--udp-port", type=int, default=None, metavar="N",
                       help="--source moticon: the UDP port the OpenGo desktop streams to (default 8888)")
    group.add_argument("--udp-host", default=None, metavar="ADDR",
                       help="--source moticon: the address to listen on (default 127.0.0.1, this computer only; "
                            "0.0.0.0 when the desktop software runs on another computer)")
    group.add_argument("--orphe-mode", type=int, choices=(3, 4), default=None, metavar="{3,4}",
                       help="--source orphe: the streaming mode, 4 (default: 100 Hz, pressures, quaternion) or 3 "
                            "(pressures at the IMU's rate, no quaternion): docs/source-orphe.md")
    group.add_argument("--orphe-rate", type=int, default=None, metavar="HZ",
                       help="--source orphe: the rate the samples are placed at (default 100 in mode 4, 208 in "
                            "mode 3, the IMU's measured rate); checked against the insoles' own clock")
    group.add_argument("--calibrate", action="store_true",
                       help="--source orphe: in the zeroing step take the full-body-weight point of each foot too "
                            "(the two-point calibration; the wearer stands on one foot, then the other)")
    group.add_argument(
        "--left", default=None, metavar="NAME|ADDRESS", help="the left insole (default: found automatically)"
    )
    group.add_argument(
        "--right", default=None, metavar="NAME|ADDRESS", help="the right insole (default: found automatically)"
    )
    if one_foot:
        group.add_argument("--only", choices=("left", "right"), default=None, help="record one foot only")
    if duration:
        group.add_argument("--duration", type=positive_float, default=None, metavar="S",
                           help="stop after this many seconds (default: until Ctrl-C)")
    group.add_argument("--subject", default=None, metavar="ID", help="pseudonymous subject id")
    group.add_argument("--mass-kg", type=body_mass_kg, default=None, metavar="KG", help="body mass, kg")
    group.add_argument("--shoe-size-eu", type=positive_float, default=None, metavar="EU", help="shoe size (EU)")
    group.add_argument("--condition", default=None, help=f"e.g. {condition_example}")
    group.add_argument("--notes", default=None, help="free text stored with the recording")
    group.add_argument("--rate", type=int, choices=(50, 100, 200), default=100, help="sample rate, Hz (default 100)")
    group.add_argument("--samples-per-packet", type=samples_per_packet, default=None, metavar="N",
                       help="samples batched per notification, 1..7 (default 1, or 2 at 200 Hz)")
    if imu_switch is None:
        group.add_argument("--imu", action="store_true", help="record the insoles' IMU too")
    else:
        on_help, off_help = imu_switch
        group.add_argument("--imu", dest="imu", action="store_true", default=None, help=on_help)
        group.add_argument("--no-imu", dest="imu", action="store_false", help=off_help)
    group.add_argument("--no-tare", dest="tare", action="store_false", help="do not zero the insoles before recording")
    if wait_option:
        group.add_argument("--yes", action="store_true", help="do not wait for Enter before zeroing")
    group.add_argument("--scan-timeout", type=positive_float, default=10.0, metavar="S",
                       help="how long to look for the insoles, s (default 10)")


def emulation_faults(
    args: argparse.Namespace, *, emulate_only: Sequence[str], synthetic: bool
) -> dict[str, FaultPlan] | None:
    """The ``--faults`` plans per foot (None: no faults), once the emulation options are checked.

    Args:
        args: Parsed options with ``emulate``, ``pattern``, ``faults`` and those named in ``emulate_only``.
        emulate_only: The options (of ``--faults``, ``--speed``, ``--stops-midway``) this
            command refuses without ``--emulate``, in the order the message names them.
        synthetic: Whether ``--pattern synthetic`` (the emulator's placeholder signal,
            not a gait) is offered beside the gait simulator's patterns.

    Raises:
        UsageError: an emulation option without ``--emulate``, a ``--faults`` that
            does not parse, or an unknown ``--pattern``.
    """
    if not args.emulate:
        given = [flag for flag in emulate_only if _GIVEN[flag](args)]
        if given:
            verb = "needs" if len(emulate_only) == 1 else "need"
            raise UsageError(f"{_listed(emulate_only)} {verb} --emulate")
        return None
    faults = None
    if args.faults:
        try:
            faults = parse_fault_spec(args.faults)
        except ValueError as error:
            raise UsageError(f"--faults: {error}") from None
    from insole.simulate import PATTERNS

    patterns = ("synthetic", *PATTERNS) if synthetic else PATTERNS
    if args.pattern not in patterns:
        raise UsageError(f"unknown pattern {args.pattern!r}; choose from {', '.join(patterns)}")
    return faults


def require_capture_extras(args: argparse.Namespace) -> None:
    """Fail, before a capture, when bleak (``[ble]``) or, for ``--emulate``, bumble (``[emulator]``) is missing."""
    require_extra("ble")
    if getattr(args, "emulate", False):
        require_extra("emulator")


def _listed(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def source_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--source``'s own options for ``insole.capture._sources.capture_session``, once checked with the rest.

    Raises:
        UsageError: ``--udp-*`` without ``--source moticon``; with it, an option that
            means nothing for a UDP stream (``--emulate``, ``--left``/``--right``,
            ``--samples-per-packet``), or a port outside 1..65535.
    """
    source = getattr(args, "source", "insole")
    udp = {"udp_port": args.udp_port, "udp_host": args.udp_host}
    given = [f"--{name.replace('_', '-')}" for name, value in udp.items() if value is not None]
    orphe_given = [
        flag for flag, value in (("--orphe-mode", getattr(args, "orphe_mode", None)),
                                 ("--orphe-rate", getattr(args, "orphe_rate", None)),
                                 ("--calibrate", getattr(args, "calibrate", False) or None))
        if value is not None
    ]
    if source != "orphe" and orphe_given:
        raise UsageError(f"{_listed(orphe_given)} {'needs' if len(orphe_given) == 1 else 'need'} --source orphe")
    if source == "orphe":
        if given:
            raise UsageError(f"{_listed(given)} {'needs' if len(given) == 1 else 'need'} --source moticon")
        return orphe_options(args)
    if source != "moticon":
        if given:
            raise UsageError(f"{_listed(given)} {'needs' if len(given) == 1 else 'need'} --source moticon")
        return {}
    meaningless = [
        flag
        for flag, given_flag in (
            ("--emulate", getattr(args, "emulate", False)),
            ("--left", getattr(args, "left", None) is not None),
            ("--right", getattr(args, "right", None) is not None),
            ("--samples-per-packet", getattr(args, "samples_per_packet", None) is not None),
        )
        if given_flag
    ]
    if meaningless:
        raise UsageError(
            f"--source moticon takes no {_listed(meaningless)}: the OpenGo desktop's UDP stream names no insole and "
            "sends one sample of both feet per datagram (to try it without insoles, replay an export with "
            "tests/moticon_replayer.py)"
        )
    if args.udp_port is not None and not 0 < args.udp_port < 65536:
        raise UsageError(f"--udp-port must be 1..65535, not {args.udp_port}")
    return {name: value for name, value in udp.items() if value is not None}


def orphe_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--source orphe``'s options (``insole.capture._sources._orphe.OrpheOptions``), checked.

    Raises:
        UsageError: ``--samples-per-packet`` (the mode sets it), ``--left``/``--right`` that are
            not BLE addresses, ``--calibrate`` with ``--no-tare``, a rate that is not positive.
    """
    from insole.capture import orphe_rate_hz

    if getattr(args, "samples_per_packet", None) is not None:
        raise UsageError("--source orphe takes no --samples-per-packet: the mode sets it (2 in mode 4, 4 in mode 3)")
    mode = args.orphe_mode or 4
    rate = args.orphe_rate if args.orphe_rate is not None else orphe_rate_hz(mode)
    if rate <= 0:
        raise UsageError(f"--orphe-rate must be a positive number of Hz, not {rate}")
    tare = getattr(args, "tare", True)
    if args.calibrate and not tare:
        raise UsageError("--calibrate is a step of the zeroing; it cannot go with --no-tare")
    options: dict[str, Any] = {"mode": mode, "sample_rate_hz": rate, "tare": tare,
                               "scan_timeout_s": getattr(args, "scan_timeout", 10.0)}
    for side in ("left", "right"):
        chosen = getattr(args, side, None)
        if chosen is None:
            continue
        if chosen.replace("-", ":").count(":") != 5:
            raise UsageError(f"--{side} with --source orphe is the insole's BLE address (AA:BB:CC:DD:EE:FF); "
                             "without it the insole is told by the foot it says it is mounted on")
        options[f"{side}_address"] = chosen.replace("-", ":").upper()
    if args.calibrate:
        options["full_weight"] = True
        options["prompt"] = orphe_prompt(args)
    return options


def orphe_prompt(args: argparse.Namespace) -> Callable[[str], Awaitable[None]]:
    """What the full-body-weight points of ``--calibrate`` ask of the wearer: at a terminal, wait for Enter."""
    import asyncio
    interactive = sys.stdin.isatty() and not getattr(args, "emulate", False) and not getattr(args, "yes", False)

    async def prompt(text: str) -> None:
        if interactive:
            print(text, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        else:
            print(text.split(";")[0] + " ...", flush=True)

    return prompt


async def start_orphe_emulation(args: argparse.Namespace, faults: dict[str, FaultPlan] | None) -> Any:
    """Emulated ORPHE INSOLEs (left and right) on a private fake BlueZ; this process's bleak points at it.

    Their serials start 750 packets (15 s) before the wrap, so a recording crosses it. With
    ``--calibrate`` and ``--emulate`` nobody stands on them: the prompts make the emulated wearer
    hold the weight. The caller stops it.
    """
    from firmware_protocol import EmulationSetupError
    from insole.capture import OrpheEnvironment, OrpheSpec, orphe_faults_from_plan

    specs = tuple(
        OrpheSpec(side, serial_start=65536 - 750, speed=args.speed,
                  faults=orphe_faults_from_plan(faults[side]) if faults else orphe_faults_from_plan(FaultPlan()))
        for side in ("left", "right")
    )
    environment = OrpheEnvironment(specs, set_system_bus_env=True)
    try:
        await environment.start()
    except EmulationSetupError as error:
        raise DeviceError(str(error)) from None
    return environment


def orphe_emulated_wearer(environment: Any, options: dict[str, Any],
                          before_tare: Callable[[], Awaitable[None]] | None) -> Callable[[], Awaitable[None]]:
    """For emulated ORPHE INSOLEs: the wearer lifts both feet at the zeroing and, for ``--calibrate``, stands
    on each foot when asked (the emulated insoles read their no-load, then full-weight, counts)."""
    hold_s = 4.0  # device seconds: longer than the settling and averaging of a calibration point

    async def lift_both_feet() -> None:
        for insole in environment.insoles:
            insole.hold("none", hold_s)
        if before_tare is not None:
            await before_tare()

    prompt = options.get("prompt")
    if prompt is not None:
        async def stand_on(text: str) -> None:
            standing = "left" if "LEFT" in text else "right"
            for insole in environment.insoles:
                insole.hold("full" if insole.spec.side == standing else "none", hold_s)
            await prompt(text)

        options["prompt"] = stand_on
    return lift_both_feet


def source_description(args: argparse.Namespace) -> str:
    """What the capture listens to, for the messages of ``record``, ``live`` and ``test``."""
    source = getattr(args, "source", "insole")
    if source == "moticon":
        return f"the Moticon OpenGo stream on udp://{args.udp_host or '127.0.0.1'}:{args.udp_port or 8888}"
    if source == "orphe":
        return "ORPHE INSOLE insoles over Bluetooth LE"
    return "insoles over Bluetooth LE"


def capture_setup(args: argparse.Namespace) -> tuple[CaptureParams, dict[str, InsoleSelector]]:
    """The capture parameters and the insole to look for per recorded foot (``--only`` keeps one)."""
    from insole.capture import CaptureParams, InsoleSelector

    params = CaptureParams(
        sample_rate_hz=args.rate,
        # PROTOCOL.md section 7 advises at least 2 samples per notification at 200 Hz
        samples_per_packet=args.samples_per_packet or (2 if args.rate == 200 else 1),
        imu=args.imu,
        tare=args.tare,
        scan_timeout_s=args.scan_timeout,
    )
    only = getattr(args, "only", None)
    sides = (only,) if only else ("left", "right")
    return params, {side: InsoleSelector.parse(side, getattr(args, side)) for side in sides}


def parquet_out(path: Path | None, *, default_stem: str = "insole") -> Path:
    """``--out`` ending in ``.parquet`` (appended when it does not); unset, STEM-YYYYMMDD-HHMMSS.parquet here."""
    out = path or Path(f"{default_stem}-{dt.datetime.now():%Y%m%d-%H%M%S}.parquet")
    return out if out.suffix == ".parquet" else out.with_name(out.name + ".parquet")


#: ``--force`` of the capture commands (each adds it last, after its own options).
CAPTURE_FORCE_HELP = ("replace --out if it already exists (without it an existing file is refused before anything "
                      "connects); an unfinished capture stream beside it is never replaced")


def check_capture_target(out: Path, *, force: bool, inputs: Sequence[Path | None] = ()) -> Path:
    """Refuse a capture's file before anything connects; return ``out``.

    ``out`` must be writable (and absent unless ``force``; never one of
    ``inputs``); the capture stream beside it (``STEM.arrows`` and its
    ``.json`` sidecar) must not exist even with ``force``: it is an earlier
    capture that ``insole recover`` has not turned into a file yet.

    Raises:
        OutputError: one line naming the file.
    """
    from insole._cli._outputs import check_outputs
    from insole._errors import OutputError

    check_outputs([out], force=force, inputs=inputs)
    stream = stream_path_of(out)
    for leftover in (stream, stream.with_name(stream.name + ".json")):
        if leftover.exists() or leftover.is_symlink():
            raise OutputError(leftover, f"an unfinished capture is here (never replaced, even with --force): run "
                                        f"'insole recover {stream}' first, or choose another --out")
    return out


def session_force(session_class: Any, force: bool) -> dict[str, bool]:
    """``{"force": force}`` when the capture session takes it (it then refuses an existing file itself), else {}."""
    import inspect

    return {"force": force} if "force" in inspect.signature(session_class).parameters else {}


def stream_path_of(out: Path) -> Path:
    """The capture stream written beside ``out`` while capturing (as ``insole.capture.CaptureSession`` names it)."""
    return out.with_name(out.stem + ".arrows") if out.suffix == ".parquet" else out.with_name(out.name + ".arrows")


def tare_prompt(args: argparse.Namespace, *, wearer: str) -> Callable[[], Awaitable[None]] | None:
    """What the capture runs just before zeroing the insoles (None with ``--no-tare``).

    At a terminal it asks ``wearer`` ("the wearer", "the patient") to lift both
    feet and waits for Enter, unless ``--yes`` or ``--emulate`` (nobody wears
    emulated insoles); otherwise it only says that zeroing happens.
    """
    import asyncio
    if not args.tare:
        return None
    interactive = sys.stdin.isatty() and not args.emulate and not args.yes

    async def before_tare() -> None:
        if interactive:
            print(f"Zeroing: {wearer} lifts both feet off the ground (insoles unloaded); press Enter when ready.",
                  flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        else:
            print("Zeroing the insoles (feet unloaded) ...", flush=True)

    return before_tare


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[str], None]) -> Iterator[dict[str, int]]:
    """While inside: the first Ctrl-C or SIGTERM calls ``stop("Ctrl-C" | "SIGTERM")``, the next cancels this task.

    ``stop`` ends the capture so that the file is written; cancelling abandons
    it (the stream on disk stays, for ``insole recover``). Yields the signal
    count so far, ``{"count": n}``.
    """
    import asyncio
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    interrupts = {"count": 0}

    def on_signal(name: str) -> None:
        interrupts["count"] += 1
        if interrupts["count"] == 1:
            stop(name)
        elif task is not None:
            task.cancel()

    for number, name in ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")):
        loop.add_signal_handler(number, on_signal, name)
    try:
        yield interrupts
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)


def abandoned(command: str, stream_path: Path) -> int:
    """Tell where an abandoned capture's samples are and how to recover them; the exit code."""
    print(f"insole {command}: abandoned; the capture so far is in {stream_path} "
          f"(run 'insole recover {stream_path}')", file=sys.stderr)
    return EXIT_INTERRUPTED


async def start_emulation(specs: Sequence[InsoleSpec] | None = None) -> EmulatedEnvironment:
    """Emulated insoles (default: a left and a right) advertising on a private fake BlueZ.

    ``DBUS_SYSTEM_BUS_ADDRESS`` points at it while it runs, so bleak in this
    process finds them. The caller stops it (``await environment.stop()``).

    Raises:
        DeviceError: the environment could not start (e.g. no ``dbus-daemon``).
    """
    from firmware_protocol import EmulatedEnvironment, EmulationSetupError

    environment = EmulatedEnvironment(specs, set_system_bus_env=True)
    try:
        await environment.start()
    except EmulationSetupError as error:
        raise DeviceError(str(error)) from None
    return environment


def emulated_walk_specs(
    args: argparse.Namespace,
    faults: dict[str, FaultPlan] | None,
    params: CaptureParams,
    *,
    duration_s: float | None,
    max_packets: int | None,
) -> list[InsoleSpec]:
    """One emulated insole per foot streaming ``--pattern`` after ``EMULATED_UNLOADED_S`` unloaded.

    A gait pattern is simulated for ``duration_s`` (default 120 s) plus 5 s and
    looped; ``max_packets`` (None: no limit) ends each insole's stream.
    """
    import numpy as np

    from firmware_protocol import InsoleSpec, source_from_arrays

    rate = params.sample_rate_hz
    unloaded_rows = math.ceil(EMULATED_UNLOADED_S * rate)
    sources: dict[str, Any] = {}
    if args.pattern == "synthetic":
        from insole._cli._emulate import source_for_pattern

        for side in ("left", "right"):
            sources[side] = _unloaded_first(source_for_pattern("synthetic", side, args.seed), unloaded_rows)
    else:
        from insole.simulate import SimulationParams, simulate

        recording = simulate(SimulationParams(
            pattern=args.pattern, duration_s=(duration_s or 120.0) + 5.0, seed=args.seed, sample_rate_hz=float(rate),
            body_mass_kg=args.mass_kg or 70.0, side="left",
        ))
        for side in ("left", "right"):
            foot = recording.samples(side)  # the simulator gives both feet
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

"""``insole emulate``: a left and a right emulated insole on a private BLE environment.

No Bluetooth hardware is involved: the insoles are bumble peripherals and the
host side is a fake BlueZ on a private ``dbus-daemon``. Any program that uses
bleak on Linux talks to them unmodified once ``DBUS_SYSTEM_BUS_ADDRESS`` points
at that bus; this command prints the exact line. It runs until Ctrl-C or
SIGTERM, then tears the emulated stack down (a second signal cuts that short).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from firmware_protocol import FAULT_SPEC_HELP, FaultPlan, parse_fault_spec
from insole._cli import UsageError
from insole._cli._arguments import add_examples_command, positive_float, samples_per_packet
from insole._cli._device_options import stop_on_signals
from insole._errors import DeviceError, InputError, require_extra

if TYPE_CHECKING:
    from firmware_protocol import InsoleSpec, SampleSource

# bumble and bleak are imported only when the command runs: importing them
# takes about a second, and every other command would pay for it.

__all__ = ["add_parser", "run"]

#: Sources by ``--pattern``: the gait simulator's patterns (a simulated walk
#: streamed in a loop), and ``synthetic``, a smooth placeholder test signal.
from insole.simulate import PATTERNS as _GAIT_PATTERNS  # noqa: E402

PATTERNS = (*_GAIT_PATTERNS, "synthetic")

#: ``--rate``'s choices: the firmware's rates (``firmware_protocol.SAMPLE_RATES_HZ``, checked against it by
#: tests/test_cli_s8_loose_ends.py), written out because the codec that holds them imports numpy, which
#: ``insole emulate --help`` does not need
RATE_CHOICES_HZ = (50, 100, 200)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "emulate",
        help="run emulated left and right insoles that any bleak program can connect to",
        description=(
            "Start a private BLE environment with no hardware: a dbus-daemon, a fake BlueZ on it "
            "and two emulated insoles (left and right) that advertise, accept connections and "
            "stream as the firmware does (PROTOCOL.md). Another process reaches them through "
            "bleak by setting DBUS_SYSTEM_BUS_ADDRESS to the address printed. Runs until Ctrl-C (or SIGTERM)."
        ),
        examples=(
            "insole emulate",
            "insole emulate --rate 200 --faults 'drop=0.05,linkloss=10s;30s,drift_left=300,offset_left=2'",
            "insole emulate --replay recordings/session.parquet --speed 2",
            "insole emulate --source orphe --faults 'drop=0.02,linkloss=10s'",
        ),
        after="--faults syntax:\n" + FAULT_SPEC_HELP,
    )
    parser.add_argument(
        "--source", choices=("insole", "orphe"), default="insole",
        help="which insoles to emulate: insole (ours, PROTOCOL.md; the default) or orphe (ORPHE INSOLE, built "
             "from the vendor's published SDK: docs/source-orphe.md)",
    )
    parser.add_argument(
        "--rate", type=int, choices=RATE_CHOICES_HZ, default=None,
        help="sample rate at power-on, Hz (default 100, or the replayed recording's rate)",
    )
    parser.add_argument(
        "--samples-per-packet", type=samples_per_packet, default=1, metavar="N",
        help="samples per packet at power-on, 1..7 (default 1)",
    )
    parser.add_argument(
        "--faults", type=_fault_spec, default=None, metavar="SPEC",
        help="faults to inject, e.g. 'drop=0.05,linkloss=10s' (syntax below)",
    )
    parser.add_argument(
        "--pattern", choices=PATTERNS, default="normal",
        help=("what the insoles stream: a gait-simulator pattern (default normal; see 'insole simulate "
              "--help'), or 'synthetic', a smooth placeholder signal that is not a gait model"),
    )
    parser.add_argument(
        "--replay", type=Path, default=None, metavar="FILE",
        help="stream this recording instead (insole16 layout in kPa), looping",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic signal's noise")
    parser.add_argument(
        "--speed", type=positive_float, default=1.0,
        help="emulated seconds per wall-clock second (device timestamps stay true), default 1",
    )
    parser.add_argument(
        "--serials", type=_serial_pair, default=None, metavar="LEFT,RIGHT",
        help="serial numbers in hex, e.g. 20241A2B,20241A2C",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print connection and stream events")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_extra("emulator")
    from firmware_protocol import EmulationSetupError

    if args.source == "orphe":
        environment, title, describe = _orphe_environment(args)
        event_loggers: tuple[str, ...] = ()
    else:
        environment, title, describe = _insole_environment(args)
        event_loggers = ("firmware_protocol._emulator",)
    if not args.quiet:
        logging.basicConfig(format="%(asctime)s %(message)s", datefmt="%H:%M:%S", level=logging.WARNING)
        for name in event_loggers:
            logging.getLogger(name).setLevel(logging.INFO)
        # bumble warns about packets still in flight when a host disconnects
        # mid-stream ("no connection for handle"); that is expected here.
        logging.getLogger("bumble").setLevel(logging.ERROR)
    try:
        asyncio.run(_serve(environment, title, describe))
    except (KeyboardInterrupt, asyncio.CancelledError):
        # a second Ctrl-C (or SIGTERM) cut the teardown short; the dbus-daemon dies with us (PR_SET_PDEATHSIG)
        print("insole emulate: stopped; a second signal cut the teardown short", file=sys.stderr)
        return 0
    except EmulationSetupError as error:
        raise DeviceError(str(error)) from None
    print("insole emulate: stopped", file=sys.stderr)
    return 0


class _Environment(Protocol):
    """What ``insole emulate`` serves: an ``EmulatedEnvironment`` (ours) or an ``OrpheEnvironment``."""

    @property
    def bus_address(self) -> str: ...

    @property
    def insoles(self) -> Sequence[Any]: ...

    def shell_hint(self, command: str) -> str: ...

    async def __aenter__(self) -> Any: ...

    async def __aexit__(self, *exc_info: object) -> None: ...


async def _serve(environment: _Environment, title: str, describe: Callable[[Any], str]) -> None:
    """Run ``environment`` until Ctrl-C or SIGTERM, then tear it down.

    The signals are this command's own (``loop.add_signal_handler``), not
    asyncio.run's: asyncio.run leaves SIGINT alone when the process started
    with it ignored, as a script's background job (``insole emulate &``) does,
    and Ctrl-C then never stopped the command. Here the first signal ends the
    wait and the stack is torn down outside any cancellation; a second one
    cancels the teardown.
    """
    stopped = asyncio.Event()
    with stop_on_signals(lambda _signal_name: stopped.set()):
        async with environment:
            lines = [title, *(f"  {describe(insole)}" for insole in environment.insoles)]
            lines += [
                f"D-Bus address: {environment.bus_address}",
                "Point another process's bleak at them with:",
                f"  {environment.shell_hint('python your_collector.py')}",
                "Press Ctrl-C to stop.",
            ]
            print("\n".join(lines), flush=True)
            await stopped.wait()


def _insole_environment(args: argparse.Namespace) -> tuple[_Environment, str, Callable[[Any], str]]:
    """Our emulated insoles (PROTOCOL.md), the banner's title and one line per insole."""
    from firmware_protocol import EmulatedEnvironment

    def describe(insole: Any) -> str:
        spec = insole.spec
        return (f"{insole.name}  {insole.address}  {spec.side:<5}  {spec.sample_rate_hz} Hz  "
                f"faults: {_describe_faults(spec.faults)}")

    title = "Emulated insoles are advertising (no hardware; fake BlueZ on a private D-Bus):"
    return EmulatedEnvironment(_specs(args)), title, describe


def _orphe_environment(args: argparse.Namespace) -> tuple[_Environment, str, Callable[[Any], str]]:
    """``--source orphe``: a left and a right emulated ORPHE INSOLE (their streaming mode is the host's
    choice, as on the real ones; the serial starts 750 packets before its wrap)."""
    from insole.capture import OrpheEnvironment, OrpheSpec, orphe_faults_from_plan

    ours_only = [flag for flag, given in (("--rate", args.rate is not None),
                                          ("--samples-per-packet", args.samples_per_packet != 1),
                                          ("--replay", args.replay is not None),
                                          ("--pattern", args.pattern != "normal"),
                                          ("--serials", args.serials is not None)) if given]
    if ours_only:
        raise UsageError(f"--source orphe takes no {', '.join(ours_only)}: the emulated ORPHE INSOLEs stream a "
                         "placeholder walk in raw counts, in the mode the host selects")
    plans = args.faults or {"left": FaultPlan(), "right": FaultPlan()}
    specs = tuple(
        OrpheSpec(side, serial_start=65536 - 750, speed=args.speed, faults=orphe_faults_from_plan(plans[side]))
        for side in ("left", "right")
    )

    def describe(insole: Any) -> str:
        spec = insole.spec
        return (f"{insole.name}  {insole.address}  {spec.side:<5}  mount_position {spec.mount_position}  "
                f"mode {spec.mode} at power-on (mode 3 at {spec.mode3_rate_hz:g} Hz)  "
                f"faults: {_describe_faults(plans[spec.side])}")

    title = "Emulated ORPHE INSOLEs are advertising (no hardware; fake BlueZ on a private D-Bus):"
    return OrpheEnvironment(specs), title, describe


def _specs(args: argparse.Namespace) -> list[InsoleSpec]:
    from firmware_protocol import SAMPLE_RATES_HZ, InsoleSpec

    faults = args.faults or {"left": FaultPlan(), "right": FaultPlan()}
    serials = args.serials or (None, None)
    sources: dict[str, SampleSource] = {}
    rate = args.rate
    if args.replay is not None:
        sources, recorded_rate = _replay_sources(args.replay)
        if rate is None and recorded_rate in SAMPLE_RATES_HZ:
            rate = int(recorded_rate)
    specs = []
    for side, serial in zip(("left", "right"), serials, strict=True):
        source = sources.get(side) or source_for_pattern(args.pattern, side, args.seed)
        specs.append(
            InsoleSpec(
                side,
                serial=serial,
                sample_rate_hz=rate or 100,
                samples_per_packet=args.samples_per_packet,
                source=source,
                faults=faults[side],
                speed=args.speed,
            )
        )
    return specs


def source_for_pattern(pattern: str, side: str, seed: int) -> SampleSource:
    """The sample source of a ``--pattern``.

    A gait-simulator pattern is a 10-minute simulated walk (insole16, kPa,
    with IMU) streamed in a loop; ``synthetic`` is the emulator's own
    placeholder signal.
    """
    import numpy as np

    from firmware_protocol import source_from_arrays, synthetic_walking_source

    if pattern == "synthetic":
        return synthetic_walking_source(side, seed=seed)
    if pattern not in _GAIT_PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}")
    recording = _simulated_walk(pattern, seed)
    foot = recording.foot(side)
    pressure = np.where(foot.valid[:, None], foot.values, np.nan).astype(np.float64)
    imu = None
    if foot.accel_g is not None and foot.gyro_dps is not None:
        imu = np.concatenate((foot.accel_g, foot.gyro_dps), axis=1).astype(np.float64)
    return source_from_arrays(pressure, imu, loop=True)


_SIMULATED: dict[tuple[str, int], object] = {}


def _simulated_walk(pattern: str, seed: int):
    """One simulated walk per (pattern, seed), shared by both feet's sources."""
    from insole.simulate import SimulationParams, simulate

    key = (pattern, seed)
    if key not in _SIMULATED:
        _SIMULATED[key] = simulate(SimulationParams(pattern=pattern, duration_s=600.0, seed=seed))
    return _SIMULATED[key]


def _replay_sources(path: Path) -> tuple[dict[str, SampleSource], float]:
    import numpy as np

    from firmware_protocol import source_from_arrays
    from insole.io import load  # only needed for --replay

    recording = load(path)
    if recording.layout.name != "insole16" or recording.unit != "kPa":
        raise InputError(
            path,
            f"--replay needs an insole16 recording in kPa, this one is {recording.layout.name} in {recording.unit}",
        )
    sources: dict[str, SampleSource] = {}
    for side in recording.sides:
        foot = recording.samples(side)
        pressure = np.where(foot.valid[:, None], foot.values, np.nan)
        imu = None
        if foot.accel_g is not None and foot.gyro_dps is not None:
            imu = np.concatenate((foot.accel_g, foot.gyro_dps), axis=1)
        sources[side] = source_from_arrays(pressure, imu, loop=True)
    return sources, recording.sample_rate_hz


def _describe_faults(plan: FaultPlan) -> str:
    parts = []
    if plan.drop_rate:
        parts.append(f"drop {plan.drop_rate:.1%}")
    if plan.drop_sequences:
        parts.append(f"drop seq {sorted(plan.drop_sequences)}")
    if plan.corrupt_rate:
        parts.append(f"corrupt {plan.corrupt_rate:.1%}")
    if plan.corrupt_sequences:
        parts.append(f"corrupt seq {sorted(plan.corrupt_sequences)}")
    if plan.overrun_sequences:
        parts.append(f"overrun seq {sorted(plan.overrun_sequences)}")
    if plan.link_loss_at_s:
        parts.append("link loss at " + ", ".join(f"{t:g} s" for t in plan.link_loss_at_s))
    if plan.clock_offset_s:
        parts.append(f"clock offset {plan.clock_offset_s:g} s")
    if plan.clock_drift_ppm:
        parts.append(f"drift {plan.clock_drift_ppm:+g} ppm")
    if plan.burst_packets > 1:
        parts.append(f"bursts of {plan.burst_packets}")
    if plan.low_battery:
        parts.append("low battery")
    return ", ".join(parts) or "none"


def _fault_spec(text: str) -> dict[str, FaultPlan]:
    try:
        return parse_fault_spec(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _serial_pair(text: str) -> tuple[int, int]:
    try:
        left, right = (int(part, 16) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give two hex serials, LEFT,RIGHT") from None
    if not (0 <= left < 2**32 and 0 <= right < 2**32) or (left & 0xFFFF) == (right & 0xFFFF):
        raise argparse.ArgumentTypeError(f"{text!r}: 32-bit serials whose low 16 bits differ")
    return left, right

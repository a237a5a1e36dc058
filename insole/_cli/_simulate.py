"""``insole simulate``: write a simulated walk with its known answer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from insole._cli._outputs import add_force_option, check_outputs, write_recording
from insole._errors import RecordingError
from insole.simulate import PATTERN_DESCRIPTIONS, PATTERNS

#: The shortest walk ``insole simulate`` writes: below about 2 s some seeds give fewer than two steps, so no
#: cadence (measured over the ten patterns, seeds 0-5, 100 Hz: 1.5 s failed one, 2 s none); 5 s leaves margin.
MIN_DURATION_S = 5.0
#: The built-in layouts (``insole._layout.builtin_layouts()``), written out so that ``--help`` imports no numpy (the
#: layouts module does); tests/test_cli_s8_loose_ends.py checks them against it.
LAYOUT_NAMES = ("insole16", "gaitpdb8", "moticon16", "footswitch1", "orphe6")
#: The longest: 8 hours at 100 Hz, a day's wear (2,880,000 samples per foot; at a higher rate proportionally less,
#: MAX_SAMPLES). The simulator builds the whole walk in memory before writing it: peak resident memory measured
#: (insole16 + IMU, 100 Hz) 0.47 GB for 1 h and 1.23 GB for 3 h (simulate() alone), 3.07 GB for 8 h (this command,
#: writing its 414 MB file, 45 s): about 0.4 GB per simulated hour. 24 h would need about 9 GB, more than a laptop
#: can be assumed to have free.
MAX_DURATION_S = 8 * 3600.0
MAX_SAMPLES = int(MAX_DURATION_S * 100)
_GB_PER_HOUR_AT_100_HZ = 0.4
_LONGER = ("the simulator holds the whole walk in memory (about 0.4 GB per simulated hour at 100 Hz); for a longer "
           "file, record real insoles (insole record writes to disk as it goes)")

_EXAMPLE = """\
example:
  insole simulate --pattern overpronation --side right --duration 120 --seed 7 \\
      --standing 10 --turns 3 --out overpronation.parquet

patterns:
""" + "\n".join(f"  {name:<15} {text}" for name, text in PATTERN_DESCRIPTIONS.items()) + """

The known answer (heel strikes, toe offs, force-curve peaks, loading rates,
regional shares, segments) is stored in the file: see docs/simulator.md.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="simulate two-foot walking with a known answer (gait patterns, standing, turns)",
        description="Simulate both insoles during walking; the right answer is stored in the recording.",
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pattern", choices=PATTERNS, default="normal", help="gait pattern (default normal)")
    parser.add_argument("--duration", type=float, default=60.0, metavar="S",
                        help=f"recording length in s (default 60; {MIN_DURATION_S:g} to {MAX_DURATION_S:g}, i.e. 8 h "
                             f"at 100 Hz or less at a higher --rate: the walk is built in memory, about "
                             f"{_GB_PER_HOUR_AT_100_HZ:g} GB per simulated hour at 100 Hz)")
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="random seed; same seed, same file (default 0)"
    )
    parser.add_argument("--side", choices=("left", "right", "both"), default="left",
                        help="foot the pattern affects (default left; ignored by normal and irregular)")
    parser.add_argument("--mass-kg", type=float, default=70.0, metavar="M", help="body mass in kg (default 70)")
    parser.add_argument(
        "--layout", choices=LAYOUT_NAMES, default="insole16", help="sensor layout (default insole16)"
    )
    parser.add_argument("--shoe-size", type=float, default=42.0, metavar="EU", help="shoe size, EU (default 42)")
    parser.add_argument("--rate", type=float, default=100.0, metavar="HZ", help="sample rate in Hz (default 100)")
    parser.add_argument("--standing", type=float, default=0.0, metavar="S",
                        help="quiet standing at the start and at the end, s each (default 0)")
    parser.add_argument(
        "--turns", type=int, default=0, metavar="K", help="180-degree turns during the walk (default 0)"
    )
    parser.add_argument(
        "--noise-n", type=float, default=0.2, metavar="N", help="sensor noise SD per sensor in N (default 0.2)"
    )
    parser.add_argument("--residual-n", type=float, default=0.0, metavar="N",
                        help="residual in-shoe load per foot in N, read even in swing (default 0)")
    parser.add_argument("--no-imu", action="store_true", help="leave out accelerometer and gyroscope")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="Parquet file to write")
    add_force_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_outputs([args.out], force=args.force)
    if not MIN_DURATION_S <= args.duration <= MAX_DURATION_S:  # nan too
        problem = "is too long" if args.duration > MAX_DURATION_S else "is too short"
        print(f"insole simulate: error: --duration {args.duration:g} {problem}: a simulated walk lasts at least "
              f"{MIN_DURATION_S:g} s (a few strides, enough for a cadence) and at most {MAX_DURATION_S:g} s (8 h)"
              + (f"; {_LONGER}" if args.duration > MAX_DURATION_S else ""), file=sys.stderr)
        return 2
    if args.rate > 0 and args.duration * args.rate > MAX_SAMPLES:
        longest = MAX_SAMPLES / args.rate
        print(f"insole simulate: error: --duration {args.duration:g} is too long at --rate {args.rate:g}: at most "
              f"{MAX_SAMPLES:,} samples per foot ({longest:g} s at {args.rate:g} Hz, 8 h at 100 Hz); {_LONGER}",
              file=sys.stderr)
        return 2
    from insole.simulate import SimulationParams, simulate

    try:
        params = SimulationParams(
            pattern=args.pattern, duration_s=args.duration, seed=args.seed, side=args.side,
            body_mass_kg=args.mass_kg, layout=args.layout, sample_rate_hz=args.rate, standing_s=args.standing,
            turns=args.turns, shoe_size_eu=args.shoe_size, sensor_noise_n=args.noise_n,
            residual_load_n=args.residual_n, imu=False if args.no_imu else None,
        )
        recording = simulate(params)
    except (ValueError, RecordingError) as error:
        print(f"insole simulate: error: {error}", file=sys.stderr)
        return 2
    write_recording(recording, args.out, force=args.force)
    truth = recording.meta.extra["simulation"]
    steps = ", ".join(f"{s} {truth['feet'][s]['n_steps']}" for s in ("left", "right"))
    cadence = truth["cadence_steps_per_min"]
    print(f"wrote {args.out}: {params.pattern}, {params.duration_s:g} s at {params.sample_rate_hz:g} Hz, "
          f"{recording.layout.name} in {recording.unit}, complete steps {steps}, "
          + (f"cadence {cadence:.1f} steps/min" if cadence is not None else "too few steps for a cadence"))
    return 0

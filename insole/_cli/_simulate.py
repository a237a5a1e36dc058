"""``insole simulate``: write a simulated walk with its known answer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from insole._errors import RecordingError
from insole._layout import builtin_layouts
from insole.io import write_parquet
from insole.simulate import PATTERN_DESCRIPTIONS, PATTERNS, SimulationParams, simulate

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
    parser.add_argument("--duration", type=float, default=60.0, metavar="S", help="recording length in s (default 60)")
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="random seed; same seed, same file (default 0)"
    )
    parser.add_argument("--side", choices=("left", "right", "both"), default="left",
                        help="foot the pattern affects (default left; ignored by normal and irregular)")
    parser.add_argument("--mass-kg", type=float, default=70.0, metavar="M", help="body mass in kg (default 70)")
    parser.add_argument(
        "--layout", choices=builtin_layouts(), default="insole16", help="sensor layout (default insole16)"
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.out.parent.is_dir():
        print(f"insole simulate: error: {args.out}: directory {args.out.parent} does not exist", file=sys.stderr)
        return 2
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
    write_parquet(recording, args.out)
    truth = recording.meta.extra["simulation"]
    steps = ", ".join(f"{s} {truth['feet'][s]['n_steps']}" for s in ("left", "right"))
    print(f"wrote {args.out}: {params.pattern}, {params.duration_s:g} s at {params.sample_rate_hz:g} Hz, "
          f"{recording.layout.name} in {recording.unit}, complete steps {steps}, "
          f"cadence {truth['cadence_steps_per_min']:.1f} steps/min")
    return 0

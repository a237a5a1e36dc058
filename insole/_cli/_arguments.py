"""Argument pieces several commands share: value checks for ``type=``, and two shapes of command parser.

A value check raises ``argparse.ArgumentTypeError`` with a message that
quotes what was typed; argparse then prints it as ``insole CMD: error:
argument --opt: 'TEXT': ...`` and exits with code 2.
"""

from __future__ import annotations

import argparse
import math
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

__all__ = [
    "FORMAT_NAMES", "MASS_KG_HELP", "FormatChoices", "add_examples_command", "add_recording_command", "body_mass_kg",
    "check_body_mass_kg", "positive_float", "samples_per_packet",
]

#: Above this a body mass is a typo, not a person.
_MAX_BODY_MASS_KG = 500.0

#: The help of ``--mass-kg`` of the commands that analyse a recording (analyze, report, dashboard).
MASS_KG_HELP = (f"body mass in kg, above 0 and below {_MAX_BODY_MASS_KG:g}: the force metrics in body weights (BW) "
                "are divided by mass x g. Without it the recording's own mass is used: its metadata, which for a "
                "gaitpdb or gaitndd text file is the subject table beside the file (demographics.txt, "
                "subject-description.txt) when that table is there, so a copy of the file without its table has "
                "no mass. With no mass at all the body weight is the recording's own walking load (the mean "
                "vertical force of both feet over complete strides; for uncalibrated insoles a load scale, not a "
                "weight), and the summary says no body mass was found")


def check_body_mass_kg(value: float | None) -> None:
    """A ``--mass-kg`` given as a plain number (``type=float``), checked when the command runs: above 0 and below
    500. A bad value is the option's fault, not the recording's: ``UsageError`` names the option and the value
    (one line, exit 2), never the file."""
    if value is None or 0 < value < _MAX_BODY_MASS_KG:
        return
    from insole._cli import UsageError

    raise UsageError(f"--mass-kg {value:g} is not a plausible body mass (kg, above 0 and below "
                     f"{_MAX_BODY_MASS_KG:g})")


def positive_float(text: str) -> float:
    """A finite number above zero (``nan`` and ``inf`` are refused)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or value == math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number > 0")
    return value


def body_mass_kg(text: str) -> float:
    """A body mass, kg: above zero and below 500."""
    value = positive_float(text)
    if not value < _MAX_BODY_MASS_KG:
        raise argparse.ArgumentTypeError(f"{text!r}: a body mass in kg, below {_MAX_BODY_MASS_KG:g}")
    return value


def samples_per_packet(text: str) -> int:
    """Samples per notification: 1 up to what a packet without IMU holds (PROTOCOL.md)."""
    from firmware_protocol import max_samples_per_packet  # the codec (numpy) only for the commands that use it

    limit = max_samples_per_packet(False)
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= limit:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer 1..{limit}")
    return value


#: Every format name ``insole.io.load`` takes, sorted (``insole.io.formats()``; tests/test_cli_s8_loose_ends.py checks
#: that the two agree). Written out so that a command's ``--help`` and its ``--format`` check import no reader.
FORMAT_NAMES = ("fscan", "gaitndd", "gaitpdb", "generic-csv", "moticon", "parquet", "pedar", "stappone", "stream",
                "xsensor")


class FormatChoices(Sequence[str]):
    """The importers' format names, sorted, for ``--format``'s ``choices`` (``FORMAT_NAMES``).

    Listing them from ``insole.io.formats()`` would import every importer, the Parquet reader and numpy (about
    0.45 s and 70 MB for ``insole info --help``); argparse reads the choices to check a ``--format`` that was given
    or to print ``--help``, neither of which needs a reader.
    """

    def _names(self) -> list[str]:
        return list(FORMAT_NAMES)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


def add_recording_command(
    subparsers: argparse._SubParsersAction, name: str, *, help: str, description: str, example: str
) -> argparse.ArgumentParser:
    """The parser of ``insole NAME PATH ...``, a command that reads one recording file of any supported format."""
    parser = subparsers.add_parser(name, help=help, description=description, epilog=f"example: {example}")
    parser.add_argument("path", type=Path, help="recording file (any supported format)")
    return parser


def add_examples_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    description: str,
    examples: Sequence[str],
    after: str = "",
    wrap_description: bool = True,
) -> argparse.ArgumentParser:
    """The parser of ``insole NAME`` whose help ends with example command lines (then ``after``, if any).

    The examples and ``after`` are shown as written (line breaks kept, nothing
    wrapped); the description's paragraphs (separated by a blank line) are
    filled to 70 columns unless ``wrap_description`` is false.
    """
    if wrap_description:
        description = "\n\n".join(textwrap.fill(paragraph) for paragraph in description.split("\n\n"))
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples) + (f"\n\n{after}" if after else "")
    return subparsers.add_parser(
        name, help=help, description=description, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )

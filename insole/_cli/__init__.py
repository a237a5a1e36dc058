"""The ``insole`` command line: the one place that wires every part together.

Each sub-command lives in its own module ``insole/_cli/_<name>.py`` that defines
``add_parser(subparsers)``; the parser it adds sets ``func(args) -> int`` as its
default. This module only collects them, runs the chosen one, and turns the
project's own errors into one line and an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from insole._errors import DeviceError, InputError, InsoleError, MissingExtraError, missing_extra
from insole._version import __version__

# Order is the order shown by ``insole --help``.
_COMMAND_MODULES = (
    "simulate",
    "emulate",
    "scan",
    "record",
    "recover",
    "info",
    "convert",
    "analyze",
    "report",
    "dashboard",
    "live",
    "test",
    "batch",
    "cohort",
    "export",
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


# plotly is in several extras: a command that finds it missing names its own
_PLOTLY_EXTRA = {"report": "report", "dashboard": "dashboards", "live": "dashboards", "batch": "batch",
                 "cohort": "batch"}


def _missing_extra(error: ModuleNotFoundError, args: argparse.Namespace) -> MissingExtraError | None:
    """The extra to name for an optional package a command found missing (None: not an optional package)."""
    extra = _PLOTLY_EXTRA.get(args.command)
    if args.command == "analyze":  # --report and --dashboard
        extra = "dashboards" if getattr(args, "dashboard", None) and not getattr(args, "report", None) else "report"
    return missing_extra(error, extra if (error.name or "").startswith("plotly") else None)


class UsageError(Exception):
    """Options a command cannot use together (or a value argparse alone cannot check).

    The command line's own complaint, never the library's: ``main`` prints it
    as one line and returns ``EXIT_BAD_INPUT``, as argparse does for its errors.
    """


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``insole`` parser with every command, or with ``command``'s alone.

    Each command module is imported to add its parser; ``insole COMMAND ...``
    needs only that one, and so does not pay for what the others import at
    parser-building time (the simulator's patterns, the importers' formats).
    """
    parser = argparse.ArgumentParser(
        prog="insole",
        description=(
            "Pressure-sensing insoles for clinicians and gait researchers: record both feet "
            "over Bluetooth, analyse gait and foot loading, report and explore the results."
        ),
        epilog="Run 'insole COMMAND --help' for the options and an example of each command.",
    )
    parser.add_argument("--version", action="version", version=f"insole {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    from insole._cli._analyze_outputs import register as register_analyze_outputs

    register_analyze_outputs()  # --report and --dashboard on `insole analyze`
    for name in _COMMAND_MODULES if command is None else (command,):
        try:
            module = importlib.import_module(f"insole._cli._{name}")
        except ModuleNotFoundError as error:
            if error.name == f"insole._cli._{name}":
                continue  # command not built yet
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in _COMMAND_MODULES else None
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_FAILURE
    try:
        try:
            return int(args.func(args) or EXIT_OK)
        except ModuleNotFoundError as error:
            extra = _missing_extra(error, args)
            if extra is None:
                raise
            raise extra from error
    except MissingExtraError as error:
        print(f"insole {args.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (UsageError, InputError) as error:
        print(f"insole {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DeviceError as error:
        print(f"insole {args.command}: device error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except InsoleError as error:
        print(f"insole {args.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"insole {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (e.g. `insole info --json | head`): not our error.
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

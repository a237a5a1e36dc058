"""The ``insole`` command line: the one place that wires every part together.

Each sub-command lives in its own module ``insole/_cli/_<name>.py`` that defines
``add_parser(subparsers)``; the parser it adds sets ``func(args) -> int`` as its
default. This module only collects them, runs the chosen one, and turns the
project's own errors into one line and an exit code.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
from collections.abc import Sequence

from insole._errors import DeviceError, InputError, InsoleError, MissingExtraError, RecordingError, missing_extra

# Order is the order shown by ``insole --help``; each command's one-line help, as its module gives it
# to its parser (``insole --help`` lists them without importing any command: tests/test_cli_info.py
# checks that the two agree).
COMMAND_HELP = {
    "simulate": "simulate two-foot walking with a known answer (gait patterns, standing, turns)",
    "emulate": "run emulated left and right insoles that any bleak program can connect to",
    "scan": "list the insoles advertising nearby: name, side, address, signal, battery",
    "record": "record both insoles live over Bluetooth (or emulated ones) into a file",
    "recover": "turn a capture stream cut by a crash into a Parquet recording",
    "info": "what is in a recording: duration, rate, layout, gaps, valid fraction, metadata",
    "convert": "convert any supported file to our Parquet format or to CSV",
    "analyze": "gait events, stride/step tables, foot loading, symmetry and data quality of a recording",
    "report": "evidence-graded foot-loading report: findings, reference ranges, kinetic chain (HTML, JSON, PDF)",
    "dashboard": "interactive offline dashboard of a session (one self-contained HTML file)",
    "live": "record with a live dashboard in the browser (pressure maps, load curves, steps, balance, link)",
    "test": "run a guided clinic test: 10-metre walk, 6-minute walk, Timed Up and Go, standing balance",
    "batch": "analyse every recording under folders/globs into one cohort table (local processes or Dask)",
    "cohort": "compare groups of a batch's recordings: distributions, effect sizes with CIs, findings per group",
    "export": "write a recording as BIDS-motion, C3D analogs, or result tables (CSV + Parquet)",
    "clinic": "the clinic app: patients, visits, live tests, reports and progress in one local web app",
}
_COMMAND_MODULES = tuple(COMMAND_HELP)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


# plotly is in several extras: a command that finds it missing names its own
_PLOTLY_EXTRA = {"report": "report", "dashboard": "dashboards", "live": "dashboards", "batch": "batch",
                 "cohort": "batch", "clinic": "dashboards"}


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


class _Version(argparse.Action):
    """``--version``: the installed version, read (importlib.metadata) only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from insole._version import __version__

        print(f"insole {__version__}")  # on standard output, as argparse's own version action does
        parser.exit()


def build_parser(command: str | None = None, *, listing: bool = False) -> argparse.ArgumentParser:
    """The ``insole`` parser with every command, or with ``command``'s alone.

    Each command module is imported to add its parser; ``insole COMMAND ...``
    needs only that one, and so does not pay for what the others import at
    parser-building time (the simulator's patterns, the importers' formats).
    ``listing``: every command by name and one-line help only, no module
    imported (what ``insole``, ``insole --help`` and ``insole --version`` need).
    """
    parser = argparse.ArgumentParser(
        prog="insole",
        description=(
            "Pressure-sensing insoles for clinicians and gait researchers: record both feet "
            "over Bluetooth, analyse gait and foot loading, report and explore the results."
        ),
        epilog="Run 'insole COMMAND --help' for the options and an example of each command.",
    )
    parser.add_argument("--version", action=_Version, help="show program's version number and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    if listing:
        for name, line in COMMAND_HELP.items():
            subparsers.add_parser(name, help=line, add_help=False)
        return parser
    if command in (None, "analyze"):
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


# Commands whose work is over when their function returns (every output written, closed and published; no
# thread, child process or server left): the installed program ends them without the interpreter's teardown
# of every module it imported (0.075 s of `insole analyze` on the 2-core test machine: pandas, pyarrow, numpy).
_ENDS_AT_ONCE = frozenset({"analyze", "info", "report", "dashboard"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` (default: this program's own arguments) and return its exit code.

    In the ``insole`` program itself (the installed command, ``python -m insole``), called without ``argv``, a
    command of ``_ENDS_AT_ONCE`` ends the process once its output is flushed (``_end_now``). Given ``argv``, or
    called from any other script (a profiler's, a test's), it always returns.
    """
    program = argv is None and _in_the_program()
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in _COMMAND_MODULES else None
    # no command named (``insole``, ``insole --help``, ``--version``, a typo): the listing alone
    parser = build_parser(command, listing=command is None)
    args = parser.parse_args(argv)
    code = _run(parser, args)
    if program and command in _ENDS_AT_ONCE and not _hands_over(args):
        _end_now(code)
    return code


def _in_the_program() -> bool:
    """Whether this process is the ``insole`` program: its installed command (a script named ``insole``) or
    ``python -m insole`` / ``python -m insole._cli``; not a script or a test that calls ``main`` itself."""
    started = sys.modules.get("__main__")
    spec = getattr(started, "__spec__", None)
    if spec is not None:
        return spec.name in ("insole.__main__", "insole._cli.__main__")
    name = os.path.basename(getattr(started, "__file__", None) or "")
    return os.path.splitext(name)[0] in ("insole", "insole-script")


def _hands_over(args: argparse.Namespace) -> bool:
    """Whether the command handed its result to another part (an output registered with ``analyze``, such as
    ``--report`` or ``--dashboard``, set ``args.hands_over``): what that part started (a browser printing the PDF,
    say) may need the interpreter's own exit."""
    return bool(getattr(args, "hands_over", False))


def _end_now(code: int) -> None:
    """End the process with ``code`` once standard output and error are flushed and the ``atexit`` functions
    have run, without the interpreter's teardown of every module (``os._exit``).

    The teardown frees each module's objects one by one, which nothing after these commands needs: their files
    are closed and published. What a normal exit does before it still happens: threads that are not daemons
    are waited for, and what was registered to run at exit runs (logging's flush, pyarrow's S3 finaliser, a
    caller's own hooks). A reader of standard output that went away is not our error (as in ``main``).
    """
    import threading  # (not at the top: `insole --help` imports nothing it does not use)

    # what the interpreter's own exit does first, in its order: wait for the threads that are not daemons (and
    # run threading's exit hooks: idle executor workers joined), then the atexit functions (CPython's own calls)
    for step in (getattr(threading, "_shutdown", None), getattr(atexit, "_run_exitfuncs", None)):
        if step is not None:
            step()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a closed pipe, or a stream closed already
            pass
        except OSError:
            code = code or EXIT_FAILURE  # e.g. a full disk under a redirected output: not a success
    os._exit(code)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """The command's exit code, the project's own errors turned into one line on standard error."""
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
        _complain(args.command, str(error))
        return EXIT_BAD_INPUT
    except (UsageError, InputError, RecordingError) as error:
        # a RecordingError here comes from what the user gave: an option's value (a 100,000-character
        # --subject) or a file's metadata
        _complain(args.command, f"error: {error}")
        return EXIT_BAD_INPUT
    except DeviceError as error:
        _complain(args.command, f"device error: {error}")
        return EXIT_FAILURE
    except InsoleError as error:
        _complain(args.command, f"error: {error}")
        return EXIT_FAILURE
    except MemoryError as error:
        # the machine's memory, not the user's input: exit 1 as for any other failure of a valid command (exit 2
        # says "fix what you typed or gave", which would not help here)
        _complain(args.command, f"error: {_memory_text(error, args)}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"insole {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (e.g. `insole info --json | head`): not our error.
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as error:
        # the last safety net: a file the operating system refused (permissions, a full disk, a name too
        # long, a folder where a file was expected) is the user's to fix, not a bug to show as a traceback.
        # Other exceptions are programming errors and keep their traceback.
        _complain(args.command, f"error: {_os_error_text(error)}")
        return EXIT_BAD_INPUT


# what a command was doing with its file when memory ran out, for "not enough memory to ANALYSE FILE"
_MEMORY_VERB = {"analyze": "analyse", "report": "analyse", "dashboard": "analyse", "info": "read",
                "convert": "convert", "export": "export", "recover": "recover"}


def _memory_text(error: MemoryError, args: argparse.Namespace) -> str:
    """``not enough memory to analyse FILE: what could not be allocated`` (numpy names the size it asked for)."""
    path = getattr(args, "path", None)
    verb = _MEMORY_VERB.get(args.command)
    what = f"not enough memory to {verb} {path}" if verb and path is not None else \
        f"not enough memory for 'insole {args.command}'"
    detail = str(error).strip()
    return f"{what}: {detail}" if detail else f"{what} (free some memory or use a machine with more)"


def _os_error_text(error: OSError) -> str:
    """``FILENAME: what went wrong`` (or just what went wrong when the error names no file)."""
    problem = error.strerror or str(error) or type(error).__name__
    names = [name for name in (error.filename, error.filename2) if name is not None]
    if not names:
        return problem
    named = " -> ".join(os.fsdecode(name) if isinstance(name, bytes) else str(name) for name in names)
    return f"{named}: {problem}"


def _complain(command: str, message: str) -> None:
    """One line on stderr: ``insole COMMAND: MESSAGE`` (control characters from file contents escaped)."""
    from insole._cli._outputs import printable

    print(f"insole {command}: {printable(message)}", file=sys.stderr)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The one error hierarchy of insole.

Every error the library raises on purpose is one of these::

    InsoleError                      anything insole raises on purpose
    ├── InputError                   a file we were given cannot be used (has .path)
    │   ├── UnknownFormatError       no importer recognises the content
    │   ├── MalformedFileError       recognised, but broken: truncated, wrong column
    │   │                            count, non-numeric field, not our Parquet, ...
    │   ├── MissingCompanionError    a file that needs a partner lacks it
    │   │                            (a WFDB .hea whose .let/.rit is missing)
    │   └── OutputError              a path we were told to write cannot be: it
    │                                exists (no --force), is one of the inputs,
    │                                or its folder is missing or read-only
    ├── RecordingError               a Recording (or layout) that would be inconsistent
    ├── DeviceError                  an insole could not be found, connected or spoken to
    ├── AnalysisError                the analysis was asked for something impossible
    │                                (e.g. an unknown parameter value)
    ├── ClinicError                  the clinic app's store refused a request: an unknown
    │                                id, a duplicate pseudonym, a value out of range
    └── MissingExtraError            an optional package is not installed (also an
                                     ImportError; has .extra, the pip extra to install)

    firmware_protocol.ProtocolError  bytes that are not a valid protocol message
                                     (lives with the codec, which imports nothing of
                                     ours; re-exported here as insole.ProtocolError)

Poor signal quality is *not* an error: gaps, dead sensors and low-confidence
events are data, reported in the results' quality fields.

The command line turns ``InputError`` into one line naming the file and the
problem, and exit code 2; it never shows a traceback for these. A
``MissingExtraError`` is one line too, naming the extra to install, and exit 2.
``printable`` and ``error_line`` make any text or error one printable line (the
errors above, the batch's errors table, what the command line prints).
"""

from __future__ import annotations

import importlib.util
import unicodedata
from pathlib import Path

from firmware_protocol import ProtocolError

__all__ = [
    "InsoleError",
    "InputError",
    "UnknownFormatError",
    "MalformedFileError",
    "MissingCompanionError",
    "OutputError",
    "RecordingError",
    "DeviceError",
    "AnalysisError",
    "ClinicError",
    "MissingExtraError",
    "ProtocolError",
]


def printable(text: object) -> str:
    """``text`` with every control character shown as an escape (``ESC`` -> ``\\x1b``, ``CR`` -> ``\\r``).

    For text that comes from a file (metadata, names, error details) on its
    way to a terminal or a table: an escape sequence in a subject id must not
    recolour, move the cursor or rewrite a line, and a carriage return must not
    hide what came before it. What Python counts as not printable is escaped:
    the C0 and C1 controls, DEL, and the invisible format characters (the
    bidirectional overrides that reorder what a terminal shows, the line and
    paragraph separators). Tabs and spaces (no-break ones too) are kept;
    newlines are escaped (one item, one line). Letters of any script are
    unchanged.
    """
    text = str(text)
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char == "\t" or char.isprintable() or unicodedata.category(char) == "Zs":
            out.append(char)
        elif char in "\n\r":
            out.append("\\n" if char == "\n" else "\\r")
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)


def error_line(error: BaseException) -> str:
    """An error as one printable line: the first non-empty line of its message (a library's may run to several:
    the rest is detail), or its type's name when it has none."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return printable(lines[0]) if lines else type(error).__name__


class InsoleError(Exception):
    """Base class of every error insole raises on purpose."""


class InputError(InsoleError):
    """A file we were given cannot be used.

    ``str(error)`` is one line: ``<path>: <problem>``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        # one printable line whatever a reader library put in it (pyarrow's message for a damaged page carried a
        # raw 0x0F byte of the file into the error and the batch's errors table)
        self.problem = printable(problem)
        super().__init__(f"{printable(self.path)}: {self.problem}")



class UnknownFormatError(InputError):
    """No importer recognises the content of the file."""


class MalformedFileError(InputError):
    """The format is recognised but the content is broken."""


class MissingCompanionError(InputError):
    """A file that needs a companion file (e.g. WFDB .hea -> .let/.rit) lacks it."""


class OutputError(InputError):
    """A path we were told to write cannot be written (see ``insole._output``).

    An ``InputError`` because the path is the user's input to the command: the
    command line reports it as one line and exit 2, like any bad input.
    """


class RecordingError(InsoleError):
    """A Recording or SensorLayout would be internally inconsistent."""


class DeviceError(InsoleError):
    """An insole could not be found, connected or understood."""


class AnalysisError(InsoleError):
    """The analysis was configured in a way that cannot work."""


class ClinicError(InsoleError):
    """The clinic app's store refused a request (unknown id, duplicate pseudonym, bad value); one line."""


# The pip extras of pyproject.toml and the importable packages each brings (plotly is in several:
# whoever needs it names the extra of its own command).
EXTRA_PACKAGES: dict[str, tuple[str, ...]] = {
    "ble": ("bleak",),
    "emulator": ("bumble", "dbus_fast"),
    "report": ("jinja2", "markupsafe", "plotly"),
    "plot": ("plotly",),
    "dashboards": ("aiohttp", "plotly"),
    "batch": ("dask", "distributed", "tqdm", "jinja2", "markupsafe", "plotly"),
    "c3d": ("ezc3d",),
}

# The extra to name when one of these packages turns out to be missing.
EXTRA_OF_PACKAGE: dict[str, str] = {
    "bleak": "ble",
    "bumble": "emulator",
    "dbus_fast": "emulator",
    "dask": "batch",
    "distributed": "batch",
    "tqdm": "batch",
    "ezc3d": "c3d",
    "aiohttp": "dashboards",
    "jinja2": "report",
    "markupsafe": "report",
    "plotly": "plot",
}


class MissingExtraError(InsoleError, ImportError):
    """An optional package is not installed.

    ``str(error)`` is one line: ``needs the [ble] extra: pip install 'insole[ble]'``;
    ``.extra`` is the extra, ``.package`` the missing package.
    """

    def __init__(self, extra: str, package: str) -> None:
        self.extra = extra
        self.package = package
        super().__init__(f"needs the [{extra}] extra: pip install 'insole[{extra}]'")


def require_extra(extra: str, *packages: str) -> None:
    """Raise ``MissingExtraError`` unless ``packages`` (default: all of ``extra``'s) are installed.

    Looks the packages up without importing them, so a command can check before it starts work.
    """
    for package in packages or EXTRA_PACKAGES[extra]:
        try:
            found = importlib.util.find_spec(package) is not None
        except ImportError:  # an import hook that refuses the package
            found = False
        if not found:
            raise MissingExtraError(extra, package)


def missing_extra(error: ModuleNotFoundError, extra: str | None = None) -> MissingExtraError | None:
    """The ``MissingExtraError`` for ``error`` when the missing module is an optional package, else None.

    ``extra`` overrides the package's own extra (plotly, say, is named by the command that needs it).
    """
    package = (error.name or "").partition(".")[0]
    if package not in EXTRA_OF_PACKAGE:
        return None
    return MissingExtraError(extra or EXTRA_OF_PACKAGE[package], package)

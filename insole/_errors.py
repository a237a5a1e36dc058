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
"""

from __future__ import annotations

import importlib.util
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


class InsoleError(Exception):
    """Base class of every error insole raises on purpose."""


class InputError(InsoleError):
    """A file we were given cannot be used.

    ``str(error)`` is one line: ``<path>: <problem>``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = _one_line(problem)
        super().__init__(f"{self.path}: {self.problem}")


def _one_line(text: str) -> str:
    """``text`` as one printable line: a reader library's message can carry a line break or a raw byte of the
    file (pyarrow's did: 0x0F), which would break the one-line error and the errors table it lands in. Breaks and
    tabs become spaces, other unprintable characters their escape (\\x0f)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else " " if ch in "\n\r\t" else f"\\x{ord(ch):02x}" for ch in text)


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

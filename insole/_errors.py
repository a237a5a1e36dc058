"""The one error hierarchy of insole.

Every error the library raises on purpose is one of these::

    InsoleError                      anything insole raises on purpose
    ├── InputError                   a file we were given cannot be used (has .path)
    │   ├── UnknownFormatError       no importer recognises the content
    │   ├── MalformedFileError       recognised, but broken: truncated, wrong column
    │   │                            count, non-numeric field, not our Parquet, ...
    │   └── MissingCompanionError    a file that needs a partner lacks it
    │                                (a WFDB .hea whose .let/.rit is missing)
    ├── RecordingError               a Recording (or layout) that would be inconsistent
    ├── DeviceError                  an insole could not be found, connected or spoken to
    └── AnalysisError                the analysis was asked for something impossible
                                     (e.g. an unknown parameter value)

    firmware_protocol.ProtocolError  bytes that are not a valid protocol message
                                     (lives with the codec, which imports nothing of
                                     ours; re-exported here as insole.ProtocolError)

Poor signal quality is *not* an error: gaps, dead sensors and low-confidence
events are data, reported in the results' quality fields.

The command line turns ``InputError`` into one line naming the file and the
problem, and exit code 2; it never shows a traceback for these.
"""

from __future__ import annotations

from pathlib import Path

from firmware_protocol import ProtocolError

__all__ = [
    "InsoleError",
    "InputError",
    "UnknownFormatError",
    "MalformedFileError",
    "MissingCompanionError",
    "RecordingError",
    "DeviceError",
    "AnalysisError",
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
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class UnknownFormatError(InputError):
    """No importer recognises the content of the file."""


class MalformedFileError(InputError):
    """The format is recognised but the content is broken."""


class MissingCompanionError(InputError):
    """A file that needs a companion file (e.g. WFDB .hea -> .let/.rit) lacks it."""


class RecordingError(InsoleError):
    """A Recording or SensorLayout would be internally inconsistent."""


class DeviceError(InsoleError):
    """An insole could not be found, connected or understood."""


class AnalysisError(InsoleError):
    """The analysis was configured in a way that cannot work."""

"""insole: pressure-sensing shoe insoles for clinicians and gait researchers.

The public surface, kept small on purpose::

    load(path) -> Recording          open any supported file (ours or an import)
    analyze(recording, AnalysisParams()) -> Analysis
                                     gait events, stride tables, loads, symmetry, quality
    simulate(SimulationParams(...)) -> Recording
                                     walking with a known answer (stored with it)
    Recording, FootSamples, RecordingMeta, SensorLayout, get_layout
    write_parquet(recording, path)   save in our format (docs/recording-format.md)

Everything else lives in private modules and may change.
"""

from insole._errors import (
    AnalysisError,
    DeviceError,
    InputError,
    InsoleError,
    MalformedFileError,
    MissingCompanionError,
    ProtocolError,
    RecordingError,
    UnknownFormatError,
)
from insole._format import RecordingStreamWriter, read_parquet, recover, write_parquet
from insole._io import formats, load
from insole._layout import SensorLayout, builtin_layouts, get_layout
from insole._recording import FootSamples, Mark, Recording, RecordingMeta, ReferenceEvents
from insole._version import __version__

# The processing entry points pull in scipy; they load on first use so that
# `import insole` and every `insole` command start quickly.
_LAZY = {
    "analyze": "insole._analysis",
    "AnalysisParams": "insole._analysis",
    "Analysis": "insole._analysis",
    "simulate": "insole._simulate",
    "SimulationParams": "insole._simulate",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'insole' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    # data model
    "Recording",
    "FootSamples",
    "RecordingMeta",
    "ReferenceEvents",
    "Mark",
    "SensorLayout",
    "get_layout",
    "builtin_layouts",
    # processing
    "analyze",
    "AnalysisParams",
    "Analysis",
    "simulate",
    "SimulationParams",
    # files
    "load",
    "formats",
    "write_parquet",
    "read_parquet",
    "RecordingStreamWriter",
    "recover",
    # errors
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

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

from insole._analysis import Analysis, AnalysisParams, analyze
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
from insole._simulate import SimulationParams, simulate
from insole._recording import FootSamples, Mark, Recording, RecordingMeta, ReferenceEvents
from insole._version import __version__

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

"""insole: pressure-sensing shoe insoles for clinicians and gait researchers.

The everyday names are here::

    load(path) -> Recording          open any supported file (ours or an import)
    analyze(recording, AnalysisParams()) -> Analysis
                                     gait events, stride tables, loads, symmetry, quality
    Recording, FootSamples, RecordingMeta, SensorLayout, get_layout
    write_parquet(recording, path)   save in our format (docs/recording-format.md)

and each part of the work is a public subpackage with its own curated surface
(``docs/library.md`` walks through them from a notebook)::

    insole.io          load, save, formats, importers, exports (CSV, BIDS, C3D, tables)
    insole.analysis    analyze, its parameters, stages and typed results
    insole.report      the evidence-graded clinical report
    insole.plot        figures from an Analysis (plotly)
    insole.simulate    walking with a known answer
    insole.capture     live BLE capture (extra [ble])
    insole.clinic      guided clinic tests
    insole.batch       whole studies (extra [batch] for Dask)

Modules whose names start with ``_`` are private and may change.
"""

from typing import TYPE_CHECKING

from insole._errors import (
    AnalysisError,
    ClinicError,
    DeviceError,
    InputError,
    InsoleError,
    MalformedFileError,
    MissingCompanionError,
    OutputError,
    ProtocolError,
    RecordingError,
    UnknownFormatError,
)
from insole._lazy import lazy_surface

if TYPE_CHECKING:
    from insole import analysis, batch, capture, clinic, io, plot, report, simulate
    from insole._layout import SensorLayout, builtin_layouts, get_layout
    from insole._recording import FootSamples, Mark, Recording, RecordingMeta, ReferenceEvents
    from insole._version import __version__
    from insole.analysis import Analysis, AnalysisParams, analyze
    from insole.io import RecordingStreamWriter, formats, load, read_parquet, recover, write_parquet
    from insole.simulate import SimulationParams

# Every name but the errors loads on first use, so that `import insole` and every `insole` command
# start quickly: the files (insole.io) pull in pyarrow, the processing entry points scipy and pandas,
# and even the version reads the installed metadata (importlib.metadata).
_LAZY = {
    "__version__": "_version",
    "SensorLayout": "_layout",
    "builtin_layouts": "_layout",
    "get_layout": "_layout",
    "FootSamples": "_recording",
    "Mark": "_recording",
    "Recording": "_recording",
    "RecordingMeta": "_recording",
    "ReferenceEvents": "_recording",
    "load": "insole.io",
    "formats": "insole.io",
    "write_parquet": "insole.io",
    "read_parquet": "insole.io",
    "RecordingStreamWriter": "insole.io",
    "recover": "insole.io",
    "analyze": "insole.analysis",
    "AnalysisParams": "insole.analysis",
    "Analysis": "insole.analysis",
    "SimulationParams": "insole.simulate",
}
# The subpackages also load on first use (``insole.plot`` pulls in plotly, ``insole.capture`` bleak).
_SUBPACKAGES = ("io", "analysis", "report", "plot", "simulate", "capture", "clinic", "batch")


__getattr__, __dir__ = lazy_surface(__name__, _LAZY, submodules=_SUBPACKAGES)


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
    "SimulationParams",
    # subpackages
    "io",
    "analysis",
    "report",
    "plot",
    "simulate",
    "capture",
    "clinic",
    "batch",
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
    "OutputError",
    "RecordingError",
    "DeviceError",
    "AnalysisError",
    "ProtocolError",
    "ClinicError",
]

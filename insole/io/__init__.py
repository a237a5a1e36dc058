"""Files in and out: open any supported recording, save ours, export research formats.

::

    import insole.io

    recording = insole.io.load("recordings/gaitpdb_GaCo01_01_60s.parquet")
    insole.io.write_parquet(recording, "copy.parquet")
    insole.io.write_csv(recording, "copy.csv")

``load`` recognises a file by its content (our Parquet and capture stream, and
every importer listed by ``formats()``). The exports (CSV, BIDS-motion, C3D,
result tables) load on first use: C3D needs the ``[c3d]`` extra (ezc3d).

Modules behind it (private): ``_load`` (detection, the importer protocol),
``_format`` (our Parquet and Arrow stream), ``_importers`` (other systems),
``_export`` (CSV, BIDS, C3D, tables).
"""

from __future__ import annotations

from insole._lazy import lazy_surface
from insole.io._format import (
    RecordingStreamWriter,
    default_parquet_path,
    read_parquet,
    read_stream,
    recover,
    sensor_columns,
    write_parquet,
)
from insole.io._load import Importer, detect_format, formats, load, provenance

__all__ = [
    # reading
    "load",
    "formats",
    "detect_format",
    "Importer",
    # our format
    "write_parquet",
    "read_parquet",
    "read_stream",
    "RecordingStreamWriter",
    "recover",
    "sensor_columns",
    "default_parquet_path",
    "load_with_mapping",
    "provenance",
    # exports (loaded on first use)
    "write_csv",
    "spreadsheet_safe",
    "write_bids",
    "read_bids",
    "BidsExportParams",
    "write_c3d",
    "read_c3d_analogs",
    "read_c3d_events",
    "c3d_events_note",
    "write_tables",
    "analysis_tables",
    "footprint_table",
]

# The exports pull in pandas (and ezc3d for C3D): load them when first asked for,
# so that `import insole` and the quick commands stay light.
_LAZY = {
    "write_csv": "insole.io._export._csv",
    "spreadsheet_safe": "insole.io._export._csv",
    "write_bids": "insole.io._export._bids",
    "read_bids": "insole.io._export._bids",
    "BidsExportParams": "insole.io._export._bids",
    "write_c3d": "insole.io._export._c3d",
    "read_c3d_analogs": "insole.io._export._c3d",
    "read_c3d_events": "insole.io._export._c3d",
    "c3d_events_note": "insole.io._export._c3d",
    "write_tables": "insole.io._export._tables",
    "analysis_tables": "insole.io._export._tables",
    "footprint_table": "insole.io._export._tables",
    "load_with_mapping": "insole.io._importers._generic_csv",
}


__getattr__, __dir__ = lazy_surface(__name__, _LAZY)

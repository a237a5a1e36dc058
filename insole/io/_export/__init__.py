"""Research formats out: BIDS-motion, C3D analogs, and result tables as CSV/Parquet.

Private package; the lead curates what becomes public. ``read_bids`` reads
our BIDS-motion export back (the round trip the tests check).
"""

from insole.io._export._bids import BidsExportParams, read_bids, write_bids
from insole.io._export._c3d import c3d_channels, read_c3d_analogs, write_c3d
from insole.io._export._tables import analysis_tables, footprint_table, write_tables

__all__ = [
    "BidsExportParams",
    "write_bids",
    "read_bids",
    "write_c3d",
    "read_c3d_analogs",
    "c3d_channels",
    "analysis_tables",
    "footprint_table",
    "write_tables",
]

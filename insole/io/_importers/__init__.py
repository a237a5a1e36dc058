"""Importers for other systems' files, detected by content.

Each module below defines one or more importer objects (see ``insole.io._load.Importer``:
``name``, ``description``, ``sniff(path, head)``, ``load(path)``) and lists them
in its module-level ``IMPORTERS`` tuple. Order matters only where two sniffers
could both match: the more specific format comes first.
"""

from __future__ import annotations

import importlib

_MODULES = (
    # PhysioNet and Moticon (issue "Foundation")
    "_wfdb_gaitndd",
    "_gaitpdb",
    "_moticon",
    # vendor exports (issue "Interoperability")
    "_pedar",
    "_fscan",
    "_xsensor",
    "_stappone",
    # last: the generic CSV/TSV with a column mapping accepts the most
    "_generic_csv",
)


def _collect() -> tuple:
    found = []
    for name in _MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"{__name__}.{name}":
                continue  # not written yet
            raise
        found.extend(module.IMPORTERS)
    return tuple(found)


IMPORTERS = _collect()

"""The subject tables that dataset importers read beside a recording: their names, in one place.

A PhysioNet gaitpdb text file has its subject's body mass, age, sex, height and walking speed only in the
database's ``demographics.txt`` beside it, and a gaitndd record only in ``subject-description.txt``. A copy of
the file without that table has none of them, and the analysis then scales BW metrics by the walk's own load.
The importers read these tables (insole/io/_importers); the analysis, ``insole analyze`` and ``insole batch``
name them to the user when they say where a body mass came from, or why there was none.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["SUBJECT_TABLES"]

# importer format name -> the subject table it reads from the recording's folder
SUBJECT_TABLES = MappingProxyType({"gaitpdb": "demographics.txt", "gaitndd": "subject-description.txt"})

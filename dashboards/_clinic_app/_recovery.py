"""Captures cut short by a stopped app: found at the next start and finished into their visit.

A test being captured has status "capturing" and its files in ``captures/``:
the recorder (``insole.capture``) writes ``<id>.arrows`` (an Arrow stream,
each batch handed to the operating system as it comes) with its JSON sidecar,
and turns it into ``<id>.parquet`` when the capture ends. If the app is
killed (SIGKILL, power cut) the row stays "capturing". At the next start
:func:`recover_interrupted` takes every such test that this store did not
begin itself and

* a finished ``<id>.parquet``: stores it (the app died between the
  recorder's end and the store's);
* only ``<id>.arrows``: ``insole.io.recover`` (the machinery behind
  ``insole recover``) writes the Parquet recording up to the last complete
  batch, then it is stored;
* nothing: the test is marked failed, "nothing was captured".

Each is then analysed and reported as any finished capture (``finish_capture``), and its summary starts with
"recovered after the app stopped during the capture". An import that was cut short (the app died while
analysing an uploaded file) has no capture to recover: it is marked failed, "import interrupted; import the
file again". Nothing else in the clinic is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dashboards._clinic_app._model import TestRun

if TYPE_CHECKING:
    from dashboards._clinic_app._store import ClinicStore

__all__ = ["recover_interrupted", "RECOVERED_NOTE"]

RECOVERED_NOTE = "recovered after the app stopped during the capture"


def recover_interrupted(store: ClinicStore) -> list[TestRun]:
    """Finish every capture left "capturing" by an app that stopped; return the tests as they now are."""
    out = []
    for test_id, source in store._interrupted():
        if source == "import":
            out.append(store._fail(test_id, "import interrupted (the app stopped while reading the file); "
                                            "import the file again"))
            continue
        out.append(store.finish_capture(test_id, note=RECOVERED_NOTE))
    return out

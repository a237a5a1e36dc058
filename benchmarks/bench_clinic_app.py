"""Clinic app, the store's side: a generated clinic of 1,000 patients with 5 visits each.

    .venv/bin/python benchmarks/bench_clinic_app.py         # prints the markdown section
    .venv/bin/python benchmarks/run_all.py bench_clinic_app

The acceptance (issue 21) is on whole pages: the patient list, a search and a
timeline each render in at most 300 ms. This measures what the pages ask the
store for, in the calls the web app makes (``dashboards/_clinic_app/_server.py``):

* patient list: ``count_patients()`` + ``patients(limit=50)``;
* search: ``count_patients("DEMO-05")`` + ``patients("DEMO-05", limit=50)`` (a substring of pseudonyms and notes);
* timeline: ``patient`` + ``visits`` + ``timeline`` of one patient (5 visits, about 40 measures each);
* visit: ``visit`` + ``tests`` + ``measures`` of each test.

Each is timed cold (the first call on a store just opened, the database not
yet in SQLite's page cache) and warm (the median of 50 calls). The rendering
is measured by ``benchmarks/bench_clinic_pages.py`` (the web app's). Also the
generation itself (``make_demo_clinic``: one simulated walk analysed, the rest
generated in one transaction) and a backup and restore of the whole clinic.
The machine is shared: the load average is printed beside the figures.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dashboards import ClinicStore, make_demo_clinic

N_PATIENTS = 1000
VISITS = 5
WARM_RUNS = 50
TARGET_MS = 300.0  # the whole page render (acceptance); the store's share must be a small part of it


def _ms(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return 1000.0 * (time.perf_counter() - started)


def _queries(store: ClinicStore, patient_id: int, visit_id: int) -> dict[str, Callable[[], Any]]:
    def page_list() -> Any:
        return store.count_patients(), store.patients(limit=50)

    def page_search() -> Any:
        return store.count_patients("DEMO-05"), store.patients("DEMO-05", limit=50)

    def page_timeline() -> Any:
        return store.patient(patient_id), store.visits(patient_id), store.timeline(patient_id)

    def page_visit() -> Any:
        tests = store.tests(visit_id)
        return store.visit(visit_id), [store.measures(t.id) for t in tests]

    return {"patient list": page_list, "search": page_search, "timeline": page_timeline, "visit": page_visit}


def run() -> str:
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-clinic-") as tmp:
        folder = Path(tmp) / "clinic"
        generate_s = _ms(lambda: make_demo_clinic(folder, N_PATIENTS, VISITS, seed=0)) / 1000.0
        db_mib = (folder / "clinic.sqlite3").stat().st_size / 2**20
        rows = []
        with ClinicStore.open(folder) as store:
            patient = store.patients("DEMO-0500")[0]
            visit = store.visits(patient.id)[-1]
            queries = _queries(store, patient.id, visit.id)
        for name in queries:
            with ClinicStore.open(folder) as store:  # a fresh connection: the first call is cold
                call = _queries(store, patient.id, visit.id)[name]
                cold = _ms(call)
                warm = statistics.median(_ms(call) for _ in range(WARM_RUNS))
            rows.append(f"| {name} | {cold:.1f} ms | {warm:.2f} ms | {TARGET_MS:.0f} ms for the whole page |")
        with ClinicStore.open(folder) as store:
            timeline = store.timeline(patient.id)
            archive = Path(tmp) / "backup.tar"
            backup_s = _ms(lambda: store.backup(archive)) / 1000.0
        restore_s = _ms(lambda: ClinicStore.restore(archive, Path(tmp) / "restored").close()) / 1000.0
        archive_mib = archive.stat().st_size / 2**20
    return "\n".join([
        "## Clinic app: the store's queries (1,000 patients x 5 visits)",
        "",
        f"A generated clinic (`make_demo_clinic`, {N_PATIENTS:,} patients x {VISITS} visits, one 10-metre walk "
        f"per visit with {len(timeline.rows)} key numbers each; database {db_mib:.1f} MiB), generated in "
        f"{generate_s:.1f} s. What each page asks the store for, cold (first call on a fresh connection) and "
        f"warm (median of {WARM_RUNS}); the pages' rendering is in the web app's benchmark. "
        f"Load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores.",
        "",
        "| page | cold | warm | target |",
        "|---|---|---|---|",
        *rows,
        "",
        f"Backup of the whole clinic: {backup_s:.2f} s ({archive_mib:.1f} MiB tar, every file's SHA-256 checked); "
        f"restore into an empty folder: {restore_s:.2f} s (every hash, the manifest and the database checked).",
    ])


if __name__ == "__main__":
    print(run())

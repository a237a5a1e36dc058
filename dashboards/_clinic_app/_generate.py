"""A generated clinic for demos and benchmarks: many patients, several visits each, a 10-metre walk per visit.

``make_demo_clinic(folder, n_patients=1000, visits_per_patient=5, seed=0)``
fills an empty clinic folder. One walk is real insole work: a simulated
10-metre walk (``insole.simulate.simulate_clinic_test``) imported into the
first patient's first visit, analysed and reported as any import. Every other
visit's test is *generated*: it points at that same recording and report (the
store is content-hashed, so they are stored once) and its key numbers are the
first walk's, moved by a per-patient drift and a per-visit scatter (seeded; a
visit with the orthosis on adds a small change). The generated values are
demo data, not analyses: each such patient's notes say so.

Everything generated is written in one transaction, so the 1,000 x 5 clinic
takes seconds (the benchmark's set-up, ``benchmarks/bench_clinic_app.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np

from dashboards._clinic_app._model import ClinicError
from dashboards._clinic_app._store import ClinicStore, _now

__all__ = ["make_demo_clinic", "GENERATED_NOTE"]

GENERATED_NOTE = "generated demo patient: the test values are generated, not measured"
_FIRST_DAY = dt.date(2025, 1, 6)
_VISIT_GAP_DAYS = 42


def make_demo_clinic(folder: Path | str, n_patients: int = 1000, visits_per_patient: int = 5,
                     seed: int = 0) -> Path:
    """Fill the empty clinic ``folder`` (created if absent) with generated patients; return the folder."""
    from insole.io import write_parquet
    from insole.simulate import simulate_clinic_test

    if n_patients < 1 or visits_per_patient < 1:
        raise ClinicError("a demo clinic needs at least one patient with one visit")
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    with ClinicStore.open(folder) as store:
        if store.count_patients(include_archived=True):
            raise ClinicError(f"{folder}: not an empty clinic; the demo fills a new one")
        first = store.add_patient("DEMO-0001", birth_year=1956, sex="female", height_m=1.64, mass_kg=68.0,
                                  notes="demo patient: the first visit's walk is simulated and analysed")
        visit = store.add_visit(first.id, visit_date=_FIRST_DAY, footwear="shoes", pain_scores={"knee": 4})
        walk = simulate_clinic_test("10mwt", seed=seed, body_mass_kg=68.0)
        with store._scratch() as work:
            path = work / "demo-10mwt.parquet"
            write_parquet(walk, path)
            template = store.import_recording(visit.id, path, test="10mwt")
        if template.status != "done":
            raise ClinicError(f"the demo walk could not be analysed: {template.reason}")
        measures = store.measures(template.id)
        names = [m.name for m in measures]
        base = np.array([m.value for m in measures])
        scale = np.maximum(np.abs(base), 1e-9)
        # signed measures (symmetry indices, offsets) move around zero: scatter them by their MDC or 2 points
        signed = np.array([m.unit == "%" and ("_si" in m.name or "cop" in m.name) for m in measures])
        spread = np.where(signed, [m.mdc95 or 2.0 for m in measures], 0.02 * scale)
        speed = names.index("gait_speed_m_s") if "gait_speed_m_s" in names else None
        timed = names.index("timed_s") if "timed_s" in names else None
        now = _now()
        with store._write() as db:
            for p in range(n_patients):
                patient_id = first.id
                if p > 0:
                    cursor = db.execute(
                        "INSERT INTO patients (pseudonym, birth_year, sex, height_m, mass_kg, notes, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (f"DEMO-{p + 1:04d}", int(rng.integers(1935, 2005)),
                         ("female", "male", "other")[int(rng.integers(0, 3))] if rng.random() > 0.05 else None,
                         round(float(rng.normal(1.70, 0.09)), 2), round(float(rng.normal(75.0, 12.0)), 1),
                         GENERATED_NOTE, now),
                    )
                    patient_id = int(cursor.lastrowid or 0)
                drift = rng.normal(0.0, 0.005, size=base.size)
                start = _FIRST_DAY + dt.timedelta(days=int(rng.integers(0, 300)))
                for v in range(visits_per_patient):
                    if p == 0 and v == 0:
                        continue  # the analysed walk
                    orthosis = "custom insole" if v % 2 == 1 else ""
                    day = start + dt.timedelta(days=_VISIT_GAP_DAYS * v + int(rng.integers(0, 7)))
                    visit_id = int(db.execute(
                        "INSERT INTO visits (patient_id, visit_date, footwear, orthosis, pain_scores, notes, "
                        "created_at) VALUES (?, ?, 'shoes', ?, ?, '', ?)",
                        (patient_id, day.isoformat(), orthosis,
                         json.dumps({"knee": int(rng.integers(0, 8))}), now),
                    ).lastrowid or 0)
                    test_id = int(db.execute(
                        "INSERT INTO tests (visit_id, test, source, status, recording_sha256, report_sha256, fmt, "
                        "layout, summary, started_at, finished_at) VALUES (?, '10mwt', 'emulated', 'done', ?, ?, "
                        "?, ?, ?, ?, ?)",
                        (visit_id, template.recording_sha256, template.report_sha256, template.fmt, template.layout,
                         "generated demo values (the report shown is the demo walk's)", now, now),
                    ).lastrowid or 0)
                    values = base + np.where(signed, 0.0, drift * scale * v) + rng.normal(0.0, 1.0, base.size) * spread
                    if orthosis:
                        values = values + np.where(signed, -0.5 * spread, 0.01 * scale)
                    if speed is not None and timed is not None:  # the timed distance at the generated speed
                        values[timed] = base[timed] * base[speed] / values[speed]
                    db.executemany(
                        "INSERT INTO measures (test_id, position, name, label, value, unit, reference, mdc95, "
                        "mdc_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(test_id, i, names[i], m.label, float(values[i]), m.unit, m.reference, m.mdc95,
                          m.mdc_source) for i, m in enumerate(measures) if math.isfinite(values[i])],
                    )
    return folder

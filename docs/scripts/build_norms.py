"""Build the report's age- and sex-banded cadence and walking-speed norms from the real healthy controls.

    python docs/scripts/build_norms.py [--data ../shared/data] [--out insole/report/_data/norms/cadence-speed.json]

Reads every real healthy control staged with the project (the same files as the per-layout reference sets:
gaitpdb + gaitpdb-cohort usual walks ``*Co*_01``, gaitndd + gaitndd-cohort ``control*``, without a walk another
staged recording repeats byte for byte: ``real_layout_selection``, named in the file's ``left_out``), analyses each with
``insole.analyze`` for its cadence, takes age, sex and walking speed from the file's own demographics (gaitpdb
``demographics.txt``, gaitndd ``subject-description.txt``: a 10-metre or hallway walking speed measured by the
study, not by the insoles), and writes the bands of ``insole.report._reference.build_norm_bands``: all controls,
each sex, and the age bands under 55, 55-64 and 65 and over, split by sex where both sexes have at least 8
people in the band. Each band stores n, ages, sexes, datasets with their citations and, per metric, mean, SD,
median, range and the 95 % prediction interval the report judges against.

No published table of cadence or speed by age and sex with its figures is in the evidence base
(shared/research/clinical-evidence.md); the one searched for (Bohannon & Williams Andrews 2011, a meta-analysis
of normal gait speed by decade and sex) showed only its extremes in the abstract, kept in the file as context.
Cadence is a timing measure (heel strikes per minute), comparable across the two datasets' insoles.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from insole import __version__
from insole.analysis import analyze
from insole.io import load
from insole.report._build import person_record
from insole.report._evidence import DATASET_CITATIONS
from insole.report._reference import (
    NORM_AGE_EDGES,
    NORM_METRICS,
    NORM_MIN_BAND_N,
    build_norm_bands,
    real_layout_files,
    real_layout_selection,
)

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "insole" / "report" / "_data" / "norms" / "cadence-speed.json"
LAYOUTS = ("gaitpdb8", "footswitch1")

# Searched for (tool "search", pages corpus): only the abstract's extremes were visible, not the banded table.
LITERATURE_CONTEXT = [{
    "source": "Bohannon RW, Williams Andrews A. Normal walking speed: a descriptive meta-analysis. Physiotherapy "
              "2011;97(3):182-189. doi:10.1016/j.physio.2010.12.004",
    "seen": "abstract only (PubMed 21820535)",
    "figures": "mean normal walking speed by sex and decade ranged from 1.434 m/s (men 40-49) to 0.943 m/s "
               "(women 80-99), 23111 people from 41 studies, 3-30 m courses",
    "used": "not used as a band (the banded table was not seen); not in the evidence base, so not cited on the page",
}]


def _default_data() -> Path:
    return Path(os.environ.get("INSOLE_SHARED_DATA") or REPO.parent / "shared" / "data")


def people(data_dir: Path) -> list[dict[str, object]]:
    """One row per real control: file, subject, dataset, SHA-256, age, sex, walking speed (file), cadence (analysed).

    The file, SHA-256 and subject let the report judge one of these people against the bands rebuilt without them
    (``insole.report._reference.norms_without_self``)."""
    rows = []
    for layout in LAYOUTS:
        for dataset, path in real_layout_files(data_dir, layout):
            recording = load(path)
            person = person_record(recording)
            cadence = analyze(recording).summary.cadence_steps_per_min
            rows.append({
                "dataset": dataset, "file": Path(path).name, "subject": recording.meta.subject_id,
                "layout": recording.layout.name,
                "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
                "age_years": person["age_years"], "sex": person["sex"],
                "gait_speed_m_per_s": person["gait_speed_m_per_s"],
                "cadence_steps_per_min": round(float(cadence), 4) if cadence is not None else None,
            })
    return rows


def left_out(data_dir: Path) -> list[dict[str, object]]:
    """The control recordings not among ``people``: another staged recording has their bytes (the reference sets'
    rule, ``insole.report._reference.without_staged_copies``), each with the reason."""
    return [entry for layout in LAYOUTS for entry in real_layout_selection(data_dir, layout)[1]]


def document(rows: list[dict[str, object]], command: str,
             not_counted: list[dict[str, object]] | None = None) -> dict[str, object]:
    bands = build_norm_bands(rows)
    datasets = sorted({str(r["dataset"]) for r in rows})
    return {
        "schema_version": 1,
        "built": {"at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "command": command,
                  "insole_version": __version__},
        "what": "age- and sex-banded norms of cadence (analysed by insole) and walking speed (from the files) "
                "of real healthy controls walking at their usual pace",
        "method": (f"bands: all controls, each sex, ages under {NORM_AGE_EDGES[0]}, "
                   f"{NORM_AGE_EDGES[0]}-{NORM_AGE_EDGES[1] - 1} and {NORM_AGE_EDGES[1]} and over, split by sex "
                   f"where both sexes have at least {NORM_MIN_BAND_N} people (otherwise pooled, said in the band's "
                   f"note); limits = 95% prediction interval, mean +/- t(0.975, n-1) x SD x sqrt(1 + 1/n)"),
        "metrics": list(NORM_METRICS),
        "sources": {d: DATASET_CITATIONS["gaitpdb" if d.startswith("gaitpdb") else "gaitndd"] for d in datasets},
        "literature_context": LITERATURE_CONTEXT,
        "bands": [b.to_dict() for b in bands],
        "people": rows,
        **({"left_out": not_counted} if not_counted else {}),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="build the report's cadence and walking-speed norms")
    parser.add_argument("--data", type=Path, default=_default_data(), help="the staged datasets")
    parser.add_argument("--out", type=Path, default=OUT, help="the JSON file to write")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"no staged data at {args.data} (set INSOLE_SHARED_DATA or pass --data)")
    rows = people(args.data)
    not_counted = left_out(args.data)
    doc = document(rows, "python docs/scripts/build_norms.py", not_counted)
    bands: list[dict[str, Any]] = doc["bands"]  # type: ignore[assignment]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(rows)} people")
    for entry in not_counted:
        print(f"  left out {entry['dataset']}/{entry['file']}: {entry['reason']}")
    for band in bands:
        print(f"  {band['key']:<22} n={band['n']:<3} ages {band['ages'][0]:.0f}-{band['ages'][1]:.0f} "
              f"{band['women']}f/{band['men']}m  {band['note']}")


if __name__ == "__main__":
    main()

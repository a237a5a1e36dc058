"""PhysioNet gaitpdb ("Gait in Parkinson's Disease") text files.

Tab-separated, no header, 19 columns: time (s), 8 left and 8 right sensor
forces (N, Infotronic insoles), total left and right force (N); 100 Hz.
The file's own time column is kept (it is not an exact multiple of 0.01 s),
and the file's per-foot totals are kept as channel ``vendor_total_force_n``
so they can be checked against the sum of the sensors.

The file name ``<study><group><subject>_<walk>.txt`` gives the study (Ga, Ju,
Si), the group (Co control, Pt Parkinson's disease) and the walk; the
``demographics.txt`` of the database, when it lies beside the file, adds age,
sex, height, body mass, disease severity and gait speed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from insole._errors import MalformedFileError
from insole._layout import get_layout
from insole._recording import FootSamples, Recording, RecordingMeta
from insole._subject_tables import SUBJECT_TABLES
from insole.io._importers._companions import in_folder
from insole.io._importers._table import (
    head_lines,
    importer_software,
    is_number,
    parse_numeric,
    provenance,
    read_text,
    split_rows,
)

__all__ = ["IMPORTERS", "GaitpdbImporter"]

N_COLUMNS = 19
SAMPLE_RATE_HZ = 100.0
_NAME = re.compile(r"^(?P<study>Ga|Ju|Si)(?P<group>Co|Pt)(?P<subject>\d+)_(?P<walk>\d+)$", re.IGNORECASE)
_STUDIES = {
    "Ga": "Yogev G et al. Dual tasking, gait rhythmicity, and Parkinson's disease. Eur J Neurosci 22:1248-1256, 2005",
    "Ju": "Hausdorff JM et al. Rhythmic auditory stimulation modulates gait variability in Parkinson's disease. "
    "Eur J Neurosci 26:2369-2375, 2007",
    "Si": "Frenkel-Toledo S et al. Treadmill walking as an external pacemaker to improve gait rhythm and "
    "stability in Parkinson's disease. Mov Disord 20(9):1109-1114, 2005",
}
_GROUPS = {"Co": "control", "Pt": "parkinsons"}
DATASET = "PhysioNet gaitpdb 1.0.0 (Gait in Parkinson's Disease), https://physionet.org/content/gaitpdb/1.0.0/"
LICENCE = "ODC-By 1.0"


def _walk_condition(walk: str, study: str) -> str:
    if walk == "01":
        return "usual walk"
    if walk == "10" and study == "Ga":
        return "dual-task walk (serial-7 subtraction)"
    return f"walk {walk}"


@dataclass(frozen=True)
class GaitpdbImporter:
    name: str = "gaitpdb"
    description: str = "PhysioNet gaitpdb text (19 tab-separated columns, 8 force sensors per foot, 100 Hz)"

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = head_lines(head)
        first = lines[0].split("\t") if lines else []
        return len(first) == N_COLUMNS and all(is_number(f) for f in first)

    def load(self, path: Path) -> Recording:
        path = Path(path)
        try:
            text = read_text(path, encoding="ascii")
            ended_with_newline = text.endswith("\n")
            lines = text.split("\n")
            if ended_with_newline:
                lines = lines[:-1]
            table = split_rows(path, lines, 1, "\t", N_COLUMNS, ended_with_newline=ended_with_newline)
            values, _ = parse_numeric(path, table, list(range(N_COLUMNS)), allow_empty=False)
        except MalformedFileError:
            _refuse_another_format(path)  # a file of another format (forced with --format gaitpdb) is named so
            raise
        time_s = values[:, 0]
        if np.any(np.diff(time_s) <= 0):
            row = int(np.flatnonzero(np.diff(time_s) <= 0)[0]) + 1
            raise MalformedFileError(path, f"line {row + 1}: time {time_s[row]:g} s does not increase")
        valid = np.ones(table.n_rows, dtype=bool)  # the format has no missing-sample marker
        left = FootSamples(
            time_s=time_s, values=values[:, 1:9], valid=valid, channels={"vendor_total_force_n": values[:, 17]}
        )
        right = FootSamples(
            time_s=time_s, values=values[:, 9:17], valid=valid, channels={"vendor_total_force_n": values[:, 18]}
        )
        return Recording(
            layout=get_layout("gaitpdb8"),
            unit="N",
            sample_rate_hz=SAMPLE_RATE_HZ,
            left=left,
            right=right,
            meta=_meta(path),
        )


def _refuse_another_format(path: Path) -> None:
    """Refuse as "not a gaitpdb file" a file whose complete first line is not a gaitpdb row.

    Called once the file has been refused, so that a file of another format, forced with ``--format gaitpdb``,
    is not blamed for a fault it has only by gaitpdb's rules (a pedar export, whose rows end in a tab, looked
    "truncated"). A first line with the 19 fields and a time is a gaitpdb row: the reader's own message stands,
    as it does for a one-line file (its only line may be a row cut short).
    """
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError:
        return  # the reader's own message stands
    text = head.decode("ascii", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    if "\n" not in text:
        return
    first = text.split("\n", 1)[0]
    fields = first.split("\t")
    if len(fields) == N_COLUMNS and is_number(fields[0]):
        return
    if not all(c == "\t" or (c.isprintable() and c.isascii()) for c in first):  # binary, or another encoding
        raise MalformedFileError(path, "not a gaitpdb file (line 1 is not plain ASCII text)") from None
    shown = first if len(first) <= 60 else first[:57] + "..."
    raise MalformedFileError(
        path, f"not a gaitpdb file (line 1, {shown!r}, is not {N_COLUMNS} tab-separated numbers)"
    ) from None


def _meta(path: Path) -> RecordingMeta:
    match = _NAME.match(path.stem)
    extra: dict[str, Any] = {"dataset": DATASET, "licence": LICENCE}
    subject_id = path.stem
    condition = None
    body_mass_kg = None
    if match:
        study = match["study"][0].upper() + match["study"][1].lower()
        group = match["group"][0].upper() + match["group"][1].lower()
        subject_id = f"{study}{group}{match['subject']}"
        condition = _walk_condition(match["walk"], study)
        extra.update(study=study, study_reference=_STUDIES[study], group=_GROUPS[group], walk=match["walk"])
        demographics = _demographics(
            path.parent / SUBJECT_TABLES["gaitpdb"], study, group, int(match["subject"]), match["walk"]
        )
        if demographics:
            body_mass_kg = demographics.pop("body_mass_kg", None)
            extra["demographics"] = demographics
    return RecordingMeta(
        subject_id=subject_id,
        body_mass_kg=body_mass_kg,
        condition=condition,
        software=importer_software("gaitpdb"),
        source=provenance(path, "gaitpdb"),
        extra=extra,
    )


def _number(text: str) -> float | None:
    text = text.strip()
    if not text or text.lower() == "nan":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _demographics(path: Path, study: str, group: str, subject: int, walk: str) -> dict[str, Any] | None:
    """The subject's row of gaitpdb's demographics.txt, with units made explicit; None if absent.

    Rows are matched on study, group code and subject number rather than the ID
    text, because one ID in the file is misspelled (``Juc010``).
    """
    if not in_folder(path.parent, path):  # absent, or a link leading out of the walk's folder
        return None
    try:
        lines = path.read_text(encoding="ascii", errors="replace").replace("\r", "").split("\n")
    except OSError:
        return None
    header = [h.strip() for h in lines[0].split("\t")]
    group_code = {"Pt": 1, "Co": 2}[group]
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) < len(header):
            cells += [""] * (len(header) - len(cells))
        row = dict(zip(header, cells))
        if not row.get("ID", "").strip():
            continue
        if (row.get("Study", "").strip() != study or _number(row.get("Group", "")) != group_code
                or _number(row.get("Subjnum", "")) != subject):
            continue
        height = _number(row.get("Height", ""))
        if height is not None and height > 3:  # Ju rows give centimetres, Ga/Si metres
            height = height / 100.0
        sex = {1: "male", 2: "female"}.get(int(_number(row.get("Gender", "")) or 0))
        facts = {
            "id": row["ID"].strip(),
            "sex": sex,
            "age_years": _number(row.get("Age", "")),
            "height_m": height,
            "body_mass_kg": _number(row.get("Weight", "")),
            "hoehn_yahr": _number(row.get("HoehnYahr", "")),
            "updrs": _number(row.get("UPDRS", "")),
            "updrs_motor": _number(row.get("UPDRSM", "")),
            "timed_up_and_go_s": _number(row.get("TUAG", "")),
            "gait_speed_m_per_s": _number(row.get(f"Speed_{walk}", "")),
            "source": f"{path.name} (PhysioNet gaitpdb)",
        }
        return facts
    return None


IMPORTERS = (GaitpdbImporter(),)

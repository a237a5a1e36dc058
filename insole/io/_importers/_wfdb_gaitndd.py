"""PhysioNet gaitndd ("Gait in Neurodegenerative Disease") WFDB records.

A record ``<name>`` is a WFDB header ``<name>.hea`` (text) naming one signal
file per foot, ``<name>.let`` and ``<name>.rit``, in WFDB format 212 (two
12-bit samples packed in three bytes), 300 Hz, from a force-sensitive
resistor in each shoe (uncalibrated: unit "au", proportional to force). The
raw value -2048 is WFDB's invalid-sample marker: that slot is kept, marked
invalid, with NaN. Time is sample index / rate, as WFDB defines it.

The lab's per-stride table ``<name>.ts`` (when it lies beside the record)
becomes the recording's ``ReferenceEvents``: column 1 is the time of a left
heel strike (it ends that row's left stride), so the left heel strikes are
exact; left toe-offs are that time minus the row's left swing. The table
gives no absolute time for the right foot (only its interval lengths), so
right-foot events are not invented: the whole table is kept in ``extra``.

Opening the ``.hea``, the ``.let`` or the ``.rit`` of a record gives the same
recording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from insole._errors import InputError, MalformedFileError, MissingCompanionError
from insole._layout import get_layout
from insole._recording import FootSamples, Recording, RecordingMeta, ReferenceEvents, regular_time_axis
from insole._subject_tables import SUBJECT_TABLES
from insole.io._format import check_input_file
from insole.io._importers._companions import beside, in_folder
from insole.io._importers._table import (
    file_sha256,
    importer_software,
    is_number,
    parse_numeric,
    provenance,
    read_text,
    split_rows,
)

__all__ = ["IMPORTERS", "GaitnddImporter", "decode_format_212", "read_header"]

INVALID_212 = -2048
WFDB_INVALID = -32768
DATASET = "PhysioNet gaitndd 1.0.0 (Gait in Neurodegenerative Disease), https://physionet.org/content/gaitndd/1.0.0/"
LICENCE = "ODC-By 1.0"
_GROUPS = {"control": "control", "park": "parkinsons", "hunt": "huntingtons", "als": "als"}
_RECORD_LINE = re.compile(
    r"^(?P<name>[^\s/]+)(/\d+)?\s+(?P<nsig>\d+)\s+(?P<fs>[\d.eE+-]+)(?:/[\d.]+)?(?:\([^)]*\))?\s+(?P<nsamp>\d+)"
)
_GAIN = re.compile(r"^(?P<gain>[\d.eE+-]+)(?:\((?P<baseline>-?\d+)\))?(?:/(?P<units>\S+))?$")
_SIDE_BY_SUFFIX = {".let": "left", ".rit": "right"}
# .ts columns (PhysioNet gaitndd page), with units in the names
TS_COLUMNS = (
    "elapsed_time_s",
    "left_stride_s",
    "right_stride_s",
    "left_swing_s",
    "right_swing_s",
    "left_swing_pct",
    "right_swing_pct",
    "left_stance_s",
    "right_stance_s",
    "left_stance_pct",
    "right_stance_pct",
    "double_support_s",
    "double_support_pct",
)


@dataclass(frozen=True)
class SignalSpec:
    """One signal line of a WFDB header."""

    file_name: str
    format: int
    gain: float  # ADC units per physical unit
    baseline: int
    units: str
    adc_resolution_bits: int
    adc_zero: int
    initial_value: int | None
    checksum: int | None
    description: str


@dataclass(frozen=True)
class Header:
    record: str
    sample_rate_hz: float
    n_samples: int
    signals: tuple[SignalSpec, ...]


def _is_int(text: str) -> bool:
    return re.fullmatch(r"[-+]?\d{1,18}", text) is not None


def read_header(path: Path) -> Header:
    """Parse a WFDB ``.hea`` (the subset gaitndd uses: one record, format 212 signal files)."""
    text = read_text(path, encoding="ascii")
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        raise MalformedFileError(path, "WFDB header has no record line")
    match = _RECORD_LINE.match(lines[0])
    if not match:
        raise MalformedFileError(path, f"WFDB header record line is not understood: {lines[0][:60]!r}")
    n_signals = int(match["nsig"])
    if not is_number(match["fs"]) or not float(match["fs"]) > 0:
        raise MalformedFileError(path, f"WFDB header gives sample rate {match['fs'][:20]!r} Hz")
    sample_rate_hz = float(match["fs"])
    if int(match["nsamp"]) == 0:
        raise MalformedFileError(path, "WFDB header announces no samples")
    if len(lines) - 1 < n_signals:
        raise MalformedFileError(path, f"WFDB header announces {n_signals} signals but describes {len(lines) - 1}")
    signals = []
    for number, line in enumerate(lines[1 : 1 + n_signals], start=2):
        fields = line.split(None, 8)
        if len(fields) < 3:
            raise MalformedFileError(path, f"WFDB signal line {number} is incomplete: {line[:60]!r}")
        fmt_text = re.split(r"[x:+]", fields[1])[0]
        gain_match = _GAIN.match(fields[2])
        if not fmt_text.isdigit() or not gain_match or not is_number(gain_match["gain"]):
            raise MalformedFileError(path, f"WFDB signal line {number} is not understood: {line[:60]!r}")
        gain = float(gain_match["gain"]) or 200.0  # WFDB: gain 0 means the default, 200
        adc_zero = int(fields[4]) if len(fields) > 4 and _is_int(fields[4]) else 0
        baseline = int(gain_match["baseline"]) if gain_match["baseline"] is not None else adc_zero
        signals.append(
            SignalSpec(
                file_name=fields[0],
                format=int(fmt_text),
                gain=gain,
                baseline=baseline,
                units=gain_match["units"] or "mV",
                adc_resolution_bits=int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else 12,
                adc_zero=adc_zero,
                initial_value=int(fields[5]) if len(fields) > 5 and _is_int(fields[5]) else None,
                checksum=int(fields[6]) if len(fields) > 6 and _is_int(fields[6]) else None,
                description=fields[8] if len(fields) > 8 else "",
            )
        )
    return Header(match["name"], sample_rate_hz, int(match["nsamp"]), tuple(signals))


def decode_format_212(data: bytes, n_samples: int) -> np.ndarray:
    """Unpack WFDB format 212 (one signal): every 3 bytes hold two 12-bit two's-complement samples.

    Byte 0 is the low 8 bits of the first sample, the low nibble of byte 1 its
    high 4 bits; the high nibble of byte 1 is the high 4 bits of the second
    sample, byte 2 its low 8 bits. Returns int16 of length ``n_samples``.
    """
    n_groups = (n_samples + 1) // 2
    raw = np.frombuffer(data, dtype=np.uint8, count=3 * n_groups).reshape(n_groups, 3).astype(np.int16)
    first = raw[:, 0] | ((raw[:, 1] & 0x0F) << 8)
    second = raw[:, 2] | ((raw[:, 1] & 0xF0) << 4)
    samples = np.column_stack([first, second]).reshape(-1)[:n_samples]
    samples = np.where(samples >= 2048, samples - 4096, samples).astype(np.int16)
    return samples


def _checksum(samples: np.ndarray) -> int:
    """WFDB's checksum: the sum of all samples as a 16-bit two's-complement number."""
    total = int(samples.astype(np.int64).sum()) & 0xFFFF
    return total - 0x10000 if total >= 0x8000 else total


def _side_of(spec: SignalSpec) -> str | None:
    description = spec.description.lower()
    if "left" in description:
        return "left"
    if "right" in description:
        return "right"
    return _SIDE_BY_SUFFIX.get(Path(spec.file_name).suffix.lower())


def companion_path(header_path: Path, name: str) -> Path:
    """The file ``name`` that a header names, which must lie in the header's own folder.

    A plain file name only: an absolute path, a folder part, ``..``, or a
    symbolic link that leads out of the folder is refused (a header must not
    make us read, and copy into our outputs, a file the user never gave us).
    """
    plain = bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name
    if not plain or Path(name).is_absolute():
        raise MalformedFileError(
            header_path, f"names the signal file {name!r:.80}, which is not a plain file name in its own folder "
            "(refused: a header may only name files beside it)"
        )
    candidate = header_path.parent / name
    try:
        inside = candidate.resolve().parent == header_path.parent.resolve()
    except (OSError, RuntimeError):  # a symbolic-link loop
        inside = False
    if not inside:
        raise MalformedFileError(
            header_path, f"its signal file {name!r:.80} is a link that leads out of the header's folder (refused)"
        )
    return candidate


def _read_signal(header_path: Path, header: Header, spec: SignalSpec) -> np.ndarray:
    signal_path = companion_path(header_path, spec.file_name)
    if not signal_path.exists():
        raise MissingCompanionError(
            header_path,
            f"the signal file {spec.file_name} ({_side_of(spec) or 'a'} foot) named by this WFDB header is missing",
        )
    size = check_input_file(signal_path).st_size
    if spec.format != 212:
        raise MalformedFileError(
            header_path, f"{spec.file_name}: WFDB format {spec.format} is not supported (gaitndd uses 212)"
        )
    needed = 3 * ((header.n_samples + 1) // 2)
    if size < needed:  # checked on the file's size, before anything of the announced size is allocated
        raise MalformedFileError(
            signal_path, f"holds {size * 2 // 3} samples but its header {header_path.name} announces "
            f"{header.n_samples}: truncated"
        )
    try:
        with signal_path.open("rb") as handle:
            data = handle.read(needed)
    except OSError as error:
        raise InputError(signal_path, f"cannot be read ({error.strerror or error})") from None
    if len(data) < needed:  # shrank since its size was read
        raise MalformedFileError(signal_path, "changed while being read: truncated")
    samples = decode_format_212(data, header.n_samples)
    # the header writes an invalid first sample as WFDB's 16-bit invalid value
    initial = (
        WFDB_INVALID if samples.size and samples[0] == INVALID_212 else (int(samples[0]) if samples.size else None)
    )
    if spec.initial_value is not None and initial is not None and initial != spec.initial_value:
        raise MalformedFileError(
            signal_path,
            f"first sample is {samples[0]}, the header says {spec.initial_value}: damaged or not this record's file",
        )
    if spec.checksum is not None and _checksum(samples) != spec.checksum:
        raise MalformedFileError(
            signal_path, f"checksum {_checksum(samples)} differs from the header's {spec.checksum}: the file is damaged"
        )
    return samples


def read_stride_table(path: Path) -> np.ndarray:
    """A gaitndd ``.ts`` file as a (n, 13) float64 array (columns ``TS_COLUMNS``)."""
    text = read_text(path, encoding="ascii")
    ended_with_newline = text.endswith("\n")
    lines = text.split("\n")
    if ended_with_newline:
        lines = lines[:-1]
    # some .ts files pad fields with spaces; tabs separate the columns
    table = split_rows(path, lines, 1, "\t", len(TS_COLUMNS), ended_with_newline=ended_with_newline)
    values, _ = parse_numeric(path, table, list(range(len(TS_COLUMNS))), list(TS_COLUMNS), allow_empty=False)
    return values


def _reference_events(ts_path: Path) -> ReferenceEvents:
    table = read_stride_table(ts_path)
    heel_strike_left = table[:, 0]
    toe_off_left = table[:, 0] - table[:, 3]
    return ReferenceEvents(
        source=f"PhysioNet gaitndd stride table {ts_path.name} (the original lab's method)",
        heel_strike_s={"left": tuple(float(t) for t in heel_strike_left)},
        toe_off_s={"left": tuple(float(t) for t in toe_off_left)},
        extra={
            "stride_table": {name: table[:, k].tolist() for k, name in enumerate(TS_COLUMNS)},
            "note": (
                "elapsed_time_s is the left heel strike that ends each row's left stride; left toe-off = "
                "elapsed_time_s - left_swing_s. The table gives right-foot interval lengths only, with no "
                "absolute right-foot times (each row's right stride ends at a right heel strike between the "
                "previous and this row's elapsed_time_s; even double_support_s = left_stance_s - "
                "right_swing_s, so it fixes no right-foot time), so right events are not listed. Strides "
                "are unfiltered (turns and outliers included)."
            ),
        },
    )


def _subject_facts(directory: Path, record: str) -> dict[str, Any] | None:
    path = directory / SUBJECT_TABLES["gaitndd"]
    if not in_folder(directory, path):  # absent, or a link leading out of the record's folder
        return None
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:  # an optional companion: without it the recording simply has no subject facts
        return None
    for line in text.replace("\r", "").split("\n"):
        cells = [c.strip() for c in line.split("\t")]
        if not cells or cells[0] != record or len(cells) < 8:
            continue

        def number(text: str) -> float | None:
            return float(text) if is_number(text) else None

        return {
            "group": cells[1],
            "age_years": number(cells[2]),
            "height_m": number(cells[3]),
            "body_mass_kg": number(cells[4]),
            "sex": {"m": "male", "f": "female"}.get(cells[5].lower()),
            "gait_speed_m_per_s": number(cells[6]),
            "duration_or_severity": number(cells[7]),
            "duration_or_severity_meaning": {
                "park": "Hoehn & Yahr stage",
                "hunt": "total functional capacity (lower = worse)",
                "subjects": "months since ALS diagnosis",
                "control": "0 for controls",
            }.get(cells[1], "see the dataset's description"),
            "source": f"{path.name} (PhysioNet gaitndd)",
        }
    return None


def _header_path(path: Path) -> Path:
    if path.suffix.lower() in _SIDE_BY_SUFFIX:
        return path.with_suffix(".hea")
    return path


@dataclass(frozen=True)
class GaitnddImporter:
    name: str = "gaitndd"
    description: str = (
        "PhysioNet gaitndd WFDB record (.hea with .let/.rit format 212, 300 Hz; the .ts stride table as reference)"
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.suffix.lower() in _SIDE_BY_SUFFIX:
            header = path.with_suffix(".hea")
            if not header.is_file():
                # binary samples say nothing about themselves; the name is the only hint, and
                # "its header is missing" helps more than "unknown format"
                return True
            try:
                head = header.read_bytes()[:4096]
            except OSError:
                return False
        try:
            text = head.decode("ascii")
        except UnicodeDecodeError:
            return False
        lines = [line.strip() for line in text.replace("\r", "").split("\n")]
        lines = [line for line in lines if line and not line.startswith("#")]
        if len(lines) < 2 or not _RECORD_LINE.match(lines[0]):
            return False
        fields = lines[1].split()
        return len(fields) >= 3 and fields[1].split("x")[0] == "212"

    def load(self, path: Path) -> Recording:
        path = Path(path)
        header_path = _header_path(path)
        if not header_path.is_file():
            raise MissingCompanionError(path, f"the WFDB header {header_path.name} of this signal file is missing")
        header = read_header(header_path)
        feet: dict[str, FootSamples] = {}
        gains: dict[str, Any] = {}
        for spec in header.signals:
            side = _side_of(spec)
            if side is None or side in feet:
                continue
            samples = _read_signal(header_path, header, spec)
            # after the signal file's size has vouched for the header's sample count
            time_s = regular_time_axis(header.n_samples, header.sample_rate_hz)
            valid = samples != INVALID_212
            values = np.where(valid, (samples.astype(np.float64) - spec.baseline) / spec.gain, np.nan)
            feet[side] = FootSamples(time_s=time_s, values=values[:, None], valid=valid)
            gains[side] = {
                "signal_file": spec.file_name,
                "adc_gain_per_unit": spec.gain,
                "adc_baseline": spec.baseline,
                "wfdb_units": spec.units,
                "adc_resolution_bits": spec.adc_resolution_bits,
                "description": spec.description,
            }
        if not feet:
            raise MalformedFileError(header_path, "WFDB header names no left-foot or right-foot signal")
        ts_path = header_path.with_suffix(".ts")
        reference = _reference_events(ts_path) if beside(header_path, ts_path) else None
        extra: dict[str, Any] = {"dataset": DATASET, "licence": LICENCE, "record": header.record, "signals": gains}
        group = re.sub(r"\d+$", "", header.record)
        if group in _GROUPS:
            extra["group"] = _GROUPS[group]
        subject = _subject_facts(header_path.parent, header.record)
        body_mass_kg = None
        if subject:
            body_mass_kg = subject.pop("body_mass_kg")
            extra["subject"] = subject
        source = provenance(header_path, "gaitndd")
        companions = [s.file_name for s in header.signals] + ([ts_path.name] if reference else [])
        source["companions"] = companions
        # the signals and the table are the data: the header's digest alone would not tell two recordings apart
        source["companions_sha256"] = {name: file_sha256(header_path.parent / name) for name in companions}
        meta = RecordingMeta(
            subject_id=header.record,
            body_mass_kg=body_mass_kg,
            condition="walking at self-selected pace (~5 min)",
            software=importer_software("gaitndd"),
            source=source,
            extra=extra,
        )
        return Recording(
            layout=get_layout("footswitch1"),
            unit="au",
            sample_rate_hz=header.sample_rate_hz,
            left=feet.get("left"),
            right=feet.get("right"),
            meta=meta,
            reference_events=reference,
        )


IMPORTERS = (GaitnddImporter(),)

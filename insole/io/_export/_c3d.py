"""C3D export: insole channels as ANALOG channels, written and read with ezc3d.

C3D is the gait lab's interchange format (Vicon, Qualisys, Visual3D,
OpenSim). It has one frame clock, so both feet share it: frame ``k`` holds
sample slot ``k`` of each foot (a shorter foot is padded with NaN and
``valid`` 0). The true times are kept as analog channels ``L_TIME``/``R_TIME``
(s) so irregular sampling survives. Per foot (prefix ``L_``/``R_``):

``TIME`` (s), ``VALID`` (1/0), one channel per sensor in the recording's unit
(``kPa``, ``N``, ``au``), ``ACC_X/Y/Z`` (g) and ``GYR_X/Y/Z`` (deg/s) when the
insole has an IMU, then the recording's extra channels. Analog rate = the
recording's nominal rate; there are no points (an empty point block, which
ezc3d needs spelled out). Point rate = analog rate, except that a recording of
more than 65535 samples (the header and POINT:FRAMES count frames in 16 bits)
puts 2, 3, ... analog samples in each frame, so every reader gets them all
(``INSOLE:ANALOG_PER_FRAME`` says how many; a last part-filled frame is padded
with TIME NaN, VALID 0). ANALOG:DESCRIPTIONS carry the full
channel name; a parameter group ``INSOLE`` names the writer, the input file and its
SHA-256, the layout and the unit (C3D parameters hold short strings only).

The gait events the analysis finds (``insole.analysis.analyze`` with its
default parameters) go into the EVENT group as Vicon/Nexus name them: "Foot
Strike" (heel strike) and "Foot Off" (toe off), context "Left"/"Right", time in
seconds from the first frame (frame 1 is time 0, as TRIAL:ACTUAL_START_FIELD 1
says). A parameter holds at most 255 entries, so EVENT holds the first 255
events (about a minute of walking); the rest continue in
``INSOLE:EVENT_CONTEXTS2``/``EVENT_LABELS2``/``EVENT_SECONDS2``, ... which
``read_c3d_events`` joins (Nexus and Visual3D see only EVENT). Time 0 is the
first sample's time on the recording axis, kept as ``INSOLE:EVENT_T0`` (and
``INSOLE:EVENTS`` says how the events were found, or why there are none).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from insole._errors import InputError, MalformedFileError, MissingExtraError
from insole._output import atomic_path, check_target
from insole._recording import Recording
from insole._version import __version__

__all__ = ["write_c3d", "read_c3d_analogs", "read_c3d_events", "c3d_channels", "c3d_events"]

_PREFIX = {"left": "L_", "right": "R_"}
_PER_PARAMETER = 255
_UNIT_TEXT = {"kPa": "kPa", "N": "N", "au": "au"}


def c3d_channels(recording: Recording) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """(labels, units, descriptions, data (n_channels, n_frames) float64) as ``write_c3d`` writes them."""
    n_frames = max(recording.samples(s).n_samples for s in recording.sides)
    labels: list[str] = []
    units: list[str] = []
    descriptions: list[str] = []
    columns: list[np.ndarray] = []

    def add(label: str, unit: str, description: str, values: np.ndarray) -> None:
        column = np.full(n_frames, np.nan)
        column[: values.shape[0]] = values
        labels.append(label)
        units.append(unit)
        descriptions.append(description)
        columns.append(column)

    for side in recording.sides:
        foot = recording.samples(side)
        p = _PREFIX[side]
        add(p + "TIME", "s", f"{side} sample time on the recording axis", foot.time_s)
        valid = np.zeros(n_frames)
        valid[: foot.n_samples] = foot.valid
        labels.append(p + "VALID")
        units.append("")
        descriptions.append(f"{side} 1 = valid sample, 0 = gap or padding")
        columns.append(valid)
        for j, name in enumerate(recording.layout.sensor_names):
            add(p + name.upper(), _UNIT_TEXT[recording.unit], f"{side} sensor {name} ({recording.layout.regions[j]})",
                foot.values[:, j])
        if foot.accel_g is not None:
            for k, axis in enumerate("XYZ"):
                add(f"{p}ACC_{axis}", "g", f"{side} insole acceleration {axis.lower()}", foot.accel_g[:, k])
        if foot.gyro_dps is not None:
            for k, axis in enumerate("XYZ"):
                add(f"{p}GYR_{axis}", "deg/s", f"{side} insole angular rate {axis.lower()}", foot.gyro_dps[:, k])
        for name in sorted(foot.channels):
            add(p + name.upper(), name.rsplit("_", 1)[-1] if "_" in name else "", f"{side} {name}", foot.channels[name])
    if len(set(labels)) != len(labels):
        raise MalformedFileError(Path(recording.layout.name), "C3D channel labels would not be unique")
    return labels, units, descriptions, np.vstack(columns)


# Vicon Nexus's names and icons for the two gait events of each foot
_EVENT_NAMES = {"heel_strike_s": ("Foot Strike", 1), "toe_off_s": ("Foot Off", 2)}


def c3d_events(recording: Recording) -> tuple[list[tuple[str, str, float]], str]:
    """((context, label, time on the recording axis in s) sorted by time, how they were found or why none).

    The events of ``insole.analysis.analyze(recording)`` (default parameters); a recording the analysis
    cannot read (too short, no steps) gets none, with the reason.
    """
    from insole._errors import AnalysisError
    from insole.analysis import analyze

    try:
        analysis = analyze(recording)
    except AnalysisError as error:
        return [], f"no gait events: {error}"[:255]
    events = []
    for side in analysis.sides:
        foot = analysis.events[side]
        for key, (label, _) in _EVENT_NAMES.items():
            for time_s in np.asarray(getattr(foot, key), float):
                if np.isfinite(time_s):
                    events.append((side.capitalize(), label, float(time_s)))
    method = str(analysis.provenance.get("event_method") or "the analysis's event detector")
    return sorted(events, key=lambda e: (e[2], e[0], e[1])), f"insole {__version__} gait events ({method})"[:255]


def _ezc3d() -> Any:
    try:
        import ezc3d
    except ModuleNotFoundError:
        raise MissingExtraError("c3d", "ezc3d") from None
    return ezc3d


def write_c3d(recording: Recording, path: str | Path, *, force: bool = False,
              inputs: Iterable[str | Path] = ()) -> Path:
    """Write the recording's channels as C3D analogs (float format); return the path.

    Needs the ``[c3d]`` extra (ezc3d). An existing ``path`` is an
    ``OutputError`` unless ``force``; one of ``inputs`` is refused even with
    it. The file appears whole or not at all (written beside, then renamed).
    """
    return _write_c3d(recording, path, force=force, inputs=inputs)[0]


def _write_c3d(recording: Recording, path: str | Path, *, force: bool = False,
               inputs: Iterable[str | Path] = ()) -> tuple[Path, int]:
    """``write_c3d``, and how many gait events it wrote (the EVENT group holds the first 255)."""
    ezc3d = _ezc3d()

    path = check_target(path, force=force, inputs=inputs)
    labels, units, descriptions, data = c3d_channels(recording)
    rate = float(recording.sample_rate_hz)
    per_frame, data = _frames(labels, data)
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [rate / per_frame]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = []
    c3d["parameters"]["ANALOG"]["RATE"]["value"] = [rate]
    # A C3D parameter dimension holds at most 255 entries; more channels continue in
    # LABELS2, LABELS3, ... (the convention Vicon and ezc3d follow), likewise UNITS and DESCRIPTIONS.
    for name, entries in (("LABELS", labels), ("UNITS", units), ("DESCRIPTIONS", descriptions)):
        for k, start in enumerate(range(0, max(len(entries), 1), _PER_PARAMETER)):
            chunk = entries[start:start + _PER_PARAMETER]
            if k == 0:
                c3d["parameters"]["ANALOG"][name]["value"] = chunk
            else:
                c3d.add_parameter("ANALOG", f"{name}{k + 1}", chunk)
            if name == "UNITS":
                # ezc3d 1.7.2 blanks ANALOG:UNITS/DESCRIPTIONS of the first 255 channels when there are
                # more than 255: the units are kept again in our own group, which it writes faithfully.
                c3d.add_parameter("INSOLE", "UNITS" if k == 0 else f"UNITS{k + 1}", chunk)
    c3d.add_parameter("INSOLE", "WRITER", [f"insole {__version__}"])
    source = recording.meta.source or {}
    # C3D parameters hold short strings only (255 bytes); the full description lives in our Parquet/BIDS exports.
    c3d.add_parameter("INSOLE", "SOURCE", [str(source.get("file", "n/a"))[:255]])
    c3d.add_parameter("INSOLE", "SHA256", [str(source.get("sha256", "n/a"))])
    c3d.add_parameter("INSOLE", "LAYOUT", [recording.layout.name[:255]])
    c3d.add_parameter("INSOLE", "UNIT", [recording.unit])
    c3d.add_parameter("INSOLE", "ANALOG_PER_FRAME", [float(per_frame)])
    gait_events, how = c3d_events(recording)
    t0_s = min(float(recording.samples(side).time_s[0]) for side in recording.sides)
    icons = dict(_EVENT_NAMES.values())
    # A parameter dimension is one byte: EVENT holds the first 255 events (what Nexus and Visual3D read);
    # the rest continue in INSOLE:EVENT_CONTEXTS2/EVENT_LABELS2/EVENT_SECONDS2, ... (read_c3d_events joins them)
    for context, label, time_s in gait_events[:_PER_PARAMETER]:
        since = time_s - t0_s
        minutes = int(since // 60)
        c3d.add_event([minutes, since - 60 * minutes], context=context, label=label,
                      description="heel strike" if icons[label] == 1 else "toe off", icon_id=icons[label])
    for k, start in enumerate(range(_PER_PARAMETER, len(gait_events), _PER_PARAMETER), start=2):
        part = gait_events[start:start + _PER_PARAMETER]
        c3d.add_parameter("INSOLE", f"EVENT_CONTEXTS{k}", [e[0] for e in part])
        c3d.add_parameter("INSOLE", f"EVENT_LABELS{k}", [e[1] for e in part])
        c3d.add_parameter("INSOLE", f"EVENT_SECONDS{k}", [e[2] - t0_s for e in part])
    if len(gait_events) > _PER_PARAMETER:
        how = f"{how[:150]}; EVENT holds the first {_PER_PARAMETER} of {len(gait_events)}, the rest INSOLE:EVENT_*2.."
    c3d.add_parameter("INSOLE", "EVENT_T0", [t0_s])
    c3d.add_parameter("INSOLE", "EVENTS", [how])
    # One analog sample per frame; an explicit empty point block (ezc3d divides by the point count otherwise).
    c3d["data"]["points"] = np.zeros((4, 0, data.shape[1] // per_frame))
    c3d["data"]["analogs"] = data[np.newaxis, :, :]
    with atomic_path(path, force=force) as temporary:
        # ezc3d appends ".c3d" to a name that does not end in it (the temporary ends in ".part")
        written = temporary.with_name(temporary.name + ".c3d")
        try:
            c3d.write(str(written))
            os.replace(written, temporary)
        finally:
            written.unlink(missing_ok=True)
    return path, len(gait_events)


def c3d_events_note(path: str | Path) -> str | None:
    """One line saying where the events beyond the EVENT group's first 255 are, for a file ``write_c3d`` wrote;
    None when the EVENT group holds every event (what ``insole export --to c3d`` prints)."""
    return _events_note(Path(path), len(read_c3d_events(path)))


def _events_note(path: Path, n_events: int) -> str | None:
    """One line for the CLI when the EVENT group could not hold every event, else None."""
    if n_events <= _PER_PARAMETER:
        return None
    return (f"{path}: the EVENT group (what Nexus and Visual3D read) holds the first {_PER_PARAMETER} of "
            f"{n_events} gait events; the other {n_events - _PER_PARAMETER} are in INSOLE:EVENT_CONTEXTS2/"
            "EVENT_LABELS2/EVENT_SECONDS2 and on (insole.io.read_c3d_events reads them all)")


# The header and POINT:FRAMES count frames in 16 bits: ezc3d 1.7.2 (and readers that trust either) stop at
# 65535 frames, whatever the file holds.
_MAX_FRAMES = 65535


def _frames(labels: list[str], data: np.ndarray) -> tuple[int, np.ndarray]:
    """(analog samples per C3D frame, data padded to a whole number of frames).

    A recording of more than 65535 samples puts 2, 3, ... analog samples in each frame (ANALOG:RATE a
    multiple of POINT:RATE, as a force plate beside cameras is stored), so every reader counts them all;
    the last frame is filled with padding (TIME NaN, VALID 0) like a shorter foot.
    """
    n_samples = data.shape[1]
    per_frame = max(1, -(-n_samples // _MAX_FRAMES))
    if n_samples % per_frame == 0:
        return per_frame, data
    padded = np.full((data.shape[0], n_samples + per_frame - n_samples % per_frame), np.nan)
    padded[:, :n_samples] = data
    for row, label in enumerate(labels):
        if label.endswith("_VALID"):
            padded[row, n_samples:] = 0.0
    return per_frame, padded


def read_c3d_analogs(path: str | Path) -> tuple[float, list[str], list[str], np.ndarray]:
    """(analog rate Hz, labels, units, data (n_channels, n_frames)) read back with ezc3d (the ``[c3d]`` extra)."""
    ezc3d = _ezc3d()

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    try:
        c3d = ezc3d.c3d(str(path))
    except Exception as error:  # ezc3d raises plain RuntimeError/IOError for any unreadable file
        raise MalformedFileError(path, f"is not a readable C3D file ({error})") from None
    analog = c3d["parameters"]["ANALOG"]
    rate = float(analog["RATE"]["value"][0])
    labels = _continued(analog, "LABELS")
    units = _continued(analog, "UNITS")
    ours = c3d["parameters"].get("INSOLE") if "INSOLE" in c3d["parameters"] else None
    if ours is not None and "UNITS" in ours:
        kept = _continued(ours, "UNITS")
        if len(kept) == len(units):
            units = [u or k for u, k in zip(units, kept)]
    data = np.asarray(c3d["data"]["analogs"])[0]
    return rate, labels, units, data


def read_c3d_events(path: str | Path) -> list[tuple[str, str, float]]:
    """(context, label, time on the recording axis in s) of each EVENT in a C3D file ``write_c3d`` wrote, by time.

    C3D stores event times in float32 seconds from the first frame; ``INSOLE:EVENT_T0`` puts them back on the
    recording's axis.
    """
    ezc3d = _ezc3d()
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    try:
        c3d = ezc3d.c3d(str(path))
    except Exception as error:  # ezc3d raises plain RuntimeError/IOError for any unreadable file
        raise MalformedFileError(path, f"is not a readable C3D file ({error})") from None
    parameters = c3d["parameters"]
    if "EVENT" not in parameters or int(np.asarray(parameters["EVENT"]["USED"]["value"]).ravel()[0]) == 0:
        return []
    group = parameters["EVENT"]
    times = np.asarray(group["TIMES"]["value"], float).reshape(2, -1)
    t0_s = float(np.asarray(parameters["INSOLE"]["EVENT_T0"]["value"]).ravel()[0]) if (
        "INSOLE" in parameters and "EVENT_T0" in parameters["INSOLE"]) else 0.0
    events = [(str(context), str(label), t0_s + 60.0 * float(minutes) + float(seconds))
              for context, label, minutes, seconds in zip(group["CONTEXTS"]["value"], group["LABELS"]["value"],
                                                          times[0], times[1])]
    ours = parameters["INSOLE"] if "INSOLE" in parameters else {}
    k = 2
    while f"EVENT_SECONDS{k}" in ours:
        seconds = np.asarray(ours[f"EVENT_SECONDS{k}"]["value"], float).ravel()
        events += [(str(c), str(lab), t0_s + float(t)) for c, lab, t in
                   zip(ours[f"EVENT_CONTEXTS{k}"]["value"], ours[f"EVENT_LABELS{k}"]["value"], seconds)]
        k += 1
    return sorted(events, key=lambda e: (e[2], e[0], e[1]))


def _continued(group, name: str) -> list[str]:
    values = list(group[name]["value"])
    k = 2
    while f"{name}{k}" in group:
        values += list(group[f"{name}{k}"]["value"])
        k += 1
    return values

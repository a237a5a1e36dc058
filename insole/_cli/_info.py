"""``insole info PATH``: what is in a recording file, for people and (``--json``) for machines.

The JSON form is documented in docs/info-json.md; its ``schema_version``
changes whenever a key is renamed or removed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insole._cli._arguments import FormatChoices, add_recording_command
from insole._cli._outputs import printable
from insole._version import __version__

if TYPE_CHECKING:  # the reader (numpy, pyarrow) is imported when the command runs, not for its --help
    from insole._cli._info_parquet import ParquetFacts
    from insole._recording import Recording

__all__ = ["add_parser", "describe", "INFO_SCHEMA", "INFO_SCHEMA_VERSION"]

INFO_SCHEMA = "insole-info"
INFO_SCHEMA_VERSION = 1
_GAPS_SHOWN = 10  # the text view lists the first few gaps; JSON lists them all


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_recording_command(
        subparsers,
        "info",
        help="what is in a recording: duration, rate, layout, gaps, valid fraction, metadata",
        description=(
            "Show what a recording file holds: duration, sample rate, sensor layout, unit, per-foot "
            "samples, gaps and valid fraction, metadata, capture quality and reference events. "
            "Reads our Parquet and capture streams and every importable format."
        ),
        example="insole info recordings/gaitndd_control1.parquet --json",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (schema: docs/info-json.md)")
    parser.add_argument("--format", choices=FormatChoices(), metavar="FORMAT",
                        help="force an input format instead of detecting it: %(choices)s")
    parser.add_argument(
        "--map", type=Path, metavar="MAPPING",
        help="column mapping (TOML or JSON) for a generic CSV/TSV file (docs/generic-csv.md)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    info = describe(args.path, args.format, mapping=args.map)
    if args.json:
        # one string, one write: json.dump to the stream wrote each of its ~55,000 pieces on its own (0.1 s for
        # an hour's Moticon export, whose step events are listed); JSON escapes control characters itself
        sys.stdout.write(json.dumps(info, indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(_as_text(info))
    return 0


def _finite(value: Any) -> Any:
    """JSON has no NaN: non-finite numbers become null, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def describe(path: Path, format: str | None = None, *, mapping: Path | None = None) -> dict[str, Any]:
    """The facts ``insole info`` shows, as a JSON-ready dict (schema ``insole-info`` v1)."""
    from insole.io import detect_format, load, read_stream

    path = Path(path)
    if mapping is not None:
        from insole.io import load_with_mapping

        format = "generic-csv"
    else:
        format = format or detect_format(path)
    stream = None
    if mapping is not None:
        recording = load_with_mapping(path, mapping)
    elif format == "stream":
        recording, stream_facts = read_stream(path)
        stream = {
            "batches": stream_facts["batches"],
            "rows": stream_facts["rows"],
            "ended_in_partial_batch": stream_facts["truncated"],
            "closed_cleanly": stream_facts["closed"],
        }
    else:
        recording = None
        if format == "parquet":
            from insole._cli._info_parquet import parquet_facts

            # our Parquet file: its footer and each foot's time and validity columns, not its sensor values
            # (an eight-hour recording whole was 964 MiB); None where only the whole reader can tell
            recording = parquet_facts(path)
        if recording is None:
            recording = load(path, format)
    info: dict[str, Any] = {
        "schema": INFO_SCHEMA,
        "schema_version": INFO_SCHEMA_VERSION,
        "insole_version": __version__,
        "file": str(path),
        "format": format,
        "duration_s": recording.duration_s,
        "sample_rate_hz": recording.sample_rate_hz,
        "unit": recording.unit,
        "layout": {
            "name": recording.layout.name,
            "sensors_per_foot": recording.layout.n_sensors,
            "sensor_names": list(recording.layout.sensor_names),
            "approximate": recording.layout.approximate,
            "shoe_size_eu": recording.layout.shoe_size_eu,
        },
        "sides": list(recording.sides),
        "feet": {side: _foot(recording, side) for side in recording.sides},
        "meta": _meta(recording.meta),
        "capture_quality": recording.meta.capture_quality,
        "reference_events": _events(recording),
        "marks": len(recording.marks),
        "stream": stream,
    }
    return _finite(info)


def _meta(meta: Any) -> dict[str, Any]:
    """``meta.to_dict()`` as ``_finite`` then makes it, without ``dataclasses.asdict``'s deep copy of every value
    (a simulated eight-hour recording keeps 11.7 MB of its simulation in ``meta.extra``: 3.9 s of copying, which
    ``_finite``'s own walk makes again). Its fields hold JSON values: text, numbers, and mappings and lists of them.
    """
    return {field.name: getattr(meta, field.name) for field in dataclasses.fields(meta)}


def _foot(recording: Recording | ParquetFacts, side: str) -> dict[str, Any]:
    foot = recording.samples(side)
    gaps = foot.gaps()
    return {
        "samples": foot.n_samples,
        "valid_samples": int(foot.valid.sum()),
        "invalid_samples": int((~foot.valid).sum()),
        "valid_fraction": foot.valid_fraction,
        "start_s": float(foot.time_s[0]) if foot.n_samples else None,
        "end_s": float(foot.time_s[-1]) if foot.n_samples else None,
        "gap_count": len(gaps),
        "gaps": [{"start_s": a, "end_s": b, "samples": n} for a, b, n in gaps],
        "imu": {"accelerometer": foot.accel_g is not None, "gyroscope": foot.gyro_dps is not None},
        "channels": sorted(foot.channels),
    }


def _events(recording: Recording | ParquetFacts) -> dict[str, Any] | None:
    events = recording.reference_events
    if events is None:
        return None
    return {
        "source": events.source,
        "heel_strikes": {side: len(times) for side, times in events.heel_strike_s.items()},
        "toe_offs": {side: len(times) for side, times in events.toe_off_s.items()},
        "extra_keys": sorted(events.extra),
    }


def _as_text(info: dict[str, Any]) -> str:
    layout = info["layout"]
    lines = [
        f"{info['file']}",
        f"  format        {info['format']}",
        f"  duration      {info['duration_s']:.2f} s",
        f"  sample rate   {info['sample_rate_hz']:g} Hz",
        f"  layout        {layout['name']} ({_n(layout['sensors_per_foot'], 'sensor')} per foot"
        f"{', approximate geometry' if layout['approximate'] else ''})",
        f"  unit          {info['unit']}",
    ]
    for side, foot in info["feet"].items():
        extras = []
        if foot["imu"]["accelerometer"] or foot["imu"]["gyroscope"]:
            extras.append("IMU")
        extras += foot["channels"]
        lines.append(
            f"  {side:<5} foot    {_n(foot['samples'], 'sample')}, {foot['valid_fraction'] * 100:.2f}% valid, "
            f"{foot['gap_count']} gap(s){'; ' + ', '.join(extras) if extras else ''}"
        )
        for gap in foot["gaps"][:_GAPS_SHOWN]:
            lines.append(f"      gap {gap['start_s']:.3f}-{gap['end_s']:.3f} s ({_n(gap['samples'], 'sample')})")
        if foot["gap_count"] > _GAPS_SHOWN:
            lines.append(f"      ... {foot['gap_count'] - _GAPS_SHOWN} more (see --json)")
    meta = info["meta"]
    for key in ("subject_id", "body_mass_kg", "shoe_size_eu", "condition", "notes", "recorded_at"):
        if meta.get(key) not in (None, ""):
            lines.append(f"  {key:<13} {meta[key]}")
    for side, device in (meta.get("devices") or {}).items():
        shown = ", ".join(f"{k} {v}" for k, v in device.items() if v not in (None, ""))
        lines.append(f"  {side + ' device':<13} {shown}")  # aligned with the keys above ("right device" too)
    software = meta.get("software") or {}
    if software:
        lines.append("  software      " + ", ".join(f"{k} {v}" for k, v in software.items()))
    source = meta.get("source") or {}
    if source.get("file"):
        lines.append(
            f"  source        {source['file']} ({source.get('format', '?')}, "
            f"sha256 {str(source.get('sha256', ''))[:12]}...)"
        )
    quality = info["capture_quality"]
    if quality and quality.get("schema") == "insole-capture-quality":
        from insole.capture import format_capture_quality  # the collector's own summary

        lines += ["  " + line for line in format_capture_quality(quality)]
    else:
        lines.append("  capture quality " + (json.dumps(quality) if quality else "none recorded (not a live capture)"))
    events = info["reference_events"]
    if events:
        counts = ", ".join(
            f"{side}: {events['heel_strikes'].get(side, 0)} heel strikes, {events['toe_offs'].get(side, 0)} toe-offs"
            for side in ("left", "right")
            if side in events["heel_strikes"] or side in events["toe_offs"]
        )
        lines.append(f"  reference events  {events['source']} ({counts})")
    else:
        lines.append("  reference events  none")
    if info["marks"]:
        lines.append(f"  marks         {info['marks']}")
    stream = info["stream"]
    if stream:
        state = (
            "ended in a partial batch (writer stopped mid-write)"
            if stream["ended_in_partial_batch"]
            else "complete batches"
        )
        lines.append(
            f"  capture stream  {stream['batches']} batches, {stream['rows']} rows, {state}; "
            f"run 'insole recover {info['file']}' to make the Parquet file"
        )
    # metadata, file names and device names come from the file: an escape sequence or a carriage return
    # in them must reach the terminal as text, never act on it (each line is escaped on its own)
    return "\n".join(printable(line) for line in lines) + "\n"


def _n(count: int, word: str) -> str:
    """``1 sample``, ``2 samples``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"

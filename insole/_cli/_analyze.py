"""``insole analyze PATH``: gait events and foot-loading metrics, as a readable summary, JSON and Parquet tables.

``--json`` writes the lean document (events, strides, summary, quality,
provenance: about 2 MB for an hour); ``--tables DIR`` the full per-stride,
per-step, per-contact, per-sensor and curve tables as Parquet files. Both are
documented and versioned in docs/analysis-json.md. Other outputs
(the clinical report, the dashboard) plug in through ``register_output``:
each adds one option to this command and receives the finished analysis.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import textwrap
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insole._cli._arguments import MASS_KG_HELP, FormatChoices, add_recording_command, check_body_mass_kg
from insole._cli._outputs import add_force_option, check_outputs, printable
from insole._errors import AnalysisError, InputError, require_extra
from insole._lazy import import_beside, quick_switching
from insole._subject_tables import SUBJECT_TABLES

if TYPE_CHECKING:  # the analysis pulls in scipy and pandas: imported when the command runs
    from insole._recording import Recording
    from insole.analysis import Analysis

__all__ = ["add_parser", "register_output", "ExtraOutput", "summary_text"]


@dataclass(frozen=True)
class ExtraOutput:
    """An extra output of ``insole analyze`` (e.g. ``--report OUT.html``).

    ``handler(analysis, recording, value, args)`` is called after the analysis
    with the option's value; it writes its output and returns a line to print
    (or None). ``extra``, the pip extra the handler needs, is checked before
    the analysis starts.
    """

    flag: str
    metavar: str
    help: str
    handler: Callable[[Analysis, Recording, Any, argparse.Namespace], str | None]
    kwargs: dict[str, Any] | None = None
    extra: str | None = None


_EXTRA_OUTPUTS: list[ExtraOutput] = []


def register_output(output: ExtraOutput) -> None:
    """Add an option to ``insole analyze`` (call before the parser is built)."""
    if any(existing.flag == output.flag for existing in _EXTRA_OUTPUTS):
        return
    _EXTRA_OUTPUTS.append(output)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_recording_command(
        subparsers,
        "analyze",
        help="gait events, stride/step tables, foot loading, symmetry and data quality of a recording",
        description=(
            "Analyse a recording: heel strikes and toe offs, stride and stance times, force curves "
            "(peaks, valley, loading rate, impulse), centre of pressure, regional loads, left/right "
            "symmetry and data quality. Prints a readable summary; --json writes the events, strides, "
            "summary, quality and provenance as JSON, --tables every per-stride, per-step, per-sensor and curve "
            "table as Parquet files (docs/analysis-json.md)."
        ),
        example="insole analyze recordings/gaitpdb_GaCo01_01_60s.parquet --json result.json --tables result-tables",
    )
    parser.add_argument("--json", metavar="OUT", help="write the analysis as JSON to OUT ('-' for standard output): "
                        "events, strides, summary, quality and provenance")
    parser.add_argument("--tables", metavar="DIR", help="write every table of the analysis (strides, steps, contacts, "
                        "curves, regions, sensors, summaries) as DIR/<name>.parquet, with DIR/tables.json")
    parser.add_argument("--mass-kg", type=float, metavar="M", help=MASS_KG_HELP)
    parser.add_argument("--format", choices=FormatChoices(), metavar="FORMAT",
                        help="force an input format instead of detecting it: %(choices)s")
    parser.add_argument("--map", type=Path, metavar="MAPPING",
                        help="column mapping (TOML or JSON) for a generic CSV/TSV file (docs/generic-csv.md); "
                             "never written over, even with --force")
    for output in _EXTRA_OUTPUTS:
        parser.add_argument(output.flag, metavar=output.metavar, help=output.help, **(output.kwargs or {}))
    add_force_option(parser, help="replace a --json, --tables, --report or --dashboard file that already exists "
                                  "(without it the command stops before any work); never the recording itself")
    parser.set_defaults(func=run)


# The tables --tables writes (insole.io.analysis_tables of an Analysis), checked before the analysis starts.
_TABLES = ("strides", "steps", "contacts", "curves", "regions", "sensors", "summary_per_foot", "summary_symmetry",
           "summary", "summary_body_weight", "summary_standing")


def detect_format(path: Path) -> str:
    """``insole.io.detect_format``, imported when first used (``insole.io`` imports pyarrow and numpy: not for
    ``insole analyze --help``)."""
    from insole.io import detect_format as detect

    return detect(path)


def load(path: Path, format: str | None = None) -> Recording:
    """``insole.io.load``, imported when first used (the command's own name for its whole-file reader)."""
    from insole.io import load as read

    return read(path, format)


def _dest(output: ExtraOutput) -> str:
    return output.flag.lstrip("-").replace("-", "_")


def _meanwhile(work: Callable[[], Any]) -> Callable[[], Any]:
    """``work()`` on a second thread, started now; the returned function waits for its result (or raises its error).

    For the file's SHA-256 while the analysis runs: hashing releases the interpreter lock, and the analysis
    keeps one core busy, so the digest costs no wall time (0.15 s for an hour's Parquet file, 1.2 s for 8 h).
    """
    found: dict[str, Any] = {}

    def target() -> None:
        try:
            found["value"] = work()
        except BaseException as error:  # noqa: BLE001 - raised again by the caller, in its own thread
            found["error"] = error

    thread = threading.Thread(target=target, name="insole-meanwhile", daemon=True)
    thread.start()

    def result() -> Any:
        thread.join()
        if "error" in found:
            raise found["error"]
        return found["value"]

    return result


def _check_outputs(args: argparse.Namespace, inputs: list[Any]) -> Any:
    """Every output this run will write, checked before any work ('-' is standard output); the tables folder.

    Two outputs may not lead to one place: the same file twice (``check_outputs``), a file and the tables
    folder (``--json o.json --tables o.json``), or a file inside the tables folder under one of its tables'
    names (``--json out/tables.json --tables out``).
    """
    from insole._errors import OutputError
    from insole._output import check_target

    outputs = [None if args.json == "-" else args.json]
    outputs += [getattr(args, _dest(output), None) for output in _EXTRA_OUTPUTS]
    files = check_outputs(outputs, force=args.force, inputs=inputs)
    tables_dir = getattr(args, "tables", None)
    if tables_dir is None:
        return None
    folder = check_target(tables_dir, folder=True, inputs=inputs)
    names = ("tables.json", *(f"{table}.parquet" for table in _TABLES))
    where = os.path.realpath(folder)
    for file in files:
        if os.path.realpath(file) == where or (
                file.name in names and os.path.realpath(file.parent if str(file.parent) else ".") == where):
            raise OutputError(file, "is named for two outputs of this command; give each its own file")
    for name in names if folder.is_dir() else ():
        check_target(folder / name, force=args.force, inputs=inputs)
    return tables_dir


def run(args: argparse.Namespace) -> int:
    inputs = [p for p in (args.path, args.map) if p is not None]  # never written over, even with --force
    tables_dir = _check_outputs(args, inputs)
    check_body_mass_kg(args.mass_kg)  # the option's fault, not the file's
    for output in _EXTRA_OUTPUTS:
        if output.extra and getattr(args, _dest(output), None) is not None:
            require_extra(output.extra)
    detected = None
    if args.format is None and args.map is None:
        detected = detect_format(args.path)  # a file of no known format is refused at once, before the imports below
    elif args.format == "parquet" and args.map is None:
        # forced as our Parquet: streamed only when it is one; any other file goes to load(path, "parquet") below,
        # which refuses it as `insole info --format parquet` does (the streamed analysis of a path would detect
        # the file's own format again and analyse it as that)
        try:
            detected = detect_format(args.path)
        except InputError:
            detected = None
    # without an output that reads the samples after the analysis (a report, a dashboard), our Parquet recording
    # is analysed as it is read, a stretch at a time (analyze of the path: memory flat in the recording's length)
    samples_read_after = any(getattr(args, _dest(output), None) is not None for output in _EXTRA_OUTPUTS)
    args.hands_over = samples_read_after  # those outputs keep the interpreter's own exit (insole._cli._hands_over)
    if detected == "parquet" and args.format in (None, "parquet") and args.map is None and not samples_read_after:
        return _finish(args, tables_dir, inputs, *_analyze_streamed(args))
    # the reader's own needs first, then the analysis' imports beside the reading
    import pyarrow.compute  # noqa: F401

    # the stages' modules (pandas under them), by public names whose homes they are
    importing = import_beside("insole.analysis", ("analyze", "write_json", "stride_timing", "stance_features",
                                                  "summarise"))
    # the reader takes the interpreter lock back quickly after each Arrow or numpy call while the other thread
    # runs Python
    try:
        with quick_switching():
            if args.map is not None:
                from insole.io import load_with_mapping

                recording = load_with_mapping(args.path, args.map)
            else:
                recording = load(args.path, args.format)
    finally:
        importing.join()  # on bad input too: no import left running while the process exits
    from insole.analysis import AnalysisParams, analyze

    params = AnalysisParams(body_mass_kg=args.mass_kg)
    digest = _meanwhile(lambda: analysed_file(args.path))
    try:
        if samples_read_after:
            analysis = analyze(recording, params)
        else:
            # the recording is this command's alone: the analysis may work in its arrays instead of copies (same
            # numbers, less memory)
            analysis = analyze(recording, params, overwrite_recording=True)
            recording = None  # its values were the analysis' working arrays: nothing reads them again
    except AnalysisError as error:
        raise InputError(args.path, f"cannot be analysed: {error}") from None
    return _finish(args, tables_dir, inputs, analysis, digest, recording)


def _analyze_streamed(args: argparse.Namespace) -> tuple[Analysis, Callable[[], Any], None]:
    """The analysis of our Parquet file as it is read (``analyze`` of its path), with the file's digest."""
    digest = _meanwhile(lambda: analysed_file(args.path))  # hashing lets the imports below run beside it
    from insole.analysis import AnalysisParams, analyze

    _fixed_mmap_threshold()
    params = AnalysisParams(body_mass_kg=args.mass_kg)
    try:
        return analyze(Path(args.path), params), digest, None
    except AnalysisError as error:
        raise InputError(args.path, f"cannot be analysed: {error}") from None


# Arrays of this many bytes or more get memory of their own from the system: an hour's arrays of one value per
# sample (2.9 MB at 100 Hz) stay in the heap, where freed memory is reused without new page faults; eight hours'
# (23 MB) do not
_MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024


def _fixed_mmap_threshold() -> None:
    """Keep glibc's malloc giving large arrays memory of their own (mmap), returned to the system when freed.

    By default glibc raises that threshold to the size of each large block freed, up to 32 MiB: after the first
    pass of a long recording has freed its big arrays, the next ones (an 8-hour foot's 23 MB time and force
    arrays) come from the heap, where freed memory stays resident in fragments (some 100-150 MiB more at the peak
    of an 8-hour analysis, measured). A fixed threshold keeps the large ones out of the heap. Nothing happens
    where glibc is not the allocator.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(-3, _MMAP_THRESHOLD_BYTES)  # M_MMAP_THRESHOLD; a fixed value turns the adapting off
    except (OSError, AttributeError):
        return


def _finish(args: argparse.Namespace, tables_dir: Any, inputs: list[Any], analysis: Analysis,
            digest: Callable[[], Any], recording: Recording | None) -> int:
    """The outputs of ``insole analyze``: tables, JSON, the summary text and the extra outputs."""
    from insole.analysis import write_json

    # the recording's own source may be another file (a vendor export this
    # Parquet was converted from): the provenance names both
    provenance = dict(analysis.provenance)
    provenance["input"] = {**provenance["input"], "analysed_file": digest()}
    analysis = dataclasses.replace(analysis, provenance=provenance)
    to_stdout = args.json == "-"
    tables = None
    if tables_dir is not None:
        from insole.io import analysis_tables, write_tables

        frames = analysis_tables(analysis)
        write_tables(frames, tables_dir, provenance=provenance, formats=("parquet",), force=args.force,
                     inputs=inputs)
        tables = {"folder": str(tables_dir), "format": "parquet", "names": list(frames)}
    if args.json and not to_stdout:
        write_json(analysis, Path(args.json), force=args.force, tables=tables)
    if to_stdout:
        write_json(analysis, sys.stdout, tables=tables)
    else:
        sys.stdout.write("\n".join(printable(line) for line in summary_text(analysis, args.path).split("\n")))
        if args.json:
            sys.stdout.write(f"\nJSON written to {args.json}\n")
        if tables_dir is not None:
            sys.stdout.write(f"{'' if args.json else chr(10)}tables written to {tables_dir}/ (Parquet)\n")
    for output in _EXTRA_OUTPUTS:  # the outputs that read the samples: only with the recording kept for them
        value = getattr(args, _dest(output), None)
        if value is not None and recording is not None:
            line = output.handler(analysis, recording, value, args)
            if line:
                print(line, file=sys.stderr if to_stdout else sys.stdout)
    return 0


# (metric, label, unit, format) shown in the summary, in this order
_SHOWN = (
    ("stride_time_s", "stride time", "s", ".3f"),
    ("stance_time_s", "stance time", "s", ".3f"),
    ("swing_time_s", "swing time", "s", ".3f"),
    ("stance_pct", "stance", "% stride", ".1f"),
    ("step_time_s", "step time", "s", ".3f"),
    ("double_support_pct", "double support", "% stride", ".1f"),
    ("first_peak_bw", "first peak", "BW", ".2f"),
    ("valley_bw", "mid-stance valley", "BW", ".2f"),
    ("second_peak_bw", "second peak", "BW", ".2f"),
    ("loading_rate_bw_s", "loading rate", "BW/s", ".1f"),
    ("impulse_bw_s", "impulse", "BW s", ".3f"),
    ("gait_line_length_mm", "gait line length", "mm", ".0f"),
    ("gait_line_width_mm", "gait line width", "mm", ".0f"),
    ("cop_ml_offset_mm", "mean COP offset (+medial)", "mm", ".1f"),
    ("cop_ml_offset_pct", "COP offset", "% ball width", ".1f"),
    ("cpei_pct", "CPEI", "%", ".1f"),
    ("heel_share_pct", "heel share", "%", ".1f"),
    ("midfoot_share_pct", "midfoot (arch) share", "%", ".1f"),
    ("forefoot_share_pct", "forefoot share", "%", ".1f"),
    ("toes_share_pct", "toes share", "%", ".1f"),  # only where the layout does not split the toes (below)
    ("hallux_share_pct", "hallux share", "%", ".1f"),
    ("lesser_toes_share_pct", "lesser toes share", "%", ".1f"),
    ("forefoot_ml_index_pct", "forefoot medial-lateral index", "%", ".1f"),
)


def _fmt(value: float, spec: str) -> str:
    """``value`` in ``spec``, "-" when missing; a value that rounds to zero reads 0, never -0.0 (an exact tie's
    symmetry index of -2e-14 is no asymmetry to the left)."""
    if not (isinstance(value, (int, float)) and math.isfinite(value)):
        return "-"
    text = format(value, spec)
    try:
        rounds_to_zero = float(text.strip().rstrip("%")) == 0
    except ValueError:  # a format whose text is no number (none used here): as it is
        return text
    return format(0.0, spec) if rounds_to_zero else text


def _flag_text(flags: list[dict]) -> str:
    """Flagged sensors by status: the ones the analysis says a reader must be told of (``named``) by name, the
    rest counted (a grid's hundreds of cells that never load are not faults worth a name each)."""
    if not flags:
        return "none"
    parts = []
    for status in ("flat", "dead", "stuck", "saturated", "spikes"):
        of_status = [f for f in flags if f["status"] == status]
        names = [f["sensor"] for f in of_status if f.get("named", True)]
        unnamed = len(of_status) - len(names)
        if names:
            parts.append(f"{status} {', '.join(names)}")
        if unnamed:
            parts.append(f"{unnamed} {status} (cells that never load, not named)")
    return "; ".join(parts)


_REGIONS = (
    ("heel", "heel"),
    ("midfoot", "midfoot (arch)"),
    ("forefoot", "forefoot"),
    ("medial_forefoot", "medial forefoot"),
    ("lateral_forefoot", "lateral forefoot"),
    ("hallux", "hallux"),
    ("lesser_toes", "lesser toes"),
    ("toes", "toes"),  # only where the layout does not split the toes into hallux and lesser toes
)


_REGION_COLUMNS = (
    ("peak_pressure_kpa_mean", ("peak", "kPa"), ".0f"),
    ("pti_kpa_s_mean", ("PTI", "kPa s"), ".0f"),
    ("fti_n_s_mean", ("FTI", "N s"), ".1f"),
    ("share_pct_mean", ("share", "% of the foot's load"), ".1f"),
)


def _wrapped(first: str, parts: list[str], indent: str, width: int = 100) -> list[str]:
    """``first`` then ``parts`` joined by "; ", broken into lines of at most ``width`` columns."""
    lines, current = [], first
    for part in parts:
        candidate = f"{current}; {part}" if current != first else f"{current}{part}"
        if len(candidate) > width and current != first:
            lines.append(current + ";")
            current = indent + part
        else:
            current = candidate
    lines.append(current)
    return lines


def analysed_file(path: Path | str) -> dict[str, Any]:
    """The file ``insole analyze`` read: name as given, size and SHA-256 (the source may be another file)."""
    from insole.io import provenance

    described = provenance(Path(path), "")
    return {key: described[key] for key in ("path", "size_bytes", "sha256")}


# Uncalibrated insoles (unit au): a reading is not a force and the walk's mean load is not a body weight, so the
# summary shows no number in body weights or newtons (as the report does); the JSON and the tables keep them.
_FORCE_UNITS = ("BW", "BW/s", "BW s", "N", "N/s", "N s")
_AU_ANALYSIS_NOTE = "forces are in arbitrary units"  # the analysis' own note: "metrics are given in body weights only"
_AU_NOTE = ("forces are in arbitrary units (uncalibrated sensors): no force metric is printed in body weights or "
            "newtons; the JSON and tables keep them, scaled by the walk's mean load in au (a scale, not a weight)")
_AU_WITHHELD = ("uncalibrated insoles (au): a reading is not a force and the walk's mean load is not a body weight, "
                "so {names} are not shown")


_STANDING_NOT_COMPARED = ("no left/right weight split: uncalibrated insoles (au), each on its own gain, so the "
                          "feet's shares of the load are not interpretable as load asymmetry")


def _notes(notes: Sequence[object], uncalibrated_force: bool) -> list[str]:
    """A foot's quality notes as printed, in order, each once (the analysis' au note in the summary's words)."""
    printed: list[str] = []
    for note in map(str, notes):
        if uncalibrated_force and note.startswith(_AU_ANALYSIS_NOTE):
            note = _AU_NOTE
        if note not in printed:
            printed.append(note)
    return printed


# a robust CV below the analysis' ROBUST_CV_ZERO_PCT is a MAD of 0, never a measurement (as the report shows it)
_ROBUST_CV_ZERO_TEXT = "n/a (MAD 0: most strides equal the median to the sample)"


def _robust_cv_text(value: float) -> str:
    """The robust CV as printed: the figure in %, ``-`` when unknown, n/a for a MAD of 0 (no figure)."""
    from insole.analysis import ROBUST_CV_ZERO_PCT

    if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < ROBUST_CV_ZERO_PCT:
        return _ROBUST_CV_ZERO_TEXT
    text = _fmt(value, ".2f")
    return text if text == "-" else text + "%"


def _stances_in_curves(analysis: Analysis, side: str) -> int:
    """The stances the foot's curves (and load maps) average: ``n_stances`` of its curves table."""
    curves = analysis.curves.get(side)
    return int(curves["n_stances"].iloc[0]) if curves is not None and len(curves) else 0


# what each event method reads, for the printed summary (the methods text of the analysis says it in full)
_EVENT_METHOD_TEXT = {
    "level": "heel strike and toe off where the total force crosses a level above the unloaded floor",
    "shape": "heel strike at the onset of the force's rise, toe off at the end of its fall (the default for "
             "uncalibrated sensors)",
}


def _body_weight_lines(analysis: Analysis, path: Path | str) -> list[str]:
    """Where the body weight came from, as printed: the analysis' own words (a mass read from a subject table beside
    the file names the table), and without any mass a line saying so first: the metrics in BW are then scaled by
    the walk's own load (a copy of a gaitpdb file without demographics.txt changed a first peak from 1.43 to
    0.96 BW with nothing printed to say why).
    """
    weight = analysis.summary.body_weight
    text = str(weight.get("source", ""))
    if weight.get("unit") == "au":  # uncalibrated: no mass is ever used, the walk's load is a scale
        return textwrap.wrap(text, width=100, initial_indent="  load scale (au, not a body weight): ",
                             subsequent_indent="    ")
    origin = analysis.provenance["input"].get("source") or {}
    table = SUBJECT_TABLES.get(str(origin.get("format")))
    # the text file itself was read (a Parquet converted from it has its own name; its mass is in its metadata)
    if table is not None and Path(str(origin.get("path", ""))).name != Path(str(path)).name:
        table = None
    lines: list[str] = []
    if weight.get("method") == "mass":
        text = text.replace("(analysis parameters)", "(--mass-kg)")
    else:
        where = "no --mass-kg and none in the recording's metadata"
        if table is not None:
            where += (f"; a {origin['format']} file's mass comes from the subject table {table} beside it, which "
                      "is not there or has no mass for this subject")
        consequence = ("metrics in BW are therefore scaled by the walk's own load, not by a weight"
                       if weight.get("method") == "load" else "no metric is given in BW")
        lines += textwrap.wrap(f"none found: {where}; {consequence}", width=100,
                               initial_indent="  body mass: ", subsequent_indent="    ")
    return lines + textwrap.wrap(text, width=100, initial_indent="  body weight: ", subsequent_indent="    ")


def summary_text(analysis: Analysis, path: Path | str) -> str:
    """The human-readable summary ``insole analyze`` prints.

    For uncalibrated insoles (unit au) the force metrics in body weights or newtons are withheld, with one
    line saying why, and the walk's mean load is called a load scale, not a body weight.
    """
    # signed metrics (medial/lateral) are compared by R - L: a ratio around zero says nothing
    from insole.analysis import SIGNED_METRICS

    prov = analysis.provenance
    source = prov["input"]
    origin = source.get("source") or {}
    uncalibrated_force = analysis.summary.body_weight.get("unit") == "au"
    lines = [f"insole analyze {path}"]
    if origin.get("path") and Path(str(origin["path"])).name != Path(str(path)).name:
        lines.append(f"  recorded as {origin['path']} ({origin.get('format', 'unknown format')})")
    lines += [
        f"  {source['duration_s']:.1f} s, {source['sample_rate_hz']:g} Hz, layout {source['layout']}"
        + (" (approximate geometry)" if source["layout_approximate"] else "")
        + f", unit {source['unit']}, feet: {', '.join(analysis.sides)}",
        *textwrap.wrap(f"{_EVENT_METHOD_TEXT.get(prov['event_method'], prov['event_method'])} (method "
                       f"{prov['event_method']!r}, docs/analysis-methods.md)", width=100,
                       initial_indent="  gait events: ", subsequent_indent="    "),
        *_body_weight_lines(analysis, path),
        "",
        "Data quality",
    ]
    notes = {side: _notes(analysis.quality[side]["notes"], uncalibrated_force) for side in analysis.sides}
    shared = [n for n in notes[analysis.sides[0]] if all(n in notes[s] for s in analysis.sides)] \
        if len(analysis.sides) > 1 else []
    for side in analysis.sides:
        q = analysis.quality[side]
        excluded = ", ".join(f"{n} {r}" for r, n in q["strides_excluded"].items()) or "none"
        lines += _wrapped(
            f"  {side:<6}",
            [
                f"valid {100 * q['valid_fraction']:.1f}%, {q['n_gaps']} gaps ({q['gap_total_s']:.2f} s)",
                f"sensors used {q['n_sensors_used']}/{q['n_sensors']} (flagged: {_flag_text(q['sensor_flags'])})",
                f"strides used {q['strides_used']}/{q['strides_detected']} (excluded: {excluded})",
                f"stances in curves and maps {_stances_in_curves(analysis, side)}",
                f"low-confidence events {q['low_confidence_events']}",
            ],
            "        ",
        )
        for note in notes[side]:
            if note not in shared:
                lines += textwrap.wrap(note, width=100, initial_indent="        note: ",
                                       subsequent_indent="              ")
    for note in shared:  # a note of every foot (the body weight check, the au notes) is printed once
        lines += textwrap.wrap(note, width=100, initial_indent="  both feet, note: ", subsequent_indent="    ")
    summary = analysis.summary
    # two definitions, both in the outputs: the session's (summary.cadence_steps_per_min) and each foot's
    # (summary_per_foot: the mean of its strides' own cadence, which the reciprocal makes a little higher)
    whose = "both feet's" if len(analysis.sides) == 2 else f"the {analysis.sides[0]} foot's"
    lines += ["", f"Cadence {_fmt(summary.cadence_steps_per_min, '.1f')} steps/min (session cadence: 120 / the mean "
                  f"stride time of {whose} used strides)"]
    per_foot_cadence = [
        f"{side} {_fmt(summary.per_foot.at['cadence_steps_per_min', f'{side}_mean'], '.1f')}"
        for side in analysis.sides
        if "cadence_steps_per_min" in summary.per_foot.index and f"{side}_mean" in summary.per_foot
    ]
    if per_foot_cadence:  # one line, never wrapped (a wrapped line read as a row of the table below)
        lines.append(f"  each foot's own (summary_per_foot): {', '.join(per_foot_cadence)}, the mean of 120 / each "
                     "stride's time")
    variability = [
        f"{side} CV {_fmt(summary.stride_time_cv_pct.get(side, float('nan')), '.2f')}%, robust CV "
        + _robust_cv_text(summary.stride_time_robust_cv_pct.get(side, float("nan")))
        for side in analysis.sides
    ]
    lines += _wrapped("Stride-time variability: ", variability, "  ") + ["  (robust CV: 1.4826 x MAD / median, "
                                                                         "not inflated by one odd stride)", ""]
    per_foot, symmetry = summary.per_foot, summary.symmetry
    rows = []
    uncalibrated = False
    withheld = []
    # the toes as one region where the layout has toe sensors but no hallux/lesser-toes split (gaitpdb8), so that
    # heel, midfoot, forefoot and toes shares add up to the foot's load
    toes_split = "hallux_share_pct" in per_foot.index
    for metric, label, unit, spec in _SHOWN:
        if metric not in per_foot.index or (metric == "toes_share_pct" and toes_split):
            continue
        if uncalibrated_force and unit in _FORCE_UNITS:
            withheld.append(label)
            continue
        cells = []
        for side in ("left", "right"):
            mean = per_foot.at[metric, f"{side}_mean"] if f"{side}_mean" in per_foot else float("nan")
            cv = per_foot.at[metric, f"{side}_cv_pct"] if f"{side}_cv_pct" in per_foot else float("nan")
            cell = _fmt(mean, spec)
            if cell != "-" and math.isfinite(cv) and metric not in SIGNED_METRICS:
                cell += f" ({cv:.0f})"
            cells.append(cell)
        if all(c == "-" for c in cells):
            continue
        row = symmetry.loc[metric] if metric in symmetry.index else None
        if metric in SIGNED_METRICS:
            difference = row["difference"] if row is not None else float("nan")
            compared = "R-L " + _fmt(difference, "+" + spec) if math.isfinite(difference) else "-"
        else:
            compared = _fmt(row["symmetry_index_pct"] if row is not None else float("nan"), "+.1f")
            if compared != "-" and row is not None and bool(row.get("uncalibrated_force", False)):
                compared += "*"
                uncalibrated = True
        rows.append(f"  {label + ' (' + unit + ')':<32}{cells[0]:>16}{cells[1]:>16}{compared:>12}")
    if rows:
        lines += [
            "Per foot: mean (CV %) over used strides; SI = (R - L) / mean(R, L) x 100;",
            "  signed measures (medial/lateral) compared by their difference R-L",
            f"  {'metric':<32}{'left':>16}{'right':>16}{'SI % | R-L':>12}",
            *rows,
        ]
        if uncalibrated:
            lines.append("  * uncalibrated insoles: a left/right difference in sensor gain reads as load asymmetry")
        if withheld:
            names = ", ".join(withheld[:-1]) + (" and " if len(withheld) > 1 else "") + withheld[-1]
            lines += textwrap.wrap(_AU_WITHHELD.format(names=names), width=100, initial_indent="  ",
                                   subsequent_indent="    ")
    else:
        lines.append("No strides used: no per-foot metrics (see the data quality above).")
    regions = [(side, analysis.regions[side].set_index("region")) for side in ("left", "right")
               if side in analysis.regions and len(analysis.regions[side])]
    # what the layout gives: pressures where sensor areas are known, else force-time integrals, always shares
    shown = [(column, label, spec) for column, label, spec in _REGION_COLUMNS
             if regions and all(column in table.columns for _, table in regions)]
    if regions and rows and shown:
        lines += [
            "",
            "Regions: mean over used stances of " + ", ".join(f"{label} ({unit})" for _, (label, unit), _ in shown),
            f"  {'region':<18}" + "".join(f"{side[0].upper() + ' ' + label:>9}" for side, _ in regions
                                          for _, (label, _unit), _ in shown),
        ]
        split = all("hallux" in table.index for _, table in regions)
        for key, label in _REGIONS:
            if not all(key in table.index for _, table in regions) or (key == "toes" and split):
                continue
            region_cells = "".join(
                f"{_fmt(table.at[key, column], spec):>9}" for _, table in regions for column, _, spec in shown
            )
            lines.append(f"  {label:<18}{region_cells}")
    if summary.standing:
        st = summary.standing
        if st.get("uncalibrated_force"):
            # each uncalibrated insole reads on its own gain: the feet's shares of their summed readings are not a
            # weight split (the report leaves it out, the batch's si_not_comparable names it); printed as one,
            # with a caveat, it read as load asymmetry
            parts = [_STANDING_NOT_COMPARED]
        else:
            parts = [f"left {_fmt(st['left_pct'], '.1f')}% / right {_fmt(st['right_pct'], '.1f')}%"]
        parts += [
            f"{side} forefoot {_fmt(st.get(f'{side}_forefoot_pct', float('nan')), '.0f')}% / rearfoot "
            f"{_fmt(st.get(f'{side}_rearfoot_pct', float('nan')), '.0f')}%"
            for side in ("left", "right") if f"{side}_forefoot_pct" in st
        ]
        head = f"Standing ({st['duration_s']:.1f} s): "
        lines += ["", *(textwrap.wrap("; ".join(parts), width=100, initial_indent=head, subsequent_indent="  ")
                        if st.get("uncalibrated_force") else _wrapped(head, parts, "  "))]
    from insole.analysis import LEAN_SCHEMA_VERSION

    # the one schema that applies to what this command writes: the lean --json file's (the full document's,
    # Analysis.to_dict in Python, belongs to no file of this command; printed beside it, a reader could not tell
    # which number was the file's)
    lines += ["", f"insole {prov['version']}; JSON schema {LEAN_SCHEMA_VERSION} for the file --json writes "
                  "(docs/analysis-json.md)", ""]
    return "\n".join(lines)

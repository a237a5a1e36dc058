"""``analyze``: the analysis of a recording, or of a recording file by its path.

The pipeline (``_pipeline``) runs the stages; this entry stays free of them so
that analysing one of our Parquet files starts at once: its first pass
(reading, sensor checks, total force, event detection) needs only numpy and
Arrow, and runs while a second thread imports the later stages and pandas.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insole._errors import AnalysisError
from insole._lazy import import_beside, quick_switching
from insole.analysis._params import AnalysisParams

if TYPE_CHECKING:
    from insole._recording import Recording
    from insole.analysis._result import Analysis

__all__ = ["analyze", "event_method"]


def analyze(recording: Recording | os.PathLike[str], params: AnalysisParams | None = None, *,
            overwrite_recording: bool = False) -> Analysis:
    """Gait events, stride and step tables, foot-loading metrics, summary and quality of a recording.

    Parameters
    ----------
    recording : Recording, or the ``pathlib.Path`` of a recording file
        Any recording (``insole.load`` or ``insole.simulate``); one or two feet,
        any layout, unit kPa, N or au. Given a path, our Parquet recordings
        are read a stretch at a time while the analysis works (an eight-hour
        recording is never in memory whole), with the numbers of
        ``analyze(insole.load(path))``; any other file is loaded whole.
    params : AnalysisParams, optional
        How to analyse; ``AnalysisParams()`` when omitted.
    overwrite_recording : bool, optional
        For a caller that made ``recording`` for this analysis and drops it
        afterwards (``insole analyze`` without ``--report``/``--dashboard``):
        the sensor checks then work in the recording's own values, where its
        reader stored them sensor by sensor (our Parquet reader does), instead
        of in a copy, and the feet are analysed one after the other. The same
        numbers, in less memory (an hour's two feet some 90 MiB less at the
        peak, eight hours' some 650 MiB), but the recording's values are
        overwritten: nothing may read them afterwards. False by default.

    Returns
    -------
    Analysis
        Events (s, on the recording's clock), per-step and per-stride tables,
        summary with symmetry, mean +/- SD curves over 0-100 % stance, regional
        and per-sensor loads, quality per foot and provenance (version,
        parameters, input, methods text and references).
    """
    if isinstance(recording, str):  # text is no recording (a path given as text would be read as one by mistake)
        raise AnalysisError(f"analyze() needs a Recording or a file's pathlib.Path, not text: "
                            f"analyze(Path({recording!r})) reads the file, or insole.load it first")
    # the parameters checked here, once, for both ways in (the streamed reader and the pipeline take them as checked)
    params = params if params is not None else AnalysisParams()
    if not isinstance(params, AnalysisParams):
        raise AnalysisError(f"params must be AnalysisParams, not {type(params).__name__}")
    if isinstance(recording, os.PathLike):
        return _analyze_path(Path(recording), params)
    from insole.analysis._pipeline import analyze_recording

    return analyze_recording(recording, params, owned=bool(overwrite_recording))


def _analyze_path(path: Path, params: AnalysisParams) -> Analysis:
    """``analyze`` of a file: streamed when it is our Parquet recording, else loaded whole (and its arrays used)."""
    from insole.io import detect_format, load

    if detect_format(path) == "parquet":
        # the later stages (and pandas under them) are imported beside the first pass, which needs neither
        importing = import_beside("insole.analysis._pipeline")
        from insole.analysis._streamed import NotStreamable, analyze_parquet

        # the first pass's reads and numpy calls get the interpreter lock back quickly while the import runs Python
        # on the other thread (the interval lowered for the streamed analysis, restored after it)
        try:
            with quick_switching():
                return analyze_parquet(path, params, event_method, _assemble)
        except NotStreamable:
            pass  # another writer's file, or one the reader refuses (with its own message): read whole
        finally:
            importing.join()
    from insole.analysis._pipeline import analyze_recording

    return analyze_recording(load(path), params, owned=True)


def _assemble(*stages: Any) -> Analysis:
    """The pipeline's ``_assemble``, imported when the stages are done."""
    from insole.analysis._pipeline import _assemble as assemble

    return assemble(*stages)


def event_method(recording: Recording, params: AnalysisParams) -> str:
    """The event method ``analyze`` uses: ``params.event_method``, with "auto" as "shape" for au and "level" else."""
    if params.event_method != "auto":
        return params.event_method
    return "shape" if recording.unit == "au" else "level"

"""The analysis pipeline: ``analyze(recording, params) -> Analysis`` runs the stages in order.

Each stage is a function of the stages before it (and the frozen
``AnalysisParams``) that returns a frozen result, each on whole arrays:

1. ``check_sensors`` (``_prepare``): flat, dead, stuck, saturated sensors and
   spikes -> ``SensorChecks``;
2. ``foot_loads`` (``_prepare``): total force and per-sensor loads -> ``FootLoads``;
3. ``detect_events`` (``_events``): contacts, heel strike and toe off with a
   confidence each -> ``Contacts``; then ``remove_offset`` (``_prepare``): the
   mid-swing zero offset subtracted, loads clipped at zero -> ``FootLoads``;
4. ``stride_timing`` (``_strides``): timing, walking bouts, turns, exclusions
   (both feet at once) -> ``FootTiming`` per foot;
5. ``body_weight`` (``_session``), then ``stance_features`` (``_stance`` with
   ``_force``, ``_cop``, ``_regions``): per-stance features, curves, regional
   and per-sensor loads, double support -> ``StanceFeatures``;
6. ``summarise`` (``_session``, ``_summary``): mean/SD/CV per foot, symmetry,
   standing weight distribution -> ``Summary``;

then ``_quality`` and ``_methods`` say what it rests on and how it was made.
Stages 1-3 and 5 are per foot (both feet at once on two threads when the
recording is long; with ``overwrite_recording`` the checks work in the
recording's own arrays and the feet go one after the other, with the same
numbers). ``analyze(path)`` of our Parquet file runs the same stages while
reading the file (``_streamed``: the lean path of ``insole analyze``, in memory
that does not hold the recording). ``docs/analysis-methods.md`` explains the choices;
``docs/analysis-json.md`` the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from insole._errors import AnalysisError
from insole._lazy import quick_switching
from insole._recording import Recording
from insole._version import __version__
from insole.analysis._entry import event_method
from insole.analysis._events import Contacts, detect_events
from insole.analysis._methods import methods_text, references_for
from insole.analysis._params import AnalysisParams
from insole.analysis._prepare import FootLoads, check_sensors, foot_loads, remove_offset
from insole.analysis._quality import foot_quality
from insole.analysis._result import JSON_SCHEMA_VERSION, Analysis, FootEvents
from insole.analysis._session import PLAUSIBLE_LOAD_TO_BODY_WEIGHT, BodyWeight, body_weight, summarise
from insole.analysis._stance import StanceFeatures, _strings, stance_features_and_statistics
from insole.analysis._strides import FootTiming, exclude_out_of_step, foot_timing
from insole.analysis._summary import FootStatistics

__all__ = ["analyze_recording"]


def analyze_recording(recording: Recording, params: AnalysisParams, owned: bool) -> Analysis:
    """``analyze`` of a recording in memory (``owned``: its arrays may be worked in, ``overwrite_recording``);
    ``params`` checked by ``analyze``, its only caller."""
    if not isinstance(recording, Recording):
        raise AnalysisError(f"analyze() needs a Recording, not {type(recording).__name__}")
    method = event_method(recording, params)
    fs = float(recording.sample_rate_hz)

    def loads_and_events(side: str) -> tuple[FootLoads, Contacts, FootTiming]:
        loads = foot_loads(recording, check_sensors(recording, side, params, reuse_values=owned))
        contacts = detect_events(loads.force, fs, params, valid=loads.valid, time_s=loads.time_s, method=method,
                                 calibrated=loads.force_unit == "N")
        loads = remove_offset(loads, contacts, params, in_place=True)  # these loads are ours alone
        # each foot's own timing on its own thread; only the cross-check of the two feet waits for both
        return loads, contacts, foot_timing(loads, contacts, params)

    # the lean mode (overwrite_recording) runs the feet one after the other: each foot's preparation, event
    # detection and stance features make temporaries of some 20-40 MB an hour; two feet at once hold both sets
    # (even event detection and the offset alone on two threads, after both feet's checks, took the hour's
    # insole analyze --json from 302 to 335 MiB at the peak)
    per_foot = dict(zip(recording.sides, _per_side(loads_and_events, recording, parallel=not owned)))
    loads = {side: found[0] for side, found in per_foot.items()}
    contacts = {side: found[1] for side, found in per_foot.items()}
    # a stride's exclusion can need the other foot's contacts: settled before
    # anything (body weight, stances used) rests on the strides used (what ``stride_timing`` does, in two parts)
    timing = exclude_out_of_step({side: found[2] for side, found in per_foot.items()})
    weight = body_weight(recording, loads, timing, params)

    uncalibrated = _uncalibrated(recording, loads)

    def features_of(side: str) -> tuple[StanceFeatures, FootStatistics, dict[str, Any], FootEvents]:
        # the stride statistics from the columns the stride table is made of (the same numbers as
        # foot_statistics(found.strides), without pandas' selection of the table)
        found, statistics = stance_features_and_statistics(recording, side, loads[side], contacts[side], timing,
                                                           weight.value, params)
        # the foot's stride statistics, quality and event table on its own thread (what the summary and the
        # assembly take of this foot alone, made while the other foot works)
        quality = foot_quality(loads[side], contacts[side], timing[side], params,
                               _foot_notes(recording, loads[side], found, weight, uncalibrated),
                               layout=recording.layout)
        events = _foot_events(timing[side], contacts[side], found.steps)
        return found, statistics, quality, events

    done = dict(zip(recording.sides, _per_side(features_of, recording, parallel=not owned)))
    features = {side: found[0] for side, found in done.items()}
    foot_stats = {side: found[1] for side, found in done.items()}
    summary = summarise(recording, loads, timing, features, weight, params, foot_stats=foot_stats)
    return _assemble(recording, params, method, loads, contacts, timing, weight, features, summary,
                     per_foot={side: (found[2], found[3]) for side, found in done.items()})


def _assemble(
    recording: Recording,
    params: AnalysisParams,
    method: str,
    loads: dict[str, FootLoads],
    contacts: dict[str, Contacts],
    timing: dict[str, FootTiming],
    weight: BodyWeight,
    features: dict[str, StanceFeatures],
    summary: Any,
    per_foot: dict[str, tuple[dict[str, Any], FootEvents]] | None = None,
) -> Analysis:
    """The ``Analysis`` of the stages' results: quality notes per foot, methods text and provenance added.

    ``per_foot``: each foot's quality and event table when the caller made them already (``analyze_recording``
    does, on each foot's own thread); made here otherwise."""
    fs = float(recording.sample_rate_hz)
    uncalibrated = _uncalibrated(recording, loads)
    if per_foot is None:
        per_foot = {
            side: (foot_quality(loads[side], contacts[side], timing[side], params,
                                _foot_notes(recording, loads[side], features[side], weight, uncalibrated),
                                layout=recording.layout),
                   _foot_events(timing[side], contacts[side], features[side].steps))
            for side in recording.sides
        }
    quality = {side: per_foot[side][0] for side in recording.sides}
    ratio = weight.fields["load_to_body_weight_ratio"]
    facts = {
        "event_method": method,
        "force_source": "; ".join(sorted({f"{s}: {loads[s].force_source}" for s in recording.sides})),
        "body_weight_source": weight.source,
        "turns_detectable": any(timing[s].turns_detectable for s in recording.sides),
        "cop_possible": all(features[s].cop_possible for s in recording.sides),
        "cpei_possible": all(features[s].cpei_possible for s in recording.sides),
        # one sensor a foot (a foot switch) has no regions: the methods then say nothing of regional loads
        "regions_possible": any(len(features[s].regions) for s in recording.sides),
        "body_weight_band": PLAUSIBLE_LOAD_TO_BODY_WEIGHT
        if weight.method == "mass" and math.isfinite(ratio) else None,
        "uncalibrated_pair": uncalibrated and len(recording.sides) == 2,
    }
    text = methods_text(params, facts)
    provenance: dict[str, Any] = {
        "software": "insole",
        "version": __version__,
        "schema_version": JSON_SCHEMA_VERSION,
        "parameters": params.to_dict(),
        "event_method": method,
        "input": {
            "source": dict(recording.meta.source),
            "subject_id": recording.meta.subject_id,
            "layout": recording.layout.name,
            "layout_approximate": bool(recording.layout.approximate),
            "unit": recording.unit,
            "sample_rate_hz": fs,
            "duration_s": recording.duration_s,
            "sides": list(recording.sides),
        },
        "methods": text,
        "references": references_for(text),
    }
    steps = {side: features[side].steps for side in recording.sides}
    events = {side: per_foot[side][1] for side in recording.sides}
    return Analysis(
        params=params,
        sides=tuple(recording.sides),
        events=events,
        steps=steps,
        strides={side: features[side].strides for side in recording.sides},
        summary=summary,
        curves={side: features[side].curves for side in recording.sides},
        regions={side: features[side].regions for side in recording.sides},
        sensors={side: features[side].sensors for side in recording.sides},
        quality=quality,
        provenance=provenance,
    )


def _uncalibrated(recording: Recording, loads: dict[str, FootLoads]) -> bool:
    """Any foot's force in arbitrary units."""
    return any(loads[s].force_unit == "au" for s in recording.sides)


def _foot_notes(recording: Recording, foot: FootLoads, features: StanceFeatures, weight: BodyWeight,
                uncalibrated: bool) -> list[str]:
    """The quality notes of one foot the assembly adds to its checks' own (``foot_quality``'s ``notes``)."""
    notes: list[str] = []
    if features.cop_note:
        notes.append(features.cop_note)
    if foot.force_unit == "au":
        notes.append("forces are in arbitrary units: force metrics are scaled by the walk's mean "
                     "walking load (the 'body weight' of an au walk), not by a body weight")
    if foot.sensor_load_unit != "N" and foot.sensor_used.sum() > 1:
        notes.append("sensor areas unknown: regional shares and COP weight sensors as if equal in area")
    if weight.note:
        notes.append(weight.note)
    if uncalibrated and len(recording.sides) == 2:
        notes.append(_UNCALIBRATED_PAIR_NOTE)
    return notes


_UNCALIBRATED_PAIR_NOTE = (
    "uncalibrated insoles (au): one body weight, from both feet's pooled load, scales both feet, so a "
    "difference between the two insoles' gains shows as left/right asymmetry; force symmetry indices and the "
    "standing left/right split (marked uncalibrated_force) are not interpretable as load asymmetry unless the "
    "insoles are calibrated alike"
)

# Below this many samples per foot the two feet are analysed one after the
# other: a thread would cost more than it saves on a short recording.
_PARALLEL_MIN_SAMPLES = 100_000


def _per_side(work: Callable[[str], Any], recording: Recording, parallel: bool = True) -> list[Any]:
    """``work(side)`` for every side, in side order; both feet at once on two threads when worth it (and
    ``parallel``).

    The per-foot stages share nothing and spend their time in numpy, which
    releases the GIL, so the second core does real work. Results (and the
    first exception, if any) are those of running the sides one by one.
    """
    sides = list(recording.sides)
    longest = max((recording.samples(side).n_samples for side in sides), default=0)
    if not parallel or len(sides) < 2 or longest < _PARALLEL_MIN_SAMPLES:
        return [work(side) for side in sides]
    # each foot's thread asks for the interpreter lock back after every numpy call, and waited up to the default
    # 5 ms switch interval whenever the other foot's thread was running Python (its tables, small calls): 0.5 ms
    # while both run (benchmarks/bench_analysis.py measures the core with it)
    with quick_switching(), ThreadPoolExecutor(max_workers=len(sides), thread_name_prefix="insole-foot") as pool:
        futures = [pool.submit(work, side) for side in sides]
        return [future.result() for future in futures]


_CONTACT_KINDS = np.array(["walking", "standing"])


def _foot_events(tm: FootTiming, found: Contacts, steps: pd.DataFrame) -> FootEvents:
    hs_known = tm.hs_index >= 0
    to_known = tm.to_index >= 0
    contacts = pd.DataFrame(
        {
            "heel_strike_s": tm.heel_strike_s,
            "toe_off_s": tm.toe_off_s,
            "heel_strike_confidence": found.heel_strike_confidence,
            "toe_off_confidence": found.toe_off_confidence,
            "kind": _strings(_CONTACT_KINDS, (~tm.walking_contact).astype(np.intp)),
            "has_gap": tm.contact_has_gap,
        }
    )
    return FootEvents(
        heel_strike_s=tm.heel_strike_s[hs_known],
        toe_off_s=tm.toe_off_s[to_known],
        heel_strike_confidence=found.heel_strike_confidence[hs_known],
        toe_off_confidence=found.toe_off_confidence[to_known],
        contacts=contacts,
    )

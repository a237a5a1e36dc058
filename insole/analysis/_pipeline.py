"""The analysis pipeline: ``analyze(recording, params) -> Analysis`` runs the stages in order.

The stages, each in its own module and each on whole arrays:

1. ``_prepare``: sensor checks (flat, stuck, saturated), total force, per-sensor loads;
2. ``_events``: contacts, heel strike and toe off with a confidence each;
3. zero offset from mid-swing samples (``_prepare.apply_zero_offset``);
4. ``_strides``: timing, walking bouts, turns, exclusions, double support;
5. body weight from the mass, or from the recording's own load;
6. ``_force``, ``_cop``, ``_regions``: per-stance features;
7. ``_summary``: mean/SD/CV per foot, symmetry, standing weight distribution;
8. ``_quality`` and ``_methods``: what it rests on and how it was made.

``docs/analysis-methods.md`` explains the choices; ``docs/analysis-json.md``
the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from insole._errors import AnalysisError
from insole._recording import Recording
from insole._version import __version__
from insole.analysis._cop import cop_capability, cop_features, cop_path
from insole.analysis._events import Contacts, detect_contacts
from insole.analysis._force import force_features, normalised_curves, stance_grid
from insole.analysis._methods import methods_text, references_for
from insole.analysis._params import STANDARD_GRAVITY_M_S2, AnalysisParams
from insole.analysis._prepare import PreparedFoot, apply_zero_offset, finish_loads, prepare_foot
from insole.analysis._quality import foot_quality
from insole.analysis._regions import available_groups, region_features, sensor_table
from insole.analysis._result import JSON_SCHEMA_VERSION, Analysis, FootEvents, Summary
from insole.analysis._segments import reduce_intervals
from insole.analysis._strides import FootTiming, add_bilateral_timing, exclude_out_of_step, foot_timing
from insole.analysis._summary import per_foot_statistics, robust_cv_pct, symmetry_table

__all__ = ["analyze"]


def analyze(recording: Recording, params: AnalysisParams | None = None) -> Analysis:
    """Gait events, stride and step tables, foot-loading metrics, summary and quality of a recording.

    Parameters
    ----------
    recording : Recording
        Any recording (``insole.load`` or ``insole.simulate``); one or two feet,
        any layout, unit kPa, N or au.
    params : AnalysisParams, optional
        How to analyse; ``AnalysisParams()`` when omitted.

    Returns
    -------
    Analysis
        Events (s, on the recording's clock), per-step and per-stride tables,
        summary with symmetry, mean +/- SD curves over 0-100 % stance, regional
        and per-sensor loads, quality per foot and provenance (version,
        parameters, input, methods text and references).
    """
    if not isinstance(recording, Recording):
        raise AnalysisError(f"analyze() needs a Recording, not {type(recording).__name__}")
    params = params if params is not None else AnalysisParams()
    if not isinstance(params, AnalysisParams):
        raise AnalysisError(f"params must be AnalysisParams, not {type(params).__name__}")
    method = params.event_method
    if method == "auto":
        method = "shape" if recording.unit == "au" else "level"
    fs = float(recording.sample_rate_hz)

    prepared: dict[str, PreparedFoot] = {}
    contacts: dict[str, Contacts] = {}
    timing: dict[str, FootTiming] = {}
    notes: dict[str, list[str]] = {side: [] for side in recording.sides}

    def events_of(side: str) -> tuple[PreparedFoot, Contacts, FootTiming]:
        foot = prepare_foot(recording, side, params)
        found = detect_contacts(foot.time_s, foot.force, foot.valid, fs, params, method=method,
                                calibrated=foot.force_unit == "N")
        if params.zero_offset:
            hs, to = found.heel_strike_index, found.toe_off_index
            ok = (to[:-1] >= 0) & (hs[1:] > to[:-1])
            apply_zero_offset(foot, to[:-1][ok], hs[1:][ok])
        finish_loads(foot)
        return foot, found, foot_timing(foot, found, params)

    for side, (foot, found, tm) in zip(recording.sides, _per_side(events_of, recording)):
        prepared[side], contacts[side], timing[side] = foot, found, tm
    # a stride's exclusion can need the other foot's contacts: settled before
    # anything (body weight, stances used) rests on the strides used
    exclude_out_of_step(timing)

    body_weight = _body_weight(recording, params, prepared, timing)
    bw = body_weight["value"]
    uncalibrated = any(prepared[s].force_unit == "au" for s in recording.sides)

    steps: dict[str, pd.DataFrame] = {}
    curves: dict[str, pd.DataFrame] = {}
    regions: dict[str, pd.DataFrame] = {}
    sensors: dict[str, pd.DataFrame] = {}
    capability: dict[str, tuple[bool, bool, str]] = {}

    def loads_of(side: str) -> tuple[Any, ...]:
        foot, tm = prepared[side], timing[side]
        cop_ok, cpei_ok, why = cop_capability(recording.layout, foot.sensor_used)
        table, cop_xy, measured, per_sensor = _step_table(recording, foot, tm, contacts[side], bw, params, cop_ok, cpei_ok)
        used = tm.step_used()
        table.insert(table.columns.get_loc("kind") + 1, "used", used[table["contact"].to_numpy()])
        used_rows = measured & used
        idx = np.flatnonzero(used_rows)
        hs_u, to_u = tm.hs_index[idx], tm.to_index[idx]
        curve = _curves(foot, hs_u, to_u, bw, cop_xy, params)
        region = _region_summary(table[table["used"]], recording.layout, foot)
        # per-sensor arrays have one row per measured contact; keep the used ones
        measured_index = np.flatnonzero(measured)
        sensor = sensor_table(per_sensor, np.isin(measured_index, idx), foot.sensor_used, recording.layout)
        # step time and double support need only both feet's events, known by now
        add_bilateral_timing({side: table}, timing)
        stride = _stride_table(table, tm)
        return table, curve, region, sensor, (cop_ok, cpei_ok, why), stride

    strides: dict[str, pd.DataFrame] = {}
    for side, (table, curve, region, sensor, able, stride) in zip(recording.sides, _per_side(loads_of, recording)):
        steps[side], curves[side], regions[side], sensors[side], capability[side] = table, curve, region, sensor, able
        strides[side] = stride
        foot = prepared[side]
        if able[2]:
            notes[side].append(able[2])
        if foot.force_unit == "au":
            notes[side].append("forces are in arbitrary units: metrics are given in body weights only")
        if foot.sensor_load_unit != "N" and foot.sensor_used.sum() > 1:
            notes[side].append("sensor areas unknown: regional shares and COP weight sensors as if equal in area")
        if body_weight.get("note"):
            notes[side].append(body_weight["note"])
        if uncalibrated and len(recording.sides) == 2:
            notes[side].append(_UNCALIBRATED_PAIR_NOTE)

    per_foot = per_foot_statistics(strides)
    summary = _summary(per_foot, strides, body_weight, recording, prepared, timing, params)

    quality = {
        side: foot_quality(prepared[side], contacts[side], timing[side], params, notes[side])
        for side in recording.sides
    }
    facts = {
        "event_method": method,
        "force_source": "; ".join(sorted({f"{s}: {prepared[s].force_source}" for s in recording.sides})),
        "body_weight_source": body_weight["source"],
        "turns_detectable": any(timing[s].turns_detectable for s in recording.sides),
        "cop_possible": all(capability[s][0] for s in recording.sides),
        "cpei_possible": all(capability[s][1] for s in recording.sides),
        "body_weight_band": PLAUSIBLE_LOAD_TO_BODY_WEIGHT
        if body_weight["method"] == "mass" and math.isfinite(body_weight["load_to_body_weight_ratio"]) else None,
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

    events = {side: _foot_events(timing[side], contacts[side], steps[side]) for side in recording.sides}
    return Analysis(
        params=params,
        sides=tuple(recording.sides),
        events=events,
        steps=steps,
        strides=strides,
        summary=summary,
        curves=curves,
        regions=regions,
        sensors=sensors,
        quality=quality,
        provenance=provenance,
    )


# In steady level walking the mean vertical ground reaction force over whole
# strides equals body weight: the body's vertical velocity is the same at the
# start and the end of each stride, so the vertical impulse of the ground
# balances that of gravity. A calibrated insole reads within about 20 % of
# that: it misses load outside its sensed area and has its own calibration
# error, and a walk is never perfectly steady (our simulator's curves give
# 1.03-1.09, the F-Scan example with its stated mass 1.08). Beyond the band
# the mass, the calibration or the unit is wrong (gaitpdb's insoles read
# 1.29-1.45 x mass x g), and every value in BW inherits that error.
PLAUSIBLE_LOAD_TO_BODY_WEIGHT = (0.8, 1.2)

_UNCALIBRATED_PAIR_NOTE = (
    "uncalibrated insoles (au): one body weight, from both feet's pooled load, scales both feet, so a "
    "difference between the two insoles' gains shows as left/right asymmetry; force symmetry indices and the "
    "standing left/right split (marked uncalibrated_force) are not interpretable as load asymmetry unless the "
    "insoles are calibrated alike"
)

# Below this many samples per foot the two feet are analysed one after the
# other: a thread would cost more than it saves on a short recording.
_PARALLEL_MIN_SAMPLES = 100_000


def _per_side(work: Callable[[str], Any], recording: Recording) -> list[Any]:
    """``work(side)`` for every side, in side order; both feet at once on two threads when worth it.

    The per-foot stages share nothing and spend their time in numpy, which
    releases the GIL, so the second core does real work. Results (and the
    first exception, if any) are those of running the sides one by one.
    """
    sides = list(recording.sides)
    longest = max((recording.foot(side).n_samples for side in sides), default=0)
    if len(sides) < 2 or longest < _PARALLEL_MIN_SAMPLES:
        return [work(side) for side in sides]
    with ThreadPoolExecutor(max_workers=len(sides), thread_name_prefix="insole-foot") as pool:
        futures = [pool.submit(work, side) for side in sides]
        return [future.result() for future in futures]


def _body_weight(recording, params, prepared, timing) -> dict[str, Any]:
    """Body weight in the force unit, and how it was obtained.

    With a body mass and calibrated insoles, the insoles' own mean walking
    load is compared with mass x g; outside ``PLAUSIBLE_LOAD_TO_BODY_WEIGHT``
    the result carries a ``note`` (it also goes to each foot's quality notes).
    """
    sides = recording.sides
    unit = "au" if any(prepared[s].force_unit == "au" for s in sides) else "N"
    per_foot_means = []
    n_strides = 0
    for side in sides:
        tm, foot = timing[side], prepared[side]
        if tm.n_contacts < 2:
            continue
        use = tm.stride_used
        a, b = tm.hs_index[:-1][use], tm.hs_index[1:][use]
        if a.size == 0:
            continue
        # the mean over the samples observed: a bridged gap's missing samples are not zeros
        observed = np.isfinite(foot.force)
        sums = reduce_intervals(np.add, np.where(observed, foot.force, 0.0), a, b)
        counts = reduce_intervals(np.add, observed.astype(np.int64), a, b)
        per_foot_means.append(float(np.sum(sums) / max(int(np.sum(counts)), 1)))
        n_strides += int(a.size)
    estimate = float("nan")
    how = ""
    if per_foot_means:
        scale = 2.0 if len(per_foot_means) == 1 else 1.0
        estimate = scale * float(np.sum(per_foot_means))
        how = (
            f"the mean vertical force of {'both feet' if scale == 1 else 'one foot, doubled'} over {n_strides} "
            "complete walking strides (in steady walking this equals body weight)"
        )
    mass = params.body_mass_kg if params.body_mass_kg is not None else recording.meta.body_mass_kg
    result: dict[str, Any] = {
        "unit": unit,
        "mass_kg": mass,
        "estimated_from_load": estimate,
        "plausible_load_to_body_weight_ratio": list(PLAUSIBLE_LOAD_TO_BODY_WEIGHT),
        "note": None,
    }
    if mass is not None and unit == "N":
        value = float(mass) * STANDARD_GRAVITY_M_S2
        origin = "analysis parameters" if params.body_mass_kg is not None else "recording metadata"
        result.update(value=value, method="mass", source=f"body mass {float(mass):g} kg ({origin}) x g = {value:.0f} N")
        ratio = estimate / value if math.isfinite(estimate) else float("nan")
        result["load_to_body_weight_ratio"] = ratio
        low, high = PLAUSIBLE_LOAD_TO_BODY_WEIGHT
        if math.isfinite(ratio) and not low <= ratio <= high:
            result["note"] = (
                f"body weight check: the insoles' mean walking load is {ratio:.2f} x body mass x g "
                f"(plausible {low:g}-{high:g}): the body mass ({float(mass):g} kg), the insoles' calibration or "
                f"their unit is wrong, and metrics in BW (from the mass) carry that error"
            )
    elif math.isfinite(estimate):
        result.update(
            value=estimate,
            method="load",
            source=f"estimated from the recording's own load: {how} = {estimate:.4g} {unit}",
        )
        result["load_to_body_weight_ratio"] = float("nan")
    else:
        result.update(value=float("nan"), method="unavailable",
                      source="unavailable (no body mass and no complete walking strides); BW metrics are NaN")
        result["load_to_body_weight_ratio"] = float("nan")
    return result


def _step_table(recording, foot, tm, found, bw, params, cop_ok, cpei_ok):
    """One row per contact with both events; features for walking contacts without gaps."""
    fs = foot.sample_rate_hz
    hs, to = tm.hs_index, tm.to_index
    complete = (hs >= 0) & (to >= 0) & (to > hs)
    contact = np.flatnonzero(complete)
    data: dict[str, Any] = {
        "contact": contact,
        "heel_strike_s": tm.heel_strike_s[contact],
        "toe_off_s": tm.toe_off_s[contact],
        "stance_time_s": np.where(
            tm.gap_free(tm.heel_strike_s[contact], tm.toe_off_s[contact]),
            tm.toe_off_s[contact] - tm.heel_strike_s[contact],
            np.nan,
        ),
        "kind": np.where(tm.walking_contact[contact], "walking", "standing"),
        "has_gap": tm.contact_has_gap[contact],
        "heel_strike_confidence": found.heel_strike_confidence[contact],
        "toe_off_confidence": found.toe_off_confidence[contact],
    }
    # nothing is computed across a gap: stance metrics only for walking contacts without one
    measured = tm.walking_contact[contact] & ~tm.contact_has_gap[contact]
    idx = contact[measured]
    a, b = hs[idx], to[idx]
    columns: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        columns.update(force_features(foot.force, a, b, fs, bw, calibrated=foot.force_unit == "N"))
        cop_xy = None
        if cop_ok:
            min_force = params.cop_min_force_fraction * bw if math.isfinite(bw) else 0.0
            cop_xy = cop_path(foot.positive_load_t, recording.layout, foot.force, min_force)
            columns.update(cop_features(cop_xy[0], cop_xy[1], foot.force, a, b, recording.layout, cpei_ok))
        regional, per_sensor = region_features(
            foot.positive_load_t, foot.sensor_load_unit == "N", foot.positive_pressure_t, foot.sensor_used,
            recording.layout, a, b, fs,
        )
        # a sensor left out over part of a stance (a dead or stuck span) reads zero there:
        # its own numbers for that stance are missing, not "no load"
        left_out = np.zeros((a.size, recording.layout.n_sensors), dtype=bool)
        for sensor, start, stop in foot.sensor_gaps:
            left_out[:, sensor] |= (a < stop) & (b > start)
        per_sensor["left_out"] = left_out
        columns.update(regional)
    for name, values in columns.items():
        full = np.full(contact.size, np.nan)
        full[measured] = values
        data[name] = full
    measured_all = np.zeros(hs.size, dtype=bool)
    measured_all[idx] = True
    return pd.DataFrame(data), cop_xy, measured_all, per_sensor


def _stride_table(steps: pd.DataFrame, tm: FootTiming) -> pd.DataFrame:
    m = tm.n_contacts
    if m < 2:
        columns = ["stride", "heel_strike_s", "toe_off_s", "next_heel_strike_s", "stride_time_s", "stance_time_s",
                   "swing_time_s", "used", "exclusion_reason"]
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    hs, to = tm.heel_strike_s, tm.toe_off_s
    # nothing is computed across a gap: each time is NaN when a gap longer
    # than the bridge lies between its two events (the row stays, unused)
    stride_time = np.where(tm.gap_free(hs[:-1], hs[1:]), hs[1:] - hs[:-1], np.nan)
    stance = np.where(tm.gap_free(hs[:-1], to[:-1]), to[:-1] - hs[:-1], np.nan)
    swing = np.where(tm.gap_free(to[:-1], hs[1:]), hs[1:] - to[:-1], np.nan)
    table = pd.DataFrame(
        {
            "stride": np.arange(m - 1),
            "heel_strike_s": hs[:-1],
            "toe_off_s": to[:-1],
            "next_heel_strike_s": hs[1:],
            "stride_time_s": stride_time,
            "stance_time_s": stance,
            "swing_time_s": swing,
            "stance_pct": 100.0 * stance / stride_time,
            "swing_pct": 100.0 * swing / stride_time,
            "cadence_steps_per_min": 120.0 / stride_time,
            "bout": tm.stride_bout,
            "used": tm.stride_used,
            "exclusion_reason": tm.stride_reason.astype(str),
        }
    )
    if tm.heading_change_deg is not None:
        table["heading_change_deg"] = tm.heading_change_deg
    # the stance metrics of each stride's first contact
    by_contact = steps.set_index("contact")
    extra = [c for c in by_contact.columns if c not in table.columns and c not in ("kind", "has_gap", "used")]
    joined = by_contact[extra].reindex(np.arange(m - 1))
    joined.index = table.index
    table = pd.concat([table, joined], axis=1)
    initial = table.get("initial_double_support_s")
    terminal = table.get("terminal_double_support_s")
    if initial is not None and terminal is not None:
        table["double_support_s"] = initial + terminal
        table["double_support_pct"] = 100.0 * table["double_support_s"] / table["stride_time_s"]
    return table


def _curves(foot, hs, to, bw, cop_xy, params) -> pd.DataFrame:
    points = int(params.curve_points)
    data: dict[str, np.ndarray] = {"percent_stance": np.linspace(0.0, 100.0, points)}
    grid = stance_grid(hs, to, points, foot.n) if hs.size else None
    force = normalised_curves(np.nan_to_num(foot.force), hs, to, points, grid)
    nan = np.full(points, np.nan)
    mean, sd = _column_mean_sd(force)
    calibrated = foot.force_unit == "N"
    data["force_n_mean"], data["force_n_sd"] = (mean, sd) if calibrated else (nan, nan.copy())
    # in body weights: the same curves divided by one number
    scaled = math.isfinite(bw) and bw > 0
    data["force_bw_mean"], data["force_bw_sd"] = (mean / bw, sd / bw) if scaled else (nan.copy(), nan.copy())
    if cop_xy is not None:
        for name, signal in (("cop_x_mm", cop_xy[0]), ("cop_y_mm", cop_xy[1])):
            data[f"{name}_mean"], data[f"{name}_sd"] = _column_mean_sd(normalised_curves(signal, hs, to, points, grid))
    data["n_stances"] = np.full(points, hs.size)
    return pd.DataFrame(data)


def _column_mean_sd(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD (n - 1) of each column over the finite values; NaN where there are none (or one, for SD)."""
    points = rows.shape[1]
    if rows.shape[0] == 0:
        return np.full(points, np.nan), np.full(points, np.nan)
    finite = np.isfinite(rows)
    if finite.all():  # the usual case for force: plain reductions
        mean = rows.mean(axis=0)
        sd = rows.std(axis=0, ddof=1) if rows.shape[0] > 1 else np.full(points, np.nan)
        return mean, sd
    count = finite.sum(axis=0)
    values = np.where(finite, rows, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, values.sum(axis=0) / count, np.nan)
        squares = np.where(finite, (values - mean) ** 2, 0.0).sum(axis=0)
        sd = np.where(count > 1, np.sqrt(squares / np.maximum(count - 1, 1)), np.nan)
    return mean, sd


def _region_summary(used_steps: pd.DataFrame, layout, foot) -> pd.DataFrame:
    rows = []
    for group, mask in available_groups(layout, foot.sensor_used).items():
        row: dict[str, Any] = {"region": group, "n_sensors": int(mask.sum()),
                               "sensors": ",".join(np.asarray(layout.sensor_names)[mask])}
        for metric in ("peak_pressure_kpa", "pti_kpa_s", "fti_n_s", "share_pct"):
            column = f"{group}_{metric}"
            if column in used_steps:
                values = used_steps[column].to_numpy(dtype=float)
                values = values[np.isfinite(values)]
                row[f"{metric}_mean"] = float(values.mean()) if values.size else float("nan")
                row[f"{metric}_sd"] = float(values.std(ddof=1)) if values.size > 1 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def _summary(per_foot, strides, body_weight, recording, prepared, timing, params) -> Summary:
    cv, robust_cv, sd, used = {}, {}, {}, {}
    all_stride_times = []
    for side, table in strides.items():
        times = table.loc[table["used"], "stride_time_s"].astype(float) if len(table) else pd.Series(dtype=float)
        used[side] = int(times.size)
        sd[side] = float(times.std(ddof=1)) if times.size > 1 else float("nan")
        mean = float(times.mean()) if times.size else float("nan")
        cv[side] = 100.0 * sd[side] / mean if times.size > 1 else float("nan")
        robust_cv[side] = robust_cv_pct(times.to_numpy())
        all_stride_times.append(times.to_numpy())
    pooled = np.concatenate(all_stride_times) if all_stride_times else np.zeros(0)
    cadence = 120.0 / float(pooled.mean()) if pooled.size else float("nan")
    key = {
        "cadence_steps_per_min": cadence,
        "stride_time_s": {s: per_foot.at["stride_time_s", f"{s}_mean"] if "stride_time_s" in per_foot.index else float("nan")
                          for s in strides},
    }
    return Summary(
        per_foot=per_foot,
        symmetry=symmetry_table(per_foot, uncalibrated=any(prepared[s].force_unit == "au" for s in recording.sides)),
        cadence_steps_per_min=cadence,
        stride_time_cv_pct=cv,
        stride_time_robust_cv_pct=robust_cv,
        stride_time_sd_s=sd,
        strides_used=used,
        body_weight=body_weight,
        standing=_standing(recording, prepared, timing, params),
        key_metrics=key,
    )


def _standing(recording, prepared, timing, params) -> dict[str, Any] | None:
    """Weight distribution over the periods when both feet stand (long contacts overlapping)."""
    if len(recording.sides) < 2:
        return None
    spans = {}
    for side in ("left", "right"):
        tm = timing[side]
        long = ~tm.walking_contact
        spans[side] = list(zip(tm.contact_start_s[long].tolist(), tm.contact_stop_s[long].tolist()))
    segments = []
    for a0, a1 in spans["left"]:
        for b0, b1 in spans["right"]:
            start, end = max(a0, b0), min(a1, b1)
            if end - start >= params.min_standing_s:
                segments.append((start, end))
    if not segments:
        return None
    result: dict[str, Any] = {"segments": [{"start_s": a, "end_s": b} for a, b in segments]}
    result["duration_s"] = float(sum(b - a for a, b in segments))
    means = {}
    front_rear = {}
    for side in ("left", "right"):
        foot = prepared[side]
        inside = np.zeros(foot.n, dtype=bool)
        for a, b in segments:
            inside |= (foot.time_s >= a) & (foot.time_s <= b)
        inside &= foot.valid
        means[side] = float(np.nanmean(foot.force[inside])) if inside.any() else float("nan")
        layout = recording.layout
        front = layout.region_mask("front") & foot.sensor_used
        rear = layout.region_mask("rearfoot") & foot.sensor_used
        if front.any() and rear.any() and inside.any():
            # shares of the whole foot's load (the midfoot takes the rest)
            load = foot.positive_load_t[:, inside].sum(axis=1, dtype=np.float64)  # per sensor
            whole = float(load[foot.sensor_used].sum())
            f, r = float(load[front].sum()), float(load[rear].sum())
            front_rear[side] = (100.0 * f / whole, 100.0 * r / whole) if whole > 0 else (float("nan"),) * 2
    # uncalibrated insoles: each foot on its own scale, so the split mixes load and gain
    result["uncalibrated_force"] = any(prepared[s].force_unit == "au" for s in ("left", "right"))
    total = means["left"] + means["right"]
    result["left_pct"] = 100.0 * means["left"] / total if total > 0 else float("nan")
    result["right_pct"] = 100.0 * means["right"] / total if total > 0 else float("nan")
    for side, (f, r) in front_rear.items():
        result[f"{side}_forefoot_pct"] = f
        result[f"{side}_rearfoot_pct"] = r
    return result


def _foot_events(tm: FootTiming, found: Contacts, steps: pd.DataFrame) -> FootEvents:
    hs_known = tm.hs_index >= 0
    to_known = tm.to_index >= 0
    contacts = pd.DataFrame(
        {
            "heel_strike_s": tm.heel_strike_s,
            "toe_off_s": tm.toe_off_s,
            "heel_strike_confidence": found.heel_strike_confidence,
            "toe_off_confidence": found.toe_off_confidence,
            "kind": np.where(tm.walking_contact, "walking", "standing"),
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

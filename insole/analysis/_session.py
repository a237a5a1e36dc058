"""The session stages: body weight (from the mass, or the recording's own load) and the summary.

Both rest on both feet's used strides: they run once per recording, after
the per-foot stages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from insole._errors import AnalysisError
from insole._recording import Recording
from insole._subject_tables import SUBJECT_TABLES
from insole.analysis._params import STANDARD_GRAVITY_M_S2, AnalysisParams
from insole.analysis._prepare import FootLoads
from insole.analysis._regions import layout_region_mask
from insole.analysis._result import Summary
from insole.analysis._segments import reduce_intervals
from insole.analysis._stance import StanceFeatures
from insole.analysis._strides import FootTiming
from insole.analysis._summary import (
    VARIABILITY_MIN_STRIDES,
    FootStatistics,
    per_foot_statistics,
    robust_cv_pct,
    stride_variability_pct,
    symmetry_table,
    timing_variability,
)

__all__ = ["BodyWeight", "body_weight", "standing_split", "summarise", "PLAUSIBLE_LOAD_TO_BODY_WEIGHT"]

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

_NOT_GIVEN = object()  # ``summarise``'s standing split when its caller did not take it earlier



@dataclass(frozen=True, eq=False)
class BodyWeight:
    """Body weight and how it was obtained: ``value`` in the force unit, ``method`` "mass", "load" or "unavailable".

    ``fields`` (read-only) holds what ``Summary.body_weight`` reports, in its
    order: unit, mass_kg, the estimate from the load, the plausible band,
    ``note`` (None unless the insoles' load contradicts the mass), value,
    method, source and the load-to-body-weight ratio.
    """

    fields: Mapping[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    @property
    def value(self) -> float:
        return float(self.fields["value"])

    @property
    def method(self) -> str:
        return str(self.fields["method"])

    @property
    def source(self) -> str:
        return str(self.fields["source"])

    @property
    def note(self) -> str | None:
        return self.fields.get("note")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.fields)


def _mass_origin(recording: Recording) -> str:
    """Where a recording's own body mass came from, as the body weight's source says it: its metadata, and for a
    dataset whose importer reads the mass from a subject table beside the file (gaitpdb's demographics.txt), that
    table, so that a reader of a copy without it knows why the copy has no mass."""
    table = SUBJECT_TABLES.get(str((recording.meta.source or {}).get("format")))
    extra = recording.meta.extra or {}
    if table is not None and any(isinstance(extra.get(key), Mapping) for key in ("demographics", "subject")):
        return f"recording metadata, from the subject table {table}"
    return "recording metadata"


def weight_from_mass(
    recording: Recording, loads: Mapping[str, FootLoads], params: AnalysisParams
) -> tuple[float | None, str, float | None]:
    """The body mass (kg: the parameters', else the recording's), the feet's force unit ("au" when any foot's is,
    else "N") and the body weight the mass gives (mass x g, N), known before any force: None without a mass or
    for uncalibrated (au) forces. ``body_weight`` takes its weight from here, and so does the streamed analysis
    ahead of it."""
    mass = params.body_mass_kg if params.body_mass_kg is not None else recording.meta.body_mass_kg
    unit = "au" if any(loads[s].force_unit == "au" for s in recording.sides) else "N"
    return mass, unit, float(mass) * STANDARD_GRAVITY_M_S2 if mass is not None and unit == "N" else None


def body_weight(
    recording: Recording, loads: Mapping[str, FootLoads], timing: Mapping[str, FootTiming], params: AnalysisParams
) -> BodyWeight:
    """Body weight in the force unit, and how it was obtained (a step of the feature stage: BW needs the strides).

    With a body mass and calibrated insoles, the insoles' own mean walking
    load is compared with mass x g; outside ``PLAUSIBLE_LOAD_TO_BODY_WEIGHT``
    the result carries a ``note`` (it also goes to each foot's quality notes).
    """
    sides = recording.sides
    mass, unit, from_mass = weight_from_mass(recording, loads, params)
    per_foot_means = []
    n_strides = 0
    for side in sides:
        tm, foot = timing[side], loads[side]
        if tm.n_contacts < 2:
            continue
        use = tm.stride_used
        a, b = tm.hs_index[:-1][use], tm.hs_index[1:][use]
        if a.size == 0:
            continue
        # the mean over the samples observed: a bridged gap's missing samples are not zeros
        observed = np.isfinite(foot.force)
        if observed.all() and foot.force.dtype == np.float64:  # no gap: the force itself, a stride's count its length
            sums = reduce_intervals(np.add, foot.force, a, b)
            counts = b - a  # (reduce_intervals refuses an empty stride, as before)
        else:
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
    result: dict[str, Any] = {
        "unit": unit,
        "mass_kg": mass,
        "estimated_from_load": estimate,
        "plausible_load_to_body_weight_ratio": list(PLAUSIBLE_LOAD_TO_BODY_WEIGHT),
        "note": None,
    }
    if mass is not None and from_mass is not None:
        value = from_mass
        origin = "analysis parameters" if params.body_mass_kg is not None else _mass_origin(recording)
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
    return BodyWeight(result)


def summarise(
    recording: Recording,
    loads: Mapping[str, FootLoads],
    timing: Mapping[str, FootTiming],
    features: Mapping[str, StanceFeatures],
    body_weight: BodyWeight,
    params: AnalysisParams,
    standing: Any = _NOT_GIVEN,
    foot_stats: Mapping[str, FootStatistics] | None = None,
) -> Summary:
    """The summary stage: mean/SD/CV per foot over the used strides, symmetry, timing variability, and the
    standing weight split.

    ``standing``: ``standing_split(recording, loads, timing, params)`` when the caller took it earlier (it
    needs only the timing and the loads, so a caller may take it right after the timing and let each foot's
    per-sensor loads go after that foot's stance features); taken here when not given. ``foot_stats``:
    ``foot_statistics(features[side].strides)`` of the feet whose caller took it already (on that foot's own
    thread, say): ``per_foot_statistics`` then uses it (the same numbers).
    """
    if standing is _NOT_GIVEN:
        standing = standing_split(recording, loads, timing, params)
    strides = {side: features[side].strides for side in recording.sides}
    per_foot = per_foot_statistics(strides, known=dict(foot_stats) if foot_stats else None)
    cv, robust_cv, sd, used = {}, {}, {}, {}
    all_stride_times = []
    stride_times: dict[str, np.ndarray] = {}
    stance_times: dict[str, np.ndarray] = {}
    for side, table in strides.items():
        # the used strides' times as numpy picks them (the same values as .loc; mean and SD below are pandas')
        chosen = table["used"].to_numpy(dtype=bool) if len(table) else np.zeros(0, dtype=bool)
        times = (pd.Series(table["stride_time_s"].to_numpy(dtype=float)[chosen]) if len(table)
                 else pd.Series(dtype=float))
        stride_times[side] = times.to_numpy()
        stance_times[side] = table["stance_time_s"].to_numpy(dtype=float)[chosen] if len(table) else np.zeros(0)
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
        "stride_time_s": {
            s: per_foot.at["stride_time_s", f"{s}_mean"] if "stride_time_s" in per_foot.index else float("nan")
            for s in strides
        },
    }
    # each foot's stride-to-stride variability, taken once for the per-foot figures and the session's
    stride_variability = {s: stride_variability_pct(t) if t.size >= VARIABILITY_MIN_STRIDES else float("nan")
                          for s, t in stride_times.items()}
    stance_variability = {s: stride_variability_pct(t) if t.size >= VARIABILITY_MIN_STRIDES else float("nan")
                          for s, t in stance_times.items()}
    return Summary(
        per_foot=per_foot,
        symmetry=symmetry_table(per_foot, uncalibrated=any(loads[s].force_unit == "au" for s in recording.sides)),
        cadence_steps_per_min=cadence,
        stride_time_cv_pct=cv,
        stride_time_robust_cv_pct=robust_cv,
        stride_time_sd_s=sd,
        strides_used=used,
        stride_time_variability_pct=stride_variability,
        stance_time_variability_pct=stance_variability,
        timing_variability=timing_variability(stride_times, stance_times,
                                              known=(stride_variability, stance_variability)),
        body_weight=body_weight.to_dict(),
        standing=None if standing is None else dict(standing),
        key_metrics=key,
    )


def standing_split(
    recording: Recording, loads: Mapping[str, FootLoads], timing: Mapping[str, FootTiming], params: AnalysisParams
) -> dict[str, Any] | None:
    """Weight distribution over the periods when both feet stand (long contacts overlapping); None without them.

    Reads the timing and each foot's force and per-sensor loads (``positive_load_t``), nothing of the stance
    features: ``summarise`` takes it when its caller has not.
    """
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
        foot = loads[side]
        inside = np.zeros(foot.n, dtype=bool)
        for a, b in segments:
            inside |= (foot.time_s >= a) & (foot.time_s <= b)
        inside &= foot.valid
        means[side] = float(np.nanmean(foot.force[inside])) if inside.any() else float("nan")
        layout = recording.layout
        front = layout_region_mask(layout, "front") & foot.sensor_used
        rear = layout_region_mask(layout, "rearfoot") & foot.sensor_used
        if front.any() and rear.any() and inside.any():
            # shares of the whole foot's load (the midfoot takes the rest)
            positive = foot.positive_load_t
            if positive is None:  # never after remove_offset, which every caller runs first
                raise AnalysisError("the standing split needs the loads clipped at zero (remove_offset)")
            load = positive[:, inside].sum(axis=1, dtype=np.float64)  # per sensor
            whole = float(load[foot.sensor_used].sum())
            f, r = float(load[front].sum()), float(load[rear].sum())
            front_rear[side] = (100.0 * f / whole, 100.0 * r / whole) if whole > 0 else (float("nan"),) * 2
    # uncalibrated insoles: each foot on its own scale, so the split mixes load and gain
    result["uncalibrated_force"] = any(loads[s].force_unit == "au" for s in ("left", "right"))
    total = means["left"] + means["right"]
    result["left_pct"] = 100.0 * means["left"] / total if total > 0 else float("nan")
    result["right_pct"] = 100.0 * means["right"] / total if total > 0 else float("nan")
    for side, (f, r) in front_rear.items():
        result[f"{side}_forefoot_pct"] = f
        result[f"{side}_rearfoot_pct"] = r
    return result

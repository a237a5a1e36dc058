"""Regional loads per stance, over the layout's region groups.

For each region group with at least one used sensor (``insole._layout.REGION_GROUPS``:
heel, midfoot (arch), forefoot, toes, hallux, lesser toes, medial and lateral
forefoot, medial and lateral midfoot) and each stance:

* ``{group}_peak_pressure_kpa``: the highest pressure of any of its sensors
  (only when the recording holds pressures);
* ``{group}_pti_kpa_s``: pressure-time integral, the area under the group's
  peak-pressure curve over stance;
* ``{group}_fti_n_s``: force-time integral, the area under the group's summed
  force (only when sensor forces are known);
* ``{group}_share_pct``: the group's share of the whole foot's load-time
  integral (forces when known, otherwise raw values with equal areas assumed,
  which the quality notes);
* ``forefoot_ml_index_pct``: (medial - lateral) / (medial + lateral) forefoot
  load-time integral x 100, positive when the medial forefoot carries more.

Per sensor (for load maps): mean over used stances of the peak pressure, the
pressure-time integral and the share of load.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insole._analysis._segments import reduce_intervals
from insole._layout import SensorLayout

__all__ = ["REPORTED_GROUPS", "region_features", "sensor_table"]

REPORTED_GROUPS = (
    "heel",
    "midfoot",
    "forefoot",
    "toes",
    "hallux",
    "lesser_toes",
    "medial_forefoot",
    "lateral_forefoot",
    "medial_midfoot",
    "lateral_midfoot",
)


def available_groups(layout: SensorLayout, used: np.ndarray) -> dict[str, np.ndarray]:
    groups = {}
    for group in REPORTED_GROUPS:
        mask = layout.region_mask(group) & used
        if mask.any():
            groups[group] = mask
    return groups


def region_features(
    load: np.ndarray,
    load_is_force: bool,
    pressure: np.ndarray | None,
    used: np.ndarray,
    layout: SensorLayout,
    hs: np.ndarray,
    to: np.ndarray,
    sample_rate_hz: float,
) -> dict[str, np.ndarray]:
    m = hs.size
    dt = 1.0 / sample_rate_hz
    out: dict[str, np.ndarray] = {}
    groups = available_groups(layout, used)
    if m == 0:
        return {f"{g}_share_pct": np.zeros(0) for g in groups}
    positive = np.clip(np.nan_to_num(load), 0.0, None)
    total = reduce_intervals(np.add, positive[:, used].sum(axis=1), hs, to) * dt
    integrals = {}
    for group, mask in groups.items():
        group_load = reduce_intervals(np.add, positive[:, mask].sum(axis=1), hs, to) * dt
        integrals[group] = group_load
        if pressure is not None:
            peak_curve = np.nan_to_num(pressure[:, mask]).max(axis=1)
            out[f"{group}_peak_pressure_kpa"] = reduce_intervals(np.maximum, peak_curve, hs, to)
            out[f"{group}_pti_kpa_s"] = reduce_intervals(np.add, np.clip(peak_curve, 0, None), hs, to) * dt
        if load_is_force:
            out[f"{group}_fti_n_s"] = group_load
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{group}_share_pct"] = np.where(total > 0, 100.0 * group_load / total, np.nan)
    if "medial_forefoot" in integrals and "lateral_forefoot" in integrals:
        med, lat = integrals["medial_forefoot"], integrals["lateral_forefoot"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out["forefoot_ml_index_pct"] = np.where(med + lat > 0, 100.0 * (med - lat) / (med + lat), np.nan)
    return out


def sensor_table(
    load: np.ndarray,
    pressure: np.ndarray | None,
    used: np.ndarray,
    layout: SensorLayout,
    hs: np.ndarray,
    to: np.ndarray,
    sample_rate_hz: float,
) -> pd.DataFrame:
    """One row per sensor: position, region, used, and its mean stance loads over the given stances."""
    dt = 1.0 / sample_rate_hz
    k = layout.n_sensors
    table = pd.DataFrame(
        {
            "sensor": list(layout.sensor_names),
            "region": list(layout.regions),
            "x_mm": layout.x_mm,
            "y_mm": layout.y_mm,
            "used": used,
        }
    )
    if hs.size == 0:
        for column in ("peak_pressure_kpa", "pti_kpa_s", "share_pct"):
            table[column] = np.nan
        return table
    positive = np.clip(np.nan_to_num(load), 0.0, None)
    integral = reduce_intervals(np.add, positive, hs, to) * dt  # (m, k)
    totals = integral[:, used].sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals > 0, 100.0 * integral / totals, np.nan)
    table["share_pct"] = np.where(used, np.nanmean(share, axis=0), np.nan)
    if pressure is not None:
        p = np.nan_to_num(pressure)
        table["peak_pressure_kpa"] = np.where(used, reduce_intervals(np.maximum, p, hs, to).mean(axis=0), np.nan)
        table["pti_kpa_s"] = np.where(used, (reduce_intervals(np.add, np.clip(p, 0, None), hs, to) * dt).mean(axis=0), np.nan)
    else:
        table["peak_pressure_kpa"] = np.nan
        table["pti_kpa_s"] = np.nan
    del k
    return table

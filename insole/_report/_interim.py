"""INTERIM: per-step metrics straight from a recording, until ``insole.analyze`` (the analysis core) lands.

The report is meant to read the analysis core's results (``_metrics.session_metrics``
adapts them). While the core is being written, this module computes the same
per-step vocabulary itself, using the core's contact detector
(``insole._analysis._events.detect_contacts``) for heel strike and toe off and
plain whole-array arithmetic for the rest. It is used only when the core is not
importable, and every report made with it says so in its provenance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insole._recording import Recording
from insole._report._metrics import REGION_SHARES, FootMetrics, SessionMetrics, cop_ml_assessable

__all__ = ["interim_session_metrics", "INTERIM_NOTE"]

INTERIM_NOTE = ("metrics computed by the report's interim extractor (insole._report._interim) because the "
                "analysis core was not available")
_GRAVITY = 9.80665
_CURVE_POINTS = 101
_MIN_STRIDE_S, _MAX_STRIDE_S = 0.6, 2.5
_MAX_STANCE_S = 2.0


def _sensor_force(recording: Recording, side: str) -> np.ndarray:
    """Force per sensor: N for kPa (x area) and N input, au for uncalibrated input; NaN where invalid."""
    foot = recording.foot(side)
    values = foot.values.astype(np.float64)
    if recording.unit == "kPa":
        values = values * recording.layout.area_mm2[None, :] / 1000.0
    values = np.where(foot.valid[:, None], values, np.nan)
    return values


def interim_session_metrics(recording: Recording, body_mass_kg: float | None = None) -> SessionMetrics:
    from insole._analysis._events import detect_contacts
    from insole._analysis._params import AnalysisParams

    params = AnalysisParams()
    layout = recording.layout
    forces = {s: _sensor_force(recording, s) for s in recording.sides}
    mass = body_mass_kg or recording.meta.body_mass_kg
    calibrated = recording.unit in ("kPa", "N")
    contacts = {}
    for side in recording.sides:
        foot = recording.foot(side)
        total = np.nansum(forces[side], axis=1)
        contacts[side] = detect_contacts(foot.time_s, total, foot.valid, recording.sample_rate_hz, params)
    if calibrated and mass:
        bw_n, bw_source = mass * _GRAVITY, "given"
    elif calibrated:
        # over whole strides the vertical force averages body weight: mean of both feet's total
        both = sum(np.nansum(forces[s], axis=1) for s in recording.sides)
        bw_n, bw_source = float(np.nanmean(both)), "estimated"
    else:
        bw_n, bw_source = 1.0, None

    feet = {}
    for side in recording.sides:
        foot = recording.foot(side)
        sensor = forces[side]
        total = np.nansum(sensor, axis=1)
        c = contacts[side]
        ok = (c.heel_strike_index >= 0) & (c.toe_off_index >= 0) & ~c.has_gap
        hs, to = c.heel_strike_index[ok], c.toe_off_index[ok]
        t = foot.time_s
        rows = []
        curves = []
        cop_paths = []
        for k, (a, b) in enumerate(zip(hs, to)):
            stance = t[b] - t[a]
            if stance <= 0 or stance > _MAX_STANCE_S or b - a < 10:
                continue
            f = total[a:b + 1] / bw_n
            s = sensor[a:b + 1]
            n = f.size
            half = n // 2
            i1 = int(np.argmax(f[:half]))
            i2 = half + int(np.argmax(f[half:]))
            iv = i1 + int(np.argmin(f[i1:i2 + 1]))
            row = {
                "heel_strike_s": t[a], "stance_s": stance,
                "impulse": float(np.trapezoid(f, t[a:b + 1])),
                "peak_force": float(f.max()), "f1": float(f[i1]), "valley": float(f[iv]), "f2": float(f[i2]),
            }
            if calibrated and i1 > 0:
                row["loading_rate_bw_s"] = float(f[i1] / (t[a + i1] - t[a]))
            area = np.nansum(s, axis=0)
            whole = area.sum()
            for group in REGION_SHARES:
                mask = layout.region_mask(group)
                if mask.any() and whole > 0:
                    row[f"share_{group}"] = float(area[mask].sum() / whole)
            if whole > 0:
                row["cop_ml_offset_mm"] = float(area @ layout.y_mm / whole)
            rows.append(row)
            u = np.linspace(0, 1, n)
            grid = np.linspace(0, 1, _CURVE_POINTS)
            curves.append(np.interp(grid, u, f))
            if layout.n_sensors < 2:
                continue
            load = np.nansum(s, axis=1)
            safe = np.where(load > 0, load, np.nan)
            cop_paths.append(np.column_stack([np.interp(grid, u, s @ layout.x_mm / safe),
                                              np.interp(grid, u, s @ layout.y_mm / safe)]))
        steps = pd.DataFrame(rows)
        if len(steps):
            strike = steps["heel_strike_s"].to_numpy()
            stride = np.append(np.diff(strike), np.nan)
            stride = np.where((stride >= _MIN_STRIDE_S) & (stride <= _MAX_STRIDE_S), stride, np.nan)
            steps["stride_s"] = stride
        strides = steps["stride_s"].to_numpy(float) if len(steps) else np.zeros(0)
        curve_arr = np.asarray(curves) if curves else None
        in_stance = np.zeros(total.size, bool)
        for a, b in zip(hs, to):
            in_stance[a:b + 1] = True
        dt = 1.0 / recording.sample_rate_hz
        feet[side] = FootMetrics(
            side=side,
            steps=steps,
            stride_times_s=strides[np.isfinite(strides)],
            stance_times_s=steps["stance_s"].to_numpy(float)[np.isfinite(strides)] if len(steps) else np.zeros(0),
            quality="good" if foot.valid_fraction > 0.98 else ("fair" if foot.valid_fraction > 0.9 else "poor"),
            quality_notes=(f"{100 * foot.valid_fraction:.1f}% of samples valid",),
            valid_fraction=foot.valid_fraction,
            n_excluded=int((~ok).sum()),
            excluded_reasons={"event in a gap or unobserved": int((~ok).sum())},
            curve_mean=np.nanmean(curve_arr, axis=0) if curve_arr is not None else None,
            curve_sd=np.nanstd(curve_arr, axis=0, ddof=1) if curve_arr is not None and len(curve_arr) > 1 else None,
            cop_path_mm=np.nanmean(np.asarray(cop_paths), axis=0) if cop_paths and layout.n_sensors > 1 else None,
            sensor_peak=np.nanmax(np.where(in_stance[:, None], foot.values, np.nan), axis=0) if in_stance.any() else None,
            sensor_pti=(np.nansum(np.where(in_stance[:, None], foot.values, 0.0), axis=0) * dt
                        / max(len(steps), 1)) if in_stance.any() else None,
        )
    all_strides = np.concatenate([f.stride_times_s for f in feet.values()]) if feet else np.zeros(0)
    cadence = 120.0 / float(np.median(all_strides)) if all_strides.size else None
    return SessionMetrics(
        feet=feet, layout=layout, unit=recording.unit, sample_rate_hz=recording.sample_rate_hz,
        force_unit="BW" if calibrated else "au", duration_s=recording.duration_s,
        body_weight_source=bw_source, body_mass_kg=mass, cop_ml_ok=cop_ml_assessable(layout),
        cadence_steps_per_min=cadence,
        provenance={"metrics": INTERIM_NOTE, "analysis_params": params.to_dict()},
    )

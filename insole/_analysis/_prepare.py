"""Preparation of one foot: sensor checks, the total force, and the per-sensor loads.

Sensor checks (on valid samples only):

* **flat**: the sensor never changes (dead, or never under the foot);
* **stuck**: it repeats one non-zero value for ``stuck_run_s`` or longer while
  the foot's load changes by more than a fifth of its range;
* **saturated**: it sits on a plateau at its maximum (or at the saturation
  pressure the source states) in at least 3 runs of 5 or more samples.

Flat and stuck sensors are left out of everything; saturated ones too when
``exclude_saturated`` (the default). Every finding is listed in the quality.

The total force, in order of preference: the sum of the sensor forces (unit N,
or kPa with known sensor areas: force = pressure x area); the source's own
total-force channel ``vendor_total_force_n`` (when the areas are unknown);
otherwise the sum of the raw values in arbitrary units ("au", proportional to
force only if the sensors are alike). Which one was used is recorded.

Zero offset: once the swings are known, each sensor's median over mid-swing
samples (the middle half of every swing) is subtracted, and the total force's
too; the offsets are recorded. Negative values left after that are kept (they
are data); COP and regional weights use only positive loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from insole._analysis._params import AnalysisParams
from insole._analysis._segments import reduce_intervals, runs
from insole._layout import SensorLayout
from insole._recording import FootSamples, Recording

__all__ = ["PreparedFoot", "SensorFlag", "prepare_foot", "apply_zero_offset"]

# kPa x mm^2 = 1e3 N/m^2 x 1e-6 m^2
_KPA_MM2_TO_N = 1e-3
_SATURATION_MIN_RUNS = 3
_SATURATION_MIN_RUN_SAMPLES = 5


@dataclass(frozen=True)
class SensorFlag:
    """A sensor the checks found: ``status`` is "flat", "stuck" or "saturated"."""

    sensor: str
    status: str
    excluded: bool
    detail: str

    def to_dict(self) -> dict:
        return {"sensor": self.sensor, "status": self.status, "excluded": self.excluded, "detail": self.detail}


@dataclass(eq=False)
class PreparedFoot:
    """One foot ready for analysis (arrays are the foot's, sample by sample).

    ``force`` is the total force (N, or "au" when ``force_unit == "au"``), NaN
    where invalid. ``sensor_load`` is the per-sensor load used for COP and
    regional shares: force in N when known, otherwise the raw values (kPa or
    au, i.e. an equal-area assumption). ``sensor_pressure_kpa`` is set only
    when the recording holds pressures. Excluded sensors are zero in both.
    """

    side: str
    time_s: np.ndarray
    valid: np.ndarray
    sample_rate_hz: float
    force: np.ndarray
    force_unit: str
    force_source: str
    sensor_load: np.ndarray
    sensor_load_unit: str
    sensor_pressure_kpa: np.ndarray | None
    sensor_used: np.ndarray
    flags: list[SensorFlag] = field(default_factory=list)
    offsets: np.ndarray | None = None
    force_offset: float = 0.0
    zero_offset_note: str = "not applied"
    imu: FootSamples | None = None

    @property
    def n(self) -> int:
        return int(self.time_s.size)


def prepare_foot(recording: Recording, side: str, params: AnalysisParams) -> PreparedFoot:
    """Check the sensors and build the force and per-sensor loads of one foot (offsets not yet removed)."""
    foot = recording.foot(side)
    assert foot is not None
    layout = recording.layout
    values = np.asarray(foot.values, dtype=np.float64)
    valid = foot.valid.copy()
    n, k = values.shape
    names = layout.sensor_names

    flags: list[SensorFlag] = []
    used = np.ones(k, dtype=bool)
    observed = valid & np.all(np.isfinite(values), axis=1)
    if observed.any():
        seen = values[observed]
        # flat: never changes
        flat = np.ptp(seen, axis=0) == 0
        for j in np.flatnonzero(flat):
            flags.append(SensorFlag(names[j], "flat", True, f"reads {seen[0, j]:g} {recording.unit} throughout (dead or never loaded)"))
        used &= ~flat
        provisional_total = np.nansum(np.where(used, values, 0.0), axis=1)
        for j, detail in _stuck_sensors(values, observed, provisional_total, recording.sample_rate_hz, params, used):
            flags.append(SensorFlag(names[j], "stuck", True, detail))
            used[j] = False
        saturation = _saturation_kpa(recording)
        for j, detail in _saturated_sensors(seen, saturation, recording.unit, used):
            flags.append(SensorFlag(names[j], "saturated", params.exclude_saturated, detail))
            if params.exclude_saturated:
                used[j] = False

    masked = np.where(used[None, :], values, 0.0)
    masked[~valid] = np.nan
    unit = recording.unit
    vendor = foot.channels.get("vendor_total_force_n")
    pressure = masked if unit == "kPa" else None
    if unit == "N":
        load, load_unit = masked, "N"
        force = np.sum(masked, axis=1)
        force_unit, source = "N", "sum of the sensor forces"
    elif unit == "kPa" and layout.areas_known:
        load, load_unit = masked * (layout.area_mm2[None, :] * _KPA_MM2_TO_N), "N"
        force = np.sum(load, axis=1)
        force_unit, source = "N", "sum of sensor pressure x sensor area"
    elif vendor is not None:
        load, load_unit = masked, unit
        force = np.where(valid, np.asarray(vendor, dtype=np.float64), np.nan)
        force_unit, source = "N", "the source's total-force channel (sensor areas unknown)"
    else:
        load, load_unit = masked, unit
        force = np.sum(masked, axis=1)
        force_unit = "au"
        source = (
            "sum of the sensor values in arbitrary units"
            + (" (pressures with unknown areas: equal areas assumed)" if unit == "kPa" else "")
        )
    valid = valid & np.isfinite(force)
    force = np.where(valid, force, np.nan)
    return PreparedFoot(
        side=side,
        time_s=foot.time_s,
        valid=valid,
        sample_rate_hz=recording.sample_rate_hz,
        force=force,
        force_unit=force_unit,
        force_source=source,
        sensor_load=load,
        sensor_load_unit=load_unit,
        sensor_pressure_kpa=pressure,
        sensor_used=used,
        flags=flags,
        imu=foot if foot.gyro_dps is not None else None,
    )


def apply_zero_offset(prepared: PreparedFoot, swing_starts: np.ndarray, swing_stops: np.ndarray) -> None:
    """Subtract each sensor's and the total force's median over mid-swing samples (in place)."""
    lengths = swing_stops - swing_starts
    keep = lengths >= 4
    a = swing_starts[keep] + lengths[keep] // 4
    b = swing_stops[keep] - lengths[keep] // 4
    if a.size == 0:
        prepared.zero_offset_note = "not applied: no swing phase found"
        return
    counts = np.zeros(prepared.n + 1, dtype=np.int64)
    np.add.at(counts, a, 1)
    np.add.at(counts, b, -1)
    mid_swing = (np.cumsum(counts[:-1]) > 0) & prepared.valid
    if mid_swing.sum() < 3:
        prepared.zero_offset_note = "not applied: too few valid mid-swing samples"
        return
    offsets = np.median(prepared.sensor_load[mid_swing], axis=0)
    offsets[~prepared.sensor_used] = 0.0
    prepared.sensor_load = prepared.sensor_load - offsets[None, :]
    if prepared.sensor_pressure_kpa is not None:
        if prepared.sensor_load_unit == "kPa":
            prepared.sensor_pressure_kpa = prepared.sensor_load
        else:
            pressure_offsets = np.median(prepared.sensor_pressure_kpa[mid_swing], axis=0)
            pressure_offsets[~prepared.sensor_used] = 0.0
            prepared.sensor_pressure_kpa = prepared.sensor_pressure_kpa - pressure_offsets[None, :]
    force_offset = float(np.median(prepared.force[mid_swing]))
    prepared.force = prepared.force - force_offset
    prepared.offsets = offsets
    prepared.force_offset = force_offset
    prepared.zero_offset_note = (
        f"median of {int(mid_swing.sum())} mid-swing samples subtracted per sensor "
        f"(total force offset {force_offset:.4g} {prepared.force_unit})"
    )


def _saturation_kpa(recording: Recording) -> float | None:
    for source in (recording.layout.extra, recording.meta.extra):
        value = source.get("saturation_kpa") if isinstance(source, dict) or hasattr(source, "get") else None
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _stuck_sensors(values, observed, total, sample_rate_hz, params, used):
    """Sensors holding one non-zero value for ``stuck_run_s`` while the total changes a lot."""
    n, k = values.shape
    min_run = max(int(round(params.stuck_run_s * sample_rate_hz)), 2)
    if n < min_run:
        return []
    total_obs = np.where(observed, total, np.nan)
    finite_total = total_obs[np.isfinite(total_obs)]
    if finite_total.size == 0:
        return []
    span = float(np.percentile(finite_total, 95) - np.percentile(finite_total, 5))
    if span <= 0:
        return []
    # runs of identical values, all sensors at once (column-major flattening;
    # a run never continues from one sensor into the next)
    columns = values.T
    change = np.ones((k, n), dtype=bool)
    change[:, 1:] = columns[:, 1:] != columns[:, :-1]
    flat = change.ravel()
    starts = np.flatnonzero(flat)
    lengths = np.diff(np.concatenate([starts, [k * n]]))
    long_runs = lengths >= min_run
    starts, lengths = starts[long_runs], lengths[long_runs]
    sensor = starts // n
    first = starts % n
    value = columns.ravel()[starts]
    candidate = (value != 0) & np.isfinite(value) & used[sensor]
    if not candidate.any():
        return []
    starts_t, stops_t = first[candidate], first[candidate] + lengths[candidate]
    filled = np.where(np.isfinite(total_obs), total_obs, np.nan)
    hi = reduce_intervals(np.fmax, filled, starts_t, stops_t)
    lo = reduce_intervals(np.fmin, filled, starts_t, stops_t)
    moving = (hi - lo) > 0.2 * span
    found = []
    for j in np.unique(sensor[candidate][moving]):
        pick = (sensor[candidate] == j) & moving
        longest = int(lengths[candidate][pick].max())
        found.append((int(j), f"holds {value[candidate][pick][0]:g} for {longest / sample_rate_hz:.1f} s while the foot's load changes"))
    return found


def _saturated_sensors(seen, saturation_kpa, unit, used):
    """Sensors on a plateau at their maximum in several runs."""
    found = []
    for j in np.flatnonzero(used):
        column = seen[:, j]
        top = float(column.max())
        if top <= 0:
            continue
        at_top = column >= (saturation_kpa if (saturation_kpa is not None and unit == "kPa") else top)
        if saturation_kpa is not None and unit == "kPa" and top < saturation_kpa:
            continue
        starts, stops = runs(at_top)
        plateaus = int(np.sum((stops - starts) >= _SATURATION_MIN_RUN_SAMPLES))
        if plateaus >= _SATURATION_MIN_RUNS:
            found.append((int(j), f"flat at its maximum {top:g} {unit} in {plateaus} plateaus of 5+ samples"))
    return found

"""Preparation of one foot: sensor checks, the total force, and the per-sensor loads.

Sensor checks (on valid samples only):

* **flat**: the sensor never changes (dead, or never under the foot);
* **stuck**: it holds one non-zero value through a whole block of
  ``stuck_run_s`` (blocks aligned to the start, so any run of twice that is
  caught) while the foot's load changes by more than a fifth of its range;
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
too; the offsets are recorded. Negative values of the total force left after
that are kept (they are data); ``finish_loads`` then clips the per-sensor
loads at zero for COP and regional weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from insole._analysis._params import AnalysisParams
from insole._analysis._segments import reduce_intervals, runs
from insole._recording import FootSamples, Recording

__all__ = ["PreparedFoot", "SensorFlag", "prepare_foot", "apply_zero_offset", "finish_loads"]

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
    where invalid. ``sensor_load_t`` (sensors x samples) is the per-sensor load
    used for COP and regional shares: force in N when known, otherwise the raw
    values (kPa or au, i.e. an equal-area assumption). ``sensor_pressure_t``
    (kPa) is set only when the recording holds pressures. Excluded sensors,
    and invalid samples, are zero in both (float32).
    """

    side: str
    time_s: np.ndarray
    valid: np.ndarray
    sample_rate_hz: float
    force: np.ndarray
    force_unit: str
    force_source: str
    sensor_load_t: np.ndarray
    sensor_load_unit: str
    sensor_pressure_t: np.ndarray | None
    sensor_used: np.ndarray
    flags: list[SensorFlag] = field(default_factory=list)
    offsets: np.ndarray | None = None
    force_offset: float = 0.0
    zero_offset_note: str = "not applied"
    imu: FootSamples | None = None
    # filled by finish_loads(): positive loads and pressures, one contiguous row
    # per sensor (k, n), so that per-sensor passes never go through BLAS or strides
    positive_load_t: np.ndarray | None = None
    positive_pressure_t: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.time_s.size)


def finish_loads(prepared: PreparedFoot) -> None:
    """Clip the per-sensor loads (and pressures) at zero, in place, for COP and regional loads.

    A reading below zero after the offset is noise around the unloaded level:
    it counts as no load. The per-sensor arrays are this foot's own copies, so
    clipping them in place saves two (sensors x samples) arrays per foot;
    afterwards ``positive_load_t`` is ``sensor_load_t`` (and likewise for the
    pressures). The total force is not touched: it keeps its negatives.
    """
    np.maximum(prepared.sensor_load_t, 0, out=prepared.sensor_load_t)
    prepared.positive_load_t = prepared.sensor_load_t
    if prepared.sensor_pressure_t is not None:
        if prepared.sensor_pressure_t is not prepared.sensor_load_t:
            np.maximum(prepared.sensor_pressure_t, 0, out=prepared.sensor_pressure_t)
        prepared.positive_pressure_t = prepared.sensor_pressure_t


def prepare_foot(recording: Recording, side: str, params: AnalysisParams) -> PreparedFoot:
    """Check the sensors and build the force and per-sensor loads of one foot (offsets not yet removed).

    Per-sensor arrays are kept one row per sensor, (sensors, samples), in
    float32 as recorded: every per-sensor pass is then one contiguous 1-D
    sweep. Invalid samples are zero there and NaN in ``force`` (float64).
    """
    foot = recording.foot(side)
    assert foot is not None
    layout = recording.layout
    values_t = _transposed_float32(foot.values)  # the one transposition
    k, n = values_t.shape
    names = layout.sensor_names
    valid = foot.valid & np.isfinite(values_t).all(axis=0)

    flags: list[SensorFlag] = []
    used = np.ones(k, dtype=bool)
    if valid.all():  # the usual case: plain reductions are several times faster than masked ones
        top, bottom = values_t.max(axis=1), values_t.min(axis=1)
    elif valid.any():
        top = np.max(values_t, axis=1, where=valid[None, :], initial=-np.inf)
        bottom = np.min(values_t, axis=1, where=valid[None, :], initial=np.inf)
    values_t[:, ~valid] = 0
    if valid.any():
        # flat: never changes
        for j in np.flatnonzero(top == bottom):
            flags.append(SensorFlag(names[j], "flat", True, f"reads {top[j]:g} {recording.unit} throughout (dead or never loaded)"))
        used &= top != bottom
        provisional_total = values_t.sum(axis=0, dtype=np.float64)
        low, high = np.percentile(provisional_total[valid], [5, 95])  # one partition for both checks
        span = float(high - low)
        for j, detail in _stuck_sensors(values_t, valid, provisional_total, recording.sample_rate_hz, params, used, span):
            flags.append(SensorFlag(names[j], "stuck", True, detail))
            used[j] = False
        saturation = _saturation_kpa(recording)
        for j, detail in _saturated_sensors(values_t, valid, top, provisional_total, saturation, recording.unit, used, span):
            flags.append(SensorFlag(names[j], "saturated", params.exclude_saturated, detail))
            if params.exclude_saturated:
                used[j] = False
    masked = values_t
    masked[~used] = 0
    unit = recording.unit
    vendor = foot.channels.get("vendor_total_force_n")
    pressure = masked if unit == "kPa" else None
    if unit == "N":
        load, load_unit = masked, "N"
        force = masked.sum(axis=0, dtype=np.float64)
        force_unit, source = "N", "sum of the sensor forces"
    elif unit == "kPa" and layout.areas_known:
        load, load_unit = masked * (layout.area_mm2 * _KPA_MM2_TO_N).astype(np.float32)[:, None], "N"
        force = load.sum(axis=0, dtype=np.float64)
        force_unit, source = "N", "sum of sensor pressure x sensor area"
    elif vendor is not None:
        load, load_unit = masked, unit
        force = np.asarray(vendor, dtype=np.float64)
        force_unit, source = "N", "the source's total-force channel (sensor areas unknown)"
    else:
        load, load_unit = masked, unit
        force = masked.sum(axis=0, dtype=np.float64)
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
        sensor_load_t=load,
        sensor_load_unit=load_unit,
        sensor_pressure_t=pressure,
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
    # a median over at most ~20000 evenly spread mid-swing samples is plenty
    rows = np.flatnonzero(mid_swing)
    rows = rows[:: max(1, rows.size // 20000)]
    offsets = _row_medians(prepared.sensor_load_t[:, rows])
    offsets[~prepared.sensor_used] = 0.0
    invalid = np.flatnonzero(~prepared.valid)
    same = prepared.sensor_pressure_t is prepared.sensor_load_t
    # in place: the per-sensor arrays are this foot's own copies (prepare_foot made
    # them), and a fresh (sensors x samples) array per subtraction costs more than the sum
    if prepared.sensor_pressure_t is not None and not same:
        pressure_offsets = _row_medians(prepared.sensor_pressure_t[:, rows])
        pressure_offsets[~prepared.sensor_used] = 0.0
        prepared.sensor_pressure_t -= pressure_offsets.astype(np.float32)[:, None]
        prepared.sensor_pressure_t[:, invalid] = 0
    prepared.sensor_load_t -= offsets.astype(np.float32)[:, None]
    prepared.sensor_load_t[:, invalid] = 0
    force_offset = float(np.median(prepared.force[rows]))
    prepared.force = prepared.force - force_offset
    prepared.offsets = offsets
    prepared.force_offset = force_offset
    prepared.zero_offset_note = (
        f"median of {int(mid_swing.sum())} mid-swing samples subtracted per sensor "
        f"(total force offset {force_offset:.4g} {prepared.force_unit})"
    )


def _row_medians(values: np.ndarray) -> np.ndarray:
    """The median of each row of a finite 2-D array, as ``np.median(values, axis=1)`` gives it.

    By sorting: mid-swing readings are mostly one value (often exactly zero),
    and with so many ties numpy's sort beats its partition (and ``np.median``,
    which partitions and also checks for NaN; these values are all valid).
    """
    width = values.shape[1]
    half = width // 2
    ordered = np.sort(values, axis=1)
    if width % 2:
        return ordered[:, half]
    return (ordered[:, half - 1] + ordered[:, half]) / 2


def _transposed_float32(values: np.ndarray) -> np.ndarray:
    """``values`` (samples, sensors) as a C-contiguous float32 (sensors, samples) copy.

    Transposed block by block: a tall, thin array transposed in one go walks
    memory with a large stride and is about three times slower.
    """
    n, k = values.shape
    out = np.empty((k, n), dtype=np.float32)
    block = 8192
    for start in range(0, n, block):  # one step per 8192 samples, not per sample
        out[:, start:start + block] = values[start:start + block].T
    return out


def _saturation_kpa(recording: Recording) -> float | None:
    for source in (recording.layout.extra, recording.meta.extra):
        value = source.get("saturation_kpa") if isinstance(source, dict) or hasattr(source, "get") else None
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _stuck_sensors(values, valid, total, sample_rate_hz, params, used, span):
    """Sensors holding one non-zero value through a whole block of ``stuck_run_s`` while the load changes.

    Blocks are aligned to the recording's start, so every run of at least
    twice ``stuck_run_s`` is caught (and shorter ones that fill a block).
    """
    k, n = values.shape  # (sensors, samples)
    block = max(int(round(params.stuck_run_s * sample_rate_hz)), 2)
    nb = n // block
    if nb == 0 or not (span > 0):  # span: the total's 5th-95th percentile range over valid samples
        return []
    cut = values[:, : nb * block].reshape(k, nb, block)
    constant = ((cut.max(axis=2) == cut.min(axis=2)) & (cut[:, :, 0] != 0)).T  # (nb, k)
    blocks_valid = valid[: nb * block].reshape(nb, block).all(axis=1)
    total_blocks = total[: nb * block].reshape(nb, block)
    moving = (total_blocks.max(axis=1) - total_blocks.min(axis=1)) > 0.2 * span
    stuck = constant & (blocks_valid & moving)[:, None] & used[None, :]
    found = []
    for j in np.flatnonzero(stuck.any(axis=0)):
        first = int(np.argmax(stuck[:, j]))
        value = float(cut[j, first, 0])
        found.append((int(j), f"holds {value:g} for {block / sample_rate_hz:.1f} s or more from "
                              f"{first * block / sample_rate_hz:.1f} s while the foot's load changes"))
    return found


def _saturated_sensors(values, valid, top, total, saturation_kpa, unit, used, span):
    """Sensors on a plateau at their maximum (or at the stated saturation) in several runs of samples.

    A plateau counts only while the foot's total load keeps changing (by more
    than 5 % of its range): a sensor that holds its value while the whole foot
    stands still is quiet standing, not saturation.
    """
    k, n = values.shape  # (sensors, samples)
    if saturation_kpa is not None and unit == "kPa":
        level = np.where(top >= saturation_kpa, saturation_kpa, np.inf)
    else:
        level = np.where(top > 0, top, np.inf)
    level = np.where(used, level, np.inf).astype(values.dtype)
    at_top = (values >= level[:, None]) & valid[None, :]
    need = _SATURATION_MIN_RUNS * _SATURATION_MIN_RUN_SAMPLES
    found = []
    for j in np.flatnonzero(at_top.sum(axis=1) >= need):  # usually none: only these get a closer look
        starts, stops = runs(at_top[j])
        long = (stops - starts) >= _SATURATION_MIN_RUN_SAMPLES
        if not long.any() or span <= 0:
            continue
        changing = (reduce_intervals(np.maximum, total, starts[long], stops[long])
                    - reduce_intervals(np.minimum, total, starts[long], stops[long])) > 0.05 * span
        plateaus = int(changing.sum())
        if plateaus >= _SATURATION_MIN_RUNS:
            found.append((int(j), f"flat at its maximum {top[j]:g} {unit} in {plateaus} plateaus of 5+ samples"))
    return found

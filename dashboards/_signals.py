"""What the dashboards compute from sensor values: total load, centre of pressure, steps.

These are the dashboards' own quick figures for *watching* a walk (the live
page) and for a session whose analysis is not available. They are simple on
purpose and say so; the analysis core (``insole.analyze``) is the reference
for anything reported.

All functions work on whole arrays (samples along axis 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insole import SensorLayout

__all__ = [
    "LoadScale",
    "load_scale",
    "total_load",
    "centre_of_pressure_mm",
    "StepDetectorParams",
    "StepDetector",
    "detect_steps",
    "cadence_steps_per_min",
    "nice_ceiling",
]


@dataclass(frozen=True)
class LoadScale:
    """How sensor values add up to one load figure per foot.

    ``sensor_weights`` multiply each sensor's value before summing: sensor
    area in m^2 x 1000 for kPa with known areas (-> N), 1 otherwise.
    ``unit`` and ``label`` say what the sum is.
    """

    sensor_weights: np.ndarray
    unit: str  # "N", "kPa" (sum of pressures) or "au"
    label: str
    axis_label: str = ""


def load_scale(layout: SensorLayout, unit: str) -> LoadScale:
    """The load scale for a layout and a value unit (see ``LoadScale``)."""
    n = layout.n_sensors
    if unit == "N":
        return LoadScale(np.ones(n), "N", "total force (N)", "force (N)")
    if unit == "kPa" and layout.areas_known:  # the layout's own weights (SensorLayout.load_weights): area x 1e-3
        return LoadScale(layout.load_weights(unit), "N", "total force (N, from pressure x sensor area)", "force (N)")
    if unit == "kPa":
        return LoadScale(np.ones(n), "kPa", "sum of sensor pressures (kPa; sensor areas unknown)",
                         "sum of pressures (kPa)")
    return LoadScale(np.ones(n), "au", "total load (arbitrary units)", "load (au)")


def total_load(values: np.ndarray, scale: LoadScale) -> np.ndarray:
    """Load per sample (n,) from sensor values (n, n_sensors); NaN where a sample is missing."""
    values = np.asarray(values, dtype=np.float64)
    return values @ scale.sensor_weights


def centre_of_pressure_mm(
    values: np.ndarray, layout: SensorLayout, scale: LoadScale, min_load: float
) -> tuple[np.ndarray, np.ndarray]:
    """COP (x_mm, y_mm) in the foot frame per sample; NaN when the load is below ``min_load``."""
    weighted = np.clip(np.asarray(values, dtype=np.float64), 0.0, None) * scale.sensor_weights
    load = weighted.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = weighted @ layout.x_mm / load
        y = weighted @ layout.y_mm / load
    too_light = ~(load > min_load)
    x[too_light] = np.nan
    y[too_light] = np.nan
    return x, y


@dataclass(frozen=True)
class StepDetectorParams:
    """Thresholds of the quick step detector, as fractions of the foot's recent peak load.

    A heel strike is the load rising through ``on_fraction`` x peak; a toe off
    is the load falling through ``off_fraction`` x peak (hysteresis between
    the two keeps noise from making steps). The peak decays with
    ``peak_half_life_s`` so the thresholds follow the subject.
    ``min_phase_s`` drops a transition closer than this to the previous one.
    """

    on_fraction: float = 0.12
    off_fraction: float = 0.06
    peak_half_life_s: float = 4.0
    min_phase_s: float = 0.12


class StepDetector:
    """Online heel-strike / toe-off detector for one foot (hysteresis on total load).

    ``update(time_s, load)`` takes each new block and returns the transitions
    found in it as ``(kind, time_s)`` with kind "hs" or "to". Work per block is
    vectorised; only the (rare) transitions are looked at one by one.
    """

    def __init__(self, params: StepDetectorParams | None = None) -> None:
        self.params = params or StepDetectorParams()
        self.loaded = False
        self.peak = 0.0
        self._peak_time_s: float | None = None
        self._last_transition_s = -np.inf

    def update(self, time_s: np.ndarray, load: np.ndarray) -> list[tuple[str, float]]:
        time_s = np.asarray(time_s, dtype=np.float64)
        load = np.asarray(load, dtype=np.float64)
        present = np.isfinite(load)
        if not present.any():
            return []
        time_s, load = time_s[present], load[present]
        if self._peak_time_s is not None:
            elapsed = max(0.0, float(time_s[-1]) - self._peak_time_s)
            self.peak *= 0.5 ** (elapsed / self.params.peak_half_life_s)
        self.peak = max(self.peak, float(load.max()))
        self._peak_time_s = float(time_s[-1])
        if self.peak <= 0:
            return []
        on = load > self.params.on_fraction * self.peak
        off = load < self.params.off_fraction * self.peak
        states = _hysteresis(on, off, self.loaded)
        previous = np.concatenate([[self.loaded], states[:-1]])
        changes = np.flatnonzero(states != previous)
        found: list[tuple[str, float]] = []
        for index in changes:
            t = float(time_s[index])
            if t - self._last_transition_s < self.params.min_phase_s:
                continue
            kind = "hs" if states[index] else "to"
            if (kind == "hs") == self.loaded:
                continue  # a suppressed transition left us where we were
            found.append((kind, t))
            self.loaded = kind == "hs"
            self._last_transition_s = t
        return found


def _hysteresis(on: np.ndarray, off: np.ndarray, initial: bool) -> np.ndarray:
    """Loaded/unloaded state per sample: set by ``on``, cleared by ``off``, held otherwise."""
    decided = on | off
    last = np.where(decided, np.arange(on.size), -1)
    np.maximum.accumulate(last, out=last)
    return np.where(last >= 0, on[np.maximum(last, 0)], initial)


def detect_steps(
    time_s: np.ndarray, load: np.ndarray, params: StepDetectorParams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Heel strikes and toe offs (s) of a whole recording of one foot, with a fixed peak.

    The peak is the 98th percentile of the load (robust to a few spikes).
    """
    params = params or StepDetectorParams()
    detector = StepDetector(StepDetectorParams(params.on_fraction, params.off_fraction, float("inf"),
                                               params.min_phase_s))
    finite = np.asarray(load, dtype=np.float64)
    if np.isfinite(finite).any():
        detector.peak = float(np.nanpercentile(finite, 98))
    events = detector.update(time_s, load)
    heel = np.array([t for kind, t in events if kind == "hs"])
    toe = np.array([t for kind, t in events if kind == "to"])
    return heel, toe


def cadence_steps_per_min(heel_strikes_s: list[np.ndarray], max_stride_s: float = 2.5) -> float | None:
    """Cadence from each foot's heel strikes: 120 / median stride time; None with too few strides."""
    strides = [np.diff(np.sort(h)) for h in heel_strikes_s if len(h) >= 2]
    strides = [s[(s > 0.3) & (s < max_stride_s)] for s in strides]
    pooled = np.concatenate(strides) if strides else np.empty(0)
    if pooled.size == 0:
        return None
    return float(120.0 / np.median(pooled))


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7 x 10^k not below ``value`` (stable axis ranges)."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    exponent = np.floor(np.log10(value))
    for step in (1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0):
        candidate = step * 10.0**exponent
        if candidate >= value * (1 - 1e-9):
            return float(candidate)
    return float(10.0 ** (exponent + 1))  # pragma: no cover - loop always returns

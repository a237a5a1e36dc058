"""The recording model: two feet, one layout, samples on one clock, each sample valid or not.

A ``Recording`` holds, per foot, a ``FootSamples``: the time of every sample
slot (s, on the recording's common clock), the sensor values (kPa or N, one
column per layout sensor), a validity mask, and optional IMU channels. A
sample slot that carries no data (a lost packet, an empty field in a vendor
export, the WFDB invalid marker) is kept as a slot with ``valid == False`` and
NaN values: gaps are marked, never filled, and the time axis stays the source's.

Recordings are immutable (arrays are read-only) and validated when built.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Literal

import numpy as np

from insole._errors import RecordingError
from insole._layout import SensorLayout

__all__ = ["FootSamples", "Recording", "RecordingMeta", "ReferenceEvents", "Mark", "SIDES", "UNITS", "duration_s"]

SIDES: tuple[str, str] = ("left", "right")
Side = Literal["left", "right"]
# kPa: pressure per sensor; N: force per sensor; au: arbitrary units
# proportional to force (uncalibrated force-sensitive resistors, e.g. gaitndd).
UNITS = ("kPa", "N", "au")


# The largest finite float32: a sample value beyond it would become infinite when stored.
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# A subject id is a pseudonymous code (it names files and folders: BIDS sub-<id>), not a text.
SUBJECT_ID_MAX_CHARS = 128


# Set (per thread) only by ``adopted_foot``: arrays its caller made for the foot alone are kept, not copied.
_ADOPTING = threading.local()


def _frozen_array(values: Any, dtype: Any, name: str, shape: tuple[int | None, ...]) -> np.ndarray:
    if getattr(_ADOPTING, "on", False) and isinstance(values, np.ndarray) and values.dtype == dtype and (
        (values.flags.c_contiguous and values.flags.owndata)
        # or the transpose of a whole array the reader made, e.g. (samples, sensors) stored sensor by sensor
        or (values.flags.f_contiguous and isinstance(values.base, np.ndarray) and values.base.flags.owndata
            and values.base.flags.c_contiguous and values.base.shape == values.shape[::-1])
    ):
        array = values
    else:
        try:
            array = np.array(values, dtype=dtype, copy=True)
        except (TypeError, ValueError) as error:
            raise RecordingError(f"{name} cannot be read as {np.dtype(dtype).name} numbers ({error})") from None
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        raise RecordingError(f"{name} has shape {array.shape}, expected {shape}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class FootSamples:
    """The samples of one foot.

    ``time_s`` (n,) float64, strictly increasing; ``values`` (n, n_sensors)
    float32 in the recording's unit; ``valid`` (n,) bool; ``accel_g`` and
    ``gyro_dps`` optional (n, 3) float32; ``channels`` optional extra (n,)
    channels named with their unit (e.g. ``vendor_total_force_n``).
    """

    time_s: np.ndarray
    values: np.ndarray
    valid: np.ndarray
    accel_g: np.ndarray | None = None
    gyro_dps: np.ndarray | None = None
    channels: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        time_s = _frozen_array(self.time_s, np.float64, "time_s", (None,))
        n = time_s.shape[0]
        _refuse_infinite(self.values, "values")
        values = _frozen_array(self.values, np.float32, "values", (None,) * max(1, np.ndim(self.values)))
        if values.ndim == 1:
            values = values[:, None]  # a read-only view: no second copy of the foot's values
        if values.ndim != 2 or values.shape[0] != n:
            raise RecordingError(f"values has shape {values.shape}, expected {(n, None)}")
        valid = _frozen_array(self.valid, bool, "valid", (n,))
        object.__setattr__(self, "time_s", time_s)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "valid", valid)
        for name in ("accel_g", "gyro_dps"):
            if getattr(self, name) is not None:
                _refuse_infinite(getattr(self, name), name)
                object.__setattr__(self, name, _frozen_array(getattr(self, name), np.float32, name, (n, 3)))
        channels = {}
        for key, channel in dict(self.channels).items():
            channels[str(key)] = _frozen_array(channel, np.float64, f"channel {key}", (n,))
        object.__setattr__(self, "channels", channels)
        if n > 1 and not np.all(np.diff(time_s) > 0):
            raise RecordingError("time_s must be strictly increasing")
        if not np.all(np.isfinite(time_s)):
            raise RecordingError("time_s must be finite (mark missing samples invalid instead)")

    @property
    def n_samples(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def n_sensors(self) -> int:
        return int(self.values.shape[1])

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean()) if self.n_samples else 0.0

    def gaps(self) -> list[tuple[float, float, int]]:
        """Runs of invalid samples as ``(start_s, end_s, n_samples)``; times of the first and last invalid slot."""
        invalid = ~self.valid
        if not invalid.any():
            return []
        padded = np.concatenate([[False], invalid, [False]])
        edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
        starts, stops = edges[::2], edges[1::2]
        return [(float(self.time_s[a]), float(self.time_s[b - 1]), int(b - a)) for a, b in zip(starts, stops)]

    def equals(self, other: FootSamples) -> bool:
        """Exact equality of every array (NaN equal to NaN)."""
        def same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
            if a is None or b is None:
                return a is None and b is None
            return (
                a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
            )

        return (
            same(self.time_s, other.time_s)
            and same(self.values, other.values)
            and same(self.valid, other.valid)
            and same(self.accel_g, other.accel_g)
            and same(self.gyro_dps, other.gyro_dps)
            and self.channels.keys() == other.channels.keys()
            and all(same(self.channels[k], other.channels[k]) for k in self.channels)
        )


def adopted_foot(**fields: Any) -> FootSamples:
    """``FootSamples(**fields)`` keeping, not copying, the arrays already of the right type and layout.

    For readers that built each array for this foot alone and keep no other
    reference to it (an hour's two feet are some 90 MB: a copy costs time and
    doubles the peak). Validation is the constructor's; arrays are made read-only.
    An array is kept when it is C-contiguous and owns its data, or when it is the
    whole transpose of such an array (``values`` filled sensor by sensor from a
    columnar file: ``values.T`` is then the (sensors, samples) array the analysis
    works on, one plain copy away).
    """
    _ADOPTING.on = True
    try:
        return FootSamples(**fields)
    finally:
        _ADOPTING.on = False


def _refuse_infinite(values: Any, name: str) -> None:
    """A sample value is a number or NaN (a gap): never infinite, never beyond float32, where it would become so."""
    array = np.asarray(values)
    if array.dtype.kind not in "fc" or array.size == 0:
        return
    with np.errstate(invalid="ignore", over="ignore"):
        bad = np.isinf(array) if array.dtype == np.float32 else ~(np.abs(array) <= _FLOAT32_MAX) & ~np.isnan(array)
    if bad.any():
        where = np.argwhere(bad)[0]
        at = f"sample {where[0]}" + (f", column {where[1] + 1}" if where.size > 1 else "")
        raise RecordingError(
            f"{name} hold {int(bad.sum())} infinite value(s) or value(s) beyond ±3.4e38 "
            f"(first {float(array[tuple(where)].real)!r} at {at}); a missing sample is NaN, marked invalid"
        )


@dataclass(frozen=True)
class ReferenceEvents:
    """Gait events given by the source (a vendor's detector, a lab's reference), in s on the recording's axis."""

    source: str
    heel_strike_s: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # side -> times
    toe_off_s: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. the lab's per-stride table

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "heel_strike_s": {k: list(v) for k, v in self.heel_strike_s.items()},
            "toe_off_s": {k: list(v) for k, v in self.toe_off_s.items()},
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceEvents:
        return cls(
            source=str(data.get("source", "")),
            heel_strike_s={k: tuple(map(float, v)) for k, v in (data.get("heel_strike_s") or {}).items()},
            toe_off_s={k: tuple(map(float, v)) for k, v in (data.get("toe_off_s") or {}).items()},
            extra=dict(data.get("extra") or {}),
        )


@dataclass(frozen=True)
class Mark:
    """A clinician's mark or a test phase boundary at ``time_s`` (e.g. "turn", "pain")."""

    time_s: float
    label: str
    kind: str = "mark"  # "mark" | "phase" | other producers' kinds

    def __post_init__(self) -> None:
        if not isinstance(self.time_s, Real) or isinstance(self.time_s, bool) or not np.isfinite(self.time_s):
            raise RecordingError(f"a mark's time must be a finite number of seconds, not {self.time_s!r}"[:200])
        if not isinstance(self.label, str) or not isinstance(self.kind, str):
            raise RecordingError("a mark's label and kind must be text")

    def to_dict(self) -> dict[str, Any]:
        return {"time_s": self.time_s, "label": self.label, "kind": self.kind}


@dataclass(frozen=True)
class RecordingMeta:
    """Who, what and how: everything about a recording that is not a sample.

    ``subject_id`` is pseudonymous. ``devices`` maps side -> device facts
    (serial, firmware, name, address). ``software`` names what captured or
    imported the data. ``source`` describes the input (path, format, sha256).
    ``capture_quality`` holds the collector's figures when there are any.
    """

    subject_id: str | None = None
    body_mass_kg: float | None = None
    shoe_size_eu: float | None = None
    condition: str | None = None
    notes: str | None = None
    recorded_at: str | None = None  # ISO 8601, when the source says
    devices: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    software: Mapping[str, Any] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict)
    capture_quality: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("subject_id", "condition", "notes", "recorded_at"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise RecordingError(f"metadata {name} must be text, not {type(value).__name__}")
        for name in ("body_mass_kg", "shoe_size_eu"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Real) or isinstance(value, bool)):
                raise RecordingError(f"metadata {name} must be a number, not {type(value).__name__}")
        for name in ("devices", "software", "source", "extra", "capture_quality"):
            value = getattr(self, name)
            if not isinstance(value, Mapping) and not (value is None and name == "capture_quality"):
                raise RecordingError(f"metadata {name} must be a mapping (JSON object), not {type(value).__name__}")
        if self.body_mass_kg is not None and not (0 < float(self.body_mass_kg) < 500):
            raise RecordingError(f"body mass {self.body_mass_kg} kg is not plausible")
        if self.shoe_size_eu is not None and not (0 < float(self.shoe_size_eu) < 100):
            raise RecordingError(f"shoe size {self.shoe_size_eu} (EU) is not plausible")
        subject = self.subject_id
        if subject is not None:
            if len(subject) > SUBJECT_ID_MAX_CHARS:
                raise RecordingError(
                    f"subject id is {len(subject)} characters long; at most {SUBJECT_ID_MAX_CHARS} "
                    "(a pseudonymous code such as P-017)"
                )
            if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in subject):
                raise RecordingError(f"subject id {subject!r} holds control characters")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordingMeta:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def duration_s(times: Iterable[np.ndarray], sample_rate_hz: float) -> float:
    """A recording's duration from its feet's time axes: from the first sample of either foot to the last, plus one
    sample (``Recording.duration_s``, and the readers of our format that never build a ``Recording``); 0 without a
    sample."""
    starts, ends = [], []
    for time_s in times:
        if time_s.size:
            starts.append(time_s[0])
            ends.append(time_s[-1])
    if not starts:
        return 0.0
    return float(max(ends) - min(starts) + 1.0 / sample_rate_hz)


@dataclass(frozen=True, eq=False)
class Recording:
    """A session: per-foot samples on one clock, the sensor layout, units and metadata.

    ``sample_rate_hz`` is the nominal rate. ``unit`` is "kPa" (pressure per
    sensor), "N" (force per sensor) or "au" (uncalibrated, proportional to force).
    At least one foot is present; a missing foot is ``None``.
    """

    layout: SensorLayout
    unit: str
    sample_rate_hz: float
    left: FootSamples | None
    right: FootSamples | None
    meta: RecordingMeta = field(default_factory=RecordingMeta)
    reference_events: ReferenceEvents | None = None
    marks: tuple[Mark, ...] = ()

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise RecordingError(f"unit must be one of {UNITS}, not {self.unit!r}")
        if not (np.isfinite(self.sample_rate_hz) and self.sample_rate_hz > 0):
            raise RecordingError(f"sample rate must be positive, not {self.sample_rate_hz!r}")
        if self.left is None and self.right is None:
            raise RecordingError("a recording needs at least one foot")
        for side in SIDES:
            foot = self.foot(side)
            if foot is not None and foot.n_sensors != self.layout.n_sensors:
                raise RecordingError(
                    f"{side} foot has {foot.n_sensors} sensor columns but layout "
                    f"{self.layout.name} has {self.layout.n_sensors}"
                )
        object.__setattr__(self, "marks", tuple(self.marks))

    def foot(self, side: str) -> FootSamples | None:
        if side == "left":
            return self.left
        if side == "right":
            return self.right
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")

    def samples(self, side: str) -> FootSamples:
        """The samples of a foot the recording has (``side`` from ``sides``); ``foot(side)`` when it may be absent."""
        foot = self.foot(side)
        if foot is None:
            raise RecordingError(f"the recording has no {side} foot (it has: {', '.join(self.sides) or 'none'})")
        return foot

    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(s for s in SIDES if self.foot(s) is not None)

    @property
    def duration_s(self) -> float:
        return duration_s((self.samples(s).time_s for s in self.sides), self.sample_rate_hz)

    def replace(self, **changes: Any) -> Recording:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def with_meta(self, **changes: Any) -> Recording:
        return self.replace(meta=dataclasses.replace(self.meta, **changes))

    def equals(self, other: Recording) -> bool:
        """Identical arrays, validity, layout, units, metadata, events and marks."""
        def same_foot(a: FootSamples | None, b: FootSamples | None) -> bool:
            if a is None or b is None:
                return a is None and b is None
            return a.equals(b)

        return (
            self.layout == other.layout
            and self.unit == other.unit
            and self.sample_rate_hz == other.sample_rate_hz
            and same_foot(self.left, other.left)
            and same_foot(self.right, other.right)
            and self.meta == other.meta
            and self.reference_events == other.reference_events
            and self.marks == other.marks
        )

    def __repr__(self) -> str:
        feet = ", ".join(f"{s}: {_samples(self.samples(s).n_samples)}" for s in self.sides)
        return (
            f"Recording({self.layout.name}, {self.sample_rate_hz:g} Hz, {self.unit}, "
            f"{self.duration_s:.1f} s, {feet})"
        )


def regular_time_axis(n: int, sample_rate_hz: float, start_s: float = 0.0) -> np.ndarray:
    """``start_s + i / rate`` for i in 0..n-1 (sample index over rate, as WFDB defines time)."""
    return start_s + np.arange(n, dtype=np.float64) / float(sample_rate_hz)


def feet_from_sequence(sides: Sequence[str], feet: Sequence[FootSamples]) -> dict[str, FootSamples | None]:
    out: dict[str, FootSamples | None] = {"left": None, "right": None}
    for side, foot in zip(sides, feet):
        out[side] = foot
    return out


def _samples(n: int) -> str:
    return f"{n} sample" if n == 1 else f"{n} samples"

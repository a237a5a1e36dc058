"""Moticon OpenGo UDP datagrams: the pure decoder (bytes in, numbers out; no I/O).

The OpenGo desktop software streams one datagram per sample of both feet:
ASCII numbers separated by whitespace, 51 of them, in this order (the field
list two independent open clients agree on: maximyudayev/hermes-moticon
``src/hermes/moticon/producer.py`` and ielmakri/PhysioSense
``apps/MoticonClient/MoticonConfigurator.cs``; see
``../shared/research/real-insoles.md``):

====== =============================================
field  content
====== =============================================
0      timestamp (unit not stated by the stream)
1-3    left acceleration X, Y, Z
4-6    left angular rate X, Y, Z
7-8    left centre of pressure X, Y
9-24   left pressures 1..16
25     left total force
26-28  right acceleration X, Y, Z
29-31  right angular rate X, Y, Z
32-33  right centre of pressure X, Y
34-49  right pressures 1..16
50     right total force
====== =============================================

This is not the order of the desktop's text export (pressures first there):
the two are mapped by name, never by position.

Units are the desktop's export settings; nothing in a datagram names them.
We assume what its text exports carry (``../shared/data/moticon-opengo``):
pressures N/cm², acceleration g, angular rate deg/s, total force N, centre
of pressure normalised to the insole (-0.5..+0.5). Pressures are converted
to kPa (1 N/cm² = 10 kPa); the rest is kept as sent.

A foot whose fields are not all finite (``nan`` sent for an insole that gave
nothing) is an invalid sample of that foot; a datagram that is not 51
numbers, or whose timestamp is not finite, is malformed and is not a sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FIELD_COUNT",
    "FIELD_NAMES",
    "KPA_PER_N_PER_CM2",
    "MoticonFrames",
    "MoticonDatagramError",
    "decode_datagram",
    "decode_datagrams",
    "encode_datagram",
    "foot_fields",
]

FIELD_COUNT = 51
KPA_PER_N_PER_CM2 = 10.0
_SIDES = ("left", "right")
_FOOT_OFFSET = {"left": 1, "right": 26}
# offsets inside one foot's 25 fields
_ACCEL = slice(0, 3)
_GYRO = slice(3, 6)
_COP = slice(6, 8)
_PRESSURE = slice(8, 24)
_FORCE = 24


def _field_names() -> tuple[str, ...]:
    names = ["timestamp"]
    for side in _SIDES:
        names += [f"{side}_acceleration_{a}_g" for a in "xyz"]
        names += [f"{side}_angular_rate_{a}_dps" for a in "xyz"]
        names += [f"{side}_cop_{a}_norm" for a in "xy"]
        names += [f"{side}_pressure_{k}_n_per_cm2" for k in range(1, 17)]
        names.append(f"{side}_total_force_n")
    return tuple(names)


#: The 51 fields in datagram order, named with their assumed units.
FIELD_NAMES = _field_names()


class MoticonDatagramError(ValueError):
    """A datagram that is not one Moticon sample (wrong count, not numbers, no timestamp)."""


def foot_fields(side: str) -> slice:
    """Where one foot's 25 fields sit in the 51 (``left`` 1..25, ``right`` 26..50)."""
    start = _FOOT_OFFSET[side]
    return slice(start, start + 25)


def decode_datagram(data: bytes) -> np.ndarray:
    """The 51 numbers of one datagram, float64 (raises :class:`MoticonDatagramError`)."""
    try:
        words = bytes(data).split()
        numbers = np.array([float(w) for w in words], dtype=np.float64)
    except (ValueError, TypeError):
        raise MoticonDatagramError("not whitespace-separated numbers") from None
    if numbers.shape[0] != FIELD_COUNT:
        raise MoticonDatagramError(f"{numbers.shape[0]} numbers, a Moticon sample has {FIELD_COUNT}")
    if not np.isfinite(numbers[0]):
        raise MoticonDatagramError("the timestamp is not a finite number")
    return numbers


def encode_datagram(fields: Sequence[float] | np.ndarray) -> bytes:
    """51 numbers as the desktop sends them (space-separated ASCII; ``nan`` for no value).

    For tests and the replayer: ``repr`` of each float, so that decoding gives the same floats back.
    """
    values = [float(v) for v in fields]
    if len(values) != FIELD_COUNT:
        raise ValueError(f"a Moticon datagram has {FIELD_COUNT} fields, got {len(values)}")
    return " ".join(repr(v) for v in values).encode("ascii")


@dataclass(frozen=True, eq=False)
class MoticonFrames:
    """Decoded datagrams of one foot, in arrival order.

    ``timestamp`` (n,) as sent; ``pressure_kpa`` (n, 16); ``accel_g``/``gyro_dps``
    (n, 3); ``force_n`` (n,); ``cop`` (n, 2), all float64; ``valid`` (n,) bool (every field of the foot finite);
    ``malformed`` how many datagrams were not samples (left out of the arrays);
    ``kept`` (m,) indices of the datagrams the arrays hold.
    """

    timestamp: np.ndarray
    pressure_kpa: np.ndarray
    accel_g: np.ndarray
    gyro_dps: np.ndarray
    force_n: np.ndarray
    cop: np.ndarray
    valid: np.ndarray
    malformed: int
    kept: np.ndarray

    @property
    def n(self) -> int:
        return int(self.timestamp.shape[0])


def decode_datagrams(datagrams: Sequence[bytes], side: str) -> MoticonFrames:
    """Decode a batch of datagrams for one foot (malformed ones counted and left out)."""
    rows: list[np.ndarray] = []
    kept: list[int] = []
    for index, data in enumerate(datagrams):
        try:
            rows.append(decode_datagram(data))
        except MoticonDatagramError:
            continue
        kept.append(index)
    table = np.vstack(rows) if rows else np.zeros((0, FIELD_COUNT))
    foot = table[:, foot_fields(side)]
    # float64 throughout, as the text export's importer parses them; the recording's writer stores
    # pressures and IMU as float32 and channels as float64, the same for both
    with np.errstate(over="ignore"):  # an absurd pressure becomes inf kPa, as it would in the file
        pressure_kpa = foot[:, _PRESSURE] * KPA_PER_N_PER_CM2
    return MoticonFrames(
        timestamp=table[:, 0].copy(),
        pressure_kpa=pressure_kpa,
        accel_g=foot[:, _ACCEL].copy(),
        gyro_dps=foot[:, _GYRO].copy(),
        force_n=foot[:, _FORCE].copy(),
        cop=foot[:, _COP].copy(),
        valid=np.all(np.isfinite(foot), axis=1),
        malformed=len(datagrams) - len(rows),
        kept=np.asarray(kept, dtype=np.int64),
    )

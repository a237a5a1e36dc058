"""Foot-switch walks with a known answer, for each way pathological walking defeats an event detector.

``simulate_footswitch(FootswitchParams(failure=...))`` returns a two-foot
recording like PhysioNet gaitndd's (one uncalibrated force-sensitive resistor
per foot, unit "au", 300 Hz by default) whose ``reference_events`` hold the
heel strikes and toe offs that were placed: a heel strike is where the force
leaves the swing floor, a toe off where it is back on it. What each failure
mode puts into the signal (``FOOTSWITCH_FAILURES``):

``clean``
    Steady walking: a 40 ms rise, heel and forefoot peaks with a shallow
    mid-stance valley, a 60 ms fall, the swing at the floor.
``never_unloads``
    Shuffling: two swings in a row in every seven only unload to 30 % of
    the contact's amplitude (and the whole walk sits on a residual load of
    30 %), so three steps look like one contact of nearly 3 s at a coarse
    threshold: longer than ``max_stance_s``, as long as standing.
``baseline_drift``
    A heavy in-shoe baseline that builds up: the swing floor rises by 70 % of
    the amplitude over the recording (the contacts ride on it).
``mid_stance_dip``
    Every third contact's mid-stance valley dips to 8 % of the amplitude,
    nearly the swing level: one contact, not two.
``double_bump``
    Every contact is two bumps (heel, then forefoot) with a valley at 30 %.
``heel_tap``
    Every other contact starts with a tap: the force rises in 20 ms to half
    the amplitude, falls back to a fifth (not to the floor) and the main
    loading follows 80 ms after the tap began. The heel strike placed is the
    tap's onset: the foot was on the ground from then.
``tap_and_land``
    Every other contact starts with a tap that falls back nearly to the
    floor: up to 45 % of the amplitude in 25 ms, down to 8 % by 55 ms, and
    the foot lands 70 ms after the tap began, with a loading 1.75 times
    ``rise_s`` long (70 ms by default). The tap is then about as steep as
    the loading, so the onset looks as clean as any (with a longer
    ``rise_s`` it is steeper than the loading); the
    heel strike placed is the tap's onset, though a reader may take the
    landing (the gaitndd laboratory does on most such Parkinson's contacts).
``tap_in_swing``
    Every unloading is slow (0.25 s) and every other contact starts with a
    low tap in the swing: up to 22 % of the amplitude in 15 ms (under the
    coarse on level), back down to 8 % in 20 ms, the loading (twice
    ``rise_s`` long) 80 ms after the tap began. The tap falls more steeply
    than the unloading before it. The
    heel strike placed is the tap's onset; the toe off before it is where
    the slow unloading reaches the floor (gaitndd hunt16, park10).
``flat_foot``
    Every contact rises to a flat plateau with no peaks and no valley.
``slow_rise``
    The force rises over 0.25 s instead of 0.04 s (weak loading, as in ALS).
``irregular``
    Stride times scatter with a 12 % coefficient of variation, stance
    fractions between 0.55 and 0.70 (Huntington's chorea).
``partial_ends``
    The recording starts inside a contact of each foot and ends inside one:
    those contacts have no observed heel strike (start) or toe off (end).
``starts_on_rise``
    The recording starts on the loading rise of the left foot's first
    contact, 30 % of the way up the rise (a fifth of the amplitude, under the
    coarse on level): that contact's heel strike is before the recording.
``freezing``
    A 4 s freeze in the middle of the walk: both feet stay loaded and
    tremble at 6 Hz by 15 % of the amplitude; no step is placed in it.
``standing``
    Quiet standing (both feet at half the walking amplitude, with sway) for
    8 s before and after the walk.

Same parameters and seed give the same samples. Nothing here is fitted to any
recording: the shapes are the generic ones named above, with sizes chosen to
be clearly inside each failure mode.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from insole._layout import get_layout
from insole._recording import FootSamples, Recording, RecordingMeta, ReferenceEvents, regular_time_axis
from insole._version import __version__

__all__ = ["FootswitchParams", "simulate_footswitch", "FOOTSWITCH_FAILURES"]

FOOTSWITCH_FAILURES = (
    "clean",
    "never_unloads",
    "baseline_drift",
    "mid_stance_dip",
    "double_bump",
    "heel_tap",
    "tap_and_land",
    "flat_foot",
    "slow_rise",
    "irregular",
    "partial_ends",
    "starts_on_rise",
    "tap_in_swing",
    "freezing",
    "standing",
)
_SOURCE = "insole footswitch simulator"


@dataclass(frozen=True)
class FootswitchParams:
    """What to simulate: one failure mode (``FOOTSWITCH_FAILURES``) over a walk.

    ``stride_s`` and ``stance_fraction`` are the walk's means; ``rise_s`` and
    ``fall_s`` the loading and unloading times (``slow_rise`` replaces the
    rise); ``amplitude_au`` a contact's peak above the swing floor
    ``floor_au``; ``noise_au`` the SD of white noise on every sample.
    """

    failure: str = "clean"
    duration_s: float = 60.0
    sample_rate_hz: float = 300.0
    seed: int = 0
    stride_s: float = 1.10
    stance_fraction: float = 0.62
    rise_s: float = 0.04
    fall_s: float = 0.06
    amplitude_au: float = 2.0
    floor_au: float = 0.2
    noise_au: float = 0.004

    def __post_init__(self) -> None:
        if self.failure not in FOOTSWITCH_FAILURES:
            raise ValueError(f"unknown failure {self.failure!r}; choose from {', '.join(FOOTSWITCH_FAILURES)}")
        if not (10.0 <= self.duration_s <= 3600.0):
            raise ValueError(f"duration {self.duration_s} s is outside 10-3600 s")
        if not (50.0 <= self.sample_rate_hz <= 2000.0):
            raise ValueError(f"sample rate {self.sample_rate_hz} Hz is outside 50-2000 Hz")
        if not (0.5 <= self.stride_s <= 2.5 and 0.45 <= self.stance_fraction <= 0.8):
            raise ValueError("stride_s must be 0.5-2.5 s and stance_fraction 0.45-0.8")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _ramp(x: np.ndarray, length: float) -> np.ndarray:
    """0 before 0, a half-cosine up to 1 over ``length``, 1 after: a force leaving the floor with no kink."""
    u = np.clip(x / length, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * u)


def _contact_shape(u: np.ndarray, kind: str, valley: float) -> np.ndarray:
    """The stance profile over u = 0..1 of stance (the rise and fall ramps are applied on top), peak 1.

    "two": at 1 up to a quarter of stance (heel) and from three quarters (forefoot), with a smooth
    mid-stance valley down to ``valley`` at half stance between; "flat": 1 throughout.
    """
    if kind == "flat":
        return np.ones_like(u)
    middle = (u > 0.25) & (u < 0.75)
    dip = np.where(middle, (1.0 - valley) * np.sin(np.pi * (u - 0.25) / 0.5) ** 2, 0.0)
    return 1.0 - dip


def _schedule(p: FootswitchParams, rng: np.random.Generator, start_s: float, stop_s: float,
              phase: float) -> tuple[np.ndarray, np.ndarray]:
    """Heel strikes and toe offs of one foot between ``start_s`` and ``stop_s``."""
    times, offs = [], []
    t = start_s + phase * p.stride_s
    while t < stop_s:
        if p.failure == "irregular":
            stride = p.stride_s * float(np.clip(1 + 0.12 * rng.standard_normal(), 0.7, 1.4))
            stance = float(rng.uniform(0.55, 0.70)) * stride
        else:
            stride = p.stride_s * float(1 + 0.015 * rng.standard_normal())
            stance = p.stance_fraction * stride
        times.append(t)
        offs.append(t + stance)
        t += stride
    return np.array(times), np.array(offs)


def _long_contacts(p: FootswitchParams, hs: np.ndarray, to: np.ndarray,
                   walk_to: float) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float, str]]]:
    """Take the freeze and standing out of the steps: the steps kept, and the long contacts (start, end, kind).

    Freezing: a foot in a contact when the freeze begins stays in it; a foot in swing lands (a heel
    strike) at its start; both lift (a toe off) at its end. Standing: the feet stand from the
    recording's start until one swing before their first step, and land one swing after their last
    step until the end.
    """
    long: list[tuple[float, float, str]] = []
    if p.failure == "freezing":
        f0, f1 = 0.5 * p.duration_s - 2.0, 0.5 * p.duration_s + 2.0
        under_way = (hs < f0) & (to >= f0)
        start = float(hs[under_way][0]) if under_way.any() else f0
        keep = (to < f0) | (hs > f1 + 0.3)
        hs, to = hs[keep], to[keep]
        long.append((start, f1, "freeze"))
    if p.failure == "standing":
        keep = to < walk_to
        hs, to = hs[keep], to[keep]
        swing = (1 - p.stance_fraction) * p.stride_s
        long.append((-1.0, float(hs[0]) - swing, "stand"))
        long.append((float(to[-1]) + swing, p.duration_s + 1.0, "stand"))
    return hs, to, long


def simulate_footswitch(params: FootswitchParams) -> Recording:
    """A gaitndd-like two-foot recording with one failure mode; the placed events are its ``reference_events``."""
    p = params
    rng = np.random.default_rng(p.seed)
    rate = float(p.sample_rate_hz)
    n = int(round(p.duration_s * rate))
    time_s = regular_time_axis(n, rate)
    walk_from, walk_to = 0.5, p.duration_s - 0.5
    if p.failure == "standing":
        walk_from, walk_to = 8.0, p.duration_s - 8.0
    if p.failure == "partial_ends":
        walk_from, walk_to = -0.3 * p.stride_s, p.duration_s + p.stride_s
    rise = 0.25 if p.failure == "slow_rise" else p.rise_s
    if p.failure == "starts_on_rise":
        walk_from = -0.3 * rise
    fall = 0.25 if p.failure == "tap_in_swing" else p.fall_s
    truth: dict[str, dict[str, list[float]]] = {}
    samples: dict[str, FootSamples] = {}
    extra: dict[str, Any] = {"failure": p.failure, "params": p.to_dict()}
    for side, phase in (("left", 0.0), ("right", 0.5)):
        hs, to = _schedule(p, rng, walk_from, walk_to, phase)
        hs, to, long = _long_contacts(p, hs, to, walk_to)
        force = np.zeros(n)
        for k, (a, b) in enumerate(zip(hs, to)):
            lo, hi = np.searchsorted(time_s, [a - 0.01, b + 0.01])
            if hi <= lo:
                continue
            t = time_s[lo:hi]
            u = np.clip((t - a) / (b - a), 0, 1)
            valley = 0.75
            if p.failure == "double_bump":
                valley = 0.30
            if p.failure == "mid_stance_dip" and k % 3 == 1:
                valley = 0.08
            shape = _contact_shape(u, "flat" if p.failure == "flat_foot" else "two", valley)
            scale = float(np.clip(1 + 0.04 * rng.standard_normal(), 0.85, 1.15))
            if p.failure == "heel_tap" and k % 2 == 1:
                # the tap: up to half the amplitude in 20 ms, down to a fifth in 30 ms, held until the loading
                # that starts 80 ms after the tap's onset
                tap = 0.5 * _ramp(t - a, 0.02) - 0.3 * _ramp(t - a - 0.02, 0.03)
                loading = _ramp(t - a - 0.08, rise) * _ramp(b - t, p.fall_s)
                edges = np.maximum(loading, tap * _ramp(b - t, p.fall_s))
            elif p.failure == "tap_and_land" and k % 2 == 1:
                # a tap as steep as the loading, back down to 8 % of the amplitude before the foot lands
                tap = 0.45 * _ramp(t - a, 0.025) - 0.37 * _ramp(t - a - 0.025, 0.03)
                loading = _ramp(t - a - 0.07, 1.75 * rise) * _ramp(b - t, p.fall_s)
                edges = np.maximum(loading, tap * _ramp(b - t, p.fall_s))
            elif p.failure == "tap_in_swing" and k % 2 == 1:
                # a low tap in the swing that falls back more steeply than the slow unloading before it
                tap = 0.22 * _ramp(t - a, 0.015) - 0.14 * _ramp(t - a - 0.015, 0.02)
                loading = _ramp(t - a - 0.08, 2.0 * rise) * _ramp(b - t, fall)
                edges = np.maximum(loading, tap * _ramp(b - t, fall))
            else:
                edges = _ramp(t - a, rise) * _ramp(b - t, fall)
            force[lo:hi] = np.maximum(force[lo:hi], p.amplitude_au * scale * shape * edges)
        for a, b, kind in long:
            lo, hi = np.searchsorted(time_s, [a - 0.01, b + 0.01])
            t = time_s[lo:hi]
            if kind == "freeze":  # trembling in place at 6 Hz
                level = 0.6 + 0.15 * np.sin(2 * np.pi * 6.0 * t)
            else:  # quiet standing on both feet, with a slow sway between them
                level = 0.5 + 0.06 * np.sin(2 * np.pi * 0.3 * t + (0.0 if side == "left" else np.pi))
            edges = _ramp(t - a, p.rise_s) * _ramp(b - t, p.fall_s)
            force[lo:hi] = np.maximum(force[lo:hi], p.amplitude_au * level * edges)
            extra.setdefault(f"{kind}_s", {})[side] = [max(a, 0.0), min(b, p.duration_s)]
        hs = np.concatenate([hs, [a for a, _, _ in long]])
        to = np.concatenate([to, [b for _, b, _ in long]])
        if p.failure == "never_unloads":
            # two swings in every seven unload only to 30 % of the amplitude: three steps look like one contact
            for k in range(1, hs.size):
                if k % 7 in (2, 3):
                    lo, hi = np.searchsorted(time_s, [to[k - 1] - 0.2, hs[k] + 0.2])
                    force[lo:hi] = np.maximum(force[lo:hi], 0.30 * p.amplitude_au)
            force += 0.3 * p.amplitude_au
        if p.failure == "baseline_drift":
            force += 0.7 * p.amplitude_au * time_s / p.duration_s
        force += p.floor_au + p.noise_au * rng.standard_normal(n)
        # the events the recording holds: a heel strike before its start or a toe off after its end is not in it
        truth[side] = {
            "heel_strike_s": sorted(float(t) for t in hs if 0.0 < t < p.duration_s - 0.2),
            "toe_off_s": sorted(float(t) for t in to if 0.2 < t < p.duration_s),
        }
        samples[side] = FootSamples(time_s=time_s, values=force[:, None], valid=np.ones(n, dtype=bool))
    return Recording(
        layout=get_layout("footswitch1"),
        unit="au",
        sample_rate_hz=rate,
        left=samples["left"],
        right=samples["right"],
        meta=RecordingMeta(
            subject_id=f"footswitch-{p.failure}-{p.seed}",
            software={"name": _SOURCE, "version": __version__},
            extra={"simulation": extra},
        ),
        reference_events=ReferenceEvents(
            source=f"{_SOURCE} ({p.failure}): the events placed",
            heel_strike_s={s: tuple(v["heel_strike_s"]) for s, v in truth.items()},
            toe_off_s={s: tuple(v["toe_off_s"]) for s, v in truth.items()},
        ),
    )

"""The gait model behind the simulator: feet profiles, patterns, the step force curve, regions, timing.

Everything here is in body-weight units (BW) and seconds; ``insole.simulate._simulator``
turns it into a ``Recording`` in N or kPa. The numbers and where they come
from are tabulated in ``docs/simulator.md``; the comments here say why a
shape was chosen, the docs say what the values are based on.

Vocabulary: a *contact* is one period of a foot on the ground. A *step*
contact is a walking or turning stance (heel strike to toe off) with the
double-hump "M" force curve; a *stand* contact is quasi-static loading (quiet
standing, and the transitions into and out of walking). An *activity* is one
entry of the script the simulator follows (stand, walk, turn, and for the
clinic tests seated, sit_to_stand, stand_to_sit); each kind emits contacts.
Sitting, rising and sitting down are quasi-static: the feet stay on the ground
from the seated start to the first lift-off, one "stand" contact per foot whose
load follows knots (linear between them, so the transitions have corners a
tangent-intersection onset can find).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np

from insole._layout import REGIONS, SensorLayout
from insole.simulate._patterns import PATTERNS

__all__ = [
    "FootProfile",
    "GaitTiming",
    "Activity",
    "Contact",
    "COARSE",
]

# Coarse regions, in the order of every coarse-region array below, and the
# fine regions (insole._layout.REGIONS) each one splits into.
COARSE: tuple[str, ...] = ("heel", "midfoot", "forefoot", "toes")
_FINE_OF_COARSE = {
    "heel": ("medial_heel", "lateral_heel"),
    "midfoot": ("medial_midfoot", "lateral_midfoot"),
    "forefoot": ("first_metatarsal", "central_metatarsals", "lateral_metatarsals"),
    "toes": ("hallux", "lesser_toes"),
}
_FINE_INDEX = {name: k for k, name in enumerate(REGIONS)}


@dataclass(frozen=True)
class FootProfile:
    """How one foot loads the ground in a step (all forces in BW, times as fractions of stance).

    The vertical force is the "M": a first peak ``f1_bw`` at ``f1_at`` of stance,
    a valley ``valley_bw`` at ``valley_at`` and a second peak ``f2_bw`` at
    ``f2_at``; a heel-strike transient of ``transient_bw`` peaks
    ``transient_s`` after contact. ``shares`` are the target fractions of stance
    impulse carried by heel, midfoot, forefoot and toes; ``medial_heel``,
    ``medial_midfoot``, ``first_metatarsal``, ``central_metatarsals`` and
    ``hallux`` split each coarse region into its fine regions (fractions of the
    coarse region). ``centres`` and ``widths`` place each coarse region's load
    in stance (Gaussian bumps over the stance fraction).
    """

    stance_fraction: float = 0.61
    f1_bw: float = 1.15
    f1_at: float = 0.23
    valley_bw: float = 0.76
    valley_at: float = 0.50
    f2_bw: float = 1.10
    f2_at: float = 0.78
    transient_bw: float = 0.12
    transient_s: float = 0.015
    shares: tuple[float, float, float, float] = (0.30, 0.10, 0.44, 0.16)
    medial_heel: float = 0.50
    medial_midfoot: float = 0.35
    first_metatarsal: float = 0.30
    central_metatarsals: float = 0.45
    hallux: float = 0.62
    centres: tuple[float, float, float, float] = (0.10, 0.40, 0.72, 0.92)
    widths: tuple[float, float, float, float] = (0.17, 0.15, 0.15, 0.08)
    # per-step scatter (standard deviations): amplitudes relative, times absolute
    step_amplitude_cv: float = 0.03
    step_timing_sd: float = 0.008
    stance_fraction_sd: float = 0.005

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    def fine_split(self) -> np.ndarray:
        """(4, 9) matrix: fraction of each coarse region's load on each fine region."""
        split = np.zeros((len(COARSE), len(REGIONS)))
        parts = {
            "medial_heel": self.medial_heel,
            "lateral_heel": 1.0 - self.medial_heel,
            "medial_midfoot": self.medial_midfoot,
            "lateral_midfoot": 1.0 - self.medial_midfoot,
            "first_metatarsal": self.first_metatarsal,
            "central_metatarsals": self.central_metatarsals,
            "lateral_metatarsals": 1.0 - self.first_metatarsal - self.central_metatarsals,
            "hallux": self.hallux,
            "lesser_toes": 1.0 - self.hallux,
        }
        for c, coarse in enumerate(COARSE):
            for fine in _FINE_OF_COARSE[coarse]:
                split[c, _FINE_INDEX[fine]] = parts[fine]
        return split


@dataclass(frozen=True)
class GaitTiming:
    """Stride timing shared by both feet: mean stride time, its CV and its fractal scaling."""

    stride_time_s: float = 1.05
    stride_cv: float = 0.02
    dfa_alpha: float = 0.85  # long-range correlation of stride-time fluctuations, Hausdorff's young adults ~0.87
    stride_length_m: float = 1.35

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Activity:
    """One entry of the script: ``kind`` is one of ``ACTIVITY_KINDS``.

    ``duration_s`` for stand, walk and seated (a walk ends at the last heel
    strike before its end), and for the transitions sit_to_stand (default
    1.8 s) and stand_to_sit (default 2.0 s); ``angle_deg`` and ``direction``
    ("left" = counter-clockwise seen from above) for a turn, which takes
    ``strides`` strides. ``distance_m`` makes a walk a number of whole strides
    instead (``round(distance_m / stride length)``, at least one; the path the
    body covers, with the half steps into and out of standing, is in the
    answer of whoever needs it). ``sway_scale`` multiplies the standing sway
    from the start of this stand or seated period (eyes closed sway more);
    ``label`` names the segment (e.g. "eyes_closed").
    """

    kind: str
    duration_s: float = 0.0
    angle_deg: float = 180.0
    direction: str = "left"
    strides: int = 2
    distance_m: float | None = None
    sway_scale: float = 1.0
    label: str = ""

    def to_dict(self) -> dict:
        """The fields, leaving out the clinic-test ones still at their defaults (older answers keep their shape)."""
        out = dataclasses.asdict(self)
        for name, default in _ACTIVITY_OPTIONAL_DEFAULTS.items():
            if out[name] == default:
                del out[name]
        return out


_ACTIVITY_OPTIONAL_DEFAULTS = {"distance_m": None, "sway_scale": 1.0, "label": ""}


@dataclass
class Contact:
    """One period of a foot on the ground.

    ``start_s`` is the heel strike (or the start of standing), ``end_s`` the
    toe off. ``kind`` "step" uses ``shape`` (a ``FootProfile`` with this step's
    own values); "stand" uses ``force_knots`` (time s, force BW) and
    ``blend_knots`` (time s, -1 heel-only ... 0 standing ... +1 push-off).
    ``starts_with_strike`` / ``ends_with_toe_off`` say whether the edges are
    real gait events (a standing period at the start of a recording has none).
    """

    side: str
    kind: str
    start_s: float
    end_s: float
    segment: str
    shape: FootProfile | None = None
    profile: FootProfile | None = None  # the foot's profile before this step's scatter
    force_knots: tuple[tuple[float, float], ...] = ()
    blend_knots: tuple[tuple[float, float], ...] = ()
    starts_with_strike: bool = True
    ends_with_toe_off: bool = True
    stride_index: int = -1
    swing_length_m: float = 1.35  # length of the swing that ends at this contact's start
    extra: dict = field(default_factory=dict)
    linear: bool = False  # "stand" knots joined by straight lines (sitting and rising) instead of PCHIP

    def step_shape(self) -> FootProfile:
        """``shape``: a "step" contact is always built with this step's own values."""
        assert self.shape is not None, f"a {self.kind!r} contact has no step shape"
        return self.shape

    def step_profile(self) -> FootProfile:
        """``profile``: a "step" contact is always built with its foot's profile."""
        assert self.profile is not None, f"a {self.kind!r} contact has no foot profile"
        return self.profile


# ---------------------------------------------------------------- patterns


def subject_profiles(rng: np.random.Generator, vary: bool) -> tuple[GaitTiming, dict[str, FootProfile]]:
    """A healthy subject: textbook means, plus (``vary``) this seed's own small deviations.

    The spread between seeds stands for the spread between healthy adults
    (docs/simulator.md, "Normal variation"); each foot then deviates a little
    more from the subject so that left and right are not identical.
    """
    base = FootProfile()
    timing = GaitTiming()
    if not vary:
        return timing, {"left": base, "right": base}
    z = rng.standard_normal(32)
    timing = dataclasses.replace(
        timing,
        stride_time_s=float(np.clip(1.05 + 0.03 * z[0], 0.97, 1.13)),
        stride_cv=float(np.clip(0.02 + 0.003 * z[1], 0.014, 0.028)),
        stride_length_m=float(1.35 + 0.05 * z[2]),
    )
    shares = np.asarray(base.shares) * (1.0 + 0.05 * z[3:7])
    subject = dataclasses.replace(
        base,
        stance_fraction=float(0.61 + 0.006 * z[7]),
        f1_bw=float(1.15 + 0.03 * z[8]),
        f1_at=float(0.23 + 0.008 * z[9]),
        valley_bw=float(0.76 + 0.025 * z[10]),
        f2_bw=float(1.10 + 0.03 * z[11]),
        f2_at=float(0.78 + 0.008 * z[12]),
        transient_bw=float(0.12 + 0.02 * z[13]),
        shares=_four(shares / shares.sum()),
        medial_heel=float(0.50 + 0.015 * z[14]),
        medial_midfoot=float(0.35 + 0.02 * z[15]),
        first_metatarsal=float(0.30 + 0.015 * z[16]),
        central_metatarsals=float(0.45 + 0.015 * z[17]),
        hallux=float(0.62 + 0.02 * z[18]),
    )
    feet = {}
    for k, side in enumerate(("left", "right")):
        w = z[19 + 6 * k: 25 + 6 * k]
        fshares = np.asarray(subject.shares) * (1.0 + 0.02 * w[:4])
        feet[side] = dataclasses.replace(
            subject,
            stance_fraction=float(subject.stance_fraction + 0.003 * w[4]),
            f1_bw=float(subject.f1_bw * (1.0 + 0.01 * w[5])),
            shares=_four(fshares / fshares.sum()),
        )
    return timing, feet


def _four(values: Sequence[float] | np.ndarray) -> tuple[float, float, float, float]:
    """The four values of the coarse regions (heel, midfoot, forefoot, toes) as a profile's tuple."""
    heel, midfoot, forefoot, toes = (float(v) for v in values)
    return heel, midfoot, forefoot, toes


def _scaled_shares(shares: Sequence[float], **targets: float) -> np.ndarray:
    """Set some coarse shares to ``targets`` and rescale the others so the four sum to 1."""
    out = np.asarray(shares, dtype=float).copy()
    fixed = np.zeros(len(COARSE), bool)
    for name, value in targets.items():
        k = COARSE.index(name)
        out[k] = value
        fixed[k] = True
    free = ~fixed
    out[free] *= (1.0 - out[fixed].sum()) / out[free].sum()
    return out


def _shifted(p: FootProfile, shares: Mapping[str, float] | None = None, **targets: float | tuple) -> FootProfile:
    """``p`` moved by what the pattern changes in the textbook foot: ``p + (target - textbook)``.

    Shifting rather than replacing keeps this subject's own deviation from
    the textbook values, so a pattern's cohort spreads as much as a normal
    cohort. Tuples (timing of the regional bumps) are replaced. ``shares``
    gives target coarse shares; the others are rescaled in the textbook foot
    first, and the shift is applied to all four.
    """
    textbook = FootProfile()
    changes: dict[str, Any] = {}  # FootProfile field -> its new value (a float or a tuple, as the field is)
    for name, value in targets.items():
        if isinstance(value, tuple):
            changes[name] = value
        else:
            changes[name] = float(getattr(p, name) + value - getattr(textbook, name))
    if shares:
        target = _scaled_shares(textbook.shares, **shares)
        moved = np.clip(np.asarray(p.shares) + target - np.asarray(textbook.shares), 0.005, None)
        changes["shares"] = _four(moved / moved.sum())
    return dataclasses.replace(p, **changes)


# What each one-foot pattern changes, as targets for the textbook foot
# (FootProfile defaults); docs/simulator.md gives the reasons and sources.
class PatternTargets(TypedDict, total=False):
    """What a pattern changes: FootProfile fields (shifted by target - textbook; tuples replaced), coarse shares."""

    stance_fraction: float
    f1_bw: float
    f1_at: float
    valley_bw: float
    f2_bw: float
    transient_bw: float
    transient_s: float
    medial_heel: float
    medial_midfoot: float
    first_metatarsal: float
    central_metatarsals: float
    hallux: float
    centres: tuple[float, float, float, float]
    widths: tuple[float, float, float, float]
    shares: Mapping[str, float]  # coarse region -> target share


class _Scatter(TypedDict):
    stance_fraction_sd: float
    step_amplitude_cv: float
    step_timing_sd: float


PATTERN_TARGETS: Mapping[str, PatternTargets] = {
    "overpronation": {"medial_heel": 0.60, "medial_midfoot": 0.60, "first_metatarsal": 0.42,
                      "central_metatarsals": 0.43, "hallux": 0.70, "shares": {"midfoot": 0.12}},
    "supination": {"medial_heel": 0.40, "medial_midfoot": 0.15, "first_metatarsal": 0.17,
                   "central_metatarsals": 0.43, "hallux": 0.50, "shares": {"midfoot": 0.08}},
    "flat_foot": {"medial_midfoot": 0.50, "shares": {"midfoot": 0.20}},
    "high_arch": {"medial_midfoot": 0.20, "shares": {"midfoot": 0.035, "heel": 0.34}},
    "heel_avoidance": {"f1_bw": 1.06, "f1_at": 0.27, "transient_bw": 0.03, "first_metatarsal": 0.25,
                       "central_metatarsals": 0.43, "shares": {"heel": 0.18, "toes": 0.20},
                       "centres": (0.08, 0.36, 0.62, 0.90), "widths": (0.12, 0.15, 0.19, 0.09)},
    "hallux_offload": {"hallux": 0.30, "first_metatarsal": 0.27, "central_metatarsals": 0.48},
    "high_impact": {"f1_bw": 1.30, "f1_at": 0.16, "transient_bw": 0.45, "transient_s": 0.012,
                    "shares": {"heel": 0.33}},
    # antalgic: the painful foot, and (key "other") the other foot
    "antalgic": {"stance_fraction": 0.565, "f1_bw": 1.00, "valley_bw": 0.88, "f2_bw": 0.97, "transient_bw": 0.07},
    "antalgic_other": {"stance_fraction": 0.645, "f1_bw": 1.22, "f2_bw": 1.16},
}
# Whole-body changes (GaitTiming multipliers or values, and per-step scatter of both feet)
ANTALGIC_STRIDE_TIME_FACTOR = 1.08  # slower cadence
IRREGULAR_TIMING = {"stride_cv": 0.08, "dfa_alpha": 0.60}
IRREGULAR_SCATTER: _Scatter = {"stance_fraction_sd": 0.012, "step_amplitude_cv": 0.05, "step_timing_sd": 0.015}


def apply_pattern(
    pattern: str, affected: Sequence[str], timing: GaitTiming, feet: Mapping[str, FootProfile]
) -> tuple[GaitTiming, dict[str, FootProfile]]:
    """The subject's gait changed the way ``pattern`` does, on the ``affected`` feet."""
    feet = dict(feet)
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}; choose from {', '.join(PATTERNS)}")
    if pattern == "normal":
        return timing, feet
    if pattern == "irregular":
        timing = dataclasses.replace(timing, **IRREGULAR_TIMING)
        for side in feet:
            feet[side] = dataclasses.replace(feet[side], **IRREGULAR_SCATTER)
        return timing, feet
    if pattern == "antalgic":
        (painful,) = affected
        other = "right" if painful == "left" else "left"
        timing = dataclasses.replace(timing, stride_time_s=timing.stride_time_s * ANTALGIC_STRIDE_TIME_FACTOR,
                                     stride_length_m=timing.stride_length_m * 0.9)
        feet[painful] = _shifted(feet[painful], **PATTERN_TARGETS["antalgic"])
        feet[other] = _shifted(feet[other], **PATTERN_TARGETS["antalgic_other"])
        return timing, feet
    for side in affected:
        feet[side] = _shifted(feet[side], **PATTERN_TARGETS[pattern])
    return timing, feet


# ---------------------------------------------------------------- the step force curve


def m_curve(u: np.ndarray, p: FootProfile) -> np.ndarray:
    """Vertical force (BW) over the stance fraction ``u`` in [0, 1], without the transient.

    A monotone piecewise-cubic (PCHIP) through the peaks and valley: PCHIP
    puts each local extremum exactly at its knot, so the first peak, valley
    and second peak are the profile's values at the profile's times. The
    extra knots shape the initial rise (steep, as at heel contact) and the
    push-off (falling to zero at toe off with a finite slope).
    """
    knots_u = np.array([0.0, 0.12 * p.f1_at, 0.5 * p.f1_at, p.f1_at, p.valley_at, p.f2_at,
                        p.f2_at + 0.55 * (1 - p.f2_at), 1.0])
    knots_f = np.array([0.0, 0.30 * p.f1_bw, 0.78 * p.f1_bw, p.f1_bw, p.valley_bw, p.f2_bw, 0.55 * p.f2_bw, 0.0])
    return pchip(knots_u, knots_f, np.clip(u, 0.0, 1.0))


def _pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Knot derivatives of the Fritsch-Carlson monotone cubic (as scipy's PchipInterpolator computes them).

    Zero where the neighbouring secants change sign, so every local extremum
    of the data is an extremum of the curve, at its knot.
    """
    h = np.diff(x)
    delta = np.diff(y) / h
    d = np.zeros_like(y)
    w1 = 2 * h[1:] + h[:-1]
    w2 = h[1:] + 2 * h[:-1]
    same_sign = delta[:-1] * delta[1:] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / delta[:-1] + w2 / delta[1:])
    d[1:-1] = np.where(same_sign, harmonic, 0.0)
    for end, (h0, h1, d0, d1) in ((0, (h[0], h[1], delta[0], delta[1])), (-1, (h[-1], h[-2], delta[-1], delta[-2]))):
        slope = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
        if np.sign(slope) != np.sign(d0):
            slope = 0.0
        elif np.sign(d0) != np.sign(d1) and abs(slope) > abs(3 * d0):
            slope = 3 * d0
        d[end] = slope
    return d


def pchip(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Monotone piecewise-cubic interpolation of knots ``(x, y)`` at ``at`` (inside the knots' range).

    A small vectorised PCHIP: building scipy's interpolator costs more than
    evaluating it, and the simulator builds one per step.
    """
    d = _pchip_slopes(x, y)
    k = np.clip(np.searchsorted(x, at, side="right") - 1, 0, x.size - 2)
    h = x[k + 1] - x[k]
    t = (at - x[k]) / h
    t2, t3 = t * t, t * t * t
    return ((2 * t3 - 3 * t2 + 1) * y[k] + (t3 - 2 * t2 + t) * h * d[k]
            + (-2 * t3 + 3 * t2) * y[k + 1] + (t3 - t2) * h * d[k + 1])


def transient(t_after_contact_s: np.ndarray, p: FootProfile) -> np.ndarray:
    """Heel-strike transient (BW): ``(t/tau)^2 exp(2(1 - t/tau))``, zero at contact, peak ``transient_bw`` at tau."""
    x = np.maximum(t_after_contact_s, 0.0) / p.transient_s
    return p.transient_bw * x * x * np.exp(2.0 * (1.0 - x))


def _bumps(u: np.ndarray, p: FootProfile) -> np.ndarray:
    centres = np.asarray(p.centres)[:, None]
    widths = np.asarray(p.widths)[:, None]
    return np.exp(-0.5 * ((u[None, :] - centres) / widths) ** 2)


_GAIN_CACHE: dict[FootProfile, np.ndarray] = {}


def region_gains(p: FootProfile) -> np.ndarray:
    """Weights of the four coarse bumps such that the mean step gives exactly ``p.shares``.

    Found by fixed-point iteration on a fine grid of the step's M curve
    (without transient); cached per profile.
    """
    key = dataclasses.replace(p, step_amplitude_cv=0.0, step_timing_sd=0.0, stance_fraction_sd=0.0)
    if key in _GAIN_CACHE:
        return _GAIN_CACHE[key]
    u = np.linspace(0.0, 1.0, 2001)
    force = m_curve(u, p)
    bumps = _bumps(u, p)
    targets = np.asarray(p.shares, dtype=float)
    gains = targets.copy()
    for _ in range(500):
        weights = gains[:, None] * bumps
        weights /= weights.sum(axis=0)
        shares = (weights * force).sum(axis=1) / force.sum()
        if np.max(np.abs(shares - targets)) < 1e-12:
            break
        gains = gains * targets / shares
    _GAIN_CACHE[key] = gains
    return gains


def coarse_weights(u: np.ndarray, p: FootProfile, gains: np.ndarray) -> np.ndarray:
    """(4, m) fractions of the force on heel, midfoot, forefoot, toes at stance fraction ``u`` (sum 1)."""
    weights = gains[:, None] * _bumps(np.clip(u, 0.0, 1.0), p)
    return weights / weights.sum(axis=0)


def step_regions(t_rel: np.ndarray, stance_s: float, shape: FootProfile, gains: np.ndarray) -> np.ndarray:
    """(m, 4) coarse-region forces (BW) of one step at ``t_rel`` s after its heel strike."""
    u = t_rel / stance_s
    force = m_curve(u, shape)
    coarse = (coarse_weights(u, shape, gains) * force).T
    coarse[:, 0] += transient(t_rel, shape)
    return coarse


# Quiet standing: rearfoot ~54-55 %, forefoot ~45 % (416 adults, [100] in clinical-evidence.md)
STANDING_SHARES = np.array([0.53, 0.07, 0.33, 0.07])
_EARLY_SHARES = np.array([0.85, 0.12, 0.03, 0.0])  # a heel strike into standing
_PUSH_SHARES = np.array([0.0, 0.04, 0.58, 0.38])  # pushing off out of standing


def stand_regions(t: np.ndarray, contact: Contact, sway_ap: np.ndarray) -> np.ndarray:
    """(m, 4) coarse-region forces (BW) of a stand contact at absolute times ``t``."""
    kt, kf = zip(*contact.force_knots)
    if contact.linear:
        force = np.clip(np.interp(t, kt, kf), 0.0, None)
    else:
        from scipy.interpolate import PchipInterpolator  # here: the pattern names (`--help`) need no scipy
        force = np.clip(PchipInterpolator(kt, kf, extrapolate=True)(t), 0.0, None)
    bt, bv = zip(*contact.blend_knots)
    blend = np.clip(np.interp(t, bt, bv) + sway_ap, -1.0, 1.0)
    early = np.clip(-blend, 0.0, None)[:, None]
    push = np.clip(blend, 0.0, None)[:, None]
    shares = (1.0 - early - push) * STANDING_SHARES + early * _EARLY_SHARES + push * _PUSH_SHARES
    return shares * force[:, None]


# ---------------------------------------------------------------- layout mapping

# Where a fine region's load goes when the layout has no sensor there: first
# entry that names at least one sensor of the layout wins; the load is shared
# equally by the sensors of that entry. A sensor labelled with the whole heel
# shares the medial and lateral heel's load with the sensors labelled for each
# side (gaitpdb8: sensor 1 at the back of the heel, sensors 2 and 3 at its
# front), so it is not left reading only noise.
_FALLBACKS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "medial_heel": (("medial_heel", "heel"), ("lateral_heel",)),
    "lateral_heel": (("lateral_heel", "heel"), ("medial_heel",)),
    "medial_midfoot": (("medial_midfoot",), ("midfoot",), ("lateral_midfoot",)),
    "lateral_midfoot": (("lateral_midfoot",), ("midfoot",), ("medial_midfoot",)),
    "first_metatarsal": (("first_metatarsal",), ("forefoot",), ("central_metatarsals",)),
    "central_metatarsals": (("central_metatarsals",), ("forefoot",), ("first_metatarsal", "lateral_metatarsals")),
    "lateral_metatarsals": (("lateral_metatarsals",), ("forefoot",), ("central_metatarsals",)),
    "hallux": (("hallux",), ("toes",), ("lesser_toes",), ("first_metatarsal",), ("forefoot",)),
    "lesser_toes": (
        ("lesser_toes",),
        ("toes",),
        ("hallux",),
        ("central_metatarsals", "lateral_metatarsals"),
        ("forefoot",),
    ),
}


def region_matrix(layout: SensorLayout) -> np.ndarray:
    """(9, n_sensors): how each fine region's force is shared by the layout's sensors (rows sum to 1)."""
    regions = np.asarray(layout.regions)
    matrix = np.zeros((len(REGIONS), layout.n_sensors))
    for k, fine in enumerate(REGIONS):
        for choice in (*_FALLBACKS[fine], ("whole_foot",)):
            members = np.isin(regions, choice)
            if members.any():
                matrix[k, members] = 1.0 / members.sum()
                break
        else:
            raise ValueError(f"layout {layout.name} has no sensor that can carry {fine} load")
    return matrix


def coarse_to_fine(coarse: np.ndarray, profile: FootProfile) -> np.ndarray:
    """(m, 4) coarse forces -> (m, 9) fine-region forces with the profile's medial/lateral splits."""
    return coarse @ profile.fine_split()


# ---------------------------------------------------------------- timing


def fractal_noise(rng: np.random.Generator, n: int, alpha: float) -> np.ndarray:
    """``n`` values of zero-mean, unit-SD noise with power spectrum ~ 1/f^(2 alpha - 1).

    alpha 0.5 is white noise; ~0.85-0.9 the long-range correlated stride
    fluctuations of healthy young adults (DFA alpha, Hausdorff). Spectral
    synthesis; exactly standardised so the stride CV is what was asked for.
    """
    m = 1 << int(np.ceil(np.log2(max(2 * n, 16))))
    freqs = np.fft.rfftfreq(m)
    amplitude = np.zeros_like(freqs)
    amplitude[1:] = freqs[1:] ** (-(2.0 * alpha - 1.0) / 2.0)
    spectrum = amplitude * (rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size))
    x = np.fft.irfft(spectrum, m)[:n]
    x = x - x.mean()
    return x / x.std()


# ---------------------------------------------------------------- the script and its contacts

_TURN_STRIDE_FACTOR = 1.25  # turning strides are slower
_TURN_STRIDE_LENGTH_M = 0.6
_SETTLE_S = 0.35  # from the last heel strike to quiet standing
_FIRST_SWING_S = 0.42  # gait initiation: lead foot's first swing


def turn_profile(p: FootProfile, inner: bool) -> FootProfile:
    """A turning step: slower, longer stance (inner foot more), flatter force curve, softer contact."""
    return dataclasses.replace(
        p,
        stance_fraction=p.stance_fraction + (0.05 if inner else 0.02),
        f1_bw=p.f1_bw * 0.90,
        valley_bw=min(p.valley_bw * 1.06, 0.95 * p.f1_bw * 0.90),
        f2_bw=p.f2_bw * 0.88,
        transient_bw=p.transient_bw * 0.7,
    )


def _jittered(p: FootProfile, rng: np.random.Generator) -> FootProfile:
    """This step's own values: the profile with per-step scatter."""
    z = rng.standard_normal(6)
    cv, sd = p.step_amplitude_cv, p.step_timing_sd
    f1 = p.f1_bw * (1 + cv * z[0])
    f2 = p.f2_bw * (1 + cv * z[2])
    # keep the M an M: the valley stays below both peaks
    valley = min(p.valley_bw * (1 + cv * z[1]), 0.95 * min(f1, f2))
    return dataclasses.replace(
        p,
        f1_bw=float(f1),
        valley_bw=float(valley),
        f2_bw=float(f2),
        f1_at=float(np.clip(p.f1_at + sd * z[3], 0.10, 0.35)),
        f2_at=float(np.clip(p.f2_at + sd * z[4], 0.65, 0.88)),
        transient_bw=float(max(p.transient_bw * (1 + 2 * cv * z[5]), 0.0)),
    )


def script_duration_s(script: Sequence[Activity], stride_time_s: float, stride_length_m: float = 1.35) -> float:
    """About how long a script takes: its stands and walks, turns at their nominal stride time, transitions."""
    total = 0.0
    for a, b in zip((None, *script), script):
        if b.kind == "turn":
            total += b.strides * _TURN_STRIDE_FACTOR * stride_time_s
        elif b.kind == "walk" and b.distance_m is not None:
            total += walk_strides(b, stride_length_m) * stride_time_s
        else:
            total += activity_duration_s(b)
        if a is not None and a.kind not in STATIC_KINDS and b.kind in STATIC_KINDS:
            total += 0.5 * stride_time_s + _SETTLE_S
        if a is not None and a.kind in STATIC_KINDS and b.kind not in STATIC_KINDS:
            total += _FIRST_SWING_S
    return total


def activity_duration_s(activity: Activity) -> float:
    """The activity's duration, with the default length of the sit-to-stand and stand-to-sit transitions."""
    if activity.duration_s <= 0 and activity.kind in _TRANSITION_DEFAULT_S:
        return _TRANSITION_DEFAULT_S[activity.kind]
    return float(activity.duration_s)


def walk_strides(activity: Activity, stride_length_m: float) -> int:
    """Whole strides of a walk given by distance (at least one)."""
    assert activity.distance_m is not None, "only a walk given by distance has a number of strides from it"
    return max(1, int(round(float(activity.distance_m) / stride_length_m)))


def build_script(duration_s: float, standing_s: float, turns: int, stride_time_s: float,
                 rng: np.random.Generator) -> tuple[Activity, ...]:
    """The default script: [stand] walk (turn walk) x turns [stand].

    Walk durations share the walking time equally; the last walk runs until
    the end (or until the final standing), whatever the stride times add up to.
    """
    walking_s = duration_s - 2.0 * standing_s
    if standing_s > 0:
        walking_s -= _FIRST_SWING_S + 0.5 * stride_time_s + _SETTLE_S
    turn_s = 2 * _TURN_STRIDE_FACTOR * stride_time_s
    bout_s = (walking_s - turns * turn_s) / (turns + 1)
    # a walk without standing or turns is cut from endless walking: any length will do
    if (turns or standing_s > 0) and bout_s < 2.0 * stride_time_s:
        raise ValueError(
            f"{duration_s:g} s is too short for {turns} turns and {standing_s:g} s of standing at each end "
            f"(each walking bout would last {bout_s:.1f} s; at least {2 * stride_time_s:.1f} s are needed)"
        )
    script: list[Activity] = []
    if standing_s > 0:
        script.append(Activity("stand", standing_s))
    directions = rng.choice(["left", "right"], size=max(turns, 1))
    for k in range(turns + 1):
        script.append(Activity("walk", bout_s))
        if k < turns:
            script.append(Activity("turn", angle_deg=180.0, direction=str(directions[k])))
    if standing_s > 0:
        script.append(Activity("stand", standing_s))
    return tuple(script)


@dataclass
class Timeline:
    """What the script produced: contacts per foot, segments, the lead foot, the turns' yaw."""

    contacts: dict[str, list[Contact]]
    segments: list[dict]
    lead: str
    turn_yaw: list[dict]  # per turn: direction, angle and swings (side, start_s, end_s, yaw_deg)
    sway_schedule: list[tuple[float, float]] = field(default_factory=list)  # (from s, sway scale); empty: 1 throughout


def validate_script(script: Sequence[Activity]) -> None:
    """Refuse scripts the timeline cannot lay out, with a sentence saying why."""
    if not script:
        raise ValueError("the script is empty")
    for k, activity in enumerate(script):
        if activity.kind not in ACTIVITY_KINDS:
            raise ValueError(f"activity {k} has unknown kind {activity.kind!r}; known: {', '.join(ACTIVITY_KINDS)}")
        if activity.kind == "stand" and activity.duration_s < 1.0:
            raise ValueError(f"activity {k}: standing must last at least 1 s, not {activity.duration_s:g} s")
        if activity.kind == "seated" and activity.duration_s < 0.5:
            raise ValueError(f"activity {k}: sitting must last at least 0.5 s, not {activity.duration_s:g} s")
        if activity.kind in _TRANSITION_DEFAULT_S and not 0.6 <= activity_duration_s(activity) <= 6.0:
            raise ValueError(f"activity {k}: {activity.kind} must take 0.6-6 s, not {activity.duration_s:g} s")
        if activity.kind == "walk" and activity.distance_m is None and activity.duration_s <= 0:
            raise ValueError(f"activity {k}: a walk needs a positive duration")
        if activity.kind == "walk" and activity.distance_m is not None and not activity.distance_m > 0:
            raise ValueError(f"activity {k}: a walk's distance must be positive")
        if activity.kind == "turn" and (activity.strides < 1 or activity.direction not in ("left", "right")):
            raise ValueError(f"activity {k}: a turn needs at least one stride and direction left or right")
        if not 0.0 < activity.sway_scale <= 10.0:
            raise ValueError(f"activity {k}: sway_scale must be in (0, 10], not {activity.sway_scale:g}")
    for k, (a, b) in enumerate(zip(script, script[1:]), start=1):
        if a.kind == "stand" and b.kind == "stand" and (a.sway_scale, a.label) == (b.sway_scale, b.label):
            raise ValueError("two standing activities in a row; merge them")
        if b.kind == "seated" and a.kind != "stand_to_sit":
            raise ValueError(f"activity {k}: sitting comes at the start or after stand_to_sit, not after {a.kind}")
        if a.kind == "seated" and b.kind != "sit_to_stand":
            raise ValueError(f"activity {k}: from sitting the next activity is sit_to_stand, not {b.kind}")
        if b.kind == "sit_to_stand" and a.kind != "seated":
            raise ValueError(f"activity {k}: sit_to_stand needs sitting before it, not {a.kind}")
        if a.kind == "sit_to_stand" and b.kind != "stand":
            raise ValueError(f"activity {k}: after sit_to_stand comes a stand (at least 1 s), not {b.kind}")
        if b.kind == "stand_to_sit" and a.kind != "stand":
            raise ValueError(f"activity {k}: stand_to_sit needs standing before it, not {a.kind}")
        if a.kind == "stand_to_sit" and b.kind != "seated":
            raise ValueError(f"activity {k}: after stand_to_sit comes sitting, not {b.kind}")
    if script[0].kind in ("sit_to_stand", "stand_to_sit"):
        raise ValueError(f"a script cannot start with {script[0].kind}")
    if script[-1].kind in ("sit_to_stand", "stand_to_sit"):
        raise ValueError(f"a script cannot end with {script[-1].kind}")
    if script[0].kind == "turn":
        raise ValueError("a script cannot start with a turn: walk first")
    if script[-1].kind == "turn":
        raise ValueError("a script cannot end with a turn: walk or stand after it")


ACTIVITY_KINDS = ("stand", "walk", "turn", "seated", "sit_to_stand", "stand_to_sit")
# Activities during which both feet stay on the ground (one "stand" contact per foot runs through them).
STATIC_KINDS = ("stand", "seated", "sit_to_stand", "stand_to_sit")
_SEGMENT_OF = {"stand": "standing", "seated": "seated", "sit_to_stand": "sit_to_stand", "stand_to_sit": "stand_to_sit"}
_TRANSITION_DEFAULT_S = {"sit_to_stand": 1.8, "stand_to_sit": 2.0}
# Both feet together carry this share of body weight while seated (thighs on the seat); a modelling
# choice, not a measured norm: each seated period draws its own level around it.
SEATED_LOAD_BW = 0.18
_SEATED_BLEND = -0.3  # seated feet load the heel a little more than standing feet
_SEAT_OFF_PEAK_BW = 1.12  # both feet at seat-off: body weight plus the upward push (momentum)


def build_timeline(script: Sequence[Activity], duration_s: float, timing: GaitTiming,
                   feet: Mapping[str, FootProfile], rng: np.random.Generator) -> Timeline:
    """Lay the script out in time: every contact of both feet, and the segments.

    Stride j starts at the lead foot's heel strike; the other foot strikes one
    step later. Step durations are their share of the stride (the share that
    makes the two double-support periods equal) times ``1 + cv * z_k``, with z
    fractal noise over steps; each stance is its stance fraction of that
    foot's own stride. Standing is entered by a heel strike of the lead foot,
    joined by the other half a stride later, and left by the lead foot
    lifting off (gait initiation); a walk that runs into the end of the
    recording simply continues past it, one that starts it began before it.
    """
    validate_script(script)
    lead = "left" if rng.random() < 0.5 else "right"
    other = "right" if lead == "left" else "left"
    contacts: dict[str, list[Contact]] = {"left": [], "right": []}
    segments: list[dict] = []
    turn_yaw: list[dict] = []
    base_t = timing.stride_time_s
    # Fluctuations are per step (heel strike to the other foot's heel strike),
    # so both feet's strides (sums of two neighbouring steps) vary alike. They
    # are scaled so that the strides the walk will use have exactly the asked CV.
    n_used = 2 * max(int(duration_s / base_t), 8)
    n_max = 2 * n_used + 128
    fluctuation = fractal_noise(rng, n_max, timing.dfa_alpha)
    pair_means = 0.5 * (fluctuation[: n_used - 1] + fluctuation[1:n_used])
    fluctuation = (fluctuation - pair_means.mean()) / pair_means.std()

    stride = 0
    step = 0
    hs_lead = 0.0
    swing_m = timing.stride_length_m
    standing: dict[str, Contact] = {}  # the stand contacts of the current standing period

    def stride_steps(
        t_base: float, lead_profile: FootProfile, other_profile: FootProfile
    ) -> tuple[float, float, float]:
        """The next three step durations: lead->other, other->lead, and the next lead->other."""
        share = 0.5 * (1.0 + lead_profile.stance_fraction - other_profile.stance_fraction)
        z = fluctuation[np.arange(step, step + 3) % n_max]
        shares = np.array([share, 1.0 - share, share])
        steps = shares * t_base * (1.0 + timing.stride_cv * z)
        lead_to_other, other_to_lead, next_lead_to_other = (float(v) for v in steps)
        return lead_to_other, other_to_lead, next_lead_to_other

    def add_stride(t_base: float, lead_profile: FootProfile, other_profile: FootProfile, segment: str,
                   extra: dict) -> None:
        """Stride ``stride``: the lead foot strikes at ``hs_lead``, the other foot one step later.

        Each stance is its stance fraction of that foot's own stride (two
        steps), kept at least 3 % of a stride longer than the step to the
        other foot's strike (double support) and 20 % shorter than its stride
        (swing).
        """
        nonlocal hs_lead, stride, step
        d0, d1, d2 = stride_steps(t_base, lead_profile, other_profile)
        for side, profile, start, to_other, own_stride in (
            (lead, lead_profile, hs_lead, d0, d0 + d1),
            (other, other_profile, hs_lead + d0, d1, d1 + d2),
        ):
            shape = _jittered(profile, rng)
            fraction = profile.stance_fraction + profile.stance_fraction_sd * rng.standard_normal()
            stance = float(np.clip(fraction * own_stride, to_other + 0.03 * t_base, 0.8 * own_stride))
            shape = dataclasses.replace(shape, stance_fraction=stance / own_stride)
            previous = contacts[side][-1] if contacts[side] else None
            this_swing = 0.5 * swing_m if previous is not None and previous.kind == "stand" else swing_m
            contacts[side].append(Contact(side, "step", start, start + stance, segment, shape=shape,
                                          profile=profile, stride_index=stride, swing_length_m=this_swing,
                                          extra=dict(extra)))
        hs_lead += d0 + d1
        stride += 1
        step += 2

    def begin_standing(at_start: bool) -> float:
        """Stand contacts from the recording start, or from a walk's last two heel strikes; returns settled time."""
        share = 0.5 + 0.01 * rng.standard_normal()  # this period's left-right bias (BW on the lead foot)
        if at_start:
            standing[lead] = Contact(lead, "stand", -1.0, np.inf, "standing", force_knots=((-1.0, share),),
                                     blend_knots=((-1.0, 0.0),), starts_with_strike=False)
            standing[other] = Contact(other, "stand", -1.0, np.inf, "standing", force_knots=((-1.0, 1 - share),),
                                      blend_knots=((-1.0, 0.0),), starts_with_strike=False)
            settled = 0.0
        else:
            hs = hs_lead
            hs_other = hs + 0.5 * base_t
            settled = hs_other + _SETTLE_S
            standing[lead] = Contact(
                lead, "stand", hs, np.inf, "standing",
                force_knots=((hs, 0.0), (hs + 0.025, 0.3), (hs + 0.12, 0.95), (hs_other, 1.0), (settled, share)),
                blend_knots=((hs, -1.0), (hs + 0.2, -0.2), (settled, 0.0)),
                swing_length_m=timing.stride_length_m,
            )
            standing[other] = Contact(
                other, "stand", hs_other, np.inf, "standing",
                force_knots=((hs_other, 0.0), (hs_other + 0.025, 0.2), (hs_other + 0.15, 0.45), (settled, 1 - share)),
                blend_knots=((hs_other, -1.0), (settled, 0.0)),
                swing_length_m=0.5 * timing.stride_length_m,
            )
        for side in (lead, other):
            contacts[side].append(standing[side])
        return settled

    def end_standing(t0: float | None) -> float:
        """Close the standing period: at the recording end (``None``) or by gait initiation at ``t0``.

        Returns the lead foot's first heel strike of the walk (or the end).
        """
        first, second = standing[lead], standing[other]
        share = first.force_knots[-1][1]
        if t0 is None:
            end = duration_s + 1.0
            for contact in (first, second):  # each foot holds its last load and distribution to the end
                contact.force_knots += ((end, contact.force_knots[-1][1]),)
                contact.blend_knots += ((end, contact.blend_knots[-1][1]),)
            first.end_s = second.end_s = end
            first.ends_with_toe_off = second.ends_with_toe_off = False
            return end
        hs_first = t0 + _FIRST_SWING_S
        to_other = hs_first + 0.11 * base_t
        first.force_knots += ((t0 - 0.35, share), (t0 - 0.12, 0.3), (t0 - 0.03, 0.12), (t0, 0.0))
        first.blend_knots += ((t0 - 0.3, 0.0), (t0, 0.5))
        first.end_s = t0
        second.force_knots += ((t0 - 0.35, 1 - share), (t0, 0.95), (hs_first, 1.0), (to_other - 0.05, 0.45),
                               (to_other, 0.0))
        second.blend_knots += ((hs_first - 0.25, 0.0), (to_other, 1.0))
        second.end_s = to_other
        standing.clear()
        return hs_first

    # where the walking stops for good: the start of the final standing (or sitting), or past the recording end
    trailing = 0
    while trailing < len(script) and script[len(script) - 1 - trailing].kind in STATIC_KINDS:
        trailing += 1
    final_stand = 0 < trailing < len(script)
    limit = (duration_s - sum(activity_duration_s(a) for a in script[len(script) - trailing:]) if final_stand
             else duration_s + 2.0 * base_t)
    moving = [k for k, a in enumerate(script) if a.kind not in STATIC_KINDS]
    last_moving = max(moving) if moving else -1
    scaled_sway = any(a.sway_scale != 1.0 for a in script)
    sway_schedule: list[tuple[float, float]] = []
    seated_bw: dict[str, float] = {}
    posture_end = 0.0  # end of the previous activity while the feet stay down

    def begin_seated() -> None:
        """Seated from the recording start: both feet carry a small share of body weight."""
        share = 0.5 + 0.01 * rng.standard_normal()
        level = float(np.clip(SEATED_LOAD_BW * (1.0 + 0.2 * rng.standard_normal()), 0.10, 0.28))
        seated_bw["level"] = level
        for side, fraction in ((lead, share), (other, 1.0 - share)):
            standing[side] = Contact(side, "stand", -1.0, np.inf, "seated", force_knots=((-1.0, fraction * level),),
                                     blend_knots=((-1.0, _SEATED_BLEND),), starts_with_strike=False, linear=True)
            contacts[side].append(standing[side])

    def transition(kind: str, t0: float, d: float) -> None:
        """Rising (seated -> standing) or sitting down (standing -> seated): both feet's total-load knots, per side."""
        share = standing[lead].force_knots[-1][1] / (standing[lead].force_knots[-1][1]
                                                    + standing[other].force_knots[-1][1])
        if kind == "sit_to_stand":
            low = seated_bw["level"]
            # flexion-momentum (trunk leans forward: feet load slowly), seat-off (fast, with an overshoot), extension
            total = ((t0, low), (t0 + 0.35 * d, low + 0.25 * (1.0 - low)), (t0 + 0.55 * d, _SEAT_OFF_PEAK_BW),
                     (t0 + d, 1.0))
            blend: tuple[tuple[float, float], ...] = (
                (t0, _SEATED_BLEND), (t0 + 0.35 * d, 0.30), (t0 + 0.55 * d, 0.35), (t0 + d, 0.0)
            )
        else:
            if "level" not in seated_bw:
                seated_bw["level"] = float(np.clip(SEATED_LOAD_BW * (1.0 + 0.2 * rng.standard_normal()), 0.10, 0.28))
            low = seated_bw["level"]
            # lowering (slight unloading), braking before the seat, the seat takes the weight
            total = ((t0, 1.0), (t0 + 0.3 * d, 0.92), (t0 + 0.75 * d, 0.75), (t0 + d, low))
            blend = ((t0, 0.0), (t0 + 0.5 * d, 0.25), (t0 + d, _SEATED_BLEND))
        for side, fraction in ((lead, share), (other, 1.0 - share)):
            contact = standing[side]
            contact.force_knots += tuple((t, fraction * v) for t, v in total)
            contact.blend_knots += blend
            contact.linear = True

    if script[0].kind not in STATIC_KINDS:
        hs_lead = -(2.0 + rng.random()) * base_t  # already walking when the recording starts
    for position, activity in enumerate(script):
        if activity.kind in STATIC_KINDS:
            following = script[position + 1] if position + 1 < len(script) else None
            was_walking = not standing
            if activity.kind == "stand" and was_walking:
                start = begin_standing(at_start=position == 0)
            elif activity.kind == "seated" and was_walking:
                begin_seated()
                start = 0.0
            else:
                start = posture_end
            end = start + activity_duration_s(activity)
            if activity.kind in _TRANSITION_DEFAULT_S:
                transition(activity.kind, start, end - start)
            if scaled_sway and activity.kind in ("stand", "seated"):
                sway_schedule.append((start, float(activity.sway_scale)))
            if following is None:
                end_standing(None)
                segment_end = duration_s
            elif following.kind not in STATIC_KINDS:
                hs_lead = end_standing(end)
                segment_end = end
            else:
                segment_end = end
            segment = {"kind": _SEGMENT_OF[activity.kind], "start_s": start, "end_s": segment_end}
            if activity.label:
                segment["label"] = activity.label
            segments.append(segment)
            if was_walking and segments[-2:-1] and segments[-2]["end_s"] is None:
                segments[-2]["end_s"] = start
            elif was_walking and segments[-2:-1] and segments[-2]["end_s"] < start:
                # straight out of a turn into standing: the closing steps are walking
                segments.insert(-1, {"kind": "walking", "start_s": segments[-2]["end_s"], "end_s": start})
            posture_end = end
            continue
        if activity.kind == "walk":
            start = segments[-1]["end_s"] if segments else 0.0
            segments.append({"kind": "walking", "start_s": start, "end_s": None})
            bout_end = hs_lead + activity.duration_s
            by_distance = activity.distance_m is not None
            goes_on = position == last_moving and not by_distance
            added = 0
            while True:
                d0, d1, _ = stride_steps(base_t, feet[lead], feet[other])
                if by_distance:
                    if added >= walk_strides(activity, timing.stride_length_m):
                        break
                elif goes_on and final_stand:
                    if hs_lead + d0 + d1 + 0.5 * base_t + _SETTLE_S > limit:
                        break
                elif goes_on:
                    if hs_lead > limit:
                        break
                elif hs_lead + d0 + d1 > bout_end and added:
                    break
                add_stride(base_t, feet[lead], feet[other], "walking", {})
                added += 1
                swing_m = timing.stride_length_m
            continue
        # a turn: slower, asymmetric strides; each foot's swings in it carry the rotation
        inner = activity.direction
        profiles = {s: turn_profile(feet[s], inner=(s == inner)) for s in ("left", "right")}
        first_stride = stride
        swing_m = _TURN_STRIDE_LENGTH_M
        for _ in range(activity.strides):
            add_stride(base_t * _TURN_STRIDE_FACTOR, profiles[lead], profiles[other], "turn",
                       {"turn_direction": activity.direction})
        swing_m = timing.stride_length_m
        sign = 1.0 if activity.direction == "left" else -1.0
        swings: list[dict[str, Any]] = []
        for side in ("left", "right"):
            turning = [k for k, c in enumerate(contacts[side]) if c.stride_index >= first_stride]
            for k in turning:
                swings.append({"side": side, "start_s": contacts[side][k - 1].end_s,
                               "end_s": contacts[side][k].start_s,
                               "yaw_deg": sign * activity.angle_deg / len(turning)})
        start = min(s["start_s"] for s in swings)
        end = max(s["end_s"] for s in swings)
        turn_yaw.append({"direction": activity.direction, "angle_deg": activity.angle_deg, "swings": swings})
        if segments and segments[-1]["end_s"] is None:
            segments[-1]["end_s"] = start
        segments.append({"kind": "turn", "start_s": start, "end_s": end, "direction": activity.direction,
                         "angle_deg": activity.angle_deg})
    if segments[-1]["end_s"] is None:
        segments[-1]["end_s"] = duration_s
    return Timeline(contacts=contacts, segments=segments, lead=lead, turn_yaw=turn_yaw, sway_schedule=sway_schedule)

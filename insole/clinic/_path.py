"""Where the body is along the walkway, from the order and timing of the steps.

Insoles measure no distance. Given the length of each step, the feet's
positions follow from the heel strikes: each heel strike puts the striking
foot one step ahead of the other foot (a foot that *joins* the other one,
closing a walk into standing, lands beside it: a step of 0 m). Between its
toe off and its heel strike a swinging foot moves along a minimum-jerk
profile ``10u^3 - 15u^4 + 6u^5`` (u = fraction of the swing). The body's
position is the mean of the two feet's positions.

The simulator's known answer (``insole.simulate._clinic``) and the clinic
results (``insole.clinic._results``) both use this convention: the answer
with the steps the simulator placed, the results with the detected events
and a step length from the clinician-entered distance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Swing", "FeetPath", "feet_path"]

_GRID_S = 0.001  # body position is evaluated on a 1 ms grid for crossing times


@dataclass(frozen=True)
class Swing:
    """One foot's swing: it leaves ``from_m`` at ``start_s`` (toe off), lands at ``to_m`` at ``end_s`` (heel strike)."""

    side: str
    start_s: float
    end_s: float
    from_m: float
    to_m: float


@dataclass(frozen=True)
class FeetPath:
    """The swings of both feet in time order, and the body position they imply."""

    swings: tuple[Swing, ...]

    @property
    def start_s(self) -> float:
        return min(s.start_s for s in self.swings) if self.swings else float("nan")

    @property
    def end_s(self) -> float:
        return max(s.end_s for s in self.swings) if self.swings else float("nan")

    @property
    def final_m(self) -> float:
        """The body's position once both feet have landed."""
        return float(self.position_m(np.array([self.end_s + 1.0]))[0]) if self.swings else 0.0

    def foot_position_m(self, side: str, times_s: np.ndarray) -> np.ndarray:
        t = np.asarray(times_s, dtype=float)
        mine = [s for s in self.swings if s.side == side]
        out = np.zeros(t.shape)
        for swing in mine:  # a handful to a few hundred swings: one vector pass each
            u = np.clip((t - swing.start_s) / max(swing.end_s - swing.start_s, 1e-9), 0.0, 1.0)
            out += (swing.to_m - swing.from_m) * u**3 * (10.0 - 15.0 * u + 6.0 * u * u)
        return out

    def position_m(self, times_s: np.ndarray) -> np.ndarray:
        """Body position (m along the path) at ``times_s``: the mean of the two feet."""
        t = np.asarray(times_s, dtype=float)
        return 0.5 * (self.foot_position_m("left", t) + self.foot_position_m("right", t))

    def crossing_s(self, distance_m: float) -> float:
        """The first time the body reaches ``distance_m`` (NaN if it never does)."""
        if not self.swings:
            return float("nan")
        grid = np.arange(self.start_s, self.end_s + _GRID_S, _GRID_S)
        position = self.position_m(grid)
        k = int(np.searchsorted(position, distance_m, side="left"))  # position never decreases
        if k >= grid.size:
            return float("nan")
        if k == 0:
            return float(grid[0])
        p0, p1 = position[k - 1], position[k]
        fraction = (distance_m - p0) / (p1 - p0) if p1 > p0 else 0.0
        return float(grid[k - 1] + fraction * _GRID_S)


def feet_path(
    strikes: Sequence[tuple[float, str, float]],
    toe_offs: Mapping[str, ArrayLike],
) -> FeetPath:
    """The swings implied by heel strikes ``(time_s, side, step_m)`` and each foot's toe offs.

    ``step_m`` is how far ahead of the other foot the striking foot lands (0 for
    a foot joining the other one). Each swing starts at the foot's last toe off
    before its heel strike (and after its previous heel strike); a strike with
    no such toe off starts its swing at the previous strike of either foot.
    """
    position = {"left": 0.0, "right": 0.0}
    last_strike = {"left": -np.inf, "right": -np.inf}
    offs = {side: np.sort(np.asarray(toe_offs.get(side, ()), dtype=float)) for side in ("left", "right")}
    swings = []
    previous_any = None
    for time_s, side, step_m in sorted(strikes):
        other = "right" if side == "left" else "left"
        candidates = offs[side][(offs[side] < time_s) & (offs[side] > last_strike[side])]
        if candidates.size:
            start = float(candidates[-1])
        else:
            start = float(previous_any) if previous_any is not None else float(time_s) - 0.4
        target = position[other] + float(step_m)
        swings.append(Swing(side, start, float(time_s), position[side], target))
        position[side] = target
        last_strike[side] = float(time_s)
        previous_any = float(time_s)
    return FeetPath(tuple(swings))

"""The event detector's tracked levels read where they are needed give the numbers of the whole per-sample arrays.

Speed work (issue 19) stopped building the tracked floor and range of the coarse detector as whole arrays where
only a few samples of them are read, and builds the on and off levels in two arrays instead of four. Both must
give the same numbers to the last bit as the whole-array forms they replaced.
"""

from __future__ import annotations

import numpy as np
import pytest

import insole.analysis._events as events


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """The same dtype, shape and bits (NaN where NaN, the sign of a zero)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_centre_interpolation_at_samples_equals_numpy_interp() -> None:
    rng = np.random.default_rng(41)
    for trial in range(2000):
        block, m = int(rng.integers(1, 60)), int(rng.integers(1, 40))
        n = int(rng.integers(1, m * block + 3 * block + 5))  # recordings ending before, inside, after the centres
        values = rng.normal(size=m) * 10.0 ** rng.uniform(-3, 4)
        if trial % 40 == 0:
            values[rng.integers(0, m)] = np.nan
        index = rng.integers(0, n, size=int(rng.integers(0, 30)))
        expected = np.interp(np.arange(n), (np.arange(m) + 0.5) * block, values)[index]
        assert _same(events._centre_interp_at(n, block, values, index), expected), (block, m, n)


@pytest.mark.parametrize("piece", [1, 3, 7, 1 << 16])
def test_coarse_levels_equal_the_four_array_form(monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    """On and off level, ``fraction x range + floor``, made in the floor's and the range's arrays piece by piece
    (pieces shorter than a block, across block edges, and the whole recording in one piece)."""
    monkeypatch.setattr(events, "_LEVEL_PIECE", piece)
    rng = np.random.default_rng(43)
    for _ in range(300):
        block, m = int(rng.integers(1, 30)), int(rng.integers(1, 20))
        n = int(rng.integers(1, m * block + 2 * block + 3))
        floor, load_range = rng.normal(size=m) * 50.0, np.abs(rng.normal(size=m)) * 400.0
        high, low = events._coarse_levels(events._Track(n, block, floor), events._Track(n, block, load_range),
                                          0.3, 0.15)
        whole_floor = events._centre_interp(n, block, floor)
        whole_range = events._centre_interp(n, block, load_range)
        assert _same(high, 0.3 * whole_range + whole_floor)
        assert _same(low, 0.15 * whole_range + whole_floor)

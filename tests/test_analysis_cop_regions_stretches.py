"""The group pressure-time integrals taken a stretch of samples at a time, and the COP at the stances' samples, equal
the whole arrays' ones bit for bit.

``_regions._group_pti`` makes each group's peak-pressure curve a stretch of samples at a time (stretches holding whole
stances) instead of as one recording-long array: these tests hold it to the plain form with stretches far shorter than
the real ones (so that there are many, and stances that end at a stretch's or the recording's end, overlap, or come out
of order). ``cop_path(samples=...)`` at the stances' samples (runs of consecutive samples, as the stance stage asks)
must equal the whole path there, whatever the span of the samples and the width of its last block.
"""

from __future__ import annotations

import numpy as np

from insole import builtin_layouts, get_layout


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _stances(rng: np.random.Generator, n: int, count: int, overlap: bool) -> tuple[np.ndarray, np.ndarray]:
    """``count`` stances of 1-90 samples in ``n`` samples, in order; apart (with gaps of 0-40 samples) unless
    ``overlap``; the last one ends at the recording's end."""
    if overlap:
        hs = np.sort(rng.choice(n - 100, size=count, replace=False))
        to = np.minimum(hs + rng.integers(1, 90, size=count), n)
    else:
        lengths = rng.integers(1, 90, size=count)
        gaps = rng.integers(0, 40, size=count)
        hs = np.cumsum(gaps + np.concatenate([[0], lengths[:-1]]))
        to = hs + lengths
        keep = to < n
        hs, to = hs[keep], to[keep]
    to[-1] = n
    hs[-1] = min(hs[-1], n - 5)
    return hs.astype(np.int64), to.astype(np.int64)


def test_group_pti_in_short_stretches_equals_the_sums_of_the_whole_group_curves() -> None:
    from insole.analysis._regions import _group_curves, _group_pti, available_groups
    from insole.analysis._segments import reduce_intervals

    rng = np.random.default_rng(29)
    checked = 0
    for name in builtin_layouts():
        layout = get_layout(name)
        k = layout.n_sensors
        for used, overlap in ((np.ones(k, dtype=bool), False), (rng.random(k) < 0.7, True)):
            groups = available_groups(layout, used)
            n = 4000
            pressure = np.abs(rng.normal(100, 80, (k, n))).astype(np.float32)
            pressure[rng.random(pressure.shape) < 0.3] = 0.0
            before = pressure.copy()
            hs, to = _stances(rng, n, 80, overlap)
            curves = _group_curves(pressure, groups)
            expected = {group: reduce_intervals(np.add, curve, hs, to) for group, curve in curves.items()}
            # stretches of ~37 and ~300 samples (many, most stances in one with others), and of the whole default
            for chunk in (37, 300, 16384):
                found = _group_pti(pressure, groups, hs, to, chunk=chunk)
                assert list(found) == list(expected)
                for group in expected:
                    assert _same(found[group], expected[group]), (name, group, chunk)
                    checked += 1
            # stances out of order: the same sums, row for row
            order = rng.permutation(hs.size)
            found = _group_pti(pressure, groups, hs[order], to[order], chunk=37)
            for group in expected:
                assert _same(found[group], expected[group][order]), (name, group)
            assert _same(pressure, before)  # the sensors' rows are only read
    assert checked > 60


def test_stance_stretches_hold_whole_stances_and_end_after_every_stance_before() -> None:
    from insole.analysis._regions import _stance_stretches

    rng = np.random.default_rng(3)
    for overlap in (False, True):
        n = 5000
        hs, to = _stances(rng, n, 100, overlap)
        edges, first = _stance_stretches(hs, to, n, 200)
        assert edges[0] == hs[0] and edges[-1] == n and np.all(np.diff(edges) > 0)
        assert first[0] == 0 and first[-1] == hs.size
        for c in range(edges.size - 1):
            inside = slice(first[c], first[c + 1])
            assert np.all(hs[inside] >= edges[c]) and np.all(hs[inside] < edges[c + 1])
            if c < edges.size - 2:  # a stance inside a stretch that is not the last ends before the stretch does
                assert np.all(to[: first[c + 1]] < edges[c + 1])
        if not overlap:  # apart stances of 1-130 samples each: stretches of about 200 samples, not one
            assert edges.size > 10


def test_cop_at_stance_samples_equals_the_whole_path_there_whatever_the_span_and_its_last_block() -> None:
    from insole.analysis._cop import _COP_AT_BLOCK, cop_path

    rng = np.random.default_rng(17)
    layout = get_layout("insole16")
    k, block = layout.n_sensors, _COP_AT_BLOCK
    n = 3 * block + 50
    loads = np.abs(rng.normal(50, 40, (k, n))).astype(np.float32)
    loads[rng.random(loads.shape) < 0.3] = 0.0
    loads[:, rng.random(n) < 0.02] = 0.0  # samples without load: no COP
    force = loads.sum(axis=0, dtype=np.float64)
    force[rng.random(n) < 0.01] = np.nan
    force[rng.random(n) < 0.005] = np.inf
    whole_x, whole_y = cop_path(loads, layout, force, 30.0)
    hs, to = _stances(rng, n, 400, overlap=False)
    marks = np.zeros(n + 1, dtype=np.int64)
    np.add.at(marks, hs, 1)
    np.add.at(marks, to, -1)
    stance = np.flatnonzero(np.cumsum(marks[:-1]))
    # spans from the first sample asked for to the last that leave a last block of 1, 2, a full and a short one
    for first, span in ((7, block + 1), (0, block + 2), (100, 2 * block), (3, 2 * block + 777), (0, n), (5, 1),
                        (9, 2)):
        chosen = stance[(stance >= first) & (stance < first + span)]
        chosen = np.unique(np.concatenate([[first, first + span - 1], chosen]))
        for samples in (chosen, rng.permutation(chosen), np.concatenate([chosen, chosen[:3]])):
            x, y = cop_path(loads, layout, force, 30.0, samples=samples)
            others = np.ones(n, dtype=bool)
            others[chosen] = False
            assert _same(x[chosen], whole_x[chosen]) and _same(y[chosen], whole_y[chosen]), (first, span)
            assert np.isnan(x[others]).all() and np.isnan(y[others]).all(), (first, span)
    x, y = cop_path(loads, layout, force, 30.0, samples=np.zeros(0, dtype=np.int64))
    assert x.shape == y.shape == (n,) and np.isnan(x).all() and np.isnan(y).all()

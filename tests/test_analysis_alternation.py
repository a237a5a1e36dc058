"""Strides the other foot does not step through once: a missed contact without any gap in the data.

Known answers: one stance of the left foot of a simulated walk is flattened to
the foot's swing level (the samples stay valid: a weak or flat step the
detector cannot see, not a gap). The left stride spanning it is then about two
strides long yet under ``max_stride_s``, and the right stride across it holds
no left heel strike; both are excluded as "other foot out of step", and no
other stride's ``used`` changes.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest

from insole import FootSamples, Recording
from insole.analysis import analyze
from insole.analysis._strides import EXCLUSION_REASONS
from insole.simulate import PATTERNS, SimulationParams, simulate

OUT_OF_STEP = "other foot out of step"
# the flattened left stance: the one under way at this time
FLAT_AT_S = 20.0


@functools.lru_cache(maxsize=None)
def _walk() -> Recording:
    return simulate(SimulationParams(pattern="normal", duration_s=40.0, seed=1))


@functools.lru_cache(maxsize=None)
def _clean():
    return analyze(_walk())


def _flat_contact() -> tuple[float, float]:
    """Placed heel strike and toe off of the left contact flattened (s)."""
    reference = _walk().reference_events
    hs = np.asarray(reference.heel_strike_s["left"])
    to = np.asarray(reference.toe_off_s["left"])
    i = int(np.searchsorted(hs, FLAT_AT_S)) - 1
    return float(hs[i]), float(to[to > hs[i]][0])


def _flatten(foot: FootSamples, start_s: float, end_s: float) -> FootSamples:
    """The foot with every sensor held at its level of the swing just before ``start_s``, over the contact.

    The span runs 40 ms either side of the placed events so that no edge of the
    contact is left; the samples stay valid (a flat step, not a gap).
    """
    t = foot.time_s
    span = (t >= start_s - 0.04) & (t <= end_s + 0.04)
    swing_sample = int(np.flatnonzero(span)[0]) - 10  # 100 ms before: mid-swing at 100 Hz
    values = np.array(foot.values)
    values[span] = values[swing_sample]
    return dataclasses.replace(foot, values=values)


@functools.lru_cache(maxsize=None)
def _flattened():
    recording = _walk()
    return analyze(recording.replace(left=_flatten(recording.left, *_flat_contact())))


def _by_heel_strike(strides: pd.DataFrame) -> pd.Series:
    """Used flag per stride keyed by its heel strike in samples (10 ms, the simulator's 100 Hz).

    A stride whose heel strike is unknown (the walk's truncated first contact)
    has no key: it must be unused, and is left out.
    """
    hs = strides["heel_strike_s"].to_numpy()
    known = np.isfinite(hs)
    assert not strides["used"].to_numpy()[~known].any()
    return pd.Series(strides["used"].to_numpy()[known], index=np.round(hs[known] * 100).astype(int))


def test_the_reason_is_listed() -> None:
    assert OUT_OF_STEP in EXCLUSION_REASONS


def test_flattened_contact_is_not_detected() -> None:
    # the premise: one left heel strike fewer, the right foot's untouched
    clean, flat = _clean(), _flattened()
    hs, _ = _flat_contact()
    clean_left = clean.events["left"].heel_strike_s
    flat_left = flat.events["left"].heel_strike_s
    assert flat_left.size == clean_left.size - 1
    assert np.min(np.abs(clean_left - hs)) <= 0.025
    assert np.min(np.abs(flat_left - hs)) > 0.5
    np.testing.assert_array_equal(flat.events["right"].heel_strike_s, clean.events["right"].heel_strike_s)


def test_left_stride_spanning_the_flat_contact_is_excluded_and_nothing_else() -> None:
    clean, flat = _clean(), _flattened()
    hs, _ = _flat_contact()
    strides = flat.strides["left"]
    spanning = (strides["heel_strike_s"] < hs) & (strides["heel_strike_s"] + strides["stride_time_s"] > hs)
    assert spanning.sum() == 1
    row = strides[spanning].iloc[0]
    # about two strides long, yet a walking stride by duration alone
    typical = clean.summary.per_foot.at["stride_time_s", "left_mean"]
    assert 1.8 * typical < row["stride_time_s"] < flat.params.max_stride_s
    assert not row["used"] and row["exclusion_reason"] == OUT_OF_STEP
    # the right foot steps twice inside it
    right_hs = flat.events["right"].heel_strike_s
    end = row["heel_strike_s"] + row["stride_time_s"]
    assert np.sum((right_hs >= row["heel_strike_s"]) & (right_hs < end)) == 2
    # every other left stride keeps the clean walk's used flag (the two clean
    # strides the flat contact split are gone, the spanning one is new)
    before, after = _by_heel_strike(clean.strides["left"]), _by_heel_strike(strides)
    gone = before.index.difference(after.index)
    assert gone.size == 1 and abs(gone[0] / 100 - hs) <= 0.025
    start = int(round(row["heel_strike_s"] * 100))
    assert before[[start, gone[0]]].all()
    pd.testing.assert_series_equal(after.drop(start), before.drop([start, gone[0]]))
    assert flat.quality["left"]["strides_excluded"].get(OUT_OF_STEP) == 1
    assert clean.quality["left"]["strides_excluded"].get(OUT_OF_STEP) is None


def test_right_strides_across_the_flat_contact_hold_no_left_heel_strike_and_are_excluded() -> None:
    clean, flat = _clean(), _flattened()
    hs, _ = _flat_contact()
    strides = flat.strides["right"]
    start = strides["heel_strike_s"].to_numpy()
    end = start + strides["stride_time_s"].to_numpy()
    across = (start < hs) & (end > hs)
    assert across.sum() == 1
    left_hs = flat.events["left"].heel_strike_s
    inside = np.searchsorted(left_hs, end[across]) - np.searchsorted(left_hs, start[across])
    np.testing.assert_array_equal(inside, 0)
    assert (strides.loc[across, "exclusion_reason"] == OUT_OF_STEP).all()
    # used in the clean walk; every other right stride exactly as there
    before, after = _by_heel_strike(clean.strides["right"]), _by_heel_strike(strides)
    pd.testing.assert_index_equal(after.index, before.index)
    keys = np.round(start[across] * 100).astype(int)
    assert before[keys].all() and not after[keys].any()
    pd.testing.assert_series_equal(after.drop(keys), before.drop(keys))
    assert flat.quality["right"]["strides_excluded"].get(OUT_OF_STEP) == 1


def test_one_foot_alone_is_not_judged() -> None:
    # nothing to count against: the flat stride stays used (its duration is a walking one)
    recording = _walk()
    hs, _ = _flat_contact()
    alone = analyze(recording.replace(left=_flatten(recording.left, *_flat_contact()), right=None))
    strides = alone.strides["left"]
    spanning = (strides["heel_strike_s"] < hs) & (strides["heel_strike_s"] + strides["stride_time_s"] > hs)
    assert spanning.sum() == 1 and strides.loc[spanning, "used"].all()
    assert OUT_OF_STEP not in set(strides["exclusion_reason"])


def test_strides_where_the_other_foot_is_not_observed_are_not_judged() -> None:
    # the right foot missing (a gap, never filled) over the flat left contact:
    # its contacts cannot be counted there, so the left stride is not excluded
    # for them (it is not excluded for anything: the gap is on the other foot)
    recording = _walk()
    hs, to = _flat_contact()
    right = recording.right
    gap = (right.time_s >= hs - 0.7) & (right.time_s < to + 0.7)
    values = np.array(right.values)
    values[gap] = np.nan
    holed = analyze(recording.replace(
        left=_flatten(recording.left, hs, to),
        right=dataclasses.replace(right, values=values, valid=right.valid & ~gap),
    ))
    strides = holed.strides["left"]
    spanning = (strides["heel_strike_s"] < hs) & (strides["heel_strike_s"] + strides["stride_time_s"] > hs)
    assert spanning.sum() == 1 and strides.loc[spanning, "used"].all()
    assert OUT_OF_STEP not in set(holed.strides["right"]["exclusion_reason"])


@pytest.mark.parametrize("extra", [{}, {"turns": 2, "imu": True}, {"standing_s": 10.0}],
                         ids=["walk", "turns", "standing"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_no_false_alarm_on_simulated_walks(pattern: str, extra: dict) -> None:
    # every simulated stride holds exactly one heel strike of the other foot:
    # the rule must exclude none of them, whatever the pattern
    analysis = analyze(simulate(SimulationParams(pattern=pattern, duration_s=60.0, seed=1, **extra)))
    for side in analysis.sides:
        assert OUT_OF_STEP not in set(analysis.strides[side]["exclusion_reason"])
        assert analysis.strides[side]["used"].sum() >= 20

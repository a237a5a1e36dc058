"""Known answers for the event detector on the failure modes of pathological walking (issue 17).

Each test simulates one failure mode with ``insole.simulate.simulate_footswitch`` (a gaitndd-like
foot switch, unit "au", so the "shape" event method), analyses it with ``insole.analyze`` and
compares the heel strikes found with the ones placed. Each rule of docs/analysis-methods.md
section 2 that handles a failure mode names the test here that proves it; the tests marked
"fails before" fail with the detector as it was before issue 17 (checked by running them against
that commit).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import insole
from insole.analysis import AnalysisParams, detect_contacts, detect_events
from insole.simulate import FOOTSWITCH_FAILURES, FootswitchParams, simulate_footswitch

# A detected heel strike matches a placed one within this window: half the shortest swing simulated
# (0.4 s), far wider than any timing error, so it counts events and does not judge their timing.
MATCH_S = 0.05
# Timing tolerance on a clean 40 ms half-cosine rise: the heel strike is where the rise reaches
# shape_slope_fraction (15 %) of its steepest slope (4.8 % of the rise time, 2 ms) after the force leaves
# the floor, plus one 3.3 ms sample either way and the 30 Hz smoothing (about 2 ms).
CLEAN_TOLERANCE_S = 0.010


def _run(failure: str, **changes) -> tuple[insole.Recording, object]:
    recording = simulate_footswitch(FootswitchParams(failure=failure, **changes))
    return recording, insole.analyze(recording)


def _match(placed: np.ndarray, found: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Recall, precision and the signed errors (found - placed) of the matched heel strikes."""
    distance = np.abs(placed[:, None] - found[None, :])
    recall = float(np.mean(distance.min(axis=1) <= MATCH_S))
    precision = float(np.mean(distance.min(axis=0) <= MATCH_S))
    matched = distance.min(axis=1) <= MATCH_S
    errors = found[distance.argmin(axis=1)][matched] - placed[matched]
    return recall, precision, errors


def _heel_strikes(analysis, side: str) -> tuple[np.ndarray, np.ndarray]:
    contacts = analysis.events[side].contacts
    hs = contacts["heel_strike_s"].to_numpy(dtype=float)
    confidence = contacts["heel_strike_confidence"].to_numpy(dtype=float)
    known = np.isfinite(hs)
    return hs[known], confidence[known]


@pytest.mark.parametrize(
    "failure",
    [
        "clean", "mid_stance_dip", "double_bump", "heel_tap", "tap_and_land", "flat_foot", "irregular",
        "baseline_drift", "never_unloads",
    ],
)
def test_every_placed_heel_strike_is_found_once_and_on_time(failure: str) -> None:
    recording, analysis = _run(failure)
    for side in ("left", "right"):
        placed = np.asarray(recording.reference_events.heel_strike_s[side])
        found, _ = _heel_strikes(analysis, side)
        recall, precision, errors = _match(placed, found)
        assert recall == 1.0 and precision == 1.0, (side, recall, precision)
        if failure == "never_unloads":
            # a step after a partial unloading starts from 30 % of the load, not from the floor: its onset
            # (where the rise reaches 15 % of its steepest slope) is up to 4 samples later
            assert np.max(np.abs(errors)) <= CLEAN_TOLERANCE_S + 0.004
        else:
            assert np.max(np.abs(errors)) <= CLEAN_TOLERANCE_S, (side, np.max(np.abs(errors)))
        assert 0.0 <= np.mean(errors) <= 0.006  # late by the onset's slope point only, never early


def test_the_simulator_offers_every_failure_mode_tested() -> None:
    assert set(FOOTSWITCH_FAILURES) == {
        "clean", "never_unloads", "baseline_drift", "mid_stance_dip", "double_bump", "heel_tap", "tap_and_land",
        "flat_foot", "slow_rise", "irregular", "partial_ends", "starts_on_rise", "tap_in_swing", "freezing", "standing",
    }


def test_a_drifting_baseline_keeps_every_step() -> None:
    """Rule: coarse levels follow the drifting swing floor (fails before: 32 of 54 left heel strikes)."""
    recording, analysis = _run("baseline_drift")
    placed = np.asarray(recording.reference_events.heel_strike_s["left"])
    found, confidence = _heel_strikes(analysis, "left")
    assert found.size == placed.size == 54
    # the events are right, and the residual that built up is the tracked floor: confidence stays high
    assert np.min(confidence) > 0.8
    used = analysis.strides["left"]["used"].to_numpy()
    assert used.sum() >= 50


def test_a_shuffle_that_never_unloads_is_split_into_its_steps() -> None:
    """Rule: long contacts split at a swing-quick deep unloading, even beyond max_stance_s (fails before: 38/54)."""
    recording, analysis = _run("never_unloads")
    placed = np.asarray(recording.reference_events.heel_strike_s["left"])
    found, confidence = _heel_strikes(analysis, "left")
    recall, precision, _ = _match(placed, found)
    assert recall == precision == 1.0
    # the steps that follow a partial unloading (two in every seven: heel strikes 2 and 3 of each seven)
    # start from a shoulder of load: exactly those have a lower confidence
    after_shuffle = np.isin(np.arange(placed.size) % 7, (2, 3))
    assert np.array_equal(confidence < 0.7, after_shuffle)
    assert np.all(confidence[~after_shuffle] > 0.95)


def test_a_heel_tap_before_the_loading_is_the_heel_strike() -> None:
    """Rule: a steep touch just before the main rise, with no return to the floor, starts the contact (fails before:
    every tapped contact's heel strike 83 ms late, on the main rise)."""
    recording, analysis = _run("heel_tap")
    placed = np.asarray(recording.reference_events.heel_strike_s["left"])
    found, confidence = _heel_strikes(analysis, "left")
    recall, precision, errors = _match(placed, found)
    assert recall == precision == 1.0
    assert np.max(np.abs(errors)) <= CLEAN_TOLERANCE_S
    # a tapped onset is one another reader may put on the loading instead: its confidence is low
    tapped = np.arange(placed.size) % 2 == 1
    assert np.all(confidence[tapped] < 0.5) and np.all(confidence[~tapped] > 0.95)


def test_a_slow_creep_before_the_rise_is_not_a_touch() -> None:
    """The touch must rise half as steeply as the loading: a slow rise keeps its own onset (12 ms late, see below)."""
    recording, analysis = _run("slow_rise")
    placed = np.asarray(recording.reference_events.heel_strike_s["left"])
    found, _ = _heel_strikes(analysis, "left")
    _, _, errors = _match(placed, found)
    assert np.all(errors > 0.010)


def test_a_slow_weak_rise_is_found_late_by_a_known_amount_and_flagged() -> None:
    """ALS-like 0.25 s rise: the onset is where the slope reaches shape_slope_fraction of its steepest."""
    recording, analysis = _run("slow_rise")
    placed = np.asarray(recording.reference_events.heel_strike_s["left"])
    found, confidence = _heel_strikes(analysis, "left")
    recall, precision, errors = _match(placed, found)
    assert recall == precision == 1.0
    # a half-cosine rise of length r reaches a fraction f of its steepest slope at r x asin(f) / pi after
    # it leaves the floor: 12 ms for r = 0.25 s and f = 0.15; plus up to 4 ms of samples and smoothing
    expected = 0.25 * np.arcsin(AnalysisParams().shape_slope_fraction) / np.pi
    assert expected == pytest.approx(0.0120, abs=0.0001)
    assert expected <= np.median(errors) <= expected + 0.004
    # where the onset is that uncertain the confidence says so (rule: onset clarity)
    assert np.median(confidence) < 0.5
    _, clean = _run("clean")
    assert np.median(_heel_strikes(clean, "left")[1]) > 0.95


def test_partial_first_and_last_contacts_have_no_event_and_no_stride() -> None:
    """Rule: a contact under way at a run's start has no heel strike, at its end no toe off (fails before)."""
    recording, analysis = _run("partial_ends")
    for side in ("left", "right"):
        contacts = analysis.events[side].contacts
        placed = np.asarray(recording.reference_events.heel_strike_s[side])
        found, _ = _heel_strikes(analysis, side)
        recall, precision, _ = _match(placed, found)
        assert recall == precision == 1.0
        # every toe off found was placed, and a contact still under way at the end has none
        placed_to = np.asarray(recording.reference_events.toe_off_s[side])
        found_to = contacts["toe_off_s"].to_numpy(dtype=float)
        to_recall, to_precision, _ = _match(placed_to, found_to[np.isfinite(found_to)])
        assert to_recall == to_precision == 1.0
        assert np.isnan(found_to[-1]) == (placed.max() > placed_to.max())
        # no used stride starts before the first heel strike that was placed inside the recording
        strides = analysis.strides[side]
        assert strides.loc[strides["used"], "heel_strike_s"].min() >= placed.min() - MATCH_S
    # the left foot starts inside a contact (its heel strike 0.33 s before the recording): none is invented
    first = analysis.events["left"].contacts.iloc[0]
    assert np.isnan(first["heel_strike_s"]) and first["toe_off_s"] < 0.5


def test_a_recording_that_starts_on_a_loading_rise_has_no_first_heel_strike() -> None:
    """Rule: a run's first contact keeps its heel strike only where the foot was seen unloaded before it (the force
    down to the floor of the swing after the contact, or a swing's length of samples before the heel strike).
    The left foot's first contact is 30 % of the way up its rise at the first sample, a fifth of the amplitude,
    under the coarse on level (gaitpdb-cohort GaPt13_01 left: 128 N at t = 0). Fails before with the level
    method: a heel strike at 0.003 s; the shape method's onset search already ran into the recording's start."""
    recording, analysis = _run("starts_on_rise")
    first_placed = recording.reference_events.heel_strike_s["left"][0]
    assert first_placed > 0.5  # the contact under way at the start has no heel strike in the recording
    foot = recording.left
    assert foot is not None
    force, rate = np.asarray(foot.values, dtype=float)[:, 0], recording.sample_rate_hz
    floor = FootswitchParams().floor_au
    for contacts in (
        detect_events(force, rate, method="shape", calibrated=False),
        detect_events(force - floor, rate, method="level", calibrated=True),  # as newtons: zero is no load
    ):
        hs = contacts.heel_strike_index
        assert contacts.start_index[0] < 0.1 * rate and hs[0] == -1
        assert contacts.toe_off_index[0] >= 0  # its end was observed
        found = hs[hs >= 0] / rate
        placed = np.asarray(recording.reference_events.heel_strike_s["left"])
        assert _match(placed, found)[:2] == (1.0, 1.0)
    for side in ("left", "right"):
        placed = np.asarray(recording.reference_events.heel_strike_s[side])
        found, _ = _heel_strikes(analysis, side)
        assert _match(placed, found)[:2] == (1.0, 1.0)
        strides = analysis.strides[side]
        assert strides.loc[strides["used"], "heel_strike_s"].min() >= placed.min() - MATCH_S


def test_a_tap_in_the_swing_leaves_the_toe_off_before_it() -> None:
    """Rule: a contact's toe off is sought before the next contact's heel strike. A low tap in the swing (under the
    coarse on level) falls more steeply than the slow unloading before it; the tap is the next heel strike.
    Fails before: 26 of the 27 tapped left contacts had the previous toe off on the tap's fall, after their heel
    strike (a negative swing time; gaitndd hunt16: 9 strides, park10: 18)."""
    recording, analysis = _run("tap_in_swing")
    for side in ("left", "right"):
        contacts = analysis.events[side].contacts
        hs = contacts["heel_strike_s"].to_numpy(dtype=float)
        to = contacts["toe_off_s"].to_numpy(dtype=float)
        placed = np.asarray(recording.reference_events.heel_strike_s[side])
        recall, precision, errors = _match(placed, hs[np.isfinite(hs)])
        assert recall == precision == 1.0
        assert np.max(np.abs(errors)) <= CLEAN_TOLERANCE_S  # the tapped contacts' heel strikes are on the taps
        assert np.all(to[:-1] < hs[1:])  # no toe off after the next heel strike
        swing = analysis.strides[side]["swing_time_s"].to_numpy(dtype=float)
        assert np.nanmin(swing) > 0
        # every toe off placed is found where the slow unloading comes within 4 % of the amplitude of the floor
        # (shape_floor_fraction): a 0.25 s half-cosine fall is there 32.6 ms before its end; +-8 ms for the 30 Hz
        # smoothing of the fall's foot and the +-15 % contact scales
        placed_to = np.asarray(recording.reference_events.toe_off_s[side])
        nearest = to[np.nanargmin(np.abs(to[:, None] - placed_to[None, :]), axis=0)]
        np.testing.assert_allclose(nearest - placed_to, -0.0326, atol=0.008)


def test_freezing_holds_no_event_and_no_used_stride() -> None:
    recording, analysis = _run("freezing")
    f0, f1 = 28.0, 32.0
    for side in ("left", "right"):
        placed = np.asarray(recording.reference_events.heel_strike_s[side])
        found, _ = _heel_strikes(analysis, side)
        recall, precision, _ = _match(placed, found)
        assert recall == precision == 1.0
        assert not np.any((found > f0 + 0.1) & (found < f1 - 0.1))
        strides = analysis.strides[side]
        used = strides[strides["used"]]
        spans = (used["heel_strike_s"] < f1) & (used["next_heel_strike_s"] > f0)
        assert not spans.any()


def test_standing_before_and_after_the_walk_holds_no_step() -> None:
    recording, analysis = _run("standing")
    for side in ("left", "right"):
        placed = np.asarray(recording.reference_events.heel_strike_s[side])
        found, _ = _heel_strikes(analysis, side)
        recall, precision, _ = _match(placed, found)
        assert recall == precision == 1.0
        assert not np.any(found < 7.0) and not np.any(found > 53.5)


def test_irregular_rhythm_keeps_every_stride_time() -> None:
    recording, analysis = _run("irregular")
    placed = np.asarray(recording.reference_events.heel_strike_s["left"])
    strides = analysis.strides["left"]
    used = strides[strides["used"]]
    true_stride = np.diff(placed)
    start = np.searchsorted(placed, used["heel_strike_s"].to_numpy() - MATCH_S)
    error = used["stride_time_s"].to_numpy() - true_stride[start]
    assert len(used) >= 45
    assert np.percentile(np.abs(error), 95) <= 0.0067  # two samples at 300 Hz


def test_a_quick_dip_in_a_long_contact_is_a_step_a_slow_weight_shift_is_not() -> None:
    """The split beyond max_stance_s needs a swing-quick unloading: a slow weight shift is standing."""
    rate = 100.0
    signal = np.zeros(1600)
    for a in range(20, 1500, 100):  # contacts of 60 samples every 100
        signal[a:a + 60] = 100.0
    params = AnalysisParams(event_lowpass_hz=50.0, min_swing_s=0.1, max_stance_s=1.5)

    def long_contact_with_dip(half_width: int) -> np.ndarray:
        out = signal.copy()
        out[320:820] = 100.0  # a 5 s contact (longer than max_stance_s)
        middle = 570
        out[middle - half_width:middle + half_width + 1] = np.concatenate(
            [np.linspace(100, 25, half_width + 1), np.linspace(25, 100, half_width + 1)[1:]]
        )
        return out

    time = np.arange(signal.size) / rate
    ones = np.ones(signal.size, bool)
    quick = detect_contacts(time, long_contact_with_dip(10), ones, rate, params, method="level")
    # the same depth reached in 1.5 s and left in 1.5 s: a weight shift, not a swing (0.4 s here)
    slow = detect_contacts(time, long_contact_with_dip(150), ones, rate, params, method="level")
    assert quick.n == slow.n + 1
    lengths = pd.Series((slow.stop_index - slow.start_index) / rate)
    assert lengths.max() >= 4.9  # the slow weight shift stays inside one standing contact


def test_a_lost_first_sample_inside_a_contact_raises_no_warning() -> None:
    """A contact under way at the start whose first sample is lost has no floor to look for a heel tap in:
    no NaN arithmetic warning (was 'invalid value encountered in add' on gaitndd hunt8's right foot, whose
    first sample is WFDB's invalid marker), and the events are those of the intact recording."""
    recording = simulate_footswitch(FootswitchParams(failure="partial_ends"))
    left = recording.left
    assert left is not None
    values = np.asarray(left.values, dtype=float).copy()
    valid = np.asarray(left.valid).copy()
    values[0], valid[0] = np.nan, False
    damaged = dataclasses.replace(recording, left=dataclasses.replace(left, values=values, valid=valid))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        analysis = insole.analyze(damaged)
    found, _ = _heel_strikes(analysis, "left")
    intact, _ = _heel_strikes(insole.analyze(recording), "left")
    np.testing.assert_array_equal(found, intact)


@pytest.mark.parametrize("rise_s", [0.04, 0.05])
def test_a_heel_strike_on_a_touch_has_low_confidence_however_clear_the_touch(rise_s: float) -> None:
    """Rule: a heel strike on a touch the foot lifts from before it lands has a confidence of at most 0.4, the
    landing being the other reading. With a 70 ms loading (rise_s 0.04) the tap is about as steep as the
    loading and the heel-tap rule moves the heel strike back to it; with an 88 ms one (0.05) the tap is the
    steepest rise and the onset search lands on it directly. Fails before: 0.99 and 1.00 on the tapped
    contacts, whose onsets look clean."""
    recording, analysis = _run("tap_and_land", rise_s=rise_s)
    for side in ("left", "right"):
        placed = np.asarray(recording.reference_events.heel_strike_s[side])
        found, confidence = _heel_strikes(analysis, side)
        recall, precision, errors = _match(placed, found)
        assert recall == precision == 1.0
        assert np.max(np.abs(errors)) <= CLEAN_TOLERANCE_S  # the heel strike is the tap's onset
        tapped = np.arange(placed.size) % 2 == 1
        assert np.all(confidence[tapped] <= 0.4)
        # the contacts without a tap keep a clean onset's confidence
        assert np.all(confidence[~tapped] > 0.9)


@pytest.mark.parametrize("failure", ["baseline_drift", "never_unloads", "standing", "tap_and_land"])
def test_detection_is_local_chunks_with_overlap_give_the_whole_recordings_heel_strikes(failure: str) -> None:
    """Heel strikes depend on the signal within a bounded window: a 3-minute walk cut into 60 s chunks, each
    detected with 15 s of signal either side, gives exactly the whole recording's heel strikes (what the chunked
    pipeline relies on; on the 35 gaitndd records, 3 of 17,644 heel strikes of both feet differ at these sizes,
    where a chunk's own load range or typical peak decides a borderline contact)."""
    recording = simulate_footswitch(FootswitchParams(failure=failure, duration_s=180.0))
    foot = recording.left
    assert foot is not None
    force, rate = np.asarray(foot.values, dtype=float)[:, 0], recording.sample_rate_hz
    whole = detect_events(force, rate, method="shape", calibrated=False).heel_strike_index
    chunk, margin = int(60 * rate), int(15 * rate)
    parts = []
    for start in range(0, force.size, chunk):
        lo, hi = max(0, start - margin), min(force.size, start + chunk + margin)
        found = detect_events(force[lo:hi], rate, method="shape", calibrated=False).heel_strike_index
        found = found[found >= 0] + lo
        parts.append(found[(found >= start) & (found < start + chunk)])
    np.testing.assert_array_equal(np.concatenate(parts), whole[whole >= 0])

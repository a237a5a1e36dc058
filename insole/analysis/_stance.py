"""The feature stage: per-stance features, curves over stance and regional loads of one foot.

Every stance metric is computed for walking contacts without a gap; the
tables mark which rows the summary uses (strides used, see ``_strides``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from insole._layout import SensorLayout
from insole._recording import Recording
from insole.analysis._cop import cop_capability, cop_features, cop_path
from insole.analysis._events import Contacts
from insole.analysis._force import (
    FeatureWork,
    StanceGrid,
    force_features,
    normalised_curves,
    stance_grid,
)
from insole.analysis._params import AnalysisParams
from insole.analysis._prepare import FootLoads, stance_peaks
from insole.analysis._regions import (
    _inferred_column,
    _labels,
    available_groups,
    region_features,
    regional_columns,
    sensor_table,
    stance_reductions,
    table_of,
)
from insole.analysis._segments import _padding_mask, all_finite, interval_windows, window_index
from insole.analysis._strides import FootTiming, bilateral_timing
from insole.analysis._summary import FootStatistics, foot_statistics

__all__ = ["StanceFeatures", "stance_features", "stance_features_and_statistics"]


@dataclass(frozen=True, eq=False)
class StanceFeatures:
    """The features of one foot: the tables ``Analysis`` holds for it, and whether COP could be had.

    ``steps``: one row per contact with both events (stance metrics for the
    walking ones without a gap, ``used`` for those the summary rests on).
    ``strides``: one row per stride with its first contact's stance metrics.
    ``curves``: mean +/- SD over 0-100 % stance of the used stances.
    ``regions`` and ``sensors``: regional and per-sensor loads of the used
    stances. ``cop_possible`` / ``cpei_possible``: the layout and the sensors
    left allow a centre of pressure (and its excursion index); ``cop_note``
    says why not ("" when they do).
    """

    side: str
    steps: pd.DataFrame
    strides: pd.DataFrame
    curves: pd.DataFrame
    regions: pd.DataFrame
    sensors: pd.DataFrame
    cop_possible: bool
    cpei_possible: bool
    cop_note: str


def stance_features(
    recording: Recording,
    side: str,
    loads: FootLoads,
    contacts: Contacts,
    timing: Mapping[str, FootTiming],
    body_weight: float,
    params: AnalysisParams,
    stretches: Stretches | None = None,
    stride_columns: dict[str, Any] | None = None,
) -> StanceFeatures:
    """The feature stage for one foot.

    ``loads``: the foot's loads after ``remove_offset``; ``timing``: both
    feet's (step time and double support need the other foot's events);
    ``body_weight`` in the force unit (NaN: metrics in BW are NaN).

    ``stretches`` (the streamed analysis): ``stretches(cuts)`` gives the
    foot's positive per-sensor loads and pressures a stretch of samples at a
    time, ``(start, loads, pressures)``, the stretches following one another
    from sample 0 to the end and each ending at one of the allowed ``cuts``
    (or the end), so that no measured stance straddles two; then ``loads``
    need no per-sensor arrays. Every per-stance number is taken from its own
    stance's samples, so the results are those of the whole arrays.

    ``stride_columns``: a dict that gets the stride table's columns as the numpy arrays it is made of (see
    ``stance_features_and_statistics``).
    """
    tm = timing[side]
    cop_ok, cpei_ok, why = cop_capability(recording.layout, loads.sensor_used)
    used = tm.step_used()
    # the step table whole at once: its "used" column and (both feet's events being known by now) step time and
    # double support are made with the rest, not inserted and added to the table column by column
    table, cop_xy, measured, per_sensor, columns = _step_table(
        recording, loads, tm, contacts, body_weight, params, cop_ok, cpei_ok, stretches, used, timing=timing,
        side=side,
    )
    step_used = columns["used"]
    used_rows = measured & used
    idx = np.flatnonzero(used_rows)
    hs_u, to_u = tm.hs_index[idx], tm.to_index[idx]
    if isinstance(cop_xy, CopCurves):  # reduced (in place) and let go before the force's curves are made
        cop_xy = CopCurves(np.stack(_column_mean_sd_inplace(cop_xy.x)), np.stack(_column_mean_sd_inplace(cop_xy.y)))
    curve = _curves(loads, hs_u, to_u, body_weight, cop_xy, params)
    region = _region_summary(columns, step_used, recording.layout, loads.sensor_used)
    # per-sensor arrays have one row per measured contact; keep the used ones (each measured contact's own flag:
    # what np.isin of the measured contacts in the used ones gives, without its sort)
    sensor = sensor_table(per_sensor, used_rows[measured], loads.sensor_used, recording.layout)
    stride = _stride_table(table, tm, arrays=columns, columns_out=stride_columns)
    return StanceFeatures(side=side, steps=table, strides=stride, curves=curve, regions=region, sensors=sensor,
                          cop_possible=cop_ok, cpei_possible=cpei_ok, cop_note=why)


def stance_features_and_statistics(
    recording: Recording,
    side: str,
    loads: FootLoads,
    contacts: Contacts,
    timing: Mapping[str, FootTiming],
    body_weight: float,
    params: AnalysisParams,
    stretches: Stretches | None = None,
) -> tuple[StanceFeatures, FootStatistics]:
    """``stance_features`` and ``foot_statistics`` of its stride table at once: the statistics read from the numpy
    columns the stride table is made of (the same numbers, without pandas' selection and copies of the table)."""
    stride_columns: dict[str, Any] = {}
    found = stance_features(recording, side, loads, contacts, timing, body_weight, params, stretches=stretches,
                            stride_columns=stride_columns)
    return found, foot_statistics(found.strides, columns=stride_columns)


# (start, positive per-sensor loads, positive pressures or None) of a stretch of samples
Stretch = tuple[int, np.ndarray, "np.ndarray | None"]
# the stretches of a foot, given where they may end (``stance_features``)
Stretches = Callable[["np.ndarray | None"], Iterator[Stretch]]


def _step_table(recording, foot, tm, found, bw, params, cop_ok, cpei_ok, stretches=None, used=None, timing=None,
                side=None):
    """One row per contact with both events; features for walking contacts without gaps.

    Also the table's columns as the numpy arrays it was made of, in its order (for readers that want a few of them
    without pandas' per-column cost). With ``used`` (each contact's ``step_used``) and ``timing`` (both feet's)
    the table has, as ``stance_features`` gives it, a "used" column after "kind" and step time and double support
    (``bilateral_timing``) after the metrics."""
    fs = foot.sample_rate_hz
    hs, to = tm.hs_index, tm.to_index
    complete = (hs >= 0) & (to >= 0) & (to > hs)
    contact = np.flatnonzero(complete)
    data: dict[str, Any] = {
        "contact": contact,
        "heel_strike_s": tm.heel_strike_s[contact],
        "toe_off_s": tm.toe_off_s[contact],
        "stance_time_s": np.where(
            tm.gap_free(tm.heel_strike_s[contact], tm.toe_off_s[contact]),
            tm.toe_off_s[contact] - tm.heel_strike_s[contact],
            np.nan,
        ),
        "kind": _strings(np.array(["walking", "standing"]), (~tm.walking_contact[contact]).astype(np.intp)),
        "has_gap": tm.contact_has_gap[contact],
        "heel_strike_confidence": found.heel_strike_confidence[contact],
        "toe_off_confidence": found.toe_off_confidence[contact],
    }
    # nothing is computed across a gap: stance metrics only for walking contacts without one
    measured = tm.walking_contact[contact] & ~tm.contact_has_gap[contact]
    idx = contact[measured]
    a, b = hs[idx], to[idx]
    columns: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        min_force = params.cop_min_force_fraction * bw if math.isfinite(bw) else 0.0
        if stretches is None:
            cop_xy = _cop_of_stances(foot.positive_load_t, recording.layout, foot.force, min_force, a, b) \
                if cop_ok else None
            regional, per_sensor = region_features(
                foot.positive_load_t, foot.sensor_load_unit == "N", foot.positive_pressure_t, foot.sensor_used,
                recording.layout, a, b, fs, peaks=stance_peaks(foot, a, b),
            )
            columns.update(_curve_features(foot, a, b, bw, cop_xy, recording.layout, cpei_ok))
        else:
            # the COP only stretch by stretch: its features and curve rows are taken there (cop_xy: the rows)
            curve_stances = used[idx] if used is not None else np.ones(idx.size, dtype=bool)
            cop_columns, cop_xy, regional, per_sensor = _by_stretches(
                stretches, foot, recording.layout, a, b, min_force, cop_ok, cpei_ok, curve_stances,
                int(params.curve_points))
            columns.update(_curve_features(foot, a, b, bw, None, recording.layout, cpei_ok))
            columns.update(cop_columns)
        # a sensor left out over part of a stance (a dead or stuck span) reads zero there:
        # its own numbers for that stance are missing, not "no load"
        left_out = np.zeros((a.size, recording.layout.n_sensors), dtype=bool)
        for sensor, start, stop in foot.sensor_gaps:
            left_out[:, sensor] |= (a < stop) & (b > start)
        per_sensor["left_out"] = left_out
        columns.update(regional)
        if "forefoot_share_pct" in regional and "toes_share_pct" in regional:
            # the front of the foot (everything in front of the midfoot): forefoot + toes
            columns["forefoot_toes_share_pct"] = regional["forefoot_share_pct"] + regional["toes_share_pct"]
    whole: dict[str, np.ndarray] = {}  # columns of every row (not only the measured ones), after the metrics
    if used is not None and timing is not None:
        data = {name: values for key, values in data.items()
                for name, values in ((key, values), ("used", used[contact]))[: 2 if key == "kind" else 1]}
        whole = bilateral_timing(side, contact, timing)
    # the metrics (float, NaN where not measured) as one (contacts x metrics) block: one DataFrame of it beside
    # the few other columns, not a column each; ``data`` gets each metric's column of the block (views)
    names = [*columns, *whole]
    # made as (metrics x contacts), C order: its transpose is the (contacts x metrics) block with each column
    # contiguous, as pandas keeps it (taken without a copy), and the metrics are written at once, not a column each
    block = np.empty((len(names), contact.size))
    rows = np.flatnonzero(measured)
    for name, values in columns.items():
        if len(values) != rows.size:  # (stacked, they would be refused with a less telling message)
            raise ValueError(f"{name}: {len(values)} values for {rows.size} measured contacts")
    metrics = block[:len(columns)]
    if columns:
        # (each column cast to float64 whatever its dtype, as np.put into a float64 column did)
        if rows.size == contact.size:  # every contact measured: straight into the rows
            np.stack(list(columns.values()), out=metrics, casting="unsafe")
        else:
            metrics.fill(np.nan)
            metrics[:, rows] = np.stack(list(columns.values()), dtype=np.float64, casting="unsafe")
    for j, values in enumerate(whole.values(), start=len(columns)):
        block[j] = values
    measured_all = np.zeros(hs.size, dtype=bool)
    measured_all[idx] = True
    if not data.keys().isdisjoint(names):  # (a metric named as a contact column: pandas' join keeps both)
        head = pd.DataFrame(data)
        data.update(zip(names, block))
        return pd.concat([head, pd.DataFrame(block.T, columns=names, copy=False)], axis=1), cop_xy, measured_all, \
            per_sensor, data
    data.update(zip(names, block))
    # one DataFrame of the contact columns and the block (the block as it is, one of its blocks)
    return table_of(data, [(block, names)]), cop_xy, measured_all, per_sensor, data


# Stances per block of the force and COP features: each block's (stances x longest stance) windows (a few
# arrays of 8 bytes a point) are freed before the next, the work arrays reused. Every feature is one stance's own (a
# reduction along its row), and every block is cut to the width of the longest stance of all, as in one piece: the
# same numbers. (1024 measured the time of 2048, 12.7 ms a foot of the simulated hour; 512: 13.6.)
_FEATURE_BLOCK = 2048


def _curve_features(foot: FootLoads, a: np.ndarray, b: np.ndarray, bw: float,
                    cop_xy: tuple[np.ndarray, np.ndarray] | None, layout: SensorLayout,
                    cpei_ok: bool) -> dict[str, np.ndarray]:
    """``force_features`` and (with a COP) ``cop_features`` of the stances ``[a, b)``, ``_FEATURE_BLOCK`` at a
    time, each block's stances cut once for both."""
    fs, calibrated = foot.sample_rate_hz, foot.force_unit == "N"
    width = int((b - a).max()) if a.size else 0
    parts: list[dict[str, np.ndarray]] = []
    # one set of work arrays for both features of every block (the rows of a shorter block at their start)
    work = FeatureWork.for_windows((min(a.size, _FEATURE_BLOCK), width))
    for start in range(0, a.size, _FEATURE_BLOCK) if a.size else [0]:
        a_k, b_k = a[start:start + _FEATURE_BLOCK], b[start:start + _FEATURE_BLOCK]
        index = _window_index(a_k, b_k, width)
        windows = interval_windows(foot.force, a_k, b_k, index=index)
        block_work = work.head(a_k.size)
        part = force_features(foot.force, a_k, b_k, fs, bw, calibrated=calibrated, windows=windows, work=block_work)
        if cop_xy is not None:
            part.update(cop_features(cop_xy[0], cop_xy[1], foot.force, a_k, b_k, layout, cpei_ok, index=index,
                                     force_windows=windows, work=block_work))
        parts.append(part)
        del index, windows
    if len(parts) == 1:
        return parts[0]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _window_index(a: np.ndarray, b: np.ndarray, width: int) -> tuple[None, np.ndarray]:
    """``interval_windows``' ``(None, outside)``: the padding of windows of ``width`` samples (at least the
    longest of these stances) past each stance's end, without the sample index (the windows are read as rows of
    a sliding view; ``interval_windows`` makes an index at this width only where it needs one)."""
    if a.size == 0:
        return None, window_index(a, b)[1]
    # (row t of a table, True from column t on, gathered rather than a (1, width) by (m, 1) broadcast comparison,
    # where the table is small: ``_padding_mask``)
    return None, _padding_mask(b - a, width)


def _cop_of_stances(positive_load_t: np.ndarray, layout: SensorLayout, force: np.ndarray, min_force: float,
                    a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The COP path at the stances' samples ``[a, b)`` only (NaN elsewhere): the features and curves read the COP
    nowhere else."""
    # (each sample's COP is its own: the same numbers for these samples in any blocks)
    return cop_path(positive_load_t, layout, force, min_force, samples=_stance_samples(a, b, positive_load_t.shape[1]))


def _stance_samples(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """The samples of the stances ``[a, b)`` (of ``n`` samples) in order, each once: ``np.flatnonzero`` of the
    samples inside any stance.

    Stances one after the other, none empty (a foot's measured stances): the mask of the samples up to the last
    stance's end repeated from its runs (out, in, out, in, ...), then its ``np.flatnonzero`` (0.3 ms for the hour's
    221,000 stance samples of 360,000, most of it in np.flatnonzero, which lets the other thread run; a running sum
    of each sample's step took 0.5 ms, all of it holding the GIL). Otherwise the running count of stances begun and
    not ended at each sample (one byte a sample)."""
    lengths = b - a
    if a.size and lengths.min() > 0 and bool(np.all(a[1:] >= b[:-1])):
        runs = np.empty(2 * a.size, dtype=np.int64)
        runs[0] = a[0]
        runs[2::2] = a[1:] - b[:-1]
        runs[1::2] = lengths
        inside = np.zeros(2 * a.size, dtype=bool)
        inside[1::2] = True
        return np.flatnonzero(np.repeat(inside, runs))
    marks = np.zeros(n + 1, dtype=np.int8)
    np.add.at(marks, a, 1)
    np.add.at(marks, b, -1)
    return np.flatnonzero(np.cumsum(marks[:-1], dtype=np.int8))


def _stance_cuts(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Where a stretch may end: sample indices ``c`` (ascending, ``c > 0``) with every stance ``[a, b)`` either
    starting at or after ``c`` or ending before it (``b < c``: a stance then never ends where its stretch does, so
    its per-sensor reductions are the whole arrays' ones). The first sample of each stance is such a place when
    the stance before it ended earlier; without stances a stretch may end anywhere (None)."""
    if a.size == 0:
        return None
    previous_end = np.concatenate([[-1], b[:-1]])
    return a[(a > 0) & (previous_end < a)].astype(np.int64)


class CopCurves(NamedTuple):
    """The COP's (stances x points) curves over stance of the stances the curves average, x and y (mm); or, once
    reduced, each one's (2 x points) mean and SD."""

    x: np.ndarray
    y: np.ndarray


def _by_stretches(stretches: Stretches, foot: FootLoads, layout: SensorLayout, a: np.ndarray, b: np.ndarray,
                  min_force: float, cop_ok: bool, cpei_ok: bool, curve_stances: np.ndarray, points: int
                  ) -> tuple[dict[str, np.ndarray], CopCurves | None, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The COP features and curves and the regional and per-sensor features of the stances ``[a, b)``, a stretch
    at a time (the COP of a stretch's samples only: no array of the whole foot's length).

    Each stance lies in one stretch (``_stance_cuts``): its COP samples, COP features (cut at the width of the
    longest stance of all, as on the whole arrays), COP curve (on the whole recording's grid of stance points,
    ``curve_stances`` of the stances) and per-sensor reductions are the same numbers as on the whole arrays. The
    per-stance rows of the stretches are joined in stance order, and the sums across sensors taken over all.
    """
    width = int((b - a).max()) if a.size else 0
    cop_parts: list[dict[str, np.ndarray]] = []
    curve_x: list[np.ndarray] = []
    curve_y: list[np.ndarray] = []
    pressure_parts: list[dict[str, np.ndarray]] = []
    sensor_parts: list[dict[str, np.ndarray]] = []
    load_is_force = foot.sensor_load_unit == "N"
    # the COP features' work arrays, one set for every block of every stretch (as in _curve_features)
    work = FeatureWork.for_windows((min(a.size, _FEATURE_BLOCK), width)) if cop_ok else None
    for start, loads_t, pressures_t in stretches(_stance_cuts(a, b)):
        stop = start + loads_t.shape[1]
        lo, hi = np.searchsorted(a, [start, stop])
        if hi <= lo:
            continue
        a_s, b_s = a[lo:hi] - start, b[lo:hi] - start
        if cop_ok:
            force = foot.force[start:stop]
            x, y = _cop_of_stances(loads_t, layout, force, min_force, a_s, b_s)
            for k in range(0, a_s.size, _FEATURE_BLOCK):
                a_k, b_k = a_s[k:k + _FEATURE_BLOCK], b_s[k:k + _FEATURE_BLOCK]
                index = _window_index(a_k, b_k, width)
                windows = interval_windows(force, a_k, b_k, index=index)
                cop_parts.append(cop_features(x, y, force, a_k, b_k, layout, cpei_ok, index=index,
                                              force_windows=windows,
                                              work=work.head(a_k.size) if work is not None else None))
            chosen = curve_stances[lo:hi]
            if chosen.any():
                grid = stance_grid(a[lo:hi][chosen], b[lo:hi][chosen], points, foot.n)  # the whole foot's grid
                local = grid._replace(lower=grid.lower - start, upper=grid.upper - start)
                curve_x.append(normalised_curves(x, a_s[chosen], b_s[chosen], points, local))
                curve_y.append(normalised_curves(y, a_s[chosen], b_s[chosen], points, local))
            del x, y
        per_sensor, group_pressure = stance_reductions(loads_t, load_is_force, pressures_t, foot.sensor_used,
                                                       layout, a_s, b_s, foot.sample_rate_hz)
        sensor_parts.append(per_sensor)
        pressure_parts.append(group_pressure)
    cop_columns: dict[str, np.ndarray] = {}
    curves = None
    if cop_ok:
        if cop_parts:
            cop_columns = {key: np.concatenate([part[key] for part in cop_parts]) for key in cop_parts[0]}
        else:  # no stance: the empty columns
            nothing = np.zeros(0, dtype=np.int64)
            cop_columns = cop_features(np.zeros(0), np.zeros(0), np.zeros(0), nothing, nothing, layout, cpei_ok)
        empty = np.zeros((0, points))
        curves = CopCurves(np.concatenate(curve_x) if curve_x else empty, np.concatenate(curve_y) if curve_y
                           else empty.copy())
    if not sensor_parts:  # no stance: the empty columns of region_features
        empty_t = np.zeros((layout.n_sensors, 0), dtype=np.float32)
        pressure = empty_t if foot.sensor_pressure_t is not None else None
        regional, per_sensor = region_features(empty_t, load_is_force, pressure, foot.sensor_used, layout, a, b,
                                               foot.sample_rate_hz)
        return cop_columns, curves, regional, per_sensor
    # the per-stance rows of every stretch, then the sums across sensors over all of them at once
    per_sensor = {key: np.concatenate([part[key] for part in sensor_parts]) for key in sensor_parts[0]}
    group_pressure = {key: np.concatenate([part[key] for part in pressure_parts]) for key in pressure_parts[0]}
    regional = regional_columns(per_sensor, group_pressure, load_is_force, foot.sensor_used, layout)
    return cop_columns, curves, regional, per_sensor


def _stride_table(steps: pd.DataFrame, tm: FootTiming, arrays: Mapping[str, np.ndarray] | None = None,
                  columns_out: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per stride, with the stance metrics of its first contact (``steps``' row of that contact).

    ``arrays``: ``steps``' columns as the numpy arrays it was made of, in its order (``_step_table``'s), read in
    place of the table's own columns (the same values, without pandas' per-column cost). ``columns_out``: a dict
    that gets the stride table's columns as the arrays it is made of (when it is made of them at once; else left
    as it is)."""
    m = tm.n_contacts
    if m < 2:
        names = ["stride", "heel_strike_s", "toe_off_s", "next_heel_strike_s", "stride_time_s", "stance_time_s",
                 "swing_time_s", "used", "exclusion_reason"]
        return pd.DataFrame({c: pd.Series(dtype=float) for c in names})
    hs, to = tm.heel_strike_s, tm.toe_off_s
    # nothing is computed across a gap: each time is NaN when a gap longer
    # than the bridge lies between its two events (the row stays, unused)
    stride_time = np.where(tm.gap_free(hs[:-1], hs[1:]), hs[1:] - hs[:-1], np.nan)
    stance = np.where(tm.gap_free(hs[:-1], to[:-1]), to[:-1] - hs[:-1], np.nan)
    swing = np.where(tm.gap_free(to[:-1], hs[1:]), hs[1:] - to[:-1], np.nan)
    columns: dict[str, Any] = {
        "stride": np.arange(m - 1),
        "heel_strike_s": hs[:-1],
        "toe_off_s": to[:-1],
        "next_heel_strike_s": hs[1:],
        "stride_time_s": stride_time,
        "stance_time_s": stance,
        "swing_time_s": swing,
        "stance_pct": 100.0 * stance / stride_time,
        "swing_pct": 100.0 * swing / stride_time,
        "cadence_steps_per_min": 120.0 / stride_time,
        "bout": tm.stride_bout,
        "used": tm.stride_used,
        "exclusion_reason": _strings(*_factorized(tm.stride_reason)),
    }
    if tm.heading_change_deg is not None:
        columns["heading_change_deg"] = tm.heading_change_deg
    # the stance metrics of each stride's first contact (NaN where that contact has no row), taken at once from the
    # step table's float columns (when every one is float64: else by the pandas join below)
    if arrays is not None and len(arrays) == steps.shape[1]:
        extra = [c for c in arrays if c not in columns and c not in ("contact", "kind", "has_gap", "used")]
        contact = np.asarray(arrays["contact"])
        plain = (all(arrays[c].dtype == np.float64 for c in extra)
                 and bool(np.all(contact[1:] > contact[:-1])))  # rows in contact order: each contact once
    else:
        extra = [c for c in steps.columns if c not in columns and c not in ("contact", "kind", "has_gap", "used")]
        dtypes = steps.dtypes
        plain = all(dtypes[c] == np.float64 for c in extra) and steps["contact"].is_unique
        contact = steps["contact"].to_numpy()
        arrays = None
    if not plain:
        return _stride_table_joined(steps, tm, columns)
    both = "initial_double_support_s" in extra and "terminal_double_support_s" in extra
    names = [*extra, "double_support_s", "double_support_pct"] if both else extra
    # one float block for every metric: one DataFrame of it, not a column each. Made as (metrics x strides), C order:
    # its transpose is the (strides x metrics) block with each metric's column contiguous, as pandas keeps it (taken
    # without a copy), and each metric's row is written at once
    joined = np.empty((len(names), m - 1))
    metrics = joined[:len(extra)]
    if arrays is not None:
        # the rows in contact order (``plain``): those picked (0 <= contact < m - 1) are one run of them, so each
        # metric is copied from that run of its own array straight into its row, without a (contacts x metrics) copy
        lo, hi = (int(i) for i in np.searchsorted(contact, [0, m - 1]))
        if extra and hi > lo:
            first, last = int(contact[lo]), int(contact[hi - 1])
            if last - first == hi - lo - 1:
                # the contacts of a run of strides each have their row (the usual case; the first contact, cut by the
                # recording's start, often has none): the runs straight into their place in the rows (one stack for
                # all of them), NaN either side
                np.stack([arrays[c][lo:hi] for c in extra], out=metrics[:, first:last + 1])
                metrics[:, :first] = np.nan
                metrics[:, last + 1:] = np.nan
            else:  # stacked, then put in their strides' places at once
                metrics.fill(np.nan)
                metrics[:, contact[lo:hi]] = np.stack([arrays[c][lo:hi] for c in extra])
        else:
            metrics.fill(np.nan)
    else:
        metrics.fill(np.nan)
        picked = (contact >= 0) & (contact < m - 1)
        metrics[:, contact[picked]] = steps[extra].to_numpy()[picked].T
    if both:
        initial, terminal = extra.index("initial_double_support_s"), extra.index("terminal_double_support_s")
        double = np.add(joined[initial], joined[terminal], out=joined[-2])
        np.divide(np.multiply(100.0, double, out=joined[-1]), stride_time, out=joined[-1])
    if columns_out is not None:
        columns_out.update(columns)
        columns_out.update(zip(names, joined))
    if not columns.keys().isdisjoint(names):  # (a step column named as a stride one: pandas' join keeps both)
        return pd.concat([pd.DataFrame(columns), pd.DataFrame(joined.T, columns=names, copy=False)], axis=1)
    # one DataFrame of the stride columns and the block (the block as it is, one of its blocks)
    return table_of({**columns, **dict(zip(names, joined))}, [(joined, names)])


def _strings(distinct: np.ndarray, codes: np.ndarray) -> Any:
    """The string column a DataFrame makes of ``distinct[codes]`` (``distinct``: a few strings, a numpy str array;
    ``codes``: one index into them a row), made from the few distinct values (pandas' column of ``distinct`` as it
    infers it, made once for a set of values, repeated by ``codes``) rather than by converting every row's string
    (~0.2 ms for 3,400 rows, all of it holding the GIL; this: ~0.02 ms)."""
    return _inferred_column(tuple(distinct.tolist())).take(codes)


def _factorized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (an object array of strings) as ``_strings``' distinct values (each ``str`` of itself, as
    ``values.astype(str)`` makes it) and codes."""
    # most are "" (a stride used): only the others converted and told apart, "" code 0
    others = np.flatnonzero(values != "")
    distinct, found = np.unique(values[others].astype(str), return_inverse=True)
    codes = np.zeros(values.size, dtype=np.intp)
    codes[others] = found + 1
    return np.concatenate([np.array([""]), distinct]), codes


def _stride_table_joined(steps: pd.DataFrame, tm: FootTiming, columns: dict[str, Any]) -> pd.DataFrame:
    """``_stride_table`` by pandas' join on the contact (``columns``: the stride table's own columns)."""
    m = tm.n_contacts
    heading = columns.pop("heading_change_deg", None)
    table = pd.DataFrame(columns)
    if heading is not None:
        table["heading_change_deg"] = heading
    # the stance metrics of each stride's first contact
    by_contact = steps.set_index("contact")
    extra = [c for c in by_contact.columns if c not in table.columns and c not in ("kind", "has_gap", "used")]
    joined = by_contact[extra].reindex(np.arange(m - 1))
    joined.index = table.index
    table = pd.concat([table, joined], axis=1)
    initial = table.get("initial_double_support_s")
    terminal = table.get("terminal_double_support_s")
    if initial is not None and terminal is not None:
        table["double_support_s"] = initial + terminal
        table["double_support_pct"] = 100.0 * table["double_support_s"] / table["stride_time_s"]
    return table


# Stances per block of the curves: each block's grid and gathered samples (~60 bytes a point, ~1.5 MB at 101
# points) are in buffers reused block after block, kept in a core's cache; rows are independent, so the curves are
# the same as in one piece. 256 measured 7.1 ms a foot of the simulated hour for the three curves (512: 7.7, 128: 7.3).
_CURVE_BLOCK = 256


def _curves(foot, hs, to, bw, cop_xy, params) -> pd.DataFrame:
    points = int(params.curve_points)
    data: dict[str, np.ndarray] = {"percent_stance": np.linspace(0.0, 100.0, points)}
    nan = np.full(points, np.nan)
    # every signal's (stances x points) curves on one grid per block of stances, each reduced to mean and SD
    # at once (in place)
    signals: list[tuple[np.ndarray, bool]] = [(foot.force, True)]
    if cop_xy is not None and not isinstance(cop_xy, CopCurves):
        signals += [(cop_xy[0], False), (cop_xy[1], False)]
    found = _stance_curves(signals, hs, to, points, foot.n)
    mean, sd = _column_mean_sd_inplace(found[0])
    calibrated = foot.force_unit == "N"
    data["force_n_mean"], data["force_n_sd"] = (mean, sd) if calibrated else (nan, nan.copy())
    # in body weights: the same curves divided by one number
    scaled = math.isfinite(bw) and bw > 0
    data["force_bw_mean"], data["force_bw_sd"] = (mean / bw, sd / bw) if scaled else (nan.copy(), nan.copy())
    if isinstance(cop_xy, CopCurves):  # their mean and SD, from the rows taken stretch by stretch (streamed)
        for name, (mean, sd) in (("cop_x_mm", cop_xy.x), ("cop_y_mm", cop_xy.y)):
            data[f"{name}_mean"], data[f"{name}_sd"] = mean, sd
    elif cop_xy is not None:
        for name, curves in (("cop_x_mm", found[1]), ("cop_y_mm", found[2])):
            data[f"{name}_mean"], data[f"{name}_sd"] = _column_mean_sd_inplace(curves)
    data["n_stances"] = np.full(points, hs.size)
    return table_of(data)


def _stance_curves(signals: list[tuple[np.ndarray, bool]], hs: np.ndarray, to: np.ndarray, points: int,
                   n: int) -> list[np.ndarray]:
    """``normalised_curves`` of these stances for each ``(signal, nan_as_zero)``, computed ``_CURVE_BLOCK`` stances
    at a time (one ``stance_grid`` per block for every signal) into one array per signal."""
    m = hs.size
    if m == 0:
        return [np.zeros((0, points)) for _ in signals]
    # one set of block buffers for the grid and the gathered samples, reused by every block and signal (they stay in
    # cache; fresh ones per block were most of this stage's allocations), and the curves written straight into their
    # rows of each signal's array
    # a signal with every value finite (the force, as a rule) is its own NaN-as-zero: its conversion, six numpy calls
    # a block, is skipped (one sum of the signal tells)
    signals = [(signal, nan_as_zero and not all_finite(signal)) for signal, nan_as_zero in signals]
    rows = min(m, _CURVE_BLOCK)
    grid_buffers = StanceGrid(np.empty((rows, points), dtype=np.int64), np.empty((rows, points), dtype=np.int64),
                              np.empty((rows, points)), np.empty((rows, points)), np.empty((rows, points), dtype=bool))
    scratch = (np.empty((rows, points)), np.empty((rows, points)))
    # the float64 signals' curves (their own dtype: written in place) in one (signals x stances x points) array, each
    # signal's a C-contiguous (stances x points) part of it: one fresh allocation, not one a signal, and at the hour's
    # size (three signals, 8 MB) one large enough for numpy to ask the kernel for huge pages (numpy does so from
    # 4 MB), where three separate 2.8 MB arrays cost ~700 page faults each (~2000 a foot, most of this stage's)
    in_place = [i for i, (signal, _) in enumerate(signals) if signal.dtype == np.float64]
    together = np.empty((len(in_place), m, points))
    out: list[np.ndarray | None] = [None] * len(signals)
    for k, i in enumerate(in_place):
        out[i] = together[k]
    for start in range(0, m, _CURVE_BLOCK):
        stop = min(start + _CURVE_BLOCK, m)
        a, b = hs[start:stop], to[start:stop]
        size = stop - start
        # (the buffers' first rows for a shorter last block)
        whole = size == rows
        buffers = grid_buffers if whole else StanceGrid(*(x[:size] for x in grid_buffers))
        grid = stance_grid(a, b, points, n, out=buffers)
        gathered = scratch if whole else (scratch[0][:size], scratch[1][:size])
        for i, (signal, nan_as_zero) in enumerate(signals):
            curves = out[i]
            if signal.dtype == np.float64:
                assert curves is not None
                normalised_curves(signal, a, b, points, grid, nan_as_zero=nan_as_zero, out=curves[start:stop],
                                  scratch=gathered)
                continue
            block = normalised_curves(signal, a, b, points, grid, nan_as_zero=nan_as_zero)
            if curves is None:
                curves = out[i] = np.empty((m, points), dtype=block.dtype)
            curves[start:stop] = block
    return [curves for curves in out if curves is not None]


def _column_mean_sd_inplace(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD (n - 1) of each column over the finite values; NaN where there are none (or one, for SD).

    ``rows`` is the caller's to give up: it is overwritten (with the deviations from the mean; the same operations
    as on a copy, without one).
    """
    m, points = rows.shape
    if m == 0:
        return np.full(points, np.nan), np.full(points, np.nan)
    with np.errstate(over="ignore"):  # (a sum that overflows: that column is taken apart below)
        total = rows.sum(axis=0)
    # a column with a NaN or an infinity has a sum that is not finite (as has one whose sum overflows): those columns
    # (the COP's first and last points of stance, 4 of 101 an hour) taken apart, on a copy of their own, over their
    # finite values. Each column's numbers are its own (the sums run down each column, row after row), so a column
    # gives the same numbers in any set of columns; and a column of finite values the same by either way
    odd = np.flatnonzero(~np.isfinite(total))
    apart = None
    if odd.size:
        # (np.take: C order. One column alone is taken twice: numpy sums a single column, contiguous, pairwise, where
        # it sums the columns of a wider array row after row; the second copy is dropped)
        taken = _finite_column_mean_sd(np.take(rows, odd if odd.size > 1 else np.repeat(odd, 2), axis=1))
        apart = (taken[0][:odd.size], taken[1][:odd.size])
    # every other column: the steps of rows.mean(axis=0) and rows.std(axis=0, ddof=1) (numpy's own: the column sums
    # over the count, then the squared deviations from that mean summed over the count less one), the deviations
    # taken in ``rows`` rather than in a copy (the odd columns' numbers there are replaced below)
    mean = total / m
    if m == 1:
        sd = np.full(points, np.nan)
    else:
        with np.errstate(invalid="ignore", over="ignore"):  # (the odd columns: inf - inf, replaced below)
            np.subtract(rows, mean, out=rows)
            np.square(rows, out=rows)
        sd = np.sqrt(rows.sum(axis=0) / (m - 1))
    if apart is not None:
        mean[odd], sd[odd] = apart
    return mean, sd


def _finite_column_mean_sd(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_column_mean_sd_inplace`` of columns that may hold NaN or infinite values: the mean and SD of each one's
    finite values (``rows``: C-contiguous and our own, overwritten)."""
    missing = np.isfinite(rows)
    count = missing.sum(axis=0)
    np.logical_not(missing, out=missing)  # (the finite mask, inverted in place)
    np.copyto(rows, 0.0, where=missing)  # the finite values, zero elsewhere
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = np.where(count > 0, rows.sum(axis=0) / count, np.nan)
        np.subtract(rows, mean, out=rows)
        np.square(rows, out=rows)
        np.copyto(rows, 0.0, where=missing)  # squared deviations of the finite values only
        squares = rows.sum(axis=0)
        sd = np.where(count > 1, np.sqrt(squares / np.maximum(count - 1, 1)), np.nan)
    return mean, sd


def _region_summary(steps: Mapping[str, np.ndarray], used: np.ndarray, layout: SensorLayout,
                    sensor_used: np.ndarray) -> pd.DataFrame:
    """One row per region group (of the sensors used): mean and SD of its columns over the step rows ``used`` picks
    (``steps``: the step table's columns, as ``_step_table`` gives them)."""
    groups = available_groups(layout, sensor_used)
    metrics = ("peak_pressure_kpa", "pti_kpa_s", "fti_n_s", "share_pct")
    found = [[metric for metric in metrics if f"{group}_{metric}" in steps] for group in groups]
    if not groups or any(names != found[0] for names in found):
        return _region_summary_rows(steps, used, layout, groups)  # (groups with other columns: pandas' row join)
    # every group has the same metrics (the usual case): each summary column made at once, one DataFrame of them
    names = np.asarray(layout.sensor_names)
    columns: dict[str, Any] = {
        "region": _labels(tuple(groups)),
        "n_sensors": np.array([int(mask.sum()) for mask in groups.values()], dtype=np.int64),
        "sensors": _labels(tuple(",".join(names[mask]) for mask in groups.values())),
    }
    if found[0]:
        values = np.stack([steps[f"{group}_{metric}"] for group in groups for metric in found[0]], dtype=float,
                          casting="unsafe")
        mean, sd = _finite_rows_mean_sd(np.compress(used, values, axis=1))
        for k, metric in enumerate(found[0]):
            columns[f"{metric}_mean"] = mean[k::len(found[0])]
            columns[f"{metric}_sd"] = sd[k::len(found[0])]
    return table_of(columns)


def _region_summary_rows(steps: Mapping[str, np.ndarray], used: np.ndarray, layout: SensorLayout,
                         groups: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """``_region_summary`` a row at a time (groups that lack some of the others' columns: pandas joins the rows,
    NaN where a row lacks a column)."""
    rows = []
    for group, mask in groups.items():
        row: dict[str, Any] = {"region": group, "n_sensors": int(mask.sum()),
                               "sensors": ",".join(np.asarray(layout.sensor_names)[mask])}
        for metric in ("peak_pressure_kpa", "pti_kpa_s", "fti_n_s", "share_pct"):
            column = f"{group}_{metric}"
            if column in steps:
                values = np.asarray(steps[column], dtype=float)[used]  # a copy of our own (the rows used)
                row[f"{metric}_mean"], row[f"{metric}_sd"] = _finite_mean_sd(values)
        rows.append(row)
    return pd.DataFrame(rows)


def _finite_rows_mean_sd(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_finite_mean_sd`` of each row of ``values`` (2-D, C order, our own: overwritten), the same numbers: the rows
    of finite values at once (numpy reduces each contiguous row of a 2-D array as it does the row alone, pairwise),
    any other row, or too few values for an SD, by ``_finite_mean_sd``."""
    k, n = values.shape
    mean, sd = np.empty(k), np.empty(k)
    finite = np.isfinite(values).all(axis=1) if n > 1 else np.zeros(k, dtype=bool)
    whole = np.flatnonzero(finite)
    if whole.size:
        rows = values[whole] if whole.size < k else values  # (the rows at once; a copy of our own when picked)
        total = np.add.reduce(rows, axis=1) / n
        np.subtract(rows, total[:, None], out=rows)
        np.square(rows, out=rows)
        mean[whole], sd[whole] = total, np.sqrt(np.add.reduce(rows, axis=1) / (n - 1))
    for i in np.flatnonzero(~finite).tolist():
        mean[i], sd[i] = _finite_mean_sd(values[i])
    return mean, sd


def _finite_mean_sd(values: np.ndarray) -> tuple[float, float]:
    """Mean and SD (n - 1) of the finite ``values`` (a 1-D float array of our own, which it overwrites); NaN without
    any (or with one, for the SD). The steps of ``values.mean()`` and ``values.std(ddof=1)`` (numpy's own: the sum
    over the count, the squared deviations from that mean summed over the count less one), the deviations taken in
    ``values`` rather than in a copy, and the non-finite values dropped only when there are any."""
    finite = np.isfinite(values)
    if not finite.all():
        values = values[finite]
    n = values.size
    if n == 0:
        return float("nan"), float("nan")
    mean = np.add.reduce(values) / n  # (values.mean()'s steps, without its Python wrapper: called 40 times a foot)
    if n == 1:
        return float(mean), float("nan")
    np.subtract(values, mean, out=values)
    np.square(values, out=values)
    return float(mean), float(np.sqrt(np.add.reduce(values) / (n - 1)))

"""Regional loads per stance, over the layout's region groups.

For each region group with at least one used sensor (``insole._layout.REGION_GROUPS``:
heel, midfoot (arch), forefoot, toes, hallux, lesser toes, medial and lateral
forefoot, medial and lateral midfoot) and each stance:

* ``{group}_peak_pressure_kpa``: the highest pressure of any of its sensors
  (only when the recording holds pressures);
* ``{group}_pti_kpa_s``: pressure-time integral, the area under the group's
  peak-pressure curve over stance;
* ``{group}_fti_n_s``: force-time integral, the area under the group's summed
  force (only when sensor forces are known);
* ``{group}_share_pct``: the group's share of the whole foot's load-time
  integral (forces when known, otherwise raw values with equal areas assumed,
  which the quality notes);
* ``forefoot_ml_index_pct``: (medial - lateral) / (medial + lateral) forefoot
  load-time integral x 100, positive when the medial forefoot carries more.

Per sensor (for load maps; ``sensor_table``), each the mean over the used
stances of that stance's value:

* pressure recordings: ``peak_pressure_kpa``, ``mean_pressure_kpa`` (the
  stance's time-averaged pressure) and ``pti_kpa_s``;
* when sensor forces are known (unit N, or kPa with known areas):
  ``peak_force_n``, ``mean_force_n`` and ``fti_n_s``;
* uncalibrated recordings (unit au): ``peak_au``, ``mean_au`` and ``ti_au_s``;
* ``share_pct``: the sensor's share of the foot's load-time integral.

``SENSOR_MAPS`` says which three columns are the load maps of a recording in
a given unit. A stance in which a sensor was left out over a span (dead or
stuck) does not count for that sensor, nor for anyone's share. Sensors the
analysis does not use (flat, or dead or stuck throughout) have NaN.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from insole._layout import SensorLayout, regions_mask
from insole.analysis._segments import reduce_rows_intervals

__all__ = [
    "REPORTED_GROUPS",
    "SENSOR_MAPS",
    "available_groups",
    "region_features",
    "regional_columns",
    "sensor_map_columns",
    "stance_reductions",
    "sensor_table",
    "table_of",
]

try:  # pandas 3: a DataFrame made of its blocks as they are
    from pandas.api.internals import create_dataframe_from_blocks as _frame_of_blocks
except ImportError:  # pragma: no cover (pandas 2: the dict constructor)
    _frame_of_blocks = None

# the numpy dtypes pandas keeps a column of as it is (one numpy block; any other goes through pandas' own constructor)
_PLAIN_DTYPES = frozenset(np.dtype(t) for t in (bool, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                                                np.uint32, np.uint64, np.float32, np.float64))


def table_of(columns: Mapping[str, Any], blocks: Sequence[tuple[np.ndarray, Sequence[str]]] = (),
             index: pd.Index | None = None) -> pd.DataFrame:
    """``pd.DataFrame(columns, index=index)`` (the same columns, dtypes, labels and index: a RangeIndex without one),
    made at once from a few blocks rather than column by column: pandas' dict path checks, copies and converts each
    column on its own and then consolidates them, all of it holding the GIL (~0.2-0.5 ms a table of the stance stage,
    while the other foot's thread waits).

    ``columns``: every column in order, each a 1-D numpy array of a plain dtype (bool, integer, float) or a pandas
    array (``_stance._strings``'s string columns, a block each, taken as they are; not a numpy-backed one, which
    pandas unwraps). ``blocks``: 2-D numpy arrays of the caller's own, each with the names of the columns it holds,
    one a row (``columns[name]`` is that row): each becomes one block of the table as it is, without a copy (the
    table's, then: writing into the table writes into it; pandas 2's fallback below copies). The other numpy
    columns are stacked by dtype into a block each (a copy, as pd.DataFrame copies them). ``index``: an Index of the
    rows, taken as it is (as pd.DataFrame takes one). Columns of any other kind, or pandas 2: pd.DataFrame(columns,
    index=index).
    """
    if _frame_of_blocks is None or not columns:
        return pd.DataFrame(columns, index=index)
    position = {name: j for j, name in enumerate(columns)}
    given = {name for _, names in blocks for name in names}
    parts: list[tuple[Any, np.ndarray]] = []
    by_dtype: dict[np.dtype, list[str]] = {}
    for name, values in columns.items():
        if name in given:
            continue
        if isinstance(values, np.ndarray):
            if values.ndim != 1 or values.dtype not in _PLAIN_DTYPES or not values.dtype.isnative:
                return pd.DataFrame(columns, index=index)
            by_dtype.setdefault(values.dtype, []).append(name)
        elif isinstance(values, pd.api.extensions.ExtensionArray) and not isinstance(values,
                                                                                   pd.arrays.NumpyExtensionArray):
            parts.append((values, np.array([position[name]], dtype=np.intp)))
        else:
            return pd.DataFrame(columns, index=index)
    for block, names in blocks:
        if names:
            parts.append((block, np.array([position[name] for name in names], dtype=np.intp)))
    for names in by_dtype.values():
        parts.append((np.stack([columns[name] for name in names]), np.array([position[name] for name in names],
                                                                             dtype=np.intp)))
    if index is None:
        index = pd.RangeIndex(len(next(iter(columns.values()))))
    return _frame_of_blocks(parts, index=index, columns=_labels_index(tuple(columns)).copy())


def _string_options() -> tuple[Any, Any]:
    """pandas' options that decide which string dtype it infers: part of every cached string column's key, so that
    a user's change of them holds for the next analysis as it did when every table was made afresh."""
    return _infers_str(), pd.get_option("mode.string_storage")


try:  # pandas' own reading of its "future.infer_string" option (pandas 3 warns, deprecated, on every get_option of it)
    from pandas._config import using_string_dtype as _infers_str
except ImportError:  # older pandas 2, where the option is read without a warning
    def _infers_str() -> bool:
        return bool(pd.get_option("future.infer_string"))


def _labels_index(names: tuple[str, ...]) -> pd.Index:
    """The column labels pd.DataFrame makes of these names, made once per set of columns (pandas converts the
    strings each time, ~0.1 ms for a step table's); each table gets a copy of its own (sharing the labels: an Index's
    name may be set in place)."""
    return _labels_index_with(names, _string_options())


@functools.lru_cache(maxsize=64)
def _labels_index_with(names: tuple[str, ...], options: tuple[Any, Any]) -> pd.Index:
    return pd.Index(list(names))


def _labels(names: tuple[str, ...]) -> Any:
    """The column pd.DataFrame makes of these strings (a layout's sensor names, the region groups), as pandas infers
    it: made once per set of names, each table given a copy of its own (``table_of`` takes a pandas array as it is,
    and a string column may be set in place)."""
    return _inferred_column(names).copy()


def _inferred_column(values: tuple[str, ...]) -> Any:
    """pandas' column of these strings as it infers it under the options set now (read-only use: ``_labels`` copies
    it, ``_stance._strings`` takes from it)."""
    return _inferred_column_with(values, _string_options())


@functools.lru_cache(maxsize=64)
def _inferred_column_with(values: tuple[str, ...], options: tuple[Any, Any]) -> Any:
    return pd.Series(list(values)).array


REPORTED_GROUPS = (
    "heel",
    "midfoot",
    "forefoot",
    "toes",
    "hallux",
    "lesser_toes",
    "medial_forefoot",
    "lateral_forefoot",
    "medial_midfoot",
    "lateral_midfoot",
)


# The load-map columns of ``sensor_table`` (peak, stance mean, time integral) by the recording's unit.
SENSOR_MAPS: dict[str, tuple[str, str, str]] = {
    "kPa": ("peak_pressure_kpa", "mean_pressure_kpa", "pti_kpa_s"),
    "N": ("peak_force_n", "mean_force_n", "fti_n_s"),
    "au": ("peak_au", "mean_au", "ti_au_s"),
}
_MAP_STATISTICS = ("peak", "mean", "integral")


def sensor_map_columns(unit: str) -> dict[str, str]:
    """``{"peak": column, "mean": column, "integral": column}`` of the load maps of a recording in ``unit``."""
    return dict(zip(_MAP_STATISTICS, SENSOR_MAPS.get(unit, SENSOR_MAPS["au"])))


def available_groups(layout: SensorLayout, used: np.ndarray) -> dict[str, np.ndarray]:
    """The reported region groups with at least one used sensor, each with its mask of used sensors (read-only)."""
    return dict(_available_groups(tuple(layout.regions), np.asarray(used, dtype=bool).tobytes()))


@functools.lru_cache(maxsize=64)
def _available_groups(regions: tuple[str, ...], used: bytes) -> dict[str, np.ndarray]:
    """``available_groups`` of a layout's regions and a mask of used sensors (its bytes), made once for them (the
    stance stage asks three times a foot; ~20 numpy calls each, holding the GIL). Read-only masks."""
    sensors = np.frombuffer(used, dtype=bool)
    groups = {}
    for group, region_mask in _group_masks(regions).items():
        mask = region_mask & sensors
        if mask.any():
            mask.flags.writeable = False
            groups[group] = mask
    return groups


@functools.lru_cache(maxsize=32)
def _group_masks(regions: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``SensorLayout.region_mask`` of each reported group, for sensors in these regions (a layout's few masks
    made once, not one string ``np.isin`` per group and call: the stance stage asks for them per foot, three
    times). Read-only arrays (the cache hands the same ones out again)."""
    masks = {}
    for group in REPORTED_GROUPS:
        mask = regions_mask(regions, group)
        mask.flags.writeable = False
        masks[group] = mask
    return masks


def layout_region_mask(layout: SensorLayout, group: str) -> np.ndarray:
    """``layout.region_mask(group)``, the layout's own rule (one place decides which sensors a group holds), as a
    read-only array; the quality notes and the standing split ask for a few of them per foot. A SensorLayout's
    masks are made once for its regions (its rule is ``regions_mask`` of them: a string np.isin each, holding the
    GIL)."""
    if type(layout).region_mask is SensorLayout.region_mask:
        return _regions_mask(tuple(layout.regions), group)
    mask = layout.region_mask(group)
    mask.flags.writeable = False
    return mask


@functools.lru_cache(maxsize=128)
def _regions_mask(regions: tuple[str, ...], group: str) -> np.ndarray:
    """``regions_mask(regions, group)``, read-only (the cache hands the same array out again)."""
    mask = regions_mask(regions, group)
    mask.flags.writeable = False
    return mask


def _per_sensor(ufunc: np.ufunc, rows_t: np.ndarray, hs: np.ndarray, to: np.ndarray) -> np.ndarray:
    """(stances, sensors) reductions over ``[hs, to)`` of a (sensors, samples) array.

    ``reduce_rows_intervals``: the numbers of one ``reduceat`` along the samples
    axis, each interval reduced within its own row.
    """
    return reduce_rows_intervals(ufunc, rows_t, hs, to)


def _peaks(rows_t: np.ndarray, hs: np.ndarray, to: np.ndarray,
           peaks: tuple[np.ndarray, np.ndarray, np.ndarray] | None, which: int) -> np.ndarray:
    """``_per_sensor(np.maximum, rows_t, hs, to)``, taking the columns ``peaks`` holds (``peaks[which]`` where
    ``peaks[2]``) from there and reducing only the others' rows."""
    if peaks is None:
        return _per_sensor(np.maximum, rows_t, hs, to)
    known, exact = peaks[which], peaks[2]
    out = np.empty((hs.size, rows_t.shape[0]), dtype=rows_t.dtype)
    out[:, exact] = known[:, exact]
    for j in np.flatnonzero(~exact).tolist():  # a row at a time, as the whole array's reduction goes
        out[:, j] = _per_sensor(np.maximum, rows_t[j:j + 1], hs, to)[:, 0]
    return out


def region_features(
    positive_load_t: np.ndarray,
    load_is_force: bool,
    positive_pressure_t: np.ndarray | None,
    used: np.ndarray,
    layout: SensorLayout,
    hs: np.ndarray,
    to: np.ndarray,
    sample_rate_hz: float,
    peaks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-stance regional columns, and the per-sensor (stances x sensors) arrays they come from.

    Loads and pressures come as (sensors, samples) arrays of positive values. ``peaks``: see
    ``stance_reductions``.
    """
    per_sensor, group_pti = stance_reductions(positive_load_t, load_is_force, positive_pressure_t, used, layout,
                                              hs, to, sample_rate_hz, peaks=peaks)
    return regional_columns(per_sensor, group_pti, load_is_force, used, layout), per_sensor


def stance_reductions(
    positive_load_t: np.ndarray,
    load_is_force: bool,
    positive_pressure_t: np.ndarray | None,
    used: np.ndarray,
    layout: SensorLayout,
    hs: np.ndarray,
    to: np.ndarray,
    sample_rate_hz: float,
    peaks: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The reductions of ``region_features`` over each stance's own samples: the per-sensor (stances x sensors)
    arrays, and each group's peak pressure and pressure-time integral per stance. Each stance's numbers depend
    on its samples only, so the stances may be taken a stretch of samples at a time and the rows joined; the sums
    across sensors (``regional_columns``) are then taken once over all the rows, as ``region_features`` does.

    ``peaks``: ``insole.analysis._prepare.stance_peaks`` of these stances, when the loads have them (the largest
    pressure and load per stance and sensor, and the sensors whose peaks those are): only the other sensors'
    peaks are reduced here.
    """
    positive_pressure = positive_pressure_t
    m = hs.size
    dt = 1.0 / sample_rate_hz
    out: dict[str, np.ndarray] = {}
    groups = available_groups(layout, used)
    k = layout.n_sensors
    per_sensor: dict[str, np.ndarray] = {}
    # the load's own map columns: N when sensor forces are known, else the recorded unit
    # (kPa with unknown areas: the load is the pressure, whose columns follow)
    load_maps = SENSOR_MAPS["N"] if load_is_force else (None if positive_pressure is not None else SENSOR_MAPS["au"])
    if m == 0:
        per_sensor["load_integral"] = np.zeros((0, k))
        for names in (SENSOR_MAPS["kPa"] if positive_pressure is not None else (), load_maps or ()):
            for name in names:
                per_sensor[name] = np.zeros((0, k))
        return per_sensor, {}
    integral = _per_sensor(np.add, positive_load_t, hs, to) * dt  # (m, k)
    per_sensor["load_integral"] = integral
    stance_s = ((to - hs) * dt)[:, None]
    if positive_pressure is not None:
        peak_name, mean_name, pti_name = SENSOR_MAPS["kPa"]
        per_sensor[peak_name] = _peaks(positive_pressure, hs, to, peaks, 0)
        # pressures with unknown areas are the loads themselves: their integral is the one just taken
        same = positive_pressure is positive_load_t
        per_sensor[pti_name] = integral if same else _per_sensor(np.add, positive_pressure, hs, to) * dt
        per_sensor[mean_name] = per_sensor[pti_name] / stance_s
    if load_maps is not None:
        peak_name, mean_name, integral_name = load_maps
        per_sensor[peak_name] = _peaks(positive_load_t, hs, to, peaks, 1)
        per_sensor[integral_name] = integral
        per_sensor[mean_name] = integral / stance_s
    if positive_pressure is not None:
        # a group of one sensor: its curve is that sensor's row, whose sums over the stances are its per-sensor
        # integral's (the same reductions of the same samples); only the others' curves made and summed
        alone = {group: int(np.flatnonzero(mask)[0]) for group, mask in groups.items() if np.count_nonzero(mask) == 1}
        several = {group: mask for group, mask in groups.items() if group not in alone}
        pti = {group: integral * dt for group, integral in _group_pti(positive_pressure, several, hs, to).items()}
        for group, j in alone.items():
            pti[group] = per_sensor[pti_name][:, j].copy()  # (a column of its own, as _group_pti's are)
        for group, mask in groups.items():
            columns = np.flatnonzero(mask)
            out[f"{group}_peak_pressure_kpa"] = per_sensor["peak_pressure_kpa"][:, columns].max(axis=1)
            out[f"{group}_pti_kpa_s"] = pti[group]
    return per_sensor, out


# Samples per stretch of the group curves (``_group_pti``): a few curves of 65536 float32 values (256 kB each) used
# again stretch after stretch instead of recording-long ones (1.4 MB a group for an hour at 100 Hz, fresh memory and
# page faults on every analysis). A foot of the hour, min of 8 alternated runs: 3.8 ms against 5.7 for recording-long
# curves; 16384 4.6 and 32768 3.9 (the calls per stretch add up, and each holds the GIL for a moment)
_PTI_CHUNK = 65536


def _group_plan(groups: dict[str, np.ndarray]) -> list[tuple[str, list[str], list[int]]]:
    """How ``_group_curves`` makes each group's curve: the groups in the order made (the smaller first, a stable
    sort), each with the groups made before whose curves it starts from (the largest lying inside it) and the
    sensors those leave."""
    plan: list[tuple[str, list[str], list[int]]] = []
    members: dict[str, frozenset[int]] = {}
    for group in sorted(groups, key=lambda g: int(groups[g].sum())):
        columns = np.flatnonzero(groups[group]).tolist()
        wanted = frozenset(columns)
        parts: list[str] = []
        covered: set[int] = set()
        for done in sorted(members, key=lambda g: -len(members[g])):
            if len(members[done]) > 1 and members[done] <= wanted and not members[done] <= covered:
                parts.append(done)
                covered |= members[done]
        plan.append((group, parts, [j for j in columns if j not in covered]))
        members[group] = wanted
    return plan


def _group_curves(positive_pressure: np.ndarray, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each group's peak-pressure curve: the largest pressure of its sensors, sample by sample.

    Built row by row (no big copies); a one-sensor group's curve is its sensor's own row (read, not copied). The
    smaller groups go first, and a group holding smaller ones (the midfoot its medial and lateral parts, the toes
    the hallux and the lesser toes) starts from their curves: the largest of some values is the same number
    however they are grouped, so each sample's curve value is the one taken sensor by sensor, with fewer passes.
    """
    curves: dict[str, np.ndarray] = {}
    for group, part_groups, sensors in _group_plan(groups):
        parts = [curves[done] for done in part_groups] + [positive_pressure[j] for j in sensors]
        curve = parts[0]
        if len(parts) > 1:
            curve = np.maximum(curve, parts[1])
            for part in parts[2:]:
                np.maximum(curve, part, out=curve)
        curves[group] = curve
    return curves


def _group_pti(positive_pressure: np.ndarray, groups: dict[str, np.ndarray], hs: np.ndarray,
               to: np.ndarray, chunk: int = _PTI_CHUNK) -> dict[str, np.ndarray]:
    """Each group's sum of its curve (``_group_curves``) over each stance ``[hs, to)``.

    The curves are made as there, but a stretch of samples at a time (``_stance_stretches``: about ``chunk``
    samples, each stance inside one stretch), each summed over the stretch's stances as soon as it is made: a
    stance's sum is the same number in any stretch that holds it (its own samples, summed the same way), and the
    curves are small arrays used again stretch after stretch (``_curve_slots``), never new recording-long ones
    (1.4 MB a group for an hour at 100 Hz, which cost page faults on every analysis).
    """
    plan, slots, count = _pti_plan(tuple((group, np.asarray(mask, dtype=bool).tobytes())
                                         for group, mask in groups.items()))
    hs = np.asarray(hs, dtype=np.intp)
    to = np.asarray(to, dtype=np.intp)
    n = positive_pressure.shape[1]
    found = {group: np.empty(hs.size, dtype=positive_pressure.dtype) for group, _, _ in plan}
    if hs.size == 0 or not plan:
        return found
    if np.any(to <= hs):
        raise ValueError("_group_pti needs non-empty stances")
    edges, first = _stance_stretches(hs, to, n, chunk)
    width = int(np.diff(edges).max())
    buffers = [np.empty(width, dtype=positive_pressure.dtype) for _ in range(count)]
    for c in range(edges.size - 1):
        lo, hi, i0, i1 = int(edges[c]), int(edges[c + 1]), int(first[c]), int(first[c + 1])
        if i1 <= i0:
            continue
        rows = positive_pressure[:, lo:hi]
        sums = _StretchSums(hs[i0:i1] - lo, to[i0:i1] - lo, hi - lo)
        curves: dict[str, np.ndarray] = {}
        for (group, part_groups, sensors), slot in zip(plan, slots):
            parts = [curves[done] for done in part_groups] + [rows[j] for j in sensors]
            curve = parts[0]
            if slot is not None:  # the largest of the parts, in the group's buffer (maybe its first part's own)
                curve = np.maximum(curve, parts[1], out=buffers[slot][:hi - lo])
                for part in parts[2:]:
                    np.maximum(curve, part, out=curve)
            curves[group] = curve
            sums.into(curve, found[group][i0:i1])
    return found


@functools.lru_cache(maxsize=32)
def _pti_plan(groups: tuple[tuple[str, bytes], ...]) -> tuple[list[tuple[str, list[str], list[int]]],
                                                              list[int | None], int]:
    """``_group_plan`` of the groups (each with its mask's bytes) and its ``_curve_slots``, made once for a layout's
    groups of the used sensors rather than on every call (a few hundred Python steps, holding the GIL). Shared:
    read, never changed."""
    plan = _group_plan({group: np.frombuffer(mask, dtype=bool) for group, mask in groups})
    return (plan, *_curve_slots(plan))


def _curve_slots(plan: list[tuple[str, list[str], list[int]]]) -> tuple[list[int | None], int]:
    """Which work buffer each group's curve of ``plan`` is made in (None: a one-part group's curve is its sensor's
    row, read in place), and how many buffers: a buffer is free again once no group still to come reads the curve
    in it, and a group whose first part is a curve read for the last time is made in that curve's buffer."""
    last_read = {group: i for i, (group, _, _) in enumerate(plan)}
    for i, (_, part_groups, _) in enumerate(plan):
        for done in part_groups:
            last_read[done] = i
    held: dict[str, int] = {}  # the groups whose curve is in a buffer, and which
    free: list[int] = []
    slots: list[int | None] = []
    count = 0
    for i, (group, part_groups, sensors) in enumerate(plan):
        slot = None
        if len(part_groups) + len(sensors) > 1:
            if part_groups and part_groups[0] in held and last_read[part_groups[0]] == i:
                slot = held.pop(part_groups[0])
            elif free:
                slot = free.pop()
            else:
                slot, count = count, count + 1
            held[group] = slot
        slots.append(slot)
        for done in [*part_groups, group]:
            if done in held and last_read[done] == i:
                free.append(held.pop(done))
    return slots, count


def _stance_stretches(hs: np.ndarray, to: np.ndarray, n: int, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Stretches of about ``chunk`` samples that hold whole stances: their edges (from the first stance's start to
    ``n``) and the first stance of each (and the stance count at the end). A stretch ends where a stance starts and
    every stance before it has ended earlier (as ``_stance.Stretches`` are cut), so no stance but one to the
    recording's end ends where its stretch does. Stances out of order: one stretch."""
    if hs.size > 1 and np.any(hs[1:] < hs[:-1]):
        return np.array([0, n], dtype=np.intp), np.array([0, hs.size], dtype=np.intp)
    ended = np.maximum.accumulate(to)[:-1]
    allowed = hs[1:][ended < hs[1:]]
    start = int(hs[0])
    wanted = np.arange(start + chunk, n, chunk)
    pick = np.unique(np.searchsorted(allowed, wanted, side="right") - 1)  # the last allowed cut at or before each
    cuts = allowed[pick[pick >= 0]]
    edges = np.concatenate([[start], cuts[cuts > start], [n]]).astype(np.intp)
    return edges, np.searchsorted(hs, edges)


class _StretchSums:
    """The sums of a curve of a stretch's ``width`` samples over its stances ``[a, b)``, the numbers of
    ``reduce_intervals(np.add, curve, a, b)``: one ``reduceat`` over the stances' bounds (made once for all the
    curves of the stretch), a stance to the stretch's end summed on its own (``reduceat`` cannot bound it)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, width: int) -> None:
        self.inner = b < width
        self.every = bool(self.inner.all())
        self.bounds = np.empty(2 * int(self.inner.sum()), dtype=np.intp)
        self.bounds[0::2], self.bounds[1::2] = a[self.inner], b[self.inner]
        self.to_end = [(int(i), int(a[i])) for i in np.flatnonzero(~self.inner)]  # (stance, its start)

    def into(self, curve: np.ndarray, out: np.ndarray) -> None:
        """The sums of ``curve`` over the stances, written into ``out`` (one per stance)."""
        if self.bounds.size:
            sums = np.add.reduceat(curve, self.bounds)[0::2]
            if self.every:
                out[:] = sums
            else:
                out[self.inner] = sums
        for i, start in self.to_end:
            out[i] = np.add.reduce(curve[start:])


def regional_columns(per_sensor: dict[str, np.ndarray], group_pressure: dict[str, np.ndarray],
                     load_is_force: bool, used: np.ndarray, layout: SensorLayout) -> dict[str, np.ndarray]:
    """The per-stance regional columns of ``region_features`` from ``stance_reductions`` (of all the stances at
    once: a sum across the sensors of a few rows is not always rounded as the same sum among many)."""
    groups = available_groups(layout, used)
    integral = per_sensor["load_integral"]
    if integral.shape[0] == 0:
        return {f"{g}_share_pct": np.zeros(0) for g in groups}
    out: dict[str, np.ndarray] = {}
    total = integral[:, used].sum(axis=1)
    integrals = {}
    for group, mask in groups.items():
        columns = np.flatnonzero(mask)
        group_load = integral[:, columns].sum(axis=1)
        integrals[group] = group_load
        for name in (f"{group}_peak_pressure_kpa", f"{group}_pti_kpa_s"):
            if name in group_pressure:
                out[name] = group_pressure[name]
        if load_is_force:
            out[f"{group}_fti_n_s"] = group_load
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{group}_share_pct"] = np.where(total > 0, 100.0 * group_load / total, np.nan)
    if "medial_forefoot" in integrals and "lateral_forefoot" in integrals:
        med, lat = integrals["medial_forefoot"], integrals["lateral_forefoot"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out["forefoot_ml_index_pct"] = np.where(med + lat > 0, 100.0 * (med - lat) / (med + lat), np.nan)
    return out


def sensor_table(
    per_sensor: dict[str, np.ndarray], rows: np.ndarray, used: np.ndarray, layout: SensorLayout
) -> pd.DataFrame:
    """One row per sensor: position, region, used, and its mean stance loads over the chosen stances.

    ``per_sensor`` holds (stances x sensors) arrays from ``region_features``
    (and ``left_out``, stances x sensors, where a sensor was left out over a
    span); ``rows`` picks the stances; every map column of the recording's
    unit is there, NaN when there are no stances.
    """
    columns: dict[str, Any] = {
        "sensor": _labels(tuple(layout.sensor_names)),
        "region": _labels(tuple(layout.regions)),
        "x_mm": layout.x_mm,
        "y_mm": layout.y_mm,
        "used": used,
    }
    nan = np.full(layout.n_sensors, np.nan)
    rows = np.asarray(rows)
    # the chosen rows' indices, each map's rows taken by np.take (a copy of our own; ~4x as fast as a boolean index)
    picked = np.flatnonzero(rows) if rows.dtype == bool else rows
    integral = np.take(per_sensor["load_integral"], picked, axis=0)
    maps = [name for names in SENSOR_MAPS.values() for name in names if name in per_sensor]
    if "peak_pressure_kpa" not in maps:  # the columns every JSON reader has had, NaN without pressures
        maps = ["peak_pressure_kpa", "pti_kpa_s", *maps]
    if integral.shape[0] == 0:
        columns["share_pct"] = nan
        for name in maps:
            columns[name] = nan
        return table_of(columns)
    # stances in which a sensor was left out over a span (``left_out``, stances x
    # sensors): that sensor's numbers there are missing, and so are every
    # sensor's shares of that stance (their total lacks its load)
    left_out = per_sensor.get("left_out")
    left_out = np.take(left_out, picked, axis=0) if left_out is not None else np.zeros(integral.shape, dtype=bool)
    any_left_out = bool(left_out.any())
    totals = integral[:, used].sum(axis=1, keepdims=True)
    incomplete = left_out[:, used].any(axis=1, keepdims=True)
    # ``integral`` is our own copy (the chosen rows), its totals taken: the shares are formed in it, the same
    # operations as 100 x integral / totals, NaN where the stance's total is not positive or is incomplete
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.multiply(integral, 100.0, out=integral)
        np.divide(share, totals, out=share)
        np.copyto(share, np.nan, where=~((totals > 0) & ~incomplete))
    columns["share_pct"] = np.where(used, _nanmean_columns(share), np.nan)
    for name in maps:
        if name not in per_sensor:
            columns[name] = nan
            continue
        values = np.take(per_sensor[name], picked, axis=0)  # a copy of our own (the chosen rows)
        if any_left_out:
            np.copyto(values, np.nan, where=left_out)
        columns[name] = np.where(used, _nanmean_columns(values), np.nan)
    return table_of(columns)


def _nanmean_columns(values: np.ndarray) -> np.ndarray:
    """``np.nanmean(values, axis=0)`` of a 2-D float array of our own, which it overwrites: numpy's own steps (the
    count of non-NaN values, the sum with NaN as zero, the one over the other in the sum's dtype) without its copy
    of the array; NaN, without a warning, for a column of NaN only."""
    missing = np.isnan(values)
    if missing.any():
        count = values.shape[0] - missing.sum(axis=0, dtype=np.intp)  # the non-NaN values of each column
        np.copyto(values, 0, where=missing)
    else:  # (the usual case: every row counts, nothing to zero)
        count = np.full(values.shape[1], values.shape[0], dtype=np.intp)
    total = values.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.divide(total, count, out=total, casting="unsafe")

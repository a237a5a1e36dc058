"""Data quality per foot: what the numbers rest on, shown rather than hidden."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from insole.analysis._events import Contacts
from insole.analysis._params import AnalysisParams
from insole.analysis._prepare import FootLoads
from insole.analysis._regions import layout_region_mask
from insole.analysis._segments import runs
from insole.analysis._strides import EXCLUSION_REASONS, FootTiming

if TYPE_CHECKING:
    from insole._layout import SensorLayout

__all__ = ["foot_quality"]

# The region groups a flagged sensor is placed in (``sensor_flags[i]["regions"]``), in this order: those the report's
# measures rest on (its regional shares and pressure-time integrals), so a view finds the measures a sensor touches
FLAG_REGION_GROUPS = ("heel", "medial_midfoot", "lateral_midfoot", "midfoot", "medial_forefoot", "lateral_forefoot",
                      "forefoot", "hallux", "lesser_toes", "toes")
# On a pressure grid the cells outside the footprint never load and are flagged "flat" (F-Scan: 484 of 955): flat
# sensors are named to a reader (``named``) only when they are at most this share of the layout's sensors (a dead
# cell among loaded ones, as on pedar); the rest of the flags are always named
FLAT_NAMED_MAX_FRACTION = 0.10


def foot_quality(
    foot: FootLoads,
    contacts: Contacts,
    timing: FootTiming,
    params: AnalysisParams,
    notes: list[str],
    layout: SensorLayout | None = None,
) -> dict[str, Any]:
    """The foot's data-quality facts (``Analysis.quality[side]``; docs/analysis-json.md, section quality).

    Each ``sensor_flags`` entry carries ``named`` (whether a reader must be told of it) and, given the
    ``layout``, ``regions`` (the ``FLAG_REGION_GROUPS`` holding the sensor).
    """
    starts, stops = runs(~foot.valid)
    t = foot.time_s
    dt = 1.0 / foot.sample_rate_hz
    gap_durations = (stops - starts) * dt
    reasons = Counter(r for r in timing.stride_reason.tolist() if r)
    confidence = np.concatenate([contacts.heel_strike_confidence, contacts.toe_off_confidence])
    confidence = confidence[np.isfinite(confidence)]
    n_strides = max(timing.n_contacts - 1, 0)
    used = int(np.sum(timing.stride_used)) if n_strides else 0
    quality: dict[str, Any] = {
        "n_samples": int(foot.n),
        "valid_fraction": float(foot.valid.mean()) if foot.n else 0.0,
        "n_gaps": int(starts.size),
        "gap_total_s": float(gap_durations.sum()),
        "longest_gap_s": float(gap_durations.max()) if gap_durations.size else 0.0,
        "gaps": [
            {"start_s": float(t[a]), "end_s": float(t[b - 1]), "n_samples": int(b - a)}
            for a, b in zip(starts[:50].tolist(), stops[:50].tolist())
        ],
        "n_sensors": int(foot.sensor_used.size),
        "n_sensors_used": int(foot.sensor_used.sum()),
        "sensor_flags": _with_reader_keys([flag.to_dict() for flag in foot.flags], int(foot.sensor_used.size),
                                          layout),
        "spike_samples": int(foot.spike_sample.size),
        "sensor_samples_excluded": int(sum(b - a for _, a, b in foot.sensor_gaps) + foot.spike_sample.size),
        "force_unit": foot.force_unit,
        "force_source": foot.force_source,
        "zero_offset": foot.zero_offset_note,
        "zero_offset_applied": bool(foot.zero_offset_applied),
        # the offset subtracted from the total force, in force_unit (0 when none was applied): views that draw
        # the load as analysed subtract this number, never one read back from the sentence above
        "zero_offset_force": float(foot.force_offset) if foot.zero_offset_applied else 0.0,
        "standing_throughout": bool(contacts.levels.get("never_unloaded", 0.0)),
        "contacts_detected": int(contacts.n),
        "heel_strikes_observed": int(np.sum(contacts.heel_strike_index >= 0)),
        "toe_offs_observed": int(np.sum(contacts.toe_off_index >= 0)),
        "strides_detected": int(n_strides),
        "strides_used": used,
        "strides_excluded": {reason: int(reasons.get(reason, 0))
                             for reason in EXCLUSION_REASONS if reasons.get(reason)},
        "event_confidence_mean": float(confidence.mean()) if confidence.size else float("nan"),
        "low_confidence_events": int(np.sum(confidence < params.low_confidence)),
        "turns_detectable": bool(timing.turns_detectable),
        "notes": list(notes),
    }
    caveats, caveat_notes = _totals_caveats(foot, contacts)
    quality["totals_complete"] = not caveats
    quality["totals_caveats"] = caveats
    quality["notes"].extend(caveat_notes)
    if quality["standing_throughout"]:
        lowest, top = contacts.levels.get("lowest", float("nan")), contacts.levels.get("top", float("nan"))
        quality["notes"].append(
            f"the foot never unloads (its lowest force is {100 * lowest / top:.0f} % of its 95th percentile): "
            "standing throughout, so no steps and no zero offset"
        )
    if used < 30:
        quality["notes"].append(
            f"only {used} strides used (about 30 per foot are recommended for stable variability and "
            "asymmetry estimates)"
        )
    return quality


def _totals_caveats(foot: FootLoads, contacts: Contacts) -> tuple[list[dict[str, Any]], list[str]]:
    """What the foot's totals lack or under-read because of the sensor checks: rows and plain sentences.

    One row per finding that touches the totals (a sensor left out
    throughout, a span left out, spikes left out, clipped readings kept);
    ``stances_affected`` counts the contacts (heel strike to toe off) that
    overlap the span or hold a spike sample.
    """
    from_sensors = not foot.force_source.startswith("the source's")
    what = ("the total force, COP and regional shares" if from_sensors
            else "COP and regional shares (the total force is the source's own channel, which this does not change)")
    t = foot.time_s
    hs, to = contacts.heel_strike_index, contacts.toe_off_index
    complete = (hs >= 0) & (to > hs)
    stance_lo, stance_hi = hs[complete], to[complete]
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    flat = [f.sensor for f in foot.flags if f.status == "flat"]
    if flat:
        listed = ", ".join(flat[:5]) + (f" and {len(flat) - 5} more" if len(flat) > 5 else "")
        notes.append(f"{len(flat)} sensor(s) flat (never changing: dead or never loaded) left out: {listed}")
    spike_flags = []
    for flag in foot.flags:
        if flag.status == "flat":
            rows.append(_caveat(flag, None))
            continue
        if flag.status == "spikes":
            spike_flags.append(flag)
            continue
        share = f"{flag.load_share_pct:.1f} %" if flag.load_share_pct is not None else None
        if flag.status == "saturated":
            rows.append(_caveat(flag, None))
            if flag.excluded:
                notes.append(f"{flag.sensor} saturated and left out (exclude_saturated): {what} lack its load"
                             + (f" ({share} of the foot's load as read)" if share else ""))
            else:
                bound = ("the total force and its peak pressure are lower bounds, and COP and regional shares "
                         "under-weight it," if from_sensors else
                         "its peak pressure is a lower bound, and COP and regional shares under-weight it,")
                notes.append(f"{flag.sensor} saturated: its clipped readings are kept, so {bound} while it sits at "
                             "its ceiling" + (f" (it carried {share} of the foot's load as read)" if share else ""))
        elif flag.excluded:
            rows.append(_caveat(flag, None))
            notes.append(f"{flag.sensor} {flag.status} throughout: left out, so {what} lack whatever load it carried")
        else:
            # a dead or stuck sensor left out over a span only: the flag carries that span
            assert flag.start_s is not None and flag.end_s is not None
            a = int(np.searchsorted(t, flag.start_s))
            b = int(np.searchsorted(t, flag.end_s, side="right"))
            touched = int(np.sum((stance_lo < b) & (stance_hi > a)))
            rows.append(_caveat(flag, touched))
            notes.append(
                f"{flag.sensor} {flag.status} from {flag.start_s:.2f} s to {flag.end_s:.2f} s: left out there, so "
                f"{what} lack its load in that span" + (f" (it carried {share} of the foot's load while it worked)"
                                                         if share else "")
                + f"; {touched} stance(s) in that span under-read"
            )
    if spike_flags and foot.spike_sample.size:
        at = foot.spike_sample
        stance = np.full(at.size, -1)
        if stance_lo.size:  # the stance holding each spike sample (-1: none); stances do not overlap
            k = np.searchsorted(stance_lo, at, side="right") - 1
            stance = np.where((k >= 0) & (at < stance_hi[np.maximum(k, 0)]), k, -1)
        inside = stance >= 0
        touched = int(np.unique(stance[inside]).size)
        index = {name: j for j, name in enumerate(_sensor_names(foot))}
        for flag in spike_flags:
            mine = (foot.spike_sensor == index.get(flag.sensor, -1)) & inside
            rows.append(_caveat(flag, int(np.unique(stance[mine]).size)))
        notes.append(
            f"{at.size} spike sample(s) in {len(spike_flags)} sensor(s) marked invalid for their sensor, not filled: "
            f"at those samples {what} lack that sensor's reading ("
            + (f"{int(inside.sum())} of them in {touched} stance(s))" if touched else "none inside a stance)")
        )
    return rows, notes


def _with_reader_keys(flags: list[dict[str, Any]], n_sensors: int,
                      layout: SensorLayout | None) -> list[dict[str, Any]]:
    """``flags`` (the checks' entries, new dicts) with ``named`` and, given the layout, ``regions`` added."""
    flat_named = sum(f.get("status") == "flat" for f in flags) <= FLAT_NAMED_MAX_FRACTION * max(n_sensors, 1)
    regions = _regions_by_sensor(layout) if layout is not None and flags else None  # (none to place: not made)
    for flag in flags:
        flag["named"] = flat_named or flag.get("status") != "flat"
        if regions is not None:
            flag["regions"] = list(regions.get(str(flag.get("sensor")), ()))
    return flags


def _regions_by_sensor(layout: SensorLayout) -> dict[str, tuple[str, ...]]:
    """Each sensor of the layout -> the ``FLAG_REGION_GROUPS`` it lies in (in that order)."""
    masks = [(group, layout_region_mask(layout, group)) for group in FLAG_REGION_GROUPS]
    return {name: tuple(group for group, mask in masks if bool(mask[j]))
            for j, name in enumerate(layout.sensor_names)}


def _sensor_names(foot: FootLoads) -> list[str]:
    """Sensor names in row order (kept on the foot by prepare_foot)."""
    return list(foot.sensor_names)


def _caveat(flag, stances_affected: int | None) -> dict[str, Any]:
    return {
        "sensor": flag.sensor,
        "status": flag.status,
        "effect": flag.effect or "missing",
        "start_s": flag.start_s,
        "end_s": flag.end_s,
        "load_share_pct": flag.load_share_pct,
        "stances_affected": stances_affected,
    }

"""Data quality per foot: what the numbers rest on, shown rather than hidden."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from insole._analysis._events import Contacts
from insole._analysis._params import AnalysisParams
from insole._analysis._prepare import PreparedFoot
from insole._analysis._segments import runs
from insole._analysis._strides import EXCLUSION_REASONS, FootTiming

__all__ = ["foot_quality"]


def foot_quality(
    foot: PreparedFoot,
    contacts: Contacts,
    timing: FootTiming,
    params: AnalysisParams,
    notes: list[str],
) -> dict[str, Any]:
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
        "sensor_flags": [flag.to_dict() for flag in foot.flags],
        "force_unit": foot.force_unit,
        "force_source": foot.force_source,
        "zero_offset": foot.zero_offset_note,
        "contacts_detected": int(contacts.n),
        "heel_strikes_observed": int(np.sum(contacts.heel_strike_index >= 0)),
        "toe_offs_observed": int(np.sum(contacts.toe_off_index >= 0)),
        "strides_detected": int(n_strides),
        "strides_used": used,
        "strides_excluded": {reason: int(reasons.get(reason, 0)) for reason in EXCLUSION_REASONS if reasons.get(reason)},
        "event_confidence_mean": float(confidence.mean()) if confidence.size else float("nan"),
        "low_confidence_events": int(np.sum(confidence < params.low_confidence)),
        "turns_detectable": bool(timing.turns_detectable),
        "notes": list(notes),
    }
    if used < 30:
        quality["notes"].append(
            f"only {used} strides used (about 30 per foot are recommended for stable variability and "
            "asymmetry estimates)"
        )
    return quality

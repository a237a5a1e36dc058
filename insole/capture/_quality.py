"""Capture-quality figures: what a session received, lost and how well its clocks agree.

They are stored in the recording as ``meta.capture_quality`` (a JSON-ready
dict, schema below) while capturing (sidecar, so a recovered file has them up
to the last update) and at the end, and shown by ``insole info``.

``capture_quality`` (version 1)::

    {
      "schema": "insole-capture-quality", "version": 1,
      "duration_s", "speed", "sample_rate_hz", "samples_per_packet",
      "lr_alignment_residual_ms", "lr_alignment_uncertainty_ms",
      "notification_to_disk_ms": {"p50", "p99", "max", "count"},
      "clock_method": "<one sentence>",
      "feet": {
        "left"|"right": {
          "name", "address", "serial", "firmware",
          "packets_sent", "packets_received", "packets_lost", "packet_loss_pct",
          "samples", "valid_samples", "missing_samples",
          "gaps", "gap_total_ms", "longest_gap_ms", "link_down_samples",
          "crc_failures", "malformed_packets", "duplicates", "reordered", "late_packets",
          "timestamp_mismatches", "streams", "reconnects", "link_losses", "stalls", "device_reboots",
          "battery_pct_start", "battery_pct_end", "low_battery", "tared", "tare_lost",
          "clock": {"drift_ppm", "drift_at_limit", "offset_s", "method", "min_latency_ms",
                    "sync_uncertainty_ms", "round_trips", "best_round_trip_ms", "time_axis_residual_ms"}
        }
      }
    }

Definitions (``docs/capture.md`` explains them for readers of a report):

* ``packets_sent`` comes from the sequence numbers (highest + 1 per stream);
  ``packets_lost = sent - received + late`` is exactly the packets not in the file.
* ``gaps`` counts runs of invalid samples in the file, whatever the cause
  (lost packets, CRC failures, the link being down); ``link_down_samples`` is
  the part of them spent reconnecting.
* ``lr_alignment_residual_ms``: each foot's time axis comes from its
  notification arrivals (lower envelope); each foot's clock is also measured
  independently by READ_CLOCK round trips. The residual is how much the two
  methods disagree about the *relative* placement of left and right
  (``|min_latency_left - min_latency_right|``); ``lr_alignment_uncertainty_ms``
  is the sum of the two round-trip uncertainties, the bound on that check.
  When a foot's arrivals fell behind its clock (``clock.method`` starting with
  "round trips", see ``insole.capture._clock``) its line is placed by the round
  trips themselves: its ``min_latency_ms`` is then 0 by construction and the
  alignment rests on the round trips alone (within the uncertainty).
* ``time_axis_residual_ms``: the largest distance between the times written
  during capture (with the clock model known then) and the final clock model.

Until the session writes its first figures (about a second into the
recording), the stream's own header says the quality is unknown
(``unknown_capture_quality``: ``{"schema", "version", "status": "unknown",
"reason", "feet": {}}``). A file recovered from a stream whose sidecar was lost
or damaged therefore states that its capture quality is unknown, instead of
silently having none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "QUALITY_SCHEMA",
    "QUALITY_VERSION",
    "GapCounter",
    "LatencyHistogram",
    "format_capture_quality",
    "unknown_capture_quality",
]

QUALITY_SCHEMA = "insole-capture-quality"
QUALITY_VERSION = 1


class GapCounter:
    """Runs of invalid samples across the blocks written for one foot (a run may span blocks)."""

    def __init__(self) -> None:
        self.count = 0
        self.total_samples = 0
        self.longest_samples = 0
        self._open_run = 0  # length of the run of invalid samples ending the previous block

    def feed(self, valid: np.ndarray) -> None:
        invalid = ~np.asarray(valid, dtype=bool)
        if invalid.size == 0:
            return
        edges = np.flatnonzero(np.diff(np.concatenate([[0], invalid.astype(np.int8), [0]])))
        lengths = (edges[1::2] - edges[::2]).astype(np.int64)
        self.total_samples += int(invalid.sum())
        if lengths.size == 0:
            self._open_run = 0
            return
        if self._open_run and invalid[0]:
            lengths[0] += self._open_run  # continues the gap that ended the previous block
            self.count -= 1
        self.count += int(lengths.size)
        self.longest_samples = max(self.longest_samples, int(lengths.max()))
        self._open_run = int(lengths[-1]) if invalid[-1] else 0


class LatencyHistogram:
    """Notification-to-disk latencies in log-spaced bins (1 % wide, 0.01 ms .. 100 s), constant memory."""

    _PER_DECADE = 230  # 10 ** (1 / 230) = 1.01
    _LOW_MS = 0.01
    _DECADES = 7

    def __init__(self) -> None:
        self._bins = np.zeros(self._PER_DECADE * self._DECADES + 1, dtype=np.int64)
        self.max_ms = 0.0

    def add(self, latency_ms: np.ndarray) -> None:
        latency_ms = np.asarray(latency_ms, dtype=np.float64)
        latency_ms = latency_ms[np.isfinite(latency_ms)]
        if latency_ms.size == 0:
            return
        position = np.log10(np.maximum(latency_ms, self._LOW_MS) / self._LOW_MS) * self._PER_DECADE
        index = np.clip(position.astype(np.int64), 0, self._bins.size - 1)
        np.add.at(self._bins, index, 1)
        self.max_ms = max(self.max_ms, float(latency_ms.max()))

    @property
    def count(self) -> int:
        return int(self._bins.sum())

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile, ms (geometric centre of its bin: within 0.5 %)."""
        total = self.count
        if total == 0:
            return None
        index = int(np.searchsorted(np.cumsum(self._bins), q / 100.0 * total))
        return self._LOW_MS * 10 ** ((index + 0.5) / self._PER_DECADE)

    def summary(self) -> dict[str, float | int | None]:
        return {"p50": self.percentile(50), "p99": self.percentile(99), "max": self.max_ms or None, "count": self.count}


def _number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        return f"{value:.{digits}f}"
    return str(value)


UNKNOWN_QUALITY_REASON = (
    "not known: the capture's figures were never written beside this file (the capture ended before its "
    "first update, or its sidecar was lost or damaged); the samples are as received"
)


def unknown_capture_quality(reason: str = UNKNOWN_QUALITY_REASON) -> dict[str, Any]:
    """The capture quality a stream starts with: explicitly unknown (replaced by the sidecar's figures)."""
    return {"schema": QUALITY_SCHEMA, "version": QUALITY_VERSION, "status": "unknown", "reason": reason, "feet": {}}


def format_capture_quality(quality: Mapping[str, Any] | None) -> list[str]:
    """Human-readable lines for ``insole info`` (empty when there is no capture quality)."""
    if not quality or quality.get("schema") != QUALITY_SCHEMA:
        return [] if not quality else [f"capture quality: {dict(quality)}"]
    if quality.get("status") == "unknown":
        return [f"capture quality: {quality.get('reason') or 'unknown'}"]
    lines = [
        "capture quality",
        f"  L/R alignment residual {_number(quality.get('lr_alignment_residual_ms'), 2)} ms"
        f" (round-trip check, uncertainty {_number(quality.get('lr_alignment_uncertainty_ms'), 2)} ms)",
    ]
    latency = quality.get("notification_to_disk_ms") or {}
    if latency.get("count"):
        lines.append(
            f"  notification to disk   p50 {_number(latency.get('p50'), 1)} ms, p99 {_number(latency.get('p99'), 1)} ms"
        )
    for side, foot in (quality.get("feet") or {}).items():
        clock = foot.get("clock") or {}
        lines.append(
            f"  {side:<5} packets {foot['packets_received']}/{foot['packets_sent']} received, "
            f"{foot['packets_lost']} lost ({_number(foot.get('packet_loss_pct'), 2)}%); "
            f"{foot['gaps']} gap(s), {_number(foot.get('gap_total_ms'), 0)} ms in total"
        )
        lines.append(
            f"        CRC failures {foot['crc_failures']}, duplicates {foot['duplicates']}, "
            f"reordered {foot['reordered']}, late {foot['late_packets']}, reconnects {foot['reconnects']}"
        )
        at_limit = " (AT THE LIMIT: arrivals did not follow the insole clock, e.g. an overloaded host)"
        lines.append(
            f"        clock drift {_number(clock.get('drift_ppm'), 1)} ppm, "
            f"offset {_number(clock.get('offset_s'), 4)} s, "
            f"min latency {_number(clock.get('min_latency_ms'), 2)} ms, {clock.get('round_trips', 0)} round trips"
            f"{at_limit if clock.get('drift_at_limit') else ''}; "
            f"battery {_number(foot.get('battery_pct_start'))}% -> {_number(foot.get('battery_pct_end'))}%"
        )
    return lines

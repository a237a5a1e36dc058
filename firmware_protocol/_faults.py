"""Faults an emulated insole injects, and their small text syntax.

Kept apart from the emulator so that the command line can parse ``--faults``
without importing bumble.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["FAULT_SPEC_HELP", "FaultPlan", "parse_fault_spec"]


@dataclass(frozen=True)
class FaultPlan:
    """Faults an emulated insole injects. The default injects none.

    Sequence numbers are those of the sample packets, which restart at 0 with
    every START_STREAMING; a fault given by sequence number applies in every
    stream. Rates are drawn from a generator seeded with ``seed`` and the
    stream's index, so the same plan faults the same packets every time.

    Attributes:
        drop_rate: Fraction of sample notifications the link loses, 0 <= rate < 1.
        drop_sequences: Sequence numbers whose notification is lost.
        corrupt_rate: Fraction of sample packets sent with one bit flipped
            (their CRC check fails on the host).
        corrupt_sequences: Sequence numbers sent corrupted.
        overrun_sequences: Sequence numbers the firmware forms but discards
            (its transmit queue is "full"); the next packet it sends carries
            ``StatusFlags.OVERRUN``, as ``PROTOCOL.md`` section 4 specifies.
        seed: Seed of the drop and corruption draws.
        link_loss_at_s: Device-clock seconds after the insole's *first*
            START_STREAMING at which the link is lost (the peripheral ends the
            connection with reason "connection timeout", as a supervision
            timeout would). Each time fires once; a time at which no host is
            connected is skipped.
        clock_offset_s: Device clock at boot, in seconds (>= 0): how long
            before the emulation started the insole "booted".
        clock_drift_ppm: How fast the device clock runs relative to the host's,
            in parts per million (positive: fast).
        burst_packets: The firmware holds this many packets and sends them
            back-to-back (1: each packet when its last sample is taken).
        low_battery: Report a battery of ``LOW_BATTERY_PCT`` % (advertising,
            Battery Service, GET_INFO) and set ``StatusFlags.LOW_BATTERY``.
    """

    drop_rate: float = 0.0
    drop_sequences: frozenset[int] = frozenset()
    corrupt_rate: float = 0.0
    corrupt_sequences: frozenset[int] = frozenset()
    overrun_sequences: frozenset[int] = frozenset()
    seed: int = 0
    link_loss_at_s: tuple[float, ...] = ()
    clock_offset_s: float = 0.0
    clock_drift_ppm: float = 0.0
    burst_packets: int = 1
    low_battery: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "drop_sequences", frozenset(self.drop_sequences))
        object.__setattr__(self, "corrupt_sequences", frozenset(self.corrupt_sequences))
        object.__setattr__(self, "overrun_sequences", frozenset(self.overrun_sequences))
        object.__setattr__(self, "link_loss_at_s", tuple(sorted(self.link_loss_at_s)))
        for name in ("drop_rate", "corrupt_rate"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be in [0, 1)")
        if any(not math.isfinite(t) or t < 0 for t in self.link_loss_at_s):
            raise ValueError(f"link_loss_at_s={self.link_loss_at_s!r}: times must be >= 0 s")
        if not math.isfinite(self.clock_offset_s) or self.clock_offset_s < 0:
            raise ValueError(f"clock_offset_s={self.clock_offset_s!r}: must be >= 0 s")
        if not -1e5 < self.clock_drift_ppm < 1e5:
            raise ValueError(f"clock_drift_ppm={self.clock_drift_ppm!r}: must be within +-1e5 ppm")
        if self.burst_packets < 1:
            raise ValueError(f"burst_packets={self.burst_packets!r}: must be >= 1")


# ---------------------------------------------------------------------------
# The small text syntax of fault plans (``insole emulate --faults``).
# ---------------------------------------------------------------------------

FAULT_SPEC_HELP = """\
Comma-separated KEY=VALUE items; add _left or _right to a key to fault one foot only.
  drop=RATE             fraction of sample notifications lost on the link (0 <= RATE < 1)
  drop_seq=S;S;...      sequence numbers whose notification is lost
  corrupt=RATE          fraction of packets sent with one bit flipped (their CRC fails)
  corrupt_seq=S;S;...   sequence numbers sent corrupted
  overrun_seq=S;S;...   packets the firmware discards (the next one has OVERRUN)
  linkloss=T;T;...      link lost T seconds (device clock) after the first START_STREAMING
  offset=S              device clock at boot, seconds (>= 0)
  drift=PPM             device clock drift, ppm (positive: fast)
  burst=K               hold K packets and send them back-to-back
  low_battery[=1|0]     report 8 % battery and set LOW_BATTERY
  seed=N                seed of the drop and corruption draws
Times take an optional unit: 10s, 500ms. Example: drop=0.05,linkloss=10s;30s,drift_left=300,offset_left=2"""

_FAULT_KEYS = {
    "drop": ("drop_rate", "rate"),
    "drop_seq": ("drop_sequences", "sequences"),
    "corrupt": ("corrupt_rate", "rate"),
    "corrupt_seq": ("corrupt_sequences", "sequences"),
    "overrun_seq": ("overrun_sequences", "sequences"),
    "linkloss": ("link_loss_at_s", "times"),
    "offset": ("clock_offset_s", "time"),
    "drift": ("clock_drift_ppm", "number"),
    "burst": ("burst_packets", "count"),
    "low_battery": ("low_battery", "flag"),
    "seed": ("seed", "count"),
}


def parse_fault_spec(spec: str) -> dict[str, FaultPlan]:
    """``{"left": FaultPlan, "right": FaultPlan}`` from the text syntax of ``FAULT_SPEC_HELP``.

    Raises:
        ValueError: with a one-line message naming the item that is wrong.
    """
    fields: dict[str, dict[str, object]] = {"left": {}, "right": {}}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        key, has_value, text = item.partition("=")
        key = key.strip().lower()
        sides: tuple[str, ...] = ("left", "right")
        for side in ("left", "right"):
            if key.endswith(f"_{side}"):
                key, sides = key[: -len(side) - 1], (side,)
        if key not in _FAULT_KEYS:
            raise ValueError(f"unknown fault {item!r}; known: {', '.join(_FAULT_KEYS)}")
        name, kind = _FAULT_KEYS[key]
        if not has_value and kind != "flag":
            raise ValueError(f"fault {item!r} needs a value, e.g. {key}=...")
        try:
            value = _parse_fault_value(kind, text.strip() if has_value else "1")
        except ValueError as error:
            raise ValueError(f"fault {item!r}: {error}") from None
        for side in sides:
            fields[side][name] = value
    plans = {}
    for side, values in fields.items():
        try:
            plans[side] = FaultPlan(**values)  # type: ignore[arg-type]
        except ValueError as error:
            raise ValueError(f"faults for the {side} insole: {error}") from None
    return plans


def _parse_fault_value(kind: str, text: str) -> object:
    if kind == "rate" or kind == "number":
        return float(text)
    if kind == "count":
        return int(text)
    if kind == "flag":
        if text not in ("0", "1", "true", "false", "yes", "no"):
            raise ValueError(f"{text!r} is not 0/1")
        return text in ("1", "true", "yes")
    if kind == "time":
        return _parse_seconds(text)
    if kind == "times":
        return tuple(_parse_seconds(part) for part in text.split(";") if part.strip())
    if kind == "sequences":
        return frozenset(int(part) for part in text.split(";") if part.strip())
    raise AssertionError(kind)  # pragma: no cover


def _parse_seconds(text: str) -> float:
    text = text.strip().lower()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000.0
    if text.endswith("s"):
        return float(text[:-1])
    return float(text)

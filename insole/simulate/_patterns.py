"""The simulator's gait patterns and what each one is, without numpy: the command line's choices and ``--help``
read them before anything is simulated."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["PATTERNS", "PATTERN_DESCRIPTIONS"]

PATTERNS: tuple[str, ...] = (
    "normal",
    "overpronation",
    "supination",
    "flat_foot",
    "high_arch",
    "heel_avoidance",
    "hallux_offload",
    "high_impact",
    "antalgic",
    "irregular",
)

PATTERN_DESCRIPTIONS: Mapping[str, str] = {
    "normal": "healthy shod walking at a comfortable speed",
    "overpronation": "medial loading: more load under the medial heel, arch and first metatarsal; COP medial",
    "supination": "lateral loading: more load under the lateral heel, midfoot and metatarsals 4-5; less hallux",
    "flat_foot": "low-arch loading: midfoot share of stance impulse about doubled, medial arch loaded",
    "high_arch": "high-arch loading: midfoot share about a third of normal, more heel and forefoot",
    "heel_avoidance": (
        "heel offloading: low heel share, soft heel contact, early forefoot, more toe and lateral forefoot load"
    ),
    "hallux_offload": (
        "reduced hallux push-off: hallux share halved, load moved to the central metatarsals and lesser toes"
    ),
    "high_impact": "hard heel strike: large heel-strike transient, early and higher first peak, steep loading rate",
    "antalgic": (
        "antalgic gait: shorter stance and flatter force curve on the affected side, more load on the other side"
    ),
    "irregular": "irregular timing: stride-time CV about 8% (normal about 2%) with weaker long-range correlation",
}

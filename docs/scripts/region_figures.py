"""Draw each layout's sensors coloured by the region the analysis counts them in: docs/figures/regions-<layout>.png.

    python docs/scripts/region_figures.py [--data ../shared/data] [--out docs/figures]

One figure per layout the report judges regions on: the built-in layouts (gaitpdb8, moticon16, insole16,
orphe6) and the layouts the importers build from the staged vendor examples (pedar, F-Scan, XSENSOR, stappone;
left out when the staged data are absent). A left foot seen from above, heel at the bottom, medial side to the
right. docs/report.md ("Region masks per layout") says, layout by layout, where each position comes from and
why each sensor is counted where it is.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

import insole

REPO = Path(__file__).resolve().parents[2]

# region -> (colour, legend label); coarse regions share their group's colour
COLOURS: dict[str, tuple[str, str]] = {
    "medial_heel": ("#1f4e79", "heel (medial)"),
    "lateral_heel": ("#5b9bd5", "heel (lateral)"),
    "heel": ("#2e75b6", "heel"),
    "medial_midfoot": ("#548235", "midfoot (medial)"),
    "lateral_midfoot": ("#a9d18e", "midfoot (lateral)"),
    "midfoot": ("#70ad47", "midfoot"),
    "first_metatarsal": ("#c55a11", "first metatarsal"),
    "central_metatarsals": ("#f4b183", "central metatarsals"),
    "lateral_metatarsals": ("#ffd966", "lateral metatarsals"),
    "forefoot": ("#ed7d31", "forefoot"),
    "hallux": ("#7030a0", "hallux"),
    "lesser_toes": ("#d5a6e6", "lesser toes"),
    "toes": ("#9e6bc4", "toes (hallux and lesser toes together)"),
    "whole_foot": ("#7f7f7f", "whole foot"),
}

VENDOR_EXAMPLES = {
    "pedar": "vendor-exports/pedar_example.asc",
    "fscan": "vendor-exports/fscan_testL.asf",
    "xsensor": "vendor-exports/xsensor_data.csv",
    "stappone": "vendor-exports/stappone_example.csv",
}


def layouts(data: Path) -> list[tuple[Any, str]]:
    """(layout, where it comes from) for every layout drawn."""
    out = [(insole.get_layout(name), "built-in") for name in ("gaitpdb8", "moticon16", "insole16", "orphe6")]
    for relative in VENDOR_EXAMPLES.values():
        path = data / relative
        if path.is_file():
            out.append((insole.load(path).layout, f"built by the importer from {path.name}"))
    return out


def draw(layout: Any, origin: str, out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = np.asarray(layout.x_mm, float), np.asarray(layout.y_mm, float)
    regions = list(layout.regions)
    many = layout.n_sensors > 40
    fig, ax = plt.subplots(figsize=(5.2, 7.2), dpi=110)
    if layout.outline_mm is not None and len(layout.outline_mm):
        outline = np.asarray(layout.outline_mm, float)
        ax.fill(outline[:, 1], outline[:, 0], facecolor="#f2f2f2", edgecolor="#7f7f7f", linewidth=1.0)
    seen: dict[str, Any] = {}
    for region in dict.fromkeys(regions):
        colour, label = COLOURS.get(region, ("#000000", region))
        mask = np.asarray([r == region for r in regions])
        # medial to the right: y is + medial, so it is drawn as it is for a left foot seen from above
        handle = ax.scatter(y[mask], x[mask], s=14 if many else 260, marker="s" if many else "o", c=colour,
                            edgecolors="none" if many else "black", linewidths=0.6, zorder=3)
        seen[label] = handle
    if not many:
        for k in range(layout.n_sensors):
            ax.annotate(str(k + 1), (y[k], x[k]), ha="center", va="center", fontsize=8, color="white",
                        fontweight="bold", zorder=4)
    ax.set_aspect("equal")
    ax.set_xlabel("across the foot, mm (medial to the right)")
    ax.set_ylabel("along the foot, mm (heel at 0)")
    ax.set_title(f"{layout.name}: {layout.n_sensors} sensor{'s' if layout.n_sensors != 1 else ''} by region\n"
                 f"({origin}{'; positions approximate' if layout.approximate else ''})", fontsize=9)
    ax.legend(list(seen.values()), list(seen.keys()), loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              frameon=False, markerscale=0.6 if not many else 1.5)
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"regions-{layout.name}.png"
    fig.savefig(path, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="draw docs/figures/regions-<layout>.png")
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("INSOLE_SHARED_DATA") or REPO.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "figures")
    args = parser.parse_args(argv)
    for layout, origin in layouts(args.data):
        print(f"wrote {draw(layout, origin, args.out)}")


if __name__ == "__main__":
    main()

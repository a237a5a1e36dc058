"""High-resolution layouts vs sparse insoles: cost per sensel-sample of maps, forces and the analysis.

Real files only: gaitpdb (8 sensors per foot), pedar (99), XSENSOR (233 sensels), F-Scan (955).
For each, the import time and the time of the footprint maps (peak, pressure-time integral), contact
area, total force and, when installed, the analysis core, in nanoseconds per sensor-sample, so a
grid's cost can be compared with the sparse case per sensel.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import insole
from insole.analysis import contact_area_mm2, force_n, peak_pressure_map, pressure_time_integral_map

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FILES = {
    "gaitpdb GaCo01_01 (8/foot)": DATA / "gaitpdb" / "GaCo01_01.txt",
    "pedar (99/foot)": DATA / "vendor-exports" / "pedar_example.asc",
    "XSENSOR (233 sensels)": DATA / "vendor-exports" / "xsensor_data.csv",
    "F-Scan (955 sensels)": DATA / "vendor-exports" / "fscan_testL.asf",
}


def _best(function, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def run() -> str:
    from insole import analyze
    lines = [
        "## bench_grid: sensel grids vs sparse insoles",
        "",
        "Best of 5; ns per sensor-sample (sensors x samples summed over the feet).",
        "",
        "| file | sensor-samples | import s | maps ns | contact area ns | force ns | analysis ns |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, path in FILES.items():
        if not path.is_file():
            lines.append(f"| {label} | missing | | | | | |")
            continue
        load_s = _best(lambda path=path: insole.load(path), repeat=2)
        recording = insole.load(path)
        cells = sum(recording.foot(s).n_samples for s in recording.sides) * recording.layout.n_sensors

        def maps(recording: Any = recording) -> None:
            for side in recording.sides:
                peak_pressure_map(recording, side)
                pressure_time_integral_map(recording, side)

        def contact(recording: Any = recording) -> None:
            for side in recording.sides:
                contact_area_mm2(recording, side)

        def forces(recording: Any = recording) -> None:
            for side in recording.sides:
                force_n(recording, side)

        per = lambda seconds, cells=cells: f"{seconds / cells * 1e9:.2f}"  # noqa: E731
        contact_ns = per(_best(contact)) if recording.layout.areas_known else "n/a (no areas)"
        analysis_ns = per(_best(lambda recording=recording: analyze(recording), repeat=2))
        lines.append(
            f"| {label} | {cells:,} | {load_s:.2f} | {per(_best(maps))} | {contact_ns} "
            f"| {per(_best(forces))} | {analysis_ns} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())

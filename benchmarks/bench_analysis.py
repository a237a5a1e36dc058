"""Benchmark of the gait analysis: one hour of 2 x 16 sensors at 100 Hz end to end, and Moticon reading.

    .venv/bin/python benchmarks/bench_analysis.py        # prints the markdown section
    .venv/bin/python benchmarks/run_all.py bench_analysis

``run()`` returns the markdown section that ``benchmarks/run_all.py`` puts in
docs/benchmarks.md. Wall time is the best of several runs (the least
disturbed by other processes); CPU time (both threads: the analysis runs
the two feet on two threads) and the load average before and after are
printed beside it, because on a busy 2-core machine wall time measures the
neighbours as much as the code. Peak memory is the peak of Python-traced
allocations (numpy included) during one analysis, on top of the recording.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MOTICON = REPO.parent / "shared" / "data" / "moticon-opengo" / "230927_102114.txt"
TARGET_S = 1.0
RUNS = 5


def _best(function, runs: int = RUNS) -> tuple[float, float]:
    """Best wall time and the CPU time of that run (s)."""
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall < best_wall:
            best_wall, best_cpu = wall, cpu
    return best_wall, best_cpu


def bench_hour() -> dict[str, float]:
    from insole._analysis import analyze
    from insole._simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(duration_s=3600.0, seed=0, layout="insole16", sample_rate_hz=100.0))
    analyze(recording)  # warm-up: imports, first-call caches
    wall, cpu = _best(lambda: analyze(recording))
    tracemalloc.start()
    analysis = analyze(recording)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "samples_per_foot": recording.left.n_samples,
        "sensors": recording.layout.n_sensors,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mib": peak / 2**20,
        "strides": sum(analysis.summary.strides_used.values()),
        "recording_mib": sum(f.values.nbytes for f in (recording.left, recording.right)) / 2**20,
    }


def bench_moticon() -> dict[str, float] | None:
    import insole

    if not MOTICON.is_file():
        return None
    ours = _best(lambda: insole.load(MOTICON))[0]
    result = {"ours_s": ours, "theirs_s": float("nan"), "theirs": "moticon-opengo not installed"}
    try:
        from moticon_opengo.txt_export import Measurement  # type: ignore[import-not-found]
        import moticon_opengo.__about__ as about  # type: ignore[import-not-found]
    except ImportError:
        return result
    result["theirs_s"] = _best(lambda: Measurement(str(MOTICON)))[0]
    result["theirs"] = f"moticon-opengo {getattr(about, '__version__', '?')} txt_export.Measurement"
    return result


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def run() -> str:
    load = _load()
    hour = bench_hour()
    load_after = _load()
    verdict = "meets" if hour["wall_s"] <= TARGET_S else "misses"
    lines = [
        "## Gait analysis (bench_analysis)",
        "",
        f"One hour of walking, 2 feet x {hour['sensors']} sensors at 100 Hz ({hour['samples_per_foot']} samples "
        f"per foot, {hour['strides']} strides used), simulated, analysed end to end with `insole._analysis.analyze` "
        "(preparation, events, strides, force/COP/regional features, summary, quality):",
        "",
        "| measure | value |",
        "|---|---|",
        f"| wall time, best of {RUNS} | {hour['wall_s']:.2f} s ({verdict} the {TARGET_S:g} s target) |",
        f"| CPU time of that run (both threads) | {hour['cpu_s']:.2f} s |",
        f"| peak traced memory during the analysis | {hour['peak_mib']:.0f} MiB (recording itself: {hour['recording_mib']:.0f} MiB) |",
        f"| 1-minute load average before / after | {load:.1f} / {load_after:.1f} on {os.cpu_count()} cores |",
    ]
    if hour["wall_s"] > hour["cpu_s"]:
        lines += ["", "Wall time above CPU time means other processes held the cores during the run; "
                      "on an idle machine the two feet's threads bring wall time below CPU time."]
    moticon = bench_moticon()
    if moticon is not None:
        ratio = moticon["theirs_s"] / moticon["ours_s"] if moticon["ours_s"] > 0 else float("nan")
        lines += [
            "",
            f"Reading the Moticon export `{MOTICON.name}` (17.5 s, 2 x 16 sensors + IMU), same file, best of {RUNS}:",
            "",
            "| reader | time |",
            "|---|---|",
            f"| insole.load (our importer: parse, validate, gaps as invalid slots, reference events) | {1000 * moticon['ours_s']:.1f} ms |",
            f"| {moticon['theirs']} | {1000 * moticon['theirs_s']:.1f} ms |",
            "",
            f"Ours is {ratio:.2f}x the speed of theirs." if ratio == ratio else "moticon-opengo was not installed.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())

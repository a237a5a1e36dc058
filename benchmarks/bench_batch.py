"""insole batch: recordings per second for ten-minute recordings, 1 and 2 local workers and Dask.

The recordings are simulated once (``insole.simulate._simulator``, seeds 0..N-1, every
pattern in turn, gaitpdb8 layout at 100 Hz: the PhysioNet insole, 8 sensors
per foot) and kept as Parquet in a cache folder (``INSOLE_BENCH_CACHE``,
default ``~/.cache/insole/bench_batch``); later runs only time the batch.
Each configuration runs ``run_batch`` end to end (discovery, hashing, the
engine, writing the tables) without the result cache, so every recording is
loaded, analysed and its findings evaluated. The tables of all
configurations must be identical (timing columns aside).

    .venv/bin/python benchmarks/bench_batch.py          # or: make bench
    INSOLE_BENCH_BATCH_N=50 .venv/bin/python benchmarks/bench_batch.py

``INSOLE_BENCH_BATCH_N`` (default 200) sets the number of recordings for
2 workers and Dask; ``INSOLE_BENCH_BATCH_N1`` (default 60) how many of them
the single worker runs, to keep the whole benchmark to a few minutes: the
per-recording cost does not depend on how many there are (same simulator,
same length), so the rate of 60 stands for the rate of 200. Set it to 200
for the full run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
DURATION_S = 600.0
LAYOUT = "gaitpdb8"
RATE_HZ = 100.0


def _cache_root() -> Path:
    return Path(os.environ.get("INSOLE_BENCH_CACHE", Path.home() / ".cache" / "insole" / "bench_batch"))


def make_recording(seed: int, folder: str) -> str:
    """Simulate recording ``seed`` and write it (run in a worker process)."""
    from insole.io import write_parquet
    from insole.simulate import PATTERNS, SimulationParams, simulate

    path = Path(folder) / f"sim_{seed:04d}.parquet"
    if not path.exists():
        pattern = PATTERNS[seed % len(PATTERNS)]
        params = SimulationParams(pattern=pattern, duration_s=DURATION_S, seed=seed, layout=LAYOUT,
                                  sample_rate_hz=RATE_HZ, turns=2, standing_s=5.0)
        write_parquet(simulate(params), path)  # writes through a .partial file and renames
    return str(path)


def recordings(n: int) -> tuple[Path, float]:
    """The folder of the N cached recordings (made now if missing) and the seconds spent making them."""
    folder = _cache_root() / f"{LAYOUT}_{int(RATE_HZ)}hz_{int(DURATION_S)}s"
    folder.mkdir(parents=True, exist_ok=True)
    missing = [k for k in range(n) if not (folder / f"sim_{k:04d}.parquet").exists()]
    started = time.perf_counter()
    if missing:
        # importable by name in the worker processes (run_all loads this file without registering it)
        sys.path.insert(0, str(HERE))
        import bench_batch as me

        with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
            list(pool.map(me.make_recording, missing, [str(folder)] * len(missing)))
    return folder, time.perf_counter() - started


def _selection(folder: Path, n: int, target: Path) -> Path:
    """A folder holding exactly the first N recordings (symbolic links), so discovery sees only those."""
    target.mkdir()
    for k in range(n):
        (target / f"sim_{k:04d}.parquet").symlink_to(folder / f"sim_{k:04d}.parquet")
    return target


def run() -> str:
    from insole.batch import TIMING_COLUMNS, EngineSpec, run_batch

    n = int(os.environ.get("INSOLE_BENCH_BATCH_N", "200"))
    n_single = min(n, int(os.environ.get("INSOLE_BENCH_BATCH_N1", "60")))
    folder, made_s = recordings(n)
    size_mb = sum((folder / f"sim_{k:04d}.parquet").stat().st_size for k in range(n)) / 1e6
    configurations = [
        ("local processes", EngineSpec(workers=1), n_single),
        ("local processes", EngineSpec(workers=2), n),
        ("Dask LocalCluster", EngineSpec(workers=2, scheduler="local"), n),
    ]
    rows = []
    tables = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        selections = {count: _selection(folder, count, Path(tmp) / f"recordings{count}") for count in {n, n_single}}
        for k, (name, spec, count) in enumerate(configurations):
            engine_up: list[float] = []
            started = time.perf_counter()
            result = run_batch([selections[count]], Path(tmp) / f"cohort{k}.parquet", engine=spec, cache=False,
                               progress=False, on_engine=lambda info, up=engine_up: up.append(time.perf_counter()))
            elapsed = time.perf_counter() - started
            assert len(result.cohort) == count and len(result.errors) == 0, result.errors
            after_start = elapsed - (engine_up[0] - started) if engine_up else elapsed
            task_s = float(result.cohort["analysis_time_s"].median())
            rows.append((name, spec.n_workers, count, elapsed, after_start, task_s, os.getloadavg()[0]))
            tables.append(result.cohort.drop(columns=list(TIMING_COLUMNS)))
    # every table must hold the same rows (the single worker's are the first rows of the others')
    differing = set()
    for table in tables[1:]:
        head = table.iloc[: len(tables[0])].reset_index(drop=True)
        differing |= {c for c in tables[0].columns if not head[c].equals(tables[0][c])}
    differing |= {c for c in tables[1].columns if not tables[1][c].equals(tables[2][c])}
    single = rows[0][2] / rows[0][3]
    lines = [
        "## bench_batch: insole batch, recordings per second",
        "",
        f"{n} simulated ten-minute recordings ({LAYOUT}, {RATE_HZ:g} Hz, both feet, every simulator pattern in "
        f"turn; {size_mb:.0f} MB of Parquet), each loaded, analysed and its findings evaluated; no result cache. "
        "Wall time of `run_batch` end to end (discovery, hashing, engine start, tables written). "
        f"Load average when starting: {load_before:.1f} on {os.cpu_count()} cores. The machine is shared: "
        "when other work keeps the cores busy (load average above the core count), a second worker has no "
        "free core to run on and the speed-up shrinks accordingly.",
        "",
        "| engine | workers | recordings | wall s | recordings/s | speed-up vs 1 worker | s after the engine was up "
        "| median s per recording in its worker | load average after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, workers, count, elapsed, after_start, task_s, load in rows:
        rate = count / elapsed
        lines.append(f"| {name} | {workers} | {count} | {elapsed:.1f} | {rate:.2f} | {rate / single:.2f}x | "
                     f"{after_start:.1f} | {task_s:.2f} | {load:.1f} |")
    lines += [
        "",
        ("The tables are identical (timing columns aside; the single worker's are the first rows of the others'). "
         if not differing else
         f"THE TABLES DIFFER in {len(differing)} columns ({', '.join(sorted(differing)[:5])}, ...): was the analysis "
         "code edited while the benchmark ran? ")
        + (f"Making the recordings took {made_s:.0f} s this time (cached for later runs)." if made_s > 1
           else "The recordings came from the cache folder."),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())

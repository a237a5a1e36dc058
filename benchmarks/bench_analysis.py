"""Benchmark of the gait analysis: one hour of 2 x 16 sensors at 100 Hz, and reading a Moticon export.

    .venv/bin/python benchmarks/bench_analysis.py        # prints the markdown section
    .venv/bin/python benchmarks/run_all.py bench_analysis

``run()`` returns the markdown section that ``benchmarks/run_all.py`` puts in
docs/benchmarks.md. Three measurements of the same simulated hour, each
labelled with what it includes:

1. the analysis core, ``insole.analysis.analyze`` on a recording already in
   memory (the figure the issue's <= 1 s target is about), best of 5, with
   the peak of Python-traced memory (numpy included) during one analysis;
2. file to JSON in one running process: the hour written as our Parquet,
   then ``insole.load``, ``analyze`` and the JSON written to a file, both by
   ``Analysis.to_json()`` (the whole text, then written) and by
   ``write_json`` (the same bytes streamed to the file, as ``insole analyze
   --json`` writes it), without the
   interpreter start; best and median of 3, per stage, with CPU times;
3. the command line, ``insole analyze hour.parquet --json out.json`` in a
   fresh interpreter each time (start-up and imports included), best and
   median of 3, and the peak resident memory of one more such run.

Then our Moticon importer against moticon-opengo's reader on the same file,
both as they read by default, in interleaved runs (ours, theirs, theirs,
ours, ...) so that both see the same machine; best and median.

Wall time is the least disturbed of several runs; CPU time and the load
average are printed beside it, because on a busy 2-core machine wall time
measures the neighbours as much as the code.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MOTICON = REPO.parent / "shared" / "data" / "moticon-opengo" / "230927_102114.txt"
TARGET_S = 1.0
CORE_RUNS = 5
FILE_RUNS = 3
CLI_RUNS = 3
MOTICON_RUNS = 20


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def _timed(function) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _hour():
    from insole.simulate import SimulationParams, simulate

    return simulate(SimulationParams(duration_s=3600.0, seed=0, layout="insole16", sample_rate_hz=100.0))


def bench_core(recording) -> dict[str, float]:
    from insole.analysis import analyze

    analyze(recording)  # warm-up: imports, first-call caches
    runs = [_timed(lambda: analyze(recording)) for _ in range(CORE_RUNS)]
    wall, cpu, analysis = min(runs, key=lambda r: r[0])
    tracemalloc.start()
    analyze(recording)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "samples_per_foot": recording.left.n_samples,
        "sensors": recording.layout.n_sensors,
        "wall_s": wall,
        "median_s": statistics.median(r[0] for r in runs),
        "cpu_s": cpu,
        "peak_mib": peak / 2**20,
        "strides": sum(analysis.summary.strides_used.values()),
        "recording_mib": sum(f.values.nbytes for f in (recording.left, recording.right)) / 2**20,
    }


def bench_file_to_json(parquet: Path, out: Path) -> dict[str, object]:
    import insole
    from insole.analysis import analyze, write_json

    def once() -> dict[str, float]:
        load_s, load_cpu, recording = _timed(lambda: insole.load(parquet))
        analyze_s, analyze_cpu, analysis = _timed(lambda: analyze(recording))
        # what `insole analyze --json` does today, and the streamed writer with the same bytes
        json_s, json_cpu, _ = _timed(lambda: out.write_text(analysis.to_json() + "\n", encoding="utf-8"))
        stream_s, stream_cpu, _ = _timed(lambda: write_json(analysis, out, force=True))  # the same file each run
        return {"load": load_s, "analyze": analyze_s, "json": json_s, "write_json": stream_s,
                "total": load_s + analyze_s + json_s, "total_streamed": load_s + analyze_s + stream_s,
                "cpu": load_cpu + analyze_cpu + json_cpu, "cpu_streamed": load_cpu + analyze_cpu + stream_cpu,
                "load_cpu": load_cpu, "analyze_cpu": analyze_cpu, "json_cpu": json_cpu, "write_json_cpu": stream_cpu}

    once()  # warm-up: imports, page cache
    runs = [once() for _ in range(FILE_RUNS)]
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    tracemalloc.start()
    recording = insole.load(parquet)
    write_json(analyze(recording), out, force=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "best": best,
        "median": {k: statistics.median(r[k] for r in runs) for k in runs[0]},
        "peak_mib": peak / 2**20,
        "parquet_mb": parquet.stat().st_size / 1e6,
        "json_mb": out.stat().st_size / 1e6,
    }


def _console_script() -> list[str]:
    script = Path(sys.executable).with_name("insole")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "insole._cli"]


# The console script's own two lines, plus an exit hook that reports the
# process's peak resident memory (VmHWM: the high-water mark of this program's
# own memory, which, unlike the rusage of a child, does not count the
# benchmark's memory that the child inherited before exec).
_WITH_PEAK = """
import atexit, sys
def _peak():
    with open("/proc/self/status") as status:
        sys.stderr.write([l for l in status if l.startswith("VmHWM:")][0])
atexit.register(_peak)
from insole._cli import main
sys.argv = ["insole", *sys.argv[1:]]
sys.exit(main())
"""


def _run_process(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall time (s) and standard error of one child process; raises if it fails."""
    started = time.perf_counter()
    result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, env=env)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {result.returncode}: {result.stderr[-500:]}")
    return wall, result.stderr


def bench_cli(parquet: Path, out: Path, pycache: Path) -> dict[str, object]:
    arguments = ["analyze", str(parquet), "--json", str(out), "--force"]  # the same file, run after run
    command = [*_console_script(), *arguments]
    # Bytecode cached, as after a normal install: written to a temporary folder
    # (never into the repository), even where PYTHONDONTWRITEBYTECODE is set.
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(pycache)
    as_run_here = dict(os.environ)
    compiling = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    _run_process(command, cached)  # warm-up: compiles into the cache, fills the page cache
    runs, uncached = [], []
    for _ in range(CLI_RUNS):  # interleaved, so that both see the same machine
        runs.append(_run_process(command, cached)[0])
        if compiling:
            # as this environment runs it: every module without a cached .pyc compiled at each start
            uncached.append(_run_process(command, as_run_here)[0])
    _, report = _run_process([sys.executable, "-c", _WITH_PEAK, *arguments], cached)
    peak_kib = int(report.strip().splitlines()[-1].split()[1])
    imports = [
        _run_process([sys.executable, "-c", "import insole._cli, insole.analysis, insole.io._load"], cached)[0]
        for _ in range(CLI_RUNS)
    ]
    result: dict[str, object] = {
        "command": "insole analyze hour.parquet --json out.json",
        "best_s": min(runs),
        "median_s": statistics.median(runs),
        "peak_rss_mib": peak_kib / 1024,
        "imports_best_s": min(imports),
    }
    if uncached:
        result["uncached_best_s"] = min(uncached)
        result["uncached_median_s"] = statistics.median(uncached)
    return result


def bench_moticon() -> dict[str, object] | None:
    import insole

    if not MOTICON.is_file():
        return None
    result: dict[str, object] = {"theirs": "moticon-opengo not installed"}
    try:
        import moticon_opengo.__about__ as about  # type: ignore[import-not-found]
        from moticon_opengo.txt_export import Measurement  # type: ignore[import-not-found]
    except ImportError:
        return result
    readers = {"ours": lambda: insole.load(MOTICON), "theirs": lambda: Measurement(str(MOTICON))}
    for read in readers.values():
        read()  # warm-up: imports, page cache
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for run in range(MOTICON_RUNS):
        # alternate who goes first, so neither always follows the other's garbage
        for name in (("ours", "theirs") if run % 2 == 0 else ("theirs", "ours")):
            started = time.perf_counter()
            readers[name]()
            times[name].append(time.perf_counter() - started)
    for name, values in times.items():
        result[f"{name}_best_s"] = min(values)
        result[f"{name}_median_s"] = statistics.median(values)
    result["faster_runs"] = sum(o < t for o, t in zip(times["ours"], times["theirs"]))
    result["theirs"] = f"moticon-opengo {getattr(about, '__version__', '?')} `txt_export.Measurement(path)`"
    return result


def run() -> str:
    load_start = _load()
    recording = _hour()
    core = bench_core(recording)
    load_core = _load()
    with tempfile.TemporaryDirectory() as folder:
        from insole.io import write_parquet

        parquet = write_parquet(recording, Path(folder) / "hour.parquet")
        del recording
        file_path = bench_file_to_json(parquet, Path(folder) / "hour.json")
        load_file = _load()
        cli = bench_cli(parquet, Path(folder) / "cli.json", Path(folder) / "pycache")
        load_cli = _load()
    moticon = bench_moticon()
    load_end = _load()

    verdict = "meets" if core["wall_s"] <= TARGET_S else "misses"
    best, median = file_path["best"], file_path["median"]
    lines = [
        "## Gait analysis (bench_analysis)",
        "",
        f"One hour of walking, 2 feet x {core['sensors']} sensors at 100 Hz ({core['samples_per_foot']} samples per "
        f"foot, {core['strides']} strides used), simulated. 1-minute/5-minute/15-minute load average on "
        f"{os.cpu_count()} cores: {load_start} at the start, {load_core} after the core, {load_file} after file to "
        f"JSON, {load_cli} after the command line, {load_end} at the end (other work on the machine inflates "
        "wall times; CPU times are less affected).",
        "",
        "**Analysis core**: `insole.analysis.analyze` on a recording already in memory (preparation, events, strides, "
        "force/COP/regional features, summary, quality); no file reading, no JSON.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| wall time, best of {CORE_RUNS} | {core['wall_s']:.2f} s ({verdict} the {TARGET_S:g} s target) |",
        f"| wall time, median of {CORE_RUNS} | {core['median_s']:.2f} s |",
        f"| CPU time of the best run (both threads) | {core['cpu_s']:.2f} s |",
        f"| peak Python-traced memory during one analysis | {core['peak_mib']:.0f} MiB (the recording itself: "
        f"{core['recording_mib']:.0f} MiB) |",
        "",
        f"**File to JSON in one process** (interpreter already running, imports done): our Parquet file "
        f"({file_path['parquet_mb']:.0f} MB) -> `insole.load` -> `analyze` -> JSON written to a file "
        f"({file_path['json_mb']:.0f} MB), best and median of {FILE_RUNS} (each stage's best on its own):",
        "",
        "| stage | best | median | CPU (best) |",
        "|---|---|---|---|",
        f"| load the Parquet file | {best['load']:.2f} s | {median['load']:.2f} s | {best['load_cpu']:.2f} s |",
        f"| analyze | {best['analyze']:.2f} s | {median['analyze']:.2f} s | {best['analyze_cpu']:.2f} s |",
        f"| JSON by `Analysis.to_json()`, then written | {best['json']:.2f} s | "
        f"{median['json']:.2f} s | {best['json_cpu']:.2f} s |",
        f"| JSON by `write_json` (same bytes, streamed to the file; what `insole analyze --json` does) | "
        f"{best['write_json']:.2f} s | {median['write_json']:.2f} s | {best['write_json_cpu']:.2f} s |",
        f"| **file to JSON**, with `to_json()` | **{best['total']:.2f} s** | {median['total']:.2f} s | "
        f"{best['cpu']:.2f} s |",
        f"| **file to JSON**, with `write_json` | **{best['total_streamed']:.2f} s** | "
        f"{median['total_streamed']:.2f} s | {best['cpu_streamed']:.2f} s |",
        "",
        f"Peak Python-traced memory over load, analyze and write_json: {file_path['peak_mib']:.0f} MiB (Arrow's own "
        "buffers while reading are not traced; the command line's resident peak below includes everything).",
        "",
        f"**Command line**: `{cli['command']}` in a fresh interpreter each time (start-up and imports included): "
        f"best {cli['best_s']:.2f} s, median {cli['median_s']:.2f} s of {CLI_RUNS}; peak resident memory "
        f"{cli['peak_rss_mib']:.0f} MiB (one more run, read from the process's VmHWM at exit). Starting Python and "
        f"importing what it uses (`import insole._cli, insole.analysis, insole.io._load`) alone takes "
        f"{cli['imports_best_s']:.2f} s (best of {CLI_RUNS}). Bytecode was cached (in a temporary folder), as after "
        "an install."
        + (f" Where `PYTHONDONTWRITEBYTECODE` is set, as in the environment this ran in, Python compiles insole's "
           f"modules at every start: then the same command takes {cli['uncached_best_s']:.2f} s (best; median "
           f"{cli['uncached_median_s']:.2f} s; runs interleaved with the cached ones)."
           if "uncached_best_s" in cli else ""),
    ]
    if moticon is not None:
        lines += ["", f"**Reading a Moticon export**: `{MOTICON.name}` (17.5 s, 2 x 16 sensors + IMU, "
                      f"{MOTICON.stat().st_size / 1e3:.0f} kB), same file, same process, warm cache."]
        if "ours_best_s" in moticon:
            ratio_best = moticon["theirs_best_s"] / moticon["ours_best_s"]
            ratio_median = moticon["theirs_median_s"] / moticon["ours_median_s"]
            lines += [
                f"{MOTICON_RUNS} interleaved runs of each:",
                "",
                "| reader (what it does by default) | best | median |",
                "|---|---|---|",
                f"| `insole.load(path)`: detect the format, parse and check every field (textual NaN/inf, column "
                f"counts, increasing time), gaps as invalid slots, reference step events, SHA-256 of the file | "
                f"{1000 * moticon['ours_best_s']:.1f} ms | {1000 * moticon['ours_median_s']:.1f} ms |",
                f"| {moticon['theirs']}: `numpy.genfromtxt` of the file twice, trim to both feet, fill gaps by "
                f"repeating the last sample, step events | {1000 * moticon['theirs_best_s']:.1f} ms | "
                f"{1000 * moticon['theirs_median_s']:.1f} ms |",
                "",
                f"Ours takes 1/{ratio_best:.1f} of their time at best and 1/{ratio_median:.1f} at the median; ours was "
                f"faster in {moticon['faster_runs']} of {MOTICON_RUNS} paired runs.",
            ]
        else:
            lines += ["", f"{moticon['theirs']}: no comparison."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())

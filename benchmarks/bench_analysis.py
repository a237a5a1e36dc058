"""Benchmark of issue 19's acceptance figures, each beside its anchor in the same run.

    .venv/bin/python benchmarks/bench_analysis.py        # prints the markdown section
    .venv/bin/python benchmarks/run_all.py bench_analysis

``run()`` returns the markdown section that ``benchmarks/run_all.py`` puts in
docs/benchmarks.md. Every figure is a whole process (a fresh interpreter, as a
user runs the command; bytecode cached in a temporary folder, as after an
install), timed by wall clock, with its peak resident memory (VmHWM at exit),
unless it says otherwise. Beside each figure, measured in the same run, its
anchor:

* loading: ``pandas.read_parquet`` of the same file (the floor for loading);
* the analysis: a bare numpy pass over the same arrays (three reductions over
  every sample of both feet: the floor for any analysis that reads them);
* a Moticon export: the vendor's own reader, ``moticon-opengo``, when installed;
* start-up: ``python -c pass`` and ``python -c "import numpy"``.

Recordings: simulated walking, 2 feet x 16 sensors at 100 Hz (the simulator's
hour; 10 minutes simulated alone; 8 hours as the hour's samples eight times
over, so that the growth from 1 h to 8 h measures our cost, not the
simulator's). The 1 h Moticon export is the real 17.5 s export in this
repository's shared data repeated with its time column continued (same
columns, same text form). The machine is shared: the load average is printed
beside the figures (1, 5 and 15 minutes, on its cores).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MOTICON = REPO.parent / "shared" / "data" / "moticon-opengo" / "230927_102114.txt"
RUNS = 3
CORE_RUNS = 5  # the core's warm calls: its first is the slowest (page faults the allocator then keeps), 3 was thin
STARTUP_RUNS = 9

# acceptance (issue 19)
TARGETS = {
    "hour_wall_s": 1.0, "hour_rss_mib": 300.0, "hour_json_mb": 2.0, "core_s": 0.2,
    "eight_wall_s": 8.0, "eight_rss_mib": 600.0,
    "moticon_wall_s": 1.5, "moticon_rss_mib": 600.0, "moticon_ratio": 20.0,
    "startup_s": 0.5, "report_html_s": 2.0, "report_pdf_s": 4.0, "dashboard_s": 2.0,
}

# a child's own peak resident memory (VmHWM: its high-water mark; unlike the rusage of a child it does not
# count memory the benchmark process held when it forked), written to stderr at exit
_PEAK_HOOK = """
import atexit, os, sys
def _peak():
    times = os.times()
    with open("/proc/self/status") as status:
        peak = [l for l in status if l.startswith("VmHWM:")][0]
    sys.stderr.write(f"\\nCPU: {times.user + times.system:.3f}\\n" + peak)
atexit.register(_peak)
"""
# the command as `python -m insole` runs it (so as the installed program: it ends without the interpreter's teardown
# once its atexit functions, the hook above among them, have run)
_CLI = _PEAK_HOOK + ("import runpy\nsys.argv = ['insole', *sys.argv[1:]]\n"
                     "runpy.run_module('insole', run_name='__main__', alter_sys=True)\n")


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def _env(pycache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)  # bytecode cached (never in the repository), as after an install
    return env


def _child(code: str, args: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """Wall time (s), peak resident memory (MiB), standard output and CPU time (user + system, s, every thread)
    of ``python -c code args``."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                            check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{args} exited {result.returncode}: {result.stderr[-800:]}")
    *_, cpu_line, peak_line = result.stderr.strip().splitlines()
    return wall, int(peak_line.split()[1]) / 1024, result.stdout, float(cpu_line.split()[1])


def _repeat(code: str, args: list[str], env: dict[str, str], runs: int = RUNS) -> dict[str, Any]:
    _child(code, args, env)  # warm-up: bytecode cache, page cache
    results = [_child(code, args, env) for _ in range(runs)]
    walls = [r[0] for r in results]
    return {"median_s": statistics.median(walls), "best_s": min(walls), "runs": runs,
            "rss_mib": max(r[1] for r in results), "stdout": results[-1][2], "load": _load(),
            "cpu_s": statistics.median(r[3] for r in results)}


def _cli(args: list[str], env: dict[str, str], runs: int = RUNS) -> dict[str, Any]:
    return _repeat(_CLI, args, env, runs)


# ---------------------------------------------------------------- recordings

def _simulated(duration_s: float, out: Path) -> Path:
    from insole.io import write_parquet
    from insole.simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(duration_s=duration_s, seed=0, layout="insole16", sample_rate_hz=100.0))
    return write_parquet(recording, out, force=True)


def _tiled(source: Path, out: Path, copies: int) -> Path:
    """``source``'s samples ``copies`` times over per foot, the time axis continued (same schema and metadata)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.ParquetFile(source).read()
    side = table.column("side").to_numpy(zero_copy_only=False)
    position = table.schema.get_field_index("time_s")
    parts = []
    for name in ("left", "right"):
        rows = table.filter(pa.array(side == name))
        t = rows.column("time_s").to_numpy()
        step = float(t[1] - t[0])
        for k in range(copies):
            shifted = np.round((t - t[0]) / step + k * rows.num_rows) * step + t[0]
            parts.append(rows.set_column(position, "time_s", pa.array(shifted)))
    # each column stored as our writer stored it in the source (byte-stream-split or dictionary: the writer
    # chooses per column, docs/recording-format.md "Storage"), so the tiled file decodes like one it wrote
    metadata = pq.ParquetFile(source).metadata
    chunks = [metadata.row_group(0).column(i) for i in range(metadata.num_columns)]
    split = [chunk.path_in_schema for chunk in chunks if "BYTE_STREAM_SPLIT" in chunk.encodings]
    dictionary = [chunk.path_in_schema for chunk in chunks
                  if {"RLE_DICTIONARY", "PLAIN_DICTIONARY"} & set(chunk.encodings)]
    pq.write_table(pa.concat_tables(parts).replace_schema_metadata(table.schema.metadata), out,
                   compression="zstd", row_group_size=360_000, use_dictionary=dictionary,
                   use_byte_stream_split=split or False)
    return out


def _moticon_hour(out: Path) -> Path:
    """The real Moticon export repeated to one hour, its time column continued (text form kept: two decimals)."""
    lines = MOTICON.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    rows = [line.split("\t", 1) for line in lines if line and not line.startswith("#")]
    times = [float(t) for t, _ in rows]
    span = times[-1] - times[0] + (times[1] - times[0])
    copies = int(3600 // span) + 1
    header = [f"# Duration: {int(copies * span // 60):02d}:{copies * span % 60:06.3f}" if h.startswith("# Duration")
              else h for h in header]
    with out.open("w", encoding="utf-8") as handle:
        handle.write("\n".join(header) + "\n")
        for k in range(copies):
            shift = k * span
            handle.write("\n".join(f"{t + shift:.2f}\t{rest}" for t, (_, rest) in zip(times, rows)) + "\n")
    return out


# ---------------------------------------------------------------- in-process children

# loading: ours and the floor, in one fresh process each time (the same file, the same cache)
_LOADING = _PEAK_HOOK + """
import time, sys
path, which = sys.argv[1], sys.argv[2]
if which == "pandas":
    import pandas
    read = lambda: pandas.read_parquet(path)
else:
    import insole.io
    read = lambda: insole.io.load(path)
started = time.perf_counter(); read(); print(time.perf_counter() - started)
"""

# the analysis core (warm: second call) and the numpy floor over the same arrays, with traced peaks
_CORE = _PEAK_HOOK + """
import json, sys, time, tracemalloc
import numpy as np
from insole.io import load
from insole.analysis import analyze
recording = load(sys.argv[1])
analyze(recording)  # warm-up: first-call imports and caches
walls, cpus = [], []
for _ in range(int(sys.argv[2])):
    wall, cpu = time.perf_counter(), time.process_time()
    analysis = analyze(recording)
    walls.append(time.perf_counter() - wall); cpus.append(time.process_time() - cpu)
tracemalloc.start(); analyze(recording); traced = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
feet = [recording.samples(side).values for side in recording.sides]
# the passes run over the arrays as stored: our reader stores a foot's values sensor by sensor, so the
# (sensors, samples) view is the contiguous one; an importer's (samples, sensors) array is C-ordered
rows = [values.T if values.T.flags.c_contiguous else values for values in feet]
axes = [0 if values.T.flags.c_contiguous else 1 for values in feet]
floor = []
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    for values, axis in zip(rows, axes):  # three passes over every sample: total, largest, loaded count
        values.sum(axis=axis, dtype=np.float64); values.max(axis=axis); np.count_nonzero(values > 0, axis=axis)
    floor.append(time.perf_counter() - started)
print(json.dumps({"walls": walls, "cpus": cpus, "traced_mib": traced / 2**20, "floor": floor,
                  "recording_mib": sum(v.nbytes for v in feet) / 2**20,
                  "strides": int(sum(analysis.summary.strides_used.values()))}))
"""

# where the hour's `insole analyze --json` spends its time: each step of the command, one after the other in one
# process (the command itself hashes the file on a second thread beside the analysis), wall and CPU
_PHASES = _PEAK_HOOK + """
import json, os, sys, time
from pathlib import Path
marks = []
def mark(name):
    times = os.times()
    marks.append((name, time.perf_counter(), times.user + times.system))
mark("start")
import numpy, pyarrow.parquet  # the command imports them once it has parsed its arguments
import insole._cli._analyze
mark("the command's imports (numpy, pyarrow, the reader)")
from insole.analysis import analyze, write_json
import insole.analysis._pipeline
mark("the analysis' imports (pandas, the analysis modules; in the command beside the first pass)")
analysis = analyze(Path(sys.argv[1]))
mark("reading and analysing the file (analyze of its path)")
from insole._cli._analyze import analysed_file, summary_text
analysed_file(sys.argv[1])
mark("SHA-256 of the file (on a second thread in the command)")
write_json(analysis, sys.argv[2], force=True)
mark("the lean JSON written")
summary_text(analysis, sys.argv[1])
mark("the printed summary")
print(json.dumps(marks))
"""


_OPENGO = _PEAK_HOOK + """
import sys
from moticon_opengo.txt_export import Measurement
Measurement(sys.argv[1])
"""


def _core(path: Path, env: dict[str, str], runs: int) -> dict[str, Any]:
    wall, rss, out, _ = _child(_CORE, [str(path), str(runs)], env)
    found = json.loads(out)
    found.update(process_s=wall, process_rss_mib=rss, load=_load())
    return found


# ---------------------------------------------------------------- the benchmark

def _verdict(value: float, target_key: str, more_is_better: bool = False) -> str:
    target = TARGETS[target_key]
    met = value >= target if more_is_better else value <= target
    return ("meets" if met else "**misses**") + f" {'>=' if more_is_better else '<='} {target:g}"


def bench(folder: Path) -> dict[str, Any]:
    env = _env(folder / "pycache")
    found: dict[str, Any] = {"load_start": _load()}
    hour = _simulated(3600.0, folder / "hour.parquet")
    ten = _simulated(600.0, folder / "ten.parquet")
    eight = _tiled(hour, folder / "eight.parquet", 8)
    sizes = {"ten": ten, "hour": hour, "eight": eight}
    found["parquet_mb"] = {k: p.stat().st_size / 1e6 for k, p in sizes.items()}

    # start-up
    found["python_pass"] = _repeat(_PEAK_HOOK, [], env, STARTUP_RUNS)
    found["python_numpy"] = _repeat(_PEAK_HOOK + "import numpy\n", [], env, STARTUP_RUNS)
    found["help"] = _cli(["--help"], env, STARTUP_RUNS)
    sample = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"
    found["info_sample"] = _cli(["info", str(sample)], env, STARTUP_RUNS)

    # loading the hour: ours and the floor
    for which in ("insole", "pandas"):
        _child(_LOADING, [str(hour), which], env)
        loads = [_child(_LOADING, [str(hour), which], env) for _ in range(RUNS)]  # in-process time on stdout
        found[f"load_{which}"] = {"median_s": statistics.median(float(r[2]) for r in loads),
                                  "rss_mib": max(r[1] for r in loads), "load": _load()}

    # analyze: whole process per size, and the core with its floor
    found["cli"] = {}
    found["core"] = {}
    for key, path in sizes.items():
        out = folder / f"{key}.json"
        runs = 1 if key == "eight" else RUNS
        found["cli"][key] = _cli(["analyze", str(path), "--json", str(out), "--force"], env, runs)
        found["cli"][key]["json_mb"] = out.stat().st_size / 1e6
        found["core"][key] = _core(path, env, 1 if key == "eight" else CORE_RUNS)
    # eight hours simulated whole: a walk of its own, and the simulator's known answer (every step placed, 14 MB of
    # text) in the file's description, which the tiled file carries only for its first hour
    simulated_eight = _simulated(28800.0, folder / "simulated_eight.parquet")
    found["parquet_mb"]["simulated_eight"] = simulated_eight.stat().st_size / 1e6
    found["cli"]["simulated_eight"] = _cli(["analyze", str(simulated_eight), "--json",
                                            str(folder / "simulated_eight.json"), "--force"], env, 1)
    found["cli"]["simulated_eight"]["json_mb"] = (folder / "simulated_eight.json").stat().st_size / 1e6
    simulated_eight.unlink()
    marks = [json.loads(_child(_PHASES, [str(hour), str(folder / "phases.json")], env)[2]) for _ in range(RUNS)]
    found["phases"] = {"load": _load(), "steps": [
        (step[0], statistics.median(m[k][1] - m[k - 1][1] for m in marks),
         statistics.median(m[k][2] - m[k - 1][2] for m in marks)) for k, step in enumerate(marks[0]) if k]}
    tables = folder / "tables"
    found["cli_tables"] = _cli(["analyze", str(hour), "--json", str(folder / "t.json"), "--tables", str(tables),
                                "--force"], env, 1)
    found["tables_mb"] = sum(p.stat().st_size for p in tables.iterdir()) / 1e6

    # a one-hour Moticon export: ours (insole info --json) and the vendor's reader
    if MOTICON.is_file():
        text = _moticon_hour(folder / "moticon_hour.txt")
        found["moticon_mb"] = text.stat().st_size / 1e6
        found["moticon_ours"] = _cli(["info", str(text), "--json"], env, RUNS)
        try:
            import moticon_opengo  # type: ignore[import-untyped,unused-ignore]  # noqa: F401

            found["moticon_theirs"] = _repeat(_OPENGO, [str(text)], env, 1)
            found["moticon_theirs_version"] = _opengo_version()
        except ImportError:
            found["moticon_theirs"] = None

    # report and dashboard of a five-minute walk
    walk = _simulated(300.0, folder / "walk.parquet")
    found["report_html"] = _cli(["report", str(walk), "--out", str(folder / "r.html"), "--force"], env)
    try:
        found["report_pdf"] = _cli(["report", str(walk), "--out", str(folder / "p.html"), "--pdf",
                                    str(folder / "p.pdf"), "--force"], env)
    except RuntimeError as error:  # no Chromium here: said, not fatal
        found["report_pdf"] = {"error": str(error).splitlines()[-1][:200]}
    found["dashboard"] = _cli(["dashboard", str(walk), "--out", str(folder / "d.html"), "--force"], env)
    found["load_end"] = _load()
    return found


def _opengo_version() -> str:
    try:
        from importlib.metadata import version

        return version("moticon-opengo")
    except Exception:  # noqa: BLE001 - only a label
        return "?"


def _fmt_process(entry: dict[str, Any]) -> str:
    return (f"{entry['median_s']:.2f} s (best {entry['best_s']:.2f}, {_runs(entry['runs'])}; "
            f"CPU {entry['cpu_s']:.2f} s), {entry['rss_mib']:.0f} MiB")


def _runs(n: int) -> str:
    return f"{n} run" + ("s" if n != 1 else "")


def render(found: dict[str, Any]) -> str:
    cli, core = found["cli"], found["core"]
    hour, eight = cli["hour"], cli["eight"]
    lines = [
        "## Issue 19 acceptance: speed, memory and output size (bench_analysis)",
        "",
        f"Whole processes (fresh interpreter, bytecode cached in a temporary folder: a PYTHONDONTWRITEBYTECODE "
        f"of the caller's environment is dropped for them, as an installed program has its bytecode; without it "
        f"each process compiles the package again, about 0.1 s more), median wall time of the runs stated, peak "
        f"resident memory (VmHWM) of the worst run. Simulated walking, 2 feet x 16 sensors at 100 Hz: the hour is "
        f"`insole simulate --duration 3600 --seed 0 --layout insole16 --rate 100 --out hour.parquet` (10 min and "
        f"the 5-minute walk the same with their durations); 8 h = the hour's samples eight times over (the script's "
        f"`_tiled`), and below also 8 h simulated whole (`--duration 28800`). The 60 s recording of `insole info` is "
        f"`recordings/gaitpdb_GaCo01_01_60s.parquet`; the Moticon export is ../shared/data/moticon-opengo/"
        f"{MOTICON.name} repeated to one hour, its time column continued (the script's `_moticon_hour`), and the "
        f"vendor's reader beside it comes with the `bench` extra (`pip install -e '.[bench]'`, which `make bench` "
        f"installs). Re-run this section alone: `.venv/bin/python benchmarks/run_all.py bench_analysis`. "
        f"Load average (1/5/15 min, {os.cpu_count()} cores) at the start {found['load_start']}, "
        f"at the end {found['load_end']}; beside each row, the load when it finished (the benchmark's own processes "
        f"count in it: one busy core reads about 1). On a busy machine wall times "
        "measure the neighbours too; the CPU time beside them (user + system, every thread of the process, median) "
        "much less so.",
        "",
        "| figure | ours | anchor (same run) | target | load |",
        "|---|---|---|---|---|",
        f"| 1 h `insole analyze hour.parquet --json out.json` | {_fmt_process(hour)} | loading floor: "
        f"`pandas.read_parquet` {found['load_pandas']['median_s']:.2f} s in-process (ours `insole.load` "
        f"{found['load_insole']['median_s']:.2f} s) | {_verdict(hour['median_s'], 'hour_wall_s')} s, "
        f"{_verdict(hour['rss_mib'], 'hour_rss_mib')} MiB | {hour['load']} |",
        f"| 1 h, also `--tables DIR` (every table as Parquet) | {_fmt_process(found['cli_tables'])} | as above | | "
        f"{found['cli_tables']['load']} |",
        f"| 1 h JSON size | {hour['json_mb']:.2f} MB (Parquet tables with `--tables`: {found['tables_mb']:.1f} MB) | "
        f"the recording's Parquet: {found['parquet_mb']['hour']:.0f} MB | {_verdict(hour['json_mb'], 'hour_json_mb')}"
        f" MB | |",
        f"| 1 h analysis core (`analyze` on the loaded recording, warm, median of {len(core['hour']['walls'])}) | "
        f"{statistics.median(core['hour']['walls']):.3f} s (the runs in order: "
        f"{', '.join(f'{w:.3f}' for w in core['hour']['walls'])} s; "
        f"CPU {statistics.median(core['hour']['cpus']):.2f} s; "
        f"traced peak {core['hour']['traced_mib']:.0f} MiB, the recording {core['hour']['recording_mib']:.0f} MiB) | "
        f"numpy floor (3 passes over both feet): {statistics.median(core['hour']['floor']):.3f} s | "
        f"{_verdict(statistics.median(core['hour']['walls']), 'core_s')} s | {core['hour']['load']} |",
        f"| 8 h `insole analyze eight.parquet --json out.json` | {_fmt_process(eight)} | loading floor: see the "
        f"growth table | {_verdict(eight['median_s'], 'eight_wall_s')} s, "
        f"{_verdict(eight['rss_mib'], 'eight_rss_mib')} MiB | {eight['load']} |",
    ]
    whole = cli["simulated_eight"]
    lines.append(
        f"| 8 h simulated whole (`--duration 28800`, its known answer in the file), `insole analyze --json` | "
        f"{_fmt_process(whole)} | | {_verdict(whole['median_s'], 'eight_wall_s')} s, "
        f"{_verdict(whole['rss_mib'], 'eight_rss_mib')} MiB | {whole['load']} |")
    if "moticon_ours" in found:
        ours, theirs = found["moticon_ours"], found.get("moticon_theirs")
        if theirs:
            ratio = theirs["median_s"] / ours["median_s"]
            anchor = (f"moticon-opengo {found['moticon_theirs_version']} `Measurement(path)`: "
                      f"{theirs['median_s']:.1f} s, {theirs['rss_mib']:.0f} MiB (1 run); ours {ratio:.1f}x faster "
                      f"({_verdict(ratio, 'moticon_ratio', more_is_better=True)})")
        else:
            anchor = "moticon-opengo not installed"
        lines.append(
            f"| 1 h Moticon export ({found['moticon_mb']:.0f} MB of text), `insole info --json` | "
            f"{_fmt_process(ours)} | {anchor} | {_verdict(ours['median_s'], 'moticon_wall_s')} s, "
            f"{_verdict(ours['rss_mib'], 'moticon_rss_mib')} MiB | {ours['load']} |")
    startup_anchor = (f"`python -c pass` {found['python_pass']['median_s']:.2f} s, `python -c \"import numpy\"` "
                      f"{found['python_numpy']['median_s']:.2f} s")
    lines += [
        f"| `insole --help` | {_fmt_process(found['help'])} | {startup_anchor} | "
        f"{_verdict(found['help']['median_s'], 'startup_s')} s | {found['help']['load']} |",
        f"| `insole info` of a 60 s Parquet recording | {_fmt_process(found['info_sample'])} | as above | "
        f"{_verdict(found['info_sample']['median_s'], 'startup_s')} s | {found['info_sample']['load']} |",
        f"| `insole report` of a 5-minute walk, HTML | {_fmt_process(found['report_html'])} | | "
        f"{_verdict(found['report_html']['median_s'], 'report_html_s')} s | {found['report_html']['load']} |",
    ]
    pdf = found["report_pdf"]
    if "error" in pdf:
        lines.append(f"| `insole report` of a 5-minute walk, with `--pdf` | not measured: {pdf['error']} | | | |")
    else:
        lines.append(f"| `insole report` of a 5-minute walk, with `--pdf` | {_fmt_process(pdf)} | | "
                     f"{_verdict(pdf['median_s'], 'report_pdf_s')} s | {pdf['load']} |")
    lines += [
        f"| `insole dashboard` of a 5-minute walk | {_fmt_process(found['dashboard'])} | | "
        f"{_verdict(found['dashboard']['median_s'], 'dashboard_s')} s | {found['dashboard']['load']} |",
        "",
        f"**Where the hour's time goes** (each step of `insole analyze hour.parquet --json OUT` one after the "
        f"other in one process, median of {RUNS}; in the command the SHA-256 runs on a second thread beside the "
        f"analysis, and the process ends without the interpreter's teardown; load {found['phases']['load']}):",
        "",
        "| step | wall | CPU |",
        "|---|---|---|",
        *(f"| {name} | {wall:.3f} s | {cpu:.3f} s |" for name, wall, cpu in found["phases"]["steps"]),
        "",
        "**Growth with duration** (`insole analyze FILE --json OUT`, whole process; the core in its own process):",
        "",
        "| recording | Parquet | whole process | peak resident | JSON | core (warm) | core traced peak | "
        "numpy floor | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, label in (("ten", "10 min"), ("hour", "1 h"), ("eight", "8 h")):
        entry, c = cli[key], core[key]
        lines.append(
            f"| {label} | {found['parquet_mb'][key]:.0f} MB | {entry['median_s']:.2f} s ({_runs(entry['runs'])}; "
            f"CPU {entry['cpu_s']:.2f} s) | "
            f"{entry['rss_mib']:.0f} MiB | {entry['json_mb']:.2f} MB | {statistics.median(c['walls']):.2f} s | "
            f"{c['traced_mib']:.0f} MiB (recording {c['recording_mib']:.0f} MiB) | "
            f"{statistics.median(c['floor']):.3f} s | {entry['load']} |")
    note = _MEMORY_NOTE.format(hour_mib=hour["rss_mib"], eight_mib=eight["rss_mib"],
                               values_mib=core["eight"]["recording_mib"])
    lines += ["", *(" ".join(line.split()) for line in note.split("\n"))]  # the joined lines' indents: one space
    return "\n".join(lines) + "\n"


# What the whole-process peak is made of (issue 19, Deliver 4): prose of this section, with the run's figures
# filled in.
_MEMORY_NOTE = """\
**Where the memory goes: the streamed analysis.** `insole analyze FILE --json OUT` of one of our Parquet \
recordings, without `--report` or `--dashboard` (which read the samples afterwards), does not load the \
recording: the analysis (insole/analysis/_streamed.py) reads the file while it works, in two passes. Two feet \
whose sensor readings are 64 MiB or less each (up to about 2.9 h of 16 sensors at 100 Hz: the hour) go side by \
side, each on a thread and a file handle of its own; longer recordings one foot at a time (so a recording just \
under that line peaks higher than one just over it: measured once, outside this benchmark, 429 MiB at 2.89 h \
against 389 MiB at 4 h, both under the 8 h figure). First pass: the foot's \
sensor columns are read whole and the sensor checks, the total force and event detection run on them with the \
code of the whole-array path, while a third thread imports pandas and the later stages (insole/analysis/\
_entry.py: the first pass needs neither); each sensor's zero offset comes from up to 20,000 mid-swing samples \
(one foot at a time, the first foot keeps its readings for this; a later foot drops them and reads those samples \
again on a second thread). After it, each foot keeps one value per sample (time, validity, total force: about \
25 bytes a sample). Second pass, once both feet's timing and the body weight are known: each foot's columns are \
read again a row group at a time (the next one read ahead), cut into stretches of about 65,536 samples that end \
where a stance starts, the per-sensor loads rebuilt for the stretch with the same float32 operations, and each \
stance measured from its own samples; every average over stances is taken once over all of them. The tables \
are those of `analyze(load(path))` bit for bit (tests/test_streamed_analysis.py forces row groups of 50 to \
150,000 rows on real and simulated recordings; the 8 h file of this benchmark was checked once too, outside \
it). An hour stored in one row group keeps its readings instead of reading them again; files of other writers \
are loaded whole, as before. The command sets glibc's mmap threshold to 4 MiB (Linux), so that freed arrays of \
tens of MB leave the process instead of staying resident. Peak in this run: {hour_mib:.0f} MiB at 1 h, \
{eight_mib:.0f} MiB at 8 h (the 8 h recording's pressures alone are {values_mib:.0f} MiB). What still grows with \
duration: the one-value-per-sample arrays of both feet (25 bytes a sample per foot: by that count some 140 MiB \
at 8 h), the result tables, and during its first pass one foot's sensor readings (16 x 4 bytes a sample: 184 MB \
at 8 h); checking the sensors one at a time and detecting events in overlapping chunks would flatten those too. \
The price is CPU: each foot's sensor columns are decoded two or three times."""


def run() -> str:
    with tempfile.TemporaryDirectory() as folder:
        return render(bench(Path(folder)))


if __name__ == "__main__":
    print(run())

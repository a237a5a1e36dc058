"""Benchmark: reading a Moticon OpenGo text export, from 10 minutes to 8 hours, beside its floors.

    .venv/bin/python benchmarks/bench_importers.py        # prints the markdown section
    .venv/bin/python benchmarks/run_all.py bench_importers

``run()`` returns the markdown section that ``benchmarks/run_all.py`` puts in
docs/benchmarks.md. The exports are the real 17.5 s export of the shared data
(``moticon-opengo/230927_102114.txt``) repeated, its time column continued
(same columns, same text form), to 10 minutes, 1 hour and 8 hours. Each row
is a whole process (a fresh interpreter, bytecode cached, as after an
install), its wall time and its own peak resident memory (VmHWM at exit):

* ours: ``insole info FILE --json`` (it reads the whole export: every sample,
  gaps, valid fraction, the software's step events, the file's SHA-256);
* the careful reader alone (the whole text in memory, pandas' C parser over
  every column: how every export was read before the streamed reader); it
  still reads any file the streamed reader hands over (a word, ``nan``...);
* the floor: ``pyarrow.csv.read_csv`` of the same file (Arrow's multi-threaded
  C parser, every column as float64, nothing checked), in its own process;
* the vendor's reader, ``moticon-opengo`` ``Measurement(path)``, for 10
  minutes (1 hour is in the acceptance table of bench_analysis).

The 8-hour export is read by ours only (the careful reader needs about ten
times the file's size). The machine is shared: the load average is printed.
"""

from __future__ import annotations

import os
import resource
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
DURATIONS = (("10 min", 600.0), ("1 h", 3600.0), ("8 h", 8 * 3600.0))

_PEAK_HOOK = """
import atexit, sys
def _peak():
    with open("/proc/self/status") as status:
        sys.stderr.write("\\n" + [l for l in status if l.startswith("VmHWM:")][0])
atexit.register(_peak)
"""
_OURS = _PEAK_HOOK + "from insole._cli import main\nsys.argv = ['insole', *sys.argv[1:]]\nsys.exit(main())\n"
_CAREFUL = _PEAK_HOOK + """
from insole.io._importers import _moticon
_moticon._load_plain = _moticon._load_careful  # the careful whole-text reader for every file
from insole._cli import main
sys.argv = ['insole', *sys.argv[1:]]
sys.exit(main())
"""
_FLOOR = _PEAK_HOOK + """
import time
import pyarrow as pa, pyarrow.csv as pacsv
path = sys.argv[1]
with open(path, "rb") as handle:
    header = 0
    for line in handle:
        if not line.startswith(b"#"):
            break
        header += 1
        names = line.decode("utf-8").lstrip("#").strip("\\n").split("\\t")
started = time.perf_counter()
table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(skip_rows=header, column_names=[str(i) for i in
                       range(len(names))]), parse_options=pacsv.ParseOptions(delimiter="\\t", quote_char=False),
                       convert_options=pacsv.ConvertOptions(column_types={str(i): pa.float64() for i in
                       range(len(names))}, null_values=[""]))
print(time.perf_counter() - started)
"""
_OPENGO = _PEAK_HOOK + """
from moticon_opengo.txt_export import Measurement
Measurement(sys.argv[1])
"""


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def _env(pycache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _child(code: str, args: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """Wall time (s), peak resident memory (MiB), standard output and CPU time (s) of ``python -c code args``.

    The CPU time is the child's user + system time over all its threads (on a busy machine the wall time
    also counts the time the child waited for a core; its CPU time does not).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                            check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{args} exited {result.returncode}: {result.stderr[-800:]}")
    peak_kib = int(result.stderr.strip().splitlines()[-1].split()[1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, peak_kib / 1024, result.stdout, cpu


def _repeat(code: str, args: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    _child(code, args, env)  # warm-up: bytecode cache, page cache
    results = [_child(code, args, env) for _ in range(runs)]
    walls = [r[0] for r in results]
    return {"median_s": statistics.median(walls), "best_s": min(walls), "runs": runs,
            "rss_mib": max(r[1] for r in results), "stdout": results[-1][2], "load": _load(),
            "cpu_s": statistics.median(r[3] for r in results)}


def moticon_export(duration_s: float, out: Path) -> Path:
    """The real export repeated to ``duration_s``, its time column continued (two decimals, as written)."""
    lines = MOTICON.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    rows = [line.split("\t", 1) for line in lines if line and not line.startswith("#")]
    times = [float(t) for t, _ in rows]
    span = times[-1] - times[0] + (times[1] - times[0])
    copies = int(duration_s // span) + 1
    header = [f"# Duration: {int(copies * span // 60):02d}:{copies * span % 60:06.3f}" if h.startswith("# Duration")
              else h for h in header]
    with out.open("w", encoding="utf-8") as handle:
        handle.write("\n".join(header) + "\n")
        for k in range(copies):
            shift = k * span
            handle.write("\n".join(f"{t + shift:.2f}\t{rest}" for t, (_, rest) in zip(times, rows)) + "\n")
    return out


def bench(folder: Path) -> dict[str, Any]:
    env = _env(folder / "pycache")
    found: dict[str, Any] = {"load_start": _load(), "rows": []}
    for label, duration_s in DURATIONS:
        path = moticon_export(duration_s, folder / f"moticon_{int(duration_s)}.txt")
        long = duration_s > 3600
        runs = 1 if long else RUNS
        row: dict[str, Any] = {"label": label, "mb": path.stat().st_size / 1e6}
        row["ours"] = _repeat(_OURS, ["info", str(path), "--json"], env, runs)
        row["careful"] = None if long else _repeat(_CAREFUL, ["info", str(path), "--json"], env, runs)
        if row["careful"] is not None and row["careful"]["stdout"] != row["ours"]["stdout"]:
            raise RuntimeError(f"{label}: insole info --json differs between the streamed and the careful reader")
        floor = _repeat(_FLOOR, [str(path)], env, runs)
        floor["parse_s"] = float(floor["stdout"])
        row["floor"] = floor
        row["opengo"] = None
        if duration_s <= 600:
            try:
                import moticon_opengo  # type: ignore[import-untyped,unused-ignore]  # noqa: F401

                row["opengo"] = _repeat(_OPENGO, [str(path)], env, 1)
            except ImportError:
                pass
        found["rows"].append(row)
        path.unlink()
    found["load_end"] = _load()
    return found


def _fmt(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "not run"
    runs = f"{entry['runs']} run" + ("s" if entry["runs"] != 1 else "")
    return f"{entry['median_s']:.2f} s (CPU {entry['cpu_s']:.2f} s; {runs}), {entry['rss_mib']:.0f} MiB"


def render(found: dict[str, Any]) -> str:
    lines = [
        "## Moticon text exports: streamed reading, growth from 10 min to 8 h (bench_importers)",
        "",
        "Whole processes (fresh interpreter, bytecode cached), median wall time with the median CPU time (user + "
        "system, all threads) in brackets, peak resident memory (VmHWM) of the worst run. Exports: the real "
        "17.5 s OpenGo export repeated (53 columns, 100 Hz). *Ours*: "
        "`insole info FILE --json`, which reads every sample, the step events and the file's SHA-256. *Careful "
        "reader*: the same command with every file read the way all exports were read before the streamed "
        "reader (whole text in memory, pandas' C parser); it still takes any file that is not plain text of "
        "numbers, and its JSON is checked identical to ours here. *Floor*: Arrow's multi-threaded C parser "
        "(`pyarrow.csv.read_csv`, every column float64, nothing checked) in its own process, with the parse "
        f"alone in brackets. Load average ({os.cpu_count()} cores) at the start {found['load_start']}, at the end "
        f"{found['load_end']}.",
        "",
        "| export | text | ours | careful reader | floor: pyarrow.csv process (parse alone) | moticon-opengo | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in found["rows"]:
        floor = row["floor"]
        opengo = _fmt(row["opengo"]) if row["opengo"] else "see bench_analysis (1 h)" if row["label"] == "1 h" else ""
        lines.append(
            f"| {row['label']} | {row['mb']:.0f} MB | {_fmt(row['ours'])} | {_fmt(row['careful'])} | "
            f"{_fmt(floor)} ({floor['parse_s']:.2f} s) | {opengo} | {row['ours']['load']} |")
    lines += [
        "",
        "Our memory grows with the recording's own arrays (258 bytes per two-foot sample: float32 pressures and "
        "IMU, float64 time, vendor channels and step codes, 714 MiB for 8 h) plus a fixed amount: the interpreter "
        "and its libraries, and two pieces of 4 MiB of text in flight with their parsed columns. The careful "
        "reader holds the whole text, its lines and every column at once (about ten times the file).",
    ]
    return "\n".join(lines) + "\n"


def run() -> str:
    with tempfile.TemporaryDirectory() as folder:
        return render(bench(Path(folder)))


if __name__ == "__main__":
    print(run())

"""Run every benchmark and write docs/benchmarks.md with the machine and the date.

Each ``benchmarks/bench_*.py`` exposes ``run() -> str``: a markdown section
with its figures. Speed lives here, not in the tests.

    make bench                       # all of them
    .venv/bin/python benchmarks/run_all.py bench_analysis   # one
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "benchmarks.md"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; Python {platform.python_version()}"


def main(argv: list[str]) -> int:
    wanted = set(argv)
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not wanted or p.stem in wanted)
    sections = []
    failed = 0
    for script in scripts:
        print(f"running {script.stem} ...", flush=True)
        spec = importlib.util.spec_from_file_location(script.stem, script)
        module = importlib.util.module_from_spec(spec)
        started = time.perf_counter()
        try:
            spec.loader.exec_module(module)
            sections.append(module.run().strip())
        except Exception:  # a broken benchmark is reported, the others still run
            failed += 1
            sections.append(f"## {script.stem}\n\nFAILED:\n\n```\n{traceback.format_exc()}\n```")
        print(f"  {script.stem}: {time.perf_counter() - started:.1f} s", flush=True)
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.\n\n"
        f"Machine: {_machine()}.\n\n"
        "Each section is produced by the script named in it (`benchmarks/`); re-run `make bench` to refresh.\n"
    )
    OUT.write_text(header + "\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {OUT}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run every benchmark and write docs/benchmarks.md with the machine and the date.

Each ``benchmarks/bench_*.py`` exposes ``run() -> str``: a markdown section
with its figures. Speed lives here, not in the tests.

    make bench                       # all of them: the whole file anew
    .venv/bin/python benchmarks/run_all.py bench_analysis   # one: its section replaced, the rest kept

Each section is preceded by a ``<!-- section: bench_name -->`` marker, which
is how a partial run finds the section it replaces.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import importlib.util
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "benchmarks.md"
# What every reader should know first (rewritten on every run, a whole or a partial one).
_INTRO = (
    "Each section is produced by the script named in it (`benchmarks/`); re-run `make bench` to refresh.\n\n"
    "How to read the figures: each is measured beside its anchor in the same run (the vendor's own reader; "
    "`pandas.read_parquet` or Arrow's CSV parser as the floor for loading; a bare numpy pass over the same "
    "arrays as the floor for the analysis), with the load average of the machine at the time. The machine "
    "is shared by several people: when its load is above its core count, wall times include the neighbours' "
    "work, so compare a figure with its anchor of the same run rather than with another run's.\n"
)


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
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores{memory}; {system}; Python {platform.python_version()}"


def _code_version() -> str:
    """The commit the figures were measured on, and whether files differed from it (several people edit at once)."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "code: not a git checkout"
    # the benchmarks' own output (docs/benchmarks.md, rewritten section by section) is not a change of the code
    changed = [line for line in git("status", "--porcelain", "--untracked-files=no").splitlines()
               if line.strip() and line[3:].strip() != "docs/benchmarks.md"]
    return f"code: commit {commit}" + (f" with {len(changed)} file(s) changed since" if changed else "")


def _marker(stem: str) -> str:
    return f"<!-- section: {stem} -->"


def _splice(text: str, stem: str, section: str) -> str:
    """``text`` with the section of ``stem`` (from its marker to the next marker or the end) replaced."""
    marker = _marker(stem)
    start = text.find(marker)
    if start < 0:  # a benchmark new to the file: appended
        return text.rstrip("\n") + "\n\n" + section + "\n"
    end = text.find("<!-- section: ", start + len(marker))
    return text[:start] + section + ("\n\n" + text[end:] if end >= 0 else "\n")


def main(argv: list[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        return 0
    known = {p.stem: p for p in HERE.glob("bench_*.py")}
    unknown = sorted(set(argv) - set(known))
    if unknown:
        print(f"run_all.py: no benchmark {', '.join(unknown)} (known: {', '.join(sorted(known))})", file=sys.stderr)
        return 2
    wanted = set(argv)
    scripts = sorted(p for p in known.values() if not wanted or p.stem in wanted)
    sections = []
    failed = 0
    for script in scripts:
        print(f"running {script.stem} ...", flush=True)
        spec = importlib.util.spec_from_file_location(script.stem, script)
        assert spec is not None and spec.loader is not None  # a .py file always has one
        module = importlib.util.module_from_spec(spec)
        started = time.perf_counter()
        try:
            spec.loader.exec_module(module)
            body = module.run().strip()
        except Exception:  # a broken benchmark is reported, the others still run
            failed += 1
            body = f"## {script.stem}\n\nFAILED:\n\n```\n{traceback.format_exc()}\n```"
        sections.append((script.stem, f"{_marker(script.stem)}\n{body}"))
        print(f"  {script.stem}: {time.perf_counter() - started:.1f} s", flush=True)
    dated = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.\n\n"
        f"Machine: {_machine()}; {_code_version()}.\n\n"
    )
    header = dated + _INTRO
    # Several people may re-run their own sections at once: the file is read, spliced and replaced under a
    # lock (on the benchmarks folder), so that no one's section is lost to another's write.
    folder = os.open(HERE, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        if wanted and OUT.exists():
            text = _with_intro(OUT.read_text())
            stamp = f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
            for stem, section in sections:
                note = (f"\n\n(This section re-run alone with `run_all.py {stem}` on {stamp}; machine: "
                        f"{_machine()}; {_code_version()}.)")
                text = _splice(text, stem, section + note)
            _replace(OUT, text)
            print(f"updated {', '.join(stem for stem, _ in sections)} in {OUT}")
        else:
            _replace(OUT, header + "\n" + "\n\n".join(section for _, section in sections) + "\n")
            print(f"wrote {OUT}")
    finally:
        os.close(folder)  # and the lock with it
    return 1 if failed else 0


def _with_intro(text: str) -> str:
    """``text`` with the intro (from "Each section is produced" to the first section) as it reads today."""
    start = text.find("Each section is produced")
    first = text.find("<!-- section: ")
    if start < 0 or first < start:
        return text
    return text[:start] + _INTRO + "\n" + text[first:]


def _replace(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (a temporary file beside it, renamed over it)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

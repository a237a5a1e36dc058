"""The clinic app's pages on a large clinic: 1,000 patients with 5 visits each (issue 21's target: <= 300 ms).

The clinic is generated (``dashboards.make_demo_clinic``: every visit with an
analysed 10-metre walk's key numbers, so each patient's timeline is full),
then served by ``serve_clinic`` on a loopback port and asked for, over HTTP
as a browser does:

* the patient list (first page of 50, with each patient's visit count and
  last visit),
* a search (a pseudonym fragment that matches a handful of patients, and one
  that matches every patient: the list's worst case),
* a patient's page with their timeline (5 visits, every key number, each
  change judged against its MDC95).

Each is timed from request to the last byte of the page (server render and
the loopback transfer), ``_REPEATS`` times after one warm-up request; the
table gives the median, the 95th percentile and the worst. The generation is
not timed.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from dashboards import ClinicStore, make_demo_clinic, serve_clinic

_PATIENTS = 1000
_VISITS = 5
_REPEATS = 30
_TARGET_MS = 300.0


async def _measure(folder: Path) -> list[tuple[str, str, list[float], int]]:
    with ClinicStore.open(folder, create=False) as store:
        rows = store.patients(limit=1)
        some = store.patients("", limit=_PATIENTS)
    middle = some[len(some) // 2]
    fragment = middle.pseudonym[:-1]  # e.g. DEMO-050: the ten patients 0500-0509
    stop = asyncio.Event()
    ready: list[str] = []
    task = asyncio.create_task(serve_clinic(folder, port=0, stop=stop, on_ready=lambda url, _: ready.append(url)))
    while not ready:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    base = ready[0].rstrip("/")
    pages = [
        ("patient list (page 1 of 50 per page)", "/patients"),
        (f"search {fragment!r}", f"/patients?q={fragment}"),
        ("search 'DEMO' (matches every patient)", "/patients?q=DEMO"),
        (f"timeline: patient {middle.pseudonym} ({_VISITS} visits)", f"/patients/{middle.id}"),
        (f"timeline: patient {rows[0].pseudonym} ({_VISITS} visits)", f"/patients/{rows[0].id}"),
    ]
    results = []
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            for name, path in pages:
                times = []
                size = 0
                for attempt in range(_REPEATS + 1):
                    started = time.perf_counter()
                    async with client.get(base + path) as response:
                        body = await response.read()
                        assert response.status == 200, (path, response.status)
                    if attempt:  # the first is the warm-up (templates compiled, caches filled)
                        times.append(1000.0 * (time.perf_counter() - started))
                    size = len(body)
                results.append((name, path, times, size))
    finally:
        stop.set()
        await task
    return results


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="insole-bench-clinic-") as work:
        folder = Path(work) / "clinic"
        started = time.perf_counter()
        make_demo_clinic(folder, _PATIENTS, _VISITS, 0)
        generated_s = time.perf_counter() - started
        results = asyncio.run(_measure(folder))
    rows = []
    for name, path, times, size in results:
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        verdict = "met" if max(times) <= _TARGET_MS else ("median met" if statistics.median(times) <= _TARGET_MS
                                                        else "missed")
        rows.append(f"| {name} | `{path}` | {size / 1024:.0f} KiB | {statistics.median(times):.0f} ms | {p95:.0f} ms "
                    f"| {max(times):.0f} ms | {verdict} |")
    return "\n".join([
        "## Clinic app: pages of a clinic of 1,000 patients x 5 visits",
        "",
        f"`insole clinic`'s pages over HTTP on a loopback port (`serve_clinic`), a generated clinic of {_PATIENTS:,} "
        f"patients with {_VISITS} visits each (`make_demo_clinic`, {generated_s:.0f} s to generate, not timed), each "
        f"visit's 10-metre walk with its key numbers. Request to last byte, {_REPEATS} requests after one warm-up. "
        f"Target: {_TARGET_MS:.0f} ms each (issue 21).",
        "",
        "| page | path | size | median | p95 | worst | target |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])


if __name__ == "__main__":
    print(run())

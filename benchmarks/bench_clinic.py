"""Clinic tests: how long the result of each test takes once the recording is saved.

The guided capture analyses the saved recording the moment the test ends, so
this is the wait between "the patient sat down" and the result on the
screen. Simulated patients (``insole.simulate._clinic``), 100 Hz, both feet
with IMU; the median of five runs per test, analysis only (the simulation
is not timed).
"""

from __future__ import annotations

import statistics
import time

from insole.clinic import TestInputs, run_test
from insole.simulate import simulate_clinic_test

_RUNS = 5


def _inputs(test: str, answer: dict) -> TestInputs:
    given = answer["inputs"]
    if test == "10mwt":
        return TestInputs(walkway_m=given["walkway_m"], timed_m=given["timed_m"])
    if test == "6mwt":
        return TestInputs(course_m=given["course_m"])
    return TestInputs()


def run() -> str:
    rows = []
    for test in ("10mwt", "tug", "balance", "6mwt"):
        recording = simulate_clinic_test(test, seed=1)
        inputs = _inputs(test, recording.meta.extra["simulation"]["clinic_test"])
        times = []
        for _ in range(_RUNS):
            started = time.perf_counter()
            result = run_test(recording, test, inputs)
            times.append(time.perf_counter() - started)
        assert result.complete, result.reasons
        rows.append(f"| {test} | {recording.duration_s:.0f} s | {1000 * statistics.median(times):.0f} ms |")
    return "\n".join([
        "## Clinic tests: time to the result",
        "",
        "From the saved recording to the test result (`run_test`): phases, measures, reference comparisons. "
        f"Median of {_RUNS} runs on a simulated patient (100 Hz, both feet, IMU).",
        "",
        "| test | recording | time to the result |",
        "|---|---|---|",
        *rows,
    ])


if __name__ == "__main__":
    print(run())

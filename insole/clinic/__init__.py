"""Clinic walking tests: 10-metre walk, 6-minute walk, Timed Up and Go and standing balance.

Modules:

* ``_protocols``: the four tests as data (phases, instructions, measures, reference values with sources);
* ``_path``: position along the walkway from the order and timing of the steps;
* ``_phases``: phase detection from the loading pattern, the gait events and the gyroscope;
* ``_results``: the test results (``run_test(recording, test, inputs)``);
* ``_guided``: guided capture: a running collector session, the live phases, the result when the test ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insole._lazy import lazy_surface

if TYPE_CHECKING:
    from insole.clinic._guided import TIME_LIMIT_S, GuidedControl, GuidedTest
    from insole.clinic._path import FeetPath, feet_path
    from insole.clinic._protocols import PROTOCOLS, SOURCES, protocol
    from insole.clinic._results import MAIN_MEASURES, TESTS, TestInputs, TestResult, compare_over_time, run_test

__all__ = [
    "run_test",
    "TestInputs",
    "TestResult",
    "compare_over_time",
    "TESTS",
    "MAIN_MEASURES",
    "protocol",
    "PROTOCOLS",
    "SOURCES",
    "feet_path",
    "FeetPath",
    "GuidedTest",
    "GuidedControl",
    "TIME_LIMIT_S",
]

# Each name loads its module on first use, so importing the package is cheap.
_HOMES = {
    "run_test": "_results",
    "TestInputs": "_results",
    "TestResult": "_results",
    "compare_over_time": "_results",
    "TESTS": "_results",
    "MAIN_MEASURES": "_results",
    "protocol": "_protocols",
    "PROTOCOLS": "_protocols",
    "SOURCES": "_protocols",
    "feet_path": "_path",
    "FeetPath": "_path",
    "GuidedTest": "_guided",
    "GuidedControl": "_guided",
    "TIME_LIMIT_S": "_guided",
}


__getattr__, __dir__ = lazy_surface(__name__, _HOMES)

"""Walking with a known answer: two-foot recordings for any layout, and simulated clinic tests.

::

    from insole.simulate import SimulationParams, simulate

    recording = simulate(SimulationParams(pattern="overpronation", duration_s=60, seed=1))
    recording.meta.extra["simulation"]   # what the generator placed: events, loads, shares

``simulate_footswitch(FootswitchParams(failure=...))`` gives a gaitndd-like
foot-switch walk with one of the failure modes of pathological walking
(``FOOTSWITCH_FAILURES``), for the event detector's known-answer tests.

Same parameters and seed give the same samples. ``docs/simulator.md`` says what
each stored value means and where the model's numbers come from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insole._lazy import lazy_surface

if TYPE_CHECKING:
    from insole.simulate._clinic import CLINIC_TESTS, FAST_PACE, simulate_clinic_test
    from insole.simulate._footswitch import FOOTSWITCH_FAILURES, FootswitchParams, simulate_footswitch
    from insole.simulate._gait import Activity
    from insole.simulate._simulator import (
        PATTERN_DESCRIPTIONS,
        PATTERNS,
        SIMULATOR_SOURCE,
        SimulationParams,
        sample_source,
        simulate,
    )

__all__ = [
    "simulate",
    "SimulationParams",
    "PATTERNS",
    "PATTERN_DESCRIPTIONS",
    "SIMULATOR_SOURCE",
    "Activity",
    "sample_source",
    "simulate_clinic_test",
    "CLINIC_TESTS",
    "FAST_PACE",
    "simulate_footswitch",
    "FootswitchParams",
    "FOOTSWITCH_FAILURES",
]

# Each name loads its module on first use, so importing the package is cheap.
_HOMES = {
    "simulate": "_simulator",
    "SimulationParams": "_simulator",
    "PATTERNS": "_patterns",
    "PATTERN_DESCRIPTIONS": "_patterns",
    "SIMULATOR_SOURCE": "_simulator",
    "Activity": "_gait",
    "sample_source": "_simulator",
    "simulate_clinic_test": "_clinic",
    "CLINIC_TESTS": "_clinic",
    "FAST_PACE": "_clinic",
    "simulate_footswitch": "_footswitch",
    "FootswitchParams": "_footswitch",
    "FOOTSWITCH_FAILURES": "_footswitch",
}


__getattr__, __dir__ = lazy_surface(__name__, _HOMES)

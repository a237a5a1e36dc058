"""Clinic walking tests: 10-metre walk, 6-minute walk, Timed Up and Go and standing balance.

Modules:

* ``_protocols``: the four tests as data (phases, instructions, measures, reference values with sources);
* ``_path``: position along the walkway from the order and timing of the steps;
* ``_phases``: phase detection from the loading pattern, the gait events and the gyroscope;
* ``_results``: the test results (``run_test(recording, test, inputs)``);
* ``_guided``: guided capture: a running collector session, the live phases, the result when the test ends.
"""

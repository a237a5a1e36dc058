"""The emulated insole's pure parts: the fault-spec syntax and the array source.

No BLE here (no ``ble`` marker): these run in the fast test group too.
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import pytest

from firmware_protocol._emulator import source_from_arrays
from firmware_protocol._faults import FaultPlan, parse_fault_spec


def test_fault_spec_syntax_gives_per_foot_plans() -> None:
    plans = parse_fault_spec("drop=0.05,linkloss=10s;30s,drift_left=300,offset_left=2,low_battery_right,seed=4")
    assert plans["left"] == FaultPlan(
        drop_rate=0.05, link_loss_at_s=(10.0, 30.0), clock_drift_ppm=300.0, clock_offset_s=2.0, seed=4
    )
    assert plans["right"] == FaultPlan(drop_rate=0.05, link_loss_at_s=(10.0, 30.0), low_battery=True, seed=4)
    plans = parse_fault_spec("drop_seq_left=3;5,corrupt_seq=7,overrun_seq_right=9,burst=4,linkloss=1500ms")
    assert plans["left"].drop_sequences == {3, 5} and plans["right"].drop_sequences == frozenset()
    assert plans["right"].overrun_sequences == {9} and plans["left"].corrupt_sequences == {7}
    assert plans["left"].burst_packets == 4 and plans["right"].link_loss_at_s == (1.5,)
    assert parse_fault_spec("") == {"left": FaultPlan(), "right": FaultPlan()}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("jitter=3", "unknown fault 'jitter=3'"),
        ("drop=1.5", "drop_rate=1.5: must be in [0, 1)"),
        ("drop", "fault 'drop' needs a value"),
        ("linkloss=soon", "fault 'linkloss=soon'"),
        ("offset_left=-1", "clock_offset_s=-1.0: must be >= 0 s"),
    ],
)
def test_fault_spec_errors_name_the_item(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_fault_spec(spec)


def test_insole_emulate_rejects_a_bad_fault_spec_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    from insole._cli import _emulate

    # Only this command's parser: building the whole CLI imports every command.
    parser = argparse.ArgumentParser(prog="insole")
    _emulate.add_parser(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["emulate", "--faults", "drop=2"])
    assert exit_info.value.code == 2
    error_lines = capsys.readouterr().err.strip().splitlines()
    assert error_lines[-1] == (
        "insole emulate: error: argument --faults: faults for the left insole: drop_rate=2.0: must be in [0, 1)"
    )


def test_array_source_replays_rows_in_order_and_ends() -> None:
    pressure = np.arange(5 * 16, dtype=float).reshape(5, 16)
    pressure[2, 3] = np.nan
    source = source_from_arrays(pressure)
    first, imu = source(3, 100)
    np.testing.assert_array_equal(first, pressure[:3])  # NaN stays NaN here; the firmware sends 0
    assert imu is None
    rest, _ = source(3, 100)
    np.testing.assert_array_equal(rest, pressure[3:])  # only 2 rows left: the stream will end
    exhausted, _ = source(3, 100)
    assert exhausted.shape == (0, 16)
    looping = source_from_arrays(pressure[:2], loop=True)
    np.testing.assert_array_equal(looping(5, 100)[0], pressure[[0, 1, 0, 1, 0]])

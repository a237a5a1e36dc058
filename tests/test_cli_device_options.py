"""The capture commands' shared options (``insole/_cli/_device_options.py``, ``_arguments.py``) and start-up imports.

``record``, ``live`` and ``test`` take the same insole options and check the
emulation options with one function; each keeps its own wording where the
commands differ. Start-up: building a command's parser must not import the
analysis (scipy.signal, scipy.stats, pandas through it), Dask, bleak, bumble or
the dashboards; those load when a command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from insole._cli import EXIT_BAD_INPUT, EXIT_INTERRUPTED, UsageError, build_parser, main
from insole._cli._arguments import body_mass_kg, positive_float, samples_per_packet
from insole._cli._device_options import (
    abandoned,
    capture_setup,
    emulation_faults,
    parquet_out,
    stop_on_signals,
    tare_prompt,
)
from insole.simulate import PATTERNS

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "recordings" / "gaitndd_control1.parquet"


def _sub_parser(command: str) -> argparse.ArgumentParser:
    parser = build_parser(command)
    return next(a.choices for a in parser._actions if isinstance(getattr(a, "choices", None), dict))[command]


def _options(command: str) -> list[str]:
    return [a.option_strings[0] for a in _sub_parser(command)._actions if a.option_strings]


# ---------------------------------------------------------------- value checks


@pytest.mark.parametrize(
    ("check", "text", "message"),
    [
        (positive_float, "0", "'0': must be a number > 0"),
        (positive_float, "-1", "'-1': must be a number > 0"),
        (positive_float, "nan", "'nan': must be a number > 0"),
        (positive_float, "inf", "'inf': must be a number > 0"),
        (positive_float, "ten", "'ten': must be a number > 0"),
        (body_mass_kg, "0", "'0': must be a number > 0"),
        (body_mass_kg, "500", "'500': a body mass in kg, below 500"),
        (samples_per_packet, "0", "'0': must be an integer 1..7"),
        (samples_per_packet, "8", "'8': must be an integer 1..7"),  # 7 fill a packet without IMU (PROTOCOL.md)
        (samples_per_packet, "2.5", "'2.5': must be an integer 1..7"),
    ],
)
def test_value_checks_quote_what_was_typed(check, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as error:
        check(text)
    assert str(error.value) == message


def test_value_checks_return_the_value():
    assert positive_float("0.25") == 0.25
    assert body_mass_kg("499.5") == 499.5
    assert [samples_per_packet(str(n)) for n in (1, 7)] == [1, 7]


# ---------------------------------------------------------------- the device options, per command


def test_each_capture_command_offers_its_own_set_of_device_options_in_order():
    shared = ["--source", "--udp-port", "--udp-host", "--orphe-mode", "--orphe-rate", "--calibrate", "--left",
              "--right"]
    person = ["--subject", "--mass-kg", "--shoe-size-eu", "--condition", "--notes", "--rate", "--samples-per-packet"]
    record = _options("record")
    assert record[:record.index("--emulate")] == [
        "-h", "--out", *shared, "--only", "--duration", *person, "--imu", "--no-tare", "--yes", "--scan-timeout"]
    live = _options("live")
    assert live[:live.index("--emulate")] == [
        "-h", "--out", *shared, "--only", *person, "--imu", "--no-tare", "--scan-timeout"]
    test = _options("test")
    assert test[test.index("--out"):test.index("--emulate")] == [
        "--out", *shared, *person, "--imu", "--no-imu", "--no-tare", "--yes", "--scan-timeout"]


def test_test_leaves_the_imu_to_the_test_unless_told():
    parser = build_parser("test")
    assert parser.parse_args(["test", "tug"]).imu is None
    assert parser.parse_args(["test", "tug", "--imu"]).imu is True
    assert parser.parse_args(["test", "tug", "--no-imu"]).imu is False
    assert build_parser("record").parse_args(["record"]).imu is False


def test_capture_setup_keeps_one_foot_and_batches_two_samples_at_200_hz():
    args = build_parser("record").parse_args(["record", "--only", "right", "--rate", "200", "--right", "INSOLE-R-1A2C"])
    params, selectors = capture_setup(args)
    assert (params.sample_rate_hz, params.samples_per_packet, params.imu, params.tare) == (200, 2, False, True)
    assert list(selectors) == ["right"] and selectors["right"].name == "INSOLE-R-1A2C"
    args = build_parser("test").parse_args(["test", "tug", "--samples-per-packet", "5", "--no-tare", "--no-imu"])
    params, selectors = capture_setup(args)  # `insole test` has no --only: both feet
    assert (params.samples_per_packet, params.tare, params.imu, list(selectors)) == (5, False, False, ["left", "right"])


def test_parquet_out_appends_the_suffix_and_names_a_default(tmp_path):
    assert parquet_out(tmp_path / "walk") == tmp_path / "walk.parquet"
    assert parquet_out(tmp_path / "walk.v2") == tmp_path / "walk.v2.parquet"
    assert parquet_out(tmp_path / "walk.parquet") == tmp_path / "walk.parquet"
    default = parquet_out(None, default_stem="insole-tug")
    assert default.parent == Path(".") and default.suffix == ".parquet"
    assert default.name.startswith("insole-tug-") and len(default.stem) == len("insole-tug-YYYYMMDD-HHMMSS")


# ---------------------------------------------------------------- emulation options checked together


def _args(command: str, *argv: str) -> argparse.Namespace:
    return build_parser(command).parse_args([command, *argv])


@pytest.mark.parametrize(
    ("command", "argv", "message"),
    [
        ("record", ["--speed", "2"], "--faults and --speed need --emulate"),
        ("live", ["--faults", "drop=0.1"], "--faults needs --emulate"),
        ("test", ["tug", "--stops-midway"], "--faults, --speed and --stops-midway need --emulate"),
        ("record", ["--emulate", "--faults", "drop=2"],
         "--faults: faults for the left insole: drop_rate=2.0: must be in [0, 1)"),
        ("record", ["--emulate", "--pattern", "moonwalk"],
         f"unknown pattern 'moonwalk'; choose from synthetic, {', '.join(PATTERNS)}"),
        # a simulated patient walks a gait pattern; the placeholder signal is not offered
        ("test", ["tug", "--emulate", "--pattern", "synthetic"],
         f"unknown pattern 'synthetic'; choose from {', '.join(PATTERNS)}"),
    ],
)
def test_bad_emulation_options_give_one_line_and_exit_2(capsys, command, argv, message):
    assert main([command, *argv]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == f"insole {command}: error: {message}\n"


def test_emulation_faults_parses_the_spec_per_foot():
    faults = emulation_faults(_args("record", "--emulate", "--faults", "drop=0.05,drift_left=300"),
                              emulate_only=("--faults", "--speed"), synthetic=True)
    assert faults["left"].drop_rate == faults["right"].drop_rate == 0.05
    assert (faults["left"].clock_drift_ppm, faults["right"].clock_drift_ppm) == (300.0, 0.0)
    assert emulation_faults(_args("record", "--emulate", "--pattern", "synthetic"),
                            emulate_only=("--faults", "--speed"), synthetic=True) is None
    # live paces a replay with --speed, so only --faults needs --emulate there
    assert emulation_faults(_args("live", "--speed", "2"), emulate_only=("--faults",), synthetic=True) is None
    with pytest.raises(UsageError):
        emulation_faults(_args("live", "--emulate", "--pattern", "synthetic"), emulate_only=("--faults",),
                         synthetic=False)


# ---------------------------------------------------------------- zeroing and signals


def test_tare_prompt_only_says_what_happens_when_nobody_can_press_enter(capsys):
    assert tare_prompt(_args("record", "--no-tare"), wearer="the wearer") is None
    prompt = tare_prompt(_args("record", "--emulate"), wearer="the wearer")
    asyncio.run(prompt())
    assert capsys.readouterr().out == "Zeroing the insoles (feet unloaded) ...\n"


def test_first_signal_stops_the_capture_the_second_abandons_it():
    stopped: list[str] = []

    async def capture() -> str:
        with stop_on_signals(stopped.append) as interrupts:
            os.kill(os.getpid(), signal.SIGINT)
            while interrupts["count"] < 1:
                await asyncio.sleep(0.01)
            assert stopped == ["Ctrl-C"]  # stopping is asked for; the capture goes on writing
            os.kill(os.getpid(), signal.SIGTERM)
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                return f"cancelled after {interrupts['count']} signals"
        return "not cancelled"

    assert asyncio.run(capture()) == "cancelled after 2 signals"
    assert stopped == ["Ctrl-C"]


def test_abandoned_names_the_stream_and_how_to_recover_it(capsys, tmp_path):
    stream = tmp_path / "walk.arrows"
    assert abandoned("record", stream) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == (
        f"insole record: abandoned; the capture so far is in {stream} (run 'insole recover {stream}')\n")


# ---------------------------------------------------------------- start-up imports

_HEAVY_FOR_ANY_PARSER = ("insole.analysis._pipeline", "scipy.signal", "scipy.stats", "dask", "distributed",
                         "insole.batch", "bleak", "bumble", "dashboards", "plotly", "insole.capture._session")


def _imported_by(*argv: str) -> set[str]:
    """The modules ``insole ARGV`` has imported when it is done (run in a fresh interpreter)."""
    code = (
        "import json, sys\n"
        "from insole._cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    return set(json.loads(result.stderr.splitlines()[-1]))


def _imported_by_building_every_parser() -> set[str]:
    """The modules that building the parser of every command imports (in a fresh interpreter)."""
    code = (
        "import json, sys\n"
        "from insole._cli import build_parser\n"
        "build_parser()\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    return set(json.loads(result.stderr.splitlines()[-1]))


def test_every_commands_parser_imports_no_analysis_dask_ble_or_dashboards():
    modules = _imported_by_building_every_parser()
    assert "insole._cli._test" in modules and "insole._cli._batch" in modules  # every command's parser was built
    assert not modules & {"scipy", "pandas", *_HEAVY_FOR_ANY_PARSER}


def test_insole_help_lists_the_commands_without_building_their_parsers():
    modules = _imported_by("--help")
    assert not [m for m in modules if m.startswith("insole._cli._") and m != "insole._cli._arguments"]
    assert not modules & {"scipy", "pandas", "pyarrow", *_HEAVY_FOR_ANY_PARSER}


@pytest.mark.parametrize("command", ["record", "scan", "test", "live"])
def test_capture_commands_help_imports_no_scipy(command):
    modules = _imported_by(command, "--help")
    assert f"insole._cli._{command}" in modules and "insole._cli._info" not in modules  # only its own command
    assert not modules & {"scipy", "pandas", *_HEAVY_FOR_ANY_PARSER}


def test_info_reads_a_recording_without_the_analysis():
    modules = _imported_by("info", str(SAMPLE), "--json")
    assert "insole.io._format" in modules
    assert not modules & {"scipy", *_HEAVY_FOR_ANY_PARSER}

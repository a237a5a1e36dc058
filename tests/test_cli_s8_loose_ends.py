"""Issue 19, the command line's loose ends a new user found (task S8): each test failed before its fix.

* two outputs of ``insole analyze`` naming one place are refused before any work, the tables folder included;
* a file forced as ``--format parquet`` that is not our Parquet is refused by ``analyze`` as ``info`` refuses it;
* each command's ``--help`` imports neither numpy nor pyarrow (the format names, layouts and emulator rates are
  written out);
* ``insole info`` aligns "right device" with the other keys;
* a MemoryError is one line and exit 1, never a traceback.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from _data import missing_reason, shared_data_dir
from test_cli_device_options import _imported_by

import insole
from insole._cli import EXIT_BAD_INPUT, EXIT_FAILURE, main
from insole._cli._arguments import FORMAT_NAMES
from insole.simulate import SimulationParams, simulate

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("s8") / "walk.parquet"
    insole.write_parquet(simulate(SimulationParams(duration_s=12.0, seed=5)), path)
    return path


def _one_line_refusal(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = EXIT_BAD_INPUT) -> str:
    result = main(argv)
    captured = capsys.readouterr()
    assert result == code, captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


# ---------------------------------------------------------------- 1. two outputs, one place


@pytest.mark.parametrize("flag", ["--json", "--report", "--dashboard"])
def test_a_file_output_and_the_tables_folder_of_one_name_are_refused_before_any_work(
        walk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str) -> None:
    same = tmp_path / "o1.json"
    line = _one_line_refusal(capsys, ["analyze", str(walk), flag, str(same), "--tables", str(same)])
    assert line == f"insole analyze: error: {same}: is named for two outputs of this command; give each its own file"
    assert list(tmp_path.iterdir()) == []  # no tables folder, no file: nothing was analysed


@pytest.mark.parametrize("name", ["tables.json", "summary.parquet", "strides.parquet"])
def test_a_file_output_named_as_one_of_the_tables_inside_the_folder_is_refused(
        walk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()  # an empty folder from an earlier try (a missing one is refused for that already)
    line = _one_line_refusal(capsys, ["analyze", str(walk), "--json", str(folder / name), "--tables", str(folder)])
    assert line.endswith("is named for two outputs of this command; give each its own file"), line
    assert list(folder.iterdir()) == []


def test_every_pair_of_analyze_outputs_of_one_name_is_refused(
        walk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flags = ("--json", "--tables", "--report", "--dashboard")
    for i, first in enumerate(flags):
        for second in flags[i + 1:]:
            same = tmp_path / "same.out"
            line = _one_line_refusal(capsys, ["analyze", str(walk), first, str(same), second, str(same)])
            assert line.endswith("is named for two outputs of this command; give each its own file"), (first, second)
            assert not same.exists(), (first, second)


def test_a_json_file_beside_the_tables_folder_is_written(
        walk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # not a false refusal: tables.json beside (not inside) the folder is another file
    assert main(["analyze", str(walk), "--json", str(tmp_path / "tables.json"), "--tables",
                 str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert (tmp_path / "tables.json").is_file() and (tmp_path / "out" / "tables.json").is_file()


# ---------------------------------------------------------------- 2. a forced format holds


def test_a_text_file_forced_as_parquet_is_refused_by_analyze_as_by_info(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "walk.txt"  # a gaitpdb-like text file: columns of numbers, which detection takes as gaitpdb
    text.write_text("".join(f"{i * 0.01:.2f}" + "\t10.0" * 18 + "\n" for i in range(300)))
    assert insole.io.detect_format(text) == "gaitpdb"
    info_line = _one_line_refusal(capsys, ["info", str(text), "--format", "parquet"])
    out = tmp_path / "x.json"
    analyze_line = _one_line_refusal(capsys, ["analyze", str(text), "--format", "parquet", "--json", str(out)])
    assert "not a readable Parquet file" in info_line
    assert analyze_line.removeprefix("insole analyze: ") == info_line.removeprefix("insole info: ")
    assert not out.exists()


@pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))
def test_the_new_users_gaitpdb_walk_forced_as_parquet_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    walk_txt = shared_data_dir() / "gaitpdb-cohort" / "JuPt07_01.txt"
    if not walk_txt.is_file():
        pytest.skip(f"{walk_txt} is not in the shared data")
    info_line = _one_line_refusal(capsys, ["info", str(walk_txt), "--format", "parquet"])
    analyze_line = _one_line_refusal(capsys, ["analyze", str(walk_txt), "--format", "parquet", "--json",
                                              str(tmp_path / "x.json")])
    assert analyze_line.removeprefix("insole analyze: ") == info_line.removeprefix("insole info: ")


def test_our_parquet_forced_as_parquet_is_analysed(walk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(walk), "--format", "parquet", "--json", "-"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["provenance"]["input"]["duration_s"] == pytest.approx(12.0, abs=0.01)  # one 100 Hz sample
    assert document["provenance"]["input"]["sides"] == ["left", "right"]


# ---------------------------------------------------------------- 4. --help imports no reader


def test_the_written_out_format_names_are_the_readers_formats() -> None:
    assert list(FORMAT_NAMES) == sorted(insole.io.formats())


def test_the_written_out_layout_names_are_the_builtin_layouts() -> None:
    from insole import builtin_layouts
    from insole._cli._simulate import LAYOUT_NAMES

    assert LAYOUT_NAMES == tuple(builtin_layouts())


def test_the_written_out_emulator_rates_are_the_firmwares() -> None:
    from firmware_protocol import SAMPLE_RATES_HZ
    from insole._cli._emulate import RATE_CHOICES_HZ

    assert RATE_CHOICES_HZ == SAMPLE_RATES_HZ




@pytest.mark.parametrize("command", ["info", "analyze", "convert", "export", "report", "dashboard", "simulate",
                                     "emulate"])
def test_a_commands_help_imports_neither_numpy_nor_pyarrow(command: str) -> None:
    modules = _imported_by(command, "--help")
    assert f"insole._cli._{command}" in modules  # its parser was built
    assert not modules & {"numpy", "pyarrow", "pandas", "scipy"}


def test_a_forced_format_is_still_checked_by_name(walk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["info", str(walk), "--format", "parquett"])
    assert stopped.value.code == 2
    assert "invalid choice: 'parquett'" in capsys.readouterr().err


# ---------------------------------------------------------------- 6. the aligned block of insole info


def test_info_aligns_both_devices_with_the_other_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = simulate(SimulationParams(duration_s=3.0, seed=1))
    devices = {"left": {"name": "InsoleL", "serial": "A1"}, "right": {"name": "InsoleR", "serial": "B2"}}
    recording = dataclasses.replace(recording, meta=dataclasses.replace(recording.meta, devices=devices))
    path = tmp_path / "devices.parquet"
    insole.write_parquet(recording, path)
    assert main(["info", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  left device   name InsoleL, serial A1" in lines
    assert "  right device  name InsoleR, serial B2" in lines
    unit = next(line for line in lines if line.startswith("  unit "))
    assert unit.index(unit.split()[-1]) == 16  # the column every value of the block starts at


# ---------------------------------------------------------------- 7. out of memory


def test_running_out_of_memory_is_one_line_and_exit_1(
        walk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import insole.analysis

    def no_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError("Unable to allocate 21.5 GiB for an array with shape (2880000, 1000) and data type float64")

    monkeypatch.setattr(insole.analysis, "analyze", no_memory)
    line = _one_line_refusal(capsys, ["analyze", str(walk), "--json", str(tmp_path / "o.json")], code=EXIT_FAILURE)
    assert line == (f"insole analyze: error: not enough memory to analyse {walk}: Unable to allocate 21.5 GiB for an "
                    "array with shape (2880000, 1000) and data type float64")


def test_running_out_of_memory_without_a_detail_says_what_to_do(
        walk: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import insole._cli._info

    def no_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(insole._cli._info, "describe", no_memory)
    line = _one_line_refusal(capsys, ["info", str(walk)], code=EXIT_FAILURE)
    assert line == f"insole info: error: not enough memory to read {walk} (free some memory or use a machine with more)"

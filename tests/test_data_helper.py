"""The one rule for finding the real datasets (tests/_data.py) and the realdata marking in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import _data
import pytest
from _data import is_real_data, missing_reason, shared_data_dir

IN_DATA = shared_data_dir() / "gaitpdb" / "GaCo01_01.txt"


def test_the_environment_variable_wins_when_it_exists(monkeypatch, tmp_path):
    monkeypatch.setenv(_data.ENV, str(tmp_path))
    assert shared_data_dir() == tmp_path.resolve()
    assert missing_reason() is None


def test_a_missing_folder_falls_back_then_gives_the_reason(monkeypatch, tmp_path):
    monkeypatch.setenv(_data.ENV, str(tmp_path / "nowhere"))
    monkeypatch.setattr(_data, "DEFAULT", tmp_path / "also-nowhere")
    assert shared_data_dir() == tmp_path / "nowhere"
    reason = missing_reason()
    assert reason is not None and str(tmp_path / "nowhere") in reason and "also-nowhere" in reason
    existing = tmp_path / "default"
    existing.mkdir()
    monkeypatch.setattr(_data, "DEFAULT", existing)
    assert shared_data_dir() == existing and missing_reason() is None


def test_is_real_data_sees_paths_below_the_folder_only(tmp_path):
    root = tmp_path / "data"
    inside = root / "gaitndd" / "als1.hea"
    assert is_real_data(inside, root) and is_real_data(str(inside), root)
    assert is_real_data([("x", inside)], root) and is_real_data({"a": inside}, root)
    assert not is_real_data(tmp_path / "data-other" / "f.txt", root)
    assert not is_real_data(str(tmp_path / "database"), root)
    assert not is_real_data(["gaitndd"], root) and not is_real_data(None, root)


def test_a_test_reading_a_module_path_is_marked_realdata(request):
    assert request.node.get_closest_marker("realdata") is not None
    assert IN_DATA.is_file()


def test_a_test_using_the_fixture_is_marked_realdata(request, shared_data: Path):
    assert request.node.get_closest_marker("realdata") is not None
    assert (shared_data / "gaitndd").is_dir()


def _reads_nothing() -> int:
    return 1


def test_a_test_without_real_data_is_not_marked(request):
    assert _reads_nothing() == 1
    assert request.node.get_closest_marker("realdata") is None


@pytest.mark.parametrize("path", [IN_DATA])
def test_a_real_data_parameter_marks_the_case(request, path):
    assert request.node.get_closest_marker("realdata") is not None

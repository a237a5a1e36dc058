"""The built wheel: what it ships, and that the core works without any extra installed.

``pip install insole`` brings numpy, scipy, pandas and pyarrow only; BLE, the
emulator, the report, the dashboards, Dask and C3D are extras
(pyproject.toml). These tests build the wheel from a copy of the working tree
and check it ships ``insole/py.typed`` and no test code, then run load,
analyze and to_json from the unpacked wheel in a Python that cannot import
any optional package.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RECORDING = ROOT / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"

# what the extras bring (importable names); the core must not need any of them
OPTIONAL = ("bleak", "bumble", "dbus_fast", "dask", "distributed", "ezc3d", "aiohttp", "jinja2", "markupsafe",
            "plotly", "tqdm")
TEST_ONLY = ("pytest", "playwright", "hypothesis")
# the working tree's own scratch folders and environments: not part of a source distribution
_NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                     ".hypothesis", "demo-output", "node_modules", "artifacts")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``pip wheel --no-deps`` builds from a copy of the tree (the build writes into its source)."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    out = work / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source)],
        check=True, timeout=600,
    )
    (built,) = out.glob("insole-*.whl")
    return built


@pytest.fixture(scope="module")
def unpacked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel's files as a folder to put on ``sys.path`` (a pure-Python wheel installs by unzipping)."""
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def _imported_top_names(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def test_wheel_ships_py_typed_and_no_test_code(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        modules = {name: archive.read(name).decode() for name in names if name.endswith(".py")}
    assert "insole/py.typed" in names
    assert {name.split("/")[0] for name in names if not name.startswith("insole-")} == {
        "insole", "dashboards", "firmware_protocol"
    }
    assert not [name for name in names if name.startswith("tests/") or "/tests/" in name]
    assert not [name for name in names if Path(name).name in ("conftest.py", "ble_fixtures.py")]
    importing_test_tools = {
        name: sorted(_imported_top_names(source) & set(TEST_ONLY))
        for name, source in modules.items()
        if _imported_top_names(source) & set(TEST_ONLY)
    }
    assert importing_test_tools == {}


def test_wheel_declares_core_and_extras(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    requires = [line.removeprefix("Requires-Dist: ") for line in lines if line.startswith("Requires-Dist: ")]
    core = sorted(r.split(">")[0].split("=")[0].split("<")[0].strip() for r in requires if "extra ==" not in r)
    assert core == ["numpy", "pandas", "pyarrow", "scipy"]
    extras = {line.removeprefix("Provides-Extra: ") for line in lines if line.startswith("Provides-Extra: ")}
    assert {"ble", "emulator", "report", "dashboards", "batch", "c3d", "all", "test"} <= extras


_WITHOUT_EXTRAS = textwrap.dedent("""\
    import json
    import sys

    BLOCKED = set(sys.argv[3].split(","))


    class NotInstalled:
        # a finder ahead of all others: the optional packages behave as if they were not installed
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, NotInstalled())

    import insole

    analysis = insole.analyze(insole.load(sys.argv[1]))
    text = analysis.to_json()
    loaded = sorted(BLOCKED & {name.partition(".")[0] for name in sys.modules})
    print(json.dumps({"insole": insole.__file__, "site": sys.argv[2], "json_chars": len(text),
                      "keys": sorted(json.loads(text)), "loaded": loaded}))
""")


def test_load_analyze_to_json_without_the_extras(unpacked: Path, tmp_path: Path) -> None:
    # cwd outside the tree and the unpacked wheel first on the path: the wheel's insole is the one imported
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS, str(RECORDING), str(unpacked), ",".join(OPTIONAL)],
        cwd=tmp_path, env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["insole"].startswith(str(unpacked))
    assert report["loaded"] == []
    assert report["json_chars"] > 10_000
    assert {"schema", "events", "strides", "summary", "quality", "provenance"} <= set(report["keys"])


def test_missing_extra_is_one_line_naming_it(unpacked: Path, tmp_path: Path) -> None:
    # `insole scan` without bleak: the command says which extra to install, exit 2, no traceback
    code = _WITHOUT_EXTRAS.split("import insole")[0] + "from insole._cli import main\nsys.exit(main(['scan']))\n"
    result = subprocess.run(
        [sys.executable, "-c", code, str(RECORDING), str(unpacked), ",".join(OPTIONAL)],
        cwd=tmp_path, env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["insole scan: needs the [ble] extra: pip install 'insole[ble]'"]

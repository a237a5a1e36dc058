"""The public surface of ``firmware_protocol``: what it exports, and that importing it stays light."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import firmware_protocol as fp

REPO = Path(__file__).resolve().parents[1]
CONSUMER_DIRS = ("insole", "dashboards", "tests", "benchmarks")


def _names_used_from_package() -> set[str]:
    """Every name the repo takes from ``firmware_protocol`` itself: imported from it or read off it."""
    used: set[str] = set()
    for directory in CONSUMER_DIRS:
        for path in (REPO / directory).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            aliases = {"firmware_protocol"}
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "firmware_protocol" and node.level == 0:
                    used.update(alias.name for alias in node.names)
                elif isinstance(node, ast.Import):
                    aliases.update(a.asname for a in node.names if a.name == "firmware_protocol" and a.asname)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in aliases
                    and not node.attr.startswith("_")
                ):
                    used.add(node.attr)
    return used


def test_every_name_the_repo_uses_is_exported() -> None:
    used = _names_used_from_package()
    # The scan must see the package's known consumers, or it proves nothing.
    assert {"ProtocolError", "decode_sample_packet", "INSOLE_SERVICE_UUID", "GetInfo"} <= used
    assert sorted(used - set(fp.__all__)) == []


def test_exports_are_listed_once_and_resolve() -> None:
    assert len(fp.__all__) == len(set(fp.__all__))
    for name in fp.__all__:
        assert not name.startswith("_"), name
        assert hasattr(fp, name), name
    assert "SAMPLE_HEADER_SIZE" not in fp.__all__  # a codec internal, never part of the surface


def test_lazy_names_resolve_to_their_modules() -> None:
    assert set(fp._LAZY) <= set(fp.__all__)
    assert {"EmulatedInsole", "InsoleSpec", "FaultPlan"} <= set(fp._LAZY)
    for name, module in fp._LAZY.items():
        assert getattr(fp, name) is getattr(importlib.import_module(module), name), name


def test_each_home_lists_exactly_its_modules_public_names() -> None:
    """The package's map is a second listing of the names: codec and GATT table export their whole ``__all__``;
    the emulator's modules only what a user of the emulated insoles needs."""
    for module, names in fp._HOMES.items():
        own = importlib.import_module(module).__all__
        if module in ("firmware_protocol._codec", "firmware_protocol._gatt"):
            assert sorted(names) == sorted(own), module
        else:
            assert all(hasattr(importlib.import_module(module), name) for name in names), module
    assert sorted(fp.__all__) == sorted(["CrcMismatchError", "ProtocolError", *fp._LAZY])


def test_import_does_not_load_the_codec_or_numpy() -> None:
    """``insole --help`` imports the package (through insole's error classes): numpy and the codec wait."""
    probe = (
        "import sys, firmware_protocol\n"
        "print(' '.join(sorted(m for m in ('numpy', 'uuid', 'firmware_protocol._codec', 'firmware_protocol._gatt')"
        " if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip() == ""


def test_import_does_not_load_the_emulator_stack() -> None:
    # A fresh interpreter: this test process has long since imported bumble.
    probe = (
        "import sys, firmware_protocol\n"
        "heavy = ('bumble', 'dbus_fast', 'bleak', 'insole')\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip() == ""

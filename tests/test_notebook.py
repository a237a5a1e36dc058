"""docs/library.md runs as written: its ```python blocks, in order, in one namespace, in a fresh folder.

The folder gets a ``recordings`` link to the repository's sample recordings (the
blocks read them by that relative path, as from the repository's root) and
receives what the blocks write.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "library.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def code_blocks(text: str) -> list[str]:
    return [match.group(1) for match in _BLOCK.finditer(text)]


def test_the_block_extraction_finds_python_blocks_only() -> None:
    text = "intro\n```python\nx = 1\n```\n\n```bash\nrm -rf /\n```\n```python\ny = x + 1\n```\n"
    assert code_blocks(text) == ["x = 1\n", "y = x + 1\n"]


@pytest.fixture()
def in_fresh_folder(tmp_path: Path) -> Path:
    (tmp_path / "recordings").symlink_to(REPO / "recordings", target_is_directory=True)
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def test_library_walkthrough_runs_as_written(in_fresh_folder: Path) -> None:
    blocks = code_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) == 7  # load, analyse, strides, figure, report, simulate, one stage
    for block in blocks:
        assert not re.search(r"^\s*(from|import)\s+\S*\._", block, re.M), "the walk-through uses public names only"
    namespace: dict[str, object] = {"__name__": "library_md"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, block in enumerate(blocks, 1):
            exec(compile(block, f"{DOC.name}, block {number}", "exec"), namespace)
    # what the blocks claim to have made is there
    for name in ("strides.csv", "force_curves.html", "report.html", "report.json"):
        assert (in_fresh_folder / name).stat().st_size > 0, name
    strides = namespace["strides"]
    assert set(strides["side"]) == {"left", "right"}  # type: ignore[index]
    # the stage run alone finds the contacts the whole analysis found
    contacts, analysis = namespace["contacts"], namespace["analysis"]
    assert contacts.n == len(analysis.events["left"].contacts)  # type: ignore[attr-defined]
    assert "median error" in printed.getvalue()

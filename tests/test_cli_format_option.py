"""Every command that reads a recording offers ``--format`` alike: ``--format FORMAT``, the formats listed in
its help (a new user found ``insole dashboard`` showing its choices in braces, unlike the others)."""

from __future__ import annotations

import pytest

from insole._cli import main
from insole._cli._arguments import FORMAT_NAMES


@pytest.mark.parametrize("command", ["analyze", "convert", "export", "info", "dashboard"])
def test_format_option_reads_alike_in_every_command(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--format FORMAT force an input format instead of detecting it:" in text
    assert "{" not in text.split("--format", 1)[1].split("--", 1)[0]
    listed = text.split("force an input format instead of detecting it:", 1)[1]
    assert all(name in listed for name in FORMAT_NAMES)

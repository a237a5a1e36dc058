"""What a new user found in ``insole analyze``'s printout and help (session 10), each checked on its outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from insole._cli import EXIT_BAD_INPUT, main

REPO = Path(__file__).resolve().parents[1]
GAITPDB = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"


@pytest.mark.parametrize("command", ["analyze", "dashboard"])
@pytest.mark.parametrize("value", ["0", "-70", "500", "nan"])
def test_an_implausible_mass_names_the_option_not_the_file(capsys, tmp_path: Path, command: str, value: str) -> None:
    """`--mass-kg 0` is the option's fault: one line naming the option and the range, not the recording (it was
    "good.parquet: --mass-kg 0 is not a plausible body mass", as if the file were bad)."""
    argv = [command, str(GAITPDB), "--mass-kg", value]
    if command == "dashboard":
        argv += ["--out", str(tmp_path / "d.html")]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert captured.err == (f"insole {command}: error: --mass-kg {float(value):g} is not a plausible body mass "
                            "(kg, above 0 and below 500)\n")
    assert captured.out == "" and not (tmp_path / "d.html").exists()

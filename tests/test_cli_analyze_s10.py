"""What a new user found in ``insole analyze``'s printout and help (session 10), each checked on its outcome."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from _data import shared_data_dir

from insole._cli import EXIT_BAD_INPUT, main

REPO = Path(__file__).resolve().parents[1]
GAITPDB = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"
COHORT = shared_data_dir() / "gaitpdb-cohort"


@pytest.mark.parametrize("command", ["analyze", "dashboard", "report"])
@pytest.mark.parametrize("value", ["0", "-70", "500", "nan"])
def test_an_implausible_mass_names_the_option_not_the_file(capsys, tmp_path: Path, command: str, value: str) -> None:
    """`--mass-kg 0` is the option's fault: one line naming the option and the range, not the recording (it was
    "good.parquet: --mass-kg 0 is not a plausible body mass", as if the file were bad)."""
    argv = [command, str(GAITPDB), "--mass-kg", value]
    if command in ("dashboard", "report"):
        argv += ["--out", str(tmp_path / "d.html")]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert captured.err == (f"insole {command}: error: --mass-kg {float(value):g} is not a plausible body mass "
                            "(kg, above 0 and below 500)\n")
    assert captured.out == "" and not (tmp_path / "d.html").exists()


def _folded(text: str) -> str:
    """The printed text with its line breaks and indents folded to single spaces (the summary wraps at 100)."""
    return " ".join(text.split())


def _analyze(capsys, *argv: object) -> str:
    assert main(["analyze", *map(str, argv)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_mass_help_says_where_a_mass_comes_from(capsys, command: str) -> None:
    """The help said "the file's body mass is used": a gaitpdb file holds none; its mass is in the table beside it."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = _folded(capsys.readouterr().out)
    assert ("Without it the recording's own mass is used: its metadata, which for a gaitpdb or gaitndd text file is "
            "the subject table beside the file (demographics.txt, subject-description.txt) when that table is "
            "there, so a copy of the file without its table has no mass.") in text
    assert "the body weight is the recording's own walking load" in text
    assert "the file's body mass is used" not in text


def test_no_mass_found_is_said_and_a_given_mass_is_named_by_its_option(capsys) -> None:
    """The bundled Moticon sample has no mass: the summary says so before the load-based body weight."""
    folded = _folded(_analyze(capsys, REPO / "recordings" / "moticon_230927_102114.parquet"))
    assert ("body mass: none found: no --mass-kg and none in the recording's metadata; metrics in BW are therefore "
            "scaled by the walk's own load, not by a weight body weight: estimated from the recording's own load"
            ) in folded
    folded = _folded(_analyze(capsys, REPO / "recordings" / "moticon_230927_102114.parquet", "--mass-kg", 70))
    assert "body weight: body mass 70 kg (--mass-kg) x g = 686 N" in folded  # 70 x 9.80665 = 686.5
    assert "none found" not in folded


def test_a_gaitpdb_copy_without_its_subject_table_says_no_mass_was_found(capsys, tmp_path: Path) -> None:
    """GaCo08_01.txt copied alone: no mass, and the printout says so and where one would have come from (a new user
    saw the first peak go from 1.43 to 0.96 BW with no word of why). With demographics.txt beside the copy its
    mass is back (GaCo08's row: Weight 65) and the summary names the table."""
    walk = tmp_path / "GaCo08_01.txt"
    shutil.copy(COHORT / "GaCo08_01.txt", walk)
    folded = _folded(_analyze(capsys, walk))
    assert ("body mass: none found: no --mass-kg and none in the recording's metadata; a gaitpdb file's mass comes "
            "from the subject table demographics.txt beside it, which is not there or has no mass for this "
            "subject; metrics in BW are therefore scaled by the walk's own load, not by a weight") in folded
    shutil.copy(COHORT / "demographics.txt", tmp_path / "demographics.txt")
    folded = _folded(_analyze(capsys, walk))
    assert ("body weight: body mass 65 kg (recording metadata, from the subject table demographics.txt) "
            "x g = 637 N") in folded  # 65 x 9.80665 = 637.4
    assert "none found" not in folded


def test_the_last_line_gives_the_one_schema_of_the_file_written(capsys, tmp_path: Path) -> None:
    """It printed "analysis schema 1.4 (full document); lean JSON schema 2.1 (--json)": two numbers, one file. The
    full document is no file of this command; the line gives the --json file's schema, as that file says it."""
    out = _analyze(capsys, GAITPDB, "--json", tmp_path / "a.json")
    written = json.loads((tmp_path / "a.json").read_text())["schema_version"]
    from insole import __version__
    from insole.analysis import JSON_SCHEMA_VERSION

    assert f"insole {__version__}; JSON schema {written} for the file --json writes (docs/analysis-json.md)" in out
    assert JSON_SCHEMA_VERSION != written and f"schema {JSON_SCHEMA_VERSION}" not in out
    assert "full document" not in out


def test_the_two_cadences_are_labelled_by_their_definitions(capsys, tmp_path: Path) -> None:
    """The printout's cadence (98.4 for GaCo08_01) and summary_per_foot's (98.8) differ by definition: the session's
    is 120 / the mean stride time of both feet, each foot's the mean of its strides' 120 / stride time. Both are
    printed, each with its definition, and each equals the figure of its own output."""
    out = _analyze(capsys, GAITPDB, "--json", tmp_path / "a.json", "--tables", tmp_path / "t")
    session = json.loads((tmp_path / "a.json").read_text())["summary"]["cadence_steps_per_min"]
    per_foot = pd.read_parquet(tmp_path / "t" / "summary_per_foot.parquet").set_index("metric")
    left, right = (per_foot.at["cadence_steps_per_min", f"{side}_mean"] for side in ("left", "right"))
    folded = _folded(out)
    assert (f"Cadence {session:.1f} steps/min (session cadence: 120 / the mean stride time of both feet's used "
            "strides)") in folded
    assert (f"\n  each foot's own (summary_per_foot): left {left:.1f}, right {right:.1f}, the mean of 120 / each "
            "stride's time\n") in out  # one line
    assert f"{right:.1f}" != f"{session:.1f}"  # this walk shows the two definitions apart (96.5 and 96.2)


def _standing(out: str) -> str:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Standing ("))
    end = next(i for i in range(start + 1, len(lines) + 1) if i == len(lines) or not lines[i].startswith("  "))
    return _folded("\n".join(lines[start:end]))


def test_uncalibrated_standing_is_no_left_right_split(capsys, tmp_path: Path) -> None:
    """gaitndd control1 (foot switches, au) stands 10.5 s: it printed "left 49.5% / right 50.5%" with a caveat, a
    split the report leaves out and the batch sets to NaN. Now no split, and why; a calibrated walk keeps its split."""
    out = _analyze(capsys, REPO / "recordings" / "gaitndd_control1.parquet", "--json", tmp_path / "a.json")
    standing = json.loads((tmp_path / "a.json").read_text())["summary"]["standing"]
    assert standing["uncalibrated_force"] is True  # the file is what this test is about
    assert _standing(out) == (f"Standing ({standing['duration_s']:.1f} s): no left/right weight split: uncalibrated "
                              "insoles (au), each on its own gain, so the feet's shares of the load are not "
                              "interpretable as load asymmetry")
    assert f"{standing['left_pct']:.1f}%" not in out and f"{standing['right_pct']:.1f}%" not in out
    out = _analyze(capsys, REPO / "recordings" / "moticon_230927_102114.parquet", "--json", tmp_path / "b.json")
    standing = json.loads((tmp_path / "b.json").read_text())["summary"]["standing"]
    assert not standing["uncalibrated_force"]
    assert _standing(out).startswith(f"Standing ({standing['duration_s']:.1f} s): left {standing['left_pct']:.1f}% / "
                                     f"right {standing['right_pct']:.1f}%; left forefoot ")


def test_the_readme_lists_every_extra_a_user_installs() -> None:
    """README's extras table left out [spm], which the report's "Where in stance the feet differ" needs: every
    extra of pyproject.toml but the developers' own (lint, test, bench) has its row, and [all] says what it leaves
    out."""
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    readme = (REPO / "README.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in readme.splitlines() if line.startswith("| `[")}
    assert set(rows) == {f"`[{name}]`" for name in extras if name not in ("lint", "test", "bench")}
    assert "spm1d" in rows["`[spm]`"] and "Where in stance the feet differ" in rows["`[spm]`"]
    in_all = extras["all"][0].split("[", 1)[1].rstrip("]").split(",")
    left_out = sorted(set(extras) - set(in_all) - {"all", "lint", "test", "bench"})
    assert left_out == ["spm"] and "all of the above except `[spm]`" in rows["`[all]`"]

"""Command-line fixes from a new user's review: ``export --map``, the report's one-line summary, where
``insole dashboard`` writes without ``--out``, and the message when ``--format gaitpdb`` is forced on a file of
another format."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from _data import shared_data_dir

from insole import MalformedFileError
from insole._cli import main
from insole.io import load, read_c3d_analogs

# a three-sample foot-switch table: the right foot's empty second field is a gap (docs/generic-csv.md)
_TABLE = "t\tleft\tright\n0.00\t0.5\t0.1\n0.02\t0.6\t\n0.04\t0.7\t0.3\n"
_MAPPING = ('{"sample_rate_hz": 50, "time_column": "t", "layout": "footswitch1", "unit": "au", '
            '"left": ["left"], "right": ["right"], "meta": {"subject_id": "FS-1"}}')


@pytest.fixture
def switches(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "switches.tsv"
    data.write_text(_TABLE)
    mapping = tmp_path / "switches.json"
    mapping.write_text(_MAPPING)
    return data, mapping


# --------------------------------------------------------------------------------- export --map


def test_export_without_a_mapping_points_to_the_map_option_it_has(switches, tmp_path: Path, capsys) -> None:
    data, _ = switches
    code = main(["export", str(data), "--format", "generic-csv", "--to", "c3d", "--out", str(tmp_path / "s.c3d")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "pass --map" in err
    assert not (tmp_path / "s.c3d").exists()


def test_export_reads_a_generic_table_through_its_map(switches, tmp_path: Path, capsys) -> None:
    data, mapping = switches
    out = tmp_path / "s.c3d"
    assert main(["export", str(data), "--map", str(mapping), "--to", "c3d", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"{out}\n"
    rate, labels, _, values = read_c3d_analogs(out)
    assert rate == 50.0 and labels == ["L_TIME", "L_VALID", "L_FORCE", "R_TIME", "R_VALID", "R_FORCE"]
    # C3D analogs are 32-bit floats: the table's numbers come back at float32 precision
    expected = np.array([[0.0, 0.02, 0.04], [1, 1, 1], [0.5, 0.6, 0.7],
                         [0.0, 0.02, 0.04], [1, 0, 1], [0.1, np.nan, 0.3]], dtype=np.float32)
    assert np.array_equal(values, expected.astype(np.float64), equal_nan=True)
    # the BIDS labels come from the mapping's [meta]
    assert main(["export", str(data), "--map", str(mapping), "--to", "bids", "--out", str(tmp_path / "bids")]) == 0
    assert (tmp_path / "bids" / "sub-FS1" / "sub-FS1_scans.tsv").is_file()


@pytest.mark.parametrize("to", ["c3d", "bids"])
def test_export_never_writes_over_its_mapping(switches, to: str, capsys) -> None:
    data, mapping = switches
    target = mapping.with_suffix(".c3d") if to == "c3d" else mapping
    if to == "c3d":
        mapping.rename(target)  # a mapping whose name ends in .c3d names the C3D file itself
        mapping = target
    code = main(["export", str(data), "--map", str(mapping), "--to", to, "--out", str(target), "--force"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "is one of this command's inputs" in err
    assert mapping.read_text() == _MAPPING


# ----------------------------------------------------------------------------- report's summary line


def test_report_line_names_severity_and_confidence(switches, tmp_path: Path, capsys, monkeypatch) -> None:
    # the line used to read "pronated_loading (left, low)", where "low" was the confidence, not the severity
    import insole.report

    def fake_write_report(recording, out, **_):
        finding = SimpleNamespace(code="pronated_loading", side="left", severity="mild", confidence="very_low")
        return SimpleNamespace(findings=[finding, SimpleNamespace(code="heel_offload", side="right",
                                                                  severity="moderate", confidence="high")])

    monkeypatch.setattr(insole.report, "write_report", fake_write_report)
    data, mapping = switches
    page = tmp_path / "r.html"
    assert main(["report", str(data), "--map", str(mapping), "--out", str(page)]) == 0
    assert capsys.readouterr().out == (
        f"wrote {page}: 2 finding(s): pronated_loading (left; severity mild, confidence very low), "
        "heel_offload (right; severity moderate, confidence high)\n"
    )


# ------------------------------------------------------------------------- dashboard without --out


def test_dashboard_without_out_writes_here_not_beside_the_recording(switches, tmp_path: Path, capsys,
                                                                     monkeypatch) -> None:
    # the recording's folder is often shared or read-only: the default page goes to the current folder
    data, mapping = switches
    here = tmp_path / "work"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["dashboard", str(data), "--map", str(mapping)]) == 0
    page = here / "switches.html"
    assert capsys.readouterr().out.startswith(f"insole dashboard: wrote {page} (")  # the full path: where it went
    assert page.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["switches.json", "switches.tsv", "work"]
    # the default name is no licence to overwrite: an existing page needs --force
    before = page.read_bytes()
    assert main(["dashboard", str(data), "--map", str(mapping)]) == 2
    err = capsys.readouterr().err
    assert err == "insole dashboard: error: switches.html: already exists (add --force to replace it)\n"
    assert page.read_bytes() == before
    assert main(["dashboard", str(data), "--map", str(mapping), "--force"]) == 0


# ----------------------------------------------------------------------- a wrong format forced on a file

PEDAR = shared_data_dir() / "vendor-exports" / "pedar_example.asc"


def test_a_pedar_export_forced_as_gaitpdb_is_not_a_gaitpdb_file_not_a_truncated_one(capsys) -> None:
    # the pedar export's rows end in a tab, not a line break: by gaitpdb's rules it looked "truncated" at line 1515
    assert main(["analyze", str(PEDAR), "--format", "gaitpdb"]) == 2
    assert capsys.readouterr().err == (
        f"insole analyze: error: {PEDAR}: not a gaitpdb file (line 1, 'file name:  3DI_S001_V2_FE_2.sol\\t"
        "date/time  25.04.23 10.49', is not 19 tab-separated numbers)\n"
    )


def test_gaitpdb_first_line_check_leaves_the_readers_own_messages(tmp_path: Path) -> None:
    row = "\t".join(["0.00", *["1.50"] * 18])
    path = tmp_path / "walk.txt"
    cases = {
        # another format's text, and a binary file
        "a,b,c\n1,2,3\n": "not a gaitpdb file (line 1, 'a,b,c', is not 19 tab-separated numbers)",
        "\x00\x01PAR1\n": "not a gaitpdb file (line 1 is not plain ASCII text)",
        # gaitpdb rows with a fault of their own keep the reader's message
        f"{row}\n{row.replace('0.00', '0.01', 1)[:-3]}": "file ends in the middle of a row",
        row[:-3]: "file ends in the middle of a row",  # a one-line file cut inside its only row
        f"{row.replace('1.50', 'x', 1)}\n": "line 1, column 2: 'x' is not a number",
        f"{row}\n{row}\n": "line 2: time 0 s does not increase",
    }
    for content, expected in cases.items():
        path.write_bytes(content.encode("latin-1"))
        with pytest.raises(MalformedFileError) as raised:
            load(path, "gaitpdb")
        assert str(raised.value).startswith(f"{path}: {expected}"), (content, str(raised.value))


_ANALYZE_TABLE = "t\tleft\tright\n0.00\t0.5\t0.1\n0.02\t0.6\t\n0.04\t0.7\t0.3\n"
_ANALYZE_MAPPING = ('{"sample_rate_hz": 50, "time_column": "t", "layout": "footswitch1", "unit": "au", '
            '"left": ["left"], "right": ["right"], "meta": {"subject_id": "FS-1"}}')


def test_analyze_reads_a_generic_table_through_its_map(tmp_path: Path, capsys) -> None:
    data, mapping = tmp_path / "switches.tsv", tmp_path / "switches.json"
    data.write_text(_ANALYZE_TABLE)
    mapping.write_text(_ANALYZE_MAPPING)
    out = tmp_path / "a.json"
    assert main(["analyze", str(data), "--map", str(mapping), "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["schema"] == "insole.analysis"
    # the mapping is an input: never written over, even with --force
    assert main(["analyze", str(data), "--map", str(mapping), "--json", str(mapping), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is one of this command's inputs" in err and mapping.read_text() == _ANALYZE_MAPPING

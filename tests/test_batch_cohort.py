"""insole cohort: group labels from the datasets' own tables, effect sizes, finding shares, and the page in Chromium."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from insole.batch import EngineSpec, run_batch
from insole.batch._cohort import (
    CohortParams,
    _bootstrap_delta,
    cliffs_delta,
    compare_cohort,
    hedges_g,
    join_groups,
    read_groups,
)

BIN = Path(sys.executable).parent


def _insole(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "insole"), *args], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def cohorts(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Batch tables of the real gaitndd and gaitpdb recordings."""
    out = tmp_path_factory.mktemp("cohorts")
    tables = {}
    for name in ("gaitndd", "gaitpdb"):
        result = run_batch([shared_data / name], out / f"{name}.parquet", engine=EngineSpec(workers=2), progress=False)
        assert len(result.errors) == 0
        tables[name] = result.paths["cohort"]
    return tables


def test_read_groups_gaitndd_subject_description(shared_data: Path) -> None:
    table = read_groups(shared_data / "gaitndd" / "subject-description.txt")
    # the header's first cell is blank: that column is the record id
    assert list(table.columns) == ["id", "GROUP", "AGE(YRS)", "HEIGHT(meters)", "Weight(kg)", "gender",
                                   "GaitSpeed(m/sec)", "Duration/Severity"]
    assert len(table) == 64
    assert table["GROUP"].value_counts().to_dict() == {"hunt": 20, "control": 16, "park": 15, "subjects": 13}
    # the row with a space instead of a tab before its last cell still has its severity
    hunt20 = table.set_index("id").loc["hunt20"]
    assert hunt20["GaitSpeed(m/sec)"] is None and hunt20["Duration/Severity"] == "9"


def test_read_groups_gaitpdb_demographics(shared_data: Path) -> None:
    table = read_groups(shared_data / "gaitpdb" / "demographics.txt")
    assert list(table.columns)[:4] == ["ID", "Study", "Group", "Subjnum"] and len(table.columns) == 20
    assert len(table) == 166 and table["Group"].value_counts().to_dict() == {"1": 93, "2": 73}
    assert table.set_index("ID").loc["GaPt03", "Weight"] == "50"


def test_read_groups_csv_and_bad_tables(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_text('recording,arm\nGaPt03_01,"orthotic, soft"\nGaCo01_01,NA\n')
    table = read_groups(tmp_path / "g.csv")
    assert table.to_dict("records") == [{"recording": "GaPt03_01", "arm": "orthotic, soft"},
                                        {"recording": "GaCo01_01", "arm": None}]
    (tmp_path / "one.csv").write_text("id,group\n")
    with pytest.raises(Exception, match="needs a header row and at least one row"):
        read_groups(tmp_path / "one.csv")
    (tmp_path / "wide.tsv").write_text("id\tgroup\na\tb\tc\n")
    with pytest.raises(Exception, match="line 2 has 3 cells, the header 2"):
        read_groups(tmp_path / "wide.tsv")


def test_hedges_g_known_answer() -> None:
    # means 2 and 1, both SDs 1: d = 1; J = 1 - 3 / (4 * 6 - 9) = 0.8
    g, low, high = hedges_g(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0]))
    assert g == pytest.approx(0.8, abs=1e-12)  # float rounding only
    half_width = 1.959963984540054 * math.sqrt(6 / 9 + 0.64 / 12)
    assert (low, high) == pytest.approx((0.8 - half_width, 0.8 + half_width), abs=1e-12)
    assert all(math.isnan(v) for v in hedges_g(np.array([1.0]), np.array([0.0, 1.0])))
    assert all(math.isnan(v) for v in hedges_g(np.array([1.0, 1.0]), np.array([1.0, 1.0])))  # no spread


def test_cliffs_delta_and_its_bootstrap_match_counting_every_pair() -> None:
    rng = np.random.default_rng(3)

    def every_pair(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.sign(x[:, None] - y[None, :]).mean())

    for _ in range(30):  # rounded to 0.1 so ties occur
        x = np.round(rng.normal(size=rng.integers(1, 25)), 1)
        y = np.round(rng.normal(0.4, size=rng.integers(1, 25)), 1)
        assert cliffs_delta(x, y) == pytest.approx(every_pair(x, y), abs=1e-12)
    assert cliffs_delta(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    x, y = np.round(rng.normal(size=12), 1), np.round(rng.normal(0.5, size=9), 1)
    low, high = _bootstrap_delta(x, y, np.random.default_rng(5), 500, 0.95)
    replay = np.random.default_rng(5)
    xi, yi = replay.integers(0, 12, size=(500, 12)), replay.integers(0, 9, size=(500, 9))
    expected = np.quantile([every_pair(x[a], y[b]) for a, b in zip(xi, yi)], [0.025, 0.975])
    assert (low, high) == pytest.approx(tuple(expected), abs=1e-12)
    assert _bootstrap_delta(x, y, np.random.default_rng(6), 500, 0.95) != (low, high)  # the seed matters


def _synthetic_cohort() -> pd.DataFrame:
    return pd.DataFrame({
        "recording_id": [f"r{k}" for k in range(7)],
        "arm": ["a", "a", "a", "b", "b", "b", None],
        "stride_time_cv_pct": [2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 5.0],
        "stance_time_s_si_pct": [-2.0, 1.0, 3.0, -10.0, 2.5, 12.0, 0.0],
        "finding_irregular_gait": ["not_flagged", "not_flagged", None, "moderate", "low", "not_flagged", "high"],
        "finding_irregular_gait_side": [None, None, None, "both", "both", None, "both"],
    })


def test_compare_cohort_exact_on_a_small_table() -> None:
    comparison = compare_cohort(_synthetic_cohort(), CohortParams(group_by="arm", bootstrap=200, seed=1))
    assert comparison.groups == ("a", "b") and comparison.reference == "a" and comparison.excluded == ("r6",)
    stats = comparison.stats.set_index(["metric", "group"])
    assert stats.loc[("stride_time_cv_pct", "b"), ["n", "mean", "median", "sd"]].tolist() == [3, 7.0, 7.0, 1.0]
    # asymmetry compared as |SI|: group b has 10, 2.5, 12
    assert stats.loc[("stance_time_asymmetry_pct", "b"), "median"] == 10.0
    effect = comparison.effects.set_index(["metric", "group"]).loc[("stride_time_cv_pct", "b")]
    assert effect["cliffs_delta"] == 1.0 and effect["median_difference"] == 4.0
    assert effect["hedges_g"] == pytest.approx(4.0 * (1 - 3 / 15), abs=1e-12)  # d = 4 / 1
    shares = comparison.findings.set_index(["code", "group"])
    # group a: two assessed, none flagged (one not assessable); group b: three assessed, two flagged
    assert shares.loc[("irregular_gait", "a"), ["n_assessed", "n_flagged"]].tolist() == [2, 0]
    assert shares.loc[("irregular_gait", "b"), ["n_assessed", "n_flagged", "n_moderate_or_high"]].tolist() == [3, 2, 1]
    assert shares.loc[("irregular_gait", "b"), "share_flagged"] == 2 / 3
    # the same seed gives the same intervals
    again = compare_cohort(_synthetic_cohort(), CohortParams(group_by="arm", bootstrap=200, seed=1))
    pd.testing.assert_frame_equal(again.effects, comparison.effects)


def test_finding_shares_read_the_row_schema_2_columns_alike() -> None:
    """Row schema 2 writes flagged/not_flagged with the confidence in its own column (docs/batch.md); the same
    cohort in that form gives the shares of the old form exactly."""
    old = _synthetic_cohort()
    new = old.copy()
    confidence = old["finding_irregular_gait"].where(old["finding_irregular_gait"] != "not_flagged")
    new["finding_irregular_gait"] = old["finding_irregular_gait"].map(
        lambda v: None if pd.isna(v) else v if v == "not_flagged" else "flagged")
    new["finding_irregular_gait_confidence"] = confidence
    new["finding_irregular_gait_severity"] = confidence.map(lambda v: None if pd.isna(v) else "mild")
    params = CohortParams(group_by="arm", bootstrap=200, seed=1)
    pd.testing.assert_frame_equal(compare_cohort(new, params).findings, compare_cohort(old, params).findings)
    shares = compare_cohort(new, params).findings.set_index(["code", "group"])
    assert shares.loc[("irregular_gait", "b"), ["n_assessed", "n_flagged", "n_moderate_or_high"]].tolist() == [3, 2, 1]


def test_join_picks_the_matching_id(cohorts: dict[str, Path], shared_data: Path) -> None:
    from insole.batch import read_cohort

    cohort, _ = read_cohort(cohorts["gaitpdb"])
    joined, report = join_groups(cohort, read_groups(shared_data / "gaitpdb" / "demographics.txt"),
                                 path="demographics.txt", on="ID")
    # demographics ids are subjects (GaPt03), the files walks of them (GaPt03_01)
    assert report.key == "subject_id" and report.matched == 6 and report.unmatched_recordings == ()
    assert joined.set_index("recording_id")["Group"].to_dict() == {
        "GaCo01_01": 2, "GaPt03_01": 1, "JuCo01_01": 2, "JuPt03_01": 1, "SiCo01_01": 2, "SiPt02_01": 1}
    assert joined.set_index("recording_id").loc["GaPt03_01", "Weight"] == 50
    with pytest.raises(Exception, match="no recording matches the ids in column 'id'"):
        join_groups(cohort, read_groups(shared_data / "gaitndd" / "subject-description.txt"), path="x")


@pytest.fixture(scope="module")
def gaitndd_page(cohorts: dict[str, Path], shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """``insole cohort`` on gaitndd, labels from subject-description.txt: (page, comparison JSON, stdout)."""
    folder = tmp_path_factory.mktemp("page")
    page, data = folder / "gaitndd.html", folder / "gaitndd.json"
    done = _insole("cohort", str(cohorts["gaitndd"]),
                   "--groups", str(shared_data / "gaitndd" / "subject-description.txt"),
                   "--group-by", "GROUP", "--out", str(page), "--json", str(data))
    assert done.returncode == 0, done.stderr
    return page, json.loads(data.read_text()), done.stdout


def test_gaitndd_huntingtons_variability_above_controls(gaitndd_page) -> None:
    page, comparison, stdout = gaitndd_page
    assert comparison["reference"] == "control" and comparison["join"]["key"] == "recording_id"
    assert comparison["group_sizes"] == {"control": 2, "hunt": 2, "park": 2, "subjects": 2}
    stats = {(s["metric"], s["group"]): s for s in comparison["stats"]}
    for metric in ("stride_time_cv_pct", "stride_time_robust_cv_pct"):
        hunt, control = stats[(metric, "hunt")], stats[(metric, "control")]
        assert hunt["median"] > control["median"] and hunt["mean"] > control["mean"], metric
    # on the robust CV every Huntington's recording is above every control
    effect = next(e for e in comparison["effects"]
                  if e["metric"] == "stride_time_robust_cv_pct" and e["group"] == "hunt")
    assert effect["cliffs_delta"] == 1.0 and effect["hedges_g"] > 0
    assert "hunt" in stdout and "Stride-time CV" in stdout
    html = page.read_text(encoding="utf-8")
    embedded = re.search(r'<script type="application/json" id="cohort-data">(.*?)</script>', html, re.S).group(1)
    assert json.loads(embedded.replace("<\\/", "</")) == comparison  # the page carries the very table it draws


@pytest.mark.browser
def test_cohort_page_in_chromium_offline_without_errors(gaitndd_page, artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    page, comparison, _ = gaitndd_page
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            tab = browser.new_page(viewport={"width": 1300, "height": 900})
            problems, requests = [], []
            tab.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            tab.on("pageerror", lambda e: problems.append(str(e)))
            tab.on("request", lambda r: requests.append(r.url))
            tab.goto(page.as_uri())
            tab.wait_for_function("window.__cohortPlotsDrawn !== undefined", timeout=60_000)
            n_plots = len(comparison["metrics"]) + 3  # distributions, two forest plots, findings
            assert tab.evaluate("window.__cohortPlotsDrawn") == n_plots
            assert tab.evaluate("window.__cohortErrors") == []
            assert tab.locator(".js-plotly-plot").count() == n_plots
            from_dom = json.loads(tab.locator("#cohort-data").text_content())
            assert from_dom["stats"] == comparison["stats"]
            tab.screenshot(path=str(artifacts / "cohort_gaitndd.png"), full_page=True)
            assert problems == [] and requests == [page.as_uri()]
        finally:
            browser.close()


def test_gaitpdb_groups_from_demographics(cohorts: dict[str, Path], shared_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "gaitpdb.json"
    done = _insole("cohort", str(cohorts["gaitpdb"]), "--groups", str(shared_data / "gaitpdb" / "demographics.txt"),
                   "--on", "ID", "--group-by", "Group", "--reference", "2", "--out", str(tmp_path / "p.html"),
                   "--json", str(data))
    assert done.returncode == 0, done.stderr
    comparison = json.loads(data.read_text())
    assert comparison["groups"] == ["2", "1"] and comparison["group_sizes"] == {"2": 3, "1": 3}
    from insole.batch import read_cohort

    cohort, _ = read_cohort(cohorts["gaitpdb"])
    pd_cv = cohort.loc[cohort["subject_id"].str.contains("Pt"), "stride_time_cv_pct"]
    stats = {(s["metric"], s["group"]): s for s in comparison["stats"]}
    assert stats[("stride_time_cv_pct", "1")]["median"] == float(np.median(pd_cv))
    # the importer's own group column gives the same split without a labels file
    same = _insole("cohort", str(cohorts["gaitpdb"]), "--group-by", "group", "--out", str(tmp_path / "q.html"))
    assert same.returncode == 0 and "control (n=3), parkinsons (n=3); reference control" in same.stdout


def test_cohort_bad_input_is_one_line(cohorts: dict[str, Path], tmp_path: Path, shared_data: Path) -> None:
    done = _insole("cohort", str(cohorts["gaitndd"]), "--group-by", "arm", "--out", str(tmp_path / "x.html"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "'arm' is not a column of the cohort" in done.stderr
    done = _insole("cohort", str(cohorts["gaitndd"]), "--group-by", "group", "--groups",
                   str(shared_data / "gaitpdb" / "demographics.txt"), "--out", str(tmp_path / "x.html"))
    assert done.returncode == 2 and "no recording matches the ids in column 'ID'" in done.stderr
    recording = sorted((Path(__file__).resolve().parents[1] / "recordings").glob("*.parquet"))[0]
    done = _insole("cohort", str(recording), "--group-by", "group", "--out", str(tmp_path / "x.html"))
    assert done.returncode == 2 and "is not a cohort table written by 'insole batch'" in done.stderr
    done = _insole("cohort", str(cohorts["gaitndd"]), "--group-by", "subject_id", "--reference", "nobody",
                   "--out", str(tmp_path / "x.html"))
    assert done.returncode == 2 and "reference group 'nobody' is not among the groups" in done.stderr

"""Scenario runs: outputs written atomically, summaries deterministic, runs comparable."""

from __future__ import annotations

import json

import pytest
from conftest import DEMO
from report_figures import check_report

from geoplan import GeoplanInputError
from geoplan.cli.main import main
from geoplan.maps.report import ReportInputs, build_report
from geoplan.scenario.compare import compare_runs
from geoplan.scenario.outputs import report_gaps
from geoplan.scenario.run import run_scenario

COVERAGE_ONLY = f"""
name = "coverage only"
region = "{DEMO.as_posix()}"
maps = false
report = false
[[coverage]]
name = "insurance"
types = ["insurance_service_point"]
modes = ["ebike"]
minutes = [10, 15]
"""


@pytest.fixture(scope="module")
def cache():
    return {}


@pytest.fixture()
def scenario(tmp_path):
    p = tmp_path / "cov.toml"
    p.write_text(COVERAGE_ONLY, encoding="utf-8")
    return p


def test_run_writes_tables_summary_and_log(scenario, tmp_path, cache):
    res = run_scenario(scenario, output=tmp_path / "out", region_cache=cache)
    out = tmp_path / "out"
    names = {p.name for p in out.iterdir()}
    assert {"summary.json", "run_log.json", "coverage_insurance.csv",
            "gaps_insurance_ebike.gpkg"} <= names
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    share = s["coverage"][0]["modes"]["ebike"]
    assert 0 < share["share_10min"] <= share["share_15min"] < 1
    assert s["population"] == pytest.approx(1_021_972, rel=1e-6)
    log = json.loads((out / "run_log.json").read_text(encoding="utf-8"))
    assert log["packages"]["pulp"] and log["parameters"]["name"] == "coverage only"
    hashed = {k.rsplit("/", 1)[-1] for k in log["inputs"]}
    assert {"cov.toml", "region.toml", "population.tif", "roads.osm.bz2"} <= hashed
    assert all(len(v["sha256"]) == 64 for v in log["inputs"].values())
    assert "total" in log["timings_s"]
    assert res.tables["coverage_insurance"]["population"].iloc[-1] == pytest.approx(
        s["population"])


def test_rerun_gives_identical_summary(scenario, tmp_path, cache):
    run_scenario(scenario, output=tmp_path / "a", region_cache=cache)
    run_scenario(scenario, output=tmp_path / "b", region_cache={})
    assert (tmp_path / "a" / "summary.json").read_bytes() == \
        (tmp_path / "b" / "summary.json").read_bytes()


def test_interrupted_run_leaves_previous_results(scenario, tmp_path, cache, monkeypatch):
    out = tmp_path / "out"
    run_scenario(scenario, output=out, region_cache=cache)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    import geoplan.scenario.run as runner

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(runner, "_write_json", boom)
    with pytest.raises(KeyboardInterrupt):
        run_scenario(scenario, output=out, region_cache=cache)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # a first run that fails leaves nothing at all
    with pytest.raises(KeyboardInterrupt):
        run_scenario(scenario, output=tmp_path / "fresh", region_cache=cache)
    assert not (tmp_path / "fresh").exists()


def test_compare_and_cli(scenario, tmp_path, cache, capsys):
    run_scenario(scenario, output=tmp_path / "r1", region_cache=cache)
    table = compare_runs([tmp_path / "r1", tmp_path / "r1" / "summary.json"])
    assert len(table) == 4 and set(table["kind"]) == {"coverage"}
    assert main(["compare", str(tmp_path / "r1"), "--out", str(tmp_path / "cmp")]) == 0
    # the CSV holds the summary's own figures: one row per coverage question, mode and
    # standard, today's share as share_before
    import pandas as pd
    written = pd.read_csv(tmp_path / "cmp" / "comparison.csv", encoding="utf-8-sig")
    summary = json.loads((tmp_path / "r1" / "summary.json").read_text(encoding="utf-8"))
    expect = {(f"{q['name']} ({k[6:]})", mode): v for q in summary["coverage"]
              for mode, figs in q["modes"].items() for k, v in figs.items()
              if k.startswith("share_")}
    got = {(r["item"], r["mode"]): r["share_before"] for _, r in written.iterrows()}
    assert set(got) == set(expect) and len(got) == 2
    for key, v in expect.items():
        assert got[key] == pytest.approx(v, abs=1e-12)
    assert set(written["run"]) == {"r1"} and set(written["kind"]) == {"coverage"}
    assert (tmp_path / "cmp" / "comparison.svg").read_text().startswith("<?xml")
    assert main(["compare", str(tmp_path / "nothing")]) == 2
    assert "no summary.json" in capsys.readouterr().err
    with pytest.raises(GeoplanInputError):
        compare_runs([])


def test_run_cli_validates_every_file_first(tmp_path, capsys):
    good = tmp_path / "a.toml"
    good.write_text(COVERAGE_ONLY, encoding="utf-8")
    bad = tmp_path / "b.toml"
    bad.write_text(COVERAGE_ONLY.replace("minutes = [10, 15]", "minutes = [-5]"),
                   encoding="utf-8")
    assert main(["run", str(good), str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "b.toml" in err and "line 10" in err and "minutes" in err
    assert not (tmp_path / "o").exists()       # nothing ran


def test_run_on_a_folder_without_scenarios_says_so(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("no scenario here", encoding="utf-8")
    assert main(["run", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no scenario file" in err and str(tmp_path.name) in err


def test_every_shipped_scenario_validates():
    from geoplan.scenario.spec import read_scenario
    files = sorted((DEMO / "scenarios").glob("*.toml"))
    assert len(files) == 5
    kinds = set()
    for f in files:
        sc = read_scenario(f)
        assert sc.models and sc.region == DEMO.resolve()
        kinds |= {m.kind for m in sc.models}
    assert {"set_covering", "tradeoff", "p_median", "p_center", "beds_to_ratio",
            "function_centres"} <= kinds


def test_model_scenario_reruns_identically_and_meets_its_target(tmp_path, cache):
    """The beds scenario: every district reaches 7 per 1,000; two runs, same summary."""
    sc = DEMO / "scenarios" / "03_beds_7_per_1000.toml"
    res = run_scenario(sc, output=tmp_path / "a", region_cache=cache)
    run_scenario(sc, output=tmp_path / "b", region_cache=cache)
    assert (tmp_path / "a" / "summary.json").read_bytes() == \
        (tmp_path / "b" / "summary.json").read_bytes()
    plan = res.plans["beds_to_7"]
    assert plan.optimal and plan.by_unit["met"].all()
    assert (plan.by_unit["per_1000_before"] < 7).sum() == 3
    names = {p.name for p in (tmp_path / "a").iterdir()}
    assert {"plan_beds_to_7_units.csv", "plan_beds_to_7_sites.gpkg", "report"} <= names
    assert (tmp_path / "a" / "report" / "report.html").stat().st_size > 10_000


PAGES = f"""
name = "pages"
name_zh = "页面"
region = "{DEMO.as_posix()}"
language = "zh"
[[coverage]]
name = "insurance"
types = ["insurance_service_point"]
modes = ["walk", "ebike"]
minutes = [15]
[[model]]
name = "points_3"
kind = "max_covering"
existing_types = ["insurance_service_point"]
candidate_types = ["community building", "village committee", "township land"]
mode = "ebike"
minutes = 15
p = 3
"""


def test_a_run_with_maps_and_report_draws_what_it_computed(tmp_path, cache):
    """Coverage + a site model with maps and the report on: every page is written, and
    the cells the pages draw are the run's own (computed once, in the run)."""
    p = tmp_path / "pages.toml"
    p.write_text(PAGES, encoding="utf-8")
    res = run_scenario(p, output=tmp_path / "out", region_cache=cache)
    out = tmp_path / "out"
    for mode in ("walk", "ebike"):                 # one map per (question, mode)
        assert (out / f"map_insurance_{mode}.html").stat().st_size > 10_000
    assert (out / "map_points_3.html").stat().st_size > 10_000
    assert (out / "report" / "report.html").stat().st_size > 10_000
    assert set(res.cells) == {"coverage_insurance_walk", "coverage_insurance_ebike",
                              "plan_points_3"}
    cells = res.cells["plan_points_3"]
    # after the plan no cell is farther than before, and some are nearer
    before, after = cells["minutes"].to_numpy(), cells["minutes_after"].to_numpy()
    ok = ~(before != before)
    assert (after[ok] <= before[ok] + 1e-9).all() and (after[ok] < before[ok]).any()


def test_a_plan_carries_its_standards_and_gaps_before_and_after(zh_run):
    """Urban/rural standards per cell (12/20 min) and the gaps a page needs are in the
    run's result: each demand cell's standard, whether it meets it, and gap areas that
    hold exactly the people not meeting it (the p-center standards model of the Chinese
    run, ``tests/zh_pages.py``: target 90 %)."""
    res, _ = zh_run
    cells = res.cells["plan_stations"]
    assert set(cells["standard_min"].unique()) == {12.0, 20.0}
    after = cells["minutes_after"].fillna(float("inf"))
    assert (cells["meets_after"] == (after <= cells["standard_min"])).all()
    pop = cells["population"]
    share = pop[cells["meets_after"]].sum() / pop.sum()
    assert share >= 0.9 - 1e-9                 # the plan's own target, cell by cell
    assert share == pytest.approx(res.plans["stations"].share_after, abs=1e-6)
    # (the gaps before the plan are grouped the same way; grouping that county-wide
    # gap takes half a minute, so only the after side is grouped here)
    g = res.plan_gaps("stations", "after")
    assert g["population"].sum() == pytest.approx(pop[~cells["meets_after"]].sum())
    assert res.tables["gaps_plan_stations_after"] is g            # grouped once
    assert (~cells["meets_after"]).sum() < (~cells["meets_before"]).sum()


def test_travel_profiles_of_a_scenario_are_applied(tmp_path, cache):
    """[travel] profiles changes every travel time of the run: walking at 2.5 km/h covers
    fewer people in 15 minutes than the default 5 km/h, in the coverage table and in a
    model's plan; a broken profiles file fails at load, naming the file."""
    slow = tmp_path / "slow_walk.toml"
    slow.write_text("[walk]\ndefault_speed_kmh = 2.5\n", encoding="utf-8")
    body = f"""
name = "walk"
region = "{DEMO.as_posix()}"
maps = false
report = false
[[coverage]]
name = "insurance"
types = ["insurance_service_point"]
modes = ["walk"]
minutes = [15]
[[model]]
name = "points_2"
kind = "max_covering"
existing_types = ["insurance_service_point"]
candidate_types = ["community building"]
mode = "walk"
minutes = 15
p = 2
"""
    shares = {}
    for name, extra in (("default", ""), ("slow", "[travel]\nprofiles = \"slow_walk.toml\"\n")):
        p = tmp_path / f"{name}.toml"
        p.write_text(body.replace("report = false\n", "report = false\n" + extra),
                     encoding="utf-8")
        res = run_scenario(p, output=tmp_path / name, region_cache=cache)
        cov = res.summary["coverage"][0]["modes"]["walk"]["share_15min"]
        shares[name] = (cov, res.plans["points_2"].share_after)
    assert shares["slow"][0] < shares["default"][0] - 0.02
    assert shares["slow"][1] < shares["default"][1] - 0.02
    bad = tmp_path / "bad_profiles.toml"
    bad.write_text("[walk\ndefault_speed_kmh = 2.5\n", encoding="utf-8")
    p = tmp_path / "bad.toml"
    p.write_text(body.replace("report = false\n",
                              'report = false\n[travel]\nprofiles = "bad_profiles.toml"\n'),
                 encoding="utf-8")
    from geoplan.scenario.spec import read_scenario
    with pytest.raises(GeoplanInputError, match="bad_profiles.toml"):
        read_scenario(p)


def test_every_shipped_scenario_runs_and_meets_its_targets(tmp_path):
    """The README's main job: every scenario shipped with the demo runs, maps and report
    included, and each plan meets the target its file states, recomputed here from the
    plan's own per-unit table and sites (not from the solver's objective)."""
    import tomllib

    import pandas as pd
    cache: dict = {}
    for f in sorted((DEMO / "scenarios").glob("*.toml")):
        spec = tomllib.loads(f.read_text(encoding="utf-8"))
        res = run_scenario(f, output=tmp_path / f.stem, region_cache=cache)
        out = tmp_path / f.stem
        assert (out / "summary.json").is_file() and (out / "run_log.json").is_file()
        if spec.get("report", True):
            assert list(out.glob("*.html")), f"{f.name}: no page written"
            # every figure of the report, in its language and in the other, is the run's
            lang = spec.get("language", "en")
            html = (out / "report" / "report.html").read_text(encoding="utf-8")
            checked = check_report(out, spec, html, lang)
            other = build_report(ReportInputs(
                plans={m["name"]: res.plans[m["name"]] for m in spec.get("model", [])
                       if m["kind"] != "tradeoff"},
                units=res.tables.get(f"coverage_{spec['coverage'][0]['name']}")
                if spec.get("coverage") else None,
                gaps=report_gaps(res.scenario, res, "en" if lang == "zh" else "zh")),
                lang="en" if lang == "zh" else "zh")
            assert check_report(out, spec, other.html, "en" if lang == "zh" else "zh") \
                == checked > 0
        for m in spec.get("model", []):
            plan = res.plans[m["name"]]
            assert plan.status in ("optimal", "time_limit"), (f.name, m["name"], plan)
            if plan.status == "time_limit":
                assert plan.bound == plan.bound and plan.gap == plan.gap   # not NaN
            if m["kind"] == "set_covering" and "urban_minutes" not in m:
                total = pd.DataFrame(plan.by_unit).iloc[-1]
                share = float(total["covered_after"]) / float(total["population"])
                assert share >= m.get("target_share", 1.0) - 1e-9, (f.name, m["name"])
            if m["kind"] == "p_median":
                assert plan.n_new == m["p"]
            if m["kind"] == "beds_to_ratio":
                units = pd.DataFrame(plan.by_unit)
                units = units[units.iloc[:, 0].astype(str) != "total"]
                per_1000 = 1000 * units["beds_after"] / units["population"]
                assert len(units) and (per_1000 >= m["ratio"] - 1e-6).all()
                sites = pd.DataFrame(plan.sites)
                added = float(sites.get("beds_added", pd.Series(dtype=float)).sum())
                new = int((sites.get("status") == "new").sum()) if "status" in sites else 0
                expect = added * m["cost_per_bed"] + new * m.get("new_site_fixed_cost", 0.0)
                assert plan.objective == pytest.approx(expect, rel=1e-9), (plan.objective,
                                                                           expect)


def test_plan_maps_draw_what_each_model_decided(zh_run):
    """The standards plan's map draws the area within each cell's own standard (12/20
    min) before and after, and the gaps left after it - never its 40-minute search limit
    as a covered area; its subtitle carries the plan's share after. (The map is the run's
    page; the layer names are the label catalogue's, in Chinese.)"""
    import html as html_mod

    from geoplan import labels

    res, out = zh_run
    page = html_mod.unescape((out / "map_stations.html").read_text(encoding="utf-8"))
    std = labels.text("map.standard_min", "zh", m="12/20")
    for when in ("before", "after"):
        assert labels.text(f"map.standard_{when}", "zh", std=std) in page
    assert labels.text("map.gaps_after", "zh") in page
    assert labels.text("map.covered_after", "zh", m="40") not in page
    shown = labels.figure("share_after", res.plans["stations"].share_after, "share", "zh")
    assert f"{shown[0]} {shown[1]}" in page
    # the gaps drawn hold exactly the people not within their standard after the plan
    g = res.plan_gaps("stations", "after")
    cells = res.cells["plan_stations"]
    assert g["population"].sum() == pytest.approx(
        cells["population"][~cells["meets_after"]].sum())

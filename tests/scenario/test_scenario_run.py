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
from geoplan.scenario.outputs import report_equity, report_gaps
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
    assert len(files) == 8
    kinds = set()
    for f in files:
        sc = read_scenario(f)
        assert sc.models and sc.region == DEMO.resolve()
        kinds |= {m.kind + ("+capacity" if getattr(m, "capacity", None) else "")
                  for m in sc.models}
    assert {"set_covering", "tradeoff", "p_median", "p_center", "beds_to_ratio",
            "function_centres", "max_covering+capacity", "tiered"} <= kinds


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


def test_every_shipped_scenario_runs_and_meets_its_targets(shipped_runs):
    """The README's main job: every scenario shipped with the demo runs, maps and report
    included, and each plan meets the target its file states, recomputed here from the
    plan's own per-unit table and sites (not from the solver's objective)."""
    import pandas as pd
    assert len(shipped_runs) == len(list((DEMO / "scenarios").glob("*.toml"))) >= 5
    for f, spec, res, out in shipped_runs:
        assert (out / "summary.json").is_file() and (out / "run_log.json").is_file()
        if spec.get("report", True):
            assert list(out.glob("*.html")), f"{f.name}: no page written"
            # every figure of the report, in its language and in the other, is the run's
            lang = spec.get("language", "en")
            html = (out / "report" / "report.html").read_text(encoding="utf-8")
            checked = check_report(out, spec, html, lang, res.cells)
            other = build_report(ReportInputs(
                plans={m["name"]: res.plans[m["name"]] for m in spec.get("model", [])
                       if m["kind"] != "tradeoff"},
                units=res.tables.get(f"coverage_{spec['coverage'][0]['name']}")
                if spec.get("coverage") else None,
                gaps=report_gaps(res.scenario, res, "en" if lang == "zh" else "zh"),
                equity=report_equity(res)),
                lang="en" if lang == "zh" else "zh")
            assert check_report(out, spec, other.html, "en" if lang == "zh" else "zh",
                                res.cells) \
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
            if m.get("capacity"):        # no site serves more than its capacity
                sites = pd.read_csv(out / f"plan_{m['name']}_sites.csv", encoding="utf-8-sig")
                assert (sites["served"] <= sites["capacity"] * (1 + 1e-9) + 1e-6).all()
                if m["kind"] != "p_median":
                    assert sites["served"].sum() == pytest.approx(plan.covered_after,
                                                                  rel=1e-6)
            if m["kind"] == "tiered":
                _check_tiered(out, m, plan, res.cells[f"plan_{m['name']}"])
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


def _check_tiered(out, m, plan, cells) -> None:
    """A tiered plan keeps its rules, recomputed from its sites file: every facility of a
    lower tier refers to one of a higher tier within its tier's referral minutes; today's
    facilities stay, at their tier or higher; and the pages' cells (nearest facility by
    the lowest tier's mode, an independent search) meet the lowest standard exactly where
    the model says its lowest tier covers them."""
    import numpy as np
    import pandas as pd

    from geoplan.inputs.region import load_region
    sites = pd.read_csv(out / f"plan_{m['name']}_sites.csv", encoding="utf-8-sig",
                        dtype={"site_id": str, "referral_id": str})
    tier = dict(zip(sites["site_id"], sites["tier"], strict=True))
    for row in sites.itertuples():
        t = m["tiers"][row.tier - 1]
        if "referral_minutes" in t:
            assert row.referral_minutes <= t["referral_minutes"] + 1e-9, row
            assert tier[row.referral_id] < row.tier, row
    fac = load_region(DEMO, layers=("facilities",)).facilities
    for k, t in enumerate(m["tiers"], start=1):
        today = fac[fac["type"].isin(t.get("existing_types", []))]["id"].astype(str)
        assert all(1 <= tier.get(i, 0) <= k for i in today), (t["name"], list(today))
    covered = plan.details["covered_rows"][:, -1]
    assert np.array_equal(cells["meets_after"].to_numpy(bool), covered)


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


# ------------------------------------------------------- every shipped page, offline
# (right after the run test above: one worker usually runs both on one shipped_runs)

_LABEL_BOXES = """
var c = window.geoplanMap.getContainer().getBoundingClientRect(), out = [];
document.querySelectorAll('.gp-label span, .gp-place span').forEach(function (s) {
  if (s.style.visibility === 'hidden') { return; }
  var r = s.getBoundingClientRect();
  if (!r.width || r.right < c.left || r.left > c.right || r.bottom < c.top
      || r.top > c.bottom) { return; }
  out.push([r.left, r.top, r.right, r.bottom, s.textContent,
            s.parentElement.className]);
});
return out;
"""

_CONTROLS_OVER = """
var map = window.geoplanMap, c = map.getContainer().getBoundingClientRect(), out = [];
var pts = arguments[0];
['.gp-legend', '.leaflet-control-layers', '.gp-title', '.gp-toggle', '.gp-notice']
  .forEach(function (sel) {
    var el = document.querySelector(sel);
    if (!el || el.offsetParent === null) { return; }
    var r = el.getBoundingClientRect();
    var hits = pts.filter(function (ll) {
      var p = map.latLngToContainerPoint(ll);
      var x = p.x + c.left, y = p.y + c.top;
      return x > r.left && x < r.right && y > r.top && y < r.bottom;
    }).length;
    if (hits) { out.push([sel, hits]); }
  });
return out;
"""

_BASE = """
var checked = Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))
  .filter(function (l) { return l.querySelector('input').checked; })
  .map(function (l) { return l.textContent.trim(); });
return {base: checked, notice: (document.querySelector('.gp-notice') || {}).textContent || '',
        roads: document.querySelectorAll('.leaflet-gpBase-pane path').length,
        places: document.querySelectorAll('.gp-place').length,
        villages: document.querySelectorAll('.gp-place.gp-minor').length};
"""


def _overlapping(boxes: list) -> list:
    """Pairs of label boxes that overlap (by more than a pixel's rounding)."""
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 \
                    and b[1] < a[3] - 0.5:
                out.append((a[4], b[4]))
    return out


def _expected_layers(spec: dict, summary: dict, out: Path, page: str) -> list[str]:
    """The overlays a shipped plan map must have on when it opens, from the scenario file
    and the run's own files (not from the page): the standard as the model used it and
    the gaps it leaves (covering models), its worst-served residents (p-center)."""
    from geoplan import labels
    from geoplan.optimize.figures import COVERING_MODELS

    models = {m["name"]: m for m in spec.get("model", [])}
    name = page.removeprefix("map_")
    if name not in models:
        return []
    m = models[name]
    fig = next(x for x in summary["models"] if x["name"] == name)
    want = []
    if fig["model"] in COVERING_MODELS:
        std = sorted({float(m[k]) for k in ("urban_minutes", "rural_minutes") if k in m}
                     or {float(m["minutes"])})
        want.append(labels.text("map.standard_after", "zh", std=labels.text(
            "map.standard_min", "zh", m="/".join(f"{v:g}" for v in std))))
        import geopandas as gpd

        gaps = gpd.read_file(out / f"plan_{name}_gaps_after.gpkg")
        if len(gaps):
            want.append(labels.text("map.gaps_after", "zh"))
    elif fig["model"] == "p_center":
        want.append(labels.text("map.worst_after", "zh", m="")[:-4])   # "... (≥"
    elif fig["model"] == "tiered_plan":           # each tier, the referral links
        import pandas as pd
        sites = pd.read_csv(out / f"plan_{name}_sites.csv", encoding="utf-8-sig")
        for k, t in enumerate(m["tiers"], start=1):
            n = int((sites["tier"] == k).sum())
            want.append(labels.text("map.tier", "zh", name=t.get("name_zh", t["name"]), n=n))
        want.append(labels.text("map.referral", "zh"))
    return want


def test_every_shipped_page_offline(browser, shipped_runs) -> None:
    """Every map and report page `geoplan run` writes for the shipped scenarios, opened
    offline: no JavaScript error; the tiles fail, so the page switches to the region's own
    roads and says so; the plan maps show the standard each model used and the gaps it
    leaves (p-center: its farthest residents); no two labels overlap, at the opening view
    and zoomed to street level in the city centre (villages labelled there); Chinese pages
    carry no English word. Screenshots: test-artifacts/browser/shipped_*.png."""
    import json
    import time

    from browser_pages import WORDS, open_page, screenshot
    from zh_pages import data_values, english_words, page_text

    from geoplan import labels
    from geoplan.inputs.osm import places_of
    from geoplan.inputs.region import load_region

    region = load_region(DEMO)
    allowed = data_values(region)
    centre = places_of(region.network).query("place == 'city'").geometry.iloc[0]
    edge = region.boundaries.to_crs(4326).union_all().exterior
    outline = [[y, x] for x, y in edge.segmentize(0.002).coords]      # every ~200 m
    notice = labels.text("map.tiles_unavailable_roads", "zh")
    roads_name = labels.text("map.basemap_roads", "zh")
    pages = 0
    for f, spec, _, out in shipped_runs:
        stem = f.stem
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        # the scenario's own Chinese texts ("p中心模型") are the user's words
        own = [t.get(k, "") for t in (spec, *spec.get("model", []), *spec.get("coverage", []))
               for k in ("name_zh", "description_zh")]
        allowed_here = sorted({*allowed, *own, f"{stem}.toml"} - {""}, key=len, reverse=True)
        maps_ = sorted(out.glob("map_*.html"))
        assert maps_, stem
        for path in maps_:
            name = f"shipped_{stem}_{path.stem}"
            state, _ = open_page(browser, path, name, drawn=0.3)
            for _ in range(50):                      # the tiles fail within a moment
                base = browser.execute_script(_BASE)
                if base["notice"]:
                    break
                time.sleep(0.1)
            assert base["notice"] == notice, (name, base)
            assert base["base"] == [roads_name] and base["roads"] >= 6, (name, base)
            assert base["places"] >= 11, (name, base)     # the city and its 10 towns
            on = {k for k, v in state["overlays"] if v}
            for layer in _expected_layers(spec, summary, out, path.stem):
                assert any(o.startswith(layer) for o in on), (name, layer, sorted(on))
            # the legend, layer list and title stand clear of the study area's outline
            covered = browser.execute_script(_CONTROLS_OVER, outline)
            assert not covered, (name, covered)
            time.sleep(0.5)                      # a resize settles (moveend debounced)
            boxes = browser.execute_script(_LABEL_BOXES)
            assert boxes and not _overlapping(boxes), (name, _overlapping(boxes))
            browser.execute_script(f"window.geoplanMap.setView([{centre.y}, {centre.x}], 14,"
                                   " {animate: false});")
            time.sleep(0.4)
            street = browser.execute_script(_LABEL_BOXES)
            assert not _overlapping(street), (name, _overlapping(street))
            assert browser.execute_script(_BASE)["villages"] > 0, name
            screenshot(browser, f"{name}_centre", drawn=0.3)
            leaks = set()
            for text in browser.execute_script(WORDS):
                leaks.update(english_words(text, allowed_here))
            assert not leaks, (name, leaks)
            pages += 1
        report_html = out / "report" / "report.html"
        open_page(browser, report_html, f"shipped_{stem}_report")
        frames = browser.execute_script("""return Array.from(document.querySelectorAll(
            'iframe.map')).map(function (f) { var w = f.contentWindow;
              return !!w.geoplanMap && (w.__errors || []).length === 0; });""")
        assert frames and all(frames), (stem, frames)
        # on screen, the A4-wide maps fold their layer list to a button (it opens on hover)
        for k in range(len(frames)):
            browser.switch_to.frame(browser.find_elements("css selector", "iframe.map")[k])
            folded = browser.execute_script("""var l = document.querySelector(
                '.leaflet-control-layers'); var was = l.classList.contains(
                'leaflet-control-layers-expanded'); l.dispatchEvent(new MouseEvent(
                'mouseover', {bubbles: true})); return [was, l.classList.contains(
                'leaflet-control-layers-expanded')];""")
            browser.switch_to.default_content()
            assert folded == [False, True], (stem, k, folded)
        # printed (A4, print stylesheet): each map's legend and title stay clear of the area
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        time.sleep(0.5)                            # the maps refit to the printed layout
        try:
            for k in range(len(frames)):
                browser.switch_to.frame(browser.find_elements("css selector", "iframe.map")[k])
                covered = browser.execute_script(_CONTROLS_OVER, outline)
                browser.switch_to.default_content()
                assert not covered, (stem, "printed map", k, covered)
        finally:
            browser.switch_to.default_content()
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        words = [w for part in page_text(report_html.read_text(encoding="utf-8"))
                 for w in english_words(part, allowed_here)]
        assert not words, (stem, words)
        pages += 1
    assert pages >= 15


def test_every_shipped_report_prints(shipped_runs, tmp_path):
    """Each shipped report prints to an A4 PDF with headless Chromium: every page counted,
    each holds ink (tables, charts and the maps with their roads drawn offline)."""
    import shutil

    from browser_pages import ink, pdf_pages, missing

    from geoplan.maps.export import html_to_pdf

    reason = missing() or (None if shutil.which("pdftoppm") else
                           "poppler's pdftoppm is not installed: apt-get install poppler-utils")
    if reason:
        pytest.skip(reason)
    for f, _, _, out in shipped_runs:
        pdf = html_to_pdf(out / "report" / "report.html", tmp_path / f"{f.stem}.pdf")
        assert pdf.read_bytes()[:5] == b"%PDF-"
        folder = tmp_path / f.stem
        folder.mkdir()
        pages = pdf_pages(pdf, folder)
        assert len(pages) >= 3, (f.name, len(pages))     # summary, tables, maps
        blank = [p.name for p in pages if ink(p) < 0.01]
        assert not blank, (f.name, blank)

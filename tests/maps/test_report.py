"""Reports: one self-contained HTML per run, tables as CSV (UTF-8 BOM) and XLSX, CLI."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from maps_fixtures import demo, plan_inputs, run_map_cli

from geoplan import GeoplanInputError
from geoplan.maps import canvas as maps
from geoplan.maps import report
from geoplan.maps._html import external_references

CURVE = pd.DataFrame({"n_sites": [0, 1, 2, 3, 4], "share": [0.50, 0.61, 0.68, 0.71, 0.72],
                      "status": ["optimal"] * 4 + ["time_limit"]})


def _inputs(**kw) -> report.ReportInputs:
    d = demo()
    base = dict(title="Insurance 15-minute circle", subtitle="e-bike", region=d.region,
                inputs={"mode": "ebike", "minutes": 15}, plans={"max covering": d.plan},
                tradeoff=CURVE)
    base.update(kw)
    return report.ReportInputs(**base)


def test_report_page_tables_csv_and_xlsx(tmp_path: Path) -> None:
    d = demo()
    canvas = maps.build_map(plan_inputs(), title="Plan map", basemap="none")
    files = report.write_report(_inputs(maps={"Plan map": canvas}), tmp_path / "rep")
    page = files.html.read_text(encoding="utf-8")
    for section in ("Inputs", "Coverage by admin unit", "Plans", "Trade-off curve", "Maps"):
        assert f">{section}</h2>" in page
    assert external_references(page) == []
    # the map is embedded as a complete offline page
    [srcdoc] = re.findall(r'<iframe class="map" title="Plan map" srcdoc="([^"]*)"', page)
    inner = html.unescape(srcdoc)
    assert inner.startswith("<!DOCTYPE html>") and "Leaflet 1.9.4" in inner
    assert external_references(inner) == []
    # the chart is inline SVG, hollow marker for the point not proven optimal
    assert page.count("<svg") >= 1 and "not proven" in page

    names = sorted(p.name for p in files.csv)
    assert names == ["coverage_by_unit.csv", "facilities_by_type.csv", "inputs.csv",
                     "plan1_sites.csv", "plans.csv", "solver.csv", "tradeoff.csv"]
    for p in files.csv:
        assert p.read_bytes()[:3] == b"\xef\xbb\xbf"  # UTF-8 BOM for Excel
    sites = pd.read_csv(files.html.parent / "tables" / "plan1_sites.csv", encoding="utf-8-sig")
    cand = d.region.candidates.iloc[list(d.plan.selected)]
    assert list(sites["id"][sites["status"] == "new"]) == list(cand["id"])
    plans = pd.read_csv(files.html.parent / "tables" / "plans.csv", encoding="utf-8-sig")
    # a plan's cost is the model's (its sites' costs): this hand-made plan has no sites,
    # so the page shows no cost rather than one summed from the candidates file
    assert "cost" not in plans.columns
    assert plans["beds_added"].iloc[0] == 130
    assert plans["share_after"].iloc[0] == pytest.approx(d.plan.share_after)
    units = pd.read_csv(files.html.parent / "tables" / "coverage_by_unit.csv",
                        encoding="utf-8-sig", dtype={"admin_code": str})
    assert units["admin_name"].notna().all()
    assert (units["change"] >= -1e-12).all()  # adding sites never loses coverage
    assert units["population"].sum() == pytest.approx(d.region.population["population"].sum())

    import openpyxl

    # the workbook is for people: one sheet per CSV table, named and headed in the
    # report's language, status values as words (the CSV keeps machine names)
    book = openpyxl.load_workbook(files.xlsx, read_only=True)
    assert book.sheetnames == ["Inputs", "Facilities by type", "Coverage by unit", "Plans",
                               "Plan 1 sites", "Trade-off", "Solver details"]
    rows = list(book["Plan 1 sites"].values)
    assert rows[0][:4] == ("ID", "Name", "Type", "Status") and len(rows) == len(sites) + 1
    assert {r[3] for r in rows[1:]} <= {"new", "upgraded"}


def test_report_in_chinese_with_linked_maps(tmp_path: Path) -> None:
    canvas = maps.build_map(plan_inputs(), title="规划图", lang="zh", basemap="none")
    files = report.write_report(_inputs(title="医保服务圈", maps={"规划图": canvas}),
                                tmp_path, lang="zh", embed_maps=False, xlsx=False)
    page = files.html.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and ">各行政单元覆盖情况</h2>" in page
    assert "规划前覆盖率" in page and "新建" in page and "srcdoc" not in page
    assert '<a href="maps/map1.html">' in page
    assert (tmp_path / "maps" / "map1.html").stat().st_size > 100_000
    assert files.xlsx is None


def test_tradeoff_chart_points_and_errors() -> None:
    svg = report.tradeoff_svg(CURVE)
    assert svg.startswith("<svg") and "New sites" in svg and "Population covered (%)" in svg
    with pytest.raises(GeoplanInputError, match="trade-off"):
        report.tradeoff_svg(pd.DataFrame({"a": [1]}))


def test_missing_map_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(GeoplanInputError, match="map file not found"):
        report.build_report(_inputs(maps={"m": tmp_path / "nope.html"}))


def _run(argv: list[str], monkeypatch) -> int:
    return run_map_cli(argv, monkeypatch)


def test_cli_map_and_report_commands(tmp_path: Path, monkeypatch, capsys) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("id,name,lon,lat,status,beds_added\nN1,新站一,114.30,30.05,new,0\n"
                     "H001,,114.2,30.1,existing,40\n", encoding="utf-8")
    assert _run(["map", "demo", "--mode", "ebike", "--minutes", "15", "--lang", "zh",
                 "--basemap", "gaode", "--out", str(tmp_path / "maps"), "--name", "m"],
                monkeypatch) == 0
    page = (tmp_path / "maps" / "m.html").read_text(encoding="utf-8")
    assert "AutoNavi" in page and external_references(page) == []
    assert "geoplan_roads_" in page and 't.on("tileerror"' in page   # offline fallback
    assert _run(["map", "demo", "--mode", "ebike", "--minutes", "15", "--basemap", "roads",
                 "--out", str(tmp_path / "maps"), "--name", "r"], monkeypatch) == 0
    page = (tmp_path / "maps" / "r.html").read_text(encoding="utf-8")
    assert "geoplan_roads_" in page and "AutoNavi" not in page and "openstreetmap.org/{" \
        not in page and 't.on("tileerror"' not in page
    assert _run(["report", "demo", "--mode", "ebike", "--sites", str(sites), "--out",
                 str(tmp_path / "rep")], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "map written" in out and "report written" in out
    plan = pd.read_csv(tmp_path / "rep" / "tables" / "plan1_sites.csv", encoding="utf-8-sig")
    assert list(plan["status"]) == ["new", "upgraded"]
    assert plan["name"].iloc[1] == demo().region.facilities["name"].iloc[0]
    units = pd.read_csv(tmp_path / "rep" / "tables" / "coverage_by_unit.csv",
                        encoding="utf-8-sig")
    assert {"share_before", "share_after"} <= set(units.columns)


def test_cli_map_names_carry_mode_and_never_replace_another_map(tmp_path: Path, monkeypatch,
                                                                 capsys) -> None:
    """Two maps of different modes get different default names; a map of that name made
    by another command (here: another mode under one --name) is refused, named, and kept;
    the same command updates it; --force replaces it."""
    out = tmp_path / "maps"
    for mode in ("walk", "ebike"):
        assert _run(["map", "demo", "--mode", mode, "--out", str(out)], monkeypatch) == 0
    names = sorted(p.name for p in out.glob("*.html"))
    assert len(names) == 2 and any("walk" in n for n in names) and any("ebike" in n for n in names)
    args = ["map", "demo", "--out", str(out), "--name", "m"]
    assert _run([*args, "--mode", "ebike"], monkeypatch) == 0
    before = (out / "m.html").read_bytes()
    with pytest.raises(GeoplanInputError, match="a different map already has this name") as e:
        _run([*args, "--mode", "walk"], monkeypatch)
    assert "--mode ebike" in str(e.value) and "--force" in str(e.value)
    assert (out / "m.html").read_bytes() == before
    assert _run([*args, "--mode", "ebike"], monkeypatch) == 0        # the same command
    assert _run([*args, "--mode", "walk", "--force"], monkeypatch) == 0
    assert "--mode walk" in (out / "m.html").read_text(encoding="utf-8")[:4000]


def test_cli_plan_map_shows_before_gaps_only_before(tmp_path: Path, monkeypatch) -> None:
    """With --sites the gaps before the plan sit under the 'before' switch and the gaps
    the plan leaves under 'after' (the after view used to keep the before gaps)."""
    sites = tmp_path / "sites.csv"
    sites.write_text("id,name,lon,lat,status\nN1,新站一,114.30,30.05,new\n", encoding="utf-8")
    assert _run(["map", "demo", "--mode", "ebike", "--sites", str(sites), "--out",
                 str(tmp_path / "maps"), "--name", "p"], monkeypatch) == 0
    page = (tmp_path / "maps" / "p.html").read_text(encoding="utf-8")
    from geoplan import labels
    assert labels.text("map.gaps_before", "en") in page
    assert labels.text("map.gaps_after", "en") in page

"""``geoplan init``: a region folder from a planner's files, checked, all files or none.

The done-when test copies the demo's files under Chinese names, the facilities re-encoded
to GBK with Chinese headers (one of them not a header geoplan knows, named with
``--facilities-columns``), runs ``geoplan init`` on them and then the demo's own scenario 03
on the region it wrote: its summary must equal the demo's.
"""

from __future__ import annotations

import json
import shutil
import time
import tomllib
from pathlib import Path

import osmnx as ox
import pandas as pd
import pytest
from conftest import DEMO
from osm_fixtures import write_osm

from geoplan._errors import GeoplanInputError
from geoplan.cli.main import main
from geoplan.scenario.init import parse_columns
from geoplan.scenario.run import run_scenario
from geoplan.scenario.spec import read_scenario

#: Demo headers -> Chinese headers of the copies. 实际开放床位 is not one of the readers'
#: synonyms (beds, 床位数, 实有床位, 开放床位, ...): init is told with --facilities-columns.
FACILITY_HEADERS = {"id": "编号", "name": "名称", "name_en": "英文名称", "type": "类型",
                    "beds": "实际开放床位", "lon": "经度", "lat": "纬度", "address": "地址"}
CANDIDATE_HEADERS = {"id": "编号", "name": "名称", "site_type": "类型",
                     "fixed_cost_wan": "建设成本", "lon": "经度", "lat": "纬度"}
FILES = {"facilities": "机构.csv", "candidates": "候选点.csv", "population": "人口.tif",
         "boundaries": "边界.geojson", "roads": "路网.osm.bz2"}


def _renamed_demo(folder: Path, *, roads: bool = True) -> Path:
    """The demo's files under Chinese names; tables in GBK with Chinese headers."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, headers in (("facilities", FACILITY_HEADERS), ("candidates", CANDIDATE_HEADERS)):
        df = pd.read_csv(DEMO / f"{name}.csv", dtype=str, keep_default_na=False,
                         encoding="utf-8-sig")
        df.rename(columns=headers).to_csv(folder / FILES[name], index=False, encoding="gbk")
    shutil.copy(DEMO / "population.tif", folder / FILES["population"])
    if roads:
        shutil.copy(DEMO / "roads.osm.bz2", folder / FILES["roads"])
    b = json.loads((DEMO / "boundaries.geojson").read_text("utf-8"))
    for ft in b["features"]:
        ft["properties"] = {{"code": "区划代码", "name": "名称"}.get(k, k): v
                            for k, v in ft["properties"].items()}
    (folder / FILES["boundaries"]).write_text(json.dumps(b, ensure_ascii=False), "utf-8")
    return folder


def _init_args(folder: Path | str, *, roads: bool = True) -> list[str]:
    args = ["init", str(folder), "--facilities", FILES["facilities"],
            "--population", FILES["population"], "--boundaries", FILES["boundaries"],
            "--candidates", FILES["candidates"], "--crs", "gcj02",
            "--facilities-columns", "beds=实际开放床位", "--name", "青山市", "--lang", "zh"]
    return args + (["--roads", FILES["roads"]] if roads else [])


def _beds_scenario(region: Path, out: Path) -> Path:
    """The demo's own scenario 03 on ``region`` (no maps or report: the figures only)."""
    text = (DEMO / "scenarios" / "03_beds_7_per_1000.toml").read_text("utf-8")
    assert 'region = ".."' in text
    text = text.replace('region = ".."', f'region = "{region.as_posix()}"\nmaps = false\n'
                                         'report = false')
    out.write_text(text, "utf-8")
    return out


def _figures(summary_file: Path) -> dict:
    s = json.loads(summary_file.read_text("utf-8"))
    s.pop("region")                  # the region's name: "青山市" here, the demo's there
    s.pop("outputs", None)           # maps and report written or not
    return s


def test_init_on_renamed_gbk_files_reproduces_the_demo_beds_run(tmp_path, monkeypatch,
                                                                 capsys):
    data = _renamed_demo(tmp_path / "青山数据")
    monkeypatch.chdir(data)                     # a planner in the folder of their files
    t0 = time.perf_counter()
    assert main(_init_args(".")) == 0
    t_init = time.perf_counter() - t0
    out = capsys.readouterr().out

    manifest = tomllib.loads((data / "region.toml").read_text("utf-8"))
    assert manifest["name"] == "青山市"
    # files referenced (relative: they lie in the region folder), never copied
    assert manifest["facilities"]["path"] == "机构.csv"
    assert manifest["network"] == {"path": "路网.osm.bz2"}
    assert sorted(p.name for p in data.iterdir()) == sorted(
        [*FILES.values(), "region.toml", "scenarios"])
    # the columns geoplan matched, written explicitly
    assert {k: manifest["facilities"][k] for k in ("id", "name", "type", "beds", "lon",
                                                   "lat", "crs")} == {
        "id": "编号", "name": "名称", "type": "类型", "beds": "实际开放床位", "lon": "经度",
        "lat": "纬度", "crs": "gcj02"}
    assert manifest["candidates"]["cost"] == "建设成本"
    assert manifest["boundaries"] == {"path": "边界.geojson", "code": "区划代码", "name": "名称"}
    assert "encoding" not in manifest["facilities"]          # detected, not pinned
    text = (data / "region.toml").read_text("utf-8")
    assert "GBK/GB18030 (detected)" in text and "district_code" in text
    # what it matched, the inspection, the next command
    assert "beds=实际开放床位" in out and "encoding GBK/GB18030" in out
    assert "各类设施" in out and "== 路网" in out                 # inspected in --lang zh
    assert f"清单文件           {data / 'region.toml'}" in out
    assert f"geoplan run {data / 'scenarios'}" in out

    # every starter validates where it was written, as geoplan run reads it
    names = sorted(p.name for p in (data / "scenarios").iterdir())
    assert names == ["01_insurance_15min.toml", "02_regional_centres.toml",
                     "03_beds_7_per_1000.toml", "04_function_centres.toml",
                     "05_emergency_stations.toml"]
    for name in names:
        sc = read_scenario(data / "scenarios" / name)
        assert sc.region == data and sc.language == "zh"
        assert "LEFT OUT" not in (data / "scenarios" / name).read_text("utf-8")

    # the demo's own scenario 03 on the written region = on the demo
    t0 = time.perf_counter()
    cache: dict = {}
    run_scenario(_beds_scenario(DEMO, tmp_path / "demo03.toml"), output=tmp_path / "demo")
    run_scenario(_beds_scenario(data, tmp_path / "init03.toml"), output=tmp_path / "init",
                 region_cache=cache)
    demo, init = _figures(tmp_path / "demo" / "summary.json"), \
        _figures(tmp_path / "init" / "summary.json")
    assert init == demo
    model = init["models"][0]
    assert model["status"] == "optimal" and model["new_sites"] == 3
    assert model["beds_added"] == 2153 and all(u["met"] for u in model["by_unit"])
    # and the starter init wrote for the same question asks the same
    starter = read_scenario(data / "scenarios" / "03_beds_7_per_1000.toml")
    starter.maps = starter.report = False
    run_scenario(starter, output=tmp_path / "starter", region_cache=cache)
    assert _figures(tmp_path / "starter" / "summary.json")["models"] == demo["models"]
    print(f"init {t_init:.1f} s, runs {time.perf_counter() - t0:.1f} s")


def _fake_place(monkeypatch, tmp_path):
    """Replace the download of osmnx by a small street grid in the demo city (no network)."""
    g0 = ox.graph_from_xml(write_osm(tmp_path / "grid.osm"), retain_all=True)
    calls = []

    def fake(query, **kwargs):
        calls.append(query)
        return g0

    monkeypatch.setattr(ox, "graph_from_place", fake)
    return calls


def test_init_with_place_downloads_through_osmnx_and_refuses_to_overwrite(
        tmp_path, monkeypatch, capsys):
    calls = _fake_place(monkeypatch, tmp_path)
    region = tmp_path / "region"                        # outside the data folder
    args = ["init", str(region), "--facilities", str(DEMO / "facilities.csv"),
            "--population", str(DEMO / "population.tif"),
            "--boundaries", str(DEMO / "boundaries.geojson"),
            "--candidates", str(DEMO / "candidates.csv"),
            "--crs", "gcj02", "--place", "Qingshan, Hubei, China"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert calls == ["Qingshan, Hubei, China"]
    manifest = tomllib.loads((region / "region.toml").read_text("utf-8"))
    assert manifest["network"] == {"place": "Qingshan, Hubei, China"}
    assert manifest["facilities"]["path"] == (DEMO / "facilities.csv").as_posix()  # absolute
    assert manifest["name"] == "region" and "encoding" not in manifest["facilities"]
    assert "UTF-8 (detected)" in (region / "region.toml").read_text("utf-8")
    assert "== warnings" in out and "spans only" in out    # a 4 x 4 grid of streets
    assert read_scenario(region / "scenarios" / "01_insurance_15min.toml").language == "en"

    before = (region / "region.toml").read_bytes()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "region.toml exists already" in err and "--force" in err
    assert (region / "region.toml").read_bytes() == before
    assert main([*args, "--force", "--name", "青山市"]) == 0
    assert tomllib.loads((region / "region.toml").read_text("utf-8"))["name"] == "青山市"


def test_scenarios_whose_needs_are_not_met_are_left_out_with_the_reason(
        tmp_path, monkeypatch, capsys):
    """No beds column and no hospital, no candidates, boundaries without a level column."""
    _fake_place(monkeypatch, tmp_path)
    fac = pd.read_csv(DEMO / "facilities.csv", dtype=str, encoding="utf-8-sig")
    fac = fac[fac["type"].isin(["乡镇卫生院", "村卫生室", "医保服务站", "院前急救站"])]
    fac.drop(columns=["beds"]).to_csv(tmp_path / "f.csv", index=False)
    b = json.loads((DEMO / "boundaries.geojson").read_text("utf-8"))
    for ft in b["features"]:
        del ft["properties"]["level"]
    (tmp_path / "b.geojson").write_text(json.dumps(b, ensure_ascii=False), "utf-8")
    region = tmp_path / "r"
    assert main(["init", str(region), "--facilities", str(tmp_path / "f.csv"),
                 "--population", str(DEMO / "population.tif"), "--boundaries",
                 str(tmp_path / "b.geojson"), "--place", "Qingshan", "--crs", "gcj02"]) == 0
    out = capsys.readouterr().out
    sc = region / "scenarios"
    assert sorted(p.name for p in sc.iterdir()) == [
        "01_insurance_15min.toml", "02_regional_centres.toml",
        "03_beds_7_per_1000.toml.disabled", "04_function_centres.toml",
        "05_emergency_stations.toml"]
    beds = (sc / "03_beds_7_per_1000.toml.disabled").read_text("utf-8")
    assert "LEFT OUT: the facilities have no bed column" in beds
    assert all(ln.startswith("#") or not ln.strip() for ln in beds.splitlines())
    assert "03_beds_7_per_1000.toml.disabled: left out" in out
    s01 = read_scenario(sc / "01_insurance_15min.toml")       # coverage kept, models out
    assert [q.name for q in s01.coverage] == ["insurance_today"] and not s01.models
    assert "no candidate sites" in (sc / "01_insurance_15min.toml").read_text("utf-8")
    s02 = read_scenario(sc / "02_regional_centres.toml")      # no regional centre, no level
    assert not s02.coverage and [m.name for m in s02.models] == ["upgrade_3_median",
                                                                  "upgrade_cover_30"]
    assert all(m.existing_types is None and m.demand_levels is None for m in s02.models)
    assert read_scenario(sc / "04_function_centres.toml").models[0].host_types == (
        "township_health_centre",)
    s05 = read_scenario(sc / "05_emergency_stations.toml")
    assert [q.name for q in s05.coverage] == ["emergency_today"] and not s05.models
    manifest = tomllib.loads((region / "region.toml").read_text("utf-8"))
    assert "candidates" not in manifest and "beds" not in manifest["facilities"]


@pytest.mark.parametrize("change,expected", [
    ({"--facilities": "missing.csv"}, ["missing.csv", "file not found", "--facilities"]),
    ({"--roads": None}, ["no road network given", "--roads FILE", "--place"]),
    ({"--place": "Qingshan"}, ["not both"]),
    ({"--facilities-columns": "beds=床位总数"},
     ["no column '床位总数'", "columns found: 编号, 名称, 英文名称, 类型, 实际开放床位"]),
    ({"--facilities-columns": "bed=x"}, ["unknown column key 'bed'", "beds"]),
    ({"--facilities-columns": "beds"}, ["expected KEY=COLUMN"]),
    ({"--facilities-columns": None}, ["机构.csv", "missing required column for beds",
                                      "columns found", "--facilities-columns beds=COLUMN"]),
    ({"--population": FILES["roads"]}, ["unknown format '.osm.bz2' for population"]),
    ({"--crs": "gaode-ish"}, ["'gaode-ish' is not a coordinate reference system", "--crs"]),
])
def test_refusals_name_the_file_and_what_to_do_and_write_nothing(tmp_path, monkeypatch,
                                                                 capsys, change, expected):
    data = _renamed_demo(tmp_path / "data")
    monkeypatch.chdir(data)
    args = _init_args(tmp_path / "region")
    for flag, value in change.items():
        if flag in args:
            i = args.index(flag)
            del args[i:i + 2]
        if value is not None:
            args += [flag, value]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    for part in expected:
        assert part in err, err
    assert not (tmp_path / "region").exists()


def test_a_column_that_matches_nothing_names_the_columns_and_the_option(tmp_path, capsys):
    (tmp_path / "f.csv").write_text("编号,机构性质,X坐标,Y坐标\nA,村卫生室,114.3,30.05\n",
                                    encoding="gbk")
    args = ["init", str(tmp_path / "r"), "--facilities", str(tmp_path / "f.csv"),
            "--population", str(DEMO / "population.tif"),
            "--boundaries", str(DEMO / "boundaries.geojson"), "--place", "Qingshan"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "f.csv" in err and "facility type" in err and "机构性质" in err
    assert "--facilities-columns type=COLUMN" in err
    (tmp_path / "g.csv").write_text("编号,类型,东经,北纬\nA,村卫生室,114.3,30.05\n",
                                    encoding="utf-8")
    args[3] = str(tmp_path / "g.csv")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no column for the longitude" in err and "东经" in err
    assert "--facilities-columns lon=COLUMN" in err
    assert not (tmp_path / "r").exists()


def test_an_unreadable_layer_found_by_the_full_check_writes_nothing(tmp_path, monkeypatch,
                                                                    capsys):
    data = _renamed_demo(tmp_path / "data", roads=False)
    (data / FILES["roads"]).write_bytes(b"BZh9 not really bzip2")
    monkeypatch.chdir(data)
    assert main(_init_args(".")) == 2
    err = capsys.readouterr().err
    assert "路网.osm.bz2" in err and "cannot read the OSM file" in err
    assert not (data / "region.toml").exists() and not (data / "scenarios").exists()


def test_parse_columns():
    assert parse_columns("facilities", ["id=编号,lon=经度", "LAT = 纬度"]) == {
        "id": "编号", "lon": "经度", "lat": "纬度"}
    assert parse_columns("population", ["population=常住人口2020"]) == {
        "population": "常住人口2020"}
    with pytest.raises(GeoplanInputError, match="keys: code, name"):
        parse_columns("boundaries", ["id=x"])

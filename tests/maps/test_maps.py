"""Maps: layers, languages, basemaps and the GCJ-02 shift, offline pages, light big grids."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from maps_fixtures import coverage_inputs, demo, plan_inputs
from pyproj import Transformer

from geoplan import GeoplanInputError
from geoplan.inputs.chinacrs import wgs84_to_gcj02
from geoplan.maps import canvas as maps
from geoplan.maps._grid import display_grid
from geoplan.maps._html import external_references
from geoplan.maps._style import GeoLayer
from geoplan.optimize.plan import Plan

UTM = "EPSG:32650"
LON, LAT = 114.3, 30.05


def _cells(n: int = 20, size: float = 100.0) -> gpd.GeoDataFrame:
    """Return an n x n grid of 100 m cells in UTM 50N near (LON, LAT), with travel times."""
    x0, y0 = Transformer.from_crs(4326, UTM, always_xy=True).transform(LON, LAT)
    r, c = np.divmod(np.arange(n * n), n)
    xy = np.column_stack([x0 + c * size, y0 + r * size])
    return gpd.GeoDataFrame({
        "cell_id": np.arange(n * n), "population": 10.0 + r, "row": r, "col": c,
        "cell_area_m2": size * size, "admin_code": np.where(c < n // 2, "A", "B"),
        "minutes": (c * 2.0).astype(float)},  # column c is 2c minutes away
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=UTM)


def _facility(lon: float = LON, lat: float = LAT) -> gpd.GeoDataFrame:
    pt = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(UTM)
    return gpd.GeoDataFrame({"id": ["F1"], "name": ["测试卫生院"], "type": [
        "township_health_centre"], "beds": [20.0], "admin_code": ["A"],
        "admin_name": ["甲镇"]}, geometry=pt.values, crs=UTM)


def _layer(canvas: maps.MapCanvas, name: str) -> GeoLayer:
    for child in canvas.fmap._children.values():
        if isinstance(child, GeoLayer) and child.layer_name == name:
            return child
    raise AssertionError(f"no layer {name!r} in {canvas.layers}")


def _features(layer: GeoLayer) -> list[dict]:
    return json.loads(layer.data)["features"]


# --------------------------------------------------------------------------- pages
def test_offline_page_inlines_leaflet_and_loads_nothing_from_outside() -> None:
    canvas = maps.new_map(_cells(), title="t", basemap="osm")
    maps.add_facilities(canvas, _facility())
    page = maps.render_map(canvas, offline=True)
    assert external_references(page) == []
    assert "Leaflet 1.9.4" in page and "L.geoJson(" in page
    assert "jquery" not in page.lower() and "font-awesome" not in page.lower()
    assert "data:image/png;base64," in page  # the layer-control icon of leaflet.css

    online = maps.render_map(maps.new_map(_cells(), basemap="none"), offline=False)
    refs = external_references(online)
    assert refs and all("leaflet@1.9.4" in u for u in refs)


def test_gcj02_shift_on_gaode_not_on_osm() -> None:
    fac = _facility()
    glon, glat = (float(v) for v in wgs84_to_gcj02(LON, LAT))
    assert abs(glon - LON) + abs(glat - LAT) > 1e-3  # ~500 m: a real offset here
    coords = {}
    for base in ("osm", "gaode", "none"):
        canvas = maps.new_map(fac.buffer(1000), basemap=base)
        [name] = maps.add_facilities(canvas, fac)
        coords[base] = _features(_layer(canvas, name))[0]["geometry"]["coordinates"]
    assert coords["osm"] == pytest.approx([LON, LAT], abs=2e-6)
    assert coords["none"] == pytest.approx([LON, LAT], abs=2e-6)
    assert coords["gaode"] == pytest.approx([glon, glat], abs=2e-6)


def test_unknown_language_and_basemap_are_input_errors() -> None:
    with pytest.raises(GeoplanInputError, match="language"):
        maps.new_map(_cells(), lang="fr")
    with pytest.raises(GeoplanInputError, match="basemap"):
        maps.new_map(_cells(), basemap="google")
    with pytest.raises(GeoplanInputError, match="population"):
        maps.add_population(maps.new_map(_cells()), _cells().drop(columns="population"))
    with pytest.raises(GeoplanInputError, match="minutes"):
        maps.add_coverage(maps.new_map(_cells()), _cells().drop(columns="minutes"), [15])


# --------------------------------------------------------------------------- display grid
@pytest.mark.parametrize("gcj02", [False, True])
def test_display_grid_puts_every_cell_under_its_own_pixels(gcj02: bool) -> None:
    cells = _cells()
    grid = display_grid(cells, gcj02=gcj02)
    lon, lat = Transformer.from_crs(UTM, 4326, always_xy=True).transform(
        cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy())
    if gcj02:
        lon, lat = wgs84_to_gcj02(lon, lat)
    mx, my = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    col = ((mx - grid.x0) / grid.pixel).astype(int)
    row = ((grid.y1 - my) / grid.pixel).astype(int)
    assert np.array_equal(grid.index[row, col], np.arange(len(cells)))
    # about 1.5 x 1.5 pixels per 100 m cell (Mercator scale at 30 N), no cell lost
    counts = np.bincount(grid.index[grid.index >= 0], minlength=len(cells))
    assert counts.min() >= 1 and abs(counts.mean() - 1.5**2) < 0.6


def test_covered_area_polygons_match_the_covered_cells() -> None:
    cells = _cells()
    canvas = maps.new_map(cells)
    names = maps.add_coverage(canvas, cells, [10, 20])
    assert names == ["Covered within 10 min", "Covered within 20 min"]
    for name, minutes in zip(names, (10, 20), strict=True):
        [feat] = _features(_layer(canvas, name))
        geom = gpd.GeoSeries([shapely.geometry.shape(feat["geometry"])], crs=4326).to_crs(UTM)
        expected = (cells["minutes"] <= minutes).sum() * 100.0 * 100.0
        assert geom.area.iloc[0] == pytest.approx(expected, rel=0.08)
        people = cells.loc[cells["minutes"] <= minutes, "population"].sum()
        assert f"{people:,.0f}" in feat["properties"]["_p"]


def test_population_image_has_classes_and_a_legend() -> None:
    canvas = maps.new_map(_cells())
    name = maps.add_population(canvas, _cells(), breaks=[1500, 2000, 2500])
    page = maps.render_map(canvas)
    assert name == "Population (people per km²)"
    assert "L.imageOverlay(\"data:image/png;base64," in page
    for label in ("&lt; 1,500", "1,500 – 2,000", "≥ 2,500"):
        assert label in page


# --------------------------------------------------------------------------- layers
def test_facility_popups_show_name_type_beds_catchment_and_time() -> None:
    fac = _facility().assign(catchment_population=12345.0, travel_time_min=7.25)
    canvas = maps.new_map(fac.buffer(500), lang="zh")
    [name] = maps.add_facilities(canvas, fac)
    assert name == "设施：乡镇卫生院（1）"
    [feat] = _features(_layer(canvas, name))
    popup = feat["properties"]["_p"]
    for text in ("测试卫生院", "乡镇卫生院", "20", "12,345", "7.2", "甲镇"):
        assert text in popup
    assert feat["properties"]["_i"] == "township_health_centre"


def test_units_shaded_by_share_and_beds_against_seven_per_thousand() -> None:
    d = demo()
    canvas = maps.new_map(d.region.boundaries)
    names = maps.add_units(canvas, d.region.boundaries, d.beds)
    assert names == ["Beds per 1,000 (target 7)"]
    feats = _features(_layer(canvas, names[0]))
    assert len(feats) == 4  # dissolved to the 4 districts of the beds table
    table = d.beds[d.beds["district_code"] != "total"]
    met = {f"{v:.2f}" for v in table.loc[table["beds_per_1000"] >= 7, "beds_per_1000"]}
    assert met  # the demo has a district above the target and some below
    for f in feats:
        ratio = re.search(r": ([\d.,]+)$", f["properties"]["_t"]).group(1)
        green = f["properties"]["_s"]["fillColor"] == "#1a9641"
        assert green == (ratio in met)
    shares = maps.add_units(canvas, d.region.boundaries, d.units)
    assert shares == ["Share within 10 min by unit", "Share within 15 min by unit"]
    assert len(_features(_layer(canvas, shares[1]))) == len(d.region.boundaries)


def test_gaps_are_ranked_and_the_largest_labelled() -> None:
    d = demo()
    canvas = maps.new_map(d.region.boundaries)
    name = maps.add_gaps(canvas, d.gaps, top=3)
    feats = _features(_layer(canvas, name))
    labels = [f["properties"]["_l"] for f in feats if "_l" in f["properties"]]
    assert [lab.split()[0] for lab in labels] == ["#1", "#2", "#3"]
    assert labels[0].endswith(f"{d.gaps['population'].iloc[0]:,.0f}")
    areas = [f for f in feats if "_p" in f["properties"]]
    assert len(areas) == len(d.gaps)


def test_plan_sites_from_candidate_indices_and_beds_by_facility_id() -> None:
    d = demo()
    sites = maps.plan_sites(d.plan, d.region.candidates, d.region.facilities)
    new = sites[sites["status"] == "new"]
    assert list(new["id"]) == list(d.region.candidates["id"].iloc[list(d.plan.selected)])
    assert list(new["cost"]) == list(d.region.candidates["cost"].iloc[list(d.plan.selected)])
    up = sites[sites["status"] == "upgraded"]
    assert list(up["id"]) == list(d.hospitals) and list(up["beds_added"]) == [50.0, 80.0]
    with pytest.raises(GeoplanInputError, match="candidates"):
        maps.plan_sites(d.plan)


def test_plan_sites_from_the_gis_front_door_table() -> None:
    d = demo()
    cand = d.region.candidates
    sites = gpd.GeoDataFrame({
        "site_id": ["S0001", "H001", "H002"], "status": ["new", "existing", "existing"],
        "beds_added": [0.0, 30.0, 0.0]},
        geometry=[cand.geometry.iloc[0], *d.region.facilities.geometry.iloc[:2]], crs=cand.crs)
    plan = Plan(model="beds", selected=np.array([0]), existing=np.array([0, 1]),
                status="optimal", objective=1.0, bound=1.0, gap=0.0, solver="x", build_s=0,
                solve_s=0, sites=sites)
    out = maps.plan_sites(plan, cand, d.region.facilities)
    assert list(out["id"]) == ["S0001", "H001"]  # H002 adds nothing: not drawn
    assert list(out["status"]) == ["new", "upgraded"]
    assert out["name"].iloc[1] == d.region.facilities["name"].iloc[0]


def test_plan_map_pairs_before_and_after_layers() -> None:
    canvas = maps.build_map(plan_inputs(), title="plan", lang="en", basemap="none")
    before, after = canvas.toggle["before"], canvas.toggle["after"]
    assert set(before) == {"covered:15", "share"}
    assert set(after) == {"covered:15", "share", "plan:new", "plan:upgraded"}
    assert not before["covered:15"].show and after["covered:15"].show
    assert "Plan: new sites (5)" in canvas.layers
    assert "Plan: upgraded facilities, +beds (2)" in canvas.layers
    page = maps.render_map(canvas)
    assert "geoplanShow" in page and "After plan" in page


# --------------------------------------------------------------------------- demo map
def test_demo_map_is_light_and_written_to_maps_atomically(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    canvas = maps.build_map(coverage_inputs(), title="Qingshan 15-minute", lang="zh",
                            basemap="gaode")
    path = maps.save_map(canvas)
    assert path == Path("maps") / "qingshan-15-minute.html"
    assert path.stat().st_size < 10e6
    assert [p.name for p in (tmp_path / "maps").iterdir()] == [path.name]  # no temp left
    page = path.read_text(encoding="utf-8")
    assert external_references(page) == []
    for name in canvas.layers:  # in the layer control (folium writes ASCII escapes)
        assert json.dumps(name) in page
    d = demo()
    assert len(re.findall(r'"_i":"', page)) == len(d.region.facilities)


def test_default_map_path_keeps_chinese_and_drops_punctuation() -> None:
    assert maps.default_map_path("青山市：15分钟 覆盖") == Path("maps/青山市-15分钟-覆盖.html")
    assert maps.default_map_path("???", "out") == Path("out/map.html")


def test_units_table_needs_a_code_column() -> None:
    d = demo()
    with pytest.raises(GeoplanInputError, match="admin_code"):
        maps.add_units(maps.new_map(d.region.boundaries), d.region.boundaries,
                       pd.DataFrame({"x": [1]}))


def test_a_capacitated_plan_shows_each_sites_load() -> None:
    """Capacity, people served and share used, as the plan assigned them: in the new
    site's popup, and a layer of the existing sites' loads (after the plan)."""
    d = demo()
    cand = d.region.candidates
    sites = gpd.GeoDataFrame({
        "site_id": ["S0001", "H001"], "status": ["new", "existing"],
        "beds_added": [0.0, 0.0], "capacity": [5000.0, 8000.0],
        "served": [4000.0, 8000.0], "use": [0.8, 1.0]},
        geometry=[cand.geometry.iloc[0], d.region.facilities.geometry.iloc[0]], crs=cand.crs)
    plan = Plan(model="capacitated_max_covering", selected=np.array([0]),
                existing=np.array([0]), status="optimal", objective=1.0, bound=1.0, gap=0.0,
                solver="x", build_s=0, solve_s=0, sites=sites)
    canvas = maps.new_map(cand, title="t", lang="en", basemap="none")
    made = maps.add_plan(canvas, plan, candidates=cand, facilities=d.region.facilities)
    assert "Plan: people served by existing sites (1)" in made
    [load] = _features(_layer(canvas, "Plan: people served by existing sites (1)"))
    assert "8,000" in load["properties"]["_p"] and "100%" in load["properties"]["_p"]
    [new] = _features(_layer(canvas, made[0]))
    assert "4,000" in new["properties"]["_p"] and "80%" in new["properties"]["_p"]
    assert "plan:loads" in canvas.toggle["after"]

"""The sites a plan writes: lon/lat in WGS-84 and in the inputs' own system (GCJ-02 /
BD-09), and the new sites as GeoJSON (RFC 7946) and KML (Google Earth).

The round trip is checked against numbers the reader never saw: the demo's candidates and
facilities are GCJ-02 CSV files (parsed here with the csv module), and its
``facilities_wgs84_truth.csv`` holds the WGS-84 points they were made from.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import DEMO
from pyproj import Geod
from shapely.geometry import Point

from geoplan.cli.main import main
from geoplan.inputs.chinacrs import wgs84_to_bd09
from geoplan.inputs.readers import read_candidates
from geoplan.inputs.region import Region
from geoplan.inputs.studyarea import StudyArea
from geoplan.scenario.outputs import KML_NS, site_table, write_site_files
from geoplan.scenario.run import run_scenario

GEOD = Geod(ellps="WGS84")
OLD_COLUMNS = ["site_id", "name", "kind", "type", "cost", "beds", "admin_code", "admin_name",
               "status", "id"]


def _csv_points(path) -> dict[str, tuple[float, float]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {r["id"]: (float(r["lon"]), float(r["lat"])) for r in csv.DictReader(f)}


def _metres(table: pd.DataFrame, lon: str, lat: str, ref: dict) -> np.ndarray:
    x = np.array([ref[i][0] for i in table["site_id"]])
    y = np.array([ref[i][1] for i in table["site_id"]])
    return GEOD.inv(table[lon].to_numpy(float), table[lat].to_numpy(float), x, y)[2]


@pytest.fixture(scope="module")
def optimized(tmp_path_factory):
    out = tmp_path_factory.mktemp("opt")
    code = main(["optimize", str(DEMO), "--model", "max_covering", "--mode", "ebike",
                 "--minutes", "15", "--existing-types", "insurance_service_point",
                 "--candidate-types", "community building", "village committee", "--p", "3",
                 "--out", str(out)])
    assert code == 0
    return out


def test_sites_csv_round_trips_gcj02_within_a_metre(optimized):
    sites = pd.read_csv(optimized / "max_covering_sites.csv", encoding="utf-8-sig",
                        dtype={"site_id": str, "id": str})
    assert list(sites.columns[:len(OLD_COLUMNS)]) == OLD_COLUMNS     # added, not renamed
    assert {"lon_wgs84", "lat_wgs84", "lon_gcj02", "lat_gcj02"} <= set(sites.columns)
    assert not {"lon_bd09", "lat_bd09"} & set(sites.columns)         # no BD-09 input
    new = sites[sites["status"] == "new"]
    old = sites[sites["status"] == "existing"]
    assert len(new) == 3 and len(old) > 0
    cand = _csv_points(DEMO / "candidates.csv")                     # GCJ-02, as typed
    d = _metres(new, "lon_gcj02", "lat_gcj02", cand)
    print(f"new sites: lon_gcj02/lat_gcj02 within {d.max():.1e} m of the input")
    assert d.max() < 1.0
    assert _metres(new, "lon_wgs84", "lat_wgs84", cand).min() > 100  # WGS-84 is elsewhere
    fac = _csv_points(DEMO / "facilities.csv")
    assert _metres(old, "lon_gcj02", "lat_gcj02", fac).max() < 1.0
    truth = _csv_points(DEMO / "facilities_wgs84_truth.csv")         # independent truth
    assert _metres(old, "lon_wgs84", "lat_wgs84", truth).max() < 1.0
    gpkg = gpd.read_file(optimized / "max_covering_sites.gpkg")
    assert {"lon_wgs84", "lon_gcj02"} <= set(gpkg.columns)


def test_new_sites_geojson_is_rfc7946_wgs84(optimized):
    sites = pd.read_csv(optimized / "max_covering_sites.csv", encoding="utf-8-sig",
                        dtype={"site_id": str, "id": str})
    new = sites[sites["status"] == "new"].set_index("site_id")
    fc = json.loads((optimized / "max_covering_new_sites.geojson").read_text("utf-8"))
    assert fc["type"] == "FeatureCollection" and "crs" not in fc    # RFC 7946: WGS-84 only
    assert sorted(f["properties"]["site_id"] for f in fc["features"]) == sorted(new.index)
    for f in fc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        row = new.loc[f["properties"]["site_id"]]
        assert (lon, lat) == pytest.approx((row["lon_wgs84"], row["lat_wgs84"]), abs=1e-9)
        assert f["properties"]["type"] == row["type"]
        assert f["properties"]["beds"] is None                      # NaN is null, not NaN
    g = gpd.read_file(optimized / "max_covering_new_sites.geojson")
    assert g.crs.to_epsg() == 4326 and len(g) == 3


def test_new_sites_kml_names_id_and_type(optimized):
    sites = pd.read_csv(optimized / "max_covering_sites.csv", encoding="utf-8-sig",
                        dtype={"site_id": str, "id": str})
    new = sites[sites["status"] == "new"].set_index("site_id")
    path = optimized / "max_covering_new_sites.kml"
    ns = {"k": KML_NS}
    marks = ET.parse(path).getroot().findall("k:Document/k:Placemark", ns)
    assert len(marks) == 3
    cand = _csv_points(DEMO / "candidates.csv")
    for pm in marks:
        data = {d.get("name"): d.findtext("k:value", namespaces=ns)
                for d in pm.findall("k:ExtendedData/k:Data", ns)}
        sid = data["site_id"]
        assert pm.findtext("k:name", namespaces=ns).startswith(sid)
        assert new.loc[sid, "type"] in pm.findtext("k:description", namespaces=ns)
        assert data["type"] == new.loc[sid, "type"]
        lon, lat = map(float, pm.findtext("k:Point/k:coordinates", namespaces=ns).split(","))
        assert GEOD.inv(lon, lat, new.loc[sid, "lon_wgs84"], new.loc[sid, "lat_wgs84"])[2] < 0.05
        assert GEOD.inv(lon, lat, *cand[sid])[2] > 100               # KML is WGS-84, not GCJ
    if "KML" in pyogrio.list_drivers():                              # GDAL reads it back
        back = pyogrio.read_dataframe(path)
        assert len(back) == 3 and set(back["site_id"]) == set(new.index)


def test_bd09_candidates_get_bd09_columns(tmp_path):
    lon = np.array([114.30, 114.41, 114.22])
    lat = np.array([30.05, 29.98, 30.12])
    bx, by = wgs84_to_bd09(lon, lat)
    text = "id,name,type,lon,lat\n" + "".join(
        f"B{i},点{i},village committee,{bx[i]:.7f},{by[i]:.7f}\n" for i in range(3))
    p = tmp_path / "baidu.csv"
    p.write_text(text, encoding="utf-8")
    cand = read_candidates(p, crs="bd09")
    assert cand.attrs["source_crs"] == "bd09"
    region = Region(name="r", area=StudyArea(crs=cand.crs), candidates=cand)
    sites = gpd.GeoDataFrame({"site_id": cand["id"], "type": cand["type"],
                              "status": ["new", "new", "existing"]},
                             geometry=cand.geometry.values, crs=cand.crs)
    t = site_table(sites, region)
    assert not {"lon_gcj02", "lat_gcj02"} & set(t.columns)
    d = GEOD.inv(t["lon_bd09"], t["lat_bd09"], bx, by)[2]
    assert d.max() < 1.0
    assert GEOD.inv(t["lon_wgs84"], t["lat_wgs84"], lon, lat)[2].max() < 1.0
    names = write_site_files(t, tmp_path, "sites", "test")
    assert names == ["sites.geojson", "sites.kml"]
    fc = json.loads((tmp_path / "sites.geojson").read_text("utf-8"))
    assert [f["properties"]["site_id"] for f in fc["features"]] == ["B0", "B1"]


def test_wgs84_inputs_get_only_wgs84_columns():
    sites = gpd.GeoDataFrame({"site_id": ["A"], "status": ["new"]},
                             geometry=[Point(114.3, 30.05)], crs=4326).to_crs(32650)
    cand = sites.copy()
    cand.attrs["source_crs"] = "EPSG:4326"
    t = site_table(sites, Region(name="r", area=StudyArea(crs=sites.crs), candidates=cand))
    assert [c for c in t.columns if c.startswith(("lon", "lat"))] == ["lon_wgs84", "lat_wgs84"]
    assert (t["lon_wgs84"].iloc[0], t["lat_wgs84"].iloc[0]) == pytest.approx((114.3, 30.05))


def test_scenario_run_writes_site_files(tmp_path):
    sc = tmp_path / "s.toml"
    sc.write_text(f'''name = "sites"
region = "{DEMO.as_posix()}"
maps = false
report = false
[[model]]
name = "points"
kind = "max_covering"
existing_types = ["insurance_service_point"]
candidate_types = ["village committee"]
mode = "ebike"
minutes = 15
p = 2
''', encoding="utf-8")
    res = run_scenario(sc, output=tmp_path / "out")
    out = tmp_path / "out"
    for name in ("plan_points_sites.csv", "plan_points_sites.gpkg",
                 "plan_points_new_sites.geojson", "plan_points_new_sites.kml"):
        assert (out / name).is_file(), name
    sites = pd.read_csv(out / "plan_points_sites.csv", encoding="utf-8-sig", dtype=str)
    new = sites[sites["status"] == "new"].astype({"lon_gcj02": float, "lat_gcj02": float})
    assert len(new) == 2
    assert _metres(new, "lon_gcj02", "lat_gcj02", _csv_points(DEMO / "candidates.csv")
                   ).max() < 1.0
    assert "lon_gcj02" in res.tables["plan_points_sites"].columns
    fc = json.loads((out / "plan_points_new_sites.geojson").read_text("utf-8"))
    assert len(fc["features"]) == 2

"""Region manifests: loading all layers, and clear errors for bad manifests."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from conftest import write_raster
from osm_fixtures import write_osm
from shapely.geometry import box

from geoplan import GeoplanInputError, load_region


@pytest.fixture
def region_dir(tmp_path):
    gpd.GeoDataFrame({"code": ["A", "B"], "name": ["甲", "乙"]},
                     geometry=[box(114.2995, 30.0495, 114.3015, 30.0535),
                               box(114.3015, 30.0495, 114.3035, 30.0535)],
                     crs=4326).to_file(tmp_path / "units.geojson")
    write_raster(tmp_path / "pop.tif", np.full((6, 6), 10.0), crs="EPSG:4326",
                 origin=(114.2995, 30.0535), res=0.0006)
    (tmp_path / "fac.csv").write_text("id,type,lon,lat\nV1,村卫生室,114.3005,30.0505\n", "utf-8")
    write_osm(tmp_path / "roads.osm")
    (tmp_path / "region.toml").write_text(
        'name = "t"\n[boundaries]\npath = "units.geojson"\n[population]\npath = "pop.tif"\n'
        '[facilities]\npath = "fac.csv"\n[network]\npath = "roads.osm"\n', "utf-8")
    return tmp_path


def test_load_region_all_layers(region_dir):
    r = load_region(region_dir)
    assert r.area.crs == r.population.crs == r.facilities.crs == r.boundaries.crs
    assert set(r.population["admin_code"]) == {"A", "B"}
    # 6 x 6 cells of 10 people, all inside the units: 3 columns in A, 3 in B
    assert r.population["population"].sum() == pytest.approx(360.0)
    per_unit = r.population.groupby("admin_code")["population"].sum()
    assert per_unit["A"] == pytest.approx(180.0, rel=0.1)
    assert per_unit["B"] == pytest.approx(180.0, rel=0.1)
    assert r.facilities.loc[0, "admin_code"] == "A"
    assert r.network is not None and r.network.number_of_edges() > 0


def test_load_region_selected_layers(region_dir):
    r = load_region(region_dir / "region.toml", layers=["facilities"])
    assert r.network is None and r.population is None and r.facilities is not None


@pytest.mark.parametrize("text,expected", [
    ('name = "t"\n[boundaries]\npath = "units.geojson"\ncolour = "red"\n', "unknown key 'colour'"),
    ('name = "t"\nfoo = 1\n', "unknown key 'foo'"),
    ('name = "t"\n[boundaries\n', "TOML syntax error"),
    ('name = "t"\nboundaries = "x"\n', "must be a table"),
    ('name = "t"\n[boundaries]\npath = 3\n', "must be a string"),
    ('name = "t"\n[facilities]\npath = "fac.csv"\n', "needs [boundaries] or [population]"),
    ('name = "t"\n[boundaries]\npath = "missing.geojson"\n', "missing.geojson"),
])
def test_bad_manifests(region_dir, text, expected):
    (region_dir / "region.toml").write_text(text, "utf-8")
    with pytest.raises(GeoplanInputError) as e:
        load_region(region_dir)
    assert expected in str(e.value)


def test_missing_manifest(tmp_path):
    with pytest.raises(GeoplanInputError, match="region manifest not found"):
        load_region(tmp_path)

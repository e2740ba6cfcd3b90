"""Reading admin boundaries."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon, box

from geoplan import GeoplanInputError, GeoplanWarning
from geoplan.inputs.readers import read_boundaries


def _units(tmp_path, name="u.geojson", **cols):
    data = {"code": ["420101", "420102"], "name": ["江岸区", "江汉区"]} | cols
    g = gpd.GeoDataFrame(data, geometry=[box(114.0, 30.0, 114.2, 30.2),
                                         box(114.2, 30.0, 114.4, 30.2)], crs=4326)
    g.to_file(tmp_path / name)
    return tmp_path / name


def test_reads_code_name_and_projects(tmp_path):
    b = read_boundaries(_units(tmp_path))
    assert list(b["admin_code"]) == ["420101", "420102"]
    assert list(b["admin_name"]) == ["江岸区", "江汉区"]
    assert b.crs.is_projected
    assert b.area.sum() / 1e6 == pytest.approx(2 * 19.3 * 22.2, rel=0.05)


def test_configurable_fields(tmp_path):
    g = gpd.GeoDataFrame({"GB": ["1", "2"], "NAME_EN": ["a", "b"]},
                         geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    g.to_file(tmp_path / "b.gpkg")
    b = read_boundaries(tmp_path / "b.gpkg", code="GB", name="NAME_EN")
    assert list(b["admin_name"]) == ["a", "b"]


def test_duplicate_codes(tmp_path):
    p = _units(tmp_path)
    g = gpd.read_file(p)
    g.loc[1, "code"] = "420101"
    g.to_file(tmp_path / "d.geojson")
    with pytest.raises(GeoplanInputError) as e:
        read_boundaries(tmp_path / "d.geojson")
    assert "d.geojson" in str(e.value) and "duplicate id '420101'" in str(e.value)
    assert "feature 2" in str(e.value)


def test_missing_code_column(tmp_path):
    g = gpd.GeoDataFrame({"foo": ["1"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    g.to_file(tmp_path / "n.geojson")
    with pytest.raises(GeoplanInputError) as e:
        read_boundaries(tmp_path / "n.geojson")
    assert "n.geojson" in str(e.value) and "'code'" in str(e.value) and "foo" in str(e.value)


def test_points_are_not_boundaries(tmp_path):
    g = gpd.GeoDataFrame({"code": ["1"]}, geometry=[Point(0, 0)], crs=4326)
    g.to_file(tmp_path / "p.geojson")
    with pytest.raises(GeoplanInputError, match="must be polygons"):
        read_boundaries(tmp_path / "p.geojson")


def test_shapefile_without_prj(tmp_path):
    g = gpd.GeoDataFrame({"code": ["1"]}, geometry=[box(500000, 3300000, 501000, 3301000)])
    g.to_file(tmp_path / "noprj.shp")
    with pytest.raises(GeoplanInputError) as e:
        read_boundaries(tmp_path / "noprj.shp")
    assert "noprj.shp" in str(e.value) and ".prj" in str(e.value)
    assert read_boundaries(tmp_path / "noprj.shp", crs="EPSG:32650").area.iloc[0] == 1e6


def test_invalid_polygon_repaired_with_warning(tmp_path):
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    g = gpd.GeoDataFrame({"code": ["1"]}, geometry=[bowtie], crs=4326)
    g.to_file(tmp_path / "bow.geojson")
    with pytest.warns(GeoplanWarning, match="repaired"):
        b = read_boundaries(tmp_path / "bow.geojson")
    assert b.geometry.is_valid.all()


def test_corrupt_file(tmp_path):
    (tmp_path / "c.geojson").write_text('{"type": "FeatureCollection", "features": [', "utf-8")
    with pytest.raises(GeoplanInputError) as e:
        read_boundaries(tmp_path / "c.geojson")
    assert "c.geojson" in str(e.value) and "cannot read" in str(e.value)

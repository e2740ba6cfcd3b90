"""Planning zones: sectors partition the area, files are checked, points get their zone."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from geoplan import GeoplanInputError
from geoplan.inputs.zones import read_zones, sector_zones, zone_of, zones_from_units

CRS = "EPSG:32650"


def _extent():
    # a 40 km square around a point near Wuhan (114.3 E, 30.06 N)
    c = gpd.GeoSeries([Point(114.3, 30.06)], crs="EPSG:4326").to_crs(CRS).iloc[0]
    return c, gpd.GeoDataFrame(geometry=[box(c.x - 20e3, c.y - 20e3, c.x + 20e3, c.y + 20e3)],
                               crs=CRS)


def test_sectors_partition_the_area_and_face_their_compass_points():
    c, ext = _extent()
    z = sector_zones((114.3, 30.06), 5, extent=ext)
    assert z["zone"].tolist() == ["centre", "east", "south", "west", "north"]
    assert z.area.sum() == pytest.approx(ext.area.sum(), rel=1e-6)
    assert z.geometry.iloc[0].area == pytest.approx(np.pi * 5e3 ** 2, rel=1e-3)
    # no overlaps: the union's area is the sum
    assert z.union_all().area == pytest.approx(z.area.sum(), rel=1e-6)
    probes = gpd.GeoSeries([Point(c.x, c.y), Point(c.x + 15e3, c.y), Point(c.x, c.y - 15e3),
                            Point(c.x - 15e3, c.y + 1e3), Point(c.x + 1e3, c.y + 15e3),
                            Point(c.x + 30e3, c.y)], crs=CRS)
    assert zone_of(probes, z).tolist() == ["centre", "east", "south", "west", "north", None]
    assert z.loc[z["zone"] == "north", "name_zh"].item() == "北部"
    three = sector_zones((114.3, 30.06), 5, extent=ext, n_sectors=3)
    assert three["zone"].tolist() == ["centre", "sector1", "sector2", "sector3"]


@pytest.mark.parametrize("kw, match", [
    (dict(centre=(500, 30)), "lon/lat"),
    (dict(centre=(116.5, 39.9)), "outside"),
    (dict(radius_km=0), "radius"),
    (dict(n_sectors=1), "sectors"),
])
def test_bad_sector_options_are_named(kw, match):
    _, ext = _extent()
    args = dict(centre=(114.3, 30.06), radius_km=5)
    args.update(kw)
    with pytest.raises(GeoplanInputError, match=match):
        sector_zones(args["centre"], args["radius_km"], extent=ext,
                     n_sectors=kw.get("n_sectors", 4))


def test_zone_files_are_read_and_checked(tmp_path):
    g = gpd.GeoDataFrame({"name": ["east", "west"]},
                         geometry=[box(0, 0, 1, 1), box(-1, 0, 0, 1)], crs="EPSG:4326")
    g.to_file(tmp_path / "z.geojson")
    z = read_zones(tmp_path / "z.geojson", crs=CRS)
    assert z["zone"].tolist() == ["east", "west"] and z.crs == CRS
    g.assign(name=["a", "a"]).to_file(tmp_path / "dup.geojson")
    with pytest.raises(GeoplanInputError, match="used twice"):
        read_zones(tmp_path / "dup.geojson")
    g.rename(columns={"name": "x"}).to_file(tmp_path / "nameless.geojson")
    with pytest.raises(GeoplanInputError, match="no name column"):
        read_zones(tmp_path / "nameless.geojson")
    with pytest.raises(GeoplanInputError, match="not found"):
        read_zones(tmp_path / "missing.geojson")


def test_zones_from_units_join_their_units():
    b = gpd.GeoDataFrame({"admin_code": ["1", "2", "3"]},
                         geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=CRS)
    z = zones_from_units(b, {"west": ["1", "2"], "east": ["3"]})
    assert z.area.tolist() == [2.0, 1.0] and z["name_zh"].tolist() == ["西部", "东部"]
    with pytest.raises(GeoplanInputError, match="unknown unit"):
        zones_from_units(b, {"west": ["9"]})
    with pytest.raises(GeoplanInputError, match="zones 'west' and 'east'"):
        zones_from_units(b, {"west": ["1"], "east": ["1"]})

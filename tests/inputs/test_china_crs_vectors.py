"""GCJ-02 / BD-09 GIS layers: every vertex converted to WGS-84 (boundaries, vector population
grids, candidate polygons), and the refusals (projected file CRS, rasters, outside China).

The truth is always WGS-84 geometry; the test shifts every vertex with the *forward*
transform (``wgs84_to_gcj02`` / ``wgs84_to_bd09``, closed form), writes the file, and the
reader must undo it with the iterative inverse. Each test also reads the shifted file
without ``crs`` and shows it lands hundreds of metres off, so the checks can fail.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import DEMO, write_raster
from pyproj import Geod
from shapely.geometry import box

from geoplan import GeoplanInputError, GeoplanWarning
from geoplan.cli.main import main
from geoplan.inputs.chinacrs import wgs84_to_bd09, wgs84_to_gcj02
from geoplan.inputs.readers import read_boundaries, read_candidates, read_population
from geoplan.inputs.region import load_region

FORWARD = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}
GEOD = Geod(ellps="WGS84")


def _shift(geoms, system: str):
    """Every vertex of ``geoms`` (WGS-84 degrees) moved into ``system`` (forward transform)."""
    def fwd(xy):
        return np.column_stack(FORWARD[system](xy[:, 0], xy[:, 1]))
    return shapely.transform(np.asarray(geoms, dtype=object), fwd)


def _write_shifted(gdf: gpd.GeoDataFrame, path, system: str):
    out = gdf.set_geometry(gpd.GeoSeries(_shift(gdf.geometry.values, system), index=gdf.index,
                                         crs=4326))
    out.to_file(path, driver="GeoJSON")
    return path


def _iou(a, b) -> float:
    return float(shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b)))


@pytest.fixture(scope="module")
def demo_units() -> gpd.GeoDataFrame:
    """The demo's township units in WGS-84, as the file holds them (the truth)."""
    return gpd.read_file(DEMO / "boundaries.geojson")


def _ious(got: gpd.GeoDataFrame, truth: gpd.GeoDataFrame) -> np.ndarray:
    t = truth.set_index("admin_code").geometry
    return np.array([_iou(g, t[c]) for c, g in zip(got["admin_code"], got.geometry,
                                                    strict=True)])


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_boundaries_in_gcj02_bd09_land_on_the_wgs84_truth(system, demo_units, tmp_path):
    p = _write_shifted(demo_units, tmp_path / f"units_{system}.geojson", system)
    truth = read_boundaries(DEMO / "boundaries.geojson")        # WGS-84 as written
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoplanWarning)           # inside China: no warning
        got = read_boundaries(p, crs=system, to_crs=truth.crs)
    raw = read_boundaries(p, to_crs=truth.crs)                    # the offset left in
    assert got.attrs["source_crs"] == system and raw.attrs["source_crs"] == "EPSG:4326"
    assert list(got["admin_code"]) == list(truth["admin_code"]) and len(got) == 14
    iou, iou_raw = _ious(got, truth), _ious(raw, truth)
    print(f"{system}: IoU min {iou.min():.9f} (1 - IoU at most {1 - iou.min():.1e}); "
          f"without crs min {iou_raw.min():.4f} max {iou_raw.max():.4f} mean "
          f"{iou_raw.mean():.4f}")
    assert iou.min() > 0.999
    assert iou_raw.max() < 0.99                                   # the test can fail
    # vertex by vertex: every converted vertex within 5 cm of the truth's
    a = shapely.get_coordinates(got.to_crs(4326).geometry.values)
    b = shapely.get_coordinates(demo_units.geometry.values)
    assert a.shape == b.shape
    assert GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2].max() < 0.05
    assert np.isclose(got.area.sum(), truth.area.sum(), rtol=1e-6)


def _cells(n: int = 12, size: float = 0.001) -> gpd.GeoDataFrame:
    """An n x n grid of 0.001° cells near 114.30 E, 30.05 N (WGS-84) with people."""
    rng = np.random.default_rng(7)
    boxes = [box(114.30 + i * size, 30.05 + j * size, 114.30 + (i + 1) * size,
                 30.05 + (j + 1) * size) for i in range(n) for j in range(n)]
    pop = rng.integers(1, 400, len(boxes)).astype(float)
    return gpd.GeoDataFrame({"cell_id": np.arange(len(boxes)), "pop": pop}, geometry=boxes,
                            crs=4326)


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_vector_population_grid_in_gcj02_bd09(system, tmp_path):
    truth = _cells()
    p = _write_shifted(truth, tmp_path / "grid.geojson", system)
    got = read_population(p, crs=system)
    raw = read_population(p, to_crs=got.crs)
    assert got.attrs["source_crs"] == system
    assert got["population"].sum() == pytest.approx(truth["pop"].sum(), abs=1e-9)
    order = got["source_id"].astype(int).to_numpy()
    assert np.array_equal(got["population"].to_numpy(), truth["pop"].to_numpy()[order])
    centres = truth.to_crs(got.crs).geometry.centroid.to_numpy()[order]
    d = shapely.distance(got.geometry.to_numpy(), centres)
    d_raw = shapely.distance(raw.geometry.to_numpy(), centres)
    print(f"{system}: cell centres off by at most {d.max():.4f} m (without crs: "
          f"{d_raw.min():.0f}..{d_raw.max():.0f} m)")
    assert d.max() < 1.0 and d_raw.min() > 100.0
    area = truth.to_crs(got.crs).area.to_numpy()[order]
    assert np.allclose(got["cell_area_m2"].to_numpy(), area, rtol=1e-6)


def test_vector_population_points_in_gcj02(tmp_path):
    truth = _cells()
    pts = truth.set_geometry(truth.geometry.to_crs(32650).centroid.to_crs(4326))
    p = _write_shifted(pts, tmp_path / "points.geojson", "gcj02")
    got = read_population(p, crs="gcj02")
    order = got["source_id"].astype(int).to_numpy()
    ll = got.to_crs(4326).geometry
    ref = pts.geometry.to_numpy()[order]
    d = GEOD.inv(ll.x, ll.y, shapely.get_x(ref), shapely.get_y(ref))[2]
    assert d.max() < 1.0 and got["population"].sum() == pytest.approx(truth["pop"].sum())


def test_candidate_polygons_in_gcj02_become_points_on_the_truth(tmp_path):
    rng = np.random.default_rng(3)
    x0 = 114.25 + rng.random(8) * 0.2
    y0 = 29.95 + rng.random(8) * 0.2
    parcels = gpd.GeoDataFrame(
        {"id": [f"P{i}" for i in range(8)], "name": [f"地块{i}" for i in range(8)],
         "cost": np.arange(8) * 10.0},
        geometry=[box(x, y, x + 0.0006, y + 0.0004) for x, y in zip(x0, y0, strict=True)],
        crs=4326)
    p = _write_shifted(parcels, tmp_path / "parcels.geojson", "gcj02")
    with pytest.warns(GeoplanWarning, match="replaced by a point inside each shape"):
        got = read_candidates(p, crs="gcj02")
    with pytest.warns(GeoplanWarning):
        raw = read_candidates(p)
    assert got.attrs["source_crs"] == "gcj02"
    truth = parcels.geometry.representative_point()
    ll, ll_raw = got.to_crs(4326).geometry, raw.to_crs(4326).geometry
    d = GEOD.inv(ll.x, ll.y, truth.x, truth.y)[2]
    d_raw = GEOD.inv(ll_raw.x, ll_raw.y, truth.x, truth.y)[2]
    assert d.max() < 1.0 and d_raw.min() > 100.0
    assert list(got["cost"]) == list(parcels["cost"])


def _projected_geojson(path, geoms) -> None:
    gpd.GeoDataFrame({"code": [str(i) for i in range(len(geoms))],
                      "population": [5.0] * len(geoms)},
                     geometry=geoms, crs=4326).to_crs(32650).to_file(path, driver="GeoJSON")


@pytest.mark.filterwarnings("ignore::geoplan.GeoplanWarning")
@pytest.mark.parametrize("reader", [read_boundaries, read_population, read_candidates])
def test_projected_file_with_gcj02_is_refused(reader, tmp_path):
    p = tmp_path / "utm.geojson"
    _projected_geojson(p, [box(114.30, 30.05, 114.31, 30.06), box(114.31, 30.05, 114.32, 30.06)])
    assert gpd.read_file(p).crs.to_epsg() == 32650                # the file says so itself
    with pytest.raises(GeoplanInputError) as e:
        reader(p, crs="gcj02")
    msg = str(e.value)
    assert "utm.geojson" in msg and "projected" in msg and "EPSG:32650" in msg
    assert "GCJ-02" in msg and "field 'crs'" in msg and "->" in msg
    reader(p)                                                     # read in its own CRS: fine


def test_gcj02_raster_is_refused_and_an_epsg_crs_overrides_with_a_warning(tmp_path):
    data = np.full((4, 4), 5.0)
    p = write_raster(tmp_path / "pop.tif", data, crs="EPSG:4326", origin=(114.3, 30.05),
                     res=0.001)
    with pytest.raises(GeoplanInputError) as e:
        read_population(p, crs="gcj02")
    assert "pop.tif" in str(e.value) and "GCJ-02" in str(e.value)
    with pytest.warns(GeoplanWarning, match="declares EPSG:4326"):
        over = read_population(p, crs="EPSG:4490")
    assert over.attrs["source_crs"] == "EPSG:4490"
    nocrs = write_raster(tmp_path / "nocrs.tif", data, crs=None, origin=(114.3, 30.05),
                         res=0.001)
    got = read_population(nocrs, crs="EPSG:4326")            # the crs to assume: applied
    ref = read_population(p)
    assert np.allclose(shapely.get_coordinates(got.geometry.values),
                       shapely.get_coordinates(ref.to_crs(got.crs).geometry.values))
    with pytest.raises(GeoplanInputError, match="does not apply to a raster"):
        read_population(p, column="pop")


def test_features_outside_china_refused_partly_outside_warned(tmp_path):
    p = tmp_path / "far.geojson"
    gpd.GeoDataFrame({"code": ["1"]}, geometry=[box(-70.3, 30.0, -70.2, 30.1)],
                     crs=4326).to_file(p, driver="GeoJSON")
    with pytest.raises(GeoplanInputError) as e:
        read_boundaries(p, crs="gcj02")
    assert "far.geojson" in str(e.value) and "feature 1" in str(e.value)
    assert "outside China" in str(e.value)
    # a unit across the eastern edge of the services' China box: the part outside is not
    # shifted (GCJ-02 equals WGS-84 there), the part inside is, and a warning says so
    edge = box(137.80, 45.0, 137.90, 45.1)
    q = tmp_path / "edge.geojson"
    gpd.GeoDataFrame({"code": ["1"]}, geometry=[edge], crs=4326).to_file(q, driver="GeoJSON")
    with pytest.warns(GeoplanWarning, match="outside China.*not shifted"):
        got = read_boundaries(q, crs="gcj02").to_crs(4326)
    xy = shapely.get_coordinates(got.geometry.values)
    src = shapely.get_coordinates(edge)
    assert got.crs.to_epsg() == 4326
    moved = np.hypot(*(xy[:4] - src[:4]).T) > 1e-6
    assert moved.any() and not moved.all()


def test_region_toml_crs_reaches_boundaries_and_population(demo_units, tmp_path):
    _write_shifted(demo_units, tmp_path / "units.geojson", "gcj02")
    grid = _cells()
    _write_shifted(grid, tmp_path / "grid.geojson", "gcj02")
    (tmp_path / "region.toml").write_text(
        'name = "r"\n[boundaries]\npath = "units.geojson"\ncrs = "gcj02"\n'
        '[population]\npath = "grid.geojson"\ncolumn = "pop"\ncrs = "gcj02"\n',
        encoding="utf-8")
    region = load_region(tmp_path, layers=("population",))
    truth = read_boundaries(DEMO / "boundaries.geojson", to_crs=region.boundaries.crs)
    assert _ious(region.boundaries, truth).min() > 0.999
    order = region.population["source_id"].astype(int).to_numpy()
    centres = grid.to_crs(region.population.crs).geometry.centroid.to_numpy()[order]
    assert shapely.distance(region.population.geometry.to_numpy(), centres).max() < 1.0
    assert region.population.attrs["source_crs"] == "gcj02"


def test_inspect_crs_gcj02_reaches_the_boundaries_reader(demo_units, tmp_path, capsys):
    p = _write_shifted(demo_units, tmp_path / "units.geojson", "gcj02")
    assert main(["inspect", str(p), "--kind", "boundaries", "--crs", "gcj02"]) == 0
    out = capsys.readouterr().out
    lon0, lat0, lon1, lat1 = demo_units.total_bounds             # the WGS-84 truth
    assert f"lon {lon0:.5f}..{lon1:.5f}, lat {lat0:.5f}..{lat1:.5f}" in out
    assert main(["inspect", str(p), "--kind", "boundaries"]) == 0
    assert f"lon {lon0:.5f}.." not in capsys.readouterr().out    # unconverted: elsewhere


def test_geojson_written_by_rfc7946_tools_is_gcj02_when_told(demo_units, tmp_path):
    """A DataV-style file: plain RFC 7946 GeoJSON (no crs member, so WGS-84 by the
    standard) whose coordinates are GCJ-02; crs='gcj02' is what makes it right."""
    shifted = _shift(demo_units.geometry.values, "gcj02")
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"adcode": int(c), "name": n},
         "geometry": json.loads(shapely.to_geojson(g))}
        for c, n, g in zip(demo_units["code"], demo_units["name"], shifted, strict=True)]}
    p = tmp_path / "datav.json"
    p.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    got = read_boundaries(p, crs="gcj02")
    truth = read_boundaries(DEMO / "boundaries.geojson", to_crs=got.crs)
    assert _ious(got, truth).min() > 0.999

"""Reading population: rasters (window, nodata, CRS, density check) and vector grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from conftest import write_raster
from shapely.geometry import Point, Polygon, box

from geoplan import GeoplanInputError, GeoplanWarning, StudyArea
from geoplan.inputs.readers import read_boundaries, read_population


def _grid(n=20, value=5.0):
    data = np.full((n, n), value)
    data[0, :] = -99999.0  # nodata row
    data[1, 0] = 0.0
    return data


def test_raster_counts_nodata_and_centroids(tmp_path):
    p = write_raster(tmp_path / "pop.tif", _grid())
    pop = read_population(p)
    assert len(pop) == 19 * 20 - 1
    assert pop["population"].sum() == pytest.approx(5.0 * (19 * 20 - 1))
    assert pop.crs.to_epsg() == 32650
    # cell (row 1, col 1) centre: x = 500000 + 150, y = 3300000 - 150
    cell = pop[(pop["row"] == 1) & (pop["col"] == 1)].iloc[0]
    assert (cell.geometry.x, cell.geometry.y) == pytest.approx((500150.0, 3299850.0))
    assert cell["cell_area_m2"] == pytest.approx(10_000)


def test_negative_values_without_nodata_rejected(tmp_path):
    p = write_raster(tmp_path / "neg.tif", _grid(), nodata=None)
    with pytest.raises(GeoplanInputError) as e:
        read_population(p)
    assert "neg.tif" in str(e.value) and "pixel row 0" in str(e.value) and "nodata" in str(e.value)


def test_nan_cells_ignored(tmp_path):
    data = np.full((10, 10), 2.0)
    data[3, 3] = np.nan
    pop = read_population(write_raster(tmp_path / "pop.tif", data, nodata=None))
    assert len(pop) == 99 and pop["population"].sum() == pytest.approx(198)


def test_raster_without_crs(tmp_path):
    p = write_raster(tmp_path / "nocrs.tif", _grid(), crs=None)
    with pytest.raises(GeoplanInputError) as e:
        read_population(p)
    assert "nocrs.tif" in str(e.value) and "no coordinate reference system" in str(e.value)


def test_density_raster_rejected_then_converted(tmp_path):
    # people per km² at 100 m cells: 20,000/km² in a town is 200 people per cell
    data = np.full((10, 10), 20_000.0)
    p = write_raster(tmp_path / "density.tif", data)
    with pytest.raises(GeoplanInputError) as e:
        read_population(p)
    assert "density.tif" in str(e.value) and "densities" in str(e.value)
    pop = read_population(p, values="density")
    assert pop["population"].sum() == pytest.approx(100 * 200)


def test_density_metadata_rejected(tmp_path):
    p = write_raster(tmp_path / "d.tif", np.full((5, 5), 3.0), tags={"UNITS": "persons per km2"})
    with pytest.raises(GeoplanInputError, match="metadata says density"):
        read_population(p)


def test_window_read_and_outside_cells_dropped(tmp_path):
    data = np.full((100, 100), 1.0)
    p = write_raster(tmp_path / "big.tif", data)
    # study area: a 1 km square in the middle plus a triangle corner
    outline = box(503_000, 3_295_000, 504_000, 3_296_000)
    area = StudyArea(crs=gpd.GeoSeries([Point(0, 0)], crs=32650).crs, outline=outline)
    pop = read_population(p, area=area)
    assert len(pop) == 100  # 10 x 10 cells of the window
    assert pop["population"].sum() == pytest.approx(100)


def test_raster_not_covering_area(tmp_path):
    p = write_raster(tmp_path / "far.tif", np.ones((5, 5)))
    area = StudyArea(crs=gpd.GeoSeries([Point(0, 0)], crs=32650).crs,
                     outline=box(800_000, 3_000_000, 801_000, 3_001_000))
    with pytest.raises(GeoplanInputError, match="does not cover the study area"):
        read_population(p, area=area)


def test_geographic_raster_cell_area(tmp_path):
    res = 1 / 1200  # 3 arc-seconds, WorldPop
    p = write_raster(tmp_path / "wp.tif", np.ones((10, 10)), crs="EPSG:4326",
                     origin=(114.0, 30.0), res=res)
    pop = read_population(p)
    # just below 30 N a 3" cell is about 80.3 m (E-W) x 92.4 m (N-S)
    assert pop["cell_area_m2"].mean() == pytest.approx(80.3 * 92.4, rel=0.01)


def test_vector_grid_polygons_and_points(tmp_path):
    cells = [box(500_000 + i * 100, 3_300_000, 500_100 + i * 100, 3_300_100) for i in range(4)]
    g = gpd.GeoDataFrame({"pop": [10.0, 0.0, 5.5, 3.0]}, geometry=cells, crs=32650)
    g.to_file(tmp_path / "grid.gpkg")
    pop = read_population(tmp_path / "grid.gpkg")
    assert len(pop) == 3 and pop["population"].sum() == pytest.approx(18.5)
    assert pop["cell_area_m2"].iloc[0] == pytest.approx(10_000)
    (tmp_path / "pts.csv").write_text("lon,lat,人口\n114.3,30.05,120\n114.31,30.05,80\n", "utf-8")
    pts = read_population(tmp_path / "pts.csv")
    assert pts["population"].sum() == 200


@pytest.mark.parametrize("value,problem", [("-3", "negative"), ("many", "not a population"),
                                           ("NaN", "not a population"), ("", "empty")])
def test_bad_population_values(tmp_path, value, problem):
    p = tmp_path / "pts.csv"
    p.write_text(f"id,lon,lat,population\na,114.3,30.05,12\nb,114.31,30.05,{value}\n", "utf-8")
    with pytest.raises(GeoplanInputError) as e:
        read_population(p)
    msg = str(e.value)
    assert "pts.csv" in msg and "line 3" in msg and "field 'population'" in msg and problem in msg


def test_missing_population_column(tmp_path):
    p = tmp_path / "pts.csv"
    p.write_text("id,lon,lat,people_count\na,114.3,30.05,12\n", "utf-8")
    with pytest.raises(GeoplanInputError) as e:
        read_population(p)
    assert "population" in str(e.value) and "people_count" in str(e.value)


def test_outside_population_warns_and_is_dropped(tmp_path):
    data = np.full((10, 10), 1.0)
    p = write_raster(tmp_path / "pop.tif", data)
    # the lower-left triangle of the raster: 45 whole cells plus the 10 on the diagonal
    outline = Polygon([(500_000, 3_299_000), (501_000, 3_299_000), (500_000, 3_300_000)])
    area = StudyArea(crs=gpd.GeoSeries([Point(0, 0)], crs=32650).crs, outline=outline)
    with pytest.warns(GeoplanWarning, match=r"outside the study area, .* people"):
        pop = read_population(p, area=area)
    assert pop["population"].sum() == pytest.approx(55)


def test_cells_tagged_with_units(tmp_path):
    p = write_raster(tmp_path / "pop.tif", np.ones((10, 10)))
    units = gpd.GeoDataFrame({"code": ["A", "B"], "name": ["a", "b"]},
                             geometry=[box(500_000, 3_299_000, 500_400, 3_300_000),
                                       box(500_400, 3_299_000, 501_000, 3_300_000)], crs=32650)
    units.to_file(tmp_path / "u.geojson")
    b = read_boundaries(tmp_path / "u.geojson", to_crs="EPSG:32650")
    pop = read_population(p, boundaries=b)
    sums = pop.groupby("admin_code")["population"].sum()
    assert sums["A"] == pytest.approx(40) and sums["B"] == pytest.approx(60)
    assert pop["admin_code"].notna().all() and len(pop) == 100


def test_unknown_and_empty_population_files(tmp_path):
    (tmp_path / "pop.xyz").write_text("1 2 3")
    with pytest.raises(GeoplanInputError, match="unknown format"):
        read_population(tmp_path / "pop.xyz")
    (tmp_path / "empty.tif").write_bytes(b"")
    with pytest.raises(GeoplanInputError, match="empty"):
        read_population(tmp_path / "empty.tif")
    (tmp_path / "junk.tif").write_bytes(b"not a tiff at all")
    with pytest.raises(GeoplanInputError, match="junk.tif.*cannot read the raster"):
        read_population(tmp_path / "junk.tif")


def test_read_size_limits_refuse_before_reading_and_can_be_raised(tmp_path, monkeypatch):
    """The raster cell limit and the vector feature limit refuse a read naming the
    environment variable that raises them; raised, the same files read."""
    p = write_raster(tmp_path / "pop.tif", np.ones((10, 10)))
    monkeypatch.setenv("GEOPLAN_MAX_RASTER_CELLS", "50")
    with pytest.raises(GeoplanInputError, match="GEOPLAN_MAX_RASTER_CELLS") as e:
        read_population(p)
    assert "100 cells" in str(e.value) and "pop.tif" in str(e.value)
    monkeypatch.setenv("GEOPLAN_MAX_RASTER_CELLS", "100")
    assert read_population(p)["population"].sum() == pytest.approx(100)
    monkeypatch.setenv("GEOPLAN_MAX_RASTER_CELLS", "lots")
    with pytest.raises(GeoplanInputError, match="not a number"):
        read_population(p)
    monkeypatch.delenv("GEOPLAN_MAX_RASTER_CELLS")
    units = gpd.GeoDataFrame({"code": ["A", "B", "C"], "name": ["a", "b", "c"]},
                             geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs=32650)
    units.to_file(tmp_path / "u.geojson")
    monkeypatch.setenv("GEOPLAN_MAX_VECTOR_FEATURES", "2")
    with pytest.raises(GeoplanInputError, match="3 features.*GEOPLAN_MAX_VECTOR_FEATURES"):
        read_boundaries(tmp_path / "u.geojson")
    monkeypatch.setenv("GEOPLAN_MAX_VECTOR_FEATURES", "3")
    assert len(read_boundaries(tmp_path / "u.geojson")) == 3

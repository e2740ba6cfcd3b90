"""Gap areas: contiguity on raster grids and point grids, ranking, conservation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoplan.access.gaps import cell_polygons, group_gaps


def _raster_cells(mask_rows):
    rows, cols, pop = [], [], []
    for r, line in enumerate(mask_rows):
        for c, ch in enumerate(line):
            rows.append(r)
            cols.append(c)
            pop.append(0 if ch == "." else int(ch))
    rows, cols = np.array(rows), np.array(cols)
    return gpd.GeoDataFrame({"population": np.array(pop, float), "row": rows, "col": cols,
                             "cell_area_m2": 10_000.0, "admin_code": "A"},
                            geometry=gpd.points_from_xy(cols * 100 + 50, -rows * 100 - 50),
                            crs=32650)


PATTERN = ["11..3",
           "1...3",
           "...9.",
           "2...."]


def test_gaps_are_8_connected_components_ranked_by_population():
    cells = _raster_cells(PATTERN)
    uncovered = cells["population"].to_numpy() > 0
    gaps = group_gaps(cells, uncovered)
    # groups: {3,3,9} (diagonal link) = 15; {1,1,1} = 3; {2} = 2
    assert list(gaps["population"]) == [15, 3, 2]
    assert list(gaps["cells"]) == [3, 3, 1]
    assert list(gaps["gap_id"]) == [1, 2, 3]
    assert gaps["area_km2"].iloc[0] == pytest.approx(0.03)
    assert gaps["population"].sum() == cells.loc[uncovered, "population"].sum()


def test_point_grid_without_row_col_uses_spacing():
    cells = _raster_cells(PATTERN).drop(columns=["row", "col", "cell_area_m2"])
    gaps = group_gaps(cells, cells["population"].to_numpy() > 0)
    assert list(gaps["population"]) == [15, 3, 2]
    assert cell_polygons(cells).area.iloc[0] == pytest.approx(10_000)


def test_no_gaps_and_min_population():
    cells = _raster_cells(PATTERN)
    assert group_gaps(cells, np.zeros(len(cells), bool)).empty
    gaps = group_gaps(cells, cells["population"].to_numpy() > 0, min_population=3)
    assert list(gaps["population"]) == [15, 3]


def test_raster_cells_are_traced_exactly(tmp_path):
    """Gap outlines from a raster are the union of the uncovered pixels, diagonal links kept."""
    from conftest import write_raster

    from geoplan import read_population
    data = np.zeros((6, 7))
    data[1, 1] = data[2, 2] = data[2, 3] = 10      # diagonal chain: one 8-connected area
    data[4, 5] = data[5, 6] = data[5, 5] = 5       # a second area
    data[0, 6] = 1                                 # covered below
    pop = read_population(write_raster(tmp_path / "p.tif", data), to_crs="EPSG:32650")
    uncovered = pop["population"].to_numpy() >= 5
    g = group_gaps(pop, uncovered)
    assert list(g["population"]) == [30, 15] and list(g["cells"]) == [3, 3]
    assert g["area_km2"].tolist() == pytest.approx([0.03, 0.03])
    x0, y0 = 500_000.0, 3_300_000.0
    first = shapely.union_all([shapely.box(x0 + c * 100, y0 - (r + 1) * 100,
                                           x0 + (c + 1) * 100, y0 - r * 100)
                               for r, c in ((1, 1), (2, 2), (2, 3))])
    assert g.geometry.iloc[0].symmetric_difference(first).area < 1e-6
    # the same answer without the raster metadata (square-per-cell fallback)
    plain = pop.copy()
    plain.attrs = {}
    g2 = group_gaps(plain, uncovered)
    assert g2["population"].tolist() == [30, 15]
    assert g2.geometry.iloc[0].symmetric_difference(first).area < 1e-3

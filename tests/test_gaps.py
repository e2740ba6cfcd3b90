"""Gap areas: contiguity on raster grids and point grids, ranking, conservation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geoplan.gaps import cell_polygons, group_gaps


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

"""Coverage gaps: uncovered population grouped into contiguous areas, ranked by people.

A planner's question is not "which cells are uncovered" but "where are the pockets of
people left out, and how big are they". Uncovered cells are linked to their neighbours
(8-neighbourhood on a raster grid; within 1.5 cell spacings for other grids), each
connected group is one gap area, and areas are ranked by population.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["cell_polygons", "group_gaps"]


def _spacing(xy: np.ndarray) -> float:
    if len(xy) < 2:
        return 100.0
    d, _ = cKDTree(xy).query(xy, k=2)
    return float(np.median(d[:, 1]))


def cell_polygons(cells: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Square footprint of each population cell (for maps and gap areas).

    Raster cells (with ``cell_area_m2``) get a square of that area around the centroid;
    other cells a square of the median spacing between centroids.

    Parameters
    ----------
    cells
        Output of :func:`geoplan.io.read_population`.

    Returns
    -------
    geopandas.GeoSeries
        Polygons in the cells' CRS.
    """
    xy = shapely.get_coordinates(cells.geometry.values)
    if "cell_area_m2" in cells and cells["cell_area_m2"].notna().all():
        half = np.sqrt(cells["cell_area_m2"].to_numpy(dtype=float)) / 2.0
    else:
        half = np.full(len(cells), _spacing(xy) / 2.0)
    boxes = shapely.box(xy[:, 0] - half, xy[:, 1] - half, xy[:, 0] + half, xy[:, 1] + half)
    return gpd.GeoSeries(boxes, index=cells.index, crs=cells.crs)


def _links(cells: gpd.GeoDataFrame) -> sparse.csr_matrix:
    n = len(cells)
    if {"row", "col"} <= set(cells.columns):
        rc = cells[["row", "col"]].to_numpy(dtype=np.int64)
        key = pd.Series(np.arange(n), index=pd.MultiIndex.from_arrays(rc.T))
        rows, cols = [], []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr == dc == 0:
                    continue
                idx = pd.MultiIndex.from_arrays([rc[:, 0] + dr, rc[:, 1] + dc])
                hit = key.reindex(idx).to_numpy()
                ok = ~np.isnan(hit)
                rows.append(np.flatnonzero(ok))
                cols.append(hit[ok].astype(np.int64))
        r, c = np.concatenate(rows), np.concatenate(cols)
    else:
        xy = shapely.get_coordinates(cells.geometry.values)
        pairs = cKDTree(xy).query_pairs(1.5 * _spacing(xy), output_type="ndarray")
        r, c = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.array([], int),) * 2
    return sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))


def group_gaps(cells: gpd.GeoDataFrame, uncovered: ArrayLike,
               min_population: float = 0.0) -> gpd.GeoDataFrame:
    """Group uncovered cells into contiguous gap areas ranked by population.

    Parameters
    ----------
    cells
        Population cells (``population``, optional ``row``/``col``, ``admin_code``).
    uncovered
        Boolean per cell: True where the cell's people are not covered.
    min_population
        Drop gap areas with fewer people than this.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per gap area, largest first: ``gap_id`` (1 = most people), ``population``,
        ``cells``, ``area_km2``, ``admin_units`` (codes, comma-separated), polygon
        geometry (union of the cell squares).
    """
    mask = np.asarray(uncovered, dtype=bool)
    sub = cells.loc[mask]
    columns = ["gap_id", "population", "cells", "area_km2", "admin_units", "geometry"]
    if sub.empty:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=cells.crs)
    _, labels = connected_components(_links(sub), directed=False)
    polys = cell_polygons(sub)
    admin = sub["admin_code"] if "admin_code" in sub else pd.Series(None, index=sub.index)
    frame = pd.DataFrame({"label": labels, "population": sub["population"].to_numpy(),
                          "admin": admin.astype(object).to_numpy()})
    agg = frame.groupby("label").agg(
        population=("population", "sum"), cells=("population", "size"),
        admin_units=("admin", lambda s: ",".join(sorted({str(a) for a in s if a is not None
                                                         and a == a}))))
    geoms = polys.groupby(labels).agg(lambda g: shapely.union_all(g.values))
    out = gpd.GeoDataFrame(agg, geometry=geoms.reindex(agg.index).values, crs=cells.crs)
    out = out[out["population"] >= min_population]
    out = out.sort_values(["population", "cells"], ascending=False).reset_index(drop=True)
    out.insert(0, "gap_id", np.arange(1, len(out) + 1))
    out["area_km2"] = out.area / 1e6
    return out[columns]

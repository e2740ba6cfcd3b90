"""Coverage gaps: uncovered population grouped into contiguous areas, ranked by people.

A planner's question is not "which cells are uncovered" but "where are the pockets of
people left out, and how big are they". Uncovered cells are linked to their neighbours
(8-neighbourhood on a raster grid; within 1.5 cell spacings for other grids), each
connected group is one gap area, and areas are ranked by population. With ``by_unit``
areas are split at admin unit borders, so each is one town's or subdistrict's to act on.

Then each area is made something to act on: :func:`name_gaps` names it by the nearest
named place (OSM ``place=*`` nodes of the network file, :func:`geoplan.inputs.osm.places_of`)
to its population-weighted centre, and :func:`geoplan.access.coverage.closing_sites` lists
the candidate sites that would cover its people.
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

__all__ = ["cell_polygons", "gap_centres", "gap_members", "group_gaps", "name_gaps"]


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
        Output of :func:`geoplan.inputs.readers.read_population`.

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


def _raster_union(cells: gpd.GeoDataFrame, sub: gpd.GeoDataFrame, labels: np.ndarray,
                  keys: np.ndarray) -> gpd.GeoSeries | None:
    """Gap polygons traced on the population raster itself (fast path).

    Why: unioning hundreds of thousands of cell squares with shapely takes seconds;
    tracing a label raster with :func:`rasterio.features.shapes` takes milliseconds and
    gives the same outline (cells are the raster's pixels). Used when the cells came from
    a raster (``attrs`` keep its transform and CRS).
    """
    attrs = cells.attrs
    if not ({"row", "col"} <= set(sub.columns) and "raster_transform" in attrs
            and "raster_crs" in attrs):
        return None
    from affine import Affine
    from rasterio import features
    rows = sub["row"].to_numpy(np.int64)
    cols = sub["col"].to_numpy(np.int64)
    r0, c0 = rows.min(), cols.min()
    grid = np.zeros((rows.max() - r0 + 1, cols.max() - c0 + 1), np.int32)
    grid[rows - r0, cols - c0] = labels + 1
    transform = Affine(*attrs["raster_transform"][:6]) * Affine.translation(c0, r0)
    parts: dict[int, list] = {}
    for geom, value in features.shapes(grid, mask=grid > 0, connectivity=8,
                                       transform=transform):
        parts.setdefault(int(value) - 1, []).append(shapely.geometry.shape(geom))
    merged = [shapely.union_all(parts.get(int(k), [])) for k in keys]
    return gpd.GeoSeries(merged, crs=attrs["raster_crs"]).to_crs(cells.crs)


def _names(values: pd.Series) -> str:
    return ",".join(sorted({str(a) for a in values if a is not None and a == a}))


def group_gaps(cells: gpd.GeoDataFrame, uncovered: ArrayLike,
               min_population: float = 0.0, *, by_unit: bool = False,
               min_area_km2: float = 0.0) -> gpd.GeoDataFrame:
    """Group uncovered cells into contiguous gap areas ranked by population.

    Parameters
    ----------
    cells
        Population cells (``population``, optional ``row``/``col``, ``admin_code``,
        ``admin_name``).
    uncovered
        Boolean per cell: True where the cell's people are not covered.
    min_population
        Drop gap areas with fewer people than this.
    by_unit
        Split areas at admin unit borders (cells link only within their ``admin_code``):
        each area is one unit's to act on, named by it. A pocket that spans eight towns
        is eight areas, each ranked by its own people.
    min_area_km2
        Drop gap areas smaller than this (with ``min_population``: single stray cells of
        a few people are no planning question).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per gap area, largest first: ``gap_id`` (1 = most people), ``population``,
        ``cells``, ``area_km2``, ``admin_units`` (codes, comma-separated), ``admin_names``
        (their names, when the cells have ``admin_name``), polygon geometry (union of
        the cell squares).
    """
    mask = np.asarray(uncovered, dtype=bool)
    sub = cells.loc[mask]
    columns = ["gap_id", "population", "cells", "area_km2", "admin_units", "geometry"]
    if "admin_name" in cells.columns:
        columns.insert(5, "admin_names")
    if sub.empty:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=cells.crs)
    admin = sub["admin_code"] if "admin_code" in sub else pd.Series(None, index=sub.index)
    links = _links(sub)
    if by_unit:                        # keep only links between cells of one unit
        codes = pd.factorize(admin.astype(object).to_numpy(), use_na_sentinel=True)[0]
        coo = links.tocoo()
        same = codes[coo.row] == codes[coo.col]
        links = sparse.csr_matrix((coo.data[same], (coo.row[same], coo.col[same])),
                                  shape=links.shape)
    _, labels = connected_components(links, directed=False)
    frame = pd.DataFrame({"label": labels, "population": sub["population"].to_numpy(),
                          "admin": admin.astype(object).to_numpy()})
    if "admin_name" in sub.columns:
        frame["name"] = sub["admin_name"].astype(object).to_numpy()
    agg = frame.groupby("label").agg(
        population=("population", "sum"), cells=("population", "size"),
        admin_units=("admin", _names),
        **({"admin_names": ("name", _names)} if "admin_name" in sub.columns else {}))
    traced = _raster_union(cells, sub, labels, agg.index.to_numpy())
    if traced is not None:
        geom_values = traced.values
    else:
        geoms = cell_polygons(sub).groupby(labels).agg(lambda g: shapely.union_all(g.values))
        geom_values = geoms.reindex(agg.index).values
    out = gpd.GeoDataFrame(agg, geometry=geom_values, crs=cells.crs)
    out["area_km2"] = out.area / 1e6
    out = out[(out["population"] >= min_population) & (out["area_km2"] >= min_area_km2)]
    out = out.sort_values(["population", "cells"], ascending=False).reset_index(drop=True)
    out.insert(0, "gap_id", np.arange(1, len(out) + 1))
    return out[columns]


def gap_members(gaps: gpd.GeoDataFrame, cells: gpd.GeoDataFrame
                ) -> tuple[np.ndarray, np.ndarray]:
    """Which cells make up which gap area.

    A cell belongs to a gap when its centre lies inside the gap's polygon (gap polygons
    are unions of whole cell squares, so centres are never on an edge); works on any gap
    table, also one read back from a file.

    Parameters
    ----------
    gaps
        Output of :func:`group_gaps`.
    cells
        The population cells the gaps were grouped from.

    Returns
    -------
    tuple of numpy.ndarray
        ``(cell_positions, gap_positions)``: positional indices into ``cells`` and
        ``gaps``, sorted by gap then cell.
    """
    if gaps.empty or cells.empty:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    fast = _raster_members(gaps, cells)
    if fast is not None:
        cell_pos, gap_pos = fast
    else:
        pts = cells.geometry if gaps.crs == cells.crs else cells.geometry.to_crs(gaps.crs)
        cell_pos, gap_pos = gaps.sindex.query(pts.values, predicate="within")
    order = np.lexsort((cell_pos, gap_pos))
    return cell_pos[order].astype(np.intp), gap_pos[order].astype(np.intp)


def _raster_members(gaps: gpd.GeoDataFrame, cells: gpd.GeoDataFrame
                    ) -> tuple[np.ndarray, np.ndarray] | None:
    """Gap membership of raster cells by burning the gaps into the raster (fast path).

    A pixel belongs to the gap that covers its centre (``rasterize``'s rule, the same as
    "the cell's centre lies in the polygon"): milliseconds, where a point-in-polygon
    query of every cell against traced outlines takes about a second.
    """
    attrs = cells.attrs
    if not ({"row", "col"} <= set(cells.columns) and "raster_transform" in attrs
            and "raster_crs" in attrs and "raster_shape" in attrs):
        return None
    from affine import Affine
    from rasterio import features
    shapes = gaps.geometry.to_crs(attrs["raster_crs"]).values
    grid = features.rasterize(
        [(g, k + 1) for k, g in enumerate(shapes) if g is not None and not g.is_empty],
        out_shape=tuple(attrs["raster_shape"]), transform=Affine(*attrs["raster_transform"][:6]),
        fill=0, dtype="int32")
    rows = cells["row"].to_numpy(np.int64)
    cols = cells["col"].to_numpy(np.int64)
    label = grid[rows, cols]
    hit = np.flatnonzero(label > 0)
    return hit, label[hit].astype(np.intp) - 1


def gap_centres(gaps: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
                members: tuple[np.ndarray, np.ndarray] | None = None) -> gpd.GeoSeries:
    """Population-weighted centre of each gap area (its polygon's centroid if empty).

    Parameters
    ----------
    gaps, cells
        As for :func:`gap_members`.
    members
        :func:`gap_members` of them, if already known.

    Returns
    -------
    geopandas.GeoSeries
        Points in the gaps' CRS, one per gap row.
    """
    centres = gaps.geometry.centroid.values.copy()
    cell_pos, gap_pos = members if members is not None else gap_members(gaps, cells)
    if len(cell_pos):
        pts = cells.geometry if gaps.crs == cells.crs else cells.geometry.to_crs(gaps.crs)
        xy = shapely.get_coordinates(pts.values[cell_pos])
        w = cells["population"].to_numpy(float)[cell_pos]
        n = len(gaps)
        tot = np.bincount(gap_pos, w, n)
        ok = tot > 0
        cx = np.bincount(gap_pos, w * xy[:, 0], n)
        cy = np.bincount(gap_pos, w * xy[:, 1], n)
        centres[ok] = shapely.points(cx[ok] / tot[ok], cy[ok] / tot[ok])
    return gpd.GeoSeries(centres, index=gaps.index, crs=gaps.crs)


def name_gaps(gaps: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
              places: gpd.GeoDataFrame | None,
              members: tuple[np.ndarray, np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """Name each gap area by the named place nearest its population-weighted centre.

    Parameters
    ----------
    gaps
        Output of :func:`group_gaps`.
    cells
        The population cells the gaps were grouped from.
    places
        Named places (``name``, optional ``name_en``, points in any CRS), e.g.
        :func:`geoplan.inputs.osm.places_of`. None or empty: the columns are added empty.
    members
        :func:`gap_members` of ``gaps`` and ``cells``, if already known.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gaps`` with ``near_place``, ``near_place_en`` and ``near_place_km`` (distance
        from the gap's centre, km) added.
    """
    out = gaps.copy()
    out["near_place"] = ""
    out["near_place_en"] = ""
    out["near_place_km"] = np.nan
    if places is None or places.empty or gaps.empty:
        return out
    centres = gap_centres(gaps, cells, members)
    metric = centres.crs if centres.crs is not None and centres.crs.is_projected \
        else centres.estimate_utm_crs()
    cxy = shapely.get_coordinates(centres.to_crs(metric).values)
    pxy = shapely.get_coordinates(places.geometry.to_crs(metric).values)
    dist, idx = cKDTree(pxy).query(cxy)
    out["near_place"] = places["name"].astype(str).to_numpy()[idx]
    if "name_en" in places.columns:
        out["near_place_en"] = places["name_en"].fillna("").astype(str).to_numpy()[idx]
    out["near_place_km"] = np.round(dist / 1000.0, 2)
    return out

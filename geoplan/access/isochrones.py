"""Isochrone polygons: the area from which a facility is reached within T minutes.

Method
------
An isochrone is drawn with **the same travel model as the coverage figures**, so a map
never contradicts a table:

1. a regular grid of points (``resolution_m``, default 100 m, aligned to multiples of
   the resolution) is laid over the part of the network's extent that any facility
   could reach: no trip of T minutes ends farther (in a straight line) from its
   facility than T times the fastest speed of the mode, so points beyond that radius
   of every facility are left out;
2. the grid points are snapped to the network exactly like population cells (nearest
   road the mode may join, within ``max_snap_m``, with a walking access leg), and the
   travel time between every facility and every grid point within the largest T is
   computed with :func:`geoplan.travel.times.travel_time_matrix` (facilities in chunks, so
   memory stays bounded);
3. for each facility and each T, the grid squares whose centre reaches the facility
   within T are turned into polygons (:func:`rasterio.features.shapes`) and merged.

So the isochrone of T is the union of the ``resolution_m`` squares around points that
are within T under the model: it follows the roads (a strip along a fast road, holes
where the nearest road is a slow one or where no road is within ``max_snap_m``), its
outline is accurate to about one grid square, and isochrones of one facility are
nested (T1 < T2 gives a subset). A finer grid costs time quadratically; 100 m suits
towns and counties, 50 m a dense urban district.

Why not buffers around reachable road segments: buffering every reachable road by
the remaining walking distance and dissolving thousands of buffers per facility and T
is slow, and it draws people as covered where the model snaps them to another
(slower) road. The grid avoids both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from rasterio.features import shapes
from rasterio.transform import Affine
from scipy import sparse
from scipy.spatial import cKDTree

from geoplan._errors import GeoplanInputError
from geoplan.access.coverage import (
    TravelContext,
    _minutes,
    _points_xy,
    _population,
    _select,
    snap_cached,
)
from geoplan.travel.times import Snapped, travel_time_matrix

__all__ = ["MAX_GRID_POINTS", "isochrones"]

#: Largest grid :func:`isochrones` builds; beyond it a coarser resolution is needed.
MAX_GRID_POINTS = 4_000_000
#: Facility-grid pairs computed per batch of facilities (bounds memory).
_PAIRS_PER_BATCH = 8_000_000


def _max_speed_ms(ctx: TravelContext) -> float:
    """Fastest speed (m/s) anywhere on the network, or walking along/onto a road."""
    net = ctx.net
    fastest = np.minimum(net.seg_fwd_s, net.seg_bwd_s)
    ok = np.isfinite(fastest) & (fastest > 0)
    # every road is a segment (also those points may not join, e.g. expressways)
    v = float((net.seg_length[ok] / fastest[ok]).max()) if ok.any() else 0.0
    return max(v, ctx.access_speed_kmh / 3.6)


def _grid(ctx: TravelContext, fac_xy: NDArray[np.float64], radius: float,
          res: float) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.intp],
                               float, float]:
    """Grid points within ``radius`` of a facility and within reach of the network.

    Returns the points, their row and column in the full grid, and the grid's left edge
    and top edge (grid rows run from the top down).
    """
    lo = np.maximum(fac_xy.min(axis=0) - radius, ctx.net.xy.min(axis=0) - ctx.max_snap_m)
    hi = np.minimum(fac_xy.max(axis=0) + radius, ctx.net.xy.max(axis=0) + ctx.max_snap_m)
    x0, y1 = np.floor(lo[0] / res) * res, np.ceil(hi[1] / res) * res
    ncol = max(1, int(np.ceil((hi[0] - x0) / res)))
    nrow = max(1, int(np.ceil((y1 - lo[1]) / res)))
    if nrow * ncol > MAX_GRID_POINTS:
        raise GeoplanInputError(
            f"an isochrone grid of {nrow:,} x {ncol:,} points at {res:g} m is too large",
            field="resolution_m", hint="use a coarser resolution_m or fewer/shorter cut-offs")
    rows, cols = np.divmod(np.arange(nrow * ncol, dtype=np.intp), ncol)
    xy = np.column_stack([x0 + (cols + 0.5) * res, y1 - (rows + 0.5) * res])
    near, _ = cKDTree(fac_xy).query(xy, distance_upper_bound=radius + res)
    keep = np.isfinite(near)
    return xy[keep], rows[keep], cols[keep], float(x0), float(y1)


def _subset(s: Snapped, idx: NDArray[np.intp]) -> Snapped:
    return replace(s, reachable=s.reachable[idx], segment=s.segment[idx], t=s.t[idx],
                   access_m=s.access_m[idx], access_s=s.access_s[idx],
                   on_fragment=s.on_fragment[idx], nodes=s.nodes[idx], node=s.node[idx],
                   entry_s=s.entry_s[idx], exit_s=s.exit_s[idx])


def _polygons(times: NDArray[np.float64], rows: NDArray[np.intp], cols: NDArray[np.intp],
              limits: Sequence[float], x0: float, y1: float, res: float) -> list[object]:
    """Merge the grid squares with time <= each limit (one geometry per limit)."""
    empty = shapely.Polygon()
    if times.size == 0:
        return [empty] * len(limits)
    r0, c0 = rows.min(), cols.min()
    grid = np.full((rows.max() - r0 + 1, cols.max() - c0 + 1), np.inf)
    grid[rows - r0, cols - c0] = times
    transform = Affine(res, 0.0, x0 + c0 * res, 0.0, -res, y1 - r0 * res)
    out = []
    for limit in limits:
        mask = grid <= limit
        if not mask.any():
            out.append(empty)
            continue
        parts = [shapely.geometry.shape(geom) for geom, _ in
                 shapes(mask.astype(np.uint8), mask=mask, transform=transform)]
        out.append(shapely.union_all(parts))
    return out


def isochrones(
    ctx: TravelContext,
    facilities: gpd.GeoDataFrame,
    minutes: float | Sequence[float] = (5, 10, 15),
    *,
    types: str | Iterable[str] | None = None,
    resolution_m: float = 100.0,
) -> gpd.GeoDataFrame:
    """Isochrone polygons per facility and cut-off, for maps (method: module docstring).

    Why: "who is inside the 15-minute circle of this service point" is read off a map;
    the polygons use the travel model of the coverage tables (snapping, access legs,
    one-way streets, direction), so map and figures agree.

    Parameters
    ----------
    ctx
        Travel context (:func:`geoplan.access.coverage.travel_context`); population is optional
        and, when present, gives the ``population`` column.
    facilities
        Facilities (:func:`geoplan.inputs.readers.read_facilities`).
    minutes
        One or several cut-offs T in minutes.
    types
        Facility types to draw; default all.
    resolution_m
        Grid spacing in metres (default 100).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per facility and T (facilities in input order, T ascending):
        ``facility_id``, ``name``, ``type``, ``minutes``, ``area_km2``, ``population``
        (people of the context's cells within T of the facility; NaN without
        population) and the (Multi)Polygon in the network's CRS (empty if the facility
        cannot be snapped to a road or reaches no grid point).

    Raises
    ------
    GeoplanInputError
        Bad ``minutes`` or ``resolution_m``, unknown types, no facility selected, a
        grid above :data:`MAX_GRID_POINTS` points.
    """
    ts = _minutes(minutes)
    if not (np.isfinite(resolution_m) and resolution_m > 0):
        raise GeoplanInputError(f"resolution_m must be a positive number, got {resolution_m!r}",
                                field="resolution_m", hint="e.g. 100 (metres)")
    res = float(resolution_m)
    sel = _select(facilities, types)
    net = ctx.net
    fac_xy = _points_xy(sel, net, "facilities")
    fac = snap_cached(net, fac_xy, max_snap_m=ctx.max_snap_m,
                      access_speed_kmh=ctx.access_speed_kmh, what="facilities")
    limit = max(ts) * 60.0
    radius = limit * _max_speed_ms(ctx)
    gxy, grow, gcol, x0, y1 = _grid(ctx, fac_xy, radius, res)
    grid = snap_cached(net, gxy, max_snap_m=ctx.max_snap_m,
                       access_speed_kmh=ctx.access_speed_kmh, what="isochrone grid points")
    direction = "to_source" if ctx.direction == "to_facility" else "from_source"
    people = _people_within(ctx, fac, ts, direction)
    n = len(sel)
    batch = max(1, _PAIRS_PER_BATCH // max(1, len(gxy)))
    geoms: list[object] = []
    for start in range(0, n, batch):
        idx = np.arange(start, min(n, start + batch))
        M = travel_time_matrix(net, _subset(fac, idx), grid, limit, direction=direction)
        for r in range(idx.size):
            lo, hi = M.indptr[r], M.indptr[r + 1]
            cols = M.indices[lo:hi]
            geoms.extend(_polygons(M.data[lo:hi], grow[cols], gcol[cols],
                                   [t * 60.0 for t in ts], x0, y1, res))
    k = len(ts)
    out = gpd.GeoDataFrame({
        "facility_id": np.repeat(sel["id"].astype(str).to_numpy(), k),
        "name": np.repeat((sel["name"] if "name" in sel else sel["id"]).astype(str)
                          .to_numpy(), k),
        "type": np.repeat(sel["type"].astype(str).to_numpy(), k),
        "minutes": np.tile(np.asarray(ts, float), n),
        "population": people.ravel(),
    }, geometry=gpd.GeoSeries(geoms).values, crs=net.crs)
    out.insert(4, "area_km2", out.geometry.area / 1e6)
    return out


def _people_within(ctx: TravelContext, fac: Snapped, ts: Sequence[float],
                   direction: str) -> NDArray[np.float64]:
    """(facilities, len(ts)) people of the context's cells within each T of each facility."""
    if ctx.population is None or ctx.cells is None:
        return np.full((len(fac), len(ts)), np.nan)
    pop = _population(ctx)
    M = travel_time_matrix(ctx.net, fac, ctx.cells, max(ts) * 60.0, direction=direction)
    out = np.empty((len(fac), len(ts)))
    weights = pop[M.indices]
    for k, t in enumerate(ts):
        within = sparse.csr_matrix((np.where(M.data <= t * 60.0, weights, 0.0), M.indices,
                                    M.indptr), shape=M.shape)
        out[:, k] = np.asarray(within.sum(axis=1)).ravel()
    return out

"""Population cells on a display raster: the light way to draw a county-sized grid.

Private helpers of :mod:`geoplan.maps.canvas`. A county has hundreds of thousands of cells; one
polygon each makes a page of 100 MB that never opens. Cells are instead resampled onto a
Web-Mercator raster in the basemap's own coordinates (WGS-84, or GCJ-02 for Gaode):
each pixel centre is taken back to the cells' CRS and given the cell whose rectangle
holds it (nearest centre in Chebyshev distance measured in cell widths/heights), so the
raster lines up with the basemap exactly whatever the cells' own grid. Population is
then a palette PNG and covered areas are the raster's dissolved outlines.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.spatial import cKDTree

from geoplan._errors import GeoplanInputError
from geoplan.inputs.chinacrs import gcj02_to_wgs84, wgs84_to_gcj02


@dataclass
class Grid:
    """Display raster of population cells: pixel -> cell position (-1 = no cell)."""

    index: NDArray[np.intp]
    x0: float
    y1: float
    pixel: float
    bounds: list[list[float]]


def projected_cells(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the cells in a metric CRS (their own, or their UTM zone), checking columns."""
    if cells.crs is None:
        raise GeoplanInputError("the population cells have no CRS", field="geometry",
                                hint="set one (GeoDataFrame.set_crs) before mapping")
    if "population" not in cells.columns:
        raise GeoplanInputError("the population cells have no 'population' column",
                                field="population",
                                hint="use geoplan.inputs.readers.read_population")
    if cells.crs.is_projected:
        return cells
    return cells.to_crs(cells.estimate_utm_crs())


def cell_size(cells: gpd.GeoDataFrame, xy: NDArray[np.float64]) -> tuple[float, float]:
    """Width and height (m) of the cells, from the spacing of neighbouring centres.

    Cells of a lon/lat raster are not square in metres (3 arc-seconds are about 80 m x
    92 m at 30 deg N); a square of the cell's area would leave thin stripes between rows.
    """
    fallback = 100.0
    if "cell_area_m2" in cells.columns and cells["cell_area_m2"].notna().any():
        fallback = float(np.sqrt(np.nanmedian(cells["cell_area_m2"].to_numpy(float))))
    if len(xy) < 3:
        return fallback, fallback
    sample = xy[:: max(1, len(xy) // 20_000)]
    _, nb = cKDTree(xy).query(sample, k=min(5, len(xy)))
    off = np.abs(xy[nb[:, 1:]] - sample[:, None, :]).reshape(-1, 2)
    horizontal = off[:, 0] > off[:, 1]
    dx = float(np.median(off[horizontal, 0])) if horizontal.any() else fallback
    dy = float(np.median(off[~horizontal, 1])) if (~horizontal).any() else fallback
    # isolated cells (no neighbour in one direction) leave the estimate to the other one
    if not (0.5 < dx / dy < 2.0):
        dx = dy = min(dx, dy)
    return dx, dy


_MERC = Transformer.from_crs(4326, 3857, always_xy=True)
_UNMERC = Transformer.from_crs(3857, 4326, always_xy=True)


def display_grid(cells: gpd.GeoDataFrame, *, gcj02: bool = False,
                 max_pixels: int = 3_000_000) -> Grid:
    """Resample cells onto a Web-Mercator display raster (nearest cell, exact inverse map).

    Parameters
    ----------
    cells
        Population cells (points in a projected CRS, or any CRS with a UTM zone).
    gcj02
        Build the raster in GCJ-02 (for a Gaode basemap) instead of WGS-84.
    max_pixels
        Coarsen the pixels so the raster has at most this many.

    Returns
    -------
    Grid
    """
    cells = projected_cells(cells)
    xy = shapely.get_coordinates(cells.geometry.values)
    dx, dy = cell_size(cells, xy)
    half = max(dx, dy) / 2.0
    to_ll = Transformer.from_crs(cells.crs, 4326, always_xy=True)
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    if gcj02:
        lon, lat = wgs84_to_gcj02(lon, lat)
    mx, my = _MERC.transform(lon, lat)
    scale = 1.0 / math.cos(math.radians(float(np.mean(lat)))) if len(lat) else 1.0
    pad = 1.5 * half * scale
    x0, x1 = float(np.min(mx)) - pad, float(np.max(mx)) + pad
    y0, y1 = float(np.min(my)) - pad, float(np.max(my)) + pad
    pixel = min(dx, dy) * scale / 1.5
    if (x1 - x0) * (y1 - y0) / pixel**2 > max_pixels:
        pixel = math.sqrt((x1 - x0) * (y1 - y0) / max_pixels)
    width, height = math.ceil((x1 - x0) / pixel), math.ceil((y1 - y0) / pixel)
    gx, gy = np.meshgrid(x0 + (np.arange(width) + 0.5) * pixel,
                         y1 - (np.arange(height) + 0.5) * pixel)
    plon, plat = _UNMERC.transform(gx.ravel(), gy.ravel())
    if gcj02:
        plon, plat = gcj02_to_wgs84(plon, plat)
    px, py = Transformer.from_crs(4326, cells.crs, always_xy=True).transform(plon, plat)
    # Chebyshev distance in cell units: a pixel belongs to the cell whose rectangle holds it
    unit = np.array([dx, dy])
    dist, idx = cKDTree(xy / unit).query(np.column_stack([px, py]) / unit, p=np.inf,
                                         distance_upper_bound=0.52)
    idx = np.where(np.isfinite(dist), idx, -1).reshape(height, width).astype(np.intp)
    lons, lats = _UNMERC.transform([x0, x0 + width * pixel], [y1 - height * pixel, y1])
    bounds = [[round(lats[0], 7), round(lons[0], 7)], [round(lats[1], 7), round(lons[1], 7)]]
    return Grid(index=idx, x0=x0, y1=y1, pixel=pixel, bounds=bounds)


def _nice(value: float) -> float:
    if value <= 0:
        return 0.0
    mag = 10 ** math.floor(math.log10(value))
    return min((m * mag for m in (1, 2, 5, 10)), key=lambda c: abs(math.log(c / value)))


def population_breaks(density: NDArray[np.float64]) -> list[float]:
    """Return rounded, roughly log-spaced class limits (people per km²) for a legend."""
    d = density[np.isfinite(density) & (density > 0)]
    if d.size == 0:
        return [1.0]
    lo, hi = np.quantile(d, [0.25, 0.995])
    if hi <= lo:
        return [_nice(float(lo))]
    steps = np.geomspace(lo, hi, 6)
    return sorted({_nice(float(q)) for q in steps})


def palette_png(classes: NDArray[np.uint8], colours: Sequence[str], alpha: int = 200) -> bytes:
    """Encode class numbers (0 = transparent, k = ``colours[k - 1]``) as a palette PNG."""
    from PIL import Image  # noqa: PLC0415 - Pillow comes with matplotlib

    img = Image.fromarray(classes, mode="P")
    palette = [0, 0, 0]
    for c in colours:
        palette += [int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)]
    img.putpalette(palette + [0] * (768 - len(palette)))
    buf = io.BytesIO()
    trans = bytes([0] + [alpha] * len(colours))
    img.save(buf, format="PNG", optimize=True, transparency=trans)
    return buf.getvalue()


def grid_polygons(grid: Grid, mask: NDArray[np.bool_]) -> Any:
    """Return dissolved polygons (display lon/lat) of the pixels where ``mask`` is True."""
    from rasterio.features import shapes  # noqa: PLC0415 - heavy, only for this
    from rasterio.transform import from_origin  # noqa: PLC0415

    if not mask.any():
        return shapely.MultiPolygon()
    transform = from_origin(grid.x0, grid.y1, grid.pixel, grid.pixel)
    polys = [shapely.geometry.shape(g) for g, _ in
             shapes(mask.astype(np.uint8), mask=mask, transform=transform, connectivity=8)]
    merged = shapely.simplify(shapely.MultiPolygon(polys), 0.6 * grid.pixel,
                              preserve_topology=True)

    def unproject(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = _UNMERC.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    return shapely.transform(merged, unproject)


def time_minutes(cells: gpd.GeoDataFrame, col: str) -> NDArray[np.float64]:
    """Return the minutes column as floats, missing values as ``inf`` (unreachable)."""
    if col not in cells.columns:
        raise GeoplanInputError(f"the population cells have no '{col}' column", field=col,
                                hint="add the minutes to the nearest facility per cell "
                                     "(e.g. geoplan.access.coverage.coverage_by_cell)")
    t = pd.to_numeric(cells[col], errors="coerce").to_numpy(float)
    return np.where(np.isnan(t), np.inf, t)

"""Planning zones: the parts of a city a plan must balance (east, south, west, north, centre).

Why: a city plan that "balances tertiary care across the east, south, west, north and
centre" holds each zone to a minimum (and maximum) of sites, or maximises the worst-off
zone's covered share. Zones come three ways, all giving one GeoDataFrame with a ``zone``
column (the zone's key), ``name_zh``/``name_en`` and polygons in the study area's CRS:

* :func:`sector_zones` - a centre disc and ``n`` sectors around a point, cut to an extent;
* :func:`read_zones` - polygons from a file (GeoJSON, GeoPackage, Shapefile) with a name
  column;
* :func:`zones_from_units` - admin units grouped by the planner.

:func:`zone_of` gives the zone of each point (cells, sites); a point in no zone gets None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from shapely.geometry import Point, Polygon

from geoplan._errors import GeoplanInputError

__all__ = ["SECTOR_NAMES", "read_zones", "sector_zones", "zone_of", "zones_from_units"]

#: zh/en names of the centre and the four compass sectors (keys are the zone keys).
SECTOR_NAMES: dict[str, tuple[str, str]] = {
    "centre": ("中心", "centre"), "east": ("东部", "east"), "north": ("北部", "north"),
    "west": ("西部", "west"), "south": ("南部", "south")}


def _frame(keys: list[str], zh: list[str], en: list[str], geoms: list[Any],
           crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"zone": keys, "name_zh": zh, "name_en": en},
                            geometry=geoms, crs=crs)


def sector_zones(centre: tuple[float, float], radius_km: float, *, extent: Any,
                 n_sectors: int = 4, crs: Any = None) -> gpd.GeoDataFrame:
    """A centre disc of ``radius_km`` and ``n_sectors`` equal sectors around it.

    With 4 sectors they are east (bearing 45°-135°), south, west and north (315°-45°),
    each from the disc's edge to the extent's edge.

    Parameters
    ----------
    centre
        (lon, lat) in WGS-84 degrees.
    radius_km
        Radius of the centre zone (> 0).
    extent
        The area the zones cover (a shapely geometry or a GeoDataFrame/GeoSeries whose
        union is taken) in ``crs``; zones are cut to it.
    n_sectors
        Sectors around the centre (>= 2); keys ``sector1``... when not 4.
    crs
        Projected CRS of ``extent`` (default: the GeoDataFrame's own).

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone``, ``name_zh``, ``name_en``, polygons (zones that miss the extent are
        dropped).

    Raises
    ------
    GeoplanInputError
        For a bad centre, radius or sector count, or a centre outside the extent.
    """
    if isinstance(extent, gpd.GeoDataFrame | gpd.GeoSeries):
        crs = crs if crs is not None else extent.crs
        extent = extent.union_all() if hasattr(extent, "union_all") else extent.unary_union
    if crs is None or not gpd.GeoSeries([], crs=crs).crs.is_projected:
        raise GeoplanInputError("sector zones need a projected CRS (metres)", field="crs")
    try:
        lon, lat = (float(v) for v in centre)
    except (TypeError, ValueError):
        raise GeoplanInputError(f"zone centre must be [lon, lat], got {centre!r}",
                                field="zone_centre") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeoplanInputError(f"zone centre [{lon}, {lat}] is not a lon/lat in degrees",
                                field="zone_centre", hint="give [lon, lat] in WGS-84")
    if not (math.isfinite(radius_km) and radius_km > 0):
        raise GeoplanInputError(f"zone radius must be > 0 km, got {radius_km!r}",
                                field="zone_radius_km")
    if isinstance(n_sectors, bool) or int(n_sectors) != n_sectors or n_sectors < 2:
        raise GeoplanInputError(f"zone sectors must be a whole number >= 2, got {n_sectors!r}",
                                field="zone_sectors")
    c = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(crs).iloc[0]
    if not extent.buffer(radius_km * 1000).contains(c):
        raise GeoplanInputError(f"zone centre [{lon}, {lat}] lies outside the area",
                                field="zone_centre", hint="give a point inside the region")
    r = radius_km * 1000.0
    disc = c.buffer(r, 64)
    minx, miny, maxx, maxy = extent.bounds
    far = 2.0 * math.hypot(maxx - minx, maxy - miny) + 2 * r
    keys, zh, en, geoms = ["centre"], [SECTOR_NAMES["centre"][0]], ["centre"], \
        [disc.intersection(extent)]
    step = 360.0 / n_sectors
    compass = n_sectors == 4
    for k in range(n_sectors):
        # bearings clockwise from north; with 4 sectors the first is centred on east
        start = (90.0 - step / 2 if compass else 0.0) + k * step
        angles = np.radians(np.linspace(start, start + step, 33))
        ring = [(c.x, c.y)] + [(c.x + far * math.sin(a), c.y + far * math.cos(a))
                               for a in angles]
        wedge = Polygon(ring).difference(disc).intersection(extent)
        key = ("east", "south", "west", "north")[k] if compass else f"sector{k + 1}"
        name = SECTOR_NAMES.get(key, (f"扇区{k + 1}", f"sector {k + 1}"))
        keys.append(key)
        zh.append(name[0])
        en.append(name[1])
        geoms.append(wedge)
    out = _frame(keys, zh, en, geoms, crs)
    return out[~out.geometry.is_empty].reset_index(drop=True)


def read_zones(path: str | Path, *, name_column: str | None = None,
               crs: Any = None) -> gpd.GeoDataFrame:
    """Zone polygons from a file.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or Shapefile of polygons.
    name_column
        Column with each zone's name (default: ``zone``, ``name``, ``名称`` or ``分区``).
    crs
        CRS to project to (the study area's).

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    GeoplanInputError
        Naming the file for an unreadable file, no name column, non-polygons, duplicate
        names or a missing CRS.
    """
    p = Path(path)
    if not p.is_file():
        raise GeoplanInputError(f"zones file not found: {p}", path=p, field="zones")
    try:
        g = gpd.read_file(p)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault
        raise GeoplanInputError(f"cannot read zones file: {exc}", path=p, field="zones",
                                hint="give a GeoJSON, GeoPackage or Shapefile") from None
    if g.empty:
        raise GeoplanInputError("zones file has no features", path=p, field="zones")
    col = name_column or next((c for c in ("zone", "name", "名称", "分区") if c in g.columns),
                              None)
    if col is None or col not in g.columns:
        raise GeoplanInputError(f"zones file has no name column (columns: "
                                f"{', '.join(map(str, g.columns[:10]))})", path=p,
                                field="zones", hint="add a 'zone' or 'name' column")
    if not g.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise GeoplanInputError("zones must be polygons", path=p, field="zones")
    names = g[col].astype(str)
    dup = names[names.duplicated()].unique()
    if dup.size:
        raise GeoplanInputError(f"zone name(s) used twice: {', '.join(dup[:5])}", path=p,
                                field="zones", hint="give each zone one polygon (or a "
                                "multipolygon) and its own name")
    if g.crs is None:
        raise GeoplanInputError("zones file has no CRS", path=p, field="zones",
                                hint="save it with a CRS (e.g. EPSG:4326)")
    if crs is not None:
        g = g.to_crs(crs)
    return _frame(names.tolist(), names.tolist(), names.tolist(), list(g.geometry), g.crs)


def zones_from_units(boundaries: gpd.GeoDataFrame, groups: Mapping[str, Sequence[Any]], *,
                     code_column: str = "admin_code") -> gpd.GeoDataFrame:
    """Zones made of admin units: ``{"east": ["990101", ...], ...}``.

    Raises
    ------
    GeoplanInputError
        For an unknown unit code or a unit in two zones.
    """
    codes = boundaries[code_column].astype(str)
    seen: dict[str, str] = {}
    keys, geoms = [], []
    for zone, members in groups.items():
        want = [str(m) for m in members]
        unknown = sorted(set(want) - set(codes))
        if unknown:
            raise GeoplanInputError(f"zone '{zone}' names unknown unit(s) "
                                    f"{', '.join(unknown[:5])}", field="zone_groups",
                                    hint=f"codes are the boundaries' {code_column}")
        for m in want:
            if m in seen:
                raise GeoplanInputError(f"unit {m} is in zones '{seen[m]}' and '{zone}'",
                                        field="zone_groups")
            seen[m] = str(zone)
        keys.append(str(zone))
        geoms.append(boundaries.loc[codes.isin(want)].union_all()
                     if hasattr(boundaries, "union_all")
                     else boundaries.loc[codes.isin(want)].unary_union)
    names = [SECTOR_NAMES.get(k, (k, k)) for k in keys]
    return _frame(keys, [n[0] for n in names], [n[1] for n in names], geoms,
                  boundaries.crs)


def zone_of(points: gpd.GeoDataFrame | gpd.GeoSeries, zones: gpd.GeoDataFrame
            ) -> NDArray[np.object_]:
    """The zone key of each point (its geometry's representative point); None outside.

    A point on a shared border goes to the first zone listed.
    """
    geom = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geom.crs is not None and zones.crs is not None and geom.crs != zones.crs:
        geom = geom.to_crs(zones.crs)
    pts = gpd.GeoDataFrame(geometry=geom.representative_point().values, crs=zones.crs)
    hit = gpd.sjoin(pts, zones[["zone", "geometry"]].reset_index(names="_z"),
                    how="left", predicate="intersects")
    hit = hit.sort_values("_z").groupby(level=0).first()
    out = hit["zone"].reindex(range(len(pts)))
    return np.array([None if pd.isna(v) else v for v in out], dtype=object)

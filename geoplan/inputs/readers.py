"""Readers for every input geoplan uses: facilities, candidates, population, boundaries, roads.

Each reader validates what it reads (see :mod:`geoplan.inputs._validate`) and returns data in one
projected metric CRS, so later stages never think about coordinates again:

* :func:`read_facilities` / :func:`read_candidates` — points from CSV (lon/lat or x/y),
  GeoJSON, GeoPackage or Shapefile (candidate polygons become a point inside each);
  coordinates from Chinese map services (GCJ-02, BD-09) are converted to WGS-84 on read.
  Every column is read as a field (:data:`FACILITY_FIELDS`, :data:`CANDIDATE_FIELDS`,
  found by the headers in :data:`SYNONYMS` or named), or named in one warning as not used.
* :func:`read_population` — a GeoTIFF of people per cell (e.g. WorldPop 100 m; only the
  window covering the study area is read) or a vector grid / point table with a
  population column. The result is one row per populated cell.
* :func:`read_boundaries` — admin units (district/county/township) with code and name.

Every vector reader takes ``crs="gcj02"`` / ``"bd09"`` (DataV boundaries, Gaode/Baidu
exports) and converts every vertex to WGS-84 (:func:`shapely.transform` with
:mod:`geoplan.inputs.chinacrs`); each result records the input's system in
``attrs["source_crs"]`` (``"gcj02"``, ``"bd09"`` or e.g. ``"EPSG:4326"``), which the
site outputs of a run use to give coordinates back in that system.
* :func:`read_network` — roads from OSM XML (``.osm``, ``.osm.bz2``), OSM PBF, GraphML,
  or (online) osmnx by place name or bounding box.

Schemas (every GeoDataFrame is in the study area's metric CRS)
-------------------------------------------------------------
facilities
    ``id`` (str), ``name`` (str), ``type`` (code from :mod:`geoplan.inputs.facility_types`),
    ``beds`` (float, 0 where not given for types that do not require beds),
    ``capacity`` (float, NaN if not given), ``cost`` (float, 万元, of upgrading the
    facility; NaN if not given), ``admin_code`` / ``admin_name`` (the admin unit the point
    lies in, or from the file), ``in_area`` (bool), ``name_en`` / ``address`` when the
    file has them, point geometry.
candidates
    ``id``, ``name``, ``type`` (may be empty), ``cost`` (float, 万元, NaN if not given),
    ``capacity``, ``admin_code``, ``admin_name``, ``in_area``, ``name_en`` / ``address``
    when given, point geometry; other columns of the file are kept.
population
    ``cell_id`` (int), ``population`` (float people), ``admin_code``, ``admin_name``,
    ``cell_area_m2``; rasters add ``row`` and ``col`` of the cell in the source raster;
    geometry is the cell centroid.
boundaries
    ``admin_code`` (str), ``admin_name`` (str), the file's other attributes, polygons.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer

from geoplan._errors import GeoplanInputError, GeoplanWarning
from geoplan.inputs import _validate as v
from geoplan.inputs.chinacrs import in_china, to_wgs84
from geoplan.inputs.facility_types import Vocabulary, default_vocabulary
from geoplan.inputs.osm import graph_from_osm_file
from geoplan.inputs.studyarea import StudyArea, parse_crs

__all__ = [
    "DENSITY_LIMIT_PER_KM2",
    "guess_layer_kind",
    "read_boundaries",
    "read_candidates",
    "read_facilities",
    "read_network",
    "read_population",
    "tag_admin_units",
]

PathLike = str | os.PathLike[str]

#: Column names recognised when the caller does not name them. Headers match by
#: :func:`geoplan.inputs._validate.header_key`: case, full/half width, spaces, ``_``, ``-`` and a
#: unit in brackets do not count (``Beds``, ``床位数（张）``, ``fixed cost`` all match).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "facility_id", "site_id", "fid", "编号", "机构编码", "机构代码", "代码"),
    "name": ("name", "名称", "机构名称", "医院名称", "站点名称"),
    "name_en": ("name_en", "english_name", "name_english", "英文名称", "英文名"),
    "type": ("type", "facility_type", "category", "类型", "机构类型", "机构类别"),
    "beds": ("beds", "bed_count", "床位", "床位数", "编制床位", "实有床位", "开放床位",
             "核定床位", "床位总数"),
    "capacity": ("capacity", "容量", "服务能力", "服务人口", "服务人数"),
    # cost headers may end in a unit (建设费用万元, cost_wan, 造价（元）): see COST_UNITS
    "cost": ("cost", "fixed_cost", "site_cost", "build_cost",
             "construction_cost", "investment", "成本", "建设成本", "固定成本", "造价",
             "工程造价", "费用", "建设费用", "建设费", "固定费用", "投资", "投资额", "总投资",
             "建设投资"),
    "admin": ("admin_code", "admin", "adcode", "行政区划代码", "区划代码"),
    "admin_name": ("admin_name", "区划名称", "行政区划名称", "行政区名称"),
    "address": ("address", "addr", "地址", "详细地址", "机构地址"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "lon_wgs84"),
    "lat": ("lat", "latitude", "纬度", "lat_wgs84"),
    "x": ("x", "easting", "x坐标"),
    "y": ("y", "northing", "y坐标"),
    "population": ("population", "pop", "people", "count", "人口", "常住人口", "人口数"),
    "code": ("code", "admin_code", "adcode", "gb", "代码", "区划代码", "行政区划代码"),
    "unit_name": ("name", "admin_name", "名称", "区划名称", "行政区名称"),
}

#: Units a cost header may name, as a suffix (``建设费用万元``, ``cost_wan``) or in brackets
#: (``造价（元）``), and the factor to **万元 (10,000 yuan)**, the unit of every cost and
#: budget geoplan shows. A cost without a unit is taken as 万元; one in 元, 千元 or 亿元 is
#: converted, with a warning saying so.
COST_UNITS: dict[str, float] = {
    "万元": 1.0, "万": 1.0, "wan": 1.0, "10kyuan": 1.0, "千元": 0.1, "亿元": 10_000.0,
    "元": 1e-4, "yuan": 1e-4, "rmb": 1e-4, "cny": 1e-4,
}

#: Fields each point reader takes (the keys of ``columns=``, of region.toml's
#: ``[facilities]`` / ``[candidates]`` tables and of ``geoplan inspect --KEY``).
FACILITY_FIELDS = ("id", "name", "name_en", "type", "beds", "capacity", "cost", "admin",
                   "admin_name", "address", "lon", "lat", "x", "y")
CANDIDATE_FIELDS = ("id", "name", "name_en", "type", "cost", "capacity", "admin",
                    "admin_name", "address", "lon", "lat", "x", "y")

#: Candidate columns kept as they are because a later step reads them (not reported as
#: unused): the site type models select by (``candidate_types``, ``new_site_types``), and
#: the status and added beds of a plan's sites (``geoplan map --sites``).
CARRIED_CANDIDATE_COLUMNS = ("site_type", "status", "beds_added")

#: Implied density (people per km²) above which a "counts" raster is taken to hold
#: densities instead. At 100 m cells this is 1,000 people in one hectare, beyond the
#: densest urban blocks; a people-per-km² raster exceeds it in any town.
DENSITY_LIMIT_PER_KM2 = 100_000.0


# --------------------------------------------------------------------------- helpers
def _target_crs(to_crs: Any, area: StudyArea | None, lonlat: np.ndarray | None) -> CRS:
    if to_crs is not None:
        crs = parse_crs(to_crs, field="to_crs")
        if not isinstance(crs, CRS) or not crs.is_projected:
            raise GeoplanInputError(f"to_crs must be a projected CRS in metres, got {to_crs}",
                                    field="to_crs", hint="e.g. 'EPSG:32650' (UTM 50N)")
        return crs
    if area is not None:
        return area.crs
    from geoplan.inputs.studyarea import utm_crs_for_lonlat

    assert lonlat is not None and len(lonlat)
    lon, lat = np.nanmedian(lonlat[:, 0]), np.nanmedian(lonlat[:, 1])
    return utm_crs_for_lonlat(float(lon), float(lat))


def tag_admin_units(gdf: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``admin_code`` and ``admin_name`` of the unit each point lies in.

    Points on a shared border go to the first unit listed; points in no unit get NaN.

    Parameters
    ----------
    gdf
        Points (in any CRS).
    boundaries
        Output of :func:`read_boundaries`.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``gdf`` with the two columns set.
    """
    units = boundaries[["admin_code", "admin_name", "geometry"]].to_crs(gdf.crs)
    out = gdf.drop(columns=["admin_code", "admin_name"], errors="ignore").copy()
    tree = shapely.STRtree(units.geometry.values)
    pts, polys = tree.query(out.geometry.values, predicate="intersects")
    first = pd.Series(polys, index=pts).groupby(level=0).min()
    codes = np.full(len(out), None, dtype=object)
    names = np.full(len(out), None, dtype=object)
    codes[first.index.to_numpy()] = units["admin_code"].to_numpy()[first.to_numpy()]
    names[first.index.to_numpy()] = units["admin_name"].to_numpy()[first.to_numpy()]
    out["admin_code"] = codes
    out["admin_name"] = names
    return out


def _inside(gdf: gpd.GeoDataFrame, area: StudyArea | None) -> np.ndarray:
    if area is None or area.outline is None:
        return np.ones(len(gdf), dtype=bool)
    xy = shapely.get_coordinates(gdf.geometry.values)
    return shapely.contains_xy(area.outline.buffer(1.0), xy[:, 0], xy[:, 1])


#: Most features of a vector layer read at once (boundaries, vector population grids,
#: candidate polygons); raise it with the environment variable
#: ``GEOPLAN_MAX_VECTOR_FEATURES``.
MAX_VECTOR_FEATURES = 5_000_000


def _env_limit(name: str, default: int) -> int:
    """A size limit from the environment variable ``name`` (``default`` when unset)."""
    env = os.environ.get(name)
    if not env:
        return default
    try:
        return int(float(env))
    except ValueError:
        raise GeoplanInputError(f"{name} = {env!r} is not a number", field=name,
                                hint=f"e.g. {name}={default * 2}") from None


def _check_feature_count(path: Path, layer: str | None) -> None:
    """Refuse a vector layer with more features than the limit, before reading it."""
    import pyogrio
    try:
        n = int(pyogrio.read_info(path, layer=layer, force_feature_count=True)["features"])
    except Exception:  # noqa: BLE001 - unreadable files are reported by the read itself
        return
    limit = _env_limit("GEOPLAN_MAX_VECTOR_FEATURES", MAX_VECTOR_FEATURES)
    if n > limit:
        raise GeoplanInputError(
            f"the layer has {n:,} features, above the limit of {limit:,} read at once",
            path=path, hint="clip the layer to the study area (ogr2ogr -clipsrc), or raise "
                            "GEOPLAN_MAX_VECTOR_FEATURES")


def _source_name(src: CRS | str) -> str:
    """How ``attrs["source_crs"]`` names an input's system: ``gcj02``, ``bd09`` or the
    CRS (``EPSG:4326``)."""
    return src if isinstance(src, str) else src.to_string()


def _china_label(system: str) -> str:
    """``GCJ-02`` / ``BD-09`` for the canonical names ``gcj02`` / ``bd09``."""
    return {"gcj02": "GCJ-02", "bd09": "BD-09"}.get(system, system)


def _vector_crs(gdf: gpd.GeoDataFrame, p: Path, crs: Any) -> gpd.GeoDataFrame:
    """Apply a reader's ``crs`` option to a GIS layer; the result has a pyproj CRS.

    Without ``crs`` the file's own CRS is used (a file without one is refused). An EPSG
    ``crs`` overrides the file's (a warning names both when they differ). ``gcj02`` /
    ``bd09`` take the coordinates as degrees of that system and convert every vertex to
    WGS-84; a file declaring a projected CRS is refused, as those systems are defined on
    longitude/latitude only. Sets ``attrs["source_crs"]``.
    """
    v.require_crs(gdf, p, crs)
    if crs is None:
        gdf.attrs["source_crs"] = _source_name(gdf.crs)
        return gdf
    src = parse_crs(crs)
    if isinstance(src, str):
        if gdf.crs is not None and not gdf.crs.is_geographic:
            raise GeoplanInputError(
                f"the file declares the projected CRS {gdf.crs.to_string()}, but crs = "
                f"'{crs}' takes its coordinates as {_china_label(src)} longitude/latitude",
                path=p, field="crs", hint=f"{_china_label(src)} is defined on longitude/"
                "latitude only: give "
                "the map service's lon/lat export, or leave crs out to read the file in its "
                "declared CRS")
        gdf = _china_to_wgs84(gdf, p, src)
    else:
        if gdf.crs is not None and not gdf.crs.equals(src, ignore_axis_order=True):
            warnings.warn(GeoplanWarning(
                f"{p}: the file declares {gdf.crs.to_string()} but crs = '{crs}' was given; "
                f"its coordinates are read as {src.to_string()} -> leave crs out to use the "
                "file's own"), stacklevel=4)
        gdf = gdf.set_crs(src, allow_override=True)
    gdf.attrs["source_crs"] = _source_name(src)
    return gdf


def _china_to_wgs84(gdf: gpd.GeoDataFrame, p: Path, system: str) -> gpd.GeoDataFrame:
    """Every vertex of a GCJ-02 / BD-09 layer converted to WGS-84 (``shapely.transform``
    with the vectorised inverse of :mod:`geoplan.inputs.chinacrs`).

    Coordinates out of lon/lat range, and features wholly outside China (where these
    systems do not exist: wrong ``crs``, or x/y swapped), are refused naming the feature.
    Vertices outside China of features partly inside are left as they are, as the map
    services do (GCJ-02 equals WGS-84 there), and counted in a warning.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    xy, index = shapely.get_coordinates(geoms, return_index=True)
    x, y = xy[:, 0], xy[:, 1]
    name = _china_label(system)
    bad = ~((np.abs(x) <= 180) & (np.abs(y) <= 90))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        swapped = bool((np.abs(x) <= 90).all() and (np.abs(y) <= 180).all())
        raise GeoplanInputError(
            f"coordinates out of longitude/latitude range ({x[k]}, {y[k]}) in a layer read "
            f"as {name}", path=p, row=v.row_label(gdf, int(index[k])), field="crs",
            hint="the coordinates look swapped (lat, lon): exchange them" if swapped else
            f"{name} coordinates are degrees; if these are projected metres, give the "
            "file's EPSG code as crs")
    inside = in_china(x, y)
    n = len(gdf)
    any_inside = np.bincount(index, weights=inside, minlength=n) > 0
    if not any_inside.all():
        pos = int(np.flatnonzero(~any_inside)[0])
        mine = index == pos
        swapped = bool(in_china(y[mine], x[mine]).all())
        raise GeoplanInputError(
            f"{int((~any_inside).sum())} feature(s) lie wholly outside China (first vertex "
            f"{x[mine][0]}, {y[mine][0]}), but {name} coordinates only exist for China",
            path=p, row=v.row_label(gdf, pos), field="crs",
            hint="the coordinates look swapped (y, x): exchange them" if swapped else
            f"check the crs ({name} is for China only) and the coordinates")
    if not inside.all():
        warnings.warn(GeoplanWarning(
            f"{p}: {int((~inside).sum()):,} vertices of {len(np.unique(index[~inside])):,} "
            f"feature(s) lie outside China, where {name} equals WGS-84; they were not "
            "shifted (as the map services do)"), stacklevel=5)

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], system)
        return np.column_stack([lon, lat])

    converted = shapely.transform(geoms, convert)
    return gdf.set_geometry(gpd.GeoSeries(converted, index=gdf.index, crs=4326),
                            crs=4326)


def _read_vector(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    _check_feature_count(path, layer)
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several types; all mean "unreadable"
        msg = str(exc).splitlines()[0][:300]
        raise GeoplanInputError(f"cannot read the file as a GIS layer ({msg})", path=path,
                                hint="check that the file is complete and in a GIS format "
                                     "(GeoJSON, GeoPackage, Shapefile with .shx/.dbf/.prj)"
                                ) from None
    if gdf.empty:
        raise GeoplanInputError("the layer has no features", path=path,
                                hint="re-export the data, or choose another layer")
    gdf.attrs["row_kind"] = "feature"
    nulls = gdf.geometry.isna() | gdf.geometry.is_empty
    if nulls.any():
        pos = int(np.flatnonzero(nulls.to_numpy())[0])
        raise GeoplanInputError(f"{int(nulls.sum())} feature(s) have no geometry", path=path,
                                row=v.row_label(gdf, pos), field="geometry",
                                hint="delete them or give them coordinates")
    return gdf


def _points_from_table(df: pd.DataFrame, path: Path, crs: Any,
                       columns: Mapping[str, str | None]) -> gpd.GeoDataFrame:
    """Turn a table with lon/lat (or x/y) columns into WGS-84 (or source-CRS) points."""
    src = parse_crs(crs if crs is not None else "EPSG:4326")
    china = isinstance(src, str)
    geographic = china or src.is_geographic
    keys = ("lon", "lat") if geographic else ("x", "y")
    lon_col = v.find_column(df, columns.get(keys[0]), SYNONYMS[keys[0]])
    lat_col = v.find_column(df, columns.get(keys[1]), SYNONYMS[keys[1]])
    if lon_col is None or lat_col is None:
        if geographic and columns.get("lon") is None and columns.get("lat") is None:
            x_col = v.find_column(df, columns.get("x"), SYNONYMS["x"])
            y_col = v.find_column(df, columns.get("y"), SYNONYMS["y"])
            if x_col and y_col:
                lon_col, lat_col = x_col, y_col
    for key, col in ((keys[0], lon_col), (keys[1], lat_col)):
        if col is None:
            v.require_column(df, path, key, columns.get(key), SYNONYMS[key], f"--{key}")
    assert lon_col is not None and lat_col is not None
    id_col = v.find_column(df, columns.get("id"), SYNONYMS["id"])
    x = v.parse_numbers(df, lon_col, path, field=keys[0], id_col=id_col, allow_negative=True,
                        what="a coordinate")
    y = v.parse_numbers(df, lat_col, path, field=keys[1], id_col=id_col, allow_negative=True,
                        what="a coordinate")
    if geographic:
        v.check_lonlat(x, y, df, path, (lon_col, lat_col), id_col, china)
    source = _source_name(src)
    if china:
        x, y = to_wgs84(x, y, src)
        src = CRS.from_epsg(4326)
    gdf = gpd.GeoDataFrame(df.drop(columns=[lon_col, lat_col]),
                           geometry=gpd.points_from_xy(x, y), crs=src)
    gdf.attrs["row_kind"] = "line"
    gdf.attrs["source_crs"] = source
    return gdf


def _load_points(path: PathLike, crs: Any, columns: Mapping[str, str | None] | None,
                 encoding: str | None, layer: str | None) -> tuple[gpd.GeoDataFrame, Path]:
    p = v.check_file(path)
    cols = dict(columns or {})
    suffix = v.suffix_of(p)
    if suffix in v.TABLE_SUFFIXES:
        gdf = _points_from_table(v.read_text_table(p, encoding), p, crs, cols)
    elif suffix in v.VECTOR_SUFFIXES:
        gdf = _vector_crs(_read_vector(p, layer), p, crs)   # every vertex, then a point
        gdf.attrs["row_kind"] = "feature"
        kinds = set(gdf.geom_type.unique())
        if not kinds <= {"Point"}:
            gdf = gdf.set_geometry(gdf.geometry.representative_point())
            warnings.warn(f"{p}: geometries of type {sorted(kinds)} were replaced by a point "
                          "inside each shape", GeoplanWarning, stacklevel=3)
        if gdf.crs.is_geographic:
            xy = shapely.get_coordinates(gdf.geometry.values)
            v.check_lonlat(xy[:, 0], xy[:, 1], gdf, p, ("x", "y"), None, False)
    else:
        raise v.unknown_format(p, "points", v.TABLE_SUFFIXES | v.VECTOR_SUFFIXES)
    gdf.attrs["source"] = str(p)
    return gdf, p


def _finish(gdf: gpd.GeoDataFrame, path: Path, *, to_crs: Any, area: StudyArea | None,
            boundaries: gpd.GeoDataFrame | None, what: str) -> gpd.GeoDataFrame:
    """Project, tag admin units, flag points outside the study area (warn with counts)."""
    lonlat = shapely.get_coordinates(gdf.geometry.to_crs(4326).values)
    target = _target_crs(to_crs, area, lonlat)
    attrs = dict(gdf.attrs)
    gdf = gdf.to_crs(target)
    if boundaries is not None:
        tagged = tag_admin_units(gdf, boundaries)
        for col in ("admin_code", "admin_name"):   # the file's where no unit was found
            if col in gdf.columns:
                tagged[col] = tagged[col].fillna(gdf[col])
        gdf = tagged
    for col in ("admin_code", "admin_name"):
        if col not in gdf.columns:
            gdf[col] = None
    inside = _inside(gdf, area)
    gdf["in_area"] = inside
    v.warn_outside(inside, path, what, "they are kept (in_area=False) and may serve "
                   "residents across the border")
    gdf.attrs.update(attrs)
    return gdf


def _text_column(gdf: gpd.GeoDataFrame, col: str | None, default: pd.Series) -> pd.Series:
    if col is None:
        return default
    values = gdf[col].astype("string").str.strip()
    return values.where(values.notna() & (values != ""), default).astype(str)


# --------------------------------------------------------------------------- fields
def _check_fields(cols: Mapping[str, str | None], fields: tuple[str, ...], path: PathLike,
                  what: str) -> None:
    """Refuse a ``columns`` key the reader has no field for (it would be ignored)."""
    unknown = [k for k in cols if k not in fields]
    if unknown:
        raise GeoplanInputError(
            f"'{unknown[0]}' is not a column key of {what}", path=path, field=unknown[0],
            hint=f"the keys of {what} are: {', '.join(fields)}")


def _find_fields(gdf: gpd.GeoDataFrame, p: Path, cols: Mapping[str, str | None],
                 keys: tuple[str, ...]) -> dict[str, str | None]:
    """The column of each optional field (None when absent); a named column must exist."""
    found: dict[str, str | None] = {}
    for key in keys:
        found[key] = v.find_column(gdf, cols.get(key), SYNONYMS[key])
        if cols.get(key) is not None and found[key] is None:
            v.require_column(gdf, p, key, cols[key], SYNONYMS[key], f"--{key}")
    return found


def _cost_unit(header: str) -> str | None:
    """The unit a cost header names (``""``: none), or None if it is no cost header."""
    bases = {v.header_key(n) for n in SYNONYMS["cost"]}
    key, unit = v.header_parts(header)
    if unit:
        return unit if key in bases and unit in COST_UNITS else None
    if key in bases:
        return ""
    for u in sorted(COST_UNITS, key=len, reverse=True):
        if key.endswith(u) and key[: -len(u)] in bases:
            return u
    return None


def _cost_column(gdf: gpd.GeoDataFrame, p: Path, wanted: str | None) -> tuple[str | None, float]:
    """The cost column (named, else the first cost header in the file) and its factor to
    万元; a unit other than 万元 is converted and said so in a warning."""
    if wanted is not None:
        if wanted not in gdf.columns:
            v.require_column(gdf, p, "cost", wanted, SYNONYMS["cost"], "--cost")
        col, unit = wanted, (_cost_unit(wanted) or v.header_parts(wanted)[1])
    else:
        col = next((c for c in gdf.columns if c != gdf.geometry.name
                    and _cost_unit(c) is not None), None)
        if col is None:
            return None, 1.0
        unit = _cost_unit(col) or ""
    factor = COST_UNITS.get(unit.lower())
    if unit and factor is None:
        warnings.warn(GeoplanWarning(
            f"{p}: the cost column '{col}' names the unit '{unit}', which geoplan does not "
            "know; its values are read as 万元 (10,000 yuan) -> convert them to 万元, or "
            "rename the column"), stacklevel=4)
    elif factor is not None and factor != 1.0:
        warnings.warn(GeoplanWarning(
            f"{p}: the cost column '{col}' is in {unit}; its values were multiplied by "
            f"{factor:g} to 万元 (10,000 yuan), the unit of costs and budgets"), stacklevel=4)
    return col, factor if factor is not None else 1.0


def _report_unused(gdf: gpd.GeoDataFrame, p: Path, used: set[str], fields: tuple[str, ...],
                   found: Mapping[str, str | None], section: str,
                   carried: tuple[str, ...] = ()) -> list[str]:
    """Warn once about the file's columns no field reads; return them (file order)."""
    unused = [c for c in gdf.columns if c != gdf.geometry.name and c not in used
              and c not in carried]
    example = next((k for k in ("cost", "capacity", "beds")
                    if k in fields and found.get(k) is None), "KEY")
    numeric = [c for c in unused if not v.header_key(c).startswith(("lon", "lat", "lng"))
               and pd.to_numeric(
        gdf[c].astype("string").str.strip().replace("", pd.NA), errors="coerce").notna().all()]
    column = numeric[0] if numeric and example != "KEY" else (unused or [None])[0]
    note = " (kept in the table as they are)" if section == "candidates" else " (left out)"
    v.warn_unused_columns(p, unused, section, fields, example, note=note, column=column)
    return unused


def _text_fields(gdf: gpd.GeoDataFrame, found: Mapping[str, str | None],
                 out: gpd.GeoDataFrame) -> None:
    """Add the descriptive fields the file has (``name_en``, ``address``, ``admin_name``)."""
    for key in ("name_en", "address", "admin_name"):
        col = found.get(key)
        if col is not None:
            out[key] = gdf[col].astype("string").str.strip().to_numpy()


# --------------------------------------------------------------------------- facilities
def read_facilities(
    path: PathLike,
    *,
    crs: Any = None,
    to_crs: Any = None,
    area: StudyArea | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    columns: Mapping[str, str | None] | None = None,
    vocabulary: Vocabulary | None = None,
    encoding: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read existing health facilities.

    Parameters
    ----------
    path
        CSV/TXT/TSV with lon/lat (or x/y) columns, GeoJSON, GeoPackage or Shapefile.
    crs
        Coordinate system of the input. For tables the default is WGS-84 lon/lat
        (``EPSG:4326``); for GIS files the file's own CRS (a given ``crs`` overrides it,
        with a warning when they differ). ``"gcj02"`` (Gaode/AutoNavi, Tencent) and
        ``"bd09"`` (Baidu) are converted to WGS-84 on read (every vertex of a GIS layer;
        a GIS file declaring a projected CRS is refused with them). The system is kept in
        ``attrs["source_crs"]`` (``"gcj02"``, ``"bd09"`` or e.g. ``"EPSG:4326"``).
    to_crs
        Projected output CRS; default: ``area.crs``, else the UTM zone of the data.
    area
        Study area; facilities outside it are kept, flagged ``in_area=False`` and counted
        in a :class:`~geoplan.GeoplanWarning`.
    boundaries
        Admin units from :func:`read_boundaries`; each facility is tagged with its unit.
    columns
        Names of the columns of the fields in :data:`FACILITY_FIELDS`: ``id``, ``name``,
        ``name_en``, ``type``, ``beds``, ``capacity``, ``cost`` (of upgrading the
        facility, in 万元), ``admin`` (unit code), ``admin_name``, ``address``,
        ``lon``/``lat`` or ``x``/``y``. Unnamed fields are found by common English and
        Chinese headers (:data:`SYNONYMS`: ``名称``, ``类型``, ``床位数``, ``建设费用万元``,
        ``经度``, ...); a key that is no field is refused. Columns no field reads are
        left out and named in one :class:`~geoplan.GeoplanWarning`.
    vocabulary
        Facility types (default :func:`~geoplan.inputs.facility_types.default_vocabulary`).
    encoding
        Text encoding; default tries UTF-8 (with/without BOM) then GB18030/GBK.
    layer
        Layer name for multi-layer files (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        See the module docstring for the schema.

    Raises
    ------
    GeoplanInputError
        Missing or empty file, unknown format, missing column, bad numbers, coordinates
        out of range or swapped, unknown facility type, duplicate ids, missing CRS, a
        ``columns`` key that is no field.
    """
    vocab = vocabulary or default_vocabulary()
    cols = dict(columns or {})
    _check_fields(cols, FACILITY_FIELDS, path, "facilities")
    gdf, p = _load_points(path, crs, cols, encoding, layer)
    type_col = v.require_column(gdf, p, "type", cols.get("type"), SYNONYMS["type"], "--type")
    found = _find_fields(gdf, p, cols, ("id", "name", "name_en", "beds", "capacity", "admin",
                                        "admin_name", "address"))
    found["type"] = type_col
    cost_col, cost_factor = _cost_column(gdf, p, cols.get("cost"))
    found["cost"] = cost_col
    id_col, name_col, beds_col = found["id"], found["name"], found["beds"]
    cap_col, admin_col = found["capacity"], found["admin"]
    _report_unused(gdf, p, {c for c in found.values() if c}, FACILITY_FIELDS, found,
                   "facilities")

    row_ids = pd.Series([f"row{i + 1}" for i in range(len(gdf))], index=gdf.index)
    ids = _text_column(gdf, id_col, row_ids)
    if id_col is not None:
        v.check_duplicate_ids(ids, gdf, p, id_col)
    raw_types = gdf[type_col].astype("string").fillna("").str.strip()
    codes = raw_types.map(lambda s: vocab.code_of(s) if s else None)
    if codes.isna().any():
        pos = int(np.flatnonzero(codes.isna().to_numpy())[0])
        unknown = sorted(set(raw_types[codes.isna()]))[:5]
        near = vocab.explain_unknown(str(raw_types.iloc[pos]))
        raise GeoplanInputError(
            f"unknown facility type '{raw_types.iloc[pos]}' ({int(codes.isna().sum())} row(s); "
            f"unknown values: {', '.join(repr(u) for u in unknown)})",
            path=p, row=v.row_label(gdf, pos, id_col), field=type_col,
            hint=(near + "; " if near else "")
                 + "use one of the types below, or add your own in a vocabulary file "
                 "(vocabulary = \"FILE\" under [facilities] in region.toml, or "
                 "--vocabulary FILE with geoplan inspect):\n" + vocab.describe())
    needs_beds = codes.map(lambda c: vocab.types[c].requires_beds).to_numpy(dtype=bool)
    if beds_col is None:
        if needs_beds.any():
            pos = int(np.flatnonzero(needs_beds)[0])
            raise GeoplanInputError(
                "missing required column for beds: hospitals need a bed count",
                path=p, row=v.row_label(gdf, pos, id_col), field="beds",
                hint="add a 'beds' (床位数) column, or name it with --beds")
        beds = np.zeros(len(gdf))
    else:
        beds = v.parse_numbers(gdf, beds_col, p, field="beds", id_col=id_col,
                               required=needs_beds, what="a bed count")
        beds = np.nan_to_num(beds, nan=0.0)
    capacity = (np.full(len(gdf), np.nan) if cap_col is None else
                v.parse_numbers(gdf, cap_col, p, field="capacity", id_col=id_col,
                                required=False, what="a capacity"))
    cost = (np.full(len(gdf), np.nan) if cost_col is None else
            v.parse_numbers(gdf, cost_col, p, field="cost", id_col=id_col,
                            required=False, what="a cost") * cost_factor)
    out = gpd.GeoDataFrame({
        "id": ids.to_numpy(dtype=str),
        "name": _text_column(gdf, name_col, ids).to_numpy(dtype=str),
        "type": codes.to_numpy(dtype=str),
        "beds": beds,
        "capacity": capacity,
        "cost": cost,
    }, geometry=gdf.geometry.values, crs=gdf.crs)
    if admin_col is not None:
        out["admin_code"] = gdf[admin_col].astype("string").to_numpy()
    _text_fields(gdf, found, out)
    out.attrs.update(gdf.attrs)
    return _finish(out, p, to_crs=to_crs, area=area, boundaries=boundaries, what="facilities")


def read_candidates(
    path: PathLike,
    *,
    crs: Any = None,
    to_crs: Any = None,
    area: StudyArea | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    columns: Mapping[str, str | None] | None = None,
    encoding: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read candidate sites for new facilities (same formats and options as facilities).

    Parameters
    ----------
    path, crs, to_crs, area, boundaries, encoding, layer
        As in :func:`read_facilities`. Candidates given as polygons (parcels, buildings)
        become a point inside each shape, after every vertex is converted from
        GCJ-02/BD-09 when ``crs`` names one.
    columns
        As in :func:`read_facilities`, for the fields in :data:`CANDIDATE_FIELDS`:
        ``id``, ``name``, ``name_en``, ``type`` (optional), ``cost`` (optional fixed cost
        of opening the site, in 万元), ``capacity`` (optional), ``admin``,
        ``admin_name``, ``address``, ``lon``/``lat`` or ``x``/``y``. The file's other
        columns are kept as they are; those no later step reads (all but
        :data:`CARRIED_CANDIDATE_COLUMNS`, e.g. ``site_type``) are named in one
        :class:`~geoplan.GeoplanWarning`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``name``, ``type``, ``cost``, ``capacity``, ``admin_code``,
        ``admin_name``, ``in_area``, (``name_en``, ``address`` when given), the file's
        other columns, point geometry.

    Raises
    ------
    GeoplanInputError
        As for :func:`read_facilities`; costs must be non-negative numbers; a column named
        in ``columns`` must exist.
    """
    cols = dict(columns or {})
    _check_fields(cols, CANDIDATE_FIELDS, path, "candidates")
    gdf, p = _load_points(path, crs, cols, encoding, layer)
    found = _find_fields(gdf, p, cols, ("id", "name", "name_en", "type", "capacity", "admin",
                                        "admin_name", "address"))
    cost_col, cost_factor = _cost_column(gdf, p, cols.get("cost"))
    found["cost"] = cost_col
    id_col, name_col, type_col = found["id"], found["name"], found["type"]
    cap_col, admin_col = found["capacity"], found["admin"]
    used = {c for c in found.values() if c}
    _report_unused(gdf, p, used, CANDIDATE_FIELDS, found, "candidates",
                   carried=CARRIED_CANDIDATE_COLUMNS)
    row_ids = pd.Series([f"S{i + 1:04d}" for i in range(len(gdf))], index=gdf.index)
    ids = _text_column(gdf, id_col, row_ids)
    if id_col is not None:
        v.check_duplicate_ids(ids, gdf, p, id_col, what="candidate site")
    out = gpd.GeoDataFrame({
        "id": ids.to_numpy(dtype=str),
        "name": _text_column(gdf, name_col, ids).to_numpy(dtype=str),
        "type": _text_column(gdf, type_col, pd.Series("", index=gdf.index)).to_numpy(dtype=str),
        "cost": (np.full(len(gdf), np.nan) if cost_col is None else
                 v.parse_numbers(gdf, cost_col, p, field="cost", id_col=id_col,
                                 required=False, what="a cost") * cost_factor),
        "capacity": (np.full(len(gdf), np.nan) if cap_col is None else
                     v.parse_numbers(gdf, cap_col, p, field="capacity", id_col=id_col,
                                     required=False, what="a capacity")),
    }, geometry=gdf.geometry.values, crs=gdf.crs)
    if admin_col is not None:
        out["admin_code"] = gdf[admin_col].astype("string").to_numpy()
    _text_fields(gdf, found, out)
    for col in gdf.columns:
        if col not in used and col != gdf.geometry.name and col not in out.columns:
            out[col] = gdf[col].to_numpy()
    out.attrs.update(gdf.attrs)
    return _finish(out, p, to_crs=to_crs, area=area, boundaries=boundaries, what="candidates")


# --------------------------------------------------------------------------- boundaries
def read_boundaries(
    path: PathLike,
    *,
    code: str | None = None,
    name: str | None = None,
    crs: Any = None,
    to_crs: Any = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read admin units (district / county / township polygons) with code and name.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or Shapefile of polygons.
    code, name
        Attribute names of the unit code and name; default: common names (``code``,
        ``adcode``, ``区划代码`` / ``name``, ``名称``).
    crs
        Coordinate system of the file: needed when it has none (a shapefile without
        ``.prj``); an EPSG code overrides the file's own (with a warning when they
        differ). ``"gcj02"`` / ``"bd09"``: the coordinates are GCJ-02 / BD-09 degrees —
        as in DataV (阿里云 DataV.GeoAtlas) and Gaode/Baidu boundary exports, whose
        GeoJSON declares WGS-84 — and every vertex is converted to WGS-84; a file that
        declares a projected CRS is refused with them.
    to_crs
        Projected output CRS; default: UTM zone of the units' centre.
    layer
        Layer name for multi-layer files.

    Returns
    -------
    geopandas.GeoDataFrame
        ``admin_code``, ``admin_name``, the other attributes, (multi)polygons;
        ``attrs["source_crs"]`` names the input's system.

    Raises
    ------
    GeoplanInputError
        Missing/empty/unknown file, missing CRS, missing code column, duplicate codes,
        geometries that are not polygons, polygons with no area (also after repair),
        GCJ-02/BD-09 with a projected file CRS or with units wholly outside China.
    """
    p = v.check_file(path)
    if v.suffix_of(p) not in v.VECTOR_SUFFIXES:
        raise v.unknown_format(p, "boundaries", v.VECTOR_SUFFIXES)
    gdf = _read_vector(p, layer)
    v.require_crs(gdf, p, crs)
    kinds = set(gdf.geom_type.unique())
    if not kinds <= {"Polygon", "MultiPolygon"}:
        pos = int(np.flatnonzero(~gdf.geom_type.isin(["Polygon", "MultiPolygon"]))[0])
        raise GeoplanInputError(
            f"admin units must be polygons, found {sorted(kinds)}", path=p,
            row=v.row_label(gdf, pos), field="geometry",
            hint="give the boundary polygons of the units, not points or lines")
    gdf = _vector_crs(gdf, p, crs)          # GCJ-02/BD-09 (DataV): every vertex to WGS-84
    source_crs = gdf.attrs["source_crs"]
    code_col = v.require_column(gdf, p, "code", code, SYNONYMS["code"], "--code")
    name_col = v.find_column(gdf, name, SYNONYMS["unit_name"])
    if name is not None and name_col is None:
        v.require_column(gdf, p, "name", name, SYNONYMS["unit_name"], "--name")
    codes = gdf[code_col].astype("string").str.strip()
    if codes.isna().any() or (codes == "").any():
        pos = int(np.flatnonzero((codes.isna() | (codes == "")).to_numpy())[0])
        raise GeoplanInputError("unit code is empty", path=p, row=v.row_label(gdf, pos),
                                field=code_col, hint="every unit needs a code")
    v.check_duplicate_ids(codes, gdf, p, code_col, what="admin unit")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        warnings.warn(f"{p}: {int(invalid.sum())} invalid polygon(s) repaired with make_valid",
                      GeoplanWarning, stacklevel=2)
        fixed = shapely.make_valid(gdf.geometry[invalid].values)
        # keep the polygonal part of a repair (a bow-tie becomes two triangles)
        fixed = np.array([g if g.geom_type in ("Polygon", "MultiPolygon") else
                          shapely.union_all([x for x in getattr(g, "geoms", [g])
                                             if x.geom_type in ("Polygon", "MultiPolygon")])
                          for g in fixed], dtype=object)
        gdf.loc[invalid, gdf.geometry.name] = fixed
    flat = ~(shapely.area(gdf.geometry.values) > 0)
    if flat.any():                 # e.g. a ring whose points lie on one line
        pos = int(np.flatnonzero(flat)[0])
        raise GeoplanInputError(f"{int(flat.sum())} unit polygon(s) have no area", path=p,
                                row=v.row_label(gdf, pos), field="geometry",
                                hint="redraw the polygon or delete the feature")
    target = CRS.from_user_input(to_crs) if to_crs is not None else StudyArea.estimate_crs(gdf)
    out = gdf.rename(columns={code_col: "admin_code"})
    out["admin_code"] = codes.to_numpy(dtype=str)
    out["admin_name"] = (out[name_col].astype(str).to_numpy() if name_col
                         else out["admin_code"].to_numpy())
    front = ["admin_code", "admin_name"]
    out = out[front + [c for c in out.columns if c not in front]].to_crs(target)
    out.attrs["source"] = str(p)
    out.attrs["source_crs"] = source_crs
    return out


# --------------------------------------------------------------------------- population
def _cell_area_km2(transform: Any, crs: CRS, rows: np.ndarray, height: int) -> np.ndarray:
    """Area in km² of raster cells in ``rows`` (exact per row for geographic rasters)."""
    if not crs.is_geographic:
        return np.full(rows.shape, abs(transform.a * transform.e) / 1e6)
    geod = Geod(ellps="WGS84")
    edges = np.arange(height + 1)
    lat_edges = transform.f + transform.e * edges
    dlon = abs(transform.a)
    areas = np.array([abs(geod.polygon_area_perimeter(
        [0, dlon, dlon, 0], [lat_edges[i], lat_edges[i], lat_edges[i + 1], lat_edges[i + 1]])[0])
        for i in range(height)]) / 1e6
    return areas[rows]


#: Most raster cells read at once (float64: 8 bytes each, about three copies while
#: reading): 150 million cells is ~3.6 GB. Raise it with the environment variable
#: ``GEOPLAN_MAX_RASTER_CELLS``.
MAX_RASTER_CELLS = 150_000_000


def _check_read_size(p: Path, cells: int, window: Any) -> None:
    """Refuse a raster read whose memory would exceed the limit, before reading it."""
    limit = _env_limit("GEOPLAN_MAX_RASTER_CELLS", MAX_RASTER_CELLS)
    if cells > limit:
        gib = cells * 8 * 3 / 2**30
        raise GeoplanInputError(
            f"the raster window to read is {int(window.width):,} x {int(window.height):,} "
            f"= {cells:,} cells (about {gib:,.1f} GiB in memory), above the limit of "
            f"{limit:,} cells", path=p,
            hint="give boundaries so only the study area is read, clip the raster "
                 "(gdal_translate -projwin), or raise GEOPLAN_MAX_RASTER_CELLS")


def _raster_crs(p: Path, own: Any, crs: Any) -> CRS:
    """The CRS a raster is read in: its own, or the ``crs`` option (GCJ-02/BD-09 refused)."""
    if crs is None:
        if own is None:
            raise GeoplanInputError("the raster has no coordinate reference system", path=p,
                                    field="crs", hint="set it, e.g. gdal_edit.py -a_srs "
                                    "EPSG:4326 file.tif (WorldPop rasters are EPSG:4326), or "
                                    "give crs")
        return CRS.from_user_input(own)
    src = parse_crs(crs)
    if isinstance(src, str):
        raise GeoplanInputError(
            f"a {_china_label(src)} raster cannot be read: its cells are no grid in WGS-84",
            path=p, field="crs", hint="warp it to WGS-84 first, or give the cells as a vector "
            f"grid (polygons or points) or a lon/lat table, which crs = '{crs}' converts")
    if own is not None and not CRS.from_user_input(own).equals(src, ignore_axis_order=True):
        warnings.warn(GeoplanWarning(
            f"{p}: the raster declares {CRS.from_user_input(own).to_string()} but crs = "
            f"'{crs}' was given; it is read as {src.to_string()} -> leave crs out to use the "
            "raster's own"), stacklevel=4)
    return src


def _read_population_raster(p: Path, *, crs: Any, to_crs: Any, area: StudyArea | None,
                            values: str, density_limit: float) -> gpd.GeoDataFrame:
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.windows import Window, from_bounds

    try:
        src = rasterio.open(p)
    except RasterioIOError as exc:
        raise GeoplanInputError(f"cannot read the raster ({str(exc)[:200]})", path=p,
                                hint="check that the file is a complete GeoTIFF") from None
    with src:
        raster_crs = _raster_crs(p, src.crs, crs)
        full = Window(0, 0, src.width, src.height)
        window = full
        if area is not None and area.outline is not None:
            bounds = Transformer.from_crs(area.crs, raster_crs, always_xy=True).transform_bounds(
                *area.outline.bounds, densify_pts=21)
            w = from_bounds(*bounds, transform=src.transform)
            c0 = max(int(np.floor(w.col_off)), 0)
            r0 = max(int(np.floor(w.row_off)), 0)
            c1 = min(int(np.ceil(w.col_off + w.width)), src.width)
            r1 = min(int(np.ceil(w.row_off + w.height)), src.height)
            if c1 <= c0 or r1 <= r0:
                raise GeoplanInputError("the raster does not cover the study area", path=p,
                                        hint="use a population raster of this region")
            window = Window(c0, r0, c1 - c0, r1 - r0)
        _check_read_size(p, int(window.width) * int(window.height), window)
        try:
            data = src.read(1, window=window, masked=True).astype("float64")
        except (RasterioIOError, MemoryError) as exc:
            raise GeoplanInputError(
                f"cannot read the raster's cells ({type(exc).__name__}: {str(exc)[:160]})",
                path=p, hint="the file is damaged or incomplete (its header reads but its "
                             "data does not): re-download or re-export it") from None
        tags = {k.lower(): str(val).lower() for k, val in src.tags().items()}
        tags.update({k.lower(): str(val).lower() for k, val in src.tags(1).items()})
        descr = " ".join(d or "" for d in src.descriptions).lower()
        transform = src.transform
        row0, col0, height = int(window.row_off), int(window.col_off), src.height
        width = src.width
    values_arr = np.ma.filled(data, np.nan)
    values_arr[~np.isfinite(values_arr)] = np.nan
    negative = values_arr < 0
    if negative.any():
        r, c = np.argwhere(negative)[0]
        raise GeoplanInputError(
            f"negative population {values_arr[r, c]} ({int(negative.sum())} cell(s)); the "
            "nodata value may be missing from the file", path=p,
            row=f"pixel row {r + row0}, col {c + col0}", field="band 1",
            hint="set the raster's nodata value (e.g. -99999) or fix the cells")
    rows, cols = np.nonzero(np.nan_to_num(values_arr, nan=0.0) > 0)
    pop = values_arr[rows, cols]
    grows = rows + row0
    area_km2 = _cell_area_km2(transform, raster_crs, grows, height)
    if values == "density":
        pop = pop * area_km2
    else:
        hinted = any(word in text for text in [descr, *tags.values()]
                     for word in ("density", "per km", "/km", "per sq"))
        implied = pop / area_km2
        p99 = float(np.percentile(implied, 99)) if implied.size else 0.0
        if hinted or p99 > density_limit:
            why = ("its metadata says density" if hinted else
                   f"the 99th percentile cell implies {p99:,.0f} people/km², above the "
                   f"{density_limit:,.0f}/km² limit for counts")
            raise GeoplanInputError(
                f"the raster looks like population densities, not counts per cell ({why})",
                path=p, field="band 1",
                hint="pass values='density' (people per km²) to convert densities to counts, "
                     "or use a counts raster such as WorldPop 'ppp'")
    xs, ys = rasterio.transform.xy(transform, grows, cols + col0, offset="center")
    target = _target_crs(to_crs, area, np.column_stack(Transformer.from_crs(
        raster_crs, 4326, always_xy=True).transform(np.asarray(xs)[:1000], np.asarray(ys)[:1000]))
        if len(pop) else np.array([[0.0, 0.0]]))
    tx, ty = Transformer.from_crs(raster_crs, target, always_xy=True).transform(xs, ys)
    gdf = gpd.GeoDataFrame({
        "cell_id": (grows.astype(np.int64) * np.int64(width) + cols + col0),
        "population": pop, "row": grows, "col": cols + col0,
        "cell_area_m2": area_km2 * 1e6,
    }, geometry=gpd.points_from_xy(tx, ty), crs=target)
    gdf.attrs.update(source=str(p), raster_crs=raster_crs.to_string(),
                     raster_transform=tuple(transform), raster_shape=(height, width),
                     source_crs=raster_crs.to_string())
    return gdf


def read_population(
    path: PathLike,
    *,
    column: str | None = None,
    crs: Any = None,
    to_crs: Any = None,
    area: StudyArea | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    values: Literal["counts", "density"] = "counts",
    density_limit: float = DENSITY_LIMIT_PER_KM2,
    encoding: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read population as demand cells: one row per populated cell.

    Parameters
    ----------
    path
        GeoTIFF (or other raster) of people per cell, e.g. WorldPop 100 m; or a vector
        grid (polygons) / points (GIS file or CSV with lon/lat) with a population column.
    column
        Population column of a vector grid; default ``population``/``pop``/``人口``….
    crs
        Coordinate system of the input: a table's (default WGS-84 lon/lat), or one
        overriding a GIS file's or raster's own (with a warning when they differ; needed
        when the file has none). ``"gcj02"`` / ``"bd09"``: tables and vector grids
        (polygons or points) are converted to WGS-84 vertex by vertex; a vector file
        declaring a projected CRS, and rasters (whose cells would not stay a grid), are
        refused with them. The system is kept in ``attrs["source_crs"]``.
    to_crs
        Projected output CRS; default ``area.crs``, else the UTM zone of the data.
    area
        Study area: only the raster window covering it is read; cells whose centre lies
        outside are dropped and counted in a warning.
    boundaries
        Admin units; each cell is tagged with the unit containing its centre.
    values
        ``"counts"`` (people per cell, default) or ``"density"`` (people per km²,
        converted to counts with each cell's area; rasters and polygon grids: points
        have no area, so densities of points are refused).
    density_limit
        The counts check of rasters: if the 99th percentile of populated cells implies
        more people per km² than this (default 100,000/km², i.e. 1,000 in a hectare) — or
        the raster's metadata mentions density — the raster is rejected as densities.
        Another value with a vector grid or table is refused.
    encoding, layer
        As in :func:`read_facilities` (vector grids and tables; refused with a raster, as
        is ``column``). Columns of a vector grid other than the population and its id
        are named in one :class:`~geoplan.GeoplanWarning`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``cell_id``, ``population``, ``cell_area_m2``, (rasters: ``row``, ``col``),
        ``admin_code``, ``admin_name``; centroid points.

    Raises
    ------
    GeoplanInputError
        Missing/empty/unknown file, missing CRS, negative/NaN/non-numeric population,
        raster of densities, raster not covering the study area, an option that does not
        apply to the file (see above).
    """
    p = v.check_file(path)
    suffix = v.suffix_of(p)
    if suffix in v.RASTER_SUFFIXES:
        for key, value in (("column", column), ("encoding", encoding), ("layer", layer)):
            if value is not None:
                raise GeoplanInputError(
                    f"{key} = {value!r} does not apply to a raster (its people are band 1)",
                    path=p, field=key, hint=f"leave {key} out for a raster; it is for vector "
                    "grids and point tables")
        gdf = _read_population_raster(p, crs=crs, to_crs=to_crs, area=area, values=values,
                                      density_limit=density_limit)
    elif suffix in v.TABLE_SUFFIXES | v.VECTOR_SUFFIXES:
        if density_limit != DENSITY_LIMIT_PER_KM2:
            raise GeoplanInputError(
                f"density_limit = {density_limit!r} applies to rasters only", path=p,
                field="density_limit", hint="leave it out for a vector grid or table (say "
                "values = \"density\" when its values are people per km²)")
        gdf = _read_population_vector(p, column=column, crs=crs, to_crs=to_crs, area=area,
                                      encoding=encoding, layer=layer, values=values)
    else:
        raise v.unknown_format(p, "population", v.RASTER_SUFFIXES | v.TABLE_SUFFIXES
                               | v.VECTOR_SUFFIXES)
    attrs = dict(gdf.attrs)
    inside = _inside(gdf, area)
    v.warn_outside(inside, p, "population cells", "they are left out",
                   population=gdf["population"].to_numpy())
    gdf = gdf.loc[inside].reset_index(drop=True)
    if boundaries is not None:
        gdf = tag_admin_units(gdf, boundaries)
    for col in ("admin_code", "admin_name"):
        if col not in gdf.columns:
            gdf[col] = None
    if gdf.empty:
        raise GeoplanInputError("no populated cells in the study area", path=p,
                                hint="check that the population data covers the region")
    gdf.attrs.update(attrs)
    return gdf


def _read_population_vector(p: Path, *, column: str | None, crs: Any, to_crs: Any,
                            area: StudyArea | None, encoding: str | None,
                            layer: str | None, values: str = "counts") -> gpd.GeoDataFrame:
    """Cells of a vector grid (polygons or points; a table: points). Lines are no cells;
    GCJ-02/BD-09 grids are converted vertex by vertex; densities need polygons."""
    if v.suffix_of(p) in v.TABLE_SUFFIXES:
        gdf = _points_from_table(v.read_text_table(p, encoding), p, crs, {})
        source_crs = gdf.attrs["source_crs"]
        cell_area = np.full(len(gdf), np.nan)
    else:
        gdf = _read_vector(p, layer)
        v.require_crs(gdf, p, crs)
        lines = ~gdf.geom_type.isin(["Polygon", "MultiPolygon", "Point", "MultiPoint"])
        if lines.any():
            pos = int(np.flatnonzero(lines.to_numpy())[0])
            raise GeoplanInputError(
                f"population cells must be polygons or points, found {gdf.geom_type.iloc[pos]}",
                path=p, row=v.row_label(gdf, pos), field="geometry",
                hint="give the grid cells (polygons) or their centres (points)")
        gdf = _vector_crs(gdf, p, crs)      # GCJ-02/BD-09: every vertex to WGS-84
        source_crs = gdf.attrs["source_crs"]
        cell_area = gdf.to_crs(_target_crs(to_crs, area, shapely.get_coordinates(
            gdf.geometry.to_crs(4326).representative_point().values))).area.to_numpy()
        cell_area = np.where(cell_area > 0, cell_area, np.nan)
        gdf = gdf.set_geometry(gdf.geometry.representative_point()) if not set(
            gdf.geom_type.unique()) <= {"Point"} else gdf
    col = v.require_column(gdf, p, "population", column, SYNONYMS["population"],
                           "--population-column", key="column")
    pop = v.parse_numbers(gdf, col, p, field="population", what="a population count")
    if values == "density":
        if np.isnan(cell_area).any():
            raise GeoplanInputError(
                "population given as density (people per km²) needs polygons, to know each "
                "cell's area; these cells are points", path=p, field="values",
                hint="give the grid's polygons, or people per cell (values = counts)")
        pop = pop * cell_area / 1e6
    id_col = v.find_column(gdf, None, ("cell_id", "id", "fid"))
    v.warn_unused_columns(p, [c for c in gdf.columns if c not in (col, id_col, gdf.geometry.name)],
                          "population", ("column",), "column", option="--population-column")
    keep = pop > 0  # one row per populated cell, as for rasters
    if not keep.any():
        raise GeoplanInputError("no populated cells: every population value is 0", path=p,
                                field=col, hint="check the population column and its units")
    gdf, pop, cell_area = gdf.loc[keep], pop[keep], cell_area[keep]
    lonlat = shapely.get_coordinates(gdf.geometry.to_crs(4326).values)
    target = _target_crs(to_crs, area, lonlat)
    out = gpd.GeoDataFrame({
        "cell_id": np.arange(len(gdf), dtype=np.int64),
        "population": pop, "cell_area_m2": cell_area,
    }, geometry=gdf.geometry.to_crs(target).values, crs=target)
    if id_col is not None:
        out["source_id"] = gdf[id_col].astype(str).to_numpy()
    out.attrs["source"] = str(p)
    out.attrs["source_crs"] = source_crs
    return out


# --------------------------------------------------------------------------- network
_PLACE_RE = re.compile(r"[\\/]")


def _keep_highways(G: nx.MultiDiGraph, p: Path) -> nx.MultiDiGraph:
    """Drop edges of ways with no ``highway`` tag (buildings, land use, rivers read from
    an unfiltered extract are not roads); refuse a file with no road at all."""
    other = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not d.get("highway")]
    if other and len(other) == G.number_of_edges():
        raise GeoplanInputError("the road network has no edges (no highway ways found)",
                                path=p, hint="check that the extract contains roads "
                                "(ways tagged highway=*)")
    if other:
        G.remove_edges_from(other)
        G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
        warnings.warn(GeoplanWarning(
            f"{p}: {len(other):,} edges of ways without a highway tag are not roads and were "
            "left out"), stacklevel=3)
    return G


def _graph_from_file(p: Path) -> nx.MultiDiGraph:
    G = _read_graph_file(p)
    return _keep_highways(G, p) if G.number_of_edges() else G


def _read_graph_file(p: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    suffix = v.suffix_of(p)
    try:
        if suffix == ".graphml":
            return _check_graphml(ox.load_graphml(p), p)
        return graph_from_osm_file(p)[0]
    except GeoplanInputError:
        raise
    except Exception as exc:  # parse errors from sax/bz2/osmnx all mean "unreadable"
        msg = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        if "no data" in msg.lower() or "empty" in msg.lower() or "no nodes" in msg.lower():
            raise GeoplanInputError("the road network has no edges (no highway ways found)",
                                    path=p, hint="check that the extract contains roads") from None
        raise GeoplanInputError(f"cannot read the road network ({type(exc).__name__}: {msg})",
                                path=p, hint="check the file is complete OSM XML / PBF / "
                                "GraphML (re-download or re-export it)") from None


def _check_graphml(G: nx.MultiDiGraph, p: Path) -> nx.MultiDiGraph:
    """A GraphML road network needs node ``x``/``y`` (degrees or metres, with the graph's
    ``crs``) and edge ``length`` in metres: osmnx writes them; other tools may not."""
    for what, items, keys in (("node", G.nodes(data=True), ("x", "y")),
                              ("edge", G.edges(data=True), ("length",))):
        for item in items:
            data = item[-1]
            missing = [k for k in keys if k not in data]
            if missing:
                ident = item[0] if what == "node" else f"{item[0]} -> {item[1]}"
                raise GeoplanInputError(
                    f"{what} {ident} has no attribute '{missing[0]}'", path=p, field=missing[0],
                    hint="export the network with osmnx (ox.save_graphml), which writes node "
                         "x/y and edge length in metres, or give the OSM file instead")
    merged = sum(1 for *_, d in G.edges(data=True)
                 if any(isinstance(d.get(t), list) for t in ("highway", "maxspeed")))
    if merged:
        warnings.warn(GeoplanWarning(
            f"{p}: {merged:,} edges merge OSM ways of different highway/maxspeed values "
            "(osmnx's default simplification); a speed rule sees their mix, not each way's "
            "own -> give the .osm/.osm.pbf file (geoplan keeps those ways apart), or build "
            "the graph with ox.simplify_graph(G, edge_attrs_differ=['highway', 'maxspeed', "
            "'oneway', 'bridge', 'tunnel'])"), stacklevel=5)
    return G


def _graph_online(place: str | None, bbox: tuple[float, float, float, float] | None
                  ) -> nx.MultiDiGraph:
    import osmnx as ox

    what = place if place is not None else f"bbox {bbox}"
    try:
        if bbox is not None:
            return ox.graph_from_bbox(bbox, network_type="all", simplify=True, retain_all=True)
        return ox.graph_from_place(place, network_type="all", simplify=True, retain_all=True)
    except Exception as exc:  # requests/osmnx errors: offline, unknown place, no data
        raise GeoplanInputError(
            f"could not download the road network for {what!r} ({type(exc).__name__}: "
            f"{str(exc)[:200]})", field="network",
            hint="geoplan needs internet access to fetch OpenStreetMap by name; offline, give "
                 "a .osm/.osm.pbf/.graphml file instead") from None


def read_network(
    source: PathLike | None = None,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    to_crs: Any = None,
    area: StudyArea | None = None,
) -> nx.MultiDiGraph:
    """Read a road network into an osmnx graph projected to the study area's CRS.

    Parameters
    ----------
    source
        A file — OSM XML (``.osm``, ``.osm.bz2``), OSM PBF (``.osm.pbf``; highway ways are
        extracted with pyosmium) or GraphML — or, when online, a place name for
        :func:`osmnx.graph_from_place` (e.g. ``"Porto Alegre, Brazil"``).
    bbox
        Instead of ``source``: (west, south, east, north) in degrees to download.
    to_crs
        Projected CRS; default ``area.crs``, else osmnx's UTM choice.
    area
        Study area; the network must reach it.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph (all highway ways, one-way streets as single directed edges), with
        node ``x``/``y`` in metres and edge ``length`` in metres.

    Raises
    ------
    GeoplanInputError
        Missing/unknown/unreadable file, a download that fails (e.g. offline), a network
        with no edges, or one that does not reach the study area.
    """
    import osmnx as ox

    label: str
    if bbox is not None:
        graph, label = _graph_online(None, bbox), f"bbox {bbox}"
    elif source is None:
        raise GeoplanInputError("no road network given", field="network",
                                hint="give a .osm/.osm.pbf/.graphml file or a place name")
    else:
        text = str(source)
        looks_like_file = (isinstance(source, os.PathLike) or _PLACE_RE.search(text)
                           or text.lower().endswith(v.NETWORK_SUFFIXES) or Path(text).exists())
        if looks_like_file:
            p = v.check_file(text)
            if v.suffix_of(p) not in v.NETWORK_SUFFIXES:
                raise v.unknown_format(p, "a road network", v.NETWORK_SUFFIXES)
            graph, label = _graph_from_file(p), str(p)
        else:
            graph, label = _graph_online(text, None), text
    if graph.number_of_edges() == 0:
        raise GeoplanInputError("the road network has no edges", path=label,
                                hint="check that the file/place contains roads")
    target = to_crs if to_crs is not None else (area.crs if area is not None else None)
    graph = ox.project_graph(graph, to_crs=target)
    graph.graph["source"] = label
    if area is not None and area.outline is not None:
        xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)])
        inside = shapely.contains_xy(area.outline, xy[:, 0], xy[:, 1])
        if not inside.any():
            raise GeoplanInputError(
                "the road network does not reach the study area (no node inside it)",
                path=label, hint="use roads of this region (check the file and the CRS)")
        hull = shapely.convex_hull(shapely.multipoints(xy[inside]))
        share = hull.intersection(area.outline).area / max(area.outline.area, 1.0)
        if share < 0.5:
            warnings.warn(f"{label}: the road network spans only {share:.0%} of the study "
                          "area; residents elsewhere will be unreachable", GeoplanWarning,
                          stacklevel=2)
    return graph


def guess_layer_kind(path: PathLike, encoding: str | None = None) -> str:
    """Guess what a file holds: ``network``, ``population``, ``boundaries``, ``facilities``.

    Used by ``geoplan inspect``. Rasters are population; OSM/GraphML files are networks;
    tables and GIS layers are population when they have a population column, boundaries
    when they hold polygons, facilities when they have a type column, else candidates.

    Parameters
    ----------
    path
        The file (must exist).
    encoding
        Text encoding for tables.

    Returns
    -------
    str
        One of ``network``, ``population``, ``boundaries``, ``facilities``, ``candidates``.

    Raises
    ------
    GeoplanInputError
        Missing/empty file or unknown format.
    """
    p = v.check_file(path)
    suffix = v.suffix_of(p)
    if suffix in v.NETWORK_SUFFIXES:
        return "network"
    if suffix in v.RASTER_SUFFIXES:
        return "population"
    if suffix in v.TABLE_SUFFIXES:
        columns = v.read_text_table(p, encoding).columns
        geoms: set[str] = set()
    elif suffix in v.VECTOR_SUFFIXES:
        gdf = _read_vector(p, None)
        columns, geoms = gdf.columns, set(gdf.geom_type.unique())
    else:
        raise v.unknown_format(p, "inspection", v.TABLE_SUFFIXES | v.VECTOR_SUFFIXES
                               | v.RASTER_SUFFIXES | set(v.NETWORK_SUFFIXES))
    frame = pd.DataFrame(columns=list(columns))
    if v.find_column(frame, None, SYNONYMS["population"]) is not None:
        return "population"
    if geoms and geoms <= {"Polygon", "MultiPolygon"}:
        return "boundaries"
    if v.find_column(frame, None, SYNONYMS["type"]) is not None:
        return "facilities"
    return "candidates"

"""An offline basemap drawn from the region's own road network and place names.

Why: planning offices often have no internet, and a map with its tiles missing is plain
grey: at street zoom nothing tells the reader where a gap or a new site is. The road
network is on disk anyway (it computed every travel time), so geoplan draws it as a
light basemap: roads by class (major roads wider and darker), the names of the towns
and, from zoom 13, of the villages (OSM ``place=*`` nodes kept by
:func:`geoplan.inputs.osm.places_of`). A map shows it when chosen (``basemap="roads"``)
and, on a tiled basemap, switches to it by itself when the tiles cannot be loaded,
saying so on the page.

Size: one merged, simplified (3 m) multi-line per road class, coordinates at 1e-5 degrees
(~1 m): the demo county's 22,000 road edges weigh ~0.3 MB of GeoJSON.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import GeoplanInputError

__all__ = ["MAJOR_PLACES", "ROAD_CLASSES", "ROAD_STYLE", "encode_places", "encode_roads",
           "road_lines"]

#: Places labelled at every zoom; the others (villages, hamlets) from zoom 13.
MAJOR_PLACES = ("city", "town", "suburb")

#: Road classes drawn, bottom to top (links are drawn with their road), and the rank each
#: OSM ``highway`` value is drawn as. Anything else (paths, footways, service roads,
#: construction) is left out of the basemap: it is not what orients a reader.
ROAD_CLASSES: dict[str, str] = {
    "track": "minor", "unclassified": "minor", "residential": "minor",
    "living_street": "minor", "road": "minor",
    "tertiary": "tertiary", "tertiary_link": "tertiary",
    "secondary": "secondary", "secondary_link": "secondary",
    "primary": "primary", "primary_link": "primary",
    "trunk": "trunk", "trunk_link": "trunk",
    "motorway": "motorway", "motorway_link": "motorway",
}

#: Leaflet path style per drawn class (light: the data layers stay in front).
ROAD_STYLE: dict[str, dict[str, Any]] = {
    "minor": {"color": "#c9c6bf", "weight": 0.8},
    "tertiary": {"color": "#b3aea4", "weight": 1.3},
    "secondary": {"color": "#a39d91", "weight": 1.8},
    "primary": {"color": "#c9a45c", "weight": 2.4},
    "trunk": {"color": "#d58a3b", "weight": 2.8},
    "motorway": {"color": "#c96f2d", "weight": 3.2},
}

_ORDER = list(ROAD_STYLE)


def _class_of(highway: Any) -> str | None:
    """The drawn class of an edge's ``highway`` tag (a list after merging: the highest)."""
    values = highway if isinstance(highway, list | tuple) else [highway]
    ranks = [_ORDER.index(ROAD_CLASSES[v]) for v in values if v in ROAD_CLASSES]
    return _ORDER[max(ranks)] if ranks else None


def road_lines(G: nx.MultiDiGraph, *, tolerance_m: float = 3.0) -> gpd.GeoDataFrame:
    """The road network as basemap lines: one merged multi-line per road class.

    Parameters
    ----------
    G
        A projected osmnx graph (:func:`geoplan.inputs.readers.read_network`).
    tolerance_m
        Simplification tolerance in metres (what no one sees at street zoom).

    Returns
    -------
    geopandas.GeoDataFrame
        ``road_class`` (keys of :data:`ROAD_STYLE`, bottom to top) and line geometry in
        WGS-84; each road drawn once whatever its directions.

    Raises
    ------
    GeoplanInputError
        A graph without CRS or without drivable, walkable or trackable roads to draw.
    """
    import osmnx as ox

    if G.graph.get("crs") is None:
        raise GeoplanInputError("the road network has no CRS", field="network",
                                hint="read it with geoplan.inputs.readers.read_network")
    edges = ox.graph_to_gdfs(G, nodes=False, fill_edge_geometry=True)
    u, v, _k = (edges.index.get_level_values(i).to_numpy() for i in range(3))
    once = ~pd.Series(list(zip(np.minimum(u, v), np.maximum(u, v), strict=True))).duplicated()
    edges = edges.loc[once.to_numpy()]
    cls = edges["highway"].map(_class_of) if "highway" in edges else pd.Series(dtype=object)
    keep = cls.notna().to_numpy()
    if not keep.any():
        raise GeoplanInputError("the road network has no roads to draw as a basemap",
                                field="network", hint="use basemap 'osm', 'gaode' or 'none'")
    geoms = edges.geometry.to_numpy()[keep]
    classes = cls.to_numpy()[keep]
    crs = edges.crs
    if crs is not None and crs.is_projected and tolerance_m > 0:
        geoms = shapely.simplify(geoms, tolerance_m)
    rows = []
    for name in _ORDER:
        part = geoms[classes == name]
        if len(part):
            rows.append((name, shapely.line_merge(shapely.multilinestrings(part))))
    frame = gpd.GeoDataFrame({"road_class": [r[0] for r in rows]},
                             geometry=[r[1] for r in rows], crs=crs)
    return frame.to_crs(4326)


def _lonlat(xy: np.ndarray, gcj02: bool) -> np.ndarray:
    if gcj02 and len(xy):
        from geoplan.inputs.chinacrs import wgs84_to_gcj02
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])
    return xy


def encode_roads(lines: gpd.GeoDataFrame, *, gcj02: bool = False) -> str:
    """The roads of :func:`road_lines` as the compact JSON the roads basemap draws.

    ``[[style, [line, ...]], ...]``, one entry per class (bottom to top); each line a
    flat list of integers in 1e-5 degrees (~1 m), the first pair absolute and the rest
    deltas from the previous point (GCJ-02 on a Gaode map, like every overlay).
    """
    import json

    out = []
    for name, geom in zip(lines["road_class"], lines.to_crs(4326).geometry, strict=True):
        parts = []
        for line in shapely.get_parts(geom):
            q = np.round(_lonlat(shapely.get_coordinates(line), gcj02) * 1e5).astype(np.int64)
            keep = np.r_[True, (np.diff(q, axis=0) != 0).any(axis=1)]
            q = q[keep]
            if len(q) < 2:
                continue
            d = np.vstack([q[:1], np.diff(q, axis=0)])
            parts.append(d.ravel().tolist())
        if parts:
            out.append([ROAD_STYLE[name], parts])
    return json.dumps(out, separators=(",", ":"))


def encode_places(places: gpd.GeoDataFrame | None, lang: str, *,
                  gcj02: bool = False) -> str:
    """Place labels for the roads basemap: ``[[name, lon, lat, minor], ...]``.

    Names in ``lang`` (``name_en`` on English maps where given), HTML-escaped; ``minor``
    is 1 for places not in :data:`MAJOR_PLACES` (labelled from zoom 13).
    """
    import json

    from geoplan.maps._html import esc

    if places is None or places.empty:
        return "[]"
    pts = places.to_crs(4326)
    xy = _lonlat(shapely.get_coordinates(pts.geometry.values), gcj02)
    names = pts["name"].astype(str).to_numpy()
    if lang == "en" and "name_en" in pts.columns:
        en = pts["name_en"].fillna("").astype(str).to_numpy()
        names = np.where(en != "", en, names)
    kind = pts["place"].astype(str).to_numpy() if "place" in pts.columns else \
        np.full(len(pts), "town")
    rows = [[esc(str(n)), round(float(x), 5), round(float(y), 5), int(k not in MAJOR_PLACES)]
            for n, (x, y), k in zip(names, xy, kind, strict=True)]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))

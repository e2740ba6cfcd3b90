"""The offline roads basemap: what it draws from the network, how it is encoded, and how a
tiled map falls back to it (the browser side: tests/maps/test_browser.py)."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import DEMO

from geoplan import GeoplanInputError, GeoplanWarning
from geoplan.inputs.chinacrs import wgs84_to_gcj02
from geoplan.inputs.osm import places_of
from geoplan.inputs.readers import read_network
from geoplan.maps import canvas as maps
from geoplan.maps.basemap import ROAD_STYLE, encode_places, encode_roads, road_lines


@pytest.fixture(scope="module")
def net():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoplanWarning)
        return read_network(DEMO / "roads.osm.bz2")


def _decode(encoded: str) -> dict[str, list[np.ndarray]]:
    """The page's decoder, in Python: cumulative sums of 1e-5 degree integers."""
    out = {}
    for style, lines in json.loads(encoded):
        name = next(k for k, v in ROAD_STYLE.items() if v == style)
        out[name] = [np.cumsum(np.array(f).reshape(-1, 2), axis=0) / 1e5 for f in lines]
    return out


def test_road_lines_draw_each_road_once_by_class(net):
    """Every drivable/walkable road class of the demo is drawn, each undirected road once
    (a two-way street is two graph edges), ~the network's length."""
    import osmnx as ox

    lines = road_lines(net, tolerance_m=0)
    assert lines["road_class"].tolist() == list(ROAD_STYLE)       # bottom to top
    assert lines.crs.to_epsg() == 4326
    edges = ox.graph_to_gdfs(net, nodes=False)
    u, v = (edges.index.get_level_values(i).to_numpy() for i in (0, 1))
    pairs = {(min(a, b), max(a, b)) for a, b in zip(u, v, strict=True)}
    once = edges.loc[~edges.index.droplevel(2).map(
        lambda uv: (min(uv), max(uv))).duplicated()]
    assert len(once) == len(pairs)
    km = lines.to_crs(edges.crs).length.sum() / 1000
    assert km == pytest.approx(once.length.sum() / 1000, rel=1e-6)
    motorway = lines.loc[lines["road_class"] == "motorway"].to_crs(edges.crs).length.sum()
    hw = once["highway"].astype(str)
    assert motorway == pytest.approx(once.loc[hw.str.startswith("motorway")].length.sum(),
                                     rel=1e-6)


def test_encoded_roads_decode_to_the_lines_within_a_metre(net):
    lines = road_lines(net)
    decoded = _decode(encode_roads(lines))
    for name, geom in zip(lines["road_class"], lines.geometry, strict=True):
        parts = [shapely.get_coordinates(p) for p in shapely.get_parts(geom)]
        got = np.vstack(decoded[name])
        want = np.vstack(parts)
        # repeated points after rounding are dropped; every drawn point is a true one
        assert len(got) <= len(want) and len(got) > 0.9 * len(want)
        d, _ = __import__("scipy.spatial", fromlist=["cKDTree"]).cKDTree(want).query(got)
        assert d.max() < 1e-5 * 0.71
    size = len(encode_roads(lines))
    assert size < 0.5 * len(lines.to_json())                # the point of encoding


def test_gaode_maps_shift_the_roads_and_places_like_every_overlay(net):
    lines = road_lines(net)
    plain, shifted = _decode(encode_roads(lines)), _decode(encode_roads(lines, gcj02=True))
    a, b = plain["primary"][0], shifted["primary"][0]
    lon, lat = wgs84_to_gcj02(a[:, 0], a[:, 1])
    assert np.abs(b - np.column_stack([lon, lat])).max() < 2e-5
    places = places_of(net)
    rows = json.loads(encode_places(places, "zh", gcj02=True))
    glon, glat = wgs84_to_gcj02(places.geometry.x.to_numpy(), places.geometry.y.to_numpy())
    assert [r[1] for r in rows] == pytest.approx(glon, abs=1e-5)
    assert [r[2] for r in rows] == pytest.approx(glat, abs=1e-5)


def test_places_are_named_in_the_map_language_and_minor_ones_marked(net):
    places = places_of(net)
    zh = json.loads(encode_places(places, "zh"))
    en = json.loads(encode_places(places, "en"))
    assert zh[0][0] == "青山市" and en[0][0] == "Qingshan"
    assert sum(r[3] for r in zh) == (places["place"] == "village").sum() == 150
    odd = places.head(1).assign(name="<b>&", name_en="")
    assert json.loads(encode_places(odd, "en"))[0][0] == "&lt;b&gt;&amp;"   # escaped
    assert encode_places(None, "zh") == "[]"


def test_a_map_carries_the_roads_and_falls_back_to_them(net):
    lines, places = road_lines(net), places_of(net)
    fac = gpd.GeoDataFrame(geometry=gpd.points_from_xy([114.3], [30.05]), crs=4326)
    for base in ("osm", "gaode"):
        page = maps.render_map(maps.new_map(fac.buffer(0.01), basemap=base, roads=lines,
                                            places=places, lang="zh"))
        assert json.dumps("路网底图（离线）") in page and "已改用本地路网底图" in page
        assert 't.on("tileerror"' in page and "geoplan_roads_" in page
    offline = maps.render_map(maps.new_map(fac.buffer(0.01), basemap="roads", roads=lines))
    assert 't.on("tileerror"' not in offline and "tile.openstreetmap.org" not in offline
    bare = maps.render_map(maps.new_map(fac.buffer(0.01), basemap="osm"))
    assert "no background shown" in bare                # tiles fail: blank, and it says so
    with pytest.raises(GeoplanInputError, match="roads basemap needs"):
        maps.new_map(fac.buffer(0.01), basemap="roads")
    with pytest.raises(GeoplanInputError, match="'roads'"):
        maps.new_map(fac.buffer(0.01), basemap="satellite")


def test_a_network_without_crs_or_drawable_roads_is_refused(net):
    import networkx as nx

    bare = nx.MultiDiGraph(net)
    bare.graph = {k: v for k, v in net.graph.items() if k != "crs"}
    with pytest.raises(GeoplanInputError, match="no CRS"):
        road_lines(bare)
    paths = nx.MultiDiGraph(net)
    for _, _, d in paths.edges(data=True):
        d["highway"] = "footway"
    with pytest.raises(GeoplanInputError, match="no roads to draw"):
        road_lines(paths)

"""Reading road networks: OSM XML, .osm.bz2, PBF, GraphML; online path mocked; bad input."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pytest
from osm_fixtures import grid_osm, write_osm
from shapely.geometry import Point, box

from geoplan import GeoplanInputError, StudyArea
from geoplan.inputs.readers import read_network


def _expected_length_m(n: int = 4, step: float = 0.001) -> float:
    """Directed street length of grid_osm from geodesic segment lengths (independent)."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    total = 0.0
    for r in range(n):
        for c in range(n - 1):
            lat = 30.05 + r * step
            seg = geod.inv(114.30 + c * step, lat, 114.30 + (c + 1) * step, lat)[2]
            total += seg * (1 if r == 0 else 2)  # first row is one-way
    for c in range(n):
        for r in range(n - 1):
            lon = 114.30 + c * step
            total += 2 * geod.inv(lon, 30.05 + r * step, lon, 30.05 + (r + 1) * step)[2]
    return total


def _check_grid(g: nx.MultiDiGraph) -> None:
    assert g.graph["crs"] is not None and ox.projection.is_projected(g.graph["crs"])
    # simplification removes the two degree-2 corners of the two-way top row only
    assert g.number_of_nodes() == 14
    total = sum(d["length"] for _, _, d in g.edges(data=True))
    assert total == pytest.approx(_expected_length_m(), rel=1e-3)
    oneway = [(u, v) for u, v, d in g.edges(data=True) if d["highway"] == "primary"]
    assert len(oneway) == 3
    assert all(not g.has_edge(v, u) for u, v in oneway)


def test_osm_xml(tmp_path):
    _check_grid(read_network(write_osm(tmp_path / "roads.osm")))


def test_osm_bz2(tmp_path):
    _check_grid(read_network(write_osm(tmp_path / "roads.osm.bz2")))


def test_osm_pbf(tmp_path):
    import osmium

    xml = write_osm(tmp_path / "roads.osm")
    pbf = tmp_path / "roads.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as w:
        for obj in osmium.FileProcessor(str(xml)):
            if obj.is_node():
                w.add_node(obj)
            elif obj.is_way():
                w.add_way(obj)
    _check_grid(read_network(pbf))


def test_graphml_round_trip(tmp_path):
    g = read_network(write_osm(tmp_path / "roads.osm"))
    ox.save_graphml(g, tmp_path / "roads.graphml")
    _check_grid(read_network(tmp_path / "roads.graphml"))


def test_projected_to_area_crs(tmp_path):
    area = StudyArea(crs=gpd.GeoSeries([Point(0, 0)], crs=32649).crs)
    g = read_network(write_osm(tmp_path / "roads.osm"), area=area)
    assert "32649" in str(g.graph["crs"])


def test_no_edges(tmp_path):
    p = tmp_path / "nodes_only.osm"
    p.write_text(grid_osm(with_ways=False), "utf-8")
    with pytest.raises(GeoplanInputError) as e:
        read_network(p)
    assert "nodes_only.osm" in str(e.value) and "no edges" in str(e.value)


def test_network_not_reaching_area(tmp_path):
    area = StudyArea(crs=gpd.GeoSeries([Point(0, 0)], crs=32650).crs,
                     outline=box(800_000, 3_000_000, 810_000, 3_010_000))
    with pytest.raises(GeoplanInputError) as e:
        read_network(write_osm(tmp_path / "roads.osm"), area=area)
    assert "roads.osm" in str(e.value) and "does not reach the study area" in str(e.value)


def test_corrupt_xml(tmp_path):
    p = tmp_path / "broken.osm"
    p.write_text(grid_osm()[:500], "utf-8")
    with pytest.raises(GeoplanInputError) as e:
        read_network(p)
    assert "broken.osm" in str(e.value)


def test_missing_and_unknown(tmp_path):
    with pytest.raises(GeoplanInputError, match="not found"):
        read_network(tmp_path / "missing.osm.pbf")
    (tmp_path / "roads.shp").write_bytes(b"x")
    with pytest.raises(GeoplanInputError, match="unknown format"):
        read_network(tmp_path / "roads.shp")


def test_place_name_uses_osmnx_online(monkeypatch, tmp_path):
    g0 = ox.graph_from_xml(write_osm(tmp_path / "roads.osm"), retain_all=True)
    calls = []

    def fake(query, **kwargs):
        calls.append((query, kwargs))
        return g0

    monkeypatch.setattr(ox, "graph_from_place", fake)
    g = read_network("Qingshan, Hubei, China")
    assert calls and calls[0][0] == "Qingshan, Hubei, China"
    assert calls[0][1]["retain_all"] is True
    _check_grid(g)


def test_place_name_offline_is_a_clear_error(monkeypatch):
    def offline(query, **kwargs):
        raise ConnectionError("Failed to establish a new connection: network is unreachable")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    with pytest.raises(GeoplanInputError) as e:
        read_network("Qingshan, Hubei, China")
    assert "Qingshan" in str(e.value) and ".osm" in str(e.value)


def test_bbox_uses_osmnx_online(monkeypatch, tmp_path):
    """The user's (west, south, east, north) reaches osmnx 2's ``graph_from_bbox`` as its
    documented ``(left, bottom, right, top)``, with every road kept."""
    g0 = ox.graph_from_xml(write_osm(tmp_path / "roads.osm"), retain_all=True)
    calls = []

    def fake(bbox, **kw):
        calls.append((tuple(bbox), kw))
        left, bottom, right, top = bbox
        assert left < right and bottom < top, "not (left, bottom, right, top)"
        return g0
    monkeypatch.setattr(ox, "graph_from_bbox", fake)
    _check_grid(read_network(bbox=(114.29, 30.04, 114.31, 30.06)))
    assert calls[0][0] == (114.29, 30.04, 114.31, 30.06)
    assert calls[0][1]["retain_all"] is True and calls[0][1]["network_type"] == "all"


def test_ways_without_a_highway_tag_are_not_roads(tmp_path):
    """An unfiltered extract: buildings and rivers are ways too. They are left out with a
    warning; a file of nothing but them is refused (as the PBF reader does)."""
    from osm_fixtures import grid_osm

    from geoplan import GeoplanWarning, read_network

    text = grid_osm(n=4)
    # the first column street becomes a building outline
    first_col = text.index('<way id="1004"')
    end = text.index("</way>", first_col)
    text = text[:first_col] + text[first_col:end].replace('k="highway" v="residential"',
                                                          'k="building" v="yes"') + text[end:]
    p = tmp_path / "mixed.osm"
    p.write_text(text, encoding="utf-8")
    with pytest.warns(GeoplanWarning, match="without a highway tag"):
        G = read_network(p)
    assert all(d.get("highway") for _, _, d in G.edges(data=True))

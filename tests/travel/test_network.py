"""Compiling osmnx-style graphs into CSR travel-time networks."""

from __future__ import annotations

import gc
import warnings
import weakref

import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from geoplan._errors import GeoplanInputError, GeoplanWarning
from geoplan.travel.network import (
    clear_network_cache,
    compile_network,
    compile_network_cached,
    connected_components,
    node_indices,
    report_fragments,
)
from geoplan.travel.profiles import get_profile

RES_DRIVE = 25.0 * 0.8 / 3.6  # m/s on a residential street, drive profile with congestion
WALK = 5.0 / 3.6


def graph(nodes, crs="EPSG:32650"):
    """Return an osmnx-like MultiDiGraph with nodes {id: (x, y)} and no edges."""
    G = nx.MultiDiGraph(crs=crs)
    for node, (x, y) in nodes.items():
        G.add_node(node, x=float(x), y=float(y))
    return G


def road(G, u, v, length=None, highway="residential", oneway=False, **attrs):
    """Add a street like osmnx does: one edge if one-way, else one per direction."""
    if length is None:
        length = float(np.hypot(G.nodes[u]["x"] - G.nodes[v]["x"],
                                G.nodes[u]["y"] - G.nodes[v]["y"]))
    G.add_edge(u, v, length=length, highway=highway, oneway=oneway, reversed=False, **attrs)
    if not oneway:
        G.add_edge(v, u, length=length, highway=highway, oneway=False, reversed=True, **attrs)


def line_graph():
    """10 -- 20 -> 30 (20->30 one-way), 100 m apart."""
    G = graph({10: (0, 0), 20: (100, 0), 30: (200, 0)})
    road(G, 10, 20)
    road(G, 20, 30, oneway=True)
    return G


def t(net, a, b):
    """Shortest time between two OSM ids on the compiled network (csgraph)."""
    i, j = node_indices(net, [a, b])
    return dijkstra(net.forward, indices=i)[j]


def test_drive_respects_one_way_walk_ignores_it():
    G = line_graph()
    drive = compile_network(G, "drive", warn=False)
    walk = compile_network(G, "walk", warn=False)
    assert t(drive, 20, 30) == pytest.approx(100 / RES_DRIVE)
    assert np.isinf(t(drive, 30, 20))
    assert t(walk, 20, 30) == pytest.approx(100 / WALK)
    assert t(walk, 30, 20) == pytest.approx(100 / WALK)
    assert drive.n_edges == 3 and walk.n_edges == 4


def test_backward_is_transpose_and_explicit_zero_edges_survive():
    G = graph({1: (0, 0), 2: (0, 0), 3: (50, 0)})
    road(G, 1, 2, length=0.0)
    road(G, 2, 3)
    net = compile_network(G, "drive", warn=False)
    assert (net.forward != net.backward.T).nnz == 0
    assert net.n_edges == 4                                 # zero-length edges are kept
    assert t(net, 1, 3) == pytest.approx(50 / RES_DRIVE)
    assert t(net, 1, 2) == 0.0


def test_parallel_edges_keep_fastest():
    G = graph({1: (0, 0), 2: (100, 0)})
    G.add_edge(1, 2, length=100.0, highway="residential", oneway=True)
    G.add_edge(1, 2, length=100.0, highway="primary", oneway=True)
    G.add_edge(1, 2, length=120.0, highway="primary", oneway=True)
    net = compile_network(G, "drive", warn=False)
    assert net.n_edges == 1
    assert t(net, 1, 2) == pytest.approx(100 / (50 * 0.7 / 3.6))
    assert net.n_segments == 3                              # three physical roads to snap to


def test_unusable_edges_and_nodes_dropped():
    G = graph({1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0)})
    road(G, 1, 2)
    road(G, 2, 3, highway="footway")
    road(G, 3, 4, highway="motorway")
    G.add_edge(4, 4, length=10.0, highway="residential", oneway=True)   # self-loop
    drive = compile_network(G, "drive", warn=False)
    walk = compile_network(G, "walk", warn=False)
    assert sorted(drive.osmids.tolist()) == [1, 2, 3, 4]
    assert np.isinf(t(drive, 1, 3))
    assert sorted(walk.osmids.tolist()) == [1, 2, 3]        # 4 only on the motorway
    assert t(walk, 1, 3) == pytest.approx(200 / WALK)
    with pytest.raises(GeoplanInputError, match="not in the compiled walk network"):
        node_indices(walk, [4])


def test_maxspeed_and_lists_in_edges():
    G = graph({1: (0, 0), 2: (1000, 0)})
    G.add_edge(1, 2, length=1000.0, highway=["primary", "secondary"], maxspeed=["60", "40"],
               oneway=True)
    net = compile_network(G, get_profile("drive", {"use_congestion": False}), warn=False)
    # maxspeed mean 50 * 0.85 = 42.5, capped at slowest class 40 * 1.2 = 48 -> 42.5
    assert t(net, 1, 2) == pytest.approx(1000 / (42.5 / 3.6))


def test_urban_area_limits_congestion():
    G = graph({1: (0, 0), 2: (1000, 0), 3: (2000, 0)})
    road(G, 1, 2, highway="primary")
    road(G, 2, 3, highway="primary")
    city = shapely.box(-10, -10, 990, 10)                   # contains only 1-2's midpoint
    net = compile_network(G, "drive", urban_area=city, warn=False)
    assert t(net, 1, 2) == pytest.approx(1000 / (50 * 0.7 / 3.6))
    assert t(net, 2, 3) == pytest.approx(1000 / (50 / 3.6))


def test_segments_pair_two_way_roads():
    G = line_graph()
    drive = compile_network(G, "drive", warn=False)
    walk = compile_network(G, "walk", warn=False)
    for net, oneway_back in ((drive, np.inf), (walk, 100 / WALK)):
        assert net.n_segments == 2
        ends = {(net.osmids[u], net.osmids[v]): (f, b) for u, v, f, b in
                zip(net.seg_u, net.seg_v, net.seg_fwd_s, net.seg_bwd_s, strict=True)}
        two_way = ends.get((10, 20)) or ends[(20, 10)][::-1]
        assert two_way[0] == pytest.approx(two_way[1])
        fwd, back = ends[(20, 30)]
        assert back == pytest.approx(oneway_back)


def test_segment_geometry_is_oriented_u_to_v():
    G = graph({1: (0, 0), 2: (100, 0)})
    bent = shapely.LineString([(100, 0), (50, 40), (0, 0)])  # stored the wrong way round
    G.add_edge(1, 2, length=128.0, highway="residential", oneway=True, geometry=bent)
    net = compile_network(G, "drive", warn=False)
    (geom,) = net.seg_geometry
    start = shapely.get_coordinates(geom)[0]
    assert tuple(start) == tuple(net.xy[net.seg_u[0]])
    assert shapely.get_coordinates(geom).shape[0] == 3       # the bend is kept


def test_no_snap_rules():
    G = graph({1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0)})
    road(G, 1, 2, bridge="yes")
    road(G, 2, 3, highway="motorway")
    road(G, 3, 4, bridge="no", tunnel=float("nan"))
    net = compile_network(G, "drive", warn=False)
    snappable = {(int(net.osmids[u]), int(net.osmids[v])): bool(s) for u, v, s in
                 zip(net.seg_u, net.seg_v, net.seg_snappable, strict=True)}
    norm = {tuple(sorted(k)): s for k, s in snappable.items()}
    assert norm == {(1, 2): False, (2, 3): False, (3, 4): True}


def test_strong_components_for_drive_weak_for_walk():
    # a two-way triangle, plus a one-way spur into a dead end
    G = graph({1: (0, 0), 2: (100, 0), 3: (50, 80), 4: (300, 0)})
    road(G, 1, 2)
    road(G, 2, 3)
    road(G, 3, 1)
    road(G, 2, 4, oneway=True)
    drive = compile_network(G, "drive", warn=False)
    labels, sizes = connected_components(drive)
    assert sizes.tolist() == [3, 1]
    assert labels[node_indices(drive, [4])[0]] == 1
    assert (labels[node_indices(drive, [1, 2, 3])] == 0).all()
    _, weak = connected_components(drive, strong=False)
    assert weak.tolist() == [4]
    walk = compile_network(G, "walk", warn=False)
    assert walk.component_sizes.tolist() == [4]


def test_fragments_reported_and_warned():
    G = graph({i: (100 * i, 0) for i in range(60)} | {100: (0, 5000), 101: (100, 5000)})
    for i in range(59):
        road(G, i, i + 1)
    road(G, 100, 101)
    with pytest.warns(GeoplanWarning, match="2 of 62 nodes lie in 1 small fragment"):
        net = compile_network(G, "drive")
    report = report_fragments(net, warn=False)
    assert report == {"components": 2, "main_nodes": 60, "fragments": 1, "fragment_nodes": 2,
                      "other_large_components": 0}
    assert net.fragment.sum() == 2 and net.seg_fragment.sum() == 1
    # a big enough second component is not a fragment
    assert report_fragments(net, fragment_nodes=2, fragment_share=0.0,
                            warn=False)["fragments"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_network(G, "drive", fragment_nodes=2, fragment_share=0.0)


def test_input_errors():
    G = line_graph()
    G.graph["crs"] = "EPSG:4326"
    with pytest.raises(GeoplanInputError, match="geographic CRS"):
        compile_network(G)
    G = line_graph()
    G.edges[10, 20, 0]["length"] = float("nan")
    with pytest.raises(GeoplanInputError, match="length") as err:
        compile_network(G)
    assert err.value.field == "length" and "10 -> 20" in str(err.value)
    G = line_graph()
    del G.nodes[30]["x"]
    with pytest.raises(GeoplanInputError, match="coordinates"):
        compile_network(G)
    with pytest.raises(GeoplanInputError, match="MultiDiGraph"):
        compile_network(nx.Graph())
    G = graph({1: (0, 0), 2: (10, 0)})
    road(G, 1, 2, highway="footway")
    with pytest.raises(GeoplanInputError, match="none of the graph"):
        compile_network(G, "drive")
    with pytest.raises(GeoplanInputError, match="unknown travel mode"):
        compile_network(G, "teleport")


@pytest.mark.filterwarnings("ignore::geoplan._errors.GeoplanWarning")
def test_cache_reuses_and_invalidates():
    G = line_graph()
    a = compile_network_cached(G, "drive")
    assert compile_network_cached(G, "drive") is a
    assert compile_network_cached(G, get_profile("drive")) is a
    w = compile_network_cached(G, "walk")
    assert w is not a and w.profile.name == "walk"
    changed = compile_network_cached(G, get_profile("drive", {"speeds_kmh": {"residential": 10}}))
    assert changed is not a
    road(G, 30, 10)                                          # new edges: new key
    b = compile_network_cached(G, "drive")
    assert b is not a and b.n_edges == a.n_edges + 2
    clear_network_cache(G)
    assert compile_network_cached(G, "drive") is not b
    assert "_geoplan_cache" not in G.graph


@pytest.mark.filterwarnings("ignore::geoplan._errors.GeoplanWarning")
def test_cache_does_not_keep_graph_alive():
    G = line_graph()
    compile_network_cached(G, "walk")
    ref = weakref.ref(G)
    del G
    gc.collect()
    assert ref() is None

"""Snapping and travel-time primitives, checked against independent networkx searches.

Two independent references are used:

* node-to-node: points placed exactly on nodes must get the plain networkx Dijkstra
  time on a DiGraph built straight from the MultiDiGraph (fastest parallel edge,
  weight = length / class speed written out here, not taken from geoplan);
* point-to-point: every snapped point is *spliced* into its road in a networkx graph
  (the road is cut at the snapped positions, access legs become edges, walking along
  the snapped road is a separate layer that can only be used at the start or the end of
  a trip), and networkx Dijkstra runs on that graph. This checks the virtual-source
  construction, the entry/exit offsets, same-road trips, directions, chunking and
  gathering of the fast engine.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoplan._errors import GeoplanInputError, GeoplanWarning
from geoplan.travel.network import compile_network, node_indices
from geoplan.travel.profiles import get_profile
from geoplan.travel.times import (
    ZERO_TIME_S,
    Snapped,
    nearest_facility_time,
    snap_points,
    travel_time_matrix,
)

# ------------------------------------------------------------------ graphs and profiles

HIGHWAYS = ["residential", "residential", "primary", "footway", "motorway", "service", "track"]
#: km/h per class, written out independently of profiles.toml (None = unusable)
SPEEDS = {
    "drive": {"residential": 25.0, "primary": 50.0, "footway": None, "motorway": 100.0,
              "service": 15.0, "track": 3.0},      # track slower than walking along it
    "walk": {"residential": 5.0, "primary": 5.0, "footway": 5.0, "motorway": None,
             "service": 5.0, "track": 5.0},
}
PROFILES = {
    "drive": get_profile("drive", {"use_congestion": False, "use_maxspeed": False,
                                   "speeds_kmh": {"track": 3.0}}),
    "walk": get_profile("walk"),
}
BIG = 1e12


def graph(nodes):
    G = nx.MultiDiGraph(crs="EPSG:32650")
    for node, (x, y) in nodes.items():
        G.add_node(node, x=float(x), y=float(y))
    return G


def road(G, u, v, length=None, highway="residential", oneway=False, **attrs):
    if length is None:
        length = math.dist((G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"]))
    G.add_edge(u, v, length=length, highway=highway, oneway=oneway, reversed=False, **attrs)
    if not oneway:
        G.add_edge(v, u, length=length, highway=highway, oneway=False, reversed=True, **attrs)


def base_digraph(G, mode):
    """Return a DiGraph of the mode's edge times (fastest parallel edge), built without geoplan."""
    D = nx.DiGraph()
    for u, v, d in G.edges(data=True):
        kmh = SPEEDS[mode][d["highway"]]
        if kmh is None or u == v:
            continue
        w = d["length"] / (kmh / 3.6)
        pairs = [(u, v)] if mode == "drive" else [(u, v), (v, u)]
        for a, b in pairs:
            if not D.has_edge(a, b) or D[a][b]["w"] > w:
                D.add_edge(a, b, w=w)
    return D


def spliced_reference(G, mode, net, orig: Snapped, dest: Snapped) -> np.ndarray:
    """Return orig x dest times by networkx Dijkstra with every point spliced into its road."""
    R = base_digraph(G, mode)
    on_seg = defaultdict(list)
    for kind, snap in (("o", orig), ("d", dest)):
        for i in np.flatnonzero(snap.reachable):
            on_seg[int(snap.segment[i])].append((float(snap.t[i]), kind, int(i)))
    for s, items in on_seg.items():
        splice(R, net, s, sorted(items), orig, dest)
    out = np.full((len(orig), len(dest)), np.inf)
    for i in np.flatnonzero(orig.reachable):
        dist = nx.single_source_dijkstra_path_length(R, ("o", int(i)), weight="w")
        for j in np.flatnonzero(dest.reachable):
            out[i, j] = dist.get(("d", int(j)), np.inf)
    return out


def splice(R, net, s, items, orig, dest):
    """Cut segment ``s`` at the points ``items`` = sorted [(t, "o"|"d", index)].

    Three chains run along the road: "drive" (allowed directions at the segment's own
    times; freely connected to both end nodes), "ow" (walking, entered only from origins,
    left to the end nodes or destinations) and "dw" (walking, entered only from the end
    nodes, left only to destinations). Walking along the road is thus possible at the
    start and at the end of a trip but never in the middle of one.
    """
    u, v = net.osmids[net.seg_u[s]], net.osmids[net.seg_v[s]]
    length, tf, tb = net.seg_length[s], net.seg_fwd_s[s], net.seg_bwd_s[s]
    w = orig.access_speed_kmh / 3.6
    ts = [0.0] + [it[0] for it in items] + [1.0]
    for layer in ("drive", "ow", "dw"):
        chain = [(layer, "u", s)] + [(layer, k, i) for _, k, i in items] + [(layer, "v", s)]
        for a, b, t0, t1 in zip(chain[:-1], chain[1:], ts[:-1], ts[1:], strict=True):
            forward = tf if layer == "drive" else length / w
            backward = tb if layer == "drive" else length / w
            if np.isfinite(forward):
                R.add_edge(a, b, w=(t1 - t0) * forward)
            if np.isfinite(backward):
                R.add_edge(b, a, w=(t1 - t0) * backward)
    for end, node in (("u", u), ("v", v)):
        R.add_edge(("drive", end, s), node, w=0.0)
        R.add_edge(node, ("drive", end, s), w=0.0)
        R.add_edge(("ow", end, s), node, w=0.0)          # origin walking layer: exits only
        R.add_edge(node, ("dw", end, s), w=0.0)          # destination walking: entries only
    for _, kind, i in items:
        if kind == "o":
            R.add_edge(("o", i), ("drive", "o", i), w=orig.access_s[i])
            R.add_edge(("o", i), ("ow", "o", i), w=orig.access_s[i])
        else:
            for layer in ("drive", "ow", "dw"):
                R.add_edge((layer, "d", i), ("d", i), w=dest.access_s[i])


def dense(M: object) -> np.ndarray:
    """Return a sparse result as a dense array with inf for missing pairs."""
    coo = M.tocoo()
    out = np.full(M.shape, np.inf)
    out[coo.row, coo.col] = coo.data
    return out


def assert_times_equal(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=1e-9, atol=1e-5)


# ------------------------------------------------------------------ hypothesis scenarios

coord = st.integers(0, 12).map(lambda k: 50.0 * k)


@st.composite
def scenarios(draw):
    n = draw(st.integers(2, 8))
    pos = draw(st.lists(st.tuples(coord, coord), min_size=n, max_size=n, unique=True))
    nodes = {100 + i: p for i, p in enumerate(pos)}
    ids = list(nodes)
    G = graph(nodes)
    first = True
    for _ in range(draw(st.integers(1, 12))):
        u, v = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        if u == v:
            continue
        hw = "residential" if first else draw(st.sampled_from(HIGHWAYS))
        stretch = draw(st.sampled_from([1.0, 1.0, 1.25, 2.0]))
        length = math.dist(nodes[u], nodes[v]) * stretch
        road(G, u, v, length=length, highway=hw, oneway=draw(st.booleans()))
        first = False
    if G.number_of_edges() == 0:
        road(G, ids[0], ids[1])
    point = st.one_of(st.sampled_from(pos),
                      st.tuples(st.floats(-150, 750), st.floats(-150, 750)))
    a = np.array(draw(st.lists(point, min_size=1, max_size=6)), float)
    b = np.array(draw(st.lists(point, min_size=1, max_size=6)), float)
    mode = draw(st.sampled_from(["drive", "walk"]))
    return G, mode, a, b


def compiled(G, mode, fragments=True, **overrides):
    prof = get_profile(PROFILES[mode], overrides) if overrides else PROFILES[mode]
    if fragments:
        return compile_network(G, prof, warn=False)
    return compile_network(G, prof, warn=False, fragment_nodes=0, fragment_share=0.0)


HYP = settings(max_examples=150, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@HYP
@given(scenarios(), st.sampled_from(["from_source", "to_source"]))
def test_matrix_equals_spliced_networkx(case, direction):
    G, mode, a, b = case
    net = compiled(G, mode)
    A = snap_points(net, a, max_snap_m=200, warn=False)
    B = snap_points(net, b, max_snap_m=200, warn=False)
    M = travel_time_matrix(net, A, B, BIG, direction=direction, chunk_size=2)
    want = (spliced_reference(G, mode, net, A, B) if direction == "from_source"
            else spliced_reference(G, mode, net, B, A).T)
    assert_times_equal(dense(M), np.maximum(want, ZERO_TIME_S))
    assert (M.data > 0).all()


@HYP
@given(scenarios(), st.sampled_from(["to_facility", "from_facility"]))
def test_nearest_equals_spliced_networkx_and_matrix(case, direction):
    G, mode, cells_xy, fac_xy = case
    net = compiled(G, mode)
    C = snap_points(net, cells_xy, max_snap_m=200, warn=False)
    F = snap_points(net, fac_xy, max_snap_m=200, warn=False)
    secs, idx = nearest_facility_time(net, C, F, direction=direction)
    ref = (spliced_reference(G, mode, net, C, F) if direction == "to_facility"
           else spliced_reference(G, mode, net, F, C).T)               # cells x facilities
    assert_times_equal(secs, ref.min(axis=1))
    found = idx >= 0
    np.testing.assert_array_equal(found, np.isfinite(secs))
    np.testing.assert_allclose(ref[np.flatnonzero(found), idx[found]], secs[found],
                               rtol=1e-9, atol=1e-6)
    # the same through the matrix: facilities as sources, min over each cell's column
    M = travel_time_matrix(net, F, C, BIG,
                           direction="to_source" if direction == "to_facility" else "from_source")
    col_min = np.where(M.getnnz(axis=0) > 0, dense(M).min(axis=0), np.inf)
    assert_times_equal(np.maximum(secs, ZERO_TIME_S), col_min)


@HYP
@given(scenarios())
def test_points_on_nodes_get_plain_networkx_times(case):
    G, mode, _, _ = case
    # no snapping exclusions, and walking along a road so slow it never helps
    # (and no fragment preference: a node must snap to its own roads)
    net = compiled(G, mode, fragments=False, no_snap_highways=[], no_snap_tags=[])
    ids = [i for i in G.nodes if i in set(net.osmids.tolist())]
    xy = np.array([(G.nodes[i]["x"], G.nodes[i]["y"]) for i in ids])
    # keep nodes that no other road passes over (they would snap to it)
    lines = net.seg_geometry
    idx = node_indices(net, ids)
    keep = []
    for k, i in enumerate(idx):
        other = (net.seg_u != i) & (net.seg_v != i)
        if not (shapely.distance(lines[other], shapely.Point(xy[k])) < 1e-6).any():
            keep.append(k)
    ids, xy = [ids[k] for k in keep], xy[keep]
    if not ids:
        return
    S = snap_points(net, xy, access_speed_kmh=1e-9, warn=False)
    assert (S.access_m == 0).all()
    # walking along a one-way road the wrong way stays possible, but takes > 1e9 s
    M = dense(travel_time_matrix(net, S, S, 1e9))
    D = base_digraph(G, mode)
    for r, u in enumerate(ids):
        dist = nx.single_source_dijkstra_path_length(D, u, weight="w")
        want = np.array([dist.get(v, np.inf) for v in ids])
        assert_times_equal(M[r], np.maximum(want, ZERO_TIME_S))


@HYP
@given(scenarios(), st.floats(0, 400), st.floats(0, 400))
def test_larger_cutoff_never_removes_pairs(case, c1, c2):
    G, mode, a, b = case
    lo, hi = sorted((c1, c2))
    net = compiled(G, mode)
    A = snap_points(net, a, warn=False)
    B = snap_points(net, b, warn=False)
    small = dense(travel_time_matrix(net, A, B, lo))
    large = dense(travel_time_matrix(net, A, B, hi))
    full = dense(travel_time_matrix(net, A, B, BIG))
    kept = np.isfinite(small)
    assert (np.isfinite(large) >= kept).all()
    np.testing.assert_array_equal(small[kept], large[kept])
    # (a stored ZERO_TIME_S is a true zero, within every cut-off)
    np.testing.assert_array_equal(np.isfinite(small), (full <= lo) | (full == ZERO_TIME_S))
    assert (full[np.isfinite(full)] > 0).all()


@HYP
@given(scenarios(), st.lists(st.tuples(st.floats(-150, 750), st.floats(-150, 750)),
                             min_size=1, max_size=4))
def test_more_facilities_never_increase_nearest_time(case, extra):
    G, mode, cells, fac = case
    net = compiled(G, mode)
    C = snap_points(net, cells, warn=False)
    F1 = snap_points(net, fac, warn=False)
    F2 = snap_points(net, np.vstack([fac, extra]), warn=False)
    t1, _ = nearest_facility_time(net, C, F1)
    t2, i2 = nearest_facility_time(net, C, F2)
    assert (t2 <= t1 + 1e-9).all()
    assert (t2 >= 0).all()
    tc, ic = nearest_facility_time(net, C, F2, cutoff_s=60.0)
    np.testing.assert_array_equal(tc, np.where(t2 <= 60.0, t2, np.inf))
    assert ((ic >= 0) == np.isfinite(tc)).all()


@HYP
@given(scenarios(), st.integers(1, 7))
def test_chunking_does_not_change_the_matrix(case, chunk):
    G, mode, a, b = case
    net = compiled(G, mode)
    A = snap_points(net, a, warn=False)
    B = snap_points(net, b, warn=False)
    M1 = travel_time_matrix(net, A, B, 300.0, chunk_size=chunk)
    M2 = travel_time_matrix(net, A, B, 300.0, chunk_size=1)
    M3 = travel_time_matrix(net, A, B, 300.0)
    for M in (M2, M3):
        assert (M1 != M).nnz == 0
        np.testing.assert_array_equal(M1.indptr, M.indptr)
        np.testing.assert_array_equal(M1.indices, M.indices)


@HYP
@given(scenarios())
def test_snapping_picks_the_nearest_allowed_road(case):
    G, mode, a, _ = case
    net = compile_network(G, mode, warn=False)     # default profile: no-snap rules active
    S = snap_points(net, a, max_snap_m=200, warn=False)
    pts = shapely.points(a)
    for i, p in enumerate(pts):
        d = shapely.distance(net.seg_geometry, p)
        main = np.where(net.seg_snappable & ~net.seg_fragment, d, np.inf)
        frag = np.where(net.seg_snappable & net.seg_fragment, d, np.inf)
        main_d = main.min() if main.min() <= 200 else np.inf
        frag_d = frag.min() if frag.min() <= 200 else np.inf
        if np.isfinite(main_d) and main_d <= frag_d + 250:
            assert not S.on_fragment[i]
            assert S.access_m[i] == pytest.approx(main_d, abs=1e-9)
        elif np.isfinite(frag_d):
            assert S.on_fragment[i]
            assert S.access_m[i] == pytest.approx(frag_d, abs=1e-9)
        else:
            assert not S.reachable[i] and S.segment[i] == -1
            continue
        s = S.segment[i]
        assert net.seg_snappable[s]
        assert S.access_s[i] == pytest.approx(S.access_m[i] / (5 / 3.6))
        snapped = shapely.line_interpolate_point(net.seg_geometry[s], S.t[i], normalized=True)
        assert shapely.distance(snapped, p) == pytest.approx(S.access_m[i], abs=1e-6)
        assert S.node[i] in (net.seg_u[s], net.seg_v[s])
        assert (S.entry_s[i] >= S.access_s[i] - 1e-12).all()
        assert (S.exit_s[i] >= S.access_s[i] - 1e-12).all()


# ------------------------------------------------------------------ hand-made cases


def one_way_street():
    """Return a one-way street 0 -> 1 (400 m) and a two-way detour 1 - 2 - 0 of 2 x 500 m."""
    G = graph({0: (0, 0), 1: (400, 0), 2: (200, 458.26)})
    road(G, 0, 1, highway="primary", oneway=True)
    road(G, 1, 2, length=500.0)
    road(G, 2, 0, length=500.0)
    return G


def test_direction_matters_on_one_way_streets():
    G = one_way_street()
    net = compiled(G, "drive")
    home, clinic = np.array([[0.0, 0.0]]), np.array([[400.0, 0.0]])
    there, _ = nearest_facility_time(net, home, clinic, direction="to_facility")
    back, _ = nearest_facility_time(net, home, clinic, direction="from_facility")
    assert there[0] == pytest.approx(400 / (50 / 3.6))
    assert back[0] == pytest.approx(1000 / (25 / 3.6))
    M_from = travel_time_matrix(net, clinic, home, 1e6)                    # clinic -> home
    M_to = travel_time_matrix(net, clinic, home, 1e6, direction="to_source")  # home -> clinic
    assert M_from[0, 0] == pytest.approx(back[0])
    assert M_to[0, 0] == pytest.approx(there[0])
    walk = compiled(G, "walk")
    w_there, _ = nearest_facility_time(net=walk, cell_xy=home, facility_xy=clinic)
    w_back, _ = nearest_facility_time(walk, home, clinic, direction="from_facility")
    assert w_there[0] == pytest.approx(w_back[0]) == pytest.approx(400 / (5 / 3.6))


def test_resident_beside_one_way_walks_to_the_corner():
    G = one_way_street()
    net = compiled(G, "drive")
    # 30 m from node 0 along the one-way street, 10 m off it; facility at node 2
    secs, _ = nearest_facility_time(net, [[30.0, 10.0]], [[200.0, 458.26]])
    walk_to_corner = (10 + 30) / (5 / 3.6)
    assert secs[0] == pytest.approx(walk_to_corner + 500 / (25 / 3.6))


def test_same_road_direct_trip_and_access_legs():
    G = graph({0: (0, 0), 1: (1000, 0)})
    road(G, 0, 1, highway="primary", oneway=True)
    net = compiled(G, "drive")
    a, b = [[200.0, 30.0]], [[700.0, -40.0]]
    M = travel_time_matrix(net, a, b, 1e6)
    assert M[0, 0] == pytest.approx((30 + 40) / (5 / 3.6) + 500 / (50 / 3.6))
    # against the one-way direction nothing drives: walk along the road
    M = travel_time_matrix(net, b, a, 1e6)
    assert M[0, 0] == pytest.approx((30 + 40 + 500) / (5 / 3.6))


def test_walking_along_a_slow_road_beats_driving_it():
    G = graph({0: (0, 0), 1: (1000, 0), 2: (1000, 200)})
    road(G, 0, 1, highway="track", oneway=True)                # driven at 3 km/h
    road(G, 1, 2)
    net = compiled(G, "drive")
    secs, _ = nearest_facility_time(net, [[900.0, 10.0]], [[1000.0, 200.0]])
    assert secs[0] == pytest.approx((10 + 100) / (5 / 3.6) + 200 / (25 / 3.6))
    secs, _ = nearest_facility_time(net, [[900.0, 10.0]], [[1000.0, 200.0]],
                                    direction="from_facility")
    assert secs[0] == pytest.approx(200 / (25 / 3.6) + (100 + 10) / (5 / 3.6))


def test_zero_time_pairs_survive_sparsity():
    G = graph({0: (0, 0), 1: (100, 0)})
    road(G, 0, 1)
    net = compiled(G, "walk")
    with pytest.warns(GeoplanWarning, match="1 of 3"):
        M = travel_time_matrix(net, [[0.0, 0.0]], [[0.0, 0.0], [100.0, 0.0], [5000.0, 0.0]],
                               600, max_snap_m=100)
    assert M.nnz == 2
    assert M[0, 0] == ZERO_TIME_S
    assert (M > 0).toarray().tolist() == [[True, True, False]]
    secs, idx = nearest_facility_time(net, [[0.0, 0.0]], [[0.0, 0.0]])
    assert secs[0] == 0.0 and idx[0] == 0


def test_a_zero_cutoff_keeps_the_pairs_zero_seconds_apart():
    """Found by hypothesis in CI: a target 2e-138 m from its source, cut-off 0 s. Times
    below ZERO_TIME_S are stored as ZERO_TIME_S, a true zero, so they are within every
    cut-off, 0 included - the same pair as with a large cut-off."""
    G = graph({0: (0, 0), 1: (100, 0)})
    road(G, 0, 1)
    net = compiled(G, "drive")
    src, tgt = [[0.0, 0.0]], [[0.0, 2.09793501e-138], [50.0, 0.0]]
    zero = dense(travel_time_matrix(net, src, tgt, 0.0))
    full = dense(travel_time_matrix(net, src, tgt, BIG))
    assert zero[0, 0] == full[0, 0] == ZERO_TIME_S
    assert np.isinf(zero[0, 1]) and np.isfinite(full[0, 1])


def test_unreachable_beyond_snap_distance():
    G = graph({0: (0, 0), 1: (100, 0)})
    road(G, 0, 1)
    net = compiled(G, "walk")
    far = [[50.0, 1500.0], [50.0, 300.0]]
    with pytest.warns(GeoplanWarning, match="1 of 2 point"):
        secs, idx = nearest_facility_time(net, far, [[0.0, 0.0]])
    assert np.isinf(secs[0]) and idx[0] == -1
    assert secs[1] == pytest.approx((300 + 50) / (5 / 3.6))
    with pytest.warns(GeoplanWarning, match="none could be snapped"):
        S = snap_points(net, [[1e6, 1e6]])
    assert not S.reachable[0] and np.isinf(S.entry_s).all()
    with pytest.warns(GeoplanWarning):
        M = travel_time_matrix(net, far, [[0.0, 0.0]], 1e6, max_snap_m=200)
    assert M.getnnz(axis=1).tolist() == [0, 0]
    with pytest.warns(GeoplanWarning):
        secs, idx = nearest_facility_time(net, [[0.0, 0.0]], far, max_snap_m=200)
    assert np.isinf(secs[0]) and idx[0] == -1


def test_main_network_preferred_over_nearby_fragments_only():
    nodes = {i: (100.0 * i, 0.0) for i in range(60)} | {100: (0.0, 20.0), 101: (100.0, 20.0),
                                                          200: (0.0, 700.0), 201: (100.0, 700.0)}
    G = graph(nodes)
    for i in range(59):
        road(G, i, i + 1)
    road(G, 100, 101)          # a compound road 20 m north of the main road
    road(G, 200, 201)          # a village 700 m north
    net = compile_network(G, "walk", warn=False)
    pts = [[50.0, 15.0], [50.0, 300.0], [50.0, 690.0]]
    S = snap_points(net, pts, max_snap_m=1000, warn=False)
    assert not S.on_fragment[0] and S.access_m[0] == pytest.approx(15.0)   # 5 m nearer: main
    assert not S.on_fragment[1] and S.access_m[1] == pytest.approx(300.0)  # 280 vs 300: main
    assert S.on_fragment[2] and S.access_m[2] == pytest.approx(10.0)       # 10 vs 690: village
    S = snap_points(net, pts, max_snap_m=1000, fragment_slack_m=0, warn=False)
    assert S.on_fragment.tolist() == [True, True, True]
    S = snap_points(net, pts, max_snap_m=1000, fragment_slack_m=np.inf, warn=False)
    assert S.on_fragment.tolist() == [False, False, False]
    with pytest.warns(GeoplanWarning, match="1 of 1 point.*fragment"):
        S = snap_points(net, [[50.0, 900.0]], max_snap_m=880.0)
    assert S.on_fragment[0] and S.access_m[0] == pytest.approx(200.0)


def test_input_errors():
    G = graph({0: (0, 0), 1: (100, 0)})
    road(G, 0, 1)
    net = compiled(G, "walk")
    with pytest.raises(GeoplanInputError, match="shape"):
        snap_points(net, [1.0, 2.0, 3.0])
    with pytest.raises(GeoplanInputError, match="missing or infinite") as err:
        nearest_facility_time(net, [[0.0, 0.0], [np.nan, 1.0]], [[0.0, 0.0]])
    assert err.value.field == "cell_xy" and err.value.row == "point 1"
    with pytest.raises(GeoplanInputError, match="direction"):
        nearest_facility_time(net, [[0.0, 0.0]], [[0.0, 0.0]], direction="to_source")
    with pytest.raises(GeoplanInputError, match="cutoff_s"):
        travel_time_matrix(net, [[0.0, 0.0]], [[0.0, 0.0]], -1)
    with pytest.raises(GeoplanInputError, match="cutoff_s"):
        travel_time_matrix(net, [[0.0, 0.0]], [[0.0, 0.0]], None)
    with pytest.raises(GeoplanInputError, match="chunk_size"):
        travel_time_matrix(net, [[0.0, 0.0]], [[0.0, 0.0]], 10, chunk_size=0)
    with pytest.raises(GeoplanInputError, match="max_snap_m"):
        snap_points(net, [[0.0, 0.0]], max_snap_m=0)
    other = compiled(G, "walk")
    S = snap_points(other, [[0.0, 0.0]])
    with pytest.raises(GeoplanInputError, match="different network"):
        travel_time_matrix(net, S, [[0.0, 0.0]], 10)


def test_empty_inputs():
    G = graph({0: (0, 0), 1: (100, 0)})
    road(G, 0, 1)
    net = compiled(G, "walk")
    empty = np.zeros((0, 2))
    secs, idx = nearest_facility_time(net, empty, [[0.0, 0.0]])
    assert secs.shape == idx.shape == (0,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        secs, idx = nearest_facility_time(net, [[0.0, 0.0]], empty)
        M = travel_time_matrix(net, empty, [[0.0, 0.0]], 10)
    assert np.isinf(secs[0]) and idx[0] == -1
    assert M.shape == (0, 1)

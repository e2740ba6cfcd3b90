"""Real OSM extracts: clipped at a boundary, and travel times per way segment.

The reference is independent of osmnx and of geoplan's graph building: the OSM file is
read node by node and way by way with pyosmium, every consecutive node pair of every
highway way is one directed segment (both directions unless one-way; ``oneway=-1``
reversed; roundabouts one-way), its length the great-circle distance and its time
``length / speed`` with the speed of that segment's own tags, and shortest paths run
over those raw segments with scipy's Dijkstra. geoplan's graph must give the same time
between every pair of its nodes, to 1e-6 s, for each mode. The per-tag speed rule itself
(``edge_speed_kmh``) is checked against hand-written tables in ``tests/travel``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import osmium
import pytest
import shapely
from conftest import osm_barred, shared_path
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from geoplan import GeoplanWarning
from geoplan.inputs.osm import SEGMENT_TAGS
from geoplan.inputs.readers import read_network
from geoplan.travel.network import compile_network, node_indices
from geoplan.travel.profiles import edge_speed_kmh, get_profile

R_EARTH = 6_371_009.0        # the mean radius osmnx's great-circle lengths use


def _haversine(lon1, lat1, lon2, lat2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * R_EARTH * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def _read_raw(path):
    """Nodes {id: (lon, lat)} and highway ways [(refs, tags)] straight from pyosmium."""
    nodes = {n.id: (n.location.lon, n.location.lat)
             for n in osmium.FileProcessor(str(path), osmium.osm.NODE)}
    ways = [([n.ref for n in w.nodes], {t.k: t.v for t in w.tags})
            for w in osmium.FileProcessor(str(path), osmium.osm.WAY) if "highway" in w.tags]
    return nodes, ways


def _reference(path, mode):
    """Raw-segment travel-time graph of ``path`` for ``mode``: CSR seconds, node ids."""
    prof = get_profile(mode)
    nodes, ways = _read_raw(path)
    ids = np.array(sorted(nodes), dtype=np.int64)
    pos = {int(i): k for k, i in enumerate(ids)}
    rows, cols, secs = [], [], []
    for refs, tags in ways:
        speed = edge_speed_kmh(prof, tags["highway"], tags.get("maxspeed"))
        if speed <= 0 or tags["highway"] in prof.excluded_highways or osm_barred(tags, mode):
            continue
        one = tags.get("oneway") in ("yes", "true", "1", "-1", "reverse") \
            or tags.get("junction") == "roundabout"
        if tags.get("oneway") in ("-1", "reverse"):
            refs = refs[::-1]
        both = not one or not prof.respect_oneway
        for a, b in zip(refs[:-1], refs[1:]):
            if a not in pos or b not in pos or a == b:
                continue           # a reference outside the extract: the road ends there
            (x1, y1), (x2, y2) = nodes[a], nodes[b]
            t = float(_haversine(x1, y1, x2, y2)) / (speed / 3.6)
            rows.append(pos[a]), cols.append(pos[b]), secs.append(t)
            if both:
                rows.append(pos[b]), cols.append(pos[a]), secs.append(t)
    n = ids.size
    # parallel segments keep the fastest (coo -> csr would add them)
    order = np.lexsort((secs, cols, rows))
    r, c, s = np.array(rows)[order], np.array(cols)[order], np.array(secs)[order]
    first = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])]
    # an explicit tiny epsilon keeps zero-length segments as edges in csgraph
    mat = sparse.csr_matrix((np.maximum(s[first], 1e-12), (r[first], c[first])), shape=(n, n))
    return mat, ids


def _clip(src, dst, polygon):
    """Cut ``src`` by ``polygon`` as extract tools do: nodes inside, every highway way
    with a node inside kept whole (so it refers to nodes the file no longer has)."""
    inside = {n.id for n in osmium.FileProcessor(str(src), osmium.osm.NODE)
              if polygon.contains(shapely.Point(n.location.lon, n.location.lat))}
    ways, missing, cut = [], 0, 0
    for w in osmium.FileProcessor(str(src), osmium.osm.WAY):
        refs = [n.ref for n in w.nodes]
        if "highway" in w.tags and any(r in inside for r in refs):
            out = sum(r not in inside for r in refs)
            missing += out
            cut += out > 0
            ways.append(osmium.osm.mutable.Way(id=w.id, nodes=refs,
                                               tags={t.k: t.v for t in w.tags}))
    with osmium.SimpleWriter(str(dst)) as wr:
        for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
            if n.id in inside:
                wr.add_node(n)
        for w in ways:
            wr.add_way(w)
    return missing, cut


@pytest.fixture(scope="module")
def clipped_poa(tmp_path_factory):
    src = shared_path("porto_alegre", "poa_osm.pbf")
    nodes = np.array([(n.location.lon, n.location.lat)
                      for n in osmium.FileProcessor(str(src), osmium.osm.NODE)])
    cx, cy = np.median(nodes, axis=0)
    # an irregular heptagon of about 1.6 km radius: a boundary cut, not a box
    ang = np.linspace(0, 2 * math.pi, 8)[:-1] + 0.3
    rad = 0.015 * np.array([1.0, 0.8, 1.1, 0.7, 0.95, 1.05, 0.85])
    poly = shapely.Polygon(np.column_stack([cx + rad * np.cos(ang) / math.cos(math.radians(cy)),
                                            cy + rad * np.sin(ang)]))
    dst = tmp_path_factory.mktemp("clip") / "poa_clipped.osm.pbf"
    missing, cut = _clip(src, dst, poly)
    return dst, missing, cut


def test_a_clipped_extract_is_what_osmnx_alone_refuses(clipped_poa):
    import osmnx as ox

    path, missing, cut = clipped_poa
    assert missing > 100 and cut > 50            # a real cut, like the 912 in 191
    xml = path.with_suffix(".osm")
    osmium_nodes, _ = _read_raw(path)
    with osmium.SimpleWriter(str(xml), overwrite=True) as wr:
        for o in osmium.FileProcessor(str(path)):
            wr.add_node(o) if o.is_node() else wr.add_way(o)
    with pytest.raises(ValueError, match="missing nodes"):
        ox.graph_from_xml(xml, simplify=True, retain_all=True)
    assert len(osmium_nodes) > 1000


def test_a_clipped_extract_reads_and_says_what_was_cut(clipped_poa):
    path, missing, cut = clipped_poa
    with pytest.warns(GeoplanWarning, match=rf"{missing:,} node references in {cut:,} "
                                            "highway ways lie outside the file"):
        G = read_network(path)
    assert G.number_of_edges() > 1000


@pytest.mark.parametrize("mode", ["walk", "ebike", "drive"])
def test_times_on_a_clipped_extract_equal_an_independent_dijkstra(clipped_poa, mode):
    path, _, _ = clipped_poa
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoplanWarning)
        G = read_network(path)
    net = compile_network(G, mode, warn=False)
    ref, ref_ids = _reference(path, mode)
    ours = np.asarray(net.osmids, np.int64)
    where = np.searchsorted(ref_ids, ours)
    assert (ref_ids[where] == ours).all()        # every graph node is an OSM node
    got = dijkstra(net.forward, indices=np.arange(ours.size))
    want = dijkstra(ref, indices=where)[:, where]
    assert np.isinf(got).sum() == np.isinf(want).sum()
    fin = np.isfinite(want)
    assert fin.sum() > 0.5 * want.size           # mostly one connected network
    assert np.abs(got[fin] - want[fin]).max() < 1e-6     # every node pair, to 1e-6 s


def _chain_osm(ways):
    """OSM XML of consecutive ways along a parallel of latitude, 100 m per node step."""
    lat, step = 30.0, 100 / (R_EARTH * math.pi / 180 * math.cos(math.radians(30.0)))
    n_nodes = 1 + sum(len(w[0]) for w in ways)
    nodes = [f'<node id="{i + 1}" version="1" lat="{lat}" lon="{114 + i * step:.9f}"/>'
             for i in range(n_nodes)]
    out, start = [], 1
    for k, (segs, tags) in enumerate(ways):
        refs = "".join(f'<nd ref="{start + i}"/>' for i in range(len(segs) + 1))
        tag = "".join(f'<tag k="{a}" v="{b}"/>' for a, b in tags.items())
        out.append(f'<way id="{100 + k}" version="1">{refs}{tag}</way>')
        start += len(segs)
    return ('<?xml version="1.0"?>\n<osm version="0.6">\n' + "\n".join(nodes + out)
            + "\n</osm>\n")


@pytest.mark.parametrize("ways", [
    # the 705 m service road tagged 30/20/5 km/h, cut into three ways
    [([1, 1], {"highway": "service", "maxspeed": "30"}),
     ([1, 1, 1], {"highway": "service", "maxspeed": "20"}),
     ([1, 1], {"highway": "service", "maxspeed": "5"})],
    # mixed classes: the fast piece keeps its speed, not the slowest class's
    [([1, 1, 1], {"highway": "primary"}), ([1, 1], {"highway": "residential"})],
    # a maxspeed on part of the road only
    [([1, 1], {"highway": "secondary", "maxspeed": "60"}), ([1, 1, 1], {"highway": "secondary"})],
])
def test_drive_time_is_the_sum_of_its_segments(tmp_path, ways):
    p = tmp_path / "chain.osm"
    p.write_text(_chain_osm(ways), "utf-8")
    G = read_network(p)
    prof = get_profile("drive")
    net = compile_network(G, prof, warn=False)
    n_last = 1 + sum(len(w[0]) for w in ways)
    i, j = node_indices(net, [1, n_last])
    got = dijkstra(net.forward, indices=i)[j]
    want = 0.0
    for segs, tags in ways:
        length = len(segs) * 100.0
        want += length / (edge_speed_kmh(prof, tags["highway"], tags.get("maxspeed")) / 3.6)
    assert got == pytest.approx(want, rel=1e-4)
    # no merged edge spans two values of a tag a profile reads
    for _, _, d in G.edges(data=True):
        for tag in SEGMENT_TAGS:
            assert not isinstance(d.get(tag), list), (tag, d.get(tag))


def test_the_tags_profiles_read_are_kept_apart_when_merging():
    # a shipped profile reading another edge tag would again see merged values
    for mode in ("walk", "ebike", "drive"):
        prof = get_profile(mode)
        assert set(prof.no_snap_tags) <= set(SEGMENT_TAGS)
        assert set(prof.access_tags) <= set(SEGMENT_TAGS)
    assert {"highway", "maxspeed"} <= set(SEGMENT_TAGS)


def test_a_graphml_of_merged_ways_is_named_in_a_warning(tmp_path):
    import osmnx as ox

    p = tmp_path / "chain.osm"
    p.write_text(_chain_osm([([1, 1], {"highway": "service", "maxspeed": "30"}),
                             ([1, 1], {"highway": "service", "maxspeed": "5"})]), "utf-8")
    G = ox.graph_from_xml(p, simplify=True, retain_all=True)     # osmnx's default merge
    ox.save_graphml(G, tmp_path / "roads.graphml")
    with pytest.warns(GeoplanWarning, match=r"2 edges merge OSM ways of different "
                                            r"highway/maxspeed.*give the \.osm"):
        read_network(tmp_path / "roads.graphml")
    kept = read_network(p)                                      # geoplan's own read
    ox.save_graphml(kept, tmp_path / "kept.graphml")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoplanWarning)
        read_network(tmp_path / "kept.graphml")


@pytest.mark.parametrize(("tags", "walk", "ebike", "drive"), [
    ({"access": "private"}, False, False, False),
    ({"access": "no", "foot": "yes"}, True, False, False),
    ({"motor_vehicle": "no"}, True, True, False),
    ({"access": "destination"}, True, True, True),
    ({"vehicle": "no", "motorcar": "yes"}, True, False, True),
    ({"bicycle": "use_sidepath"}, True, False, True),
    ({"foot": "no;private"}, False, True, True),
    ({}, True, True, True),
])
def test_access_tags_decide_per_mode(tmp_path, tags, walk, ebike, drive):
    p = tmp_path / "chain.osm"
    p.write_text(_chain_osm([([1], {"highway": "residential"}),
                             ([1], {"highway": "residential", **tags}),
                             ([1], {"highway": "residential"})]), "utf-8")
    G = read_network(p)
    for mode, usable in (("walk", walk), ("ebike", ebike), ("drive", drive)):
        assert osm_barred(tags, mode) is not usable          # the test's own table agrees
        net = compile_network(G, mode, warn=False)
        i, j = node_indices(net, [1, 4])
        assert bool(np.isfinite(dijkstra(net.forward, indices=i)[j])) is usable, mode


def test_named_places_are_kept_beside_the_graph_not_in_it(tmp_path):
    """place=* nodes with a name come back from places_of (name:zh first, name:en kept);
    unnamed ones and non-settlements (locality) are left out; none becomes a graph node
    (a place node snapped to would be a road to nowhere)."""
    from osm_fixtures import grid_osm

    from geoplan.inputs.osm import places_of
    from geoplan.inputs.readers import read_network

    extra = (
        '  <node id="901" version="1" lat="30.0505" lon="114.3005"><tag k="place" v="village"/>'
        '<tag k="name" v="Lijialing"/><tag k="name:zh" v="李家岭村"/>'
        '<tag k="name:en" v="Lijialing"/></node>\n'
        '  <node id="902" version="1" lat="30.0515" lon="114.3015"><tag k="place" v="town"/>'
        '<tag k="name" v="柳林镇"/></node>\n'
        '  <node id="903" version="1" lat="30.0510" lon="114.3010"><tag k="place" v="hamlet"/>'
        '</node>\n'
        '  <node id="904" version="1" lat="30.0520" lon="114.3020"><tag k="place" v="locality"/>'
        '<tag k="name" v="老鹰岩"/></node>\n')
    text = grid_osm().replace("</osm>", extra + "</osm>")
    (tmp_path / "r.osm").write_text(text, "utf-8")
    plain = tmp_path / "plain.osm"
    plain.write_text(grid_osm(), "utf-8")
    G = read_network(tmp_path / "r.osm")
    assert G.number_of_nodes() == read_network(plain).number_of_nodes()
    places = places_of(G)
    assert places["name"].tolist() == ["李家岭村", "柳林镇"]
    assert places["name_en"].tolist() == ["Lijialing", ""]
    assert places["place"].tolist() == ["village", "town"]
    assert places.crs.to_epsg() == 4326
    assert places.geometry.x.tolist() == pytest.approx([114.3005, 114.3015])
    assert places_of(read_network(plain)).empty

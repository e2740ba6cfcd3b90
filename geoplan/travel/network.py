"""Compile an osmnx street graph into a sparse travel-time network for one travel mode.

Shortest-path searches over a ``networkx`` graph run in pure Python, one dictionary
lookup per edge; planning a county needs millions of them. :func:`compile_network`
turns the graph, once per travel profile, into a :class:`CompiledNetwork`: a
``scipy.sparse`` CSR matrix of edge travel times in **seconds** (rows = from, columns
= to) plus its transpose, the node coordinates, the mapping between matrix indices and
OSM node ids, connected components, and the road *segments* points are snapped to
(:func:`geoplan.travel.times.snap_points`). Searches then run in compiled code
(``scipy.sparse.csgraph``).

Input: an osmnx-style :class:`networkx.MultiDiGraph` projected to a metric CRS (node
attributes ``x``, ``y`` in metres; edge attributes ``length`` in metres, ``highway``,
optional ``maxspeed``, ``bridge``, ``tunnel``, ``geometry``; ``oneway`` and ``reversed``
are not needed because the edge directions already say it) loaded with
``bidirectional=False``, so a one-way street has one directed edge and a two-way street
one edge per direction. (A graph loaded with ``bidirectional=True``, as osmnx does for
walking networks, has lost its one-way information; drive times on it ignore one-way.)

Compilation rules:

* edges the profile may not use (class speed 0 or excluded, or barred by an access tag:
  :meth:`geoplan.travel.profiles.Profile.barred`) and self-loops are dropped,
  and so are nodes left without usable edges; the remaining nodes are numbered along a
  Z-order (Morton) curve, which keeps map neighbours close in memory and makes searches
  faster than in OSM id order;
* profiles with ``respect_oneway = false`` get the reverse of every edge;
* parallel edges (same from and to node) keep the fastest;
* the travel time of an edge is ``length / speed`` with the speed of
  :func:`geoplan.travel.profiles.edge_speed_kmh`;
* connected components are *strong* for profiles that respect one-way (a car must be
  able to get back) and weak otherwise; component 0 is the largest. Components that are
  not the largest and smaller than ``max(fragment_nodes, fragment_share * n_nodes)`` are
  *fragments* (bits of the network cut off by the data extract, private compounds);
  points are snapped to them only when no main-network road is within reach.

Compiling takes about a second per 100,000 edges. :func:`compile_network_cached` keeps
the result for repeated calls with the same graph object and profile.
"""

from __future__ import annotations

import math
import secrets
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError
from scipy import sparse
from scipy.sparse import csgraph

from geoplan._errors import GeoplanInputError, GeoplanWarning
from geoplan.travel.profiles import Profile, edge_speed_kmh, get_profile

__all__ = [
    "CompiledNetwork",
    "clear_network_cache",
    "compile_network",
    "compile_network_cached",
    "connected_components",
    "node_indices",
    "report_fragments",
]

#: Two opposite directed edges between the same nodes whose lengths differ by at most
#: max(this, 1 %) are taken to be one physical two-way road (one snapping segment).
_PAIR_TOLERANCE_M = 1.0
_CACHE_PER_GRAPH = 8


@dataclass(frozen=True, eq=False)
class CompiledNetwork:
    """A street network compiled for one travel profile.

    Node arrays are indexed by matrix index ``0 .. n_nodes-1``; segment arrays by segment
    index. A *segment* is one physical road between two nodes: a two-way street's two
    directed edges form one segment, a one-way street is a segment usable forward only.

    Attributes
    ----------
    profile
        The travel profile the network was compiled for.
    forward
        ``(n, n)`` CSR matrix; ``forward[i, j]`` is the travel time in seconds of the
        fastest edge from node i to node j. Explicit zeros are zero-time edges.
    backward
        The transpose of ``forward`` (row = to node), for searches towards a destination.
    osmids
        OSM node id of every matrix index.
    xy
        ``(n, 2)`` node coordinates in the graph's CRS (metres).
    component
        Component label of every node (0 = largest; strong if the profile respects
        one-way, else weak).
    component_sizes
        Number of nodes of each component label.
    fragment
        Whether each node lies in a fragment (small component other than the largest).
    seg_u, seg_v
        End nodes (matrix indices) of each segment; its geometry runs from u to v.
    seg_length
        Segment length in metres (the edge ``length`` attribute).
    seg_fwd_s, seg_bwd_s
        Travel time in seconds along the whole segment from u to v and from v to u;
        ``inf`` where that direction is not allowed.
    seg_geometry
        Segment line geometries (shapely LineString), oriented from u to v.
    seg_snappable
        Whether points may be snapped to the segment (not an expressway, bridge, ...).
    seg_fragment
        Whether both ends of the segment lie in fragments.
    crs
        The graph's CRS (``G.graph["crs"]``), or None.
    snap_tree_main, snap_ids_main, snap_tree_fragment, snap_ids_fragment
        Spatial indexes of the snappable main-network and fragment segments, and the
        segment index of each indexed geometry.
    token
        Random identity, so that snapped points can be checked against their network.
    """

    profile: Profile
    forward: sparse.csr_matrix
    backward: sparse.csr_matrix
    osmids: NDArray[Any]
    xy: NDArray[np.float64]
    component: NDArray[np.int64]
    component_sizes: NDArray[np.int64]
    fragment: NDArray[np.bool_]
    seg_u: NDArray[np.intp]
    seg_v: NDArray[np.intp]
    seg_length: NDArray[np.float64]
    seg_fwd_s: NDArray[np.float64]
    seg_bwd_s: NDArray[np.float64]
    seg_geometry: NDArray[np.object_]
    seg_snappable: NDArray[np.bool_]
    seg_fragment: NDArray[np.bool_]
    crs: Any
    snap_tree_main: shapely.STRtree
    snap_ids_main: NDArray[np.intp]
    snap_tree_fragment: shapely.STRtree
    snap_ids_fragment: NDArray[np.intp]
    token: int = field(default_factory=lambda: secrets.randbits(62), repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes (matrix size)."""
        return int(self.forward.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges after dropping unusable and parallel edges."""
        return int(self.forward.nnz)

    @property
    def n_segments(self) -> int:
        """Number of physical road segments."""
        return int(self.seg_u.size)

    def __repr__(self) -> str:
        return (f"CompiledNetwork(mode={self.profile.name!r}, nodes={self.n_nodes}, "
                f"edges={self.n_edges}, segments={self.n_segments}, "
                f"components={self.component_sizes.size})")


# --------------------------------------------------------------------------- reading G


def _tag_set(value: Any) -> bool:
    """Whether an OSM tag such as ``bridge`` is set (present and not "no")."""
    if value is None or value is False:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, (list, tuple)):
        return any(_tag_set(v) for v in value)
    return str(value).strip().lower() not in ("", "no", "false", "0")


def _hashable(value: Any) -> Hashable:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _check_graph(G: Any) -> None:
    if not isinstance(G, nx.DiGraph):
        raise GeoplanInputError(
            f"expected a networkx MultiDiGraph street network, got {type(G).__name__}",
            hint="load it with osmnx (ox.graph_from_place(...)) and project it "
                 "(ox.project_graph)")
    crs = G.graph.get("crs")
    if crs is not None:
        try:
            geographic = CRS.from_user_input(crs).is_geographic
        except CRSError:  # an unreadable CRS is not ours to judge
            geographic = False
        if geographic:
            raise GeoplanInputError(
                f"the street graph is in a geographic CRS ({crs}); lengths and snapping "
                "need metres", field="crs",
                hint="project it first: G = ox.project_graph(G) (or to a CGCS2000 / UTM zone)")
    if G.number_of_nodes() == 0:
        raise GeoplanInputError("the street graph has no nodes",
                                hint="check the area you downloaded")


def _node_arrays(G: nx.DiGraph) -> tuple[list[Any], NDArray[np.float64]]:
    ids = list(G.nodes)
    xs = np.fromiter((d.get("x", np.nan) for _, d in G.nodes(data=True)), float, len(ids))
    ys = np.fromiter((d.get("y", np.nan) for _, d in G.nodes(data=True)), float, len(ids))
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GeoplanInputError(
            f"{int(bad.sum())} node(s) lack finite 'x'/'y' coordinates", row=f"node {ids[k]}",
            field="x", hint="use an osmnx graph, projected with ox.project_graph")
    return ids, np.column_stack([xs, ys])


def _edge_arrays(G: nx.DiGraph, pos: dict[Any, int], profile: Profile) -> dict[str, Any]:
    """One pass over the edges, collecting what compilation needs."""
    m = G.number_of_edges()
    u = np.empty(m, np.intp)
    v = np.empty(m, np.intp)
    length = np.empty(m, float)
    combo = np.empty(m, np.intp)
    blocked = np.zeros(m, bool)
    barred = np.zeros(m, bool)
    access_keys = profile.access_tags
    geoms: list[Any] = [None] * m
    combos: dict[tuple[Hashable, Hashable], int] = {}
    tags = profile.no_snap_tags
    use_ms = profile.use_maxspeed
    for i, (a, b, d) in enumerate(G.edges(data=True)):
        u[i] = pos[a]
        v[i] = pos[b]
        length[i] = d.get("length", np.nan)
        key = (_hashable(d.get("highway")), _hashable(d.get("maxspeed")) if use_ms else None)
        combo[i] = combos.setdefault(key, len(combos))
        if tags:
            blocked[i] = any(_tag_set(d.get(t)) for t in tags)
        if any(k in d for k in access_keys):
            barred[i] = profile.barred(d)
        geoms[i] = d.get("geometry")
    return {"u": u, "v": v, "length": length, "combo": combo, "combos": list(combos),
            "blocked": blocked, "barred": barred, "geometry": geoms}


def _edge_speeds(profile: Profile, e: dict[str, Any], xy: NDArray[np.float64],
                 urban_area: Any) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Speed (km/h, 0 = unusable) and snap eligibility of every edge."""
    combos = e["combos"]
    congested = np.array([edge_speed_kmh(profile, hw, ms, congested=True)
                          for hw, ms in combos], float)
    no_snap = profile.no_snap_highways
    snap_ok = np.array([not any(c in no_snap for c in
                                (hw if isinstance(hw, tuple) else (hw,))) for hw, _ in combos],
                       bool)
    speed = congested[e["combo"]] if combos else np.zeros(0)
    if urban_area is not None and combos:
        free = np.array([edge_speed_kmh(profile, hw, ms, congested=False)
                         for hw, ms in combos], float)
        mid = 0.5 * (xy[e["u"]] + xy[e["v"]])
        inside = shapely.contains_xy(urban_area, mid[:, 0], mid[:, 1])
        speed = np.where(inside, speed, free[e["combo"]])
    snappable = (snap_ok[e["combo"]] if combos else np.zeros(0, bool)) & ~e["blocked"]
    return speed, snappable


def _check_lengths(length: NDArray[np.float64], ids: list[Any], u: NDArray[np.intp],
                   v: NDArray[np.intp]) -> None:
    bad = ~np.isfinite(length) | (length < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GeoplanInputError(
            f"{int(bad.sum())} edge(s) have a missing, infinite or negative 'length'",
            row=f"edge {ids[u[k]]} -> {ids[v[k]]}", field="length",
            hint="add lengths with ox.distance.add_edge_lengths(G) before compiling")


# --------------------------------------------------------------------------- building


def _z_order(xy: NDArray[np.float64]) -> NDArray[np.uint64]:
    """Morton (Z-order) code of points on a 65,536 x 65,536 grid over their extent."""
    if xy.shape[0] == 0:
        return np.zeros(0, np.uint64)
    span = np.ptp(xy, axis=0)
    q = ((xy - xy.min(axis=0)) / np.where(span > 0, span, 1.0) * 65535).astype(np.uint64)

    def spread(b: NDArray[np.uint64]) -> NDArray[np.uint64]:
        b = (b | (b << np.uint64(8))) & np.uint64(0x00FF00FF)
        b = (b | (b << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        b = (b | (b << np.uint64(2))) & np.uint64(0x33333333)
        return (b | (b << np.uint64(1))) & np.uint64(0x55555555)

    return spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1))


def _csr_min(rows: NDArray[np.intp], cols: NDArray[np.intp], w: NDArray[np.float64],
             n: int) -> sparse.csr_matrix:
    """CSR matrix keeping the minimum of duplicate entries and explicit zeros."""
    order = np.lexsort((w, cols, rows))
    r, c, x = rows[order], cols[order], w[order]
    keep = np.ones(r.size, bool)
    keep[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    r, c, x = r[keep], c[keep], x[keep]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if max(n, r.size) < 2**31 - 1 else np.int64
    mat = sparse.csr_matrix((x.astype(float), c.astype(idx_dtype), indptr.astype(idx_dtype)),
                            shape=(n, n))
    mat.has_sorted_indices = True
    return mat


def _pair_segments(u: NDArray[np.intp], v: NDArray[np.intp],
                   length: NDArray[np.float64]) -> NDArray[np.intp]:
    """Partner of each directed edge: the opposite edge of the same two-way road, or -1."""
    m = u.size
    partner_sorted = np.full(m, -1, np.intp)
    if m == 0:
        return partner_sorted
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((length, b, a))
    sa, sb, sl, sd = a[order], b[order], length[order], (u < v)[order]
    start = np.ones(m, bool)
    start[1:] = (sa[1:] != sa[:-1]) | (sb[1:] != sb[:-1])
    gstart = np.flatnonzero(start)
    gsize = np.diff(np.r_[gstart, m])

    def close(i: Any, j: Any) -> Any:
        return np.abs(sl[i] - sl[j]) <= np.maximum(_PAIR_TOLERANCE_M,
                                                   0.01 * np.maximum(sl[i], sl[j]))

    i = gstart[gsize == 2]
    j = i + 1
    ok = (sd[i] != sd[j]) & close(i, j)
    partner_sorted[i[ok]] = j[ok]
    partner_sorted[j[ok]] = i[ok]
    for s, size in zip(gstart[gsize > 2], gsize[gsize > 2], strict=True):
        # several roads between the same two nodes (rare): greedy pairing by length
        for k in range(s, s + size):
            if partner_sorted[k] >= 0:
                continue
            for q in range(k + 1, s + size):
                if partner_sorted[q] < 0 and sd[q] != sd[k] and close(k, q):
                    partner_sorted[k], partner_sorted[q] = q, k
                    break
    partner = np.full(m, -1, np.intp)
    has = partner_sorted >= 0
    partner[order[has]] = order[partner_sorted[has]]
    return partner


def _segment_geometries(geoms: list[Any], xy_u: NDArray[np.float64],
                        xy_v: NDArray[np.float64]) -> NDArray[np.object_]:
    """Edge geometries oriented from u to v; straight lines where an edge has none."""
    out = np.empty(len(geoms), dtype=object)
    given = np.array([isinstance(g, shapely.LineString) and not g.is_empty for g in geoms],
                     bool)
    if (~given).any():
        coords = np.stack([xy_u[~given], xy_v[~given]], axis=1)
        out[~given] = shapely.linestrings(coords)
    if given.any():
        lines = np.array([g for g, ok in zip(geoms, given, strict=True) if ok], dtype=object)
        first = shapely.get_coordinates(shapely.get_point(lines, 0))
        flip = (np.hypot(*(first - xy_v[given]).T) < np.hypot(*(first - xy_u[given]).T))
        lines[flip] = shapely.reverse(lines[flip])
        out[given] = lines
    return out


def connected_components(
    net: CompiledNetwork, strong: bool | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Label the connected components of a compiled network, largest first.

    Why: residents and facilities in different components cannot reach each other; a
    drive network needs *strong* components (a one-way street leading into a dead end
    is a trap), a walking network weak ones.

    Parameters
    ----------
    net
        The compiled network.
    strong
        Strongly (True) or weakly (False) connected; default: strong when the profile
        respects one-way.

    Returns
    -------
    labels : numpy.ndarray of int64
        Component of each node; 0 is the largest, 1 the next, ...
    sizes : numpy.ndarray of int64
        Number of nodes per label (non-increasing).
    """
    return _components(net.forward, net.profile.respect_oneway if strong is None else strong)


def _components(forward: sparse.csr_matrix,
                strong: bool) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    n = forward.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, raw = csgraph.connected_components(forward, directed=True,
                                          connection="strong" if strong else "weak")
    sizes = np.bincount(raw)
    rank = np.empty(sizes.size, np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(sizes.size)
    return rank[raw], np.sort(sizes)[::-1].astype(np.int64)


def _fragment_threshold(n: int, fragment_nodes: int, fragment_share: float) -> float:
    return max(float(fragment_nodes), fragment_share * n)


def report_fragments(
    net: CompiledNetwork, *, fragment_nodes: int = 50, fragment_share: float = 0.01,
    warn: bool = True,
) -> dict[str, int]:
    """Count the nodes cut off from the main network, warning if there are any.

    Why: a street extract always has fragments (roads cut at the boundary, gated
    compounds, one-way dead ends); people snapped onto them look unreachable. Knowing
    how much of the network they hold tells whether to clean the graph (e.g.
    ``ox.truncate.largest_component``) or enlarge the extract.

    Parameters
    ----------
    net
        The compiled network.
    fragment_nodes, fragment_share
        A component other than the largest is a fragment when it has fewer than
        ``max(fragment_nodes, fragment_share * n_nodes)`` nodes.
    warn
        Emit a :class:`~geoplan._errors.GeoplanWarning` when fragments exist.

    Returns
    -------
    dict
        ``components`` (count), ``main_nodes`` (largest component), ``fragments``
        (number of fragment components), ``fragment_nodes`` (nodes in them),
        ``other_large_components`` (components other than the largest that are big
        enough not to be fragments, e.g. islands).
    """
    return _report(net, fragment_nodes, fragment_share, warn, stacklevel=3)


def _report(net: CompiledNetwork, fragment_nodes: int, fragment_share: float, warn: bool,
            stacklevel: int) -> dict[str, int]:
    sizes = net.component_sizes
    limit = _fragment_threshold(net.n_nodes, fragment_nodes, fragment_share)
    rest = sizes[1:]
    small = rest < limit
    out = {
        "components": int(sizes.size),
        "main_nodes": int(sizes[0]) if sizes.size else 0,
        "fragments": int(small.sum()),
        "fragment_nodes": int(rest[small].sum()),
        "other_large_components": int((~small).sum()),
    }
    if warn and out["fragments"]:
        kind = "strongly" if net.profile.respect_oneway else "weakly"
        warnings.warn(
            f"{net.profile.name} network: {out['fragment_nodes']} of {net.n_nodes} nodes lie "
            f"in {out['fragments']} small fragment(s) not {kind} connected to the main "
            f"network ({out['main_nodes']} nodes); points are snapped to fragments only when "
            "no main-network road is within reach (ox.truncate.largest_component removes "
            "them)", GeoplanWarning, stacklevel=stacklevel)
    return out


def compile_network(
    G: nx.MultiDiGraph,
    profile: str | Profile = "drive",
    *,
    urban_area: Any = None,
    fragment_nodes: int = 50,
    fragment_share: float = 0.01,
    warn: bool = True,
) -> CompiledNetwork:
    """Compile a projected osmnx street graph into a travel-time network for one mode.

    Why: every travel-time question (nearest facility, coverage, location models) is a
    shortest-path search; on a compiled CSR matrix scipy answers them in compiled code,
    tens of times faster than networkx, and the snapping segments are built once.

    Parameters
    ----------
    G
        osmnx-style MultiDiGraph (or DiGraph) in a metric CRS, loaded with
        ``bidirectional=False``; see the module docstring.
    profile
        Mode name (``"walk"``, ``"ebike"``, ``"drive"``) or a
        :class:`~geoplan.travel.profiles.Profile`.
    urban_area
        Optional shapely (Multi)Polygon in the graph's CRS; when given, the profile's
        congestion multipliers apply only to edges whose midpoint lies inside it (free
        flow elsewhere). When None they apply everywhere.
    fragment_nodes, fragment_share
        Components other than the largest with fewer than
        ``max(fragment_nodes, fragment_share * n_nodes)`` nodes are fragments.
    warn
        Warn (:class:`~geoplan._errors.GeoplanWarning`) about fragments.

    Returns
    -------
    CompiledNetwork

    Raises
    ------
    GeoplanInputError
        If ``G`` is not a directed networkx graph, is in a geographic CRS, has nodes
        without coordinates or edges without a valid ``length``, if the mode is unknown,
        or if the mode can use none of its edges.
    """
    _check_graph(G)
    prof = get_profile(profile)
    ids, xy_all = _node_arrays(G)
    pos = {node: i for i, node in enumerate(ids)}
    e = _edge_arrays(G, pos, prof)
    _check_lengths(e["length"], ids, e["u"], e["v"])
    speed, snappable = _edge_speeds(prof, e, xy_all, urban_area)

    usable = (speed > 0) & (e["u"] != e["v"]) & ~e["barred"]
    if not usable.any():
        raise GeoplanInputError(
            f"the '{prof.name}' profile can use none of the graph's "
            f"{G.number_of_edges()} edges", field="highway",
            hint="check the graph's 'highway' values against the profile's speeds_kmh "
                 "and excluded_highways")
    keep = np.flatnonzero(usable)
    u0, v0 = e["u"][keep], e["v"][keep]
    seconds = e["length"][keep] / (speed[keep] / 3.6)

    # nodes that keep at least one usable edge, numbered 0..n-1 along a Z-order curve so
    # that nodes close on the map are close in memory (searches run ~1.5x faster than
    # with OSM id order, which is nearly random in space)
    kept = np.flatnonzero(np.bincount(np.r_[u0, v0], minlength=len(ids)) > 0)
    kept = kept[np.argsort(_z_order(xy_all[kept]), kind="stable")]
    n = kept.size
    new_index = np.full(len(ids), -1, np.intp)
    new_index[kept] = np.arange(n)
    u, v = new_index[u0], new_index[v0]
    xy = xy_all[kept]
    osmids = np.asarray(pd.Index([ids[i] for i in kept]))

    if prof.respect_oneway:
        ru, rv, rs = u, v, seconds
    else:
        ru, rv, rs = np.r_[u, v], np.r_[v, u], np.r_[seconds, seconds]
    forward = _csr_min(ru, rv, rs, n)
    backward = _csr_min(rv, ru, rs, n)

    # segments: one per physical road
    partner = _pair_segments(u, v, e["length"][keep])
    rep = np.flatnonzero((partner < 0) | (np.arange(u.size) < partner))
    p = partner[rep]
    bwd = np.where(p >= 0, seconds[np.maximum(p, 0)], np.inf)
    if not prof.respect_oneway:
        bwd = np.where(p >= 0, bwd, seconds[rep])
    seg_snap = snappable[keep][rep] & np.where(p >= 0, snappable[keep][np.maximum(p, 0)], True)
    geoms = _segment_geometries([e["geometry"][keep[i]] for i in rep], xy[u[rep]], xy[v[rep]])

    labels, sizes = _components(forward, prof.respect_oneway)
    limit = _fragment_threshold(n, fragment_nodes, fragment_share)
    fragment = (labels != 0) & (sizes[labels] < limit)
    seg_fragment = fragment[u[rep]] & fragment[v[rep]]
    main_ids = np.flatnonzero(seg_snap & ~seg_fragment)
    frag_ids = np.flatnonzero(seg_snap & seg_fragment)

    net = CompiledNetwork(
        profile=prof, forward=forward, backward=backward, osmids=osmids, xy=xy,
        component=labels, component_sizes=sizes, fragment=fragment,
        seg_u=u[rep], seg_v=v[rep], seg_length=e["length"][keep][rep],
        seg_fwd_s=seconds[rep], seg_bwd_s=bwd, seg_geometry=geoms,
        seg_snappable=seg_snap, seg_fragment=seg_fragment, crs=G.graph.get("crs"),
        snap_tree_main=shapely.STRtree(geoms[main_ids]), snap_ids_main=main_ids,
        snap_tree_fragment=shapely.STRtree(geoms[frag_ids]), snap_ids_fragment=frag_ids,
    )
    if warn:
        _report(net, fragment_nodes, fragment_share, True, stacklevel=3)
    return net


def node_indices(net: CompiledNetwork, osmids: Iterable[Any] | ArrayLike) -> NDArray[np.intp]:
    """Return the matrix indices of OSM node ids.

    Why: compiled arrays and search results are indexed ``0 .. n_nodes-1`` (in a
    spatial order, not graph order); this maps graph nodes onto them.

    Parameters
    ----------
    net
        The compiled network.
    osmids
        OSM node ids.

    Returns
    -------
    numpy.ndarray of intp
        Matrix index of each id.

    Raises
    ------
    GeoplanInputError
        If an id is not a node of the compiled network (absent from the graph, or left
        without edges usable by the mode).
    """
    wanted = list(osmids) if not isinstance(osmids, np.ndarray) else osmids
    idx = pd.Index(net.osmids).get_indexer(wanted)
    if (idx < 0).any():
        k = int(np.flatnonzero(idx < 0)[0])
        raise GeoplanInputError(
            f"{int((idx < 0).sum())} node id(s) are not in the compiled "
            f"{net.profile.name} network", row=f"node {list(wanted)[k]}",
            hint="the node is missing from the graph or has no edge usable by this mode")
    return idx.astype(np.intp)


# --------------------------------------------------------------------------- caching

_CACHE: weakref.WeakKeyDictionary[nx.DiGraph, OrderedDict[tuple[Any, ...], CompiledNetwork]]
_CACHE = weakref.WeakKeyDictionary()


def compile_network_cached(
    G: nx.MultiDiGraph,
    profile: str | Profile = "drive",
    *,
    urban_area: Any = None,
    fragment_nodes: int = 50,
    fragment_share: float = 0.01,
) -> CompiledNetwork:
    """Like :func:`compile_network`, but reuse an earlier result for the same graph.

    Why: analyses call the engine many times with the same graph and mode; compiling
    costs about a second per 100,000 edges each time.

    The cache is a :class:`weakref.WeakKeyDictionary` keyed by the graph *object* (it
    does not keep the graph alive and is never written into ``G.graph``, so saving the
    graph is unaffected), then by the profile's fingerprint, the graph's node and edge
    counts, ``urban_area`` and the fragment settings; up to 8 compiled networks are kept
    per graph (least recently used dropped). Edits that change node or edge counts are
    detected; **in-place edits of edge attributes are not** - call
    :func:`clear_network_cache` after those. Fragment warnings are issued on the first
    compilation only.

    Parameters
    ----------
    G, profile, urban_area, fragment_nodes, fragment_share
        As for :func:`compile_network`.

    Returns
    -------
    CompiledNetwork

    Raises
    ------
    GeoplanInputError
        As :func:`compile_network`.
    """
    prof = get_profile(profile)
    area_key = None if urban_area is None else shapely.to_wkb(urban_area)
    key = (prof.fingerprint, G.number_of_nodes(), G.number_of_edges(), area_key,
           fragment_nodes, fragment_share)
    store = _CACHE.get(G)
    if store is None:
        store = OrderedDict()
        _CACHE[G] = store
    if key in store:
        store.move_to_end(key)
        return store[key]
    net = compile_network(G, prof, urban_area=urban_area, fragment_nodes=fragment_nodes,
                          fragment_share=fragment_share)
    store[key] = net
    while len(store) > _CACHE_PER_GRAPH:
        store.popitem(last=False)
    return net


def clear_network_cache(G: nx.DiGraph | None = None) -> None:
    """Forget cached compiled networks, of one graph or of all.

    Why: the cache cannot see in-place edits of edge attributes (a changed ``maxspeed``,
    a closed road); call this after such edits.

    Parameters
    ----------
    G
        The graph whose cache entries to drop; None drops everything.
    """
    if G is None:
        _CACHE.clear()
    else:
        _CACHE.pop(G, None)

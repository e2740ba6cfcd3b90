"""Travel times between points over a compiled street network: snapping and primitives.

Everything geoplan says about access (15-minute circles, coverage, location models) is
built on the functions here:

* :func:`snap_points` puts points (population cells, facilities) onto the network;
* :func:`nearest_facility_time` gives every cell the time to its nearest facility in one
  multi-source search;
* :func:`travel_time_matrix` gives the sparse matrix of all source-target times within a
  cut-off, computed in memory-bounded chunks.

The travel model
----------------
A point is snapped to the nearest *segment* (physical road) the mode may use and join
from the roadside (not expressways, bridges, tunnels: see ``no_snap_*`` in
``profiles.toml``), within ``max_snap_m`` (default 1,000 m; farther points are
**unreachable**, never snapped across fields). Segments of the main network are
preferred: a point is snapped to a *fragment* (small disconnected component) only when
the fragment is nearer than every main-network road by more than ``fragment_slack_m``
(default 250 m). So a house 20 m from a gated compound's internal road and 120 m from
the street is put on the street (the compound's gate path is usually unmapped), while a
village or an island with its own roads keeps them instead of being charged a walk
across fields or water to the main network.

Let the snapped position lie a fraction ``t`` along segment ``u -> v`` of length ``L``,
with travel times ``T_uv`` / ``T_vu`` along the whole segment (``inf`` if the direction is
not allowed), and let ``a`` be the *access leg*: the straight-line distance from the
point to the road, walked at ``access_speed_kmh`` (default 5 km/h). Then

* leaving the point, one reaches ``v`` after ``a + min((1-t) T_uv, (1-t) L / w)`` and
  ``u`` after ``a + min(t T_vu, t L / w)`` (``w`` = walking speed): travel along the
  road in an allowed direction, or walk along it to the nearer junction - a resident
  beside a one-way street walks to the corner rather than driving round the block;
* arriving, from ``u`` the point is ``min(t T_uv, t L / w) + a`` away and from ``v``
  ``min((1-t) T_vu, (1-t) L / w) + a``;
* two points on the same segment are also joined directly along it (in an allowed
  direction, or walking).

The time between two points is the shortest combination; it is exact for this model
(tests compare it with networkx Dijkstra on a graph where every point is spliced into its
road). A point exactly at a node with nothing in between has access leg 0, so the time
from a node to itself is 0.

Zero times in sparse matrices
-----------------------------
A sparse matrix cannot tell a stored 0 from "no entry". :func:`travel_time_matrix`
therefore stores every time below :data:`ZERO_TIME_S` (1 microsecond) as
``ZERO_TIME_S``: every pair within the cut-off is a stored, strictly positive entry, so
``M > 0``, ``M.astype(bool)``, ``M.getnnz(...)`` and ``M.toarray() > 0`` all see it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse import csgraph

from geoplan._errors import GeoplanInputError, GeoplanWarning
from geoplan.travel.network import CompiledNetwork

__all__ = [
    "MATRIX_CHUNK_BYTES",
    "ZERO_TIME_S",
    "Snapped",
    "nearest_facility_time",
    "snap_points",
    "travel_time_matrix",
]

#: Times below this (seconds) are stored as this value in sparse matrices, so that a
#: zero travel time is not mistaken for a missing pair.
ZERO_TIME_S = 1e-6

DEFAULT_MAX_SNAP_M = 1000.0
DEFAULT_ACCESS_SPEED_KMH = 5.0
DEFAULT_FRAGMENT_SLACK_M = 250.0
#: Memory budget of the dense buffers of one batch of sources in travel_time_matrix.
MATRIX_CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points snapped onto a :class:`~geoplan.travel.network.CompiledNetwork`.

    Arrays have one row per input point, in input order.

    Attributes
    ----------
    reachable
        Whether the point was snapped (a usable road within ``max_snap_m``).
    segment
        Index of the segment it was snapped to, -1 if unreachable.
    t
        Position along the segment as a fraction from its ``u`` end (NaN if unreachable).
    access_m
        Straight-line distance from the point to the road (inf if unreachable).
    access_s
        That distance walked at ``access_speed_kmh``, in seconds.
    on_fragment
        Whether the point was snapped to a fragment (its roads nearer than the main
        network's by more than ``fragment_slack_m``).
    nodes
        ``(k, 2)`` matrix indices of the segment's ``u`` and ``v`` nodes (-1 if
        unreachable).
    node
        The segment end nearer to the snapped position (-1 if unreachable): the nearest
        usable node along the road.
    entry_s
        ``(k, 2)`` seconds from the point to ``nodes[:, 0]`` and ``nodes[:, 1]``.
    exit_s
        ``(k, 2)`` seconds from ``nodes[:, 0]`` and ``nodes[:, 1]`` to the point.
    max_snap_m, access_speed_kmh
        The settings used.
    network_token
        Identity of the network the points were snapped to.
    """

    reachable: NDArray[np.bool_]
    segment: NDArray[np.intp]
    t: NDArray[np.float64]
    access_m: NDArray[np.float64]
    access_s: NDArray[np.float64]
    on_fragment: NDArray[np.bool_]
    nodes: NDArray[np.intp]
    node: NDArray[np.intp]
    entry_s: NDArray[np.float64]
    exit_s: NDArray[np.float64]
    max_snap_m: float
    access_speed_kmh: float
    network_token: int

    def __len__(self) -> int:
        return int(self.reachable.size)


def _as_xy(xy: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(xy, dtype=float)
    except (TypeError, ValueError):
        raise GeoplanInputError(f"{name} must be numbers, an array of (x, y) rows",
                                field=name) from None
    if arr.ndim == 1 and arr.size == 2:
        arr = arr.reshape(1, 2)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise GeoplanInputError(f"{name} must have shape (n, 2), got {arr.shape}", field=name,
                                hint="pass an array of (x, y) rows in the network's CRS")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GeoplanInputError(f"{int(bad.sum())} point(s) have missing or infinite "
                                "coordinates", field=name, row=f"point {k}",
                                hint="drop or fix those rows before computing travel times")
    return arr


def _check_settings(max_snap_m: float, access_speed_kmh: float) -> None:
    if not (np.isfinite(max_snap_m) and max_snap_m > 0):
        raise GeoplanInputError(f"max_snap_m must be a positive number, got {max_snap_m!r}",
                                field="max_snap_m", hint="e.g. 1000 (metres)")
    if not (np.isfinite(access_speed_kmh) and access_speed_kmh > 0):
        raise GeoplanInputError(
            f"access_speed_kmh must be a positive number, got {access_speed_kmh!r}",
            field="access_speed_kmh", hint="walking is about 5 km/h")


def _partial(frac: NDArray[np.float64], total: NDArray[np.float64]) -> NDArray[np.float64]:
    """``frac * total`` with ``0 * inf = 0`` (no distance to cover, direction irrelevant)."""
    with np.errstate(invalid="ignore"):
        return np.where(frac > 0, frac * total, 0.0)


def _nearest(tree: shapely.STRtree, ids: NDArray[np.intp], geoms: NDArray[np.object_],
             max_snap_m: float) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    if ids.size == 0 or geoms.size == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
    (qi, ti), dist = tree.query_nearest(geoms, max_distance=max_snap_m,
                                        return_distance=True, all_matches=False)
    ok = dist <= max_snap_m
    return qi[ok].astype(np.intp), ids[ti[ok]], dist[ok]


def snap_points(
    net: CompiledNetwork,
    xy: ArrayLike,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
    fragment_slack_m: float = DEFAULT_FRAGMENT_SLACK_M,
    warn: bool = True,
) -> Snapped:
    """Snap points onto the nearest road segment the mode can use and join.

    Why: people and facilities are not on the network; the first and last metres (the
    access legs) and where exactly a point joins the road decide who is inside a
    15-minute circle. Snapping to segments rather than nodes keeps a house in the middle
    of a long rural road from being charged the trip to the wrong junction.

    Parameters
    ----------
    net
        The compiled network.
    xy
        ``(k, 2)`` point coordinates in the network's CRS (metres).
    max_snap_m
        Points farther than this from every usable road are unreachable (default
        1,000 m).
    access_speed_kmh
        Walking speed of the access leg (and of walking along the snapped road to its
        ends), default 5 km/h.
    fragment_slack_m
        The main network is preferred unless a fragment's road is nearer by more than
        this (default 250 m; ``inf``: main network whenever within ``max_snap_m``, 0:
        simply the nearest road).
    warn
        Warn (:class:`~geoplan._errors.GeoplanWarning`) with counts of unreachable points
        and of points snapped to fragments.

    Returns
    -------
    Snapped
        Snap positions and the entry/exit times to the snapped segment's two nodes.

    Raises
    ------
    GeoplanInputError
        If ``xy`` is not an ``(k, 2)`` array of finite numbers or a setting is not
        positive.
    """
    return _snap(net, _as_xy(xy, "xy"), max_snap_m, access_speed_kmh, warn, stacklevel=3,
                 fragment_slack_m=fragment_slack_m)


def _snap(net: CompiledNetwork, pts: NDArray[np.float64], max_snap_m: float,
          access_speed_kmh: float, warn: bool, stacklevel: int,
          fragment_slack_m: float = DEFAULT_FRAGMENT_SLACK_M) -> Snapped:
    _check_settings(max_snap_m, access_speed_kmh)
    if not fragment_slack_m >= 0:
        raise GeoplanInputError(f"fragment_slack_m must be >= 0, got {fragment_slack_m!r}",
                                field="fragment_slack_m", hint="e.g. 250 (metres)")
    k = pts.shape[0]
    geoms = shapely.points(pts)
    seg = np.full(k, -1, np.intp)
    dist = np.full(k, np.inf)
    qi, si, d = _nearest(net.snap_tree_main, net.snap_ids_main, geoms, max_snap_m)
    seg[qi], dist[qi] = si, d
    frag_seg = np.full(k, -1, np.intp)
    frag_dist = np.full(k, np.inf)
    qi, si, d = _nearest(net.snap_tree_fragment, net.snap_ids_fragment, geoms, max_snap_m)
    frag_seg[qi], frag_dist[qi] = si, d
    on_fragment = frag_dist + fragment_slack_m < dist
    seg[on_fragment], dist[on_fragment] = frag_seg[on_fragment], frag_dist[on_fragment]
    reach = seg >= 0

    t = np.full(k, np.nan)
    r = np.flatnonzero(reach)
    lines = net.seg_geometry[seg[r]]
    glen = shapely.length(lines)
    s = shapely.line_locate_point(lines, geoms[r])
    with np.errstate(invalid="ignore", divide="ignore"):
        t[r] = np.where(glen > 0, np.clip(s / glen, 0.0, 1.0), 0.0)

    w = access_speed_kmh / 3.6
    access_s = dist / w
    nodes = np.full((k, 2), -1, np.intp)
    entry = np.full((k, 2), np.inf)
    exit_ = np.full((k, 2), np.inf)
    sr, tr, ar = seg[r], t[r], access_s[r]
    length, tf, tb = net.seg_length[sr], net.seg_fwd_s[sr], net.seg_bwd_s[sr]
    nodes[r, 0], nodes[r, 1] = net.seg_u[sr], net.seg_v[sr]
    entry[r, 0] = ar + np.minimum(_partial(tr, tb), tr * length / w)
    entry[r, 1] = ar + np.minimum(_partial(1 - tr, tf), (1 - tr) * length / w)
    exit_[r, 0] = np.minimum(_partial(tr, tf), tr * length / w) + ar
    exit_[r, 1] = np.minimum(_partial(1 - tr, tb), (1 - tr) * length / w) + ar
    node = np.full(k, -1, np.intp)
    node[r] = np.where(tr <= 0.5, nodes[r, 0], nodes[r, 1])

    if warn and k:
        lost = int((~reach).sum())
        if lost:
            hint = ""
            if lost == k:
                hint = (" - none could be snapped: are the points in the network's CRS "
                        f"({net.crs}) and inside its area?")
            warnings.warn(
                f"{lost} of {k} point(s) are more than {max_snap_m:g} m from any road usable "
                f"by '{net.profile.name}'; they are treated as unreachable{hint}",
                GeoplanWarning, stacklevel=stacklevel)
        frag = int(on_fragment.sum())
        if frag:
            warnings.warn(
                f"{frag} of {k} point(s) were snapped to small disconnected network fragments "
                f"(nearer than the main network by more than {fragment_slack_m:g} m, or no "
                f"main-network road within {max_snap_m:g} m); they reach only what lies on "
                "their fragment", GeoplanWarning, stacklevel=stacklevel)
    return Snapped(reachable=reach, segment=seg, t=t, access_m=dist, access_s=access_s,
                   on_fragment=on_fragment, nodes=nodes, node=node, entry_s=entry,
                   exit_s=exit_, max_snap_m=float(max_snap_m),
                   access_speed_kmh=float(access_speed_kmh), network_token=net.token)


def _snapped(net: CompiledNetwork, pts: ArrayLike | Snapped, name: str, max_snap_m: float,
             access_speed_kmh: float) -> Snapped:
    if isinstance(pts, Snapped):
        if pts.network_token != net.token:
            raise GeoplanInputError(f"{name} were snapped to a different network",
                                    field=name, hint="snap them with this network")
        return pts
    # stack: caller -> public primitive -> _snapped -> _snap
    return _snap(net, _as_xy(pts, name), max_snap_m, access_speed_kmh, True, stacklevel=4)


def _augmented(graph: sparse.csr_matrix, nodes: NDArray[np.intp],
               offsets: NDArray[np.float64]) -> sparse.csr_matrix:
    """``graph`` plus one virtual node per row of ``nodes`` with edges to those nodes.

    Virtual node ``n + i`` has an edge of weight ``offsets[i, j]`` to ``nodes[i, j]``
    (infinite offsets are left out) and no incoming edges, so it changes no path between
    real nodes. Explicit zero weights are kept (csgraph treats them as edges).
    """
    n = graph.shape[0]
    c = nodes.shape[0]
    finite = np.isfinite(offsets)
    counts = finite.sum(axis=1)
    idx_dtype = graph.indices.dtype
    indptr = np.concatenate([graph.indptr.astype(np.int64),
                             graph.indptr[-1] + np.cumsum(counts, dtype=np.int64)])
    indices = np.concatenate([graph.indices, nodes[finite].astype(idx_dtype)])
    data = np.concatenate([graph.data, offsets[finite]])
    return sparse.csr_matrix((data, indices, indptr.astype(idx_dtype)), shape=(n + c, n + c))


def _same_segment(net: CompiledNetwork, orig: Snapped, dest: Snapped,
                  ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Direct times between origins and destinations snapped to the same segment."""
    o_ids = np.flatnonzero(orig.reachable)
    d_ids = np.flatnonzero(dest.reachable)
    d_sorted = d_ids[np.argsort(dest.segment[d_ids], kind="stable")]
    d_seg = dest.segment[d_sorted]
    o_seg = orig.segment[o_ids]
    lo = np.searchsorted(d_seg, o_seg, "left")
    cnt = np.searchsorted(d_seg, o_seg, "right") - lo
    total = int(cnt.sum())
    if total == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
    oi = np.repeat(o_ids, cnt)
    first = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt)
    di = d_sorted[first + np.arange(total)]
    seg = orig.segment[oi]
    dt = dest.t[di] - orig.t[oi]
    w = orig.access_speed_kmh / 3.6
    fwd = np.where(dt >= 0, _partial(dt, net.seg_fwd_s[seg]), np.inf)
    bwd = np.where(dt <= 0, _partial(-dt, net.seg_bwd_s[seg]), np.inf)
    along = np.minimum(np.minimum(fwd, bwd), np.abs(dt) * net.seg_length[seg] / w)
    return oi, di, orig.access_s[oi] + along + dest.access_s[di]


def _check_direction(direction: str, allowed: tuple[str, str]) -> None:
    if direction not in allowed:
        raise GeoplanInputError(f"unknown direction '{direction}'", field="direction",
                                hint=f"use '{allowed[0]}' or '{allowed[1]}'")


def _check_cutoff(cutoff_s: float | None, required: bool) -> float:
    if cutoff_s is None and not required:
        return np.inf
    try:
        value = float(cutoff_s)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = np.nan
    if not value >= 0:
        raise GeoplanInputError(f"cutoff_s must be a number of seconds >= 0, got {cutoff_s!r}",
                                field="cutoff_s", hint="e.g. 900 for 15 minutes")
    return value


def nearest_facility_time(
    net: CompiledNetwork,
    cell_xy: ArrayLike | Snapped,
    facility_xy: ArrayLike | Snapped,
    *,
    direction: Literal["to_facility", "from_facility"] = "to_facility",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
    cutoff_s: float | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Time from every cell to its nearest facility (or back), in one network search.

    Why: "how far is the nearest clinic" for a million population cells must not cost a
    million searches. One multi-source Dijkstra from all facilities at once gives every
    node its nearest facility; each facility enters the search through a virtual node
    whose edges carry that facility's own access leg and partial-road times, so the
    result is exact, not node-approximate.

    Parameters
    ----------
    net
        The compiled network.
    cell_xy
        ``(k, 2)`` cell coordinates in the network's CRS, or a :class:`Snapped`.
    facility_xy
        ``(f, 2)`` facility coordinates, or a :class:`Snapped`.
    direction
        ``"to_facility"`` (default): residents travel to the facility (searched on the
        reversed network, so one-way streets are used in the right direction);
        ``"from_facility"``: the facility travels to the resident (ambulance, home visit).
    max_snap_m, access_speed_kmh
        Snapping settings for arrays (see :func:`snap_points`); ignored for
        :class:`Snapped` inputs.
    cutoff_s
        Stop searching beyond this many seconds; farther cells get ``inf`` / -1. Default:
        no cut-off.

    Returns
    -------
    seconds : numpy.ndarray of float64
        Travel time per cell including both access legs; ``inf`` if no facility can be
        reached (cell or facilities beyond snapping distance, disconnected, or beyond
        the cut-off).
    facility : numpy.ndarray of intp
        Index (into ``facility_xy``) of the nearest facility, -1 where unreachable. Ties
        go to any of the tied facilities.

    Raises
    ------
    GeoplanInputError
        On malformed coordinates, an unknown direction, a negative cut-off, or points
        snapped to another network.
    """
    _check_direction(direction, ("to_facility", "from_facility"))
    limit = _check_cutoff(cutoff_s, required=False)
    cells = _snapped(net, cell_xy, "cell_xy", max_snap_m, access_speed_kmh)
    fac = _snapped(net, facility_xy, "facility_xy", max_snap_m, access_speed_kmh)
    k = len(cells)
    best = np.full(k, np.inf)
    which = np.full(k, -1, np.intp)
    fr = np.flatnonzero(fac.reachable)
    if fr.size == 0 or k == 0:
        return best, which
    n = net.n_nodes
    if direction == "to_facility":
        graph, src_off, dst_off = net.backward, fac.exit_s, cells.entry_s
    else:
        graph, src_off, dst_off = net.forward, fac.entry_s, cells.exit_s
    aug = _augmented(graph, fac.nodes[fr], src_off[fr])
    dist, _, origin = csgraph.dijkstra(aug, directed=True, indices=n + np.arange(fr.size),
                                       limit=limit, min_only=True, return_predecessors=True)
    cr = np.flatnonzero(cells.reachable)
    cand = dist[cells.nodes[cr]] + dst_off[cr]           # (k_reach, 2)
    pick = np.argmin(cand, axis=1)
    best[cr] = cand[np.arange(cr.size), pick]
    src = origin[cells.nodes[cr, pick]]
    which[cr] = np.where(np.isfinite(best[cr]), fr[np.clip(src - n, 0, fr.size - 1)], -1)

    # cells and facilities on the same road segment: direct travel along it
    if direction == "to_facility":
        ci, fi, tt = _same_segment(net, cells, fac)
    else:
        fi, ci, tt = _same_segment(net, fac, cells)
    if ci.size:
        order = np.lexsort((tt, ci))
        ci, fi, tt = ci[order], fi[order], tt[order]
        first = np.r_[True, ci[1:] != ci[:-1]]
        ci, fi, tt = ci[first], fi[first], tt[first]
        better = tt < best[ci]
        best[ci[better]] = tt[better]
        which[ci[better]] = fi[better]
    over = best > limit
    best[over] = np.inf
    which[over] = -1
    return best, which


def _concat_releasing(parts: list[NDArray[Any]], dtype: Any) -> NDArray[Any]:
    """Concatenate and empty ``parts``, dropping each piece once copied (lower peak)."""
    out = np.empty(sum(p.size for p in parts), dtype)
    pos = 0
    parts.reverse()
    while parts:
        piece = parts.pop()
        out[pos:pos + piece.size] = piece
        pos += piece.size
        del piece
    return out


def travel_time_matrix(
    net: CompiledNetwork,
    source_xy: ArrayLike | Snapped,
    target_xy: ArrayLike | Snapped,
    cutoff_s: float,
    *,
    direction: Literal["from_source", "to_source"] = "from_source",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
    chunk_size: int | None = None,
) -> sparse.csr_matrix:
    """Sparse matrix of travel times between sources and targets within a cut-off.

    Why: coverage and location models need every (facility, cell) pair within, say, 30
    minutes - a small fraction of all pairs. A dense sources x nodes result would not fit
    in memory for a city; here sources are searched in chunks, each search stops at the
    cut-off (``limit=``), only the target columns are gathered and only pairs within the
    cut-off are kept, so memory is bounded by the chunk buffer plus the pairs kept.

    One Dijkstra search runs per *source*: make the smaller set the sources (usually the
    facilities) and use ``direction`` to get the travel direction you need.

    Parameters
    ----------
    net
        The compiled network.
    source_xy
        ``(s, 2)`` coordinates in the network's CRS, or a :class:`Snapped`.
    target_xy
        ``(t, 2)`` coordinates, or a :class:`Snapped`. Many targets may share a node or
        a segment.
    cutoff_s
        Keep pairs with travel time <= this many seconds.
    direction
        ``"from_source"`` (default): entry ``[i, j]`` is the time to travel from source
        i to target j. ``"to_source"``: the time to travel from target j to source i
        (residents = targets travelling to facilities = sources).
    max_snap_m, access_speed_kmh
        Snapping settings for arrays (see :func:`snap_points`); ignored for
        :class:`Snapped` inputs.
    chunk_size
        Sources per search batch; default: as many as keep the batch's dense buffers
        (search result over all nodes, gathered target times) within
        :data:`MATRIX_CHUNK_BYTES` (64 MB).

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(s, t)``, float64 seconds including both access legs; only pairs within
        the cut-off are stored and times below :data:`ZERO_TIME_S` are stored as
        ``ZERO_TIME_S`` (see the module docstring). Rows of unreachable sources and
        columns of unreachable targets are empty.

    Raises
    ------
    GeoplanInputError
        On malformed coordinates, an unknown direction, a missing or negative cut-off, a
        non-positive chunk size, or points snapped to another network.
    """
    _check_direction(direction, ("from_source", "to_source"))
    # times below ZERO_TIME_S are stored as ZERO_TIME_S, a true zero: within every
    # cut-off, 0 included (a cut-off of 0 s keeps the pairs that are 0 s apart)
    limit = max(_check_cutoff(cutoff_s, required=True), ZERO_TIME_S)
    if chunk_size is not None and (int(chunk_size) != chunk_size or chunk_size < 1):
        raise GeoplanInputError(f"chunk_size must be a positive integer, got {chunk_size!r}",
                                field="chunk_size")
    src = _snapped(net, source_xy, "source_xy", max_snap_m, access_speed_kmh)
    tgt = _snapped(net, target_xy, "target_xy", max_snap_m, access_speed_kmh)
    n_s, n_t = len(src), len(tgt)
    sr = np.flatnonzero(src.reachable)
    tr = np.flatnonzero(tgt.reachable)
    if sr.size == 0 or tr.size == 0:
        return sparse.csr_matrix((n_s, n_t))
    if direction == "from_source":
        graph, src_off, tgt_off = net.forward, src.entry_s, tgt.exit_s
    else:
        graph, src_off, tgt_off = net.backward, src.exit_s, tgt.entry_s
    si, tcol, direct = _direct_pairs(net, src, tgt, direction, limit, tr)
    gather = (tgt.nodes[tr, 0], tgt.nodes[tr, 1], tgt_off[tr, 0], tgt_off[tr, 1])
    if chunk_size is None:
        row_bytes = 8 * (net.n_nodes + 3 * tr.size) + tr.size
        chunk_size = max(1, min(sr.size, MATRIX_CHUNK_BYTES // row_bytes))

    counts = np.zeros(n_s, np.int64)
    col_parts: list[NDArray[Any]] = []
    val_parts: list[NDArray[np.float64]] = []
    for start in range(0, sr.size, chunk_size):
        rows = sr[start:start + chunk_size]
        times = _chunk_times(graph, src.nodes[rows], src_off[rows], gather, limit)
        # same-segment pairs of this chunk's sources (si holds reachable sources, sorted)
        lo = np.searchsorted(si, rows[0], side="left")
        hi = np.searchsorted(si, rows[-1], side="right")
        if hi > lo:
            np.minimum.at(times, (np.searchsorted(rows, si[lo:hi]), tcol[lo:hi]), direct[lo:hi])
        r_loc, cols = np.nonzero(times <= limit)
        vals = times[r_loc, cols]
        del times
        counts[rows] = np.bincount(r_loc, minlength=rows.size)
        col_parts.append(tr[cols].astype(np.int32 if len(tgt) < 2**31 else np.int64))
        val_parts.append(np.maximum(vals, ZERO_TIME_S))
    return _assemble_csr(counts, col_parts, val_parts, n_t)


def _direct_pairs(net: CompiledNetwork, src: Snapped, tgt: Snapped, direction: str,
                  limit: float, tr: NDArray[np.intp],
                  ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Same-segment (source, target column, time) triples within ``limit``, by source."""
    if direction == "from_source":
        si, ti, direct = _same_segment(net, src, tgt)
    else:
        ti, si, direct = _same_segment(net, tgt, src)
    keep = direct <= limit
    si, ti, direct = si[keep], ti[keep], direct[keep]
    col_of = np.full(len(tgt), -1, np.intp)
    col_of[tr] = np.arange(tr.size)
    order = np.argsort(si, kind="stable")
    return si[order], col_of[ti[order]], direct[order]


def _chunk_times(graph: sparse.csr_matrix, src_nodes: NDArray[np.intp],
                 src_off: NDArray[np.float64], gather: tuple[NDArray[Any], ...],
                 limit: float) -> NDArray[np.float64]:
    """Dense (chunk sources x reachable targets) times from one bounded search."""
    n, c = graph.shape[0], src_nodes.shape[0]
    tu, tv, ou, ov = gather
    aug = _augmented(graph, src_nodes, src_off)
    dist = csgraph.dijkstra(aug, directed=True, indices=n + np.arange(c), limit=limit)
    times = dist[:, tu]
    times += ou
    other = dist[:, tv]
    del dist
    other += ov
    np.minimum(times, other, out=times)
    return times


def _assemble_csr(counts: NDArray[np.int64], col_parts: list[NDArray[Any]],
                  val_parts: list[NDArray[np.float64]], n_cols: int) -> sparse.csr_matrix:
    """CSR matrix from per-row counts and row-ordered column / value pieces."""
    indptr = np.zeros(counts.size + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    small = max(n_cols, int(indptr[-1])) < 2**31 - 1
    idx_dtype = np.int32 if small else np.int64
    indices = _concat_releasing(col_parts, idx_dtype)
    data = _concat_releasing(val_parts, np.float64)
    out = sparse.csr_matrix((data, indices, indptr.astype(idx_dtype)),
                            shape=(counts.size, n_cols))
    out.has_sorted_indices = True
    return out

"""Benchmark geoplan's travel-time matrix against the usual alternatives.

Usage::

    python benchmarks/bench_travel.py [--nodes 100000] [--sources 1000] [--cutoff-min 30]
                                      [--nx-sources 100] [--target-spacing 300] [--seed 0]

A city-like synthetic street network is generated (jittered grid, dense centre and
sparser countryside, faster arterials every few blocks, some one-way streets, sparse
country lanes with a few cut-off fragments; OSM-like random node ids added in id order,
as osmnx does). Then, for ``--sources`` facility-like points and a regular grid of
population-cell targets, the drive-time matrix within the cut-off is computed by

(a) ``geoplan.travel.times.travel_time_matrix`` (edge snapping, access legs, chunked searches
    with ``limit=``, target columns gathered, sparse output);
(b) the loop an osmnx tutorial writes: ``nx.single_source_dijkstra_path_length(G, src,
    cutoff=..., weight="travel_time")`` per source, then a dict lookup per target node.
    This is slow, so only ``--nx-sources`` sources are timed and the time is
    **extrapolated linearly** to all sources (stated in the output);
(c) ``scipy.sparse.csgraph.dijkstra`` on a CSR matrix built from the graph, returning
    the dense sources x nodes matrix (no ``limit``), then the target columns;
(d) the same with ``limit=cutoff`` (a stronger baseline than (c), shown for honesty).

The baselines (b)-(d) snap points to their nearest node only (no access legs), which
is less work than (a). All use the same edge travel times (geoplan's drive profile).
Each method runs in its own subprocess; its wall time (best of ``--repeat`` runs, default
2, for geoplan and scipy; virtual machines are noisy) and its peak resident memory
*above* the state after loading the graph (Linux ``VmHWM`` after resetting it through
``/proc/self/clear_refs``; falls back to ``ru_maxrss`` elsewhere) are reported.
One-off preparation (compiling the network, building the CSR / travel-time attributes,
generating the graph) is timed separately and not part of the query times.

Finally (unless ``--no-demo``; ``--demo-only`` runs just this) the full coverage of the
demo region (data/demo: 201,149 population cells, 209 facilities) is timed for walk,
e-bike and drive: compiling the network, snapping the cells, coverage per admin unit at
15 and 30 minutes with all facilities, and the nearest facility of every type per cell
(:mod:`geoplan.access.coverage`). Reading the input files is reported separately. Target: under
10 s in all.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geoplan import coverage  # noqa: E402
from geoplan.inputs.region import load_region  # noqa: E402
from geoplan.travel.network import compile_network  # noqa: E402
from geoplan.travel.profiles import edge_speed_kmh, get_profile  # noqa: E402
from geoplan.travel.times import snap_points, travel_time_matrix  # noqa: E402

CRS = "EPSG:32650"


# ---------------------------------------------------------------------- the network


def synthetic_city(n_nodes: int = 100_000, seed: int = 0, radius_m: float = 22_000.0,
                   ) -> nx.MultiDiGraph:
    """Generate a city-like osmnx-style street graph (projected, metres).

    Parameters
    ----------
    n_nodes
        Approximate number of nodes (a square grid of this size is warped radially).
    seed
        Random seed; the same seed gives the same graph.
    radius_m
        Distance from the centre to the middle of the region's edge.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes with ``x``, ``y``; edges with ``length``, ``highway``, ``oneway``,
        ``reversed`` and on some arterials ``maxspeed``.
    """
    rng = np.random.default_rng(seed)
    m = max(3, int(round(math.sqrt(n_nodes))))
    x, y, r, ii, jj = _warped_grid(m, radius_m, rng)
    node = np.arange(m * m).reshape(m, m)
    u = np.r_[node[:, :-1].ravel(), node[:-1, :].ravel()]
    v = np.r_[node[:, 1:].ravel(), node[1:, :].ravel()]
    line = np.r_[ii[:, :-1].ravel(), jj[:-1, :].ravel()]     # grid line each edge lies on
    u, v, hw, oneway, maxspeed = _streets(u, v, line, 0.5 * (r[u] + r[v]), rng)
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.1, u.size)
    # OSM-like ids, nodes added in id order as osmnx does
    ids = np.unique(rng.integers(10**8, 10**10, size=2 * m * m))
    ids = rng.permutation(ids)[: m * m]
    used = np.zeros(m * m, bool)
    used[u] = used[v] = True
    G = nx.MultiDiGraph(crs=CRS)
    G.add_nodes_from((int(ids[k]), {"x": float(x[k]), "y": float(y[k])})
                     for k in np.argsort(ids) if used[k])
    edges = []
    for a_, b_, h, ow, ms, le in zip(u.tolist(), v.tolist(), hw.tolist(), oneway.tolist(),
                                     maxspeed.tolist(), length.tolist(), strict=True):
        attrs = {"highway": h, "oneway": ow, "reversed": False, "length": le}
        if ms is not None:
            attrs["maxspeed"] = ms
        edges.append((int(ids[a_]), int(ids[b_]), attrs))
        if not ow:
            edges.append((int(ids[b_]), int(ids[a_]), {**attrs, "reversed": True}))
    G.add_edges_from(edges)
    return G


def _warped_grid(m: int, radius_m: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Return node x, y, normalised radius and grid indices of a radially warped m x m grid.

    Spacing grows from 0.5x the mean in the centre to 2x at the edge midpoints (3.5x in the
    corners), with +-20 % jitter.
    """
    ii, jj = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    a = 2.0 * jj / (m - 1) - 1.0
    b = 2.0 * ii / (m - 1) - 1.0
    r = np.hypot(a, b)
    alpha = 0.5
    stretch = alpha + (1 - alpha) * r**2
    local = radius_m * 2.0 / (m - 1) * (alpha + 3 * (1 - alpha) * r**2)
    x = a * radius_m * stretch + rng.uniform(-0.2, 0.2, a.shape) * local
    y = b * radius_m * stretch + rng.uniform(-0.2, 0.2, a.shape) * local
    return x.ravel(), y.ravel(), r.ravel(), ii, jj


def _streets(u: np.ndarray, v: np.ndarray, line: np.ndarray, rmid: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Classify grid edges, thin out the countryside, pick one-way streets and maxspeeds."""
    hw = np.full(u.size, "residential", dtype=object)
    hw[line % 6 == 3] = "secondary"
    hw[line % 12 == 6] = "primary"
    hw[line % 48 == 24] = "trunk"
    minor = hw == "residential"
    rural = rmid > 0.75
    lane = rng.random(u.size)
    hw[minor & rural & (lane < 0.6)] = "unclassified"
    hw[minor & rural & (lane >= 0.6)] = "track"
    keep = ~(minor & rural & (rng.random(u.size) < 0.4))     # countryside is sparser
    keep &= ~(minor & ~rural & (rng.random(u.size) < 0.08))  # some missing blocks in town
    u, v, hw, rmid = u[keep], v[keep], hw[keep], rmid[keep]
    oneway = (hw == "residential") & (rmid < 0.6) & (rng.random(u.size) < 0.2)
    flip = oneway & (rng.random(u.size) < 0.5)
    u, v = np.where(flip, v, u), np.where(flip, u, v)
    maxspeed = np.full(u.size, None, dtype=object)
    maxspeed[hw == "trunk"] = "80"
    maxspeed[(hw == "primary") & (rng.random(u.size) < 0.5)] = "60"
    return u, v, hw, oneway, maxspeed


def points(G: nx.MultiDiGraph, n_sources: int, spacing: float, seed: int,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Facility-like sources near random nodes, and a grid of population-cell targets."""
    rng = np.random.default_rng(seed + 1)
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    pick = rng.choice(len(xy), n_sources, replace=False)
    sources = xy[pick] + rng.uniform(-60, 60, (n_sources, 2))
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    gx, gy = np.meshgrid(np.arange(lo[0], hi[0], spacing), np.arange(lo[1], hi[1], spacing))
    cells = np.column_stack([gx.ravel(), gy.ravel()])
    near, _ = cKDTree(xy).query(cells, distance_upper_bound=600.0)
    return sources, cells[np.isfinite(near)]


def edge_times(G: nx.MultiDiGraph) -> None:
    """Set ``travel_time`` (s) on every edge with geoplan's drive speeds (for baselines)."""
    prof = get_profile("drive")
    for _, _, d in G.edges(data=True):
        kmh = edge_speed_kmh(prof, d["highway"], d.get("maxspeed"))
        d["travel_time"] = d["length"] / (kmh / 3.6) if kmh > 0 else math.inf


# ---------------------------------------------------------------------- measuring


def _rss_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> int:
    """Reset the peak-RSS counter if possible; return the current RSS in kB."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    now = _rss_kb("VmRSS")
    return now if now is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_mb(base_kb: int) -> float:
    peak = _rss_kb("VmHWM")
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(0, peak - base_kb) / 1024


def _nearest_nodes(G: nx.MultiDiGraph, pts: np.ndarray) -> list[int]:
    ids = list(G.nodes)
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    _, k = cKDTree(xy).query(pts)
    return [ids[i] for i in k]


def _csr(G: nx.MultiDiGraph) -> tuple[sparse.csr_matrix, dict]:
    """Build the CSR a scipy user would: fastest edge times, nodes in graph order."""
    idx = {n: i for i, n in enumerate(G.nodes)}
    rows, cols, w = [], [], []
    for a, b, d in G.edges(data=True):
        if math.isfinite(d["travel_time"]) and a != b:
            rows.append(idx[a])
            cols.append(idx[b])
            w.append(d["travel_time"])
    rows, cols, w = np.array(rows), np.array(cols), np.array(w)
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    n = len(idx)
    return sparse.csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n)), idx


def worker(method: str, args: argparse.Namespace) -> dict:
    """Run one method in this process and return its measurements."""
    t0 = time.perf_counter()
    G = synthetic_city(args.nodes, args.seed)
    sources, targets = points(G, args.sources, args.target_spacing, args.seed)
    out: dict = {"method": method, "graph_s": time.perf_counter() - t0,
                 "nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
                 "targets": len(targets)}
    cutoff = args.cutoff_min * 60.0
    if method == "geoplan":
        out.update(_run_geoplan(G, sources, targets, cutoff, args.seed, args.repeat))
        return out
    t = time.perf_counter()
    edge_times(G)
    if method == "networkx":
        out["prepare_s"] = time.perf_counter() - t
        out.update(_run_networkx(G, sources, targets, cutoff, args.nx_sources))
        return out
    A, idx = _csr(G)
    out["prepare_s"] = time.perf_counter() - t
    out.update(_run_scipy(G, A, idx, sources, targets, cutoff,
                          limit=method == "scipy_limit", repeat=args.repeat))
    return out


def _run_geoplan(G: nx.MultiDiGraph, sources: np.ndarray, targets: np.ndarray,
                 cutoff: float, seed: int, repeat: int) -> dict:
    out: dict = {}
    t = time.perf_counter()
    net = compile_network(G, "drive", warn=False)
    out["prepare_s"] = time.perf_counter() - t
    del G
    base = _reset_peak()
    snap_s, query_s = [], []
    for _ in range(repeat):
        M = None
        t = time.perf_counter()
        src = snap_points(net, sources, warn=False)
        tgt = snap_points(net, targets, warn=False)
        snap_s.append(time.perf_counter() - t)
        M = travel_time_matrix(net, src, tgt, cutoff)
        query_s.append(time.perf_counter() - t)
    out["snap_s"], out["query_s"] = min(snap_s), min(query_s)
    out["peak_mb"] = _peak_mb(base)
    out["pairs"] = int(M.nnz)
    out["result_mb"] = (M.data.nbytes + M.indices.nbytes + M.indptr.nbytes) / 2**20
    out["fragments"] = int(net.fragment.sum())
    out["check"] = _check_against_scipy(net, seed)
    return out


def _run_networkx(G: nx.MultiDiGraph, sources: np.ndarray, targets: np.ndarray,
                  cutoff: float, nx_sources: int) -> dict:
    base = _reset_peak()
    n_run = min(nx_sources, len(sources))
    t = time.perf_counter()
    src_nodes = _nearest_nodes(G, sources[:n_run])
    tgt_nodes = _nearest_nodes(G, targets)
    pairs = 0
    for s in src_nodes:
        dist = nx.single_source_dijkstra_path_length(G, s, cutoff=cutoff, weight="travel_time")
        row = [dist.get(tn) for tn in tgt_nodes]
        pairs += sum(d is not None for d in row)
    elapsed = time.perf_counter() - t
    return {"peak_mb": _peak_mb(base), "timed_sources": n_run, "query_s_measured": elapsed,
            "query_s": elapsed * len(sources) / n_run,
            "pairs": int(round(pairs * len(sources) / n_run))}


def _run_scipy(G: nx.MultiDiGraph, A: sparse.csr_matrix, idx: dict, sources: np.ndarray,
               targets: np.ndarray, cutoff: float, limit: bool, repeat: int) -> dict:
    base = _reset_peak()
    times = []
    for _ in range(repeat):
        T = None
        t = time.perf_counter()
        s_idx = np.array([idx[n] for n in _nearest_nodes(G, sources)])
        t_idx = np.array([idx[n] for n in _nearest_nodes(G, targets)])
        D = dijkstra(A, directed=True, indices=s_idx, limit=cutoff if limit else np.inf)
        T = D[:, t_idx]                               # dense sources x nodes, then targets
        del D
        pairs = int((T <= cutoff).sum())
        times.append(time.perf_counter() - t)
    return {"query_s": min(times), "peak_mb": _peak_mb(base), "pairs": pairs}


def _check_against_scipy(net, seed: int, n: int = 20) -> str:
    """Check that for node-located points geoplan's matrix equals plain csgraph Dijkstra."""
    rng = np.random.default_rng(seed + 2)
    # nodes whose roads may be snapped to and that lie in the main component
    ok = np.zeros(net.n_nodes, bool)
    good = net.seg_snappable & ~net.seg_fragment
    ok[net.seg_u[good]] = ok[net.seg_v[good]] = True
    nodes = rng.choice(np.flatnonzero(ok), 2 * n, replace=False)
    src, tgt = nodes[:n], nodes[n:]
    S = snap_points(net, net.xy[src], access_speed_kmh=1e-9, warn=False)
    T = snap_points(net, net.xy[tgt], access_speed_kmh=1e-9, warn=False)
    if not ((S.access_m == 0).all() and (T.access_m == 0).all()):
        return "skipped (a chosen node lies on another road)"
    M = travel_time_matrix(net, S, T, 1e8).toarray()
    D = dijkstra(net.forward, indices=src)[:, tgt]
    D = np.where(D <= 1e8, np.maximum(D, 1e-6), 0.0)
    err = float(np.abs(M - D).max())
    return f"{'OK' if err < 1e-6 else 'MISMATCH'} ({n}x{n} node pairs, max |diff| {err:.2e} s)"


def demo_coverage() -> dict:
    """Time full walk / e-bike / drive coverage of the demo region (in this process)."""
    demo = Path(__file__).resolve().parents[1] / "data" / "demo"
    out: dict = {"modes": {}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        region = load_region(demo, layers=("population", "facilities", "network"))
        out["read_s"] = time.perf_counter() - t
        out["cells"], out["facilities"] = len(region.population), len(region.facilities)
        start = time.perf_counter()
        for mode in ("walk", "ebike", "drive"):
            t0 = time.perf_counter()
            net = compile_network(region.network, mode, warn=False)
            t1 = time.perf_counter()
            ctx = coverage.travel_context(net, mode, region.population)
            t2 = time.perf_counter()
            units = coverage.coverage_by_unit(ctx, region.facilities, [15, 30],
                                              boundaries=region.boundaries)
            coverage.nearest_by_type(ctx, region.facilities)
            t3 = time.perf_counter()
            out["modes"][mode] = {"compile_s": t1 - t0, "snap_s": t2 - t1,
                                  "coverage_s": t3 - t2,
                                  "share_15": float(units["share_15min"].iloc[-1]),
                                  "share_30": float(units["share_30min"].iloc[-1])}
        out["total_s"] = time.perf_counter() - start
    return out


def print_demo(d: dict) -> None:
    """Print the demo-region coverage timing."""
    print(f"\ndemo region coverage ({d['cells']:,} cells, all {d['facilities']} facilities, "
          f"15/30 min; per unit + nearest of each type): input files read in "
          f"{d['read_s']:.1f} s (not counted)")
    for mode, r in d["modes"].items():
        print(f"  {mode:<6} compile {r['compile_s']:.2f} s, snap cells {r['snap_s']:.2f} s, "
              f"coverage {r['coverage_s']:.2f} s  -> covered {r['share_15']:.1%} within 15 min,"
              f" {r['share_30']:.1%} within 30 min")
    ok = d["total_s"] < 10.0
    print(f"  total {d['total_s']:.2f} s (target < 10 s: {'met' if ok else 'NOT met'})")


def _run(method: str, argv: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--worker", method, *argv]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise SystemExit(f"{method} failed")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _print_speedups(results: dict, g: dict, labels: dict) -> None:
    """Print geoplan's speed-up over each baseline and whether the targets are met."""
    print("\nspeed-up of geoplan (query time, compile excluded; incl. compile in brackets):")
    for method, r in results.items():
        if method == "geoplan":
            continue
        total = g["query_s"] + g["prepare_s"]
        print(f"  vs {labels[method]:<34} {r['query_s'] / g['query_s']:6.1f}x  "
              f"({(r['query_s'] + r.get('prepare_s', 0)) / total:.1f}x)")
    targets = []
    if "networkx" in results:
        targets.append(("networkx >= 15x", results["networkx"]["query_s"] / g["query_s"] >= 15))
    if "scipy_dense" in results:
        targets.append(("dense scipy >= 2x",
                        results["scipy_dense"]["query_s"] / g["query_s"] >= 2))
    targets.append(("peak memory <= 400 MB", g["peak_mb"] <= 400))
    print("targets: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}"
                                  for name, ok in targets))


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every method in a subprocess and print the comparison."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=100_000)
    p.add_argument("--sources", type=int, default=1000)
    p.add_argument("--cutoff-min", type=float, default=30.0)
    p.add_argument("--nx-sources", type=int, default=100,
                   help="sources timed for the networkx loop (extrapolated to all)")
    p.add_argument("--target-spacing", type=float, default=300.0,
                   help="spacing (m) of the population-cell grid of targets")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=2,
                   help="runs of geoplan and scipy per process; the fastest is reported")
    p.add_argument("--methods", default="geoplan,scipy_dense,scipy_limit,networkx")
    p.add_argument("--no-demo", action="store_true",
                   help="skip the demo-region coverage timing")
    p.add_argument("--demo-only", action="store_true",
                   help="run only the demo-region coverage timing")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        result = demo_coverage() if args.worker == "demo" else worker(args.worker, args)
        print(json.dumps(result))
        return
    passthrough = list(argv if argv is not None else sys.argv[1:])
    if args.demo_only:
        print_demo(_run("demo", passthrough))
        return
    print(f"geoplan travel-time benchmark: {args.nodes:,} nodes requested, "
          f"{args.sources:,} sources, cut-off {args.cutoff_min:g} min, drive profile, "
          f"{os.cpu_count()} CPU(s)")
    results = {}
    for method in args.methods.split(","):
        print(f"  running {method} ...", flush=True)
        results[method] = _run(method, passthrough)
    g = results.get("geoplan")
    first = next(iter(results.values()))
    print(f"\nnetwork: {first['nodes']:,} nodes, {first['edges']:,} directed edges "
          f"(generated in {first['graph_s']:.1f} s); {first['targets']:,} target cells")
    if g:
        print(f"geoplan: compile {g['prepare_s']:.2f} s (once per graph and mode), "
              f"snapping {g['snap_s']:.2f} s, {g['fragments']} nodes in fragments; "
              f"result {g['pairs']:,} pairs = {g['result_mb']:.1f} MB sparse")
        print(f"consistency check vs csgraph on node-located points: {g['check']}")
    print(f"\n{'method':<34}{'query time':>12}{'peak mem':>12}{'pairs':>14}")
    labels = {
        "geoplan": "(a) geoplan travel_time_matrix",
        "networkx": "(b) networkx loop (extrapolated)",
        "scipy_dense": "(c) scipy dense, no limit",
        "scipy_limit": "(d) scipy dense, limit=cutoff",
    }
    for method, r in results.items():
        print(f"{labels.get(method, method):<34}{r['query_s']:>10.2f} s{r['peak_mb']:>9.1f} MB"
              f"{r['pairs']:>14,}")
    print("(pair counts differ: geoplan adds walking access legs - cells are up to 600 m "
          "from a road - where the baselines put each point on its nearest node for free)")
    if "networkx" in results:
        r = results["networkx"]
        print(f"\nnetworkx: {r['timed_sources']} of {args.sources} sources timed "
              f"({r['query_s_measured']:.1f} s), extrapolated linearly to all sources; "
              f"its peak memory is for the timed sources only.")
    if g:
        _print_speedups(results, g, labels)
    if not args.no_demo:
        print_demo(_run("demo", passthrough))


if __name__ == "__main__":
    main()

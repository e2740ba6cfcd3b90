"""Benchmark geoplan's location models against spopt on city-like instances.

Usage::

    python benchmarks/bench_optimize.py [--quick] [--skip-spopt] [--time-limit 300]
                                         [--baseline REV]

Instances: a synthetic city street network (``bench_travel.synthetic_city``, 29,690 nodes,
12 km radius), population cells near random street nodes weighted by a density that falls
off from the centre, candidate sites near random street nodes, and geoplan's travel
engine for the times:

- maximal covering, 15 minutes by **e-bike** (each cell sees 24-46 candidates: hard, large
  overlaps) and on **foot** (3-5 candidates per cell: the insurance-circle standard),
  10,000 cells x 500 candidates (p = 10 and 50) and 50,000 x 1,000 (p = 10);
- set covering of every reachable cell, 10,000 x 500, 15 minutes by e-bike;
- p-median 2,000 cells x 200 candidates, p = 10, drive times within 60 minutes.

Each instance is solved in the same run by spopt (``MCLP`` / ``LSCP`` / ``PMedian``
``.from_cost_matrix`` with its default CBC, in a child process with a wall limit; install
it for the benchmark only: ``pip install spopt``; skipped when absent or when its dense
model would exceed ``--spopt-max-pairs``) and by geoplan with CBC and with HiGHS, single-
threaded. Printed: build and solve time, objective (must agree where both prove an
optimum), and the ratio of total times. ``--only walk`` runs a subset.
``--baseline REV`` also solves every instance with the release at git revision ``REV``
(a temporary worktree, a child interpreter: ``benchmarks/baseline.py``) and prints its
lines beside the current ones with the ratio previous / current.

Measured 2026-11-24 (2 cores, ``--time-limit 60``, another job on the second core):

=====================================  ===============  ===================  ===================
instance                               spopt (CBC)      geoplan CBC          geoplan HiGHS
=====================================  ===============  ===================  ===================
MCLP e-bike 10,000 x 500, p = 10       > 60 s           60 s, gap 0.62 %     55.2 s optimal
MCLP e-bike 10,000 x 500, p = 50       > 60 s           62 s, gap 0.20 %     60 s, gap 0.23 %
MCLP e-bike 50,000 x 1,000, p = 10     (dense: 50 M)    71 s, gap 0.43 %     65.7 s optimal
MCLP walk 10,000 x 500, p = 10         19.2 s           0.39 s (49x)         0.39 s (49x)
MCLP walk 10,000 x 500, p = 50         > 60 s           60 s, gap 0.53 %     25.4 s optimal
MCLP walk 50,000 x 1,000, p = 10       (dense: 50 M)    15.6 s optimal       11.7 s optimal
set covering e-bike 10,000 x 500       18.2 s (79)      2.32 s (7.8x)        11.7 s (1.6x)
p-median 2,000 x 200, p = 10           > 60 s           3.45 s optimal       2.48 s optimal
=====================================  ===============  ===================  ===================

spopt did not finish the e-bike 10,000 x 500, p = 10 instance in 1,200 s either
(``--only 'ebike 15 10000 500 10' --spopt-time-limit 1200``): geoplan is > 21x faster.

What makes the maximal covering runs fast: the local search finds the optimal plans in
about a second (e-bike 10,000 x 500, p = 10: 247,576, where CBC alone had 247,496 after
400 s); the Benders LP bounds them; reduced costs and probing close 474 of 493 sites
(e-bike 10,000 x 500) and 441 of 1,000 (e-bike 50,000 x 1,000) before the MILP. Before
these steps the e-bike 50,000 x 1,000 run ended at a 4.15 % gap after 296 s (CBC overran
its limit in the root LP; such runs are now stopped). HiGHS is the default of every
model (``geoplan.optimize.solver.DEFAULT_SOLVER``); the table above is from 2026-11-24,
before CBC's preprocessing became a start-plan provider only. Measured 2026-12-02 with
``--baseline d694568`` (a test suite beside it): set covering CBC 4.8 s / HiGHS 19.6 s
(both proven; the previous release 3.7 s / 20.6 s), p-median CBC 5.3 s / HiGHS 2.2 s,
the maximal covering instances within noise of the previous release (see the README).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_travel import synthetic_city  # noqa: E402

from geoplan.optimize.covering import max_covering  # noqa: E402
from geoplan.travel.network import compile_network  # noqa: E402
from geoplan.travel.times import travel_time_matrix  # noqa: E402


def instance(G, net, n_cells: int, n_cand: int, seed: int, cutoff_s: float):
    """Cells (weighted) and candidates on the city; times within the cut-off."""
    rng = np.random.default_rng(seed)
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    centre = xy.mean(axis=0)
    # cells near random nodes (so they are on the map), weights falling off from centre
    cells = xy[rng.choice(len(xy), n_cells, replace=True)] + rng.uniform(-80, 80, (n_cells, 2))
    r = np.hypot(*(cells - centre).T)
    w = np.round(rng.gamma(2.0, 40.0, n_cells) * np.exp(-r / 8000.0) + 1.0)
    cand = xy[rng.choice(len(xy), n_cand, replace=False)] + rng.uniform(-40, 40, (n_cand, 2))
    T = travel_time_matrix(net, cand, cells, cutoff_s, direction="to_source").T.tocsr()
    return T, w


def run_geoplan_mclp(C, w, p, solver, time_limit=None):
    t = time.perf_counter()
    plan = max_covering(C, w, p=p, solver=solver, time_limit=time_limit)
    return {"build": plan.build_s, "solve": plan.solve_s, "total": time.perf_counter() - t,
            "objective": plan.objective, "status": plan.status, "gap": plan.gap,
            "reduction": str(plan.reduction)}


def _spopt_timed(build, time_limit):
    """Build an spopt model, solve it with CBC (one thread), report times and objective."""
    import pulp
    t = time.perf_counter()
    model = build()
    build_s = time.perf_counter() - t
    t1 = time.perf_counter()
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, threads=1))
    solve_s = time.perf_counter() - t1
    return {"build": build_s, "solve": solve_s, "total": build_s + solve_s,
            "objective": float(pulp.value(model.problem.objective)),
            "status": pulp.LpStatus[model.problem.status]}


def run_spopt_mclp(C, w, p, time_limit):
    from spopt.locate import MCLP
    dense = C.toarray().astype(float)                      # spopt takes a dense matrix
    cost = np.where(dense > 0, 0.0, 2.0)                   # covered <=> cost <= 1
    return _spopt_timed(
        lambda: MCLP.from_cost_matrix(cost, w, service_radius=1.0, p_facilities=p), time_limit)


def run_geoplan_lscp(C, solver, time_limit=None):
    from geoplan.optimize.covering import set_covering
    t = time.perf_counter()
    plan = set_covering(C, None, solver=solver, time_limit=time_limit)
    return {"build": plan.build_s, "solve": plan.solve_s, "total": time.perf_counter() - t,
            "objective": plan.objective, "status": plan.status, "gap": plan.gap,
            "reduction": str(plan.reduction)}


def run_spopt_lscp(C, time_limit):
    from spopt.locate import LSCP
    dense = C.toarray().astype(float)
    cost = np.where(dense > 0, 0.0, 2.0)
    return _spopt_timed(lambda: LSCP.from_cost_matrix(cost, service_radius=1.0), time_limit)


def run_geoplan_pmedian(T, w, p, solver, time_limit=None):
    from geoplan.optimize.median import p_median
    t = time.perf_counter()
    plan = p_median(T, w, p, solver=solver, time_limit=time_limit)
    return {"build": plan.build_s, "solve": plan.solve_s, "total": time.perf_counter() - t,
            "objective": plan.objective, "status": plan.status, "gap": plan.gap}


def run_spopt_pmedian(T, w, p, time_limit):
    from spopt.locate import PMedian
    dense = T.toarray()
    dense[dense == 0] = 1e7                                # unreachable within the cut-off
    return _spopt_timed(lambda: PMedian.from_cost_matrix(dense, w, p_facilities=p), time_limit)


def _spopt_in_subprocess(fn, args, timeout_s):
    """Run an spopt solve in a child process with a wall-clock limit."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=lambda: q.put(fn(*args)))
    t = time.perf_counter()
    proc.start()
    proc.join(timeout_s)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return {"build": float("nan"), "solve": float("nan"),
                "total": time.perf_counter() - t, "objective": float("nan"),
                "status": f"not finished in {timeout_s:.0f} s", "unfinished": True}
    return q.get()


def _row(name, res, ref=None):
    gap = f", gap {res['gap']:.2%}" if res.get("gap") else ""
    ratio = ""
    if ref and res.get("total"):
        ratio = f"{ref['total'] / res['total']:6.1f}x" + (" (at least)" if ref.get(
            "unfinished") else "")
    print(f"  {name:<16} build {res['build']:7.2f} s  solve {res['solve']:7.2f} s  "
          f"total {res['total']:7.2f} s  objective {res['objective']:,.1f}  "
          f"[{res['status']}{gap}] {ratio}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small instances only")
    ap.add_argument("--skip-spopt", action="store_true")
    ap.add_argument("--time-limit", type=float, default=300.0,
                    help="time limit of every solve (geoplan) and every spopt run (build + "
                         "solve)")
    ap.add_argument("--spopt-time-limit", type=float, default=None,
                    help="wall limit of each spopt run (default: --time-limit)")
    ap.add_argument("--nodes", type=int, default=30_000)
    ap.add_argument("--only", default="", help="run the cases whose description holds this "
                    "text, e.g. 'walk' or '50000'")
    ap.add_argument("--spopt-max-pairs", type=int, default=10_000_000,
                    help="skip spopt when cells x candidates exceeds this (dense model)")
    ap.add_argument("--baseline", default=None, metavar="REV",
                    help="also run the release at this git revision, side by side")
    args = ap.parse_args(argv)
    import contextlib

    import baseline
    with (baseline.checkout(args.baseline) if args.baseline
          else contextlib.nullcontext(None)) as release:
        _run_cases(args, release)


def _baseline_rows(release, kind, M, w, p, limit, res):
    """Solve the instance with the previous release too; print it beside the current."""
    import baseline
    for s in ("cbc", "highs"):
        kw = {"solver": s, "time_limit": limit}
        if kind == "MCLP":
            out = baseline.run(release, "max_covering", M, w, 3 * limit + 60, p=p, **kw)
        elif kind == "set covering":
            out = baseline.run(release, "set_covering", M, None, 3 * limit + 60, **kw)
        else:
            out = baseline.run(release, "p_median", M, w, 3 * limit + 60, p=p, **kw)
        res[f"previous {s}"] = out
        ratio = out["total"] / res[s]["total"] if res[s]["total"] else float("nan")
        gap = f", gap {out['gap']:.2%}" if out.get("gap") else ""
        print(f"  {'previous ' + ('CBC' if s == 'cbc' else 'HiGHS'):<16} build "
              f"{out['build']:7.2f} s  solve {out['solve']:7.2f} s  total {out['total']:7.2f} s"
              f"  objective {out['objective']:,.1f}  [{out['status']}{gap}]  "
              f"previous / current {ratio:5.2f}")


def _run_cases(args, release) -> None:
    """Every case of the benchmark (see the module docstring)."""
    warnings.simplefilter("ignore")
    spopt_limit = args.spopt_time_limit or args.time_limit
    have_spopt = False
    if not args.skip_spopt:
        try:
            import spopt  # noqa: F401
            have_spopt = True
        except ImportError:
            print("spopt not installed (pip install spopt): spopt lines skipped")
    t = time.perf_counter()
    G = synthetic_city(args.nodes, seed=3, radius_m=12_000.0)
    nets = {mode: compile_network(G, mode, warn=False) for mode in ("walk", "ebike", "drive")}
    print(f"network {nets['ebike'].n_nodes:,} nodes, {nets['ebike'].n_edges:,} edges "
          f"({time.perf_counter() - t:.1f} s)")
    # (model, mode, minutes, cells, candidates, p)
    cases = [("MCLP", "ebike", 15, 10_000, 500, 10), ("MCLP", "ebike", 15, 10_000, 500, 50),
             ("MCLP", "ebike", 15, 50_000, 1_000, 10),
             ("MCLP", "walk", 15, 10_000, 500, 10), ("MCLP", "walk", 15, 10_000, 500, 50),
             ("MCLP", "walk", 15, 50_000, 1_000, 10),
             ("set covering", "ebike", 15, 10_000, 500, 0),
             ("p-median", "drive", 60, 2_000, 200, 10)]
    if args.quick:
        cases = [("MCLP", "ebike", 15, 2_000, 100, 5), ("set covering", "ebike", 15, 2_000, 100, 0),
                 ("p-median", "drive", 60, 500, 50, 5)]
    if args.only:
        cases = [c for c in cases if args.only.lower() in " ".join(map(str, c)).lower()]
    totals = {"cbc": 0.0, "highs": 0.0}
    for kind, mode, minutes, n, m, p in cases:
        cutoff = minutes * 60.0
        T, w = instance(G, nets[mode], n, m, seed=n + m, cutoff_s=cutoff)
        print(f"\n{kind} {n:,} cells x {m:,} candidates" + (f", p = {p}" if p else "") +
              f", {mode} {minutes} min ({T.nnz:,} pairs, {T.nnz / n:.1f} sites per cell)")
        res = {}
        if kind == "MCLP":
            C = T.copy()
            C.data[:] = 1.0
            for s in ("cbc", "highs"):
                res[s] = run_geoplan_mclp(C, w, p, s, args.time_limit)
                totals[s] += res[s]["total"]
            if have_spopt and n * m <= args.spopt_max_pairs:
                res["spopt"] = _spopt_in_subprocess(run_spopt_mclp, (C, w, p, spopt_limit),
                                                    spopt_limit)
            elif have_spopt:
                print(f"  spopt skipped: its dense model would hold {n * m:,} terms "
                      f"(> --spopt-max-pairs {args.spopt_max_pairs:,})")
        elif kind == "set covering":
            C = T.copy()
            C.data[:] = 1.0
            C = C[np.diff(C.indptr) > 0]          # every cell some candidate reaches
            print(f"  {C.shape[0]:,} cells reachable by some candidate must all be covered")
            for s in ("cbc", "highs"):
                res[s] = run_geoplan_lscp(C, s, args.time_limit)
                totals[s] += res[s]["total"]
            if have_spopt:
                res["spopt"] = _spopt_in_subprocess(run_spopt_lscp, (C, spopt_limit),
                                                    spopt_limit)
        else:
            for s in ("cbc", "highs"):
                res[s] = run_geoplan_pmedian(T, w, p, s, args.time_limit)
                totals[s] += res[s]["total"]
            if have_spopt:
                res["spopt"] = _spopt_in_subprocess(run_spopt_pmedian,
                                                    (T, w, p, spopt_limit), spopt_limit)
        ref = res.get("spopt")
        if ref is not None:
            _row("spopt (CBC)", ref)
        _row("geoplan CBC", res["cbc"], ref)
        _row("geoplan HiGHS", res["highs"], ref)
        if release is not None:
            M = C if kind != "p-median" else T
            _baseline_rows(release, kind, M, w, p, args.time_limit, res)
        if "reduction" in res["cbc"]:
            print(f"  reduction: {res['cbc']['reduction']}")
        objs = [r["objective"] for r in res.values() if str(r["status"]).lower() == "optimal"]
        agree = all(abs(o - objs[0]) <= 1e-6 * max(1.0, abs(objs[0])) for o in objs)
        print("  objectives of proven optima agree: " + (
            ("yes" if agree else "NO") if len(objs) > 1 else "n/a (fewer than two proven)"))
        if not agree:
            raise SystemExit("objectives differ between solvers")
    best = min(totals, key=totals.get)
    print(f"\nall instances, total time: CBC {totals['cbc']:.2f} s, HiGHS "
          f"{totals['highs']:.2f} s -> faster: {best}")


if __name__ == "__main__":
    main()

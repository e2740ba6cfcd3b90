"""Do geoplan's models return within their time limit? One instance per model that binds.

Why: a planner who asks for an answer in 10 s must get it in about 10 s, whatever the
model does inside: p-center solves many covering subproblems, the trade-off curve one
maximal covering per p, maximal covering runs a heuristic, an LP and fixing before its
MILP. Each model is run on an instance too big to finish within the limits, with
``time_limit`` T in (2, 5, 10) s and both solvers; the wall time of the whole call
(the model's own build and reduction included, generating the instance not) must stay
within ``T + 0.05 T + 1`` s.

Instances (random, fixed seeds; points in the unit square, travel time = 60 x distance):

- ``max_covering``: 50,000 demand points x 1,000 sites, ~40 sites per row, p = 20;
- ``set_covering``: 20,000 x 600, ~8 sites per row, integer costs, 95 % of the population
  and at least 90 % of each of 25 units;
- ``p_median``: 3,000 x 300 sparse times (pairs within ~60 sites), p = 20;
- ``p_center``: 2,000 x 300 sparse times (~40 sites per row), p = 15;
- ``tradeoff_curve``: 20,000 x 500, ~30 sites per row, p = 0..8;
- ``beds_to_ratio``: 300 units with two hospitals and two possible new sites each,
  reachable variant with 3,000 demand rows (90 % of each served within reach);
- ``function_centres``: 20,000 rows x 400 hosts, 6 kinds, 40 centres in all, at most 10 of
  a kind, 2 kinds per host.

Usage::

    python benchmarks/bench_time_limits.py [--quick] [--limits 2 5 10] [--models ...]
                                           [--solvers cbc highs] [--load 0]

Prints one row per run: model, solver, T, elapsed, overrun = elapsed - T, allowed =
0.05 T + 1, OK/OVER, status, gap. ``--quick`` runs T = 2 s only. Exits 1 on any OVER.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from stress_cases import allowed_seconds, busy_load  # noqa: E402

import geoplan.optimize as gopt  # noqa: E402

MODELS = ("max_covering", "set_covering", "p_median", "p_center", "tradeoff_curve",
          "beds_to_ratio", "function_centres")


def _within(rng: np.random.Generator, n: int, m: int, per_row: float,
            ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Pairs of ``n`` demand points and ``m`` sites within the radius giving ``per_row``.

    Returns the distance matrix of those pairs (CSR; distances > 0) and both point sets.
    """
    D, S = rng.random((n, 2)), rng.random((m, 2))
    r = math.sqrt(per_row / (m * math.pi))
    dist = cKDTree(D).sparse_distance_matrix(cKDTree(S), r, output_type="coo_matrix")
    M = sparse.csr_matrix((np.maximum(dist.data, 1e-6), (dist.row, dist.col)), shape=(n, m))
    return M, D, S


Run = Callable[[str, float], Any]


def _max_covering() -> Run:
    rng = np.random.default_rng(1)
    M, _, _ = _within(rng, 50_000, 1_000, 40.0)
    w = rng.integers(1, 100, M.shape[0]).astype(float)
    return lambda solver, T: gopt.max_covering(M, w, p=20, solver=solver, time_limit=T)


def _set_covering() -> Run:
    rng = np.random.default_rng(2)
    M, D, _ = _within(rng, 20_000, 600, 8.0)
    w = rng.integers(1, 100, M.shape[0]).astype(float)
    unit = (np.floor(D[:, 0] * 5) * 5 + np.floor(D[:, 1] * 5)).astype(int)
    costs = rng.integers(1, 10, M.shape[1]).astype(float)
    return lambda solver, T: gopt.set_covering(M, w, costs=costs, target_share=0.95,
                                               unit=unit, unit_min_share=0.9, solver=solver,
                                               time_limit=T)


def _times(seed: int, n: int, m: int, per_row: float) -> tuple[sparse.csr_matrix, Any]:
    rng = np.random.default_rng(seed)
    M, _, _ = _within(rng, n, m, per_row)
    M.data = np.round(M.data * 60.0, 2) + 0.01
    return M, rng.integers(1, 100, M.shape[0]).astype(float)


def _p_median() -> Run:
    M, w = _times(3, 3_000, 300, 60.0)
    return lambda solver, T: gopt.p_median(M, w, 20, unassigned_time=float(M.data.max()),
                                           solver=solver, time_limit=T)


def _p_center() -> Run:
    M, w = _times(4, 2_000, 300, 40.0)
    return lambda solver, T: gopt.p_center(M, 15, weights=w, allow_unreachable=True,
                                           solver=solver, time_limit=T)


def _tradeoff() -> Run:
    rng = np.random.default_rng(5)
    M, _, _ = _within(rng, 20_000, 500, 30.0)
    w = rng.integers(1, 100, M.shape[0]).astype(float)

    def run(solver: str, T: float) -> Any:
        curve, plans = gopt.tradeoff_curve(M, w, 8, solver=solver, time_limit=T)
        last = plans[-1]
        last.details["curve_status"] = "/".join(curve["status"].str[0])
        return last
    return run


def _beds() -> Run:
    rng = np.random.default_rng(6)
    units = np.array([f"u{k}" for k in range(300)])
    pop = pd.Series(rng.integers(2_000, 40_000, units.size).astype(float), index=units)
    nh = ns = 2 * units.size                  # two hospitals and two new sites per unit
    H = pd.DataFrame({"unit": np.repeat(units, 2), "beds": rng.integers(0, 60, nh),
                      "max_add": rng.integers(20, 150, nh),
                      "cost_per_bed": rng.integers(1, 6, nh)})
    S = pd.DataFrame({"unit": np.repeat(units, 2), "fixed_cost": rng.integers(50, 400, ns),
                      "cost_per_bed": rng.integers(1, 6, ns),
                      "min_beds": rng.integers(10, 40, ns)})
    S["max_beds"] = S["min_beds"] + rng.integers(40, 200, ns)
    sites = rng.random((nh + ns, 2))
    rows = rng.random((3000, 2))
    cov = cKDTree(rows).sparse_distance_matrix(cKDTree(sites), 0.06, output_type="coo_matrix")
    C = sparse.csr_matrix((np.ones(cov.nnz), (cov.row, cov.col)), shape=(3000, nh + ns))
    near = cKDTree(sites).query(rows)[1]            # every row reaches its nearest site
    C = (C + sparse.csr_matrix((np.ones(3000), (np.arange(3000), near)),
                               shape=C.shape)).astype(bool)
    demand = np.full(3000, float(pop.sum()) / 3000)
    return lambda solver, T: gopt.beds_to_ratio(pop, H, S, ratio=5.0, coverage=C,
                                                demand=demand, reach_share=0.9,
                                                solver=solver, time_limit=T)


def _function_centres() -> Run:
    rng = np.random.default_rng(7)
    M, _, _ = _within(rng, 20_000, 400, 12.0)
    w = rng.integers(1, 100, M.shape[0]).astype(float)
    E = rng.random((400, 6)) < 0.5
    C = M.astype(bool)
    return lambda solver, T: gopt.function_centres(C, w, E, total=40, per_type=10,
                                                   max_types_per_host=2, solver=solver,
                                                   time_limit=T)


_BUILD: dict[str, Callable[[], Run]] = {
    "max_covering": _max_covering, "set_covering": _set_covering, "p_median": _p_median,
    "p_center": _p_center, "tradeoff_curve": _tradeoff, "beds_to_ratio": _beds,
    "function_centres": _function_centres,
}


def run_one(model: str, run: Run, solver: str, T: float) -> dict[str, Any]:
    """Solve one model with limit ``T`` and time the call (instance built beforehand).

    Returns
    -------
    dict
        ``model, solver, T, elapsed, overrun, allowed, verdict, status, gap``.
    """
    t0 = time.perf_counter()
    try:
        plan = run(solver, T)
        status, gap = str(plan.status), float(plan.gap)
        if "curve_status" in plan.details:
            status = f"{status} (points {plan.details['curve_status']})"
    except Exception as exc:  # noqa: BLE001 - report and go on
        status, gap = f"error: {type(exc).__name__}: {exc}"[:60], math.nan
    elapsed = time.perf_counter() - t0
    ok = elapsed <= allowed_seconds(T)
    return {"model": model, "solver": solver, "T": T, "elapsed": elapsed,
            "overrun": elapsed - T, "allowed": allowed_seconds(T) - T,
            "verdict": "OK" if ok else "OVER", "status": status, "gap": gap}


def _row(r: dict[str, Any]) -> str:
    gap = "" if math.isnan(r["gap"]) else f"{r['gap']:.2%}"
    return (f"{r['model']:<17} {r['solver']:<6} {r['T']:>5g} {r['elapsed']:>8.2f} "
            f"{r['overrun']:>8.2f} {r['allowed']:>7.2f} {r['verdict']:<5} {r['status']:<24} "
            f"{gap:>8}")


def main(argv: list[str] | None = None) -> int:
    """Run the table; exit status 1 on any OVER.

    Parameters
    ----------
    argv
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Process exit status.
    """
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limits", type=float, nargs="+", default=[2.0, 5.0, 10.0])
    ap.add_argument("--quick", action="store_true", help="T = 2 s only")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--solvers", nargs="+", default=["cbc", "highs"])
    ap.add_argument("--load", type=int, default=0, help="busy worker processes")
    args = ap.parse_args(argv)
    limits = [2.0] if args.quick else args.limits
    print(f"{'model':<17} {'solver':<6} {'T':>5} {'elapsed':>8} {'overrun':>8} "
          f"{'allowed':>7} {'':<5} {'status':<24} {'gap':>8}", flush=True)
    over = 0
    with busy_load(args.load):
        for model in args.models:
            run = _BUILD[model]()
            for solver in args.solvers:
                for T in limits:
                    r = run_one(model, run, solver, T)
                    over += r["verdict"] == "OVER"
                    print(_row(r), flush=True)
    print(f"\n{over} run(s) over the allowed time" if over else "\nevery run within time")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())

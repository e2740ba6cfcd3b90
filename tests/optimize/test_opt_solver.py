"""The solver wrapper: status, objective, bound and gap read back the same for CBC and HiGHS."""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from dataclasses import replace

import numpy as np
import pulp
import pytest

from geoplan import GeoplanInputError
from geoplan.optimize.plan import Plan
from geoplan.optimize.solver import (
    DEFAULT_SOLVER,
    FEASIBLE,
    INFEASIBLE,
    OPTIMAL,
    _parse_cbc_log,
    make_solver,
    solve,
)

SOLVERS = ["cbc", "highs"]


def _knapsack(values, weights, cap, sense):
    prob = pulp.LpProblem("knap", sense)
    x = [pulp.LpVariable(f"x{i}", cat="Binary") for i in range(len(values))]
    sign = 1 if sense == pulp.LpMaximize else -1
    prob += pulp.lpSum(sign * int(v) * xi for v, xi in zip(values, x, strict=True))
    prob += pulp.lpSum(int(w) * xi for w, xi in zip(weights, x, strict=True)) <= int(cap)
    return prob


def _mkp(n: int, m: int, seed: int = 5):
    """A hard multi-constraint knapsack: (problem, variables, values, weights, capacities)."""
    rng = np.random.default_rng(seed)
    c = rng.integers(1, 100, n)
    A = rng.integers(1, 100, (m, n))
    cap = A.sum(axis=1) // 2
    prob = pulp.LpProblem("mkp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{i}", cat="Binary") for i in range(n)]
    prob += pulp.lpSum(int(ci) * xi for ci, xi in zip(c, x, strict=True))
    for r in range(m):
        prob += pulp.lpSum(int(a) * xi for a, xi in zip(A[r], x, strict=True)) <= int(cap[r])
    return prob, x, c, A, cap


def _brute(values, weights, cap):
    best = 0
    for mask in itertools.product((0, 1), repeat=len(values)):
        m = np.array(mask)
        if m @ weights <= cap:
            best = max(best, int(m @ values))
    return best


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sense", [pulp.LpMaximize, pulp.LpMinimize])
def test_optimal_objective_matches_brute_force(solver, sense):
    rng = np.random.default_rng(7)
    for _ in range(3):
        v, w = rng.integers(1, 50, 12), rng.integers(1, 50, 12)
        cap = int(w.sum() // 3)
        info = solve(_knapsack(v, w, cap, sense), solver)
        expect = _brute(v, w, cap) * (1 if sense == pulp.LpMaximize else -1)
        assert info.status == OPTIMAL and info.has_solution
        assert info.objective == pytest.approx(expect)
        assert info.bound == pytest.approx(expect) and info.gap == 0
        assert info.solver.lower().startswith(solver[:3])


@pytest.mark.parametrize("solver", SOLVERS)
def test_infeasible_model(solver):
    prob = pulp.LpProblem("inf", pulp.LpMinimize)
    x = pulp.LpVariable("x", 0, 1, cat="Binary")
    prob += x
    prob += x >= 2
    info = solve(prob, solver)
    assert info.status == INFEASIBLE and not info.has_solution
    assert math.isnan(info.objective)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sense", [pulp.LpMaximize, pulp.LpMinimize])
def test_time_limit_returns_solution_with_a_valid_bound(solver, sense):
    """A hard multi-constraint knapsack stopped after 0.5 s: bound on the right side."""
    rng = np.random.default_rng(5)
    n, m = 200, 60
    prob = pulp.LpProblem("mkp", sense)
    x = [pulp.LpVariable(f"x{i}", cat="Binary") for i in range(n)]
    sign = 1 if sense == pulp.LpMaximize else -1
    prob += pulp.lpSum(sign * int(c) * xi for c, xi in zip(rng.integers(1, 100, n), x, strict=True))
    A = rng.integers(1, 100, (m, n))
    for r in range(m):
        prob += pulp.lpSum(int(a) * xi for a, xi in zip(A[r], x, strict=True)) <= int(A[r].sum() // 2)
    info = solve(prob, solver, time_limit=0.5)
    assert info.status in (OPTIMAL, FEASIBLE)
    assert math.isfinite(info.bound)
    if sense == pulp.LpMaximize:
        assert info.bound >= info.objective - 1e-6
    else:
        assert info.bound <= info.objective + 1e-6
    if info.status == FEASIBLE:
        assert info.gap > 0


def test_cbc_log_parsing():
    log = ("Version: 2.10.3\nResult - Stopped on time limit\n\nObjective value:   7043.0\n"
           "Upper bound:   7080.395\nGap:  -0.01\n")
    out = _parse_cbc_log(log)
    assert out == {"result": "Stopped on time limit", "objective": 7043.0, "bound": 7080.395,
                   "gap": -0.01, "version": "2.10.3"}


def test_bad_solver_options():
    with pytest.raises(GeoplanInputError, match="unknown solver"):
        make_solver("gurobi-please")
    with pytest.raises(GeoplanInputError, match="time_limit"):
        make_solver("cbc", time_limit=0)
    with pytest.raises(GeoplanInputError, match="gap"):
        make_solver("cbc", gap=1.5)
    assert DEFAULT_SOLVER in ("cbc", "highs")
    custom = pulp.PULP_CBC_CMD(msg=False)
    assert make_solver(custom) is custom


def test_plan_summary_is_json_friendly():
    import json
    info = solve(_knapsack([3, 4], [1, 1], 1, pulp.LpMaximize), "cbc")
    plan = Plan.from_solve("demo", info, selected=[1], existing=[], build_s=0.01,
                           covered_before=0.0, covered_after=4.0, total_demand=8.0)
    s = plan.summary()
    json.dumps(s)
    assert s["share_after"] == 0.5 and plan.n_new == 1 and plan.optimal
    with pytest.raises(ValueError, match="GIS front door"):
        plan.to_geodataframe()


def test_highs_solves_after_another_highs_run_in_the_process():
    """HiGHS keeps one thread scheduler per process; a user's earlier HiGHS run with
    another thread count used to make every later solve stop as "not solved".
    Run in a fresh interpreter: the scheduler is process-wide state."""
    import subprocess
    import sys

    code = (
        "import numpy as np, highspy, pulp\n"
        "from geoplan.optimize.solver import solve\n"
        "h = highspy.Highs(); h.setOptionValue('output_flag', False)\n"
        "h.addVars(2, np.zeros(2), np.ones(2)); h.run()\n"
        "prob = pulp.LpProblem('k', pulp.LpMaximize)\n"
        "x = [pulp.LpVariable(f'x{i}', cat='Binary') for i in range(3)]\n"
        "prob += 5 * x[0] + 4 * x[1] + 3 * x[2]\n"
        "prob += 2 * x[0] + 3 * x[1] + x[2] <= 3\n"
        "info = solve(prob, 'highs', threads=1)\n"
        "print(info.status, info.objective)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "optimal 8.0"


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_gap_stop_is_not_called_optimal(solver):
    """Stopped by a gap option (here 50 %) with a gap left: status says so."""
    prob = _mkp(120, 40)[0]
    info = solve(prob, solver, gap=0.5)
    assert (info.status == OPTIMAL) == (info.gap <= 1e-7)
    assert info.bound >= info.objective - 1e-6


def test_warm_start_reaches_highs():
    """Stopped almost at once, HiGHS still returns (at least) the start it was given
    (pulp hands starts to CBC itself; geoplan hands them to HiGHS)."""
    solver = "highs"
    n, m = 200, 60
    prob, x, c, A, cap = _mkp(n, m)
    sel, load = np.zeros(n), np.zeros(m)
    for i in np.argsort(-c):
        if np.all(load + A[:, i] <= cap):
            sel[i], load = 1.0, load + A[:, i]
    for xi, v in zip(x, sel, strict=True):
        xi.setInitialValue(float(v))
    info = solve(prob, solver, time_limit=0.01, warm_start=True)
    assert info.has_solution and info.objective >= c @ sel - 1e-6


def test_cbc_is_stopped_when_it_overruns_its_limit():
    """CBC ignores its limit inside the root LP of huge models; geoplan owns the CBC
    process and interrupts it at the deadline (here CBC has no limit of its own)."""
    import time

    from geoplan.optimize.solver import _cbc_path, _CbcRun

    prob = _mkp(300, 80)[0]
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        mps = f"{tmp}/m.mps"
        prob.writeMPS(mps, rename=1)
        run = _CbcRun([_cbc_path(), mps, "-max", "-solve"], echo=False)
        run.wait(time.perf_counter() + 0.3)
    assert run.interrupted and run.proc.poll() is not None       # stopped, and gone


def test_no_pulp_module_is_replaced_at_run_time():
    """geoplan never assigns to an attribute of pulp (thread-unsafe monkey-patching)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "geoplan"
    pat = re.compile(r"^\s*(pulp|coin_api|highs_api)(\.\w+)+\s*=[^=]", re.M)
    hits = [f"{f}: {m.group(0).strip()}" for f in root.rglob("*.py")
            for m in pat.finditer(f.read_text(encoding="utf-8"))]
    assert hits == []


@functools.cache
def _optimum(n: int, m: int, seed: int) -> float:
    """The proven optimum of ``_mkp(n, m, seed)``, by HiGHS without any limit."""
    info = solve(_mkp(n, m, seed=seed)[0], "highs")
    assert info.status == OPTIMAL
    return info.objective


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("gap", [0.02, 0.1, 0.3])
def test_gap_stop_against_the_true_optimum(solver, gap):
    """With a gap option the answer is "optimal" only if it is the optimum, and the
    bound is on the right side of the optimum (checked against an independent solve)."""
    for seed in range(3):
        prob = _mkp(80, 20, seed=seed)[0]
        opt = _optimum(80, 20, seed)
        info = solve(prob, solver, gap=gap)
        assert info.solver.lower().startswith(solver[:3])
        assert info.has_solution and info.objective <= opt + 1e-6
        if info.status == OPTIMAL:
            assert info.objective == pytest.approx(opt, rel=1e-9)
        else:
            assert info.status == FEASIBLE
            assert not math.isfinite(info.bound) or info.bound >= opt - 1e-6
            if math.isfinite(info.bound):
                assert info.gap == pytest.approx(abs(info.objective - info.bound)
                                                 / abs(info.objective))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("limit", [0.005, 0.05, 0.3])
def test_time_limit_against_the_true_optimum(solver, limit):
    """Time-limited: never "optimal" unless it is the optimum; bound never below it."""
    prob = _mkp(100, 20, seed=1)[0]
    opt = _optimum(100, 20, 1)
    # (how long the call takes is measured by benchmarks/bench_time_limits.py, not here)
    info = solve(prob, solver, time_limit=limit)
    if info.status == OPTIMAL:
        assert info.objective == pytest.approx(opt, rel=1e-9)
    elif info.has_solution:
        assert info.status == FEASIBLE and info.objective <= opt + 1e-6
        assert not math.isfinite(info.bound) or info.bound >= opt - 1e-6
    else:
        assert info.status == "not_solved"


def _solve_in_child(args):
    seed, solver = args
    prob = _mkp(60, 15, seed=seed)[0]
    info = solve(prob, solver)
    return info.status, info.objective


@pytest.mark.parametrize("solver", SOLVERS)
def test_parallel_solves_in_threads_and_processes(solver):
    """Two solves at once, in two threads and in two processes, each give the optimum
    of its own model (no shared state between solves)."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    seeds = [21, 22, 23, 24]
    expect = [_solve_in_child((s, "highs" if solver == "cbc" else "cbc")) for s in seeds]
    assert all(st == OPTIMAL for st, _ in expect)
    with ThreadPoolExecutor(2) as ex:
        got = list(ex.map(_solve_in_child, [(s, solver) for s in seeds]))
    assert got == [(OPTIMAL, pytest.approx(v)) for _, v in expect]
    import multiprocessing as mp
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as ex:
        got = list(ex.map(_solve_in_child, [(s, solver) for s in seeds]))
    assert got == [(OPTIMAL, pytest.approx(v)) for _, v in expect]


def test_solver_is_quiet_by_default(capfd):
    """No solver banner or log on stdout unless asked."""
    for solver in SOLVERS:
        solve(_knapsack([3, 4, 5], [1, 2, 3], 3, pulp.LpMaximize), solver)
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""
    solve(_knapsack([3, 4, 5], [1, 2, 3], 3, pulp.LpMaximize), "cbc", msg=True)
    assert "Result" in capfd.readouterr().out


def test_pulp_solver_object_options_are_applied():
    """A PuLP solver object's time limit is kept, and the keyword one too (tighter wins)."""
    from geoplan.optimize.solver import configure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        obj = pulp.PULP_CBC_CMD(msg=False, timeLimit=30, gapRel=0.1)
    cfg = configure(obj, time_limit=5)
    assert cfg.kind == "cbc" and cfg.time_limit == 5 and cfg.gap == 0.1
    assert configure(obj).time_limit == 30


def test_cbc_preprocessed_plan_is_only_a_checked_start(monkeypatch):
    """CBC's preprocessed run only supplies a start: a plan of it that breaks a
    constraint is thrown away, and its "optimal" never reaches the answer."""
    from geoplan.optimize import solver as S

    values, weights = [9, 7, 6, 5, 4, 3], [5, 4, 4, 3, 2, 2]
    best = _brute(np.array(values), np.array(weights), 9)
    real = S._cbc_run
    seen = []

    def fake(prob, model, cfg, warm_start, mip, *, preprocess):
        info = real(prob, model, cfg, warm_start, mip, preprocess=preprocess)
        seen.append(preprocess)
        if preprocess:                       # a broken plan claimed "optimal"
            for v in prob.variables():
                v.varValue = 1.0
            return replace(info, status=OPTIMAL, objective=float(sum(values)))
        return info

    monkeypatch.setattr(S, "_cbc_run", fake)
    prob = _knapsack(values, weights, 9, pulp.LpMaximize)
    info = solve(prob, "cbc")
    assert seen == [True, False]                    # proof from the unpreprocessed run
    assert info.status == OPTIMAL and info.objective == pytest.approx(best)
    for v in prob.variables():
        v.varValue = 1.0
    assert not S._plan_is_feasible(prob, prob.variables())


def _fake_cbc(tmp_path, body: str) -> str:
    path = tmp_path / "cbc"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.skipif(not hasattr(__import__("os"), "kill") or __import__("os").name == "nt",
                    reason="POSIX signals")
def test_a_crashing_cbc_is_answered_by_highs_and_said_so(tmp_path):
    """A CBC that dies of a signal: the model is solved by HiGHS, and the solver string
    says CBC crashed."""
    exe = _fake_cbc(tmp_path, 'echo "Welcome to the CBC MILP Solver"; kill -SEGV $$')
    values, weights = [9, 7, 6, 5, 4, 3], [5, 4, 4, 3, 2, 2]
    prob = _knapsack(values, weights, 9, pulp.LpMaximize)
    info = solve(prob, pulp.COIN_CMD(path=exe, msg=False))
    assert info.status == OPTIMAL
    assert info.objective == pytest.approx(_brute(np.array(values), np.array(weights), 9))
    assert "HiGHS" in info.solver and "CBC crashed" in info.solver


def test_a_cbc_that_ignores_its_limit_is_stopped(tmp_path):
    """A CBC that never ends (here: sleeps) is stopped at the deadline: the answer comes
    within the limit plus the watchdog's grace, with no plan and no false status."""
    done = tmp_path / "cbc_finished"
    # trap nothing: SIGINT/SIGKILL end the script before it can mark itself finished
    exe = _fake_cbc(tmp_path, f"sleep 30; touch {done}")
    prob = _knapsack([3, 2], [1, 1], 1, pulp.LpMaximize)
    info = solve(prob, pulp.COIN_CMD(path=exe, msg=False), time_limit=1.0)
    assert not done.exists()                    # stopped, not waited for
    assert info.status not in (OPTIMAL, INFEASIBLE)


def test_highs_values_are_checked_against_its_objective():
    """HiGHS 1.16 given a MIP start on this set-covering model (a p-center subproblem of
    tests/test_opt_stress.py, 300 rows x 66 sites, sites 43 and 63 open) answered
    "optimal, 18" with the values of the 22-site start; the optimum is 21. geoplan
    checks the values against the objective and solves again without the start."""
    from pathlib import Path

    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    from geoplan.optimize.covering import set_covering
    from geoplan.optimize.heuristics import greedy_set_covering
    from geoplan.optimize.reduce import reduce_covering

    C = sparse.load_npz(Path(__file__).parent / "data" / "highs_start_set_covering.npz")
    C = C.astype(float).tocsr()
    ex = np.array([43, 63])
    # independent optimum: the plain model (no reduction, no start) with scipy's milp
    covered = np.asarray(C[:, ex].sum(axis=1)).ravel() > 0
    rows = np.flatnonzero(~covered & (np.diff(C.indptr) > 0))
    cand = np.setdiff1d(np.arange(C.shape[1]), ex)
    ref = milp(np.ones(cand.size), constraints=LinearConstraint(C[rows][:, cand], lb=1),
               integrality=np.ones(cand.size), bounds=Bounds(0, 1))
    assert ref.status == 0
    for solver in SOLVERS:
        plan = set_covering(C, None, existing=ex, solver=solver)
        assert plan.status == OPTIMAL
        assert plan.objective == pytest.approx(ref.fun) == plan.n_new, solver
    # the solver layer itself: the returned values are a plan of the returned objective
    inst = reduce_covering(C, np.ones(C.shape[0]), ex, None, None)
    prob = pulp.LpProblem("sc", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(inst.A.shape[1])]
    prob += pulp.lpSum(x)
    for i in range(inst.A.shape[0]):
        prob += pulp.lpSum(x[j] for j in inst.A.indices[inst.A.indptr[i]:inst.A.indptr[i + 1]]) >= 1
    start = set(greedy_set_covering(inst, None))
    for j, v in enumerate(x):
        v.setInitialValue(1.0 if j in start else 0.0)
    info = solve(prob, "highs", warm_start=True)
    assert info.objective == pytest.approx(sum(v.varValue for v in x))
    assert info.objective == pytest.approx(ref.fun) and info.status == OPTIMAL

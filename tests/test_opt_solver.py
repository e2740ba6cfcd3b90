"""The solver wrapper: status, objective, bound and gap read back the same for CBC and HiGHS."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pulp
import pytest

from geoplan import GeoplanInputError
from geoplan.optimize.plan import Plan
from geoplan.optimize.solver import (DEFAULT_SOLVER, FEASIBLE, INFEASIBLE, OPTIMAL,
                                     _parse_cbc_log, make_solver, solve)

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
    """CBC ignores its limit inside the root LP of huge models; the watchdog stops it.
    Here the watchdog (0.3 s) fires long before CBC would finish a hard knapsack."""
    import time

    from geoplan.optimize.solver import _cbc_deadline

    prob = _mkp(300, 80)[0]
    t = time.perf_counter()
    with _cbc_deadline(0.3, grace=0.5) as dog:
        try:
            prob.solve(pulp.PULP_CBC_CMD(msg=False))
        except pulp.PulpSolverError:
            pass                      # killed without a solution: also a clean stop
    assert dog.fired and time.perf_counter() - t < 15
    from pulp.apis import coin_api
    import subprocess
    assert coin_api.subprocess is subprocess     # the real module is back

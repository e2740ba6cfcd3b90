"""Covering models against spopt's San Francisco optima and a brute-force oracle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import load_sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

from geoplan import GeoplanInputError
from geoplan.optimize.covering import max_covering, set_covering
from geoplan.optimize.reduce import check_covering_inputs, reduce_covering

SOLVERS = ["cbc", "highs"]


@pytest.fixture(scope="module")
def sf():
    return load_sf()


@pytest.mark.parametrize("solver", SOLVERS)
def test_sf_set_covering_needs_8_sites(sf, solver):
    dist, _, _ = sf
    plan = set_covering(dist <= 5000, None, solver=solver)
    assert plan.optimal and plan.objective == pytest.approx(8) and plan.n_new == 8
    assert plan.share_after == pytest.approx(1.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_sf_max_covering_p4(sf, solver):
    dist, pop, _ = sf
    C = dist <= 5000
    plan = max_covering(C, pop, p=4, solver=solver)
    assert plan.optimal
    assert plan.objective == pytest.approx(875_247)
    assert plan.covered_after == pytest.approx(875_247)
    uncovered_tracts = int((~C[:, plan.selected].any(axis=1)).sum())
    assert uncovered_tracts == 21


def _brute_min_sites(C, w, ex, costs, share, unit=None, unit_share=None):
    m = C.shape[1]
    cand = [j for j in range(m) if j not in set(ex)]
    best = None
    for r in range(len(cand) + 1):
        for S in itertools.combinations(cand, r):
            cov = C[:, list(ex) + list(S)].any(axis=1)
            ok = w @ cov >= share * w.sum() - 1e-9
            if unit is not None and unit_share is not None:
                for u in np.unique(unit):
                    m_u = unit == u
                    ok &= w[m_u] @ cov[m_u] >= unit_share * w[m_u].sum() - 1e-9
            if ok:
                cost = sum(costs[j] for j in S) if costs is not None else len(S)
                best = cost if best is None else min(best, cost)
    return best


def _brute_max_cover(C, w, ex, p, costs=None, budget=None):
    m = C.shape[1]
    cand = [j for j in range(m) if j not in set(ex)]
    best = 0.0
    for r in range(0, (p if p is not None else len(cand)) + 1):
        for S in itertools.combinations(cand, r):
            if budget is not None and sum(costs[j] for j in S) > budget + 1e-9:
                continue
            best = max(best, float(w @ C[:, list(ex) + list(S)].any(axis=1)))
    return best


instances = st.builds(
    lambda seed, n, m, dens: (np.random.default_rng(seed), n, m, dens),
    st.integers(0, 10**6), st.integers(1, 14), st.integers(1, 7), st.floats(0.1, 0.6))


@settings(max_examples=80, deadline=None)
@given(instances, st.sampled_from([1.0, 0.9, 0.6]), st.booleans(), st.booleans())
def test_set_covering_matches_brute_force(inst, share, with_costs, with_units):
    rng, n, m, dens = inst
    C = rng.random((n, m)) < dens
    w = rng.integers(0, 20, n).astype(float)
    ex = sorted(rng.choice(m, size=rng.integers(0, min(2, m) + 1), replace=False).tolist())
    costs = rng.integers(1, 9, m).astype(float) if with_costs else None
    unit = rng.integers(0, 2, n) if with_units else None
    ushare = 0.5 if with_units else None
    expect = _brute_min_sites(C, w, ex, costs, share, unit, ushare)
    plan = set_covering(C, w, existing=ex, costs=costs, target_share=share,
                        unit=unit, unit_min_share=ushare, solver="cbc")
    if expect is None:
        assert plan.status == "infeasible" and plan.explanation is not None
        assert plan.explanation.max_share < share + 1e-9 or not plan.explanation.units[
            "meets"].all()
    else:
        assert plan.optimal, plan
        assert plan.objective == pytest.approx(expect)
        assert plan.covered_after >= share * w.sum() - 1e-6
        assert not set(plan.selected) & set(ex)


@settings(max_examples=80, deadline=None)
@given(instances, st.integers(0, 3), st.booleans())
def test_max_covering_matches_brute_force(inst, p, with_budget):
    rng, n, m, dens = inst
    C = rng.random((n, m)) < dens
    w = rng.integers(0, 20, n).astype(float)
    ex = sorted(rng.choice(m, size=rng.integers(0, min(2, m) + 1), replace=False).tolist())
    costs = rng.integers(1, 9, m).astype(float)
    budget = float(rng.integers(0, 15)) if with_budget else None
    expect = _brute_max_cover(C, w, ex, p, costs, budget)
    plan = max_covering(C, w, p=p, existing=ex, costs=costs if with_budget else None,
                        budget=budget, solver="cbc")
    assert plan.optimal
    assert plan.objective == pytest.approx(expect)
    assert plan.covered_after == pytest.approx(expect)
    assert plan.n_new <= p


def compact_max_covering_optimum(C, w, p, existing=()) -> float:
    """The optimum of the plain maximal covering MILP (no reduction, no pipeline),
    proven by HiGHS without limits: an oracle independent of geoplan's steps."""
    import pulp

    from geoplan.optimize.solver import solve
    C = sparse.csr_matrix(C)
    n, m = C.shape
    prob = pulp.LpProblem("oracle", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(m)]
    y = [pulp.LpVariable(f"y{i}", 0, 1) for i in range(n)]
    prob += pulp.lpSum(float(w[i]) * y[i] for i in range(n))
    for i in range(n):
        prob += y[i] <= pulp.lpSum(x[j] for j in C.indices[C.indptr[i]:C.indptr[i + 1]])
    for j in existing:
        prob += x[j] == 1
    prob += pulp.lpSum(x[j] for j in range(m) if j not in set(existing)) <= p
    info = solve(prob, "highs")
    assert info.status == "optimal"
    return info.objective


@pytest.mark.parametrize("solver", SOLVERS)
def test_each_solver_proves_the_optimum_through_its_milp(solver):
    """A spatial instance (radius coverage of random points) that the LP bound alone
    does not prove: the named solver runs the MILP step and reaches the optimum of an
    independent formulation."""
    rng = np.random.default_rng(12)
    demand, sites = rng.random((1500, 2)), rng.random((50, 2))
    d = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    C = sparse.csr_matrix(d < 0.18)
    w = rng.integers(1, 100, 1500).astype(float)
    plan = max_covering(C, w, p=5, existing=[0, 1], solver=solver)
    assert plan.solver.lower().startswith(solver[:3]), plan.solver     # the MILP ran
    assert plan.optimal
    assert plan.objective == pytest.approx(compact_max_covering_optimum(C, w, 5, [0, 1]))


def test_reduction_merges_identical_rows_and_drops_dominated_columns():
    C = np.array([[1, 1, 0, 0],
                  [1, 1, 0, 0],       # same set as row 0 -> merged
                  [0, 1, 0, 0],
                  [0, 0, 0, 1],       # covered by existing column 3 -> constant
                  [0, 0, 0, 0]],      # reachable by nobody
                 bool)
    Cs, w, ex, c, _ = check_covering_inputs(C, [1, 2, 3, 4, 5], [3], None)
    inst = reduce_covering(Cs, w, ex)
    # column 0 covers rows {0,1} within column 1's {0,1,2}: dominated; column 2 empty
    assert list(inst.cols) == [1]
    assert inst.A.shape == (2, 1) and sorted(inst.w) == [3.0, 3.0]
    assert inst.reduction.demand_out == 2 and inst.reduction.candidates_out == 1
    assert list(inst.covered_fixed) == [False, False, False, True, False]
    assert list(inst.coverable) == [True, True, True, True, False]
    # a cheaper subset column is kept when costs differ
    inst2 = reduce_covering(Cs, w, ex, np.array([1.0, 5.0, 1.0, 0.0]))
    assert list(inst2.cols) == [0, 1]


def test_infeasible_target_is_explained():
    C = np.array([[1, 0], [0, 1], [0, 0], [0, 0]], bool)
    w = np.array([10.0, 10.0, 5.0, 75.0])
    unit = np.array(["A", "A", "B", "B"])
    plan = set_covering(C, w, target_share=0.5, unit=unit, unit_min_share=0.4)
    assert plan.status == "infeasible"
    e = plan.explanation
    assert e.max_share == pytest.approx(0.2) and e.unreachable_population == pytest.approx(80)
    row_b = e.units.set_index("unit").loc["B"]
    assert not row_b["meets"] and row_b["max_share"] == 0
    assert "20.0%" in e.message() and "20.0%" in e.message("zh")


@pytest.mark.parametrize("kwargs,field", [
    ({"weights": [1, 2]}, "weights"),
    ({"weights": [1, -1, 1]}, "weights"),
    ({"existing": [5]}, "existing"),
    ({"p": -1}, "p"),
    ({"budget": 3.0}, "costs"),
    ({}, "p"),
])
def test_bad_inputs(kwargs, field):
    C = np.eye(3, dtype=bool)
    args = {"weights": [1, 1, 1], **kwargs}
    with pytest.raises(GeoplanInputError) as e:
        max_covering(C, **args)
    assert e.value.field == field


@pytest.mark.parametrize("solver", SOLVERS)
def test_share_target_regression_cbc_preprocessing(solver):
    """Hypothesis found CBC 2.10 answering 11 'optimal' where 9 is (continuous y rows and
    CBC's preprocessing); the covering indicators are binary now."""
    C = np.array([[1, 0, 0, 1, 0, 0, 0],
                  [0, 0, 1, 1, 0, 0, 1],
                  [0, 0, 1, 0, 1, 0, 1],
                  [0, 0, 0, 0, 0, 1, 0],
                  [0, 0, 0, 0, 0, 0, 0]], bool)
    w = np.array([12.0, 9.0, 11.0, 3.0, 2.0])
    costs = np.array([8.0, 4.0, 7.0, 2.0, 2.0, 5.0, 4.0])
    assert _brute_min_sites(C, w, [], costs, 0.9) == 9
    plan = set_covering(C, w, costs=costs, target_share=0.9, solver=solver)
    assert plan.optimal and plan.objective == pytest.approx(9.0)
    assert sorted(plan.selected.tolist()) == [3, 4, 5]


def _targets_met(C, w, ex, cols, share, unit=None, unit_share=None) -> bool:
    cov = C[:, list(ex) + list(cols)].any(axis=1)
    ok = w @ cov >= share * w.sum() - 1e-9
    if unit is not None and unit_share is not None:
        for u in np.unique(unit):
            m_u = unit == u
            ok &= w[m_u] @ cov[m_u] >= unit_share * w[m_u].sum() - 1e-9
    return bool(ok)


@settings(max_examples=120, deadline=None)
@given(instances, st.sampled_from([1.0, 0.9, 0.6]), st.booleans(), st.booleans())
def test_greedy_set_covering_start_is_feasible_and_irredundant(inst, share, with_costs,
                                                               with_units):
    """The greedy start meets every target and no site of it can be dropped."""
    from geoplan.optimize.heuristics import greedy_set_covering

    rng, n, m, dens = inst
    C = rng.random((n, m)) < dens
    w = rng.integers(0, 20, n).astype(float)
    ex = sorted(rng.choice(m, size=rng.integers(0, min(2, m) + 1), replace=False).tolist())
    costs = rng.integers(1, 9, m).astype(float) if with_costs else None
    unit = rng.integers(0, 2, n) if with_units else None
    ushare = 0.5 if with_units else None
    if _brute_min_sites(C, w, ex, costs, share, unit, ushare) is None:
        return                                   # infeasible: explained before any start
    Cs = sparse.csr_matrix(C.astype(float))
    W = float(w.sum())
    full = share >= 1.0 and ushare is None
    inst_ = reduce_covering(Cs, w, np.asarray(ex, np.intp),
                            None if costs is None else costs,
                            None if ushare is None else unit.astype(object))
    if full:
        need, unit_need = None, None
    else:
        need = share * W - float(w[inst_.covered_fixed].sum())
        unit_need = None if ushare is None else {
            str(k): ushare * float(w[unit == k].sum())
            - float(w[(unit == k) & inst_.covered_fixed].sum()) for k in np.unique(unit)}
    start = greedy_set_covering(inst_, need, unit_need)
    assert start is not None
    cols = inst_.cols[start].tolist()
    assert _targets_met(C, w, ex, cols, share if not full else 1.0, unit, ushare) or (
        full and (C[:, list(ex) + cols].any(axis=1) | ~C.any(axis=1)).all())
    for j in cols:                                   # irredundant
        rest = [c for c in cols if c != j]
        if full:
            assert not (C[:, list(ex) + rest].any(axis=1) | ~C.any(axis=1)).all()
        else:
            assert not _targets_met(C, w, ex, rest, share, unit, ushare)


def test_time_limited_set_covering_without_a_solver_plan_returns_the_greedy_start(
        monkeypatch):
    """A solver stopped with no plan (or a worse one) still leaves a feasible plan: the
    greedy start, status time_limit, with the solver's bound kept when it is valid."""
    from geoplan.optimize import covering as cov
    from geoplan.optimize.solver import NOT_SOLVED, SolveInfo

    rng = np.random.default_rng(4)
    C = rng.random((60, 12)) < 0.25
    w = rng.integers(1, 20, 60).astype(float)
    C[~C.any(axis=1), 0] = True
    best = _brute_min_sites(C, w, [], None, 1.0)
    for answer in (SolveInfo(NOT_SOLVED, float("nan"), 1.0, float("nan"), "X", 0.1),
                   SolveInfo("time_limit", 99.0, 2.0, 0.9, "X", 0.1)):
        monkeypatch.setattr(cov, "solve", lambda *a, _r=answer, **k: _r)
        plan = set_covering(C, w)
        assert plan.status == "time_limit" and "greedy start" in plan.solver
        assert best <= plan.objective < 99
        assert _targets_met(C, w, [], plan.selected.tolist(), 1.0)
        assert plan.bound == pytest.approx(answer.bound) and plan.bound <= best


@settings(max_examples=80, deadline=None)
@given(instances, st.sampled_from([1.0, 0.9, 0.6, 0.2]), st.booleans())
def test_counting_bound_never_exceeds_the_optimum(inst, share, with_costs):
    """The bound a stopped set covering falls back on is a lower bound (brute force)."""
    from geoplan.optimize.covering import _cover_floor
    rng, n, m, dens = inst
    C = rng.random((n, m)) < dens
    w = rng.integers(1, 20, n).astype(float)
    ex = sorted(rng.choice(m, size=rng.integers(0, min(2, m) + 1), replace=False).tolist())
    costs = rng.integers(1, 9, m).astype(float) if with_costs else None
    expect = _brute_min_sites(C, w, ex, costs, share)
    if expect is None:
        return
    r = reduce_covering(sparse.csr_matrix(C), w, np.asarray(ex, np.intp), costs, None)
    need = None if share >= 1.0 else share * w.sum() - float(w[r.covered_fixed].sum())
    assert _cover_floor(r, need) <= expect + 1e-9


def test_a_stopped_set_covering_reports_a_bound():
    """A solve stopped with a plan and no bound gets the counting bound, and a plan that
    meets it is proven optimal by it."""
    from geoplan.optimize.covering import _with_floor
    from geoplan.optimize.solver import SolveInfo
    stopped = SolveInfo("time_limit", 5.0, float("nan"), float("nan"), "CBC", 1.0)
    out = _with_floor(stopped, 3.0)
    assert out.status == "time_limit" and out.bound == 3.0
    assert out.gap == pytest.approx(0.4) and "counting bound" in out.solver
    met = _with_floor(stopped, 5.0)
    assert met.status == "optimal" and met.bound == 5.0 and met.gap == 0.0
    better = SolveInfo("time_limit", 5.0, 4.0, 0.2, "CBC", 1.0)
    assert _with_floor(better, 3.0) == better          # a stronger bound is kept


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inst=instances, share=st.sampled_from([1.0, 0.8]), with_costs=st.booleans())
def test_a_limit_spent_before_the_milp_returns_the_greedy_plan(inst, share, with_costs,
                                                               monkeypatch):
    """When reduction and greedy use up the time limit, no MILP is built: the greedy
    plan comes back with the counting bound, both checked against brute force."""
    from geoplan.optimize import covering
    rng, n, m, dens = inst
    C = rng.random((n, m)) < dens
    w = rng.integers(1, 20, n).astype(float)
    costs = rng.integers(1, 9, m).astype(float) if with_costs else None
    expect = _brute_min_sites(C, w, [], costs, share)
    monkeypatch.setattr(covering, "time_left", lambda limit, t0: 0.0)
    plan = set_covering(C, w, costs=costs, target_share=share, time_limit=10.0)
    if expect is None:
        assert plan.status == "infeasible"
        return
    assert plan.status in ("optimal", "time_limit"), plan
    if plan.solver != "(not run: nothing left to decide after reduction)":
        assert plan.solver.startswith("greedy"), plan.solver
    assert plan.bound <= expect + 1e-9 <= plan.objective + 2e-9
    cov = C[:, plan.selected].any(axis=1) if plan.n_new else np.zeros(n, bool)
    assert w @ cov >= share * w.sum() - 1e-6
    cost = costs[plan.selected].sum() if costs is not None else plan.n_new
    assert plan.objective == pytest.approx(cost)

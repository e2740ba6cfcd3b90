"""Maximal covering speed-ups stay exact: local search, LP bound, reduced-cost fixing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geoplan.optimize.covering import max_covering
from geoplan.optimize.heuristics import covered_weight, greedy_max_covering, improve_max_covering
from geoplan.optimize.lp_fixing import fix_by_probing, fix_by_reduced_cost, max_covering_lp
from geoplan.optimize.reduce import reduce_covering


def _instance(seed: int, n: int, m: int, dens: float, integral: bool):
    rng = np.random.default_rng(seed)
    C = sparse.csr_matrix(rng.random((n, m)) < dens)
    w = rng.integers(0, 30, n).astype(float) if integral else rng.random(n) * 30
    costs = rng.integers(1, 6, m).astype(float)
    return C, w, costs


def _all_plans(m: int, p: int | None, costs, budget):
    for r in range(0, m + 1 if p is None else min(p, m) + 1):
        for S in itertools.combinations(range(m), r):
            if budget is None or costs[list(S)].sum() <= budget + 1e-9:
                yield list(S)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 9), st.integers(1, 3), st.booleans(),
       st.booleans())
def test_fixing_never_removes_a_better_plan(seed, m, p, integral, with_budget):
    """Every plan better than the incumbent avoids the closed sites (reduced cost and
    probing) and opens the fixed ones."""
    C, w, costs = _instance(seed, 25, m, 0.25, integral)
    inst = reduce_covering(C, w, np.array([], np.intp), costs)
    k = inst.A.shape[1]
    if k == 0:
        return
    budget = float(costs.sum() / 3) if with_budget else None
    pp = None if with_budget else p
    start = greedy_max_covering(inst, p=pp, budget=budget)
    A = inst.A.tocsc()
    inc = covered_weight(A, inst.w, start)
    lp = max_covering_lp(inst.A, inst.w, inst.costs, p=pp, budget=budget)
    assert lp is not None
    closed, opened = fix_by_reduced_cost(lp, inc, integral=integral)
    by_cost = closed.copy()
    closed = fix_by_probing(lp, inc, closed, integral=integral, seconds=None)
    assert (closed >= by_cost).all()
    margin = 1.0 - 1e-6 if integral else 1e-9
    for S in _all_plans(k, pp, inst.costs, budget):
        v = covered_weight(A, inst.w, S)
        assert v <= lp.value + 1e-6                      # the LP bounds every plan
        if v >= inc + margin:
            assert not closed[S].any(), (S, v, inc)
            assert set(np.nonzero(opened)[0]) <= set(S)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 30), st.integers(1, 5), st.booleans())
def test_local_search_keeps_limits_and_never_worsens(seed, m, p, with_budget):
    C, w, costs = _instance(seed, 200, m, 0.1, True)
    inst = reduce_covering(C, w, np.array([], np.intp), costs)
    if inst.A.shape[1] == 0:
        return
    budget = float(costs.sum() / 4) if with_budget else None
    pp = None if with_budget else p
    start = greedy_max_covering(inst, p=pp, budget=budget)
    best = improve_max_covering(inst, start, p=pp, budget=budget, seconds=0.2)
    A = inst.A.tocsc()
    assert covered_weight(A, inst.w, best) >= covered_weight(A, inst.w, start)
    assert len(set(best)) == len(best)
    if pp is not None:
        assert len(best) <= pp
    if budget is not None:
        assert inst.costs[best].sum() <= budget + 1e-9


def test_local_search_finds_what_greedy_misses():
    """The textbook trap: greedy takes the big middle site, the two others cover more."""
    # rows r0..r3; site 0 covers r0, r1; site 1 covers r0, r2; site 2 covers r1, r3
    C = sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1]], bool))
    w = np.array([6.0, 6.0, 5.0, 5.0])
    inst = reduce_covering(C, w, np.array([], np.intp), None)
    A = inst.A.tocsc()
    g = greedy_max_covering(inst, p=2, budget=None)
    assert covered_weight(A, inst.w, g) == pytest.approx(17.0)
    best = improve_max_covering(inst, g, p=2, budget=None, seconds=0.1)
    assert covered_weight(A, inst.w, best) == pytest.approx(22.0)


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_time_limited_plan_has_an_honest_bound(solver):
    """Stopped early: the plan is feasible and the bound is above the true optimum."""
    rng = np.random.default_rng(11)
    demand, sites = rng.random((4000, 2)), rng.random((150, 2))
    d = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    C = sparse.csr_matrix(d < 0.2)
    w = rng.integers(1, 100, 4000).astype(float)
    from test_opt_covering import compact_max_covering_optimum
    opt = compact_max_covering_optimum(C, w, 6)
    for limit in (0.05, 0.3, 1.0):
        quick = max_covering(C, w, p=6, solver=solver, time_limit=limit)
        assert quick.status in ("optimal", "time_limit") and quick.n_new <= 6
        cov = np.asarray(C[:, quick.selected].sum(axis=1)).ravel() > 0
        assert quick.objective == pytest.approx(float(w[cov].sum()))
        assert quick.objective <= opt + 1e-6
        if quick.status == "optimal":
            assert quick.objective == pytest.approx(opt)
        else:
            assert quick.gap > 0
            assert not np.isfinite(quick.bound) or quick.bound >= opt - 1e-6

"""Site rules (force_open, force_closed, max_new_per_unit) in the covering models and
the p-center, each checked against a brute force over every plan that obeys them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geoplan import GeoplanInputError
from geoplan.optimize import max_covering, p_center, set_covering
from geoplan.optimize.tradeoff import tradeoff_curve

SOLVERS = ["cbc", "highs"]


def _instance(seed: int, n: int = 30, m: int = 9, dens: float = 0.25):
    rng = np.random.default_rng(seed)
    C = sparse.csr_matrix(rng.random((n, m)) < dens)
    w = rng.integers(1, 40, n).astype(float)
    unit = np.array([f"u{j % 3}" for j in range(m)], dtype=object)
    costs = rng.integers(1, 5, m).astype(float)
    return C, w, unit, costs


def _rules(seed: int, m: int, existing: list[int]):
    rng = np.random.default_rng(seed + 1)
    cand = [j for j in range(m) if j not in existing]
    rng.shuffle(cand)
    return sorted(cand[:1]), sorted(cand[1:3])          # force_open, force_closed


def _plans(m, existing, fo, fc, cap, unit, p=None, costs=None, budget=None):
    """Every set of new sites obeying the rules (and p / budget)."""
    cand = [j for j in range(m) if j not in existing and j not in fc and j not in fo]
    top = len(cand) if p is None else p - len(fo)
    for r in range(0, max(top, -1) + 1):
        for extra in itertools.combinations(cand, r):
            S = sorted(fo + list(extra))
            if cap is not None:
                counts = {}
                for j in S:
                    counts[unit[j]] = counts.get(unit[j], 0) + 1
                if any(v > cap for v in counts.values()):
                    continue
            if budget is not None and costs[S].sum() > budget + 1e-9:
                continue
            yield S


def _covered(C, cols):
    if not cols:
        return np.zeros(C.shape[0], bool)
    return np.asarray(C[:, cols].sum(axis=1)).ravel() > 0


@pytest.mark.parametrize("solver", SOLVERS)
@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 4), cap=st.sampled_from([None, 1, 2]),
       with_budget=st.booleans())
def test_max_covering_obeys_rules_and_is_optimal(solver, seed, p, cap, with_budget):
    C, w, unit, costs = _instance(seed)
    m = C.shape[1]
    ex = [0]
    fo, fc = _rules(seed, m, ex)
    budget = float(costs.sum() / 2) if with_budget else None
    best = max(float(w[_covered(C, ex + S)].sum())
               for S in _plans(m, ex, fo, fc, cap, unit, p=p, costs=costs, budget=budget))
    plan = max_covering(C, w, p=p, existing=ex, force_open=fo, force_closed=fc,
                        max_new_per_unit=cap, site_unit=unit, solver=solver,
                        costs=costs if with_budget else None, budget=budget)
    sel = plan.selected.tolist()
    assert plan.status == "optimal", plan
    assert plan.objective == pytest.approx(best)
    assert set(fo) <= set(sel) and not set(fc) & set(sel)
    assert len(sel) <= p
    if cap is not None:
        assert max(np.unique(unit[sel], return_counts=True)[1], default=0) <= cap
    assert plan.covered_after == pytest.approx(float(w[_covered(C, ex + sel)].sum()))


@pytest.mark.parametrize("solver", SOLVERS)
@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), share=st.sampled_from([0.5, 0.8, 1.0]),
       cap=st.sampled_from([None, 1, 2]))
def test_set_covering_obeys_rules_and_is_optimal(solver, seed, share, cap):
    C, w, unit, costs = _instance(seed, dens=0.35)
    m = C.shape[1]
    fo, fc = _rules(seed, m, [])
    need = share * w.sum() - 1e-9
    feas = [float(costs[S].sum()) for S in _plans(m, [], fo, fc, cap, unit)
            if w[_covered(C, S)].sum() >= need]
    plan = set_covering(C, w, costs=costs, target_share=share, force_open=fo,
                        force_closed=fc, max_new_per_unit=cap, site_unit=unit, solver=solver)
    if not feas:
        assert plan.status == "infeasible"
        return
    assert plan.status == "optimal", plan
    assert plan.objective == pytest.approx(min(feas))
    sel = plan.selected.tolist()
    assert set(fo) <= set(sel) and not set(fc) & set(sel)
    assert float(costs[sel].sum()) == pytest.approx(plan.objective)
    assert w[_covered(C, sel)].sum() >= need


def test_tradeoff_curve_with_rules_matches_brute_force():
    C, w, unit, _ = _instance(3)
    m = C.shape[1]
    fo, fc = [2], [5, 7]
    curve, plans = tradeoff_curve(C, w, 4, force_open=fo, force_closed=fc,
                                  max_new_per_unit=2, site_unit=unit)
    assert curve.loc[0, "status"] == "infeasible"           # p = 0 < one forced site
    for p in range(1, 5):
        best = max(float(w[_covered(C, S)].sum())
                   for S in _plans(m, [], fo, fc, 2, unit, p=p))
        assert plans[p].status == "optimal"
        assert plans[p].covered_after == pytest.approx(best)
        assert 2 in plans[p].selected and not {5, 7} & set(plans[p].selected.tolist())


@pytest.mark.parametrize("solver", SOLVERS)
def test_p_center_obeys_rules(solver):
    rng = np.random.default_rng(4)
    D = rng.random((25, 8)) * 30
    unit = np.array(["a", "a", "a", "a", "b", "b", "b", "b"], dtype=object)
    fo, fc = [1], [6]
    best = min(max(D[:, S].min(axis=1)) for S in _plans(8, [], fo, fc, 2, unit, p=3))
    plan = p_center(D, 3, force_open=fo, force_closed=fc, max_new_per_unit=2,
                    site_unit=unit, solver=solver)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(best)
    sel = plan.selected.tolist()
    assert 1 in sel and 6 not in sel and len(sel) <= 3


def test_bad_rules_fail_cleanly():
    C, w, unit, costs = _instance(1)
    with pytest.raises(GeoplanInputError, match="existing"):
        max_covering(C, w, p=2, existing=[0], force_open=[0])
    with pytest.raises(GeoplanInputError, match="both forced open and forced closed"):
        max_covering(C, w, p=2, force_open=[1], force_closed=[1])
    with pytest.raises(GeoplanInputError, match="outside"):
        max_covering(C, w, p=2, force_closed=[99])
    with pytest.raises(GeoplanInputError, match="force_open opens 3 sites but p = 2"):
        max_covering(C, w, p=2, force_open=[1, 2, 3])
    with pytest.raises(GeoplanInputError, match="needs the admin unit"):
        max_covering(C, w, p=2, max_new_per_unit=1)
    with pytest.raises(GeoplanInputError, match="max_new_per_unit allows 1"):
        set_covering(C, w, force_open=[0, 3], max_new_per_unit=1, site_unit=unit)
    with pytest.raises(GeoplanInputError, match="whole number"):
        set_covering(C, w, max_new_per_unit=-1, site_unit=unit)
    with pytest.raises(GeoplanInputError, match="more than the budget"):
        max_covering(C, w, budget=1.0, costs=np.full(C.shape[1], 5.0), force_open=[1])


def _compact_max_covering(C, w, p, fo, fc, cap, unit) -> float:
    """The plain MILP with the rules written out, solved by HiGHS with no reduction."""
    import pulp

    from geoplan.optimize.solver import solve
    n, m = C.shape
    prob = pulp.LpProblem("check", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(m)]
    y = [pulp.LpVariable(f"y{i}", 0, 1) for i in range(n)]
    prob += pulp.lpSum(float(w[i]) * y[i] for i in range(n))
    Cc = C.tocsr()
    for i in range(n):
        prob += y[i] <= pulp.lpSum(x[j] for j in Cc.indices[Cc.indptr[i]:Cc.indptr[i + 1]])
    prob += pulp.lpSum(x) <= p
    for j in fo:
        prob += x[j] == 1
    for j in fc:
        prob += x[j] == 0
    for u in set(unit.tolist()):
        prob += pulp.lpSum(x[j] for j in range(m) if unit[j] == u) <= cap
    info = solve(prob, "highs")
    assert info.status == "optimal"
    return info.objective


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_covering_rules_through_the_milp_step(solver):
    """An instance the LP bound does not prove: fixing and the MILP run with the caps."""
    rng = np.random.default_rng(12)
    n, m = 800, 40
    pts, sites = rng.random((n, 2)), rng.random((m, 2))
    C = sparse.csr_matrix(np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
                          < 0.2)
    w = rng.integers(1, 100, n).astype(float)
    unit = np.array([f"u{int(s[0] * 2)}{int(s[1] * 2)}" for s in sites], dtype=object)
    fo, fc = [3], [5, 8]
    opt = _compact_max_covering(C, w, 6, fo, fc, 2, unit)
    plan = max_covering(C, w, p=6, force_open=fo, force_closed=fc, max_new_per_unit=2,
                        site_unit=unit, solver=solver)
    assert plan.status == "optimal" and plan.objective == pytest.approx(opt)
    assert plan.solver.lower().startswith(solver[:3])            # the MILP step ran
    sel = plan.selected.tolist()
    assert 3 in sel and not {5, 8} & set(sel)
    assert max(np.unique(unit[sel], return_counts=True)[1]) <= 2


@pytest.mark.parametrize("solver", SOLVERS)
def test_p_median_obeys_rules(solver):
    from geoplan.optimize import p_median
    rng = np.random.default_rng(6)
    D = rng.random((30, 9)) * 20
    w = rng.integers(1, 30, 30).astype(float)
    fo, fc = [4], [0, 2]
    best = min(float(w @ D[:, S].min(axis=1))
               for S in _plans(9, [], fo, fc, None, None, p=3) if len(S) == 3)
    plan = p_median(D, w, 3, force_open=fo, force_closed=fc, solver=solver)
    assert plan.status == "optimal" and plan.objective == pytest.approx(best)
    sel = plan.selected.tolist()
    assert 4 in sel and not {0, 2} & set(sel) and len(sel) == 3
    unit = np.array(["a", "a", "a", "b", "b", "b", "c", "c", "c"], dtype=object)
    best = min(float(w @ D[:, S].min(axis=1))
               for S in _plans(9, [], fo, fc, 1, unit, p=3) if len(S) == 3)
    capped = p_median(D, w, 3, force_open=fo, force_closed=fc, max_new_per_unit=1,
                      site_unit=unit, solver=solver)
    assert capped.status == "optimal" and capped.objective == pytest.approx(best)
    assert sorted(unit[capped.selected].tolist()) == ["a", "b", "c"] and 4 in capped.selected
    with pytest.raises(GeoplanInputError, match="needs the admin unit"):
        p_median(D, w, 3, max_new_per_unit=1)


def test_p_median_verbose_shows_the_solver_log(capfd):
    """verbose is applied, not only accepted: the master MILP's log reaches stdout."""
    from geoplan.optimize import p_median
    rng = np.random.default_rng(6)
    D, w = rng.random((30, 9)) * 20, rng.integers(1, 30, 30).astype(float)
    unit = np.array(["a", "a", "a", "b", "b", "b", "c", "c", "c"], dtype=object)
    p_median(D, w, 3, max_new_per_unit=1, site_unit=unit, solver="cbc")
    assert capfd.readouterr().out == ""
    p_median(D, w, 3, max_new_per_unit=1, site_unit=unit, solver="cbc", verbose=True)
    assert "Result" in capfd.readouterr().out

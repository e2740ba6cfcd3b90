"""Capacitated p-median, maximal covering and set covering against published optima,
brute force and an independent, unreduced MILP.

Oracles:
* OR-Library pmedcap1-10 (Osman & Christofides 1994; 50 points, p = 5, capacity 120,
  single source): the proven optima 713, 740, 751, 651, 664, 778, 787, 820, 715, 829.
* Brute force on small instances (hypothesis): every set of sites, the assignment of each
  set by ``scipy.optimize.linprog`` (divisible) or by enumerating every assignment
  (single source).
* Capacitated maximal covering: a dense MILP written here from the textbook formulation
  (every pair, no merging, no capacity dropped) solved by CBC through PuLP, on 20 random
  instances.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pulp
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from geoplan import GeoplanInputError
from geoplan.optimize.capacity import (
    capacitated_max_covering,
    capacitated_p_median,
    capacitated_set_covering,
)

DATA = Path(__file__).parent / "data" / "orlib_pmedcap"
#: Proven optima of pmedcap1..10 (OR-Library; Osman & Christofides 1994; Ceselli & Righini 2005).
PMEDCAP_OPT = {1: 713, 2: 740, 3: 751, 4: 651, 5: 664, 6: 778, 7: 787, 8: 820, 9: 715, 10: 829}
#: The solver that proves each instance fastest, to keep the test short (seconds measured
#: alone, HiGHS / CBC: pmedcap1 1.3 / 0.8, pmedcap7 2.9 / 2.6, pmedcap9 1.3 / 1.0,
#: pmedcap8 17 / 44, pmedcap10 6.5 / 12; the others under a second with either).
PMEDCAP_SOLVER = {k: "cbc" if k in (1, 7, 9) else "highs" for k in PMEDCAP_OPT}


def _pmedcap(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    lines = (DATA / f"pmedcap{k}.txt").read_text().split("\n")
    n, p = map(int, lines[0].split())
    D = np.array([[float(v) for v in lines[1 + i].split()] for i in range(n)])
    demand = np.array([float(v) for v in lines[1 + n].split()])
    cap = np.array([float(v) for v in lines[2 + n].split()])
    return D, demand, cap, p


def _per_person(D: np.ndarray, demand: np.ndarray) -> sp.csr_matrix:
    """OR-Library prices an assignment at d_ij, not per person: times d_ij / demand_i make
    the model's w_i t_ij equal d_ij (every pair stored, zeros included)."""
    n, m = D.shape
    return sp.csr_matrix(((D / demand[:, None]).ravel(), np.tile(np.arange(m), n),
                          np.arange(0, n * m + 1, m)), shape=(n, m))


@pytest.mark.parametrize("k", sorted(PMEDCAP_OPT))
def test_orlib_pmedcap_optima_single_source(k):
    D, demand, cap, p = _pmedcap(k)
    plan = capacitated_p_median(_per_person(D, demand), demand, p, cap, single_source=True,
                                solver=PMEDCAP_SOLVER[k])
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(PMEDCAP_OPT[k], abs=1e-6)
    # the plan is what it says: every point to one open median, within capacity
    assert plan.n_new == p
    assert set(np.unique(plan.assignment)) <= set(plan.selected.tolist())
    load = np.bincount(plan.assignment, weights=demand, minlength=D.shape[1])
    assert (load <= cap + 1e-9).all()
    assert D[np.arange(D.shape[0]), plan.assignment].sum() == pytest.approx(PMEDCAP_OPT[k])


@pytest.mark.parametrize("k", [1, 6])
def test_orlib_pmedcap_optima_with_cbc(k):
    D, demand, cap, p = _pmedcap(k)
    plan = capacitated_p_median(_per_person(D, demand), demand, p, cap, single_source=True,
                                solver="cbc")
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(PMEDCAP_OPT[k], abs=1e-6)


def test_divisible_assignment_is_a_relaxation_of_single_source():
    D, demand, cap, p = _pmedcap(1)
    div = capacitated_p_median(_per_person(D, demand), demand, p, cap)
    assert div.status == "optimal"
    assert div.objective <= PMEDCAP_OPT[1] + 1e-6
    loads = div.details["loads"]
    assert (loads["served"] <= loads["capacity"] + 1e-6).all()
    assert div.details["flows"].sum() == pytest.approx(demand.sum())


# ----------------------------------------------------------------------- brute force


def _transport(T: np.ndarray, w: np.ndarray, Q: np.ndarray, cols: list[int], *,
               mode: str, u: float | None = None) -> float:
    """Best assignment of rows to the open ``cols`` by LP (mode "time": least person-time,
    every row fully assigned or unassigned at u; "served": most people served).
    ``T`` holds inf where a pair is not allowed."""
    n = T.shape[0]
    pairs = [(i, j) for i in range(n) for j in cols if np.isfinite(T[i, j])]
    nv = len(pairs) + (n if (mode == "time" and u is not None) else 0)
    if mode == "time":
        c = [w[i] * T[i, j] for i, j in pairs] + ([w[i] * u for i in range(n)]
                                                  if u is not None else [])
    else:
        c = [-w[i] for i, j in pairs]
    A_row = np.zeros((n, nv))
    for e, (i, j) in enumerate(pairs):
        A_row[i, e] = 1.0
    if mode == "time" and u is not None:
        A_row[:, len(pairs):] = np.eye(n)
    A_cap = np.zeros((len(cols), nv))
    for e, (i, j) in enumerate(pairs):
        A_cap[cols.index(j), e] = w[i]
    b_cap = np.array([Q[j] if np.isfinite(Q[j]) else 1e18 for j in cols])
    kw = dict(bounds=[(0, 1)] * nv, method="highs")
    if mode == "time":
        if nv == 0:
            return math.inf if w.sum() > 0 else 0.0
        live = w > 0
        r = linprog(c, A_ub=A_cap if len(cols) else None, b_ub=b_cap if len(cols) else None,
                    A_eq=A_row[live], b_eq=np.ones(int(live.sum())), **kw)
        return r.fun if r.status == 0 else math.inf
    if nv == 0:
        return 0.0
    r = linprog(c, A_ub=np.vstack([A_row, A_cap]), b_ub=np.r_[np.ones(n), b_cap], **kw)
    return -r.fun


def _least_travel(T: np.ndarray, w: np.ndarray, Q: np.ndarray, cols: list[int],
                  served: float) -> float:
    """Least person-time of a divisible assignment to ``cols`` serving ``served`` people."""
    n = T.shape[0]
    pairs = [(i, j) for i in range(n) for j in cols if np.isfinite(T[i, j])]
    c = [w[i] * T[i, j] for i, j in pairs]
    A = np.zeros((n + len(cols) + 1, len(pairs)))
    for e, (i, j) in enumerate(pairs):
        A[i, e] = 1.0
        A[n + cols.index(j), e] = w[i]
        A[-1, e] = -w[i]
    b = np.r_[np.ones(n), [Q[j] if np.isfinite(Q[j]) else 1e18 for j in cols],
              -served + 1e-7]
    r = linprog(c, A_ub=A, b_ub=b, bounds=[(0, 1)] * len(pairs), method="highs")
    return r.fun


def _single(T: np.ndarray, w: np.ndarray, Q: np.ndarray, cols: list[int], *, mode: str,
            u: float | None = None) -> float:
    """Best single-source assignment by enumerating every choice of each row."""
    n = T.shape[0]
    options = []
    for i in range(n):
        opts = [j for j in cols if np.isfinite(T[i, j])]
        if mode == "served" or u is not None:
            opts.append(-1)                      # unassigned
        options.append(opts)
    best = math.inf if mode == "time" else -math.inf
    for choice in itertools.product(*options):
        load = np.zeros(T.shape[1])
        val = 0.0
        for i, j in enumerate(choice):
            if j < 0:
                val += w[i] * u if mode == "time" else 0.0
            else:
                load[j] += w[i]
                val += w[i] * T[i, j] if mode == "time" else w[i]
        if np.any(load > Q + 1e-9):
            continue
        best = min(best, val) if mode == "time" else max(best, val)
    return best


@st.composite
def _instances(draw, max_rows=5, max_sites=5):
    n = draw(st.integers(1, max_rows))
    m = draw(st.integers(1, max_sites))
    T = np.array([[draw(st.sampled_from([np.inf, 0.0, 1.0, 2.0, 3.5, 5.0, 8.0]))
                   for _ in range(m)] for _ in range(n)])
    w = np.array([float(draw(st.integers(0, 9))) for _ in range(n)])
    Q = np.array([draw(st.sampled_from([np.inf, 0.0, 3.0, 6.0, 10.0, 20.0])) for _ in range(m)])
    n_ex = draw(st.integers(0, max(0, m - 1)))
    ex = sorted(draw(st.permutations(range(m)))[:n_ex])
    return T, w, Q, ex


def _sparse(T: np.ndarray) -> sp.csr_matrix:
    rows, cols = np.nonzero(np.isfinite(T))
    return sp.csr_matrix((T[rows, cols], (rows, cols)), shape=T.shape)


def _subsets(cand, p, exact):
    sizes = [p] if exact else range(0, p + 1)
    for r in sizes:
        yield from itertools.combinations(cand, r)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_instances(), st.integers(0, 3), st.booleans(), st.sampled_from([None, 10.0]),
       st.sampled_from(["highs", "cbc"]))
def test_capacitated_p_median_equals_brute_force(inst, p, single, u, solver):
    T, w, Q, ex = inst
    m = T.shape[1]
    cand = [j for j in range(m) if j not in ex]
    p = min(p, len(cand))
    evaluate = _single if single else _transport
    best = min((evaluate(T, w, Q, list(ex) + list(S), mode="time", u=u)
                for S in _subsets(cand, p, exact=True)), default=math.inf)
    unreached = (~np.isfinite(T)).all(axis=1) & (w > 0)
    if unreached.any() and u is None:
        with pytest.raises(GeoplanInputError, match="reach no usable site"):
            capacitated_p_median(_sparse(T), w, p, Q, existing=ex, single_source=single,
                                 unassigned_time=u, solver=solver)
        return
    plan = capacitated_p_median(_sparse(T), w, p, Q, existing=ex, single_source=single,
                                unassigned_time=u, solver=solver)
    if math.isinf(best):
        assert plan.status == "infeasible"
        return
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(best, abs=1e-6)
    assert plan.n_new == p
    F = plan.details["flows"].toarray()
    assert (F.sum(axis=0) <= np.where(np.isfinite(Q), Q, np.inf) + 1e-6).all()
    assert (F.sum(axis=1) <= w + 1e-6).all()
    assert not F[:, [j for j in range(m) if j not in ex and j not in plan.selected]].any()


# 50 examples (was 60, for test time: two model calls each, most of it CBC start-up);
# both solvers, both assignments and existing sites still drawn
@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_instances(), st.integers(0, 3), st.booleans(), st.sampled_from(["highs", "cbc"]))
# CBC served 3.00000001 at a site of capacity 3, so the least-travel assignment could not
# serve "as many" and the unsorted flows (travel 2.7, not 2.0) were kept
@example(inst=(np.array([[np.inf] * 5, [np.inf, 0, 0, 0, 1], [np.inf] * 5,
                         [np.inf, 0, 0, 0, 0]]), np.array([0.0, 9.0, 0.0, 1.0]),
               np.array([np.inf, 0, 0, 0, 3]), []), p=1, single=False, solver="cbc")
def test_capacitated_max_covering_equals_brute_force(inst, p, single, solver):
    T, w, Q, ex = inst
    m = T.shape[1]
    cand = [j for j in range(m) if j not in ex]
    evaluate = _single if single else _transport
    best = max(evaluate(T, w, Q, list(ex) + list(S), mode="served")
               for S in _subsets(cand, min(p, len(cand)), exact=False))
    before = evaluate(T, w, Q, list(ex), mode="served")
    plan = capacitated_max_covering(_sparse(T), w, Q, p=p, existing=ex, single_source=single,
                                    solver=solver)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(best, abs=1e-6)
    # with times: the same sites and people served, the least travel among assignments
    near = capacitated_max_covering(_sparse(T), w, Q, p=p, existing=ex, single_source=single,
                                    solver=solver, times=_sparse(T))
    assert near.objective == pytest.approx(best, abs=1e-6)
    assert near.covered_after == pytest.approx(best, abs=1e-6)
    cols = list(ex) + near.selected.tolist()
    Tc = np.where(np.isin(np.arange(T.shape[1]), cols), T, np.inf)
    if not single and best > 0:
        least = _least_travel(Tc, w, Q, cols, best)
        F = near.details["flows"].toarray()
        assert (F * np.where(np.isfinite(T), T, 0)).sum() == pytest.approx(least, abs=1e-5)
    assert plan.covered_after == pytest.approx(best, abs=1e-6)
    assert plan.covered_before == pytest.approx(before, abs=1e-6)
    assert plan.n_new <= p


# 40 examples (was 50, for test time); both solvers with both assignments, feasible
# and infeasible targets, every share still drawn
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_instances(), st.sampled_from([0.5, 0.8, 1.0]), st.booleans(),
       st.sampled_from(["highs", "cbc"]))
def test_capacitated_set_covering_equals_brute_force(inst, share, single, solver):
    T, w, Q, ex = inst
    m = T.shape[1]
    cand = [j for j in range(m) if j not in ex]
    evaluate = _single if single else _transport
    need = share * w.sum() - 1e-9 * max(1.0, w.sum())
    fewest = math.inf
    for r in range(len(cand) + 1):
        if any(evaluate(T, w, Q, list(ex) + list(S), mode="served") >= need
               for S in itertools.combinations(cand, r)):
            fewest = r
            break
    plan = capacitated_set_covering(_sparse(T), w, Q, target_share=share, existing=ex,
                                    single_source=single, solver=solver)
    if math.isinf(fewest):
        assert plan.status == "infeasible"
        assert plan.explanation
        assert plan.details["most_served"] < need + 1e-6
        return
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(fewest)
    assert plan.covered_after >= need - 1e-6


# --------------------------------------------------------- independent, unreduced MILP


def _dense_cmclp(C: np.ndarray, w: np.ndarray, Q: np.ndarray, p: int,
                 ex: list[int]) -> float:
    """The textbook capacitated MCLP on every pair, solved by CBC through PuLP directly."""
    n, m = C.shape
    prob = pulp.LpProblem("cmclp", pulp.LpMaximize)
    y = [pulp.LpVariable(f"y{j}", cat="Binary") for j in range(m)]
    x = {(i, j): pulp.LpVariable(f"x{i}_{j}", 0, 1) for i in range(n) for j in range(m)
         if C[i, j]}
    prob += pulp.lpSum(w[i] * v for (i, j), v in x.items())
    for i in range(n):
        prob += pulp.lpSum(v for (a, j), v in x.items() if a == i) <= 1
    for j in range(m):
        prob += pulp.lpSum(w[i] * v for (i, b), v in x.items() if b == j) <= Q[j] * y[j]
    for j in ex:
        prob += y[j] == 1
    prob += pulp.lpSum(y[j] for j in range(m) if j not in ex) <= p
    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.LpStatus[prob.status] == "Optimal"
    return float(pulp.value(prob.objective))


@pytest.mark.parametrize("seed", range(20))
def test_capacitated_max_covering_equals_an_unreduced_milp(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(40, 120)), int(rng.integers(8, 20))
    pts, sites = rng.uniform(0, 10, (n, 2)), rng.uniform(0, 10, (m, 2))
    d = np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    C = (d <= rng.uniform(2.0, 4.0)).astype(float)
    # duplicate some rows so the merging has something to merge
    C = np.vstack([C, C[: n // 4]])
    w = np.round(rng.lognormal(3, 1, C.shape[0]))
    Q = np.round(rng.uniform(0.05, 0.3, m) * w.sum())
    ex = sorted(rng.choice(m, int(rng.integers(0, 3)), replace=False).tolist())
    p = int(rng.integers(1, 5))
    want = _dense_cmclp(C, w, Q, p, ex)
    plan = capacitated_max_covering(sp.csr_matrix(C), w, Q, p=p, existing=ex)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(want, rel=1e-7, abs=1e-6)


# ------------------------------------------------------------------------- behaviour


def test_merged_rows_give_each_row_its_share():
    # two cells snapped to one node (times equal up to a shift) merge; each keeps its split
    T = sp.csr_matrix(np.array([[10.0, 20.0], [13.0, 23.0], [5.0, 0.0]]))
    w = np.array([30.0, 10.0, 20.0])
    plan = capacitated_p_median(T, w, 0, [25.0, np.inf], existing=[0, 1])
    assert plan.reduction.demand_out == 2
    F = plan.details["flows"].toarray()
    assert F.sum(axis=1) == pytest.approx(w)
    assert F[0] / w[0] == pytest.approx(F[1] / w[1])       # same shares
    assert F[:, 0].sum() == pytest.approx(25.0)            # the near site is full
    assert plan.objective == pytest.approx(float((F * T.toarray()).sum()))


def test_unassigned_time_prices_people_no_site_can_take():
    T = sp.csr_matrix(np.array([[1.0], [2.0]]))
    plan = capacitated_p_median(T, [5.0, 5.0], 0, [6.0], existing=[0], unassigned_time=100.0)
    assert plan.status == "optimal"
    assert plan.details["unassigned"] == pytest.approx(4.0)
    assert plan.objective == pytest.approx(5 * 1.0 + 1 * 2.0 + 4 * 100.0)
    with_none = capacitated_p_median(T, [5.0, 5.0], 0, [6.0], existing=[0])
    assert with_none.status == "infeasible"
    assert not with_none.feasible


@pytest.mark.parametrize("bad, match", [
    (dict(capacities=[-1.0, 1.0]), "capacities"),
    (dict(capacities=[np.nan, 1.0]), "capacities"),
    (dict(capacities=[1.0]), "capacities has 1 values"),
    (dict(weights=[1.0, -2.0]), "weights"),
    (dict(p=3), "only 1 candidate"),
    (dict(p=-1), "p must be"),
])
def test_bad_inputs_are_named(bad, match):
    kw = dict(times=sp.csr_matrix(np.array([[1.0, 2.0], [2.0, 1.0]])), weights=[1.0, 1.0],
              p=1, capacities=[5.0, 5.0], existing=[0])
    kw.update(bad)
    with pytest.raises(GeoplanInputError, match=match):
        capacitated_p_median(kw.pop("times"), kw.pop("weights"), kw.pop("p"),
                             kw.pop("capacities"), **kw)


def test_covering_models_need_their_limits():
    C = sp.csr_matrix(np.ones((2, 2)))
    with pytest.raises(GeoplanInputError, match="p"):
        capacitated_max_covering(C, [1, 1], [5, 5])
    with pytest.raises(GeoplanInputError, match="budget needs"):
        capacitated_max_covering(C, [1, 1], [5, 5], budget=3)
    with pytest.raises(GeoplanInputError, match="target_share"):
        capacitated_set_covering(C, [1, 1], [5, 5], target_share=1.5)


def test_budget_and_site_rules_apply():
    C = sp.csr_matrix(np.eye(3))
    w, Q = [10.0, 20.0, 30.0], [100.0, 100.0, 100.0]
    assert capacitated_max_covering(C, w, Q, budget=2.0, costs=[1, 1, 2]).objective == 30.0
    plan = capacitated_max_covering(C, w, Q, p=1, force_closed=[2])
    assert plan.selected.tolist() == [1]
    plan = capacitated_max_covering(C, w, Q, p=1, force_open=[0])
    assert plan.selected.tolist() == [0] and plan.objective == 10.0
    plan = capacitated_max_covering(C, w, Q, p=2, max_new_per_unit=1,
                                    site_unit=["a", "b", "b"])
    assert plan.selected.tolist() == [0, 2]


# ------------------------------------------------------------------------ GIS doors


def _site_problem(capacity=(np.nan, np.nan, np.nan), beds=(70.0, np.nan, 14.0)):
    import geopandas as gpd
    from shapely.geometry import Point

    from geoplan.optimize.gis import SiteProblem

    # 3 cells; E1 existing (70 beds = 10,000 people), C1 and C2 candidates; seconds
    t = np.array([[60.0, 600.0, 0], [300.0, 120.0, 0], [0, 900.0, 240.0]])
    cells = gpd.GeoDataFrame({"population": [8000.0, 6000.0, 3000.0]},
                             geometry=[Point(i, 0) for i in range(3)], crs="EPSG:32650")
    sites = gpd.GeoDataFrame({"site_id": ["E1", "C1", "C2"], "name": list("abc"),
                              "kind": ["existing", "candidate", "candidate"],
                              "type": "clinic", "cost": [np.nan, 5.0, 3.0],
                              "beds": list(beds), "capacity": list(capacity)},
                             geometry=[Point(i, 1) for i in range(3)], crs="EPSG:32650")
    return SiteProblem(times=sp.csr_matrix(t), demand=cells["population"].to_numpy(float),
                       unit=np.array(["A", "A", "B"], dtype=object), cells=cells,
                       sites=sites, existing=np.array([0]), mode="drive", cutoff_s=1200.0,
                       unit_names={"A": "Alpha", "B": "Beta"})


def test_site_capacities_follow_capacity_then_new_site_capacity_then_beds():
    from geoplan.optimize.capacity import site_capacities

    prob = _site_problem(capacity=(np.nan, 4000.0, np.nan))
    Q = site_capacities(prob, persons_per_bed=100.0, new_site_capacity=5000.0)
    assert Q.tolist() == [7000.0, 4000.0, 5000.0]      # beds x 100; own; new-site value
    assert site_capacities(prob, persons_per_bed=100.0).tolist() == [7000.0, 4000.0, 1400.0]
    with pytest.raises(GeoplanInputError, match="C1") as err:
        site_capacities(_site_problem(beds=(70.0, np.nan, 14.0)))
    assert "new_site_capacity" in err.value.hint


def test_gis_capacitated_max_covering_serves_within_capacity_and_reports_units():
    from geoplan.optimize.capacity import capacitated_max_covering_from_problem

    prob = _site_problem()
    # E1 serves 10,000 within 10 min: all of cell 0 (8,000) and 2,000 of cell 1 (5 min)
    plan = capacitated_max_covering_from_problem(prob, 10, p=1, persons_per_bed=1000 / 7,
                                                 new_site_capacity=5000.0)
    assert plan.status == "optimal"
    assert plan.covered_before == pytest.approx(10_000)
    # C1 serves the 4,000 of cell 1 E1 cannot take (14,000); C2 only cell 2 (13,000)
    assert prob.sites["site_id"].iloc[plan.selected].tolist() == ["C1"]
    assert plan.covered_after == pytest.approx(14_000)
    units = plan.by_unit.set_index("admin_code")
    assert units.loc["A", "share_before"] == pytest.approx(10_000 / 14_000)
    assert units.loc["total", "covered_after"] == pytest.approx(plan.covered_after)
    # of the assignments serving 14,000, the least travel: C1 fills with cell 1 (2 min),
    # E1 keeps cell 0 and the last 1,000 of cell 1
    s = plan.sites.set_index("site_id")
    assert s.loc["E1", "served"] == pytest.approx(9_000) and s.loc["E1", "use"] == \
        pytest.approx(0.9)
    assert s.loc["C1", "served"] == pytest.approx(5_000)


def test_gis_capacitated_p_median_charges_the_unassigned_and_counts_within_minutes():
    from geoplan.optimize.capacity import capacitated_p_median_from_problem

    prob = _site_problem()
    plan = capacitated_p_median_from_problem(prob, 1, minutes=10, new_site_capacity=5000.0)
    assert plan.status == "optimal"
    F = plan.details["flows"].toarray()
    assert F.sum() + plan.details["unassigned"] == pytest.approx(17_000)
    tmin = prob.times.toarray() / 60
    cost = (F * tmin).sum() + plan.details["unassigned"] * 20.0
    assert plan.objective == pytest.approx(cost)
    within = (F * ((tmin > 0) & (tmin <= 10))).sum()
    assert plan.covered_after == pytest.approx(within)

"""p-median: OR-Library optima, spopt's San Francisco instance, brute force, honest statuses."""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import sys
import time
import warnings

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import load_sf, shared_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geoplan import GeoplanInputError
from geoplan._errors import GeoplanWarning
from geoplan.optimize import median, median_benders, median_rows
from geoplan.optimize.gis import SiteProblem
from geoplan.optimize.median import p_median, p_median_from_problem
from geoplan.optimize.orlib import read_orlib_optima, read_orlib_pmed

SOLVERS = ["cbc", "highs"]


@contextlib.contextmanager
def _path(kind):
    """Choose the solution path.

    ``"enumerate"``: few p-subsets evaluated outright; ``"benders"``: rows grouped by
    nearest candidate in the master; ``"rows"``: one master variable per row.
    """
    old = median_rows._ENUMERATE_MAX, median_benders._GROUP_ROWS
    median_rows._ENUMERATE_MAX = old[0] if kind == "enumerate" else -1
    median_benders._GROUP_ROWS = kind != "rows"
    try:
        yield
    finally:
        median_rows._ENUMERATE_MAX, median_benders._GROUP_ROWS = old


# --------------------------------------------------------------------------------------
# OR-Library: every instance's proven optimum


@pytest.mark.parametrize("k", range(1, 21))
def test_orlib_pmed_proven_optimum(k):
    folder = shared_path("orlib_pmed")
    dist, p = read_orlib_pmed(folder / f"pmed{k}.txt")
    optimum = read_orlib_optima(folder / "pmedopt.txt")[f"pmed{k}"]
    plan = p_median(dist, np.ones(len(dist)), p)
    assert plan.optimal
    assert plan.objective == optimum
    assert plan.n_new == p
    # the plan is what it claims: each node's distance to the nearest chosen median
    assert dist[:, plan.selected].min(axis=1).sum() == optimum
    assert plan.bound == pytest.approx(optimum) and plan.gap == 0


def test_orlib_reader_later_edge_wins_and_optima(write):
    # edge 1-2 appears twice: the later cost (5) wins, not the minimum (1)
    f = write("tiny.txt", " 3 3 1 \n 1 2 1 \n 2 3 2 \n 2 1 5 \n")
    dist, p = read_orlib_pmed(f)
    assert p == 1
    assert dist[0, 1] == 5 and dist[0, 2] == 7 and dist[1, 2] == 2
    assert np.array_equal(dist, dist.T) and np.all(np.diag(dist) == 0)
    opt = read_orlib_optima(write("opt.txt", "Data file   Optimal value\npmed1 5819\n"))
    assert opt == {"pmed1": 5819.0}


def test_orlib_reader_rejects_truncated_file(write):
    with pytest.raises(GeoplanInputError, match="announces 3 edges"):
        read_orlib_pmed(write("bad.txt", "3 3 1\n1 2 1\n"))
    with pytest.raises(GeoplanInputError, match="outside 1..3"):
        read_orlib_pmed(write("bad2.txt", "3 1 1\n1 4 1\n"))


# --------------------------------------------------------------------------------------
# spopt's San Francisco instance


@pytest.mark.parametrize("solver", SOLVERS)
def test_sf_p4_weighted_mean_distance(solver):
    d, pop, stores = load_sf()
    plan = p_median(d, pop, 4, solver=solver)
    assert plan.optimal
    assert plan.details["mean_time"] == pytest.approx(2982.1268579890657, rel=1e-12)
    assert {stores[j] for j in plan.selected} == {"Store_2", "Store_11", "Store_12",
                                                  "Store_15"}
    # every tract is assigned to its nearest chosen store
    assert np.allclose(d[np.arange(len(d)), plan.assignment], d[:, plan.selected].min(axis=1))


# --------------------------------------------------------------------------------------
# brute force on small random instances


def _instance(seed):
    """Build a random small instance.

    It has unreachable pairs, zero weights, existing sites, and rows that copy another
    row shifted by a constant (the case exact row merging handles).
    """
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 16)), int(rng.integers(2, 10))
    D = rng.integers(1, 60, (n, m)).astype(float)
    D[rng.random((n, m)) < 0.3] = np.inf
    if n > 1 and rng.random() < 0.5:
        src = rng.integers(0, n, 2)
        D = np.vstack([D, D[src] + rng.integers(0, 9, (2, 1))])
    n = len(D)
    w = rng.integers(0, 5, n).astype(float)
    if not w.any():
        w[0] = 1.0
    ex = sorted(rng.choice(m, int(rng.integers(0, 3)), replace=False).tolist())
    ex = ex[: m - 1]
    ncand = m - len(ex)
    p = int(rng.integers(0 if ex else 1, ncand + 1))
    unassigned = None if rng.random() < 0.5 else 80.0
    dense = rng.random() < 0.5
    return D, w, ex, p, unassigned, dense


def _brute_median(D, w, ex, p, unassigned):
    cand = [j for j in range(D.shape[1]) if j not in ex]
    live = w > 0
    best = np.inf
    for S in itertools.combinations(cand, p):
        t = D[:, list(ex) + list(S)].min(axis=1)
        if unassigned is None and np.isinf(t[live]).any():
            continue
        t = np.where(np.isfinite(t), t, np.inf if unassigned is None else unassigned)
        best = min(best, float(w[live] @ t[live]))
    return best


@pytest.mark.parametrize("solver, path", [("cbc", "benders"), ("highs", "benders"),
                                          ("cbc", "rows"), ("highs", "rows"),
                                          ("cbc", "enumerate")])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_matches_brute_force(solver, path, seed):
    D, w, ex, p, unassigned, dense = _instance(seed)
    times = D if dense else sp.csr_matrix(np.where(np.isfinite(D), D, 0.0))
    lonely = (w > 0) & np.isinf(D).all(axis=1)
    if unassigned is None and lonely.any():
        with pytest.raises(GeoplanInputError) as e:
            p_median(times, w, p, existing=ex, solver=solver)
        assert e.value.field == "times"
        return
    with _path(path):
        plan = p_median(times, w, p, existing=ex, unassigned_time=unassigned, solver=solver)
    expect = _brute_median(D, w, ex, p, unassigned)
    if np.isinf(expect):
        assert plan.status == "infeasible" and plan.explanation
        return
    assert plan.optimal
    # CBC proves optimality exactly; HiGHS stops within its default 1e-4 relative gap
    rel = 1e-9 if solver == "cbc" else 1e-4
    assert expect - 1e-9 <= plan.objective <= expect * (1 + rel) + 1e-9
    assert plan.bound <= expect + 1e-6
    assert plan.n_new == p and not set(plan.selected) & set(ex)
    # the reported objective is the cost of the reported plan
    cols = np.r_[ex, plan.selected].astype(int)
    t = D[:, cols].min(axis=1) if cols.size else np.full(len(D), np.inf)
    t = np.where(np.isfinite(t), t, unassigned if unassigned is not None else np.inf)
    assert plan.objective == pytest.approx(float(w[w > 0] @ t[w > 0]))
    reach = np.isfinite(D[:, cols]).any(axis=1) if cols.size else np.zeros(len(D), bool)
    assert np.array_equal(plan.assignment >= 0, reach)


SOLVER_NAME = {"cbc": "CBC", "highs": "HiGHS"}


@pytest.mark.parametrize("path", ["benders", "rows"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_instances_with_a_fractional_lp_go_through_the_master_milp(solver, path):
    """Find the brute-force optimum through the Benders master MILP.

    Non-metric random times often have a fractional LP, so the master MILP (not just
    the LP bound and rounding) must find the optimum and prove it; the plan names the
    MILP solver that did.
    """
    found = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        D = rng.integers(1, 100, (12, 9)).astype(float)
        w = rng.integers(1, 9, 12).astype(float)
        ex = [8] if seed % 2 else []
        with _path(path):
            plan = p_median(D, w, 3, existing=ex, solver=solver)
        expect = _brute_median(D, w, ex, 3, None)
        assert plan.optimal and plan.objective == pytest.approx(expect, rel=1e-12)
        assert plan.bound <= expect + 1e-6
        assert plan.details["lp_stop"] in ("converged", "incumbent_proven")
        if plan.details["proof"] == "milp":
            assert plan.details["rounds"] > 0
            assert plan.solver.startswith(SOLVER_NAME[solver])
            found += 1
        else:
            assert plan.details["proof"] in ("lp", "fixing")
        if found == 4:
            break
    assert found == 4


def _orlib(k):
    folder = shared_path("orlib_pmed")
    dist, p = read_orlib_pmed(folder / f"pmed{k}.txt")
    return dist, p, read_orlib_optima(folder / "pmedopt.txt")[f"pmed{k}"]


@pytest.mark.parametrize("k", [2, 3, 6, 12])
@pytest.mark.parametrize("solver", SOLVERS)
def test_orlib_optimum_proven_by_the_master_milp(solver, k):
    # instances whose LP bound is below the optimum: the master MILP must prove it
    dist, p, optimum = _orlib(k)
    plan = p_median(dist, np.ones(len(dist)), p, solver=solver)
    assert plan.details["proof"] == "milp" and plan.details["rounds"] >= 1
    assert plan.details["lp_bound"] < optimum - 1
    assert plan.solver.startswith(SOLVER_NAME[solver])
    assert plan.optimal and plan.objective == optimum
    assert plan.bound == pytest.approx(optimum, rel=1e-9)


def test_default_master_solver_is_p_median_solver(monkeypatch):
    dist, p, optimum = _orlib(2)
    for name in SOLVERS:
        monkeypatch.setattr(median, "P_MEDIAN_SOLVER", name)
        plan = p_median(dist, np.ones(len(dist)), p)
        assert plan.details["proof"] == "milp" and plan.objective == optimum
        assert plan.solver.startswith(SOLVER_NAME[name])


def _random_median(seed, n=30, m=14, p=4):
    rng = np.random.default_rng(seed)
    D = rng.integers(1, 100, (n, m)).astype(float)
    D[rng.random((n, m)) < 0.2] = np.inf
    D[np.arange(n), rng.integers(0, m, n)] = rng.integers(1, 100, n)   # every row reaches
    return D, rng.integers(1, 9, n).astype(float), p


@pytest.mark.parametrize("solver", SOLVERS)
def test_fixing_with_a_worse_incumbent_keeps_the_optimum(solver, monkeypatch):
    """Reduced-cost fixing against a non-optimal incumbent must not cut off the optimum.

    Rounding the LP optimum is switched off, so the fixings are made against the greedy
    plan, which is worse than the optimum on several of these instances.
    """
    monkeypatch.setattr(median_benders, "_round_lp", lambda *args: None)
    worse = 0
    for seed in range(40):
        D, w, p = _random_median(seed)
        with _path("benders"):
            plan = p_median(D, w, p, solver=solver)
        expect = _brute_median(D, w, [], p, None)
        assert plan.optimal and plan.objective == pytest.approx(expect, rel=1e-12)
        assert plan.bound <= expect + 1e-6
        worse += plan.details["heuristic_objective"] > expect
    assert worse >= 5


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("knob", ["stalled", "no_lp_time"])
def test_master_milp_is_exact_without_the_lp_optimum(solver, knob, monkeypatch):
    """A stalled (or skipped) LP phase leaves the exact MILP phase with a weak pool."""
    if knob == "stalled":
        # any round gaining less than 100 % counts as a stall: stops after two rounds
        monkeypatch.setattr(median_benders, "_STALL_REL", 1.0)
        monkeypatch.setattr(median_benders, "_STALL_ROUNDS", 1)
    else:
        monkeypatch.setattr(median_benders, "_LP_SHARE", 0.0)
    for seed in range(3):
        D, w, p = _random_median(seed)
        with _path("benders"):
            plan = p_median(D, w, p, solver=solver, time_limit=60.0)
        expect = _brute_median(D, w, [], p, None)
        d = plan.details
        assert d["lp_stop"] == ("stalled" if knob == "stalled" else "time_limit")
        assert d["lp_rounds"] == (2 if knob == "stalled" else 0)
        assert plan.optimal and plan.objective == pytest.approx(expect, rel=1e-12)
        assert d["proof"] == "milp" and d["rounds"] >= 1
        assert plan.solver.startswith(SOLVER_NAME[solver])
        assert plan.bound <= expect + 1e-6


@pytest.mark.parametrize("k", [1, 4])
def test_lp_phase_is_highs_whatever_the_solver(k):
    # proven by the LP bound (pmed1) or the rounded LP optimum (pmed4): no MILP ran
    dist, p, optimum = _orlib(k)
    for solver in SOLVERS:
        plan = p_median(dist, np.ones(len(dist)), p, solver=solver)
        assert plan.optimal and plan.objective == optimum
        assert plan.details["proof"] == "lp" and plan.details["rounds"] == 0
        assert plan.solver.startswith("HiGHS") and "Benders LP" in plan.solver


def test_existing_sites_are_open_in_addition_to_p():
    t = np.array([[1.0, 9.0, 9.0], [9.0, 1.0, 9.0], [9.0, 9.0, 1.0]])
    plan = p_median(t, [1, 1, 1], 1, existing=[0])
    assert plan.existing.tolist() == [0] and plan.n_new == 1
    assert plan.objective == 11.0 and plan.details["mean_time"] == pytest.approx(11 / 3)
    assert plan.covered_before == 3 and plan.covered_after == 3


def test_too_few_sites_to_reach_everyone_is_infeasible_and_explained():
    inf = np.inf
    t = np.array([[1.0, inf, inf], [inf, 1.0, inf], [inf, inf, 1.0]])
    plan = p_median(t, [1, 1, 1], 2)
    assert plan.status == "infeasible" and "p = 2" in plan.explanation["message"]
    plan = p_median(t, [1, 1, 1], 2, unassigned_time=30)
    assert plan.optimal and plan.objective == 32
    assert plan.details["unassigned_rows"] == 1 and (plan.assignment == -1).sum() == 1


def test_time_limit_returns_a_solution_with_a_valid_bound():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 100, (150, 2))
    t = np.linalg.norm(xy[:, None] - xy[None, :], axis=2)
    plan = p_median(t, rng.integers(1, 9, 150), 6, time_limit=0.3)
    assert plan.status in ("optimal", "time_limit") and plan.n_new == 6
    assert plan.bound <= plan.objective + 1e-6


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("limit", [0.3, 2.0])
def test_time_limited_run_is_honest_and_on_time(solver, limit):
    # pmed16's master MILP needs 10-15 s: a limit stops it (or the LP phase) early
    dist, p, optimum = _orlib(16)
    t0 = time.perf_counter()
    plan = p_median(dist, np.ones(len(dist)), p, solver=solver, time_limit=limit)
    assert time.perf_counter() - t0 <= 1.05 * limit + 1.0
    assert plan.n_new == p
    assert dist[:, plan.selected].min(axis=1).sum() == plan.objective
    if plan.status == "optimal":
        assert plan.objective == optimum
    else:
        assert plan.status == "time_limit"
        assert plan.details["proof"] is None
        assert plan.bound <= optimum + 1e-6 <= plan.objective + 2e-6
        assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("k, gap", [(16, 0.2), (12, 0.001)])
def test_gap_stop_is_optimal_only_at_the_optimum(solver, k, gap):
    # pmed16's LP bound is 0.9 % below the optimum (a gap stop right after the LP);
    # pmed12 with gap 0.001 stops in the master MILP phase
    dist, p, optimum = _orlib(k)
    plan = p_median(dist, np.ones(len(dist)), p, solver=solver, gap=gap)
    assert plan.status in ("optimal", "time_limit")
    if plan.status == "optimal":
        assert plan.objective == optimum and plan.details["proof"] is not None
    else:
        assert plan.details["proof"] is None
    assert plan.bound <= optimum + 1e-6 <= plan.objective + 2e-6
    assert plan.gap <= gap
    assert plan.details["lp_bound"] < optimum - 1


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", [1, 8, 30, 33])
def test_gap_stop_with_a_worse_plan_is_not_optimal(solver, seed):
    # instances where a 20 % gap stop returns a plan worse than the brute-force optimum
    D, w, p = _random_median(seed)
    with _path("benders"):
        plan = p_median(D, w, p, solver=solver, gap=0.2)
    expect = _brute_median(D, w, [], p, None)
    assert plan.objective >= expect - 1e-6 and plan.bound <= expect + 1e-6
    assert plan.gap <= 0.2
    if plan.objective > expect + 1e-6:      # (a solver's start may reach the optimum)
        assert plan.status == "time_limit" and plan.details["proof"] is None
    if plan.status == "optimal":
        assert plan.objective == pytest.approx(expect) and plan.details["proof"] is not None


def test_highs_banner_does_not_reach_stdout():
    # the LP phase builds highspy.Highs() objects; their banner must not be printed
    code = ("import numpy as np\n"
            "from geoplan.optimize import median, median_rows\n"
            "median_rows._ENUMERATE_MAX = -1\n"
            "t = np.array([[1.0, 5, 9, 4], [6, 2, 7, 3], [9, 8, 1, 5], [2, 9, 9, 1]])\n"
            "plan = median.p_median(t, [1, 2, 3, 4], 2)\n"
            "assert plan.details['lp_rounds'] > 0, plan.details\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""


# --------------------------------------------------------------------------------------
# bad input names the field


@pytest.mark.parametrize("kw, field", [
    ({"p": 4}, "p"),
    ({"times": np.array([[1.0, -2.0], [3.0, 4.0]])}, "times"),
    ({"times": np.array([[1.0, np.nan], [3.0, 4.0]])}, "times"),
    ({"weights": [1.0]}, "weights"),
    ({"weights": [1.0, np.nan]}, "weights"),
    ({"weights": [1.0, -1.0]}, "weights"),
    ({"existing": [True, False]}, "existing"),
    ({"existing": [5]}, "existing"),
    ({"p": 1.5}, "p"),
    ({"unassigned_time": 2.0}, "unassigned_time"),
    ({"times": np.array([[1.0, 2.0], [np.inf, np.inf]])}, "times"),
])
def test_bad_input_names_the_field(kw, field):
    args = {"times": np.array([[1.0, 2.0], [3.0, 4.0]]), "weights": [1.0, 1.0], "p": 1}
    args.update(kw)
    with pytest.raises(GeoplanInputError) as e:
        p_median(args.pop("times"), args.pop("weights"), args.pop("p"), **args)
    assert e.value.field == field


# --------------------------------------------------------------------------------------
# GIS front door on a hand-made SiteProblem


def _problem():
    # 4 cells, 1 existing + 3 candidate sites; seconds within a 20-minute cut-off
    t = np.array([[60.0, 600, 0, 0], [0, 120, 0, 0], [0, 0, 300, 900], [0, 0, 0, 1e-6]])
    times = sp.csr_matrix(t)
    cells = gpd.GeoDataFrame({"cell_id": range(4), "population": [10.0, 20, 30, 40]},
                             geometry=[Point(i, 0) for i in range(4)], crs="EPSG:32650")
    sites = gpd.GeoDataFrame({"site_id": ["E1", "C1", "C2", "C3"], "name": list("abcd"),
                              "kind": ["existing", "candidate", "candidate", "candidate"],
                              "type": "clinic", "cost": np.nan, "beds": 0.0},
                             geometry=[Point(i, 1) for i in range(4)], crs="EPSG:32650")
    return SiteProblem(times=times, demand=cells["population"].to_numpy(float),
                       unit=np.array(["A", "A", "B", "B"], dtype=object), cells=cells,
                       sites=sites, existing=np.array([0]), mode="walk", cutoff_s=1200.0,
                       unit_names={"A": "Alpha", "B": "Beta"})


def test_gis_door_minutes_units_and_sites():
    problem = _problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoplanWarning)
        plan = p_median_from_problem(problem, 2, minutes=10)
    assert plan.optimal
    # {C1, C3} (500 person-minutes) beats {C2, C3} (560: cell 1 charged the 20-min cut-off)
    assert sorted(problem.sites["site_id"].iloc[plan.selected]) == ["C1", "C3"]
    assert plan.objective == pytest.approx(10 * 1 + 20 * 2 + 30 * 15 + 40 * 1e-6 / 60)
    assert plan.details["mean_time"] == pytest.approx(5.0, rel=1e-6)
    # within 10 minutes: cells 0 before; cells 0, 1, 3 after (cell 2 is 15 min away)
    assert plan.covered_before == 10 and plan.covered_after == 70
    total = plan.by_unit.set_index("admin_code").loc["total"]
    assert total["share_after"] == pytest.approx(0.7)
    assert total["mean_min_after"] == pytest.approx(5.0, rel=1e-6)
    beta = plan.by_unit.set_index("admin_code").loc["B"]
    assert beta["mean_min_before"] == pytest.approx(20.0)      # charged the cut-off
    assert set(plan.sites["status"]) == {"existing", "new"} and len(plan.sites) == 3


def test_gis_door_warns_about_cells_beyond_the_cut_off():
    problem = _problem()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeoplanWarning)
        plan = p_median_from_problem(problem, 1)
    assert any(issubclass(c.category, GeoplanWarning) and "cut-off" in str(c.message)
               for c in caught)
    assert problem.sites["site_id"].iloc[plan.selected].tolist() == ["C3"]
    assert plan.details["unassigned_population"] > 0
    assert plan.details["unassigned_minutes"] == 20.0


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.integers(1, 25), st.integers(0, 2), st.integers(0, 2**31))
def test_row_time_order_equals_lexsort(n, m, kind, seed):
    """The one-key sort of (row, time, column) equals numpy's lexsort, ties and near-ties
    (times differing below the key's precision) included."""
    rng = np.random.default_rng(seed)
    r, c = np.nonzero(rng.random((n, m)) < 0.6)
    r, c = r.astype(np.int64), c.astype(np.int64)
    t = [rng.integers(0, 4, r.size).astype(float),             # exact ties
         1000.0 + rng.integers(0, 4, r.size) * 1e-12,           # below the key's bits
         rng.random(r.size) * 3600.0][kind]
    o = median_rows._row_time_order(r, c, t, n)
    assert np.array_equal(o, np.lexsort((c, t, r)))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_a_limit_spent_in_preparation_returns_the_heuristic_with_a_bound(seed, monkeypatch):
    """When the time limit is gone once the instance is prepared, the heuristic's plan
    comes back at once with the all-open bound: a true objective and a valid bound
    (brute force), never a missing one."""
    D, w, ex, p, _, dense = _instance(seed)
    unassigned = 80.0
    times = D if dense else sp.csr_matrix(np.where(np.isfinite(D), D, 0.0))
    monkeypatch.setattr(median_benders, "_MIN_LP_S", 1e9)      # "no time left for the LP"
    with _path("benders"):
        plan = p_median(times, w, p, existing=ex, unassigned_time=unassigned,
                        time_limit=1e6)
    expect = _brute_median(D, w, ex, p, unassigned)
    assert plan.status in ("optimal", "time_limit")
    if plan.details.get("proof") != "no choice":
        assert plan.solver == "greedy + vertex exchange", plan.solver
    assert np.isfinite(plan.bound) and plan.bound <= expect + 1e-6
    assert plan.objective >= expect - 1e-6 and np.isfinite(plan.gap)
    cols = np.r_[ex, plan.selected].astype(int)
    t = D[:, cols].min(axis=1) if cols.size else np.full(len(D), np.inf)
    t = np.where(np.isfinite(t), t, unassigned)
    assert plan.objective == pytest.approx(float(w[w > 0] @ t[w > 0]))

"""Tiered plans (hierarchical covering with referral) against brute force, both solvers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoplan import GeoplanInputError
from geoplan.optimize.tiered import tiered_plan


@st.composite
def _instances(draw):
    L = draw(st.integers(2, 3))
    n = draw(st.integers(1, 6))
    m = draw(st.integers(2, 5))
    cov = [np.array([[draw(st.booleans()) for _ in range(m)] for _ in range(n)])
           for _ in range(L)]
    w = np.array([float(draw(st.integers(0, 9))) for _ in range(n)])
    ref = [None] + [np.array([[draw(st.booleans()) for _ in range(m)] for _ in range(m)])
                    if draw(st.booleans()) else None for _ in range(L - 1)]
    e = np.array([draw(st.sampled_from([0, 0, 0] + list(range(1, L + 1)))) for _ in range(m)])
    counts = []
    for _ in range(L):
        lo = draw(st.integers(0, 2))
        counts.append(lo if draw(st.booleans()) else (lo, lo + draw(st.integers(0, 2))))
    alpha = [float(draw(st.integers(1, 3))) for _ in range(L)]
    rules = {}
    if draw(st.booleans()):                      # costs: a budget, or the cost objective
        cost = np.array([[float(draw(st.integers(0, 5))) for _ in range(L)] for _ in range(m)])
        if draw(st.booleans()):
            cost[draw(st.integers(0, m - 1)), draw(st.integers(0, L - 1))] = np.nan
        rules["costs"] = cost
        if draw(st.booleans()):
            rules["objective"] = "cost"
            rules["min_share"] = [draw(st.sampled_from([None, 0.3, 0.6, 1.0]))
                                  for _ in range(L)]
        else:
            rules["budget"] = float(draw(st.integers(0, 8)))
    free = [j for j in range(m) if e[j] == 0]
    if free and draw(st.booleans()):
        rules["force_open"] = [draw(st.sampled_from(free))]
    rest = [j for j in free if j not in rules.get("force_open", [])]
    if rest and draw(st.booleans()):
        rules["force_closed"] = [draw(st.sampled_from(rest))]
    return cov, w, ref, e, counts, alpha, rules


def _brute(cov, w, ref, e, counts, alpha, rules=None):
    """Best objective over every assignment of sites to tiers (None: no plan holds)."""
    rules = rules or {}
    L, m = len(cov), cov[0].shape[1]
    cost = rules.get("costs")
    if cost is not None:
        cost = cost.copy()
        for j in np.flatnonzero(e > 0):
            cost[j, e[j] - 1] = 0.0
    objective = rules.get("objective", "coverage")
    best = None
    for tier in itertools.product(range(L + 1), repeat=m):
        t = np.array(tier)
        if any(e[j] > 0 and not (1 <= t[j] <= e[j]) for j in range(m)):
            continue
        if any(t[j] == 0 for j in rules.get("force_open", [])):
            continue
        if any(t[j] > 0 for j in rules.get("force_closed", [])):
            continue
        spent = 0.0
        if cost is not None:
            if any(np.isnan(cost[j, t[j] - 1]) for j in range(m) if t[j] > 0):
                continue
            spent = sum(cost[j, t[j] - 1] for j in range(m) if t[j] > 0)
            if "budget" in rules and spent > rules["budget"] + 1e-9:
                continue
        ok = True
        for k, c in enumerate(counts):
            lo, hi = (c, c) if isinstance(c, int) else c
            if not lo <= int((t == k + 1).sum()) <= hi:
                ok = False
        for k in range(1, L):
            if ref[k] is None:
                continue
            for j in np.flatnonzero(t == k + 1):
                if not any(1 <= t[jj] <= k for jj in np.flatnonzero(ref[k][j])):
                    ok = False
        if not ok:
            continue
        val = 0.0
        for k in range(L):
            open_k = (t > 0) & (t <= k + 1)
            covered = (cov[k][:, open_k].sum(axis=1) > 0) if open_k.any() else \
                np.zeros(len(w), bool)
            val += alpha[k] * w[covered].sum()
            share = rules.get("min_share", [None] * L)[k]
            if share is not None and w[covered].sum() < share * w.sum() - 1e-9:
                ok = False
        if not ok:
            continue
        if objective == "cost":
            val = spent
            if best is None or val < best:
                best = val
        elif best is None or val > best:
            best = val
    return best


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_instances(), st.sampled_from(["highs", "cbc"]))
def test_tiered_plan_equals_brute_force(inst, solver):
    cov, w, ref, e, counts, alpha, rules = inst
    best = _brute(cov, w, ref, e, counts, alpha, rules)
    plan = tiered_plan([sp.csr_matrix(c) for c in cov], w, counts=counts,
                       referral=[None if r is None else sp.csr_matrix(r) for r in ref],
                       existing_tier=e, tier_weights=alpha, solver=solver, **rules)
    if best is None:
        assert plan.status == "infeasible"
        return
    assert plan.status == "optimal"
    assert plan.explanation is None
    assert plan.objective == pytest.approx(best, abs=1e-6)
    tier = plan.details["tier"]
    for j in np.flatnonzero(e > 0):                  # existing sites stay, never go down
        assert 1 <= tier[j] <= e[j]
    assert all(tier[j] > 0 for j in rules.get("force_open", []))
    assert all(tier[j] == 0 for j in rules.get("force_closed", []))
    table = plan.details["tiers"]
    assert (table["facilities"] == [(tier == k + 1).sum() for k in range(len(cov))]).all()
    if "costs" in rules:                            # the cost is the plan's own
        c = rules["costs"]
        own = sum(0.0 if e[j] == tier[j] else c[j, tier[j] - 1]
                  for j in np.flatnonzero(tier > 0))
        assert plan.details["cost"] == pytest.approx(own)


def test_an_explained_infeasible_plan_is_really_infeasible():
    """Every pre-check row is a proof: the brute force finds no plan either."""
    c = sp.csr_matrix(np.eye(3))
    w = np.array([1.0, 2.0, 3.0])
    near = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]]))
    allowed = np.array([[True, False], [False, True], [False, True]])
    # tier 2 needs 2 facilities, but only site 1 has a tier-1 site (0) within reach
    plan = tiered_plan([c, c], w, counts=[1, 2], referral=[None, near], allowed=allowed)
    assert plan.status == "infeasible"
    row = plan.explanation.iloc[0]
    assert (row["tier"], row["rule"], row["needed"], row["possible"]) == (2, "count", 2, 1)
    dense = [np.eye(3, dtype=bool)] * 2
    ref = [None, near.toarray().astype(bool)]
    assert _brute(dense, w, ref, np.zeros(3, int), [1, 2], [1, 1]) is None
    # existing facilities above a tier's maximum
    plan = tiered_plan([c, c], w, counts=[(0, 1), (0, 1)], existing_tier=[2, 2, 2])
    assert plan.status == "infeasible"
    assert plan.explanation["rule"].tolist() == ["existing"]
    # a target above what every eligible site covers
    plan = tiered_plan([c, c], w, counts=[(0, 3), (0, 3)], objective="cost",
                       costs=np.ones((3, 2)), min_share=[None, 0.9],
                       allowed=np.array([[True, True], [True, True], [False, False]]))
    assert plan.status == "infeasible"
    row = plan.explanation.iloc[0]
    assert row["rule"] == "target" and row["possible"] == pytest.approx(0.5)


def test_least_cost_plan_reaches_each_tier_target():
    cov = sp.csr_matrix(np.eye(4))
    w = np.array([10.0, 20.0, 30.0, 40.0])
    cost = np.array([[1.0, 1.0], [1.0, 1.0], [5.0, 2.0], [9.0, 3.0]])
    plan = tiered_plan([cov, cov], w, counts=[(0, 4), (0, 4)], objective="cost",
                       costs=cost, min_share=[0.1, 0.7])
    # tier 2 needs 70 people: a tier-1 site serves tier 2 too, so sites 0 and 1 at tier 1
    # (cost 2) and site 3 at tier 2 (cost 3) beat sites 2 and 3 at tier 2 (cost 5 + 1)
    assert plan.status == "optimal"
    assert plan.details["tier"].tolist() == [1, 1, 0, 2]
    assert plan.objective == pytest.approx(5.0)
    table = plan.details["tiers"]
    assert table["share_after"].tolist() == pytest.approx([0.3, 0.7])
    assert table["cost"].tolist() == pytest.approx([2.0, 3.0])


def test_a_lower_tier_is_placed_within_reach_of_a_higher_one():
    # 3 cells in a row; sites 0..2 above them; tier 1 covers one cell, tier 2 its own cell
    cov1 = sp.csr_matrix(np.eye(3))
    cov2 = sp.csr_matrix(np.eye(3))
    w = np.array([10.0, 1.0, 50.0])
    near = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]]))  # 2 is remote
    free = tiered_plan([cov1, cov2], w, counts=[1, 1], existing_tier=[1, 0, 0])
    assert free.details["tier"].tolist() == [1, 0, 2]          # the big cell, remote
    ref = tiered_plan([cov1, cov2], w, counts=[1, 1], existing_tier=[1, 0, 0],
                      referral=[None, near])
    assert ref.details["tier"].tolist() == [1, 2, 0]           # within reach of the hub
    assert ref.objective == pytest.approx(10 + 10 + 1)


def test_sites_take_only_the_tiers_they_are_allowed():
    cov = sp.csr_matrix(np.eye(3))
    w = np.array([10.0, 1.0, 50.0])
    free = tiered_plan([cov, cov], w, counts=[1, 1])
    assert free.details["tier"][2] > 0                          # the big cell gets a site
    no_top = np.array([[True, True], [True, True], [False, False]])  # site 2 may take none
    plan = tiered_plan([cov, cov], w, counts=[1, 1], allowed=no_top)
    assert plan.details["tier"][2] == 0 and plan.objective < free.objective
    with pytest.raises(GeoplanInputError, match="allowed has shape"):
        tiered_plan([cov, cov], w, counts=[1, 1], allowed=np.ones((2, 2), bool))


def test_bad_inputs_are_named():
    c = sp.csr_matrix(np.eye(2))
    with pytest.raises(GeoplanInputError, match="counts has 1"):
        tiered_plan([c, c], [1, 1], counts=[1])
    with pytest.raises(GeoplanInputError, match="referral\\[0\\]"):
        tiered_plan([c, c], [1, 1], counts=[1, 1], referral=[c, None])
    with pytest.raises(GeoplanInputError, match="existing_tier"):
        tiered_plan([c, c], [1, 1], counts=[1, 1], existing_tier=[3, 0])
    with pytest.raises(GeoplanInputError, match="counts\\[0\\]"):
        tiered_plan([c, c], [1, 1], counts=[(2, 1), 1])
    assert tiered_plan([c, c], [1, 1], counts=[3, 0]).explanation["rule"].tolist() == [
        "count"]
    with pytest.raises(GeoplanInputError, match="needs costs"):
        tiered_plan([c, c], [1, 1], counts=[1, 1], objective="cost")
    with pytest.raises(GeoplanInputError, match="min_share"):
        tiered_plan([c, c], [1, 1], counts=[1, 1], min_share=[0.5])
    with pytest.raises(GeoplanInputError, match="existing facility cannot be closed"):
        tiered_plan([c, c], [1, 1], counts=[1, 1], existing_tier=[1, 0], force_closed=[0])


def _problem(times_min, mode, ids, kinds):
    """A hand-made SiteProblem: ``times_min`` (cells x sites) minutes, NaN = beyond."""
    import geopandas as gpd
    from shapely.geometry import Point

    from geoplan.optimize.gis import SiteProblem
    t = np.asarray(times_min, float)
    n, m = t.shape
    mat = sp.csr_matrix(np.where(np.isnan(t), 0.0, np.maximum(t, 1e-6) * 60.0))
    cells = gpd.GeoDataFrame({"cell_id": np.arange(n), "population": np.ones(n),
                              "admin_code": ["A"] * (n // 2) + ["B"] * (n - n // 2)},
                             geometry=[Point(i, 0) for i in range(n)], crs=3857)
    sites = gpd.GeoDataFrame({"site_id": ids, "name": ids, "kind": kinds,
                              "type": ["x"] * m, "cost": np.nan, "beds": np.nan,
                              "admin_code": None, "admin_name": None, "capacity": np.nan},
                             geometry=[Point(j, 1) for j in range(m)], crs=3857)
    return SiteProblem(times=mat, demand=np.array([5.0, 1.0, 1.0, 9.0][:n]),
                       unit=cells["admin_code"].to_numpy(object), cells=cells, sites=sites,
                       existing=np.flatnonzero(np.asarray(kinds) == "existing"), mode=mode,
                       cutoff_s=60 * 60.0)


def test_gis_door_names_tiers_statuses_and_referral_targets():
    """Per-tier problems of their own modes; each facility's referral target is the
    nearest facility of a higher tier within reach, and every status is what happened."""
    from geoplan.optimize.tiered import tiered_plan_from_problems
    nan = np.nan
    ids = ["H1", "C1", "N1", "N2"]
    kinds = ["existing", "existing", "candidate", "candidate"]
    drive = _problem([[5, nan, nan, nan], [30, 20, nan, 10], [nan, 5, nan, nan],
                      [nan, nan, 5, 40]], "drive", ids, kinds)
    walk = _problem([[nan, nan, nan, nan], [nan, 3, nan, nan], [nan, nan, 4, nan],
                     [nan, nan, 14, 6]], "walk", ids, kinds)
    ref = sp.csr_matrix(np.array([[0, 10, 50, 25], [10, 0, 30, 12], [50, 30, 0, 60],
                                  [25, 12, 60, 0]], float) * 60.0 + np.eye(4) * 1e-6)
    plan = tiered_plan_from_problems(
        [drive, walk], [30, 15], counts=[(1, 2), (1, 2)], referral_times=ref,
        referral_minutes=[None, 15], existing_tier=[1, 2, 0, 0],
        tier_names=["hospital", "point"])
    # by hand: N2 as a point needs a hospital within 15 min (H1 is 25, C1 12 only were C1
    # a hospital); the best is a new hospital at N1 (cell 3's 9 people by car and on
    # foot) with C1 kept as a point referring to H1 (10 min): 6 + 9 | 1 + 1 + 9 = 26
    s = plan.sites.set_index("site_id")
    assert plan.status == "optimal" and plan.objective == pytest.approx(26.0)
    assert s["tier"].to_dict() == {"H1": 1, "N1": 1, "C1": 2}
    assert s["status"].to_dict() == {"H1": "existing", "N1": "new", "C1": "existing"}
    assert plan.selected.tolist() == [2] and plan.details["upgraded"].size == 0
    assert s.loc["C1", "referral_id"] == "H1"
    assert s.loc["C1", "referral_minutes"] == pytest.approx(10.0)
    assert s.loc["C1", "tier_name"] == "point"
    for sid, row in s.iterrows():                    # referral within 15 minutes, upward
        if row["tier"] == 2:
            target = s.loc[row["referral_id"]]
            assert target["tier"] < 2 and row["referral_minutes"] <= 15 + 1e-9
            assert row["referral_minutes"] == pytest.approx(ref[ids.index(sid),
                                                                ids.index(row["referral_id"])] / 60)
    t = plan.details["tiers"]
    assert t["name"].tolist() == ["hospital", "point"] and t["mode"].tolist() == ["drive", "walk"]
    # the lowest tier's coverage is the plan's, by unit and in all
    total = plan.by_unit.iloc[-1]
    assert total["covered_after"] == pytest.approx(plan.covered_after)
    assert plan.covered_after == pytest.approx(t["covered_after"].iloc[-1])
    # the same answer as the numeric door on the same matrices
    ref_ok = [None, sp.csr_matrix(ref.toarray() <= 15 * 60 + 1e-9)]
    direct = tiered_plan([drive.coverage(30), walk.coverage(15)], drive.demand,
                         counts=[(1, 2), (1, 2)], referral=ref_ok, existing_tier=[1, 2, 0, 0])
    assert direct.objective == pytest.approx(plan.objective)
    with pytest.raises(GeoplanInputError, match="need the times between sites"):
        tiered_plan_from_problems([drive, walk], [30, 15], counts=[1, 1],
                                  referral_minutes=[None, 15])
    with pytest.raises(GeoplanInputError, match="not a site of this plan"):
        tiered_plan_from_problems([drive, walk], [30, 15], counts=[1, 1],
                                  force_open=["nope"])


@pytest.mark.parametrize("seed, size, limit, gap", [(1460464040, "mid", None, None),
                                                     (1591589091, "large", None, 0.2)])
def test_highs_presolve_infeasible_is_confirmed_without_presolve(seed, size, limit, gap):
    """HiGHS 1.16's presolve called these feasible tiered models (with referral)
    infeasible; CBC and HiGHS without presolve solve them. The solver layer confirms an
    "infeasible" without presolve, so the plan is the oracle's optimum."""
    import stress_cases as s
    case = s.gen_case("tiered", seed, size)
    assert case.optima[0] is not None                # feasible, by the unreduced MILP
    assert s.run_and_check(case, "highs", limit, gap) == []

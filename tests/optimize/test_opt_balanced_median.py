"""The p-median balanced over zones against brute force, both solvers; its price of
balance against the plain p-median; zone rules that cannot hold are named."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoplan import GeoplanInputError
from geoplan.optimize.balanced_median import balanced_p_median
from geoplan.optimize.median import p_median


@st.composite
def _instances(draw):
    n = draw(st.integers(1, 8))
    m = draw(st.integers(2, 7))
    t = np.array([[draw(st.sampled_from([np.inf, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0]))
                   for _ in range(m)] for _ in range(n)])
    w = np.array([float(draw(st.integers(0, 9))) for _ in range(n)])
    w[0] = max(w[0], 1.0)                       # the p-median refuses no demand at all
    zones = np.array([draw(st.sampled_from(["a", "b", "c"])) for _ in range(m)], object)
    ex = sorted(draw(st.sets(st.integers(0, m - 1), max_size=2)))
    p = draw(st.integers(0 if ex else 1, max(1, min(3, m - len(ex)))))
    lo = draw(st.sampled_from([None, 1, {"a": 1}, {"b": 2}]))
    hi = draw(st.sampled_from([None, 1, {"c": 1}, 2]))
    u = draw(st.sampled_from([None, 20.0]))
    rules = {}
    cand = [j for j in range(m) if j not in ex]
    if cand and draw(st.booleans()):
        rules["force_closed"] = [draw(st.sampled_from(cand))]
    return t, w, zones, ex, p, lo, hi, u, rules


def _brute(t, w, zones, ex, p, lo, hi, u, rules):
    """Least total time over every p-subset meeting the zone rules (None: none does)."""
    m = t.shape[1]
    cand = [j for j in range(m) if j not in ex and j not in rules.get("force_closed", [])]
    names = sorted(set(zones.tolist()))

    def per(v):
        if v is None:
            return {}
        return {z: v for z in names} if isinstance(v, int) else dict(v)
    mins, maxs = per(lo), per(hi)
    best = None
    for S in itertools.combinations(cand, p):
        op = np.array([*ex, *S], dtype=int)
        if any((zones[op] == z).sum() < k for z, k in mins.items()):
            continue
        if any((zones[op] == z).sum() > k for z, k in maxs.items()):
            continue
        near = t[:, op].min(axis=1) if op.size else np.full(len(w), np.inf)
        if u is not None:
            near = np.minimum(near, u)
        if np.isinf(near[w > 0]).any():
            continue
        v = float(w[w > 0] @ near[w > 0])
        best = v if best is None or v < best else best
    return best


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(_instances(), st.sampled_from(["highs", "cbc"]))
def test_balanced_p_median_equals_brute_force(inst, solver):
    t, w, zones, ex, p, lo, hi, u, rules = inst
    import scipy.sparse as sp
    times = sp.csr_matrix((t[np.isfinite(t)], np.nonzero(np.isfinite(t))), shape=t.shape)
    lonely = (w > 0) & ~np.isfinite(t).any(axis=1)
    if u is None and lonely.any():           # the p-median refuses rows that reach nothing
        with pytest.raises(GeoplanInputError):
            balanced_p_median(times, w, p, site_zone=zones, zone_min_sites=lo,
                              zone_max_sites=hi, existing=ex, solver=solver, **rules)
        return
    named = {z for v in (lo, hi) if isinstance(v, dict) for z in v}
    if named - set(zones.tolist()):          # a rule for a zone no site lies in
        with pytest.raises(GeoplanInputError, match="unknown zone"):
            balanced_p_median(times, w, p, site_zone=zones, zone_min_sites=lo,
                              zone_max_sites=hi, existing=ex, unassigned_time=u,
                              solver=solver, **rules)
        return
    best = _brute(t, w, zones, ex, p, lo, hi, u, rules)
    plan = balanced_p_median(times, w, p, site_zone=zones, zone_min_sites=lo,
                             zone_max_sites=hi, existing=ex, unassigned_time=u,
                             solver=solver, **rules)
    if best is None:
        assert plan.status == "infeasible", plan
        return
    assert plan.status == "optimal", plan
    assert plan.objective == pytest.approx(best, abs=1e-6)
    assert len(plan.selected) == p
    assert not set(plan.selected.tolist()) & set(rules.get("force_closed", []))
    free = _brute(t, w, zones, ex, p, None, None, u, rules)
    if "price_of_balance" in plan.details:
        assert plan.details["price_of_balance"] == pytest.approx(best - free, abs=1e-6)
        assert plan.details["price_of_balance"] >= -1e-9
    table = plan.details["zones"].set_index("zone")
    opened = np.r_[np.asarray(ex, int), plan.selected]
    for z, row in table.iterrows():
        assert row["sites_existing"] + row["sites_new"] == int((zones[opened] == z).sum())


def test_a_zone_minimum_moves_a_site_and_costs_minutes():
    """Two towns of 100 people and a village of 5: the plain p-median puts both sites in
    the towns; one site per zone moves one to the village, at a known price."""
    t = np.array([[1.0, 9.0, 9.0], [9.0, 1.0, 9.0], [9.0, 9.0, 1.0]])
    w = np.array([100.0, 100.0, 5.0])
    zones = np.array(["west", "west", "east"], object)
    free = p_median(t, w, 2)
    assert sorted(free.selected.tolist()) == [0, 1] and free.objective == pytest.approx(245)
    plan = balanced_p_median(t, w, 2, site_zone=zones, zone_min_sites=1,
                             row_zone=np.array(["west", "west", "east"], object))
    assert plan.status == "optimal" and 2 in plan.selected.tolist()
    assert plan.objective == pytest.approx(100 + 900 + 5)
    assert plan.details["price_of_balance"] == pytest.approx(1005 - 245)
    assert plan.details["balance_minutes"] == pytest.approx(760 / 205)
    z = plan.details["zones"].set_index("zone")
    assert z.loc["east", "mean_after"] == pytest.approx(1.0)
    assert z.loc["west", "population"] == 200


def test_zone_rules_that_cannot_hold_are_named():
    t = np.ones((2, 3))
    zones = np.array(["a", "a", "b"], object)
    plan = balanced_p_median(t, [1, 1], 1, site_zone=zones, zone_min_sites={"a": 1, "b": 1})
    assert plan.status == "infeasible" and "need 2 new sites but p = 1" in plan.explanation
    plan = balanced_p_median(t, [1, 1], 1, site_zone=zones, zone_min_sites={"b": 2})
    assert "zone b needs 2 open sites" in plan.explanation
    plan = balanced_p_median(t, [1, 1], 2, site_zone=zones, zone_max_sites=0)
    assert "room for 0 new sites" in plan.explanation
    with pytest.raises(GeoplanInputError, match="unknown zone"):
        balanced_p_median(t, [1, 1], 1, site_zone=zones, zone_min_sites={"x": 1})
    with pytest.raises(GeoplanInputError, match="site_zone has 2 entries"):
        balanced_p_median(t, [1, 1], 1, site_zone=zones[:2], zone_min_sites=1)


def test_gis_door_puts_each_site_in_its_zone_and_names_the_zones():
    """Through a SiteProblem: zones are polygons, sites and cells fall in them by where
    they are; minutes in, person-minutes out; the zone table carries the zones' names."""
    import geopandas as gpd
    import scipy.sparse as sp
    from shapely.geometry import Point, box

    from geoplan.optimize.balanced_median import balanced_p_median_from_problem
    from geoplan.optimize.gis import SiteProblem
    xs = [0.5, 1.5, 10.5]                              # two cells west, one east
    cells = gpd.GeoDataFrame({"cell_id": [0, 1, 2], "population": [100.0, 100.0, 5.0],
                              "admin_code": ["u", "u", "v"]},
                             geometry=[Point(x, 0.5) for x in xs], crs=3857)
    sites = gpd.GeoDataFrame({"site_id": ["A", "B", "C"], "name": ["A", "B", "C"],
                              "kind": "candidate", "type": "x", "cost": np.nan,
                              "beds": np.nan, "admin_code": ["u", "u", "v"],
                              "admin_name": None, "capacity": np.nan},
                             geometry=[Point(x, 0.6) for x in xs], crs=3857)
    t = np.array([[1.0, 9.0, 9.0], [9.0, 1.0, 9.0], [9.0, 9.0, 1.0]]) * 60
    problem = SiteProblem(times=sp.csr_matrix(t), demand=cells["population"].to_numpy(),
                          unit=cells["admin_code"].to_numpy(object), cells=cells,
                          sites=sites, existing=np.arange(0), mode="drive", cutoff_s=600.0)
    zones = gpd.GeoDataFrame({"zone": ["w", "e"], "name_zh": ["西", "东"],
                              "name_en": ["west", "east"]},
                             geometry=[box(0, 0, 5, 1), box(5, 0, 15, 1)], crs=3857)
    plan = balanced_p_median_from_problem(problem, 2, zones=zones, zone_min_sites=1)
    assert plan.status == "optimal" and plan.objective == pytest.approx(1005.0)   # minutes
    assert plan.details["mean_time"] == pytest.approx(1005 / 205)
    assert plan.details["balance_minutes"] == pytest.approx(760 / 205)
    z = plan.details["zones"].set_index("zone")
    assert z.loc["e", "name_zh"] == "东" and z.loc["e", "sites_new"] == 1
    assert dict(zip(plan.sites["site_id"], plan.sites["zone"], strict=True))["C"] == "e"
    assert plan.by_unit is not None and plan.details["zone_shapes"] is zones

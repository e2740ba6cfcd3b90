"""Balanced covering (zone rules, max-min fairness) against brute force, both solvers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoplan import GeoplanInputError
from geoplan.optimize.balanced import balanced_covering

ZONES = ["c", "e", "w"]


@st.composite
def _instances(draw):
    n = draw(st.integers(2, 8))
    m = draw(st.integers(2, 6))
    C = np.array([[draw(st.booleans()) for _ in range(m)] for _ in range(n)], float)
    w = np.array([float(draw(st.integers(0, 20))) for _ in range(n)])
    rz = [draw(st.sampled_from(ZONES)) for _ in range(n)]
    sz = [draw(st.sampled_from(ZONES)) for _ in range(m)]
    n_ex = draw(st.integers(0, 1))
    ex = sorted(draw(st.permutations(range(m)))[:n_ex])
    costs = [float(draw(st.integers(1, 4))) for _ in range(m)]
    return C, w, rz, sz, ex, costs


def _brute(C, w, rz, sz, ex, costs, *, objective, p=None, budget=None, target=None,
           mins=None, maxs=None, share=None):
    n, m = C.shape
    cand = [j for j in range(m) if j not in ex]
    zones = sorted(set(rz) | set(sz))
    best = None
    for r in range(len(cand) + 1):
        for S in itertools.combinations(cand, r):
            if p is not None and len(S) > p:
                continue
            if budget is not None and sum(costs[j] for j in S) > budget + 1e-9:
                continue
            open_ = list(ex) + list(S)
            cnt = {z: sum(1 for j in open_ if sz[j] == z) for z in zones}
            if mins is not None and any(cnt[z] < mins for z in zones):
                continue
            if maxs is not None and any(cnt[z] > maxs for z in zones):
                continue
            cov = C[:, open_].sum(axis=1) > 0 if open_ else np.zeros(n, bool)
            covered = float(w[cov].sum())
            zs = {}
            for z in zones:
                W = w[np.array(rz) == z].sum()
                if W > 0:
                    zs[z] = w[cov & (np.array(rz) == z)].sum() / W
            if share is not None and any(v < share - 1e-9 for v in zs.values()):
                continue
            if objective == "sites":
                if covered < target * w.sum() - 1e-9 * max(1, w.sum()):
                    continue
                key = (-sum(costs[j] for j in S),)
            elif objective == "max_min":
                key = (min(zs.values()) if zs else 1.0, covered)
            else:
                key = (covered,)
            if best is None or key > best[0]:
                best = (key, S)
    return best


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_instances(), st.sampled_from(["coverage", "max_min", "sites"]),
       st.integers(1, 3), st.sampled_from([None, 1]), st.sampled_from([None, 2]),
       st.sampled_from([None, 0.3]), st.sampled_from(["highs", "cbc"]))
def test_balanced_covering_equals_brute_force(inst, objective, p, mins, maxs, share, solver):
    C, w, rz, sz, ex, costs = inst
    kw = dict(zone_min_sites=mins, zone_max_sites=maxs, zone_min_share=share)
    target = 0.6
    best = _brute(C, w, rz, sz, ex, costs, objective=objective,
                  p=None if objective == "sites" else p, target=target,
                  mins=mins, maxs=maxs, share=share)
    zones = set(rz) | set(sz)
    n_ex = {z: sum(1 for j in ex if sz[j] == z) for z in zones}
    if maxs is not None and any(v > maxs for v in n_ex.values()):
        with pytest.raises(GeoplanInputError, match="zone_max_sites"):
            balanced_covering(sp.csr_matrix(C), w, row_zone=rz, site_zone=sz, existing=ex,
                              objective=objective, p=p, target_share=target, costs=costs,
                              solver=solver, **kw)
        return
    plan = balanced_covering(sp.csr_matrix(C), w, row_zone=rz, site_zone=sz, existing=ex,
                             objective=objective, p=None if objective == "sites" else p,
                             target_share=target if objective == "sites" else None,
                             costs=costs if objective == "sites" else None, solver=solver,
                             **kw)
    if best is None:
        assert plan.status == "infeasible"
        assert plan.explanation
        return
    assert plan.status == "optimal", plan
    if objective == "sites":
        assert plan.objective == pytest.approx(-best[0][0])
    elif objective == "max_min":
        assert plan.details["worst_share"] == pytest.approx(best[0][0], abs=1e-7)
        assert plan.covered_after == pytest.approx(best[0][1], abs=1e-6)
    else:
        assert plan.objective == pytest.approx(best[0][0], abs=1e-6)
    # the zone table is the plan's own
    table = plan.details["zones"]
    assert table["covered_after"].sum() == pytest.approx(plan.covered_after)
    if mins is not None:
        assert ((table["sites_existing"] + table["sites_new"]) >= mins).all()
    if "price_of_balance" in plan.details and objective != "sites":
        free = _brute(C, w, rz, sz, ex, costs, objective="coverage", p=p)
        assert plan.details["unbalanced"]["covered"] == pytest.approx(free[0][0])
        assert plan.details["price_of_balance"] == pytest.approx(
            free[0][0] - plan.covered_after, abs=1e-6)
        assert plan.details["price_of_balance"] >= -1e-6


def test_every_zone_gets_a_site_and_the_price_is_reported():
    # two dense rows in zone c, one sparse row each in e and w
    C = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
                               float))
    w = np.array([100.0, 90.0, 5.0, 4.0])
    rz, sz = ["c", "c", "e", "w"], ["c", "c", "e", "w"]
    free = balanced_covering(C, w, row_zone=rz, site_zone=sz, p=2)
    assert free.covered_after == 195.0
    plan = balanced_covering(C, w, row_zone=rz, site_zone=sz, p=3, zone_min_sites=1)
    assert sorted(plan.details["zones"]["sites_new"]) == [1, 1, 1]
    assert plan.covered_after == 199.0
    fair = balanced_covering(C, w, row_zone=rz, site_zone=sz, p=2, objective="max_min")
    # two sites cannot reach three zones: the worst share is 0, then most people
    assert fair.details["worst_share"] == 0.0 and fair.covered_after == 195.0
    with pytest.raises(GeoplanInputError, match="unknown zone"):
        balanced_covering(C, w, row_zone=rz, site_zone=sz, p=2, zone_min_sites={"x": 1})
    short = balanced_covering(C, w, row_zone=rz, site_zone=sz, p=2, zone_min_sites=1)
    assert short.status == "infeasible" and "new site" in short.explanation

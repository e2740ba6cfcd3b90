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
    return cov, w, ref, e, counts, alpha


def _brute(cov, w, ref, e, counts, alpha):
    L, m = len(cov), cov[0].shape[1]
    best = None
    for tier in itertools.product(range(L + 1), repeat=m):
        t = np.array(tier)
        if any(e[j] > 0 and not (1 <= t[j] <= e[j]) for j in range(m)):
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
        if best is None or val > best:
            best = val
    return best


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_instances(), st.sampled_from(["highs", "cbc"]))
def test_tiered_plan_equals_brute_force(inst, solver):
    cov, w, ref, e, counts, alpha = inst
    best = _brute(cov, w, ref, e, counts, alpha)
    try:
        plan = tiered_plan([sp.csr_matrix(c) for c in cov], w, counts=counts,
                           referral=[None if r is None else sp.csr_matrix(r) for r in ref],
                           existing_tier=e, tier_weights=alpha, solver=solver)
    except GeoplanInputError as err:                 # a tier no site may take
        assert best is None and "needs" in str(err)
        return
    if best is None:
        assert plan.status == "infeasible"
        return
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(best, abs=1e-6)
    tier = plan.details["tier"]
    for j in np.flatnonzero(e > 0):                  # existing sites stay, never go down
        assert 1 <= tier[j] <= e[j]
    table = plan.details["tiers"]
    assert (table["facilities"] == [(tier == k + 1).sum() for k in range(len(cov))]).all()


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
    with pytest.raises(GeoplanInputError, match="tier 1 needs 3"):
        tiered_plan([c, c], [1, 1], counts=[3, 0])

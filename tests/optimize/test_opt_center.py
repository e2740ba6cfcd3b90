"""p-center against spopt's San Francisco optimum and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import load_sf
from hypothesis import given, settings
from hypothesis import strategies as st

from geoplan import GeoplanInputError
from geoplan.optimize.center import p_center


def _brute(D, p, ex, s):
    n, m = D.shape
    cand = [j for j in range(m) if j not in set(ex)]
    best = np.inf
    for r in range(0, p + 1):
        for S in itertools.combinations(cand, r):
            cols = list(ex) + list(S)
            if not cols:
                continue
            best = min(best, float(np.max(D[:, cols].min(axis=1) / s)))
    return best


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(["cbc", "highs"]), st.booleans())
def test_matches_brute_force(seed, solver, with_standards):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 12)), int(rng.integers(2, 7))
    D = rng.integers(1, 60, (n, m)).astype(float)
    ex = [0] if rng.random() < 0.4 else []
    p = int(rng.integers(1 if not ex else 0, m - len(ex) + 1))
    s = rng.choice([1.0, 2.0], n) if with_standards else np.ones(n)
    plan = p_center(D, p, existing=ex, standards=s if with_standards else None, solver=solver)
    assert plan.optimal
    assert plan.objective == pytest.approx(_brute(D, p, ex, s))
    assert plan.n_new <= p


def test_sf_p4_worst_distance():
    dist, _, _ = load_sf()
    plan = p_center(dist, 4)
    assert plan.objective == pytest.approx(7403.0638, abs=1e-3)


def test_unreachable_rows_are_rejected_or_reported():
    D = np.array([[1.0, np.inf], [np.inf, np.inf], [np.inf, 3.0]])
    with pytest.raises(GeoplanInputError, match="reach no site"):
        p_center(D, 2)
    plan = p_center(D, 2, allow_unreachable=True)
    assert plan.objective == 3.0 and list(plan.details["unreachable_rows"]) == [1]
    assert list(plan.assignment) == [0, -1, 1]
    with pytest.raises(GeoplanInputError) as e:
        p_center(D, 5)
    assert e.value.field == "p"


def test_stored_zero_times_in_a_sparse_matrix_are_reachable():
    # row 0 is at site 0 (time 0, stored explicitly): opening site 0 serves both rows
    T = sp.csr_matrix((np.array([0.0, 10.0, 2.0, 3.0]), ([0, 0, 1, 1], [0, 1, 0, 1])),
                      shape=(2, 2))
    plan = p_center(T, 1)
    assert plan.optimal and plan.objective == 2.0 and plan.selected.tolist() == [0]


def test_time_limited_subproblems_never_claim_a_wrong_optimum():
    rng = np.random.default_rng(0)
    D = rng.uniform(1, 100, (60, 20))
    exact = p_center(D, 4)
    assert exact.optimal
    plan = p_center(D, 4, time_limit=0.01)
    if plan.optimal:
        assert plan.objective == pytest.approx(exact.objective)
    else:
        assert plan.status == "time_limit" and plan.details["unproven_subproblems"] > 0
        assert plan.bound <= exact.objective <= plan.objective


class _Spent:
    """A Deadline whose time is already gone (deterministic, unlike a tiny limit)."""

    def __init__(self, limit):
        self.limit = limit

    def left(self):
        return 0.0

    def expired(self, margin=0.0):
        return True

    def elapsed(self):
        return 0.0

    def share(self, fraction, cap=None):
        return 0.0


def test_a_spent_limit_returns_the_greedy_plan_with_a_bound(monkeypatch):
    from geoplan.optimize import center
    rng = np.random.default_rng(1)
    D = rng.uniform(1, 100, (40, 12))
    exact = p_center(D, 3)
    monkeypatch.setattr(center, "Deadline", _Spent)
    plan = p_center(D, 3, time_limit=5.0)
    assert plan.status == "time_limit" and plan.solver == "greedy"
    assert plan.details["fallback"].startswith("greedy")
    assert plan.bound <= exact.objective <= plan.objective
    cols = plan.selected.tolist()
    assert plan.objective == pytest.approx(float(D[:, cols].min(axis=1).max()))
    assert 0 < plan.gap < 1


@pytest.mark.parametrize("kw, field", [
    ({"times": np.array([[1.0, -2.0], [3.0, 4.0]])}, "times"),
    ({"weights": [1.0]}, "weights"),
    ({"weights": [1.0, np.nan]}, "weights"),
    ({"p": 3}, "p"),
    ({"standards": [1.0, 0.0]}, "standards"),
])
def test_bad_input_names_the_field(kw, field):
    args = {"times": np.array([[1.0, 2.0], [3.0, 4.0]]), "p": 1}
    args.update(kw)
    with pytest.raises(GeoplanInputError) as e:
        p_center(args.pop("times"), args.pop("p"), **args)
    assert e.value.field == field

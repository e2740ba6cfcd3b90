"""Function centres against exhaustive enumeration, plus limits and explanations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geoplan import GeoplanInputError
from geoplan.optimize.function_centres import function_centres


def _oracle(C, w, E, total, per_type, m, existing, min_share):
    n_hosts, K = E.shape
    pairs = [(h, k) for h in range(n_hosts) for k in range(K) if E[h, k]
             and (h, k) not in existing]
    best = None
    for r in range(0, len(pairs) + 1):
        if total is not None and r > total:
            break
        for S in itertools.combinations(pairs, r):
            allp = list(existing) + list(S)
            if per_type is not None and any(sum(1 for _, k in S if k == kk) > per_type
                                            for kk in range(K)):
                continue
            if any(sum(1 for h, _ in allp if h == hh) > m for hh in range(n_hosts)
                   if any(h == hh for h, _ in S)):
                continue
            cov = [float(w @ C[:, [h for h, k in allp if k == kk]].any(axis=1))
                   for kk in range(K)]
            if min_share is not None and any(c < min_share * w.sum() - 1e-9 for c in cov):
                continue
            best = sum(cov) if best is None else max(best, sum(cov))
    return best


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(["cbc", "highs"]), st.booleans())
def test_matches_enumeration(seed, solver, with_share):
    rng = np.random.default_rng(seed)
    n, hosts, K = int(rng.integers(1, 10)), int(rng.integers(1, 4)), 2
    C = rng.random((n, hosts)) < 0.5
    w = rng.integers(0, 20, n).astype(float)
    E = rng.random((hosts, K)) < 0.8
    existing = [(0, 0)] if rng.random() < 0.3 else []
    total, per_type = int(rng.integers(0, 4)), (int(rng.integers(1, 3))
                                               if rng.random() < 0.5 else None)
    m = int(rng.integers(1, 3))
    share = 0.3 if with_share else None
    expect = _oracle(C, w, E, total, per_type, m, existing, share)
    plan = function_centres(C, w, E, total=total, per_type=per_type, max_types_per_host=m,
                            existing=existing, min_share=share, solver=solver)
    if expect is None:
        assert plan.status == "infeasible"
    else:
        assert plan.optimal, plan
        assert plan.objective == pytest.approx(expect)
        assert plan.covered_after == pytest.approx(expect)
        new = plan.details["placements"].query("status == 'new'")
        assert len(new) <= total
        assert all(E[h, k] for h, k in zip(new["host"], new["kind"], strict=True))


def test_host_slots_and_per_type_limits():
    # host 0 reaches everyone; with one kind per host the second kind must go elsewhere
    C = np.array([[1, 1, 0], [1, 0, 1], [1, 0, 0]], bool)
    w = np.array([10.0, 10.0, 10.0])
    E = np.ones((3, 2), bool)
    plan = function_centres(C, w, E, total=2, max_types_per_host=1)
    pl = plan.details["placements"]
    assert pl["host"].nunique() == 2 and plan.objective == pytest.approx(30 + 10)
    both = function_centres(C, w, E, total=2, max_types_per_host=2)
    assert both.objective == pytest.approx(60)
    capped = function_centres(C, w, E, total=2, per_type=1, max_types_per_host=2)
    assert set(capped.details["placements"]["kind"]) == {0, 1}


def test_unreachable_share_is_explained_and_bad_inputs():
    C = np.array([[1], [0]], bool)
    plan = function_centres(C, [1.0, 9.0], np.ones((1, 2), bool), total=2, min_share=0.5)
    assert plan.status == "infeasible" and plan.explanation.max_share == pytest.approx(0.1)
    with pytest.raises(GeoplanInputError) as e:
        function_centres(C, [1.0, 9.0], np.ones((1, 2), bool))
    assert e.value.field == "total"
    with pytest.raises(GeoplanInputError) as e:
        function_centres(C, [1.0, 9.0], np.ones((1, 2), bool), total=1, existing=[(3, 0)])
    assert e.value.field == "existing"
    with pytest.raises(GeoplanInputError) as e:
        function_centres(C, [1.0], np.ones((1, 2), bool), total=1)
    assert e.value.field == "weights"

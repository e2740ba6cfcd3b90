"""Exact reductions keep every solution's cost: merging rows with the same site order."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geoplan.optimize.reduce import merge_same_order


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6))
def test_merged_rows_price_every_site_set_exactly(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 40)), int(rng.integers(1, 5))
    D = rng.integers(1, 4, (n, m)).astype(float)          # many ties on purpose
    D[rng.random((n, m)) < 0.2] = 0                       # unreachable pairs (not stored)
    w = rng.integers(0, 5, n).astype(float)
    T = sparse.csr_matrix(D)
    M, gw, group = merge_same_order(T, w)
    assert gw.sum() == pytest.approx(w.sum()) and group.shape == (n,)
    A = M.toarray()
    for r in range(1, m + 1):
        for S in itertools.combinations(range(m), r):
            S = list(S)
            full = np.where(D[:, S] > 0, D[:, S], np.inf).min(axis=1)
            red = np.where(A[:, S] > 0, A[:, S], np.inf).min(axis=1)
            served = np.isfinite(full)
            # the same rows are served, at exactly the same total cost
            assert np.array_equal(served, np.isfinite(red[group]))
            assert (w[served] * full[served]).sum() == pytest.approx(
                (gw * np.where(np.isfinite(red), red, 0)).sum())

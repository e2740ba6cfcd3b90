"""2SFCA and capacity-aware coverage against brute-force loops and hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geoplan import GeoplanInputError
from geoplan.access.accessibility import capacity_coverage, decay_weights, two_step_fca


@st.composite
def instances(draw):
    n_fac = draw(st.integers(1, 5))
    n_cell = draw(st.integers(1, 12))
    dense = np.array(draw(st.lists(st.lists(st.one_of(st.none(), st.integers(0, 40)),
                                            min_size=n_cell, max_size=n_cell),
                                   min_size=n_fac, max_size=n_fac)), dtype=object)
    mask = dense != None  # noqa: E711
    times = np.where(mask, dense, 0).astype(float)
    pop = np.array(draw(st.lists(st.integers(0, 100), min_size=n_cell, max_size=n_cell)), float)
    cap = np.array(draw(st.lists(st.integers(0, 300), min_size=n_fac, max_size=n_fac)), float)
    cutoff = draw(st.integers(0, 40))
    rows, cols = np.nonzero(mask)
    m = sparse.csr_matrix((times[rows, cols], (rows, cols)), shape=times.shape)
    return m, mask, times, pop, cap, float(cutoff)


def _brute_2sfca(mask, times, pop, sup, cutoff, w):
    n_fac, n_cell = times.shape
    ratio = np.zeros(n_fac)
    for j in range(n_fac):
        d = sum(pop[i] * w(times[j, i]) for i in range(n_cell)
                if mask[j, i] and times[j, i] <= cutoff)
        ratio[j] = sup[j] / d if d > 0 else 0.0
    acc = np.array([sum(ratio[j] * w(times[j, i]) for j in range(n_fac)
                        if mask[j, i] and times[j, i] <= cutoff) for i in range(n_cell)])
    return 1000 * acc, 1000 * ratio


def _weight(t: float, cut: float, decay: str | None) -> float:
    """The decay weight written out from its definition (independent of geoplan's)."""
    import math
    if decay is None:
        return 1.0
    if decay == "linear":
        return max(0.0, 1.0 - t / cut)
    # Gaussian 2SFCA (Dai 2010): (exp(-(t/T)^2 / 2) - exp(-1/2)) / (1 - exp(-1/2))
    return max(0.0, (math.exp(-0.5 * (t / cut) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5)))


def test_decay_weights_at_known_points():
    t = np.array([0.0, 7.5, 15.0])
    np.testing.assert_allclose(decay_weights(t, 15.0, None), [1, 1, 1])
    np.testing.assert_allclose(decay_weights(t, 15.0, "linear"), [1, 0.5, 0])
    # at t = T/2: (e^-1/8 - e^-1/2) / (1 - e^-1/2) = 0.701367...
    np.testing.assert_allclose(decay_weights(t, 15.0, "gaussian"), [1, 0.701367, 0],
                               atol=1e-6)


@settings(max_examples=150, deadline=None)
@given(instances(), st.sampled_from([None, "linear", "gaussian"]))
def test_2sfca_matches_brute_force(inst, decay):
    m, mask, times, pop, cap, cutoff = inst
    cut = max(cutoff, 1.0)
    acc, ratio = two_step_fca(m, pop, cap, cut, decay=decay)
    bacc, bratio = _brute_2sfca(mask, times, pop, cap, cut, lambda t: _weight(t, cut, decay))
    np.testing.assert_allclose(acc, bacc, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ratio, bratio, rtol=1e-9, atol=1e-9)


def test_2sfca_hand_example():
    # one hospital with 70 beds reached by 2 cells of 5,000 people -> 7 beds per 1,000
    m = sparse.csr_matrix(np.array([[5.0, 10.0, 0.0]]))
    acc, ratio = two_step_fca(m, [5000, 5000, 3000], [70], 15)
    np.testing.assert_allclose(acc, [7.0, 7.0, 0.0])
    assert ratio[0] == pytest.approx(7.0)


def test_2sfca_binary_conserves_supply():
    rng = np.random.default_rng(1)
    t = sparse.random(6, 40, density=0.4, random_state=2, format="csr") * 30
    pop = rng.uniform(0, 1000, 40)
    sup = rng.uniform(10, 200, 6)
    acc, _ = two_step_fca(t, pop, sup, 30)
    reached = np.asarray((t != 0).sum(axis=1)).ravel() > 0
    assert (acc * pop).sum() / 1000 == pytest.approx(sup[reached].sum())


def _brute_capacity(mask, times, pop, cap, cutoff, order):
    remaining = pop.copy()
    absorbed = np.zeros(len(cap))
    for j in order:
        cells = [i for i in range(len(pop)) if mask[j, i] and times[j, i] <= cutoff]
        cells.sort(key=lambda i: (times[j, i], i))
        left = cap[j]
        for i in cells:
            take = min(left, remaining[i])
            remaining[i] -= take
            left -= take
            absorbed[j] += take
    return remaining, absorbed


@settings(max_examples=150, deadline=None)
@given(instances())
def test_capacity_coverage_matches_brute_force(inst):
    m, mask, times, pop, cap, cutoff = inst
    res = capacity_coverage(m, pop, cap, cutoff)
    order = sorted(range(len(cap)), key=lambda j: (-cap[j], j))
    remaining, absorbed = _brute_capacity(mask, times, pop, cap, cutoff, order)
    np.testing.assert_allclose(res.served, pop - remaining, atol=1e-9)
    np.testing.assert_allclose(res.absorbed, absorbed, atol=1e-9)
    # every person is served, over capacity or out of reach — exactly once
    np.testing.assert_allclose(res.served + res.over_capacity + res.out_of_reach, pop)
    assert (res.absorbed <= cap + 1e-9).all()
    reach = (mask & (times <= cutoff)).any(axis=0)
    assert (res.out_of_reach[reach] == 0).all()


def test_capacity_hand_example():
    # facility 0 (cap 150) reaches cells 0 (t=2, 100 people) and 1 (t=5, 100 people);
    # facility 1 (cap 40) reaches cell 1 (t=1). Largest first: f0 takes 100 + 50.
    m = sparse.csr_matrix(np.array([[2.0, 5.0, 0.0], [0.0, 1.0, 0.0]]))
    res = capacity_coverage(m, [100, 100, 30], [150, 40], 10)
    np.testing.assert_allclose(res.served, [100, 90, 0])
    np.testing.assert_allclose(res.absorbed, [150, 40])
    np.testing.assert_allclose(res.over_capacity, [0, 10, 0])
    np.testing.assert_allclose(res.out_of_reach, [0, 0, 30])
    assert list(res.assigned_to) == [0, 0, -1]
    # with a bigger facility 0 the order decides who serves cell 1
    res1 = capacity_coverage(m, [100, 100, 30], [200, 40], 10)
    np.testing.assert_allclose(res1.absorbed, [200, 0])
    res2 = capacity_coverage(m, [100, 100, 30], [200, 40], 10, order=[1, 0])
    np.testing.assert_allclose(res2.absorbed, [160, 40])
    np.testing.assert_allclose(res2.served, [100, 100, 0])


def test_bad_shapes_and_values():
    m = sparse.csr_matrix(np.ones((2, 3)))
    with pytest.raises(GeoplanInputError, match="shape"):
        two_step_fca(m, [1, 2], [1, 2], 5)
    with pytest.raises(GeoplanInputError, match="non-negative"):
        capacity_coverage(m, [1, -2, 3], [1, 2], 5)
    with pytest.raises(GeoplanInputError, match="permutation"):
        capacity_coverage(m, [1, 2, 3], [1, 2], 5, order=[0, 0])
    with pytest.raises(GeoplanInputError, match="decay"):
        two_step_fca(m, [1, 2, 3], [1, 2], 5, decay="cubic")

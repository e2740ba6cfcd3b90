"""Equity of travel time: the weighted Gini against its pairwise definition, the
concentration curve, and the figures of per-cell times (brute-force oracles)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geoplan import GeoplanInputError
from geoplan.access.equity import concentration_curve, gini, time_equity


def _pairwise(x, w) -> float:
    """The definition: sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean)."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    total = w.sum()
    mean = (w * x).sum() / total
    if mean == 0:
        return 0.0
    return float((np.outer(w, w) * np.abs(x[:, None] - x[None, :])).sum()
                 / (2 * total ** 2 * mean))


cells = st.lists(st.tuples(st.floats(0, 120, allow_nan=False),
                           st.integers(1, 50)), min_size=1, max_size=40)


@given(cells)
def test_gini_is_the_pairwise_definition(data):
    x, w = zip(*data, strict=True)
    assert gini(x, w) == pytest.approx(_pairwise(x, w), abs=1e-12)


@given(cells)
def test_integer_weights_are_people_replicated(data):
    x, w = zip(*data, strict=True)
    people = np.repeat(np.asarray(x, float), np.asarray(w))
    assert gini(x, w) == pytest.approx(gini(people), abs=1e-12)
    assert gini(x, np.asarray(w) * 7.5) == pytest.approx(gini(x, w), abs=1e-12)


@given(cells)
def test_the_curve_is_twice_the_gini_area(data):
    x, w = zip(*data, strict=True)
    if sum(a * b for a, b in data) == 0:
        return
    p, v = concentration_curve(x, w)
    assert p[0] == v[0] == 0 and p[-1] == pytest.approx(1) and v[-1] == pytest.approx(1)
    assert (v <= p + 1e-12).all() and (np.diff(p) >= 0).all()
    area = float(np.sum((p[1:] - p[:-1]) * (v[1:] + v[:-1]) / 2))   # trapezoids: exact
    assert 1 - 2 * area == pytest.approx(gini(x, w), abs=1e-9)


def test_known_values():
    assert gini([5, 5, 5], [10, 20, 30]) == 0.0
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)              # (n - 1) / n
    assert gini([0, 1], [1, 1]) == pytest.approx(0.5)
    assert gini([3, 9], [0, 4]) == 0.0                             # empty cells drop out
    assert np.isnan(gini([1, 2], [0, 0]))


def test_time_equity_counts_the_unreached_at_a_stated_cap():
    t = [5.0, 10.0, np.inf, 30.0]
    w = [100, 300, 50, 50]
    with pytest.raises(GeoplanInputError, match="50 people in 1 cells reach no facility"):
        time_equity(t, w)
    with pytest.raises(GeoplanInputError, match="below a reached time"):
        time_equity(t, w, cap_minutes=20)
    e = time_equity(t, w, cap_minutes=60)
    assert e.capped_people == 50 and e.cap_minutes == 60
    assert e.gini == pytest.approx(_pairwise([5, 10, 60, 30], w))
    assert e.mean_minutes == pytest.approx((500 + 3000 + 3000 + 1500) / 500)
    assert e.p90_minutes == 30.0                 # 400 people within 10 min, 450 within 30
    assert time_equity([4, 8], [1, 1]).capped_people == 0


@pytest.mark.parametrize(("values", "weights", "word"), [
    ([1, 2], [1], "2 values but 1 weights"),
    ([1, -2], [1, 1], "negative"),
    ([1, np.nan], [1, 1], "finite"),
    ([1, 2], [1, np.inf], "finite"),
])
def test_bad_inputs_are_refused(values, weights, word):
    with pytest.raises(GeoplanInputError, match=word):
        gini(values, weights)


@given(cells)
def test_curve_points_are_the_people_sorted_by_time(data):
    """The points a page draws: at each population share k/100, the share of all time
    held by that many people (counted person by person), nearest first."""
    from geoplan.access.equity import concentration_points
    x, w = zip(*data, strict=True)
    if sum(a * b for a, b in data) == 0:
        return
    people = np.sort(np.repeat(np.asarray(x, float), np.asarray(w)))
    people = people / people.max()            # shares of time: scale-free (5e-324 too)
    pts = concentration_points(x, w, points=11)
    assert len(pts) == 11 and pts[0] == 0 and pts[-1] == pytest.approx(1)
    n, total = people.size, people.sum()
    for k, y in enumerate(pts):
        share = k / 10 * n                        # people up to this share, fractional
        whole = int(np.floor(share))
        held = people[:whole].sum() + (share - whole) * (people[whole] if whole < n else 0)
        assert y == pytest.approx(held / total, abs=1e-9)

"""Equity of access: how evenly travel time (or coverage) falls on the population.

Why: a plan that raises the county's covered share can still leave one township far
behind. Planners report the share covered per unit and the worst unit (the per-unit tables
of :mod:`geoplan.access.coverage` carry them); this module adds the distribution of travel
time itself, weighted by people: its **Gini coefficient** and **concentration (Lorenz)
curve**, the standard inequality measures of the accessibility literature.

Maths
-----
For travel times :math:`x_i \\ge 0` of cells with populations :math:`w_i > 0`,
:math:`W = \\sum_i w_i` and the mean :math:`\\mu = \\sum_i w_i x_i / W`, the
population-weighted Gini coefficient is

.. math::

    G = \\frac{\\sum_i \\sum_j w_i w_j \\lvert x_i - x_j \\rvert}{2 W^2 \\mu}

(0: everyone has the same time; it approaches 1 when one person carries all of it). With
the cells sorted by time and :math:`W_{<i}` the population of the cells before cell
:math:`i`, :math:`\\sum_j w_j \\lvert x_i - x_j \\rvert` summed against :math:`w_i x_i`
telescopes to

.. math::

    G = \\frac{\\sum_i w_i x_i (2 W_{<i} + w_i - W)}{W^2 \\mu},

one sort and one pass (:math:`O(n \\log n)` instead of :math:`O(n^2)`; tied times cancel
pairwise, so their order does not matter). The concentration curve plots the cumulative
share of the population, cells sorted by time, against the cumulative share of
person-minutes; :math:`G` is twice the area between it and the diagonal. Integer weights
give the Gini of the population replicated person by person.

People who reach no facility have no finite time: they are counted at a stated cap
(``cap_minutes``, e.g. the search limit) or the call is refused, never dropped silently.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geoplan._errors import GeoplanInputError

__all__ = ["TimeEquity", "concentration_curve", "concentration_points", "gini",
           "time_equity"]


def _checked(values: ArrayLike, weights: ArrayLike | None
             ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(values, dtype=float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if x.shape != w.shape:
        raise GeoplanInputError(f"{len(x)} values but {len(w)} weights", field="weights",
                                hint="give one population per travel time")
    if not (np.isfinite(x).all() and np.isfinite(w).all()):
        raise GeoplanInputError("travel times and populations must be finite",
                                field="values", hint="count people who reach nothing at a "
                                "cap (time_equity(..., cap_minutes=...))")
    if (x < 0).any() or (w < 0).any():
        raise GeoplanInputError("travel times and populations must not be negative",
                                field="values")
    keep = w > 0
    return x[keep], w[keep]


def gini(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Population-weighted Gini coefficient of non-negative values (see module maths).

    Parameters
    ----------
    values
        E.g. minutes to the nearest facility per cell.
    weights
        People per cell (default: 1 each). Cells with 0 people do not count.

    Returns
    -------
    float
        In [0, 1); 0 when all values are equal (or all zero); NaN without people.

    Raises
    ------
    GeoplanInputError
        Lengths differ, or a value or weight is negative, NaN or infinite.
    """
    x, w = _checked(values, weights)
    total = w.sum()
    if total <= 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    mean = float((w * x).sum() / total)
    if mean <= 0:
        return 0.0
    before = np.cumsum(w) - w
    return float((w * x * (2.0 * before + w - total)).sum() / (total * total * mean))


def concentration_curve(values: ArrayLike, weights: ArrayLike | None = None
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The concentration (Lorenz) curve of values over the population.

    Parameters
    ----------
    values, weights
        As for :func:`gini`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(population_share, value_share)``, both from 0 to 1, cells sorted by value
        (shortest time first); the curve lies on or below the diagonal.

    Raises
    ------
    GeoplanInputError
        As :func:`gini`; also when there are no people or the values sum to 0.
    """
    x, w = _checked(values, weights)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    total, mass = w.sum(), (w * x).sum()
    if total <= 0 or mass <= 0:
        raise GeoplanInputError("no people, or every value is 0: no curve to draw",
                                field="values")
    return (np.concatenate([[0.0], np.cumsum(w) / total]),
            np.concatenate([[0.0], np.cumsum(w * x) / mass]))


def concentration_points(values: ArrayLike, weights: ArrayLike | None = None, *,
                         points: int = 101) -> list[float]:
    """The concentration curve at evenly spaced population shares, for pages to draw.

    The curve of :func:`concentration_curve` is piecewise linear between its cells, so
    its value at population shares ``0, 1/(points-1), ..., 1`` is read exactly by linear
    interpolation; a page draws these ``points`` values instead of one per cell.

    Parameters
    ----------
    values, weights
        As for :func:`gini`.
    points
        How many shares, from 0 to 1 (at least 2).

    Returns
    -------
    list of float
        The cumulative share of the values (time) held by the first ``k/(points-1)`` of
        the population, shortest times first.
    """
    if points < 2:
        raise GeoplanInputError("a curve needs at least 2 points", field="points")
    px, py = concentration_curve(values, weights)
    return np.interp(np.linspace(0.0, 1.0, points), px, py).tolist()


class TimeEquity(NamedTuple):
    """How travel time falls on the population (:func:`time_equity`).

    Attributes
    ----------
    gini
        Population-weighted Gini coefficient of travel time.
    mean_minutes
        Population-weighted mean time.
    p90_minutes
        The time 90 % of the people are within.
    capped_people
        People counted at the cap (no facility within reach).
    cap_minutes
        The cap used (NaN when nobody needed it).
    """

    gini: float
    mean_minutes: float
    p90_minutes: float
    capped_people: float
    cap_minutes: float


def time_equity(minutes: ArrayLike, population: ArrayLike, *,
                cap_minutes: float | None = None) -> TimeEquity:
    """Equity figures of per-cell travel times.

    Parameters
    ----------
    minutes
        Minutes to the nearest facility per cell (``inf``/NaN: none within reach), e.g.
        the ``minutes`` column of :func:`geoplan.access.coverage.coverage_by_cell`.
    population
        People per cell.
    cap_minutes
        Time counted for people who reach nothing (e.g. the search limit). Required when
        anyone does: dropping them would flatter the figures.

    Returns
    -------
    TimeEquity

    Raises
    ------
    GeoplanInputError
        Unreached people without ``cap_minutes``, a cap below a reached time, or bad
        inputs (see :func:`gini`).
    """
    t = np.asarray(minutes, dtype=float).ravel()
    w = np.asarray(population, dtype=float).ravel()
    if t.shape != w.shape:
        raise GeoplanInputError(f"{len(t)} times but {len(w)} populations",
                                field="population", hint="one population per cell")
    unreached = ~np.isfinite(t)
    capped = float(w[unreached].sum())
    cap = float("nan")
    if unreached.any():
        if cap_minutes is None:
            raise GeoplanInputError(
                f"{capped:,.0f} people in {int(unreached.sum()):,} cells reach no facility",
                field="cap_minutes", hint="count them at a stated time, e.g. the search "
                                          "limit: cap_minutes=60")
        cap = float(cap_minutes)
        if not np.isfinite(cap) or (len(t[~unreached]) and cap < t[~unreached].max()):
            raise GeoplanInputError(f"cap_minutes = {cap_minutes} is below a reached time",
                                    field="cap_minutes",
                                    hint="use at least the longest reached time")
        t = np.where(unreached, cap, t)
    g = gini(t, w)
    keep = w > 0
    if not keep.any():
        return TimeEquity(float("nan"), float("nan"), float("nan"), capped, cap)
    order = np.argsort(t[keep], kind="stable")
    ts, ws = t[keep][order], w[keep][order]
    share = np.cumsum(ws) / ws.sum()
    p90 = float(ts[np.searchsorted(share, 0.9 - 1e-12)])
    return TimeEquity(g, float((ts * ws).sum() / ws.sum()), p90, capped, cap)

"""Capacity-aware coverage and accessibility indices from a sparse travel-time matrix.

Both functions take plain numbers — a ``facilities × cells`` sparse matrix whose stored
entries are the pairs within the cut-off (value: travel time, zero allowed), the
population of each cell and the supply of each facility — so they can be checked by
hand and reused by the optimisation models. The GIS front doors are in
:mod:`geoplan.access.coverage`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError

__all__ = ["CapacityCoverage", "capacity_coverage", "decay_weights", "two_step_fca"]

Decay = str | Callable[[NDArray[np.float64], float], NDArray[np.float64]] | None


def _check(times: sparse.spmatrix, population: ArrayLike, supply: ArrayLike
           ) -> tuple[sparse.csr_matrix, NDArray[np.float64], NDArray[np.float64]]:
    t = sparse.csr_matrix(times)
    pop = np.asarray(population, dtype=float)
    sup = np.asarray(supply, dtype=float)
    if t.shape != (sup.size, pop.size):
        raise GeoplanInputError(
            f"times has shape {t.shape}, expected (facilities={sup.size}, cells={pop.size})",
            field="times", hint="rows are facilities, columns are population cells")
    for name, arr in (("population", pop), ("supply/capacity", sup)):
        if not np.all(np.isfinite(arr)) or (arr < 0).any():
            raise GeoplanInputError(f"{name} must be finite and non-negative", field=name,
                                    hint="fix or drop the offending rows")
    return t, pop, sup


def decay_weights(t: NDArray[np.float64], cutoff: float, decay: Decay = None
                  ) -> NDArray[np.float64]:
    """Distance-decay weight of travel times ``t`` (all ≤ ``cutoff``).

    Parameters
    ----------
    t
        Travel times (any unit, same as ``cutoff``).
    cutoff
        Catchment size T.
    decay
        ``None``/``"binary"``: 1 inside the catchment (classic 2SFCA);
        ``"linear"``: ``1 - t/T``; ``"gaussian"``: the Gaussian 2SFCA weight of Dai (2010),
        ``(exp(-½(t/T)²) - exp(-½)) / (1 - exp(-½))``, 1 at the door and 0 at T;
        or a callable ``f(t, T)``.

    Returns
    -------
    numpy.ndarray
        Weights in [0, 1].
    """
    t = np.asarray(t, dtype=float)
    if decay is None or decay == "binary":
        return np.ones_like(t)
    if decay == "linear":
        return np.clip(1.0 - t / cutoff, 0.0, 1.0)
    if decay == "gaussian":
        e = np.exp(-0.5)
        return np.clip((np.exp(-0.5 * (t / cutoff) ** 2) - e) / (1.0 - e), 0.0, 1.0)
    if callable(decay):
        return np.asarray(decay(t, cutoff), dtype=float)
    raise GeoplanInputError(f"unknown distance decay '{decay}'", field="decay",
                            hint="use None, 'linear', 'gaussian' or a function f(t, T)")


def two_step_fca(
    times: sparse.spmatrix,
    population: ArrayLike,
    supply: ArrayLike,
    cutoff: float,
    *,
    decay: Decay = None,
    per: float = 1000.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two-step floating catchment area (2SFCA) accessibility, optional distance decay.

    For facilities j with supply S_j (e.g. beds), cells i with population P_i, travel
    times t_ij and weights W(t) (``decay``), over pairs with t_ij ≤ T::

        R_j = S_j / Σ_i P_i W(t_ij)             (supply-to-demand ratio of facility j)
        A_i = per · Σ_j R_j W(t_ij)             (accessibility of cell i)

    so with ``per=1000`` and beds as supply, A_i reads "beds per 1,000 people reachable
    within T" (Luo & Wang 2003; Gaussian decay: Dai 2010). Facilities no one reaches get
    R_j = 0. The population-weighted mean of A equals ``per`` × (supply reachable by
    someone) / (population reaching something) when W ≡ 1.

    Parameters
    ----------
    times
        Sparse ``facilities × cells`` matrix; stored entries are the pairs within T
        (explicit zeros count as reachable).
    population
        P_i per cell.
    supply
        S_j per facility.
    cutoff
        T, in the unit of ``times``; stored entries above it are ignored.
    decay
        See :func:`decay_weights`.
    per
        Scale of the index (1,000 → per 1,000 people).

    Returns
    -------
    tuple of numpy.ndarray
        A_i per cell and R_j × per per facility.
    """
    t, pop, sup = _check(times, population, supply)
    t = t.copy()
    keep = t.data <= cutoff
    w = sparse.csr_matrix((np.where(keep, decay_weights(t.data, cutoff, decay), 0.0),
                           t.indices, t.indptr), shape=t.shape)
    demand = w @ pop  # Σ_i P_i W(t_ij) per facility
    ratio = np.divide(sup, demand, out=np.zeros_like(sup), where=demand > 0)
    access = w.T @ ratio
    return per * access, per * ratio


@dataclass(frozen=True)
class CapacityCoverage:
    """Result of :func:`capacity_coverage`.

    Attributes
    ----------
    served
        Population of each cell absorbed by some facility.
    over_capacity
        Population of each cell within reach of a facility but not absorbed because
        every facility in reach was full.
    out_of_reach
        Population of each cell with no facility within the cut-off.
    absorbed
        Population absorbed by each facility.
    demand_in_reach
        Population within the cut-off of each facility (counted for every facility).
    assigned_to
        Index of the facility that absorbed the largest part of each cell (-1 if none).
    """

    served: NDArray[np.float64]
    over_capacity: NDArray[np.float64]
    out_of_reach: NDArray[np.float64]
    absorbed: NDArray[np.float64]
    demand_in_reach: NDArray[np.float64]
    assigned_to: NDArray[np.intp]


def capacity_coverage(
    times: sparse.spmatrix,
    population: ArrayLike,
    capacity: ArrayLike,
    cutoff: float,
    *,
    order: ArrayLike | None = None,
) -> CapacityCoverage:
    """Geographic coverage with capacities (AccessMod's "geographic coverage analysis").

    Facilities are processed one after another in ``order`` (default: largest capacity
    first, ties by index). Each absorbs the still-unserved population of the cells within
    ``cutoff`` **in order of travel time** (ties by cell index) until its capacity is
    used; a cell may be split when the capacity runs out part-way through it. Population
    absorbed is removed from the pool before the next facility. Every person ends in
    exactly one of served / over-capacity / out-of-reach.

    Parameters
    ----------
    times
        Sparse ``facilities × cells`` travel times; stored entries are pairs within reach.
    population
        People per cell.
    capacity
        People each facility can serve (e.g. beds × people per bed).
    cutoff
        Maximum travel time (same unit as ``times``).
    order
        Facility indices in processing order (a permutation); default by capacity.

    Returns
    -------
    CapacityCoverage
    """
    t, pop, cap = _check(times, population, capacity)
    n_fac = cap.size
    seq = (np.lexsort((np.arange(n_fac), -cap)) if order is None
           else np.asarray(order, dtype=np.intp))
    if sorted(seq.tolist()) != list(range(n_fac)):
        raise GeoplanInputError("order must list every facility index exactly once",
                                field="order", hint="pass a permutation of 0..n-1")
    remaining = pop.copy()
    absorbed = np.zeros(n_fac)
    best = np.zeros(pop.size)
    assigned = np.full(pop.size, -1, dtype=np.intp)
    in_reach = np.zeros(pop.size, dtype=bool)
    demand = np.zeros(n_fac)
    for j in seq:
        lo, hi = t.indptr[j], t.indptr[j + 1]
        cells, tt = t.indices[lo:hi], t.data[lo:hi]
        ok = tt <= cutoff
        cells, tt = cells[ok], tt[ok]
        in_reach[cells] = True
        demand[j] = pop[cells].sum()
        if cells.size == 0 or cap[j] <= 0:
            continue
        ranked = cells[np.lexsort((cells, tt))]
        want = remaining[ranked]
        before = np.cumsum(want) - want
        take = np.clip(cap[j] - before, 0.0, want)
        remaining[ranked] -= take
        absorbed[j] = take.sum()
        better = take > best[ranked]
        best[ranked[better]] = take[better]
        assigned[ranked[better]] = j
    served = pop - remaining
    over = np.where(in_reach, remaining, 0.0)
    out = np.where(in_reach, 0.0, remaining)
    return CapacityCoverage(served=served, over_capacity=over, out_of_reach=out,
                            absorbed=absorbed, demand_in_reach=demand, assigned_to=assigned)

r"""LP bound and reduced-cost fixing for maximal covering.

Why: on large covering instances most candidate sites can be *proven* useless before
branching starts. Solve the LP relaxation of the reduced model once (HiGHS, directly
on the sparse matrix); with the LP optimum :math:`\bar z` and the reduced cost
:math:`d_j \le 0` of a site at its lower bound, every plan that opens :math:`j` covers at
most :math:`\bar z + d_j` (LP duality). If that is below the best plan :math:`z^*` already
known (from :mod:`geoplan.optimize.heuristics`), no better plan opens :math:`j`, and
:math:`j` is dropped. Symmetrically a site at its upper bound with
:math:`\bar z - d_j < z^*` is open in every better plan and is fixed open. With integral
weights the objective is integral and the test is :math:`< z^* + 1`.

If :math:`\bar z` itself is within the optimality tolerance of :math:`z^*`, the known plan
is proven optimal and no MILP is solved at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = ["LPBound", "fix_by_reduced_cost", "max_covering_lp"]


@dataclass
class LPBound:
    """The LP relaxation of a reduced maximal covering model.

    Attributes
    ----------
    value
        LP optimum (an upper bound on the covered weight of the reduced rows).
    x
        LP value of each site.
    reduced_cost
        Reduced cost of each site in the maximisation sense (``<= 0`` at 0, ``>= 0`` at 1).
    seconds
        Wall time of the LP solve.
    """

    value: float
    x: NDArray[np.float64]
    reduced_cost: NDArray[np.float64]
    seconds: float


def _row_groups(A: sparse.csr_matrix, seed: int = 1) -> NDArray[np.intp]:
    """Group rows by the min-hash of their coverage sets (similar rows, same group).

    Why: one aggregated Benders variable per group keeps each cut local (it touches
    only the sites near its rows) while needing far fewer cuts than one per row.
    """
    n, k = A.shape
    perm = np.random.default_rng(seed).permutation(k)
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    low = np.full(n, k, np.int64)
    np.minimum.at(low, rows, perm[A.indices])
    return np.unique(low, return_inverse=True)[1].astype(np.intp)


def max_covering_lp(A: sparse.csr_matrix, w: NDArray[np.float64], costs: NDArray[np.float64],
                    *, p: int | None, budget: float | None,
                    time_limit: float | None = None, tol: float = 1e-9) -> LPBound | None:
    r"""Bound :math:`\max \sum_i w_i y_i` s.t. :math:`y_i \le \sum_{j \in N_i} x_j`,
    :math:`\sum_j x_j \le p`, :math:`\sum_j c_j x_j \le B`, :math:`0 \le x, y \le 1`.

    Solved as a Benders cutting-plane LP (Cordeau, Furini & Ljubić 2019): the rows'
    variables are projected out; with row groups :math:`g` the master is

    .. math::

        \max \sum_g \theta_g \quad \text{s.t.} \quad
        \theta_g \le \sum_{i \in g,\, s_i \ge 1} w_i
            + \sum_{i \in g,\, s_i < 1} w_i \sum_{j \in N_i} x_j
        \quad \text{for cut points } \hat x, \; s = A \hat x,

    plus the count and budget rows: every cut is a supergradient of the concave
    :math:`\sum_{i \in g} w_i \min(1, (Ax)_i)`, so every master is a relaxation and its
    optimum an upper bound at any iteration. Cuts are separated at the master point and
    at an in-out stabilised point (Ben-Ameur & Neto 2007); the loop stops when the
    master value meets the LP value of its own point (relative ``tol``) or at the time
    limit. The master has one column per site and group, which is why it is much faster
    than the compact LP on large instances (50,000 x 1,000: within 0.002 % in 10 s and
    converged in 22 s, where the compact LP had not finished after 30 s). Non-binding
    cuts are purged when they pile up.

    Returns
    -------
    LPBound or None
        ``value`` is a valid upper bound (converged: the LP optimum within ``tol``);
        None only when HiGHS fails on the master.
    """
    import time

    import highspy

    t0 = time.perf_counter()
    A = A.astype(float).tocsr()
    n, k = A.shape
    w = np.asarray(w, float)
    AT = A.T.tocsr()
    groups = _row_groups(A)
    G = int(groups.max()) + 1 if n else 0
    Wg = np.bincount(groups, weights=w, minlength=G)
    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.addVars(k, np.zeros(k), np.ones(k))
    h.addVars(G, np.zeros(G), Wg)
    h.changeColsCost(G, np.arange(k, k + G, dtype=np.int32), -np.ones(G))
    cols = np.arange(k, dtype=np.int32)
    if p is not None:
        h.addRow(-inf, float(p), k, cols, np.ones(k))
    if budget is not None:
        h.addRow(-inf, float(budget), k, cols, np.asarray(costs, float))
    row_ids = np.arange(n)

    def add_cuts(x: NDArray[np.float64], which: NDArray[np.intp]) -> None:
        if which.size == 0:
            return
        under = (A @ x) < 1 - 1e-12
        const = np.bincount(groups, weights=w * ~under, minlength=G)[which]
        pick = np.full(G, -1)
        pick[which] = np.arange(which.size)
        keep = pick[groups] >= 0
        Wu = sparse.csr_matrix(((w * under)[keep], (row_ids[keep], pick[groups[keep]])),
                               shape=(n, which.size))
        coef = (AT @ Wu).tocsc()
        coef.eliminate_zeros()
        nc = which.size
        lens = np.diff(coef.indptr)
        starts = (coef.indptr[:-1] + np.arange(nc)).astype(np.int32)
        index = np.empty(coef.nnz + nc, np.int32)
        value = np.empty(coef.nnz + nc)
        theta_pos = starts + lens
        mask = np.ones(index.size, bool)
        mask[theta_pos] = False
        index[mask], value[mask] = coef.indices, -coef.data
        index[theta_pos], value[theta_pos] = k + which, 1.0
        h.addRows(nc, np.full(nc, -inf), const, index.size, starts, index, value)

    n_fixed_rows = h.getNumRow()

    def purge(sol: Any) -> None:
        # drop non-binding cuts once they outnumber the columns twice over: the master
        # stays small and fast (2x faster convergence on 50,000 x 1,000); a dropped cut
        # comes back when it is violated again
        if h.getNumRow() - n_fixed_rows < 2 * (k + G):
            return
        dual = np.asarray(sol.row_dual, float)[n_fixed_rows:]
        drop = np.nonzero(np.abs(dual) <= 1e-12)[0] + n_fixed_rows
        if drop.size:
            h.deleteRows(drop.size, drop.astype(np.int32))

    add_cuts(np.zeros(k), np.arange(G))
    it = 0
    core = np.full(k, 0.5 if p is None else min(1.0, p / max(k, 1)))
    while True:
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = h.getSolution()
        x = np.clip(np.asarray(sol.col_value[:k], float), 0.0, 1.0)
        theta = np.asarray(sol.col_value[k:], float)
        upper = float(theta.sum())
        val_g = np.bincount(groups, weights=w * np.minimum(A @ x, 1.0), minlength=G)
        if upper - val_g.sum() <= tol * max(1.0, upper):
            break
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            break
        viol = np.nonzero(theta > val_g + 1e-9 * np.maximum(1.0, val_g))[0]
        add_cuts(0.5 * (x + core), viol)          # stabilised (in-out) cut
        add_cuts(x, viol)                         # and the cut that removes the point
        core = 0.5 * (core + x)
        it += 1
        if it % 10 == 0 and it <= 1000:      # no purging late: the loop must end
            purge(sol)
    d = -np.asarray(sol.col_dual[:k], float)
    return LPBound(value=upper, x=x, reduced_cost=d, seconds=time.perf_counter() - t0)


def fix_by_reduced_cost(lp: LPBound, incumbent: float, *, integral: bool
                        ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Sites proven closed / open in every plan better than ``incumbent``.

    Parameters
    ----------
    lp
        The LP relaxation (same rows, weights and sites as the incumbent's value).
    incumbent
        Covered weight of a known plan on the reduced rows.
    integral
        True when every weight is a whole number (the objective is then integral).

    Returns
    -------
    closed, open
        Boolean masks over the sites.
    """
    # a plan better than the incumbent covers at least this much
    need = incumbent + 1.0 - 1e-6 if integral else incumbent + 1e-9 * max(1.0, incumbent)
    slack = 1e-7 * max(1.0, abs(lp.value))        # LP tolerances
    d = lp.reduced_cost
    closed = (lp.x <= 1e-9) & (lp.value + d + slack < need)
    opened = (lp.x >= 1 - 1e-9) & (lp.value - d + slack < need)
    return closed, opened

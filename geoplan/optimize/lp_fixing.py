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


def max_covering_lp(A: sparse.csr_matrix, w: NDArray[np.float64], costs: NDArray[np.float64],
                    *, p: int | None, budget: float | None,
                    time_limit: float | None = None) -> LPBound | None:
    r"""Solve :math:`\max \sum_i w_i y_i` s.t. :math:`y_i \le \sum_{j \in N_i} x_j`,
    :math:`\sum_j x_j \le p`, :math:`\sum_j c_j x_j \le B`, :math:`0 \le x, y \le 1`.

    Returns
    -------
    LPBound or None
        None when HiGHS did not reach a proven LP optimum (time limit, numerical
        trouble): the caller then skips fixing.
    """
    import time

    import highspy

    t0 = time.perf_counter()
    n, k = A.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    inf = highspy.kHighsInf
    h.addVars(k, np.zeros(k), np.ones(k))
    h.addVars(n, np.zeros(n), np.ones(n))
    h.changeColsCost(n, np.arange(k, k + n, dtype=np.int32), -np.asarray(w, float))
    M = sparse.hstack([-A.astype(float), sparse.identity(n, format="csr")]).tocsr()
    h.addRows(n, np.full(n, -inf), np.zeros(n), M.nnz, M.indptr[:-1].astype(np.int32),
              M.indices.astype(np.int32), M.data.astype(float))
    cols = np.arange(k, dtype=np.int32)
    if p is not None:
        h.addRow(-inf, float(p), k, cols, np.ones(k))
    if budget is not None:
        h.addRow(-inf, float(budget), k, cols, np.asarray(costs, float))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    value = -float(h.getInfo().objective_function_value)
    x = np.asarray(sol.col_value[:k], float)
    d = -np.asarray(sol.col_dual[:k], float)
    return LPBound(value=value, x=x, reduced_cost=d, seconds=time.perf_counter() - t0)


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

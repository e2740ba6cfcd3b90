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

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = ["LPBound", "fix_by_probing", "fix_by_reduced_cost", "max_covering_lp"]


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
    _master: Any = field(default=None, repr=False, compare=False)


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
                    time_limit: float | None = None, tol: float = 1e-9,
                    groups: NDArray[np.intp] | None = None,
                    caps: NDArray[np.int64] | None = None) -> LPBound | None:
    r"""Bound :math:`\max \sum_i w_i y_i` s.t. :math:`y_i \le \sum_{j \in N_i} x_j`,
    :math:`\sum_j x_j \le p`, :math:`\sum_j c_j x_j \le B`, :math:`0 \le x, y \le 1`.

    Solved as a Benders cutting-plane LP (Cordeau, Furini & Ljubić 2019): the rows'
    variables are projected out; with row groups :math:`g` the master is

    .. math::

        \max \sum_g \theta_g \quad \text{s.t.} \quad
        \theta_g \le \sum_{i \in g,\, s_i \ge 1} w_i
            + \sum_{i \in g,\, s_i < 1} w_i \sum_{j \in N_i} x_j
        \quad \text{for cut points } \hat x, \; s = A \hat x,

    plus the count, budget and per-unit cap rows: every cut is a supergradient of the concave
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
    master = _Master(A, w, costs, p=p, budget=budget, groups=groups, caps=caps)
    return master.bound(time_limit=time_limit, tol=tol)


class _Master:
    """The Benders master of :func:`max_covering_lp`, kept alive for probing."""

    def __init__(self, A: sparse.csr_matrix, w: NDArray[np.float64],
                 costs: NDArray[np.float64], *, p: int | None, budget: float | None,
                 groups: NDArray[np.intp] | None = None,
                 caps: NDArray[np.int64] | None = None) -> None:
        import highspy

        from .solver import new_highs

        self.A = A.astype(float).tocsr()
        self.n, self.k = self.A.shape
        self.w = np.asarray(w, float)
        self.AT = self.A.T.tocsr()
        self.groups = _row_groups(self.A)
        self.G = int(self.groups.max()) + 1 if self.n else 0
        self.p = p
        k, G = self.k, self.G
        self.inf = highspy.kHighsInf
        self.optimal = highspy.HighsModelStatus.kOptimal
        h = self.h = new_highs(threads=1)
        h.addVars(k, np.zeros(k), np.ones(k))
        h.addVars(G, np.zeros(G), np.bincount(self.groups, weights=self.w, minlength=G))
        h.changeColsCost(G, np.arange(k, k + G, dtype=np.int32), -np.ones(G))
        cols = np.arange(k, dtype=np.int32)
        if p is not None:
            h.addRow(-self.inf, float(p), k, cols, np.ones(k))
        if budget is not None:
            h.addRow(-self.inf, float(budget), k, cols, np.asarray(costs, float))
        if groups is not None and caps is not None:
            for g, cap in enumerate(np.asarray(caps).tolist()):
                in_g = np.flatnonzero(groups == g).astype(np.int32)
                if in_g.size > cap:
                    h.addRow(-self.inf, float(cap), in_g.size, in_g, np.ones(in_g.size))
        self.n_fixed_rows = h.getNumRow()
        self.add_cuts(np.zeros(k), np.arange(G))
        self.core = np.full(k, 0.5 if p is None else min(1.0, p / max(k, 1)))
        self.rounds = 0

    def add_cuts(self, x: NDArray[np.float64], which: NDArray[np.intp]) -> None:
        """Add the cut of each group in ``which`` at the point ``x``."""
        if which.size == 0:
            return
        n, k, G, w, groups = self.n, self.k, self.G, self.w, self.groups
        under = (self.A @ x) < 1 - 1e-12
        const = np.bincount(groups, weights=w * ~under, minlength=G)[which]
        pick = np.full(G, -1)
        pick[which] = np.arange(which.size)
        keep = pick[groups] >= 0
        Wu = sparse.csr_matrix(((w * under)[keep], (np.arange(n)[keep], pick[groups[keep]])),
                               shape=(n, which.size))
        coef = (self.AT @ Wu).tocsc()
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
        self.h.addRows(nc, np.full(nc, -self.inf), const, index.size, starts, index, value)

    def _purge(self, sol: Any) -> None:
        # drop non-binding cuts once they outnumber the columns twice over: the master
        # stays small and fast (2x faster convergence on 50,000 x 1,000); a dropped cut
        # comes back when it is violated again
        h = self.h
        if h.getNumRow() - self.n_fixed_rows < 2 * (self.k + self.G):
            return
        dual = np.asarray(sol.row_dual, float)[self.n_fixed_rows:]
        drop = np.nonzero(np.abs(dual) <= 1e-12)[0] + self.n_fixed_rows
        if drop.size:
            h.deleteRows(drop.size, drop.astype(np.int32))

    def _iterate(self, *, stop_below: float = -math.inf, max_rounds: int | None = None,
                 deadline: float | None = None, tol: float = 1e-9, stall_rounds: int = 30,
                 ) -> tuple[str, float, NDArray[np.float64], Any]:
        """Cut loop. Returns (why it stopped, master value, point, solution).

        Every returned value comes from a master LP that HiGHS solved to optimality, so
        it is a valid upper bound and its duals are valid reduced costs. Why: "converged"
        (within ``tol``), "below" (under ``stop_below``), "stopped" (deadline or
        ``max_rounds``; an LP interrupted at the deadline gives the previous master),
        "stalled" (less than a relative 1e-9 progress in ``stall_rounds`` rounds), or
        "failed" (no master LP solved).
        """
        from .solver import run_highs

        k, G, w, groups = self.k, self.G, self.w, self.groups
        done = 0
        last: tuple[float, NDArray[np.float64], Any] | None = None
        history: list[float] = []
        while True:
            hard = None if deadline is None else deadline + 0.5
            if run_highs(self.h, deadline=hard) != self.optimal:
                if last is not None:
                    return ("stopped", *last)
                return "failed", math.inf, np.zeros(k), None
            sol = self.h.getSolution()
            x = np.clip(np.asarray(sol.col_value[:k], float), 0.0, 1.0)
            theta = np.asarray(sol.col_value[k:], float)
            upper = float(theta.sum())
            last = (upper, x, sol)
            if upper < stop_below:
                return "below", upper, x, sol
            val_g = np.bincount(groups, weights=w * np.minimum(self.A @ x, 1.0), minlength=G)
            if upper - val_g.sum() <= tol * max(1.0, upper):
                return "converged", upper, x, sol
            if (deadline is not None and time.perf_counter() > deadline) or (
                    max_rounds is not None and done >= max_rounds):
                return "stopped", upper, x, sol
            history.append(upper)
            if len(history) > stall_rounds and (
                    history[-stall_rounds - 1] - upper <= 1e-9 * max(1.0, abs(upper))):
                return "stalled", upper, x, sol
            viol = np.nonzero(theta > val_g + 1e-9 * np.maximum(1.0, val_g))[0]
            self.add_cuts(0.5 * (x + self.core), viol)    # stabilised (in-out) cut
            self.add_cuts(x, viol)                        # and the cut that removes the point
            self.core = 0.5 * (self.core + x)
            done += 1
            self.rounds += 1
            if self.rounds % 10 == 0 and self.rounds <= 1000:   # no purging late: must end
                self._purge(sol)

    def bound(self, *, time_limit: float | None, tol: float) -> LPBound | None:
        t0 = time.perf_counter()
        why, upper, x, sol = self._iterate(
            deadline=None if time_limit is None else t0 + time_limit, tol=tol)
        self.stop = why
        if why == "failed":
            return None
        d = -np.asarray(sol.col_dual[:self.k], float)
        return LPBound(value=upper, x=x, reduced_cost=d, seconds=time.perf_counter() - t0,
                       _master=self)

    def probe(self, j: int, need: float, *, max_rounds: int,
              deadline: float | None = None) -> bool:
        """Whether every plan that opens ``j`` covers less than ``need`` (then close ``j``)."""
        self.h.changeColBounds(int(j), 1.0, 1.0)
        try:
            why, _, _, _ = self._iterate(stop_below=need, max_rounds=max_rounds,
                                         deadline=deadline)
        finally:
            self.h.changeColBounds(int(j), 0.0, 1.0)
        return why == "below"

    def close(self, j: int) -> None:
        """Keep site ``j`` shut in later probes (valid for plans better than the incumbent)."""
        self.h.changeColBounds(int(j), 0.0, 0.0)


def fix_by_probing(lp: LPBound, incumbent: float, closed: NDArray[np.bool_], *,
                   integral: bool, seconds: float | None, max_rounds: int = 25,
                   give_up_after: int = 15, recheck_every: int = 100) -> NDArray[np.bool_]:
    r"""Close more sites by probing: bound the LP with the site forced open.

    For each open candidate :math:`j` (most negative reduced cost first) the Benders master
    is re-optimised with :math:`x_j = 1` and the sites closed so far at 0; once its value
    (a valid bound at every iterate) drops below what a better plan must cover, :math:`j`
    is closed too. A probe gives up after ``max_rounds`` cut rounds; probing stops after
    ``give_up_after`` failures in a row or ``seconds``. Every ``recheck_every`` closures
    the LP is re-bounded with the closed sites shut (:func:`_recheck`): its value falls,
    and its reduced costs close more sites, or prove that no better plan exists. On the
    10,000 x 500 e-bike benchmark probing closes 326 of the 345 sites reduced costs left,
    and the proof takes 55 s instead of 278 s.

    Returns
    -------
    closed
        The updated mask (a copy).
    """
    master = getattr(lp, "_master", None)
    closed = closed.copy()
    if master is None:
        return closed
    need = _need(incumbent, integral)
    need -= 1e-7 * max(1.0, abs(need))              # LP tolerances
    for j in np.nonzero(closed)[0]:
        master.close(int(j))
    order = np.nonzero(~closed)[0]
    order = order[np.argsort(lp.reduced_cost[order], kind="stable")]
    deadline = None if seconds is None else time.perf_counter() + seconds
    fails = since_check = 0
    for j in order:
        if fails >= give_up_after or (deadline is not None and time.perf_counter() > deadline):
            break
        if closed[j]:
            continue
        if master.probe(int(j), need, max_rounds=max_rounds, deadline=deadline):
            closed[j] = True
            master.close(int(j))
            fails = 0
            since_check += 1
            if since_check >= recheck_every:
                since_check = 0
                if _recheck(master, closed, need, deadline):
                    break
        else:
            fails += 1
    _recheck(master, closed, need, deadline)
    return closed


def _recheck(master: _Master, closed: NDArray[np.bool_], need: float,
             deadline: float | None) -> bool:
    """Re-bound the LP with the closed sites shut and fix by reduced cost again.

    Closing sites lowers the LP bound itself: when it falls below ``need`` no better
    plan exists at all (every site is closed, ``True`` is returned); otherwise the new
    reduced costs close more sites at once.
    """
    why, value, x, sol = master._iterate(stop_below=need, max_rounds=100, deadline=deadline)
    if why == "below":
        closed[:] = True
        return True
    if why != "converged":
        return False
    d = -np.asarray(sol.col_dual[:master.k], float)
    more = ~closed & (x <= 1e-9) & (value + d < need)
    for j in np.nonzero(more)[0]:
        closed[j] = True
        master.close(int(j))
    return False


def _need(incumbent: float, integral: bool) -> float:
    """What a plan strictly better than ``incumbent`` covers at least."""
    return incumbent + 1.0 - 1e-6 if integral else incumbent + 1e-9 * max(1.0, incumbent)


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
    need = _need(incumbent, integral)
    slack = 1e-7 * max(1.0, abs(lp.value))        # LP tolerances
    d = lp.reduced_cost
    closed = (lp.x <= 1e-9) & (lp.value + d + slack < need)
    opened = (lp.x >= 1 - 1e-9) & (lp.value - d + slack < need)
    return closed, opened

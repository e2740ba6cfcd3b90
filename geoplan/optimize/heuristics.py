"""Good maximal-covering plans fast: greedy, swap local search and iterated local search.

Why: an exact solver proves a plan optimal by closing the gap between its best plan and
its bound; on large covering instances it can spend minutes before it even *finds* a
good plan. A plan from here is handed to it as a start, prunes its search, and makes the
reduced-cost fixing of :mod:`geoplan.optimize.lp_fixing` strong (the better the plan,
the more sites are proven useless). Nothing here claims optimality.

All functions work on a reduced :class:`~geoplan.optimize.reduce.CoverInstance`
(merged rows ``A``, weights ``w``, costs) and return column indices of it.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .reduce import CoverInstance

__all__ = ["covered_weight", "greedy_max_covering", "greedy_set_covering",
           "improve_max_covering"]


def covered_weight(A: sparse.csc_matrix, w: NDArray[np.float64], cols: list[int]) -> float:
    """Weight of the rows of ``A`` covered by the columns ``cols``."""
    if not cols:
        return 0.0
    hit = np.zeros(A.shape[0], bool)
    for j in cols:
        hit[A.indices[A.indptr[j]:A.indptr[j + 1]]] = True
    return float(w[hit].sum())


def greedy_max_covering(inst: CoverInstance, *, p: int | None, budget: float | None,
                        forced: list[int] | None = None) -> list[int]:
    """Add the column with the best gain (per cost when a budget binds) until full.

    Within ``1 - 1/e`` of the optimum under a count limit (Nemhauser, Wolsey & Fisher
    1978). ``forced`` columns are taken first.
    """
    return _greedy(inst.A.tocsc(), inst.w, inst.costs, p=p, budget=budget, forced=forced,
                   caps=_Caps.of(inst))


def greedy_set_covering(inst: CoverInstance, need: float | None,
                        unit_need: dict[str, float] | None = None) -> list[int] | None:
    r"""Find a set-covering plan: cheapest gain first, then redundant sites removed.

    Chvatal's greedy (1979; within :math:`H(\max_j |N_j|)` of the optimum for full
    covering): add the column with the most *useful* newly covered weight per cost -
    every uncovered row when all rows must be covered (``need`` None), otherwise the
    newly covered weight up to what the global target and each unit's target still
    lack - until every target is met; then drop chosen columns, costliest first, whose
    removal keeps every target. Per-unit caps are respected.

    Parameters
    ----------
    inst
        The reduced instance (rows already covered by existing sites are gone).
    need
        Weight of the reduced rows to cover (the global share target), or None: every
        row.
    unit_need
        Weight to cover per unit label of ``inst.row_unit`` (unit share targets).

    Returns
    -------
    list of int or None
        Columns of ``inst``; None when the greedy cannot meet the targets (caps).
    """
    A = inst.A.tocsc()
    R = inst.A.tocsr()
    n_rows, n_cols = A.shape
    w = np.ones(n_rows) if need is None else inst.w
    costs = np.maximum(inst.costs, 1e-12)
    caps = _Caps.of(inst)
    units: list[str] = []
    Urows = None
    rem_u = np.zeros(0)
    if unit_need and inst.row_unit is not None:
        labels = inst.row_unit.astype(str)
        units = sorted(k for k, v in unit_need.items() if v > 0)
        code = {k: i for i, k in enumerate(units)}
        idx = np.array([code.get(k, -1) for k in labels])
        ok = idx >= 0
        Urows = sparse.csr_matrix((np.ones(int(ok.sum())), (np.flatnonzero(ok), idx[ok])),
                                  shape=(n_rows, len(units)))
        rem_u = np.array([unit_need[k] for k in units], float)
    rem = float(w.sum()) if need is None else float(need)
    uncovered = np.ones(n_rows, bool)
    chosen: list[int] = []
    banned = np.zeros(n_cols, bool)
    tol = 1e-9 * max(1.0, float(w.sum()))

    def short() -> bool:
        return rem > tol or bool((rem_u > tol).any())

    while short():
        wu = w * uncovered
        new = np.asarray(A.T @ wu).ravel()
        gain = np.minimum(new, max(rem, 0.0))
        if Urows is not None:
            per_u = (A.T @ Urows.multiply(wu[:, None]).tocsc()).toarray()
            gain = gain + np.minimum(per_u, np.maximum(rem_u, 0.0)).sum(axis=1)
        score = gain / costs
        score[banned] = -1.0
        if caps is not None:
            score[~caps.fits(caps.used(chosen))] = -1.0
        j = int(np.argmax(score))
        if score[j] <= 0:
            return None
        chosen.append(j)
        banned[j] = True
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        rows = rows[uncovered[rows]]
        uncovered[rows] = False
        rem -= float(w[rows].sum())
        if Urows is not None:
            rem_u = rem_u - np.asarray(Urows[rows].T @ w[rows]).ravel()
    # redundancy removal, costliest first
    count = np.asarray(R[:, chosen].sum(axis=1)).ravel() if chosen else np.zeros(n_rows)
    for j in sorted(chosen, key=lambda c: -costs[c]):
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        lost = rows[count[rows] == 1]
        lw = float(w[lost].sum())
        if need is None and lost.size:
            continue
        if rem + lw > tol:
            continue
        if Urows is not None and lost.size and (
                rem_u + np.asarray(Urows[lost].T @ w[lost]).ravel() > tol).any():
            continue
        count[rows] -= 1
        rem += lw
        if Urows is not None and lost.size:
            rem_u = rem_u + np.asarray(Urows[lost].T @ w[lost]).ravel()
        chosen.remove(j)
    return chosen


class _Caps:
    """Per-unit limits on new sites (cap groups of the columns), or none (private)."""

    def __init__(self, group: NDArray[np.intp], cap: NDArray[np.int64]) -> None:
        self.group = group
        self.cap = cap

    @staticmethod
    def of(inst: CoverInstance) -> _Caps | None:
        if inst.col_group is None or inst.group_cap is None:
            return None
        return _Caps(inst.col_group, inst.group_cap)

    def used(self, chosen: list[int]) -> NDArray[np.int64]:
        g = self.group[np.asarray(chosen, np.intp)] if chosen else np.array([], np.intp)
        return np.bincount(g[g >= 0], minlength=self.cap.size)

    def fits(self, used: NDArray[np.int64], freed: int = -1) -> NDArray[np.bool_]:
        """Columns that can be added (after removing a column of group ``freed``)."""
        room = self.cap - used
        if freed >= 0:
            room = room.copy()
            room[freed] += 1
        return (self.group < 0) | (room[np.maximum(self.group, 0)] > 0)


def _greedy(A: sparse.csc_matrix, w: NDArray[np.float64], costs: NDArray[np.float64], *,
            p: int | None, budget: float | None, forced: list[int] | None,
            caps: _Caps | None = None) -> list[int]:
    """:func:`greedy_max_covering` on a column-compressed matrix (no conversion per call)
    with row weights ``w`` (iterated local search perturbs them)."""
    uncovered = np.ones(A.shape[0], bool)
    chosen: list[int] = []
    spent = 0.0
    for j in forced or []:
        chosen.append(int(j))
        spent += float(costs[j])
        uncovered[A.indices[A.indptr[j]:A.indptr[j + 1]]] = False
    limit = A.shape[1] if p is None else int(p)
    banned = np.zeros(A.shape[1], bool)
    banned[chosen] = True
    while len(chosen) < limit:
        gain = np.asarray(A.T @ (w * uncovered)).ravel()
        if budget is not None:
            fits = costs <= budget - spent + 1e-9
            gain = np.where(fits, gain / np.maximum(costs, 1e-9), -1.0)
        gain[banned] = -1.0
        if caps is not None:
            gain[~caps.fits(caps.used(chosen))] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        banned[j] = True
        spent += float(costs[j])
        uncovered[A.indices[A.indptr[j]:A.indptr[j + 1]]] = False
    return chosen


def _swap_descent(A: sparse.csc_matrix, w: NDArray[np.float64], costs: NDArray[np.float64],
                  chosen: list[int], p: int | None, budget: float | None,
                  caps: _Caps | None = None) -> list[int]:
    """Best-in swap (and add) moves until none improves the covered weight."""
    k = A.shape[1]
    count = np.zeros(A.shape[0], np.int32)
    for j in chosen:
        count[A.indices[A.indptr[j]:A.indptr[j + 1]]] += 1
    chosen = list(chosen)
    spent = float(costs[chosen].sum()) if chosen else 0.0
    room_p = (lambda: p is None or len(chosen) < p)
    improved = True
    while improved:
        improved = False
        # add moves while a site (and the budget) allows
        while room_p():
            gain = np.asarray(A.T @ (w * (count == 0))).ravel()
            ok = np.ones(k, bool) if budget is None else costs <= budget - spent + 1e-9
            if caps is not None:
                ok &= caps.fits(caps.used(chosen))
            ok[chosen] = False
            gain = np.where(ok, gain, -1.0)
            b = int(np.argmax(gain))
            if gain[b] <= 1e-12:
                break
            chosen.append(b)
            spent += float(costs[b])
            count[A.indices[A.indptr[b]:A.indptr[b + 1]]] += 1
            improved = True
        for j in list(chosen):
            rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
            loss = float(w[rows][count[rows] == 1].sum())
            count[rows] -= 1
            gain = np.asarray(A.T @ (w * (count == 0))).ravel()
            ok = np.ones(k, bool) if budget is None else (
                costs <= budget - spent + float(costs[j]) + 1e-9)
            if caps is not None:
                ok &= caps.fits(caps.used(chosen), freed=int(caps.group[j]))
            ok[chosen] = False
            gain = np.where(ok, gain, -1.0)
            b = int(np.argmax(gain))
            if gain[b] > loss + 1e-9 * max(1.0, loss):
                chosen[chosen.index(j)] = b
                spent += float(costs[b]) - float(costs[j])
                count[A.indices[A.indptr[b]:A.indptr[b + 1]]] += 1
                improved = True
            else:
                count[rows] += 1
    return chosen


def improve_max_covering(inst: CoverInstance, start: list[int], *, p: int | None,
                         budget: float | None, seconds: float = 1.0,
                         seed: int = 0) -> list[int]:
    """Iterated local search from ``start``: swap descent, then perturb and repeat.

    Each round keeps about two thirds of the best plan, refills it greedily on randomly
    perturbed row weights (+-30 %) and runs the swap descent on the true weights; the
    best plan is kept. Deterministic for a given ``seed`` and number of rounds; stops
    after ``seconds`` (and after at most 200 rounds without improvement).

    Returns
    -------
    list of int
        Columns of the best plan found (never worse than ``start``).
    """
    A = inst.A.tocsc()
    w, costs = inst.w, inst.costs
    caps = _Caps.of(inst)
    best = _swap_descent(A, w, costs, list(start), p, budget, caps)
    best_val = covered_weight(A, w, best)
    if len(best) < 2:
        return best
    rng = np.random.default_rng(seed)
    t_end = time.perf_counter() + seconds
    stale = 0
    while time.perf_counter() < t_end and stale < 200:
        drop = max(1, len(best) // 3)
        out = set(rng.choice(len(best), drop, replace=False).tolist())
        keep = [c for i, c in enumerate(best) if i not in out]
        start2 = _greedy(A, w * rng.uniform(0.7, 1.3, w.size), costs, p=p, budget=budget,
                         forced=keep, caps=caps)
        cand = _swap_descent(A, w, costs, start2, p, budget, caps)
        val = covered_weight(A, w, cand)
        if val > best_val + 1e-9 * max(1.0, best_val):
            best, best_val, stale = cand, val, 0
        else:
            stale += 1
    return sorted(best)

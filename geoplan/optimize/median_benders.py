r"""Benders decomposition of the p-median's radius formulation, and its exact solve.

Why separate: this is the proof engine of :mod:`geoplan.optimize.median` (the maths is
in :func:`geoplan.optimize.median.p_median`): the LP relaxation on a persistent HiGHS
model with closed-form cuts (Duran-Mateluna, Ales & Elloumi 2023), one cut variable per
group of rows so cuts stay local, reduced-cost fixing of candidates from the LP bound,
then the master MILP with lazy cuts until the incumbent meets the bound.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp
import scipy.sparse as sp
from numpy.typing import NDArray

from .median_heuristics import _swaps
from .median_rows import _cost, _first_second, _mix, _rel_gap, _Sub, _wsum
from .solver import (
    FEASIBLE,
    INFEASIBLE,
    OPTIMAL,
    Deadline,
    SolveInfo,
    _highs_version,
    new_highs,
    run_highs,
    solve,
)

# --------------------------------------------------------------------------------------


@dataclass
class _Levels:
    """Distinct times ("levels") of every row, in row order (private)."""

    row: NDArray[np.int64]       # row of each level
    d: NDArray[np.float64]       # its time D_i^k
    start: NDArray[np.int64]     # first entry of the level's shell
    end: NDArray[np.int64]       # one past its last entry


def _levels(sub: _Sub) -> _Levels:
    new = np.ones(sub.t.size, dtype=bool)
    new[1:] = (sub.row[1:] != sub.row[:-1]) | (sub.t[1:] != sub.t[:-1])
    start = np.flatnonzero(new)
    end = np.append(start[1:], sub.t.size).astype(np.int64)
    return _Levels(row=sub.row[start], d=sub.t[start], start=start, end=end)


def _deepest_cut(sub: _Sub, lev: _Levels, yv: NDArray[np.float64]):
    r"""Find the deepest Benders cut of every row at a (fractional) ``yv``.

    The cut of row :math:`i` at level :math:`s` is
    :math:`\theta_i \ge D_i^s - \sum_{j: t_{ij} < D_i^s} (D_i^s - t_{ij})\, y_j`
    (valid for every :math:`s`, with :math:`D_i^{K_i+1} = c_i` when the cap is
    finite). Its right-hand side at ``yv`` grows with :math:`s` while the open fraction
    nearer than :math:`D_i^s` is below one, so the deepest cut is at the first level
    where that fraction reaches one - the cap if it never does, or the last level for a
    row that must be served. Returns ``(dist, end)``: the cut's level time and one past
    its last entry (entries ``ptr[i]:end[i]``).
    """
    cs = np.cumsum(yv[sub.col])
    before = np.where(sub.ptr[:-1] > 0, cs[np.maximum(sub.ptr[:-1] - 1, 0)], 0.0)
    ylev = cs[lev.end - 1] - before[lev.row]          # open fraction up to each level
    g = np.flatnonzero(ylev >= 1 - 1e-7)              # sorted, so by row then level
    rg = lev.row[g]
    lead = np.ones(g.size, dtype=bool)
    lead[1:] = rg[1:] != rg[:-1]
    has = np.zeros(sub.n, dtype=bool)
    has[rg[lead]] = True
    gi = np.append(np.flatnonzero(lev.row[1:] != lev.row[:-1]), lev.row.size - 1)
    gi[rg[lead]] = g[lead]                            # else the row's last level
    capped = ~has & np.isfinite(sub.cap)
    dist = np.where(capped, sub.cap, lev.d[gi])
    end = np.where(capped, sub.ptr[1:], lev.start[gi])
    return dist, end


def _cut_value(sub: _Sub, dist: NDArray[np.float64], end: NDArray[np.int64],
               yv: NDArray[np.float64]) -> NDArray[np.float64]:
    """Right-hand side of each row's cut ``(dist, end)`` at ``yv`` (unweighted)."""
    inside = np.arange(sub.t.size) < end[sub.row]
    gain = np.where(inside, (dist[sub.row] - sub.t) * yv[sub.col], 0.0)
    return dist - _wsum(sub.row, weights=gain, minlength=sub.n)


@dataclass
class _Groups:
    """Rows sharing one master variable ``theta_g`` (their summed weighted time)."""

    of: NDArray[np.int64]         # group of each row
    n: int
    floor: NDArray[np.float64]    # sum of w_i D_i^1 over the group: theta_g's lower bound


def _groups(sub: _Sub, lev: _Levels) -> _Groups:
    """Group rows by their nearest candidate when rows outnumber candidates.

    Any grouping is exact: ``theta_g`` is bounded below by sums of its rows' cuts, which
    at an integer ``y`` equal the group's true time, and at convergence the LP bound is
    the same. Fewer master variables make each master far cheaper to solve, at the
    price of more cut rounds; rows with the same nearest candidate respond alike to
    opening sites, and grouping by it was measured 3-10x faster than one variable per
    row on 2,000 x 200 instances (and what makes 200,000-cell instances tractable).
    """
    d1 = lev.d[np.searchsorted(lev.row, np.arange(sub.n))]
    if sub.n <= sub.mc or not _GROUP_ROWS:
        of = np.arange(sub.n)
    else:
        _, of = np.unique(sub.col[sub.ptr[:-1]], return_inverse=True)
        of = of.ravel()
    n = int(of.max()) + 1
    return _Groups(of=of.astype(np.int64), n=n, floor=_wsum(of, sub.w * d1, n))


#: Group rows in the Benders master (see :func:`_groups`); tests switch it off.
_GROUP_ROWS = True


@dataclass
class _Cuts:
    """A batch of cuts ``theta_g + sum_j coef[k, j] y_j >= rhs[k]``, ``g = group[k]``."""

    group: NDArray[np.int64]
    coef: sp.csr_matrix
    rhs: NDArray[np.float64]


def _group_values(sub: _Sub, grp: _Groups, dist, end, yv) -> NDArray[np.float64]:
    """Right-hand side of every group's aggregated cut at ``yv``."""
    return _wsum(grp.of, sub.w * _cut_value(sub, dist, end, yv), grp.n)


def _cuts(sub: _Sub, grp: _Groups, groups: NDArray[np.int64], dist, end) -> _Cuts:
    """Build the cuts of ``groups``: the weighted sums of their rows' cuts."""
    loc = np.full(grp.n, -1, dtype=np.int64)
    loc[groups] = np.arange(groups.size)
    rl = loc[grp.of]
    e = np.flatnonzero((rl[sub.row] >= 0) & (np.arange(sub.t.size) < end[sub.row]))
    re = sub.row[e]
    coef = sp.csr_matrix((sub.w[re] * (dist[re] - sub.t[e]), (rl[re], sub.col[e])),
                         shape=(groups.size, sub.mc))
    coef.sum_duplicates()
    inrow = rl >= 0
    rhs = _wsum(rl[inrow], sub.w[inrow] * dist[inrow], groups.size)
    return _Cuts(group=groups, coef=coef, rhs=rhs)


def _cut_rows(cuts: _Cuts, mc: int) -> sp.csr_matrix:
    """Write the cuts as rows over the master's columns: ``y`` then ``theta``."""
    k = cuts.group.size
    theta = sp.csr_matrix((np.ones(k), (np.arange(k), mc + cuts.group)),
                          shape=(k, mc + int(cuts.group.max(initial=0)) + 1))
    a = cuts.coef.tocsr()
    a = sp.csr_matrix((a.data, a.indices, a.indptr), shape=(k, theta.shape[1]))
    out = (a + theta).tocsr()
    out.sort_indices()
    return out


def _must_serve(sub: _Sub) -> list[NDArray[np.int64]]:
    """Candidate sets of the rows that must be served (cap = inf), one per distinct set.

    Every such row needs an open candidate within the matrix: ``sum_{j in R_i} y_j >= 1``
    (rows that every candidate reaches are left out: ``sum_j y_j = p >= 1`` covers them).
    """
    ptr = sub.ptr
    must = np.flatnonzero(np.isinf(sub.cap) & (np.diff(ptr) < sub.mc))
    if not must.size:
        return []
    # a 64-bit hash of each row's candidate set (every row of the sub-problem has
    # entries, so the row starts are increasing)
    h = np.add.reduceat(_mix(sub.col.astype(np.uint64)), ptr[:-1])[must]
    _, keep = np.unique(np.stack([h, np.diff(ptr)[must].astype(np.uint64)], 1), axis=0,
                        return_index=True)
    return [sub.col[ptr[i]:ptr[i + 1]] for i in must[np.sort(keep)].tolist()]


class _LPMaster:
    r"""The LP relaxation of the Benders master, kept alive in HiGHS (private).

    Columns ``y_j`` in [0, 1] (candidates) then ``theta_g >= floor_g`` (row groups),
    objective ``sum_g theta_g``; rows ``sum_j y_j = p``, the must-serve rows, then the
    cuts ``theta_g + sum_j coef_j y_j >= rhs``. Cuts are appended with ``addRows`` and
    each re-solve starts from the previous basis (dual simplex). Cuts that are not
    binding are purged when they outnumber the columns twice over; the master stays a
    relaxation of the radius LP, so its optimum is a lower bound after every solve. Every
    cut ever added stays in :attr:`pool` (for the MILP master).
    """

    def __init__(self, sub: _Sub, grp: _Groups, p: int) -> None:
        import highspy  # noqa: PLC0415 - only the p-median's LP phase needs it

        h = new_highs(threads=1)                    # output off, banner to the logger
        self.h = h
        self.hs = highspy
        self.mc, self.G = sub.mc, grp.n
        inf = highspy.kHighsInf
        mc, G = self.mc, self.G
        h.addVars(mc, np.zeros(mc), np.ones(mc))
        h.addVars(G, grp.floor.astype(np.float64), np.full(G, inf))
        h.changeColsCost(G, np.arange(mc, mc + G, dtype=np.int32), np.ones(G))
        h.addRow(float(p), float(p), mc, np.arange(mc, dtype=np.int32), np.ones(mc))
        sets = _must_serve(sub)
        if sets:
            idx = np.concatenate(sets).astype(np.int32)
            starts = np.cumsum([0] + [s.size for s in sets[:-1]]).astype(np.int32)
            h.addRows(len(sets), np.ones(len(sets)), np.full(len(sets), inf), idx.size,
                      starts, idx, np.ones(idx.size))
        self.n_fixed = h.getNumRow()
        self.pool: list[_Cuts] = []
        self.n_cuts = 0                     # cut rows in HiGHS now

    def add(self, cuts: _Cuts) -> None:
        """Append a batch of cuts (and keep it in the pool)."""
        k = cuts.group.size
        if k == 0:
            return
        a = _cut_rows(cuts, self.mc)
        self.h.addRows(k, cuts.rhs.astype(np.float64), np.full(k, self.hs.kHighsInf),
                       a.nnz, a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32),
                       a.data.astype(np.float64))
        self.pool.append(cuts)
        self.n_cuts += k

    def solve(self, seconds: float | None) -> tuple[str, Any]:
        """Re-solve; ``("optimal", solution)``, ``("infeasible", None)``, or another state."""
        h, hs = self.h, self.hs
        h.setOptionValue("time_limit", math.inf if seconds is None else max(seconds, 1e-3))
        run_highs(h)          # on the thread scheduler there is (see solver.run_highs)
        ms = h.getModelStatus()
        if ms == hs.HighsModelStatus.kOptimal:
            return "optimal", h.getSolution()
        if ms == hs.HighsModelStatus.kInfeasible:
            return "infeasible", None
        if ms == hs.HighsModelStatus.kTimeLimit:
            return "time_limit", None
        return "failed", None

    def purge(self, sol: Any) -> None:
        """Drop the cuts with a zero dual when cuts outnumber the columns twice over.

        The current point stays optimal (its duals stay feasible), so the bound does not
        fall; a dropped cut comes back when it is violated again.
        """
        if self.n_cuts < 2 * (self.mc + self.G):
            return
        dual = np.asarray(sol.row_dual, dtype=np.float64)[self.n_fixed:]
        drop = np.flatnonzero(np.abs(dual) <= 1e-12) + self.n_fixed
        if drop.size:
            self.h.deleteRows(int(drop.size), drop.astype(np.int32))
            self.n_cuts -= int(drop.size)


#: The LP phase stops as "stalled" when its bound gained less than this (relative) ...
_STALL_REL = 1e-6
#: ... over this many rounds.
_STALL_ROUNDS = 10
#: Share of the time left that the LP phase may use when there is a time limit.
_LP_SHARE = 0.5
#: Least time left (s) worth starting a master MILP with; the last one gets the rest.
_MIN_MILP_S = 0.25
#: Seconds that must be left after preparing the instance for the LP phase to start.
_MIN_LP_S = 0.1


@dataclass
class _LPResult:
    """Outcome of the LP phase (private).

    ``bound`` is the largest master value at a solve HiGHS reported optimal (a valid
    lower bound; -inf when there was none); ``y`` and ``dj`` (reduced costs of ``y``)
    are from that solve. ``stop`` says why the loop ended.
    """

    stop: str
    bound: float
    y: NDArray[np.float64] | None
    dj: NDArray[np.float64] | None
    pool: list[_Cuts]


def _separate(sub: _Sub, lev: _Levels, grp: _Groups, yv: NDArray[np.float64],
              tv: NDArray[np.float64], core: NDArray[np.float64],
              lam: float) -> tuple[float, list[_Cuts]]:
    r"""Radius-LP value at an LP point and the cuts that cut it off (in-out stabilised).

    Returns :math:`F(\bar y) = \sum_g` (group ``g``'s deepest cut at :math:`\bar y`), an
    upper bound on the LP optimum at a feasible master point, and the cuts to add: for
    every group whose deepest cut at :math:`\bar y` exceeds :math:`\bar\theta_g` (by
    1e-7 relative), the deepest cut at the separation point
    ``lam * y + (1 - lam) * core`` if that one also cuts off :math:`(\bar y, \bar\theta)`,
    else the deepest cut at :math:`\bar y`. No cuts: :math:`\bar y` is LP-optimal.
    """
    dist, end = _deepest_cut(sub, lev, yv)
    val = _group_values(sub, grp, dist, end, yv)
    tol = 1e-7 * np.maximum(1.0, np.abs(tv))
    bad = np.flatnonzero(val > tv + tol)
    out: list[_Cuts] = []
    if bad.size:
        d2, e2 = _deepest_cut(sub, lev, lam * yv + (1 - lam) * core)
        ok = _group_values(sub, grp, d2, e2, yv)[bad] > tv[bad] + tol[bad]
        if ok.any():
            out.append(_cuts(sub, grp, bad[ok], d2, e2))
        if not ok.all():
            out.append(_cuts(sub, grp, bad[~ok], dist, end))
    return float(val.sum()), out


def _lp_stop(history: list[float], ub: float, upper: float, no_cuts: bool) -> str | None:
    """Why the LP loop stops after a round (None: go on); ``history`` holds the bounds."""
    bound = history[-1]
    if bound >= ub - 1e-9 * max(abs(ub), 1.0):
        return "incumbent_proven"
    if no_cuts or upper - bound <= 1e-9 * max(abs(upper), 1.0):
        return "converged"
    k = _STALL_ROUNDS
    if len(history) > k and bound - history[-1 - k] <= _STALL_REL * max(abs(bound), 1.0):
        return "stalled"
    return None


def _benders_lp(sub: _Sub, lev: _Levels, grp: _Groups, p: int, start: NDArray[np.bool_],
                ub: float, run: _Run) -> _LPResult:
    r"""LP relaxation of the master by cutting planes with in-out stabilisation (HiGHS).

    Each round re-solves the persistent HiGHS master (:class:`_LPMaster`, whatever the
    ``solver`` option), whose value :math:`\underline z` is a lower bound whenever
    HiGHS reports it optimal, and separates cuts at its point (:func:`_separate`,
    Ben-Ameur & Neto 2007); the core point moves half-way to each LP point. The loop
    stops (``details["lp_stop"]``) with

    * ``"incumbent_proven"``: :math:`\underline z \ge` the incumbent (1e-9 relative);
    * ``"converged"``: no cut violated, or :math:`\min F(\bar y) - \underline z` within
      1e-9 relative: the LP optimum;
    * ``"stalled"``: the bound gained less than ``_STALL_REL`` (relative) over the last
      ``_STALL_ROUNDS`` rounds (degenerate rounds, tolerances) - the MILP phase is exact
      without the LP optimum;
    * ``"time_limit"`` (its share ``_LP_SHARE`` of the time left), ``"failed"`` (HiGHS
      reported neither optimal nor infeasible) or ``"infeasible"`` (the LP, hence the
      problem, has no solution: the must-serve rows cannot all be reached).
    """
    details = run.details
    tb = time.perf_counter()
    master = _LPMaster(sub, grp, p)
    master.add(_all_cuts(sub, lev, grp, start.astype(np.float64)))
    details["_build_s"] += time.perf_counter() - tb
    left = run.clock.left()
    deadline = None if left is None else time.perf_counter() + _LP_SHARE * left
    core = np.full(sub.mc, p / sub.mc)
    res = _LPResult(stop="failed", bound=-math.inf, y=None, dj=None, pool=master.pool)
    upper = math.inf
    history: list[float] = []
    while True:
        rem = None if deadline is None else deadline - time.perf_counter()
        if rem is not None and rem <= 0.01:
            res.stop = "time_limit"
            break
        ts = time.perf_counter()
        state, sol = master.solve(rem)
        details["solve_s"] += time.perf_counter() - ts
        details["lp_rounds"] += 1
        if state != "optimal":
            res.stop = state
            break
        tb = time.perf_counter()
        col = np.asarray(sol.col_value, dtype=np.float64)
        yv, tv = np.clip(col[:sub.mc], 0.0, 1.0), col[sub.mc:]
        if float(tv.sum()) >= res.bound:
            res.bound, res.y = float(tv.sum()), yv
            res.dj = np.asarray(sol.col_dual, dtype=np.float64)[:sub.mc]
        history.append(res.bound)
        value, cuts = _separate(sub, lev, grp, yv, tv, core, 0.5)
        upper = min(upper, value)
        stop = _lp_stop(history, ub, upper, not cuts)
        if stop is not None:
            res.stop = stop
            details["_build_s"] += time.perf_counter() - tb
            break
        for c in cuts:
            master.add(c)
        core = 0.5 * (core + yv)
        if details["lp_rounds"] % 10 == 0 and details["lp_rounds"] <= 1000:
            master.purge(sol)
        details["_build_s"] += time.perf_counter() - tb
    details["lp_stop"] = res.stop
    details["pool_cuts"] = sum(c.group.size for c in res.pool)
    return res


class _MILPMaster:
    """The Benders master MILP in PuLP, built once and extended by cuts (private).

    ``min sum_g theta_g`` s.t. ``sum_j y_j = p``, ``theta_g >= sum_{i in g} w_i D_i^1``,
    the cuts, ``sum_{j in R_i} y_j >= 1`` for each distinct candidate set of the rows
    that must be served, ``y`` binary with the fixings as bounds.
    """

    def __init__(self, sub: _Sub, grp: _Groups, p: int,
                 fixed: tuple[NDArray[np.bool_], NDArray[np.bool_]]) -> None:
        self.p = p
        self.seen: set[bytes] = set()        # solutions whose cuts were added
        self.nnz = 0                         # nonzeros of the cuts
        self.prob = pulp.LpProblem("p_median", pulp.LpMinimize)
        lo = fixed[1].astype(float).tolist()
        hi = (1.0 - fixed[0]).astype(float).tolist()
        self.y = [pulp.LpVariable(f"y{j}", lowBound=a, upBound=b, cat=pulp.LpBinary)
                  for j, (a, b) in enumerate(zip(lo, hi, strict=True))]
        self.th = [pulp.LpVariable(f"t{g}", lowBound=b) for g, b in enumerate(grp.floor.tolist())]
        self.prob += pulp.LpAffineExpression([(v, 1.0) for v in self.th])
        self.prob.addConstraint(pulp.LpConstraint(
            pulp.LpAffineExpression([(v, 1.0) for v in self.y]), pulp.LpConstraintEQ,
            rhs=float(p)))
        for cols in _must_serve(sub):
            self.prob.addConstraint(pulp.LpConstraint(
                pulp.LpAffineExpression([(self.y[c], 1.0) for c in cols.tolist()]),
                pulp.LpConstraintGE, rhs=1.0))

    def add(self, cuts: _Cuts) -> None:
        """Add a batch of cuts."""
        ge = pulp.LpConstraintGE
        ip, ix, dv = cuts.coef.indptr, cuts.coef.indices.tolist(), cuts.coef.data.tolist()
        for k, (g, r) in enumerate(zip(cuts.group.tolist(), cuts.rhs.tolist(), strict=True)):
            a, b = ip[k], ip[k + 1]
            terms = [(self.y[j], v) for j, v in zip(ix[a:b], dv[a:b], strict=True)]
            terms.append((self.th[g], 1.0))
            self.prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), ge,
                                                      rhs=r))
        self.nnz += int(cuts.coef.nnz) + cuts.group.size

    def start(self, sub: _Sub, grp: _Groups, is_open: NDArray[np.bool_]) -> None:
        """Set a solution as the MIP start: ``y`` and each group's true time."""
        c1, _, _ = _first_second(sub, is_open, sub.cap)
        for v, s in zip(self.y, is_open.tolist(), strict=True):
            v.setInitialValue(1 if s else 0)
        for v, c in zip(self.th, _wsum(grp.of, sub.w * c1, grp.n).tolist(), strict=True):
            v.setInitialValue(c)

    def values(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return (np.array([v.varValue or 0.0 for v in self.y]),
                np.array([v.varValue or 0.0 for v in self.th]))


@dataclass
class _Run:
    """Solver settings and bookkeeping of one p-median solve (private).

    ``solver`` is what the master MILP runs on (a name or a PuLP solver object).
    """

    solver: Any
    clock: Deadline
    gap: float | None
    details: dict[str, Any]
    verbose: bool = False


def _violated(sub: _Sub, lev: _Levels, grp: _Groups, yv: NDArray[np.float64],
              tv: NDArray[np.float64], rel: float = 1e-7) -> _Cuts | None:
    """Find the groups whose deepest cut at ``yv`` cuts off ``theta = tv`` (by > ``rel``)."""
    dist, end = _deepest_cut(sub, lev, yv)
    val = _group_values(sub, grp, dist, end, yv)
    bad = np.flatnonzero(val > tv + rel * np.maximum(1.0, np.abs(tv)))
    return _cuts(sub, grp, bad, dist, end) if bad.size else None


def _all_cuts(sub: _Sub, lev: _Levels, grp: _Groups, yv) -> _Cuts:
    """Every group's deepest cut at ``yv`` (exact at an integer ``yv``)."""
    dist, end = _deepest_cut(sub, lev, yv)
    return _cuts(sub, grp, np.arange(grp.n), dist, end)


def _proven(obj: float, bound: float) -> bool:
    """Whether ``bound`` proves ``obj`` optimal: within 1e-7 relative or 1e-6 absolute.

    The tolerances of :mod:`geoplan.optimize.solver` (``OPTIMAL_GAP``): floating-point
    slack of the LP and MILP solvers, far below any meaningful difference of plans.
    """
    if not (math.isfinite(obj) and math.isfinite(bound)):
        return False
    return obj - bound <= max(1e-7 * abs(obj), 1e-6)


@dataclass
class _Best:
    """The best true solution found so far (private)."""

    open: NDArray[np.bool_] | None
    cost: float

    def offer(self, sub: _Sub, is_open: NDArray[np.bool_]) -> None:
        """Keep ``is_open`` if it is cheaper."""
        c = _cost(sub, is_open)
        if c < self.cost:
            self.open, self.cost = is_open.copy(), c


def _milp_bound(info: SolveInfo) -> float:
    """Return the lower bound a master MILP solve proved (-inf if none)."""
    if math.isfinite(info.bound):
        return float(info.bound)
    if info.status == OPTIMAL and math.isfinite(info.objective):
        return float(info.objective)
    return -math.inf


def _milp_round(sub: _Sub, lev: _Levels, grp: _Groups, master: _MILPMaster,
                proven: bool, bound: float, best: _Best, gap: float | None) -> str | None:
    """Check a master MILP solution; add its cuts. Returns a final state or None (go on).

    ``"exact"``: the solve was proven optimal and either the best solution costs at
    most its bound or its own solution violates no cut (1e-9 relative) - or violates
    only cuts added before (solver tolerances); ``"gap"``: within the ``gap`` option;
    ``"limit"``: an unproven solve whose solution meets its cuts (no progress left);
    ``"not_a_solution"``: the values do not open ``p`` candidates.
    """
    yv, tv = master.values()
    is_open = yv > 0.5
    if int(is_open.sum()) != master.p:
        return "not_a_solution"
    best.offer(sub, is_open)
    if proven and _proven(best.cost, bound):
        return "exact"
    key = is_open.tobytes()
    out = _violated(sub, lev, grp, is_open.astype(np.float64), tv, rel=1e-9)
    if out is None or key in master.seen:
        # theta meets the exact cuts of its own solution (up to the solver's feasibility
        # tolerance), so the master's optimum is that solution's cost
        return "exact" if proven else "limit"
    if gap is not None and _rel_gap(best.cost, bound) <= gap:
        return "gap"
    master.seen.add(key)
    master.add(out)
    # the exact cuts of a locally improved solution keep the next master from proposing
    # its neighbourhood again
    better = _swaps(sub, is_open, 1.0)
    best.offer(sub, better)
    master.add(_all_cuts(sub, lev, grp, better.astype(np.float64)))
    return None


def _solver_seconds(run: _Run, master: _MILPMaster) -> float | None:
    """Give a master MILP solve what is left, less the solve's overhead.

    A solve also writes the model (CBC: an MPS file) and may run up to the solver
    layer's grace past its limit; measured about 0.3 s plus 2 microseconds per nonzero.
    """
    left = run.clock.left()
    if left is None:
        return None
    return max(left - (0.3 + 2e-6 * master.nnz), 0.5 * left, 0.01)


def _benders_milp(sub: _Sub, lev: _Levels, grp: _Groups, p: int, pool: list[_Cuts],
                  fixed: tuple[NDArray[np.bool_], NDArray[np.bool_]],
                  start: NDArray[np.bool_] | None, run: _Run) -> tuple[str, _Best, float]:
    r"""Master MILP with the cut pool; add the cuts its solutions violate, re-solve.

    The master (with the fixings as bounds) is a relaxation of the p-median restricted
    to the solutions the fixings keep. A round whose solve the MILP solver reports
    ``"optimal"`` has a proven master optimum :math:`L`, a lower bound of the restricted
    problem; when the master's solution violates no cut, its ``theta`` are at least
    each group's true time, so its true cost is at most :math:`L`: it is optimal.
    Any other status is unproven and only a finite ``bound`` from it is used. Every
    later round starts from the best solution (a MIP start). Returns ``(state, best,
    bound)``: ``state`` from :func:`_milp_round`, ``"infeasible"`` (a proven-infeasible
    master: no solution respects the fixings) or ``"limit"`` (time, or a solve without
    a solution); ``bound`` is the best proven lower bound of the restricted problem.
    """
    details = run.details
    best = _Best(start, _cost(sub, start) if start is not None else math.inf)
    bound = -math.inf
    tb = time.perf_counter()
    master = _MILPMaster(sub, grp, p, fixed)
    for cuts in pool:
        master.add(cuts)
    details["_build_s"] += time.perf_counter() - tb
    state = "limit"
    while not run.clock.expired(_MIN_MILP_S):
        warm = best.open is not None and not (
            (best.open & fixed[0]).any() or (fixed[1] & ~best.open).any())
        if warm:
            master.start(sub, grp, best.open)
        info = solve(master.prob, run.solver, time_limit=_solver_seconds(run, master),
                     gap=run.gap, warm_start=warm, msg=run.verbose)
        details["solve_s"] += info.solve_s
        details["rounds"] += 1
        details["solver"] = info.solver
        if info.status == INFEASIBLE:
            return "infeasible", best, math.inf
        bound = max(bound, _milp_bound(info))
        if not info.has_solution:
            break
        tb = time.perf_counter()
        verdict = _milp_round(sub, lev, grp, master, info.status == OPTIMAL, bound, best,
                              run.gap)
        details["_build_s"] += time.perf_counter() - tb
        if verdict is not None:
            state = "limit" if verdict == "not_a_solution" else verdict
            break
    return state, best, bound


def _fix_by_reduced_cost(lb: float, yv: NDArray[np.float64], dj: NDArray[np.float64],
                         ub: float) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    r"""Candidates closed (``fix0``) / open (``fix1``) in every solution costing <= ``ub``.

    ``lb``, ``yv``, ``dj``: value, point and reduced costs of ``y`` of an LP master that
    HiGHS solved to optimality (a relaxation of the problem), ``ub`` the cost of a true
    solution. LP duality: a solution with :math:`y_j = 1` for a candidate at 0 costs at
    least :math:`lb + d_j`; one with :math:`y_j = 0` for a candidate at 1 at least
    :math:`lb - d_j`. Fixing only where that exceeds ``ub`` (by a margin of 1e-6
    relative, for the LP's tolerances) keeps every solution at least as good as ``ub``.
    """
    margin = 1e-6 * max(abs(ub), 1.0)
    fix0 = (yv < 1e-6) & (lb + dj > ub + margin)
    fix1 = (yv > 1 - 1e-6) & (lb - dj > ub + margin)
    return fix0, fix1


def _round_lp(sub: _Sub, p: int, y: NDArray[np.float64], best: _Best, run: _Run) -> None:
    """Offer the LP point's ``p`` largest, improved by vertex exchange, as a solution."""
    cand = np.zeros(sub.mc, dtype=bool)
    cand[np.argsort(-y, kind="stable")[:p]] = True
    left = run.clock.left()
    best.offer(sub, _swaps(sub, cand, 10.0 if left is None else 0.1 * left))


def _milp_verdict(state: str, best: _Best, lb: float, mbound: float, fixings: bool,
                  details: dict[str, Any]) -> tuple[str, float]:
    """Status and bound after the MILP phase (the best solution is a true one)."""
    if state == "infeasible":
        if not fixings:          # a true solution exists: the solver's answer is wrong
            return FEASIBLE, lb
        # nothing respects the fixings: none beats the incumbent (fixings need one)
        details["proof"] = "fixing"
        return OPTIMAL, best.cost
    # the fixings keep every solution costing <= ub: min(ub, mbound) bounds the optimum
    bound = max(lb, min(best.cost, mbound))
    if state == "exact" and _proven(best.cost, bound):
        details["proof"] = "milp"
        return OPTIMAL, bound
    return FEASIBLE, bound


def _solve_exact(sub: _Sub, p: int, h_open: NDArray[np.bool_], run: _Run):
    """Exact p-median of the sub-problem: LP phase, fixing, Benders master MILP.

    Returns ``(status, open set or None, objective, bound)`` for the sub-problem;
    ``details["proof"]`` names the step that proved the status (``"lp"``,
    ``"fixing"``, ``"milp"``; None: unproven) and ``details["solver"]`` what ran.
    """
    details = run.details
    details.update(lp_rounds=0, rounds=0, solve_s=0.0, _build_s=0.0, solver="none",
                   proof=None, lp_stop="not_run")
    c0 = _cost(sub, h_open)
    best = _Best(h_open if math.isfinite(c0) else None, c0)
    # every row pays at least its cheapest option: the bound with every candidate open
    lb0 = float(sub.w @ np.minimum(sub.cap, sub.t[sub.ptr[:-1]]))
    if run.clock.expired(_MIN_LP_S):
        # the time limit ran out while preparing the instance: the heuristic's plan,
        # with the all-open bound
        details.update(lp_stop="time_limit", solver="greedy + vertex exchange")
        if best.open is None:
            return FEASIBLE, None, math.nan, lb0
        if _proven(best.cost, lb0):             # every row at its cheapest option
            details["proof"] = "all-open bound"
            return OPTIMAL, best.open, best.cost, lb0
        return FEASIBLE, best.open, best.cost, lb0
    lev = _levels(sub)
    grp = _groups(sub, lev)
    details["master_rows"] = grp.n
    t_lp = time.perf_counter()
    lp = _benders_lp(sub, lev, grp, p, h_open, best.cost, run)
    details["lp_s"] = time.perf_counter() - t_lp
    lp_name = _highs_version() + " (Benders LP)"
    details["solver"] = lp_name
    if lp.stop == "infeasible":
        details["proof"] = "lp"
        return INFEASIBLE, None, math.nan, math.nan
    lb = max(lp.bound, lb0)
    fix0 = fix1 = np.zeros(sub.mc, dtype=bool)
    if lp.y is not None and lp.dj is not None:
        details["lp_bound"] = lp.bound
        _round_lp(sub, p, lp.y, best, run)
        if best.open is not None:     # the LP's own value with its reduced costs
            fix0, fix1 = _fix_by_reduced_cost(lp.bound, lp.y, lp.dj, best.cost)
    details["fixed_closed"] = int(fix0.sum())
    details["fixed_open"] = int(fix1.sum())
    early = None
    if best.open is not None and _proven(best.cost, lb):
        early = OPTIMAL, "lp", " + local search", lb
    elif best.open is not None and run.gap is not None and _rel_gap(best.cost, lb) <= run.gap:
        early = FEASIBLE, None, " + local search", lb
    elif best.open is not None and (int((~fix0).sum()) < p or int(fix1.sum()) > p):
        # every p-subset breaks a fixing: no solution beats the incumbent
        early = OPTIMAL, "fixing", " + reduced-cost fixing", best.cost
    if early is not None:
        details["proof"] = early[1]
        details["solver"] = lp_name + early[2]
        return early[0], best.open, best.cost, early[3]
    t_milp = time.perf_counter()
    state, mbest, mbound = _benders_milp(sub, lev, grp, p, lp.pool, (fix0, fix1), best.open,
                                         run)
    details["milp_s"] = time.perf_counter() - t_milp
    if details["rounds"]:
        details["solver"] = f"{details['solver']} + {lp_name}"
    if mbest.open is not None:
        best.offer(sub, mbest.open)
    if best.open is None:
        if state == "infeasible":          # no fixing without an incumbent: a proof
            details["proof"] = "milp"
        return (INFEASIBLE if state == "infeasible" else FEASIBLE), None, math.nan, math.nan
    status, bound = _milp_verdict(state, best, lb, mbound, bool(fix0.any() or fix1.any()),
                                  details)
    return status, best.open, best.cost, bound

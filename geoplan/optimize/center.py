r"""p-center: open p new sites so that the worst-served resident is as close as possible.

Why: emergency stations (院前急救站) are planned for equity - the question is not the
average response time but the longest one, in the remotest village. Urban and rural
areas have different time standards (e.g. 12 and 20 minutes); with per-cell standards
the model minimises the worst *ratio* of time to standard, and the companion question
"how many stations so that every cell meets its own standard?" is a set covering
problem with per-cell cut-offs (:func:`p_center_from_problem` with ``p=None``).

Model
-----
Rows :math:`i` (cells with people), sites :math:`j` (existing :math:`E` fixed open,
candidates :math:`J`), times :math:`t_{ij}` within the cut-off, standards :math:`s_i`
(1 without standards):

.. math::

    \min_{S \subseteq J,\ |S| \le p} \; \max_i \; \min_{j \in E \cup S} t_{ij} / s_i .

Exact algorithm (Minieka 1970; Daskin 2013, ch. 5): the optimum is one of the distinct
values :math:`r` of :math:`t_{ij}/s_i`. For a candidate :math:`r`, "can p new sites
cover every row within :math:`r`?" is a set covering problem
(:func:`geoplan.optimize.covering.set_covering`, solved exactly, with the reductions).
Feasibility is monotone in :math:`r`, so a binary search over the sorted distinct values,
starting from the lower bound :math:`\max_i \min_j t_{ij}/s_i` (every site open), finds
the smallest feasible :math:`r` with about :math:`\log_2` (number of values) covering
solves. It runs on a growing subset of rows (row generation, Chen & Chen 2009): the
200 rows hardest to serve first, then every row the subset's answer leaves beyond its
radius, until none is left - the subset optimum is a lower bound of the full one, so the
final answer is exact while each covering solve sees a few hundred rows, not 200,000.
Rows that no site reaches within the cut-off cannot be bounded and are reported (or
rejected).

What proves what: a radius is *feasible* when a covering subproblem returns a plan with
at most :math:`p` new sites (any plan, proven or not, is a true cover); it is
*infeasible* when the subproblem is proven infeasible, proven optimal with more than
:math:`p` sites, or its proven bound exceeds :math:`p`. Anything else (a time or gap
stop without a decision, or no time left) is *undecided* and is treated as infeasible,
so the search still ends on a feasible radius; the answer is then ``"time_limit"`` with
the valid lower bound :math:`\max_i \min_j t_{ij}/s_i`. "optimal" means every
subproblem on the way was decided. One deadline covers all subproblems; when it runs
out before any radius is shown feasible, a greedy plan (open the site nearest the
worst-off row, :math:`p` times) is returned as ``"time_limit"``. Site rules
(:mod:`geoplan.optimize.site_rules`) apply in every subproblem.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError

from .covering import gis_site_rules, set_covering, set_covering_from_problem
from .plan import Plan
from .site_rules import SiteRules, check_site_rules

log = logging.getLogger("geoplan.optimize")
from .solver import FEASIBLE, INFEASIBLE, NOT_SOLVED, OPTIMAL, Deadline, SolveInfo, configure

__all__ = ["p_center", "p_center_from_problem"]

#: Rows added to the working subset per round of row generation.
_ROWS_PER_ROUND = 300


def _as_times(times: ArrayLike | sparse.spmatrix) -> sparse.csr_matrix:
    if sparse.issparse(times):
        T = sparse.csr_matrix(times, dtype=float)
    else:
        a = np.asarray(times, dtype=float)
        if a.ndim != 2:
            raise GeoplanInputError("times must be a 2-D demand x site matrix", field="times")
        a = np.where(np.isfinite(a), a, 0.0)
        # dense input: every finite entry is a pair (zeros are real zero times)
        finite = np.isfinite(np.asarray(times, dtype=float))
        r, c = np.nonzero(finite)
        if np.any(a[r, c] < 0):
            raise GeoplanInputError("times must be finite and non-negative", field="times")
        T = sparse.csr_matrix((np.maximum(a[r, c], 1e-9), (r, c)), shape=a.shape)
    if T.nnz and (np.any(T.data < 0) or not np.all(np.isfinite(T.data))):
        raise GeoplanInputError("times must be finite and non-negative", field="times")
    T.sort_indices()
    return T


def _row_min(M: sparse.csr_matrix) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Smallest *stored* value of each row and its column (inf / -1 for empty rows)."""
    n = M.shape[0]
    out = np.full(n, np.inf)
    arg = np.full(n, -1, np.intp)
    has = np.flatnonzero(np.diff(M.indptr) > 0)
    if has.size:
        starts = M.indptr[has]
        out[has] = np.minimum.reduceat(M.data, starts)
        # position of the minimum within each row
        rows = np.repeat(np.arange(n), np.diff(M.indptr))
        is_min = M.data <= out[rows]
        first = np.full(n, -1, np.int64)
        idx = np.flatnonzero(is_min)[::-1]
        first[rows[idx]] = idx
        arg[has] = M.indices[first[has]]
    return out, arg


def _greedy_center(R: sparse.csr_matrix, ex: NDArray[np.intp], p: int, rules: SiteRules,
                   ) -> NDArray[np.intp] | None:
    """A feasible p-center plan fast: open the site nearest the worst-off row, p times.

    Forced-open sites come first; closed sites and full units are skipped. Returns the
    new columns, or None when the plan leaves a row unserved.
    """
    m = R.shape[1]
    is_open = np.zeros(m, bool)
    is_open[ex] = True
    banned = np.zeros(m, bool)
    banned[rules.force_closed] = True
    room = rules.remaining_cap()
    RC = R.tocsc()
    start = np.union1d(ex, rules.force_open).astype(np.intp)
    is_open[start] = True
    cur = _row_min(R[:, start].tocsr())[0] if start.size else np.full(R.shape[0], np.inf)
    chosen: list[int] = rules.force_open.tolist()
    while len(chosen) < p:
        i = int(np.argmax(cur))
        cols, vals = R.indices[R.indptr[i]:R.indptr[i + 1]], R.data[R.indptr[i]:R.indptr[i + 1]]
        free = ~is_open[cols] & ~banned[cols]
        if room is not None and rules.group is not None:
            g = rules.group[cols]
            free &= (g < 0) | (room[np.maximum(g, 0)] > 0)
        if not free.any():
            break
        j = int(cols[free][np.argmin(vals[free])])
        is_open[j] = True
        chosen.append(j)
        if room is not None and rules.group is not None and rules.group[j] >= 0:
            room[rules.group[j]] -= 1
        col = RC.getcol(j)
        cur[col.indices] = np.minimum(cur[col.indices], col.data)
    if not np.isfinite(cur).all():
        return None
    return np.array(sorted(chosen), np.intp)


def _no_radius_plan(p: int, ex: NDArray[np.intp], top: float, details: dict[str, Any],
                    solver_name: str, solve_s: float, build_s: float) -> Plan:
    """Plan when no radius was shown feasible: infeasible, or undecided by time limits."""
    if details["unproven_subproblems"]:
        info = SolveInfo(NOT_SOLVED, math.nan, math.nan, math.nan, solver_name, solve_s)
        why = ("the covering subproblems hit the time limit before any radius was shown "
               "feasible; raise time_limit")
    else:
        info = SolveInfo(INFEASIBLE, math.nan, math.nan, math.nan, solver_name, solve_s)
        why = (f"{p} new site(s) cannot bring every resident within the cut-off ({top:g}); "
               "raise the cut-off or p")
    return Plan.from_solve("p_center", info, selected=[], existing=ex, build_s=build_s,
                           details=details, explanation=why)


def _final_info(R: sparse.csr_matrix, worst: float, details: dict[str, Any],
                solver_name: str, solve_s: float) -> SolveInfo:
    """Optimal, unless a covering subproblem stopped undecided at its time limit.

    Then a smaller radius may be feasible: the answer is reported with a valid lower
    bound, every row's nearest site with all candidates open.
    """
    if not details["unproven_subproblems"]:
        return SolveInfo(OPTIMAL, worst, worst, 0.0, solver_name, solve_s)
    low = min(float(_row_min(R)[0].max()), worst)
    gap = (worst - low) / worst if worst > 0 else 0.0
    return SolveInfo(FEASIBLE, worst, low, gap, solver_name, solve_s)


def p_center(
    times: ArrayLike | sparse.spmatrix,
    p: int,
    *,
    weights: ArrayLike | None = None,
    existing: ArrayLike | None = None,
    standards: ArrayLike | None = None,
    allow_unreachable: bool = False,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    verbose: bool = False,
) -> Plan:
    """Open ``p`` new sites minimising the worst travel time (or time / standard).

    Parameters
    ----------
    times
        ``(demand, sites)`` travel times: a sparse matrix of the pairs within a cut-off
        (missing = unreachable), or a dense array (``inf``/NaN = unreachable).
    p
        Number of new sites (at most).
    weights
        Population per row; rows with zero weight are ignored (no one lives there).
    existing
        Column indices of existing (fixed-open) sites.
    standards
        Time standard per row; the model then minimises the worst time / standard.
    allow_unreachable
        Ignore (and report in ``details["unreachable_rows"]``) rows that no site can
        reach; otherwise they raise :class:`~geoplan.GeoplanInputError`.
    solver, time_limit
        The solver of the covering subproblems, and the seconds for the whole search
        (shared by all subproblems). A subproblem stopped by the time limit before it
        decides whether ``p`` sites suffice counts as "not shown feasible": the plan is
        then feasible but not proven optimal (status ``"time_limit"``, with the bound
        from all candidates open and ``details["unproven_subproblems"]``).
    gap
        Relative gap at which a covering subproblem may stop; a subproblem stopped so
        decides only when its bound does (else it counts as unproven, like a time limit).
    force_open, force_closed, max_new_per_unit, site_unit
        Site rules (:mod:`geoplan.optimize.site_rules`), applied in every covering
        subproblem; forced-open sites count towards ``p``.
    verbose
        Show the solvers' logs.

    Returns
    -------
    Plan
        ``objective`` = the worst time (or ratio); ``details["subproblems"]`` = number of
        covering solves; ``assignment`` = nearest open site per row (-1 if none).
    """
    t0 = time.perf_counter()
    clock = Deadline(time_limit)
    configure(solver, time_limit=time_limit, gap=gap)      # check the options first
    T = _as_times(times)
    n, m = T.shape
    if int(p) != p or p < 0:
        raise GeoplanInputError(f"p must be a non-negative whole number, got {p!r}", field="p")
    w = np.ones(n) if weights is None else np.asarray(weights, float).ravel()
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise GeoplanInputError("weights must be one finite non-negative value per row",
                                field="weights")
    ex = np.unique(np.asarray([] if existing is None else existing, np.int64)).astype(np.intp)
    if ex.size and (ex.min() < 0 or ex.max() >= m):
        raise GeoplanInputError(f"existing holds indices outside 0..{m - 1}", field="existing")
    if p > m - ex.size:
        raise GeoplanInputError(f"p = {p} exceeds the {m - ex.size} candidate sites", field="p")
    rules = check_site_rules(m, ex, force_open=force_open, force_closed=force_closed,
                             max_new_per_unit=max_new_per_unit, site_unit=site_unit)
    if rules.force_open.size > p:
        raise GeoplanInputError(f"force_open opens {rules.force_open.size} sites but p = {p}",
                                field="force_open", hint="raise p or force fewer sites open")
    T = rules.drop_closed(T)
    s = np.ones(n) if standards is None else np.asarray(standards, float).ravel()
    if s.shape != (n,) or np.any(~(s > 0)):
        raise GeoplanInputError("standards must be one positive time per row",
                                field="standards")
    live = w > 0
    reach = np.diff(T.indptr) > 0
    lost = np.flatnonzero(live & ~reach)
    if lost.size and not allow_unreachable:
        raise GeoplanInputError(
            f"{lost.size:,} demand rows ({w[lost].sum():,.0f} people) reach no site within "
            "the cut-off, so no worst time can be bounded", field="times",
            hint="raise the cut-off, or pass allow_unreachable=True to ignore them")
    rows = np.flatnonzero(live & reach)
    # scale the stored entries in place: a sparse product would drop stored zero times
    R = T.copy()
    R.data = R.data / np.repeat(s, np.diff(R.indptr))
    R = R[rows].tocsr()
    details: dict[str, Any] = {"unreachable_rows": lost, "subproblems": 0,
                               "unproven_subproblems": 0}
    if rows.size == 0:
        info = SolveInfo(OPTIMAL, 0.0, 0.0, 0.0, "(nothing to cover)", 0.0)
        return Plan.from_solve("p_center", info, selected=[], existing=ex, build_s=0.0,
                               details=details)
    solve_s = 0.0
    solver_name = ""

    def feasible(Rs: sparse.csr_matrix, r: float) -> Plan | None:
        nonlocal solve_s, solver_name
        if clock.expired(0.01):
            details["unproven_subproblems"] += 1     # out of time: not shown feasible
            return None
        C = Rs.copy()
        C.data = (C.data <= r * (1 + 1e-12)).astype(float)
        C.eliminate_zeros()
        log.info("p_center: is radius %.6g feasible? (%.2f s)", r, clock.elapsed())
        plan = set_covering(C, None, existing=ex, solver=solver, time_limit=clock.solver_limit(),
                            gap=gap, force_open=rules.force_open, max_new_per_unit=max_new_per_unit,
                            site_unit=site_unit, verbose=verbose)
        details["subproblems"] += 1
        solve_s += plan.solve_s
        solver_name = plan.solver
        if plan.feasible and plan.n_new <= p:
            return plan                          # a cover with <= p new sites: feasible
        if plan.status in (INFEASIBLE, OPTIMAL):
            return None                          # proven: no cover with <= p new sites
        if math.isfinite(plan.bound) and math.ceil(plan.bound - 1e-6) > p:
            return None                          # the bound proves it
        # stopped by the time limit without a decision: treated as infeasible, so the
        # answer is feasible but no longer proven optimal
        details["unproven_subproblems"] += 1
        return None

    def search(Rs: sparse.csr_matrix, floor: float) -> tuple[float, Plan] | None:
        """Smallest feasible value >= floor: gallop up from the lower bound, then bisect."""
        vals = np.unique(Rs.data)
        start = max(float(_row_min(Rs)[0].max()), floor)
        lo = int(np.searchsorted(vals, start - 1e-12 * max(1.0, abs(start))))
        last = vals.size - 1
        step, k, bad = 1, lo, lo - 1
        while True:
            idx = min(k, last)
            best = feasible(Rs, float(vals[idx]))
            if best is not None:
                hi = idx
                break
            bad = idx
            if idx == last:
                return None
            k, step = idx + step, step * 2
        lo = bad + 1
        while lo < hi:
            mid = (lo + hi) // 2
            plan = feasible(Rs, float(vals[mid]))
            if plan is not None:
                best, hi = plan, mid
            else:
                lo = mid + 1
        return float(vals[hi]), best

    # Row generation (Chen & Chen 2009): solve on the rows that are hardest to serve,
    # check every row against that answer, add the rows it leaves beyond the radius.
    # The subset optimum is a lower bound of the full one, so when no row is left beyond
    # it, it is the optimum of the full problem.
    hardest = np.argsort(-_row_min(R)[0], kind="stable")
    subset = np.sort(hardest[:_ROWS_PER_ROUND])
    floor = 0.0
    while True:
        found = search(R[subset], floor)
        if found is None:
            fallback = (_greedy_center(R, ex, p, rules) if details["unproven_subproblems"]
                        else None)
            if fallback is None:
                return _no_radius_plan(p, ex, float(R.data.max()), details, solver_name,
                                       solve_s, time.perf_counter() - t0)
            # out of time before a radius was shown feasible: the greedy plan stands
            details["fallback"] = "greedy (no covering subproblem decided in time)"
            solver_name = ("greedy" if not solver_name
                           else f"{solver_name} (stopped) + greedy")
            chosen = fallback
            radius = float(_row_min(R[:, np.r_[ex, chosen].astype(np.intp)].tocsr())[0].max())
            break
        radius, best = found
        floor = radius                 # more rows never lower the optimum
        cols = np.r_[ex, best.selected].astype(np.intp)
        near = _row_min(R[:, cols].tocsr())[0]
        beyond = np.flatnonzero(near > radius * (1 + 1e-12))
        details["row_generation_rounds"] = details.get("row_generation_rounds", 0) + 1
        if beyond.size == 0:
            break
        worst_first = beyond[np.argsort(-near[beyond], kind="stable")][:_ROWS_PER_ROUND]
        subset = np.union1d(subset, worst_first)
    details["rows_used"] = int(subset.size)
    if found is not None:
        chosen = best.selected
    open_cols = np.r_[ex, chosen].astype(np.intp)
    nearest, col = _row_min(T[:, open_cols].tocsr())
    assign = np.where(col >= 0, open_cols[np.maximum(col, 0)], -1).astype(np.intp)
    worst = float(np.max((nearest / s)[rows]))
    details.update(radius=radius, worst_time=float(np.max(nearest[rows])))
    info = _final_info(R, worst, details, solver_name, solve_s)
    build_s = time.perf_counter() - t0 - solve_s
    return Plan.from_solve("p_center", info, selected=chosen, existing=ex, build_s=build_s,
                           assignment=assign, total_demand=float(w.sum()), details=details)


def p_center_from_problem(problem: Any, *, p: int | None = None,
                          standards: NDArray[np.float64] | None = None,
                          **solve_kw: Any) -> Plan:
    """p-center (or fewest sites meeting per-cell standards) on a SiteProblem.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem` (its cut-off bounds the times).
    p
        Number of new sites; with ``p=None`` and ``standards`` the model is "fewest new
        sites so every cell meets its own standard" (set covering with per-cell
        cut-offs; infeasible cells are explained).
    standards
        Minutes per cell (e.g. urban 12 / rural 20).
    **solve_kw
        ``solver``, ``time_limit``, ``gap``, ``verbose``, and the site rules
        ``force_open``, ``force_closed`` (candidate ids) and ``max_new_per_unit``.

    Returns
    -------
    Plan
        Times in **minutes**; ``by_unit`` with the worst and mean minutes per unit
        before and after (p-center) or coverage before/after (standards).
    """
    import pandas as pd

    from .gis import plan_sites
    if p is None:
        if standards is None:
            raise GeoplanInputError("give p, or per-cell standards", field="p")
        plan = set_covering_from_problem(problem, np.asarray(standards, float), **solve_kw)
        plan.details["standards"] = "per cell"
        plan.model = "standards_cover"
        return plan
    rules = {k: solve_kw.pop(k, None) for k in ("force_open", "force_closed",
                                                 "max_new_per_unit")}
    T = problem.times.copy()
    T.data = T.data / 60.0
    std = None if standards is None else np.asarray(standards, float)
    plan = p_center(T, p, weights=problem.demand, existing=problem.existing, standards=std,
                    allow_unreachable=True, **gis_site_rules(problem, **rules), **solve_kw)
    if not plan.feasible:
        return plan
    lost = plan.details["unreachable_rows"]
    plan.details["unreachable_population"] = float(problem.demand[lost].sum())

    def nearest(cols: NDArray[np.intp]) -> NDArray[np.float64]:
        if cols.size == 0:
            return np.full(problem.n_cells, np.inf)
        return _row_min(T[:, cols].tocsr())[0]
    before = nearest(problem.existing)
    after = nearest(np.r_[problem.existing, plan.selected].astype(np.intp))
    unit = problem.unit if problem.unit is not None else np.full(problem.n_cells, "all")
    live = problem.demand > 0
    frame = pd.DataFrame({"admin_code": pd.Series(unit, dtype=object).fillna("(none)"),
                          "population": problem.demand, "before": np.where(live, before, np.nan),
                          "after": np.where(live, after, np.nan)})
    g = frame.groupby("admin_code")
    by_unit = pd.DataFrame({"population": g["population"].sum(),
                            "worst_min_before": g["before"].max(),
                            "worst_min_after": g["after"].max()}).reset_index()
    names = problem.unit_names or {}
    by_unit.insert(1, "admin_name", by_unit["admin_code"].map(lambda c: names.get(c, "")))
    plan.by_unit = by_unit.replace([np.inf], np.nan)
    plan.sites = plan_sites(problem, plan)
    plan.details["mode"] = problem.mode
    return plan

r"""p-median: open p new sites so that the population-weighted travel time is least.

Why: the p-median is the efficiency model of location planning - with a fixed number of
new service points (insurance service points, clinics), where do residents, on average,
travel least? It answers "where" for a given number of new sites; the p-center
(:mod:`geoplan.optimize.center`) answers the equity question (the worst-off resident).

The model is solved **exactly** from a sparse time matrix: the radius formulation
(Cornuejols, Nemhauser & Wolsey 1980; Elloumi 2010) by Benders decomposition with
closed-form cuts (Duran-Mateluna, Ales & Elloumi 2023), after exact merging of demand
rows: the LP relaxation on a persistent HiGHS model (its bound and reduced costs fix
candidates), then the master MILP with the chosen solver. The mathematics, and what each
step proves, is in :func:`p_median`.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pulp
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from geoplan._errors import GeoplanInputError, GeoplanWarning

from .covering import gis_site_rules
from .gis import coverage_by_unit, plan_sites
from .median_benders import _Run, _solve_exact
from .median_heuristics import _greedy
from .median_rows import (
    _check_existing,
    _check_p,
    _check_unassigned,
    _check_weights,
    _cost,
    _enumerate,
    _nearest_open,
    _rel_gap,
    _Rows,
    _sorted_rows,
    _Sub,
    _sub_problem,
    _unreachable_error,
)
from .plan import Plan, Reduction
from .site_rules import check_site_rules
from .solver import (
    INFEASIBLE,
    NOT_SOLVED,
    OPTIMAL,
    P_MEDIAN_SOLVER,
    Deadline,
    SolveInfo,
    configure,
    solve,
    time_left,
    with_true_objective,
)

__all__ = ["p_median", "p_median_from_problem"]
# --------------------------------------------------------------------------------------
# front doors


@dataclass
class _Prep:
    """A validated p-median instance (private)."""

    rows: _Rows
    w: NDArray[np.float64]
    ex: NDArray[np.intp]
    is_ex: NDArray[np.bool_]
    cand: NDArray[np.intp]
    p: int
    u: float                          # unassigned_time (inf: rows must be served)
    t_ex: NDArray[np.float64]         # time to the nearest existing site per row
    sub: _Sub
    const: float = 0.0                # cost outside the sub-problem (rows at their cap,
    #                                   the merged rows' shifts)


def _prepare(times: Any, weights: Any, p: Any, existing: Any,
             unassigned_time: Any) -> _Prep:
    """Validate the inputs and build the decision sub-problem."""
    rows = _sorted_rows(times)
    w = _check_weights(weights, rows.n)
    ex = _check_existing(existing, rows.m)
    is_ex = np.zeros(rows.m, dtype=bool)
    is_ex[ex] = True
    cand = np.flatnonzero(~is_ex)
    p = _check_p(p, int(cand.size), int(ex.size))
    u = _check_unassigned(unassigned_time, rows)
    if unassigned_time is None:
        lonely = (w > 0) & (np.diff(rows.indptr) == 0)
        if lonely.any():
            raise _unreachable_error(int(lonely.sum()), rows.n, float(w[lonely].sum()),
                                     "reach no site at all within the matrix")
    t_ex, _ = _nearest_open(rows, is_ex)
    sub, const = _sub_problem(rows, w, is_ex, np.minimum(t_ex, u))
    return _Prep(rows=rows, w=w, ex=ex, is_ex=is_ex, cand=cand, p=p, u=u, t_ex=t_ex,
                 sub=sub, const=const)


def _no_solution_plan(prep: _Prep, info: SolveInfo, build_s: float,
                      details: dict[str, Any]) -> Plan:
    """Plan of an infeasible instance (explained) or of a solve that found nothing."""
    total = float(prep.w.sum())
    if info.status != INFEASIBLE:
        # no solution to add the constant rows to: no bound of the user's problem either
        return Plan.from_solve("p_median", replace(info, status=NOT_SOLVED, bound=math.nan,
                                                   gap=math.nan), selected=[],
                               existing=prep.ex, build_s=build_s, total_demand=total,
                               details=details)
    must = np.isinf(prep.sub.cap)
    rows, weight = int(must.sum()), float(prep.sub.w[must].sum())
    msg = (f"with p = {prep.p} new sites, the demand rows (weight {weight:,.6g}) that no "
           "existing site reaches cannot all reach an open site within the matrix")
    return Plan.from_solve("p_median", info, selected=[], existing=prep.ex, build_s=build_s,
                           total_demand=total,
                           explanation={"message": msg, "rows": rows, "weight": weight,
                                        "hint": "increase p, add existing sites, or pass "
                                                "unassigned_time="})


def _median_plan(prep: _Prep, best: NDArray[np.bool_], h_open: NDArray[np.bool_],
                 info: SolveInfo, build_s: float, details: dict[str, Any]) -> Plan:
    """Build the plan of a solution: true objective, bound with constants, assignment."""
    w, pos, sub = prep.w, prep.w > 0, prep.sub
    is_open = prep.is_ex.copy()
    is_open[prep.cand[best]] = True
    tt, jj = _nearest_open(prep.rows, is_open)
    cost = np.where(np.isfinite(tt), tt, prep.u)
    obj = float(w[pos] @ cost[pos])
    const = obj - _cost(sub, best)            # rows no decision affects, and row shifts
    bound = min(obj, info.bound + const) if math.isfinite(info.bound) else math.nan
    details["heuristic_objective"] = const + _cost(sub, h_open)
    if "lp_bound" in details:
        details["lp_bound"] += const
    unserved = pos & ~np.isfinite(tt)
    total = float(w.sum())
    details.update(mean_time=obj / total, max_time=float(cost[pos].max()),
                   unassigned_rows=int(unserved.sum()),
                   unassigned_weight=float(w[unserved].sum()))
    reduction = Reduction(
        demand_in=prep.rows.n, demand_out=sub.n, candidates_in=int(prep.cand.size),
        candidates_out=int(prep.cand.size) - int(details.get("fixed_closed", 0)),
        notes=["rows of weight 0 and rows whose nearest existing site beats every "
               "candidate are constants; rows equal up to a time shift were merged",
               "candidates dropped by reduced-cost fixing cannot be in a solution "
               "better than the incumbent"])
    info = replace(info, objective=obj, bound=bound, gap=_rel_gap(obj, bound))
    return Plan.from_solve("p_median", info, selected=prep.cand[best], existing=prep.ex,
                           build_s=build_s, total_demand=total,
                           covered_before=float(w[np.isfinite(prep.t_ex)].sum()),
                           covered_after=float(w[np.isfinite(tt)].sum()),
                           assignment=jj, reduction=reduction, details=details)


def p_median(
    times: ArrayLike | sp.spmatrix,
    weights: ArrayLike,
    p: int,
    *,
    existing: ArrayLike | None = None,
    unassigned_time: float | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    verbose: bool = False,
) -> Plan:
    r"""Open ``p`` new sites minimising the total population-weighted travel time.

    Every demand row is served by its nearest open site (existing or new); the model
    chooses which ``p`` candidate columns to open.

    **Model.** Demand rows :math:`i` with weights :math:`w_i \ge 0`; sites
    :math:`j \in E \cup C` (existing :math:`E`, always open, and candidates :math:`C`);
    travel times :math:`t_{ij}` on the stored (reachable) pairs :math:`R`. With
    :math:`y_j = 1` if candidate :math:`j` opens and :math:`x_{ij} = 1` if :math:`i` is
    served by :math:`j` (ReVelle & Swain 1970):

    .. math::

        \min \sum_{(i,j) \in R} w_i t_{ij} x_{ij} \quad\text{s.t.}\quad
        \sum_{j:(i,j) \in R} x_{ij} = 1,\;\; x_{ij} \le y_j,\;\;
        \sum_{j \in C} y_j = p,\;\; y_j = 1\ (j \in E),\;\; x, y \in \{0, 1\}.

    **Radius formulation.** For row :math:`i` let the *cap* :math:`c_i` be the time to
    its nearest existing site (or ``unassigned_time``; :math:`+\infty` if neither) and
    :math:`D_i^1 < \dots < D_i^{K_i}` the distinct times of its candidates nearer than
    :math:`c_i`, :math:`D_i^{K_i+1} := c_i`. With :math:`z_i^k = 1` when no open
    candidate lies within :math:`D_i^k` (Cornuejols, Nemhauser & Wolsey 1980; Elloumi
    2010) the cost of row :math:`i` is
    :math:`D_i^1 + \sum_k (D_i^{k+1} - D_i^k) z_i^k` subject to
    :math:`z_i^k + \sum_{j: t_{ij} \le D_i^k} y_j \ge 1` - one variable per *distinct*
    time instead of one per pair, with the same LP bound. Rows whose cap no candidate
    beats are constants; rows equal up to a constant time shift (e.g. cells snapped to
    the same road node) are merged with summed weights (exact).

    **Benders decomposition** (Duran-Mateluna, Ales & Elloumi 2023). For fixed
    :math:`y` the :math:`z` part of each row is solved in closed form, so the radius
    model is equivalent to the master

    .. math::

        \min \sum_i w_i \theta_i \quad\text{s.t.}\quad
        \theta_i \ge D_i^s - \sum_{j: t_{ij} < D_i^s} (D_i^s - t_{ij})\, y_j
        \;\; (\forall i, s),\qquad \sum_{j \in C} y_j = p,\;\; y \in \{0,1\}

    (plus :math:`\sum_{j:(i,j)\in R} y_j \ge 1` for rows with :math:`c_i = \infty`):
    at integer :math:`y` the deepest cut of row :math:`i` is at the level of its nearest
    open candidate and equals its true time. Rows are grouped by their nearest
    candidate, one :math:`\theta_g \ge \sum_{i \in g} w_i \theta_i` per group with
    the summed cuts (partial aggregation: still exact, far smaller masters). Only the
    cuts needed are generated, in closed form.

    **Steps, and what each proves.** ``details["proof"]`` names the step that proved
    the status (None: not proven); ``"optimal"`` is returned only with such a proof,
    for the problem as posed (within the solvers' tolerances: a bound within 1e-7
    relative or 1e-6 absolute of the objective).

    1. *Reduction* (exact): rows no candidate can improve are constants; rows equal up
       to a time shift are merged. If then nothing is left to choose (``p`` = 0, all
       candidates open, or no row depends on the choice): ``"no choice"``.
    2. *Enumeration*: with at most 5,000 ways to choose the ``p`` sites, all are
       evaluated - proves the optimum outright (``"enumeration"``).
    3. *Heuristic*: greedy adding and vertex exchange (Teitz & Bart 1968) - a true
       solution (the incumbent, an upper bound); proves nothing.
    4. *LP phase* (always **HiGHS**, through highspy, whatever ``solver`` says - like
       maximal covering's LP bound): the master's LP relaxation by cutting planes on a
       persistent HiGHS model (warm re-solves, non-binding cuts purged) with in-out
       stabilisation (Ben-Ameur & Neto 2007). Each master is a relaxation, so every
       value HiGHS reports optimal is a lower bound :math:`\underline z`. The loop stops
       (``details["lp_stop"]``) when the bound meets the incumbent
       (``"incumbent_proven"``), at the LP optimum (``"converged"``: no violated cut),
       when the bound gained less than 1e-6 (relative) over 10 rounds (``"stalled"``;
       the MILP phase does not need the LP optimum) or at its share of the time
       (``"time_limit"``). :math:`\underline z` meeting the incumbent - or the LP
       point's ``p`` largest after vertex exchange - proves it optimal (``"lp"``); an
       infeasible LP proves the problem infeasible.
    5. *Reduced-cost fixing*: with that proven :math:`\underline z`, its reduced costs
       :math:`d_j` and a true incumbent of cost :math:`\bar z`, a candidate at 0 with
       :math:`\underline z + d_j > \bar z` is closed (and one at 1 with
       :math:`\underline z - d_j > \bar z` opened) in every solution at least as good
       as the incumbent. If no ``p``-subset respects the fixings, the incumbent is
       optimal (``"fixing"``).
    6. *Master MILP* (``solver``; default
       :data:`~geoplan.optimize.solver.P_MEDIAN_SOLVER`) with every cut of the LP phase
       and the fixings, started from the incumbent, re-solved with the cuts its
       solution violates (and those of its vertex-exchange improvement). Optimal
       (``"milp"``) only when the MILP solver proves the master's optimum :math:`L`
       and the best true solution costs at most :math:`L` - which holds once the
       master's solution violates no cut, as its :math:`\theta` then is its true cost.
       A proven-infeasible master under fixings proves the incumbent (``"fixing"``).
       Any other solver status is unproven: only a finite bound it reports is used.

    A time or gap stop returns the best true solution with status ``"time_limit"`` and
    the bound :math:`\max(z_0, \underline z, \min(\bar z, L))` (:math:`L`: the best
    bound a master solve proved; the fixings only drop solutions worse than
    :math:`\bar z`; :math:`z_0 = \sum_i w_i \min(c_i, \min_j t_{ij})`, every row at
    its cheapest option as if all candidates opened, so a stopped run always has a
    bound). When the limit runs out while the instance is prepared (sorting and merging
    the rows of a matrix of tens of millions of pairs), the heuristic's plan is returned
    at once with :math:`z_0`.
    With ``gap``, the run stops once :math:`(\bar z - \text{bound}) / \bar z \le`
    ``gap`` - right after the LP phase if that already holds.

    Why not a compact model: the classic one has a variable per stored pair and the
    compact radius model one per distinct time - for 2,000 x 200 tens of thousands of
    rows whose degenerate LP takes seconds per solve. Measured with the cut loop before
    the HiGHS LP phase (one core, CBC): OR-Library pmed1-20 in 19 s in all (a truncated
    compact radius model enlarged until exact: 24 s; its untruncated form needs 62 s for
    pmed16 alone); a 2,000 x 200 road-network instance with p = 10 in 2 s (compact
    radius: 20 s; one master variable per row: 7 s); 201,149 cells x 403 candidates
    (13.7 M pairs) with p = 10 in 30 s.

    Measured now (``benchmarks/bench_median.py``, 2 cores shared with other jobs,
    2026-12-01), Porto Alegre's real roads, walking within 60 minutes, 1,124 populated
    cells x 1,227 candidates (420,427 pairs): p = 10 in 1.3 s (proved by the LP phase;
    previously 11 s with CBC), p = 20 in 58-93 s with HiGHS and 207-223 s with CBC as
    the master MILP solver (the MILP phase is 97 % of it), p = 40 in 12-15 s; a
    319 x 323 window (80,322 pairs), p = 10, in 0.1 s, where the previous LP loop with
    CBC ran 1,328 rounds in 300 s without reaching the MILP phase; OR-Library pmed16-20
    in 0.2-14 s.

    Parameters
    ----------
    times
        Demand x site travel times: a scipy sparse matrix whose stored entries are the
        reachable pairs (missing = not reachable within the matrix's cut-off; store zero
        times explicitly, e.g. as 1e-6), or a dense array with ``inf`` for unreachable
        pairs. Columns are all sites, existing ones included.
    weights
        Demand (e.g. population) per row, finite and >= 0. Rows of weight 0 do not
        affect the choice; they are assigned afterwards.
    p
        Number of **new** sites to open among the columns not in ``existing``. Existing
        sites are open in addition to these ``p``.
    existing
        Column indices of existing (fixed open) sites; not a boolean mask.
    unassigned_time
        None (default): every positive-weight row must reach an open site within the
        matrix; rows that reach no site at all raise :class:`GeoplanInputError`, and a
        ``p`` too small to reach all of them gives a plan with status ``"infeasible"``
        and an explanation. A number (at least the largest time in the matrix, e.g. its
        cut-off): a row with no open site within the matrix is charged this time and
        left unassigned.
    solver
        MILP solver of the master (step 6): ``"cbc"``, ``"highs"`` or a PuLP solver
        object (see :func:`geoplan.optimize.solver.solve`); None:
        :data:`~geoplan.optimize.solver.P_MEDIAN_SOLVER`. The LP phase always runs on
        HiGHS.
    time_limit
        Seconds for the whole call (heuristic, LP phase, every MILP round); it returns
        within about ``1.05 * time_limit + 1`` s. The heuristic gets at most 20 % of
        it, the LP phase half of what is left, the MILP rounds the rest (each what
        remains less its model-writing overhead; none starts with less than 0.25 s
        left). The best solution found is then returned with status ``"time_limit"``
        and a valid lower bound (at least the all-open bound :math:`z_0`). The limit
        counts from the call: preparing the instance (one sort and one merge pass over
        the stored pairs, not interruptible) is inside it, so on tens of millions of
        pairs the call can return a few seconds after a very short limit.
    gap
        Relative gap at which to stop (see above); the status is then ``"time_limit"``
        unless the gap left is within the optimality tolerance.
    force_open, force_closed
        Candidate columns that must / must not open (:mod:`geoplan.optimize.site_rules`).
        Exact transformations: a forced-open site is solved as open (like an existing
        one) and counted among the ``p`` new sites and in ``selected``; a forced-closed
        column is removed from the matrix.
    max_new_per_unit, site_unit
        Most new sites per unit (forced-open ones included) and the unit of every
        column. With caps the p-median is solved as the compact assignment MILP
        (:func:`_p_median_capped`): exact, but without the Benders pipeline's speed.
    verbose
        Show the master MILP solver's log (the LP phase stays quiet).

    Returns
    -------
    Plan
        ``selected``: the new columns; ``existing``; ``objective``: total weighted time
        :math:`\sum_i w_i \min_{j\ open} t_{ij}` (``unassigned_time`` for unserved rows);
        ``bound``, ``gap``; ``assignment``: the nearest open column of every row (-1 if
        none is reachable); ``covered_before`` / ``covered_after``: weight that reaches
        an existing / any open site within the matrix; ``details``: ``mean_time``
        (weighted mean), ``max_time``, ``unassigned_rows``, ``unassigned_weight``,
        ``heuristic_objective``, ``lp_bound``, ``lp_rounds``, ``lp_stop``, ``lp_s`` /
        ``milp_s`` (seconds of the LP / MILP phase), ``rounds`` (master MILP solves),
        ``pool_cuts``, ``fixed_closed``, ``fixed_open``, ``proof`` (see the steps).

    Raises
    ------
    GeoplanInputError
        For a malformed matrix (NaN or negative times), weights of the wrong length or
        with NaN/negative values, bad ``existing`` indices, ``p`` larger than the number
        of candidate columns, or rows that reach no site while ``unassigned_time`` is None.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[1.0, 5.0, 9.0], [6.0, 2.0, 7.0], [9.0, 8.0, 1.0]])
    >>> plan = p_median(t, [10, 10, 1], p=2)
    >>> plan.selected.tolist(), plan.objective
    ([0, 1], 38.0)
    """
    if force_open is not None or force_closed is not None or max_new_per_unit is not None:
        return _p_median_with_rules(times, weights, p, existing=existing,
                                    unassigned_time=unassigned_time, solver=solver,
                                    time_limit=time_limit, gap=gap, force_open=force_open,
                                    force_closed=force_closed,
                                    max_new_per_unit=max_new_per_unit, site_unit=site_unit,
                                    verbose=verbose)
    t0 = time.perf_counter()
    if solver is None:
        solver = P_MEDIAN_SOLVER
    configure(solver, time_limit=time_limit, gap=gap)        # check the options first
    clock = Deadline(time_limit)
    prep = _prepare(times, weights, p, existing, unassigned_time)
    sub, p = prep.sub, prep.p
    h_open = _greedy(sub, p, clock.share(0.2, 10.0))
    details: dict[str, Any] = {}
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    enum = _enumerate(sub, p) if sub.n and 0 < p < sub.mc else None
    if enum is not None:
        best = enum if enum.any() else h_open
        c = _cost(sub, best)
        details.update(enumerated=math.comb(sub.mc, p), proof="enumeration")
        info = SolveInfo(OPTIMAL if math.isfinite(c) else INFEASIBLE, c, c, 0.0,
                         "enumeration", time.perf_counter() - t1)
    elif sub.n == 0 or p in (0, sub.mc):
        # nothing to choose: no row depends on the choice, or every candidate opens
        best = h_open if p < sub.mc else np.ones(sub.mc, dtype=bool)
        c = _cost(sub, best)
        details["proof"] = "no choice"
        info = SolveInfo(OPTIMAL if math.isfinite(c) else INFEASIBLE, c, c, 0.0, "none", 0.0)
    else:
        run = _Run(solver, clock, gap, details, verbose)
        status, best, _, bound = _solve_exact(sub, p, h_open, run)
        build_s += details.pop("_build_s")
        info = SolveInfo(status, math.nan, bound, math.nan, details.pop("solver"),
                         details.pop("solve_s"))
    if info.status == INFEASIBLE or best is None:
        return _no_solution_plan(prep, info, build_s, details)
    return _median_plan(prep, best, h_open, info, build_s, details)


def _p_median_capped(times: Any, weights: Any, p: int, ex: NDArray[np.intp], rules: Any, *,
                     unassigned_time: Any = None, solver: Any = None,
                     time_limit: float | None = None, gap: float | None = None,
                     verbose: bool = False) -> Plan:
    r"""The p-median with per-unit caps, as the compact assignment MILP.

    .. math::

        \min \sum_{(i,j) \in R} w_i t_{ij} x_{ij} + \sum_i w_i u z_i \quad \text{s.t.}
        \quad \sum_j x_{ij} + z_i = 1, \quad x_{ij} \le y_j \;(j \notin E), \quad
        \sum_{j \notin E} y_j = p, \quad \sum_{j \in J_g} y_j \le k_g,

    with :math:`y_j = 1` for forced-open and 0 for forced-closed sites and :math:`z_i = 0`
    unless ``unassigned_time`` :math:`u` is given (ReVelle & Swain 1970). Exact, one MILP
    solved by :func:`~geoplan.optimize.solver.solve` (its proof is the status); slower
    than the Benders pipeline on large instances, which does not take caps yet.
    """
    t0 = time.perf_counter()
    if solver is None:
        solver = P_MEDIAN_SOLVER
    rows = _sorted_rows(rules.drop_closed(sp.csr_matrix(times, dtype=float))
                        if sp.issparse(times) else times)
    w = _check_weights(weights, rows.n)
    n, m = rows.n, rows.m
    is_ex = np.zeros(m, bool)
    is_ex[ex] = True
    _check_p(p, int((~is_ex).sum()), int(ex.size))
    u = _check_unassigned(unassigned_time, rows)
    closed = np.zeros(m, bool)
    closed[rules.force_closed] = True
    live = (w > 0)[rows.row] & ~closed[rows.col]
    if unassigned_time is None:
        reach = np.bincount(rows.row[live], minlength=n) > 0
        lonely = (w > 0) & ~reach
        if lonely.any():
            raise _unreachable_error(int(lonely.sum()), n, float(w[lonely].sum()),
                                     "reach no site at all within the matrix")
    prob = pulp.LpProblem("p_median_capped", pulp.LpMinimize)
    forced = set(rules.force_open.tolist())
    # integer in [0, 1], not "Binary": pulp resets a binary's bounds to 0..1
    y = {j: pulp.LpVariable(f"y{j}", lowBound=1 if j in forced else 0,
                            upBound=0 if closed[j] else 1, cat="Integer")
         for j in np.flatnonzero(~is_ex).tolist()}
    pairs = np.flatnonzero(live)
    x = [pulp.LpVariable(f"x{k}", 0, 1) for k in range(pairs.size)]
    terms = [(x[k], float(w[rows.row[e]] * rows.t[e])) for k, e in enumerate(pairs.tolist())]
    per_row: dict[int, list[Any]] = {}
    for k, e in enumerate(pairs.tolist()):
        per_row.setdefault(int(rows.row[e]), []).append(x[k])
        j = int(rows.col[e])
        if j in y:
            prob += pulp.LpConstraint(pulp.LpAffineExpression([(x[k], 1.0), (y[j], -1.0)]),
                                      pulp.LpConstraintLE, f"open{k}", 0.0)
    for i in np.flatnonzero(w > 0).tolist():
        expr = pulp.LpAffineExpression([(v, 1.0) for v in per_row.get(i, [])])
        if math.isfinite(u):
            z = pulp.LpVariable(f"z{i}", 0, 1)
            expr.addterm(z, 1.0)
            terms.append((z, float(w[i] * u)))
        prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"serve{i}", 1.0)
    prob += pulp.LpAffineExpression(terms)
    prob += pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0) for v in y.values()]),
                              pulp.LpConstraintEQ, "p", float(p))
    for g, cap in enumerate(rules.cap.tolist()):
        cols = [y[j] for j in np.flatnonzero(rules.group == g).tolist() if j in y]
        if len(cols) > cap:
            prob += pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0) for v in cols]),
                                      pulp.LpConstraintLE, f"cap{g}", float(cap))
    build_s = time.perf_counter() - t0
    info = solve(prob, solver, time_limit=time_left(time_limit, t0), gap=gap, msg=verbose)
    details: dict[str, Any] = {"formulation": "compact assignment (per-unit caps)",
                               **rules.details()}
    if not info.has_solution:
        plan = Plan.from_solve("p_median", info, selected=[], existing=ex, build_s=build_s,
                               total_demand=float(w.sum()), details=details)
        if info.status == INFEASIBLE:
            plan.explanation = {"message": f"no {p} new sites meet the per-unit caps and "
                                           "the site rules", "hint": "relax the caps or p"}
        plan.problem = prob
        return plan
    sel = np.array(sorted(j for j, v in y.items() if (v.varValue or 0) > 0.5), np.intp)
    is_open = is_ex.copy()
    is_open[sel] = True
    tt, jj = _nearest_open(rows, is_open)
    pos = w > 0
    cost = np.where(np.isfinite(tt), tt, u)
    info = with_true_objective(info, float(w[pos] @ cost[pos]))
    t_ex, _ = _nearest_open(rows, is_ex)
    plan = Plan.from_solve("p_median", info, selected=sel, existing=ex, build_s=build_s,
                           total_demand=float(w.sum()),
                           covered_before=float(w[np.isfinite(t_ex)].sum()),
                           covered_after=float(w[np.isfinite(tt)].sum()), assignment=jj,
                           details=details)
    plan.problem = prob
    return plan


def _p_median_with_rules(times: Any, weights: Any, p: int, *, existing: Any,
                         force_open: Any, force_closed: Any, max_new_per_unit: Any,
                         site_unit: Any, **kw: Any) -> Plan:
    """:func:`p_median` with site rules, by exact transformation of the instance."""
    T = sp.csr_matrix(times, dtype=float) if sp.issparse(times) else None
    m = T.shape[1] if T is not None else int(np.asarray(times, float).shape[1])
    ex = _check_existing(existing, m)
    rules = check_site_rules(m, ex, force_open=force_open, force_closed=force_closed,
                             max_new_per_unit=max_new_per_unit, site_unit=site_unit)
    fo = rules.force_open
    if rules.cap is not None:
        return _p_median_capped(times, weights, int(p), ex, rules, **kw)
    if int(p) < fo.size:
        raise GeoplanInputError(f"force_open opens {fo.size} sites but p = {p}",
                                field="force_open", hint="raise p or force fewer sites open")
    if T is not None:
        T = rules.drop_closed(T)
    else:
        T = np.array(times, dtype=float)
        T[:, rules.force_closed] = np.inf
    plan = p_median(T, weights, int(p) - int(fo.size),
                    existing=np.union1d(ex, fo).astype(np.intp), **kw)
    plan.selected = np.union1d(plan.selected, fo).astype(np.intp)
    plan.existing = ex
    if plan.feasible:
        rows = _sorted_rows(T)
        is_ex = np.zeros(m, bool)
        is_ex[ex] = True
        t_ex, _ = _nearest_open(rows, is_ex)
        w = np.asarray(weights, float)
        plan.covered_before = float(w[np.isfinite(t_ex)].sum())
    plan.details.update(rules.details())
    return plan


def p_median_from_problem(
    problem: Any,
    p: int,
    *,
    minutes: float | None = None,
    unassigned_minutes: float | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: Any = None,
    force_closed: Any = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    verbose: bool = False,
) -> Plan:
    """p-median on a :class:`~geoplan.optimize.gis.SiteProblem` (the GIS front door).

    Residents travel to their nearest open site; ``p`` new candidate sites are chosen to
    minimise the population-weighted travel time, the problem's existing facilities
    staying open. The problem's matrix only holds pairs within its cut-off, so a cell
    with no open site within the cut-off is charged ``unassigned_minutes`` (default: the
    cut-off) - a lower bound on its true time. Such cells are counted in
    ``details["unassigned_population"]`` and a :class:`~geoplan.GeoplanWarning` is
    issued: build the problem with a cut-off well above the times that matter (e.g. 60
    minutes) for a faithful p-median.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    p
        Number of new sites among the candidates.
    minutes
        Time standard for the coverage figures (``covered_before/after``, ``by_unit``);
        default: the problem's cut-off.
    unassigned_minutes
        Time charged to cells with no open site within the cut-off (>= the cut-off).
    solver, time_limit, gap, verbose
        See :func:`p_median`.
    force_open, force_closed, max_new_per_unit
        Site rules with candidate ids (see :func:`p_median`).

    Returns
    -------
    Plan
        As :func:`p_median`, with times in **minutes** (``objective`` = person-minutes,
        ``details["mean_time"]`` = population-weighted mean minutes), ``by_unit``
        (coverage within ``minutes`` per admin unit plus ``mean_min_before`` /
        ``mean_min_after``) and ``sites``.
    """
    cutoff = float(problem.cutoff_s) / 60.0
    lim = cutoff if minutes is None else float(minutes)
    if not (0 < lim <= cutoff * (1 + 1e-12)):
        raise GeoplanInputError(f"minutes must be in (0, {cutoff:g}] (the problem's cut-off), "
                                f"got {minutes!r}", field="minutes")
    unassigned = cutoff if unassigned_minutes is None else unassigned_minutes
    tm = sp.csr_matrix(problem.times, dtype=np.float64, copy=True)
    tm.data = tm.data / 60.0
    plan = p_median(tm, problem.demand, p, existing=problem.existing,
                    unassigned_time=unassigned, solver=solver, time_limit=time_limit, gap=gap,
                    verbose=verbose,
                    **gis_site_rules(problem, force_open, force_closed, max_new_per_unit))
    return _median_finish(problem, plan, tm, lim, float(unassigned))


def _median_finish(problem: Any, plan: Plan, tm: sp.csr_matrix, lim: float,
                   unassigned: float) -> Plan:
    """A p-median plan's coverage, per-unit table (mean minutes too) and sites, from its
    problem (``tm``: the problem's times in minutes; ``lim``: the coverage standard)."""
    cutoff = float(problem.cutoff_s) / 60.0
    if not plan.feasible:
        return plan
    rows = _sorted_rows(tm)
    is_ex = np.zeros(rows.m, dtype=bool)
    is_ex[problem.existing] = True
    is_open = is_ex.copy()
    is_open[plan.selected] = True
    before, _ = _nearest_open(rows, is_ex)
    after, _ = _nearest_open(rows, is_open)
    w = np.asarray(problem.demand, dtype=np.float64)
    tol = lim * (1 + 1e-12)
    cov_b, cov_a = before <= tol, after <= tol
    plan.covered_before = float(w[cov_b].sum())
    plan.covered_after = float(w[cov_a].sum())
    by_unit = coverage_by_unit(problem, cov_b, cov_a)
    unit = problem.unit if problem.unit is not None else np.full(w.size, "all", object)
    frame = pd.DataFrame({"admin_code": pd.Series(unit, dtype=object).fillna("(none)"),
                          "w": w, "b": w * np.minimum(before, float(unassigned)),
                          "a": w * np.minimum(after, float(unassigned))})
    g = frame.groupby("admin_code").sum()
    g.loc["total"] = frame[["w", "b", "a"]].sum()
    den = g["w"].where(g["w"] > 0)
    by_unit["mean_min_before"] = by_unit["admin_code"].map(g["b"] / den).to_numpy()
    by_unit["mean_min_after"] = by_unit["admin_code"].map(g["a"] / den).to_numpy()
    plan.by_unit = by_unit
    plan.sites = plan_sites(problem, plan)
    lost = (w > 0) & ~np.isfinite(after)
    plan.details.update(minutes=lim, unassigned_minutes=float(unassigned), mode=problem.mode,
                        unassigned_population=float(w[lost].sum()))
    if lost.any():
        warnings.warn(
            f"{int(lost.sum()):,} cells ({w[lost].sum():,.0f} people) have no open site "
            f"within the problem's {cutoff:g}-minute cut-off and were charged "
            f"{float(unassigned):g} minutes; build the problem with a larger cut-off for a "
            "faithful p-median", GeoplanWarning, stacklevel=3)
    return plan

r"""Trade-off curve: covered population against the number of new sites, each point optimal.

Why: a commission rarely asks for one number; it asks "what do 3, 5 or 10 new points
buy?". Each point of the curve is a maximal covering problem
(:func:`geoplan.optimize.covering.max_covering`) with :math:`\sum_j x_j \le p` for
:math:`p = 0, 1, \dots, P`. The model is reduced and built **once**; only the right-hand
side of the count constraint changes between points, and the previous optimum is
passed to the solver as a starting solution (it stays feasible when p grows). The curve
stops early once every coverable person is covered (all further points are equal).

What proves what: a point is "optimal" when its MILP is proven by the solver (see
:func:`geoplan.optimize.solver.solve`), or when an earlier point already covers every
coverable person (no plan can cover more). The time limit is for the whole curve.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError

from .covering import _covered, _gis_finish, _selected, build_max_covering, gis_site_rules
from .heuristics import greedy_max_covering
from .plan import Plan
from .reduce import check_covering_inputs, reduce_covering
from .site_rules import check_site_rules
from .solver import (
    FEASIBLE,
    INFEASIBLE,
    OPTIMAL,
    Deadline,
    SolveInfo,
    _rel_gap,
    configure,
    solve,
    with_true_objective,
)

log = logging.getLogger("geoplan.optimize")

__all__ = ["tradeoff_curve", "tradeoff_curve_from_problem"]


def tradeoff_curve(
    coverage: ArrayLike | sparse.spmatrix,
    weights: ArrayLike,
    p_max: int,
    *,
    existing: ArrayLike | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    verbose: bool = False,
) -> tuple[pd.DataFrame, list[Plan]]:
    """Optimal covered population for 0, 1, ..., ``p_max`` new sites.

    Parameters
    ----------
    coverage, weights, existing
        As for :func:`~geoplan.optimize.covering.max_covering`.
    p_max
        Largest number of new sites.
    solver, gap
        Per point; see :func:`geoplan.optimize.solver.solve`.
    time_limit
        Seconds for the whole curve. Points not reached in time keep the previous
        point's sites (still feasible), with status ``"time_limit"`` and the coverable
        population as their bound.
    force_open, force_closed, max_new_per_unit, site_unit, verbose
        Site rules and the solver log, as for
        :func:`~geoplan.optimize.covering.max_covering`; points with fewer sites than
        are forced open are ``"infeasible"``.

    Returns
    -------
    curve : pandas.DataFrame
        One row per p: ``p``, ``new_sites``, ``covered``, ``share``, ``gain`` (people
        added by the p-th site), ``status``, ``gap``, ``solve_s``, ``sites`` (column
        indices, space-separated).
    plans : list of Plan
        The plan of every point.
    """
    t0 = time.perf_counter()
    clock = Deadline(time_limit)
    configure(solver, time_limit=time_limit, gap=gap)          # check the options first
    C, w, ex, _, _ = check_covering_inputs(coverage, weights, existing, None)
    if int(p_max) != p_max or p_max < 0:
        raise GeoplanInputError(f"p_max must be a non-negative whole number, got {p_max!r}",
                                field="p_max")
    rules = check_site_rules(C.shape[1], ex, force_open=force_open, force_closed=force_closed,
                             max_new_per_unit=max_new_per_unit, site_unit=site_unit)
    fo = rules.force_open
    C = rules.close(C)
    inst = reduce_covering(C, w, np.union1d(ex, fo).astype(np.intp),
                           col_group=rules.group, group_cap=rules.remaining_cap())
    total = float(w.sum())
    base = float(w[_covered(C, ex)].sum())
    reachable = float(w[inst.coverable].sum())
    rows: list[dict[str, Any]] = []
    plans: list[Plan] = []
    prob = x = None
    if inst.A.shape[0] and inst.A.shape[1]:
        prob, x = build_max_covering(inst, w, p=0, budget=None)
    build_s = time.perf_counter() - t0
    prev: np.ndarray | None = None                # the previous point's chosen columns

    def point(info: SolveInfo, chosen: NDArray[np.intp], b_s: float = 0.0) -> Plan:
        sel = np.union1d(chosen, fo).astype(np.intp)
        after = float(w @ _covered(C, np.r_[ex, sel].astype(np.intp)))
        if info.has_solution and info.status == OPTIMAL and not math.isfinite(info.objective):
            info = replace(info, objective=after, bound=after)
        if info.status == FEASIBLE and not math.isfinite(info.bound):
            # stopped before the solver proved any bound (under load, within its first
            # LP): everyone some site can reach is still a valid bound
            info = replace(info, bound=reachable, gap=_rel_gap(after, reachable))
        info = with_true_objective(info, after)
        plan = Plan.from_solve("max_covering", info, selected=sel, existing=ex, build_s=b_s,
                               covered_before=base, covered_after=after if info.has_solution
                               else math.nan, total_demand=total, reduction=inst.reduction,
                               details=rules.details())
        return plan

    def value(sites: NDArray[np.intp]) -> float:
        return float(w @ _covered(C, np.r_[ex, fo, sites].astype(np.intp)))

    # greedy plans are nested: its first k columns are a plan with k new sites
    order = np.array([], np.intp) if prob is None else inst.cols[np.asarray(
        greedy_max_covering(inst, p=max(int(p_max) - fo.size, 0), budget=None),
        np.intp)].astype(np.intp)

    def start_for(p: int) -> tuple[NDArray[np.intp], float]:
        """The greedy's first sites or the previous point's, the better, and its value."""
        options = ([prev] if prev is not None else []) + [order[:p - fo.size]]
        values = [value(c) for c in options]
        k = int(np.argmax(values))
        return options[k], values[k]

    def carried(sites: NDArray[np.intp], covered: float, bound: float,
                name: str) -> tuple[SolveInfo, NDArray[np.intp]]:
        """Return these sites (covering ``covered``) as a time-limited plan for this p."""
        return SolveInfo(status=FEASIBLE, objective=covered, bound=bound,
                         gap=_rel_gap(covered, bound), solver=name, solve_s=0.0), sites

    for p in range(int(p_max) + 1):
        if p < fo.size:
            info = SolveInfo(status=INFEASIBLE, objective=math.nan, bound=math.nan,
                             gap=math.nan, solver=f"(not run: {fo.size} sites forced open)",
                             solve_s=0.0)
            plan = point(info, np.array([], np.intp))
        elif prob is None or p == fo.size or (
                plans and plans[-1].feasible and plans[-1].covered_after >= reachable - 1e-9):
            chosen = prev if prev is not None else np.array([], np.intp)
            info = SolveInfo(status=OPTIMAL, objective=math.nan, bound=math.nan, gap=0.0,
                             solver="(not run: no further gain possible)" if p > fo.size
                             else f"(p = {p})", solve_s=0.0)
            plan = point(info, chosen)
        elif clock.expired(0.01):
            prev, covered = start_for(p)
            plan = point(*carried(prev, covered, reachable, "(not run: time limit; greedy or "
                                                             "previous point's sites)"))
        else:
            prob.constraints["p"].constant = -float(p - fo.size)
            start, covered = start_for(p)
            on = set(start.tolist())
            for j, v in enumerate(x):
                v.setInitialValue(1.0 if int(inst.cols[j]) in on else 0.0)
            info = solve(prob, solver, time_limit=clock.solver_limit(), gap=gap, warm_start=True,
                         msg=verbose)
            chosen = _selected(inst, x) if info.has_solution else np.array([], np.intp)
            b_s = build_s if p == fo.size + 1 else 0.0
            if info.status not in (INFEASIBLE, OPTIMAL) and (
                    not info.has_solution
                    or value(chosen) < covered - 1e-9 * max(1.0, covered)):
                # stopped without a plan, or a worse one: the start is the answer
                b = min(reachable, info.bound) if math.isfinite(info.bound) else reachable
                chosen = start
                plan = point(*carried(start, covered, b, info.solver + " + greedy start"), b_s)
            else:
                plan = point(info, chosen, b_s)
            prev = chosen
        plans.append(plan)
        log.info("tradeoff_curve: p = %d %s, covered %s", p, plan.status,
                 f"{plan.covered_after:,.6g}")
        rows.append({"p": p, "new_sites": plan.n_new, "covered": plan.covered_after,
                     "share": plan.covered_after / total if total else np.nan,
                     "gain": plan.covered_after - (rows[-1]["covered"] if rows else base),
                     "status": plan.status, "gap": plan.gap, "solve_s": plan.solve_s,
                     "sites": " ".join(str(j) for j in plan.selected)})
    return pd.DataFrame(rows), plans


def tradeoff_curve_from_problem(problem: Any, minutes: float | ArrayLike, *, p_max: int,
                                force_open: Any = None, force_closed: Any = None,
                                max_new_per_unit: int | Mapping[str, int] | None = None,
                                **solve_kw: Any) -> tuple[Plan, pd.DataFrame]:
    """:func:`tradeoff_curve` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    Returns
    -------
    plan : Plan
        The point with ``p_max`` new sites (with ``by_unit`` and ``sites``).
    curve : pandas.DataFrame
        The curve, with site ids instead of column indices.
    """
    C = problem.coverage(minutes)
    curve, plans = tradeoff_curve(C, problem.demand, p_max, existing=problem.existing,
                                  **gis_site_rules(problem, force_open, force_closed,
                                                   max_new_per_unit), **solve_kw)
    ids = problem.sites["site_id"].to_numpy()
    curve["sites"] = [" ".join(ids[int(j)] for j in s.split()) for s in curve["sites"]]
    last = plans[-1]
    last.model = "tradeoff"
    last.details["covered_rows"] = _covered(C, np.r_[last.existing, last.selected].astype(
        np.intp))
    return _gis_finish(problem, last, minutes), curve

r"""Covering models: fewest new sites to reach a coverage target, and maximal covering.

Why: "fewest new insurance service points so that 95 % of residents (and 85 % of every
town) are within 15 minutes" and "where do 5 new emergency stations cover the most
people" are the two questions behind most service-circle targets. Both are solved
exactly as MILPs after the exact reduction of :mod:`geoplan.optimize.reduce`; existing
facilities count as open at no cost.

Symbols (shared by both models)
-------------------------------
:math:`I` demand rows (cells) with population :math:`w_i`; :math:`J` candidate sites
with cost :math:`c_j` (1 when no costs are given); :math:`E` existing sites (fixed open);
:math:`N_i \subseteq J` the candidates that reach row :math:`i` within the time
standard; :math:`F = \{i : \text{some } e \in E \text{ reaches } i\}` rows already covered.
Variables :math:`x_j \in \{0,1\}` (open candidate :math:`j`) and
:math:`y_i \in [0,1]` (row :math:`i` covered; integral at every optimum because
:math:`y_i \le \sum_{j \in N_i} x_j` with integral :math:`x`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError

from .explain import explain_shortfall
from .heuristics import (
    covered_weight,
    greedy_max_covering,
    greedy_set_covering,
    improve_max_covering,
)
from .lp_fixing import fix_by_probing, fix_by_reduced_cost, max_covering_lp
from .plan import Plan
from .reduce import CoverInstance, check_covering_inputs, reduce_covering
from .site_rules import check_site_rules, problem_site_units, site_columns
from .solver import (
    FEASIBLE,
    INFEASIBLE,
    MAX_COVERING_SOLVER,
    OPTIMAL,
    OPTIMAL_ABS_GAP,
    OPTIMAL_GAP,
    Deadline,
    SolveInfo,
    _rel_gap,
    configure,
    proven,
    solve,
    time_left,
)

log = logging.getLogger("geoplan.optimize")

#: Least seconds left after the greedy for set covering to build and start its MILP.
_MIN_SOLVE_S = 0.05

__all__ = ["gis_site_rules", "max_covering", "max_covering_from_problem", "set_covering",
           "set_covering_from_problem"]


def _x_vars(prob: pulp.LpProblem, k: int) -> list[pulp.LpVariable]:
    return [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(k)]


def _cover_rows(prob: pulp.LpProblem, inst: CoverInstance, x: list[pulp.LpVariable],
                y: list[pulp.LpVariable] | None) -> None:
    """Add ``y_i <= sum_{j in N_i} x_j`` (or ``sum x_j >= 1`` without y) per merged row."""
    A = inst.A
    ind, ptr = A.indices, A.indptr
    for i in range(A.shape[0]):
        cols = ind[ptr[i]:ptr[i + 1]]
        expr = pulp.LpAffineExpression([(x[j], 1.0) for j in cols])
        if y is None:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"c{i}", 1.0)
        else:
            expr.addterm(y[i], -1.0)
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"c{i}", 0.0)


def _selected(inst: CoverInstance, x: list[pulp.LpVariable]) -> NDArray[np.intp]:
    vals = np.array([v.varValue or 0.0 for v in x])
    return inst.cols[vals > 0.5]


def _covered(C: sparse.csr_matrix, cols: NDArray[np.intp]) -> NDArray[np.bool_]:
    if cols.size == 0:
        return np.zeros(C.shape[0], bool)
    return np.asarray(C[:, cols].sum(axis=1)).ravel() > 0


def _finish(model: str, info: SolveInfo, inst: CoverInstance, C: sparse.csr_matrix,
            w: NDArray[np.float64], existing: NDArray[np.intp], chosen: NDArray[np.intp],
            build_s: float, **extra: Any) -> Plan:
    before = _covered(C, existing)
    after = _covered(C, np.r_[existing, chosen].astype(np.intp))
    return Plan.from_solve(model, info, selected=chosen, existing=existing, build_s=build_s,
                           covered_before=float(w @ before), covered_after=float(w @ after),
                           total_demand=float(w.sum()), reduction=inst.reduction,
                           details={"covered_rows": after, **extra})


def _infeasible(model: str, explanation: Any, C: sparse.csr_matrix, w: NDArray[np.float64],
                existing: NDArray[np.intp], inst: CoverInstance, build_s: float) -> Plan:
    before = float(w @ _covered(C, existing))
    info = SolveInfo(status=INFEASIBLE, objective=math.nan, bound=math.nan, gap=math.nan,
                     solver="(not run: target proven unreachable)", solve_s=0.0)
    return Plan.from_solve(model, info, selected=[], existing=existing, build_s=build_s,
                           covered_before=before, covered_after=math.nan,
                           total_demand=float(w.sum()), reduction=inst.reduction,
                           explanation=explanation)


def _trivial(objective: float) -> SolveInfo:
    """The answer when the reduced instance has nothing left to decide."""
    return SolveInfo(status=OPTIMAL, objective=objective, bound=objective, gap=0.0,
                     solver="(not run: nothing left to decide after reduction)", solve_s=0.0)


def set_covering(
    coverage: ArrayLike | sparse.spmatrix,
    weights: ArrayLike | None = None,
    *,
    existing: ArrayLike | None = None,
    costs: ArrayLike | None = None,
    target_share: float = 1.0,
    unit: ArrayLike | None = None,
    unit_min_share: float | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    verbose: bool = False,
) -> Plan:
    r"""Fewest (or cheapest) new sites so that a share of the population is covered.

    With ``target_share=1`` and no unit targets this is the location set covering
    problem (Toregas et al. 1971): every row must be covered.

    .. math::

        \min \sum_{j \in J} c_j x_j \quad \text{s.t.} \quad
        y_i \le \sum_{j \in N_i} x_j \;\; (i \in I \setminus F), \qquad
        \sum_{i \in F} w_i + \sum_{i \notin F} w_i y_i \ge \alpha \sum_{i} w_i,

        \sum_{i \in F \cap U} w_i + \sum_{i \in U \setminus F} w_i y_i
            \ge \beta \sum_{i \in U} w_i \quad (\text{every unit } U),

    :math:`x_j \in \{0,1\}`, :math:`y_i \in [0,1]`; :math:`\alpha` = ``target_share``,
    :math:`\beta` = ``unit_min_share``. With :math:`\alpha = 1` (and no
    :math:`\beta`) the covering rows become :math:`\sum_{j \in N_i} x_j \ge 1`.
    Site rules add :math:`x_j = 1` (forced open: treated as open, their cost a
    constant), :math:`x_j = 0` (forced closed: the column is dropped) and
    :math:`\sum_{j \in J_u} x_j \le k_u` per unit :math:`u` (forced-open sites use up
    their unit's cap).

    Solved directly as one MILP (after the exact reduction); ``plan.problem`` is that
    PuLP model. "optimal" is the solver's proof (see :func:`geoplan.optimize.solver.solve`).
    A stopped solve's bound is at least the counting bound of :func:`_cover_floor`
    (the costliest cheapest column of any row, or the share still needed over the best
    coverage per unit of cost), so a stopped run always has one; a plan that meets it is
    proven optimal by it.

    A target that no choice of sites can reach (rows no candidate reaches weigh too
    much) is detected before solving and returned as an ``"infeasible"`` plan whose
    ``explanation`` lists the unreachable population per unit and the largest
    achievable shares (the smallest relaxation of the target).

    Parameters
    ----------
    coverage
        ``(demand, sites)`` boolean matrix: site j reaches demand i within the standard.
        Columns include the existing sites.
    weights
        Population per demand row (default 1 each).
    existing
        Column indices of existing (fixed-open, free) sites.
    costs
        Cost per site (default: 1, i.e. count sites).
    target_share
        Share of the total population to cover (0-1].
    unit, unit_min_share
        Admin unit per demand row and the minimum covered share in every unit.
    solver, time_limit, gap
        See :func:`geoplan.optimize.solver.solve`; ``time_limit`` counts from the call
        and covers the reduction and the model building: when they use it up, no MILP
        is built and the greedy plan returns (status ``"time_limit"``, or ``"optimal"``
        when it meets the counting bound).
    force_open, force_closed
        Candidate columns that must / must not open (forced-open sites are new sites of
        the plan: they count in the objective, ``p``, the budget and the caps).
    max_new_per_unit, site_unit
        Most new sites per unit (an int, or a mapping unit -> int) and the unit of every
        column; see :mod:`geoplan.optimize.site_rules`.
    verbose
        Show the solver's log.

    Returns
    -------
    Plan
        ``objective`` = number (or cost) of new sites, forced-open ones included.
    """
    t0 = time.perf_counter()
    configure(solver, time_limit=time_limit, gap=gap)          # check the options first
    C, w, ex, c, u = check_covering_inputs(coverage, weights, existing, costs, unit)
    if not (0 < target_share <= 1):
        raise GeoplanInputError(f"target_share must be in (0, 1], got {target_share!r}",
                                field="target_share")
    if unit_min_share is not None:
        if not (0 < unit_min_share <= 1):
            raise GeoplanInputError(f"unit_min_share must be in (0, 1], got {unit_min_share!r}",
                                    field="unit_min_share")
        if u is None:
            raise GeoplanInputError("unit_min_share needs the admin unit of every row",
                                    field="unit")
    rules = check_site_rules(C.shape[1], ex, force_open=force_open, force_closed=force_closed,
                             max_new_per_unit=max_new_per_unit, site_unit=site_unit)
    fo = rules.force_open
    C = rules.close(C)
    fixed_cost = float((np.ones(C.shape[1]) if c is None else c)[fo].sum())
    inst = reduce_covering(C, w, np.union1d(ex, fo).astype(np.intp), c,
                           u if unit_min_share is not None else None,
                           col_group=rules.group, group_cap=rules.remaining_cap())
    extra = {"target_share": target_share, "unit_min_share": unit_min_share,
             **rules.details()}
    explanation = explain_shortfall(w, inst.coverable, target_share, u, unit_min_share)
    if explanation is not None:
        return _infeasible("set_covering", explanation, C, w, ex, inst,
                           time.perf_counter() - t0)
    if inst.A.shape[0] == 0:
        return _finish("set_covering", _trivial(fixed_cost), inst, C, w, ex, fo,
                       time.perf_counter() - t0, **extra)
    full = target_share >= 1.0 and unit_min_share is None
    need = None if full else target_share * float(w.sum()) - float(w[inst.covered_fixed].sum())
    start = greedy_set_covering(
        inst, need,
        None if full or unit_min_share is None else _unit_needs(inst, w, u, unit_min_share))
    floor = fixed_cost + _cover_floor(inst, need)
    left = time_left(time_limit, t0)
    if start is not None and left is not None and left < _MIN_SOLVE_S:
        # the limit ran out in the reduction and the greedy: their plan, with the
        # counting bound, instead of a MILP that would start with no time
        info = _with_floor(SolveInfo(FEASIBLE, fixed_cost + float(inst.costs[start].sum()),
                                     math.nan, math.nan, "greedy (time limit reached before "
                                     "the MILP)", 0.0), floor)
        chosen = np.union1d(inst.cols[np.asarray(start, np.intp)], fo).astype(np.intp)
        return _finish("set_covering", info, inst, C, w, ex, chosen,
                       time.perf_counter() - t0, **extra)
    prob = pulp.LpProblem("set_covering", pulp.LpMinimize)
    x = _x_vars(prob, inst.A.shape[1])
    obj = pulp.LpAffineExpression(list(zip(x, inst.costs.tolist(), strict=True)))
    obj.constant = fixed_cost
    prob += obj
    if full:
        _cover_rows(prob, inst, x, None)
    else:
        # y is integral at an optimum anyway; declared binary because CBC 2.10's
        # preprocessing returned a wrong "optimal" plan (cost 11 for 9) with continuous y
        # on a 4-row share-target instance (tests/test_opt_covering.py regression)
        y = [pulp.LpVariable(f"y{i}", cat="Binary") for i in range(inst.A.shape[0])]
        _cover_rows(prob, inst, x, y)
        # a tiny tolerance so floating-point sums of populations do not cut off exact hits
        tol = 1e-9 * max(1.0, float(w.sum()))
        prob += pulp.LpConstraint(pulp.LpAffineExpression(
            list(zip(y, inst.w.tolist(), strict=True))), pulp.LpConstraintGE, "target",
            need - tol)
        if unit_min_share is not None:
            _unit_rows(prob, inst, y, w, u, unit_min_share)
    _cap_rows(prob, inst, x)
    build_s = time.perf_counter() - t0
    # the greedy plan is the answer when the solver has none (or a worse one), but it is
    # not passed as a MIP start: HiGHS 1.16 given it took 103 s instead of 10 s on the demo's
    # emergency-station standards model (set covering with per-cell standards, 95 %)
    info = solve(prob, solver, time_limit=time_left(time_limit, t0), gap=gap, msg=verbose)
    if start is not None:
        info, use_start = _keep_better_start(info, fixed_cost + float(inst.costs[start].sum()))
        if use_start:
            on = set(start)
            for k, v in enumerate(x):
                v.varValue = 1.0 if k in on else 0.0
    info = _with_floor(info, floor)
    chosen = _selected(inst, x) if info.has_solution else np.array([], np.intp)
    plan = _finish("set_covering", info, inst, C, w, ex, np.union1d(chosen, fo).astype(np.intp)
                   if info.has_solution else chosen, build_s, **extra)
    if info.status == INFEASIBLE and rules.active:
        plan.explanation = {"message": "the target cannot be reached with the site rules "
                                       "given (forced-closed sites, per-unit caps)",
                            "hint": "relax max_new_per_unit or reopen closed sites"}
    plan.problem = prob
    return plan


def _cover_floor(inst: CoverInstance, need: float | None) -> float:
    r"""A lower bound on the new sites' cost that needs no solver (0 when none is needed).

    Full coverage (``need`` None): every row needs one of its columns, so the cost is
    at least :math:`\max_i \min_{j \ni i} c_j`. A share target: the new columns must
    cover weight ``need``, and column :math:`j` covers at most :math:`W_j = \sum_{i \in
    j} w_i`, so the cost is at least ``need`` :math:`\cdot \min_j c_j / W_j` (the
    fractional knapsack bound); with unit costs, at least :math:`\lceil need / \max_j
    W_j \rceil` sites.
    """
    A, c = inst.A, inst.costs                      # CSR, rows x kept candidates
    if A.shape[0] == 0 or A.shape[1] == 0:
        return 0.0
    if need is None:
        has = np.flatnonzero(np.diff(A.indptr) > 0)
        if has.size == 0:
            return 0.0
        return float(np.minimum.reduceat(c[A.indices], A.indptr[has]).max())
    if need <= 1e-9 * max(1.0, float(inst.w.sum())):
        return 0.0
    cover = np.asarray(A.T @ inst.w, dtype=float).ravel()
    useful = cover > 0
    if not useful.any():
        return 0.0
    floor = need * float((c[useful] / cover[useful]).min())
    if np.all(c == 1.0):
        floor = max(floor, float(math.ceil(need / float(cover.max()) - 1e-9)))
    return floor


def _with_floor(info: SolveInfo, floor: float) -> SolveInfo:
    """A stopped solve's bound raised to ``floor`` (a bound that needs no solver)."""
    if not info.has_solution or info.status == OPTIMAL:
        return info
    b = info.bound if math.isfinite(info.bound) else -math.inf
    if b >= floor:
        return info
    floor = min(floor, info.objective)
    name = info.solver + " + counting bound"
    if proven(info.objective, floor):
        return replace(info, status=OPTIMAL, bound=info.objective, gap=0.0, solver=name)
    return replace(info, bound=floor, gap=_rel_gap(info.objective, floor), solver=name)


def _unit_needs(inst: CoverInstance, w: NDArray[np.float64], u: NDArray[np.object_],
                share: float) -> dict[str, float]:
    """Weight each unit still has to cover: its share minus what existing sites cover."""
    lab = u.astype(str)
    return {k: share * float(w[lab == k].sum()) - float(w[(lab == k) & inst.covered_fixed].sum())
            for k in sorted(set(lab.tolist()))}


def _keep_better_start(info: SolveInfo, start_cost: float) -> tuple[SolveInfo, bool]:
    """Return the solver's answer, or the greedy start where the solver has nothing better.

    A time-limited solver may return no plan or a costlier one than its start; the
    start is a feasible plan, so it is the answer then, with the solver's bound (a
    proven lower bound stays valid). Returns the info and whether the start is used.
    """
    if info.status == OPTIMAL:
        return info, False
    if info.has_solution and info.objective <= start_cost + 1e-9 * max(1.0, start_cost):
        return info, False
    if info.status == INFEASIBLE:       # contradicted by a feasible plan: not a proof
        log.warning("the solver called a set-covering model infeasible that has a "
                    "feasible plan; returning that plan unproven")
    slack = 1e-9 * max(1.0, start_cost)
    bound = info.bound if math.isfinite(info.bound) and info.bound <= start_cost + slack \
        else math.nan
    st = OPTIMAL if proven(start_cost, bound) else FEASIBLE
    gap = 0.0 if st == OPTIMAL else _rel_gap(start_cost, bound)
    return SolveInfo(st, start_cost, start_cost if st == OPTIMAL else bound, gap,
                     info.solver + " + greedy start", info.solve_s), True


def _cap_rows(prob: pulp.LpProblem, inst: CoverInstance, x: list[pulp.LpVariable]) -> None:
    """Add ``sum_{j in unit} x_j <= cap`` for every cap group that could bind."""
    if inst.col_group is None or inst.group_cap is None:
        return
    for g, cap in enumerate(inst.group_cap.tolist()):
        cols = np.flatnonzero(inst.col_group == g)
        if cols.size > cap:
            prob += pulp.LpConstraint(pulp.LpAffineExpression([(x[j], 1.0) for j in cols]),
                                      pulp.LpConstraintLE, f"cap{g}", float(cap))


def _unit_rows(prob: pulp.LpProblem, inst: CoverInstance, y: list[pulp.LpVariable],
               w: NDArray[np.float64], u: NDArray[np.object_], share: float) -> None:
    row_unit = inst.row_unit.astype(str) if inst.row_unit is not None else np.array([])
    tol = 1e-9 * max(1.0, float(w.sum()))
    for n_u, (k, need) in enumerate(_unit_needs(inst, w, u, share).items()):
        if need <= tol:
            continue
        rows = np.flatnonzero(row_unit == k)
        prob += pulp.LpConstraint(pulp.LpAffineExpression(
            [(y[i], float(inst.w[i])) for i in rows]), pulp.LpConstraintGE, f"unit{n_u}",
            need - tol)


def max_covering(
    coverage: ArrayLike | sparse.spmatrix,
    weights: ArrayLike,
    *,
    p: int | None = None,
    budget: float | None = None,
    costs: ArrayLike | None = None,
    existing: ArrayLike | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    verbose: bool = False,
) -> Plan:
    r"""At most ``p`` new sites (and/or a budget): maximise the population covered.

    The maximal covering location problem (Church & ReVelle 1974) with existing
    facilities and an optional budget:

    .. math::

        \max \sum_{i \in F} w_i + \sum_{i \notin F} w_i y_i \quad \text{s.t.} \quad
        y_i \le \sum_{j \in N_i} x_j, \qquad \sum_{j \in J} x_j \le p, \qquad
        \sum_{j \in J} c_j x_j \le B,

    :math:`x_j \in \{0,1\}`, :math:`y_i \in [0,1]`; site rules add :math:`x_j = 1`
    (forced open), :math:`x_j = 0` (forced closed) and
    :math:`\sum_{j \in J_u} x_j \le k_u` per unit.

    Solved exactly in four steps after the reduction: an iterated local search plan
    :math:`z^*`; the LP bound by Benders cutting planes
    (:func:`geoplan.optimize.lp_fixing.max_covering_lp`), which proves :math:`z^*`
    optimal when it meets it; closing the sites no better plan can use, by reduced cost
    and by probing; the MILP on the rest, started from :math:`z^*`. What each step
    proves is in :func:`_solve_max_covering`. On a time limit (one deadline for all
    steps) the better of the two plans is returned with the tighter of the two valid
    bounds, status ``"time_limit"``. ``plan.problem`` is the compact MILP of the
    reduced instance (built on first access: the pipeline may not need it).

    Parameters
    ----------
    coverage
        ``(demand, sites)`` boolean matrix (columns include the existing sites).
    weights
        Population per demand row.
    p
        Maximum number of new sites.
    budget, costs
        Maximum total cost of new sites and the cost of each site.
    existing
        Column indices of existing (fixed-open) sites.
    solver, time_limit, gap
        See :func:`geoplan.optimize.solver.solve`; the default solver is
        :data:`~geoplan.optimize.solver.MAX_COVERING_SOLVER` (measured faster here).
    force_open, force_closed
        Candidate columns that must / must not open (forced-open sites are new sites of
        the plan: they count in the objective, ``p``, the budget and the caps).
    max_new_per_unit, site_unit
        Most new sites per unit (an int, or a mapping unit -> int) and the unit of every
        column; see :mod:`geoplan.optimize.site_rules`.
    verbose
        Show the solver's log.

    Returns
    -------
    Plan
        ``objective`` = population covered after the plan (existing coverage included).
    """
    t0 = time.perf_counter()
    configure(solver, time_limit=time_limit, gap=gap)          # check the options first
    C, w, ex, c, _ = check_covering_inputs(coverage, weights, existing, costs)
    if p is None and budget is None:
        raise GeoplanInputError("give p (number of new sites) and/or a budget", field="p")
    if p is not None and (int(p) != p or p < 0):
        raise GeoplanInputError(f"p must be a non-negative whole number, got {p!r}", field="p")
    if budget is not None:
        if c is None:
            raise GeoplanInputError("a budget needs the cost of every site", field="costs")
        if not (budget >= 0):
            raise GeoplanInputError(f"budget must be non-negative, got {budget!r}",
                                    field="budget")
    rules = check_site_rules(C.shape[1], ex, force_open=force_open, force_closed=force_closed,
                             max_new_per_unit=max_new_per_unit, site_unit=site_unit)
    fo = rules.force_open
    p_left, budget_left = _forced_limits(fo, c, p, budget)
    C = rules.close(C)
    inst = reduce_covering(C, w, np.union1d(ex, fo).astype(np.intp), c,
                           col_group=rules.group, group_cap=rules.remaining_cap())
    extra = {"p": p, "budget": budget, **rules.details()}
    if inst.A.shape[0] == 0 or inst.A.shape[1] == 0 or p_left == 0:
        plan = _finish("max_covering", _trivial(float(w[inst.covered_fixed].sum())), inst, C,
                       w, ex, fo, time.perf_counter() - t0, **extra)
    else:
        plan_cols, info, build_s = _solve_max_covering(
            inst, w, p=p_left, budget=budget_left, solver=solver,
            time_limit=time_left(time_limit, t0), gap=gap, t0=t0, verbose=verbose)
        plan = _finish("max_covering", info, inst, C, w, ex,
                       np.union1d(plan_cols, fo).astype(np.intp), build_s, **extra)
    plan.problem = lambda: build_max_covering(inst, w, p=p_left, budget=budget_left)[0]
    return plan


def _forced_limits(fo: NDArray[np.intp], c: NDArray[np.float64] | None, p: int | None,
                   budget: float | None) -> tuple[int | None, float | None]:
    """``p`` and the budget left once the forced-open sites are counted (checked)."""
    p_left = None if p is None else int(p) - int(fo.size)
    if p_left is not None and p_left < 0:
        raise GeoplanInputError(f"force_open opens {fo.size} sites but p = {p}",
                                field="force_open", hint="raise p or force fewer sites open")
    budget_left = None
    if budget is not None:
        spent = float(c[fo].sum()) if c is not None else 0.0
        budget_left = float(budget) - spent
        if budget_left < -1e-9:
            raise GeoplanInputError(f"the forced-open sites cost {spent:,.6g}, more than the "
                                    f"budget {budget:,.6g}", field="force_open",
                                    hint="raise the budget or force fewer sites open")
        budget_left = max(budget_left, 0.0)
    return p_left, budget_left


def _solve_max_covering(inst: CoverInstance, w: NDArray[np.float64], *, p: int | None,
                        budget: float | None, solver: str | pulp.LpSolver | None,
                        time_limit: float | None, gap: float | None, t0: float,
                        verbose: bool = False,
                        ) -> tuple[NDArray[np.intp], SolveInfo, float]:
    """Heuristic plan, LP bound and fixing, then the MILP on what is left.

    Why: the plain MILP spends much of its time finding plans and branching over sites
    that cannot be in any better plan. The steps, and what each proves:

    1. iterated local search (:mod:`geoplan.optimize.heuristics`) gives a plan ``z*``:
       a true plan (its value is recomputed), proves nothing;
    2. the Benders LP (:func:`~geoplan.optimize.lp_fixing.max_covering_lp`) gives an
       upper bound ``U`` at every master HiGHS solved to optimality, converged or not;
       ``U < z* + 1`` (integral weights) or ``U <= z*`` (within tolerances, with a
       safety margin for LP tolerances) proves ``z*`` optimal;
    3. otherwise sites are closed whose reduced cost in that master, or whose probe (a
       master solved with the site forced open and the closed sites shut), proves that
       no plan better than ``z*`` opens them; sites every better plan opens are fixed
       open; identical rows are merged again. Exact relative to ``z*``: every plan
       better than ``z*`` survives;
    4. the MILP on the rest starts from ``z*`` and gets the time that is left. Proven
       optimal there (by the solver's own bound, see :func:`~geoplan.optimize.solver.solve`)
       means ``max(its optimum, z*)`` is the optimum of the full problem; otherwise the
       bound is ``min(U, max(its bound, z*))`` and the plan is ``"time_limit"``.

    All steps share one deadline: the call returns within ``time_limit`` plus the
    solver watchdog's grace. Returns the chosen columns (original indices), the solve
    info (objective and bound include the rows already covered) and the build time.
    """
    base = float(w[inst.covered_fixed].sum())           # covered by existing sites
    clock = Deadline(time_limit)
    if solver is None:
        solver = MAX_COVERING_SOLVER
    heur_s = clock.share(0.05, cap=2.0 if time_limit is None else 5.0)
    start = improve_max_covering(inst, greedy_max_covering(inst, p=p, budget=budget),
                                 p=p, budget=budget, seconds=heur_s or 0.0)
    start_val = covered_weight(inst.A.tocsc(), inst.w, start)
    integral = bool(np.all(inst.w == np.round(inst.w)))
    log.info("max_covering: %d rows x %d sites after reduction; local search covers %s "
             "(%.2f s)", inst.A.shape[0], inst.A.shape[1], f"{base + start_val:,.6g}",
             clock.elapsed())
    start_cols = inst.cols[np.sort(np.asarray(start, np.intp))]

    trivial = _trivial_bound(inst, p)

    def answer(bound: float, name: str) -> SolveInfo:
        """The local-search plan with a bound: optimal when the bound proves it."""
        bound = min(bound, trivial)
        obj = base + start_val
        if _proves(bound, start_val, integral):
            return SolveInfo(status=OPTIMAL, objective=obj, bound=obj, gap=0.0,
                             solver=name, solve_s=clock.elapsed())
        b = base + bound if math.isfinite(bound) else math.nan
        return SolveInfo(status=FEASIBLE, objective=obj, bound=b, gap=_rel_gap(obj, b),
                         solver=name, solve_s=clock.elapsed())

    lp = None
    if not clock.expired(0.05):
        lp = max_covering_lp(inst.A, inst.w, inst.costs, p=p, budget=budget,
                             time_limit=clock.share(0.25), groups=inst.col_group,
                             caps=inst.group_cap)
    lp_bound = math.inf if lp is None else lp.value
    if lp is not None:
        inst.reduction.notes.append(
            f"LP bound {base + lp_bound:,.1f} ({getattr(lp._master, 'stop', '')}); "
            f"local-search plan {base + start_val:,.1f}")
        log.info("max_covering: LP bound %s (%s, %d rounds, %.2f s)",
                 f"{base + lp_bound:,.6g}", getattr(lp._master, "stop", ""),
                 lp._master.rounds, clock.elapsed())
    if _proves(lp_bound, start_val, integral):
        inst.reduction.notes.append(
            f"the LP bound {base + lp_bound:,.1f} proves the local-search plan optimal")
        return start_cols, answer(lp_bound, "LP bound (HiGHS) + local search"), \
            time.perf_counter() - t0
    if clock.expired(0.05):
        return start_cols, answer(lp_bound, "local search (time limit)"), \
            time.perf_counter() - t0
    closed = opened = np.zeros(inst.A.shape[1], bool)
    if lp is not None:
        closed, opened = fix_by_reduced_cost(lp, start_val, integral=integral)
        by_cost = int(closed.sum())
        closed = fix_by_probing(lp, start_val, closed, integral=integral,
                                seconds=_probing_seconds(lp.seconds, clock.left()))
        inst.reduction.notes.append(
            f"fixing against a plan covering {base + start_val:,.1f}: {by_cost:,} sites "
            f"closed by reduced cost, {int(closed.sum()) - by_cost:,} more by probing, "
            f"{int(opened.sum()):,} fixed open")
        log.info("max_covering: %s (%.2f s)", inst.reduction.notes[-1], clock.elapsed())
    keep = np.nonzero(~closed)[0]
    forced = np.nonzero(opened[keep])[0]
    p2 = None if p is None else p - forced.size
    budget2 = None if budget is None else budget - float(inst.costs[keep[forced]].sum())
    if keep.size == 0 or (p2 is not None and p2 < 0) or (
            budget2 is not None and budget2 < -1e-9):
        # every site closed, or the sites every better plan needs do not fit together:
        # no better plan exists
        return start_cols, answer(start_val, "LP fixing (HiGHS) + local search"), \
            time.perf_counter() - t0
    groups = None if inst.col_group is None else inst.col_group[keep]
    caps2 = None
    if groups is not None and inst.group_cap is not None:
        fg = groups[forced]
        caps2 = inst.group_cap - np.bincount(fg[fg >= 0], minlength=inst.group_cap.size)
        if (caps2 < 0).any():             # the sites every better plan needs break a cap
            return start_cols, answer(start_val, "LP fixing (HiGHS) + local search"), \
                time.perf_counter() - t0
    sub = reduce_covering(inst.A[:, keep], inst.w, forced, inst.costs[keep],
                          col_group=groups, group_cap=caps2)
    prob, x = build_max_covering(sub, inst.w, p=p2, budget=budget2)
    start_sub = [int(np.searchsorted(keep, j)) for j in start if not closed[j]]
    if len(start_sub) == len(start) and set(forced.tolist()) <= set(start_sub):
        pos = {int(c): i for i, c in enumerate(sub.cols)}
        for v in x:
            v.setInitialValue(0.0)
        for j in start_sub:
            if j in pos:
                x[pos[j]].setInitialValue(1.0)
    build_s = time.perf_counter() - t0
    if sub.A.shape[0] == 0 or sub.A.shape[1] == 0 or p2 == 0:
        info = _trivial(float(inst.w[sub.covered_fixed].sum()))
    elif clock.expired(0.05):
        return start_cols, answer(lp_bound, "LP fixing (HiGHS) + local search (time limit)"), \
            build_s
    else:
        info = solve(prob, solver, time_limit=clock.solver_limit(), gap=gap, warm_start=True,
                     msg=verbose)
    if info.status == INFEASIBLE:            # no plan among the rest: the start is best
        return start_cols, answer(start_val, info.solver + " + LP fixing"), build_s
    cols, obj = np.asarray(start, np.intp), start_val
    if info.has_solution:
        # the plan's true value: a time-limited incumbent's y need not be at their maximum
        chosen = _selected(sub, x)
        mcols = np.r_[keep[chosen], keep[forced]].astype(np.intp)
        mval = covered_weight(inst.A.tocsc(), inst.w, mcols.tolist())
        if mval > start_val:
            cols, obj = mcols, mval
    if info.status == OPTIMAL:
        bound = obj
    else:
        b = info.bound if math.isfinite(info.bound) else math.inf
        bound = min(lp_bound, trivial, max(b, start_val))
    status = OPTIMAL if _proves(bound, obj, integral) else FEASIBLE
    total = base + obj
    total_bound = total if status == OPTIMAL else (
        base + bound if math.isfinite(bound) else math.nan)
    out = SolveInfo(status=status, objective=total, bound=total_bound,
                    gap=0.0 if status == OPTIMAL else _rel_gap(total, total_bound),
                    solver=info.solver + " + LP fixing",
                    solve_s=clock.elapsed())
    return inst.cols[np.unique(cols)], out, build_s


def _trivial_bound(inst: CoverInstance, p: int | None) -> float:
    """A bound that costs nothing: all rows, or the ``p`` heaviest columns together."""
    total = float(inst.w.sum())
    if p is None or inst.A.shape[1] == 0:
        return total
    col_w = np.asarray(inst.A.T.astype(float) @ inst.w).ravel()
    top = np.sort(col_w)[::-1][:max(int(p), 0)]
    return min(total, float(top.sum()))


def _proves(bound: float, value: float, integral: bool) -> bool:
    """Whether an upper ``bound`` proves a plan of ``value`` optimal.

    With integral weights no better plan exists when ``bound < value + 1``; otherwise
    when ``bound <= value`` within the optimality tolerances. An LP bound carries the LP
    solver's tolerances, hence the margin of 1e-7 relative.
    """
    if not math.isfinite(bound):
        return False
    margin = 1e-7 * max(1.0, abs(bound))
    if integral:
        return bound + margin < value + 1.0 - 1e-6
    return bound <= value + max(OPTIMAL_ABS_GAP, OPTIMAL_GAP * abs(value)) - margin or (
        bound <= value)


def _probing_seconds(lp_seconds: float, left: float | None) -> float:
    """Time for probing: ten LP solves' worth (at least 20 s), at most half of what is left.

    Why: probing closes most sites early (the most promising first); its late probes
    pay less than the MILP they would spare (10,000 x 500 e-bike: 51 s to a proof with
    a share of the time, 87 s when probing alone closes every site).
    """
    budget = max(20.0, 10.0 * lp_seconds)
    return budget if left is None else min(budget, 0.5 * left)


def build_max_covering(inst: CoverInstance, w: NDArray[np.float64], *, p: int | None,
                       budget: float | None) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """The maximal covering PuLP model of a reduced instance (see :func:`max_covering`)."""
    prob = pulp.LpProblem("max_covering", pulp.LpMaximize)
    k = inst.A.shape[1]
    x = _x_vars(prob, k)
    y = [pulp.LpVariable(f"y{i}", 0, 1) for i in range(inst.A.shape[0])]
    obj = pulp.LpAffineExpression(list(zip(y, inst.w.tolist(), strict=True)))
    obj.constant = float(w[inst.covered_fixed].sum())
    prob += obj
    _cover_rows(prob, inst, x, y)
    if p is not None:
        prob += pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0) for v in x]),
                                  pulp.LpConstraintLE, "p", float(p))
    if budget is not None:
        prob += pulp.LpConstraint(pulp.LpAffineExpression(
            list(zip(x, inst.costs.tolist(), strict=True))), pulp.LpConstraintLE, "budget",
            float(budget))
    _cap_rows(prob, inst, x)
    return prob, x


# --------------------------------------------------------------------------- GIS doors


def _gis_finish(problem: Any, plan: Plan, minutes: Any) -> Plan:
    from .gis import coverage_by_unit, plan_sites
    C = problem.coverage(minutes)
    before = _covered(C, plan.existing)
    after = (plan.details.get("covered_rows") if plan.feasible
             else before)
    plan.by_unit = coverage_by_unit(problem, before, after)
    if plan.feasible:
        plan.sites = plan_sites(problem, plan)
    plan.details["minutes"] = minutes if np.ndim(minutes) == 0 else "per cell"
    plan.details["mode"] = problem.mode
    plan.details.pop("covered_rows", None)
    return plan


def _site_costs(problem: Any) -> NDArray[np.float64] | None:
    cost = problem.sites["cost"].to_numpy(float)
    cand = np.setdiff1d(np.arange(problem.n_sites), problem.existing)
    if np.all(np.isnan(cost[cand])):
        return None
    out = np.where(np.isnan(cost), 0.0, cost)
    return out


def gis_site_rules(problem: Any, force_open: Any = None, force_closed: Any = None,
                   max_new_per_unit: int | Mapping[str, int] | None = None) -> dict[str, Any]:
    """The numeric site-rule options of a GIS front door: candidate ids to columns.

    Parameters
    ----------
    problem
        A :class:`~geoplan.optimize.gis.SiteProblem`.
    force_open, force_closed
        Candidate ids (the candidates' ``id`` column).
    max_new_per_unit
        Most new sites per admin unit (the candidates' ``admin_code``).

    Returns
    -------
    dict
        ``force_open``, ``force_closed``, ``max_new_per_unit``, ``site_unit`` for the
        numeric front door.
    """
    return {"force_open": site_columns(problem, force_open, "force_open"),
            "force_closed": site_columns(problem, force_closed, "force_closed"),
            "max_new_per_unit": max_new_per_unit,
            "site_unit": problem_site_units(problem) if max_new_per_unit is not None
            else None}


def set_covering_from_problem(problem: Any, minutes: float | ArrayLike, *,
                              target_share: float = 1.0, unit_min_share: float | None = None,
                              use_costs: bool = False, force_open: Any = None,
                              force_closed: Any = None,
                              max_new_per_unit: int | Mapping[str, int] | None = None,
                              **solve_kw: Any) -> Plan:
    """:func:`set_covering` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    minutes
        Time standard (or one per cell).
    target_share, unit_min_share
        Coverage targets (see :func:`set_covering`).
    use_costs
        Minimise the candidates' fixed cost instead of their number.
    force_open, force_closed, max_new_per_unit
        Site rules with candidate ids (see :func:`gis_site_rules`).
    **solve_kw
        ``solver``, ``time_limit``, ``gap``, ``verbose``.

    Returns
    -------
    Plan
        With ``by_unit`` (coverage before/after per admin unit) and ``sites``.
    """
    C = problem.coverage(minutes)
    plan = set_covering(C, problem.demand, existing=problem.existing,
                        costs=_site_costs(problem) if use_costs else None,
                        target_share=target_share, unit=problem.unit,
                        unit_min_share=unit_min_share,
                        **gis_site_rules(problem, force_open, force_closed, max_new_per_unit),
                        **solve_kw)
    if plan.explanation is not None and problem.unit_names:
        plan.explanation.unit_names = problem.unit_names
    return _gis_finish(problem, plan, minutes)


def max_covering_from_problem(problem: Any, minutes: float | ArrayLike, *, p: int | None = None,
                              budget: float | None = None, force_open: Any = None,
                              force_closed: Any = None,
                              max_new_per_unit: int | Mapping[str, int] | None = None,
                              **solve_kw: Any) -> Plan:
    """:func:`max_covering` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    minutes
        Time standard (or one per cell).
    p, budget
        Limits on new sites (count, total cost of the ``cost`` column).
    force_open, force_closed, max_new_per_unit
        Site rules with candidate ids (see :func:`gis_site_rules`).
    **solve_kw
        ``solver``, ``time_limit``, ``gap``, ``verbose``.

    Returns
    -------
    Plan
    """
    C = problem.coverage(minutes)
    costs = _site_costs(problem) if budget is not None else None
    if budget is not None and costs is None:
        raise GeoplanInputError("a budget needs candidate costs", field="cost",
                                hint="give the candidates a cost column")
    plan = max_covering(C, problem.demand, p=p, budget=budget, costs=costs,
                        existing=problem.existing,
                        **gis_site_rules(problem, force_open, force_closed, max_new_per_unit),
                        **solve_kw)
    return _gis_finish(problem, plan, minutes)

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

import math
import time
from typing import Any

import numpy as np
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from .._errors import GeoplanInputError
from .explain import explain_shortfall
from .plan import Plan
from .reduce import CoverInstance, check_covering_inputs, reduce_covering
from .solver import INFEASIBLE, OPTIMAL, SolveInfo, solve

__all__ = ["max_covering", "max_covering_from_problem", "set_covering",
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
        See :func:`geoplan.optimize.solver.solve`.

    Returns
    -------
    Plan
        ``objective`` = number (or cost) of new sites.
    """
    t0 = time.perf_counter()
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
    inst = reduce_covering(C, w, ex, c, u if unit_min_share is not None else None)
    explanation = explain_shortfall(w, inst.coverable, target_share, u, unit_min_share)
    if explanation is not None:
        return _infeasible("set_covering", explanation, C, w, ex, inst,
                           time.perf_counter() - t0)
    if inst.A.shape[0] == 0:
        return _finish("set_covering", _trivial(0.0), inst, C, w, ex, np.array([], np.intp),
                       time.perf_counter() - t0, target_share=target_share,
                       unit_min_share=unit_min_share)
    prob = pulp.LpProblem("set_covering", pulp.LpMinimize)
    x = _x_vars(prob, inst.A.shape[1])
    prob += pulp.LpAffineExpression(list(zip(x, inst.costs.tolist(), strict=True)))
    full = target_share >= 1.0 and unit_min_share is None
    if full:
        _cover_rows(prob, inst, x, None)
    else:
        y = [pulp.LpVariable(f"y{i}", 0, 1) for i in range(inst.A.shape[0])]
        _cover_rows(prob, inst, x, y)
        fixed = float(w[inst.covered_fixed].sum())
        need = target_share * float(w.sum()) - fixed
        # a tiny tolerance so floating-point sums of populations do not cut off exact hits
        tol = 1e-9 * max(1.0, float(w.sum()))
        prob += pulp.LpConstraint(pulp.LpAffineExpression(
            list(zip(y, inst.w.tolist(), strict=True))), pulp.LpConstraintGE, "target",
            need - tol)
        if unit_min_share is not None:
            _unit_rows(prob, inst, y, w, u, unit_min_share)
    build_s = time.perf_counter() - t0
    info = solve(prob, solver, time_limit=time_limit, gap=gap)
    chosen = _selected(inst, x) if info.has_solution else np.array([], np.intp)
    return _finish("set_covering", info, inst, C, w, ex, chosen, build_s,
                   target_share=target_share, unit_min_share=unit_min_share)


def _unit_rows(prob: pulp.LpProblem, inst: CoverInstance, y: list[pulp.LpVariable],
               w: NDArray[np.float64], u: NDArray[np.object_], share: float) -> None:
    units = {str(k) for k in u}
    row_unit = inst.row_unit.astype(str) if inst.row_unit is not None else np.array([])
    tol = 1e-9 * max(1.0, float(w.sum()))
    for n_u, k in enumerate(sorted(units)):
        in_u = u.astype(str) == k
        need = share * float(w[in_u].sum()) - float(w[in_u & inst.covered_fixed].sum())
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
) -> Plan:
    r"""At most ``p`` new sites (and/or a budget): maximise the population covered.

    The maximal covering location problem (Church & ReVelle 1974) with existing
    facilities and an optional budget:

    .. math::

        \max \sum_{i \in F} w_i + \sum_{i \notin F} w_i y_i \quad \text{s.t.} \quad
        y_i \le \sum_{j \in N_i} x_j, \qquad \sum_{j \in J} x_j \le p, \qquad
        \sum_{j \in J} c_j x_j \le B,

    :math:`x_j \in \{0,1\}`, :math:`y_i \in [0,1]`.

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
        See :func:`geoplan.optimize.solver.solve`.

    Returns
    -------
    Plan
        ``objective`` = population covered after the plan (existing coverage included).
    """
    t0 = time.perf_counter()
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
    inst = reduce_covering(C, w, ex, c)
    if inst.A.shape[0] == 0 or inst.A.shape[1] == 0 or p == 0:
        return _finish("max_covering", _trivial(float(w[inst.covered_fixed].sum())), inst, C,
                       w, ex, np.array([], np.intp), time.perf_counter() - t0, p=p,
                       budget=budget)
    prob, x = build_max_covering(inst, w, p=p, budget=budget)
    start = greedy_max_covering(inst, p=p, budget=budget)
    for j, v in enumerate(x):
        v.setInitialValue(1.0 if j in start else 0.0)
    build_s = time.perf_counter() - t0
    info = solve(prob, solver, time_limit=time_limit, gap=gap, warm_start=True)
    chosen = _selected(inst, x) if info.has_solution else np.array([], np.intp)
    return _finish("max_covering", info, inst, C, w, ex, chosen, build_s, p=p, budget=budget)


def greedy_max_covering(inst: CoverInstance, *, p: int | None,
                        budget: float | None) -> set[int]:
    """A greedy start for maximal covering: add the column with the best gain (per cost).

    Why: on large instances the MILP solver may spend its time limit without finding a
    good incumbent; the greedy answer (within 1 - 1/e of the optimum for the count limit,
    Nemhauser et al. 1978) is handed to the solver as a starting solution.
    """
    A = inst.A.tocsc()
    k = A.shape[1]
    uncovered = np.ones(A.shape[0], bool)
    chosen: set[int] = set()
    spent = 0.0
    limit = k if p is None else int(p)
    while len(chosen) < limit:
        gain = np.asarray(A.T @ (inst.w * uncovered)).ravel()
        if budget is not None:
            fits = inst.costs <= budget - spent + 1e-9
            gain = np.where(fits, gain / np.maximum(inst.costs, 1e-9), -1.0)
        if chosen:
            gain[list(chosen)] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.add(j)
        spent += float(inst.costs[j])
        uncovered[A.indices[A.indptr[j]:A.indptr[j + 1]]] = False
    return chosen


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


def set_covering_from_problem(problem: Any, minutes: float | ArrayLike, *,
                              target_share: float = 1.0, unit_min_share: float | None = None,
                              use_costs: bool = False, **solve_kw: Any) -> Plan:
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
    **solve_kw
        ``solver``, ``time_limit``, ``gap``.

    Returns
    -------
    Plan
        With ``by_unit`` (coverage before/after per admin unit) and ``sites``.
    """
    C = problem.coverage(minutes)
    plan = set_covering(C, problem.demand, existing=problem.existing,
                        costs=_site_costs(problem) if use_costs else None,
                        target_share=target_share, unit=problem.unit,
                        unit_min_share=unit_min_share, **solve_kw)
    if plan.explanation is not None and problem.unit_names:
        plan.explanation.unit_names = problem.unit_names
    return _gis_finish(problem, plan, minutes)


def max_covering_from_problem(problem: Any, minutes: float | ArrayLike, *, p: int | None = None,
                              budget: float | None = None, **solve_kw: Any) -> Plan:
    """:func:`max_covering` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    minutes
        Time standard (or one per cell).
    p, budget
        Limits on new sites (count, total cost of the ``cost`` column).
    **solve_kw
        ``solver``, ``time_limit``, ``gap``.

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
                        existing=problem.existing, **solve_kw)
    return _gis_finish(problem, plan, minutes)

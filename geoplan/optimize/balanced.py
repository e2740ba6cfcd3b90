r"""Balanced plans: sites spread over a city's zones, or the worst-off zone served best.

Why: a city plan expands top hospitals "at the north and south poles" and balances
tertiary care across the east, south, west, north and centre. Pure maximal covering puts
every new site where people are densest; a balanced plan holds each zone to a minimum
(and maximum) of sites and/or a minimum covered share, or maximises the *worst* zone's
covered share (max-min fairness). Zones are any partition of demand and sites
(:mod:`geoplan.inputs.zones`: a centre disc and sectors, polygons from a file, grouped
admin units; admin units themselves for fairness between units).

Symbols: demand rows :math:`i` with people :math:`w_i` and zone :math:`z(i)`; candidate
sites :math:`j \in C` with zone :math:`z(j)` and cost :math:`c_j`; existing sites
:math:`E` (open); :math:`N_i` the candidates covering row :math:`i`; :math:`F` the rows
an existing site covers; :math:`W_z = \sum_{i: z(i) = z} w_i`; :math:`e_z` existing sites
in zone :math:`z`. Variables :math:`x_j \in \{0,1\}` (open), :math:`y_i \in [0,1]`
(covered; integral at an optimum as in maximal covering), :math:`t` (worst share).

.. math::

    &\text{coverage:}\ \max \sum_i w_i y_i \qquad
    \text{max-min:}\ \max t \ \text{ then } \max \sum_i w_i y_i \text{ with } t \ge t^*
    \qquad \text{sites:}\ \min \sum_j c_j x_j \\
    &y_i \le \sum_{j \in N_i} x_j\ (i \notin F),\quad y_i = 1\ (i \in F),\quad
    \sum_j x_j \le p,\quad \sum_j c_j x_j \le B,\quad
    \sum_i w_i y_i \ge \alpha W\ (\text{sites}),\\
    &m_z \le e_z + \sum_{j \in C: z(j) = z} x_j \le M_z,\qquad
    \sum_{i: z(i) = z} w_i y_i \ge s\, W_z,\qquad
    t\, W_z \le \sum_{i: z(i) = z} w_i y_i\ (\text{max-min}).

Site counts :math:`m_z, M_z` count **open** sites of the zone, existing included (the
balance a planner states: "at least one tertiary hospital in every zone"). Rows with the
same covering sites and zone are merged (exact). The max-min objective is solved
lexicographically: the worst share :math:`t^*` first (proven), then the most people with
every zone at :math:`t^*` or better - ties broken by total coverage as planners expect.

With zone rules (or the max-min objective) the plan also reports the **price of
balance**: the same model without them (max-min: plain maximal covering; same
``p``/budget), solved exactly too, and what the balance costs in people covered (or in
sites, for the sites objective).
"""

from __future__ import annotations

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

from .plan import Plan, Reduction
from .reduce import _row_keys, check_covering_inputs
from .site_rules import check_site_rules
from .solver import INFEASIBLE, OPTIMAL, Deadline, SolveInfo, solve, with_true_objective

__all__ = ["OBJECTIVES", "balanced_covering", "balanced_covering_from_problem"]

#: The objectives of :func:`balanced_covering`.
OBJECTIVES = ("coverage", "max_min", "sites")


def _per_zone(value: int | float | Mapping[str, Any] | None, zones: list[str], name: str,
              kind: type) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        unknown = sorted(set(map(str, value)) - set(zones))
        if unknown:
            raise GeoplanInputError(f"{name} names unknown zone(s) {', '.join(unknown[:5])}",
                                    field=name, hint=f"zones: {', '.join(zones)}")
        items = {str(k): v for k, v in value.items()}
    else:
        items = dict.fromkeys(zones, value)
    for k, v in items.items():
        bad = isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating)
        if bad or v < 0 or (kind is int and int(v) != v):
            raise GeoplanInputError(f"{name} for zone {k} must be a "
                                    + ("whole number" if kind is int else "number")
                                    + f" >= 0, got {v!r}", field=name)
    return {k: kind(v) for k, v in items.items()}


def balanced_covering(
    coverage: ArrayLike | sparse.spmatrix,
    weights: ArrayLike,
    *,
    row_zone: ArrayLike,
    site_zone: ArrayLike | None = None,
    objective: str = "coverage",
    p: int | None = None,
    budget: float | None = None,
    costs: ArrayLike | None = None,
    target_share: float | None = None,
    existing: ArrayLike | None = None,
    zone_min_sites: int | Mapping[str, int] | None = None,
    zone_max_sites: int | Mapping[str, int] | None = None,
    zone_min_share: float | Mapping[str, float] | None = None,
    price_of_balance: bool = True,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    verbose: bool = False,
) -> Plan:
    """A covering plan balanced over zones (see the module for the model).

    Parameters
    ----------
    coverage
        ``(demand, sites)`` boolean matrix; columns include the existing sites.
    weights
        People per row.
    row_zone, site_zone
        Zone key of every row and every site column (None: in no zone; a row in no zone
        counts in totals only). ``site_zone`` is needed with site counts.
    objective
        ``"coverage"`` (most people, needs ``p`` or ``budget``), ``"max_min"`` (the worst
        zone's share first, then most people; needs ``p`` or ``budget``) or ``"sites"``
        (fewest sites, or least cost with ``costs``, for ``target_share``).
    p, budget, costs
        Most new sites; most total cost and the cost of each site.
    target_share
        Share of people to cover (``"sites"`` objective).
    existing
        Columns of existing (open) sites.
    zone_min_sites, zone_max_sites
        Least / most open sites (existing included) per zone: an int for every zone or a
        mapping zone -> int.
    zone_min_share
        Least covered share per zone (one number or a mapping).
    price_of_balance
        Also solve without the zone rules and report the difference.
    solver, time_limit, gap, verbose, force_open, force_closed, max_new_per_unit, site_unit
        As in :func:`geoplan.optimize.covering.max_covering`.

    Returns
    -------
    Plan
        ``details["zones"]``: per zone population, covered before/after, shares and open
        sites; ``details["worst_share"]``; with zone rules ``details["unbalanced"]``
        (the unconstrained optimum) and ``details["price_of_balance"]``.
    """
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    C, w, ex, cost_in, _ = check_covering_inputs(coverage, weights, existing, costs)
    C = C.astype(float)
    n, m = C.shape
    if objective not in OBJECTIVES:
        raise GeoplanInputError(f"unknown objective {objective!r}", field="objective",
                                hint=f"one of {', '.join(OBJECTIVES)}")
    if objective == "sites":
        if target_share is None or not (0 < target_share <= 1):
            raise GeoplanInputError("the sites objective needs target_share in (0, 1]",
                                    field="target_share")
    elif p is None and budget is None:
        raise GeoplanInputError(f"the {objective} objective needs p or a budget", field="p")
    rz = np.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                   for v in np.asarray(row_zone, dtype=object).ravel()], dtype=object)
    if rz.shape != (n,):
        raise GeoplanInputError(f"row_zone has {rz.size} values for {n} rows",
                                field="row_zone")
    sz = (np.full(m, None, dtype=object) if site_zone is None else
          np.array([None if v is None or (isinstance(v, float) and math.isnan(v))
                    else str(v) for v in np.asarray(site_zone, dtype=object).ravel()],
                   dtype=object))
    if sz.shape != (m,):
        raise GeoplanInputError(f"site_zone has {sz.size} values for {m} sites",
                                field="site_zone")
    zones = sorted({z for z in rz if z is not None} | {z for z in sz if z is not None})
    if (zone_min_sites is not None or zone_max_sites is not None) and site_zone is None:
        raise GeoplanInputError("site counts per zone need the zone of every site",
                                field="site_zone")
    mins = _per_zone(zone_min_sites, zones, "zone_min_sites", int)
    maxs = _per_zone(zone_max_sites, zones, "zone_max_sites", int)
    shares = _per_zone(zone_min_share, zones, "zone_min_share", float)
    if any(v > 1 for v in shares.values()):
        raise GeoplanInputError("zone_min_share must be at most 1", field="zone_min_share")
    c = np.ones(m) if cost_in is None else cost_in
    rules = check_site_rules(m, existing, force_open=force_open, force_closed=force_closed,
                             max_new_per_unit=max_new_per_unit, site_unit=site_unit)
    is_ex = np.zeros(m, bool)
    is_ex[ex] = True
    cand = np.flatnonzero(~is_ex).astype(np.intp)
    cand = np.setdiff1d(cand, rules.force_closed)
    n_ex = {z: int(sum(1 for j in ex if sz[j] == z)) for z in zones}
    for z, hi in maxs.items():
        if n_ex[z] > hi:
            raise GeoplanInputError(f"zone {z} already has {n_ex[z]} existing sites but "
                                    f"zone_max_sites allows {hi}", field="zone_max_sites",
                                    hint="raise the zone's maximum (it counts open sites, "
                                         "existing included)")
    # rows: covered by an existing site (fixed), or merged by (covering candidates, zone)
    fixed = np.asarray(C[:, ex].sum(axis=1)).ravel() > 0 if ex.size else np.zeros(n, bool)
    A = C[:, cand].tocsr()
    live = ~fixed & (np.diff(A.indptr) > 0) & (w > 0)
    idx = np.flatnonzero(live)
    key = _row_keys(A[idx], np.array(["" if v is None else v for v in rz[idx]], dtype=object))
    k = int(key.max()) + 1 if idx.size else 0
    Wg = np.bincount(key, weights=w[idx], minlength=k)
    first = np.zeros(k, np.intp)
    first[key[::-1]] = idx[::-1]
    gz = rz[first] if k else np.zeros(0, dtype=object)
    Ag = A[first] if k else sparse.csr_matrix((0, cand.size))
    Wz = {z: float(w[rz == z].sum()) for z in zones}
    fixed_z = {z: float(w[fixed & (rz == z)].sum()) for z in zones}
    red = Reduction(demand_in=n, demand_out=k, candidates_in=m, candidates_out=int(cand.size),
                    notes=[f"{int(fixed.sum()):,} rows covered by existing sites"])

    def build(with_zone_rules: bool, obj: str, t_floor: float | None) -> tuple[Any, ...]:
        sense = pulp.LpMinimize if obj == "sites" else pulp.LpMaximize
        prob = pulp.LpProblem("balanced", sense)
        x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(cand.size)]
        fo = set(rules.force_open.tolist())
        for jj, j in enumerate(cand.tolist()):
            if j in fo:
                x[jj].lowBound = 1
        y = [pulp.LpVariable(f"y{g}", 0, 1) for g in range(k)]
        t = pulp.LpVariable("t", 0, 1) if obj == "max_min" else None
        covered = pulp.LpAffineExpression([(y[g], float(Wg[g])) for g in range(k)])
        if obj == "sites":
            prob += pulp.LpAffineExpression([(x[jj], float(c[j])) for jj, j in
                                             enumerate(cand.tolist())])
        elif obj == "max_min" and t_floor is None:
            prob += pulp.LpAffineExpression([(t, 1.0)])
        else:
            prob += covered
        for g in range(k):
            cols = Ag.indices[Ag.indptr[g]:Ag.indptr[g + 1]]
            expr = pulp.LpAffineExpression([(x[jj], 1.0) for jj in cols])
            expr.addterm(y[g], -1.0)
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"c{g}", 0.0)
        if p is not None:
            prob += pulp.lpSum(x) <= p
        if budget is not None:
            prob += pulp.LpAffineExpression([(x[jj], float(c[j])) for jj, j in
                                             enumerate(cand.tolist())]) <= budget
        if obj == "sites":
            total = float(w.sum())
            need = target_share * total - float(w[fixed].sum()) - 1e-9 * max(1.0, total)
            prob += covered >= need
        if rules.group is not None and rules.cap is not None:
            for gi, capv in enumerate(rules.cap.tolist()):
                cols = [jj for jj, j in enumerate(cand.tolist()) if rules.group[j] == gi]
                if len(cols) > capv:
                    prob += pulp.lpSum(x[jj] for jj in cols) <= capv
        zone_cov = {z: pulp.LpAffineExpression([(y[g], float(Wg[g])) for g in range(k)
                                                if gz[g] == z]) for z in zones}
        if with_zone_rules:
            for z in zones:
                in_z = [x[jj] for jj, j in enumerate(cand.tolist()) if sz[j] == z]
                if z in mins and mins[z] > n_ex[z]:
                    prob += pulp.lpSum(in_z) >= mins[z] - n_ex[z]
                if z in maxs:
                    prob += pulp.lpSum(in_z) <= maxs[z] - n_ex[z]
                if z in shares and Wz[z] > 0:
                    need = shares[z] * Wz[z] - fixed_z[z] - 1e-9 * max(1.0, Wz[z])
                    if need > 0:
                        prob += zone_cov[z] >= need
        if obj == "max_min":
            for z in zones:
                if Wz[z] <= 0:
                    continue
                lhs = zone_cov[z] + fixed_z[z]
                if t_floor is None:
                    prob += lhs - Wz[z] * t >= 0
                else:
                    prob += lhs >= t_floor * Wz[z] - 1e-9 * max(1.0, Wz[z])
        return prob, x, y, t

    shift = float(w[fixed].sum())

    def run(with_zone_rules: bool, obj: str) -> tuple[SolveInfo, NDArray[np.intp],
                                                      float | None]:
        t_star = None
        if obj == "max_min":
            prob, x, y, t = build(with_zone_rules, "max_min", None)
            info = solve(prob, solver, time_limit=deadline.solver_limit(), gap=gap,
                         msg=verbose)
            if info.status != OPTIMAL:
                # the worst share unproven: no second phase (its floor would be a guess)
                return (replace(info, status=INFEASIBLE) if info.status == INFEASIBLE
                        else info), np.zeros(0, np.intp), None
            t_star = float(t.varValue or 0.0)
            prob, x, y, _ = build(with_zone_rules, "max_min", t_star)
        else:
            prob, x, y, _ = build(with_zone_rules, obj, None)
        info = solve(prob, solver, time_limit=deadline.solver_limit(), gap=gap, msg=verbose)
        if not info.has_solution:
            return info, np.zeros(0, np.intp), t_star
        chosen = cand[np.array([(v.varValue or 0) > 0.5 for v in x], bool)] if cand.size \
            else np.zeros(0, np.intp)
        if obj != "sites":                       # people covered, existing coverage included
            info = replace(info, objective=info.objective + shift, bound=info.bound + shift)
        return info, np.sort(chosen).astype(np.intp), t_star

    has_rules = bool(mins or maxs or shares)
    info, chosen, t_star = run(True, objective)
    build_s = time.perf_counter() - t0
    total = float(w.sum())
    before = fixed.copy()
    if not info.has_solution:
        return Plan.from_solve("balanced_covering", info, selected=[], existing=ex,
                               build_s=build_s, covered_before=float(w[before].sum()),
                               total_demand=total, reduction=red,
                               explanation=(_why_infeasible(mins, maxs, shares, n_ex, sz, cand)
                                            if info.status == INFEASIBLE else None))
    after = before | (np.asarray(C[:, chosen].sum(axis=1)).ravel() > 0 if chosen.size
                      else np.zeros(n, bool))
    cov_after = float(w[after].sum())
    if objective != "sites":                   # the plan's own count (y may sit below it)
        info = with_true_objective(info, cov_after)
    table = _zone_table(zones, rz, sz, w, before, after, ex, chosen)
    details: dict[str, Any] = {"zones": table, "covered_rows": after, "objective": objective,
                               **rules.details()}
    shares_after = table.loc[table["population"] > 0, "share_after"]
    details["worst_share"] = float(shares_after.min()) if len(shares_after) else math.nan
    if t_star is not None:
        details["worst_share_proven"] = t_star
    if (has_rules or objective == "max_min") and price_of_balance and not deadline.expired():
        u_info, u_chosen, _ = run(False, "coverage" if objective == "max_min" else objective)
        if u_info.status == OPTIMAL:
            u_after = before | (np.asarray(C[:, u_chosen].sum(axis=1)).ravel() > 0
                                if u_chosen.size else np.zeros(n, bool))
            u_cov = float(w[u_after].sum())
            details["unbalanced"] = {"new_sites": int(u_chosen.size), "covered": u_cov,
                                     "objective": float(u_info.objective)}
            details["price_of_balance"] = (
                float(info.objective - u_info.objective) if objective == "sites"
                else u_cov - cov_after)
    return Plan.from_solve("balanced_covering", info, selected=chosen, existing=ex,
                           build_s=build_s, covered_before=float(w[before].sum()),
                           covered_after=cov_after, total_demand=total, reduction=red,
                           details=details)


def _zone_table(zones: list[str], rz: NDArray[np.object_], sz: NDArray[np.object_],
                w: NDArray[np.float64], before: NDArray[np.bool_], after: NDArray[np.bool_],
                ex: NDArray[np.intp], chosen: NDArray[np.intp]) -> pd.DataFrame:
    rows = []
    for z in zones:
        inz = rz == z
        pop = float(w[inz].sum())
        rows.append({"zone": z, "population": pop,
                     "covered_before": float(w[inz & before].sum()),
                     "covered_after": float(w[inz & after].sum()),
                     "sites_existing": int(sum(1 for j in ex if sz[j] == z)),
                     "sites_new": int(sum(1 for j in chosen if sz[j] == z))})
    out = pd.DataFrame(rows, columns=["zone", "population", "covered_before", "covered_after",
                                      "sites_existing", "sites_new"])
    pop = out["population"].where(out["population"] > 0)
    out["share_before"] = out["covered_before"] / pop
    out["share_after"] = out["covered_after"] / pop
    return out


def _why_infeasible(mins: dict[str, int], maxs: dict[str, int], shares: dict[str, float],
                    n_ex: dict[str, int], sz: NDArray[np.object_], cand: NDArray[np.intp]
                    ) -> str:
    for z, lo in mins.items():
        avail = n_ex.get(z, 0) + int(sum(1 for j in cand if sz[j] == z))
        if avail < lo:
            return (f"zone {z} needs {lo} open sites but has {n_ex.get(z, 0)} existing and "
                    f"{avail - n_ex.get(z, 0)} candidate site(s)")
    need = sum(max(0, lo - n_ex.get(z, 0)) for z, lo in mins.items())
    return (f"the zone rules cannot all hold with the sites allowed (the zone minimums need "
            f"{need} new site(s)); raise p or the budget, or relax the zone rules")


def balanced_covering_from_problem(
    problem: Any, minutes: float | ArrayLike, *, zones: Any = None,
    objective: str = "coverage", p: int | None = None, budget: float | None = None,
    target_share: float | None = None, use_costs: bool = False,
    zone_min_sites: int | Mapping[str, int] | None = None,
    zone_max_sites: int | Mapping[str, int] | None = None,
    zone_min_share: float | Mapping[str, float] | None = None,
    force_open: Any = None, force_closed: Any = None,
    max_new_per_unit: int | Mapping[str, int] | None = None, **solve_kw: Any) -> Plan:
    """:func:`balanced_covering` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    minutes
        Time standard (or one per cell).
    zones
        Zone polygons (:mod:`geoplan.inputs.zones`); None: the problem's admin units are
        the zones (fairness between units; no site counts).
    objective, p, budget, target_share, zone_min_sites, zone_max_sites, zone_min_share
        See :func:`balanced_covering`.
    use_costs
        Least cost instead of fewest sites (``"sites"`` objective), and the costs of a
        budget.
    force_open, force_closed, max_new_per_unit
        Site rules with candidate ids.
    **solve_kw
        ``solver``, ``time_limit``, ``gap``, ``verbose``.

    Returns
    -------
    Plan
        With ``by_unit``, ``sites`` (each with its ``zone``) and ``details["zones"]``
        (with zone names where the zones carry them).
    """
    from .covering import _gis_finish, _site_costs, gis_site_rules

    C = problem.coverage(minutes)
    if zones is not None:
        from geoplan.inputs.zones import zone_of
        row_zone = zone_of(problem.cells, zones)
        site_zone = zone_of(problem.sites, zones)
    else:
        if problem.unit is None:
            raise GeoplanInputError("balancing between admin units needs the cells' units",
                                    field="zones", hint="load admin boundaries, or give zones")
        if zone_min_sites is not None or zone_max_sites is not None:
            raise GeoplanInputError("site counts per zone need zones", field="zones",
                                    hint="give zones (a file or sectors)")
        row_zone, site_zone = problem.unit, None
    costs = _site_costs(problem) if (use_costs or budget is not None) else None
    if budget is not None and costs is None:
        raise GeoplanInputError("a budget needs candidate costs", field="cost",
                                hint="give the candidates a cost column")
    plan = balanced_covering(C, problem.demand, row_zone=row_zone, site_zone=site_zone,
                             objective=objective, p=p, budget=budget, costs=costs,
                             target_share=target_share, existing=problem.existing,
                             zone_min_sites=zone_min_sites, zone_max_sites=zone_max_sites,
                             zone_min_share=zone_min_share,
                             **gis_site_rules(problem, force_open, force_closed,
                                              max_new_per_unit), **solve_kw)
    plan = _gis_finish(problem, plan, minutes)
    table = plan.details.get("zones")
    if table is not None:
        if zones is not None and {"name_zh", "name_en"} <= set(zones.columns):
            names = zones.set_index("zone")
            table["name_zh"] = table["zone"].map(names["name_zh"])
            table["name_en"] = table["zone"].map(names["name_en"])
        elif problem.unit_names:
            table["name_zh"] = table["name_en"] = table["zone"].map(problem.unit_names)
    if zones is not None:
        plan.details["zone_shapes"] = zones          # for the plan's map
    if plan.sites is not None and site_zone is not None:
        ids = problem.sites["site_id"].astype(str).to_numpy()
        by_id = dict(zip(ids, site_zone, strict=True))
        plan.sites["zone"] = plan.sites["site_id"].astype(str).map(by_id)
    return plan

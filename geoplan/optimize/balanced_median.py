r"""The p-median balanced over zones: the shortest mean trip with sites spread by zone.

Why: a p-median puts every new hospital where the people are densest; a city plan wants
them spread ("at the north and south poles", "in each of the east, south, west, north
and centre"). This is the p-median with per-zone least and most **open** sites (existing
included), and what that balance costs: the mean trip it adds against the same p-median
without zone rules (the *price of balance*, in minutes per person).

Model (ReVelle & Swain 1970, on the p-median's merged rows, :mod:`geoplan.optimize.median_rows`).
Demand rows :math:`i` with weight :math:`w_i` and cap :math:`c_i` (the time to the
nearest existing site, or ``unassigned_time``; rows no candidate serves below their cap
are constants); candidates :math:`j` with zone :math:`z(j)` and times :math:`t_{ij}`
below the cap; :math:`e_z` existing sites in zone :math:`z`. Variables :math:`y_j \in
\{0,1\}` (open), :math:`x_{ij} \in [0,1]` (row :math:`i` served by :math:`j`),
:math:`u_i \in [0,1]` (row :math:`i` keeps its cap):

.. math::

    \min \sum_{i,j} w_i t_{ij} x_{ij} + \sum_i w_i c_i u_i \quad\text{s.t.}\quad
    \sum_j x_{ij} + u_i = 1,\quad x_{ij} \le y_j,\quad \sum_j y_j = p,\\
    m_z \le e_z + \sum_{j: z(j) = z} y_j \le M_z,\qquad u_i = 0 \text{ where } c_i = \infty.

With :math:`y` integral some optimal :math:`x, u` are (each row takes its nearest open
site or its cap), so the objective is the p-median's own; the cost of the rows outside
the decision (at their cap whatever opens, and the merged rows' shifts) is the
objective's constant, so the solver's bound is the model's. Solved as one MILP through
:func:`geoplan.optimize.solver.solve` ("optimal" only when proven): exact, but without
the plain p-median's Benders pipeline, so slower on large instances (a time-limited
plan keeps an honest bound); the unbalanced optimum comes from
:func:`geoplan.optimize.median.p_median`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pulp
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from geoplan._errors import GeoplanInputError

from .balanced import _per_zone
from .median_rows import _nearest_open
from .plan import Plan
from .solver import INFEASIBLE, OPTIMAL, Deadline, SolveInfo, solve, with_true_objective

__all__ = ["balanced_p_median", "balanced_p_median_from_problem"]


def balanced_p_median(
    times: ArrayLike | sp.spmatrix,
    weights: ArrayLike,
    p: int,
    *,
    site_zone: ArrayLike,
    zone_min_sites: int | Mapping[str, int] | None = None,
    zone_max_sites: int | Mapping[str, int] | None = None,
    row_zone: ArrayLike | None = None,
    existing: ArrayLike | None = None,
    unassigned_time: float | None = None,
    price_of_balance: bool = True,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    verbose: bool = False,
) -> Plan:
    """Open ``p`` new sites for the shortest total trip, with least/most sites per zone.

    Parameters
    ----------
    times, weights, p, existing, unassigned_time
        As for :func:`geoplan.optimize.median.p_median`.
    site_zone
        Zone of every site (column), existing ones included.
    zone_min_sites, zone_max_sites
        Least / most open sites per zone, existing included: one number for every zone,
        or zone -> number (zones left out are not held).
    row_zone
        Zone of every demand row, for the per-zone table (mean time before and after).
    price_of_balance
        Also solve the p-median without zone rules (same site rules) and report the
        difference.
    force_open, force_closed, max_new_per_unit, site_unit
        Site rules (:mod:`geoplan.optimize.site_rules`): forced sites open (counted in
        ``p`` and in their zone), closed ones stay shut, most new sites per unit.
    solver, time_limit, gap, verbose
        See :func:`geoplan.optimize.solver.solve`.

    Returns
    -------
    Plan
        ``model = "p_median"``: ``objective`` (total weighted time), ``assignment``,
        ``details``: ``mean_time``, ``zones`` (per zone: ``sites_existing``,
        ``sites_new``, and with ``row_zone`` its ``population``, ``mean_before``,
        ``mean_after``), ``price_of_balance`` (total time added) and
        ``balance_minutes`` (mean time added per unit of weight), ``unbalanced`` (the
        unconstrained objective). Infeasible zone rules give an infeasible plan whose
        ``explanation`` names the zone.

    Raises
    ------
    GeoplanInputError
        For malformed inputs (as :func:`~geoplan.optimize.median.p_median`), zones of the
        wrong length, or zone rules naming unknown zones.
    """
    from .median import _prepare, p_median
    from .site_rules import check_site_rules
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    prep = _prepare(times, weights, p, existing, unassigned_time)
    rows, w, sub = prep.rows, prep.w, prep.sub
    m = rows.m
    sz = np.asarray(site_zone, dtype=object).astype(str)
    if sz.shape != (m,):
        raise GeoplanInputError(f"site_zone has {sz.size} entries for {m} sites",
                                field="site_zone")
    zones = sorted(set(sz.tolist()))
    mins = _per_zone(zone_min_sites, zones, "zone_min_sites", int)
    maxs = _per_zone(zone_max_sites, zones, "zone_max_sites", int)
    cand = prep.cand
    rules = check_site_rules(m, prep.ex, force_open=force_open, force_closed=force_closed,
                             max_new_per_unit=max_new_per_unit, site_unit=site_unit)
    if rules.force_open.size > prep.p:
        raise GeoplanInputError(f"force_open opens {rules.force_open.size} sites but p = "
                                f"{prep.p}", field="force_open",
                                hint="raise p or force fewer sites open")
    n_ex = {z: int((sz[prep.ex] == z).sum()) for z in zones}
    why = _why(mins, maxs, n_ex, sz, cand, prep.p)
    if why is not None:
        info = SolveInfo(INFEASIBLE, math.nan, math.nan, math.nan, "(pre-check)", 0.0)
        return Plan.from_solve("p_median", info, selected=[], existing=prep.ex,
                               build_s=time.perf_counter() - t0, total_demand=float(w.sum()),
                               explanation=why, details={"zones": None})
    # the constant rows (no candidate below their cap) and the merged decision rows
    t_ex = np.minimum(prep.t_ex, prep.u)
    prob = pulp.LpProblem("balanced_p_median", pulp.LpMinimize)
    forced, closed = set(rules.force_open.tolist()), set(rules.force_closed.tolist())
    # integer in [0, 1], not "Binary": pulp resets a binary's bounds to 0..1
    y = [pulp.LpVariable(f"y{k}", lowBound=1 if j in forced else 0,
                         upBound=0 if j in closed else 1, cat="Integer")
         for k, j in enumerate(cand.tolist())]
    terms: list[tuple[Any, float]] = []
    for i in range(sub.n):
        lo, hi = int(sub.ptr[i]), int(sub.ptr[i + 1])
        serve = []
        for e in range(lo, hi):
            x = pulp.LpVariable(f"x{e}", 0, 1)
            terms.append((x, float(sub.w[i] * sub.t[e])))
            prob += pulp.LpConstraint(pulp.LpAffineExpression([(x, 1.0), (y[sub.col[e]], -1.0)]),
                                      pulp.LpConstraintLE, f"open{e}", 0.0)
            serve.append((x, 1.0))
        if math.isfinite(sub.cap[i]):
            u = pulp.LpVariable(f"u{i}", 0, 1)
            terms.append((u, float(sub.w[i] * sub.cap[i])))
            serve.append((u, 1.0))
        prob += pulp.LpConstraint(pulp.LpAffineExpression(serve), pulp.LpConstraintEQ,
                                  f"serve{i}", 1.0)
    # + the cost outside the decision rows, so the solver's bound is the model's own
    prob += pulp.LpAffineExpression(terms, constant=float(prep.const))
    prob += pulp.lpSum(y) == prep.p, "p"
    for z in zones:
        inz = [y[k] for k, j in enumerate(cand.tolist()) if sz[j] == z]
        if z in mins and mins[z] - n_ex[z] > 0:
            prob += pulp.lpSum(inz) >= mins[z] - n_ex[z], f"zmin_{z}"
        if z in maxs:
            prob += pulp.lpSum(inz) <= maxs[z] - n_ex[z], f"zmax_{z}"
    if rules.cap is not None and rules.group is not None:
        for g, cap in enumerate(rules.cap.tolist()):
            ing = [y[k] for k, j in enumerate(cand.tolist()) if rules.group[j] == g]
            if ing:
                prob += pulp.lpSum(ing) <= cap, f"unitcap{g}"
    build_s = time.perf_counter() - t0
    info = solve(prob, solver, time_limit=deadline.solver_limit(), gap=gap, msg=verbose)
    if not info.has_solution:
        return Plan.from_solve("p_median", info, selected=[], existing=prep.ex,
                               build_s=build_s, total_demand=float(w.sum()),
                               details={"zones": None})
    chosen = cand[np.array([(v.varValue or 0.0) > 0.5 for v in y], bool)]
    is_open = prep.is_ex.copy()
    is_open[chosen] = True
    after, assign = _nearest_open(rows, is_open)
    cost_after = np.minimum(after, prep.u)
    value = float(w @ np.where(np.isfinite(cost_after), cost_after, 0.0))
    info = with_true_objective(info, value)
    total = float(w.sum())
    details: dict[str, Any] = {"mean_time": value / total if total else math.nan,
                               "zone_min_sites": mins or None, "zone_max_sites": maxs or None}
    if price_of_balance:
        free = p_median(times, weights, prep.p, existing=prep.ex,
                        unassigned_time=unassigned_time, solver=solver,
                        time_limit=deadline.solver_limit(), gap=gap,
                        force_open=force_open, force_closed=force_closed,
                        max_new_per_unit=max_new_per_unit, site_unit=site_unit)
        if free.feasible:
            details["unbalanced"] = free.objective
            if info.status == OPTIMAL and free.optimal:
                details["price_of_balance"] = value - free.objective
                details["balance_minutes"] = (value - free.objective) / total if total \
                    else math.nan
    rz = None if row_zone is None else np.asarray(row_zone, dtype=object).astype(str)
    if rz is not None and rz.shape != (rows.n,):
        raise GeoplanInputError(f"row_zone has {rz.size} entries for {rows.n} rows",
                                field="row_zone")
    details["zones"] = _zone_table(zones, rz, sz, w, np.minimum(t_ex, prep.u), cost_after,
                                   prep.ex, chosen)
    del assign
    reached = np.isfinite(after)
    return Plan.from_solve("p_median", info, selected=chosen, existing=prep.ex,
                           build_s=build_s, total_demand=total,
                           covered_before=float(w[np.isfinite(prep.t_ex)].sum()),
                           covered_after=float(w[reached].sum()), details=details)


def _why(mins: dict[str, int], maxs: dict[str, int], n_ex: dict[str, int],
         sz: NDArray[np.object_], cand: NDArray[np.intp], p: int) -> str | None:
    """Why the zone rules cannot hold with ``p`` new sites (None: the counts can)."""
    for z, lo in mins.items():
        avail = n_ex.get(z, 0) + int((sz[cand] == z).sum())
        if avail < lo:
            return (f"zone {z} needs {lo} open sites but has {n_ex.get(z, 0)} existing and "
                    f"{avail - n_ex.get(z, 0)} candidate site(s)")
    for z, hi in maxs.items():
        if n_ex.get(z, 0) > hi:
            return f"zone {z} may have {hi} open sites but already has {n_ex[z]}"
    need = sum(max(0, lo - n_ex.get(z, 0)) for z, lo in mins.items())
    if need > p:
        return (f"the zone minimums need {need} new sites but p = {p}; raise p or relax "
                "the zone minimums")
    room = sum(max(0, maxs[z] - n_ex.get(z, 0)) if z in maxs else int((sz[cand] == z).sum())
               for z in sorted(set(sz.tolist())))
    if room < p:
        return (f"the zone maximums leave room for {room} new sites but p = {p}; lower p or "
                "raise the zone maximums")
    return None


def _zone_table(zones: list[str], rz: NDArray[np.object_] | None, sz: NDArray[np.object_],
                w: NDArray[np.float64], before: NDArray[np.float64],
                after: NDArray[np.float64], ex: NDArray[np.intp],
                chosen: NDArray[np.intp]) -> pd.DataFrame:
    """Per zone: open sites existing and new; with row zones its people and mean time
    before and after (people who reach nothing counted at their cap)."""
    rows = []
    for z in zones:
        row: dict[str, Any] = {"zone": z, "sites_existing": int((sz[ex] == z).sum()),
                               "sites_new": int((sz[chosen] == z).sum())}
        if rz is not None:
            inz = rz == z
            pop = float(w[inz].sum())
            row["population"] = pop
            for when, t in (("before", before), ("after", after)):
                ok = inz & np.isfinite(t)
                row[f"mean_{when}"] = float(w[ok] @ t[ok]) / pop if pop and ok.any() \
                    else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def balanced_p_median_from_problem(
    problem: Any, p: int, *, zones: Any, zone_min_sites: int | Mapping[str, int] | None = None,
    zone_max_sites: int | Mapping[str, int] | None = None, minutes: float | None = None,
    unassigned_minutes: float | None = None, force_open: Any = None,
    force_closed: Any = None, max_new_per_unit: int | Mapping[str, int] | None = None,
    solver: str | pulp.LpSolver | None = None, time_limit: float | None = None,
    gap: float | None = None, verbose: bool = False) -> Plan:
    """:func:`balanced_p_median` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    p
        New sites.
    zones
        Zone polygons (:mod:`geoplan.inputs.zones`: ``zone``, optional ``name_zh`` /
        ``name_en``).
    zone_min_sites, zone_max_sites
        See :func:`balanced_p_median`.
    minutes, unassigned_minutes
        As for :func:`geoplan.optimize.median.p_median_from_problem`.
    force_open, force_closed, max_new_per_unit
        Site rules with candidate ids.
    solver, time_limit, gap, verbose
        See :func:`balanced_p_median`.

    Returns
    -------
    Plan
        As :func:`geoplan.optimize.median.p_median_from_problem` (times in minutes,
        ``by_unit``, ``sites`` each with its ``zone``), with ``details["zones"]`` (zone
        names where the zones carry them; mean minutes before/after per zone) and the
        price of balance in minutes; ``details["zone_shapes"]`` for the map.
    """
    from geoplan.inputs.zones import zone_of

    from .covering import gis_site_rules
    from .median import _median_finish
    cutoff = float(problem.cutoff_s) / 60.0
    lim = cutoff if minutes is None else float(minutes)
    if not (0 < lim <= cutoff * (1 + 1e-12)):
        raise GeoplanInputError(f"minutes must be in (0, {cutoff:g}] (the problem's cut-off), "
                                f"got {minutes!r}", field="minutes")
    unassigned = cutoff if unassigned_minutes is None else float(unassigned_minutes)
    tm = sp.csr_matrix(problem.times, dtype=np.float64, copy=True)
    tm.data = tm.data / 60.0
    site_zone = zone_of(problem.sites, zones)
    plan = balanced_p_median(tm, problem.demand, p, site_zone=site_zone,
                             zone_min_sites=zone_min_sites, zone_max_sites=zone_max_sites,
                             row_zone=zone_of(problem.cells, zones), existing=problem.existing,
                             unassigned_time=unassigned, solver=solver, time_limit=time_limit,
                             gap=gap, verbose=verbose,
                             **gis_site_rules(problem, force_open, force_closed,
                                              max_new_per_unit))
    plan = _median_finish(problem, plan, tm, lim, unassigned)
    table = plan.details.get("zones")
    if isinstance(table, pd.DataFrame) and {"name_zh", "name_en"} <= set(zones.columns):
        names = zones.set_index("zone")
        table["name_zh"] = table["zone"].map(names["name_zh"])
        table["name_en"] = table["zone"].map(names["name_en"])
    plan.details["zone_shapes"] = zones
    if plan.sites is not None:
        ids = problem.sites["site_id"].astype(str).to_numpy()
        by_id = dict(zip(ids, np.asarray(site_zone, dtype=object), strict=True))
        plan.sites["zone"] = plan.sites["site_id"].astype(str).map(by_id)
    return plan

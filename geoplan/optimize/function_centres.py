r"""Function centres: place K kinds of centre at eligible hosts to cover the most people.

Why: targets such as "50 function centres (endoscopy, rehabilitation/pain, dialysis,
...)" are placed in existing institutions - regional centres and hospitals - not on
new land. Each kind serves the residents within T minutes of it; a host can take only a
few kinds (staff, space); every kind should reach a minimum share of the population.

Model
-----
Demand rows :math:`i` with population :math:`w_i`; hosts :math:`h`; kinds :math:`k`
with weight :math:`v_k` (default 1); :math:`N_{ik}` the eligible hosts for kind
:math:`k` within T of row :math:`i`; existing centres :math:`(h,k) \in X` (fixed);
:math:`F_k` rows covered by an existing centre of kind :math:`k`.
Variables :math:`x_{hk} \in \{0,1\}` (new centre of kind k at host h, eligible pairs
only) and :math:`y_{ik} \in [0,1]`.

.. math::

    \max \sum_k v_k \Big(\sum_{i \in F_k} w_i + \sum_{i \notin F_k} w_i y_{ik}\Big)
    \quad\text{s.t.}\quad y_{ik} \le \sum_{h \in N_{ik}} x_{hk},

    \sum_{h,k} x_{hk} \le \text{total}, \qquad \sum_h x_{hk} \le \text{per\_type}
    \;(\forall k), \qquad \sum_k x_{hk} + |\{k : (h,k) \in X\}| \le m \;(\forall h),

    \sum_{i \in F_k} w_i + \sum_{i \notin F_k} w_i y_{ik} \ge \beta \sum_i w_i
    \;(\forall k),

with :math:`m` = ``max_types_per_host`` and :math:`\beta` = ``min_share``. Rows with
identical coverage sets are merged per kind (the exact reduction of
:mod:`geoplan.optimize.reduce`, without column dominance, which the per-host limit
makes unsafe).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pulp
from numpy.typing import ArrayLike
from scipy import sparse

from .._errors import GeoplanInputError
from .covering import _covered
from .explain import explain_shortfall
from .plan import Plan
from .reduce import check_covering_inputs, reduce_covering
from .solver import INFEASIBLE, SolveInfo, solve, time_left

__all__ = ["function_centres", "function_centres_from_problem"]


def function_centres(
    coverage: ArrayLike | sparse.spmatrix | Sequence[Any],
    weights: ArrayLike,
    eligible: ArrayLike,
    *,
    total: int | None = None,
    per_type: int | None = None,
    max_types_per_host: int = 1,
    existing: Sequence[tuple[int, int]] | None = None,
    min_share: float | None = None,
    type_weights: ArrayLike | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
) -> Plan:
    """Place centres of K kinds at eligible hosts to maximise the people covered.

    Parameters
    ----------
    coverage
        ``(demand, hosts)`` boolean matrix for all kinds, or a list of K such matrices
        (one time standard per kind).
    weights
        Population per demand row.
    eligible
        ``(hosts, K)`` boolean: host h may take kind k.
    total, per_type
        Limits on new centres in all and per kind (at least one must be given).
    max_types_per_host
        Most kinds one host may hold (existing centres included).
    existing
        ``(host, kind)`` pairs that already exist (fixed).
    min_share
        Minimum covered share of the population for every kind.
    type_weights
        Weight of each kind in the objective (default 1).
    solver, time_limit, gap
        See :func:`geoplan.optimize.solver.solve`.

    Returns
    -------
    Plan
        ``objective`` = weighted people covered summed over kinds;
        ``details["placements"]`` = DataFrame ``host, kind, status`` and
        ``details["by_type"]`` = per kind ``covered_before, covered_after, share_*``.
        ``selected`` lists the hosts receiving at least one new centre.
    """
    t0 = time.perf_counter()
    E = np.asarray(eligible, dtype=bool)
    if E.ndim != 2:
        raise GeoplanInputError("eligible must be a hosts x kinds boolean matrix",
                                field="eligible")
    n_hosts, K = E.shape
    mats = list(coverage) if isinstance(coverage, list | tuple) else [coverage] * K
    if len(mats) != K:
        raise GeoplanInputError(f"{len(mats)} coverage matrices for {K} kinds",
                                field="coverage")
    ex_pairs = [(int(h), int(k)) for h, k in (existing or [])]
    for h, k in ex_pairs:
        if not (0 <= h < n_hosts and 0 <= k < K):
            raise GeoplanInputError(f"existing centre ({h}, {k}) is outside the "
                                    f"{n_hosts} hosts x {K} kinds", field="existing")
    if total is None and per_type is None:
        raise GeoplanInputError("give total and/or per_type", field="total")
    for name, v in (("total", total), ("per_type", per_type),
                    ("max_types_per_host", max_types_per_host)):
        if v is not None and (int(v) != v or v < 0):
            raise GeoplanInputError(f"{name} must be a non-negative whole number, got {v!r}",
                                    field=name)
    if min_share is not None and not (0 < min_share <= 1):
        raise GeoplanInputError(f"min_share must be in (0, 1], got {min_share!r}",
                                field="min_share")
    v = np.ones(K) if type_weights is None else np.asarray(type_weights, float)
    insts, Cs = [], []
    w = None
    for k in range(K):
        ex_k = [h for h, kk in ex_pairs if kk == k]
        C, w, ex, _, _ = check_covering_inputs(mats[k], weights, ex_k, None)
        if C.shape[1] != n_hosts:
            raise GeoplanInputError(f"coverage has {C.shape[1]} columns for {n_hosts} hosts",
                                    field="coverage")
        # only eligible hosts (and existing ones) may cover kind k
        keep = E[:, k].copy()
        keep[ex] = True
        C = (C @ sparse.diags(keep.astype(float))).astype(bool).tocsr()
        Cs.append(C)
        insts.append(reduce_covering(C, w, ex, None, None, dominance=False))
    assert w is not None
    total_w = float(w.sum())
    before = np.array([float(w @ _covered(Cs[k], np.array([h for h, kk in ex_pairs if kk == k],
                                                          np.intp))) for k in range(K)])
    if min_share is not None:
        for k in range(K):
            short = explain_shortfall(w, insts[k].coverable, min_share)
            if short is not None:
                info = SolveInfo(INFEASIBLE, math.nan, math.nan, math.nan,
                                 "(not run: target proven unreachable)", 0.0)
                return Plan.from_solve("function_centres", info, selected=[],
                                       existing=sorted({h for h, _ in ex_pairs}),
                                       build_s=time.perf_counter() - t0,
                                       total_demand=total_w, explanation=short,
                                       details={"kind": k})
    prob = pulp.LpProblem("function_centres", pulp.LpMaximize)
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    obj_terms: list[tuple[pulp.LpVariable, float]] = []
    const = 0.0
    for k, inst in enumerate(insts):
        for j, h in enumerate(inst.cols):
            x[(int(h), k)] = pulp.LpVariable(f"x{h}_{k}", cat="Binary")
        y = [pulp.LpVariable(f"y{i}_{k}", 0, 1) for i in range(inst.A.shape[0])]
        ind, ptr = inst.A.indices, inst.A.indptr
        for i in range(inst.A.shape[0]):
            expr = pulp.LpAffineExpression(
                [(x[(int(inst.cols[j]), k)], 1.0) for j in ind[ptr[i]:ptr[i + 1]]])
            expr.addterm(y[i], -1.0)
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"c{i}_{k}", 0.0)
        fixed = float(w[inst.covered_fixed].sum())
        const += v[k] * fixed
        obj_terms += [(y[i], v[k] * float(inst.w[i])) for i in range(len(y))]
        if min_share is not None:
            prob += pulp.LpConstraint(pulp.LpAffineExpression(
                [(y[i], float(inst.w[i])) for i in range(len(y))]), pulp.LpConstraintGE,
                f"share{k}", min_share * total_w - fixed - 1e-9 * max(1.0, total_w))
    objective = pulp.LpAffineExpression(obj_terms)
    objective.constant = const
    prob += objective
    if total is not None:
        prob += pulp.LpConstraint(pulp.LpAffineExpression([(xv, 1.0) for xv in x.values()]),
                                  pulp.LpConstraintLE, "total", float(total))
    for k in range(K):
        if per_type is not None:
            prob += pulp.LpConstraint(pulp.LpAffineExpression(
                [(xv, 1.0) for (h, kk), xv in x.items() if kk == k]), pulp.LpConstraintLE,
                f"per_type{k}", float(per_type))
    held = pd.Series([h for h, _ in ex_pairs], dtype=int).value_counts()
    by_host: dict[int, list[pulp.LpVariable]] = {}
    for (h, _), xv in x.items():
        by_host.setdefault(h, []).append(xv)
    for h, xs in by_host.items():
        room = max_types_per_host - int(held.get(h, 0))
        prob += pulp.LpConstraint(pulp.LpAffineExpression([(xv, 1.0) for xv in xs]),
                                  pulp.LpConstraintLE, f"host{h}", float(max(room, 0)))
    build_s = time.perf_counter() - t0
    info = solve(prob, solver, time_limit=time_left(time_limit, t0), gap=gap)
    placed = [(h, k) for (h, k), xv in x.items() if (xv.varValue or 0) > 0.5] \
        if info.has_solution else []
    after = np.array([float(w @ _covered(Cs[k], np.array(
        [h for h, kk in ex_pairs + placed if kk == k], np.intp))) for k in range(K)])
    placements = pd.DataFrame(
        [{"host": h, "kind": k, "status": "existing"} for h, k in ex_pairs]
        + [{"host": h, "kind": k, "status": "new"} for h, k in sorted(placed)],
        columns=["host", "kind", "status"])
    by_type = pd.DataFrame({"kind": range(K), "covered_before": before, "covered_after": after,
                            "share_before": before / total_w if total_w else np.nan,
                            "share_after": after / total_w if total_w else np.nan})
    plan = Plan.from_solve(
        "function_centres", info, selected=sorted({h for h, _ in placed}),
        existing=sorted({h for h, _ in ex_pairs}), build_s=build_s,
        covered_before=float(v @ before), covered_after=float(v @ after),
        total_demand=float(v.sum() * total_w),
        details={"placements": placements, "by_type": by_type, "new_centres": len(placed)})
    plan.problem = prob
    return plan


def function_centres_from_problem(problem: Any, minutes: float, *, types: Sequence[str],
                                  host_types: Sequence[str] | None = None,
                                  total: int | None = None, per_type: int | None = None,
                                  max_types_per_host: int = 1, min_share: float | None = None,
                                  **solve_kw: Any) -> Plan:
    """:func:`function_centres` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    The problem's sites are the possible hosts (e.g. hospitals and regional centres);
    hosts of ``host_types`` (default all) are eligible for every kind in ``types``.

    Returns
    -------
    Plan
        With ``sites`` (one row per new centre: host id, name, kind) and ``by_unit``
        (per admin unit and kind: people within T before and after).
    """
    import geopandas as gpd
    from .gis import coverage_by_unit
    C = problem.coverage(minutes)
    hosts = problem.sites
    ok = np.ones(len(hosts), bool) if not host_types else hosts["type"].isin(
        host_types).to_numpy()
    E = np.repeat(ok[:, None], len(types), axis=1)
    plan = function_centres(C, problem.demand, E, total=total, per_type=per_type,
                            max_types_per_host=max_types_per_host, min_share=min_share,
                            **solve_kw)
    plan.details["types"] = list(types)
    if not plan.feasible:
        return plan
    pl = plan.details["placements"]
    pl["kind"] = [types[k] for k in pl["kind"]]
    new = pl[pl["status"] == "new"]
    rows = hosts.iloc[new["host"].to_numpy()]
    plan.sites = gpd.GeoDataFrame({
        "site_id": rows["site_id"].to_numpy(), "id": rows["site_id"].to_numpy(),
        "name": rows["name"].to_numpy(), "type": rows["type"].to_numpy(),
        "centre": new["kind"].to_numpy(), "status": "new"},
        geometry=rows.geometry.values, crs=hosts.crs)
    tables = []
    for k, kind in enumerate(types):
        cols_after = new.loc[new["kind"] == kind, "host"].to_numpy(np.intp)
        t = coverage_by_unit(problem, np.zeros(problem.n_cells, bool), _covered(C, cols_after))
        t.insert(0, "centre", kind)
        tables.append(t)
    plan.by_unit = pd.concat(tables, ignore_index=True)
    plan.details["by_type"]["kind"] = list(types)
    return plan

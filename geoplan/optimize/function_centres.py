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

Planners' rules on hosts (:mod:`geoplan.optimize.site_rules`): hosts :math:`O` that
must receive a new centre, hosts :math:`Z` that get none, and at most :math:`k_g` new
centres among the hosts :math:`H_g` of unit :math:`g`:

.. math::

    \sum_k x_{hk} \ge 1 \;(h \in O), \qquad x_{hk} = 0 \;(h \in Z,\ \forall k),
    \qquad \sum_{h \in H_g} \sum_k x_{hk} \le k_g \;(\forall g).

A forced-open host takes a centre of a kind it is eligible for and does not hold yet
(the model picks the kind); its centre counts towards ``total``, ``per_type`` and its
unit's cap, and the host is listed in ``Plan.selected``. A forced-closed host keeps its
existing centres. The unit cap counts new **centres** (a host taking two new kinds
counts twice), the quantity ``total`` and ``per_type`` count. Hosts holding existing
centres may be forced open or closed (they are hosts, not new sites).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pulp
from numpy.typing import ArrayLike
from scipy import sparse

from geoplan._errors import GeoplanInputError

from .covering import _covered
from .explain import explain_shortfall
from .plan import Plan
from .reduce import check_covering_inputs, reduce_covering
from .site_rules import SiteRules, check_site_rules, problem_site_units
from .solver import INFEASIBLE, SolveInfo, solve, time_left, with_true_objective

__all__ = ["function_centres", "function_centres_from_problem"]

log = logging.getLogger(__name__)


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
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    verbose: bool = False,
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
    force_open
        Host columns that must receive at least one new centre (of a kind they are
        eligible for and do not hold).
    force_closed
        Host columns that receive no new centre (existing centres there stay).
    max_new_per_unit
        Most new centres per unit (forced ones included): an int for every unit, or a
        mapping unit -> int (units left out are not capped).
    site_unit
        Unit of every host (needed with ``max_new_per_unit``).
    solver, time_limit, gap
        See :func:`geoplan.optimize.solver.solve`.
    verbose
        Show the solver's log (``msg`` of :func:`~geoplan.optimize.solver.solve`).

    Returns
    -------
    Plan
        ``objective`` = weighted people covered summed over kinds;
        ``details["placements"]`` = DataFrame ``host, kind, status`` and
        ``details["by_type"]`` = per kind ``covered_before, covered_after, share_*``;
        the site rules in ``details`` (host columns, see
        :meth:`~geoplan.optimize.site_rules.SiteRules.details`).
        ``selected`` lists the hosts receiving at least one new centre.

    Raises
    ------
    GeoplanInputError
        For bad matrices or limits; for the site rules naming the option at fault (host
        out of range, a host both forced open and closed, a forced-open host with no
        eligible kind or no room, more forced-open hosts than ``total`` allows, a cap
        without units or below the hosts forced open in a unit).
    """
    t0 = time.perf_counter()
    E = np.array(eligible, dtype=bool)
    if E.ndim != 2:
        raise GeoplanInputError("eligible must be a hosts x kinds boolean matrix",
                                field="eligible")
    n_hosts, K = E.shape
    mats = list(coverage) if isinstance(coverage, list | tuple) else [coverage] * K
    if len(mats) != K:
        raise GeoplanInputError(f"{len(mats)} coverage matrices for {K} kinds",
                                field="coverage")
    ex_pairs = [(int(h), int(k)) for h, k in (existing or [])]
    _check_limits(ex_pairs, n_hosts, K, total, per_type, max_types_per_host, min_share)
    rules = check_site_rules(n_hosts, None, force_open=force_open, force_closed=force_closed,
                             max_new_per_unit=max_new_per_unit, site_unit=site_unit)
    E[rules.force_closed, :] = False          # closed hosts take no new centre
    forced_kinds = _forced_kinds(rules, E, ex_pairs, K, total, per_type, max_types_per_host)
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
    details: dict[str, Any] = rules.details()
    if min_share is not None:
        for k in range(K):
            short = explain_shortfall(w, insts[k].coverable, min_share)
            if short is not None:
                info = SolveInfo(INFEASIBLE, math.nan, math.nan, math.nan,
                                 "(not run: target proven unreachable)", 0.0)
                log.info("function_centres: kind %d cannot reach its share, not solved", k)
                return Plan.from_solve("function_centres", info, selected=[],
                                       existing=sorted({h for h, _ in ex_pairs}),
                                       build_s=time.perf_counter() - t0,
                                       total_demand=total_w, explanation=short,
                                       details={"kind": k, **details})
    prob = pulp.LpProblem("function_centres", pulp.LpMaximize)
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    obj_terms: list[tuple[pulp.LpVariable, float]] = []
    const = 0.0
    for k, inst in enumerate(insts):
        for h in inst.cols:
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
    # a forced-open host may cover nothing new (its column was reduced away): it still
    # needs its variables to take a centre
    for h, kinds in forced_kinds.items():
        for k in kinds:
            if (h, k) not in x:
                x[(h, k)] = pulp.LpVariable(f"x{h}_{k}", cat="Binary")
    objective = pulp.LpAffineExpression(obj_terms)
    objective.constant = const
    prob += objective
    _limit_rows(prob, x, K, total, per_type, max_types_per_host, ex_pairs)
    _rule_rows(prob, x, rules, forced_kinds)
    build_s = time.perf_counter() - t0
    log.info("function_centres: %d hosts, %d kinds, %d possible placements%s; solving",
             n_hosts, K, len(x), " (with site rules)" if rules.active else "")
    info = solve(prob, solver, time_limit=time_left(time_limit, t0), gap=gap, msg=verbose)
    log.info("function_centres: %s, objective %.10g (%.2f s)", info.status, info.objective,
             info.solve_s)
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
    info = with_true_objective(info, float(v @ after))      # = the objective at any optimum
    plan = Plan.from_solve(
        "function_centres", info, selected=sorted({h for h, _ in placed}),
        existing=sorted({h for h, _ in ex_pairs}), build_s=build_s,
        covered_before=float(v @ before), covered_after=float(v @ after),
        total_demand=float(v.sum() * total_w),
        details={"placements": placements, "by_type": by_type, "new_centres": len(placed),
                 **details})
    plan.problem = prob
    return plan


def _check_limits(ex_pairs: list[tuple[int, int]], n_hosts: int, K: int, total: int | None,
                  per_type: int | None, max_types_per_host: int,
                  min_share: float | None) -> None:
    """Check the existing centres, the limits and the share target."""
    for h, k in ex_pairs:
        if not (0 <= h < n_hosts and 0 <= k < K):
            raise GeoplanInputError(f"existing centre ({h}, {k}) is outside the "
                                    f"{n_hosts} hosts x {K} kinds", field="existing")
    if total is None and per_type is None:
        raise GeoplanInputError("give total and/or per_type", field="total")
    for name, val in (("total", total), ("per_type", per_type),
                      ("max_types_per_host", max_types_per_host)):
        if val is not None and (int(val) != val or val < 0):
            raise GeoplanInputError(f"{name} must be a non-negative whole number, got "
                                    f"{val!r}", field=name)
    if min_share is not None and not (0 < min_share <= 1):
        raise GeoplanInputError(f"min_share must be in (0, 1], got {min_share!r}",
                                field="min_share")


def _forced_kinds(rules: SiteRules, E: np.ndarray, ex_pairs: list[tuple[int, int]], K: int,
                  total: int | None, per_type: int | None,
                  max_types_per_host: int) -> dict[int, list[int]]:
    """Check the forced-open hosts; return the kinds each may take.

    Raises
    ------
    GeoplanInputError
        Naming ``force_open`` and the host: no eligible kind it does not hold, no room
        under ``max_types_per_host``, or more forced hosts than the limits allow.
    """
    held: dict[int, set[int]] = {}
    for h, k in ex_pairs:
        held.setdefault(h, set()).add(k)
    out: dict[int, list[int]] = {}
    for h in rules.force_open.tolist():
        kinds = [k for k in range(K) if E[h, k] and k not in held.get(h, set())]
        if not kinds:
            raise GeoplanInputError(
                f"force_open: host {h} is eligible for no kind it does not already hold",
                field="force_open", hint="force open eligible hosts only")
        if len(held.get(h, ())) >= max_types_per_host:
            raise GeoplanInputError(
                f"force_open: host {h} already holds {len(held[h])} kind(s), the most "
                f"max_types_per_host = {max_types_per_host} allows", field="force_open",
                hint="raise max_types_per_host or force another host open")
        out[h] = kinds
    n = len(out)
    limits = [lim for lim in (total, None if per_type is None else K * per_type)
              if lim is not None]
    room = min(limits) if limits else n
    if n > room:
        raise GeoplanInputError(
            f"force_open: {n} hosts must receive a new centre but the limits allow "
            f"{room} new centre(s)", field="force_open",
            hint="raise total / per_type or force fewer hosts open")
    return out


def _limit_rows(prob: pulp.LpProblem, x: dict[tuple[int, int], pulp.LpVariable], K: int,
                total: int | None, per_type: int | None, max_types_per_host: int,
                ex_pairs: list[tuple[int, int]]) -> None:
    """Add the limits on new centres: in all, per kind and per host."""
    if total is not None:
        prob += pulp.LpConstraint(pulp.LpAffineExpression([(xv, 1.0) for xv in x.values()]),
                                  pulp.LpConstraintLE, "total", float(total))
    for k in range(K):
        if per_type is not None:
            prob += pulp.LpConstraint(pulp.LpAffineExpression(
                [(xv, 1.0) for (_, kk), xv in x.items() if kk == k]), pulp.LpConstraintLE,
                f"per_type{k}", float(per_type))
    held = pd.Series([h for h, _ in ex_pairs], dtype=int).value_counts()
    by_host: dict[int, list[pulp.LpVariable]] = {}
    for (h, _), xv in x.items():
        by_host.setdefault(h, []).append(xv)
    for h, xs in by_host.items():
        room = max_types_per_host - int(held.get(h, 0))
        prob += pulp.LpConstraint(pulp.LpAffineExpression([(xv, 1.0) for xv in xs]),
                                  pulp.LpConstraintLE, f"host{h}", float(max(room, 0)))


def _rule_rows(prob: pulp.LpProblem, x: dict[tuple[int, int], pulp.LpVariable],
               rules: SiteRules, forced_kinds: dict[int, list[int]]) -> None:
    """Add the site rules: a centre at every forced-open host, the caps per unit."""
    for h, kinds in forced_kinds.items():
        prob += pulp.LpConstraint(pulp.LpAffineExpression([(x[(h, k)], 1.0) for k in kinds]),
                                  pulp.LpConstraintGE, f"force_open{h}", 1.0)
    if rules.group is None or rules.cap is None:
        return
    for g, cap in enumerate(rules.cap.tolist()):
        terms = [(xv, 1.0) for (h, _), xv in x.items() if rules.group[h] == g]
        if len(terms) > cap:
            prob += pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintLE,
                                      f"new_in_unit{g}", float(cap))


def function_centres_from_problem(problem: Any, minutes: float, *, types: Sequence[str],
                                  host_types: Sequence[str] | None = None,
                                  total: int | None = None, per_type: int | None = None,
                                  max_types_per_host: int = 1, min_share: float | None = None,
                                  force_open: Any = None, force_closed: Any = None,
                                  max_new_per_unit: int | Mapping[str, int] | None = None,
                                  verbose: bool = False, **solve_kw: Any) -> Plan:
    """:func:`function_centres` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    The problem's sites are the possible hosts (e.g. hospitals and regional centres);
    hosts of ``host_types`` (default all) are eligible for every kind in ``types``.

    Parameters
    ----------
    problem
        The site problem; its sites are the hosts.
    minutes
        Time standard.
    types
        The kinds of centre.
    host_types
        Host ``type`` values eligible for every kind (default: all hosts).
    total, per_type, max_types_per_host, min_share
        See :func:`function_centres`.
    force_open
        Ids (``site_id``) of hosts that must receive a new centre.
    force_closed
        Ids of hosts that receive no new centre.
    max_new_per_unit
        Most new centres per admin unit of the hosts (``admin_code``): an int, or
        admin code -> int.
    verbose
        Show the solver's log.
    **solve_kw
        ``solver``, ``time_limit``, ``gap``.

    Returns
    -------
    Plan
        With ``sites`` (one row per new centre: host id, name, kind) and ``by_unit``
        (per admin unit and kind: people within T before and after); ``details`` adds
        the rules by id (``force_open_ids``, ``force_closed_ids``).

    Raises
    ------
    GeoplanInputError
        For an id that is no host, or a forced-open host not of ``host_types``, naming
        the option and the id.
    """
    import geopandas as gpd

    from .gis import coverage_by_unit
    C = problem.coverage(minutes)
    hosts = problem.sites
    ok = np.ones(len(hosts), bool) if not host_types else hosts["type"].isin(
        host_types).to_numpy()
    E = np.repeat(ok[:, None], len(types), axis=1)
    fo = _host_columns(problem, force_open, "force_open")
    fc = _host_columns(problem, force_closed, "force_closed")
    if fo is not None and (~ok[fo]).any():
        bad = hosts["site_id"].astype(str).to_numpy()[fo[~ok[fo]]]
        raise GeoplanInputError(f"force_open: host {', '.join(bad[:5])} is not of the host "
                                f"types {list(host_types or [])}", field="force_open",
                                hint="force open hosts of host_types only")
    plan = function_centres(C, problem.demand, E, total=total, per_type=per_type,
                            max_types_per_host=max_types_per_host, min_share=min_share,
                            force_open=fo, force_closed=fc,
                            max_new_per_unit=max_new_per_unit,
                            site_unit=(problem_site_units(problem)
                                       if max_new_per_unit is not None else None),
                            verbose=verbose, **solve_kw)
    plan.details["types"] = list(types)
    sid = hosts["site_id"].astype(str).to_numpy()
    for key, cols in (("force_open_ids", fo), ("force_closed_ids", fc)):
        if cols is not None and cols.size:
            plan.details[key] = sid[cols].tolist()
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
    for kind in types:
        cols_after = new.loc[new["kind"] == kind, "host"].to_numpy(np.intp)
        t = coverage_by_unit(problem, np.zeros(problem.n_cells, bool), _covered(C, cols_after))
        t.insert(0, "centre", kind)
        tables.append(t)
    plan.by_unit = pd.concat(tables, ignore_index=True)
    plan.details["by_type"]["kind"] = list(types)
    return plan


def _host_columns(problem: Any, ids: Any, option: str) -> np.ndarray | None:
    """Host columns of ids (every site of the problem is a host; ids compared as text).

    Raises
    ------
    GeoplanInputError
        Naming the option and the ids that are no host.
    """
    if ids is None:
        return None
    if isinstance(ids, (str, bytes, int, np.integer)):
        ids = [ids]
    wanted = [str(i) for i in ids]
    pos = {s: j for j, s in enumerate(problem.sites["site_id"].astype(str))}
    bad = [i for i in wanted if i not in pos]
    if bad:
        raise GeoplanInputError(f"{option}: no host has id {', '.join(bad[:5])}",
                                field=option,
                                hint="list ids of host institutions (facilities of the "
                                     "host types)")
    return np.array(sorted({pos[i] for i in wanted}), np.intp)

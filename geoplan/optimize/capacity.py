r"""Capacitated location models: sites that can serve only so many people.

Why: a township health centre upgraded to a rural regional medical centre must have the
*capacity* to serve the townships around it; a hospital's beds serve so many residents.
The uncapacitated models send everyone to the nearest open site, however full. Here every
site :math:`j` has a capacity :math:`Q_j` (people, or beds x people per bed), and demand is
*assigned* to sites within reach, never more than a site can take. Existing sites are
open and keep their capacities; a new site's capacity comes with it.

Symbols (shared by the three models)
------------------------------------
Demand rows :math:`i \in I` with population :math:`w_i`; sites :math:`j \in E \cup C`
(existing :math:`E`, open; candidates :math:`C`); the stored pairs :math:`R` (row
:math:`i` can reach site :math:`j`: within the time standard for the covering models,
within the matrix's cut-off for the p-median) with times :math:`t_{ij}`; capacities
:math:`Q_j` (:math:`+\infty`: no limit). Variables :math:`y_j \in \{0,1\}` (open candidate
:math:`j`; :math:`y_j = 1` for :math:`j \in E`) and :math:`x_{ij}` = the share of row
:math:`i` served by site :math:`j`: :math:`x_{ij} \in [0,1]` (**divisible** assignment: a
cell's people may be split between sites) or :math:`x_{ij} \in \{0,1\}` (**single
source**: every cell goes to one site, as a catchment map draws it). Every model has

.. math::

    \sum_{i:(i,j) \in R} w_i x_{ij} \le Q_j y_j \quad (j),\qquad
    x_{ij} \le y_j \quad ((i,j) \in R,\ j \in C),

the second (the *strong* linking) implied at integer points but what makes the LP bound
tight. Site rules (:mod:`geoplan.optimize.site_rules`) add :math:`y_j = 1`, :math:`y_j = 0`
and :math:`\sum_{j \in C_u} y_j \le k_u`.

Exact reductions (divisible assignment only; single source keeps every row): rows that
reach no site are constants; rows of weight 0 change nothing; rows with the same pairs
are merged with summed weights (covering models: the same reachable sites; p-median: the
same sites with times equal up to a constant shift :math:`t_{ij} = s_i + d_j`, e.g.
cells snapped to one road node; with a price for unassigned people, equal times, since
the price does not shift) - any split of the merged row is a split of each of its
rows with the same cost and load, and back. A capacity that the rows able to reach the
site cannot fill is dropped.

Solved as one MILP through :func:`geoplan.optimize.solver.solve` (status "optimal" only
when the solver proves it); the plan's objective is recomputed from the assignment on the
original rows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError

from .plan import Plan, Reduction
from .site_rules import SiteRules, check_site_rules
from .solver import INFEASIBLE, OPTIMAL, Deadline, SolveInfo, solve, with_true_objective

__all__ = ["PERSONS_PER_BED", "capacitated_max_covering",
           "capacitated_max_covering_from_problem", "capacitated_p_median",
           "capacitated_p_median_from_problem", "capacitated_set_covering",
           "capacitated_set_covering_from_problem", "capacity_loads", "site_capacities"]

#: Relative times equal within this many seconds count as equal when merging p-median rows.
_SHIFT_TOL_S = 1e-6


# ----------------------------------------------------------------------------- checks


def _check_matrix(matrix: Any, name: str) -> sparse.csr_matrix:
    try:
        M = sparse.csr_matrix(matrix, dtype=float)
    except (TypeError, ValueError) as exc:
        raise GeoplanInputError(f"{name} must be a 2-D matrix (rows x sites): {exc}",
                                field=name) from None
    if M.ndim != 2:
        raise GeoplanInputError(f"{name} must be 2-D", field=name)
    M.sum_duplicates()
    M.sort_indices()
    if M.nnz and (not np.all(np.isfinite(M.data)) or M.data.min() < 0):
        raise GeoplanInputError(f"{name} has negative or non-finite entries", field=name,
                                hint="stored entries are reachable pairs with times >= 0")
    return M


def _check_vector(values: Any, n: int, name: str, *, allow_inf: bool = False
                  ) -> NDArray[np.float64]:
    v = np.asarray(values, dtype=float).ravel()
    if v.shape != (n,):
        raise GeoplanInputError(f"{name} has {v.size} values for {n}", field=name)
    bad = np.isnan(v) | (v < 0) | (~np.isfinite(v) if not allow_inf else False)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GeoplanInputError(
            f"{name}[{k}] = {v[k]!r}: must be "
            + ("a number >= 0 (inf: no limit)" if allow_inf else "a finite number >= 0"),
            field=name)
    return v


def _check_common(M: sparse.csr_matrix, weights: Any, capacities: Any, existing: Any,
                  rules_kw: dict[str, Any]) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                     NDArray[np.intp], SiteRules]:
    n, m = M.shape
    w = _check_vector(weights, n, "weights")
    Q = _check_vector(capacities, m, "capacities", allow_inf=True)
    ex = np.unique(np.asarray([] if existing is None else existing, np.int64).ravel())
    if ex.size and (ex.min() < 0 or ex.max() >= m):
        raise GeoplanInputError(f"existing holds columns outside 0..{m - 1}", field="existing")
    rules = check_site_rules(m, ex, **rules_kw)
    return w, Q, ex.astype(np.intp), rules


# ------------------------------------------------------------------------- reduction


@dataclass
class _Rows:
    """Demand rows after the exact reduction (private)."""

    group: NDArray[np.intp]          # original row -> merged row (-1: dropped)
    W: NDArray[np.float64]           # merged weights
    T: sparse.csr_matrix             # merged rows x sites: coefficient per stored pair
    reduction: Reduction


def _merge_keys(M: sparse.csr_matrix, times: str | None) -> NDArray[np.int64]:
    """Group id per row: the same columns and, with ``times``, the same times up to a
    constant shift (``"shift"``) or the same times (``"equal"``)."""
    n, m = M.shape
    rows = np.repeat(np.arange(n), np.diff(M.indptr))
    rng = np.random.default_rng(0xCA9AC17)
    h1 = rng.integers(1, 2**62, max(m, 1), dtype=np.int64)
    h2 = rng.integers(1, 2**62, max(m, 1), dtype=np.int64)
    with np.errstate(over="ignore"):
        a = np.zeros(n, np.int64)
        b = np.zeros(n, np.int64)
        np.add.at(a, rows, h1[M.indices])
        np.add.at(b, rows, h2[M.indices])
        frame = {"n": np.diff(M.indptr), "a": a, "b": b}
        if times and M.nnz:
            lo = np.full(n, np.inf)
            np.minimum.at(lo, rows, M.data)
            base = lo[rows] if times == "shift" else 0.0
            rel = np.rint((M.data - base) / _SHIFT_TOL_S).astype(np.int64)
            c = np.zeros(n, np.int64)
            np.add.at(c, rows, rel * h1[M.indices] + (rel ^ h2[M.indices]))
            frame["c"] = c
    key = pd.DataFrame(frame)
    return key.groupby(list(key.columns), sort=False).ngroup().to_numpy().astype(np.int64)


def _reduce(M: sparse.csr_matrix, w: NDArray[np.float64], usable: NDArray[np.bool_], *,
            merge: bool, times: str | None) -> _Rows:
    """Drop unusable columns' pairs, unreachable and weightless rows; merge equal rows."""
    n, m = M.shape
    keep_col = sparse.diags(usable.astype(float))
    A = (M.copy().tocsr())
    A.data = A.data + 1.0                      # keep zero times stored through the product
    A = (A @ keep_col).tocsr()
    A.eliminate_zeros()
    A.data -= 1.0
    A.sort_indices()
    live = (np.diff(A.indptr) > 0) & (w > 0)
    notes: list[str] = []
    if (~live).any():
        notes.append(f"{int((~live).sum()):,} rows reach no usable site or weigh nothing")
    idx = np.flatnonzero(live)
    sub = A[idx]
    if merge and idx.size:
        g = _merge_keys(sub, times)
        k = int(g.max()) + 1
        W = np.bincount(g, weights=w[idx], minlength=k)
        rows = np.repeat(np.arange(idx.size), np.diff(sub.indptr))
        wt = (w[idx] / W[g])[rows]
        # rows of a group share their columns, so the shares of a column sum to 1: adding
        # 1 before the weighted sum keeps zero times stored, and subtracting it after
        # leaves the weighted mean time (the group's cost per person at that site)
        T = sparse.csr_matrix(((sub.data + 1.0) * wt, (g[rows], sub.indices)), shape=(k, m))
        T.sum_duplicates()
        T.data -= 1.0
        if k < idx.size:
            notes.append(f"{idx.size:,} rows merged into {k:,} with the same "
                         + {"shift": "sites and relative times", "equal": "sites and times",
                            None: "reachable sites"}[times])
        group = np.full(n, -1, np.intp)
        group[idx] = g
    else:
        W = w[idx]
        T = sub
        group = np.full(n, -1, np.intp)
        group[idx] = np.arange(idx.size)
    T.sort_indices()
    red = Reduction(demand_in=n, demand_out=int(W.size), candidates_in=m,
                    candidates_out=int(usable.sum()), notes=notes)
    return _Rows(group=group, W=W, T=T, reduction=red)


# ----------------------------------------------------------------------------- model


@dataclass
class _Model:
    prob: pulp.LpProblem
    y: dict[int, pulp.LpVariable]            # candidate column -> open variable
    x: list[pulp.LpVariable]                 # one per stored pair of rows.T (CSR order)
    u: list[pulp.LpVariable] | None          # unassigned share per merged row


def _build(rows: _Rows, Q: NDArray[np.float64], ex: NDArray[np.intp], cand: NDArray[np.intp],
           rules: SiteRules, *, single_source: bool, sense: int, objective: str,
           assign: str, unassigned_cost: float | None, p: int | None, p_exact: bool,
           budget: float | None, costs: NDArray[np.float64] | None,
           need: float | None) -> _Model:
    """The capacitated MILP on the reduced rows (see the module docstring).

    ``objective``: ``"time"`` (sum of W t x + unassigned cost), ``"served"`` (sum of W x) or
    ``"cost"`` (sum of c y); ``assign``: ``"eq"`` (every row fully assigned, or unassigned
    at ``unassigned_cost``) or ``"le"`` (at most fully); ``need``: least people served.
    """
    T = rows.T
    k, m = T.shape
    prob = pulp.LpProblem("capacitated", sense)
    is_ex = np.zeros(m, bool)
    is_ex[ex] = True
    fo = set(rules.force_open.tolist())
    y: dict[int, pulp.LpVariable] = {}
    for j in cand.tolist():
        v = pulp.LpVariable(f"y{j}", cat="Binary")
        if j in fo:
            v.lowBound = 1
        y[j] = v
    cat = "Binary" if single_source else "Continuous"
    x = [pulp.LpVariable(f"x{e}", 0, 1, cat=cat) for e in range(T.nnz)]
    rix = np.repeat(np.arange(k), np.diff(T.indptr))
    u: list[pulp.LpVariable] | None = None
    if assign == "eq" and unassigned_cost is not None:
        u = [pulp.LpVariable(f"u{i}", 0, 1) for i in range(k)]
    # objective
    if objective == "time":
        terms = [(x[e], float(rows.W[rix[e]] * T.data[e])) for e in range(T.nnz)]
        if u is not None:
            terms += [(u[i], float(rows.W[i] * unassigned_cost)) for i in range(k)]  # type: ignore[operator]
        prob += pulp.LpAffineExpression(terms)
    elif objective == "served":
        prob += pulp.LpAffineExpression([(x[e], float(rows.W[rix[e]])) for e in range(T.nnz)])
    else:
        assert costs is not None
        prob += pulp.LpAffineExpression([(y[j], float(costs[j])) for j in y])
    # assignment of every row
    ptr = T.indptr
    for i in range(k):
        expr = pulp.LpAffineExpression([(x[e], 1.0) for e in range(ptr[i], ptr[i + 1])])
        if assign == "eq":
            if u is not None:
                expr.addterm(u[i], 1.0)
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"a{i}", 1.0)
        else:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"a{i}", 1.0)
    # capacities (only where the rows that can reach a site could overfill it)
    order = np.argsort(T.indices, kind="stable")       # CSR positions grouped by column
    starts = np.r_[0, np.cumsum(np.bincount(T.indices, minlength=m))]
    for j in range(m):
        pos = order[starts[j]:starts[j + 1]]
        if not pos.size:
            continue
        load = float(rows.W[rix[pos]].sum())
        if j in y:
            if load > Q[j]:
                expr = pulp.LpAffineExpression([(x[e], float(rows.W[rix[e]])) for e in pos])
                expr.addterm(y[j], -float(Q[j]))
                prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"q{j}", 0.0)
            for e in pos.tolist():                   # strong linking
                prob += pulp.LpConstraint(pulp.LpAffineExpression([(x[e], 1.0), (y[j], -1.0)]),
                                          pulp.LpConstraintLE, f"l{e}", 0.0)
        elif is_ex[j] and load > Q[j]:
            expr = pulp.LpAffineExpression([(x[e], float(rows.W[rix[e]])) for e in pos])
            prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"q{j}", float(Q[j]))
    if p is not None and y:
        expr = pulp.LpAffineExpression([(v, 1.0) for v in y.values()])
        prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ if p_exact else
                                  pulp.LpConstraintLE, "p", float(p))
    if budget is not None and y:
        assert costs is not None
        prob += pulp.LpConstraint(pulp.LpAffineExpression(
            [(y[j], float(costs[j])) for j in y]), pulp.LpConstraintLE, "budget", float(budget))
    if rules.group is not None and rules.cap is not None:
        for g, cap in enumerate(rules.cap.tolist()):
            cols = [j for j in y if rules.group[j] == g]
            if len(cols) > cap:
                prob += pulp.LpConstraint(pulp.LpAffineExpression([(y[j], 1.0) for j in cols]),
                                          pulp.LpConstraintLE, f"cap{g}", float(cap))
    if need is not None:
        prob += pulp.LpConstraint(pulp.LpAffineExpression(
            [(x[e], float(rows.W[rix[e]])) for e in range(T.nnz)]), pulp.LpConstraintGE,
            "need", float(need))
    return _Model(prob=prob, y=y, x=x, u=u)


def _flows(rows: _Rows, model: _Model, w: NDArray[np.float64], n: int, m: int
           ) -> sparse.csr_matrix:
    """People of each original row served by each site (rows x sites).

    A merged row's shares apply to each of its rows (see the module docstring).
    """
    T = rows.T
    share = np.clip(np.array([v.varValue or 0.0 for v in model.x]), 0.0, 1.0)
    S = sparse.csr_matrix((share, T.indices, T.indptr), shape=T.shape)
    live = np.flatnonzero(rows.group >= 0)
    F = (sparse.diags(w[live]) @ S[rows.group[live]]).tocoo()
    out = sparse.csr_matrix((F.data, (live[F.row], F.col)), shape=(n, m))
    out.eliminate_zeros()
    return out


def capacity_loads(flows: sparse.spmatrix, capacities: ArrayLike) -> pd.DataFrame:
    """People served per site against its capacity.

    Parameters
    ----------
    flows
        ``(rows, sites)`` people of each row served by each site (``plan.details["flows"]``).
    capacities
        Capacity per site (people; inf: no limit).

    Returns
    -------
    pandas.DataFrame
        One row per site: ``served``, ``capacity``, ``use`` (served / capacity; NaN
        without a limit).
    """
    F = sparse.csr_matrix(flows)
    served = np.asarray(F.sum(axis=0)).ravel()
    Q = np.asarray(capacities, float).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        use = np.where(np.isfinite(Q) & (Q > 0), served / np.where(Q > 0, Q, 1.0), np.nan)
    return pd.DataFrame({"served": served, "capacity": Q, "use": use})


def _main_site(flows: sparse.csr_matrix) -> NDArray[np.intp]:
    """The site serving the largest part of each row (-1: none)."""
    out = np.full(flows.shape[0], -1, np.intp)
    F = flows.tocsr()
    for i in np.flatnonzero(np.diff(F.indptr)):
        a, b = F.indptr[i], F.indptr[i + 1]
        out[i] = F.indices[a + int(np.argmax(F.data[a:b]))]
    return out


def _solve_model(model: _Model, solver: Any, deadline: Deadline, gap: float | None,
                 verbose: bool) -> SolveInfo:
    return solve(model.prob, solver, time_limit=deadline.solver_limit(), gap=gap, msg=verbose)


def _opened(model: _Model) -> NDArray[np.intp]:
    return np.array(sorted(j for j, v in model.y.items() if (v.varValue or 0.0) > 0.5),
                    dtype=np.intp)


def _usable(m: int, ex: NDArray[np.intp], rules: SiteRules) -> tuple[NDArray[np.bool_],
                                                                       NDArray[np.intp]]:
    usable = np.ones(m, bool)
    usable[rules.force_closed] = False
    is_ex = np.zeros(m, bool)
    is_ex[ex] = True
    cand = np.flatnonzero(usable & ~is_ex).astype(np.intp)
    return usable, cand


def _rules_kw(force_open: Any, force_closed: Any, max_new_per_unit: Any,
              site_unit: Any) -> dict[str, Any]:
    return {"force_open": force_open, "force_closed": force_closed,
            "max_new_per_unit": max_new_per_unit, "site_unit": site_unit}


def _no_solution(model_name: str, info: SolveInfo, ex: NDArray[np.intp], build_s: float,
                 total: float, rows: _Rows, **details: Any) -> Plan:
    return Plan.from_solve(model_name, info, selected=[], existing=ex, build_s=build_s,
                           total_demand=total, reduction=rows.reduction, details=details)


# ------------------------------------------------------------------------- p-median


def capacitated_p_median(
    times: ArrayLike | sparse.spmatrix,
    weights: ArrayLike,
    p: int,
    capacities: ArrayLike,
    *,
    existing: ArrayLike | None = None,
    single_source: bool = False,
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
    r"""Open ``p`` new sites and assign demand within capacities at least total travel time.

    The capacitated p-median (Mulvey & Beck 1984; Osman & Christofides 1994 for the
    single-source benchmark set), with existing sites and the symbols of
    :mod:`geoplan.optimize.capacity`:

    .. math::

        \min \sum_{(i,j) \in R} w_i t_{ij} x_{ij} + \sum_i w_i\, u\, z_i
        \quad\text{s.t.}\quad \sum_{j:(i,j) \in R} x_{ij} + z_i = 1,\;\;
        \sum_i w_i x_{ij} \le Q_j y_j,\;\; x_{ij} \le y_j,\;\; \sum_{j \in C} y_j = p,

    where :math:`z_i \in [0,1]` (the unassigned share, at ``unassigned_time`` :math:`u`
    per person) exists only when ``unassigned_time`` is given; without it every row must
    be assigned to a site it can reach, and too little capacity within reach makes the
    problem infeasible (reported, never "optimal").

    Parameters
    ----------
    times
        ``(demand, sites)`` sparse travel times; stored entries are the pairs that may be
        assigned (a stored 0 is a pair at zero time). Columns include existing sites.
    weights
        Demand per row (people).
    p
        Number of new sites to open (exactly).
    capacities
        People each site can serve (``inf``: no limit); existing sites too.
    existing
        Columns of existing (open) sites.
    single_source
        Every row to one site (binary :math:`x`) instead of divisible shares.
    unassigned_time
        Cost per person left unassigned (same unit as ``times``); None: all must be served.
    solver, time_limit, gap, verbose
        See :func:`geoplan.optimize.solver.solve` (one deadline for the whole call).
    force_open, force_closed, max_new_per_unit, site_unit
        Site rules (:mod:`geoplan.optimize.site_rules`).

    Returns
    -------
    Plan
        ``objective`` = total person-time (+ unassigned cost) recomputed on the original
        rows; ``assignment`` = the site serving most of each row (-1: none);
        ``details``: ``flows`` (rows x sites people), ``loads`` (see
        :func:`capacity_loads`), ``unassigned`` (people), ``mean_time``.
        ``covered_after`` = people assigned.

    Raises
    ------
    GeoplanInputError
        For malformed inputs, a ``p`` larger than the candidates, or site-rule errors.
    """
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    T = _check_matrix(times, "times")
    n, m = T.shape
    w, Q, ex, rules = _check_common(T, weights, capacities, existing,
                                    _rules_kw(force_open, force_closed, max_new_per_unit,
                                              site_unit))
    usable, cand = _usable(m, ex, rules)
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0:
        raise GeoplanInputError(f"p must be a whole number >= 0, got {p!r}", field="p")
    if p > cand.size:
        raise GeoplanInputError(f"p = {p} but only {cand.size} candidate sites can open",
                                field="p", hint="lower p or add candidate sites")
    if unassigned_time is not None and not (math.isfinite(unassigned_time)
                                            and unassigned_time >= 0):
        raise GeoplanInputError("unassigned_time must be a finite number >= 0",
                                field="unassigned_time")
    # rows equal up to a shift cost the same to move between sites - but not to leave
    # unassigned (u per person, whatever the shift): with u only equal rows merge
    rows = _reduce(T, w, usable, merge=not single_source,
                   times="shift" if unassigned_time is None else "equal")
    unreached = (rows.group < 0) & (w > 0)
    if unreached.any() and unassigned_time is None:
        i = int(np.flatnonzero(unreached)[0])
        raise GeoplanInputError(
            f"{int(unreached.sum()):,} demand rows with people reach no usable site "
            f"(first: row {i})", field="times",
            hint="raise the cut-off, add sites, or give unassigned_time so they can stay "
                 "unassigned at a cost")
    model = _build(rows, Q, ex, cand, rules, single_source=single_source,
                   sense=pulp.LpMinimize, objective="time", assign="eq",
                   unassigned_cost=unassigned_time, p=p, p_exact=True, budget=None,
                   costs=None, need=None)
    build_s = time.perf_counter() - t0
    info = _solve_model(model, solver, deadline, gap, verbose)
    const = float(w[unreached].sum() * (unassigned_time or 0.0))
    total = float(w.sum())
    if not info.has_solution:
        return _no_solution("capacitated_p_median", info, ex, build_s, total, rows,
                            single_source=single_source)
    chosen = _opened(model)
    F = _flows(rows, model, w, n, m)
    if info.status != OPTIMAL and not single_source:
        # a time-limited answer's shares need not be the best for its own sites: the
        # plan is its sites, and its value their best assignment (a transport LP)
        F = _fixed_sites_flows(T, w, Q, np.r_[ex, chosen].astype(np.intp), F,
                               unassigned_time=unassigned_time, solver=solver)
    served = float(F.sum())
    unassigned = total - served
    value = float((F.multiply(T)).sum()) + unassigned * (unassigned_time or 0.0)
    info = with_true_objective(_shift(info, const), value)
    plan = Plan.from_solve(
        "capacitated_p_median", info, selected=chosen, existing=ex, build_s=build_s,
        covered_after=served, total_demand=total, assignment=_main_site(F),
        reduction=rows.reduction,
        details={"flows": F, "loads": capacity_loads(F, Q), "unassigned": unassigned,
                 "mean_time": info.objective / total if total else math.nan,
                 "single_source": single_source, **rules.details()})
    return plan


def _fixed_sites_flows(T: sparse.csr_matrix, w: NDArray[np.float64], Q: NDArray[np.float64],
                       open_cols: NDArray[np.intp], F: sparse.csr_matrix, *,
                       unassigned_time: float | None, solver: Any) -> sparse.csr_matrix:
    """The least-time divisible assignment to the open sites (``F`` if none is proven)."""
    usable = np.zeros(T.shape[1], bool)
    usable[open_cols] = True
    rows = _reduce(T, w, usable, merge=True,
                   times="shift" if unassigned_time is None else "equal")
    if not rows.T.nnz:
        return F
    rules = check_site_rules(T.shape[1], open_cols)
    model = _build(rows, Q, open_cols, np.zeros(0, np.intp), rules, single_source=False,
                   sense=pulp.LpMinimize, objective="time", assign="eq",
                   unassigned_cost=unassigned_time, p=None, p_exact=False, budget=None,
                   costs=None, need=None)
    info = solve(model.prob, solver)
    if info.status != OPTIMAL:
        return F
    return _flows(rows, model, w, *T.shape)


def _shift(info: SolveInfo, const: float) -> SolveInfo:
    """Add the constant of the rows the reduction took out to the solver's figures."""
    if const == 0.0:
        return info
    return replace(info, objective=info.objective + const, bound=info.bound + const)


# -------------------------------------------------------------------------- covering


def _covering_inputs(coverage: Any, weights: Any, capacities: Any, existing: Any,
                     rules_kw: dict[str, Any]) -> tuple[sparse.csr_matrix, NDArray[np.float64],
                                                        NDArray[np.float64], NDArray[np.intp],
                                                        SiteRules]:
    C = _check_matrix(coverage, "coverage")
    C.data = np.ones_like(C.data)               # a stored pair is a reachable pair
    w, Q, ex, rules = _check_common(C, weights, capacities, existing, rules_kw)
    return C, w, Q, ex, rules


def _served_with(C: sparse.csr_matrix, w: NDArray[np.float64], Q: NDArray[np.float64],
                 ex: NDArray[np.intp], *, single_source: bool, solver: Any,
                 deadline: Deadline) -> tuple[float, SolveInfo, sparse.csr_matrix | None]:
    """Most people the existing sites alone can serve (a max-flow LP, or MILP), with
    the flows of that answer."""
    m = C.shape[1]
    usable = np.zeros(m, bool)
    usable[ex] = True
    rows = _reduce(C, w, usable, merge=not single_source, times=None)
    if not rows.W.size:
        return (0.0, SolveInfo(OPTIMAL, 0.0, 0.0, 0.0, "(nothing reachable)", 0.0),
                sparse.csr_matrix(C.shape))
    none = SiteRules(force_open=np.zeros(0, np.intp), force_closed=np.zeros(0, np.intp))
    model = _build(rows, Q, ex, np.zeros(0, np.intp), none, single_source=single_source,
                   sense=pulp.LpMaximize, objective="served", assign="le",
                   unassigned_cost=None, p=None, p_exact=False, budget=None, costs=None,
                   need=None)
    info = solve(model.prob, solver, time_limit=deadline.solver_limit())
    if not info.has_solution:
        return math.nan, info, None
    F = _flows(rows, model, w, *C.shape)
    return float(F.sum()), info, F


def _site_flows(C: sparse.csr_matrix, times: Any, w: NDArray[np.float64],
                Q: NDArray[np.float64], open_cols: NDArray[np.intp], F: sparse.csr_matrix, *,
                proven: bool, single_source: bool, solver: Any, deadline: Deadline
                ) -> sparse.csr_matrix:
    """The flows a covering plan shows for its open sites.

    An unproven (time-limited) divisible answer's shares need not serve the most its
    sites can: the plan is its sites, valued by the most they serve (a max-flow LP).
    With ``times``, the least-travel assignment serving that many
    (:func:`_nearest_flows`).
    """
    if not proven and not single_source:
        _, _, best = _served_with(C, w, Q, open_cols, single_source=False, solver=solver,
                                  deadline=Deadline(None))
        if best is not None and float(best.sum()) > float(F.sum()):
            F = best
    if times is not None:
        F = _nearest_flows(C, times, w, Q, open_cols, F, single_source=single_source,
                           solver=solver, deadline=deadline)
    return F


def _nearest_flows(C: sparse.csr_matrix, times: Any, w: NDArray[np.float64],
                   Q: NDArray[np.float64], open_cols: NDArray[np.intp], F: sparse.csr_matrix,
                   *, single_source: bool, solver: Any, deadline: Deadline
                   ) -> sparse.csr_matrix:
    """The least-travel assignment to the open sites that serves as many people as ``F``.

    The open sites are fixed; people served must stay at least ``F``'s total, the travel
    time of the assignment is minimised. Falls back to ``F`` if that solve does not end
    with a proven answer or serves fewer people (beyond the solver's tolerance).
    """
    Tm = _check_matrix(times, "times")
    if Tm.shape != C.shape:
        raise GeoplanInputError(f"times has shape {Tm.shape}, coverage {C.shape}",
                                field="times")
    if not C.nnz or not open_cols.size:
        return F
    pattern = C.copy()
    pattern.data = np.ones_like(pattern.data)
    r, c = pattern.nonzero()
    # the times of the covered pairs (a stored 0 stays a pair at 0 seconds)
    T = sparse.csr_matrix((np.asarray(Tm[r, c]).ravel(), (r, c)), shape=C.shape)
    T.sort_indices()
    usable = np.zeros(C.shape[1], bool)
    usable[open_cols] = True
    rows = _reduce(T, w, usable, merge=not single_source, times="equal")
    if not rows.T.nnz:
        return F
    # the solver's own tolerance: F may serve a hair more than a site's capacity or a
    # cell's people (CBC: 3.00000001 people at a site of capacity 3), which no exact
    # assignment can match: scale such columns and rows back to what they may hold
    F = _within_limits(F, w, Q)
    target = float(F.sum())
    rules = check_site_rules(C.shape[1], open_cols)
    model = _build(rows, Q, open_cols, np.zeros(0, np.intp), rules,
                   single_source=single_source, sense=pulp.LpMinimize, objective="time",
                   assign="le", unassigned_cost=None, p=None, p_exact=False, budget=None,
                   costs=None, need=target)
    info = solve(model.prob, solver, time_limit=deadline.solver_limit())
    if info.status != OPTIMAL:
        return F
    out = _flows(rows, model, w, *C.shape)
    # served "as many" within the solvers' feasibility tolerance (CBC: ~1e-7 per row)
    return out if float(out.sum()) >= target - 1e-6 * max(1.0, target) else F


def _within_limits(F: sparse.csr_matrix, w: NDArray[np.float64],
                   Q: NDArray[np.float64]) -> sparse.csr_matrix:
    """Flows scaled back where a site serves more than its capacity or a cell sends more
    than its people (a solver's tolerance), so they are an exact assignment."""
    F = sparse.csr_matrix(F, dtype=float, copy=True)
    load = np.asarray(F.sum(axis=0)).ravel()
    over = np.isfinite(Q) & (load > Q)
    if over.any():
        scale = np.ones(F.shape[1])
        scale[over] = Q[over] / load[over]
        F = sparse.csr_matrix(F @ sparse.diags(scale))
    sent = np.asarray(F.sum(axis=1)).ravel()
    more = sent > w
    if more.any():
        scale = np.ones(F.shape[0])
        scale[more] = w[more] / sent[more]
        F = sparse.csr_matrix(sparse.diags(scale) @ F)
    return F


def capacitated_max_covering(
    coverage: ArrayLike | sparse.spmatrix,
    weights: ArrayLike,
    capacities: ArrayLike,
    *,
    p: int | None = None,
    budget: float | None = None,
    costs: ArrayLike | None = None,
    existing: ArrayLike | None = None,
    single_source: bool = False,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    times: ArrayLike | sparse.spmatrix | None = None,
    verbose: bool = False,
) -> Plan:
    r"""At most ``p`` new sites (and/or a budget): serve the most people within capacities.

    The capacitated maximal covering location problem (Current & Storbeck 1988; open in
    spopt as pysal/spopt#415): a person counts as covered only when *assigned* to an open
    site within the standard that has room for them. With the symbols of
    :mod:`geoplan.optimize.capacity` (:math:`R` = pairs within the standard):

    .. math::

        \max \sum_{(i,j) \in R} w_i x_{ij} \quad\text{s.t.}\quad
        \sum_{j:(i,j) \in R} x_{ij} \le 1,\;\; \sum_i w_i x_{ij} \le Q_j y_j,\;\;
        x_{ij} \le y_j,\;\; \sum_{j \in C} y_j \le p,\;\; \sum_{j \in C} c_j y_j \le B.

    ``covered_before`` is the same problem with no new site (what existing sites can
    serve within their capacities), solved exactly too.

    Parameters
    ----------
    coverage
        ``(demand, sites)`` matrix; a stored entry = the row is within the standard of
        the site (columns include existing sites).
    weights
        People per row.
    capacities
        People each site can serve (inf: no limit).
    p, budget, costs
        Most new sites; most total cost of new sites and each site's cost.
    existing
        Columns of existing (open) sites.
    single_source
        Every row to at most one site (binary assignment).
    solver, time_limit, gap, verbose, force_open, force_closed, max_new_per_unit, site_unit
        As in :func:`capacitated_p_median`.
    times
        Travel times of the pairs (any stored pattern covering ``coverage``'s). Many
        assignments serve the same people; with ``times`` the plan's is the one of least
        total travel time among them (a second solve with the chosen sites fixed: the
        sites and the people served are the proven optimum's). Without, the solver's.

    Returns
    -------
    Plan
        ``objective`` = ``covered_after`` = people served; ``details``: ``flows``,
        ``loads``, ``covered_rows`` (rows served in full).
    """
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    C, w, Q, ex, rules = _covering_inputs(coverage, weights, capacities, existing,
                                          _rules_kw(force_open, force_closed,
                                                    max_new_per_unit, site_unit))
    n, m = C.shape
    if p is None and budget is None:
        raise GeoplanInputError("give p (most new sites) and/or a budget", field="p")
    if p is not None and (isinstance(p, bool) or not isinstance(p, (int, np.integer))
                          or p < 0):
        raise GeoplanInputError(f"p must be a whole number >= 0, got {p!r}", field="p")
    c = None
    if budget is not None:
        if costs is None:
            raise GeoplanInputError("a budget needs the cost of every site", field="costs")
        c = _check_vector(costs, m, "costs")
    usable, cand = _usable(m, ex, rules)
    if p is not None and rules.force_open.size > p:
        raise GeoplanInputError(f"{rules.force_open.size} sites are forced open but p = {p}",
                                field="force_open")
    rows = _reduce(C, w, usable, merge=not single_source, times=None)
    before, _, f_before = _served_with(C, w, Q, ex, single_source=single_source,
                                       solver=solver, deadline=deadline)
    if f_before is not None:
        f_before = _site_flows(C, times, w, Q, ex, f_before, proven=True,
                               single_source=single_source, solver=solver, deadline=deadline)
    model = _build(rows, Q, ex, cand, rules, single_source=single_source,
                   sense=pulp.LpMaximize, objective="served", assign="le",
                   unassigned_cost=None, p=p, p_exact=False, budget=budget, costs=c, need=None)
    build_s = time.perf_counter() - t0
    info = _solve_model(model, solver, deadline, gap, verbose)
    total = float(w.sum())
    if not info.has_solution:
        plan = _no_solution("capacitated_max_covering", info, ex, build_s, total, rows,
                            single_source=single_source)
        plan.covered_before = before
        return plan
    chosen = _opened(model)
    F = _site_flows(C, times, w, Q, np.r_[ex, chosen].astype(np.intp),
                    _flows(rows, model, w, n, m), proven=info.status == OPTIMAL,
                    single_source=single_source, solver=solver, deadline=deadline)
    served = float(F.sum())
    info = with_true_objective(info, served)
    full = np.isclose(np.asarray(F.sum(axis=1)).ravel(), w, rtol=1e-9, atol=1e-9) & (w > 0)
    return Plan.from_solve(
        "capacitated_max_covering", info, selected=chosen, existing=ex, build_s=build_s,
        covered_before=before, covered_after=served, total_demand=total,
        assignment=_main_site(F), reduction=rows.reduction,
        details={"flows": F, "flows_before": f_before, "loads": capacity_loads(F, Q),
                 "covered_rows": full,
                 "single_source": single_source, **rules.details()})


def capacitated_set_covering(
    coverage: ArrayLike | sparse.spmatrix,
    weights: ArrayLike,
    capacities: ArrayLike,
    *,
    target_share: float = 1.0,
    costs: ArrayLike | None = None,
    existing: ArrayLike | None = None,
    single_source: bool = False,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    times: ArrayLike | sparse.spmatrix | None = None,
    verbose: bool = False,
) -> Plan:
    r"""Fewest (or cheapest) new sites so that a share of people is served within capacities.

    The capacitated location set covering problem (Current & Storbeck 1988): with the
    symbols of :mod:`geoplan.optimize.capacity` (:math:`R` = pairs within the standard),

    .. math::

        \min \sum_{j \in C} c_j y_j \quad\text{s.t.}\quad
        \sum_{j:(i,j) \in R} x_{ij} \le 1,\;\; \sum_{(i,j) \in R} w_i x_{ij} \ge \alpha W,
        \;\; \sum_i w_i x_{ij} \le Q_j y_j,\;\; x_{ij} \le y_j,

    :math:`W = \sum_i w_i`, :math:`\alpha` = ``target_share`` (:math:`c_j = 1` without
    costs: fewest sites). A target beyond what every candidate together can serve is
    reported as ``"infeasible"`` with the most that can be served.

    Parameters
    ----------
    coverage, weights, capacities, existing, single_source, times
        As in :func:`capacitated_max_covering`.
    target_share
        Share of all people that must be served (0-1].
    costs
        Cost per site (None: count sites).
    solver, time_limit, gap, verbose, force_open, force_closed, max_new_per_unit, site_unit
        As in :func:`capacitated_p_median`.

    Returns
    -------
    Plan
        ``objective`` = sites (or cost) of the new sites; ``covered_after`` = people
        served; ``details["flows"]``, ``details["loads"]``.
    """
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    C, w, Q, ex, rules = _covering_inputs(coverage, weights, capacities, existing,
                                          _rules_kw(force_open, force_closed,
                                                    max_new_per_unit, site_unit))
    n, m = C.shape
    if not (0.0 < float(target_share) <= 1.0):
        raise GeoplanInputError(f"target_share must be in (0, 1], got {target_share!r}",
                                field="target_share")
    c = np.ones(m) if costs is None else _check_vector(costs, m, "costs")
    usable, cand = _usable(m, ex, rules)
    total = float(w.sum())
    need = float(target_share) * total
    rows = _reduce(C, w, usable, merge=not single_source, times=None)
    before, _, f_before = _served_with(C, w, Q, ex, single_source=single_source,
                                       solver=solver, deadline=deadline)
    if f_before is not None:
        f_before = _site_flows(C, times, w, Q, ex, f_before, proven=True,
                               single_source=single_source, solver=solver, deadline=deadline)
    # scale the target by a hair below so a plan serving exactly the share is feasible
    tol = 1e-9 * max(1.0, total)
    model = _build(rows, Q, ex, cand, rules, single_source=single_source,
                   sense=pulp.LpMinimize, objective="cost", assign="le",
                   unassigned_cost=None, p=None, p_exact=False, budget=None, costs=c,
                   need=need - tol)
    build_s = time.perf_counter() - t0
    info = _solve_model(model, solver, deadline, gap, verbose)
    if not info.has_solution:
        plan = _no_solution("capacitated_set_covering", info, ex, build_s, total, rows,
                            single_source=single_source)
        plan.covered_before = before
        if info.status == INFEASIBLE:
            best, _, _ = _served_with(C, w, Q, np.flatnonzero(usable).astype(np.intp),
                                   single_source=single_source, solver=solver,
                                   deadline=deadline)
            plan.explanation = (f"at most {best:,.0f} of {total:,.0f} people "
                                f"({best / total if total else math.nan:.2%}) can be served "
                                f"within the standard and the capacities with every "
                                f"candidate open; the target is {target_share:.2%}")
            plan.details["most_served"] = best
        return plan
    chosen = _opened(model)
    F = _site_flows(C, times, w, Q, np.r_[ex, chosen].astype(np.intp),
                    _flows(rows, model, w, n, m), proven=info.status == OPTIMAL,
                    single_source=single_source, solver=solver, deadline=deadline)
    served = float(F.sum())
    info = with_true_objective(info, float(c[chosen].sum()))
    full = np.isclose(np.asarray(F.sum(axis=1)).ravel(), w, rtol=1e-9, atol=1e-9) & (w > 0)
    return Plan.from_solve(
        "capacitated_set_covering", info, selected=chosen, existing=ex, build_s=build_s,
        covered_before=before, covered_after=served, total_demand=total,
        assignment=_main_site(F), reduction=rows.reduction,
        details={"flows": F, "flows_before": f_before, "loads": capacity_loads(F, Q),
                 "covered_rows": full,
                 "single_source": single_source, **rules.details()})


# ------------------------------------------------------------------------ GIS doors

#: People one hospital bed serves by default: the norm of 7 beds per 1,000 residents.
PERSONS_PER_BED = 1000.0 / 7.0


def site_capacities(problem: Any, *, persons_per_bed: float = PERSONS_PER_BED,
                    new_site_capacity: float | None = None) -> NDArray[np.float64]:
    """People each site of a :class:`~geoplan.optimize.gis.SiteProblem` can serve.

    An existing site: its ``capacity`` column where given, else ``beds x
    persons_per_bed``. A candidate: its ``capacity`` column where given, else
    ``new_site_capacity`` (what the new or upgraded site will serve), else its
    ``beds x persons_per_bed`` (an upgraded facility keeping its beds).

    Parameters
    ----------
    problem
        The site problem.
    persons_per_bed
        People one bed serves (default 1,000 / 7).
    new_site_capacity
        People a new site serves where the candidate has no capacity of its own.

    Returns
    -------
    numpy.ndarray
        One capacity per site column.

    Raises
    ------
    GeoplanInputError
        Naming the sites left without a capacity and what to give them.
    """
    if not (math.isfinite(persons_per_bed) and persons_per_bed > 0):
        raise GeoplanInputError(f"persons_per_bed must be > 0, got {persons_per_bed!r}",
                                field="persons_per_bed")
    s = problem.sites
    n = len(s)
    cap = (pd.to_numeric(s["capacity"], errors="coerce").to_numpy(float)
           if "capacity" in s.columns else np.full(n, np.nan))
    beds = (pd.to_numeric(s["beds"], errors="coerce").to_numpy(float)
            if "beds" in s.columns else np.full(n, np.nan))
    is_cand = np.ones(n, bool)
    is_cand[problem.existing] = False
    out = cap.copy()
    if new_site_capacity is not None:
        if not (math.isfinite(new_site_capacity) and new_site_capacity > 0):
            raise GeoplanInputError(f"new_site_capacity must be > 0, got {new_site_capacity!r}",
                                    field="new_site_capacity")
        out = np.where(np.isnan(out) & is_cand, float(new_site_capacity), out)
    out = np.where(np.isnan(out), beds * persons_per_bed, out)
    bad = np.flatnonzero(np.isnan(out) | (out < 0))
    if bad.size:
        ids = ", ".join(str(v) for v in s["site_id"].iloc[bad[:5]])
        cand_missing = bool(is_cand[bad].any())
        raise GeoplanInputError(
            f"{bad.size:,} site(s) have no capacity (e.g. {ids}): neither a capacity nor "
            "beds column value", field="capacity",
            hint=("give new sites a capacity (new_site_capacity = <people>) or the "
                  "candidates layer a capacity column" if cand_missing else
                  "give the facilities a capacity or beds value"))
    return out


def _minutes_matrix(problem: Any, minutes: float | None) -> tuple[sparse.csr_matrix, float]:
    cutoff = float(problem.cutoff_s) / 60.0
    lim = cutoff if minutes is None else float(minutes)
    if not (0 < lim <= cutoff * (1 + 1e-12)):
        raise GeoplanInputError(f"minutes must be in (0, {cutoff:g}] (the problem's cut-off), "
                                f"got {minutes!r}", field="minutes")
    tm = sparse.csr_matrix(problem.times, dtype=np.float64, copy=True)
    tm.data = tm.data / 60.0
    return tm, lim


def _served_share(F: sparse.spmatrix | None, w: NDArray[np.float64]) -> NDArray[np.float64]:
    if F is None:
        return np.zeros(w.size)
    served = np.asarray(sparse.csr_matrix(F).sum(axis=1)).ravel()
    return np.where(w > 0, served / np.where(w > 0, w, 1.0), 0.0)


def _gis_capacity_finish(problem: Any, plan: Plan, Q: NDArray[np.float64],
                         before: NDArray[np.float64], after: NDArray[np.float64],
                         **details: Any) -> Plan:
    from .gis import coverage_by_unit, plan_sites

    plan.by_unit = coverage_by_unit(problem, before, after)
    plan.details.update(mode=problem.mode, capacities=Q, **details)
    if "cell_id" in problem.cells.columns:
        # the share of each cell's people served, for the plan's maps
        plan.details["served_share"] = pd.DataFrame({
            "cell_id": problem.cells["cell_id"].to_numpy(), "before": before,
            "after": after})
    if plan.feasible:
        sites = plan_sites(problem, plan)
        loads = plan.details["loads"]
        idx = np.r_[plan.existing, plan.selected].astype(np.intp)
        sites["capacity"] = Q[idx]
        sites["served"] = loads["served"].to_numpy()[idx]
        sites["use"] = loads["use"].to_numpy()[idx]
        plan.sites = sites
    return plan


def capacitated_p_median_from_problem(
    problem: Any, p: int, *, minutes: float | None = None,
    unassigned_minutes: float | None = None, persons_per_bed: float = PERSONS_PER_BED,
    new_site_capacity: float | None = None, single_source: bool = False,
    force_open: Any = None, force_closed: Any = None,
    max_new_per_unit: int | Mapping[str, int] | None = None, **solve_kw: Any) -> Plan:
    """:func:`capacitated_p_median` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    Demand is assigned to sites within the problem's cut-off, never beyond a site's
    capacity (:func:`site_capacities`); people no site within the cut-off can take are
    charged ``unassigned_minutes`` (default: the cut-off) and counted in
    ``details["unassigned"]``.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    p
        New sites to open.
    minutes
        Time standard for the coverage figures (people served by a site within it);
        default: the cut-off.
    unassigned_minutes
        Minutes charged per person left unassigned.
    persons_per_bed, new_site_capacity
        See :func:`site_capacities`.
    single_source
        Every cell to one site.
    force_open, force_closed, max_new_per_unit
        Site rules with candidate ids.
    **solve_kw
        ``solver``, ``time_limit``, ``gap``, ``verbose``.

    Returns
    -------
    Plan
        Objective in person-minutes; ``by_unit`` (people served within ``minutes``
        before/after, as shares), ``sites`` with ``capacity``, ``served`` and ``use``.
    """
    from .covering import gis_site_rules

    tm, lim = _minutes_matrix(problem, minutes)
    cutoff = float(problem.cutoff_s) / 60.0
    u = cutoff if unassigned_minutes is None else float(unassigned_minutes)
    Q = site_capacities(problem, persons_per_bed=persons_per_bed,
                        new_site_capacity=new_site_capacity)
    w = np.asarray(problem.demand, float)
    plan = capacitated_p_median(tm, w, p, Q, existing=problem.existing,
                                single_source=single_source, unassigned_time=u,
                                **gis_site_rules(problem, force_open, force_closed,
                                                 max_new_per_unit), **solve_kw)
    if not plan.feasible:
        return plan
    F = plan.details["flows"]
    mask = tm.copy()
    mask.data = (tm.data <= lim * (1 + 1e-12)).astype(float)
    within = sparse.csr_matrix(F.multiply(mask))
    # before: what the existing sites serve within the standard and their capacities
    C = problem.coverage(lim)
    before, _, f_before = _served_with(C, w, Q, plan.existing, single_source=single_source,
                                       solver=solve_kw.get("solver"),
                                       deadline=Deadline(solve_kw.get("time_limit")))
    plan.covered_before = before
    plan.covered_after = float(within.sum())
    return _gis_capacity_finish(problem, plan, Q, _served_share(f_before, w),
                                _served_share(within, w), minutes=lim,
                                unassigned_minutes=u)


def capacitated_max_covering_from_problem(
    problem: Any, minutes: float | ArrayLike, *, p: int | None = None,
    budget: float | None = None, persons_per_bed: float = PERSONS_PER_BED,
    new_site_capacity: float | None = None, single_source: bool = False,
    force_open: Any = None, force_closed: Any = None,
    max_new_per_unit: int | Mapping[str, int] | None = None, **solve_kw: Any) -> Plan:
    """:func:`capacitated_max_covering` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    minutes
        Time standard (or one per cell).
    p, budget
        Most new sites; most total cost (the candidates' ``cost``).
    persons_per_bed, new_site_capacity
        See :func:`site_capacities`.
    single_source
        Every cell to one site.
    force_open, force_closed, max_new_per_unit
        Site rules with candidate ids.
    **solve_kw
        ``solver``, ``time_limit``, ``gap``, ``verbose``.

    Returns
    -------
    Plan
        ``by_unit`` with the share of people served within the standard and capacities.
    """
    from .covering import _site_costs, gis_site_rules

    C = problem.coverage(minutes)
    Q = site_capacities(problem, persons_per_bed=persons_per_bed,
                        new_site_capacity=new_site_capacity)
    costs = _site_costs(problem) if budget is not None else None
    if budget is not None and costs is None:
        raise GeoplanInputError("a budget needs candidate costs", field="cost",
                                hint="give the candidates a cost column")
    w = np.asarray(problem.demand, float)
    plan = capacitated_max_covering(C, w, Q, p=p, budget=budget, costs=costs,
                                    existing=problem.existing, single_source=single_source,
                                    times=problem.times,
                                    **gis_site_rules(problem, force_open, force_closed,
                                                     max_new_per_unit), **solve_kw)
    return _gis_capacity_finish(
        problem, plan, Q, _served_share(plan.details.get("flows_before"), w),
        _served_share(plan.details.get("flows"), w) if plan.feasible else
        _served_share(plan.details.get("flows_before"), w),
        minutes=minutes if np.ndim(minutes) == 0 else "per cell")


def capacitated_set_covering_from_problem(
    problem: Any, minutes: float | ArrayLike, *, target_share: float = 1.0,
    use_costs: bool = False, persons_per_bed: float = PERSONS_PER_BED,
    new_site_capacity: float | None = None, single_source: bool = False,
    force_open: Any = None, force_closed: Any = None,
    max_new_per_unit: int | Mapping[str, int] | None = None, **solve_kw: Any) -> Plan:
    """:func:`capacitated_set_covering` on a :class:`~geoplan.optimize.gis.SiteProblem`.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    minutes
        Time standard (or one per cell).
    target_share
        Share of people to be served within the standard and capacities.
    use_costs
        Minimise the candidates' cost instead of their number.
    persons_per_bed, new_site_capacity, single_source, force_open, force_closed,
    max_new_per_unit, **solve_kw
        As in :func:`capacitated_max_covering_from_problem`.

    Returns
    -------
    Plan
    """
    from .covering import _site_costs, gis_site_rules

    C = problem.coverage(minutes)
    Q = site_capacities(problem, persons_per_bed=persons_per_bed,
                        new_site_capacity=new_site_capacity)
    w = np.asarray(problem.demand, float)
    plan = capacitated_set_covering(C, w, Q, target_share=target_share,
                                    costs=_site_costs(problem) if use_costs else None,
                                    existing=problem.existing, single_source=single_source,
                                    times=problem.times,
                                    **gis_site_rules(problem, force_open, force_closed,
                                                     max_new_per_unit), **solve_kw)
    return _gis_capacity_finish(
        problem, plan, Q, _served_share(plan.details.get("flows_before"), w),
        _served_share(plan.details.get("flows"), w) if plan.feasible else
        _served_share(plan.details.get("flows_before"), w),
        minutes=minutes if np.ndim(minutes) == 0 else "per cell")

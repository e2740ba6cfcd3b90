r"""Tiered plans: a hierarchy of facilities with referral between tiers.

Why: the district plan "一五十百" - 1 regional medical hub, 5 hospitals, 10 basic medical
centres, 100 grassroots points - is a *system*: a facility of a tier also provides every
lower tier's service (a hospital also does what a basic centre does), each tier has its
own service standard, and every facility must be within reach of one of the tier above
it, so that patients can be referred up. Planning the tiers one at a time misses all of
that.

Model (successively inclusive hierarchical maximal covering, Moore & ReVelle 1982, with
referral as covering constraints between facility sets). Tiers :math:`l = 1..L`
(1 = top); sites :math:`j` (existing facilities and candidates); demand rows :math:`i`
with people :math:`w_i`; :math:`N_{ik}` the sites within tier :math:`k`'s standard of row
:math:`i`; :math:`M_{jl}` the sites within tier :math:`l`'s referral reach of site
:math:`j`. Variables :math:`x_{jl} \in \{0,1\}` (site :math:`j` runs at tier
:math:`l`), :math:`y_{ik} \in [0,1]` (row :math:`i` has tier-:math:`k` service).

.. math::

    \max \sum_k \alpha_k \sum_i w_i y_{ik} \quad\text{s.t.}\quad
    y_{ik} \le \sum_{j \in N_{ik}} \sum_{l \le k} x_{jl},\qquad
    \sum_l x_{jl} \le 1,\qquad
    \underline n_l \le \sum_j x_{jl} \le \overline n_l,\\
    x_{jl} \le \sum_{j' \in M_{jl}} \sum_{l' < l} x_{j'l'} \quad (l > 1),\qquad
    \sum_{l \le e_j} x_{jl} = 1 \ \text{(existing site of tier } e_j\text{: it stays, at}
    \text{ its tier or above)},\qquad x_{jl} = 0 \ (l \text{ not allowed at } j).

:math:`\alpha_k` weighs tier :math:`k`'s coverage (default 1 each). Counts are of
facilities at each tier, existing included ("1 hub, 5 hospitals, ..."); an exact count
sets :math:`\underline n_l = \overline n_l`. Rows with the same covering sets at a
tier are merged (exact): each tier's rows separately, over the sites that may run at
that tier or above, with rows an existing facility of that tier or above covers counted
as constants.

Costs :math:`c_{jl}` (designating or upgrading an existing facility, building a new
site; an existing site kept at its own tier costs nothing) enter as a budget
:math:`\sum c_{jl} x_{jl} \le B`, or as the objective of the **least-cost plan** that
reaches per-tier coverage targets :math:`s_k`:

.. math::

    \min \sum_{j,l} c_{jl} x_{jl} \quad\text{s.t.}\quad
    \sum_i w_i y_{ik} \ge s_k \sum_i w_i \ (k \text{ with a target}),

with the same covering, count, referral and existing-site rows. Targets may also be
given with the coverage objective (floors per tier). Site rules: a forced site runs at
some tier (:math:`\sum_l x_{jl} = 1`), a closed one at none. Solved as one MILP through
:func:`geoplan.optimize.solver.solve`: "optimal" only when the solver proves it; when
the rules cannot hold together the plan is infeasible and ``explanation`` names the
tier and rule at fault (:func:`explain_tiers`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError

from .plan import Plan, Reduction
from .solver import Deadline, SolveInfo, solve, with_true_objective

__all__ = ["explain_tiers", "tiered_plan", "tiered_plan_from_problems"]


def _bool_csr(m: Any, shape: tuple[int, int] | None, name: str) -> sparse.csr_matrix:
    try:
        M = sparse.csr_matrix(m).astype(bool).astype(np.int8)
    except (TypeError, ValueError) as exc:
        raise GeoplanInputError(f"{name} must be a matrix: {exc}", field=name) from None
    if shape is not None and M.shape != shape:
        raise GeoplanInputError(f"{name} has shape {M.shape}, expected {shape}", field=name)
    M.eliminate_zeros()
    M.sort_indices()
    return M


def tiered_plan(
    coverage: Sequence[ArrayLike | sparse.spmatrix],
    weights: ArrayLike,
    *,
    counts: Sequence[int | tuple[int, int]],
    referral: Sequence[ArrayLike | sparse.spmatrix | None] | None = None,
    existing_tier: ArrayLike | None = None,
    allowed: ArrayLike | None = None,
    tier_weights: Sequence[float] | None = None,
    objective: str = "coverage",
    costs: ArrayLike | None = None,
    budget: float | None = None,
    min_share: Sequence[float | None] | None = None,
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    verbose: bool = False,
) -> Plan:
    """Assign sites to tiers so the weighted coverage of every tier's service is largest.

    Parameters
    ----------
    coverage
        One ``(demand, sites)`` boolean matrix per tier, top tier first: site ``j``
        serves row ``i`` within tier ``k``'s standard.
    weights
        People per demand row.
    counts
        Facilities per tier, existing included: an int (exactly) or ``(least, most)``.
    referral
        Per tier, a ``(sites, sites)`` boolean matrix: ``[j, j']`` when site ``j'`` lies
        within tier ``l``'s referral reach of site ``j`` (a tier-``l`` facility at ``j``
        needs one of a higher tier at such a ``j'``); None for the top tier or a tier
        without referral.
    existing_tier
        Per site, its current tier (1-based; 0 or negative: not a facility today). An
        existing site stays open at its tier or a higher one.
    allowed
        ``(sites, tiers)`` boolean: which tiers a site may take (default all; an existing
        site may always keep its tier).
    tier_weights
        Weight of each tier's coverage in the objective (default 1 each).
    objective
        ``"coverage"`` (most weighted coverage) or ``"cost"`` (least cost reaching the
        ``min_share`` targets).
    costs
        ``(sites, tiers)``: cost of site ``j`` running at tier ``l`` (an existing site
        at its own tier costs 0 whatever is given). Required by ``budget`` and the cost
        objective; NaN where the site may not take the tier.
    budget
        Most total cost (coverage objective).
    min_share
        Per tier, the least covered share of demand (None: no target).
    force_open, force_closed
        Site indices that must run at some tier / at none (an existing facility cannot
        be closed).
    solver, time_limit, gap, verbose
        See :func:`geoplan.optimize.solver.solve`.

    Returns
    -------
    Plan
        ``details["tier"]``: the tier of every site (0: closed); ``details["tiers"]``:
        per tier its facilities (existing kept, upgraded, new) and people covered;
        ``selected`` = sites that are new or change tier; ``objective`` = the weighted
        coverage (coverage objective) or the cost (cost objective);
        ``details["cost"]``: the plan's cost where costs are given. An infeasible plan
        carries :func:`explain_tiers`' table in ``explanation``.

    Raises
    ------
    GeoplanInputError
        For malformed inputs or counts that cannot hold (e.g. more existing facilities
        than a tier's maximum can take anywhere).
    """
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    t = _check(coverage, weights, counts, referral, existing_tier, allowed, tier_weights,
               objective, costs, budget, min_share, force_open, force_closed)
    red = Reduction(demand_in=t.n, demand_out=t.groups, candidates_in=t.m,
                    candidates_out=t.m)
    explanation = explain_tiers(t.C, t.w, t.bounds, t.R, t.e, t.A, t.targets)
    if explanation is not None:
        return _infeasible_plan(explanation, t, red, time.perf_counter() - t0)
    prob, x = _model(t, budget)
    build_s = time.perf_counter() - t0
    info = solve(prob, solver, time_limit=deadline.solver_limit(), gap=gap, msg=verbose)
    tier = np.zeros(t.m, np.int64)
    if info.has_solution:
        for (j, k), v in x.items():
            if (v.varValue or 0.0) > 0.5:
                tier[j] = k + 1
    return _answer(t, info, tier, red, build_s)


@dataclass
class _TierRows:
    """One tier's rows as the MILP sees them (exact): rows an existing facility of that
    tier or above covers are constants (``fixed`` people); the others, restricted to the
    sites that may run at that tier or above, merged when their site sets are equal."""

    A: sparse.csr_matrix                     # (groups, sites) coverage of the merged rows
    w: NDArray[np.float64]                   # people per merged row
    fixed: float                             # people always covered at this tier


def _tier_rows(C: sparse.csr_matrix, w: NDArray[np.float64], e: NDArray[np.int64],
               A: NDArray[np.bool_], k: int) -> _TierRows:
    """Tier ``k`` (0-based)'s open rows, merged (see :class:`_TierRows`)."""
    from .reduce import _row_keys
    keep = (e > 0) & (e <= k + 1)                       # existing, serve tier k for sure
    fixed = (np.asarray(C[:, np.flatnonzero(keep)].sum(axis=1)).ravel() > 0) \
        if keep.any() else np.zeros(w.size, bool)
    can = A[:, :k + 1].any(axis=1) & ~keep
    sub = C[:, np.flatnonzero(can)].tocsr() if can.any() else sparse.csr_matrix((w.size, 0))
    live = ~fixed & (w > 0) & (np.diff(sub.indptr) > 0)
    idx = np.flatnonzero(live)
    if not idx.size:
        return _TierRows(sparse.csr_matrix((0, C.shape[1]), dtype=np.int8), np.zeros(0),
                         float(w[fixed].sum()))
    rows = C[idx][:, np.flatnonzero(can)].tocsr()
    group = _row_keys(rows, None)
    G = int(group.max()) + 1  # noqa: N806
    first = np.zeros(G, np.intp)
    first[group[::-1]] = np.arange(idx.size)[::-1]
    merged = rows[first]
    cols = np.flatnonzero(can)
    out = sparse.csr_matrix((merged.data, cols[merged.indices], merged.indptr),
                            shape=(G, C.shape[1]))
    return _TierRows(out, np.bincount(group, weights=w[idx], minlength=G),
                     float(w[fixed].sum()))


@dataclass
class _Tiers:
    """A tiered plan's checked inputs (see :func:`tiered_plan`), rows grouped."""

    C: list[sparse.csr_matrix]               # per tier, (rows, sites) coverage
    w: NDArray[np.float64]                   # people per row
    bounds: list[tuple[int, int]]            # per tier, least and most facilities
    R: list[sparse.csr_matrix | None]        # per tier, (sites, sites) referral reach
    e: NDArray[np.int64]                     # per site, its tier today (0: none)
    A: NDArray[np.bool_]                     # (sites, tiers) may take
    alpha: NDArray[np.float64]               # per tier, weight of its coverage
    objective: str
    cost: NDArray[np.float64] | None         # (sites, tiers), 0 where not allowed
    targets: list[float | None]              # per tier, least covered share
    forced: set[int]                         # sites that must run at some tier
    rows: list[_TierRows]                    # per tier, its merged open rows

    @property
    def n(self) -> int:
        return int(self.w.size)

    @property
    def m(self) -> int:
        return int(self.A.shape[0])

    @property
    def L(self) -> int:  # noqa: N802 - the number of tiers, as in the maths
        return len(self.C)

    @property
    def groups(self) -> int:
        return sum(r.w.size for r in self.rows)

    @property
    def total(self) -> float:
        return float(self.w.sum())


def _check_counts(counts: Sequence[Any], L: int) -> list[tuple[int, int]]:  # noqa: N803
    if len(counts) != L:
        raise GeoplanInputError(f"counts has {len(counts)} entries for {L} tiers",
                                field="counts")
    bounds = []
    for k, c in enumerate(counts):
        lo, hi = (c, c) if isinstance(c, int | np.integer) else tuple(c)
        if int(lo) != lo or int(hi) != hi or lo < 0 or hi < lo:
            raise GeoplanInputError(f"counts[{k}] = {c!r}: a whole number, or (least, most) "
                                    "with 0 <= least <= most", field="counts")
        bounds.append((int(lo), int(hi)))
    return bounds


def _check_referral(referral: Sequence[Any] | None, L: int,  # noqa: N803
                    m: int) -> list[sparse.csr_matrix | None]:
    R: list[sparse.csr_matrix | None] = [None] * L
    if referral is None:
        return R
    if len(referral) != L:
        raise GeoplanInputError(f"referral has {len(referral)} entries for {L} tiers",
                                field="referral")
    for k, r in enumerate(referral):
        if r is not None:
            if k == 0:
                raise GeoplanInputError("the top tier refers to no one: referral[0] "
                                        "must be None", field="referral")
            R[k] = _bool_csr(r, (m, m), f"referral[{k}]")
    return R


def _check_costs(costs: ArrayLike | None, A: NDArray[np.bool_], e: NDArray[np.int64],
                 objective: str, budget: float | None) -> NDArray[np.float64] | None:
    """Costs per site and tier (``A`` loses the NaN entries; keeping a tier is free)."""
    if objective not in ("coverage", "cost"):
        raise GeoplanInputError(f"unknown objective {objective!r}", field="objective",
                                hint="use 'coverage' or 'cost'")
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        raise GeoplanInputError(f"budget must be a finite number >= 0, got {budget!r}",
                                field="budget")
    if costs is None:
        if objective == "cost" or budget is not None:
            raise GeoplanInputError("a cost objective or a budget needs costs",
                                    field="costs", hint="give costs per site and tier")
        return None
    cost = np.array(costs, float)
    if cost.shape != A.shape:
        raise GeoplanInputError(f"costs has shape {cost.shape}, expected {A.shape}",
                                field="costs")
    if (cost < 0).any() or np.isinf(cost).any():
        raise GeoplanInputError("costs must be finite and >= 0 (NaN: the site may not "
                                "take that tier)", field="costs")
    A &= ~np.isnan(cost)
    for j in np.flatnonzero(e > 0):           # keeping a facility's own tier is free
        cost[j, e[j] - 1] = 0.0
        A[j, e[j] - 1] = True
    return np.nan_to_num(cost)


def _check_rules(force_open: ArrayLike | None, force_closed: ArrayLike | None,
                 A: NDArray[np.bool_], e: NDArray[np.int64]) -> set[int]:
    """Forced sites (returned) and closed ones (``A`` loses them)."""
    m = A.shape[0]
    forced = np.unique(np.asarray([] if force_open is None else force_open, np.intp))
    closed = np.unique(np.asarray([] if force_closed is None else force_closed, np.intp))
    for name, ids in (("force_open", forced), ("force_closed", closed)):
        if ids.size and (ids.min() < 0 or ids.max() >= m):
            raise GeoplanInputError(f"{name} holds a site index outside 0..{m - 1}",
                                    field=name)
    if np.intersect1d(forced, closed).size:
        raise GeoplanInputError("a site is both forced open and closed", field="force_closed")
    if (e[closed] > 0).any():
        raise GeoplanInputError("an existing facility cannot be closed by a tiered plan "
                                "(it stays at its tier or above)", field="force_closed")
    A[closed] = False
    for j in forced.tolist():
        if not A[j].any():
            raise GeoplanInputError(f"site {j} is forced open but may take no tier",
                                    field="force_open",
                                    hint="allow it a tier, or remove it from force_open")
    return set(forced.tolist())


def _check(coverage: Sequence[Any], weights: ArrayLike, counts: Sequence[Any],
           referral: Sequence[Any] | None, existing_tier: ArrayLike | None,
           allowed: ArrayLike | None, tier_weights: Sequence[float] | None, objective: str,
           costs: ArrayLike | None, budget: float | None,
           min_share: Sequence[float | None] | None, force_open: ArrayLike | None,
           force_closed: ArrayLike | None) -> _Tiers:
    L = len(coverage)  # noqa: N806
    if L < 1:
        raise GeoplanInputError("give at least one tier", field="coverage")
    C = [_bool_csr(coverage[0], None, "coverage[0]")]
    n, m = C[0].shape
    C += [_bool_csr(coverage[k], (n, m), f"coverage[{k}]") for k in range(1, L)]
    w = np.asarray(weights, float).ravel()
    if w.shape != (n,) or not np.all(np.isfinite(w)) or (w < 0).any():
        raise GeoplanInputError("weights must be one finite number >= 0 per row",
                                field="weights")
    bounds = _check_counts(counts, L)
    R = _check_referral(referral, L, m)
    e = (np.zeros(m, np.int64) if existing_tier is None
         else np.asarray(existing_tier, np.int64).ravel())
    if e.shape != (m,) or e.max(initial=0) > L:
        raise GeoplanInputError(f"existing_tier needs one value per site, at most {L}",
                                field="existing_tier")
    A = (np.ones((m, L), bool) if allowed is None else np.asarray(allowed, bool))
    if A.shape != (m, L):
        raise GeoplanInputError(f"allowed has shape {A.shape}, expected ({m}, {L})",
                                field="allowed")
    A = A.copy()
    for j in np.flatnonzero(e > 0):
        A[j, e[j] - 1] = True                   # an existing site may keep its tier
        A[j, e[j]:] = False                     # ... and never goes down
    alpha = np.ones(L) if tier_weights is None else np.asarray(tier_weights, float)
    if alpha.shape != (L,) or not np.all(np.isfinite(alpha)) or (alpha < 0).any():
        raise GeoplanInputError("tier_weights needs one number >= 0 per tier",
                                field="tier_weights")
    cost = _check_costs(costs, A, e, objective, budget)
    targets = [None] * L if min_share is None else list(min_share)
    if len(targets) != L or any(s is not None and not 0 <= s <= 1 for s in targets):
        raise GeoplanInputError("min_share needs one share in [0, 1] (or None) per tier",
                                field="min_share")
    forced = _check_rules(force_open, force_closed, A, e)
    rows = [_tier_rows(C[k], w, e, A, k) for k in range(L)]
    return _Tiers(C=C, w=w, bounds=bounds, R=R, e=e, A=A, alpha=alpha, objective=objective,
                  cost=cost, targets=targets, forced=forced, rows=rows)


def _model(t: _Tiers, budget: float | None) -> tuple[pulp.LpProblem, dict[Any, Any]]:
    """The MILP of the module docstring on the grouped rows."""
    L, m = t.L, t.m  # noqa: N806
    sense = pulp.LpMaximize if t.objective == "coverage" else pulp.LpMinimize
    prob = pulp.LpProblem("tiered", sense)
    x = {(j, k): pulp.LpVariable(f"x{j}_{k}", cat="Binary")
         for j in range(m) for k in range(L) if t.A[j, k]}
    need_y = [(t.objective == "coverage" and t.alpha[k] > 0) or t.targets[k] is not None
              for k in range(L)]
    y = {(g, k): pulp.LpVariable(f"y{g}_{k}", 0, 1) for k in range(L) if need_y[k]
         for g in range(t.rows[k].w.size)}
    spend = (pulp.LpAffineExpression([(v, float(t.cost[j, k])) for (j, k), v in x.items()
                                      if t.cost[j, k] != 0]) if t.cost is not None else None)
    if t.objective == "coverage":
        prob += pulp.LpAffineExpression(
            [(v, float(t.alpha[k] * t.rows[k].w[g])) for (g, k), v in y.items()
             if t.alpha[k] > 0]) + float(sum(t.alpha[k] * t.rows[k].fixed for k in range(L)))
    else:
        prob += spend
    for (g, k), v in y.items():
        Ak = t.rows[k].A  # noqa: N806
        sites = Ak.indices[Ak.indptr[g]:Ak.indptr[g + 1]]
        expr = pulp.LpAffineExpression([(x[j, up], 1.0) for j in sites.tolist()
                                        for up in range(k + 1) if (j, up) in x])
        expr.addterm(v, -1.0)
        prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"cov{g}_{k}", 0.0)
    for k, share in enumerate(t.targets):
        if share is not None:
            r = t.rows[k]
            prob += (pulp.LpAffineExpression([(y[g, k], float(r.w[g]))
                                              for g in range(r.w.size)])
                     >= share * t.total - r.fixed - 1e-9 * max(t.total, 1.0)), f"target{k}"
    if budget is not None and spend is not None:
        prob += spend <= budget, "budget"
    for j in range(m):
        own = [x[j, k] for k in range(L) if (j, k) in x]
        if t.e[j] > 0 or j in t.forced:
            prob += pulp.lpSum(own) == 1, f"keep{j}"
        elif len(own) > 1:
            prob += pulp.lpSum(own) <= 1, f"one{j}"
    for k, (lo, hi) in enumerate(t.bounds):
        at = [x[j, k] for j in range(m) if (j, k) in x]
        prob += pulp.lpSum(at) >= lo, f"least{k}"
        prob += pulp.lpSum(at) <= hi, f"most{k}"
    for k in range(1, L):
        Rk = t.R[k]  # noqa: N806
        if Rk is None:
            continue
        for j in range(m):
            if (j, k) not in x:
                continue
            near = Rk.indices[Rk.indptr[j]:Rk.indptr[j + 1]]
            expr = pulp.LpAffineExpression([(x[jj, up], 1.0) for jj in near.tolist()
                                            for up in range(k) if (jj, up) in x])
            expr.addterm(x[j, k], -1.0)
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"ref{j}_{k}", 0.0)
    return prob, x


def _answer(t: _Tiers, info: SolveInfo, tier: NDArray[np.int64], red: Reduction,
            build_s: float) -> Plan:
    """The plan of a solve: its tiers, their coverage and cost, valued by the plan itself."""
    covered = _covered_by(t.C, tier)
    before = _covered_by(t.C, np.where(t.e > 0, t.e, 0))
    w, total, cost = t.w, t.total, t.cost
    spent = (float(sum(cost[j, tier[j] - 1] for j in np.flatnonzero(tier > 0)))
             if cost is not None else math.nan)
    if info.has_solution:
        value = (float(sum(t.alpha[k] * w[covered[:, k]].sum() for k in range(t.L)))
                 if t.objective == "coverage" else spent)
        info = with_true_objective(info, value)
    changed = np.flatnonzero((tier > 0) & (tier != t.e))
    rows = []
    for k in range(t.L):
        at = tier == k + 1
        rows.append({"tier": k + 1, "facilities": int(at.sum()),
                     "kept": int((at & (t.e == k + 1)).sum()),
                     "upgraded": int((at & (t.e > k + 1)).sum()),
                     "new": int((at & (t.e <= 0)).sum()),
                     "covered_before": float(w[before[:, k]].sum()),
                     "covered_after": float(w[covered[:, k]].sum()) if info.has_solution
                     else math.nan,
                     "target_share": math.nan if t.targets[k] is None else t.targets[k],
                     "cost": (float(cost[at, k].sum()) if cost is not None
                              and info.has_solution else math.nan)})
    table = pd.DataFrame(rows)
    table["share_before"] = table["covered_before"] / total if total else math.nan
    table["share_after"] = table["covered_after"] / total if total else math.nan
    details = {"tier": tier, "tiers": table, "tier_weights": t.alpha.tolist(),
               "objective": t.objective, "covered": covered, "covered_before": before}
    if cost is not None and info.has_solution:
        details["cost"] = spent
    return Plan.from_solve(
        "tiered_plan", info, selected=changed, existing=np.flatnonzero(t.e > 0),
        build_s=build_s, covered_before=float(w[before[:, -1]].sum()),
        covered_after=float(w[covered[:, -1]].sum()) if info.has_solution else math.nan,
        total_demand=total, reduction=red, details=details)


def _covered_by(C: list[sparse.csr_matrix], tier: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Per row and tier: whether a site running at that tier or above covers it."""
    n = C[0].shape[0]
    out = np.zeros((n, len(C)), bool)
    for k, Ck in enumerate(C):
        open_k = np.flatnonzero((tier > 0) & (tier <= k + 1))
        if open_k.size:
            out[:, k] = np.asarray(Ck[:, open_k].sum(axis=1)).ravel() > 0
    return out


def _infeasible_plan(explanation: pd.DataFrame, t: _Tiers, red: Reduction,
                     build_s: float) -> Plan:
    info = SolveInfo(status="infeasible", objective=math.nan, bound=math.nan, gap=math.nan,
                     solver="(pre-check)", solve_s=0.0)
    return Plan.from_solve("tiered_plan", info, selected=[], existing=np.flatnonzero(t.e > 0),
                           build_s=build_s, total_demand=t.total, reduction=red,
                           explanation=explanation,
                           details={"tier": np.zeros(t.m, np.int64),
                                    "tier_weights": t.alpha.tolist(),
                                    "objective": t.objective})


def explain_tiers(C: Sequence[sparse.csr_matrix], w: NDArray[np.float64],
                  bounds: Sequence[tuple[int, int]], R: Sequence[sparse.csr_matrix | None],
                  e: NDArray[np.int64], allowed: NDArray[np.bool_],
                  targets: Sequence[float | None]) -> pd.DataFrame | None:
    """Why a tiered plan's rules cannot hold, tier by tier (None when no rule fails alone).

    Checks that need no solve, each a proof of infeasibility: a tier needs more facilities
    than sites may take it once referral is counted (a site of tier ``l`` needs a site
    that may take a higher tier within reach); the existing facilities kept at a tier or
    above outnumber the most those tiers may hold; a coverage target above what every
    eligible site together covers. Rules that fail only together are left to the solver
    (its plan is then "infeasible" without a row here).

    Returns
    -------
    pandas.DataFrame or None
        ``tier, rule, needed, possible``: ``rule`` is ``count`` (sites that may take the
        tier), ``existing`` (facilities kept at this tier or above against the most those
        tiers hold) or ``target`` (share).
    """
    L = len(C)
    A = allowed.copy()
    # referral: a site may run at tier l only with a site that may take a higher tier in reach
    for k in range(1, L):
        if R[k] is not None:
            upper = A[:, :k].any(axis=1).astype(np.int8)
            A[:, k] &= (R[k] @ upper) > 0
    rows = []
    for k, (lo, _) in enumerate(bounds):
        can = int(A[:, k].sum())
        if can < lo:
            rows.append({"tier": k + 1, "rule": "count", "needed": float(lo),
                         "possible": float(can)})
        kept = int(((e > 0) & (e <= k + 1)).sum())
        most = sum(b[1] for b in bounds[:k + 1])
        if kept > most:
            rows.append({"tier": k + 1, "rule": "existing", "needed": float(kept),
                         "possible": float(most)})
    total = float(w.sum())
    for k, t in enumerate(targets):
        if t is None or total <= 0:
            continue
        sites = np.flatnonzero(A[:, :k + 1].any(axis=1))
        reach = (np.asarray(C[k][:, sites].sum(axis=1)).ravel() > 0) if sites.size else \
            np.zeros(w.size, bool)
        best = float(w[reach].sum()) / total
        if best < t - 1e-9:
            rows.append({"tier": k + 1, "rule": "target", "needed": float(t),
                         "possible": best})
    return pd.DataFrame(rows) if rows else None


def tiered_plan_from_problems(
    problems: Sequence[Any],
    minutes: Sequence[float | ArrayLike],
    *,
    counts: Sequence[int | tuple[int, int]],
    referral_times: sparse.spmatrix | None = None,
    referral_minutes: Sequence[float | None] | None = None,
    existing_tier: ArrayLike | None = None,
    allowed: ArrayLike | None = None,
    costs: ArrayLike | None = None,
    tier_names: Sequence[str] | None = None,
    tier_weights: Sequence[float] | None = None,
    objective: str = "coverage",
    budget: float | None = None,
    min_share: Sequence[float | None] | None = None,
    force_open: Any = None,
    force_closed: Any = None,
    **solve_kw: Any,
) -> Plan:
    """:func:`tiered_plan` on :class:`~geoplan.optimize.gis.SiteProblem` s, one per tier.

    Every tier has its own travel mode and standard (a hub 45 minutes by car, a
    grassroots point 15 minutes on foot), so each tier brings the problem of its mode;
    all share the same cells and the same sites (in the same order).

    Parameters
    ----------
    problems
        Per tier (top first), the site problem of its mode (same cells, same sites).
    minutes
        Per tier, its standard: minutes, or one per cell (urban / rural).
    counts, existing_tier, allowed, costs, tier_weights, objective, budget, min_share
        See :func:`tiered_plan` (per site in the problems' site order).
    referral_times
        ``(sites, sites)`` seconds from each site to the others
        (:func:`geoplan.optimize.gis.between_sites`), needed with ``referral_minutes``.
    referral_minutes
        Per tier, the longest trip from a facility of that tier to one of a higher tier
        (None: no referral rule; the top tier has none).
    tier_names
        Names of the tiers for tables (default ``tier 1`` ...).
    force_open, force_closed
        Site ids (the sites' ``site_id``) that must run at some tier / at none.
    **solve_kw
        ``solver``, ``time_limit``, ``gap``, ``verbose``.

    Returns
    -------
    Plan
        ``sites``: every site running at a tier after the plan, with ``tier``,
        ``tier_name``, ``tier_before``, ``status`` (``existing``: kept at its tier;
        ``upgraded_tier``: a facility that rises a tier or, not a tier facility before,
        is designated one; ``new``: a site built), ``cost`` paid, and ``referral_id`` /
        ``referral_minutes``: the nearest facility of a higher tier (the top tier: none).
        ``by_unit``: coverage of the lowest tier's standard by unit (``covered_before``/
        ``covered_after`` of the plan are that tier's too); ``details["tiers"]``: every
        tier's facilities, people covered, target and cost. ``selected``: the sites
        built (``details["upgraded"]``: the facilities raised or designated).

    Raises
    ------
    GeoplanInputError
        For problems that do not share cells and sites, referral minutes without
        times, or bad ids.
    """
    from .gis import coverage_by_unit
    L = len(problems)  # noqa: N806
    if L < 1 or len(minutes) != L:
        raise GeoplanInputError("give one problem and one standard per tier",
                                field="minutes")
    first = problems[0]
    ids = first.sites["site_id"].astype(str).to_numpy()
    for k, p in enumerate(problems[1:], start=2):
        if p.n_cells != first.n_cells or not np.array_equal(
                p.sites["site_id"].astype(str).to_numpy(), ids):
            raise GeoplanInputError(f"tier {k}'s problem has other cells or sites than "
                                    "tier 1's", field="problems",
                                    hint="build every tier's problem from the same cells "
                                         "and sites")
    names = list(tier_names) if tier_names is not None else [f"tier {k + 1}" for k in range(L)]
    C = [p.coverage(t) for p, t in zip(problems, minutes, strict=True)]
    R: list[sparse.csr_matrix | None] = [None] * L
    rmin = list(referral_minutes) if referral_minutes is not None else [None] * L
    if len(rmin) != L or rmin[0] is not None:
        raise GeoplanInputError("referral_minutes needs one value per tier, None for the top",
                                field="referral_minutes")
    if any(r is not None for r in rmin):
        if referral_times is None:
            raise GeoplanInputError("referral minutes need the times between sites",
                                    field="referral_times",
                                    hint="compute them with geoplan.optimize.gis.between_sites")
        T = sparse.csr_matrix(referral_times)  # noqa: N806
        if T.shape != (ids.size, ids.size):
            raise GeoplanInputError(f"referral_times has shape {T.shape}, expected "
                                    f"({ids.size}, {ids.size})", field="referral_times")
        for k, r in enumerate(rmin):
            if r is not None:
                R[k] = sparse.csr_matrix((T.data <= float(r) * 60.0 + 1e-9, T.indices,
                                          T.indptr), shape=T.shape)
    pos = {s: j for j, s in enumerate(ids)}

    def cols(given: Any, option: str) -> list[int] | None:
        if given is None:
            return None
        given = [given] if isinstance(given, str | bytes) else given
        bad = [str(g) for g in given if str(g) not in pos]
        if bad:
            raise GeoplanInputError(f"{option}: {bad[0]!r} is not a site of this plan",
                                    field=option, hint="use ids of the tiers' hosts")
        return [pos[str(g)] for g in given]
    plan = tiered_plan(C, first.demand, counts=counts, referral=R,
                       existing_tier=existing_tier, allowed=allowed, costs=costs,
                       tier_weights=tier_weights, objective=objective, budget=budget,
                       min_share=min_share, force_open=cols(force_open, "force_open"),
                       force_closed=cols(force_closed, "force_closed"), **solve_kw)
    plan.details["tier_names"] = names
    plan.details["minutes"] = [t if np.ndim(t) == 0 else "per cell" for t in minutes]
    plan.details["modes"] = [p.mode for p in problems]
    plan.details["referral_minutes"] = rmin
    e = (np.zeros(ids.size, np.int64) if existing_tier is None
         else np.asarray(existing_tier, np.int64))
    if isinstance(plan.explanation, pd.DataFrame):
        plan.explanation.insert(1, "tier_name", [names[k - 1] for k in plan.explanation["tier"]])
    if isinstance(plan.details.get("tiers"), pd.DataFrame):
        plan.details["tiers"].insert(1, "name", names)
        plan.details["tiers"].insert(2, "mode", [p.mode for p in problems])
        plan.details["tiers"].insert(3, "minutes", [float(t) if np.ndim(t) == 0 else math.nan
                                                    for t in minutes])
        plan.details["tiers"].insert(4, "referral_minutes",
                                     [math.nan if r is None else float(r) for r in rmin])
    if plan.feasible:
        covered, before = plan.details.pop("covered"), plan.details.pop("covered_before")
        plan.by_unit = coverage_by_unit(problems[-1], before[:, -1], covered[:, -1])
        plan.details["covered_rows"] = covered          # per cell and tier, for pages
        plan.sites = _sites_at_tiers(first, plan.details["tier"], e, costs, names,
                                 referral_times, institution=first.sites["kind"].to_numpy()
                                 == "existing")
        # the plan's new sites are those built; raised or designated facilities apart
        status = dict(zip(plan.sites["site_id"], plan.sites["status"], strict=True))
        plan.selected = np.array([pos[i] for i, v in status.items() if v == "new"],
                                 np.intp)
        plan.selected.sort()
        plan.details["upgraded"] = np.sort(np.array(
            [pos[i] for i, v in status.items() if v == "upgraded_tier"], np.intp))
        # each tier's facilities by what happened to them (a designated institution is
        # not a site built: the numeric door cannot tell them apart)
        table = plan.details["tiers"]
        for col, st in (("kept", "existing"), ("upgraded", "upgraded_tier"), ("new", "new")):
            table[col] = [int(((plan.sites["tier"] == k + 1)
                               & (plan.sites["status"] == st)).sum()) for k in range(L)]
    else:
        plan.details.pop("covered", None)
        plan.details.pop("covered_before", None)
    return plan


def _sites_at_tiers(problem: Any, tier: NDArray[np.int64], e: NDArray[np.int64],
                costs: ArrayLike | None, names: Sequence[str],
                referral_times: sparse.spmatrix | None,
                institution: NDArray[np.bool_]) -> Any:
    """The sites running at a tier after the plan, with their referral facility."""
    run = np.flatnonzero(tier > 0)
    s = problem.sites.iloc[run].copy()
    t, before = tier[run], e[run]
    s["tier"] = t
    s["tier_name"] = [names[k - 1] for k in t]
    s["tier_before"] = before
    s["status"] = np.where(before == t, "existing",
                           np.where((before > 0) | institution[run], "upgraded_tier", "new"))
    if costs is not None:
        c = np.array(costs, float)
        s["cost"] = [0.0 if before[i] == t[i] else c[j, t[i] - 1] for i, j in enumerate(run)]
    else:
        s["cost"] = math.nan
    ref_id: list[Any] = [None] * run.size
    ref_min = np.full(run.size, math.nan)
    if referral_times is not None:
        T = sparse.csr_matrix(referral_times)  # noqa: N806
        ids = problem.sites["site_id"].astype(str).to_numpy()
        for i, j in enumerate(run):
            if t[i] == 1:
                continue
            row = slice(T.indptr[j], T.indptr[j + 1])
            to, secs = T.indices[row], T.data[row]
            up = (tier[to] > 0) & (tier[to] < t[i])
            if up.any():
                best = int(np.argmin(np.where(up, secs, np.inf)))
                ref_id[i] = ids[to[best]]
                ref_min[i] = secs[best] / 60.0
    s["referral_id"] = ref_id
    s["referral_minutes"] = ref_min
    s["id"] = s["site_id"]
    return s.sort_values(["tier", "site_id"]).reset_index(drop=True)

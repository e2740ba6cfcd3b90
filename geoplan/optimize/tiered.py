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
sets :math:`\underline n_l = \overline n_l`. Rows with the same covering sets at every
tier are merged (exact). Solved as one MILP through
:func:`geoplan.optimize.solver.solve`: "optimal" only when the solver proves it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError

from .plan import Plan, Reduction
from .solver import Deadline, solve, with_true_objective

__all__ = ["tiered_plan"]


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
    solver, time_limit, gap, verbose
        See :func:`geoplan.optimize.solver.solve`.

    Returns
    -------
    Plan
        ``details["tier"]``: the tier of every site (0: closed); ``details["tiers"]``:
        per tier its facilities (existing kept, upgraded, new) and people covered;
        ``selected`` = sites that are new or change tier; ``objective`` = the weighted
        coverage.

    Raises
    ------
    GeoplanInputError
        For malformed inputs or counts that cannot hold (e.g. more existing facilities
        than a tier's maximum can take anywhere).
    """
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    L = len(coverage)
    if L < 1:
        raise GeoplanInputError("give at least one tier", field="coverage")
    C = [_bool_csr(coverage[0], None, "coverage[0]")]
    n, m = C[0].shape
    C += [_bool_csr(coverage[k], (n, m), f"coverage[{k}]") for k in range(1, L)]
    w = np.asarray(weights, float).ravel()
    if w.shape != (n,) or not np.all(np.isfinite(w)) or (w < 0).any():
        raise GeoplanInputError("weights must be one finite number >= 0 per row",
                                field="weights")
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
    R: list[sparse.csr_matrix | None] = [None] * L
    if referral is not None:
        if len(referral) != L:
            raise GeoplanInputError(f"referral has {len(referral)} entries for {L} tiers",
                                    field="referral")
        for k, r in enumerate(referral):
            if r is not None:
                if k == 0:
                    raise GeoplanInputError("the top tier refers to no one: referral[0] "
                                            "must be None", field="referral")
                R[k] = _bool_csr(r, (m, m), f"referral[{k}]")
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
    # rows: merge rows with the same covering sets at every tier (exact)
    key = pd.DataFrame({f"t{k}": [C[k].indices[C[k].indptr[i]:C[k].indptr[i + 1]].tobytes()
                                  for i in range(n)] for k in range(L)})
    live = w > 0
    group = key[live].groupby(list(key.columns), sort=False).ngroup().to_numpy()
    idx = np.flatnonzero(live)
    G = int(group.max()) + 1 if idx.size else 0
    Wg = np.bincount(group, weights=w[idx], minlength=G)
    first = np.zeros(G, np.intp)
    first[group[::-1]] = idx[::-1]
    red = Reduction(demand_in=n, demand_out=G, candidates_in=m, candidates_out=m)

    prob = pulp.LpProblem("tiered", pulp.LpMaximize)
    x = {(j, k): pulp.LpVariable(f"x{j}_{k}", cat="Binary")
         for j in range(m) for k in range(L) if A[j, k]}
    y = {(g, k): pulp.LpVariable(f"y{g}_{k}", 0, 1) for g in range(G) for k in range(L)
         if alpha[k] > 0}
    prob += pulp.LpAffineExpression([(v, float(alpha[k] * Wg[g])) for (g, k), v in y.items()])
    for (g, k), v in y.items():
        i = first[g]
        sites = C[k].indices[C[k].indptr[i]:C[k].indptr[i + 1]]
        terms = [(x[j, l], 1.0) for j in sites.tolist() for l in range(k + 1) if (j, l) in x]
        expr = pulp.LpAffineExpression(terms)
        expr.addterm(v, -1.0)
        prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"cov{g}_{k}", 0.0)
    for j in range(m):
        own = [x[j, k] for k in range(L) if (j, k) in x]
        if not own:
            continue
        if e[j] > 0:
            prob += pulp.lpSum(own) == 1, f"keep{j}"
        elif len(own) > 1:
            prob += pulp.lpSum(own) <= 1, f"one{j}"
    for k, (lo, hi) in enumerate(bounds):
        at = [x[j, k] for j in range(m) if (j, k) in x]
        if len(at) < lo:
            raise GeoplanInputError(f"tier {k + 1} needs {lo} facilities but only {len(at)} "
                                    "sites may take it", field="counts",
                                    hint="allow more sites at that tier, or lower its count")
        prob += pulp.lpSum(at) >= lo, f"least{k}"
        prob += pulp.lpSum(at) <= hi, f"most{k}"
    for k in range(1, L):
        if R[k] is None:
            continue
        Rk = R[k]
        for j in range(m):
            if (j, k) not in x:
                continue
            near = Rk.indices[Rk.indptr[j]:Rk.indptr[j + 1]]
            up = [(x[jj, l], 1.0) for jj in near.tolist() for l in range(k) if (jj, l) in x]
            expr = pulp.LpAffineExpression(up)
            expr.addterm(x[j, k], -1.0)
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"ref{j}_{k}", 0.0)
    build_s = time.perf_counter() - t0
    info = solve(prob, solver, time_limit=deadline.solver_limit(), gap=gap, msg=verbose)
    tier = np.zeros(m, np.int64)
    if info.has_solution:
        for (j, k), v in x.items():
            if (v.varValue or 0.0) > 0.5:
                tier[j] = k + 1
    # the plan's own coverage of every tier's service
    covered = np.zeros((n, L), bool)
    for k in range(L):
        open_k = np.flatnonzero((tier > 0) & (tier <= k + 1))
        if open_k.size:
            covered[:, k] = np.asarray(C[k][:, open_k].sum(axis=1)).ravel() > 0
    value = float(sum(alpha[k] * w[covered[:, k]].sum() for k in range(L)))
    before = np.zeros((n, L), bool)
    for k in range(L):
        open_k = np.flatnonzero((e > 0) & (e <= k + 1))
        if open_k.size:
            before[:, k] = np.asarray(C[k][:, open_k].sum(axis=1)).ravel() > 0
    if info.has_solution:
        info = with_true_objective(info, value)
    changed = np.flatnonzero((tier > 0) & (tier != e))
    rows = []
    for k in range(L):
        at = tier == k + 1
        rows.append({"tier": k + 1, "facilities": int(at.sum()),
                     "kept": int((at & (e == k + 1)).sum()),
                     "upgraded": int((at & (e > k + 1)).sum()),
                     "new": int((at & (e <= 0)).sum()),
                     "covered_before": float(w[before[:, k]].sum()),
                     "covered_after": float(w[covered[:, k]].sum()) if info.has_solution
                     else math.nan})
    table = pd.DataFrame(rows)
    total = float(w.sum())
    table["share_before"] = table["covered_before"] / total if total else math.nan
    table["share_after"] = table["covered_after"] / total if total else math.nan
    return Plan.from_solve(
        "tiered_plan", info, selected=changed, existing=np.flatnonzero(e > 0),
        build_s=build_s, covered_before=float(w[before[:, -1]].sum()),
        covered_after=float(w[covered[:, -1]].sum()) if info.has_solution else math.nan,
        total_demand=total, reduction=red,
        details={"tier": tier, "tiers": table, "tier_weights": alpha.tolist()})
